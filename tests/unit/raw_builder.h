/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Building kernel records by hand, as the BPF side would emit them. */
#ifndef RAW_BUILDER_H
#define RAW_BUILDER_H

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "names.h"
#include "tcptimeline.h"

#define CLIENT_SK 0xffff888000001000ULL
#define SERVER_SK 0xffff888000002000ULL

static inline struct tt_event raw_base(__u64 sk, __u64 birth, __u8 type, __u64 ts, int client)
{
	struct tt_event e;

	memset(&e, 0, sizeof(e));
	e.sk = sk;
	e.birth_ns = birth;
	e.type = type;
	e.ts_ns = ts;
	e.family = 4;
	e.saddr[0] = 127, e.saddr[3] = 1;
	e.daddr[0] = 127, e.daddr[3] = 1;
	e.lport = client ? 49306 : 9000;
	e.rport = client ? 9000 : 49306;
	return e;
}

static inline void raw_owner(struct tt_event *e, __u32 pid, const char *comm)
{
	e->owner_pid = pid;
	snprintf(e->owner_comm, TT_COMM_LEN, "%s", comm);
}

static inline void raw_actor(struct tt_event *e, __u32 pid, const char *comm, int exiting,
			     int exit_code)
{
	e->actor_pid = pid;
	snprintf(e->actor_comm, TT_COMM_LEN, "%s", comm);
	e->actor_flags = exiting ? TT_ACTOR_EXITING : 0;
	e->exit_code = exit_code;
}

static inline struct tt_event raw_state(__u64 sk, __u64 birth, __u64 ts, int client, int o, int n)
{
	struct tt_event e = raw_base(sk, birth, TT_EV_STATE, ts, client);

	e.old_state = o;
	e.new_state = n;
	return e;
}

static inline struct tt_event raw_data(__u64 sk, __u64 birth, __u64 ts, int client, int dir,
				       __u64 bytes)
{
	struct tt_event e = raw_base(sk, birth, TT_EV_DATA, ts, client);

	e.data.dir = dir;
	e.data.bytes = bytes;
	e.data.segs = 1;
	return e;
}

#endif /* RAW_BUILDER_H */
