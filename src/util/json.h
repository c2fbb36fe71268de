/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* JSON lines built in memory. Strings a process chooses (its comm) are
 * hostile: escaped for JSON here (text.h strips them for a terminal). */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A line being built in memory: printing thousands of events a second
 * through stdio's format parser is what costs, so the hot path appends
 * pieces by hand and hands the line to stdio once. Appends past the end are
 * cut (and `cut` set), never written out of bounds. */
struct jbuf {
	size_t len;
	int cut;
	char buf[4096];
};

static inline void jb_init(struct jbuf *b)
{
	b->len = 0;
	b->cut = 0;
}
/* The cut, out of line: what is left of the room, then `cut`. */
void jb_mem_cut(struct jbuf *b, const char *s, size_t n);

static inline void jb_mem(struct jbuf *b, const char *s, size_t n)
{
	/* the common case first, with n as the caller knows it: a key literal's
	 * copy is then a few moves, not a call to memcpy */
	if (__builtin_expect(n <= sizeof(b->buf) - b->len, 1)) {
		memcpy(b->buf + b->len, s, n);
		b->len += n;
		return;
	}
	jb_mem_cut(b, s, n);
}

static inline void jb_str(struct jbuf *b, const char *s)
{
	jb_mem(b, s, strlen(s));
}

static inline void jb_char(struct jbuf *b, char c)
{
	if (b->len < sizeof(b->buf))
		b->buf[b->len++] = c;
	else
		b->cut = 1;
}

/* The line to f, whose lock the caller does not need (one thread writes
 * it). When f's buffer has room, straight into it, as putc_unlocked
 * does (glibc's FILE keeps its write pointers public): fwrite's own path
 * was a tenth of a line's cost. A line-buffered f (a terminal) shows no
 * room there and goes through fwrite, which writes the line at once. */
static inline void jb_write_unlocked(const struct jbuf *b, FILE *f)
{
#ifdef __GLIBC__
	if (__builtin_expect((size_t)(f->_IO_write_end - f->_IO_write_ptr) >= b->len, 1)) {
		memcpy(f->_IO_write_ptr, b->buf, b->len);
		f->_IO_write_ptr += b->len;
		return;
	}
#endif
	fwrite_unlocked(b->buf, 1, b->len, f);
}

/* jb_u64 for a number that climbs slowly (a timestamp in ns): its digits
 * above the last 8 kept in *c, worked out again only when they change. */
struct jb_hi_cache {
	uint64_t hi;
	uint8_t len; /* 0: empty */
	char text[31];
};

/* Appends at a cursor, unchecked, for a writer that has made sure of the
 * room for its whole line beforehand (render_json: JB_LINE_ROOM). Each
 * returns the cursor past what it wrote; a number may store up to 8 bytes
 * past its digits (inside that room). No length in memory to load and store
 * again per piece: a line is a few dozen pieces. */
#define JB_LINE_ROOM 4096
static inline char *jc_mem(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}
#define jc_lit(p, s) jc_mem((p), s, sizeof(s) - 1)
char *jc_u64_(char *p, uint64_t v);
static inline char *jc_u64(char *p, uint64_t v)
{
	/* many of a line's numbers are one digit (family, counts of 0) */
	if (v < 10) {
		*p = (char)('0' + v);
		return p + 1;
	}
	return jc_u64_(p, v);
}

/* jb_i64 at a cursor */
static inline char *jc_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return jc_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return jc_u64(p, (uint64_t)v);
}

/* The digits of 00..99, two by two */
extern const char jb_digit_pairs[200];

/* w (< 10^8) as its 8 digits, zero-padded, in a register: the first digit
 * in the lowest byte (the first in memory once stored). Worked out in the
 * register's lanes at once (SWAR): its two halves' 4 digits in two 32-bit
 * lanes, split by 100 with one multiply into four 16-bit lanes, then by 10
 * into eight bytes; a multiply and a shift for each division (exact for
 * these ranges: x * 10486 >> 20 is x / 100 below 10^4, x * 103 >> 10 is x / 10
 * below 100). No table loads; the digits stored with one 8-byte store. */
static inline uint64_t jb_digits8(uint32_t w)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t x = (uint64_t)(w / 10000) | (uint64_t)(w % 10000) << 32, q;

	q = (x * 10486) >> 20 & 0x0000007f0000007fULL;
	x = q | (x - q * 100) << 16;
	q = (x * 103) >> 10 & 0x000f000f000f000fULL;
	x = q | (x - q * 10) << 8;
	return x | 0x3030303030303030ULL;
#else
	uint32_t hi = w / 10000, lo = w % 10000;
	uint16_t p0, p1, p2, p3;

	memcpy(&p0, jb_digit_pairs + 2 * (hi / 100), 2);
	memcpy(&p1, jb_digit_pairs + 2 * (hi % 100), 2);
	memcpy(&p2, jb_digit_pairs + 2 * (lo / 100), 2);
	memcpy(&p3, jb_digit_pairs + 2 * (lo % 100), 2);
	return (uint64_t)p0 << 48 | (uint64_t)p1 << 32 | (uint64_t)p2 << 16 | (uint64_t)p3;
#endif
}

/* w (< 10^8) as exactly 8 digits, zero-padded */
static inline void jb_put8(char *out, uint32_t w)
{
	uint64_t d = jb_digits8(w);

	memcpy(out, &d, 8);
}

/* v with hi (v / 10^8, not 0) from c, whose hi it is: the hi digits (at
 * most 12: 2^64 / 10^8 < 10^12) in one 16-byte move, the low 8 zero-padded
 * in one store; 24 bytes */
static inline char *jc_u64_hi_put(char *p, uint64_t v, uint64_t hi, const struct jb_hi_cache *c)
{
	memcpy(p, c->text, 16);
	p += c->len;
	jb_put8(p, (uint32_t)(v - hi * 100000000));
	return p + 8;
}
char *jc_u64_hi_slow(char *p, uint64_t v, struct jb_hi_cache *c);
static inline char *jc_u64_hi_cached(char *p, uint64_t v, struct jb_hi_cache *c)
{
	uint64_t hi = v / 100000000;

	if (__builtin_expect(hi == c->hi && c->len, 1))
		return jc_u64_hi_put(p, v, hi, c);
	return jc_u64_hi_slow(p, v, c);
}

/* The second of the last time written (its first ns, and its 19 bytes):
 * most times fall in it, and only their microseconds are worked out. */
struct jb_rfc3339_last {
	int valid;
	uint64_t start_ns;
	char text[19];
};
extern struct jb_rfc3339_last jb_rfc3339_last;

/* s's 19 bytes, then ".uuuuuuZ": the 6 digits of usec (8, the first two
 * zeros shifted out) and the Z, in one 8-byte store */
static inline char *jb_rfc3339_put(char *p, const char *s, uint32_t usec)
{
	uint64_t d = jb_digits8(usec);

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	d = (d >> 16) << 8 | '.' | (uint64_t)'Z' << 56;
#else
	d = (d << 16) >> 8 | (uint64_t)'.' << 56 | 'Z';
#endif
	memcpy(p, s, 19);
	memcpy(p + 19, &d, 8);
	return p + 27;
}

/* jb_rfc3339 at a cursor (27 bytes, more for a year past 9999) */
char *jc_rfc3339_slow(char *p, int64_t realtime_ns);
static inline char *jc_rfc3339(char *p, int64_t realtime_ns)
{
	uint64_t off = (uint64_t)realtime_ns - jb_rfc3339_last.start_ns;

	if (__builtin_expect(jb_rfc3339_last.valid && off < 1000000000ULL, 1))
		return jb_rfc3339_put(p, jb_rfc3339_last.text, (uint32_t)(off / 1000));
	return jc_rfc3339_slow(p, realtime_ns);
}

void jb_u64(struct jbuf *b, uint64_t v);
void jb_u64_hi_cached(struct jbuf *b, uint64_t v, struct jb_hi_cache *c);
void jb_i64(struct jbuf *b, int64_t v);
/* The last `width` decimal digits of v, zero-padded ("000042"). */
void jb_digits(struct jbuf *b, uint64_t v, unsigned int width);
/* v / 10^decimals with exactly `decimals` digits after the point ("12.345"). */
void jb_fixed(struct jbuf *b, int64_t v, unsigned int decimals);
/* Like json_write_string, into the buffer. */
void jb_json_string(struct jbuf *b, const char *s, size_t n);

/* Write s (at most n bytes, stops at NUL) as a JSON string literal, quotes
 * included. Control characters become \uXXXX, quote and backslash are
 * escaped, bytes that are not valid UTF-8 become U+FFFD. */
void json_write_string(FILE *f, const char *s, size_t n);

/* "2026-11-24T03:49:47.123456Z" for CLOCK_REALTIME ns (the seconds part is
 * worked out once a second: events come thousands a second) */
void jb_rfc3339(struct jbuf *b, int64_t realtime_ns);

#endif /* JSON_H */
