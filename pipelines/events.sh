#!/usr/bin/env bash
# events.sh - the sound events of a sound or a video's sound track: when
# each sound started and ended, as CSV or as subtitles (SubRip or WebVTT)
# that a player loads beside the video.
#
#   pipelines/events.sh FILE [--format csv|srt|vtt] [--output OUT]
#                            [PROPERTY=VALUE...]
#
# (ACRNN_MODEL=... to choose a model.) The events are soundclassifier's
# "acrnn-event" messages (events=true); PROPERTY=VALUE pairs go to
# soundclassifier, e.g. event-on=0.6 event-min-duration=1000000000. Output:
#   csv  start,end,label,confidence   (seconds, one event a line, by start)
#   srt  numbered cues "00:00:03,065 --> 00:00:06,952", text "rooster 0.68"
#   vtt  "WEBVTT", then the same cues with a dot before the milliseconds
# Events of different classes may overlap; players show overlapping cues
# together. Written on stdout, or to OUT, which is written only when the
# file could be read (no half-written OUT on an error).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=acrnn-env.sh
source "$(dirname "$0")/acrnn-env.sh"

usage() {
  echo "usage: $0 FILE [--format csv|srt|vtt] [--output OUT] [PROPERTY=VALUE...]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
file=$1; shift
format=csv output="" props=()
while [ $# -gt 0 ]; do
  case "$1" in
    --format) [ $# -ge 2 ] || usage; format=$2; shift 2 ;;
    --format=*) format=${1#--format=}; shift ;;
    --output|-o) [ $# -ge 2 ] || usage; output=$2; shift 2 ;;
    --output=*) output=${1#--output=}; shift ;;
    *=*) props+=("$1"); shift ;;
    *) usage ;;
  esac
done
case "$format" in
  csv | srt | vtt) ;;
  *) echo "error: unknown format \"$format\": use csv, srt or vtt" >&2; exit 2 ;;
esac
problem=$(acrnn_input_problem "$file")
if [ -n "$problem" ]; then
  echo "error: $file: $problem" >&2; exit 1
fi

uri="file://$(realpath "$file")"
if ! out=$(gst-launch-1.0 -m uridecodebin uri="$uri" caps=audio/x-raw \
             expose-all-streams=false ! \
             soundclassifier "${acrnn_model[@]}" batch=16 events=true \
             post-messages=true "${props[@]}" ! fakesink sync=false 2>&1) ||
   ! grep -qF '(element): acrnn, ' <<<"$out"; then
  echo "error: $(acrnn_failure_reason "$file" <<<"$out")" >&2
  exit 1
fi

# one "start end label confidence" line (nanoseconds) per ended event
# (none: an empty table, a subtitle file without cues)
events=$({ grep -F '(element): acrnn-event, ' <<<"$out" || true; } |
  { grep -F 'state=(string)end' || true; } | while IFS= read -r line; do
    printf '%s %s %s %s\n' "$(acrnn_field start <<<"$line")" \
      "$(acrnn_field end <<<"$line")" "$(acrnn_field label <<<"$line")" \
      "$(acrnn_field confidence <<<"$line")"
  done | sort -n -k1,1 -k2,2)

write() {
  awk -v format="$format" '
    function stamp(ns, sep,   ms, s) {
      ms = int(ns / 1e6 + 0.5); s = int(ms / 1000)
      return sprintf("%02d:%02d:%02d%s%03d", int(s / 3600), int(s / 60) % 60,
                     s % 60, sep, ms % 1000)
    }
    BEGIN {
      if (format == "csv") print "start,end,label,confidence"
      if (format == "vtt") print "WEBVTT"
    }
    NF == 4 {
      n++
      if (format == "csv")
        printf "%.3f,%.3f,%s,%.3f\n", $1 / 1e9, $2 / 1e9, $3, $4
      else if (format == "srt")
        printf "%s%d\n%s --> %s\n%s %.2f\n", (n > 1 ? "\n" : ""), n,
               stamp($1, ","), stamp($2, ","), $3, $4
      else
        printf "\n%s --> %s\n%s %.2f\n", stamp($1, "."), stamp($2, "."), $3, $4
    }' <<<"$events"
}

if [ -z "$output" ]; then
  write
else
  tmp="$output.part.$$"
  trap 'rm -f "$tmp"' EXIT
  write >"$tmp"
  mv -f "$tmp" "$output"
  trap - EXIT
  echo "written: $output" >&2
fi
