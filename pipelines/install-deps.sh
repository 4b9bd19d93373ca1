#!/usr/bin/env bash
# Installs the Debian 12 packages acrnn needs that are missing (quietly; only
# when something is missing). Used by tests/run.sh and pipelines/demo.sh.
#   pipelines/install-deps.sh [build|run|test]   (default: test, the superset)
set -euo pipefail
what=${1:-test}
build=(meson ninja-build pkg-config gcc libc6-dev libglib2.0-dev libjson-glib-dev
       libfftw3-dev libopenblas-dev libgstreamer1.0-dev
       libgstreamer-plugins-base1.0-dev librubberband-dev libcairo2-dev)
run=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
     gstreamer1.0-x)
# The tests also run beside the plugin sets most desktops and servers have
# (decodebin may pick their decoders; their libraries keep memory that the
# sanitizer build must tell apart from ours, see tests/lsan.supp).
test=(python3 python3-numpy python3-scipy python3-torch python3-gi
      gir1.2-gstreamer-1.0 libopenmpi-dev openmpi-bin flac
      gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
      clang-14 libfuzzer-14-dev
      libtcmalloc-minimal4) # bench/compare.py preloads it into PyTorch
case "$what" in
  build) want=("${build[@]}") ;;
  run) want=("${build[@]}" "${run[@]}") ;;
  test) want=("${build[@]}" "${run[@]}" "${test[@]}") ;;
  *) echo "usage: $0 [build|run|test]" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
