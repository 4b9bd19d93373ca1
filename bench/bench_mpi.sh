#!/bin/sh
# bench_mpi.sh - data-parallel training throughput of acrnn-train on the
# full-size network (128 bands, 128 frames, 44.1 kHz features) with a
# synthetic dataset: 1 process x 1 thread, 2 MPI ranks x 1 thread and
# 1 process x 2 BLAS threads, with the time per step spent in the gradient
# MPI_Allreduce (acrnn-train --timings), as a table with the scaling
# efficiency (throughput / (workers x the 1x1 throughput)).
#
# Usage: bench/bench_mpi.sh [PATH-TO-acrnn-train] [STEPS] [BATCH]
#   defaults: $ACRNN_BUILD_ROOT/training/acrnn-train (or build/...), 4, 64
# Needs gst-launch-1.0 (the clips) and, for the 2-rank row, mpirun.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
exe=${1:-${ACRNN_BUILD_ROOT:-$here/../build}/training/acrnn-train}
steps=${2:-4}
batch=${3:-64}
if [ ! -x "$exe" ]; then
  echo "bench_mpi: $exe is not an executable acrnn-train (give its path)" >&2
  exit 2
fi
command -v gst-launch-1.0 >/dev/null || {
  echo "bench_mpi: gst-launch-1.0 is needed to make the clips" >&2
  exit 2
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/acrnn-bench-mpi-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# 3 classes x 8 clips x 8 s: 9 segments per clip, 216 per epoch, enough
# for the steps (one epoch, no validation).
clips=8
for c in sine noise ticks; do
  mkdir -p "$tmp/data/$c"
  i=0
  while [ $i -lt $clips ]; do
    case $c in
      sine) src="audiotestsrc wave=sine freq=$((300 + 70 * i))" ;;
      noise) src="audiotestsrc wave=white-noise volume=0.3" ;;
      ticks) src="audiotestsrc wave=ticks freq=$((500 + 40 * i))" ;;
    esac
    gst-launch-1.0 -q $src num-buffers=345 samplesperbuffer=1024 ! \
      audio/x-raw,rate=44100,channels=1 ! audioconvert ! wavenc ! \
      filesink location="$tmp/data/$c/clip$i.wav" >/dev/null
    i=$((i + 1))
  done
done

common="--data $tmp/data --random-folds 2 --val-fold 0 --epochs 1000
  --batch-size $batch --stop-after-steps $steps --checkpoint-every 0
  --cache $tmp/cache --quiet --timings --out $tmp/model.safetensors"

# fills the feature cache (not timed)
"$exe" features --data "$tmp/data" --cache "$tmp/cache" --quiet >/dev/null

run() { # label processes threads command...
  label=$1 np=$2 th=$3
  shift 3
  line=$(OPENBLAS_NUM_THREADS=$th "$@" 2>/dev/null | grep '^timings:' |
    tail -n 1) || true
  if [ -z "$line" ]; then
    printf '%-22s %3s %3s   (failed)\n' "$label" "$np" "$th"
    return
  fi
  echo "$line" | awk -v label="$label" -v np="$np" -v th="$th" \
    -v base="${base:-0}" '{
      for (i = 2; i < NF; i += 2) v[$i] = $(i + 1)
      sps = v["seg_per_s"]; workers = np * th
      eff = base > 0 ? 100 * sps / (workers * base) : 100
      printf "%-22s %3d %3d %9.2f %10.3f %12.2f %12.2f %6.0f%%\n", label,
        np, th, sps, v["step_s"] / v["steps"], v["compute_ms_per_step"],
        v["allreduce_ms_per_step"], eff
    }'
  [ -n "${base:-}" ] || base=$(echo "$line" | awk '{
      for (i = 2; i < NF; i += 2) if ($i == "seg_per_s") print $(i + 1) }')
}

echo "acrnn-train data-parallel throughput: batch $batch, $steps steps, full network"
echo "(host: $(nproc) cores; a shared machine gives noisy figures)"
printf '%-22s %3s %3s %9s %10s %12s %12s %7s\n' config np thr seg/s s/step \
  compute-ms allreduce-ms effic.
base=
# shellcheck disable=SC2086
run "1 process, 1 thread" 1 1 "$exe" train $common --threads 1
if command -v mpirun >/dev/null; then
  # shellcheck disable=SC2086
  run "2 ranks, 1 thread each" 2 1 mpirun --allow-run-as-root \
    --oversubscribe -np 2 -x OPENBLAS_NUM_THREADS "$exe" train $common \
    --threads 1
else
  echo "2 ranks: skipped (no mpirun)"
fi
# shellcheck disable=SC2086
run "1 process, 2 threads" 1 2 "$exe" train $common --threads 2
