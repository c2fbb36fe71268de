// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reading recordings back (-r): every event kind survives JSON and back
 * unchanged; malformed lines are named by line and skipped; unknown kinds are
 * counted; lines out of time order across connections build the same
 * connections; and a replay draws the ladders the live table drew.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "conn_table.h"
#include "jsonl_reader.h"
#include "ladder_queue.h"
#include "names.h"
#include "raw_builder.h"
#include "render.h"
#include "render_ladder.h"

/* a realtime offset with nanoseconds in it: times must still come back exact */
#define OFFSET_NS 1795000000123456789LL

static char *render_one(const struct tl_event *ev, int64_t offset)
{
	struct render_opts ro = { .realtime_offset_ns = offset };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	render_json(f, ev, &ro);
	fclose(f);
	return buf;
}

static struct tl_event conn_event(enum tl_kind kind, uint64_t ts)
{
	struct tl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.ts_ns = ts;
	ev.conn = 7;
	ev.ep.family = 6;
	ev.ep.laddr[15] = 1;
	ev.ep.raddr[0] = 0xfe, ev.ep.raddr[1] = 0x80, ev.ep.raddr[15] = 2;
	ev.ep.lport = 9000;
	ev.ep.rport = 51000;
	ev.pid = 4242;
	strcpy(ev.comm, "ser\"ver\\\x01");
	return ev;
}

/* JSON -> event -> JSON: the same line (every field read, none invented) */
static void round_trip(const struct tl_event *ev)
{
	char *line = render_one(ev, OFFSET_NS), *again, why[160];
	struct tl_event back;
	int64_t t;

	assert_int_equal(jsonl_parse_line(line, strlen(line), &back, &t, why, sizeof(why)),
			 JSONL_EVENT);
	assert_int_equal(t, (int64_t)((ev->ts_ns + OFFSET_NS) / 1000));
	/* the lower bound for this one line: exact for it */
	again = render_one(&back, t * 1000 - (int64_t)ev->ts_ns);
	assert_string_equal(again, line);
	free(line);
	free(again);
}

static void test_every_kind_round_trips(void **state)
{
	struct tl_event ev;

	ev = conn_event(TL_STATE, 1000000123);
	ev.state.old_state = TT_TCP_ESTABLISHED;
	ev.state.new_state = TT_TCP_FIN_WAIT1;
	ev.state.sent = "FIN";
	ev.state.actor.pid = 4242;
	strcpy(ev.state.actor.comm, "killed-one");
	ev.state.actor.exiting = true;
	ev.state.actor.exit_code = SIGKILL;
	round_trip(&ev);
	ev.state.old_state = TT_TCP_FIN_WAIT2;
	ev.state.new_state = TT_TCP_CLOSE;
	ev.state.sent = NULL;
	ev.state.received = NULL;
	ev.state.actor.pid = 0;
	ev.state.time_wait = ev.state.tw_fin_wait2 = true;
	round_trip(&ev);
	ev.state.time_wait = ev.state.tw_fin_wait2 = false;
	ev.state.fin_wait2_dropped = true;
	round_trip(&ev);
	ev.state.fin_wait2_dropped = false;
	ev.state.old_state = TT_TCP_FIN_WAIT1;
	ev.state.received = "FIN,ACK";
	ev.state.sent = "ACK";
	ev.state.time_wait = true;
	round_trip(&ev);

	ev = conn_event(TL_DATA, 5);
	ev.data.dir = TT_DIR_OUT;
	ev.data.bytes = 1ULL << 40;
	ev.data.segs = 123456;
	round_trip(&ev);
	ev.data.inferred = true;
	round_trip(&ev);

	ev = conn_event(TL_RETRANSMIT, 6);
	ev.retrans.seq = 4000000000u;
	ev.retrans.syn = true;
	ev.retrans.count = 3;
	round_trip(&ev);
	ev.retrans.err = -EHOSTUNREACH;
	round_trip(&ev);
	ev.retrans.err = -4000; /* no name: "error", and "error" again */
	round_trip(&ev);

	ev = conn_event(TL_KA_PROBE, 7);
	ev.ka_probe.dir = TT_DIR_IN;
	ev.ka_probe.n = 9;
	round_trip(&ev);

	ev = conn_event(TL_KA_ACK, 8);
	ev.ka_ack.rtt_ns = 1250500; /* 1.3 ms as drawn; 1250 us would draw 1.2 */
	round_trip(&ev);
	ev.ka_ack.rtt_ns = 0;
	round_trip(&ev);
	ev.ka_ack.inferred = true;
	round_trip(&ev);

	ev = conn_event(TL_RST, 9);
	ev.rst.dir = TT_DIR_OUT;
	ev.rst.reason = TT_RST_REASON_NONE;
	round_trip(&ev);
	rst_reason_register(3, "TCP_ABORT_ON_CLOSE");
	ev.rst.reason = 3;
	ev.rst.actor.pid = 17;
	strcpy(ev.rst.actor.comm, "x");
	ev.rst.actor.exiting = true;
	ev.rst.actor.exit_code = 2 << 8;
	round_trip(&ev);
	rst_reasons_clear();

	ev = conn_event(TL_ERROR, 10);
	ev.error.err = ECONNRESET;
	round_trip(&ev);
	ev.error.inferred = true;
	ev.error.err = 4000; /* no name: "name":null */
	round_trip(&ev);

	ev = conn_event(TL_CLOSE, 11);
	ev.close.cause = CAUSE_KILLED;
	ev.close.signal = SIGTERM;
	ev.close.exit_code = -1;
	ev.close.by.pid = 4242;
	strcpy(ev.close.by.comm, "server");
	ev.close.by.exiting = true;
	ev.close.by.exit_code = SIGTERM;
	ev.close.duration_ns = 9872123000ULL;
	ev.close.bytes_in = 1;
	ev.close.bytes_out = 2;
	ev.close.retransmits = 3;
	ev.close.keepalives = 4;
	round_trip(&ev);
	ev.close.cause = CAUSE_PROCESS_EXIT;
	ev.close.signal = 0;
	ev.close.exit_code = 3;
	ev.close.by.exit_code = 3 << 8;
	round_trip(&ev);
	ev.close.cause = CAUSE_KEEPALIVE_TIMEOUT;
	ev.close.exit_code = -1;
	memset(&ev.close.by, 0, sizeof(ev.close.by));
	round_trip(&ev);

	ev = conn_event(TL_EXISTING, 12);
	ev.existing.state = TT_TCP_CLOSE_WAIT;
	ev.pid = 0;
	memset(ev.comm, 0, sizeof(ev.comm));
	round_trip(&ev);

	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_LOST;
	ev.ts_ns = 13;
	ev.lost.count = 99;
	round_trip(&ev);

	ev = conn_event(TL_DATA, 14);
	ev.ep.family = 4;
	memset(ev.ep.laddr, 0, 16);
	memcpy(ev.ep.laddr, "\x0a\x00\x00\x01", 4);
	memcpy(ev.ep.raddr, "\xc0\xa8\x01\xfe", 4);
	memset(ev.ep.raddr + 4, 0, 12);
	round_trip(&ev);
}

static enum jsonl_parse parse(const char *line, struct tl_event *ev, char *why)
{
	int64_t t;

	return jsonl_parse_line(line, strlen(line), ev, &t, why, 160);
}

#define HEAD                                                                          \
	"\"ts_ns\":5,\"conn\":2,\"family\":4,\"laddr\":\"127.0.0.1\",\"lport\":9000," \
	"\"raddr\":\"127.0.0.1\",\"rport\":4000,\"pid\":null,\"comm\":null"

static void test_malformed_lines(void **state)
{
	static const char *const bad[][2] = {
		{ "{\"event\":\"data\"", "not JSON" },
		{ "not json at all", "not JSON" },
		{ "[1,2,3]", "not a JSON object" },
		{ "{\"event\":\"data\",\"dir\":\"in\",\"bytes\":1,\"segments\":1}", "ts_ns" },
		{ "{\"event\":7," HEAD "}", "\"event\"" },
		{ "{\"event\":\"data\"," HEAD ",\"dir\":\"in\",\"bytes\":\"1\",\"segments\":1}",
		  "\"bytes\"" },
		{ "{\"event\":\"data\"," HEAD ",\"dir\":\"up\",\"bytes\":1,\"segments\":1}",
		  "\"dir\"" },
		{ "{\"event\":\"data\"," HEAD ",\"dir\":\"in\",\"bytes\":-1,\"segments\":1}",
		  "\"bytes\"" },
		{ "{\"event\":\"data\"," HEAD ",\"dir\":\"in\",\"bytes\":1}", "\"segments\"" },
		{ "{\"event\":\"state\"," HEAD ",\"old\":\"ESTABLISHED\",\"new\":\"HAPPY\","
		  "\"sent\":null,\"received\":null,\"by_pid\":null,\"by_comm\":null}",
		  "\"new\"" },
		{ "{\"event\":\"state\"," HEAD ",\"old\":\"ESTABLISHED\",\"new\":\"CLOSE\","
		  "\"sent\":\"PSH\",\"received\":null,\"by_pid\":null,\"by_comm\":null}",
		  "\"sent\"" },
		{ "{\"event\":\"close\"," HEAD ",\"cause\":\"boredom\"}", "\"cause\"" },
		{ "{\"event\":\"rst\",\"ts_ns\":5,\"conn\":0,\"family\":4}", "\"conn\"" },
		{ "{\"event\":\"rst\",\"ts_ns\":5,\"conn\":1,\"family\":5}", "\"family\"" },
		{ "{\"event\":\"rst\",\"ts_ns\":5,\"conn\":1,\"family\":4,\"laddr\":\"::1\"}",
		  "\"laddr\"" },
		{ "{\"event\":\"lost\",\"ts_ns\":5,\"time\":\"yesterday\",\"count\":1}",
		  "\"time\"" },
		{ "{\"event\":\"data\",\"ts_ns\":5,\"ts_ns\":6}", "not JSON" }, /* duplicate key */
		{ "{\"event\":\"lost\",\"ts_ns\":5}", "\"count\"" },
		/* found by fuzz_jsonl: a time whose nanoseconds overflow 64 bits,
		 * and a ts_ns that would overflow when the offset is added */
		{ "{\"event\":\"lost\",\"ts_ns\":5,\"time\":\"2436-11-24T04:20:29.012775Z\","
		  "\"count\":1}",
		  "\"time\"" },
		{ "{\"event\":\"lost\",\"ts_ns\":9223372036854775807,\"count\":1}", "\"ts_ns\"" },
		{ "{\"event\":\"lost\",\"ts_ns\":5,\"time\":\"1969-12-31T23:59:59.000000Z\","
		  "\"count\":1}",
		  "\"time\"" },
	};
	struct tl_event ev;
	char why[160];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i][0], &ev, why) != JSONL_MALFORMED)
			fail_msg("accepted: %s", bad[i][0]);
		if (!strstr(why, bad[i][1]))
			fail_msg("%s: why is '%s', want it to name %s", bad[i][0], why, bad[i][1]);
	}
	assert_int_equal(parse("   \n", &ev, why), JSONL_BLANK);
}

static void test_unknown_kinds_and_fields(void **state)
{
	struct tl_event ev;
	char why[160];

	/* a newer tracer's event: skipped, not an error */
	assert_int_equal(parse("{\"event\":\"congestion\",\"ts_ns\":1,\"cwnd\":10}", &ev, why),
			 JSONL_UNKNOWN);
	/* a newer tracer's field: ignored */
	assert_int_equal(parse("{\"event\":\"data\"," HEAD ",\"dir\":\"in\",\"bytes\":3,"
			       "\"segments\":1,\"ecn\":true}",
			       &ev, why),
			 JSONL_EVENT);
	assert_int_equal(ev.data.bytes, 3);
	assert_int_equal(ev.conn, 2);
	assert_int_equal(ev.ep.rport, 4000);
	/* an old recording's rst, before it named its task */
	assert_int_equal(parse("{\"event\":\"rst\"," HEAD ",\"dir\":\"out\",\"reason\":"
			       "\"NOT_SPECIFIED\"}",
			       &ev, why),
			 JSONL_EVENT);
	assert_int_equal(ev.rst.actor.pid, 0);
	assert_string_equal(rst_reason_name(ev.rst.reason), "NOT_SPECIFIED");
	rst_reasons_clear();
}

/* --- whole recordings ------------------------------------------------------------------- */

struct pipeline {
	struct conn_table *table;
	struct ladder_queue *queue;
	struct render_opts ro;
	FILE *json; /* the sink's JSON, when recording */
	FILE *ladders;
	char *json_buf, *ladder_buf;
	size_t json_len, ladder_len;
	int closes;
	uint64_t next_tick;
};

static void p_sink(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	struct pipeline *p = ctx;

	if (p->json)
		render_json(p->json, ev, &p->ro);
}

static void p_on_close(const struct conn *c, void *ctx)
{
	struct pipeline *p = ctx;

	p->closes++;
	ladder_queue_closed(p->queue, c);
}

static void p_draw(const struct conn *a, const struct conn *b, void *ctx)
{
	struct pipeline *p = ctx;

	render_ladder(p->ladders, a, b, &p->ro);
}

static void p_late(const struct conn *c, void *ctx)
{
	struct pipeline *p = ctx;

	render_ladder_late(p->ladders, c, &p->ro);
}

static size_t p_tick(uint64_t now, void *ctx)
{
	struct pipeline *p = ctx;

	ladder_queue_tick(p->queue, now);
	return ladder_queue_pending(p->queue);
}

/* what main.c sets up for --ladder (and, recording, -w) */
static void p_start(struct pipeline *p, bool record)
{
	struct conn_table_opts to = {
		.max_open = 64,
		.max_closed = 64,
		.max_events_per_conn = 4096,
		.kernel_reports_errors = true,
		.sink = p_sink,
		.sink_ctx = p,
		.on_close = p_on_close,
		.on_close_ctx = p,
	};
	struct ladder_queue_opts qo = {
		.hold_ns = 2000000000ULL,
		.grace_ns = 100000000ULL,
		.draw = p_draw,
		.late = p_late,
		.ctx = p,
	};

	memset(p, 0, sizeof(*p));
	p->ro.realtime_offset_ns = OFFSET_NS;
	if (record)
		p->json = open_memstream(&p->json_buf, &p->json_len);
	p->ladders = open_memstream(&p->ladder_buf, &p->ladder_len);
	p->table = conn_table_new(&to);
	p->queue = ladder_queue_new(p->table, &qo);
	assert_non_null(p->table);
	assert_non_null(p->queue);
}

static void p_finish(struct pipeline *p)
{
	ladder_queue_flush(p->queue);
	if (p->json)
		fclose(p->json);
	fclose(p->ladders);
	ladder_queue_free(p->queue);
	conn_table_free(p->table);
}

static void p_free(struct pipeline *p)
{
	free(p->json_buf);
	free(p->ladder_buf);
}

static struct jsonl_reader_stats replay(struct pipeline *p, const char *text, FILE *err)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	struct jsonl_reader_opts o = {
		.table = p->table,
		.name = "rec.jsonl",
		.err = err,
		.realtime_offset_ns = &p->ro.realtime_offset_ns,
		.start_ns = &p->ro.start_ns,
		.tick = p_tick,
		.ctx = p,
	};
	struct jsonl_reader_stats st;

	assert_non_null(in);
	assert_int_equal(jsonl_read(in, &o, &st), 0);
	fclose(in);
	return st;
}

/* A live run: the loop ticks every 50 ms, idle or not, after what had
 * arrived by then (here: the records before the next one's time). */
static void live(struct pipeline *p, struct tt_event e)
{
	if (!p->next_tick)
		p->next_tick = e.ts_ns + JSONL_TICK_NS;
	for (; p->next_tick < e.ts_ns; p->next_tick += JSONL_TICK_NS)
		ladder_queue_tick(p->queue, p->next_tick);
	conn_table_add_raw(p->table, &e);
}

#define MS 1000000ULL
#define T0 5000000000ULL

/* A client killed with unread data (RST, note "killed by SIGKILL") and, on
 * another port at the same time, a normal exchange; the records of the two
 * interleaved, and time going backwards across connections (data out is
 * stamped when it was sent, after later events of the other connection). */
static void record_two_connections(struct pipeline *p)
{
	struct tt_event e;
	const __u64 c1 = CLIENT_SK, s1 = SERVER_SK, c2 = CLIENT_SK + 0x100, s2 = SERVER_SK + 0x100;

	e = raw_state(c1, 1, T0, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
	raw_owner(&e, 100, "client");
	raw_actor(&e, 100, "client", 0, 0);
	live(p, e);
	e = raw_state(c2, 2, T0 + 1 * MS, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
	e.lport = 50000, e.rport = 9001;
	raw_owner(&e, 300, "other");
	raw_actor(&e, 300, "other", 0, 0);
	live(p, e);
	e = raw_state(s1, 3, T0 + 2 * MS, 0, TT_TCP_LISTEN, TT_TCP_SYN_RECV);
	raw_owner(&e, 200, "server");
	live(p, e);
	e = raw_state(c1, 1, T0 + 2 * MS + 10, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	live(p, e);
	e = raw_state(s1, 3, T0 + 2 * MS + 20, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED);
	live(p, e);
	e = raw_state(s2, 4, T0 + 3 * MS, 0, TT_TCP_LISTEN, TT_TCP_SYN_RECV);
	e.lport = 9001, e.rport = 50000;
	raw_owner(&e, 400, "other-srv");
	live(p, e);
	e = raw_state(c2, 2, T0 + 3 * MS + 5, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	e.lport = 50000, e.rport = 9001;
	live(p, e);
	e = raw_state(s2, 4, T0 + 3 * MS + 9, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED);
	e.lport = 9001, e.rport = 50000;
	live(p, e);
	/* the server's reply received by the client, then the client's request
	 * data, stamped when it was sent: earlier than what came before it */
	e = raw_base(s1, 3, TT_EV_DATA, T0 + 4 * MS, 0);
	e.data.dir = TT_DIR_IN, e.data.bytes = 29, e.data.segs = 1;
	live(p, e);
	e = raw_base(c1, 1, TT_EV_DATA, T0 + 3 * MS + 500, 1);
	e.data.dir = TT_DIR_OUT, e.data.bytes = 29, e.data.segs = 1;
	live(p, e);
	e = raw_base(s1, 3, TT_EV_DATA, T0 + 5 * MS, 0);
	e.data.dir = TT_DIR_OUT, e.data.bytes = 4, e.data.segs = 1;
	live(p, e);
	/* the other connection: data and a normal close, the client first */
	e = raw_base(c2, 2, TT_EV_DATA, T0 + 5 * MS + 1, 1);
	e.lport = 50000, e.rport = 9001;
	e.data.dir = TT_DIR_OUT, e.data.bytes = 12000, e.data.segs = 9;
	live(p, e);
	e = raw_state(c2, 2, T0 + 6 * MS, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1);
	e.lport = 50000, e.rport = 9001;
	raw_actor(&e, 300, "other", 0, 0);
	live(p, e);
	e = raw_state(s2, 4, T0 + 6 * MS + 30, 0, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT);
	e.lport = 9001, e.rport = 50000;
	e.peer_fin = 1;
	live(p, e);
	e = raw_state(c2, 2, T0 + 6 * MS + 40, 1, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2);
	e.lport = 50000, e.rport = 9001;
	live(p, e);
	/* an orphan: handed to a timewait socket in FIN_WAIT2, closed for us */
	e = raw_state(c2, 2, T0 + 10 * MS, 1, TT_TCP_FIN_WAIT2, TT_TCP_CLOSE);
	e.lport = 50000, e.rport = 9001;
	live(p, e);
	/* the killed client: abort with unread data */
	e = raw_state(c1, 1, T0 + 300 * MS, 1, TT_TCP_ESTABLISHED, TT_TCP_CLOSE);
	raw_actor(&e, 100, "client", 1, SIGKILL);
	live(p, e);
	e = raw_base(c1, 1, TT_EV_RST, T0 + 300 * MS + 2, 1);
	e.rst.dir = TT_DIR_OUT, e.rst.reason = TT_RST_REASON_NONE;
	raw_actor(&e, 100, "client", 1, SIGKILL);
	live(p, e);
	e = raw_base(s1, 3, TT_EV_RST, T0 + 300 * MS + 40, 0);
	e.rst.dir = TT_DIR_IN, e.rst.reason = TT_RST_REASON_NONE;
	live(p, e);
	e = raw_base(s1, 3, TT_EV_ERROR, T0 + 300 * MS + 41, 0);
	e.error.err = ECONNRESET;
	live(p, e);
	e = raw_state(s1, 3, T0 + 300 * MS + 42, 0, TT_TCP_ESTABLISHED, TT_TCP_CLOSE);
	e.sk_err = ECONNRESET;
	live(p, e);
	/* the other server closes 3 s later, after the client's hold is up */
	e = raw_state(s2, 4, T0 + 3300 * MS, 0, TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK);
	e.lport = 9001, e.rport = 50000;
	raw_actor(&e, 400, "other-srv", 0, 0);
	live(p, e);
	e = raw_state(s2, 4, T0 + 3300 * MS + 40, 0, TT_TCP_LAST_ACK, TT_TCP_CLOSE);
	e.lport = 9001, e.rport = 50000;
	live(p, e);
}

static void test_replay_draws_the_live_ladders(void **state)
{
	struct pipeline rec, rp;
	struct jsonl_reader_stats st;
	char *again = NULL;
	size_t again_len = 0;
	FILE *json_again;

	p_start(&rec, true);
	record_two_connections(&rec);
	p_finish(&rec);
	assert_non_null(strstr(rec.ladder_buf, "client killed by SIGKILL"));
	assert_non_null(strstr(rec.ladder_buf, "after its diagram was drawn")); /* the held one */

	p_start(&rp, false);
	json_again = open_memstream(&again, &again_len);
	rp.json = json_again;
	st = replay(&rp, rec.json_buf, stderr);
	rp.json = NULL;
	fclose(json_again);
	p_finish(&rp);
	assert_int_equal(st.malformed, 0);
	assert_int_equal(st.unknown, 0);
	assert_true(st.events > 20);
	/* the same connections closed, the same ladders in the same order,
	 * and the same JSON again (times to the microsecond) */
	assert_int_equal(rp.closes, rec.closes);
	assert_string_equal(rp.ladder_buf, rec.ladder_buf);
	assert_string_equal(again, rec.json_buf);
	free(again);
	p_free(&rec);
	p_free(&rp);
}

#define CLI                                                                \
	"\"conn\":2,\"family\":4,\"laddr\":\"127.0.0.1\",\"lport\":40000," \
	"\"raddr\":\"127.0.0.1\",\"rport\":9000,\"pid\":10,\"comm\":\"cli\","
#define SRV                                                               \
	"\"conn\":3,\"family\":4,\"laddr\":\"127.0.0.1\",\"lport\":9000," \
	"\"raddr\":\"127.0.0.1\",\"rport\":40000,\"pid\":20,\"comm\":\"srv\","
#define NOBODY ",\"by_pid\":null,\"by_comm\":null}\n"

static void test_replay_builds_connections_out_of_order(void **state)
{
	/* the server's lines before the client's, and time going backwards */
	static const char rec[] =
		"{\"event\":\"state\",\"ts_ns\":6500," SRV "\"old\":\"SYN_RECV\","
		"\"new\":\"ESTABLISHED\",\"sent\":null,\"received\":\"ACK\"" NOBODY
		"{\"event\":\"data\",\"ts_ns\":9000," SRV "\"dir\":\"in\",\"bytes\":29,"
		"\"segments\":1}\n"
		"{\"event\":\"state\",\"ts_ns\":6000," CLI "\"old\":\"SYN_SENT\","
		"\"new\":\"ESTABLISHED\",\"sent\":\"ACK\",\"received\":\"SYN,ACK\"" NOBODY
		"{\"event\":\"data\",\"ts_ns\":8000," CLI "\"dir\":\"out\",\"bytes\":29,"
		"\"segments\":1}\n"
		"{\"event\":\"data\",\"ts_ns\":7000," SRV "\"dir\":\"out\",\"bytes\":4,"
		"\"segments\":1}\n";
	struct pipeline p;
	const struct conn *c, *s;

	p_start(&p, false);
	replay(&p, rec, stderr);
	c = conn_table_find_id(p.table, 2);
	s = conn_table_find_id(p.table, 3);
	assert_non_null(c);
	assert_non_null(s);
	assert_int_equal(c->bytes_out, 29);
	assert_int_equal(s->bytes_in, 29);
	assert_int_equal(s->bytes_out, 4);
	assert_int_equal(s->n_events, 3);
	assert_int_equal(s->state, TT_TCP_ESTABLISHED);
	assert_int_equal(s->first_ts, 6500); /* first heard of, as live */
	assert_int_equal(s->last_ts, 9000);
	assert_int_equal(c->pid, 10);
	assert_ptr_equal(conn_table_find_mirror(p.table, c), s);
	assert_int_equal(p.ro.start_ns, 6500);
	assert_int_equal(conn_table_open_count(p.table), 2);
	p_finish(&p);
	/* open at the end of the recording: drawn once, both ends, as at the
	 * end of a live run; the data in time order, not line order */
	assert_non_null(
		strstr(p.ladder_buf, "#2 127.0.0.1:40000 (cli 10)  <->  #3 127.0.0.1:9000"));
	assert_non_null(strstr(p.ladder_buf, "still open after 0.000003 s"));
	assert_true(strstr(p.ladder_buf, "DATA 4 B") < strstr(p.ladder_buf, "DATA 29 B"));
	assert_null(strstr(strstr(p.ladder_buf, "still open") + 1, "still open"));
	p_free(&p);
}

static void test_malformed_lines_named_and_skipped(void **state)
{
	static const char rec[] =
		"{\"event\":\"state\",\"ts_ns\":1000,\"conn\":2,\"family\":4,\"laddr\":\"127.0.0.1\","
		"\"lport\":4000,\"raddr\":\"127.0.0.1\",\"rport\":9000,\"pid\":10,\"comm\":\"cli\","
		"\"old\":\"CLOSE\",\"new\":\"SYN_SENT\",\"sent\":\"SYN\",\"received\":null,"
		"\"by_pid\":10,\"by_comm\":\"cli\"}\n"
		"garbage\n"
		"\n"
		"{\"event\":\"future_thing\",\"ts_ns\":1001}\n"
		"{\"event\":\"state\",\"ts_ns\":2000,\"conn\":2,\"family\":4,\"laddr\":\"127.0.0.1\","
		"\"lport\":4000,\"raddr\":\"127.0.0.1\",\"rport\":9000,\"pid\":10,\"comm\":\"cli\","
		"\"old\":\"SYN_SENT\",\"new\":\"ESTABLISHED\",\"sent\":\"ACK\",\"received\":\"SYN,ACK\","
		"\"by_pid\":null,\"by_comm\":null}\n"
		"{\"event\":\"data\",\"ts_ns\":3000,\"conn\":2,\"fam"; /* cut short */
	struct pipeline p;
	struct jsonl_reader_stats st;
	char *err = NULL;
	size_t err_len = 0;
	FILE *ef = open_memstream(&err, &err_len);
	const struct conn *c;

	p_start(&p, false);
	st = replay(&p, rec, ef);
	fclose(ef);
	assert_int_equal(st.lines, 6);
	assert_int_equal(st.events, 2);
	assert_int_equal(st.malformed, 2);
	assert_int_equal(st.unknown, 1);
	assert_int_equal(st.first_malformed_line, 2);
	assert_non_null(strstr(err, "tcptimeline: rec.jsonl:2: not JSON"));
	assert_non_null(strstr(err, "rec.jsonl:6: not JSON"));
	assert_non_null(strstr(err, "cut short?"));
	/* the lines around them still count */
	c = conn_table_find_id(p.table, 2);
	assert_non_null(c);
	assert_int_equal(c->state, TT_TCP_ESTABLISHED);
	p_finish(&p);
	p_free(&p);
	free(err);
}

static void test_long_line_is_malformed(void **state)
{
	size_t n = JSONL_MAX_LINE + 100;
	char *rec = malloc(n + 64);
	struct pipeline p;
	struct jsonl_reader_stats st;
	FILE *devnull = fopen("/dev/null", "w");

	memset(rec, ' ', n);
	rec[0] = '{';
	strcpy(rec + n, "}\n{\"event\":\"lost\",\"ts_ns\":1,\"count\":2}\n");
	p_start(&p, false);
	st = replay(&p, rec, devnull);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(st.events, 1); /* the next line is read as a line of its own */
	assert_int_equal(st.lines, 2);
	p_finish(&p);
	p_free(&p);
	fclose(devnull);
	free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_round_trips),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_unknown_kinds_and_fields),
		cmocka_unit_test(test_replay_draws_the_live_ladders),
		cmocka_unit_test(test_replay_builds_connections_out_of_order),
		cmocka_unit_test(test_malformed_lines_named_and_skipped),
		cmocka_unit_test(test_long_line_is_malformed),
	};

	return cmocka_run_group_tests_name("jsonl_reader", tests, NULL, NULL);
}
