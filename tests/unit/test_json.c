// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Hostile strings: JSON escaping and terminal sanitising. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "json.h"

static char *json_of(const char *s, size_t n)
{
	static char buf[1024];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	json_write_string(f, s, n);
	fclose(f);
	return buf;
}

static void test_plain(void **state)
{
	assert_string_equal(json_of("demo-client", 16), "\"demo-client\"");
	assert_string_equal(json_of("", 16), "\"\"");
}

static void test_quotes_backslash_controls(void **state)
{
	assert_string_equal(json_of("a\"b\\c", 16), "\"a\\\"b\\\\c\"");
	assert_string_equal(json_of("x\ny\tz\r", 16), "\"x\\ny\\tz\\r\"");
	assert_string_equal(json_of("\x1b[31mred", 16), "\"\\u001b[31mred\"");
	assert_string_equal(json_of("\x01\x7f", 16), "\"\\u0001\\u007f\"");
}

static void test_bound_without_nul(void **state)
{
	char comm[4] = { 'a', 'b', 'c', 'd' }; /* no terminator within n */

	assert_string_equal(json_of(comm, 4), "\"abcd\"");
	assert_string_equal(json_of("abcdef", 3), "\"abc\"");
}

static void test_utf8(void **state)
{
	assert_string_equal(json_of("caf\xc3\xa9", 16), "\"caf\xc3\xa9\"");
	/* invalid bytes, overlong forms, surrogates, truncated sequences */
	assert_string_equal(json_of("\xff", 16), "\"\\ufffd\"");
	assert_string_equal(json_of("\xc0\xaf", 16), "\"\\ufffd\\ufffd\"");
	assert_string_equal(json_of("\xed\xa0\x80", 16), "\"\\ufffd\\ufffd\\ufffd\"");
	assert_string_equal(json_of("ab\xe2\x82", 16), "\"ab\\ufffd\\ufffd\"");
	/* C1 control U+009B (CSI) is escaped */
	assert_string_equal(json_of("\xc2\x9b" "2J", 16), "\"\\u009b2J\"");
}

static void test_sanitize(void **state)
{
	char out[64];

	text_sanitize("\x1b[2Jevil\n", 16, out, sizeof(out));
	assert_string_equal(out, "?[2Jevil?");
	text_sanitize("ok-name", 16, out, sizeof(out));
	assert_string_equal(out, "ok-name");
	text_sanitize("\xc2\x9b" "x", 16, out, sizeof(out));
	assert_string_equal(out, "?x");
	text_sanitize("caf\xc3\xa9", 16, out, sizeof(out));
	assert_string_equal(out, "caf\xc3\xa9");
	text_sanitize("abcdef", 16, out, 4);
	assert_string_equal(out, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_quotes_backslash_controls),
		cmocka_unit_test(test_bound_without_nul),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_sanitize),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
