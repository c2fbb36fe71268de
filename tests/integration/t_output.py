# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Integration tests: what reaches the reader when things go wrong: hostile
process names in the JSON, events lost to a stalled reader, the summary a
signal leaves at exit."""
import re
import signal
import subprocess
import sys

from harness import check, host_only, test, waiter_close


@test
def hostile_comm_is_escaped(ctx):
    """a process naming itself with quotes and control characters cannot break the JSON"""
    host_only("the JSON escaping of the comm the kernel hands over verbatim")
    P = ctx.port
    tr, srv, _ = ctx.start("accept; recv_eof; close", None)
    name = 'a"b\\c\x1b[31m\n'
    prog = ("import ctypes,socket;l=ctypes.CDLL(None);l.prctl(15,%r.encode(),0,0,0);"
            "s=socket.create_connection(('127.0.0.1',%d))" % (name, P))
    subprocess.run([sys.executable, "-c", prog], check=True)
    srv.wait()
    cc = waiter_close(tr, P, "c")
    tr.stop()
    check(cc["comm"] == name[:15], "comm %r" % cc["comm"])


@test
def lost_events_reported(ctx):
    """a stalled reader and a full ring: losses counted in the kernel, reported as lost events
    and at exit, the same total"""
    P = ctx.port
    tr = ctx.trace("-P", str(P), "-b", "1")
    tr.kill(signal.SIGSTOP)
    try:
        # ~1 MiB of ring holds ~7000 records: 2000 connections make ~28000
        prog = ("import socket\n"
                "l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                "l.bind(('127.0.0.1', %d)); l.listen(512)\n"
                "for i in range(2000):\n"
                "    c = socket.create_connection(('127.0.0.1', %d)); a, _ = l.accept()\n"
                "    c.send(b'x'); a.recv(1); a.close(); c.close()\n" % (P, P))
        subprocess.run([sys.executable, "-c", prog], check=True, timeout=120)
    finally:
        tr.kill(signal.SIGCONT)
    tr.wait_event(lambda e: e["event"] == "lost", "a lost event")
    evs = tr.stop()
    reported = sum(e["count"] for e in evs if e["event"] == "lost")
    at_exit = [int(l.rsplit(" ", 1)[1]) for l in tr.err_lines
               if l.startswith("tcptimeline: lost events: ")]
    check(reported > 0, "no events lost with a stalled reader")
    check(at_exit == [reported], "lost at exit %r, in the stream %d" % (at_exit, reported))
    check(all(e["conn"] is None and e["pid"] is None for e in evs if e["event"] == "lost"),
          "lost events carry no connection")
    check(any("events were lost" in l for l in tr.err_lines), "no warning on stderr")


@test
def sigterm_summary(ctx):
    """SIGTERM: exit 0, open connections summarised, lost events reported"""
    P = ctx.port
    ctx.peer("server", P, "accept; recv_eof; close")
    cli = ctx.peer("client", P, "connect; wait_line; close")
    cli.wait_line("step connect ok")
    tr = ctx.trace("-P", str(P))
    tr.kill(signal.SIGTERM)
    check(tr.wait() == 0, "exit status %s" % tr.p.returncode)
    tr.t_err.join(5)
    err = "\n".join(tr.err_lines)
    check("still open" in err and ":%d" % P in err, "no open-connection summary: %r" % err)
    check(re.search(r"^tcptimeline: lost events: 0$", err, re.M), "lost summary %r" % err)
    cli.send_line()
