/* gru_gates.c - the element-wise part of a GRU step (gru_gates.h), in
 * plain C and in AVX2, the same operations in the same order.
 *
 * exp(x): x is clamped to [-87, 88] (the result stays a normal float);
 * n = round(x log2 e) by adding 1.5 * 2^23 in one fused multiply-add, whose
 * low mantissa bits then hold n; r = x - n ln 2 in two steps (Cody-Waite:
 * ln 2 as 0.693359375, exact in a float, minus 2.12194440e-4); exp(r) from
 * Cephes' degree-6 polynomial on [-ln 2 / 2, ln 2 / 2]; times 2^n made from
 * n's bits. sigmoid(x) = 1 / (1 + exp(-x)); tanh(x) = 2 sigmoid(2x) - 1.
 *
 * GCC contracts a product and a sum into one FMA in the AVX2 build (the
 * intrinsics are vector arithmetic to it) where the plain C build rounds
 * twice. The only such pair here is exp's last product, by 2^n, and the
 * 1 + exp(-x) after it: a product by a power of two is exact, so both
 * builds round once. A new one would show in test_gru_gates. */
#include "gru_gates.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_AVX2_GATES 1
#endif

#define EXP_LO (-87.0f)
#define EXP_HI 88.0f
#define LOG2E 1.44269504088896341f
#define ROUND_MAGIC 12582912.0f /* 1.5 * 2^23 */
#define LN2_HI 0.693359375f
#define LN2_LO (-2.12194440e-4f)
#define P0 1.9875691500e-4f
#define P1 1.3981999507e-3f
#define P2 8.3334519073e-3f
#define P3 4.1665795894e-2f
#define P4 1.6666665459e-1f
#define P5 5.0000001201e-1f
/* bits of ROUND_MAGIC + n, less those of ROUND_MAGIC, plus the bias */
#define EXP_BIAS_FROM_MAGIC (127u - 0x4b400000u)

float acrnn_gates_expf(float x) {
  x = x < EXP_LO ? EXP_LO : x;
  x = x > EXP_HI ? EXP_HI : x;
  const float t = fmaf(x, LOG2E, ROUND_MAGIC);
  const float n = t - ROUND_MAGIC;
  float r = fmaf(n, -LN2_HI, x);
  r = fmaf(n, -LN2_LO, r);
  float p = fmaf(P0, r, P1);
  p = fmaf(p, r, P2);
  p = fmaf(p, r, P3);
  p = fmaf(p, r, P4);
  p = fmaf(p, r, P5);
  const float r2 = r * r;
  const float y = fmaf(p, r2, r) + 1.0f;
  uint32_t tb;
  memcpy(&tb, &t, sizeof tb);
  const uint32_t sb = (tb + EXP_BIAS_FROM_MAGIC) << 23;
  float scale;
  memcpy(&scale, &sb, sizeof scale);
  return y * scale;
}

float acrnn_gates_sigmoid(float x) {
  return 1.0f / (1.0f + acrnn_gates_expf(-x));
}

float acrnn_gates_tanh(float x) {
  return fmaf(2.0f, acrnn_gates_sigmoid(x + x), -1.0f);
}

/* Units [from, hidden) in plain C. */
static void gates_generic(float *h, float *c, float *y, const float *gi,
                          const float *gh, int H, int from) {
  for (int j = from; j < H; j++) {
    const float r = acrnn_gates_sigmoid(gi[j] + gh[j]);
    const float z = acrnn_gates_sigmoid(gi[H + j] + gh[H + j]);
    const float hn = gh[2 * H + j];
    const float nn = acrnn_gates_tanh(fmaf(r, hn, gi[2 * H + j]));
    const float hp = h[j];
    c[j] = r;
    c[H + j] = z;
    c[2 * H + j] = nn;
    c[3 * H + j] = hn;
    c[4 * H + j] = hp;
    h[j] = fmaf(z, hp - nn, nn); /* (1 - z) n + z h */
    y[j] = h[j];
  }
}

#ifdef HAVE_AVX2_GATES
#define AVX2_TARGET __attribute__((target("avx2,fma")))

AVX2_TARGET static inline __m256 exp8(__m256 x) {
  /* (the bound first: a NaN passes through, as in the plain C build) */
  x = _mm256_max_ps(_mm256_set1_ps(EXP_LO), x);
  x = _mm256_min_ps(_mm256_set1_ps(EXP_HI), x);
  const __m256 t =
      _mm256_fmadd_ps(x, _mm256_set1_ps(LOG2E), _mm256_set1_ps(ROUND_MAGIC));
  const __m256 n = _mm256_sub_ps(t, _mm256_set1_ps(ROUND_MAGIC));
  __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-LN2_HI), x);
  r = _mm256_fmadd_ps(n, _mm256_set1_ps(-LN2_LO), r);
  __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(P0), r, _mm256_set1_ps(P1));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P5));
  const __m256 r2 = _mm256_mul_ps(r, r);
  const __m256 y =
      _mm256_add_ps(_mm256_fmadd_ps(p, r2, r), _mm256_set1_ps(1.0f));
  const __m256i sb = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_castps_si256(t),
                       _mm256_set1_epi32((int)EXP_BIAS_FROM_MAGIC)),
      23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(sb));
}

AVX2_TARGET static inline __m256 sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  /* -x flips the sign bit, as C's unary minus does (NaNs included) */
  const __m256 e = exp8(_mm256_xor_ps(x, _mm256_set1_ps(-0.0f)));
  return _mm256_div_ps(one, _mm256_add_ps(one, e));
}

AVX2_TARGET static inline __m256 tanh8(__m256 x) {
  return _mm256_fmadd_ps(_mm256_set1_ps(2.0f), sigmoid8(_mm256_add_ps(x, x)),
                         _mm256_set1_ps(-1.0f));
}

AVX2_TARGET static void gates_avx2(float *h, float *c, float *y,
                                   const float *gi, const float *gh, int H) {
  int j = 0;
  for (; j + 8 <= H; j += 8) {
    const __m256 r = sigmoid8(
        _mm256_add_ps(_mm256_loadu_ps(gi + j), _mm256_loadu_ps(gh + j)));
    const __m256 z = sigmoid8(_mm256_add_ps(_mm256_loadu_ps(gi + H + j),
                                            _mm256_loadu_ps(gh + H + j)));
    const __m256 hn = _mm256_loadu_ps(gh + 2 * H + j);
    const __m256 nn =
        tanh8(_mm256_fmadd_ps(r, hn, _mm256_loadu_ps(gi + 2 * H + j)));
    const __m256 hp = _mm256_loadu_ps(h + j);
    const __m256 hq = _mm256_fmadd_ps(z, _mm256_sub_ps(hp, nn), nn);
    _mm256_storeu_ps(c + j, r);
    _mm256_storeu_ps(c + H + j, z);
    _mm256_storeu_ps(c + 2 * H + j, nn);
    _mm256_storeu_ps(c + 3 * H + j, hn);
    _mm256_storeu_ps(c + 4 * H + j, hp);
    _mm256_storeu_ps(h + j, hq);
    _mm256_storeu_ps(y + j, hq);
  }
  gates_generic(h, c, y, gi, gh, H, j);
}
#endif

void acrnn_gru_gates_at(AcrnnIsa isa, float *h, float *cache, float *y,
                        const float *gi, const float *gh, int hidden) {
#ifdef HAVE_AVX2_GATES
  if (isa >= ACRNN_ISA_AVX2 && acrnn_isa_cpu() >= ACRNN_ISA_AVX2) {
    gates_avx2(h, cache, y, gi, gh, hidden);
    return;
  }
#endif
  gates_generic(h, cache, y, gi, gh, hidden, 0);
}

void acrnn_gru_gates(float *h, float *cache, float *y, const float *gi,
                     const float *gh, int hidden) {
  acrnn_gru_gates_at(acrnn_isa(), h, cache, y, gi, gh, hidden);
}
