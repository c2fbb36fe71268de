// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The JSON Lines renderer: one tl_event -> one line of the contract in
 * README.md ("JSON Lines"). A pure function of the event (no libbpf, no
 * connection table). Lines are built by hand in a jbuf and written with one
 * fwrite: at tens of thousands of events a second, stdio's format parsing per
 * field was most of the tracer's CPU. The part of a line that is the same for
 * every event of a connection (id, family, addresses, ports, owner) is
 * cached per connection id (conn_prefix below).
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include "addr.h"
#include "json.h"
#include "names.h"
#include "render.h"

/* ,"key": (k is a string literal: its length is known when compiling) */
#define key(b, k)    jb_mem((b), ",\"" k "\":", sizeof(",\"" k "\":") - 1)
#define jb_lit(b, s) jb_mem((b), s, sizeof(s) - 1)

static void string_or_null(struct jbuf *b, const char *s)
{
	if (s)
		jb_json_string(b, s, 64);
	else
		jb_lit(b, "null");
}
#define str_or_null(b, k, s) (key(b, k), string_or_null((b), (s)))

/* A name from our own tables: never needs escaping. */
static void name_value(struct jbuf *b, const char *s)
{
	jb_char(b, '"');
	jb_str(b, s);
	jb_char(b, '"');
}
#define name_field(b, k, s) (key(b, k), name_value((b), (s)))

/* A control segment label ("SYN,ACK"): a few bytes, copied by hand (no
 * strlen and memcpy calls); a longer one through name_value. */
static void name_or_null(struct jbuf *b, const char *s)
{
	if (!s) {
		jb_lit(b, "null");
		return;
	}
	if (__builtin_expect(sizeof(b->buf) - b->len >= 18, 1)) {
		char *d = b->buf + b->len;
		size_t i = 0;

		d[0] = '"';
		while (i < 16 && s[i]) {
			d[1 + i] = s[i];
			i++;
		}
		if (!s[i]) {
			d[1 + i] = '"';
			b->len += i + 2;
			return;
		}
	}
	name_value(b, s);
}

#define u64_field(b, k, v) (key(b, k), jb_u64((b), (v)))

/* ,"key":N, or null for TT_RTT_NONE (k with its comma and colon) */
static void us_or_null_(struct jbuf *b, const char *k, size_t klen, uint32_t us)
{
	jb_mem(b, k, klen);
	if (us == TT_RTT_NONE)
		jb_lit(b, "null");
	else
		jb_u64(b, us);
}
#define us_or_null(b, k, us) us_or_null_((b), k, sizeof(k) - 1, (us))

/* "by_pid" and "by_comm"; the extension "by_exit_status" when that task was
 * exiting (a replay draws "killed by SIGKILL" from it as the live run did) */
static void actor_fields_(struct jbuf *b, const struct tl_task *t)
{
	if (t->pid) {
		u64_field(b, "by_pid", t->pid);
		key(b, "by_comm");
		jb_json_string(b, t->comm, TT_COMM_LEN);
		if (t->exiting) {
			key(b, "by_exit_status");
			jb_i64(b, t->exit_code);
		}
	} else {
		jb_lit(b, ",\"by_pid\":null,\"by_comm\":null");
	}
}

/* The last actor's fields, kept with every input they are made of (pid, the
 * whole comm, exiting, exit_code): a connection's events mostly name the
 * same task, or none. */
static struct {
	struct tl_task t;
	uint16_t len;
	char text[160];
} actor_cache;

static void actor_fields(struct jbuf *b, const struct tl_task *t)
{
	struct jbuf tmp;

	if (!t->pid) {
		jb_lit(b, ",\"by_pid\":null,\"by_comm\":null");
		return;
	}
	if (actor_cache.len && actor_cache.t.pid == t->pid && actor_cache.t.exiting == t->exiting &&
	    (!t->exiting || actor_cache.t.exit_code == t->exit_code) &&
	    !memcmp(actor_cache.t.comm, t->comm, TT_COMM_LEN)) {
		jb_mem(b, actor_cache.text, actor_cache.len);
		return;
	}
	jb_init(&tmp);
	actor_fields_(&tmp, t);
	jb_mem(b, tmp.buf, tmp.len);
	if (tmp.len <= sizeof(actor_cache.text)) {
		actor_cache.t = *t;
		memcpy(actor_cache.text, tmp.buf, tmp.len);
		actor_cache.len = (uint16_t)tmp.len;
	} else {
		actor_cache.len = 0;
	}
}

/* ,"dir":"out" or ,"dir":"in": literals, no strlen */
static void dir_field(struct jbuf *b, uint8_t dir)
{
	if (dir == TT_DIR_OUT)
		jb_lit(b, ",\"dir\":\"out\"");
	else
		jb_lit(b, ",\"dir\":\"in\"");
}

/* Pieces that depend only on a small index (an event kind, a TCP state, a
 * close cause), formatted once: the names are pure functions of the index
 * (names.c, cause.c). Copied with one fixed-size move (the piece padded to
 * its slot), not strlen and a memcpy call per name. */
struct piece {
	uint8_t len; /* 0: not built yet (or too long: the slow path) */
	char text[47];
};

static void piece_build(struct piece *p, const char *pre, const char *name, const char *post)
{
	size_t a = strlen(pre), n = strlen(name), z = strlen(post);

	if (a + n + z > sizeof(p->text))
		return; /* stays 0: built by hand each time */
	memcpy(p->text, pre, a);
	memcpy(p->text + a, name, n);
	memcpy(p->text + a + n, post, z);
	p->len = (uint8_t)(a + n + z);
}

static void piece_put(struct jbuf *b, const struct piece *p)
{
	if (__builtin_expect(sizeof(b->buf) - b->len >= sizeof(p->text), 1)) {
		memcpy(b->buf + b->len, p->text, sizeof(p->text));
		b->len += p->len;
	} else {
		jb_mem(b, p->text, p->len);
	}
}

/* p (of a table of n) for index i, built at its first use; NULL when i is
 * out of the table or the piece does not fit a slot */
#define PIECE(table, i, pre, name, post)                                       \
	((unsigned)(i) < sizeof(table) / sizeof(table[0]) ?                    \
		 ((table)[i].len ? &(table)[i] :                               \
				   (piece_build(&(table)[i], pre, name, post), \
				    (table)[i].len ? &(table)[i] : NULL)) :    \
		 NULL)

static struct piece kind_pieces[TL_KA_RUN + 1], old_pieces[16], new_pieces[16], cause_pieces[32];

/* {"event":"KIND","ts_ns": */
static void head_field(struct jbuf *b, enum tl_kind kind)
{
	const struct piece *p =
		PIECE(kind_pieces, kind, "{\"event\":\"", tl_kind_name(kind), "\",\"ts_ns\":");

	if (p) {
		piece_put(b, p);
		return;
	}
	jb_lit(b, "{\"event\":\"");
	jb_str(b, tl_kind_name(kind));
	jb_lit(b, "\",\"ts_ns\":");
}

/* ,"KEY":"NAME" from its piece (built once per index), or written out
 * for an index past the table or a name too long for a piece; name is
 * evaluated only when the piece is built or not used */
#define NAME_FIELD(b, table, i, key, name)                                               \
	do {                                                                             \
		const struct piece *p_ = PIECE(table, i, ",\"" key "\":\"", name, "\""); \
                                                                                         \
		if (p_)                                                                  \
			piece_put(b, p_);                                                \
		else                                                                     \
			name_field(b, key, name);                                        \
	} while (0)

static void state_fields(struct jbuf *b, uint8_t old_state, uint8_t new_state)
{
	NAME_FIELD(b, old_pieces, old_state, "old", tcp_state_name(old_state));
	NAME_FIELD(b, new_pieces, new_state, "new", tcp_state_name(new_state));
}

static void cause_field(struct jbuf *b, enum tl_cause cause)
{
	NAME_FIELD(b, cause_pieces, cause, "cause", cause_name(cause));
}

static void addr_value(struct jbuf *b, uint8_t family, const uint8_t addr[16])
{
	char a[ADDR_STRLEN];

	addr_format(family, addr, a, sizeof(a));
	name_value(b, a);
}
#define addr_field(b, k, f, a) (key(b, k), addr_value((b), (f), (a)))

/* The part of a line that is the same for every event of a connection, from
 * ,"conn" to "comm": worked out once per connection (a direct-mapped cache
 * on the connection id, checked against every field it is made of, so a
 * change of owner or a reused slot only costs a rebuild). */
struct conn_prefix {
	uint64_t conn;
	struct tl_endpoints ep;
	uint32_t pid;
	char comm[TT_COMM_LEN];
	uint16_t len;
	char text[400];
};

static struct conn_prefix prefix_cache[256];

static void owner_fields(struct jbuf *b, const struct tl_event *ev)
{
	if (ev->pid) {
		u64_field(b, "pid", ev->pid);
		key(b, "comm");
		jb_json_string(b, ev->comm, TT_COMM_LEN);
	} else {
		jb_lit(b, ",\"pid\":null,\"comm\":null");
	}
}

static void conn_fields(struct jbuf *b, const struct tl_event *ev)
{
	u64_field(b, "conn", ev->conn);
	u64_field(b, "family", ev->ep.family);
	addr_field(b, "laddr", ev->ep.family, ev->ep.laddr);
	u64_field(b, "lport", ev->ep.lport);
	addr_field(b, "raddr", ev->ep.family, ev->ep.raddr);
	u64_field(b, "rport", ev->ep.rport);
	owner_fields(b, ev);
}

static void conn_fields_cached(struct jbuf *b, const struct tl_event *ev)
{
	struct conn_prefix *p = &prefix_cache[ev->conn % 256];
	struct jbuf tmp;

	if (p->len && p->conn == ev->conn && p->pid == ev->pid &&
	    !memcmp(&p->ep, &ev->ep, sizeof(p->ep)) && !memcmp(p->comm, ev->comm, TT_COMM_LEN)) {
		jb_mem(b, p->text, p->len);
		return;
	}
	jb_init(&tmp);
	conn_fields(&tmp, ev);
	jb_mem(b, tmp.buf, tmp.len);
	if (tmp.len <= sizeof(p->text)) {
		p->conn = ev->conn;
		p->ep = ev->ep;
		p->pid = ev->pid;
		memcpy(p->comm, ev->comm, TT_COMM_LEN);
		memcpy(p->text, tmp.buf, tmp.len);
		p->len = (uint16_t)tmp.len;
	} else {
		p->len = 0;
	}
}

/* ts_ns's digits above the last 8: the same for 100 ms of events */
static struct jb_hi_cache ts_hi;

void render_json(FILE *f, const struct tl_event *ev, const struct render_opts *o)
{
	struct jbuf b;

	jb_init(&b);
	head_field(&b, ev->kind);
	jb_u64_hi_cached(&b, ev->ts_ns, &ts_hi);
	jb_lit(&b, ",\"time\":\"");
	jb_rfc3339(&b, (int64_t)ev->ts_ns + o->realtime_offset_ns);
	jb_char(&b, '"');
	if (ev->conn) {
		conn_fields_cached(&b, ev);
	} else {
		jb_lit(&b, ",\"conn\":null,\"family\":null,\"laddr\":null,\"lport\":null"
			   ",\"raddr\":null,\"rport\":null");
		owner_fields(&b, ev);
	}

	switch (ev->kind) {
	case TL_STATE:
		state_fields(&b, ev->state.old_state, ev->state.new_state);
		/* control segment labels from our own table (names.c's, also for
		 * a recording read back): no escaping */
		key(&b, "sent");
		name_or_null(&b, ev->state.sent);
		key(&b, "received");
		name_or_null(&b, ev->state.received);
		actor_fields(&b, &ev->state.actor);
		if (ev->state.time_wait)
			jb_lit(&b, ",\"time_wait\":true");
		if (ev->state.tw_fin_wait2)
			jb_lit(&b, ",\"tw_state\":\"FIN_WAIT2\"");
		if (ev->state.fin_wait2_dropped)
			jb_lit(&b, ",\"fin_wait2_dropped\":true");
		if (ev->state.new_state == TT_TCP_ESTABLISHED)
			us_or_null(&b, ",\"handshake_us\":", ev->state.handshake_us);
		break;
	case TL_DATA:
		dir_field(&b, ev->data.dir);
		u64_field(&b, "bytes", ev->data.bytes);
		u64_field(&b, "segments", ev->data.segs);
		if (ev->data.inferred)
			jb_lit(&b, ",\"inferred\":true");
		break;
	case TL_RETRANSMIT:
		u64_field(&b, "seq", ev->retrans.seq);
		key(&b, "syn");
		jb_str(&b, ev->retrans.syn ? "true" : "false");
		u64_field(&b, "count", ev->retrans.count);
		if (ev->retrans.err)
			str_or_null(&b, "failed",
				    errno_name(-ev->retrans.err) ? errno_name(-ev->retrans.err) :
								   "error");
		break;
	case TL_KA_PROBE:
		dir_field(&b, ev->ka_probe.dir);
		u64_field(&b, "n", ev->ka_probe.n);
		break;
	case TL_KA_ACK:
		dir_field(&b, ev->ka_ack.dir);
		key(&b, "rtt_us");
		if (ev->ka_ack.rtt_ns) {
			jb_u64(&b, ev->ka_ack.rtt_ns / 1000);
			/* extension: exact, as the ladder rounds it */
			u64_field(&b, "rtt_ns", ev->ka_ack.rtt_ns);
		} else {
			jb_lit(&b, "null");
		}
		if (ev->ka_ack.inferred)
			jb_lit(&b, ",\"inferred\":true");
		break;
	case TL_RST:
		dir_field(&b, ev->rst.dir);
		str_or_null(&b, "reason",
			    ev->rst.reason == TT_RST_REASON_NONE ? NULL :
								   rst_reason_name(ev->rst.reason));
		/* extension: the task that sent it (an abort in close()) */
		actor_fields(&b, &ev->rst.actor);
		break;
	case TL_ERROR:
		key(&b, "errno");
		jb_i64(&b, ev->error.err);
		str_or_null(&b, "name", errno_name(ev->error.err));
		if (ev->error.inferred)
			jb_lit(&b, ",\"inferred\":true");
		break;
	case TL_CLOSE:
		cause_field(&b, ev->close.cause);
		actor_fields(&b, &ev->close.by);
		str_or_null(&b, "signal", ev->close.signal ? signal_name(ev->close.signal) : NULL);
		key(&b, "exit_code");
		if (ev->close.exit_code >= 0)
			jb_i64(&b, ev->close.exit_code);
		else
			jb_lit(&b, "null");
		/* milliseconds with three decimals, rounded to the nearest microsecond */
		key(&b, "duration_ms");
		jb_fixed(&b, (int64_t)((ev->close.duration_ns + 500) / 1000), 3);
		u64_field(&b, "bytes_in", ev->close.bytes_in);
		u64_field(&b, "bytes_out", ev->close.bytes_out);
		u64_field(&b, "retransmits", ev->close.retransmits);
		u64_field(&b, "keepalives", ev->close.keepalives);
		u64_field(&b, "drops", ev->close.drops);
		us_or_null(&b, ",\"srtt_us\":", ev->close.srtt_us);
		us_or_null(&b, ",\"min_rtt_us\":", ev->close.min_rtt_us);
		if (ev->close.stalled_ms)
			u64_field(&b, "stalled_ms", ev->close.stalled_ms);
		break;
	case TL_WINDOW:
		dir_field(&b, ev->window.dir);
		name_field(&b, "state", ev->window.open ? "open" : "zero");
		u64_field(&b, "queued", ev->window.queued);
		if (ev->window.open) {
			key(&b, "stalled_ms");
			jb_fixed(&b, (int64_t)((ev->window.stalled_ns + 500) / 1000), 3);
			if (ev->window.dir == TT_DIR_IN)
				u64_field(&b, "probes", ev->window.probes);
		}
		if (ev->window.inferred)
			jb_lit(&b, ",\"inferred\":true");
		break;
	case TL_DROP:
		dir_field(&b, ev->drop.dir);
		str_or_null(&b, "reason",
			    ev->drop.reason == TT_DROP_REASON_NONE ?
				    NULL :
				    drop_reason_name(ev->drop.reason));
		name_field(&b, "flags", tcp_flags_name(ev->drop.flags));
		u64_field(&b, "bytes", ev->drop.bytes);
		if (ev->drop.listener) {
			jb_lit(&b, ",\"listener\":true");
			addr_field(&b, "peer_addr", ev->ep.family, ev->drop.peer_addr);
			u64_field(&b, "peer_port", ev->drop.peer_port);
		}
		break;
	case TL_EXISTING:
		name_field(&b, "state", tcp_state_name(ev->existing.state));
		break;
	case TL_KA_RUN: /* never handed to a renderer (conn_view expands it) */
		break;
	case TL_LOST:
		u64_field(&b, "count", ev->lost.count);
		break;
	case TL_TRUNCATED:
		u64_field(&b, "count", ev->truncated.count);
		break;
	}
	jb_lit(&b, "}\n");
	/* one thread writes the event stream (the metrics server's threads
	 * never touch it): stdio's per-call lock is not needed */
	jb_write_unlocked(&b, f);
}
