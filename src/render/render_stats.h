/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The aggregated counters (model/stats.h) as text: the Prometheus
 * exposition format, the --summary table and the JSON `summary` event. */
#ifndef RENDER_STATS_H
#define RENDER_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "render.h"
#include "stats.h"

/* The Prometheus text exposition format (version 0.0.4), every family. */
void render_metrics(FILE *f, const struct stats *s, const char *version);
/* A label value: backslash, double quote and newline escaped, other
 * control characters and bytes that are not UTF-8 replaced by '?'. */
void prom_label_value(FILE *f, const char *s, size_t n);

/* --summary: a table per port and per process (counts since start). */
void render_summary_text(FILE *f, const struct stats *s, uint64_t elapsed_ns, bool final);
/* The same as one JSON line, event "summary". */
void render_summary_json(FILE *f, const struct stats *s, uint64_t ts_ns, uint64_t elapsed_ns,
			 bool final, const struct render_opts *o);

#endif /* RENDER_STATS_H */
