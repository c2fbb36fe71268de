#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make check-asan: the unit binaries and the integration suite (root) built
# with AddressSanitizer + UBSan (tests/check-asan.sh OUTDIR). Sanitizer
# reports go to files, so one from a tracer the integration suite killed or
# whose stderr a test did not read is still counted; any report fails the
# run. Ends with `N passed, N failed`.
set -u
cd "$(dirname "$0")/.." || exit 1
out=${1:-.output/asan}
reports=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$reports" "$log"' EXIT
export ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan:abort_on_error=0"
# tests whose subject the sanitizer itself changes (RSS) skip with TT_ASAN=1
export TT_ASAN=1
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$reports/ubsan"
passed=0
failed=0

echo "== unit tests (ASan + UBSan)"
for t in "$out"/unit/test_*; do
	case "$t" in *.d) continue ;; esac
	if "$t" >"$log" 2>&1; then
		passed=$((passed + 1))
		echo "PASS $(basename "$t")"
	else
		failed=$((failed + 1))
		cat "$log"
		echo "FAIL $(basename "$t")"
	fi
done

echo "== integration tests (ASan + UBSan tracer, kernel $(uname -r))"
if [ "$(id -u)" -ne 0 ]; then
	echo "FAIL integration: needs root to load BPF programs: run 'sudo make check-asan'"
	failed=$((failed + 1))
else
	python3 tests/integration/run.py --tracer "$out/tcptimeline" >"$log" 2>&1
	cat "$log"
	passed=$((passed + $(grep -c '^PASS ' "$log")))
	failed=$((failed + $(grep -c '^FAIL ' "$log")))
fi

for r in "$reports"/*; do
	[ -e "$r" ] || continue
	echo "FAIL sanitizer report $(basename "$r"):"
	cat "$r"
	failed=$((failed + 1))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
