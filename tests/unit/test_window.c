// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Zero-window stalls: the tt_window record told apart from the others and
 * checked, its zero ... open pair as window events (the open carries how
 * long and the probes), the close's stalled time (a stall still on at close
 * lasts until then), --abnormal counting a stall, the JSON and its read
 * back, the text line and the ladder's notes and summary.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "conn_table.h"
#include "decode.h"
#include "jsonl_reader.h"
#include "outcome.h"
#include "raw_builder.h"
#include "render.h"
#include "render_ladder.h"

#define MAX_SEEN 64
#define SEC	 1000000000ULL

struct seen {
	struct tl_event ev[MAX_SEEN];
	int n;
	const struct conn *closed[8];
	int n_closed;
};

static char out[16384];

static void sink(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < MAX_SEEN)
		s->ev[s->n++] = *ev;
}

static void on_close(const struct conn *c, void *ctx)
{
	struct seen *s = ctx;

	if (s->n_closed < 8)
		s->closed[s->n_closed++] = c;
}

static struct conn_table *table(struct seen *s)
{
	struct conn_table_opts o = {
		.max_open = 16,
		.max_closed = 16,
		.max_events_per_conn = 100,
		.kernel_reports_errors = true,
		.sink = sink,
		.sink_ctx = s,
		.on_close = on_close,
		.on_close_ctx = s,
	};

	memset(s, 0, sizeof(*s));
	return conn_table_new(&o);
}

static void add(struct conn_table *t, struct tt_event e)
{
	conn_table_add_raw(t, &e);
}

static struct tt_window win(__u64 sk, __u64 ts, __u8 dir, __u8 state, __u32 queued, __u32 probes)
{
	struct tt_window w;

	memset(&w, 0, sizeof(w));
	w.rec = TT_REC_WINDOW;
	w.sk = sk;
	w.birth_ns = 1;
	w.ts_ns = ts;
	w.dir = dir;
	w.state = state;
	w.inferred = dir == TT_DIR_OUT;
	w.queued = queued;
	w.probes = probes;
	return w;
}

static void add_win(struct conn_table *t, struct tt_window w)
{
	struct tt_window d;

	assert_int_equal(decode_window(&w, sizeof(w), &d), 0);
	conn_table_add_window(t, &d);
}

static int count_kind(const struct seen *s, enum tl_kind k)
{
	int n = 0;

	for (int i = 0; i < s->n; i++)
		n += s->ev[i].kind == k;
	return n;
}

static const struct tl_event *last_of(const struct seen *s, enum tl_kind k)
{
	for (int i = s->n - 1; i >= 0; i--)
		if (s->ev[i].kind == k)
			return &s->ev[i];
	return NULL;
}

static void test_decode(void **state)
{
	struct tt_window w = win(CLIENT_SK, 1, TT_DIR_IN, TT_WINDOW_ZERO, 0, 0), d;
	struct tt_rtt r = { .rec = TT_REC_RTT, .when = TT_RTT_CLOSE };

	assert_int_equal(decode_record_kind(&w, sizeof(w)), TT_RECORD_WINDOW);
	assert_int_equal(decode_record_kind(&w, sizeof(w) - 1), TT_RECORD_BAD);
	assert_int_equal(decode_record_kind(&r, sizeof(r)), TT_RECORD_RTT);
	w.state = 3;
	assert_int_equal(decode_window(&w, sizeof(w), &d), -EINVAL);
	w.state = TT_WINDOW_OPEN;
	w.dir = 2;
	assert_int_equal(decode_window(&w, sizeof(w), &d), -EINVAL);
	w.dir = TT_DIR_OUT;
	w.rec = TT_REC_DROP;
	assert_int_equal(decode_window(&w, sizeof(w), &d), -EINVAL);
}

/* Two stalls of the client's peer (in) and one of its own window (out),
 * overlapping the second: window events in pairs, the open with its time
 * and probes; a repeated zero or an open without a zero is no news; the
 * close counts the union of the stalled periods; --abnormal takes it. */
static void test_pairs_and_close(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	const struct tl_event *e;
	const struct conn *c;

	add(t, raw_state(CLIENT_SK, 1, 1 * SEC, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT));
	add(t, raw_state(CLIENT_SK, 1, 1 * SEC + 100, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	c = conn_table_find_id(t, 1);
	assert_non_null(c);
	assert_false(conn_abnormal(c));
	add_win(t, win(CLIENT_SK, 2 * SEC, TT_DIR_IN, TT_WINDOW_OPEN, 0, 0)); /* no zero before */
	assert_int_equal(count_kind(&s, TL_WINDOW), 0);
	add_win(t, win(CLIENT_SK, 2 * SEC, TT_DIR_IN, TT_WINDOW_ZERO, 5000, 0));
	add_win(t, win(CLIENT_SK, 2 * SEC + 5, TT_DIR_IN, TT_WINDOW_ZERO, 5000, 0)); /* again */
	assert_int_equal(count_kind(&s, TL_WINDOW), 1);
	e = last_of(&s, TL_WINDOW);
	assert_false(e->window.open);
	assert_int_equal(e->window.queued, 5000);
	assert_true(conn_abnormal(c));
	add_win(t, win(CLIENT_SK, 4 * SEC + SEC / 2, TT_DIR_IN, TT_WINDOW_OPEN, 5000, 3));
	e = last_of(&s, TL_WINDOW);
	assert_true(e->window.open);
	assert_int_equal(e->window.stalled_ns, 2 * SEC + SEC / 2);
	assert_int_equal(e->window.probes, 3);
	/* 6 s .. 8 s in, 7 s .. 9 s out: stalled 3 s */
	add_win(t, win(CLIENT_SK, 6 * SEC, TT_DIR_IN, TT_WINDOW_ZERO, 10, 0));
	add_win(t, win(CLIENT_SK, 7 * SEC, TT_DIR_OUT, TT_WINDOW_ZERO, 20, 0));
	add_win(t, win(CLIENT_SK, 8 * SEC, TT_DIR_IN, TT_WINDOW_OPEN, 0, 1));
	add_win(t, win(CLIENT_SK, 9 * SEC, TT_DIR_OUT, TT_WINDOW_OPEN, 0, 7));
	e = last_of(&s, TL_WINDOW);
	assert_int_equal(e->window.dir, TT_DIR_OUT);
	assert_true(e->window.inferred);
	assert_int_equal(e->window.probes, 0); /* probes are the sender's: in only */
	assert_int_equal(count_kind(&s, TL_WINDOW), 6);
	assert_int_equal(c->window_stalls, 3);
	assert_int_equal(c->zw_probes, 4);
	/* a third, still on at close, 10 s .. 10.25 s */
	add_win(t, win(CLIENT_SK, 10 * SEC, TT_DIR_IN, TT_WINDOW_ZERO, 1, 0));
	add(t, raw_state(CLIENT_SK, 1, 10 * SEC + SEC / 4, 1, TT_TCP_ESTABLISHED, TT_TCP_CLOSE));
	e = last_of(&s, TL_CLOSE);
	assert_non_null(e);
	assert_int_equal(e->close.stalled_ms, 2500 + 3000 + 250);
	/* another socket life of the same address gets none of it */
	add_win(t, win(CLIENT_SK, 11 * SEC, TT_DIR_IN, TT_WINDOW_ZERO, 1, 0));
	assert_int_equal(count_kind(&s, TL_WINDOW), 7);
	conn_table_free(t);
}

static void render_to(void (*fn)(FILE *, const struct tl_event *, const struct render_opts *),
		      const struct tl_event *ev)
{
	struct render_opts o = { .start_ns = 0 };
	FILE *f = fmemopen(out, sizeof(out), "w");

	fn(f, ev, &o);
	fclose(f);
}

static void test_json_text_read_back(void **state)
{
	struct tl_event ev, back;
	char why[128];
	int64_t us;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_WINDOW;
	ev.ts_ns = 77;
	ev.conn = 2;
	ev.ep.family = 4;
	ev.window.dir = TT_DIR_IN;
	ev.window.open = true;
	ev.window.queued = 1234;
	ev.window.probes = 4;
	ev.window.stalled_ns = 2900123456ULL;
	render_to(render_json, &ev);
	assert_non_null(strstr(out, "\"event\":\"window\""));
	assert_non_null(strstr(out, ",\"dir\":\"in\",\"state\":\"open\",\"queued\":1234,"
				    "\"stalled_ms\":2900.123,\"probes\":4}"));
	assert_int_equal(jsonl_parse_line(out, strlen(out), &back, &us, why, sizeof(why)),
			 JSONL_EVENT);
	assert_int_equal(back.kind, TL_WINDOW);
	assert_true(back.window.open);
	assert_int_equal(back.window.dir, TT_DIR_IN);
	assert_int_equal(back.window.queued, 1234);
	assert_int_equal(back.window.probes, 4);
	assert_int_equal(back.window.stalled_ns, 2900123000ULL);
	render_to(render_text, &ev);
	assert_non_null(strstr(out, "WINDOW open again at the peer after 2.900 s, 4 zero-window "
				    "probes sent"));
	ev.window.dir = TT_DIR_OUT;
	ev.window.open = false;
	ev.window.inferred = true;
	render_to(render_json, &ev);
	assert_non_null(strstr(out, ",\"dir\":\"out\",\"state\":\"zero\",\"queued\":1234,"
				    "\"inferred\":true}"));
	assert_null(strstr(out, "stalled_ms"));
	assert_int_equal(jsonl_parse_line(out, strlen(out), &back, &us, why, sizeof(why)),
			 JSONL_EVENT);
	assert_false(back.window.open);
	assert_true(back.window.inferred);
	render_to(render_text, &ev);
	assert_non_null(strstr(out, "WINDOW 0 here: our application is not reading (1234 B "
				    "waiting) (inferred)"));
	/* a bad state is a bad line */
	strcpy(out, "{\"event\":\"window\",\"ts_ns\":1,\"time\":\"2026-01-01T00:00:00.000000Z\","
		    "\"conn\":1,\"family\":4,\"laddr\":\"127.0.0.1\",\"lport\":1,\"raddr\":"
		    "\"127.0.0.1\",\"rport\":2,\"pid\":null,\"comm\":null,\"dir\":\"in\","
		    "\"state\":\"half\",\"queued\":0}");
	assert_int_equal(jsonl_parse_line(out, strlen(out), &back, &us, why, sizeof(why)),
			 JSONL_MALFORMED);
}

/* Both ends here: the writer (client) sees the server's zero on the wire
 * (in), the reader (server) its own (out, inferred); the ladder tells it
 * once, from the client's exact view, in the brief's words. */
static void test_ladder(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	struct render_opts o = { .start_ns = 0 };
	const struct conn *cl = NULL, *sv = NULL;
	FILE *f;

	add(t, raw_state(CLIENT_SK, 1, 1000, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT));
	add(t, raw_state(SERVER_SK, 1, 2000, 0, TT_TCP_LISTEN, TT_TCP_SYN_RECV));
	add(t, raw_state(CLIENT_SK, 1, 3000, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	add(t, raw_state(SERVER_SK, 1, 4000, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED));
	add(t, raw_data(CLIENT_SK, 1, 5000, 1, TT_DIR_OUT, 70000));
	add(t, raw_data(SERVER_SK, 1, 6000, 0, TT_DIR_IN, 70000));
	add_win(t, win(SERVER_SK, 1 * SEC, TT_DIR_OUT, TT_WINDOW_ZERO, 65000, 0));
	add_win(t, win(CLIENT_SK, 1 * SEC + 10, TT_DIR_IN, TT_WINDOW_ZERO, 5000, 0));
	add_win(t, win(SERVER_SK, 3 * SEC + SEC * 9 / 10, TT_DIR_OUT, TT_WINDOW_OPEN, 0, 0));
	add_win(t, win(CLIENT_SK, 3 * SEC + SEC * 9 / 10 + 10, TT_DIR_IN, TT_WINDOW_OPEN, 0, 5));
	add(t, raw_state(CLIENT_SK, 1, 4 * SEC, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1));
	add(t, raw_state(SERVER_SK, 1, 4 * SEC + 10, 0, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT));
	add(t, raw_state(SERVER_SK, 1, 4 * SEC + 20, 0, TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK));
	add(t, raw_state(CLIENT_SK, 1, 4 * SEC + 30, 1, TT_TCP_FIN_WAIT1, TT_TCP_CLOSE));
	add(t, raw_state(SERVER_SK, 1, 4 * SEC + 40, 0, TT_TCP_LAST_ACK, TT_TCP_CLOSE));
	for (int i = 0; i < s.n_closed; i++) {
		if (s.closed[i]->role == CONN_ROLE_CLIENT)
			cl = s.closed[i];
		else
			sv = s.closed[i];
	}
	assert_non_null(cl);
	assert_non_null(sv);
	f = fmemopen(out, sizeof(out), "w");
	render_ladder(f, cl, sv, &o);
	fclose(f);
	if (getenv("SHOW_LADDER"))
		fputs(out, stderr);
	/* the note wraps at the ladder's width */
	assert_non_null(strstr(out, "server window 0: its application is"));
	assert_non_null(strstr(out, "not reading (5000 B waiting)"));
	assert_non_null(strstr(out, "server window open again after 2.9 s"));
	assert_non_null(strstr(out, "(5 zero-window probes)"));
	/* once: the server's own inferred view is not drawn beside it */
	assert_null(strstr(out, "(65000 B waiting)"));
	assert_non_null(strstr(out, "stalled 2.9 s by a zero window (1 time)"));
	assert_true(strstr(out, "window 0:") < strstr(out, "open again"));
	conn_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_pairs_and_close),
		cmocka_unit_test(test_json_text_read_back),
		cmocka_unit_test(test_ladder),
	};

	return cmocka_run_group_tests_name("window", tests, NULL, NULL);
}
