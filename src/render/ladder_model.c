// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Ladder model. From the events of one end (or of both ends, when both are
 * on this host) to rows: one per segment, client on the left, server on the
 * right, notes at the side; drawing them is the renderers' (render_ladder
 * for text, render_html for SVG).
 *
 *  1. every event becomes observations: "this end sent / received segment X";
 *  2. with both ends, a segment one end sent and the other received is one
 *     arrow (matched by kind and time; data by byte offset), at the earlier
 *     of the two times; alone, every observation is an arrow to or from the
 *     remote end;
 *  3. notes: who closed and why, resets, errors the application saw,
 *     keepalive probes, retransmits;
 *  4. runs of data one way are folded into one arrow, long idle gaps marked
 *     for folding into one line, and the summary's items written.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "ladder_model.h"
#include "names.h"
#include "text.h"

/* a receiver may record a segment a little before its sender does (the
 * sender's record is written after the send returns) */
#define MATCH_BEFORE_NS 100000000ULL
#define MATCH_AFTER_NS	2000000000ULL

/* one segment as one end saw it */
struct ladder_obs {
	uint64_t ts;
	int col;   /* the end that saw it: 0 client (left), 1 server (right) */
	bool sent; /* it sent it; otherwise it received it */
	enum ladder_seg kind;
	const char *label; /* LADDER_SEG_CTRL: "SYN", "FIN,ACK", ... */
	size_t ev;	   /* index into the end's events */
	int sub;	   /* 0 received, 1 sent, for a state change that does both */
	uint64_t bytes;	   /* LADDER_SEG_DATA */
	uint32_t segs;
	uint64_t off;	  /* LADDER_SEG_DATA: offset of the first byte in its direction */
	int row;	  /* the row drawing it; -1 none yet, ROW_SUPPRESSED */
	bool carries_ack; /* a delayed ACK left with it (inferred_delayed_ack) */
	bool dropped;	  /* the kernel dropped this segment (merge_drops) */
	uint32_t drop_reason;
};

#define ROW_SUPPRESSED (-2) /* obs->row: seen, deliberately not drawn */

const char *const ladder_role[2] = { "client", "server" };

static void note_add(char *note, const char *text)
{
	size_t n = strlen(note);

	if (n)
		snprintf(note + n, LADDER_NOTE_MAX - n, "; %s", text);
	else
		snprintf(note, LADDER_NOTE_MAX, "%s", text);
}

static struct ladder_row *row_new(struct ladder *l)
{
	struct ladder_row *r;

	if (l->n_rows == l->cap_rows) {
		size_t cap = l->cap_rows ? l->cap_rows * 2 : 32;
		struct ladder_row *n = realloc(l->rows, cap * sizeof(*n));

		if (!n)
			return NULL;
		l->rows = n;
		l->cap_rows = cap;
	}
	r = &l->rows[l->n_rows++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* --- which end is the client ------------------------------------------------------------- */

static bool went_syn_sent(const struct conn *c)
{
	for (size_t i = 0; i < c->n_events; i++)
		if (c->events[i].kind == TL_STATE &&
		    c->events[i].state.new_state == TT_TCP_SYN_SENT)
			return true;
	return false;
}

static bool was_accepted(const struct conn *c)
{
	for (size_t i = 0; i < c->n_events; i++)
		if (c->events[i].kind == TL_STATE && c->events[i].state.old_state == TT_TCP_LISTEN)
			return true;
	return false;
}

/* the client: the end that sent the SYN; if unknown, the one with the higher port */
static bool is_client(const struct conn *a, const struct conn *b)
{
	if (went_syn_sent(a))
		return true;
	if (b && went_syn_sent(b))
		return false;
	if (was_accepted(a))
		return false;
	if (b && was_accepted(b))
		return true;
	return a->ep.lport > a->ep.rport;
}

/* --- 1. observations ---------------------------------------------------------------------- */

static void obs_add(struct ladder *l, int col, size_t ev, const struct tl_event *e, bool sent,
		    enum ladder_seg kind, const char *label, int sub)
{
	struct ladder_obs *o = &l->obs[l->n_obs++];

	memset(o, 0, sizeof(*o));
	o->ts = e->ts_ns;
	o->col = col;
	o->sent = sent;
	o->kind = kind;
	o->label = label;
	o->ev = ev;
	o->sub = sub;
	o->row = -1;
	if (kind == LADDER_SEG_DATA) {
		o->bytes = e->data.bytes;
		o->segs = e->data.segs;
	}
}

/* after this event the end sends (out) or receives (!out) no more data */
static bool ends_data(const struct tl_event *e, bool out)
{
	if (e->kind == TL_RST)
		return e->rst.dir == TT_DIR_IN || out;
	if (e->kind != TL_STATE)
		return false;
	if (e->state.new_state == TT_TCP_CLOSE)
		return true;
	if (out)
		return e->state.sent && !strcmp(e->state.sent, "FIN");
	return e->state.received && !strncmp(e->state.received, "FIN", 3);
}

/*
 * A data record stamped when the kernel side noticed it (inferred: data we
 * sent whose ACK came outside ESTABLISHED, data caught up at an event) can
 * come after the event it caused: the RST answering it, the state change
 * that noticed it. Data cannot be sent after our FIN or a reset, nor
 * received after theirs: such a record goes just before that event. Data
 * out stamped when it was sent is drawn at that time even after our FIN
 * state change: close() queues the FIN behind unsent data (a loss holds
 * it back), and fin_after_data draws the FIN after it.
 */
struct data_ends {
	/* the earliest (nonzero) time of an event that ends the data received,
	 * sent as inferred, sent as stamped; UINT64_MAX none */
	uint64_t in, out_inferred, out_sent;
};

/* Whether the end of data e marks depends only on the data's direction and
 * inferred flag, and an event later than the data cannot move it earlier:
 * one pass over the end's events gives every data record's time. */
static struct data_ends data_ends(const struct conn *c)
{
	struct data_ends d = { UINT64_MAX, UINT64_MAX, UINT64_MAX };

	for (size_t j = 0; j < c->n_events; j++) {
		const struct tl_event *e = &c->events[j];

		if (!e->ts_ns)
			continue;
		if (ends_data(e, false) && e->ts_ns < d.in)
			d.in = e->ts_ns;
		if (!ends_data(e, true))
			continue;
		if (e->ts_ns < d.out_inferred)
			d.out_inferred = e->ts_ns;
		/* our FIN state change: the FIN itself leaves after the data */
		if (!(e->kind == TL_STATE && e->state.new_state != TT_TCP_CLOSE) &&
		    e->ts_ns < d.out_sent)
			d.out_sent = e->ts_ns;
	}
	return d;
}

static uint64_t data_time(const struct tl_event *d, const struct data_ends *ends)
{
	uint64_t end = d->data.dir != TT_DIR_OUT ? ends->in :
		       d->data.inferred		 ? ends->out_inferred :
						   ends->out_sent;

	return end != UINT64_MAX && end - 1 < d->ts_ns ? end - 1 : d->ts_ns;
}

static void observe(struct ladder *l, int col)
{
	const struct conn *c = l->end[col];
	uint64_t off[2] = { 0, 0 }; /* by sent */
	struct data_ends ends = data_ends(c);

	for (size_t i = 0; i < c->n_events; i++) {
		const struct tl_event *e = &c->events[i];

		switch (e->kind) {
		case TL_STATE:
			if (e->state.received)
				obs_add(l, col, i, e, false, LADDER_SEG_CTRL, e->state.received, 0);
			if (e->state.sent)
				obs_add(l, col, i, e, true, LADDER_SEG_CTRL, e->state.sent, 1);
			break;
		case TL_DATA: {
			bool sent = e->data.dir == TT_DIR_OUT;

			obs_add(l, col, i, e, sent, LADDER_SEG_DATA, "DATA", 0);
			l->obs[l->n_obs - 1].off = off[sent];
			l->obs[l->n_obs - 1].ts = data_time(e, &ends);
			off[sent] += e->data.bytes;
			break;
		}
		case TL_KA_PROBE:
			obs_add(l, col, i, e, e->ka_probe.dir == TT_DIR_OUT, LADDER_SEG_KA_PROBE,
				"KEEPALIVE", 0);
			break;
		case TL_KA_ACK:
			obs_add(l, col, i, e, e->ka_ack.dir == TT_DIR_OUT, LADDER_SEG_KA_ACK, "ACK",
				0);
			break;
		case TL_RST:
			obs_add(l, col, i, e, e->rst.dir == TT_DIR_OUT, LADDER_SEG_RST, "RST", 0);
			break;
		case TL_RETRANSMIT:
			obs_add(l, col, i, e, true, LADDER_SEG_RETRANS,
				e->retrans.syn ? "SYN" : "DATA", 0);
			break;
		case TL_DROP:
			/* a listener's drops belong to connections not yet its own */
			if (e->drop.listener)
				break;
			obs_add(l, col, i, e, e->drop.dir == TT_DIR_OUT, LADDER_SEG_DROP,
				e->drop.bytes ? "DATA" : tcp_flags_name(e->drop.flags), 0);
			l->obs[l->n_obs - 1].bytes = e->drop.bytes;
			break;
		default:
			break;
		}
	}
}

/* --- 2. arrows ---------------------------------------------------------------------------- */

static const struct tl_event *obs_event(const struct ladder *l, const struct ladder_obs *o)
{
	return &l->end[o->col]->events[o->ev];
}

/* the sender's time, or the receiver's when that is earlier */
static void row_time(struct ladder_row *r, const struct ladder_obs *o)
{
	r->ts = o->ts;
	r->o_col = o->col;
	r->o_ev = o->ev;
	r->o_sub = o->sub;
}

static void row_earlier(struct ladder_row *r, const struct ladder_obs *o)
{
	if (o->ts < r->ts)
		row_time(r, o);
}

static struct ladder_row *arrow_from(struct ladder *l, struct ladder_obs *o)
{
	const struct tl_event *e = obs_event(l, o);
	struct ladder_row *r = row_new(l);

	if (!r)
		return NULL;
	r->kind = LADDER_ROW_ARROW;
	r->from = o->sent ? o->col : 1 - o->col;
	r->seg = o->kind;
	row_time(r, o);
	snprintf(r->label, sizeof(r->label), "%s", o->label);
	r->dropped = o->dropped || o->kind == LADDER_SEG_DROP;
	r->drop_reason = o->drop_reason;
	switch (o->kind) {
	case LADDER_SEG_DATA:
		r->bytes = o->bytes;
		r->segs = o->segs;
		break;
	case LADDER_SEG_KA_ACK:
		r->rtt_ns = e->ka_ack.rtt_ns;
		r->inferred = e->ka_ack.inferred;
		break;
	case LADDER_SEG_RST:
		r->rst_reason = e->rst.reason;
		break;
	case LADDER_SEG_RETRANS:
		r->syn = e->retrans.syn;
		r->err = e->retrans.err;
		r->rcount = e->retrans.count;
		break;
	case LADDER_SEG_DROP:
		r->drop_reason = e->drop.reason;
		r->bytes = e->drop.bytes;
		break;
	default:
		break;
	}
	o->row = (int)(r - l->rows);
	return r;
}

/* what a received label must be to be the same segment as a sent one */
static bool same_segment(const struct ladder_obs *sent, const struct ladder_obs *recv)
{
	if (sent->kind != recv->kind)
		return false;
	if (sent->kind != LADDER_SEG_CTRL)
		return true;
	if (!strcmp(sent->label, recv->label))
		return true;
	/* the FIN that also acknowledges */
	return !strcmp(sent->label, "FIN") && !strcmp(recv->label, "FIN,ACK");
}

/* The first observation at or after ts: from arrows() on, obs is in time
 * order, and windows of time are found by halving, not by scanning. */
static size_t obs_at(struct ladder *l, uint64_t ts)
{
	size_t lo = 0, hi = l->n_obs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		l->steps++;
		if (l->obs[mid].ts < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* a receiver's data observation by the offset of its first byte */
struct obs_off {
	uint64_t off;
	size_t i; /* index into obs */
};

static int cmp_obs_off(const void *pa, const void *pb)
{
	const struct obs_off *a = pa, *b = pb;

	if (a->off != b->off)
		return a->off < b->off ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* the first in rx[0, n) whose offset is above off (strictly: above) */
static size_t rx_after(struct ladder *l, const struct obs_off *rx, size_t n, uint64_t off,
		       bool strictly)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		l->steps++;
		if (rx[mid].off < off || (strictly && rx[mid].off == off))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int cmp_obs_time(const void *pa, const void *pb)
{
	const struct ladder_obs *a = pa, *b = pb;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->col != b->col)
		return a->col - b->col;
	if (a->ev != b->ev)
		return a->ev < b->ev ? -1 : 1;
	return a->sub - b->sub;
}

/* Data one way: the sender's records (its writes, as folded by the kernel
 * side), each at the time its first byte was seen by either end. A
 * receiver's run stamped when its first byte arrived says when the other
 * bytes in it arrived only that it was later: a run that goes on through a
 * loss (received before it and after) is stamped before the sender's writes
 * in the middle of it, so only a run that starts at the same byte can make
 * a sender's row earlier. */
/*
 * Each end's runs one way are contiguous in byte offsets (offsets grow in
 * its event order), so the receiver's runs, sorted by offset, are searched
 * by halving: the one holding a sender's first byte, then those beginning
 * inside the sender's run (no run begins inside two of the sender's).
 */
static void data_arrows(struct ladder *l, int from)
{
	int to = 1 - from;
	uint64_t sent_bytes = 0;
	struct obs_off *rx = NULL;
	size_t n_rx = 0;

	for (size_t i = 0; i < l->n_obs; i++)
		if (l->obs[i].kind == LADDER_SEG_DATA && l->obs[i].col == from && l->obs[i].sent)
			sent_bytes += l->obs[i].bytes;
	if (sent_bytes) {
		rx = malloc((l->n_obs ? l->n_obs : 1) * sizeof(*rx));
		if (!rx)
			return;
		for (size_t j = 0; j < l->n_obs; j++) {
			const struct ladder_obs *q = &l->obs[j];

			if (q->kind == LADDER_SEG_DATA && q->col == to && !q->sent)
				rx[n_rx++] = (struct obs_off){ q->off, j };
		}
		qsort(rx, n_rx, sizeof(*rx), cmp_obs_off);
	}
	for (size_t i = 0; i < l->n_obs; i++) {
		struct ladder_obs *o = &l->obs[i];
		struct ladder_row *r;

		if (o->kind != LADDER_SEG_DATA)
			continue;
		if (sent_bytes) {
			if (o->col != from || !o->sent)
				continue;
		} else if (o->col != to || o->sent) {
			continue;
		}
		r = arrow_from(l, o);
		if (!r || !sent_bytes)
			continue;
		/* the receiver's run holding this one's first byte: the last
		 * non-empty run that begins at or before it */
		for (size_t k = rx_after(l, rx, n_rx, o->off, true); k-- > 0;) {
			struct ladder_obs *q = &l->obs[rx[k].i];

			l->steps++;
			if (!q->bytes)
				continue;
			if (o->off < q->off + q->bytes) {
				if (q->off == o->off)
					row_earlier(r, q);
				q->row = o->row;
			}
			break;
		}
		/* the receiver's records that begin inside this one are this
		 * arrow too (its runs split elsewhere than the sender's, or the
		 * sender's were folded while held): not arrows of their own */
		for (size_t k = rx_after(l, rx, n_rx, o->off, true);
		     k < n_rx && rx[k].off < o->off + o->bytes; k++) {
			struct ladder_obs *q = &l->obs[rx[k].i];

			l->steps++;
			if (q->row == -1)
				q->row = o->row;
		}
	}
	free(rx);
}

/* Did the end other than col send a FIN (drawn from its own events)? */
static bool other_end_sent_fin(const struct ladder *l, int col)
{
	for (size_t j = 0; j < l->n_obs; j++)
		if (l->obs[j].col != col && l->obs[j].sent && l->obs[j].kind == LADDER_SEG_CTRL &&
		    !strcmp(l->obs[j].label, "FIN"))
			return true;
	return false;
}

/* With both ends, the event that ends an end's data (see data_time) may be
 * drawn at the other end's earlier time: the data still goes before it. */
static void clamp_data(struct ladder *l)
{
	/* the observations that can end data (FINs, resets, CLOSE: a few per
	 * end), looked at for every data observation */
	size_t *ends = malloc((l->n_obs ? l->n_obs : 1) * sizeof(*ends)), n_ends = 0;

	if (!ends)
		return;
	for (size_t j = 0; j < l->n_obs; j++) {
		const struct tl_event *e = obs_event(l, &l->obs[j]);

		if (l->obs[j].row >= 0 && (ends_data(e, false) || ends_data(e, true)))
			ends[n_ends++] = j;
	}
	for (size_t i = 0; i < l->n_obs; i++) {
		const struct ladder_obs *d = &l->obs[i];
		const struct tl_event *de = obs_event(l, d);
		struct ladder_row *r;

		if (d->kind != LADDER_SEG_DATA || d->row < 0)
			continue;
		r = &l->rows[d->row];
		for (size_t k = 0; k < n_ends; k++) {
			const struct ladder_obs *q = &l->obs[ends[k]];
			const struct tl_event *e;

			l->steps++;
			if (q->col != d->col || q->row < 0 || q->row == d->row)
				continue;
			e = obs_event(l, q);
			if (!ends_data(e, d->sent) || (q->ev > d->ev && e->ts_ns > de->ts_ns))
				continue;
			if (d->sent && !de->data.inferred && e->kind == TL_STATE &&
			    e->state.new_state != TT_TCP_CLOSE)
				continue; /* as in data_time */
			if (l->rows[q->row].ts && l->rows[q->row].ts - 1 < r->ts)
				r->ts = l->rows[q->row].ts - 1;
		}
	}
	free(ends);
}

/* The receiver's record of the segment o sent, if there is one. */
static struct ladder_obs *received_as(struct ladder *l, const struct ladder_obs *o)
{
	size_t j = obs_at(l, o->ts > MATCH_BEFORE_NS ? o->ts - MATCH_BEFORE_NS : 0);

	for (; j < l->n_obs && l->obs[j].ts <= o->ts + MATCH_AFTER_NS; j++) {
		struct ladder_obs *q = &l->obs[j];

		l->steps++;
		if (q->col == o->col || q->sent || q->row != -1 || !same_segment(o, q))
			continue;
		return q;
	}
	return NULL;
}

/* The ACK an end "sent" on going to CLOSE_WAIT is an inference from the
 * state change, and Linux does not send it then: receiving a FIN puts the
 * socket in delayed-ACK (pingpong) mode, so the ACK leaves with whatever the
 * end sends next (usually its own FIN, when the application closes within
 * the delayed-ACK timeout) or alone when that timer fires. */
static bool inferred_delayed_ack(const struct ladder *l, const struct ladder_obs *o)
{
	const struct tl_event *e = obs_event(l, o);

	return o->kind == LADDER_SEG_CTRL && o->sent && !strcmp(o->label, "ACK") &&
	       e->kind == TL_STATE && e->state.new_state == TT_TCP_CLOSE_WAIT;
}

/* The first segment col sent after obs index i, in time order. */
static struct ladder_obs *next_sent(struct ladder *l, size_t i, int col)
{
	for (size_t j = i + 1; j < l->n_obs; j++)
		if (l->obs[j].col == col && l->obs[j].sent && l->obs[j].row != ROW_SUPPRESSED)
			return &l->obs[j];
	return NULL;
}

/*
 * A dropped control segment (or retransmit) is the one its sender's state
 * change or retransmit record shows, moments before: that row is drawn
 * stopping short, with the reason, and the drop itself is not drawn again
 * (nor its copy on the other end, which has the same time). A drop of data
 * stays its own row: a data row stands for a run of segments.
 */
#define DROP_MATCH_NS 200000000ULL
static void merge_drops(struct ladder *l)
{
	for (size_t i = 0; i < l->n_obs; i++) {
		struct ladder_obs *d = &l->obs[i], *best = NULL;

		if (d->kind != LADDER_SEG_DROP || !d->sent || d->row != -1)
			continue;
		/* answered by a reset (no socket there: a refused SYN): it arrived,
		 * and the RST is the answer the diagram shows */
		for (size_t j = obs_at(l, d->ts);
		     j < l->n_obs && l->obs[j].ts <= d->ts + DROP_MATCH_NS; j++) {
			const struct ladder_obs *q = &l->obs[j];

			l->steps++;
			if (q->kind == LADDER_SEG_RST && q->col == d->col && !q->sent)
				d->row = ROW_SUPPRESSED;
		}
		if (d->row == ROW_SUPPRESSED)
			continue;
		for (size_t j = obs_at(l, d->ts > DROP_MATCH_NS ? d->ts - DROP_MATCH_NS : 0);
		     j < l->n_obs && l->obs[j].ts <= d->ts; j++) {
			struct ladder_obs *q = &l->obs[j];

			l->steps++;
			if (q->col != d->col || !q->sent || q->dropped || q->row != -1 ||
			    (q->kind != LADDER_SEG_CTRL && q->kind != LADDER_SEG_RETRANS) ||
			    strcmp(q->label, d->label))
				continue;
			if (!best || q->ts >= best->ts)
				best = q;
		}
		if (!best)
			continue;
		best->dropped = true;
		best->drop_reason = obs_event(l, d)->drop.reason;
		d->row = ROW_SUPPRESSED;
		for (size_t j = obs_at(l, d->ts); j < l->n_obs && l->obs[j].ts == d->ts; j++) {
			l->steps++;
			if (l->obs[j].kind == LADDER_SEG_DROP && l->obs[j].col != d->col &&
			    !l->obs[j].sent)
				l->obs[j].row = ROW_SUPPRESSED;
		}
	}
}

static void arrows(struct ladder *l)
{
	qsort(l->obs, l->n_obs, sizeof(*l->obs), cmp_obs_time);
	merge_drops(l);
	if (!l->paired) {
		for (size_t i = 0; i < l->n_obs; i++)
			if (l->obs[i].row != ROW_SUPPRESSED)
				arrow_from(l, &l->obs[i]);
		return;
	}
	data_arrows(l, 0);
	data_arrows(l, 1);
	/* every other segment a sender saw: the receiver's record of it, if any */
	for (size_t i = 0; i < l->n_obs; i++) {
		struct ladder_obs *o = &l->obs[i], *q, *n;
		struct ladder_row *r;

		if (o->kind == LADDER_SEG_DATA || !o->sent || o->row != -1)
			continue;
		/* a dropped segment has no receiver: a later copy that arrived is its retransmit */
		q = o->dropped ? NULL : received_as(l, o);
		if (q && inferred_delayed_ack(l, o)) {
			/* the other end saw that ACK only after this end sent its
			 * next segment: it rode on that one, not drawn alone */
			n = next_sent(l, i, o->col);
			if (n && q->ts >= n->ts) {
				o->row = ROW_SUPPRESSED;
				q->row = ROW_SUPPRESSED;
				n->carries_ack = true;
				continue;
			}
			/* alone: when the other end got it, the only time observed */
			if (!arrow_from(l, q))
				return;
			o->row = q->row;
			continue;
		}
		r = arrow_from(l, o);
		if (!r)
			return;
		if (q) {
			q->row = o->row;
			row_earlier(r, q);
			if (strlen(q->label) > strlen(r->label) && q->kind == LADDER_SEG_CTRL)
				snprintf(r->label, sizeof(r->label), "%s", q->label);
		}
		if (o->carries_ack && !strcmp(r->label, "FIN"))
			snprintf(r->label, sizeof(r->label), "FIN,ACK");
	}
	/* what was received with no sender's record: drawn on its own */
	for (size_t i = 0; i < l->n_obs; i++)
		if (l->obs[i].row == -1)
			arrow_from(l, &l->obs[i]);
	clamp_data(l);
}

/* A FIN leaves after the data queued before it: an end's FIN row goes after
 * its last data row (data sent after the close() that queued the FIN, held
 * back by a loss; see data_time). */
static void fin_after_data(struct ladder *l)
{
	for (size_t i = 0; i < l->n_rows; i++) {
		struct ladder_row *f = &l->rows[i];
		uint64_t last = 0;

		if (f->kind != LADDER_ROW_ARROW || f->seg != LADDER_SEG_CTRL ||
		    strncmp(f->label, "FIN", 3))
			continue;
		for (size_t j = 0; j < l->n_rows; j++) {
			const struct ladder_row *d = &l->rows[j];

			if (d->kind == LADDER_ROW_ARROW && d->seg == LADDER_SEG_DATA &&
			    d->from == f->from && d->ts > last)
				last = d->ts;
		}
		if (last >= f->ts)
			f->ts = last + 1;
	}
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct ladder_row *a = pa, *b = pb;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->o_col != b->o_col)
		return a->o_col - b->o_col;
	if (a->o_ev != b->o_ev)
		return a->o_ev < b->o_ev ? -1 : 1;
	if (a->o_sub != b->o_sub)
		return a->o_sub - b->o_sub;
	return a->kind - b->kind;
}

/* --- 3. notes ----------------------------------------------------------------------------- */

/* An event has at most one observation per sub (received, sent): once obs
 * is in its final order, an index by (end, event, sub) finds it. */
static int index_obs(struct ladder *l)
{
	for (int col = 0; col < 2; col++) {
		if (!l->end[col])
			continue;
		l->obs_of[col] = calloc(2 * l->end[col]->n_events + 1, sizeof(*l->obs_of[col]));
		if (!l->obs_of[col])
			return -ENOMEM;
	}
	/* from the last, so that the first of duplicates (none expected) wins, as a scan would */
	for (size_t i = l->n_obs; i-- > 0;) {
		const struct ladder_obs *o = &l->obs[i];

		l->obs_of[o->col][2 * o->ev + (size_t)o->sub] = i + 1;
	}
	return 0;
}

static struct ladder_obs *find_obs(struct ladder *l, int col, size_t ev, int sub)
{
	size_t i = l->obs_of[col] && sub >= 0 && sub <= 1 ? l->obs_of[col][2 * ev + (size_t)sub] :
							    0;

	return i ? &l->obs[i - 1] : NULL;
}

static struct ladder_row *obs_row(struct ladder *l, int col, size_t ev, int sub)
{
	struct ladder_obs *o = find_obs(l, col, ev, sub);

	return o && o->row >= 0 ? &l->rows[o->row] : NULL;
}

static void note_row(struct ladder *l, int col, const struct tl_event *e, size_t ev,
		     const char *text)
{
	struct ladder_row *r = row_new(l);

	if (!r)
		return;
	r->kind = LADDER_ROW_NOTE;
	r->from = col;
	r->ts = e->ts_ns;
	r->o_col = col;
	r->o_ev = ev;
	r->o_sub = 2;
	snprintf(r->note, sizeof(r->note), "%s", text);
}

/* note on the row of an observation of this event, or a row of its own */
static void note_event(struct ladder *l, int col, size_t ev, int sub, const char *text)
{
	struct ladder_row *r = obs_row(l, col, ev, sub);

	if (r)
		note_add(r->note, text);
	else
		note_row(l, col, &l->end[col]->events[ev], ev, text);
}

static void task_verb(const struct tl_task *t, bool shutdown, char *buf, size_t len)
{
	if (t->exiting && (t->exit_code & 0x7f)) {
		const char *sig = signal_name(t->exit_code & 0x7f);

		if (sig)
			snprintf(buf, len, "killed by %s", sig);
		else
			snprintf(buf, len, "killed by signal %d", t->exit_code & 0x7f);
	} else if (t->exiting) {
		snprintf(buf, len, "process exited (code %d)", (t->exit_code >> 8) & 0xff);
	} else {
		snprintf(buf, len, "%s", shutdown ? "shutdown(SHUT_WR)" : "close()");
	}
}

/* data received after this event: a FIN then was shutdown(), not close() */
static bool reads_after(const struct conn *c, size_t i)
{
	for (size_t j = i + 1; j < c->n_events; j++)
		if (c->events[j].kind == TL_DATA && c->events[j].data.dir == TT_DIR_IN)
			return true;
	return false;
}

/* the next reset this end sends, as the abort of a close */
static struct ladder_row *next_rst_out(struct ladder *l, int col, size_t i)
{
	const struct conn *c = l->end[col];

	for (size_t j = i + 1; j < c->n_events; j++) {
		const struct tl_event *e = &c->events[j];

		if (e->kind == TL_RST && e->rst.dir == TT_DIR_OUT)
			return obs_row(l, col, j, 0);
		if (e->kind == TL_STATE || e->kind == TL_DATA)
			break;
	}
	return NULL;
}

static const char *rst_why(uint32_t reason, bool abort)
{
	const char *name = reason == TT_RST_REASON_NONE ? NULL : rst_reason_name(reason);

	if (name && strstr(name, "ABORT_ON_LINGER"))
		return "RST: SO_LINGER 0";
	if (name && strstr(name, "ABORT_ON_CLOSE"))
		return "RST: unread data";
	if (abort)
		return "RST: unread data";
	return NULL;
}

static void error_text(int col, int32_t err, char *buf, size_t len)
{
	const char *name = errno_name(err);
	char num[16];

	if (!name) {
		snprintf(num, sizeof(num), "errno %d", err);
		name = num;
	}
	switch (err) {
	case EPIPE:
		snprintf(buf, len, "%s send() -> %s", ladder_role[col], name);
		break;
	case ECONNREFUSED:
		snprintf(buf, len, "refused: connect() -> %s", name); /* a client's */
		break;
	case ECONNRESET:
		snprintf(buf, len, "%s recv()/send() -> %s", ladder_role[col], name);
		break;
	default:
		snprintf(buf, len, "%s next call -> %s", ladder_role[col], name);
		break;
	}
}

static void notes_state(struct ladder *l, int col, size_t i, bool rst_in_seen)
{
	const struct tl_event *e = &l->end[col]->events[i];
	uint8_t o = e->state.old_state, n = e->state.new_state;
	char buf[96], verb[48];

	if (n == TT_TCP_ESTABLISHED && !l->established_noted &&
	    (o == TT_TCP_SYN_SENT || (o == TT_TCP_SYN_RECV && !l->paired))) {
		struct ladder_row *r = obs_row(l, col, i, o == TT_TCP_SYN_SENT ? 1 : 0);

		if (r) {
			note_add(r->note, "established");
			l->established_noted = true;
		}
	}
	if (e->state.time_wait) {
		/* handed to a timewait socket in FIN_WAIT2 and no FIN from the
		 * peer followed */
		if (e->state.tw_fin_wait2 && !other_end_sent_fin(l, col))
			snprintf(buf, sizeof(buf),
				 "%s socket gone: the kernel holds it in FIN_WAIT2 (timewait)",
				 ladder_role[col]);
		else if (e->state.tw_fin_wait2)
			snprintf(buf, sizeof(buf), "%s TIME_WAIT (via FIN_WAIT2)",
				 ladder_role[col]);
		else
			snprintf(buf, sizeof(buf), "%s TIME_WAIT", ladder_role[col]);
		note_event(l, col, i, 1, buf);
	}
	if (e->state.fin_wait2_dropped) {
		snprintf(buf, sizeof(buf),
			 "%s socket dropped in FIN_WAIT2 (TCP_LINGER2 < 0): no TIME_WAIT",
			 ladder_role[col]);
		note_event(l, col, i, 1, buf);
	}
	/* a task closing: close(), shutdown(), exit or a fatal signal */
	if (e->state.actor.pid && !rst_in_seen &&
	    (n == TT_TCP_FIN_WAIT1 || n == TT_TCP_LAST_ACK || n == TT_TCP_CLOSE) &&
	    (o == TT_TCP_ESTABLISHED || o == TT_TCP_CLOSE_WAIT || o == TT_TCP_SYN_SENT ||
	     o == TT_TCP_SYN_RECV)) {
		bool shut = n == TT_TCP_FIN_WAIT1 && reads_after(l->end[col], i);
		struct ladder_row *rst = NULL;

		if (shut)
			l->shut[col] = true;
		task_verb(&e->state.actor, shut, verb, sizeof(verb));
		snprintf(buf, sizeof(buf), "%s %s", ladder_role[col], verb);
		if (e->state.sent) {
			note_event(l, col, i, 1, buf);
			return;
		}
		rst = next_rst_out(l, col, i);
		if (rst) {
			bool abort = o == TT_TCP_ESTABLISHED || o == TT_TCP_CLOSE_WAIT;
			const char *why = rst_why(rst->rst_reason, abort);

			note_add(rst->note, buf);
			if (why)
				note_add(rst->note, why);
			rst->rst_reason = TT_RST_REASON_NONE; /* said */
		} else {
			note_row(l, col, e, i, buf);
		}
	}
}

void ladder_close_text(const struct tl_event *e, char *buf, size_t len)
{
	const char *sig;

	switch (e->close.cause) {
	case CAUSE_APP_CLOSE:
		snprintf(buf, len, "close()");
		break;
	case CAUSE_PROCESS_EXIT:
		snprintf(buf, len, "process exited (code %d)", e->close.exit_code);
		break;
	case CAUSE_KILLED:
		sig = signal_name(e->close.signal);
		if (sig)
			snprintf(buf, len, "killed by %s", sig);
		else
			snprintf(buf, len, "killed by signal %d", e->close.signal);
		break;
	case CAUSE_PEER_CLOSE:
		snprintf(buf, len, "peer closed first");
		break;
	case CAUSE_RST_IN:
		snprintf(buf, len, "reset by peer");
		break;
	case CAUSE_RST_OUT:
		snprintf(buf, len, "reset sent");
		break;
	case CAUSE_REFUSED:
		snprintf(buf, len, "refused");
		break;
	case CAUSE_KEEPALIVE_TIMEOUT:
		snprintf(buf, len, "keepalive timeout");
		break;
	case CAUSE_RETRANSMIT_TIMEOUT:
		snprintf(buf, len, "retransmit timeout");
		break;
	case CAUSE_SYN_TIMEOUT:
		snprintf(buf, len, "SYN timeout");
		break;
	default:
		snprintf(buf, len, "unknown");
		break;
	}
}

static bool saw_window_in(const struct conn *c)
{
	for (size_t i = 0; c && i < c->n_events; i++)
		if (c->events[i].kind == TL_WINDOW && c->events[i].window.dir == TT_DIR_IN)
			return true;
	return false;
}

/* "server window 0: its application is not reading (N B waiting)", then
 * "server window open again after 2.9 s": told by the end whose window it
 * is (out), or by its peer (in), which sees the zero on the wire: when both
 * ends are here and the peer saw it, the peer's exact view is drawn. */
static void window_note(struct ladder *l, int col, const struct tl_event *e, size_t i)
{
	int owner = e->window.dir == TT_DIR_OUT ? col : 1 - col;
	char buf[128];

	if (e->window.dir == TT_DIR_OUT && saw_window_in(l->end[1 - col]))
		return;
	if (!e->window.open) {
		snprintf(buf, sizeof(buf),
			 "%s window 0: its application is not reading (%u B waiting)",
			 ladder_role[owner], e->window.queued);
	} else {
		snprintf(buf, sizeof(buf), "%s window open again after %.1f s", ladder_role[owner],
			 (double)e->window.stalled_ns / 1e9);
		if (e->window.dir == TT_DIR_IN && e->window.probes)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
				 " (%u zero-window probe%s)", e->window.probes,
				 e->window.probes == 1 ? "" : "s");
	}
	note_row(l, col, e, i, buf);
}

static void notes_end(struct ladder *l, int col)
{
	const struct conn *c = l->end[col];
	bool rst_in_seen = false;
	char buf[128];

	for (size_t i = 0; i < c->n_events; i++) {
		const struct tl_event *e = &c->events[i];
		struct ladder_row *r;

		switch (e->kind) {
		case TL_STATE:
			notes_state(l, col, i, rst_in_seen);
			break;
		case TL_RST:
			if (e->rst.dir == TT_DIR_IN)
				rst_in_seen = true;
			break;
		case TL_ERROR:
			if (!e->error.err)
				break;
			/* the kernel may report one error twice in a row (6.18
			 * does for a refused connect): the application sees it once */
			if (i > 0 && c->events[i - 1].kind == TL_ERROR &&
			    c->events[i - 1].error.err == e->error.err)
				break;
			error_text(col, e->error.err, buf, sizeof(buf));
			note_row(l, col, e, i, buf);
			break;
		case TL_CLOSE:
			if (e->close.cause == CAUSE_KEEPALIVE_TIMEOUT ||
			    e->close.cause == CAUSE_RETRANSMIT_TIMEOUT ||
			    e->close.cause == CAUSE_SYN_TIMEOUT) {
				char why[48];

				ladder_close_text(e, why, sizeof(why));
				snprintf(buf, sizeof(buf), "%s gives up: %s", ladder_role[col],
					 why);
				note_row(l, col, e, i, buf);
			}
			break;
		case TL_WINDOW:
			window_note(l, col, e, i);
			break;
		case TL_EXISTING:
			snprintf(buf, sizeof(buf), "%s already %s when tracing began",
				 ladder_role[col], tcp_state_name(e->existing.state));
			note_row(l, col, e, i, buf);
			break;
		case TL_RETRANSMIT:
			r = obs_row(l, col, i, 0);
			if (r && !r->note[0]) {
				snprintf(buf, sizeof(buf), "retransmit #%u", e->retrans.count);
				if (e->retrans.err) {
					const char *n = errno_name(-e->retrans.err);

					snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
						 " failed: %s", n ? n : "error");
				}
				note_add(r->note, buf);
			}
			break;
		default:
			break;
		}
	}
}

static void notes_rows(struct ladder *l)
{
	uint32_t probes[2] = { 0, 0 };
	char buf[64];

	for (size_t i = 0; i < l->n_rows; i++) {
		struct ladder_row *r = &l->rows[i];

		if (r->kind != LADDER_ROW_ARROW)
			continue;
		if (r->seg == LADDER_SEG_KA_PROBE) {
			snprintf(buf, sizeof(buf), "keepalive probe #%u", ++probes[r->from]);
			note_add(r->note, buf);
		} else if (r->seg == LADDER_SEG_KA_ACK) {
			if (r->rtt_ns >= 1000000)
				snprintf(buf, sizeof(buf), "keepalive ACK, rtt %.1f ms",
					 (double)r->rtt_ns / 1e6);
			else if (r->rtt_ns)
				snprintf(buf, sizeof(buf), "keepalive ACK, rtt %" PRIu64 " us",
					 r->rtt_ns / 1000);
			else if (r->inferred)
				snprintf(buf, sizeof(buf), "keepalive ACK (inferred)");
			else
				snprintf(buf, sizeof(buf), "keepalive ACK");
			note_add(r->note, buf);
		} else if (r->dropped) {
			const char *name = r->drop_reason == TT_DROP_REASON_NONE ?
						   NULL :
						   drop_reason_name(r->drop_reason);
			const char *words = drop_reason_words(name);

			snprintf(buf, sizeof(buf), "dropped: %s",
				 words ? words :
				 name  ? name :
					 "reason unknown");
			note_add(r->note, buf);
		} else if (r->seg == LADDER_SEG_RST && r->rst_reason != TT_RST_REASON_NONE) {
			const char *name = rst_reason_name(r->rst_reason);

			if (name) {
				snprintf(buf, sizeof(buf), "reason %s", name);
				note_add(r->note, buf);
			}
		}
	}
}

/* --- 4. folding ------------------------------------------------------------------------ */

/* Where a story was cut (TL_TRUNCATED), the first row at or after the cut
 * carries the count, so the gap is drawn where it was; data is not folded
 * across it. */
static void attach_cuts(struct ladder *l)
{
	for (int col = 0; col < 2; col++) {
		const struct conn *c = l->end[col];

		for (size_t i = 0; c && i < c->n_events; i++) {
			const struct tl_event *e = &c->events[i];
			struct ladder_row *at = NULL;

			if (e->kind != TL_TRUNCATED)
				continue;
			for (size_t j = 0; j < l->n_rows && !at; j++)
				if (!l->rows[j].dead && l->rows[j].ts >= e->ts_ns &&
				    (!l->rows[j].not_kept || l->rows[j].not_kept_col == col))
					at = &l->rows[j];
			if (at) {
				at->not_kept += e->truncated.count;
				at->not_kept_col = col;
			} else {
				l->not_kept_after[col] += e->truncated.count;
			}
		}
	}
}

static void fold_data(struct ladder *l)
{
	struct ladder_row *prev = NULL;

	for (size_t i = 0; i < l->n_rows; i++) {
		struct ladder_row *r = &l->rows[i];

		if (prev && r->kind == LADDER_ROW_ARROW && r->seg == LADDER_SEG_DATA &&
		    prev->seg == LADDER_SEG_DATA && prev->kind == LADDER_ROW_ARROW &&
		    prev->from == r->from && !r->note[0] && !r->not_kept) {
			prev->bytes += r->bytes;
			prev->segs += r->segs;
			r->dead = true;
			continue;
		}
		prev = r;
	}
}

void ladder_format_bytes(uint64_t b, char *buf, size_t len)
{
	if (b < 10000)
		snprintf(buf, len, "%" PRIu64 " B", b);
	else if (b < 1000000)
		snprintf(buf, len, "%.1f kB", (double)b / 1e3);
	else if (b < 1000000000ULL)
		snprintf(buf, len, "%.1f MB", (double)b / 1e6);
	else
		snprintf(buf, len, "%.1f GB", (double)b / 1e9);
}

void ladder_arrow_text(const struct ladder_row *r, char *buf, size_t len)
{
	char bytes[24];

	if (r->seg == LADDER_SEG_DATA || (r->seg == LADDER_SEG_DROP && r->bytes)) {
		ladder_format_bytes(r->bytes, bytes, sizeof(bytes));
		snprintf(buf, len, "DATA %s", bytes);
	} else if (r->seg == LADDER_SEG_RETRANS) {
		snprintf(buf, len, "%s again", r->label);
	} else {
		snprintf(buf, len, "%s", r->label);
	}
}

void ladder_row_note(const struct ladder_row *r, char *buf, size_t len)
{
	if (r->kind == LADDER_ROW_ARROW && r->seg == LADDER_SEG_DATA && r->segs > 1)
		snprintf(buf, len, "%u segments%s%s", r->segs, r->note[0] ? "; " : "", r->note);
	else
		snprintf(buf, len, "%s", r->note);
}

/* drop the rows folded into others; mark the long idle gaps before the rest */
static void compact(struct ladder *l)
{
	uint64_t prev = l->t0;
	size_t n = 0;

	for (size_t i = 0; i < l->n_rows; i++) {
		struct ladder_row *r = &l->rows[i];
		uint64_t gap;

		if (r->dead)
			continue;
		gap = r->ts > prev ? r->ts - prev : 0;
		r->idle_ns = gap > LADDER_IDLE_NS && gap * 10 > l->t1 - l->t0 ? gap : 0;
		prev = r->ts;
		if (n != i)
			l->rows[n] = *r;
		n++;
	}
	l->n_rows = n;
}

/* --- the header and the summary ----------------------------------------------------------- */

static void endpoint_text(const struct conn *c, bool local, const uint8_t *addr, uint16_t port,
			  uint8_t family, char *buf, size_t len)
{
	char ep[ADDR_STRLEN + 8], comm[TT_COMM_LEN * 4];

	endpoint_format(family, addr, port, ep, sizeof(ep));
	if (!local) {
		snprintf(buf, len, "%s (not traced here)", ep);
		return;
	}
	if (c->pid) {
		text_sanitize(c->comm, TT_COMM_LEN, comm, sizeof(comm));
		snprintf(buf, len, "#%" PRIu64 " %s (%s %u)", c->id, ep, comm, c->pid);
	} else if (conn_stateless(c)) {
		snprintf(buf, len, "%s (no socket)", ep);
	} else {
		snprintf(buf, len, "#%" PRIu64 " %s (owner unknown)", c->id, ep);
	}
}

static void endpoints(struct ladder *l)
{
	const struct conn *any = l->end[0] ? l->end[0] : l->end[1];
	const struct tl_endpoints *ep = &any->ep;

	for (int col = 0; col < 2; col++) {
		const struct conn *c = l->end[col];

		if (c)
			endpoint_text(c, true, c->ep.laddr, c->ep.lport, c->ep.family,
				      l->endpoint[col], LADDER_TEXT_MAX);
		else
			endpoint_text(NULL, false, ep->raddr, ep->rport, ep->family,
				      l->endpoint[col], LADDER_TEXT_MAX);
	}
}

#define item(l, ...)                                                                      \
	((l)->n_summary < LADDER_SUMMARY_MAX ?                                            \
		 snprintf((l)->summary[(l)->n_summary++], LADDER_TEXT_MAX, __VA_ARGS__) : \
		 0)

/* "812 us", "50.1 ms" */
static void format_us(uint32_t us, char *buf, size_t len)
{
	if (us < 1000)
		snprintf(buf, len, "%u us", us);
	else
		snprintf(buf, len, "%.1f ms", us / 1000.0);
}

/* "client: handshake 50.1 ms, srtt 50.5 ms (min 50.0 ms)": what the kernel
 * measured, when it did */
static void summary_latency(struct ladder *l, int col)
{
	const struct conn *c = l->end[col];
	uint32_t hs = TT_RTT_NONE, srtt = TT_RTT_NONE, min = TT_RTT_NONE;
	char text[LADDER_TEXT_MAX] = "", v[24];

	for (size_t i = 0; i < c->n_events; i++) {
		const struct tl_event *e = &c->events[i];

		if (e->kind == TL_STATE && e->state.new_state == TT_TCP_ESTABLISHED)
			hs = e->state.handshake_us;
		if (e->kind == TL_CLOSE) {
			srtt = e->close.srtt_us;
			min = e->close.min_rtt_us;
		}
	}
	if (hs != TT_RTT_NONE) {
		format_us(hs, v, sizeof(v));
		snprintf(text, sizeof(text), "handshake %s", v);
	}
	if (srtt != TT_RTT_NONE) {
		size_t n = strlen(text);

		format_us(srtt, v, sizeof(v));
		snprintf(text + n, sizeof(text) - n, "%ssrtt %s", n ? ", " : "", v);
		if (min != TT_RTT_NONE) {
			n = strlen(text);
			format_us(min, v, sizeof(v));
			snprintf(text + n, sizeof(text) - n, " (min %s)", v);
		}
	}
	if (text[0])
		item(l, "%s: %s", ladder_role[col], text);
}

/* "client: close() [app_close]": the role, then the fate, cut to fit. Not
 * one snprintf of both: gcc at -O1 (the check-asan build) cannot tell fate[]
 * from summary[] in one struct (-Wrestrict) nor that a role is short
 * (-Wformat-truncation). */
static void summary_fate(struct ladder *l, int col)
{
	char *dst = l->summary[l->n_summary++];
	int n = snprintf(dst, LADDER_TEXT_MAX, "%s: ", ladder_role[col]);
	size_t len = strnlen(l->fate[col], LADDER_TEXT_MAX);

	if (n < 0 || (size_t)n >= LADDER_TEXT_MAX)
		return;
	if (len > LADDER_TEXT_MAX - 1 - (size_t)n)
		len = LADDER_TEXT_MAX - 1 - (size_t)n;
	memcpy(dst + n, l->fate[col], len);
	dst[n + len] = '\0';
}

static void summary(struct ladder *l)
{
	char bytes[2][24], buf[64];
	bool open = false, refused = false;
	uint32_t probes = 0, retrans = 0, drops = 0;
	uint64_t sent[2];
	const struct ladder_row *first = NULL;

	for (int col = 0; col < 2; col++) {
		const struct conn *c = l->end[col];

		if (c && !c->closed && !conn_stateless(c))
			open = true;
		for (size_t i = 0; c && i < c->n_events; i++)
			if (c->events[i].kind == TL_CLOSE &&
			    c->events[i].close.cause == CAUSE_REFUSED)
				refused = true;
	}
	item(l, "%s after %.6f s", open ? "still open" : "closed", (double)(l->t1 - l->t0) / 1e9);
	for (size_t i = 0; i < l->n_rows; i++) {
		const struct ladder_row *r = &l->rows[i];

		if (r->kind != LADDER_ROW_ARROW)
			continue;
		if (r->seg == LADDER_SEG_KA_PROBE)
			probes++;
		if (r->dropped)
			drops++;
		if (!first && (r->seg == LADDER_SEG_RST ||
			       (r->seg == LADDER_SEG_CTRL && !strncmp(r->label, "FIN", 3))))
			first = r;
	}
	l->open = open;
	l->first_col = -1;
	if (first && !refused) {
		l->first_col = first->from;
		l->first_reset = first->seg == LADDER_SEG_RST;
		item(l, "%s %s first", ladder_role[first->from],
		     first->seg == LADDER_SEG_RST ? "reset" : "closed");
	}
	for (int col = 0; col < 2; col++) {
		const struct conn *c = l->end[col], *other = l->end[1 - col];

		sent[col] = c ? c->bytes_out : other->bytes_in;
		if (c)
			retrans += c->retransmits;
	}
	ladder_format_bytes(sent[0], bytes[0], sizeof(bytes[0]));
	ladder_format_bytes(sent[1], bytes[1], sizeof(bytes[1]));
	item(l, "client sent %s, server sent %s", bytes[0], bytes[1]);
	item(l, "%u keepalive probe%s", probes, probes == 1 ? "" : "s");
	item(l, "%u retransmit%s", retrans, retrans == 1 ? "" : "s");
	if (drops)
		item(l, "%u segment%s dropped", drops, drops == 1 ? "" : "s");
	{
		/* the end that saw the stall longest (both see the same one) */
		uint64_t stalled = 0;
		uint32_t stalls = 0;

		for (int col = 0; col < 2; col++) {
			const struct conn *c = l->end[col];
			uint64_t ns = c ? c->stalled_ns : 0;

			for (size_t i = 0; c && i < c->n_events; i++)
				if (c->events[i].kind == TL_CLOSE)
					ns = c->events[i].close.stalled_ms * 1000000ULL;
			if (c && (ns > stalled || (ns == stalled && c->window_stalls > stalls))) {
				stalled = ns;
				stalls = c->window_stalls;
			}
		}
		if (stalls)
			item(l, "stalled %.1f s by a zero window (%u time%s)",
			     (double)stalled / 1e9, stalls, stalls == 1 ? "" : "s");
	}
	for (int col = 0; col < 2; col++) {
		const struct conn *c = l->end[col];
		const struct tl_event *close = NULL;

		if (!c)
			continue;
		for (size_t i = 0; i < c->n_events; i++)
			if (c->events[i].kind == TL_CLOSE)
				close = &c->events[i];
		if (close) {
			ladder_close_text(close, buf, sizeof(buf));
			if (l->shut[col] && close->close.cause == CAUSE_APP_CLOSE)
				snprintf(buf, sizeof(buf), "shutdown(SHUT_WR), then close()");
			snprintf(l->fate[col], LADDER_TEXT_MAX, "%s [%s]", buf,
				 cause_name(close->close.cause));
		} else if (conn_stateless(c)) {
			snprintf(l->fate[col], LADDER_TEXT_MAX, "no socket, the kernel answered");
		} else {
			snprintf(l->fate[col], LADDER_TEXT_MAX, "still %s",
				 tcp_state_name(c->state));
		}
		summary_fate(l, col);
		summary_latency(l, col);
		if (c->events_dropped)
			item(l, "%" PRIu64 " %s events not kept", c->events_dropped,
			     ladder_role[col]);
	}
}

/* --- building ----------------------------------------------------------------------------- */

int ladder_build(struct ladder *l, const struct conn *a, const struct conn *b)
{
	size_t max_obs = 0;

	memset(l, 0, sizeof(*l));
	if (b && !conn_is_mirror(a, b))
		b = NULL;
	l->orig[0] = a;
	l->orig[1] = b;
	a = l->read[0] = conn_view(a, &l->view[0]);
	b = l->read[1] = conn_view(b, &l->view[1]);
	if (!a || (l->orig[1] && !b)) {
		ladder_free(l);
		return -ENOMEM;
	}
	if (is_client(a, b)) {
		l->end[0] = a;
		l->end[1] = b;
	} else {
		l->end[0] = b;
		l->end[1] = a;
	}
	l->paired = b != NULL;
	l->t0 = UINT64_MAX;
	l->t1 = 0;
	for (int col = 0; col < 2; col++) {
		const struct conn *c = l->end[col];

		if (!c)
			continue;
		max_obs += 2 * c->n_events;
		for (size_t i = 0; i < c->n_events; i++) {
			if (c->events[i].ts_ns < l->t0)
				l->t0 = c->events[i].ts_ns;
			if (c->events[i].ts_ns > l->t1)
				l->t1 = c->events[i].ts_ns;
		}
	}
	if (l->t0 == UINT64_MAX)
		l->t0 = l->t1 = a->first_ts;
	l->obs = calloc(max_obs ? max_obs : 1, sizeof(*l->obs));
	if (!l->obs)
		return -ENOMEM;
	for (int col = 0; col < 2; col++)
		if (l->end[col])
			observe(l, col);
	arrows(l);
	fin_after_data(l);
	if (index_obs(l)) {
		ladder_free(l);
		return -ENOMEM;
	}
	/* notes find rows through obs->row: sort only after them */
	for (int col = 0; col < 2; col++)
		if (l->end[col])
			notes_end(l, col);
	if (l->n_rows)
		qsort(l->rows, l->n_rows, sizeof(*l->rows), cmp_rows);
	notes_rows(l);
	attach_cuts(l);
	fold_data(l);
	compact(l);
	endpoints(l);
	summary(l);
	free(l->obs);
	l->obs = NULL;
	l->n_obs = 0;
	for (int col = 0; col < 2; col++) {
		free(l->obs_of[col]);
		l->obs_of[col] = NULL;
	}
	return 0;
}

void ladder_free(struct ladder *l)
{
	for (int i = 0; i < 2; i++) {
		conn_view_done(l->read[i], l->orig[i]);
		l->orig[i] = l->read[i] = NULL;
	}
	for (int col = 0; col < 2; col++) {
		free(l->obs_of[col]);
		l->obs_of[col] = NULL;
	}
	free(l->obs);
	free(l->rows);
	l->obs = NULL;
	l->rows = NULL;
	l->n_rows = l->cap_rows = 0;
}
