#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Records the event sequences the ladder golden tests replay (root, real kernel):
#   tests/unit/golden/record.sh [SCENARIO...]     (default: every scenario)
# For each scenario, tcptimeline --json on PORT (default 9000) while it runs,
# written to tests/unit/golden/SCENARIO.jsonl:
#   - the demo scenarios: src/demo/run-scenario.sh SCENARIO --fast
#   - server-first-fw2: the server closes first and the client only 0.2 s
#     later, so its delayed ACK of the server's FIN leaves alone and the
#     server's orphan is handed to a timewait socket in FIN_WAIT2 (peer.py)
#   - fin-wait2-dropped: the client sets TCP_LINGER2 -1 and closes; the
#     server ACKs its FIN late (delayed ACK): the client's socket is dropped
#     in FIN_WAIT2 and its kernel answers that ACK with a reset (peer.py)
# The test (tests/unit/test_ladder.c) reads them as `tcptimeline -r` does.
# Then regenerate the diagrams with `UPDATE_GOLDEN=1 .output/unit/test_ladder`
# and read every diff. Hold /tmp/tt-root.lock on a shared machine.
set -eu
cd "$(dirname "$0")/../../.."
port=${PORT:-9000}
demo="normal server-first client-exit kill-client kill-server-idle keepalive refused half-close"
scenarios=${*:-$demo server-first-fw2 fin-wait2-dropped}
peer=tests/integration/peer.py
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tt-record.XXXXXX")
tp=''
# never leave a tracer behind (it would hold the caller's lock, too)
trap '[ -n "$tp" ] && kill -INT "$tp" 2>/dev/null; rm -rf "$tmp"' EXIT

# until the line, printed by the process writing file (no sleep)
wait_line() { tail -n +1 -f --pid="$1" "$2" | grep -q -m1 "$3"; }

# the scenario's peers, server first (ready once it listens)
peers() {
	local srv=$1 cli=$2 spid
	: >"$tmp/srv.out"
	python3 "$peer" server "$port" "$srv" >"$tmp/srv.out" &
	spid=$!
	wait_line $spid "$tmp/srv.out" '^listening'
	python3 "$peer" client "$port" "$cli" >"$tmp/cli.out"
	wait $spid
	! grep -h ' err ' "$tmp/srv.out" "$tmp/cli.out"
}

# every connection that changed state has closed in the recording: its last
# events are in (the tracer drains what is left when it stops)
all_closed() {
	python3 - "$1" <<-'EOF'
	import json, sys
	evs = []
	for line in open(sys.argv[1]):
	    try:
	        evs.append(json.loads(line))
	    except ValueError:
	        pass  # a line still being written
	changed = {e["conn"] for e in evs if e["event"] == "state"}
	closed = {e["conn"] for e in evs if e["event"] == "close"}
	sys.exit(0 if changed and changed <= closed else 1)
	EOF
}

for sc in $scenarios; do
	out=tests/unit/golden/$sc.jsonl
	: >"$tmp/err"
	./tcptimeline --json -P "$port" >"$out" 2>"$tmp/err" &
	tp=$!
	wait_line $tp "$tmp/err" '^tcptimeline: tracing'
	case $sc in
	server-first-fw2)
		peers "accept; recv 29; send 4; close" \
		      "connect; send 29; recv 4; recv_eof; idle 0.2; close" ;;
	fin-wait2-dropped)
		peers "accept; quickack_off; recv 10; recv_eof; idle 0.2; close" \
		      "connect; linger2 -1; send 10; close" ;;
	*)
		src/demo/run-scenario.sh "$sc" --fast -p "$port" >/dev/null ;;
	esac
	for _ in $(seq 100); do
		all_closed "$out" && break
		sleep 0.05
	done
	kill -INT $tp
	wait $tp
	tp=''
	all_closed "$out" || { echo "$out: a connection did not close" >&2; exit 1; }
	echo "recorded $out ($(wc -l <"$out") events)"
done
