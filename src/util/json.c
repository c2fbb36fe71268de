// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include <time.h>
#include "json.h"
#include "text.h"

void jb_mem_cut(struct jbuf *b, const char *s, size_t n)
{
	size_t room = sizeof(b->buf) - b->len;

	if (n > room) {
		n = room;
		b->cut = 1;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

const char jb_digit_pairs[200] = "00010203040506070809101112131415161718192021222324"
				 "25262728293031323334353637383940414243444546474849"
				 "50515253545556575859606162636465666768697071727374"
				 "75767778798081828384858687888990919293949596979899";

/* w (< 10^8) without leading zeros; writes up to 8 bytes at out, returns
 * how many of them are the number */
static inline unsigned int put_short(char *out, uint32_t w)
{
	unsigned int n;
	uint64_t d;

	/* most numbers of a line are small (family, ports, byte and segment
	 * counts, pids): their digits without working out all eight */
	if (w < 10) {
		*out = (char)('0' + w);
		return 1;
	}
	if (w < 100) {
		memcpy(out, jb_digit_pairs + 2 * w, 2);
		return 2;
	}
	n = w >= 10000 ? (w >= 1000000 ? (w >= 10000000 ? 8 : 7) : (w >= 100000 ? 6 : 5)) :
			 (w >= 1000 ? 4 : 3);
	d = jb_digits8(w);

	/* the leading zeros dropped: shifted out of the register */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	d >>= 8 * (8 - n);
#else
	d <<= 8 * (8 - n);
#endif
	memcpy(out, &d, 8);
	return n;
}

/* v's digits at out (which has room for 28 bytes); how many */
static unsigned int u64_put(char *out, uint64_t v)
{
	unsigned int n;

	if (v < 100000000)
		return put_short(out, (uint32_t)v);
	if (v < 10000000000000000ULL) {
		n = put_short(out, (uint32_t)(v / 100000000));
		jb_put8(out + n, (uint32_t)(v % 100000000));
		return n + 8;
	}
	n = put_short(out, (uint32_t)(v / 10000000000000000ULL));
	v %= 10000000000000000ULL;
	jb_put8(out + n, (uint32_t)(v / 100000000));
	jb_put8(out + n + 8, (uint32_t)(v % 100000000));
	return n + 16;
}

char *jc_u64_(char *p, uint64_t v)
{
	return p + u64_put(p, v);
}

/* Numbers are most of a line's pieces (ts_ns alone is 14 digits): written
 * in place when the buffer has room, with no scratch copy. */
void jb_u64(struct jbuf *b, uint64_t v)
{
	char tmp[28];

	if (__builtin_expect(sizeof(b->buf) - b->len >= sizeof(tmp), 1)) {
		b->len += u64_put(b->buf + b->len, v);
		return;
	}
	jb_mem_cut(b, tmp, u64_put(tmp, v));
}

char *jc_u64_hi_slow(char *p, uint64_t v, struct jb_hi_cache *c)
{
	uint64_t hi = v / 100000000;

	if (!hi)
		return jc_u64_(p, v);
	c->len = (uint8_t)u64_put(c->text, hi);
	c->hi = hi;
	return jc_u64_hi_put(p, v, hi, c);
}

void jb_u64_hi_cached(struct jbuf *b, uint64_t v, struct jb_hi_cache *c)
{
	uint64_t hi = v / 100000000;

	if (__builtin_expect(hi && sizeof(b->buf) - b->len >= 24, 1)) {
		b->len = (size_t)(jc_u64_hi_cached(b->buf + b->len, v, c) - b->buf);
		return;
	}
	jb_u64(b, v);
}

void jb_i64(struct jbuf *b, int64_t v)
{
	if (v < 0) {
		jb_char(b, '-');
		jb_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		jb_u64(b, (uint64_t)v);
	}
}

void jb_digits(struct jbuf *b, uint64_t v, unsigned int width)
{
	char tmp[20];

	if (width > sizeof(tmp))
		width = sizeof(tmp);
	for (unsigned int i = width; i > 0; i--) {
		tmp[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	jb_mem(b, tmp, width);
}

void jb_fixed(struct jbuf *b, int64_t v, unsigned int decimals)
{
	uint64_t scale = 1, u;

	for (unsigned int i = 0; i < decimals; i++)
		scale *= 10;
	if (v < 0)
		jb_char(b, '-');
	u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	jb_u64(b, u / scale);
	if (!decimals)
		return;
	jb_char(b, '.');
	jb_digits(b, u % scale, decimals);
}

static void jb_u_escape(struct jbuf *b, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

	jb_mem(b, e, sizeof(e));
}

void jb_json_string(struct jbuf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = bounded_len(s, n), i = 0;

	jb_char(b, '"');
	while (i < len) {
		unsigned char c = p[i];
		size_t ul;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			/* the common case: a run of plain printable ASCII */
			size_t j = i + 1;

			while (j < len && p[j] >= 0x20 && p[j] < 0x7f && p[j] != '"' &&
			       p[j] != '\\')
				j++;
			jb_mem(b, s + i, j - i);
			i = j;
		} else if (c == '"' || c == '\\') {
			jb_char(b, '\\');
			jb_char(b, (char)c);
			i++;
		} else if (c == '\n') {
			jb_mem(b, "\\n", 2), i++;
		} else if (c == '\t') {
			jb_mem(b, "\\t", 2), i++;
		} else if (c == '\r') {
			jb_mem(b, "\\r", 2), i++;
		} else if (c < 0x20 || c == 0x7f) {
			jb_u_escape(b, c);
			i++;
		} else if ((ul = utf8_seq_len(p + i, len - i)) == 0) {
			jb_mem(b, "\\ufffd", 6);
			i++;
		} else {
			/* C1 controls (U+0080..U+009F) are escaped too */
			if (ul == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)
				jb_u_escape(b, p[i + 1]);
			else
				jb_mem(b, s + i, ul);
			i += ul;
		}
	}
	jb_char(b, '"');
}

void json_write_string(FILE *f, const char *s, size_t n)
{
	struct jbuf b;

	jb_init(&b);
	jb_json_string(&b, s, n);
	fwrite(b.buf, 1, b.len, f);
}

/* "2026-11-24T03:49:47" for secs, worked out once a second: events come
 * thousands a second. */
static const char *rfc3339_secs(time_t secs, size_t *len)
{
	static time_t cached_secs = -1;
	static char cached[80];
	static size_t cached_len;

	if (secs != cached_secs) {
		struct tm tm;
		int n;

		gmtime_r(&secs, &tm);
		n = snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec);
		cached_len = n > 0 && (size_t)n < sizeof(cached) ? (size_t)n : strlen(cached);
		cached_secs = secs;
	}
	*len = cached_len;
	return cached;
}

struct jb_rfc3339_last jb_rfc3339_last;

/* The seconds' text of realtime_ns (its 19 bytes when n is 19), kept as
 * rfc3339_last when it is; *usec its microseconds */
static const char *rfc3339_slow(int64_t realtime_ns, size_t *n, uint32_t *usec_out)
{
	time_t secs = (time_t)(realtime_ns / 1000000000LL);
	long usec = (long)((realtime_ns % 1000000000LL) / 1000);
	const char *s;

	if (usec < 0) {
		usec += 1000000;
		secs -= 1;
	}
	s = rfc3339_secs(secs, n);
	if (*n == 19 && realtime_ns >= 0) {
		/* the second's first ns: secs * 10^9 <= realtime_ns, no overflow */
		jb_rfc3339_last.start_ns = (uint64_t)secs * 1000000000ULL;
		memcpy(jb_rfc3339_last.text, s, 19);
		jb_rfc3339_last.valid = 1;
	}
	*usec_out = (uint32_t)usec;
	return s;
}

char *jc_rfc3339_slow(char *p, int64_t realtime_ns)
{
	uint32_t usec;
	const char *s;
	size_t n;

	s = rfc3339_slow(realtime_ns, &n, &usec);
	if (n == 19)
		return jb_rfc3339_put(p, s, usec);
	/* a year past 9999 or before 1970: never longer than its 80 bytes
	 * of cache */
	p = jc_mem(p, s, n);
	*p++ = '.';
	for (int i = 5; i >= 0; i--, usec /= 10)
		p[i] = (char)('0' + usec % 10);
	p[6] = 'Z';
	return p + 7;
}

void jb_rfc3339(struct jbuf *b, int64_t realtime_ns)
{
	uint64_t off = (uint64_t)realtime_ns - jb_rfc3339_last.start_ns;
	uint32_t usec;
	const char *s;
	size_t n;

	if (__builtin_expect(jb_rfc3339_last.valid && off < 1000000000ULL &&
				     sizeof(b->buf) - b->len >= 32,
			     1)) {
		b->len = (size_t)(jb_rfc3339_put(b->buf + b->len, jb_rfc3339_last.text,
						 (uint32_t)(off / 1000)) -
				  b->buf);
		return;
	}
	s = rfc3339_slow(realtime_ns, &n, &usec);
	if (__builtin_expect(n == 19 && sizeof(b->buf) - b->len >= 32, 1)) {
		/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" at fixed lengths, in place: on
		 * every line */
		b->len = (size_t)(jb_rfc3339_put(b->buf + b->len, s, usec) - b->buf);
		return;
	}
	jb_mem(b, s, n);
	jb_char(b, '.');
	jb_digits(b, (uint64_t)usec, 6);
	jb_char(b, 'Z');
}
