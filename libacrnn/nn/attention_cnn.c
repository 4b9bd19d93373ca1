/* attention_cnn.c - the paper's l2..l8 attention on a conv feature map:
 * a = conv3x3 'same' (one output channel) of M, mean over the rows (bands),
 * A = softmax over the columns (frames), out = M * A. */
#include "layers.h"

#include <math.h>
#include <string.h>

/* Only the row mean of the conv output is needed, and for a 3x3 kernel with
 * zero padding it reduces to column sums of M:
 *   s[n][x] = b + 1/H sum_c sum_ky sum_kx w[c][ky][kx] S_ky[c][n][x+kx-1]
 * where S_1 = sum of all rows of the column, S_0 = the same less the last
 * row (kernel row 0 never sees it), S_2 = less the first row. This is exact
 * and 9x cheaper than the full convolution. */

/* forward: tot [W]; backward: ds [N][W], tot [W], g [3][W] */
size_t acrnn_attention_cnn_workspace(int c, int n, int h, int w) {
  return (size_t)n * w + 4 * (size_t)w;
}

/* S[ky][x] of one plane p[H][W]: the column sums seen by kernel row ky */
static void column_sums(float *tot, const float *p, int h, int wd) {
  memset(tot, 0, (size_t)wd * sizeof(float));
  for (int y = 0; y < h; y++)
    for (int x = 0; x < wd; x++)
      tot[x] += p[(size_t)y * wd + x];
}

static float column_sum(const float *tot, const float *p, int h, int wd, int ky,
                        int x) {
  if (x < 0 || x >= wd)
    return 0.0f; /* zero padding left and right */
  float s = tot[x];
  if (ky == 0)
    s -= p[(size_t)(h - 1) * wd + x];
  else if (ky == 2)
    s -= p[x];
  return s;
}

void acrnn_attention_cnn_forward(float *out, float *attn, const float *m,
                                 const float *w, const float *b, int c, int n,
                                 int h, int wd, float *ws) {
  const size_t plane = (size_t)h * wd;
  const float inv_h = 1.0f / (float)h;
  float *tot = ws;

  /* s = mean over rows of the conv, written into attn */
  for (size_t k = 0; k < (size_t)n * wd; k++)
    attn[k] = b[0];
  for (int ci = 0; ci < c; ci++) {
    const float *wc = w + (size_t)ci * 9;
    for (int i = 0; i < n; i++) {
      const float *p = m + ((size_t)ci * n + i) * plane;
      float *si = attn + (size_t)i * wd;
      column_sums(tot, p, h, wd);
      for (int x = 0; x < wd; x++) {
        float acc = 0.0f;
        for (int ky = 0; ky < 3; ky++)
          for (int kx = 0; kx < 3; kx++)
            acc += wc[ky * 3 + kx] * column_sum(tot, p, h, wd, ky, x + kx - 1);
        si[x] += acc * inv_h;
      }
    }
  }

  /* A = softmax over the columns, per sample */
  for (int i = 0; i < n; i++) {
    float *ai = attn + (size_t)i * wd;
    float maxv = -INFINITY, sum = 0.0f;
    for (int x = 0; x < wd; x++)
      maxv = ai[x] > maxv ? ai[x] : maxv;
    for (int x = 0; x < wd; x++) {
      ai[x] = expf(ai[x] - maxv);
      sum += ai[x];
    }
    for (int x = 0; x < wd; x++)
      ai[x] /= sum;
  }

  /* out = M * A, broadcast over channels and rows */
  for (int ci = 0; ci < c; ci++)
    for (int i = 0; i < n; i++) {
      const float *ai = attn + (size_t)i * wd;
      size_t off = ((size_t)ci * n + i) * plane;
      for (int y = 0; y < h; y++)
        for (int x = 0; x < wd; x++)
          out[off + (size_t)y * wd + x] = m[off + (size_t)y * wd + x] * ai[x];
    }
}

void acrnn_attention_cnn_backward(float *dm, float *dw, float *db,
                                  const float *dout, const float *attn,
                                  const float *m, const float *w, int c, int n,
                                  int h, int wd, float *ws) {
  const size_t plane = (size_t)h * wd;
  const float inv_h = 1.0f / (float)h;
  float *ds = ws;                   /* [N][W] dL/dA, then dL/ds */
  float *tot = ds + (size_t)n * wd; /* [W] column sums */
  float *g = tot + wd;              /* [3][W] conv path, per kernel row */

  /* dA[n][x] = sum_c sum_y dout * M; direct path dM += dout * A */
  memset(ds, 0, (size_t)n * wd * sizeof(float));
  for (int ci = 0; ci < c; ci++)
    for (int i = 0; i < n; i++) {
      const float *ai = attn + (size_t)i * wd;
      float *dai = ds + (size_t)i * wd;
      size_t off = ((size_t)ci * n + i) * plane;
      for (int y = 0; y < h; y++)
        for (int x = 0; x < wd; x++) {
          size_t k = off + (size_t)y * wd + x;
          dai[x] += dout[k] * m[k];
          if (dm)
            dm[k] += dout[k] * ai[x];
        }
    }

  /* softmax backward: ds = A (dA - sum_x A dA); db += sum ds */
  for (int i = 0; i < n; i++) {
    const float *ai = attn + (size_t)i * wd;
    float *di = ds + (size_t)i * wd;
    float dot = 0.0f;
    for (int x = 0; x < wd; x++)
      dot += ai[x] * di[x];
    for (int x = 0; x < wd; x++) {
      di[x] = ai[x] * (di[x] - dot);
      db[0] += di[x];
    }
  }

  /* through the row mean of the conv */
  for (int ci = 0; ci < c; ci++) {
    const float *wc = w + (size_t)ci * 9;
    float *dwc = dw + (size_t)ci * 9;
    for (int i = 0; i < n; i++) {
      const float *p = m + ((size_t)ci * n + i) * plane;
      const float *di = ds + (size_t)i * wd;
      /* dw[c][ky][kx] += 1/H sum_x ds[x] S_ky[x+kx-1] */
      column_sums(tot, p, h, wd);
      for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++) {
          float acc = 0.0f;
          for (int x = 0; x < wd; x++)
            acc += di[x] * column_sum(tot, p, h, wd, ky, x + kx - 1);
          dwc[ky * 3 + kx] += acc * inv_h;
        }
      if (!dm)
        continue;
      /* g_ky[x'] = 1/H sum_kx ds[x'-kx+1] w[ky][kx]: what column x' of a
       * row seen by kernel row ky receives */
      for (int ky = 0; ky < 3; ky++)
        for (int x = 0; x < wd; x++) {
          float acc = 0.0f;
          for (int kx = 0; kx < 3; kx++) {
            int xo = x - kx + 1;
            if (xo >= 0 && xo < wd)
              acc += di[xo] * wc[ky * 3 + kx];
          }
          g[(size_t)ky * wd + x] = acc * inv_h;
        }
      /* every row is seen by ky = 1; all but the last by ky = 0; all but
       * the first by ky = 2 */
      float *dp = dm + ((size_t)ci * n + i) * plane;
      for (int y = 0; y < h; y++) {
        float *dr = dp + (size_t)y * wd;
        for (int x = 0; x < wd; x++) {
          float v = g[wd + x];
          if (y < h - 1)
            v += g[x];
          if (y > 0)
            v += g[2 * (size_t)wd + x];
          dr[x] += v;
        }
      }
    }
  }
}
