#!/usr/bin/python3
"""Times the numpy reference of the features (tests/reference/features_ref.py,
float64, vectorised over frames) on the same 60 s signal shape as
bench_features, and prints its real-time factor.

usage: bench_features_ref.py [--seconds-of-audio S]"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "reference"))
from features_ref import features  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds-of-audio", type=float, default=60.0)
    a = ap.parse_args()
    sr = 44100
    n = int(a.seconds_of_audio * sr)
    rng = np.random.default_rng(1)
    t = np.arange(n) / sr
    x = (0.3 * np.sin(2 * np.pi * (100 + 2000 * t / a.seconds_of_audio) * t)
         + 0.05 * rng.standard_normal(n)).astype(np.float32)
    features(x[:sr])  # warm-up
    t0 = time.perf_counter()
    features(x)
    dt = time.perf_counter() - t0
    print(f"numpy reference: {a.seconds_of_audio:.1f} s of audio in {dt:.4f} s: "
          f"real-time factor {a.seconds_of_audio / dt:.0f}x")


if __name__ == "__main__":
    main()
