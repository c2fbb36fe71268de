#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The soak test of the leave-it-running mode (make soak): the CPU-bound
churn (tests/bench/churn, server closes first, ~25,000-29,000 conn/s here)
for SOAK_SECS seconds under `tcptimeline --metrics 127.0.0.1:PORT -q`,
scraped once a second as Prometheus would, the tracer's RSS sampled from
/proc. Reports the RSS over time and whether it stayed flat, the churn's
rate, the tracer's CPU and lost events (from its own metrics); exit status 1
when the RSS grew or events were lost.

Flat means: after a warm-up (the first tenth of the run, at least 10 s) the
RSS never rose more than 1 MiB above what it was at the end of the warm-up.
The tracer's tables are fixed-size or bounded, so any steady growth is a
leak.

    sudo python3 tests/bench/soak.py --tracer ./tcptimeline --churn .output/bench/churn \
        [--secs 600] [--port 9464] [--churn-port 7778] [--workers 4]
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

TOLERANCE_KIB = 1024


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


def cpu_secs(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    vals = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, v = line.rsplit(" ", 1)
            name = series.split("{", 1)[0]
            vals[name] = vals.get(name, 0.0) + float(v)
    return vals, len([l for l in text.splitlines() if l and not l.startswith("#")])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracer", required=True)
    ap.add_argument("--churn", required=True)
    ap.add_argument("--secs", type=int, default=int(os.environ.get("SOAK_SECS", "600")))
    ap.add_argument("--port", type=int, default=9464, help="the tracer's --metrics port")
    ap.add_argument("--churn-port", type=int, default=7778)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--every", type=float, default=0, help="RSS sample interval (s)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("soak: must run as root (sudo make soak)", file=sys.stderr)
        return 2
    for path in (a.tracer, a.churn):
        if not os.access(path, os.X_OK):
            print("soak: no %s: run make all bench-bins first" % path, file=sys.stderr)
            return 2
    every = a.every or max(1.0, a.secs / 60.0)

    tr = subprocess.Popen([a.tracer, "--metrics", "127.0.0.1:%d" % a.port, "-q"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err_lines = []
    ready = threading.Event()

    def read_err():
        for line in tr.stderr:
            err_lines.append(line.rstrip("\n"))
            if line.startswith("tcptimeline: tracing"):
                ready.set()
        ready.set()
    threading.Thread(target=read_err, daemon=True).start()
    if not ready.wait(60) or tr.poll() is not None:
        print("soak: the tracer did not start: %r" % err_lines, file=sys.stderr)
        tr.kill()
        return 1

    churn = subprocess.Popen([a.churn, "-p", str(a.churn_port), "-w", str(a.workers), "-d",
                              str(a.secs)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    t0 = time.monotonic()
    cpu0 = cpu_secs(tr.pid)
    samples = []  # (t, rss KiB, connections counted, series)
    next_sample = 0.0
    metrics = {}
    nseries = 0
    scrape_errors = 0
    try:
        while churn.poll() is None:
            # a scrape a second, as a Prometheus with a 1 s interval would do
            try:
                metrics, nseries = scrape(a.port)
            except OSError:
                scrape_errors += 1
            t = time.monotonic() - t0
            if t >= next_sample:
                samples.append((t, rss_kib(tr.pid),
                                metrics.get("tcptimeline_connections_opened_total", 0),
                                nseries))
                next_sample += every
            time.sleep(1)
        out = churn.stdout.read()
        t = time.monotonic() - t0
        cpu = cpu_secs(tr.pid) - cpu0
        metrics, nseries = scrape(a.port)
        samples.append((t, rss_kib(tr.pid),
                        metrics.get("tcptimeline_connections_opened_total", 0), nseries))
    finally:
        if churn.poll() is None:
            churn.kill()
        tr.send_signal(signal.SIGINT)
        try:
            tr.wait(30)
        except subprocess.TimeoutExpired:
            tr.kill()

    last = out.strip().splitlines()[-1] if out.strip() else ""
    m = re.search(r"rate=([\d.]+)", last)
    rate = float(m.group(1)) if m else 0.0
    warm = max(10.0, a.secs / 10.0)
    base = [s for s in samples if s[0] <= warm]
    after = [s for s in samples if s[0] > warm]
    base_rss = base[-1][1] if base else samples[0][1]
    peak_after = max((s[1] for s in after), default=base_rss)
    growth = peak_after - base_rss
    lost = int(metrics.get("tcptimeline_lost_events_total", 0))
    flat = growth <= TOLERANCE_KIB

    print("## make soak: %d s of churn under `tcptimeline --metrics 127.0.0.1:%d -q`" %
          (a.secs, a.port))
    print()
    print("| t (s) | tracer RSS (KiB) | connections counted | series |")
    print("| ---: | ---: | ---: | ---: |")
    for t, rss, conns, series in samples:
        print("| %.0f | %d | %d | %d |" % (t, rss, conns, series))
    print()
    print("- churn: %s" % last)
    print("- tracer CPU: %.1f s over %.0f s (%.1f%% of one CPU; %.2f ms per 1000 connections)" %
          (cpu, t, 100 * cpu / t if t else 0,
           1000 * cpu / (rate * t / 1000) if rate and t else 0))
    print("- lost events: %d; scrape errors: %d" % (lost, scrape_errors))
    print("- RSS: %d KiB at the end of the %.0f s warm-up, at most %d KiB after (%+d KiB): %s" %
          (base_rss, warm, peak_after, growth,
           "FLAT" if flat else "GREW by more than %d KiB" % TOLERANCE_KIB))
    print("- tracer exit status: %s; its last lines: %s" %
          (tr.returncode, " / ".join(err_lines[-2:])))
    return 0 if flat and lost == 0 and tr.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
