#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Runs one demo scenario end to end on loopback:
#   src/demo/run-scenario.sh SCENARIO [--fast] [-6] [-p PORT]
# Starts demo-server in the background, waits for its readiness line
# ("demo-server: listening on PORT", read through a fifo: no sleep), runs
# demo-client, waits for both. Exit status: 0 when both sides saw what the
# scenario expects, otherwise the first non-zero status (server's first).
# DEMO_BIN_DIR overrides where the binaries are (default .output/demo).
set -u

usage() { echo "usage: $0 SCENARIO [--fast] [-6] [-p PORT]" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
bindir=${DEMO_BIN_DIR:-$here/../../.output/demo}
server=$bindir/demo-server
client=$bindir/demo-client

scenario=
opts=()
while [ $# -gt 0 ]; do
	case $1 in
	--fast|-6) opts+=("$1") ;;
	-p) [ $# -ge 2 ] || usage; opts+=(-p "$2"); shift ;;
	-h|--help) usage ;;
	-*) echo "$0: unknown option '$1'" >&2; exit 2 ;;
	*) [ -z "$scenario" ] || usage; scenario=$1 ;;
	esac
	shift
done
[ -n "$scenario" ] || usage
for b in "$server" "$client"; do
	[ -x "$b" ] || { echo "$0: $b not built (make demo-bins)" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-scenario.XXXXXX") || exit 1
fifo=$tmp/server.out
mkfifo "$fifo" || exit 1
spid='' cpid='' catpid=''
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	for p in $cpid $spid $catpid; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$(date +%s.%N)
"$server" ${opts[@]+"${opts[@]}"} "$scenario" >"$fifo" &
spid=$!
exec 3<"$fifo"

# Forward the server's lines until it says it listens (or it exits: in
# "refused" it exits at once, having nothing to listen for).
ready=0
while IFS= read -r line <&3; do
	printf '%s\n' "$line"
	case $line in "demo-server: listening on "*) ready=1; break ;; esac
done
# the rest of the server's output, as it comes
cat <&3 &
catpid=$!
exec 3<&-

sstatus=
if [ $ready = 0 ]; then
	wait "$spid"; sstatus=$?; spid=
	if [ "$sstatus" != 0 ]; then
		wait "$catpid"; catpid=
		echo "run-scenario: $scenario: demo-server failed (exit $sstatus) before listening" >&2
		exit "$sstatus"
	fi
fi

"$client" ${opts[@]+"${opts[@]}"} "$scenario" &
cpid=$!
wait "$cpid"; cstatus=$?; cpid=
if [ -z "$sstatus" ]; then
	wait "$spid"; sstatus=$?; spid=
fi
wait "$catpid"; catpid=

end=$(date +%s.%N)
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
status=0
[ "$sstatus" = 0 ] || status=$sstatus
[ "$status" != 0 ] || [ "$cstatus" = 0 ] || status=$cstatus
if [ $status = 0 ]; then verdict=ok; else verdict=FAILED; fi
echo "run-scenario: $scenario $verdict in ${elapsed} s (demo-server exit $sstatus, demo-client exit $cstatus)"
exit $status
