#!/usr/bin/env bash
# tests/sanitizer/tsan.sh - ThreadSanitizer on acrnn's threads: builds
# build-tsan/ (gcc, -Db_sanitize=thread; or $ACRNN_TSAN_BUILD) and runs,
# with tsan-glib-sync preloaded (GLib's and GStreamer's locks made visible
# to TSan) and tests/sanitizer/tsan.supp:
#   - the 'tsan' suite: test_tsan_scope (a race of acrnn's code is reported,
#     GMutex and GstBus hand-overs are not, acrnn-train train --threads 2
#     on a synthetic dataset has no report);
#   - acrnnclassify with threads=2..8 (tests/gst/test-classify-threads.c,
#     also in the suite).
# Prints one line per run with its count of reports; exit status 0 when
# every count is 0.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${ACRNN_TSAN_BUILD:-$root/build-tsan}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$root" --buildtype=debugoptimized \
    -Db_sanitize=thread -Db_lundef=false -Dmpi=disabled >"$build.setup.log" 2>&1 ||
    { tail -20 "$build.setup.log"; exit 1; }
fi
meson compile -C "$build" tests/sanitizer/test_tsan_scope \
  tests/sanitizer/tsan-glib-sync tests/sanitizer/test-classify-threads-tsan \
  training/acrnn-train gst-plugins/gstacrnn >"$build.compile.log" 2>&1 ||
  { tail -40 "$build.compile.log"; exit 1; }
status=0
# the suite's environment (tests/sanitizer/meson.build) preloads
# tsan-glib-sync and gives TSAN_OPTIONS with tests/sanitizer/tsan.supp
meson test -C "$build" --suite tsan >"$build/tsan-suite.log" 2>&1 || status=1
log=$build/meson-logs/testlog.txt
grep -E '^# (race|locked|bus|acrnn-train)' "$log" | sed 's/^# /tsan: /'
# test_tsan_scope keeps its children's reports unless it fails: the ones
# in the log are test-classify-threads' (or a failing check's)
n=$(grep -c 'WARNING: ThreadSanitizer:' "$log")
echo "tsan: acrnnclassify threads=2, 3, 8 (batch 5) and 4 (batch 1)" \
  "(test-classify-threads): $n reports"
grep -E '^ *[0-9]+/[0-9]+ ' "$build/tsan-suite.log" | sed 's/^ */tsan: /'
[ "$n" -eq 0 ] || status=1
exit $status
