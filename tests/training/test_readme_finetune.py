#!/usr/bin/env python3
"""The commands of README.md's "Teach it your own sounds", run as written on
a generated folder of recordings: two labels (a doorbell of two tones, a
hissing kettle) of five 2-second WAV clips each, with --epochs 2 instead of
30. The fine-tuned model must classify a new doorbell recording through
soundclassifier as "doorbell". In a sanitizer build gst-launch-1.0 cannot
load the instrumented plugin: that command is left out (and said so).

Environment: ACRNN_SOURCE_ROOT, ACRNN_TRAIN (acrnn-train), GST_PLUGIN_PATH,
ACRNN_SANITIZE (meson's b_sanitize)."""
import math
import os
import random
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import wave

RATE = 44100


def commands(readme):
    """The acrnn-train and gst-launch-1.0 commands of the section's code
    blocks, continuation lines joined."""
    text = open(readme, encoding="utf-8").read()
    m = re.search(r"^## Teach it your own sounds\n(.*?)^## ", text, re.S | re.M)
    if not m:
        sys.exit("README.md has no section \"Teach it your own sounds\"")
    out, cur = [], ""
    for line in m.group(1).split("\n"):
        if not line.startswith("    ") or line.strip().startswith("#"):
            continue
        line = line.strip()
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        out.append(cur + line)
        cur = ""
    # the recipe itself, not the experiment's script
    return [c for c in out if c.startswith(("acrnn-train ", "gst-launch-1.0 "))]


def write_wav(path, samples):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", int(max(-1, min(1, s)) * 32000))
                               for s in samples))


def doorbell(rng):
    f1, f2 = 660 * rng.uniform(0.95, 1.05), 550 * rng.uniform(0.95, 1.05)
    n = 2 * RATE
    return [0.5 * math.sin(2 * math.pi * (f1 if i < n // 2 else f2) * i / RATE)
            * math.exp(-3.0 * ((i % (n // 2)) / RATE)) for i in range(n)]


def kettle(rng):
    return [0.3 * rng.uniform(-1, 1) for _ in range(2 * RATE)]


def main():
    root = os.environ["ACRNN_SOURCE_ROOT"]
    train = os.environ["ACRNN_TRAIN"]
    sanitized = os.environ.get("ACRNN_SANITIZE", "none") not in ("", "none")
    cmds = commands(os.path.join(root, "README.md"))
    kinds = [c.split()[0] + " " + c.split()[1] for c in cmds]
    assert kinds == ["acrnn-train train", "acrnn-train eval",
                     "gst-launch-1.0 -m"], kinds
    tmp = tempfile.mkdtemp(prefix="acrnn-readme-finetune-")
    rng = random.Random(3)
    for k in range(5):
        write_wav(os.path.join(tmp, "my-sounds", "doorbell", "ring%d.wav" % k),
                  doorbell(rng))
        write_wav(os.path.join(tmp, "my-sounds", "kettle", "boil%d.wav" % k),
                  kettle(rng))
    write_wav(os.path.join(tmp, "recording.wav"), doorbell(rng))
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")
    ok = True
    for cmd in cmds:
        argv = shlex.split(cmd)
        if argv[0] == "acrnn-train":
            argv[0] = train
        if "--epochs" in argv:
            argv[argv.index("--epochs") + 1] = "2"
        argv = [os.path.join(root, a) if a.startswith("models/") else a
                for a in argv]
        if argv[0] == "gst-launch-1.0" and sanitized:
            print("skipped in a sanitizer build:", cmd)
            continue
        print("README:", cmd, flush=True)
        p = subprocess.run(argv, cwd=tmp, env=env, capture_output=True,
                           text=True, timeout=600)
        sys.stdout.write(p.stdout[-3000:])
        sys.stderr.write(p.stderr[-3000:])
        if p.returncode != 0:
            print("exit status", p.returncode)
            ok = False
            break
        if argv[0] == "gst-launch-1.0":
            final = [l for l in p.stdout.split("\n") if "final=(boolean)true" in l]
            if not final or 'label=(string)doorbell' not in final[-1]:
                print("the new doorbell recording was not classified as doorbell")
                ok = False
    if not os.path.exists(os.path.join(tmp, "my.safetensors")):
        ok = False
    if ok:
        shutil.rmtree(tmp)
    else:
        print("left in", tmp)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
