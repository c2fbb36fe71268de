// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Ladder diagrams against golden files. Each scenario was recorded on a real
 * kernel with the current tracer (tests/unit/golden/record.sh: tcptimeline
 * --json around a demo scenario or a peer.py exchange); here the JSON Lines
 * are read back exactly as `tcptimeline -r FILE --ladder` reads them
 * (jsonl_read into the connection table and the ladder queue, nothing
 * re-derived), and the diagrams compared with golden/SCENARIO.txt.
 * UPDATE_GOLDEN=1 rewrites the golden files instead: read every one of them.
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
#include "jsonl_reader.h"
#include "ladder_queue.h"
#include "names.h"
#include "raw_builder.h"
#include "render_html.h"
#include "render_ladder.h"

#define MAX_LINES 512
#define MAX_CONNS 16

/* a recording: its text and where each line starts */
struct recording {
	char *text;
	size_t len;
	size_t line[MAX_LINES + 1];
	int n;
};

static void load(const char *name, struct recording *r)
{
	char path[512];
	FILE *f;
	long size;

	free(r->text);
	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "tests/unit/golden/%s.jsonl", name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (run the unit tests from the repository root)", path);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	r->text = calloc(1, (size_t)size + 1);
	assert_non_null(r->text);
	r->len = fread(r->text, 1, (size_t)size, f);
	fclose(f);
	for (size_t i = 0; i < r->len && r->n < MAX_LINES; i++)
		if (i == 0 || r->text[i - 1] == '\n')
			r->line[r->n++] = i;
	r->line[r->n] = r->len;
}

/* line i as an event (the reader's own parser) */
static struct tl_event event_at(const struct recording *r, int i)
{
	struct tl_event ev;
	int64_t t;
	char why[160];

	assert_int_equal(jsonl_parse_line(r->text + r->line[i], r->line[i + 1] - r->line[i], &ev,
					  &t, why, sizeof(why)),
			 JSONL_EVENT);
	return ev;
}

/* --- replay and draw ------------------------------------------------------------------------ */

struct replay {
	struct conn_table *table;
	struct ladder_queue *queue;
	FILE *out;
	struct html_page *html; /* also drawn here, when set */
	struct render_opts ropts;
	int drawn, late;
	bool ticks; /* the queue on the recording's clock, as -r; else the test ticks */
};

static void on_close(const struct conn *c, void *ctx)
{
	struct replay *rp = ctx;

	ladder_queue_closed(rp->queue, c);
}

static void draw(const struct conn *a, const struct conn *b, void *ctx)
{
	struct replay *rp = ctx;

	if (rp->out)
		render_ladder(rp->out, a, b, &rp->ropts);
	if (rp->html)
		html_page_add(rp->html, a, b);
	rp->drawn++;
}

static void draw_late(const struct conn *c, void *ctx)
{
	struct replay *rp = ctx;

	if (rp->out)
		render_ladder_late(rp->out, c, &rp->ropts);
	if (rp->html)
		html_page_late(rp->html, c);
	rp->late++;
}

static size_t tick(uint64_t now, void *ctx)
{
	struct replay *rp = ctx;

	ladder_queue_tick(rp->queue, now);
	return ladder_queue_pending(rp->queue);
}

/* what main.c sets up for -r --ladder */
static void replay_start(struct replay *rp, FILE *out, bool ticks)
{
	struct conn_table_opts topts = {
		.max_open = 64,
		.max_closed = 64,
		.max_events_per_conn = 4096,
		.on_close = on_close,
		.on_close_ctx = rp,
	};
	struct ladder_queue_opts qopts = {
		.hold_ns = 2000000000ULL,
		.grace_ns = 100000000ULL,
		.draw = draw,
		.late = draw_late,
		.ctx = rp,
	};

	memset(rp, 0, sizeof(*rp));
	rp->out = out;
	rp->ticks = ticks;
	rp->table = conn_table_new(&topts);
	rp->queue = ladder_queue_new(rp->table, &qopts);
	assert_non_null(rp->table);
	assert_non_null(rp->queue);
}

/* lines [from, to) through the reader */
static void replay_feed(struct replay *rp, const struct recording *r, int from, int to)
{
	FILE *in = fmemopen(r->text + r->line[from], r->line[to] - r->line[from], "r");
	struct jsonl_reader_opts o = {
		.table = rp->table,
		.name = "golden",
		.err = stderr,
		.realtime_offset_ns = &rp->ropts.realtime_offset_ns,
		.start_ns = &rp->ropts.start_ns,
		.tick = rp->ticks ? tick : NULL,
		.ctx = rp,
	};
	struct jsonl_reader_stats st;

	assert_non_null(in);
	assert_int_equal(jsonl_read(in, &o, &st), 0);
	fclose(in);
	assert_int_equal(st.malformed, 0);
	assert_int_equal(st.unknown, 0);
}

static void replay_end(struct replay *rp)
{
	ladder_queue_free(rp->queue);
	conn_table_free(rp->table);
	rst_reasons_clear();
}

/* --- golden files ------------------------------------------------------------------------- */

static void golden_file(const char *path, const char *got)
{
	char *want = NULL;
	size_t len = 0;
	FILE *f;

	if (getenv("UPDATE_GOLDEN")) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
		fprintf(stderr, "wrote %s\n", path);
		return;
	}
	f = fopen(path, "r");
	if (!f)
		fail_msg("no %s: UPDATE_GOLDEN=1 %s writes it (then read it)", path, "test_ladder");
	want = calloc(1, 1 << 20);
	len = fread(want, 1, (1 << 20) - 1, f);
	fclose(f);
	want[len] = '\0';
	if (strcmp(want, got))
		fail_msg("%s differs; got:\n%s", path, got);
	free(want);
}

static void golden(const char *name, const char *got)
{
	char path[512];

	snprintf(path, sizeof(path), "tests/unit/golden/%s.txt", name);
	golden_file(path, got);
}

/* No line is wider than the ladder width (counted in characters, not bytes). */
static void check_width(const char *text)
{
	int w = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '\n') {
			w = 0;
			continue;
		}
		if ((*p & 0xc0) != 0x80)
			w++;
		if (w > LADDER_WIDTH)
			fail_msg("a line is wider than %d:\n%s", LADDER_WIDTH, text);
	}
}

/* The scenario as the tracer draws it: through the queue, both ends paired;
 * then each end alone, as if the other were on another host. */
static void scenario(const char *name)
{
	static struct recording rec;
	struct replay rp;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	load(name, &rec);
	replay_start(&rp, out, true);
	replay_feed(&rp, &rec, 0, rec.n);
	ladder_queue_flush(rp.queue);
	assert_int_equal(rp.drawn, 1); /* one diagram: the listener gets none */
	assert_int_equal(ladder_queue_pending(rp.queue), 0);
	for (uint64_t id = 1; id < MAX_CONNS; id++) {
		const struct conn *c = conn_table_find_id(rp.table, id);

		if (!c || !c->ep.rport || !conn_table_find_mirror(rp.table, c))
			continue;
		if (!c->pid) /* a reset from no socket: nothing to draw alone */
			continue;
		fprintf(out, "--- #%llu alone: %s\n", (unsigned long long)id,
			"its peer drawn from what its kernel sent and received");
		render_ladder(out, c, NULL, &rp.ropts);
	}
	replay_end(&rp);
	fclose(out);
	check_width(buf);
	golden(name, buf);
	free(buf);
}

static void test_normal(void **state)
{
	scenario("normal");
}
static void test_server_first(void **state)
{
	scenario("server-first");
}
/* recorded with peer.py (record.sh): the server closes first and the client
 * only 0.2 s later, so the client's delayed ACK of the server's FIN leaves
 * alone and the server's orphan is handed to a timewait socket in FIN_WAIT2,
 * which takes the client's FIN */
static void test_server_first_fin_wait2(void **state)
{
	scenario("server-first-fw2");
}
/* recorded with peer.py: the client sets TCP_LINGER2 -1, sends 10 B and
 * closes; the server ACKs the FIN late (delayed ACK) and keeps its end open:
 * the client's socket is dropped in FIN_WAIT2 and its kernel answers that
 * ACK with a reset */
static void test_fin_wait2_dropped(void **state)
{
	scenario("fin-wait2-dropped");
}
static void test_client_exit(void **state)
{
	scenario("client-exit");
}
static void test_kill_client(void **state)
{
	scenario("kill-client");
}
static void test_kill_server_idle(void **state)
{
	scenario("kill-server-idle");
}
static void test_keepalive(void **state)
{
	scenario("keepalive");
}
static void test_refused(void **state)
{
	scenario("refused");
}
static void test_half_close(void **state)
{
	scenario("half-close");
}

/* --- the same scenarios as one HTML page ------------------------------------------------- */

/* Every recorded scenario, through the queue as the tracer runs it, into one
 * page: the golden tests/unit/golden/ladders.html (tests/html checks it is
 * well-formed and that a browser draws it). */
static void test_html_page(void **state)
{
	/* keepalive and kill-client first: with the index, every kind's colour
	 * is in tests/html's screenshot of the top of the page */
	static const char *const names[] = {
		"keepalive",	     "kill-client",	 "normal",  "server-first",
		"client-exit",	     "kill-server-idle", "refused", "half-close",
		"fin-wait2-dropped", "server-first-fw2",
	};
	static struct recording rec;
	struct html_page *page = html_page_new();
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	assert_non_null(page);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct replay rp;

		load(names[i], &rec);
		replay_start(&rp, NULL, true);
		rp.html = page;
		replay_feed(&rp, &rec, 0, rec.n);
		ladder_queue_flush(rp.queue);
		assert_int_equal(rp.drawn, 1);
		replay_end(&rp);
	}
	out = open_memstream(&buf, &len);
	assert_int_equal(html_page_write(page, out, "the unit tests' recorded scenarios"), 0);
	fclose(out);
	html_page_free(page);
	golden_file("tests/unit/golden/ladders.html", buf);
	free(buf);
}

/* --- the queue: held until the other end closes, drawn once ----------------------------- */

static int first_close_of(const struct recording *rec)
{
	for (int i = 0; i < rec->n; i++) {
		struct tl_event ev = event_at(rec, i);

		if (ev.kind == TL_CLOSE && ev.ep.rport)
			return i;
	}
	return -1;
}

static void test_queue_holds_first_end(void **state)
{
	static struct recording rec;
	struct replay rp;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int first;
	uint64_t ts;

	load("normal", &rec);
	first = first_close_of(&rec);
	assert_true(first > 0);
	ts = event_at(&rec, first).ts_ns;
	replay_start(&rp, out, false);
	replay_feed(&rp, &rec, 0, first + 1);
	/* the client closed; the server has not: held, even long after the grace */
	assert_int_equal(ladder_queue_pending(rp.queue), 1);
	ladder_queue_tick(rp.queue, ts + 1000000000ULL);
	assert_int_equal(rp.drawn, 0);
	replay_feed(&rp, &rec, first + 1, rec.n);
	ladder_queue_tick(rp.queue, ts + 1000000ULL); /* within the grace: still held */
	assert_int_equal(rp.drawn, 0);
	ladder_queue_tick(rp.queue, ts + 1000000000ULL);
	assert_int_equal(rp.drawn, 1);
	assert_int_equal(ladder_queue_pending(rp.queue), 0);
	ladder_queue_tick(rp.queue, ts + 5000000000ULL);
	ladder_queue_flush(rp.queue);
	assert_int_equal(rp.drawn, 1); /* once */
	replay_end(&rp);
	fclose(out);
	assert_non_null(strstr(buf, "client close()"));
	assert_non_null(strstr(buf, "server close()"));
	free(buf);
}

static void test_queue_bounded_wait(void **state)
{
	static struct recording rec;
	struct replay rp;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int first;
	uint64_t ts;

	load("normal", &rec);
	first = first_close_of(&rec);
	ts = event_at(&rec, first).ts_ns;
	replay_start(&rp, out, false);
	replay_feed(&rp, &rec, 0, first + 1);
	/* the server never closes in time: both drawn after the hold, the server as it is */
	ladder_queue_tick(rp.queue, ts + 2000000000ULL);
	assert_int_equal(rp.drawn, 1);
	fflush(out);
	assert_non_null(strstr(buf, "server: still "));
	/* its close, later, is one line, not a second diagram */
	replay_feed(&rp, &rec, first + 1, rec.n);
	ladder_queue_flush(rp.queue);
	assert_int_equal(rp.drawn, 1);
	assert_int_equal(rp.late, 1);
	replay_end(&rp);
	fclose(out);
	assert_non_null(strstr(buf, "after its diagram was drawn: peer closed first [peer_close]"));
	free(buf);
}

static void test_open_at_exit(void **state)
{
	static struct recording rec;
	struct replay rp;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int first;

	load("keepalive", &rec);
	first = first_close_of(&rec);
	/* Ctrl-C during the keepalive idle: both ends still open, drawn as one */
	replay_start(&rp, out, false);
	for (int i = 0; i < first; i++) {
		struct tl_event ev = event_at(&rec, i);

		if (ev.kind == TL_STATE && ev.state.new_state == TT_TCP_FIN_WAIT1)
			first = i;
	}
	replay_feed(&rp, &rec, 0, first);
	ladder_queue_flush(rp.queue);
	assert_int_equal(rp.drawn, 1);
	replay_end(&rp);
	fclose(out);
	assert_non_null(strstr(buf, "still open after"));
	assert_non_null(strstr(buf, "keepalive probe #3"));
	assert_non_null(strstr(buf, "client: still ESTABLISHED"));
	free(buf);
}

/* --- drawing details ---------------------------------------------------------------------- */

static void test_bytes(void **state)
{
	char b[24];

	ladder_format_bytes(29, b, sizeof(b));
	assert_string_equal(b, "29 B");
	ladder_format_bytes(9999, b, sizeof(b));
	assert_string_equal(b, "9999 B");
	ladder_format_bytes(12345, b, sizeof(b));
	assert_string_equal(b, "12.3 kB");
	ladder_format_bytes(4500000, b, sizeof(b));
	assert_string_equal(b, "4.5 MB");
}

/* one end only (the peer elsewhere); bulk data folded, idle folded, comm sanitised,
 * colour only when asked */
static void test_single_end_folding(void **state)
{
	struct conn_table_opts topts = { .max_events_per_conn = 4096 };
	struct conn_table *t = conn_table_new(&topts);
	struct render_opts ro = { 0 };
	const struct conn *c;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	uint64_t s = 1000000000ULL;
	struct tt_event e;

	e = raw_state(CLIENT_SK, 1, s, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
	raw_owner(&e, 100, "cli\033[31mhostile");
	raw_actor(&e, 100, "cli", 0, 0);
	conn_table_add_raw(t, &e);
	e = raw_state(CLIENT_SK, 1, s + 1000, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	conn_table_add_raw(t, &e);
	for (int i = 0; i < 50; i++) {
		e = raw_data(CLIENT_SK, 1, s + 2000 + i, 1, TT_DIR_OUT, 1000);
		conn_table_add_raw(t, &e);
	}
	e = raw_data(CLIENT_SK, 1, s + 3000, 1, TT_DIR_IN, 4);
	conn_table_add_raw(t, &e);
	/* 30 s later */
	e = raw_state(CLIENT_SK, 1, s + 30000000000ULL, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1);
	raw_actor(&e, 100, "cli", 0, 0);
	conn_table_add_raw(t, &e);
	c = conn_table_find_id(t, 1);
	assert_non_null(c);

	out = open_memstream(&buf, &len);
	render_ladder(out, c, NULL, &ro);
	fclose(out);
	check_width(buf);
	assert_null(strchr(buf, '\033'));
	assert_non_null(strstr(buf, "(cli?[31mhostile 100)"));
	assert_non_null(strstr(buf, "127.0.0.1:9000 (not traced here)"));
	assert_non_null(strstr(buf, "DATA 50.0 kB"));
	assert_non_null(strstr(buf, "50 segments"));
	assert_non_null(strstr(buf, "… 30.0 s idle …"));
	assert_non_null(strstr(buf, "client close()"));
	assert_non_null(strstr(buf, "still open after 30.000000 s"));
	free(buf);

	ro.color = true;
	out = open_memstream(&buf, &len);
	render_ladder(out, c, NULL, &ro);
	fclose(out);
	assert_non_null(strchr(buf, '\033'));
	free(buf);
	conn_table_free(t);
}

#define SK_OF(client) ((client) ? CLIENT_SK : SERVER_SK)

static void add_state(struct conn_table *t, uint64_t ts, int client, int o, int n)
{
	struct tt_event e = raw_state(SK_OF(client), 1, ts, client, o, n);

	conn_table_add_raw(t, &e);
}

static void add_data(struct conn_table *t, uint64_t ts, int client, int dir, uint64_t bytes)
{
	struct tt_event e = raw_data(SK_OF(client), 1, ts, client, dir, bytes);

	conn_table_add_raw(t, &e);
}

static char *draw_pair(struct conn_table *t)
{
	struct render_opts ro = { 0 };
	const struct conn *a = conn_table_find_id(t, 1), *b = conn_table_find_id(t, 2);
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	assert_non_null(a);
	assert_non_null(b);
	out = open_memstream(&buf, &len);
	render_ladder(out, a, b, &ro);
	fclose(out);
	return buf;
}

/* Both ends, a loss in the middle of a trickle: the receiver's run goes on
 * through the loss (received before it and after), stamped before the
 * sender's writes in the middle of it. Those are drawn at their own times,
 * after the retransmits, not folded into the first row. */
static void test_loss_time_order(void **state)
{
	struct conn_table_opts topts = { .max_events_per_conn = 4096 };
	struct conn_table *t = conn_table_new(&topts);
	uint64_t s = 1000000000ULL, ms = 1000000ULL;
	struct tt_event e;
	char *buf;
	const char *d1, *a1, *a2, *d2;

	add_state(t, s, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
	add_state(t, s + 1 * ms, 0, TT_TCP_LISTEN, TT_TCP_SYN_RECV);
	add_state(t, s + 2 * ms, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	add_state(t, s + 3 * ms, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED);
	add_data(t, s + 100 * ms, 1, TT_DIR_OUT, 4000);
	add_data(t, s + 101 * ms, 0, TT_DIR_IN, 12000); /* on through the loss */
	for (int i = 0; i < 2; i++) {
		e = raw_base(CLIENT_SK, 1, TT_EV_RETRANSMIT, s + (400 + 400 * i) * ms, 1);
		e.retrans.count = (uint32_t)i + 1;
		conn_table_add_raw(t, &e);
	}
	/* close() before the loss ends: the FIN waits behind the data */
	add_state(t, s + 1250 * ms, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1);
	add_data(t, s + 1300 * ms, 1, TT_DIR_OUT, 8000);
	add_data(t, s + 1400 * ms, 1, TT_DIR_OUT, 3000);
	add_data(t, s + 1401 * ms, 0, TT_DIR_IN, 3000);
	buf = draw_pair(t);
	d1 = strstr(buf, "DATA 4000 B");
	a1 = strstr(buf, "DATA again");
	a2 = a1 ? strstr(a1 + 1, "DATA again") : NULL;
	d2 = strstr(buf, "DATA 11.0 kB");
	assert_non_null(d1);
	assert_non_null(a2);
	assert_non_null(d2);
	assert_true(d1 < a1 && a2 < d2);
	assert_non_null(strstr(buf, "1.300000   DATA 11.0 kB")); /* the new data at its own time */
	assert_non_null(strstr(d2, "FIN ---"));			 /* and the FIN after it */
	free(buf);
	conn_table_free(t);

	/* data only noticed after the FIN (inferred) is drawn before it */
	t = conn_table_new(&topts);
	add_state(t, s, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
	add_state(t, s + 2 * ms, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	add_state(t, s + 10 * ms, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1);
	e = raw_data(CLIENT_SK, 1, s + 20 * ms, 1, TT_DIR_OUT, 500);
	e.data.inferred = 1;
	conn_table_add_raw(t, &e);
	{
		struct render_opts ro = { 0 };
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);

		render_ladder(out, conn_table_find_id(t, 1), NULL, &ro);
		fclose(out);
	}
	d1 = strstr(buf, "DATA 500 B");
	assert_non_null(d1);
	assert_non_null(strstr(d1, "FIN ---"));
	free(buf);
	conn_table_free(t);
}

/* An ACK to a probe from CLOSE_WAIT, read from the socket later, says so */
static void test_keepalive_ack_inferred(void **state)
{
	struct conn_table_opts topts = { .max_events_per_conn = 4096 };
	struct conn_table *t = conn_table_new(&topts);
	uint64_t s = 1000000000ULL;
	struct tt_event e;
	char *buf;

	add_state(t, s, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
	add_state(t, s + 1000, 0, TT_TCP_LISTEN, TT_TCP_SYN_RECV);
	add_state(t, s + 2000, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	add_state(t, s + 3000, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED);
	e = raw_base(SERVER_SK, 1, TT_EV_KA_PROBE, s + 2 * s, 0);
	e.ka_probe.dir = TT_DIR_OUT;
	e.ka_probe.n = 1;
	conn_table_add_raw(t, &e);
	e = raw_base(SERVER_SK, 1, TT_EV_KA_ACK, s + 2 * s + 50000, 0);
	e.ka_ack.dir = TT_DIR_IN;
	e.ka_ack.inferred = 1;
	conn_table_add_raw(t, &e);
	buf = draw_pair(t);
	assert_non_null(strstr(buf, "keepalive probe #1"));
	assert_non_null(strstr(buf, "keepalive ACK (inferred)"));
	free(buf);
	conn_table_free(t);
}

/*
 * A long story held to the end: thousands of exchanges both ways, both ends
 * traced, with keepalive probes and retransmits among them. The model's
 * searches (the receiver's run for each sender's, the end of data, the
 * observation of each event, the receiver's record of each segment) must not
 * scan the whole story for every item: its step count stays a small multiple
 * of the observations (a scan per item would be their square, ~10^9 here).
 */
#define BIG_EXCHANGES 20000
static void test_big_story_steps(void **state)
{
	struct conn_table_opts topts = { .max_open = 4,
					 .max_closed = 4,
					 .max_events_per_conn = 8 * BIG_EXCHANGES };
	struct conn_table *t = conn_table_new(&topts);
	uint64_t s = 1000000000ULL, ts, ms = 1000000ULL;
	const struct conn *a, *b;
	size_t n_events, data_rows = 0, probes = 0, retrans = 0;
	struct tt_event e;
	struct ladder l;

	add_state(t, s, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
	add_state(t, s + 1000, 0, TT_TCP_LISTEN, TT_TCP_SYN_RECV);
	add_state(t, s + 2000, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	add_state(t, s + 3000, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED);
	ts = s + ms;
	for (int i = 0; i < BIG_EXCHANGES; i++, ts += 10 * ms) {
		add_data(t, ts, 1, TT_DIR_OUT, 100);
		add_data(t, ts + 50000, 0, TT_DIR_IN, 100);
		add_data(t, ts + 100000, 0, TT_DIR_OUT, 200);
		add_data(t, ts + 150000, 1, TT_DIR_IN, 200);
		if (i % 100 == 50) {
			e = raw_base(SERVER_SK, 1, TT_EV_KA_PROBE, ts + 5 * ms, 0);
			e.ka_probe.dir = TT_DIR_OUT;
			e.ka_probe.n = 1;
			conn_table_add_raw(t, &e);
			e = raw_base(CLIENT_SK, 1, TT_EV_KA_PROBE, ts + 5 * ms + 40000, 1);
			e.ka_probe.dir = TT_DIR_IN;
			conn_table_add_raw(t, &e);
		}
		if (i % 100 == 70) {
			e = raw_base(CLIENT_SK, 1, TT_EV_RETRANSMIT, ts + 6 * ms, 1);
			e.retrans.count = 1;
			conn_table_add_raw(t, &e);
		}
	}
	add_state(t, ts, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1);
	add_state(t, ts + 1000, 0, TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT);
	add_state(t, ts + 2000, 1, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2);
	add_state(t, ts + 3000, 0, TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK);
	add_state(t, ts + 4000, 1, TT_TCP_FIN_WAIT2, TT_TCP_CLOSE);
	add_state(t, ts + 5000, 0, TT_TCP_LAST_ACK, TT_TCP_CLOSE);
	a = conn_table_find_id(t, 1);
	b = conn_table_find_id(t, 2);
	assert_non_null(a);
	assert_non_null(b);
	n_events = a->n_events + b->n_events;
	assert_true(n_events >= 4 * (size_t)BIG_EXCHANGES); /* nothing folded or cut */
	assert_int_equal(ladder_build(&l, a, b), 0);
	for (size_t i = 0; i < l.n_rows; i++) {
		const struct ladder_row *r = &l.rows[i];

		if (r->kind != LADDER_ROW_ARROW)
			continue;
		data_rows += r->seg == LADDER_SEG_DATA;
		probes += r->seg == LADDER_SEG_KA_PROBE;
		retrans += r->seg == LADDER_SEG_RETRANS;
	}
	/* each write one arrow, its receiver's record merged into it */
	assert_int_equal(data_rows, 2 * BIG_EXCHANGES);
	assert_int_equal(probes, BIG_EXCHANGES / 100);
	assert_int_equal(retrans, BIG_EXCHANGES / 100);
	fprintf(stderr, "big story: %zu events, %llu steps\n", n_events,
		(unsigned long long)l.steps);
	assert_true(l.steps <= 64 * (uint64_t)n_events);
	ladder_free(&l);
	conn_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_server_first),
		cmocka_unit_test(test_server_first_fin_wait2),
		cmocka_unit_test(test_fin_wait2_dropped),
		cmocka_unit_test(test_client_exit),
		cmocka_unit_test(test_kill_client),
		cmocka_unit_test(test_kill_server_idle),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_half_close),
		cmocka_unit_test(test_html_page),
		cmocka_unit_test(test_queue_holds_first_end),
		cmocka_unit_test(test_queue_bounded_wait),
		cmocka_unit_test(test_open_at_exit),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_single_end_folding),
		cmocka_unit_test(test_loss_time_order),
		cmocka_unit_test(test_keepalive_ack_inferred),
		cmocka_unit_test(test_big_story_steps),
	};

	return cmocka_run_group_tests_name("ladder", tests, NULL, NULL);
}
