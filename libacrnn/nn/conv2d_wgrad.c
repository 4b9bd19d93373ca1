/* conv2d_wgrad.c - the weight gradient of the 3 x 5 convolutions of blocks
 * 0-1 (128 x 128 maps) in fp32, without a column matrix. Through im2col +
 * sgemm, block 1's weight gradient ran at 94 GFLOP/s against 208 for its
 * forward kernel (AMD EPYC Zen 5, one thread): the column matrix of 15
 * shifted copies of the input, 31 MB a sample, was written, then packed
 * again by sgemm, and half the time went to copying.
 *
 * The scheme of the bf16 kernel (conv2d_wgrad_bf16.c), with fp32 lanes
 * instead of pairs: a sample's rows of x, zero-padded (kw - 1 more
 * columns, kh - 1 more rows), and of dy (whole vectors) are copied once so
 * that 16 values from any starting column are one vector load. A register
 * tile of 4 output channels x the 5 taps of one kernel row of one input
 * channel accumulates, over every row and vector of columns, the products
 * of each channel's dy vector with the x vector shifted by each tap, lane
 * by lane: per 20 fused multiply-adds, 4 dy loads and 5 x loads; three
 * passes take the 15 taps. A group of output channels takes every input
 * channel before the next group, so that its dy rows stay in L2 while x's
 * channels pass. At the end of a pass each accumulator's 16 lanes are
 * added in lane order.
 *
 * Why this shape (block 1, batch 64, one thread, AMD EPYC Zen 5, GFLOP/s
 * of bench_roofline bwd.wts; the forward kernel runs at 206): 8 channels
 * x 3 taps reading dy where it lies, 70 (dy's channel planes are 4 MB
 * apart in CNHW maps, and 8 of them at once thrash the caches); the same
 * with dy copied into a buffer, 128; 4 x 5 with dy copied, 179. Each pass
 * of 8 x 3 rereads 8 channels of dy for 24 products, of 4 x 5 4 channels
 * for 20: 40 % less of dy's traffic from L2 in all.
 *
 * Items of acrnn_item_sums() are samples: each sample's gradient goes to
 * its own block, and the blocks are added in sample order at the end, so
 * the result does not depend on the thread count.
 * The plain C build sums in the same order with fmaf(): the same bits. */
#include "conv2d_wgrad.h"

#include "item_sums.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX512_TILE 1
#endif

#define LANES 16 /* floats per vector */
#define COT 4    /* output channels per tile */
#define TG 5     /* taps per pass (a kernel row): COT x TG = 20 accumulators */
#define MAX_TAPS 63

int acrnn_conv2d_wgrad_handles(int kh, int kw) {
  return kh == 3 && kw == 5 && acrnn_isa() >= ACRNN_ISA_AVX512;
}

/* How a sample's maps lie in the buffers: a row of dy is wq values (whole
 * vectors, zeros after w), a row of x is xs values (kw / 2
 * zeros, w values, zeros), h + kh - 1 rows of x per channel (kh / 2 rows of
 * zeros above and below), and tap t = (ki, kj) reads x at off[t] = ki * xs
 * + kj. */
typedef struct {
  int wq, xs, xrows, kk;
  size_t off[MAX_TAPS];
} Layout;

typedef struct {
  const float *dy, *x;
  int n, cin, cout, h, w, kh, kw;
  AcrnnIsa isa;
  Layout lay;
} Work;

/* The sums of one (group of nco <= COT output channels, input channel)
 * over a sample's rows: out[o * out_ld + t] += the lanes of sum over rows
 * and vectors of dy[o] x[t]. dy[o] is dyb + o * dy_plane, rows wq apart. */
typedef void (*TileFn)(float *out, size_t out_ld, const float *dyb,
                       size_t dy_plane, int nco, const float *xb, int rows,
                       const Layout *lay);

/* out[o * out_ld + t] += the lanes, added in lane order. */
static void add_lanes(float *out, size_t out_ld, int o, int t,
                      const float *lanes) {
  float s = 0.0f;
  for (int l = 0; l < LANES; l++)
    s += lanes[l];
  out[(size_t)o * out_ld + t] += s;
}

static void tile_generic(float *out, size_t out_ld, const float *dyb,
                         size_t dy_plane, int nco, const float *xb, int rows,
                         const Layout *lay) {
  float acc[LANES];
  for (int o = 0; o < nco; o++)
    for (int t = 0; t < lay->kk; t++) {
      memset(acc, 0, sizeof acc);
      for (int i = 0; i < rows; i++) {
        const float *d = dyb + (size_t)o * dy_plane + (size_t)i * lay->wq;
        const float *xr = xb + (size_t)i * lay->xs + lay->off[t];
        for (int j0 = 0; j0 < lay->wq; j0 += LANES)
          for (int l = 0; l < LANES; l++)
            acc[l] = fmaf(d[j0 + l], xr[j0 + l], acc[l]);
      }
      add_lanes(out, out_ld, o, t, acc);
    }
}

#ifdef HAVE_AVX512_TILE
__attribute__((target("avx512f"))) static void
tile_avx512(float *out, size_t out_ld, const float *dyb, size_t dy_plane,
            int nco, const float *xb, int rows, const Layout *lay) {
  /* a missing channel reads the first's rows; its sums are not stored */
  const float *d[COT];
  for (int o = 0; o < COT; o++)
    d[o] = dyb + (o < nco ? (size_t)o * dy_plane : 0);
  for (int t0 = 0; t0 < lay->kk; t0 += TG) { /* kw == TG */
    __m512 acc[COT][TG];
#pragma GCC unroll 20
    for (int a = 0; a < COT * TG; a++)
      acc[a / TG][a % TG] = _mm512_setzero_ps();
    for (int i = 0; i < rows; i++) {
      const size_t dr = (size_t)i * lay->wq;
      const float *xr = xb + (size_t)i * lay->xs;
      for (int j0 = 0; j0 < lay->wq; j0 += LANES) {
        __m512 xv[TG];
#pragma GCC unroll 5
        for (int g = 0; g < TG; g++)
          xv[g] = _mm512_loadu_ps(xr + lay->off[t0 + g] + j0);
#pragma GCC unroll 8
        for (int o = 0; o < COT; o++) {
          const __m512 dv = _mm512_loadu_ps(d[o] + dr + j0);
#pragma GCC unroll 5
          for (int g = 0; g < TG; g++)
            acc[o][g] = _mm512_fmadd_ps(dv, xv[g], acc[o][g]);
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

static TileFn tile_fn(AcrnnIsa isa, int kw) {
#ifdef HAVE_AVX512_TILE
  if (isa >= ACRNN_ISA_AVX512 && kw == TG)
    return tile_avx512;
#endif
  (void)isa, (void)kw;
  return tile_generic;
}

/* Zeros, then len values of src (zeros if NULL), then zeros, in
 * dst[0 .. total). */
static void put_row(float *dst, int total, int lead, const float *src,
                    int len) {
  memset(dst, 0, sizeof(float) * (size_t)lead);
  if (src)
    memcpy(dst + lead, src, sizeof(float) * (size_t)len);
  else
    memset(dst + lead, 0, sizeof(float) * (size_t)len);
  memset(dst + lead + len, 0, sizeof(float) * (size_t)(total - lead - len));
}

/* Item s of acrnn_item_sums(): copies sample s's dy and x into the
 * scratch (dy's rows, then x's, Layout) and puts its sums in block. */
static void run_item(gpointer data, int s, float *block, gpointer scratch) {
  const Work *wk = data;
  const Layout *lay = &wk->lay;
  const int h = wk->h, w = wk->w, ph = wk->kh / 2, pw = wk->kw / 2;
  const size_t hw = (size_t)h * w, nhw = (size_t)wk->n * hw;
  const size_t dy_plane = (size_t)h * lay->wq;
  const size_t x_plane = (size_t)lay->xrows * lay->xs;
  float *dyb = scratch, *xb = dyb + wk->cout * dy_plane;
  for (int co = 0; co < wk->cout; co++)
    for (int i = 0; i < h; i++)
      put_row(dyb + co * dy_plane + (size_t)i * lay->wq, lay->wq, 0,
              wk->dy + co * nhw + s * hw + (size_t)i * w, w);
  for (int ci = 0; ci < wk->cin; ci++) {
    const float *src = wk->x + ci * nhw + s * hw;
    float *d = xb + ci * x_plane;
    for (int r = 0; r < lay->xrows; r++) {
      const int i = r - ph;
      put_row(d + (size_t)r * lay->xs, lay->xs, pw,
              i >= 0 && i < h ? src + (size_t)i * w : NULL, w);
    }
  }
  const TileFn tile = tile_fn(wk->isa, wk->kw);
  const size_t out_ld = (size_t)wk->cin * lay->kk;
  for (int co = 0; co < wk->cout; co += COT)
    for (int ci = 0; ci < wk->cin; ci++)
      tile(block + co * out_ld + (size_t)ci * lay->kk, out_ld,
           dyb + co * dy_plane, dy_plane, MIN(COT, wk->cout - co),
           xb + ci * x_plane, h, lay);
}

static Layout layout_of(int h, int w, int kh, int kw) {
  Layout l = {.kk = kh * kw, .xrows = h + kh - 1};
  l.wq = (w + LANES - 1) / LANES * LANES;
  l.xs = l.wq + kw - 1;
  for (int t = 0; t < l.kk; t++)
    l.off[t] = (size_t)(t / kw) * l.xs + (size_t)(t % kw);
  return l;
}

void acrnn_conv2d_wgrad_at(AcrnnIsa isa, float *dw, const float *dy,
                           const float *x, int n, int cin, int cout, int h,
                           int w, int kh, int kw) {
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
                   .isa = MIN(isa, acrnn_isa_cpu()),
                   .lay = layout_of(h, w, kh, kw)};
  /* dy's rows are whole vectors: x's copy after them stays 64-byte aligned */
  const size_t scratch =
      sizeof(float) *
      ((size_t)cout * h * wk.lay.wq + (size_t)cin * wk.lay.xrows * wk.lay.xs);
  acrnn_item_sums(dw, (size_t)cout * cin * kh * kw, n, scratch, run_item,
                  (gpointer)&wk);
}

void acrnn_conv2d_wgrad(float *dw, const float *dy, const float *x, int n,
                        int cin, int cout, int h, int w, int kh, int kw) {
  acrnn_conv2d_wgrad_at(acrnn_isa(), dw, dy, x, n, cin, cout, h, w, kh, kw);
}
