/* safetensors.c - reading and writing the safetensors format: strict header
 * validation on open, tensor data read on demand (F32, F16 and BF16 as
 * floats), and a writer with the reference implementation's layout (JSON
 * header padded with spaces to a multiple of 8 bytes, data little-endian, one
 * tensor after the other). */
#include "safetensors.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
  const char *name;
  size_t size;
} dtypes[ACRNN_ST_N_DTYPES] = {
    [ACRNN_ST_BOOL] = {"BOOL", 1},       [ACRNN_ST_U8] = {"U8", 1},
    [ACRNN_ST_I8] = {"I8", 1},           [ACRNN_ST_F8_E5M2] = {"F8_E5M2", 1},
    [ACRNN_ST_F8_E4M3] = {"F8_E4M3", 1}, [ACRNN_ST_I16] = {"I16", 2},
    [ACRNN_ST_U16] = {"U16", 2},         [ACRNN_ST_F16] = {"F16", 2},
    [ACRNN_ST_BF16] = {"BF16", 2},       [ACRNN_ST_I32] = {"I32", 4},
    [ACRNN_ST_U32] = {"U32", 4},         [ACRNN_ST_F32] = {"F32", 4},
    [ACRNN_ST_F64] = {"F64", 8},         [ACRNN_ST_I64] = {"I64", 8},
    [ACRNN_ST_U64] = {"U64", 8},
};

const char *acrnn_st_dtype_name(AcrnnStDtype dtype) {
  return (unsigned)dtype < ACRNN_ST_N_DTYPES ? dtypes[dtype].name : "?";
}

size_t acrnn_st_dtype_size(AcrnnStDtype dtype) {
  return (unsigned)dtype < ACRNN_ST_N_DTYPES ? dtypes[dtype].size : 0;
}

struct AcrnnStFile {
  char *path;
  int fd;
  uint64_t file_size;
  uint64_t data_start; /* 8 + header length */
  AcrnnStTensor *tensors;
  size_t n_tensors;
  GHashTable *index; /* name -> AcrnnStTensor* */
  GHashTable *meta;  /* key -> value; NULL without __metadata__ */
};

char *acrnn_st_shape_string(int ndim, const int64_t *shape) {
  GString *s = g_string_new("[");
  for (int i = 0; i < ndim; i++)
    g_string_append_printf(s, "%s%" PRId64, i ? ", " : "", shape[i]);
  g_string_append_c(s, ']');
  return g_string_free(s, FALSE);
}

static const char *json_kind(JsonNode *node) {
  switch (json_node_get_node_type(node)) {
  case JSON_NODE_OBJECT:
    return "an object";
  case JSON_NODE_ARRAY:
    return "an array";
  case JSON_NODE_NULL:
    return "null";
  case JSON_NODE_VALUE:
    break;
  }
  GType t = json_node_get_value_type(node);
  if (t == G_TYPE_STRING)
    return "a string";
  if (t == G_TYPE_BOOLEAN)
    return "a boolean";
  return "a number";
}

static gboolean read_at(AcrnnStFile *f, void *buf, size_t n, uint64_t off,
                        GError **error) {
  guint8 *p = buf;
  while (n > 0) {
    size_t chunk = n > (1u << 30) ? (1u << 30) : n;
    ssize_t r = pread(f->fd, p, chunk, (off_t)off);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      return acrnn_io_fail(error, ACRNN_MODEL_ERROR_IO, f->path,
                           "cannot read %zu bytes at offset %" PRIu64 ": %s", n,
                           off, g_strerror(e));
    }
    if (r == 0)
      return acrnn_io_fail(error, ACRNN_MODEL_ERROR_FORMAT, f->path,
                           "unexpected end of file at byte %" PRIu64
                           " (expected %zu more bytes): the file was truncated",
                           off, n);
    p += r;
    n -= (size_t)r;
    off += (uint64_t)r;
  }
  return TRUE;
}

/* A non-negative JSON integer. */
static gboolean get_uint(JsonNode *node, uint64_t *out) {
  if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
      json_node_get_value_type(node) != G_TYPE_INT64)
    return FALSE;
  gint64 v = json_node_get_int(node);
  if (v < 0)
    return FALSE;
  *out = (uint64_t)v;
  return TRUE;
}

static gboolean parse_dtype(const char *s, AcrnnStDtype *out) {
  for (int i = 0; i < ACRNN_ST_N_DTYPES; i++)
    if (strcmp(s, dtypes[i].name) == 0) {
      *out = (AcrnnStDtype)i;
      return TRUE;
    }
  return FALSE;
}

/* Validates one tensor entry of the header against the data area size. */
static gboolean parse_entry(const char *path, const char *name, JsonNode *node,
                            uint64_t data_size, AcrnnStTensor *t,
                            GError **error) {
  const int F = ACRNN_MODEL_ERROR_FORMAT;
  if (!JSON_NODE_HOLDS_OBJECT(node))
    return acrnn_io_fail(
        error, F, path,
        "header entry \"%s\" is %s, expected an object with dtype, "
        "shape and data_offsets",
        name, json_kind(node));
  JsonObject *o = json_node_get_object(node);
  JsonNode *dn = json_object_get_member(o, "dtype");
  if (dn == NULL || !JSON_NODE_HOLDS_VALUE(dn) ||
      json_node_get_value_type(dn) != G_TYPE_STRING)
    return acrnn_io_fail(
        error, F, path,
        "tensor %s has no dtype string, expected e.g. \"dtype\": "
        "\"F32\"",
        name);
  const char *ds = json_node_get_string(dn);
  if (!parse_dtype(ds, &t->dtype))
    return acrnn_io_fail(
        error, F, path,
        "tensor %s has unknown dtype \"%s\", expected a safetensors "
        "dtype such as F32, F16 or BF16",
        name, ds);

  JsonNode *sn = json_object_get_member(o, "shape");
  if (sn == NULL || !JSON_NODE_HOLDS_ARRAY(sn))
    return acrnn_io_fail(
        error, F, path,
        "tensor %s has no shape array, expected e.g. \"shape\": "
        "[64, 32, 3, 1]",
        name);
  JsonArray *sa = json_node_get_array(sn);
  guint ndim = json_array_get_length(sa);
  if (ndim > ACRNN_ST_MAX_DIMS)
    return acrnn_io_fail(error, F, path,
                         "tensor %s has %u dimensions, expected at most %d",
                         name, ndim, ACRNN_ST_MAX_DIMS);
  t->ndim = (int)ndim;
  uint64_t numel = 1;
  for (guint i = 0; i < ndim; i++) {
    uint64_t d;
    if (!get_uint(json_array_get_element(sa, i), &d) || d > INT64_MAX)
      return acrnn_io_fail(error, F, path,
                           "tensor %s: shape element %u is not a non-negative "
                           "integer",
                           name, i);
    t->shape[i] = (int64_t)d;
    if (!g_uint64_checked_mul(&numel, numel, d))
      return acrnn_io_fail(error, F, path, "tensor %s: shape too large", name);
  }
  t->numel = numel;
  uint64_t bytes;
  if (!g_uint64_checked_mul(&bytes, numel, dtypes[t->dtype].size))
    return acrnn_io_fail(error, F, path, "tensor %s: shape too large", name);

  JsonNode *on = json_object_get_member(o, "data_offsets");
  JsonArray *oa =
      on && JSON_NODE_HOLDS_ARRAY(on) ? json_node_get_array(on) : NULL;
  if (oa == NULL || json_array_get_length(oa) != 2 ||
      !get_uint(json_array_get_element(oa, 0), &t->begin) ||
      !get_uint(json_array_get_element(oa, 1), &t->end))
    return acrnn_io_fail(error, F, path,
                         "tensor %s has no valid data_offsets, expected two "
                         "non-negative integers [begin, end]",
                         name);
  if (t->begin > t->end)
    return acrnn_io_fail(error, F, path,
                         "tensor %s has data_offsets [%" PRIu64 ", %" PRIu64
                         "] out of order, expected begin <= end",
                         name, t->begin, t->end);
  if (t->end > data_size)
    return acrnn_io_fail(error, F, path,
                         "tensor %s has data_offsets [%" PRIu64 ", %" PRIu64
                         "] outside the file: its data area holds only %" PRIu64
                         " bytes (truncated file?)",
                         name, t->begin, t->end, data_size);
  if (t->end - t->begin != bytes) {
    char *s = acrnn_st_shape_string(t->ndim, t->shape);
    acrnn_io_fail(error, F, path,
                  "tensor %s of dtype %s and shape %s needs %" PRIu64
                  " bytes but its data_offsets [%" PRIu64 ", %" PRIu64
                  "] span %" PRIu64 " bytes",
                  name, ds, s, bytes, t->begin, t->end, t->end - t->begin);
    g_free(s);
    return FALSE;
  }
  return TRUE;
}

static gboolean parse_metadata(const char *path, JsonNode *node,
                               GHashTable *meta, GError **error) {
  if (!JSON_NODE_HOLDS_OBJECT(node))
    return acrnn_io_fail(error, ACRNN_MODEL_ERROR_FORMAT, path,
                         "__metadata__ is %s, expected an object of strings",
                         json_kind(node));
  JsonObjectIter it;
  const char *key;
  JsonNode *v;
  json_object_iter_init(&it, json_node_get_object(node));
  while (json_object_iter_next(&it, &key, &v)) {
    if (!JSON_NODE_HOLDS_VALUE(v) ||
        json_node_get_value_type(v) != G_TYPE_STRING)
      return acrnn_io_fail(error, ACRNN_MODEL_ERROR_FORMAT, path,
                           "__metadata__ entry \"%s\" is %s, expected a string",
                           key, json_kind(v));
    g_hash_table_insert(meta, g_strdup(key), g_strdup(json_node_get_string(v)));
  }
  return TRUE;
}

static int compare_offsets(const void *a, const void *b) {
  const AcrnnStTensor *x = a, *y = b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* The tensors, sorted by offset, must fill the data area one after the
 * other, as the reference implementation requires. */
static gboolean check_layout(AcrnnStFile *f, uint64_t data_size,
                             GError **error) {
  const int F = ACRNN_MODEL_ERROR_FORMAT;
  if (f->n_tensors > 1)
    qsort(f->tensors, f->n_tensors, sizeof *f->tensors, compare_offsets);
  uint64_t pos = 0;
  const AcrnnStTensor *prev = NULL;
  for (size_t i = 0; i < f->n_tensors; i++) {
    const AcrnnStTensor *t = &f->tensors[i];
    if (t->begin < pos)
      return acrnn_io_fail(
          error, F, f->path,
          "tensors %s (data_offsets [%" PRIu64 ", %" PRIu64
          "]) and %s (data_offsets [%" PRIu64 ", %" PRIu64
          "]) overlap, expected each tensor to have its own bytes",
          prev->name, prev->begin, prev->end, t->name, t->begin, t->end);
    if (t->begin > pos)
      return acrnn_io_fail(
          error, F, f->path,
          "%" PRIu64 " unused bytes before tensor %s (data_offsets [%" PRIu64
          ", %" PRIu64 "]), expected the tensors to be stored "
          "one after the other",
          t->begin - pos, t->name, t->begin, t->end);
    pos = t->end;
    prev = t;
  }
  if (pos != data_size)
    return acrnn_io_fail(error, F, f->path,
                         "%" PRIu64
                         " bytes after the last tensor's data, expected the "
                         "file to end there",
                         data_size - pos);
  return TRUE;
}

static gboolean parse_header(AcrnnStFile *f, GError **error) {
  const int F = ACRNN_MODEL_ERROR_FORMAT;
  const char *path = f->path;
  if (f->file_size < 8)
    return acrnn_io_fail(
        error, F, path,
        "the file is %" PRIu64 " bytes long, too short for a "
        "safetensors file (expected an 8-byte header length, a JSON "
        "header and the tensor data)",
        f->file_size);
  guint8 lenbuf[8];
  if (!read_at(f, lenbuf, 8, 0, error))
    return FALSE;
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--)
    hlen = (hlen << 8) | lenbuf[i];
  if (hlen == 0)
    return acrnn_io_fail(
        error, F, path,
        "header length is 0, expected the byte length of the JSON "
        "header that follows it");
  if (hlen > f->file_size - 8)
    return acrnn_io_fail(
        error, F, path,
        "header length %" PRIu64 " is larger than the rest of the "
        "file (%" PRIu64 " bytes): the file is truncated or not a "
        "safetensors file",
        hlen, f->file_size - 8);
  if (hlen > ACRNN_ST_MAX_HEADER)
    return acrnn_io_fail(error, F, path,
                         "header length %" PRIu64
                         " exceeds the limit of %u bytes",
                         hlen, ACRNN_ST_MAX_HEADER);
  f->data_start = 8 + hlen;
  uint64_t data_size = f->file_size - f->data_start;

  char *text = g_malloc((size_t)hlen + 1);
  gboolean ok = read_at(f, text, (size_t)hlen, 8, error);
  text[hlen] = '\0';
  JsonParser *parser = NULL;
  if (ok && memchr(text, '\0', (size_t)hlen) != NULL)
    ok = acrnn_io_fail(error, F, path,
                       "the header contains a NUL byte, expected "
                       "JSON text");
  if (ok && !g_utf8_validate(text, (gssize)hlen, NULL))
    ok = acrnn_io_fail(error, F, path,
                       "the header is not valid UTF-8 JSON text");
  if (ok) {
    GError *jerr = NULL;
    parser = json_parser_new();
    if (!json_parser_load_from_data(parser, text, (gssize)hlen, &jerr)) {
      ok = acrnn_io_fail(error, F, path, "the header is not valid JSON: %s",
                         jerr->message);
      g_error_free(jerr);
    }
  }
  g_free(text);
  if (!ok) {
    if (parser)
      g_object_unref(parser);
    return FALSE;
  }

  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
    acrnn_io_fail(error, F, path, "the header is %s, expected a JSON object",
                  root ? json_kind(root) : "empty");
    g_object_unref(parser);
    return FALSE;
  }
  JsonObject *obj = json_node_get_object(root);
  guint n = json_object_get_size(obj);
  f->tensors = g_new0(AcrnnStTensor, n);
  JsonObjectIter it;
  const char *name;
  JsonNode *node;
  json_object_iter_init(&it, obj);
  while (ok && json_object_iter_next(&it, &name, &node)) {
    if (strcmp(name, "__metadata__") == 0) {
      f->meta = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
      ok = parse_metadata(path, node, f->meta, error);
      continue;
    }
    AcrnnStTensor *t = &f->tensors[f->n_tensors];
    t->name = g_strdup(name);
    f->n_tensors++;
    ok = parse_entry(path, name, node, data_size, t, error);
  }
  g_object_unref(parser);
  if (!ok)
    return FALSE;
  if (!check_layout(f, data_size, error))
    return FALSE;
  for (size_t i = 0; i < f->n_tensors; i++)
    g_hash_table_insert(f->index, f->tensors[i].name, &f->tensors[i]);
  return TRUE;
}

AcrnnStFile *acrnn_st_open(const char *path, GError **error) {
  g_return_val_if_fail(path != NULL, NULL);
  /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int e = errno;
    acrnn_io_fail(error, ACRNN_MODEL_ERROR_IO, path, "cannot open the file: %s",
                  g_strerror(e));
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    acrnn_io_fail(error, ACRNN_MODEL_ERROR_IO, path, "cannot stat the file: %s",
                  g_strerror(e));
    close(fd);
    return NULL;
  }
  if (!S_ISREG(st.st_mode)) {
    acrnn_io_fail(error, ACRNN_MODEL_ERROR_IO, path,
                  "%s, expected a safetensors model file",
                  S_ISDIR(st.st_mode) ? "is a directory"
                                      : "is not a regular file");
    close(fd);
    return NULL;
  }
  AcrnnStFile *f = g_new0(AcrnnStFile, 1);
  f->path = g_strdup(path);
  f->fd = fd;
  f->file_size = (uint64_t)st.st_size;
  f->index = g_hash_table_new(g_str_hash, g_str_equal);
  if (!parse_header(f, error)) {
    acrnn_st_close(f);
    return NULL;
  }
  return f;
}

void acrnn_st_close(AcrnnStFile *f) {
  if (f == NULL)
    return;
  if (f->fd >= 0)
    close(f->fd);
  for (size_t i = 0; i < f->n_tensors; i++)
    g_free(f->tensors[i].name);
  g_free(f->tensors);
  g_hash_table_destroy(f->index);
  if (f->meta)
    g_hash_table_destroy(f->meta);
  g_free(f->path);
  g_free(f);
}

const char *acrnn_st_path(const AcrnnStFile *f) {
  return f->path;
}

size_t acrnn_st_n_tensors(const AcrnnStFile *f) {
  return f->n_tensors;
}

const AcrnnStTensor *acrnn_st_tensor(const AcrnnStFile *f, size_t i) {
  return i < f->n_tensors ? &f->tensors[i] : NULL;
}

const AcrnnStTensor *acrnn_st_find(const AcrnnStFile *f, const char *name) {
  return g_hash_table_lookup(f->index, name);
}

gboolean acrnn_st_has_metadata(const AcrnnStFile *f) {
  return f->meta != NULL;
}

const char *acrnn_st_meta(const AcrnnStFile *f, const char *key) {
  return f->meta ? g_hash_table_lookup(f->meta, key) : NULL;
}

static int compare_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **acrnn_st_meta_keys(const AcrnnStFile *f, guint *n) {
  guint len = 0;
  const char **keys;
  if (f->meta) {
    keys = (const char **)g_hash_table_get_keys_as_array(f->meta, &len);
  } else {
    keys = g_new0(const char *, 1);
  }
  if (len > 1)
    qsort(keys, len, sizeof *keys, compare_str);
  if (n)
    *n = len;
  return keys;
}

gboolean acrnn_st_read_raw(AcrnnStFile *f, const AcrnnStTensor *t, void *buf,
                           GError **error) {
  uint64_t bytes = t->end - t->begin;
  if (bytes > SIZE_MAX)
    return acrnn_io_fail(error, ACRNN_MODEL_ERROR_FORMAT, f->path,
                         "tensor %s is too large for this machine", t->name);
  return read_at(f, buf, (size_t)bytes, f->data_start + t->begin, error);
}

float acrnn_st_f16_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    /* zero or subnormal: man * 2^-24, exact in float */
    float v = (float)man * 0x1p-24f;
    return sign ? -v : v;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13); /* Inf, NaN */
  } else {
    bits = sign | ((exp + 112u) << 23) | (man << 13);
  }
  float out;
  memcpy(&out, &bits, sizeof out);
  return out;
}

float acrnn_st_bf16_to_float(uint16_t b) {
  uint32_t bits = (uint32_t)b << 16;
  float out;
  memcpy(&out, &bits, sizeof out);
  return out;
}

gboolean acrnn_st_read_float(AcrnnStFile *f, const AcrnnStTensor *t, float *out,
                             GError **error) {
  if (t->dtype == ACRNN_ST_F32) {
    if (!acrnn_st_read_raw(f, t, out, error))
      return FALSE;
#if G_BYTE_ORDER != G_LITTLE_ENDIAN
    uint32_t *w = (uint32_t *)out;
    for (uint64_t i = 0; i < t->numel; i++)
      w[i] = GUINT32_FROM_LE(w[i]);
#endif
    return TRUE;
  }
  if (t->dtype != ACRNN_ST_F16 && t->dtype != ACRNN_ST_BF16)
    return acrnn_io_fail(error, ACRNN_MODEL_ERROR_CONTENT, f->path,
                         "tensor %s has dtype %s, expected F32, F16 or BF16",
                         t->name, dtypes[t->dtype].name);
  uint16_t *half = g_try_malloc(t->numel * 2 + 1);
  if (half == NULL)
    return acrnn_io_fail(error, ACRNN_MODEL_ERROR_IO, f->path,
                         "out of memory reading tensor %s", t->name);
  gboolean ok = acrnn_st_read_raw(f, t, half, error);
  if (ok)
    for (uint64_t i = 0; i < t->numel; i++) {
      uint16_t h = GUINT16_FROM_LE(half[i]);
      out[i] = t->dtype == ACRNN_ST_F16 ? acrnn_st_f16_to_float(h)
                                        : acrnn_st_bf16_to_float(h);
    }
  g_free(half);
  return ok;
}

/* ---- writer ---- */

static gboolean write_all(int fd, const char *path, const void *data, size_t n,
                          GError **error) {
  const guint8 *p = data;
  while (n > 0) {
    size_t chunk = n > (1u << 30) ? (1u << 30) : n;
    ssize_t w = write(fd, p, chunk);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      return acrnn_io_fail(error, ACRNN_MODEL_ERROR_IO, path,
                           "cannot write: %s", g_strerror(e));
    }
    p += w;
    n -= (size_t)w;
  }
  return TRUE;
}

/* Writes numel elements of elsize bytes in little-endian order. */
static gboolean write_le(int fd, const char *path, const void *data,
                         size_t numel, size_t elsize, GError **error) {
  if (G_BYTE_ORDER == G_LITTLE_ENDIAN || elsize == 1)
    return write_all(fd, path, data, numel * elsize, error);
  enum { CHUNK = 65536 };
  guint8 *buf = g_malloc(CHUNK * elsize);
  const guint8 *src = data;
  gboolean ok = TRUE;
  for (size_t done = 0; ok && done < numel; done += CHUNK) {
    size_t m = MIN((size_t)CHUNK, numel - done);
    for (size_t i = 0; i < m; i++)
      for (size_t b = 0; b < elsize; b++)
        buf[i * elsize + b] = src[(done + i) * elsize + elsize - 1 - b];
    ok = write_all(fd, path, buf, m * elsize, error);
  }
  g_free(buf);
  return ok;
}

/* Checks the entries and computes each one's byte size. */
static gboolean check_entries(const char *path, const AcrnnStEntry *entries,
                              size_t n, uint64_t *sizes, GError **error) {
  const int C = ACRNN_MODEL_ERROR_CONTENT;
  GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
  gboolean ok = TRUE;
  for (size_t i = 0; ok && i < n; i++) {
    const AcrnnStEntry *e = &entries[i];
    if (e->name == NULL || e->name[0] == '\0' ||
        !g_utf8_validate(e->name, -1, NULL)) {
      ok = acrnn_io_fail(error, C, path, "tensor %zu has no valid UTF-8 name",
                         i);
    } else if (strcmp(e->name, "__metadata__") == 0 ||
               g_hash_table_contains(seen, e->name)) {
      ok = acrnn_io_fail(
          error, C, path,
          "tensor name %s is used twice or reserved, expected unique "
          "names",
          e->name);
    } else if ((unsigned)e->dtype >= ACRNN_ST_N_DTYPES || e->ndim < 0 ||
               e->ndim > ACRNN_ST_MAX_DIMS) {
      ok = acrnn_io_fail(error, C, path,
                         "tensor %s has an invalid dtype or rank", e->name);
    } else {
      uint64_t numel = 1;
      for (int d = 0; ok && d < e->ndim; d++)
        if (e->shape[d] < 0 ||
            !g_uint64_checked_mul(&numel, numel, (uint64_t)e->shape[d]))
          ok = acrnn_io_fail(error, C, path, "tensor %s has an invalid shape",
                             e->name);
      if (ok &&
          (!g_uint64_checked_mul(&sizes[i], numel, dtypes[e->dtype].size) ||
           sizes[i] > SIZE_MAX))
        ok = acrnn_io_fail(error, C, path, "tensor %s is too large", e->name);
      if (ok && sizes[i] > 0 && e->data == NULL)
        ok = acrnn_io_fail(error, C, path, "tensor %s has no data", e->name);
      g_hash_table_add(seen, (gpointer)e->name);
    }
  }
  g_hash_table_destroy(seen);
  return ok;
}

gboolean acrnn_st_write_fd(int fd, const char *path,
                           const AcrnnStEntry *entries, size_t n_entries,
                           const char *const *meta_kv, GError **error) {
  uint64_t *sizes = g_new0(uint64_t, n_entries + 1);
  if (!check_entries(path, entries, n_entries, sizes, error)) {
    g_free(sizes);
    return FALSE;
  }
  for (size_t i = 0; meta_kv && meta_kv[i]; i += 2)
    if (meta_kv[i + 1] == NULL || !g_utf8_validate(meta_kv[i], -1, NULL) ||
        !g_utf8_validate(meta_kv[i + 1], -1, NULL)) {
      g_free(sizes);
      return acrnn_io_fail(error, ACRNN_MODEL_ERROR_CONTENT, path,
                           "metadata entry %s has no valid UTF-8 value",
                           meta_kv[i]);
    }

  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  if (meta_kv) {
    json_builder_set_member_name(b, "__metadata__");
    json_builder_begin_object(b);
    for (size_t i = 0; meta_kv[i]; i += 2) {
      json_builder_set_member_name(b, meta_kv[i]);
      json_builder_add_string_value(b, meta_kv[i + 1]);
    }
    json_builder_end_object(b);
  }
  uint64_t pos = 0;
  for (size_t i = 0; i < n_entries; i++) {
    const AcrnnStEntry *e = &entries[i];
    json_builder_set_member_name(b, e->name);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "dtype");
    json_builder_add_string_value(b, dtypes[e->dtype].name);
    json_builder_set_member_name(b, "shape");
    json_builder_begin_array(b);
    for (int d = 0; d < e->ndim; d++)
      json_builder_add_int_value(b, e->shape[d]);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "data_offsets");
    json_builder_begin_array(b);
    json_builder_add_int_value(b, (gint64)pos);
    json_builder_add_int_value(b, (gint64)(pos + sizes[i]));
    json_builder_end_array(b);
    json_builder_end_object(b);
    pos += sizes[i];
  }
  json_builder_end_object(b);
  JsonNode *root = json_builder_get_root(b);
  JsonGenerator *gen = json_generator_new();
  json_generator_set_root(gen, root);
  gsize len = 0;
  char *json = json_generator_to_data(gen, &len);
  g_object_unref(gen);
  json_node_unref(root);
  g_object_unref(b);

  size_t padded = (len + 7) / 8 * 8;
  GString *header = g_string_new_len(json, (gssize)len);
  g_free(json);
  while (header->len < padded)
    g_string_append_c(header, ' ');
  guint8 lenbuf[8];
  for (int i = 0; i < 8; i++)
    lenbuf[i] = (guint8)((uint64_t)padded >> (8 * i));

  gboolean ok = write_all(fd, path, lenbuf, 8, error) &&
                write_all(fd, path, header->str, header->len, error);
  g_string_free(header, TRUE);
  for (size_t i = 0; ok && i < n_entries; i++) {
    size_t el = dtypes[entries[i].dtype].size;
    ok =
        write_le(fd, path, entries[i].data, (size_t)(sizes[i] / el), el, error);
  }
  g_free(sizes);
  return ok;
}
