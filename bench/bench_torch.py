#!/usr/bin/python3
"""The same figures as bench_network, measured on the PyTorch reference module
(tests/reference/acrnn_ref.py) on this machine.

usage: bench_torch.py [--threads N] [--attention rnn] [--seconds S]
                      [--precision fp32|bf16] [--only NAME]

--only runs just the figure NAME (infer_b1, infer_b64 or train_b64), as
bench_network's does.

--precision bf16 runs forward and loss under
torch.autocast("cpu", dtype=torch.bfloat16), PyTorch's own mixed precision:
bf16 products, fp32 weights, optimizer state and batch-norm statistics."""
import contextlib
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "reference"))
from acrnn_ref import ACRNN  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--attention", default="rnn")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    ap.add_argument("--only", choices=("infer_b1", "infer_b64", "train_b64"))
    a = ap.parse_args()
    bf16 = a.precision == "bf16"

    def autocast():
        if bf16:
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = ACRNN(50, attention=a.attention)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9,
                          nesterov=True, weight_decay=1e-4)
    x = torch.randn(64, 2, 128, 128)
    y = torch.arange(64) % 50
    print(f"# torch {torch.__version__}, threads {a.threads}, "
          f"attention {a.attention}, precision {a.precision}")
    for name, b, train in (("infer_b1", 1, False), ("infer_b64", 64, False),
                           ("train_b64", 64, True)):
        if a.only and name != a.only:
            continue
        model.train(train)
        xb, yb = x[:b], y[:b]

        def step():
            if train:
                opt.zero_grad()
                with autocast():
                    loss = torch.nn.functional.cross_entropy(model(xb), yb)
                loss.backward()
                opt.step()
            else:
                with torch.no_grad(), autocast():
                    model(xb)
        step()
        segs, t0 = 0, time.perf_counter()
        while True:
            step()
            segs += b
            t = time.perf_counter()
            if t - t0 >= a.seconds:
                break
        print(f"{name} {segs / (t - t0):.2f}", flush=True)


if __name__ == "__main__":
    main()
