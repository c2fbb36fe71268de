# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Integration tests of what happens outside ESTABLISHED and under loss,
with a packet capture as the referee (tcpdump writes it, Wireshark's tshark
reads it): keepalive probes from a socket left in CLOSE_WAIT and the ACKs
its peer's timewait socket sends back; data written through a blackhole,
each data event stamped when its first byte first left. Skipped where
tcpdump or tshark is missing."""
import datetime
import os
import shutil
import subprocess
import time

from harness import (IN_VM, Proc, Skip, check, check_contract, close_of, kernel_at_least,
                     netns_peer, of_conn, test, waiter_close)

# the kernel side ends a data run that has been growing this long (data_flush_ns)
RUN_AGE_NS = 1000000000
# JSON times are CLOCK_MONOTONIC turned into wall-clock time once at start;
# the capture's are wall-clock time from the kernel: they may differ by this
# (in an emulated VM the two clocks drift apart by milliseconds within a
# test: a 7.2 guest under TCG saw a probe 3.4 ms before the capture's)
CLOCK_SLACK_S = 0.003 + (0.050 if IN_VM else 0)
# a probe is recorded as the keepalive timer returns, after the capture saw it
# leave (milliseconds later in an emulated VM)
PROBE_AFTER_S = 0.010


def need_capture_tools():
    for tool in ("tcpdump", "tshark"):
        if not shutil.which(tool):
            raise Skip("needs %s (tests/install-deps.sh installs it)" % tool)


class Capture(Proc):
    """tcpdump writing the test's port on one interface to a file; ready once
    it says it is listening."""

    def __init__(self, ctx, iface, port, path, netns=None):
        # --immediate-mode: without it packets wait in a ring block for up to
        # a second, and those still waiting when tcpdump is stopped are lost
        super().__init__(["tcpdump", "-i", iface, "--immediate-mode", "-U", "-n", "-s", "128",
                          "-w", path,
                          "tcp port %d" % port], netns=netns)
        ctx.procs.append(self)
        self.path = path
        self.wait_for(lambda l: "listening on" in l, "tcpdump's readiness line", err=True)

    def packets(self, *fields, display_filter=""):
        """Stop capturing; tshark's fields of every packet (after the filter)."""
        time.sleep(0.05)  # the last packet's write (-U: at once) has left the kernel by now
        self.kill(2)
        self.wait()
        self.t_err.join(5)
        check(any(l.strip() == "0 packets dropped by kernel" for l in self.err_lines),
              "tcpdump lost packets: %r" % self.err_lines)
        argv = ["tshark", "-n", "-r", self.path, "-T", "fields", "-E", "separator=\t"]
        if display_filter:
            argv += ["-Y", display_filter]
        for f in fields:
            argv += ["-e", f]
        r = subprocess.run(argv, capture_output=True, text=True)
        check(r.returncode == 0, "tshark failed: %s" % r.stderr.strip())
        return [l.split("\t") for l in r.stdout.splitlines() if l]


def wall_s(e):
    """An event's `time` (RFC 3339 UTC, µs) as seconds since the epoch."""
    t = datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


@test
def keepalive_close_wait(ctx):
    """keepalive from a socket left in CLOSE_WAIT: every probe and every ACK on the wire is in the JSON; the ladder shows each probe answered"""
    need_capture_tools()
    P = ctx.port
    cap = Capture(ctx, "lo", P, "/tmp/tt-states-ka-%d.pcap" % P)
    tr = ctx.trace("-P", str(P))
    # the server keeps its socket after the client closed (CLOSE_WAIT: the
    # classic leak); its keepalive probes are answered by the client's
    # timewait socket, the client application long gone
    srv = ctx.peer("server", P, "accept; keepalive 1 1 5; recv_eof; wait_line; close")
    # the server's end only: drawn when it closes (a pair would be drawn once
    # the client's end had waited its 2 s for the other, the server still open)
    lad = ctx.ladder("-P", str(P), "-p", str(srv.pid))
    cli = ctx.peer("client", P, "connect; close")
    check(cli.wait() == 0, "client failed")
    sc = tr.wait_event(lambda e: e["event"] == "state" and e["lport"] == P and
                       e["new"] == "SYN_RECV", "the accepted socket")["conn"]
    seen = []
    tr.wait_event(lambda e: e["event"] == "keepalive_probe" and e["conn"] == sc and
                  seen.append(e) is None and len(seen) >= 3,
                  "three keepalive probes from CLOSE_WAIT", timeout=10)
    srv.send_line()
    check(srv.wait() == 0, "server failed")
    waiter_close(tr, P, "s")
    evs = tr.stop()
    check_contract(evs)
    ce = of_conn(evs, sc)

    # the referee: tshark's keepalive analysis of the capture
    pk = cap.packets("frame.time_epoch", "tcp.srcport", "tcp.analysis.keep_alive",
                     "tcp.analysis.keep_alive_ack",
                     display_filter="tcp.analysis.keep_alive || tcp.analysis.keep_alive_ack")
    wire_probes = [float(p[0]) for p in pk if p[1] == str(P) and p[2]]
    wire_acks = [float(p[0]) for p in pk if p[1] != str(P) and p[3]]
    check(len(wire_probes) >= 3, "tshark saw %d probes from the server" % len(wire_probes))
    probes = [e for e in ce if e["event"] == "keepalive_probe" and e["dir"] == "out"]
    acks = [e for e in ce if e["event"] == "keepalive_ack" and e["dir"] == "in"]
    check(len(probes) == len(wire_probes), "%d probes on the wire, %d in the JSON" %
          (len(wire_probes), len(probes)))
    check(len(acks) == len(wire_acks), "%d probe ACKs on the wire, %d in the JSON: %r" %
          (len(wire_acks), len(acks), acks))
    check(all(e["n"] == 1 for e in probes), "every probe was answered, so each is #1: %r" %
          [e["n"] for e in probes])
    for e, w in zip(acks, wire_acks):
        check(e.get("inferred") is True, "an ACK to CLOSE_WAIT is inferred: %r" % e)
        check(e["rtt_us"] is None, "an inferred ACK has no round trip: %r" % e)
        # exact to a jiffy (10 ms at HZ=100, the coarsest Linux has), either way
        d = wall_s(e) - w
        check(abs(d) <= 0.010 + CLOCK_SLACK_S,
              "inferred ACK at %+.6f s from the wire's" % d)
    # every probe's and ACK's offset in the message: one shift shared by all
    # is the wall clock's offset, one probe alone is that probe's time
    deltas = "probes %s, ACKs %s" % (
        " ".join("%+.4f" % (wall_s(p) - w) for p, w in zip(probes, wire_probes)),
        " ".join("%+.4f" % (wall_s(e) - w) for e, w in zip(acks, wire_acks)))
    for p, w in zip(probes, wire_probes):
        d = wall_s(p) - w
        check(-CLOCK_SLACK_S <= d <= PROBE_AFTER_S + CLOCK_SLACK_S,
              "probe at %+.6f s from the wire's (%s)" % (d, deltas))
    check(close_of(evs, sc)["cause"] == "peer_close", "the client closed first: %r" %
          close_of(evs, sc))
    # the client's timewait socket answered each probe (and took the
    # server's FIN) and freed it: nothing was lost, so no drop anywhere
    drops = [e for e in evs if e["event"] == "drop"]
    check(not drops, "segments a timewait socket handled are not drops: %r" % drops)

    # the ladder: every probe row is followed by its ACK before the next probe
    time.sleep(0.2)
    lines = lad.stop()
    rows = [l for l in lines if l[:1].isdigit()]
    seq = [("P" if "keepalive probe" in l else "A") for l in rows
           if "keepalive probe" in l or "keepalive ACK" in l]
    check(seq == ["P", "A"] * len(probes), "ladder probes/ACKs %r\n%s" %
          ("".join(seq), "\n".join(lines)))


@test
def keepalive_fin_wait2(ctx):
    """keepalive probes the peer sends us in FIN_WAIT2 (we shut down first), and our ACKs: every one on the wire is in the JSON as a keepalive, none as a drop; the ladder draws them as keepalives"""
    need_capture_tools()
    P = ctx.port
    cap = Capture(ctx, "lo", P, "/tmp/tt-states-kafw2-%d.pcap" % P)
    tr = ctx.trace("-P", str(P))
    # the server keeps its CLOSE_WAIT socket open with keepalive on; the
    # client shut down its side and waits in FIN_WAIT2, its socket still
    # open (not an orphan: no FIN_WAIT2 timeout), so its kernel answers
    # every probe with a duplicate ACK (tcp_validate_incoming)
    srv = ctx.peer("server", P, "accept; keepalive 1 1 5; recv_eof; wait_line; close")
    cli = ctx.peer("client", P, "wait_line; connect; shutdown_wr; wait_line; close")
    # the client's end only, drawn when it closes
    lad = ctx.ladder("-P", str(P), "-p", str(cli.pid))
    cli.send_line()
    cli.wait_line("step shutdown_wr ok")
    cc = tr.wait_event(lambda e: e["event"] == "state" and e["rport"] == P and
                       e["new"] == "FIN_WAIT2", "the client in FIN_WAIT2")["conn"]
    if kernel_at_least(6, 11):
        seen = []
        tr.wait_event(lambda e: e["event"] == "keepalive_ack" and e["conn"] == cc and
                      seen.append(e) is None and len(seen) >= 3,
                      "three keepalive ACKs from FIN_WAIT2", timeout=10)
    else:
        # no receiving socket to tell a probe by (see README Kernels): wait
        # for the server's probes instead
        seen = []
        tr.wait_event(lambda e: e["event"] == "keepalive_probe" and e["lport"] == P and
                      seen.append(e) is None and len(seen) >= 3,
                      "three keepalive probes from CLOSE_WAIT", timeout=10)
    # the server closes first (its FIN takes the client to TIME_WAIT), so no
    # probe meets the client's timewait socket
    srv.send_line()
    check(srv.wait() == 0, "server failed")
    tr.wait_event(lambda e: e["event"] == "close" and e["conn"] == cc, "the client's close")
    cli.send_line()
    check(cli.wait() == 0, "client failed")
    waiter_close(tr, P, "s")
    evs = tr.stop()
    # before 6.11 the tracer says at start what it cannot see here
    warned = any("does not name the receiving socket" in l for l in tr.err_lines)
    check(warned != kernel_at_least(6, 11), "the 6.11 receiving-socket warning is %s" %
          ("needless" if warned else "missing"))
    check_contract(evs)
    ce = of_conn(evs, cc)
    sc = [e["conn"] for e in evs if e["event"] == "state" and e["lport"] == P and
          e["new"] == "SYN_RECV"][0]

    pk = cap.packets("frame.time_epoch", "tcp.srcport", "tcp.analysis.keep_alive",
                     "tcp.analysis.keep_alive_ack",
                     display_filter="tcp.analysis.keep_alive || tcp.analysis.keep_alive_ack")
    wire_probes = [float(p[0]) for p in pk if p[1] == str(P) and p[2]]
    wire_acks = [float(p[0]) for p in pk if p[1] != str(P) and p[3]]
    check(len(wire_probes) >= 3, "tshark saw %d probes from the server" % len(wire_probes))
    check(len(wire_acks) == len(wire_probes), "tshark: %d probes, %d ACKs" %
          (len(wire_probes), len(wire_acks)))
    probes = [e for e in ce if e["event"] == "keepalive_probe" and e["dir"] == "in"]
    acks = [e for e in ce if e["event"] == "keepalive_ack" and e["dir"] == "out"]
    drops = [e for e in evs if e["event"] == "drop"]
    if not kernel_at_least(5, 17):
        # tcp_drop freed the probe without kfree_skb: nothing to see
        check(not probes and not acks and not drops, "5.10: %r" % (probes + acks + drops))
        raise Skip("kernel %s: a probe into FIN_WAIT2 leaves no trace before 5.17 "
                   "(README Kernels)" % os.uname().release)
    if not kernel_at_least(6, 11):
        # no receiving socket to tell a probe by: none is claimed (6.1 frees
        # it without a drop event either; README Kernels)
        check(not probes and not acks, "no receiving socket, no probe: %r" % (probes + acks))
        raise Skip("kernel %s: kfree_skb has no receiving socket (6.11+): probes into "
                   "FIN_WAIT2 are not reported (README Kernels)" % os.uname().release)
    check(not drops, "a keepalive probe or its ACK reported as a drop: %r" % drops)
    check(len(probes) == len(wire_probes), "%d probes on the wire, %d in the JSON: %r" %
          (len(wire_probes), len(probes), probes))
    check(len(acks) == len(wire_acks), "%d probe ACKs on the wire, %d in the JSON: %r" %
          (len(wire_acks), len(acks), acks))
    check([e["n"] for e in probes] == list(range(1, len(probes) + 1)),
          "probes in are counted since the peer's last data: %r" % [e["n"] for e in probes])
    check(all(e["rtt_us"] is None and not e.get("inferred") for e in acks),
          "our ACK has no round trip of its own and is seen leaving: %r" % acks)
    # an emulated VM's clocks lag the capture's by milliseconds (6.12 under
    # TCG: an ACK 6 ms "before" the wire's)
    slack = CLOCK_SLACK_S
    for e, w in zip(probes, wire_probes):
        # stamped as the kernel frees it, just after it arrived
        d = wall_s(e) - w
        check(-slack <= d <= PROBE_AFTER_S + slack, "probe in at %+.6f s from the wire's" % d)
    for e, w in zip(acks, wire_acks):
        # stamped after tcp_send_dupack returned: after the capture saw it
        d = wall_s(e) - w
        check(-slack <= d <= PROBE_AFTER_S + slack, "ACK out at %+.6f s from the wire's" % d)
    # the prober's end as before: its probes and their (inferred) ACKs
    sprobes = [e for e in of_conn(evs, sc) if e["event"] == "keepalive_probe" and
               e["dir"] == "out"]
    check(len(sprobes) == len(wire_probes), "%d probes on the wire, %d out on the server" %
          (len(wire_probes), len(sprobes)))
    cl = close_of(evs, cc)
    check(cl["drops"] == 0 and cl["cause"] == "app_close", "client close %r" % cl)

    # the ladder: every probe row followed by its ACK before the next probe
    time.sleep(0.2)
    lines = lad.stop()
    rows = [l for l in lines if l[:1].isdigit()]
    seq = [("P" if "keepalive probe" in l else "A") for l in rows
           if "keepalive probe" in l or "keepalive ACK" in l]
    check(seq == ["P", "A"] * len(probes), "ladder probes/ACKs %r\n%s" %
          ("".join(seq), "\n".join(lines)))
    check(not any("dropped" in l for l in lines), "ladder draws a drop:\n%s" % "\n".join(lines))


def first_tx_times(pk, server_port):
    """(first, end, time) of each stretch of the client's stream (byte
    offsets from 0) in the order it first left, from tshark's frame time,
    source port, relative sequence number and length of each data segment.
    A retransmit adds nothing; a segment that repeats some bytes and adds
    new ones counts only the new ones."""
    first = []
    top = 1  # relative sequence number 1 is the stream's byte 0
    for t, src, seq, ln in pk:
        if src == str(server_port) or not int(ln):
            continue
        s, n = int(seq), int(ln)
        if s + n > top:
            first.append((max(s, top) - 1, s + n - 1, float(t)))
            top = s + n
    return first, top - 1


@test
def data_order_under_loss(ctx):
    """a trickle of writes through 1 s of total loss: each data event is stamped when its first byte first left, and every byte of it left within the run age limit after"""
    need_capture_tools()
    P = ctx.port
    # under emulation installing the nft rule alone can take longer than a
    # 1.5 s trickle: the loss must start while the client still writes
    writes = 90 if IN_VM else 30
    want = 500 * writes
    ns = ctx.netns("o")
    cap = Capture(ctx, "ttoa", P, "/tmp/tt-states-loss-%d.pcap" % P, netns=ns.cli)
    tr = ctx.trace("-P", str(P), netns=ns.cli)
    lad = ctx.ladder("-P", str(P))
    srv = netns_peer(ctx, ns.srv, "server", P, "accept; recv %d; recv_eof; close" % want)
    # the client closes only once everything arrived: its socket stays in
    # ESTABLISHED through the recovery (ACKs in FIN_WAIT1 are not seen
    # arriving, and data counted after them is inferred: see README)
    cli = netns_peer(ctx, ns.cli, "client", P,
                     "connect; wait_line; send_every 500 50 %d; wait_line; close" % writes)
    cli.wait_line("step connect ok")
    cli.send_line()
    time.sleep(0.2)  # the loss starts while the client writes
    ns.drop(ns.srv, "input priority 0", "ip saddr 10.200.0.1 tcp dport %d" % P)
    time.sleep(1.0)
    subprocess.run(["ip", "netns", "exec", ns.srv, "nft", "delete table inet tt"], check=True)
    srv.wait_line("step recv ok")
    cli.send_line()
    cli.wait_line("done")
    waiter_close(tr, P, "c")
    waiter_close(tr, P, "s")
    evs = tr.stop()
    check_contract(evs)
    cc = [e["conn"] for e in evs if e["event"] == "state" and e["new"] == "SYN_SENT"][0]
    ce = of_conn(evs, cc)
    data = [e for e in ce if e["event"] == "data" and e["dir"] == "out"]
    rt = [e for e in ce if e["event"] == "retransmit"]
    check(len(rt) >= 2, "retransmits %d" % len(rt))
    inferred = sum(e["bytes"] for e in data if e.get("inferred"))
    if IN_VM:
        # under emulation the client's kernel can fall so far behind that a
        # run is only noticed after its send time is gone (stamped when
        # noticed, inferred: true, as README says); the host allows none
        check(inferred <= want // 2, "%d of %d B stamped when noticed" % (inferred, want))
    else:
        check(not inferred, "data stamped when noticed: %r" % data)
    check(sum(e["bytes"] for e in data) == want, "bytes out %d" % sum(e["bytes"] for e in data))

    pk = cap.packets("frame.time_epoch", "tcp.srcport", "tcp.seq", "tcp.len",
                     display_filter="tcp.len > 0")
    first, total = first_tx_times(pk, P)
    check(total == want, "the capture has %d bytes from the client" % total)
    off = 0
    for e in data:
        ts = wall_s(e)
        lo_, hi = off, off + e["bytes"]
        seen = [t for (b, end, t) in first if b < hi and end > lo_]
        check(seen, "no first transmission for bytes %d-%d" % (lo_, hi))
        if e.get("inferred"):  # stamped when noticed: later than the wire, by design
            check(min(seen) <= ts + CLOCK_SLACK_S,
                  "bytes %d-%d noticed before they left" % (lo_, hi))
            off = hi
            continue
        check(min(seen) >= ts - CLOCK_SLACK_S,
              "bytes %d-%d first left %.6f s before their data event" % (lo_, hi, ts - min(seen)))
        # a run collects what is counted until it is RUN_AGE_NS old, and
        # data out is counted lazily, at the next event: in an emulated
        # guest those events can lag the wire by more (6.12 under TCG: a
        # run's last bytes left 1.67 s after it; not yet explained, see
        # README Kernels)
        check(max(seen) <= ts + RUN_AGE_NS / 1e9 + CLOCK_SLACK_S + (1.0 if IN_VM else 0),
              "bytes %d-%d left %.3f s after their data event" % (lo_, hi, max(seen) - ts))
        off = hi

    # the ladder: rows in time order, each retransmit at its own time
    time.sleep(0.2)
    lines = lad.stop()
    rows = [l for l in lines if l[:1].isdigit()]
    times = [float(l.split()[0]) for l in rows]
    check(times == sorted(times), "ladder rows out of time order:\n%s" % "\n".join(lines))
    again = [l for l in rows if "DATA again" in l]
    check(len(again) == len(rt), "%d retransmits, %d 'again' rows:\n%s" %
          (len(rt), len(again), "\n".join(lines)))
    dat = [i for i, l in enumerate(rows) if "DATA " in l and "again" not in l]
    first_again = rows.index(again[0])
    check(any(i > first_again for i in dat), "no new data drawn after the first retransmit:\n%s" %
          "\n".join(lines))
