// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include "outcome.h"

bool conn_abnormal(const struct conn *c)
{
	if (c->seen & (CONN_SAW_RETRANSMIT | CONN_SAW_RST | CONN_SAW_ERROR | CONN_SAW_WINDOW))
		return true;
	/* (a reset with no socket behind it was caught above) */
	if (!c->cause_known)
		return false;
	switch (c->cause) {
	case CAUSE_APP_CLOSE:
	case CAUSE_PEER_CLOSE:
	case CAUSE_PROCESS_EXIT:
		return false;
	default:
		return true;
	}
}

bool outcome_wanted(const struct outcome_filter *f, const struct conn *c)
{
	if (f->abnormal && !conn_abnormal(c))
		return false;
	if (f->causes && (!c->cause_known || !(f->causes & (1u << c->cause))))
		return false;
	return true;
}

int outcome_parse_causes(const char *list, uint32_t *mask, char *bad_buf, size_t bad_len)
{
	const char *p = list;

	if (bad_len)
		bad_buf[0] = '\0';
	if (!list || !*list)
		return -1;
	while (1) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int found = -1;

		for (int cause = CAUSE_UNKNOWN; cause <= CAUSE_SYN_TIMEOUT; cause++) {
			const char *name = cause_name((enum tl_cause)cause);

			if (strlen(name) == len && !strncmp(name, p, len)) {
				found = cause;
				break;
			}
		}
		if (found < 0) {
			if (bad_len)
				snprintf(bad_buf, bad_len, "%.*s", (int)len, p);
			return -1;
		}
		*mask |= 1u << found;
		if (!end)
			return 0;
		p = end + 1;
	}
}
