// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The aggregation behind --summary and --metrics, and the Prometheus text
 * exposition format it is served in: label escaping, cumulative buckets
 * ending in +Inf == _count, _sum, bounded labels whatever the traffic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "conn_table.h"
#include "names.h"
#include "raw_builder.h"
#include "render_stats.h"
#include "stats.h"

static char *metrics_of(const struct stats *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	render_metrics(f, s, "1.2.3");
	fclose(f);
	return text;
}

/* The value of the sample line that starts with `series` (name{labels}), or -1. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, series, n) && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	return -1;
}

static size_t count_samples(const char *text, const char *prefix)
{
	size_t n = 0, plen = strlen(prefix);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (*l != '#' && !strncmp(l, prefix, plen))
			n++;
	return n;
}

static void mk_conn(struct conn *c, uint64_t id, uint8_t role, uint16_t lport, uint16_t rport,
		    uint32_t pid, const char *comm)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->role = role;
	c->ep.family = 4;
	c->ep.lport = lport;
	c->ep.rport = rport;
	c->pid = pid;
	if (comm)
		strncpy(c->comm, comm, TT_COMM_LEN - 1);
	c->first_ts = 1000;
}

static void state_ev(struct stats *s, struct conn *c, uint8_t old, uint8_t new, uint64_t ts)
{
	struct tl_event ev = { .kind = TL_STATE, .ts_ns = ts, .conn = c->id };

	ev.state.old_state = old;
	ev.state.new_state = new;
	stats_event(s, &ev, c);
}

static void close_ev(struct stats *s, struct conn *c, enum tl_cause cause, uint64_t dur)
{
	struct tl_event ev = { .kind = TL_CLOSE, .conn = c->id };

	ev.close.cause = cause;
	ev.close.duration_ns = dur;
	stats_event(s, &ev, c);
}

/* A client connection to rport: SYN, ESTABLISHED after hs_ns, closed after dur_ns. */
static void client_conn(struct stats *s, uint64_t id, uint16_t rport, const char *comm,
			uint64_t hs_ns, uint64_t dur_ns, enum tl_cause cause)
{
	struct conn c;

	mk_conn(&c, id, CONN_ROLE_CLIENT, (uint16_t)(40000 + id % 20000), rport, 100, comm);
	state_ev(s, &c, TT_TCP_CLOSE, TT_TCP_SYN_SENT, c.first_ts);
	state_ev(s, &c, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, c.first_ts + hs_ns);
	close_ev(s, &c, cause, dur_ns);
}

/* Stats with -P port: that port is labelled from its first connection. */
static struct stats *stats_for_port(uint16_t port)
{
	uint64_t bits[1024] = { 0 };

	bits[port >> 6] |= 1ULL << (port & 63);
	return stats_new(bits);
}

static void test_label_escaping(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	prom_label_value(f, "a\"b\\c\nd", 64);
	fputc('|', f);
	prom_label_value(f, "tab\there\x7f", 64);
	fputc('|', f);
	prom_label_value(f, "caf\xc3\xa9 \xff\xc3", 64);
	fputc('|', f);
	prom_label_value(f, "cut-at-n", 3);
	fclose(f);
	assert_string_equal(text, "a\\\"b\\\\c\\nd|tab?here?|caf\xc3\xa9 ??|cut");
	free(text);
}

static void test_comm_label_escaped_in_exposition(void **state)
{
	struct stats *s = stats_new(NULL);
	char *text;

	for (int i = 0; i < STATS_PROMOTE_AFTER; i++)
		client_conn(s, (uint64_t)i + 1, 443, "ev\"il\\", 1000, 1000000, CAUSE_APP_CLOSE);
	text = metrics_of(s);
	assert_true(sample(text, "tcptimeline_connections_opened_total{port=\"443\","
				 "comm=\"ev\\\"il\\\\\"}") == 1.0);
	free(text);
	stats_free(s);
}

static void test_histogram_cumulative(void **state)
{
	struct stats *s = stats_for_port(443);
	/* handshakes: 50 µs, 300 µs, 300 µs, 2 ms, 20 s (beyond the last bound) */
	uint64_t hs[] = { 50000, 300000, 300000, 2000000, 20000000000ULL };
	double prev = 0;
	char *text, line[256];

	for (int i = 0; i < 5; i++)
		client_conn(s, (uint64_t)i + 1, 443, "c", hs[i], 1000000, CAUSE_APP_CLOSE);
	text = metrics_of(s);
	assert_true(
		sample(text, "tcptimeline_handshake_seconds_bucket{port=\"443\",le=\"0.0001\"}") ==
		1);
	assert_true(
		sample(text, "tcptimeline_handshake_seconds_bucket{port=\"443\",le=\"0.00025\"}") ==
		1);
	assert_true(
		sample(text, "tcptimeline_handshake_seconds_bucket{port=\"443\",le=\"0.0005\"}") ==
		3);
	assert_true(
		sample(text, "tcptimeline_handshake_seconds_bucket{port=\"443\",le=\"0.0025\"}") ==
		4);
	assert_true(sample(text, "tcptimeline_handshake_seconds_bucket{port=\"443\",le=\"10\"}") ==
		    4);
	assert_true(sample(text,
			   "tcptimeline_handshake_seconds_bucket{port=\"443\",le=\"+Inf\"}") == 5);
	assert_true(sample(text, "tcptimeline_handshake_seconds_count{port=\"443\"}") == 5);
	/* 20.00265 s, exact to the ns */
	assert_non_null(strstr(text, "tcptimeline_handshake_seconds_sum{port=\"443\"} 20.00265\n"));
	/* every bucket at least the one before, in order of le */
	for (int b = 0; b < STATS_HS_BUCKETS; b++) {
		char le[32];
		uint64_t ns = stats_hs_bounds_ns[b];
		double v;

		snprintf(le, sizeof(le), "%.9g", (double)ns / 1e9);
		snprintf(line, sizeof(line),
			 "tcptimeline_handshake_seconds_bucket{port=\"443\",le=\"%s\"}", le);
		v = sample(text, line);
		assert_true(v >= prev);
		prev = v;
	}
	/* a boundary value falls in its own bucket (le is <=) */
	stats_free(s);
	free(text);
	s = stats_for_port(80);
	for (int i = 0; i < 4; i++)
		client_conn(s, (uint64_t)i + 1, 80, "c", 1000000, 1000000000, CAUSE_APP_CLOSE);
	text = metrics_of(s);
	assert_true(sample(text,
			   "tcptimeline_handshake_seconds_bucket{port=\"80\",le=\"0.001\"}") == 4);
	assert_true(sample(text,
			   "tcptimeline_handshake_seconds_bucket{port=\"80\",le=\"0.0005\"}") == 0);
	assert_true(
		sample(text,
		       "tcptimeline_connection_duration_seconds_bucket{port=\"80\",le=\"1\"}") ==
		4);
	assert_true(
		sample(text,
		       "tcptimeline_connection_duration_seconds_bucket{port=\"80\",le=\"0.5\"}") ==
		0);
	assert_non_null(
		strstr(text, "tcptimeline_connection_duration_seconds_sum{port=\"80\"} 4\n"));
	free(text);
	stats_free(s);
}

static void test_every_family_has_help_and_type(void **state)
{
	struct stats *s = stats_new(NULL);
	char *text = metrics_of(s);
	const char *fams[][2] = {
		{ "connections_opened_total", "counter" },
		{ "connections_closed_total", "counter" },
		{ "resets_total", "counter" },
		{ "retransmits_total", "counter" },
		{ "keepalive_probes_total", "counter" },
		{ "errors_total", "counter" },
		{ "lost_events_total", "counter" },
		{ "bytes_total", "counter" },
		{ "handshake_seconds", "histogram" },
		{ "connection_duration_seconds", "histogram" },
		{ "tracked_sockets", "gauge" },
		{ "build_info", "gauge" },
	};

	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		char want[128];

		snprintf(want, sizeof(want), "# TYPE tcptimeline_%s %s\n", fams[i][0], fams[i][1]);
		assert_non_null(strstr(text, want));
		snprintf(want, sizeof(want), "# HELP tcptimeline_%s ", fams[i][0]);
		assert_non_null(strstr(text, want));
	}
	assert_true(sample(text, "tcptimeline_build_info{version=\"1.2.3\"}") == 1);
	assert_true(sample(text, "tcptimeline_lost_events_total") == 0);
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	stats_free(s);
}

static void test_counts_by_cause_and_lost(void **state)
{
	struct stats *s = stats_new(NULL);
	struct tl_event lost = { .kind = TL_LOST };
	struct tl_row_check {
		enum tl_cause cause;
		int n;
	} want[] = {
		{ CAUSE_APP_CLOSE, 5 },
		{ CAUSE_REFUSED, 3 },
		{ CAUSE_KILLED, 2 },
	};
	uint64_t id = 1;
	char *text;

	for (size_t k = 0; k < 3; k++)
		for (int i = 0; i < want[k].n; i++)
			client_conn(s, id++, 9000, "peer", 10000, 10000, want[k].cause);
	lost.lost.count = 7;
	stats_event(s, &lost, NULL);
	stats_set_tracked(s, 42);
	text = metrics_of(s);
	/* the first STATS_PROMOTE_AFTER - 1 connections were counted under other */
	assert_true(sample(text,
			   "tcptimeline_connections_closed_total{cause=\"killed\",port=\"9000\","
			   "comm=\"peer\"}") == 2);
	assert_true(sample(text,
			   "tcptimeline_connections_closed_total{cause=\"refused\",port=\"9000\","
			   "comm=\"peer\"}") == 3);
	assert_true(sample(text,
			   "tcptimeline_connections_closed_total{cause=\"app_close\",port=\"9000\","
			   "comm=\"peer\"}") == 5 - (STATS_PROMOTE_AFTER - 1));
	assert_true(
		sample(text,
		       "tcptimeline_connections_closed_total{cause=\"app_close\",port=\"other\","
		       "comm=\"[other]\"}") == STATS_PROMOTE_AFTER - 1);
	assert_true(sample(text, "tcptimeline_lost_events_total") == 7);
	assert_true(sample(text, "tcptimeline_tracked_sockets") == 42);
	free(text);
	stats_free(s);
}

static void test_ports_given_label_at_once(void **state)
{
	uint64_t bits[1024] = { 0 };
	struct stats *s;
	char *text;

	bits[9000 >> 6] |= 1ULL << (9000 & 63);
	s = stats_new(bits);
	client_conn(s, 1, 9000, "a", 1000, 1000, CAUSE_APP_CLOSE);
	client_conn(s, 2, 9001, "a", 1000, 1000, CAUSE_APP_CLOSE);
	text = metrics_of(s);
	assert_true(sample(text, "tcptimeline_retransmits_total{port=\"9000\"}") == 0);
	assert_true(sample(text, "tcptimeline_handshake_seconds_count{port=\"9000\"}") == 1);
	assert_true(sample(text, "tcptimeline_handshake_seconds_count{port=\"other\"}") == 1);
	assert_true(sample(text, "tcptimeline_retransmits_total{port=\"9001\"}") == -1);
	free(text);
	stats_free(s);
}

static void test_which_port(void **state)
{
	struct stats *s = stats_new(NULL);
	struct conn c;
	struct tl_event ev = { .kind = TL_EXISTING };

	mk_conn(&c, 1, CONN_ROLE_CLIENT, 45000, 443, 1, "x");
	assert_int_equal(stats_conn_port(s, &c), 443);
	mk_conn(&c, 1, CONN_ROLE_SERVER, 8080, 51000, 1, "x");
	assert_int_equal(stats_conn_port(s, &c), 8080);
	/* unknown end: the lower port, until something is seen listening */
	mk_conn(&c, 1, CONN_ROLE_UNKNOWN, 40000, 50000, 1, "x");
	assert_int_equal(stats_conn_port(s, &c), 40000);
	mk_conn(&c, 2, CONN_ROLE_UNKNOWN, 50000, 0, 1, "x");
	ev.existing.state = TT_TCP_LISTEN;
	stats_event(s, &ev, &c);
	mk_conn(&c, 1, CONN_ROLE_UNKNOWN, 40000, 50000, 1, "x");
	assert_int_equal(stats_conn_port(s, &c), 50000);
	stats_free(s);
}

/* Thousands of connections to thousands of ports from as many process
 * names: the labels stop at their bounds, everything else is "other". */
static void test_labels_bounded(void **state)
{
	struct stats *s = stats_new(NULL);
	uint64_t id = 1, total = 0;
	char *text, comm[16];

	for (int p = 0; p < 3000; p++) {
		snprintf(comm, sizeof(comm), "tool%d", p);
		for (int i = 0; i < 5; i++) {
			client_conn(s, id++, (uint16_t)(1000 + p), comm, 1000, 1000,
				    CAUSE_APP_CLOSE);
			total++;
		}
	}
	text = metrics_of(s);
	assert_int_equal(s->n_ports, STATS_MAX_PORTS);
	assert_int_equal(s->n_comms, STATS_MAX_COMMS);
	/* per-port families: the labelled ports and other */
	assert_int_equal(count_samples(text, "tcptimeline_retransmits_total{"),
			 STATS_MAX_PORTS + 1);
	assert_true(count_samples(text, "tcptimeline_connections_opened_total{") <=
		    (STATS_MAX_PORTS + 1) * (STATS_MAX_COMMS + 2));
	/* the counts add up all the same */
	{
		struct stats_row t;

		stats_total(s, &t);
		assert_int_equal(t.opened, total);
		assert_int_equal(t.closed[CAUSE_APP_CLOSE], total);
	}
	free(text);
	stats_free(s);
}

static void test_quantiles(void **state)
{
	struct stats_hist h;
	uint64_t p50, p99;
	struct stats *s = stats_for_port(443);

	/* 1..100 ms through the public path */
	for (int i = 1; i <= 100; i++)
		client_conn(s, (uint64_t)i, 443, "q", 1000, (uint64_t)i * 1000000, CAUSE_APP_CLOSE);
	h = s->port_rows[0].duration;
	p50 = stats_hist_quantile_ns(&h, 0.5);
	p99 = stats_hist_quantile_ns(&h, 0.99);
	/* the bucket's upper bound: at most 1/8 above, never below */
	assert_true(p50 >= 50000000ULL - 1000000ULL && p50 <= 50000000ULL * 9 / 8 + 1000000ULL);
	assert_true(p99 >= 99000000ULL - 1000000ULL && p99 <= 99000000ULL * 9 / 8 + 1000000ULL);
	memset(&h, 0, sizeof(h));
	assert_int_equal(stats_hist_quantile_ns(&h, 0.5), 0);
	stats_free(s);
}

static void test_resets_errors_bytes(void **state)
{
	uint64_t bits[1024] = { 0 };
	struct stats *s;
	struct conn c;
	struct tl_event ev;
	char *text;

	bits[7000 >> 6] |= 1ULL << (7000 & 63);
	s = stats_new(bits);
	rst_reason_register(3, "ABORT_ON_CLOSE");
	mk_conn(&c, 1, CONN_ROLE_SERVER, 7000, 50000, 5, "srv");
	state_ev(s, &c, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 1000);
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_RST;
	ev.rst.dir = TT_DIR_OUT;
	ev.rst.reason = 3;
	stats_event(s, &ev, &c);
	ev.rst.dir = TT_DIR_IN;
	ev.rst.reason = TT_RST_REASON_NONE;
	stats_event(s, &ev, &c);
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_ERROR;
	ev.error.err = 104;
	stats_event(s, &ev, &c);
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_DATA;
	ev.data.dir = TT_DIR_OUT;
	ev.data.bytes = 1234;
	stats_event(s, &ev, &c);
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_KA_PROBE;
	ev.ka_probe.dir = TT_DIR_OUT;
	stats_event(s, &ev, &c);
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_RETRANSMIT;
	stats_event(s, &ev, &c);
	ev.retrans.err = -11; /* failed: not a retransmit that left */
	stats_event(s, &ev, &c);
	text = metrics_of(s);
	assert_true(sample(text, "tcptimeline_resets_total{port=\"7000\",dir=\"out\","
				 "reason=\"ABORT_ON_CLOSE\"}") == 1);
	assert_true(sample(text,
			   "tcptimeline_resets_total{port=\"7000\",dir=\"in\",reason=\"none\"}") ==
		    1);
	assert_true(sample(text, "tcptimeline_errors_total{port=\"7000\",name=\"ECONNRESET\"}") ==
		    1);
	assert_true(sample(text, "tcptimeline_bytes_total{port=\"7000\",dir=\"out\"}") == 1234);
	assert_true(sample(text, "tcptimeline_bytes_total{port=\"7000\",dir=\"in\"}") == 0);
	assert_true(sample(text, "tcptimeline_keepalive_probes_total{port=\"7000\",dir=\"out\"}") ==
		    1);
	assert_true(sample(text, "tcptimeline_retransmits_total{port=\"7000\"}") == 1);
	assert_true(sample(text, "tcptimeline_connections_opened_total{port=\"7000\","
				 "comm=\"[other]\"}") == 1);
	free(text);
	rst_reasons_clear();
	stats_free(s);
}

static void test_listeners_are_not_connections(void **state)
{
	struct stats *s = stats_new(NULL);
	struct conn l;
	struct stats_row t;

	mk_conn(&l, 1, CONN_ROLE_LISTENER, 8000, 0, 1, "srv");
	state_ev(s, &l, TT_TCP_CLOSE, TT_TCP_LISTEN, 1000);
	close_ev(s, &l, CAUSE_APP_CLOSE, 5000);
	stats_total(s, &t);
	assert_int_equal(t.opened, 0);
	assert_int_equal(t.closed[CAUSE_APP_CLOSE], 0);
	stats_free(s);
}

static void drop_ev(struct stats *s, struct conn *c, uint8_t dir, uint32_t reason)
{
	struct tl_event ev = { .kind = TL_DROP, .conn = c->id };

	ev.drop.dir = dir;
	ev.drop.reason = reason;
	ev.drop.listener = c->role == CONN_ROLE_LISTENER;
	stats_event(s, &ev, c);
}

/* Every drop event counts once, by reason (a listener's too); more reasons
 * than a row keeps go to "other"; the exposition, the table and the JSON
 * summary say the same. */
static void test_drops_by_reason(void **state)
{
	struct stats *s = stats_for_port(7000);
	struct render_opts o = { 0 };
	struct conn c, l;
	struct stats_row t;
	char *text = NULL, *table = NULL;
	size_t len = 0;
	FILE *f;

	drop_reason_register(12, "NETFILTER_DROP");
	drop_reason_register(40, "TCP_LISTEN_OVERFLOW");
	mk_conn(&c, 1, CONN_ROLE_SERVER, 7000, 50000, 5, "srv");
	mk_conn(&l, 2, CONN_ROLE_LISTENER, 7000, 0, 5, "srv");
	state_ev(s, &c, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 1000);
	for (int i = 0; i < 3; i++)
		drop_ev(s, &c, TT_DIR_IN, 12);
	drop_ev(s, &c, TT_DIR_OUT, TT_DROP_REASON_NONE);
	drop_ev(s, &l, TT_DIR_IN, 40);
	drop_ev(s, &l, TT_DIR_IN, 40);
	/* reasons beyond the row's table: counted, as other */
	for (uint32_t k = 0; k < STATS_MAX_DROP_REASONS; k++)
		drop_ev(s, &c, TT_DIR_IN, 100 + k);
	stats_total(s, &t);
	assert_int_equal(t.drops, 6 + STATS_MAX_DROP_REASONS);
	assert_int_equal(t.opened, 1); /* the listener's drops opened nothing */

	text = metrics_of(s);
	assert_true(
		sample(text, "tcptimeline_drops_total{port=\"7000\",reason=\"NETFILTER_DROP\"}") ==
		3);
	assert_true(sample(text, "tcptimeline_drops_total{port=\"7000\",reason=\"none\"}") == 1);
	assert_true(sample(text, "tcptimeline_drops_total{port=\"7000\","
				 "reason=\"TCP_LISTEN_OVERFLOW\"}") == 2);
	/* 3 reasons known above, so all but 3 of the new ones fit; unnamed ones by number */
	assert_true(sample(text, "tcptimeline_drops_total{port=\"7000\",reason=\"100\"}") == 1);
	assert_true(sample(text, "tcptimeline_drops_total{port=\"7000\",reason=\"other\"}") == 3);
	assert_int_equal(count_samples(text, "tcptimeline_drops_total{"),
			 STATS_MAX_DROP_REASONS + 1);
	free(text);

	f = open_memstream(&table, &len);
	render_summary_text(f, s, 1000000000ULL, true);
	fclose(f);
	assert_non_null(strstr(table, " retrans  drops "));
	assert_non_null(
		strstr(table, "      drops: NETFILTER_DROP 3, none 1, TCP_LISTEN_OVERFLOW 2,"));
	assert_non_null(strstr(table, ", other 3\n"));
	free(table);

	text = NULL;
	f = open_memstream(&text, &len);
	render_summary_json(f, s, 5000000000ULL, 5000000000ULL, true, &o);
	fclose(f);
	assert_non_null(strstr(text, "\"drops\":30,\"drop_reasons\":{\"NETFILTER_DROP\":3,"
				     "\"none\":1,\"TCP_LISTEN_OVERFLOW\":2,\"100\":1,"));
	assert_non_null(strstr(text, ",\"other\":3}"));
	free(text);
	drop_reasons_clear();
	stats_free(s);
}

/* A stall counts once, at its zero, by direction: metrics, table, JSON. */
static void test_window_stalls(void **state)
{
	struct stats *s = stats_for_port(7000);
	struct render_opts o = { 0 };
	struct tl_event ev = { .kind = TL_WINDOW };
	struct conn c;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	mk_conn(&c, 1, CONN_ROLE_SERVER, 7000, 50000, 5, "srv");
	state_ev(s, &c, TT_TCP_LISTEN, TT_TCP_SYN_RECV, 1000);
	ev.window.dir = TT_DIR_IN;
	stats_event(s, &ev, &c);
	ev.window.open = true;
	stats_event(s, &ev, &c);
	ev.window.dir = TT_DIR_OUT;
	ev.window.open = false;
	stats_event(s, &ev, &c);
	ev.window.dir = TT_DIR_IN;
	stats_event(s, &ev, &c);
	text = metrics_of(s);
	assert_true(sample(text, "tcptimeline_window_stalls_total{port=\"7000\",dir=\"in\"}") == 2);
	assert_true(sample(text, "tcptimeline_window_stalls_total{port=\"7000\",dir=\"out\"}") ==
		    1);
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	render_summary_text(f, s, 1000000000ULL, true);
	fclose(f);
	assert_non_null(strstr(text, " drops stalls "));
	assert_non_null(strstr(
		text, "  7000                   1       0      0      0       0      0      3 "));
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	render_summary_json(f, s, 5000000000ULL, 5000000000ULL, true, &o);
	fclose(f);
	assert_non_null(strstr(text, "\"window_stalls_in\":2,\"window_stalls_out\":1,"));
	free(text);
	stats_free(s);
}

static void test_summary_json_line(void **state)
{
	struct stats *s = stats_new(NULL);
	struct render_opts o = { 0 };
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	for (int i = 0; i < 5; i++)
		client_conn(s, (uint64_t)i + 1, 443, "web", 1000, 2000000, CAUSE_REFUSED);
	f = open_memstream(&text, &len);
	render_summary_json(f, s, 5000000000ULL, 5000000000ULL, true, &o);
	fclose(f);
	/* one line, the event name first, the port row with its counts */
	assert_ptr_equal(strchr(text, '\n'), text + len - 1);
	assert_int_equal(strncmp(text, "{\"event\":\"summary\",", 19), 0);
	assert_non_null(strstr(text, "\"final\":true"));
	assert_non_null(
		strstr(text, "{\"port\":443,\"opened\":2,\"closed\":2,\"causes\":{\"refused\":2}"));
	assert_non_null(strstr(text, "{\"port\":\"other\",\"opened\":3,"));
	assert_non_null(strstr(text, "{\"comm\":\"web\",\"opened\":2,"));
	free(text);
	stats_free(s);
}

static const struct stats_row *comm_row(const struct stats *s, const char *comm)
{
	for (uint32_t i = 0; i < s->n_comms; i++)
		if (!strcmp(stats_comm_label(s, i), comm))
			return &s->comm_rows[i];
	return NULL;
}

/* A socket's rows are looked up once (conn.stats_pi): when its owner
 * changes name (exec) the table forgets them, and the later events count
 * under the new name. */
static void test_owner_renamed_moves_rows(void **state)
{
	struct stats *s = stats_for_port(9000);
	struct conn_table_opts o = { .max_open = 16,
				     .max_closed = 16,
				     .max_events_per_conn = 100,
				     .kernel_reports_errors = true,
				     .sink = stats_sink,
				     .sink_ctx = s };
	struct conn_table *t = conn_table_new(&o);
	struct tt_event e;

	for (int i = 0; i < STATS_PROMOTE_AFTER; i++) {
		client_conn(s, (uint64_t)i + 100, 9000, "old", 1000, 1000000, CAUSE_APP_CLOSE);
		client_conn(s, (uint64_t)i + 200, 9000, "new", 1000, 1000000, CAUSE_APP_CLOSE);
	}
	e = raw_state(CLIENT_SK, 1000, 1000, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);
	raw_owner(&e, 4121, "old");
	conn_table_add_raw(t, &e);
	e = raw_state(CLIENT_SK, 1000, 2000, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	raw_owner(&e, 4121, "old");
	conn_table_add_raw(t, &e);
	e = raw_data(CLIENT_SK, 1000, 3000, 1, TT_DIR_OUT, 29);
	raw_owner(&e, 4121, "old");
	conn_table_add_raw(t, &e);
	e = raw_data(CLIENT_SK, 1000, 4000, 1, TT_DIR_OUT, 5);
	raw_owner(&e, 4121, "new");
	conn_table_add_raw(t, &e);
	assert_non_null(comm_row(s, "old"));
	assert_non_null(comm_row(s, "new"));
	assert_int_equal(comm_row(s, "old")->opened, 2); /* its SYN, and the 4th that labelled it */
	assert_int_equal(comm_row(s, "old")->bytes[1], 29);
	assert_int_equal(comm_row(s, "new")->bytes[1], 5);
	assert_int_equal(s->port_rows[0].bytes[1], 34);
	conn_table_free(t);
	stats_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_comm_label_escaped_in_exposition),
		cmocka_unit_test(test_histogram_cumulative),
		cmocka_unit_test(test_every_family_has_help_and_type),
		cmocka_unit_test(test_counts_by_cause_and_lost),
		cmocka_unit_test(test_ports_given_label_at_once),
		cmocka_unit_test(test_which_port),
		cmocka_unit_test(test_labels_bounded),
		cmocka_unit_test(test_quantiles),
		cmocka_unit_test(test_resets_errors_bytes),
		cmocka_unit_test(test_listeners_are_not_connections),
		cmocka_unit_test(test_drops_by_reason),
		cmocka_unit_test(test_window_stalls),
		cmocka_unit_test(test_summary_json_line),
		cmocka_unit_test(test_owner_renamed_moves_rows),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
