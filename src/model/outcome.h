/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Outcome filters (--abnormal, --cause): which connections are worth
 * printing, decided from what the connection table knows about them. The
 * rule for "abnormal" is one function, conn_abnormal, so that new kinds of
 * trouble (drops, zero-window stalls) are one line each.
 */
#ifndef OUTCOME_H
#define OUTCOME_H

#include <stdbool.h>
#include <stdint.h>
#include "conn_table.h"

struct outcome_filter {
	bool abnormal;	 /* --abnormal */
	uint32_t causes; /* --cause: bit (1 << enum tl_cause) per cause; 0: any */
};

/* Any outcome filter on: connections are held until they qualify
 * (inline: main's sink asks at every event) */
static inline bool outcome_filter_on(const struct outcome_filter *f)
{
	return f->abnormal || f->causes;
}

/* A connection a person would want to look at: closed with a cause other
 * than app_close, peer_close or process_exit, or it had a retransmit, a
 * reset or an error reported to the application. For one still open, only
 * what it went through so far counts. */
bool conn_abnormal(const struct conn *c);

/* c passes every filter of f (an open connection never passes --cause). */
bool outcome_wanted(const struct outcome_filter *f, const struct conn *c);

/* "killed,rst_in": the contract's cause names, comma-separated, into a
 * bit mask (ORed into *mask). 0, or -1 with *bad pointing at the first
 * unknown name (a copy in bad_buf). */
int outcome_parse_causes(const char *list, uint32_t *mask, char *bad_buf, size_t bad_len);

#endif /* OUTCOME_H */
