#!/usr/bin/env bash
# test_bundled_model.sh - the bundled model classifies the real ESC-50 clips
# it never saw (fold 5 of the seeded by-source split of ../shared/esc50)
# with exactly the accuracy its model card (models/README.md) states, and
# every bundled sample is one of those held-out clips.
# Skips when the clips (../shared/esc50) or the model are absent.
# usage: test_bundled_model.sh SOURCE_ROOT ACRNN_TRAIN
set -uo pipefail
root=$1 train=$2
data=$root/../shared/esc50
model=$root/models/esc50-acrnn.safetensors
[ -f "$data/meta/esc50.csv" ] || { echo "SKIP: $data is absent (real ESC-50 clips)"; exit 77; }
[ -f "$model" ] || { echo "SKIP: no bundled model"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# the card's line: "Held-out accuracy: C of N clips"
card=$(grep -m1 -oE 'Held-out accuracy: [0-9]+ of [0-9]+ clips' "$root/models/README.md")
[ -n "$card" ] || { echo "FAIL: models/README.md states no held-out accuracy"; exit 1; }
want_c=$(awk '{print $3}' <<<"$card") want_n=$(awk '{print $5}' <<<"$card")
"$train" eval --model "$model" --data "$data" --split-by-source 5 --seed 1 \
  --fold 5 --no-cache --quiet --report "$tmp/r" || { echo "FAIL: eval failed"; exit 1; }
read -r got_c got_n < <(/usr/bin/python3 - "$tmp/r.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["predictions"]
print(sum(x["label"] == x["predicted"] for x in p), len(p))
PY
)
echo "held-out accuracy: $got_c of $got_n clips (model card: $want_c of $want_n)"
fail=0
[ "$got_c" = "$want_c" ] && [ "$got_n" = "$want_n" ] || { echo "FAIL: accuracy differs from the model card"; fail=1; }
held=$(/usr/bin/python3 -c "import json,sys; print(' '.join(x['file'].split('/')[-1] for x in json.load(open(sys.argv[1]))['predictions']))" "$tmp/r.json")
for f in "$root"/samples/*.flac; do
  clip=$(basename "$f"); clip=${clip#*-}
  [[ " $held " == *" $clip "* ]] || { echo "FAIL: sample $clip is not a held-out clip"; fail=1; }
done
exit $fail
