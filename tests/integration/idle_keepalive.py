#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Many idle long-lived loopback connections with keepalive on, for the
holding tests: N clients connect to one listener, each sends 16 B and gets
16 B back, then every client probes its idle peer every second
(TCP_KEEPIDLE = TCP_KEEPINTVL = 1).

    idle_keepalive.py PORT CONNS SECS

Prints `ready` once every connection has exchanged its bytes, `done` SECS
seconds later, then keeps every connection open until a line arrives on
stdin (or it is closed), and closes them all (clients first).
"""
import resource
import socket
import sys
import time


def main():
    port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2 * n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 2 * n + 64), hard))
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(4096)
    pairs = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port))
        s, _ = lsock.accept()
        c.sendall(b"x" * 16)
        s.recv(16)
        s.sendall(b"y" * 16)
        c.recv(16)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
        pairs.append((c, s))
    print("ready", flush=True)
    time.sleep(secs)
    print("done", flush=True)
    sys.stdin.readline()
    for c, s in pairs:
        c.close()
    for c, s in pairs:
        s.close()
    lsock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
