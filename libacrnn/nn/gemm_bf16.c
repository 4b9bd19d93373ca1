/* gemm_bf16.c - C = op(A) op(B) (+ C) with bf16 products and fp32 sums.
 *
 * The loops are those of GotoBLAS: for a block of KC_PAIRS pairs of k and
 * NC columns, B is rounded to bf16 and packed once, in panels of NR
 * columns holding for each pair of k the NR pairs (b[k][j], b[k+1][j]);
 * A is packed in panels of MR rows holding for each pair of k the MR pairs
 * (a[i][k], a[i][k+1]). An MR x NR register tile then accumulates, per
 * pair of k, one VDPBF16PS of each row's broadcast pair with each vector of
 * the B panel. An odd k gets a zero partner.
 *
 * The tile is built twice: for AVX512_BF16, and in plain C (the
 * emulation, same order of sums, same bits), chosen by bf16_cpu.c.
 * Threads take whole NR panels of columns or whole MR panels of rows (see
 * run_gemm()), so a C element is summed in the same order whatever the
 * thread count. */
#include "gemm_bf16.h"

#include "bf16.h"
#include "parallel.h"

#include <acrnn/acrnn.h>
#include <glib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_AVX512BF16_TILE 1
#endif

/* The register tile: MR rows x NR columns, NV vectors of 16 columns. Per
 * pair of k it loads NV vectors of B and broadcasts MR pairs of A for MR x
 * NV products: 6 x 64 takes 10 loads per 24, where 12 x 32 took 14, and
 * ran the convolutions' products 10-47 % faster (AMD EPYC Zen 5, one
 * thread; the GRU's input product 10 % slower) */
#define MR 6
#define NR 64
#define NV (NR / 16)
/* 512 values of k per block: the GRU's input products (k = 512) and the
 * weight gradients (k = n h w) ran 10-30 % faster than with 384 (AMD EPYC
 * Zen 5, one thread), the others alike */
#define KC_PAIRS 256
#define MC 96
#define NC 768

/* At most this many threads share one product. */
#define GEMM_MAX_THREADS 64
/* Below this many multiply-adds a product runs on one thread. */
#define GEMM_MIN_THREADED ((double)2e6)

typedef struct {
  int trans_a, trans_b, m, n, k;
  const float *a, *b;
  int lda, ldb;
  float beta;
  float *c;
  int ldc;
  const uint32_t *packed_a; /* A packed by acrnn_gemm_bf16_pack_a(), or NULL */
  const uint32_t *packed_b; /* B packed by acrnn_gemm_bf16_pack_b(), or NULL */
} Gemm;

static inline float a_at(const Gemm *g, int i, int k) {
  return g->trans_a ? g->a[(size_t)k * g->lda + i]
                    : g->a[(size_t)i * g->lda + k];
}

static inline float b_at(const Gemm *g, int k, int j) {
  return g->trans_b ? g->b[(size_t)j * g->ldb + k]
                    : g->b[(size_t)k * g->ldb + j];
}

/* Rows [i0, i0 + mc) and k [k0, k0 + kc) of A in MR panels: ap[panel][p][r].
 */
static void pack_a(uint32_t *ap, const Gemm *g, int i0, int mc, int k0,
                   int kc) {
  const int kp = (kc + 1) / 2;
  for (int r0 = 0; r0 < mc; r0 += MR)
    for (int p = 0; p < kp; p++) {
      const int k = k0 + 2 * p;
      for (int r = 0; r < MR; r++) {
        const int i = i0 + r0 + r;
        uint32_t v = 0;
        if (r0 + r < mc)
          v = acrnn_bf16_pair(a_at(g, i, k),
                              k + 1 < k0 + kc ? a_at(g, i, k + 1) : 0.0f);
        *ap++ = v;
      }
    }
}

/* Columns [j0, j0 + nc) and k [k0, k0 + kc) of B in NR panels:
 * bp[panel][p][j]. */
static void pack_b(uint32_t *bp, const Gemm *g, int j0, int nc, int k0,
                   int kc) {
  const int kp = (kc + 1) / 2;
  for (int c0 = 0; c0 < nc; c0 += NR)
    for (int p = 0; p < kp; p++) {
      const int k = k0 + 2 * p;
      const int pair = k + 1 < k0 + kc;
      if (!g->trans_b && c0 + NR <= nc) {
        const float *r0 = g->b + (size_t)k * g->ldb + j0 + c0;
        const float *r1 = r0 + g->ldb;
        for (int j = 0; j < NR; j++)
          bp[j] = acrnn_bf16_pair(r0[j], pair ? r1[j] : 0.0f);
        bp += NR;
        continue;
      }
      for (int j = 0; j < NR; j++) {
        const int jj = j0 + c0 + j;
        uint32_t v = 0;
        if (c0 + j < nc)
          v = acrnn_bf16_pair(b_at(g, k, jj), pair ? b_at(g, k + 1, jj) : 0.0f);
        *bp++ = v;
      }
    }
}

typedef void (*TileFn)(int kp, const uint32_t *ap, const uint32_t *bp, float *c,
                       int ldc, int mr, int nr, int load);

/* The plain C tile: the emulation, in VDPBF16PS's order. */
static void tile_generic(int kp, const uint32_t *ap, const uint32_t *bp,
                         float *c, int ldc, int mr, int nr, int load) {
  float acc[MR][NR];
  memset(acc, 0, sizeof acc);
  for (int p = 0; p < kp; p++, ap += MR, bp += NR)
    for (int r = 0; r < mr; r++)
      for (int j = 0; j < nr; j++)
        acc[r][j] = acrnn_bf16_dot2(acc[r][j], ap[r], bp[j]);
  for (int r = 0; r < mr; r++)
    for (int j = 0; j < nr; j++)
      c[(size_t)r * ldc + j] =
          load ? c[(size_t)r * ldc + j] + acc[r][j] : acc[r][j];
}

#ifdef HAVE_AVX512BF16_TILE
__attribute__((target("avx512bf16,avx512f,avx512vl,avx512bw"))) static void
tile_avx512bf16(int kp, const uint32_t *ap, const uint32_t *bp, float *c,
                int ldc, int mr, int nr, int load) {
  __m512 acc[MR][NV];
#pragma GCC unroll 32
  for (int t = 0; t < MR * NV; t++)
    acc[t / NV][t % NV] = _mm512_setzero_ps();
  for (int p = 0; p < kp; p++, ap += MR, bp += NR) {
    __m512bh b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++)
      b[v] = (__m512bh)_mm512_loadu_si512(bp + 16 * v);
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32((int)ap[r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++)
        acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, b[v]);
    }
  }
  __mmask16 m[NV];
  for (int v = 0; v < NV; v++) {
    const int left = nr - 16 * v;
    m[v] = left >= 16 ? 0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
  }
  for (int r = 0; r < mr; r++) {
    float *cr = c + (size_t)r * ldc;
    for (int v = 0; v < NV; v++) {
      __m512 x = acc[r][v];
      if (load)
        x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m[v], cr + 16 * v));
      _mm512_mask_storeu_ps(cr + 16 * v, m[v], x);
    }
  }
}

/* The packing of the AVX512_BF16 build: VCVTNEPS2BF16 rounds 16 floats at
 * a time (the same bits as acrnn_bf16_from_float). */
#define FAST_TARGET                                                            \
  __attribute__((target("avx512bf16,avx512f,avx512vl,avx512bw")))

/* dst[0 .. (nk + 1) / 2) = pairs of the nk contiguous floats of src. */
FAST_TARGET static void convert_run(uint32_t *dst, const float *src, int nk) {
  int k = 0;
  for (; k + 16 <= nk; k += 16, dst += 8)
    _mm256_storeu_si256((__m256i *)dst,
                        (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + k)));
  if (k < nk) {
    const int left = nk - k;
    const __m512 v =
        _mm512_maskz_loadu_ps((__mmask16)((1u << left) - 1), src + k);
    const __m256i b = (__m256i)_mm512_cvtneps_pbh(v);
    _mm256_mask_storeu_epi32(dst, (__mmask8)((1u << ((left + 1) / 2)) - 1), b);
  }
}

/* One pair of rows of NoTrans B, the first cols of 32 columns (zeros
 * after them): the two rows rounded by one VCVTNE2PS2BF16 each half, then
 * their words interleaved. */
FAST_TARGET static void pack_b_rows(uint32_t *bp, const float *r0,
                                    const float *r1, int cols) {
  static const short order[32] = {0,  16, 1,  17, 2,  18, 3,  19, 4,  20, 5,
                                  21, 6,  22, 7,  23, 8,  24, 9,  25, 10, 26,
                                  11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i idx = _mm512_loadu_si512(order);
  for (int v = 0; v < NR / 16; v++) {
    const int left = cols - 16 * v;
    const __mmask16 m = left >= 16  ? (__mmask16)0xffff
                        : left <= 0 ? (__mmask16)0
                                    : (__mmask16)((1u << left) - 1);
    const __m512 lo = _mm512_maskz_loadu_ps(m, r0 + 16 * v);
    const __m512 hi =
        r1 ? _mm512_maskz_loadu_ps(m, r1 + 16 * v) : _mm512_setzero_ps();
    const __m512i b = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
    _mm512_storeu_si512(bp + 16 * v, _mm512_permutexvar_epi16(idx, b));
  }
}

/* pack_b and pack_a of the AVX512_BF16 build, vectorised where the pairs of
 * k are adjacent in memory (a run of a row: converted, then spread) or the
 * columns are (NoTrans B: two rows at a time, a last partial panel with
 * masked loads); the rest as the generic. */
FAST_TARGET static void pack_b_fast(uint32_t *bp, const Gemm *g, int j0, int nc,
                                    int k0, int kc) {
  const int kp = (kc + 1) / 2;
  uint32_t run[KC_PAIRS];
  for (int c0 = 0; c0 < nc; c0 += NR, bp += (size_t)NR * kp) {
    const int cols = MIN(NR, nc - c0);
    if (g->trans_b) {
      for (int j = 0; j < NR; j++) {
        if (j < cols)
          convert_run(run, g->b + (size_t)(j0 + c0 + j) * g->ldb + k0, kc);
        for (int p = 0; p < kp; p++)
          bp[(size_t)p * NR + j] = j < cols ? run[p] : 0;
      }
    } else {
      for (int p = 0; p < kp; p++) {
        const int k = k0 + 2 * p;
        const float *r0 = g->b + (size_t)k * g->ldb + j0 + c0;
        pack_b_rows(bp + (size_t)p * NR, r0,
                    k + 1 < k0 + kc ? r0 + g->ldb : NULL, cols);
      }
    }
  }
}

FAST_TARGET static void pack_a_fast(uint32_t *ap, const Gemm *g, int i0, int mc,
                                    int k0, int kc) {
  if (g->trans_a) {
    pack_a(ap, g, i0, mc, k0, kc);
    return;
  }
  const int kp = (kc + 1) / 2;
  uint32_t run[KC_PAIRS];
  for (int r0 = 0; r0 < mc; r0 += MR, ap += (size_t)MR * kp)
    for (int r = 0; r < MR; r++) {
      if (r0 + r < mc)
        convert_run(run, g->a + (size_t)(i0 + r0 + r) * g->lda + k0, kc);
      for (int p = 0; p < kp; p++)
        ap[(size_t)p * MR + r] = r0 + r < mc ? run[p] : 0;
    }
}

#endif

static TileFn tile_fn(void) {
#ifdef HAVE_AVX512BF16_TILE
  if (acrnn_bf16_fast())
    return tile_avx512bf16;
#endif
  return tile_generic;
}

static int round_up_nr(int n) {
  return (n + NR - 1) / NR * NR;
}

static int round_up_mr(int m) {
  return (m + MR - 1) / MR * MR;
}

/* Packs count rows of A (from i0) or columns of B (from j0), over k0 ..
 * k0 + kc, into the tile's panels. */
typedef void (*PackFn)(uint32_t *dst, const Gemm *g, int from, int count,
                       int k0, int kc);

/* This CPU's packer of A (side_a) or B. */
static PackFn packer(int side_a) {
#ifdef HAVE_AVX512BF16_TILE
  if (tile_fn() != tile_generic)
    return side_a ? pack_a_fast : pack_b_fast;
#endif
  return side_a ? pack_a : pack_b;
}

/* The whole of A (side_a: its m rows) or B (its n columns) packed once,
 * k block after k block, each block all of the panels (width: m or n
 * rounded up to the tile), into packed (NULL: only counted). Returns the
 * number of pairs. */
static size_t pack_whole(uint32_t *packed, const Gemm *g, int side_a) {
  const PackFn pack = packer(side_a);
  const int count = side_a ? g->m : g->n;
  const int width = side_a ? round_up_mr(g->m) : round_up_nr(g->n);
  size_t size = 0;
  for (int k0 = 0; k0 < g->k; k0 += 2 * KC_PAIRS) {
    const int kc = MIN(2 * KC_PAIRS, g->k - k0);
    if (packed)
      pack(packed + size, g, 0, count, k0, kc);
    size += (size_t)width * ((kc + 1) / 2);
  }
  return size;
}

/* Rows [i_begin, i_end) and columns [j_begin, j_end) of C, with this
 * thread's packing buffers. */
static void run_block(const Gemm *g, int i_begin, int i_end, int j_begin,
                      int j_end) {
  const TileFn tile = tile_fn();
  const PackFn pack_a_block = packer(1), pack_b_block = packer(0);
  const int kc_max = 2 * KC_PAIRS;
  const int nc_max = MIN(NC, j_end - j_begin);
  const int mc_max = MIN(MC, i_end - i_begin);
  uint32_t *own_b =
      g->packed_b ? NULL : g_new(uint32_t, (size_t)(nc_max + NR) * KC_PAIRS);
  uint32_t *own_a =
      g->packed_a ? NULL : g_new(uint32_t, (size_t)(mc_max + MR) * KC_PAIRS);
  for (int j0 = j_begin; j0 < j_end; j0 += NC) {
    const int nc = MIN(NC, j_end - j0);
    const uint32_t *packed = g->packed_b; /* its k block 0 */
    const uint32_t *packed_a = g->packed_a;
    for (int k0 = 0; k0 < g->k; k0 += kc_max) {
      const int kc = MIN(kc_max, g->k - k0);
      const int kp = (kc + 1) / 2;
      const int load = k0 > 0 || g->beta != 0.0f;
      const uint32_t *bp = own_b;
      if (packed) { /* its NR panels of the whole n, j0 on a panel */
        bp = packed + (size_t)j0 * kp;
        packed += (size_t)round_up_nr(g->n) * kp;
      } else {
        pack_b_block(own_b, g, j0, nc, k0, kc);
      }
      for (int i0 = i_begin; i0 < i_end; i0 += MC) {
        const int mc = MIN(MC, i_end - i0);
        const uint32_t *ap = own_a;
        if (packed_a) /* its MR panels of the whole m, i0 on a panel */
          ap = packed_a + (size_t)i0 * kp;
        else
          pack_a_block(own_a, g, i0, mc, k0, kc);
        for (int c0 = 0; c0 < nc; c0 += NR)
          for (int r0 = 0; r0 < mc; r0 += MR)
            tile(kp, ap + (size_t)r0 * kp, bp + (size_t)c0 * kp,
                 g->c + (size_t)(i0 + r0) * g->ldc + j0 + c0, g->ldc,
                 MIN(MR, mc - r0), MIN(NR, nc - c0), load);
      }
      if (packed_a)
        packed_a += (size_t)round_up_mr(g->m) * kp;
    }
  }
  g_free(own_a);
  g_free(own_b);
}

typedef struct {
  const Gemm *g;
  int i_begin, i_end, j_begin, j_end;
} GemmShare;

static void run_share(gpointer data) {
  const GemmShare *s = data;
  run_block(s->g, s->i_begin, s->i_end, s->j_begin, s->j_end);
}

/* C = beta C + op(A) B with B as g says, on acrnn_get_threads() threads.
 * They share whole NR panels of columns when B is the larger operand (each
 * then rounds and packs only its part of B), else whole MR panels of rows
 * (each its part of A): at batch 1 the weights are the larger operand of
 * every product. A tile computes each element of C in the same order
 * wherever its block starts, so the result does not depend on the split. */
static void run_gemm(const Gemm *g) {
  const int by_rows = g->m > g->n;
  const int unit = by_rows ? MR : NR, len = by_rows ? g->m : g->n;
  const int panels = (len + unit - 1) / unit;
  int nt = acrnn_get_threads();
  if (nt > GEMM_MAX_THREADS)
    nt = GEMM_MAX_THREADS;
  if (nt > panels)
    nt = panels;
  if ((double)g->m * g->n * g->k < GEMM_MIN_THREADED)
    nt = 1;
  GemmShare shares[GEMM_MAX_THREADS];
  for (int t = 0; t < nt; t++) {
    const int p0 = panels * t / nt, p1 = panels * (t + 1) / nt;
    const int b = p0 * unit, e = MIN(len, p1 * unit);
    shares[t] =
        by_rows ? (GemmShare){g, b, e, 0, g->n} : (GemmShare){g, 0, g->m, b, e};
  }
  acrnn_parallel_run(nt, run_share, shares, sizeof shares[0]);
}

/* C = 0 where k is 0 and beta 0; FALSE when there is nothing to do. */
static int have_product(int m, int n, int k, float beta, float *c, int ldc) {
  if (m <= 0 || n <= 0)
    return 0;
  if (k <= 0) {
    if (beta == 0.0f)
      for (int i = 0; i < m; i++)
        memset(c + (size_t)i * ldc, 0, sizeof(float) * (size_t)n);
    return 0;
  }
  return 1;
}

void acrnn_gemm_bf16(int trans_a, int trans_b, int m, int n, int k,
                     const float *a, int lda, const float *b, int ldb,
                     float beta, float *c, int ldc) {
  if (!have_product(m, n, k, beta, c, ldc))
    return;
  const Gemm g = {trans_a, trans_b, m,    n, k,   a,    b,
                  lda,     ldb,     beta, c, ldc, NULL, NULL};
  run_gemm(&g);
}

size_t acrnn_gemm_bf16_packed_b_size(int n, int k) {
  const Gemm g = {.n = n, .k = k};
  return pack_whole(NULL, &g, 0);
}

void acrnn_gemm_bf16_pack_b(uint32_t *packed, int trans_b, int n, int k,
                            const float *b, int ldb) {
  const Gemm g = {.trans_b = trans_b, .n = n, .k = k, .b = b, .ldb = ldb};
  pack_whole(packed, &g, 0);
}

void acrnn_gemm_bf16_packed(int trans_a, int m, int n, int k, const float *a,
                            int lda, const uint32_t *packed_b, float beta,
                            float *c, int ldc) {
  if (!have_product(m, n, k, beta, c, ldc))
    return;
  acrnn_gemm_bf16_prepacked(trans_a, 0, m, n, k, a, lda, NULL, NULL, 0,
                            packed_b, beta, c, ldc);
}

size_t acrnn_gemm_bf16_packed_a_size(int m, int k) {
  const Gemm g = {.m = m, .k = k};
  return pack_whole(NULL, &g, 1);
}

void acrnn_gemm_bf16_pack_a(uint32_t *packed, int trans_a, int m, int k,
                            const float *a, int lda) {
  const Gemm g = {.trans_a = trans_a, .m = m, .k = k, .a = a, .lda = lda};
  pack_whole(packed, &g, 1);
}

void acrnn_gemm_bf16_prepacked(int trans_a, int trans_b, int m, int n, int k,
                               const float *a, int lda,
                               const uint32_t *packed_a, const float *b,
                               int ldb, const uint32_t *packed_b, float beta,
                               float *c, int ldc) {
  if (!have_product(m, n, k, beta, c, ldc))
    return;
  const Gemm g = {trans_a, trans_b, m,    n, k,   a,        b,
                  lda,     ldb,     beta, c, ldc, packed_a, packed_b};
  run_gemm(&g);
}
