#!/usr/bin/env bash
# test_bf16_agreement.sh - the bundled model gives the same label in bf16
# (--precision bf16) as in fp32 on at least 98 % of the real ESC-50 clips
# of ../shared/esc50 (all of them, both runs on the same cached features).
# Skips when the clips or the model are absent.
# usage: test_bf16_agreement.sh SOURCE_ROOT ACRNN_TRAIN
set -uo pipefail
root=$1 train=$2
data=$root/../shared/esc50
model=$root/models/esc50-acrnn.safetensors
[ -f "$data/meta/esc50.csv" ] || { echo "SKIP: $data is absent (real ESC-50 clips)"; exit 77; }
[ -f "$model" ] || { echo "SKIP: no bundled model"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for p in fp32 bf16; do
  "$train" eval --model "$model" --data "$data" --precision $p --batch-size 16 \
    --cache "$tmp/cache" --quiet --report "$tmp/$p" ||
    { echo "FAIL: eval --precision $p failed"; exit 1; }
done
/usr/bin/python3 - "$tmp/fp32.json" "$tmp/bf16.json" <<'PY'
import json, sys
a, b = ({x["file"]: x for x in json.load(open(f))["predictions"]}
        for f in sys.argv[1:3])
assert a.keys() == b.keys() and len(a) > 0, "the runs saw different clips"
same = sum(a[f]["predicted"] == b[f]["predicted"] for f in a)
acc = lambda r: sum(x["label"] == x["predicted"] for x in r.values())
print(f"bf16 gives the fp32 label on {same} of {len(a)} clips "
      f"({100.0 * same / len(a):.2f} %); accuracy fp32 {acc(a)}, bf16 {acc(b)}")
for f in sorted(a):
    if a[f]["predicted"] != b[f]["predicted"]:
        print(f"  {f}: fp32 {a[f]['predicted']} ({a[f]['confidence']:.3f}), "
              f"bf16 {b[f]['predicted']} ({b[f]['confidence']:.3f})")
sys.exit(0 if same >= 0.98 * len(a) else 1)
PY
