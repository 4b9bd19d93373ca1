#!/usr/bin/env bash
# video-track.sh - classifies the audio track of a video file; the video is
# decoded and discarded. Prints a line per segment and the final decision.
#
#   pipelines/video-track.sh FILE.mkv|mp4|webm|...    (ACRNN_MODEL=... to choose a model)
#
# decodebin exposes one pad per stream; the audio pad goes to the
# soundclassifier bin (audioconvert, audioresample, gammatonespec and
# acrnnclassify configured from the model), the video pad to a fakesink.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=acrnn-env.sh
source "$(dirname "$0")/acrnn-env.sh"

if [ $# -ne 1 ] || [ ! -f "$1" ]; then
  echo "usage: $0 FILE" >&2; exit 2
fi
# A video without an audio track would wait forever for sound: say so.
acrnn_check_audio "$1" || exit 1
gst-launch-1.0 -m filesrc location="$1" ! decodebin name=d \
  d. ! audio/x-raw ! queue ! soundclassifier "${acrnn_model[@]}" batch=8 ! fakesink sync=false \
  d. ! video/x-raw ! queue ! fakesink sync=false 2>&1 | acrnn_print_messages
