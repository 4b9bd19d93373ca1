#!/usr/bin/env python3
"""The datasets of the fine-tuning experiment (training/experiments/finetune.sh).

From an ESC-50 layout (meta/esc50.csv, audio/), makes folder-per-class
datasets of symbolic links:

  OUT/pretrain/<label>/...     every clip of the classes that are not held out
  OUT/k<K>-s<S>/<label>/...    the held-out classes: K training clips per
                               class (fold 1) and the test clips (fold 2),
                               with OUT/k<K>-s<S>/folds.csv

The held-out classes are the ESC-10 classes. Their test clips are chosen once
(seed 0, whatever --seeds says), by source recording (src_file): per class,
whole sources until at least --test-per-class clips, so that no source is
both in the test clips and in the training pool. The training pool of a
class (the rest) is put in a seeded order that takes one clip of each
source in turn; the K training clips are the first K of that order, so the
sets are nested (k=1 inside k=2 inside ...). OUT/splits.json records it all.
"""
import argparse
import csv
import json
import os
import random
import sys
from collections import defaultdict


def pick_test(groups, n, rng):
    """Whole source groups adding up to n clips exactly if possible, else
    the fewest clips above n."""
    order = list(groups)
    rng.shuffle(order)
    best = None
    # every subset: a class has at most 8 sources
    for mask in range(1, 1 << len(order)):
        chosen = [order[i] for i in range(len(order)) if mask >> i & 1]
        size = sum(len(groups[g]) for g in chosen)
        if size < n:
            continue
        key = (size, len(chosen), mask)
        if best is None or key < best[0]:
            best = (key, chosen)
    if best is None:
        sys.exit("a class has fewer than %d clips" % n)
    return best[1]


def pool_order(groups, rng):
    """One clip of each source in turn, sources and takes in seeded order."""
    gs = [sorted(groups[g]) for g in sorted(groups)]
    rng.shuffle(gs)
    for g in gs:
        rng.shuffle(g)
    out = []
    while any(gs):
        for g in gs:
            if g:
                out.append(g.pop(0))
    return out


def link(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.lexists(dst):
        os.remove(dst)
    os.symlink(os.path.abspath(src), dst)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="ESC-50 layout folder")
    ap.add_argument("--out", required=True)
    ap.add_argument("--ks", default="1,2,4,6")
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--test-per-class", type=int, default=2)
    a = ap.parse_args()
    ks = [int(k) for k in a.ks.split(",")]
    seeds = [int(s) for s in a.seeds.split(",")]
    rows = list(csv.DictReader(open(os.path.join(a.data, "meta", "esc50.csv"))))
    held = sorted({r["category"] for r in rows if r["esc10"] == "True"})
    if not held:
        sys.exit("no ESC-10 clips in %s" % a.data)
    by_class = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by_class[r["category"]][r["src_file"]].append(r["filename"])
    audio = os.path.join(a.data, "audio")
    for c in sorted(by_class):
        if c in held:
            continue
        for srcs in by_class[c].values():
            for f in srcs:
                link(os.path.join(audio, f), os.path.join(a.out, "pretrain", c, f))
    test, pool = {}, {}
    rng = random.Random(0)
    for c in held:
        groups = by_class[c]
        chosen = pick_test(groups, a.test_per_class, rng)
        test[c] = sorted(f for g in chosen for f in groups[g])
        pool[c] = {g: groups[g] for g in groups if g not in chosen}
    need = max(ks)
    for c in held:
        n = sum(len(v) for v in pool[c].values())
        if n < need:
            sys.exit("%s: %d clips left for training, k=%d asked" % (c, n, need))
    record = {"held_out_classes": held, "test": test, "train": {}}
    for s in seeds:
        order = {c: pool_order(pool[c], random.Random(1000 + s)) for c in held}
        for k in ks:
            name = "k%d-s%d" % (k, s)
            root = os.path.join(a.out, name)
            rows_out = []
            for c in held:
                for f in order[c][:k]:
                    link(os.path.join(audio, f), os.path.join(root, c, f))
                    rows_out.append((c + "/" + f, 1))
                for f in test[c]:
                    link(os.path.join(audio, f), os.path.join(root, c, f))
                    rows_out.append((c + "/" + f, 2))
            with open(os.path.join(root, "folds.csv"), "w") as fh:
                fh.write("file,fold\n")
                for f, fold in rows_out:
                    fh.write("%s,%d\n" % (f, fold))
            record["train"][name] = {c: order[c][:k] for c in held}
    with open(os.path.join(a.out, "splits.json"), "w") as fh:
        json.dump(record, fh, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
