#!/usr/bin/env bash
# paper_tables.sh - the paper's Tables 2 and 3 as 5-fold cross-validations on
# the clips at hand, one row at a time, resumable.
#
#   training/experiments/paper_tables.sh [options] ROW...
#
#   ROW         t2-crnn        convolutional RNN, no attention, no augmentation
#               t2-crnn-aug    no attention, stretch + pitch + mixup
#                              (also Table 3's "none")
#               t2-acrnn       attention after the GRU (l10), no augmentation
#               t2-acrnn-aug   attention at l10, stretch + pitch + mixup
#                              (the main row; also Table 3's "l10")
#               t3-l2 t3-l4 t3-l6 t3-l8
#                              attention after conv layer 2/4/6/8, augmented
#               all            every row above, in that order
#             Ours, beyond the paper: the main row (t2-acrnn-aug) with one
#             change each:
#               ours-offline   offline copies (--augment offline, 4 copies
#                              of each clip, made once) instead of online
#               ours-specaug   SpecAugment-style masks: 2 time masks of up
#                              to 16 frames, 2 frequency masks of up to 16
#                              bands (--time-masks ... --freq-mask-width)
#               ours-smooth    label smoothing 0.1 (--label-smoothing 0.1)
#               ours-cosine    cosine schedule from lr 0.01 to 0
#                              (--lr-schedule cosine) instead of the steps
#               ours-ensemble  not a CV: the held-out evaluation of the
#                              bundled model (fold 5 of --split-by-source 5
#                              --seed 1). Four models of the main row, model
#                              k trained on three of folds 1-4 and
#                              validated on the fourth (k), then fold 5
#                              evaluated by each (the last epoch's model)
#                              and by their ensemble (eval --model x4: the
#                              mean of their clip probabilities). Writes
#                              ensemble-eval.json and inner-K-eval.json
#               ours           every ours-* row, in that order
#             The bundled model:
#               bundle-ROW     a candidate for models/esc50-acrnn.safetensors
#                              with ROW's recipe, made as models/README.md
#                              says: trained on folds 1-4 of
#                              --split-by-source 5 --seed 1 (fold 5
#                              validates each epoch and chooses nothing),
#                              fold 5 evaluated by the last epoch's model
#                              (heldout-eval.json), that model exported as
#                              F16 (model.f16.safetensors); results: both,
#                              the log and the curves
#   --dataset esc10|esc50      (default esc10)
#   --epochs N                 schedule length; lr / 10 at 1/3 and 2/3 of it
#                              (default 60; the paper's is 300)
#   --data DIR                 ESC-50 layout (default ../shared/esc50)
#   --work DIR                 where runs, checkpoints and logs go
#                              (default runs/paper)
#   --results DIR              each finished fold's result and each row's
#                              summary are copied here, ready to commit
#                              (default models/runs/paper)
#   --train BIN                acrnn-train (default build/training/acrnn-train)
#   --threads N                passed to acrnn-train (default 2)
#   --precision P              passed to acrnn-train (default bf16); a row
#                              in another precision is ROW-DATASET-eN-P
#   --augment-cache DIR        passed to acrnn-train: the augmented copies
#                              are kept in DIR, so the rows after the first
#                              (same seed, clips and ranges, so the same
#                              draws) read them instead of making them again,
#                              about half of an augmented epoch; the results
#                              are the same bits. About 9 GB for an ESC-10
#                              column of 60 epochs, 45 GB for ESC-50
#                              (default: none)
#   --print                    print the commands of each ROW, run nothing
#
# Every row uses --split-by-source 5 --seed 1, SGD with Nesterov momentum
# 0.9, lr 0.01, batches of 64 and weight decay 1e-4 (acrnn-train's
# defaults). "Augmentation" is the paper's: time stretch in [0.8, 1.3] and
# pitch shift in [-3.5, 3.5] semitones, drawn anew for every clip and epoch
# (--augment online), and mixup (alpha 0.2); without it, neither.
#
# A row whose folder exists is continued (cv --continue): stop this script
# (Ctrl-C or SIGTERM; the fold in progress saves a checkpoint) and run the
# same command again to go on where it stopped.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dataset=esc10 epochs=60 data=$root/../shared/esc50
work=$root/runs/paper results=$root/models/runs/paper
train=$root/build/training/acrnn-train threads=2 precision=bf16
cache_opt=()
print_only=0
rows=()
while [ $# -gt 0 ]; do
  case $1 in
    --dataset) dataset=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --train) train=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --precision) precision=$2; shift 2 ;;
    --augment-cache) cache_opt=(--augment-cache "$2"); shift 2 ;;
    --print) print_only=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    all) rows+=(t2-crnn t2-crnn-aug t2-acrnn t2-acrnn-aug t3-l2 t3-l4 t3-l6 t3-l8)
         shift ;;
    ours) rows+=(ours-offline ours-specaug ours-smooth ours-cosine ours-ensemble)
          shift ;;
    -*) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) rows+=("$1"); shift ;;
  esac
done
[ ${#rows[@]} -gt 0 ] || { echo "error: name at least one ROW (see --help)" >&2; exit 2; }
case $dataset in
  esc10) ds_opt=(--esc10) ;;
  esc50) ds_opt=() ;;
  *) echo "error: --dataset is esc10 or esc50, not '$dataset'" >&2; exit 2 ;;
esac
[ "$print_only" = 1 ] || [ -f "$data/meta/esc50.csv" ] || { echo "error: no $data/meta/esc50.csv (give --data)" >&2; exit 2; }
[ "$print_only" = 1 ] || [ -x "$train" ] || { echo "error: no acrnn-train at $train (build first or give --train)" >&2; exit 2; }
if [ $((epochs % 3)) -ne 0 ]; then
  echo "error: --epochs must be a multiple of 3 (lr / 10 at 1/3 and 2/3)" >&2; exit 2
fi

row_options() {
  local aug=(--augment online --mixup-alpha 0.2)
  local none=(--augment none --mixup-alpha 0)
  case $1 in
    t2-crnn) echo --attention none "${none[@]}" ;;
    t2-crnn-aug) echo --attention none "${aug[@]}" ;;
    t2-acrnn) echo --attention rnn "${none[@]}" ;;
    t2-acrnn-aug) echo --attention rnn "${aug[@]}" ;;
    t3-l2|t3-l4|t3-l6|t3-l8) echo --attention "cnn:${1#t3-l}" "${aug[@]}" ;;
    # ours: the main row plus one change
    ours-offline) echo --attention rnn --augment offline --augment-copies 4 \
                    --mixup-alpha 0.2 ;;
    ours-specaug) echo --attention rnn "${aug[@]}" --time-masks 2 \
                    --time-mask-width 16 --freq-masks 2 --freq-mask-width 16 ;;
    ours-smooth) echo --attention rnn "${aug[@]}" --label-smoothing 0.1 ;;
    ours-cosine) echo --attention rnn "${aug[@]}" --lr-schedule cosine \
                   --lr-min 0 ;;
    ours-ensemble) echo --attention rnn "${aug[@]}" ;;
    bundle-*) row_options "${1#bundle-}" ;;
    *) return 1 ;;
  esac
}

save_results() {
  local f
  for f in "$1"/fold-*.result.json "$1"/cv-summary.json "$1"/*-eval.json; do
    if [ -f "$f" ] && ! cmp -s "$f" "$2/${f##*/}"; then cp "$f" "$2/"; fi
  done
}

# The command as run from the checkout's root, for command.txt: the
# checkout's path left out, acrnn-train named as the build's.
portable() {
  local c=${1//"$train"/build/training/acrnn-train}
  c=${c//"$root/"/}
  printf '%s\n' "$c"
}

# Runs a command in the background with its output appended to $log,
# copying finished results from $dir to $res every 20 s; Ctrl-C or SIGTERM
# stops it (it saves a checkpoint). Returns its exit status.
run_saving() {
  "$@" >> "$log" 2>&1 &
  child=$!
  trap 'kill -TERM $child 2>/dev/null' TERM INT
  # each finished fold is copied as soon as it exists, so that a machine
  # that goes away keeps what was done
  local i
  while kill -0 "$child" 2>/dev/null; do
    save_results "$dir" "$res"
    for i in $(seq 20); do
      kill -0 "$child" 2>/dev/null || break
      sleep 1
    done
  done
  local status=0
  wait "$child" || status=$?
  trap - TERM INT
  save_results "$dir" "$res"
  return "$status"
}

# A run that did not finish (an error, a signal, --stop-after-*): exit with
# its status, or 1.
stopped() {
  echo "$name stopped (exit $1); run the same command to continue" >&2
  [ "$1" -ne 0 ] && exit "$1"
  exit 1
}

# train_one FOLDS VAL BASE: one model of the row, trained on FOLDS and
# validated on VAL, to $dir/BASE.safetensors (BASE.last.safetensors: the
# last epoch's), continued from its checkpoint when stopped, skipped when
# done; its command is added to command.txt either way. A stop exits.
train_one() {
  local status
  cmd=("$train" train --data "$data" "${ds_opt[@]}" --split-by-source 5
       --seed 1 --folds "$1" --val-fold "$2" --epochs "$epochs"
       --lr-step $((epochs / 3)) --threads "$threads"
       --precision "$precision" --checkpoint-every 5 "${row_opts[@]}"
       "${cache_opt[@]}" --out "$dir/$3.safetensors")
  [ "$print_only" = 1 ] || portable "${cmd[*]}" >> "$res/command.txt"
  [ -f "$dir/$3.last.safetensors" ] && return 0
  cont=()
  [ -f "$dir/$3.ckpt.safetensors" ] &&
    cont=(--resume "$dir/$3.ckpt.safetensors")
  if [ "$print_only" = 1 ]; then
    echo "${cmd[*]} ${cont[*]}"
    return 0
  fi
  echo "$(date -u +%FT%TZ) $name: ${cmd[*]} ${cont[*]}" | tee -a "$work/commands.log"
  status=0
  run_saving "${cmd[@]}" "${cont[@]}" || status=$?
  # a stop (Ctrl-C, --stop-after-*) leaves no last model
  [ "$status" -eq 0 ] && [ -f "$dir/$3.last.safetensors" ] ||
    stopped "$status"
}

# evaluate MODEL... REPORT [--quiet]: fold 5 of the split by the models
# (their ensemble when several), report to $dir/REPORT.json.
evaluate() {
  local args=() quiet=()
  while [ $# -gt 1 ]; do
    if [ "$1" = --quiet ]; then quiet=(--quiet); else args+=(--model "$1"); fi
    shift
  done
  local ev=("$train" eval --data "$data" --fold 5 --threads "$threads"
            "${quiet[@]}" --precision "$precision" "${args[@]}"
            --report "$dir/$1")
  if [ "$print_only" = 1 ]; then
    echo "${ev[*]}"
  else
    "${ev[@]}" >> "$log" 2>&1 || stopped $?
  fi
}

# ours-ensemble: model k on three of folds 1-4 (validated on k); then fold 5
# by each model and by the four together.
ensemble_row() {
  local k others f models=()
  for k in 1 2 3 4; do
    others=$(for f in 1 2 3 4; do [ "$f" = "$k" ] || printf '%s,' "$f"; done)
    train_one "${others%,}" "$k" "inner-$k"
  done
  for k in 1 2 3 4; do
    models+=("$dir/inner-$k.last.safetensors")
    evaluate --quiet "$dir/inner-$k.last.safetensors" "inner-$k-eval"
  done
  evaluate "${models[@]}" ensemble-eval
  [ "$print_only" = 1 ] && return 0
  save_results "$dir" "$res"
  grep -h '^\(model\|ensemble\) ' "$log" | tail -n 5
}

# bundle-ROW: the candidate on folds 1-4 (validated on 5); then fold 5 by
# the last epoch's model, and its F16 export.
bundle_row() {
  local f
  train_one 1,2,3,4 5 model
  evaluate "$dir/model.last.safetensors" heldout-eval
  local ex=("$train" export --model "$dir/model.last.safetensors"
            --out "$dir/model.f16.safetensors" --dtype f16)
  if [ "$print_only" = 1 ]; then
    echo "${ex[*]}"
    return 0
  fi
  "${ex[@]}" >> "$log" 2>&1 || stopped $?
  save_results "$dir" "$res"
  for f in model.f16.safetensors model.log.jsonl model.curves.png; do
    [ -f "$dir/$f" ] && cp "$dir/$f" "$res/"
  done
  grep -h '^model .*: .* clips, accuracy' "$log" | tail -n 1 || true
}

for row in "${rows[@]}"; do
  opts=$(row_options "$row") || { echo "error: unknown row '$row' (see --help)" >&2; exit 2; }
  name=$row-$dataset-e$epochs
  [ "$precision" = bf16 ] || name=$name-$precision
  dir=$work/$name
  res=$results/$name
  log=$work/$name.log
  read -r -a row_opts <<< "$opts"
  [ "$print_only" = 1 ] || mkdir -p "$work" "$res"
  if [ "$row" = ours-ensemble ] || [ "${row#bundle-}" != "$row" ]; then
    [ "$print_only" = 1 ] || { mkdir -p "$dir"; : > "$res/command.txt"; }
    if [ "$row" = ours-ensemble ]; then ensemble_row; else bundle_row; fi
    continue
  fi
  cont=()
  [ -d "$dir" ] && cont=(--continue)
  cmd=("$train" cv --data "$data" "${ds_opt[@]}" --split-by-source 5 --seed 1
       --epochs "$epochs" --lr-step $((epochs / 3)) --threads "$threads"
       --precision "$precision" --checkpoint-every 5 "${row_opts[@]}"
       "${cache_opt[@]}" --out-dir "$dir")
  if [ "$print_only" = 1 ]; then
    echo "${cmd[*]} ${cont[*]}"
    continue
  fi
  echo "$(date -u +%FT%TZ) $name: ${cmd[*]} ${cont[*]}" | tee -a "$work/commands.log"
  portable "${cmd[*]}" > "$res/command.txt"
  status=0
  run_saving "${cmd[@]}" "${cont[@]}" || status=$?
  tail -n 3 "$log"
  [ "$status" -eq 0 ] || stopped "$status"
done
