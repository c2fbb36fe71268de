/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the benchmark workloads share. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* A whole number in [min, max] for option `what`, or exit 2 with one line. */
static inline long parse_long(const char *prog, const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "%s: bad %s '%s' (%ld..%ld)\n", prog, what, s, min, max);
		exit(2);
	}
	return v;
}

/* A duration in seconds, (0, 3600]: exits 2 with a one-line error otherwise. */
static inline double parse_secs(const char *prog, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !(v > 0) || v > 3600) {
		fprintf(stderr, "%s: bad duration '%s'\n", prog, s);
		exit(2);
	}
	return v;
}

#endif /* BENCH_UTIL_H */
