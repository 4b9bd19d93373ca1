#!/usr/bin/python3
"""Runs bench_network and bench_torch.py with 1 and 2 threads and prints
acrnn's figures next to PyTorch's, with the ratio acrnn / PyTorch.

usage: compare.py BENCH_NETWORK [--seconds S]"""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        if line.startswith("#"):
            print(line)
            continue
        f = line.split()
        res[f[0]] = [float(v) for v in f[1:]]
    return res


def main():
    exe = sys.argv[1]
    seconds = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--seconds" else "3"
    env_note = os.environ.get("OPENBLAS_CORETYPE", "")
    print(f"network benchmark (segments/s, 128x128 segments, 50 classes){' OPENBLAS_CORETYPE=' + env_note if env_note else ''}")
    rows = []
    for threads in (1, 2):
        c = run([exe, "--threads", str(threads), "--seconds", seconds])
        t = run(["/usr/bin/python3", os.path.join(here, "bench_torch.py"),
                 "--threads", str(threads), "--seconds", seconds])
        for name in ("infer_b1", "infer_b64", "train_b64"):
            rows.append((name, threads, c[name][0], c[name][1], t[name][0]))
    print(f"{'figure':<10} {'threads':>7} {'acrnn seg/s':>12} {'GFLOP/s':>8} "
          f"{'torch seg/s':>12} {'ratio':>6}")
    for name, th, cs, gf, ts in rows:
        print(f"{name:<10} {th:>7} {cs:>12.2f} {gf:>8.1f} {ts:>12.2f} {cs / ts:>6.2f}")


if __name__ == "__main__":
    main()
