/* isa.h - which vector instruction set libacrnn's own kernels may use
 * (internal). Every kernel with SIMD builds keeps a plain C build and asks
 * here which one to run, so that one switch forces a path everywhere.
 *
 * The level is what the CPU runs, lowered by the environment variable
 * ACRNN_ISA=avx512|avx2|generic when it is set: a kernel then takes that
 * path or a lower one (never one the CPU cannot run). Tests use it to run
 * the numerics suites on every path a machine has. Read once per process. */
#ifndef ACRNN_ISA_H
#define ACRNN_ISA_H

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  ACRNN_ISA_GENERIC = 0, /* the compiler's baseline vectors */
  ACRNN_ISA_AVX2 = 1,    /* AVX2 with FMA */
  ACRNN_ISA_AVX512 = 2,  /* AVX-512 F */
} AcrnnIsa;

/* The highest level this CPU runs, capped by ACRNN_ISA. An unknown value
 * of ACRNN_ISA is warned about once and ignored. Thread-safe. */
AcrnnIsa acrnn_isa(void);

/* "generic", "avx2" or "avx512". */
const char *acrnn_isa_name(AcrnnIsa isa);

/* The highest level this CPU runs, ignoring ACRNN_ISA. */
AcrnnIsa acrnn_isa_cpu(void);

G_END_DECLS

#endif
