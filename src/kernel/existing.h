/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Connections already open when tracing begins: sock_diag netlink, as ss does. */
#ifndef EXISTING_H
#define EXISTING_H

#include <stdint.h>
#include "options.h"
#include "timeline.h"

struct existing_sock {
	struct tl_endpoints ep;
	uint8_t state;
	uint32_t inode;
	uint32_t pid; /* owner found through /proc/PID/fd; 0 unknown */
	char comm[16];
};

typedef void (*existing_fn)(const struct existing_sock *s, void *ctx);

/* Calls fn for every TCP socket matching env's filters (not TIME_WAIT).
 * Returns the number found or -errno. */
int existing_scan(const struct env *env, existing_fn fn, void *ctx);

#endif /* EXISTING_H */
