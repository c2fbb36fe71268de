// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Outcome filters: which connections --abnormal and --cause print, and
 * parsing --cause's list. Connections built through the real table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "conn_table.h"
#include "outcome.h"
#include "raw_builder.h"

static struct conn_table *table(void)
{
	struct conn_table_opts o = {
		.max_open = 64,
		.max_closed = 64,
		.max_events_per_conn = 64,
		.kernel_reports_errors = true,
	};

	return conn_table_new(&o);
}

static void add(struct conn_table *t, struct tt_event e)
{
	conn_table_add_raw(t, &e);
}

/* connect and establish, client side */
static void opened(struct conn_table *t, uint64_t sk)
{
	add(t, raw_state(sk, 1, 10, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT));
	add(t, raw_state(sk, 1, 11, 1, TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED));
}

/* the application closes: FIN, then the peer's, then TIME_WAIT (app_close) */
static void app_closes(struct conn_table *t, uint64_t sk)
{
	struct tt_event e = raw_state(sk, 1, 20, 1, TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1);

	raw_actor(&e, 100, "app", 0, 0);
	add(t, e);
	add(t, raw_state(sk, 1, 21, 1, TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2));
	e = raw_state(sk, 1, 22, 1, TT_TCP_FIN_WAIT2, TT_TCP_CLOSE);
	e.peer_fin = 1;
	add(t, e);
}

static const struct conn *conn_of(struct conn_table *t, uint64_t id)
{
	const struct conn *c = conn_table_find_id(t, id);

	assert_non_null(c);
	return c;
}

static void test_normal_close_is_not_abnormal(void **state)
{
	struct conn_table *t = table();
	struct outcome_filter ab = { .abnormal = true };
	const struct conn *c;

	opened(t, CLIENT_SK);
	app_closes(t, CLIENT_SK);
	c = conn_of(t, 1);
	assert_true(c->closed);
	assert_int_equal(c->cause, CAUSE_APP_CLOSE);
	assert_false(conn_abnormal(c));
	assert_false(outcome_wanted(&ab, c));
	conn_table_free(t);
}

static void test_retransmit_makes_it_abnormal(void **state)
{
	struct conn_table *t = table();
	struct tt_event e;

	opened(t, CLIENT_SK);
	assert_false(conn_abnormal(conn_of(t, 1)));
	e = raw_base(CLIENT_SK, 1, TT_EV_RETRANSMIT, 15, 1);
	e.retrans.count = 1;
	add(t, e);
	/* still open: it already qualifies (printed at exit) */
	assert_true(conn_abnormal(conn_of(t, 1)));
	app_closes(t, CLIENT_SK);
	assert_int_equal(conn_of(t, 1)->cause, CAUSE_APP_CLOSE);
	assert_true(conn_abnormal(conn_of(t, 1)));
	conn_table_free(t);
}

static void test_failed_retransmit_counts(void **state)
{
	struct conn_table *t = table();
	struct tt_event e;

	opened(t, CLIENT_SK);
	e = raw_base(CLIENT_SK, 1, TT_EV_RETRANSMIT, 15, 1);
	e.retrans.err = -EBUSY; /* not counted in retransmits, still trouble */
	add(t, e);
	assert_int_equal(conn_of(t, 1)->retransmits, 0);
	assert_true(conn_abnormal(conn_of(t, 1)));
	conn_table_free(t);
}

static void test_reset_and_error_make_it_abnormal(void **state)
{
	struct conn_table *t = table();
	struct tt_event e;

	opened(t, CLIENT_SK);
	e = raw_base(CLIENT_SK, 1, TT_EV_RST, 15, 1);
	e.rst.dir = TT_DIR_IN;
	add(t, e);
	assert_true(conn_abnormal(conn_of(t, 1)));

	opened(t, SERVER_SK);
	e = raw_base(SERVER_SK, 1, TT_EV_ERROR, 15, 1);
	e.error.err = EPIPE;
	add(t, e);
	assert_true(conn_abnormal(conn_of(t, 2)));
	conn_table_free(t);
}

static void test_causes_other_than_the_normal_three(void **state)
{
	struct conn_table *t = table();
	struct outcome_filter ab = { .abnormal = true };
	struct tt_event e;
	const struct conn *c;

	/* refused: the SYN answered by a reset, no error report here */
	add(t, raw_state(CLIENT_SK, 1, 10, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT));
	e = raw_state(CLIENT_SK, 1, 11, 1, TT_TCP_SYN_SENT, TT_TCP_CLOSE);
	e.sk_err = ECONNREFUSED;
	add(t, e);
	c = conn_of(t, 1);
	assert_true(c->closed);
	assert_int_not_equal(c->cause, CAUSE_APP_CLOSE);
	assert_int_not_equal(c->cause, CAUSE_PEER_CLOSE);
	assert_int_not_equal(c->cause, CAUSE_PROCESS_EXIT);
	assert_true(outcome_wanted(&ab, c));
	conn_table_free(t);
}

static void test_open_plain_connection_does_not_qualify(void **state)
{
	struct conn_table *t = table();
	struct outcome_filter ab = { .abnormal = true };
	struct outcome_filter cause = { .causes = 1u << CAUSE_UNKNOWN };

	opened(t, CLIENT_SK);
	assert_false(outcome_wanted(&ab, conn_of(t, 1)));
	/* no cause yet, not even unknown */
	assert_false(outcome_wanted(&cause, conn_of(t, 1)));
	conn_table_free(t);
}

static void test_cause_list(void **state)
{
	struct conn_table *t = table();
	struct outcome_filter f = { 0 };
	char bad[32];

	assert_int_equal(outcome_parse_causes("app_close,rst_in", &f.causes, bad, sizeof(bad)), 0);
	assert_true(outcome_filter_on(&f));
	opened(t, CLIENT_SK);
	app_closes(t, CLIENT_SK);
	assert_true(outcome_wanted(&f, conn_of(t, 1)));
	/* with --abnormal as well, both must hold */
	f.abnormal = true;
	assert_false(outcome_wanted(&f, conn_of(t, 1)));
	f.abnormal = false;
	f.causes = 0;
	assert_int_equal(outcome_parse_causes("killed", &f.causes, bad, sizeof(bad)), 0);
	assert_false(outcome_wanted(&f, conn_of(t, 1)));
	conn_table_free(t);
}

static void test_parse_causes(void **state)
{
	uint32_t m = 0;
	char bad[32];

	assert_int_equal(outcome_parse_causes("killed", &m, bad, sizeof(bad)), 0);
	assert_int_equal(m, 1u << CAUSE_KILLED);
	/* repeated --cause options add up */
	assert_int_equal(outcome_parse_causes("syn_timeout,unknown", &m, bad, sizeof(bad)), 0);
	assert_int_equal(m,
			 (1u << CAUSE_KILLED) | (1u << CAUSE_SYN_TIMEOUT) | (1u << CAUSE_UNKNOWN));
	/* every contract name is accepted */
	for (int c = CAUSE_UNKNOWN; c <= CAUSE_SYN_TIMEOUT; c++) {
		m = 0;
		assert_int_equal(outcome_parse_causes(cause_name(c), &m, bad, sizeof(bad)), 0);
		assert_int_equal(m, 1u << c);
	}
	m = 0;
	assert_int_equal(outcome_parse_causes("killed,kiled", &m, bad, sizeof(bad)), -1);
	assert_string_equal(bad, "kiled");
	assert_int_equal(outcome_parse_causes("", &m, bad, sizeof(bad)), -1);
	assert_int_equal(outcome_parse_causes("killed,", &m, bad, sizeof(bad)), -1);
	assert_string_equal(bad, "");
	assert_int_equal(outcome_parse_causes(",killed", &m, bad, sizeof(bad)), -1);
	assert_int_equal(outcome_parse_causes("KILLED", &m, bad, sizeof(bad)), -1);
	assert_int_equal(outcome_parse_causes("app", &m, bad, sizeof(bad)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normal_close_is_not_abnormal),
		cmocka_unit_test(test_retransmit_makes_it_abnormal),
		cmocka_unit_test(test_failed_retransmit_counts),
		cmocka_unit_test(test_reset_and_error_make_it_abnormal),
		cmocka_unit_test(test_causes_other_than_the_normal_three),
		cmocka_unit_test(test_open_plain_connection_does_not_qualify),
		cmocka_unit_test(test_cause_list),
		cmocka_unit_test(test_parse_causes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
