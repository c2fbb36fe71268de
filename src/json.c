// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
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

void json_write_string(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = bounded_len(s, n), i = 0;

	fputc('"', f);
	while (i < len) {
		unsigned char c = p[i];
		size_t ul;

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c == '\n') {
			fputs("\\n", f), i++;
		} else if (c == '\t') {
			fputs("\\t", f), i++;
		} else if (c == '\r') {
			fputs("\\r", f), i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else if ((ul = utf8_len(p + i, len - i)) == 0) {
			fputs("\\ufffd", f);
			i++;
		} else {
			/* C1 controls (U+0080..U+009F) are escaped too */
			if (ul == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)
				fprintf(f, "\\u%04x", p[i + 1]);
			else
				fwrite(p + i, 1, ul, f);
			i += ul;
		}
	}
	fputc('"', f);
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
