"""test_reference.py - checks the PyTorch reference itself: the shapes and
state_dict() names of acrnn_ref.ACRNN (docs/network.md, docs/model-file.md)
and the pure-Python safetensors reader/writer (byte format, round trip,
load_model/save_model). Exits 77 (skip) when torch is not importable."""
import json
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
try:
    import torch
except ImportError:
    print("SKIP: torch is not importable by", sys.executable)
    sys.exit(77)

import acrnn_ref  # noqa: E402
import safetensors_io as st  # noqa: E402

torch.set_num_threads(1)


def expected_names(attention):
    names = []
    for i in range(8):
        names += [f"conv.{i}.weight", f"conv.{i}.bias"]
        names += [f"bn.{i}.{s}" for s in ("weight", "bias", "running_mean", "running_var",
                                          "num_batches_tracked")]
    if attention.startswith("cnn:"):
        names += ["cnn_attention.weight", "cnn_attention.bias"]
    for layer in (0, 1):
        for rev in ("", "_reverse"):
            names += [f"gru.{w}_l{layer}{rev}" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    if attention == "rnn":
        names += ["attention.mlp.weight", "attention.mlp.bias", "attention.score.weight"]
    return sorted(names + ["classifier.weight", "classifier.bias"])


def test_shapes():
    x = torch.randn(2, 2, 128, 128)
    for att, n_att in (("rnn", 7), ("none", None), ("cnn:2", 128), ("cnn:4", 42),
                       ("cnn:6", 42), ("cnn:8", 14)):
        m = acrnn_ref.ACRNN(5, att).eval()
        assert sorted(m.state_dict()) == expected_names(att), att
        sd = m.state_dict()
        assert sd["gru.weight_ih_l0"].shape == (768, 1024)
        assert sd["gru.weight_ih_l1_reverse"].shape == (768, 512)
        assert sd["conv.4.weight"].shape == (128, 64, 1, 5)
        assert m.features(x).shape == (2, 256, 4, 7), att
        with torch.no_grad():
            y = m(x)
        assert y.shape == (2, 5), att
        w = m.attention_weights
        assert (w is None) == (n_att is None), att
        if w is not None:
            assert w.shape == (2, n_att), (att, w.shape)
            assert torch.allclose(w.sum(1), torch.ones(2)), att
    # other segment sizes (the C network allows bands % 32 == 0, frames >= 18)
    m = acrnn_ref.ACRNN(3, "rnn", bands=32, frames=36).eval()
    assert m.gru.input_size == 256 and m(torch.randn(1, 2, 32, 36)).shape == (1, 3)
    print("ok shapes and state_dict names")


def test_safetensors_format(tmp):
    tensors = {
        "b": torch.arange(6, dtype=torch.float32).reshape(2, 3),
        "a.half": torch.tensor([1.5, -2.0], dtype=torch.float16),
        "a.bf16": torch.tensor([0.25, 3.0], dtype=torch.bfloat16),
        "count": torch.tensor(7, dtype=torch.int64),  # 0-dim, like num_batches_tracked
        "empty": torch.zeros(0, 4),
    }
    path = os.path.join(tmp, "t.safetensors")
    st.py_save_file(tensors, path, metadata={"acrnn": '{"x": 1}'})
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header not padded to a multiple of 8"
    header = json.loads(raw[8:8 + n])
    assert header["__metadata__"] == {"acrnn": '{"x": 1}'}
    assert header["b"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": header["b"]["data_offsets"]}
    assert header["count"]["shape"] == [] and header["count"]["dtype"] == "I64"
    begin, end = header["b"]["data_offsets"]
    assert struct.unpack("<6f", raw[8 + n + begin:8 + n + end]) == (0, 1, 2, 3, 4, 5)
    assert len(raw) == 8 + n + max(e["data_offsets"][1] for k, e in header.items() if k != "__metadata__")
    back = st.py_load_file(path)
    assert sorted(back) == sorted(tensors)
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype and torch.equal(back[k], v), k
    assert st.py_read_metadata(path) == {"acrnn": '{"x": 1}'}
    # a hand-made file with a tensor outside the data is refused
    bad = json.dumps({"t": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    bad += b" " * (-len(bad) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(bad)) + bad + b"\0" * 8)
    try:
        st.py_load_file(path)
        raise AssertionError("a truncated tensor was accepted")
    except ValueError:
        pass
    if st.HAVE_SAFETENSORS:  # the real package reads our files and we read its
        st.py_save_file(tensors, path)
        assert all(torch.equal(st.load_file(path)[k], v) for k, v in tensors.items())
        st.save_file({k: v for k, v in tensors.items() if k != "empty"}, path)
        assert torch.equal(st.py_load_file(path)["b"], tensors["b"])
    print("ok safetensors format (real package present: %s)" % st.HAVE_SAFETENSORS)


def test_model_round_trip(tmp):
    torch.manual_seed(0)
    m = acrnn_ref.ACRNN(4, "cnn:6").eval()
    meta = {"version": 1, "labels": ["a", "b", "c", "d"], "sample_rate": 44100, "n_fft": 1024,
            "hop": 512, "bands": 128, "fmin": 50, "fmax": 22050, "segment_frames": 128,
            "segment_hop": 64, "attention": "cnn:6", "mean": [0, 0], "std": [1, 1]}
    path = os.path.join(tmp, "m.safetensors")
    acrnn_ref.save_model(path, m, meta)
    m2, meta2 = acrnn_ref.load_model(path)
    assert meta2 == meta
    x = torch.randn(2, 2, 128, 128)
    with torch.no_grad():
        assert torch.equal(m(x), m2(x))
    # without num_batches_tracked (as a C-written file may be) strict still works
    sd = {k: v for k, v in st.load_file(path).items() if not k.endswith("num_batches_tracked")}
    st.save_file(sd, path, metadata={"acrnn": json.dumps(meta)})
    m3, _ = acrnn_ref.load_model(path)
    with torch.no_grad():
        assert torch.equal(m(x), m3(x))
    print("ok load_model/save_model round trip")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        test_shapes()
        test_safetensors_format(tmp)
        test_model_round_trip(tmp)


if __name__ == "__main__":
    main()
