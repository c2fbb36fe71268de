// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "json.h"
#include "text.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t n)
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

size_t bounded_len(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i])
		i++;
	return i;
}

void format_rfc3339(int64_t realtime_ns, char *buf, size_t len)
{
	struct jbuf b;

	if (!len)
		return;
	jb_init(&b);
	jb_rfc3339(&b, realtime_ns);
	if (b.len >= len)
		b.len = len - 1;
	memcpy(buf, b.buf, b.len);
	buf[b.len] = '\0';
}

void text_sanitize(const char *s, size_t n, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t in = bounded_len(s, n), i = 0, o = 0;

	if (!len)
		return;
	while (i < in && o + 1 < len) {
		size_t ul = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, in - i);

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

/* U+FFFD REPLACEMENT CHARACTER */
#define REPLACEMENT "\xef\xbf\xbd"

void xml_write_escaped(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t in = bounded_len(s, n), i = 0;

	while (i < in) {
		size_t ul = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, in - i);

		if (!ul || (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n') || p[i] == 0x7f ||
		    (ul == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			fputs(REPLACEMENT, f);
			i += ul ? ul : 1;
			continue;
		}
		switch (p[i]) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fwrite(p + i, 1, ul, f);
			break;
		}
		i += ul;
	}
}
