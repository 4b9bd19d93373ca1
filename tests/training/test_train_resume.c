/* test_train_resume.c - training is deterministic: the same seed gives the
 * same weights bit for bit, and a run stopped mid-epoch and at an epoch
 * end, then resumed, ends with the same weights as an uninterrupted run;
 * in bf16 too (--precision bf16, kept by the checkpoint); --threads N
 * trains N replicas with the weights of --bn-groups N. */
#include "train_test_util.h"
#include <string.h>

static const char *data, *folds_csv;

static int train(const char *out, const char *const *extra, char **err) {
  const char *base[] = {"--data",       data, "--folds-csv", folds_csv,
                        "--val-fold",   "3",  "--epochs",    "3",
                        "--batch-size", "4",  "--seed",      "11",
                        "--out",        out,  NULL};
  char *e = NULL, **perr = err ? err : &e;
  int rc = tt_run("train", TT_FAST, base, extra, NULL, perr);
  if (rc != 0 && rc != 130)
    g_printerr("acrnn-train failed (%d): %s\n", rc, *perr);
  g_free(e);
  return rc;
}

static void test_resume(void) {
  char *a = tt_path("a.safetensors"), *b = tt_path("b.safetensors"),
       *c = tt_path("c.safetensors");
  char *a_last = tt_path("a.last.safetensors"),
       *b_last = tt_path("b.last.safetensors"),
       *c_last = tt_path("c.last.safetensors");
  char *b_ckpt = tt_path("b.ckpt.safetensors");
  g_assert_cmpint(train(a, NULL, NULL), ==, 0);

  /* the same seed again: the same weights */
  g_assert_cmpint(train(c, NULL, NULL), ==, 0);
  g_assert_true(tt_same_weights(a_last, c_last));

  /* stopped mid-epoch (6 training clips x 2 segments / batch 4 = 3 steps
   * per epoch: step 4 is in epoch 2), as Ctrl-C does */
  char *err = NULL;
  const char *stop_steps[] = {"--stop-after-steps", "4", NULL};
  g_assert_cmpint(train(b, stop_steps, &err), ==, 0);
  g_assert_nonnull(strstr(err, "--resume"));
  g_free(err);
  g_assert_true(g_file_test(b_ckpt, G_FILE_TEST_EXISTS));
  g_assert_false(g_file_test(b_last, G_FILE_TEST_EXISTS));
  /* resumed, and stopped again at the end of epoch 2 */
  const char *resume1[] = {"--resume", b_ckpt, "--stop-after-epochs", "1",
                           NULL};
  g_assert_cmpint(train(b, resume1, NULL), ==, 0);
  g_assert_false(g_file_test(b_last, G_FILE_TEST_EXISTS));
  /* resumed to the end */
  const char *resume2[] = {"--resume", b_ckpt, NULL};
  g_assert_cmpint(train(b, resume2, NULL), ==, 0);
  g_assert_true(tt_same_weights(a_last, b_last));
  g_assert_true(tt_same_weights(a, b)); /* the best models too */

  /* the log of the resumed run has each epoch once */
  char *log = tt_path("b.log.jsonl");
  char **lines = tt_log_lines(log);
  g_assert_cmpuint(g_strv_length(lines), ==, 3);
  g_strfreev(lines);
  g_free(log);

  /* a different seed: different weights */
  const char *seed[] = {"--seed", "12", NULL};
  g_assert_cmpint(train(c, seed, NULL), ==, 0);
  g_assert_false(tt_same_weights(a_last, c_last));
  g_free(a);
  g_free(b);
  g_free(c);
  g_free(a_last);
  g_free(b_last);
  g_free(c_last);
  g_free(b_ckpt);
}

/* bf16: deterministic, resumable in bf16 without repeating the option (the
 * checkpoint keeps it), different from fp32; a bad value is refused. */
static void test_bf16(void) {
  char *a = tt_path("p.safetensors"), *b = tt_path("q.safetensors");
  char *f = tt_path("f.safetensors");
  char *a_last = tt_path("p.last.safetensors"),
       *b_last = tt_path("q.last.safetensors"),
       *f_last = tt_path("f.last.safetensors");
  char *b_ckpt = tt_path("q.ckpt.safetensors");
  const char *bf16[] = {"--precision", "bf16", NULL};
  const char *fp32[] = {"--precision", "fp32", NULL};
  g_assert_cmpint(train(a, bf16, NULL), ==, 0);
  g_assert_cmpint(train(f, fp32, NULL), ==, 0);
  g_assert_false(tt_same_weights(a_last, f_last));
  const char *stop[] = {"--precision", "bf16", "--stop-after-steps", "4", NULL};
  g_assert_cmpint(train(b, stop, NULL), ==, 0);
  const char *resume[] = {"--resume", b_ckpt, NULL};
  g_assert_cmpint(train(b, resume, NULL), ==, 0);
  g_assert_true(tt_same_weights(a_last, b_last));
  char *err = NULL;
  const char *bad[] = {"--precision", "fp16", NULL};
  g_assert_cmpint(train(f, bad, &err), !=, 0);
  g_assert_nonnull(strstr(err, "--precision"));
  g_assert_nonnull(strstr(err, "fp32 or bf16"));
  g_free(err);
  g_free(a);
  g_free(b);
  g_free(f);
  g_free(a_last);
  g_free(b_last);
  g_free(f_last);
  g_free(b_ckpt);
}

/* --threads 2: two replicas, each on half of every batch with its own batch
 * norm statistics, give the weights of --threads 1 --bn-groups 2 bit for
 * bit (and so the same weights run after run); in bf16 too. */
static void test_threads(void) {
  char *a = tt_path("t2.safetensors"), *b = tt_path("g2.safetensors");
  char *a_last = tt_path("t2.last.safetensors"),
       *b_last = tt_path("g2.last.safetensors");
  const char *precisions[] = {"fp32", "bf16"};
  for (int i = 0; i < 2; i++) {
    const char *threads[] = {"--threads", "2", "--precision", precisions[i],
                             NULL};
    const char *groups[] = {"--threads",   "1",           "--bn-groups", "2",
                            "--precision", precisions[i], NULL};
    g_assert_cmpint(train(a, threads, NULL), ==, 0);
    g_assert_cmpint(train(b, groups, NULL), ==, 0);
    g_assert_true(tt_same_weights(a_last, b_last));
  }
  g_free(a);
  g_free(b);
  g_free(a_last);
  g_free(b_last);
}

int main(int argc, char **argv) {
  if (!tt_init(&argc, &argv, "test_train_resume"))
    return 1;
  data = tt_folder_dataset("data", 3, 3, &folds_csv);
  g_test_add_func("/training/resume/bit-identical", test_resume);
  g_test_add_func("/training/resume/bf16", test_bf16);
  g_test_add_func("/training/resume/threads", test_threads);
  return tt_run_tests();
}
