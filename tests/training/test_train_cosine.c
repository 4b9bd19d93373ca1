/* test_train_cosine.c - acrnn-train --lr-schedule cosine --lr-min: the
 * learning rate of each epoch is lr-min + (lr - lr-min) (1 + cos(pi e /
 * epochs)) / 2, as the run's log records it per epoch (and a resumed run
 * goes on with it); the step schedule is acrnn_sgd_lr()'s; bad values are
 * refused naming the option. */
#include "lr_schedule.h"
#include "train_test_util.h"
#include <math.h>
#include <string.h>

static const char *data, *folds_csv;

static void test_schedule(void) {
  AcrnnSgdParams sgd;
  acrnn_sgd_params_init(&sgd);
  sgd.lr = 0.01f;
  sgd.step_epochs = 3;
  AcrnnSgd *opt = acrnn_sgd_new(&sgd, 1);
  for (int e = 0; e < 10; e++)
    g_assert_cmpfloat(tr_lr_at_epoch(&sgd, TR_LR_STEP, 0.5, e, 10), ==,
                      acrnn_sgd_lr(opt, e));
  acrnn_sgd_free(opt);
  /* 4 epochs from 0.01 to 0.001: cos(0), cos(pi/4), cos(pi/2), cos(3pi/4) */
  const double want[] = {0.01, 0.001 + 0.009 * (1 + M_SQRT1_2) / 2, 0.0055,
                         0.001 + 0.009 * (1 - M_SQRT1_2) / 2};
  for (int e = 0; e < 4; e++)
    g_assert_cmpfloat(
        fabs(tr_lr_at_epoch(&sgd, TR_LR_COSINE, 0.001, e, 4) - want[e]), <,
        1e-9);
  /* falling all the way */
  for (int e = 1; e < 50; e++)
    g_assert_cmpfloat(tr_lr_at_epoch(&sgd, TR_LR_COSINE, 0, e, 50), <,
                      tr_lr_at_epoch(&sgd, TR_LR_COSINE, 0, e - 1, 50));
  g_assert_cmpfloat(tr_lr_at_epoch(&sgd, TR_LR_COSINE, 0, 50, 50), <, 1e-9);
  TrLrSchedule k;
  GError *error = NULL;
  g_assert_false(tr_lr_schedule_parse("linear", &k, &error));
  g_assert_cmpstr(error->message, ==,
                  "--lr-schedule linear: expected step or cosine");
  g_clear_error(&error);
}

static int train(const char *out, const char *const *extra, char **err) {
  const char *base[] = {"--data",        data,     "--folds-csv", folds_csv,
                        "--val-fold",    "3",      "--epochs",    "4",
                        "--batch-size",  "4",      "--lr",        "0.01",
                        "--lr-schedule", "cosine", "--lr-min",    "0.001",
                        "--out",         out,      NULL};
  return tt_run("train", TT_FAST, base, extra, NULL, err);
}

/* The "lr" of each line of the JSON-lines log; n in *n. */
static double *log_lrs(const char *log, int *n) {
  char **lines = tt_log_lines(log);
  *n = (int)g_strv_length(lines);
  double *lr = g_new(double, *n);
  for (int i = 0; i < *n; i++) {
    JsonNode *node = json_from_string(lines[i], NULL);
    g_assert_nonnull(node);
    lr[i] = json_object_get_double_member(json_node_get_object(node), "lr");
    json_node_unref(node);
  }
  g_strfreev(lines);
  return lr;
}

static void test_logged_per_epoch(void) {
  char *a = tt_path("a.safetensors"), *b = tt_path("b.safetensors");
  char *a_log = tt_path("a.log.jsonl"), *b_log = tt_path("b.log.jsonl");
  char *b_ckpt = tt_path("b.ckpt.safetensors");
  g_assert_cmpint(train(a, NULL, NULL), ==, 0);
  int n = 0;
  double *lr = log_lrs(a_log, &n);
  g_assert_cmpint(n, ==, 4);
  /* from --lr 0.01 as the optimizer holds it, a float */
  const double lr0 = 0.01f;
  for (int e = 0; e < 4; e++) {
    float want = (float)(0.001 + (lr0 - 0.001) * (1 + cos(G_PI * e / 4)) / 2);
    g_assert_cmpfloat((float)lr[e], ==, want);
  }
  g_free(lr);
  /* stopped after 2 epochs and resumed: the same rates (the schedule is
   * the checkpoint's) */
  const char *stop[] = {"--stop-after-epochs", "2", NULL};
  g_assert_cmpint(train(b, stop, NULL), ==, 0);
  const char *resume[] = {"--resume", b_ckpt, "--quiet", NULL};
  tt_run_ok("train", TT_NO_FAST, resume, NULL, NULL, NULL);
  double *la = log_lrs(a_log, &n), *lb = NULL;
  int nb = 0;
  lb = log_lrs(b_log, &nb);
  g_assert_cmpint(nb, ==, 4);
  g_assert_cmpmem(la, sizeof(double) * 4, lb, sizeof(double) * 4);
  g_free(la);
  g_free(lb);
  g_free(a);
  g_free(b);
  g_free(a_log);
  g_free(b_log);
  g_free(b_ckpt);
}

static void test_refused(void) {
  tt_expect_refused(train, "--lr-schedule", "linear",
                    "--lr-schedule linear: expected step or cosine");
  tt_expect_refused(train, "--lr-min", "0.5",
                    "--lr-min 0.5: expected a value in [0, --lr 0.01]");
  tt_expect_refused(train, "--lr-min", "-1",
                    "--lr-min -1: expected a value in [0, --lr 0.01]");
}

int main(int argc, char **argv) {
  if (!tt_init(&argc, &argv, "test_train_cosine"))
    return 1;
  data = tt_folder_dataset("data", 3, 3, &folds_csv);
  g_test_add_func("/train/cosine/schedule", test_schedule);
  g_test_add_func("/train/cosine/log", test_logged_per_epoch);
  g_test_add_func("/train/cosine/refused", test_refused);
  return tt_run_tests();
}
