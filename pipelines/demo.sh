#!/usr/bin/env bash
# pipelines/demo.sh - the main job, from a clean clone on Debian 12:
# installs the Debian packages that are missing, builds acrnn (release), and
# classifies the bundled sample clips and any files given as arguments
# (sound files, or videos with a sound track) through a gst-launch-1.0
# pipeline with the bundled model. One line per file:
#
#   FILE                      LABEL              CONFIDENCE  TOP-3
#
#   pipelines/demo.sh [FILE...]
#   ACRNN_MODEL=other.safetensors pipelines/demo.sh   another model
#   ACRNN_BUILD_DIR=dir                               another build folder
#   ACRNN_DEMO_SKIP_BUILD=1                           use that build as it is
#
# A file that cannot be classified (missing, a folder, not audio, empty, a
# video without an audio track) gets one "error:" line and the others go on; the exit status is 0 only when every
# file was classified. A second run skips the install and the build.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ACRNN_BUILD_DIR:-$root/build-release}
model=${ACRNN_MODEL:-$root/models/esc50-acrnn.safetensors}

"$root/pipelines/install-deps.sh" run || {
  echo "demo: could not install the Debian packages (run as root?)" >&2
  exit 1
}
if [ ! -f "$build/build.ninja" ]; then
  echo "demo: building acrnn in $build (release)..." >&2
  meson setup "$build" "$root" --buildtype=release -Dmpi=disabled \
    >"$build.setup.log" 2>&1 || {
    cat "$build.setup.log" >&2
    exit 1
  }
fi
if [ -z "${ACRNN_DEMO_SKIP_BUILD:-}" ] &&
  ! meson compile -C "$build" >"$build.compile.log" 2>&1; then
  tail -n 30 "$build.compile.log" >&2
  echo "demo: the build failed (log: $build.compile.log)" >&2
  exit 1
fi
if [ ! -f "$model" ]; then
  echo "demo: model $model not found" >&2
  exit 1
fi
# shellcheck source-path=SCRIPTDIR source=acrnn-input.sh
source "$root/pipelines/acrnn-input.sh"
export GST_PLUGIN_PATH="$build/gst-plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export GST_REGISTRY="$build/demo-registry.bin"

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  shopt -s nullglob
  files=("$root"/samples/*.flac "$root"/samples/*.mkv)
fi

# field NAME < line: a field of a gst-launch -m message line
field() {
  sed -nE -e "s/.*[ ,]$1=\\([a-z0-9]+\\)< ([^>]*) >.*/\\1/p;t" \
    -e "s/.*[ ,]$1=\\([a-z0-9]+\\)\"?([^\",;]*)\"?.*/\\1/p" | sed 's/"//g'
}

status=0
printf '%-34s %-18s %10s  %s\n' FILE LABEL CONFIDENCE TOP-3
for f in "${files[@]}"; do
  name=$(basename "$f")
  # Missing, a folder, empty, not a media file: say so instead of starting
  # a pipeline.
  problem=$(acrnn_input_problem "$f")
  if [ -n "$problem" ]; then
    printf '%-34s error: %s\n' "$name" "$problem"; status=1; continue
  fi
  out=$(timeout 600 gst-launch-1.0 -m uridecodebin uri="file://$(realpath "$f")" \
          caps=audio/x-raw expose-all-streams=false ! \
        soundclassifier model="$model" batch=16 top-k=3 ! \
        fakesink sync=false 2>&1)
  final=$(grep -F '(element): acrnn,' <<<"$out" | grep -F 'final=(boolean)true' | tail -n 1)
  if [ -z "$final" ]; then
    # e.g. "FILE has no audio track", not GStreamer's missing plug-in
    printf '%-34s error: %s\n' "$name" "$(acrnn_failure_reason "$name" <<<"$out")"
    status=1
    continue
  fi
  IFS=, read -r -a labels <<<"$(field labels <<<"$final")"
  IFS=, read -r -a scores <<<"$(field scores <<<"$final")"
  top=""
  for i in "${!labels[@]}"; do
    top+="${top:+, }$(echo "${labels[$i]}" | xargs) $(printf '%.2f' "$(echo "${scores[$i]}" | xargs)")"
  done
  printf '%-34s %-18s %9.1f%%  %s\n' "$name" "$(field label <<<"$final")" \
    "$(awk -v c="$(field confidence <<<"$final")" 'BEGIN{print c*100}')" "$top"
done
exit $status
