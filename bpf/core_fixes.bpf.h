/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every difference between kernels the BPF side cares about, in one place.
 * tp_btf programs read the raw tracepoint arguments, so most trace-event
 * format changes (the tcp `family` field in 5.12, the saddr/daddr layout)
 * never reach us. What is left is the number of arguments, checked here with
 * CO-RE on the trace-event structs that carry them, never on a kernel version.
 * A branch on one of these constants is removed by the verifier on kernels
 * where it is false, so reading ctx[2] behind it is safe on a 2-argument
 * tracepoint.
 */
#ifndef CORE_FIXES_BPF_H
#define CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/* 6.10, the "rstreason" series: tcp_send_reset(sk, skb, reason) with
 * enum sk_rst_reason; real reasons for active resets from 6.12.
 * Before: tcp_send_reset(sk, skb). */
struct trace_event_raw_tcp_send_reset___x {
	int reason;
} __attribute__((preserve_access_index));

static __always_inline bool tcp_send_reset_has_reason(void)
{
	return bpf_core_field_exists(struct trace_event_raw_tcp_send_reset___x, reason);
}

/* 6.17: tcp_retransmit_skb became its own event with an `err` argument and
 * fires for failed retransmits too: tcp_retransmit_skb(sk, skb, err). */
struct trace_event_raw_tcp_retransmit_skb___x {
	int err;
} __attribute__((preserve_access_index));

static __always_inline bool tcp_retransmit_skb_has_err(void)
{
	return bpf_core_field_exists(struct trace_event_raw_tcp_retransmit_skb___x, err);
}

/* 5.17, commit c504e5c2f964 ("net: skb: introduce kfree_skb_reason()"):
 * kfree_skb(skb, location, reason); before: kfree_skb(skb, location).
 * 6.11 appended the receiving socket (rx_sk, commit c53795d48ee8). The
 * local field is the kernel's enum: CO-RE matches an enum field only against an enum. */
struct trace_event_raw_kfree_skb___x {
	enum skb_drop_reason reason;
} __attribute__((preserve_access_index));

static __always_inline bool kfree_skb_has_reason(void)
{
	return bpf_core_field_exists(struct trace_event_raw_kfree_skb___x, reason);
}

/* 6.11, the receiving socket as kfree_skb's fourth argument (rx_sk). */
struct trace_event_raw_kfree_skb___rxsk {
	void *rx_sk;
} __attribute__((preserve_access_index));

static __always_inline bool kfree_skb_has_rx_sk(void)
{
	return bpf_core_field_exists(struct trace_event_raw_kfree_skb___rxsk, rx_sk);
}

/* 5.6, commit bf9765145b85 ("sock: Make sk_protocol a 16-bit value"): before
 * that sk_protocol was a bitfield. Our minimum (5.8, ring buffer) is past it,
 * so a plain load is enough (sk must be a tracepoint argument); kept here so
 * the assumption is written down. */
static __always_inline __u16 sk_protocol_of(const struct sock *sk)
{
	return sk->sk_protocol;
}

/* tcp_skb_cb.tcp_flags grew from __u8 to __u16 (the AccECN preparation
 * series; a __u8 on Debian's 5.10, 6.1 and 6.12, a __u16 in the 6.18
 * vmlinux.h this project is built against);
 * the flags we test (FIN, SYN, ACK) are in the low byte. Read by a plain
 * load from a tcp_skb_cb pointer the verifier knows (inside skb->cb of a
 * tracepoint's skb: tcp_skb_cb_of). Declared here as the old byte: libbpf
 * checks a load's size against the local field and widens it to two bytes
 * on kernels where the field grew (declaring it __u16, as our vmlinux.h
 * does, fails to relocate on 5.10). */
struct tcp_skb_cb___u8flags {
	__u8 tcp_flags;
} __attribute__((preserve_access_index));

static __always_inline __u8 tcp_skb_cb_flags_direct(const void *cb)
{
	return ((const struct tcp_skb_cb___u8flags *)cb)->tcp_flags;
}

/* TCP_SKB_CB(skb) for a tracepoint's skb: plain loads from skb->cb (the
 * verifier allows scalar reads anywhere inside that array). */
static __always_inline const struct tcp_skb_cb *tcp_skb_cb_of(const struct sk_buff *skb)
{
	return (const struct tcp_skb_cb *)&skb->cb[0];
}

/* Where tcp_keepalive_timer's timer_list lives. Mainline long used
 * sk->sk_timer; kernels that share it with MPTCP moved it into
 * inet_connection_sock as icsk_keepalive_timer (a union with
 * mptcp_tout_timer), leaving sk_timer in a union with
 * mptcp_retransmit_timer. Which kernels have it, from the VM matrix
 * (tests/vm) and the development host: Debian's 6.1.0-56 (a stable
 * backport), 6.12 and 7.2 do; Debian's 5.10 and a kernel.org 6.18 do not,
 * so this is no version check: the running kernel's BTF decides.
 * Offsets come from the running kernel's BTF: a plain container_of would
 * bake in the layout of the vmlinux.h we compiled against. */
struct inet_connection_sock___ka {
	struct timer_list icsk_keepalive_timer;
} __attribute__((preserve_access_index));

static __always_inline __u32 keepalive_timer_offset(void)
{
	if (bpf_core_field_exists(struct inet_connection_sock___ka, icsk_keepalive_timer))
		return bpf_core_field_offset(struct inet_connection_sock___ka,
					     icsk_keepalive_timer);
	return bpf_core_field_offset(struct sock, sk_timer);
}

/* Where tcp_write_timer's timer_list lives. Up to 6.x it is
 * inet_connection_sock.icsk_retransmit_timer; Debian's 7.2 has no such
 * member and keeps it in struct sock instead, as tcp_retransmit_timer in a
 * union with sk_timer and mptcp_retransmit_timer (the keepalive timer moved
 * out of sk_timer, above, to make room). Without this the program refers to
 * a member the kernel lacks and the whole object is refused (EINVAL). The
 * running kernel's BTF decides, as above. */
struct inet_connection_sock___rtx {
	struct timer_list icsk_retransmit_timer;
} __attribute__((preserve_access_index));

struct sock___rtx {
	struct timer_list tcp_retransmit_timer;
} __attribute__((preserve_access_index));

static __always_inline __u32 retransmit_timer_offset(void)
{
	if (bpf_core_field_exists(struct inet_connection_sock___rtx, icsk_retransmit_timer))
		return bpf_core_field_offset(struct inet_connection_sock___rtx,
					     icsk_retransmit_timer);
	return bpf_core_field_offset(struct sock___rtx, tcp_retransmit_timer);
}

#endif /* CORE_FIXES_BPF_H */
