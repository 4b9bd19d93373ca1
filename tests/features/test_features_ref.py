"""test_features_ref.py - compares the C features (through the dump_features
helper) with the independent numpy reference of docs/features.md
(tests/reference/features_ref.py) on a sine sweep, a noise burst, silence,
non-default parameters and a real clip (a bundled sample, else one of
../shared/esc50), for the gammatone and the mel filterbank.

    /usr/bin/python3 test_features_ref.py PATH/TO/dump_features
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.environ.get("ACRNN_SOURCE_ROOT",
                      os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
import features_ref  # noqa: E402

# Float32 FFT and band sums against a float64 reference: the log values agree
# to LOG_RTOL relative (|diff| <= LOG_RTOL * max(1, |L|)) in every band whose
# energy is within DYNAMIC_RANGE_DB of the frame's strongest band. Bands far
# below it hold only window leakage, where the float32 FFT's rounding noise
# (about 1e-7 of the frame's amplitude) is a visible part of the energy; there
# the tolerance is the log of a power error of FAR_LOG_ATOL.
# A mel band has no skirts: it sums only its own bins, so its rounding noise
# is set by the frame's strongest bin, which may lie outside every band.
# There a band is near when its energy is within MEL_RANGE_DB of what the
# band would hold with all its bins at the frame's peak power.
LOG_RTOL = 1e-4
DYNAMIC_RANGE_DB = 60.0
MEL_RANGE_DB = 40.0
FAR_LOG_ATOL = 5e-2
# Deltas are differences of logs over 60: their error follows the logs'.
DELTA_ATOL = 2e-4


def run_c(helper, x, tmp, params=None):
    inp = os.path.join(tmp, "in.f32")
    out = os.path.join(tmp, "out.f32")
    np.asarray(x, dtype=np.float32).tofile(inp)
    args = [helper, inp, out]
    if params:
        args += [str(params[k]) for k in
                 ("sr", "n_fft", "hop", "bands", "fmin", "fmax")]
        if "filterbank" in params:
            args.append(params["filterbank"])
    res = subprocess.run(args, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("dump_features failed: " + res.stderr)
    bands = params["bands"] if params else 128
    return np.fromfile(out, dtype=np.float32).reshape(-1, 2 * bands)


def near_bands(x, logs, kw):
    """Mask [T, bands] of the bands whose values are held to LOG_RTOL."""
    if kw.get("filterbank", "gammatone") == "gammatone":
        top = logs.max(axis=1, keepdims=True)
        return logs >= top - DYNAMIC_RANGE_DB * np.log(10) / 10
    sr, n_fft = kw["sr"], kw["n_fft"]
    power = features_ref.power_spectra(x, n_fft, kw["hop"])
    weights = features_ref.mel_power_weights(sr, n_fft, kw["bands"],
                                             kw["fmin"], kw["fmax"])
    full = power.max(axis=1, keepdims=True) * weights.sum(axis=1)
    floor = np.log(np.maximum(full, features_ref.LOG_FLOOR_ENERGY))
    return logs >= floor - MEL_RANGE_DB * np.log(10) / 10


def compare(name, helper, x, tmp, params=None):
    x = np.asarray(x, dtype=np.float32)
    kw = {}
    if params:
        kw = dict(sr=params["sr"], n_fft=params["n_fft"], hop=params["hop"],
                  bands=params["bands"], fmin=params["fmin"],
                  fmax=params["fmax"],
                  filterbank=params.get("filterbank", "gammatone"))
    ref = features_ref.features(x.astype(np.float64), **kw)
    got = run_c(helper, x, tmp, params).astype(np.float64)
    if got.shape != ref.shape:
        print(f"FAIL {name}: C gives {got.shape[0]} frames, reference "
              f"{ref.shape[0]}")
        return False
    bands = ref.shape[1] // 2
    lr, lg = ref[:, :bands], got[:, :bands]
    dr, dg = ref[:, bands:], got[:, bands:]
    near = near_bands(x, lr, kw)
    rel = np.abs(lg - lr) / np.maximum(1.0, np.abs(lr))
    near_err = rel[near].max() if near.any() else 0.0
    far_err = np.abs(lg - lr)[~near].max() if (~near).any() else 0.0
    # deltas of frames whose whole context is near the frame's top bands
    d_err = np.abs(dg - dr)
    d_err_near = d_err[near].max() if near.any() else 0.0
    ok = (near_err <= LOG_RTOL and far_err <= FAR_LOG_ATOL
          and d_err_near <= DELTA_ATOL and np.abs(d_err).max() <= FAR_LOG_ATOL)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {ref.shape[0]} frames, "
          f"log rel err {near_err:.2e} (near bands), log abs err "
          f"{far_err:.2e} (far bands), delta abs err {d_err_near:.2e} "
          f"(near) {np.abs(d_err).max():.2e} (all)")
    return ok


def decode(path, tmp):
    gst = shutil.which("gst-launch-1.0")
    if gst is None:
        return None
    out = os.path.join(tmp, "clip.f32")
    res = subprocess.run(
        [gst, "-q", "filesrc", f"location={path}", "!", "decodebin", "!",
         "audioconvert", "!", "audioresample", "!",
         "audio/x-raw,format=F32LE,channels=1,rate=44100", "!", "filesink",
         f"location={out}"], capture_output=True, text=True)
    if res.returncode != 0:
        print("gst-launch-1.0 failed: " + res.stderr)
        return None
    return np.fromfile(out, dtype=np.float32)


def main():
    helper = sys.argv[1]
    sr = 44100
    rng = np.random.default_rng(1234)
    t = np.arange(2 * sr) / sr
    f0, f1 = 50.0, 20000.0
    k = np.log(f1 / f0) / t[-1]
    sweep = 0.5 * np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)
    burst = np.zeros(int(1.5 * sr))
    burst[sr // 2: sr] = rng.uniform(-0.8, 0.8, sr // 2)
    silence = np.zeros(sr)
    quiet = 1e-6 * rng.standard_normal(sr)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        ok &= compare("sine sweep 50 Hz - 20 kHz", helper, sweep, tmp)
        ok &= compare("noise burst", helper, burst, tmp)
        ok &= compare("silence", helper, silence, tmp)
        ok &= compare("very quiet noise", helper, quiet, tmp)
        small = dict(sr=16000, n_fft=512, hop=160, bands=40, fmin=100.0,
                     fmax=7000.0)
        ok &= compare("sweep, 16 kHz, N 512, H 160, 40 bands 100-7000 Hz",
                      helper, sweep[: sr], tmp, small)
        mel = dict(sr=sr, n_fft=1024, hop=512, bands=128, fmin=50.0,
                   fmax=sr / 2.0, filterbank="mel")
        ok &= compare("mel: sine sweep 50 Hz - 20 kHz", helper, sweep, tmp,
                      mel)
        ok &= compare("mel: noise burst", helper, burst, tmp, mel)
        ok &= compare("mel: silence", helper, silence, tmp, mel)
        ok &= compare("mel: sweep, 16 kHz, N 512, H 160, 40 bands "
                      "100-7000 Hz", helper, sweep[: sr], tmp,
                      dict(small, filterbank="mel"))
        # a real clip: the repository's own samples (ESC-50), else the
        # shared dataset
        shared = os.path.join(ROOT, "..", "shared", "esc50", "audio")
        clips = sorted(glob.glob(os.path.join(ROOT, "samples", "*.flac")))
        clips = clips or sorted(glob.glob(os.path.join(shared, "*.flac")))
        if not clips:
            print(f"skip real clip: no samples/*.flac nor {shared}/*.flac")
        else:
            x = decode(clips[0], tmp)
            if x is None:
                print("skip real clip: cannot decode it with gst-launch-1.0")
            else:
                name = os.path.basename(clips[0])
                ok &= compare("real clip " + name, helper, x, tmp)
                ok &= compare("mel: real clip " + name, helper, x, tmp, mel)
    print("features match the reference" if ok else "features differ")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
