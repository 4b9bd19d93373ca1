/* conv2d.c - 2-D convolution, stride 1, 'same' zero padding, with bias, on
 * CNHW maps, lowered onto sgemm through im2col over chunks of the batch.
 *
 * For a chunk of nc samples starting at n0, the column matrix is
 *   col[(ci*kh + ki)*kw + kj][s*H*W + i*W + j] = x[ci][n0+s][i+ki-ph][j+kj-pw]
 * (zero outside the map), so the forward pass is one product
 *   y[:, n0.., :] = W[Cout][K] x col[K][nc*H*W]   (ldc = N*H*W)
 * and the backward pass dW += dY col^T, dcol = W^T dY, col2im(dcol) -> dx.
 * Padding is handled by ranges of rows and columns, never per element. */
#include "layers.h"

#include <cblas.h>
#include <string.h>

/* Upper bound on the column buffer, in floats (64 MiB). */
#define CONV_COL_MAX_FLOATS ((size_t)16 * 1024 * 1024)

/* Samples per im2col chunk: as many as fit in the bound, at least one. */
static int conv_chunk(int cin, int n, int h, int w, int kh, int kw) {
  size_t per = (size_t)cin * kh * kw * h * w;
  size_t nc = per > 0 ? CONV_COL_MAX_FLOATS / per : (size_t)n;
  if (nc < 1)
    nc = 1;
  if (nc > (size_t)n)
    nc = (size_t)n;
  return (int)nc;
}

static int is_pointwise(int kh, int kw) {
  return kh == 1 && kw == 1;
}

size_t acrnn_conv2d_workspace(int cin, int n, int h, int w, int kh, int kw) {
  if (cin <= 0 || n <= 0 || h <= 0 || w <= 0 || kh <= 0 || kw <= 0)
    return 0;
  int nc = conv_chunk(cin, n, h, w, kh, kw);
  if (is_pointwise(kh, kw))
    return (size_t)cin * nc * h * w; /* only the backward dx product */
  return (size_t)cin * kh * kw * nc * h * w;
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

/* col <- im2col of samples n0..n0+nc-1 of x (all channels). */
static void im2col(float *col, const float *x, int n, int n0, int nc, int cin,
                   int h, int w, int kh, int kw) {
  const size_t hw = (size_t)h * w;
  const size_t ld = (size_t)nc * hw;
  const int ph = kh / 2, pw = kw / 2;
  for (int ci = 0; ci < cin; ci++) {
    for (int ki = 0; ki < kh; ki++) {
      int ilo, ihi;
      valid_range(h, ki - ph, &ilo, &ihi);
      for (int kj = 0; kj < kw; kj++) {
        int jlo, jhi;
        const int dj = kj - pw;
        valid_range(w, dj, &jlo, &jhi);
        float *row = col + ((size_t)(ci * kh + ki) * kw + kj) * ld;
        for (int s = 0; s < nc; s++) {
          const float *plane = x + ((size_t)ci * n + n0 + s) * hw;
          float *dst = row + (size_t)s * hw;
          if (ilo > 0)
            memset(dst, 0, sizeof(float) * (size_t)ilo * w);
          for (int i = ilo; i < ihi; i++) {
            const float *src = plane + (size_t)(i + ki - ph) * w + dj;
            float *d = dst + (size_t)i * w;
            for (int j = 0; j < jlo; j++)
              d[j] = 0.0f;
            memcpy(d + jlo, src + jlo, sizeof(float) * (size_t)(jhi - jlo));
            for (int j = jhi; j < w; j++)
              d[j] = 0.0f;
          }
          if (ihi < h)
            memset(dst + (size_t)ihi * w, 0,
                   sizeof(float) * (size_t)(h - ihi) * w);
        }
      }
    }
  }
}

/* dx[:, n0..n0+nc-1] += col2im(col). */
static void col2im_add(float *dx, const float *col, int n, int n0, int nc,
                       int cin, int h, int w, int kh, int kw) {
  const size_t hw = (size_t)h * w;
  const size_t ld = (size_t)nc * hw;
  const int ph = kh / 2, pw = kw / 2;
  for (int ci = 0; ci < cin; ci++) {
    for (int s = 0; s < nc; s++) {
      float *plane = dx + ((size_t)ci * n + n0 + s) * hw;
      for (int ki = 0; ki < kh; ki++) {
        int ilo, ihi;
        valid_range(h, ki - ph, &ilo, &ihi);
        for (int kj = 0; kj < kw; kj++) {
          int jlo, jhi;
          const int dj = kj - pw;
          valid_range(w, dj, &jlo, &jhi);
          const float *src =
              col + ((size_t)(ci * kh + ki) * kw + kj) * ld + (size_t)s * hw;
          for (int i = ilo; i < ihi; i++) {
            float *d = plane + (size_t)(i + ki - ph) * w + dj;
            const float *c = src + (size_t)i * w;
            for (int j = jlo; j < jhi; j++)
              d[j] += c[j];
          }
        }
      }
    }
  }
}

void acrnn_conv2d_forward(float *y, const float *x, const float *w,
                          const float *b, int n, int cin, int cout, int h,
                          int wd, int kh, int kw, float *ws) {
  if (n <= 0 || cin <= 0 || cout <= 0 || h <= 0 || wd <= 0)
    return;
  const size_t hw = (size_t)h * wd;
  const size_t nhw = (size_t)n * hw;
  const int k = cin * kh * kw;

  for (int co = 0; co < cout; co++) {
    float *row = y + (size_t)co * nhw;
    const float bias = b ? b[co] : 0.0f;
    for (size_t i = 0; i < nhw; i++)
      row[i] = bias;
  }

  if (is_pointwise(kh, kw)) {
    /* The input already is the column matrix: one product, no copy. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, (int)nhw, k,
                1.0f, w, k, x, (int)nhw, 1.0f, y, (int)nhw);
    return;
  }

  const int nc = conv_chunk(cin, n, h, wd, kh, kw);
  for (int n0 = 0; n0 < n; n0 += nc) {
    const int m = n - n0 < nc ? n - n0 : nc;
    const int cols = (int)((size_t)m * hw);
    im2col(ws, x, n, n0, m, cin, h, wd, kh, kw);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cout, cols, k, 1.0f,
                w, k, ws, cols, 1.0f, y + (size_t)n0 * hw, (int)nhw);
  }
}

void acrnn_conv2d_backward(float *dx, float *dw, float *db, const float *dy,
                           const float *x, const float *w, int n, int cin,
                           int cout, int h, int wd, int kh, int kw, float *ws) {
  if (n <= 0 || cin <= 0 || cout <= 0 || h <= 0 || wd <= 0)
    return;
  const size_t hw = (size_t)h * wd;
  const size_t nhw = (size_t)n * hw;
  const int k = cin * kh * kw;

  if (db) {
    for (int co = 0; co < cout; co++) {
      const float *row = dy + (size_t)co * nhw;
      double s = 0.0;
      for (size_t i = 0; i < nhw; i++)
        s += row[i];
      db[co] += (float)s;
    }
  }

  if (is_pointwise(kh, kw)) {
    if (dw)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cout, k, (int)nhw,
                  1.0f, dy, (int)nhw, x, (int)nhw, 1.0f, dw, k);
    if (dx)
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, (int)nhw, cout,
                  1.0f, w, k, dy, (int)nhw, 1.0f, dx, (int)nhw);
    return;
  }

  if (!dw && !dx)
    return;
  const int nc = conv_chunk(cin, n, h, wd, kh, kw);
  for (int n0 = 0; n0 < n; n0 += nc) {
    const int m = n - n0 < nc ? n - n0 : nc;
    const int cols = (int)((size_t)m * hw);
    const float *dyc = dy + (size_t)n0 * hw;
    if (dw) {
      im2col(ws, x, n, n0, m, cin, h, wd, kh, kw);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cout, k, cols, 1.0f,
                  dyc, (int)nhw, ws, cols, 1.0f, dw, k);
    }
    if (dx) {
      /* The column buffer is reused for dcol = W^T dY. */
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, cols, cout, 1.0f,
                  w, k, dyc, (int)nhw, 0.0f, ws, cols);
      col2im_add(dx, ws, n, n0, m, cin, h, wd, kh, kw);
    }
  }
}
