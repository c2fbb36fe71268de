/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A connection table whose sink and close hook keep what came out of it,
 * for the unit tests that feed it records and look at the events. */
#ifndef SEEN_TABLE_H
#define SEEN_TABLE_H

#include <string.h>
#include "conn_table.h"

#define SEEN_MAX 64

struct seen {
	struct tl_event ev[SEEN_MAX]; /* the first SEEN_MAX events emitted */
	int n;
	int closes;		      /* on_close calls */
	const struct conn *closed[8]; /* the first 8 connections closed */
	int n_closed;
};

static inline void seen_sink(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	struct seen *s = ctx;

	(void)c;
	if (s->n < SEEN_MAX)
		s->ev[s->n++] = *ev;
}

static inline void seen_on_close(const struct conn *c, void *ctx)
{
	struct seen *s = ctx;

	s->closes++;
	if (s->n_closed < 8)
		s->closed[s->n_closed++] = c;
}

/* s emptied; the kernel reports errors (5.11+), as the tracer's live table */
static inline struct conn_table *seen_table(struct seen *s, uint32_t max_open, uint32_t max_closed,
					    uint32_t max_events)
{
	struct conn_table_opts o = {
		.max_open = max_open,
		.max_closed = max_closed,
		.max_events_per_conn = max_events,
		.kernel_reports_errors = true,
		.sink = seen_sink,
		.sink_ctx = s,
		.on_close = seen_on_close,
		.on_close_ctx = s,
	};

	memset(s, 0, sizeof(*s));
	return conn_table_new(&o);
}

/* the last event of kind k the table emitted, or NULL */
static inline const struct tl_event *seen_last(const struct seen *s, enum tl_kind k)
{
	for (int i = s->n - 1; i >= 0; i--)
		if (s->ev[i].kind == k)
			return &s->ev[i];
	return NULL;
}

#endif /* SEEN_TABLE_H */
