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
					__u32 window, __u64 ts, bool inferred)
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
	r->inferred = inferred;
	r->tcp_state = BPF_CORE_READ(sk, __sk_common.skc_state);
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

/* A jiffies stamp of the socket's (rcv_tstamp, lrcvtime) placed back from
 * now on the monotonic clock; now if HZ is not known or it is far back. */
static __always_inline __u64 jiffy_back(__u32 j, const struct sock_info *info, __u64 now)
{
	__u32 dj = (__u32)bpf_jiffies64() - j;
	__u64 back;

	if (!jiffy_ns || (__u64)dj * jiffy_ns > 60 * NSEC_PER_SEC)
		return now;
	back = (__u64)dj * jiffy_ns;
	if (back >= now)
		return now;
	now -= back;
	return now > info->last_ts ? now : info->last_ts;
}

/* When our zero went out: the last data's arrival (lrcvtime, in jiffies),
 * placed back from now; now if the kernel's HZ is not known. */
static __always_inline __u64 zero_out_time(const struct sock *sk, const struct sock_info *info,
					   __u64 now)
{
	const struct inet_connection_sock *icsk = (const void *)sk;

	return jiffy_back(BPF_CORE_READ(icsk, icsk_ack.lrcvtime), info, now);
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
			    (zw & TT_ZW_OUT) ? zero_out_time(sk, info, *now) : *now, true);
	if ((zw ^ info->zw) & TT_ZW_IN) {
		if (zw & TT_ZW_IN)
			info->zw_probes = 0;
		emit_window(sk, tp, info, TT_DIR_IN,
			    (zw & TT_ZW_IN) ? TT_WINDOW_ZERO : TT_WINDOW_OPEN, bpf_ntohs(th_win),
			    *now, false);
	}
	info->zw = zw;
	if (*now > info->last_ts)
		info->last_ts = *now;
}

/*
 * tcp_write_timer's entry: the persist timer sends a zero-window probe.
 * Outside ESTABLISHED (we write into CLOSE_WAIT or LAST_ACK, the peer
 * half-closed and stopped reading) tcp_probe does not see the zero arrive:
 * the persist timer is the first sign of it. It runs while the peer's
 * window is too small for our next segment; snd_wnd 0 is the zero. Stamped
 * at rcv_tstamp, the last ACK we processed (the one that carried the zero,
 * or a later one that repeated it), inferred. Its reopening has no event of
 * its own there either: noticed at this timer's next run (it is left armed
 * when the data it guarded is acknowledged) or when the socket closes, and
 * stamped then (inferred).
 */
static __always_inline void window_timer(const struct sock *sk, struct sock_info *info)
{
	const struct inet_connection_sock *icsk = (const void *)sk;
	const struct tcp_sock *tp = (const void *)sk;
	struct sock_id id = {};
	__u8 pending, state;
	__u64 now;

	pending = BPF_CORE_READ(icsk, icsk_pending);
	if ((info->zw & TT_ZW_IN) && pending == ICSK_TIME_PROBE0) {
		info->zw_probes++;
		return;
	}
	if (!info->seq_init)
		return;
	if (!(info->zw & TT_ZW_IN) && pending != ICSK_TIME_PROBE0)
		return; /* the common case: nothing about windows */
	state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state == TCP_ESTABLISHED)
		return; /* tcp_probe's: exact, on arrival */
	if (!(info->zw & TT_ZW_IN) != !BPF_CORE_READ(tp, snd_wnd))
		return; /* zero and not seen yet, or open and seen open */
	if (!read_sock_id_probed(sk, &id))
		return;
	now = bpf_ktime_get_ns();
	flush_data(sk, &id, info);
	if (!(info->zw & TT_ZW_IN)) {
		info->zw_probes = 1; /* this run sends the first */
		emit_window(sk, NULL, info, TT_DIR_IN, TT_WINDOW_ZERO, 0,
			    jiffy_back(BPF_CORE_READ(tp, rcv_tstamp), info, now), true);
		info->zw |= TT_ZW_IN;
	} else {
		emit_window(sk, NULL, info, TT_DIR_IN, TT_WINDOW_OPEN, BPF_CORE_READ(tp, snd_wnd),
			    now, true);
		info->zw &= ~TT_ZW_IN;
	}
	if (now > info->last_ts)
		info->last_ts = now;
}

/*
 * Our own zero outside ESTABLISHED (we shut down our side and stopped
 * reading; FIN_WAIT1/2): noticed at the peer's zero-window probe, which
 * kfree_skb sees (drops.bpf.h: probe_in), placed back at the last data's
 * arrival as in ESTABLISHED. Its reopening: at the peer's next data after
 * our window update (sk_data_ready), as tcp_probe does in ESTABLISHED.
 */
static __always_inline void window_out_outside(const struct sock *sk, const struct sock_id *id,
					       struct sock_info *info, bool zero, __u64 now)
{
	const struct tcp_sock *tp = (const void *)sk;

	if (!(info->zw & TT_ZW_OUT) == !zero)
		return;
	flush_data(sk, id, info);
	if (zero) {
		emit_window(sk, NULL, info, TT_DIR_OUT, TT_WINDOW_ZERO, 0,
			    zero_out_time(sk, info, now), true);
		info->zw |= TT_ZW_OUT;
	} else {
		emit_window(sk, NULL, info, TT_DIR_OUT, TT_WINDOW_OPEN, BPF_CORE_READ(tp, rcv_wnd),
			    now, true);
		info->zw &= ~TT_ZW_OUT;
	}
	if (now > info->last_ts)
		info->last_ts = now;
}

#endif /* WINDOW_BPF_H */
