/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What both fuzz targets drive: the connection table, the ladder queue and
 * every renderer (JSON, text, ladders, the HTML page), wired as main.c wires
 * them, all writing to /dev/null. Small bounds (8 open, 4 closed, 64 events
 * a connection) so that eviction and truncation run too. Header-only: each
 * target is one translation unit.
 */
#ifndef FUZZ_APP_H
#define FUZZ_APP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conn_table.h"
#include "ladder_queue.h"
#include "names.h"
#include "render.h"
#include "render_html.h"
#include "render_ladder.h"

struct fuzz_app {
	FILE *out;
	struct render_opts ro;
	struct conn_table *t;
	struct ladder_queue *q;
	struct html_page *html;
};

static void fuzz_sink(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	struct fuzz_app *a = ctx;

	render_json(a->out, ev, &a->ro);
	render_text(a->out, ev, &a->ro);
}

static void fuzz_on_close(const struct conn *c, void *ctx)
{
	struct fuzz_app *a = ctx;

	ladder_queue_closed(a->q, c);
}

static void fuzz_draw(const struct conn *x, const struct conn *y, void *ctx)
{
	struct fuzz_app *a = ctx;

	render_ladder(a->out, x, y, &a->ro);
	html_page_add(a->html, x, y);
}

static void fuzz_late(const struct conn *c, void *ctx)
{
	struct fuzz_app *a = ctx;

	render_ladder_late(a->out, c, &a->ro);
	html_page_late(a->html, c);
}

/* Render options and table settings are taken from `variant` (the input's
 * size), so both colour modes and both error-reporting kernels are covered.
 * Aborts when anything cannot be set up: the fuzzer reports that as a crash. */
static void fuzz_app_init(struct fuzz_app *a, size_t variant)
{
	struct conn_table_opts to = { 0 };
	struct ladder_queue_opts qo = { 0 };

	memset(a, 0, sizeof(*a));
	a->out = fopen("/dev/null", "w");
	if (!a->out)
		abort();
	a->ro.color = variant & 1;
	a->ro.timestamp = variant & 2;
	to.max_open = 8;
	to.max_closed = 4;
	to.max_events_per_conn = 64;
	/* half the inputs under a budget smaller than the table can hold:
	 * stories cut in the middle by the budget as well as by the limit */
	to.max_memory = variant & 8 ? 16 * 1024 : 0;
	to.kernel_reports_errors = variant & 4;
	to.sink = fuzz_sink;
	to.sink_ctx = a;
	to.on_close = fuzz_on_close;
	to.on_close_ctx = a;
	a->t = conn_table_new(&to);
	qo.hold_ns = 2000000000ULL;
	qo.grace_ns = 100000000ULL;
	qo.draw = fuzz_draw;
	qo.late = fuzz_late;
	qo.ctx = a;
	a->q = a->t ? ladder_queue_new(a->t, &qo) : NULL;
	a->html = html_page_new();
	if (!a->t || !a->q || !a->html)
		abort();
}

/* What is held is drawn, the page written, everything freed. */
static void fuzz_app_fini(struct fuzz_app *a)
{
	ladder_queue_flush(a->q);
	html_page_write(a->html, a->out, "fuzz");
	html_page_free(a->html);
	ladder_queue_free(a->q);
	conn_table_free(a->t);
	rst_reasons_clear();
	fclose(a->out);
}

#endif /* FUZZ_APP_H */
