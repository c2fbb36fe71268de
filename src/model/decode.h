/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Checking a ring buffer record before anything trusts it. */
#ifndef DECODE_H
#define DECODE_H

#include <stddef.h>
#include "tcptimeline.h"

/* 0 and *out filled if data is a well-formed tt_event; -EINVAL otherwise. */
int decode_event(const void *data, size_t size, struct tt_event *out);

#endif /* DECODE_H */
