/* fuzz_input.h - reading a fuzzer's input as a stream of small decisions:
 * bytes, integers in a range, floats of any bit pattern. Past the end every
 * read gives 0, so a target never reads outside its input. */
#ifndef ACRNN_FUZZ_INPUT_H
#define ACRNN_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
  const uint8_t *p;
  size_t n;
} FuzzInput;

static inline uint8_t fuzz_u8(FuzzInput *in) {
  if (in->n == 0)
    return 0;
  in->n--;
  return *in->p++;
}

static inline uint32_t fuzz_u32(FuzzInput *in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++)
    v = v << 8 | fuzz_u8(in);
  return v;
}

static inline uint64_t fuzz_u64(FuzzInput *in) {
  return (uint64_t)fuzz_u32(in) << 32 | fuzz_u32(in);
}

/* An integer in [lo, hi]. */
static inline int fuzz_range(FuzzInput *in, int lo, int hi) {
  uint32_t span = (uint32_t)(hi - lo) + 1u;
  return lo + (int)(span ? fuzz_u32(in) % span : fuzz_u32(in));
}

/* A float of any bit pattern: NaN, Inf, denormals, huge values. */
static inline float fuzz_float_bits(FuzzInput *in) {
  uint32_t b = fuzz_u32(in);
  float f;
  memcpy(&f, &b, sizeof f);
  return f;
}

/* Up to max bytes of the input (fewer at its end); returns how many. */
static inline size_t fuzz_bytes(FuzzInput *in, size_t max,
                                const uint8_t **out) {
  size_t n = max < in->n ? max : in->n;
  *out = in->p;
  in->p += n;
  in->n -= n;
  return n;
}

#endif
