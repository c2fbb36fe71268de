// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Dropped segments: decoding the tt_drop record, matching it to the ends of
 * a connection (dir from each end's view), to a listener, or later to a
 * connection whose 4-tuple was not known yet; the reason names; the JSON,
 * text and ladder renderings.
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
#include "raw_builder.h"
#include "render.h"
#include "render_ladder.h"
#include "seen_table.h"

/* the table the drop tests feed */
static struct conn_table *table(struct seen *s)
{
	return seen_table(s, 16, 16, 100);
}

static void add(struct conn_table *t, struct tt_event e)
{
	conn_table_add_raw(t, &e);
}

/* A segment from the client (127.0.0.1:49306) to the server (127.0.0.1:9000),
 * as raw_base's two ends have it. */
static struct tt_drop seg(__u64 ts, int from_client, __u8 flags, __u32 bytes, __u32 reason)
{
	struct tt_drop d;

	memset(&d, 0, sizeof(d));
	d.rec = TT_REC_DROP;
	d.ts_ns = ts;
	d.reason = reason;
	d.family = 4;
	d.saddr[0] = d.daddr[0] = 127;
	d.saddr[3] = d.daddr[3] = 1;
	d.sport = from_client ? 49306 : 9000;
	d.dport = from_client ? 9000 : 49306;
	d.flags = flags;
	d.bytes = bytes;
	return d;
}

static int drops_of(const struct seen *s, uint64_t conn, struct tl_event *out)
{
	int n = 0;

	for (int i = 0; i < s->n; i++)
		if (s->ev[i].kind == TL_DROP && s->ev[i].conn == conn) {
			if (out)
				out[n] = s->ev[i];
			n++;
		}
	return n;
}

static void test_decode_tells_records_apart(void **state)
{
	struct tt_drop d = seg(1, 1, 0x02, 0, 12), out;
	struct tt_event e = raw_state(CLIENT_SK, 1, 1, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);

	assert_int_equal(decode_record_kind(&d, sizeof(d)), TT_RECORD_DROP);
	assert_int_equal(decode_record_kind(&e, sizeof(e)), TT_RECORD_EVENT);
	assert_int_equal(decode_record_kind(&d, sizeof(d) - 1), TT_RECORD_BAD);
	assert_int_equal(decode_drop(&d, sizeof(d), &out), 0);
	assert_int_equal(out.flags, 0x02);
	d.rec = 0;
	assert_int_equal(decode_record_kind(&d, sizeof(d)), TT_RECORD_BAD);
	d.rec = TT_REC_DROP;
	d.family = 7;
	assert_int_equal(decode_drop(&d, sizeof(d), &out), -EINVAL);
}

/* Both ends on this host: out on the sender's, in on the receiver's. */
static void test_both_ends_get_the_drop(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	struct tl_event d[4];

	add(t, raw_state(CLIENT_SK, 1, 100, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	add(t, raw_state(SERVER_SK, 2, 110, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED));
	{
		struct tt_drop x = seg(200, 1, 0x18, 500, 12);

		conn_table_add_drop(t, &x);
	}
	assert_int_equal(drops_of(&s, 1, d), 1);
	assert_int_equal(d[0].drop.dir, TT_DIR_OUT);
	assert_int_equal(d[0].drop.bytes, 500);
	assert_int_equal(d[0].drop.reason, 12);
	assert_false(d[0].drop.listener);
	assert_int_equal(drops_of(&s, 2, d), 1);
	assert_int_equal(d[0].drop.dir, TT_DIR_IN);
	/* the close event counts them */
	add(t, raw_state(CLIENT_SK, 1, 300, 1, TT_TCP_ESTABLISHED, TT_TCP_CLOSE));
	for (int i = s.n - 1; i >= 0; i--)
		if (s.ev[i].kind == TL_CLOSE) {
			assert_int_equal(s.ev[i].close.drops, 1);
			break;
		}
	conn_table_free(t);
}

/* connect()'s SYN_SENT is reported with the socket's next event (its tuple
 * is not known before): a dropped SYN waits for it, and for no longer than
 * a few seconds. */
static void test_drop_before_tuple_known_waits(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	struct tt_drop syn = seg(1000, 1, 0x02, 0, 12);
	struct tt_drop stale = seg(1000, 0, 0x12, 0, 12); /* server -> client, never matched */
	struct tt_event held = raw_state(CLIENT_SK, 1, 900, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);

	conn_table_add_drop(t, &syn);
	assert_int_equal(s.n, 0);
	add(t, held);
	assert_int_equal(drops_of(&s, 1, NULL), 1);
	assert_int_equal(s.ev[0].kind, TL_STATE); /* the state first, then the drop */
	assert_int_equal(s.ev[1].drop.dir, TT_DIR_OUT);
	/* not twice */
	add(t, raw_base(CLIENT_SK, 1, TT_EV_RETRANSMIT, 1000000000ULL, 1));
	assert_int_equal(drops_of(&s, 1, NULL), 1);
	conn_table_free(t);

	/* a socket born after the drop is not its connection, nor one 3 s later */
	t = table(&s);
	conn_table_add_drop(t, &stale);
	add(t, raw_state(SERVER_SK, 2, 5000000000ULL, 0, TT_TCP_LISTEN, TT_TCP_SYN_RECV));
	assert_int_equal(drops_of(&s, 1, NULL), 0);
	conn_table_free(t);
}

/* Nobody on this host has the receiving end yet: the listener counts it,
 * with the segment's sender as the peer. */
static void test_listener_counts_its_queue_drops(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	struct tt_event l = raw_state(SERVER_SK, 2, 10, 0, TT_TCP_CLOSE, TT_TCP_LISTEN);
	struct tt_drop ack = seg(200, 1, 0x10, 0, 40);
	struct tl_event d[2];

	memset(l.daddr, 0, 16);
	memset(l.saddr, 0, 16); /* bound to any address */
	l.rport = 0;
	add(t, l);
	conn_table_add_drop(t, &ack);
	assert_int_equal(drops_of(&s, 1, d), 1);
	assert_true(d[0].drop.listener);
	assert_int_equal(d[0].drop.dir, TT_DIR_IN);
	assert_int_equal(d[0].drop.peer_port, 49306);
	assert_int_equal(d[0].drop.peer_addr[0], 127);
	conn_table_free(t);
}

/* A drop still owned by its sending socket (netfilter output, a queue purged
 * at a reset) never reached the receiver: out on the sender only. */
static void test_sender_owned_drop_is_out_only(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	struct tt_drop purge = seg(200, 1, 0x10, 1, 104);

	add(t, raw_state(CLIENT_SK, 1, 100, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	add(t, raw_state(SERVER_SK, 2, 110, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED));
	purge.sk = CLIENT_SK;
	conn_table_add_drop(t, &purge);
	assert_int_equal(drops_of(&s, 1, NULL), 1);
	assert_int_equal(drops_of(&s, 2, NULL), 0);
	/* owned by the receiver (dropped after its socket was found): both */
	purge.sk = SERVER_SK;
	conn_table_add_drop(t, &purge);
	assert_int_equal(drops_of(&s, 1, NULL), 2);
	assert_int_equal(drops_of(&s, 2, NULL), 1);
	conn_table_free(t);
}

/* 5.17+ frees a bare ACK it has processed in the closing states with
 * NOT_SPECIFIED: not a drop. Any other reason, or data, is one. */
static void test_processed_ack_is_not_a_drop(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	struct tt_drop ack = seg(300, 1, 0x10, 0, 2);

	drop_reason_register(2, "NOT_SPECIFIED");
	drop_reason_register(12, "NETFILTER_DROP");
	add(t, raw_state(CLIENT_SK, 1, 100, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	add(t, raw_state(SERVER_SK, 2, 110, 0, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT));
	conn_table_add_drop(t, &ack);
	assert_int_equal(drops_of(&s, 1, NULL) + drops_of(&s, 2, NULL), 0);
	ack.bytes = 5;
	conn_table_add_drop(t, &ack);
	assert_int_equal(drops_of(&s, 2, NULL), 1);
	ack.bytes = 0;
	ack.reason = 12;
	conn_table_add_drop(t, &ack);
	assert_int_equal(drops_of(&s, 2, NULL), 2);
	drop_reasons_clear();
	conn_table_free(t);
}

static int index_of(const struct seen *s, uint64_t conn, enum tl_kind kind)
{
	for (int i = 0; i < s->n; i++)
		if (s->ev[i].conn == conn && s->ev[i].kind == kind)
			return i;
	return -1;
}

/* With the flight recorder the end a bare ACK came into may not have sent
 * its story yet (before 6.11 the kernel does not name it, so its log does
 * not go first): the drop waits for that end's next event after it and is
 * judged by its state then, placed before that event; or, if none comes,
 * when the hold is over, by what the table knows then. */
static void test_held_ack_waits_for_its_end(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	struct tt_drop ack = seg(200, 1, 0x10, 0, 2);
	int n;

	drop_reason_register(2, "NOT_SPECIFIED");
	conn_table_set_hold_drops(t, 1000);
	add(t, raw_state(CLIENT_SK, 1, 100, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	add(t, raw_state(SERVER_SK, 2, 110, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED));
	n = s.n;
	/* processed in CLOSE_WAIT, which the server's log has not said yet */
	conn_table_add_drop(t, &ack);
	assert_int_equal(s.n, n);
	add(t, raw_state(SERVER_SK, 2, 150, 0, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT));
	assert_int_equal(drops_of(&s, 1, NULL) + drops_of(&s, 2, NULL), 0);
	add(t, raw_state(SERVER_SK, 2, 250, 0, TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK));
	conn_table_expire_held(t, UINT64_MAX);
	assert_int_equal(drops_of(&s, 1, NULL) + drops_of(&s, 2, NULL), 0);
	conn_table_free(t);

	/* into ESTABLISHED: a drop, on both ends, before the server's next event */
	t = table(&s);
	conn_table_set_hold_drops(t, 1000);
	add(t, raw_state(CLIENT_SK, 1, 100, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	add(t, raw_state(SERVER_SK, 2, 110, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED));
	conn_table_add_drop(t, &ack);
	assert_int_equal(drops_of(&s, 2, NULL), 0);
	add(t, raw_state(SERVER_SK, 2, 300, 0, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT));
	assert_int_equal(drops_of(&s, 1, NULL), 1);
	assert_int_equal(drops_of(&s, 2, NULL), 1);
	n = index_of(&s, 2, TL_DROP);
	assert_true(n >= 0);
	assert_int_equal(s.ev[n + 1].kind, TL_STATE); /* the drop, then the state */
	assert_int_equal(s.ev[n + 1].state.new_state, TT_TCP_CLOSE_WAIT);
	conn_table_expire_held(t, UINT64_MAX);
	assert_int_equal(drops_of(&s, 2, NULL), 1); /* not twice */
	conn_table_free(t);

	/* no later event: judged when the hold is over, not before */
	t = table(&s);
	conn_table_set_hold_drops(t, 1000);
	add(t, raw_state(CLIENT_SK, 1, 100, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	add(t, raw_state(SERVER_SK, 2, 110, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED));
	conn_table_add_drop(t, &ack); /* into ESTABLISHED: a drop */
	ack.ts_ns = 400;
	add(t, raw_state(CLIENT_SK, 1, 380, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1));
	conn_table_add_drop(t, &ack); /* the client's own end moved on; still held */
	conn_table_expire_held(t, 1199);
	assert_int_equal(drops_of(&s, 2, NULL), 0);
	conn_table_expire_held(t, 1200);
	assert_int_equal(drops_of(&s, 2, NULL), 1);
	conn_table_expire_held(t, 1400);
	assert_int_equal(drops_of(&s, 2, NULL), 2);
	assert_int_equal(drops_of(&s, 1, NULL), 2);
	drop_reasons_clear();
	conn_table_free(t);
}

/* A segment into an end that closed into TIME_WAIT is its timewait
 * socket's (answered, or the FIN it waited for), freed with NOT_SPECIFIED
 * (or no reason before 5.17): not a drop on either end, for TCP_TIMEWAIT_LEN.
 * A reason of its own, or a SYN, is matched as before. */
static void test_timewait_handled_is_not_a_drop(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	/* the server's keepalive probe from CLOSE_WAIT into the client's
	 * timewait socket (one byte, as some stacks send: a bare ACK into a
	 * closing end is processed_ack's) */
	struct tt_drop probe = seg(500, 0, 0x10, 1, 2);
	struct tt_event fw2 = raw_state(CLIENT_SK, 1, 300, 1, TT_TCP_FIN_WAIT2, TT_TCP_CLOSE);

	drop_reason_register(2, "NOT_SPECIFIED");
	drop_reason_register(12, "NETFILTER_DROP");
	add(t, raw_state(CLIENT_SK, 1, 100, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	add(t, raw_state(SERVER_SK, 2, 110, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED));
	add(t, raw_state(CLIENT_SK, 1, 200, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1));
	add(t, raw_state(CLIENT_SK, 1, 210, 1, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2));
	add(t, raw_state(SERVER_SK, 2, 220, 0, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT));
	/* before the client's end is handed over, the same segment is a drop,
	 * on both ends */
	conn_table_add_drop(t, &probe);
	assert_int_equal(drops_of(&s, 1, NULL), 1);
	assert_int_equal(drops_of(&s, 2, NULL), 1);
	probe.ts_ns = 600;
	add(t, fw2); /* an orphan's FIN_WAIT2 -> CLOSE: a timewait socket takes over */
	conn_table_add_drop(t, &probe);
	probe.reason = TT_DROP_REASON_NONE; /* a kernel before 5.17 */
	conn_table_add_drop(t, &probe);
	assert_int_equal(drops_of(&s, 1, NULL), 1);
	assert_int_equal(drops_of(&s, 2, NULL), 1);
	probe.reason = 12; /* netfilter dropped it: a drop */
	conn_table_add_drop(t, &probe);
	assert_int_equal(drops_of(&s, 2, NULL), 2);
	probe.reason = 2;
	probe.ts_ns = 300 + 61ull * 1000000000ull; /* the timewait socket is gone */
	conn_table_add_drop(t, &probe);
	assert_int_equal(drops_of(&s, 2, NULL), 3);
	drop_reasons_clear();
	conn_table_free(t);
}

static char out[8192];

static void test_json_and_text(void **state)
{
	struct tl_event ev;
	struct render_opts o = { .start_ns = 0 };
	FILE *f;

	drop_reason_register(12, "NETFILTER_DROP");
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_DROP;
	ev.ts_ns = 5;
	ev.conn = 3;
	ev.ep.family = 4;
	ev.drop.dir = TT_DIR_OUT;
	ev.drop.flags = 0x02;
	ev.drop.reason = 12;
	f = fmemopen(out, sizeof(out), "w");
	render_json(f, &ev, &o);
	fclose(f);
	assert_non_null(strstr(out, "\"event\":\"drop\""));
	assert_non_null(strstr(
		out,
		"\"dir\":\"out\",\"reason\":\"NETFILTER_DROP\",\"flags\":\"SYN\",\"bytes\":0}"));
	ev.drop.reason = TT_DROP_REASON_NONE;
	ev.drop.flags = 0x11;
	f = fmemopen(out, sizeof(out), "w");
	render_json(f, &ev, &o);
	fclose(f);
	assert_non_null(strstr(out, "\"reason\":null,\"flags\":\"FIN,ACK\""));
	f = fmemopen(out, sizeof(out), "w");
	render_text(f, &ev, &o);
	fclose(f);
	assert_non_null(strstr(out, "DROP -> FIN,ACK dropped by the kernel: reason unknown"));
	drop_reasons_clear();
}

/* A recording read back (-r) gives the same drop, a listener's too. */
static void test_json_read_back(void **state)
{
	struct tl_event ev, back;
	struct render_opts o = { .start_ns = 0 };
	char why[128];
	int64_t us;
	FILE *f;

	drop_reason_register(40, "TCP_LISTEN_OVERFLOW");
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_DROP;
	ev.ts_ns = 77;
	ev.conn = 2;
	ev.ep.family = 4;
	ev.drop.dir = TT_DIR_IN;
	ev.drop.flags = 0x10;
	ev.drop.reason = 40;
	ev.drop.bytes = 3;
	ev.drop.listener = true;
	ev.drop.peer_addr[0] = 10;
	ev.drop.peer_port = 4242;
	f = fmemopen(out, sizeof(out), "w");
	render_json(f, &ev, &o);
	fclose(f);
	drop_reasons_clear(); /* another machine: the name is what counts */
	assert_int_equal(jsonl_parse_line(out, strlen(out), &back, &us, why, sizeof(why)),
			 JSONL_EVENT);
	assert_int_equal(back.kind, TL_DROP);
	assert_int_equal(back.drop.dir, TT_DIR_IN);
	assert_int_equal(back.drop.flags, 0x10);
	assert_int_equal(back.drop.bytes, 3);
	assert_string_equal(drop_reason_name(back.drop.reason), "TCP_LISTEN_OVERFLOW");
	assert_true(back.drop.listener);
	assert_int_equal(back.drop.peer_port, 4242);
	assert_int_equal(back.drop.peer_addr[0], 10);
	drop_reasons_clear();
}

static void test_names(void **state)
{
	assert_string_equal(tcp_flags_name(0x02), "SYN");
	assert_string_equal(tcp_flags_name(0x12), "SYN,ACK");
	assert_string_equal(tcp_flags_name(0x18), "ACK"); /* PSH is not named */
	assert_string_equal(tcp_flags_name(0x14), "RST,ACK");
	assert_string_equal(drop_reason_words("TCP_LISTEN_OVERFLOW"), "accept queue full");
	assert_null(drop_reason_words("SOMETHING_NEW"));
	assert_null(drop_reason_words(NULL));
	/* registered from BTF at start: any value, a kernel's newest names too */
	drop_reason_register(3, "NO_SOCKET");
	drop_reason_register(200, "SOMETHING_NEW");
	assert_string_equal(drop_reason_name(3), "NO_SOCKET");
	assert_string_equal(drop_reason_name(200), "SOMETHING_NEW");
	assert_null(drop_reason_name(4));
	drop_reasons_clear();
	assert_null(drop_reason_name(3));
}

/* The ladder: the dropped SYN stops short with the reason in words, then
 * its retransmit goes through; the summary counts the drop. */
static void test_ladder_draws_drop(void **state)
{
	struct seen s;
	struct conn_table *t = table(&s);
	struct tt_drop syn = seg(1100, 1, 0x02, 0, 40);
	struct tt_event e;
	struct render_opts o = { .start_ns = 0 };
	const struct conn *c;
	FILE *f;

	drop_reason_register(40, "TCP_LISTEN_OVERFLOW");
	e = raw_state(CLIENT_SK, 1, 1000, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
	add(t, e);
	conn_table_add_drop(t, &syn);
	e = raw_base(CLIENT_SK, 1, TT_EV_RETRANSMIT, 1000001000ULL, 1);
	e.retrans.syn = 1;
	add(t, e);
	add(t, raw_state(CLIENT_SK, 1, 1000002000ULL, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
	add(t, raw_state(CLIENT_SK, 1, 1000003000ULL, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1));
	add(t, raw_state(CLIENT_SK, 1, 1000004000ULL, 1, TT_TCP_FIN_WAIT1, TT_TCP_CLOSE));
	assert_int_equal(s.n_closed, 1);
	c = s.closed[0];
	f = fmemopen(out, sizeof(out), "w");
	render_ladder(f, c, NULL, &o);
	fclose(f);
	if (getenv("SHOW_LADDER"))
		fputs(out, stderr);
	assert_non_null(strstr(out, "SYN -----------------x"));
	assert_non_null(strstr(out, "dropped: accept queue full"));
	assert_non_null(strstr(out, "SYN again"));
	assert_non_null(strstr(out, "1 segment dropped"));
	/* the drop row comes before the retransmit */
	assert_true(strstr(out, "dropped: accept queue full") < strstr(out, "SYN again"));
	drop_reasons_clear();
	conn_table_free(t);
}

/* a sink that counts drops by the connection they went to */
#define MANY_CONNS 4000
struct per_conn {
	uint32_t out[MANY_CONNS + 2], in[MANY_CONNS + 2], listener;
};

static void count_sink(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	struct per_conn *p = ctx;

	if (ev->kind != TL_DROP || !c)
		return;
	if (ev->drop.listener)
		p->listener++;
	else if (ev->conn <= MANY_CONNS + 1 && ev->drop.dir == TT_DIR_OUT)
		p->out[ev->conn]++;
	else if (ev->conn <= MANY_CONNS + 1)
		p->in[ev->conn]++;
}

/*
 * Thousands of open connections (clients of port 9000 from as many ports, an
 * IPv6 dual-stack listener on [::]:9000 among them): each drop goes to its
 * own end by 4-tuple, the receiving end of the clients' segments (no accepted
 * socket traced) to the listener: what conn_table's index by ports finds.
 */
static void test_many_conns_each_drop_its_end(void **state)
{
	static struct per_conn p;
	struct conn_table_opts o = {
		.max_open = 2 * MANY_CONNS,
		.max_closed = 16,
		.max_events_per_conn = 100,
		.sink = count_sink,
		.sink_ctx = &p,
	};
	struct conn_table *t = conn_table_new(&o);
	struct tt_event e;

	memset(&p, 0, sizeof(p));
	e = raw_state(SERVER_SK, 1, 10, 0, TT_TCP_CLOSE, TT_TCP_LISTEN);
	e.family = 6;
	memset(e.saddr, 0, 16);
	memset(e.daddr, 0, 16);
	e.rport = 0;
	conn_table_add_raw(t, &e); /* conn 1 */
	for (int i = 0; i < MANY_CONNS; i++) {
		e = raw_state(0xffff888100000000ULL + 0x1000ULL * (uint64_t)i, 1, 100 + (uint64_t)i,
			      1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
		e.lport = (uint16_t)(20000 + i);
		conn_table_add_raw(t, &e); /* conn 2 + i */
	}
	for (int r = 0; r < 3; r++)
		for (int i = 0; i < MANY_CONNS; i++) {
			struct tt_drop d = seg(10000 + (uint64_t)i, 1, 0x18, 100, 12);

			d.sport = (uint16_t)(20000 + i);
			conn_table_add_drop(t, &d);
			d = seg(20000 + (uint64_t)i, 0, 0x18, 100, 12);
			d.dport = (uint16_t)(20000 + i);
			conn_table_add_drop(t, &d);
		}
	for (int i = 0; i < MANY_CONNS; i++) {
		assert_int_equal(p.out[2 + i], 3);
		assert_int_equal(p.in[2 + i], 3);
	}
	/* the receiving end of the clients' segments: no accepted socket, the listener's */
	assert_int_equal(p.listener, 3 * MANY_CONNS);
	conn_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_tells_records_apart),
		cmocka_unit_test(test_both_ends_get_the_drop),
		cmocka_unit_test(test_drop_before_tuple_known_waits),
		cmocka_unit_test(test_listener_counts_its_queue_drops),
		cmocka_unit_test(test_sender_owned_drop_is_out_only),
		cmocka_unit_test(test_processed_ack_is_not_a_drop),
		cmocka_unit_test(test_timewait_handled_is_not_a_drop),
		cmocka_unit_test(test_held_ack_waits_for_its_end),
		cmocka_unit_test(test_json_and_text),
		cmocka_unit_test(test_json_read_back),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ladder_draws_drop),
		cmocka_unit_test(test_many_conns_each_drop_its_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
