# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Dropped segments (tp_btf/kfree_skb): drop events against an independent
count (an nftables rule's counter), and a listener whose accept queue is
full. Kernels before 5.17 give no reason: reason must then be null."""
import re
import subprocess
import sys

from harness import (Proc, check, check_contract, kernel_at_least, netns_peer,
                     of_conn, test, waiter_close)

# a listener with backlog 0 that never accepts, and clients that connect at
# once: what a full accept queue does to them
LISTEN0 = r'''
import socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", int(sys.argv[1])))
l.listen(0)
print("listening", flush=True)
sys.stdin.readline()
'''

CLIENTS = r'''
import socket, sys, threading
port, n = int(sys.argv[1]), int(sys.argv[2])
out = []
def one(i):
    s = socket.socket()
    s.settimeout(2.5)
    try:
        s.connect(("10.200.0.2", port))
        s.send(b"x")
        s.recv(1)
        out.append("established")
    except OSError as e:
        out.append(type(e).__name__)
    s.close()
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("done " + " ".join(sorted(out)), flush=True)
'''


def nft_counter(ns):
    """Packets counted by the one rule of table inet tt in namespace ns."""
    r = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "table", "inet", "tt"],
                       capture_output=True, text=True)
    m = re.search(r"counter packets (\d+)", r.stdout)
    check(m, "no counter in %r" % r.stdout)
    return int(m.group(1))


def want_reason(e, names):
    """Kernels with drop reasons (5.17+) name one of names; older ones give null."""
    if kernel_at_least(5, 17):
        check(e["reason"] in names, "reason %r, expected one of %r" % (e["reason"], names))
    else:
        check(e["reason"] is None, "a kernel before 5.17 has no drop reason: %r" % e)


@test
def drops_netfilter_counted(ctx):
    """an nftables rule drops the client's data: as many drop events on each end as the
    rule's counter, reason NETFILTER_DROP, dir out on the client's and in on the server's"""
    P = ctx.port
    ns = ctx.netns("d")
    tr = ctx.trace("-P", str(P))
    netns_peer(ctx, ns.srv, "server", P, "accept; pause")
    cli = netns_peer(ctx, ns.cli, "client", P,
                     "connect; user_timeout 1500; wait_line; send 100; wait_line")
    cli.wait_line("step user_timeout ok")
    ns.drop(ns.srv, "input priority 0", "ip saddr 10.200.0.1 tcp dport %d counter" % P)
    cli.send_line()
    cc = waiter_close(tr, P, "c")
    counted = nft_counter(ns.srv)
    evs = tr.stop()
    cli.send_line()
    check_contract(evs)
    srv = [e for e in evs if e["event"] == "state" and e["lport"] == P and
           e["new"] == "ESTABLISHED"]
    check(srv, "server end not traced")
    cd = [e for e in of_conn(evs, cc["conn"]) if e["event"] == "drop"]
    sd = [e for e in of_conn(evs, srv[0]["conn"]) if e["event"] == "drop"]
    rt = [e for e in of_conn(evs, cc["conn"]) if e["event"] == "retransmit"]
    check(counted >= 2, "the rule dropped %d packets" % counted)
    check(len(cd) == counted, "client drop events %d, nft counted %d" % (len(cd), counted))
    check(len(sd) == counted, "server drop events %d, nft counted %d" % (len(sd), counted))
    check(all(e["dir"] == "out" for e in cd), "client drops are out: %r" % cd)
    check(all(e["dir"] == "in" for e in sd), "server drops are in: %r" % sd)
    for e in cd + sd:
        want_reason(e, ("NETFILTER_DROP",))
        check("ACK" in e["flags"], "an established segment carries ACK: %r" % e)
    # the data's first transmission and every retransmit of it
    data = [e for e in cd if e["bytes"]]
    check(len(data) == len(rt) + 1, "data drops %d, retransmits %d" % (len(data), len(rt)))
    check(all(e["bytes"] == 100 for e in data), "payload %r" % [e["bytes"] for e in data])
    check(cc["drops"] == counted, "close counts %r drops" % cc["drops"])
    for a, b in zip(cd, sd):
        check(a["ts_ns"] == b["ts_ns"], "one drop, two views: %r %r" % (a, b))


@test
def drops_accept_queue_full(ctx):
    """backlog 0, nobody accepting, four clients at once: the handshake ACKs and data
    of the clients the listener cannot take are dropped (out on each client, counted
    on the listener), one drop per transmission; the others retransmit their SYN"""
    P = ctx.port
    ns = ctx.netns("q")
    tr = ctx.trace("-P", str(P))
    srv = Proc(["ip", "netns", "exec", ns.srv, sys.executable, "-c", LISTEN0, str(P)],
               stdin=True)
    ctx.procs.append(srv)
    srv.wait_line("listening")
    cli = Proc(["ip", "netns", "exec", ns.cli, sys.executable, "-c", CLIENTS, str(P), "4"])
    ctx.procs.append(cli)
    cli.wait_for(lambda l: l.startswith("done"), "the clients", timeout=20)
    srv.send_line()
    # the listener, closed when its process exits
    lc = tr.wait_event(lambda e: e["event"] == "close" and e["lport"] == P and
                       e["rport"] == 0, "the listener's close")
    evs = tr.stop()
    check_contract(evs)
    check(lc["lport"] == P and lc["rport"] == 0, "listener close %r" % lc)
    clients = sorted({e["conn"] for e in evs if e["event"] == "state" and e["rport"] == P})
    check(len(clients) == 4, "four client connections: %r" % clients)
    ldrops = [e for e in of_conn(evs, lc["conn"]) if e["event"] == "drop"]
    overflowed = 0
    for c in clients:
        ce = of_conn(evs, c)
        drops = [e for e in ce if e["event"] == "drop"]
        rt = [e for e in ce if e["event"] == "retransmit"]
        syn_rt = [e for e in rt if e["syn"]]
        if not drops:
            continue
        overflowed += 1
        check(all(e["dir"] == "out" for e in drops), "client drops are out: %r" % drops)
        # what the client thinks is established: its ACK and data never got in
        check(any(e["event"] == "state" and e["new"] == "ESTABLISHED" for e in ce),
              "a client whose ACK was dropped went ESTABLISHED")
        data = [e for e in drops if e["bytes"]]
        check(len(data) == len(rt) - len(syn_rt) + 1,
              "conn %d: data drops %d, data retransmits %d" % (c, len(data),
                                                               len(rt) - len(syn_rt)))
        port = [e for e in ce if e["event"] == "state"][0]["lport"]
        mine = [e for e in ldrops if e["peer_port"] == port]
        check(len(mine) == len(drops), "listener counted %d of conn %d's %d drops: %r" %
              (len(mine), c, len(drops), ce))
        for a, b in zip(drops, mine):
            check(a["ts_ns"] == b["ts_ns"] and a["reason"] == b["reason"], "%r %r" % (a, b))
            check(b["listener"] and b["dir"] == "in", "a listener's drop: %r" % b)
            # NO_SOCKET: a SYN cookie's ACK the full queue cannot take (6.1-6.14);
            # TCP_LISTEN_OVERFLOW from 6.15; NOT_SPECIFIED: older request-sock paths
            want_reason(a, ("NO_SOCKET", "TCP_LISTEN_OVERFLOW", "NOT_SPECIFIED"))
    check(overflowed >= 1, "no client's segments were dropped: %r" %
          [[e["event"] for e in of_conn(evs, c)] for c in clients])
    check(lc["drops"] == len(ldrops), "listener close counts %d, events %d" %
          (lc["drops"], len(ldrops)))
    # a SYN the full queue refuses is freed as consumed (tcp_conn_request), not
    # dropped with a reason: those clients show only SYN retransmits
    quiet = [c for c in clients if not any(e["event"] == "drop" for e in of_conn(evs, c))]
    for c in quiet:
        ce = of_conn(evs, c)
        est = any(e["event"] == "state" and e["new"] == "ESTABLISHED" for e in ce)
        syn_rt = [e for e in ce if e["event"] == "retransmit" and e["syn"]]
        check(est or syn_rt, "conn %d neither got in nor retransmitted its SYN" % c)
