#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# tcptimeline overhead benchmark (see DESIGN.md, "Where the cost is").
#
# Three loopback workloads, each run under five configurations,
# interleaved in one run so drift (frequency, other load, TIME_WAIT
# build-up) hits all of them alike:
#
#   churn     connections/s, server closes first: CPU-bound (25-29,000/s on
#             2 CPUs), so a tracer's cost shows in full
#   churn_tw  connections/s, client closes first (churn -c): DESIGN.md's
#             ~14,000/s, which is a cap set by recycling TIME_WAIT ports
#             (net.ipv4.tcp_tw_reuse_delay), not by CPU; the spare CPU is
#             burnt in connect()'s port search and absorbs a tracer's cost
#             up to that much.  Kept to compare with DESIGN.md's table.
#   bulk      Gbit/s, one stream of small writes (per-segment cost)
#
# and configurations:
#
#   none        no tracer
#   tcpstates   libbpf-tools tcpstates (anchor: one perf record per event)
#   tcplife     libbpf-tools tcplife   (anchor: one perf record per socket)
#   tt          tcptimeline --json, no filter
#   tt_noout    the same with its ring output compiled out (TRACER_NOOUT, a
#               bench-only build): every BPF program does its bookkeeping,
#               nothing leaves the kernel, the tracer has nothing to print.
#               tt_nomatch -> tt_noout -> tt splits the cost into hooks and
#               filter, per-socket bookkeeping, and output
#   tt_nomatch  tcptimeline -P 1 --json (filter matches nothing)
#
# round 1: churn(none tcpstates tcplife tt tt_noout tt_nomatch) churn_tw(...) bulk(...),
# round 2: the same (ORDER=fixed), or with the configurations rotated by one
# each round (ORDER=rotate), so that none of them always runs first after
# another workload.
#
# Per run: start the tracer (stdout to /dev/null), wait until it is
# attached, read its CPU time, run the workload, read its CPU time and peak
# RSS (VmHWM), stop it with SIGINT, collect its lost-event count.
#
# Readiness:
#   tcptimeline  its stderr line beginning "tcptimeline: tracing"
#   anchors      their header goes to stdout, which is /dev/null here (and
#                would sit in a stdio buffer anyway), so instead: bpftool
#                perf show lists their inet_sock_set_state tracepoint
#                attached by their pid, and they hold an epoll fd (the perf
#                buffer, created right after attach, just before the header
#                is printed).
#   Both are bounded by READY_TIMEOUT seconds; a run that is not ready by
#   then is recorded as failed.
#
# Pinning: churn and the tracers are not pinned; they share the machine's
# CPUs as they would in production, so the tracer's user-space work competes
# with the workload and shows up in the churn ratio.  bulk (sender and
# receiver threads of one process) has both threads pinned to one CPU
# (BULK_CPUS, the last CPU by default): unpinned, a small-write loopback
# stream flips between "both threads on one CPU" and "one per CPU"
# (cross-CPU wakeups) from run to run, and its throughput with it, by a
# factor of two.  Pinned it is stable; the per-segment BPF programs still
# run on that CPU, in the workload's context, which is what bulk is there
# to measure.  The tracer is free to use the other CPU(s).
#
# Environment (defaults in brackets):
#   ROUNDS [5]  SECS [5]  TRACER [<repo>/tcptimeline]  OUT [<repo>/.output/bench]
#   TRACER_NOOUT [$OUT/tcptimeline-noout]  (make bench builds it)
#   WORKLOADS ["churn churn_tw bulk"]
#   CONFIGS ["none tcpstates tcplife tt tt_noout tt_nomatch"]
#   CHURN_PORT [7777]  CHURN_WORKERS [4]  CHURN_OPTS []  (churn_tw adds -c)
#   BULK_PORT [7778]   BULK_WRITE [256]   BULK_OPTS []
#   BULK_CPUS [N,N: N = last CPU; "" for none]  bulk -C TX,RX thread pinning
#   BPF_STATS_FOR ["tt tt_noout tt_nomatch"]  configs profiled after the rounds: one
#               more run of each workload with kernel.bpf_stats_enabled=1
#               (per-program run counts and times). The accounting costs
#               ~2 clock reads per program run, so these runs are kept out
#               of the ratios; they count for lost events and peak RSS.
#   TRACER_STDOUT [/dev/null]  where the tracers' output goes; a file path
#               (truncated for each run) makes printing cost what it costs
#               on disk
#   READY_TIMEOUT [30]  STOP_TIMEOUT [20]  NO_INSTALL [unset]
#   ORDER [fixed]  fixed | rotate (see above)
#   WARMUP [3]  seconds of each workload run unmeasured before round 1
#   REPORT_ONLY [unset]  redo the report from the results already in $OUT
#   QUIET_PCT [10]  QUIET_WAIT [60]: before each run, wait up to QUIET_WAIT s
#               for the machine to be at most QUIET_PCT % busy (it may be shared)
#   BG_MAX [10]  BG_RETRIES [3]: repeat a run (up to BG_RETRIES times) in which
#               other processes used more than BG_MAX % of the machine; a run
#               still over is kept as "noisy" and left out of the medians
#
# Output: a markdown report on stdout and in $OUT/report.md; raw per-run
# results in $OUT/results.tsv, per-program BPF stats in $OUT/progs.tsv,
# tracer stderr in $OUT/logs/.

set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-5}
TRACER=${TRACER:-$ROOT/tcptimeline}
TRACER_NOOUT=${TRACER_NOOUT:-$OUT/tcptimeline-noout}
OUT=${OUT:-$ROOT/.output/bench}
WORKLOADS=${WORKLOADS:-churn churn_tw bulk}
CONFIGS=${CONFIGS:-none tcpstates tcplife tt tt_noout tt_nomatch}
CHURN_PORT=${CHURN_PORT:-7777}
CHURN_WORKERS=${CHURN_WORKERS:-4}
CHURN_OPTS=${CHURN_OPTS:-}
BULK_PORT=${BULK_PORT:-7778}
BULK_WRITE=${BULK_WRITE:-256}
BULK_OPTS=${BULK_OPTS:-}
BULK_CPUS=${BULK_CPUS-$(($(nproc) - 1)),$(($(nproc) - 1))}
BPF_STATS_FOR=${BPF_STATS_FOR-tt tt_noout tt_nomatch}
READY_TIMEOUT=${READY_TIMEOUT:-30}
QUIET_PCT=${QUIET_PCT:-10}
QUIET_WAIT=${QUIET_WAIT:-60}
BG_MAX=${BG_MAX:-10}
BG_RETRIES=${BG_RETRIES:-3}
STOP_TIMEOUT=${STOP_TIMEOUT:-20}
TRACER_STDOUT=${TRACER_STDOUT:-/dev/null}
WARMUP=${WARMUP:-3}
ORDER=${ORDER:-fixed}
CMD=()
TCPSTATES=${TCPSTATES:-/usr/sbin/tcpstates}
TCPLIFE=${TCPLIFE:-/usr/sbin/tcplife}
CC=${CC:-cc}
BENCH_CFLAGS=${BENCH_CFLAGS:--Wall -Wextra -Werror -std=c11 -O2}

CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
LOGS=$OUT/logs
RESULTS=$OUT/results.tsv
PROGS=$OUT/progs.tsv
REPORT=$OUT/report.md

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root (BPF, tracefs, sysctl)"
case $ROUNDS in '' | *[!0-9]*) die "ROUNDS must be a number" ;; esac
[ "$ROUNDS" -ge 1 ] || die "ROUNDS must be >= 1"

# ---------------------------------------------------------------- setup

REPORT_ONLY=${REPORT_ONLY:-}
META=$OUT/meta.sh
if [ -n "$REPORT_ONLY" ]; then
	if [ ! -r "$META" ] || [ ! -r "$RESULTS" ]; then
		die "no results in $OUT to report on"
	fi
fi

if [ -z "$REPORT_ONLY" ]; then
need_pkgs=()
[ -x "$TCPSTATES" ] && [ -x "$TCPLIFE" ] || need_pkgs+=(libbpf-tools)
command -v bpftool >/dev/null || need_pkgs+=(bpftool)
command -v jq >/dev/null || need_pkgs+=(jq)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	[ -z "${NO_INSTALL:-}" ] || die "missing: ${need_pkgs[*]}"
	note "installing ${need_pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${need_pkgs[@]}" \
		>/dev/null || die "apt-get install ${need_pkgs[*]} failed"
fi

mkdir -p "$OUT" "$LOGS" || die "cannot create $OUT"
rm -f "$LOGS"/*.err

# Build the workloads if bench.mk has not (standalone use).
for b in churn bulk; do
	if [ ! -x "$OUT/$b" ] || [ "$ROOT/tests/bench/$b.c" -nt "$OUT/$b" ]; then
		# shellcheck disable=SC2086
		$CC $BENCH_CFLAGS -pthread -o "$OUT/$b" "$ROOT/tests/bench/$b.c" ||
			die "cannot build $b"
	fi
done

# The anchors attach classic tracepoints, which need tracefs for the event
# id; tcptimeline (tp_btf) does not.  Mount it only if absent, and unmount
# what we mounted on exit.
MOUNTED_TRACEFS=
if [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then
	mount -t tracefs nodev /sys/kernel/tracing ||
		die "cannot mount tracefs on /sys/kernel/tracing"
	MOUNTED_TRACEFS=/sys/kernel/tracing
fi

STATS_ORIG=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
TW_REUSE_ORIG=$(sysctl -n net.ipv4.tcp_tw_reuse 2>/dev/null || echo 2)
TRACER_PID=
tmp_progs=
tmp=

cleanup() {
	if [ -n "$TRACER_PID" ] && kill -0 "$TRACER_PID" 2>/dev/null; then
		kill -INT "$TRACER_PID" 2>/dev/null
		sleep 1
		kill -KILL "$TRACER_PID" 2>/dev/null
	fi
	sysctl -qw kernel.bpf_stats_enabled="$STATS_ORIG" 2>/dev/null
	[ "$TW_REUSE_ORIG" != 0 ] ||
		sysctl -qw net.ipv4.tcp_tw_reuse="$TW_REUSE_ORIG" 2>/dev/null
	rm -rf "$tmp_progs" "$tmp"
	if [ -n "$MOUNTED_TRACEFS" ]; then
		umount "$MOUNTED_TRACEFS" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# churn_tw's client closes first and needs its TIME_WAIT ports recycled.
if [ "$TW_REUSE_ORIG" = 0 ]; then
	note "net.ipv4.tcp_tw_reuse is 0: setting it to 2 (loopback only) for the run"
	sysctl -qw net.ipv4.tcp_tw_reuse=2 || die "cannot set net.ipv4.tcp_tw_reuse"
fi

HAVE_TT=1
TT_VERSION=
if [ ! -x "$TRACER" ]; then
	HAVE_TT=
	note "$TRACER not found: skipping the tcptimeline rows"
else
	# Measure one build throughout, even if it is rebuilt meanwhile.
	cp "$TRACER" "$OUT/tcptimeline.bench" || die "cannot copy $TRACER"
	TRACER=$OUT/tcptimeline.bench
	TT_VERSION="$("$TRACER" -V 2>&1 | head -n 1) (sha256 $(sha256sum "$TRACER" | cut -c1-12))"
fi
HAVE_NOOUT=1
if [ ! -x "$TRACER_NOOUT" ]; then
	HAVE_NOOUT=
	note "$TRACER_NOOUT not found (make bench builds it): skipping the tt_noout rows"
else
	# likewise, one bench build throughout
	cp "$TRACER_NOOUT" "$OUT/tcptimeline-noout.bench" || die "cannot copy $TRACER_NOOUT"
	TRACER_NOOUT=$OUT/tcptimeline-noout.bench
fi
fi	# REPORT_ONLY

# ---------------------------------------------------------------- helpers

# utime+stime of a process, in clock ticks (all threads).
cpu_ticks() {
	local stat rest
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	rest=${stat##*) }	# comm may hold spaces or ')'
	# shellcheck disable=SC2086
	set -- $rest		# $1 = state (field 3): utime = $12, stime = $13
	echo $((${12} + ${13}))
}

vm_hwm_kb() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Unique BPF program ids held by a process (prog fds and link fds).
prog_ids() {
	grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null |
		awk '{ print $2 }' | sort -un
}

# Is the anchor attached (perf-event tracepoint held by its pid) and has it
# created its perf buffer (epoll fd)?
anchor_ready() {
	local pid=$1 fd
	bpftool perf show --json 2>/dev/null |
		jq -e --argjson p "$pid" \
			'any(.[]; .pid == $p and .tracepoint == "inet_sock_set_state")' \
			>/dev/null || return 1
	for fd in /proc/"$pid"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "anon_inode:[eventpoll]" ] &&
			return 0
	done
	return 1
}

# wait_ready CONFIG PID ERRFILE: 0 once ready, 1 on timeout or death.
wait_ready() {
	local cfg=$1 pid=$2 err=$3 deadline
	deadline=$((SECONDS + READY_TIMEOUT))
	while [ "$SECONDS" -lt "$deadline" ]; do
		kill -0 "$pid" 2>/dev/null || return 1
		case $cfg in
		tt | tt_noout | tt_nomatch)
			grep -q '^tcptimeline: tracing' "$err" && return 0 ;;
		*)
			anchor_ready "$pid" && return 0 ;;
		esac
		sleep 0.02
	done
	return 1
}

# Lost events reported on the tracer's stderr.  tcptimeline:
# "tcptimeline: lost events: N" (also accepts "lost N"); anchors: the sum
# of libbpf-tools' "lost N events on CPU #C" lines (0 if none).
lost_events() {
	local cfg=$1 err=$2
	case $cfg in
	tt | tt_noout | tt_nomatch)
		sed -n -e 's/.*lost events: *\([0-9][0-9]*\).*/\1/p' \
		       -e 's/.*lost \([0-9][0-9]*\).*/\1/p' "$err" |
			tail -n 1 | grep . || echo "?" ;;
	*)
		awk '/^lost [0-9]+ events/ { n += $2 } END { print n + 0 }' "$err" ;;
	esac
}

# tracer_cmd CONFIG / workload_cmd WORKLOAD: set the array CMD.
tracer_cmd() {
	case $1 in
	tcpstates) CMD=("$TCPSTATES") ;;
	tcplife) CMD=("$TCPLIFE") ;;
	tt) CMD=("$TRACER" --json) ;;
	tt_noout) CMD=("$TRACER_NOOUT" --json) ;;
	tt_nomatch) CMD=("$TRACER" -P 1 --json) ;;
	esac
}

workload_cmd() {
	case $1 in
	churn)
		# shellcheck disable=SC2206
		CMD=("$OUT/churn" -p "$CHURN_PORT" -w "$CHURN_WORKERS" -d "$SECS" $CHURN_OPTS) ;;
	churn_tw)
		# shellcheck disable=SC2206
		CMD=("$OUT/churn" -p "$CHURN_PORT" -w "$CHURN_WORKERS" -d "$SECS" -c $CHURN_OPTS) ;;
	bulk)
		# shellcheck disable=SC2206
		CMD=("$OUT/bulk" -p "$BULK_PORT" -s "$BULK_WRITE" -d "$SECS" $BULK_OPTS)
		[ -z "$BULK_CPUS" ] || CMD+=(-C "$BULK_CPUS") ;;
	esac
}

# Parse "key=value" from the workload's machine-readable last line.
field() {
	sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2"
}

cpu_busy_pct() {	# whole-machine non-idle CPU % over $1 seconds
	local a b
	read -r -a a < <(head -n 1 /proc/stat)
	sleep "$1"
	read -r -a b < <(head -n 1 /proc/stat)
	awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
		split(a, x); split(b, y)	# guest, guest_nice are in user
		for (i = 2; i <= 9; i++) { t += y[i] - x[i] }
		idle = (y[5] - x[5]) + (y[6] - x[6])
		printf "%.0f", t ? 100 * (t - idle) / t : 0 }'
}

# Busy and steal jiffies of the whole machine so far ("busy steal").
cpu_jiffies() {
	awk '/^cpu / { b = 0; for (i = 2; i <= 9; i++) b += $i
		print b - $5 - $6 - $9, $9; exit }' /proc/stat
}

# Wait (bounded) until the machine is quiet; prints the last busy %.
wait_quiet() {
	local t=$((SECONDS + QUIET_WAIT)) b
	while :; do
		b=$(cpu_busy_pct 0.5)
		if [ "$b" -le "$QUIET_PCT" ] || [ "$SECONDS" -ge "$t" ]; then
			echo "$b"
			return
		fi
	done
}

# utime+stime of all kernel threads (ksoftirqd, kworkers: work the runs
# cause outside the workload's own context), in clock ticks.
kthread_ticks() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk '{
		sub(/^.*\) /, "")	# $1 = state (field 3), $2 = ppid
		if ($2 == 2) t += $12 + $13 } END { print t + 0 }'
}

# attempt ROUND WORKLOAD CONFIG: one measured run.  Sets A_LINE (the
# results.tsv line), A_BG (background %) and appends per-program stats to
# $tmp_progs.
attempt() {
	local round=$1 wl=$2 cfg=$3 err pid="" out last value status=ok
	local cpu0=0 cpu1=0 hwm="" lost="" units errors rc id secs t
	local stats="" quiet j0 j1 k0 k1 steal wcpu

	err=$LOGS/r$round-$wl-$cfg.err
	: >"$err"
	: >"$tmp_progs"
	[ "$round" = profile ] && stats=1
	quiet=$(wait_quiet)
	[ "$quiet" -le "$QUIET_PCT" ] ||
		note "round $round $wl $cfg: machine still ${quiet}% busy after ${QUIET_WAIT}s, running anyway"

	if [ "$cfg" != none ]; then
		[ -n "$stats" ] && sysctl -qw kernel.bpf_stats_enabled=1
		tracer_cmd "$cfg"
		"${CMD[@]}" >"$TRACER_STDOUT" 2>"$err" &
		pid=$!
		TRACER_PID=$pid
		if ! wait_ready "$cfg" "$pid" "$err"; then
			note "round $round $wl $cfg: tracer not ready after ${READY_TIMEOUT}s (see $err)"
			kill -KILL "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			TRACER_PID=
			[ -n "$stats" ] && sysctl -qw kernel.bpf_stats_enabled="$STATS_ORIG"
			A_LINE=$(printf '%s\t%s\t%s\t\t\t\t\t\t\tnot-ready\t\t\t' "$round" "$wl" "$cfg")
			A_BG=0
			return
		fi
		cpu0=$(cpu_ticks "$pid")
	fi

	read -r -a j0 < <(cpu_jiffies)
	k0=$(kthread_ticks)
	workload_cmd "$wl"
	out=$("${CMD[@]}" 2>>"$err")
	k1=$(kthread_ticks)
	read -r -a j1 < <(cpu_jiffies)
	last=$(tail -n 1 <<<"$out")

	if [ -n "$pid" ]; then
		cpu1=$(cpu_ticks "$pid")
		hwm=$(vm_hwm_kb "$pid")
		if [ -n "$stats" ]; then
			for id in $(prog_ids "$pid"); do
				bpftool prog show id "$id" --json 2>/dev/null |
					jq -r --arg r "$round" --arg w "$wl" --arg c "$cfg" \
						'[$r, $w, $c, .name, (.run_cnt // 0), (.run_time_ns // 0)] | @tsv'
			done >>"$tmp_progs"
		fi
		kill -INT "$pid"
		t=$((SECONDS + STOP_TIMEOUT))
		while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$t" ]; do
			sleep 0.05
		done
		if kill -0 "$pid" 2>/dev/null; then
			note "round $round $wl $cfg: tracer ignored SIGINT for ${STOP_TIMEOUT}s, killing"
			kill -KILL "$pid"
			status=killed
		fi
		wait "$pid"
		rc=$?
		[ "$status" = ok ] && [ "$rc" != 0 ] && status=exit-$rc
		TRACER_PID=
		[ -n "$stats" ] && sysctl -qw kernel.bpf_stats_enabled="$STATS_ORIG"
		lost=$(lost_events "$cfg" "$err")
	fi

	case $wl in
	churn*) value=$(field rate "$last"); units=$(field conns "$last") ;;
	bulk) value=$(field gbps "$last"); units=$(field bytes "$last") ;;
	esac
	errors=$(field errors "$last")
	secs=$(field secs "$last")
	wcpu=$(field cpu "$last")
	# Background: CPU used during the run by neither the workload, the
	# tracer process nor kernel threads (i.e. other processes), and steal;
	# both in % of the machine.
	A_BG=$(awk -v b=$((j1[0] - j0[0])) -v k=$((k1 - k0)) -v hz="$CLK_TCK" \
		-v w="${wcpu:-0}" -v t=$((cpu1 - cpu0)) -v s="${secs:-0}" -v n="$NCPU" \
		'BEGIN { x = s ? 100 * ((b - k - t) / hz - w) / (s * n) : 0
			 printf "%.1f", x < 0 ? 0 : x }')
	steal=$(awk -v j=$((j1[1] - j0[1])) -v hz="$CLK_TCK" -v s="${secs:-0}" \
		-v n="$NCPU" 'BEGIN { printf "%.1f", s ? 100 * j / hz / (s * n) : 0 }')
	if [ -z "$value" ]; then
		status=workload-failed
		note "round $round $wl $cfg: workload failed: $last"
	elif [ "${errors:-0}" != 0 ] && [ "$status" = ok ]; then
		status=workload-errors
	fi
	# round wl cfg value units secs cpu_ticks hwm_kb lost status bg steal kthreads
	A_LINE=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' \
		"$round" "$wl" "$cfg" "$value" "$units" "$secs" $((cpu1 - cpu0)) \
		"$hwm" "$lost" "$status" "$A_BG" "$steal" $((k1 - k0)))
	printf 'bench: round %s %-5s %-10s %10s %s  (background %s%%, steal %s%%)%s\n' \
		"$round" "$wl" "$cfg" "${value:--}" \
		"$([ "$wl" = bulk ] && echo Gbit/s || echo conn/s)" "$A_BG" "$steal" \
		"$([ "$status" = ok ] || echo " [$status]")" >&2
}

# run_one ROUND WORKLOAD CONFIG: a run, repeated (up to BG_RETRIES times)
# while other processes took more than BG_MAX % of the machine during it;
# the last attempt is kept, marked "noisy" if it is still over.
run_one() {
	local n=0
	while :; do
		attempt "$@"
		awk -v b="$A_BG" -v m="$BG_MAX" 'BEGIN { exit !(b > m) }' || break
		if [ "$n" -ge "$BG_RETRIES" ]; then
			A_LINE=$(awk -F'\t' -v OFS='\t' '$10 == "ok" { $10 = "noisy" } 1' <<<"$A_LINE")
			break
		fi
		n=$((n + 1))
		note "round $1 $2 $3: ${A_BG}% background, repeating ($n/$BG_RETRIES)"
	done
	echo "$A_LINE" >>"$RESULTS"
	cat "$tmp_progs" >>"$PROGS"
}

# ---------------------------------------------------------------- run

if [ -z "$REPORT_ONLY" ]; then
configs=()
for c in $CONFIGS; do
	case $c in
	none | tcpstates | tcplife) configs+=("$c") ;;
	tt | tt_nomatch) [ -n "$HAVE_TT" ] && configs+=("$c") ;;
	tt_noout) [ -n "$HAVE_NOOUT" ] && configs+=("$c") ;;
	*) die "unknown config '$c'" ;;
	esac
done
for w in $WORKLOADS; do
	case $w in churn | churn_tw | bulk) ;; *) die "unknown workload '$w'" ;; esac
done
case $ORDER in fixed | rotate) ;; *) die "ORDER must be fixed or rotate" ;; esac

for p in "$CHURN_PORT" "$BULK_PORT"; do
	if grep -qi ":$(printf '%04X' "$p") 00000000:0000 0A" /proc/net/tcp; then
		die "port $p is already listening"
	fi
done

BUSY_BEFORE=$(cpu_busy_pct 1)
[ "$BUSY_BEFORE" -le 10 ] ||
	note "warning: the machine is ${BUSY_BEFORE}% busy before starting; results will be noisy"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
workload_cmd churn
H_CHURN="${CMD[*]##*/}"
workload_cmd churn_tw
H_CHURN_TW="${CMD[*]##*/}"
workload_cmd bulk
H_BULK="${CMD[*]##*/}"
# What the report needs, so that REPORT_ONLY=1 can redo it from $OUT.
declare -p START BUSY_BEFORE LOAD_BEFORE TT_VERSION HAVE_TT HAVE_NOOUT TRACER_NOOUT ROUNDS SECS \
	WORKLOADS BPF_STATS_FOR BG_MAX H_CHURN H_CHURN_TW H_BULK TRACER ORDER \
	TRACER_STDOUT >"$META"

printf 'round\tworkload\tconfig\tvalue\tunits\tsecs\tcpu_ticks\thwm_kb\tlost\tstatus\tbg_pct\tsteal_pct\tkthread_ticks\n' >"$RESULTS"
tmp_progs=$(mktemp)
printf 'round\tworkload\tconfig\tprog\trun_cnt\trun_time_ns\n' >"$PROGS"

note "ROUNDS=$ROUNDS SECS=$SECS workloads: $WORKLOADS; configs: ${configs[*]}"
# An unmeasured run of each workload first: the first run after a pause
# is consistently slower (caches, TIME_WAIT tables, CPU frequency).
if [ "$WARMUP" != 0 ]; then
	note "warm-up: ${WARMUP}s of each workload, not measured"
	for w in $WORKLOADS; do
		workload_cmd "$w"
		for ((i = 0; i < ${#CMD[@]}; i++)); do
			[ "${CMD[i]}" = -d ] && CMD[i + 1]=$WARMUP
		done
		"${CMD[@]}" >/dev/null 2>&1 || note "warm-up $w failed"
	done
fi
nc=${#configs[@]}
for ((r = 1; r <= ROUNDS; r++)); do
	for w in $WORKLOADS; do
		for ((i = 0; i < nc; i++)); do
			if [ "$ORDER" = rotate ]; then
				run_one "$r" "$w" "${configs[(i + r - 1) % nc]}"
			else
				run_one "$r" "$w" "${configs[i]}"
			fi
		done
	done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
declare -p LOAD_AFTER >>"$META"
# Per-program costs, from runs of their own (status "profile").
profiled=""
for c in $BPF_STATS_FOR; do
	case " ${configs[*]} " in *" $c "*) profiled="$profiled $c" ;; esac
done
if [ -n "$profiled" ]; then
	note "profile: one more run of each workload with$profiled, kernel.bpf_stats_enabled=1 (not in the ratios)"
	for w in $WORKLOADS; do
		for c in $profiled; do
			attempt profile "$w" "$c"
			awk -F'\t' -v OFS='\t' '$10 == "ok" || $10 == "workload-errors" { $10 = "profile" } 1' \
				<<<"$A_LINE" >>"$RESULTS"
			cat "$tmp_progs" >>"$PROGS"
		done
	done
fi
fi	# REPORT_ONLY

# shellcheck source=/dev/null
. "$META"

# ---------------------------------------------------------------- report

# stats FILE: "median min max n" of the numbers in FILE.
stats() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (!NR) { print "- - - 0"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR], NR }'
}

label() {
	case $1 in
	none) echo "no tracer" ;;
	tcpstates) echo "libbpf-tools \`tcpstates\`" ;;
	tcplife) echo "libbpf-tools \`tcplife\`" ;;
	tt) echo "tcptimeline, no filter" ;;
	tt_noout) echo "tcptimeline, no filter, output compiled out (bench build)" ;;
	tt_nomatch) echo "tcptimeline \`-P 1\` (matches nothing)" ;;
	esac
}

tmp=$(mktemp -d)
{
	echo "### tcptimeline overhead ($START)"
	echo
	echo "Kernel $(uname -r), $(nproc) CPUs, $ROUNDS interleaved rounds ($ORDER order) of ${SECS} s per workload and tracer."
	echo "churn: \`$H_CHURN\` (server closes first; CPU-bound);"
	echo "churn_tw: \`$H_CHURN_TW\` (client closes first; capped by TIME_WAIT port reuse, DESIGN.md's setup);"
	echo "bulk: \`$H_BULK\` (one stream of small writes; -C: sender,receiver CPU)."
	[ -z "$TT_VERSION" ] || echo "tcptimeline: $TT_VERSION."
	echo "Tracers unpinned, their stdout to \`${TRACER_STDOUT:-/dev/null}\`. Machine ${BUSY_BEFORE}% busy before the run;" \
		"load average before $LOAD_BEFORE, after $LOAD_AFTER."
	echo
	echo "| workload | tracer | median | min–max | ratio | per-round ratios | tracer CPU | peak RSS | lost events |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for w in $WORKLOADS; do
		base=""
		for c in none tcpstates tcplife tt tt_noout tt_nomatch; do
			awk -F'\t' -v w="$w" -v c="$c" \
				'NR > 1 && $2 == w && $3 == c && $10 ~ /^(ok|workload-errors)$/ { print $4 }' \
				"$RESULTS" >"$tmp/v"
			n_all=$(awk -F'\t' -v w="$w" -v c="$c" 'NR > 1 && $2 == w && $3 == c && $1 != "profile"' "$RESULTS" | wc -l)
			if [ "$n_all" = 0 ]; then
				case $c in
				tt | tt_nomatch)
					[ -z "$HAVE_TT" ] &&
						echo "| $w | $(label "$c") | skipped: \`$TRACER\` not built | | | | | | |" ;;
				tt_noout)
					[ -z "$HAVE_NOOUT" ] &&
						echo "| $w | $(label "$c") | skipped: \`$TRACER_NOOUT\` not built | | | | | | |" ;;
				esac
				continue
			fi
			read -r med min max n < <(stats "$tmp/v")
			[ "$c" = none ] && base=$med
			if [ "$n" = 0 ]; then
				echo "| $w | $(label "$c") | no usable run of $n_all (failed or noisy) | | | | | | |"
				continue
			fi
			# tracer CPU (from readiness to just before SIGINT):
			# churn: ms per 1000 connections; bulk: ms per second.
			cpu=$(awk -F'\t' -v w="$w" -v c="$c" -v hz="$CLK_TCK" '
				NR > 1 && $2 == w && $3 == c && $10 ~ /^(ok|workload-errors)$/ {
					t += $7 / hz; u += $5; s += $6 }
				END {
					if (c == "none") { print "–"; exit }
					if (w ~ /^churn/) printf "%.2f ms / 1000 conns", u ? 1e6 * t / u : 0
					else printf "%.1f%% of a CPU", s ? 100 * t / s : 0 }' "$RESULTS")
			rss=$(awk -F'\t' -v w="$w" -v c="$c" '
				NR > 1 && $2 == w && $3 == c && $8 != "" { if ($8 > m) m = $8 }
				END { if (m) printf "%.1f MiB", m / 1024; else print "–" }' "$RESULTS")
			lost=$(awk -F'\t' -v w="$w" -v c="$c" '
				NR > 1 && $2 == w && $3 == c {
					if ($9 == "?") q = 1; else s += $9 }
				END { if (c == "none") print "–"; else if (q) print "not reported"; else print s + 0 }' "$RESULTS")
			noisy=$(awk -F'\t' -v w="$w" -v c="$c" 'NR > 1 && $2 == w && $3 == c && $10 == "noisy"' "$RESULTS" | wc -l)
			fails=$((n_all - n - noisy))
			note_s=""
			[ "$noisy" -gt 0 ] && note_s=" ($noisy noisy runs left out)"
			[ "$fails" -gt 0 ] && note_s="$note_s ($fails failed)"
			errs=$(awk -F'\t' -v w="$w" -v c="$c" 'NR > 1 && $2 == w && $3 == c && $10 == "workload-errors"' "$RESULTS" | wc -l)
			[ "$errs" -gt 0 ] && note_s="$note_s ($errs with workload errors)"
			unit=$([ "$w" = bulk ] && echo "Gbit/s" || echo "conn/s")
			fmt=$([ "$w" = bulk ] && echo "%.3f" || echo "%.0f")
			ratio=$(awk -v m="$med" -v b="$base" 'BEGIN {
				if (b == "" || b == "-" || b == 0) print "–"; else printf "%.3f", m / b }')
			# Ratio of each round's run to the same round's no-tracer run.
			rr=$(awk -F'\t' -v w="$w" -v c="$c" '
				NR > 1 && $2 == w && $10 ~ /^(ok|workload-errors)$/ {
					if ($3 == "none") b[$1] = $4; else if ($3 == c) v[$1] = $4 }
				END {
					if (c == "none") { print "–"; exit }
					for (r in v) if ((r in b) && b[r] > 0) {
						x = v[r] / b[r]; n++
						if (n == 1 || x < lo) lo = x
						if (n == 1 || x > hi) hi = x }
					if (n) printf "%.3f–%.3f", lo, hi; else print "–" }' "$RESULTS")
			printf "| %s | %s%s | $fmt %s | $fmt–$fmt | %s | %s | %s | %s | %s |\n" \
				"$w" "$(label "$c")" "$note_s" "$med" "$unit" "$min" "$max" \
				"$ratio" "$rr" "$cpu" "$rss" "$lost"
		done
	done
	echo
	echo "Ratio: median with the tracer / median with no tracer, same workload; per-round"
	echo "ratios: each round's run / that round's no-tracer run, lowest–highest."
	case " $WORKLOADS " in *" churn_tw "*)
		echo
		echo "churn_tw's no-tracer rate is a ceiling set by recycling TIME_WAIT ports"
		echo "(net.ipv4.tcp_tw_reuse_delay), not by CPU: a tracer whose cost fits in the CPU"
		echo "that connect()'s port search would otherwise burn shows ~1.0 there. churn is"
		echo "CPU-bound and shows the full cost." ;;
	esac
	echo
	echo "Tracer CPU: the tracer process's utime+stime from readiness to just before SIGINT"
	echo "(BPF programs run in the traced context and are not included; see below)."
	echo "Peak RSS: the largest VmHWM over its runs. Lost events: summed over its runs"
	echo "(tcptimeline: its \`lost events: N\` exit line; anchors: libbpf-tools'"
	echo "\`lost N events on CPU #C\` lines, which they print only when the perf buffer overflows)."
	echo
	awk -F'\t' -v q="$BG_MAX" 'NR > 1 && $11 != "" {
			n++; b[n] = $11 + 0; if ($10 == "noisy") k++
			if ($12 + 0 > st) st = $12 + 0 }
		END {
			if (!n) exit
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
				if (b[j] < b[i]) { t = b[i]; b[i] = b[j]; b[j] = t }
			printf "Other processes (neither the workload, the tracer nor kernel threads) used a median %.1f%% (max %.1f%%) of the machine during the kept runs; runs over %d%% were repeated, %d stayed over and are left out; max steal %.1f%%.\n",
				n % 2 ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2, b[n], q, k, st
		}' "$RESULTS"

	if [ "$(wc -l <"$PROGS")" -gt 1 ]; then
		echo
		echo "BPF programs, from one more run of each workload per tracer after the rounds, with"
		echo "kernel.bpf_stats_enabled=1 (its clock reads add to each program run, so these runs are"
		echo "not in the ratios above); counts cover the tracer's whole life, dominated by the"
		echo "workload; the tracepoint's own dispatch cost is not included:"
		echo
		echo "| workload | tracer | program | runs per conn (churn) / per s (bulk) | avg ns per run | BPF time: ns per conn (churn) / % of a CPU (bulk) |"
		echo "| --- | --- | --- | ---: | ---: | ---: |"
		for w in $WORKLOADS; do
			for c in $BPF_STATS_FOR; do
				awk -F'\t' -v w="$w" -v c="$c" \
					'NR > 1 && $2 == w && $3 == c && $10 == "profile" {
						u += $5; s += $6 } END { print u + 0, s + 0 }' \
					"$RESULTS" >"$tmp/u"
				read -r units secs <"$tmp/u"
				# Only the profile runs that completed.
				awk -F'\t' -v w="$w" -v c="$c" -v u="$units" -v s="$secs" -v lab="$(label "$c")" '
					FNR == NR { if ($10 == "profile") keep[$1 SUBSEP $2 SUBSEP $3] = 1; next }
					FNR > 1 && $2 == w && $3 == c && (($1, $2, $3) in keep) {
						if (!($4 in cnt)) order[++n] = $4
						cnt[$4] += $5; ns[$4] += $6 }
					END {
						for (i = 1; i <= n; i++) {
							p = order[i]; tc += cnt[p]; tn += ns[p]
							if (cnt[p]) line(p, cnt[p], ns[p]); else idle = idle " " p
						}
						if (n > 1) line("all", tc, tn)
						if (idle != "")
							printf "| %s | %s | (never ran:%s) | | | |\n", w, lab, idle
					}
					function line(p, k, t,   per, tot) {
						if (w ~ /^churn/) {
							per = u ? sprintf("%.2f", k / u) : "–"
							tot = u ? sprintf("%.0f ns", t / u) : "–"
						} else {
							per = s ? sprintf("%.0f", k / s) : "–"
							tot = s ? sprintf("%.1f%%", 100 * t / 1e9 / s) : "–"
						}
						printf "| %s | %s | %s | %s | %s | %s |\n", w, lab,
							p == "all" ? "**all**" : "`" p "`", per,
							k ? sprintf("%.0f", t / k) : "–", tot
					}' "$RESULTS" "$PROGS"
			done
		done
	fi
} >"$tmp/report"
cp "$tmp/report" "$REPORT"
cat "$REPORT"
rm -rf "$tmp"
note "report: $REPORT; raw: $RESULTS, $PROGS, $LOGS/"
