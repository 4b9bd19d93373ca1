/* conv2d_wgrad_bf16.c - the weight gradient of the first blocks' 3 x 5
 * convolutions on 128 x 128 maps with bf16 products, without a column
 * matrix. Through im2col it ran at a third of the input gradient's speed:
 * the column matrix of 15 shifted copies of the input was written in fp32,
 * then rounded and repacked.
 *
 * VDPBF16PS multiplies pairs; here a pair is two neighbouring columns. A
 * sample's rows of x (zero-padded, kw - 1 more columns, kh - 1 more rows)
 * and of dy are rounded to bf16 once, as 16-bit rows, so that 16 pairs of
 * any starting column are one unaligned vector load. A register tile of 8
 * output channels x 3 of the 15 taps of one input channel then
 * accumulates, over every row and block of 32 columns, the products of the
 * dy vector of each channel with the x vector shifted by each tap, lane by
 * lane; five passes take the 15 taps, and at the end of the sample each
 * accumulator's 16 lanes are added in lane order. Per 24 products a step
 * loads 8 dy vectors (aligned: the rows are whole vectors in a 64-byte
 * aligned buffer) and 3 shifted x vectors; the tile of 2 channels x 15 taps
 * it replaces loaded 17 vectors, all splitting cache lines, per 30, and ran
 * at 0.64-0.71 of the forward kernel's rate, against 0.75-0.79 now (AMD
 * EPYC Zen 5, block 1, batch 64, one thread).
 *
 * Items are samples, taken from a shared counter by the threads; each
 * sample's gradient goes to its own block, and the blocks are added in
 * sample order at the end. A plain C build sums in the same order (the
 * emulation, same bits) and serves any kernel shape. */
#include "conv2d_wgrad_bf16.h"

#include "bf16.h"

#include <acrnn/acrnn.h>
#include <glib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_AVX512BF16_TILE 1
#endif

#define COLS 32 /* columns per vector of 16 pairs */
#define LANES 16
#define COT 8 /* output channels per tile */
#define MAX_THREADS 64

int acrnn_conv2d_wgrad_bf16_handles(int kh, int kw) {
  return kh == 3 && kw == 5;
}

static int round_up(int v, int m) {
  return (v + m - 1) / m * m;
}

typedef struct {
  float *partial; /* [n][cout][cin][kk] */
  const float *dy, *x;
  int n, cin, cout, h, w, kh, kw;
  int wq, wp; /* dy row length (whole vectors), x row length (+ kw - 1) */
  gint next;
} Work;

/* The sums of one (output channel pair, input channel) over the sample's
 * rows: acc[o][t][lane], t = ki * kw + kj. */
typedef void (*TileFn)(float *out, size_t out_ld, const uint16_t *dyb,
                       size_t dy_plane, int nco, const uint16_t *xb, int h,
                       int wq, int wp, int kh, int kw);

/* out[o * out_ld + t] += the lanes of the accumulators, in lane order. */
static void add_lanes(float *out, size_t out_ld, int o, int t,
                      const float *lanes) {
  float s = 0.0f;
  for (int l = 0; l < LANES; l++)
    s += lanes[l];
  out[(size_t)o * out_ld + t] += s;
}

static void tile_generic(float *out, size_t out_ld, const uint16_t *dyb,
                         size_t dy_plane, int nco, const uint16_t *xb, int h,
                         int wq, int wp, int kh, int kw) {
  const int kk = kh * kw;
  float acc[LANES];
  for (int o = 0; o < nco; o++)
    for (int t = 0; t < kk; t++) {
      const int ki = t / kw, kj = t % kw;
      memset(acc, 0, sizeof acc);
      for (int i = 0; i < h; i++) {
        const uint16_t *d = dyb + (size_t)o * dy_plane + (size_t)i * wq;
        const uint16_t *xr = xb + (size_t)(i + ki) * wp + kj;
        for (int j0 = 0; j0 < wq; j0 += COLS)
          for (int l = 0; l < LANES; l++) {
            const int j = j0 + 2 * l;
            const uint32_t dp = (uint32_t)d[j] | (uint32_t)d[j + 1] << 16;
            const uint32_t xp = (uint32_t)xr[j] | (uint32_t)xr[j + 1] << 16;
            acc[l] = acrnn_bf16_dot2(acc[l], dp, xp);
          }
      }
      add_lanes(out, out_ld, o, t, acc);
    }
}

#ifdef HAVE_AVX512BF16_TILE
#define KK 15 /* the 3 x 5 taps */
#define TG 3  /* taps per pass: COT x TG = 24 accumulators */
__attribute__((target("avx512bf16,avx512f,avx512vl,avx512bw"))) static void
tile_avx512bf16(float *out, size_t out_ld, const uint16_t *dyb, size_t dy_plane,
                int nco, const uint16_t *xb, int h, int wq, int wp, int kh,
                int kw) {
  (void)kh; /* 3 x kw, kw = 5 */
  /* a missing channel reads the first's rows; its sums are not stored */
  const uint16_t *d[COT];
  for (int o = 0; o < COT; o++)
    d[o] = dyb + (o < nco ? (size_t)o * dy_plane : 0);
  for (int t0 = 0; t0 < KK; t0 += TG) {
    size_t off[TG];
    for (int g = 0; g < TG; g++)
      off[g] = (size_t)((t0 + g) / kw) * wp + (size_t)((t0 + g) % kw);
    __m512 acc[COT][TG];
#pragma GCC unroll 24
    for (int a = 0; a < COT * TG; a++)
      acc[a / TG][a % TG] = _mm512_setzero_ps();
    for (int i = 0; i < h; i++) {
      const size_t dr = (size_t)i * wq;
      const uint16_t *xr = xb + (size_t)i * wp;
      for (int j0 = 0; j0 < wq; j0 += COLS) {
        __m512bh xv[TG];
#pragma GCC unroll 3
        for (int g = 0; g < TG; g++)
          xv[g] = (__m512bh)_mm512_loadu_si512(xr + off[g] + j0);
#pragma GCC unroll 8
        for (int o = 0; o < COT; o++) {
          const __m512bh dv = (__m512bh)_mm512_loadu_si512(d[o] + dr + j0);
#pragma GCC unroll 3
          for (int g = 0; g < TG; g++)
            acc[o][g] = _mm512_dpbf16_ps(acc[o][g], dv, xv[g]);
        }
      }
    }
    float lanes[LANES];
    for (int o = 0; o < nco; o++)
      for (int g = 0; g < TG; g++) {
        _mm512_storeu_ps(lanes, acc[o][g]);
        add_lanes(out, out_ld, o, t0 + g, lanes);
      }
  }
}
#undef KK
#undef TG
#endif

static TileFn tile_fn(int kh, int kw) {
#ifdef HAVE_AVX512BF16_TILE
  if (acrnn_bf16_fast() && acrnn_conv2d_wgrad_bf16_handles(kh, kw))
    return tile_avx512bf16;
#endif
  (void)kh, (void)kw;
  return tile_generic;
}

#ifdef HAVE_AVX512BF16_TILE
__attribute__((target("avx512bf16,avx512f,avx512vl,avx512bw"))) static void
round_row_fast(uint16_t *dst, const float *src, int len) {
  int j = 0;
  for (; j + 16 <= len; j += 16)
    _mm256_storeu_si256((__m256i *)(dst + j),
                        (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + j)));
  for (; j < len; j++)
    dst[j] = acrnn_bf16_from_float(src[j]);
}
#endif

/* dst[0 .. len) = src rounded to bf16 (VCVTNEPS2BF16 where there is one:
 * the same bits). */
static void round_row(uint16_t *dst, const float *src, int len) {
#ifdef HAVE_AVX512BF16_TILE
  if (acrnn_bf16_fast()) {
    round_row_fast(dst, src, len);
    return;
  }
#endif
  for (int j = 0; j < len; j++)
    dst[j] = acrnn_bf16_from_float(src[j]);
}

static void run_sample(const Work *wk, int s, uint16_t *dyb, uint16_t *xb) {
  const int h = wk->h, w = wk->w, kh = wk->kh, kw = wk->kw;
  const int ph = kh / 2, pw = kw / 2, kk = kh * kw;
  const int prow = h + kh - 1;
  const size_t hw = (size_t)h * w, nhw = (size_t)wk->n * hw;
  const size_t dy_plane = (size_t)h * wk->wq, x_plane = (size_t)prow * wk->wp;
  for (int co = 0; co < wk->cout; co++)
    for (int i = 0; i < h; i++) {
      uint16_t *d = dyb + co * dy_plane + (size_t)i * wk->wq;
      round_row(d, wk->dy + co * nhw + s * hw + (size_t)i * w, w);
      memset(d + w, 0, sizeof(uint16_t) * (size_t)(wk->wq - w));
    }
  for (int ci = 0; ci < wk->cin; ci++)
    for (int r = 0; r < prow; r++) {
      uint16_t *d = xb + ci * x_plane + (size_t)r * wk->wp;
      const int src = r - ph;
      memset(d, 0, sizeof(uint16_t) * (size_t)wk->wp);
      if (src >= 0 && src < h)
        round_row(d + pw, wk->x + ci * nhw + s * hw + (size_t)src * w, w);
    }
  float *out = wk->partial + (size_t)s * wk->cout * wk->cin * kk;
  memset(out, 0, sizeof(float) * (size_t)wk->cout * wk->cin * kk);
  const TileFn tile = tile_fn(kh, kw);
  const size_t out_ld = (size_t)wk->cin * kk;
  for (int ci = 0; ci < wk->cin; ci++)
    for (int co = 0; co < wk->cout; co += COT)
      tile(out + co * out_ld + (size_t)ci * kk, out_ld, dyb + co * dy_plane,
           dy_plane, MIN(COT, wk->cout - co), xb + ci * x_plane, h, wk->wq,
           wk->wp, kh, kw);
}

static gpointer run_worker(gpointer data) {
  Work *wk = data;
  const size_t prow = (size_t)wk->h + wk->kh - 1;
  /* 64-byte aligned: dy's rows (whole vectors) then load without splitting
   * cache lines */
  uint16_t *dyb =
      g_aligned_alloc((size_t)wk->cout * wk->h * wk->wq, sizeof(uint16_t), 64);
  uint16_t *xb =
      g_aligned_alloc((size_t)wk->cin * prow * wk->wp, sizeof(uint16_t), 64);
  for (int s; (s = g_atomic_int_add(&wk->next, 1)) < wk->n;)
    run_sample(wk, s, dyb, xb);
  g_aligned_free(dyb);
  g_aligned_free(xb);
  return NULL;
}

void acrnn_conv2d_wgrad_bf16(float *dw, const float *dy, const float *x, int n,
                             int cin, int cout, int h, int w, int kh, int kw) {
  if (n <= 0 || cin <= 0 || cout <= 0 || h <= 0 || w <= 0)
    return;
  const size_t per = (size_t)cout * cin * kh * kw;
  const int wq = round_up(w, COLS);
  Work wk = {.partial = g_new(float, per *n),
             .dy = dy,
             .x = x,
             .n = n,
             .cin = cin,
             .cout = cout,
             .h = h,
             .w = w,
             .kh = kh,
             .kw = kw,
             .wq = wq,
             .wp = wq + kw - 1 + 1, /* + 1: a pair's partner at the end */
             .next = 0};
  int nt = MIN(acrnn_get_threads(), MIN(n, MAX_THREADS));
  GThread *threads[MAX_THREADS] = {NULL};
  for (int t = 1; t < nt; t++)
    threads[t] = g_thread_try_new("acrnn-wgrad", run_worker, &wk, NULL);
  run_worker(&wk);
  for (int t = 1; t < nt; t++)
    if (threads[t])
      g_thread_join(threads[t]);
  for (int s = 0; s < n; s++) {
    const float *p = wk.partial + per * s;
    for (size_t i = 0; i < per; i++)
      dw[i] += p[i];
  }
  g_free(wk.partial);
}
