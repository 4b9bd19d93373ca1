"""safetensors_io.py - safetensors files for the reference code.

The same API as safetensors.torch (load_file, save_file) plus read_metadata.
When the real `safetensors` package is importable it is used; otherwise (as on
Debian 12, which does not package it) a small pure-Python implementation of
the same byte format: an 8-byte little-endian header length, a JSON header
(padded with spaces to a multiple of 8 bytes), then the raw little-endian data
of each tensor at its data_offsets.
"""
import json
import struct

import torch

DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
NAMES = {v: k for k, v in DTYPES.items()}


def _read_header(f, path):
    raw = f.read(8)
    if len(raw) != 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw)
    text = f.read(n)
    if len(text) != n:
        raise ValueError(f"{path}: header length {n} runs past the end")
    return json.loads(text.decode("utf-8")), 8 + n


def py_read_metadata(path):
    """The __metadata__ dict of a safetensors file ({} when absent)."""
    with open(path, "rb") as f:
        header, _ = _read_header(f, path)
    return dict(header.get("__metadata__") or {})


def py_load_file(path):
    """All tensors of a safetensors file, by name."""
    with open(path, "rb") as f:
        header, start = _read_header(f, path)
        data = f.read()
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        if not 0 <= begin <= end <= len(data):
            raise ValueError(f"{path}: tensor {name} lies outside the file")
        chunk = bytearray(data[begin:end])
        if chunk:
            t = torch.frombuffer(chunk, dtype=dtype)
        else:
            t = torch.empty(0, dtype=dtype)
        out[name] = t.reshape(entry["shape"])
    return out


def py_save_file(tensors, path, metadata=None):
    """Writes tensors (name -> Tensor) and string metadata to path."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes()
        header[name] = {
            "dtype": NAMES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


try:
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    def read_metadata(path):
        with safe_open(path, "pt") as f:
            return dict(f.metadata() or {})

    HAVE_SAFETENSORS = True
except ImportError:
    load_file, save_file, read_metadata = py_load_file, py_save_file, py_read_metadata
    HAVE_SAFETENSORS = False
