/* bn_relu_pool.c - batch norm, ReLU and the max pool after them, fused for
 * training (layers.h).
 *
 * A pooled block's ReLU output y = max(bn(x), 0) is a map as large as the
 * conv's (2 MB a segment for block 1), and unfused it is written, read
 * back by the pool, its gradient written whole by the pool's backward
 * (zero but at one value in ph * pw) and read twice with y and x by batch
 * norm's: eight passes over out-of-cache maps. Here:
 *
 * forward: the statistics from x, as acrnn_batchnorm_relu_forward_train();
 *   then each window row's ph rows of y are made in a scratch in cache and
 *   pooled from there, and x at each window's argmax kept beside the
 *   pooled value (xmax); y itself is never written. The pooled values,
 *   argmaxes and statistics are the same bits as unfused.
 * backward: the gradient of y is dy at the argmaxes and 0 elsewhere, and
 *   y at an argmax is the pooled value, so batch norm's sums
 *   (sum g, sum g (x - mean), g = dy where y > 0) run over the pooled
 *   arrays alone; dx = k g + c0 + c1 (x - mean) is then written in one
 *   pass over x, g = 0 but at the argmaxes. The sums add the same nonzero
 *   terms as unfused but fewer zeros between them, in a different
 *   grouping: the gradients agree to rounding, not bit for bit. */
#include "layers.h"

#include <string.h>

#define LANES 16
#define BLOCK 1024

void acrnn_bn_relu_pool_forward_train(float *pooled, int32_t *argmax,
                                      float *xmax, float *mean, float *rstd,
                                      const float *x, const float *gamma,
                                      const float *beta, float *running_mean,
                                      float *running_var, int c, int n, int h,
                                      int w, int ph, int pw, float momentum,
                                      float eps) {
  const size_t hw = (size_t)h * w, m = (size_t)n * hw;
  const int oh = h / ph, ow = w / pw;
  const size_t out = (size_t)oh * ow;
  if (m == 0)
    return;
  float *band = g_new(float, (size_t)ph *w);
  for (int ch = 0; ch < c; ch++) {
    const float *xc = x + (size_t)ch * m;
    float scale, shift;
    acrnn_batchnorm_channel_stats(
        xc, m, &mean[ch], &rstd[ch], gamma[ch], beta[ch],
        running_mean ? &running_mean[ch] : NULL,
        running_var ? &running_var[ch] : NULL, momentum, eps, &scale, &shift);
    for (int s = 0; s < n; s++) {
      const size_t p = (size_t)ch * n + s; /* the pooled plane */
      for (int oi = 0; oi < oh; oi++) {
        const float *xr = xc + s * hw + (size_t)oi * ph * w;
        float *yo = pooled + p * out + (size_t)oi * ow;
        int32_t *ao = argmax + p * out + (size_t)oi * ow;
        acrnn_affine_relu(band, xr, (size_t)ph * w, scale, shift, 1);
        acrnn_maxpool_forward(yo, ao, band, 1, ph, w, ph, pw);
        for (int o = 0; o < ow; o++) {
          xmax[p * out + (size_t)oi * ow + o] = xr[ao[o]];
          ao[o] += oi * ph * w; /* an index into the plane */
        }
      }
    }
  }
  g_free(band);
}

/* relu_grad(d, y) = y > 0 ? d : 0, as a bit mask (batchnorm.c's) */
static inline float relu_grad(float d, float y) {
  uint32_t b;
  memcpy(&b, &d, sizeof b);
  b &= -(uint32_t)(y > 0.0f);
  float g;
  memcpy(&g, &b, sizeof g);
  return g;
}

/* sum g and sum g (xmax - mu) over the k pooled values of a channel */
static void pooled_sums(const float *dp, const float *yp, const float *xp,
                        size_t k, float mu, double *sdy, double *sdyx) {
  double s1 = 0.0, s2 = 0.0;
  size_t i = 0;
  while (i < k) {
    const size_t end = k - i > BLOCK ? i + BLOCK : k;
    float a[LANES] = {0}, q[LANES] = {0};
    for (; i + LANES <= end; i += LANES)
      for (int l = 0; l < LANES; l++) {
        const float g = relu_grad(dp[i + l], yp[i + l]);
        a[l] += g;
        q[l] += g * (xp[i + l] - mu);
      }
    for (; i < end; i++) {
      const float g = relu_grad(dp[i], yp[i]);
      a[0] += g;
      q[0] += g * (xp[i] - mu);
    }
    for (int l = 0; l < LANES; l++) {
      s1 += a[l];
      s2 += q[l];
    }
  }
  *sdy = s1;
  *sdyx = s2;
}

/* dx[0..m) = c0 + c1 (x - mu): the gradient where g = 0 */
static void dx_base(float *dx, const float *x, size_t m, float mu, float c0,
                    float c1) {
  size_t i = 0;
  for (; i + LANES <= m; i += LANES) {
    float v[LANES];
    memcpy(v, x + i, sizeof v);
    for (int l = 0; l < LANES; l++)
      v[l] = c0 + c1 * (v[l] - mu);
    memcpy(dx + i, v, sizeof v);
  }
  for (; i < m; i++)
    dx[i] = c0 + c1 * (x[i] - mu);
}

void acrnn_bn_relu_pool_backward_set(float *dx, float *dgamma, float *dbeta,
                                     const float *dpooled,
                                     const int32_t *argmax, const float *pooled,
                                     const float *xmax, const float *x,
                                     const float *mean, const float *rstd,
                                     const float *gamma, int c, int n, int h,
                                     int w, int ph, int pw) {
  const size_t hw = (size_t)h * w, m = (size_t)n * hw;
  const size_t out = (size_t)(h / ph) * (w / pw);
  if (m == 0)
    return;
  for (int ch = 0; ch < c; ch++) {
    const size_t p0 = (size_t)ch * n * out; /* the channel's pooled values */
    const float mu = mean[ch], rs = rstd[ch];
    double sdy, sdyx;
    pooled_sums(dpooled + p0, pooled + p0, xmax + p0, (size_t)n * out, mu, &sdy,
                &sdyx);
    sdyx *= rs;
    if (dbeta)
      dbeta[ch] += (float)sdy;
    if (dgamma)
      dgamma[ch] += (float)sdyx;
    if (!dx)
      continue;
    const double kd = (double)gamma[ch] * rs;
    const float k = (float)kd, c0 = (float)(-kd * sdy / (double)m);
    const float c1 = (float)(-kd * rs * sdyx / (double)m);
    for (int s = 0; s < n; s++) { /* a plane at a time, in cache */
      const size_t at = (size_t)ch * m + s * hw, p = p0 + (size_t)s * out;
      dx_base(dx + at, x + at, hw, mu, c0, c1);
      for (size_t o = 0; o < out; o++) {
        const float g = relu_grad(dpooled[p + o], pooled[p + o]);
        dx[at + argmax[p + o]] = k * g + (c0 + c1 * (xmax[p + o] - mu));
      }
    }
  }
}
