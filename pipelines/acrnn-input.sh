# shellcheck shell=bash
# acrnn-input.sh - sourced by the pipeline scripts (through acrnn-env.sh) and
# by demo.sh: says why a file cannot be classified, in words a user can act
# on, instead of a hang or GStreamer's own guess.
#
#   acrnn_input_problem FILE      prints the problem of a path that is not a
#                                 readable, non-empty media file (missing, a
#                                 folder, empty, not a format GStreamer
#                                 knows); prints nothing for a good one
#   acrnn_failure_reason FILE     reads the output of `gst-launch-1.0` that
#                                 gave no result and prints the reason
#   acrnn_check_audio FILE        both, and a probe that decodes the first
#                                 audio buffer: returns 1 (after printing
#                                 "error: ..." on stderr) when FILE cannot
#                                 give sound, e.g. a video without an audio
#                                 track

acrnn_input_problem() {
  local f=$1
  if [ ! -e "$f" ]; then
    echo "no such file"
  elif [ -d "$f" ]; then
    echo "a folder, not a file"
  elif [ ! -r "$f" ]; then
    echo "not readable"
  elif [ ! -s "$f" ]; then
    echo "empty file"
  elif [[ "$(gst-typefind-1.0 "$f" 2>&1)" == *FAILED* ]]; then
    echo "not a sound or video file GStreamer can read"
  fi
}

# uridecodebin caps=audio/x-raw expose-all-streams=false (and decodebin
# before an audio/x-raw capsfilter) reports a file whose streams are all
# video as a missing plug-in, "Missing decoder: Theora (video/x-theora, ...)".
# When none of the missing decoders is for audio, the file has no audio
# track; when one is, it is that decoder that is missing.
acrnn_failure_reason() {
  local f=$1 out missing audio err
  out=$(cat)
  missing=$(grep -F 'Missing decoder:' <<<"$out" || true)
  if [ -n "$missing" ]; then
    audio=$(grep -m1 -E '\((audio/[^,)]*)' <<<"$missing" |
              sed -E 's/.*\((audio\/[^,)]*).*/\1/' || true)
    if [ -z "$audio" ]; then
      echo "$f has no audio track"
    else
      echo "no decoder for the audio track of $f ($audio): install the" \
           "GStreamer plugins that decode it (e.g. gstreamer1.0-libav)"
    fi
    return
  fi
  err=$(grep -m1 -E '^ERROR: from element' <<<"$out" |
          sed -E 's/^ERROR: from element [^ ]*: //' || true)
  echo "${err:-no sound long enough to classify (at least one 23 ms window)}"
}

acrnn_check_audio() {
  local f=$1 problem out
  problem=$(acrnn_input_problem "$f")
  if [ -n "$problem" ]; then
    echo "error: $f: $problem" >&2
    return 1
  fi
  # the first decoded audio buffer ends the probe (the video is not decoded)
  if ! out=$(timeout 60 gst-launch-1.0 uridecodebin \
               uri="file://$(realpath "$f")" caps=audio/x-raw \
               expose-all-streams=false ! identity eos-after=1 ! \
               fakesink sync=false 2>&1); then
    echo "error: $(acrnn_failure_reason "$f" <<<"$out")" >&2
    return 1
  fi
}
