/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --metrics: libmicrohttpd serves the latest published exposition text at
 * /metrics from its own thread. The event loop renders a snapshot and
 * publishes it; the HTTP thread only ever copies that text under a mutex,
 * so it never reads the counters while they change.
 */
#ifndef METRICS_HTTP_H
#define METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct metrics_http;

/* family 0: every address (IPv6 and IPv4, or IPv4 alone where there is no
 * IPv6); 4 or 6 with a numeric addr. NULL with a one-line reason in err. */
struct metrics_http *metrics_http_start(uint8_t family, const char *addr, uint16_t port, char *err,
					size_t errlen);
/* Takes ownership of text (malloc'd, len bytes). */
void metrics_http_publish(struct metrics_http *m, char *text, size_t len);
/* Scrapes served so far. */
uint64_t metrics_http_requests(struct metrics_http *m);
void metrics_http_stop(struct metrics_http *m);

#endif /* METRICS_HTTP_H */
