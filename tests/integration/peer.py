#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A scripted TCP peer for the integration tests: an independent process
whose pid the tests compare with what the tracer reports.

    peer.py server PORT 'accept; recv 29; send 4; recv_eof; close'
    peer.py client PORT 'connect; send 29; recv 4; close' [-6]

Every step prints one line, `step NAME ok` or `step NAME err ERRNO`, flushed,
so the test can wait for a step instead of sleeping. A server prints
`listening` once it listens.
"""
import errno
import os
import select
import socket
import struct
import sys
import time


def say(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def main():
    role, port, script = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    fam = socket.AF_INET6 if "-6" in sys.argv[4:] else socket.AF_INET
    host = "::1" if fam == socket.AF_INET6 else "127.0.0.1"
    lsock = None
    sock = None
    if role == "server":
        lsock = socket.socket(fam, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((host, port))
        lsock.listen(16)
        say("listening")
    else:
        sock = socket.socket(fam, socket.SOCK_STREAM)
    for step in [s.strip() for s in script.split(";") if s.strip()]:
        words = step.split()
        op, args = words[0], words[1:]
        try:
            if op == "accept":
                sock, _ = lsock.accept()
            elif op == "connect":
                sock.connect((host, port))
            elif op == "send":
                sock.sendall(b"x" * int(args[0]))
            elif op == "send_every":
                # a trickle: BYTES every MS ms, COUNT times (one write each)
                n, ms, count = (int(a) for a in args)
                for _ in range(count):
                    sock.sendall(b"x" * n)
                    time.sleep(ms / 1000.0)
            elif op == "recv":
                want, got = int(args[0]), 0
                while got < want:
                    chunk = sock.recv(want - got)
                    if not chunk:
                        raise OSError(errno.ECONNRESET, "EOF before all data")
                    got += len(chunk)
            elif op == "recv_eof":
                while sock.recv(4096):
                    pass
            elif op == "wait_readable":
                select.select([sock], [], [])
            elif op == "close":
                sock.close()
            elif op == "close_listener":
                lsock.close()
            elif op == "shutdown_wr":
                sock.shutdown(socket.SHUT_WR)
            elif op == "keepalive":
                idle, intvl, cnt = (int(a) for a in args)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, cnt)
            elif op == "user_timeout":
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(args[0]))
            elif op == "syncnt":
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, int(args[0]))
            elif op == "quickack_off":
                # delayed ACKs from now on (pingpong mode): what arrives next is
                # ACKed by the delayed-ACK timer (40 ms or more), not at once
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)
            elif op == "linger2":
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_LINGER2, int(args[0]))
            elif op == "linger0":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif op == "idle":
                # the scenario itself is idleness (keepalive timers run meanwhile)
                time.sleep(float(args[0]))
            elif op == "wait_line":
                sys.stdin.readline()
            elif op == "pause":
                say("step pause ok")
                while True:
                    time.sleep(3600)
            elif op == "exit":
                say("step exit ok")
                os._exit(int(args[0]))
            else:
                say("unknown step " + op)
                sys.exit(2)
            say("step %s ok" % op)
        except OSError as e:
            say("step %s err %s" % (op, errno.errorcode.get(e.errno, str(e.errno))))
    say("done")


if __name__ == "__main__":
    main()
