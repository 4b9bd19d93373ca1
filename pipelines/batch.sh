#!/usr/bin/env bash
# batch.sh - classifies many files (sound, or video with a sound track) and
# prints a table: file, label, confidence, top-3 (label score, ...).
#
#   pipelines/batch.sh FILE...          (ACRNN_MODEL=... to choose a model)
#
# Each file runs through its own gst-launch pipeline (uridecodebin picks the
# audio track; soundclassifier batch=16 for speed); only the final message,
# the decision over the whole file, is kept. A file that fails gets "error".
set -uo pipefail
source "$(dirname "$0")/acrnn-env.sh"

if [ $# -lt 1 ]; then
  echo "usage: $0 FILE..." >&2; exit 2
fi
printf '%-40s %-20s %10s  %s\n' file label confidence top-3
status=0
for f in "$@"; do
  uri="file://$(realpath "$f")"
    line=$(gst-launch-1.0 -m uridecodebin uri="$uri" caps=audio/x-raw expose-all-streams=false ! \
           soundclassifier "${acrnn_model[@]}" batch=16 post-messages=true ! \
           fakesink sync=false 2>&1 | grep -F '(element): acrnn,' | grep -F 'final=(boolean)true' || true)
  if [ -z "$line" ]; then
    printf '%-40s %-20s %10s  %s\n' "$f" error - -
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
