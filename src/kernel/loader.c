// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <zlib.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "loader.h"
#include "names.h"
#include "tcptimeline.skel.h"

/* Every program, its tracepoint, and whether we can run without it. */
static const struct {
	const char *tp;
	bool optional;
	const char *without; /* what is lost when it is missing */
} hooks[] = {
	{ "inet_sock_set_state", false, NULL },
	{ "tcp_probe", false, NULL },
	{ "tcp_retransmit_skb", false, NULL },
	{ "tcp_retransmit_synack", false, NULL },
	{ "tcp_send_reset", false, NULL },
	{ "tcp_receive_reset", false, NULL },
	{ "tcp_destroy_sock", false, NULL },
	{ "timer_expire_entry", false, NULL },
	{ "timer_expire_exit", false, NULL },
	{ "inet_sk_error_report", true,
	  "errors are inferred from the socket when it closes (needs Linux 5.14+)" },
	{ "sk_data_ready", true,
	  "data received outside ESTABLISHED is stamped at the socket's next event (needs Linux 6.3+)" },
	{ "kfree_skb", true, "dropped segments are not reported" },
};

static struct bpf_program *prog_for(struct tcptimeline_bpf *skel, const char *tp)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, skel->obj)
		if (!strcmp(bpf_program__name(p), tp))
			return p;
	return NULL;
}

static bool btf_has_tracepoint(const struct btf *btf, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) > 0;
}

/* Whether the kernel's verifier takes BPF_CMPXCHG (5.12+, "bpf: Add
 * instructions for atomic_[cmp]xchg"): a four-instruction socket filter
 * that swaps a stack slot, loaded and closed at once. */
static bool kernel_has_bpf_cmpxchg(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1 },
		{ .code = BPF_STX | BPF_MEM | BPF_DW,
		  .dst_reg = BPF_REG_10,
		  .src_reg = BPF_REG_1,
		  .off = -8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_STX | BPF_ATOMIC | BPF_DW,
		  .dst_reg = BPF_REG_10,
		  .src_reg = BPF_REG_1,
		  .off = -8,
		  .imm = BPF_CMPXCHG },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Without BPF_CMPXCHG the verifier refuses any program that holds one,
 * reached or not (5.10 checks every instruction's reserved fields). Each
 * becomes a plain store of its new value: r0 keeps the value compared
 * against, so the code reads the swap as won, which is what the plain
 * (one writer at a time) code did. The instruction count stays, so the
 * relocations libbpf applies at load still point where they did. */
static int cmpxchg_to_store(struct bpf_object *obj)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj) {
		size_t n = bpf_program__insn_cnt(p);
		const struct bpf_insn *in = bpf_program__insns(p);
		struct bpf_insn *out = NULL;
		int ret;

		for (size_t i = 0; i < n; i++) {
			if (in[i].code != (BPF_STX | BPF_ATOMIC | BPF_DW) ||
			    in[i].imm != BPF_CMPXCHG)
				continue;
			if (!out) {
				out = malloc(n * sizeof(*out));
				if (!out)
					return -ENOMEM;
				memcpy(out, in, n * sizeof(*out));
			}
			out[i].code = BPF_STX | BPF_MEM | BPF_DW;
			out[i].imm = 0;
		}
		if (!out)
			continue;
		ret = bpf_program__set_insns(p, out, n);
		free(out);
		if (ret)
			return ret;
	}
	return 0;
}

/* Whether the running kernel's struct `st` has a member `member`. */
static bool btf_struct_has_member(const struct btf *btf, const char *st, const char *member)
{
	int id = btf__find_by_name_kind(btf, st, BTF_KIND_STRUCT);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_member *m = t ? btf_members(t) : NULL;

	for (int i = 0; t && i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, m[i].name_off), member))
			return true;
	return false;
}

/* fn(value, name with `prefix` cut) for every value of the running kernel's
 * enum `enum_name`, if it has one: the reason enums are renumbered between
 * versions, so their names are never compiled in. */
static void for_each_enum_value(const struct btf *btf, const char *enum_name, const char *prefix,
				void (*fn)(uint32_t value, const char *name))
{
	int id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
	size_t plen = strlen(prefix);
	const struct btf_type *t;
	const struct btf_enum *e;

	if (id <= 0)
		return;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++) {
		const char *name = btf__name_by_offset(btf, e->name_off);

		if (!name)
			continue;
		if (!strncmp(name, prefix, plen))
			name += plen;
		fn((uint32_t)e->val, name);
	}
}

/* enum sk_rst_reason (6.10+): "NOT_SPECIFIED" and the "MAX" sentinel are
 * no reasons; "TCP_" is cut too ("TCP_ABORT_ON_CLOSE" -> "ABORT_ON_CLOSE") */
static void rst_reason_add(uint32_t value, const char *name)
{
	if (!strcmp(name, "NOT_SPECIFIED") || !strcmp(name, "MAX"))
		return;
	if (!strncmp(name, "TCP_", 4))
		name += 4;
	rst_reason_register(value, name);
}

static void register_rst_reasons(const struct btf *btf)
{
	for_each_enum_value(btf, "sk_rst_reason", "SK_RST_REASON_", rst_reason_add);
}

/* enum skb_drop_reason (5.17+) */
static void register_drop_reasons(const struct btf *btf)
{
	for_each_enum_value(btf, "skb_drop_reason", "SKB_DROP_REASON_", drop_reason_register);
}

/* The running kernel's HZ from its build config (gzopen reads the plain
 * files too), 0 if none is readable: the BPF side turns jiffies into ns
 * with it (bpf/window.bpf.h). libbpf's __kconfig would refuse to load
 * without a config file; this only degrades. */
static unsigned int kernel_hz(void)
{
	struct utsname u;
	char path[2][320], line[256];
	const char *files[3] = { path[0], path[1], "/proc/config.gz" };
	unsigned int hz = 0;

	if (uname(&u))
		return 0;
	snprintf(path[0], sizeof(path[0]), "/boot/config-%s", u.release);
	snprintf(path[1], sizeof(path[1]), "/lib/modules/%s/config", u.release);
	for (int i = 0; i < 3 && !hz; i++) {
		gzFile f = gzopen(files[i], "rb");

		if (!f)
			continue;
		while (gzgets(f, line, sizeof(line)))
			if (sscanf(line, "CONFIG_HZ=%u", &hz) == 1)
				break;
		gzclose(f);
	}
	return hz >= 24 && hz <= 10000 ? hz : 0;
}

/*
 * The addresses of tcp_keepalive_timer and tcp_write_timer (static
 * functions: no BTF-typed ksym), which the timer programs compare every
 * expiring timer's function with. libbpf resolved them as untyped __ksym by
 * reading all of /proc/kallsyms with an sscanf per line (0.7 s of a tracer
 * start in a 7.2 guest under emulation); this reads it in large chunks,
 * compares names only, and stops once both are found (core kernel text,
 * before the modules: 85% of the way on the 6.18 host). A symbol that is
 * missing is an error, as it was libbpf's; addresses shown as 0 (no
 * CAP_SYSLOG, kernel.kptr_restrict) leave the timer events out, with a
 * warning.
 */
static int timer_addrs(uint64_t *keepalive, uint64_t *write, char *err, size_t errlen)
{
	static const char *const names[2] = { "tcp_keepalive_timer", "tcp_write_timer" };
	uint64_t *addr[2] = { keepalive, write };
	bool found[2] = { false, false };
	char buf[65536];
	size_t have = 0;
	int fd = open("/proc/kallsyms", O_RDONLY | O_CLOEXEC), nfound = 0;

	if (fd < 0) {
		snprintf(err, errlen, "cannot read /proc/kallsyms: %s", strerror(errno));
		return -errno;
	}
	while (nfound < 2) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		char *line = buf, *end, *nl;

		if (n <= 0)
			break;
		end = buf + have + n;
		/* "ffffffff8208c650 t tcp_keepalive_timer\n", "... [module]\n" */
		while (nfound < 2 && (nl = memchr(line, '\n', end - line))) {
			char *name = memchr(line, ' ', nl - line);

			if (name && nl - name > 3 && (name[1] == 't' || name[1] == 'T') &&
			    name[2] == ' ') {
				name += 3;
				for (int i = 0; i < 2; i++) {
					size_t len = strlen(names[i]);

					if (found[i] || (size_t)(nl - name) != len ||
					    memcmp(name, names[i], len))
						continue;
					*addr[i] = strtoull(line, NULL, 16);
					found[i] = true;
					nfound++;
				}
			}
			line = nl + 1;
		}
		have = end - line;
		memmove(buf, line, have);
		if (have == sizeof(buf))
			have = 0; /* no line is that long: drop it */
	}
	close(fd);
	for (int i = 0; i < 2; i++)
		if (!found[i]) {
			snprintf(err, errlen,
				 "kernel symbol %s not found in /proc/kallsyms: is this Linux with "
				 "TCP built in?",
				 names[i]);
			return -ESRCH;
		}
	return 0;
}

int loader_start(struct loader *l, const struct env *env, ring_buffer_sample_fn on_event, void *ctx,
		 FILE *warn_out, char *err, size_t errlen)
{
	struct btf *btf = NULL;
	int ret;

	memset(l, 0, sizeof(*l));
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(
			err, errlen,
			"this kernel has no BTF (/sys/kernel/btf/vmlinux): tcptimeline needs Linux 5.8+ "
			"built with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOENT;
	}
	btf = btf__load_vmlinux_btf();
	ret = libbpf_get_error(btf);
	if (ret || !btf) {
		btf = NULL;
		ret = ret ? ret : -ENOENT;
		snprintf(err, errlen, "cannot read the kernel's BTF: %s", strerror(-ret));
		goto cleanup;
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1) {
		if (geteuid() != 0) {
			snprintf(
				err, errlen,
				"permission denied: run as root (sudo tcptimeline ...) or with CAP_BPF and CAP_PERFMON");
			ret = -EPERM;
		} else {
			snprintf(
				err, errlen,
				"this kernel has no BPF ring buffer: tcptimeline needs Linux 5.8 or newer");
			ret = -EOPNOTSUPP;
		}
		goto cleanup;
	}
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		ret = l->ncpus ? l->ncpus : -EINVAL;
		snprintf(err, errlen, "cannot count CPUs: %s", strerror(-ret));
		goto cleanup;
	}

	/*
	 * CO-RE relocations against the running kernel's own BTF, named as a
	 * path: where a type the programs probe for is missing from vmlinux
	 * (trace_event_raw_tcp_send_reset before 6.10, ...), libbpf otherwise
	 * goes on to walk the modules' BTF objects, and BPF_BTF_GET_NEXT_ID
	 * needs CAP_SYS_ADMIN: EPERM ("failed to iterate BTF objects") under
	 * CAP_BPF + CAP_PERFMON alone (libbpf 1.1, Debian's 6.1 and 6.12).
	 * Every hook and every type the programs read is vmlinux's.
	 */
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = "/sys/kernel/btf/vmlinux");
	l->skel = tcptimeline_bpf__open_opts(&open_opts);
	ret = libbpf_get_error(l->skel);
	if (ret || !l->skel) {
		l->skel = NULL;
		ret = ret ? ret : -ENOMEM;
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(-ret));
		goto cleanup;
	}

	/* filters: set before load, read-only to the programs */
	l->skel->rodata->filter_ports_on = env->ports_on;
	memcpy((void *)l->skel->rodata->port_bits, env->port_bits, sizeof(env->port_bits));
	l->skel->rodata->filter_pid = env->pid;
	l->skel->rodata->filter_family = env->family;
	l->skel->rodata->filter_traced = env->exec;
	l->skel->rodata->filter_cgroup_id = env->cgroup_id;
	/* fork and exit run for every process on the machine: only for -x */
	bpf_program__set_autoload(l->skel->progs.sched_process_fork, env->exec);
	bpf_program__set_autoload(l->skel->progs.sched_process_exit, env->exec);
	l->skel->rodata->wakeup_bytes = env->ringbuf_mb * 1024u * 1024u / 8;
	l->skel->rodata->jiffy_ns = kernel_hz() ? 1000000000u / kernel_hz() : 0;
	if (!l->skel->rodata->jiffy_ns)
		fprintf(warn_out,
			"tcptimeline: warning: the kernel's build config (CONFIG_HZ) is not "
			"readable: our own zero windows are stamped when noticed\n");
	ret = timer_addrs((uint64_t *)&l->skel->rodata->tcp_keepalive_timer_addr,
			  (uint64_t *)&l->skel->rodata->tcp_write_timer_addr, err, errlen);
	if (ret)
		goto cleanup;
	if (!l->skel->rodata->tcp_keepalive_timer_addr || !l->skel->rodata->tcp_write_timer_addr)
		fprintf(warn_out,
			"tcptimeline: warning: /proc/kallsyms hides kernel addresses from us (no "
			"CAP_SYSLOG, kernel.kptr_restrict): TCP's keepalive and retransmit timers go "
			"unseen: keepalive probes and our zero-window probes are not reported, data "
			"out under loss is stamped when retransmitted\n");
	bpf_map__set_max_entries(l->skel->maps.events, env->ringbuf_mb * 1024u * 1024u);
	bpf_map__set_max_entries(l->skel->maps.socks, env->max_conns);
	/* the socket map as it was before 2026-12-02, for A/B measurements
	 * and as a way out (bpf/tcptimeline.bpf.c, socks) */
	if (getenv("TT_SOCKS_LRU"))
		bpf_map__set_type(l->skel->maps.socks, BPF_MAP_TYPE_LRU_HASH);
	/* the flight recorder: on unless the environment says otherwise (A/B
	 * measurements, and a way out should it misbehave) */
	l->skel->rodata->log_on = !getenv("TT_NO_FLIGHT_RECORDER");
	if (l->skel->rodata->log_on) {
		/* the index of unsent logs: a region per possible CPU, ~64 Ki
		 * slots in all, at least 1 Ki a CPU (a region wraps only after
		 * that many new logs on one CPU within the budget) */
		int ncpu = libbpf_num_possible_cpus();
		uint32_t region = 65536;

		if (ncpu < 1)
			ncpu = 1;
		while (region > 1024 && region * (uint32_t)ncpu > 65536)
			region /= 2;
		l->skel->rodata->log_region_slots = region;
		bpf_map__set_max_entries(l->skel->maps.log_pending, region * (uint32_t)ncpu);
	}
	l->on_event = on_event;
	l->ctx = ctx;

	/* tracepoints this kernel lacks: required ones stop us, optional ones degrade */
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		struct bpf_program *p = prog_for(l->skel, hooks[i].tp);

		if (btf_has_tracepoint(btf, hooks[i].tp)) {
			if (!strcmp(hooks[i].tp, "inet_sk_error_report"))
				l->has_error_report = true;
			continue;
		}
		if (!hooks[i].optional) {
			snprintf(
				err, errlen,
				"kernel too old: tracepoint %s is missing (tcptimeline needs Linux 5.8+ with BTF)",
				hooks[i].tp);
			ret = -EOPNOTSUPP;
			goto cleanup;
		}
		if (p)
			bpf_program__set_autoload(p, false);
		fprintf(warn_out, "tcptimeline: warning: this kernel has no %s tracepoint: %s\n",
			hooks[i].tp, hooks[i].without);
	}
	/* 6.10 ("trace: tcp: fully support trace_tcp_send_reset") made the
	 * tracepoint fire for resets sent in reply to a segment too; before
	 * that only active resets (abort on close, linger 0, keepalive) fire */
	if (btf__find_by_name_kind(btf, "trace_event_raw_tcp_send_reset", BTF_KIND_STRUCT) <= 0)
		fprintf(warn_out,
			"tcptimeline: warning: this kernel traces only resets a socket sends itself "
			"(Linux 6.10+ also traces replies to stray segments): a closed socket's RST is "
			"seen only as the peer's rst in\n");
	register_rst_reasons(btf);
	register_drop_reasons(btf);
	/* kfree_skb has given its reason since 5.17 (enum skb_drop_reason) */
	if (btf_has_tracepoint(btf, "kfree_skb") &&
	    btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM) <= 0)
		fprintf(warn_out,
			"tcptimeline: warning: this kernel's kfree_skb gives no drop reason (Linux "
			"5.17+ does): drop events have reason null\n");
	/* 6.11 (c53795d48ee8, "net: add rx_sk to trace_kfree_skb"): the
	 * receiving socket, whose rcv_nxt tells a peer's keepalive probe (and
	 * its zero-window probe) below the window from another old segment */
	/* It is also what lets the flight recorder send the receiving
	 * socket's log before a drop record (user space judges a drop by the
	 * state of the end it came into: a processed ACK into LAST_ACK is not
	 * one); without it the table holds such a drop until that end's story
	 * reaches it (conn_table_set_hold_drops: a 6.1 guest drew the
	 * half-close demo's last ACK as a drop, its LAST_ACK still in the log) */
	if (btf_has_tracepoint(btf, "kfree_skb") &&
	    !btf_struct_has_member(btf, "trace_event_raw_kfree_skb", "rx_sk"))
		fprintf(warn_out,
			"tcptimeline: warning: this kernel's kfree_skb does not name the receiving "
			"socket (Linux 6.11+ does): keepalive probes the peer sends us outside "
			"ESTABLISHED, our ACKs to them and our own zero window on a half-closed "
			"connection are not reported\n");

	/* data out counted from two CPUs at once (a retransmit timer's entry
	 * runs outside the socket lock) claims its range with a cmpxchg
	 * (TT_NO_CMPXCHG: the older kernels' way, on any kernel) */
	l->skel->rodata->have_cmpxchg = !getenv("TT_NO_CMPXCHG") && kernel_has_bpf_cmpxchg();
	if (!l->skel->rodata->have_cmpxchg) {
		ret = cmpxchg_to_store(l->skel->obj);
		if (ret) {
			snprintf(err, errlen, "cannot prepare the BPF programs for this kernel: %s",
				 strerror(-ret));
			goto cleanup;
		}
	}

	/* our copy of the kernel's BTF goes before the load parses its own
	 * for CO-RE: holding both was ~9 MiB more peak RSS */
	btf__free(btf);
	btf = NULL;
	ret = tcptimeline_bpf__load(l->skel);
	if (ret) {
		if (ret == -EPERM || ret == -EACCES)
			snprintf(
				err, errlen,
				"permission denied loading BPF programs: run as root (sudo) or with CAP_BPF and CAP_PERFMON");
		else
			snprintf(
				err, errlen,
				"the kernel refused the BPF programs (%s): run with -v to see the verifier's log",
				strerror(-ret));
		goto cleanup;
	}
	ret = tcptimeline_bpf__attach(l->skel);
	if (ret) {
		snprintf(err, errlen,
			 "cannot attach to the tracepoints (%s): run with -v for details",
			 strerror(-ret));
		goto cleanup;
	}
	if (l->skel->rodata->log_on) {
		size_t len = (size_t)bpf_map__max_entries(l->skel->maps.log_pending) *
			     sizeof(struct tt_log_slot);
		void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			       bpf_map__fd(l->skel->maps.log_pending), 0);

		l->log_value = calloc(2, bpf_map__value_size(l->skel->maps.socks));
		if (m == MAP_FAILED || !l->log_value) {
			ret = m == MAP_FAILED ? -errno : -ENOMEM;
			if (m != MAP_FAILED)
				munmap(m, len);
			snprintf(err, errlen, "cannot map the socket log index: %s",
				 strerror(-ret));
			goto cleanup;
		}
		l->log_slots = m;
		l->n_log_slots = bpf_map__max_entries(l->skel->maps.log_pending);
		/* where each CPU's region was walked to (none: every tick walks
		 * the whole index) */
		uint32_t nreg = l->n_log_slots / l->skel->rodata->log_region_slots;

		l->log_cursors = calloc(nreg, sizeof(*l->log_cursors));
		l->log_next = calloc(nreg, sizeof(*l->log_next));
		if (!l->log_cursors || !l->log_next ||
		    nreg != (uint32_t)libbpf_num_possible_cpus()) {
			free(l->log_cursors);
			free(l->log_next);
			l->log_cursors = NULL;
			l->log_next = NULL;
		}
	}
	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), on_event, ctx, NULL);
	ret = libbpf_get_error(l->rb);
	if (ret || !l->rb) {
		l->rb = NULL;
		ret = ret ? ret : -ENOMEM;
		snprintf(err, errlen, "cannot set up the ring buffer: %s", strerror(-ret));
		goto cleanup;
	}
	ret = 0;

cleanup:
	/* one way out: what was set up is undone in reverse order */
	btf__free(btf);
	if (ret)
		loader_stop(l);
	return ret;
}

int loader_read_counters(struct loader *l, uint64_t out[TT_CNT_MAX])
{
	uint64_t vals[l->ncpus];

	for (uint32_t i = 0; i < TT_CNT_MAX; i++) {
		out[i] = 0;
		if (bpf_map__lookup_elem(l->skel->maps.counters, &i, sizeof(i), vals, sizeof(vals),
					 0))
			return -errno;
		for (int c = 0; c < l->ncpus; c++)
			out[i] += vals[c];
	}
	return 0;
}

int loader_seed_listener(struct loader *l, uint8_t family, uint16_t port, uint32_t pid,
			 const char *comm)
{
	struct tt_owner owner = { .pid = pid };
	uint32_t key = tt_listener_key(family, port);

	strncpy(owner.comm, comm ? comm : "", sizeof(owner.comm) - 1);
	return bpf_map__update_elem(l->skel->maps.listeners, &key, sizeof(key), &owner,
				    sizeof(owner), BPF_NOEXIST);
}

int loader_trace_pid(struct loader *l, uint32_t pid)
{
	uint8_t one = 1;

	return bpf_map__update_elem(l->skel->maps.traced, &pid, sizeof(pid), &one, sizeof(one),
				    BPF_ANY);
}

int loader_ringbuf_fd(struct loader *l)
{
	return ring_buffer__epoll_fd(l->rb);
}

int loader_consume(struct loader *l)
{
	return ring_buffer__consume(l->rb);
}

struct budget_take {
	struct loader *l;
	int fd;
	size_t vsize;
};

/* a log older than the budget: read from the socks map */
static void budget_take(void *ctx, uint64_t sk)
{
	struct budget_take *bt = ctx;
	char *a = bt->l->log_value, *b = a + bt->vsize;
	const struct tt_log *lg = (const struct tt_log *)(void *)a;

	/* the socket's programs may write its log meanwhile: two reads that
	 * agree, or the socket's next event sends it */
	if (!bpf_map_lookup_elem(bt->fd, &sk, a) && !bpf_map_lookup_elem(bt->fd, &sk, b) &&
	    !memcmp(a, b, sizeof(struct tt_log)) && lg->h.rec == TT_REC_LOG && lg->h.sk == sk &&
	    lg->h.n) {
		((struct tt_log *)(void *)a)->h.from_map = 1;
		bt->l->on_event(bt->l->ctx, a, sizeof(struct tt_log));
	}
}

void loader_log_budget(struct loader *l, uint64_t now)
{
	struct budget_take bt = { .l = l };
	uint32_t zero = 0, region;

	if (!l->log_slots)
		return;
	bt.vsize = bpf_map__value_size(l->skel->maps.socks);
	bt.fd = bpf_map__fd(l->skel->maps.socks);
	region = l->skel->rodata->log_region_slots;
	/* each region from where its walk stopped to its CPU's counter now
	 * (a tick at ~60,000 new logs a second is ~3,000 slots, not the 64 Ki
	 * of the whole index); the whole index if the counters cannot be read */
	if (l->log_cursors &&
	    !bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.log_next_slot), &zero, l->log_next)) {
		for (uint32_t r = 0; r < l->n_log_slots / region; r++) {
			uint32_t next; /* a __u32, in its CPU's 8 bytes */

			memcpy(&next, &l->log_next[r], sizeof(next));
			log_scan_region(l->log_slots + (size_t)r * region, region,
					&l->log_cursors[r], next, now, TT_LOG_BUDGET_NS,
					budget_take, &bt);
		}
		return;
	}
	for (uint32_t r = 0; r < l->n_log_slots / region; r++) {
		struct log_scan_cursor all = { .lo = 0, .prev = region };

		log_scan_region(l->log_slots + (size_t)r * region, region, &all, region, now,
				TT_LOG_BUDGET_NS, budget_take, &bt);
	}
}

void loader_stop(struct loader *l)
{
	if (l->log_slots)
		munmap(l->log_slots, (size_t)l->n_log_slots * sizeof(struct tt_log_slot));
	l->log_slots = NULL;
	free(l->log_value);
	l->log_value = NULL;
	free(l->log_cursors);
	l->log_cursors = NULL;
	free(l->log_next);
	l->log_next = NULL;
	ring_buffer__free(l->rb);
	l->rb = NULL;
	tcptimeline_bpf__destroy(l->skel);
	l->skel = NULL;
}
