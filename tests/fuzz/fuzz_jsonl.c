// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: arbitrary bytes as a recording read back (-r), through
 * jsonl_reader -> connection table -> every renderer (JSON and text again,
 * the ladder queue on the recording's clock, ladders and the HTML page), as
 * main.c wires them for --read. Any JSON, any order, any ids (unknown
 * connections, events after a close, a close twice, ids reused across
 * families), time going backwards, lines cut short. Seeds in
 * tests/fuzz/corpus/jsonl/ are the golden recordings (the .jsonl files in
 * tests/unit/golden) and a few bad lines.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "conn_table.h"
#include "jsonl_reader.h"
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

static void sink(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	struct fuzz_app *a = ctx;

	render_json(a->out, ev, &a->ro);
	render_text(a->out, ev, &a->ro);
}

static void on_close(const struct conn *c, void *ctx)
{
	struct fuzz_app *a = ctx;

	ladder_queue_closed(a->q, c);
}

static void draw(const struct conn *x, const struct conn *y, void *ctx)
{
	struct fuzz_app *a = ctx;

	render_ladder(a->out, x, y, &a->ro);
	html_page_add(a->html, x, y);
}

static void late(const struct conn *c, void *ctx)
{
	struct fuzz_app *a = ctx;

	render_ladder_late(a->out, c, &a->ro);
	html_page_late(a->html, c);
}

static size_t tick(uint64_t now, void *ctx)
{
	struct fuzz_app *a = ctx;

	ladder_queue_tick(a->q, now);
	return ladder_queue_pending(a->q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_app a = { 0 };
	struct conn_table_opts to = { 0 };
	struct ladder_queue_opts qo = { 0 };
	struct jsonl_reader_opts ro = { 0 };
	struct jsonl_reader_stats st;
	FILE *in, *err;

	if (!size)
		return 0;
	a.out = fopen("/dev/null", "w");
	err = fopen("/dev/null", "w");
	in = fmemopen((void *)data, size, "r");
	if (!a.out || !err || !in)
		abort();
	a.ro.color = size & 1;
	a.ro.timestamp = size & 2;
	to.max_open = 8; /* small, so eviction runs too */
	to.max_closed = 4;
	to.max_events_per_conn = 64;
	to.sink = sink;
	to.sink_ctx = &a;
	to.on_close = on_close;
	to.on_close_ctx = &a;
	a.t = conn_table_new(&to);
	qo.hold_ns = 2000000000ULL;
	qo.grace_ns = 100000000ULL;
	qo.draw = draw;
	qo.late = late;
	qo.ctx = &a;
	a.q = a.t ? ladder_queue_new(a.t, &qo) : NULL;
	a.html = html_page_new();
	if (!a.t || !a.q || !a.html)
		abort();
	ro.table = a.t;
	ro.name = "fuzz.jsonl";
	ro.err = err;
	ro.realtime_offset_ns = &a.ro.realtime_offset_ns;
	ro.start_ns = &a.ro.start_ns;
	ro.tick = tick;
	ro.ctx = &a;
	jsonl_read(in, &ro, &st);
	ladder_queue_flush(a.q);
	html_page_write(a.html, a.out, "fuzz");
	html_page_free(a.html);
	ladder_queue_free(a.q);
	conn_table_free(a.t);
	rst_reasons_clear();
	fclose(in);
	fclose(err);
	fclose(a.out);
	return 0;
}
