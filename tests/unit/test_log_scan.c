// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The flight recorder's budget walks only the slots given out since the
 * oldest one still pending: what it must still find (a young log once it is
 * old, one counted before it was written, any slot after a wrap) and what it
 * need not read again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "log_scan.h"

#define REGION 16
#define BUDGET 50

struct taken {
	uint64_t sk[64];
	int n;
};

static void take(void *ctx, uint64_t sk)
{
	struct taken *t = ctx;

	if (t->n < 64)
		t->sk[t->n++] = sk;
}

/* the BPF side's log_append: the counter moves, then the slot is written */
static void give(struct tt_log_slot *slots, uint32_t *next, uint64_t sk, uint64_t ts)
{
	struct tt_log_slot *s = &slots[(*next)++ & (REGION - 1)];

	s->ts = ts;
	s->sk = sk;
}

static void test_old_taken_young_kept(void **state)
{
	struct tt_log_slot slots[REGION] = { 0 };
	struct log_scan_cursor cur = { 0 };
	struct taken t = { 0 };
	uint32_t next = 0, read;

	give(slots, &next, 0x100, 10);
	give(slots, &next, 0x200, 20);
	give(slots, &next, 0x300, 90); /* young at 100 */
	give(slots, &next, 0x400, 30);
	read = log_scan_region(slots, REGION, &cur, next, 100, BUDGET, take, &t);
	assert_int_equal(read, 4);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.sk[0], 0x100);
	assert_int_equal(t.sk[1], 0x200);
	assert_int_equal(t.sk[2], 0x400);
	assert_int_equal(slots[0].sk, 0);
	assert_int_equal(slots[2].sk, 0x300);
	/* the next walk starts at the young one (and the slots of this walk
	 * are read once more: one may have been counted, not written) */
	assert_int_equal(cur.lo, 0);
	t.n = 0;
	read = log_scan_region(slots, REGION, &cur, next, 200, BUDGET, take, &t);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.sk[0], 0x300);
	assert_int_equal(cur.lo, 4);
	/* nothing new: nothing read */
	t.n = 0;
	read = log_scan_region(slots, REGION, &cur, next, 300, BUDGET, take, &t);
	assert_int_equal(read, 0);
	assert_int_equal(t.n, 0);
}

static void test_counted_before_written(void **state)
{
	struct tt_log_slot slots[REGION] = { 0 };
	struct log_scan_cursor cur = { 0 };
	struct taken t = { 0 };
	uint32_t next = 0;

	give(slots, &next, 0x100, 10);
	next++; /* counted; its slot not written when the walk reads it */
	log_scan_region(slots, REGION, &cur, next, 100, BUDGET, take, &t);
	assert_int_equal(t.n, 1);
	slots[1].ts = 20;
	slots[1].sk = 0x200;
	t.n = 0;
	log_scan_region(slots, REGION, &cur, next, 200, BUDGET, take, &t);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.sk[0], 0x200);
}

static void test_wrap_reads_whole_region(void **state)
{
	struct tt_log_slot slots[REGION] = { 0 };
	struct log_scan_cursor cur = { 0 };
	struct taken t = { 0 };
	uint32_t next = 0xfffffff8u, read; /* the counter wraps too */

	cur.lo = cur.prev = next;
	for (int i = 0; i < REGION + 5; i++)
		give(slots, &next, 0x1000 + (uint64_t)i, 10);
	read = log_scan_region(slots, REGION, &cur, next, 100, BUDGET, take, &t);
	assert_int_equal(read, REGION);
	assert_int_equal(t.n, REGION);
	for (int i = 0; i < REGION; i++)
		assert_int_equal(t.sk[i], 0x1000 + 5 + (uint64_t)i);
	/* the young kept across a wrapped walk */
	t.n = 0;
	give(slots, &next, 0x2000, 95);
	log_scan_region(slots, REGION, &cur, next, 100, BUDGET, take, &t);
	assert_int_equal(t.n, 0);
	log_scan_region(slots, REGION, &cur, next, 150, BUDGET, take, &t);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.sk[0], 0x2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_taken_young_kept),
		cmocka_unit_test(test_counted_before_written),
		cmocka_unit_test(test_wrap_reads_whole_region),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
