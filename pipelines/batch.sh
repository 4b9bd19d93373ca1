#!/usr/bin/env bash
# batch.sh - classifies many files (sound, or video with a sound track) and
# prints a table: file, label, confidence, top-3 (label score, ...).
#
#   pipelines/batch.sh FILE...          (ACRNN_MODEL=... to choose a model)
#
# Each file runs through its own gst-launch pipeline (uridecodebin picks the
# audio track; soundclassifier batch=16 threads=<cores, at most 16> with a
# single-threaded BLAS for speed); only the final message,
# the decision over the whole file, is kept. A file that fails gets "error"
# and the reason (no such file, a folder, not a sound or video file, a video
# without an audio track, ...).
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=acrnn-env.sh
source "$(dirname "$0")/acrnn-env.sh"

if [ $# -lt 1 ]; then
  echo "usage: $0 FILE..." >&2; exit 2
fi
# one copy of the network per core beats a multi-threaded BLAS
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
threads=$(nproc 2>/dev/null || echo 1)
[ "$threads" -le 16 ] || threads=16
printf '%-40s %-20s %10s  %s\n' file label confidence top-3
status=0
for f in "$@"; do
  # a file that fails: "error", "-" and the reason in the last column
  problem=$(acrnn_input_problem "$f")
  if [ -n "$problem" ]; then
    printf '%-40s %-20s %10s  %s\n' "$f" error - "$problem"
    status=1
    continue
  fi
  uri="file://$(realpath "$f")"
  out=$(gst-launch-1.0 -m uridecodebin uri="$uri" caps=audio/x-raw expose-all-streams=false ! \
        soundclassifier "${acrnn_model[@]}" batch=16 threads="$threads" post-messages=true ! \
        fakesink sync=false 2>&1)
  line=$(grep -F '(element): acrnn,' <<<"$out" | grep -F 'final=(boolean)true' || true)
  if [ -z "$line" ]; then
    printf '%-40s %-20s %10s  %s\n' "$f" error - "$(acrnn_failure_reason "$f" <<<"$out")"
    status=1
    continue
  fi
  labels=$(acrnn_field labels <<<"$line")
  scores=$(acrnn_field scores <<<"$line")
  top=$(acrnn_top "$labels" "$scores")
  printf '%-40s %-20s %10.3f  %s\n' "$f" "$(acrnn_field label <<<"$line")" \
    "$(acrnn_field confidence <<<"$line")" "$top"
done
exit $status
