// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The compact records (tt_data, tt_state): told apart from the others and
 * checked; on a connection the table knows they give the same events and
 * totals as the full TT_EV_DATA / TT_EV_STATE records (a whole connection's
 * close with its RTT, actor and cause); one for a socket life the table does
 * not know (another birth, an unknown address) is counted as not kept, not
 * dropped silently.
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
#include "raw_builder.h"

#define MAX_SEEN 64
#define SEC	 1000000000ULL

struct seen {
	struct tl_event ev[MAX_SEEN];
	int n;
};

static void sink(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < MAX_SEEN)
		s->ev[s->n++] = *ev;
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
	};

	memset(s, 0, sizeof(*s));
	return conn_table_new(&o);
}

static void add(struct conn_table *t, struct tt_event e)
{
	conn_table_add_raw(t, &e);
}

static struct tt_data cdata(__u64 sk, __u64 birth, __u64 ts, __u8 dir, __u64 bytes, __u32 segs,
			    __u8 inferred)
{
	struct tt_data d;

	memset(&d, 0, sizeof(d));
	d.rec = TT_REC_DATA;
	d.sk = sk;
	d.birth_ns = birth;
	d.ts_ns = ts;
	d.dir = dir;
	d.bytes = bytes;
	d.segs = segs;
	d.inferred = inferred;
	return d;
}

static void add_cdata(struct conn_table *t, struct tt_data d)
{
	struct tt_data out;

	assert_int_equal(decode_data(&d, sizeof(d), &out), 0);
	conn_table_add_data(t, &out);
}

static void test_decode(void **state)
{
	struct tt_data d = cdata(CLIENT_SK, 1, 5, TT_DIR_OUT, 100, 2, 0), out;
	struct tt_window w = { .rec = TT_REC_WINDOW, .state = TT_WINDOW_ZERO };

	assert_int_equal(decode_record_kind(&d, sizeof(d)), TT_RECORD_DATA);
	assert_int_equal(decode_record_kind(&d, sizeof(d) - 1), TT_RECORD_BAD);
	assert_int_equal(decode_record_kind(&w, sizeof(w)), TT_RECORD_WINDOW);
	assert_int_equal(decode_data(&d, sizeof(d), &out), 0);
	assert_int_equal(out.bytes, 100);
	d.dir = 2;
	assert_int_equal(decode_data(&d, sizeof(d), &out), -EINVAL);
	d.dir = TT_DIR_IN;
	d.birth_ns = 0; /* only a followed socket life is sent compact */
	assert_int_equal(decode_data(&d, sizeof(d), &out), -EINVAL);
	d.birth_ns = 1;
	d.sk = 0;
	assert_int_equal(decode_data(&d, sizeof(d), &out), -EINVAL);
	d.sk = CLIENT_SK;
	d.rec = TT_REC_WINDOW;
	assert_int_equal(decode_data(&d, sizeof(d), &out), -EINVAL);
}

/* One connection fed full data records, the same connection's twin fed the
 * compact ones: the same events, the same totals. */
static void test_same_as_full(void **state)
{
	struct seen full, compact;
	struct conn_table *tf = table(&full), *tc = table(&compact);
	const struct conn *cf, *cc;

	add(tf, raw_state(CLIENT_SK, 1, 1 * SEC, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	add(tc, raw_state(CLIENT_SK, 1, 1 * SEC, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	{
		struct tt_event e = raw_data(CLIENT_SK, 1, 2 * SEC, 1, TT_DIR_OUT, 300);

		e.data.segs = 3;
		add(tf, e);
		e = raw_data(CLIENT_SK, 1, 3 * SEC, 1, TT_DIR_IN, 7000);
		e.data.segs = 5;
		e.data.inferred = 1;
		add(tf, e);
	}
	add_cdata(tc, cdata(CLIENT_SK, 1, 2 * SEC, TT_DIR_OUT, 300, 3, 0));
	add_cdata(tc, cdata(CLIENT_SK, 1, 3 * SEC, TT_DIR_IN, 7000, 5, 1));
	assert_int_equal(full.n, compact.n);
	for (int i = 0; i < full.n; i++) {
		assert_int_equal(full.ev[i].kind, compact.ev[i].kind);
		assert_int_equal(full.ev[i].ts_ns, compact.ev[i].ts_ns);
		if (full.ev[i].kind != TL_DATA)
			continue;
		assert_int_equal(full.ev[i].conn, compact.ev[i].conn);
		assert_int_equal(full.ev[i].data.dir, compact.ev[i].data.dir);
		assert_int_equal(full.ev[i].data.bytes, compact.ev[i].data.bytes);
		assert_int_equal(full.ev[i].data.segs, compact.ev[i].data.segs);
		assert_int_equal(full.ev[i].data.inferred, compact.ev[i].data.inferred);
		assert_memory_equal(&full.ev[i].ep, &compact.ev[i].ep, sizeof(full.ev[i].ep));
	}
	cf = conn_table_find_id(tf, 1);
	cc = conn_table_find_id(tc, 1);
	assert_non_null(cf);
	assert_non_null(cc);
	assert_int_equal(cc->bytes_out, 300);
	assert_int_equal(cc->bytes_in, 7000);
	assert_int_equal(cf->bytes_out, cc->bytes_out);
	assert_int_equal(cf->bytes_in, cc->bytes_in);
	assert_int_equal(conn_table_not_kept(tc), 0);
	conn_table_free(tf);
	conn_table_free(tc);
}

/* A compact record the table cannot place is counted, not lost silently. */
static void test_unknown_counted(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);

	add(t, raw_state(CLIENT_SK, 1, 1 * SEC, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	add_cdata(t, cdata(SERVER_SK, 1, 2 * SEC, TT_DIR_IN, 10, 1, 0)); /* never seen */
	add_cdata(t, cdata(CLIENT_SK, 2, 2 * SEC, TT_DIR_IN, 10, 1, 0)); /* another life */
	assert_int_equal(conn_table_not_kept(t), 2);
	for (int i = 0; i < s.n; i++)
		assert_int_not_equal(s.ev[i].kind, TL_DATA);
	assert_int_equal(conn_table_find_id(t, 1)->bytes_in, 0);
	conn_table_free(t);
}

static const struct tl_event *last_close_of(const struct seen *s)
{
	for (int i = s->n - 1; i >= 0; i--)
		if (s->ev[i].kind == TL_CLOSE)
			return &s->ev[i];
	return NULL;
}

#define last_close(s) last_close_of(s)

static struct tt_state cstate(const struct tt_event *e)
{
	struct tt_state r;

	memset(&r, 0, sizeof(r));
	r.rec = TT_REC_STATE;
	r.ts_ns = e->ts_ns;
	r.sk = e->sk;
	r.birth_ns = e->birth_ns;
	r.old_state = e->old_state;
	r.new_state = e->new_state;
	r.sk_err = e->sk_err;
	r.timer_ctx = e->timer_ctx;
	r.peer_fin = e->peer_fin;
	r.linger2_neg = e->linger2_neg;
	r.actor_pid = e->actor_pid;
	r.actor_flags = e->actor_flags;
	r.exit_code = e->exit_code;
	memcpy(r.actor_comm, e->actor_comm, TT_COMM_LEN);
	r.state.rtt_when = e->state.rtt_when;
	r.state.srtt_us = e->state.srtt_us;
	r.state.min_rtt_us = e->state.min_rtt_us;
	return r;
}

static void test_state_decode(void **state)
{
	struct tt_event e = raw_state(CLIENT_SK, 1, 5, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1);
	struct tt_state r = cstate(&e), out;

	assert_int_equal(decode_record_kind(&r, sizeof(r)), TT_RECORD_STATE);
	assert_int_equal(decode_record_kind(&r, sizeof(r) + 8), TT_RECORD_BAD);
	memset(r.actor_comm, 'x', sizeof(r.actor_comm));
	assert_int_equal(decode_state(&r, sizeof(r), &out), 0);
	assert_int_equal(out.actor_comm[TT_COMM_LEN - 1], '\0');
	r.state.rtt_when = 3;
	assert_int_equal(decode_state(&r, sizeof(r), &out), -EINVAL);
	r.state.rtt_when = TT_RTT_CLOSE;
	r.birth_ns = 0;
	assert_int_equal(decode_state(&r, sizeof(r), &out), -EINVAL);
	r.birth_ns = 1;
	r.rec = TT_REC_DATA;
	assert_int_equal(decode_state(&r, sizeof(r), &out), -EINVAL);
}

/* A whole client life (connect, close by its owner that is exiting, the
 * peer's FIN, CLOSE with RTT estimates) fed as full records to one table
 * and, past the first, as compact ones to another: the same events. */
static void test_state_same_as_full(void **state)
{
	struct seen full, compact;
	struct conn_table *tf = table(&full), *tc = table(&compact);
	struct tt_event life[4];
	const struct conn *cf, *cc;

	life[0] = raw_state(CLIENT_SK, 1, 1 * SEC, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	raw_owner(&life[0], 42, "client");
	life[0].state.rtt_when = TT_RTT_ESTABLISHED;
	life[0].state.srtt_us = 150;
	life[0].state.min_rtt_us = 150;
	life[1] = raw_state(CLIENT_SK, 1, 2 * SEC, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1);
	raw_owner(&life[1], 42, "client");
	raw_actor(&life[1], 42, "client", 1, 9);
	life[2] = raw_state(CLIENT_SK, 1, 3 * SEC, 1, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2);
	raw_owner(&life[2], 42, "client");
	life[3] = raw_state(CLIENT_SK, 1, 4 * SEC, 1, TT_TCP_FIN_WAIT2, TT_TCP_CLOSE);
	raw_owner(&life[3], 42, "client");
	life[3].peer_fin = 1;
	life[3].state.rtt_when = TT_RTT_CLOSE;
	life[3].state.srtt_us = 200;
	life[3].state.min_rtt_us = 120;
	for (int i = 0; i < 4; i++)
		add(tf, life[i]);
	add(tc, life[0]);
	for (int i = 1; i < 4; i++) {
		struct tt_state r = cstate(&life[i]), out;

		assert_int_equal(decode_state(&r, sizeof(r), &out), 0);
		conn_table_add_state(tc, &out);
	}
	assert_true(full.n > 4);
	assert_int_equal(full.n, compact.n);
	for (int i = 0; i < full.n; i++) {
		const struct tl_event *a = &full.ev[i], *b = &compact.ev[i];

		assert_int_equal(a->kind, b->kind);
		assert_int_equal(a->ts_ns, b->ts_ns);
		assert_int_equal(a->conn, b->conn);
		assert_memory_equal(&a->ep, &b->ep, sizeof(a->ep));
		if (a->kind == TL_STATE) {
			assert_int_equal(a->state.old_state, b->state.old_state);
			assert_int_equal(a->state.new_state, b->state.new_state);
			assert_int_equal(a->state.time_wait, b->state.time_wait);
			assert_int_equal(a->state.actor.pid, b->state.actor.pid);
			assert_string_equal(a->state.actor.comm, b->state.actor.comm);
			assert_int_equal(a->state.actor.exiting, b->state.actor.exiting);
			assert_int_equal(a->state.actor.exit_code, b->state.actor.exit_code);
		}
		if (a->kind == TL_CLOSE) {
			assert_int_equal(a->close.cause, b->close.cause);
			assert_int_equal(a->close.by.pid, b->close.by.pid);
			assert_int_equal(a->close.exit_code, b->close.exit_code);
			assert_int_equal(a->close.srtt_us, b->close.srtt_us);
			assert_int_equal(a->close.min_rtt_us, b->close.min_rtt_us);
		}
	}
	assert_non_null(last_close(&compact));
	assert_int_equal(last_close(&compact)->close.srtt_us, 200);
	cf = conn_table_find_id(tf, 1);
	cc = conn_table_find_id(tc, 1);
	assert_non_null(cf);
	assert_non_null(cc);
	assert_int_equal(cf->pid, cc->pid);
	assert_string_equal(cf->comm, cc->comm);
	assert_int_equal(conn_table_not_kept(tc), 0);
	{
		struct tt_state r = cstate(&life[2]), out;

		r.sk = SERVER_SK; /* never seen */
		assert_int_equal(decode_state(&r, sizeof(r), &out), 0);
		conn_table_add_state(tc, &out);
		assert_int_equal(conn_table_not_kept(tc), 1);
	}
	conn_table_free(tf);
	conn_table_free(tc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_same_as_full),
		cmocka_unit_test(test_unknown_counted),
		cmocka_unit_test(test_state_decode),
		cmocka_unit_test(test_state_same_as_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
