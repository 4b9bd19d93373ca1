/* test_train_smoothing.c - acrnn-train --label-smoothing E: the target
 * vector (after mixup) is (1 - E) t + E / K, E = 0 changes nothing bit for
 * bit, a short run trains with it (its checkpoint keeps the option), and
 * out-of-range values are refused naming the option. The loss gradient
 * with smoothed targets is tests/nn/test_loss_smoothing.c's. */
#include "checkpoint_state.h"
#include "label_smoothing.h"
#include "synth_dataset.h"
#include <acrnn/acrnn.h>
#include <math.h>
#include <string.h>

static const char *train_exe;
static char *tmp, *data, *folds_csv;

static void test_target_vector(void) {
  enum { N = 3, K = 4 };
  /* one-hot rows, and a mixup of classes 0 and 2 (lambda 0.25) */
  float y[N * K] = {0, 1, 0, 0, 0, 0, 0, 1, 0.25f, 0, 0.75f, 0};
  float before[N * K];
  memcpy(before, y, sizeof y);
  tr_label_smooth(y, N, K, 0.0);
  g_assert_cmpmem(y, sizeof y, before, sizeof before);
  tr_label_smooth(y, N, K, 0.2);
  for (int i = 0; i < N * K; i++)
    g_assert_cmpfloat(y[i], ==, 0.8f * before[i] + 0.05f);
  g_assert_cmpfloat(y[1], ==, 0.85f);
  g_assert_cmpfloat(y[0], ==, 0.05f);
  g_assert_cmpfloat(fabsf(y[8] - 0.25f), <, 1e-7); /* 0.8 * 0.25 + 0.05 */
  for (int r = 0; r < N; r++) {
    float s = 0;
    for (int k = 0; k < K; k++)
      s += y[r * K + k];
    g_assert_cmpfloat(fabsf(s - 1.0f), <, 1e-6);
  }
}

/* Runs acrnn-train train with the synthetic dataset and extra options;
 * the exit status, stderr in *err. */
static int train(const char *out, const char *const *extra, char **err) {
  GPtrArray *a = g_ptr_array_new();
  g_ptr_array_add(a, (char *)train_exe);
  g_ptr_array_add(a, "train");
  for (int i = 0; synth_fast_options[i]; i++)
    g_ptr_array_add(a, (char *)synth_fast_options[i]);
  const char *base[] = {"--data",       data, "--folds-csv", folds_csv,
                        "--val-fold",   "3",  "--epochs",    "2",
                        "--batch-size", "4",  "--seed",      "5",
                        "--out",        out,  NULL};
  for (int i = 0; base[i]; i++)
    g_ptr_array_add(a, (char *)base[i]);
  for (int i = 0; extra && extra[i]; i++)
    g_ptr_array_add(a, (char *)extra[i]);
  g_ptr_array_add(a, NULL);
  char *e = NULL;
  int rc = synth_run((char **)a->pdata, NULL, &e);
  if (err)
    *err = e;
  else
    g_free(e);
  g_ptr_array_unref(a);
  return rc;
}

/* (copied from test_train_resume.c) TRUE when both models hold
 * bit-identical parameters and buffers. */
static gboolean same_weights(const char *a, const char *b) {
  AcrnnModelInfo ia, ib;
  GError *error = NULL;
  AcrnnNet *na = acrnn_model_load(a, &ia, &error);
  g_assert_no_error(error);
  AcrnnNet *nb = acrnn_model_load(b, &ib, &error);
  g_assert_no_error(error);
  gboolean same = memcmp(acrnn_net_params(na), acrnn_net_params(nb),
                         acrnn_net_n_params(na) * sizeof(float)) == 0 &&
                  memcmp(acrnn_net_buffers(na), acrnn_net_buffers(nb),
                         acrnn_net_n_buffers(na) * sizeof(float)) == 0;
  acrnn_net_free(na);
  acrnn_net_free(nb);
  acrnn_model_info_clear(&ia);
  acrnn_model_info_clear(&ib);
  return same;
}

static char *path(const char *name) {
  return g_build_filename(tmp, name, NULL);
}

static void test_training_run(void) {
  char *plain = path("plain.safetensors"), *zero = path("zero.safetensors"),
       *smooth = path("smooth.safetensors");
  char *plain_last = path("plain.last.safetensors"),
       *zero_last = path("zero.last.safetensors"),
       *smooth_last = path("smooth.last.safetensors"),
       *smooth_ckpt = path("smooth.ckpt.safetensors");
  g_assert_cmpint(train(plain, NULL, NULL), ==, 0);
  const char *e0[] = {"--label-smoothing", "0", NULL};
  g_assert_cmpint(train(zero, e0, NULL), ==, 0);
  g_assert_true(same_weights(plain_last, zero_last));
  const char *e2[] = {"--label-smoothing", "0.2", NULL};
  g_assert_cmpint(train(smooth, e2, NULL), ==, 0);
  g_assert_false(same_weights(plain_last, smooth_last));
  /* the checkpoint keeps the option (--resume applies it) */
  GError *error = NULL;
  char *opts = tr_checkpoint_read_options(smooth_ckpt, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(opts, "\"label-smoothing\":0.2"));
  g_free(opts);
  g_free(plain);
  g_free(zero);
  g_free(smooth);
  g_free(plain_last);
  g_free(zero_last);
  g_free(smooth_last);
  g_free(smooth_ckpt);
}

static void test_refused(void) {
  const char *bad[] = {"1", "-0.1", "nan", NULL};
  for (int i = 0; bad[i]; i++) {
    char *out = path("bad.safetensors"), *err = NULL;
    const char *e[] = {"--label-smoothing", bad[i], NULL};
    g_assert_cmpint(train(out, e, &err), ==, 1);
    g_assert_nonnull(strstr(err, "--label-smoothing"));
    g_assert_nonnull(strstr(err, "expected a value in [0, 1)"));
    g_free(err);
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    g_free(out);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  train_exe = synth_train_exe(argc, argv, "test_train_smoothing");
  if (!train_exe)
    return 1;
  tmp = g_dir_make_tmp("acrnn-train-smoothing-XXXXXX", NULL);
  data = g_build_filename(tmp, "data", NULL);
  synth_folder_dataset(data, 3, 3);
  folds_csv = g_build_filename(data, "folds.csv", NULL);
  g_test_add_func("/train/smoothing/targets", test_target_vector);
  g_test_add_func("/train/smoothing/run", test_training_run);
  g_test_add_func("/train/smoothing/refused", test_refused);
  int rc = g_test_run();
  synth_remove_tree(tmp);
  g_free(tmp);
  g_free(data);
  g_free(folds_csv);
  return rc;
}
