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

/* The flight recorder: the log of a socket the drop is about goes first, so
 * user space knows the connection and its story before the drop (the
 * sending socket; the receiving one where the kernel names it, 6.11+). */
static __always_inline void drop_log_first(__u64 *ctx, const struct sk_buff *skb)
{
	__u64 key = (__u64)skb->sk;
	struct sock_info *info;

	if (!log_on)
		return;
	if (key && (info = bpf_map_lookup_elem(&socks, &key)))
		log_flush((const struct sock *)key, info);
	if (kfree_skb_has_rx_sk()) {
		key = ctx[3];
		if (key && (info = bpf_map_lookup_elem(&socks, &key)))
			log_flush((const struct sock *)key, info);
	}
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
 * the receiving socket (6.11+, rx_sk) it is not sent at all; elsewhere user
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

/*
 * Not a drop but a keepalive probe from the peer (tcp_xmit_probe_skb: seq =
 * our rcv_nxt - 1, 0 or 1 byte, ACK) into a socket of ours. tcp_probe sees
 * such a probe only in ESTABLISHED; outside it (we shut down our side first:
 * FIN_WAIT1/2, CLOSING; or LAST_ACK) tcp_rcv_state_process has no
 * tracepoint, and the probe is visible only here: tcp_validate_incoming
 * finds it below the window (TCP_OLD_SEQUENCE), answers it with a duplicate
 * ACK (tcp_send_dupack) and frees it. In ESTABLISHED the same free follows
 * tcp_probe's report of it.
 *
 * Recognised here, not in user space, because the one fact that tells a
 * probe from another old segment is the receiving socket's rcv_nxt, and only
 * the kernel side can read it: the receiving socket is kfree_skb's rx_sk
 * (6.11+), there is no other way to it from a tracing program (skb->sk was
 * cleared by the socket lookup). Without rx_sk (before 6.11) the probe is
 * not claimed: nothing is reported where the kernel frees it without a drop
 * event (5.10, 6.1), or it stays a `drop` (README Kernels).
 *
 * Only after the reason compare (every other drop pays one comparison). A
 * probe while our window is zero is the peer's zero-window probe, not a
 * keepalive (the same segment, from tcp_probe_timer): not a drop either, and
 * outside ESTABLISHED the first sign of our zero (window.bpf.h). The answer
 * is reported as a keepalive_ack `out` only when tcp_send_dupack sent it:
 * out-of-window ACKs are rate limited (tcp_invalid_ratelimit), and
 * last_oow_ack_time is the jiffy the ACK left: a few jiffies back at most
 * when it just did (a slow or emulated CPU can cross a tick or two between
 * tcp_send_dupack and this free: a 6.12 guest under TCG missed one in
 * four with "this jiffy exactly"), while a rate-limited probe finds the
 * ACK before it, at least a keepalive interval old.
 * Returns true when the segment was a probe (reported, or ESTABLISHED's).
 */
/* How many jiffies back an out-of-window ACK counts as this segment's answer
 * (8: 8-80 ms at HZ 100-1000; keepalive probes are seconds apart). */
#define TT_OOW_ACK_JIFFIES 8

static __always_inline bool probe_in(__u64 *ctx, __u32 reason, const struct tt_wire_tcp *th,
				     __u32 payload)
{
	const struct tcp_sock *tp;
	const struct sock *rx_sk;
	struct sock_info *info;
	struct sock_id id = {};
	struct tt_event *e;
	__u64 key, now;
	__u8 state;

	if (!kfree_skb_has_rx_sk() || !kfree_skb_has_reason() ||
	    !bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_TCP_OLD_SEQUENCE) ||
	    reason != bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TCP_OLD_SEQUENCE))
		return false;
	/* FIN 0x01 SYN 0x02 RST 0x04 off, ACK 0x10 on; 0 or 1 byte */
	if (payload > (__u32)(th->doff_res >> 4) * 4 + 1 || (th->flags & 0x07) ||
	    !(th->flags & 0x10))
		return false;
	rx_sk = (const struct sock *)ctx[3];
	if (!rx_sk)
		return false;
	state = BPF_CORE_READ(rx_sk, __sk_common.skc_state);
	/* a full socket's tcp_sock fields only (not a timewait or request sock) */
	if (state == TCP_TIME_WAIT || state == TCP_NEW_SYN_RECV || state == TCP_LISTEN ||
	    state == TCP_SYN_SENT || state == TCP_SYN_RECV || state == TCP_CLOSE)
		return false;
	tp = (const struct tcp_sock *)rx_sk;
	if (bpf_ntohl(th->seq) != BPF_CORE_READ(tp, rcv_nxt) - 1)
		return false;
	if (state == TCP_ESTABLISHED)
		return true; /* tcp_probe reported it (and its zero window) */
	key = (__u64)rx_sk;
	info = bpf_map_lookup_elem(&socks, &key);
	if (!info || !info->seq_init || !read_sock_id_probed(rx_sk, &id))
		return true; /* not one we follow: still not a drop */
	now = bpf_ktime_get_ns();
	settle_data(rx_sk, NULL, &id, info, now);
	if (!BPF_CORE_READ(tp, rcv_wnd)) {
		window_out_outside(rx_sk, &id, info, true, now);
		return true; /* a zero-window probe */
	}
	info->ka_in_n += 1;
	e = reserve(TT_EV_KA_PROBE, false);
	if (e) {
		fill_sock(e, rx_sk, &id, info, now);
		e->old_state = e->new_state = state;
		e->ka_probe.n = info->ka_in_n;
		e->ka_probe.dir = TT_DIR_IN;
		submit(e);
	}
	if ((__u32)bpf_jiffies64() - BPF_CORE_READ(tp, last_oow_ack_time) > TT_OOW_ACK_JIFFIES)
		return true; /* rate limited: no ACK went out */
	e = reserve(TT_EV_KA_ACK, false);
	if (e) {
		/* it left just before this free, after the probe arrived */
		fill_sock(e, rx_sk, &id, info, bpf_ktime_get_ns());
		e->old_state = e->new_state = state;
		e->ka_ack.dir = TT_DIR_OUT;
		submit(e);
	}
	return true;
}

/*
 * The same two cases decided from what the skb and its socket already say,
 * before any probe read: every churn connection has one of them (the FIN
 * purged with its receiver), and a probe read of the headers costs more
 * than the rest of the program. TCP's control block (TCP_SKB_CB, filled by
 * tcp_v4_rcv/tcp_v6_rcv before the segment reached the socket) has its
 * sequence span and flags; plain loads, skb and its sk are BTF pointers.
 * - QUEUE_PURGE of a segment owned by a TCP socket with nothing left past
 *   its header: only a received segment whose header tcp_data_queue pulled
 *   has skb->len 0 (a sender's segment still holds its headers), so this is
 *   the FIN purged_after_receipt looks for, without its ports read.
 * - NOT_SPECIFIED with rx_sk (6.11+) a TCP socket in a closing state and a
 *   bare ACK (no sequence span, ACK without SYN/FIN/RST): processed_ack's
 *   case. Anything else goes on to the header parse.
 */
#define TT_TCPHDR_RST 0x04
static __always_inline bool not_a_drop_fast(__u64 *ctx, const struct sk_buff *skb, __u32 reason)
{
	const struct tcp_skb_cb *cb = tcp_skb_cb_of(skb);
	const struct sock *sk;
	__u8 flags, state;

	if (!kfree_skb_has_reason())
		return false;
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE)) {
		sk = skb->sk;
		if (!sk || skb->len || sk_protocol_of(sk) != IPPROTO_TCP)
			return false;
		return !(tcp_skb_cb_flags_direct(cb) & (TCPHDR_SYN | TT_TCPHDR_RST));
	}
	if (!kfree_skb_has_rx_sk() ||
	    !bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED) ||
	    reason != bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED))
		return false;
	sk = (const struct sock *)ctx[3];
	if (!sk || sk_protocol_of(sk) != IPPROTO_TCP || cb->seq != cb->end_seq)
		return false;
	flags = tcp_skb_cb_flags_direct(cb);
	if ((flags & (TCPHDR_FIN | TCPHDR_SYN | TT_TCPHDR_RST)) || !(flags & TCPHDR_ACK))
		return false;
	state = sk->__sk_common.skc_state;
	return state == TCP_CLOSE_WAIT || state == TCP_LAST_ACK || state == TCP_FIN_WAIT1 ||
	       state == TCP_FIN_WAIT2 || state == TCP_CLOSING;
}

/* The network and TCP headers in one probe read when they are contiguous
 * with the usual lengths (IPv4 without options, IPv6 without extension
 * headers); a second read for the TCP header otherwise. */
struct tt_wire_ip4_tcp {
	struct tt_wire_ip4 ip;
	struct tt_wire_tcp th;
};

struct tt_wire_ip6_tcp {
	struct tt_wire_ip6 ip6;
	struct tt_wire_tcp th;
};

/* kfree_skb(skb, location) before 5.17; (skb, location, reason) from 5.17;
 * (skb, location, reason, rx_sk) from 6.11. Arguments past the second are
 * read only behind the CO-RE checks of core_fixes.bpf.h. */
SEC("tp_btf/kfree_skb")
int kfree_skb(__u64 *ctx)
{
	const struct sk_buff *skb = (const struct sk_buff *)ctx[0];
	struct tt_wire_tcp th;
	struct tt_drop *d;
	unsigned char *head;
	__u32 reason = TT_DROP_REASON_NONE, l4_off, hlen, payload;
	__u16 proto, nh, th_off;
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
	if (not_a_drop_fast(ctx, skb, reason))
		return 0;
	head = skb->head;
	nh = skb->network_header;
	th_off = skb->transport_header;

	if (fam == 4) {
		struct tt_wire_ip4_tcp w;
		struct tt_wire_ip4 *ip = &w.ip;

		/* transport_header is set from the IP header's length on the
		 * way in and out; where it says the TCP header follows a
		 * 20-byte header, one read covers both (checked below) */
		if (th_off == nh + sizeof(w.ip)) {
			if (bpf_probe_read_kernel(&w, sizeof(w), head + nh))
				return 0;
		} else if (bpf_probe_read_kernel(&w.ip, sizeof(w.ip), head + nh)) {
			return 0;
		}
		if (ip->protocol != IPPROTO_TCP || (ip->ver_ihl >> 4) != 4 ||
		    (bpf_ntohs(ip->frag_off) & TT_IP_OFFSET))
			return 0; /* not TCP, or a fragment past the first: no TCP header */
		hlen = (ip->ver_ihl & 0xf) * 4;
		if (hlen < 20)
			return 0;
		l4_off = nh + hlen;
		if (l4_off == nh + sizeof(w.ip) && th_off == l4_off)
			th = w.th;
		else if (bpf_probe_read_kernel(&th, sizeof(th), head + l4_off))
			return 0;
		if (!drop_ports_wanted(bpf_ntohs(th.source), bpf_ntohs(th.dest)))
			return 0;
		payload = bpf_ntohs(ip->tot_len);
		/* a GSO packet's tot_len may be 0 (BIG TCP): its length is the skb's */
		if (!payload)
			payload = skb->len - (l4_off - (__u32)(skb->data - head));
		else
			payload -= hlen;
		if (processed_ack(ctx, reason, &th, payload) ||
		    purged_after_receipt(skb, reason, &th, payload) ||
		    probe_in(ctx, reason, &th, payload))
			return 0;
		drop_log_first(ctx, skb);
		d = drop_reserve();
		if (!d)
			return 0;
		__builtin_memcpy(d->saddr, &ip->saddr, 4);
		__builtin_memcpy(d->daddr, &ip->daddr, 4);
	} else {
		struct tt_wire_ip6_tcp w;

		if (bpf_probe_read_kernel(&w, sizeof(w), head + nh))
			return 0;
		/* extension headers before TCP are not followed */
		if (w.ip6.nexthdr != IPPROTO_TCP)
			return 0;
		l4_off = nh + sizeof(w.ip6);
		th = w.th;
		if (!drop_ports_wanted(bpf_ntohs(th.source), bpf_ntohs(th.dest)))
			return 0;
		payload = bpf_ntohs(w.ip6.payload_len);
		if (!payload)
			payload = skb->len - (l4_off - (__u32)(skb->data - head));
		if (processed_ack(ctx, reason, &th, payload) ||
		    purged_after_receipt(skb, reason, &th, payload) ||
		    probe_in(ctx, reason, &th, payload))
			return 0;
		drop_log_first(ctx, skb);
		d = drop_reserve();
		if (!d)
			return 0;
		__builtin_memcpy(d->saddr, w.ip6.saddr, 16);
		__builtin_memcpy(d->daddr, w.ip6.daddr, 16);
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
