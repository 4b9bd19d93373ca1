/* layers.h - the network's layers, each a forward and a backward function
 * over plain float arrays (internal to libacrnn).
 *
 * Conventions:
 * - Conv feature maps are stored channel-major over the batch, [C][N][H][W]
 *   ("CNHW"), so a convolution over the whole batch is one matrix product
 *   W[Cout][Cin*kh*kw] x col[Cin*kh*kw][N*H*W] and batch norm statistics of a
 *   channel are one contiguous row.
 * - Sequences are [N][T][D], batch first.
 * - Every backward function ACCUMULATES (+=) into all its gradient outputs,
 *   input gradients included; the caller zeroes them. A NULL input gradient
 *   is skipped. The only exceptions are the *_set variants, which overwrite
 *   (=) their input gradient and so spare the caller a memset of a large
 *   map; their parameter gradients still accumulate.
 * - Workspaces are caller-owned scratch, sized by the *_workspace()
 *   functions, and carry nothing between calls.
 * - The *_pack_weights() functions add the weight matrices of a layer's
 *   forward products to a set of packed weights (packed_weights.h), for a
 *   network whose weights never change (sealed) to run in bf16 without
 *   rounding them again at every pass.
 */
#ifndef ACRNN_LAYERS_H
#define ACRNN_LAYERS_H

#include "packed_weights.h"

#include <acrnn/rng.h>
#include <stddef.h>
#include <stdint.h>

/* ---- conv2d.c: stride 1, 'same' zero padding (odd kernels), bias ------- */
/* Scratch floats for forward and backward of one shape. */
size_t acrnn_conv2d_workspace(int cin, int cout, int n, int h, int w, int kh,
                              int kw);
/* How a non-pointwise convolution is computed: AUTO picks, per shape, the
 * direct kernel (conv2d_direct.c) on wide maps when the CPU has AVX2 or
 * AVX-512, and im2col + sgemm otherwise. The other two force one path, for
 * tests and benchmarks; set it before sizing workspaces, not during a
 * pass. Process-wide. */
typedef enum {
  ACRNN_CONV_AUTO,
  ACRNN_CONV_IM2COL,
  ACRNN_CONV_DIRECT,
} AcrnnConvPath;
void acrnn_conv2d_set_path(AcrnnConvPath path);
/* The vector build the direct path runs: "avx512", "avx2" or "generic"
 * (the first this CPU runs). */
const char *acrnn_conv2d_direct_isa(void);
/* Makes the direct path run the named build, for tests; FALSE (and no
 * change) if there is none of that name or this CPU cannot run it. Like
 * the path, set it before sizing workspaces. */
int acrnn_conv2d_direct_use(const char *isa);
/* y[Cout][N][H][W] = conv(x[Cin][N][H][W], w[Cout][Cin][kh][kw]) + b */
void acrnn_conv2d_forward(float *y, const float *x, const float *w,
                          const float *b, int n, int cin, int cout, int h,
                          int wd, int kh, int kw, float *ws);
/* y = max(scale[co] * conv(x, w) + shift[co], 0): the per-channel affine
 * map and ReLU applied while the output is in cache (inference, where batch
 * norm and the conv bias fold into scale and shift). */
void acrnn_conv2d_scale_relu_forward(float *y, const float *x, const float *w,
                                     const float *scale, const float *shift,
                                     int n, int cin, int cout, int h, int wd,
                                     int kh, int kw, float *ws);
/* y = maxpool(ph x pw, floor mode) of acrnn_conv2d_scale_relu_forward(),
 * the same values. Where the direct kernels run, each window's rows are
 * pooled while in cache and the full map is never written; elsewhere the
 * map is computed into map ([cout][n][h][wd], scratch) and pooled. */
void acrnn_conv2d_scale_relu_pool_forward(float *y, float *map, const float *x,
                                          const float *w, const float *scale,
                                          const float *shift, int n, int cin,
                                          int cout, int h, int wd, int kh,
                                          int kw, int ph, int pw, float *ws);
void acrnn_conv2d_backward(float *dx, float *dw, float *db, const float *dy,
                           const float *x, const float *w, int n, int cin,
                           int cout, int h, int wd, int kh, int kw, float *ws);
/* The same with dx overwritten (=) rather than accumulated. */
void acrnn_conv2d_backward_set(float *dx, float *dw, float *db, const float *dy,
                               const float *x, const float *w, int n, int cin,
                               int cout, int h, int wd, int kh, int kw,
                               float *ws);
void acrnn_conv2d_pack_weights(AcrnnPackedWeights *set, const float *w, int cin,
                               int cout, int h, int wd, int kh, int kw);

/* ---- batchnorm.c: per channel over m = N*H*W values, eps 1e-5 ---------- */
/* Training: batch statistics (biased variance for normalising), saves mean
 * and rstd = 1/sqrt(var+eps) per channel, updates running_mean/var with
 * momentum (unbiased variance), as PyTorch does. */
void acrnn_batchnorm_forward_train(float *y, float *mean, float *rstd,
                                   const float *x, const float *gamma,
                                   const float *beta, float *running_mean,
                                   float *running_var, int c, size_t m,
                                   float momentum, float eps);
void acrnn_batchnorm_forward_infer(float *y, const float *x, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, int c, size_t m,
                                   float eps);
void acrnn_batchnorm_backward(float *dx, float *dgamma, float *dbeta,
                              const float *dy, const float *x,
                              const float *mean, const float *rstd,
                              const float *gamma, int c, size_t m);
/* Batch norm followed by ReLU, fused (training): y = max(bn(x), 0), with
 * the same statistics and running updates as acrnn_batchnorm_forward_train.
 * y may not be x. */
void acrnn_batchnorm_relu_forward_train(float *y, float *mean, float *rstd,
                                        const float *x, const float *gamma,
                                        const float *beta, float *running_mean,
                                        float *running_var, int c, size_t m,
                                        float momentum, float eps);
/* Its backward: dy is the gradient of y = max(bn(x), 0), y that output.
 * dx is OVERWRITTEN (=) and may be dy itself (in place); dgamma, dbeta
 * accumulate. */
void acrnn_batchnorm_relu_backward_set(float *dx, float *dgamma, float *dbeta,
                                       const float *dy, const float *y,
                                       const float *x, const float *mean,
                                       const float *rstd, const float *gamma,
                                       int c, size_t m);

/* One channel's batch statistics over x[0..m) (training): saves mean and
 * rstd, updates the running statistics (either may be NULL), and gives
 * the coefficients of y = x * scale + shift. */
void acrnn_batchnorm_channel_stats(const float *x, size_t m, float *mean,
                                   float *rstd, float gamma, float beta,
                                   float *running_mean, float *running_var,
                                   float momentum, float eps, float *scale,
                                   float *shift);

/* ---- bn_relu_pool.c: batch norm + ReLU + max pool, training ------------ */
/* pooled[c][n][h/ph][w/pw] = maxpool(max(bn(x), 0)) with its argmax (as
 * acrnn_maxpool_forward()) and xmax, x at each argmax; the statistics and
 * running updates of acrnn_batchnorm_relu_forward_train(). The same bits
 * as that then acrnn_maxpool_forward(), without writing the ReLU's map. */
void acrnn_bn_relu_pool_forward_train(float *pooled, int32_t *argmax,
                                      float *xmax, float *mean, float *rstd,
                                      const float *x, const float *gamma,
                                      const float *beta, float *running_mean,
                                      float *running_var, int c, int n, int h,
                                      int w, int ph, int pw, float momentum,
                                      float eps);
/* Its backward from dpooled, the gradient of pooled: dx[c][n][h][w] is
 * OVERWRITTEN (=); dgamma, dbeta accumulate. The same values as
 * acrnn_maxpool_backward_set() then acrnn_batchnorm_relu_backward_set(),
 * to rounding. */
void acrnn_bn_relu_pool_backward_set(float *dx, float *dgamma, float *dbeta,
                                     const float *dpooled,
                                     const int32_t *argmax, const float *pooled,
                                     const float *xmax, const float *x,
                                     const float *mean, const float *rstd,
                                     const float *gamma, int c, int n, int h,
                                     int w, int ph, int pw);

/* ---- relu.c ------------------------------------------------------------ */
void acrnn_relu_forward(float *y, const float *x, size_t n); /* y may be x */
/* dx += dy where y > 0 */
void acrnn_relu_backward(float *dx, const float *dy, const float *y, size_t n);
/* y = scale * x + shift, then max(y, 0) if relu is set; y may be x. */
void acrnn_affine_relu(float *y, const float *x, size_t n, float scale,
                       float shift, int relu);

/* ---- maxpool.c: kernel = stride (ph, pw), floor; cn = C*N planes ------- */
/* The window's first maximum in row-major order wins; a NaN wins over any
 * number, the window's last NaN over earlier ones (as PyTorch). A NULL
 * argmax computes the values only (inference). */
void acrnn_maxpool_forward(float *y, int32_t *argmax, const float *x, int cn,
                           int h, int w, int ph, int pw);
void acrnn_maxpool_backward(float *dx, const float *dy, const int32_t *argmax,
                            int cn, int h, int w, int ph, int pw);
/* The same, but OVERWRITES all of dx[cn][h][w] (zero off the argmaxes). */
void acrnn_maxpool_backward_set(float *dx, const float *dy,
                                const int32_t *argmax, int cn, int h, int w,
                                int ph, int pw);

/* ---- dense.c: y[M][out] = x[M][in] w[out][in]^T + b (b may be NULL) ---- */
void acrnn_dense_forward(float *y, const float *x, const float *w,
                         const float *b, int m, int in, int out);
void acrnn_dense_backward(float *dx, float *dw, float *db, const float *dy,
                          const float *x, const float *w, int m, int in,
                          int out);
void acrnn_dense_pack_weights(AcrnnPackedWeights *set, const float *w, int in,
                              int out);

/* ---- dropout.c: inverted dropout; mask holds 0 or 1/(1-p) ------------- */
void acrnn_dropout_forward(float *y, float *mask, const float *x, size_t n,
                           float p, AcrnnRng *rng);
void acrnn_dropout_backward(float *dx, const float *dy, const float *mask,
                            size_t n);

/* ---- softmax_xent.c ---------------------------------------------------- */
/* probs[M][K] = softmax(logits) row-wise (numerically stable). */
void acrnn_softmax_forward(float *probs, const float *logits, int m, int k);
/* Mean over rows of -sum_k t[k] log p[k]; dlogits += (p - t) / m. */
float acrnn_xent_forward_backward(float *dlogits, const float *probs,
                                  const float *targets, int m, int k);

/* ---- gru.c: one direction of one PyTorch GRU layer, h0 = 0 ------------- */
/* Gate order r, z, n as in PyTorch:
 *   r = sig(Wir x + bir + Whr h + bhr), z = sig(Wiz x + biz + Whz h + bhz)
 *   n = tanh(Win x + bin + r * (Whn h + bhn)), h' = (1 - z) * n + z * h
 * x [N][T][in]; the hidden states go to y + col, row stride ldy:
 * y[(i*T + t)*ldy + col + j]; reverse runs t = T-1 .. 0.
 * cache holds what backward needs (acrnn_gru_cache_size floats). */
size_t acrnn_gru_cache_size(int n, int t, int hidden);
size_t acrnn_gru_workspace(int n, int t, int hidden);
void acrnn_gru_forward(float *y, int ldy, int col, float *cache, const float *x,
                       int n, int t, int in, int hidden, const float *w_ih,
                       const float *w_hh, const float *b_ih, const float *b_hh,
                       int reverse, float *ws);
/* dy is read at the same place y was written. */
void acrnn_gru_backward(float *dx, float *dw_ih, float *dw_hh, float *db_ih,
                        float *db_hh, const float *dy, int ldy, int col,
                        const float *cache, const float *x, int n, int t,
                        int in, int hidden, const float *w_ih,
                        const float *w_hh, int reverse, float *ws);
void acrnn_gru_pack_weights(AcrnnPackedWeights *set, const float *w_ih,
                            const float *w_hh, int in, int hidden);

/* ---- attention_rnn.c: the paper's l10 --------------------------------- */
/* u = tanh(h W1^T + b1) [N][T][A], s = u w2^T [N][T], beta = softmax_t(s),
 * v[N][D] = sum_t beta_t h_t. cache: acrnn_attention_rnn_cache_size. */
size_t acrnn_attention_rnn_cache_size(int n, int t, int a);
void acrnn_attention_rnn_forward(float *v, float *beta, float *cache,
                                 const float *h, const float *w1,
                                 const float *b1, const float *w2, int n, int t,
                                 int d, int a);
void acrnn_attention_rnn_backward(float *dh, float *dw1, float *db1, float *dw2,
                                  const float *dv, const float *beta,
                                  const float *cache, const float *h,
                                  const float *w1, const float *w2, int n,
                                  int t, int d, int a);
void acrnn_attention_rnn_pack_weights(AcrnnPackedWeights *set, const float *w1,
                                      int d, int a);

/* ---- attention_cnn.c: the paper's l2..l8, on CNHW maps ---------------- */
/* a = conv3x3(M[C][N][H][W], w[1][C][3][3]) + b, mean over H -> [N][W],
 * A = softmax over W, out = M * A (broadcast over C and H). */
size_t acrnn_attention_cnn_workspace(int c, int n, int h, int w);
void acrnn_attention_cnn_forward(float *out, float *attn, const float *m,
                                 const float *w, const float *b, int c, int n,
                                 int h, int wd, float *ws);
void acrnn_attention_cnn_backward(float *dm, float *dw, float *db,
                                  const float *dout, const float *attn,
                                  const float *m, const float *w, int c, int n,
                                  int h, int wd, float *ws);

/* ---- mean over time (attention none / cnn): v[N][D] = mean_t h[N][T][D] */
void acrnn_mean_time_forward(float *v, const float *h, int n, int t, int d);
void acrnn_mean_time_backward(float *dh, const float *dv, int n, int t, int d);

#endif
