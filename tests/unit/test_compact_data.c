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

/* Two tables fed the same connection's life in two forms handed out the
 * same events, field for field. */
static void assert_same_events(const struct seen *x, const struct seen *y)
{
	assert_int_equal(x->n, y->n);
	for (int i = 0; i < x->n; i++) {
		const struct tl_event *a = &x->ev[i], *b = &y->ev[i];

		assert_int_equal(a->kind, b->kind);
		assert_int_equal(a->ts_ns, b->ts_ns);
		assert_int_equal(a->conn, b->conn);
		assert_memory_equal(&a->ep, &b->ep, sizeof(a->ep));
		if (a->kind == TL_STATE) {
			assert_int_equal(a->state.old_state, b->state.old_state);
			assert_int_equal(a->state.new_state, b->state.new_state);
			assert_int_equal(a->state.time_wait, b->state.time_wait);
			assert_int_equal(a->state.handshake_us, b->state.handshake_us);
			assert_int_equal(a->state.actor.pid, b->state.actor.pid);
			assert_string_equal(a->state.actor.comm, b->state.actor.comm);
			assert_int_equal(a->state.actor.exiting, b->state.actor.exiting);
			assert_int_equal(a->state.actor.exit_code, b->state.actor.exit_code);
		}
		if (a->kind == TL_DATA) {
			assert_int_equal(a->data.dir, b->data.dir);
			assert_int_equal(a->data.bytes, b->data.bytes);
			assert_int_equal(a->data.segs, b->data.segs);
			assert_int_equal(a->data.inferred, b->data.inferred);
		}
		if (a->kind == TL_CLOSE) {
			assert_int_equal(a->close.cause, b->close.cause);
			assert_int_equal(a->close.by.pid, b->close.by.pid);
			assert_int_equal(a->close.exit_code, b->close.exit_code);
			assert_int_equal(a->close.srtt_us, b->close.srtt_us);
			assert_int_equal(a->close.min_rtt_us, b->close.min_rtt_us);
		}
	}
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
	assert_same_events(&full, &compact);
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
	assert_same_events(&full, &compact);
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

/* The log entry a full record stands for (what the BPF side appends). */
static struct tt_log_ent log_ent(const struct tt_event *e)
{
	struct tt_log_ent l;

	memset(&l, 0, sizeof(l));
	l.ts_ns = e->ts_ns;
	if (e->type == TT_EV_DATA) {
		l.kind = TT_LOG_DATA;
		l.a = e->data.dir;
		l.flags = e->data.inferred ? TT_LOGF_INFERRED : 0;
		l.x = e->data.segs;
		l.y = (__u32)e->data.bytes;
		l.z = (__u32)(e->data.bytes >> 32);
		return l;
	}
	l.kind = TT_LOG_STATE;
	l.a = e->old_state;
	l.b = e->new_state;
	l.x = e->sk_err;
	l.flags = (e->peer_fin ? TT_LOGF_PEER_FIN : 0) |
		  (e->linger2_neg ? TT_LOGF_LINGER2_NEG : 0) |
		  (e->timer_ctx ? TT_LOGF_TIMER_KA : 0) | (e->actor_pid ? TT_LOGF_ACTOR_OWNER : 0) |
		  e->state.rtt_when << TT_LOGF_RTT_SHIFT;
	l.y = e->state.srtt_us;
	l.z = e->state.min_rtt_us;
	return l;
}

static struct tt_log log_of(const struct tt_event *life, int n, __u32 first_seq)
{
	struct tt_log l;

	memset(&l, 0, sizeof(l));
	l.h.rec = TT_REC_LOG;
	l.h.first_seq = first_seq;
	l.h.sk = life[0].sk;
	l.h.birth_ns = life[0].birth_ns;
	memcpy(l.h.saddr, life[0].saddr, 16);
	memcpy(l.h.daddr, life[0].daddr, 16);
	l.h.lport = life[0].lport;
	l.h.rport = life[0].rport;
	l.h.family = life[0].family;
	l.h.n = n;
	l.h.owner_pid = life[0].owner_pid;
	memcpy(l.h.owner_comm, life[0].owner_comm, TT_COMM_LEN);
	for (int i = 0; i < n; i++)
		l.e[i] = log_ent(&life[i]);
	return l;
}

static void add_log(struct conn_table *t, struct tt_log l)
{
	struct tt_log out;

	assert_int_equal(decode_record_kind(&l, sizeof(l)), TT_RECORD_LOG);
	assert_int_equal(decode_log(&l, sizeof(l), &out), 0);
	conn_table_add_log(t, &out);
}

static void test_log_decode(void **state)
{
	struct tt_event e = raw_state(CLIENT_SK, 1, 5, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1);
	struct tt_log l = log_of(&e, 1, 0), out;

	assert_int_equal(decode_log(&l, sizeof(l), &out), 0);
	assert_int_equal(decode_log(&l, sizeof(l) - 1, &out), -EINVAL);
	l.h.n = 0;
	assert_int_equal(decode_log(&l, sizeof(l), &out), -EINVAL);
	l.h.n = TT_LOG_CAP + 1;
	assert_int_equal(decode_log(&l, sizeof(l), &out), -EINVAL);
	l.h.n = 1;
	l.e[0].kind = 3;
	assert_int_equal(decode_log(&l, sizeof(l), &out), -EINVAL);
	l.e[0].kind = TT_LOG_DATA;
	l.e[0].a = 2; /* no such direction */
	assert_int_equal(decode_log(&l, sizeof(l), &out), -EINVAL);
	l.e[0].kind = TT_LOG_STATE;
	l.e[0].flags = 3 << TT_LOGF_RTT_SHIFT;
	assert_int_equal(decode_log(&l, sizeof(l), &out), -EINVAL);
	l.e[0].flags = 0;
	l.h.family = 5;
	assert_int_equal(decode_log(&l, sizeof(l), &out), -EINVAL);
	l.h.family = 4;
	l.h.birth_ns = 0;
	assert_int_equal(decode_log(&l, sizeof(l), &out), -EINVAL);
}

/* An entry written over another's event (decode_log_entry_next, the
 * table's loop) is the same bytes as that entry decoded alone, whichever
 * entry came before; the view checks what decode_log checks. */
static void test_log_entry_next_same_bytes(void **state)
{
	struct tt_event life[5], a, b;
	struct tt_log l;

	life[0] = raw_state(CLIENT_SK, 1, 1 * SEC, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	raw_actor(&life[0], 42, "client", 0, 0);
	life[0].state.rtt_when = TT_RTT_ESTABLISHED;
	life[0].state.srtt_us = 150;
	life[0].state.min_rtt_us = 140;
	life[1] = raw_data(CLIENT_SK, 1, 2 * SEC, 1, TT_DIR_OUT, 5000000000ULL);
	life[2] = raw_data(CLIENT_SK, 1, 2 * SEC + 1, 1, TT_DIR_IN, 7);
	life[2].data.inferred = 1;
	life[3] = raw_state(CLIENT_SK, 1, 3 * SEC, 1, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT);
	life[3].peer_fin = 1;
	life[3].timer_ctx = TT_TIMER_KEEPALIVE;
	life[3].sk_err = 110;
	life[4] = raw_state(CLIENT_SK, 1, 4 * SEC, 1, TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK);
	life[4].linger2_neg = 1;
	for (int i = 0; i < 5; i++)
		raw_owner(&life[i], 42, "client");
	l = log_of(life, 5, 0);
	memset(l.h.owner_comm, 'x', TT_COMM_LEN); /* no NUL from the kernel */
	assert_ptr_equal(decode_log_view(&l, sizeof(l)), &l);
	assert_null(decode_log_view(&l, sizeof(l) - 1));
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 5; j++) {
			decode_log_entry(&l, i, &a);
			decode_log_entry_next(&l, j, &a);
			decode_log_entry(&l, j, &b);
			assert_memory_equal(&a, &b, sizeof(a));
			assert_int_equal(b.owner_comm[TT_COMM_LEN - 1], '\0');
		}
	l.e[2].kind = 3;
	assert_null(decode_log_view(&l, sizeof(l)));
}

/* A whole client life (connect, data both ways, close by its owner, the
 * peer's FIN, CLOSE with RTT estimates) as full records to one table and
 * as one log to another (the held SYN_SENT its own entry there): the same
 * events. Then the same entries again, whole and overlapping: nothing new. */
static void test_log_same_as_full(void **state)
{
	struct seen full, logged;
	struct conn_table *tf = table(&full), *tl = table(&logged);
	struct tt_event life[7], held;
	const struct conn *cf, *cc;
	int n_logged;

	held = raw_state(CLIENT_SK, 1, 1 * SEC, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
	raw_owner(&held, 42, "client");
	raw_actor(&held, 42, "client", 0, 0);
	life[0] = held;
	life[1] = raw_state(CLIENT_SK, 1, 1 * SEC + 50000, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	life[1].state.rtt_when = TT_RTT_ESTABLISHED;
	life[1].state.srtt_us = 150;
	life[1].state.min_rtt_us = 150;
	life[2] = raw_data(CLIENT_SK, 1, 2 * SEC, 1, TT_DIR_OUT, 5000000000ULL);
	life[3] = raw_data(CLIENT_SK, 1, 2 * SEC + 100, 1, TT_DIR_IN, 4);
	life[3].data.inferred = 1;
	life[4] = raw_state(CLIENT_SK, 1, 3 * SEC, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1);
	raw_actor(&life[4], 42, "client", 0, 0);
	life[5] = raw_state(CLIENT_SK, 1, 3 * SEC + 10, 1, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2);
	life[6] = raw_state(CLIENT_SK, 1, 4 * SEC, 1, TT_TCP_FIN_WAIT2, TT_TCP_CLOSE);
	life[6].peer_fin = 1;
	life[6].state.rtt_when = TT_RTT_CLOSE;
	life[6].state.srtt_us = 200;
	life[6].state.min_rtt_us = 120;
	for (int i = 1; i < 7; i++)
		raw_owner(&life[i], 42, "client");
	/* the full stream: the held transition rides in the ESTABLISHED record */
	{
		struct tt_event first = life[1];

		first.state.held_ts = held.ts_ns;
		first.state.held_old = held.old_state;
		first.state.held_new = held.new_state;
		add(tf, first);
	}
	for (int i = 2; i < 7; i++)
		add(tf, life[i]);
	add_log(tl, log_of(life, 7, 0));
	assert_true(full.n > 7);
	assert_same_events(&full, &logged);
	assert_int_equal(last_close(&logged)->close.srtt_us, 200);
	cf = conn_table_find_id(tf, 1);
	cc = conn_table_find_id(tl, 1);
	assert_non_null(cf);
	assert_non_null(cc);
	assert_int_equal(cf->pid, cc->pid);
	assert_string_equal(cf->comm, cc->comm);
	assert_int_equal(cf->bytes_out, cc->bytes_out);
	assert_int_equal(cf->bytes_in, cc->bytes_in);
	/* a second copy, and one that overlaps: nothing more */
	n_logged = logged.n;
	add_log(tl, log_of(life, 7, 0));
	add_log(tl, log_of(life + 3, 4, 3));
	assert_int_equal(logged.n, n_logged);
	conn_table_free(tf);
	conn_table_free(tl);
}

/* An idle socket's log read by the budget (its first two entries), then
 * the socket's own flush of all of them: each event once, in order. */
static void test_log_budget_then_flush(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	struct tt_event life[3];
	int n_first;

	life[0] = raw_state(SERVER_SK, 7, 1 * SEC, 0, TT_TCP_LISTEN, TT_TCP_SYN_RECV);
	life[1] = raw_state(SERVER_SK, 7, 1 * SEC + 10, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED);
	life[2] = raw_state(SERVER_SK, 7, 9 * SEC, 0, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT);
	for (int i = 0; i < 3; i++)
		raw_owner(&life[i], 7, "server");
	add_log(t, log_of(life, 2, 0));
	n_first = s.n;
	assert_true(n_first >= 2);
	assert_int_equal(s.ev[n_first - 1].kind, TL_STATE);
	assert_int_equal(s.ev[n_first - 1].state.new_state, TT_TCP_ESTABLISHED);
	add_log(t, log_of(life, 3, 0));
	assert_int_equal(s.n, n_first + 1);
	assert_int_equal(s.ev[n_first].kind, TL_STATE);
	assert_int_equal(s.ev[n_first].state.new_state, TT_TCP_CLOSE_WAIT);
	assert_int_equal(s.ev[n_first].ts_ns, 9 * SEC);
	conn_table_free(t);
}

/* A copy read from the map (the budget) that would overtake the socket's
 * earlier logs, still in the ring, is not taken: their entries would look
 * like copies after it. Once they came, the same copy is taken; the ring's
 * own copy of it then adds nothing. */
static void test_log_map_copy_waits_for_the_ring(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	struct tt_event life[3];
	struct tt_log cp;
	int n_first;

	life[0] = raw_state(SERVER_SK, 7, 1 * SEC, 0, TT_TCP_LISTEN, TT_TCP_SYN_RECV);
	life[1] = raw_state(SERVER_SK, 7, 1 * SEC + 10, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED);
	life[2] = raw_state(SERVER_SK, 7, 9 * SEC, 0, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT);
	for (int i = 0; i < 3; i++)
		raw_owner(&life[i], 7, "server");
	cp = log_of(&life[2], 1, 2);
	cp.h.from_map = 1;
	add_log(t, cp);
	assert_int_equal(s.n, 0);
	add_log(t, log_of(life, 2, 0));
	n_first = s.n;
	assert_true(n_first >= 2);
	assert_int_equal(s.ev[0].state.new_state, TT_TCP_SYN_RECV);
	add_log(t, cp);
	assert_int_equal(s.n, n_first + 1);
	assert_int_equal(s.ev[n_first].state.new_state, TT_TCP_CLOSE_WAIT);
	cp.h.from_map = 0;
	add_log(t, cp);
	assert_int_equal(s.n, n_first + 1);
	conn_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_same_as_full),
		cmocka_unit_test(test_unknown_counted),
		cmocka_unit_test(test_state_decode),
		cmocka_unit_test(test_state_same_as_full),
		cmocka_unit_test(test_log_decode),
		cmocka_unit_test(test_log_entry_next_same_bytes),
		cmocka_unit_test(test_log_same_as_full),
		cmocka_unit_test(test_log_budget_then_flush),
		cmocka_unit_test(test_log_map_copy_waits_for_the_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
