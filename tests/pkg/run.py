#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Packaging tests: make install / uninstall into a temporary DESTDIR (no
root), make stopping at once on missing build dependencies (no root),
-V/--version's report (no root), and the Debian package built, installed,
run and removed (root; skipped without).

tests/pkg/run.py [-k NAME] [--tracer PATH]
Prints `PASS name`, `FAIL name: why` or `SKIP name: why` per test and ends
with `N passed, N failed, N skipped`.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))  # tests/: the shared testlib
from testlib import Skip, check, run  # noqa: E402


def make(*args, env=None, timeout=300):
    return subprocess.run(["make", "-C", ROOT, "--no-print-directory"] + list(args),
                          capture_output=True, text=True, env=env, timeout=timeout)


def tree(root):
    """Every file and symlink under root, relative to it; and every directory."""
    files, dirs = set(), set()
    for d, subdirs, names in os.walk(root):
        for n in subdirs:
            p = os.path.join(d, n)
            (files if os.path.islink(p) else dirs).add(os.path.relpath(p, root))
        for n in names:
            files.add(os.path.relpath(os.path.join(d, n), root))
    return files, dirs


def expected_install(prefix):
    p = prefix.lstrip("/")
    files = {f"{p}/sbin/tcptimeline", f"{p}/share/man/man8/tcptimeline.8",
             f"{p}/share/bash-completion/completions/tcptimeline",
             f"{p}/share/doc/tcptimeline/README.md"}
    files |= {f"{p}/share/doc/tcptimeline/{os.path.basename(d)}"
              for d in glob.glob(os.path.join(ROOT, "docs", "*.md"))}
    if os.path.exists(os.path.join(ROOT, "systemd", "tcptimeline.service")):
        files.add(f"{p}/lib/systemd/system/tcptimeline.service")
    return files


def test_install_uninstall(args):
    for prefix in ("/usr/local", "/usr"):
        with tempfile.TemporaryDirectory() as dest:
            margs = [f"DESTDIR={dest}"] + ([] if prefix == "/usr/local" else [f"PREFIX={prefix}"])
            p = make("install", *margs)
            check(p.returncode == 0, f"make install {' '.join(margs)}: {p.stderr.strip()[-300:]}")
            files, _ = tree(dest)
            want = expected_install(prefix)
            check(files == want, f"PREFIX={prefix}: installed {sorted(files - want)} that should "
                  f"not be there, missing {sorted(want - files)}")
            sbin = os.path.join(dest, prefix.lstrip("/"), "sbin", "tcptimeline")
            check(os.stat(sbin).st_mode & 0o777 == 0o755, "the binary is not mode 0755")
            for f in files - {os.path.relpath(sbin, dest)}:
                mode = os.stat(os.path.join(dest, f)).st_mode & 0o777
                check(mode == 0o644, f"{f} is mode {mode:o}, not 0644")
            v = subprocess.run([sbin, "--version"], capture_output=True, text=True, timeout=10)
            check(v.returncode == 0 and v.stdout.startswith("tcptimeline "),
                  f"the installed binary's --version: {v.returncode} {v.stdout[:80]!r}")
            unit = os.path.join(dest, prefix.lstrip("/"), "lib/systemd/system/tcptimeline.service")
            if os.path.exists(unit):
                text = open(unit).read()
                check(f"{prefix}/sbin/tcptimeline" in text,
                      f"the installed unit does not run {prefix}/sbin/tcptimeline")
            p = make("uninstall", *margs)
            check(p.returncode == 0, f"make uninstall: {p.stderr.strip()[-300:]}")
            files, dirs = tree(dest)
            check(not files, f"left after make uninstall: {sorted(files)}")
            # only the shared directories (sbin, share/man/man8, ...) stay
            left = sorted(d for d in dirs if "tcptimeline" in d)
            check(not left, f"directories left after make uninstall: {left}")


def test_missing_build_deps(args):
    """make stops before compiling anything, with one line naming what is
    missing (as Debian packages) and `sudo make deps`."""
    with tempfile.TemporaryDirectory() as tmp:
        # a pkg-config that knows every library but cmocka
        fake = os.path.join(tmp, "pkg-config")
        with open(fake, "w") as f:
            f.write('#!/bin/sh\nfor a; do [ "$a" = cmocka ] && exit 1; done\n'
                    'exec pkg-config "$@"\n')
        os.chmod(fake, 0o755)
        out = os.path.join(tmp, "out")
        cases = [
            (["CLANG=/nonexistent/clang"], ["clang"]),
            (["PKG_CONFIG=false"], ["libbpf-dev", "libelf-dev", "zlib1g-dev"]),
            (["PKG_CONFIG=/nonexistent/pkg-config"], ["pkg-config"]),
            (["BPFTOOL=/nonexistent/bpftool", "SCDOC=/nonexistent/scdoc", "CC=/nonexistent/cc -m64"],
             ["bpftool", "scdoc", "gcc"]),
            ([f"PKG_CONFIG={fake}", "unit"], ["libcmocka-dev"]),
        ]
        for margs, pkgs in cases:
            p = make(f"OUTPUT={out}", *margs, timeout=60)
            lines = p.stderr.splitlines()
            check(p.returncode != 0, f"make {margs} succeeded")
            check(len(lines) == 1 and p.stdout == "",
                  f"make {margs} printed more than one line: {(p.stdout + p.stderr)[:400]!r}")
            check("sudo make deps" in lines[0], f"make {margs}: no 'sudo make deps' in {lines[0]!r}")
            for pkg in pkgs:
                check(re.search(r"[:,] " + re.escape(pkg) + r" \(", lines[0]),
                      f"make {margs} does not name {pkg}: {lines[0]!r}")
            others = {"clang", "bpftool", "scdoc", "gcc", "pkg-config", "libbpf-dev",
                      "libelf-dev", "zlib1g-dev", "libcmocka-dev"} - set(pkgs)
            wrong = [o for o in others if re.search(r"[:,] " + re.escape(o) + r" \(", lines[0])]
            check(not wrong, f"make {margs} names {wrong}, which are present: {lines[0]!r}")
            check(not os.path.exists(out), f"make {margs} built something before stopping")
        # with everything present the check passes (and make -n compiles nothing)
        p = make(f"OUTPUT={out}", "-n", "all", "unit-bins", timeout=60)
        check(p.returncode == 0 and "missing build dependencies" not in p.stderr,
              f"make -n with every dependency present: {p.stderr.strip()[:300]}")


def control_build_depends():
    """The package names of debian/control's Build-Depends (alternatives
    included, versions and build profiles dropped)."""
    text = open(os.path.join(ROOT, "debian", "control")).read()
    m = re.search(r"^Build-Depends:(.*?)(?=^\S)", text, re.S | re.M)
    check(m, "no Build-Depends in debian/control")
    names = set()
    for dep in m.group(1).split(","):
        for alt in dep.split("|"):
            w = re.sub(r"[(<\[].*", "", alt).strip()
            if w:
                names.add(w)
    return names


def test_build_depends_complete(args):
    """Every Debian package the Makefile checks for (BUILD_TOOLS, BUILD_LIBS,
    UNIT_LIBS) is in debian/control's Build-Depends and in
    tests/install-deps.sh, so a library someone adds to the build reaches
    the package and a fresh machine."""
    p = make("-s", "print-build-deps")
    check(p.returncode == 0, f"make print-build-deps: {p.stderr.strip()}")
    pkgs = set(p.stdout.split())
    check({"clang", "bpftool", "libbpf-dev"} <= pkgs, f"make print-build-deps: {sorted(pkgs)}")
    # gcc comes with build-essential, which Build-Depends never lists
    missing = sorted(pkgs - {"gcc"} - control_build_depends())
    check(not missing, f"build dependencies missing from debian/control's Build-Depends: {missing}")
    deps = open(os.path.join(ROOT, "tests", "install-deps.sh")).read()
    m = re.search(r'^PKGS="(.*?)"', deps, re.S | re.M)
    check(m, "no PKGS= in tests/install-deps.sh")
    listed = set(m.group(1).replace("\\\n", " ").split())
    missing = sorted(pkgs - listed)
    check(not missing, f"build dependencies missing from tests/install-deps.sh's PKGS: {missing}")


def as_user(argv):
    """argv run unprivileged: as nobody when we are root."""
    if os.geteuid() == 0:
        return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + argv
    return argv


def btf_facts():
    """From bpftool's dump of the kernel's BTF, independently of the tracer:
    the btf_trace_ typedefs and the members of the trace_event_raw_ structs."""
    p = subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux",
                        "format", "raw"], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"bpftool btf dump: {p.stderr.strip()}")
    typedefs, members, cur = set(), {}, None
    for line in p.stdout.splitlines():
        m = re.match(r"^\[\d+\] (\w+) '([^']*)'", line)
        if m:
            cur = None
            if m.group(1) == "TYPEDEF" and m.group(2).startswith("btf_trace_"):
                typedefs.add(m.group(2)[len("btf_trace_"):])
            elif m.group(1) == "STRUCT" and m.group(2).startswith("trace_event_raw_"):
                cur = members.setdefault(m.group(2)[len("trace_event_raw_"):], set())
        elif cur is not None:
            m = re.match(r"^\t'(\w+)'", line)
            if m:
                cur.add(m.group(1))
    return typedefs, members


def bpf_tracepoints():
    tps = set()
    for f in glob.glob(os.path.join(ROOT, "bpf", "*.bpf.c")):
        tps |= set(re.findall(r'SEC\("tp_btf/(\w+)"\)', open(f).read()))
    return tps


def test_version(args):
    version = re.search(r"^VERSION := (\S+)$", open(os.path.join(ROOT, "Makefile")).read(), re.M)
    p = subprocess.run(as_user([args.tracer, "-V"]), capture_output=True, text=True, timeout=20)
    check(p.returncode == 0, f"-V unprivileged exited {p.returncode}: {p.stderr.strip()}")
    out = p.stdout
    check(out.startswith(f"tcptimeline {version.group(1)}\n"), f"-V's first line: {out[:60]!r}")
    pc = subprocess.run(["pkg-config", "--modversion", "libbpf"], capture_output=True,
                        text=True).stdout.strip().split(".")
    check(re.search(r"^libbpf \d+\.\d+ \(built with " + re.escape(".".join(pc[:2])) + r"\)$",
                    out, re.M), f"no libbpf line matching pkg-config's {pc}: {out[:200]!r}")
    check(f" {os.uname().release} " in out, "-V does not name the running kernel")
    check(re.search(r"^BTF /sys/kernel/btf/vmlinux: yes", out, re.M), "-V does not find BTF")
    check(re.search(r"^BPF ring buffer: yes; creating one: not tried \(needs root\)$", out, re.M),
          "-V's ring buffer line, unprivileged")
    typedefs, members = btf_facts()
    tps = bpf_tracepoints()
    check(len(tps) >= 10, f"found only {tps} in bpf/")
    for tp in tps:
        m = re.search(r"^  " + tp + r": (yes|missing)\b(.*)$", out, re.M)
        check(m, f"-V does not report tracepoint {tp}")
        check((m.group(1) == "yes") == (tp in typedefs),
              f"-V says {tp} {m.group(1)}, bpftool's BTF dump disagrees")
    for tp, field in (("tcp_send_reset", "reason"), ("tcp_retransmit_skb", "err")):
        m = re.search(r"^  " + tp + r": .*; " + field + r" \([\d.]+\+, [^)]*\): (yes|no)$", out, re.M)
        check(m, f"-V does not say whether {tp} has its {field} argument")
        check((m.group(1) == "yes") == (field in members.get(tp, set())),
              f"-V says {tp}.{field} {m.group(1)}, bpftool's BTF dump disagrees")
    check(re.search(r"^  inet_sk_error_report: (yes|missing)", out, re.M),
          "-V does not report inet_sk_error_report")
    # no BTF at all, and a BTF without the kernel's types: a report, no crash
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("/nonexistent/vmlinux", "missing", "unknown (no BTF)")]
        obj = os.path.join(ROOT, ".output", "tcptimeline.bpf.o")
        if os.path.exists(obj):
            shutil.copy(obj, tmp)
            os.chmod(tmp, 0o755)
            cases.append((os.path.join(tmp, "tcptimeline.bpf.o"), "yes", "missing"))
        for path, btf, tp_state in cases:
            p = subprocess.run(as_user(["env", f"TCPTIMELINE_BTF={path}", args.tracer, "-V"]),
                               capture_output=True, text=True, timeout=20)
            check(p.returncode == 0, f"-V with BTF {path} exited {p.returncode}: {p.stderr[-200:]}")
            check(re.search(r"^BTF " + re.escape(path) + ": " + btf, p.stdout, re.M),
                  f"-V with BTF {path}: {p.stdout[:300]!r}")
            for tp in tps:
                check(f"  {tp}: {tp_state}" in p.stdout,
                      f"-V with BTF {path} does not say '{tp}: {tp_state}'")


def installed_status(pkg):
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else ""


def test_deb(args):
    if os.geteuid() != 0:
        raise Skip("installs a package: needs root")
    if "installed" in installed_status("tcptimeline").split():
        raise Skip("a tcptimeline package is installed on this machine already: not touching it")
    p = make("deb", timeout=600)
    check(p.returncode == 0, f"make deb: {(p.stdout + p.stderr).strip()[-600:]}")
    debs = glob.glob(os.path.join(ROOT, ".output", "deb", "tcptimeline_*.deb"))
    check(len(debs) == 1, f"make deb made {debs}")
    deb = debs[0]
    c = subprocess.run(["dpkg", "-c", deb], capture_output=True, text=True, check=True)
    files = {line.split()[-1].lstrip(".") for line in c.stdout.splitlines()
             if not line.startswith("d")}
    want = {"/usr/sbin/tcptimeline", "/usr/share/man/man8/tcptimeline.8.gz",
            "/usr/share/bash-completion/completions/tcptimeline",
            "/usr/share/doc/tcptimeline/copyright", "/usr/share/doc/tcptimeline/changelog.gz",
            "/usr/share/doc/tcptimeline/README.md.gz"}
    want |= {f"/usr/share/doc/tcptimeline/{os.path.basename(d)}.gz"
             for d in glob.glob(os.path.join(ROOT, "docs", "*.md"))}
    if os.path.exists(os.path.join(ROOT, "systemd", "tcptimeline.service")):
        want.add("/usr/lib/systemd/system/tcptimeline.service")
    check(files == want, f"dpkg -c: unexpected {sorted(files - want)}, missing {sorted(want - files)}")
    try:
        i = subprocess.run(["dpkg", "-i", deb], capture_output=True, text=True, timeout=120)
        check(i.returncode == 0, f"dpkg -i: {i.stderr.strip()[-300:]}")
        v = subprocess.run(["/usr/sbin/tcptimeline", "-V"], capture_output=True, text=True,
                           timeout=10)
        check(v.returncode == 0, f"/usr/sbin/tcptimeline -V exited {v.returncode}: {v.stderr}")
        version = subprocess.run(["dpkg-deb", "-f", deb, "Version"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        check(v.stdout.startswith(f"tcptimeline {version}\n"),
              f"-V says {v.stdout.splitlines()[:1]}, the package is {version}")
        # the build took dpkg-buildflags' flags: hardening=+all links with
        # -z now (LDFLAGS) and compiles with -D_FORTIFY_SOURCE (CPPFLAGS)
        d = subprocess.run(["readelf", "-d", "/usr/sbin/tcptimeline"], capture_output=True,
                           text=True).stdout
        check("BIND_NOW" in d, "the packaged binary is not linked with -z now: LDFLAGS ignored?")
        syms = subprocess.run(["nm", "-D", "/usr/sbin/tcptimeline"], capture_output=True,
                              text=True).stdout
        check(re.search(r"__\w+_chk", syms), "no fortified calls: CPPFLAGS/CFLAGS ignored?")
        w = subprocess.run(["man", "-w", "tcptimeline"], capture_output=True, text=True)
        check(w.stdout.strip() == "/usr/share/man/man8/tcptimeline.8.gz",
              f"man -w tcptimeline finds {w.stdout.strip()!r}")
    finally:
        r = subprocess.run(["dpkg", "-r", "tcptimeline"], capture_output=True, text=True,
                           timeout=120)
    check(r.returncode == 0, f"dpkg -r: {r.stderr.strip()[-300:]}")
    left = sorted(f for f in want if os.path.lexists(f))
    check(not left, f"left after dpkg -r: {left}")
    st = installed_status("tcptimeline")
    check("installed" not in st.split(), f"dpkg still has tcptimeline as {st!r}")
    subprocess.run(["dpkg", "-P", "tcptimeline"], capture_output=True)


TESTS = [test_build_depends_complete, test_install_uninstall, test_missing_build_deps,
         test_version, test_deb]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracer", default=os.path.join(ROOT, "tcptimeline"))
    ap.add_argument("-k", help="run tests whose name contains this")
    args = ap.parse_args()
    args.tracer = os.path.abspath(args.tracer)
    return run(TESTS, args, args.k)


if __name__ == "__main__":
    sys.exit(main())
