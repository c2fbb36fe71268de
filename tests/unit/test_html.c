// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The HTML page: hostile process names escaped, what is cut said on the
 * page, idle gaps folded, kinds coloured. The recorded scenarios' page is a
 * golden file (test_ladder); tests/html checks it with xmllint and chromium.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "conn_table.h"
#include "raw_builder.h"
#include "render_html.h"
#include "text.h"

#define S 1000000000ULL

static struct conn_table *table(void)
{
	struct conn_table_opts o = { .max_open = 2048,
				     .max_closed = 2048,
				     .max_events_per_conn = 8192 };
	struct conn_table *t = conn_table_new(&o);

	assert_non_null(t);
	return t;
}

/* a client socket (its peer elsewhere) that connects at ts */
static void connect_at(struct conn_table *t, __u64 sk, __u64 ts, const char *comm)
{
	struct tt_event e = raw_state(sk, 1, ts, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT);

	raw_owner(&e, 100, comm);
	raw_actor(&e, 100, comm, 0, 0);
	conn_table_add_raw(t, &e);
	e = raw_state(sk, 1, ts + 1000, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	raw_owner(&e, 100, comm);
	conn_table_add_raw(t, &e);
}

static char *page_of(struct html_page *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(html_page_write(p, f, "a <test> & \"that\""), 0);
	fclose(f);
	return buf;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

static void test_escaped(void **state)
{
	struct conn_table *t = table();
	struct html_page *p = html_page_new();
	char *page;

	connect_at(t, CLIENT_SK, S, "<script>&\"x'\033");
	html_page_add(p, conn_table_find_id(t, 1), NULL);
	page = page_of(p);
	/* the name, escaped, in the index, the heading and the SVG's title */
	assert_null(strstr(page, "<script>"));
	assert_null(strchr(page, '\033'));
	assert_int_equal(count(page, "&lt;script&gt;&amp;&quot;x&#39;?"), 3);
	assert_non_null(strstr(page, "a &lt;test&gt; &amp; &quot;that&quot;"));
	/* one SVG, one index row linking to it */
	assert_int_equal(count(page, "<svg "), 1);
	assert_int_equal(count(page, "</svg>"), 1);
	assert_non_null(strstr(page, "<a href=\"#ladder-1\">1</a>"));
	assert_non_null(strstr(page, "id=\"ladder-1\""));
	/* nothing fetched: no URL anywhere but the SVG and XHTML namespaces */
	assert_int_equal(count(page, "http"), 2);
	assert_null(strstr(page, "<script"));
	free(page);
	html_page_free(p);
	conn_table_free(t);
}

static void test_xml_escape(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	/* controls and invalid UTF-8 become U+FFFD; valid UTF-8 passes */
	xml_write_escaped(f,
			  "a\001b\xff"
			  "caf\xc3\xa9<",
			  64);
	fclose(f);
	assert_string_equal(buf, "a\xef\xbf\xbd"
				 "b\xef\xbf\xbd"
				 "caf\xc3\xa9&lt;");
	free(buf);
}

/* keepalives for an hour, one probe and its ACK every 75 s, then a long
 * idle gap: the gap folded, every row drawn, kinds coloured */
static void test_idle_and_kinds(void **state)
{
	struct conn_table *t = table();
	struct html_page *p = html_page_new();
	struct tt_event e;
	char *page;
	__u64 ts = S;

	connect_at(t, CLIENT_SK, ts, "cli");
	for (int i = 0; i < 4; i++) {
		ts += 75 * S;
		e = raw_base(CLIENT_SK, 1, TT_EV_KA_PROBE, ts, 1);
		e.ka_probe.dir = TT_DIR_OUT;
		conn_table_add_raw(t, &e);
	}
	e = raw_base(CLIENT_SK, 1, TT_EV_RETRANSMIT, ts + S, 1);
	e.retrans.err = -105; /* ENOBUFS: the segment never left */
	conn_table_add_raw(t, &e);
	html_page_add(p, conn_table_find_id(t, 1), NULL);
	page = page_of(p);
	assert_int_equal(count(page, "s idle …"), 4);
	assert_non_null(strstr(page, "… 75.0 s idle …"));
	assert_int_equal(count(page, "<g class=\"keepalive\">"), 4);
	assert_int_equal(count(page, "<g class=\"handshake\">"), 3);
	assert_int_equal(count(page, "<g class=\"drop\">"), 1);
	assert_non_null(strstr(page, "failed: ENOBUFS"));
	assert_non_null(strstr(page, "keepalive probe #4"));
	assert_non_null(strstr(page, "still open after"));
	free(page);
	html_page_free(p);
	conn_table_free(t);
}

/* a dropped segment from the client's side (127.0.0.1:49306 -> :9000) */
static void drop_at(struct conn_table *t, __u64 ts, __u8 flags, __u32 bytes)
{
	struct tt_drop d;

	memset(&d, 0, sizeof(d));
	d.rec = TT_REC_DROP;
	d.ts_ns = ts;
	d.reason = TT_DROP_REASON_NONE;
	d.sk = CLIENT_SK; /* still its sender's */
	d.family = 4;
	d.saddr[0] = d.daddr[0] = 127;
	d.saddr[3] = d.daddr[3] = 1;
	d.sport = 49306;
	d.dport = 9000;
	d.flags = flags;
	d.bytes = bytes;
	conn_table_add_drop(t, &d);
}

/* As the text ladder draws them: a dropped SYN and a dropped run of data
 * stop short of the receiver (the drop kind), and the middle of a story cut
 * to the per-connection limit is a band saying how many events were not
 * kept, where they were. */
static void test_drops_and_cuts(void **state)
{
	struct conn_table_opts o = { .max_open = 16, .max_closed = 16, .max_events_per_conn = 16 };
	struct conn_table *t = conn_table_new(&o);
	struct html_page *p = html_page_new();
	struct tt_event e;
	const char *cut;
	char *page;

	assert_non_null(t);
	connect_at(t, CLIENT_SK, S, "cli");
	drop_at(t, S + 10, 0x02, 0); /* the SYN connect_at's SYN_SENT sent */
	drop_at(t, S + 5000, 0x18, 500);
	/* a long story to cut: data both ways in turn (keepalive probes alike
	 * would be folded into one run while held, and not cut) */
	for (int i = 0; i < 40; i++) {
		e = raw_data(CLIENT_SK, 1, S + (__u64)(i + 1) * S, 1,
			     i % 2 ? TT_DIR_IN : TT_DIR_OUT, 16);
		conn_table_add_raw(t, &e);
	}
	assert_true(conn_table_find_id(t, 1)->events_dropped > 0);
	html_page_add(p, conn_table_find_id(t, 1), NULL);
	page = page_of(p);
	assert_int_equal(count(page, "<g class=\"drop\">"), 2);
	assert_non_null(strstr(page, ">SYN</text></g>"));
	assert_non_null(strstr(page, ">DATA 500 B</text></g>"));
	assert_int_equal(count(page, "dropped: reason unknown"), 2);
	cut = strstr(page, "<g class=\"cut\">");
	assert_non_null(cut);
	assert_non_null(strstr(cut, " client events not kept …</text></g>"));
	assert_int_equal(count(page, "<g class=\"cut\">"), 1);
	free(page);
	html_page_free(p);
	conn_table_free(t);
}

/* thousands of rows: HTML_MAX_ROWS drawn, the rest counted on the page */
static void test_rows_bounded(void **state)
{
	struct conn_table *t = table();
	struct html_page *p = html_page_new();
	struct tt_event e;
	char *page, want[96];
	int n = HTML_MAX_ROWS + 500;

	connect_at(t, CLIENT_SK, S, "cli");
	for (int i = 0; i < n; i++) {
		e = raw_base(CLIENT_SK, 1, TT_EV_KA_PROBE, S + (__u64)(i + 1) * 1000000, 1);
		e.ka_probe.dir = TT_DIR_OUT;
		conn_table_add_raw(t, &e);
	}
	html_page_add(p, conn_table_find_id(t, 1), NULL);
	page = page_of(p);
	/* three handshake rows (SYN, SYN,ACK, ACK) and n probes: all but HTML_MAX_ROWS cut */
	snprintf(want, sizeof(want), "… %d more rows not drawn (a ladder keeps %d) …",
		 n + 3 - HTML_MAX_ROWS, HTML_MAX_ROWS);
	assert_non_null(strstr(page, want));
	assert_int_equal(count(page, "<g class=\"keepalive\">"), HTML_MAX_ROWS - 3);
	/* the summary still counts every probe */
	snprintf(want, sizeof(want), "%d keepalive probes", n);
	assert_non_null(strstr(page, want));
	free(page);
	html_page_free(p);
	conn_table_free(t);
}

/* more connections than the page keeps: the rest counted at the top */
static void test_ladders_bounded(void **state)
{
	struct conn_table *t = table();
	struct html_page *p = html_page_new();
	char *page, want[96];
	int n = HTML_MAX_LADDERS + 7;

	for (int i = 0; i < n; i++) {
		connect_at(t, CLIENT_SK + (__u64)i * 0x100, S + (__u64)i * 10000, "cli");
		html_page_add(p, conn_table_find_id(t, (uint64_t)i + 1), NULL);
	}
	page = page_of(p);
	assert_int_equal(count(page, "<svg "), HTML_MAX_LADDERS);
	snprintf(want, sizeof(want), "7 connections not drawn: the page keeps %d",
		 HTML_MAX_LADDERS);
	assert_non_null(strstr(page, want));
	snprintf(want, sizeof(want), "tcptimeline: %d connections", n);
	assert_non_null(strstr(page, want));
	free(page);
	html_page_free(p);
	conn_table_free(t);
}

/* an end that closed after its ladder was drawn: listed under the index */
static void test_late(void **state)
{
	struct conn_table *t = table();
	struct html_page *p = html_page_new();
	char *page;

	connect_at(t, CLIENT_SK, S, "late<one>");
	html_page_add(p, conn_table_find_id(t, 1), NULL);
	html_page_late(p, conn_table_find_id(t, 1));
	page = page_of(p);
	assert_non_null(strstr(page, "<h2>Closed after their ladder was drawn</h2>"));
	assert_non_null(strstr(page, "<li>#1 127.0.0.1:49306 (late&lt;one&gt; 100) closed after "));
	assert_non_null(strstr(page, "after its ladder was drawn: unknown [unknown]</li>"));
	free(page);
	html_page_free(p);
	conn_table_free(t);
}

static void test_empty(void **state)
{
	struct html_page *p = html_page_new();
	char *page = page_of(p);

	assert_non_null(strstr(page, "No connection was seen."));
	assert_null(strstr(page, "<svg"));
	assert_non_null(strstr(page, "</html>\n"));
	free(page);
	html_page_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaped),		cmocka_unit_test(test_xml_escape),
		cmocka_unit_test(test_idle_and_kinds),	cmocka_unit_test(test_rows_bounded),
		cmocka_unit_test(test_ladders_bounded), cmocka_unit_test(test_late),
		cmocka_unit_test(test_empty),		cmocka_unit_test(test_drops_and_cuts),
	};

	return cmocka_run_group_tests_name("html", tests, NULL, NULL);
}
