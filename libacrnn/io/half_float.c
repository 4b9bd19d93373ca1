/* half_float.c - float to IEEE half (F16) and bfloat16 (BF16) bit patterns
 * with round-to-nearest-even, for saving models in 16-bit dtypes (the
 * reverse conversions, exact, are in safetensors.c). */
#include "safetensors.h"
#include <string.h>

static uint32_t float_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

/* m >> shift (1 <= shift <= 31), rounded to nearest, ties to even. */
static uint32_t shift_round_even(uint32_t m, unsigned shift) {
  uint32_t r = m >> shift;
  uint32_t rem = m & ((1u << shift) - 1u);
  uint32_t half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (r & 1u)))
    r++;
  return r;
}

uint16_t acrnn_st_float_to_f16(float x) {
  uint32_t u = float_bits(x);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  uint32_t a = u & 0x7fffffffu;
  uint32_t e = a >> 23;
  if (e == 0xffu) {
    if (a == 0x7f800000u)
      return sign | 0x7c00u;                                  /* Inf */
    return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu)); /* quiet NaN */
  }
  if (e >= 113u) {
    /* a half normal (or, after rounding up, the next binade or Inf):
     * rebias the exponent (127 -> 15) and keep 10 mantissa bits. Rounding
     * carries into the exponent as it should, up to 0x7c00 (Inf). */
    if (e > 142u)
      return sign | 0x7c00u;                           /* >= 2^16: Inf */
    uint32_t h = ((e - 112u) << 23 | (a & 0x7fffffu)); /* 5+23 bits */
    return (uint16_t)(sign | shift_round_even(h, 13));
  }
  /* below 2^-14: a half subnormal, k * 2^-24 with k = |x| * 2^24 rounded;
   * |x| = m * 2^(e-150) with the implicit bit (e = 0: float subnormal,
   * far below 2^-25, rounds to zero). */
  if (e < 102u)
    return sign; /* |x| < 2^-25: rounds to 0 */
  uint32_t m = (a & 0x7fffffu) | 0x800000u;
  return (uint16_t)(sign | shift_round_even(m, 126u - e));
}

uint16_t acrnn_st_float_to_bf16(float x) {
  uint32_t u = float_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t)((u >> 16) | 0x0040u); /* quiet NaN */
  /* the top 16 bits, rounded: a carry goes into the exponent, and from the
   * largest finite values into Inf; float subnormals round the same way */
  uint32_t sign = (u >> 16) & 0x8000u;
  return (uint16_t)(sign | shift_round_even(u & 0x7fffffffu, 16));
}
