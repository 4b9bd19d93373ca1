#!/usr/bin/env python3
"""test_tables_md.py - training/experiments/tables_md.py on made-up fold
results: complete rows give their mean, clips and the deltas, a row with
some folds says how many, a row with none says "not run", the tables take
the schedule most rows have (a longer run of the main row gets a table of
its own), and --readme rewrites only what lies between its
markers."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "training", "experiments", "tables_md.py")


def write_row(results, name, right, clips=16, complete=True, minutes=10):
    """Folds with right[k] of clips correct each."""
    folder = os.path.join(results, name)
    os.makedirs(folder)
    for k, r in enumerate(right):
        with open(os.path.join(folder, "fold-%d.result.json" % (k + 1)), "w") as f:
            json.dump({"fold": k + 1, "clips": clips, "accuracy": r / clips,
                       "time_s": 60.0 * minutes}, f)
    if complete:
        with open(os.path.join(folder, "cv-summary.json"), "w") as f:
            json.dump({"folds": []}, f)


def run(*args):
    out = subprocess.run([sys.executable, SCRIPT] + list(args), check=True,
                         capture_output=True, text=True)
    return out.stdout


def expect(text, piece):
    if piece not in text:
        sys.exit("expected %r in:\n%s" % (piece, text))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        res = os.path.join(tmp, "paper")
        # main row: 12+12+12+12+12 of 16 = 75 %; no-aug attention: 60 %
        write_row(res, "t2-acrnn-aug-esc10-e60", [12] * 5)
        write_row(res, "t2-acrnn-esc10-e60", [8, 10, 10, 10, 10])
        # a shorter schedule of the same row is not shown
        write_row(res, "t2-acrnn-esc10-e30", [16] * 5)
        write_row(res, "t2-crnn-aug-esc10-e60", [16, 8], complete=False)
        text = run("--results", res)
        expect(text, "**75.0 %** ± 0.0 (60/80; folds 75.0, 75.0, 75.0, 75.0, 75.0; 50 min)")
        expect(text, "**60.0 %** ± 5.6 (48/80; folds 50.0, 62.5, 62.5, 62.5, 62.5; 50 min)")
        expect(text, "**75.0 %** ± 35.4 (24/32; folds 100.0, 50.0; 20 min), 2 of 5 folds")
        expect(text, "not run")
        expect(text, "schedule: 60 epochs")
        # augmentation with attention: paper +2.0, ours +15.0
        expect(text, "| augmentation, attention at l10 | +2.0 | +15.0 | +4.8 | – |")
        # a partial row gives no delta
        expect(text, "| attention at l10, augmentation | +0.7 | – | +1.5 | – |")
        # no fp32 run yet: no precision table
        assert "bf16 against fp32" not in text
        # the main row in fp32 too: a line beside the bf16 run
        write_row(res, "t2-acrnn-aug-esc10-e60-fp32", [13] * 5)
        text = run("--results", res)
        expect(text, "| t2-acrnn-aug (60 epochs) | ESC-10 | **75.0 %**")
        expect(text, "| **81.2 %** ± 0.0 (65/80; folds 81.2, 81.2, 81.2, 81.2, 81.2; "
               "50 min) | -6.2 |")
        # the fp32 folder is not taken for the bf16 tables
        expect(text, "| convolutional RNN-attention-augment | 93.7 % | **75.0 %**")
        # the PyTorch reference's main row: C - PyTorch with the SE of the
        # fold differences (bf16: 0, 0, 0, 0, 0; fp32: 6.25 each)
        assert "C against the PyTorch reference" not in text
        write_row(res, "torch-t2-acrnn-aug-esc10-e60", [12, 12, 12, 12, 12])
        text = run("--results", res)
        expect(text, "| acrnn (C), bf16, 60 epochs | ESC-10 | **75.0 %** ± 0.0 "
               "(60/80; folds 75.0, 75.0, 75.0, 75.0, 75.0; 50 min) | +0.0 ± 0.0 |")
        expect(text, "| acrnn (C), fp32, 60 epochs | ESC-10 | **81.2 %**")
        expect(text, "50 min) | +6.2 ± 0.0 |")
        expect(text, "| PyTorch reference, fp32, 60 epochs | ESC-10 | **75.0 %**")
        # the PyTorch row is not one of the paper's rows
        assert "torch-" not in text, text
        # a partial PyTorch row gives no difference
        write_row(res, "torch-t2-acrnn-aug-esc50-e60", [40, 41], clips=80, complete=False)
        write_row(res, "t2-acrnn-aug-esc50-e60", [40, 40, 40, 40, 40], clips=80)
        text = run("--results", res)
        expect(text, "| acrnn (C), bf16, 60 epochs | ESC-50 | **50.0 %** ± 0.0 "
               "(200/400; folds 50.0, 50.0, 50.0, 50.0, 50.0; 50 min) | – |")
        expect(text, "| PyTorch reference, fp32, 60 epochs | ESC-50 | **50.6 %** ± 0.9 "
               "(81/160; folds 50.0, 51.2; 20 min), 2 of 5 folds | |")
        # unequal fold differences: +6.25, 0, 0, 0, 0 -> mean 1.25, SE 1.25
        shutil.rmtree(os.path.join(res, "torch-t2-acrnn-aug-esc10-e60"))
        write_row(res, "torch-t2-acrnn-aug-esc10-e60", [11, 12, 12, 12, 12])
        expect(run("--results", res), "50 min) | +1.2 ± 1.2 |")
        # a candidate for the bundled model
        assert "Candidates for the bundled model" not in text
        os.makedirs(os.path.join(res, "bundle-t2-acrnn-aug-esc50-e60"))
        with open(os.path.join(res, "bundle-t2-acrnn-aug-esc50-e60",
                               "heldout-eval.json"), "w") as f:
            json.dump({"fold": 5, "clips": 80, "accuracy": 0.6625, "macro_f1": 0.61}, f)
        text = run("--results", res)
        expect(text, "| t2-acrnn-aug (ESC-50) | 60 | **66.2 %** (53 of 80 clips) | 0.610 |")
        # the main row at a longer schedule: the tables keep the schedule
        # most rows have, and a table of its own shows both
        assert "at each schedule it ran" not in text
        write_row(res, "t2-acrnn-aug-esc10-e300", [14], complete=False)
        text = run("--results", res)
        expect(text, "| convolutional RNN-attention-augment | 93.7 % | **75.0 %**")
        expect(text, "schedule: 60 epochs)")
        assert "300 epochs)" not in text.split("The main row (")[0], text
        expect(text, "| ESC-10, 60 epochs | 93.7 % | **75.0 %** ± 0.0 (60/80;")
        # one fold: no spread
        expect(text, "| ESC-10, 300 epochs | 93.7 % | **87.5 %** (14/16; folds 87.5; "
               "10 min), 1 of 5 folds |")
        expect(text, "| ESC-50, 60 epochs | 86.1 % | **50.0 %**")
        readme = os.path.join(tmp, "README.md")
        with open(readme, "w") as f:
            f.write("# head\n<!-- paper-tables:begin -->\nOLD-TEXT\n<!-- paper-tables:end -->\ntail\n")
        run("--results", res, "--readme", readme)
        with open(readme) as f:
            doc = f.read()
        assert doc.startswith("# head\n<!-- paper-tables:begin -->\nTable 2"), doc[:80]
        assert doc.endswith("<!-- paper-tables:end -->\ntail\n"), doc[-80:]
        assert "OLD-TEXT" not in doc
        # a file without the markers is refused and left alone
        with open(readme, "w") as f:
            f.write("no markers\n")
        r = subprocess.run([sys.executable, SCRIPT, "--results", res, "--readme", readme],
                           capture_output=True, text=True)
        assert r.returncode == 2 and "paper-tables:begin" in r.stderr, r
        with open(readme) as f:
            assert f.read() == "no markers\n"
    print("ok")


if __name__ == "__main__":
    main()
