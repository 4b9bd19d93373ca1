#!/usr/bin/env bash
# bench_pipeline.sh - how fast the GStreamer pipeline classifies a long file,
# against a plain Python loop doing the same work with the PyTorch reference
# (bench_pipeline_torch.py), on 1 and 2 cores.
#
#   bench/bench_pipeline.sh [BUILD_DIR]      (default: $ACRNN_BUILD_DIR, else build)
#   ACRNN_BENCH_MINUTES=10   length of the generated clip
#   ACRNN_BENCH_CORES="1 2"  core counts to measure (taskset -c 0 / 0,1)
#   ACRNN_BENCH_RUNS=5       runs of each, interleaved (gst, gst-threads,
#                            torch, then again); the table gives the medians
#   ACRNN_BENCH_TORCH_MALLOC=/path/lib.so  the allocator preloaded into the
#                            Python loop (default: tcmalloc when installed,
#                            as bench/compare.py; "none" for glibc's malloc)
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
# time): the median run of each, and a line with the slowest and fastest
# (one machine's runs can differ by a third); ratio = the faster gst /
# torch, from the medians. All runs must reach the same decision.
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
runs=${ACRNN_BENCH_RUNS:-5}
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

# PyTorch allocates its tensors anew at every step; with glibc's malloc the
# page faults of mapping them again can outweigh the arithmetic (see
# bench/compare.py), so the loop runs with tcmalloc where it is installed.
torch_malloc=${ACRNN_BENCH_TORCH_MALLOC:-}
if [ -z "$torch_malloc" ]; then
  torch_malloc=$(/usr/bin/python3 "$here/compare.py" --print-torch-preload \
                   --torch-malloc tcmalloc 2>/dev/null)
  torch_malloc=${torch_malloc:-none}
fi
torch_preload=()
[ "$torch_malloc" = none ] || torch_preload=(LD_PRELOAD="$torch_malloc")

# run_torch CORES: prints "wall cpu label"
run_torch() {
  local t
  t=$(timed "$tmp/torch.out" env "${torch_preload[@]}" \
        OPENBLAS_NUM_THREADS="$1" OMP_NUM_THREADS="$1" \
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
echo "# $minutes min of 44.1 kHz audio, random 50-class 128-band model, $runs runs" \
     "of each (medians below)," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo "# torch: PyTorch's allocator: ${torch_malloc/none/glibc malloc}"
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
  gws=() gcs=() hws=() hcs=() tws=() tcs=() labels=()
  for ((i = 0; i < runs; i++)); do
    r=$(run_gst "$c" "$c" 1) || exit 1
    read -r gw gc gl <<<"$r"
    gws+=("$gw") gcs+=("$gc") labels+=("gst $gl")
    if [ "$c" -gt 1 ]; then
      r=$(run_gst "$c" 1 "$c") || exit 1
      read -r hw hc hl <<<"$r"
      hws+=("$hw") hcs+=("$hc") labels+=("gst-threads $hl")
    fi
    r=$(run_torch "$c") || exit 1
    read -r tw tc tl <<<"$r"
    tws+=("$tw") tcs+=("$tc") labels+=("torch $tl")
  done
  if [ "$(printf '%s\n' "${labels[@]}" | awk '{ print $2 }' | sort -u |
          wc -l)" -eq 1 ]; then
    same="same (${labels[0]#* })"
  else
    same="DIFFERENT: ${labels[*]}"; status=1
  fi
  awk -v c="$c" -v a="$audio_s" -v gw="${gws[*]}" -v gc="${gcs[*]}" \
      -v hw="${hws[*]}" -v hc="${hcs[*]}" -v tw="${tws[*]}" -v tc="${tcs[*]}" \
      -v same="$same" '
    # median, min and max of the space-separated times in s (0 for none)
    function stats(s, out,   v, n, i, j, t) {
      n = split(s, v, " ")
      if (n == 0) { out["med"] = out["min"] = out["max"] = 0; return }
      for (i = 2; i <= n; i++)
        for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
          t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
      out["med"] = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
      out["min"] = v[1]; out["max"] = v[n]
    }
    function rtf(w) { return w > 0 ? sprintf("%7.1fx", a / w) : "       -" }
    function span(x) {
      return x["min"] > 0 ? sprintf("%.1f-%.1fx", a / x["max"], a / x["min"]) \
                          : "-" }
    BEGIN {
      stats(gw, G); stats(gc, GC); stats(hw, H); stats(hc, HC)
      stats(tw, T); stats(tc, TC)
      best = (H["med"] > 0 && H["med"] < G["med"]) ? H["med"] : G["med"]
      printf "%-6s %8s %8s %8s %7.2fx %8s %8s %8s  %s\n", c, rtf(G["med"]),
        rtf(H["med"]), rtf(T["med"]), T["med"] / best, rtf(GC["med"]),
        rtf(HC["med"]), rtf(TC["med"]), same
      printf "#   %d cores, slowest-fastest run: gst %s, gst-threads %s, torch %s\n",
        c, span(G), span(H), span(T) }'
done
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
exit $status
