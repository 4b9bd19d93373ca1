#!/usr/bin/python3
"""A clip's probabilities from `acrnn-train eval` (the C library's
segments, tr_predict_clip) equal those of the PyTorch reference
(train_ref.clip_probabilities on the numpy features) for clips whose frames
do not end on a whole segment: both classify the whole segments and then
the clip's last segment_frames frames, so the end of a clip counts. Also a
clip shorter than one segment (padded) and one that ends exactly on a whole
segment. The clips end with a loud tone the rest lacks, so that leaving the
last frames out changes the probabilities (the test checks it does).

usage: test_clip_scoring.py ACRNN_TRAIN"""
import json
import math
import os
import random
import struct
import subprocess
import sys
import tempfile
import wave

import numpy as np

try:
    import torch
except ImportError:
    print("SKIP: python3-torch is not installed")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import acrnn_ref  # noqa: E402
import train_ref  # noqa: E402

LABELS = ["dog", "rain", "siren"]
SF, SH, BANDS = 32, 16, 32
FP = {"sample_rate": 44100, "n_fft": 1024, "hop": 512, "bands": BANDS, "fmin": 50.0,
      "fmax": 22050.0, "filterbank": "gammatone"}
MEAN, STD = [-8.0, 0.0], [6.0, 0.5]
failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    failures += not ok


def write_clip(path, samples, rnd, tone):
    """Quiet noise, then a loud tone over the last 0.1 s."""
    loud = samples - 4410
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(b"".join(
            struct.pack("<h", int(rnd.randint(-300, 300) + (
                12000 * math.sin(2 * math.pi * tone * i / 44100) if i >= loud else 0)))
            for i in range(samples)))


def frames_of(samples):
    return (samples - 1024) // 512 + 1 if samples >= 1024 else 0


def main():
    exe = sys.argv[1]
    rnd = random.Random(11)
    torch.manual_seed(3)
    model = acrnn_ref.ACRNN(len(LABELS), "rnn", BANDS, SF).eval()
    train_ref.init_weights(model, 0.1)  # outputs that depend on the input
    with tempfile.TemporaryDirectory() as work:
        mpath = os.path.join(work, "model.safetensors")
        acrnn_ref.save_model(mpath, model, train_ref.model_meta(
            LABELS, FP, SF, SH, "rnn", MEAN, STD))
        data = os.path.join(work, "data")
        # frames: 85 (4 whole segments to frame 80, then [53, 85)), 170
        # (9 whole to 160, then [138, 170)), 24 (one padded), 80 (exactly 4)
        lengths = {"dog": [44100, 88000], "rain": [13000], "siren": [41472]}
        for label, ns in lengths.items():
            os.makedirs(os.path.join(data, label))
            for k, n in enumerate(ns):
                write_clip(os.path.join(data, label, f"{k}.wav"), n, rnd,
                           500 + 700 * LABELS.index(label))
        report = os.path.join(work, "report")
        res = subprocess.run([exe, "eval", "--data", data, "--model", mpath,
                              "--random-folds", "2", "--no-cache", "--quiet",
                              "--report", report], capture_output=True, text=True)
        check(res.returncode == 0, "acrnn-train eval runs")
        if res.returncode != 0:
            print(res.stdout + res.stderr)
            return 1
        with open(report + ".json") as f:
            predictions = json.load(f)["predictions"]
        check(len(predictions) == 4, f"{len(predictions)} clips evaluated")
        mean, std = np.float32(MEAN), np.float32(STD)
        changed = 0
        for p in predictions:
            path = os.path.join(data, p["file"])
            if not os.path.exists(path):
                path = os.path.join(data, p["label"], os.path.basename(p["file"]))
            f = train_ref.clip_features(path, FP, None)
            n = f.shape[0]
            probs = train_ref.clip_probabilities(model, f, BANDS, SF, SH, mean, std, 8,
                                                 "cpu")
            got = p["confidence"]
            want = probs[LABELS.index(p["predicted"])]
            check(abs(got - want) < 1e-4 and abs(want - probs.max()) < 1e-4,
                  f"{p['file']} ({n} frames, "
                  f"{train_ref.segment_count_covering(n, SF, SH)} segments): "
                  f"C {p['predicted']} {got:.6f}, PyTorch {want:.6f}")
            whole = train_ref.segment_count(n, SF, SH)
            if whole != train_ref.segment_count_covering(n, SF, SH):
                x = torch.from_numpy(np.stack([train_ref.extract(f, BANDS, SF, SH, s, mean, std)
                                               for s in range(whole)]))
                with torch.no_grad():
                    old = torch.softmax(model(x), 1).double().mean(0).numpy()
                changed += abs(old[LABELS.index(p["predicted"])] - got) > 1e-3
        check(changed >= 2,
              f"the last segment changes the result of {changed} clips (of the 2 "
              "whose frames end after a whole segment)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
