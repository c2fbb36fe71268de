#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Records the event sequences the ladder golden tests replay (root, real kernel):
#   tests/unit/golden/record.sh [SCENARIO...]     (default: every demo scenario)
# For each scenario: tcptimeline --json around src/demo/run-scenario.sh SCENARIO
# --fast, written to tests/unit/golden/SCENARIO.jsonl. Then regenerate the
# diagrams with `UPDATE_GOLDEN=1 .output/unit/test_ladder` and read them.
set -eu
cd "$(dirname "$0")/../../.."
port=${PORT:-9000}
scenarios=${*:-normal server-first client-exit kill-client kill-server-idle keepalive refused half-close}
for sc in $scenarios; do
	out=tests/unit/golden/$sc.jsonl
	err=$(mktemp)
	./tcptimeline --json -P "$port" >"$out" 2>"$err" &
	tp=$!
	# the readiness line, no sleep
	tail -f --pid=$tp "$err" | grep -q -m1 '^tcptimeline: tracing'
	src/demo/run-scenario.sh "$sc" --fast -p "$port" >/dev/null
	# the socket left in TIME_WAIT closes no later; the last events drain in a tick
	sleep 0.3
	kill -INT $tp
	wait $tp
	rm -f "$err"
	echo "recorded $out ($(wc -l <"$out") events)"
done
