/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the benchmark workloads share. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

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

/* utime+stime of this process (all threads), in seconds. */
static inline double cpu_secs(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* CLOCK_MONOTONIC, in seconds. */
static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif /* BENCH_UTIL_H */
