# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Zero-window stalls (window events), with a packet capture as the referee:
a reader with a small SO_RCVBUF that stops reading while its peer writes,
twice; Wireshark's tshark finds the zero-window periods on the wire
(tcp.analysis.zero_window ... the server's next segment with a window), and
each must be a zero ... open pair in the JSON: on the writer's end (in: seen
on the wire, stamped on arrival) and on the reader's (out: inferred from the
socket). Skipped where tcpdump or tshark is missing."""
import os
import sys
import time

from harness import (IN_VM, Proc, Skip, check, check_contract, close_of, kernel_at_least,
                     of_conn, test, waiter_close)
from t_states import CLOCK_SLACK_S, Capture, need_capture_tools, wall_s

# a segment is stamped as tcp_probe sees it, the capture as it leaves: on
# loopback the same moment; an emulated VM lags by milliseconds
ARRIVAL_SLACK_S = CLOCK_SLACK_S + (0.050 if IN_VM else 0.002)

# The reader: a listener with a 4 KiB receive buffer (the accepted socket
# inherits it); on each line "drain N" it reads N bytes, says "drained";
# "close" closes. The writer: non-blocking sends until the send buffer is
# full ("full"), then on "more" blocks until everything it was asked to
# send has gone ("sent"), and on "close" closes.
READER = r'''
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
l.bind(("127.0.0.1", int(sys.argv[1])))
l.listen(1)
print("listening", flush=True)
c, _ = l.accept()
if sys.argv[2:] == ["half"]:
    # we shut down our side first: FIN_WAIT2 here, CLOSE_WAIT for the writer
    c.shutdown(socket.SHUT_WR)
    print("shut", flush=True)
for line in sys.stdin:
    w = line.split()
    if w[0] == "drain":
        n = int(w[1])
        while n > 0:
            b = c.recv(min(n, 65536))
            if not b:
                break
            n -= len(b)
        print("drained", flush=True)
    else:
        break
c.close()
'''
WRITER = r'''
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
print("connected", flush=True)
for line in sys.stdin:
    if line.strip() != "fill":
        break
    s.setblocking(False)
    sent = 0
    try:
        while True:
            sent += s.send(b"x" * 4096)
    except BlockingIOError:
        pass
    s.setblocking(True)
    print("full %d" % sent, flush=True)
s.close()
'''


def periods(pk, server_port):
    """[(zero_time, open_time)] of the server's advertised window on the wire:
    from its first segment with a zero window (tshark's tcp.analysis.zero_window)
    to its next segment with a window again (None if none)."""
    out, start = [], None
    for t, src, win, zw in pk:
        if src != str(server_port):
            continue
        if zw and start is None:
            start = float(t)
        elif not zw and int(win) > 0 and start is not None:
            out.append((start, float(t)))
            start = None
    if start is not None:
        out.append((start, None))
    return out


def pairs(evs, conn, direction):
    """[(zero event, open event or None)] of one end's window events one way."""
    out = []
    for e in of_conn(evs, conn):
        if e["event"] != "window" or e["dir"] != direction:
            continue
        if e["state"] == "zero":
            check(not out or out[-1][1] is not None, "two zeros in a row: %r" % e)
            out.append((e, None))
        else:
            check(out and out[-1][1] is None, "an open without a zero: %r" % e)
            out[-1] = (out[-1][0], e)
    return out


@test
def zero_window_stalls(ctx):
    """a reader that stops reading (SO_RCVBUF 4 KiB), twice: every zero-window period tshark
    finds is a zero ... open pair on the writer (in, at the wire's times) and on the reader
    (out, inferred, within the period); the open counts the writer's zero-window probes
    (tshark's keep-alive or zero_window_probe segments); close says how long it stalled; the ladder
    tells it; --abnormal prints both ends whole"""
    if IN_VM:
        # 7.2 guests under TCG on a loaded host: twice in a row no zero-window
        # probe on the wire within 20 s, and once --abnormal without a stalled
        # end's story (clean-clone CI of 2026-12-02); the host runs it with the
        # exact bounds, and zero_window_half_closed covers the window events
        # in every guest
        raise Skip("flaky under TCG emulation (README Tests); the host runs it")
    need_capture_tools()
    P = ctx.port
    cap = Capture(ctx, "lo", P, "/tmp/tt-window-%d.pcap" % P)
    tr = ctx.trace("-P", str(P))
    ab = ctx.trace("-P", str(P), "--abnormal")  # a stall is abnormal: both ends printed
    lad = ctx.ladder("-P", str(P))
    rd = Proc([sys.executable, "-c", READER, str(P)], stdin=True)
    ctx.procs.append(rd)
    rd.wait_line("listening")
    wr = Proc([sys.executable, "-c", WRITER, str(P)], stdin=True)
    ctx.procs.append(wr)
    wr.wait_line("connected")
    cc = tr.wait_event(lambda e: e["event"] == "state" and e["new"] == "ESTABLISHED" and
                       e["rport"] == P, "the writer's ESTABLISHED")["conn"]
    sc = tr.wait_event(lambda e: e["event"] == "state" and e["new"] == "ESTABLISHED" and
                       e["lport"] == P, "the reader's ESTABLISHED")["conn"]
    for rnd in range(2):
        wr.send_line("fill")
        n = int(wr.wait_nth(lambda l: l.startswith("full "), rnd + 1,
                                 "the writer's buffer to fill").split()[1])
        probes_before = len(cap_probes(cap.path, P))
        # the reader's end notices its own zero at the writer's first
        # zero-window probe, or earlier (the segment that filled its
        # window), so the stall has had a probe once the wire shows one
        tr.wait_events(lambda e: e["event"] == "window" and e["conn"] == sc and
                       e["state"] == "zero", rnd + 1, "the reader's zero window")
        wait_probe(cap, P, probes_before)
        rd.send_line("drain %d" % n)
        rd.wait_nth(lambda l: l == "drained", rnd + 1, "the reader's drain")
        tr.wait_events(lambda e: e["event"] == "window" and e["conn"] == cc and
                       e["state"] == "open", rnd + 1, "the writer's window open again")
    wr.send_line("close")
    rd.send_line("close")
    check(wr.wait() == 0 and rd.wait() == 0, "peers failed")
    waiter_close(tr, P, "c")
    waiter_close(tr, P, "s")
    evs = tr.stop()
    check_contract(evs)
    pk = cap.packets("frame.time_epoch", "tcp.srcport", "tcp.window_size_value",
                     "tcp.analysis.zero_window")
    wire = periods(pk, P)
    check(len(wire) == 2 and all(o is not None for _, o in wire),
          "tshark's zero-window periods: %r" % wire)
    probes_pk = cap_probes(cap.path, P)

    ins = pairs(evs, cc, "in")
    outs = pairs(evs, sc, "out")
    check(len(ins) == len(wire), "writer: %d zero/open pairs, the wire %d" % (len(ins), len(wire)))
    check(len(outs) == len(wire), "reader: %d zero/open pairs, the wire %d" %
          (len(outs), len(wire)))
    check(not pairs(evs, cc, "out") and not pairs(evs, sc, "in"),
          "the other ways never stalled")
    total_ms = 0.0
    for (z, o), (wz, wo) in zip(ins, wire):
        check(o is not None, "the writer's stall never opened: %r" % z)
        check(abs(wall_s(z) - wz) <= ARRIVAL_SLACK_S, "writer zero at %+.6f s from the wire's"
              % (wall_s(z) - wz))
        check(abs(wall_s(o) - wo) <= ARRIVAL_SLACK_S, "writer open at %+.6f s from the wire's"
              % (wall_s(o) - wo))
        check(z["queued"] > 0 and not z.get("inferred"), "writer zero %r" % z)
        check(abs(o["stalled_ms"] / 1e3 - (wo - wz)) <= 2 * ARRIVAL_SLACK_S,
              "stalled_ms %r, the wire %.3f s" % (o["stalled_ms"], wo - wz))
        wp = sum(1 for t in probes_pk if wz <= t <= wo)
        check(wp >= 1 and o["probes"] == wp, "zero-window probes: %r, the wire %d" %
              (o["probes"], wp))
        total_ms += o["stalled_ms"]
    for (z, o), (wz, wo) in zip(outs, wire):
        check(o is not None, "the reader's stall never opened: %r" % z)
        check(z.get("inferred") is True and o.get("inferred") is True, "inferred: %r %r" %
              (z, o))
        # its zero is placed back at the last data's arrival (a jiffy's
        # precision), which its ACK with the zero follows by up to a delayed
        # ACK (TCP_DELACK_MAX, 200 ms); its reopening is noticed at the
        # writer's next segment
        check(wz - 0.2 - 0.011 - ARRIVAL_SLACK_S <= wall_s(z) <= wo,
              "reader zero at %+.6f s from the wire's" % (wall_s(z) - wz))
        check(wo - ARRIVAL_SLACK_S <= wall_s(o) <= wo + 0.5,
              "reader open at %+.6f s from the wire's" % (wall_s(o) - wo))
        check(z["queued"] > 0, "the reader had unread bytes: %r" % z)
    cl = close_of(evs, cc)
    check(abs(cl.get("stalled_ms", 0) - total_ms) <= 2, "close %r, stalls %.3f ms" %
          (cl, total_ms))
    # a zero-window probe looks like a keepalive probe (one byte below the
    # window, no data): it is neither a keepalive nor, where kfree_skb names
    # the receiving socket (6.11+), a drop
    bad = [e for e in evs if (e["event"].startswith("keepalive") and e["conn"] in (cc, sc)) or
           (e["event"] == "drop" and e["reason"] == "TCP_OLD_SEQUENCE" and e["bytes"] <= 1 and
            kernel_at_least(6, 11))]
    check(not bad, "zero-window probes as keepalives or drops: %r" % bad)

    aevs = ab.stop()
    # each tracer numbers connections and stamps events its own way (its own
    # programs), and may cut data runs elsewhere: compared by what happened
    def story(evs_, conn):
        return [(e["event"], e["lport"], e["rport"], e.get("new"), e.get("dir"),
                 e.get("state")) for e in of_conn(evs_, conn) if e["event"] != "data"]

    for conn in (cc, sc):
        mine = story(evs, conn)
        theirs = [c for c in {e["conn"] for e in aevs if e["event"] != "summary"}
                  if story(aevs, c) == mine]
        check(theirs, "--abnormal did not print conn %d's story %r" % (conn, mine))

    lines = lad.stop()
    text = "\n".join(lines)
    check(text.count("server window 0: its application is") == 2 and
          text.count("server window open again after") == 2 and
          "stalled " in text and "by a zero window (2 times)" in text,
          "the ladder's notes:\n%s" % text)


def wait_probe(cap, port, before, timeout=20.0):
    """Until the capture (tcpdump -U: each packet written at once) holds more
    of the writer's zero-window probes than `before`: the first comes after
    an RTO (200 ms at least, backing off), so a stall drained before it has
    none to count."""
    deadline = time.monotonic() + timeout
    while len(cap_probes(cap.path, port)) <= before:
        check(time.monotonic() < deadline, "no zero-window probe on the wire within %.0f s" %
              timeout)
        time.sleep(0.1)


def cap_probes(path, port):
    """Times of the writer's zero-window probes on the wire (tshark). Linux probes
    with no data at the last acknowledged sequence number minus one (tcp_xmit_probe_skb),
    which tshark calls a keep-alive; a probe carrying a byte is a zero_window_probe."""
    import subprocess
    r = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.time_epoch",
                        "-Y", "(tcp.analysis.zero_window_probe || tcp.analysis.keep_alive) && "
                        "tcp.dstport == %d" % port],
                       capture_output=True, text=True)
    check(r.returncode == 0, "tshark failed: %s" % r.stderr.strip())
    return [float(l) for l in r.stdout.split()]


@test
def zero_window_half_closed(ctx):
    """a stall of a half-closed connection: the reader shut down its side (FIN_WAIT2) and stops reading, the writer writes into CLOSE_WAIT; tshark's zero-window period is a zero ... open pair on both ends (inferred: no tcp_probe there), within the period, and no probe is a drop or a keepalive"""
    need_capture_tools()
    P = ctx.port
    cap = Capture(ctx, "lo", P, "/tmp/tt-window-half-%d.pcap" % P)
    tr = ctx.trace("-P", str(P))
    rd = Proc([sys.executable, "-c", READER, str(P), "half"], stdin=True)
    ctx.procs.append(rd)
    rd.wait_line("listening")
    wr = Proc([sys.executable, "-c", WRITER, str(P)], stdin=True)
    ctx.procs.append(wr)
    wr.wait_line("connected")
    rd.wait_line("shut")
    cc = tr.wait_event(lambda e: e["event"] == "state" and e["new"] == "CLOSE_WAIT" and
                       e["rport"] == P, "the writer in CLOSE_WAIT")["conn"]
    sc = tr.wait_event(lambda e: e["event"] == "state" and e["new"] == "FIN_WAIT2" and
                       e["lport"] == P, "the reader in FIN_WAIT2")["conn"]
    wr.send_line("fill")
    n = int(wr.wait_nth(lambda l: l.startswith("full "), 1,
                        "the writer's buffer to fill").split()[1])
    # the reader's side is seen where kfree_skb names the receiving socket
    # of the writer's zero-window probes (README Kernels)
    reader_side = kernel_at_least(6, 11)
    if reader_side:
        tr.wait_event(lambda e: e["event"] == "window" and e["conn"] == sc and
                      e["state"] == "zero", "the reader's zero window")
    tr.wait_event(lambda e: e["event"] == "window" and e["conn"] == cc and
                  e["state"] == "zero", "the writer's zero window")
    rd.send_line("drain %d" % n)
    rd.wait_line("drained")
    if reader_side:
        tr.wait_event(lambda e: e["event"] == "window" and e["conn"] == sc and
                      e["state"] == "open", "the reader's window open again")
    # noticed at the writer's next retransmit timer run (an RTO after its last data)
    tr.wait_event(lambda e: e["event"] == "window" and e["conn"] == cc and
                  e["state"] == "open", "the writer's window open again")
    wr.send_line("close")
    rd.send_line("close")
    check(wr.wait() == 0 and rd.wait() == 0, "peers failed")
    waiter_close(tr, P, "c")
    waiter_close(tr, P, "s")
    evs = tr.stop()
    check_contract(evs)
    pk = cap.packets("frame.time_epoch", "tcp.srcport", "tcp.window_size_value",
                     "tcp.analysis.zero_window")
    wire = periods(pk, P)
    check(len(wire) == 1 and wire[0][1] is not None, "tshark's zero-window periods: %r" % wire)
    (wz, wo), = wire
    probes_pk = [t for t in cap_probes(cap.path, P) if wz <= t <= wo]
    check(probes_pk, "no zero-window probe on the wire")
    ins = pairs(evs, cc, "in")
    outs = pairs(evs, sc, "out")
    check(len(ins) == 1 and len(outs) == (1 if reader_side else 0), "writer %r, reader %r" %
          (ins, outs))
    check(not pairs(evs, cc, "out") and not pairs(evs, sc, "in"), "the other ways never stalled")
    (z, o), = ins
    check(o is not None, "the writer's stall never opened: %r" % z)
    check(z.get("inferred") is True and o.get("inferred") is True, "writer inferred: %r %r" %
          (z, o))
    # the zero: rcv_tstamp, the last ACK before the first probe (a jiffy's
    # precision), no later than that probe; the open: noticed at the next
    # retransmit timer or the close, after the wire's
    check(wz - 0.011 - ARRIVAL_SLACK_S <= wall_s(z) <= probes_pk[0] + ARRIVAL_SLACK_S,
          "writer zero at %+.6f s from the wire's" % (wall_s(z) - wz))
    check(wo - ARRIVAL_SLACK_S <= wall_s(o) <= wo + (3.0 if IN_VM else 1.5),
          "writer open %+.6f s from the wire's" % (wall_s(o) - wo))
    check(z["queued"] > 0, "the writer had bytes waiting: %r" % z)
    check(o["probes"] == len(probes_pk), "zero-window probes: %r, the wire %d" %
          (o["probes"], len(probes_pk)))
    if not reader_side:
        raise Skip("kernel %s: the writer's side passed; the reader's needs kfree_skb's "
                   "receiving socket (6.11+; README Kernels)" % os.uname().release)
    (z, o), = outs
    check(o is not None, "the reader's stall never opened: %r" % z)
    check(z.get("inferred") is True and o.get("inferred") is True, "reader inferred: %r %r" %
          (z, o))
    check(wz - 0.2 - 0.011 - ARRIVAL_SLACK_S <= wall_s(z) <= wo,
          "reader zero at %+.6f s from the wire's" % (wall_s(z) - wz))
    check(wo - ARRIVAL_SLACK_S <= wall_s(o) <= wo + 0.5,
          "reader open at %+.6f s from the wire's" % (wall_s(o) - wo))
    check(z["queued"] > 0, "the reader had unread bytes: %r" % z)
    # probe-shaped: a bare ACK of at most a byte (a FIN the reader's timewait
    # socket answers, when the reader closed first, is README's known wrong drop)
    bad = [e for e in evs if (e["event"] == "drop" and e["flags"] == "ACK" and e["bytes"] <= 1) or
           (e["event"].startswith("keepalive") and e["conn"] in (cc, sc))]
    check(not bad, "zero-window probes as drops or keepalives: %r" % bad)
