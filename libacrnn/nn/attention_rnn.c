/* attention_rnn.c - the paper's l10 attention over the GRU outputs:
 * u = tanh(h W1^T + b1), s = u w2^T, beta = softmax over time,
 * v = sum_t beta_t h_t. */
#include "layers.h"

#include "gemm.h"
#include <glib.h>
#include <math.h>
#include <string.h>

/* the cache holds u [N][T][A] */
size_t acrnn_attention_rnn_cache_size(int n, int t, int a) {
  return (size_t)n * t * a;
}

void acrnn_attention_rnn_forward(float *v, float *beta, float *cache,
                                 const float *h, const float *w1,
                                 const float *b1, const float *w2, int n, int t,
                                 int d, int a) {
  const int nt = n * t;
  float *u = cache;

  /* u = tanh(h W1^T + b1), all samples and timesteps in one product */
  for (int r = 0; r < nt; r++)
    memcpy(u + (size_t)r * a, b1, (size_t)a * sizeof(float));
  acrnn_gemm(CblasNoTrans, CblasTrans, nt, a, d, h, d, w1, d, 1.0f, u, a);
  for (size_t k = 0; k < (size_t)nt * a; k++)
    u[k] = tanhf(u[k]);

  for (int i = 0; i < n; i++) {
    float *bi = beta + (size_t)i * t;
    /* scores s_t = u_t . w2, then a numerically stable softmax over t */
    float maxs = -INFINITY;
    for (int tt = 0; tt < t; tt++) {
      const float *ur = u + ((size_t)i * t + tt) * a;
      float s = 0.0f;
      for (int k = 0; k < a; k++)
        s += ur[k] * w2[k];
      bi[tt] = s;
      maxs = s > maxs ? s : maxs;
    }
    float sum = 0.0f;
    for (int tt = 0; tt < t; tt++) {
      bi[tt] = expf(bi[tt] - maxs);
      sum += bi[tt];
    }
    for (int tt = 0; tt < t; tt++)
      bi[tt] /= sum;
    /* v = sum_t beta_t h_t */
    float *vi = v + (size_t)i * d;
    memset(vi, 0, (size_t)d * sizeof(float));
    for (int tt = 0; tt < t; tt++) {
      const float *hr = h + ((size_t)i * t + tt) * d;
      for (int k = 0; k < d; k++)
        vi[k] += bi[tt] * hr[k];
    }
  }
}

void acrnn_attention_rnn_backward(float *dh, float *dw1, float *db1, float *dw2,
                                  const float *dv, const float *beta,
                                  const float *cache, const float *h,
                                  const float *w1, const float *w2, int n,
                                  int t, int d, int a) {
  const int nt = n * t;
  const float *u = cache;
  /* scratch: du = d(pre-tanh of u) [N*T][A] and dbeta [T]; the contract
   * gives no workspace, so it is allocated here (cheap next to the
   * products below). */
  float *du = g_new(float, (size_t)nt *a + t);
  float *dbeta = du + (size_t)nt * a;

  for (int i = 0; i < n; i++) {
    const float *bi = beta + (size_t)i * t, *dvi = dv + (size_t)i * d;
    /* dbeta_t = dv . h_t; softmax backward: ds_t = beta_t (dbeta_t - sum) */
    float dot = 0.0f;
    for (int tt = 0; tt < t; tt++) {
      const float *hr = h + ((size_t)i * t + tt) * d;
      float db = 0.0f;
      for (int k = 0; k < d; k++)
        db += dvi[k] * hr[k];
      dbeta[tt] = db;
      dot += bi[tt] * db;
    }
    for (int tt = 0; tt < t; tt++) {
      size_t row = (size_t)i * t + tt;
      const float *ur = u + row * a;
      float *dur = du + row * a;
      float ds = bi[tt] * (dbeta[tt] - dot);
      /* s = u . w2: dw2 += ds u, du = ds w2, then through tanh */
      for (int k = 0; k < a; k++) {
        dw2[k] += ds * ur[k];
        dur[k] = ds * w2[k] * (1.0f - ur[k] * ur[k]);
        db1[k] += dur[k];
      }
      /* direct path v = sum beta_t h_t: dh_t += beta_t dv */
      if (dh) {
        float *dhr = dh + row * d;
        for (int k = 0; k < d; k++)
          dhr[k] += bi[tt] * dvi[k];
      }
    }
  }
  /* dW1 += du^T h, dh += du W1 */
  acrnn_gemm(CblasTrans, CblasNoTrans, a, d, nt, du, a, h, d, 1.0f, dw1, d);
  if (dh)
    acrnn_gemm(CblasNoTrans, CblasNoTrans, nt, d, a, du, a, w1, d, 1.0f, dh, d);
  g_free(du);
}

void acrnn_attention_rnn_pack_weights(AcrnnPackedWeights *set, const float *w1,
                                      int d, int a) {
  acrnn_packed_weights_add_b(set, w1, 1, a, d, d);
}
