/* batchnorm.c - batch normalisation per channel over contiguous rows of m
 * values (CNHW maps), training, inference and backward, as PyTorch's
 * BatchNorm2d: biased variance to normalise, unbiased for the running
 * variance, running = (1 - momentum) * running + momentum * batch.
 *
 * The network's blocks use the variants fused with the ReLU that follows,
 * which touch each (large, out-of-cache) map fewer times: the forward pass
 * reads x twice (statistics, then normalise + ReLU) and writes y once; the
 * backward pass reads dy, y and x twice and writes dx once, in place.
 *
 * Sums run over LANES independent float accumulators (so that the loops
 * vectorise without reassociating float maths) within blocks of BLOCK
 * values, and the block sums are added in double. */
#include "layers.h"

#include <math.h>
#include <string.h>

#define LANES 16
#define BLOCK 1024

/* Per-channel statistics of x[0..m): the mean and the sum of squared
 * deviations ss. One pass, on values shifted by an estimate of the mean
 * (that of the first values), so that the sum of squares does not cancel. */
static void moments(const float *x, size_t m, double *mean, double *ss) {
  const size_t m0 = m < 64 ? m : 64;
  float s0 = 0.0f;
  for (size_t i = 0; i < m0; i++)
    s0 += x[i];
  const float shift = s0 / (float)m0;
  double s1 = 0.0, s2 = 0.0;
  size_t i = 0;
  while (i < m) {
    const size_t end = m - i > BLOCK ? i + BLOCK : m;
    float a[LANES] = {0}, q[LANES] = {0};
    for (; i + LANES <= end; i += LANES)
      for (int k = 0; k < LANES; k++) {
        const float d = x[i + k] - shift;
        a[k] += d;
        q[k] += d * d;
      }
    for (; i < end; i++) {
      const float d = x[i] - shift;
      a[0] += d;
      q[0] += d * d;
    }
    for (int k = 0; k < LANES; k++) {
      s1 += a[k];
      s2 += q[k];
    }
  }
  const double d = s1 / (double)m;
  *mean = shift + d;
  *ss = s2 > (double)m * d * d ? s2 - (double)m * d * d : 0.0;
}

void acrnn_batchnorm_channel_stats(const float *x, size_t m, float *mean,
                                   float *rstd, float gamma, float beta,
                                   float *running_mean, float *running_var,
                                   float momentum, float eps, float *scale,
                                   float *shift) {
  double mu, ss;
  moments(x, m, &mu, &ss);
  const double var = ss / (double)m;
  const double rs = 1.0 / sqrt(var + eps);
  *mean = (float)mu;
  *rstd = (float)rs;
  *scale = (float)(gamma * rs);
  *shift = (float)(beta - mu * gamma * rs);
  if (running_mean)
    *running_mean = (float)((1.0 - momentum) * *running_mean + momentum * mu);
  if (running_var) {
    const double unbiased = m > 1 ? ss / (double)(m - 1) : var;
    *running_var =
        (float)((1.0 - momentum) * *running_var + momentum * unbiased);
  }
}

/* Normalises every channel with its batch statistics, then ReLU if relu. */
static void forward_train(float *y, float *mean, float *rstd, const float *x,
                          const float *gamma, const float *beta,
                          float *running_mean, float *running_var, int c,
                          size_t m, float momentum, float eps, int relu) {
  if (m == 0)
    return;
  for (int ch = 0; ch < c; ch++) {
    const float *xr = x + (size_t)ch * m;
    float *yr = y + (size_t)ch * m;
    float scale, shift;
    acrnn_batchnorm_channel_stats(
        xr, m, &mean[ch], &rstd[ch], gamma[ch], beta[ch],
        running_mean ? &running_mean[ch] : NULL,
        running_var ? &running_var[ch] : NULL, momentum, eps, &scale, &shift);
    acrnn_affine_relu(yr, xr, m, scale, shift, relu);
  }
}

void acrnn_batchnorm_forward_train(float *y, float *mean, float *rstd,
                                   const float *x, const float *gamma,
                                   const float *beta, float *running_mean,
                                   float *running_var, int c, size_t m,
                                   float momentum, float eps) {
  forward_train(y, mean, rstd, x, gamma, beta, running_mean, running_var, c, m,
                momentum, eps, 0);
}

void acrnn_batchnorm_relu_forward_train(float *y, float *mean, float *rstd,
                                        const float *x, const float *gamma,
                                        const float *beta, float *running_mean,
                                        float *running_var, int c, size_t m,
                                        float momentum, float eps) {
  forward_train(y, mean, rstd, x, gamma, beta, running_mean, running_var, c, m,
                momentum, eps, 1);
}

void acrnn_batchnorm_forward_infer(float *y, const float *x, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, int c, size_t m,
                                   float eps) {
  for (int ch = 0; ch < c; ch++) {
    const double rs = 1.0 / sqrt((double)running_var[ch] + eps);
    const float scale = (float)(gamma[ch] * rs);
    const float shift = (float)(beta[ch] - running_mean[ch] * gamma[ch] * rs);
    acrnn_affine_relu(y + (size_t)ch * m, x + (size_t)ch * m, m, scale, shift,
                      0);
  }
}

/* d where y > 0, else 0, as a bit mask rather than a select, which the
 * compiler would turn into a branch around the load of d. */
static inline float relu_grad(float d, float y) {
  uint32_t b;
  memcpy(&b, &d, sizeof b);
  b &= -(uint32_t)(y > 0.0f);
  float g;
  memcpy(&g, &b, sizeof g);
  return g;
}

/* sum g and sum g * (x - mu) over a row, where g = dy, or with relu set
 * g = (y > 0 ? dy : 0). */
static void grad_sums(const float *dy, const float *y, const float *x, size_t m,
                      float mu, int relu, double *sdy, double *sdyx) {
  double s1 = 0.0, s2 = 0.0;
  size_t i = 0;
  while (i < m) {
    const size_t end = m - i > BLOCK ? i + BLOCK : m;
    float a[LANES] = {0}, q[LANES] = {0};
    if (relu) {
      for (; i + LANES <= end; i += LANES)
        for (int k = 0; k < LANES; k++) {
          const float g = relu_grad(dy[i + k], y[i + k]);
          a[k] += g;
          q[k] += g * (x[i + k] - mu);
        }
    } else {
      for (; i + LANES <= end; i += LANES)
        for (int k = 0; k < LANES; k++) {
          a[k] += dy[i + k];
          q[k] += dy[i + k] * (x[i + k] - mu);
        }
    }
    for (; i < end; i++) {
      const float g = relu ? relu_grad(dy[i], y[i]) : dy[i];
      a[0] += g;
      q[0] += g * (x[i] - mu);
    }
    for (int k = 0; k < LANES; k++) {
      s1 += a[k];
      s2 += q[k];
    }
  }
  *sdy = s1;
  *sdyx = s2;
}

/* dx = k * g + (c0 + c1 * (x - mu)), with g = dy, or relu_grad(dy, y) when
 * relu is set; accumulated (+=) without relu, overwritten (=) with it. dx
 * may be dy: each block is read before it is written. */
static void dx_row(float *dx, const float *dy, const float *y, const float *x,
                   size_t m, float mu, float k, float c0, float c1, int relu) {
  size_t i = 0;
  for (; i + LANES <= m; i += LANES) {
    float g[LANES], xv[LANES], o[LANES];
    memcpy(g, dy + i, sizeof g);
    memcpy(xv, x + i, sizeof xv);
    if (relu) {
      float yv[LANES];
      memcpy(yv, y + i, sizeof yv);
      for (int j = 0; j < LANES; j++)
        o[j] = k * relu_grad(g[j], yv[j]) + (c0 + c1 * (xv[j] - mu));
    } else {
      memcpy(o, dx + i, sizeof o);
      for (int j = 0; j < LANES; j++)
        o[j] += k * g[j] + (c0 + c1 * (xv[j] - mu));
    }
    memcpy(dx + i, o, sizeof o);
  }
  for (; i < m; i++) {
    const float g = relu ? relu_grad(dy[i], y[i]) : dy[i];
    const float v = k * g + (c0 + c1 * (x[i] - mu));
    dx[i] = relu ? v : dx[i] + v;
  }
}

/* With xhat = (x - mean) * rstd:
 *   dbeta = sum dy, dgamma = sum dy * xhat,
 *   dx = gamma * rstd / m * (m * dy - dbeta - xhat * dgamma)
 *      = k * dy + c0 + c1 * (x - mean)
 * with k = gamma * rstd, c0 = -k * dbeta / m, c1 = -k * rstd * dgamma / m. */
/* The gradient through batch norm, and first through ReLU when relu (its
 * output y masks dy); dx accumulates without relu and is overwritten with
 * it (the _set variant). */
static void backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                     const float *y, const float *x, const float *mean,
                     const float *rstd, const float *gamma, int c, size_t m,
                     int relu) {
  if (m == 0)
    return;
  for (int ch = 0; ch < c; ch++) {
    const float *xr = x + (size_t)ch * m;
    const float *yr = relu ? y + (size_t)ch * m : NULL;
    const float *gr = dy + (size_t)ch * m;
    const float mu = mean[ch], rs = rstd[ch];
    double sdy, sdyx;
    grad_sums(gr, yr, xr, m, mu, relu, &sdy, &sdyx);
    sdyx *= rs;
    if (dbeta)
      dbeta[ch] += (float)sdy;
    if (dgamma)
      dgamma[ch] += (float)sdyx;
    if (!dx)
      continue;
    const double k = (double)gamma[ch] * rs;
    dx_row(dx + (size_t)ch * m, gr, yr, xr, m, mu, (float)k,
           (float)(-k * sdy / (double)m), (float)(-k * rs * sdyx / (double)m),
           relu);
  }
}

void acrnn_batchnorm_backward(float *dx, float *dgamma, float *dbeta,
                              const float *dy, const float *x,
                              const float *mean, const float *rstd,
                              const float *gamma, int c, size_t m) {
  backward(dx, dgamma, dbeta, dy, NULL, x, mean, rstd, gamma, c, m, 0);
}

void acrnn_batchnorm_relu_backward_set(float *dx, float *dgamma, float *dbeta,
                                       const float *dy, const float *y,
                                       const float *x, const float *mean,
                                       const float *rstd, const float *gamma,
                                       int c, size_t m) {
  backward(dx, dgamma, dbeta, dy, y, x, mean, rstd, gamma, c, m, 1);
}
