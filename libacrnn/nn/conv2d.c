/* conv2d.c - 2-D convolution, stride 1, 'same' zero padding, with bias, on
 * CNHW maps, lowered onto sgemm through im2col over chunks of the batch.
 *
 * A chunk is nc whole samples starting at n0, or, when one sample's columns
 * would not fit the cache budget, a block of nr output rows starting at i0
 * of one sample. Its column matrix is
 *   col[(ci*kh + ki)*kw + kj][(s*nr + i - i0)*W + j]
 *     = x[ci][n0+s][i+ki-ph][j+kj-pw]      (zero outside the map)
 * so the forward pass is one product per chunk,
 *   y[:, chunk] = W[Cout][K] x col[K][nc*nr*W]   (ldc = N*H*W),
 * and the backward pass dW += dY col^T. The input gradient is itself a
 * 'same' convolution of dY with the flipped kernel, channels swapped:
 *   dx[ci] += sum_co sum_k w[co][ci][K-1-k] shift_k(dy[co]),
 * so it is one more product of the same good shape over im2col(dY),
 *   dx[:, chunk] += Wt[Cin][Cout*K] x col_dy[Cout*K][cols],
 * accumulated by sgemm itself (beta 1). (Only when one row of col_dy would
 * not fit the caller's workspace does it fall back to dcol = W^T dY and
 * col2im, a product with the short inner dimension Cout.)
 * Chunks are sized so the column buffer stays in the L2 cache: it is
 * written by im2col and read right away by sgemm, never round-tripping
 * through main memory. Padding is handled by ranges of rows and columns,
 * never per element. */
#include "conv2d_direct.h"
#include "conv2d_direct_bf16.h"
#include "conv2d_wgrad.h"
#include "conv2d_wgrad_bf16.h"
#include "gemm.h"
#include "layers.h"

#include <glib.h>
#include <string.h>

/* Column buffer budget, in floats. */
#ifndef CONV_COL_FLOATS
#define CONV_COL_FLOATS ((size_t)256 * 1024)
#endif

/* How the batch is cut: nc samples per chunk, nr rows per chunk (nr < h
 * only when nc == 1). */
typedef struct {
  int nc, nr;
} ConvPlan;

/* The plan for a column buffer of at most budget floats (but at least one
 * output row, whatever the budget). */
static ConvPlan conv_plan_budget(int cin, int n, int h, int w, int kh, int kw,
                                 size_t budget) {
  ConvPlan p = {1, h};
  const size_t row = (size_t)cin * kh * kw * w; /* floats per output row */
  const size_t per = row * h;                   /* floats per sample */
  if (per <= budget) {
    size_t nc = budget / per;
    p.nc = nc > (size_t)n ? n : (int)nc;
  } else {
    size_t nr = budget / row;
    p.nr = nr < 1 ? 1 : (int)nr;
  }
  return p;
}

static ConvPlan conv_plan(int cin, int n, int h, int w, int kh, int kw) {
  return conv_plan_budget(cin, n, h, w, kh, kw, CONV_COL_FLOATS);
}

/* How many chunks the plan cuts the batch into. */
static int chunks(const ConvPlan *p, int n, int h) {
  return ((n + p->nc - 1) / p->nc) * ((h + p->nr - 1) / p->nr);
}

static int is_pointwise(int kh, int kw) {
  return kh == 1 && kw == 1;
}

/* The column buffer of im2col(x). */
static size_t im2col_workspace(int cin, int n, int h, int w, int kh, int kw) {
  const ConvPlan p = conv_plan(cin, n, h, w, kh, kw);
  return (size_t)cin * kh * kw * p.nc * p.nr * w;
}

size_t acrnn_conv2d_workspace(int cin, int cout, int n, int h, int w, int kh,
                              int kw) {
  if (cin <= 0 || cout <= 0 || n <= 0 || h <= 0 || w <= 0 || kh <= 0 || kw <= 0)
    return 0;
  if (is_pointwise(kh, kw))
    return 0; /* the input itself is the column matrix */
  /* Both paths' needs, so the path may change after sizing (tests). The
   * direct path's is a few hundred KiB at most. */
  const size_t col = im2col_workspace(cin, n, h, w, kh, kw);
  const size_t direct = acrnn_conv2d_direct_workspace(cin, cout, h, w, kh, kw);
  const size_t bf16 =
      acrnn_conv2d_direct_bf16_workspace(cin, cout, h, w, kh, kw);
  const size_t most = col > direct ? col : direct;
  return most > bf16 ? most : bf16;
}

/* Valid output range [lo, hi) of an axis of length len for a kernel offset
 * shift = k - pad: positions whose source p + shift lies inside [0, len). */
static void valid_range(int len, int shift, int *lo, int *hi) {
  int l = shift < 0 ? -shift : 0;
  int u = shift > 0 ? len - shift : len;
  if (l > len)
    l = len;
  if (u < l)
    u = l;
  *lo = l;
  *hi = u;
}

static int max_i(int a, int b) {
  return a > b ? a : b;
}

static int min_i(int a, int b) {
  return a < b ? a : b;
}

/* One chunk: samples n0..n0+nc-1, output rows i0..i0+nr-1. */
typedef struct {
  int n0, nc, i0, nr;
} ConvChunk;

/* d[0..n) += s[0..n), unrolled so that -O2 vectorises it. */
static void add_row(float *restrict d, const float *restrict s, int n) {
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    d[j] += s[j];
    d[j + 1] += s[j + 1];
    d[j + 2] += s[j + 2];
    d[j + 3] += s[j + 3];
    d[j + 4] += s[j + 4];
    d[j + 5] += s[j + 5];
    d[j + 6] += s[j + 6];
    d[j + 7] += s[j + 7];
  }
  for (; j < n; j++)
    d[j] += s[j];
}

/* Sum of n floats: eight float lanes over blocks of 1024, blocks summed in
 * double. */
static double row_sum(const float *v, size_t n) {
  double total = 0.0;
  size_t i = 0;
  while (i < n) {
    const size_t end = n - i > 1024 ? i + 1024 : n;
    float a[8] = {0};
    for (; i + 8 <= end; i += 8)
      for (int k = 0; k < 8; k++)
        a[k] += v[i + k];
    for (; i < end; i++)
      a[0] += v[i];
    total += (double)a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
  }
  return total;
}

/* col <- im2col of the chunk. */
static void im2col(float *col, const float *x, const ConvChunk *c, int n,
                   int cin, int h, int w, int kh, int kw) {
  const size_t hw = (size_t)h * w;
  const size_t blk = (size_t)c->nr * w;
  const size_t ld = (size_t)c->nc * blk;
  const int ph = kh / 2, pw = kw / 2;
  const int i1 = c->i0 + c->nr;
  for (int ci = 0; ci < cin; ci++) {
    for (int ki = 0; ki < kh; ki++) {
      int ilo, ihi;
      valid_range(h, ki - ph, &ilo, &ihi);
      ilo = min_i(max_i(ilo, c->i0), i1);
      ihi = max_i(min_i(ihi, i1), ilo);
      for (int kj = 0; kj < kw; kj++) {
        int jlo, jhi;
        const int dj = kj - pw;
        valid_range(w, dj, &jlo, &jhi);
        float *row = col + ((size_t)(ci * kh + ki) * kw + kj) * ld;
        for (int s = 0; s < c->nc; s++) {
          const float *plane = x + ((size_t)ci * n + c->n0 + s) * hw;
          float *dst = row + (size_t)s * blk - (size_t)c->i0 * w;
          if (ilo > c->i0)
            memset(dst + (size_t)c->i0 * w, 0,
                   sizeof(float) * (size_t)(ilo - c->i0) * w);
          for (int i = ilo; i < ihi; i++) {
            const float *src = plane + (size_t)(i + ki - ph) * w + dj;
            float *d = dst + (size_t)i * w;
            for (int j = 0; j < jlo; j++)
              d[j] = 0.0f;
            memcpy(d + jlo, src + jlo, sizeof(float) * (size_t)(jhi - jlo));
            for (int j = jhi; j < w; j++)
              d[j] = 0.0f;
          }
          if (ihi < i1)
            memset(dst + (size_t)ihi * w, 0,
                   sizeof(float) * (size_t)(i1 - ihi) * w);
        }
      }
    }
  }
}

/* dx += col2im(col) for the chunk. */
static void col2im_add(float *dx, const float *col, const ConvChunk *c, int n,
                       int cin, int h, int w, int kh, int kw) {
  const size_t hw = (size_t)h * w;
  const size_t blk = (size_t)c->nr * w;
  const size_t ld = (size_t)c->nc * blk;
  const int ph = kh / 2, pw = kw / 2;
  const int i1 = c->i0 + c->nr;
  for (int ci = 0; ci < cin; ci++) {
    for (int s = 0; s < c->nc; s++) {
      float *plane = dx + ((size_t)ci * n + c->n0 + s) * hw;
      for (int ki = 0; ki < kh; ki++) {
        int ilo, ihi;
        valid_range(h, ki - ph, &ilo, &ihi);
        ilo = min_i(max_i(ilo, c->i0), i1);
        ihi = max_i(min_i(ihi, i1), ilo);
        for (int kj = 0; kj < kw; kj++) {
          int jlo, jhi;
          const int dj = kj - pw;
          valid_range(w, dj, &jlo, &jhi);
          const float *src = col + ((size_t)(ci * kh + ki) * kw + kj) * ld +
                             (size_t)s * blk - (size_t)c->i0 * w;
          for (int i = ilo; i < ihi; i++)
            add_row(plane + (size_t)(i + ki - ph) * w + dj + jlo,
                    src + (size_t)i * w + jlo, jhi - jlo);
        }
      }
    }
  }
}

/* The epilogue, on rows ld apart: y[co][0..cols) = scale[co] * y + b[co]
 * (scale 1 when NULL, no bias when NULL), then max(y, 0) when relu is set. */
static void epilogue(float *y, const float *scale, const float *b, int cout,
                     size_t cols, size_t ld, int relu) {
  if (!scale && !b && !relu)
    return;
  for (int co = 0; co < cout; co++)
    acrnn_affine_relu(y + (size_t)co * ld, y + (size_t)co * ld, cols,
                      scale ? scale[co] : 1.0f, b ? b[co] : 0.0f, relu);
}

/* The direct convolution in the precision of the pass (gemm.h). */
static void direct(float *y, const float *x, const float *w, int n, int cin,
                   int cout, int h, int wd, int kh, int kw, const float *scale,
                   const float *shift, int relu, int accumulate, int flip,
                   float *ws) {
  if (acrnn_gemm_precision() == ACRNN_PRECISION_BF16)
    acrnn_conv2d_direct_bf16(y, x, w, n, cin, cout, h, wd, kh, kw, scale, shift,
                             relu, accumulate, flip, ws);
  else
    acrnn_conv2d_direct(y, x, w, n, cin, cout, h, wd, kh, kw, scale, shift,
                        relu, accumulate, flip, ws);
}

static void conv2d_forward(float *y, const float *x, const float *w,
                           const float *scale, const float *b, int n, int cin,
                           int cout, int h, int wd, int kh, int kw, float *ws,
                           int relu) {
  if (n <= 0 || cin <= 0 || cout <= 0 || h <= 0 || wd <= 0)
    return;
  const size_t hw = (size_t)h * wd;
  const size_t nhw = (size_t)n * hw;
  const int k = cin * kh * kw;

  if (is_pointwise(kh, kw)) {
    /* The input already is the column matrix: one product, no copy. */
    acrnn_gemm(CblasNoTrans, CblasNoTrans, cout, (int)nhw, k, w, k, x, (int)nhw,
               0.0f, y, (int)nhw);
    epilogue(y, scale, b, cout, nhw, nhw, relu);
    return;
  }

  if (acrnn_conv2d_direct_chosen(h, wd, kh, kw)) {
    direct(y, x, w, n, cin, cout, h, wd, kh, kw, scale, b, relu, 0, 0, ws);
    return;
  }

  const ConvPlan p = conv_plan(cin, n, h, wd, kh, kw);
  AcrnnGemmHold held = {0};
  if (chunks(&p, n, h) > 1) /* the weights rounded and packed once */
    acrnn_gemm_hold_a(&held, CblasNoTrans, cout, k, w, k);
  for (int n0 = 0; n0 < n; n0 += p.nc) {
    for (int i0 = 0; i0 < h; i0 += p.nr) {
      const ConvChunk c = {n0, min_i(p.nc, n - n0), i0, min_i(p.nr, h - i0)};
      const int cols = c.nc * c.nr * wd;
      im2col(ws, x, &c, n, cin, h, wd, kh, kw);
      float *yc = y + (size_t)n0 * hw + (size_t)i0 * wd;
      acrnn_gemm(CblasNoTrans, CblasNoTrans, cout, cols, k, w, k, ws, cols,
                 0.0f, yc, (int)nhw);
      epilogue(yc, scale, b, cout, (size_t)cols, nhw, relu); /* in cache */
    }
  }
  acrnn_gemm_hold_end(&held);
}

void acrnn_conv2d_forward(float *y, const float *x, const float *w,
                          const float *b, int n, int cin, int cout, int h,
                          int wd, int kh, int kw, float *ws) {
  conv2d_forward(y, x, w, NULL, b, n, cin, cout, h, wd, kh, kw, ws, 0);
}

void acrnn_conv2d_scale_relu_forward(float *y, const float *x, const float *w,
                                     const float *scale, const float *shift,
                                     int n, int cin, int cout, int h, int wd,
                                     int kh, int kw, float *ws) {
  conv2d_forward(y, x, w, scale, shift, n, cin, cout, h, wd, kh, kw, ws, 1);
}

void acrnn_conv2d_scale_relu_pool_forward(float *y, float *map, const float *x,
                                          const float *w, const float *scale,
                                          const float *shift, int n, int cin,
                                          int cout, int h, int wd, int kh,
                                          int kw, int ph, int pw, float *ws) {
  if (n <= 0 || cin <= 0 || cout <= 0 || h <= 0 || wd <= 0)
    return;
  if (!is_pointwise(kh, kw) && acrnn_conv2d_direct_chosen(h, wd, kh, kw)) {
    const int fused =
        acrnn_gemm_precision() == ACRNN_PRECISION_BF16
            ? acrnn_conv2d_direct_bf16_pool(y, x, w, n, cin, cout, h, wd, kh,
                                            kw, scale, shift, ph, pw, ws)
            : acrnn_conv2d_direct_pool(y, x, w, n, cin, cout, h, wd, kh, kw,
                                       scale, shift, ph, pw, ws);
    if (fused)
      return;
  }
  conv2d_forward(map, x, w, scale, shift, n, cin, cout, h, wd, kh, kw, ws, 1);
  acrnn_maxpool_forward(y, NULL, map, cout * n, h, wd, ph, pw);
}

/* The backward pass; dx is overwritten (=) when set, else accumulated. */
static void conv2d_backward(float *dx, float *dw, float *db, const float *dy,
                            const float *x, const float *w, int n, int cin,
                            int cout, int h, int wd, int kh, int kw, float *ws,
                            int set) {
  if (n <= 0 || cin <= 0 || cout <= 0 || h <= 0 || wd <= 0)
    return;
  const size_t hw = (size_t)h * wd;
  const size_t nhw = (size_t)n * hw;
  const int k = cin * kh * kw;

  if (db) {
    for (int co = 0; co < cout; co++) {
      db[co] += (float)row_sum(dy + (size_t)co * nhw, nhw);
    }
  }

  if (is_pointwise(kh, kw)) {
    if (dw)
      acrnn_gemm(CblasNoTrans, CblasTrans, cout, k, (int)nhw, dy, (int)nhw, x,
                 (int)nhw, 1.0f, dw, k);
    if (dx)
      acrnn_gemm(CblasTrans, CblasNoTrans, k, (int)nhw, cout, w, k, dy,
                 (int)nhw, set ? 0.0f : 1.0f, dx, (int)nhw);
    return;
  }

  if (dw && acrnn_gemm_precision() == ACRNN_PRECISION_BF16 &&
      acrnn_conv2d_direct_chosen(h, wd, kh, kw) &&
      acrnn_conv2d_wgrad_bf16_handles(kh, kw)) {
    acrnn_conv2d_wgrad_bf16(dw, dy, x, n, cin, cout, h, wd, kh, kw);
  } else if (dw && acrnn_gemm_precision() == ACRNN_PRECISION_FP32 &&
             acrnn_conv2d_direct_chosen(h, wd, kh, kw) &&
             acrnn_conv2d_wgrad_handles(kh, kw)) {
    acrnn_conv2d_wgrad(dw, dy, x, n, cin, cout, h, wd, kh, kw);
  } else if (dw) {
    const ConvPlan p = conv_plan(cin, n, h, wd, kh, kw);
    for (int n0 = 0; n0 < n; n0 += p.nc)
      for (int i0 = 0; i0 < h; i0 += p.nr) {
        const ConvChunk c = {n0, min_i(p.nc, n - n0), i0, min_i(p.nr, h - i0)};
        const int cols = c.nc * c.nr * wd;
        im2col(ws, x, &c, n, cin, h, wd, kh, kw);
        acrnn_gemm(CblasNoTrans, CblasTrans, cout, k, cols,
                   dy + (size_t)n0 * hw + (size_t)i0 * wd, (int)nhw, ws, cols,
                   1.0f, dw, k);
      }
  }
  if (!dx)
    return;
  if (acrnn_conv2d_direct_chosen(h, wd, kh, kw)) {
    direct(dx, dy, w, n, cout, cin, h, wd, kh, kw, NULL, NULL, 0, !set, 1, ws);
    return;
  }
  /* The caller sized ws for im2col(x); im2col(dy) has cout/cin times as many
   * rows, so its chunks are cut to the same budget. */
  const size_t budget = im2col_workspace(cin, n, h, wd, kh, kw);
  const int kk = kh * kw, kt = cout * kk;
  if ((size_t)kt * wd <= budget) {
    /* wt[ci][co*K + f] = w[co][ci][K-1-f]: channels swapped, kernel flipped */
    float *wt = g_new(float, (size_t)cin *kt);
    for (int co = 0; co < cout; co++)
      for (int ci = 0; ci < cin; ci++) {
        const float *src = w + ((size_t)co * cin + ci) * kk;
        float *dst = wt + (size_t)ci * kt + (size_t)co * kk;
        for (int f = 0; f < kk; f++)
          dst[f] = src[kk - 1 - f];
      }
    const ConvPlan p = conv_plan_budget(cout, n, h, wd, kh, kw, budget);
    AcrnnGemmHold held = {0};
    if (chunks(&p, n, h) > 1)
      acrnn_gemm_hold_a(&held, CblasNoTrans, cin, kt, wt, kt);
    for (int n0 = 0; n0 < n; n0 += p.nc)
      for (int i0 = 0; i0 < h; i0 += p.nr) {
        const ConvChunk c = {n0, min_i(p.nc, n - n0), i0, min_i(p.nr, h - i0)};
        const int cols = c.nc * c.nr * wd;
        im2col(ws, dy, &c, n, cout, h, wd, kh, kw);
        /* the chunks do not overlap: each writes its part of dx once */
        acrnn_gemm(CblasNoTrans, CblasNoTrans, cin, cols, kt, wt, kt, ws, cols,
                   set ? 0.0f : 1.0f, dx + (size_t)n0 * hw + (size_t)i0 * wd,
                   (int)nhw);
      }
    acrnn_gemm_hold_end(&held);
    g_free(wt);
    return;
  }
  /* Fallback: dcol = W^T dY in the column buffer, then col2im. */
  if (set)
    memset(dx, 0, sizeof(float) * (size_t)cin * nhw);
  const ConvPlan p = conv_plan(cin, n, h, wd, kh, kw);
  for (int n0 = 0; n0 < n; n0 += p.nc)
    for (int i0 = 0; i0 < h; i0 += p.nr) {
      const ConvChunk c = {n0, min_i(p.nc, n - n0), i0, min_i(p.nr, h - i0)};
      const int cols = c.nc * c.nr * wd;
      acrnn_gemm(CblasTrans, CblasNoTrans, k, cols, cout, w, k,
                 dy + (size_t)n0 * hw + (size_t)i0 * wd, (int)nhw, 0.0f, ws,
                 cols);
      col2im_add(dx, ws, &c, n, cin, h, wd, kh, kw);
    }
}

void acrnn_conv2d_backward(float *dx, float *dw, float *db, const float *dy,
                           const float *x, const float *w, int n, int cin,
                           int cout, int h, int wd, int kh, int kw, float *ws) {
  conv2d_backward(dx, dw, db, dy, x, w, n, cin, cout, h, wd, kh, kw, ws, 0);
}

void acrnn_conv2d_backward_set(float *dx, float *dw, float *db, const float *dy,
                               const float *x, const float *w, int n, int cin,
                               int cout, int h, int wd, int kh, int kw,
                               float *ws) {
  conv2d_backward(dx, dw, db, dy, x, w, n, cin, cout, h, wd, kh, kw, ws, 1);
}

/* The forward's product on the im2col path: W [Cout][Cin*kh*kw] is A.
 * Maps that the direct kernels take have no product to pack for. */
void acrnn_conv2d_pack_weights(AcrnnPackedWeights *set, const float *w, int cin,
                               int cout, int h, int wd, int kh, int kw) {
  if (!is_pointwise(kh, kw) && acrnn_conv2d_direct_chosen(h, wd, kh, kw))
    return;
  const int k = cin * kh * kw;
  acrnn_packed_weights_add_a(set, w, 0, cout, k, k);
}
