# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Integration tests: --html FILE on a live run: the page written when the
tracer stops, one ladder for a connection traced at both ends, telling what
the JSON stream tells; well-formed (xmllint)."""
import os
import re
import shutil
import subprocess
import tempfile

from harness import Skip, check, client_conn, close_of, host_only, server_conn, test


@test
def html_live_page(ctx):
    """--html: after SIGINT the file holds one ladder for the connection, with its owners,
    arrows in order and causes, and is well-formed XML"""
    host_only("the page is rendered from the events normal_exchange checks on every kernel")
    if not shutil.which("xmllint"):
        raise Skip("needs xmllint (libxml2-utils)")
    P = ctx.port
    d = tempfile.mkdtemp(prefix="tt-html-")
    path = os.path.join(d, "page.html")
    try:
        evs, srv, cli = ctx.exchange("accept; recv 29; send 4; recv_eof; close",
                                     "connect; send 29; recv 4; close", trace=("--html", path))
        c, s = client_conn(evs, P), server_conn(evs, P)
        page = open(path, encoding="utf-8").read()
        check(page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n"),
              "not a whole page")
        check(len(re.findall(r"<svg ", page)) == 1, "not one ladder")
        # both ends by id and owner, in the index and the heading
        for conn, proc in ((c, cli), (s, srv)):
            owner = "#%d 127.0.0.1:" % conn
            check(page.count(owner) >= 2, "end %s missing" % owner)
            check(page.count("(python3 %d)" % proc.pid) >= 2, "owner pid %d missing" % proc.pid)
        labels = re.findall(r'font-weight="bold">([^<]+)</text></g>', page)
        # after the handshake, a bare ACK may come between the data and the
        # FIN: the client's delayed ACK of the 4 bytes leaves on its own
        # when its timer beats close() (seen in a 6.12 guest under TCG)
        after = [l for l in labels[3:] if l != "ACK"]
        want = ["SYN", "SYN,ACK", "ACK", "DATA 29 B", "DATA 4 B", "FIN"]
        check(labels[:3] + after[:3] == want, "arrows %r" % labels)
        for conn in (c, s):
            cause = close_of(evs, conn)["cause"]
            check("[%s]" % cause in page, "cause %s not on the page" % cause)
        check("client closed first" in page, "who closed first")
        r = subprocess.run(["xmllint", "--noout", path], capture_output=True, text=True)
        check(r.returncode == 0, "xmllint: %s" % r.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)
