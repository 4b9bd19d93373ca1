#!/usr/bin/python3
"""Counts the results of meson test logs and prints 'N passed, N failed'.

usage: summary.py BUILD_FAILURES testlog.json...
Exit status 0 only when nothing failed."""
import json
import sys

failed = int(sys.argv[1])
passed = skipped = 0
for path in sys.argv[2:]:
    try:
        with open(path) as f:
            for line in f:
                r = json.loads(line).get("result")
                if r in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif r == "SKIP":
                    skipped += 1
                else:
                    failed += 1
    except OSError as e:
        print(f"cannot read {path}: {e}")
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
