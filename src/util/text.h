/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Strings for people, shared by every renderer: times, and the strings a
 * process chooses (its comm), which are hostile: stripped of control
 * characters for a terminal, escaped for HTML and XML (json.h escapes them
 * for JSON).
 */
#ifndef TEXT_H
#define TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "2026-11-24T03:49:47.123456Z" */
void format_rfc3339(int64_t realtime_ns, char *buf, size_t len);

/* Copy s (at most n bytes) to buf for a terminal: control characters
 * (C0, DEL, C1, ESC sequences) become '?'. Always NUL-terminates. */
void text_sanitize(const char *s, size_t n, char *buf, size_t len);

/* Write s (at most n bytes, stops at NUL) as HTML/XML character data or an
 * attribute value: & < > " ' escaped; control characters, and bytes that are
 * not valid UTF-8, become U+FFFD (XML 1.0 allows no C0 controls). */
void xml_write_escaped(FILE *f, const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* strnlen, without needing POSIX 2008 */
size_t bounded_len(const char *s, size_t n);

#endif /* TEXT_H */
