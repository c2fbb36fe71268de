/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Checking a ring buffer record before anything trusts it. */
#ifndef DECODE_H
#define DECODE_H

#include <stddef.h>
#include "tcptimeline.h"

/* 0 and *out filled if data is a well-formed tt_event; -EINVAL otherwise. */
int decode_event(const void *data, size_t size, struct tt_event *out);

/* The same check without the copy: data itself if it is a well-formed
 * tt_event, else NULL. Its comm fields may lack their NUL; the connection
 * table terminates its own copies. For the ring buffer's hot path (the
 * first touch of a record is its cost; a copy of 144 bytes doubles it). */
const struct tt_event *decode_event_view(const void *data, size_t size);

/* Which record a ring buffer sample is: records differ in size. */
enum tt_record_kind {
	TT_RECORD_BAD = 0,
	TT_RECORD_EVENT,
	TT_RECORD_DROP,
	TT_RECORD_RTT,
	TT_RECORD_WINDOW,
	TT_RECORD_DATA,
	TT_RECORD_STATE,
	TT_RECORD_LOG,
};
enum tt_record_kind decode_record_kind(const void *data, size_t size);

/* 0 and *out filled if data is a well-formed tt_drop; -EINVAL otherwise. */
int decode_drop(const void *data, size_t size, struct tt_drop *out);

/* 0 and *out filled if data is a well-formed tt_rtt; -EINVAL otherwise. */
int decode_rtt(const void *data, size_t size, struct tt_rtt *out);

/* 0 and *out filled if data is a well-formed tt_window; -EINVAL otherwise. */
int decode_window(const void *data, size_t size, struct tt_window *out);

/* 0 and *out filled if data is a well-formed tt_data; -EINVAL otherwise. */
int decode_data(const void *data, size_t size, struct tt_data *out);

/* 0 and *out filled if data is a well-formed tt_state; -EINVAL otherwise
 * (its actor_comm is NUL-terminated in *out). */
int decode_state(const void *data, size_t size, struct tt_state *out);

/* 0 and *out filled if data is a well-formed tt_log; -EINVAL otherwise. */
int decode_log(const void *data, size_t size, struct tt_log *out);
/* The record itself if data is a well-formed tt_log (read in place: its
 * owner_comm may lack its NUL, decode_log_entry adds it); NULL otherwise. */
const struct tt_log *decode_log_view(const void *data, size_t size);
/* Entry i (< l->h.n) of a checked log as the full tt_event it stands for. */
void decode_log_entry(const struct tt_log *l, unsigned int i, struct tt_event *out);
/* The same into an out that decode_log_entry filled from the same log
 * (another entry): only what differs between entries is written, the
 * socket's identity is kept (the result is the same bytes). */
void decode_log_entry_next(const struct tt_log *l, unsigned int i, struct tt_event *out);

#endif /* DECODE_H */
