# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Integration tests: the demo scenarios (src/demo/run-scenario.sh) traced
under --ladder with -w's JSON Lines: the diagram's arrows and notes, and the
JSON's causes and errors telling the same story; when the ladder is the
default."""
import json
import os
import re
import signal
import tempfile

from harness import (READY_TIMEOUT, ROOT, Proc, Skip, check, check_contract, client_conn, close_of,
                     host_only, of_conn, server_conn, test)


DEMO_BIN = os.path.join(ROOT, ".output", "demo")
RUN_SCENARIO = os.path.join(ROOT, "src", "demo", "run-scenario.sh")


ARROW_RIGHT = re.compile(r"^\s*\d+\.\d+\s+(\S.*?) -+>")
ARROW_LEFT = re.compile(r"<-+ (\S+(?: \S+)*?)(?:\s{2,}|$)")


def ladder_arrows(lines):
    """'SYN ->' / '<- SYN,ACK', in the order drawn"""
    out = []
    for l in lines:
        m = ARROW_RIGHT.match(l)
        if m:
            out.append(m.group(1) + " ->")
            continue
        m = ARROW_LEFT.search(l)
        if m and re.match(r"^\s*\d+\.\d+\s", l):
            out.append("<- " + m.group(1))
    return out


def in_order(got, want, start=0):
    """want, a subsequence of got; an item of want may be a list of
    alternatives (each a list of arrows)"""
    if not want:
        return True
    w, rest = want[0], want[1:]
    for alt in (w if isinstance(w, list) else [[w]]):
        i = start
        for a in alt:
            while i < len(got) and got[i] != a:
                i += 1
            if i == len(got):
                break
            i += 1
        else:
            if in_order(got, rest, i):
                return True
    return False


# Linux delays the ACK of a received FIN (delayed-ACK mode): it leaves with
# the next segment (drawn FIN,ACK) when the application closes within the
# timeout, alone when the timer fires first (slow machines, TCG VMs)
FIN_ACKED_LEFT = [["<- ACK", "<- FIN"], ["<- FIN,ACK"]]
FIN_ACKED_RIGHT = [["ACK ->", "FIN ->"], ["FIN,ACK ->"]]


# scenario: arrows (in order), notes in the ladder, causes (client, server), errors seen
DEMO_CASES = {
    "normal": (["SYN ->", "<- SYN,ACK", "ACK ->", "DATA 29 B ->", "<- DATA 4 B", "FIN ->",
                FIN_ACKED_LEFT, "ACK ->"],
               ["client close()", "server close()", "client TIME_WAIT",
                "client closed first", "client sent 29 B, server sent 4 B"],
               ("app_close", "peer_close"), {}),
    "server-first": (["SYN ->", "<- SYN,ACK", "ACK ->", "DATA 29 B ->", "<- DATA 4 B",
                      "<- FIN", FIN_ACKED_RIGHT, "<- ACK"],
                     ["server close()", "client close()", "server TIME_WAIT",
                      "server closed first"],
                     ("peer_close", "app_close"), {}),
    "client-exit": (["SYN ->", "<- SYN,ACK", "ACK ->", "DATA 29 B ->", "<- DATA 4 B", "FIN ->",
                     FIN_ACKED_LEFT],
                    ["client process exited (code 0)", "[process_exit]"],
                    ("process_exit", "peer_close"), {}),
    "kill-client": (["SYN ->", "<- SYN,ACK", "ACK ->", "DATA 29 B ->", "<- DATA 4 B",
                     "RST ->"],
                    ["client killed by SIGKILL", "RST: unread data",
                     "server recv()/send() -> ECONNRESET", "[killed]", "[rst_in]"],
                    ("killed", "rst_in"), {"s": "ECONNRESET"}),
    "kill-server-idle": (["SYN ->", "<- SYN,ACK", "ACK ->", "DATA 29 B ->", "<- DATA 4 B",
                          "<- FIN", [["ACK ->", "DATA 29 B ->"], ["DATA 29 B ->"]], "<- RST"],
                         ["server killed by SIGKILL", "client send() -> EPIPE",
                          "server closed first", "client sent 58 B"],
                         ("peer_close", "killed"), {"c": "EPIPE"}),
    "keepalive": (["SYN ->", "<- SYN,ACK", "ACK ->", "DATA 29 B ->", "<- DATA 4 B",
                   "KEEPALIVE ->", "<- ACK", "KEEPALIVE ->", "<- ACK", "KEEPALIVE ->",
                   "<- ACK", "FIN ->", FIN_ACKED_LEFT],
                  ["keepalive probe #1", "keepalive probe #3", "keepalive ACK",
                   "3 keepalive probes"],
                  ("app_close", "peer_close"), {}),
    "refused": (["SYN ->", "<- RST"],
                ["refused: connect() -> ECONNREFUSED", "client: refused [refused]"],
                ("refused", None), {"c": "ECONNREFUSED"}),
    "half-close": (["SYN ->", "<- SYN,ACK", "ACK ->", "DATA 29 B ->", "FIN ->",
                    [["<- ACK", "<- DATA 4 B"], ["<- DATA 4 B"]], "<- FIN", "ACK ->"],
                   ["client shutdown(SHUT_WR)", "server close()"],
                   ("app_close", "peer_close"), {}),
}


def demo_scenario(ctx, name):
    arrows, notes, causes, errors = DEMO_CASES[name]
    P = ctx.port
    if not os.access(os.path.join(DEMO_BIN, "demo-client"), os.X_OK):
        raise Skip("demo binaries not built (make demo-bins)")
    # one tracer draws the ladder and writes the JSON Lines (-w, as --json
    # writes them: t_replay checks byte for byte): one start, not two, the
    # slowest step in an emulated guest (~5 s on 7.2)
    with tempfile.TemporaryDirectory(prefix="tt-demo.") as d:
        rec = os.path.join(d, "rec.jsonl")
        lad = ctx.ladder("-P", str(P), "-w", rec)
        run = Proc([RUN_SCENARIO, name, "--fast", "-p", str(P)])
        ctx.procs.append(run)
        check(run.wait() == 0, "run-scenario %s failed: %r" % (name, run.lines[-4:]))
        # the diagram is drawn ~0.1 s after both ends closed
        lad.wait_for(lambda l: l.startswith("  closed after "), "the diagram's summary")
        lines = lad.stop()
        check(any(l.startswith("tcptimeline: lost events: ") for l in lad.err_lines),
              "no lost-events summary at exit: %r" % lad.err_lines)
        with open(rec) as f:
            evs = [json.loads(l) for l in f]
    check_contract(evs)
    text = "\n".join(lines)
    diagrams = [l for l in lines if l.startswith("  closed after ") or
                l.startswith("  still open after ")]
    check(len(diagrams) == 1, "%d diagrams, want 1 (both ends in one):\n%s" %
          (len(diagrams), text))
    got = ladder_arrows(lines)
    check(in_order(got, arrows), "arrows %r lack %r in order:\n%s" % (got, arrows, text))
    flat = " ".join(text.split())  # notes wrap
    for n in notes:
        check(n in flat, "no %r in the diagram:\n%s" % (n, text))
    check(all(len(l) <= 100 for l in lines), "a line wider than 100 columns:\n%s" % text)
    # the JSON events tell the same story
    c = client_conn(evs, P)
    check(close_of(evs, c)["cause"] == causes[0], "client cause %r" % close_of(evs, c))
    if causes[1]:
        s = server_conn(evs, P)
        check(close_of(evs, s)["cause"] == causes[1], "server cause %r" % close_of(evs, s))
    if causes[0] == "killed":
        check(close_of(evs, c)["signal"] == "SIGKILL", "client signal %r" % close_of(evs, c))
    if causes[1] == "killed":
        check(close_of(evs, s)["signal"] == "SIGKILL", "server signal %r" % close_of(evs, s))
    for side, err in errors.items():
        conn = c if side == "c" else server_conn(evs, P)
        names = [e["name"] for e in of_conn(evs, conn) if e["event"] == "error"]
        check(err in names, "%s end saw errors %r, want %s" % (side, names, err))
    if name == "keepalive":
        probes = [e for e in of_conn(evs, c) if e["event"] == "keepalive_probe"]
        check(len(probes) >= 3, "%d keepalive probes" % len(probes))


def _demo_test(name):
    def fn(ctx):
        demo_scenario(ctx, name)
    fn.__name__ = "demo_ladder_" + name.replace("-", "_")
    fn.__doc__ = "demo scenario %s under --ladder and --json" % name
    return fn


for _name in DEMO_CASES:
    test(_demo_test(_name))


@test
def ladder_is_default_on_a_terminal_only(ctx):
    """not a terminal: the live text stream, unchanged; --ladder: diagrams only"""
    host_only("choosing the output mode from stdout is the tracer's own")
    P = ctx.port
    live = Proc([ctx.tracer, "-P", str(P)])
    ctx.procs.append(live)
    live.wait_for(lambda l: l.startswith("tcptimeline: tracing"), "readiness", err=True, timeout=READY_TIMEOUT)
    lad = ctx.ladder("-P", str(P))
    srv = ctx.peer("server", P, "accept; recv 29; send 4; recv_eof; close")
    cli = ctx.peer("client", P, "connect; send 29; recv 4; close")
    check(cli.wait() == 0 and srv.wait() == 0, "peers failed")
    lad.wait_for(lambda l: l.startswith("  closed after "), "the diagram")
    live.wait_for(lambda l: "CLOSED: peer_close" in l, "the server's close line")
    lines = lad.stop()
    live.kill(signal.SIGINT)
    check(live.wait() == 0, "live tracer failed")
    check(any("SYN_SENT" in l for l in live.lines), "no live lines: %r" % live.lines[:3])
    check(not any(" ----" in l for l in live.lines), "a diagram in the live stream")
    check(not any("SYN_SENT" in l for l in lines), "live lines in --ladder output")
    check(not any("\033" in l for l in lines), "colour with --no-color")
    check("python3" in "\n".join(lines), "no owner in the diagram header")
