/* bf16_cpu.c - which build of the bf16 kernels runs: AVX512_BF16 where the
 * CPU has it, the plain C emulation elsewhere; and the public queries. */
#include "bf16.h"
#include "isa.h"

#include <acrnn/network.h>
#include <glib.h>
#include <string.h>

static int cpu_has_avx512bf16(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bf16") &&
         __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
#else
  return 0;
#endif
}

static int cpu_has_amx_bf16(void) {
#if defined(__x86_64__) || defined(__i386__)
  /* CPUID leaf 7, sub-leaf 0: EDX bit 22 is AMX-BF16. */
  unsigned a, b, c, d;
  __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
  return (d >> 22) & 1;
#else
  return 0;
#endif
}

/* 0 unset, 1 avx512bf16, 2 generic */
static gint chosen;

static int choose(void) {
  int c = g_atomic_int_get(&chosen);
  if (!c) {
    /* ACRNN_ISA=avx2 or generic (isa.h) keeps them off AVX-512 */
    c = cpu_has_avx512bf16() && acrnn_isa() == ACRNN_ISA_AVX512 ? 1 : 2;
    g_atomic_int_set(&chosen, c);
  }
  return c;
}

const char *acrnn_bf16_isa(void) {
  return choose() == 1 ? "avx512bf16" : "generic";
}

int acrnn_bf16_fast(void) {
  return choose() == 1;
}

int acrnn_bf16_use(const char *isa) {
  if (strcmp(isa, "generic") == 0) {
    g_atomic_int_set(&chosen, 2);
    return 1;
  }
  if (strcmp(isa, "avx512bf16") == 0 && cpu_has_avx512bf16()) {
    g_atomic_int_set(&chosen, 1);
    return 1;
  }
  return 0;
}

gboolean acrnn_precision_parse(const char *s, AcrnnPrecision *out,
                               GError **error) {
  if (g_strcmp0(s, "fp32") == 0)
    *out = ACRNN_PRECISION_FP32;
  else if (g_strcmp0(s, "bf16") == 0)
    *out = ACRNN_PRECISION_BF16;
  else {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "unknown precision '%s': expected fp32 or bf16",
                s ? s : "(null)");
    return FALSE;
  }
  return TRUE;
}

const char *acrnn_precision_to_string(AcrnnPrecision p) {
  return p == ACRNN_PRECISION_BF16 ? "bf16" : "fp32";
}

gboolean acrnn_bf16_native(void) {
  return acrnn_bf16_fast();
}

gboolean acrnn_amx_bf16_present(void) {
  return cpu_has_amx_bf16();
}
