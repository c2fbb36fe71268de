/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Skeleton lifecycle: check the kernel, set filters, load, attach, ring buffer, counters. */
#ifndef LOADER_H
#define LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "options.h"
#include "tcptimeline.h"
#include "log_scan.h"

struct tcptimeline_bpf;

struct loader {
	struct tcptimeline_bpf *skel;
	struct ring_buffer *rb;
	int ncpus;
	bool has_error_report; /* inet_sk_error_report attached (5.14+) */
	/* the flight recorder's index of unsent socket logs, mmapped (NULL:
	 * the recorder is off, every record goes at once), and where a log
	 * read from the map goes: the ring buffer's callback */
	struct tt_log_slot *log_slots;
	uint32_t n_log_slots;
	void *log_value;
	struct log_scan_cursor *log_cursors; /* one a CPU's region */
	uint64_t *log_next;		     /* the per-CPU log_next_slot, read */
	ring_buffer_sample_fn on_event;
	void *ctx;
};

/* Load and attach everything. On failure returns -errno and writes a
 * one-line explanation of what to do into err. Warnings (features this
 * kernel lacks) go to warn_out. */
int loader_start(struct loader *l, const struct env *env, ring_buffer_sample_fn on_event, void *ctx,
		 FILE *warn_out, char *err, size_t errlen);
/* Sum of the per-CPU counters. */
int loader_read_counters(struct loader *l, uint64_t out[TT_CNT_MAX]);
/* Tell the kernel side who owns a listener found at start. */
int loader_seed_listener(struct loader *l, uint8_t family, uint16_t port, uint32_t pid,
			 const char *comm);
/* -x: trace this process and, from now on, every process it forks. */
int loader_trace_pid(struct loader *l, uint32_t pid);
int loader_ringbuf_fd(struct loader *l);
int loader_consume(struct loader *l);
/* The flight recorder's latency budget: the socket logs older than it
 * (an idle socket's handshake, one sitting in CLOSE_WAIT) read from the map
 * and handed to the ring buffer's callback as if they came from the ring.
 * Run every tick (50 ms); now: CLOCK_MONOTONIC ns. No-op when it is off. */
void loader_log_budget(struct loader *l, uint64_t now);
void loader_stop(struct loader *l);

#endif /* LOADER_H */
