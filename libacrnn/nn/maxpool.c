/* maxpool.c - 2-D max pooling with kernel = stride (ph, pw), floor mode,
 * over cn independent planes; remembers the argmax of each window as an
 * index into its input plane (i * w + j).
 *
 * Semantics are PyTorch's row-major scan "if (v > best || isnan(v)) take v":
 * the first maximum wins, a NaN beats any number and a later NaN an earlier
 * one. In flat indices (increasing in row-major order) that is: the maximum
 * with the smallest index, or, if the window holds NaNs, the NaN with the
 * largest index.
 *
 * The scan is split in two so that the bulk of it vectorises, even at -O2:
 * a vertical pass down the ph rows of a band of windows, along contiguous
 * columns (a branch-free select per element), leaves each column's best
 * (value, index); a horizontal pass then picks the best of the pw columns
 * of each window with the index rule above, which gives exactly the
 * element the row-major scan would. */
#include "layers.h"

#include <string.h>

#define TILE 256 /* columns per vertical pass (stack arrays) */
#define V 16     /* columns per fixed-count inner loop */

/* One band row: best/arg[0..n) updated with row xr (flat index base + j):
 * take v if v > best or v is NaN (a later NaN wins in the column). */
static void column_update(float *restrict best, int32_t *restrict arg,
                          const float *restrict xr, int32_t base, int n) {
  int j = 0;
  for (; j + V <= n; j += V)
    for (int k = 0; k < V; k++) {
      const float v = xr[j + k], b = best[j + k];
      const int t = (v > b) | (v != v);
      best[j + k] = t ? v : b;
      arg[j + k] = t ? base + j + k : arg[j + k];
    }
  for (; j < n; j++) {
    const float v = xr[j], b = best[j];
    const int t = (v > b) | (v != v);
    best[j] = t ? v : b;
    arg[j] = t ? base + j : arg[j];
  }
}

/* Column candidate (v, id) beats the window's best so far (b, bid)? */
static inline int beats(float v, int32_t id, float b, int32_t bid) {
  if (v != v) /* NaN: beats numbers, and NaNs earlier in row-major order */
    return b == b || id > bid;
  return v > b || (v == b && id < bid);
}

/* Four lanes at once, branch-free (GCC vectors, vectorised at any -O; a
 * branch per value mispredicts on half of them). */
typedef float VPool __attribute__((vector_size(16)));
typedef int32_t VPoolMask __attribute__((vector_size(16)));

static inline VPool select_v(VPoolMask take, VPool v, VPool b) {
  return (VPool)(((VPoolMask)v & take) | ((VPoolMask)b & ~take));
}

/* beats() on four lanes: all ones where (v, id) beats (b, bid). */
static inline VPoolMask beats_v(VPool v, VPoolMask id, VPool b, VPoolMask bid) {
  const VPoolMask vnan = v != v;
  const VPoolMask nan_wins = (b == b) | (id > bid);
  const VPoolMask num_wins = (v > b) | ((v == b) & (id < bid));
  return (vnan & nan_wins) | (~vnan & num_wins);
}

/* yo[o], ao[o] = the best (beats()) of the pw column bests cv, ci of each
 * of the nw windows, taken in column order; four windows at a time, their
 * k-th columns gathered into one vector. */
static void horizontal_args(float *yo, int32_t *ao, const float *cv,
                            const int32_t *ci, int nw, int pw) {
  int o = 0;
  for (; o + 4 <= nw; o += 4) {
    const float *c = cv + (size_t)o * pw;
    const int32_t *d = ci + (size_t)o * pw;
    VPool b = {c[0], c[pw], c[2 * pw], c[3 * pw]};
    VPoolMask bid = {d[0], d[pw], d[2 * pw], d[3 * pw]};
    for (int k = 1; k < pw; k++) {
      const VPool v = {c[k], c[pw + k], c[2 * pw + k], c[3 * pw + k]};
      const VPoolMask id = {d[k], d[pw + k], d[2 * pw + k], d[3 * pw + k]};
      const VPoolMask take = beats_v(v, id, b, bid);
      b = select_v(take, v, b);
      bid = (id & take) | (bid & ~take);
    }
    memcpy(yo + o, &b, sizeof b);
    memcpy(ao + o, &bid, sizeof bid);
  }
  for (; o < nw; o++) {
    float b = cv[o * pw];
    int32_t bid = ci[o * pw];
    for (int k = 1; k < pw; k++)
      if (beats(cv[o * pw + k], ci[o * pw + k], b, bid)) {
        b = cv[o * pw + k];
        bid = ci[o * pw + k];
      }
    yo[o] = b;
    ao[o] = bid;
  }
}

static void pool_plane(float *y, int32_t *argmax, const float *x, int h, int w,
                       int ph, int pw) {
  const int oh = h / ph, ow = w / pw;
  const int tile_w = TILE / pw; /* windows per tile */
  float cv[TILE];
  int32_t ci[TILE];
  for (int oi = 0; oi < oh; oi++) {
    for (int o0 = 0; o0 < ow; o0 += tile_w) {
      const int nw = ow - o0 < tile_w ? ow - o0 : tile_w;
      const int j0 = o0 * pw, n = nw * pw;
      const int i0 = oi * ph;
      /* vertical: the first row initialises the column bests */
      memcpy(cv, x + (size_t)i0 * w + j0, sizeof(float) * (size_t)n);
      for (int j = 0; j < n; j++)
        ci[j] = i0 * w + j0 + j;
      for (int i = i0 + 1; i < i0 + ph; i++)
        column_update(cv, ci, x + (size_t)i * w + j0, i * w + j0, n);
      /* horizontal: the best of each window's pw columns */
      horizontal_args(y + (size_t)oi * ow + o0, argmax + (size_t)oi * ow + o0,
                      cv, ci, nw, pw);
    }
  }
}

/* Windows wider than a tile: the plain row-major scan (argmax may be
 * NULL). */
static void pool_plane_scan(float *y, int32_t *argmax, const float *x, int h,
                            int w, int ph, int pw) {
  const int oh = h / ph, ow = w / pw;
  for (int oi = 0; oi < oh; oi++)
    for (int oj = 0; oj < ow; oj++) {
      int32_t bid = oi * ph * w + oj * pw;
      float b = x[bid];
      for (int i = oi * ph; i < oi * ph + ph; i++)
        for (int j = oj * pw; j < oj * pw + pw; j++)
          if (x[i * w + j] > b || x[i * w + j] != x[i * w + j]) {
            b = x[i * w + j];
            bid = i * w + j;
          }
      y[oi * ow + oj] = b;
      if (argmax)
        argmax[oi * ow + oj] = bid;
    }
}

/* Inference: values only, no indices. max_nan(b, v) takes v if v > b or v
 * is NaN, so a NaN anywhere in a window reaches the output, as in the scan
 * above; with no ties to break, the order of the comparisons is free, and
 * the vertical pass runs down the whole band width at once. */
static inline float max_nan(float b, float v) {
  return ((v > b) | (v != v)) ? v : b;
}

/* The same on four lanes. */
static inline VPool max_nan_v(VPool b, VPool v) {
  return select_v((v > b) | (v != v), v, b);
}

/* yo[o] = the max_nan of the pw columns cv[o * pw ..] of each of the nw
 * windows, taken in column order; four windows at a time, their k-th
 * columns gathered into one vector (a branch per value, as the compiler
 * makes of the scalar loop, mispredicts on half of them). */
static void horizontal_values(float *yo, const float *cv, int nw, int pw) {
  int o = 0;
  for (; o + 4 <= nw; o += 4) {
    const float *c = cv + (size_t)o * pw;
    VPool b = {c[0], c[pw], c[2 * pw], c[3 * pw]};
    for (int k = 1; k < pw; k++) {
      const VPool v = {c[k], c[pw + k], c[2 * pw + k], c[3 * pw + k]};
      b = max_nan_v(b, v);
    }
    memcpy(yo + o, &b, sizeof b);
  }
  for (; o < nw; o++) {
    float b = cv[o * pw];
    for (int k = 1; k < pw; k++)
      b = max_nan(b, cv[o * pw + k]);
    yo[o] = b;
  }
}

static void pool_plane_values(float *y, const float *x, int h, int w, int ph,
                              int pw) {
  const int oh = h / ph, ow = w / pw;
  const int span = TILE / pw * pw; /* columns of whole windows per pass */
  float cv[TILE];
  for (int oi = 0; oi < oh; oi++) {
    for (int j0 = 0; j0 < ow * pw; j0 += span) {
      const int n = ow * pw - j0 < span ? ow * pw - j0 : span;
      const float *r = x + (size_t)oi * ph * w + j0;
      memcpy(cv, r, sizeof(float) * (size_t)n);
      for (int i = 1; i < ph; i++) {
        const float *ri = r + (size_t)i * w;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
          VPool b, v;
          memcpy(&b, cv + j, sizeof b);
          memcpy(&v, ri + j, sizeof v);
          b = max_nan_v(b, v);
          memcpy(cv + j, &b, sizeof b);
        }
        for (; j < n; j++)
          cv[j] = max_nan(cv[j], ri[j]);
      }
      float *yo = y + (size_t)oi * ow + j0 / pw;
      horizontal_values(yo, cv, n / pw, pw);
    }
  }
}

void acrnn_maxpool_forward(float *y, int32_t *argmax, const float *x, int cn,
                           int h, int w, int ph, int pw) {
  if (ph <= 0 || pw <= 0)
    return;
  const size_t in = (size_t)h * w, out = (size_t)(h / ph) * (w / pw);
  for (int p = 0; p < cn; p++) {
    int32_t *am = argmax ? argmax + p * out : NULL;
    if (pw > TILE)
      pool_plane_scan(y + p * out, am, x + p * in, h, w, ph, pw);
    else if (am)
      pool_plane(y + p * out, am, x + p * in, h, w, ph, pw);
    else
      pool_plane_values(y + p * out, x + p * in, h, w, ph, pw);
  }
}

void acrnn_maxpool_backward(float *dx, const float *dy, const int32_t *argmax,
                            int cn, int h, int w, int ph, int pw) {
  if (!dx || ph <= 0 || pw <= 0)
    return;
  const size_t out = (size_t)(h / ph) * (w / pw);
  for (int p = 0; p < cn; p++) {
    float *dp = dx + (size_t)p * h * w;
    const float *gp = dy + (size_t)p * out;
    const int32_t *ap = argmax + (size_t)p * out;
    for (size_t o = 0; o < out; o++)
      dp[ap[o]] += gp[o];
  }
}

/* Every element of dx is written once, in order: zeros (a memset, fast at
 * any optimisation level), then dy at each argmax while the rows are still
 * in cache; rows and columns past the last window stay 0. */
void acrnn_maxpool_backward_set(float *dx, const float *dy,
                                const int32_t *argmax, int cn, int h, int w,
                                int ph, int pw) {
  if (!dx || ph <= 0 || pw <= 0)
    return;
  const int oh = h / ph, ow = w / pw;
  for (int p = 0; p < cn; p++) {
    float *dp = dx + (size_t)p * h * w;
    const float *gp = dy + (size_t)p * oh * ow;
    const int32_t *ap = argmax + (size_t)p * oh * ow;
    for (int oi = 0; oi < oh; oi++) {
      memset(dp + (size_t)oi * ph * w, 0, sizeof(float) * (size_t)ph * w);
      for (int oj = 0; oj < ow; oj++)
        dp[ap[oi * ow + oj]] = gp[oi * ow + oj];
    }
    if (oh * ph < h)
      memset(dp + (size_t)oh * ph * w, 0,
             sizeof(float) * (size_t)(h - oh * ph) * w);
  }
}
