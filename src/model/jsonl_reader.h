/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reading a recording back (-r/--read): the JSON Lines --json wrote, one
 * line at a time, into the tl_events the connection table emitted, and into
 * a connection table again (conn_table_add_event), so every renderer draws
 * what it drew live. No kernel, no BPF, no privileges. Lines are taken in
 * the order they were written (emission order: not time order across
 * connections, and the live table depended on that order); time only drives
 * the ladder queue's clock.
 */
#ifndef JSONL_READER_H
#define JSONL_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "conn_table.h"
#include "timeline.h"

/* The live loop drains the ring and ticks the ladder queue this often: a
 * replay ticks it as often in the recording's own time. */
#define JSONL_TICK_NS 50000000ULL
/* Longer lines are malformed (the tracer's are under 4 KiB). */
#define JSONL_MAX_LINE 65536
/* Malformed lines named one by one on err; the rest only counted. */
#define JSONL_MAX_NAMED 10

enum jsonl_parse {
	JSONL_EVENT = 0, /* *ev filled */
	JSONL_BLANK,	 /* an empty line: nothing */
	JSONL_UNKNOWN,	 /* a well-formed event of a kind this build does not know */
	JSONL_MALFORMED, /* not JSON, not an object, a field missing or of the wrong type */
};

/*
 * One line (without or with its newline) into *ev. *time_us: the `time`
 * field as microseconds since the epoch, or INT64_MIN when absent. On
 * JSONL_MALFORMED, why[] says what is wrong in a few words.
 */
enum jsonl_parse jsonl_parse_line(const char *line, size_t len, struct tl_event *ev,
				  int64_t *time_us, char *why, size_t why_len);

struct jsonl_reader_opts {
	struct conn_table *table;
	const char *name; /* the file as given, "-" is shown as "stdin": in messages */
	FILE *err;	  /* where malformed lines are named */
	/* kept up to date so that re-rendered `time` fields match the
	 * recording's to the microsecond (the recording has one offset; every
	 * line narrows down what it was) */
	int64_t *realtime_offset_ns;
	/* the first event's time: text output counts seconds from it */
	uint64_t *start_ns;
	/* the live loop's 50 ms tick, on the recording's clock: called for
	 * every tick time passed before the next event, as long as it returns
	 * non-zero (the ladder queue holds something; an idle queue lets the
	 * reader jump over idle hours) */
	size_t (*tick)(uint64_t now_ns, void *ctx);
	void *ctx;
};

struct jsonl_reader_stats {
	uint64_t lines;
	uint64_t events;
	uint64_t malformed;
	uint64_t unknown; /* events of kinds this build does not know, skipped */
	uint64_t first_malformed_line;
};

/* Every line of in. 0, or -errno when reading failed. */
int jsonl_read(FILE *in, const struct jsonl_reader_opts *o, struct jsonl_reader_stats *st);

#endif /* JSONL_READER_H */
