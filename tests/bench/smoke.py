#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Smoke test of the benchmark (make check runs it): one round of one second
of churn and bulk under every configuration, then checks that every run
completed, measured something, and lost nothing, and that the report and the
per-program stats are there. It asserts that the benchmark works, never what
the numbers are: ratios are what `make bench` is for.

Usage (root): tests/bench/smoke.py TRACER NOOUT_TRACER
Prints PASS/FAIL lines; exit status 1 if any failed."""
import csv
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKLOADS = ["churn", "bulk"]
CONFIGS = ["none", "tcpstates", "tcplife", "tt", "tt_noout", "tt_nomatch"]
TT_CONFIGS = ["tt", "tt_noout", "tt_nomatch"]
LABELS = {
    "none": "no tracer",
    "tcpstates": "libbpf-tools `tcpstates`",
    "tcplife": "libbpf-tools `tcplife`",
    "tt": "tcptimeline, no filter",
    "tt_noout": "tcptimeline, no filter, output compiled out",
    "tt_nomatch": "tcptimeline `-P 1` (matches nothing)",
    "tt_metrics": "tcptimeline `--metrics ADDR -q`",
    "tt_abnormal": "tcptimeline `--abnormal --json`",
}
# the leave-it-running configurations, with the option each needs: checked
# when the tracer under test has it
OPTIONAL = {"tt_metrics": "--metrics", "tt_abnormal": "--abnormal"}

failed = 0


def check(name, ok, detail=""):
    global failed
    if ok:
        print("PASS bench_smoke: %s" % name)
    else:
        failed += 1
        print("FAIL bench_smoke: %s%s" % (name, ": " + detail if detail else ""))


def read_tsv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def main():
    if len(sys.argv) != 3:
        print("usage: tests/bench/smoke.py TRACER NOOUT_TRACER", file=sys.stderr)
        return 2
    tracer, noout = (os.path.abspath(p) for p in sys.argv[1:3])
    h = subprocess.run([tracer, "--help"], capture_output=True, text=True)
    for c, opt in OPTIONAL.items():
        if re.search(r"(^|[\s,])%s\b" % re.escape(opt), h.stdout + h.stderr):
            CONFIGS.append(c)
            TT_CONFIGS.append(c)
    out = tempfile.mkdtemp(prefix="tt-bench-smoke.")
    env = dict(os.environ,
               OUT=out, TRACER=tracer, TRACER_NOOUT=noout,
               ROUNDS="1", SECS="1", WARMUP="1",
               WORKLOADS=" ".join(WORKLOADS), CONFIGS=" ".join(CONFIGS),
               BPF_STATS_FOR="tt tt_nomatch",
               # whatever else the machine does, keep every run: this checks
               # that the benchmark works, not what it measures
               QUIET_WAIT="5", BG_MAX="100",
               CHURN_PORT="7787", BULK_PORT="7788", METRICS_PORT="7789")
    p = subprocess.run(["bash", os.path.join(ROOT, "tests/bench/bench.sh")], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=900)
    check("bench.sh exits 0", p.returncode == 0,
          "exit %d, last lines:\n%s" % (p.returncode, "\n".join(p.stdout.splitlines()[-15:])))
    if p.returncode != 0:
        return 1

    rows = read_tsv(os.path.join(out, "results.tsv"))
    for w in WORKLOADS:
        for c in CONFIGS:
            runs = [r for r in rows if r["round"] == "1" and r["workload"] == w and r["config"] == c]
            ok = len(runs) == 1 and runs[0]["status"] == "ok" and float(runs[0]["value"] or 0) > 0
            check("%s %s ran and measured" % (w, c), ok, repr(runs))
            if c in TT_CONFIGS and runs:
                check("%s %s lost no event" % (w, c), runs[0]["lost"] == "0",
                      "lost=%r" % runs[0]["lost"])

    progs = read_tsv(os.path.join(out, "progs.tsv"))
    for c in ("tt", "tt_nomatch"):
        churn = {r["prog"]: int(r["run_cnt"]) for r in progs
                 if r["round"] == "profile" and r["workload"] == "churn" and r["config"] == c}
        for prog in ("inet_sock_set_state", "tcp_probe", "tcp_destroy_sock"):
            check("churn %s profile counts %s runs" % (c, prog), churn.get(prog, 0) > 0,
                  repr(churn))

    with open(os.path.join(out, "report.md")) as f:
        report = f.read()
    for w in WORKLOADS:
        for c in CONFIGS:
            # | workload | label | median | min-max | ratio | ...
            pat = r"^\| %s \| %s[^|]* \| [0-9.]+ [a-zA-Z/]+ \| [^|]+ \| ([0-9.]+) \|" % (
                re.escape(w), re.escape(LABELS[c]))
            m = re.search(pat, report, re.M)
            check("report has %s %s with a ratio" % (w, c), m is not None and float(m.group(1)) > 0)
    check("report has the per-program table", "| `inet_sock_set_state` |" in report)
    # a tracer that reports its ring output at exit: per connection in the report
    if any(r.get("ring_records") for r in rows if r["config"] == "tt"):
        m = re.search(r"^\| churn \| %s \| ([0-9.]+) \| ([0-9]+) \| ([0-9]+) \|$" %
                      re.escape(LABELS["tt"]), report, re.M)
        check("report has churn tt ring records and bytes per connection",
              m is not None and float(m.group(1)) > 0 and int(m.group(2)) > 0)
    subprocess.run(["rm", "-rf", out])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
