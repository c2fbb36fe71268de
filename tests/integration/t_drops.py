# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Dropped segments (tp_btf/kfree_skb): drop events against an independent
count (an nftables rule's counter), and a listener whose accept queue is
full. Kernels before 5.17 give no reason: reason must then be null."""
import re
import subprocess
import sys
import time

from harness import (Proc, Skip, check, check_contract, kernel_at_least, netns_peer,
                     of_conn, test, waiter_close)
from t_stats import free_port, http_get, labels_of, samples

# a listener with backlog 0 that never accepts
LISTEN0 = r'''
import socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", int(sys.argv[1])))
l.listen(0)
print("listening", flush=True)
sys.stdin.readline()
'''

# a client: connect (from source port SPORT if not 0), say so, then on each
# line from the test: "send" one byte and wait for a reply, or "close"
CLIENT = r'''
import socket, sys
port, sport = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if sport:
    s.bind(("10.200.0.1", sport))
s.settimeout(2.5)
try:
    s.connect(("10.200.0.2", port))
    print("connected", flush=True)
except OSError as e:
    print("connect " + type(e).__name__, flush=True)
    sys.exit(0)
for line in sys.stdin:
    if line.strip() == "send":
        s.send(b"x")
        try:
            s.recv(1)
            print("reply", flush=True)
        except OSError as e:
            print("no reply " + type(e).__name__, flush=True)
    else:
        break
s.close()
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


def drops_by_reason(evs):
    """{reason: count} of the drop events (null: "none", as the metrics say)"""
    out = {}
    for e in evs:
        if e["event"] == "drop":
            r = e["reason"] or "none"
            out[r] = out.get(r, 0) + 1
    return out


def metric_drops(mport):
    """{reason: count} of tcptimeline_drops_total, summed over ports"""
    status, text = http_get("http://127.0.0.1:%d/metrics" % mport)
    check(status == 200, "/metrics: HTTP %d" % status)
    out = {}
    for series, v in samples(text).items():
        if series.startswith("tcptimeline_drops_total{"):
            r = labels_of(series)["reason"]
            out[r] = out.get(r, 0) + int(v)
    return out


def check_metrics_drops(tr, mport):
    """the exposition counts the drop events of the JSON so far, by reason (polled: a
    scrape may come between an event's line and the next, for a second at most)"""
    deadline = time.monotonic() + 3
    while True:
        want, got = drops_by_reason(tr.events()), metric_drops(mport)
        if got == want or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    check(want and got == want, "metrics drops %r, JSON drop events %r" % (got, want))


def check_summary_drops(evs):
    """the final summary's rows (ports, and processes) count every drop event, by reason"""
    want = drops_by_reason(evs)
    final = [e for e in evs if e["event"] == "summary" and e["final"]]
    check(len(final) == 1, "%d final summary events" % len(final))
    for rows in ("ports", "processes"):
        got, total = {}, 0
        for row in final[0][rows]:
            total += row["drops"]
            for r, n in row["drop_reasons"].items():
                got[r] = got.get(r, 0) + n
        check(got == want and total == sum(want.values()),
              "summary %s: drops %d %r, JSON drop events %r" % (rows, total, got, want))


@test
def drops_netfilter_counted(ctx):
    """an nftables rule drops the client's data: as many drop events on each end as the
    rule's counter, reason NETFILTER_DROP, dir out on the client's and in on the server's;
    --metrics and the final --summary count the same drops by reason"""
    P = ctx.port
    ns = ctx.netns("d")
    mport = free_port()
    tr = ctx.trace("-P", str(P), "--summary=60", "--metrics", "127.0.0.1:%d" % mport)
    netns_peer(ctx, ns.srv, "server", P, "accept; pause")
    cli = netns_peer(ctx, ns.cli, "client", P,
                     "connect; user_timeout 1500; wait_line; send 100; wait_line")
    cli.wait_line("step user_timeout ok")
    ns.drop(ns.srv, "input priority 0", "ip saddr 10.200.0.1 tcp dport %d counter" % P)
    cli.send_line()
    cc = waiter_close(tr, P, "c")
    counted = nft_counter(ns.srv)
    check_metrics_drops(tr, mport)
    evs = tr.stop()
    cli.send_line()
    check_contract(evs)
    check_summary_drops(evs)
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


# N request/reply connections on loopback, the server closing first (its side
# is destroyed in FIN_WAIT2, the client's FIN still in its receive queue)
SERVER_FIRST = r'''
import socket, sys, threading
port, n = int(sys.argv[1]), int(sys.argv[2])
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port))
l.listen(n)
def serve():
    for _ in range(n):
        c, _ = l.accept()
        c.recv(1)
        c.send(b"y")
        c.close()
t = threading.Thread(target=serve)
t.start()
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.send(b"x")
    while s.recv(16):
        pass
    s.close()
t.join()
print("done", flush=True)
'''


@test
def drops_none_on_clean_closes(ctx):
    """connections that end with the usual FIN handshake, the server first, have no
    QUEUE_PURGE drop events: the peer's FIN freed with its receiver's queue at destroy was
    processed, not dropped (kernels that do not name that reason, before 6.8 or so, free
    it with none or NOT_SPECIFIED, which user space cannot tell from a drop: not checked
    there)"""
    P, n = ctx.port, 20
    tr = ctx.trace("-P", str(P))
    p = Proc([sys.executable, "-c", SERVER_FIRST, str(P), str(n)])
    ctx.procs.append(p)
    p.wait_line("done")
    tr.wait_events(lambda e: e["event"] == "close" and e["rport"] == P, n,
                   "close of the %d client ends" % n)
    evs = tr.stop()
    check_contract(evs)
    closes = [e for e in evs if e["event"] == "close"]
    check(len(closes) >= 2 * n, "%d close events for %d connections" % (len(closes), n))
    drops = [e for e in evs if e["event"] == "drop" and e["reason"] == "QUEUE_PURGE"]
    check(not drops, "%d QUEUE_PURGE drop events, first %r" % (len(drops), drops[:1]))


@test
def drops_accept_queue_full(ctx):
    """a listener (backlog 0, never accepting, SYN cookies always) whose accept queue is
    full: a client whose handshake it answered has its data dropped, out on the client
    and counted on the listener, once per transmission; a later client's SYN is refused
    without a drop (the kernel frees it as consumed) and shows as SYN retransmits; --metrics
    and the final --summary count the drops by reason, the listener's too"""
    P = ctx.port
    ns = ctx.netns("q")
    r = subprocess.run(["ip", "netns", "exec", ns.srv, "sysctl", "-qw",
                        "net.ipv4.tcp_syncookies=2"], capture_output=True, text=True)
    if r.returncode:
        raise Skip("cannot force SYN cookies: %s" % r.stderr.strip())
    # the handshake ACK of every client but A (source port P + 1) is held back,
    # so B's handshake is answered (a cookie) but completes only with its data
    ns.drop(ns.srv, "input priority 0", "tcp dport %d tcp sport != %d tcp flags == ack" %
            (P, P + 1))
    mport = free_port()
    tr = ctx.trace("-P", str(P), "--summary=60", "--metrics", "127.0.0.1:%d" % mport)
    srv = Proc(["ip", "netns", "exec", ns.srv, sys.executable, "-c", LISTEN0, str(P)],
               stdin=True)
    ctx.procs.append(srv)
    srv.wait_line("listening")

    def client(sport):
        p = Proc(["ip", "netns", "exec", ns.cli, sys.executable, "-c", CLIENT, str(P),
                  str(sport)], stdin=True)
        ctx.procs.append(p)
        return p

    b = client(0)
    b.wait_line("connected")
    a = client(P + 1)
    a.wait_line("connected")  # the queue is full now: A waits in it
    c = client(0)
    c.wait_for(lambda l: l.startswith("connect "), "C to give up", timeout=10)
    b.send_line("send")
    b.wait_for(lambda l: l.startswith("no reply"), "B's reply to time out", timeout=10)
    b.send_line("close")
    a.send_line("close")
    srv.send_line()
    # the listener, closed when its process exits
    lc = tr.wait_event(lambda e: e["event"] == "close" and e["lport"] == P and
                       e["rport"] == 0, "the listener's close")
    check_metrics_drops(tr, mport)
    evs = tr.stop()
    check_contract(evs)
    check_summary_drops(evs)

    def conn_from(pred, what):
        cs = sorted({e["conn"] for e in evs if e["event"] == "state" and e["rport"] == P and
                     pred(e)})
        check(len(cs) == 1, "one connection for %s: %r" % (what, cs))
        return of_conn(evs, cs[0])

    be = conn_from(lambda e: e["pid"] == b.pid, "B")
    ce = conn_from(lambda e: e["pid"] == c.pid, "C")
    ldrops = [e for e in of_conn(evs, lc["conn"]) if e["event"] == "drop"]
    lts = {e["ts_ns"]: e for e in ldrops}
    # what B sent while the listener was there to count it: B's last
    # retransmit (its byte and FIN together) may come between the listener's
    # close and the end of the trace (a slow VM), into no socket
    bd = [e for e in be if e["event"] == "drop" and e["ts_ns"] < lc["ts_ns"]]
    check(all(e["dir"] == "out" for e in bd), "B's drops are out: %r" % bd)
    # its handshake ACK, by the rule; then its byte and every retransmit of it,
    # by the full queue (data is not a bare ACK: the rule lets it through)
    check(bd and bd[0]["bytes"] == 0 and bd[0]["flags"] == "ACK", "B's ACK first: %r" % bd)
    want_reason(bd[0], ("NETFILTER_DROP",))
    data = [e for e in bd if e["bytes"]]
    rt = [e for e in be if e["event"] == "retransmit" and not e["syn"] and
          e["ts_ns"] < lc["ts_ns"]]
    check(len(data) >= 2, "B's data dropped and retransmitted: %r" % data)
    check(len(data) == len(rt) + 1, "B: data drops %d, data retransmits %d" %
          (len(data), len(rt)))
    for e in data:
        # NO_SOCKET: a SYN cookie's ACK the full queue cannot take (6.1-6.14);
        # TCP_LISTEN_OVERFLOW from 6.15; NOT_SPECIFIED in between
        want_reason(e, ("NO_SOCKET", "TCP_LISTEN_OVERFLOW", "NOT_SPECIFIED"))
    # every one of them counted on the listener, from B
    bport = be[0]["lport"]
    for e in bd:
        check(e["ts_ns"] in lts, "the listener counted B's drop %r" % e)
        le = lts[e["ts_ns"]]
        check(le["listener"] and le["dir"] == "in" and le["peer_port"] == bport and
              le["reason"] == e["reason"], "the listener's view %r of %r" % (le, e))
    check(len(ldrops) == len(bd), "listener drops %d, B's %d" % (len(ldrops), len(bd)))
    check(lc["drops"] == len(ldrops), "listener close counts %d, events %d" %
          (lc["drops"], len(ldrops)))
    # C: refused by the full queue, which the kernel does not report as a drop
    check(not any(e["event"] == "drop" for e in ce), "C has no drop: %r" % ce)
    check(any(e["event"] == "retransmit" and e["syn"] for e in ce), "C retransmitted its SYN")
