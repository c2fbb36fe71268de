#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Boot each kernel of the matrix with virtme-ng and run a command inside
# (default: the integration suite). One result line per kernel:
#   vmtest 6.1 (6.1.0-56-amd64): 14 passed, 0 failed, 2 skipped
# Exit status is non-zero if any kernel failed. The slowest kernels start
# first; a kernel whose suite failed boots once more and re-runs only the
# tests that did not pass, and its line names both attempts and any test
# that passed only on the retry (flaky).
#
#   tests/vm/run.sh [KERNEL...] [-- COMMAND]   KERNEL: 5.10 6.1 6.12 7 host
#   KERNELS="6.1 6.12" tests/vm/run.sh
#
# Environment: VM_CMD (command, default tests/integration/run.sh, run from
# the repo root in the guest), VM_TIMEOUT (seconds per kernel, 1800),
# VM_MEMORY (1G), VM_CPUS (2), VM_KVM (auto | 1 | 0), VM_TCG_THREAD
# (single | multi: TCG's threading when KVM is not used), VM_RWDIR (dirs the
# guest may write back to the host, space separated). The guest runs as
# root and sees the host's root filesystem read-only (9p) with throw-away
# overlays on /tmp, /var, /etc, ... and on the repo, so tests may write
# anywhere; nothing reaches the host except through VM_RWDIR. The guest
# reads host files live (9p): don't rebuild the tracer during a run.
#
# Full logs: tests/vm/.cache/logs/KERNEL.log (results) and KERNEL.console.log
# (the guest's kernel console and stderr); table: tests/vm/.cache/matrix.md
set -Eeuo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Never die silently: a failed command under set -e names itself.
# shellcheck disable=SC2154 # _rc is set in the trap's own first command
trap '_rc=$?; [[ $- != *e* ]] || echo "vmtest: error: tests/vm/run.sh line $LINENO: command failed (exit $_rc)" >&2' ERR

sel=()
cmd=${VM_CMD:-}
while [ $# -gt 0 ]; do
	if [ "$1" = -- ]; then
		shift
		cmd="$*"
		break
	fi
	sel+=("$1")
	shift
done
KSEL=$(select_kernels "${sel[@]}")
[ -z "${sel[*]}" ] && [ -z "${KERNELS:-}" ] && KSEL="$KSEL host"
cmd=${cmd:-TT_VM=1 tests/integration/run.sh}
TIMEOUT=${VM_TIMEOUT:-1800}
MEMORY=${VM_MEMORY:-1G}
CPUS=${VM_CPUS:-2}
LOGDIR=$CACHE/logs

command -v vng >/dev/null || die "vng not found; run tests/vm/setup.sh first (make vm-setup)"
cd "$REPO_DIR"
first=${cmd%% *}
[[ $first == *=* ]] || [ -e "$first" ] || command -v "$first" >/dev/null ||
	die "command '$first' not found (relative paths are from $REPO_DIR)"
mkdir -p "$LOGDIR"

vng_base=(vng --cpus "$CPUS" --memory "$MEMORY")
[ "$(id -u)" = 0 ] || vng_base+=(--user root)
vng_base+=(--overlay-rwdir "$REPO_DIR")
for d in ${VM_RWDIR:-}; do vng_base+=(--rwdir "$d"); done

# --- KVM: probe once (bounded: a broken KVM hangs qemu), cache the answer --
kvm_works() {
	case ${VM_KVM:-auto} in 1 | yes) return 0 ;; 0 | no) return 1 ;; esac
	local f=$CACHE/kvm k v
	if [ -s "$f" ]; then [ "$(cat "$f")" = yes ]; return; fi
	if [ ! -w /dev/kvm ]; then
		echo no >"$f"
		return 1
	fi
	v=""
	for k in $KSEL; do
		[ "$k" = host ] && continue
		v=$(installed_release "$k") && [ -n "$v" ] && break
	done
	[ -n "$v" ] || return 1 # nothing to probe with; don't cache
	note "probing KVM (up to 45 s, once; answer cached in $f)"
	if timeout -k 5 45 vng --run "$MODDIR/$v/vmlinuz" --cpus 1 --memory 512M -- true \
		</dev/null >"$CACHE/kvm-probe.log" 2>&1; then
		echo yes >"$f"
	else
		echo no >"$f"
	fi
	note "KVM $(sed 's/yes/works/; s/no/unusable: using TCG (--disable-kvm), slower/' "$f")"
	[ "$(cat "$f")" = yes ]
}
accel=KVM
if ! kvm_works; then
	vng_base+=(--disable-kvm)
	accel="TCG (no KVM)"
	# Multi-threaded TCG (one host thread per vCPU) races with the guest
	# patching its own code across CPUs: seen on 6.12, a jump label flipped
	# while the tracer attaches (call_timer_fn's timer_expire_entry site)
	# left the other vCPU running a stale int3: "Oops: int3", a panic in
	# the timer softirq and a dead guest (vng exit 255). One host thread
	# for both vCPUs keeps the guest's SMP and loses the race. VM_TCG_THREAD=multi
	# to go back.
	# The guest's clocksource watchdog compares the TSC with the HPET; on a
	# loaded host the emulated HPET drifts, the watchdog calls the TSC
	# unstable (seen on 7.2 after ~500 s, and at boot on 5.10: "TSCs
	# unsynchronized") and the guest falls back to the HPET, an emulated
	# MMIO read for every clock read: each BPF program's clock, every
	# syscall's timestamp. After that switch on 7.2 every tracer start
	# timed out. Under TCG the vCPUs' TSCs all come from the host's clock,
	# so they are reliable: say so and keep the TSC.
	# No CPU vulnerability mitigations in a throw-away test guest: under
	# TCG each one (retpolines, RSB filling, buffer clearing on every
	# kernel exit) is emulated instruction by instruction; 7.2 enables the
	# most and ran slowest.
	vng_base+=(--append tsc=reliable --append mitigations=off)
	if [ "${VM_TCG_THREAD:-single}" != multi ]; then
		vng_base+=("--qemu-opts=-accel tcg,thread=single")
		accel="TCG (no KVM, one host thread)"
	fi
fi

# --- host kernel: only when the host is bare metal with a bootable image ---
host_skip_reason() {
	local v
	if v=$(systemd-detect-virt --vm 2>/dev/null) && [ -n "$v" ] && [ "$v" != none ]; then
		echo "host is itself a VM ($v); its kernel is covered by running the suite directly"
		return
	fi
	if grep -qw hypervisor /proc/cpuinfo 2>/dev/null; then
		echo "host is itself a VM (hypervisor cpu flag)"
		return
	fi
	[ -s "/boot/vmlinuz-$(uname -r)" ] || { echo "no /boot/vmlinuz-$(uname -r) to boot"; return; }
	[ -d "$MODDIR/$(uname -r)" ] || { echo "no $MODDIR/$(uname -r)"; return; }
}

# The non-blank lines of a guest's console log, without CRs.
console_lines() { tr -d '\r' <"$1" 2>/dev/null | grep -v '^[[:space:]]*$' || true; }

# "; console: LAST LINE" of a dead guest's console, cut short; nothing if empty.
console_hint() {
	local l
	l=$(console_lines "$1" | grep -v '9p: degraded performance' | tail -n 1 | cut -c1-150 || true)
	[ -z "$l" ] || printf '; console: %s' "$l"
}

# A log's "MARK ..." lines without the mark, one per test, long ones cut.
marked_lines() {
	(grep -E "^$1 " "$2" || true) | sed "s/^$1 //" |
		awk '{ if (length($0) > 120) $0 = substr($0, 1, 117) "..."; print }'
}

# The names of the tests a log says failed, on one line.
failed_names() { (grep -E '^FAIL ' "$1" || true) | sed -E 's/^FAIL ([^: ]*).*/\1/' | tr '\n' ' ' | sed 's/ $//'; }

# The names of the tests a log says passed or were skipped, comma-separated.
done_names() { (grep -E '^(PASS|SKIP) ' "$1" || true) | sed -E 's/^[A-Z]+ ([^: ]*).*/\1/' | tr '\n' ',' | sed 's/,$//'; }

# "N host-only, NAME NAME" for the SKIP lines of the logs given: the tests
# the harness keeps to the host (kernel-independent) counted, the others
# (a feature this kernel lacks) named; nothing if none was skipped.
skip_note() {
	local h o
	h=$(cat "$@" 2>/dev/null | grep -cE '^SKIP [^: ]*: host only' || true)
	o=$(cat "$@" 2>/dev/null | grep -E '^SKIP ' | grep -vE '^SKIP [^: ]*: host only' |
		sed -E 's/^SKIP ([^: ]*).*/\1/' | tr '\n' ' ' | sed 's/ $//' || true)
	[ "$h" = 0 ] || printf '%s host-only' "$h"
	[ "$h" = 0 ] || [ -z "$o" ] || printf ', '
	printf '%s' "$o"
}

# How many tests a log marks PASS, FAIL or SKIP ($1).
count_marked() { grep -cE "^$1 " "$2" || true; }

# A log's last summary line (`N passed, N failed, N skipped`), or nothing.
summary_of() {
	grep -E '^([A-Za-z_-]+: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?[[:space:]]*$' "$1" |
		tail -n1 | sed -E 's/^[A-Za-z_-]+: //; s/[[:space:]]+$//' || true
}

# Markdown-safe cell text.
cell() { [ -z "$1" ] || printf '%s\n' "${1//|/\\|}" | awk 'NR > 1 { printf "; " } { printf "%s", $0 }'; }

results=()   # result lines, printed again at the end
rows=()      # markdown rows
failed=0

run_one() { # $1 slot
	local k=$1 ver vmlinuz log t0 t1 rc summary line why
	log=$LOGDIR/$k.log
	if [ "$k" = host ]; then
		why=$(host_skip_reason)
		ver=$(uname -r)
		if [ -n "$why" ]; then
			line="vmtest host ($ver): SKIPPED ($why)"
			echo "$line"
			results+=("$line")
			rows+=("| host | $ver | skipped: $(cell "$why") | | | |")
			return
		fi
		vmlinuz=/boot/vmlinuz-$ver
	else
		ver=$(installed_release "$k")
		if [ -z "$ver" ]; then
			line="vmtest $k: FAILED (kernel not installed; run tests/vm/setup.sh $k)"
			echo "$line"
			results+=("$line")
			rows+=("| $k | | FAILED: not installed | | | |")
			failed=1
			return
		fi
		vmlinuz=$MODDIR/$ver/vmlinuz
	fi
	{
		echo "# vmtest $k ($ver) $(date -u +%FT%TZ)"
		echo "# ${vng_base[*]} --run $vmlinuz -- $cmd"
	} >"$log"
	t0=$(date +%s)
	local attempt acmd=$cmd first="" passed1="" flaky="" retried="" con=$LOGDIR/$k.console.log
	local log1=$log.attempt1 t2=""
	rm -f "$log1" "$con.attempt1"
	for attempt in 1 2; do
		set +e
		# stdout (the results) to the log; the guest's kernel console (vng
		# --verbose: virtme's --show-boot-console) and
		# stderr to KERNEL.console.log, so a guest that dies says why;
		# line by line (sed -u: tr held the log back in 4 KiB blocks, so
		# a running suite showed nothing for minutes)
		timeout -k 10 "$TIMEOUT" "${vng_base[@]}" --verbose --run "$vmlinuz" \
			-- "$acmd" </dev/null 2>"$con" | sed -u 's/\r//g' >>"$log"
		rc=${PIPESTATUS[0]}
		set -e
		t1=$(date +%s)
		echo "# exit $rc after $((t1 - ${t2:-$t0})) s" >>"$log"
		if [ "$rc" != 0 ]; then
			# the console's last words (a panic, an oops, an OOM kill)
			echo "# last lines of ${con#"$REPO_DIR"/}:" >>"$log"
			console_lines "$con" | tail -n 25 | sed 's/^/# | /' >>"$log"
		fi
		summary=$(summary_of "$log")
		# Under TCG a timing-sensitive test sometimes fails once (seen:
		# normal_exchange on 5.10, once in five runs; tracer starts timing
		# out on a loaded host), and rarely the guest dies midway (vng exit
		# 255). Boot once more and run again only what did not pass: the
		# tests that failed, and those a dead guest never reached (run.py
		# leaves out the names in TT_EXCLUDE). A command that is not the
		# integration suite (no PASS lines), or that failed with every test
		# passing, runs whole again. The result line names what failed the
		# first time and what passed only on the retry (flaky); the first
		# log is kept as KERNEL.log.attempt1.
		if [ "$attempt" = 1 ] && [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$rc" != 137 ]; then
			first=$(failed_names "$log")
			passed1=$(done_names "$log")
			retried="attempt 1 ($((t1 - t0)) s): ${first:-exit $rc}${summary:+, $summary}"
			[ -n "$summary" ] || retried="$retried, no summary$(console_hint "$con")"
			if [ -n "$passed1" ] && { [ -n "$first" ] || [ -z "$summary" ]; }; then
				# the names go in a file the guest reads through the
				# repository's overlay: on the kernel command line
				# (virtme.exec) sixty of them overflowed its 2,048
				# bytes and 6.12 panicked at boot (fortify)
				excl="$CACHE/$k.exclude"
				printf '%s\n' "$passed1" >"$excl"
				acmd="TT_EXCLUDE_FILE=$excl $cmd"
				retried="$retried; attempt 2 re-ran only what did not pass"
			else
				passed1=""
				retried="$retried; attempt 2 re-ran all"
			fi
			mv "$log" "$log1"
			mv "$con" "$con.attempt1"
			{
				echo "# vmtest $k ($ver) attempt 2 $(date -u +%FT%TZ): $retried (${log1#"$REPO_DIR"/})"
				echo "# ${vng_base[*]} --run $vmlinuz -- $acmd"
			} >"$log"
			t2=$t1
			continue
		fi
		break
	done
	if [ -n "$passed1" ] && [ -n "$summary" ]; then
		# a partial re-run: the counts are both attempts' (attempt 1's
		# passes and skips, attempt 2's results for the rest)
		summary="$(($(count_marked PASS "$log1") + $(count_marked PASS "$log"))) passed, $(count_marked FAIL "$log") failed, $(($(count_marked SKIP "$log1") + $(count_marked SKIP "$log"))) skipped"
	fi
	if [ -n "$first" ]; then
		local n
		for n in $first; do
			grep -qE "^PASS $n( |$)" "$log" && flaky="${flaky:+$flaky }$n"
		done
	fi
	[ -z "$retried" ] || retried="$retried (attempt 2: $((t1 - t2)) s)"
	[ -z "$flaky" ] || retried="flaky, passed only on the retry: $flaky; $retried"
	local fails skips snote
	snote=$(if [ -n "$passed1" ]; then skip_note "$log1" "$log"; else skip_note "$log"; fi)
	# Table cells: one line per test, long reasons cut (the log has them whole).
	fails=$(marked_lines FAIL "$log")
	skips=$( ([ -z "$passed1" ] || marked_lines SKIP "$log1") && marked_lines SKIP "$log")
	if [ "$rc" = 0 ] && [ -n "$summary" ]; then
		line="vmtest $k ($ver): $summary${snote:+ ($snote)} [$((t1 - t0)) s${retried:+; $retried}]"
		rows+=("| $k | $ver | $summary${flaky:+; flaky (passed on the retry): $flaky} | $(cell "$skips") | $(cell "$fails") | $((t1 - t0)) s |")
	else
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			why="timeout after $TIMEOUT s"
		elif [ -n "$summary" ]; then
			why="$summary"
		elif grep -q 'cannot find script I/O ports' "$log" "$con"; then
			why="guest init failed (no virtio-serial script I/O; is udev installed on the host?)"
		else
			why="exit $rc, no summary line$(console_hint "$con")"
		fi
		[ -z "$fails" ] || why="$why; failing: $(failed_names "$log")"
		line="vmtest $k ($ver): FAILED ($why) [$((t1 - t0)) s${retried:+; $retried}, log: ${log#"$REPO_DIR"/}]"
		rows+=("| $k | $ver | FAILED: $(cell "$why")${flaky:+; flaky (passed on the retry): $flaky} | $(cell "$skips") | $(cell "$fails") | $((t1 - t0)) s |")
		failed=1
	fi
	echo "$line"
	results+=("$line")
}

# Kernels run VM_PARALLEL at a time (default: 2 under single-threaded TCG,
# where each guest is one host thread, so two fill this machine's two cores;
# 1 with KVM or multi-threaded TCG). Each runs in a subshell that leaves its
# result line and table row in files, collected in the matrix's order.
if [ -n "${VM_PARALLEL:-}" ]; then
	par=$VM_PARALLEL
elif [ "$accel" = "TCG (no KVM, one host thread)" ]; then
	par=2
else
	par=1
fi
[[ $par =~ ^[1-9][0-9]*$ ]] || die "VM_PARALLEL must be a whole number, 1 or more (got '$par')"
SLOTS=$(mktemp -d)
trap 'rm -rf "$SLOTS"' EXIT
run_slot() { # $1 kernel: run_one in this subshell, its results into $SLOTS
	results=()
	rows=()
	failed=0
	run_one "$1" >"$SLOTS/$1.line"
	printf '%s\n' "${rows[@]}" >"$SLOTS/$1.row"
	echo "$failed" >"$SLOTS/$1.failed"
}

# Start the slowest kernels first (SLOWEST_FIRST in lib.sh): with 2 at a
# time the fast ones then fill the gaps at the end instead of the slowest
# one running alone after them. Results stay in the matrix's order.
order=$(launch_order "$KSEL")
note "running '$cmd' on: $KSEL, started as $order ($accel, $CPUS cpus, $MEMORY, timeout ${TIMEOUT} s each, $par at a time)"
running=0
for k in $order; do
	if [ "$running" -ge "$par" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	run_slot "$k" &
	running=$((running + 1))
done
wait || true
for k in $KSEL; do
	if [ -s "$SLOTS/$k.line" ]; then
		cat "$SLOTS/$k.line"
		rows+=("$(cat "$SLOTS/$k.row")")
		[ "$(cat "$SLOTS/$k.failed")" = 0 ] || failed=1
	else
		echo "vmtest $k: FAILED (its run died before a result line; see ${LOGDIR#"$REPO_DIR"/}/$k.log)"
		rows+=("| $k | | FAILED: no result | | | |")
		failed=1
	fi
done

{
	echo "Kernel matrix: \`$cmd\` under virtme-ng ($accel), $(date -u +%F)."
	echo
	echo "| kernel | release | result | skipped (reason) | failed (why) | time |"
	echo "| --- | --- | --- | --- | --- | --- |"
	printf '%s\n' "${rows[@]}"
} >"$CACHE/matrix.md"
note "logs in ${LOGDIR#"$REPO_DIR"/}/, table in ${CACHE#"$REPO_DIR"/}/matrix.md"
exit $failed
