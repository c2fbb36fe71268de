// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "json.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static size_t bounded_len(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i])
		i++;
	return i;
}

void jb_u64(struct jbuf *b, uint64_t v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";
	char tmp[20];
	size_t i = sizeof(tmp);

	while (v >= 100) {
		unsigned int r = (unsigned int)(v % 100);

		v /= 100;
		tmp[--i] = pairs[2 * r + 1];
		tmp[--i] = pairs[2 * r];
	}
	if (v >= 10) {
		tmp[--i] = pairs[2 * v + 1];
		tmp[--i] = pairs[2 * v];
	} else {
		tmp[--i] = (char)('0' + v);
	}
	jb_mem(b, tmp + i, sizeof(tmp) - i);
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

			while (j < len && p[j] >= 0x20 && p[j] < 0x7f && p[j] != '"' && p[j] != '\\')
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
		} else if ((ul = utf8_len(p + i, len - i)) == 0) {
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

void text_sanitize(const char *s, size_t n, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t in = bounded_len(s, n), i = 0, o = 0;

	if (!len)
		return;
	while (i < in && o + 1 < len) {
		size_t ul = p[i] < 0x80 ? 1 : utf8_len(p + i, in - i);

		if (p[i] < 0x20 || p[i] == 0x7f || ul == 0 ||
		    (ul == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			buf[o++] = '?';
			i += ul ? ul : 1;
		} else if (o + ul < len) {
			for (size_t k = 0; k < ul; k++)
				buf[o++] = (char)p[i + k];
			i += ul;
		} else {
			break;
		}
	}
	buf[o] = '\0';
}
