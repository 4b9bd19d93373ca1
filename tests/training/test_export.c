/* test_export.c - "acrnn-train export": a small random model (and a
 * checkpoint) exported to F16, BF16 and F32 loads back with about half the
 * file size and logits close to the original's; bad input paths, options and
 * dtypes give clear errors and leave no output file. */
#include <acrnn/acrnn.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#define BANDS 32
#define FRAMES 36
#define N_LABELS 4

static const char *train_exe;
static char *tmp;

static char *path(const char *name) {
  return g_build_filename(tmp, name, NULL);
}

/* Runs acrnn-train export with the NULL-terminated args; returns the exit
 * status, stdout and stderr in *out and *err (g_free them). */
static int run_export(const char *const *args, char **out, char **err) {
  GPtrArray *a = g_ptr_array_new();
  g_ptr_array_add(a, (char *)train_exe);
  g_ptr_array_add(a, "export");
  for (int i = 0; args[i]; i++)
    g_ptr_array_add(a, (char *)args[i]);
  g_ptr_array_add(a, NULL);
  int status = 0;
  GError *error = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)a->pdata, NULL, G_SPAWN_DEFAULT,
                             NULL, NULL, out, err, &status, &error));
  g_assert_no_error(error);
  g_ptr_array_unref(a);
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return -1;
}

static AcrnnNet *make_model(AcrnnModelInfo *info) {
  acrnn_model_info_init(info);
  info->labels = g_new0(char *, N_LABELS + 1);
  for (int i = 0; i < N_LABELS; i++)
    info->labels[i] = g_strdup_printf("label %d", i);
  info->n_labels = N_LABELS;
  info->features.bands = BANDS;
  info->segment_frames = FRAMES;
  info->segment_hop = FRAMES / 2;
  info->mean[0] = -30.5f;
  info->std[1] = 0.25f;
  AcrnnNetConfig cfg;
  acrnn_model_info_net_config(info, &cfg);
  GError *error = NULL;
  AcrnnNet *net = acrnn_net_new(&cfg, &error);
  g_assert_no_error(error);
  acrnn_net_init_random(net, 99);
  /* running statistics away from their defaults */
  float *buf = acrnn_net_buffers(net);
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 5);
  for (size_t i = 0; i < acrnn_net_n_tensors(net); i++) {
    const AcrnnTensorInfo *t = acrnn_net_tensor(net, i);
    if (t->kind != ACRNN_TENSOR_BUFFER)
      continue;
    for (size_t k = 0; k < t->numel; k++)
      buf[t->offset + k] = g_str_has_suffix(t->name, "running_var")
                               ? 0.05f + acrnn_rng_uniform(&rng)
                               : 0.1f * (acrnn_rng_uniform(&rng) - 0.5f);
  }
  return net;
}

static goffset size_of(const char *p) {
  GStatBuf st;
  if (g_stat(p, &st) != 0)
    return -1;
  return (goffset)st.st_size;
}

/* Max |logit difference| between net and the model at p (loaded with the
 * library), and the largest |logit| of net. */
static float logit_diff(AcrnnNet *net, const char *p, float *big) {
  GError *error = NULL;
  AcrnnModelInfo info;
  AcrnnNet *loaded = acrnn_model_load(p, &info, &error);
  g_assert_no_error(error);
  g_assert_cmpint(info.n_labels, ==, N_LABELS);
  g_assert_cmpstr(info.labels[3], ==, "label 3");
  g_assert_cmpfloat(info.mean[0], ==, -30.5f);
  g_assert_cmpfloat(info.std[1], ==, 0.25f);
  size_t in = (size_t)2 * BANDS * FRAMES;
  float *x = g_new(float, 2 * in);
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 3);
  for (size_t i = 0; i < 2 * in; i++)
    x[i] = (float)acrnn_rng_normal(&rng);
  float *ref = g_memdup2(acrnn_net_forward(net, x, 2, FALSE, NULL),
                         2 * N_LABELS * sizeof(float));
  const float *got = acrnn_net_forward(loaded, x, 2, FALSE, NULL);
  float d = 0.0f;
  *big = 0.0f;
  for (int i = 0; i < 2 * N_LABELS; i++) {
    g_assert_true(isfinite(got[i]));
    d = fmaxf(d, fabsf(got[i] - ref[i]));
    *big = fmaxf(*big, fabsf(ref[i]));
  }
  g_free(x);
  g_free(ref);
  acrnn_net_free(loaded);
  acrnn_model_info_clear(&info);
  return d;
}

/* No file in tmp but those listed (NULL-terminated). */
static void assert_only_files(const char *const *names) {
  GDir *d = g_dir_open(tmp, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL) {
    gboolean listed = FALSE;
    for (int i = 0; names[i]; i++)
      listed |= strcmp(names[i], name) == 0;
    if (!listed)
      g_error("unexpected file %s in the output directory", name);
  }
  g_dir_close(d);
}

static void test_export_dtypes(void) {
  AcrnnModelInfo info;
  AcrnnNet *net = make_model(&info);
  char *in = path("in.safetensors");
  GError *error = NULL;
  g_assert_true(acrnn_model_save(in, net, &info, &error));
  g_assert_no_error(error);
  goffset s_in = size_of(in);
  goffset data =
      (goffset)(acrnn_net_n_params(net) + acrnn_net_n_buffers(net)) * 4;

  const char *dtypes[] = {"f16", "bf16", "f32"};
  const AcrnnModelDtype lib[] = {ACRNN_MODEL_DTYPE_F16, ACRNN_MODEL_DTYPE_BF16,
                                 ACRNN_MODEL_DTYPE_F32};
  /* a random network amplifies the rounding of its weights */
  const float tol[] = {3e-2f, 0.15f, 0.0f};
  for (int v = 0; v < 3; v++) {
    char *name = g_strdup_printf("out-%s.safetensors", dtypes[v]);
    char *out = path(name);
    const char *args[] = {"--model", in,        "--out", out,
                          "--dtype", dtypes[v], NULL};
    char *so = NULL, *se = NULL;
    int rc = run_export(args, &so, &se);
    if (rc != 0)
      g_error("export --dtype %s failed (%d): %s", dtypes[v], rc, se);
    g_assert_nonnull(strstr(so, out));
    goffset s_out = size_of(out);
    g_test_message("%s: %" G_GOFFSET_FORMAT " -> %" G_GOFFSET_FORMAT " bytes",
                   dtypes[v], s_in, s_out);
    if (v < 2) /* the tensor data halves, the header barely changes */
      g_assert_cmpint(ABS(s_in - s_out - data / 2), <, 1024);
    else
      g_assert_cmpint(s_out, ==, s_in);
    /* byte for byte what the library writes */
    char *ref = path("ref.safetensors");
    g_assert_true(acrnn_model_save_as(ref, net, &info, lib[v], &error));
    g_assert_no_error(error);
    gchar *a = NULL, *b = NULL;
    gsize la = 0, lb = 0;
    g_assert_true(g_file_get_contents(out, &a, &la, NULL));
    g_assert_true(g_file_get_contents(ref, &b, &lb, NULL));
    g_assert_cmpmem(a, la, b, lb);
    g_free(a);
    g_free(b);
    g_unlink(ref);
    g_free(ref);
    float big = 0.0f;
    float d = logit_diff(net, out, &big);
    g_test_message("%s: max |logit diff| %g (max |logit| %g)", dtypes[v], d,
                   big);
    g_assert_cmpfloat(big, >, 0.01f);
    g_assert_cmpfloat(d, <=, tol[v] * fmaxf(big, 1.0f));
    g_free(so);
    g_free(se);
    g_free(out);
    g_free(name);
  }
  const char *all[] = {"in.safetensors", "out-f16.safetensors",
                       "out-bf16.safetensors", "out-f32.safetensors", NULL};
  assert_only_files(all);
  for (int i = 0; all[i]; i++) {
    char *p = path(all[i]);
    g_unlink(p);
    g_free(p);
  }
  g_free(in);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
}

/* A checkpoint (extra tensors and metadata) exports to a plain model: the
 * network only, half the network's bytes; exporting in place works. */
static void test_export_checkpoint(void) {
  AcrnnModelInfo info;
  AcrnnNet *net = make_model(&info);
  char *ckpt = path("ckpt.safetensors");
  size_t n = acrnn_net_n_params(net);
  const AcrnnModelTensor mom = {"optimizer.momentum", acrnn_net_params(net), n};
  const AcrnnModelMeta meta = {"acrnn_checkpoint", "{\"epoch\": 3}"};
  const AcrnnModelExtras extras = {&mom, 1, &meta, 1};
  GError *error = NULL;
  g_assert_true(acrnn_model_save_full(ckpt, net, &info, &extras, &error));
  g_assert_no_error(error);
  goffset s_ckpt = size_of(ckpt);
  const char *args[] = {"--model", ckpt,  "--out",   ckpt,
                        "--dtype", "F16", "--quiet", NULL};
  char *so = NULL, *se = NULL;
  int rc = run_export(args, &so, &se);
  if (rc != 0)
    g_error("export of a checkpoint failed (%d): %s", rc, se);
  g_assert_cmpstr(so, ==, "");
  goffset data = (goffset)(n + acrnn_net_n_buffers(net)) * 4;
  /* the momentum (n floats) is gone, the network halves */
  g_assert_cmpint(ABS(s_ckpt - (goffset)n * 4 - data / 2 - size_of(ckpt)), <,
                  1024);
  AcrnnModelFile *f = acrnn_model_file_open(ckpt, &error);
  g_assert_no_error(error);
  g_assert_null(acrnn_model_file_meta(f, "acrnn_checkpoint"));
  acrnn_model_file_close(f);
  float big = 0.0f;
  float d = logit_diff(net, ckpt, &big);
  g_assert_cmpfloat(d, <=, 3e-2f * fmaxf(big, 1.0f));
  const char *all[] = {"ckpt.safetensors", NULL};
  assert_only_files(all);
  g_unlink(ckpt);
  g_free(so);
  g_free(se);
  g_free(ckpt);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
}

/* Errors: exit status 1, a message naming the problem, no output file. */
static void expect_failure(const char *const *args, const char *const *needles,
                           const char *out) {
  char *so = NULL, *se = NULL;
  int rc = run_export(args, &so, &se);
  g_test_message("stderr: %s", se);
  g_assert_cmpint(rc, ==, 1);
  g_assert_true(g_str_has_prefix(se, "acrnn-train export: "));
  for (int i = 0; needles[i]; i++)
    if (strstr(se, needles[i]) == NULL)
      g_error("expected \"%s\" in the error: %s", needles[i], se);
  if (out)
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  g_free(so);
  g_free(se);
}

static void test_export_errors(void) {
  char *missing = path("no-such-model.safetensors");
  char *out = path("never.safetensors");
  const char *a1[] = {"--model", missing, "--out", out, "--dtype", "f16", NULL};
  const char *n1[] = {missing, "cannot open", NULL};
  expect_failure(a1, n1, out);

  /* not a model */
  char *junk = path("junk.safetensors");
  g_assert_true(g_file_set_contents(junk, "hello, not a model", -1, NULL));
  const char *a2[] = {"--model", junk, "--out", out, NULL};
  const char *n2[] = {junk, NULL};
  expect_failure(a2, n2, out);

  /* a bad dtype, checked before anything is read */
  const char *a3[] = {"--model", junk, "--out", out, "--dtype", "f8", NULL};
  const char *n3[] = {"--dtype", "f8", "f16", "bf16", NULL};
  expect_failure(a3, n3, out);

  const char *a4[] = {"--out", out, NULL};
  const char *n4[] = {"--model", NULL};
  expect_failure(a4, n4, out);
  const char *a5[] = {"--model", junk, NULL};
  const char *n5[] = {"--out", NULL};
  expect_failure(a5, n5, NULL);
  const char *a6[] = {"--model", junk, "--out", out, "extra", NULL};
  const char *n6[] = {"extra", NULL};
  expect_failure(a6, n6, out);

  /* an output directory that does not exist */
  AcrnnModelInfo info;
  AcrnnNet *net = make_model(&info);
  char *in = path("good.safetensors");
  g_assert_true(acrnn_model_save(in, net, &info, NULL));
  char *bad_out = path("no-dir/out.safetensors");
  const char *a7[] = {"--model", in, "--out", bad_out, NULL};
  const char *n7[] = {bad_out, NULL};
  expect_failure(a7, n7, bad_out);

  const char *all[] = {"junk.safetensors", "good.safetensors", NULL};
  assert_only_files(all);
  g_unlink(junk);
  g_unlink(in);
  g_free(in);
  g_free(bad_out);
  g_free(junk);
  g_free(missing);
  g_free(out);
  acrnn_net_free(net);
  acrnn_model_info_clear(&info);
}

static void test_export_help(void) {
  const char *args[] = {"--help", NULL};
  char *so = NULL, *se = NULL;
  g_assert_cmpint(run_export(args, &so, &se), ==, 0);
  for (const char *s = "--model\0--out\0--dtype\0bf16\0checkpoint\0"; *s;
       s += strlen(s) + 1)
    if (strstr(so, s) == NULL)
      g_error("\"%s\" missing from export --help:\n%s", s, so);
  g_free(so);
  g_free(se);
  /* the command list mentions export */
  char *o2 = NULL, *e2 = NULL;
  char *argv[] = {(char *)train_exe, "--help", NULL};
  int status = 0;
  g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o2,
                             &e2, &status, NULL));
  g_assert_nonnull(strstr(o2, "export"));
  g_free(o2);
  g_free(e2);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  if (argc < 2) {
    g_printerr("usage: test_export PATH/TO/acrnn-train\n");
    return 1;
  }
  train_exe = argv[1];
  tmp = g_dir_make_tmp("acrnn-export-XXXXXX", NULL);
  g_assert_nonnull(tmp);
  g_test_add_func("/training/export/dtypes", test_export_dtypes);
  g_test_add_func("/training/export/checkpoint", test_export_checkpoint);
  g_test_add_func("/training/export/errors", test_export_errors);
  g_test_add_func("/training/export/help", test_export_help);
  int rc = g_test_run();
  g_rmdir(tmp);
  g_free(tmp);
  return rc;
}
