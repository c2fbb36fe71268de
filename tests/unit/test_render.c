// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Renderers: the JSON Lines contract, field by field, and the text line. */
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
#include <arpa/inet.h>
#include "addr.h"
#include "names.h"
#include "render.h"

static char out[4096];
static const struct render_opts ropts = {
	.realtime_offset_ns = 1795000000000000000LL, /* 2026-11-18T... */
	.start_ns = 1000000000ULL,
};

static const char *json(const struct tl_event *ev)
{
	FILE *f = fmemopen(out, sizeof(out), "w");

	render_json(f, ev, &ropts);
	fclose(f);
	return out;
}

static const char *text(const struct tl_event *ev, bool color)
{
	FILE *f = fmemopen(out, sizeof(out), "w");
	struct render_opts o = ropts;

	o.color = color;
	render_text(f, ev, &o);
	fclose(f);
	return out;
}

static struct tl_event base(enum tl_kind k)
{
	struct tl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = k;
	ev.ts_ns = 1310000000ULL;
	ev.conn = 3;
	ev.ep.family = 4;
	ev.ep.laddr[0] = ev.ep.raddr[0] = 127;
	ev.ep.laddr[3] = ev.ep.raddr[3] = 1;
	ev.ep.lport = 49306;
	ev.ep.rport = 9000;
	ev.pid = 4121;
	strcpy(ev.comm, "demo-client");
	return ev;
}

#define HAS(s, sub)                                           \
	do {                                                  \
		if (!strstr((s), (sub)))                      \
			fail_msg("%s\nlacks %s", (s), (sub)); \
	} while (0)

static void test_common_fields(void **state)
{
	struct tl_event ev = base(TL_DATA);
	const char *j;

	ev.data.dir = TT_DIR_OUT;
	ev.data.bytes = 29;
	ev.data.segs = 1;
	j = json(&ev);
	static const char head[] =
		"{\"event\":\"data\",\"ts_ns\":1310000000,\"time\":\"2026-11-18T11:06:41.310000Z\",";

	assert_true(strncmp(j, head, strlen(head)) == 0);
	HAS(j, "\"conn\":3,\"family\":4,\"laddr\":\"127.0.0.1\",\"lport\":49306");
	HAS(j, "\"raddr\":\"127.0.0.1\",\"rport\":9000,\"pid\":4121,\"comm\":\"demo-client\"");
	HAS(j, "\"dir\":\"out\",\"bytes\":29,\"segments\":1}\n");
	/* exactly one line */
	assert_ptr_equal(strchr(j, '\n'), j + strlen(j) - 1);
}

static void test_time_is_rfc3339_utc_micro(void **state)
{
	char buf[40];

	format_rfc3339(1795000001310123456LL, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-18T11:06:41.310123Z");
}

static void test_unknown_owner_is_null(void **state)
{
	struct tl_event ev = base(TL_STATE);

	ev.pid = 0;
	ev.state.old_state = TT_TCP_ESTABLISHED;
	ev.state.new_state = TT_TCP_CLOSE_WAIT;
	ev.state.sent = "ACK";
	ev.state.received = "FIN";
	HAS(json(&ev), "\"pid\":null,\"comm\":null");
	HAS(out,
	    "\"old\":\"ESTABLISHED\",\"new\":\"CLOSE_WAIT\",\"sent\":\"ACK\",\"received\":\"FIN\"");
}

static void test_state_without_segments(void **state)
{
	struct tl_event ev = base(TL_STATE);

	ev.state.old_state = TT_TCP_SYN_SENT;
	ev.state.new_state = TT_TCP_CLOSE;
	HAS(json(&ev), "\"sent\":null,\"received\":null");
}

static void test_every_kind(void **state)
{
	struct tl_event ev;

	ev = base(TL_RETRANSMIT);
	ev.retrans.seq = 12345;
	ev.retrans.syn = true;
	ev.retrans.count = 2;
	HAS(json(&ev), "\"event\":\"retransmit\"");
	HAS(out, "\"seq\":12345,\"syn\":true,\"count\":2");

	ev = base(TL_KA_PROBE);
	ev.ka_probe.dir = TT_DIR_IN;
	ev.ka_probe.n = 2;
	HAS(json(&ev), "\"event\":\"keepalive_probe\"");
	HAS(out, "\"dir\":\"in\",\"n\":2");

	ev = base(TL_KA_ACK);
	ev.ka_ack.dir = TT_DIR_IN;
	ev.ka_ack.rtt_ns = 41000;
	HAS(json(&ev), "\"event\":\"keepalive_ack\",");
	HAS(out, "\"dir\":\"in\",\"rtt_us\":41,\"rtt_ns\":41000}");
	ev.ka_ack.rtt_ns = 0;
	HAS(json(&ev), "\"rtt_us\":null");
	ev.ka_ack.inferred = true; /* read from the socket later: CLOSE_WAIT and the like */
	HAS(json(&ev), "\"rtt_us\":null,\"inferred\":true}");
	ev.ka_ack.inferred = false;

	ev = base(TL_DATA);
	ev.data.dir = TT_DIR_OUT;
	ev.data.bytes = 5;
	ev.data.segs = 1;
	ev.data.inferred = true; /* stamped when noticed */
	HAS(json(&ev), "\"dir\":\"out\",\"bytes\":5,\"segments\":1,\"inferred\":true}");

	ev = base(TL_RST);
	ev.rst.dir = TT_DIR_OUT;
	ev.rst.reason = TT_RST_REASON_NONE;
	HAS(json(&ev), "\"dir\":\"out\",\"reason\":null,\"by_pid\":null,\"by_comm\":null}");
	/* a reset sent by a task being killed: who, and how it was exiting */
	ev.rst.actor.pid = 77;
	strcpy(ev.rst.actor.comm, "victim");
	ev.rst.actor.exiting = true;
	ev.rst.actor.exit_code = SIGKILL;
	HAS(json(&ev), "\"by_pid\":77,\"by_comm\":\"victim\",\"by_exit_status\":9}");
	ev.rst.actor.pid = 0;
	rst_reason_register(7, "ABORT_ON_CLOSE");
	ev.rst.reason = 7;
	HAS(json(&ev), "\"reason\":\"ABORT_ON_CLOSE\"");
	rst_reasons_clear();

	ev = base(TL_ERROR);
	ev.error.err = EPIPE;
	HAS(json(&ev), "\"errno\":32,\"name\":\"EPIPE\"");

	ev = base(TL_EXISTING);
	ev.existing.state = TT_TCP_ESTABLISHED;
	HAS(json(&ev), "\"event\":\"existing\"");
	HAS(out, "\"state\":\"ESTABLISHED\"");

	ev = base(TL_LOST);
	ev.conn = 0;
	ev.lost.count = 17;
	HAS(json(&ev), "\"event\":\"lost\"");
	HAS(out, "\"conn\":null");
	HAS(out, "\"count\":17");
}

static void test_close(void **state)
{
	struct tl_event ev = base(TL_CLOSE);

	ev.close.cause = CAUSE_KILLED;
	ev.close.signal = SIGKILL;
	ev.close.exit_code = -1;
	ev.close.by.pid = 4121;
	strcpy(ev.close.by.comm, "demo-client");
	ev.close.duration_ns = 9872000000ULL;
	ev.close.bytes_in = 4;
	ev.close.bytes_out = 29;
	ev.close.retransmits = 0;
	ev.close.keepalives = 1;
	ev.close.srtt_us = 1234;
	ev.close.min_rtt_us = TT_RTT_NONE;
	HAS(json(&ev),
	    "\"cause\":\"killed\",\"by_pid\":4121,\"by_comm\":\"demo-client\",\"signal\"");
	ev.close.by.exiting = true;
	ev.close.by.exit_code = SIGKILL;
	HAS(json(&ev), "\"by_comm\":\"demo-client\",\"by_exit_status\":9,\"signal\"");
	HAS(out, "\"signal\":\"SIGKILL\",\"exit_code\":null,\"duration_ms\":9872.000");
	HAS(out, "\"bytes_in\":4,\"bytes_out\":29,\"retransmits\":0,\"keepalives\":1,\"drops\":0,"
		 "\"srtt_us\":1234,\"min_rtt_us\":null}");
	HAS(text(&ev, false), "CLOSED: killed by SIGKILL");

	ev.close.cause = CAUSE_PROCESS_EXIT;
	ev.close.signal = 0;
	ev.close.exit_code = 3;
	ev.close.by.pid = 0;
	HAS(json(&ev), "\"by_pid\":null,\"by_comm\":null,\"signal\":null,\"exit_code\":3");
}

static void test_hostile_comm(void **state)
{
	struct tl_event ev = base(TL_ERROR);

	ev.error.err = ECONNRESET;
	strcpy(ev.comm, "x\"}\n\x1b[2J");
	HAS(json(&ev), "\"comm\":\"x\\\"}\\n\\u001b[2J\"");
	assert_null(strchr(text(&ev, false), '\x1b'));
	HAS(out, "(x\"}??[2J 4121)");
}

static void test_text_line(void **state)
{
	struct tl_event ev = base(TL_STATE);

	ev.state.old_state = TT_TCP_SYN_SENT;
	ev.state.new_state = TT_TCP_ESTABLISHED;
	ev.state.received = "SYN,ACK";
	ev.state.sent = "ACK";
	assert_string_equal(text(&ev, false),
			    " 0.310000 #3    127.0.0.1:49306 > 127.0.0.1:9000 (demo-client 4121)  "
			    "SYN_SENT -> ESTABLISHED  received SYN,ACK, sent ACK\n");
	/* colour only when asked, and reset at the end */
	assert_non_null(strstr(text(&ev, true), "\033[32m"));
	assert_non_null(strstr(out, "\033[0m\n"));
	ev.ep.family = 6;
	memset(ev.ep.laddr, 0, 16);
	ev.ep.laddr[15] = 1;
	HAS(text(&ev, false), "[::1]:49306");
}

static void test_segments_table(void **state)
{
	assert_string_equal(state_sent_segment(TT_TCP_CLOSE, TT_TCP_SYN_SENT, false), "SYN");
	assert_string_equal(state_received_segment(TT_TCP_LISTEN, TT_TCP_SYN_RECV, false), "SYN");
	assert_string_equal(state_sent_segment(TT_TCP_LISTEN, TT_TCP_SYN_RECV, false), "SYN,ACK");
	assert_string_equal(state_sent_segment(TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK, false), "FIN");
	assert_string_equal(state_received_segment(TT_TCP_LAST_ACK, TT_TCP_CLOSE, false), "ACK");
	assert_string_equal(state_received_segment(TT_TCP_FIN_WAIT1, TT_TCP_CLOSE, true),
			    "FIN,ACK");
	assert_null(state_received_segment(TT_TCP_FIN_WAIT2, TT_TCP_CLOSE, false));
	assert_null(state_sent_segment(TT_TCP_ESTABLISHED, TT_TCP_CLOSE, false));
	assert_string_equal(tcp_state_name(TT_TCP_FIN_WAIT1), "FIN_WAIT1");
	assert_string_equal(tcp_state_name(0), "UNKNOWN");
	assert_string_equal(tcp_state_name(200), "UNKNOWN");
	assert_string_equal(errno_name(ETIMEDOUT), "ETIMEDOUT");
	assert_null(errno_name(100000));
	assert_string_equal(signal_name(SIGKILL), "SIGKILL");
}

/* The per-connection part of a line is cached: a change of owner, of
 * endpoints, or another connection on the same cache slot shows at once. */
static void test_connection_prefix_follows_changes(void **state)
{
	struct tl_event ev = base(TL_DATA);

	ev.data.bytes = 1;
	HAS(json(&ev), "\"pid\":4121,\"comm\":\"demo-client\"");
	HAS(json(&ev), "\"pid\":4121,\"comm\":\"demo-client\"");
	ev.pid = 77;
	HAS(json(&ev), "\"pid\":77,\"comm\":\"demo-client\"");
	strcpy(ev.comm, "renamed");
	HAS(json(&ev), "\"pid\":77,\"comm\":\"renamed\"");
	ev.pid = 0;
	HAS(json(&ev), "\"pid\":null,\"comm\":null");
	ev.ep.rport = 9001;
	ev.ep.raddr[3] = 2;
	HAS(json(&ev), "\"raddr\":\"127.0.0.2\",\"rport\":9001,\"pid\":null");
	ev.conn = 3 + 256; /* same slot, another connection */
	HAS(json(&ev), "\"conn\":259,\"family\":4");
	ev.conn = 3;
	HAS(json(&ev), "\"conn\":3,\"family\":4");
}

/* The actor's fields are cached too (the last task named): a change of
 * pid, comm, exiting or exit code shows at once, and a task that is not
 * exiting has no exit status whatever its exit_code says. */
static void test_actor_cache_follows_changes(void **state)
{
	struct tl_event ev = base(TL_STATE);

	ev.state.old_state = TT_TCP_ESTABLISHED;
	ev.state.new_state = TT_TCP_FIN_WAIT1;
	ev.state.actor.pid = 4121;
	strcpy(ev.state.actor.comm, "demo-client");
	HAS(json(&ev), "\"by_pid\":4121,\"by_comm\":\"demo-client\"}");
	HAS(json(&ev), "\"by_pid\":4121,\"by_comm\":\"demo-client\"}");
	strcpy(ev.state.actor.comm, "demo-clienT");
	HAS(json(&ev), "\"by_pid\":4121,\"by_comm\":\"demo-clienT\"}");
	ev.state.actor.pid = 4122;
	HAS(json(&ev), "\"by_pid\":4122,\"by_comm\":\"demo-clienT\"}");
	ev.state.actor.exit_code = 9; /* not exiting: not shown */
	HAS(json(&ev), "\"by_pid\":4122,\"by_comm\":\"demo-clienT\"}");
	ev.state.actor.exiting = true;
	HAS(json(&ev), "\"by_comm\":\"demo-clienT\",\"by_exit_status\":9}");
	ev.state.actor.exit_code = 15;
	HAS(json(&ev), "\"by_comm\":\"demo-clienT\",\"by_exit_status\":15}");
	ev.state.actor.exiting = false;
	HAS(json(&ev), "\"by_pid\":4122,\"by_comm\":\"demo-clienT\"}");
	ev.state.actor.pid = 0;
	HAS(json(&ev), "\"by_pid\":null,\"by_comm\":null}");
	/* the same task on another kind of event */
	ev.state.actor.pid = 4122;
	ev.kind = TL_RST;
	ev.rst.actor = ev.state.actor;
	ev.rst.actor.pid = 5;
	HAS(json(&ev), "\"by_pid\":5,\"by_comm\":\"demo-clienT\"}");
}

/* A state change's old/new/sent/received piece is kept per (old, new) pair
 * and follows its labels; addresses and the owner are kept apart from the
 * connection prefix and follow changes too (two addresses in one slot of
 * the address cache, an IPv6 one, an owner whose comm needs escaping). */
static void test_state_address_owner_pieces_follow_changes(void **state)
{
	struct tl_event ev = base(TL_STATE);

	ev.state.old_state = TT_TCP_FIN_WAIT1;
	ev.state.new_state = TT_TCP_CLOSE;
	ev.state.sent = "ACK";
	ev.state.received = "FIN,ACK";
	HAS(json(&ev), ",\"old\":\"FIN_WAIT1\",\"new\":\"CLOSE\",\"sent\":\"ACK\","
		       "\"received\":\"FIN,ACK\",\"by_pid\":null");
	HAS(json(&ev), ",\"old\":\"FIN_WAIT1\",\"new\":\"CLOSE\",\"sent\":\"ACK\","
		       "\"received\":\"FIN,ACK\",\"by_pid\":null");
	ev.state.sent = NULL;
	HAS(json(&ev), ",\"new\":\"CLOSE\",\"sent\":null,\"received\":\"FIN,ACK\",\"by_pid\"");
	ev.state.received = NULL;
	HAS(json(&ev), ",\"new\":\"CLOSE\",\"sent\":null,\"received\":null,\"by_pid\"");
	ev.state.old_state = TT_TCP_FIN_WAIT2;
	HAS(json(&ev), ",\"old\":\"FIN_WAIT2\",\"new\":\"CLOSE\",\"sent\":null,");
	ev.state.old_state = 200; /* past the table: written out */
	HAS(json(&ev), ",\"old\":\"UNKNOWN\",\"new\":\"CLOSE\",\"sent\":null,");

	/* 127.0.0.1 and 10.0.0.5 share a slot of the address cache */
	ev.conn = 10;
	HAS(json(&ev), "\"laddr\":\"127.0.0.1\",\"lport\":49306,\"raddr\":\"127.0.0.1\",");
	ev.conn = 11;
	ev.ep.raddr[0] = 10;
	ev.ep.raddr[3] = 5;
	HAS(json(&ev), "\"laddr\":\"127.0.0.1\",\"lport\":49306,\"raddr\":\"10.0.0.5\",");
	ev.conn = 12;
	ev.ep.family = 6;
	memset(ev.ep.laddr, 0, 16);
	ev.ep.laddr[15] = 1;
	HAS(json(&ev), "\"family\":6,\"laddr\":\"::1\",\"lport\":49306,\"raddr\":\"a00:5::\",");
	ev.conn = 13;
	ev.ep.family = 4;
	HAS(json(&ev),
	    "\"family\":4,\"laddr\":\"0.0.0.0\",\"lport\":49306,\"raddr\":\"10.0.0.5\",");

	ev.conn = 14;
	strcpy(ev.comm, "a\"b");
	HAS(json(&ev), "\"pid\":4121,\"comm\":\"a\\\"b\",\"old\"");
	ev.conn = 15;
	strcpy(ev.comm, "a\"c");
	HAS(json(&ev), "\"pid\":4121,\"comm\":\"a\\\"c\",\"old\"");
	ev.conn = 16;
	ev.pid = 4122;
	HAS(json(&ev), "\"pid\":4122,\"comm\":\"a\\\"c\",\"old\"");
	/* no connection: the owner alone */
	ev.conn = 0;
	HAS(json(&ev), ",\"rport\":null,\"pid\":4122,\"comm\":\"a\\\"c\",\"old\"");
}

/* Lines made in the stream's own buffer when it has the room, through
 * fwrite when it does not: the same bytes, in order, either way. */
static void test_lines_with_and_without_room(void **state)
{
	static char big[1 << 16], back[1 << 20];
	struct tl_event ev = base(TL_DATA);
	char *one = NULL;
	size_t one_len = 0, len;
	FILE *f = open_memstream(&one, &one_len);

	assert_non_null(f);
	ev.data.bytes = 123456789;
	render_json(f, &ev, &ropts);
	fclose(f);
	assert_true(one_len > 100 && one_len * 1000 <= sizeof(back));

	for (int vbuf = 0; vbuf < 4; vbuf++) {
		f = tmpfile();
		assert_non_null(f);
		/* room for many lines, for a few, for none; no buffer */
		if (vbuf == 0)
			setvbuf(f, big, _IOFBF, sizeof(big));
		else if (vbuf == 1)
			setvbuf(f, big, _IOFBF, 5000);
		else if (vbuf == 2)
			setvbuf(f, big, _IOFBF, 512);
		else
			setvbuf(f, NULL, _IONBF, 0);
		for (int i = 0; i < 1000; i++)
			render_json(f, &ev, &ropts);
		rewind(f);
		len = fread(back, 1, sizeof(back), f);
		fclose(f);
		assert_int_equal(len, 1000 * one_len);
		for (int i = 0; i < 1000; i++)
			assert_memory_equal(back + i * one_len, one, one_len);
	}
	free(one);
}

/* Segment labels of every length around the hand copy's 16 bytes. */
static void test_segment_label_lengths(void **state)
{
	static const char *const labels[] = { "",
					      "A",
					      "SYN,ACK",
					      "FIN,ACK,PSH,URG1",
					      "FIN,ACK,PSH,URG12",
					      "FIN,ACK,PSH,URG,ECE,CWR" };
	char want[128];

	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		struct tl_event ev = base(TL_STATE);

		ev.state.sent = labels[i];
		ev.state.received = labels[sizeof(labels) / sizeof(labels[0]) - 1 - i];
		snprintf(want, sizeof(want), ",\"sent\":\"%s\",\"received\":\"%s\",", ev.state.sent,
			 ev.state.received);
		HAS(json(&ev), want);
	}
}

/* Kind heads, state, cause and direction pieces are built once per index:
 * every index gives its own name, also after other indexes were built. */
static void test_pieces_per_index(void **state)
{
	char want[128];

	for (int round = 0; round < 2; round++) {
		for (int s = 0; s < 20; s++) {
			struct tl_event ev = base(TL_STATE);

			ev.state.old_state = (uint8_t)s;
			ev.state.new_state = (uint8_t)(19 - s);
			snprintf(want, sizeof(want), "{\"event\":\"state\",\"ts_ns\":1310000000,");
			HAS(json(&ev), want);
			snprintf(want, sizeof(want), ",\"old\":\"%s\",\"new\":\"%s\",",
				 tcp_state_name(s), tcp_state_name(19 - s));
			HAS(json(&ev), want);
		}
		for (int c = 0; c <= CAUSE_SYN_TIMEOUT + 1; c++) {
			struct tl_event ev = base(TL_CLOSE);

			ev.close.cause = (enum tl_cause)c;
			ev.close.exit_code = -1;
			snprintf(want, sizeof(want), "{\"event\":\"close\",\"ts_ns\":");
			HAS(json(&ev), want);
			snprintf(want, sizeof(want), ",\"cause\":\"%s\",",
				 cause_name(ev.close.cause));
			HAS(json(&ev), want);
		}
		for (int k = TL_STATE; k <= TL_WINDOW; k++) {
			struct tl_event ev = base((enum tl_kind)k);

			snprintf(want, sizeof(want),
				 "{\"event\":\"%s\",\"ts_ns\":1310000000,\"time\":",
				 tl_kind_name((enum tl_kind)k));
			HAS(json(&ev), want);
		}
		{
			struct tl_event ev = base(TL_DATA);

			ev.data.dir = TT_DIR_OUT;
			HAS(json(&ev), ",\"dir\":\"out\",\"bytes\":");
			ev.data.dir = TT_DIR_IN;
			HAS(json(&ev), ",\"dir\":\"in\",\"bytes\":");
		}
	}
}

/* The hand-written IPv4 formatter agrees with inet_ntop on every octet value
 * in every position. */
static void test_ipv4_format(void **state)
{
	for (int pos = 0; pos < 4; pos++) {
		for (int v = 0; v < 256; v++) {
			uint8_t a[16] = { 10, 0, 100, 9 };
			char got[ADDR_STRLEN], want[ADDR_STRLEN];

			a[pos] = (uint8_t)v;
			addr_format(4, a, got, sizeof(got));
			assert_non_null(inet_ntop(AF_INET, a, want, sizeof(want)));
			assert_string_equal(got, want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_fields),
		cmocka_unit_test(test_ipv4_format),
		cmocka_unit_test(test_connection_prefix_follows_changes),
		cmocka_unit_test(test_actor_cache_follows_changes),
		cmocka_unit_test(test_state_address_owner_pieces_follow_changes),
		cmocka_unit_test(test_lines_with_and_without_room),
		cmocka_unit_test(test_pieces_per_index),
		cmocka_unit_test(test_segment_label_lengths),
		cmocka_unit_test(test_time_is_rfc3339_utc_micro),
		cmocka_unit_test(test_unknown_owner_is_null),
		cmocka_unit_test(test_state_without_segments),
		cmocka_unit_test(test_every_kind),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_hostile_comm),
		cmocka_unit_test(test_text_line),
		cmocka_unit_test(test_segments_table),
	};

	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
