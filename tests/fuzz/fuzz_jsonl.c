// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: arbitrary bytes as a recording read back (-r), through
 * jsonl_reader -> connection table -> every renderer (JSON and text again,
 * the ladder queue on the recording's clock, ladders and the HTML page), as
 * main.c wires them for --read. Any JSON, any order, any ids (unknown
 * connections, events after a close, a close twice, ids reused across
 * families), time going backwards, lines cut short. Seeds in
 * tests/fuzz/corpus/jsonl/ are the golden recordings (the .jsonl files in
 * tests/unit/golden) and a few bad lines.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "fuzz_app.h"
#include "jsonl_reader.h"

static size_t tick(uint64_t now, void *ctx)
{
	struct fuzz_app *a = ctx;

	ladder_queue_tick(a->q, now);
	return ladder_queue_pending(a->q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_app a;
	struct jsonl_reader_opts ro = { 0 };
	struct jsonl_reader_stats st;
	FILE *in, *err;

	if (!size)
		return 0;
	err = fopen("/dev/null", "w");
	in = fmemopen((void *)data, size, "r");
	if (!err || !in)
		abort();
	fuzz_app_init(&a, size);
	ro.table = a.t;
	ro.name = "fuzz.jsonl";
	ro.err = err;
	ro.realtime_offset_ns = &a.ro.realtime_offset_ns;
	ro.start_ns = &a.ro.start_ns;
	ro.tick = tick;
	ro.ctx = &a;
	jsonl_read(in, &ro, &st);
	fuzz_app_fini(&a);
	fclose(in);
	fclose(err);
	return 0;
}
