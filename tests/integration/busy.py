#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Many busy long-lived loopback connections in one process, for the memory
tests: N clients connect to one listener, then each does small request/reply
exchanges (16 B each way) as fast as the loop allows.

    busy.py PORT CONNS EXCHANGES

Prints `ready` once every connection is accepted, `done TOTAL` once every
connection has done EXCHANGES exchanges (0: never stops exchanging), then
keeps every connection open until stdin is closed or a line arrives.
"""
import resource
import selectors
import socket
import sys


def say(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def main():
    port, n, per = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2 * n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 2 * n + 64), hard))
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(4096)
    clients, servers = [], []
    for i in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        s, _ = lsock.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.setblocking(False)
        s.setblocking(False)
        clients.append(c)
        servers.append(s)
    say("ready")
    sel = selectors.DefaultSelector()
    done_count = {}
    msg = b"x" * 16
    for c, s in zip(clients, servers):
        sel.register(s, selectors.EVENT_READ, ("server", s))
        sel.register(c, selectors.EVENT_READ, ("client", c))
        done_count[c.fileno()] = 0
        c.send(msg)
    sel.register(sys.stdin, selectors.EVENT_READ, ("stdin", None))
    finished = 0
    total = 0
    reported = False
    while True:
        for key, _ in sel.select(timeout=1.0):
            role, sock = key.data
            if role == "stdin":
                return 0
            try:
                data = sock.recv(4096)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(sock)
                continue
            if role == "server":
                sock.send(msg)
                continue
            total += 1
            fd = sock.fileno()
            done_count[fd] += 1
            if per and done_count[fd] >= per:
                if done_count[fd] == per:
                    finished += 1
                continue
            sock.send(msg)
        if per and finished == n and not reported:
            reported = True
            say("done %d" % total)


if __name__ == "__main__":
    sys.exit(main())
