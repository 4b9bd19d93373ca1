#!/usr/bin/env bash
# tests/run.sh - installs what is missing, builds, and runs the whole test
# suite twice: a plain build (build/) and one under AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan/). Ends with "N passed, N failed".
#   tests/run.sh              everything
#   tests/run.sh SUITE...     only these meson suites (features nn model ...)
#   ACRNN_NO_ASAN=1 tests/run.sh   skip the sanitizer build
#   ACRNN_NO_INSTALL=1 tests/run.sh   install nothing: test the machine as
#                                  it is (suites whose tools are missing skip)
#   then short fuzz runs (tests/fuzz/run.sh, clang; ACRNN_FUZZ_SECONDS=N)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ -z "${ACRNN_NO_INSTALL:-}" ]; then
  pipelines/install-deps.sh test || { echo "could not install dependencies"; echo "0 passed, 1 failed"; exit 1; }
fi

suites=()
for s in "$@"; do suites+=(--suite "$s"); done
jobs=$(nproc)
logs=()
fail=0

run_build() { # dir, timeout multiplier, setup options...
  local dir=$1 slow=$2; shift 2
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
  fi
  meson compile -C "$dir" >"$dir.compile.log" 2>&1 || { tail -50 "$dir.compile.log"; return 1; }
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes "$jobs" \
    --timeout-multiplier "$slow" "${suites[@]}" || true
  logs+=("$dir/meson-logs/testlog.json")
}

run_build build 1 --buildtype=debugoptimized || fail=$((fail + 1))
if [ -z "${ACRNN_NO_ASAN:-}" ]; then
  # unoptimised and instrumented: the same tests take several times longer
  run_build build-asan 3 --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
    -Dmpi=disabled || fail=$((fail + 1))
fi
# short libFuzzer runs of every tests/fuzz target (ACRNN_FUZZ_SECONDS each,
# default 10); without clang they are skipped, saying so
if [ ${#suites[@]} -eq 0 ] || [[ " $* " == *" fuzz "* ]]; then
  mkdir -p build-fuzz
  ACRNN_FUZZ_LOG=$root/build-fuzz/short-runs.json nice -n 5 \
    tests/fuzz/run.sh "${ACRNN_FUZZ_SECONDS:-10}"
  logs+=("$root/build-fuzz/short-runs.json")
fi
/usr/bin/python3 tests/summary.py "$fail" "${logs[@]}"
