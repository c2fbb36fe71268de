# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=bash
# Shared helpers for tests/vm/setup.sh and tests/vm/run.sh (sourced).

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # REPO_DIR and CACHE: for the scripts that source this
REPO_DIR=$(cd "$VM_DIR/../.." && pwd)
# shellcheck disable=SC2034
CACHE=${VM_CACHE:-$VM_DIR/.cache}
MODDIR=${VM_MODDIR:-/lib/modules}
ALL_KERNELS="5.10 6.1 6.12 7"
# What make check runs: the whole matrix. 7.x is the slowest under TCG
# (about twice 5.10's time), so run.sh starts it first and a failure costs a
# re-run of the failed tests only, not of the suite.
DEFAULT_KERNELS="5.10 6.1 6.12 7"
# The order tests/vm/run.sh starts them in: slowest first under TCG (the
# suite took 1065 s on 7.2, 922 s on 6.12, 554 s on 6.1, 527 s on 5.10 in one
# loaded clean-clone run), the host (a quick skip, usually) last.
SLOWEST_FIRST="7 6.12 6.1 5.10 host"
MARKER=.tcptimeline-vm   # file in $MODDIR/VER naming the matrix slot

die() { echo "vmtest: error: $*" >&2; exit 1; }
note() { echo "vmtest: $*" >&2; }

# Kernel selection: arguments, else $KERNELS, else all. Accepts "6.1,6.12" too.
select_kernels() {
	local sel="${*:-${KERNELS:-$DEFAULT_KERNELS}}" k out=""
	for k in ${sel//,/ }; do
		case $k in
		5.10 | 6.1 | 6.12 | 7 | host) out="$out $k" ;;
		all) out="$out $ALL_KERNELS" ;;
		*) die "unknown kernel '$k' (choose from: $ALL_KERNELS host)" ;;
		esac
	done
	# shellcheck disable=SC2086 # split and joined again: one space between names
	echo $out
}

# The kernels given, in SLOWEST_FIRST's order.
launch_order() {
	local k out=""
	for k in $SLOWEST_FIRST; do
		case " $* " in *" $k "*) out="$out $k" ;; esac
	done
	# shellcheck disable=SC2086 # joined again: one space between names
	echo $out
}

# ERE a kernel release (uname -r) must match for each slot.
release_re() {
	case $1 in
	5.10) echo '^5\.10\.0-[0-9]+-amd64$' ;;
	6.1) echo '^6\.1\.0-[0-9]+-amd64$' ;;
	6.12) echo '^6\.12\.[0-9]+(\+deb[0-9]+)?-amd64$' ;;
	7) echo '^7\.[0-9]+\.[0-9]+(\+deb[0-9]+)?-amd64$' ;;
	esac
}

# Installed release for a slot (newest with our marker), or nothing.
installed_release() {
	local re d v best=""
	re=$(release_re "$1")
	for d in "$MODDIR"/*/"$MARKER"; do
		[ -e "$d" ] || continue
		d=${d%/"$MARKER"}
		v=${d##*/}
		[[ $v =~ $re ]] || continue
		if [ ! -s "$d/vmlinuz" ] || [ ! -s "$d/modules.dep" ]; then continue; fi
		best="$best $v"
	done
	# shellcheck disable=SC2086 # $best is a list of releases
	[ -n "$best" ] && printf '%s\n' $best | sort -V | tail -n1
	return 0
}
