/* test_model_file.c - acrnn model files (docs/model-file.md): save and load
 * round trips for every attention variant, checkpoints, atomic saving, the
 * model info JSON, and one test per kind of corrupt model, each checking the
 * error code and that the message names the file and the problem. */
#include "model_meta.h"
#include "safetensors.h"
#include <acrnn/model.h>
#include <acrnn/rng.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Small networks keep the tests fast: 32 bands, 36 frames. */
#define BANDS 32
#define FRAMES 36
#define N_LABELS 5

static char *tmpdir;

static char *tmp_path(const char *name) {
  return g_build_filename(tmpdir, name, NULL);
}

static void make_info(AcrnnModelInfo *info, int n_labels, const char *att) {
  acrnn_model_info_init(info);
  info->labels = g_new0(char *, n_labels + 1);
  for (int i = 0; i < n_labels; i++)
    info->labels[i] = g_strdup_printf("class \"%d\" \u00e9", i);
  info->n_labels = n_labels;
  info->features.bands = BANDS;
  info->features.fmin = 62.5;
  info->segment_frames = FRAMES;
  info->segment_hop = FRAMES / 2;
  g_assert_true(acrnn_attention_parse(att, &info->attention, NULL));
  info->mean[0] = -12.345678f;
  info->mean[1] = 0.0123f;
  info->std[0] = 4.25f;
  info->std[1] = 0.3333333f;
}

/* A random network whose every tensor (biases, batch norm and running
 * statistics included) holds distinct values. */
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
    if (strstr(t->name, "weight") && !g_str_has_prefix(t->name, "bn."))
      continue; /* keep the paper's N(0, 0.05) weights */
    for (size_t k = 0; k < t->numel; k++) {
      float u = acrnn_rng_uniform(&rng);
      x[k] = g_str_has_suffix(t->name, "running_var") ? 0.5f + u
             : g_str_has_prefix(t->name, "bn.") &&
                     g_str_has_suffix(t->name, ".weight")
                 ? 0.8f + 0.4f * u
                 : 0.1f * (u - 0.5f);
    }
  }
  return net;
}

static void assert_nets_equal(AcrnnNet *a, AcrnnNet *b) {
  g_assert_cmpuint(acrnn_net_n_tensors(a), ==, acrnn_net_n_tensors(b));
  for (size_t i = 0; i < acrnn_net_n_tensors(a); i++) {
    const AcrnnTensorInfo *ta = acrnn_net_tensor(a, i);
    const AcrnnTensorInfo *tb = acrnn_net_find_tensor(b, ta->name);
    g_assert_nonnull(tb);
    g_assert_cmpuint(ta->numel, ==, tb->numel);
    g_assert_cmpmem(acrnn_net_tensor_data(a, ta), ta->numel * sizeof(float),
                    acrnn_net_tensor_data(b, tb), tb->numel * sizeof(float));
  }
}

static void assert_infos_equal(const AcrnnModelInfo *a,
                               const AcrnnModelInfo *b) {
  g_assert_cmpint(a->version, ==, b->version);
  g_assert_cmpint(a->n_labels, ==, b->n_labels);
  for (int i = 0; i < a->n_labels; i++)
    g_assert_cmpstr(a->labels[i], ==, b->labels[i]);
  g_assert_null(b->labels[b->n_labels]);
  g_assert_cmpint(a->features.sample_rate, ==, b->features.sample_rate);
  g_assert_cmpint(a->features.n_fft, ==, b->features.n_fft);
  g_assert_cmpint(a->features.hop, ==, b->features.hop);
  g_assert_cmpint(a->features.bands, ==, b->features.bands);
  g_assert_cmpfloat(a->features.fmin, ==, b->features.fmin);
  g_assert_cmpfloat(a->features.fmax, ==, b->features.fmax);
  g_assert_cmpint(a->features.delta_width, ==, b->features.delta_width);
  g_assert_cmpint(a->features.filterbank, ==, b->features.filterbank);
  g_assert_cmpint(a->segment_frames, ==, b->segment_frames);
  g_assert_cmpint(a->segment_hop, ==, b->segment_hop);
  g_assert_cmpint(a->attention.kind, ==, b->attention.kind);
  g_assert_cmpint(a->attention.cnn_layer, ==, b->attention.cnn_layer);
  for (int c = 0; c < 2; c++) {
    g_assert_cmpfloat(a->mean[c], ==, b->mean[c]);
    g_assert_cmpfloat(a->std[c], ==, b->std[c]);
  }
}

/* No "*.tmp-*" file is left in tmpdir. */
static void assert_no_temp_files(void) {
  GDir *d = g_dir_open(tmpdir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL)
    if (strstr(name, ".tmp-") != NULL)
      g_error("temporary file %s left behind", name);
  g_dir_close(d);
}

/* ---- round trips ---- */

static void round_trip(const char *att, int bands_frames_default) {
  AcrnnModelInfo info;
  make_info(&info, N_LABELS, att);
  if (bands_frames_default) {
    info.features.bands = 128;
    info.segment_frames = 128;
    info.segment_hop = 64;
  }
  AcrnnNet *net = make_net(&info, 42);
  char *path = tmp_path("rt.safetensors");
  GError *error = NULL;
  g_assert_true(acrnn_model_save(path, net, &info, &error));
  g_assert_no_error(error);
  assert_no_temp_files();

  AcrnnModelInfo back;
  AcrnnNet *loaded = acrnn_model_load(path, &back, &error);
  g_assert_no_error(error);
  g_assert_nonnull(loaded);
  assert_infos_equal(&info, &back);
  assert_nets_equal(net, loaded);

  const AcrnnNetConfig *cfg = acrnn_net_config(net);
  size_t in = (size_t)2 * cfg->bands * cfg->frames;
  float *x = g_new(float, 2 * in);
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 7);
  for (size_t i = 0; i < 2 * in; i++)
    x[i] = (float)acrnn_rng_normal(&rng);
  const float *la = acrnn_net_forward(net, x, 2, FALSE, NULL);
  float *copy = g_memdup2(la, 2 * N_LABELS * sizeof(float));
  const float *lb = acrnn_net_forward(loaded, x, 2, FALSE, NULL);
  for (int i = 0; i < 2 * N_LABELS; i++)
    g_assert_true(isfinite(copy[i]));
  g_assert_cmpmem(copy, 2 * N_LABELS * sizeof(float), lb,
                  2 * N_LABELS * sizeof(float));
  /* The logits depend on the weights (not all equal). */
  g_assert_cmpfloat(copy[0], !=, copy[1]);

  g_free(copy);
  g_free(x);
  acrnn_net_free(loaded);
  acrnn_net_free(net);
  acrnn_model_info_clear(&back);
  acrnn_model_info_clear(&info);
  g_unlink(path);
  g_free(path);
}

static void test_round_trip_rnn(void) {
  round_trip("rnn", 0);
}
static void test_round_trip_none(void) {
  round_trip("none", 0);
}
static void test_round_trip_cnn2(void) {
  round_trip("cnn:2", 0);
}
static void test_round_trip_cnn4(void) {
  round_trip("cnn:4", 0);
}
static void test_round_trip_cnn6(void) {
  round_trip("cnn:6", 0);
}
static void test_round_trip_cnn8(void) {
  round_trip("cnn:8", 0);
}
static void test_round_trip_full_size(void) {
  round_trip("rnn", 1);
}

/* The saved file is what docs/model-file.md says: F32 tensors under state_dict
 * names, "acrnn" metadata with every field, no other tensors. */
static void test_file_layout(void) {
  AcrnnModelInfo info;
  make_info(&info, N_LABELS, "cnn:4");
  AcrnnNet *net = make_net(&info, 3);
  char *path = tmp_path("layout.safetensors");
  g_assert_true(acrnn_model_save(path, net, &info, NULL));
  AcrnnStFile *f = acrnn_st_open(path, NULL);
  g_assert_nonnull(f);
  g_assert_cmpuint(acrnn_st_n_tensors(f), ==, acrnn_net_n_tensors(net));
  g_assert_nonnull(acrnn_st_find(f, "cnn_attention.weight"));
  g_assert_nonnull(acrnn_st_find(f, "gru.weight_ih_l0_reverse"));
  g_assert_null(acrnn_st_find(f, "attention.mlp.weight"));
  for (size_t i = 0; i < acrnn_st_n_tensors(f); i++)
    g_assert_cmpint(acrnn_st_tensor(f, i)->dtype, ==, ACRNN_ST_F32);
  const char *json = acrnn_st_meta(f, "acrnn");
  g_assert_nonnull(json);
  JsonParser *p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, json, -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  const char *fields[] = {
      "version",   "labels", "sample_rate", "n_fft",          "hop",
      "bands",     "fmin",   "fmax",        "segment_frames", "segment_hop",
      "attention", "mean",   "std",         "delta_width",    "filterbank"};
  for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
    g_assert_true(json_object_has_member(o, fields[i]));
  g_assert_cmpint(json_object_get_int_member(o, "version"), ==, 1);
  g_assert_cmpstr(json_object_get_string_member(o, "attention"), ==, "cnn:4");
  g_assert_cmpuint(
      json_array_get_length(json_object_get_array_member(o, "labels")), ==,
      N_LABELS);
  g_object_unref(p);
  acrnn_st_close(f);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
  g_unlink(path);
  g_free(path);
}

/* ---- model info ---- */

static void test_info_basics(void) {
  AcrnnModelInfo info;
  acrnn_model_info_init(&info);
  g_assert_cmpint(info.version, ==, 1);
  g_assert_null(info.labels);
  g_assert_cmpint(info.n_labels, ==, 0);
  g_assert_cmpint(info.features.sample_rate, ==, 44100);
  g_assert_cmpint(info.features.bands, ==, 128);
  g_assert_cmpint(info.segment_frames, ==, 128);
  g_assert_cmpint(info.segment_hop, ==, 64);
  g_assert_cmpint(info.attention.kind, ==, ACRNN_ATTENTION_RNN);
  g_assert_cmpfloat(info.mean[0], ==, 0.0f);
  g_assert_cmpfloat(info.std[1], ==, 1.0f);

  AcrnnModelInfo a, b;
  make_info(&a, 3, "cnn:6");
  acrnn_model_info_copy(&b, &a);
  g_assert_true(a.labels != b.labels);
  g_assert_true(a.labels[0] != b.labels[0]);
  assert_infos_equal(&a, &b);
  AcrnnNetConfig cfg;
  acrnn_model_info_net_config(&b, &cfg);
  g_assert_cmpint(cfg.bands, ==, BANDS);
  g_assert_cmpint(cfg.frames, ==, FRAMES);
  g_assert_cmpint(cfg.n_classes, ==, 3);
  g_assert_cmpint(cfg.attention.kind, ==, ACRNN_ATTENTION_CNN);
  g_assert_cmpint(cfg.attention.cnn_layer, ==, 6);
  acrnn_model_info_clear(&a);
  g_assert_null(a.labels);
  g_assert_cmpint(a.n_labels, ==, 0);
  acrnn_model_info_clear(&a); /* twice is fine */

  /* JSON round trip; delta_width (default 9) and filterbank (default
   * gammatone: models from before it existed) are optional. */
  b.features.delta_width = 5;
  b.features.filterbank = ACRNN_FILTERBANK_MEL;
  char *json = acrnn_model_info_to_json(&b);
  AcrnnModelInfo c;
  acrnn_model_info_init(&c);
  GError *error = NULL;
  g_assert_true(acrnn_model_info_from_json("x", json, &c, &error));
  g_assert_no_error(error);
  assert_infos_equal(&b, &c);
  acrnn_model_info_clear(&c);
  JsonParser *p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, json, -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  g_assert_cmpstr(json_object_get_string_member(o, "filterbank"), ==, "mel");
  json_object_remove_member(o, "delta_width");
  json_object_remove_member(o, "filterbank");
  char *json2 = json_to_string(json_parser_get_root(p), FALSE);
  acrnn_model_info_init(&c);
  c.features.filterbank = ACRNN_FILTERBANK_MEL;
  g_assert_true(acrnn_model_info_from_json("x", json2, &c, &error));
  g_assert_cmpint(c.features.delta_width, ==, 9);
  g_assert_cmpint(c.features.filterbank, ==, ACRNN_FILTERBANK_GAMMATONE);
  acrnn_model_info_clear(&c);
  g_object_unref(p);
  g_free(json);
  g_free(json2);
  acrnn_model_info_clear(&b);
}

static void test_default_path(void) {
  char *old = g_strdup(g_getenv("ACRNN_MODEL"));
  g_setenv("ACRNN_MODEL", "/somewhere/my.safetensors", TRUE);
  char *p = acrnn_model_default_path();
  g_assert_cmpstr(p, ==, "/somewhere/my.safetensors");
  g_free(p);
  g_unsetenv("ACRNN_MODEL");
  p = acrnn_model_default_path();
  g_assert_true(g_str_has_suffix(p, "/esc50-acrnn.safetensors"));
  const char *root = g_getenv("ACRNN_SOURCE_ROOT");
  if (root != NULL) {
    char *src =
        g_build_filename(root, "models", "esc50-acrnn.safetensors", NULL);
    /* This test runs from the build tree: the source tree's model. */
    g_assert_cmpstr(p, ==, src);
    g_free(src);
  }
  g_free(p);
  if (old)
    g_setenv("ACRNN_MODEL", old, TRUE);
  g_free(old);
}

/* ---- checkpoints ---- */

/* Saves net and info with the extra tensors and metadata entries. */
static gboolean save_extras(const char *path, AcrnnNet *net,
                            const AcrnnModelInfo *info,
                            const AcrnnModelTensor *t, size_t n_t,
                            const AcrnnModelMeta *m, size_t n_m,
                            GError **error) {
  AcrnnModelExtras x = {t, n_t, m, n_m};
  return acrnn_model_save_full(path, net, info, &x, error);
}

static void test_checkpoint_extras(void) {
  AcrnnModelInfo info;
  make_info(&info, N_LABELS, "rnn");
  AcrnnNet *net = make_net(&info, 11);
  size_t np = acrnn_net_n_params(net);
  float *mom = g_new(float, np);
  for (size_t i = 0; i < np; i++)
    mom[i] = (float)i * 1e-3f - 1.0f;
  float step[1] = {1234.0f};
  const AcrnnModelTensor tensors[] = {{"optimizer.momentum", mom, np},
                                      {"optimizer.step", step, 1}};
  const AcrnnModelMeta meta[] = {{"epoch", "12"},
                                 {"rng", "{\"s\": [1, 2, 3, 4]}"}};
  char *path = tmp_path("ckpt.safetensors");
  GError *error = NULL;
  g_assert_true(save_extras(path, net, &info, tensors, 2, meta, 2, &error));
  g_assert_no_error(error);

  AcrnnModelInfo back;
  AcrnnNet *loaded = acrnn_model_load(path, &back, &error);
  g_assert_no_error(error);
  assert_nets_equal(net, loaded);
  /* everything from one open file: the network, extras and metadata */
  AcrnnModelFile *f = acrnn_model_file_open(path, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(acrnn_model_file_path(f), ==, path);
  AcrnnModelInfo again;
  AcrnnNet *net2 = acrnn_model_file_load(f, &again, &error);
  g_assert_no_error(error);
  assert_nets_equal(net, net2);
  acrnn_net_free(net2);
  acrnn_model_info_clear(&again);
  size_t n = 0;
  float *m = acrnn_model_file_read_extra(f, "optimizer.momentum", &n, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(n, ==, np);
  g_assert_cmpmem(m, np * sizeof(float), mom, np * sizeof(float));
  g_free(m);
  m = acrnn_model_file_read_extra(f, "optimizer.step", &n, &error);
  g_assert_cmpuint(n, ==, 1);
  g_assert_cmpfloat(m[0], ==, 1234.0f);
  g_free(m);
  g_assert_cmpstr(acrnn_model_file_meta(f, "epoch"), ==, "12");
  g_assert_cmpstr(acrnn_model_file_meta(f, "rng"), ==, "{\"s\": [1, 2, 3, 4]}");
  g_assert_null(acrnn_model_file_meta(f, "nothing"));
  g_assert_no_error(error);

  g_assert_null(
      acrnn_model_file_read_extra(f, "optimizer.nothing", &n, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_assert_true(g_str_has_prefix(error->message, path));
  g_assert_nonnull(strstr(error->message, "optimizer.nothing"));
  g_clear_error(&error);
  acrnn_model_file_close(f);
  char *missing = tmp_path("no-such-ckpt.safetensors");
  g_assert_null(acrnn_model_file_open(missing, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_IO);
  g_clear_error(&error);
  g_free(missing);

  /* Clashing names and reserved or repeated keys are refused, leaving the
   * file as is. */
  const AcrnnModelTensor clash[] = {{"conv.0.weight", mom, np}};
  g_assert_false(save_extras(path, net, &info, clash, 1, NULL, 0, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_assert_nonnull(strstr(error->message, "conv.0.weight"));
  g_clear_error(&error);
  const AcrnnModelTensor clash2[] = {{"bn.3.num_batches_tracked", step, 1}};
  g_assert_false(save_extras(path, net, &info, clash2, 1, NULL, 0, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_clear_error(&error);
  const AcrnnModelTensor twice[] = {{"a", step, 1}, {"a", step, 1}};
  g_assert_false(save_extras(path, net, &info, twice, 2, NULL, 0, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_clear_error(&error);
  const AcrnnModelMeta reserved[] = {{"acrnn", "{}"}};
  g_assert_false(save_extras(path, net, &info, NULL, 0, reserved, 1, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_assert_nonnull(strstr(error->message, "reserved"));
  g_clear_error(&error);
  const AcrnnModelMeta dup[] = {{"epoch", "1"}, {"epoch", "2"}};
  g_assert_false(save_extras(path, net, &info, NULL, 0, dup, 2, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_assert_nonnull(strstr(error->message, "twice"));
  g_clear_error(&error);
  f = acrnn_model_file_open(path, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(acrnn_model_file_meta(f, "epoch"), ==, "12");
  acrnn_model_file_close(f);
  assert_no_temp_files();

  g_free(mom);
  acrnn_net_free(loaded);
  acrnn_net_free(net);
  acrnn_model_info_clear(&back);
  acrnn_model_info_clear(&info);
  g_unlink(path);
  g_free(path);
}

/* ---- saving: failures leave nothing behind, replacement is atomic ---- */

static void expect_save_error(const char *path, AcrnnNet *net,
                              const AcrnnModelInfo *info, int code,
                              const char *what) {
  GError *error = NULL;
  g_assert_false(acrnn_model_save(path, net, info, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, code);
  if (g_test_verbose())
    g_printerr("%s\n", error->message);
  g_assert_true(g_str_has_prefix(error->message, path));
  if (strstr(error->message, what) == NULL)
    g_error("message \"%s\" does not mention \"%s\"", error->message, what);
  g_error_free(error);
  assert_no_temp_files();
}

static void test_save_failures(void) {
  AcrnnModelInfo info;
  make_info(&info, N_LABELS, "rnn");
  AcrnnNet *net = make_net(&info, 5);

  char *nodir = g_build_filename(tmpdir, "no-such-dir", "m.safetensors", NULL);
  expect_save_error(nodir, net, &info, ACRNN_MODEL_ERROR_IO,
                    "No such file or directory");
  g_assert_false(g_file_test(nodir, G_FILE_TEST_EXISTS));
  g_free(nodir);

  /* The parent "directory" is a file. */
  char *file = tmp_path("plain-file");
  g_assert_true(g_file_set_contents(file, "x", 1, NULL));
  char *under = g_build_filename(file, "m.safetensors", NULL);
  expect_save_error(under, net, &info, ACRNN_MODEL_ERROR_IO, "cannot create");
  g_free(under);
  g_unlink(file);
  g_free(file);

  /* The path is a directory: the rename fails, the temp file is removed. */
  char *dir = tmp_path("a-directory");
  g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
  expect_save_error(dir, net, &info, ACRNN_MODEL_ERROR_IO, "cannot replace");
  g_assert_true(g_file_test(dir, G_FILE_TEST_IS_DIR));
  g_rmdir(dir);
  g_free(dir);

  /* Invalid info or a net that does not match it: nothing written. */
  char *path = tmp_path("never.safetensors");
  info.std[1] = 0.0f;
  expect_save_error(path, net, &info, ACRNN_MODEL_ERROR_CONTENT, "std[1]");
  info.std[1] = 1.0f;
  info.n_labels = N_LABELS - 1;
  g_free(info.labels[N_LABELS - 1]);
  info.labels[N_LABELS - 1] = NULL;
  expect_save_error(path, net, &info, ACRNN_MODEL_ERROR_CONTENT, "labels");
  acrnn_model_info_clear(&info);
  make_info(&info, N_LABELS, "none");
  expect_save_error(path, net, &info, ACRNN_MODEL_ERROR_CONTENT, "attention");
  acrnn_model_info_clear(&info);
  make_info(&info, N_LABELS, "rnn");
  const AcrnnTensorInfo *t = acrnn_net_find_tensor(net, "gru.bias_hh_l1");
  acrnn_net_tensor_data(net, t)[7] = NAN;
  expect_save_error(path, net, &info, ACRNN_MODEL_ERROR_CONTENT,
                    "gru.bias_hh_l1 has a NaN");
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  g_free(path);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
}

static void test_save_unwritable_dir(void) {
  char *dir = tmp_path("read-only");
  g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
  g_assert_cmpint(g_chmod(dir, 0555), ==, 0);
  if (access(dir, W_OK) == 0) {
    g_chmod(dir, 0755);
    g_rmdir(dir);
    g_free(dir);
    g_test_skip("running with permission to write to a read-only "
                "directory (root)");
    return;
  }
  AcrnnModelInfo info;
  make_info(&info, N_LABELS, "rnn");
  AcrnnNet *net = make_net(&info, 5);
  char *path = g_build_filename(dir, "m.safetensors", NULL);
  expect_save_error(path, net, &info, ACRNN_MODEL_ERROR_IO,
                    "Permission denied");
  GDir *d = g_dir_open(dir, 0, NULL);
  g_assert_null(g_dir_read_name(d));
  g_dir_close(d);
  g_chmod(dir, 0755);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
}

static void test_save_replaces_atomically(void) {
  AcrnnModelInfo info;
  make_info(&info, N_LABELS, "rnn");
  AcrnnNet *a = make_net(&info, 100), *b = make_net(&info, 200);
  char *path = tmp_path("replace.safetensors");
  g_assert_true(acrnn_model_save(path, a, &info, NULL));
  char *bytes_a;
  gsize len_a;
  g_assert_true(g_file_get_contents(path, &bytes_a, &len_a, NULL));
  struct stat st_a, st_b;
  g_assert_cmpint(g_stat(path, &st_a), ==, 0);
  /* A reader that opened the old model keeps reading the old model. */
  int fd = g_open(path, O_RDONLY, 0);
  g_assert_cmpint(fd, >=, 0);

  GError *error = NULL;
  g_assert_true(acrnn_model_save(path, b, &info, &error));
  g_assert_no_error(error);
  assert_no_temp_files();
  g_assert_cmpint(g_stat(path, &st_b), ==, 0);
  g_assert_cmpuint(st_a.st_ino, !=, st_b.st_ino);
  char *old = g_malloc(len_a);
  g_assert_cmpint(pread(fd, old, len_a, 0), ==, (gssize)len_a);
  g_assert_cmpmem(old, len_a, bytes_a, len_a);
  close(fd);

  AcrnnNet *loaded = acrnn_model_load(path, NULL, &error);
  g_assert_no_error(error);
  assert_nets_equal(b, loaded);
  acrnn_net_free(loaded);

  /* A refused save leaves the existing model untouched. */
  acrnn_net_tensor_data(a, acrnn_net_tensor(a, 0))[0] = INFINITY;
  g_assert_false(acrnn_model_save(path, a, &info, &error));
  g_assert_error(error, ACRNN_MODEL_ERROR, ACRNN_MODEL_ERROR_CONTENT);
  g_clear_error(&error);
  loaded = acrnn_model_load(path, NULL, &error);
  g_assert_no_error(error);
  assert_nets_equal(b, loaded);
  acrnn_net_free(loaded);

  g_free(old);
  g_free(bytes_a);
  acrnn_net_free(a);
  acrnn_net_free(b);
  acrnn_model_info_clear(&info);
  g_unlink(path);
  g_free(path);
}

/* ---- corrupt models ---- */

/* How write_variant() departs from a valid model. */
typedef struct {
  const char *skip;    /* tensor left out */
  const char *extra;   /* extra F32 tensor of 3 values */
  const char *reshape; /* tensor written with shape reshape_to */
  int reshape_ndim;
  int64_t reshape_to[4];
  const char *retype; /* tensor written with dtype retype_dtype */
  AcrnnStDtype retype_dtype;
  const char *poison; /* tensor whose element 3 is poison_value */
  float poison_value;
  int half; /* write all tensors as F16 (1) or BF16 (2) */
  const char *batches_tracked_dtype; /* add bn.N.num_batches_tracked */
  gboolean no_acrnn;                 /* metadata without "acrnn" */
  gboolean no_metadata;              /* no __metadata__ at all */
  const char *meta_key;   /* replace this field of the acrnn JSON ... */
  const char *meta_value; /* ... by this JSON text (NULL: remove it) */
  const char *acrnn_text; /* the whole acrnn entry */
  int n_labels;           /* labels in the metadata (default N_LABELS) */
} Variant;

static uint16_t to_bf16(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  return (uint16_t)(u >> 16);
}

/* An F16 bit pattern near x (truncating; exact for the test's purpose:
 * the expected values are decoded from the same bits). */
static uint16_t to_f16(float x) {
  uint32_t u;
  memcpy(&u, &x, 4);
  uint32_t sign = (u >> 16) & 0x8000u;
  int e = (int)((u >> 23) & 0xff) - 127 + 15;
  if (e <= 0)
    return (uint16_t)sign; /* flush tiny values to zero */
  if (e >= 31)
    return (uint16_t)(sign | 0x7bffu);
  return (uint16_t)(sign | ((uint32_t)e << 10) | ((u >> 13) & 0x3ffu));
}

static char *acrnn_json(const AcrnnModelInfo *info, const Variant *v) {
  if (v->acrnn_text)
    return g_strdup(v->acrnn_text);
  char *json = acrnn_model_info_to_json(info);
  if (v->meta_key == NULL)
    return json;
  JsonParser *p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, json, -1, NULL));
  g_free(json);
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  if (v->meta_value == NULL) {
    json_object_remove_member(o, v->meta_key);
  } else {
    JsonNode *n = json_from_string(v->meta_value, NULL);
    g_assert_nonnull(n);
    json_object_set_member(o, v->meta_key, n);
  }
  json = json_to_string(json_parser_get_root(p), FALSE);
  g_object_unref(p);
  return json;
}

/* Writes a model of net (info's labels) with the departures of v. */
static char *write_variant(const char *name, AcrnnNet *net,
                           const AcrnnModelInfo *info_in, const Variant *v) {
  AcrnnModelInfo info;
  make_info(&info, v->n_labels ? v->n_labels : N_LABELS, "rnn");
  info.attention = info_in->attention;
  size_t n = acrnn_net_n_tensors(net);
  AcrnnStEntry *e = g_new0(AcrnnStEntry, n + 2);
  GPtrArray *bufs = g_ptr_array_new_with_free_func(g_free);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    if (v->skip && strcmp(v->skip, t->name) == 0)
      continue;
    AcrnnStEntry *x = &e[k++];
    x->name = t->name;
    x->dtype = ACRNN_ST_F32;
    x->ndim = t->ndim;
    for (int d = 0; d < t->ndim; d++)
      x->shape[d] = t->shape[d];
    float *data =
        g_memdup2(acrnn_net_tensor_data(net, t), t->numel * sizeof(float));
    g_ptr_array_add(bufs, data);
    x->data = data;
    if (v->poison && strcmp(v->poison, t->name) == 0)
      data[3] = v->poison_value;
    if (v->reshape && strcmp(v->reshape, t->name) == 0) {
      x->ndim = v->reshape_ndim;
      size_t numel = 1;
      for (int d = 0; d < x->ndim; d++) {
        x->shape[d] = v->reshape_to[d];
        numel *= (size_t)v->reshape_to[d];
      }
      float *r = g_new0(float, numel);
      g_ptr_array_add(bufs, r);
      x->data = r;
    }
    if (v->retype && strcmp(v->retype, t->name) == 0) {
      x->dtype = v->retype_dtype;
      x->data = g_malloc0(t->numel * acrnn_st_dtype_size(x->dtype));
      g_ptr_array_add(bufs, (gpointer)x->data);
    } else if (v->half) {
      uint16_t *h = g_new(uint16_t, t->numel);
      for (size_t j = 0; j < t->numel; j++)
        h[j] = v->half == 1 ? to_f16(data[j]) : to_bf16(data[j]);
      g_ptr_array_add(bufs, h);
      x->dtype = v->half == 1 ? ACRNN_ST_F16 : ACRNN_ST_BF16;
      x->data = h;
    }
  }
  static const float three[3] = {1, 2, 3};
  if (v->extra)
    e[k++] = (AcrnnStEntry){v->extra, ACRNN_ST_F32, 1, {3}, three};
  static const int64_t tracked = 17;
  static const double tracked_f64 = 17;
  if (v->batches_tracked_dtype) {
    gboolean i64 = strcmp(v->batches_tracked_dtype, "I64") == 0;
    e[k++] = (AcrnnStEntry){"bn.2.num_batches_tracked",
                            i64 ? ACRNN_ST_I64 : ACRNN_ST_F64,
                            0,
                            {0},
                            i64 ? (const void *)&tracked
                                : (const void *)&tracked_f64};
  }

  char *json = acrnn_json(&info, v);
  const char *meta_ok[] = {"format", "pt", "acrnn", json, NULL};
  const char *meta_no[] = {"format", "pt", NULL};
  char *path = tmp_path(name);
  int fd = g_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  g_assert_cmpint(fd, >=, 0);
  GError *error = NULL;
  g_assert_true(acrnn_st_write_fd(fd, path, e, k,
                                  v->no_metadata ? NULL
                                  : v->no_acrnn  ? meta_no
                                                 : meta_ok,
                                  &error));
  g_assert_no_error(error);
  close(fd);
  g_free(json);
  g_ptr_array_unref(bufs);
  g_free(e);
  acrnn_model_info_clear(&info);
  return path;
}

/* Loading path fails with code, a message starting with the path and
 * containing each of the NULL-terminated strings, and info left cleared. */
static void expect_load_error_v(const char *path, int code,
                                const char *const *what) {
  GError *error = NULL;
  AcrnnModelInfo info;
  info.labels = (char **)0x1; /* must be overwritten */
  AcrnnNet *net = acrnn_model_load(path, &info, &error);
  g_assert_null(net);
  g_assert_error(error, ACRNN_MODEL_ERROR, code);
  if (g_test_verbose())
    g_printerr("%s\n", error->message);
  char *prefix = g_strconcat(path, ": ", NULL);
  g_assert_true(g_str_has_prefix(error->message, prefix));
  g_free(prefix);
  for (int i = 0; what[i]; i++)
    if (strstr(error->message, what[i]) == NULL)
      g_error("message \"%s\" does not mention \"%s\"", error->message,
              what[i]);
  g_error_free(error);
  g_assert_null(info.labels);
  g_assert_cmpint(info.n_labels, ==, 0);
}

#define expect_load_error(path, code, ...)                                     \
  expect_load_error_v(path, code, (const char *const[]){__VA_ARGS__, NULL})

/* A valid small model (rnn attention) and its net. */
typedef struct {
  AcrnnModelInfo info;
  AcrnnNet *net;
  char *path;
} Fixture;

static void fixture_setup(Fixture *fx, gconstpointer att) {
  make_info(&fx->info, N_LABELS, att ? att : "rnn");
  fx->net = make_net(&fx->info, 9);
  fx->path = tmp_path("good.safetensors");
  g_assert_true(acrnn_model_save(fx->path, fx->net, &fx->info, NULL));
}

static void fixture_teardown(Fixture *fx, gconstpointer unused) {
  g_unlink(fx->path);
  g_free(fx->path);
  acrnn_net_free(fx->net);
  acrnn_model_info_clear(&fx->info);
}

static void check_variant(Fixture *fx, const Variant *v, int code,
                          const char *const *what) {
  char *path = write_variant("variant.safetensors", fx->net, &fx->info, v);
  expect_load_error_v(path, code, what);
  g_unlink(path);
  g_free(path);
}

#define CHECK_VARIANT(fx, code, ...)                                           \
  check_variant(fx, &(Variant){__VA_ARGS__}, code, what)

/* The unmodified writer gives a loadable model (the variants below fail
 * because of their one departure only). */
static void test_variant_baseline(Fixture *fx, gconstpointer unused) {
  char *path =
      write_variant("plain.safetensors", fx->net, &fx->info, &(Variant){0});
  GError *error = NULL;
  AcrnnNet *net = acrnn_model_load(path, NULL, &error);
  g_assert_no_error(error);
  assert_nets_equal(fx->net, net);
  acrnn_net_free(net);
  g_unlink(path);
  g_free(path);
}

static void test_half_precision(Fixture *fx, gconstpointer unused) {
  for (int half = 1; half <= 2; half++) {
    char *path = write_variant("half.safetensors", fx->net, &fx->info,
                               &(Variant){.half = half});
    GError *error = NULL;
    AcrnnNet *net = acrnn_model_load(path, NULL, &error);
    g_assert_no_error(error);
    for (size_t i = 0; i < acrnn_net_n_tensors(net); i++) {
      const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
      const float *want = acrnn_net_tensor_data(fx->net, t);
      const float *got = acrnn_net_tensor_data(net, t);
      for (size_t j = 0; j < t->numel; j++) {
        float w = half == 1 ? acrnn_st_f16_to_float(to_f16(want[j]))
                            : acrnn_st_bf16_to_float(to_bf16(want[j]));
        g_assert_cmpfloat(got[j], ==, w);
        g_assert_cmpfloat(fabsf(got[j] - want[j]), <=,
                          fabsf(want[j]) * (half == 1 ? 1e-3f : 1e-2f) + 1e-4f);
      }
    }
    acrnn_net_free(net);
    g_unlink(path);
    g_free(path);
  }
}

static void test_batches_tracked(Fixture *fx, gconstpointer unused) {
  char *path = write_variant("bt.safetensors", fx->net, &fx->info,
                             &(Variant){.batches_tracked_dtype = "I64"});
  GError *error = NULL;
  AcrnnNet *net = acrnn_model_load(path, NULL, &error);
  g_assert_no_error(error);
  assert_nets_equal(fx->net, net);
  acrnn_net_free(net);
  g_unlink(path);
  g_free(path);
  const char *what[] = {"bn.2.num_batches_tracked", "F64", "I64", NULL};
  CHECK_VARIANT(fx, ACRNN_MODEL_ERROR_CONTENT, .batches_tracked_dtype = "F64");
}

static void test_missing_tensor(Fixture *fx, gconstpointer unused) {
  const char *what[] = {"tensor gru.bias_hh_l1_reverse is missing",
                        "expected shape [768]", NULL};
  CHECK_VARIANT(fx, ACRNN_MODEL_ERROR_CONTENT,
                .skip = "gru.bias_hh_l1_reverse");
  const char *what2[] = {"attention.score.weight is missing", "\"rnn\"", NULL};
  check_variant(fx, &(Variant){.skip = "attention.score.weight"},
                ACRNN_MODEL_ERROR_CONTENT, what2);
}

static void test_extra_tensor(Fixture *fx, gconstpointer unused) {
  const char *what[] = {"unexpected tensor bogus.weight", NULL};
  CHECK_VARIANT(fx, ACRNN_MODEL_ERROR_CONTENT, .extra = "bogus.weight");
  /* A cnn attention tensor in an rnn model. */
  const char *what2[] = {"unexpected tensor cnn_attention.bias", NULL};
  check_variant(fx, &(Variant){.extra = "cnn_attention.bias"},
                ACRNN_MODEL_ERROR_CONTENT, what2);
}

static void test_wrong_shape(Fixture *fx, gconstpointer unused) {
  const char *what[] = {
      "tensor conv.3.weight has shape [64, 32, 3, 1], expected [64, 64, 3, 1]",
      NULL};
  CHECK_VARIANT(fx, ACRNN_MODEL_ERROR_CONTENT, .reshape = "conv.3.weight",
                .reshape_ndim = 4, .reshape_to = {64, 32, 3, 1});
  /* Same number of elements, different rank. */
  const char *what2[] = {"tensor bn.1.bias has shape [1, 32], expected [32]",
                         NULL};
  check_variant(fx,
                &(Variant){.reshape = "bn.1.bias",
                           .reshape_ndim = 2,
                           .reshape_to = {1, 32}},
                ACRNN_MODEL_ERROR_CONTENT, what2);
}

static void test_wrong_dtype(Fixture *fx, gconstpointer unused) {
  const char *what[] = {"tensor conv.0.bias has dtype I32, expected F32", NULL};
  CHECK_VARIANT(fx, ACRNN_MODEL_ERROR_CONTENT, .retype = "conv.0.bias",
                .retype_dtype = ACRNN_ST_I32);
  const char *what2[] = {"classifier.weight has dtype F64", NULL};
  check_variant(
      fx,
      &(Variant){.retype = "classifier.weight", .retype_dtype = ACRNN_ST_F64},
      ACRNN_MODEL_ERROR_CONTENT, what2);
}

static void test_nan_weight(Fixture *fx, gconstpointer unused) {
  const char *what[] = {"tensor gru.weight_hh_l0 has a NaN value at index 3",
                        NULL};
  CHECK_VARIANT(fx, ACRNN_MODEL_ERROR_CONTENT, .poison = "gru.weight_hh_l0",
                .poison_value = NAN);
}

static void test_inf_weight(Fixture *fx, gconstpointer unused) {
  const char *what[] = {"tensor bn.5.running_mean has an Inf value at index 3",
                        NULL};
  CHECK_VARIANT(fx, ACRNN_MODEL_ERROR_CONTENT, .poison = "bn.5.running_mean",
                .poison_value = -INFINITY);
  const char *what2[] = {"bn.0.running_var has the negative value", NULL};
  check_variant(fx,
                &(Variant){.poison = "bn.0.running_var", .poison_value = -1},
                ACRNN_MODEL_ERROR_CONTENT, what2);
}

static void test_labels_mismatch(Fixture *fx, gconstpointer unused) {
  const char *what[] = {"3 labels", "classifier.weight has 5 rows", NULL};
  CHECK_VARIANT(fx, ACRNN_MODEL_ERROR_CONTENT, .n_labels = 3);
  const char *what2[] = {"7 labels", "classifier.weight has 5 rows", NULL};
  check_variant(fx, &(Variant){.n_labels = 7}, ACRNN_MODEL_ERROR_CONTENT,
                what2);
}

static void test_missing_acrnn_metadata(Fixture *fx, gconstpointer unused) {
  const char *what[] = {"no \"acrnn\" entry", NULL};
  CHECK_VARIANT(fx, ACRNN_MODEL_ERROR_CONTENT, .no_acrnn = TRUE);
  check_variant(fx, &(Variant){.no_metadata = TRUE}, ACRNN_MODEL_ERROR_CONTENT,
                what);
}

static void test_bad_acrnn_metadata(Fixture *fx, gconstpointer unused) {
  static const struct {
    const char *key, *value, *what;
  } cases[] = {
      {"version", NULL, "no \"version\" field"},
      {"version", "2", "version 2 is not supported"},
      {"version", "\"1\"", "\"version\" is not an integer"},
      {"labels", NULL, "no \"labels\" array"},
      {"labels", "\"dog\"", "no \"labels\" array"},
      {"labels", "[]", "0 labels"},
      {"labels", "[\"a\", 2, \"c\", \"d\", \"e\"]", "label 1 is not a string"},
      {"sample_rate", NULL, "no \"sample_rate\" field"},
      {"hop", "512.5", "\"hop\" is not an integer"},
      {"fmin", "\"low\"", "\"fmin\" is not a finite number"},
      {"fmax", NULL, "no \"fmax\" field"},
      {"segment_frames", NULL, "no \"segment_frames\" field"},
      {"segment_hop", "0", "segment_hop = 0"},
      {"segment_hop", "37", "segment_hop = 37"},
      {"mean", NULL, "no \"mean\" field"},
      {"mean", "[1]", "\"mean\" is not an array of 2"},
      {"std", "[1, \"x\"]", "\"std\" is not an array of 2"},
      {"std", "[1, 0]", "std[1] = 0"},
      {"std", "[-2, 1]", "std[0] = -2"},
      {"attention", NULL, "no \"attention\" string"},
      {"bands", "48", "invalid network"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *what[] = {cases[i].what, NULL};
    check_variant(
        fx, &(Variant){.meta_key = cases[i].key, .meta_value = cases[i].value},
        ACRNN_MODEL_ERROR_CONTENT, what);
  }
  const char *what[] = {"\"acrnn\" metadata entry is not valid JSON", NULL};
  CHECK_VARIANT(fx, ACRNN_MODEL_ERROR_CONTENT, .acrnn_text = "{\"version\":");
  const char *what2[] = {"\"acrnn\" metadata entry is not a JSON object", NULL};
  check_variant(fx, &(Variant){.acrnn_text = "[1, 2]"},
                ACRNN_MODEL_ERROR_CONTENT, what2);
}

static void test_bad_attention(Fixture *fx, gconstpointer unused) {
  const char *bad[] = {"\"cnn:3\"", "\"RNN\"", "\"cnn:\"", "\"\"", "4"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    const char *what[] = {"attention", NULL};
    CHECK_VARIANT(fx, ACRNN_MODEL_ERROR_CONTENT, .meta_key = "attention",
                  .meta_value = bad[i]);
  }
  const char *what[] = {"attention \"cnn:3\"", "cnn:2, cnn:4", NULL};
  CHECK_VARIANT(fx, ACRNN_MODEL_ERROR_CONTENT, .meta_key = "attention",
                .meta_value = "\"cnn:3\"");
  /* A valid attention that does not match the tensors. */
  const char *what2[] = {"tensor cnn_attention.weight is missing", NULL};
  check_variant(fx,
                &(Variant){.meta_key = "attention", .meta_value = "\"cnn:4\""},
                ACRNN_MODEL_ERROR_CONTENT, what2);
}

static void test_bad_feature_params(Fixture *fx, gconstpointer unused) {
  static const struct {
    const char *key, *value, *what;
  } cases[] = {
      {"n_fft", "1000", "n_fft = 1000"},
      {"hop", "0", "hop = 0"},
      {"sample_rate", "-44100", "sample_rate = -44100"},
      {"fmax", "30000", "fmax = 30000"},
      {"fmin", "0", "fmin = 0"},
      {"delta_width", "4", "delta_width = 4"},
      {"filterbank", "\"Mel\"", "filterbank \"Mel\""},
      {"filterbank", "1", "\"filterbank\" is not a string"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *what[] = {cases[i].what, "expected", NULL};
    check_variant(
        fx, &(Variant){.meta_key = cases[i].key, .meta_value = cases[i].value},
        ACRNN_MODEL_ERROR_CONTENT, what);
  }
}

/* ---- byte-level corruption of a saved model ---- */

static char *read_all(const char *path, gsize *len) {
  char *bytes;
  g_assert_true(g_file_get_contents(path, &bytes, len, NULL));
  return bytes;
}

static uint64_t header_len(const char *bytes) {
  uint64_t h = 0;
  for (int i = 7; i >= 0; i--)
    h = (h << 8) | (guint8)bytes[i];
  return h;
}

static void test_truncated(Fixture *fx, gconstpointer unused) {
  gsize len;
  char *bytes = read_all(fx->path, &len);
  uint64_t h = header_len(bytes);
  gsize cuts[] = {0,       7,      8, 100, 8 + h - 1, 8 + h, 8 + h + 1000,
                  len / 2, len - 1};
  char *path = tmp_path("truncated.safetensors");
  for (size_t i = 0; i < G_N_ELEMENTS(cuts); i++) {
    g_assert_true(g_file_set_contents(path, bytes, (gssize)cuts[i], NULL));
    const char *what = cuts[i] < 8       ? "too short"
                       : cuts[i] < 8 + h ? "larger than the rest of the file"
                                         : "outside the file";
    expect_load_error(path, ACRNN_MODEL_ERROR_FORMAT, what);
  }
  g_unlink(path);
  g_free(path);
  g_free(bytes);
}

/* Writes bytes with the 8-byte length field replaced by h. */
static void test_header_length_larger(Fixture *fx, gconstpointer unused) {
  gsize len;
  char *bytes = read_all(fx->path, &len);
  uint64_t h = len; /* more than the file holds after the length field */
  for (int i = 0; i < 8; i++)
    bytes[i] = (char)(guint8)(h >> (8 * i));
  char *path = tmp_path("hlen.safetensors");
  g_assert_true(g_file_set_contents(path, bytes, (gssize)len, NULL));
  expect_load_error(path, ACRNN_MODEL_ERROR_FORMAT, "header length",
                    "is larger than the rest of the file");
  g_unlink(path);
  g_free(path);
  g_free(bytes);
}

static void test_header_length_zero(Fixture *fx, gconstpointer unused) {
  gsize len;
  char *bytes = read_all(fx->path, &len);
  memset(bytes, 0, 8);
  char *path = tmp_path("hzero.safetensors");
  g_assert_true(g_file_set_contents(path, bytes, (gssize)len, NULL));
  expect_load_error(path, ACRNN_MODEL_ERROR_FORMAT, "header length is 0");
  g_unlink(path);
  g_free(path);
  g_free(bytes);
}

/* Replaces the header by text, keeping the data. */
static char *with_header(Fixture *fx, const char *text, gsize tlen) {
  gsize len;
  char *bytes = read_all(fx->path, &len);
  uint64_t h = header_len(bytes);
  GString *s = g_string_new(NULL);
  for (int i = 0; i < 8; i++)
    g_string_append_c(s, (char)(guint8)((uint64_t)tlen >> (8 * i)));
  g_string_append_len(s, text, (gssize)tlen);
  g_string_append_len(s, bytes + 8 + h, (gssize)(len - 8 - h));
  char *path = tmp_path("header.safetensors");
  g_assert_true(g_file_set_contents(path, s->str, (gssize)s->len, NULL));
  g_string_free(s, TRUE);
  g_free(bytes);
  return path;
}

/* The header JSON of the fixture with fn applied to it, same data. */
static char *with_edited_header(Fixture *fx, void (*fn)(JsonObject *)) {
  gsize len;
  char *bytes = read_all(fx->path, &len);
  uint64_t h = header_len(bytes);
  JsonParser *p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, bytes + 8, (gssize)h, NULL));
  fn(json_node_get_object(json_parser_get_root(p)));
  char *text = json_to_string(json_parser_get_root(p), FALSE);
  char *path = with_header(fx, text, strlen(text));
  g_free(text);
  g_object_unref(p);
  g_free(bytes);
  return path;
}

static void test_bad_json(Fixture *fx, gconstpointer unused) {
  gsize len;
  char *bytes = read_all(fx->path, &len);
  uint64_t h = header_len(bytes);
  char *text = g_strndup(bytes + 8, h);
  text[h / 2] = '@'; /* break it in the middle */
  char *path = with_header(fx, text, h);
  expect_load_error(path, ACRNN_MODEL_ERROR_FORMAT,
                    "the header is not valid JSON");
  g_unlink(path);
  g_free(path);
  g_free(text);
  g_free(bytes);
}

static void test_header_not_object(Fixture *fx, gconstpointer unused) {
  const char *text = "[{\"dtype\": \"F32\"}]     ";
  char *path = with_header(fx, text, strlen(text));
  expect_load_error(path, ACRNN_MODEL_ERROR_FORMAT,
                    "the header is an array, expected a JSON object");
  g_unlink(path);
  g_free(path);
}

static void set_offsets(JsonObject *root, const char *name, gint64 a,
                        gint64 b) {
  JsonArray *n = json_array_new();
  json_array_add_int_element(n, a);
  json_array_add_int_element(n, b);
  json_object_set_array_member(json_object_get_object_member(root, name),
                               "data_offsets", n);
}

static void get_offsets(JsonObject *root, const char *name, gint64 *a,
                        gint64 *b) {
  JsonArray *o = json_object_get_array_member(
      json_object_get_object_member(root, name), "data_offsets");
  *a = json_array_get_int_element(o, 0);
  *b = json_array_get_int_element(o, 1);
}

static void edit_outside(JsonObject *root) {
  gint64 a, b;
  get_offsets(root, "classifier.bias", &a, &b);
  set_offsets(root, "classifier.bias", a + 1000000, b + 1000000);
}

static void edit_overlap(JsonObject *root) {
  gint64 a, b;
  get_offsets(root, "conv.0.bias", &a, &b); /* [32] floats, early */
  set_offsets(root, "bn.0.weight", a, b);   /* [32] floats, later */
}

static void edit_out_of_order(JsonObject *root) {
  gint64 a, b;
  get_offsets(root, "conv.1.bias", &a, &b);
  set_offsets(root, "conv.1.bias", b, a);
}

static void edit_size(JsonObject *root) {
  gint64 a, b;
  get_offsets(root, "conv.1.bias", &a, &b);
  set_offsets(root, "conv.1.bias", a, b - 4);
}

static void test_offsets_outside(Fixture *fx, gconstpointer unused) {
  char *path = with_edited_header(fx, edit_outside);
  expect_load_error(path, ACRNN_MODEL_ERROR_FORMAT, "classifier.bias",
                    "outside the file");
  g_unlink(path);
  g_free(path);
}

static void test_offsets_overlap(Fixture *fx, gconstpointer unused) {
  char *path = with_edited_header(fx, edit_overlap);
  expect_load_error(path, ACRNN_MODEL_ERROR_FORMAT, "conv.0.bias",
                    "bn.0.weight", "overlap");
  g_unlink(path);
  g_free(path);
}

static void test_offsets_out_of_order(Fixture *fx, gconstpointer unused) {
  char *path = with_edited_header(fx, edit_out_of_order);
  expect_load_error(path, ACRNN_MODEL_ERROR_FORMAT, "conv.1.bias",
                    "out of order");
  g_unlink(path);
  g_free(path);
  path = with_edited_header(fx, edit_size);
  expect_load_error(path, ACRNN_MODEL_ERROR_FORMAT, "conv.1.bias",
                    "needs 128 bytes", "span 124 bytes");
  g_unlink(path);
  g_free(path);
}

/* Random byte changes in the header and the first data bytes never crash:
 * each load either fails with a model error naming the file or succeeds. */
static void test_random_corruption(Fixture *fx, gconstpointer unused) {
  gsize len;
  char *bytes = read_all(fx->path, &len);
  uint64_t h = header_len(bytes);
  char *path = tmp_path("fuzz.safetensors");
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 1234);
  int failed = 0;
  for (int iter = 0; iter < 60; iter++) {
    char *copy = g_memdup2(bytes, len);
    int flips = 1 + (int)acrnn_rng_below(&rng, 4);
    for (int k = 0; k < flips; k++) {
      size_t at = acrnn_rng_below(&rng, (uint32_t)(8 + h + 64));
      copy[at] = (char)acrnn_rng_below(&rng, 256);
    }
    g_assert_true(g_file_set_contents(path, copy, (gssize)len, NULL));
    GError *error = NULL;
    AcrnnModelInfo info;
    AcrnnNet *net = acrnn_model_load(path, &info, &error);
    if (net == NULL) {
      g_assert_true(error != NULL && error->domain == ACRNN_MODEL_ERROR);
      g_assert_true(g_str_has_prefix(error->message, path));
      g_error_free(error);
      failed++;
    } else {
      g_assert_no_error(error);
      acrnn_net_free(net);
      acrnn_model_info_clear(&info);
    }
    g_free(copy);
  }
  g_assert_cmpint(failed, >, 0);
  g_unlink(path);
  g_free(path);
  g_free(bytes);
}

static void test_nonexistent_file(void) {
  char *path = tmp_path("does-not-exist.safetensors");
  expect_load_error(path, ACRNN_MODEL_ERROR_IO, "cannot open",
                    "No such file or directory");
  g_free(path);
}

static void test_directory_path(void) {
  expect_load_error(tmpdir, ACRNN_MODEL_ERROR_IO, "is a directory",
                    "expected a safetensors model file");
}

static void test_not_safetensors(void) {
  char *path = tmp_path("clip.wav");
  const char riff[] = "RIFF\x24\x08\0\0WAVEfmt \x10\0\0\0\1\0\1\0";
  g_assert_true(g_file_set_contents(path, riff, sizeof riff, NULL));
  expect_load_error(path, ACRNN_MODEL_ERROR_FORMAT, "header length");
  g_unlink(path);
  g_free(path);
}

#define ADD_FX(name, fn, att)                                                  \
  g_test_add(name, Fixture, att, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp("acrnn-model-XXXXXX", NULL);
  g_assert_nonnull(tmpdir);
  g_test_add_func("/model/round-trip/rnn", test_round_trip_rnn);
  g_test_add_func("/model/round-trip/none", test_round_trip_none);
  g_test_add_func("/model/round-trip/cnn2", test_round_trip_cnn2);
  g_test_add_func("/model/round-trip/cnn4", test_round_trip_cnn4);
  g_test_add_func("/model/round-trip/cnn6", test_round_trip_cnn6);
  g_test_add_func("/model/round-trip/cnn8", test_round_trip_cnn8);
  g_test_add_func("/model/round-trip/full-size", test_round_trip_full_size);
  g_test_add_func("/model/file-layout", test_file_layout);
  g_test_add_func("/model/info", test_info_basics);
  g_test_add_func("/model/default-path", test_default_path);
  g_test_add_func("/model/checkpoint-extras", test_checkpoint_extras);
  g_test_add_func("/model/save/failures", test_save_failures);
  g_test_add_func("/model/save/unwritable-dir", test_save_unwritable_dir);
  g_test_add_func("/model/save/replaces-atomically",
                  test_save_replaces_atomically);
  ADD_FX("/model/load/baseline", test_variant_baseline, NULL);
  ADD_FX("/model/load/half-precision", test_half_precision, NULL);
  ADD_FX("/model/load/num-batches-tracked", test_batches_tracked, NULL);
  ADD_FX("/model/corrupt/truncated", test_truncated, NULL);
  ADD_FX("/model/corrupt/header-length-larger", test_header_length_larger,
         NULL);
  ADD_FX("/model/corrupt/header-length-zero", test_header_length_zero, NULL);
  ADD_FX("/model/corrupt/bad-json", test_bad_json, NULL);
  ADD_FX("/model/corrupt/header-not-object", test_header_not_object, NULL);
  ADD_FX("/model/corrupt/missing-tensor", test_missing_tensor, NULL);
  ADD_FX("/model/corrupt/extra-tensor", test_extra_tensor, NULL);
  ADD_FX("/model/corrupt/wrong-shape", test_wrong_shape, NULL);
  ADD_FX("/model/corrupt/wrong-dtype", test_wrong_dtype, NULL);
  ADD_FX("/model/corrupt/offsets-outside", test_offsets_outside, NULL);
  ADD_FX("/model/corrupt/offsets-overlap", test_offsets_overlap, NULL);
  ADD_FX("/model/corrupt/offsets-out-of-order", test_offsets_out_of_order,
         NULL);
  ADD_FX("/model/corrupt/nan-weight", test_nan_weight, NULL);
  ADD_FX("/model/corrupt/inf-weight", test_inf_weight, NULL);
  ADD_FX("/model/corrupt/labels-mismatch", test_labels_mismatch, NULL);
  ADD_FX("/model/corrupt/missing-acrnn-metadata", test_missing_acrnn_metadata,
         NULL);
  ADD_FX("/model/corrupt/bad-acrnn-metadata", test_bad_acrnn_metadata, NULL);
  ADD_FX("/model/corrupt/bad-attention", test_bad_attention, NULL);
  ADD_FX("/model/corrupt/bad-feature-params", test_bad_feature_params, NULL);
  ADD_FX("/model/corrupt/random-bytes", test_random_corruption, NULL);
  g_test_add_func("/model/corrupt/nonexistent-file", test_nonexistent_file);
  g_test_add_func("/model/corrupt/directory", test_directory_path);
  g_test_add_func("/model/corrupt/not-safetensors", test_not_safetensors);
  int rc = g_test_run();
  g_rmdir(tmpdir);
  g_free(tmpdir);
  return rc;
}
