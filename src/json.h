/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Strings a process chooses (its comm) are hostile: escaped for JSON,
 * stripped of control characters for a terminal. */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>
#include <stdio.h>

/* Write s (at most n bytes, stops at NUL) as a JSON string literal, quotes
 * included. Control characters become \uXXXX, quote and backslash are
 * escaped, bytes that are not valid UTF-8 become U+FFFD. */
void json_write_string(FILE *f, const char *s, size_t n);

/* Copy s (at most n bytes) to buf for a terminal: control characters
 * (C0, DEL, C1, ESC sequences) become '?'. Always NUL-terminates. */
void text_sanitize(const char *s, size_t n, char *buf, size_t len);

#endif /* JSON_H */
