/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Zero-window stalls: a receiver whose application stopped reading. Rare, so
 * a full record each (struct tt_window), from two places the programs are
 * already in (no program of its own, nothing added for other sockets):
 *
 * - tcp_probe, for every segment a socket receives in ESTABLISHED: the
 *   segment's own window field says whether the peer's window is zero
 *   (`in`, stamped on arrival), and tcp_sock.rcv_wnd, the window we last
 *   advertised (tcp_select_window sets it on every segment we send), whether
 *   ours is (`out`). Ours is only noticed at the next segment in (usually
 *   the peer's first zero-window probe, an RTO later): the zero is stamped
 *   back at the last data's arrival (icsk_ack.lrcvtime, a jiffy's
 *   precision: its ACK carried the zero, up to a delayed ACK later), the reopening when noticed (the
 *   peer's first segment after our window update); both `inferred`.
 * - timer_expire_entry for tcp_write_timer, which is also the persist timer:
 *   with icsk_pending ICSK_TIME_PROBE0 it sends a zero-window probe
 *   (tcp_probe_timer), counted on the socket while the peer's window is zero.
 *
 * Included by tcptimeline.bpf.c after the per-socket helpers.
 */
#ifndef WINDOW_BPF_H
#define WINDOW_BPF_H

#define ICSK_TIME_PROBE0 3 /* include/net/inet_connection_sock.h */
#define TT_ZW_IN	 1 /* sock_info.zw: the peer's window is zero */
#define TT_ZW_OUT	 2 /* ... ours is */

/* ns per jiffy, from the kernel's CONFIG_HZ (the loader reads its config;
 * 0: not known, our zero is stamped when noticed) */
const volatile __u32 jiffy_ns = 0;

static __always_inline void emit_window(const struct sock *sk, const struct tcp_sock *tp,
					const struct sock_info *info, __u8 dir, __u8 state,
					__u32 window, __u64 ts)
{
	struct tt_window *r;

	if (TT_BENCH_NO_OUTPUT)
		return;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count(TT_CNT_LOST);
		return;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->rec = TT_REC_WINDOW;
	r->dir = dir;
	r->state = state;
	r->inferred = dir == TT_DIR_OUT;
	r->tcp_state = sk->__sk_common.skc_state;
	r->ts_ns = ts;
	r->sk = (__u64)sk;
	r->birth_ns = info->birth_ns;
	if (dir == TT_DIR_IN) {
		r->queued = TP_READ(tp, sk, write_seq) - TP_READ(tp, sk, snd_una);
		r->probes = info->zw_probes;
	} else {
		r->queued = TP_READ(tp, sk, rcv_nxt) - TP_READ(tp, sk, copied_seq);
	}
	r->window = window;
	bpf_ringbuf_submit(r, 0);
}

/* When our zero went out: the last data's arrival (lrcvtime, in jiffies),
 * placed back from now; now if the kernel's HZ is not known. */
static __always_inline __u64 zero_out_time(const struct sock *sk, const struct sock_info *info,
					   __u64 now)
{
	const struct inet_connection_sock *icsk = (const void *)sk;
	__u32 dj = (__u32)bpf_jiffies64() - BPF_CORE_READ(icsk, icsk_ack.lrcvtime);
	__u64 back;

	if (!jiffy_ns || (__u64)dj * jiffy_ns > 60 * NSEC_PER_SEC)
		return now;
	back = (__u64)dj * jiffy_ns;
	if (back >= now)
		return now;
	now -= back;
	return now > info->last_ts ? now : info->last_ts; /* the stream stays in order */
}

/* tcp_probe: a segment arrived in ESTABLISHED. Two loads and one header
 * read in the common case (nothing changed). */
static __always_inline void window_seg_in(const struct sock *sk, const struct tcp_sock *tp,
					  const struct sk_buff *skb, const struct sock_id *id,
					  struct sock_info *info, __u8 flags, __u64 *now)
{
	__u16 th_win = 1;
	__u32 rcv_wnd;
	__u8 zw = 0;

	if (!tp || (flags & TCPHDR_SYN))
		return;
	/* skb->data is the TCP header in tcp_rcv_established */
	if (bpf_probe_read_kernel(&th_win, sizeof(th_win),
				  (const char *)skb->data + offsetof(struct tcphdr, window)))
		return;
	rcv_wnd = tp->rcv_wnd;
	if (!th_win)
		zw |= TT_ZW_IN;
	if (!rcv_wnd)
		zw |= TT_ZW_OUT;
	if (zw == info->zw)
		return;
	if (!*now)
		*now = bpf_ktime_get_ns();
	/* what was sent or received before comes first */
	flush_data(sk, id, info);
	if ((zw ^ info->zw) & TT_ZW_OUT)
		emit_window(sk, tp, info, TT_DIR_OUT,
			    (zw & TT_ZW_OUT) ? TT_WINDOW_ZERO : TT_WINDOW_OPEN, rcv_wnd,
			    (zw & TT_ZW_OUT) ? zero_out_time(sk, info, *now) : *now);
	if ((zw ^ info->zw) & TT_ZW_IN) {
		if (zw & TT_ZW_IN)
			info->zw_probes = 0;
		emit_window(sk, tp, info, TT_DIR_IN,
			    (zw & TT_ZW_IN) ? TT_WINDOW_ZERO : TT_WINDOW_OPEN, bpf_ntohs(th_win),
			    *now);
	}
	info->zw = zw;
	if (*now > info->last_ts)
		info->last_ts = *now;
}

/* tcp_write_timer's entry: the persist timer sends a zero-window probe. */
static __always_inline void window_timer(const struct sock *sk, struct sock_info *info)
{
	const struct inet_connection_sock *icsk = (const void *)sk;

	if ((info->zw & TT_ZW_IN) && BPF_CORE_READ(icsk, icsk_pending) == ICSK_TIME_PROBE0)
		info->zw_probes++;
}

#endif /* WINDOW_BPF_H */
