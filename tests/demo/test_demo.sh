#!/usr/bin/env bash
# test_demo.sh - runs pipelines/demo.sh as a user would (the install step
# finds everything present, the build is this build) and checks that:
#  - every bundled sample gets the label its file name starts with
#    (samples/<label>-<ESC-50 clip>.flac, samples/<label>-video.mkv);
#  - a missing file, a text file, a zero-length WAV, a video without an
#    audio track and a folder each get one clear "error:" line, the good files are still classified, and the exit
#    status is 1.
# usage: test_demo.sh SOURCE_ROOT BUILD_ROOT
set -uo pipefail
root=$1 build=$2
if [ ! -f "$root/models/esc50-acrnn.safetensors" ]; then
  echo "SKIP: no bundled model (models/esc50-acrnn.safetensors)"; exit 77
fi
export ACRNN_BUILD_DIR=$build ACRNN_DEMO_SKIP_BUILD=1
unset ACRNN_MODEL
fail=0

out=$("$root/pipelines/demo.sh" 2>&1); rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "FAIL: demo.sh exited $rc on the bundled samples"; fail=1; }
n=0
for f in "$root"/samples/*.flac "$root"/samples/*.mkv; do
  name=$(basename "$f")
  want=${name%%-*}
  line=$(grep -E "^$name " <<<"$out")
  got=$(awk '{print $2}' <<<"$line")
  if [ "$got" != "$want" ]; then
    echo "FAIL: $name: expected label $want, got '${got}'"; fail=1
  fi
  n=$((n + 1))
done
[ $n -ge 5 ] || { echo "FAIL: only $n bundled samples"; fail=1; }

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "just some text, not a sound" > "$tmp/notes.txt"
: > "$tmp/empty.wav"
# a video without an audio track (Theora, from plugins-base)
gst-launch-1.0 -q videotestsrc num-buffers=30 ! \
  video/x-raw,width=160,height=120,framerate=10/1 ! theoraenc ! matroskamux ! \
  filesink location="$tmp/noaudio.mkv" || { echo "FAIL: could not make a video"; fail=1; }
good=$(ls "$root"/samples/*.flac | head -n 1)
out=$("$root/pipelines/demo.sh" "$tmp/missing.wav" "$tmp/notes.txt" "$tmp/empty.wav" \
      "$tmp/noaudio.mkv" "$tmp" "$good" 2>&1); rc=$?
echo "$out"
[ $rc -eq 1 ] || { echo "FAIL: demo.sh exited $rc with bad files, expected 1"; fail=1; }
for bad in missing.wav notes.txt empty.wav noaudio.mkv "$(basename "$tmp")"; do
  c=$(grep -c -E "^$bad +error: " <<<"$out")
  [ "$c" -eq 1 ] || { echo "FAIL: $bad: expected one error line, got $c"; fail=1; }
done
grep -qE "^noaudio.mkv +error: noaudio.mkv has no audio track$" <<<"$out" ||
  { echo "FAIL: noaudio.mkv: expected \"has no audio track\""; fail=1; }
grep -qE "^$(basename "$tmp") +error: a folder, not a file$" <<<"$out" ||
  { echo "FAIL: a folder: expected \"a folder, not a file\""; fail=1; }
gname=$(basename "$good")
grep -qE "^$gname +${gname%%-*} " <<<"$out" || { echo "FAIL: $gname not classified among bad files"; fail=1; }
exit $fail
