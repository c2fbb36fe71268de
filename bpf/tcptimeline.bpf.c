// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcptimeline kernel side: one program per BTF tracepoint, each named after
 * its tracepoint. Per-socket state lives in a hash keyed by the struct
 * sock address; compact records go to one ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "net_consts.bpf.h"
#include "core_fixes.bpf.h"
#include "tcptimeline.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Filters, set by user space before load. */
const volatile __u8 filter_ports_on = 0;
const volatile __u64 port_bits[TT_MAX_PORT_WORDS] = {};
const volatile __u32 filter_pid = 0;
const volatile __u8 filter_family = 0; /* 0: both, 4 or 6 */
/* Wake the reader only when this much is waiting; it also polls on a timer. */
const volatile __u32 wakeup_bytes = 64 * 1024;
/* Flush a one-direction data run that has been growing this long. */
const volatile __u64 data_flush_ns = NSEC_PER_SEC;
/* The flight recorder (struct tt_log): 1, a socket's state changes and data
 * runs are kept in its sock_info and sent as one record; 0, each is sent
 * as its own record. Set by the loader. */
const volatile __u8 log_on = 0;
/* The live view's latency budget: a log whose oldest entry is older than
 * this is sent before the next entry goes in; user space reads the logs
 * of idle sockets (log_pending) that are older. */
const volatile __u64 log_budget_ns = TT_LOG_BUDGET_NS;

/* A benchmark-only build (tests/bench, config tt_noout) compiles the ring
 * output out: every program still does its bookkeeping, nothing leaves the
 * kernel. It measures what the output costs; never a product build. */
#ifndef TT_BENCH_NO_OUTPUT
#define TT_BENCH_NO_OUTPUT 0
#endif

/* The endpoints of a socket, read once per program run. */
struct sock_id {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 lport;
	__u16 rport;
	__u8 family;
};

/* Per-socket state: owner, data folding, keepalive bookkeeping. */
struct sock_info {
	/* the flight recorder (log_on): first, at offset 0, where user space
	 * reads it from the map (an idle socket's log, loader.c): the record
	 * as it will be sent, header filled when its first entry goes in */
	struct tt_log log;
	__u32 log_slot; /* its slot in log_pending */
	__u64 birth_ns;
	__u32 owner_pid;
	char owner_comm[TT_COMM_LEN];
	union {
		/* the pair as one word, for the cmpxchg that claims data out
		 * (snd_claim) */
		__u64 seen_word;
		struct {
			__u32 snd_seen; /* snd_nxt already accounted as data out */
			__u32 rcv_seen; /* rcv_nxt already accounted as data in */
		};
	};
	__u32 segs_out_seen; /* data_segs_out already accounted */
	__u32 retrans_seen;  /* total_retrans already accounted */
	__u64 pend_bytes;    /* the data run not yet emitted */
	__u64 pend_ts;
	__u32 pend_segs;
	__u8 pend_dir;
	__u8 pend_inferred; /* the run's time is when it was noticed, not when it was sent/arrived */
	__u8 seq_init;	    /* snd_seen/rcv_seen are valid */
	__u8 fin_in_seen;   /* the FIN's sequence number has been skipped */
	__u8 folds;	    /* fold_data calls without a clock read (tcp_probe) */
	__u64 ka_sent_ts;   /* our unanswered keepalive probe, 0 if none */
	__u64 ka_sent_j;    /* jiffies then (ka_infer_answer) */
	__u64 held_ts; /* a state event held back until the 4-tuple is known (flush_held_state) */
	__u8 held_old, held_new;
	__u8 close_clean; /* the CLOSE record was sent and nothing after it: destroy says nothing new */
	__u32 ka_in_n;	 /* peer probes since its last data */
	__u32 retrans;	 /* retransmits so far */
	__u64 last_ts;	 /* the latest timestamp emitted for this socket */
	__u32 zw_probes; /* zero-window probes in the current stall (window.bpf.h) */
	__u8 zw;	 /* TT_ZW_*: which windows are zero now */
	/* a full record of this life went into the ring: user space knows the
	 * connection, so data runs go as compact tt_data records */
	__u8 announced;
};

/* The sockets whose log is not sent yet (the flight recorder's budget):
 * a slot is taken when a log gets its first entry and cleared when it is
 * sent; user space reads the array (mmapped) every tick and reads the log
 * of a slot older than the budget from the socks map. One region per
 * CPU (each CPU's counter is its own: two CPUs in one region would take the
 * same slots), each a ring of log_region_slots (a power of two; the loader
 * sizes the array to the machine's CPUs): a slot overwritten before user
 * space looked (a region wrapped within the budget) leaves that log to the
 * socket's next event. */
const volatile __u32 log_region_slots = 8192;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536); /* resized by user space: CPUs x log_region_slots */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct tt_log_slot);
} log_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} log_next_slot SEC(".maps");

/* A plain (preallocated) hash, not an LRU one: every entry goes at its
 * socket's tcp_destroy_sock (a hook every supported kernel has; the
 * integration test socket_map_empties_after_every_close checks the map
 * drains), so nothing needs evicting. When it is full a new socket is not
 * followed and is counted (TT_CNT_MAP_FULL: "raise --max-conns"), where
 * the LRU evicted the socket used least recently, silently, and hid
 * entries that were never deleted (one was: tcp_disconnect's zeroed
 * remote port, maybe_followed_ports). It is cheaper too, by how much
 * depends on the load: A/B of the BPF time per churn connection in one
 * sitting, 1-3% on an idle machine, 17-21% with two guests running
 * beside (the LRU's list locks). TT_SOCKS_LRU in the environment makes it
 * the LRU hash again (loader.c). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536); /* resized by user space */
	__type(key, __u64);
	__type(value, struct sock_info);
} socks SEC(".maps");

/* sock_info_new's slot: a sock_info is built here, not on the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sock_info);
} info_scratch SEC(".maps");

/* Listener owner by (family << 16 | port): accepted sockets inherit it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct tt_owner);
} listeners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* resized by user space */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TT_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* The keepalive timer running on this CPU, between timer_expire_entry and _exit. */
struct ka_slot {
	__u64 timer;
	__u64 sk;
	__u8 probes_before;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ka_slot);
} ka_slots SEC(".maps");

/* BPF_CMPXCHG works (5.12+; the loader asks the verifier) */
const volatile __u8 have_cmpxchg = 0;

/* The addresses of tcp_keepalive_timer and tcp_write_timer, set by the
 * loader from /proc/kallsyms before load (src/kernel/loader.c): an untyped
 * __ksym had libbpf read and sscanf every line of it at each start (0.7 s
 * of a 7.2 guest's under emulation); the loader stops at the two. */
const volatile __u64 tcp_keepalive_timer_addr = 0;
const volatile __u64 tcp_write_timer_addr = 0;

/* A tcp_sock field. Programs whose socket is a tracepoint argument get a
 * typed tcp_sock from bpf_skc_to_tcp_sock and read it with plain loads; a
 * socket found any other way (tp NULL: from a timer) goes through probe
 * reads. The hot paths run several of these per event. */
#define TP_READ(tp, sk, field) \
	((tp) ? (tp)->field : BPF_CORE_READ((const struct tcp_sock *)(sk), field))

static __always_inline const struct tcp_sock *tcp_sk_of(const struct sock *sk)
{
	return bpf_skc_to_tcp_sock((void *)sk);
}

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += 1;
}

static __always_inline bool port_wanted(__u16 port)
{
	return port_bits[(port >> 6) & (TT_MAX_PORT_WORDS - 1)] & (1ULL << (port & 63));
}

/* Apply the family and port filters to ports already read into id (the
 * callers read them: by plain loads or probe reads), and set id->family from
 * the socket's. Reads nothing itself. False: not ours. */
static __always_inline bool sock_id_filter(struct sock_id *id, __u16 family, bool filter)
{
	if (family == AF_INET)
		id->family = 4;
	else if (family == AF_INET6)
		id->family = 6;
	else
		return false;
	/* an IPv6 socket may carry IPv4 (dual-stack: family_of_packets) */
	if (filter_family && filter_family != id->family && id->family != 6)
		return false;
	if (filter && filter_ports_on && !port_wanted(id->lport) && !port_wanted(id->rport))
		return false;
	return true;
}

/* Read addresses/ports from sock_common (valid for full, request and timewait
 * sockets) and apply the family and port filters. False: not ours. skc must
 * be a tracepoint argument (a BTF pointer): these are plain loads, which is
 * what keeps the cost for sockets the filter excludes at a few instructions. */
/* The family of the packets a socket sends: 4 for an IPv6 socket whose peer
 * is IPv4-mapped (::ffff:a.b.c.d, a dual-stack socket with an IPv4 peer) or
 * that listens on [::] or a mapped address (it accepts IPv4, unless
 * IPV6_V6ONLY, which -4 then shows too); -4 and -6 select by it. */
static __always_inline bool family_wanted(const struct sock_id *id)
{
	const __u32 *d = (const __u32 *)id->daddr, *s = (const __u32 *)id->saddr;

	if (!filter_family)
		return true;
	if (id->family == 4)
		return filter_family == 4;
	if (!d[0] && !d[1] && d[2] == bpf_htonl(0xffff))
		return filter_family == 4; /* an IPv4 peer */
	if (!d[0] && !d[1] && !d[2] && !d[3] && !s[0] && !s[1] && !s[2] && !s[3])
		return true; /* no peer, bound to [::]: a listener for both */
	if (!s[0] && !s[1] && s[2] == bpf_htonl(0xffff))
		return filter_family == 4; /* bound to an IPv4-mapped address */
	return filter_family == 6;
}

static __always_inline bool read_sock_id_filtered(const struct sock_common *skc, struct sock_id *id,
						  bool filter)
{
	id->lport = skc->skc_num;
	id->rport = bpf_ntohs(skc->skc_dport);
	if (!sock_id_filter(id, skc->skc_family, filter))
		return false;
	if (id->family == 4) {
		__u32 s4 = skc->skc_rcv_saddr, d4 = skc->skc_daddr;

		__builtin_memcpy(id->saddr, &s4, 4);
		__builtin_memcpy(id->daddr, &d4, 4);
	} else {
		bpf_probe_read_kernel(id->saddr, 16, &skc->skc_v6_rcv_saddr);
		bpf_probe_read_kernel(id->daddr, 16, &skc->skc_v6_daddr);
	}
	return family_wanted(id);
}

/* The same through probe reads, for a socket pointer that is not a
 * tracepoint argument (found from a timer). */
static __always_inline bool read_sock_id_probed(const struct sock *sk, struct sock_id *id)
{
	const struct sock_common *skc = &sk->__sk_common;

	id->lport = BPF_CORE_READ(skc, skc_num);
	id->rport = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
	if (!sock_id_filter(id, BPF_CORE_READ(skc, skc_family), false))
		return false;
	if (id->family == 4) {
		bpf_core_read(id->saddr, 4, &skc->skc_rcv_saddr);
		bpf_core_read(id->daddr, 4, &skc->skc_daddr);
	} else {
		bpf_core_read(id->saddr, 16, &skc->skc_v6_rcv_saddr);
		bpf_core_read(id->daddr, 16, &skc->skc_v6_daddr);
	}
	return family_wanted(id);
}

static __always_inline bool read_sock_id(const struct sock_common *skc, struct sock_id *id)
{
	return read_sock_id_filtered(skc, id, true);
}

/* Like read_sock_id, for a full socket that may be past its close:
 * tcp_set_state(CLOSE) releases the local port (inet_num = 0) before the
 * tracepoint fires, and errors and resets are reported after that. A socket
 * we follow passed the filter at birth; others pay one lookup, on rare
 * hooks only. */
/* With a port filter, could this full socket be one we follow, although
 * its local port is gone (inet_num is 0 from tcp_set_state(CLOSE) on)?
 * inet_sport keeps the port it had (inet_put_port clears only inet_num), and
 * a socket we follow passed the filter with that local port or its remote
 * one (a connect() whose SYN_SENT came before the port was picked: with the
 * remote one). So with neither wanted it is not ours and the map is not
 * asked: what keeps -P cheap for the sockets it excludes at their CLOSE
 * (tcp_destroy_sock asks the map whatever the ports say). No local port at
 * all (closed before one was picked): maybe. No remote port: maybe too,
 * as tcp_disconnect (an abortive close: SO_LINGER 0, or a connect to
 * AF_UNSPEC) zeroes inet_dport after its CLOSE, so a client followed by
 * its remote port had neither at its destroy, and its entry stayed in the
 * map (socket_map_empties_after_every_close). */
static __always_inline bool maybe_followed_ports(const struct sock *sk)
{
	const struct tcp_sock *tp;
	__u16 lport = sk->__sk_common.skc_num;

	if (!sk->__sk_common.skc_dport)
		return true;

	if (!lport) {
		tp = tcp_sk_of(sk);
		if (!tp)
			return true;
		lport = bpf_ntohs(tp->inet_conn.icsk_inet.inet_sport);
		if (!lport)
			return true;
	}
	return port_wanted(lport) || port_wanted(bpf_ntohs(sk->__sk_common.skc_dport));
}

static __always_inline bool read_sock_id_or_followed(const struct sock *sk, struct sock_id *id)
{
	__u64 key = (__u64)sk;

	if (read_sock_id(&sk->__sk_common, id))
		return true;
	return filter_ports_on && maybe_followed_ports(sk) && bpf_map_lookup_elem(&socks, &key) &&
	       read_sock_id_filtered(&sk->__sk_common, id, false);
}

/* The 4-tuple of an incoming segment (for resets sent without a full socket). */
static __always_inline bool read_skb_id(const struct sk_buff *skb, struct sock_id *id)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th_off = BPF_CORE_READ(skb, transport_header);
	struct tcphdr th;
	__u8 ver = 0;

	if (bpf_probe_read_kernel(&ver, 1, head + nh))
		return false;
	ver >>= 4;
	if (bpf_probe_read_kernel(&th, sizeof(th), head + th_off))
		return false;
	if (ver == 4) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return false;
		id->family = 4;
		__builtin_memcpy(id->saddr, &ip.daddr, 4);
		__builtin_memcpy(id->daddr, &ip.saddr, 4);
	} else if (ver == 6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return false;
		id->family = 6;
		__builtin_memcpy(id->saddr, &ip6.daddr, 16);
		__builtin_memcpy(id->daddr, &ip6.saddr, 16);
	} else {
		return false;
	}
	if (filter_family && filter_family != id->family)
		return false;
	id->lport = bpf_ntohs(th.dest);
	id->rport = bpf_ntohs(th.source);
	if (filter_ports_on && !port_wanted(id->lport) && !port_wanted(id->rport))
		return false;
	return true;
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

#include "owner_filter.bpf.h"

/* A socket's state is changed in process context exactly when the socket
 * lock is owned by a task (connect, listen, close, shutdown, and backlog
 * processing in release_sock); softirq and timers only run while it is not
 * owned. So "owned" tells us `current` is a real user of this socket and not
 * whatever task the softirq interrupted. */
static __always_inline bool in_socket_owner_ctx(const struct sock *sk)
{
	/* sk is a tracepoint argument: a plain load */
	return sk->sk_lock.owned != 0;
}

/* Start a new socket life: owner from the current task, or from `owner`. */
static __always_inline struct sock_info *sock_info_new(const struct sock *sk, __u64 now,
						       const struct tt_owner *owner)
{
	__u64 key = (__u64)sk;
	__u32 zero = 0;
	/* built in a per-CPU slot: with its log, a sock_info is too large for
	 * the stack. Zeroed but the log's entries, read only below log.h.n */
	struct sock_info *info = bpf_map_lookup_elem(&info_scratch, &zero);

	if (!info)
		return NULL;
	__builtin_memset(&info->log.h, 0, sizeof(info->log.h));
	__builtin_memset(&info->birth_ns, 0, sizeof(*info) - offsetof(struct sock_info, birth_ns));
	info->birth_ns = now;
	if (owner) {
		info->owner_pid = owner->pid;
		__builtin_memcpy(info->owner_comm, owner->comm, TT_COMM_LEN);
	}
	if (bpf_map_update_elem(&socks, &key, info, BPF_ANY)) {
		count(TT_CNT_MAP_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&socks, &key);
}

static __always_inline void sock_info_set_owner_current(struct sock_info *info)
{
	info->owner_pid = current_tgid();
	bpf_get_current_comm(info->owner_comm, sizeof(info->owner_comm));
}

/* Start the sequence and counter baselines from the socket as it is now, so
 * that data sent or received before we first saw it is not counted. */
static __always_inline void seq_init_from(struct sock_info *info, const struct sock *sk,
					  const struct tcp_sock *tp)
{
	info->snd_seen = TP_READ(tp, sk, snd_nxt);
	info->rcv_seen = TP_READ(tp, sk, rcv_nxt);
	info->segs_out_seen = TP_READ(tp, sk, data_segs_out);
	info->retrans_seen = TP_READ(tp, sk, total_retrans);
	info->seq_init = 1;
}

/* The socket's state, creating it for a socket first seen mid-life (one that
 * existed before tracing began). With a pid filter, only sockets whose owner
 * was seen in process context are followed. */
static __always_inline struct sock_info *sock_info_get(const struct sock *sk,
						       const struct tcp_sock *tp, __u64 now)
{
	__u64 key = (__u64)sk;
	struct sock_info *info = bpf_map_lookup_elem(&socks, &key);

	if (info || owner_filter_on())
		return info;
	info = sock_info_new(sk, now ? now : bpf_ktime_get_ns(), NULL);
	if (info)
		seq_init_from(info, sk, tp);
	return info;
}

static __always_inline void fill_id(struct tt_event *e, const struct sock_id *id)
{
	__builtin_memcpy(e->saddr, id->saddr, 16);
	__builtin_memcpy(e->daddr, id->daddr, 16);
	e->lport = id->lport;
	e->rport = id->rport;
	e->family = id->family;
}

static __always_inline struct tt_event *reserve(__u8 type, bool is_data)
{
	struct tt_event *e;

	if (TT_BENCH_NO_OUTPUT)
		return NULL;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(TT_CNT_LOST);
		if (is_data)
			count(TT_CNT_LOST_DATA);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	return e;
}

/* Submit without waking the reader until enough is waiting: the reader also
 * drains on a short timer, so the live view stays live at a fraction of the
 * wakeups. */
static __always_inline void submit(void *e)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	bpf_ringbuf_submit(e, avail >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

static __always_inline void fill_sock(struct tt_event *e, const struct sock *sk,
				      const struct sock_id *id, struct sock_info *info, __u64 ts)
{
	e->ts_ns = ts;
	e->sk = (__u64)sk;
	fill_id(e, id);
	if (info) {
		if (ts > info->last_ts)
			info->last_ts = ts;
		info->close_clean = 0;
		info->announced = 1;
		e->birth_ns = info->birth_ns;
		e->owner_pid = info->owner_pid;
		__builtin_memcpy(e->owner_comm, info->owner_comm, TT_COMM_LEN);
	}
}

/* Send the socket's log as one record (the flight recorder): before any
 * other record about the socket, so user space sees it first and in order. */
static __always_inline void log_flush(const struct sock *sk, struct sock_info *info)
{
	struct tt_log_slot *slot;
	__u32 idx = info->log_slot;

	if (!info->log.h.n)
		return;
	slot = bpf_map_lookup_elem(&log_pending, &idx);
	if (slot && slot->sk == (__u64)sk)
		slot->sk = 0;
	info->announced = 1;
	if (!TT_BENCH_NO_OUTPUT &&
	    bpf_ringbuf_output(&events, &info->log, sizeof(info->log),
			       bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
				       BPF_RB_FORCE_WAKEUP :
				       BPF_RB_NO_WAKEUP))
		count(TT_CNT_LOST);
	/* n first: user space may read the log from the map at any moment
	 * (loader_log_budget), and a log seen between the two stores the
	 * other way round ((first_seq + n, n): the old entries under the next
	 * places) counted them twice (a 7.2 guest's bulk_byte_counts saw 61,595
	 * bytes out too many); (first_seq, 0) is an empty log */
	__u32 n = info->log.h.n;

	info->log.h.n = 0;
	asm volatile("" ::: "memory");
	info->log.h.first_seq += n;
}

/* Append an entry to the socket's log: the log goes first if it is full
 * or its oldest entry is older than the budget. */
static __always_inline void log_append(const struct sock *sk, const struct sock_id *id,
				       struct sock_info *info, const struct tt_log_ent *ent)
{
	__u32 n = info->log.h.n;

	if (n &&
	    (n >= TT_LOG_CAP || (__s64)(ent->ts_ns - info->log.e[0].ts_ns) >= (__s64)log_budget_ns))
		log_flush(sk, info);
	n = info->log.h.n;
	if (n >= TT_LOG_CAP)
		return;
	if (!n) {
		/* a new log: its header, and a slot for the budget */
		__u32 zero = 0, *next = bpf_map_lookup_elem(&log_next_slot, &zero);

		info->log.h.rec = TT_REC_LOG;
		info->log.h.sk = (__u64)sk;
		info->log.h.birth_ns = info->birth_ns;
		info->log.h.owner_pid = info->owner_pid;
		__builtin_memcpy(info->log.h.owner_comm, info->owner_comm, TT_COMM_LEN);
		if (next) {
			__u32 idx = bpf_get_smp_processor_id() * log_region_slots +
				    ((*next)++ & (log_region_slots - 1));
			struct tt_log_slot *slot = bpf_map_lookup_elem(&log_pending, &idx);

			if (slot) {
				slot->ts = ent->ts_ns;
				slot->sk = (__u64)sk;
				info->log_slot = idx;
			}
		}
	}
	/* the latest complete endpoints: the local port is gone at CLOSE,
	 * not known yet at SYN_SENT */
	if ((id->lport && id->rport) || !info->log.h.family) {
		__builtin_memcpy(info->log.h.saddr, id->saddr, 16);
		__builtin_memcpy(info->log.h.daddr, id->daddr, 16);
		info->log.h.lport = id->lport;
		info->log.h.rport = id->rport;
		info->log.h.family = id->family;
	}
	/* the mask in a register clang cannot see through: it knows n <
	 * TT_LOG_CAP from the check above and drops a plain mask, and the 5.10
	 * verifier, which does not carry that bound to here, then sees an
	 * index of up to 255 entries and refuses the program */
	asm volatile("" : "+r"(n));
	n &= TT_LOG_CAP - 1;
	info->log.e[n] = *ent;
	/* the entry (and a new log's header) before the count that makes
	 * user space read it */
	asm volatile("" ::: "memory");
	info->log.h.n = n + 1;
	if (ent->ts_ns > info->last_ts)
		info->last_ts = ent->ts_ns;
	info->close_clean = 0;
}

/* The pending data run into the log. */
static __always_inline void log_data(const struct sock *sk, const struct sock_id *id,
				     struct sock_info *info)
{
	struct tt_log_ent ent = {};

	ent.ts_ns = info->pend_ts;
	ent.kind = TT_LOG_DATA;
	ent.a = info->pend_dir;
	ent.flags = info->pend_inferred ? TT_LOGF_INFERRED : 0;
	ent.x = info->pend_segs ? info->pend_segs : 1;
	ent.y = (__u32)info->pend_bytes;
	ent.z = (__u32)(info->pend_bytes >> 32);
	log_append(sk, id, info, &ent);
	info->pend_bytes = 0;
	info->pend_segs = 0;
}

/* Emit the pending data run, if any. With the flight recorder, into the
 * log, and the log out: what comes next is another kind of record. */
static __always_inline void flush_data(const struct sock *sk, const struct sock_id *id,
				       struct sock_info *info)
{
	struct tt_event *e;

	if (log_on) {
		if (info->pend_bytes)
			log_data(sk, id, info);
		log_flush(sk, info);
		return;
	}
	if (!info->pend_bytes)
		return;
	if (info->announced) {
		struct tt_data *d =
			TT_BENCH_NO_OUTPUT ? NULL : bpf_ringbuf_reserve(&events, sizeof(*d), 0);

		if (d) {
			d->rec = TT_REC_DATA;
			d->segs = info->pend_segs ? info->pend_segs : 1;
			d->ts_ns = info->pend_ts;
			d->sk = (__u64)sk;
			d->birth_ns = info->birth_ns;
			d->bytes = info->pend_bytes;
			d->dir = info->pend_dir;
			d->inferred = info->pend_inferred;
			__builtin_memset(d->pad, 0, sizeof(d->pad));
			d->reserved = 0;
			if (info->pend_ts > info->last_ts)
				info->last_ts = info->pend_ts;
			info->close_clean = 0;
			submit(d);
		} else if (!TT_BENCH_NO_OUTPUT) {
			count(TT_CNT_LOST);
			count(TT_CNT_LOST_DATA);
		}
		info->pend_bytes = 0;
		info->pend_segs = 0;
		return;
	}
	e = reserve(TT_EV_DATA, true);
	if (e) {
		fill_sock(e, sk, id, info, info->pend_ts);
		e->data.bytes = info->pend_bytes;
		e->data.segs = info->pend_segs ? info->pend_segs : 1;
		e->data.dir = info->pend_dir;
		e->data.inferred = info->pend_inferred;
		submit(e);
	}
	info->pend_bytes = 0;
	info->pend_segs = 0;
}

/* The pending data run ends, and nothing else goes out: into the log. */
static __always_inline void flush_data_keep(const struct sock *sk, const struct sock_id *id,
					    struct sock_info *info)
{
	if (log_on) {
		if (info->pend_bytes)
			log_data(sk, id, info);
		return;
	}
	flush_data(sk, id, info);
}

/* Add bytes to the run in one direction; a change of direction ends the run,
 * and so does age: a run that has been growing for data_flush_ns ends
 * before the bytes that come after that, so no byte is in a run stamped
 * more than that before it (a trickle through a loss: the bytes after the
 * loss start a new run). now == 0 (tcp_probe, per segment): the clock is
 * read when a run starts, for each of a run's first 16 segments (a trickle
 * costs nothing here), then every 16th; a bulk run may so take up to 15
 * segments past the limit. A run that starts here is stamped start_ts if
 * that is known (when data out was sent), else now; never before what was
 * already emitted for the socket, so its stream stays in time order (and
 * such a run is marked inferred). */
static __always_inline void fold_data(const struct sock *sk, const struct sock_id *id,
				      struct sock_info *info, __u8 dir, __u64 bytes, __u32 segs,
				      __u64 *nowp, __u64 start_ts, __u8 inferred)
{
	__u64 now;

	if (!bytes)
		return;
	if (info->pend_bytes && info->pend_dir != dir)
		flush_data_keep(sk, id, info);
	if (info->pend_bytes) {
		if (!*nowp && (info->pend_segs < 16 || (++info->folds & 15) == 0))
			*nowp = bpf_ktime_get_ns();
		now = *nowp;
		if (now > info->pend_ts && now - info->pend_ts >= data_flush_ns)
			flush_data_keep(sk, id, info);
	}
	if (!info->pend_bytes) {
		if (!*nowp)
			*nowp = bpf_ktime_get_ns();
		now = *nowp;
		if (!start_ts || start_ts > now)
			start_ts = now;
		if (start_ts < info->last_ts) {
			start_ts = info->last_ts;
			inferred = 1;
		}
		info->pend_ts = start_ts;
		info->pend_inferred = inferred;
		info->pend_dir = dir;
	}
	info->pend_bytes += bytes;
	info->pend_segs += segs;
}

/* When the byte at sequence `seq` was last transmitted: sent and not yet
 * acknowledged data stays in the retransmit queue (an rbtree ordered by
 * sequence) until tcp_ack frees it, and every program that counts data out
 * runs before that (tcp_probe fires before the ACK is processed). Each skb
 * there carries its transmit time in skb_mstamp_ns, from tcp_clock_ns():
 * CLOCK_MONOTONIC like bpf_ktime_get_ns (4.20+, the EDT model). 0 if the
 * data is no longer there (acknowledged in a state tcp_probe does not see). */
#define TT_RTX_DEPTH 32 /* an rbtree of 2^16 skbs is at most 32 deep */
/* The start of an sk_buff, read in one probe read per tree node instead of
 * four: the rbnode (its children), skb_mstamp_ns and the first words of cb
 * (tcp_skb_cb's seq and end_seq) lie within its first 48 bytes on every
 * kernel we support (5.10 to 7.x). The offsets come from the running
 * kernel's BTF; if they ever do not fit, the field-by-field reads below are
 * used instead. A power of two, so that masking an offset keeps it in
 * bounds for the verifier without changing it. */
#define TT_SKB_HEAD_LEN 64
struct tt_skb_head {
	__u64 w[TT_SKB_HEAD_LEN / 8];
};

static __always_inline __u32 skb_head_u32(const struct tt_skb_head *h, __u32 off)
{
	return *(const __u32 *)((const char *)h + (off & (TT_SKB_HEAD_LEN - 4)));
}

static __always_inline __u64 skb_head_u64(const struct tt_skb_head *h, __u32 off)
{
	return *(const __u64 *)((const char *)h + (off & (TT_SKB_HEAD_LEN - 8)));
}

static __always_inline __u64 sent_time_of(const struct sock *sk, const struct tcp_sock *tp,
					  __u32 seq)
{
	/* a probe read even with a typed tcp_sock (tp): a plain load gives a
	 * BTF pointer, which 5.10's verifier refuses in the walk below */
	const struct rb_node *node = BPF_CORE_READ(sk, tcp_rtx_queue.rb_node);
	__u32 rbnode_off = bpf_core_field_offset(struct sk_buff, rbnode);
	__u32 cb_off = bpf_core_field_offset(struct sk_buff, cb);
	__u32 ms_off = bpf_core_field_offset(struct sk_buff, skb_mstamp_ns);
	__u32 seq_off = cb_off + bpf_core_field_offset(struct tcp_skb_cb, seq);
	__u32 end_off = cb_off + bpf_core_field_offset(struct tcp_skb_cb, end_seq);
	__u32 left_off = rbnode_off + bpf_core_field_offset(struct rb_node, rb_left);
	__u32 right_off = rbnode_off + bpf_core_field_offset(struct rb_node, rb_right);

	if (seq_off + 4 <= TT_SKB_HEAD_LEN && end_off + 4 <= TT_SKB_HEAD_LEN &&
	    ms_off + 8 <= TT_SKB_HEAD_LEN && left_off + 8 <= TT_SKB_HEAD_LEN &&
	    right_off + 8 <= TT_SKB_HEAD_LEN && !(seq_off & 3) && !(end_off & 3) && !(ms_off & 7) &&
	    !(left_off & 7) && !(right_off & 7)) {
		for (int i = 0; i < TT_RTX_DEPTH && node; i++) {
			struct tt_skb_head h;
			__u32 start, end;

			if (bpf_probe_read_kernel(&h, sizeof(h), (const char *)node - rbnode_off))
				return 0;
			start = skb_head_u32(&h, seq_off);
			end = skb_head_u32(&h, end_off);
			if ((__s32)(seq - start) < 0)
				node = (const void *)skb_head_u64(&h, left_off);
			else if ((__s32)(seq - end) >= 0)
				node = (const void *)skb_head_u64(&h, right_off);
			else
				return skb_head_u64(&h, ms_off);
		}
		return 0;
	}
	for (int i = 0; i < TT_RTX_DEPTH && node; i++) {
		const struct sk_buff *skb = (const void *)node - rbnode_off;
		const struct tcp_skb_cb *cb = (const void *)skb + cb_off;
		__u32 start = BPF_CORE_READ(cb, seq), end = BPF_CORE_READ(cb, end_seq);

		if ((__s32)(seq - start) < 0)
			node = BPF_CORE_READ(node, rb_left);
		else if ((__s32)(seq - end) >= 0)
			node = BPF_CORE_READ(node, rb_right);
		else
			return BPF_CORE_READ(skb, skb_mstamp_ns);
	}
	return 0;
}

/* Take the data out up to snd_nxt as ours to count: snd_seen moves to it,
 * and what it was is returned (snd_nxt itself, or beyond, when there is
 * nothing new); the same for data in, rcv_seen up to rcv_nxt, which a
 * keepalive timer's exit counts outside the lock. A retransmit timer's entry (rtx_timer_entry_sync) runs
 * outside the socket lock, so another CPU may be counting the same bytes
 * for the segment it is processing: both read the same snd_seen, and a 7.2
 * and a 6.12 guest's bulk_byte_counts saw a window's worth (65,482 bytes)
 * counted twice. Where the verifier takes BPF_CMPXCHG, one of them wins
 * the range and the other finds nothing new; the word holds rcv_seen too
 * (a 64-bit cmpxchg is what every kernel with it has), so a change there
 * means one more try. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TT_SND_SHIFT 0 /* snd_seen, the union's first member: the word's low half */
#else
#define TT_SND_SHIFT 32
#endif
#define TT_RCV_SHIFT (32 - TT_SND_SHIFT)
static __always_inline __u32 seen_claim(struct sock_info *info, __u32 nxt, const int shift)
{
	__u32 *seen = shift == TT_SND_SHIFT ? &info->snd_seen : &info->rcv_seen;
	__u32 from;

	if (have_cmpxchg) {
		for (int i = 0; i < 2; i++) {
			__u64 w = *(volatile __u64 *)&info->seen_word;
			__u64 to = (w & ~(0xffffffffULL << shift)) | ((__u64)nxt << shift);

			from = (__u32)(w >> shift);
			if ((__s32)(nxt - from) <= 0)
				return from;
			if (__sync_val_compare_and_swap(&info->seen_word, w, to) == w)
				return from;
		}
		return nxt; /* the word keeps changing: left to the other CPU */
	}

	from = *seen;
	if ((__s32)(nxt - from) > 0)
		*seen = nxt;
	return from;
}

/* data out: snd_seen to snd_nxt; data in: rcv_seen to rcv_nxt (a
 * keepalive timer's exit counts it outside the socket lock too) */
#define snd_claim(info, snd_nxt) seen_claim(info, snd_nxt, TT_SND_SHIFT)
#define rcv_claim(info, rcv_nxt) seen_claim(info, rcv_nxt, TT_RCV_SHIFT)

/* Data we sent since the last look: snd_nxt progress (retransmits do not
 * move it), segments from data_segs_out less retransmits. A new run is
 * stamped with the time its first byte was sent, not the time we noticed
 * (usually its ACK, a round trip later). */
static __always_inline void sync_out(const struct sock *sk, const struct tcp_sock *tp,
				     const struct sock_id *id, struct sock_info *info, __u64 *nowp)
{
	__u32 snd_nxt, segs, retrans, from;
	__u64 sent_ts = 0;
	__s32 delta;

	if (!info->seq_init)
		return;
	snd_nxt = TP_READ(tp, sk, snd_nxt);
	from = snd_claim(info, snd_nxt);
	delta = (__s32)(snd_nxt - from);
	if (delta <= 0)
		return;
	segs = TP_READ(tp, sk, data_segs_out);
	retrans = TP_READ(tp, sk, total_retrans);
	__u32 nsegs = (segs - info->segs_out_seen) - (retrans - info->retrans_seen);

	if ((__s32)nsegs <= 0)
		nsegs = 1;
	if (!info->pend_bytes || info->pend_dir != TT_DIR_OUT)
		sent_ts = sent_time_of(sk, tp, from);
	info->segs_out_seen = segs;
	info->retrans_seen = retrans;
	/* no send time: counted after its ACK freed it (outside ESTABLISHED) */
	fold_data(sk, id, info, TT_DIR_OUT, (__u32)delta, nsegs, nowp, sent_ts, !sent_ts);
}

/* The peer's FIN arrived: tcp_fin() sets SOCK_DONE (sk_shutdown's RCV_SHUTDOWN
 * is no proof: close() sets it too). */
static __always_inline bool peer_fin_received(const struct sock *sk, const struct tcp_sock *tp)
{
	unsigned long flags = tp ? tp->inet_conn.icsk_inet.sk.__sk_common.skc_flags :
				   BPF_CORE_READ(sk, __sk_common.skc_flags);

	return flags & (1UL << SOCK_DONE);
}

/* Data received that tcp_probe did not see segment by segment (out-of-order
 * segments merged later, data received after our FIN): rcv_nxt progress,
 * less the one sequence number the peer's FIN takes. */
static __always_inline void sync_in(const struct sock *sk, const struct tcp_sock *tp,
				    const struct sock_id *id, struct sock_info *info, __u64 *nowp,
				    __u8 inferred)
{
	__u32 rcv_nxt;
	__s32 delta;

	if (!info->seq_init)
		return;
	rcv_nxt = TP_READ(tp, sk, rcv_nxt);
	delta = (__s32)(rcv_nxt - rcv_claim(info, rcv_nxt));
	if (delta <= 0)
		return;
	if (!info->fin_in_seen && peer_fin_received(sk, tp)) {
		info->fin_in_seen = 1;
		delta -= 1;
	}
	if (delta > 0)
		fold_data(sk, id, info, TT_DIR_IN, (__u32)delta, 1, nowp, 0, inferred);
}

/* Would sync_out or sync_in fold bytes (and so need the time)? The same
 * tests as theirs, the peer's FIN taken out of what arrived. */
static __always_inline bool data_to_fold(const struct sock *sk, const struct tcp_sock *tp,
					 const struct sock_info *info)
{
	__s32 din;

	if ((__s32)(TP_READ(tp, sk, snd_nxt) - info->snd_seen) > 0)
		return true;
	din = (__s32)(TP_READ(tp, sk, rcv_nxt) - info->rcv_seen);
	if (din > 1)
		return true;
	return din == 1 && (info->fin_in_seen || !peer_fin_received(sk, tp));
}

/* Two transitions happen before the socket knows its own 4-tuple: connect()
 * moves it to SYN_SENT before it picks the local port (inet_hash_connect runs
 * after tcp_set_state), and before 6.x an accepted socket became SYN_RECV
 * while it still carried its listener's addresses (inet_csk_clone_lock set
 * the state first). Their events are held back until the socket's next
 * event, when the tuple is complete, and emitted then with their own time. */
static __always_inline void flush_held_state(const struct sock *sk, const struct sock_id *id,
					     struct sock_info *info)
{
	struct tt_event *e;

	if (!info->held_ts)
		return;
	if (log_on) {
		struct tt_log_ent ent = {};

		ent.ts_ns = info->held_ts;
		ent.kind = TT_LOG_STATE;
		ent.a = info->held_old;
		ent.b = info->held_new;
		/* connect() runs in the owner's process context */
		if (info->held_new == TCP_SYN_SENT)
			ent.flags = TT_LOGF_ACTOR_OWNER;
		log_append(sk, id, info, &ent);
		info->held_ts = 0;
		return;
	}
	e = reserve(TT_EV_STATE, false);
	if (e) {
		fill_sock(e, sk, id, info, info->held_ts);
		e->old_state = info->held_old;
		e->new_state = info->held_new;
		if (info->held_new == TCP_SYN_SENT) {
			/* connect() runs in the owner's process context */
			e->actor_pid = info->owner_pid;
			__builtin_memcpy(e->actor_comm, info->owner_comm, TT_COMM_LEN);
		}
		submit(e);
	}
	info->held_ts = 0;
}

static __always_inline void hold_state(struct sock_info *info, __u64 now, int o, int n)
{
	info->held_ts = now;
	info->held_old = o;
	info->held_new = n;
}

/* --- every TCP state: the answer to a keepalive probe outside ESTABLISHED ---
 * tcp_probe fires only in tcp_rcv_established, so the ACK answering our
 * probe is not seen when we are in CLOSE_WAIT, FIN_WAIT1/2, CLOSING or
 * LAST_ACK (the peer's kernel, or its timewait socket, answers while our
 * application sits on a half-closed socket). tcp_ack() leaves two traces of
 * any acceptable ACK: icsk_probes_out back to 0 and rcv_tstamp set to
 * tcp_jiffies32. At the socket's next event (its keepalive timer's next run
 * at the latest) a probe we sent with probes_out now 0 was answered; when,
 * to a jiffy: rcv_tstamp placed on the clock between the probe's
 * (jiffies, ns) pair and now's. Reported as an ACK with inferred set and no
 * round trip (its precision is a jiffy, not a measurement). */
static __always_inline void ka_infer_answer(const struct sock *sk, const struct sock_id *id,
					    struct sock_info *info, __u64 now)
{
	const struct inet_connection_sock *icsk = (const void *)sk;
	__u64 j_now, span_j, ts;
	struct tt_event *e;
	__s32 dj;

	if (!info->ka_sent_ts || BPF_CORE_READ(icsk, icsk_probes_out))
		return;
	j_now = bpf_jiffies64();
	dj = (__s32)(BPF_CORE_READ((const struct tcp_sock *)sk, rcv_tstamp) -
		     (__u32)info->ka_sent_j);
	span_j = j_now - info->ka_sent_j;
	ts = info->ka_sent_ts;
	if (dj > 0 && span_j && now > ts)
		ts += (__u64)dj * (now - ts) / span_j;
	if (ts > now)
		ts = now;
	if (ts < info->last_ts)
		ts = info->last_ts; /* the socket's stream stays in time order */
	info->ka_sent_ts = 0;
	log_flush(sk, info);
	e = reserve(TT_EV_KA_ACK, false);
	if (!e)
		return;
	fill_sock(e, sk, id, info, ts);
	e->old_state = e->new_state = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->ka_ack.dir = TT_DIR_IN;
	e->ka_ack.inferred = 1;
	submit(e);
}

/* Before any control event: account for data, then emit the run, so the
 * stream keeps the order things happened in. */
static __always_inline void settle_data(const struct sock *sk, const struct tcp_sock *tp,
					const struct sock_id *id, struct sock_info *info, __u64 now)
{
	flush_held_state(sk, id, info);
	sync_out(sk, tp, id, info, &now);
	sync_in(sk, tp, id, info, &now, 1);
	flush_data(sk, id, info);
	ka_infer_answer(sk, id, info, now);
}

/* The same before a state change, which goes into the log with what came
 * before it (the flight recorder): the log stays. */
static __always_inline void settle_data_keep(const struct sock *sk, const struct tcp_sock *tp,
					     const struct sock_id *id, struct sock_info *info,
					     __u64 now)
{
	flush_held_state(sk, id, info);
	sync_out(sk, tp, id, info, &now);
	sync_in(sk, tp, id, info, &now, 1);
	flush_data_keep(sk, id, info);
	ka_infer_answer(sk, id, info, now);
}

/* The task in process context, if the socket lock says there is one.
 * e: a tt_event or a tt_state (the same field names). */
#define FILL_ACTOR(e, sk)                                                              \
	do {                                                                           \
		struct task_struct *task_;                                             \
		__u32 flags_;                                                          \
		int code_;                                                             \
                                                                                       \
		if (!in_socket_owner_ctx(sk))                                          \
			break;                                                         \
		task_ = (struct task_struct *)bpf_get_current_task();                  \
		(e)->actor_pid = current_tgid();                                       \
		bpf_get_current_comm((e)->actor_comm, sizeof((e)->actor_comm));        \
		flags_ = BPF_CORE_READ(task_, flags);                                  \
		if (flags_ & PF_EXITING) {                                             \
			(e)->actor_flags |= TT_ACTOR_EXITING;                          \
			code_ = BPF_CORE_READ(task_, exit_code);                       \
			if (!code_)                                                    \
				code_ = BPF_CORE_READ(task_, signal, group_exit_code); \
			(e)->exit_code = code_;                                        \
		}                                                                      \
	} while (0)

static __always_inline void fill_actor(struct tt_event *e, const struct sock *sk)
{
	FILL_ACTOR(e, sk);
}

/* Inside this socket's keepalive timer handler on this CPU? */
static __always_inline __u8 timer_ctx_of(const struct sock *sk)
{
	__u32 zero = 0;
	struct ka_slot *slot = bpf_map_lookup_elem(&ka_slots, &zero);

	return slot && slot->timer && slot->sk == (__u64)sk ? TT_TIMER_KEEPALIVE : TT_TIMER_NONE;
}

/* The start of an event about a full socket we follow (or adopt): data
 * settled first so the stream keeps its order, then the record reserved and
 * filled. NULL: nothing to emit. */
static __always_inline struct tt_event *sock_event_begin(const struct sock *sk, struct sock_id *id,
							 __u8 type, struct sock_info **infop,
							 __u64 now)
{
	const struct tcp_sock *tp = tcp_sk_of(sk);
	struct sock_info *info = sock_info_get(sk, tp, now);
	struct tt_event *e;

	if (!info)
		return NULL;
	settle_data(sk, tp, id, info, now);
	e = reserve(type, false);
	if (!e)
		return NULL;
	fill_sock(e, sk, id, info, now);
	e->old_state = e->new_state = sk->__sk_common.skc_state;
	*infop = info;
	return e;
}

#include "rtt.bpf.h"
#include "window.bpf.h"

/* A state change into the socket's log (the flight recorder), if the
 * entry can say all its record would: the actor, if any, is the owner
 * (another task, or an exiting one, goes as a record of its own). A change
 * into CLOSE sends the log. False: not logged. */
static __always_inline bool state_log(const struct sock *sk, const struct tcp_sock *tp,
				      const struct sock_id *id, struct sock_info *info,
				      int oldstate, int newstate, __u64 now)
{
	struct tt_log_ent ent = {};

	if (in_socket_owner_ctx(sk)) {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();
		__u64 comm[2] = {}, own[2];

		if (current_tgid() != info->owner_pid || (BPF_CORE_READ(task, flags) & PF_EXITING))
			return false;
		bpf_get_current_comm(comm, sizeof(comm));
		__builtin_memcpy(own, info->owner_comm, sizeof(own));
		if (comm[0] != own[0] || comm[1] != own[1])
			return false;
		ent.flags |= TT_LOGF_ACTOR_OWNER;
	}
	ent.ts_ns = now;
	ent.kind = TT_LOG_STATE;
	ent.a = oldstate;
	ent.b = newstate;
	ent.x = sk->sk_err;
	if (newstate == TCP_ESTABLISHED || newstate == TCP_CLOSE) {
		__u32 srtt = TP_READ(tp, sk, srtt_us);
		__u32 min = TP_READ(tp, sk, rtt_min.s[0].v);

		ent.flags |= (newstate == TCP_ESTABLISHED ? TT_RTT_ESTABLISHED : TT_RTT_CLOSE)
			     << TT_LOGF_RTT_SHIFT;
		ent.y = srtt ? srtt >> 3 : TT_RTT_NONE;
		ent.z = min && min != ~0U ? min : TT_RTT_NONE;
	}
	if (peer_fin_received(sk, tp))
		ent.flags |= TT_LOGF_PEER_FIN;
	if (oldstate == TCP_FIN_WAIT2 && newstate == TCP_CLOSE && (int)TP_READ(tp, sk, linger2) < 0)
		ent.flags |= TT_LOGF_LINGER2_NEG;
	if (timer_ctx_of(sk) == TT_TIMER_KEEPALIVE)
		ent.flags |= TT_LOGF_TIMER_KA;
	log_append(sk, id, info, &ent);
	/* a listener's log goes at once: user space needs the listener to
	 * count a drop into it (netfilter's, before any socket: nothing else
	 * flushes its log), and with SYN cookies nothing else may come for it
	 * before such a drop (the budget's scan was up to 100 ms behind) */
	if (newstate == TCP_CLOSE || newstate == TCP_LISTEN)
		log_flush(sk, info);
	return true;
}

static __always_inline bool is_fin_sent_transition(int oldstate, int newstate)
{
	return (newstate == TCP_FIN_WAIT1 &&
		(oldstate == TCP_ESTABLISHED || oldstate == TCP_SYN_RECV)) ||
	       (newstate == TCP_LAST_ACK && oldstate == TCP_CLOSE_WAIT);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	const struct tcp_sock *tp;
	struct sock_info *info = NULL;
	struct sock_id id = {};
	struct tt_event *e;
	__u64 now, held_ts = 0;
	__u8 held_old = 0, held_new = 0;
	bool owner_new = false, sent = false;

	/* the filter first: it is what most sockets fail (the protocol is
	 * one plain load, the filter may read addresses) */
	if (sk_protocol_of(sk) != IPPROTO_TCP)
		return 0;
	if (newstate == TCP_CLOSE ? !read_sock_id_or_followed(sk, &id) :
				    !read_sock_id(&sk->__sk_common, &id))
		return 0;
	tp = tcp_sk_of(sk);
	now = bpf_ktime_get_ns();

	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) {
		/* connect(): process context, the caller owns the socket */
		if (!current_wanted())
			return 0;
		info = sock_info_new(sk, now, NULL);
		if (!info)
			return 0;
		if (in_socket_owner_ctx(sk))
			sock_info_set_owner_current(info);
		hold_state(info, now, oldstate, newstate);
		return 0;
	} else if (newstate == TCP_LISTEN) {
		struct tt_owner owner = {};
		__u32 lkey = tt_listener_key(id.family, id.lport);

		if (!current_wanted())
			return 0;
		info = sock_info_new(sk, now, NULL);
		if (info && in_socket_owner_ctx(sk)) {
			sock_info_set_owner_current(info);
			owner.pid = info->owner_pid;
			__builtin_memcpy(owner.comm, info->owner_comm, TT_COMM_LEN);
			bpf_map_update_elem(&listeners, &lkey, &owner, BPF_ANY);
		}
	} else if (oldstate == TCP_LISTEN && newstate == TCP_SYN_RECV) {
		/* a child of a listener: inherits the listener's owner */
		__u32 lkey = tt_listener_key(id.family, id.lport);
		struct tt_owner *owner = bpf_map_lookup_elem(&listeners, &lkey);

		if (!listener_wanted(owner))
			return 0;
		/* held, to go with the ESTABLISHED record that usually follows
		 * within the same softirq (and, before 6.x, until the socket
		 * knows its own 4-tuple) */
		info = sock_info_new(sk, now, owner);
		if (info) {
			hold_state(info, now, oldstate, newstate);
			return 0;
		}
	} else {
		info = sock_info_get(sk, tp, now);
	}
	if (!info)
		return 0;

	/* A transition held back (SYN_SENT, SYN_RECV) rides in this record
	 * when nothing else can come between them: before the sequence
	 * baselines are set no data has been counted and no keepalive sent.
	 * Otherwise settle_data sends it as a record of its own. */
	if (!log_on && info->held_ts && !info->seq_init) {
		held_ts = info->held_ts;
		held_old = info->held_old;
		held_new = info->held_new;
		info->held_ts = 0;
	}
	if (newstate == TCP_ESTABLISHED && !info->seq_init)
		seq_init_from(info, sk,
			      tp); /* the handshake's SYNs are behind us: count data from here */
	if (log_on)
		settle_data_keep(sk, tp, &id, info, now);
	else
		settle_data(sk, tp, &id, info, now);
	if (is_fin_sent_transition(oldstate, newstate) && info->seq_init)
		/* our FIN, sent after this, takes one sequence number: an atomic
		 * add, as a timer's snd_claim may be moving it meanwhile */
		__sync_fetch_and_add(&info->snd_seen, 1);

	if (!info->owner_pid && in_socket_owner_ctx(sk) &&
	    (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK || newstate == TCP_CLOSE)) {
		/* the log's header names the owner: what came before goes first */
		log_flush(sk, info);
		sock_info_set_owner_current(info); /* the closer held it: it is an owner */
		owner_new = true;
	}

	if (log_on && state_log(sk, tp, &id, info, oldstate, newstate, now)) {
		sent = true;
		goto after_record;
	}
	log_flush(sk, info);

/* what a state record says besides the socket: r is a tt_event or a tt_state */
#define FILL_STATE(r)                                                                              \
	do {                                                                                       \
		if (newstate == TCP_ESTABLISHED || newstate == TCP_CLOSE)                          \
			FILL_RTT(r, sk, tp,                                                        \
				 newstate == TCP_ESTABLISHED ? TT_RTT_ESTABLISHED : TT_RTT_CLOSE); \
		(r)->old_state = oldstate;                                                         \
		(r)->new_state = newstate;                                                         \
		(r)->sk_err = sk->sk_err;                                                          \
		(r)->peer_fin = peer_fin_received(sk, tp);                                         \
		/* an orphan whose FIN is ACKed goes FIN_WAIT2 -> CLOSE either way:           \
		 * handed to a timewait socket, or dropped with TCP_LINGER2 < 0               \
		 * (tcp_rcv_state_process: tcp_done, no reset) */    \
		if (oldstate == TCP_FIN_WAIT2 && newstate == TCP_CLOSE)                            \
			(r)->linger2_neg = (int)TP_READ(tp, sk, linger2) < 0;                      \
		(r)->timer_ctx = timer_ctx_of(sk);                                                 \
		FILL_ACTOR(r, sk);                                                                 \
	} while (0)

	if (info->announced && !held_ts && !owner_new) {
		/* user space knows this life and its owner: the compact record */
		struct tt_state *r =
			TT_BENCH_NO_OUTPUT ? NULL : bpf_ringbuf_reserve(&events, sizeof(*r), 0);

		if (r) {
			__builtin_memset(r, 0, sizeof(*r));
			r->rec = TT_REC_STATE;
			r->ts_ns = now;
			r->sk = (__u64)sk;
			r->birth_ns = info->birth_ns;
			if (now > info->last_ts)
				info->last_ts = now;
			info->close_clean = 0;
			FILL_STATE(r);
			submit(r);
			sent = true;
		} else if (!TT_BENCH_NO_OUTPUT) {
			count(TT_CNT_LOST);
		}
	} else {
		e = reserve(TT_EV_STATE, false);
		if (e) {
			fill_sock(e, sk, &id, info, now);
			if (held_ts) {
				e->state.held_ts = held_ts;
				e->state.held_old = held_old;
				e->state.held_new = held_new;
			}
			FILL_STATE(e);
			submit(e);
			sent = true;
		}
	}
after_record:
	/* the destroy that follows has nothing to add unless another record
	 * comes between (fill_sock clears this); a CLOSE record lost to a
	 * full ring leaves it to the destroy record. The bench build without
	 * output sets it as the product would have. */
	if (newstate == TCP_CLOSE && (sent || TT_BENCH_NO_OUTPUT))
		info->close_clean = 1;

	if (oldstate == TCP_LISTEN && newstate == TCP_CLOSE) {
		__u32 lkey = tt_listener_key(id.family, id.lport);

		bpf_map_delete_elem(&listeners, &lkey);
	}
	return 0;
}

/* The hottest hook: every segment received in ESTABLISHED (a bulk stream
 * fires it hundreds of thousands of times a second). The common cases, in-order
 * data and pure ACKs, cost one map lookup, one header read and a few
 * compares; anything unexpected takes the slow path through sync_in. */
SEC("tp_btf/tcp_probe")
int BPF_PROG(tcp_probe, struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_sock *tp;
	struct sock_info *info;
	struct sock_id id = {};
	const struct tcp_skb_cb *cb;
	__u8 flags;
	struct tt_event *e;
	__u32 seq, ack, len, end, expected;
	__u64 now = 0; /* read only where needed: this runs for every segment */

	if (!read_sock_id(&sk->__sk_common, &id))
		return 0;
	tp = tcp_sk_of(sk);
	info = sock_info_get(sk, tp, now);
	if (!info || !info->seq_init)
		return 0;

	/* tcp_v4_rcv/tcp_v6_rcv filled TCP_SKB_CB from the header before
	 * tcp_rcv_established: plain loads, no probe read per segment */
	cb = tcp_skb_cb_of(skb);
	seq = cb->seq;
	end = cb->end_seq;
	ack = cb->ack_seq;
	flags = tcp_skb_cb_flags_direct(cb);
	len = end - seq;
	if (flags & TCPHDR_FIN)
		len -= 1;
	if (flags & TCPHDR_SYN)
		len -= 1;
	if ((__s32)len < 0)
		return 0;

	/* the peer acknowledges data of ours we have not counted yet, or
	 * acknowledges up to it while more is out (a duplicate ACK may trigger a
	 * fast retransmit, which would overwrite the data's transmit time) */
	if ((flags & TCPHDR_ACK) && ((__s32)(ack - info->snd_seen) > 0 ||
				     (ack == info->snd_seen && tp && tp->snd_nxt != ack)))
		sync_out(sk, tp, &id, info, &now);

	if (info->ka_sent_ts) {
		/* anything from the peer answers our keepalive probe */
		if (!now)
			now = bpf_ktime_get_ns();
		flush_data(sk, &id, info);
		e = reserve(TT_EV_KA_ACK, false);
		if (e) {
			fill_sock(e, sk, &id, info, now);
			e->ka_ack.rtt_ns = now - info->ka_sent_ts;
			e->ka_ack.dir = TT_DIR_IN;
			submit(e);
		}
		info->ka_sent_ts = 0;
	}
	window_seg_in(sk, tp, skb, &id, info, flags, &now);

	expected = info->rcv_seen;
	if (seq != expected && seq != expected - 1) {
		/* out of order, or data we did not see arrive: catch up */
		sync_in(sk, tp, &id, info, &now, 1);
		expected = TP_READ(tp, sk, rcv_nxt);
	}
	if (len <= 1 && seq == expected - 1 && !(info->zw & TT_ZW_OUT)) {
		/* a keepalive probe: one sequence number below what we expect
		 * (while our window is zero, the same segment is the peer's
		 * zero-window probe: window_seg_in saw the zero just now) */
		if (!now)
			now = bpf_ktime_get_ns();
		flush_data(sk, &id, info);
		info->ka_in_n += 1;
		e = reserve(TT_EV_KA_PROBE, false);
		if (e) {
			fill_sock(e, sk, &id, info, now);
			e->ka_probe.n = info->ka_in_n;
			e->ka_probe.dir = TT_DIR_IN;
			submit(e);
		}
		return 0;
	}
	if (!len)
		return 0;
	info->ka_in_n = 0;
	end = seq + len;
	/* count only what is new and in order; the rest is caught up by sync_in */
	if (seq == info->rcv_seen ||
	    ((__s32)(seq - info->rcv_seen) < 0 && (__s32)(end - info->rcv_seen) > 0)) {
		fold_data(sk, &id, info, TT_DIR_IN, end - info->rcv_seen, 1, &now, 0, 0);
		info->rcv_seen = end;
	}
	return 0;
}

/* --- every TCP state: data received outside ESTABLISHED ---
 * tcp_probe fires only in tcp_rcv_established. Data that arrives after our
 * FIN (FIN_WAIT1/2) and the ACKs of the close handshake go through
 * tcp_rcv_state_process, which has no tracepoint; data queued for the
 * application there wakes it through sk_data_ready (6.3+), so that is
 * where it is counted, stamped on arrival, with what the same segment
 * acknowledged of ours and the answer to a keepalive probe it carries.
 * Without it (older kernels) it is counted at the socket's next event. */
SEC("tp_btf/sk_data_ready")
int BPF_PROG(sk_data_ready, const struct sock *sk)
{
	const struct tcp_sock *tp;
	struct sock_info *info;
	struct sock_id id = {};
	__u64 key = (__u64)sk;
	__u64 now;
	__u8 state = sk->__sk_common.skc_state;

	/* ESTABLISHED is tcp_probe's; a listener's is a new connection */
	if (state == TCP_ESTABLISHED || state == TCP_LISTEN)
		return 0;
	if (sk_protocol_of(sk) != IPPROTO_TCP || !read_sock_id(&sk->__sk_common, &id))
		return 0;
	info = bpf_map_lookup_elem(&socks, &key);
	if (!info || !info->seq_init)
		return 0;
	tp = tcp_sk_of(sk);
	/* the clock only when a step below needs it: the common run here is
	 * the peer's FIN and nothing else, which sync_in only notes */
	if (!info->ka_sent_ts && !(info->zw & TT_ZW_OUT) && !data_to_fold(sk, tp, info)) {
		now = 0;
		sync_in(sk, tp, &id, info, &now, 0); /* no bytes: no clock read */
		return 0;
	}
	now = bpf_ktime_get_ns();
	sync_out(sk, tp, &id, info, &now);
	sync_in(sk, tp, &id, info, &now, 0); /* on arrival */
	if ((info->zw & TT_ZW_OUT) && tp && tp->rcv_wnd)
		window_out_outside(sk, &id, info, false, now); /* data again: our window opened */
	if (info->ka_sent_ts) {
		flush_data(sk, &id, info);
		ka_infer_answer(sk, &id, info, now);
	}
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int tcp_retransmit_skb(__u64 *ctx)
{
	const struct sock *sk = (const struct sock *)ctx[0];
	const struct sk_buff *skb = (const struct sk_buff *)ctx[1];
	const struct tcp_skb_cb *cb;
	const struct tcp_sock *tp;
	struct sock_info *info;
	struct sock_id id = {};
	struct tt_event *e;
	__s32 err = 0;
	__u64 now;

	if (tcp_retransmit_skb_has_err())
		err = (__s32)ctx[2];
	if (!read_sock_id(&sk->__sk_common, &id))
		return 0;
	now = bpf_ktime_get_ns();
	tp = tcp_sk_of(sk);
	info = sock_info_get(sk, tp, now);
	if (!info)
		return 0;
	settle_data(sk, tp, &id, info, now);
	if (!err)
		info->retrans += 1;
	e = reserve(TT_EV_RETRANSMIT, false);
	if (!e)
		return 0;
	fill_sock(e, sk, &id, info, now);
	cb = tcp_skb_cb_of(skb);
	e->retrans.seq = cb->seq;
	e->retrans.count = info->retrans;
	e->retrans.err = err;
	e->retrans.syn = (tcp_skb_cb_flags_direct(cb) & TCPHDR_SYN) != 0;
	submit(e);
	return 0;
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(tcp_retransmit_synack, const struct sock *sk, const struct request_sock *req)
{
	struct sock_id id = {};
	struct tt_event *e;
	__u32 lkey;
	struct tt_owner *owner;

	/* the request sock starts with a sock_common holding the 4-tuple */
	if (!read_sock_id(&req->__req_common, &id))
		return 0;
	lkey = tt_listener_key(id.family, id.lport);
	owner = bpf_map_lookup_elem(&listeners, &lkey);
	if (!listener_wanted(owner))
		return 0;
	e = reserve(TT_EV_RETRANSMIT, false);
	if (!e)
		return 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->sk = (__u64)req;
	fill_id(e, &id);
	if (owner) {
		e->owner_pid = owner->pid;
		__builtin_memcpy(e->owner_comm, owner->comm, TT_COMM_LEN);
	}
	e->old_state = e->new_state = TCP_SYN_RECV;
	e->retrans.seq = BPF_CORE_READ((struct tcp_request_sock *)req, snt_isn);
	e->retrans.count = BPF_CORE_READ(req, num_retrans) + 1;
	e->retrans.syn = 1;
	submit(e);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int tcp_send_reset(__u64 *ctx)
{
	const struct sock *sk = (const struct sock *)ctx[0];
	const struct sk_buff *skb = (const struct sk_buff *)ctx[1];
	__u32 reason = TT_RST_REASON_NONE;
	struct sock_info *info = NULL;
	struct sock_id id = {};
	struct tt_event *e;
	__u8 state = 0;
	__u64 now;

	if (tcp_send_reset_has_reason())
		reason = (__u32)ctx[2];
	if (sk)
		state = BPF_CORE_READ(sk, __sk_common.skc_state);
	now = bpf_ktime_get_ns();

	if (sk && state != TCP_LISTEN && state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV) {
		/* a full socket: ours if followed; a closed one is never adopted
		 * here (an orphan aborting on data was destroyed just before) */
		__u64 key = (__u64)sk;

		info = bpf_map_lookup_elem(&socks, &key);
		const struct tcp_sock *tp = tcp_sk_of(sk);

		if (info)
			read_sock_id_filtered(&sk->__sk_common, &id, false);
		else if (state != TCP_CLOSE && read_sock_id(&sk->__sk_common, &id))
			info = sock_info_get(sk, tp, now);
		if (info)
			settle_data(sk, tp, &id, info, now);
	}
	if (!info) {
		if (owner_filter_on())
			return 0;
		/* timewait socks keep their 4-tuple; otherwise (no socket, a
		 * listener, a destroyed orphan) the segment being answered has it */
		if (sk && state == TCP_TIME_WAIT) {
			if (!read_sock_id(&sk->__sk_common, &id))
				return 0;
		} else if (!skb || !read_skb_id(skb, &id)) {
			return 0;
		}
		sk = NULL;
	}
	e = reserve(TT_EV_RST, false);
	if (!e)
		return 0;
	fill_sock(e, sk, &id, info, now);
	e->old_state = e->new_state = state;
	e->rst.dir = TT_DIR_OUT;
	e->rst.reason = reason;
	if (info) {
		e->timer_ctx = timer_ctx_of(sk);
		fill_actor(e, sk);
	}
	submit(e);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tcp_receive_reset, struct sock *sk)
{
	struct sock_info *info;
	struct sock_id id = {};
	struct tt_event *e;

	if (!read_sock_id_or_followed(sk, &id))
		return 0;
	e = sock_event_begin(sk, &id, TT_EV_RST, &info, bpf_ktime_get_ns());
	if (!e)
		return 0;
	e->rst.dir = TT_DIR_IN;
	e->rst.reason = TT_RST_REASON_NONE;
	submit(e);
	return 0;
}

SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(inet_sk_error_report, const struct sock *sk)
{
	struct sock_info *info;
	struct sock_id id = {};
	struct tt_event *e;

	if (sk_protocol_of(sk) != IPPROTO_TCP)
		return 0;
	if (!read_sock_id_or_followed(sk, &id))
		return 0;
	e = sock_event_begin(sk, &id, TT_EV_ERROR, &info, bpf_ktime_get_ns());
	if (!e)
		return 0;
	e->error.err = sk->sk_err;
	e->sk_err = e->error.err;
	e->timer_ctx = timer_ctx_of(sk);
	submit(e);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(tcp_destroy_sock, struct sock *sk)
{
	const struct tcp_sock *tp;
	__u64 key = (__u64)sk;
	struct sock_info *info;
	struct sock_id id = {};
	struct tt_event *e;
	__u64 now;

	/* no port filter shortcut here, unlike at CLOSE: a miss there loses an
	 * event, a miss here would leave the entry in the map for good (a
	 * plain hash, no LRU to evict it), and the ports are what the kernel
	 * left of them by now */
	info = bpf_map_lookup_elem(&socks, &key);
	if (!info)
		return 0; /* never followed: nothing to say */
	/* its CLOSE record was the last: nothing can have happened since (a
	 * closed socket is unhashed, its timers stopped, so no byte moves and
	 * no probe is answered), and user space closed the connection then
	 * and keeps it until its address holds a new socket life (or the
	 * closed list is trimmed): nothing to read, settle or send */
	if (!info->close_clean &&
	    /* followed: it passed the filter at birth (its local port is gone by now) */
	    read_sock_id_filtered(&sk->__sk_common, &id, false)) {
		now = bpf_ktime_get_ns();
		tp = tcp_sk_of(sk);
		settle_data(sk, tp, &id, info, now);
		e = reserve(TT_EV_DESTROY, false);
		if (e) {
			fill_sock(e, sk, &id, info, now);
			e->old_state = e->new_state = sk->__sk_common.skc_state;
			e->destroy.bytes_acked = TP_READ(tp, sk, bytes_acked);
			e->destroy.bytes_received = TP_READ(tp, sk, bytes_received);
			submit(e);
		}
	}
	bpf_map_delete_elem(&socks, &key);
	return 0;
}

/* The keepalive timer is the one event a half-closed idle socket still has:
 * the answer to its previous probe is read there, before it sends the next. */
static __always_inline void ka_timer_entry_answer(const struct sock *sk)
{
	struct sock_id id = {};
	__u64 key = (__u64)sk;
	struct sock_info *info = bpf_map_lookup_elem(&socks, &key);

	if (!info || !info->ka_sent_ts || !read_sock_id_probed(sk, &id))
		return;
	ka_infer_answer(sk, &id, info, bpf_ktime_get_ns());
}

/* --- time order under loss: data counted before it is sent again ---
 * Data out is counted lazily (at the next segment in or event) and stamped
 * with the transmit time of its skb in the retransmit queue; a retransmit
 * overwrites that time. When nothing comes back (a blackhole), the first
 * event after new data left is its retransmit, which is too late: the data
 * would carry the retransmit's time. tcp_write_timer (RTO, loss probe,
 * RACK reorder timeout) is what retransmits then, so its entry, before it
 * sends anything, counts the data with each skb's own first time. */
static __always_inline void rtx_timer_entry_sync(const struct timer_list *timer)
{
	struct sock *sk = (struct sock *)((char *)timer - retransmit_timer_offset());
	struct sock_id id = {};
	__u64 key = (__u64)sk, now;
	struct sock_info *info = bpf_map_lookup_elem(&socks, &key);

	if (!info)
		return;
	window_timer(sk, info);
	if (!info->seq_init ||
	    (__s32)(BPF_CORE_READ((const struct tcp_sock *)sk, snd_nxt) - info->snd_seen) <= 0 ||
	    !read_sock_id_probed(sk, &id))
		return; /* nothing new sent: sync_out would do nothing */
	now = bpf_ktime_get_ns();
	sync_out(sk, NULL, &id, info, &now);
}

SEC("tp_btf/timer_expire_entry")
int BPF_PROG(timer_expire_entry, struct timer_list *timer)
{
	const struct inet_connection_sock *icsk;
	struct ka_slot *slot;
	struct sock *sk;
	__u32 zero = 0;
	__u64 key;

	/* every timer in the system passes here: two comparisons for the others */
	if ((__u64)timer->function == tcp_write_timer_addr) {
		rtx_timer_entry_sync(timer);
		return 0;
	}
	if ((__u64)timer->function != tcp_keepalive_timer_addr)
		return 0;
	sk = (struct sock *)((char *)timer - keepalive_timer_offset());
	key = (__u64)sk;
	if (!bpf_map_lookup_elem(&socks, &key))
		return 0;
	slot = bpf_map_lookup_elem(&ka_slots, &zero);
	if (!slot)
		return 0;
	icsk = (const struct inet_connection_sock *)sk;
	slot->timer = (__u64)timer;
	slot->sk = key;
	slot->probes_before = BPF_CORE_READ(icsk, icsk_probes_out);
	ka_timer_entry_answer(sk);
	return 0;
}

SEC("tp_btf/timer_expire_exit")
int BPF_PROG(timer_expire_exit, struct timer_list *timer)
{
	const struct inet_connection_sock *icsk;
	struct sock_info *info;
	struct sock_id id = {};
	struct ka_slot *slot;
	struct tt_event *e;
	struct sock *sk;
	__u32 zero = 0;
	__u8 probes;
	__u64 now;

	if ((__u64)timer->function != tcp_keepalive_timer_addr)
		return 0;
	slot = bpf_map_lookup_elem(&ka_slots, &zero);
	if (!slot || slot->timer != (__u64)timer)
		return 0;
	slot->timer = 0;
	sk = (struct sock *)slot->sk;
	/* the socket may have been destroyed inside the handler: its entry is gone then */
	info = bpf_map_lookup_elem(&socks, &slot->sk);
	if (!info)
		return 0;
	icsk = (const struct inet_connection_sock *)sk;
	probes = BPF_CORE_READ(icsk, icsk_probes_out);
	if (probes <= slot->probes_before)
		return 0;
	if (!read_sock_id_probed(sk, &id))
		return 0;
	now = bpf_ktime_get_ns();
	settle_data(sk, NULL, &id, info, now); /* sk came from a map: probe reads */
	info->ka_sent_ts = now;
	info->ka_sent_j = bpf_jiffies64();
	e = reserve(TT_EV_KA_PROBE, false);
	if (!e)
		return 0;
	fill_sock(e, sk, &id, info, now);
	e->old_state = e->new_state = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->ka_probe.n = probes;
	e->ka_probe.dir = TT_DIR_OUT;
	submit(e);
	return 0;
}

/* Dropped segments: their own program and record (bpf/drops.bpf.h). */
#include "drops.bpf.h"
