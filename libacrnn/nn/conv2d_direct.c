/* conv2d_direct.c - the 'same' convolution computed straight from the input,
 * without a column matrix, for the wide maps of the first two blocks
 * (128 x 128, kernel 3 x 5). There, im2col + sgemm spends about a third of
 * its time copying columns and packing them again inside the BLAS; this
 * path reads each input value from cache instead.
 *
 * For a band of output rows of one sample, the input rows it needs are
 * copied once into a zero-padded buffer (so no tap ever tests a border).
 * A register tile of OCB output channels x NJ vectors of output columns
 * (conv2d_direct_tile.h) then accumulates, for every input channel and
 * kernel tap, an unaligned vector load of a padded row times each channel's
 * broadcast weight. The weights are repacked once per call so that the OCB
 * weights of a tap are adjacent.
 *
 * The input gradient is a 'same' convolution of dY with the kernel flipped
 * and the channels swapped (see conv2d.c), so the same tile computes it,
 * from weights packed flipped, accumulating into dx.
 *
 * The tile is built three times: for AVX-512, for AVX2 with FMA, and for
 * the compiler's baseline vectors; the first one at or below acrnn_isa()
 * (the CPU's level, capped by ACRNN_ISA) is used. */
#include "conv2d_direct.h"
#include "bf16.h"
#include "conv2d_direct_run.h"

#include "gemm.h"
#include "isa.h"
#include <acrnn/acrnn.h>
#include <glib.h>
#include <string.h>

/* Floats of padded input a band may hold: 512 KiB, a quarter of a core's
 * L2, so the band stays there while every channel block reads it. */
#define DIRECT_BAND_FLOATS ((size_t)128 * 1024)

/* Below this width the last vectors of a row are mostly padding, and
 * im2col + sgemm wins. */
#define DIRECT_MIN_WIDTH 64

typedef struct {
  const float *scale, *shift; /* per output channel of the block, or NULL */
  int relu, accumulate;
  int max_into; /* y = max(y, v) last: a fused pool's rows after the first */
} DirectEpilogue;

#define TILE_FN tile_generic
#define TILE_TARGET
#define TILE_VL 4
#define TILE_OCB 4
#define TILE_NJ 3
#define TILE_V v4sf
#define TILE_VU v4sf_u
#include "conv2d_direct_tile.h"

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_X86_TILES 1

#define TILE_FN tile_avx2
#define TILE_TARGET __attribute__((target("avx2,fma")))
#define TILE_VL 8
#define TILE_OCB 4
#define TILE_NJ 3
#define TILE_V v8sf
#define TILE_VU v8sf_u
#include "conv2d_direct_tile.h"

#define TILE_FN tile_avx512
#define TILE_TARGET __attribute__((target("avx512f")))
#define TILE_VL 16
#define TILE_OCB 8
#define TILE_NJ 2
#define TILE_V v16sf
#define TILE_VU v16sf_u
#include "conv2d_direct_tile.h"
#endif

typedef void (*TileFn)(float *y, size_t ldc, const float *xp, size_t plane,
                       int wp, const float *wk, int cin, int kh, int kw,
                       int nco, int rows, int w, const DirectEpilogue *ep);

/* One build of the tile: its function, shape, and whether it is fast
 * enough to be chosen over im2col on its own (the baseline build only runs
 * when asked for, in tests). */
typedef struct {
  TileFn fn;
  int ocb, cols; /* output channels and columns per tile */
  int fast;
  AcrnnIsa isa; /* the vector level it needs */
} Tile;

static const Tile tiles[] = {
#ifdef HAVE_X86_TILES
    {tile_avx512, 8, 32, 1, ACRNN_ISA_AVX512},
    {tile_avx2, 4, 24, 1, ACRNN_ISA_AVX2},
#endif
    {tile_generic, 4, 12, 0, ACRNN_ISA_GENERIC},
};

/* Whether t may run here: the CPU runs it and ACRNN_ISA allows it. */
static int cpu_runs(const Tile *t) {
  return t->isa <= acrnn_isa();
}

/* The build in use; atomic, as networks run on several threads at once
 * (threads racing to choose it store the same pointer). */
static const Tile *chosen_tile;

static const Tile *tile(void) {
  const Tile *t = g_atomic_pointer_get(&chosen_tile);
  if (!t) {
    size_t i = 0;
    while (!cpu_runs(&tiles[i]))
      i++; /* the last, generic, always runs */
    t = &tiles[i];
    g_atomic_pointer_set(&chosen_tile, t);
  }
  return t;
}

int acrnn_conv2d_direct_use(const char *isa) {
  for (size_t i = 0; i < G_N_ELEMENTS(tiles); i++)
    if (strcmp(acrnn_isa_name(tiles[i].isa), isa) == 0 && cpu_runs(&tiles[i])) {
      g_atomic_pointer_set(&chosen_tile, &tiles[i]);
      return 1;
    }
  return 0;
}

static AcrnnConvPath conv_path = ACRNN_CONV_AUTO;

void acrnn_conv2d_set_path(AcrnnConvPath path) {
  conv_path = path;
}

const char *acrnn_conv2d_direct_isa(void) {
  return acrnn_isa_name(tile()->isa);
}

int acrnn_conv2d_direct_chosen(int h, int w, int kh, int kw) {
  if (kh * kw <= 1 || h <= 0 || w <= 0)
    return 0;
  switch (conv_path) {
  case ACRNN_CONV_IM2COL:
    return 0;
  case ACRNN_CONV_DIRECT:
    return 1;
  case ACRNN_CONV_AUTO:
  default:
    /* in bf16 a one-column kernel runs over flat planes at any width
     * (conv2d_direct_bf16.c) */
    if (kw == 1 && acrnn_gemm_precision() == ACRNN_PRECISION_BF16 &&
        acrnn_bf16_fast())
      return 1;
    return tile()->fast && w >= DIRECT_MIN_WIDTH;
  }
}

static int round_up(int v, int m) {
  return (v + m - 1) / m * m;
}

/* Padded row length: whole tiles of columns plus the kernel's reach. */
static int padded_width(int w, int kw) {
  return round_up(w, tile()->cols) + kw - 1;
}

/* Output rows per band for cin input channels. */
static int band_rows(int cin, int h, int w, int kh, int kw) {
  const size_t per_row = (size_t)cin * padded_width(w, kw);
  const size_t fit = DIRECT_BAND_FLOATS / per_row;
  int rows = fit > (size_t)(kh - 1) ? (int)(fit - (size_t)(kh - 1)) : 1;
  return rows < h ? rows : h;
}

/* With a fused pool of ph rows: the output rows per band, a multiple of ph,
 * that leave room in the band buffer for the scratch row of every output
 * channel of a block (ocb * w floats after the band); 0 if not even ph
 * rows fit. */
static int pool_band_rows(int cin, int h, int w, int kh, int kw, int ph) {
  const size_t per_row = (size_t)cin * padded_width(w, kw);
  const size_t buffer = per_row * (band_rows(cin, h, w, kh, kw) + kh - 1);
  const size_t scratch = (size_t)tile()->ocb * w;
  if (buffer < scratch + per_row * (size_t)(ph + kh - 1))
    return 0;
  const int rows = (int)((buffer - scratch) / per_row) - (kh - 1);
  const int oh = h / ph * ph;
  return (rows < oh ? rows : oh) / ph * ph;
}

static size_t packed_floats(int cin, int cout, int kh, int kw) {
  return (size_t)round_up(cout, tile()->ocb) * cin * kh * kw;
}

static size_t band_floats(int cin, int h, int w, int kh, int kw) {
  return (size_t)cin * (band_rows(cin, h, w, kh, kw) + kh - 1) *
         padded_width(w, kw);
}

size_t acrnn_conv2d_direct_workspace(int cin, int cout, int h, int w, int kh,
                                     int kw) {
  if (cin <= 0 || cout <= 0 || h <= 0 || w <= 0 || kh <= 0 || kw <= 0)
    return 0;
  /* The forward pass (cin in, cout out) and the input gradient (the
   * reverse), whichever needs more. */
  const size_t fwd =
      packed_floats(cin, cout, kh, kw) + band_floats(cin, h, w, kh, kw);
  const size_t bwd =
      packed_floats(cout, cin, kh, kw) + band_floats(cout, h, w, kh, kw);
  return fwd > bwd ? fwd : bwd;
}

/* wk[cb][c][ki][kj][o] = weight of output channel cb*ocb + o from input
 * channel c at tap (ki, kj), zero for the block's missing channels. With
 * flip, the convolution is the input gradient of w[cin][cout][kh][kw]
 * (output and input swapped, kernel turned by 180 degrees). */
static void pack_weights(float *wk, const float *w, int cin, int cout, int kh,
                         int kw, int ocb, int flip) {
  const int kk = kh * kw;
  for (int cb = 0; cb < cout; cb += ocb)
    for (int c = 0; c < cin; c++)
      for (int k = 0; k < kk; k++)
        for (int o = 0; o < ocb; o++) {
          const int co = cb + o;
          float v = 0.0f;
          if (co < cout)
            v = flip ? w[((size_t)c * cout + co) * kk + (kk - 1 - k)]
                     : w[((size_t)co * cin + c) * kk + k];
          *wk++ = v;
        }
}

/* Copies input rows i0 - kh/2 .. i0 + rows + kh/2 - 1 of one sample (its
 * channel planes ldx apart) into the zero-padded band. */
static void copy_band(float *xp, const float *x, size_t ldx, int cin, int h,
                      int w, int kh, int kw, int i0, int rows, int wp) {
  const int ph = kh / 2, pw = kw / 2;
  const int prow = rows + kh - 1;
  for (int c = 0; c < cin; c++) {
    const float *plane = x + (size_t)c * ldx;
    for (int r = 0; r < prow; r++) {
      float *dst = xp + ((size_t)c * prow + r) * wp;
      const int src = i0 + r - ph;
      if (src < 0 || src >= h) {
        memset(dst, 0, sizeof(float) * (size_t)wp);
        continue;
      }
      memset(dst, 0, sizeof(float) * (size_t)pw);
      memcpy(dst + pw, plane + (size_t)src * w, sizeof(float) * (size_t)w);
      memset(dst + pw + w, 0, sizeof(float) * (size_t)(wp - pw - w));
    }
  }
}

/* The work of one convolution, shared by its threads (conv2d_direct_run.h
 * shares out its items). */
typedef struct {
  float *y;
  const float *x, *wk;
  int n, cin, cout, h, wd, kh, kw;
  const float *scale, *shift;
  int relu, accumulate;
  AcrnnDirectPool pool; /* ph 0: no pool, y is the map */
} DirectWork;

/* Output rows [r0, r1) of sample s, in bands that fit the buffer band;
 * with a pool, each window's rows into the scratch row after the band
 * (conv2d_direct_run.h), pooled from there (r0 and r1 multiples of ph). */
static void run_item(const void *work, void *band, int s, int r0, int r1) {
  const DirectWork *j = work;
  float *xp = band;
  const Tile *t = tile();
  const int h = j->h, wd = j->wd, kh = j->kh, kw = j->kw, cin = j->cin;
  const size_t hw = (size_t)h * wd, nhw = (size_t)j->n * hw;
  const int kk = kh * kw;
  const int wp = padded_width(wd, kw);
  const int ph = j->pool.ph;
  const int rows_max = ph ? pool_band_rows(cin, h, wd, kh, kw, ph)
                          : band_rows(cin, h, wd, kh, kw);
  float *scratch = xp + (size_t)cin * (rows_max + kh - 1) * wp;
  for (int i0 = r0; i0 < r1; i0 += rows_max) {
    const int rows = r1 - i0 < rows_max ? r1 - i0 : rows_max;
    const size_t plane = (size_t)(rows + kh - 1) * wp;
    copy_band(xp, j->x + (size_t)s * hw, nhw, cin, h, wd, kh, kw, i0, rows, wp);
    for (int cb = 0; cb < j->cout; cb += t->ocb) {
      const DirectEpilogue ep = {j->scale ? j->scale + cb : NULL,
                                 j->shift ? j->shift + cb : NULL, j->relu,
                                 j->accumulate, 0};
      const int nco = j->cout - cb < t->ocb ? j->cout - cb : t->ocb;
      const float *wk = j->wk + (size_t)cb * cin * kk;
      if (!ph) {
        t->fn(j->y + (size_t)cb * nhw + (size_t)s * hw + (size_t)i0 * wd, nhw,
              xp, plane, wp, wk, cin, kh, kw, nco, rows, wd, &ep);
        continue;
      }
      DirectEpilogue into = ep;
      into.max_into = 1;
      for (int i = 0; i < rows; i++) {
        t->fn(scratch, wd, xp + (size_t)i * wp, plane, wp, wk, cin, kh, kw, nco,
              1, wd, i % ph ? &into : &ep);
        if (i % ph == ph - 1)
          acrnn_conv2d_direct_pool_rows(&j->pool, scratch, cb, nco, j->n, s, h,
                                        wd, i0 + i - (ph - 1));
      }
    }
  }
}

/* Packs the weights into ws and runs the items of work (its wk set here)
 * over rows [0, h) of every sample, row_step rows at a time. */
static void run(DirectWork *work, const float *w, int flip, int h, int row_step,
                float *ws) {
  const int cin = work->cin, cout = work->cout, kh = work->kh, kw = work->kw;
  pack_weights(ws, w, cin, cout, kh, kw, tile()->ocb, flip);
  work->wk = ws;
  acrnn_conv2d_direct_run(work->n, h, row_step, work, run_item,
                          ws + packed_floats(cin, cout, kh, kw),
                          sizeof(float) *
                              band_floats(cin, work->h, work->wd, kh, kw));
}

/* Every output value is computed the same way whichever thread takes it,
 * so results do not depend on the thread count. */
void acrnn_conv2d_direct(float *y, const float *x, const float *w, int n,
                         int cin, int cout, int h, int wd, int kh, int kw,
                         const float *scale, const float *shift, int relu,
                         int accumulate, int flip, float *ws) {
  if (n <= 0 || cin <= 0 || cout <= 0 || h <= 0 || wd <= 0)
    return;
  DirectWork work = {.y = y,
                     .x = x,
                     .n = n,
                     .cin = cin,
                     .cout = cout,
                     .h = h,
                     .wd = wd,
                     .kh = kh,
                     .kw = kw,
                     .scale = scale,
                     .shift = shift,
                     .relu = relu,
                     .accumulate = accumulate};
  run(&work, w, flip, h, 1, ws);
}

int acrnn_conv2d_direct_pool(float *y, const float *x, const float *w, int n,
                             int cin, int cout, int h, int wd, int kh, int kw,
                             const float *scale, const float *shift, int ph,
                             int pw, float *ws) {
  if (n <= 0 || cin <= 0 || cout <= 0 || ph <= 0 || pw <= 0 || ph > h ||
      pw > wd || !pool_band_rows(cin, h, wd, kh, kw, ph))
    return 0;
  DirectWork work = {.x = x,
                     .n = n,
                     .cin = cin,
                     .cout = cout,
                     .h = h,
                     .wd = wd,
                     .kh = kh,
                     .kw = kw,
                     .scale = scale,
                     .shift = shift,
                     .relu = 1,
                     .pool = {y, ph, pw}};
  run(&work, w, 0, h / ph * ph, ph, ws);
  return 1;
}
