#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS [TARGET...] - runs the libFuzzer targets of
# tests/fuzz (all, or the ones named: model checkpoint dataset features
# gammatonespec acrnnclassify) for SECONDS each, and prints one line per
# target with its executions and crashes.
#
# Builds them first with clang, ASan and UBSan in build-fuzz/ (or
# $ACRNN_FUZZ_BUILD) with -Dfuzz=enabled. Each target starts from its seed
# corpus (tests/fuzz/corpus/NAME) plus what earlier runs found
# (build-fuzz/fuzz-out/NAME/corpus), with its dictionary (tests/fuzz/dict)
# when it has one. A crash, leak, timeout or out-of-memory input is kept as
# build-fuzz/fuzz-out/NAME/crash-* (leak-*, timeout-*, oom-*): add it to
# tests/fuzz/corpus/NAME/ once fixed, so that the 'fuzz' meson suite
# replays it in every build.
#
# Exit status: 0 nothing found, 1 a target crashed or did not build, 77
# clang with libFuzzer is not installed (skipped, saying so).
#   ACRNN_FUZZ_LOG=FILE  also write one JSON line per target (meson testlog
#                        format: {"name", "result"}) for tests/summary.py
#   ACRNN_FUZZ_JOBS=N    libFuzzer -jobs/-workers (default 1)
#   ACRNN_FUZZ_RUNS=N    also stop each target after N inputs (libFuzzer
#                        -runs), whichever of the two limits comes first
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:?usage: tests/fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] &&
  targets=(model checkpoint dataset features gammatonespec acrnnclassify)
build=${ACRNN_FUZZ_BUILD:-$root/build-fuzz}
log=${ACRNN_FUZZ_LOG:-}
[ -n "$log" ] && : >"$log"

logline() { # name, result
  [ -n "$log" ] && printf '{"name": "fuzz-%s", "result": "%s"}\n' "$1" "$2" >>"$log"
  return 0
}

cc=$(command -v clang-14 || command -v clang || true)
probe=$(mktemp -d)
if [ -z "$cc" ] || ! printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' \
    >"$probe/p.c" || ! "$cc" -fsanitize=fuzzer,address "$probe/p.c" -o "$probe/p" 2>/dev/null; then
  rm -rf "$probe"
  echo "fuzz: skipped: clang with libFuzzer not found (apt-get install clang-14 libfuzzer-14-dev)"
  for t in "${targets[@]}"; do logline "$t" SKIP; done
  exit 77
fi
rm -rf "$probe"

if [ ! -f "$build/build.ninja" ]; then
  CC=$cc meson setup "$build" "$root" --buildtype=debugoptimized -Dfuzz=enabled \
    -Db_sanitize=address,undefined -Db_lundef=false -Dmpi=disabled \
    >"$build.setup.log" 2>&1 || { cat "$build.setup.log"; for t in "${targets[@]}"; do logline "$t" FAIL; done; exit 1; }
fi
exes=()
for t in "${targets[@]}"; do exes+=("tests/fuzz/fuzz-$t"); done
if ! meson compile -C "$build" "${exes[@]}" gst-plugins/gstacrnn >"$build.compile.log" 2>&1; then
  tail -40 "$build.compile.log"
  for t in "${targets[@]}"; do logline "$t" FAIL; done
  exit 1
fi

export GST_PLUGIN_PATH=$build/gst-plugins
export GST_REGISTRY=$build/tests/fuzz/registry.bin
export GST_REGISTRY_FORK=no
export GST_PLUGIN_SYSTEM_PATH_1_0=  # only this project's plugin
export OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:fast_unwind_on_malloc=0:malloc_context_size=10
export LSAN_OPTIONS=print_suppressions=0:suppressions=$root/tests/lsan.supp
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# the dataset target makes a folder tree per input: in memory when possible
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
status=0
for t in "${targets[@]}"; do
  out=$build/fuzz-out/$t
  mkdir -p "$out/corpus"
  dict=()
  [ -f "$here/dict/$t.dict" ] && dict=(-dict="$here/dict/$t.dict")
  before=$(find "$out" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  jobs=()
  [ -n "${ACRNN_FUZZ_JOBS:-}" ] && jobs=(-jobs="$ACRNN_FUZZ_JOBS" -workers="$ACRNN_FUZZ_JOBS")
  [ -n "${ACRNN_FUZZ_RUNS:-}" ] && jobs+=(-runs="$ACRNN_FUZZ_RUNS")
  "$build/tests/fuzz/fuzz-$t" "${dict[@]}" "${jobs[@]}" -max_total_time="$seconds" \
    -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$out/" "$out/corpus" "$here/corpus/$t" >"$out/last.log" 2>&1
  rc=$?
  execs=$(grep -h 'stat::number_of_executed_units' "$out/last.log" | awk '{s += $2} END {print s + 0}')
  after=$(find "$out" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  crashes=$((after - before))
  [ $rc -ne 0 ] && [ $crashes -eq 0 ] && crashes=1
  printf 'fuzz %-14s %10d executions in %4d s, %d crashes' "$t" "$execs" "$seconds" "$crashes"
  if [ $crashes -ne 0 ]; then
    printf ' (see %s/last.log)\n' "$out"
    grep -m3 -E 'ERROR: |runtime error|SUMMARY' "$out/last.log" | sed 's/^/    /'
    logline "$t" FAIL
    status=1
  else
    printf '\n'
    logline "$t" OK
  fi
done
exit $status
