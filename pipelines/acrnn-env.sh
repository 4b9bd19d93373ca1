# shellcheck shell=bash disable=SC2034
# acrnn-env.sh - sourced by the pipeline scripts: finds the plugin and parses
# the "acrnn" messages that `gst-launch-1.0 -m` prints.
#
# Input: acrnn-input.sh (acrnn_check_audio, acrnn_failure_reason).
# Plugin: when a build tree exists ($ACRNN_BUILD_DIR, else <repo>/build, else
# the newest <repo>/build*/ with gst-plugins/libgstacrnn.so), its gst-plugins
# folder is put first on GST_PLUGIN_PATH; otherwise the installed plugin is
# used. Model: $ACRNN_MODEL if set, else the plugin's default (the bundled
# model of the build tree or of the installation).

acrnn_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=acrnn-input.sh
source "$acrnn_root/pipelines/acrnn-input.sh"

acrnn_find_build() {
  local d
  for d in "${ACRNN_BUILD_DIR:-}" "$acrnn_root/build"; do
    if [ -n "$d" ] && [ -f "$d/gst-plugins/libgstacrnn.so" ]; then
      echo "$d"; return
    fi
  done
  # shellcheck disable=SC2012
  d=$(ls -td "$acrnn_root"/build*/gst-plugins/libgstacrnn.so 2>/dev/null | head -n1)
  [ -n "$d" ] && dirname "$(dirname "$d")"
}

acrnn_build=$(acrnn_find_build || true)
if [ -n "$acrnn_build" ]; then
  export GST_PLUGIN_PATH="$acrnn_build/gst-plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
fi
if ! gst-inspect-1.0 acrnnclassify >/dev/null 2>&1; then
  echo "error: the acrnn GStreamer plugin was not found: build the project" \
       "(meson setup build && meson compile -C build) or install it" >&2
  exit 1
fi

# The model= property to give acrnnclassify/soundclassifier: use
# "${acrnn_model[@]}" (empty: the plugin's default model).
acrnn_model=()
if [ -n "${ACRNN_MODEL:-}" ]; then
  acrnn_model=("model=$ACRNN_MODEL")
fi

# acrnn_field NAME < message-line: the value of field NAME of an acrnn
# message line ("name=(type)value" or a "< a, b >" array, without the braces).
acrnn_field() {
  sed -nE \
    -e "s/.*[ ,]$1=\\([a-z0-9]+\\)< ([^>]*) >.*/\\1/p;t" \
    -e "s/.*[ ,]$1=\\([a-z0-9]+\\)\"([^\"]*)\".*/\\1/p;t" \
    -e "s/.*[ ,]$1=\\([a-z0-9]+\\)([^,;]*).*/\\1/p" |
    sed -e 's/"//g' -e 's/\\\(.\)/\1/g'
}

# Reads `gst-launch-1.0 -m` output and prints one line per acrnn message:
#   segment  0:00:01.486  dog  0.912  (dog 0.912, rain 0.050, ...)
#   final    4 segments   dog  0.874  (...)
# and, on stderr, gst-launch's ERROR lines and its complaint about a
# pipeline it cannot build. Exits 1 when no final message came.
acrnn_print_messages() {
  local line final=1
  while IFS= read -r line; do
    case "$line" in
      *"(element): acrnn,"*)
        local label conf labels scores top ts
        label=$(acrnn_field label <<<"$line")
        conf=$(acrnn_field confidence <<<"$line")
        labels=$(acrnn_field labels <<<"$line")
        scores=$(acrnn_field scores <<<"$line")
        top=$(acrnn_top "$labels" "$scores")
        if [[ "$line" == *"final=(boolean)true"* ]]; then
          printf 'final    %-12s %-20s %.3f  (%s)\n' \
            "$(acrnn_field segments <<<"$line") segments" "$label" "$conf" "$top"
          final=0
        else
          ts=$(acrnn_field stream-time <<<"$line")
          printf 'segment  %-12s %-20s %.3f  (%s)\n' \
            "$(acrnn_time "$ts")" "$label" "$conf" "$top"
        fi
        ;;
      ERROR:* | "WARNING: erroneous pipeline"*) echo "$line" >&2 ;;
    esac
  done
  return $final
}

# acrnn_top "a, b" "0.5, 0.25": "a 0.500, b 0.250".
acrnn_top() {
  paste -d'\t' <(tr ',' '\n' <<<"$1" | sed 's/^ *//') \
                <(tr ',' '\n' <<<"$2" | sed 's/^ *//') |
    awk -F'\t' '{ printf "%s%s %.3f", (NR > 1 ? ", " : ""), $1, $2 }'
}

# Nanoseconds as H:MM:SS.mmm.
acrnn_time() {
  awk -v ns="$1" 'BEGIN { s = ns / 1e9; h = int(s / 3600); m = int((s - h * 3600) / 60);
    printf "%d:%02d:%06.3f", h, m, s - h * 3600 - m * 60 }'
}
