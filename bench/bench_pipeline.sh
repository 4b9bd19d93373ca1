#!/usr/bin/env bash
# bench_pipeline.sh - how fast the GStreamer pipeline classifies a long file,
# against a plain Python loop doing the same work with the PyTorch reference
# (bench_pipeline_torch.py), on 1 and 2 cores.
#
#   bench/bench_pipeline.sh [BUILD_DIR]      (default: $ACRNN_BUILD_DIR, else build)
#   ACRNN_BENCH_MINUTES=10   length of the generated clip
#   ACRNN_BENCH_CORES="1 2"  core counts to measure (taskset -c 0 / 0,1)
#
# A WAV of pink noise (44.1 kHz mono) and a random full-size model (50
# classes, 128 bands) are made once in a temporary folder. Each run is timed
# from process start to end (model loading and decoding included):
#   gst:         filesrc ! decodebin ! audioconvert ! audioresample !
#                gammatonespec ! acrnnclassify batch=16 ! fakesink,
#                OPENBLAS_NUM_THREADS=cores (the BLAS shares the cores)
#   gst-threads: the same with acrnnclassify threads=cores and
#                OPENBLAS_NUM_THREADS=1 (each thread runs part of each batch
#                on its own copy of the network); for 2 cores and up
#   torch:       bench_pipeline_torch.py run (torch.set_num_threads(cores))
# and reported as a real-time factor (seconds of audio per second of wall
# time); ratio = the faster gst / torch. All must reach the same decision.
# The header names what a figure needs beside it: the CPU, whether it has
# AVX512_BF16 (precision=auto, the default, then runs bf16; else fp32), the
# commit measured and the load average before the runs; the last line
# gives the load average after them (figures taken beside other load are
# per CPU second, the *-cpu columns, and only comparable within a run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-${ACRNN_BUILD_DIR:-$root/build}}
minutes=${ACRNN_BENCH_MINUTES:-10}
cores_list=${ACRNN_BENCH_CORES:-1 2}
py=/usr/bin/python3

if [ ! -f "$build/gst-plugins/libgstacrnn.so" ]; then
  echo "error: no plugin in $build/gst-plugins: build first" \
       "(meson setup build && meson compile -C build) or give BUILD_DIR" >&2
  exit 1
fi
ncpu=$(nproc)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GST_PLUGIN_PATH="$build/gst-plugins" GST_REGISTRY="$tmp/registry.bin"
unset ACRNN_MODEL

wav="$tmp/long.wav" model="$tmp/model.safetensors"
gst-launch-1.0 -q audiotestsrc wave=pink-noise samplesperbuffer=44100 \
  num-buffers=$((minutes * 60)) ! \
  audio/x-raw,format=S16LE,rate=44100,channels=1 ! wavenc ! \
  filesink location="$wav"
"$py" "$here/bench_pipeline_torch.py" make-model "$model"
audio_s=$((minutes * 60))

# timed OUT CMD...: runs CMD (stdout and stderr to OUT), prints
# "wall user+sys" in seconds.
timed() {
  local TIMEFORMAT='%R %U %S' out=$1 t
  shift
  t=$( { time "$@" >"$out" 2>&1; } 2>&1 ) || { cat "$out" >&2; return 1; }
  awk '{ print $1, $2 + $3 }' <<<"$t"
}

# run_gst CORES BLAS_THREADS ELEMENT_THREADS: prints "wall cpu label"
run_gst() {
  local t final
  t=$(timed "$tmp/gst.out" env OPENBLAS_NUM_THREADS="$2" \
        taskset -c "$(seq -s, 0 $(($1 - 1)))" gst-launch-1.0 -m \
        filesrc location="$wav" ! decodebin ! audioconvert ! audioresample ! \
        gammatonespec ! acrnnclassify model="$model" batch=16 threads="$3" ! \
        fakesink sync=false) || return 1
  final=$(grep -F '(element): acrnn,' "$tmp/gst.out" |
          grep -F 'final=(boolean)true' || true)
  if [ -z "$final" ]; then
    echo "error: the gst pipeline gave no final result:" >&2
    tail -n 20 "$tmp/gst.out" >&2
    return 1
  fi
  echo "$t $(sed -nE 's/.*[ ,]label=\(string\)([^,]*),.*/\1/p' <<<"$final")"
}

# run_torch CORES: prints "wall cpu label"
run_torch() {
  local t
  t=$(timed "$tmp/torch.out" env OPENBLAS_NUM_THREADS="$1" OMP_NUM_THREADS="$1" \
        taskset -c "$(seq -s, 0 $(($1 - 1)))" \
        "$py" "$here/bench_pipeline_torch.py" run "$model" "$wav" \
        --threads "$1") || return 1
  echo "$t $(sed -nE 's/.*label=([^ ]*).*/\1/p' "$tmp/torch.out")"
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
if grep -qw avx512_bf16 /proc/cpuinfo; then
  prec="AVX512_BF16: precision=auto runs bf16"
else
  prec="no AVX512_BF16: precision=auto runs fp32"
fi
commit=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
echo "# ${cpu:-unknown CPU}, $ncpu CPUs, $prec; commit $commit"
echo "# $minutes min of 44.1 kHz audio, random 50-class 128-band model," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo "# real-time factors: seconds of audio per second of wall time; *-cpu: per" \
     "CPU second (less sensitive to other load); ratio: the faster gst / torch"
printf '%-6s %8s %8s %8s %8s %8s %8s %8s  %s\n' cores gst gst-thr torch ratio \
  gst-cpu thr-cpu torch-cpu decision
status=0
for c in $cores_list; do
  if [ "$c" -gt "$ncpu" ]; then
    echo "skipping $c cores: only $ncpu CPUs" >&2
    continue
  fi
  r=$(run_gst "$c" "$c" 1) || exit 1
  read -r gw gc gl <<<"$r"
  hw=0 hc=0 hl=$gl
  if [ "$c" -gt 1 ]; then
    r=$(run_gst "$c" 1 "$c") || exit 1
    read -r hw hc hl <<<"$r"
  fi
  r=$(run_torch "$c") || exit 1
  read -r tw tc tl <<<"$r"
  if [ "$gl" = "$tl" ] && [ "$hl" = "$tl" ]; then
    same="same ($gl)"
  else
    same="DIFFERENT: gst $gl, gst-threads $hl, torch $tl"; status=1
  fi
  awk -v c="$c" -v a="$audio_s" -v gw="$gw" -v gc="$gc" -v hw="$hw" -v hc="$hc" \
      -v tw="$tw" -v tc="$tc" -v same="$same" '
    function rtf(w) { return w > 0 ? sprintf("%7.1fx", a / w) : "       -" }
    BEGIN {
      best = (hw > 0 && hw < gw) ? hw : gw
      printf "%-6s %8s %8s %8s %7.2fx %8s %8s %8s  %s\n", c, rtf(gw), rtf(hw),
        rtf(tw), tw / best, rtf(gc), rtf(hc), rtf(tc), same }'
done
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
exit $status
