/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Latency: the socket's own RTT estimates, read by inet_sock_set_state when
 * a socket enters ESTABLISHED (the kernel's first sample is the handshake:
 * the SYN's RTT for a client, taken when the SYN,ACK is acked in
 * tcp_clean_rtx_queue; the SYN,ACK's for an accepted socket, from the
 * request sock's snt_synack in tcp_synack_rtt_meas) and when it enters
 * CLOSE (smoothed and minimum RTT). Carried in that transition's own state
 * record (tt_event.state, the fields of struct tt_rtt, which the BPF side no
 * longer sends on its own: one ring record less each time). Included by
 * tcptimeline.bpf.c.
 */
#ifndef RTT_BPF_H
#define RTT_BPF_H

/* e: a tt_event or a tt_state (compact), whose `state` parts share names */
#define FILL_RTT(e, sk, tp, when)                                                  \
	do {                                                                       \
		__u32 srtt_ = TP_READ(tp, sk, srtt_us);                            \
		__u32 min_ = TP_READ(tp, sk, rtt_min.s[0].v);                      \
                                                                                   \
		(e)->state.rtt_when = (when);                                      \
		/* srtt_us holds 8 x the smoothed RTT; 0 until the first sample */ \
		(e)->state.srtt_us = srtt_ ? srtt_ >> 3 : TT_RTT_NONE;             \
		/* rtt_min starts at ~0U (minmax_reset with ~0U) */                \
		(e)->state.min_rtt_us = min_ && min_ != ~0U ? min_ : TT_RTT_NONE;  \
	} while (0)

#endif /* RTT_BPF_H */
