/* conv2d_wgrad_bf16.c - the weight gradient of the 3 x 5 convolutions of
 * blocks 0-1 (128 x 128 maps) and the 3 x 1 of blocks 2-3 with bf16
 * products, without a column matrix. For block 1, through im2col, it ran
 * at a third of the input gradient's speed:
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
 * The 3 x 1 convolutions of blocks 2 and 3 (32 x 42 maps) take the same
 * tile over flat planes: with one column per tap, shifting a row is
 * shifting the whole plane by w values, so a sample's h x w plane is one
 * long row (1344 values: 42 whole vectors, where rows padded to vectors
 * would waste a third) and the taps are offsets 0, w and 2w into the
 * plane of x padded with a row of zeros above and below. A tile's sums
 * there take 4 samples (the planes are the tile's "rows") before their
 * lanes are added, so that adding lanes stays small beside the products.
 * Through im2col + the bf16 product these gradients ran at 16-26 % of the
 * bf16 peak: the transposed column matrix was packed on every call; this
 * way at 50-60 % (AMD EPYC Zen 5, one thread, bench_roofline bwd.wts).
 *
 * A group of 8 output channels takes every input channel before the next
 * group starts, so that its dy rows stay in L2 while x's channels pass;
 * the other order reread all of dy for each input channel (4 % slower on
 * block 1, 12-15 % on blocks 2 and 3). Every sum lies in one tile call, so
 * the order of the calls does not change the bits.
 *
 * Items of acrnn_item_sums() are groups of samples (one for 3 x 5, 4 for
 * 3 x 1); each group's gradient goes to its own block, and the blocks are
 * added in group order at the end: the result does not depend on the
 * thread count. A plain C build sums in the same
 * order (the emulation, same bits) and serves any kernel shape. */
#include "conv2d_wgrad_bf16.h"

#include "bf16.h"
#include "item_sums.h"

#include <glib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_AVX512BF16_TILE 1
#endif

#define COLS 32 /* columns per vector of 16 pairs */
#define LANES 16
#define COT 8 /* output channels per tile */

int acrnn_conv2d_wgrad_bf16_handles(int kh, int kw) {
  return kh == 3 && (kw == 5 || kw == 1);
}

#define MAX_TAPS 64
#define FLAT_SAMPLES 4 /* samples per item on flat planes */

static int round_up(int v, int m) {
  return (v + m - 1) / m * m;
}

/* How an item's maps lie in the bf16 buffers. By rows (kw > 1): a row of
 * dy is wq values (whole vectors, zeros after w), a row of x is xs values
 * (kw / 2 zeros, w values, zeros), rows + kh - 1 rows of x per channel
 * (kh / 2 rows of zeros above and below), and tap (ki, kj) reads x at
 * ki * xs + kj. Flat (kw == 1): a "row" is a sample's whole plane, wq =
 * h w rounded up to vectors; x's row is kh / 2 rows of zeros, the plane and
 * zeros (xs values), and tap ki reads x at ki * w. */
typedef struct {
  int flat;
  int samples; /* samples per item */
  int rows;    /* rows per item of dy: h, or the samples */
  int wq, xs;  /* dy's row length (whole vectors), x's row stride */
  int xrows;   /* rows of x per channel in the buffer */
  int kk;      /* taps */
  size_t off[MAX_TAPS];
} Layout;

typedef struct {
  const float *dy, *x;
  int n, cin, cout, h, w, kh, kw;
  Layout lay;
} Work;

/* The sums of one (group of output channels, input channel) over the
 * item's rows: out[o][t] += the lanes of sum over rows and vectors of
 * dy[o] x[t]. */
typedef void (*TileFn)(float *out, size_t out_ld, const uint16_t *dyb,
                       size_t dy_plane, int nco, const uint16_t *xb, int rows,
                       const Layout *lay);

/* out[o * out_ld + t] += the lanes of the accumulators, in lane order. */
static void add_lanes(float *out, size_t out_ld, int o, int t,
                      const float *lanes) {
  float s = 0.0f;
  for (int l = 0; l < LANES; l++)
    s += lanes[l];
  out[(size_t)o * out_ld + t] += s;
}

static void tile_generic(float *out, size_t out_ld, const uint16_t *dyb,
                         size_t dy_plane, int nco, const uint16_t *xb, int rows,
                         const Layout *lay) {
  const int wq = lay->wq;
  float acc[LANES];
  for (int o = 0; o < nco; o++)
    for (int t = 0; t < lay->kk; t++) {
      memset(acc, 0, sizeof acc);
      for (int i = 0; i < rows; i++) {
        const uint16_t *d = dyb + (size_t)o * dy_plane + (size_t)i * wq;
        const uint16_t *xr = xb + (size_t)i * lay->xs + lay->off[t];
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
#define TG 3 /* taps per pass: COT x TG = 24 accumulators */
__attribute__((target("avx512bf16,avx512f,avx512vl,avx512bw"))) static void
tile_avx512bf16(float *out, size_t out_ld, const uint16_t *dyb, size_t dy_plane,
                int nco, const uint16_t *xb, int rows, const Layout *lay) {
  const int wq = lay->wq;
  /* a missing channel reads the first's rows; its sums are not stored */
  const uint16_t *d[COT];
  for (int o = 0; o < COT; o++)
    d[o] = dyb + (o < nco ? (size_t)o * dy_plane : 0);
  for (int t0 = 0; t0 < lay->kk; t0 += TG) { /* kk is a multiple of TG */
    const size_t off0 = lay->off[t0], off1 = lay->off[t0 + 1],
                 off2 = lay->off[t0 + 2];
    __m512 acc[COT][TG];
#pragma GCC unroll 24
    for (int a = 0; a < COT * TG; a++)
      acc[a / TG][a % TG] = _mm512_setzero_ps();
    for (int i = 0; i < rows; i++) {
      const size_t dr = (size_t)i * wq;
      const uint16_t *xr = xb + (size_t)i * lay->xs;
      for (int j0 = 0; j0 < wq; j0 += COLS) {
        const __m512bh xv[TG] = {(__m512bh)_mm512_loadu_si512(xr + off0 + j0),
                                 (__m512bh)_mm512_loadu_si512(xr + off1 + j0),
                                 (__m512bh)_mm512_loadu_si512(xr + off2 + j0)};
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

/* Zeros, then len values of src rounded, then zeros, in dst[0 .. total). */
static void put_row(uint16_t *dst, int total, int lead, const float *src,
                    int len) {
  memset(dst, 0, sizeof(uint16_t) * (size_t)lead);
  if (src)
    round_row(dst + lead, src, len);
  else
    memset(dst + lead, 0, sizeof(uint16_t) * (size_t)len);
  memset(dst + lead + len, 0, sizeof(uint16_t) * (size_t)(total - lead - len));
}

/* Item it of acrnn_item_sums(): rounds its maps into the scratch (dy's
 * rows, then x's, Layout) and puts its sums in block. */
static void run_item(gpointer data, int it, float *block, gpointer scratch) {
  const Work *wk = data;
  const Layout *lay = &wk->lay;
  const int h = wk->h, w = wk->w, ph = wk->kh / 2, pw = wk->kw / 2;
  const size_t hw = (size_t)h * w, nhw = (size_t)wk->n * hw;
  const int s0 = it * lay->samples;
  const int ns = MIN(lay->samples, wk->n - s0);
  const int rows = lay->flat ? ns : h;
  const size_t dy_plane = (size_t)lay->rows * lay->wq;
  const size_t x_plane = (size_t)lay->xrows * lay->xs;
  uint16_t *dyb = scratch, *xb = dyb + (size_t)wk->cout * dy_plane;
  for (int co = 0; co < wk->cout; co++) {
    const float *src = wk->dy + co * nhw + s0 * hw;
    uint16_t *d = dyb + co * dy_plane;
    if (lay->flat)
      for (int s = 0; s < ns; s++)
        put_row(d + (size_t)s * lay->wq, lay->wq, 0, src + s * hw, (int)hw);
    else
      for (int i = 0; i < h; i++)
        put_row(d + (size_t)i * lay->wq, lay->wq, 0, src + (size_t)i * w, w);
  }
  for (int ci = 0; ci < wk->cin; ci++) {
    const float *src = wk->x + ci * nhw + s0 * hw;
    uint16_t *d = xb + ci * x_plane;
    if (lay->flat)
      for (int s = 0; s < ns; s++)
        put_row(d + (size_t)s * lay->xs, lay->xs, ph * w, src + s * hw,
                (int)hw);
    else
      for (int r = 0; r < lay->xrows; r++) {
        const int i = r - ph;
        put_row(d + (size_t)r * lay->xs, lay->xs, pw,
                i >= 0 && i < h ? src + (size_t)i * w : NULL, w);
      }
  }
  const int kk = lay->kk;
  const TileFn tile = tile_fn(wk->kh, wk->kw);
  const size_t out_ld = (size_t)wk->cin * kk;
  for (int co = 0; co < wk->cout; co += COT)
    for (int ci = 0; ci < wk->cin; ci++)
      tile(block + co * out_ld + (size_t)ci * kk, out_ld, dyb + co * dy_plane,
           dy_plane, MIN(COT, wk->cout - co), xb + ci * x_plane, rows, lay);
}

static Layout layout_of(int n, int h, int w, int kh, int kw) {
  Layout l = {.flat = kw == 1, .kk = kh * kw};
  if (l.flat) {
    l.samples = MIN(FLAT_SAMPLES, n);
    l.rows = l.samples;
    l.xrows = l.samples;
    l.wq = round_up(h * w, COLS);
    /* a vector from the last tap's offset stays inside the row: + 1 for
     * a pair's partner at the end */
    l.xs = l.wq + (kh - 1) * w + 1;
    for (int t = 0; t < l.kk; t++)
      l.off[t] = (size_t)t * w;
  } else {
    l.samples = 1;
    l.rows = h;
    l.xrows = h + kh - 1;
    l.wq = round_up(w, COLS);
    l.xs = l.wq + kw - 1 + 1; /* + 1: a pair's partner at the end */
    for (int t = 0; t < l.kk; t++)
      l.off[t] = (size_t)(t / kw) * l.xs + (size_t)(t % kw);
  }
  return l;
}

void acrnn_conv2d_wgrad_bf16(float *dw, const float *dy, const float *x, int n,
                             int cin, int cout, int h, int w, int kh, int kw) {
  if (n <= 0 || cin <= 0 || cout <= 0 || h <= 0 || w <= 0)
    return;
  g_return_if_fail(kh * kw <= MAX_TAPS);
  const Work wk = {.dy = dy,
                   .x = x,
                   .n = n,
                   .cin = cin,
                   .cout = cout,
                   .h = h,
                   .w = w,
                   .kh = kh,
                   .kw = kw,
                   .lay = layout_of(n, h, w, kh, kw)};
  /* dy's rows are whole vectors (64 bytes): x's copy after them stays
   * 64-byte aligned, and so do dy's rows */
  const size_t scratch =
      sizeof(uint16_t) * ((size_t)cout * wk.lay.rows * wk.lay.wq +
                          (size_t)cin * wk.lay.xrows * wk.lay.xs);
  const int items = (n + wk.lay.samples - 1) / wk.lay.samples;
  acrnn_item_sums(dw, (size_t)cout * cin * kh * kw, items, scratch, run_item,
                  (gpointer)&wk);
}
