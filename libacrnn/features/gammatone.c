/* gammatone.c - ERB-spaced centre frequencies (Slaney) and the power
 * response of the 4th-order gammatone filter at each FFT bin, exactly as
 * docs/features.md writes them. Computed in double. */
#include "gammatone.h"
#include <math.h>

#define EAR_Q 9.26449
#define MIN_BW 24.7

void acrnn_gammatone_centres(const AcrnnFeatureParams *p, double *centres) {
  const double c = EAR_Q * MIN_BW;
  const int b = p->bands;
  const double step = (log(p->fmin + c) - log(p->fmax + c)) / b;
  /* f_i decreases with i = 1..B, so band j (ascending) is i = B - j. */
  for (int j = 0; j < b; j++) {
    int i = b - j;
    centres[j] = -c + exp(i * step) * (p->fmax + c);
  }
}

void acrnn_gammatone_weights(const AcrnnFeatureParams *p, float *weights) {
  const int bins = p->n_fft / 2 + 1;
  double *centres = g_new(double, p->bands);
  acrnn_gammatone_centres(p, centres);
  for (int i = 0; i < p->bands; i++) {
    double bw = 1.019 * (centres[i] / EAR_Q + MIN_BW);
    for (int k = 0; k < bins; k++) {
      double fk = (double)k * p->sample_rate / p->n_fft;
      double x = (fk - centres[i]) / bw;
      double q = 1.0 + x * x;
      q = q * q;
      weights[(size_t)i * bins + k] = (float)(1.0 / (q * q));
    }
  }
  g_free(centres);
}
