/* bf16.h - bfloat16 numbers for the bf16 compute precision (internal to
 * libacrnn): conversion from and to float, and which vector build runs the
 * bf16 kernels.
 *
 * Conversion rounds to nearest even, as VCVTNEPS2BF16 does, and treats
 * input denormals as zero, as VCVTNEPS2BF16 and VDPBF16PS do, so that the
 * plain C kernels give the same bits as the AVX512_BF16 ones. */
#ifndef ACRNN_BF16_H
#define ACRNN_BF16_H

#include <stdint.h>
#include <string.h>

static inline uint16_t acrnn_bf16_from_float(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  if ((u & 0x7f800000u) == 0)
    return (uint16_t)((u >> 16) & 0x8000u); /* zero or denormal: signed 0 */
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t)((u >> 16) | 0x0040u); /* NaN stays a (quiet) NaN */
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

static inline float acrnn_bf16_to_float(uint16_t b) {
  const uint32_t u = (uint32_t)b << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* Two bf16 numbers in one 32-bit lane, lo first: the operand layout of
 * VDPBF16PS, which adds hi * hi' and then lo * lo' to its fp32 sum. */
static inline uint32_t acrnn_bf16_pair(float lo, float hi) {
  return (uint32_t)acrnn_bf16_from_float(lo) |
         (uint32_t)acrnn_bf16_from_float(hi) << 16;
}

/* One step of that sum in plain C, in the instruction's order (the
 * products of two bf16 numbers are exact in float). */
static inline float acrnn_bf16_dot2(float acc, uint32_t a, uint32_t b) {
  acc += acrnn_bf16_to_float((uint16_t)(a >> 16)) *
         acrnn_bf16_to_float((uint16_t)(b >> 16));
  acc += acrnn_bf16_to_float((uint16_t)a) * acrnn_bf16_to_float((uint16_t)b);
  return acc;
}

/* The build of the bf16 kernels in use: "avx512bf16" where the CPU has
 * AVX512_BF16 (and ACRNN_ISA, if set, allows avx512), else "generic", the
 * plain C emulation that gives the same bits. */
const char *acrnn_bf16_isa(void);
/* Makes the bf16 kernels run the named build, for tests; FALSE (and no
 * change) if there is none of that name or this CPU cannot run it. */
int acrnn_bf16_use(const char *isa);
/* Whether the avx512bf16 build is the one in use. */
int acrnn_bf16_fast(void);

#endif
