/* batchnorm.c - batch normalisation per channel over contiguous rows of m
 * values (CNHW maps), training, inference and backward, as PyTorch's
 * BatchNorm2d: biased variance to normalise, unbiased for the running
 * variance, running = (1 - momentum) * running + momentum * batch. */
#include "layers.h"

#include <math.h>

void acrnn_batchnorm_forward_train(float *y, float *mean, float *rstd,
                                   const float *x, const float *gamma,
                                   const float *beta, float *running_mean,
                                   float *running_var, int c, size_t m,
                                   float momentum, float eps) {
  if (m == 0)
    return;
  for (int ch = 0; ch < c; ch++) {
    const float *xr = x + (size_t)ch * m;
    float *yr = y + (size_t)ch * m;
    double s = 0.0;
    for (size_t i = 0; i < m; i++)
      s += xr[i];
    const double mu = s / (double)m;
    double ss = 0.0;
    for (size_t i = 0; i < m; i++) {
      const double d = xr[i] - mu;
      ss += d * d;
    }
    const double var = ss / (double)m;
    const double rs = 1.0 / sqrt(var + eps);
    mean[ch] = (float)mu;
    rstd[ch] = (float)rs;
    const float scale = (float)(gamma[ch] * rs);
    const float shift = (float)(beta[ch] - mu * gamma[ch] * rs);
    for (size_t i = 0; i < m; i++)
      yr[i] = xr[i] * scale + shift;
    if (running_mean)
      running_mean[ch] =
          (float)((1.0 - momentum) * running_mean[ch] + momentum * mu);
    if (running_var) {
      const double unbiased = m > 1 ? ss / (double)(m - 1) : var;
      running_var[ch] =
          (float)((1.0 - momentum) * running_var[ch] + momentum * unbiased);
    }
  }
}

void acrnn_batchnorm_forward_infer(float *y, const float *x, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, int c, size_t m,
                                   float eps) {
  for (int ch = 0; ch < c; ch++) {
    const double rs = 1.0 / sqrt((double)running_var[ch] + eps);
    const float scale = (float)(gamma[ch] * rs);
    const float shift = (float)(beta[ch] - running_mean[ch] * gamma[ch] * rs);
    const float *xr = x + (size_t)ch * m;
    float *yr = y + (size_t)ch * m;
    for (size_t i = 0; i < m; i++)
      yr[i] = xr[i] * scale + shift;
  }
}

/* With xhat = (x - mean) * rstd:
 *   dbeta = sum dy, dgamma = sum dy * xhat,
 *   dx = gamma * rstd / m * (m * dy - dbeta - xhat * dgamma). */
void acrnn_batchnorm_backward(float *dx, float *dgamma, float *dbeta,
                              const float *dy, const float *x,
                              const float *mean, const float *rstd,
                              const float *gamma, int c, size_t m) {
  if (m == 0)
    return;
  for (int ch = 0; ch < c; ch++) {
    const float *xr = x + (size_t)ch * m;
    const float *gr = dy + (size_t)ch * m;
    const float mu = mean[ch], rs = rstd[ch];
    double sdy = 0.0, sdyx = 0.0;
    for (size_t i = 0; i < m; i++) {
      sdy += gr[i];
      sdyx += (double)gr[i] * ((xr[i] - mu) * rs);
    }
    if (dbeta)
      dbeta[ch] += (float)sdy;
    if (dgamma)
      dgamma[ch] += (float)sdyx;
    if (!dx)
      continue;
    float *dr = dx + (size_t)ch * m;
    const float k = gamma[ch] * rs;
    const float a = (float)(sdy / (double)m);
    const float bcoef = (float)(sdyx / (double)m);
    for (size_t i = 0; i < m; i++) {
      const float xh = (xr[i] - mu) * rs;
      dr[i] += k * (gr[i] - a - xh * bcoef);
    }
  }
}
