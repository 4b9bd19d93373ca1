/* relu.c - rectified linear unit, forward (in place allowed) and backward,
 * and the per-channel affine map + ReLU that closes a conv or batch norm.
 *
 * The loops run over fixed blocks of V values copied through small local
 * arrays: the compiler vectorises them at -O2 already (GCC's cheap cost
 * model there skips loops that need alias checks or epilogues), and in
 * place operation needs no special case. A NaN input gives 0, as
 * "x > 0 ? x : 0" does. */
#include "layers.h"

#include <string.h>

#define V 16

/* max(t, 0) as a bit mask (NaN and -0 give +0): a select here would keep
 * GCC at -O3 from vectorising the loop. */
static inline float relu1(float t) {
  uint32_t b;
  memcpy(&b, &t, sizeof b);
  b &= -(uint32_t)(t > 0.0f);
  memcpy(&t, &b, sizeof t);
  return t;
}

/* The two cases are separate loops, so that each vectorises. */
void acrnn_affine_relu(float *y, const float *x, size_t n, float scale,
                       float shift, int relu) {
  size_t i = 0;
  if (relu) {
    for (; i + V <= n; i += V) {
      float v[V];
      memcpy(v, x + i, sizeof v);
      for (int k = 0; k < V; k++)
        v[k] = relu1(v[k] * scale + shift);
      memcpy(y + i, v, sizeof v);
    }
  } else {
    for (; i + V <= n; i += V) {
      float v[V];
      memcpy(v, x + i, sizeof v);
      for (int k = 0; k < V; k++)
        v[k] = v[k] * scale + shift;
      memcpy(y + i, v, sizeof v);
    }
  }
  for (; i < n; i++) {
    const float t = x[i] * scale + shift;
    y[i] = relu ? relu1(t) : t;
  }
}

void acrnn_relu_forward(float *y, const float *x, size_t n) {
  acrnn_affine_relu(y, x, n, 1.0f, 0.0f, 1);
}

void acrnn_relu_backward(float *dx, const float *dy, const float *y, size_t n) {
  if (!dx)
    return;
  for (size_t i = 0; i < n; i++)
    dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
}
