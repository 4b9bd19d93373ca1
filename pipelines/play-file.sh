#!/usr/bin/env bash
# play-file.sh - classifies a sound file (any format GStreamer decodes),
# printing a line per segment (every ~0.74 s) and the decision over the
# whole file. With --play the file is heard at the same time (real time).
#
#   pipelines/play-file.sh [--play] FILE          (ACRNN_MODEL=... to choose a model)
#
# The pipeline: decodebin ! soundclassifier ! fakesink, where soundclassifier
# is, spelled out (with the bundled model's parameters, gammatonespec's
# defaults):
#   audioconvert ! audioresample ! audio/x-raw,format=F32LE,channels=1,rate=44100 !
#     gammatonespec ! acrnnclassify
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=acrnn-env.sh
source "$(dirname "$0")/acrnn-env.sh"

play=0
if [ "${1:-}" = "--play" ]; then play=1; shift; fi
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
  echo "usage: $0 [--play] FILE" >&2; exit 2
fi

if [ $play -eq 1 ]; then
  # tee: one branch to the speakers (sets the pace), one to the classifier
  sink="t. ! queue ! audioconvert ! audioresample ! autoaudiosink t. ! queue"
  tee="tee name=t"
else
  sink="" tee="identity"
fi
# shellcheck disable=SC2086
gst-launch-1.0 -m filesrc location="$1" ! decodebin ! audioconvert ! $tee $sink ! \
  soundclassifier "${acrnn_model[@]}" ! fakesink sync=false 2>&1 | acrnn_print_messages
