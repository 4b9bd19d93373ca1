#!/usr/bin/env python3
"""tables_md.py - the paper's Tables 2 and 3, and our rows beyond it, as
Markdown, from the results paper_tables.sh keeps (models/runs/paper).

    training/experiments/tables_md.py [--results DIR] [--readme FILE]

Every row folder ROW-DATASET-eN holds fold-K.result.json for each finished
fold and cv-summary.json once all five are done. A row with some folds
shows them and says how many; a row with none shows "not run". Each cell
gives the mean accuracy over the folds, the clips right of all held out,
the folds' accuracies and the time the folds took. The paper's figures
stand beside ours, with the deltas the paper discusses (augmentation,
attention) for both.

A bundle-ROW folder (a candidate for the bundled model, trained on folds
1-4) gets a line with its held-out accuracy on fold 5 (heldout-eval.json)
beside the bundled model's 56.2 %.

The tables take one schedule for every row: the one most row folders
have. A row also run with another schedule (the main row at the paper's
300 epochs) gets a table of its own with each of its schedules.

A row run in another precision as well (paper_tables.sh --precision fp32:
folder ROW-DATASET-eN-fp32) gets a line in a last table, beside its bf16
run, with the difference.

The main row trained by the PyTorch reference (tests/reference/train_ref.py
cv, fp32: folder torch-t2-acrnn-aug-DATASET-eN) gets a table beside the C
runs of the same schedule, with C minus PyTorch and the standard error of
that difference over the folds (the spread of the five fold-by-fold
differences / sqrt(5)): the fold-to-fold noise the two means are judged
against.

With --readme, the tables replace what lies between the lines
"<!-- paper-tables:begin -->" and "<!-- paper-tables:end -->" of FILE;
without it they go to stdout. Only the standard library is needed."""
import argparse
import collections
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# The paper's Tables 2 and 3 (ESC-10, ESC-50), in %.
PAPER = {
    "t2-crnn": (89.2, 79.9),
    "t2-acrnn": (91.7, 81.3),
    "t2-crnn-aug": (93.0, 84.6),
    "t2-acrnn-aug": (93.7, 86.1),
    "t3-l2": (93.5, 85.2),
    "t3-l4": (92.7, 83.8),
    "t3-l6": (92.7, 84.4),
    "t3-l8": (92.5, 84.9),
}

TABLE2 = [
    ("t2-crnn", "convolutional RNN"),
    ("t2-acrnn", "convolutional RNN-attention"),
    ("t2-crnn-aug", "convolutional RNN-augment"),
    ("t2-acrnn-aug", "convolutional RNN-attention-augment"),
]
TABLE3 = [
    ("t2-crnn-aug", "no attention"),
    ("t3-l2", "attention at l2 (`cnn:2`)"),
    ("t3-l4", "attention at l4 (`cnn:4`)"),
    ("t3-l6", "attention at l6 (`cnn:6`)"),
    ("t3-l8", "attention at l8 (`cnn:8`)"),
    ("t2-acrnn-aug", "attention at l10 (`rnn`)"),
]
OURS = [
    ("t2-acrnn-aug", "the main row (paper's recipe)"),
    ("ours-offline", "offline copies (4 a clip) instead of online"),
    ("ours-specaug", "SpecAugment-style masks"),
    ("ours-smooth", "label smoothing 0.1"),
    ("ours-cosine", "cosine schedule"),
]
DATASETS = ("esc10", "esc50")
BEGIN = "<!-- paper-tables:begin -->"
END = "<!-- paper-tables:end -->"


def dataset_name(d):
    """esc10 -> ESC-10."""
    return d.upper().replace("ESC", "ESC-")


def sample_std(v):
    """Standard deviation of the values v (n - 1, as acrnn-train cv)."""
    m = sum(v) / len(v)
    return (sum((x - m) ** 2 for x in v) / (len(v) - 1)) ** 0.5 if len(v) > 1 else 0.0


class Row:
    """The folds of one row folder."""

    def __init__(self, folder):
        self.folds = []
        for path in sorted(glob.glob(os.path.join(folder, "fold-*.result.json"))):
            with open(path) as f:
                self.folds.append(json.load(f))
        self.folds.sort(key=lambda r: r["fold"])
        self.complete = os.path.exists(os.path.join(folder, "cv-summary.json"))

    def clips(self):
        total = sum(r["clips"] for r in self.folds)
        right = sum(round(r["accuracy"] * r["clips"]) for r in self.folds)
        return right, total

    def mean(self):
        """Mean accuracy over the folds, in %."""
        return 100.0 * sum(r["accuracy"] for r in self.folds) / len(self.folds)

    def std(self):
        """Standard deviation over the folds (n - 1, as acrnn-train cv)."""
        return 100.0 * sample_std([r["accuracy"] for r in self.folds])

    def minutes(self):
        return sum(r.get("time_s", 0.0) for r in self.folds) / 60.0

    def cell(self):
        if not self.folds:
            return "not run"
        right, total = self.clips()
        folds = ", ".join("%.1f" % (100 * r["accuracy"]) for r in self.folds)
        # one fold has no spread to give
        spread = " ± %.1f" % self.std() if len(self.folds) > 1 else ""
        text = "**%.1f %%**%s (%d/%d; folds %s; %.0f min)" % (
            self.mean(), spread, right, total, folds, self.minutes())
        if not self.complete:
            text += ", %d of 5 folds" % len(self.folds)
        return text


def row_folders(results, precision=""):
    """[(row, dataset, epochs, folder)] of the default precision (bf16) or,
    given "fp32", of the -fp32 folders."""
    found = []
    suffix = "-" + precision if precision else ""
    for folder in sorted(glob.glob(os.path.join(results, "*-e*"))):
        m = re.match(r"(.+)-(esc10|esc50)-e(\d+)%s$" % re.escape(suffix),
                     os.path.basename(folder))
        if m and os.path.isdir(folder):
            found.append((m.group(1), m.group(2), int(m.group(3)), folder))
    return found


def find_rows(results, precision=""):
    """{(row, dataset): (epochs, Row)}: the tables' schedule of each row (the
    schedule most row folders have, a tie going to the longer), or, for a
    row without it, its longest. A longer run of one row (the main row at
    the paper's 300 epochs) thus stays out of tables whose other rows are
    shorter; schedule_table() shows it."""
    found = row_folders(results, precision)
    count = collections.Counter(epochs for _, _, epochs, _ in found)
    common = max(count, key=lambda e: (count[e], e)) if count else None
    rows = {}
    # the common schedule first, then the longer; the last one kept wins
    for row, dataset, epochs, folder in sorted(
            found, key=lambda f: (f[2] == common, f[2])):
        rows[(row, dataset)] = (epochs, folder)
    return {key: (epochs, Row(folder)) for key, (epochs, folder) in rows.items()}


def lookup(rows, row, dataset):
    return rows.get((row, dataset), (None, Row("/nonexistent")))


def schedules(rows, names):
    eps = sorted({rows[(r, d)][0] for r in names for d in DATASETS if (r, d) in rows})
    return ", ".join("%d epochs" % e for e in eps) or "none run yet"


def delta(rows, a, b, dataset):
    """Ours: row a minus row b (points), when both have all their folds."""
    ra, rb = lookup(rows, a, dataset)[1], lookup(rows, b, dataset)[1]
    if not (ra.complete and rb.complete):
        return "–"
    return "%+.1f" % (ra.mean() - rb.mean())


def paper_table(rows, table, title):
    names = [r for r, _ in table]
    out = ["%s (5-fold CV of the fold-4 clips, `--split-by-source 5 --seed 1`; "
           "schedule: %s)" % (title, schedules(rows, names)), "",
           "| model | paper ESC-10 | ours ESC-10 | paper ESC-50 | ours ESC-50 |",
           "|---|---:|---|---:|---|"]
    for row, label in table:
        p10, p50 = PAPER[row]
        out.append("| %s | %.1f %% | %s | %.1f %% | %s |" % (
            label, p10, lookup(rows, row, "esc10")[1].cell(), p50,
            lookup(rows, row, "esc50")[1].cell()))
    return out


def effects(rows):
    pairs = [
        ("augmentation, no attention", "t2-crnn-aug", "t2-crnn"),
        ("augmentation, attention at l10", "t2-acrnn-aug", "t2-acrnn"),
        ("attention at l10, no augmentation", "t2-acrnn", "t2-crnn"),
        ("attention at l10, augmentation", "t2-acrnn-aug", "t2-crnn-aug"),
    ]
    out = ["| effect (points) | paper ESC-10 | ours ESC-10 | paper ESC-50 | ours ESC-50 |",
           "|---|---:|---:|---:|---:|"]
    for label, a, b in pairs:
        p = [PAPER[a][i] - PAPER[b][i] for i in (0, 1)]
        out.append("| %s | %+.1f | %s | %+.1f | %s |" % (
            label, p[0], delta(rows, a, b, "esc10"), p[1], delta(rows, a, b, "esc50")))
    return out


def ours_table(rows):
    out = ["Ours, beyond the paper: the main row with one change each "
           "(schedule: %s)" % schedules(rows, [r for r, _ in OURS]), "",
           "| change | ESC-10 | vs main row | ESC-50 | vs main row |",
           "|---|---|---:|---|---:|"]
    for row, label in OURS:
        cells = []
        for d in DATASETS:
            cells.append(lookup(rows, row, d)[1].cell())
            cells.append("" if row == "t2-acrnn-aug" else delta(rows, row, "t2-acrnn-aug", d))
        out.append("| %s | %s | %s | %s | %s |" % ((label,) + tuple(cells)))
    return out


def precision_table(rows, fp32):
    """bf16 (the tables' runs) against fp32, for the rows run in both with
    the same schedule."""
    out = ["bf16 against fp32: the same row, the same schedule, both precisions",
           "", "| row | dataset | bf16 | fp32 | bf16 - fp32 (points) |",
           "|---|---|---|---|---:|"]
    for key in sorted(fp32):
        epochs, r32 = fp32[key]
        e16, r16 = rows.get(key, (None, None))
        if e16 != epochs:
            continue
        diff = ("%+.1f" % (r16.mean() - r32.mean())
                if r16.complete and r32.complete else "–")
        out.append("| %s (%d epochs) | %s | %s | %s | %s |" % (
            key[0], epochs, dataset_name(key[1]), r16.cell(),
            r32.cell(), diff))
    return out if len(out) > 4 else []


def paired(ra, rb):
    """Mean of ra minus rb (points) ± the standard error of the fold-by-fold
    differences, when both have all their folds and the same ones."""
    if not (ra.complete and rb.complete):
        return "–"
    a = {r["fold"]: r["accuracy"] for r in ra.folds}
    b = {r["fold"]: r["accuracy"] for r in rb.folds}
    if sorted(a) != sorted(b) or len(a) < 2:
        return "–"
    d = [100.0 * (a[k] - b[k]) for k in sorted(a)]
    return "%+.1f ± %.1f" % (sum(d) / len(d), sample_std(d) / len(d) ** 0.5)


def torch_table(rows, fp32):
    """The main row by acrnn (bf16 and fp32) and by the PyTorch reference,
    for each schedule the PyTorch reference ran."""
    main = "t2-acrnn-aug"
    out = ["C against the PyTorch reference: the main row (`%s`), the same "
           "folds, seed, recipe and schedule; C - PyTorch ± the standard error "
           "of the five fold-by-fold differences" % main, "",
           "| implementation | dataset | accuracy | C - PyTorch (points) |",
           "|---|---|---|---:|"]
    for d in DATASETS:
        epochs, rt = rows.get(("torch-" + main, d), (None, None))
        if rt is None:
            continue
        name = dataset_name(d)
        for label, table in (("acrnn (C), bf16", rows), ("acrnn (C), fp32", fp32)):
            e, rc = table.get((main, d), (None, None))
            if e == epochs:
                out.append("| %s, %d epochs | %s | %s | %s |" % (
                    label, epochs, name, rc.cell(), paired(rc, rt)))
        out.append("| PyTorch reference, fp32, %d epochs | %s | %s | |" % (
            epochs, name, rt.cell()))
    return out if len(out) > 4 else []


def schedule_table(results):
    """The main row at each schedule it ran, beside the paper's 300 epochs:
    shown once it has more than one."""
    main = "t2-acrnn-aug"
    runs = sorted((epochs, dataset, folder) for row, dataset, epochs, folder
                  in row_folders(results) if row == main)
    if len({epochs for epochs, _, _ in runs}) < 2:
        return []
    out = ["The main row (`%s`, bf16) at each schedule it ran; the paper's is "
           "300 epochs" % main, "",
           "| schedule | paper | ours |", "|---|---:|---|"]
    for epochs, dataset, folder in runs:
        out.append("| %s, %d epochs | %.1f %% | %s |" % (
            dataset_name(dataset), epochs,
            PAPER[main][DATASETS.index(dataset)], Row(folder).cell()))
    return out


def bundle_table(results):
    """The candidates for the bundled model: fold 5 by the last epoch."""
    out = ["Candidates for the bundled model: trained on folds 1-4, fold 5 held "
           "out (the bundled model: 45 of 80 clips, 56.2 %)", "",
           "| recipe | epochs | held-out fold 5 | macro F1 |", "|---|---:|---|---:|"]
    for folder in sorted(glob.glob(os.path.join(results, "bundle-*-e*"))):
        m = re.match(r"bundle-(.+)-(esc10|esc50)-e(\d+)(-fp32)?$", os.path.basename(folder))
        path = os.path.join(folder, "heldout-eval.json")
        if not m or not os.path.exists(path):
            continue
        with open(path) as f:
            r = json.load(f)
        right = round(r["accuracy"] * r["clips"])
        out.append("| %s (%s%s) | %s | **%.1f %%** (%d of %d clips) | %.3f |" % (
            m.group(1), dataset_name(m.group(2)), m.group(4) or "",
            m.group(3), 100 * r["accuracy"], right, r["clips"], r.get("macro_f1", 0.0)))
    return out if len(out) > 4 else []


def render(results):
    rows = find_rows(results)
    lines = paper_table(rows, TABLE2, "Table 2")
    lines += [""] + paper_table(rows, TABLE3, "Table 3")
    lines += ["", "The deltas Table 2 discusses (rows with all five folds only):", ""]
    lines += effects(rows)
    lines += [""] + ours_table(rows)
    fp32 = find_rows(results, "fp32")
    both = precision_table(rows, fp32)
    if both:
        lines += [""] + both
    torch = torch_table(rows, fp32)
    if torch:
        lines += [""] + torch
    longer = schedule_table(results)
    if longer:
        lines += [""] + longer
    bundles = bundle_table(results)
    if bundles:
        lines += [""] + bundles
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", default=os.path.join(ROOT, "models", "runs", "paper"))
    ap.add_argument("--readme", help="rewrite the tables between the markers of this file")
    args = ap.parse_args()
    text = render(args.results)
    if not args.readme:
        sys.stdout.write(text)
        return 0
    with open(args.readme) as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        print("error: %s has no %s ... %s lines" % (args.readme, BEGIN, END), file=sys.stderr)
        return 2
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    tmp = args.readme + ".tmp"
    with open(tmp, "w") as f:
        f.write(head + BEGIN + "\n" + text + END + tail)
    os.replace(tmp, args.readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
