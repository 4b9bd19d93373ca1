/* conv2d_direct_bf16.c - the direct convolution (conv2d_direct.c) with
 * bf16 products and fp32 sums, for the wide maps of the first blocks.
 *
 * VDPBF16PS adds, in each fp32 lane, the products of a pair of bf16
 * numbers; here the pair is two neighbouring input channels. The padded
 * band holds, at each (channel pair, row, column), the 32-bit pair
 * (x[2c], x[2c+1]) rounded to bf16, so one unaligned vector load gives 16
 * columns of a channel pair; the packed weights hold, for each tap and
 * output channel, the pair (w[co][2c], w[co][2c+1]), broadcast to all
 * lanes. A tile of OCB output channels x 2 vectors of 16 columns stays in
 * registers over all channel pairs and taps, then goes through the
 * epilogue of conv2d_direct_tile.h. An odd channel count gets a zero
 * partner channel.
 *
 * A kernel of one column (the 3 x 1 of blocks 2 and 3, on 42-column maps)
 * runs over flat planes: shifting a row is shifting the plane by w
 * values, so a sample's plane is one row of h w columns (1344: 42 whole
 * tiles, where tiles of rows would leave a third of their columns empty)
 * and the kernel is 1 x kh with its taps w columns apart, the band padded
 * with kh / 2 rows of zeros at each end. Each output sums the same
 * products in the same order as by rows: the same bits.
 *
 * The tile is built for AVX512_BF16 and in plain C (the emulation: same
 * order of sums, same bits), chosen by bf16_cpu.c. Threads take items
 * (sample, block of rows) from a shared counter as conv2d_direct.c does;
 * every output is computed the same way whichever thread takes it. */
#include "conv2d_direct_bf16.h"

#include "bf16.h"
#include "conv2d_direct_run.h"

#include <acrnn/acrnn.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_AVX512BF16_TILE 1
#endif

#define OCB 8   /* output channels per tile */
#define VL 16   /* fp32 lanes per vector */
#define COLS 32 /* output columns per tile: two vectors */
#define BAND_PAIRS ((size_t)128 * 1024) /* 512 KiB of padded band */

typedef struct {
  const float *scale, *shift;
  int relu, accumulate;
  int max_into; /* y = max(y, v) last: a fused pool's rows after the first */
} Epilogue;

static int round_up(int v, int m) {
  return (v + m - 1) / m * m;
}

/* A map as the kernel walks it: h rows of w columns, taps dil columns
 * apart (flat planes: 1 row of h w columns, a 1 x kh kernel, dil = w). */
typedef struct {
  int h, w, kh, kw, dil;
} Geometry;

static Geometry geometry(int cin, int h, int w, int kh, int kw) {
  const Geometry rows = {h, w, kh, kw, 1};
  if (kw != 1 || kh <= 1)
    return rows;
  const Geometry flat = {1, h * w, 1, kh, w};
  const size_t band =
      (size_t)(cin + 1) / 2 * (round_up(h * w, COLS) + (size_t)(kh - 1) * w);
  return band <= BAND_PAIRS ? flat : rows;
}

static int padded_width(const Geometry *g) {
  return round_up(g->w, COLS) + (g->kw - 1) * g->dil;
}

static int band_rows(int cp, const Geometry *g) {
  const int h = g->h, kh = g->kh;
  const size_t per_row = (size_t)cp * padded_width(g);
  const size_t fit = BAND_PAIRS / per_row;
  int rows = fit > (size_t)(kh - 1) ? (int)(fit - (size_t)(kh - 1)) : 1;
  return rows < h ? rows : h;
}

/* With a fused pool of ph rows (rows geometry only): the output rows per
 * band, a multiple of ph, that leave room in the band buffer for the
 * scratch row of OCB output channels (after the band); 0 if not even ph
 * rows fit. */
static int pool_band_rows(int cp, const Geometry *g, int ph) {
  const size_t per_row = (size_t)cp * padded_width(g);
  const size_t buffer = per_row * (band_rows(cp, g) + g->kh - 1);
  const size_t scratch = (size_t)OCB * g->w;
  if (g->dil != 1 || buffer < scratch + per_row * (size_t)(ph + g->kh - 1))
    return 0;
  const int rows = (int)((buffer - scratch) / per_row) - (g->kh - 1);
  const int oh = g->h / ph * ph;
  return (rows < oh ? rows : oh) / ph * ph;
}

static size_t packed_pairs(int cin, int cout, int kh, int kw) {
  return (size_t)round_up(cout, OCB) * ((cin + 1) / 2) * kh * kw;
}

static size_t band_pairs(int cin, const Geometry *g) {
  const int cp = (cin + 1) / 2;
  return (size_t)cp * (band_rows(cp, g) + g->kh - 1) * padded_width(g);
}

size_t acrnn_conv2d_direct_bf16_workspace(int cin, int cout, int h, int w,
                                          int kh, int kw) {
  if (cin <= 0 || cout <= 0 || h <= 0 || w <= 0 || kh <= 0 || kw <= 0)
    return 0;
  const Geometry gf = geometry(cin, h, w, kh, kw);
  const Geometry gb = geometry(cout, h, w, kh, kw);
  const size_t fwd = packed_pairs(cin, cout, kh, kw) + band_pairs(cin, &gf);
  const size_t bwd = packed_pairs(cout, cin, kh, kw) + band_pairs(cout, &gb);
  return fwd > bwd ? fwd : bwd; /* a pair is the size of a float */
}

/* The epilogue of conv2d_direct_tile.h on one tile: v = (acc ? y : 0) +
 * sum, v = v * scale + shift (one FMA when both are given), v = max(v, 0)
 * (not NaN), v = max(y, v) (max_into: no NaN there). */
static void store_tile(float *y, size_t ldc, const float acc[OCB][COLS],
                       int nco, int ncols, const Epilogue *ep) {
  for (int o = 0; o < nco; o++) {
    float *yo = y + (size_t)o * ldc;
    const float sc = ep->scale ? ep->scale[o] : 1.0f;
    const float sh = ep->shift ? ep->shift[o] : 0.0f;
    for (int j = 0; j < ncols; j++) {
      float v = acc[o][j];
      if (ep->accumulate)
        v = yo[j] + v;
      if (ep->scale && ep->shift)
        v = fmaf(v, sc, sh); /* one rounding, as the vector build's FMA */
      else if (ep->scale)
        v *= sc;
      else if (ep->shift)
        v += sh;
      if (ep->relu && !(v > 0.0f))
        v = 0.0f;
      if (ep->max_into && yo[j] > v)
        v = yo[j];
      yo[j] = v;
    }
  }
}

/* One tile: output row i, columns j0 .. j0 + COLS of OCB channels, into y
 * (channels ldc apart) through the epilogue, nco channels and ncols columns
 * of it real. The band xp: channel pairs plane apart, rows wp apart, taps
 * dil columns apart. */
typedef void (*TileFn)(float *y, size_t ldc, const uint32_t *xp, size_t plane,
                       int wp, const uint32_t *wk, int cp, int kh, int kw,
                       int dil, int nco, int ncols, const Epilogue *ep);

static void tile_generic(float *y, size_t ldc, const uint32_t *xp, size_t plane,
                         int wp, const uint32_t *wk, int cp, int kh, int kw,
                         int dil, int nco, int ncols, const Epilogue *ep) {
  float acc[OCB][COLS];
  memset(acc, 0, sizeof acc);
  for (int c = 0; c < cp; c++)
    for (int ki = 0; ki < kh; ki++) {
      const uint32_t *row = xp + (size_t)c * plane + (size_t)ki * wp;
      const uint32_t *wt = wk + (size_t)(c * kh + ki) * kw * OCB;
      for (int kj = 0; kj < kw; kj++, wt += OCB)
        for (int o = 0; o < OCB; o++)
          for (int j = 0; j < COLS; j++)
            acc[o][j] = acrnn_bf16_dot2(acc[o][j], wt[o], row[kj * dil + j]);
    }
  store_tile(y, ldc, (const float(*)[COLS])acc, nco, ncols, ep);
}

#ifdef HAVE_AVX512BF16_TILE
__attribute__((target("avx512bf16,avx512f,avx512vl,avx512bw"))) static void
tile_avx512bf16(float *y, size_t ldc, const uint32_t *xp, size_t plane, int wp,
                const uint32_t *wk, int cp, int kh, int kw, int dil, int nco,
                int ncols, const Epilogue *ep) {
  __m512 a[OCB][2];
#pragma GCC unroll 8
  for (int o = 0; o < OCB; o++) {
    a[o][0] = _mm512_setzero_ps();
    a[o][1] = _mm512_setzero_ps();
  }
  for (int c = 0; c < cp; c++)
    for (int ki = 0; ki < kh; ki++) {
      const uint32_t *row = xp + (size_t)c * plane + (size_t)ki * wp;
      const uint32_t *wt = wk + (size_t)(c * kh + ki) * kw * OCB;
      for (int kj = 0; kj < kw; kj++, wt += OCB) {
        const uint32_t *at = row + (size_t)kj * dil;
        const __m512bh x0 = (__m512bh)_mm512_loadu_si512(at);
        const __m512bh x1 = (__m512bh)_mm512_loadu_si512(at + VL);
#pragma GCC unroll 8
        for (int o = 0; o < OCB; o++) {
          const __m512bh wv = (__m512bh)_mm512_set1_epi32((int)wt[o]);
          a[o][0] = _mm512_dpbf16_ps(a[o][0], wv, x0);
          a[o][1] = _mm512_dpbf16_ps(a[o][1], wv, x1);
        }
      }
    }
  const __mmask16 m[2] = {
      ncols >= VL ? (__mmask16)0xffff : (__mmask16)((1u << ncols) - 1),
      ncols >= COLS ? (__mmask16)0xffff
      : ncols <= VL ? (__mmask16)0
                    : (__mmask16)((1u << (ncols - VL)) - 1)};
  for (int o = 0; o < nco; o++) {
    float *yo = y + (size_t)o * ldc;
    const __m512 sc = _mm512_set1_ps(ep->scale ? ep->scale[o] : 1.0f);
    const __m512 sh = _mm512_set1_ps(ep->shift ? ep->shift[o] : 0.0f);
    for (int v = 0; v < 2; v++) {
      __m512 r = a[o][v];
      if (ep->accumulate)
        r = _mm512_add_ps(_mm512_maskz_loadu_ps(m[v], yo + v * VL), r);
      if (ep->scale && ep->shift)
        r = _mm512_fmadd_ps(r, sc, sh);
      else if (ep->scale)
        r = _mm512_mul_ps(r, sc);
      else if (ep->shift)
        r = _mm512_add_ps(r, sh);
      if (ep->relu) /* keep the lanes where r > 0 (not NaN) */
        r = _mm512_maskz_mov_ps(
            _mm512_cmp_ps_mask(r, _mm512_setzero_ps(), _CMP_GT_OQ), r);
      if (ep->max_into)
        r = _mm512_max_ps(r, _mm512_maskz_loadu_ps(m[v], yo + v * VL));
      _mm512_mask_storeu_ps(yo + v * VL, m[v], r);
    }
  }
}

/* dst[j] = the pair (s0[j], s1[j]) (s1 NULL: zeros), j < w: 16 columns
 * per VCVTNE2PS2BF16, whose two halves are then interleaved. */
__attribute__((target("avx512bf16,avx512f,avx512vl,avx512bw"))) static void
convert_rows_fast(uint32_t *dst, const float *s0, const float *s1, int w) {
  static const short order[32] = {0,  16, 1,  17, 2,  18, 3,  19, 4,  20, 5,
                                  21, 6,  22, 7,  23, 8,  24, 9,  25, 10, 26,
                                  11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i idx = _mm512_loadu_si512(order);
  int j = 0;
  for (; j + 16 <= w; j += 16) {
    const __m512 lo = _mm512_loadu_ps(s0 + j);
    const __m512 hi = s1 ? _mm512_loadu_ps(s1 + j) : _mm512_setzero_ps();
    const __m512i b = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
    _mm512_storeu_si512(dst + j, _mm512_permutexvar_epi16(idx, b));
  }
  for (; j < w; j++)
    dst[j] = acrnn_bf16_pair(s0[j], s1 ? s1[j] : 0.0f);
}
#endif

static void convert_rows(uint32_t *dst, const float *s0, const float *s1,
                         int w) {
#ifdef HAVE_AVX512BF16_TILE
  if (acrnn_bf16_fast()) {
    convert_rows_fast(dst, s0, s1, w);
    return;
  }
#endif
  for (int j = 0; j < w; j++)
    dst[j] = acrnn_bf16_pair(s0[j], s1 ? s1[j] : 0.0f);
}

static TileFn tile_fn(void) {
#ifdef HAVE_AVX512BF16_TILE
  if (acrnn_bf16_fast())
    return tile_avx512bf16;
#endif
  return tile_generic;
}

/* wk[cb][c][ki][kj][o]: the pair of input channels 2c, 2c + 1 of output
 * channel cb*OCB + o at tap (ki, kj); zero for missing channels. With flip,
 * w is [cin][cout][kh][kw], turned by 180 degrees, channels swapped. */
static void pack_weights(uint32_t *wk, const float *w, int cin, int cout,
                         int kh, int kw, int flip) {
  const int kk = kh * kw, cp = (cin + 1) / 2;
  for (int cb = 0; cb < cout; cb += OCB)
    for (int c = 0; c < cp; c++)
      for (int k = 0; k < kk; k++)
        for (int o = 0; o < OCB; o++) {
          const int co = cb + o;
          float v[2] = {0.0f, 0.0f};
          for (int q = 0; q < 2; q++) {
            const int ci = 2 * c + q;
            if (co < cout && ci < cin)
              v[q] = flip ? w[((size_t)ci * cout + co) * kk + (kk - 1 - k)]
                          : w[((size_t)co * cin + ci) * kk + k];
          }
          *wk++ = acrnn_bf16_pair(v[0], v[1]);
        }
}

/* Input rows i0 - kh/2 .. i0 + rows + kh/2 - 1 of one sample (channel
 * planes ldx apart) into the zero-padded band of channel pairs. */
static void copy_band(uint32_t *xp, const float *x, size_t ldx, int cin,
                      const Geometry *g, int i0, int rows, int wp) {
  const int h = g->h, w = g->w, kh = g->kh;
  const int ph = kh / 2, pw = g->kw / 2 * g->dil;
  const int prow = rows + kh - 1, cp = (cin + 1) / 2;
  for (int c = 0; c < cp; c++) {
    const float *p0 = x + (size_t)(2 * c) * ldx;
    const float *p1 = 2 * c + 1 < cin ? p0 + ldx : NULL;
    for (int r = 0; r < prow; r++) {
      uint32_t *dst = xp + ((size_t)c * prow + r) * wp;
      const int src = i0 + r - ph;
      if (src < 0 || src >= h) {
        memset(dst, 0, sizeof(uint32_t) * (size_t)wp);
        continue;
      }
      const float *s0 = p0 + (size_t)src * w;
      const float *s1 = p1 ? p1 + (size_t)src * w : NULL;
      memset(dst, 0, sizeof(uint32_t) * (size_t)pw);
      convert_rows(dst + pw, s0, s1, w);
      memset(dst + pw + w, 0, sizeof(uint32_t) * (size_t)(wp - pw - w));
    }
  }
}

typedef struct {
  float *y;
  const float *x;
  const uint32_t *wk;
  int n, cin, cout;
  Geometry g;
  const float *scale, *shift;
  int relu, accumulate;
  AcrnnDirectPool pool; /* ph 0: no pool, y is the map */
} Work;

/* Output rows [r0, r1) of sample s, in bands that fit the buffer band;
 * with a pool, each window's rows into the scratch row after the band
 * (conv2d_direct_run.h), pooled from there (r0 and r1 multiples of ph). */
static void run_item(const void *work, void *band, int s, int r0, int r1) {
  const Work *j = work;
  uint32_t *xp = band;
  const TileFn tile = tile_fn();
  const Geometry *g = &j->g;
  const int h = g->h, wd = g->w, kh = g->kh, kw = g->kw;
  const int cp = (j->cin + 1) / 2, kk = kh * kw;
  const size_t hw = (size_t)h * wd, nhw = (size_t)j->n * hw;
  const int wp = padded_width(g);
  const int ph = j->pool.ph;
  const int rows_max = ph ? pool_band_rows(cp, g, ph) : band_rows(cp, g);
  float *scratch = (float *)(xp + (size_t)cp * (rows_max + kh - 1) * wp);
  for (int i0 = r0; i0 < r1; i0 += rows_max) {
    const int rows = r1 - i0 < rows_max ? r1 - i0 : rows_max;
    const size_t plane = (size_t)(rows + kh - 1) * wp;
    copy_band(xp, j->x + (size_t)s * hw, nhw, j->cin, g, i0, rows, wp);
    for (int cb = 0; cb < j->cout; cb += OCB) {
      const Epilogue ep = {j->scale ? j->scale + cb : NULL,
                           j->shift ? j->shift + cb : NULL, j->relu,
                           j->accumulate, 0};
      const int nco = j->cout - cb < OCB ? j->cout - cb : OCB;
      const uint32_t *wk = j->wk + (size_t)cb * cp * kk;
      Epilogue into = ep;
      into.max_into = 1;
      for (int i = 0; i < rows; i++) {
        /* the map's row, or with a pool the scratch row */
        float *y = ph ? scratch
                      : j->y + (size_t)cb * nhw + (size_t)s * hw +
                            (size_t)(i0 + i) * wd;
        for (int j0 = 0; j0 < wd; j0 += COLS)
          tile(y + j0, ph ? (size_t)wd : nhw, xp + (size_t)i * wp + j0, plane,
               wp, wk, cp, kh, kw, g->dil, nco, wd - j0 < COLS ? wd - j0 : COLS,
               ph && i % ph ? &into : &ep);
        if (ph && i % ph == ph - 1)
          acrnn_conv2d_direct_pool_rows(&j->pool, scratch, cb, nco, j->n, s, h,
                                        wd, i0 + i - (ph - 1));
      }
    }
  }
}

/* Packs the weights into ws and runs the items of work (its wk set here)
 * over rows [0, h) of every sample, row_step rows at a time. */
static void run(Work *work, const float *w, int flip, int h, int row_step,
                float *ws) {
  const int cin = work->cin, cout = work->cout;
  const int kh = work->g.kh, kw = work->g.kw;
  uint32_t *wk = (uint32_t *)ws;
  pack_weights(wk, w, cin, cout, kh, kw, flip);
  work->wk = wk;
  acrnn_conv2d_direct_run(work->n, h, row_step, work, run_item,
                          wk + packed_pairs(cin, cout, kh, kw),
                          sizeof(uint32_t) * band_pairs(cin, &work->g));
}

void acrnn_conv2d_direct_bf16(float *y, const float *x, const float *w, int n,
                              int cin, int cout, int h, int wd, int kh, int kw,
                              const float *scale, const float *shift, int relu,
                              int accumulate, int flip, float *ws) {
  if (n <= 0 || cin <= 0 || cout <= 0 || h <= 0 || wd <= 0)
    return;
  Work work = {.y = y,
               .x = x,
               .n = n,
               .cin = cin,
               .cout = cout,
               .g = geometry(cin, h, wd, kh, kw),
               .scale = scale,
               .shift = shift,
               .relu = relu,
               .accumulate = accumulate};
  run(&work, w, flip, work.g.h, 1, ws);
}

int acrnn_conv2d_direct_bf16_pool(float *y, const float *x, const float *w,
                                  int n, int cin, int cout, int h, int wd,
                                  int kh, int kw, const float *scale,
                                  const float *shift, int ph, int pw,
                                  float *ws) {
  const Geometry g = geometry(cin, h, wd, kh, kw);
  if (n <= 0 || cin <= 0 || cout <= 0 || ph <= 0 || pw <= 0 || ph > h ||
      pw > wd || g.h != h || !pool_band_rows((cin + 1) / 2, &g, ph))
    return 0;
  Work work = {.x = x,
               .n = n,
               .cin = cin,
               .cout = cout,
               .g = g,
               .scale = scale,
               .shift = shift,
               .relu = 1,
               .pool = {y, ph, pw}};
  run(&work, w, 0, h / ph * ph, ph, ws);
  return 1;
}
