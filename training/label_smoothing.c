/* label_smoothing.c - (1 - eps) t + eps / k on every target row. */
#include "label_smoothing.h"
#include <stddef.h>

void tr_label_smooth(float *y, int n, int k, double eps) {
  if (!(eps > 0) || n <= 0 || k <= 0)
    return;
  const float keep = (float)(1.0 - eps), spread = (float)(eps / k);
  for (size_t i = 0; i < (size_t)n * (size_t)k; i++)
    y[i] = keep * y[i] + spread;
}
