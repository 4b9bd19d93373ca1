"""test_parity.py - the C network equals its PyTorch reference.

    test_parity.py PARITY_DUMP VARIANT     VARIANT: rnn, none, cnn:N, roundtrip

For an attention variant: a PyTorch model with random weights, biases, batch
norm parameters and running statistics is saved as an acrnn model file; the C
network (parity_dump) loads it and runs the same inputs. Compared:
  - inference logits (max abs diff < 1e-4) and attention weights;
  - a training forward with dropout 0: loss (relative < 1e-4), the running
    statistics it updates (relative < 1e-4) and every parameter gradient
    (||g_c - g_t|| / ||g_t|| < 1e-3).
Gradients of a ReLU/max-pool network jump where a ReLU input crosses 0 or two
max-pool candidates swap; float32 rounding (any two implementations, even
PyTorch float32 against float64) flips such a decision in about a third of
random full-size (128 x 128, batch 3) draws, moving the conv/bn gradients by
up to 3e-2. So the strict gradient check runs on a small net (32 bands x 36
frames, batch 2) whose input is screened so that every decision margin is at
least 4 times the float32 error measured there, and the full-size check
holds the gradients past the last kink (GRU, attention, classifier) to 1e-3
and the others to 0.2 (measured: up to 3e-2; a wiring error gives O(1)). Conv biases
before a batch norm and the cnn attention bias have zero gradient in exact
arithmetic: they are compared against 1e-3 of their weight's gradient norm.

roundtrip: a model written by the C code (acrnn_model_save) loads into the
PyTorch module with load_state_dict(strict=True) and gives the same logits;
PyTorch models stored as F16 and BF16 run in C with the same logits.
Exits 77 (skip) when torch is not importable.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
try:
    import torch
except ImportError:
    print("SKIP: torch is not importable by", sys.executable)
    sys.exit(77)

import acrnn_ref  # noqa: E402
import numpy  # noqa: E402
from safetensors_io import load_file, save_file  # noqa: E402

torch.set_num_threads(1)
N_CLASSES = 5
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def meta_for(attention, bands, frames):
    return {"version": 1, "labels": [f"class{i}" for i in range(N_CLASSES)],
            "sample_rate": 44100, "n_fft": 1024, "hop": 512, "bands": bands, "fmin": 50,
            "fmax": 22050, "segment_frames": frames, "segment_hop": frames // 2,
            "attention": attention, "mean": [0, 0], "std": [1, 1]}


def no_dropout(model):
    model.dropout.p = 0.0
    model.gru.dropout = 0.0
    return model


def make_model(attention, bands, frames, seed):
    """Random weights N(0, 0.05) (biases too), gamma U(0.5, 1.5), and
    realistic running statistics: one batch's statistics, perturbed."""
    torch.manual_seed(seed)
    m = acrnn_ref.ACRNN(N_CLASSES, attention, bands, frames)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.startswith("bn.") and name.endswith(".weight"):
                p.uniform_(0.5, 1.5)
            else:
                p.normal_(0, 0.05)
        for bn in m.bn:
            bn.momentum = 1.0
        no_dropout(m).train()(torch.randn(2, 2, bands, frames))
        for bn in m.bn:
            bn.momentum = 0.1
            bn.num_batches_tracked.zero_()
            bn.running_var.mul_(torch.empty_like(bn.running_var).uniform_(0.8, 1.25))
            bn.running_mean.add_(0.05 * torch.randn_like(bn.running_mean) * bn.running_var.sqrt())
    m.dropout.p, m.gru.dropout = 0.5, 0.5
    return m.eval()


def margin_ratio(model, x):
    """Smallest (decision margin / float32 error) over the ReLU and max-pool
    inputs of a training forward: the margin in float64, the error as the
    largest |float32 - float64| of that layer."""
    recs = []
    for dtype in (torch.float32, torch.float64):
        m = copy.deepcopy(model).to(dtype).train()
        rec = []
        with torch.no_grad():
            m.features(x.to(dtype), rec)
        recs.append(rec)
    worst = float("inf")
    for r32, r64 in zip(*recs):
        err = max((r32[1].double() - r64[1]).abs().max().item(), 1e-30)
        if r64[0] == "relu":
            margin = r64[1].abs().min().item()
        else:
            ph, pw = r64[2]
            w = torch.nn.functional.unfold(r64[1], (ph, pw), stride=(ph, pw))
            b, c = r64[1].shape[:2]
            w = w.reshape(b, c, ph * pw, -1).transpose(2, 3).reshape(-1, ph * pw)
            top = w.topk(2, 1).values
            gap = (top[:, 0] - top[:, 1])[top[:, 0] > 0]
            margin = gap.min().item() if gap.numel() else float("inf")
        worst = min(worst, margin / err)
    return worst


def run_c(tool, model_path, x, targets, work, train):
    x.numpy().astype("<f4").tofile(os.path.join(work, "input.bin"))
    targets.numpy().astype("<f4").tofile(os.path.join(work, "targets.bin"))
    out = os.path.join(work, "out")
    cmd = [tool, model_path, os.path.join(work, "input.bin"), os.path.join(work, "targets.bin"), out]
    res = subprocess.run(cmd + (["--train"] if train else []), capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"FAIL parity_dump exited {res.returncode}: {res.stderr.strip()}")

    def floats(name, rows):
        path = os.path.join(out, name)
        if not os.path.exists(path):
            return None
        return torch.from_numpy(numpy.fromfile(path, "<f4")).reshape(rows, -1)

    b = x.shape[0]
    got = {"logits": floats("logits.bin", b), "attention": floats("attention.bin", b)}
    if train:
        got["logits_train"] = floats("logits_train.bin", b)
        got["attention_train"] = floats("attention_train.bin", b)
        got["loss"] = float(open(os.path.join(out, "loss.txt")).read())
        got["grads"] = load_file(os.path.join(out, "grads.safetensors"))
        got["buffers"] = load_file(os.path.join(out, "buffers.safetensors"))
    return got


def rel(a, b):
    return ((a.double() - b.double()).norm() / max(b.double().norm().item(), 1e-30)).item()


def zero_grad_sibling(name):
    """For a tensor whose exact gradient is 0, the tensor whose gradient norm
    sets the scale; else None."""
    if name.startswith("conv.") and name.endswith(".bias"):
        return name[:-4] + "weight"
    return "cnn_attention.weight" if name == "cnn_attention.bias" else None


def compare(tool, attention, bands, frames, batch, seed, strict, work):
    tag = f"{attention} {bands}x{frames} batch {batch}"
    model = make_model(attention, bands, frames, seed)
    path = os.path.join(work, "model.safetensors")
    acrnn_ref.save_model(path, model, meta_for(attention, bands, frames))
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(batch, 2, bands, frames, generator=gen)
    if strict:  # screen draws for decision margins (see the top comment)
        best = (-1.0, x)
        for _ in range(100):
            r = margin_ratio(model, x)
            best = max(best, (r, x), key=lambda p: p[0])
            if r >= 4:
                break
            x = torch.randn(batch, 2, bands, frames, generator=gen)
        ratio, x = best
        print(f"     input screened: smallest decision margin = {ratio:.1f} x float32 error")
    targets = torch.softmax(2 * torch.randn(batch, N_CLASSES, generator=gen), 1)
    got = run_c(tool, path, x, targets, work, train=True)

    with torch.no_grad():
        want = model(x)
    check(got["logits"].shape == want.shape, f"{tag}: inference logits shape {tuple(got['logits'].shape)}")
    d = (got["logits"] - want).abs().max().item()
    check(d < 1e-4, f"{tag}: inference logits max abs diff {d:.2e} (< 1e-4)")
    if model.attention_weights is not None:
        d = (got["attention"] - model.attention_weights).abs().max().item() if got["attention"] is not None else 1.0
        check(d < 1e-5, f"{tag}: inference attention weights max abs diff {d:.2e} (< 1e-5)")

    no_dropout(model).train()
    model.zero_grad()
    logits = model(x)
    loss = -(targets * torch.log_softmax(logits, 1)).sum(1).mean()
    loss.backward()
    d = (got["logits_train"] - logits.detach()).abs().max().item()
    check(d < 1e-4, f"{tag}: training logits max abs diff {d:.2e} (< 1e-4)")
    if model.attention_weights is not None and got["attention_train"] is not None:
        d = (got["attention_train"] - model.attention_weights.detach()).abs().max().item()
        check(d < 1e-5, f"{tag}: training attention weights max abs diff {d:.2e} (< 1e-5)")
    d = abs(got["loss"] - loss.item()) / abs(loss.item())
    check(d < 1e-4, f"{tag}: loss C {got['loss']:.7f} torch {loss.item():.7f}, relative diff {d:.2e} (< 1e-4)")

    params = dict(model.named_parameters())
    check(sorted(got["grads"]) == sorted(params),
          f"{tag}: gradient tensors are the parameters (C extra {sorted(set(got['grads']) - set(params))}, "
          f"missing {sorted(set(params) - set(got['grads']))})")
    bad = []
    for name, p in params.items():
        if name not in got["grads"]:
            continue
        g = got["grads"][name]
        if g.shape != p.grad.shape:
            bad.append(f"{name}: shape {tuple(g.shape)} != {tuple(p.grad.shape)}")
            continue
        sib = zero_grad_sibling(name)
        if sib:
            e = ((g - p.grad).norm() / params[sib].grad.norm()).item()
            tol = 1e-3
        else:
            e = rel(g, p.grad)
            smooth = name.split(".")[0] in ("gru", "attention", "classifier")
            tol = 1e-3 if strict or smooth else 0.2
        print(f"     grad {name:26s} |g_t| {p.grad.norm().item():9.3e}  rel err {e:9.2e}  (tol {tol:g})")
        if not e < tol:
            bad.append(f"{name}: relative error {e:.2e} >= {tol:g} (|g_c| {g.norm().item():.4e}, "
                       f"|g_t| {p.grad.norm().item():.4e})")
    check(not bad, f"{tag}: parameter gradients" + ("; ".join([""] + bad) if bad else ""))

    bad = []
    for name, buf in model.state_dict().items():
        if not name.endswith(("running_mean", "running_var")):
            continue
        c = got["buffers"].get(name)
        e = rel(c, buf) if c is not None and c.shape == buf.shape else float("inf")
        if not e < 1e-4:
            bad.append(f"{name}: relative error {e:.2e}")
    check(not bad and len(got["buffers"]) == 16,
          f"{tag}: running statistics after the training forward"
          + ("; ".join([""] + bad) if bad else f" ({len(got['buffers'])} tensors)"))


def roundtrip(tool, work):
    """Models written by C load strictly into PyTorch and give the same logits."""
    for i, attention in enumerate(("rnn", "cnn:4", "none")):
        path = os.path.join(work, f"c_{i}.safetensors")
        res = subprocess.run([tool, "--new", attention, str(N_CLASSES), str(10 + i), path],
                             capture_output=True, text=True)
        if res.returncode != 0:
            check(False, f"C writes a {attention} model: {res.stderr.strip()}")
            continue
        try:
            model, meta = acrnn_ref.load_model(path)  # load_state_dict(strict=True)
        except Exception as e:  # noqa: BLE001 - report whatever PyTorch says
            check(False, f"C-written {attention} model loads with strict=True: {e}")
            continue
        check(meta["attention"] == attention and meta["version"] == 1
              and len(meta["labels"]) == N_CLASSES and meta["bands"] == 128,
              f"C-written {attention} model metadata: {json.dumps(meta)[:200]}")
        tensors = load_file(path)
        check(all(v.dtype == torch.float32 for k, v in tensors.items() if "num_batches" not in k),
              f"C-written {attention} model: all tensors F32")
        x = torch.randn(2, 2, 128, 128, generator=torch.Generator().manual_seed(i))
        with torch.no_grad():
            want = model(x)
        got = run_c(tool, path, x, torch.full((2, N_CLASSES), 1.0 / N_CLASSES), work, train=False)
        d = (got["logits"] - want).abs().max().item()
        check(d < 1e-4 and want.abs().max().item() > 1e-3,
              f"C-written {attention} model: PyTorch and C logits max abs diff {d:.2e} (< 1e-4)")
    # PyTorch models stored as F16 / BF16 (model.h: read as well)
    for dtype in (torch.float16, torch.bfloat16):
        model = make_model("cnn:2", 128, 128, 7)
        sd = {k: v.to(dtype) if v.is_floating_point() else v for k, v in model.state_dict().items()}
        model.load_state_dict(sd)  # the rounded weights, back in float32
        path = os.path.join(work, "half.safetensors")
        save_file(sd, path, metadata={"acrnn": json.dumps(meta_for("cnn:2", 128, 128))})
        x = torch.randn(2, 2, 128, 128, generator=torch.Generator().manual_seed(3))
        with torch.no_grad():
            want = model(x)
        got = run_c(tool, path, x, torch.full((2, N_CLASSES), 1.0 / N_CLASSES), work, train=False)
        d = (got["logits"] - want).abs().max().item()
        check(d < 1e-4, f"{dtype} model from PyTorch: PyTorch and C logits max abs diff {d:.2e} (< 1e-4)")


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: test_parity.py PARITY_DUMP VARIANT")
    tool, variant = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="acrnn-parity-") as work:
        if variant == "roundtrip":
            roundtrip(tool, work)
        else:
            seed = 1000 + sum(map(ord, variant))
            compare(tool, variant, 128, 128, 3, seed, strict=False, work=work)
            compare(tool, variant, 32, 36, 2, seed + 1, strict=True, work=work)
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
