#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# tcptimeline overhead benchmark, the driver `make bench` runs: installs
# what the runs need and is missing, builds the workloads when bench.mk has
# not (standalone use), then hands over to tests/bench/bench.py, which does
# the runs, the sampling and the report. What is measured, how, and every
# setting (ROUNDS, SECS, WORKLOADS, CONFIGS, ORDER, TRACER_STDOUT, ...):
# the top of bench.py. Settings pass through the environment:
#
#   sudo ROUNDS=7 SECS=10 tests/bench/bench.sh
#   sudo make bench ROUNDS=7 SECS=10
#
# Besides bench.py's: TCPSTATES, TCPLIFE (the anchors' paths), NO_INSTALL
# (fail instead of installing what is missing), CC, BENCH_CFLAGS.

set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$ROOT/.output/bench}
CC=${CC:-cc}
BENCH_CFLAGS=${BENCH_CFLAGS:--Wall -Wextra -Werror -std=c11 -O2}
export OUT

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root (BPF, tracefs, sysctl)"

if [ -z "${REPORT_ONLY:-}" ]; then
	need_pkgs=()
	[ -x "${TCPSTATES:-/usr/sbin/tcpstates}" ] && [ -x "${TCPLIFE:-/usr/sbin/tcplife}" ] ||
		need_pkgs+=(libbpf-tools)
	command -v bpftool >/dev/null || need_pkgs+=(bpftool)
	if [ ${#need_pkgs[@]} -gt 0 ]; then
		[ -z "${NO_INSTALL:-}" ] || die "missing: ${need_pkgs[*]}"
		note "installing ${need_pkgs[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y "${need_pkgs[@]}" \
			>/dev/null || die "apt-get install ${need_pkgs[*]} failed"
	fi

	mkdir -p "$OUT" || die "cannot create $OUT"
	for b in churn bulk; do
		if [ ! -x "$OUT/$b" ] || [ "$HERE/$b.c" -nt "$OUT/$b" ]; then
			# shellcheck disable=SC2086 # BENCH_CFLAGS is a list of flags
			$CC $BENCH_CFLAGS -pthread -o "$OUT/$b" "$HERE/$b.c" ||
				die "cannot build $b"
		fi
	done
fi

exec python3 "$HERE/bench.py"
