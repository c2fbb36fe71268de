#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Integration tests: the real tracer on the running kernel, real sockets
between independent peer processes, assertions on its --json output.

Run as root: tests/integration/run.py [-k NAME[,NAME...]] [--tracer PATH] [--list]
-k runs the tests whose name contains any of the comma-separated parts;
TT_EXCLUDE (comma-separated whole names; TT_EXCLUDE_FILE, a file of them)
leaves those tests out: the kernel
matrix (tests/vm/run.sh) re-runs in a second boot only what did not pass.
Prints `PASS name`, `FAIL name: why` or `SKIP name: reason` per test and
ends with `N passed, N failed, N skipped`. TT_RETRY=1 (make check, when the
VM matrix runs beside on the same CPUs): a test that fails prints `RETRY
name: why` and runs once more after the others; its final line is PASS
(saying it was flaky, and why it failed first) or FAIL.

The tests live in the topic modules t_*.py beside this file, all imported
here in name order; the harness they share is harness.py (its header says
how to add a test).
"""
import argparse
import glob
import importlib
import os
import sys
import time
import traceback

# run as root from a user's checkout: leave no root-owned __pycache__ behind
sys.dont_write_bytecode = True

import harness  # noqa: E402
from harness import HERE, ROOT, Ctx, Failure, Skip  # noqa: E402


def load_tests():
    for path in sorted(glob.glob(os.path.join(HERE, "t_*.py"))):
        importlib.import_module(os.path.basename(path)[:-3])
    return harness.TESTS


def run_one(t, ctx):
    """Run one test: ("PASS" | "FAIL" | "SKIP", why, seconds)."""
    t0 = time.monotonic()
    try:
        t(ctx)
        return "PASS", "", time.monotonic() - t0
    except Skip as e:
        return "SKIP", str(e), 0
    except Failure as e:
        return "FAIL", str(e), 0
    except Exception:
        return "FAIL", traceback.format_exc().strip().replace("\n", " | "), 0
    finally:
        ctx.cleanup()


def report(t, status, why, secs):
    if status == "PASS":
        print("PASS %s (%.1f s)%s" % (t.__name__, secs, " " + why if why else ""))
    else:
        print("%s %s: %s" % (status, t.__name__, why))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", help="run tests whose name contains this (or any of a comma-separated list)")
    ap.add_argument("--tracer", default=os.environ.get("TRACER",
                                                       os.path.join(ROOT, "tcptimeline")))
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    parts = [k for k in (a.k or "").split(",") if k]
    exclude = set(n for n in os.environ.get("TT_EXCLUDE", "").split(",") if n)
    if os.environ.get("TT_EXCLUDE_FILE"):
        # the same, from a file (the kernel matrix's retry: too many names
        # for a guest's kernel command line)
        with open(os.environ["TT_EXCLUDE_FILE"]) as f:
            exclude |= set(n.strip() for n in f.read().replace(",", "\n").split() if n.strip())
    tests = [t for t in load_tests() if (not parts or any(k in t.__name__ for k in parts))
             and t.__name__ not in exclude]
    if a.list:
        for t in tests:
            print(t.__name__)
        return 0
    if os.geteuid() != 0:
        print("tests/integration: must run as root (sudo make check)", file=sys.stderr)
        return 2
    if not os.access(a.tracer, os.X_OK):
        print("tests/integration: no tracer at %s: run make first" % a.tracer, file=sys.stderr)
        return 2
    passed = failed = skipped = 0
    base = 21000 + (os.getpid() % 200) * 40
    retry = os.environ.get("TT_RETRY") == "1"
    again = []
    for i, t in enumerate(tests):
        status, why, secs = run_one(t, Ctx(a.tracer, base + i * 2))
        if status == "FAIL" and retry:
            # beside the VM matrix (make check): a test that failed runs once
            # more after the others, and its line says it failed once
            print("RETRY %s: %s" % (t.__name__, why))
            again.append((t, why))
        else:
            report(t, status, why, secs)
            passed += status == "PASS"
            failed += status == "FAIL"
            skipped += status == "SKIP"
        sys.stdout.flush()
    for k, (t, first) in enumerate(again):
        status, why, secs = run_one(t, Ctx(a.tracer, base + (len(tests) + k) * 2))
        if status == "PASS":
            why = "flaky: passed on the retry; the first attempt: %s" % first
        report(t, status, why, secs)
        passed += status == "PASS"
        failed += status == "FAIL"
        skipped += status == "SKIP"
        sys.stdout.flush()
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
