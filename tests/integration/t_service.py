# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Integration tests: left running as a service, nothing is lost silently: a
write error on stdout (a full disk, EIO) ends the tracer with one line naming
stdout and exit 1; a reader that goes away ends it within a second even with
nothing to write; SIGHUP ends it as cleanly as SIGTERM; -p for a process that
does not exist is a usage error."""
import os
import re
import signal
import subprocess
import sys
import threading
import time

from harness import TIMEOUT, Failure, check, host_only, test


class RawTracer:
    """The tracer with stdout wherever the test wants it (a file, a pipe, a
    pty) and stderr collected; ready once it prints its readiness line."""

    def __init__(self, ctx, args, stdout):
        self.p = subprocess.Popen([ctx.tracer] + args, stdout=stdout, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, text=True)
        ctx.procs.append(self)
        self.err = []
        self.ready = threading.Event()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        if not self.ready.wait(TIMEOUT):
            raise Failure("no readiness line; stderr %r" % self.err)

    def _read(self):
        for line in self.p.stderr:
            self.err.append(line.rstrip("\n"))
            if line.startswith("tcptimeline: tracing"):
                self.ready.set()
        self.ready.set()

    def kill(self, sig=signal.SIGKILL):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def wait(self, timeout=TIMEOUT):
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise Failure("tracer did not exit; stderr %r" % self.err)
        self.t.join(5)
        return rc


def one_connection(ctx):
    """A short exchange on the test's port: something for the tracer to write."""
    srv = ctx.peer("server", ctx.port, "accept; recv 29; send 4; recv_eof; close")
    cli = ctx.peer("client", ctx.port, "connect; send 29; recv 4; close")
    check(cli.wait() == 0 and srv.wait() == 0, "peers failed")


def write_error_line(tr, why):
    lines = [l for l in tr.err if l.startswith("tcptimeline: cannot write to stdout")]
    check(len(lines) == 1, "not one write-error line: %r" % tr.err)
    check(why in lines[0], "the line does not say %r: %r" % (why, lines[0]))


@test
def stdout_full_disk(ctx):
    """stdout on /dev/full (ENOSPC): one line naming stdout and the error, exit 1"""
    host_only("a write error on stdout is the tracer's own output path")
    with open("/dev/full", "w") as full:
        tr = RawTracer(ctx, ["--json", "-P", str(ctx.port)], full)
    one_connection(ctx)
    rc = tr.wait()
    check(rc == 1, "exit status %s; stderr %r" % (rc, tr.err))
    write_error_line(tr, os.strerror(28))  # ENOSPC
    check(any(l.startswith("tcptimeline: lost events: ") for l in tr.err),
          "no exit summary after the write error: %r" % tr.err)


@test
def stdout_eio(ctx):
    """stdout on a terminal that hung up (writes fail with EIO): one line, exit 1"""
    host_only("a write error on stdout is the tracer's own output path")
    master, slave = os.openpty()
    try:
        tr = RawTracer(ctx, ["--live", "-P", str(ctx.port)], slave)
    finally:
        os.close(slave)
    os.close(master)
    one_connection(ctx)
    rc = tr.wait()
    check(rc == 1, "exit status %s; stderr %r" % (rc, tr.err))
    write_error_line(tr, os.strerror(5))  # EIO


@test
def reader_gone_ends_within_a_second(ctx):
    """stdout a pipe whose reader exits while nothing is being written: the tracer ends
    within one second, saying why, exit 1"""
    host_only("noticing stdout's reader went away is the tracer's own output path")
    r, w = os.pipe()
    try:
        tr = RawTracer(ctx, ["--json", "-P", str(ctx.port)], w)
    finally:
        os.close(w)
    t0 = time.monotonic()
    os.close(r)  # the only reader: no traffic, so no write will ever notice
    rc = tr.wait()
    took = time.monotonic() - t0
    check(took < 1.0, "took %.2f s to notice the reader had gone" % took)
    check(rc == 1, "exit status %s; stderr %r" % (rc, tr.err))
    check(any("stdout" in l and "reader went away" in l for l in tr.err),
          "no line saying stdout's reader went away: %r" % tr.err)


@test
def sighup_ends_like_sigterm(ctx):
    """SIGHUP: what is buffered is written, the exit summary printed, exit 0"""
    host_only("SIGHUP takes the exit path sigterm_summary checks on every kernel")
    P = ctx.port
    ctx.peer("server", P, "accept; recv_eof; close")
    cli = ctx.peer("client", P, "connect; wait_line; close")
    cli.wait_line("step connect ok")
    r, w = os.pipe()
    try:
        # into a pipe the output is block-buffered: only a clean exit writes it
        tr = RawTracer(ctx, ["--json", "-P", str(P)], w)
    finally:
        os.close(w)
    tr.kill(signal.SIGHUP)
    rc = tr.wait()
    with os.fdopen(r) as f:
        out = f.read()
    check(rc == 0, "exit status %s after SIGHUP; stderr %r" % (rc, tr.err))
    check(out.count('"event":"existing"') >= 2, "the existing connection not flushed: %r" % out)
    err = "\n".join(tr.err)
    check("still open" in err and ":%d" % P in err, "no open-connection summary: %r" % err)
    check(re.search(r"^tcptimeline: lost events: 0$", err, re.M), "lost summary %r" % err)
    cli.send_line()


@test
def pid_that_does_not_exist(ctx):
    """-p with the pid of a process that has exited: usage error, one line, exit 2"""
    host_only("a command-line check made before any BPF is loaded")
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    gone = p.pid
    check(not os.path.exists("/proc/%d" % gone), "pid %d reused already" % gone)
    r = subprocess.run([ctx.tracer, "-p", str(gone)], capture_output=True, text=True,
                       timeout=TIMEOUT)
    check(r.returncode == 2, "exit status %s; stderr %r" % (r.returncode, r.stderr))
    lines = r.stderr.splitlines()
    check(len(lines) == 1 and str(gone) in lines[0] and "--help" in lines[0],
          "not one line naming the pid: %r" % r.stderr)
    check(not r.stdout, "output on stdout: %r" % r.stdout)
