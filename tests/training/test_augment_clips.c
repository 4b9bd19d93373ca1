/* test_augment_clips.c - the trainer's augmented copies: the same features
 * on one thread or several, and a failing copy fails the whole call. */
#include "../../training/augment_clip.h"
#include <math.h>
#include <string.h>

#define COUNT 7

static float *noise_tone(double freq, size_t n, guint32 seed) {
  float *x = g_new(float, n);
  GRand *r = g_rand_new_with_seed(seed);
  for (size_t i = 0; i < n; i++)
    x[i] = (float)(0.4 * sin(2 * G_PI * freq * i / 16000.0) +
                   0.05 * g_rand_double_range(r, -1, 1));
  g_rand_free(r);
  return x;
}

static void params(AcrnnFeatureParams *p) {
  acrnn_feature_params_init(p);
  p->sample_rate = 16000;
  p->fmax = 8000;
}

/* Makes COUNT copies on `threads` threads; FALSE when Rubber Band is
 * missing (the test is then skipped). */
static gboolean make(int threads, float **frames, size_t *n_frames) {
  float *waves[COUNT];
  size_t n[COUNT];
  TrAugmentDraw draws[COUNT];
  TrAugmentRange range = {0.8, 1.3, 3.5};
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 11);
  for (int i = 0; i < COUNT; i++) {
    n[i] = 8000 + 1000 * (size_t)i;
    waves[i] = noise_tone(300.0 + 100 * i, n[i], (guint32)i);
    draws[i] = tr_augment_draw(range, &rng);
  }
  AcrnnFeatureParams p;
  params(&p);
  GError *error = NULL;
  gboolean ok =
      tr_augment_features((const float *const *)waves, n, draws, COUNT, &p,
                          threads, frames, n_frames, &error);
  for (int i = 0; i < COUNT; i++)
    g_free(waves[i]);
  if (!ok && strstr(error->message, "Rubber Band")) {
    g_test_skip(error->message);
    g_error_free(error);
    return FALSE;
  }
  g_assert_no_error(error);
  return TRUE;
}

static void test_threads_agree(void) {
  float *one[COUNT], *three[COUNT];
  size_t n_one[COUNT], n_three[COUNT];
  if (!make(1, one, n_one) || !make(3, three, n_three))
    return;
  AcrnnFeatureParams p;
  params(&p);
  for (int i = 0; i < COUNT; i++) {
    g_assert_cmpuint(n_one[i], ==, n_three[i]);
    g_assert_cmpuint(n_one[i], >, 10);
    g_assert_cmpmem(one[i], n_one[i] * 2 * p.bands * sizeof(float), three[i],
                    n_three[i] * 2 * p.bands * sizeof(float));
    g_free(one[i]);
    g_free(three[i]);
  }
}

static void test_failure(void) {
  float *x = noise_tone(440, 16000, 1);
  const float *waves[COUNT];
  size_t n[COUNT];
  TrAugmentDraw draws[COUNT];
  for (int i = 0; i < COUNT; i++) {
    waves[i] = x;
    n[i] = 16000;
    draws[i] = (TrAugmentDraw){1.1, 1.0};
  }
  draws[4].factor = NAN; /* refused by acrnn_time_pitch */
  AcrnnFeatureParams p;
  params(&p);
  float *frames[COUNT];
  size_t n_frames[COUNT];
  GError *error = NULL;
  g_assert_false(tr_augment_features(waves, n, draws, COUNT, &p, 2, frames,
                                     n_frames, &error));
  g_assert_nonnull(error);
  g_test_message("%s", error->message);
  if (!strstr(error->message, "Rubber Band")) /* a build without it */
    g_assert_nonnull(strstr(error->message, "stretch factor"));
  for (int i = 0; i < COUNT; i++)
    g_assert_null(frames[i]);
  g_error_free(error);
  g_free(x);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/training/augment-clips/threads-agree", test_threads_agree);
  g_test_add_func("/training/augment-clips/failure", test_failure);
  return g_test_run();
}
