// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Hostile strings: JSON escaping and terminal sanitising. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>
#include "json.h"
#include "output.h"
#include "text.h"

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
	assert_string_equal(json_of("\xc2\x9b"
				    "2J",
				    16),
			    "\"\\u009b2J\"");
}

static void test_sanitize(void **state)
{
	char out[64];

	text_sanitize("\x1b[2Jevil\n", 16, out, sizeof(out));
	assert_string_equal(out, "?[2Jevil?");
	text_sanitize("ok-name", 16, out, sizeof(out));
	assert_string_equal(out, "ok-name");
	text_sanitize("\xc2\x9b"
		      "x",
		      16, out, sizeof(out));
	assert_string_equal(out, "?x");
	text_sanitize("caf\xc3\xa9", 16, out, sizeof(out));
	assert_string_equal(out, "caf\xc3\xa9");
	text_sanitize("abcdef", 16, out, 4);
	assert_string_equal(out, "abc");
}

static const char *jb_text(struct jbuf *b)
{
	static char out[sizeof(b->buf) + 1];

	memcpy(out, b->buf, b->len);
	out[b->len] = '\0';
	return out;
}

static void test_jbuf_numbers(void **state)
{
	struct jbuf b;

	jb_init(&b);
	jb_u64(&b, 0);
	jb_char(&b, ' ');
	jb_u64(&b, UINT64_MAX);
	jb_char(&b, ' ');
	jb_i64(&b, INT64_MIN);
	jb_char(&b, ' ');
	jb_i64(&b, -7);
	assert_string_equal(jb_text(&b), "0 18446744073709551615 -9223372036854775808 -7");

	jb_init(&b);
	jb_fixed(&b, 12345, 3);
	jb_char(&b, ' ');
	jb_fixed(&b, 5, 3);
	jb_char(&b, ' ');
	jb_fixed(&b, -1005, 3);
	jb_char(&b, ' ');
	jb_fixed(&b, 42, 0);
	assert_string_equal(jb_text(&b), "12.345 0.005 -1.005 42");
	assert_int_equal(b.cut, 0);

	/* the cursor version of jb_i64 (render_json's errno) */
	char line[64], *p = line;

	p = jc_i64(p, INT64_MIN);
	*p++ = ' ';
	p = jc_i64(p, -7);
	*p++ = ' ';
	p = jc_i64(p, 0);
	*p++ = ' ';
	p = jc_i64(p, INT64_MAX);
	*p = 0;
	assert_string_equal(line, "-9223372036854775808 -7 0 9223372036854775807");
}

/* Every digit count (10^k - 1, 10^k, 10^k + 1 for k to 19), against
 * snprintf; a number at the very end of the buffer is cut, not overrun; the
 * time field at its fixed-length fast path and with a zero-padded fraction. */
static void test_jbuf_number_lengths(void **state)
{
	static struct jbuf b;
	char want[32];
	uint64_t p = 1;

	for (int k = 0; k <= 19; k++, p *= 10) {
		uint64_t vs[3] = { p - 1, p, p + 1 };

		for (int i = 0; i < 3; i++) {
			jb_init(&b);
			jb_u64(&b, vs[i]);
			snprintf(want, sizeof(want), "%llu", (unsigned long long)vs[i]);
			assert_string_equal(jb_text(&b), want);
		}
	}
	/* 3 bytes of room for a 5-digit number: its first 3, cut */
	jb_init(&b);
	b.len = sizeof(b.buf) - 3;
	jb_u64(&b, 12345);
	assert_int_equal(b.len, sizeof(b.buf));
	assert_int_equal(b.cut, 1);
	assert_memory_equal(b.buf + sizeof(b.buf) - 3, "123", 3);

	jb_init(&b);
	jb_rfc3339(&b, 1764560000000000000LL + 7000); /* 2025-12-01T03:33:20.000007Z */
	assert_string_equal(jb_text(&b), "2025-12-01T03:33:20.000007Z");
	jb_init(&b);
	jb_rfc3339(&b, 1764560000999999999LL);
	assert_string_equal(jb_text(&b), "2025-12-01T03:33:20.999999Z");
}

/* Every number below 10^5 and a spread of larger ones, against snprintf
 * (the small numbers have their own paths). */
static void test_jbuf_every_small_number(void **state)
{
	struct jbuf b;
	char want[32];
	uint64_t v = 100000;

	for (uint64_t i = 0; i < 100000; i++) {
		jb_init(&b);
		jb_u64(&b, i);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)i);
		assert_int_equal(b.len, strlen(want));
		assert_memory_equal(b.buf, want, b.len);
	}
	for (int i = 0; i < 2000; i++, v = v * 3 + 7) {
		jb_init(&b);
		jb_u64(&b, v);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
		assert_string_equal(jb_text(&b), want);
	}
}

/* jb_digits8 works the two 4-digit halves of a number in lanes of one
 * register: every value of each half, in each lane, with the other half
 * at its smallest, its largest and the same; and the cursor appends say
 * what the checked ones say. */
static void test_digits8_every_half(void **state)
{
	char got[16], want[16];
	struct jbuf b;
	char *end;

	for (uint32_t a = 0; a < 10000; a++) {
		const uint32_t ws[] = { a * 10000, a * 10000 + 9999, a, 9999 * 10000 + a,
					a * 10001 };

		for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
			jb_put8(got, ws[i]);
			snprintf(want, sizeof(want), "%08u", ws[i]);
			assert_memory_equal(got, want, 8);
			jb_init(&b);
			jb_u64(&b, ws[i]);
			end = jc_u64(got, ws[i]);
			assert_int_equal((size_t)(end - got), b.len);
			assert_memory_equal(got, b.buf, b.len);
		}
	}
}

/* jb_write_unlocked: lines into the stream's buffer, in order with what
 * went through stdio, fully buffered (nothing written until the flush) and
 * line-buffered (each line written at once, as on a terminal). */
static void check_write_unlocked(bool line_buffered)
{
	char path[] = "/tmp/tt-test-json-XXXXXX", got[65536];
	int fd = mkstemp(path), rd = open(path, O_RDONLY);
	FILE *f = output_open(fd, line_buffered);
	struct jbuf b;
	size_t want_len = 0;
	ssize_t n;

	assert_true(fd >= 0 && rd >= 0 && f);
	unlink(path);
	for (int i = 0; i < 1000; i++) {
		jb_init(&b);
		jb_mem(&b, "{\"n\":", 5);
		jb_u64(&b, (uint64_t)i);
		jb_mem(&b, "}\n", 2);
		jb_write_unlocked(&b, f);
		want_len += b.len;
		if (i == 0) {
			n = read(rd, got, sizeof(got));
			/* line-buffered: out at once; else held for the flush */
			assert_int_equal(n, line_buffered ? (ssize_t)b.len : 0);
		}
		if (i % 100 == 0) {
			fputs("x\n", f);
			want_len += 2;
		}
	}
	assert_int_equal(fflush(f), 0);
	assert_int_equal(output_error(f), 0);
	n = pread(rd, got, sizeof(got), 0);
	assert_int_equal(n, (ssize_t)want_len);
	assert_memory_equal(got, "{\"n\":0}\nx\n{\"n\":1}\n", 18);
	assert_memory_equal(got + want_len - 10, "{\"n\":999}\n", 10);
	fclose(f);
	close(rd);
}

static void test_write_unlocked(void **state)
{
	check_write_unlocked(false);
	check_write_unlocked(true);
}

/* A line that does not fit is cut, never written past the buffer. */
/* A timestamp's cached high digits: against snprintf while they stay, change
 * (also in digit count), come back, below 10^8 and at the top of the range;
 * near the buffer's end, cut like jb_u64. */
static void test_jbuf_hi_cached(void **state)
{
	static struct jbuf b;
	struct jb_hi_cache c = { 0 };
	char want[32];
	const uint64_t vs[] = { 14600844658368ULL,
				14600844658369ULL,
				14600899999999ULL,
				14600900000000ULL,
				14600844658368ULL,
				99999999ULL,
				7ULL,
				100000000ULL,
				99999999999999999ULL,
				100000000000000000ULL,
				18446744073709551615ULL,
				14600900000001ULL,
				1400000000ULL,
				14600900000001ULL };

	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
		jb_init(&b);
		jb_char(&b, 'x');
		jb_u64_hi_cached(&b, vs[i], &c);
		snprintf(want, sizeof(want), "x%llu", (unsigned long long)vs[i]);
		assert_string_equal(jb_text(&b), want);
	}
	jb_init(&b);
	b.len = sizeof(b.buf) - 5;
	jb_u64_hi_cached(&b, 14600844658368ULL, &c);
	assert_int_equal(b.len, sizeof(b.buf));
	assert_int_equal(b.cut, 1);
	assert_memory_equal(b.buf + sizeof(b.buf) - 5, "14600", 5);
}

/* The time field against gmtime for times in one second, across seconds,
 * back in time, before 1970 and at a buffer's end (where the fast path has
 * no room). */
static void test_rfc3339_sequence(void **state)
{
	static struct jbuf b;
	const int64_t base = 1764560000LL * 1000000000LL;
	const int64_t ts[] = { base + 7000,
			       base + 999999999,
			       base + 1000000000,
			       base + 5,
			       base - 1,
			       base + 123456789,
			       base + 86400000000000LL,
			       base + 1000,
			       -1000001000LL,
			       -1000,
			       0,
			       base + 999000 };

	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
			char want[64];
			int64_t secs = ts[i] / 1000000000LL, ns = ts[i] % 1000000000LL;
			time_t t;
			struct tm tm;
			size_t at = k ? sizeof(b.buf) - 30 : 3;

			if (ns < 0) {
				ns += 1000000000LL;
				secs--;
			}
			t = (time_t)secs;
			gmtime_r(&t, &tm);
			snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				 tm.tm_min, tm.tm_sec, (int)(ns / 1000));
			jb_init(&b);
			b.len = at;
			jb_rfc3339(&b, ts[i]);
			assert_int_equal(b.len, at + strlen(want));
			assert_memory_equal(b.buf + at, want, strlen(want));
		}
	}
}

static void test_jbuf_cut(void **state)
{
	static struct jbuf b;
	char big[512];

	memset(big, 'x', sizeof(big));
	jb_init(&b);
	for (size_t i = 0; i < 2 * sizeof(b.buf) / sizeof(big); i++)
		jb_mem(&b, big, sizeof(big));
	assert_int_equal(b.len, sizeof(b.buf));
	assert_int_equal(b.cut, 1);
	jb_char(&b, 'y');
	jb_u64(&b, 123);
	jb_json_string(&b, "\x01", 4);
	assert_int_equal(b.len, sizeof(b.buf));
}

/* Every single byte, against an expectation written out independently. */
static void test_every_byte(void **state)
{
	for (int c = 1; c < 256; c++) {
		char s[2] = { (char)c, '\0' }, want[16];

		if (c == '"' || c == '\\')
			snprintf(want, sizeof(want), "\"\\%c\"", c);
		else if (c == '\n')
			snprintf(want, sizeof(want), "\"\\n\"");
		else if (c == '\t')
			snprintf(want, sizeof(want), "\"\\t\"");
		else if (c == '\r')
			snprintf(want, sizeof(want), "\"\\r\"");
		else if (c < 0x20 || c == 0x7f)
			snprintf(want, sizeof(want), "\"\\u%04x\"", c);
		else if (c >= 0x80) /* alone, never valid UTF-8 */
			snprintf(want, sizeof(want), "\"\\ufffd\"");
		else
			snprintf(want, sizeof(want), "\"%c\"", c);
		assert_string_equal(json_of(s, sizeof(s)), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_quotes_backslash_controls),
		cmocka_unit_test(test_bound_without_nul),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_jbuf_numbers),
		cmocka_unit_test(test_jbuf_number_lengths),
		cmocka_unit_test(test_jbuf_cut),
		cmocka_unit_test(test_jbuf_hi_cached),
		cmocka_unit_test(test_rfc3339_sequence),
		cmocka_unit_test(test_jbuf_every_small_number),
		cmocka_unit_test(test_digits8_every_half),
		cmocka_unit_test(test_write_unlocked),
		cmocka_unit_test(test_every_byte),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
