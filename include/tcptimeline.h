/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one record the BPF side hands to user space, shared by bpf/ and src/.
 * Plain __u8..__u64 types only, fixed size: see the _Static_assert in src/model/decode.c.
 */
#ifndef TCPTIMELINE_H
#define TCPTIMELINE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TT_COMM_LEN	  16
#define TT_MAX_PORT_WORDS 1024 /* 65536 ports, one bit each */

/* What happened: one BPF program per tracepoint emits one or more of these. */
enum tt_event_type {
	TT_EV_STATE = 1,  /* inet_sock_set_state */
	TT_EV_DATA,	  /* folded data segments, one direction (tcp_probe + sequence deltas) */
	TT_EV_RETRANSMIT, /* tcp_retransmit_skb, tcp_retransmit_synack */
	TT_EV_KA_PROBE,	  /* keepalive probe: out from timer_expire_*, in from tcp_probe */
	TT_EV_KA_ACK,	  /* the answer to our keepalive probe (tcp_probe) */
	TT_EV_RST,	  /* tcp_send_reset, tcp_receive_reset */
	TT_EV_ERROR,	  /* inet_sk_error_report */
	TT_EV_DESTROY,	  /* tcp_destroy_sock */
	TT_EV_TYPE_MAX,
};

enum tt_dir {
	TT_DIR_IN = 0,
	TT_DIR_OUT = 1,
};

/* actor_flags: what the task in process context was doing */
#define TT_ACTOR_EXITING (1u << 0) /* PF_EXITING: closing as part of exit() or a fatal signal */

/* timer_ctx: the event happened inside this socket's timer handler */
#define TT_TIMER_NONE	   0
#define TT_TIMER_KEEPALIVE 1

struct tt_event {
	__u64 ts_ns;	/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 sk;	/* struct sock address; with birth_ns it names one socket's life */
	__u64 birth_ns; /* when the BPF side first saw this socket life (0: not tracked) */
	__u8 saddr[16]; /* local address; IPv4 in the first 4 bytes */
	__u8 daddr[16]; /* remote address */
	__u16 lport;	/* host order */
	__u16 rport;	/* host order */
	__u8 family;	/* 4 or 6 */
	__u8 type;	/* enum tt_event_type */
	__u8 old_state; /* TCP_* (kernel numbering) at this event */
	__u8 new_state;
	__u32 owner_pid; /* tgid recorded in process context; 0 unknown */
	__u32 actor_pid; /* tgid of the task in process context (socket lock owned); 0 if softirq */
	char owner_comm[TT_COMM_LEN];
	char actor_comm[TT_COMM_LEN];
	__u32 actor_flags; /* TT_ACTOR_* */
	__s32 exit_code; /* task->exit_code of an exiting actor: signal in low 7 bits, status << 8 */
	__u32 sk_err;	 /* sk->sk_err at this event */
	__u8 timer_ctx;	 /* TT_TIMER_* */
	__u8 peer_fin;	 /* the peer's FIN has been received (SOCK_DONE) */
	__u8 linger2_neg; /* TCP_LINGER2 < 0: an orphan in FIN_WAIT2 is dropped, not timewaited */
	__u8 pad;
	union {
		/* TT_EV_STATE: what used to be records of their own, carried
		 * by the state change they belong to (fewer ring records per
		 * connection; each costs a reserve, a fill and a submit) */
		struct {
			/* a transition held back before this one (flush_held_state):
			 * connect()'s SYN_SENT, a child's SYN_RECV. held_ts 0: none */
			__u64 held_ts;
			/* the socket's RTT estimates at this transition, as in
			 * struct tt_rtt (rtt_when TT_RTT_ESTABLISHED or
			 * TT_RTT_CLOSE; 0: none carried) */
			__u32 srtt_us;
			__u32 min_rtt_us;
			__u8 rtt_when;
			__u8 held_old;
			__u8 held_new;
		} state;
		struct {
			__u64 bytes;
			__u32 segs;
			__u8 dir;      /* enum tt_dir */
			__u8 inferred; /* stamped when noticed: not when sent or when it arrived */
		} data;
		struct {
			__u32 seq;
			__u32 count; /* nth retransmit on this socket */
			__s32 err;   /* 6.17+: the retransmit failed with this error */
			__u8 syn;    /* a SYN or SYN-ACK */
		} retrans;
		struct {
			__u32 n; /* unanswered probes so far */
			__u8 dir;
		} ka_probe;
		struct {
			__u64 rtt_ns; /* 0 unknown */
			__u8 dir;
			__u8 inferred; /* seen only in socket fields at a later event (TT_KA_INFERRED) */
		} ka_ack;
		struct {
			__u32 reason; /* enum sk_rst_reason value (6.10+), TT_RST_REASON_NONE otherwise */
			__u8 dir;
		} rst;
		struct {
			__u32 err; /* errno */
		} error;
		struct {
			__u64 bytes_acked; /* tcp_sock totals, for cross-checking */
			__u64 bytes_received;
		} destroy;
		__u8 raw[24];
	};
};

#define TT_RST_REASON_NONE 0xffffffffu

/*
 * Records other than tt_event. Each has its own struct, of a size no other
 * record has (user space tells them apart by size, then checks `rec`), so
 * they stay independent of tt_event's layout.
 */
#define TT_REC_DROP	    0x504f5244u /* "DROP" */
#define TT_DROP_REASON_NONE 0xffffffffu /* kernel before 5.17: no reason given */

/* A TCP segment the kernel dropped (tp_btf/kfree_skb), as it was on the
 * wire: addresses and ports are the segment's own, not a socket's view.
 * User space matches it to the connection of each end on this host. */
struct tt_drop {
	__u32 rec;	/* TT_REC_DROP */
	__u32 reason;	/* enum skb_drop_reason value, or TT_DROP_REASON_NONE */
	__u64 ts_ns;	/* CLOCK_MONOTONIC */
	__u64 sk;	/* skb->sk: the sending socket on output; 0 on input */
	__u8 saddr[16]; /* the segment's source; IPv4 in the first 4 bytes */
	__u8 daddr[16]; /* its destination */
	__u16 sport;	/* host order */
	__u16 dport;
	__u8 family; /* 4 or 6 */
	__u8 flags;  /* TCP header flags byte (FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10) */
	__u16 pad;
	__u32 bytes; /* payload */
	__u32 seq;   /* host order */
};

/* Counters the BPF side keeps in a per-CPU array: index by enum tt_counter. */
enum tt_counter {
	TT_CNT_LOST = 0,    /* ring buffer reservation failed: an event was lost */
	TT_CNT_LOST_DATA,   /* of those, folded data records */
	TT_CNT_MAP_FULL,    /* a socket could not be tracked (map update failed) */
	TT_CNT_TRACED_FULL, /* -x: a process of the command could not be followed (map full) */
	TT_CNT_MAX,
};

/* The listener owner map (port -> owner), also seeded from user space for
 * listeners that existed before tracing began. */
struct tt_owner {
	__u32 pid;
	char comm[TT_COMM_LEN];
};

/* Its key: family (4 or 6) and local port. The BPF side and the loader's
 * seeding must agree, so the formula lives here only. */
static inline __u32 tt_listener_key(__u8 family, __u16 port)
{
	return ((__u32)family << 16) | port;
}

/* The socket's RTT estimates at two moments (inet_sock_set_state): entering
 * ESTABLISHED (the first sample is the handshake: SYN -> SYN,ACK for a
 * client, SYN,ACK -> ACK for an accepted socket) and entering CLOSE. Sent
 * just before that transition's tt_event, which it belongs to. */
#define TT_REC_RTT	   0x20545452u /* "RTT " */
#define TT_RTT_ESTABLISHED 1
#define TT_RTT_CLOSE	   2
#define TT_RTT_NONE	   0xffffffffu /* no sample */

struct tt_rtt {
	__u32 rec; /* TT_REC_RTT */
	__u8 when; /* TT_RTT_ESTABLISHED or TT_RTT_CLOSE */
	__u8 pad[3];
	__u64 ts_ns;
	__u64 sk; /* with birth_ns, the socket life it belongs to */
	__u64 birth_ns;
	__u32 srtt_us;	  /* smoothed RTT (tcp_sock.srtt_us >> 3); TT_RTT_NONE: no sample yet */
	__u32 min_rtt_us; /* windowed minimum (tcp_sock.rtt_min); TT_RTT_NONE: none */
};

/* A zero-window stall begins or ends (bpf/window.bpf.h): `in`, the peer
 * advertises a zero window (we cannot send: its application is not
 * reading); `out`, we do (our application is not reading). Rare: a full
 * record each. */
#define TT_REC_WINDOW  0x444e4957u /* "WIND" */
#define TT_WINDOW_ZERO 1
#define TT_WINDOW_OPEN 2

struct tt_window {
	__u32 rec;	/* TT_REC_WINDOW */
	__u8 dir;	/* enum tt_dir: in, the peer's window; out, ours */
	__u8 state;	/* TT_WINDOW_ZERO or TT_WINDOW_OPEN */
	__u8 inferred;	/* stamped from socket fields when noticed, not seen on the wire */
	__u8 tcp_state; /* TCP_* at this moment */
	__u64 ts_ns;
	__u64 sk; /* with birth_ns, the socket life it belongs to */
	__u64 birth_ns;
	__u32 queued; /* in: bytes in the send queue (unacked and unsent); out: unread */
	__u32 probes; /* in: zero-window probes (persist timer runs) since the stall began */
	__u32 window; /* in: the segment's window field (unscaled); out: rcv_wnd */
	__u32 pad;
};

/* A data run (what a TT_EV_DATA tt_event says) of a socket life user space
 * already knows: a full tt_event of that life went into the ring before it
 * (sock_info.announced on the BPF side), so the addresses, ports and owner
 * are in user space's connection and are not sent again. A socket's first
 * record is always a full tt_event. Most data runs are sent this way:
 * 56 bytes instead of 144. */
#define TT_REC_DATA 0x41544144u /* "DATA" */

struct tt_data {
	__u32 rec;  /* TT_REC_DATA */
	__u32 segs; /* segments in the run (at least 1) */
	__u64 ts_ns;
	__u64 sk; /* with birth_ns, the socket life it belongs to */
	__u64 birth_ns;
	__u64 bytes;
	__u8 dir;      /* enum tt_dir */
	__u8 inferred; /* as tt_event.data.inferred */
	__u8 pad[6];
	__u64 reserved; /* 0; keeps the size apart from tt_window's */
};

/* A state change (what a TT_EV_STATE tt_event says) of a socket life user
 * space already knows, as tt_data: without the addresses, ports and owner,
 * which user space has. Sent when nothing rides along that only the full
 * record carries (a held transition) and the owner did not change with it.
 * The field names are tt_event's. 80 bytes instead of 144. */
#define TT_REC_STATE 0x54415453u /* "STAT" */

struct tt_state {
	__u32 rec;    /* TT_REC_STATE */
	__u32 sk_err; /* sk->sk_err at this event */
	__u64 ts_ns;
	__u64 sk; /* with birth_ns, the socket life it belongs to */
	__u64 birth_ns;
	__u8 old_state; /* TCP_* (kernel numbering) */
	__u8 new_state;
	__u8 timer_ctx;	  /* TT_TIMER_* */
	__u8 peer_fin;	  /* the peer's FIN has been received (SOCK_DONE) */
	__u8 linger2_neg; /* as tt_event.linger2_neg */
	__u8 pad[3];
	struct {
		__u32 srtt_us; /* as tt_event.state */
		__u32 min_rtt_us;
		__u8 rtt_when; /* 0: none carried */
		__u8 pad[3];
	} state;
	__u32 actor_pid; /* as tt_event: the task in process context, 0 if none */
	__u32 actor_flags;
	__s32 exit_code;
	char actor_comm[TT_COMM_LEN];
};

/* The per-socket flight recorder: a socket's state changes and data runs,
 * kept in its sock_info on the BPF side and sent as one record (when the
 * socket closes, its log fills, another kind of record about it must go
 * out, or its oldest entry is older than the live view's budget). The
 * socket's identity goes once, in the header; user space unpacks each
 * entry into the full tt_event it stands for. Entries carry their place in
 * the socket's log (first_seq + i): the same entry may come twice (the
 * budget's iterator and the socket's own flush), user space keeps the
 * first. Fixed size: TT_LOG_CAP entries, n of them used. A struct sock_info
 * begins with one, so user space can read an idle socket's log from the
 * socks map (TT_LOG_BUDGET_NS). */
#define TT_REC_LOG   0x474f4c46u /* "FLOG" */
#define TT_LOG_CAP   8

#define TT_LOG_STATE 1
#define TT_LOG_DATA  2

/* tt_log_ent.flags for a state entry */
#define TT_LOGF_PEER_FIN    (1u << 0)
#define TT_LOGF_LINGER2_NEG (1u << 1)
#define TT_LOGF_TIMER_KA    (1u << 2) /* timer_ctx TT_TIMER_KEEPALIVE */
#define TT_LOGF_ACTOR_OWNER (1u << 3) /* the actor was the owner (its pid and comm) */
#define TT_LOGF_RTT_SHIFT   4	      /* 2 bits: rtt_when */
/* for a data entry */
#define TT_LOGF_INFERRED (1u << 0)

struct tt_log_ent {
	__u64 ts_ns;
	__u8 kind;  /* TT_LOG_STATE or TT_LOG_DATA */
	__u8 a;	    /* state: old_state; data: dir */
	__u8 b;	    /* state: new_state */
	__u8 flags; /* TT_LOGF_* */
	__u32 x;    /* state: sk_err; data: segs */
	__u32 y;    /* state: srtt_us; data: bytes, low 32 bits */
	__u32 z;    /* state: min_rtt_us; data: bytes, high 32 bits */
};

struct tt_log_hdr {
	__u32 rec;	 /* TT_REC_LOG */
	__u32 first_seq; /* the first entry's place in the socket's log */
	__u64 sk;	 /* with birth_ns, the socket life it belongs to */
	__u64 birth_ns;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 lport;
	__u16 rport;
	__u8 family;
	__u8 n; /* entries used, 1 .. TT_LOG_CAP */
	/* 0 from the ring; 1 set by user space on a copy it read from the
	 * socks map (an idle socket's log, the budget) */
	__u8 from_map;
	__u8 pad;
	__u32 owner_pid;
	__u32 pad2;
	char owner_comm[TT_COMM_LEN];
};

struct tt_log {
	struct tt_log_hdr h;
	struct tt_log_ent e[TT_LOG_CAP];
};

/* The index of sockets whose log is not sent yet (a BPF array user space
 * maps): sk 0, a free slot; ts, when the log's first entry went in. A log
 * older than the budget is read from the socks map by user space. */
#define TT_LOG_BUDGET_NS 50000000ull /* 50 ms: the live view's budget */
struct tt_log_slot {
	__u64 sk;
	__u64 ts;
};

#endif /* TCPTIMELINE_H */
