/* level.c - the sound level of feature frames (acrnn/level.h).
 *
 * A frame's power spectrum P(k), k = 0..N/2, gives the mean square of its
 * windowed samples by Parseval: sum_k v(k) P(k) with v(k) = (1 or 2) / N^2
 * (bins 0 and N/2 once, the others twice), divided by the window's mean
 * square for the mean square of the samples themselves. The features only
 * hold the band energies E(i) = sum_k G(i,k) P(k), so the meter finds band
 * weights c minimising sum_k (sum_i c(i) G(i,k) - v(k))^2 (+ a tiny ridge
 * that keeps the solution unique): then sum_i c(i) E(i) = sum_k (G^T c)(k)
 * P(k) is close to sum_k v(k) P(k) for any spectrum inside the bands. */
#include <acrnn/level.h>

#include "filterbank.h"
#include <math.h>

struct AcrnnLevelMeter {
  int bands;
  double *weights; /* c, per band */
};

/* Solves A x = b in place for symmetric positive definite A (n x n, row
 * major) by Cholesky; FALSE when A is not positive definite. */
static gboolean cholesky_solve(double *a, double *b, int n) {
  for (int j = 0; j < n; j++) {
    double d = a[j * n + j];
    for (int k = 0; k < j; k++)
      d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0))
      return FALSE;
    d = sqrt(d);
    a[j * n + j] = d;
    for (int i = j + 1; i < n; i++) {
      double s = a[i * n + j];
      for (int k = 0; k < j; k++)
        s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
  }
  for (int i = 0; i < n; i++) { /* L y = b */
    double s = b[i];
    for (int k = 0; k < i; k++)
      s -= a[i * n + k] * b[k];
    b[i] = s / a[i * n + i];
  }
  for (int i = n - 1; i >= 0; i--) { /* L^T x = y */
    double s = b[i];
    for (int k = i + 1; k < n; k++)
      s -= a[k * n + i] * b[k];
    b[i] = s / a[i * n + i];
  }
  return TRUE;
}

AcrnnLevelMeter *acrnn_level_meter_new(const AcrnnFeatureParams *p,
                                       GError **error) {
  if (!acrnn_feature_params_validate(p, error))
    return NULL;
  const int B = p->bands, N = p->n_fft, K = N / 2 + 1;
  float *g = g_new(float, (size_t)B *K);
  acrnn_filterbank_weights(p, g);
  double window_ms = 0; /* mean square of the periodic Hamming window */
  for (int n = 0; n < N; n++) {
    double w = 0.54 - 0.46 * cos(2.0 * G_PI * n / N);
    window_ms += w * w / N;
  }
  double *v = g_new(double, K);
  for (int k = 0; k < K; k++)
    v[k] = (k == 0 || k == N / 2 ? 1.0 : 2.0) / ((double)N * N * window_ms);
  double *a = g_new0(double, (size_t)B *B);
  double *c = g_new0(double, B);
  for (int i = 0; i < B; i++) {
    const float *gi = g + (size_t)i * K;
    for (int j = 0; j <= i; j++) {
      const float *gj = g + (size_t)j * K;
      double s = 0;
      for (int k = 0; k < K; k++)
        s += (double)gi[k] * gj[k];
      a[i * B + j] = a[j * B + i] = s;
    }
    for (int k = 0; k < K; k++)
      c[i] += gi[k] * v[k];
  }
  double trace = 0;
  for (int i = 0; i < B; i++)
    trace += a[i * B + i];
  for (int i = 0; i < B; i++)
    a[i * B + i] += 1e-10 * trace / B;
  gboolean ok = cholesky_solve(a, c, B);
  g_free(a);
  g_free(v);
  g_free(g);
  if (!ok) { /* not expected for a valid filterbank: a flat estimate */
    for (int i = 0; i < B; i++)
      c[i] = 0;
  }
  AcrnnLevelMeter *meter = g_new(AcrnnLevelMeter, 1);
  meter->bands = B;
  meter->weights = c;
  return meter;
}

void acrnn_level_meter_free(AcrnnLevelMeter *meter) {
  if (meter == NULL)
    return;
  g_free(meter->weights);
  g_free(meter);
}

double acrnn_level_meter_db(const AcrnnLevelMeter *meter, const float *frames,
                            size_t n_frames) {
  const int B = meter->bands;
  double sum = 0;
  for (size_t t = 0; t < n_frames; t++) {
    const float *logs = frames + t * 2 * (size_t)B;
    double power = 0;
    /* expf: a third of exp's time, and a level needs no more than 24 bits */
    for (int i = 0; i < B; i++)
      power += meter->weights[i] * (double)expf(logs[i]);
    sum += MAX(power, 0.0);
  }
  double floor_power = pow(10.0, ACRNN_LEVEL_FLOOR_DB / 10.0);
  if (n_frames == 0 || !(sum / (double)n_frames > floor_power))
    return ACRNN_LEVEL_FLOOR_DB;
  return 10.0 * log10(sum / (double)n_frames);
}
