/* mel.c - triangular filters on the Slaney mel scale (linear below 1 kHz,
 * logarithmic above), the default of librosa.filters.mel():
 *   mel(f) = 3 f / 200                          for f < 1000 Hz,
 *          = 15 + 27 ln(f / 1000) / ln(6.4)     above;
 * bands + 2 edges f_0..f_{B+1} equally spaced in mel from fmin to fmax; band i
 * rises from f_i to f_{i+1} and falls to f_{i+2}, scaled by 2 / (f_{i+2} -
 * f_i) so that every band has the same area. Computed in double. */
#include "mel.h"
#include <math.h>

#define LINEAR_HZ_PER_MEL (200.0 / 3.0)
#define BREAK_HZ 1000.0
#define BREAK_MEL (BREAK_HZ / LINEAR_HZ_PER_MEL)
#define LOG_STEP (log(6.4) / 27.0)

static double hz_to_mel(double f) {
  if (f < BREAK_HZ)
    return f / LINEAR_HZ_PER_MEL;
  return BREAK_MEL + log(f / BREAK_HZ) / LOG_STEP;
}

static double mel_to_hz(double m) {
  if (m < BREAK_MEL)
    return m * LINEAR_HZ_PER_MEL;
  return BREAK_HZ * exp(LOG_STEP * (m - BREAK_MEL));
}

void acrnn_mel_weights(const AcrnnFeatureParams *p, float *weights) {
  const int bins = p->n_fft / 2 + 1;
  const int n_edges = p->bands + 2;
  double *edge = g_new(double, n_edges);
  const double m0 = hz_to_mel(p->fmin), m1 = hz_to_mel(p->fmax);
  for (int j = 0; j < n_edges; j++)
    edge[j] = mel_to_hz(m0 + (m1 - m0) * j / (n_edges - 1));
  for (int i = 0; i < p->bands; i++) {
    const double lo = edge[i], centre = edge[i + 1], hi = edge[i + 2];
    const double area = 2.0 / (hi - lo);
    for (int k = 0; k < bins; k++) {
      double fk = (double)k * p->sample_rate / p->n_fft;
      double rise = (fk - lo) / (centre - lo);
      double fall = (hi - fk) / (hi - centre);
      double w = fmax(0.0, fmin(rise, fall));
      weights[(size_t)i * bins + k] = (float)(w * area);
    }
  }
  g_free(edge);
}
