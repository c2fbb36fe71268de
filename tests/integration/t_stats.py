# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Integration tests of the leave-it-running mode: --metrics scraped by
Debian's real Prometheus server and checked by promtool, against the JSON
of the same run; --summary; the label bounds under thousands of
connections; --user (the uid, gid and groups after attaching, events and
metrics still flowing); the systemd unit (systemd-analyze verify)."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from harness import READY_TIMEOUT, ROOT, Proc, Skip, check, host_only, kernel_at_least, test

PROMETHEUS_WAIT = 30.0  # its start, and a few 1 s scrapes


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(url, timeout=5):
    """(status, body) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def samples(text):
    """{series: value} of an exposition: 'name{labels}' -> float."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            out[series] = float(value)
    return out


def labels_of(series):
    m = re.search(r"\{(.*)\}$", series)
    return dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1))) if m else {}


def promtool_check(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
          "promtool check metrics: rc %d %r %r" % (r.returncode, r.stdout, r.stderr))


class Traffic:
    """Known traffic on port P (a server in this process) and P + 1 (nothing
    listens): n normal exchanges (the client closes first), m refused
    connects, k clients killed with SIGKILL while a reply they never read
    waits in their socket (RST: killed, and rst_in at the server)."""

    def __init__(self, port):
        self.port = port
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", port))
        self.ls.listen(64)
        self.done = threading.Semaphore(0)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            threading.Thread(target=self.one, args=(c,), daemon=True).start()

    def one(self, c):
        try:
            c.recv(64)
            c.sendall(b"pong")
            while c.recv(4096):
                pass
        except OSError:
            pass
        c.close()
        self.done.release()

    def run(self, ctx, n, m, k):
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", self.port))
            s.sendall(b"ping")
            check(s.recv(4) == b"pong", "no reply")
            s.close()
        for _ in range(m):
            s = socket.socket()
            try:
                s.connect(("127.0.0.1", self.port + 1))
                raise AssertionError("port %d accepted a connection" % (self.port + 1))
            except ConnectionRefusedError:
                pass
            s.close()
        # ready once the reply has arrived, unread: closing now must abort
        prog = ("import select,socket,sys;s=socket.create_connection(('127.0.0.1',%d));"
                "s.sendall(b'ping');select.select([s],[],[],10);print('unread',flush=True);"
                "sys.stdin.readline()" % self.port)
        for _ in range(k):
            p = Proc([sys.executable, "-c", prog], stdin=True)
            ctx.procs.append(p)
            p.wait_line("unread")
            p.kill(signal.SIGKILL)
            p.wait()
        for _ in range(n + k):
            check(self.done.acquire(timeout=10), "a server side did not end")

    def close(self):
        # shutdown first: a close() alone leaves the socket listening while
        # the accept thread still holds it
        try:
            self.ls.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ls.close()


def closes_by_cause(evs, ports):
    """Close events of connections on these ports (not listeners), by cause."""
    listeners = {e["conn"] for e in evs if e["event"] == "state" and e["new"] == "LISTEN"}
    out = {}
    for e in evs:
        if e["event"] == "close" and e["conn"] not in listeners and \
                (e["lport"] in ports or e["rport"] in ports):
            out[e["cause"]] = out.get(e["cause"], 0) + 1
    return out


def opened_in(evs, ports):
    return sum(1 for e in evs if e["event"] == "state" and
               ((e["old"], e["new"]) == ("CLOSE", "SYN_SENT") and e["rport"] in ports or
                (e["old"], e["new"]) == ("LISTEN", "SYN_RECV") and e["lport"] in ports))


class Prometheus:
    """Debian's prometheus scraping target every second, on loopback, with its
    own data directory: ready once /-/ready says so."""

    def __init__(self, ctx, target):
        if not shutil.which("prometheus"):
            raise Skip("needs Debian's prometheus package")
        self.dir = tempfile.mkdtemp(prefix="tt-prom-")
        self.port = free_port()
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: tcptimeline\n    static_configs:\n"
                    "      - targets: ['%s']\n" % target)
        self.p = Proc(["prometheus", "--config.file=" + cfg,
                       "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
                       "--web.listen-address=127.0.0.1:%d" % self.port,
                       "--log.level=warn"])
        ctx.procs.append(self.p)
        self.url = "http://127.0.0.1:%d" % self.port
        deadline = time.monotonic() + PROMETHEUS_WAIT
        while True:
            check(self.p.p.poll() is None, "prometheus exited: %r" % self.p.err_lines[-5:])
            try:
                if http_get(self.url + "/-/ready", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            check(time.monotonic() < deadline, "prometheus not ready after %.0f s" %
                  PROMETHEUS_WAIT)
            # its readiness is an HTTP endpoint: polled, it has no other signal
            time.sleep(0.1)

    def query(self, q):
        status, body = http_get(self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
        check(status == 200, "query %r: HTTP %d %s" % (q, status, body[:200]))
        r = json.loads(body)
        check(r["status"] == "success", "query %r: %r" % (q, r))
        return r["data"]["result"]

    def wait_for(self, q, want, key):
        """Poll the query until {labels[key]: value} equals want (each scrape is 1 s)."""
        deadline = time.monotonic() + PROMETHEUS_WAIT
        while True:
            got = {(r["metric"].get(key) if key else None): int(float(r["value"][1]))
                   for r in self.query(q)}
            if got == want:
                return got
            if time.monotonic() > deadline:
                raise AssertionError("prometheus %s = %r, JSON says %r" % (q, got, want))
            time.sleep(0.2)

    def cleanup(self):
        self.p.kill(signal.SIGTERM)
        self.p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@test
def metrics_in_prometheus_match_json(ctx):
    """N normal, M refused, K killed: Prometheus (scraping --metrics every 1 s) reads the same
    counts by cause as the JSON of the run; promtool passes a scrape; the summary event agrees"""
    host_only("the exposition and a Prometheus server's scrape of it")
    P = ctx.port
    mport = free_port()
    tr = ctx.trace("-P", "%d,%d" % (P, P + 1), "--metrics", "127.0.0.1:%d" % mport,
                   "--summary=1")
    prom = Prometheus(ctx, "127.0.0.1:%d" % mport)
    try:
        traffic = Traffic(P)
        traffic.run(ctx, 6, 3, 2)
        traffic.close()
        # the listener's close, then every close of the traffic, in the JSON
        tr.wait_event(lambda e: e["event"] == "close" and e["lport"] == P and
                      e["rport"] == 0, "the listener's close")
        evs = tr.events()
        want = closes_by_cause(evs, (P, P + 1))
        client = closes_by_cause([e for e in evs if e["event"] != "close" or
                                  e["rport"] in (P, P + 1)], (P, P + 1))
        check(client == {"app_close": 6, "refused": 3, "killed": 2},
              "client closes in the JSON: %r" % client)
        check(want.get("rst_in") == 2, "the killed clients' servers: %r" % want)
        prom.wait_for('sum by (cause) (tcptimeline_connections_closed_total{port=~"%d|%d"})'
                      % (P, P + 1), want, "cause")
        prom.wait_for("sum(tcptimeline_connections_opened_total)",
                      {None: opened_in(evs, (P, P + 1))}, None)
        rst_in = sum(1 for e in evs if e["event"] == "rst" and e["dir"] == "in")
        prom.wait_for('sum(tcptimeline_resets_total{dir="in"})', {None: rst_in}, None)
        # the refused SYNs are drops (NO_SOCKET from 5.17): counted as the JSON's, by reason
        drops = {}
        for e in evs:
            if e["event"] == "drop":
                drops[e["reason"] or "none"] = drops.get(e["reason"] or "none", 0) + 1
        check(sum(drops.values()) >= 3, "the refused SYNs' drops: %r" % drops)
        prom.wait_for("sum by (reason) (tcptimeline_drops_total)", drops, "reason")
        prom.wait_for('sum(tcptimeline_handshake_seconds_count{port="%d"})' % P,
                      {None: 2 * (6 + 2)}, None)
        up = prom.query('up{job="tcptimeline"}')
        check(up and up[0]["value"][1] == "1", "scrape target not up: %r" % up)
        status, text = http_get("http://127.0.0.1:%d/metrics" % mport)
        check(status == 200, "/metrics: HTTP %d" % status)
        promtool_check(text)
        status, _ = http_get("http://127.0.0.1:%d/" % mport)
        check(status == 404, "/ answers %d, not 404" % status)
    finally:
        prom.cleanup()
    evs = tr.stop()
    final = [e for e in evs if e["event"] == "summary" and e["final"]]
    check(len(final) == 1, "%d final summary events" % len(final))
    check(any(e["event"] == "summary" and not e["final"] for e in evs),
          "no periodic summary with --summary=1")
    by_cause = {}
    for row in final[0]["ports"]:
        for cause, n in row["causes"].items():
            by_cause[cause] = by_cause.get(cause, 0) + n
    check(by_cause == closes_by_cause(evs, (P, P + 1)), "summary %r, JSON %r" %
          (by_cause, closes_by_cause(evs, (P, P + 1))))
    summary_drops = {}
    for row in final[0]["ports"]:
        for reason, n in row["drop_reasons"].items():
            summary_drops[reason] = summary_drops.get(reason, 0) + n
    check(summary_drops == drops and sum(r["drops"] for r in final[0]["ports"]) ==
          sum(drops.values()), "summary drops %r, JSON %r" % (summary_drops, drops))
    row = [r for r in final[0]["ports"] if r["port"] == P]
    check(row and row[0]["handshake_us"]["count"] == 16 and row[0]["handshake_us"]["p99"] > 0,
          "port row %r" % row)


@test
def metrics_labels_stay_bounded(ctx):
    """thousands of connections on thousands of ephemeral ports, and to 300 ports: the series
    stay bounded (16 port labels and other), no ephemeral port becomes a label"""
    host_only("label bounds are the tracer's own bookkeeping")
    P = ctx.port
    mport = free_port()
    tr = ctx.trace("-q", "--metrics", "127.0.0.1:%d" % mport)
    prog = ("import socket\n"
            "l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "l.bind(('127.0.0.1', %d)); l.listen(512)\n"
            "for i in range(2000):\n"
            "    c = socket.create_connection(('127.0.0.1', %d)); a, _ = l.accept()\n"
            "    a.close(); c.close()\n"
            "for port in range(%d, %d):\n"
            "    for i in range(5):\n"
            "        s = socket.socket()\n"
            "        try: s.connect(('127.0.0.1', port))\n"
            "        except OSError: pass\n"
            "        s.close()\n" % (P, P, 40000, 40300))
    subprocess.run([sys.executable, "-c", prog], check=True, timeout=120)
    deadline = time.monotonic() + 10
    while True:
        status, text = http_get("http://127.0.0.1:%d/metrics" % mport)
        s = samples(text)
        opened = sum(v for k, v in s.items() if k.startswith("tcptimeline_connections_opened"))
        if opened >= 2 * 2000 + 1500 or time.monotonic() > deadline:
            break
        time.sleep(0.25)  # the snapshot is republished every 250 ms
    check(opened >= 2 * 2000 + 1500, "only %d connections counted" % opened)
    ports = {labels_of(k).get("port") for k in s} - {None}
    check("other" in ports and str(P) in ports, "port labels %r" % sorted(ports))
    check(len(ports) <= 17, "%d port labels: %r" % (len(ports), sorted(ports)))
    ephemeral = [p for p in ports if p != "other" and 32768 <= int(p) < 61000 and
                 not 40000 <= int(p) < 40300]
    check(not ephemeral, "ephemeral ports became labels: %r" % ephemeral)
    comms = {labels_of(k).get("comm") for k in s} - {None}
    check(len(comms) <= 18, "%d comm labels" % len(comms))
    # worst case: 17 x 18 cells x (1 + 11 causes), plus the per-port families
    check(len(s) < 5000, "%d series" % len(s))
    promtool_check(text)
    tr.stop()


@test
def metrics_bad_address_and_port_in_use(ctx):
    """--metrics: a malformed ADDR:PORT is a usage error (2), a port in use an error (1),
    each one line"""
    host_only("command-line and socket checks made before any BPF is loaded")
    for bad in ("9464", "127.0.0.1:0", "localhost:9464", "1.2.3:80"):
        r = subprocess.run([ctx.tracer, "--metrics", bad], capture_output=True, text=True,
                           timeout=10)
        check(r.returncode == 2, "--metrics %s: exit %d" % (bad, r.returncode))
        check(r.stderr.count("\n") == 1 and "--metrics" in r.stderr, "stderr %r" % r.stderr)
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        r = subprocess.run([ctx.tracer, "-q", "--metrics", "127.0.0.1:%d" % port],
                           capture_output=True, text=True, timeout=10)
    finally:
        busy.close()
    check(r.returncode == 1, "port in use: exit %d" % r.returncode)
    check(r.stderr.count("\n") == 1 and "in use" in r.stderr, "stderr %r" % r.stderr)
    r = subprocess.run([ctx.tracer, "--user", "no-such-user-tt"], capture_output=True,
                       text=True, timeout=10)
    check(r.returncode == 2 and r.stderr.count("\n") == 1 and "no-such-user-tt" in r.stderr,
          "--user unknown: exit %d %r" % (r.returncode, r.stderr))


def proc_ids(pid):
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid", "Groups", "CapEff", "CapPrm"):
                ids[k] = v.split()
    return ids


@test
def user_drops_privileges(ctx):
    """--user nobody: after attaching the tracer runs as nobody (uid, gid, groups, no
    capabilities) and still reports events and serves metrics"""
    import pwd
    import grp
    pw = pwd.getpwnam("nobody")
    groups = sorted({str(pw.pw_gid)} | {str(g.gr_gid) for g in grp.getgrall()
                                         if "nobody" in g.gr_mem})
    P = ctx.port
    mport = free_port()
    tr = ctx.trace("-P", str(P), "--user", "nobody", "--metrics", "127.0.0.1:%d" % mport)
    ids = proc_ids(tr.pid)
    check(ids["Uid"] == [str(pw.pw_uid)] * 4, "Uid %r" % ids["Uid"])
    check(ids["Gid"] == [str(pw.pw_gid)] * 4, "Gid %r" % ids["Gid"])
    check(sorted(ids["Groups"]) == groups, "Groups %r, want %r" % (ids["Groups"], groups))
    check(int(ids["CapEff"][0], 16) == 0 and int(ids["CapPrm"][0], 16) == 0,
          "capabilities left: %r" % ids)
    traffic = Traffic(P)
    traffic.run(ctx, 3, 0, 0)
    traffic.close()
    tr.wait_event(lambda e: e["event"] == "close" and e["lport"] == P and e["rport"] == 0,
                  "the listener's close")
    deadline = time.monotonic() + 5
    while True:
        s = samples(http_get("http://127.0.0.1:%d/metrics" % mport)[1])
        closed = sum(v for k, v in s.items() if k.startswith("tcptimeline_connections_closed"))
        if closed == 6 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    check(closed == 6, "metrics after the drop count %d closes, not 6" % closed)
    evs = tr.stop()
    check(sum(1 for e in evs if e["event"] == "close") == 7, "closes %r" %
          [e for e in evs if e["event"] == "close"])
    warned = any("cannot read the loss counters" in l for l in tr.err_lines)
    # before 5.19, bpf() refuses an unprivileged caller every command when
    # kernel.unprivileged_bpf_disabled is set: a warning, then
    if kernel_at_least(5, 19):
        check(not warned, "the loss counter is unreadable after the drop: %r" % tr.err_lines)


@test
def systemd_unit_verifies(ctx):
    """systemd/tcptimeline.service: systemd-analyze verify is clean (ExecStart pointed at this
    build) and its exposure stays in the OK band"""
    host_only("a static check of the unit file")
    if not shutil.which("systemd-analyze"):
        raise Skip("needs systemd-analyze (Debian's systemd)")
    d = tempfile.mkdtemp(prefix="tt-unit-")
    try:
        unit = os.path.join(d, "tcptimeline.service")
        text = open(os.path.join(ROOT, "systemd", "tcptimeline.service")).read()
        check("ExecStart=/usr/sbin/tcptimeline " in text, "ExecStart is not /usr/sbin/tcptimeline")
        with open(unit, "w") as f:
            f.write(text.replace("/usr/sbin/tcptimeline", os.path.abspath(ctx.tracer)))
        # --man=no: the page is built, not installed, here
        r = subprocess.run(["systemd-analyze", "verify", "--man=no", unit], capture_output=True,
                           text=True, timeout=60)
        check(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
              "systemd-analyze verify: rc %d %r %r" % (r.returncode, r.stdout, r.stderr))
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes", unit],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for tcptimeline.service: ([\d.]+)", r.stdout)
        check(m and float(m.group(1)) <= 3.0, "exposure %r" % (m and m.group(1)))
        check("--metrics 127.0.0.1:9464" in text and "--json" in text, "ExecStart %r" %
              [l for l in text.splitlines() if l.startswith("ExecStart")])
    finally:
        shutil.rmtree(d, ignore_errors=True)


@test
def systemd_unit_capabilities_suffice(ctx):
    """the unit's ExecStart, as systemd would start it (root, its CapabilityBoundingSet and
    LimitMEMLOCK, no new privileges; metrics on a free port): attaches, drops to its --user, serves metrics,
    exit 0 on SIGTERM (in the VMs too: what attaching needs depends on the kernel)"""
    text = open(os.path.join(ROOT, "systemd", "tcptimeline.service")).read()
    if not shutil.which("setpriv") or not shutil.which("prlimit"):
        raise Skip("needs setpriv and prlimit (util-linux)")
    line = [l for l in text.splitlines() if l.startswith("ExecStart=")][0]
    argv = line.split("=", 1)[1].split()
    caps = [l.split("=", 1)[1].split() for l in text.splitlines()
            if l.startswith("CapabilityBoundingSet=")][0]
    mport = free_port()
    argv = [ctx.tracer] + [a.replace("127.0.0.1:9464", "127.0.0.1:%d" % mport)
                           for a in argv[1:]]
    bounding = ",".join(["-all"] + ["+" + c[4:].lower() for c in caps])
    # the unit's LimitMEMLOCK too: before 5.11 BPF memory is charged to it,
    # and the set has no CAP_SYS_RESOURCE to raise it
    memlock = [l.split("=", 1)[1].strip() for l in text.splitlines()
               if l.startswith("LimitMEMLOCK=")]
    check(memlock == ["infinity"], "LimitMEMLOCK %r" % memlock)
    lift = ["prlimit", "--memlock=unlimited:unlimited", "--"]
    if subprocess.run(lift + ["true"], capture_output=True).returncode != 0:
        # a container without CAP_SYS_RESOURCE (this machine's host) cannot
        # lift it; from 5.11 on the kernel does not charge BPF memory to it
        if not kernel_at_least(5, 11):
            raise Skip("cannot lift RLIMIT_MEMLOCK as the unit does (no CAP_SYS_RESOURCE here)")
        lift = []
    p = Proc(lift + ["setpriv", "--bounding-set=" + bounding, "--inh-caps=-all",
                     "--no-new-privs"] + argv)
    ctx.procs.append(p)
    p.wait_for(lambda l: l.startswith("tcptimeline: tracing"), "the readiness line", err=True, timeout=READY_TIMEOUT)
    # everything attached sees what it should: no warning that something goes
    # unseen (the timers' addresses from /proc/kallsyms need CAP_SYSLOG)
    check(not any("kallsyms" in l for l in p.err_lines), "a warning under the unit's"
          " capabilities: %r" % [l for l in p.err_lines if "kallsyms" in l])
    status, body = http_get("http://127.0.0.1:%d/metrics" % mport)
    check(status == 200 and "tcptimeline_build_info" in body, "/metrics: %d" % status)
    user = argv[argv.index("--user") + 1] if "--user" in argv else "root"
    import pwd
    ids = proc_ids(p.pid)
    check(ids["Uid"][0] == str(pwd.getpwnam(user).pw_uid), "running as uid %r" % ids["Uid"])
    p.kill(signal.SIGTERM)
    check(p.wait() == 0, "exit %s after SIGTERM: %r" % (p.p.returncode, p.err_lines[-3:]))


@test
def summary_table_where_it_goes(ctx):
    """--summary: with -q the table is on stdout (periodic, then 'at exit'); with --live the
    event lines keep stdout and the table goes to stderr"""
    host_only("where the summary table goes is the tracer's own rendering of events"
              " the other tests check on every kernel")
    P = ctx.port
    for mode in ("-q", "--live"):
        tr = Proc([ctx.tracer, mode, "--summary=1", "-P", str(P)])
        ctx.procs.append(tr)
        tr.wait_for(lambda l: l.startswith("tcptimeline: tracing"), "the readiness line",
                    err=True, timeout=READY_TIMEOUT)
        traffic = Traffic(P)
        traffic.run(ctx, 2, 0, 0)
        traffic.close()
        table_err = mode != "-q"
        # a periodic table that has counted both exchanges, both ends of each (a client's
        # label is its remote port, a server's its local one: both P)
        tr.wait_for(lambda l: bool(re.match(r"^  %d +4 +4 " % P, l)), "a summary row for "
                    "port %d with 4 opened and 4 closed" % P, err=table_err)
        tr.kill(signal.SIGTERM)
        check(tr.wait() == 0, "%s: exit %s" % (mode, tr.p.returncode))
        tr.t_out.join(5)
        tr.t_err.join(5)
        table = tr.err_lines if table_err else tr.lines
        other = tr.lines if table_err else tr.err_lines
        check(any(l.startswith("tcptimeline: summary after ") for l in table) and
              any(l.startswith("tcptimeline: summary at exit after ") for l in table),
              "%s: no periodic and final summary in %r" % (mode, table[:4]))
        check(not any(l.startswith("tcptimeline: summary") for l in other),
              "%s: a summary on the other stream" % mode)
        check(any(l.startswith("  process ") for l in table), "%s: no process rows" % mode)
        if mode == "-q":
            check(all(l.startswith(("tcptimeline: summary", "  ")) for l in tr.lines),
                  "-q printed more than tables: %r" %
                  [l for l in tr.lines if not l.startswith(("tcptimeline: summary", "  "))][:3])
        else:
            check(sum(1 for l in tr.lines if "CLOSED:" in l) >= 4,
                  "--live: %d CLOSED lines" % sum(1 for l in tr.lines if "CLOSED:" in l))
