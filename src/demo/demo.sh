#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `sudo make demo`: the tracer watches every demo scenario and draws each
# connection as a ladder diagram.
#   src/demo/demo.sh [SCENARIO...]        (default: every scenario)
# Starts ./tcptimeline --ladder on the demo ports, waits for its readiness line
# ("tcptimeline: tracing", read through a fifo: no sleep), runs each scenario
# with --fast keepalives (scenario i on port 9000+i, so no TIME_WAIT is in the
# way), prints what the applications saw and then the tracer's diagram of it,
# and stops the tracer with SIGINT. Exit status: 0 when every scenario behaved
# as expected and a diagram was drawn for each.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tracer=${TRACER:-$root/tcptimeline}
base=${DEMO_PORT:-9000}
all="normal server-first client-exit kill-client kill-server-idle keepalive refused half-close"
scenarios=${*:-$all}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: loading BPF programs needs root: run 'sudo make demo'" >&2
	exit 2
fi
for sc in $scenarios; do
	case " $all " in
	*" $sc "*) ;;
	*) echo "demo: unknown scenario '$sc' (one of: $all)" >&2; exit 2 ;;
	esac
done
n=$(echo "$scenarios" | wc -w)
last=$((base + n - 1))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcptimeline-demo.XXXXXX") || exit 1
mkfifo "$tmp/out" "$tmp/err" || exit 1
tpid='' errpid=''
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	[ -n "$tpid" ] && kill -INT "$tpid" 2>/dev/null
	[ -n "$errpid" ] && kill "$errpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$tracer" --ladder -P "$base-$last" >"$tmp/out" 2>"$tmp/err" &
tpid=$!
exec 3<"$tmp/out" 4<"$tmp/err"
ready=0
while IFS= read -r line <&4; do
	case $line in
	"tcptimeline: tracing"*) echo "$line"; ready=1; break ;;
	*) echo "$line" >&2 ;;
	esac
done
if [ $ready = 0 ]; then
	wait "$tpid"
	echo "demo: the tracer did not start (exit $?)" >&2
	tpid=''
	exit 1
fi
cat <&4 >"$tmp/err.log" &
errpid=$!
exec 4<&-

# Copy the tracer's lines until one diagram is complete (its summary, then a
# blank line). 30 s at most: a diagram is drawn ~0.1 s after both ends close.
one_ladder() {
	local line summary=0
	while IFS= read -r -t 30 line <&3; do
		printf '%s\n' "$line"
		case $line in
		"  closed after "*|"  still open after "*) summary=1 ;;
		"") [ $summary = 1 ] && return 0 ;;
		esac
	done
	echo "demo: no diagram from the tracer within 30 s" >&2
	return 1
}

status=0
port=$base
echo
for sc in $scenarios; do
	echo "=== $sc: $("$root/.output/demo/demo-client" --help 2>&1 | sed -n "s/^  $sc  *//p")"
	"$here/run-scenario.sh" "$sc" --fast -p "$port" | sed 's/^/    /'
	[ "${PIPESTATUS[0]}" = 0 ] || status=1
	echo
	one_ladder || status=1
	port=$((port + 1))
done

kill -INT "$tpid"
# anything still held or open is drawn at exit
cat <&3
wait "$tpid" || status=1
tpid=''
wait "$errpid"
errpid=''
cat "$tmp/err.log"
exit $status
