#!/usr/bin/env bash
# video-label.sh - draws the label of the sound on the video with
# textoverlay: shown in a window, or written to OUT (Matroska, Theora video,
# Vorbis audio).
#
#   pipelines/video-label.sh FILE [OUT.mkv]          (ACRNN_MODEL=... to choose a model)
#
# soundclassifier's src pad gives each segment's label as a text buffer
# timestamped with the segment's start, which textoverlay's text pad takes.
# A label is known only once its segment (~1.5 s of audio) is complete, so
# the video and audio wait in queues big enough for that delay.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=acrnn-env.sh
source "$(dirname "$0")/acrnn-env.sh"

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ ! -f "$1" ]; then
  echo "usage: $0 FILE [OUT.mkv]" >&2; exit 2
fi
# A video without an audio track would wait forever for sound: say so,
# before OUT is created.
acrnn_check_audio "$1" || exit 1
bigq=(queue max-size-time=10000000000 max-size-buffers=0 max-size-bytes=0)
if [ $# -eq 2 ]; then
  # the audio is kept (Vorbis) next to the labelled video (Theora)
  audio_out=(a. ! queue ! audioconvert ! vorbisenc ! queue ! mux.)
  video_out=(videoconvert ! theoraenc ! queue ! mux. matroskamux name=mux !
             filesink location="$2")
else
  audio_out=(a. ! queue ! audioconvert ! audioresample ! autoaudiosink)
  video_out=(videoconvert ! autovideosink)
fi
# a failed run leaves no partial OUT behind
if ! gst-launch-1.0 -m filesrc location="$1" ! decodebin name=d \
  d. ! video/x-raw ! "${bigq[@]}" ! videoconvert ! o.video_sink \
  d. ! audio/x-raw ! "${bigq[@]}" ! tee name=a "${audio_out[@]}" \
  a. ! queue ! soundclassifier "${acrnn_model[@]}" ! o.text_sink \
  textoverlay name=o valignment=top halignment=left font-desc="Sans 28" \
    shaded-background=true ! "${video_out[@]}" 2>&1 | acrnn_print_messages; then
  if [ $# -eq 2 ]; then rm -f "$2"; fi
  exit 1
fi
if [ $# -eq 2 ]; then echo "written: $2"; fi
