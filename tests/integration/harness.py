#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The integration tests' harness: child processes with their output
collected as it arrives (Proc), the tracer under test (Tracer, LadderTracer),
scripted peers (peer.py), helpers over the --json event stream, the JSON
Lines contract check, network namespaces, and the test registry.

Adding tests: put them in a topic module tests/integration/t_TOPIC.py (an
existing one, or a new file: run.py imports every t_*.py in this directory,
in name order, with no list to edit). A test is a function taking a Ctx,
decorated with @test; its name must be unique across all modules (run.py
-k NAME selects by substring). It passes by returning, fails with check()
(Failure) or any exception, and is skipped by raising Skip("why"). Each
test gets two ports of its own (ctx.port, ctx.port + 1); every process it
starts through ctx (and every Netns from ctx.netns) is cleaned up after it.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEER = os.path.join(HERE, "peer.py")
TIMEOUT = float(os.environ.get("TT_TEST_TIMEOUT", "20"))

sys.path.insert(0, os.path.dirname(HERE))  # tests/: the shared testlib
from testlib import Failure, Skip, check  # noqa: E402,F401 (the topics import them from here)

# tests/vm/run.sh runs this suite once more inside a VM per kernel of the
# matrix, under software emulation, and says so with TT_VM=1
IN_VM = os.environ.get("TT_VM") == "1"
# Attaching is the slowest step under emulation (the verifier, BTF, CO-RE):
# a 7.2 guest under single-threaded TCG needs 5 s alone on an idle host and
# 23 s for a first start beside another guest on a loaded one (2026-12-01),
# and starts have timed out at 60 s there. The wait is an upper bound only.
READY_TIMEOUT = TIMEOUT * 6 if IN_VM else TIMEOUT


# tests/check-asan.sh runs this suite against the sanitized build with TT_ASAN=1
IN_ASAN = os.environ.get("TT_ASAN") == "1"


def host_only(why):
    """Skip inside the kernel matrix's VMs a test whose subject does not depend
    on the kernel (why) and that is slow under emulation: the host runs it."""
    if IN_VM:
        raise Skip("host only, kernel-independent: " + why)


class Proc:
    """A child process whose stdout lines are collected as they arrive."""

    def __init__(self, argv, stdin=False, netns=None):
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        self.p = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, text=True, bufsize=1)
        self.lines = []
        self.err_lines = []
        self.cond = threading.Condition()
        self.t_out = threading.Thread(target=self._reader, args=(self.p.stdout, self.lines))
        self.t_err = threading.Thread(target=self._reader, args=(self.p.stderr, self.err_lines))
        self.t_out.daemon = self.t_err.daemon = True
        self.t_out.start()
        self.t_err.start()

    @property
    def pid(self):
        return self.p.pid

    def _reader(self, stream, into):
        for line in stream:
            with self.cond:
                into.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, pred, what, timeout=TIMEOUT, err=False):
        """Block until pred(line) holds for a line; returns it."""
        lines = self.err_lines if err else self.lines
        deadline = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while True:
                while seen < len(lines):
                    if pred(lines[seen]):
                        return lines[seen]
                    seen += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure("timed out waiting for %s; got %r / stderr %r" %
                                  (what, lines[-5:], self.err_lines[-3:]))
                if self.p.poll() is not None and not self.t_out.is_alive() and \
                        not self.t_err.is_alive():
                    raise Failure("process exited (%s) before %s; output %r / stderr %r" %
                                  (self.p.returncode, what, lines[-5:], self.err_lines[-3:]))
                self.cond.wait(min(left, 0.2))

    def wait_nth(self, pred, n, what, timeout=TIMEOUT):
        """The n-th line for which pred holds (wait_for alone finds the first
        one again, however many times it is called)."""
        count = [0]

        def nth(line):
            count[0] += bool(pred(line))
            return count[0] >= n
        return self.wait_for(nth, what, timeout)

    def wait_line(self, text, timeout=TIMEOUT):
        return self.wait_for(lambda l: l == text, repr(text), timeout)

    def send_line(self, text="go"):
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()

    def wait(self, timeout=TIMEOUT):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise Failure("process %d (%s) did not exit" %
                          (self.p.pid, " ".join(str(a) for a in self.p.args)[:80]))

    def kill(self, sig=signal.SIGKILL):
        if self.p.poll() is None:
            self.p.send_signal(sig)


class Tracer(Proc):
    def __init__(self, tracer, args, netns=None):
        super().__init__([tracer, "--json"] + args, netns=netns)
        self.wait_for(lambda l: l.startswith("tcptimeline: tracing"), "the readiness line",
                      err=True, timeout=READY_TIMEOUT)

    def events(self):
        with self.cond:
            out = []
            for l in self.lines:
                try:
                    out.append(json.loads(l))
                except ValueError:
                    raise Failure("output line is not JSON: %r" % l)
            return out

    def wait_event(self, pred, what, timeout=TIMEOUT):
        line = self.wait_for(lambda l: pred(json.loads(l)), what, timeout)
        return json.loads(line)

    def wait_events(self, pred, n, what, timeout=TIMEOUT):
        """Block until n events satisfy pred."""
        self.wait_nth(lambda l: pred(json.loads(l)), n, what, timeout)

    def stop(self):
        self.kill(signal.SIGINT)
        rc = self.wait()
        self.t_out.join(5)
        self.t_err.join(5)
        check(rc == 0, "tracer exited with %s after SIGINT; stderr %r" % (rc, self.err_lines))
        check(any(l.startswith("tcptimeline: lost events: ") for l in self.err_lines),
              "no lost-events summary at exit: %r" % self.err_lines)
        return self.events()


# Peers need only the standard library: -S skips site's start-up work (the
# site-packages scan, .pth files), half of an empty interpreter's start in a
# guest under emulation (0.25 of 0.5 s on 7.2), and most tests start two.
PY = [sys.executable, "-S"]


def peer(role, port, script, *extra, netns=None):
    p = Proc(PY + [PEER, role, str(port), script] + list(extra), stdin=True,
             netns=netns)
    if role == "server":
        p.wait_line("listening")
    return p


def kernel_at_least(major, minor):
    m = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return (int(m.group(1)), int(m.group(2))) >= (major, minor)


# --- helpers over the event stream -------------------------------------------------------

def of_conn(evs, conn):
    return [e for e in evs if e.get("conn") == conn]


def client_conn(evs, port):
    for e in evs:
        if e["event"] == "state" and e["new"] == "SYN_SENT" and e["rport"] == port:
            return e["conn"]
    raise Failure("no client connection to port %d in %d events" % (port, len(evs)))


def server_conn(evs, port):
    for e in evs:
        if e["event"] == "state" and e["old"] == "LISTEN" and e["new"] == "SYN_RECV" and \
                e["lport"] == port:
            return e["conn"]
    raise Failure("no accepted connection on port %d" % port)


def close_of(evs, conn):
    c = [e for e in of_conn(evs, conn) if e["event"] == "close"]
    check(len(c) == 1, "connection %s has %d close events" % (conn, len(c)))
    return c[0]


def waiter_close(tr, port, side):
    """Wait until the close event of the client (side='c') or server ('s') end appears."""
    def pred(e):
        if e["event"] != "close":
            return False
        return e["rport"] == port if side == "c" else e["lport"] == port
    return tr.wait_event(pred, "close of the %s end on port %d" %
                         ("client" if side == "c" else "server", port))


def kinds(evs, conn):
    return [e["event"] for e in of_conn(evs, conn)]


def data_total(evs, conn, direction):
    return sum(e["bytes"] for e in of_conn(evs, conn)
               if e["event"] == "data" and e["dir"] == direction)


COMMON = ["event", "ts_ns", "time", "conn", "family", "laddr", "lport", "raddr", "rport",
          "pid", "comm"]
EXTRA = {
    "state": ["old", "new", "sent", "received"],
    "data": ["dir", "bytes", "segments"],
    "retransmit": ["seq", "syn", "count"],
    "keepalive_probe": ["dir", "n"],
    "keepalive_ack": ["dir", "rtt_us"],
    "rst": ["dir", "reason"],
    "error": ["errno", "name"],
    "close": ["cause", "by_pid", "by_comm", "signal", "exit_code", "duration_ms", "bytes_in",
              "bytes_out", "retransmits", "keepalives", "drops"],
    "existing": ["state"],
    "lost": ["count"],
    "summary": ["final", "elapsed_ms", "lost", "tracked", "ports", "processes"],
    "drop": ["dir", "reason", "flags", "bytes"],
    "window": ["dir", "state", "queued"],
}
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def check_contract(evs):
    for e in evs:
        check(e.get("event") in EXTRA, "unknown event kind %r" % e)
        for k in COMMON + EXTRA[e["event"]]:
            check(k in e, "%s event lacks %r: %r" % (e["event"], k, e))
        check(TIME_RE.match(e["time"]), "time %r is not RFC 3339 with microseconds" % e["time"])
        check(e["pid"] is None or (isinstance(e["pid"], int) and e["pid"] > 0), "bad pid %r" % e)
        check((e["pid"] is None) == (e["comm"] is None), "pid/comm disagree: %r" % e)



class LadderTracer(Proc):
    """tcptimeline --ladder: diagrams on stdout."""

    def __init__(self, tracer, args):
        super().__init__([tracer, "--ladder", "--no-color"] + args)
        self.wait_for(lambda l: l.startswith("tcptimeline: tracing"), "the readiness line",
                      err=True, timeout=READY_TIMEOUT)

    def stop(self):
        self.kill(signal.SIGINT)
        rc = self.wait()
        self.t_out.join(5)
        self.t_err.join(5)
        check(rc == 0, "ladder tracer exited with %s; stderr %r" % (rc, self.err_lines))
        return list(self.lines)



# --- network namespaces -----------------------------------------------------------------

def have_netns():
    return shutil.which("ip") and shutil.which("nft")


class Netns:
    """Two hosts joined by a veth pair: cli (10.200.0.1) and srv (10.200.0.2)."""

    def __init__(self, tag):
        self.cli, self.srv = "ttc%s" % tag, "tts%s" % tag
        self.cleanup()
        for cmd in (
            ["ip", "netns", "add", self.cli], ["ip", "netns", "add", self.srv],
            ["ip", "link", "add", "tt%sa" % tag, "netns", self.cli, "type", "veth",
             "peer", "name", "tt%sb" % tag, "netns", self.srv],
            ["ip", "-n", self.cli, "addr", "add", "10.200.0.1/24", "dev", "tt%sa" % tag],
            ["ip", "-n", self.srv, "addr", "add", "10.200.0.2/24", "dev", "tt%sb" % tag],
            ["ip", "-n", self.cli, "link", "set", "tt%sa" % tag, "up"],
            ["ip", "-n", self.srv, "link", "set", "tt%sb" % tag, "up"],
            ["ip", "-n", self.cli, "link", "set", "lo", "up"],
            ["ip", "-n", self.srv, "link", "set", "lo", "up"],
        ):
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode:
                self.cleanup()
                raise Skip("network namespaces unavailable: %s" % r.stderr.strip())

    def drop(self, ns, hook, match):
        script = "add table inet tt; add chain inet tt c { type filter hook %s; }; " \
                 "add rule inet tt c %s drop" % (hook, match)
        r = subprocess.run(["ip", "netns", "exec", ns, "nft", script], capture_output=True,
                           text=True)
        if r.returncode:
            raise Skip("nftables unavailable: %s" % r.stderr.strip())

    def cleanup(self):
        for ns in (self.cli, self.srv):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)



def netns_peer(ctx, ns, role, port, script):
    """A peer in a namespace, talking to 10.200.0.2."""
    prog = open(PEER).read().replace('"127.0.0.1"', '"10.200.0.2"' if role == "client"
                                     else '"0.0.0.0"')
    p = Proc(["ip", "netns", "exec", ns] + PY + ["-c", prog, role, str(port), script],
             stdin=True)
    ctx.procs.append(p)
    if role == "server":
        p.wait_line("listening")
    return p


# --- the registry and each test's context -------------------------------------------------

TESTS = []


def test(fn):
    """Register a test; run.py runs them in the order their modules registered them."""
    if any(t.__name__ == fn.__name__ for t in TESTS):
        raise RuntimeError("two integration tests named %s" % fn.__name__)
    TESTS.append(fn)
    return fn


class Ctx:
    """One test's tracer path, its ports (port, port + 1), and what it started."""

    def __init__(self, tracer, port):
        self.tracer = tracer
        self.port = port
        self.procs = []
        self.namespaces = []

    def trace(self, *args, netns=None):
        t = Tracer(self.tracer, list(args), netns=netns)
        self.procs.append(t)
        return t

    def ladder(self, *args):
        t = LadderTracer(self.tracer, list(args))
        self.procs.append(t)
        return t

    def peer(self, *a, **kw):
        p = peer(*a, **kw)
        self.procs.append(p)
        return p

    def netns(self, tag):
        """Two namespaces joined by a veth pair (Netns), removed after the test;
        the test is skipped where ip or nft is missing."""
        if not have_netns():
            raise Skip("needs ip and nft")
        ns = Netns(tag)
        self.namespaces.append(ns)
        return ns

    # The prologue most tests share: the tracer on this test's port, a server,
    # a client; then wait for the peers, for the close events, stop the tracer.

    def start(self, server, client, *peer_args, trace=()):
        """The tracer (-P port, then trace), then a server peer (ready once it
        listens) and a client peer running their peer.py scripts; either
        script may be None for no such peer. Returns (tracer, server, client)."""
        P = self.port
        tr = self.trace("-P", str(P), *trace)
        srv = self.peer("server", P, server, *peer_args) if server is not None else None
        cli = self.peer("client", P, client, *peer_args) if client is not None else None
        return tr, srv, cli

    def finish(self, tr, *peers, closes="cs", status=0):
        """Wait for each peer to exit, in the order given (each with status
        `status`, or any status if None), then for the close event of each end
        in `closes` ('c' the client, 's' the server: waiter_close), then stop
        the tracer; returns its events."""
        for p in peers:
            rc = p.wait()
            if status is not None:
                check(rc == status, "peers failed")
        for side in closes:
            waiter_close(tr, self.port, side)
        return tr.stop()

    def exchange(self, server, client, *peer_args, trace=(), closes="cs"):
        """start() then finish(): both peers must exit 0. Returns
        (events, server, client)."""
        tr, srv, cli = self.start(server, client, *peer_args, trace=trace)
        return self.finish(tr, cli, srv, closes=closes), srv, cli

    def cleanup(self):
        """Kill what the test started, then remove its namespaces (idempotent)."""
        for p in self.procs:
            p.kill()
            try:
                p.p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        for ns in self.namespaces:
            ns.cleanup()
        self.namespaces = []
