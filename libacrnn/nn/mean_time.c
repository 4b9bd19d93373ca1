/* mean_time.c - the mean over time of a sequence, v[N][D] = mean_t h[N][T][D]
 * (used when the attention is 'none' or 'cnn:N'). */
#include "layers.h"

#include <string.h>

void acrnn_mean_time_forward(float *v, const float *h, int n, int t, int d) {
  const float inv_t = 1.0f / (float)t;
  for (int i = 0; i < n; i++) {
    float *vi = v + (size_t)i * d;
    memset(vi, 0, (size_t)d * sizeof(float));
    for (int tt = 0; tt < t; tt++) {
      const float *hr = h + ((size_t)i * t + tt) * d;
      for (int k = 0; k < d; k++)
        vi[k] += hr[k];
    }
    for (int k = 0; k < d; k++)
      vi[k] *= inv_t;
  }
}

/* dh += dv / T at every timestep */
void acrnn_mean_time_backward(float *dh, const float *dv, int n, int t, int d) {
  const float inv_t = 1.0f / (float)t;
  for (int i = 0; i < n; i++) {
    const float *dvi = dv + (size_t)i * d;
    for (int tt = 0; tt < t; tt++) {
      float *dhr = dh + ((size_t)i * t + tt) * d;
      for (int k = 0; k < d; k++)
        dhr[k] += dvi[k] * inv_t;
    }
  }
}
