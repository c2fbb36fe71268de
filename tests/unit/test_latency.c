// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Latency: the tt_rtt record before a socket's ESTABLISHED and CLOSE
 * transitions becomes handshake_us on the state event and srtt_us /
 * min_rtt_us on the close event; the JSON has them, null when unknown. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "conn_table.h"
#include "decode.h"
#include "raw_builder.h"
#include "render.h"
#include "seen_table.h"

/* events not kept: the latency facts ride on the events themselves */
static struct conn_table *table(struct seen *s)
{
	return seen_table(s, 16, 16, 0);
}

static struct tt_rtt rtt(__u64 sk, __u64 birth, __u8 when, __u32 srtt, __u32 min)
{
	struct tt_rtt r;

	memset(&r, 0, sizeof(r));
	r.rec = TT_REC_RTT;
	r.when = when;
	r.sk = sk;
	r.birth_ns = birth;
	r.srtt_us = srtt;
	r.min_rtt_us = min;
	return r;
}

static void add(struct conn_table *t, struct tt_event e)
{
	conn_table_add_raw(t, &e);
}

static void test_decode(void **state)
{
	struct tt_rtt r = rtt(CLIENT_SK, 1, TT_RTT_CLOSE, 10, 5), out;

	assert_int_equal(decode_record_kind(&r, sizeof(r)), TT_RECORD_RTT);
	assert_int_equal(decode_rtt(&r, sizeof(r), &out), 0);
	assert_int_equal(out.srtt_us, 10);
	r.when = 9;
	assert_int_equal(decode_rtt(&r, sizeof(r), &out), -EINVAL);
	r.when = TT_RTT_CLOSE;
	assert_int_equal(decode_record_kind(&r, sizeof(r) + 1), TT_RECORD_BAD);
}

static void test_handshake_and_close(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	struct tt_rtt hs = rtt(CLIENT_SK, 1, TT_RTT_ESTABLISHED, 50123, 50123);
	struct tt_rtt cl = rtt(CLIENT_SK, 1, TT_RTT_CLOSE, 50500, 50001);
	const struct tl_event *e;

	add(t, raw_state(CLIENT_SK, 1, 100, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT));
	conn_table_add_rtt(t, &hs);
	add(t, raw_state(CLIENT_SK, 1, 200, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	e = seen_last(&s, TL_STATE);
	assert_int_equal(e->state.handshake_us, 50123);
	/* not carried to a later transition */
	add(t, raw_state(CLIENT_SK, 1, 300, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1));
	assert_int_equal(seen_last(&s, TL_STATE)->state.handshake_us, TT_RTT_NONE);
	conn_table_add_rtt(t, &cl);
	add(t, raw_state(CLIENT_SK, 1, 400, 1, TT_TCP_FIN_WAIT1, TT_TCP_CLOSE));
	e = seen_last(&s, TL_CLOSE);
	assert_int_equal(e->close.srtt_us, 50500);
	assert_int_equal(e->close.min_rtt_us, 50001);
	conn_table_free(t);
}

/* What the BPF side sends now: the estimates inside the state record, and
 * connect()'s held SYN_SENT inside the ESTABLISHED record that follows it;
 * unpacked into the same events as the separate records above. */
static void test_carried_in_state_records(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	struct tt_event est = raw_state(CLIENT_SK, 1, 200, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	struct tt_event cl = raw_state(CLIENT_SK, 1, 400, 1, TT_TCP_ESTABLISHED, TT_TCP_CLOSE);
	struct tt_event out;
	const struct tl_event *e;

	raw_owner(&est, 77, "curl");
	raw_owner(&cl, 77, "curl");
	est.state.held_ts = 100;
	est.state.held_old = TT_TCP_CLOSE;
	est.state.held_new = TT_TCP_SYN_SENT;
	est.state.rtt_when = TT_RTT_ESTABLISHED;
	est.state.srtt_us = 50123;
	est.state.min_rtt_us = 50123;
	assert_int_equal(decode_event(&est, sizeof(est), &out), 0);
	conn_table_add_raw(t, &out);
	assert_int_equal(s.n, 2);
	/* the held transition first, at its own time, connect()'s owner as actor */
	assert_int_equal(s.ev[0].kind, TL_STATE);
	assert_int_equal(s.ev[0].ts_ns, 100);
	assert_int_equal(s.ev[0].state.old_state, TT_TCP_CLOSE);
	assert_int_equal(s.ev[0].state.new_state, TT_TCP_SYN_SENT);
	assert_int_equal(s.ev[0].state.actor.pid, 77);
	assert_string_equal(s.ev[0].state.actor.comm, "curl");
	assert_int_equal(s.ev[0].state.handshake_us, TT_RTT_NONE);
	assert_int_equal(s.ev[1].ts_ns, 200);
	assert_int_equal(s.ev[1].state.new_state, TT_TCP_ESTABLISHED);
	assert_int_equal(s.ev[1].state.handshake_us, 50123);
	assert_int_equal(s.ev[1].state.actor.pid, 0);

	cl.state.rtt_when = TT_RTT_CLOSE;
	cl.state.srtt_us = 50500;
	cl.state.min_rtt_us = 50001;
	add(t, cl);
	e = seen_last(&s, TL_CLOSE);
	assert_non_null(e);
	assert_int_equal(e->close.srtt_us, 50500);
	assert_int_equal(e->close.min_rtt_us, 50001);

	/* an estimate of no known kind is a bad record */
	cl.state.rtt_when = 3;
	assert_int_equal(decode_event(&cl, sizeof(cl), &out), -EINVAL);
	conn_table_free(t);
}

/* A child's SYN_RECV held until its ESTABLISHED has no actor (softirq). */
static void test_held_syn_recv(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	struct tt_event est = raw_state(SERVER_SK, 2, 200, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED);

	raw_owner(&est, 88, "nginx");
	est.state.held_ts = 150;
	est.state.held_old = TT_TCP_LISTEN;
	est.state.held_new = TT_TCP_SYN_RECV;
	add(t, est);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ev[0].ts_ns, 150);
	assert_int_equal(s.ev[0].state.new_state, TT_TCP_SYN_RECV);
	assert_int_equal(s.ev[0].state.actor.pid, 0);
	assert_int_equal(s.ev[1].state.new_state, TT_TCP_ESTABLISHED);
	assert_int_equal(s.ev[1].state.handshake_us, TT_RTT_NONE);
	conn_table_free(t);
}

/* A record for another life of the same address, or none at all: unknown. */
static void test_unknown_is_none(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	struct tt_rtt other = rtt(SERVER_SK, 99, TT_RTT_ESTABLISHED, 7, 7);

	add(t, raw_state(SERVER_SK, 2, 100, 0, TT_TCP_LISTEN, TT_TCP_SYN_RECV));
	conn_table_add_rtt(t, &other);
	add(t, raw_state(SERVER_SK, 2, 200, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED));
	assert_int_equal(seen_last(&s, TL_STATE)->state.handshake_us, TT_RTT_NONE);
	add(t, raw_state(SERVER_SK, 2, 300, 0, TT_TCP_ESTABLISHED, TT_TCP_CLOSE));
	assert_int_equal(seen_last(&s, TL_CLOSE)->close.srtt_us, TT_RTT_NONE);
	assert_int_equal(seen_last(&s, TL_CLOSE)->close.min_rtt_us, TT_RTT_NONE);
	conn_table_free(t);
}

static void test_json(void **state)
{
	static char out[4096];
	struct render_opts o = { .start_ns = 0 };
	struct tl_event ev;
	FILE *f;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_STATE;
	ev.conn = 1;
	ev.ep.family = 4;
	ev.state.old_state = TT_TCP_SYN_SENT;
	ev.state.new_state = TT_TCP_ESTABLISHED;
	ev.state.handshake_us = 812;
	f = fmemopen(out, sizeof(out), "w");
	render_json(f, &ev, &o);
	fclose(f);
	assert_non_null(strstr(out, "\"handshake_us\":812}"));
	ev.state.handshake_us = TT_RTT_NONE;
	f = fmemopen(out, sizeof(out), "w");
	render_json(f, &ev, &o);
	fclose(f);
	assert_non_null(strstr(out, "\"handshake_us\":null}"));
	/* only entering ESTABLISHED */
	ev.state.new_state = TT_TCP_FIN_WAIT1;
	f = fmemopen(out, sizeof(out), "w");
	render_json(f, &ev, &o);
	fclose(f);
	assert_null(strstr(out, "handshake_us"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_handshake_and_close),
		cmocka_unit_test(test_carried_in_state_records),
		cmocka_unit_test(test_held_syn_recv),
		cmocka_unit_test(test_unknown_is_none),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
