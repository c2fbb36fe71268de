#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Documentation tests, no root: the man page renders without warnings and
documents exactly the options of --help and the README's JSON Lines contract;
the bash completion offers exactly the options of --help, and values.

tests/docs/run.py [--tracer PATH] [--man PATH]
Prints `PASS name` or `FAIL name: why` per test and ends with `N passed, N failed`.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))  # tests/: the shared testlib
from testlib import check, run  # noqa: E402
SCD = os.path.join(ROOT, "docs", "tcptimeline.8.scd")
COMPLETION = os.path.join(ROOT, "completions", "tcptimeline")
README = os.path.join(ROOT, "README.md")
OPT_RE = re.compile(r"(?<![^\s,/])(--?[A-Za-z0-9][\w-]*)")


def help_options(tracer):
    """Every -x and --long an option line of --help names. An option line
    starts with spaces and a dash; its names end where two spaces begin the
    description."""
    p = subprocess.run([tracer, "--help"], capture_output=True, text=True, timeout=10)
    check(p.returncode == 0, f"{tracer} --help exited {p.returncode}: {p.stderr.strip()}")
    opts = set()
    for line in p.stdout.splitlines():
        m = re.match(r"^\s+(-.*?)(\s{2,}|$)", line)
        if m:
            opts.update(OPT_RE.findall(m.group(1)))
    check(len(opts) >= 10, f"found only {sorted(opts)} in --help: has its layout changed?")
    return opts


def scd_section(name):
    text = open(SCD).read()
    m = re.search(r"^# " + re.escape(name) + r"\n(.*?)(?=^# |\Z)", text, re.S | re.M)
    check(m, f"no '# {name}' section in {SCD}")
    return m.group(1)


def man_options():
    """The options the OPTIONS section documents: its entry lines, which
    begin with a bold option name (`*-P*, *--port* _PORT_`)."""
    opts = set()
    for line in scd_section("OPTIONS").splitlines():
        if line.startswith("*-"):
            for bold in re.findall(r"\*([^*]+)\*", line):
                opts.update(OPT_RE.findall(bold))
    return opts


def render(man, width="80"):
    env = dict(os.environ, MANWIDTH=width, LC_ALL="C.UTF-8")
    return subprocess.run(["man", "--warnings", "-l", man], capture_output=True,
                          text=True, env=env, timeout=30)


def test_man_renders_clean(args):
    check(os.path.exists(args.man), f"{args.man} is missing: run make")
    check(os.path.getmtime(args.man) >= os.path.getmtime(SCD),
          f"{args.man} is older than {SCD}: run make")
    p = render(args.man)
    check(p.returncode == 0, f"man -l exited {p.returncode}")
    check(p.stderr == "", f"man --warnings -l printed: {p.stderr.strip()[:300]}")
    g = subprocess.run(["groff", "-ww", "-man", "-z", "-Tutf8", args.man],
                       capture_output=True, text=True, timeout=30)
    check(g.returncode == 0 and g.stderr == "", f"groff -ww: {g.stderr.strip()[:300]}")
    for sec in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "JSON LINES",
                "EXIT STATUS", "FILES", "EXAMPLES", "SEE ALSO"):
        check(re.search(r"^" + sec + r"$", p.stdout, re.M), f"no {sec} section in the page")
    wide = [l for l in p.stdout.splitlines() if len(l) > 80]
    check(not wide, f"lines wider than 80 columns: {wide[:2]}")


def test_man_options_match_help(args):
    helped, documented = help_options(args.tracer), man_options()
    missing = sorted(helped - documented)
    extra = sorted(documented - helped)
    check(not missing, f"in --help but not in docs/tcptimeline.8.scd OPTIONS: {missing}")
    check(not extra, f"in docs/tcptimeline.8.scd OPTIONS but not in --help: {extra}")


def readme_contract():
    """Event names, their fields and the close causes, from the README's
    JSON Lines section (the contract's source of truth)."""
    text = open(README).read()
    m = re.search(r"^## JSON Lines.*?\n(.*?)(?=^## )", text, re.S | re.M)
    check(m, "no '## JSON Lines' section in README.md")
    sec = m.group(1)
    events, names = set(), set()
    for row in re.findall(r"^\| `(\w+)` \|(.*)\|\s*$", sec, re.M):
        events.add(row[0])
        names.update(t for t in re.findall(r"`([a-z_]+)[`:]", row[1]))
    # the common fields and the causes: the prose around the table
    prose = re.sub(r"^\|.*$", "", sec, flags=re.M)
    names.update(re.findall(r"`([a-z_]+)`", prose))
    return events, names


def test_man_json_contract(args):
    events, names = readme_contract()
    check(len(events) >= 10, f"found only {sorted(events)} events in the README's table")
    sec = scd_section("JSON LINES")
    bold = set(re.findall(r"\*([^*\s]+)\*", sec))
    bold |= {w for b in re.findall(r"\*([^*]+)\*", sec) for w in re.split(r"[\s,]+", b)}
    missing = sorted((events | names) - bold)
    check(not missing,
          f"in the README's JSON Lines contract but not in the man page's JSON LINES: {missing}")


def complete(words):
    """COMPREPLY of _tcptimeline for the command line `words` (the last one
    being completed), with the completion file alone (no bash-completion)."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
              'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _tcptimeline; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "x", COMPLETION] + words,
                       capture_output=True, text=True, timeout=10)
    check(p.returncode == 0 and p.stderr == "", f"completing {words}: {p.stderr.strip()}")
    return [w for w in p.stdout.splitlines() if w]


def test_completion_offers_every_option(args):
    helped = help_options(args.tracer)
    offered = set(complete(["tcptimeline", "-"]))
    missing = sorted(helped - offered)
    extra = sorted(offered - helped)
    check(not missing, f"in --help but not offered by completions/tcptimeline: {missing}")
    check(not extra, f"offered by completions/tcptimeline but not in --help: {extra}")
    check(set(complete(["tcptimeline", "--li"])) == {"--live"},
          "'--li' does not complete to --live alone")


def test_completion_values(args):
    helped = help_options(args.tracer)
    b = complete(["tcptimeline", "-b", ""])
    check("8" in b and "1024" in b and "3" not in b, f"-b offers {b}")
    pids = complete(["tcptimeline", "--pid", ""])
    check(str(os.getpid()) in pids, f"--pid does not offer this process ({os.getpid()})")
    check(complete(["tcptimeline", "-P", ""]) == [], "-P offers something: a port is a number")
    # an option's value is never completed as an option
    check(complete(["tcptimeline", "-d", "-"]) == [], "-d - offers options")
    if "--cause" in helped:
        causes = complete(["tcptimeline", "--cause", ""])
        check({"killed", "rst_in", "syn_timeout"} <= set(causes), f"--cause offers {causes}")
    for opt in ("--read", "--html"):
        if opt in helped:
            files = complete(["tcptimeline", opt, os.path.join(HERE, "ru")])
            check(os.path.join(HERE, "run.py") in files, f"{opt} does not offer files: {files}")
    if "--cgroup" in helped:
        mnt = next((l.split()[4] for l in open("/proc/self/mountinfo")
                    if " - cgroup2 " in l and l.split()[3] == "/"), None)
        # as root, a cgroup of our own makes sure there is one to offer
        own = os.path.join(mnt, "tcptimeline-docs-%d" % os.getpid()) if mnt else None
        if own and os.geteuid() == 0:
            os.mkdir(own)
        try:
            if mnt:
                subs = sorted(d + "/" for d in os.listdir(mnt)
                              if os.path.isdir(os.path.join(mnt, d)))
                rel = complete(["tcptimeline", "--cgroup", ""])
                check(sorted(rel) == subs, f"--cgroup '' offers {rel[:5]}, not {mnt}'s {subs[:5]}")
                absolute = complete(["tcptimeline", "--cgroup", mnt + "/"])
                check(sorted(absolute) == sorted(mnt + "/" + d for d in subs),
                      f"--cgroup {mnt}/ offers {absolute[:5]}")
                if os.path.isdir(own):
                    check(os.path.basename(own) + "/" in rel, f"--cgroup '' misses {own}")
        finally:
            if own and os.path.isdir(own):
                os.rmdir(own)
    if "--exec" in helped:
        cmds = complete(["tcptimeline", "--exec", "pytho"])
        check(any(c.startswith("python3") for c in cmds), f"--exec pytho offers {cmds}")
        opts = complete(["tcptimeline", "-x", "ls", "--"])
        check("--port" not in opts, "an option of the traced command completes as ours")



def readme_jq_recipes():
    """The jq one-liners in README's Record and replay section, in order."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    m = re.search(r"Questions people ask of a recording.*?```\n(.*?)```", text, re.S)
    check(m, "no jq recipes in README.md (Record and replay)")
    cmds = [l for l in m.group(1).splitlines() if l.startswith("jq ")]
    check(len(cmds) == 3, f"expected 3 jq recipes, found {len(cmds)}")
    return cmds


def run_recipe(cmd, lines):
    """cmd as README prints it, rec.jsonl being these JSON lines."""
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "rec.jsonl"), "w") as f:
            f.write("".join(json.dumps(e) + "\n" for e in lines))
        p = subprocess.run(["sh", "-c", cmd], cwd=d, capture_output=True, text=True)
    check(p.returncode == 0 and p.stderr == "", f"{cmd!r}: exit {p.returncode}: {p.stderr}")
    return p.stdout


def golden(name):
    with open(os.path.join(ROOT, "tests", "unit", "golden", name + ".jsonl")) as f:
        return [json.loads(line) for line in f]


def test_readme_jq_recipes(args):
    check(shutil.which("jq"), "jq not found: sudo make deps")
    killed, resets, keepalive = readme_jq_recipes()
    rec = golden("kill-client")
    close = next(e for e in rec if e["event"] == "close" and e["cause"] == "killed")
    out = run_recipe(killed, rec).splitlines()
    check(out == [f"{close['comm']} {close['pid']} SIGKILL {close['laddr']}:{close['lport']} > "
                  f"{close['raddr']}:{close['rport']}"], f"killed recipe printed {out}")
    check(run_recipe(killed, golden("normal")) == "", "killed recipe found a kill in normal")
    out = run_recipe(resets, rec).split()
    n_in = sum(1 for e in rec if e["event"] == "rst" and e["dir"] == "in")
    check(n_in >= 1 and out == [str(n_in), "127.0.0.1"], f"resets recipe printed {out}")
    # keepalive timeouts: the normal recording's closes, two of them relabelled
    rec = golden("normal")
    closes = [e for e in rec if e["event"] == "close"]
    check(len(closes) >= 2, "normal.jsonl has fewer than two closes")
    for e in closes[:2]:
        e["cause"] = "keepalive_timeout"
    want = {}
    for e in closes[:2]:
        want[e["lport"]] = want.get(e["lport"], 0) + 1
    out = run_recipe(keepalive, rec).split()
    got = {int(out[i + 1]): int(out[i]) for i in range(0, len(out), 2)}
    check(got == want, f"keepalive recipe printed {out}, want {want}")

TESTS = [test_readme_jq_recipes, test_man_renders_clean, test_man_options_match_help, test_man_json_contract,
         test_completion_offers_every_option, test_completion_values]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracer", default=os.path.join(ROOT, "tcptimeline"))
    ap.add_argument("--man", default=os.path.join(ROOT, ".output", "tcptimeline.8"))
    ap.add_argument("-k", help="run tests whose name contains this")
    args = ap.parse_args()
    return run(TESTS, args, args.k)


if __name__ == "__main__":
    sys.exit(main())
