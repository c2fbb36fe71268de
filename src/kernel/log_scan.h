/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The flight recorder's index of unsent socket logs, walked without reading
 * every slot every tick: only the slots of each CPU's region given out since
 * the oldest one that may still be pending. Pure (no libbpf): unit-tested. */
#ifndef LOG_SCAN_H
#define LOG_SCAN_H

#include <stdint.h>
#include "tcptimeline.h"

/* Where one region's walk stands, in the region's allocation counter (the
 * BPF side's log_next_slot for that CPU; slot = counter & (region - 1)). */
struct log_scan_cursor {
	uint32_t lo;   /* every slot given out before it is looked at (or was 0) */
	uint32_t prev; /* the counter read at the previous walk */
};

/* A slot whose log is older than the budget: look at it (read the log from
 * the map). The slot is cleared after, unless it holds another log now. */
typedef void (*log_scan_take_fn)(void *ctx, uint64_t sk);

/* Walk one region of region_slots (a power of two) slots whose allocation
 * counter reads next now: the slots given out from cur->lo to next (the
 * whole region if that is more than it holds). A slot still young stays for
 * a later walk, and so do those given out since the previous walk (the BPF
 * side moves the counter before it writes the slot). Returns the slots
 * read. */
uint32_t log_scan_region(struct tt_log_slot *slots, uint32_t region_slots,
			 struct log_scan_cursor *cur, uint32_t next, uint64_t now,
			 uint64_t budget_ns, log_scan_take_fn take, void *ctx);

#endif /* LOG_SCAN_H */
