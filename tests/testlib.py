# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""What every Python suite under tests/ shares (docs, html, pkg and the
integration harness): a test passes by returning, fails with check()
(Failure) or any other exception, is skipped by raising Skip("why"); run()
prints `PASS name`, `FAIL name: why` or `SKIP name: why` per test (what
tests/check.sh counts) and `N passed, N failed, N skipped`."""
import shutil


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def need(tool, package):
    """The path of tool, or a failure naming the Debian package to install."""
    path = shutil.which(tool)
    if not path:
        raise Failure(f"needs {tool} (Debian {package}): run tests/install-deps.sh as root")
    return path


def run(tests, args, select=None):
    """Each test_NAME(args) in tests whose NAME contains select (all if None);
    the exit status: 1 if any failed."""
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for t in tests:
        name = t.__name__[5:]
        if select and select not in name:
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
