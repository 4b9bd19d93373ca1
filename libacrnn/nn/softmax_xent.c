/* softmax_xent.c - row-wise softmax and the soft-target cross-entropy loss
 * (mean over rows) with its gradient with respect to the logits. */
#include "layers.h"

#include <math.h>

/* Floor on probabilities inside the logarithm, so p = 0 gives a large but
 * finite loss. */
#define XENT_P_FLOOR 1e-30f

void acrnn_softmax_forward(float *probs, const float *logits, int m, int k) {
  for (int r = 0; r < m; r++) {
    const float *l = logits + (size_t)r * k;
    float *p = probs + (size_t)r * k;
    float mx = -INFINITY;
    for (int j = 0; j < k; j++)
      if (l[j] > mx)
        mx = l[j];
    double s = 0.0;
    for (int j = 0; j < k; j++) {
      p[j] = expf(l[j] - mx);
      s += p[j];
    }
    const float inv = (float)(1.0 / s);
    for (int j = 0; j < k; j++)
      p[j] *= inv;
  }
}

float acrnn_xent_forward_backward(float *dlogits, const float *probs,
                                  const float *targets, int m, int k) {
  if (m <= 0)
    return 0.0f;
  double loss = 0.0;
  const float invm = 1.0f / (float)m;
  for (int r = 0; r < m; r++) {
    const float *p = probs + (size_t)r * k;
    const float *t = targets + (size_t)r * k;
    for (int j = 0; j < k; j++) {
      if (t[j] != 0.0f)
        loss -= (double)t[j] * log(p[j] > XENT_P_FLOOR ? p[j] : XENT_P_FLOOR);
      if (dlogits)
        dlogits[(size_t)r * k + j] += (p[j] - t[j]) * invm;
    }
  }
  return (float)(loss / m);
}
