// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Ladder diagrams. From the events of one end (or of both ends, when both
 * are on this host) to rows: one per segment, client on the left, server on
 * the right, the time offset from the first event, notes at the side.
 *
 *  1. every event becomes observations: "this end sent / received segment X";
 *  2. with both ends, a segment one end sent and the other received is one
 *     arrow (matched by kind and time; data by byte offset), at the earlier
 *     of the two times; alone, every observation is an arrow to or from the
 *     remote end;
 *  3. notes: who closed and why, resets, errors the application saw,
 *     keepalive probes, retransmits;
 *  4. runs of data one way are folded into one arrow, long idle gaps into
 *     one line, and a summary closes the picture.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "json.h"
#include "names.h"
#include "render_ladder.h"

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN "\033[36m"

/* geometry: time, label, arrow, label, note */
#define LABEL_W 13
#define ARROW_W 24
#define NOTE_MAX 200

/* a receiver may record a segment a little before its sender does (the
 * sender's record is written after the send returns) */
#define MATCH_BEFORE_NS 100000000ULL
#define MATCH_AFTER_NS 2000000000ULL

enum seg_kind { SEG_CTRL, SEG_DATA, SEG_KA_PROBE, SEG_KA_ACK, SEG_RST, SEG_RETRANS };

/* one segment as one end saw it */
struct obs {
	uint64_t ts;
	int col;	  /* the end that saw it: 0 client (left), 1 server (right) */
	bool sent;	  /* it sent it; otherwise it received it */
	enum seg_kind kind;
	const char *label; /* SEG_CTRL: "SYN", "FIN,ACK", ... */
	size_t ev;	  /* index into the end's events */
	int sub;	  /* 0 received, 1 sent, for a state change that does both */
	uint64_t bytes;	  /* SEG_DATA */
	uint32_t segs;
	uint64_t off;	  /* SEG_DATA: offset of the first byte in its direction */
	int row;	  /* the row drawing it; -1 none yet, ROW_SUPPRESSED */
	bool carries_ack; /* a delayed ACK left with it (inferred_delayed_ack) */
};

enum row_kind { ROW_ARROW, ROW_NOTE };
#define ROW_SUPPRESSED (-2) /* obs->row: seen, deliberately not drawn */

struct row {
	enum row_kind kind;
	uint64_t ts;
	int from;	  /* ROW_ARROW: the sender's column; ROW_NOTE: whose note */
	enum seg_kind seg;
	char label[32];
	uint64_t bytes, rtt_ns;
	uint32_t segs;
	int32_t err;	  /* SEG_RETRANS: failed with this */
	uint32_t rcount;  /* SEG_RETRANS: nth retransmit */
	uint32_t rst_reason;
	bool syn;
	/* order: the observation that gave the time */
	int o_col;
	size_t o_ev;
	int o_sub;
	char note[NOTE_MAX];
	bool dead;	  /* folded into the row before it */
};

struct ladder {
	const struct conn *end[2]; /* by column; NULL: not on this host */
	bool paired;
	struct obs *obs;
	size_t n_obs;
	struct row *rows;
	size_t n_rows, cap_rows;
	bool established_noted;
	bool shut[2]; /* that end called shutdown(SHUT_WR) and read on */
};

/* only a reset the kernel sent for a port with no socket (a refused SYN) */
static bool stateless(const struct conn *c)
{
	for (size_t i = 0; i < c->n_events; i++)
		if (c->events[i].kind == TL_STATE || c->events[i].kind == TL_EXISTING)
			return false;
	return true;
}

static const char *const role[2] = { "client", "server" };

static void note_add(char *note, const char *text)
{
	size_t n = strlen(note);

	if (n)
		snprintf(note + n, NOTE_MAX - n, "; %s", text);
	else
		snprintf(note, NOTE_MAX, "%s", text);
}

static struct row *row_new(struct ladder *l)
{
	struct row *r;

	if (l->n_rows == l->cap_rows) {
		size_t cap = l->cap_rows ? l->cap_rows * 2 : 32;
		struct row *n = realloc(l->rows, cap * sizeof(*n));

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
		    enum seg_kind kind, const char *label, int sub)
{
	struct obs *o = &l->obs[l->n_obs++];

	memset(o, 0, sizeof(*o));
	o->ts = e->ts_ns;
	o->col = col;
	o->sent = sent;
	o->kind = kind;
	o->label = label;
	o->ev = ev;
	o->sub = sub;
	o->row = -1;
	if (kind == SEG_DATA) {
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
 * When a data record is stamped is when the kernel side noticed it (data we
 * sent is seen by the next hook on the socket), so it can come after the
 * event it caused: the RST answering it, the state change that noticed it.
 * Data cannot be sent after our FIN or a reset, nor received after theirs:
 * such a record goes just before that event.
 */
static uint64_t data_time(const struct conn *c, size_t i)
{
	const struct tl_event *d = &c->events[i];
	bool out = d->data.dir == TT_DIR_OUT;
	uint64_t ts = d->ts_ns;

	for (size_t j = 0; j < c->n_events; j++) {
		const struct tl_event *e = &c->events[j];

		if (j == i || !ends_data(e, out) || (j > i && e->ts_ns > d->ts_ns))
			continue;
		if (e->ts_ns && e->ts_ns - 1 < ts)
			ts = e->ts_ns - 1;
	}
	return ts;
}

static void observe(struct ladder *l, int col)
{
	const struct conn *c = l->end[col];
	uint64_t off[2] = { 0, 0 }; /* by sent */

	for (size_t i = 0; i < c->n_events; i++) {
		const struct tl_event *e = &c->events[i];

		switch (e->kind) {
		case TL_STATE:
			if (e->state.received)
				obs_add(l, col, i, e, false, SEG_CTRL, e->state.received, 0);
			if (e->state.sent)
				obs_add(l, col, i, e, true, SEG_CTRL, e->state.sent, 1);
			break;
		case TL_DATA: {
			bool sent = e->data.dir == TT_DIR_OUT;

			obs_add(l, col, i, e, sent, SEG_DATA, "DATA", 0);
			l->obs[l->n_obs - 1].off = off[sent];
			l->obs[l->n_obs - 1].ts = data_time(c, i);
			off[sent] += e->data.bytes;
			break;
		}
		case TL_KA_PROBE:
			obs_add(l, col, i, e, e->ka_probe.dir == TT_DIR_OUT, SEG_KA_PROBE,
				"KEEPALIVE", 0);
			break;
		case TL_KA_ACK:
			obs_add(l, col, i, e, e->ka_ack.dir == TT_DIR_OUT, SEG_KA_ACK, "ACK", 0);
			break;
		case TL_RST:
			obs_add(l, col, i, e, e->rst.dir == TT_DIR_OUT, SEG_RST, "RST", 0);
			break;
		case TL_RETRANSMIT:
			obs_add(l, col, i, e, true, SEG_RETRANS,
				e->retrans.syn ? "SYN" : "DATA", 0);
			break;
		default:
			break;
		}
	}
}

/* --- 2. arrows ---------------------------------------------------------------------------- */

static const struct tl_event *obs_event(const struct ladder *l, const struct obs *o)
{
	return &l->end[o->col]->events[o->ev];
}

/* the sender's time, or the receiver's when that is earlier */
static void row_time(struct row *r, const struct obs *o)
{
	r->ts = o->ts;
	r->o_col = o->col;
	r->o_ev = o->ev;
	r->o_sub = o->sub;
}

static void row_earlier(struct row *r, const struct obs *o)
{
	if (o->ts < r->ts)
		row_time(r, o);
}

static struct row *arrow_from(struct ladder *l, struct obs *o)
{
	const struct tl_event *e = obs_event(l, o);
	struct row *r = row_new(l);

	if (!r)
		return NULL;
	r->kind = ROW_ARROW;
	r->from = o->sent ? o->col : 1 - o->col;
	r->seg = o->kind;
	row_time(r, o);
	snprintf(r->label, sizeof(r->label), "%s", o->label);
	switch (o->kind) {
	case SEG_DATA:
		r->bytes = o->bytes;
		r->segs = o->segs;
		break;
	case SEG_KA_ACK:
		r->rtt_ns = e->ka_ack.rtt_ns;
		break;
	case SEG_RST:
		r->rst_reason = e->rst.reason;
		break;
	case SEG_RETRANS:
		r->syn = e->retrans.syn;
		r->err = e->retrans.err;
		r->rcount = e->retrans.count;
		break;
	default:
		break;
	}
	o->row = (int)(r - l->rows);
	return r;
}

/* what a received label must be to be the same segment as a sent one */
static bool same_segment(const struct obs *sent, const struct obs *recv)
{
	if (sent->kind != recv->kind)
		return false;
	if (sent->kind != SEG_CTRL)
		return true;
	if (!strcmp(sent->label, recv->label))
		return true;
	/* the FIN that also acknowledges */
	return !strcmp(sent->label, "FIN") && !strcmp(recv->label, "FIN,ACK");
}

static int cmp_obs_time(const void *pa, const void *pb)
{
	const struct obs *a = pa, *b = pb;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	if (a->col != b->col)
		return a->col - b->col;
	if (a->ev != b->ev)
		return a->ev < b->ev ? -1 : 1;
	return a->sub - b->sub;
}

/* Data one way: the sender's records (its writes, as folded by the kernel
 * side), each at the time its first byte was seen by either end. */
static void data_arrows(struct ladder *l, int from)
{
	int to = 1 - from;
	uint64_t sent_bytes = 0;

	for (size_t i = 0; i < l->n_obs; i++)
		if (l->obs[i].kind == SEG_DATA && l->obs[i].col == from && l->obs[i].sent)
			sent_bytes += l->obs[i].bytes;
	for (size_t i = 0; i < l->n_obs; i++) {
		struct obs *o = &l->obs[i];
		struct row *r;

		if (o->kind != SEG_DATA)
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
		for (size_t j = 0; j < l->n_obs; j++) {
			struct obs *q = &l->obs[j];

			if (q->kind == SEG_DATA && q->col == to && !q->sent && q->off <= o->off &&
			    o->off < q->off + q->bytes) {
				row_earlier(r, q);
				q->row = o->row;
				break;
			}
		}
	}
}

/* Did the end other than col send a FIN (drawn from its own events)? */
static bool other_end_sent_fin(const struct ladder *l, int col)
{
	for (size_t j = 0; j < l->n_obs; j++)
		if (l->obs[j].col != col && l->obs[j].sent && l->obs[j].kind == SEG_CTRL &&
		    !strcmp(l->obs[j].label, "FIN"))
			return true;
	return false;
}

/*
 * An orphaned socket (its process closed it or died) whose FIN was ACKed is
 * handed to a timewait socket in FIN_WAIT2 and reported as going to CLOSE
 * with the receive side shut: just like a FIN received. When the peer is here
 * and never sent a FIN, it was not one: draw neither that FIN nor its ACK.
 */
static void drop_orphan_fin(struct ladder *l)
{
	for (size_t i = 0; i < l->n_obs; i++) {
		struct obs *o = &l->obs[i];
		const struct tl_event *e;

		if (o->kind != SEG_CTRL || o->sent || strncmp(o->label, "FIN", 3))
			continue;
		e = obs_event(l, o);
		if (e->kind != TL_STATE || !e->state.time_wait)
			continue;
		if (other_end_sent_fin(l, o->col))
			continue;
		for (size_t j = 0; j < l->n_obs; j++)
			if (l->obs[j].col == o->col && l->obs[j].ev == o->ev)
				l->obs[j].row = ROW_SUPPRESSED;
	}
}

/* With both ends, the event that ends an end's data (see data_time) may be
 * drawn at the other end's earlier time: the data still goes before it. */
static void clamp_data(struct ladder *l)
{
	for (size_t i = 0; i < l->n_obs; i++) {
		const struct obs *d = &l->obs[i];
		const struct conn *c = l->end[d->col];
		const struct tl_event *de = obs_event(l, d);
		struct row *r;

		if (d->kind != SEG_DATA || d->row < 0)
			continue;
		r = &l->rows[d->row];
		for (size_t j = 0; j < l->n_obs; j++) {
			const struct obs *q = &l->obs[j];
			const struct tl_event *e;

			if (q->col != d->col || q->row < 0 || q->row == d->row)
				continue;
			e = obs_event(l, q);
			if (!ends_data(e, d->sent) || (q->ev > d->ev && e->ts_ns > de->ts_ns))
				continue;
			if (l->rows[q->row].ts && l->rows[q->row].ts - 1 < r->ts)
				r->ts = l->rows[q->row].ts - 1;
		}
		(void)c;
	}
}

/* The receiver's record of the segment o sent, if there is one. */
static struct obs *received_as(struct ladder *l, const struct obs *o)
{
	for (size_t j = 0; j < l->n_obs; j++) {
		struct obs *q = &l->obs[j];

		if (q->col == o->col || q->sent || q->row != -1 || !same_segment(o, q))
			continue;
		if (q->ts + MATCH_BEFORE_NS < o->ts || q->ts > o->ts + MATCH_AFTER_NS)
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
static bool inferred_delayed_ack(const struct ladder *l, const struct obs *o)
{
	const struct tl_event *e = obs_event(l, o);

	return o->kind == SEG_CTRL && o->sent && !strcmp(o->label, "ACK") &&
	       e->kind == TL_STATE && e->state.new_state == TT_TCP_CLOSE_WAIT;
}

/* The first segment col sent after obs index i, in time order. */
static struct obs *next_sent(struct ladder *l, size_t i, int col)
{
	for (size_t j = i + 1; j < l->n_obs; j++)
		if (l->obs[j].col == col && l->obs[j].sent && l->obs[j].row != ROW_SUPPRESSED)
			return &l->obs[j];
	return NULL;
}

static void arrows(struct ladder *l)
{
	qsort(l->obs, l->n_obs, sizeof(*l->obs), cmp_obs_time);
	if (!l->paired) {
		for (size_t i = 0; i < l->n_obs; i++)
			arrow_from(l, &l->obs[i]);
		return;
	}
	drop_orphan_fin(l);
	data_arrows(l, 0);
	data_arrows(l, 1);
	/* every other segment a sender saw: the receiver's record of it, if any */
	for (size_t i = 0; i < l->n_obs; i++) {
		struct obs *o = &l->obs[i], *q, *n;
		struct row *r;

		if (o->kind == SEG_DATA || !o->sent || o->row != -1)
			continue;
		q = received_as(l, o);
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
			if (strlen(q->label) > strlen(r->label) && q->kind == SEG_CTRL)
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

static int cmp_rows(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;

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

static struct obs *find_obs(struct ladder *l, int col, size_t ev, int sub)
{
	for (size_t i = 0; i < l->n_obs; i++)
		if (l->obs[i].col == col && l->obs[i].ev == ev && l->obs[i].sub == sub)
			return &l->obs[i];
	return NULL;
}

static struct row *obs_row(struct ladder *l, int col, size_t ev, int sub)
{
	struct obs *o = find_obs(l, col, ev, sub);

	return o && o->row >= 0 ? &l->rows[o->row] : NULL;
}

static void note_row(struct ladder *l, int col, const struct tl_event *e, size_t ev,
		     const char *text)
{
	struct row *r = row_new(l);

	if (!r)
		return;
	r->kind = ROW_NOTE;
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
	struct row *r = obs_row(l, col, ev, sub);

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
static struct row *next_rst_out(struct ladder *l, int col, size_t i)
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
		snprintf(buf, len, "%s send() -> %s", role[col], name);
		break;
	case ECONNREFUSED:
		snprintf(buf, len, "refused: connect() -> %s", name); /* a client's */
		break;
	case ECONNRESET:
		snprintf(buf, len, "%s recv()/send() -> %s", role[col], name);
		break;
	default:
		snprintf(buf, len, "%s next call -> %s", role[col], name);
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
		struct row *r = obs_row(l, col, i, o == TT_TCP_SYN_SENT ? 1 : 0);

		if (r) {
			note_add(r->note, "established");
			l->established_noted = true;
		}
	}
	if (e->state.time_wait) {
		struct obs *ack = find_obs(l, col, i, 1);

		/* handed to a timewait socket in FIN_WAIT2 and no FIN from the
		 * peer followed (tw_fin_wait2; or, in recordings made before peer
		 * FINs came from SOCK_DONE, the FIN drop_orphan_fin suppressed) */
		if ((ack && ack->row == ROW_SUPPRESSED) ||
		    (e->state.tw_fin_wait2 && !other_end_sent_fin(l, col)))
			snprintf(buf, sizeof(buf),
				 "%s socket gone: the kernel holds it in FIN_WAIT2 (timewait)",
				 role[col]);
		else if (e->state.tw_fin_wait2)
			snprintf(buf, sizeof(buf), "%s TIME_WAIT (via FIN_WAIT2)",
				 role[col]);
		else
			snprintf(buf, sizeof(buf), "%s TIME_WAIT", role[col]);
		note_event(l, col, i, 1, buf);
	}
	if (e->state.fin_wait2_dropped) {
		snprintf(buf, sizeof(buf),
			 "%s socket dropped in FIN_WAIT2 (TCP_LINGER2 < 0): no TIME_WAIT", role[col]);
		note_event(l, col, i, 1, buf);
	}
	/* a task closing: close(), shutdown(), exit or a fatal signal */
	if (e->state.actor.pid && !rst_in_seen &&
	    (n == TT_TCP_FIN_WAIT1 || n == TT_TCP_LAST_ACK || n == TT_TCP_CLOSE) &&
	    (o == TT_TCP_ESTABLISHED || o == TT_TCP_CLOSE_WAIT || o == TT_TCP_SYN_SENT ||
	     o == TT_TCP_SYN_RECV)) {
		bool shut = n == TT_TCP_FIN_WAIT1 && reads_after(l->end[col], i);
		struct row *rst = NULL;

		if (shut)
			l->shut[col] = true;
		task_verb(&e->state.actor, shut, verb, sizeof(verb));
		snprintf(buf, sizeof(buf), "%s %s", role[col], verb);
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

static void close_text(const struct tl_event *e, char *buf, size_t len)
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

static void notes_end(struct ladder *l, int col)
{
	const struct conn *c = l->end[col];
	bool rst_in_seen = false;
	char buf[128];

	for (size_t i = 0; i < c->n_events; i++) {
		const struct tl_event *e = &c->events[i];
		struct row *r;

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

				close_text(e, why, sizeof(why));
				snprintf(buf, sizeof(buf), "%s gives up: %s", role[col], why);
				note_row(l, col, e, i, buf);
			}
			break;
		case TL_EXISTING:
			snprintf(buf, sizeof(buf), "%s already %s when tracing began", role[col],
				 tcp_state_name(e->existing.state));
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
		struct row *r = &l->rows[i];

		if (r->kind != ROW_ARROW)
			continue;
		if (r->seg == SEG_KA_PROBE) {
			snprintf(buf, sizeof(buf), "keepalive probe #%u", ++probes[r->from]);
			note_add(r->note, buf);
		} else if (r->seg == SEG_KA_ACK) {
			if (r->rtt_ns >= 1000000)
				snprintf(buf, sizeof(buf), "keepalive ACK, rtt %.1f ms",
					 (double)r->rtt_ns / 1e6);
			else if (r->rtt_ns)
				snprintf(buf, sizeof(buf), "keepalive ACK, rtt %" PRIu64 " us",
					 r->rtt_ns / 1000);
			else
				snprintf(buf, sizeof(buf), "keepalive ACK");
			note_add(r->note, buf);
		} else if (r->seg == SEG_RST && r->rst_reason != TT_RST_REASON_NONE) {
			const char *name = rst_reason_name(r->rst_reason);

			if (name) {
				snprintf(buf, sizeof(buf), "reason %s", name);
				note_add(r->note, buf);
			}
		}
	}
}

/* --- 4. folding and drawing --------------------------------------------------------------- */

static void fold_data(struct ladder *l)
{
	struct row *prev = NULL;

	for (size_t i = 0; i < l->n_rows; i++) {
		struct row *r = &l->rows[i];

		if (prev && r->kind == ROW_ARROW && r->seg == SEG_DATA && prev->seg == SEG_DATA &&
		    prev->kind == ROW_ARROW && prev->from == r->from && !r->note[0]) {
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

static const char *seg_color(const struct row *r)
{
	switch (r->seg) {
	case SEG_RST:
		return C_RED;
	case SEG_KA_PROBE:
	case SEG_KA_ACK:
	case SEG_RETRANS:
		return C_YELLOW;
	case SEG_DATA:
		return C_CYAN;
	default:
		return C_GREEN;
	}
}

struct geom {
	int time_w;
	int note_col; /* where notes start */
};

/* print text at column col of a line that is at column *at (plain width) */
static void pad_to(FILE *f, int *at, int col)
{
	while (*at < col) {
		fputc(' ', f);
		(*at)++;
	}
}

/* the note, wrapped at word boundaries to fit the width */
static void put_note(FILE *f, const struct geom *g, int at, const char *note)
{
	const char *p = note;
	int room = LADDER_WIDTH - g->note_col;

	while (*p) {
		int n = (int)strlen(p);

		if (n > room) {
			int semi = room;

			while (semi > 0 && !(p[semi] == ' ' && p[semi - 1] == ';'))
				semi--;
			n = room;
			while (n > 0 && p[n] != ' ')
				n--;
			if (semi > room / 3)
				n = semi;
			if (n == 0)
				n = room;
		}
		pad_to(f, &at, g->note_col);
		fprintf(f, "%.*s\n", n, p);
		p += n;
		while (*p == ' ')
			p++;
		at = 0;
	}
}

static void put_time(FILE *f, const struct geom *g, uint64_t off, const struct render_opts *o)
{
	fprintf(f, "%s%*.6f%s  ", o->color ? C_DIM : "", g->time_w, (double)off / 1e9,
		o->color ? C_RESET : "");
}

static void draw_row(FILE *f, const struct geom *g, const struct row *r, uint64_t t0,
		     const struct render_opts *o)
{
	char label[48], bytes[24], shaft[ARROW_W + 1];
	const char *color = o->color ? seg_color(r) : "", *reset = o->color ? C_RESET : "";
	int at = g->time_w + 2;

	put_time(f, g, r->ts - t0, o);
	if (r->kind == ROW_NOTE) {
		fputs(o->color ? C_DIM : "", f);
		put_note(f, g, at, r->note);
		fputs(o->color ? C_RESET : "", f);
		return;
	}
	if (r->seg == SEG_DATA) {
		ladder_format_bytes(r->bytes, bytes, sizeof(bytes));
		snprintf(label, sizeof(label), "DATA %s", bytes);
	} else if (r->seg == SEG_RETRANS) {
		snprintf(label, sizeof(label), "%s again", r->label);
	} else {
		snprintf(label, sizeof(label), "%s", r->label);
	}
	label[LABEL_W] = '\0';
	memset(shaft, '-', ARROW_W);
	shaft[ARROW_W] = '\0';
	if (r->from == 0) {
		shaft[ARROW_W - 1] = '>';
		fprintf(f, "%s%*s %s%s", color, LABEL_W, label, shaft, reset);
		at += LABEL_W + 1 + ARROW_W;
	} else {
		shaft[0] = '<';
		fprintf(f, "%*s%s%s %s%s", LABEL_W + 1, "", color, shaft, label, reset);
		at += LABEL_W + 1 + ARROW_W + 1 + (int)strlen(label);
	}
	if (r->seg == SEG_DATA && r->segs > 1) {
		char extra[NOTE_MAX + 32];

		snprintf(extra, sizeof(extra), "%u segments%s%s", r->segs, r->note[0] ? "; " : "",
			 r->note);
		put_note(f, g, at, extra);
		return;
	}
	if (r->note[0])
		put_note(f, g, at, r->note);
	else
		fputc('\n', f);
}

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
	} else if (stateless(c)) {
		snprintf(buf, len, "%s (no socket)", ep);
	} else {
		snprintf(buf, len, "#%" PRIu64 " %s (owner unknown)", c->id, ep);
	}
}

static void header(FILE *f, const struct ladder *l, const struct geom *g,
		   const struct render_opts *o)
{
	char left[160], right[160];
	const struct conn *any = l->end[0] ? l->end[0] : l->end[1];
	int local = l->end[0] ? 0 : 1;
	const struct tl_endpoints *ep = &any->ep;

	for (int col = 0; col < 2; col++) {
		char *buf = col == 0 ? left : right;
		const struct conn *c = l->end[col];

		if (c)
			endpoint_text(c, true, c->ep.laddr, c->ep.lport, c->ep.family, buf, 160);
		else
			endpoint_text(NULL, false, ep->raddr, ep->rport, ep->family, buf, 160);
	}
	(void)local;
	fputs(o->color ? C_BOLD : "", f);
	if ((int)(strlen(left) + strlen(right) + 5) <= LADDER_WIDTH)
		fprintf(f, "%s  <->  %s", left, right);
	else
		fprintf(f, "%s\n  <->  %s", left, right);
	fprintf(f, "%s\n", o->color ? C_RESET : "");
	fprintf(f, "%*s  %*s %*s %s\n", g->time_w, "time", LABEL_W, role[0], ARROW_W, "", role[1]);
}

static void summary(FILE *f, const struct ladder *l, uint64_t t0, uint64_t t1,
		    const struct render_opts *o)
{
	char items[12][160], bytes[2][24], buf[64];
	int n = 0, at = 0;
	bool open = false;
	uint32_t probes = 0, retrans = 0;
	uint64_t sent[2];
	const struct row *first = NULL;

	bool refused = false;

	for (int col = 0; col < 2; col++) {
		const struct conn *c = l->end[col];

		if (c && !c->closed && !stateless(c))
			open = true;
		for (size_t i = 0; c && i < c->n_events; i++)
			if (c->events[i].kind == TL_CLOSE &&
			    c->events[i].close.cause == CAUSE_REFUSED)
				refused = true;
	}
	snprintf(items[n++], 160, "%s after %.6f s", open ? "still open" : "closed",
		 (double)(t1 - t0) / 1e9);
	for (size_t i = 0; i < l->n_rows; i++) {
		const struct row *r = &l->rows[i];

		if (r->kind != ROW_ARROW)
			continue;
		if (r->seg == SEG_KA_PROBE)
			probes++;
		if (!first && (r->seg == SEG_RST ||
			       (r->seg == SEG_CTRL && !strncmp(r->label, "FIN", 3))))
			first = r;
	}
	if (first && !refused)
		snprintf(items[n++], 160, "%s %s first", role[first->from],
			 first->seg == SEG_RST ? "reset" : "closed");
	for (int col = 0; col < 2; col++) {
		const struct conn *c = l->end[col], *other = l->end[1 - col];

		sent[col] = c ? c->bytes_out : other->bytes_in;
		if (c)
			retrans += c->retransmits;
	}
	ladder_format_bytes(sent[0], bytes[0], sizeof(bytes[0]));
	ladder_format_bytes(sent[1], bytes[1], sizeof(bytes[1]));
	snprintf(items[n++], 160, "client sent %s, server sent %s", bytes[0], bytes[1]);
	snprintf(items[n++], 160, "%u keepalive probe%s", probes, probes == 1 ? "" : "s");
	snprintf(items[n++], 160, "%u retransmit%s", retrans, retrans == 1 ? "" : "s");
	for (int col = 0; col < 2; col++) {
		const struct conn *c = l->end[col];
		const struct tl_event *close = NULL;

		if (!c)
			continue;
		for (size_t i = 0; i < c->n_events; i++)
			if (c->events[i].kind == TL_CLOSE)
				close = &c->events[i];
		if (close) {
			close_text(close, buf, sizeof(buf));
			if (l->shut[col] && close->close.cause == CAUSE_APP_CLOSE)
				snprintf(buf, sizeof(buf), "shutdown(SHUT_WR), then close()");
			snprintf(items[n++], 160, "%s: %s [%s]", role[col], buf,
				 cause_name(close->close.cause));
		} else if (stateless(c)) {
			snprintf(items[n++], 160, "%s: no socket, the kernel answered", role[col]);
		} else {
			snprintf(items[n++], 160, "%s: still %s", role[col],
				 tcp_state_name(c->state));
		}
		if (c->events_dropped)
			snprintf(items[n++], 160, "%" PRIu64 " %s events not kept",
				 c->events_dropped, role[col]);
	}
	fputs(o->color ? C_BOLD : "", f);
	for (int i = 0; i < n; i++) {
		int w = (int)strlen(items[i]);

		if (at && at + 3 + w > LADDER_WIDTH) {
			fputs("\n", f);
			at = 0;
		}
		if (at) {
			fputs(" · ", f);
			at += 3;
		} else {
			fputs("  ", f);
			at = 2;
		}
		fputs(items[i], f);
		at += w;
	}
	fprintf(f, "%s\n\n", o->color ? C_RESET : "");
}

void render_ladder(FILE *f, const struct conn *a, const struct conn *b,
		   const struct render_opts *o)
{
	struct ladder l;
	size_t max_obs = 0;
	uint64_t t0 = UINT64_MAX, t1 = 0, prev;
	struct geom g = { .time_w = 8 };

	memset(&l, 0, sizeof(l));
	if (b && !conn_is_mirror(a, b))
		b = NULL;
	if (is_client(a, b)) {
		l.end[0] = a;
		l.end[1] = b;
	} else {
		l.end[0] = b;
		l.end[1] = a;
	}
	l.paired = b != NULL;
	for (int col = 0; col < 2; col++) {
		const struct conn *c = l.end[col];

		if (!c)
			continue;
		max_obs += 2 * c->n_events;
		for (size_t i = 0; i < c->n_events; i++) {
			if (c->events[i].ts_ns < t0)
				t0 = c->events[i].ts_ns;
			if (c->events[i].ts_ns > t1)
				t1 = c->events[i].ts_ns;
		}
	}
	if (t0 == UINT64_MAX)
		t0 = t1 = a->first_ts;
	l.obs = calloc(max_obs ? max_obs : 1, sizeof(*l.obs));
	if (!l.obs)
		return;
	for (int col = 0; col < 2; col++)
		if (l.end[col])
			observe(&l, col);
	arrows(&l);
	/* notes find rows through obs->row: sort only after them */
	for (int col = 0; col < 2; col++)
		if (l.end[col])
			notes_end(&l, col);
	qsort(l.rows, l.n_rows, sizeof(*l.rows), cmp_rows);
	notes_rows(&l);
	fold_data(&l);

	if ((double)(t1 - t0) / 1e9 >= 100.0)
		g.time_w = snprintf(NULL, 0, "%.6f", (double)(t1 - t0) / 1e9);
	g.note_col = g.time_w + 2 + LABEL_W + 1 + ARROW_W + 1 + LABEL_W + 1;

	header(f, &l, &g, o);
	prev = t0;
	for (size_t i = 0; i < l.n_rows; i++) {
		const struct row *r = &l.rows[i];
		uint64_t gap;

		if (r->dead)
			continue;
		gap = r->ts > prev ? r->ts - prev : 0;
		if (gap > LADDER_IDLE_NS && gap * 10 > t1 - t0) {
			char idle[64];

			snprintf(idle, sizeof(idle), "… %.1f s idle …", (double)gap / 1e9);
			fprintf(f, "%*s  %s%*s%s\n", g.time_w, "", o->color ? C_DIM : "",
				LABEL_W + 1 + (ARROW_W - 14) / 2 + (int)strlen(idle), idle,
				o->color ? C_RESET : "");
		}
		draw_row(f, &g, r, t0, o);
		prev = r->ts;
	}
	summary(f, &l, t0, t1, o);
	free(l.obs);
	free(l.rows);
}

void render_ladder_late(FILE *f, const struct conn *c, const struct render_opts *o)
{
	char ep[ADDR_STRLEN + 8], comm[TT_COMM_LEN * 4] = "?", why[64] = "unknown";
	const struct tl_event *close = NULL;

	for (size_t i = 0; i < c->n_events; i++)
		if (c->events[i].kind == TL_CLOSE)
			close = &c->events[i];
	if (close)
		close_text(close, why, sizeof(why));
	endpoint_format(c->ep.family, c->ep.laddr, c->ep.lport, ep, sizeof(ep));
	if (c->pid)
		text_sanitize(c->comm, TT_COMM_LEN, comm, sizeof(comm));
	fprintf(f, "%s#%" PRIu64 " %s (%s %u) closed after %.6f s, after its diagram was drawn: "
		"%s [%s]%s\n\n",
		o->color ? C_BOLD : "", c->id, ep, comm, c->pid,
		(double)(c->last_ts - c->first_ts) / 1e9, why,
		close ? cause_name(close->close.cause) : "unknown", o->color ? C_RESET : "");
}
