// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Ring buffer records are checked before anything trusts them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "decode.h"
#include "raw_builder.h"

static void test_good_record(void **state)
{
	struct tt_event e = raw_state(CLIENT_SK, 1, 2, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT), out;

	memset(e.owner_comm, 'A', TT_COMM_LEN); /* unterminated by a buggy producer */
	assert_int_equal(decode_event(&e, sizeof(e), &out), 0);
	assert_int_equal(out.type, TT_EV_STATE);
	assert_int_equal(out.lport, 49306);
	assert_int_equal(strlen(out.owner_comm), TT_COMM_LEN - 1);
}

static void test_bad_records(void **state)
{
	struct tt_event e = raw_state(CLIENT_SK, 1, 2, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT), out;

	assert_int_equal(decode_event(&e, sizeof(e) - 1, &out), -EINVAL);
	assert_int_equal(decode_event(NULL, sizeof(e), &out), -EINVAL);
	e.type = 0;
	assert_int_equal(decode_event(&e, sizeof(e), &out), -EINVAL);
	e.type = TT_EV_TYPE_MAX;
	assert_int_equal(decode_event(&e, sizeof(e), &out), -EINVAL);
	e.type = TT_EV_STATE;
	e.family = 5;
	assert_int_equal(decode_event(&e, sizeof(e), &out), -EINVAL);
	e = raw_base(CLIENT_SK, 1, TT_EV_DATA, 1, 1);
	e.data.dir = 7;
	assert_int_equal(decode_event(&e, sizeof(e), &out), -EINVAL);
}

/* The ring's hot path checks in place (no copy): it takes and refuses the
 * same records as decode_event, and hands back the record itself. */
static void test_view_agrees(void **state)
{
	struct tt_event good = raw_state(CLIENT_SK, 1, 2, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT), e, out;

	assert_ptr_equal(decode_event_view(&good, sizeof(good)), &good);
	assert_null(decode_event_view(&good, sizeof(good) - 1));
	assert_null(decode_event_view(NULL, sizeof(good)));
	e = good;
	e.type = TT_EV_TYPE_MAX;
	assert_null(decode_event_view(&e, sizeof(e)));
	e = good;
	e.family = 5;
	assert_null(decode_event_view(&e, sizeof(e)));
	e = raw_base(CLIENT_SK, 1, TT_EV_DATA, 1, 1);
	e.data.dir = 7;
	assert_null(decode_event_view(&e, sizeof(e)));
	assert_int_equal(decode_event(&e, sizeof(e), &out), -EINVAL);
	e = good;
	e.state.rtt_when = TT_RTT_CLOSE;
	assert_ptr_equal(decode_event_view(&e, sizeof(e)), &e);
	assert_int_equal(decode_event(&e, sizeof(e), &out), 0);
	e.state.rtt_when = 3;
	assert_null(decode_event_view(&e, sizeof(e)));
	assert_int_equal(decode_event(&e, sizeof(e), &out), -EINVAL);
}

static void test_longer_record_accepted(void **state)
{
	/* a newer BPF side may append fields: the known prefix still decodes */
	unsigned char buf[sizeof(struct tt_event) + 16] = { 0 };
	struct tt_event e = raw_state(CLIENT_SK, 1, 2, 1, TT_TCP_CLOSE, TT_TCP_SYN_SENT), out;

	memcpy(buf, &e, sizeof(e));
	assert_int_equal(decode_event(buf, sizeof(buf), &out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_record),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_view_agrees),
		cmocka_unit_test(test_longer_record_accepted),
	};

	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
