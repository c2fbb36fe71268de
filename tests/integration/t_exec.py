# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Integration tests: -x/--exec CMD (the command and its descendants, as the
sudo user, its exit status) and --cgroup PATH (tasks in a cgroup v2 the test
creates, accepted sockets following their listener)."""
import json
import os
import pwd
import re
import signal
import subprocess
import sys
import tempfile

from harness import (PEER, READY_TIMEOUT, Proc, Skip, check, check_contract, client_conn, close_of,
                     data_total, server_conn, test)


def exec_tracer(ctx, args, cmd, env=None):
    """tcptimeline --json ARGS -x -- CMD..., once it is tracing; and the
    command's pid from the readiness line."""
    argv = [ctx.tracer, "--json"] + list(args) + ["-x", "--"] + list(cmd)
    if env:
        argv = ["env"] + ["%s=%s" % kv for kv in env.items()] + argv
    t = Proc(argv)
    ctx.procs.append(t)
    line = t.wait_for(lambda l: l.startswith("tcptimeline: tracing"), "the readiness line",
                      err=True, timeout=READY_TIMEOUT)
    m = re.search(r"command \S+ \(pid (\d+)\) and its descendants", line)
    check(m, "the readiness line does not name the command: %r" % line)
    return t, int(m.group(1))


def events_of(t):
    out = []
    for l in t.lines:
        try:
            out.append(json.loads(l))
        except ValueError:
            raise AssertionError("output line is not JSON: %r" % l)
    return out


@test
def exec_traces_command_and_descendants(ctx):
    """-x: a grandchild's connection is traced from its SYN; a connection
    another process makes meanwhile is not, nor the untraced server's end;
    the tracer ends with the command and exits with its status"""
    P = ctx.port
    srv = ctx.peer("server", P, "accept; recv 5; recv_eof; close; accept; recv 3; recv_eof; close")
    with tempfile.TemporaryDirectory() as tmp:
        fifo = os.path.join(tmp, "go")
        os.mkfifo(fifo)
        # sh forks a subshell that forks python3: the connection is made by
        # a grandchild of the command; the command then waits for the test
        script = ('( %s %s client %d "connect; send 5; close" >&2 ) && read x < %s; exit 3'
                  % (sys.executable, PEER, P, fifo))
        tr, cmd_pid = exec_tracer(ctx, ["-P", str(P)], ["sh", "-c", script])
        tr.wait_for(lambda l: json.loads(l)["event"] == "close", "the command's close")
        # another process's connection while the command still runs
        other = ctx.peer("client", P, "connect; send 3; close")
        check(other.wait() == 0, "the other client failed")
        check(srv.wait() == 0, "the server failed")
        with open(fifo, "w") as f:
            f.write("go\n")
        rc = tr.wait()
    tr.t_out.join(5)
    tr.t_err.join(5)
    check(rc == 3, "tracer exited %s, the command 3; stderr %r" % (rc, tr.err_lines))
    evs = events_of(tr)
    check_contract(evs)
    conn = client_conn(evs, P)
    first = [e for e in evs if e["conn"] == conn][0]
    check(first["event"] == "state" and first["old"] == "CLOSE" and first["new"] == "SYN_SENT",
          "the command's connection is not seen from its SYN: %r" % first)
    pids = set(e["pid"] for e in evs)
    check(len(pids) == 1 and None not in pids, "owners %r: one process expected" % pids)
    pid = pids.pop()
    check(pid not in (cmd_pid, other.pid, srv.pid),
          "owner %d: not the grandchild (command %d, other %d, server %d)" %
          (pid, cmd_pid, other.pid, srv.pid))
    check(data_total(evs, conn, "out") == 5, "the command's 5 bytes")
    check(close_of(evs, conn)["cause"] == "app_close", "the command's close cause")
    bad = [e for e in evs if e["conn"] != conn]
    check(not bad, "events of other connections (the other client, the server): %r" % bad[:2])


def user_with_groups():
    """A user whose supplementary groups are not just its own group."""
    for pw in pwd.getpwall():
        if pw.pw_uid == 0:
            continue
        groups = set(os.getgrouplist(pw.pw_name, pw.pw_gid))
        if len(groups) > 1:
            return pw, groups
    return None, None


@test
def exec_runs_as_sudo_user(ctx):
    """-x under sudo: the command runs as SUDO_UID/SUDO_GID with that user's
    supplementary groups; killed by a signal it gives 128+N; not found, 127"""
    pw, groups = user_with_groups()
    if not pw:
        raise Skip("no user with supplementary groups on this machine")
    P = ctx.port
    env = {"SUDO_UID": str(pw.pw_uid), "SUDO_GID": str(pw.pw_gid), "SUDO_USER": pw.pw_name}
    tr, _ = exec_tracer(ctx, ["-P", str(P)], ["sh", "-c", "id -u; id -g; id -G"], env=env)
    rc = tr.wait()
    tr.t_out.join(5)
    check(rc == 0, "tracer exited %s; stderr %r" % (rc, tr.err_lines))
    out = [l for l in tr.lines if not l.startswith("{")]
    check(len(out) == 3, "the command printed %r" % tr.lines)
    check(out[0] == str(pw.pw_uid) and out[1] == str(pw.pw_gid),
          "ran as uid %s gid %s, not %s's %d:%d" % (out[0], out[1], pw.pw_name, pw.pw_uid,
                                                    pw.pw_gid))
    check(set(int(g) for g in out[2].split()) == groups,
          "groups %s, %s has %s" % (out[2], pw.pw_name, sorted(groups)))
    # the exit status of a command killed by a signal, and of one not found
    tr, _ = exec_tracer(ctx, ["-P", str(P)], ["sh", "-c", "kill -KILL $$"])
    check(tr.wait() == 128 + signal.SIGKILL, "a command killed by SIGKILL: not 137")
    p = subprocess.run([ctx.tracer, "-P", str(P), "-x", "--", "/nonexistent/cmd"],
                       capture_output=True, text=True, timeout=20)
    check(p.returncode == 127, "a command not found: exit %d, not 127" % p.returncode)
    check("cannot run /nonexistent/cmd" in p.stderr, "no one-line error: %r" % p.stderr)


@test
def exec_sigterm_passed_on(ctx):
    """-x: SIGTERM sent to the tracer reaches the command, which ends the
    trace with the command's status (143)"""
    tr, cmd_pid = exec_tracer(ctx, ["-P", str(ctx.port)], ["sleep", "30"])
    tr.kill(signal.SIGTERM)
    rc = tr.wait(10)
    check(rc == 128 + signal.SIGTERM, "tracer exited %s after SIGTERM, not 143" % rc)
    check(not os.path.exists("/proc/%d" % cmd_pid) or
          open("/proc/%d/stat" % cmd_pid).read().split()[2] == "Z",
          "the command still runs after SIGTERM")


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[:1] == ["cgroup2"] and left.split()[3] == "/":
                return left.split()[4]
    return None


class Cgroup:
    """A cgroup v2 directory of the test's own, removed afterwards."""

    def __init__(self, mnt, name):
        self.path = os.path.join(mnt, name)
        os.mkdir(self.path)

    def spawn(self, ctx, argv, stdin=False):
        """argv run inside this cgroup from its first instruction on."""
        p = Proc(["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', self.path] + argv,
                 stdin=stdin)
        ctx.procs.append(p)
        return p

    def remove(self):
        for d, subdirs, _ in sorted(os.walk(self.path), key=lambda x: -len(x[0])):
            try:
                os.rmdir(d)
            except OSError:
                pass


@test
def cgroup_filter(ctx):
    """--cgroup: a client in a child cgroup is traced, and the connection a
    server inside accepts from a client outside (it follows its listener);
    a connection between two processes outside is not"""
    mnt = cgroup2_mount()
    if not mnt:
        raise Skip("no cgroup v2 mount")
    P, Q = ctx.port, ctx.port + 1
    top = Cgroup(mnt, "tcptimeline-test-%d" % os.getpid())
    try:
        inner = Cgroup(top.path, "inner")
        tr = ctx.trace("-P", "%d,%d" % (P, Q), "--cgroup", os.path.relpath(top.path, mnt))
        # inside: a server on P; outside: a server on Q
        srv_in = top.spawn(ctx, [sys.executable, PEER, "server", str(P),
                                 "accept; recv 4; recv_eof; close"], stdin=True)
        srv_in.wait_line("listening")
        srv_out = ctx.peer("server", Q, "accept; recv 6; recv_eof; close; "
                                        "accept; recv 2; recv_eof; close")
        cli_out = ctx.peer("client", P, "connect; send 4; close")       # outside -> inside
        cli_in = inner.spawn(ctx, [sys.executable, PEER, "client", str(Q),
                                   "connect; send 6; close"])            # inner -> outside
        for p in (cli_out, cli_in):
            check(p.wait() == 0, "a client failed")
        cli_oo = ctx.peer("client", Q, "connect; send 2; close")        # outside -> outside
        for p in (cli_oo, srv_in, srv_out):
            check(p.wait() == 0, "a peer failed")
        tr.wait_event(lambda e: e["event"] == "close" and e["lport"] == P,
                      "the close of the accepted connection")
        tr.wait_event(lambda e: e["event"] == "close" and e["rport"] == Q,
                      "the close of the inner client's connection")
        evs = tr.stop()
    finally:
        top.remove()
    check_contract(evs)
    accepted = server_conn(evs, P)
    check(data_total(evs, accepted, "in") == 4, "the accepted connection's 4 bytes")
    check(set(e["pid"] for e in evs if e["conn"] == accepted) == {srv_in.pid},
          "the accepted connection's owner is not the server inside")
    inner_conn = client_conn(evs, Q)
    check(data_total(evs, inner_conn, "out") == 6, "the inner client's 6 bytes")
    check(set(e["pid"] for e in evs if e["conn"] == inner_conn) == {cli_in.pid},
          "the inner client's connection has another owner")
    pids = set(e["pid"] for e in evs)
    check(not pids & {cli_out.pid, srv_out.pid, cli_oo.pid},
          "sockets of processes outside the cgroup were traced: %r" % pids)
    check(not [e for e in evs if e["event"] == "data" and e["bytes"] == 2],
          "the outside-only connection (2 bytes) was traced")
