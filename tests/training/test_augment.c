/* test_augment.c - the augmentation of libacrnn: time stretch length,
 * pitch shift frequency (measured with the gammatone features) and mixup. */
#include <acrnn/acrnn.h>
#include <math.h>
#include <string.h>

#define RATE 16000

static float *tone(double freq, size_t n) {
  float *x = g_new(float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = (float)(0.5 * sin(2 * G_PI * freq * i / RATE));
  return x;
}

/* A build without Rubber Band refuses stretch and shift: the test skips,
 * freeing the error and its input x. */
static gboolean skip_without_rubberband(GError *error, float *x) {
  if (error && strstr(error->message, "Rubber Band")) {
    g_test_skip(error->message);
    g_error_free(error);
    g_free(x);
    return TRUE;
  }
  return FALSE;
}

static double rms(const float *x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += (double)x[i] * x[i];
  return sqrt(s / n);
}

static void test_time_stretch(void) {
  size_t n = RATE;
  float *x = tone(440, n);
  const double factors[] = {0.8, 1.0, 1.3, 1.17};
  for (size_t i = 0; i < G_N_ELEMENTS(factors); i++) {
    GError *error = NULL;
    size_t m = 0;
    float *y = acrnn_time_stretch(x, n, RATE, factors[i], &m, &error);
    if (!y && skip_without_rubberband(error, x))
      return;
    g_assert_no_error(error);
    g_assert_cmpuint(m, ==, (size_t)llround(n * factors[i]));
    /* the tone is still there, at about the same level */
    double r = rms(y + m / 4, m / 2);
    g_assert_cmpfloat(r, >, 0.5 * rms(x, n));
    g_assert_cmpfloat(r, <, 2.0 * rms(x, n));
    g_free(y);
  }
  GError *error = NULL;
  size_t m;
  g_assert_null(acrnn_time_stretch(x, n, RATE, NAN, &m, &error));
  g_assert_nonnull(error);
  g_clear_error(&error);
  g_assert_null(acrnn_time_stretch(x, 0, RATE, 1.1, &m, &error));
  g_assert_nonnull(error);
  g_clear_error(&error);
  g_free(x);
}

/* Centre frequency of the band with the highest mean log energy. */
static double peak_frequency(const float *x, size_t n) {
  AcrnnFeatureParams p;
  acrnn_feature_params_init(&p);
  p.sample_rate = RATE;
  p.fmax = RATE / 2.0;
  GError *error = NULL;
  size_t nf = 0;
  float *f = acrnn_features_compute(&p, x, n, &nf, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(nf, >, 8);
  double *mean = g_new0(double, p.bands);
  for (size_t t = 2; t < nf - 2; t++)
    for (int b = 0; b < p.bands; b++)
      mean[b] += f[t * 2 * p.bands + b];
  int best = 0;
  for (int b = 1; b < p.bands; b++)
    if (mean[b] > mean[best])
      best = b;
  double *centres = g_new(double, p.bands);
  acrnn_gammatone_centres(&p, centres);
  double fc = centres[best];
  g_free(centres);
  g_free(mean);
  g_free(f);
  return fc;
}

static void test_pitch_shift(void) {
  size_t n = RATE;
  float *x = tone(1000, n);
  double f0 = peak_frequency(x, n);
  g_assert_cmpfloat(fabs(f0 - 1000), <, 40);
  const double shifts[] = {3.0, -3.5, 2.0};
  for (size_t i = 0; i < G_N_ELEMENTS(shifts); i++) {
    GError *error = NULL;
    float *y = acrnn_pitch_shift(x, n, RATE, shifts[i], &error);
    if (!y && skip_without_rubberband(error, x))
      return;
    g_assert_no_error(error);
    double want = 1000 * pow(2, shifts[i] / 12);
    double got = peak_frequency(y, n);
    g_test_message("shift %+.1f st: expected %.1f Hz, peak band %.1f Hz",
                   shifts[i], want, got);
    /* within about one band (~30 Hz apart near 1 kHz) of the target */
    g_assert_cmpfloat(fabs(got - want), <, 0.04 * want);
    g_free(y);
  }
  g_free(x);
}

/* Both in one pass: the length of the stretch and the pitch of the shift. */
static void test_time_pitch(void) {
  size_t n = RATE;
  float *x = tone(1000, n);
  const double factors[] = {0.8, 1.3, 1.0};
  const double shifts[] = {3.0, -3.5, 0.0};
  for (size_t i = 0; i < G_N_ELEMENTS(factors); i++) {
    GError *error = NULL;
    size_t m = 0;
    float *y = acrnn_time_pitch(x, n, RATE, factors[i], shifts[i], &m, &error);
    if (!y && skip_without_rubberband(error, x))
      return;
    g_assert_no_error(error);
    g_assert_cmpuint(m, ==, (size_t)llround(n * factors[i]));
    double want = 1000 * pow(2, shifts[i] / 12);
    double got = peak_frequency(y, m);
    g_test_message("stretch %.1f, shift %+.1f st: expected %.1f Hz, peak "
                   "band %.1f Hz",
                   factors[i], shifts[i], want, got);
    g_assert_cmpfloat(fabs(got - want), <, 0.04 * want);
    g_free(y);
  }
  GError *error = NULL;
  size_t m;
  g_assert_null(acrnn_time_pitch(x, n, RATE, 1.1, INFINITY, &m, &error));
  g_assert_nonnull(error);
  g_clear_error(&error);
  g_assert_null(acrnn_time_pitch(x, n, RATE, 0.0, 1.0, &m, &error));
  g_assert_nonnull(error);
  g_clear_error(&error);
  g_free(x);
}

static void test_mixup(void) {
  enum { B = 16, C = 5 };
  float x[B * C], y[B * C];
  AcrnnRng rng;
  acrnn_rng_seed(&rng, 7);
  for (int i = 0; i < B; i++)
    for (int k = 0; k < C; k++)
      x[i * C + k] = y[i * C + k] = (float)(k == i % C);
  /* alpha 0: unchanged */
  float lam = acrnn_mixup(&rng, 0.0f, x, C, y, C, B);
  g_assert_cmpfloat(lam, ==, 1.0f);
  for (int i = 0; i < B * C; i++)
    g_assert_cmpfloat(x[i], ==, (float)(i % C == (i / C) % C));
  gboolean mixed = FALSE;
  for (int round = 0; round < 5; round++) {
    lam = acrnn_mixup(&rng, 0.2f, x, C, y, C, B);
    g_assert_cmpfloat(lam, >=, 0.0f);
    g_assert_cmpfloat(lam, <=, 1.0f);
    for (int i = 0; i < B; i++) {
      double s = 0;
      for (int k = 0; k < C; k++) {
        /* features and targets were mixed alike */
        g_assert_cmpfloat(fabsf(x[i * C + k] - y[i * C + k]), <, 1e-6f);
        s += y[i * C + k];
        mixed |= y[i * C + k] > 0.01f && y[i * C + k] < 0.99f;
      }
      g_assert_cmpfloat(fabs(s - 1.0), <, 1e-5);
    }
  }
  g_assert_true(mixed);
  /* the same seed gives the same lambda */
  AcrnnRng a, b;
  acrnn_rng_seed(&a, 3);
  acrnn_rng_seed(&b, 3);
  float xa[B * C] = {0}, xb[B * C] = {0};
  g_assert_cmpfloat(acrnn_mixup(&a, 0.4f, xa, C, NULL, 0, B), ==,
                    acrnn_mixup(&b, 0.4f, xb, C, NULL, 0, B));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/training/augment/time-stretch", test_time_stretch);
  g_test_add_func("/training/augment/pitch-shift", test_pitch_shift);
  g_test_add_func("/training/augment/time-pitch", test_time_pitch);
  g_test_add_func("/training/augment/mixup", test_mixup);
  return g_test_run();
}
