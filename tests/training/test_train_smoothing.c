/* test_train_smoothing.c - acrnn-train --label-smoothing E: the target
 * vector (after mixup) is (1 - E) t + E / K, E = 0 changes nothing bit for
 * bit, a short run trains with it (its checkpoint keeps the option), and
 * out-of-range values are refused naming the option. The loss gradient
 * with smoothed targets is tests/nn/test_loss_smoothing.c's. */
#include "checkpoint_state.h"
#include "label_smoothing.h"
#include "train_test_util.h"
#include <math.h>
#include <string.h>

static const char *data, *folds_csv;

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
  const char *base[] = {"--data",       data, "--folds-csv", folds_csv,
                        "--val-fold",   "3",  "--epochs",    "2",
                        "--batch-size", "4",  "--seed",      "5",
                        "--out",        out,  NULL};
  return tt_run("train", TT_FAST, base, extra, NULL, err);
}

static void test_training_run(void) {
  char *plain = tt_path("plain.safetensors"),
       *zero = tt_path("zero.safetensors"),
       *smooth = tt_path("smooth.safetensors");
  char *plain_last = tt_path("plain.last.safetensors"),
       *zero_last = tt_path("zero.last.safetensors"),
       *smooth_last = tt_path("smooth.last.safetensors"),
       *smooth_ckpt = tt_path("smooth.ckpt.safetensors");
  g_assert_cmpint(train(plain, NULL, NULL), ==, 0);
  const char *e0[] = {"--label-smoothing", "0", NULL};
  g_assert_cmpint(train(zero, e0, NULL), ==, 0);
  g_assert_true(tt_same_weights(plain_last, zero_last));
  const char *e2[] = {"--label-smoothing", "0.2", NULL};
  g_assert_cmpint(train(smooth, e2, NULL), ==, 0);
  g_assert_false(tt_same_weights(plain_last, smooth_last));
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
    char *message = g_strdup_printf(
        "--label-smoothing %s: expected a value in [0, 1)", bad[i]);
    tt_expect_refused(train, "--label-smoothing", bad[i], message);
    g_free(message);
  }
}

int main(int argc, char **argv) {
  if (!tt_init(&argc, &argv, "test_train_smoothing"))
    return 1;
  data = tt_folder_dataset("data", 3, 3, &folds_csv);
  g_test_add_func("/train/smoothing/targets", test_target_vector);
  g_test_add_func("/train/smoothing/run", test_training_run);
  g_test_add_func("/train/smoothing/refused", test_refused);
  return tt_run_tests();
}
