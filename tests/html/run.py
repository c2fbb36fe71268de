#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""HTML page tests, no root: the golden page of the recorded scenarios
(tests/unit/golden/ladders.html, written by the unit tests) is well-formed
XML and so is each of its SVGs (xmllint), fetches nothing, and a headless
chromium draws it: the screenshot is not blank and shows the kinds' colours;
--html with a path that cannot be created fails at once; --read of every
golden recording with --html draws what the text ladder draws.

tests/html/run.py [--tracer PATH] [--page PATH]
Prints `PASS name` or `FAIL name: why` per test and ends with `N passed, N failed`.
"""
import argparse
import collections
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))  # tests/: the shared testlib
from testlib import check, need, run  # noqa: E402
GOLDEN = os.path.join(ROOT, "tests", "unit", "golden", "ladders.html")
# the screenshot: the index and the first ladders (keepalive, kill-client:
# every kind's colour) of the golden page
W, H = 1100, 2000

# the colours render_html.c draws arrows with, by kind
KIND_COLOURS = {
    "handshake": (0x2e, 0x7d, 0x32),
    "teardown": (0x6a, 0x1b, 0x9a),
    "data": (0x15, 0x65, 0xc0),
    "keepalive": (0xa6, 0x6f, 0x00),
    "reset": (0xc6, 0x28, 0x28),
}


def xmllint(text):
    p = subprocess.run(["xmllint", "--noout", "-"], input=text, capture_output=True,
                       text=True, timeout=30)
    return p.returncode, p.stderr.strip()


def svgs(page):
    return re.findall(r"<svg .*?</svg>", page, re.S)


def test_page_is_xml(args):
    """the whole page and each SVG in it, as xmllint reads them"""
    need("xmllint", "libxml2-utils")
    page = open(args.page, encoding="utf-8").read()
    rc, err = xmllint(page)
    check(rc == 0, f"{args.page}: {err}")
    found = svgs(page)
    check(len(found) >= 10, f"only {len(found)} SVGs in {args.page}")
    for i, svg in enumerate(found, 1):
        rc, err = xmllint(svg)
        check(rc == 0, f"SVG {i}: {err}")
        check('xmlns="http://www.w3.org/2000/svg"' in svg, f"SVG {i} has no namespace")


def test_self_contained(args):
    """nothing fetched (no src, no link, no url(), no script), every index entry links
    to a ladder on the page"""
    page = open(args.page, encoding="utf-8").read()
    for bad in ("<script", "<link", " src=", "url(", "@import", "<img", "<iframe"):
        check(bad not in page, f"{bad!r} on the page")
    urls = set(re.findall(r"https?://[^\"' )]+", page))
    check(urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml"},
          f"URLs on the page: {sorted(urls)}")
    links = re.findall(r'<a href="#(ladder-\d+)">', page)
    ids = set(re.findall(r'<section class="conn" id="(ladder-\d+)">', page))
    check(ids and set(links) == ids, f"links {sorted(set(links))} vs ladders {sorted(ids)}")


def png_colours(path):
    """(width, height, {(r, g, b): pixels}) of an 8-bit RGB or RGBA PNG, not
    interlaced (what chromium writes), decoded with zlib"""
    data = open(path, "rb").read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    w, h, depth, ctype, _, _, interlace = ihdr
    check(depth == 8 and ctype in (2, 6) and interlace == 0,
          f"PNG depth {depth} colour type {ctype} interlace {interlace}: not handled")
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    prev = bytearray(stride)
    colours = collections.Counter()
    for y in range(h):
        start = y * (stride + 1)
        f = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if f == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xff
        elif f == 2:  # Up
            line = bytearray((x + u) & 0xff for x, u in zip(line, prev))
        elif f == 3:  # Average
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((a + prev[i]) >> 1)) & 0xff
        elif f == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xff
        colours.update(zip(line[0::bpp], line[1::bpp], line[2::bpp]))
        prev = line
    return w, h, colours


def test_chromium_draws_it(args):
    """headless chromium's screenshot of the page: not blank, and the handshake, data,
    teardown, keepalive and reset colours are on it"""
    chromium = need("chromium", "chromium")
    tmp = tempfile.mkdtemp(prefix="tt-chromium-")
    shot = os.path.join(tmp, "page.png")
    env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=tmp, XDG_CACHE_HOME=tmp)
    try:
        # as root chromium needs --no-sandbox; no display: --headless; a
        # fresh profile in the temp dir so nothing from this machine counts
        p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                            "--no-first-run", "--disable-extensions",
                            "--user-data-dir=" + os.path.join(tmp, "profile"),
                            "--hide-scrollbars", f"--window-size={W},{H}",
                            "--screenshot=" + shot, "file://" + os.path.abspath(args.page)],
                           capture_output=True, text=True, timeout=90, env=env, cwd=tmp)
        check(os.path.exists(shot), f"no screenshot (exit {p.returncode}): {p.stderr[-500:]}")
        w, h, colours = png_colours(shot)
        check((w, h) == (W, H), f"screenshot {w}x{h}")
        background = max(colours, key=colours.get)
        ink = sum(n for c, n in colours.items() if c != background)
        check(ink > w * h // 50, f"only {ink} pixels not background {background}: blank?")
        check(len(colours) > 50, f"only {len(colours)} distinct colours: blank?")
        for kind, rgb in KIND_COLOURS.items():
            check(colours.get(rgb, 0) > 100, f"the {kind} colour {rgb} drawn on only "
                  f"{colours.get(rgb, 0)} pixels")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_bad_path(args):
    """--html into a directory that does not exist, or onto a directory: one line, exit 2,
    before anything else (no root needed to see it), nothing created"""
    tmp = tempfile.mkdtemp(prefix="tt-html-")
    try:
        for path in (os.path.join(tmp, "missing", "page.html"), tmp):
            p = subprocess.run([args.tracer, "--html", path, "-d", "1"], capture_output=True,
                               text=True, timeout=10)
            err = p.stderr.strip().splitlines()
            check(p.returncode == 2, f"--html {path}: exit {p.returncode}")
            check(len(err) == 1 and "--html" in err[0] and path in err[0],
                  f"--html {path}: stderr {p.stderr!r}")
        check(os.listdir(tmp) == [], f"left {os.listdir(tmp)}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def text_ladders(text):
    """per ladder drawn as text: (row times, arrow labels, summary items)"""
    out = []
    for block in text.split("\n\n"):
        lines = block.strip("\n").splitlines()
        if len(lines) < 3 or "  <->  " not in block:
            continue
        times, labels, summary = [], [], []
        for l in lines:
            m = re.match(r"^\s*(\d+\.\d{6})  (.*)$", l)
            if m:
                times.append(m.group(1))
                a = (re.match(r"^\s*(\S.*?) -{10,}>", m.group(2))
                     or re.search(r"<-{10,} (\S.*?)(?:\s{2,}|$)", m.group(2)))
                if a:
                    labels.append(a.group(1))
            elif l.startswith("  ") and not l.startswith("   "):
                summary.append(l.strip())
        out.append((times, labels, " · ".join(summary).split(" · ")))
    return out


def html_ladders(page):
    """the same from the page"""
    import html as h
    out = []
    for sec in re.findall(r'<section class="conn".*?</section>', page, re.S):
        times = re.findall(r'font-size="11">(\d+\.\d{6})</text>', sec)
        labels = [h.unescape(x) for x in re.findall(r'font-weight="bold">([^<]+)</text></g>', sec)]
        summary = h.unescape(re.search(r'<p class="summary">(.*?)</p>', sec, re.S).group(1))
        out.append((times, labels, summary.split(" · ")))
    return out


def test_read_html(args):
    """--read a recording --html: for every golden recording the page draws the ladders
    of the text ladder (same row times, arrows, summary) and is well-formed"""
    need("xmllint", "libxml2-utils")
    golden = os.path.join(ROOT, "tests", "unit", "golden")
    tmp = tempfile.mkdtemp(prefix="tt-html-")
    try:
        recs = sorted(f for f in os.listdir(golden) if f.endswith(".jsonl"))
        check(len(recs) >= 10, f"only {len(recs)} recordings in {golden}")
        for rec in recs:
            out = os.path.join(tmp, rec + ".html")
            p = subprocess.run([args.tracer, "--read", os.path.join(golden, rec), "--ladder",
                                "--html", out], capture_output=True, text=True, timeout=30)
            check(p.returncode == 0, f"{rec}: exit {p.returncode}: {p.stderr.strip()}")
            page = open(out, encoding="utf-8").read()
            rc, err = xmllint(page)
            check(rc == 0, f"{rec}: {err}")
            text, html = text_ladders(p.stdout), html_ladders(page)
            check(len(text) >= 1 and len(text) == len(html),
                  f"{rec}: {len(text)} text ladders, {len(html)} on the page")
            for (tt, tl, ts), (ht, hl, hs) in zip(text, html):
                check(tt == ht, f"{rec}: row times {tt} vs {ht}")
                # the text ladder cuts a label to 13 characters
                check(len(tl) == len(hl) and all(h.startswith(t) for t, h in zip(tl, hl)),
                      f"{rec}: arrows {tl} vs {hl}")
                check(ts == hs, f"{rec}: summary {ts} vs {hs}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


TESTS = [test_page_is_xml, test_self_contained, test_chromium_draws_it, test_bad_path,
         test_read_html]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracer", default=os.path.join(ROOT, "tcptimeline"))
    ap.add_argument("--page", default=GOLDEN)
    ap.add_argument("-k", help="run tests whose name contains this")
    args = ap.parse_args()
    return run(TESTS, args, args.k)


if __name__ == "__main__":
    sys.exit(main())
