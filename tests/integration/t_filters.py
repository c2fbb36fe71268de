# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Integration tests: the filters (-4/-6, -P PORT and ranges, -p PID) keep
exactly the connections they name."""
from harness import check, test, waiter_close


@test
def family_filter(ctx):
    """-4 shows the IPv4 connection and nothing of the IPv6 one"""
    P = ctx.port
    tr = ctx.trace("-P", str(P), "-4")
    for fam in ("-6", "-4"):
        srv = ctx.peer("server", P, "accept; recv_eof; close", fam)
        cli = ctx.peer("client", P, "connect; close", fam)
        cli.wait()
        srv.wait()
    evs = ctx.finish(tr, closes="s")
    check(evs and all(e["family"] == 4 for e in evs), "families %r" %
          sorted(set(e["family"] for e in evs), key=str))


@test
def port_filter(ctx):
    """-P PORT: traffic on another port emits nothing"""
    P, Q = ctx.port, ctx.port + 1
    tr = ctx.trace("-P", str(P))
    for port in (Q, P):
        srv = ctx.peer("server", port, "accept; recv_eof; close")
        cli = ctx.peer("client", port, "connect; send 3; close")
        cli.wait()
        srv.wait()
    evs = ctx.finish(tr, closes="s")
    check(evs, "no events at all")
    bad = [e for e in evs if P not in (e["lport"], e["rport"])]
    check(not bad, "events of another port: %r" % bad[:2])


@test
def port_range_filter(ctx):
    """-P LO-HI with a second -P: both ranges traced"""
    P = ctx.port
    tr = ctx.trace("-P", "%d-%d" % (P, P + 1), "-P", str(P + 3))
    for port in (P + 1, P + 2, P + 3):
        srv = ctx.peer("server", port, "accept; recv_eof; close")
        cli = ctx.peer("client", port, "connect; close")
        cli.wait()
        srv.wait()
    waiter_close(tr, P + 3, "s")
    evs = tr.stop()
    ports = set(e["lport"] for e in evs if e["event"] == "state" and e["new"] == "LISTEN")
    check(ports == {P + 1, P + 3}, "listeners traced: %r" % ports)


@test
def pid_filter(ctx):
    """-p PID: only the sockets that process owns"""
    P = ctx.port
    srv = ctx.peer("server", P, "accept; recv_eof; close; accept; recv_eof; close")
    tr = ctx.trace("-P", str(P), "-p", str(srv.pid))
    for _ in range(2):
        cli = ctx.peer("client", P, "connect; close")
        cli.wait()
    srv.wait()
    # the server's last socket may still wait for the final ACK when it exits
    # (slow VMs): stop once both closes are out, and then count them
    tr.wait_events(lambda e: e["event"] == "close", 2, "two close events")
    evs = tr.stop()
    check(evs, "no events")
    check(all(e["pid"] == srv.pid for e in evs),
          "events of other processes: %r" % sorted(set(e["pid"] for e in evs), key=str))
    check(sum(1 for e in evs if e["event"] == "close") == 2, "two accepted connections")
