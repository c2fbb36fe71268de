#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Stand-in guest suite: checks the guest has what the tracer's tests need
# (root, BTF, bpffs + bpf syscall, netns, veth, nftables, loopback TCP).
# Prints PASS/FAIL/SKIP lines and "N passed, N failed, N skipped".
set -uo pipefail

pass=0 fail=0 skip=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
sk() { echo "SKIP $1: $2"; skip=$((skip + 1)); }
check() { # name, why-if-failed, command...
	local n=$1 w=$2
	shift 2
	local out
	if out=$("$@" 2>&1); then ok "$n"; else ko "$n" "$w: $(echo "$out" | tail -n1)"; fi
}

echo "guest: kernel $(uname -r), uid $(id -u), $(nproc) cpus, $(awk '/MemTotal/ {print $2 / 1024 " MiB"}' /proc/meminfo)"
check root "not uid 0" test "$(id -u)" = 0
check btf "no /sys/kernel/btf/vmlinux" test -s /sys/kernel/btf/vmlinux

if ! mountpoint -q /sys/fs/bpf; then mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true; fi
check bpffs "/sys/fs/bpf not mounted" mountpoint -q /sys/fs/bpf
if command -v bpftool >/dev/null; then
	check bpf_syscall "bpftool prog list failed" bpftool prog list
	check bpf_btf_dump "bpftool btf dump failed" sh -c 'bpftool btf dump file /sys/kernel/btf/vmlinux format c | grep "struct sock {" >/dev/null'
	# Which of the tracer's tp_btf hooks this kernel has (informational).
	have="" miss=""
	raw=$(bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -o "'btf_trace_[a-z_]*'" | tr -d "'")
	for tp in inet_sock_set_state tcp_send_reset tcp_receive_reset tcp_retransmit_skb \
		tcp_retransmit_synack timer_expire_entry tcp_probe inet_sk_error_report tcp_destroy_sock; do
		if grep -qx "btf_trace_$tp" <<<"$raw"; then have="$have $tp"; else miss="$miss $tp"; fi
	done
	echo "info: tp_btf present:$have"
	echo "info: tp_btf missing:${miss:- none}"
else
	sk bpf_syscall "bpftool not installed"
fi

# TCP across the veth pair: listener in vmt_b, client in vmt_a.
veth_tcp() {
	ip netns exec vmt_b python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.2", 9000)); s.listen(1); s.settimeout(10)
a, _ = s.accept(); a.sendall(a.recv(2))' &
	local srv=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		ip netns exec vmt_a python3 -c '
import socket
c = socket.create_connection(("10.99.0.2", 9000), timeout=5)
c.sendall(b"hi"); assert c.recv(2) == b"hi"' 2>/dev/null && { wait $srv; return; }
		sleep 0.5
	done
	kill $srv 2>/dev/null
	return 1
}

netns_test() {
	ip netns add vmt_a && ip netns add vmt_b &&
		ip link add vmt0 netns vmt_a type veth peer name vmt1 netns vmt_b &&
		ip -n vmt_a addr add 10.99.0.1/24 dev vmt0 && ip -n vmt_b addr add 10.99.0.2/24 dev vmt1 &&
		ip -n vmt_a link set vmt0 up && ip -n vmt_b link set vmt1 up &&
		ip -n vmt_a link set lo up && veth_tcp
	local rc=$?
	ip netns del vmt_a 2>/dev/null
	ip netns del vmt_b 2>/dev/null
	return $rc
}
check netns_veth "netns/veth setup or ping failed" netns_test

nft_test() {
	nft add table inet vmt && nft add chain inet vmt in '{ type filter hook input priority 0; }' &&
		nft add rule inet vmt in tcp dport 9 reject with tcp reset && nft list ruleset | grep 'dport 9' >/dev/null
	local rc=$?
	nft delete table inet vmt 2>/dev/null
	return $rc
}
if command -v nft >/dev/null; then
	check nftables "nft failed" nft_test
else
	sk nftables "nft not installed"
fi

# Loopback TCP round trip (bash /dev/tcp against a python or nc listener).
tcp_test() {
	command -v python3 >/dev/null || return 2
	python3 - <<'EOF'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
c.sendall(b"hi"); assert a.recv(2) == b"hi"
EOF
}
check loopback_tcp "TCP round trip on lo failed" tcp_test

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
