/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The connection table: folds kernel records into connections, gives each
 * socket life a stable id, keeps owners, totals and the facts the close
 * cause is decided from, and hands tl_events to a sink (the renderer).
 * Bounded: closed connections are kept only until the next ones push them out.
 */
#ifndef CONN_TABLE_H
#define CONN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cause.h"
#include "tcptimeline.h"
#include "timeline.h"

/* Which end of a connection a socket is, from its first state changes. */
enum conn_role {
	CONN_ROLE_UNKNOWN = 0, /* found open at start, or seen only through a reset */
	CONN_ROLE_CLIENT,      /* went to SYN_SENT: connect() */
	CONN_ROLE_SERVER,      /* went through SYN_RECV: accepted */
	CONN_ROLE_LISTENER,    /* went to LISTEN */
};

struct conn {
	uint64_t id;
	uint64_t sk;	   /* kernel socket address; 0 until known */
	uint64_t birth_ns; /* with sk, names the socket life */
	struct tl_endpoints ep;
	uint32_t pid; /* owner; 0 unknown */
	char comm[TT_COMM_LEN];
	uint64_t first_ts, last_ts;
	uint8_t state;
	uint8_t role;  /* enum conn_role */
	bool existing; /* open before tracing began */
	bool closed;   /* the close event has been emitted */
	bool destroyed;
	bool rst_seen; /* a reset either way */
	/* stats.c's rows for this connection (port row + 1, comm row; 0: not
	 * looked up yet) while its role and port are these; the table clears
	 * stats_pi when its owner changes */
	uint8_t stats_pi, stats_ci, stats_role;
	uint16_t stats_port;
	uint64_t timewait_ts; /* when it closed into a timewait socket (time_wait: true); 0: not */
	enum tl_cause cause;  /* once closed (cause_known) */
	bool cause_known;     /* closed with a close event (not a lone reset) */
	uint32_t seen;	      /* CONN_SAW_*: what happened, kept when events are cut */
	bool released;	      /* its held events were handed out and freed (filters) */
	bool shown;	      /* ... and printed: its later events go out as they come */
	struct cause_facts facts;
	uint64_t bytes_in, bytes_out;
	uint32_t retransmits, keepalives;
	uint32_t drops; /* dropped segments matched to this end (a listener: for its queue) */
	bool drops_checked;
	/* zero-window stalls: since when each way's window is zero (0: open),
	 * since when either is (the stalled time is their union) */
	uint64_t zw_since[2], stall_since;
	uint32_t window_stalls, zw_probes;
	uint64_t stalled_ns;
	/* the latest tt_rtt for this socket, for the state change it precedes */
	uint8_t rtt_when;
	uint32_t rtt_srtt_us,
		rtt_min_us;   /* looked for in the unmatched drops once its 4-tuple was known */
	uint32_t last_sk_err; /* the socket's error at its last state change */
	uint32_t log_next;    /* the flight recorder: the next log entry not seen yet */
	uint32_t n_state_events;
	/* every event of this connection, for diagrams drawn at close and for
	 * the outcome filters: consecutive data records of one direction are
	 * folded into one; a long story loses its middle (a TL_TRUNCATED
	 * marker in its place) to the per-connection limit or the budget */
	struct tl_event *events;
	size_t n_events, cap_events;
	uint64_t events_dropped; /* events of this connection not kept */
	uint32_t ka_runs;	 /* TL_KA_RUN slots among them */
	/* its bucket in the table's stories by length (budget victims) */
	struct conn *sprev, *snext;
	uint32_t n_len; /* the bucket it is in (its n_events then); 0: none */
	/* table links */
	struct conn *hnext;	  /* hash chain by sk */
	struct conn *tnext;	  /* hash chain by ports (lport, rport) */
	struct conn *inext;	  /* hash chain by id */
	size_t tbucket;		  /* its bucket in the ports hash */
	uint64_t close_seq;	  /* order of closing (newest closed first) */
	struct conn *prev, *next; /* age order, oldest first */
};

/* conn.seen: what a connection went through (outcome filters) */
#define CONN_SAW_RETRANSMIT (1u << 0) /* a retransmit, failed or not */
#define CONN_SAW_RST	    (1u << 1) /* a reset, either way */
#define CONN_SAW_ERROR	    (1u << 2) /* an error reported to the application */
#define CONN_SAW_WINDOW	    (1u << 3) /* a zero-window stall, either way */

/* Receives every event, in order. */
typedef void (*tl_sink_fn)(const struct tl_event *ev, const struct conn *c, void *ctx);

struct conn_table_opts {
	uint32_t max_open;	      /* connections followed at once */
	uint32_t max_closed;	      /* closed ones kept for late events and pairing */
	uint32_t max_events_per_conn; /* 0: do not keep events */
	bool kernel_reports_errors;   /* false: infer `error` from sk_err at close (5.10) */
	tl_sink_fn sink;
	void *sink_ctx;
	/* called when a connection closes, after its close event (ladders) */
	void (*on_close)(const struct conn *c, void *ctx);
	void *on_close_ctx;
	/* called (with on_close_ctx) when a reset with no socket behind it (a
	 * refused SYN) is known to be all there is of its "connection" */
	void (*on_stateless)(const struct conn *c, void *ctx);
	/* bytes for everything the table holds (connections and their events);
	 * 0: no bound but max_open, max_closed and max_events_per_conn. When a
	 * story must grow past it, the middle of the longest is cut first. */
	size_t max_memory;
};

struct conn_table;

struct conn_table *conn_table_new(const struct conn_table_opts *opts);
void conn_table_free(struct conn_table *t);

/* One record from the ring buffer (already validated by decode). */
void conn_table_add_raw(struct conn_table *t, const struct tt_event *raw);
/* One event as the table once emitted it (a --json recording read back):
 * ev->conn names the connection, and its id stays. The connection's facts
 * (state, totals, owner, closed) are kept as for live records; causes are
 * not decided again: the recorded close event says them. */
void conn_table_add_event(struct conn_table *t, const struct tl_event *ev);
/* A dropped segment (tp_btf/kfree_skb): a drop event on the connection of
 * each end on this host (dir from that end's view), or on the listener a
 * segment was for. A drop that matches no end yet is kept a few seconds
 * (bounded) for a connection whose 4-tuple is not known yet (connect()'s
 * SYN_SENT is reported with its next event). */
void conn_table_add_drop(struct conn_table *t, const struct tt_drop *raw);
/* The socket's RTT estimates, sent just before its ESTABLISHED or CLOSE
 * transition: handshake_us of the first, srtt_us/min_rtt_us of the close. */
void conn_table_add_rtt(struct conn_table *t, const struct tt_rtt *raw);
/* A zero-window stall's begin or end (tt_window): a window event. */
void conn_table_add_window(struct conn_table *t, const struct tt_window *raw);
/* A data run of a socket life already known (tt_data): the same data event
 * a full TT_EV_DATA record gives. One whose connection is not in the table
 * (evicted at max_open) is counted as not kept. */
void conn_table_add_data(struct conn_table *t, const struct tt_data *raw);
/* A state change of a socket life already known (tt_state): the full
 * record rebuilt from the connection (addresses, ports, owner) and taken
 * as conn_table_add_raw takes it. Unknown: counted as not kept. */
void conn_table_add_state(struct conn_table *t, const struct tt_state *raw);
/* A socket's log (the flight recorder): each entry as the full event it
 * stands for, those already seen (a second copy) skipped. */
void conn_table_add_log(struct conn_table *t, const struct tt_log *raw);
/* A connection found open at start (sock_diag). */
void conn_table_add_existing(struct conn_table *t, const struct tl_endpoints *ep, uint8_t state,
			     uint32_t pid, const char *comm, uint64_t ts_ns);
/* Events the kernel could not hand over. */
void conn_table_add_lost(struct conn_table *t, uint64_t count, uint64_t ts_ns);

size_t conn_table_open_count(const struct conn_table *t);
size_t conn_table_size(const struct conn_table *t);
/* Every connection not yet closed, oldest first. */
void conn_table_foreach_open(const struct conn_table *t,
			     void (*fn)(const struct conn *c, void *ctx), void *ctx);
/* The kernel reports errors itself (inet_sk_error_report); otherwise they
 * are inferred from sk_err at close. */
void conn_table_set_kernel_reports_errors(struct conn_table *t, bool yes);
/* Hold a bare ACK freed without a reason (kfree_skb, NOT_SPECIFIED), which
 * is no drop when the end it came into had processed it in a closing
 * state, until that end's story reaches the drop's time (its next event
 * after it) or for at most ns (the flight recorder's budget and a margin:
 * by then every log up to it has come); 0 (the default): judged at once,
 * by what the table knows then. */
void conn_table_set_hold_drops(struct conn_table *t, uint64_t ns);
/* Judge the drops held since before now - the hold (UINT64_MAX: all). */
void conn_table_expire_held(struct conn_table *t, uint64_t now);
/* Connections dropped from the table because it was full. */
uint64_t conn_table_evicted(const struct conn_table *t);

/* Only a reset the kernel sent for a port with no socket (a refused SYN):
 * no state change, never open. */
bool conn_stateless(const struct conn *c);
/* Bytes the table holds now (connections and their kept events). */
size_t conn_table_held_bytes(const struct conn_table *t);
/* Events not kept, over all connections (per-connection limit and budget). */
uint64_t conn_table_not_kept(const struct conn_table *t);
/* A held story as the events it stands for: c itself, or, when keepalive
 * runs are folded in it (TL_KA_RUN), tmp filled as a copy of c whose events
 * are a new array with every run expanded (conn_view_done frees it). NULL
 * when out of memory. Whatever reads a held story (ladders, printing a held
 * connection) reads it through this. */
const struct conn *conn_view(const struct conn *c, struct conn *tmp);
void conn_view_done(const struct conn *view, const struct conn *c);
/* Buckets looked at to choose the stories the budget cut (a measure of the
 * cost of choosing, for tests: about one per cut, not one per connection). */
uint64_t conn_table_victim_steps(const struct conn_table *t);
/* The owner is done with c's events (printed, or not wanted): they are
 * freed, and no more are kept for c. */
void conn_table_release(struct conn_table *t, const struct conn *c);
/* c's held story was printed: its later events go out as they come. */
void conn_table_mark_shown(struct conn_table *t, const struct conn *c);

/* b is the other end of a's connection (both on this host): the mirrored 4-tuple. */
bool conn_is_mirror(const struct conn *a, const struct conn *b);
/* The connection with this id, open or closed (and still kept); NULL if gone. */
const struct conn *conn_table_find_id(const struct conn_table *t, uint64_t id);
/* The other end of c on this host, newest first, whose life overlaps c's; NULL if none. */
const struct conn *conn_table_find_mirror(const struct conn_table *t, const struct conn *c);

#endif /* CONN_TABLE_H */
