#!/usr/bin/env bash
# tests/soak/run.sh [HOURS [CYCLES [PIPELINES]]] - the full-length soak,
# churn and concurrency runs of soundclassifier (defaults: 10 hours of
# audio, 1000 cycles, 16 pipelines), each printing its figures on a line
# starting with "soak". Uses the plain build in build/ (or $ACRNN_BUILD).
# Exit status 0 only when all three pass.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${ACRNN_BUILD:-$root/build}
meson compile -C "$build" tests/soak/soak gst-plugins/gstacrnn >/dev/null || exit 1
export GST_PLUGIN_PATH=$build/gst-plugins
export GST_REGISTRY=$build/tests/soak/registry.bin
export OPENBLAS_NUM_THREADS=1
# a fixed mmap threshold: glibc's moving one makes resident memory wander
# by tens of MB as 17 MB models are loaded and freed (no leak)
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-131072}
echo "soak: on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
status=0
"$build/tests/soak/soak" memory "${1:-10}" || status=1
"$build/tests/soak/soak" churn "${2:-1000}" || status=1
"$build/tests/soak/soak" concurrent "${3:-16}" || status=1
exit $status
