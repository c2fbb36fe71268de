#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""tcptimeline overhead benchmark: the runs, the sampling and the report.
tests/bench/bench.sh (the driver `make bench` runs) installs what is missing,
builds the workloads and runs this; the cost model it measures is described
in docs/architecture.md, "Where the cost is".

Three loopback workloads, each run under every configuration, interleaved in
one run so that drift (frequency, other load, TIME_WAIT build-up) hits all of
them alike:

  churn     connections/s, server closes first: CPU-bound, so a tracer's cost
            shows in full
  churn_tw  connections/s, client closes first (churn -c): capped (~14,000/s
            on 2 CPUs) by recycling TIME_WAIT ports
            (net.ipv4.tcp_tw_reuse_delay), not by CPU; the spare CPU is burnt
            in connect()'s port search and absorbs a tracer's cost up to that
            much. It is the pattern of most real clients (the client closes
            first) and the setup of the project's first measurements, kept to
            compare with them.
  bulk      Gbit/s, one stream of small writes (per-segment cost)

and configurations (CONFIGS below):

  none        no tracer
  tcpstates   libbpf-tools tcpstates (anchor: one perf record per event)
  tcplife     libbpf-tools tcplife   (anchor: one perf record per socket)
  tt          tcptimeline --json, no filter
  tt_noout    the same with its ring output compiled out (TRACER_NOOUT, a
              bench-only build): every BPF program does its bookkeeping,
              nothing leaves the kernel, the tracer has nothing to print.
              tt_nomatch -> tt_noout -> tt splits the cost into hooks and
              filter, per-socket bookkeeping, and output
  tt_nomatch  tcptimeline -P 1 --json (filter matches nothing)
  tt_metrics  tcptimeline --metrics 127.0.0.1:METRICS_PORT -q: the
              leave-it-running mode, counters served to Prometheus, nothing
              printed per connection
  tt_abnormal tcptimeline --abnormal --json: the other leave-it-running mode,
              only the connections that went wrong printed (none in these
              workloads: what is measured is holding every story until its
              close)
  tt_base     TRACER_BASE (another tcptimeline build, e.g. the one an issue's
              targets were measured on) with --json: its tracer CPU and
              ratio beside this build's, from the same rounds. Run only if
              TRACER_BASE is set (and then it is in the default CONFIGS);
              BASE_LABEL names it in the report
  (tt_metrics and tt_abnormal are skipped, and said so in the report, with
  a build whose --help lacks the option.)

Round 1: churn(every configuration) churn_tw(...) bulk(...); round 2: the
same (ORDER=fixed), or with the configurations rotated by one each round
(ORDER=rotate), so that none of them always runs first after another
workload.

Per run: start the tracer (stdout to TRACER_STDOUT), wait until it is
attached, read its CPU time, run the workload, read its CPU time and peak RSS
(VmHWM), stop it with SIGINT, collect its lost-event count.

Readiness:
  tcptimeline  its stderr line beginning "tcptimeline: tracing"
  anchors      their header goes to stdout, which is /dev/null here (and would
               sit in a stdio buffer anyway), so instead: bpftool perf show
               lists their inet_sock_set_state tracepoint attached by their
               pid, and they hold an epoll fd (the perf buffer, created right
               after attach, just before the header is printed).
  Both are bounded by READY_TIMEOUT seconds; a run that is not ready by then
  is recorded as failed.

Pinning: churn and the tracers are not pinned; they share the machine's CPUs
as they would in production, so the tracer's user-space work competes with
the workload and shows up in the churn ratio. bulk (sender and receiver
threads of one process) has both threads pinned to one CPU (BULK_CPUS, the
last CPU by default): unpinned, a small-write loopback stream flips between
"both threads on one CPU" and "one per CPU" (cross-CPU wakeups) from run to
run, and its throughput with it, by a factor of two. Pinned it is stable; the
per-segment BPF programs still run on that CPU, in the workload's context,
which is what bulk is there to measure. The tracer is free to use the other
CPU(s).

Environment (defaults in brackets):
  ROUNDS [5]  SECS [5]  TRACER [<repo>/tcptimeline]  OUT [<repo>/.output/bench]
  TRACER_NOOUT [$OUT/tcptimeline-noout]  (make bench builds it)
  WORKLOADS ["churn churn_tw bulk"]
  CONFIGS ["none tcpstates tcplife tt tt_noout tt_nomatch tt_metrics tt_abnormal",
              and tt_base if TRACER_BASE is set]
  TRACER_BASE [unset]  BASE_LABEL [its -V line]  (tt_base above)
  CHURN_PORT [7777]  CHURN_WORKERS [4]  CHURN_OPTS []  (churn_tw adds -c)
  BULK_PORT [7778]   BULK_WRITE [256]   BULK_OPTS []   METRICS_PORT [7779]
  BULK_CPUS [N,N: N = last CPU; "" for none]  bulk -C TX,RX thread pinning
  BPF_STATS_FOR ["tt tt_noout tt_nomatch"]  configs profiled after the rounds:
              one more run of each workload with kernel.bpf_stats_enabled=1
              (per-program run counts and times). The accounting costs ~2
              clock reads per program run, so these runs are kept out of the
              ratios; they count for lost events and peak RSS.
  TRACER_STDOUT [/dev/null]  where the tracers' output goes; a file path
              (truncated for each run) makes printing cost what it costs on
              disk
  READY_TIMEOUT [30]  STOP_TIMEOUT [20]
  TCPSTATES [/usr/sbin/tcpstates]  TCPLIFE [/usr/sbin/tcplife]
  ORDER [fixed]  fixed | rotate (see above)
  WARMUP [3]  seconds of each workload run unmeasured before round 1
  REPORT_ONLY [unset]  redo the report from the results already in $OUT
  QUIET_PCT [10]  QUIET_WAIT [60]: before each run, wait up to QUIET_WAIT s
              for the machine to be at most QUIET_PCT % busy (it may be shared)
  BG_MAX [10]  BG_RETRIES [3]: repeat a run (up to BG_RETRIES times) in which
              other processes used more than BG_MAX % of the machine; a run
              still over is kept as "noisy" and left out of the medians

Output: a markdown report on stdout and in $OUT/report.md; raw per-run
results in $OUT/results.tsv, per-program BPF stats in $OUT/progs.tsv, what
the report needs besides them in $OUT/meta.json, tracer stderr in $OUT/logs/.
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from fractions import Fraction

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = len(os.sched_getaffinity(0))  # as nproc counts them

RESULT_COLS = ["round", "workload", "config", "value", "units", "secs", "cpu_ticks", "hwm_kb",
               "lost", "status", "bg_pct", "steal_pct", "kthread_ticks", "ring_records",
               "ring_bytes"]
PROG_COLS = ["round", "workload", "config", "prog", "run_cnt", "run_time_ns"]
WORKLOADS = ["churn", "churn_tw", "bulk"]
# statuses of a run whose numbers count (profile runs have their own)
KEPT = ("ok", "workload-errors")


class Config:
    """One way of running a tracer (or none) beside the workload.

    tracer: "tt" (needs the tcptimeline build), "noout" (needs the no-output
    build) or "anchor" (libbpf-tools); args: the command after the binary
    ({metrics} is METRICS_ADDR); needs: an option the build must list in its
    --help, or the configuration is skipped (an older build measured)."""

    def __init__(self, label, tracer=None, args=(), needs=None):
        self.label, self.tracer, self.args, self.needs = label, tracer, list(args), needs

    @property
    def is_tt(self):
        return self.tracer in ("tt", "noout", "base")


# In report order.
CONFIGS = {
    "none": Config("no tracer"),
    "tcpstates": Config("libbpf-tools `tcpstates`", "anchor"),
    "tcplife": Config("libbpf-tools `tcplife`", "anchor"),
    "tt": Config("tcptimeline, no filter", "tt", ["--json"]),
    "tt_noout": Config("tcptimeline, no filter, output compiled out (bench build)", "noout",
                       ["--json"]),
    "tt_nomatch": Config("tcptimeline `-P 1` (matches nothing)", "tt", ["-P", "1", "--json"]),
    "tt_metrics": Config("tcptimeline `--metrics ADDR -q` (counters only)", "tt",
                         ["--metrics", "{metrics}", "-q"], needs="--metrics"),
    "tt_abnormal": Config("tcptimeline `--abnormal --json` (what went wrong only)", "tt",
                          ["--abnormal", "--json"], needs="--abnormal"),
    "tt_base": Config("tcptimeline, no filter: the TRACER_BASE build", "base", ["--json"]),
}


def note(msg):
    print("bench: %s" % msg, file=sys.stderr, flush=True)


def die(msg):
    note(msg)
    sys.exit(1)


def env(name, default):
    """$name, or default when unset or empty (the shell's ${name:-default})."""
    v = os.environ.get(name, "")
    return v if v != "" else default


def env_set(name, default):
    """$name, or default only when unset: empty means empty (${name-default})."""
    return os.environ.get(name, default)


def env_num(name, default):
    v = env(name, str(default))
    try:
        return float(v)
    except ValueError:
        die("%s must be a number, not %r" % (name, v))


# ---------------------------------------------------------------- sampling

def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def cpu_ticks(pid):
    """utime+stime of a process (all threads), in clock ticks; 0 if gone."""
    stat = read("/proc/%d/stat" % pid)
    if stat is None:
        return 0
    f = stat.rsplit(") ", 1)[1].split()  # comm may hold spaces or ')'
    return int(f[11]) + int(f[12])  # f[0] is field 3 (state)


def vm_hwm_kb(pid):
    st = read("/proc/%d/status" % pid) or ""
    m = re.search(r"^VmHWM:\s+(\d+)", st, re.M)
    return m.group(1) if m else ""


def prog_ids(pid):
    """Unique BPF program ids held by a process (prog fds and link fds)."""
    ids = set()
    for path in glob.glob("/proc/%d/fdinfo/*" % pid):
        for line in (read(path) or "").splitlines():
            if line.startswith("prog_id:"):
                ids.add(int(line.split()[1]))
    return sorted(ids)


def prog_stats(pid):
    """[(name, run_cnt, run_time_ns)] of the process's programs, by id."""
    ids = prog_ids(pid)
    if not ids:
        return []
    r = subprocess.run(["bpftool", "prog", "show", "--json"], capture_output=True, text=True)
    try:
        progs = {p["id"]: p for p in json.loads(r.stdout)}
    except ValueError:
        return []
    return [(progs[i].get("name", ""), progs[i].get("run_cnt", 0), progs[i].get("run_time_ns", 0))
            for i in ids if i in progs]


def anchor_ready(pid):
    """Is the anchor attached (a perf-event tracepoint held by its pid) and
    has it created its perf buffer (an epoll fd)?"""
    r = subprocess.run(["bpftool", "perf", "show", "--json"], capture_output=True, text=True)
    try:
        perf = json.loads(r.stdout or "[]")
    except ValueError:
        return False
    if not any(p.get("pid") == pid and p.get("tracepoint") == "inet_sock_set_state"
               for p in perf):
        return False
    for fd in glob.glob("/proc/%d/fd/*" % pid):
        try:
            if os.readlink(fd) == "anon_inode:[eventpoll]":
                return True
        except OSError:
            pass
    return False


def proc_stat_cpu():
    """The aggregate cpu line of /proc/stat: user nice system idle iowait irq
    softirq steal (guest and guest_nice are inside user)."""
    return [int(x) for x in read("/proc/stat").splitlines()[0].split()[1:9]]


def cpu_busy_pct(secs):
    """Whole-machine non-idle CPU % over secs seconds, rounded."""
    a = proc_stat_cpu()
    time.sleep(secs)
    b = proc_stat_cpu()
    d = [y - x for x, y in zip(a, b)]
    total, idle = sum(d), d[3] + d[4]
    return int("%.0f" % (100 * (total - idle) / total if total else 0))


def cpu_jiffies():
    """(busy, steal) jiffies of the whole machine so far."""
    c = proc_stat_cpu()
    return sum(c) - c[3] - c[4] - c[7], c[7]


def kthread_ticks():
    """utime+stime of all kernel threads (ksoftirqd, kworkers: work the runs
    cause outside the workload's own context), in clock ticks."""
    t = 0
    for path in glob.glob("/proc/[0-9]*/stat"):
        stat = read(path)
        if not stat:
            continue
        f = stat.rsplit(") ", 1)[1].split()  # f[0] state, f[1] ppid
        if f[1] == "2":
            t += int(f[11]) + int(f[12])
    return t


def field(key, line):
    """value of ` key=value` in a workload's machine-readable last line ('' if absent)"""
    m = re.findall(r"\s%s=(\S*)" % re.escape(key), line)
    return m[-1] if m else ""


def lost_events(cfg, err_text):
    """Lost events reported on the tracer's stderr. tcptimeline: its
    `tcptimeline: lost events: N` exit line ('?' if absent); anchors: the sum
    of libbpf-tools' `lost N events on CPU #C` lines (0 if none)."""
    if CONFIGS[cfg].is_tt:
        last = None
        for line in err_text.splitlines():
            m = re.match(r".*lost events: *(\d+)", line) or re.match(r".*lost (\d+)", line)
            if m:
                last = m.group(1)
        return last if last is not None else "?"
    return str(sum(int(m.group(1)) for m in re.finditer(r"^lost (\d+) events", err_text, re.M)))


def ring_counts(err_text):
    """(records, bytes) of tcptimeline's `tcptimeline: ring records: N (B
    bytes)` exit line, as strings; ('', '') from a build without it."""
    m = re.findall(r"^tcptimeline: ring records: (\d+) \((\d+) bytes\)", err_text, re.M)
    return m[-1] if m else ("", "")


def tcp_listening(port):
    for line in (read("/proc/net/tcp") or "").splitlines()[1:]:
        f = line.split()
        if f[1].endswith(":%04X" % port) and f[2] == "00000000:0000" and f[3] == "0A":
            return True
    return False


# ---------------------------------------------------------------- the runs

class Bench:
    def __init__(self):
        self.rounds = env("ROUNDS", "5")
        if not self.rounds.isdigit():
            die("ROUNDS must be a number")
        if int(self.rounds) < 1:
            die("ROUNDS must be >= 1")
        self.secs = env("SECS", "5")
        self.out = env("OUT", os.path.join(ROOT, ".output", "bench"))
        self.tracer = env("TRACER", os.path.join(ROOT, "tcptimeline"))
        self.tracer_noout = env("TRACER_NOOUT", os.path.join(self.out, "tcptimeline-noout"))
        self.workloads = env("WORKLOADS", "churn churn_tw bulk").split()
        self.tracer_base = env("TRACER_BASE", "")
        self.config_names = env("CONFIGS", " ".join(
            c for c in CONFIGS if c != "tt_base" or self.tracer_base)).split()
        self.churn_port = int(env_num("CHURN_PORT", 7777))
        self.churn_workers = env("CHURN_WORKERS", "4")
        self.churn_opts = env("CHURN_OPTS", "").split()
        self.bulk_port = int(env_num("BULK_PORT", 7778))
        self.metrics_port = int(env_num("METRICS_PORT", 7779))
        self.bulk_write = env("BULK_WRITE", "256")
        self.bulk_opts = env("BULK_OPTS", "").split()
        self.bulk_cpus = env_set("BULK_CPUS", "%d,%d" % (NCPU - 1, NCPU - 1))
        self.bpf_stats_for = env_set("BPF_STATS_FOR", "tt tt_noout tt_nomatch").split()
        self.ready_timeout = env_num("READY_TIMEOUT", 30)
        self.quiet_pct = env_num("QUIET_PCT", 10)
        self.quiet_wait = env_num("QUIET_WAIT", 60)
        self.bg_max = env("BG_MAX", "10")
        self.bg_retries = int(env_num("BG_RETRIES", 3))
        self.stop_timeout = env_num("STOP_TIMEOUT", 20)
        self.tracer_stdout = env("TRACER_STDOUT", "/dev/null")
        self.warmup = env("WARMUP", "3")
        self.order = env("ORDER", "fixed")
        self.tcpstates = env("TCPSTATES", "/usr/sbin/tcpstates")
        self.tcplife = env("TCPLIFE", "/usr/sbin/tcplife")
        self.logs = os.path.join(self.out, "logs")
        self.results = os.path.join(self.out, "results.tsv")
        self.progs = os.path.join(self.out, "progs.tsv")
        self.report = os.path.join(self.out, "report.md")
        self.meta = os.path.join(self.out, "meta.json")
        self.stats_orig = None
        self.tw_reuse_orig = None
        self.mounted_tracefs = None
        self.running = None  # the tracer of the run in progress

    # --- setup and cleanup

    def setup(self):
        try:
            os.makedirs(self.logs, exist_ok=True)
        except OSError as e:
            die("cannot create %s: %s" % (self.out, e))
        for f in glob.glob(os.path.join(self.logs, "*.err")):
            os.unlink(f)
        for b in ("churn", "bulk"):
            if not os.access(os.path.join(self.out, b), os.X_OK):
                die("%s/%s not built (make bench-bins, or run tests/bench/bench.sh)" %
                    (self.out, b))
        # The anchors attach classic tracepoints, which need tracefs for the
        # event id; tcptimeline (tp_btf) does not. Mount it only if absent,
        # and unmount what we mounted on exit.
        if not os.path.isdir("/sys/kernel/tracing/events") and \
                not os.path.isdir("/sys/kernel/debug/tracing/events"):
            if subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"]).returncode:
                die("cannot mount tracefs on /sys/kernel/tracing")
            self.mounted_tracefs = "/sys/kernel/tracing"
        self.stats_orig = self.sysctl("kernel.bpf_stats_enabled") or "0"
        self.tw_reuse_orig = self.sysctl("net.ipv4.tcp_tw_reuse") or "2"
        # churn_tw's client closes first and needs its TIME_WAIT ports recycled.
        if self.tw_reuse_orig == "0":
            note("net.ipv4.tcp_tw_reuse is 0: setting it to 2 (loopback only) for the run")
            if not self.sysctl_set("net.ipv4.tcp_tw_reuse", "2"):
                die("cannot set net.ipv4.tcp_tw_reuse")

        self.have_tt = self.have_noout = True
        self.tt_version = ""
        self.missing = {}  # configuration: the option this build lacks
        if not os.access(self.tracer, os.X_OK):
            self.have_tt = False
            note("%s not found: skipping the tcptimeline rows" % self.tracer)
        else:
            # Measure one build throughout, even if it is rebuilt meanwhile.
            self.tracer = self.copy(self.tracer, "tcptimeline.bench")
            v = subprocess.run([self.tracer, "-V"], capture_output=True, text=True)
            first = ((v.stdout + v.stderr).splitlines() or [""])[0]
            sha = subprocess.run(["sha256sum", self.tracer], capture_output=True, text=True)
            self.tt_version = "%s (sha256 %s)" % (first, sha.stdout[:12])
            h = subprocess.run([self.tracer, "--help"], capture_output=True, text=True)
            for name, c in CONFIGS.items():
                if name in self.config_names and c.needs and not re.search(r"(^|[\s,])%s\b" % re.escape(c.needs),
                                             h.stdout + h.stderr):
                    self.missing[name] = c.needs
        self.have_base = False
        if "tt_base" in self.config_names:
            if not self.tracer_base or not os.access(self.tracer_base, os.X_OK):
                die("tt_base needs TRACER_BASE, an executable tcptimeline build")
            self.tracer_base = self.copy(self.tracer_base, "tcptimeline-base.bench")
            self.have_base = True
            v = subprocess.run([self.tracer_base, "-V"], capture_output=True, text=True)
            first = ((v.stdout + v.stderr).splitlines() or [""])[0]
            label = env("BASE_LABEL", first)
            CONFIGS["tt_base"].label = "tcptimeline, no filter: the base build (%s)" % label
        if not os.access(self.tracer_noout, os.X_OK):
            self.have_noout = False
            note("%s not found (make bench builds it): skipping the tt_noout rows" %
                 self.tracer_noout)
        else:
            self.tracer_noout = self.copy(self.tracer_noout, "tcptimeline-noout.bench")

    def copy(self, src, name):
        dst = os.path.join(self.out, name)
        try:
            shutil.copy2(src, dst)
        except OSError as e:
            die("cannot copy %s: %s" % (src, e))
        return dst

    @staticmethod
    def sysctl(key):
        r = subprocess.run(["sysctl", "-n", key], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    @staticmethod
    def sysctl_set(key, value):
        return subprocess.run(["sysctl", "-qw", "%s=%s" % (key, value)],
                              capture_output=True).returncode == 0

    def cleanup(self):
        p = self.running
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGINT)
            time.sleep(1)
            p.kill()
            p.wait()
        if self.stats_orig is not None:
            self.sysctl_set("kernel.bpf_stats_enabled", self.stats_orig)
        if self.tw_reuse_orig == "0":
            self.sysctl_set("net.ipv4.tcp_tw_reuse", self.tw_reuse_orig)
        if self.mounted_tracefs:
            subprocess.run(["umount", self.mounted_tracefs], capture_output=True)

    # --- commands

    def tracer_cmd(self, cfg):
        c = CONFIGS[cfg]
        binary = {"tt": self.tracer, "noout": self.tracer_noout,
                  "base": self.tracer_base}.get(c.tracer)
        if c.tracer == "anchor":
            binary = self.tcpstates if cfg == "tcpstates" else self.tcplife
        return [binary] + [a.replace("{metrics}", "127.0.0.1:%d" % self.metrics_port)
                           for a in c.args]

    def workload_cmd(self, wl, secs=None):
        secs = self.secs if secs is None else secs
        if wl == "bulk":
            cmd = [os.path.join(self.out, "bulk"), "-p", str(self.bulk_port), "-s",
                   self.bulk_write, "-d", secs] + self.bulk_opts
            return cmd + (["-C", self.bulk_cpus] if self.bulk_cpus else [])
        cmd = [os.path.join(self.out, "churn"), "-p", str(self.churn_port), "-w",
               self.churn_workers, "-d", secs]
        return cmd + (["-c"] if wl == "churn_tw" else []) + self.churn_opts

    def wait_ready(self, cfg, p, err):
        """True once the tracer is ready, False on timeout or its death."""
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if p.poll() is not None:
                return False
            if CONFIGS[cfg].is_tt:
                if re.search(r"^tcptimeline: tracing", read(err) or "", re.M):
                    return True
            elif anchor_ready(p.pid):
                return True
            time.sleep(0.02)
        return False

    def wait_quiet(self):
        """Wait (bounded) until the machine is quiet; returns the last busy %."""
        t = time.monotonic() + self.quiet_wait
        while True:
            b = cpu_busy_pct(0.5)
            if b <= self.quiet_pct or time.monotonic() >= t:
                return b

    # --- one run

    def attempt(self, rnd, wl, cfg):
        """One measured run: (its results.tsv row, its background %, its
        per-program stats rows)."""
        err = os.path.join(self.logs, "r%s-%s-%s.err" % (rnd, wl, cfg))
        open(err, "w").close()
        progs = []
        stats = rnd == "profile"
        quiet = self.wait_quiet()
        if quiet > self.quiet_pct:
            note("round %s %s %s: machine still %d%% busy after %ss, running anyway" %
                 (rnd, wl, cfg, quiet, fmt_g(self.quiet_wait)))
        p = None
        cpu0 = cpu1 = 0
        hwm = lost = records = nbytes = ""
        status = "ok"
        if cfg != "none":
            if stats:
                self.sysctl_set("kernel.bpf_stats_enabled", "1")
            with open(self.tracer_stdout, "w") as o, open(err, "a") as e:
                p = subprocess.Popen(self.tracer_cmd(cfg), stdout=o, stderr=e,
                                     stdin=subprocess.DEVNULL)
            self.running = p
            if not self.wait_ready(cfg, p, err):
                note("round %s %s %s: tracer not ready after %ss (see %s)" %
                     (rnd, wl, cfg, fmt_g(self.ready_timeout), err))
                p.kill()
                p.wait()
                self.running = None
                if stats:
                    self.sysctl_set("kernel.bpf_stats_enabled", self.stats_orig)
                return [rnd, wl, cfg, "", "", "", "", "", "", "not-ready", "", "", "", "", ""], \
                    0.0, []
            cpu0 = cpu_ticks(p.pid)

        j0 = cpu_jiffies()
        k0 = kthread_ticks()
        with open(err, "a") as e:
            out = subprocess.run(self.workload_cmd(wl), stdout=subprocess.PIPE, stderr=e,
                                 text=True).stdout
        k1 = kthread_ticks()
        j1 = cpu_jiffies()
        last = (out.splitlines() or [""])[-1]

        if p is not None:
            cpu1 = cpu_ticks(p.pid)
            hwm = vm_hwm_kb(p.pid)
            if stats:
                progs = [[rnd, wl, cfg, name, str(n), str(ns)]
                         for name, n, ns in prog_stats(p.pid)]
            p.send_signal(signal.SIGINT)
            try:
                p.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                note("round %s %s %s: tracer ignored SIGINT for %ss, killing" %
                     (rnd, wl, cfg, fmt_g(self.stop_timeout)))
                p.kill()
                status = "killed"
            rc = p.wait()
            rc = 128 - rc if rc < 0 else rc  # as the shell reports a signal
            if status == "ok" and rc != 0:
                status = "exit-%d" % rc
            self.running = None
            if stats:
                self.sysctl_set("kernel.bpf_stats_enabled", self.stats_orig)
            lost = lost_events(cfg, read(err) or "")
            if CONFIGS[cfg].is_tt:
                records, nbytes = ring_counts(read(err) or "")

        if wl.startswith("churn"):
            value, units = field("rate", last), field("conns", last)
        else:
            value, units = field("gbps", last), field("bytes", last)
        errors, secs, wcpu = field("errors", last), field("secs", last), field("cpu", last)
        s = num(secs)
        # Background: CPU used during the run by neither the workload, the
        # tracer process nor kernel threads (i.e. other processes), and steal;
        # both in % of the machine.
        x = 100 * (((j1[0] - j0[0]) - (k1 - k0) - (cpu1 - cpu0)) / CLK_TCK - num(wcpu)) / \
            (s * NCPU) if s else 0
        bg = "%.1f" % max(x, 0)
        steal = "%.1f" % (100 * (j1[1] - j0[1]) / CLK_TCK / (s * NCPU) if s else 0)
        if not value:
            status = "workload-failed"
            note("round %s %s %s: workload failed: %s" % (rnd, wl, cfg, last))
        elif (errors or "0") != "0" and status == "ok":
            status = "workload-errors"
        row = [rnd, wl, cfg, value, units, secs, str(cpu1 - cpu0), hwm, lost, status, bg,
               steal, str(k1 - k0), records, nbytes]
        print("bench: round %s %-5s %-10s %10s %s  (background %s%%, steal %s%%)%s" %
              (rnd, wl, cfg, value or "-", "Gbit/s" if wl == "bulk" else "conn/s", bg, steal,
               "" if status == "ok" else " [%s]" % status), file=sys.stderr, flush=True)
        return row, float(bg), progs

    def run_one(self, rnd, wl, cfg):
        """A run, repeated (up to BG_RETRIES times) while other processes
        took more than BG_MAX % of the machine during it; the last attempt is
        kept, marked "noisy" if it is still over."""
        n = 0
        while True:
            row, bg, progs = self.attempt(rnd, wl, cfg)
            if not bg > float(self.bg_max):
                break
            if n >= self.bg_retries:
                if row[9] == "ok":
                    row[9] = "noisy"
                break
            n += 1
            note("round %s %s %s: %s%% background, repeating (%d/%d)" %
                 (rnd, wl, cfg, row[10], n, self.bg_retries))
        self.append(row, progs)

    def append(self, row, progs):
        with open(self.results, "a") as f:
            f.write("\t".join(row) + "\n")
        with open(self.progs, "a") as f:
            f.writelines("\t".join(r) + "\n" for r in progs)

    # --- all runs

    def run(self):
        configs = []
        for c in self.config_names:
            if c not in CONFIGS:
                die("unknown config '%s'" % c)
            t = CONFIGS[c].tracer
            if (t == "tt" and not self.have_tt) or (t == "noout" and not self.have_noout):
                continue
            if c in self.missing:
                note("%s has no %s: skipping the %s rows" % (self.tracer, self.missing[c], c))
                continue
            configs.append(c)
        for w in self.workloads:
            if w not in WORKLOADS:
                die("unknown workload '%s'" % w)
        if self.order not in ("fixed", "rotate"):
            die("ORDER must be fixed or rotate")
        for port in (self.churn_port, self.bulk_port, self.metrics_port):
            if tcp_listening(port):
                die("port %d is already listening" % port)

        busy_before = cpu_busy_pct(1)
        if busy_before > 10:
            note("warning: the machine is %d%% busy before starting; results will be noisy" %
                 busy_before)
        meta = {
            "START": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "KERNEL": os.uname().release, "NCPU": NCPU, "CLK_TCK": CLK_TCK,
            "BUSY_BEFORE": busy_before,
            "LOAD_BEFORE": " ".join(read("/proc/loadavg").split()[:3]),
            "TT_VERSION": self.tt_version, "HAVE_TT": self.have_tt,
            "HAVE_NOOUT": self.have_noout, "MISSING": self.missing, "TRACER": self.tracer,
            "TRACER_NOOUT": self.tracer_noout, "BASE_LABEL": CONFIGS["tt_base"].label,
            "ROUNDS": self.rounds, "SECS": self.secs,
            "WORKLOADS": self.workloads, "BPF_STATS_FOR": self.bpf_stats_for,
            "BG_MAX": self.bg_max, "ORDER": self.order, "TRACER_STDOUT": self.tracer_stdout,
            # the workloads' command lines, binaries without their directory
            "H": {w: " ".join(a.rsplit("/", 1)[-1] for a in self.workload_cmd(w))
                  for w in WORKLOADS},
        }
        self.write_meta(meta)
        with open(self.results, "w") as f:
            f.write("\t".join(RESULT_COLS) + "\n")
        with open(self.progs, "w") as f:
            f.write("\t".join(PROG_COLS) + "\n")

        note("ROUNDS=%s SECS=%s workloads: %s; configs: %s" %
             (self.rounds, self.secs, " ".join(self.workloads), " ".join(configs)))
        # An unmeasured run of each workload first: the first run after a
        # pause is consistently slower (caches, TIME_WAIT tables, CPU frequency).
        if self.warmup != "0":
            note("warm-up: %ss of each workload, not measured" % self.warmup)
            for w in self.workloads:
                if subprocess.run(self.workload_cmd(w, self.warmup), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL).returncode:
                    note("warm-up %s failed" % w)
        nc = len(configs)
        for r in range(1, int(self.rounds) + 1):
            for w in self.workloads:
                for i in range(nc):
                    c = configs[(i + r - 1) % nc] if self.order == "rotate" else configs[i]
                    self.run_one(str(r), w, c)
        meta["LOAD_AFTER"] = " ".join(read("/proc/loadavg").split()[:3])
        self.write_meta(meta)
        # Per-program costs, from runs of their own (status "profile").
        profiled = [c for c in self.bpf_stats_for if c in configs]
        if profiled:
            note("profile: one more run of each workload with %s, kernel.bpf_stats_enabled=1 "
                 "(not in the ratios)" % " ".join(profiled))
            for w in self.workloads:
                for c in profiled:
                    row, _, progs = self.attempt("profile", w, c)
                    if row[9] in KEPT:
                        row[9] = "profile"
                    self.append(row, progs)

    def write_meta(self, meta):
        with open(self.meta, "w") as f:
            json.dump(meta, f, indent=1)
            f.write("\n")


def num(s):
    """A TSV field as a number, as awk reads it: '' (or junk) is 0."""
    try:
        return float(s)
    except ValueError:
        return 0.0


def fmt_g(x):
    """A number as the shell would have printed the setting: 30, 0.5."""
    return "%g" % x


# ---------------------------------------------------------------- report

def read_tsv(path):
    with open(path) as f:
        lines = f.read().splitlines()
    cols = lines[0].split("\t")
    return [dict(zip(cols, line.split("\t"))) for line in lines[1:] if line]


def awk_str(x):
    """A computed number as awk prints it: whole numbers in full, others with
    6 significant digits (OFMT). The shell version passed its medians and
    sums from one step to the next as such strings, so the report's figures
    came from these; kept so that they do not move."""
    return "%d" % x if x == int(x) else "%.6g" % x


def shell_fmt(s, decimals):
    """printf '%.Nf' as bash does it, on the decimal string s: bash reads it
    as a long double (64-bit significand), rounded to nearest, then prints
    that exact value rounded half to even. It differs from a double's
    rounding at ties such as 0.8225, which medians of two runs produce."""
    x = Fraction(s)
    if x:
        a = abs(x)
        k = 63 - (a.numerator.bit_length() - a.denominator.bit_length())
        while a * Fraction(2) ** k >= 2 ** 64:
            k -= 1
        while a * Fraction(2) ** k < 2 ** 63:
            k += 1
        x = Fraction(round(a * Fraction(2) ** k)) / Fraction(2) ** k * (1 if x > 0 else -1)
    q = round(x * 10 ** decimals)
    sign = "-" if q < 0 or (q == 0 and x < 0) else ""
    q = abs(q)
    if not decimals:
        return sign + str(q)
    return "%s%d.%0*d" % (sign, q // 10 ** decimals, decimals, q % 10 ** decimals)


def median(v):
    """median of the strings v (as numbers), as the string awk printed"""
    v = sorted(v, key=float)
    n = len(v)
    return v[n // 2] if n % 2 else awk_str((float(v[n // 2 - 1]) + float(v[n // 2])) / 2)


def table_row(w, c, rows, meta, base):
    hz = meta.get("CLK_TCK", CLK_TCK)
    """The report's line for workload w under config c, and the median (the
    base of the ratios when c is none); (None, base) when there is no line."""
    label = CONFIGS[c].label
    mine = [r for r in rows if r["workload"] == w and r["config"] == c]
    kept = [r for r in mine if r["status"] in KEPT]
    n_all = sum(1 for r in mine if r["round"] != "profile")
    if n_all == 0:
        t = CONFIGS[c].tracer
        if t == "tt" and not meta["HAVE_TT"]:
            return "| %s | %s | skipped: `%s` not built | | | | | | |" % (w, label,
                                                                       meta["TRACER"]), base
        if t == "noout" and not meta["HAVE_NOOUT"]:
            return "| %s | %s | skipped: `%s` not built | | | | | | |" % (
                w, label, meta["TRACER_NOOUT"]), base
        if c in meta.get("MISSING", {}):
            return "| %s | %s | skipped: this build has no `%s` | | | | | | |" % (
                w, label, meta["MISSING"][c]), base
        return None, base
    values = [r["value"] for r in kept]
    med = float(median(values)) if values else None
    if c == "none":
        base = med
    if not values:
        return "| %s | %s | no usable run of %d (failed or noisy) | | | | | | |" % (
            w, label, n_all), base
    # tracer CPU (from readiness to just before SIGINT):
    # churn: ms per 1000 connections; bulk: % of a CPU
    t = sum(num(r["cpu_ticks"]) / hz for r in kept)
    if c == "none":
        cpu = "–"
    elif w.startswith("churn"):
        u = sum(num(r["units"]) for r in kept)
        cpu = "%.2f ms / 1000 conns" % (1e6 * t / u if u else 0)
    else:
        s = sum(num(r["secs"]) for r in kept)
        cpu = "%.1f%% of a CPU" % (100 * t / s if s else 0)
    hwm = [num(r["hwm_kb"]) for r in mine if r["hwm_kb"] != ""]
    rss = "%.1f MiB" % (max(hwm) / 1024) if hwm and max(hwm) else "–"
    if c == "none":
        lost = "–"
    elif any(r["lost"] == "?" for r in mine):
        lost = "not reported"
    else:
        lost = "%d" % sum(num(r["lost"]) for r in mine)
    noisy = sum(1 for r in mine if r["status"] == "noisy")
    fails = n_all - len(kept) - noisy
    errs = sum(1 for r in mine if r["status"] == "workload-errors")
    note_s = ""
    if noisy:
        note_s = " (%d noisy runs left out)" % noisy
    if fails:
        note_s += " (%d failed)" % fails
    if errs:
        note_s += " (%d with workload errors)" % errs
    unit, d = ("Gbit/s", 3) if w == "bulk" else ("conn/s", 0)
    ratio = "%.3f" % (med / base) if base else "–"
    # each round's run / the same round's no-tracer run
    rr = "–"
    if c != "none":
        b = {r["round"]: num(r["value"]) for r in rows
             if r["workload"] == w and r["config"] == "none" and r["status"] in KEPT}
        x = [num(r["value"]) / b[r["round"]] for r in kept
             if b.get(r["round"], 0) > 0]
        if x:
            rr = "%.3f–%.3f" % (min(x), max(x))
    v = sorted(values, key=float)
    return "| %s | %s%s | %s %s | %s–%s | %s | %s | %s | %s | %s |" % (
        w, label, note_s, shell_fmt(median(values), d), unit, shell_fmt(v[0], d),
        shell_fmt(v[-1], d), ratio, rr, cpu, rss, lost), base


def prog_table(w, c, rows, progs):
    """The per-program lines of workload w under config c (profile runs)."""
    label = CONFIGS[c].label
    prof = [r for r in rows if r["workload"] == w and r["config"] == c and
            r["status"] == "profile"]
    u = float(awk_str(sum(num(r["units"]) for r in prof)))
    s = float(awk_str(sum(num(r["secs"]) for r in prof)))
    # only the profile runs that completed
    keep = set((r["round"], r["workload"], r["config"]) for r in rows
               if r["status"] == "profile")
    cnt, ns = {}, {}
    for p in progs:
        if p["workload"] == w and p["config"] == c and \
                (p["round"], p["workload"], p["config"]) in keep:
            cnt[p["prog"]] = cnt.get(p["prog"], 0) + num(p["run_cnt"])
            ns[p["prog"]] = ns.get(p["prog"], 0) + num(p["run_time_ns"])

    def line(name, k, t):
        if w.startswith("churn"):
            per = "%.2f" % (k / u) if u else "–"
            tot = "%.0f ns" % (t / u) if u else "–"
        else:
            per = "%.0f" % (k / s) if s else "–"
            tot = "%.1f%%" % (100 * t / 1e9 / s) if s else "–"
        return "| %s | %s | %s | %s | %s | %s |" % (
            w, label, "**all**" if name == "all" else "`%s`" % name, per,
            "%.0f" % (t / k) if k else "–", tot)

    out, idle = [], []
    for name in cnt:  # in the order first seen
        if cnt[name]:
            out.append(line(name, cnt[name], ns[name]))
        else:
            idle.append(name)
    if len(cnt) > 1:
        out.append(line("all", sum(cnt.values()), sum(ns.values())))
    if idle:
        out.append("| %s | %s | (never ran: %s) | | | |" % (w, label, " ".join(idle)))
    return out


def ring_table(meta, rows):
    """What tcptimeline sent through its ring buffer, per connection (churn)
    or per second (bulk), from its exit line; nothing for runs without it."""
    out = []
    for w in meta["WORKLOADS"]:
        for c in CONFIGS:
            kept = [r for r in rows if r["workload"] == w and r["config"] == c and
                    r["status"] in KEPT and r.get("ring_records", "") != ""]
            if not kept:
                continue
            n = sum(num(r["ring_records"]) for r in kept)
            b = sum(num(r["ring_bytes"]) for r in kept)
            per = sum(num(r["units" if w.startswith("churn") else "secs"]) for r in kept)
            out.append("| %s | %s | %s | %s | %s |" % (
                w, CONFIGS[c].label, "%.2f" % (n / per) if per else "–",
                "%.0f" % (b / per) if per else "–", "%.0f" % (b / n) if n else "–"))
    if not out:
        return []
    return ["Ring output: tcptimeline's `ring records: N (B bytes)` exit line, summed over",
            "the kept runs, per connection of the workload (churn) or per second (bulk); it",
            "counts everything the tracer saw in its life, other TCP on the machine included.",
            "",
            "| workload | tracer | ring records per conn (churn) / per s (bulk) "
            "| bytes per conn / per s | bytes per record |",
            "| --- | --- | ---: | ---: | ---: |"] + out + [""]


def report(meta, rows, progs):
    """The markdown report, from meta.json, results.tsv and progs.tsv."""
    H = meta["H"]
    if meta.get("BASE_LABEL"):
        CONFIGS["tt_base"].label = meta["BASE_LABEL"]
    o = ["### tcptimeline overhead (%s)" % meta["START"], "",
         "Kernel %s, %d CPUs, %s interleaved rounds (%s order) of %s s per workload and tracer."
         % (meta.get("KERNEL", os.uname().release), meta.get("NCPU", NCPU), meta["ROUNDS"],
            meta["ORDER"], meta["SECS"]),
         "churn: `%s` (server closes first; CPU-bound);" % H["churn"],
         "churn_tw: `%s` (client closes first; capped by TIME_WAIT port reuse, not by CPU);"
         % H["churn_tw"],
         "bulk: `%s` (one stream of small writes; -C: sender,receiver CPU)." % H["bulk"]]
    if meta["TT_VERSION"]:
        o.append("tcptimeline: %s." % meta["TT_VERSION"])
    o += ["Tracers unpinned, their stdout to `%s`. Machine %s%% busy before the run; "
          "load average before %s, after %s." % (meta["TRACER_STDOUT"] or "/dev/null",
                                                 meta["BUSY_BEFORE"], meta["LOAD_BEFORE"],
                                                 meta.get("LOAD_AFTER", "")),
          "",
          "| workload | tracer | median | min–max | ratio | per-round ratios | tracer CPU "
          "| peak RSS | lost events |",
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for w in meta["WORKLOADS"]:
        base = None
        for c in CONFIGS:
            line, base = table_row(w, c, rows, meta, base)
            if line:
                o.append(line)
    o += ["",
          "Ratio: median with the tracer / median with no tracer, same workload; per-round",
          "ratios: each round's run / that round's no-tracer run, lowest–highest."]
    if "churn_tw" in meta["WORKLOADS"]:
        o += ["",
              "churn_tw's no-tracer rate is a ceiling set by recycling TIME_WAIT ports",
              "(net.ipv4.tcp_tw_reuse_delay), not by CPU: a tracer whose cost fits in the CPU",
              "that connect()'s port search would otherwise burn shows ~1.0 there. churn is",
              "CPU-bound and shows the full cost."]
    o += ["",
          "Tracer CPU: the tracer process's utime+stime from readiness to just before SIGINT",
          "(BPF programs run in the traced context and are not included; see below).",
          "Peak RSS: the largest VmHWM over its runs. Lost events: summed over its runs",
          "(tcptimeline: its `lost events: N` exit line; anchors: libbpf-tools'",
          "`lost N events on CPU #C` lines, which they print only when the perf buffer "
          "overflows).",
          ""]
    o += ring_table(meta, rows)
    bg = sorted(num(r["bg_pct"]) for r in rows if r["bg_pct"] != "")
    if bg:
        n = len(bg)
        med = bg[(n - 1) // 2] if n % 2 else (bg[n // 2 - 1] + bg[n // 2]) / 2
        o.append("Other processes (neither the workload, the tracer nor kernel threads) used a "
                 "median %.1f%% (max %.1f%%) of the machine during the kept runs; runs over %d%% "
                 "were repeated, %d stayed over and are left out; max steal %.1f%%." %
                 (med, bg[-1], int(num(meta["BG_MAX"])),
                  sum(1 for r in rows if r["status"] == "noisy"),
                  max([0.0] + [num(r["steal_pct"]) for r in rows if r["bg_pct"] != ""])))
    if progs:
        o += ["",
              "BPF programs, from one more run of each workload per tracer after the rounds, "
              "with",
              "kernel.bpf_stats_enabled=1 (its clock reads add to each program run, so these "
              "runs are",
              "not in the ratios above); counts cover the tracer's whole life, dominated by the",
              "workload; the tracepoint's own dispatch cost is not included:",
              "",
              "| workload | tracer | program | runs per conn (churn) / per s (bulk) | avg ns per "
              "run | BPF time: ns per conn (churn) / % of a CPU (bulk) |",
              "| --- | --- | --- | ---: | ---: | ---: |"]
        for w in meta["WORKLOADS"]:
            for c in meta["BPF_STATS_FOR"]:
                if c in CONFIGS:
                    o += prog_table(w, c, rows, progs)
    return "\n".join(o) + "\n"


def main():
    if os.geteuid() != 0:
        die("must run as root (BPF, tracefs, sysctl)")
    b = Bench()
    if env("REPORT_ONLY", ""):
        if not os.access(b.meta, os.R_OK) or not os.access(b.results, os.R_OK):
            die("no results in %s to report on" % b.out)
    else:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
        try:
            b.setup()
            b.run()
        except KeyboardInterrupt:
            sys.exit(130)
        finally:
            b.cleanup()
    with open(b.meta) as f:
        meta = json.load(f)
    rows = read_tsv(b.results)
    progs = read_tsv(b.progs) if os.path.exists(b.progs) else []
    text = report(meta, rows, progs)
    with open(b.report, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    note("report: %s; raw: %s, %s, %s/" % (b.report, b.results, b.progs, b.logs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
