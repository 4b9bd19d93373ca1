#!/usr/bin/python3
"""The PyTorch training reference (tests/reference/train_ref.py) runs the
same split as acrnn-train:

1. On a synthetic ESC-50 layout (shuffled rows, src_file groups of 1 to 3
   takes, a source shared by two classes, absent targets, ESC-10 rows),
   train_ref's folds equal the folds that `acrnn-train eval --report` lists
   for every clip, for --split-by-source K with several K and seeds
   (a negative one too), with --esc10, and for the CSV's own folds.
2. `train_ref.py train` runs 2 epochs end to end on 3 classes of 1 s clips,
   prints the epoch lines and the held-out accuracy, writes the JSON-lines
   log and a model that loads back with load_file (strict, into the
   reference module) and that acrnn-train (the C loader) evaluates.

usage: test_train_ref.py ACRNN_TRAIN"""
import json
import math
import os
import random
import struct
import subprocess
import sys
import tempfile
import wave

try:
    import torch
except ImportError:
    print("SKIP: python3-torch is not installed")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, "..", "reference")
sys.path.insert(0, REF)
import acrnn_ref  # noqa: E402
import train_ref  # noqa: E402
from safetensors_io import load_file  # noqa: E402

TRAIN_REF = os.path.join(REF, "train_ref.py")
failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    failures += not ok


def write_wav(path, seconds, rnd, tone):
    n = int(44100 * seconds)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * tone * i / 44100)
                                  + rnd.randint(-2000, 2000)))
            for i in range(n)))


def make_esc50(root, rows, seconds, rnd):
    """rows: (filename, fold, target, category, esc10, src, take)."""
    os.makedirs(os.path.join(root, "meta"))
    os.makedirs(os.path.join(root, "audio"))
    with open(os.path.join(root, "meta", "esc50.csv"), "w") as f:
        f.write("filename,fold,target,category,esc10,src_file,take\n")
        for r in rows:
            f.write(",".join(str(v) for v in r) + "\n")
            write_wav(os.path.join(root, "audio", r[0]), seconds, rnd, 200 + 150 * r[2])


def c_folds(exe, data, model, work, extra):
    report = os.path.join(work, "report")
    res = subprocess.run([exe, "eval", "--data", data, "--model", model, "--no-cache",
                          "--quiet", "--report", report] + extra,
                         capture_output=True, text=True)
    if res.returncode != 0:
        print(res.stdout + res.stderr)
        return None
    with open(report + ".json") as f:
        rep = json.load(f)
    return {p["file"]: p["fold"] for p in rep["predictions"]}


def test_folds(exe, work):
    rnd = random.Random(3)
    targets = [0, 1, 2, 4, 5, 7, 8, 9]  # 3 and 6 absent: "class3", "class6"
    esc10 = {1, 4, 7, 9}
    rows, src_id = [], 100000
    for t in targets:
        n = rnd.randint(7, 12)
        while n > 0:
            takes = min(n, rnd.choice([1, 1, 2, 3]))
            src_id += 1
            for k in range(takes):
                take = "ABC"[k]
                rows.append((f"{rnd.randint(1, 5)}-{src_id}-{take}-{t}.wav", rnd.randint(1, 5), t,
                             f"cat{t}", t in esc10, src_id, take))
            n -= takes
    # one source recording shared by two classes
    rows.append((f"2-{src_id}-B-0.wav", 2, 0, "cat0", False, src_id, "B"))
    rnd.shuffle(rows)
    data = os.path.join(work, "fold-data")
    make_esc50(data, rows, 0.03, rnd)

    _, labels, _ = train_ref.load_dataset(data)
    check(labels[3] == "class3" and labels[6] == "class6" and len(labels) == 10,
          f"ESC-50 labels with absent targets: {labels}")
    # a small random model with every label: eval only needs it to load
    model = acrnn_ref.ACRNN(len(labels), "none", 32, 32)
    fp = {"sample_rate": 44100, "n_fft": 1024, "hop": 512, "bands": 32, "fmin": 50.0,
          "fmax": 22050.0, "filterbank": "gammatone"}
    mpath = os.path.join(work, "fold-model.safetensors")
    acrnn_ref.save_model(mpath, model, train_ref.model_meta(labels, fp, 32, 16, "none",
                                                            [0, 0], [1, 1]))
    cases = [([], "CSV folds"),
             (["--split-by-source", "5", "--seed", "1"], "--split-by-source 5 --seed 1"),
             (["--split-by-source", "4", "--seed", "-5"], "--split-by-source 4 --seed -5"),
             (["--split-by-source", "3", "--seed", "424242", "--esc10"],
              "--split-by-source 3 --seed 424242 --esc10"),
             (["--split-by-source", "10", "--seed", "77"], "--split-by-source 10 --seed 77")]
    for extra, what in cases:
        want = c_folds(exe, data, mpath, work, extra)
        if want is None:
            check(False, f"acrnn-train eval {what}")
            continue
        opts = {"esc10": "--esc10" in extra}
        if "--split-by-source" in extra:
            opts["split_by_source"] = int(extra[extra.index("--split-by-source") + 1])
            opts["seed"] = int(extra[extra.index("--seed") + 1])
        _, _, clips = train_ref.load_dataset(data, **opts)
        got = {c.name: c.fold for c in clips}
        sizes = sorted({f for f in got.values()})
        check(got == want and len(got) > 0,
              f"folds of {len(got)} clips equal acrnn-train's ({what}; folds {sizes})")
        if "--seed" in extra:  # the comparison can fail: another seed differs
            opts["seed"] += 1
            _, _, clips = train_ref.load_dataset(data, **opts)
            check({c.name: c.fold for c in clips} != want, f"seed + 1 gives other folds ({what})")
    # the CLI prints the same
    res = subprocess.run([sys.executable, TRAIN_REF, "folds", "--data", data,
                          "--split-by-source", "5", "--seed", "1"], capture_output=True, text=True)
    _, _, clips = train_ref.load_dataset(data, split_by_source=5, seed=1)
    lines = res.stdout.splitlines()
    check(res.returncode == 0 and lines[0] == "file,fold,label" and
          lines[1:] == [f"{c.name},{c.fold},{labels[c.label]}" for c in clips],
          "train_ref.py folds prints file,fold,label of every clip")


def test_train(exe, work):
    rnd = random.Random(5)
    rows = []
    for t, cat in enumerate(["dog", "rain", "siren"]):
        for k in range(4):
            rows.append((f"1-{300 + 10 * t + k}-A-{t}.wav", 1, t, cat, t != 1,
                         300 + 10 * t + k, "A"))
    data = os.path.join(work, "train-data")
    make_esc50(data, rows, 1.0, rnd)
    out = os.path.join(work, "ref.safetensors")
    cmd = [sys.executable, TRAIN_REF, "train", "--data", data, "--split-by-source", "2",
           "--val-fold", "1", "--epochs", "2", "--lr-step", "1", "--seed", "3",
           "--cache", os.path.join(work, "cache"), "--out", out]
    res = subprocess.run(cmd, capture_output=True, text=True)
    print(res.stdout + res.stderr)
    check(res.returncode == 0, "train_ref.py train runs 2 epochs")
    ep = [ln for ln in res.stdout.splitlines() if ln.startswith("epoch ")]
    check(len(ep) == 2 and ep[1].startswith("epoch 2/2 train_loss ") and " lr 0.001 " in ep[1],
          "one line per epoch, the lr stepped")
    check("held-out clip accuracy " in res.stdout, "the held-out accuracy is printed")
    with open(os.path.join(work, "ref.log.jsonl")) as f:
        recs = [json.loads(ln) for ln in f if ln.strip()]
    check([r["epoch"] for r in recs] == [1, 2] and
          all(0 <= r["val_acc"] <= 1 and r["train_loss"] > 0 for r in recs),
          "JSON-lines log of both epochs")
    for path in (out, os.path.join(work, "ref.last.safetensors")):
        ok = os.path.exists(path)
        if ok:
            sd = load_file(path)
            model, meta = acrnn_ref.load_model(path)
            ok = (meta["labels"] == ["dog", "rain", "siren"] and meta["bands"] == 128 and
                  meta["std"][0] > 0 and all(torch.isfinite(v.float()).all() for v in sd.values())
                  and "classifier.weight" in sd)
        check(ok, f"{os.path.basename(path)} loads back (load_file, strict)")
    # the C loader takes it: acrnn-train evaluates the model
    report = os.path.join(work, "ref-eval")
    res = subprocess.run([exe, "eval", "--data", data, "--model", out, "--no-cache",
                          "--quiet", "--report", report], capture_output=True, text=True)
    check(res.returncode == 0 and os.path.exists(report + ".json"),
          "acrnn-train eval loads the PyTorch-trained model " + res.stderr.strip())
    # a bad option is refused with a message
    res = subprocess.run([sys.executable, TRAIN_REF, "train", "--data", data, "--val-fold", "9"],
                         capture_output=True, text=True)
    check(res.returncode != 0 and "--val-fold 9" in res.stderr, "a missing fold is refused")


def test_augment(exe, work):
    """augment_ref.py makes acrnn-train's copies: the same draws (the float
    generator of libacrnn) and the same samples from acrnn_time_pitch()."""
    import ctypes
    import numpy as np
    import augment_ref
    path = os.path.join(os.path.dirname(os.path.dirname(exe)), "libacrnn", "libacrnn.so.0")
    with open(path, "rb") as f:
        if b"libasan.so" in f.read():  # would abort a Python without the runtime
            print("skip: the augmentation check loads libacrnn, which is a sanitizer build")
            return
    lib = ctypes.CDLL(path)
    lib.acrnn_rng_uniform.restype = ctypes.c_float
    state = (ctypes.c_uint64 * 4)()
    same = True
    for seed in (1, 12345, 2 ** 63 + 7):
        lib.acrnn_rng_seed(state, ctypes.c_uint64(seed))
        ref = train_ref.Rng(seed)
        same &= all(float(lib.acrnn_rng_uniform(state)) == ref.uniform() for _ in range(200))
    check(same, "Rng.uniform draws acrnn_rng_uniform's floats")
    f, st = augment_ref.draw(train_ref.Rng(9), 0.8, 1.3, 3.5)
    check(0.8 <= f <= 1.3 and -3.5 <= st <= 3.5, f"a draw within the ranges ({f:.3f}, {st:+.2f})")
    lib.acrnn_time_pitch.restype = ctypes.POINTER(ctypes.c_float)
    lib.acrnn_time_pitch.argtypes = [ctypes.POINTER(ctypes.c_float), ctypes.c_size_t,
                                     ctypes.c_int, ctypes.c_double, ctypes.c_double,
                                     ctypes.POINTER(ctypes.c_size_t), ctypes.c_void_p]
    rnd = np.random.default_rng(4)
    x = (0.3 * np.sin(np.arange(30000) * 0.07) +
         0.05 * rnd.standard_normal(30000)).astype(np.float32)
    for factor, semis in ((1.17, 2.3), (0.8, -3.5)):
        m = ctypes.c_size_t()
        c = lib.acrnn_time_pitch(x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), len(x),
                                 44100, factor, semis, ctypes.byref(m), None)
        if not c:
            print("skip: this libacrnn has no Rubber Band")
            return
        want = np.ctypeslib.as_array(c, shape=(m.value,)).copy()
        try:
            got = augment_ref.time_pitch(x, 44100, factor, semis)
        except augment_ref.AugmentError as e:
            print(f"skip: {e}")
            return
        check(np.array_equal(want, got),
              f"time_pitch({factor}, {semis:+}) equals acrnn_time_pitch bit for bit")
    # a training run with online augmentation
    data = os.path.join(work, "train-data")
    cmd = [sys.executable, TRAIN_REF, "train", "--data", data, "--split-by-source", "2",
           "--val-fold", "1", "--epochs", "2", "--seed", "3", "--augment", "online",
           "--cache", os.path.join(work, "cache"), "--out",
           os.path.join(work, "aug.safetensors")]
    res = subprocess.run(cmd, capture_output=True, text=True)
    print(res.stdout + res.stderr)
    ep = [ln for ln in res.stdout.splitlines() if ln.startswith("epoch ")]
    check(res.returncode == 0 and len(ep) == 2, "train_ref.py train --augment online runs")


def test_cv_continue(work):
    """cv writes fold-N.result.json per fold; --continue reports those and
    trains only the folds without one."""
    data = os.path.join(work, "train-data")
    out = os.path.join(work, "cv")
    cmd = [sys.executable, TRAIN_REF, "cv", "--data", data, "--split-by-source", "2",
           "--epochs", "1", "--seed", "3", "--cache", os.path.join(work, "cache"),
           "--quiet", "--out-dir", out]
    res = subprocess.run(cmd, capture_output=True, text=True)
    results = [os.path.join(out, f"fold-{k}.result.json") for k in (1, 2)]
    check(res.returncode == 0 and all(os.path.exists(r) for r in results),
          "cv writes fold-1.result.json and fold-2.result.json " + res.stderr.strip())
    with open(results[0]) as f:
        first = json.load(f)
    check(first["fold"] == 1 and first["clips"] > 0 and first["time_s"] > 0,
          "a fold's result: fold, clips, accuracy, time")
    os.remove(results[1])
    res = subprocess.run(cmd + ["--continue"], capture_output=True, text=True)
    check(res.returncode == 0 and "fold 1: accuracy" in res.stdout and
          "(done earlier)" in res.stdout and os.path.exists(results[1]),
          "--continue reports fold 1 and trains fold 2 again")
    with open(os.path.join(out, "cv-summary.json")) as f:
        summary = json.load(f)
    check([r["fold"] for r in summary["folds"]] == [1, 2] and
          summary["folds"][0] == first, "the summary holds both folds")


def main():
    exe = sys.argv[1]
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as work:
        test_folds(exe, work)
        test_train(exe, work)
        test_augment(exe, work)
        test_cv_continue(work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
