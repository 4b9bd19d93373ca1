/* isa.c - the vector level libacrnn's kernels run at: the CPU's, capped by
 * ACRNN_ISA (see isa.h). */
#include "isa.h"

#include <stdlib.h>
#include <string.h>

static const char *const isa_names[] = {"generic", "avx2", "avx512"};

const char *acrnn_isa_name(AcrnnIsa isa) {
  return isa_names[isa];
}

AcrnnIsa acrnn_isa_cpu(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return ACRNN_ISA_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return ACRNN_ISA_AVX2;
#endif
  return ACRNN_ISA_GENERIC;
}

static AcrnnIsa isa_from_env(AcrnnIsa cpu) {
  const char *want = getenv("ACRNN_ISA");
  if (want == NULL || *want == '\0')
    return cpu;
  for (int i = 0; i < (int)G_N_ELEMENTS(isa_names); i++)
    if (strcmp(want, isa_names[i]) == 0)
      return (AcrnnIsa)MIN(i, (int)cpu);
  g_warning("ACRNN_ISA=%s is not one of avx512, avx2, generic: ignored", want);
  return cpu;
}

AcrnnIsa acrnn_isa(void) {
  static gsize level; /* the level + 1, 0 while not yet read */
  if (g_once_init_enter(&level))
    g_once_init_leave(&level, (gsize)isa_from_env(acrnn_isa_cpu()) + 1);
  return (AcrnnIsa)(level - 1);
}
