// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdbool.h>
#include "log_scan.h"

uint32_t log_scan_region(struct tt_log_slot *slots, uint32_t region_slots,
			 struct log_scan_cursor *cur, uint32_t next, uint64_t now,
			 uint64_t budget_ns, log_scan_take_fn take, void *ctx)
{
	uint32_t lo = cur->lo, keep = next, mask = region_slots - 1;
	bool young_seen = false;

	/* a region that wrapped since: every slot may hold a log */
	if (next - lo > region_slots)
		lo = next - region_slots;
	for (uint32_t v = lo; v != next; v++) {
		struct tt_log_slot *slot = &slots[v & mask];
		__u64 sk = __atomic_load_n(&slot->sk, __ATOMIC_ACQUIRE);

		if (!sk)
			continue;
		if (now < slot->ts || now - slot->ts < budget_ns) {
			if (!young_seen) {
				young_seen = true;
				keep = v;
			}
			continue;
		}
		take(ctx, sk);
		/* looked at: cleared, unless the slot holds another log now */
		__atomic_compare_exchange_n(&slot->sk, &sk, 0, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_RELAXED);
	}
	/* the slots given out since the previous walk are walked again: one
	 * may have been counted but not written yet when it was read */
	if ((int32_t)(cur->prev - keep) < 0 && (int32_t)(next - cur->prev) >= 0)
		keep = cur->prev;
	if ((int32_t)(keep - lo) < 0)
		keep = lo;
	cur->lo = keep;
	cur->prev = next;
	return next - lo;
}
