#!/usr/bin/python3
"""Runs bench_network and bench_torch.py (the PyTorch reference module,
tests/reference/acrnn_ref.py) with 1 and 2 threads, both in the same run, and
prints a Markdown table of segments/s, GFLOP/s and the ratio acrnn / PyTorch,
headed by the machine, ready to quote in the README. With --repeats R
every figure is measured R times, acrnn and PyTorch one after the other in
each round; the ratio column is the median (and range) of the rounds'
ratios, which can differ from the ratio of the two medians when the host's
speed drifts.

usage: compare.py BENCH_NETWORK [--seconds S] [--threads 1,2]
                  [--precision fp32,bf16] [--repeats R] [--only FIGURE]
                  [--torch-malloc auto|tcmalloc|jemalloc|glibc]
       compare.py --print-torch-preload [--torch-malloc ...]

PyTorch allocates its activations and gradients anew at every step. With
glibc's malloc, blocks that large are mmap()ed and unmapped each time, and
the page faults of touching them again can cost more than the arithmetic
(on a virtual machine especially: 45 % of PyTorch's time went to the
kernel's page-fault path on an AMD EPYC Zen 5). PyTorch's own performance
guides preload tcmalloc or jemalloc; --torch-malloc does that for the
PyTorch process only (auto: tcmalloc when libtcmalloc_minimal.so.4 is
installed, Debian package libtcmalloc-minimal4), and the table's header
names the allocator used."""
import argparse
import ctypes
import os
import platform
import subprocess

here = os.path.dirname(os.path.abspath(__file__))
FIGURES = (("infer_b1", "inference, batch 1"),
           ("infer_b64", "inference, batch 64"),
           ("train_b64", "training step, batch 64"))


def run(cmd, env=None):
    """Runs a benchmark; returns its {figure: [values]} and '#' lines."""
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env=env).stdout
    res, notes = {}, []
    for line in out.splitlines():
        if line.startswith("#"):
            notes.append(line[1:].strip())
        elif line.strip():
            f = line.split()
            res[f[0]] = [float(v) for v in f[1:]]
    return res, notes


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def openblas_version(exe):
    """openblas_get_config() of the OpenBLAS that exe is linked with."""
    try:
        ldd = subprocess.run(["ldd", exe], capture_output=True, text=True).stdout
        path = next(l.split("=>")[1].split()[0] for l in ldd.splitlines()
                    if "openblas" in l and "=>" in l)
        lib = ctypes.CDLL(path)
        lib.openblas_get_config.restype = ctypes.c_char_p
        return lib.openblas_get_config().decode()
    except (OSError, StopIteration, IndexError, AttributeError):
        return "OpenBLAS (version unknown)"


def torch_version():
    out = subprocess.run(["/usr/bin/python3", "-c",
                          "import torch; print(torch.__version__)"],
                         capture_output=True, text=True).stdout.strip()
    return out or "unknown"


MALLOCS = {"tcmalloc": "libtcmalloc_minimal.so.4", "jemalloc": "libjemalloc.so.2"}


def torch_malloc(choice):
    """The allocator library to preload into PyTorch (None: glibc's malloc)
    and its name, for --torch-malloc choice."""
    names = ["tcmalloc", "jemalloc"] if choice == "auto" else [choice]
    for name in names:
        if name == "glibc":
            break
        lib = MALLOCS[name]
        for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                  "/usr/lib64", "/usr/lib"):
            path = os.path.join(d, lib)
            if os.path.exists(path):
                return path, name
        if choice != "auto":
            raise SystemExit(f"compare.py: --torch-malloc {name}: {lib} not "
                             f"found; install it or choose glibc")
    return None, "glibc malloc"


def torch_env(choice):
    """The environment for the PyTorch process and the allocator's name."""
    env = dict(os.environ)
    path, name = torch_malloc(choice)
    if path is None:
        return env, name
    pre = env.get("LD_PRELOAD")
    env["LD_PRELOAD"] = path + (" " + pre if pre else "")
    return env, f"{name} ({path})"


def spread(v):
    """'median (min-max)' of a list of figures."""
    v = sorted(v)
    med = v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2
    return f"{med:.1f}" if len(v) == 1 else f"{med:.1f} ({v[0]:.1f}-{v[-1]:.1f})"


def ratio_spread(v):
    """'median (min-max)' of the ratios of the runs paired in one round: the
    median ratio, not the ratio of the medians."""
    v = sorted(v)
    med = median(v)
    return f"{med:.2f}x" if len(v) == 1 else f"{med:.2f}x ({v[0]:.2f}-{v[-1]:.2f})"


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench_network", nargs="?")
    ap.add_argument("--seconds", default="3")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--precision", default="fp32",
                    help="comma-separated list of fp32, bf16: acrnn's "
                         "--precision and PyTorch's autocast (bf16)")
    ap.add_argument("--repeats", type=int, default=1,
                    help="interleaved runs of every figure; the table gives "
                         "the median and the range")
    ap.add_argument("--only", choices=[n for n, _ in FIGURES],
                    help="measure just this figure (both programs' --only)")
    ap.add_argument("--features", metavar="BENCH_FEATURES",
                    help="also compare feature extraction with the numpy "
                         "reference (tests/reference/features_ref.py)")
    ap.add_argument("--torch-malloc", default="auto",
                    choices=("auto", "tcmalloc", "jemalloc", "glibc"),
                    help="the allocator preloaded into the PyTorch process "
                         "(auto: tcmalloc, else jemalloc, else glibc)")
    ap.add_argument("--print-torch-preload", action="store_true",
                    help="print the path of the library --torch-malloc "
                         "preloads (nothing for glibc) and exit; "
                         "bench_pipeline.sh uses it")
    a = ap.parse_args()
    if a.print_torch_preload:
        print(torch_malloc(a.torch_malloc)[0] or "")
        return
    if a.bench_network is None:
        ap.error("the path of bench_network is required")
    tenv, tmalloc = torch_env(a.torch_malloc)
    threads = [int(t) for t in a.threads.split(",")]
    precisions = a.precision.split(",")
    figs = [f for f in FIGURES if not a.only or f[0] == a.only]
    only = ["--only", a.only] if a.only else []

    # figures[(precision, threads, name)] = lists of acrnn seg/s, GFLOP/s and
    # PyTorch seg/s, one entry per interleaved run
    figures, gflop = {}, None
    for _ in range(a.repeats):
        for prec in precisions:
            for th in threads:
                c, notes = run([a.bench_network, "--threads", str(th),
                                "--seconds", a.seconds, "--precision", prec]
                               + only)
                t, _ = run(["/usr/bin/python3",
                            os.path.join(here, "bench_torch.py"),
                            "--threads", str(th), "--seconds", a.seconds,
                            "--precision", prec] + only, tenv)
                for n in notes:
                    if "GFLOP per segment" in n:
                        gflop = float(n.split("GFLOP per segment")[0].split()[-1])
                for name, _what in figs:
                    f = figures.setdefault((prec, th, name), ([], [], []))
                    f[0].append(c[name][0])
                    f[1].append(c[name][1])
                    f[2].append(t[name][0])

    print(f"Machine: {cpu_model()}, {os.cpu_count()} logical CPUs "
          f"(shared; figures are noisy)  ")
    print(f"acrnn: {openblas_version(a.bench_network)}  ")
    print(f"PyTorch {torch_version()} (tests/reference/acrnn_ref.py), "
          f"/usr/bin/python3, {tmalloc}; "
          f"bf16 = torch.autocast(\"cpu\", bfloat16)  ")
    print(f"Segments of 2 x 128 x 128, 50 classes, rnn attention; "
          f"{gflop if gflop else '?'} GFLOP per segment forward, a training "
          f"step counted as 3 forwards; {a.seconds} s per figure, "
          f"{a.repeats} interleaved run(s): median (min-max).")
    print()
    print("| figure | precision | threads | acrnn seg/s | acrnn GFLOP/s | "
          "PyTorch seg/s | acrnn / PyTorch |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, what in figs:
        for prec in precisions:
            for th in threads:
                cs, gf, ts = figures[(prec, th, name)]
                ratios = [x / y for x, y in zip(cs, ts) if y > 0]
                print(f"| {what} | {prec} | {th} | {spread(cs)} | "
                      f"{median(gf):.1f} | {spread(ts)} | "
                      f"{ratio_spread(ratios)} |")
    if len(threads) > 1 and 1 in threads:
        print()
        print("| figure | precision | threads | acrnn N / 1 thread | "
              "PyTorch N / 1 thread |")
        print("|---|---|---:|---:|---:|")
        for name, what in figs:
            for prec in precisions:
                one = figures[(prec, 1, name)]
                for th in threads:
                    if th == 1:
                        continue
                    n = figures[(prec, th, name)]
                    cr = [x / y for x, y in zip(n[0], one[0])]
                    tr = [x / y for x, y in zip(n[2], one[2])]
                    print(f"| {what} | {prec} | {th} | {spread(cr)[:]} | "
                          f"{spread(tr)} |")
    if a.features:
        c = subprocess.run([a.features], check=True, capture_output=True,
                           text=True).stdout
        r = subprocess.run(["/usr/bin/python3",
                            os.path.join(here, "bench_features_ref.py")],
                           check=True, capture_output=True, text=True).stdout
        cf = max(float(line.split("real-time factor")[1].split("x")[0])
                 for line in c.splitlines()
                 if "real-time factor" in line and "gammatone" in line)
        rf = float(r.split("real-time factor")[1].split("x")[0])
        print()
        print("| feature extraction, 1 thread | acrnn (x real time) | "
              "numpy reference (x real time) | acrnn / numpy |")
        print("|---|---:|---:|---:|")
        print(f"| 60 s at 44.1 kHz | {cf:.0f}x | {rf:.0f}x | {cf / rf:.1f}x |")


if __name__ == "__main__":
    main()
