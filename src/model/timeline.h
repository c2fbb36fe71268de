/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The user-side event: what the connection table hands to renderers. One
 * tl_event per JSON line; renderers are pure functions of these.
 */
#ifndef TIMELINE_H
#define TIMELINE_H

#include <stdbool.h>
#include <stdint.h>
#include "tcptimeline.h"

enum tl_kind {
	TL_STATE,
	TL_DATA,
	TL_RETRANSMIT,
	TL_KA_PROBE,
	TL_KA_ACK,
	TL_RST,
	TL_ERROR,
	TL_CLOSE,
	TL_EXISTING,
	TL_LOST,
	/* events of this connection that were held and not kept (the middle of
	 * a long story, cut for the per-connection limit or the memory budget) */
	TL_TRUNCATED,
	TL_DROP,
	TL_WINDOW, /* a zero-window stall begins or ends */
	/* held stories only, never handed to a sink or a renderer: a run of
	 * keepalive probes (and their ACKs) alike but for their times, folded
	 * into one slot of a connection's events (conn_view expands it) */
	TL_KA_RUN,
};

struct tl_ka_run;

enum tl_cause {
	CAUSE_UNKNOWN = 0,
	CAUSE_APP_CLOSE,
	CAUSE_PROCESS_EXIT,
	CAUSE_KILLED,
	CAUSE_PEER_CLOSE,
	CAUSE_RST_IN,
	CAUSE_RST_OUT,
	CAUSE_REFUSED,
	CAUSE_KEEPALIVE_TIMEOUT,
	CAUSE_RETRANSMIT_TIMEOUT,
	CAUSE_SYN_TIMEOUT,
};

/* Contract names: "app_close", ... */
const char *cause_name(enum tl_cause cause);
/* "event" values: "state", "data", ... */
const char *tl_kind_name(enum tl_kind kind);

struct tl_endpoints {
	uint8_t family; /* 4 or 6; 0 for events with no connection (lost) */
	uint8_t laddr[16];
	uint8_t raddr[16];
	uint16_t lport;
	uint16_t rport;
};

/* A task seen in process context. pid 0: none. */
struct tl_task {
	uint32_t pid;
	char comm[TT_COMM_LEN];
	bool exiting;
	int32_t exit_code; /* raw task exit code: signal in bits 0-6, status in bits 8-15 */
};

struct tl_event {
	enum tl_kind kind;
	uint64_t ts_ns; /* CLOCK_MONOTONIC */
	uint64_t conn;	/* connection id; 0: none (lost) */
	struct tl_endpoints ep;
	uint32_t pid; /* the socket's owner; 0 unknown */
	char comm[TT_COMM_LEN];
	union {
		struct {
			uint8_t old_state, new_state;
			const char *sent, *received; /* static strings or NULL */
			struct tl_task actor;
			uint32_t sk_err;
			bool time_wait; /* the connection lives on as a timewait sock */
			/* ... handed over in FIN_WAIT2, before the peer's FIN: an
			 * orphan whose FIN was ACKed; TIME_WAIT follows that FIN */
			bool tw_fin_wait2;
			/* ... or, with TCP_LINGER2 < 0, dropped there: no TIME_WAIT,
			 * a later FIN from the peer is answered with a reset */
			bool fin_wait2_dropped;
			/* entering ESTABLISHED: the kernel's first RTT sample, the
			 * handshake (client: SYN -> SYN,ACK; server: SYN,ACK -> ACK);
			 * TT_RTT_NONE: none taken (a retransmitted SYN without
			 * timestamps) or not known */
			uint32_t handshake_us;
		} state;
		struct {
			uint8_t dir; /* enum tt_dir */
			uint64_t bytes;
			uint32_t segs;
			bool inferred; /* stamped when the kernel side noticed it, not sent/arrived */
		} data;
		struct {
			uint32_t seq;
			bool syn;
			uint32_t count;
			int32_t err;
		} retrans;
		struct {
			uint8_t dir;
			uint32_t n;
		} ka_probe;
		struct {
			uint8_t dir;
			uint64_t rtt_ns; /* 0 unknown */
			bool inferred; /* from socket fields at a later event (not seen arriving) */
		} ka_ack;
		struct {
			uint8_t dir;
			uint32_t reason; /* TT_RST_REASON_NONE: none */
			uint8_t state;
			struct tl_task actor;
		} rst;
		struct {
			int32_t err;
			bool inferred; /* from the socket's sk_err (kernel without inet_sk_error_report) */
		} error;
		struct {
			enum tl_cause cause;
			struct tl_task by;
			int32_t signal;	   /* 0: none */
			int32_t exit_code; /* -1: none */
			uint64_t duration_ns;
			uint64_t bytes_in, bytes_out;
			uint32_t retransmits, keepalives;
			uint32_t drops; /* segments of this connection the kernel dropped */
			/* how long the connection spent in zero-window stalls
			 * (either way: the union of both ways' periods), in ms
			 * rounded up (so a stall is never 0); 0: none. In the
			 * padding: every held event carries a close's size. */
			uint32_t stalled_ms;
			uint32_t srtt_us, min_rtt_us; /* the socket's at close; TT_RTT_NONE: none */
		} close;
		struct {
			uint8_t state;
		} existing;
		struct {
			uint64_t count;
		} lost;
		struct {
			uint64_t count; /* events not kept here */
		} truncated;
		struct {
			uint8_t dir;	 /* enum tt_dir, from this end's point of view */
			uint8_t flags;	 /* TCP header flags of the dropped segment */
			uint32_t reason; /* enum skb_drop_reason; TT_DROP_REASON_NONE: none */
			uint32_t bytes;	 /* payload */
			/* counted on a listening socket: a segment for a connection it
			 * had not handed over yet (a SYN or the handshake's ACK); the
			 * remote end is the segment's */
			bool listener;
			uint8_t peer_addr[16];
			uint16_t peer_port;
		} drop;
		struct {
			struct tl_ka_run *run;
		} ka_run;
		struct {
			uint8_t dir;	 /* enum tt_dir: in, the peer's window; out, ours */
			bool open;	 /* false: it went to zero; true: it opened again */
			bool inferred;	 /* stamped from socket fields when noticed */
			uint32_t queued; /* bytes waiting in the send (in) or receive (out) queue */
			uint32_t probes; /* open, in: zero-window probes sent during the stall */
			uint64_t stalled_ns; /* open: since its zero; 0 if that was not seen */
		} window;
	};
};

#endif /* TIMELINE_H */
