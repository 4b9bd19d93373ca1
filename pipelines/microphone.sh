#!/usr/bin/env bash
# microphone.sh - classifies the sound of the default microphone
# (autoaudiosrc) live: a line per segment as soon as it is complete (every
# ~0.74 s, ~1.5 s behind). Ctrl-C stops and prints the decision over the
# whole recording (gst-launch -e sends EOS on interrupt).
#
#   pipelines/microphone.sh            (ACRNN_MODEL=... to choose a model)
#
# ACRNN_MIC_SRC replaces autoaudiosrc with another live source (a gst-launch
# description, split on spaces), e.g. a given ALSA or PulseAudio device, or a
# test signal that ends by itself (the tests use it; no sound card needed):
#   ACRNN_MIC_SRC="pulsesrc device=alsa_input.usb-mic" pipelines/microphone.sh
#   ACRNN_MIC_SRC="audiotestsrc is-live=true wave=pink-noise num-buffers=100" \
#     pipelines/microphone.sh
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=acrnn-env.sh
source "$(dirname "$0")/acrnn-env.sh"

read -r -a src <<<"${ACRNN_MIC_SRC:-autoaudiosrc}"
if [ ${#src[@]} -eq 0 ]; then
  echo "error: ACRNN_MIC_SRC is empty: give a live audio source, e.g." \
       "\"alsasrc device=hw:1\"" >&2
  exit 2
fi

# Ctrl-C goes to gst-launch (which ends the stream) and to this script and
# its message reader, which must live on to print the final message.
trap ':' INT
gst-launch-1.0 -m -e "${src[@]}" ! queue ! soundclassifier "${acrnn_model[@]}" \
  batch=1 ! fakesink 2>&1 | (trap ':' INT; acrnn_print_messages)
