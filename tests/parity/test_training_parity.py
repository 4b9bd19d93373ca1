#!/usr/bin/python3
"""Training follows PyTorch: from the same initial weights, data and order
(no dropout, no mixup, no augmentation), K steps of the C update (sgd_steps,
built on the library the trainer uses) and K steps of torch.optim.SGD
(Nesterov 0.9, weight decay 1e-4) on the reference module give the same loss
at every step (relative difference < 1e-3), with soft (mixup-like) targets.

usage: test_training_parity.py SGD_STEPS_TOOL"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import torch
except ImportError:
    print("SKIP: python3-torch is not installed")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import acrnn_ref  # noqa: E402
from safetensors_io import save_file  # noqa: E402

BANDS, FRAMES, K, BATCH, STEPS, LR = 32, 36, 4, 8, 5, 0.01


def main():
    tool = sys.argv[1]
    torch.set_num_threads(1)  # the same summation order on every machine
    failures = 0
    for attention in ("rnn", "cnn:2", "none"):
        torch.manual_seed(7)
        model = acrnn_ref.ACRNN(K, attention, BANDS, FRAMES)
        with torch.no_grad():
            for name, p in model.named_parameters():
                if not name.startswith("bn."):
                    p.normal_(0, 0.05) if "weight" in name else p.zero_()
        model.dropout.p, model.gru.dropout = 0.0, 0.0
        model.train()
        # one batch seen STEPS times: the loss must fall, as in training
        x = torch.randn(BATCH, 2, BANDS, FRAMES).repeat(STEPS, 1, 1, 1)
        y = torch.softmax(2 * torch.randn(BATCH, K), 1).repeat(STEPS, 1)  # soft targets
        meta = {"version": 1, "labels": [f"c{i}" for i in range(K)], "sample_rate": 44100,
                "n_fft": 1024, "hop": 512, "bands": BANDS, "fmin": 50, "fmax": 22050,
                "segment_frames": FRAMES, "segment_hop": FRAMES // 2, "attention": attention,
                "mean": [0, 0], "std": [1, 1]}
        with tempfile.TemporaryDirectory() as work:
            path = os.path.join(work, "m.safetensors")
            sd = {k: v for k, v in model.state_dict().items() if "num_batches" not in k}
            save_file(sd, path, metadata={"acrnn": json.dumps(meta)})
            x.numpy().astype("<f4").tofile(os.path.join(work, "x.bin"))
            y.numpy().astype("<f4").tofile(os.path.join(work, "y.bin"))
            res = subprocess.run([tool, path, os.path.join(work, "x.bin"),
                                  os.path.join(work, "y.bin"), str(BATCH), str(STEPS), str(LR)],
                                 capture_output=True, text=True)
            if res.returncode != 0:
                print(f"FAIL sgd_steps: {res.stderr.strip()}")
                return 1
            c_losses = [float(line.split()[3]) for line in res.stdout.splitlines()]
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, nesterov=True,
                              weight_decay=1e-4)
        for k in range(STEPS):
            opt.zero_grad()
            logits = model(x[k * BATCH:(k + 1) * BATCH])
            t = y[k * BATCH:(k + 1) * BATCH]
            loss = -(t * torch.log_softmax(logits, 1)).sum(1).mean()
            loss.backward()
            opt.step()
            rel = abs(c_losses[k] - loss.item()) / abs(loss.item())
            ok = rel < 1e-3
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {attention:6} step {k} C {c_losses[k]:.6f} "
                  f"torch {loss.item():.6f} rel {rel:.2e}")
        if not c_losses[-1] < 0.8 * c_losses[0]:
            print(f"FAIL {attention}: the loss did not fall ({c_losses[0]} -> {c_losses[-1]})")
            failures += 1
        if c_losses[-1] >= c_losses[0]:
            print(f"FAIL {attention}: the loss did not decrease")
            failures += 1
    print(f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
