# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Integration tests: record and replay. One live run draws the ladders of
every demo scenario and writes its JSON Lines with -w; the recording, read
back with -r as an unprivileged user (no root, so no BPF), must draw those
very ladders, write the very JSON again, and one live text line per event.
Bad recordings get one line naming the file (and line) and exit status 1."""
import os
import shutil
import subprocess
import tempfile

from harness import ROOT, Proc, Skip, check, check_contract, host_only, test
import json

DEMO_BIN = os.path.join(ROOT, ".output", "demo")
RUN_SCENARIO = os.path.join(ROOT, "src", "demo", "run-scenario.sh")
SCENARIOS = ["normal", "server-first", "client-exit", "kill-client", "kill-server-idle",
             "keepalive", "refused", "half-close"]


def unprivileged(argv, **kw):
    """argv as nobody, no groups, no capabilities (setpriv, util-linux)"""
    if not shutil.which("setpriv"):
        raise Skip("needs setpriv (util-linux)")
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           "--inh-caps=-all"] + argv, capture_output=True, text=True,
                          timeout=30, **kw)


class Scratch:
    """A directory nobody can read, with a copy of the tracer in it."""

    def __init__(self, tracer):
        self.dir = tempfile.mkdtemp(prefix="tt-replay.")
        os.chmod(self.dir, 0o755)
        self.tracer = os.path.join(self.dir, "tcptimeline")
        shutil.copy(tracer, self.tracer)
        os.chmod(self.tracer, 0o755)

    def path(self, name):
        return os.path.join(self.dir, name)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@test
def replay_draws_the_live_ladders(ctx):
    """every demo scenario under one --ladder -w run; -r as nobody: the same
    ladders, the same JSON, a live line per event"""
    if not os.access(os.path.join(DEMO_BIN, "demo-client"), os.X_OK):
        raise Skip("demo binaries not built (make demo-bins)")
    P = ctx.port
    sc = Scratch(ctx.tracer)
    try:
        rec = sc.path("rec.jsonl")
        lad = ctx.ladder("-P", str(P), "-w", rec)
        for name in SCENARIOS:
            run = Proc([RUN_SCENARIO, name, "--fast", "-p", str(P)])
            ctx.procs.append(run)
            check(run.wait() == 0, "run-scenario %s failed: %r" % (name, run.lines[-4:]))
        # one diagram per scenario, each drawn ~0.1 s after both ends closed
        summaries = lambda: [l for l in lad.lines if l.startswith("  closed after ")]
        lad.wait_for(lambda l: len(summaries()) >= len(SCENARIOS), "%d diagrams" %
                     len(SCENARIOS))
        live = lad.stop()
        check(len(summaries()) == len(SCENARIOS), "%d diagrams for %d scenarios:\n%s" %
              (len(summaries()), len(SCENARIOS), "\n".join(live)))
        with open(rec) as f:
            recorded = f.read()
        evs = [json.loads(l) for l in recorded.splitlines()]
        check_contract(evs)
        check(any(e.get("by_exit_status") == 9 for e in evs if e["event"] == "state"),
              "no state change by a task killed by SIGKILL (by_exit_status 9) recorded")
        check(any(e["event"] == "keepalive_ack" and e.get("rtt_ns") for e in evs),
              "no keepalive ACK with rtt_ns recorded")
        os.chmod(rec, 0o644)

        r = unprivileged([sc.tracer, "-r", rec, "--ladder", "--no-color"])
        check(r.returncode == 0, "replay as nobody exited %d: %s" % (r.returncode, r.stderr))
        check(r.stderr == "", "replay wrote to stderr: %r" % r.stderr)
        replayed = r.stdout.split("\n")
        if replayed and replayed[-1] == "":
            replayed.pop()
        if replayed != live:
            diff = [("live:   %r\nreplay: %r" % (a, b)) for a, b in zip(live, replayed)
                    if a != b][:6]
            check(False, "replayed ladders differ from the live run's (%d vs %d lines):\n%s"
                  % (len(live), len(replayed), "\n".join(diff)))
        check(any("client killed by SIGKILL" in l for l in replayed),
              "no 'client killed by SIGKILL' in the replayed ladders")

        # from stdin, the JSON again: byte for byte
        with open(rec) as f:
            r = unprivileged([sc.tracer, "-r", "-", "--json"], stdin=f)
        check(r.returncode == 0 and r.stdout == recorded,
              "-r - --json did not write the recording again (exit %d, %d vs %d bytes)" %
              (r.returncode, len(r.stdout), len(recorded)))
        r = unprivileged([sc.tracer, "-r", rec, "--live"])
        check(r.returncode == 0, "replay --live exited %d: %s" % (r.returncode, r.stderr))
        check(len(r.stdout.splitlines()) == len(evs), "%d live lines for %d events" %
              (len(r.stdout.splitlines()), len(evs)))
    finally:
        sc.cleanup()


@test
def replay_bad_recordings(ctx):
    """a missing file, a malformed line, a cut-short recording: one line
    naming file and line, exit 1; what is well-formed is still drawn"""
    host_only("-r reads a file, no BPF")
    sc = Scratch(ctx.tracer)
    try:
        r = unprivileged([sc.tracer, "-r", sc.path("missing.jsonl")])
        check(r.returncode == 1 and r.stderr.count("\n") == 1 and
              "cannot read %s" % sc.path("missing.jsonl") in r.stderr,
              "missing file: exit %d, stderr %r" % (r.returncode, r.stderr))
        good = ('{"event":"state","ts_ns":1000,"time":"2026-12-01T10:00:00.000001Z","conn":2,'
                '"family":4,"laddr":"127.0.0.1","lport":40000,"raddr":"127.0.0.1",'
                '"rport":9000,"pid":10,"comm":"cli","old":"CLOSE","new":"SYN_SENT",'
                '"sent":"SYN","received":null,"by_pid":10,"by_comm":"cli"}\n')
        bad = sc.path("bad.jsonl")
        with open(bad, "w") as f:
            f.write(good + "{not json\n" + good.replace("1000", "2000")[:80])
        os.chmod(bad, 0o644)
        r = unprivileged([sc.tracer, "-r", bad, "--live"])
        check(r.returncode == 1, "malformed lines: exit %d, want 1" % r.returncode)
        check("%s:2: not JSON" % bad in r.stderr and "%s:3: " % bad in r.stderr and
              "cut short?" in r.stderr and "2 malformed lines skipped" in r.stderr,
              "stderr does not name the bad lines: %r" % r.stderr)
        check(len(r.stdout.splitlines()) == 1 and "CLOSE -> SYN_SENT" in r.stdout,
              "the good line was not drawn: %r" % r.stdout)
        r = unprivileged([sc.tracer, "-r", bad, "-P", "80"])
        check(r.returncode == 2 and "-P is for tracing" in r.stderr,
              "-r with -P: exit %d, %r" % (r.returncode, r.stderr))
    finally:
        sc.cleanup()
