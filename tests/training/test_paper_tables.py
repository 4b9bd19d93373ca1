#!/usr/bin/env python3
"""test_paper_tables.py - training/experiments/paper_tables.sh: our rows
(ours-offline, ours-specaug, ours-smooth, ours-cosine, ours-ensemble) are
the main row plus each one's change (--print); on a tiny synthetic ESC-50
layout, a stopped CV row (ours-smooth) continues with cv --continue when
the same command runs again, and ours-ensemble trains its four models
(stopped and resumed with train --resume) and evaluates fold 5 with each
and with their ensemble.

acrnn-train is $ACRNN_TRAIN behind a wrapper that makes the network tiny
(8 kHz, 32 bands, 32-frame segments) and, while a STOP file exists, stops
each run after one step as Ctrl-C would."""
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import wave

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "training", "experiments", "paper_tables.sh")
RATE = 8000
CLASSES = ["tone", "noise", "click"]


def clip(c, k):
    rnd = random.Random(1000 * c + k)
    x = []
    for i in range(RATE):
        if c == 0:
            v = 0.5 * math.sin(2 * math.pi * (400 + 60 * k) * i / RATE)
        elif c == 1:
            v = rnd.uniform(-0.3, 0.3)
        else:
            v = 0.8 if i % (800 + 50 * k) < 20 else 0.0
        x.append(v)
    return x


def write_dataset(root, per_class=10, folds=5):
    """ESC-50 layout: 3 classes, pairs of takes per source (5 sources a
    class), so that --split-by-source 5 can make its folds."""
    os.makedirs(os.path.join(root, "meta"))
    os.makedirs(os.path.join(root, "audio"))
    rows = ["filename,fold,target,category,esc10,src_file,take"]
    for c, name in enumerate(CLASSES):
        for k in range(per_class):
            src = 100 * c + k // 2
            take = "AB"[k % 2]
            fname = "%d-%d-%s-%d.wav" % (k % folds + 1, src, take, c)
            with wave.open(os.path.join(root, "audio", fname), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(RATE)
                w.writeframes(b"".join(struct.pack("<h", int(v * 32767))
                                       for v in clip(c, k)))
            rows.append("%s,%d,%d,%s,True,%d,%s" % (fname, k % folds + 1, c,
                                                   name, src, take))
    with open(os.path.join(root, "meta", "esc50.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")


WRAPPER = """#!/bin/sh
# acrnn-train with a tiny network; one step per run while $STOP exists
cmd=$1
shift
case $cmd in
  train|cv)
    stop=
    [ -f "$STOP" ] && stop="--stop-after-steps 1"
    exec "$ACRNN_TRAIN" "$cmd" "$@" --sample-rate 8000 --n-fft 256 \\
      --hop 128 --bands 32 --segment-frames 32 --segment-hop 16 \\
      --batch-size 8 --no-cache --quiet $stop ;;
  export) exec "$ACRNN_TRAIN" "$cmd" "$@" ;;
  *) exec "$ACRNN_TRAIN" "$cmd" "$@" --no-cache ;;
esac
"""


def main():
    train = os.environ.get("ACRNN_TRAIN")
    if not train:
        print("test_paper_tables.py: set ACRNN_TRAIN to acrnn-train",
              file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="acrnn-paper-tables-")
    try:
        return run(tmp, train)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp, train):
    data, work, results = (os.path.join(tmp, d) for d in ("data", "work",
                                                          "results"))
    write_dataset(data)
    wrapper = os.path.join(tmp, "acrnn-train")
    with open(wrapper, "w") as f:
        f.write(WRAPPER)
    os.chmod(wrapper, 0o755)
    stop = os.path.join(tmp, "STOP")
    env = dict(os.environ, ACRNN_TRAIN=train, STOP=stop)

    def tables(*rows):
        cmd = [SCRIPT, "--dataset", "esc50", "--epochs", "3", "--data", data,
               "--work", work, "--results", results, "--train", wrapper,
               "--threads", "1", "--precision", "fp32"] + list(rows)
        p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=500)
        print("$ %s\n-> %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout,
                                     p.stderr))
        return p

    def row_dir(row):
        return os.path.join(results, row + "-esc50-e3-fp32")  # not bf16: named so

    # every row is the main row plus its change (--print runs nothing)
    p = tables("--print", "ours")
    assert p.returncode == 0 and not os.path.exists(work), "--print failed"
    lines = p.stdout.splitlines()
    assert len(lines) == 4 + 4 + 5, lines
    expect = [
        ["--augment offline", "--augment-copies 4"],
        ["--augment online", "--time-masks 2", "--time-mask-width 16",
         "--freq-masks 2", "--freq-mask-width 16"],
        ["--augment online", "--label-smoothing 0.1"],
        ["--augment online", "--lr-schedule cosine --lr-min 0"],
    ] + [["--augment online", "--folds %s --val-fold %d" % (
        ",".join(str(f) for f in range(1, 5) if f != k), k)]
         for k in range(1, 5)]
    for line, opts in zip(lines, expect):
        for o in opts + ["--attention rnn", "--mixup-alpha 0.2",
                         "--split-by-source 5 --seed 1", "--epochs 3"]:
            assert o in line, (o, line)
    for line in lines[8:]:
        assert " eval " in line and "--fold 5" in line, line
    assert lines[12].count("--model") == 4, lines[12]

    # a CV row stopped, then continued by the same command (which stops
    # again after one more step: finishing it is cv --continue's test)
    open(stop, "w").close()
    for attempt in range(2):
        p = tables("ours-smooth")
        assert p.returncode != 0, "the stopped row did not say so"
        assert "run the same command to continue" in p.stderr
    with open(os.path.join(work, "commands.log")) as f:
        runs = [l.rstrip() for l in f if "ours-smooth" in l]
    assert len(runs) == 2 and not runs[0].endswith("--continue"), runs
    assert runs[1].endswith("--continue"), runs
    assert "--label-smoothing 0.1" in runs[1], runs
    with open(os.path.join(work, "ours-smooth-esc50-e3-fp32.log")) as f:
        assert "fold 1: resuming from" in f.read()
    # the command to commit names the build's acrnn-train, not this machine's
    with open(os.path.join(row_dir("ours-smooth"), "command.txt")) as f:
        cmd = f.read()
    assert cmd.startswith("build/training/acrnn-train cv ") and wrapper not in cmd, cmd
    os.unlink(stop)

    # the ensemble row: stopped in its first model, resumed, then fold 5 by
    # each model and by the four together
    open(stop, "w").close()
    p = tables("ours-ensemble")
    assert p.returncode != 0 and "run the same command to continue" in p.stderr
    os.unlink(stop)
    p = tables("ours-ensemble")
    assert p.returncode == 0
    with open(os.path.join(work, "commands.log")) as f:
        inner1 = [l for l in f if "inner-1.safetensors" in l]
    assert len(inner1) == 2 and "--resume" in inner1[-1], inner1
    assert "--folds 2,3,4 --val-fold 1" in inner1[-1], inner1
    d = row_dir("ours-ensemble")
    with open(os.path.join(d, "ensemble-eval.json")) as f:
        ens = json.load(f)
    assert len(ens["ensemble"]) == 4 and ens["fold"] == 5, ens["ensemble"]
    assert ens["clips"] == 6, ens["clips"]
    for k in range(1, 5):
        with open(os.path.join(d, "inner-%d-eval.json" % k)) as f:
            one = json.load(f)
        assert one["fold"] == 5 and "ensemble" not in one
        assert one["model"].endswith("inner-%d.last.safetensors" % k)
    # an ensemble refuses the clips any of its models was trained on: fold
    # 1 is inner-1's validation fold but inner-2's training data
    work_d = os.path.join(work, "ours-ensemble-esc50-e3-fp32")
    p = subprocess.run(
        [wrapper, "eval", "--data", data, "--fold", "1",
         "--model", os.path.join(work_d, "inner-1.last.safetensors"),
         "--model", os.path.join(work_d, "inner-2.last.safetensors"),
         "--report", os.path.join(tmp, "refused")],
        env=env, capture_output=True, text=True, timeout=300)
    print(p.stderr)
    assert p.returncode == 1, p.returncode
    assert ("clips that the model %s was trained on" %
            os.path.join(work_d, "inner-2.last.safetensors")) in p.stderr
    assert "evaluate a fold that none of the models was trained on" in p.stderr
    assert not os.path.exists(os.path.join(tmp, "refused.json"))

    # a candidate for the bundled model: folds 1-4, then fold 5 by the last
    # epoch's model, exported as F16; the results hold both
    p = tables("--print", "bundle-t2-crnn")
    lines = p.stdout.splitlines()
    assert p.returncode == 0 and len(lines) == 3, lines
    assert "--folds 1,2,3,4 --val-fold 5" in lines[0] and "--augment none" in lines[0]
    assert " eval " in lines[1] and "--fold 5" in lines[1] and "model.last" in lines[1]
    assert " export " in lines[2] and "--dtype f16" in lines[2]
    p = tables("bundle-t2-crnn")
    assert p.returncode == 0
    d = row_dir("bundle-t2-crnn")
    with open(os.path.join(d, "heldout-eval.json")) as f:
        held = json.load(f)
    assert held["fold"] == 5 and held["clips"] == 6, held
    assert held["model"].endswith("model.last.safetensors"), held["model"]
    for f in ("model.f16.safetensors", "model.log.jsonl", "command.txt"):
        assert os.path.exists(os.path.join(d, f)), f
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
