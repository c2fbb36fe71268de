// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "ladder_queue.h"
#include "names.h"

#define DRAWN_RING 4096 /* ids of recently drawn connections: their late ends */

struct held {
	uint64_t id;
	uint64_t closed_ts;
};

struct ladder_queue {
	const struct conn_table *table;
	struct ladder_queue_opts o;
	struct held *held;
	size_t n_held, cap_held;
	uint64_t drawn[DRAWN_RING];
	size_t drawn_next;
};

struct ladder_queue *ladder_queue_new(const struct conn_table *t, const struct ladder_queue_opts *o)
{
	struct ladder_queue *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->table = t;
	q->o = *o;
	return q;
}

void ladder_queue_free(struct ladder_queue *q)
{
	if (!q)
		return;
	free(q->held);
	free(q);
}

size_t ladder_queue_pending(const struct ladder_queue *q)
{
	return q->n_held;
}

static bool was_drawn(const struct ladder_queue *q, uint64_t id)
{
	for (size_t i = 0; i < DRAWN_RING; i++)
		if (q->drawn[i] == id)
			return true;
	return false;
}

static void mark_drawn(struct ladder_queue *q, uint64_t id)
{
	q->drawn[q->drawn_next] = id;
	q->drawn_next = (q->drawn_next + 1) % DRAWN_RING;
}

static bool is_held(const struct ladder_queue *q, uint64_t id)
{
	for (size_t i = 0; i < q->n_held; i++)
		if (q->held[i].id == id)
			return true;
	return false;
}

/* a listening socket: no peer, no diagram */
static bool is_listener(const struct conn *c)
{
	return !c->ep.rport || c->state == TT_TCP_LISTEN;
}

void ladder_queue_closed(struct ladder_queue *q, const struct conn *c)
{
	if (is_listener(c))
		return;
	if (was_drawn(q, c->id)) {
		if (q->o.late)
			q->o.late(c, q->o.ctx);
		return;
	}
	if (is_held(q, c->id))
		return;
	if (q->n_held == q->cap_held) {
		size_t cap = q->cap_held ? q->cap_held * 2 : 16;
		struct held *n = realloc(q->held, cap * sizeof(*n));

		if (!n)
			return;
		q->held = n;
		q->cap_held = cap;
	}
	q->held[q->n_held].id = c->id;
	q->held[q->n_held].closed_ts = c->last_ts;
	q->n_held++;
}

static void draw(struct ladder_queue *q, const struct conn *c, const struct conn *m)
{
	q->o.draw(c, m, q->o.ctx);
	mark_drawn(q, c->id);
	if (m)
		mark_drawn(q, m->id);
}

/* Draw held ends that are ready (all of them when force); keep the rest. */
static void run(struct ladder_queue *q, uint64_t now, bool force)
{
	size_t keep = 0;

	for (size_t i = 0; i < q->n_held; i++) {
		struct held h = q->held[i];
		const struct conn *c = conn_table_find_id(q->table, h.id), *m;
		uint64_t ready;

		if (!c || was_drawn(q, h.id))
			continue;
		m = conn_table_find_mirror(q->table, c);
		if (m && was_drawn(q, m->id))
			m = NULL;
		if (!m || conn_stateless(m))
			ready = h.closed_ts + q->o.grace_ns;
		else if (m->closed)
			ready = (m->last_ts > h.closed_ts ? m->last_ts : h.closed_ts) +
				q->o.grace_ns;
		else
			ready = h.closed_ts + q->o.hold_ns;
		if (force || now >= ready) {
			draw(q, c, m);
			continue;
		}
		q->held[keep++] = h;
	}
	q->n_held = keep;
}

void ladder_queue_tick(struct ladder_queue *q, uint64_t now_ns)
{
	run(q, now_ns, false);
}

static bool worth_drawing(const struct conn *c)
{
	for (size_t i = 0; i < c->n_events; i++)
		if (c->events[i].kind != TL_EXISTING)
			return true;
	return false;
}

static void flush_open(const struct conn *c, void *ctx)
{
	struct ladder_queue *q = ctx;
	const struct conn *m;

	if (is_listener(c) || was_drawn(q, c->id) || !worth_drawing(c))
		return;
	if (q->o.wanted && !q->o.wanted(c, q->o.ctx))
		return;
	m = conn_table_find_mirror(q->table, c);
	if (m && was_drawn(q, m->id))
		m = NULL;
	draw(q, c, m);
}

void ladder_queue_flush(struct ladder_queue *q)
{
	run(q, 0, true);
	conn_table_foreach_open(q->table, flush_open, q);
}
