/* test_augment_clips.c - the trainer's augmented copies: the same features
 * on one thread or several, made or read from the cache of copies, and a
 * failing copy fails the whole call. */
#include "../../training/augment_clip.h"
#include "../../training/feature_cache.h"
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

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

/* Makes COUNT copies on `threads` threads, with the cache of copies in
 * cache_dir (NULL: none; hits: how many were read from it), copy `other`
 * (-1: none) drawn with another pitch shift; FALSE when Rubber Band is
 * missing (the test is then skipped). */
static gboolean make_cached(int threads, const char *cache_dir, int other,
                            float **frames, size_t *n_frames, size_t *hits) {
  float *waves[COUNT];
  char *keys[COUNT];
  size_t n[COUNT];
  TrAugmentDraw draws[COUNT];
  TrAugmentRange range = {0.8, 1.3, 3.5};
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 11);
  for (int i = 0; i < COUNT; i++) {
    n[i] = 8000 + 1000 * (size_t)i;
    waves[i] = noise_tone(300.0 + 100 * i, n[i], (guint32)i);
    keys[i] = tr_wave_key(waves[i], n[i]);
    draws[i] = tr_augment_draw(range, &rng);
  }
  if (other >= 0)
    draws[other].semitones += 0.5;
  AcrnnFeatureParams p;
  params(&p);
  GError *error = NULL;
  TrAugmentCache cache = {cache_dir, (const char *const *)keys, 0};
  gboolean ok = tr_augment_features(
      (const float *const *)waves, n, draws, COUNT, &p, threads,
      cache_dir ? &cache : NULL, frames, n_frames, &error);
  if (hits)
    *hits = cache.hits;
  for (int i = 0; i < COUNT; i++) {
    g_free(waves[i]);
    g_free(keys[i]);
  }
  if (!ok && strstr(error->message, "Rubber Band")) {
    g_test_skip(error->message);
    g_error_free(error);
    return FALSE;
  }
  g_assert_no_error(error);
  return TRUE;
}

static gboolean make(int threads, float **frames, size_t *n_frames) {
  return make_cached(threads, NULL, -1, frames, n_frames, NULL);
}

/* Copies b equal copies a bit for bit; frees b. */
static void assert_same_copies(float **a, const size_t *n_a, float **b,
                               const size_t *n_b) {
  AcrnnFeatureParams p;
  params(&p);
  for (int i = 0; i < COUNT; i++) {
    g_assert_cmpuint(n_a[i], ==, n_b[i]);
    g_assert_cmpmem(a[i], n_a[i] * 2 * p.bands * sizeof(float), b[i],
                    n_b[i] * 2 * p.bands * sizeof(float));
    g_free(b[i]);
  }
}

/* Cuts every file of dir to 100 bytes (cut) or removes it; returns how
 * many there were. */
static int each_file(const char *dir, gboolean cut) {
  GDir *d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  const char *name;
  int files = 0;
  while ((name = g_dir_read_name(d)) != NULL) {
    char *file = g_build_filename(dir, name, NULL);
    g_assert_cmpint(cut ? truncate(file, 100) : g_remove(file), ==, 0);
    g_free(file);
    files++;
  }
  g_dir_close(d);
  return files;
}

/* Makes the copies with the cache in dir on `threads` threads: hits of
 * them read from it, and all equal to made bit for bit. */
static void expect_copies(int threads, const char *dir, size_t hits,
                          float **made, const size_t *n_made) {
  float *again[COUNT];
  size_t n_again[COUNT], read = 99;
  g_assert_true(make_cached(threads, dir, -1, again, n_again, &read));
  g_assert_cmpuint(read, ==, hits);
  assert_same_copies(made, n_made, again, n_again);
}

/* The cache of copies: a first run makes and stores every copy, a second
 * reads every one back, the same bits; a copy drawn otherwise, and a copy
 * whose file was cut short, are made again. */
static void test_cache(void) {
  float *made[COUNT], *again[COUNT];
  size_t n_made[COUNT], n_again[COUNT], hits = 99;
  if (!make(2, made, n_made))
    return;
  char *dir = g_dir_make_tmp("acrnn-augment-cache-XXXXXX", NULL);
  g_assert_nonnull(dir);
  expect_copies(2, dir, 0, made, n_made);
  expect_copies(1, dir, COUNT, made, n_made);

  /* another draw of copy 3: a new key, made (and the others read) */
  g_assert_true(make_cached(2, dir, 3, again, n_again, &hits));
  g_assert_cmpuint(hits, ==, COUNT - 1);
  g_assert_cmpmem(made[2], n_made[2] * sizeof(float), again[2],
                  n_again[2] * sizeof(float));
  g_assert_false(n_made[3] == n_again[3] &&
                 memcmp(made[3], again[3], n_made[3] * sizeof(float)) == 0);
  for (int i = 0; i < COUNT; i++)
    g_free(again[i]);

  /* every file cut short: none is read, all are made and stored again */
  const int files = each_file(dir, TRUE);
  g_assert_cmpint(files, ==, COUNT + 1);
  expect_copies(2, dir, 0, made, n_made);
  expect_copies(2, dir, COUNT, made, n_made);

  each_file(dir, FALSE);
  g_rmdir(dir);
  g_free(dir);
  for (int i = 0; i < COUNT; i++)
    g_free(made[i]);
}

/* Different waveforms, draws, engines or parameters: different keys. */
static void test_keys(void) {
  float x[64] = {0};
  char *a = tr_wave_key(x, 64);
  x[17] = 1e-30f;
  char *b = tr_wave_key(x, 64);
  char *c = tr_wave_key(x, 63);
  g_assert_cmpstr(a, !=, b);
  g_assert_cmpstr(b, !=, c);
  AcrnnFeatureParams p, q;
  params(&p);
  params(&q);
  q.fmin = 51;
  char *k[6] = {
      tr_augment_key(a, 1.1, 0.5, "e", &p),
      tr_augment_key(b, 1.1, 0.5, "e", &p),
      tr_augment_key(a, 1.1 + 1e-15, 0.5, "e", &p),
      tr_augment_key(a, 1.1, -0.5, "e", &p),
      tr_augment_key(a, 1.1, 0.5, "f", &p),
      tr_augment_key(a, 1.1, 0.5, "e", &q),
  };
  for (int i = 0; i < 6; i++)
    for (int j = i + 1; j < 6; j++)
      g_assert_cmpstr(k[i], !=, k[j]);
  char *same = tr_augment_key(a, 1.1, 0.5, "e", &p);
  g_assert_cmpstr(same, ==, k[0]);
  g_free(same);
  for (int i = 0; i < 6; i++)
    g_free(k[i]);
  g_free(a);
  g_free(b);
  g_free(c);
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
  g_assert_false(tr_augment_features(waves, n, draws, COUNT, &p, 2, NULL,
                                     frames, n_frames, &error));
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
  g_test_add_func("/training/augment-clips/cache", test_cache);
  g_test_add_func("/training/augment-clips/keys", test_keys);
  return g_test_run();
}
