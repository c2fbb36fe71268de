// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The connection table: ids, owners, totals, close events, adoption, eviction. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "conn_table.h"
#include "raw_builder.h"
#include "seen_table.h"

static void add(struct conn_table *t, struct tt_event e)
{
	conn_table_add_raw(t, &e);
}

/* The classic picture, client side: connect, 29 out, 4 in, close first. */
static void test_client_lifecycle(void **state)
{
	struct seen s;
	struct conn_table *t = seen_table(&s, 16, 16, 100);
	struct tt_event e = raw_state(CLIENT_SK, 1000, 1000, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
	const struct tl_event *close;

	raw_owner(&e, 4121, "demo-client");
	raw_actor(&e, 4121, "demo-client", 0, 0);
	add(t, e);
	e = raw_state(CLIENT_SK, 1000, 2000, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	raw_owner(&e, 4121, "demo-client");
	add(t, e);
	add(t, raw_data(CLIENT_SK, 1000, 3000, 1, TT_DIR_OUT, 29));
	add(t, raw_data(CLIENT_SK, 1000, 4000, 1, TT_DIR_IN, 4));
	e = raw_state(CLIENT_SK, 1000, 5000, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1);
	raw_actor(&e, 4121, "demo-client", 0, 0);
	add(t, e);
	add(t, raw_state(CLIENT_SK, 1000, 6000, 1, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2));
	e = raw_state(CLIENT_SK, 1000, 9872000000ULL, 1, TT_TCP_FIN_WAIT2, TT_TCP_CLOSE);
	e.peer_fin = 1; /* the peer's FIN arrived: into TIME_WAIT */
	e.lport = 0;	/* released by close */
	add(t, e);

	assert_int_equal(s.n, 8);
	for (int i = 0; i < s.n; i++) {
		assert_int_equal(s.ev[i].conn, 1);
		assert_int_equal(s.ev[i].pid, 4121);
		assert_string_equal(s.ev[i].comm, "demo-client");
		assert_int_equal(s.ev[i].ep.lport, 49306); /* kept from before the close */
	}
	assert_string_equal(s.ev[0].state.sent, "SYN");
	assert_string_equal(s.ev[1].state.received, "SYN,ACK");
	assert_string_equal(s.ev[6].state.received, "FIN");
	assert_string_equal(s.ev[6].state.sent, "ACK");
	assert_true(s.ev[6].state.time_wait);
	close = seen_last(&s, TL_CLOSE);
	assert_non_null(close);
	assert_int_equal(close->close.cause, CAUSE_APP_CLOSE);
	assert_int_equal(close->close.by.pid, 4121);
	assert_int_equal(close->close.bytes_out, 29);
	assert_int_equal(close->close.bytes_in, 4);
	assert_int_equal(close->close.duration_ns, 9872000000ULL - 1000);
	assert_int_equal(s.closes, 1);
	assert_int_equal(conn_table_open_count(t), 0);
	/* destroy afterwards adds nothing */
	add(t, raw_base(CLIENT_SK, 1000, TT_EV_DESTROY, 9872000001ULL, 1));
	assert_int_equal(s.n, 8);
	conn_table_free(t);
}

/* FIN_WAIT2 -> CLOSE without the peer's FIN: an orphan handed to a timewait
 * socket in FIN_WAIT2 (time_wait, tw_fin_wait2); not after a reset or with
 * an error; with the peer's FIN, plain TIME_WAIT; with TCP_LINGER2 < 0,
 * dropped (fin_wait2_dropped, no time_wait). */
static void test_fin_wait2_handover(void **state)
{
	for (int c = 0; c < 5; c++) {
		struct seen s;
		struct conn_table *t = seen_table(&s, 16, 16, 100);
		struct tt_event e;
		const struct tl_event *st;

		add(t, raw_state(CLIENT_SK, 1000, 1000, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1));
		add(t, raw_state(CLIENT_SK, 1000, 2000, 1, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2));
		if (c == 2) {
			e = raw_base(CLIENT_SK, 1000, TT_EV_RST, 2500, 1);
			e.rst.dir = TT_DIR_OUT;
			add(t, e);
		}
		e = raw_state(CLIENT_SK, 1000, 3000, 1, TT_TCP_FIN_WAIT2, TT_TCP_CLOSE);
		if (c == 1)
			e.sk_err = 104; /* ECONNRESET */
		if (c == 3)
			e.peer_fin = 1;
		if (c == 4)
			e.linger2_neg = 1;
		add(t, e);
		st = NULL;
		for (int i = 0; i < s.n; i++)
			if (s.ev[i].kind == TL_STATE && s.ev[i].state.new_state == TT_TCP_CLOSE)
				st = &s.ev[i];
		assert_non_null(st);
		assert_int_equal(st->state.time_wait, c == 0 || c == 3);
		assert_int_equal(st->state.tw_fin_wait2, c == 0);
		assert_int_equal(st->state.fin_wait2_dropped, c == 4);
		assert_null(c == 3 ? NULL : st->state.received); /* no FIN drawn without one */
		conn_table_free(t);
	}
}

/* An accepted socket inherits the listener's owner (the BPF side sends it);
 * an event without an owner never gets a guessed one. */
static void test_owner_unknown_stays_null(void **state)
{
	struct seen s;
	struct conn_table *t = seen_table(&s, 16, 16, 100);
	struct tt_event e = raw_state(SERVER_SK, 7, 10, 0, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT);

	raw_actor(&e, 999, "interrupted", 0, 0); /* an actor is not an owner */
	add(t, e);
	assert_int_equal(s.ev[0].pid, 0);
	e = raw_state(SERVER_SK, 7, 20, 0, TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK);
	raw_owner(&e, 4120, "demo-server");
	add(t, e);
	assert_int_equal(s.ev[1].pid, 4120);
	conn_table_free(t);
}

static void test_new_life_at_same_address(void **state)
{
	struct seen s;
	struct conn_table *t = seen_table(&s, 16, 16, 100);

	add(t, raw_state(CLIENT_SK, 100, 100, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT));
	/* the same struct sock address, born again: a new connection */
	add(t, raw_state(CLIENT_SK, 500, 500, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT));
	assert_int_equal(s.ev[0].conn, 1);
	assert_int_equal(seen_last(&s, TL_STATE)->conn, 2);
	/* the first one was closed on the way, with what was known */
	assert_int_equal(s.closes, 1);
	assert_int_equal(seen_last(&s, TL_CLOSE)->conn, 1);
	conn_table_free(t);
}

static void test_existing_is_adopted_by_tuple(void **state)
{
	struct seen s;
	struct conn_table *t = seen_table(&s, 16, 16, 100);
	struct tt_event e = raw_state(CLIENT_SK, 50, 60, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1);
	struct tl_endpoints ep = { .family = 4, .lport = 49306, .rport = 9000 };

	ep.laddr[0] = ep.raddr[0] = 127;
	ep.laddr[3] = ep.raddr[3] = 1;
	conn_table_add_existing(t, &ep, TT_TCP_ESTABLISHED, 321, "old-client", 10);
	assert_int_equal(s.ev[0].kind, TL_EXISTING);
	assert_int_equal(s.ev[0].pid, 321);
	add(t, e);
	assert_int_equal(s.ev[1].conn, s.ev[0].conn);
	assert_int_equal(s.ev[1].pid, 321); /* the owner found at start */
	conn_table_free(t);
}

static void test_timewait_rst_finds_closed_conn(void **state)
{
	struct seen s;
	struct conn_table *t = seen_table(&s, 16, 16, 100);
	struct tt_event rst;

	add(t, raw_state(SERVER_SK, 9, 10, 0, TT_TCP_FIN_WAIT1, TT_TCP_CLOSE));
	add(t, raw_base(SERVER_SK, 9, TT_EV_DESTROY, 11, 0));
	rst = raw_base(0, 0, TT_EV_RST, 12, 0); /* from a timewait sock: no birth */
	rst.rst.dir = TT_DIR_OUT;
	add(t, rst);
	assert_int_equal(seen_last(&s, TL_RST)->conn, 1);
	conn_table_free(t);
}

/* what the kernel side says it read later instead of seeing happen */
static void test_inferred_from_the_kernel(void **state)
{
	struct seen s;
	struct conn_table *t = seen_table(&s, 16, 16, 100);
	struct tt_event e = raw_data(CLIENT_SK, 1, 5, 1, TT_DIR_OUT, 100);

	add(t, e);
	e.data.inferred = 1;
	add(t, e);
	e = raw_base(CLIENT_SK, 1, TT_EV_KA_ACK, 7, 1);
	add(t, e);
	e.ka_ack.inferred = 1;
	add(t, e);
	assert_int_equal(s.n, 4);
	assert_false(s.ev[0].data.inferred);
	assert_true(s.ev[1].data.inferred);
	assert_false(s.ev[2].ka_ack.inferred);
	assert_true(s.ev[3].ka_ack.inferred);
	conn_table_free(t);
}

static void test_errors_inferred_without_kernel_reports(void **state)
{
	struct seen s;
	struct conn_table *t = seen_table(&s, 16, 16, 100);
	struct tt_event e = raw_state(CLIENT_SK, 1, 5, 1, TT_TCP_SYN_SENT, TT_TCP_CLOSE);

	conn_table_set_kernel_reports_errors(t, false);
	e.sk_err = ECONNREFUSED;
	add(t, e);
	assert_int_equal(s.ev[0].kind, TL_ERROR);
	assert_int_equal(s.ev[0].error.err, ECONNREFUSED);
	assert_true(s.ev[0].error.inferred);
	/* and with kernel reports, nothing is invented */
	conn_table_free(t);
	t = seen_table(&s, 16, 16, 100);
	add(t, e);
	assert_null(seen_last(&s, TL_ERROR));
	conn_table_free(t);
}

static void test_eviction_bounds_memory(void **state)
{
	struct seen s;
	struct conn_table *t = seen_table(&s, 16, 4, 100);

	/* 100 connections that never close, into a table for 16 */
	for (int i = 0; i < 100; i++)
		add(t, raw_state(CLIENT_SK + (__u64)i * 4096, 1 + i, 10 + i, 1, TT_TCP_CLOSE,
				 TT_TCP_SYN_SENT));
	assert_int_equal(conn_table_open_count(t), 16);
	assert_int_equal(conn_table_evicted(t), 84);
	/* 100 that close: only 4 closed ones are kept; the first of them pushed
	 * one never-closing connection out */
	for (int i = 0; i < 100; i++) {
		__u64 sk = SERVER_SK + ((__u64)i << 20);

		add(t, raw_state(sk, 1000 + i, 1000 + i, 0, TT_TCP_LAST_ACK, TT_TCP_CLOSE));
		add(t, raw_base(sk, 1000 + i, TT_EV_DESTROY, 1001 + i, 0));
	}
	assert_int_equal(conn_table_open_count(t), 15);
	assert_int_equal(conn_table_evicted(t), 85);
	assert_int_equal(conn_table_size(t), 15 + 4);
	conn_table_free(t);
}

static void test_retransmit_and_keepalive_totals(void **state)
{
	struct seen s;
	struct conn_table *t = seen_table(&s, 16, 16, 100);
	struct tt_event e;

	for (int i = 0; i < 3; i++) {
		e = raw_base(CLIENT_SK, 1, TT_EV_RETRANSMIT, 10 + i, 1);
		e.retrans.count = i + 1;
		add(t, e);
	}
	e = raw_base(CLIENT_SK, 1, TT_EV_RETRANSMIT, 20, 1);
	e.retrans.err = -EBUSY; /* 6.17+: a failed retransmit is not counted */
	add(t, e);
	e = raw_base(CLIENT_SK, 1, TT_EV_KA_PROBE, 30, 1);
	e.ka_probe.dir = TT_DIR_OUT;
	e.ka_probe.n = 1;
	add(t, e);
	e = raw_base(CLIENT_SK, 1, TT_EV_KA_PROBE, 31, 1);
	e.ka_probe.dir = TT_DIR_IN;
	add(t, e);
	add(t, raw_state(CLIENT_SK, 1, 40, 1, TT_TCP_ESTABLISHED, TT_TCP_CLOSE));
	assert_int_equal(seen_last(&s, TL_CLOSE)->close.retransmits, 3);
	assert_int_equal(seen_last(&s, TL_CLOSE)->close.keepalives, 2);
	assert_int_equal(s.ev[2].retrans.count, 3);
	conn_table_free(t);
}

static void test_error_read_as_zero(void **state)
{
	struct seen s;
	struct conn_table *t = seen_table(&s, 16, 16, 100);
	struct tt_event e = raw_state(CLIENT_SK, 1, 5, 1, TT_TCP_SYN_SENT, TT_TCP_CLOSE);
	struct tt_event err = raw_base(CLIENT_SK, 1, TT_EV_ERROR, 6, 1);

	/* an error report whose sk_err the application already took */
	add(t, err);
	assert_null(seen_last(&s, TL_ERROR));
	e.sk_err = ECONNREFUSED;
	add(t, e);
	add(t, err);
	assert_non_null(seen_last(&s, TL_ERROR));
	assert_int_equal(seen_last(&s, TL_ERROR)->error.err, ECONNREFUSED);
	conn_table_free(t);
}

static void test_rst_without_socket_is_not_open(void **state)
{
	struct seen s;
	struct conn_table *t = seen_table(&s, 16, 16, 100);
	struct tt_event rst = raw_base(0, 0, TT_EV_RST, 12, 0);

	rst.rst.dir = TT_DIR_OUT;
	add(t, rst);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ev[0].kind, TL_RST);
	assert_int_equal(conn_table_open_count(t), 0);
	conn_table_free(t);
}

static void count_open(const struct conn *c, void *ctx)
{
	int *n = ctx;

	assert_false(c->closed);
	(*n)++;
}

static void test_foreach_open(void **state)
{
	struct seen s;
	struct conn_table *t = seen_table(&s, 16, 16, 100);
	int n = 0;

	add(t, raw_state(CLIENT_SK, 1, 1, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT));
	add(t, raw_state(SERVER_SK, 2, 2, 0, TT_TCP_LISTEN, TT_TCP_SYN_RECV));
	add(t, raw_state(SERVER_SK, 2, 3, 0, TT_TCP_SYN_RECV, TT_TCP_CLOSE));
	conn_table_foreach_open(t, count_open, &n);
	assert_int_equal(n, 1);
	assert_int_equal(conn_table_open_count(t), 1);
	conn_table_free(t);
}

/* Found by tests/fuzz: a record with a birth but no socket address was
 * hashed under address 0 and never unhashed, so evicting it left a freed
 * connection in the hash (a use after free under make check-asan). */
/* Looking connections up by id, by 4-tuple (a timewait socket's record)
 * and by the other end among thousands open, with a port reused: the same
 * answers as a walk of every connection, newest open first, then the last
 * closed. */
static void test_lookups_among_thousands(void **state)
{
	enum { N = 5000 };
	struct seen *s = calloc(1, sizeof(*s));
	struct conn_table *t;
	const struct conn *c, *m;
	struct tt_event e;

	assert_non_null(s);
	t = seen_table(s, 4 * N, 64, 100);
	for (int i = 0; i < N; i++) {
		e = raw_state(CLIENT_SK + (__u64)i * 0x1000, 1, 10 + i, 1, TT_TCP_CLOSE,
			      TT_TCP_SYN_SENT);
		e.lport = 20000 + i;
		add(t, e);
		e = raw_state(SERVER_SK + (__u64)i * 0x1000 + 0x800, 1, 10 + i, 0, TT_TCP_SYN_RECV,
			      TT_TCP_ESTABLISHED);
		e.rport = 20000 + i;
		add(t, e);
	}
	assert_int_equal(conn_table_open_count(t), 2 * N);
	for (uint64_t id = 1; id <= 2 * N; id += 37) {
		c = conn_table_find_id(t, id);
		assert_non_null(c);
		assert_int_equal(c->id, id);
	}
	assert_null(conn_table_find_id(t, 2 * N + 1));
	/* client i is id 2i+1, its server end 2i+2 */
	c = conn_table_find_id(t, 2 * 1234 + 1);
	m = conn_table_find_mirror(t, c);
	assert_non_null(m);
	assert_int_equal(m->id, 2 * 1234 + 2);
	assert_ptr_equal(conn_table_find_mirror(t, m), c);

	/* client 7 closes; its port is taken again by a new socket */
	e = raw_state(CLIENT_SK + 7 * 0x1000, 1, 100000, 1, TT_TCP_SYN_SENT, TT_TCP_CLOSE);
	e.lport = 20007;
	add(t, e);
	assert_true(conn_table_find_id(t, 15)->closed);
	/* a reset from a socket with no address (timewait) for that tuple: the
	 * closed one, the only one with it */
	e = raw_base(0, 0, TT_EV_RST, 100001, 1);
	e.lport = 20007;
	e.rst.dir = TT_DIR_IN;
	add(t, e);
	assert_true(conn_table_find_id(t, 15)->rst_seen);
	e = raw_state(CLIENT_SK + 0x7777000, 9, 100002, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
	e.lport = 20007;
	add(t, e);
	c = conn_table_find_id(t, 2 * N + 1);
	assert_non_null(c);
	assert_int_equal(c->ep.lport, 20007);
	/* now the open one is the newest with that tuple */
	e = raw_base(0, 0, TT_EV_RST, 100003, 1);
	e.lport = 20007;
	e.rst.dir = TT_DIR_IN;
	add(t, e);
	assert_true(c->rst_seen);
	/* and the server end of port 20007 pairs with the open client, whose
	 * life overlaps its own */
	assert_ptr_equal(conn_table_find_mirror(t, conn_table_find_id(t, 16)), c);
	conn_table_free(t);
	free(s);
}

static void test_record_without_address_is_not_hashed(void **state)
{
	struct seen s;
	struct conn_table *t = seen_table(&s, 2, 2, 100);

	add(t, raw_state(0, 5, 100, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT));
	add(t, raw_state(0, 5, 200, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	/* push it out of the table, then look up address 0 again */
	add(t, raw_state(SERVER_SK, 7, 300, 0, TT_TCP_CLOSE, TT_TCP_LISTEN));
	add(t, raw_state(SERVER_SK + 0x1000, 8, 400, 0, TT_TCP_CLOSE, TT_TCP_LISTEN));
	add(t, raw_state(SERVER_SK + 0x2000, 9, 500, 0, TT_TCP_CLOSE, TT_TCP_LISTEN));
	add(t, raw_state(0, 5, 600, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1));
	assert_int_equal(conn_table_open_count(t), 2);
	assert_true(conn_table_evicted(t) >= 1);
	conn_table_free(t);
}

/* Sockets found open at start are adopted by the first record of a socket
 * with their 4-tuple, each by its own, however many are waiting, and only
 * while open: one closed before any socket record came (a reset seen through
 * a timewait socket's record, which has no address) is not adopted. */
static void test_unbound_adopted_one_by_one(void **state)
{
	struct seen s;
	struct conn_table *t = seen_table(&s, 16, 16, 100);
	struct tl_endpoints ep = { .family = 4, .lport = 49306, .rport = 9000 };
	struct tt_event e;
	const struct conn *c;

	ep.laddr[0] = ep.raddr[0] = 127;
	ep.laddr[3] = ep.raddr[3] = 1;
	for (int i = 0; i < 3; i++) {
		ep.lport = 49306 + i;
		conn_table_add_existing(t, &ep, TT_TCP_ESTABLISHED, 321, "old-client", 10);
	}
	/* the second and the first are adopted, in that order */
	for (int i = 1; i >= 0; i--) {
		e = raw_state(CLIENT_SK + (__u64)i * 0x1000, 50, 60, 1, TT_TCP_ESTABLISHED,
			      TT_TCP_FIN_WAIT1);
		e.lport = 49306 + i;
		add(t, e);
		c = conn_table_find_id(t, (uint64_t)i + 1);
		assert_non_null(c);
		assert_int_equal(c->sk, CLIENT_SK + (__u64)i * 0x1000);
		assert_int_equal(c->state, TT_TCP_FIN_WAIT1);
	}
	/* the third closes unbound (its last state seen through a record with
	 * no socket address); a socket with its tuple later is a new one */
	e = raw_state(0, 0, 70, 1, TT_TCP_LAST_ACK, TT_TCP_CLOSE);
	e.lport = 49308;
	add(t, e);
	assert_true(conn_table_find_id(t, 3)->closed);
	e = raw_state(CLIENT_SK + 0x9000, 80, 90, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
	e.lport = 49308;
	add(t, e);
	c = conn_table_find_id(t, 4);
	assert_non_null(c);
	assert_int_equal(c->sk, CLIENT_SK + 0x9000);
	assert_int_equal(conn_table_open_count(t), 3);
	conn_table_free(t);
}

/* The hash by socket address grows with the table: after thousands of
 * sockets (its buckets doubled several times), every socket's next record
 * still reaches its own connection. */
static void test_socket_hash_grows(void **state)
{
	enum { N = 6000 };
	struct seen *s = calloc(1, sizeof(*s));
	struct conn_table *t;
	const struct conn *c;

	assert_non_null(s);
	t = seen_table(s, 2 * N, 64, 100);
	for (int i = 0; i < N; i++) {
		struct tt_event e = raw_state(CLIENT_SK + (__u64)i * 0x40, 1, 10 + i, 1,
					      TT_TCP_CLOSE, TT_TCP_SYN_SENT);

		e.lport = (__u16)(10000 + i);
		add(t, e);
	}
	for (int i = 0; i < N; i++) {
		struct tt_event e = raw_data(CLIENT_SK + (__u64)i * 0x40, 1, 100000 + i, 1,
					     TT_DIR_OUT, (__u64)i + 1);

		e.lport = (__u16)(10000 + i);
		add(t, e);
	}
	assert_int_equal(conn_table_open_count(t), N);
	for (int i = 0; i < N; i++) {
		c = conn_table_find_id(t, (uint64_t)i + 1);
		assert_non_null(c);
		assert_int_equal(c->bytes_out, (uint64_t)i + 1);
	}
	conn_table_free(t);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_lifecycle),
		cmocka_unit_test(test_fin_wait2_handover),
		cmocka_unit_test(test_owner_unknown_stays_null),
		cmocka_unit_test(test_new_life_at_same_address),
		cmocka_unit_test(test_existing_is_adopted_by_tuple),
		cmocka_unit_test(test_timewait_rst_finds_closed_conn),
		cmocka_unit_test(test_errors_inferred_without_kernel_reports),
		cmocka_unit_test(test_inferred_from_the_kernel),
		cmocka_unit_test(test_eviction_bounds_memory),
		cmocka_unit_test(test_retransmit_and_keepalive_totals),
		cmocka_unit_test(test_foreach_open),
		cmocka_unit_test(test_error_read_as_zero),
		cmocka_unit_test(test_rst_without_socket_is_not_open),
		cmocka_unit_test(test_lookups_among_thousands),
		cmocka_unit_test(test_record_without_address_is_not_hashed),
		cmocka_unit_test(test_unbound_adopted_one_by_one),
		cmocka_unit_test(test_socket_hash_grows),
	};

	return cmocka_run_group_tests_name("conn_table", tests, NULL, NULL);
}
