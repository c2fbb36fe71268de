/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * When to draw a ladder. A connection's diagram is drawn when it closes; when
 * its other end is on this host too, the first end to close waits for the
 * other (up to hold_ns) so both are drawn together, once. Events that trail a
 * close (the RST after an abort) get grace_ns to arrive. On exit everything
 * held and every connection still open is drawn. Listeners get no diagram.
 * Only connection ids are kept: the table may drop a closed connection and
 * the queue then forgets it.
 */
#ifndef LADDER_QUEUE_H
#define LADDER_QUEUE_H

#include <stdint.h>
#include "conn_table.h"

struct ladder_queue_opts {
	uint64_t hold_ns;  /* how long a closed end waits for the other end (2 s) */
	uint64_t grace_ns; /* how long after the last close before drawing (100 ms) */
	/* b: the other end on this host, or NULL */
	void (*draw)(const struct conn *a, const struct conn *b, void *ctx);
	/* an end that closed after its diagram was drawn (held too long) */
	void (*late)(const struct conn *c, void *ctx);
	/* at exit, an open connection is drawn only if this says so (NULL: all) */
	bool (*wanted)(const struct conn *c, void *ctx);
	void *ctx;
};

struct ladder_queue;

struct ladder_queue *ladder_queue_new(const struct conn_table *t,
				      const struct ladder_queue_opts *o);
void ladder_queue_free(struct ladder_queue *q);
/* From conn_table_opts.on_close. */
void ladder_queue_closed(struct ladder_queue *q, const struct conn *c);
/* From the main loop's tick: draws what is ready at now_ns (CLOCK_MONOTONIC). */
void ladder_queue_tick(struct ladder_queue *q, uint64_t now_ns);
/* At exit: every held connection, then every open one with something to draw. */
void ladder_queue_flush(struct ladder_queue *q);
/* Held, waiting to be drawn. */
size_t ladder_queue_pending(const struct ladder_queue *q);

#endif /* LADDER_QUEUE_H */
