/* gru.c - one direction of one PyTorch nn.GRU layer (gate order r, z, n),
 * forward over a batch of sequences and backward through time. */
#include "layers.h"

#include "gemm.h"
#include "gemm_bf16.h"
#include "gru_gates.h"
#include <string.h>

/* Per (sample i, time t) the cache holds one row of 5*H floats:
 *   r, z, n, hn = W_hn h_prev + b_hn, h_prev
 * Rows are in x order (row i*T + t), so h_prev over all steps is one
 * [N*T][H] matrix with leading dimension 5H. */
#define GRU_CACHE_ROW 5

size_t acrnn_gru_cache_size(int n, int t, int hidden) {
  return (size_t)n * t * GRU_CACHE_ROW * hidden;
}

/* forward:  gi [N*T][3H], gh [N][3H], h [N][H], then in bf16 W_hh packed
 *           once for all the steps (gemm_bf16.h)
 * backward: dgi [N*T][3H], dgh [N*T][3H], dh [N][H], dh_prev [N][H] */
size_t acrnn_gru_workspace(int n, int t, int hidden) {
  size_t nt = (size_t)n * t, nh = (size_t)n * hidden;
  size_t fwd = nt * 3 * hidden + (size_t)n * 3 * hidden + nh +
               acrnn_gemm_bf16_packed_b_size(3 * hidden, hidden);
  size_t bwd = 2 * nt * 3 * hidden + 2 * nh;
  return fwd > bwd ? fwd : bwd;
}

void acrnn_gru_forward(float *y, int ldy, int col, float *cache, const float *x,
                       int n, int t, int in, int hidden, const float *w_ih,
                       const float *w_hh, const float *b_ih, const float *b_hh,
                       int reverse, float *ws) {
  const int H = hidden, G = 3 * hidden, R = GRU_CACHE_ROW * hidden;
  const int nt = n * t;
  float *gi = ws;                  /* [N*T][3H] input projections */
  float *gh = gi + (size_t)nt * G; /* [N][3H] hidden projections */
  float *h = gh + (size_t)n * G;   /* [N][H] current hidden state */

  /* gi = x W_ih^T + b_ih for all timesteps at once */
  for (int r = 0; r < nt; r++)
    memcpy(gi + (size_t)r * G, b_ih, (size_t)G * sizeof(float));
  acrnn_gemm(CblasNoTrans, CblasTrans, nt, G, in, x, in, w_ih, in, 1.0f, gi, G);

  /* In bf16, W_hh rounded and packed once, not at every step (the same
   * bits as acrnn_gemm()'s product), unless the network's packed weights
   * have it already. */
  const uint32_t *w_hh_packed = NULL;
  if (acrnn_gemm_precision() == ACRNN_PRECISION_BF16) {
    w_hh_packed =
        acrnn_packed_weights_find_b(acrnn_gemm_packed(), w_hh, 1, G, H, H);
    if (w_hh_packed == NULL) {
      uint32_t *own = (uint32_t *)(h + (size_t)n * H);
      acrnn_gemm_bf16_pack_b(own, 1, G, H, w_hh, H);
      w_hh_packed = own;
    }
  }

  memset(h, 0, (size_t)n * H * sizeof(float)); /* h0 = 0 */
  for (int s = 0; s < t; s++) {
    int tt = reverse ? t - 1 - s : s;
    /* gh = h W_hh^T + b_hh */
    for (int i = 0; i < n; i++)
      memcpy(gh + (size_t)i * G, b_hh, (size_t)G * sizeof(float));
    if (w_hh_packed)
      acrnn_gemm_bf16_packed(0, n, G, H, h, H, w_hh_packed, 1.0f, gh, G);
    else
      acrnn_gemm(CblasNoTrans, CblasTrans, n, G, H, h, H, w_hh, H, 1.0f, gh, G);
    for (int i = 0; i < n; i++) {
      size_t row = (size_t)i * t + tt;
      acrnn_gru_gates(h + (size_t)i * H, cache + row * R, y + row * ldy + col,
                      gi + row * G, gh + (size_t)i * G, H);
    }
  }
}

void acrnn_gru_backward(float *dx, float *dw_ih, float *dw_hh, float *db_ih,
                        float *db_hh, const float *dy, int ldy, int col,
                        const float *cache, const float *x, int n, int t,
                        int in, int hidden, const float *w_ih,
                        const float *w_hh, int reverse, float *ws) {
  const int H = hidden, G = 3 * hidden, R = GRU_CACHE_ROW * hidden;
  const int nt = n * t;
  float *dgi = ws;                   /* [N*T][3H] d(input pre-acts) */
  float *dgh = dgi + (size_t)nt * G; /* [N*T][3H] d(hidden pre-acts) */
  float *dh = dgh + (size_t)nt * G;  /* [N][H] dL/dh flowing back */
  float *dhp = dh + (size_t)n * H;   /* [N][H] dL/dh_prev */

  memset(dh, 0, (size_t)n * H * sizeof(float));
  /* W_hh, B of every step's dh_prev product, rounded and packed once */
  AcrnnGemmHold held = {0};
  acrnn_gemm_hold_b(&held, CblasNoTrans, H, G, w_hh, H);
  /* walk the steps in the opposite order of the forward pass */
  for (int s = t - 1; s >= 0; s--) {
    int tt = reverse ? t - 1 - s : s;
    for (int i = 0; i < n; i++) {
      size_t row = (size_t)i * t + tt;
      const float *c = cache + row * R;
      const float *dyr = dy + row * ldy + col;
      float *dgir = dgi + row * G, *dghr = dgh + row * G;
      float *dhi = dh + (size_t)i * H, *dhpi = dhp + (size_t)i * H;
      for (int j = 0; j < H; j++) {
        float r = c[j], z = c[H + j], nn = c[2 * H + j];
        float hn = c[3 * H + j], hp = c[4 * H + j];
        float d = dhi[j] + dyr[j];                    /* total dL/dh' */
        float dn = d * (1.0f - z) * (1.0f - nn * nn); /* through tanh */
        float dz = d * (hp - nn) * z * (1.0f - z);    /* through sigmoid */
        float dr = dn * hn * r * (1.0f - r);          /* n = tanh(. + r hn) */
        dgir[j] = dr;
        dgir[H + j] = dz;
        dgir[2 * H + j] = dn;
        dghr[j] = dr;
        dghr[H + j] = dz;
        dghr[2 * H + j] = dn * r; /* hn enters n scaled by r */
        dhpi[j] = d * z;          /* h' = ... + z h */
      }
    }
    if (s == 0)
      break; /* h_prev of the first step is the constant h0 = 0 */
    /* dh_prev += dgh_t W_hh; the rows of step tt are T*3H apart */
    acrnn_gemm(CblasNoTrans, CblasNoTrans, n, H, G, dgh + (size_t)tt * G, t * G,
               w_hh, H, 1.0f, dhp, H);
    float *tmp = dh;
    dh = dhp;
    dhp = tmp;
  }
  acrnn_gemm_hold_end(&held);

  /* parameter gradients over all timesteps at once */
  for (int r = 0; r < nt; r++) {
    const float *dgir = dgi + (size_t)r * G, *dghr = dgh + (size_t)r * G;
    for (int k = 0; k < G; k++) {
      db_ih[k] += dgir[k];
      db_hh[k] += dghr[k];
    }
  }
  /* dW_ih += dgi^T x, dW_hh += dgh^T h_prev */
  acrnn_gemm(CblasTrans, CblasNoTrans, G, in, nt, dgi, G, x, in, 1.0f, dw_ih,
             in);
  acrnn_gemm(CblasTrans, CblasNoTrans, G, H, nt, dgh, G, cache + 4 * H, R, 1.0f,
             dw_hh, H);
  /* dx += dgi W_ih */
  if (dx)
    acrnn_gemm(CblasNoTrans, CblasNoTrans, nt, in, G, dgi, G, w_ih, in, 1.0f,
               dx, in);
}

/* The forward's products: x W_ih^T and, at every step, h W_hh^T. */
void acrnn_gru_pack_weights(AcrnnPackedWeights *set, const float *w_ih,
                            const float *w_hh, int in, int hidden) {
  acrnn_packed_weights_add_b(set, w_ih, 1, 3 * hidden, in, in);
  acrnn_packed_weights_add_b(set, w_hh, 1, 3 * hidden, hidden, hidden);
}
