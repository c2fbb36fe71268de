/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* --cgroup PATH: the cgroup v2 whose tasks' sockets are traced. */
#ifndef CGROUP_H
#define CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cgroup_sel {
	uint64_t id;	 /* the cgroup's id: what bpf_get_current_cgroup_id returns */
	char path[4096]; /* as /proc/PID/cgroup names it: "/system.slice/x.service" */
};

/* PATH absolute, or relative to the cgroup v2 mount (/sys/fs/cgroup):
 * "system.slice/nginx.service". Returns 0, or -errno with a one-line
 * reason in err (not a directory, not cgroup v2, ...). */
int cgroup_resolve(const char *path, struct cgroup_sel *sel, char *err, size_t errlen);
/* Is process pid in the cgroup or below it? (/proc/PID/cgroup) */
bool cgroup_has_pid(const struct cgroup_sel *sel, uint32_t pid);

#endif /* CGROUP_H */
