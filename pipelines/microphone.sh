#!/usr/bin/env bash
# microphone.sh - classifies the sound of the default microphone
# (autoaudiosrc) live: a line per segment as soon as it is complete (every
# ~0.74 s, ~1.5 s behind). Ctrl-C stops and prints the decision over the
# whole recording (gst-launch -e sends EOS on interrupt).
#
#   pipelines/microphone.sh            (ACRNN_MODEL=... to choose a model)
set -euo pipefail
source "$(dirname "$0")/acrnn-env.sh"

# Ctrl-C goes to gst-launch (which ends the stream) and to this script and
# its message reader, which must live on to print the final message.
trap ':' INT
gst-launch-1.0 -m -e autoaudiosrc ! queue ! soundclassifier "${acrnn_model[@]}" \
  batch=1 ! fakesink 2>&1 | (trap ':' INT; acrnn_print_messages)
