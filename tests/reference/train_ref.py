#!/usr/bin/python3
"""train_ref.py - the same training run as acrnn-train, with the PyTorch
reference module (acrnn_ref.py) and the numpy features (features_ref.py).

Subcommands (options named as acrnn-train's):
  folds  prints the fold of every clip (file,fold,label) as acrnn-train
         assigns them (--esc10, --split-by-source K, --random-folds K, --seed)
  train  trains on the training folds, validates on --val-fold each epoch
  cv     one model per held-out fold, then per-fold and mean +- std accuracy

What is the same as acrnn-train: the dataset layouts and the fold
assignment (a bit-exact port of its xoshiro256** generator and of
tr_assign_folds), the decoding (GStreamer to mono F32 at the feature rate),
the features (docs/features.md), the segments (128 frames, hop 64; a clip of
fewer frames gives one segment padded with silence frames; a clip of no
frame gives none), the normalisation (per channel mean and population
standard deviation over every band of every frame of the training clips),
the order of the segments of each epoch (the same seeded shuffle as the C
trainer: the batches hold the same segments), mixup (lambda ~ Beta(a, a)
per batch and a random pairing, from a port of the C generator), SGD with
Nesterov momentum and weight decay on every parameter, the step schedule,
the time stretch and pitch shift of --augment online (the same draws,
and the same Rubber Band pass: augment_ref.py), the N(0, init-std)
initialisation of the weights (biases 0, batch norm
gamma 1), dropout, and clip-level validation by the mean probability over
the clip's segments (these cover every frame: the whole segments, then one
of the clip's last 128 frames when frames follow them). What differs: the random numbers of the initial
weights, of dropout and the pairing stream (mixup's draws interleave with
dropout's in C), and float32 arithmetic order.

Decoded audio (raw F32) and features are cached under --cache (default
$XDG_CACHE_HOME/acrnn/torch-ref), keyed by the file's path, size and mtime.
"""
import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import features_ref  # noqa: E402

M64 = (1 << 64) - 1
LOG_FLOOR = np.float32(-23.025850929940457)  # ln(1e-10), a silence frame
# the extensions acrnn-train takes (training/dataset.c, media_exts)
AUDIO_EXTS = (".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a",
              ".aac", ".mp4", ".mka", ".mkv", ".webm", ".aif", ".aiff", ".aifc",
              ".au", ".snd", ".caf", ".w64", ".wma", ".spx", ".amr", ".ac3",
              ".mp2", ".mov", ".avi", ".3gp")


class DataError(Exception):
    """Bad input: a message the user can act on."""


# ---------------------------------------------------------------- generator
class Rng:
    """xoshiro256** seeded by splitmix64: libacrnn/train/rng.c, bit for bit."""

    def __init__(self, seed):
        x = seed & M64
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & M64

    def next(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform_double(self):
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)

    def uniform(self):
        """acrnn_rng_uniform: a float in [0, 1) from the top 24 bits."""
        return (self.next() >> 40) * (1.0 / 16777216.0)

    def below(self, n):
        """Uniform in [0, n): Lemire's multiply-shift with rejection."""
        m = (self.next() >> 32) * n
        low = m & 0xFFFFFFFF
        if low < n:
            threshold = ((1 << 32) - n) % n
            while low < threshold:
                m = (self.next() >> 32) * n
                low = m & 0xFFFFFFFF
        return m >> 32

    def normal(self):
        u1 = 1.0 - self.uniform_double()
        u2 = self.uniform_double()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def gamma(self, shape):
        if shape < 1.0:
            u = 1.0 - self.uniform_double()
            return self.gamma(shape + 1.0) * math.pow(u, 1.0 / shape)
        d = shape - 1.0 / 3.0
        c = 1.0 / math.sqrt(9.0 * d)
        while True:
            while True:
                x = self.normal()
                v = 1.0 + c * x
                if v > 0.0:
                    break
            v = v * v * v
            u = 1.0 - self.uniform_double()
            if math.log(u) < 0.5 * x * x + d - d * v + d * math.log(v):
                return d * v

    def beta(self, a, b):
        x = self.gamma(a)
        y = self.gamma(b)
        return x / (x + y) if x + y > 0.0 else 0.5

    def shuffle(self, idx):
        for i in range(len(idx), 1, -1):
            j = self.below(i)
            idx[i - 1], idx[j] = idx[j], idx[i - 1]


def derive_rng(seed, purpose, epoch):
    """The trainer's generator for one purpose and epoch (trainer.c)."""
    return Rng((seed & M64) ^ ((purpose * 0x9E3779B97F4A7C15) & M64)
               ^ ((((epoch + 1) & M64) * 0xD1B54A32D192ED03) & M64))


# ------------------------------------------------------------------ dataset
class Clip:
    def __init__(self, path, name, label, fold=0, source=None):
        self.path, self.name, self.label = path, name, label
        self.fold, self.source = fold, source


def assign_folds(clips, n_labels, k, seed, by_source):
    """tr_assign_folds: per class, groups (clips sharing a source, or single
    clips) in a seeded random order, then largest first (stable); each to
    the fold with the fewest clips of that class so far, ties to the fold
    with the fewest clips overall, then the lowest fold."""
    rng = Rng((seed & M64) ^ 0x5EEDF01D5)
    total = [0] * k
    for c in range(n_labels):
        keys, first, size = [], [], []
        for i, clip in enumerate(clips):
            if clip.label != c:
                continue
            if by_source and clip.source is not None and clip.source in keys:
                size[keys.index(clip.source)] += 1
                continue
            keys.append(clip.source if by_source else None)
            first.append(i)
            size.append(1)
        order = list(range(len(keys)))
        rng.shuffle(order)
        order.sort(key=lambda g: -size[g])  # stable: ties keep the shuffle
        count = [0] * k
        for g in order:
            key = keys[g]
            if key is not None:
                members = [i for i, cl in enumerate(clips)
                           if cl.label == c and cl.source == key]
            else:
                members = [first[g]]
            best = min(range(k), key=lambda f: (count[f], total[f], f))
            for i in members:
                clips[i].fold = best + 1
            count[best] += len(members)
            total[best] += len(members)


def _load_esc50(root, csv_path, esc10):
    with open(csv_path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    header = [h.strip() for h in lines[0].split(",")] if lines else []
    need_cols = ["filename", "fold", "target", "category"] + (["esc10"] if esc10 else [])
    if any(c not in header for c in need_cols):
        raise DataError(f"{csv_path}: expected a header with the columns "
                        f"{', '.join(need_cols)}")
    col = {c: header.index(c) for c in header[::-1]}  # first occurrence wins
    c_src = col.get("src_file", -1)
    need = max(col["filename"], col["fold"], col["target"], col["category"],
               col.get("esc10", -1), c_src)
    clips, names, max_target = [], {}, -1
    for li, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if not line:
            continue
        f = line.split(",")
        try:
            fold, target = int(f[col["fold"]]), int(f[col["target"]])
            ok = len(f) > need and 1 <= fold <= 1000 and 0 <= target <= 999
        except (ValueError, IndexError):
            ok = False
        if not ok:
            raise DataError(f"{csv_path} line {li}: expected {need + 1} comma-separated "
                            f"fields with a fold >= 1 and a target 0..999: \"{line}\"")
        if esc10 and f[col["esc10"]].lower() != "true":
            continue
        name = os.path.join("audio", f[col["filename"]])
        clips.append(Clip(os.path.join(root, name), name, target, fold,
                          f[c_src] if c_src >= 0 else None))
        names.setdefault(target, f[col["category"]])
        max_target = max(max_target, target)
    labels, mapping = [], {}
    for t in range(max_target + 1):
        if esc10 and t not in names:
            continue
        mapping[t] = len(labels)
        labels.append(names.get(t, f"class{t}"))
    for c in clips:
        c.label = mapping[c.label]
    return labels, clips


def _load_folders(root):
    classes = sorted(e for e in os.listdir(root)
                     if not e.startswith(".") and os.path.isdir(os.path.join(root, e)))
    labels, clips = [], []
    for cname in classes:
        cdir = os.path.join(root, cname)
        files = sorted(e for e in os.listdir(cdir)
                       if not e.startswith(".") and e.lower().endswith(AUDIO_EXTS)
                       and not os.path.isdir(os.path.join(cdir, e)))
        if not files:
            continue
        for fn in files:
            name = os.path.join(cname, fn)
            clips.append(Clip(os.path.join(root, name), name, len(labels)))
        labels.append(cname)
    if not clips:
        raise DataError(f"{root}: no audio files found: expected meta/esc50.csv with "
                        "audio/, or one folder per class holding sound files (.wav, "
                        ".flac, .ogg, .opus, .mp3, .m4a, ...)")
    return labels, clips


def load_dataset(data, esc10=False, split_by_source=0, random_folds=5, seed=1):
    """(root, labels, clips) with folds, as tr_dataset_load does."""
    if not os.path.isdir(data):
        raise DataError(f"--data {data}: not a directory")
    root = os.path.realpath(data)
    csv_path = os.path.join(root, "meta", "esc50.csv")
    if os.path.exists(csv_path):
        labels, clips = _load_esc50(root, csv_path, esc10)
        if split_by_source > 0:
            assign_folds(clips, len(labels), split_by_source, seed, True)
    elif esc10 or split_by_source > 0:
        raise DataError(f"{root}: --esc10 and --split-by-source need the ESC-50 layout "
                        f"({csv_path} not found)")
    else:
        if random_folds < 1:
            raise DataError(f"--random-folds {random_folds}: expected at least 1")
        labels, clips = _load_folders(root)
        assign_folds(clips, len(labels), random_folds, seed, False)
    if not clips:
        raise DataError(f"{root}: the dataset has no clips")
    return root, labels, clips


def parse_fold_list(s):
    folds = set()
    for t in s.split(","):
        t = t.strip()
        if not t:
            continue
        if not t.isdigit() or not 1 <= int(t) <= 1000:
            raise DataError(f"fold list \"{s}\": \"{t}\" is not a fold number (expected "
                            "positive integers separated by commas, e.g. 1,2,3)")
        folds.add(int(t))
    if not folds:
        raise DataError(f"fold list \"{s}\" is empty")
    return sorted(folds)


def training_folds(root, clips, folds_arg, val_fold):
    present = {c.fold for c in clips}
    n_folds = max(present)
    if val_fold < 0 or (val_fold > 0 and val_fold not in present):
        raise DataError(f"--val-fold {val_fold}: the dataset {root} has no clip in fold "
                        f"{val_fold} (its folds are 1..{n_folds})")
    if folds_arg:
        folds = parse_fold_list(folds_arg)
        for f in folds:
            if f == val_fold:
                raise DataError(f"fold {f} is both a training fold (--folds) and the "
                                "validation fold (--val-fold)")
            if f not in present:
                raise DataError(f"--folds {folds_arg}: the dataset {root} has no clip in "
                                f"fold {f} (its folds are 1..{n_folds})")
        return folds
    folds = [f for f in range(1, n_folds + 1) if f != val_fold and f in present]
    if not folds:
        raise DataError(f"{root}: no training fold is left besides the validation fold "
                        f"{val_fold} (use --split-by-source K or --random-folds K)")
    return folds


# ----------------------------------------------------------------- features
def default_cache():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "acrnn", "torch-ref")


def decode(path, sample_rate, out):
    """Decodes path with GStreamer into out (raw mono F32LE at sample_rate)."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: cannot decode: no such file")
    cmd = ["gst-launch-1.0", "-q", "filesrc", f"location={path}", "!", "decodebin", "!",
           "audioconvert", "!", "audioresample", "!",
           f"audio/x-raw,format=F32LE,channels=1,rate={sample_rate}", "!",
           "filesink", f"location={out}"]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except FileNotFoundError:
        raise DataError("gst-launch-1.0 not found: install gstreamer1.0-tools") from None
    if res.returncode != 0 or not os.path.exists(out):
        msg = (res.stderr or res.stdout).strip().splitlines()
        raise DataError(f"{path}: cannot decode: {msg[-1] if msg else 'gst-launch-1.0 failed'}")
    if os.path.getsize(out) < 4:
        raise DataError(f"{path}: cannot decode: no audio samples (an empty file or no "
                        "audio track)")


def clip_wave(path, fp, cache):
    """The decoded samples (float32) of one audio file, at the feature rate."""
    if cache:
        st = os.stat(path)
        key = hashlib.sha1(f"{os.path.realpath(path)}\0{st.st_size}\0{st.st_mtime_ns}"
                           f"\0{fp['sample_rate']}".encode()).hexdigest()
        raw = os.path.join(cache, key + ".raw")
        if not os.path.exists(raw):
            tmp = raw + f".{os.getpid()}.part"
            decode(path, fp["sample_rate"], tmp)
            os.replace(tmp, raw)
        return np.fromfile(raw, dtype="<f4")
    with tempfile.TemporaryDirectory() as work:
        raw = os.path.join(work, "a.raw")
        decode(path, fp["sample_rate"], raw)
        return np.fromfile(raw, dtype="<f4")


def wave_features(x, fp):
    """Feature frames of samples x (padded to one window when shorter)."""
    if len(x) < fp["n_fft"]:
        x = np.concatenate([x, np.zeros(fp["n_fft"] - len(x), np.float32)])
    return features_ref.features(x, fp["sample_rate"], fp["n_fft"], fp["hop"], fp["bands"],
                                 fp["fmin"], fp["fmax"],
                                 filterbank=fp["filterbank"]).astype(np.float32)


def augmented_features(waves, fp, a, epoch, threads):
    """This epoch's online copies of the training clips, as acrnn-train's
    tr_clips_begin_epoch: every clip's draws in order, then the copies."""
    import augment_ref
    rng = derive_rng(a.seed, 4, epoch)
    draws = [augment_ref.draw(rng, a.stretch_min, a.stretch_max, a.pitch_range)
             for _ in waves]

    def one(i):
        y = augment_ref.time_pitch(waves[i], fp["sample_rate"], *draws[i])
        return wave_features(y, fp)

    with ThreadPoolExecutor(max(1, threads)) as ex:
        return list(ex.map(one, range(len(waves))))


def clip_features(path, fp, cache):
    """Feature frames [T, 2*bands] (float32) of one audio file."""
    st = os.stat(path)
    key = hashlib.sha1(f"{os.path.realpath(path)}\0{st.st_size}\0{st.st_mtime_ns}"
                       f"\0{fp['sample_rate']}".encode()).hexdigest()
    params = "-".join(str(fp[k]) for k in ("n_fft", "hop", "bands", "fmin", "fmax",
                                           "filterbank"))
    fkey = hashlib.sha1(f"{key}\0{params}".encode()).hexdigest()
    if cache:
        fpath = os.path.join(cache, fkey + ".npy")
        if os.path.exists(fpath):
            return np.load(fpath)
        raw = os.path.join(cache, key + ".raw")
        if not os.path.exists(raw):
            tmp = raw + f".{os.getpid()}.part"
            decode(path, fp["sample_rate"], tmp)
            os.replace(tmp, raw)
        x = np.fromfile(raw, dtype="<f4")
    else:
        with tempfile.TemporaryDirectory() as work:
            raw = os.path.join(work, "a.raw")
            decode(path, fp["sample_rate"], raw)
            x = np.fromfile(raw, dtype="<f4")
    f = features_ref.features(x, fp["sample_rate"], fp["n_fft"], fp["hop"], fp["bands"],
                              fp["fmin"], fp["fmax"],
                              filterbank=fp["filterbank"]).astype(np.float32)
    if cache:
        tmp = os.path.join(cache, f"{fkey}.{os.getpid()}.part.npy")
        np.save(tmp, f)
        os.replace(tmp, fpath)
    return f


def all_features(clips, fp, cache, threads, quiet):
    if cache:
        os.makedirs(cache, exist_ok=True)
    done = [0]

    def one(c):
        f = clip_features(c.path, fp, cache)
        done[0] += 1
        if not quiet and sys.stderr.isatty():
            print(f"\rfeatures {done[0]}/{len(clips)}\033[K", end="", file=sys.stderr)
        return f

    with ThreadPoolExecutor(max(1, threads)) as ex:
        out = list(ex.map(one, clips))
    if not quiet and sys.stderr.isatty():
        print(file=sys.stderr)
    return out


def segment_count(n, sf, sh):
    """Whole segments (acrnn_segment_count): what training draws from."""
    if n == 0:
        return 0
    return 1 if n < sf else (n - sf) // sh + 1


def segment_count_covering(n, sf, sh):
    """Segments that classify a clip (acrnn_segment_count_covering): the
    whole ones, plus the clip's last sf frames when frames follow the last
    whole segment."""
    whole = segment_count(n, sf, sh)
    if whole and n > sf and (whole - 1) * sh + sf < n:
        return whole + 1
    return whole


def segment_first(n, sf, sh, s):
    """First frame of segment s (acrnn_segment_first_frame): s * sh, or
    n - sf for the segment aligned to the clip's end."""
    return n - sf if n >= sf and s * sh + sf > n else s * sh


def norm_stats(frames_list, bands):
    """Per channel mean and population std over every band of every frame."""
    s, q, cnt = np.zeros(2), np.zeros(2), 0
    for f in frames_list:
        v = f.astype(np.float64).reshape(-1, 2, bands)
        s += v.sum(axis=(0, 2))
        q += (v * v).sum(axis=(0, 2))
        cnt += f.shape[0] * bands
    mean, std = np.zeros(2, np.float32), np.ones(2, np.float32)
    for ch in range(2):
        m = s[ch] / cnt if cnt else 0.0
        var = q[ch] / cnt - m * m if cnt else 1.0
        mean[ch] = m
        std[ch] = math.sqrt(var) if var > 1e-12 else 1.0
    return mean, std


def extract(frames, bands, sf, sh, s, mean, std):
    """Segment s as a network input [2, bands, sf], normalised; missing
    frames are silence (acrnn_segment_extract)."""
    first = segment_first(frames.shape[0], sf, sh, s)
    seg = frames[first:first + sf]
    if seg.shape[0] < sf:
        pad = np.zeros((sf - seg.shape[0], 2 * bands), np.float32)
        pad[:, :bands] = LOG_FLOOR
        seg = np.concatenate([seg, pad])
    x = seg.reshape(sf, 2, bands).transpose(1, 2, 0)
    return (x - mean[:, None, None]) / std[:, None, None]


# ----------------------------------------------------------------- training
def init_weights(model, std):
    """As acrnn_net_init_random: weights N(0, std), biases 0, BN gamma 1."""
    import torch
    with torch.no_grad():
        for name, p in model.named_parameters():
            last = name.rsplit(".", 1)[-1]
            if name.startswith("bn."):
                p.fill_(1.0 if last == "weight" else 0.0)
            elif last.startswith("weight"):
                p.normal_(0.0, std)
            else:
                p.zero_()


def model_meta(labels, fp, sf, sh, attention, mean, std):
    return {"version": 1, "labels": list(labels), "sample_rate": fp["sample_rate"],
            "n_fft": fp["n_fft"], "hop": fp["hop"], "bands": fp["bands"],
            "fmin": float(fp["fmin"]), "fmax": float(fp["fmax"]), "delta_width": 9,
            "filterbank": fp["filterbank"],
            "segment_frames": sf, "segment_hop": sh, "attention": attention,
            "mean": [float(mean[0]), float(mean[1])], "std": [float(std[0]), float(std[1])]}


def clip_probabilities(model, f, bands, sf, sh, mean, std, batch, dev):
    """Mean probability of each class over the segments that classify the
    clip of frames f (tr_predict_clip); zeros for a clip without frames."""
    import torch
    n = segment_count_covering(f.shape[0], sf, sh)
    acc = np.zeros(model.classifier.out_features)
    with torch.no_grad():
        for s0 in range(0, n, batch):
            x = np.stack([extract(f, bands, sf, sh, s, mean, std)
                          for s in range(s0, min(n, s0 + batch))])
            p = torch.softmax(model(torch.from_numpy(x).to(dev)), 1).double().cpu().numpy()
            acc += p.sum(0)
    return acc / n if n else acc


def predict_clips(model, feats, bands, sf, sh, mean, std, batch, dev):
    """Class of each clip: the highest mean probability over its segments
    (class 0 for a clip without segments, as the C trainer)."""
    model.eval()
    return [int(np.argmax(clip_probabilities(model, f, bands, sf, sh, mean, std,
                                              batch, dev)))
            for f in feats]


def train_run(a, root, labels, clips, train_folds, val_fold, out, log, prefix=""):
    """One training run; returns (last val acc, best val acc, best epoch)."""
    import torch
    import acrnn_ref
    from acrnn_ref import save_model

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed & M64)
    fp = {"sample_rate": a.sample_rate, "n_fft": a.n_fft, "hop": a.hop, "bands": a.bands,
          "fmin": a.fmin, "fmax": a.fmax if a.fmax > 0 else a.sample_rate / 2.0,
          "filterbank": a.filterbank}
    B, S, H, C, bs = a.bands, a.segment_frames, a.segment_hop, len(labels), a.batch_size
    train = [c for c in clips if c.fold in train_folds]
    val = [c for c in clips if val_fold and c.fold == val_fold]
    if not train:
        raise DataError(f"no training clips: no clip of {root} is in the training folds")
    cache = None if a.no_cache else (a.cache or default_cache())
    feats = all_features(train + val, fp, cache, a.threads, a.quiet)
    tr_f, va_f = feats[:len(train)], feats[len(train):]
    mean, std = norm_stats(tr_f, B)

    dev = torch.device(a.device)
    model = acrnn_ref.ACRNN(C, a.attention, B, S)
    init_weights(model, a.init_std)
    model.to(dev)
    model.dropout.p = a.dropout
    model.gru.dropout = a.dropout
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum,
                          nesterov=not a.no_nesterov and a.momentum > 0,
                          weight_decay=a.weight_decay)
    mix_rng = derive_rng(a.seed, 2, -1)
    waves = None
    if a.augment == "online":
        waves = [clip_wave(c.path, fp, cache) for c in train]
    refs = [(i, s) for i, f in enumerate(tr_f)
            for s in range(segment_count(f.shape[0], S, H))]
    meta = model_meta(labels, fp, S, H, a.attention, mean, std)
    n_params = sum(p.numel() for p in model.parameters())
    if not a.quiet:
        print(f"{prefix}training on {len(train)} clips ({len(refs)} segments per epoch), "
              f"validating on {len(val)}; {C} classes; {n_params} parameters "
              "(PyTorch reference)", file=sys.stderr)
    if log:
        open(log, "w").close()
    best_acc, best_epoch, last_acc = -1.0, 0, -1.0
    start = time.monotonic()
    for epoch in range(a.epochs):
        t0 = time.monotonic()
        lr = a.lr * (a.lr_gamma ** (epoch // a.lr_step) if a.lr_step > 0 else 1.0)
        lr = float(np.float32(lr))
        for g in opt.param_groups:
            g["lr"] = lr
        ep_f = tr_f
        if waves is not None:  # this epoch's stretched and shifted copies
            ep_f = augmented_features(waves, fp, a, epoch, a.threads)
            refs = [(i, s) for i, f in enumerate(ep_f)
                    for s in range(segment_count(f.shape[0], S, H))]
        perm = list(range(len(refs)))
        derive_rng(a.seed, 1, epoch).shuffle(perm)
        model.train()
        loss_sum = correct = seen = 0.0
        for b0 in range(0, len(refs), bs):
            idx = perm[b0:b0 + bs]
            x = np.stack([extract(ep_f[refs[k][0]], B, S, H, refs[k][1], mean, std)
                          for k in idx])
            y = np.zeros((len(idx), C), np.float32)
            for j, k in enumerate(idx):
                y[j, train[refs[k][0]].label] = 1.0
            if a.mixup_alpha > 0:
                lam = np.float32(mix_rng.beta(a.mixup_alpha, a.mixup_alpha))
                pair = list(range(len(idx)))
                mix_rng.shuffle(pair)
                x = lam * x + (np.float32(1) - lam) * x[pair]
                y = lam * y + (np.float32(1) - lam) * y[pair]
            xt, yt = torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev)
            logits = model(xt)
            loss = -(yt * torch.log_softmax(logits, 1)).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == yt.argmax(1)).sum().item()
            seen += len(idx)
            if not a.quiet and sys.stderr.isatty():
                print(f"\r{prefix}epoch {epoch + 1}/{a.epochs} step {b0 // bs + 1}/"
                      f"{(len(refs) + bs - 1) // bs} loss {loss_sum / seen:.4f}\033[K",
                      end="", file=sys.stderr)
        val_acc = -1.0
        if val:
            preds = predict_clips(model, va_f, B, S, H, mean, std, bs, dev)
            val_acc = sum(p == c.label for p, c in zip(preds, val)) / len(val)
        rec = {"epoch": epoch + 1, "train_loss": loss_sum / max(seen, 1),
               "train_acc": correct / max(seen, 1),
               "val_acc": val_acc if val else None, "lr": lr,
               "time_s": round(time.monotonic() - t0, 3),
               "total_s": round(time.monotonic() - start, 3)}
        if not a.quiet:
            if sys.stderr.isatty():
                print("\r\033[K", end="", file=sys.stderr)
            vtxt = f"{val_acc:.4f}" if val else "-"
            print(f"{prefix}epoch {epoch + 1}/{a.epochs} train_loss {rec['train_loss']:.4f} "
                  f"train_acc {rec['train_acc']:.4f} val_acc {vtxt} lr {lr:g} "
                  f"time {rec['time_s']:.1f}s", flush=True)
        if log:
            with open(log, "a") as f:
                f.write(json.dumps(rec) + "\n")
        last_acc = val_acc
        if val and val_acc > best_acc:
            best_acc, best_epoch = val_acc, epoch + 1
            if out:
                save_model(out, model, meta)
    if out:
        if val:
            stem = out[:-len(".safetensors")] if out.endswith(".safetensors") else out
            save_model(stem + ".last.safetensors", model, meta)
        else:
            save_model(out, model, meta)
    return last_acc, best_acc, best_epoch


# ---------------------------------------------------------------------- CLI
def add_data_options(p):
    p.add_argument("--data", required=True, metavar="DIR",
                   help="ESC-50 layout (meta/esc50.csv + audio/) or one folder per class")
    p.add_argument("--esc10", action="store_true", help="only the ESC-10 clips")
    p.add_argument("--split-by-source", type=int, default=0, metavar="K",
                   help="K folds grouped by src_file, stratified by class, seeded by "
                        "--seed, as acrnn-train makes them (0: the CSV's folds)")
    p.add_argument("--random-folds", type=int, default=5, metavar="K",
                   help="folder layout: K stratified random folds (default: 5)")
    p.add_argument("--seed", type=int, default=1, help="seed (default: 1)")


def add_train_options(p):
    p.add_argument("--folds", metavar="LIST",
                   help="train: training folds (default: all but --val-fold); cv: the "
                        "folds held out in turn (default: all)")
    p.add_argument("--sample-rate", type=int, default=44100)
    p.add_argument("--n-fft", type=int, default=1024)
    p.add_argument("--hop", type=int, default=512)
    p.add_argument("--bands", type=int, default=128)
    p.add_argument("--fmin", type=float, default=50.0)
    p.add_argument("--filterbank", choices=("gammatone", "mel"), default="gammatone")
    p.add_argument("--fmax", type=float, default=0.0, help="0: sample-rate / 2")
    p.add_argument("--segment-frames", type=int, default=128)
    p.add_argument("--segment-hop", type=int, default=64)
    p.add_argument("--attention", default="rnn", help="rnn, none or cnn:N (default: rnn)")
    p.add_argument("--epochs", type=int, default=300, help="(default: 300)")
    p.add_argument("--batch-size", type=int, default=64, help="(default: 64)")
    p.add_argument("--lr", type=float, default=0.01, help="(default: 0.01)")
    p.add_argument("--momentum", type=float, default=0.9, help="(default: 0.9)")
    p.add_argument("--no-nesterov", action="store_true")
    p.add_argument("--weight-decay", type=float, default=1e-4, help="(default: 1e-4)")
    p.add_argument("--lr-step", type=int, default=100,
                   help="multiply the lr by --lr-gamma every N epochs (default: 100)")
    p.add_argument("--lr-gamma", type=float, default=0.1, help="(default: 0.1)")
    p.add_argument("--init-std", type=float, default=0.05, help="(default: 0.05)")
    p.add_argument("--dropout", type=float, default=0.5, help="(default: 0.5)")
    p.add_argument("--mixup-alpha", type=float, default=0.2,
                   help="Beta(A, A) mixup, 0: none (default: 0.2, as acrnn-train)")
    p.add_argument("--augment", choices=("none", "online"), default="none",
                   help="time stretch + pitch shift of every training clip each "
                   "epoch, as acrnn-train --augment online (default: none)")
    p.add_argument("--stretch-min", type=float, default=0.8, help="(default: 0.8)")
    p.add_argument("--stretch-max", type=float, default=1.3, help="(default: 1.3)")
    p.add_argument("--pitch-range", type=float, default=3.5,
                   help="semitones either way (default: 3.5)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads and parallel decoders (default: 1)")
    p.add_argument("--device", default="cpu",
                   help="torch device, e.g. cuda (default: cpu, as the C trainer)")
    p.add_argument("--cache", metavar="DIR", help=f"cache (default: {default_cache()})")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--quiet", action="store_true")


def check_options(a):
    bad = None
    if a.segment_frames < 18 or a.segment_hop < 1:
        bad = "--segment-frames must be at least 18 and --segment-hop at least 1"
    elif a.bands < 32 or a.bands % 32:
        bad = f"--bands {a.bands}: expected a multiple of 32"
    elif a.epochs < 1 or a.batch_size < 1 or a.threads < 1:
        bad = "--epochs, --batch-size and --threads must be at least 1"
    elif not (a.lr > 0 and 0 <= a.momentum < 1 and a.weight_decay >= 0 and a.init_std > 0):
        bad = "expected --lr > 0, --momentum in [0, 1), --weight-decay >= 0, --init-std > 0"
    elif not (0 <= a.dropout < 1 and a.mixup_alpha >= 0):
        bad = "expected --dropout in [0, 1) and --mixup-alpha >= 0"
    elif a.attention not in ("rnn", "none", "cnn:2", "cnn:4", "cnn:6", "cnn:8"):
        bad = f"--attention {a.attention}: expected rnn, none, cnn:2, cnn:4, cnn:6 or cnn:8"
    elif not (0 < a.stretch_min <= a.stretch_max and a.pitch_range >= 0):
        bad = "expected 0 < --stretch-min <= --stretch-max and --pitch-range >= 0"
    if bad:
        raise DataError(bad)


def cmd_folds(a):
    root, labels, clips = load_dataset(a.data, a.esc10, a.split_by_source, a.random_folds,
                                       a.seed)
    print("file,fold,label")
    for c in clips:
        print(f"{c.name},{c.fold},{labels[c.label]}")
    return 0


def cmd_train(a):
    check_options(a)
    root, labels, clips = load_dataset(a.data, a.esc10, a.split_by_source, a.random_folds,
                                       a.seed)
    folds = training_folds(root, clips, a.folds, a.val_fold)
    log = a.log
    if not log and a.out:
        stem = a.out[:-len(".safetensors")] if a.out.endswith(".safetensors") else a.out
        log = stem + ".log.jsonl"
    last, best, best_ep = train_run(a, root, labels, clips, folds, a.val_fold, a.out, log)
    if a.val_fold:
        n = sum(c.fold == a.val_fold for c in clips)
        print(f"held-out clip accuracy {last:.4f} (fold {a.val_fold}, {n} clips; best epoch "
              f"{best_ep}: {best:.4f})")
    return 0


def cmd_cv(a):
    check_options(a)
    root, labels, clips = load_dataset(a.data, a.esc10, a.split_by_source, a.random_folds,
                                       a.seed)
    present = sorted({c.fold for c in clips})
    holdout = parse_fold_list(a.folds) if a.folds else present
    for f in holdout:
        if f not in present:
            raise DataError(f"--folds {a.folds}: the dataset {root} has no clip in fold {f}")
    if len(present) < 2:
        raise DataError(f"{root} has only one fold: cross-validation needs at least two "
                        "(use --split-by-source K or --random-folds K)")
    os.makedirs(a.out_dir, exist_ok=True)
    rows = []
    for f in holdout:
        result = os.path.join(a.out_dir, f"fold-{f}.result.json")
        if a.resume and os.path.exists(result):  # finished by an earlier run
            with open(result) as fh:
                rows.append(json.load(fh))
            print(f"fold {f}: accuracy {rows[-1]['accuracy']:.4f} (done earlier)", flush=True)
            continue
        train = [g for g in present if g != f]
        n = sum(c.fold == f for c in clips)
        if not a.quiet:
            print(f"fold {f}: training on {len(train)} folds, {n} clips held out",
                  file=sys.stderr)
        out = os.path.join(a.out_dir, f"fold-{f}.safetensors")
        log = os.path.join(a.out_dir, f"fold-{f}.log.jsonl")
        t0 = time.monotonic()
        last, best, best_ep = train_run(a, root, labels, clips, train, f, out, log,
                                        prefix=f"fold {f}: ")
        print(f"fold {f}: accuracy {last:.4f} (best epoch {best_ep}: {best:.4f})", flush=True)
        rows.append({"fold": f, "clips": n, "accuracy": last, "best_accuracy": best,
                     "best_epoch": best_ep, "epochs": a.epochs,
                     "time_s": round(time.monotonic() - t0, 3)})
        with open(result + ".part", "w") as fh:  # as acrnn-train cv: one file a fold
            json.dump(rows[-1], fh)
        os.replace(result + ".part", result)

    def mean_std(v):
        m = sum(v) / len(v)
        s = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
        return m, s

    m, s = mean_std([r["accuracy"] for r in rows])
    bm, bsd = mean_std([r["best_accuracy"] for r in rows])
    print(f"\n{'fold':<8} {'clips':<8} {'accuracy':<10} {'best-epoch':<10}")
    for r in rows:
        print(f"{r['fold']:<8} {r['clips']:<8} {r['accuracy']:<10.4f} {r['best_accuracy']:<10.4f}")
    print(f"mean     {'':<8} {m:.4f} +- {s:.4f} (best-epoch {bm:.4f} +- {bsd:.4f}; std over "
          f"{len(rows)} folds)")
    summary = {"dataset": root, "implementation": "pytorch-reference", "folds": rows,
               "mean_accuracy": m, "std_accuracy": s, "mean_best_accuracy": bm,
               "std_best_accuracy": bsd,
               "options": {k: v for k, v in vars(a).items() if k != "func"}}
    path = os.path.join(a.out_dir, "cv-summary.json")
    with open(path, "w") as f:
        json.dump(summary, f, indent=2)
    if not a.quiet:
        print(f"summary: {path}")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Trains the PyTorch reference ACRNN (tests/reference/acrnn_ref.py) "
                    "with acrnn-train's recipe, data, folds and segment order, for a "
                    "side-by-side comparison with the C trainer.")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("folds", help="print each clip's fold (file,fold,label)")
    add_data_options(p)
    p.set_defaults(func=cmd_folds)
    p = sub.add_parser("train", help="train on the training folds, validate on --val-fold")
    add_data_options(p)
    add_train_options(p)
    p.add_argument("--val-fold", type=int, default=0, metavar="N",
                   help="held-out fold validated each epoch (0: none)")
    p.add_argument("--out", metavar="FILE",
                   help="model (docs/model-file.md): the best by validation accuracy (the "
                        "last without --val-fold); the last also as FILE.last.safetensors")
    p.add_argument("--log", metavar="FILE",
                   help="JSON-lines log of every epoch (default: --out with .log.jsonl)")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("cv", help="cross-validation: one model per held-out fold")
    add_data_options(p)
    add_train_options(p)
    p.add_argument("--out-dir", required=True, metavar="DIR",
                   help="fold-N.safetensors, fold-N.log.jsonl, fold-N.result.json and "
                   "cv-summary.json")
    p.add_argument("--continue", dest="resume", action="store_true",
                   help="report the folds that have a fold-N.result.json in DIR from it "
                   "and train only the others (a stopped fold starts again)")
    p.set_defaults(func=cmd_cv)
    a = ap.parse_args(argv)
    try:
        return a.func(a)
    except (DataError, OSError) as e:
        print(f"train_ref.py {a.command}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
