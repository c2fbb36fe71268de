// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Counters and histograms for --summary and --metrics, fed from the
 * connection table's sink. Labels are bounded (see stats.h): every table
 * is fixed-size and allocated once, so a busy host costs no more memory
 * than a quiet one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "names.h"
#include "stats.h"

/* Handshakes on loopback take tens of µs, across an ocean hundreds of ms,
 * a lost SYN costs 1 s; durations run from a refused connect to days. */
const uint64_t stats_hs_bounds_ns[STATS_HS_BUCKETS] = {
	100000ULL,     250000ULL,     500000ULL,     1000000ULL,     2500000ULL,   5000000ULL,
	10000000ULL,   25000000ULL,   50000000ULL,   100000000ULL,   250000000ULL, 500000000ULL,
	1000000000ULL, 2500000000ULL, 5000000000ULL, 10000000000ULL,
};
const uint64_t stats_dur_bounds_ns[STATS_DUR_BUCKETS] = {
	1000000ULL,
	10000000ULL,
	100000000ULL,
	500000000ULL,
	1000000000ULL,
	5000000000ULL,
	10000000000ULL,
	30000000000ULL,
	60000000000ULL,
	300000000000ULL,
	900000000000ULL,
	3600000000000ULL,
	14400000000ULL * 1000,
	86400000000ULL * 1000,
};

static bool bit(const uint64_t *bits, uint16_t p)
{
	return bits[p >> 6] & (1ULL << (p & 63));
}

struct stats *stats_new(const uint64_t *ports)
{
	struct stats *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (ports) {
		s->ports_given = true;
		memcpy(s->port_wanted, ports, sizeof(s->port_wanted));
	}
	return s;
}

void stats_free(struct stats *s)
{
	free(s);
}

void stats_set_tracked(struct stats *s, uint64_t n)
{
	s->tracked = n;
}

uint16_t stats_conn_port(const struct stats *s, const struct conn *c)
{
	uint16_t l = c->ep.lport, r = c->ep.rport;

	switch (c->role) {
	case CONN_ROLE_CLIENT:
		return r;
	case CONN_ROLE_SERVER:
	case CONN_ROLE_LISTENER:
		return l;
	default:
		if (bit(s->listening, l))
			return l;
		if (bit(s->listening, r))
			return r;
		/* ephemeral ports are the high ones */
		return l && (l < r || !r) ? l : r;
	}
}

/* The row of a port, giving it a label if it has earned one. count: this
 * is a connection's first event (it counts towards a label). */
static uint32_t port_index(struct stats *s, uint16_t port, bool count)
{
	if (s->port_slot[port])
		return s->port_slot[port] - 1;
	if (!port || s->n_ports >= STATS_MAX_PORTS)
		return STATS_OTHER;
	if (s->ports_given) {
		if (!bit(s->port_wanted, port))
			return STATS_OTHER;
	} else {
		if (count && s->port_seen[port] < 255)
			s->port_seen[port]++;
		if (s->port_seen[port] < STATS_PROMOTE_AFTER)
			return STATS_OTHER;
	}
	s->ports[s->n_ports] = port;
	s->port_slot[port] = (uint8_t)(++s->n_ports);
	return s->n_ports - 1;
}

static uint32_t comm_index_slow(struct stats *s, const struct conn *c, bool count)
{
	struct stats_comm_cand *cand = NULL;

	for (uint32_t i = 0; i < s->n_comms; i++)
		if (!strncmp(s->comms[i], c->comm, TT_COMM_LEN))
			return i;
	if (s->n_comms >= STATS_MAX_COMMS)
		return STATS_COMM_OTHER;
	for (uint32_t i = 0; i < s->n_cands; i++)
		if (!strncmp(s->cands[i].comm, c->comm, TT_COMM_LEN))
			cand = &s->cands[i];
	if (!cand) {
		/* the candidates are full of names that never earned a label:
		 * new ones go uncounted, under [other] */
		if (!count || s->n_cands >= STATS_COMM_CANDIDATES)
			return STATS_COMM_OTHER;
		cand = &s->cands[s->n_cands++];
		memcpy(cand->comm, c->comm, TT_COMM_LEN);
		cand->comm[TT_COMM_LEN - 1] = '\0';
	}
	if (count)
		cand->n++;
	if (cand->n < STATS_PROMOTE_AFTER)
		return STATS_COMM_OTHER;
	memcpy(s->comms[s->n_comms], cand->comm, TT_COMM_LEN);
	return s->n_comms++;
}

static uint32_t comm_index(struct stats *s, const struct conn *c, bool count)
{
	struct stats_comm_cache *e;
	uint32_t i;

	if (!c->pid)
		return STATS_COMM_UNKNOWN;
	e = &s->comm_cache[(c->pid * 2654435761u) % STATS_COMM_CACHE];
	if (e->pid == c->pid && !memcmp(e->comm, c->comm, TT_COMM_LEN))
		return e->index;
	i = comm_index_slow(s, c, count);
	/* a name under [other] may still earn a label, unless they are all taken */
	if (i < s->n_comms || s->n_comms >= STATS_MAX_COMMS) {
		e->pid = c->pid;
		memcpy(e->comm, c->comm, TT_COMM_LEN);
		e->index = (uint8_t)i;
	}
	return i;
}

const char *stats_port_label(const struct stats *s, uint32_t i, char *buf, size_t len)
{
	if (i >= s->n_ports)
		return "other";
	snprintf(buf, len, "%u", s->ports[i]);
	return buf;
}

const char *stats_comm_label(const struct stats *s, uint32_t i)
{
	if (i == STATS_COMM_UNKNOWN)
		return "[unknown]";
	if (i >= s->n_comms)
		return "[other]";
	return s->comms[i];
}

static uint32_t log_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	uint32_t e, sub;

	if (us < STATS_LOG_SUB)
		return (uint32_t)us;				 /* exact below 8 µs */
	e = 63 - (uint32_t)__builtin_clzll(us);			 /* 2^e <= us < 2^(e+1), e >= 3 */
	sub = (uint32_t)((us >> (e - 3)) & (STATS_LOG_SUB - 1)); /* the next three bits */
	e = (e - 2) * STATS_LOG_SUB + sub;
	return e < STATS_LOG_BUCKETS ? e : STATS_LOG_BUCKETS - 1;
}

/* The upper bound (µs, exclusive) of fine bucket i. */
static uint64_t log_bucket_upper_us(uint32_t i)
{
	uint32_t e, sub;

	if (i < STATS_LOG_SUB)
		return i + 1;
	e = i / STATS_LOG_SUB + 2;
	sub = i % STATS_LOG_SUB;
	return ((uint64_t)(STATS_LOG_SUB + sub + 1)) << (e - 3);
}

static void hist_add(struct stats_hist *h, const uint64_t *bounds, uint32_t n, uint64_t ns)
{
	uint32_t i = 0;

	h->count++;
	h->sum_ns += ns;
	while (i < n && ns > bounds[i])
		i++;
	if (i < n)
		h->prom[i]++; /* per bucket here; the exposition makes it cumulative */
	h->log[log_bucket(ns)]++;
}

uint64_t stats_hist_quantile_ns(const struct stats_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	for (uint32_t i = 0; i < STATS_LOG_BUCKETS; i++) {
		seen += h->log[i];
		if (seen >= rank)
			return log_bucket_upper_us(i) * 1000;
	}
	return log_bucket_upper_us(STATS_LOG_BUCKETS - 1) * 1000;
}

static void kv_add(struct stats_kv *kv, uint32_t *n, uint32_t max, uint64_t *other, uint32_t key)
{
	for (uint32_t i = 0; i < *n; i++) {
		if (kv[i].key == key) {
			kv[i].n++;
			return;
		}
	}
	if (*n < max) {
		kv[*n].key = key;
		kv[(*n)++].n = 1;
	} else {
		(*other)++;
	}
}

/* One event into one row. */
static inline __attribute__((always_inline)) void row_add(struct stats_row *r,
							  const struct tl_event *ev,
							  const struct conn *c, bool opened,
							  uint64_t handshake_ns)
{
	r->used = true;
	if (opened)
		r->opened++;
	switch (ev->kind) {
	case TL_STATE:
		if (handshake_ns)
			hist_add(&r->handshake, stats_hs_bounds_ns, STATS_HS_BUCKETS, handshake_ns);
		break;
	case TL_CLOSE:
		r->closed[ev->close.cause < STATS_N_CAUSES ? ev->close.cause : CAUSE_UNKNOWN]++;
		/* a connection found open at start: its age is not known */
		if (!c->existing)
			hist_add(&r->duration, stats_dur_bounds_ns, STATS_DUR_BUCKETS,
				 ev->close.duration_ns);
		break;
	case TL_RST: {
		int d = ev->rst.dir == TT_DIR_OUT;

		r->resets[d]++;
		kv_add(r->reasons[d], &r->n_reasons[d], STATS_MAX_REASONS, &r->reasons_other[d],
		       ev->rst.reason);
		break;
	}
	case TL_RETRANSMIT:
		if (!ev->retrans.err)
			r->retransmits++;
		break;
	case TL_KA_PROBE:
		r->ka_probes[ev->ka_probe.dir == TT_DIR_OUT]++;
		break;
	case TL_ERROR:
		kv_add(r->errors, &r->n_errors, STATS_MAX_ERRORS, &r->errors_other,
		       (uint32_t)ev->error.err);
		break;
	case TL_DATA:
		r->bytes[ev->data.dir == TT_DIR_OUT] += ev->data.bytes;
		break;
	case TL_WINDOW:
		if (!ev->window.open)
			r->window_stalls[ev->window.dir == TT_DIR_OUT]++;
		break;
	case TL_DROP:
		r->drops++;
		kv_add(r->drop_reasons, &r->n_drop_reasons, STATS_MAX_DROP_REASONS,
		       &r->drop_reasons_other, ev->drop.reason);
		break;
	default:
		break;
	}
}

static inline __attribute__((always_inline)) void
event_in(struct stats *s, const struct tl_event *ev, const struct conn *c)
{
	bool opened = false, first;
	uint64_t handshake_ns = 0;
	uint32_t pi, ci;
	uint16_t port;

	s->events++;
	if (ev->kind == TL_LOST) {
		s->lost += ev->lost.count;
		return;
	}
	if (!c)
		return;
	if (c->role == CONN_ROLE_LISTENER ||
	    (ev->kind == TL_EXISTING && ev->existing.state == TT_TCP_LISTEN)) {
		/* a listener is not a connection: it only tells which end the
		 * sockets on its port are */
		s->listening[c->ep.lport >> 6] |= 1ULL << (c->ep.lport & 63);
		/* ... but the segments it counted for connections not yet its own
		 * (a full accept queue) are drops like any other */
		if (ev->kind == TL_DROP) {
			row_add(&s->port_rows[port_index(s, c->ep.lport, false)], ev, c, false, 0);
			row_add(&s->comm_rows[comm_index(s, c, false)], ev, c, false, 0);
		}
		return;
	}
	if (ev->kind == TL_STATE) {
		/* opened: connect() sent its SYN, or a listener received one */
		opened = (ev->state.new_state == TT_TCP_SYN_SENT &&
			  ev->state.old_state == TT_TCP_CLOSE) ||
			 (ev->state.new_state == TT_TCP_SYN_RECV &&
			  ev->state.old_state == TT_TCP_LISTEN);
		/* from the SYN (the first event: it made the connection) to
		 * ESTABLISHED: the client's SYN out to SYN,ACK in; the server's
		 * SYN in to the final ACK in. */
		if (ev->state.new_state == TT_TCP_ESTABLISHED && !c->existing &&
		    (ev->state.old_state == TT_TCP_SYN_SENT ||
		     ev->state.old_state == TT_TCP_SYN_RECV) &&
		    ev->ts_ns >= c->first_ts)
			handshake_ns = ev->ts_ns - c->first_ts;
	}
	/* a connection's first event counts towards its port's label */
	first = opened || ev->kind == TL_EXISTING;
	port = c->role == CONN_ROLE_CLIENT ? c->ep.rport : c->ep.lport;
	if (c->stats_pi && c->stats_role == c->role && c->stats_port == port) {
		pi = c->stats_pi - 1u;
		ci = c->stats_ci;
	} else {
		struct conn *m = (struct conn *)c; /* its stats_* fields are ours */

		pi = port_index(s, stats_conn_port(s, c), first);
		ci = comm_index(s, c, first);
		/* labels are for good, and the rows of labelled ones are found
		 * again with no side effects: a client's or a server's port is
		 * its role's, its name the owner's (the table clears stats_pi
		 * when that changes) */
		if ((c->role == CONN_ROLE_CLIENT || c->role == CONN_ROLE_SERVER) &&
		    pi < s->n_ports && (ci < s->n_comms || ci == STATS_COMM_UNKNOWN)) {
			m->stats_pi = (uint8_t)(pi + 1);
			m->stats_ci = (uint8_t)ci;
			m->stats_role = c->role;
			m->stats_port = port;
		}
	}
	row_add(&s->port_rows[pi], ev, c, opened, handshake_ns);
	row_add(&s->comm_rows[ci], ev, c, opened, handshake_ns);
	if (opened)
		s->cells[pi][ci].opened++;
	if (ev->kind == TL_CLOSE)
		s->cells[pi][ci].closed[ev->close.cause < STATS_N_CAUSES ? ev->close.cause :
									   CAUSE_UNKNOWN]++;
}

void stats_event(struct stats *s, const struct tl_event *ev, const struct conn *c)
{
	event_in(s, ev, c);
}

void stats_sink(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	event_in(ctx, ev, c);
}

static void hist_sum(struct stats_hist *to, const struct stats_hist *from)
{
	to->count += from->count;
	to->sum_ns += from->sum_ns;
	for (size_t i = 0; i < sizeof(to->prom) / sizeof(to->prom[0]); i++)
		to->prom[i] += from->prom[i];
	for (size_t i = 0; i < STATS_LOG_BUCKETS; i++)
		to->log[i] += from->log[i];
}

void stats_total(const struct stats *s, struct stats_row *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t p = 0; p <= STATS_MAX_PORTS; p++) {
		const struct stats_row *r = &s->port_rows[p];

		if (!r->used)
			continue;
		out->used = true;
		out->opened += r->opened;
		for (int i = 0; i < STATS_N_CAUSES; i++)
			out->closed[i] += r->closed[i];
		for (int d = 0; d < 2; d++) {
			out->resets[d] += r->resets[d];
			out->ka_probes[d] += r->ka_probes[d];
			out->bytes[d] += r->bytes[d];
			out->window_stalls[d] += r->window_stalls[d];
		}
		out->retransmits += r->retransmits;
		out->drops += r->drops;
		out->drop_reasons_other += r->drops; /* totals: the count only */
		for (uint32_t i = 0; i < r->n_errors; i++)
			out->errors_other += r->errors[i].n; /* totals: the count only */
		out->errors_other += r->errors_other;
		hist_sum(&out->handshake, &r->handshake);
		hist_sum(&out->duration, &r->duration);
	}
}
