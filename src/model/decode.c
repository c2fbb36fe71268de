// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include "decode.h"

/* The record layout is shared with the BPF side: a change of size is a change
 * of contract between the two, caught here at build time. */
_Static_assert(sizeof(struct tt_event) == 144, "struct tt_event changed size");

int decode_event(const void *data, size_t size, struct tt_event *out)
{
	const struct tt_event *e = data;

	if (!data || size < sizeof(*e))
		return -EINVAL;
	if (e->type < TT_EV_STATE || e->type >= TT_EV_TYPE_MAX)
		return -EINVAL;
	if (e->type != TT_EV_DESTROY && e->family != 4 && e->family != 6)
		return -EINVAL;
	memcpy(out, e, sizeof(*out));
	out->owner_comm[TT_COMM_LEN - 1] = '\0';
	out->actor_comm[TT_COMM_LEN - 1] = '\0';
	if (out->type == TT_EV_DATA && out->data.dir > TT_DIR_OUT)
		return -EINVAL;
	return 0;
}
