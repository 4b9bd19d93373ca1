#!/bin/sh
# finetune.sh - does fine-tuning help? (README, "Teach it your own sounds")
#
# Pretrains one model on the 40 ESC-50 classes that are not ESC-10 (every
# clip of fold 4 of those classes), then, for k = 1, 2, 4, 6 training clips
# per ESC-10 class, trains a 10-class model three ways on the same clips:
#   scratch   from the paper's random initialisation
#   finetune  --init-from the pretrained model (a new classifier: the labels
#             differ), every layer trained
#   frozen    the same with --freeze-conv (GRU, attention, classifier only)
# and scores each on the same held-out clips of the 10 classes (2 per
# class, split by source recording: finetune_split.py). The score is the
# clip accuracy of the last epoch (not the best: the test clips choose
# nothing). Results: OUT/results.json and a Markdown table on stdout.
#
# usage: training/experiments/finetune.sh [DATA [OUT]]
#   DATA  ESC-50 layout (default ../shared/esc50), OUT (default runs/finetune)
# environment: SEEDS (default 1), KS (1,2,4,6), PRETRAIN_EPOCHS (30),
#   PRETRAIN_LR_STEP (2/3 of them), EPOCHS (30), THREADS (1), PRECISION
#   (bf16), ARMS (scratch finetune frozen), ACRNN_TRAIN (default
#   build/training/acrnn-train), COLLECT_ONLY (set: no training, only the
#   results of the runs that finished).
# A run whose log already holds every epoch is not run again, so the
# script continues where it stopped.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=${1:-$root/../shared/esc50}
out=${2:-runs/finetune}
SEEDS=${SEEDS:-1}
KS=${KS:-1,2,4,6}
PRETRAIN_EPOCHS=${PRETRAIN_EPOCHS:-30}
PRETRAIN_LR_STEP=${PRETRAIN_LR_STEP:-$((PRETRAIN_EPOCHS * 2 / 3))}
EPOCHS=${EPOCHS:-30}
THREADS=${THREADS:-1}
PRECISION=${PRECISION:-bf16}
ARMS=${ARMS:-scratch finetune frozen}
train=${ACRNN_TRAIN:-$root/build/training/acrnn-train}
[ -x "$train" ] || { echo "finetune.sh: no $train (build first)" >&2; exit 1; }
mkdir -p "$out/runs"
python3 "$here/finetune_split.py" --data "$data" --out "$out/data" \
  --ks "$KS" --seeds "$SEEDS"
common="--cache $out/cache --precision $PRECISION --threads $THREADS --quiet"

# done LOG EPOCHS: the log holds the last epoch
done_run() {
  [ -f "$1" ] && grep -q "\"epoch\": $2," "$1"
}

pre=$out/pretrain.safetensors
if ! done_run "$out/pretrain.log.jsonl" "$PRETRAIN_EPOCHS"; then
  echo "pretraining on $(ls "$out/data/pretrain" | wc -l) classes"
  resume=
  [ -f "$out/pretrain.ckpt.safetensors" ] &&
    resume="--resume $out/pretrain.ckpt.safetensors"
  # 40 classes, 320 clips, all of them trained on (no validation fold)
  "$train" train --data "$out/data/pretrain" --random-folds 5 --val-fold 0 \
    --epochs "$PRETRAIN_EPOCHS" --lr-step "$PRETRAIN_LR_STEP" \
    --checkpoint-every 1 --seed 1 $common --out "$pre" $resume
fi

for s in $(echo "$SEEDS" | tr , ' '); do
  for k in $(echo "$KS" | tr , ' '); do
    for arm in $ARMS; do
      name=$arm-k$k-s$s
      d=$out/data/k$k-s$s
      done_run "$out/runs/$name.log.jsonl" "$EPOCHS" && continue
      [ -n "${COLLECT_ONLY:-}" ] && continue
      case $arm in
        scratch) extra= ;;
        finetune) extra="--init-from $pre" ;;
        frozen) extra="--init-from $pre --freeze-conv" ;;
        *) echo "finetune.sh: unknown arm $arm" >&2; exit 1 ;;
      esac
      echo "$name"
      # batches of 16: k=1 gives 10 clips, 50 segments, 4 steps an epoch
      "$train" train --data "$d" --folds-csv "$d/folds.csv" --val-fold 2 \
        --epochs "$EPOCHS" --lr-step $((EPOCHS * 2 / 3)) --batch-size 16 \
        --seed "$s" $common $extra --out "$out/runs/$name.safetensors"
    done
  done
done

python3 - "$out" "$SEEDS" "$KS" "$ARMS" "$EPOCHS" "$PRETRAIN_EPOCHS" <<'PY'
import json, os, sys, statistics
out, seeds, ks, arms = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(","), sys.argv[4].split()
split = json.load(open(os.path.join(out, "data", "splits.json")))
n_test = sum(len(v) for v in split["test"].values())
runs = []
for s in seeds:
    for k in ks:
        for arm in arms:
            log = os.path.join(out, "runs", "%s-k%s-s%s.log.jsonl" % (arm, k, s))
            if not os.path.exists(log):
                continue
            last = [json.loads(l) for l in open(log) if l.strip()][-1]
            if last["epoch"] != int(sys.argv[5]):
                continue  # not finished
            runs.append({"arm": arm, "k": int(k), "seed": int(s),
                         "accuracy": last["val_acc"],
                         "correct": round(last["val_acc"] * n_test),
                         "test_clips": n_test, "epochs": last["epoch"],
                         "train_s": last["total_s"]})
res = {"held_out_classes": split["held_out_classes"], "test": split["test"],
       "train": split["train"], "epochs": int(sys.argv[5]),
       "pretrain_epochs": int(sys.argv[6]), "runs": runs}
json.dump(res, open(os.path.join(out, "results.json"), "w"), indent=1, sort_keys=True)
print("| clips per class | " + " | ".join(arms) + " |")
print("|---:|" + "---:|" * len(arms))
for k in ks:
    cells = []
    for arm in arms:
        a = [r["accuracy"] for r in runs if r["arm"] == arm and r["k"] == int(k)]
        c = [r["correct"] for r in runs if r["arm"] == arm and r["k"] == int(k)]
        cells.append("%.1f %% (%s of %d)" % (100 * statistics.mean(a), "+".join(map(str, c)), n_test * len(a)) if a else "")
    print("| %s | %s |" % (k, " | ".join(cells)))
PY
