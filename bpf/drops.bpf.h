/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Dropped segments: tp_btf/kfree_skb, kept apart from the per-socket
 * programs (its own record, struct tt_drop). kfree_skb fires for every packet
 * the host drops, so the common case (not IPv4/IPv6, not TCP, a port the
 * filter excludes) returns after a few loads and at most two probe reads.
 * Matching a segment to connections is done in user space by its 4-tuple:
 * most drops (netfilter input, a full accept queue) happen before the skb
 * has a socket, and a tracing program cannot look one up.
 * Included by tcptimeline.bpf.c (shares its ring, counters and filters).
 */
#ifndef DROPS_BPF_H
#define DROPS_BPF_H

/* Wire formats, read as bytes: no CO-RE (they are not kernel structs). */
struct tt_wire_ip4 {
	__u8 ver_ihl;
	__u8 tos;
	__u16 tot_len;
	__u16 id;
	__u16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__u16 check;
	__u32 saddr;
	__u32 daddr;
};

struct tt_wire_ip6 {
	__u32 ver_tc_flow;
	__u16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct tt_wire_tcp {
	__u16 source;
	__u16 dest;
	__u32 seq;
	__u32 ack_seq;
	__u8 doff_res; /* data offset in the high 4 bits */
	__u8 flags;    /* CWR ECE URG ACK PSH RST SYN FIN */
	__u16 window;
};

#define TT_ETH_P_IP_BE	 0x0008 /* htons(ETH_P_IP) on a little-endian host */
#define TT_ETH_P_IPV6_BE 0xdd86 /* htons(ETH_P_IPV6) */
#define TT_IP_OFFSET	 0x1fff /* fragment offset, host order */

static __always_inline struct tt_drop *drop_reserve(void)
{
	struct tt_drop *d;

	if (TT_BENCH_NO_OUTPUT)
		return NULL;
	d = bpf_ringbuf_reserve(&events, sizeof(*d), 0);
	if (!d) {
		count(TT_CNT_LOST);
		return NULL;
	}
	__builtin_memset(d, 0, sizeof(*d));
	return d;
}

static __always_inline bool drop_ports_wanted(__u16 sport, __u16 dport)
{
	return !filter_ports_on || port_wanted(sport) || port_wanted(dport);
}

/*
 * Not a drop (user space's processed_ack in conn_table.c says why): a bare
 * ACK freed with NOT_SPECIFIED by tcp_rcv_state_process's discard path after
 * it was processed, into a local socket in a closing state. Every
 * connection closed in the usual way has one, so where the kernel names
 * the receiving socket (6.13+, rx_sk) it is not sent at all; elsewhere user
 * space tells it by the connection's state.
 */
static __always_inline bool processed_ack(__u64 *ctx, __u32 reason, const struct tt_wire_tcp *th,
					  __u32 payload)
{
	const struct sock *rx_sk;
	__u8 state;
	__u32 hlen = (th->doff_res >> 4) * 4;

	if (!kfree_skb_has_rx_sk() || !kfree_skb_has_reason())
		return false;
	if (!bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED) ||
	    reason != bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED))
		return false;
	/* FIN 0x01 SYN 0x02 RST 0x04 off, ACK 0x10 on */
	if (payload > hlen || (th->flags & 0x07) || !(th->flags & 0x10))
		return false;
	rx_sk = (const struct sock *)ctx[3];
	if (!rx_sk)
		return false;
	state = BPF_CORE_READ(rx_sk, __sk_common.skc_state);
	return state == TCP_CLOSE_WAIT || state == TCP_LAST_ACK || state == TCP_FIN_WAIT1 ||
	       state == TCP_FIN_WAIT2 || state == TCP_CLOSING;
}

/*
 * Not a drop either: a segment without payload (the peer's FIN) left in its
 * receiver's receive queue, where tcp_data_queue put it after processing
 * it, and freed with the queue when the socket is destroyed
 * (sk_stream_kill_queues, QUEUE_PURGE from 6.8). Every connection whose
 * side that closed first is destroyed in FIN_WAIT2 or TIME_WAIT's handover
 * has one. skb->sk is its receiver only there: the queue owns it
 * (skb_set_owner_r); a segment dropped on the way in is not owned yet, and
 * a sender's queued segment has the sender's ports the other way round.
 * Data in such a queue (never read) is still sent.
 */
static __always_inline bool purged_after_receipt(const struct sk_buff *skb, __u32 reason,
						 const struct tt_wire_tcp *th, __u32 payload)
{
	const struct sock *sk;
	__u16 num;

	if (!kfree_skb_has_reason() ||
	    !bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) ||
	    reason != bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE))
		return false;
	if (payload > (__u32)(th->doff_res >> 4) * 4 || (th->flags & 0x06))
		return false; /* data, or a SYN or RST */
	/* plain loads: skb is the tracepoint's argument, its sk a BTF pointer */
	sk = skb->sk;
	if (!sk || sk->__sk_common.skc_dport != th->source)
		return false;
	/* its local port, unless close already released it (inet_num 0) */
	num = sk->__sk_common.skc_num;
	return !num || num == bpf_ntohs(th->dest);
}

/* kfree_skb(skb, location) before 5.17; (skb, location, reason) from 5.17;
 * (skb, location, reason, rx_sk) from 6.13. Arguments past the second are
 * read only behind the CO-RE checks of core_fixes.bpf.h. */
SEC("tp_btf/kfree_skb")
int kfree_skb(__u64 *ctx)
{
	const struct sk_buff *skb = (const struct sk_buff *)ctx[0];
	struct tt_wire_tcp th;
	struct tt_drop *d;
	unsigned char *head;
	__u32 reason = TT_DROP_REASON_NONE, l4_off, hlen, payload;
	__u16 proto, nh;
	__u8 fam;

	/* the cheap part: what most drops on a host fail */
	proto = skb->protocol;
	if (proto == TT_ETH_P_IP_BE)
		fam = 4;
	else if (proto == TT_ETH_P_IPV6_BE)
		fam = 6;
	else
		return 0;
	if (filter_family && filter_family != fam)
		return 0;
	if (kfree_skb_has_reason())
		reason = (__u32)ctx[2];
	head = skb->head;
	nh = skb->network_header;

	if (fam == 4) {
		struct tt_wire_ip4 ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return 0;
		if (ip.protocol != IPPROTO_TCP || (ip.ver_ihl >> 4) != 4 ||
		    (bpf_ntohs(ip.frag_off) & TT_IP_OFFSET))
			return 0; /* not TCP, or a fragment past the first: no TCP header */
		hlen = (ip.ver_ihl & 0xf) * 4;
		if (hlen < 20)
			return 0;
		l4_off = nh + hlen;
		if (bpf_probe_read_kernel(&th, sizeof(th), head + l4_off))
			return 0;
		if (!drop_ports_wanted(bpf_ntohs(th.source), bpf_ntohs(th.dest)))
			return 0;
		payload = bpf_ntohs(ip.tot_len);
		/* a GSO packet's tot_len may be 0 (BIG TCP): its length is the skb's */
		if (!payload)
			payload = skb->len - (l4_off - (__u32)(skb->data - head));
		else
			payload -= hlen;
		if (processed_ack(ctx, reason, &th, payload) ||
		    purged_after_receipt(skb, reason, &th, payload))
			return 0;
		d = drop_reserve();
		if (!d)
			return 0;
		__builtin_memcpy(d->saddr, &ip.saddr, 4);
		__builtin_memcpy(d->daddr, &ip.daddr, 4);
	} else {
		struct tt_wire_ip6 ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return 0;
		/* extension headers before TCP are not followed */
		if (ip6.nexthdr != IPPROTO_TCP)
			return 0;
		l4_off = nh + sizeof(ip6);
		if (bpf_probe_read_kernel(&th, sizeof(th), head + l4_off))
			return 0;
		if (!drop_ports_wanted(bpf_ntohs(th.source), bpf_ntohs(th.dest)))
			return 0;
		payload = bpf_ntohs(ip6.payload_len);
		if (!payload)
			payload = skb->len - (l4_off - (__u32)(skb->data - head));
		if (processed_ack(ctx, reason, &th, payload) ||
		    purged_after_receipt(skb, reason, &th, payload))
			return 0;
		d = drop_reserve();
		if (!d)
			return 0;
		__builtin_memcpy(d->saddr, ip6.saddr, 16);
		__builtin_memcpy(d->daddr, ip6.daddr, 16);
	}
	hlen = (th.doff_res >> 4) * 4;
	d->rec = TT_REC_DROP;
	d->ts_ns = bpf_ktime_get_ns();
	d->reason = reason;
	d->sk = (__u64)skb->sk;
	d->sport = bpf_ntohs(th.source);
	d->dport = bpf_ntohs(th.dest);
	d->family = fam;
	d->flags = th.flags;
	d->bytes = payload > hlen ? payload - hlen : 0;
	d->seq = bpf_ntohl(th.seq);
	bpf_ringbuf_submit(d, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
				      BPF_RB_FORCE_WAKEUP :
				      BPF_RB_NO_WAKEUP);
	return 0;
}

#endif /* DROPS_BPF_H */
