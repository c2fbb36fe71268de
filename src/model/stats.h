/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Aggregation for the leave-it-running modes (--summary, --metrics): every
 * tl_event the connection table emits is folded into counters and
 * histograms keyed by a bounded port label and a bounded process name, so
 * memory and the number of Prometheus series stay fixed whatever the
 * traffic. Pure: no I/O, no libbpf; the renderers (render_stats.c) read it.
 */
#ifndef STATS_H
#define STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conn_table.h"
#include "timeline.h"

#define STATS_MAX_PORTS 16 /* ports with their own label; the rest are "other" */
#define STATS_MAX_COMMS 16 /* process names with their own label; the rest "[other]" */
/* Without -P, a port (or a process name) gets its own label once it has
 * carried this many connections: a port scan or a burst of one-off
 * connections cannot use the labels up. Ports given with -P get theirs at
 * once. */
#define STATS_PROMOTE_AFTER   4
#define STATS_COMM_CANDIDATES 256 /* process names counted towards a label */
#define STATS_MAX_REASONS     32  /* distinct reset reasons per port row and direction */
#define STATS_MAX_ERRORS      16  /* distinct errnos per port row */
/* distinct drop reasons per row: the kernel's enum has ~130, a host sees a few */
#define STATS_MAX_DROP_REASONS 24

#define STATS_N_CAUSES	       (CAUSE_SYN_TIMEOUT + 1)

/* Prometheus bucket bounds, in ns (le="0.0001" ...), and the fine log2
 * buckets the summary's percentiles come from (8 per power of two of µs:
 * within 9%). */
#define STATS_HS_BUCKETS  16
#define STATS_DUR_BUCKETS 14
#define STATS_LOG_SUB	  8
#define STATS_LOG_BUCKETS (42 * STATS_LOG_SUB)
extern const uint64_t stats_hs_bounds_ns[STATS_HS_BUCKETS];
extern const uint64_t stats_dur_bounds_ns[STATS_DUR_BUCKETS];

struct stats_hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t prom[STATS_HS_BUCKETS > STATS_DUR_BUCKETS ? STATS_HS_BUCKETS : STATS_DUR_BUCKETS];
	uint64_t log[STATS_LOG_BUCKETS];
};

struct stats_kv {
	uint32_t key;
	uint64_t n;
};

/* Everything counted for one port label, or for one process name. */
struct stats_row {
	bool used;
	uint64_t opened;
	uint64_t closed[STATS_N_CAUSES];
	uint64_t resets[2];			       /* by enum tt_dir */
	struct stats_kv reasons[2][STATS_MAX_REASONS]; /* key: kernel reason, TT_RST_REASON_NONE */
	uint32_t n_reasons[2];
	uint64_t reasons_other[2]; /* resets whose reason did not fit */
	uint64_t retransmits;
	uint64_t ka_probes[2];
	struct stats_kv errors[STATS_MAX_ERRORS]; /* key: errno */
	uint32_t n_errors;
	uint64_t errors_other;
	/* drop events (each end's and each listener's view counts once), by
	 * reason; key: enum skb_drop_reason, TT_DROP_REASON_NONE before 5.17 */
	uint64_t drops;
	struct stats_kv drop_reasons[STATS_MAX_DROP_REASONS];
	uint32_t n_drop_reasons;
	uint64_t drop_reasons_other; /* drops whose reason did not fit */
	uint64_t window_stalls[2];   /* zero-window stalls begun, by enum tt_dir */
	uint64_t bytes[2];
	struct stats_hist handshake, duration;
};

/* Connections opened and closed per (port, comm) pair: the only families
 * that carry both labels. */
struct stats_cell {
	uint64_t opened;
	uint64_t closed[STATS_N_CAUSES];
};

#define STATS_OTHER STATS_MAX_PORTS /* the index of the "other" row */

struct stats_comm_cand {
	char comm[TT_COMM_LEN];
	uint32_t n;
};

/* The label of a process name, remembered by pid: the names are compared
 * once per process, not once per event. */
#define STATS_COMM_CACHE 1024
struct stats_comm_cache {
	uint32_t pid;
	char comm[TT_COMM_LEN];
	uint8_t index;
};

struct stats {
	bool ports_given;	    /* -P: only these ports get labels, at once */
	uint64_t port_wanted[1024]; /* the -P set, one bit per port */
	uint8_t port_slot[65536];   /* 0: none, else index + 1 */
	uint8_t port_seen[65536];   /* connections counted towards a label, saturating */
	uint64_t listening[1024];   /* ports seen in LISTEN: tells the end of unknown sockets */
	uint16_t ports[STATS_MAX_PORTS];
	uint32_t n_ports;
	char comms[STATS_MAX_COMMS][TT_COMM_LEN];
	uint32_t n_comms;
	struct stats_comm_cand cands[STATS_COMM_CANDIDATES];
	uint32_t n_cands;
	struct stats_comm_cache comm_cache[STATS_COMM_CACHE];
	struct stats_row port_rows[STATS_MAX_PORTS + 1];
	struct stats_row comm_rows[STATS_MAX_COMMS + 2]; /* + [other], [unknown] */
	struct stats_cell cells[STATS_MAX_PORTS + 1][STATS_MAX_COMMS + 2];
	uint64_t lost;
	uint64_t tracked; /* sockets followed now (set by the caller) */
	uint64_t events;  /* every event folded in */
};

#define STATS_COMM_OTHER   STATS_MAX_COMMS
#define STATS_COMM_UNKNOWN (STATS_MAX_COMMS + 1)

/* ports: the -P set (1024 words, one bit per port) or NULL for none. */
struct stats *stats_new(const uint64_t *ports);
void stats_free(struct stats *s);

/* Fold one event of connection c (NULL for `lost`) in: the sink's arguments. */
void stats_event(struct stats *s, const struct tl_event *ev, const struct conn *c);
/* stats_event as a connection table's sink (ctx: the stats), for a run whose
 * only output per event is the stats (--metrics or --summary with -q) */
void stats_sink(const struct tl_event *ev, const struct conn *c, void *ctx);
void stats_set_tracked(struct stats *s, uint64_t n);

/* The port a connection is counted under: the local port of a server or
 * listener, the remote port of a client; for a socket whose end is not
 * known, the local port if something listens there, else the lower one. */
uint16_t stats_conn_port(const struct stats *s, const struct conn *c);

/* Labels of row i: a port ("9000"/"other"), a process name ("[other]",
 * "[unknown]"). buf: at least TT_COMM_LEN. */
const char *stats_port_label(const struct stats *s, uint32_t i, char *buf, size_t len);
const char *stats_comm_label(const struct stats *s, uint32_t i);

/* The q-quantile (0..1) of a histogram in ns, from its fine buckets (the
 * upper bound of the bucket it falls in); 0 when empty. */
uint64_t stats_hist_quantile_ns(const struct stats_hist *h, double q);
/* Sums of rows: totals over every port row. */
void stats_total(const struct stats *s, struct stats_row *out);

#endif /* STATS_H */
