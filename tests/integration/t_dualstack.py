# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Dual-stack: a server on [::] with IPV6_V6ONLY off accepts an IPv4 client,
which its socket sees as ::ffff:127.0.0.1. Both ends on this host are one
connection: the ladder pairs them, text shows the IPv4 form, -4 includes
the IPv6 socket (its packets are IPv4) and -6 leaves it out."""
import sys

from harness import READY_TIMEOUT, Proc, check, check_contract, test

SERVER = r'''
import socket, sys
l = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
l.bind(("::", int(sys.argv[1])))
l.listen(4)
print("listening", flush=True)
s, peer = l.accept()
print("peer " + peer[0], flush=True)
s.recv(10)
s.sendall(b"y" * 10)
s.recv(10)
s.close()
l.close()
'''

CLIENT = r'''
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"x" * 10)
s.recv(10)
s.close()
print("done", flush=True)
'''


@test
def dual_stack_pairs_ipv4_mapped(ctx):
    """[::] server, IPv4 client: one paired ladder in the IPv4 form; -4 has both ends,
    -6 neither (only the [::] listener, which takes both)"""
    P = ctx.port
    both = ctx.trace("-P", str(P))
    v4 = ctx.trace("-P", str(P), "-4")
    v6 = ctx.trace("-P", str(P), "-6")
    lad = ctx.ladder("-P", str(P))
    live = Proc([ctx.tracer, "--live", "--no-color", "-P", str(P)])
    ctx.procs.append(live)
    live.wait_for(lambda l: l.startswith("tcptimeline: tracing"), "readiness", err=True, timeout=READY_TIMEOUT)
    srv = Proc([sys.executable, "-c", SERVER, str(P)])
    ctx.procs.append(srv)
    srv.wait_line("listening")
    cli = Proc([sys.executable, "-c", CLIENT, str(P)])
    ctx.procs.append(cli)
    check(cli.wait() == 0 and srv.wait() == 0, "peers failed")
    check("peer ::ffff:127.0.0.1" in srv.lines, "the server saw a mapped peer: %r" % srv.lines)
    for tr in (both, v4, v6):
        tr.wait_event(lambda e: e["event"] == "close" and e["lport"] == P and
                      e["rport"] == 0, "the listener's close")
    evs, e4, e6 = both.stop(), v4.stop(), v6.stop()
    for e in (evs, e4, e6):
        check_contract(e)

    def conns(es):
        return {(e["family"], e["laddr"], e["lport"], e["rport"]) for e in es if e["conn"]}

    srv_end = [e for e in evs if e["event"] == "state" and e["lport"] == P and e["rport"]]
    check(srv_end and srv_end[0]["family"] == 6 and srv_end[0]["laddr"] == "::ffff:127.0.0.1",
          "the server end as its socket has it: %r" % srv_end[:1])
    cport = srv_end[0]["rport"]
    client_key = (4, "127.0.0.1", cport, P)
    server_key = (6, "::ffff:127.0.0.1", P, cport)
    listener_key = (6, "::", P, 0)
    check(conns(evs) == {client_key, server_key, listener_key}, "all: %r" % conns(evs))
    check(conns(e4) == {client_key, server_key, listener_key}, "-4: %r" % conns(e4))
    check(conns(e6) == {listener_key}, "-6: %r" % conns(e6))

    lines = lad.stop()
    live.kill(2)  # SIGINT
    live.wait()
    live.t_out.join(5)
    heads = [l for l in lines if "<->" in l and ":%d " % cport in l]
    check(len(heads) == 1, "one ladder for the connection: %r" % heads)
    pair = heads[0]
    check("not traced here" not in pair and pair.count("python3") == 2,
          "both ends in one ladder: %r" % pair)
    check("127.0.0.1:%d" % P in pair and "ffff" not in "\n".join(lines),
          "IPv4 form in the ladder: %r" % pair)
    text = [l for l in live.lines if ":%d > " % P in l or "> 127.0.0.1:%d" % P in l]
    check(text and "ffff" not in "\n".join(live.lines), "IPv4 form in text: %r" % text[:3])
    check(any("127.0.0.1:%d > 127.0.0.1:%d" % (P, cport) in l for l in live.lines),
          "the server end in text: %r" % live.lines[:6])
