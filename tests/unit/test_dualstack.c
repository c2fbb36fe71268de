// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Dual-stack: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4
 * address: the two ends pair, drops match, text shows the IPv4 form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "addr.h"
#include "conn_table.h"
#include "raw_builder.h"

static void mapped(__u8 *a)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = 127;
	a[15] = 1;
}

static void test_format(void **state)
{
	uint8_t a[16];
	char buf[64];

	mapped(a);
	assert_true(addr_is_v4mapped(6, a));
	assert_false(addr_is_v4mapped(4, a));
	endpoint_format(6, a, 9000, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:9000");
	a[10] = 0;
	assert_false(addr_is_v4mapped(6, a));
}

static int n_drops;

static void sink(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	if (ev->kind == TL_DROP && ev->conn == 2)
		n_drops++;
}

/* an IPv4 client and the [::] server's accepted socket */
static void test_pairs_and_matches(void **state)
{
	struct conn_table_opts o = { .max_open = 8, .max_closed = 8, .sink = sink };
	struct conn_table *t = conn_table_new(&o);
	struct tt_event c = raw_state(CLIENT_SK, 1, 100, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED);
	struct tt_event s = raw_state(SERVER_SK, 2, 110, 0, TT_TCP_SYN_RECV, TT_TCP_ESTABLISHED);
	struct tt_drop d;
	const struct conn *cc, *sc;

	s.family = 6;
	mapped(s.saddr);
	mapped(s.daddr);
	conn_table_add_raw(t, &c);
	conn_table_add_raw(t, &s);
	cc = conn_table_find_id(t, 1);
	sc = conn_table_find_id(t, 2);
	assert_non_null(cc);
	assert_non_null(sc);
	assert_true(conn_is_mirror(cc, sc));
	assert_true(conn_table_find_mirror(t, cc) == sc);
	/* an IPv4 packet from the client, dropped on its way in */
	memset(&d, 0, sizeof(d));
	d.rec = TT_REC_DROP;
	d.ts_ns = 200;
	d.family = 4;
	d.saddr[0] = d.daddr[0] = 127;
	d.saddr[3] = d.daddr[3] = 1;
	d.sport = 49306;
	d.dport = 9000;
	d.flags = 0x10;
	d.reason = TT_DROP_REASON_NONE;
	conn_table_add_drop(t, &d);
	assert_int_equal(n_drops, 1);
	/* another port is another connection */
	s.sk = SERVER_SK + 0x100;
	s.birth_ns = 3;
	s.rport = 49307;
	conn_table_add_raw(t, &s);
	assert_false(conn_is_mirror(cc, conn_table_find_id(t, 3)));
	conn_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_pairs_and_matches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
