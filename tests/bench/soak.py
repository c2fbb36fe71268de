#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The soak test of the leave-it-running modes (make soak): the CPU-bound
churn (tests/bench/churn, server closes first, ~25,000-29,000 conn/s here:
the highest churn the benchmark has) for SOAK_SECS seconds under each mode,
one after the other:

  metrics  `tcptimeline --metrics 127.0.0.1:PORT -q`: counters only
  service  `tcptimeline --metrics 127.0.0.1:PORT --abnormal --json`: what
           systemd/tcptimeline.service runs; every connection's story held
           until it closes (the mode whose memory could grow), the stories
           of those that went wrong printed (to a file here)

Each is scraped once a second as Prometheus would, the tracer's RSS sampled
from /proc. Reports, per mode, the RSS over time and whether it stayed flat,
the churn's rate, the tracer's CPU and lost events (from its own metrics);
exit status 1 when, in any mode:

- the RSS grew: after a warm-up (the first tenth of the run, at least 10 s)
  it rose more than 1 MiB above what it was at the end of the warm-up (the
  tracer's tables are fixed-size or bounded, so steady growth is a leak);
- an event was lost (tcptimeline_lost_events_total), a scrape failed, or
  the tracer did not exit 0;
- the tracer did not keep up: it counted fewer sockets opened than the
  churn made connections (each one has both ends on this host);
- the churn reported errors or made no connections;
- (service) what it printed is not JSON Lines of connections that went
  wrong: a `close` with a normal cause whose connection had no retransmit,
  reset, error, drop or stall.

    sudo python3 tests/bench/soak.py --tracer ./tcptimeline --churn .output/bench/churn \
        [--secs 600] [--mode metrics --mode service] [--port 9464] [--churn-port 7778] \
        [--workers 4]
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import tempfile
import time
import urllib.request

TOLERANCE_KIB = 1024
MODES = {
    "metrics": ["-q"],
    "service": ["--abnormal", "--json"],
}
NORMAL_CAUSES = {"app_close", "peer_close", "process_exit"}
WENT_WRONG = {"retransmit", "rst", "error", "drop", "window"}


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
    ap.add_argument("--mode", action="append", choices=sorted(MODES),
                    help="metrics, service (repeat; default both, or $SOAK_MODES)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("soak: must run as root (sudo make soak)", file=sys.stderr)
        return 2
    for path in (a.tracer, a.churn):
        if not os.access(path, os.X_OK):
            print("soak: no %s: run make all bench-bins first" % path, file=sys.stderr)
            return 2
    modes = a.mode or os.environ.get("SOAK_MODES", "metrics service").split()
    for m in modes:
        if m not in MODES:
            print("soak: unknown mode %r (metrics, service)" % m, file=sys.stderr)
            return 2
    print("# make soak: %d s of churn per mode, modes: %s" % (a.secs, ", ".join(modes)))
    results = [(m, run_mode(a, m)) for m in modes]
    print()
    for m, ok in results:
        print("- %s: %s" % (m, "PASS" if ok else "FAIL"))
    return 0 if all(ok for _, ok in results) else 1


def run_mode(a, mode):
    """One soak run; prints its report, returns whether it passed."""
    every = a.every or max(1.0, a.secs / 60.0)
    args = ["--metrics", "127.0.0.1:%d" % a.port] + MODES[mode]
    out_file = tempfile.TemporaryFile(mode="w+")
    tr = subprocess.Popen([a.tracer] + args, stdout=out_file, stderr=subprocess.PIPE, text=True)
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
        return False

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
            tr.wait()

    last = out.strip().splitlines()[-1] if out.strip() else ""
    m = re.search(r"conns=(\d+).*rate=([\d.]+) errors=(\d+)", last)
    conns, rate, errors = (int(m.group(1)), float(m.group(2)), int(m.group(3))) if m else \
        (0, 0.0, -1)
    warm = max(10.0, a.secs / 10.0)
    base = [s for s in samples if s[0] <= warm]
    after = [s for s in samples if s[0] > warm]
    base_rss = base[-1][1] if base else samples[0][1]
    peak_after = max((s[1] for s in after), default=base_rss)
    growth = peak_after - base_rss
    lost = int(metrics.get("tcptimeline_lost_events_total", 0))
    opened = int(metrics.get("tcptimeline_connections_opened_total", 0))
    flat = growth <= TOLERANCE_KIB
    kept_up = conns > 0 and opened >= conns
    printed, bad_lines, normal_closes, kinds, wrong = 0, 0, 0, {}, set()
    out_file.seek(0)
    for line in out_file:
        printed += 1
        try:
            ev = json.loads(line)
        except ValueError:
            bad_lines += 1
            continue
        kinds[ev.get("event")] = kinds.get(ev.get("event"), 0) + 1
        # --abnormal prints a connection that closed normally too if it had a
        # retransmit, a reset, an error, a drop or a stall (README): its story
        # comes whole, before its close
        if ev.get("event") in WENT_WRONG:
            wrong.add(ev.get("conn"))
        if (ev.get("event") == "close" and ev.get("cause") in NORMAL_CAUSES and
                ev.get("conn") not in wrong):
            normal_closes += 1
    out_ok = bad_lines == 0 and normal_closes == 0 if mode == "service" else printed == 0

    print()
    print("## %s: %d s of churn under `tcptimeline %s`" % (mode, a.secs, " ".join(args)))
    print()
    print("| t (s) | tracer RSS (KiB) | connections counted | series |")
    print("| ---: | ---: | ---: | ---: |")
    for t_, rss, counted, series in samples:
        print("| %.0f | %d | %d | %d |" % (t_, rss, counted, series))
    print()
    print("- churn: %s" % last)
    print("- tracer CPU: %.1f s over %.0f s (%.1f%% of one CPU; %.2f ms per 1000 connections)" %
          (cpu, t, 100 * cpu / t if t else 0,
           1000 * cpu / (rate * t / 1000) if rate and t else 0))
    print("- sockets counted opened: %d for %d churn connections: %s" %
          (opened, conns, "kept up" if kept_up else "FELL BEHIND"))
    print("- lost events: %d; scrape errors: %d" % (lost, scrape_errors))
    print("- printed: %d lines (%d not JSON, %d normal closes of connections with nothing"
          " wrong; events %s)%s" %
          (printed, bad_lines, normal_closes,
           ", ".join("%s %d" % kv for kv in sorted(kinds.items(), key=str)) or "none",
           "" if out_ok else ": NOT what this mode prints"))
    print("- RSS: %d KiB at the end of the %.0f s warm-up, at most %d KiB after (%+d KiB): %s" %
          (base_rss, warm, peak_after, growth,
           "FLAT" if flat else "GREW by more than %d KiB" % TOLERANCE_KIB))
    print("- tracer exit status: %s; its last lines: %s" %
          (tr.returncode, " / ".join(err_lines[-2:])))
    return (flat and lost == 0 and scrape_errors == 0 and tr.returncode == 0 and kept_up and
            errors == 0 and out_ok)


if __name__ == "__main__":
    sys.exit(main())
