// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Ladder diagrams against golden files. Each demo scenario was recorded once
 * on a real kernel (tests/unit/golden/record.sh: tcptimeline --json around
 * src/demo/run-scenario.sh SCENARIO --fast); here the JSON events are turned
 * back into kernel records, replayed through the connection table and the
 * ladder queue, and the diagrams compared with golden/SCENARIO.txt.
 * UPDATE_GOLDEN=1 rewrites the golden files instead: read every one of them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "conn_table.h"
#include "ladder_queue.h"
#include "names.h"
#include "render_html.h"
#include "render_ladder.h"

/* --- a flat JSON object: just what the tracer's JSON Lines contain --------------------- */

#define MAX_FIELDS 40

struct field {
	char key[24];
	char str[64];
	bool is_null, is_str;
	double num;
};

struct obj {
	struct field f[MAX_FIELDS];
	int n;
};

static const char *parse_string(const char *p, char *out, size_t len)
{
	size_t n = 0;

	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		char c = *p++;

		if (c == '\\') {
			c = *p++;
			if (c == 'u') { /* keep it simple: \u00XX */
				unsigned v = 0;

				sscanf(p, "%4x", &v);
				p += 4;
				c = (char)v;
			} else if (c == 'n') {
				c = '\n';
			}
		}
		if (n + 1 < len)
			out[n++] = c;
	}
	out[n] = '\0';
	return *p == '"' ? p + 1 : NULL;
}

static bool parse_obj(const char *p, struct obj *o)
{
	memset(o, 0, sizeof(*o));
	if (*p++ != '{')
		return false;
	while (*p && *p != '}' && o->n < MAX_FIELDS) {
		struct field *f = &o->f[o->n++];

		p = parse_string(p, f->key, sizeof(f->key));
		if (!p || *p++ != ':')
			return false;
		if (*p == '"') {
			f->is_str = true;
			p = parse_string(p, f->str, sizeof(f->str));
			if (!p)
				return false;
		} else if (!strncmp(p, "null", 4)) {
			f->is_null = true;
			p += 4;
		} else if (!strncmp(p, "true", 4)) {
			f->num = 1;
			p += 4;
		} else if (!strncmp(p, "false", 5)) {
			p += 5;
		} else {
			char *end;

			f->num = strtod(p, &end);
			if (end == p)
				return false;
			p = end;
		}
		if (*p == ',')
			p++;
	}
	return *p == '}';
}

static const struct field *get(const struct obj *o, const char *key)
{
	for (int i = 0; i < o->n; i++)
		if (!strcmp(o->f[i].key, key))
			return &o->f[i];
	return NULL;
}

static const char *str(const struct obj *o, const char *key)
{
	const struct field *f = get(o, key);

	return f && f->is_str ? f->str : NULL;
}

static double num(const struct obj *o, const char *key)
{
	const struct field *f = get(o, key);

	return f && !f->is_null && !f->is_str ? f->num : 0;
}

static bool is(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static int state_num(const char *name)
{
	for (int s = 1; s <= TT_TCP_NEW_SYN_RECV; s++)
		if (is(tcp_state_name(s), name))
			return s;
	return 0;
}

/* --- JSON events back into kernel records -------------------------------------------------- */

#define MAX_EVENTS 256
#define MAX_CONNS 16

struct recording {
	struct obj ev[MAX_EVENTS];
	int n;
	/* from each connection's close event: who closed it and how it ended */
	struct {
		uint32_t by_pid;
		int32_t exit_code; /* raw: signal, or status << 8 */
		bool exiting;
		char cause[64];
	} close[MAX_CONNS];
};

static void load(const char *name, struct recording *r)
{
	char path[512], line[4096];
	FILE *f;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "tests/unit/golden/%s.jsonl", name);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (run the unit tests from the repository root)", path);
	while (fgets(line, sizeof(line), f) && r->n < MAX_EVENTS) {
		struct obj *o = &r->ev[r->n];
		int conn;

		if (!parse_obj(line, o))
			fail_msg("%s: not a flat JSON object: %s", path, line);
		r->n++;
		conn = (int)num(o, "conn");
		if (!is(str(o, "event"), "close") || conn <= 0 || conn >= MAX_CONNS)
			continue;
		r->close[conn].by_pid = (uint32_t)num(o, "by_pid");
		snprintf(r->close[conn].cause, sizeof(r->close[conn].cause), "%s", str(o, "cause"));
		if (is(str(o, "cause"), "killed")) {
			r->close[conn].exiting = true;
			for (int sig = 1; sig < 65; sig++)
				if (is(signal_name(sig), str(o, "signal")))
					r->close[conn].exit_code = sig;
		} else if (is(str(o, "cause"), "process_exit")) {
			r->close[conn].exiting = true;
			r->close[conn].exit_code = (int32_t)num(o, "exit_code") << 8;
		}
	}
	fclose(f);
}

static void addr(const struct obj *o, const char *key, int family, __u8 *out)
{
	const char *s = str(o, key);

	if (s)
		inet_pton(family == 6 ? AF_INET6 : AF_INET, s, out);
}

static bool to_raw(const struct recording *r, const struct obj *o, struct tt_event *e)
{
	const char *ev = str(o, "event"), *dir = str(o, "dir");
	int conn = (int)num(o, "conn");
	const char *comm = str(o, "comm"), *by_comm = str(o, "by_comm");

	memset(e, 0, sizeof(*e));
	e->ts_ns = (uint64_t)num(o, "ts_ns");
	e->sk = 0xffff888000000000ULL + (uint64_t)conn * 0x1000;
	e->birth_ns = (uint64_t)conn;
	e->family = (__u8)num(o, "family");
	addr(o, "laddr", e->family, e->saddr);
	addr(o, "raddr", e->family, e->daddr);
	e->lport = (__u16)num(o, "lport");
	e->rport = (__u16)num(o, "rport");
	e->owner_pid = (__u32)num(o, "pid");
	if (comm)
		snprintf(e->owner_comm, TT_COMM_LEN, "%.15s", comm);
	if (is(ev, "state")) {
		const char *recv = str(o, "received");

		e->type = TT_EV_STATE;
		e->old_state = (__u8)state_num(str(o, "old"));
		e->new_state = (__u8)state_num(str(o, "new"));
		e->actor_pid = (__u32)num(o, "by_pid");
		if (by_comm)
			snprintf(e->actor_comm, TT_COMM_LEN, "%.15s", by_comm);
		if (e->actor_pid && conn > 0 && conn < MAX_CONNS &&
		    r->close[conn].by_pid == e->actor_pid && r->close[conn].exiting &&
		    (e->new_state == TT_TCP_FIN_WAIT1 || e->new_state == TT_TCP_CLOSE ||
		     e->new_state == TT_TCP_LAST_ACK)) {
			e->actor_flags = TT_ACTOR_EXITING;
			e->exit_code = r->close[conn].exit_code;
		}
		/* the peer's FIN had been received: what the JSON's received/time_wait say */
		if (e->new_state == TT_TCP_CLOSE && !is(str(o, "tw_state"), "FIN_WAIT2") &&
		    (num(o, "time_wait") || is(recv, "FIN") || is(recv, "FIN,ACK") ||
		     (e->old_state == TT_TCP_CLOSING && is(recv, "ACK"))))
			e->peer_fin = 1;
		if (num(o, "fin_wait2_dropped"))
			e->linger2_neg = 1;
	} else if (is(ev, "data")) {
		e->type = TT_EV_DATA;
		e->data.dir = is(dir, "out") ? TT_DIR_OUT : TT_DIR_IN;
		e->data.bytes = (__u64)num(o, "bytes");
		e->data.segs = (__u32)num(o, "segments");
	} else if (is(ev, "retransmit")) {
		e->type = TT_EV_RETRANSMIT;
		e->retrans.seq = (__u32)num(o, "seq");
		e->retrans.syn = num(o, "syn") != 0;
		e->retrans.count = (__u32)num(o, "count");
	} else if (is(ev, "keepalive_probe")) {
		e->type = TT_EV_KA_PROBE;
		e->ka_probe.dir = is(dir, "out") ? TT_DIR_OUT : TT_DIR_IN;
		e->ka_probe.n = (__u32)num(o, "n");
	} else if (is(ev, "keepalive_ack")) {
		e->type = TT_EV_KA_ACK;
		e->ka_ack.dir = is(dir, "out") ? TT_DIR_OUT : TT_DIR_IN;
		e->ka_ack.rtt_ns = (__u64)(num(o, "rtt_us") * 1000);
	} else if (is(ev, "rst")) {
		e->type = TT_EV_RST;
		e->rst.dir = is(dir, "out") ? TT_DIR_OUT : TT_DIR_IN;
		e->rst.reason = TT_RST_REASON_NONE;
	} else if (is(ev, "error")) {
		e->type = TT_EV_ERROR;
		e->error.err = (__u32)num(o, "errno");
	} else {
		return false;
	}
	return true;
}

/* --- replay and draw ------------------------------------------------------------------------ */

struct replay {
	const struct recording *rec;
	struct conn_table *table;
	struct ladder_queue *queue;
	FILE *out;
	struct html_page *html; /* also drawn here, when set */
	struct render_opts ropts;
	int drawn, late;
};

static void check_cause(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	struct replay *rp = ctx;

	/* the replayed records must lead to the cause the kernel run reported */
	if (ev->kind == TL_CLOSE && ev->conn < MAX_CONNS && rp->rec->close[ev->conn].cause[0])
		assert_string_equal(cause_name(ev->close.cause), rp->rec->close[ev->conn].cause);
}

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

static void replay_start(struct replay *rp, const struct recording *rec, FILE *out)
{
	struct conn_table_opts topts = {
		.max_open = 64,
		.max_closed = 64,
		.max_events_per_conn = 4096,
		.kernel_reports_errors = true,
		.sink = check_cause,
		.sink_ctx = rp,
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
	rp->rec = rec;
	rp->out = out;
	rp->table = conn_table_new(&topts);
	rp->queue = ladder_queue_new(rp->table, &qopts);
	assert_non_null(rp->table);
	assert_non_null(rp->queue);
}

static void replay_feed(struct replay *rp, int from, int to)
{
	for (int i = from; i < to && i < rp->rec->n; i++) {
		const struct obj *o = &rp->rec->ev[i];
		struct tt_event e;

		if (is(str(o, "event"), "existing")) {
			struct tl_endpoints ep = { .family = (uint8_t)num(o, "family") };

			addr(o, "laddr", ep.family, ep.laddr);
			addr(o, "raddr", ep.family, ep.raddr);
			ep.lport = (uint16_t)num(o, "lport");
			ep.rport = (uint16_t)num(o, "rport");
			conn_table_add_existing(rp->table, &ep, (uint8_t)state_num(str(o, "state")),
						(uint32_t)num(o, "pid"), str(o, "comm"),
						(uint64_t)num(o, "ts_ns"));
		} else if (to_raw(rp->rec, o, &e)) {
			conn_table_add_raw(rp->table, &e);
		}
	}
}

static void replay_end(struct replay *rp)
{
	ladder_queue_free(rp->queue);
	conn_table_free(rp->table);
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
	replay_start(&rp, &rec, out);
	replay_feed(&rp, 0, rec.n);
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

static void test_normal(void **state) { scenario("normal"); }
static void test_server_first(void **state) { scenario("server-first"); }
/* server-first.jsonl with the server's socket handed to a timewait socket in
 * FIN_WAIT2 when the client's ACK came alone, before its FIN: edited from the
 * recording to what a client that closes more than a delayed-ACK timeout
 * after the server's FIN shows (its ACK leaves on the timer, 40 ms later) */
static void test_server_first_fin_wait2(void **state) { scenario("server-first-fw2"); }
/* kill-server-idle.jsonl as today's kernel side reports the killed server's
 * socket (handed over in FIN_WAIT2, no FIN received; the recording predates
 * SOCK_DONE): the client never sends a FIN, so no TIME_WAIT is claimed */
static void test_kill_server_idle_fin_wait2(void **state) { scenario("kill-server-idle-fw2"); }
/* recorded with tests/integration/peer.py: the client sets TCP_LINGER2 -1,
 * sends 10 B and closes; the server ACKs the FIN late (delayed ACK) and
 * keeps its end open: the client's socket is dropped in FIN_WAIT2 and its
 * kernel answers that ACK with a reset */
static void test_fin_wait2_dropped(void **state) { scenario("fin-wait2-dropped"); }
static void test_client_exit(void **state) { scenario("client-exit"); }
static void test_kill_client(void **state) { scenario("kill-client"); }
static void test_kill_server_idle(void **state) { scenario("kill-server-idle"); }
static void test_keepalive(void **state) { scenario("keepalive"); }
static void test_refused(void **state) { scenario("refused"); }
static void test_half_close(void **state) { scenario("half-close"); }

/* --- the same scenarios as one HTML page ------------------------------------------------- */

/* Every recorded scenario, through the queue as the tracer runs it, into one
 * page: the golden tests/unit/golden/ladders.html (tests/html checks it is
 * well-formed and that a browser draws it). */
static void test_html_page(void **state)
{
	/* keepalive and kill-client first: with the index, every kind's colour
	 * is in tests/html's screenshot of the top of the page */
	static const char *const names[] = {
		"keepalive", "kill-client", "normal", "server-first", "client-exit",
		"kill-server-idle", "refused", "half-close", "fin-wait2-dropped",
		"server-first-fw2", "kill-server-idle-fw2",
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
		replay_start(&rp, &rec, NULL);
		rp.html = page;
		replay_feed(&rp, 0, rec.n);
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
	for (int i = 0; i < rec->n; i++)
		if (is(str(&rec->ev[i], "event"), "close") && num(&rec->ev[i], "rport"))
			return i;
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
	ts = (uint64_t)num(&rec.ev[first], "ts_ns");
	replay_start(&rp, &rec, out);
	replay_feed(&rp, 0, first + 1);
	/* the client closed; the server has not: held, even long after the grace */
	assert_int_equal(ladder_queue_pending(rp.queue), 1);
	ladder_queue_tick(rp.queue, ts + 1000000000ULL);
	assert_int_equal(rp.drawn, 0);
	replay_feed(&rp, first + 1, rec.n);
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
	ts = (uint64_t)num(&rec.ev[first], "ts_ns");
	replay_start(&rp, &rec, out);
	replay_feed(&rp, 0, first + 1);
	/* the server never closes in time: both drawn after the hold, the server as it is */
	ladder_queue_tick(rp.queue, ts + 2000000000ULL);
	assert_int_equal(rp.drawn, 1);
	fflush(out);
	assert_non_null(strstr(buf, "server: still "));
	/* its close, later, is one line, not a second diagram */
	replay_feed(&rp, first + 1, rec.n);
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
	replay_start(&rp, &rec, out);
	for (int i = 0; i < first; i++)
		if (is(str(&rec.ev[i], "event"), "state") &&
		    is(str(&rec.ev[i], "new"), "FIN_WAIT1"))
			first = i;
	replay_feed(&rp, 0, first);
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

static struct tt_event raw(uint64_t ts, int client, uint8_t type)
{
	struct tt_event e;

	memset(&e, 0, sizeof(e));
	e.ts_ns = ts;
	e.sk = client ? 0x1000 : 0x2000;
	e.birth_ns = 1;
	e.family = 4;
	e.saddr[0] = e.daddr[0] = 127;
	e.saddr[3] = e.daddr[3] = 1;
	e.lport = client ? 40000 : 9000;
	e.rport = client ? 9000 : 40000;
	e.type = type;
	e.owner_pid = client ? 100 : 200;
	strcpy(e.owner_comm, client ? "cli\033[31mhostile" : "srv");
	return e;
}

static struct tt_event raw_state(uint64_t ts, int client, int o, int n)
{
	struct tt_event e = raw(ts, client, TT_EV_STATE);

	e.old_state = (uint8_t)o;
	e.new_state = (uint8_t)n;
	return e;
}

static struct tt_event raw_data(uint64_t ts, int client, int dir, uint64_t bytes)
{
	struct tt_event e = raw(ts, client, TT_EV_DATA);

	e.data.dir = (uint8_t)dir;
	e.data.bytes = bytes;
	e.data.segs = 1;
	return e;
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

	e = raw_state(s, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
	e.actor_pid = 100;
	conn_table_add_raw(t, &e);
	e = raw_state(s + 1000, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	conn_table_add_raw(t, &e);
	for (int i = 0; i < 50; i++) {
		e = raw_data(s + 2000 + i, 1, TT_DIR_OUT, 1000);
		conn_table_add_raw(t, &e);
	}
	e = raw_data(s + 3000, 1, TT_DIR_IN, 4);
	conn_table_add_raw(t, &e);
	/* 30 s later */
	e = raw_state(s + 30000000000ULL, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1);
	e.actor_pid = 100;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_server_first),
		cmocka_unit_test(test_server_first_fin_wait2),
		cmocka_unit_test(test_kill_server_idle_fin_wait2),
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
	};

	return cmocka_run_group_tests_name("ladder", tests, NULL, NULL);
}
