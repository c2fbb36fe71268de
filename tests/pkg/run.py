#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Packaging tests: make install / uninstall into a temporary DESTDIR (no
root), make stopping at once on missing build dependencies (no root),
-V/--version's report (no root), and the Debian package built, installed,
run and removed (root; skipped without).

tests/pkg/run.py [-k NAME] [--tracer PATH]
Prints `PASS name`, `FAIL name: why` or `SKIP name: why` per test and ends
with `N passed, N failed, N skipped`.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def make(*args, env=None, timeout=300):
    return subprocess.run(["make", "-C", ROOT, "--no-print-directory"] + list(args),
                          capture_output=True, text=True, env=env, timeout=timeout)


def tree(root):
    """Every file and symlink under root, relative to it; and every directory."""
    files, dirs = set(), set()
    for d, subdirs, names in os.walk(root):
        for n in subdirs:
            p = os.path.join(d, n)
            (files if os.path.islink(p) else dirs).add(os.path.relpath(p, root))
        for n in names:
            files.add(os.path.relpath(os.path.join(d, n), root))
    return files, dirs


def expected_install(prefix):
    p = prefix.lstrip("/")
    files = {f"{p}/sbin/tcptimeline", f"{p}/share/man/man8/tcptimeline.8",
             f"{p}/share/bash-completion/completions/tcptimeline",
             f"{p}/share/doc/tcptimeline/README.md"}
    files |= {f"{p}/share/doc/tcptimeline/{os.path.basename(d)}"
              for d in glob.glob(os.path.join(ROOT, "docs", "*.md"))}
    if os.path.exists(os.path.join(ROOT, "systemd", "tcptimeline.service")):
        files.add(f"{p}/lib/systemd/system/tcptimeline.service")
    return files


def test_install_uninstall(args):
    for prefix in ("/usr/local", "/usr"):
        with tempfile.TemporaryDirectory() as dest:
            margs = [f"DESTDIR={dest}"] + ([] if prefix == "/usr/local" else [f"PREFIX={prefix}"])
            p = make("install", *margs)
            check(p.returncode == 0, f"make install {' '.join(margs)}: {p.stderr.strip()[-300:]}")
            files, _ = tree(dest)
            want = expected_install(prefix)
            check(files == want, f"PREFIX={prefix}: installed {sorted(files - want)} that should "
                  f"not be there, missing {sorted(want - files)}")
            sbin = os.path.join(dest, prefix.lstrip("/"), "sbin", "tcptimeline")
            check(os.stat(sbin).st_mode & 0o777 == 0o755, "the binary is not mode 0755")
            for f in files - {os.path.relpath(sbin, dest)}:
                mode = os.stat(os.path.join(dest, f)).st_mode & 0o777
                check(mode == 0o644, f"{f} is mode {mode:o}, not 0644")
            v = subprocess.run([sbin, "--version"], capture_output=True, text=True, timeout=10)
            check(v.returncode == 0 and v.stdout.startswith("tcptimeline "),
                  f"the installed binary's --version: {v.returncode} {v.stdout[:80]!r}")
            unit = os.path.join(dest, prefix.lstrip("/"), "lib/systemd/system/tcptimeline.service")
            if os.path.exists(unit):
                text = open(unit).read()
                check(f"{prefix}/sbin/tcptimeline" in text,
                      f"the installed unit does not run {prefix}/sbin/tcptimeline")
            p = make("uninstall", *margs)
            check(p.returncode == 0, f"make uninstall: {p.stderr.strip()[-300:]}")
            files, dirs = tree(dest)
            check(not files, f"left after make uninstall: {sorted(files)}")
            # only the shared directories (sbin, share/man/man8, ...) stay
            left = sorted(d for d in dirs if "tcptimeline" in d)
            check(not left, f"directories left after make uninstall: {left}")


TESTS = [test_install_uninstall]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracer", default=os.path.join(ROOT, "tcptimeline"))
    ap.add_argument("-k", help="run tests whose name contains this")
    args = ap.parse_args()
    args.tracer = os.path.abspath(args.tracer)
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for t in TESTS:
        name = t.__name__[5:]
        if args.k and args.k not in name:
            continue
        try:
            t(args)
            res, why = "PASS", ""
        except Skip as e:
            res, why = "SKIP", f": {e}"
        except Failure as e:
            res, why = "FAIL", f": {e}"
        except Exception as e:  # a crash of the test itself is a failure too
            res, why = "FAIL", f": {type(e).__name__}: {e}"
        counts[res] += 1
        print(f"{res} {name}{why}", flush=True)
    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
