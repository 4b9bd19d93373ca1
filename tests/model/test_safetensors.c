/* test_safetensors.c - the generic safetensors reader and writer: round
 * trips, F16/BF16 decoding, layout of the written header, and refusal of
 * every kind of malformed file with a message naming the file. */
#include "safetensors.h"
#include <acrnn/model.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tmpdir;

static char *tmp_path(const char *name) {
  return g_build_filename(tmpdir, name, NULL);
}

/* Writes an 8-byte little-endian length, hlen bytes of header and data. */
static char *write_raw_len(const char *name, uint64_t length_field,
                           const char *header, size_t hlen, const void *data,
                           size_t dlen) {
  char *path = tmp_path(name);
  GString *s = g_string_new(NULL);
  for (int i = 0; i < 8; i++)
    g_string_append_c(s, (char)(guint8)(length_field >> (8 * i)));
  g_string_append_len(s, header, (gssize)hlen);
  if (dlen)
    g_string_append_len(s, data, (gssize)dlen);
  g_assert_true(g_file_set_contents(path, s->str, (gssize)s->len, NULL));
  g_string_free(s, TRUE);
  return path;
}

static char *write_raw(const char *name, const char *header, size_t dlen) {
  guint8 *zeros = g_malloc0(dlen + 1);
  char *p =
      write_raw_len(name, strlen(header), header, strlen(header), zeros, dlen);
  g_free(zeros);
  return p;
}

/* Opening path must fail with code and a message starting with the path and
 * containing what. */
static void expect_open_error(const char *path, int code, const char *what) {
  GError *error = NULL;
  AcrnnStFile *f = acrnn_st_open(path, &error);
  g_assert_null(f);
  g_assert_error(error, ACRNN_MODEL_ERROR, code);
  if (g_test_verbose())
    g_printerr("%s\n", error->message);
  g_assert_true(g_str_has_prefix(error->message, path));
  if (strstr(error->message, what) == NULL)
    g_error("message \"%s\" does not mention \"%s\"", error->message, what);
  g_error_free(error);
}

static void expect_bad_header(const char *header, size_t dlen,
                              const char *what) {
  char *path = write_raw("bad.safetensors", header, dlen);
  expect_open_error(path, ACRNN_MODEL_ERROR_FORMAT, what);
  g_unlink(path);
  g_free(path);
}

/* ---- writing and reading back ---- */

static const float f32_data[6] = {1.5f, -2.25f, 3e-38f, 1e30f, 0.0f, -0.0f};
static const uint16_t f16_data[4] = {0x3c00, 0xc000, 0x7bff, 0x0001};
static const uint16_t bf16_data[4] = {0x3f80, 0xc049, 0x0001, 0x4120};
static const int64_t i64_data[1] = {123456789012345};
static const guint8 u8_data[3] = {1, 2, 255};

static size_t make_entries(AcrnnStEntry *e) {
  memset(e, 0, 6 * sizeof *e);
  e[0] = (AcrnnStEntry){"weight", ACRNN_ST_F32, 2, {2, 3}, f32_data};
  e[1] = (AcrnnStEntry){"half", ACRNN_ST_F16, 1, {4}, f16_data};
  e[2] = (AcrnnStEntry){"brain", ACRNN_ST_BF16, 2, {2, 2}, bf16_data};
  e[3] = (AcrnnStEntry){"count", ACRNN_ST_I64, 0, {0}, i64_data};
  e[4] = (AcrnnStEntry){"bytes", ACRNN_ST_U8, 1, {3}, u8_data};
  e[5] = (AcrnnStEntry){"empty", ACRNN_ST_F32, 2, {0, 5}, NULL};
  return 6;
}

static char *write_entries(const char *name, const AcrnnStEntry *e, size_t n,
                           const char *const *meta) {
  char *path = tmp_path(name);
  int fd = g_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint(fd, >=, 0);
  GError *error = NULL;
  g_assert_true(acrnn_st_write_fd(fd, path, e, n, meta, &error));
  g_assert_no_error(error);
  close(fd);
  return path;
}

static void test_round_trip(void) {
  AcrnnStEntry e[6];
  size_t n = make_entries(e);
  const char *meta[] = {"format", "pt", "note", "h\u00e9llo \"quoted\"\n",
                        NULL};
  char *path = write_entries("rt.safetensors", e, n, meta);

  GError *error = NULL;
  AcrnnStFile *f = acrnn_st_open(path, &error);
  g_assert_no_error(error);
  g_assert_nonnull(f);
  g_assert_cmpstr(acrnn_st_path(f), ==, path);
  g_assert_cmpuint(acrnn_st_n_tensors(f), ==, n);
  g_assert_true(acrnn_st_has_metadata(f));
  g_assert_cmpstr(acrnn_st_meta(f, "format"), ==, "pt");
  g_assert_cmpstr(acrnn_st_meta(f, "note"), ==, "h\u00e9llo \"quoted\"\n");
  g_assert_null(acrnn_st_meta(f, "missing"));
  guint nk;
  const char **keys = acrnn_st_meta_keys(f, &nk);
  g_assert_cmpuint(nk, ==, 2);
  g_assert_cmpstr(keys[0], ==, "format");
  g_assert_cmpstr(keys[1], ==, "note");
  g_free(keys);
  g_assert_null(acrnn_st_find(f, "nothing"));

  /* Laid out in the given order (the zero-size tensor sorts by its offset
   * at the end, before nothing). */
  for (size_t i = 0; i < n; i++) {
    const AcrnnStTensor *t = acrnn_st_find(f, e[i].name);
    g_assert_nonnull(t);
    g_assert_cmpint(t->dtype, ==, e[i].dtype);
    g_assert_cmpint(t->ndim, ==, e[i].ndim);
    for (int d = 0; d < t->ndim; d++)
      g_assert_cmpint(t->shape[d], ==, e[i].shape[d]);
    if (i > 0)
      g_assert_cmpuint(t->begin, ==, acrnn_st_find(f, e[i - 1].name)->end);
    guint8 *raw = g_malloc(t->end - t->begin + 1);
    g_assert_true(acrnn_st_read_raw(f, t, raw, &error));
    g_assert_no_error(error);
    if (t->end > t->begin)
      g_assert_cmpmem(raw, t->end - t->begin, e[i].data, t->end - t->begin);
    g_free(raw);
  }
  g_assert_cmpuint(acrnn_st_find(f, "weight")->begin, ==, 0);
  g_assert_cmpuint(acrnn_st_find(f, "count")->numel, ==, 1);
  g_assert_cmpuint(acrnn_st_find(f, "empty")->numel, ==, 0);

  float out[6];
  g_assert_true(
      acrnn_st_read_float(f, acrnn_st_find(f, "weight"), out, &error));
  g_assert_cmpmem(out, sizeof out, f32_data, sizeof f32_data);
  g_assert_true(acrnn_st_read_float(f, acrnn_st_find(f, "half"), out, &error));
  g_assert_cmpfloat(out[0], ==, 1.0f);
  g_assert_cmpfloat(out[1], ==, -2.0f);
  g_assert_cmpfloat(out[2], ==, 65504.0f);
  g_assert_cmpfloat(out[3], ==, 0x1p-24f);
  g_assert_true(acrnn_st_read_float(f, acrnn_st_find(f, "brain"), out, &error));
  g_assert_cmpfloat(out[0], ==, 1.0f);
  g_assert_cmpfloat(out[1], ==, -3.140625f);
  g_assert_cmpfloat(out[2], ==, 0x1p-133f);
  g_assert_cmpfloat(out[3], ==, 10.0f);
  g_assert_no_error(error);
  /* Integers are not floats. */
  g_assert_false(
      acrnn_st_read_float(f, acrnn_st_find(f, "count"), out, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_assert_nonnull(strstr(error->message, "count"));
  g_assert_nonnull(strstr(error->message, "I64"));
  g_clear_error(&error);
  acrnn_st_close(f);

  /* The header: length a multiple of 8, padded with spaces, __metadata__
   * first, then the tensors in order; the data starts right after it. */
  char *bytes;
  gsize len;
  g_assert_true(g_file_get_contents(path, &bytes, &len, NULL));
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--)
    hlen = (hlen << 8) | (guint8)bytes[i];
  g_assert_cmpuint(hlen % 8, ==, 0);
  g_assert_cmpuint(len, ==, 8 + hlen + 24 + 8 + 8 + 8 + 3);
  g_assert_cmpint(bytes[8], ==, '{');
  char *header = g_strndup(bytes + 8, hlen);
  char *end = strrchr(header, '}');
  for (char *p = end + 1; *p; p++)
    g_assert_cmpint(*p, ==, ' ');
  g_assert_cmpuint(strlen(end + 1), <, 8);
  const char *prev = strstr(header, "\"__metadata__\"");
  g_assert_nonnull(prev);
  for (size_t i = 0; i < n; i++) {
    char *q = g_strdup_printf("\"%s\"", e[i].name);
    const char *at = strstr(header, q);
    g_assert_nonnull(at);
    g_assert_true(at > prev);
    prev = at;
    g_free(q);
  }
  g_assert_cmpmem(bytes + 8 + hlen, 24, f32_data, 24);
  g_free(header);
  g_free(bytes);

  /* Deterministic: the same input gives the same bytes. */
  char *path2 = write_entries("rt2.safetensors", e, n, meta);
  char *b1, *b2;
  gsize l1, l2;
  g_assert_true(g_file_get_contents(path, &b1, &l1, NULL));
  g_assert_true(g_file_get_contents(path2, &b2, &l2, NULL));
  g_assert_cmpmem(b1, l1, b2, l2);
  g_free(b1);
  g_free(b2);
  g_unlink(path);
  g_unlink(path2);
  g_free(path);
  g_free(path2);
}

static void test_no_metadata(void) {
  AcrnnStEntry e[6];
  make_entries(e);
  char *path = write_entries("nometa.safetensors", e, 1, NULL);
  GError *error = NULL;
  AcrnnStFile *f = acrnn_st_open(path, &error);
  g_assert_no_error(error);
  g_assert_false(acrnn_st_has_metadata(f));
  g_assert_null(acrnn_st_meta(f, "format"));
  guint nk = 7;
  const char **keys = acrnn_st_meta_keys(f, &nk);
  g_assert_cmpuint(nk, ==, 0);
  g_assert_null(keys[0]);
  g_free(keys);
  acrnn_st_close(f);
  g_unlink(path);
  g_free(path);

  /* No tensors at all: "{}" padded, valid. */
  path = write_entries("empty.safetensors", e, 0, NULL);
  f = acrnn_st_open(path, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(acrnn_st_n_tensors(f), ==, 0);
  acrnn_st_close(f);
  g_unlink(path);
  g_free(path);
}

static void test_f16_bf16_bits(void) {
  static const struct {
    uint16_t bits;
    float value;
  } f16[] = {
      {0x0000, 0.0f},
      {0x3c00, 1.0f},
      {0xc000, -2.0f},
      {0x3555, 0.333251953125f},
      {0x7bff, 65504.0f},
      {0x0400, 0x1p-14f},        /* smallest normal */
      {0x0001, 0x1p-24f},        /* smallest subnormal */
      {0x03ff, 1023 * 0x1p-24f}, /* largest subnormal */
      {0x8001, -0x1p-24f},
      {0x4248, 3.140625f},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(f16); i++)
    g_assert_cmpfloat(acrnn_st_f16_to_float(f16[i].bits), ==, f16[i].value);
  g_assert_true(signbit(acrnn_st_f16_to_float(0x8000)));
  g_assert_cmpfloat(acrnn_st_f16_to_float(0x8000), ==, 0.0f);
  g_assert_true(isinf(acrnn_st_f16_to_float(0x7c00)));
  g_assert_true(acrnn_st_f16_to_float(0x7c00) > 0);
  g_assert_true(isinf(acrnn_st_f16_to_float(0xfc00)));
  g_assert_true(acrnn_st_f16_to_float(0xfc00) < 0);
  g_assert_true(isnan(acrnn_st_f16_to_float(0x7e00)));
  g_assert_true(isnan(acrnn_st_f16_to_float(0x7c01)));

  static const struct {
    uint16_t bits;
    float value;
  } bf16[] = {
      {0x0000, 0.0f},      {0x3f80, 1.0f},      {0xc049, -3.140625f},
      {0x4120, 10.0f},     {0x0001, 0x1p-133f}, {0x7f7f, 0x1.fep127f},
      {0x0080, 0x1p-126f}, {0xbf00, -0.5f},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bf16); i++)
    g_assert_cmpfloat(acrnn_st_bf16_to_float(bf16[i].bits), ==, bf16[i].value);
  g_assert_true(isinf(acrnn_st_bf16_to_float(0x7f80)));
  g_assert_true(isinf(acrnn_st_bf16_to_float(0xff80)));
  g_assert_true(isnan(acrnn_st_bf16_to_float(0x7fc0)));

  /* Every finite F16 value: (-1)^s (1024 + m) 2^(e - 25), or m 2^-24. */
  for (uint32_t h = 0; h < 0x10000; h++) {
    uint32_t e = (h >> 10) & 31, m = h & 1023;
    if (e == 31)
      continue;
    double v = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, (int)e - 25);
    if (h & 0x8000)
      v = -v;
    g_assert_cmpfloat(acrnn_st_f16_to_float((uint16_t)h), ==, (float)v);
  }
}

static void test_dtype_names(void) {
  for (int d = 0; d < ACRNN_ST_N_DTYPES; d++) {
    g_assert_cmpuint(acrnn_st_dtype_size(d), >=, 1);
    g_assert_cmpstr(acrnn_st_dtype_name(d), !=, "?");
  }
  g_assert_cmpuint(acrnn_st_dtype_size(ACRNN_ST_F32), ==, 4);
  g_assert_cmpuint(acrnn_st_dtype_size(ACRNN_ST_BF16), ==, 2);
  g_assert_cmpuint(acrnn_st_dtype_size(ACRNN_ST_I64), ==, 8);
  g_assert_cmpstr(acrnn_st_dtype_name(ACRNN_ST_BF16), ==, "BF16");
}

/* ---- malformed files ---- */

static void test_too_short(void) {
  for (size_t len = 0; len < 8; len++) {
    char *path = tmp_path("short.safetensors");
    g_assert_true(g_file_set_contents(path, "{}      ", (gssize)len, NULL));
    expect_open_error(path, ACRNN_MODEL_ERROR_FORMAT, "too short");
    g_unlink(path);
    g_free(path);
  }
}

static void test_header_length_zero(void) {
  char *path = write_raw_len("zero.safetensors", 0, "{}", 2, NULL, 0);
  expect_open_error(path, ACRNN_MODEL_ERROR_FORMAT, "header length is 0");
  g_unlink(path);
  g_free(path);
}

static void test_header_length_too_large(void) {
  const char *h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                  "\"data_offsets\":[0,4]}}";
  char *path =
      write_raw_len("big.safetensors", strlen(h) + 5, h, strlen(h), "abcd", 4);
  expect_open_error(path, ACRNN_MODEL_ERROR_FORMAT, "larger than the rest");
  g_unlink(path);
  g_free(path);
  /* Absurd lengths do not allocate anything. */
  path = write_raw_len("huge.safetensors", G_MAXUINT64, h, strlen(h), NULL, 0);
  expect_open_error(path, ACRNN_MODEL_ERROR_FORMAT, "larger than the rest");
  g_unlink(path);
  g_free(path);
  /* Over the 100 MB limit, in a (sparse) file long enough to hold it. */
  path = write_raw_len("limit.safetensors", 150000000, h, strlen(h), NULL, 0);
  g_assert_cmpint(truncate(path, 160000000), ==, 0);
  expect_open_error(path, ACRNN_MODEL_ERROR_FORMAT, "exceeds the limit");
  g_unlink(path);
  g_free(path);
}

static void test_bad_json(void) {
  expect_bad_header("{\"a\": ", 0, "not valid JSON");
  expect_bad_header("{\"a\": {\"dtype\": \"F32\",}}", 0, "not valid JSON");
  expect_bad_header("not json at all", 0, "not valid JSON");
  expect_bad_header("        ", 0, "expected a JSON object");
  char *path = write_raw_len("nul.safetensors", 4, "{\0}}", 4, NULL, 0);
  expect_open_error(path, ACRNN_MODEL_ERROR_FORMAT, "NUL byte");
  g_unlink(path);
  g_free(path);
  path = write_raw_len("utf8.safetensors", 6, "{\"\xff\":1}", 6, NULL, 0);
  expect_open_error(path, ACRNN_MODEL_ERROR_FORMAT, "UTF-8");
  g_unlink(path);
  g_free(path);
}

static void test_header_not_object(void) {
  expect_bad_header("[1, 2, 3]", 0, "is an array, expected a JSON object");
  expect_bad_header("\"text\"", 0, "is a string, expected a JSON object");
  expect_bad_header("42      ", 0, "is a number, expected a JSON object");
  expect_bad_header("null", 0, "expected a JSON object");
}

static void test_bad_entries(void) {
  expect_bad_header("{\"t\": 5}", 0, "header entry \"t\" is a number");
  expect_bad_header("{\"t\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
                    "tensor t has no dtype");
  expect_bad_header(
      "{\"t\": {\"dtype\": 3, \"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
      "tensor t has no dtype");
  expect_bad_header(
      "{\"t\": {\"dtype\": \"F33\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
      4, "unknown dtype \"F33\"");
  expect_bad_header("{\"t\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}",
                    4, "tensor t has no shape");
  expect_bad_header("{\"t\": {\"dtype\": \"F32\", \"shape\": [-1], "
                    "\"data_offsets\": [0, 4]}}",
                    4, "shape element 0");
  expect_bad_header("{\"t\": {\"dtype\": \"F32\", \"shape\": [1, 1.5], "
                    "\"data_offsets\": [0, 4]}}",
                    4, "shape element 1");
  expect_bad_header("{\"t\": {\"dtype\": \"F32\", \"shape\": [\"1\"], "
                    "\"data_offsets\": [0, 4]}}",
                    4, "shape element 0");
  expect_bad_header("{\"t\": {\"dtype\": \"F32\", \"shape\": "
                    "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1], "
                    "\"data_offsets\": [0, 4]}}",
                    4, "17 dimensions");
  expect_bad_header("{\"t\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4,
                    "no valid data_offsets");
  expect_bad_header(
      "{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", 4,
      "no valid data_offsets");
  expect_bad_header("{\"t\": {\"dtype\": \"F32\", \"shape\": [1], "
                    "\"data_offsets\": [-4, 0]}}",
                    4, "no valid data_offsets");
  expect_bad_header("{\"t\": {\"dtype\": \"F32\", \"shape\": [1], "
                    "\"data_offsets\": [0, 4, 8]}}",
                    8, "no valid data_offsets");
  /* Shape and offsets disagree. */
  expect_bad_header("{\"t\": {\"dtype\": \"F32\", \"shape\": [2, 3], "
                    "\"data_offsets\": [0, 20]}}",
                    20, "needs 24 bytes but its data_offsets [0, 20] span 20");
  expect_bad_header("{\"t\": {\"dtype\": \"F32\", \"shape\": "
                    "[4294967296, 4294967296, 4294967296], "
                    "\"data_offsets\": [0, 4]}}",
                    4, "shape too large");
}

static void test_offsets_outside(void) {
  expect_bad_header("{\"t\": {\"dtype\": \"F32\", \"shape\": [4], "
                    "\"data_offsets\": [0, 16]}}",
                    12, "outside the file");
  expect_bad_header("{\"t\": {\"dtype\": \"F32\", \"shape\": [1], "
                    "\"data_offsets\": [1000000, 1000004]}}",
                    4, "outside the file");
}

static void test_offsets_out_of_order(void) {
  expect_bad_header("{\"t\": {\"dtype\": \"F32\", \"shape\": [1], "
                    "\"data_offsets\": [8, 4]}}",
                    8, "out of order");
}

static void test_offsets_overlap(void) {
  expect_bad_header(
      "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
      " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, "
      "12]}}",
      12, "overlap");
  expect_bad_header(
      "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
      " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}",
      8, "overlap");
}

static void test_offsets_gaps(void) {
  expect_bad_header("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], "
                    "\"data_offsets\": [4, 12]}}",
                    12, "4 unused bytes before tensor a");
  expect_bad_header("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], "
                    "\"data_offsets\": [0, 8]}}",
                    12, "4 bytes after the last tensor");
  /* Tensors listed in any order are fine when their offsets tile. */
  char *path = write_raw(
      "swapped.safetensors",
      "{\"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]},"
      " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
      8);
  GError *error = NULL;
  AcrnnStFile *f = acrnn_st_open(path, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(acrnn_st_tensor(f, 0)->name, ==, "a");
  g_assert_cmpstr(acrnn_st_tensor(f, 1)->name, ==, "b");
  g_assert_null(acrnn_st_tensor(f, 2));
  acrnn_st_close(f);
  g_unlink(path);
  g_free(path);
}

static void test_bad_metadata(void) {
  expect_bad_header("{\"__metadata__\": [\"a\"]}", 0,
                    "__metadata__ is an array");
  expect_bad_header("{\"__metadata__\": {\"a\": 1}}", 0,
                    "__metadata__ entry \"a\" is a number");
  expect_bad_header("{\"__metadata__\": {\"a\": {\"b\": \"c\"}}}", 0,
                    "__metadata__ entry \"a\" is an object");
}

static void test_truncated(void) {
  AcrnnStEntry e[6];
  size_t n = make_entries(e);
  char *path = write_entries("full.safetensors", e, n, NULL);
  char *bytes;
  gsize len;
  g_assert_true(g_file_get_contents(path, &bytes, &len, NULL));
  uint64_t hlen = (guint8)bytes[0] | ((uint64_t)(guint8)bytes[1] << 8);
  gsize cuts[] = {0,       3,      8, 9, 8 + hlen / 2, 8 + hlen, 8 + hlen + 1,
                  len - 4, len - 1};
  for (size_t i = 0; i < G_N_ELEMENTS(cuts); i++) {
    char *cut = tmp_path("cut.safetensors");
    g_assert_true(g_file_set_contents(cut, bytes, (gssize)cuts[i], NULL));
    expect_open_error(cut, ACRNN_MODEL_ERROR_FORMAT, "");
    g_unlink(cut);
    g_free(cut);
  }
  g_free(bytes);
  g_unlink(path);
  g_free(path);
}

static void test_not_a_file(void) {
  char *missing = tmp_path("does-not-exist.safetensors");
  expect_open_error(missing, ACRNN_MODEL_ERROR_IO, "No such file");
  g_free(missing);
  expect_open_error(tmpdir, ACRNN_MODEL_ERROR_IO, "is a directory");
  char *fifo = tmp_path("fifo.safetensors");
  g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
  expect_open_error(fifo, ACRNN_MODEL_ERROR_IO, "not a regular file");
  g_unlink(fifo);
  g_free(fifo);
}

static void test_writer_refuses(void) {
  AcrnnStEntry e[6];
  make_entries(e);
  char *path = tmp_path("w.safetensors");
  int fd = g_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  GError *error = NULL;
  AcrnnStEntry dup[2] = {e[0], e[0]};
  g_assert_false(acrnn_st_write_fd(fd, path, dup, 2, NULL, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_assert_nonnull(strstr(error->message, "weight"));
  g_clear_error(&error);
  AcrnnStEntry reserved = e[0];
  reserved.name = "__metadata__";
  g_assert_false(acrnn_st_write_fd(fd, path, &reserved, 1, NULL, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_clear_error(&error);
  AcrnnStEntry unnamed = e[0];
  unnamed.name = "";
  g_assert_false(acrnn_st_write_fd(fd, path, &unnamed, 1, NULL, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_clear_error(&error);
  const char *odd_meta[] = {"key", NULL};
  g_assert_false(acrnn_st_write_fd(fd, path, e, 1, odd_meta, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_clear_error(&error);
  close(fd);
  /* Nothing was written by the refused calls. */
  struct stat st;
  g_assert_cmpint(g_stat(path, &st), ==, 0);
  g_assert_cmpint(st.st_size, ==, 0);

  /* A read-only descriptor: an I/O error naming the file. */
  fd = g_open(path, O_RDONLY, 0);
  g_assert_false(acrnn_st_write_fd(fd, path, e, 1, NULL, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_IO);
  g_assert_true(g_str_has_prefix(error->message, path));
  g_clear_error(&error);
  close(fd);
  g_unlink(path);
  g_free(path);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp("acrnn-st-XXXXXX", NULL);
  g_assert_nonnull(tmpdir);
  g_test_add_func("/safetensors/round-trip", test_round_trip);
  g_test_add_func("/safetensors/no-metadata", test_no_metadata);
  g_test_add_func("/safetensors/f16-bf16-bits", test_f16_bf16_bits);
  g_test_add_func("/safetensors/dtype-names", test_dtype_names);
  g_test_add_func("/safetensors/too-short", test_too_short);
  g_test_add_func("/safetensors/header-length-zero", test_header_length_zero);
  g_test_add_func("/safetensors/header-length-too-large",
                  test_header_length_too_large);
  g_test_add_func("/safetensors/bad-json", test_bad_json);
  g_test_add_func("/safetensors/header-not-object", test_header_not_object);
  g_test_add_func("/safetensors/bad-entries", test_bad_entries);
  g_test_add_func("/safetensors/offsets-outside", test_offsets_outside);
  g_test_add_func("/safetensors/offsets-out-of-order",
                  test_offsets_out_of_order);
  g_test_add_func("/safetensors/offsets-overlap", test_offsets_overlap);
  g_test_add_func("/safetensors/offsets-gaps", test_offsets_gaps);
  g_test_add_func("/safetensors/bad-metadata", test_bad_metadata);
  g_test_add_func("/safetensors/truncated", test_truncated);
  g_test_add_func("/safetensors/not-a-file", test_not_a_file);
  g_test_add_func("/safetensors/writer-refuses", test_writer_refuses);
  int rc = g_test_run();
  g_rmdir(tmpdir);
  g_free(tmpdir);
  return rc;
}
