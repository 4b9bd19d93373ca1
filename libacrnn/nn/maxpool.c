/* maxpool.c - 2-D max pooling with kernel = stride (ph, pw), floor mode,
 * over cn independent planes; remembers the argmax of each window as an
 * index into its input plane (i * w + j). NaN wins, as in PyTorch. */
#include "layers.h"

#include <math.h>

void acrnn_maxpool_forward(float *y, int32_t *argmax, const float *x, int cn,
                           int h, int w, int ph, int pw) {
  if (ph <= 0 || pw <= 0)
    return;
  const int oh = h / ph, ow = w / pw;
  for (int p = 0; p < cn; p++) {
    const float *xp = x + (size_t)p * h * w;
    float *yp = y + (size_t)p * oh * ow;
    int32_t *ap = argmax + (size_t)p * oh * ow;
    for (int oi = 0; oi < oh; oi++) {
      for (int oj = 0; oj < ow; oj++) {
        int best = oi * ph * w + oj * pw;
        float bv = xp[best];
        for (int i = oi * ph; i < oi * ph + ph; i++) {
          for (int j = oj * pw; j < oj * pw + pw; j++) {
            const float v = xp[i * w + j];
            if (v > bv || (isnan(v) && !isnan(bv))) {
              bv = v;
              best = i * w + j;
            }
          }
        }
        yp[oi * ow + oj] = bv;
        ap[oi * ow + oj] = best;
      }
    }
  }
}

void acrnn_maxpool_backward(float *dx, const float *dy, const int32_t *argmax,
                            int cn, int h, int w, int ph, int pw) {
  if (!dx || ph <= 0 || pw <= 0)
    return;
  const size_t out = (size_t)(h / ph) * (w / pw);
  for (int p = 0; p < cn; p++) {
    float *dp = dx + (size_t)p * h * w;
    const float *gp = dy + (size_t)p * out;
    const int32_t *ap = argmax + (size_t)p * out;
    for (size_t o = 0; o < out; o++)
      dp[ap[o]] += gp[o];
  }
}
