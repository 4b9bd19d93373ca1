/* dropout.c - inverted dropout: each value is kept with probability 1 - p
 * and scaled by 1 / (1 - p); the mask remembers 0 or that scale. */
#include "layers.h"

void acrnn_dropout_forward(float *y, float *mask, const float *x, size_t n,
                           float p, AcrnnRng *rng) {
  if (p <= 0.0f) {
    for (size_t i = 0; i < n; i++) {
      mask[i] = 1.0f;
      y[i] = x[i];
    }
    return;
  }
  const float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  for (size_t i = 0; i < n; i++) {
    mask[i] = acrnn_rng_uniform(rng) >= p ? scale : 0.0f;
    y[i] = x[i] * mask[i];
  }
}

void acrnn_dropout_backward(float *dx, const float *dy, const float *mask,
                            size_t n) {
  if (!dx)
    return;
  for (size_t i = 0; i < n; i++)
    dx[i] += dy[i] * mask[i];
}
