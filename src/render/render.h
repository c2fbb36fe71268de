/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Renderers: pure functions from tl_events to text. They never touch libbpf. */
#ifndef RENDER_H
#define RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "text.h" /* format_rfc3339, text_sanitize */
#include "timeline.h"

struct render_opts {
	int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	uint64_t start_ns;	    /* CLOCK_MONOTONIC at start: text shows seconds since */
	bool timestamp;		    /* text: wall-clock time instead of seconds since start */
	bool color;
};

/* One JSON object and a newline. */
void render_json(FILE *f, const struct tl_event *ev, const struct render_opts *o);
/* One readable line, prefixed with the connection id. */
void render_text(FILE *f, const struct tl_event *ev, const struct render_opts *o);

#endif /* RENDER_H */
