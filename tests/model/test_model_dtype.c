/* test_model_dtype.c - saving models as F16 and BF16: the float to half and
 * bfloat16 conversions (every 16-bit pattern round trips, round to nearest
 * even against a brute-force reference, subnormals, overflow), and models
 * saved with acrnn_model_save_as() that load back with logits close to the
 * F32 model's, a full-size 128x128 one included. */
#include "safetensors.h"
#include <acrnn/model.h>
#include <acrnn/rng.h>
#include <float.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *tmpdir;

static char *tmp_path(const char *name) {
  return g_build_filename(tmpdir, name, NULL);
}

static float from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static uint32_t to_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/* ---- conversions ---- */

typedef float (*ToFloat)(uint16_t);
typedef uint16_t (*FromFloat)(float);

/* Every 16-bit pattern: pattern -> float -> pattern is the identity (NaN:
 * stays a NaN of the same sign), and float -> pattern -> float too. */
static void all_patterns(ToFloat to_float, FromFloat from_float) {
  for (uint32_t h = 0; h < 65536; h++) {
    float f = to_float((uint16_t)h);
    uint16_t back = from_float(f);
    if (isnan(f)) {
      g_assert_true(isnan(to_float(back)));
      g_assert_cmpuint(back & 0x8000u, ==, h & 0x8000u);
      continue;
    }
    if (back != h)
      g_error("pattern 0x%04x -> %a -> 0x%04x", h, (double)f, back);
    g_assert_cmpuint(to_bits(to_float(back)), ==, to_bits(f));
  }
}

static void test_f16_all_patterns(void) {
  all_patterns(acrnn_st_f16_to_float, acrnn_st_float_to_f16);
}

static void test_bf16_all_patterns(void) {
  all_patterns(acrnn_st_bf16_to_float, acrnn_st_float_to_bf16);
}

/* The result h of converting x is the nearest value of the format, the
 * even one on a tie; limit is the first magnitude that becomes Inf. */
static void check_nearest(float x, uint16_t h, ToFloat to_float, double limit) {
  double ax = fabs((double)x);
  uint16_t mag = h & 0x7fffu;
  if (x != 0.0f && (h & 0x8000u) != (signbit(x) ? 0x8000u : 0u))
    g_error("%a -> 0x%04x: wrong sign", (double)x, h);
  if (ax >= limit) {
    g_assert_cmpuint(mag, ==,
                     to_float == acrnn_st_f16_to_float ? 0x7c00u : 0x7f80u);
    return;
  }
  double v = fabs((double)to_float(mag));
  double d = fabs(ax - v);
  /* neighbours of the result, on the same side of zero */
  uint16_t nb[2] = {(uint16_t)(mag - 1u), (uint16_t)(mag + 1u)};
  for (int i = 0; i < 2; i++) {
    if ((i == 0 && mag == 0) || isinf(to_float(nb[i])))
      continue;
    double dn = fabs(ax - fabs((double)to_float(nb[i])));
    if (dn < d || (dn == d && (mag & 1u)))
      g_error("%a -> 0x%04x (%a), but 0x%04x (%a) is %s", (double)x, h, v,
              nb[i], (double)to_float(nb[i]),
              dn < d ? "nearer" : "as near and even");
  }
}

/* A million random float bit patterns, finite ones checked against the
 * brute-force nearest value. */
static void random_reference(ToFloat to_float, FromFloat from_float,
                             double limit) {
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 2024);
  for (int i = 0; i < 1000000; i++) {
    uint32_t u = (uint32_t)acrnn_rng_next(&rng);
    if (i % 2)
      /* half the draws near the format's range, where it matters */
      u = (u & 0x80000000u) | (0x33000000u + (u & 0x7fffffffu) % 0x15000000u);
    float x = from_bits(u);
    if (!isfinite(x))
      continue;
    check_nearest(x, from_float(x), to_float, limit);
  }
}

static void test_f16_random_reference(void) {
  random_reference(acrnn_st_f16_to_float, acrnn_st_float_to_f16, 65520.0);
}

static void test_bf16_random_reference(void) {
  /* halfway between the largest bfloat16 (0x7f7f) and 2^128 */
  random_reference(acrnn_st_bf16_to_float, acrnn_st_float_to_bf16,
                   (double)from_bits(0x7f7f8000u));
}

static void test_f16_rounding(void) {
  /* ties go to the even pattern */
  g_assert_cmphex(acrnn_st_float_to_f16(1.0f + 0x1p-11f), ==, 0x3c00);
  g_assert_cmphex(acrnn_st_float_to_f16(1.0f + 3 * 0x1p-11f), ==, 0x3c02);
  g_assert_cmphex(acrnn_st_float_to_f16(-(1.0f + 0x1p-11f)), ==, 0xbc00);
  /* just above a tie rounds up */
  g_assert_cmphex(acrnn_st_float_to_f16(1.0f + 0x1p-11f + 0x1p-23f), ==,
                  0x3c01);
  /* subnormals: k * 2^-24 */
  g_assert_cmphex(acrnn_st_float_to_f16(0x1p-24f), ==, 0x0001);
  g_assert_cmphex(acrnn_st_float_to_f16(0x1p-25f), ==, 0x0000); /* tie */
  g_assert_cmphex(acrnn_st_float_to_f16(0x1.000002p-25f), ==, 0x0001);
  g_assert_cmphex(acrnn_st_float_to_f16(3 * 0x1p-25f), ==, 0x0002); /* tie */
  g_assert_cmphex(acrnn_st_float_to_f16(5 * 0x1p-25f), ==, 0x0002); /* tie */
  g_assert_cmphex(acrnn_st_float_to_f16(-0x1p-26f), ==, 0x8000);
  g_assert_cmphex(acrnn_st_float_to_f16(FLT_TRUE_MIN), ==, 0x0000);
  /* the largest subnormal rounds up into the smallest normal */
  g_assert_cmphex(acrnn_st_float_to_f16(1023.5f * 0x1p-24f), ==, 0x0400);
  g_assert_cmphex(acrnn_st_float_to_f16(0x1p-14f), ==, 0x0400);
  /* overflow: 65504 is the largest; from 65520 on, Inf */
  g_assert_cmphex(acrnn_st_float_to_f16(65504.0f), ==, 0x7bff);
  g_assert_cmphex(acrnn_st_float_to_f16(65519.996f), ==, 0x7bff);
  g_assert_cmphex(acrnn_st_float_to_f16(65520.0f), ==, 0x7c00);
  g_assert_cmphex(acrnn_st_float_to_f16(-65520.0f), ==, 0xfc00);
  g_assert_cmphex(acrnn_st_float_to_f16(1e10f), ==, 0x7c00);
  g_assert_cmphex(acrnn_st_float_to_f16(FLT_MAX), ==, 0x7c00);
  g_assert_cmphex(acrnn_st_float_to_f16(INFINITY), ==, 0x7c00);
  g_assert_cmphex(acrnn_st_float_to_f16(-INFINITY), ==, 0xfc00);
  g_assert_true(isnan(acrnn_st_f16_to_float(acrnn_st_float_to_f16(NAN))));
}

static void test_bf16_rounding(void) {
  g_assert_cmphex(acrnn_st_float_to_bf16(1.0f), ==, 0x3f80);
  g_assert_cmphex(acrnn_st_float_to_bf16(from_bits(0x3f808000u)), ==,
                  0x3f80); /* tie, even */
  g_assert_cmphex(acrnn_st_float_to_bf16(from_bits(0x3f818000u)), ==,
                  0x3f82); /* tie, even */
  g_assert_cmphex(acrnn_st_float_to_bf16(from_bits(0x3f808001u)), ==, 0x3f81);
  g_assert_cmphex(acrnn_st_float_to_bf16(from_bits(0xbf808001u)), ==, 0xbf81);
  /* float subnormals */
  g_assert_cmphex(acrnn_st_float_to_bf16(FLT_TRUE_MIN), ==, 0x0000);
  g_assert_cmphex(acrnn_st_float_to_bf16(from_bits(0x00010000u)), ==, 0x0001);
  g_assert_cmphex(acrnn_st_float_to_bf16(from_bits(0x007fffffu)), ==, 0x0080);
  /* overflow */
  g_assert_cmphex(acrnn_st_float_to_bf16(from_bits(0x7f7f7fffu)), ==, 0x7f7f);
  g_assert_cmphex(acrnn_st_float_to_bf16(from_bits(0x7f7f8000u)), ==, 0x7f80);
  g_assert_cmphex(acrnn_st_float_to_bf16(-FLT_MAX), ==, 0xff80);
  g_assert_cmphex(acrnn_st_float_to_bf16(-INFINITY), ==, 0xff80);
  uint16_t nan = acrnn_st_float_to_bf16(from_bits(0x7f800001u));
  g_assert_true(isnan(acrnn_st_bf16_to_float(nan))); /* not rounded to Inf */
}

/* ---- models ---- */

static void make_info(AcrnnModelInfo *info, int bands, int frames,
                      int n_labels) {
  acrnn_model_info_init(info);
  info->labels = g_new0(char *, n_labels + 1);
  for (int i = 0; i < n_labels; i++)
    info->labels[i] = g_strdup_printf("class%d", i);
  info->n_labels = n_labels;
  info->features.bands = bands;
  info->segment_frames = frames;
  info->segment_hop = frames / 2;
  info->mean[0] = -20.0f;
  info->std[0] = 5.0f;
}

/* The paper's random initialisation, with plausible batch norm statistics
 * (as after training) so that the running statistics matter. */
static AcrnnNet *make_net(const AcrnnModelInfo *info, uint64_t seed) {
  AcrnnNetConfig cfg;
  acrnn_model_info_net_config(info, &cfg);
  GError *error = NULL;
  AcrnnNet *net = acrnn_net_new(&cfg, &error);
  g_assert_no_error(error);
  acrnn_net_init_random(net, seed);
  AcrnnRng rng;
  acrnn_rng_seed(&rng, seed + 1);
  for (size_t i = 0; i < acrnn_net_n_tensors(net); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    float *x = acrnn_net_tensor_data(net, t);
    for (size_t k = 0; k < t->numel; k++) {
      float u = acrnn_rng_uniform(&rng);
      if (g_str_has_suffix(t->name, ".running_var"))
        x[k] = 0.02f * powf(10.0f, 2.0f * u); /* 0.02 .. 2 */
      else if (g_str_has_suffix(t->name, ".running_mean"))
        x[k] = 0.2f * (u - 0.5f);
      else if (g_str_has_suffix(t->name, ".bias"))
        x[k] = 0.1f * (u - 0.5f);
    }
  }
  return net;
}

static goffset file_size(const char *path) {
  GStatBuf st;
  g_assert_cmpint(g_stat(path, &st), ==, 0);
  return (goffset)st.st_size;
}

/* Every tensor of path has dtype st. */
static void assert_file_dtype(const char *path, AcrnnStDtype st) {
  GError *error = NULL;
  AcrnnStFile *f = acrnn_st_open(path, &error);
  g_assert_no_error(error);
  for (size_t i = 0; i < acrnn_st_n_tensors(f); i++)
    g_assert_cmpstr(acrnn_st_dtype_name(acrnn_st_tensor(f, i)->dtype), ==,
                    acrnn_st_dtype_name(st));
  acrnn_st_close(f);
}

/* Max |logit difference| between net and the model at path on inputs x. */
static float max_logit_diff(AcrnnNet *net, const char *path, const float *x,
                            int batch, float *max_abs_logit) {
  GError *error = NULL;
  AcrnnModelInfo info;
  AcrnnNet *loaded = acrnn_model_load(path, &info, &error);
  g_assert_no_error(error);
  g_assert_nonnull(loaded);
  int n = acrnn_net_config(net)->n_classes;
  float *ref = g_memdup2(acrnn_net_forward(net, x, batch, FALSE, NULL),
                         (size_t)batch * n * sizeof(float));
  const float *got = acrnn_net_forward(loaded, x, batch, FALSE, NULL);
  float diff = 0.0f, big = 0.0f;
  for (int i = 0; i < batch * n; i++) {
    g_assert_true(isfinite(got[i]));
    diff = fmaxf(diff, fabsf(got[i] - ref[i]));
    big = fmaxf(big, fabsf(ref[i]));
  }
  if (max_abs_logit)
    *max_abs_logit = big;
  g_free(ref);
  acrnn_net_free(loaded);
  acrnn_model_info_clear(&info);
  return diff;
}

static float *random_input(const AcrnnNet *net, int batch, uint64_t seed) {
  const AcrnnNetConfig *cfg = acrnn_net_config(net);
  size_t n = (size_t)batch * 2 * cfg->bands * cfg->frames;
  float *x = g_new(float, n);
  AcrnnRng rng;
  acrnn_rng_seed(&rng, seed);
  for (size_t i = 0; i < n; i++)
    x[i] = (float)acrnn_rng_normal(&rng);
  return x;
}

/* A small model saved as F16 and BF16: every tensor in that dtype, the
 * file about half the F32 one, the loaded values the rounded originals, the
 * metadata unchanged, the logits close. */
static void test_save_small(void) {
  AcrnnModelInfo info;
  make_info(&info, 32, 36, 5);
  AcrnnNet *net = make_net(&info, 5);
  char *p32 = tmp_path("m32.safetensors"), *p16 = tmp_path("m16.safetensors"),
       *pb16 = tmp_path("mb16.safetensors");
  GError *error = NULL;
  g_assert_true(
      acrnn_model_save_as(p32, net, &info, ACRNN_MODEL_DTYPE_F32, &error));
  g_assert_true(
      acrnn_model_save_as(p16, net, &info, ACRNN_MODEL_DTYPE_F16, &error));
  g_assert_true(
      acrnn_model_save_as(pb16, net, &info, ACRNN_MODEL_DTYPE_BF16, &error));
  g_assert_no_error(error);
  assert_file_dtype(p32, ACRNN_ST_F32);
  assert_file_dtype(p16, ACRNN_ST_F16);
  assert_file_dtype(pb16, ACRNN_ST_BF16);

  /* F32 through save_as is byte for byte what acrnn_model_save writes */
  char *pref = tmp_path("mref.safetensors");
  g_assert_true(acrnn_model_save(pref, net, &info, NULL));
  gchar *a = NULL, *b = NULL;
  gsize la = 0, lb = 0;
  g_assert_true(g_file_get_contents(p32, &a, &la, NULL));
  g_assert_true(g_file_get_contents(pref, &b, &lb, NULL));
  g_assert_cmpmem(a, la, b, lb);
  g_free(a);
  g_free(b);

  size_t bytes32 = acrnn_net_n_params(net) * 4 + acrnn_net_n_buffers(net) * 4;
  goffset s32 = file_size(p32), s16 = file_size(p16), sb16 = file_size(pb16);
  /* the tensor data halves; the JSON headers differ by a few bytes (dtype
   * names, offset digits) */
  g_assert_cmpint(labs((long)(s32 - s16 - (goffset)bytes32 / 2)), <, 1024);
  g_assert_cmpint(labs((long)(s32 - sb16 - (goffset)bytes32 / 2)), <, 1024);

  const char *paths[2] = {p16, pb16};
  ToFloat back[2] = {acrnn_st_f16_to_float, acrnn_st_bf16_to_float};
  FromFloat to[2] = {acrnn_st_float_to_f16, acrnn_st_float_to_bf16};
  /* A randomly initialised network amplifies weight perturbations (a
   * random relative perturbation of F16's size moves its logits about as
   * much as F16 rounding does): the bounds leave room for that, the exact
   * check above is what pins the rounding down. */
  float tol[2] = {3e-2f, 0.15f};
  float *x = random_input(net, 3, 9);
  for (int v = 0; v < 2; v++) {
    AcrnnModelInfo li;
    AcrnnNet *loaded = acrnn_model_load(paths[v], &li, &error);
    g_assert_no_error(error);
    g_assert_cmpint(li.n_labels, ==, 5);
    g_assert_cmpstr(li.labels[4], ==, "class4");
    g_assert_cmpfloat(li.mean[0], ==, -20.0f);
    g_assert_cmpfloat(li.std[0], ==, 5.0f);
    for (size_t i = 0; i < acrnn_net_n_tensors(net); i++) {
      const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
      const float *orig = acrnn_net_tensor_data(net, t);
      const float *got = acrnn_net_tensor_data(loaded, t);
      for (size_t k = 0; k < t->numel; k++)
        g_assert_cmpuint(to_bits(got[k]), ==, to_bits(back[v](to[v](orig[k]))));
    }
    acrnn_net_free(loaded);
    acrnn_model_info_clear(&li);
    float big = 0.0f;
    float d = max_logit_diff(net, paths[v], x, 3, &big);
    g_test_message("small model, %s: max |logit diff| %g (max |logit| %g)",
                   v ? "BF16" : "F16", d, big);
    g_assert_cmpfloat(big, >, 0.01f);
    g_assert_cmpfloat(d, <=, tol[v] * fmaxf(big, 1.0f));
    g_assert_cmpfloat(d, >, 0.0f); /* rounding did happen */
  }
  g_free(x);
  g_unlink(p32);
  g_unlink(p16);
  g_unlink(pb16);
  g_unlink(pref);
  g_free(p32);
  g_free(p16);
  g_free(pb16);
  g_free(pref);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
}

/* No file other than those named keep in tmpdir (no temporary left). */
static void assert_dir_holds(const char *keep) {
  GDir *d = g_dir_open(tmpdir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL)
    if (keep == NULL || strcmp(name, keep) != 0)
      g_error("unexpected file %s left in the directory", name);
  g_dir_close(d);
}

/* A finite weight beyond the F16 range: refused with the tensor and the
 * value named, nothing written; BF16 stores it. Values that round down to
 * 65504 are fine. */
static void test_f16_overflow(void) {
  AcrnnModelInfo info;
  make_info(&info, 32, 36, 3);
  AcrnnNet *net = make_net(&info, 8);
  const AcrnnTensorInfo *t = acrnn_net_find_tensor(net, "conv.3.weight");
  g_assert_nonnull(t);
  float *w = acrnn_net_tensor_data(net, t);
  char *path = tmp_path("over.safetensors");
  GError *error = NULL;

  w[7] = -65519.0f; /* rounds to -65504 */
  g_assert_true(
      acrnn_model_save_as(path, net, &info, ACRNN_MODEL_DTYPE_F16, &error));
  g_assert_no_error(error);
  AcrnnNet *loaded = acrnn_model_load(path, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat(
      acrnn_net_tensor_data(loaded, acrnn_net_find_tensor(loaded, t->name))[7],
      ==, -65504.0f);
  acrnn_net_free(loaded);
  g_unlink(path);

  w[7] = 123456.0f;
  g_assert_false(
      acrnn_model_save_as(path, net, &info, ACRNN_MODEL_DTYPE_F16, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, path));
  g_assert_nonnull(strstr(error->message, "conv.3.weight"));
  g_assert_nonnull(strstr(error->message, "123456"));
  g_assert_nonnull(strstr(error->message, "index 7"));
  g_assert_nonnull(strstr(error->message, "F16"));
  g_clear_error(&error);
  assert_dir_holds(NULL);

  /* an existing model is left as it was */
  g_assert_true(acrnn_model_save(path, net, &info, NULL));
  goffset before = file_size(path);
  g_assert_false(
      acrnn_model_save_as(path, net, &info, ACRNN_MODEL_DTYPE_F16, &error));
  g_clear_error(&error);
  g_assert_cmpint(file_size(path), ==, before);
  assert_dir_holds("over.safetensors");

  /* running statistics too */
  w[7] = 0.0f;
  float *rv = acrnn_net_tensor_data(
      net, acrnn_net_find_tensor(net, "bn.2.running_var"));
  rv[0] = 1e6f;
  g_assert_false(
      acrnn_model_save_as(path, net, &info, ACRNN_MODEL_DTYPE_F16, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_assert_nonnull(strstr(error->message, "bn.2.running_var"));
  g_clear_error(&error);

  /* BF16 has F32's range */
  rv[0] = 1.0f;
  w[7] = 123456.0f;
  g_assert_true(
      acrnn_model_save_as(path, net, &info, ACRNN_MODEL_DTYPE_BF16, &error));
  g_assert_no_error(error);
  loaded = acrnn_model_load(path, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat(
      acrnn_net_tensor_data(loaded, acrnn_net_find_tensor(loaded, t->name))[7],
      ==, 123392.0f); /* 0x47f1 0x2000 -> 0x47f1 */
  acrnn_net_free(loaded);

  /* an unknown dtype */
  g_assert_false(
      acrnn_model_save_as(path, net, &info, (AcrnnModelDtype)7, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_assert_nonnull(strstr(error->message, "dtype"));
  g_clear_error(&error);

  g_unlink(path);
  g_free(path);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
}

/* The full-size network (128 bands x 128 frames, 50 classes, rnn
 * attention), paper initialisation: F16 and BF16 logits against F32. */
static void test_full_size(void) {
  AcrnnModelInfo info;
  make_info(&info, 128, 128, 50);
  AcrnnNet *net = make_net(&info, 17);
  char *p16 = tmp_path("full16.safetensors"),
       *pb16 = tmp_path("fullb16.safetensors");
  GError *error = NULL;
  g_assert_true(
      acrnn_model_save_as(p16, net, &info, ACRNN_MODEL_DTYPE_F16, &error));
  g_assert_true(
      acrnn_model_save_as(pb16, net, &info, ACRNN_MODEL_DTYPE_BF16, &error));
  g_assert_no_error(error);
  float *x = random_input(net, 2, 3);
  float big = 0.0f;
  float d16 = max_logit_diff(net, p16, x, 2, &big);
  float db16 = max_logit_diff(net, pb16, x, 2, NULL);
  g_test_message(
      "full-size 128x128 model (%zu parameters, F16 file %" G_GOFFSET_FORMAT
      " bytes): max |logit| %g, max |logit diff| F16 %g, BF16 %g",
      acrnn_net_n_params(net), file_size(p16), big, d16, db16);
  g_assert_cmpfloat(big, >, 0.01f);
  g_assert_cmpfloat(d16, <=, 3e-2f * fmaxf(big, 1.0f));
  g_assert_cmpfloat(db16, <=, 0.15f * fmaxf(big, 1.0f));
  g_free(x);
  g_unlink(p16);
  g_unlink(pb16);
  g_free(p16);
  g_free(pb16);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp("acrnn-dtype-XXXXXX", NULL);
  g_assert_nonnull(tmpdir);
  g_test_add_func("/model/dtype/f16-all-patterns", test_f16_all_patterns);
  g_test_add_func("/model/dtype/bf16-all-patterns", test_bf16_all_patterns);
  g_test_add_func("/model/dtype/f16-rounding", test_f16_rounding);
  g_test_add_func("/model/dtype/bf16-rounding", test_bf16_rounding);
  g_test_add_func("/model/dtype/f16-random-reference",
                  test_f16_random_reference);
  g_test_add_func("/model/dtype/bf16-random-reference",
                  test_bf16_random_reference);
  g_test_add_func("/model/dtype/save-small", test_save_small);
  g_test_add_func("/model/dtype/f16-overflow", test_f16_overflow);
  g_test_add_func("/model/dtype/full-size", test_full_size);
  int rc = g_test_run();
  g_rmdir(tmpdir);
  g_free(tmpdir);
  return rc;
}
