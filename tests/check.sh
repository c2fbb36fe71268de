#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make check: unit tests (cmocka, no kernel), then integration tests (root, the
# running kernel), a smoke run of the benchmark (root), then VM tests if asked
# (VMTEST=1). Ends with `N passed, N failed`.
#
# The VM kernel matrix (two emulated guests, one host thread each) starts in
# the background before the host's suites and is waited for at the end: the
# host's suites spend most of their time waiting on the network and on
# timers, not on the CPU, and run one after another, so running them beside
# the guests saves about their whole time (11 minutes) at the cost of
# guests slowed a little while the host compiles (make deb) or fuzzes.
# VMTEST_OVERLAP=0 runs the matrix after them, alone, as before.
set -u
cd "$(dirname "$0")/.." || exit 1

passed=0
failed=0
log=$(mktemp)
vmlog=$(mktemp)
vmrc=$(mktemp)
vmpid=""
trap 'rm -f "$log" "$vmlog" "$vmrc"' EXIT

# vm_start: set the matrix up (in the foreground: it may install packages,
# and dpkg's lock is the packaging tests' too), then run it in the
# background; its output and exit status go to $vmlog and $vmrc
vm_start() {
	if tests/vm/setup.sh >"$vmlog" 2>&1; then
		{
			tests/vm/run.sh >>"$vmlog" 2>&1
			echo $? >"$vmrc"
		} &
		vmpid=$!
	else
		echo 1 >"$vmrc"
	fi
}

# vm_finish: wait for the matrix, print its output, count its result lines
vm_finish() {
	[ -z "$vmpid" ] || wait "$vmpid"
	cat "$vmlog"
	rc=$(cat "$vmrc")
	p=$(grep -c '^vmtest .*: [0-9]* passed, 0 failed' "$vmlog")
	f=$(grep -c '^vmtest .*: FAILED' "$vmlog")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "${rc:-1}" -ne 0 ] && [ "$f" -eq 0 ]; then
		failed=$((failed + 1))
	fi
}

overlap=0
if [ "${VMTEST:-0}" = 1 ] && [ "${VMTEST_OVERLAP:-1}" = 1 ]; then
	overlap=1
	echo "== VM tests (virtme-ng kernel matrix): started in the background, results at the end"
	vm_start
	# beside the guests the host is loaded: an integration test that fails
	# runs once more after the others (as a guest's retry boot does), and
	# its PASS line says it was flaky and why it failed first
	TT_RETRY=1
	export TT_RETRY
fi

echo "== unit tests (cmocka)"
for t in .output/unit/test_*; do
	case "$t" in *.d) continue ;; esac
	"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$log")
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' "$log")
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	# a binary that crashed before its summary counts as one failure
	if [ "$rc" -ne 0 ] && [ -z "$f" ]; then
		failed=$((failed + 1))
	fi
done

# user_suite NAME CMD...: a suite that prints PASS/FAIL lines; a run that
# fails without a FAIL line counts as one failure
user_suite() {
	shift # NAME is for suite()'s message; the suite's own lines name it
	"$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		failed=$((failed + 1))
	fi
}

# suite NAME CMD...: the same for a suite that needs root
suite() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "FAIL $1: needs root to load BPF programs: run 'sudo make check'"
		failed=$((failed + 1))
		return
	fi
	user_suite "$@"
}

echo "== lint (make lint: shellcheck on the shell scripts, pyflakes on the Python)"
user_suite lint make --no-print-directory lint

echo "== fuzzing (tests/fuzz: kernel records and recordings read back, through the connection table and renderers under libFuzzer + ASan/UBSan, 2 x 10 s)"
user_suite fuzz sh -c 'if make --no-print-directory fuzz FUZZ_SECS=10; then
	echo "PASS fuzz_records, fuzz_jsonl (10 s each, no crash, leak or undefined behaviour)"
else
	echo "FAIL fuzz: the reproducer (crash-*, leak-*) is in .output/fuzz/"
fi'

echo "== benchmark report (tests/bench/report_test.py: a recorded run's report, figure for figure)"
user_suite bench_report python3 tests/bench/report_test.py

echo "== documentation tests (man page, bash completion)"
user_suite docs python3 tests/docs/run.py --tracer ./tcptimeline --man .output/tcptimeline.8

echo "== HTML page tests (xmllint, headless chromium)"
user_suite html python3 tests/html/run.py --tracer ./tcptimeline

echo "== packaging tests (make install, make deb as root, missing build dependencies, --version)"
user_suite pkg python3 tests/pkg/run.py --tracer ./tcptimeline

echo "== integration tests (kernel $(uname -r))"
suite integration python3 tests/integration/run.py

echo "== sanitizers (make check-asan: unit and integration suites, ASan + UBSan build)"
suite asan tests/check-asan.sh .output/asan

echo "== benchmark smoke test (tests/bench: one 1 s round of each run; that it works, not its numbers)"
suite bench_smoke python3 tests/bench/smoke.py tcptimeline .output/bench/tcptimeline-noout

if [ "${VMTEST:-0}" = 1 ]; then
	if [ "$overlap" = 1 ]; then
		echo "== VM tests (virtme-ng kernel matrix, run beside the suites above)"
	else
		echo "== VM tests (virtme-ng kernel matrix)"
		vm_start
	fi
	vm_finish
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
