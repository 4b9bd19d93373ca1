#!/usr/bin/python3
"""bench_pipeline_torch.py - the PyTorch side of bench_pipeline.sh: a plain
Python loop doing the work of the GStreamer pipeline (read the WAV file,
log-gammatone features with the numpy reference tests/reference/
features_ref.py, every segment through the PyTorch reference module
tests/reference/acrnn_ref.py in batches, mean probability over the file).

usage:
  bench_pipeline_torch.py make-model PATH [--classes 50] [--bands 128]
      writes a random full-size model (safetensors, docs/model-file.md)
  bench_pipeline_torch.py run MODEL FILE.wav [--threads N] [--batch 16]
      prints: audio_seconds=... wall_seconds=... segments=... label=...
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
from scipy.io import wavfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "reference"))
import acrnn_ref  # noqa: E402
import features_ref  # noqa: E402


def make_model(a):
    """Random weights N(0, 0.05) (the paper's init), batch norm statistics
    near those of real features, normalisation of typical Log-GTs."""
    torch.manual_seed(a.seed)
    model = acrnn_ref.ACRNN(a.classes, "rnn", a.bands, 128)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("bn.") and name.endswith(".weight"):
                p.uniform_(0.5, 1.5)
            else:
                p.normal_(0.0, 0.05)
        for bn in model.bn:
            bn.running_mean.normal_(0.0, 0.1)
            bn.running_var.uniform_(0.5, 2.0)
    meta = {"version": 1, "labels": [f"class{i:02d}" for i in range(a.classes)],
            "sample_rate": 44100, "n_fft": 1024, "hop": 512, "bands": a.bands,
            "fmin": 50, "fmax": 22050, "segment_frames": 128, "segment_hop": 64,
            "attention": "rnn", "mean": [-8.0, 0.0], "std": [4.0, 0.3]}
    acrnn_ref.save_model(a.path, model.eval(), meta)


def log_energies(x, meta, chunk_frames=4096):
    """L_t(i) for every frame of x, a chunk of frames at a time (the frames
    are independent; only the delta needs its neighbours)."""
    n_fft, hop, bands = meta["n_fft"], meta["hop"], meta["bands"]
    weights = features_ref.gammatone_power_weights(
        meta["sample_rate"], n_fft, bands, meta["fmin"], meta["fmax"])
    n_frames = (len(x) - n_fft) // hop + 1
    logs = np.empty((n_frames, bands))
    for f0 in range(0, n_frames, chunk_frames):
        f1 = min(n_frames, f0 + chunk_frames)
        power = features_ref.power_spectra(x[f0 * hop:(f1 - 1) * hop + n_fft],
                                           n_fft, hop)
        logs[f0:f1] = np.log(np.maximum(power @ weights.T,
                                        features_ref.LOG_FLOOR_ENERGY))
    return logs


def run(a):
    torch.set_num_threads(a.threads)
    model, meta = acrnn_ref.load_model(a.model)
    t0 = time.perf_counter()
    rate, pcm = wavfile.read(a.file)
    if rate != meta["sample_rate"]:
        sys.exit(f"{a.file}: {rate} Hz, expected {meta['sample_rate']} Hz")
    if pcm.ndim > 1:
        pcm = pcm.mean(axis=1)
    x = pcm.astype(np.float64) / 32768.0
    logs = log_energies(x, meta)
    feats = np.concatenate([logs, features_ref.regression_delta(logs, 9)],
                           axis=1).astype(np.float32)  # [T, 2B]
    bands, seg, seg_hop = meta["bands"], meta["segment_frames"], meta["segment_hop"]
    mean = np.repeat(np.asarray(meta["mean"], np.float32), bands)
    std = np.repeat(np.asarray(meta["std"], np.float32), bands)
    feats = (feats - mean) / std
    # the whole segments, then the last seg frames (acrnn_segment_count_covering)
    starts = list(range(0, len(feats) - seg + 1, seg_hop))
    if starts and starts[-1] + seg < len(feats):
        starts.append(len(feats) - seg)
    n_seg = len(starts)
    prob_sum = torch.zeros(len(meta["labels"]), dtype=torch.float64)
    with torch.no_grad():
        for s0 in range(0, n_seg, a.batch):
            s1 = min(n_seg, s0 + a.batch)
            batch = np.stack([feats[starts[s]:starts[s] + seg]
                              for s in range(s0, s1)])  # [b, S, 2B]
            # -> [b, 2, B, S]: channel 0 the logs, 1 the deltas
            xb = torch.from_numpy(batch.reshape(s1 - s0, seg, 2, bands)
                                  .transpose(0, 2, 3, 1).copy())
            prob_sum += torch.softmax(model(xb), 1).sum(0).double()
    wall = time.perf_counter() - t0
    best = int(prob_sum.argmax())
    print(f"audio_seconds={len(x) / rate:.3f} wall_seconds={wall:.3f} "
          f"segments={n_seg} label={meta['labels'][best]} "
          f"confidence={float(prob_sum[best]) / n_seg:.4f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make-model")
    m.add_argument("path")
    m.add_argument("--classes", type=int, default=50)
    m.add_argument("--bands", type=int, default=128)
    m.add_argument("--seed", type=int, default=1)
    r = sub.add_parser("run")
    r.add_argument("model")
    r.add_argument("file")
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--batch", type=int, default=16)
    a = ap.parse_args()
    make_model(a) if a.cmd == "make-model" else run(a)


if __name__ == "__main__":
    main()
