# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Integration tests: outcome filters (--abnormal, --cause hold a
connection's events until it closes and print only those that qualify, whole
and in order) and the memory budget (--max-memory: thousands of busy
connections held under --ladder stay within it, with the cut marked)."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

from harness import HERE, IN_ASAN, TIMEOUT, Failure, Proc, Skip, check, host_only, test

BUSY = os.path.join(HERE, "busy.py")
IDLE_KA = os.path.join(HERE, "idle_keepalive.py")


def wait_file(path, pred, what, timeout=TIMEOUT):
    """Poll a file the tracer writes (-w) until pred(its lines) holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path) as f:
            lines = [json.loads(l) for l in f if l.endswith("\n")]
        if pred(lines):
            return lines
        time.sleep(0.05)
    raise Failure("timed out waiting for %s in %s" % (what, path))


def kill_client_scenario(ctx, P):
    """A client holding unread data (then killed by the caller: RST, killed /
    rst_in, as t_basic's kill_client_unread_data). Returns (server, client)."""
    srv = ctx.peer("server", P, "accept; send 100; recv 1")
    cli = ctx.peer("client", P, "connect; wait_readable; pause")
    cli.wait_line("step pause ok")
    return srv, cli


def normal_exchange(ctx, P):
    srv = ctx.peer("server", P, "accept; recv 29; send 4; recv_eof; close")
    cli = ctx.peer("client", P, "connect; send 29; recv 4; close")
    check(cli.wait() == 0 and srv.wait() == 0, "normal peers failed")
    return srv.pid, cli.pid


def by_conn(evs):
    out = {}
    for e in evs:
        out.setdefault(e["conn"], []).append(e)
    return out


@test
def abnormal_json_holds_and_prints_only_trouble(ctx):
    """--abnormal --json: a normal exchange prints nothing; a killed client and the server
    it reset print their whole stories, in order, once they close; -w still records all"""
    P = ctx.port
    rec = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False)
    rec.close()
    try:
        tr = ctx.trace("-P", "%d,%d" % (P, P + 1), "--abnormal", "-w", rec.name)
        srv, cli = kill_client_scenario(ctx, P)
        normal_exchange(ctx, P + 1)
        # the recording has the normal exchange closed on both ends: the
        # tracer has seen it, and the killer's client and server are open
        wait_file(rec.name, lambda ls: sum(
            1 for e in ls if e["event"] == "close" and (e["lport"] == P + 1 or
                                                       e["rport"] == P + 1)) >= 2,
            "the normal exchange's two closes")
        check(tr.lines == [], "printed before anything went wrong: %r" % tr.lines[:3])
        cli.kill(signal.SIGKILL)
        cli.wait()
        srv.wait()
        tr.wait_event(lambda e: e["event"] == "close" and e["cause"] == "rst_in",
                      "the server's rst_in close")
        tr.wait_event(lambda e: e["event"] == "close" and e["cause"] == "killed",
                      "the client's killed close")
        evs = tr.stop()
    finally:
        lines = [json.loads(l) for l in open(rec.name)]
        os.unlink(rec.name)
    conns = by_conn(evs)
    causes = sorted(e["cause"] for e in evs if e["event"] == "close")
    check(causes == ["killed", "rst_in"], "closes printed: %r" % causes)
    check(len(conns) == 2, "connections printed: %r" % sorted(conns))
    recorded = by_conn(lines)
    for conn, story in conns.items():
        check(story[0]["event"] == "state" and story[0]["old"] in ("CLOSE", "LISTEN"),
              "conn %s does not begin with its handshake: %r" % (conn, story[0]))
        check(any(e["event"] == "close" for e in story), "conn %s has no close" % conn)
        # the whole story, as the live recording has it
        check([e["event"] for e in story] == [e["event"] for e in recorded[conn]],
              "conn %s: printed %r, recorded %r" % (
                  conn, [e["event"] for e in story], [e["event"] for e in recorded[conn]]))
    normal = [c for c, s in recorded.items()
              if any(e["event"] == "close" and e["cause"] in ("app_close", "peer_close")
                     for e in s)]
    check(len(normal) >= 2, "the recording lacks the normal pair: %r" % normal)
    check(not set(normal) & set(conns), "a normal connection was printed")


@test
def cause_filter_json(ctx):
    """--cause rst_in --json: of a killed client and the server it reset, only the server"""
    P = ctx.port
    tr = ctx.trace("-P", "%d,%d" % (P, P + 1), "--cause", "rst_in")
    srv, cli = kill_client_scenario(ctx, P)
    normal_exchange(ctx, P + 1)
    cli.kill(signal.SIGKILL)
    cli.wait()
    srv.wait()
    tr.wait_event(lambda e: e["event"] == "close", "the server's close")
    # the killed client closes first: once the server's close is out, the
    # client's was decided too
    evs = tr.stop()
    conns = by_conn(evs)
    check(len(conns) == 1, "connections printed: %r" % {c: [e["event"] for e in s]
                                                         for c, s in conns.items()})
    story = list(conns.values())[0]
    check([e["cause"] for e in story if e["event"] == "close"] == ["rst_in"],
          "closes %r" % [e for e in story if e["event"] == "close"])
    check(story[0]["event"] == "state" and story[0]["new"] == "SYN_RECV",
          "the server's story does not begin with its handshake: %r" % story[0])
    check(any(e["event"] == "rst" and e["dir"] == "in" for e in story), "no rst in the story")


@test
def cause_unknown_is_a_usage_error(ctx):
    """--cause with a name not in the contract: one line naming it, exit 2"""
    host_only("command-line checks made before any BPF is loaded")
    r = subprocess.run([ctx.tracer, "--cause", "killed,kiled"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    check(r.returncode == 2, "exit status %s" % r.returncode)
    lines = r.stderr.splitlines()
    check(len(lines) == 1 and "'kiled'" in lines[0], "stderr %r" % r.stderr)
    r = subprocess.run([ctx.tracer, "--max-memory", "2"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    check(r.returncode == 2 and "--max-memory" in r.stderr, "--max-memory 2: %r" % r.stderr)


@test
def abnormal_ladder_draws_only_trouble(ctx):
    """--abnormal --ladder: the killed client's connection drawn with both ends; the normal
    exchange and a connection still open and fine at exit are not drawn"""
    P = ctx.port
    tr = ctx.ladder("-P", "%d,%d" % (P, P + 1), "--abnormal")
    srv, cli = kill_client_scenario(ctx, P)
    normal_exchange(ctx, P + 1)
    ctx.peer("server", P + 1, "accept; recv_eof; close")
    idle_cli = ctx.peer("client", P + 1, "connect; wait_line; close")
    idle_cli.wait_line("step connect ok")
    cli.kill(signal.SIGKILL)
    cli.wait()
    srv.wait()
    tr.wait_for(lambda l: l.startswith("  closed after "), "the diagram")
    lines = tr.stop()
    idle_cli.send_line()
    heads = [l for l in lines if "<->" in l]
    check(len(heads) == 1, "diagrams drawn: %r" % heads)
    out = "\n".join(lines)
    check("[killed]" in out and "[rst_in]" in out, "not the killed connection: %r" % out)
    check("app_close" not in out and "peer_close" not in out, "a normal connection drawn")
    check("still open" not in out, "the open, normal connection drawn at exit")
    check(any(l == "tcptimeline: events not kept: 0" for l in tr.err_lines),
          "no events-not-kept counter at exit: %r" % tr.err_lines)


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for l in f:
            if l.startswith("VmHWM:"):
                return int(l.split()[1])
    raise Failure("no VmHWM for %d" % pid)


@test
def memory_budget_holds_with_thousands_of_busy_connections(ctx):
    """2,000 busy long-lived loopback connections under --ladder --max-memory 16: the
    tracer's peak RSS stays within the budget plus its own start-up size; the cut stories
    are marked in the ladders and counted at exit"""
    host_only("the memory budget is the tracer's own bookkeeping")
    if IN_ASAN:
        raise Skip("RSS under AddressSanitizer is its shadow memory and quarantine, not the budget's")
    P = ctx.port
    budget_mib, conns, exchanges, ring_mib = 16, 2000, 60, 1
    # the ring buffer comes on top of the budget, and is mapped twice (its
    # wrap-around): a small one, so the budget is what the test sees
    tr = ctx.ladder("-P", str(P), "--max-memory", str(budget_mib), "-b", str(ring_mib))
    idle_kib = vm_hwm_kib(tr.pid)
    busy = Proc([sys.executable, BUSY, str(P), str(conns), str(exchanges)], stdin=True)
    ctx.procs.append(busy)
    busy.wait_line("ready", timeout=60)
    busy.wait_for(lambda l: l.startswith("done "), "the exchanges", timeout=90)
    peak_kib = vm_hwm_kib(tr.pid)
    lines = tr.stop()
    busy.send_line()
    busy.wait()
    held_kib = peak_kib - idle_kib
    check(peak_kib <= idle_kib + (budget_mib + 2 * ring_mib + 8) * 1024,
          "peak RSS %d KiB: %d KiB at start + %d KiB, budget %d MiB" %
          (peak_kib, idle_kib, held_kib, budget_mib))
    # the budget was what bounded it, not a light load
    check(held_kib >= budget_mib * 1024 // 2,
          "only %d KiB held: the load did not reach the budget" % held_kib)
    counter = [int(m.group(1)) for m in
               (re.match(r"tcptimeline: events not kept: (\d+)", l) for l in tr.err_lines) if m]
    check(len(counter) == 1 and counter[0] > 0, "counter at exit %r" % tr.err_lines[-4:])
    marks = [int(m.group(1)) for m in
             (re.search(r"… (\d+) (?:client|server) events not kept …", l) for l in lines) if m]
    heads = [l for l in lines if "<->" in l]
    check(len(heads) == conns, "%d diagrams for %d connections" % (len(heads), conns))
    check(len(marks) >= conns, "%d cut markers in %d diagrams" % (len(marks), len(heads)))
    check(sum(marks) == counter[0], "markers add up to %d, the counter says %d" %
          (sum(marks), counter[0]))
    print("  memory: start %d KiB, peak %d KiB (budget %d MiB), %d events not kept" %
          (idle_kib, peak_kib, budget_mib, counter[0]))


@test
def keepalive_runs_held_draw_every_probe(ctx):
    """300 idle connections probed every second for 6 s under --ladder (their
    keepalive exchanges folded while held): each diagram draws every probe and
    ACK the recording (-w) has for that connection, and nothing is cut"""
    host_only("the holding is the tracer's own bookkeeping")
    P = ctx.port
    conns, secs = 300, 6
    rec = tempfile.NamedTemporaryFile(prefix="tt-ka-", suffix=".jsonl", delete=False)
    rec.close()
    try:
        tr = ctx.ladder("-P", str(P), "-w", rec.name, "-b", "1")
        idle_kib = vm_hwm_kib(tr.pid)
        ka = Proc([sys.executable, IDLE_KA, str(P), str(conns), str(secs)], stdin=True)
        ctx.procs.append(ka)
        ka.wait_line("ready", timeout=60)
        ka.wait_line("done", timeout=secs + 30)
        held_kib = vm_hwm_kib(tr.pid) - idle_kib
        ka.send_line()
        ka.wait()
        wait_file(rec.name, lambda evs: sum(e["event"] == "close" for e in evs) >= 2 * conns + 1,
                  "every close recorded")
        lines = tr.stop()
        probes, acks = {}, {}
        with open(rec.name) as f:
            for l in f:
                e = json.loads(l)
                if e["event"] == "keepalive_probe" and e["dir"] == "out":
                    probes[e["lport"]] = probes.get(e["lport"], 0) + 1
                elif e["event"] == "keepalive_ack" and e["dir"] == "in":
                    acks[e["lport"]] = acks.get(e["lport"], 0) + 1
    finally:
        os.unlink(rec.name)
    check(len(probes) == conns, "%d of %d clients probed" % (len(probes), conns))
    total = sum(probes.values()) + sum(acks.values())
    check(min(probes.values()) >= secs - 2, "a client probed only %d times" %
          min(probes.values()))
    # one diagram per connection; its client column is the ephemeral port
    drawn, cur = {}, None
    for l in lines:
        m = re.match(r"#\d+ 127\.0\.0\.1:(\d+) .*<->", l)
        if m:
            cur = int(m.group(1))
            drawn.setdefault(cur, [0, 0])
        elif cur is not None and "keepalive probe #" in l and "KEEPALIVE" in l:
            drawn[cur][0] += 1
        elif cur is not None and "keepalive ACK" in l:
            drawn[cur][1] += 1
    for port, n in probes.items():
        check(port in drawn, "no diagram for client port %d" % port)
        check(drawn[port] == [n, acks.get(port, 0)],
              "port %d: drawn %d probes / %d ACKs, recorded %d / %d" %
              (port, drawn[port][0], drawn[port][1], n, acks.get(port, 0)))
    check(any(l == "tcptimeline: events not kept: 0" for l in tr.err_lines),
          "events were cut: %r" % tr.err_lines[-3:])
    print("  keepalive: %d probe/ACK events of %d clients drawn; tracer grew %d KiB while "
          "holding them" % (total, conns, held_kib))
