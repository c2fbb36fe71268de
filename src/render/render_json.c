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

/* ts_ns's digits above the last 8: the same for 100 ms of events */
static struct jb_hi_cache ts_hi;

/* Cursor versions of the pieces above, for render_line: no room checks (the
 * line has JB_LINE_ROOM, far more than its longest: a few strings of at
 * most 64 bytes escaped, addresses, numbers and names of our own) and no
 * length kept in memory between pieces. */
#define ckey(p, k)    jc_lit((p), ",\"" k "\":")
#define cu64(p, k, v) jc_u64(ckey(p, k), (v))

/* n bytes of s (which has at least `room` readable bytes) at p: a fixed-size
 * move when n is at most 64 or 160, no call to memcpy */
static inline char *copy_upto(char *p, const char *s, size_t n, size_t room)
{
	if (n <= 64 && room >= 64)
		memcpy(p, s, 64);
	else if (n <= 160 && room >= 160)
		memcpy(p, s, 160);
	else
		memcpy(p, s, n);
	return p + n;
}

/* what a jbuf helper above built, at the cursor (the pieces no line has
 * often: strings of the kernel's tables, a task not seen just before) */
static char *from_jbuf(char *p, const struct jbuf *t)
{
	return jc_mem(p, t->buf, t->len);
}

static inline char *cpiece(char *p, const struct piece *pc)
{
	memcpy(p, pc->text, sizeof(pc->text));
	return p + pc->len;
}

static char *cstr_or_null(char *p, const char *k, size_t klen, const char *s)
{
	struct jbuf t;

	p = jc_mem(p, k, klen);
	if (!s)
		return jc_lit(p, "null");
	jb_init(&t);
	jb_json_string(&t, s, 64);
	return from_jbuf(p, &t);
}
#define CSTR_OR_NULL(p, k, s) cstr_or_null((p), ",\"" k "\":", sizeof(",\"" k "\":") - 1, (s))

static char *cname_field(char *p, const char *k, size_t klen, const char *s)
{
	p = jc_mem(p, k, klen);
	*p++ = '"';
	p = jc_mem(p, s, strlen(s));
	*p++ = '"';
	return p;
}
#define CNAME_FIELD(p, k, s) cname_field((p), ",\"" k "\":", sizeof(",\"" k "\":") - 1, (s))

static inline char *cdir(char *p, uint8_t dir)
{
	if (dir == TT_DIR_OUT)
		return jc_lit(p, ",\"dir\":\"out\"");
	return jc_lit(p, ",\"dir\":\"in\"");
}

static inline char *cus_or_null(char *p, const char *k, size_t klen, uint32_t us)
{
	p = jc_mem(p, k, klen);
	if (us == TT_RTT_NONE)
		return jc_lit(p, "null");
	return jc_u64(p, us);
}
#define CUS_OR_NULL(p, k, us) cus_or_null((p), k, sizeof(k) - 1, (us))

/* v / 1000 with its three decimals ("0.094"; jb_fixed(v, 3)) */
static char *cfixed3(char *p, int64_t v)
{
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	uint32_t r;

	if (v < 0)
		*p++ = '-';
	p = jc_u64(p, u / 1000);
	r = (uint32_t)(u % 1000);
	p[0] = '.';
	p[1] = (char)('0' + r / 100);
	p[2] = (char)('0' + r / 10 % 10);
	p[3] = (char)('0' + r % 10);
	return p + 4;
}

static char *cactor(char *p, const struct tl_task *t)
{
	struct jbuf tmp;

	if (!t->pid)
		return jc_lit(p, ",\"by_pid\":null,\"by_comm\":null");
	if (actor_cache.len && actor_cache.t.pid == t->pid && actor_cache.t.exiting == t->exiting &&
	    (!t->exiting || actor_cache.t.exit_code == t->exit_code) &&
	    !memcmp(actor_cache.t.comm, t->comm, TT_COMM_LEN))
		return copy_upto(p, actor_cache.text, actor_cache.len, sizeof(actor_cache.text));
	jb_init(&tmp);
	actor_fields(&tmp, t); /* and kept */
	return from_jbuf(p, &tmp);
}

/* An address's text with its quotes, from a small cache on the address (a
 * connection's two, and the next connection's mostly the same) */
static struct {
	uint8_t family;
	uint8_t addr[16];
	uint8_t len;   /* 0: empty */
	char text[64]; /* ADDR_STRLEN + 2, copied whole */
} addr_cache[4];

static char *caddr(char *p, uint8_t family, const uint8_t addr[16])
{
	unsigned int i = (addr[3] ^ addr[15]) & 3;
	char a[ADDR_STRLEN];
	size_t n;

	if (addr_cache[i].len && addr_cache[i].family == family &&
	    !memcmp(addr_cache[i].addr, addr, 16))
		return copy_upto(p, addr_cache[i].text, addr_cache[i].len,
				 sizeof(addr_cache[i].text));
	addr_format(family, addr, a, sizeof(a));
	n = strlen(a);
	*p++ = '"';
	p = jc_mem(p, a, n);
	*p++ = '"';
	addr_cache[i].family = family;
	memcpy(addr_cache[i].addr, addr, 16);
	memcpy(addr_cache[i].text, p - n - 2, n + 2);
	addr_cache[i].len = (uint8_t)(n + 2);
	return p;
}

/* ,"pid":N,"comm":"..." of the socket's owner, the last one kept (most
 * connections of a run belong to a few processes) */
static struct {
	uint32_t pid;
	char comm[TT_COMM_LEN];
	uint16_t len; /* 0: empty */
	char text[160];
} owner_cache;

static char *cowner(char *p, uint32_t pid, const char comm[TT_COMM_LEN])
{
	struct jbuf tmp;

	if (!pid)
		return jc_lit(p, ",\"pid\":null,\"comm\":null");
	if (owner_cache.len && owner_cache.pid == pid &&
	    !memcmp(owner_cache.comm, comm, TT_COMM_LEN))
		return copy_upto(p, owner_cache.text, owner_cache.len, sizeof(owner_cache.text));
	jb_init(&tmp);
	u64_field(&tmp, "pid", pid);
	key(&tmp, "comm");
	jb_json_string(&tmp, comm, TT_COMM_LEN);
	if (tmp.len <= sizeof(owner_cache.text)) {
		owner_cache.pid = pid;
		memcpy(owner_cache.comm, comm, TT_COMM_LEN);
		memcpy(owner_cache.text, tmp.buf, tmp.len);
		owner_cache.len = (uint16_t)tmp.len;
	} else {
		owner_cache.len = 0;
	}
	return from_jbuf(p, &tmp);
}

/* ,"conn" to "comm" from the connection's cached prefix, or made at p and
 * kept */
static char *cconn(char *p, const struct tl_event *ev)
{
	struct conn_prefix *c = &prefix_cache[ev->conn % 256];
	char *start = p;

	if (c->len && c->conn == ev->conn && c->pid == ev->pid &&
	    !memcmp(&c->ep, &ev->ep, sizeof(c->ep)) && !memcmp(c->comm, ev->comm, TT_COMM_LEN))
		return copy_upto(p, c->text, c->len, sizeof(c->text));
	p = cu64(p, "conn", ev->conn);
	p = cu64(p, "family", ev->ep.family);
	p = caddr(ckey(p, "laddr"), ev->ep.family, ev->ep.laddr);
	p = cu64(p, "lport", ev->ep.lport);
	p = caddr(ckey(p, "raddr"), ev->ep.family, ev->ep.raddr);
	p = cu64(p, "rport", ev->ep.rport);
	p = cowner(p, ev->pid, ev->comm);
	if ((size_t)(p - start) <= sizeof(c->text)) {
		c->conn = ev->conn;
		c->ep = ev->ep;
		c->pid = ev->pid;
		memcpy(c->comm, ev->comm, TT_COMM_LEN);
		memcpy(c->text, start, (size_t)(p - start));
		c->len = (uint16_t)(p - start);
	} else {
		c->len = 0;
	}
	return p;
}

/* A state change's ,"old":..,"new":..,"sent":..,"received":.. in one
 * piece per (old, new) pair, checked against the labels it was made of
 * (pointers into names.c's tables, which never change: a label read back
 * from a recording is one of them too, segment_label). */
struct state_piece {
	const char *sent, *received;
	uint8_t len;   /* 0: not built (or too long) */
	char text[96]; /* copied whole: a multiple of 16 bytes */
};
static struct state_piece state_pieces[16][16];

static char *cstate(char *p, const struct tl_event *ev)
{
	uint8_t o = ev->state.old_state, n = ev->state.new_state;
	struct state_piece *sp;
	struct jbuf tmp;

	if (__builtin_expect(o < 16 && n < 16, 1)) {
		sp = &state_pieces[o][n];
		if (sp->len && sp->sent == ev->state.sent && sp->received == ev->state.received) {
			memcpy(p, sp->text, sizeof(sp->text));
			return p + sp->len;
		}
	} else {
		sp = NULL;
	}
	jb_init(&tmp);
	state_fields(&tmp, o, n);
	key(&tmp, "sent");
	name_or_null(&tmp, ev->state.sent);
	key(&tmp, "received");
	name_or_null(&tmp, ev->state.received);
	if (sp) {
		if (tmp.len <= sizeof(sp->text)) {
			sp->sent = ev->state.sent;
			sp->received = ev->state.received;
			memcpy(sp->text, tmp.buf, tmp.len);
			sp->len = (uint8_t)tmp.len;
		} else {
			sp->len = 0;
		}
	}
	return from_jbuf(p, &tmp);
}

/* The line at p (which has JB_LINE_ROOM bytes); the cursor past its end */
static char *render_line(char *p, const struct tl_event *ev, const struct render_opts *o)
{
	const struct piece *hp = PIECE(kind_pieces, ev->kind, "{\"event\":\"",
				       tl_kind_name(ev->kind), "\",\"ts_ns\":");

	if (__builtin_expect(hp != NULL, 1)) {
		p = cpiece(p, hp);
	} else {
		p = jc_lit(p, "{\"event\":\"");
		p = jc_mem(p, tl_kind_name(ev->kind), strlen(tl_kind_name(ev->kind)));
		p = jc_lit(p, "\",\"ts_ns\":");
	}
	p = jc_u64_hi_cached(p, ev->ts_ns, &ts_hi);
	p = jc_lit(p, ",\"time\":\"");
	p = jc_rfc3339(p, (int64_t)ev->ts_ns + o->realtime_offset_ns);
	*p++ = '"';
	if (ev->conn) {
		p = cconn(p, ev);
	} else {
		p = jc_lit(p, ",\"conn\":null,\"family\":null,\"laddr\":null,\"lport\":null"
			      ",\"raddr\":null,\"rport\":null");
		p = cowner(p, ev->pid, ev->comm);
	}

	switch (ev->kind) {
	case TL_STATE:
		/* control segment labels from our own table (names.c's, also for
		 * a recording read back): no escaping */
		p = cstate(p, ev);
		p = cactor(p, &ev->state.actor);
		if (ev->state.time_wait)
			p = jc_lit(p, ",\"time_wait\":true");
		if (ev->state.tw_fin_wait2)
			p = jc_lit(p, ",\"tw_state\":\"FIN_WAIT2\"");
		if (ev->state.fin_wait2_dropped)
			p = jc_lit(p, ",\"fin_wait2_dropped\":true");
		if (ev->state.new_state == TT_TCP_ESTABLISHED)
			p = CUS_OR_NULL(p, ",\"handshake_us\":", ev->state.handshake_us);
		break;
	case TL_DATA:
		p = cdir(p, ev->data.dir);
		p = cu64(p, "bytes", ev->data.bytes);
		p = cu64(p, "segments", ev->data.segs);
		if (ev->data.inferred)
			p = jc_lit(p, ",\"inferred\":true");
		break;
	case TL_RETRANSMIT:
		p = cu64(p, "seq", ev->retrans.seq);
		if (ev->retrans.syn)
			p = jc_lit(p, ",\"syn\":true");
		else
			p = jc_lit(p, ",\"syn\":false");
		p = cu64(p, "count", ev->retrans.count);
		if (ev->retrans.err)
			p = CSTR_OR_NULL(p, "failed",
					 errno_name(-ev->retrans.err) ?
						 errno_name(-ev->retrans.err) :
						 "error");
		break;
	case TL_KA_PROBE:
		p = cdir(p, ev->ka_probe.dir);
		p = cu64(p, "n", ev->ka_probe.n);
		break;
	case TL_KA_ACK:
		p = cdir(p, ev->ka_ack.dir);
		p = ckey(p, "rtt_us");
		if (ev->ka_ack.rtt_ns) {
			p = jc_u64(p, ev->ka_ack.rtt_ns / 1000);
			/* extension: exact, as the ladder rounds it */
			p = cu64(p, "rtt_ns", ev->ka_ack.rtt_ns);
		} else {
			p = jc_lit(p, "null");
		}
		if (ev->ka_ack.inferred)
			p = jc_lit(p, ",\"inferred\":true");
		break;
	case TL_RST:
		p = cdir(p, ev->rst.dir);
		p = CSTR_OR_NULL(p, "reason",
				 ev->rst.reason == TT_RST_REASON_NONE ?
					 NULL :
					 rst_reason_name(ev->rst.reason));
		/* extension: the task that sent it (an abort in close()) */
		p = cactor(p, &ev->rst.actor);
		break;
	case TL_ERROR:
		p = jc_i64(ckey(p, "errno"), ev->error.err);
		p = CSTR_OR_NULL(p, "name", errno_name(ev->error.err));
		if (ev->error.inferred)
			p = jc_lit(p, ",\"inferred\":true");
		break;
	case TL_CLOSE: {
		const struct piece *cp = PIECE(cause_pieces, ev->close.cause, ",\"cause\":\"",
					       cause_name(ev->close.cause), "\"");

		if (cp)
			p = cpiece(p, cp);
		else
			p = CNAME_FIELD(p, "cause", cause_name(ev->close.cause));
		p = cactor(p, &ev->close.by);
		if (ev->close.signal)
			p = CSTR_OR_NULL(p, "signal", signal_name(ev->close.signal));
		else
			p = jc_lit(p, ",\"signal\":null");
		p = ckey(p, "exit_code");
		if (ev->close.exit_code >= 0)
			p = jc_u64(p, (uint64_t)ev->close.exit_code);
		else
			p = jc_lit(p, "null");
		/* milliseconds with three decimals, rounded to the nearest microsecond */
		p = ckey(p, "duration_ms");
		p = cfixed3(p, (int64_t)((ev->close.duration_ns + 500) / 1000));
		p = cu64(p, "bytes_in", ev->close.bytes_in);
		p = cu64(p, "bytes_out", ev->close.bytes_out);
		p = cu64(p, "retransmits", ev->close.retransmits);
		p = cu64(p, "keepalives", ev->close.keepalives);
		p = cu64(p, "drops", ev->close.drops);
		p = CUS_OR_NULL(p, ",\"srtt_us\":", ev->close.srtt_us);
		p = CUS_OR_NULL(p, ",\"min_rtt_us\":", ev->close.min_rtt_us);
		if (ev->close.stalled_ms)
			p = cu64(p, "stalled_ms", ev->close.stalled_ms);
		break;
	}
	case TL_WINDOW:
		p = cdir(p, ev->window.dir);
		if (ev->window.open)
			p = jc_lit(p, ",\"state\":\"open\"");
		else
			p = jc_lit(p, ",\"state\":\"zero\"");
		p = cu64(p, "queued", ev->window.queued);
		if (ev->window.open) {
			p = ckey(p, "stalled_ms");
			p = cfixed3(p, (int64_t)((ev->window.stalled_ns + 500) / 1000));
			if (ev->window.dir == TT_DIR_IN)
				p = cu64(p, "probes", ev->window.probes);
		}
		if (ev->window.inferred)
			p = jc_lit(p, ",\"inferred\":true");
		break;
	case TL_DROP:
		p = cdir(p, ev->drop.dir);
		p = CSTR_OR_NULL(p, "reason",
				 ev->drop.reason == TT_DROP_REASON_NONE ?
					 NULL :
					 drop_reason_name(ev->drop.reason));
		p = CNAME_FIELD(p, "flags", tcp_flags_name(ev->drop.flags));
		p = cu64(p, "bytes", ev->drop.bytes);
		if (ev->drop.listener) {
			p = jc_lit(p, ",\"listener\":true");
			p = caddr(ckey(p, "peer_addr"), ev->ep.family, ev->drop.peer_addr);
			p = cu64(p, "peer_port", ev->drop.peer_port);
		}
		break;
	case TL_EXISTING:
		p = CNAME_FIELD(p, "state", tcp_state_name(ev->existing.state));
		break;
	case TL_KA_RUN: /* never handed to a renderer (conn_view expands it) */
		break;
	case TL_LOST:
		p = cu64(p, "count", ev->lost.count);
		break;
	case TL_TRUNCATED:
		p = cu64(p, "count", ev->truncated.count);
		break;
	}
	*p++ = '}';
	*p++ = '\n';
	return p;
}

void render_json(FILE *f, const struct tl_event *ev, const struct render_opts *o)
{
	char line[JB_LINE_ROOM];
	char *end;

	/* one thread writes the event stream (the metrics server's threads
	 * never touch it): stdio's per-call lock is not needed. When f's
	 * buffer has the room, the line is made right there (glibc's FILE
	 * keeps its write pointers public, as putc_unlocked uses them): no
	 * copy of it. A line-buffered f (a terminal) shows no room there and
	 * gets the line through fwrite, which writes it at once. */
#ifdef __GLIBC__
	if (__builtin_expect((size_t)(f->_IO_write_end - f->_IO_write_ptr) >= JB_LINE_ROOM, 1)) {
		f->_IO_write_ptr = render_line(f->_IO_write_ptr, ev, o);
		return;
	}
#endif
	end = render_line(line, ev, o);
	fwrite_unlocked(line, 1, (size_t)(end - line), f);
}
