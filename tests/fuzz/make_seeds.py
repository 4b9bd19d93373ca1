#!/usr/bin/python3
"""Writes the seed corpora of tests/fuzz/corpus/ (run from anywhere; the
files are committed, so this only documents and redoes them). Inputs that
once crashed a target live beside the seeds as crash-*; this script does
not touch them.

usage: make_seeds.py [BUNDLED_MODEL]"""
import json
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(os.path.dirname(here))
model = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    root, "models", "esc50-acrnn.safetensors")


def put(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safetensors(tensors, meta=None):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    header = {}
    if meta is not None:
        header["__metadata__"] = meta
    off = 0
    data = b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


with open(model, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = f.read(n)
acrnn_meta = json.loads(header)["__metadata__"]["acrnn"]

f32 = struct.pack("<4f", 1.0, -2.5, 1e-40, 3e38)
f16 = struct.pack("<4H", 0x3C00, 0x8001, 0x7BFF, 0x0400)
bf16 = struct.pack("<4H", 0x3F80, 0x0001, 0x7F7F, 0xC000)
small = [("a", "F32", [2, 2], f32), ("b", "F16", [4], f16),
         ("c", "BF16", [1, 4], bf16), ("d", "I64", [1], struct.pack("<q", 7)),
         ("e", "U8", [3], b"\x01\x02\x03")]

# model: the bundled model's header (data cut off), small files of every
# dtype with and without the acrnn metadata, broken framings
put("model", "bundled-header", struct.pack("<Q", n) + header + b"\0" * 64)
put("model", "small-dtypes", safetensors(small, {"acrnn": acrnn_meta}))
put("model", "small-no-meta", safetensors(small[:3]))
put("model", "empty-header", struct.pack("<Q", 8) + b"{}      ")
put("model", "scalar", safetensors([("s", "F32", [], struct.pack("<f", 2))]))
put("model", "short", b"\x10\0\0")
meta = json.loads(acrnn_meta)
for k, v in [("attention", "cnn:4"), ("filterbank", "mel"), ("bands", 64),
             ("labels", ["x"]), ("std", [0, 1]), ("version", 2)]:
    m = dict(meta, **{k: v})
    put("model", "meta-" + k, safetensors(small[:1],
                                          {"acrnn": json.dumps(m)}))

# checkpoint: the training state and stored options of a checkpoint
options = {"data": "/data/esc50", "esc10": False, "folds-csv": None,
           "split-by-source": 5, "random-folds": 5, "folds": None,
           "val-fold": 5, "sample-rate": 44100, "n-fft": 1024, "hop": 512,
           "bands": 128, "fmin": 50.0, "fmax": 0.0,
           "filterbank": "gammatone", "segment-frames": 128,
           "segment-hop": 64, "attention": "rnn", "epochs": 30,
           "batch-size": 64, "lr": 0.01, "momentum": 0.9,
           "no-nesterov": False, "weight-decay": 1e-4, "lr-step": 20,
           "lr-gamma": 0.1, "init-std": 0.05, "dropout": 0.5,
           "mixup-alpha": 0.2, "augment": "none", "augment-copies": 1,
           "stretch-min": 0.8, "stretch-max": 1.3, "pitch-range": 3.5,
           "seed": 1}
state = {"acrnn-train.epoch": "3", "acrnn-train.step": "17",
         "acrnn-train.rng": "0123456789abcdef" * 4,
         "acrnn-train.best_accuracy": "0x1.8p-1",
         "acrnn-train.best_epoch": "2", "acrnn-train.epoch_loss": "0x1p+3",
         "acrnn-train.epoch_correct": "0x1.4p+3",
         "acrnn-train.epoch_seen": "0x1p+5",
         "acrnn-train.epoch_elapsed": "0x1.2p+2",
         "acrnn-train.elapsed": "0x1.2p+6",
         "acrnn-train.options": json.dumps(options)}
vel = [("optimizer.velocity", "F32", [4], f32)]
put("checkpoint", "state", safetensors(vel, dict(state, acrnn=acrnn_meta)))
put("checkpoint", "state-mel", safetensors(vel, dict(state, **{
    "acrnn-train.options": json.dumps(dict(options, filterbank="mel",
                                           bands=64))})))
put("checkpoint", "state-bad", safetensors(vel, dict(state, **{
    "acrnn-train.epoch": "1e300", "acrnn-train.rng": "zz" * 32})))
put("checkpoint", "crash-huge-epoch", safetensors(vel, dict(state, **{
    "acrnn-train.epoch": "1e300", "acrnn-train.step": "-1e19"})))
put("checkpoint", "model-header",
    struct.pack("<Q", n) + header + b"\0" * 64)

# dataset: first byte = layout and options (see fuzz_dataset.c)
esc = (b"filename,fold,target,category,esc10,src_file,take\n"
       b"4-102844-A-49.flac,4,49,hand_saw,False,102844,A\n"
       b"1-100032-A-0.ogg,1,0,dog,True,100032,A\n"
       b"2-100038-A-14.wav,2,14,chirping_birds,False,100038,A\n"
       b"3-100038-B-14.wav,3,14,chirping_birds,False,100038,B\n")
put("dataset", "esc50", b"\x80" + esc)
put("dataset", "esc10", b"\x81" + esc)
put("dataset", "esc50-split", b"\x86" + esc)
tree = b"dog/a.wav\ndog/b.flac\ncat/c.ogg\ncat/d.mp3\nempty\nbird/e.WAV\n"
put("dataset", "folders-random", bytes([3 << 3]) + tree)
put("dataset", "folders-csv", b"\x00" + tree + b"\0file,fold\ndog/a.wav,1\n"
    b"b.flac,2\ncat/c.ogg,1\nd.mp3,2\n")

# features: parameter byte, then operations (fuzz_features.c)
def u32(v):
    return struct.pack(">I", v)
put("features", "defaults-tone", b"\x01" + (b"\x01" + u32(3000) + b"\x02") * 3
    + b"\x04" + u32(64) + b"\x06")
put("features", "small-mel", b"\x04" + u32(16000) + u32(6) + u32(32)
    + u32(12) + u32(7) + u32(50) + u32(7000)
    + b"\x01" + u32(250) + b"\x00" + b"\x7f\x80\x00\x00" * 4
    + b"\x02" + u32(200) + b"\x02")
put("features", "specials", b"\x01" + b"\x00" + u32(1500) + b"\x01"
    + bytes(range(15)) * 100)

# elements: operations of element_driver.c
def start():
    return b"\x00\x00\x00"


def segment():
    return b"\x02\x00\x00\x01\x00"


def buffer(count, kind=3):
    # whole frames, pattern data, pts = next, no dts, no duration, no flags
    return b"\x03\x01" + u32(count) + bytes([kind, 3, 1, 1, 0])


raw_caps = b"\x01\x00\x00\x01"
put("gammatonespec", "stream", b"\x00" + start() + raw_caps + segment()
    + buffer(600) * 4 + b"\x07" + u32(100) + b"\x01" + buffer(300) + b"\x0a")
put("gammatonespec", "flush", b"\x00" + start() + raw_caps + segment()
    + buffer(2000) + b"\x08\x01\x01" + segment() + buffer(2000) + b"\x0a")
put("gammatonespec", "nan", b"\x00" + start() + raw_caps + segment()
    + b"\x03\x00" + u32(64) + b"\x00" + b"\x7f\xc0\x00\x00" * 16
    + b"\x03\x01\x01\x00" + b"\x0a")
feat_caps = b"\x01\x00"
put("acrnnclassify", "segment", start() + feat_caps + segment()
    + buffer(128, 2) + buffer(64, 2) + b"\x0a")
put("acrnnclassify", "short", start() + feat_caps + segment()
    + buffer(20, 2) + b"\x0a")
put("acrnnclassify", "flush", start() + feat_caps + segment()
    + buffer(100, 2) + b"\x08\x01\x01" + segment() + buffer(128, 1) + b"\x0a")
# reverse playback without a stop: running times (a GStreamer critical)
put("acrnnclassify", "crash-reverse-segment", start() + feat_caps
    + b"\x02\x00\x04\x01\x00" + buffer(128, 2) + b"\x0a")
put("acrnnclassify", "other-bands", start() + b"\x01\x01" + u32(63)
    + segment() + buffer(30, 2) + b"\x0a")
