#!/usr/bin/env bash
# test_events.sh - sound events on real sounds at known times: four ESC-50
# clips (siren, crying baby, helicopter, hand saw) with 2 s of silence
# before, between and after, through pipelines/events.sh and the bundled
# model with the default thresholds. Every clip must give exactly one event,
# of its class, whose start and end lie within one segment hop (64 frames,
# 0.743 s) of where the clip's sound starts and ends (its first and last
# 1024-sample window above -60 dBFS, measured here from the samples); no
# other event may come. (The clips are from fold 4; the bundled model's
# training split may include them: this tests the boundaries, not the
# accuracy.)
# Skips when the clips (../shared/esc50) or the model are absent.
# usage: test_events.sh SOURCE_ROOT
set -uo pipefail
root=$1
data=$root/../shared/esc50
model=$root/models/esc50-acrnn.safetensors
clips=(4-102871-A-42 4-167077-A-20 4-125929-A-40 4-102844-A-49)
labels=(siren crying_baby helicopter hand_saw)
for c in "${clips[@]}"; do
  [ -f "$data/audio/$c.flac" ] || { echo "SKIP: $data/audio/$c.flac is absent (real ESC-50 clips)"; exit 77; }
done
[ -f "$model" ] || { echo "SKIP: no bundled model"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export ACRNN_BUILD_DIR=${ACRNN_BUILD_ROOT:-$root/build} ACRNN_MODEL=$model
export GST_REGISTRY=$tmp/registry.bin
for c in "${clips[@]}"; do
  gst-launch-1.0 -q filesrc location="$data/audio/$c.flac" ! decodebin ! \
    audioconvert ! audioresample ! \
    audio/x-raw,format=S16LE,channels=1,rate=44100 ! \
    filesink location="$tmp/$c.raw" || { echo "FAIL: cannot decode $c"; exit 1; }
done
# the stream, and where each clip's sound is: "label start end" (seconds)
/usr/bin/python3 - "$tmp" "${clips[@]}" >"$tmp/truth" <<'PY' || { echo "FAIL: cannot build the stream"; exit 1; }
import struct, sys, wave
tmp, clips = sys.argv[1], sys.argv[2:]
rate, gap = 44100, 2 * 44100
out = bytearray(bytes(2 * gap)); at = gap
for c in clips:
    d = open('%s/%s.raw' % (tmp, c), 'rb').read()
    n = len(d) // 2
    s = struct.unpack('<%dh' % n, d)
    loud = [i for i in range(0, n - 1023, 256)
            if sum(x * x for x in s[i:i + 1024]) / 1024 > 1e-6 * 32768 ** 2]
    print('%.4f %.4f' % ((at + loud[0]) / rate, (at + loud[-1] + 1024) / rate))
    out += d + bytes(2 * gap); at += n + gap
w = wave.open(tmp + '/stream.wav', 'wb')
w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate)
w.writeframes(bytes(out)); w.close()
PY
"$root/pipelines/events.sh" "$tmp/stream.wav" --format csv >"$tmp/events.csv" ||
  { echo "FAIL: events.sh failed"; exit 1; }
cat "$tmp/events.csv"
/usr/bin/python3 - "$tmp/truth" "$tmp/events.csv" "${labels[@]}" <<'PY'
import csv, sys
truth = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
events = list(csv.DictReader(open(sys.argv[2])))
labels, hop, fail = sys.argv[3:], 64 * 512 / 44100, 0
for label, (start, end) in zip(labels, truth):
    mine = [e for e in events if float(e['end']) > start - hop and float(e['start']) < end + hop]
    ok = (len(mine) == 1 and mine[0]['label'] == label and
          abs(float(mine[0]['start']) - start) <= hop and abs(float(mine[0]['end']) - end) <= hop)
    print('%s: sound %.3f-%.3f, events %s: %s' % (label, start, end,
          ['%s %s-%s' % (e['label'], e['start'], e['end']) for e in mine], 'ok' if ok else 'FAIL'))
    fail |= not ok
if len(events) != len(labels):
    print('FAIL: %d events for %d sounds' % (len(events), len(labels))); fail = 1
sys.exit(fail)
PY
