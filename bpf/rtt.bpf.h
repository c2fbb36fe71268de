/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Latency: the socket's own RTT estimates, read by inet_sock_set_state when
 * a socket enters ESTABLISHED (the kernel's first sample is the handshake:
 * the SYN's RTT for a client, taken when the SYN,ACK is acked in
 * tcp_clean_rtx_queue; the SYN,ACK's for an accepted socket, from the
 * request sock's snt_synack in tcp_synack_rtt_meas) and when it enters
 * CLOSE (smoothed and minimum RTT). Its own record (struct tt_rtt), sent just
 * before the transition's own record. Included by tcptimeline.bpf.c.
 */
#ifndef RTT_BPF_H
#define RTT_BPF_H

static __always_inline void emit_rtt(const struct sock *sk, const struct tcp_sock *tp,
				     const struct sock_info *info, __u8 when, __u64 now)
{
	struct tt_rtt *r;
	__u32 srtt, min_rtt;

	if (TT_BENCH_NO_OUTPUT)
		return;
	srtt = TP_READ(tp, sk, srtt_us);
	min_rtt = TP_READ(tp, sk, rtt_min.s[0].v);
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count(TT_CNT_LOST);
		return;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->rec = TT_REC_RTT;
	r->when = when;
	r->ts_ns = now;
	r->sk = (__u64)sk;
	r->birth_ns = info->birth_ns;
	/* srtt_us holds 8 x the smoothed RTT; 0 until the first sample */
	r->srtt_us = srtt ? srtt >> 3 : TT_RTT_NONE;
	/* rtt_min starts at ~0U (minmax_reset with ~0U) */
	r->min_rtt_us = min_rtt && min_rtt != ~0U ? min_rtt : TT_RTT_NONE;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

#endif /* RTT_BPF_H */
