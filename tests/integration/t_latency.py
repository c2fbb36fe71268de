# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Latency: handshake_us on entering ESTABLISHED and srtt_us / min_rtt_us at
close, against the timestamps of a tcpdump capture of the same connection
through a link that netem delays by 50 ms (one way: the server's egress)."""
import os
import re
import shutil
import signal
import subprocess

from harness import Proc, Skip, check, check_contract, netns_peer, of_conn, test, waiter_close

DELAY_MS = 50
TOL_US = 5000  # the host's own scheduling on either side of a 50 ms delay

# "1733045000.123456 IP 10.200.0.1.41550 > 10.200.0.2.21000: Flags [S.], ..."
LINE = re.compile(r"^(\d+\.\d+) IP6? (\S+)\.(\d+) > (\S+)\.(\d+): Flags \[([^\]]*)\]")


def capture(ctx, ns, dev, port):
    """tcpdump in namespace ns on dev, stopped with stop(); lines as they come."""
    p = Proc(["ip", "netns", "exec", ns, "tcpdump", "-i", dev, "-n", "-l", "-tt",
              "--immediate-mode", "tcp port %d" % port])
    ctx.procs.append(p)
    p.wait_for(lambda l: "listening on" in l, "tcpdump to listen", err=True)
    return p


def packets(lines):
    out = []
    for l in lines:
        m = LINE.match(l)
        if m:
            out.append({"t_us": round(float(m.group(1)) * 1e6), "src_port": int(m.group(3)),
                        "flags": m.group(6)})
    return out


@test
def latency_against_capture(ctx):
    """handshake_us of both ends, and the client's srtt_us / min_rtt_us, within 5 ms of
    what a tcpdump capture shows through a 50 ms netem delay"""
    if not shutil.which("tcpdump"):
        raise Skip("needs tcpdump")
    P = ctx.port
    ns = ctx.netns("l")
    if not shutil.which("tc"):
        raise Skip("needs tc")
    r = subprocess.run(["ip", "netns", "exec", ns.srv, "tc", "qdisc", "add", "dev", "ttlb",
                        "root", "netem", "delay", "%dms" % DELAY_MS], capture_output=True,
                       text=True)
    if r.returncode:
        raise Skip("kernel %s has no netem qdisc (CONFIG_NET_SCH_NETEM): %s" %
                   (os.uname().release, r.stderr.strip()))
    cap = capture(ctx, ns.cli, "ttla", P)
    tr = ctx.trace("-P", str(P))
    srv = netns_peer(ctx, ns.srv, "server", P, "accept; recv 100; send 100; recv_eof; close")
    cli = netns_peer(ctx, ns.cli, "client", P, "connect; send 100; recv 100; close")
    check(cli.wait() == 0 and srv.wait() == 0, "peers failed")
    cc = waiter_close(tr, P, "c")
    sc = waiter_close(tr, P, "s")
    evs = tr.stop()
    cap.kill(signal.SIGINT)
    cap.wait()
    cap.t_out.join(5)
    check_contract(evs)
    pk = packets(cap.lines)
    syn = [p for p in pk if p["flags"] == "S"]
    synack = [p for p in pk if p["flags"] == "S."]
    check(len(syn) == 1 and len(synack) == 1, "one handshake in the capture: %r" % pk[:4])
    ack = [p for p in pk if p["src_port"] == syn[0]["src_port"] and p["t_us"] > synack[0]["t_us"]]
    check(ack, "the client's ACK in the capture")
    # captured on the client's link: its SYN leaves and the SYN,ACK arrives there;
    # the server sent the SYN,ACK when the SYN reached it (no delay that way) and got
    # the ACK a moment after the client sent it
    wire_client = synack[0]["t_us"] - syn[0]["t_us"]
    wire_server = ack[0]["t_us"] - syn[0]["t_us"]
    check(wire_client > DELAY_MS * 1000 * 0.9, "the delay is on the link: %d us" % wire_client)

    def established(conn):
        e = [e for e in of_conn(evs, conn) if e["event"] == "state" and e["new"] == "ESTABLISHED"]
        check(len(e) == 1, "one ESTABLISHED for conn %d" % conn)
        return e[0]

    ce, se = established(cc["conn"]), established(sc["conn"])
    check(ce["handshake_us"] is not None and se["handshake_us"] is not None,
          "handshake_us missing: %r %r" % (ce, se))
    check(abs(ce["handshake_us"] - wire_client) <= TOL_US,
          "client handshake %d us, capture %d us" % (ce["handshake_us"], wire_client))
    check(abs(se["handshake_us"] - wire_server) <= TOL_US,
          "server handshake %d us, capture %d us" % (se["handshake_us"], wire_server))
    # the client's smallest sample is one round trip of the capture; its smoothed
    # RTT is no smaller, and no larger than a delayed ACK (40 ms) beyond it
    check(cc["min_rtt_us"] is not None and abs(cc["min_rtt_us"] - wire_client) <= TOL_US,
          "client min_rtt_us %r, capture %d us" % (cc["min_rtt_us"], wire_client))
    check(cc["srtt_us"] is not None and
          cc["min_rtt_us"] <= cc["srtt_us"] <= wire_client + 40000 + TOL_US,
          "client srtt_us %r, min %r, capture %d us" % (cc["srtt_us"], cc["min_rtt_us"],
                                                         wire_client))
    check(all("handshake_us" not in e for e in evs if e["event"] == "state" and
              e["new"] != "ESTABLISHED"), "handshake_us only on entering ESTABLISHED")
