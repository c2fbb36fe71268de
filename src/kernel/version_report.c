// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The version report (-V): everything a bug report needs about the machine,
 * found the way the loader and bpf/core_fixes.bpf.h find it (the kernel's
 * BTF: tracepoint typedefs, trace-event structs, struct members), so it
 * works unprivileged and says the same thing the tracer would do.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <bpf/libbpf_version.h>
#include "version_report.h"
#include "tcptimeline.skel.h"

#ifndef TCPTIMELINE_VERSION
#define TCPTIMELINE_VERSION "0.1"
#endif

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* Tracepoint arguments added in later kernels that change what we record,
 * as bpf/core_fixes.bpf.h tests them: a member of the trace-event struct. */
static const struct {
	const char *tp;
	const char *field;
	const char *since;
	const char *meaning;
} newer_args[] = {
	{ "tcp_send_reset", "reason", "6.10", "reset reasons" },
	{ "tcp_retransmit_skb", "err", "6.17", "failed retransmits" },
};

static bool struct_has_member(const struct btf *btf, const char *sname, const char *member)
{
	int id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);
	const struct btf_type *t;
	const struct btf_member *m;

	if (id <= 0)
		return false;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *n = btf__name_by_offset(btf, m->name_off);

		if (n && !strcmp(n, member))
			return true;
	}
	return false;
}

/* The size in bytes of sname.member, 0 when either is missing. */
static int member_size(const struct btf *btf, const char *sname, const char *member)
{
	int id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);
	const struct btf_type *t;
	const struct btf_member *m;

	if (id <= 0)
		return 0;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const char *n = btf__name_by_offset(btf, m->name_off);

		if (n && !strcmp(n, member)) {
			long sz = btf__resolve_size(btf, m->type);

			return sz > 0 ? (int)sz : 0;
		}
	}
	return 0;
}

/* A short C spelling of a parameter type: "const struct sock *", "int". */
static void type_str(const struct btf *btf, __u32 id, char *buf, size_t len)
{
	const char *quals = "";
	int ptrs = 0;
	const struct btf_type *t = btf__type_by_id(btf, id);

	for (int guard = 0; t && guard < 16; guard++) {
		if (btf_is_const(t))
			quals = "const ";
		else if (btf_is_ptr(t))
			ptrs++;
		else if (!btf_is_volatile(t) && !btf_is_restrict(t) && !btf_is_type_tag(t))
			break;
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (!t || id == 0) {
		snprintf(buf, len, "%svoid %.*s", quals, ptrs, "****************");
		return;
	}
	const char *name = btf__name_by_offset(btf, t->name_off);
	const char *kind = btf_is_struct(t)   ? "struct " :
			   btf_is_union(t)    ? "union " :
			   btf_is_any_enum(t) ? "enum " :
						"";

	snprintf(buf, len, "%s%s%s%s%.*s", quals, kind, name && *name ? name : "?", ptrs ? " " : "",
		 ptrs, "****************");
}

/* "(const struct sock *, int, int)": the tracepoint's own arguments, from the
 * function prototype of its btf_trace_ typedef (the first, the context, left
 * out). Empty when the tracepoint is missing. */
static bool tracepoint_args(const struct btf *btf, const char *tp, char *buf, size_t len)
{
	char name[128];
	const struct btf_type *t;
	int id;
	size_t off = 0;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	buf[0] = '\0';
	if (id <= 0)
		return false;
	t = btf__type_by_id(btf, id);
	t = t ? btf__type_by_id(btf, t->type) : NULL; /* the pointer */
	t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
	if (!t || !btf_is_func_proto(t))
		return true;
	const struct btf_param *p = btf_params(t);

	off += snprintf(buf + off, len - off, "(");
	for (int i = 1; i < btf_vlen(t) && off < len; i++) {
		char ty[96];

		type_str(btf, p[i].type, ty, sizeof(ty));
		off += snprintf(buf + off, len - off, "%s%s", i > 1 ? ", " : "", ty);
	}
	if (off < len)
		snprintf(buf + off, len - off, ")");
	return true;
}

static void report_tracepoints(FILE *out, const struct btf *btf)
{
	struct tcptimeline_bpf *skel = tcptimeline_bpf__open();
	struct bpf_program *prog;

	if (!skel) {
		fprintf(out, "tracepoints: unknown (cannot open the BPF object: %s)\n",
			strerror(errno));
		return;
	}
	fprintf(out, "tracepoints:\n");
	/* the programs' own sections: every tracepoint the tracer attaches to */
	bpf_object__for_each_program(prog, skel->obj) {
		const char *sec = bpf_program__section_name(prog);
		char args[512];
		bool found;

		if (!sec || strncmp(sec, "tp_btf/", 7))
			continue;
		sec += 7;
		if (!btf) {
			fprintf(out, "  %s: unknown (no BTF)\n", sec);
			continue;
		}
		found = tracepoint_args(btf, sec, args, sizeof(args));
		fprintf(out, "  %s: %s%s%s", sec, found ? "yes" : "missing", *args ? " " : "",
			args);
		for (size_t i = 0; found && i < sizeof(newer_args) / sizeof(newer_args[0]); i++) {
			char sname[128];

			if (strcmp(newer_args[i].tp, sec))
				continue;
			snprintf(sname, sizeof(sname), "trace_event_raw_%s", sec);
			fprintf(out, "; %s (%s+, %s): %s", newer_args[i].field, newer_args[i].since,
				newer_args[i].meaning,
				struct_has_member(btf, sname, newer_args[i].field) ? "yes" : "no");
		}
		fputc('\n', out);
	}
	tcptimeline_bpf__destroy(skel);
}

int version_report(FILE *out, const char *btf_path)
{
	struct utsname u;
	struct btf *btf = NULL;
	const char *path = btf_path && *btf_path ? btf_path : VMLINUX_BTF;
	int err = 0;

	fprintf(out, "tcptimeline %s\n", TCPTIMELINE_VERSION);
	fprintf(out, "libbpf %u.%u (built with %d.%d)\n", libbpf_major_version(),
		libbpf_minor_version(), LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION);
	if (!uname(&u))
		fprintf(out, "kernel %s %s %s\n", u.sysname, u.release, u.machine);

	if (access(path, R_OK)) {
		err = errno;
	} else {
		btf = btf__parse(path, NULL);
		if (!btf)
			err = errno;
	}
	if (btf)
		fprintf(out, "BTF %s: yes (%u types)\n", path, btf__type_cnt(btf));
	else
		fprintf(out,
			"BTF %s: missing (%s): tcptimeline needs a kernel built with "
			"CONFIG_DEBUG_INFO_BTF=y\n",
			path, strerror(err));

	/* the ring buffer's struct is in BTF from 5.8 on; creating one needs root */
	fprintf(out, "BPF ring buffer: %s",
		!btf ? "unknown (no BTF)" :
		btf__find_by_name_kind(btf, "bpf_ringbuf", BTF_KIND_STRUCT) > 0 ? "yes" :
										  "no");
	if (geteuid() == 0)
		fprintf(out, "; creating one: %s",
			libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1 ? "works" :
										     "fails");
	else
		fprintf(out, "; creating one: not tried (needs root)");
	fputc('\n', out);

	report_tracepoints(out, btf);

	if (btf) {
		int id = btf__find_by_name_kind(btf, "sk_rst_reason", BTF_KIND_ENUM);
		const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;

		/* where bpf/core_fixes.bpf.h finds tcp_keepalive_timer's timer */
		fprintf(out, "keepalive timer: %s\n",
			struct_has_member(btf, "inet_connection_sock", "icsk_keepalive_timer") ?
				"inet_connection_sock.icsk_keepalive_timer" :
			struct_has_member(btf, "sock", "sk_timer") ? "sock.sk_timer" :
								     "unknown");
		fprintf(out, "tcp_skb_cb.tcp_flags: %d byte(s)\n",
			member_size(btf, "tcp_skb_cb", "tcp_flags"));
		if (t)
			fprintf(out, "enum sk_rst_reason: %d names\n", btf_vlen(t));
		else
			fprintf(out,
				"enum sk_rst_reason: missing (no reset reasons before 6.10)\n");
	}
	btf__free(btf);
	return 0;
}
