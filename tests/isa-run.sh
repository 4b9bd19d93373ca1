#!/bin/sh
# tests/isa-run.sh LEVEL COMMAND [ARG...] - runs a numerics test at one
# vector level of libacrnn's kernels (see libacrnn/isa.h).
#   LEVEL native            the CPU's own level (the kernels' default)
#   LEVEL avx2 | generic    ACRNN_ISA=LEVEL, only where that is below the
#                           CPU's own level; otherwise the test is skipped
#                           (exit 77), as the native run already covers it.
#                           OpenBLAS takes the same level's kernels
#                           (OPENBLAS_CORETYPE Haswell or Nehalem) unless
#                           OPENBLAS_CORETYPE is set.
level=$1
shift
if [ "$level" = native ]; then
  exec "$@"
fi
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
has() { case " $flags " in *" $1 "*) return 0 ;; esac; return 1; }
if has avx512f; then cpu=2
elif has avx2 && has fma; then cpu=1
else cpu=0
fi
case "$level" in
  avx512) want=2 ;;
  avx2) want=1 ;;
  generic) want=0 ;;
  *) echo "isa-run.sh: unknown level '$level' (avx512, avx2, generic, native)" >&2; exit 2 ;;
esac
if [ "$want" -ge "$cpu" ]; then
  echo "skip: the $level path is this CPU's own level or above it; the native run covers it"
  exit 77
fi
ACRNN_ISA=$level
# OpenBLAS, below libacrnn, at the same level, unless the caller chose
# its kernels: its rounding differs between them (tests/nn/test_replicas.c)
case "$level" in
  avx2) : "${OPENBLAS_CORETYPE:=Haswell}" ;;
  generic) : "${OPENBLAS_CORETYPE:=Nehalem}" ;;
esac
export ACRNN_ISA OPENBLAS_CORETYPE
exec "$@"
