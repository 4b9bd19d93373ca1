/* test_train_specaug.c - SpecAugment-style masks (--time-masks,
 * --time-mask-width, --freq-masks, --freq-mask-width): on a synthetic
 * segment, masks are whole columns (time) or whole rows of both channels
 * (frequency) set to 0, of widths uniform in [0, W] at uniform positions;
 * they repeat for a seed, epoch and segment; a run with masks repeats bit
 * for bit and resumes exactly, differs from one without, and bad widths
 * are refused naming the option. */
#include "spec_mask.h"
#include "train_test_util.h"
#include <math.h>
#include <string.h>

enum { B = 16, T = 40 };

static const char *data, *folds_csv;

static void fill(float *x) {
  for (int i = 0; i < 2 * B * T; i++)
    x[i] = 1.0f + (float)i;
}

/* The masked columns and rows of x (fill()ed, then masked): a column is
 * masked when all 2B of its values are 0, a row (band) when all T values
 * of both channels are. Every zero must belong to one of them. */
static void masked(const float *x, gboolean *col, gboolean *row) {
  for (int t = 0; t < T; t++) {
    col[t] = TRUE;
    for (int r = 0; r < 2 * B; r++)
      col[t] &= x[r * T + t] == 0.0f;
  }
  for (int b = 0; b < B; b++) {
    row[b] = TRUE;
    for (int ch = 0; ch < 2; ch++)
      for (int t = 0; t < T; t++)
        row[b] &= x[(ch * B + b) * T + t] == 0.0f;
  }
  for (int ch = 0; ch < 2; ch++)
    for (int b = 0; b < B; b++)
      for (int t = 0; t < T; t++)
        if (x[(ch * B + b) * T + t] == 0.0f)
          g_assert_true(col[t] || row[b]);
        else
          g_assert_cmpfloat(x[(ch * B + b) * T + t], ==,
                            1.0f + (float)((ch * B + b) * T + t));
}

/* Counts the runs of TRUE in v[0..n): their number and total length. */
static int runs(const gboolean *v, int n, int *total) {
  int k = 0;
  *total = 0;
  for (int i = 0; i < n; i++) {
    *total += v[i];
    k += v[i] && (i == 0 || !v[i - 1]);
  }
  return k;
}

static void test_statistics(void) {
  float x[2 * B * T];
  gboolean col[T], row[B];
  /* one time mask of width <= 10: widths uniform on 0..10, each column
   * masked with the same probability away from the edges */
  TrSpecMask tm = {1, 10, 0, 0};
  int widths[11] = {0}, hits[T] = {0};
  const int n = 6000;
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 3);
  for (int i = 0; i < n; i++) {
    fill(x);
    tr_spec_mask_apply(&tm, x, B, T, &rng);
    masked(x, col, row);
    int w = 0;
    g_assert_cmpint(runs(col, T, &w), <=, 1);
    g_assert_cmpint(w, <=, 10);
    widths[w]++;
    for (int t = 0; t < T; t++)
      hits[t] += col[t];
    for (int b = 0; b < B; b++)
      g_assert_false(row[b]);
  }
  /* each width about n / 11 = 545 (binomial sd 22) */
  for (int w = 0; w <= 10; w++)
    g_assert_cmpint(abs(widths[w] - n / 11), <, 110);
  /* mean masked width 5: about 5/40 of the frames */
  double mean = 0;
  for (int t = 0; t < T; t++)
    mean += hits[t];
  g_assert_cmpfloat(fabs(mean / n - 5.0), <, 0.2);
  /* a middle column is masked about as often as another middle one */
  g_assert_cmpint(abs(hits[15] - hits[25]), <, 120);
  g_assert_cmpint(hits[0], <, hits[20]); /* (start uniform on 0..T-w) */

  /* two frequency masks of width <= 4: at most 2 runs, at most 8 bands,
   * the same bands in both channels (masked() checks), no column */
  TrSpecMask fm = {0, 0, 2, 4};
  double bands = 0;
  for (int i = 0; i < n; i++) {
    fill(x);
    tr_spec_mask_apply(&fm, x, B, T, &rng);
    masked(x, col, row);
    int w = 0;
    g_assert_cmpint(runs(row, B, &w), <=, 2);
    g_assert_cmpint(w, <=, 8);
    bands += w;
    for (int t = 0; t < T; t++)
      g_assert_false(col[t]);
  }
  /* 2 masks of mean width 2, a little less for their overlaps */
  g_assert_cmpfloat(bands / n, <, 4.0);
  g_assert_cmpfloat(bands / n, >, 3.3);

  /* no masks: nothing changes */
  TrSpecMask none = {0, 10, 3, 0};
  g_assert_false(tr_spec_mask_active(&none));
  fill(x);
  float y[2 * B * T];
  memcpy(y, x, sizeof x);
  tr_spec_mask_segment(&none, 1, 0, 0, x, B, T);
  g_assert_cmpmem(x, sizeof x, y, sizeof y);
}

/* The masks of a segment follow from the seed, the epoch and the segment's
 * index alone. */
static void test_determinism(void) {
  TrSpecMask m = {2, 12, 2, 6};
  float a[2 * B * T], b[2 * B * T];
  int differ_index = 0, differ_epoch = 0, differ_seed = 0;
  for (int s = 0; s < 20; s++) {
    fill(a);
    fill(b);
    tr_spec_mask_segment(&m, 7, 3, (size_t)s, a, B, T);
    tr_spec_mask_segment(&m, 7, 3, (size_t)s, b, B, T);
    g_assert_cmpmem(a, sizeof a, b, sizeof b);
    fill(b);
    tr_spec_mask_segment(&m, 7, 3, (size_t)s + 1, b, B, T);
    differ_index += memcmp(a, b, sizeof a) != 0;
    fill(b);
    tr_spec_mask_segment(&m, 7, 4, (size_t)s, b, B, T);
    differ_epoch += memcmp(a, b, sizeof a) != 0;
    fill(b);
    tr_spec_mask_segment(&m, 8, 3, (size_t)s, b, B, T);
    differ_seed += memcmp(a, b, sizeof a) != 0;
  }
  g_assert_cmpint(differ_index, >=, 15);
  g_assert_cmpint(differ_epoch, >=, 15);
  g_assert_cmpint(differ_seed, >=, 15);
}

static int train(const char *out, const char *const *extra, char **err) {
  const char *base[] = {"--data",       data, "--folds-csv", folds_csv,
                        "--val-fold",   "3",  "--epochs",    "3",
                        "--batch-size", "4",  "--seed",      "11",
                        "--out",        out,  NULL};
  return tt_run("train", TT_FAST, base, extra, NULL, err);
}

static const char *const masks[] = {"--time-masks",
                                    "2",
                                    "--time-mask-width",
                                    "8",
                                    "--freq-masks",
                                    "2",
                                    "--freq-mask-width",
                                    "6",
                                    NULL};

static void test_run_and_resume(void) {
  char *plain = tt_path("plain.safetensors"), *a = tt_path("a.safetensors"),
       *b = tt_path("b.safetensors"), *c = tt_path("c.safetensors");
  char *plain_last = tt_path("plain.last.safetensors"),
       *a_last = tt_path("a.last.safetensors"),
       *b_last = tt_path("b.last.safetensors"),
       *c_last = tt_path("c.last.safetensors"),
       *c_ckpt = tt_path("c.ckpt.safetensors");
  g_assert_cmpint(train(plain, NULL, NULL), ==, 0);
  g_assert_cmpint(train(a, masks, NULL), ==, 0);
  g_assert_false(tt_same_weights(plain_last, a_last));
  g_assert_cmpint(train(b, masks, NULL), ==, 0);
  g_assert_true(tt_same_weights(a_last, b_last));
  /* stopped mid-epoch 2 (3 steps an epoch), then resumed with the
   * checkpoint's options: the weights of the uninterrupted run */
  GPtrArray *stop = g_ptr_array_new();
  for (int i = 0; masks[i]; i++)
    g_ptr_array_add(stop, (char *)masks[i]);
  g_ptr_array_add(stop, "--stop-after-steps");
  g_ptr_array_add(stop, "4");
  g_ptr_array_add(stop, NULL);
  g_assert_cmpint(train(c, (const char *const *)stop->pdata, NULL), ==, 0);
  g_ptr_array_unref(stop);
  g_assert_false(g_file_test(c_last, G_FILE_TEST_EXISTS));
  const char *resume[] = {"--resume", c_ckpt, "--quiet", NULL};
  tt_run_ok("train", TT_NO_FAST, resume, NULL, NULL, NULL);
  g_assert_true(tt_same_weights(a_last, c_last));
  g_free(plain);
  g_free(a);
  g_free(b);
  g_free(c);
  g_free(plain_last);
  g_free(a_last);
  g_free(b_last);
  g_free(c_last);
  g_free(c_ckpt);
}

static void test_refused(void) {
  tt_expect_refused(
      train, "--time-mask-width", "33",
      "--time-mask-width 33: expected 0 to --segment-frames 32 frames");
  tt_expect_refused(train, "--freq-mask-width", "40",
                    "--freq-mask-width 40: expected 0 to --bands 32 bands");
  tt_expect_refused(train, "--time-masks", "-1",
                    "--time-masks -1: expected a count >= 0");
  tt_expect_refused(train, "--freq-masks", "-2",
                    "--freq-masks -2: expected a count >= 0");
}

int main(int argc, char **argv) {
  if (!tt_init(&argc, &argv, "test_train_specaug"))
    return 1;
  data = tt_folder_dataset("data", 3, 3, &folds_csv);
  g_test_add_func("/train/specaug/statistics", test_statistics);
  g_test_add_func("/train/specaug/determinism", test_determinism);
  g_test_add_func("/train/specaug/run", test_run_and_resume);
  g_test_add_func("/train/specaug/refused", test_refused);
  return tt_run_tests();
}
