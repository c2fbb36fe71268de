#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The benchmark's statistics and report against a recorded run (no root,
no tracer): tests/bench/golden holds the results.tsv, progs.tsv and meta of a
2-round run of all three workloads, and the report the shell version of
bench.sh wrote from them (bash and awk did the arithmetic then). bench.py
must write the same report, figure for figure, so that numbers do not move
when the code that computes them changes. Prints PASS/FAIL lines; exit
status 1 if any failed. UPDATE_GOLDEN=1 rewrites golden/report.md (read the
diff: every changed figure must be explained)."""
import difflib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import bench  # noqa: E402

GOLDEN = os.path.join(HERE, "golden")
failed = 0


def check(name, ok, detail=""):
    global failed
    print("%s bench_report: %s%s" % ("PASS" if ok else "FAIL", name,
                                      ": " + detail if detail and not ok else ""))
    failed += not ok


def main():
    with open(os.path.join(GOLDEN, "meta.json")) as f:
        meta = json.load(f)
    rows = bench.read_tsv(os.path.join(GOLDEN, "results.tsv"))
    progs = bench.read_tsv(os.path.join(GOLDEN, "progs.tsv"))
    got = bench.report(meta, rows, progs)
    path = os.path.join(GOLDEN, "report.md")
    if os.environ.get("UPDATE_GOLDEN"):
        with open(path, "w") as f:
            f.write(got)
    with open(path) as f:
        want = f.read()
    diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                        "golden/report.md", "bench.report()"))
    check("the recorded run's report, figure for figure", got == want, "\n" + diff)

    # the medians of two runs fall on ties; bash printed them from a long double
    for s, d, want in (("0.8225", 3, "0.822"), ("0.8235", 3, "0.824"), ("23556.5", 0, "23556"),
                       ("23557.5", 0, "23558"), ("1.2345", 3, "1.235"), ("0.0005", 3, "0.000")):
        check("printf %%.%df %s is %s as in bash" % (d, s, want), bench.shell_fmt(s, d) == want,
              bench.shell_fmt(s, d))
    check("an odd count's median is the middle value as recorded",
          bench.median(["3.0", "1.5", "2.25"]) == "2.25")
    check("an even count's median has awk's 6 significant digits",
          bench.median(["1.234567", "1.234568"]) == "1.23457" and
          bench.median(["1000000", "1000002"]) == "1000001")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
