/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Whose sockets are followed: -p PID, -x CMD (the command and every process
 * it forks, followed in the kernel) and --cgroup PATH (tasks in that cgroup
 * v2 or below). Asked once per socket, in the process context of connect()
 * and listen(); an accepted socket follows its listener (the listeners map
 * holds only wanted listeners while one of these filters is on). Included by
 * tcptimeline.bpf.c after count() and current_tgid().
 */
#ifndef OWNER_FILTER_BPF_H
#define OWNER_FILTER_BPF_H

/* -x: the command's tgid is put in `traced` by user space before it runs */
const volatile __u8 filter_traced = 0;
/* --cgroup: the cgroup's id (its kernfs node id, as name_to_handle_at gives it) */
const volatile __u64 filter_cgroup_id = 0;

/* How far up from a task's cgroup the --cgroup filter looks for PATH. */
#define TT_CGROUP_MAX_DEPTH 32

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32); /* tgid */
	__type(value, __u8);
} traced SEC(".maps");

static __always_inline bool owner_filter_on(void)
{
	return filter_pid || filter_traced || filter_cgroup_id;
}

/* The current task's cgroup v2 is filter_cgroup_id or below it: walk up
 * from task->cgroups->dfl_cgrp (CO-RE reads, which work in tp_btf programs
 * from 5.10 on; bpf_get_current_ancestor_cgroup_id is not available to
 * tracing programs there). A parent is its css, `self`, in struct cgroup. */
static __always_inline bool current_in_cgroup(void)
{
	struct task_struct *task;
	struct cgroup *cg;

	if (bpf_get_current_cgroup_id() == filter_cgroup_id)
		return true;
	task = (struct task_struct *)bpf_get_current_task();
	cg = BPF_CORE_READ(task, cgroups, dfl_cgrp);
	for (int i = 0; i < TT_CGROUP_MAX_DEPTH && cg; i++) {
		struct cgroup_subsys_state *parent;

		if (BPF_CORE_READ(cg, kn, id) == filter_cgroup_id)
			return true;
		parent = BPF_CORE_READ(cg, self.parent);
		if (!parent)
			break;
		cg = (struct cgroup *)((char *)parent - bpf_core_field_offset(struct cgroup, self));
	}
	return false;
}

/* Are the current task's new sockets ours? (connect, listen) */
static __always_inline bool current_wanted(void)
{
	__u32 tgid;

	if (!owner_filter_on())
		return true;
	tgid = current_tgid();
	if (filter_pid && tgid != filter_pid)
		return false;
	if (filter_traced && !bpf_map_lookup_elem(&traced, &tgid))
		return false;
	if (filter_cgroup_id && !current_in_cgroup())
		return false;
	return true;
}

/* A listener's child: followed when the listener was (its owner in the
 * listeners map; with -p, the owner user space seeded must be that pid). */
static __always_inline bool listener_wanted(const struct tt_owner *owner)
{
	if (!owner_filter_on())
		return true;
	return owner && (!filter_pid || owner->pid == filter_pid);
}

/* -x: a traced process's children are traced (threads share its tgid). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	if (ptgid == ctgid || !bpf_map_lookup_elem(&traced, &ptgid))
		return 0;
	if (bpf_map_update_elem(&traced, &ctgid, &one, BPF_ANY))
		count(TT_CNT_TRACED_FULL);
	return 0;
}

/* ... and forgotten when the last thread of the process exits (signal->live
 * is already decremented here), so a reused pid is not traced. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (BPF_CORE_READ(p, signal, live.counter) == 0)
		bpf_map_delete_elem(&traced, &tgid);
	return 0;
}

#endif /* OWNER_FILTER_BPF_H */
