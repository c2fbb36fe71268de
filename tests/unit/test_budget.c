// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What the connection table holds for ladders and outcome filters: runs
 * folded while held, the per-connection limit and the memory budget cutting
 * the middle of the longest stories, and the marker each renderer shows. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "conn_table.h"
#include "raw_builder.h"
#include "render.h"
#include "render_ladder.h"

#define MAX_SEEN 8192

struct seen {
	struct tl_event *ev;
	size_t n;
};

static void sink(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	struct seen *s = ctx;

	if (s && s->n < MAX_SEEN)
		s->ev[s->n++] = *ev;
}

static struct conn_table *table(uint32_t per_conn, size_t budget, struct seen *s)
{
	struct conn_table_opts o = {
		.max_open = 256,
		.max_closed = 256,
		.max_events_per_conn = per_conn,
		.kernel_reports_errors = true,
		.max_memory = budget,
		.sink = sink,
		.sink_ctx = s,
	};

	return conn_table_new(&o);
}

static void add(struct conn_table *t, struct tt_event e)
{
	conn_table_add_raw(t, &e);
}

static void opened(struct conn_table *t, uint64_t sk, int client)
{
	add(t, raw_state(sk, 1, 10, client, TT_TCP_CLOSE, TT_TCP_SYN_SENT));
	add(t, raw_state(sk, 1, 11, client, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
}

static void data(struct conn_table *t, uint64_t sk, uint64_t ts, int dir, uint64_t bytes)
{
	struct tt_event e = raw_base(sk, 1, TT_EV_DATA, ts, 1);

	e.data.dir = dir;
	e.data.bytes = bytes;
	e.data.segs = 1;
	add(t, e);
}

static const struct conn *conn_of(struct conn_table *t, uint64_t id)
{
	const struct conn *c = conn_table_find_id(t, id);

	assert_non_null(c);
	return c;
}

/* events of the story a conn stands for: kept ones plus what markers count */
static uint64_t story_len(const struct conn *c, int *markers)
{
	uint64_t n = 0;

	*markers = 0;
	for (size_t i = 0; i < c->n_events; i++) {
		if (c->events[i].kind == TL_TRUNCATED) {
			n += c->events[i].truncated.count;
			(*markers)++;
		} else {
			n++;
		}
	}
	return n;
}

static void test_data_runs_folded(void **state)
{
	struct conn_table *t = table(4096, 0, NULL);
	const struct conn *c;

	opened(t, CLIENT_SK, 1);
	for (int i = 0; i < 5; i++)
		data(t, CLIENT_SK, 100 + i, TT_DIR_OUT, 10);
	data(t, CLIENT_SK, 200, TT_DIR_IN, 4);
	data(t, CLIENT_SK, 300, TT_DIR_OUT, 7);
	data(t, CLIENT_SK, 301, TT_DIR_OUT, 8);
	c = conn_of(t, 1);
	assert_int_equal(c->n_events, 5);
	assert_int_equal(c->events[2].kind, TL_DATA);
	assert_int_equal(c->events[2].data.bytes, 50);
	assert_int_equal(c->events[2].data.segs, 5);
	assert_int_equal(c->events[2].ts_ns, 100); /* the run's first record */
	assert_int_equal(c->events[3].data.dir, TT_DIR_IN);
	assert_int_equal(c->events[4].data.bytes, 15);
	assert_int_equal(c->bytes_out, 65);
	assert_int_equal(conn_table_not_kept(t), 0);
	conn_table_free(t);
}

static void test_per_connection_limit_cuts_the_middle(void **state)
{
	struct conn_table *t = table(64, 0, NULL);
	const struct conn *c;
	int markers;

	opened(t, CLIENT_SK, 1);
	for (int i = 0; i < 300; i++)
		data(t, CLIENT_SK, 100 + i, i % 2 ? TT_DIR_IN : TT_DIR_OUT, 16);
	add(t, raw_state(CLIENT_SK, 1, 1000, 1, TT_TCP_ESTABLISHED, TT_TCP_CLOSE));
	c = conn_of(t, 1);
	assert_true(c->n_events <= 64);
	/* how it began and how it ended are kept */
	assert_int_equal(c->events[0].kind, TL_STATE);
	assert_int_equal(c->events[0].state.new_state, TT_TCP_SYN_SENT);
	assert_int_equal(c->events[1].state.new_state, TT_TCP_ESTABLISHED);
	assert_int_equal(c->events[c->n_events - 1].kind, TL_CLOSE);
	assert_int_equal(c->events[c->n_events - 2].kind, TL_STATE);
	assert_int_equal(c->events[c->n_events - 3].ts_ns, 399); /* the last data */
	/* one marker, counting exactly what is missing */
	assert_int_equal(story_len(c, &markers), 2 + 300 + 2);
	assert_int_equal(markers, 1);
	assert_int_equal(c->events_dropped, 2 + 300 + 2 - (c->n_events - 1));
	assert_int_equal(conn_table_not_kept(t), c->events_dropped);
	/* the marker sits where the cut is, after the beginning */
	for (size_t i = 0; i < c->n_events; i++)
		if (c->events[i].kind == TL_TRUNCATED) {
			assert_true(i > 2);
			assert_true(c->events[i].ts_ns > c->events[i - 1].ts_ns);
			assert_true(c->events[i].ts_ns < c->events[i + 1].ts_ns);
			assert_int_equal(c->events[i].conn, 1);
		}
	conn_table_free(t);
}

static void test_budget_cuts_the_longest_first(void **state)
{
	size_t budget = 48 * 1024;
	struct conn_table *t = table(4096, budget, NULL);
	const struct conn *small, *big;
	int markers;

	opened(t, SERVER_SK, 0);
	data(t, SERVER_SK, 50, TT_DIR_IN, 16);
	data(t, SERVER_SK, 51, TT_DIR_OUT, 16);
	opened(t, CLIENT_SK, 1);
	for (int i = 0; i < 3000; i++) {
		data(t, CLIENT_SK, 100 + i, i % 2 ? TT_DIR_IN : TT_DIR_OUT, 16);
		assert_true(conn_table_held_bytes(t) <= budget);
	}
	small = conn_of(t, 1);
	big = conn_of(t, 2);
	assert_int_equal(small->n_events, 4);
	assert_int_equal(small->events_dropped, 0);
	assert_true(big->n_events < 3000);
	assert_int_equal(story_len(big, &markers), 3002);
	assert_int_equal(markers, 1);
	assert_int_equal(conn_table_not_kept(t), big->events_dropped);
	assert_true(big->events_dropped > 0);
	/* the newest is always kept */
	assert_int_equal(big->events[big->n_events - 1].ts_ns, 3099);
	conn_table_free(t);
}

static void test_budget_across_many_connections(void **state)
{
	size_t budget = 256 * 1024;
	struct conn_table *t = table(4096, budget, NULL);

	for (int round = 0; round < 200; round++)
		for (uint64_t k = 0; k < 50; k++) {
			uint64_t sk = CLIENT_SK + k * 0x100;

			if (!round)
				opened(t, sk, 1);
			data(t, sk, 100 + round, round % 2 ? TT_DIR_IN : TT_DIR_OUT, 16);
			assert_true(conn_table_held_bytes(t) <= budget);
		}
	assert_true(conn_table_not_kept(t) > 0);
	for (uint64_t id = 1; id <= 50; id++) {
		const struct conn *c = conn_of(t, id);
		int markers;

		assert_int_equal(story_len(c, &markers), 202);
		assert_int_equal(c->events[0].state.new_state, TT_TCP_SYN_SENT);
	}
	conn_table_free(t);
}

/* With many stories of different lengths, every cut the budget makes is of
 * a longest one, and choosing it does not cost a scan of every connection:
 * about one bucket looked at per cut. */
static void test_budget_victim_is_always_a_longest(void **state)
{
	enum { N = 1000, STEPS = 20000 };
	size_t budget = 4 << 20;
	struct conn_table_opts o = {
		.max_open = N,
		.max_closed = 16,
		.max_events_per_conn = 4096,
		.kernel_reports_errors = true,
		.max_memory = budget,
	};
	struct conn_table *t = conn_table_new(&o);
	static const struct conn *conns[N + 1];
	static size_t before[N + 1];
	static unsigned int flip[N];
	uint64_t ts = 100, rnd = 12345, cuts = 0;

	for (uint64_t k = 0; k < N; k++)
		opened(t, CLIENT_SK + k * 0x100, 1);
	for (uint64_t id = 1; id <= N; id++)
		conns[id] = conn_of(t, id); /* none is dropped: max_open is N */
	for (int step = 0; step < STEPS; step++) {
		size_t shortest_cut = SIZE_MAX, longest_uncut = 0, k;

		for (uint64_t id = 1; id <= N; id++)
			before[id] = conns[id]->n_events;
		/* mostly the first tenth grows: long stories and short ones */
		rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		k = (rnd >> 33) % (step % 3 ? N / 10 : N);
		data(t, CLIENT_SK + k * 0x100, ts++, flip[k]++ % 2 ? TT_DIR_IN : TT_DIR_OUT, 16);
		assert_true(conn_table_held_bytes(t) <= budget);
		/* one store may cut several stories: each was a longest when it
		 * was cut, so none left uncut was longer than any cut one */
		for (uint64_t id = 1; id <= N; id++) {
			if (conns[id]->n_events < before[id]) {
				cuts++;
				if (before[id] < shortest_cut)
					shortest_cut = before[id];
			} else if (before[id] > longest_uncut) {
				longest_uncut = before[id];
			}
		}
		if (shortest_cut != SIZE_MAX)
			assert_true(shortest_cut >= longest_uncut);
	}
	printf("budget: %llu cuts, %llu buckets looked at\n", (unsigned long long)cuts,
	       (unsigned long long)conn_table_victim_steps(t));
	assert_true(cuts > 50);
	assert_true(conn_table_victim_steps(t) <= 2 * cuts + 4096);
	conn_table_free(t);
}

static void test_release_gives_memory_back(void **state)
{
	struct conn_table *t = table(4096, 0, NULL);
	size_t bare;

	opened(t, CLIENT_SK, 1);
	bare = conn_table_held_bytes(t);
	for (int i = 0; i < 500; i++)
		data(t, CLIENT_SK, 100 + i, i % 2 ? TT_DIR_IN : TT_DIR_OUT, 16);
	assert_true(conn_table_held_bytes(t) > bare + 400 * sizeof(struct tl_event));
	conn_table_release(t, conn_of(t, 1));
	assert_true(conn_table_held_bytes(t) < bare);
	assert_int_equal(conn_of(t, 1)->n_events, 0);
	/* nothing more is kept for it */
	data(t, CLIENT_SK, 1000, TT_DIR_OUT, 16);
	assert_int_equal(conn_of(t, 1)->n_events, 0);
	conn_table_free(t);
}

static char *draw(const struct conn *a, const struct conn *b)
{
	struct render_opts o = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	render_ladder(f, a, b, &o);
	fclose(f);
	return buf;
}

static void test_ladder_marks_the_cut(void **state)
{
	struct conn_table *t = table(64, 0, NULL);
	const struct conn *c;
	char *out, want[96];

	opened(t, CLIENT_SK, 1);
	for (int i = 0; i < 300; i++)
		data(t, CLIENT_SK, 100 + i * 1000, i % 2 ? TT_DIR_IN : TT_DIR_OUT, 16);
	c = conn_of(t, 1);
	out = draw(c, NULL);
	snprintf(want, sizeof(want), "… %llu client events not kept …",
		 (unsigned long long)c->events_dropped);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "%llu client events not kept\n",
		 (unsigned long long)c->events_dropped);
	assert_non_null(strstr(out, want)); /* and in the summary */
	/* the marker line comes after the handshake and before the last rows */
	assert_true(strstr(out, "… ") > strstr(out, "established"));
	free(out);
	conn_table_free(t);
}

static void test_json_and_text_show_the_marker(void **state)
{
	struct tl_event ev = { .kind = TL_TRUNCATED, .ts_ns = 5000, .conn = 7 };
	struct render_opts o = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	ev.ep.family = 4;
	ev.truncated.count = 123;
	f = open_memstream(&buf, &len);
	render_json(f, &ev, &o);
	fclose(f);
	assert_non_null(strstr(buf, "{\"event\":\"truncated\","));
	assert_non_null(strstr(buf, "\"conn\":7,"));
	assert_non_null(strstr(buf, "\"count\":123}"));
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	render_text(f, &ev, &o);
	fclose(f);
	assert_non_null(strstr(buf, "#7 "));
	assert_non_null(strstr(buf, "… 123 events not kept …"));
	free(buf);
}

/* Folding while holding keeps the picture: the ladder of the folded story
 * is the ladder of every record as it came. */
static void test_folding_draws_the_same(void **state)
{
	struct seen s = { .ev = calloc(MAX_SEEN, sizeof(struct tl_event)) };
	struct conn_table *t = table(4096, 0, &s);
	struct conn unfolded;
	const struct conn *c;
	char *a, *b;
	uint64_t ts = 1000000;

	assert_non_null(s.ev);
	opened(t, CLIENT_SK, 1);
	/* a request, a long reply in one-second runs, another exchange, a
	 * long upload, the close */
	data(t, CLIENT_SK, ts += 1000, TT_DIR_OUT, 29);
	for (int i = 0; i < 6; i++)
		data(t, CLIENT_SK, ts += 1000000000ULL, TT_DIR_IN, 100000);
	data(t, CLIENT_SK, ts += 1000, TT_DIR_OUT, 29);
	data(t, CLIENT_SK, ts += 1000, TT_DIR_IN, 4);
	for (int i = 0; i < 4; i++)
		data(t, CLIENT_SK, ts += 1000000000ULL, TT_DIR_OUT, 65536);
	{
		struct tt_event e = raw_state(CLIENT_SK, 1, ts += 1000, 1, TT_TCP_ESTABLISHED,
					      TT_TCP_FIN_WAIT1);

		raw_actor(&e, 100, "app", 0, 0);
		add(t, e);
	}
	c = conn_of(t, 1);
	assert_true(c->n_events < s.n); /* it did fold */
	unfolded = *c;
	unfolded.events = s.ev;
	unfolded.n_events = unfolded.cap_events = s.n;
	a = draw(c, NULL);
	b = draw(&unfolded, NULL);
	assert_string_equal(a, b);
	free(a);
	free(b);
	conn_table_free(t);
	free(s.ev);
}

static void ka(struct conn_table *t, uint64_t sk, int client, uint64_t ts, bool ack, int dir,
	       uint32_t n, uint64_t rtt_ns)
{
	struct tt_event e = raw_base(sk, 1, ack ? TT_EV_KA_ACK : TT_EV_KA_PROBE, ts, client);

	if (ack) {
		e.ka_ack.dir = dir;
		e.ka_ack.rtt_ns = rtt_ns;
	} else {
		e.ka_probe.dir = dir;
		e.ka_probe.n = n;
	}
	add(t, e);
}

/* the probe dropped by the probed end after it answered it (an
 * out-of-window segment), as the kernel reports it: one drop, both ends */
static void ka_drop(struct conn_table *t, uint64_t ts)
{
	struct tt_drop d;

	memset(&d, 0, sizeof(d));
	d.rec = TT_REC_DROP;
	d.reason = 7;
	d.ts_ns = ts;
	d.family = 4;
	d.saddr[0] = 127, d.saddr[3] = 1;
	d.daddr[0] = 127, d.daddr[3] = 1;
	d.sport = 49306;
	d.dport = 9000;
	d.flags = 0x10;
	conn_table_add_drop(t, &d);
}

/* c's events as the sink saw them: the story as it came, unfolded */
static struct conn unfolded_of(const struct conn *c, const struct seen *s, struct tl_event *buf)
{
	struct conn u = *c;

	u.n_events = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->ev[i].conn == c->id)
			buf[u.n_events++] = s->ev[i];
	u.events = buf;
	u.cap_events = u.n_events;
	u.ka_runs = 0;
	return u;
}

static char *json_of(const struct conn *c)
{
	struct render_opts o = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	for (size_t i = 0; i < c->n_events; i++)
		render_json(f, &c->events[i], &o);
	fclose(f);
	return buf;
}

/* An idle connection with keepalive on, both ends traced: 300 answered
 * exchanges (the prober's probe, its drop and the ACK; the probed end's
 * probe, counted up, and its drop), then
 * probes unanswered until the close. Held, each end's exchanges are a few
 * run slots; the ladder of both ends and the JSON of each are those of every
 * event as it came. */
static void test_keepalive_runs_draw_and_print_the_same(void **state)
{
	struct seen s = { .ev = calloc(MAX_SEEN, sizeof(struct tl_event)) };
	struct tl_event *ub[2] = { calloc(MAX_SEEN, sizeof(struct tl_event)),
				   calloc(MAX_SEEN, sizeof(struct tl_event)) };
	struct conn_table *t = table(4096, 0, &s);
	const struct conn *c, *m, *v;
	struct conn u[2], tmp;
	char *a, *b;
	uint64_t ts = 1000000;
	size_t bare;

	assert_non_null(s.ev);
	assert_non_null(ub[0]);
	assert_non_null(ub[1]);
	add(t, raw_state(SERVER_SK, 1, 10, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED));
	opened(t, CLIENT_SK, 1);
	data(t, CLIENT_SK, ts += 1000, TT_DIR_OUT, 29);
	bare = conn_table_held_bytes(t);
	for (int i = 0; i < 300; i++) {
		ts += 1000000000ULL;
		ka(t, CLIENT_SK, 1, ts, false, TT_DIR_OUT, 1, 0);
		/* the probed end counts them up */
		ka(t, SERVER_SK, 0, ts + 20000, false, TT_DIR_IN, i + 1, 0);
		ka_drop(t, ts + 30000);
		ka(t, CLIENT_SK, 1, ts + 40000 + i, true, TT_DIR_IN, 0, 40000 + i);
	}
	for (uint32_t n = 1; n <= 3; n++) {
		ts += 1000000000ULL;
		ka(t, CLIENT_SK, 1, ts, false, TT_DIR_OUT, n, 0);
	}
	{
		struct tt_event e =
			raw_state(CLIENT_SK, 1, ts += 1000, 1, TT_TCP_ESTABLISHED, TT_TCP_CLOSE);

		e.sk_err = ETIMEDOUT;
		add(t, e);
	}
	c = conn_of(t, 2);
	m = conn_of(t, 1);
	assert_true(c->ka_runs >= 1);
	assert_true(m->ka_runs >= 1);
	assert_true(c->n_events < 20);
	assert_true(m->n_events < 20);
	/* 1503 keepalive events held in a quarter of their size or less */
	printf("keepalive: 1503 events held in %zu bytes (%zu unfolded)\n",
	       conn_table_held_bytes(t) - bare, 1503 * sizeof(struct tl_event));
	assert_true(conn_table_held_bytes(t) - bare < 1503 * sizeof(struct tl_event) / 4);
	u[0] = unfolded_of(c, &s, ub[0]);
	u[1] = unfolded_of(m, &s, ub[1]);
	assert_true(u[0].n_events > 900);
	assert_true(u[1].n_events > 600);
	a = draw(c, m);
	b = draw(&u[0], &u[1]);
	assert_string_equal(a, b);
	free(a);
	free(b);
	for (int end = 0; end < 2; end++) {
		const struct conn *held = end ? m : c;

		v = conn_view(held, &tmp);
		assert_non_null(v);
		assert_int_equal(v->n_events, u[end].n_events);
		a = json_of(v);
		b = json_of(&u[end]);
		assert_string_equal(a, b);
		free(a);
		free(b);
		conn_view_done(v, held);
	}
	conn_table_free(t);
	free(s.ev);
	free(ub[0]);
	free(ub[1]);
}

/* A cut through folded runs counts every event it stands for: what is
 * kept plus what the marker counts is the whole story. */
static void test_cut_through_runs_counts_exactly(void **state)
{
	struct seen s = { .ev = calloc(MAX_SEEN, sizeof(struct tl_event)) };
	struct conn_table *t = table(32, 0, &s);
	const struct conn *c, *v;
	struct conn tmp;
	uint64_t ts = 1000, kept = 0, marked = 0, all = 0;

	assert_non_null(s.ev);
	opened(t, CLIENT_SK, 1);
	for (int round = 0; round < 60; round++) {
		for (int i = 0; i < 5; i++) {
			ka(t, CLIENT_SK, 1, ts += 1000, false, TT_DIR_OUT, 1, 0);
			ka(t, CLIENT_SK, 1, ts += 10, true, TT_DIR_IN, 0, 10);
		}
		data(t, CLIENT_SK, ts += 1000, round % 2 ? TT_DIR_IN : TT_DIR_OUT, 16);
	}
	c = conn_of(t, 1);
	assert_true(c->events_dropped > 0);
	v = conn_view(c, &tmp);
	assert_non_null(v);
	for (size_t i = 0; i < v->n_events; i++) {
		if (v->events[i].kind == TL_TRUNCATED)
			marked += v->events[i].truncated.count;
		else
			kept++;
	}
	for (size_t i = 0; i < s.n; i++)
		all += s.ev[i].conn == 1;
	assert_int_equal(kept + marked, all);
	assert_int_equal(marked, c->events_dropped);
	assert_int_equal(conn_table_not_kept(t), c->events_dropped);
	conn_view_done(v, c);
	conn_table_free(t);
	free(s.ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_runs_folded),
		cmocka_unit_test(test_per_connection_limit_cuts_the_middle),
		cmocka_unit_test(test_budget_cuts_the_longest_first),
		cmocka_unit_test(test_budget_across_many_connections),
		cmocka_unit_test(test_budget_victim_is_always_a_longest),
		cmocka_unit_test(test_release_gives_memory_back),
		cmocka_unit_test(test_ladder_marks_the_cut),
		cmocka_unit_test(test_json_and_text_show_the_marker),
		cmocka_unit_test(test_folding_draws_the_same),
		cmocka_unit_test(test_keepalive_runs_draw_and_print_the_same),
		cmocka_unit_test(test_cut_through_runs_counts_exactly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
