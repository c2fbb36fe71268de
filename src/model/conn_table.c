// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "conn_table.h"
#include "decode.h"
#include "addr.h"
#include "names.h"
#include "zero.h"

struct conn_list {
	struct conn *head, *tail;
	size_t n;
};

/* Drops that matched no end yet, kept this long for a late 4-tuple. */
#define PENDING_DROPS	64
#define PENDING_DROP_NS 3000000000ULL

struct pending_drop {
	struct tt_drop d;
	bool want_out, want_in; /* the sender's / receiver's end is still unmatched */
};

/* A drop that may be no drop, held until the story of the end it came
 * into reaches it (conn_table_set_hold_drops) */
struct held_drop {
	struct tt_drop d;
	bool want_out;
	bool done;		 /* judged (freed when it reaches the head of the queue) */
	struct held_drop *bnext; /* its ports chain */
	struct held_drop *fnext; /* the queue, in the order they came */
};

#define HELD_BUCKETS 256

struct conn_table {
	struct conn_table_opts opts;
	/* held drops: by the receiving end's ports, and in the order they came */
	struct held_drop **hbuckets;
	struct held_drop *hhead, *htail;
	size_t n_held;
	uint64_t hold_ns;
	struct pending_drop pending[PENDING_DROPS];
	size_t n_pending;
	struct conn **buckets;
	/* every connection kept, open or closed, by its ports and by its id:
	 * looking one up by 4-tuple (request and timewait sockets, drops, the
	 * other end) or by id (ladders) costs a short chain, not a walk of
	 * every connection, on a host with thousands open */
	struct conn **tbuckets, **ibuckets;
	/* the hash by socket address starts small and doubles as it fills
	 * (up to max_buckets), as the indexes below do: it is looked up for
	 * every record, and 65,536 buckets (512 KiB) at a high churn with few
	 * sockets open were a cache miss per record */
	size_t n_buckets, max_buckets; /* powers of two */
	size_t n_hashed;
	/* the connection hash_find found last, while it is in the hash: a
	 * log's entries are one socket's, each looked up (about 13 lookups a
	 * socket under churn) */
	struct conn *hash_hit;
	/* connections dropped from the table, kept for the next ones (a
	 * connection is made and dropped per socket: malloc's calloc path
	 * and free were a few percent of the tracer at a high churn) */
	struct conn *spare;
	size_t n_spare;
	/* the same for a story's first array of events (SPARE_EVENTS_CAP of
	 * them: every story held starts with one; with the outcome filters
	 * or ladders it was a malloc and a free per socket) */
	struct tl_event *spare_events[16];
	size_t n_spare_events;
	/* the ports and id hashes start small and grow with what the table
	 * holds: a few thousand buckets stay in cache at a high churn with few
	 * connections open, where a walk of the short open list did too */
	size_t n_index; /* power of two */
	/* open connections with no socket address yet (found at start, or
	 * seen through a request or timewait socket): the only ones a new
	 * socket's first record may bind to. With none, that lookup is not
	 * made: at a high churn it was a walk of a cold chain per socket. */
	size_t n_unbound;
	/* the local ports those have had since n_unbound was last 0 (a
	 * filter: a new socket whose port has no bit here binds to none of
	 * them, without a walk of its ports chain; a listener found at start
	 * keeps n_unbound above 0 for good) */
	uint64_t unbound_lports[65536 / 64];
	bool unbound_lports_dirty;
	uint64_t close_seq;
	struct conn_list open, closed;
	uint64_t next_id;
	uint64_t evicted;
	size_t held;	   /* bytes: connections and their event arrays */
	uint64_t not_kept; /* events cut from stories or not stored */
	/* stories long enough to cut, by length: by_len[n] lists those with n
	 * events kept, the first to reach n first; longest is at least the
	 * highest non-empty one. The budget's victim is found in O(1) amortized
	 * instead of a scan of every connection at each cut. */
	struct conn_list *by_len;
	size_t n_by_len; /* max_events_per_conn + 1 */
	size_t longest;
	uint64_t victim_steps; /* buckets looked at to find victims (tests) */
};

static size_t bucket_of(const struct conn_table *t, uint64_t sk)
{
	sk ^= sk >> 29;
	sk *= 0xbf58476d1ce4e5b9ULL;
	sk ^= sk >> 32;
	return (size_t)sk & (t->n_buckets - 1);
}

static void list_push(struct conn_list *l, struct conn *c)
{
	c->prev = l->tail;
	c->next = NULL;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	l->n++;
}

static void list_remove(struct conn_list *l, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
	l->n--;
}

/* twice the buckets; each chain keeps its order (old bucket b splits into
 * b and b + n, in order), so lookups answer as before. Left as it is if
 * memory is short: chains get longer, answers stay the same. */
static void hash_grow(struct conn_table *t)
{
	size_t n = t->n_buckets;
	struct conn **nb = calloc(2 * n, sizeof(*nb));

	if (!nb)
		return;
	t->n_buckets = 2 * n;
	for (size_t b = 0; b < n; b++) {
		struct conn **tail[2] = { &nb[b], &nb[b + n] }, *c, *next;

		for (c = t->buckets[b]; c; c = next) {
			int half = bucket_of(t, c->sk) != b;

			next = c->hnext;
			c->hnext = NULL;
			*tail[half] = c;
			tail[half] = &c->hnext;
		}
	}
	free(t->buckets);
	t->buckets = nb;
}

static void hash_insert(struct conn_table *t, struct conn *c)
{
	size_t b;

	if (++t->n_hashed > t->n_buckets / 2 && t->n_buckets < t->max_buckets)
		hash_grow(t);
	b = bucket_of(t, c->sk);
	c->hnext = t->buckets[b];
	t->buckets[b] = c;
}

static void hash_remove(struct conn_table *t, struct conn *c)
{
	struct conn **pp = &t->buckets[bucket_of(t, c->sk)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			c->hnext = NULL;
			t->n_hashed--;
			if (t->hash_hit == c)
				t->hash_hit = NULL;
			return;
		}
	}
}

static struct conn *hash_find(struct conn_table *t, uint64_t sk)
{
	struct conn *c = t->hash_hit;

	if (c && c->sk == sk)
		return c;
	c = t->buckets[bucket_of(t, sk)];
	while (c && c->sk != sk)
		c = c->hnext;
	if (c)
		t->hash_hit = c;
	return c;
}

/* a story is cut in the middle only when it has this many events: shorter
 * ones are all beginning and end */
#define CUT_MIN_EVENTS 8

static void len_unlink(struct conn_table *t, struct conn *c)
{
	struct conn_list *b;

	if (!c->n_len)
		return;
	b = &t->by_len[c->n_len];
	if (c->sprev)
		c->sprev->snext = c->snext;
	else
		b->head = c->snext;
	if (c->snext)
		c->snext->sprev = c->sprev;
	else
		b->tail = c->sprev;
	b->n--;
	c->sprev = c->snext = NULL;
	c->n_len = 0;
}

/* c's story has n_events now: to the tail of its length's bucket */
static void len_update(struct conn_table *t, struct conn *c)
{
	size_t n = c->n_events;
	struct conn_list *b;

	if (c->n_len == n)
		return;
	len_unlink(t, c);
	if (n < CUT_MIN_EVENTS || n >= t->n_by_len)
		return;
	b = &t->by_len[n];
	c->n_len = (uint32_t)n;
	c->sprev = b->tail;
	c->snext = NULL;
	if (b->tail)
		b->tail->snext = c;
	else
		b->head = c;
	b->tail = c;
	b->n++;
	if (n > t->longest)
		t->longest = n;
}

/* a 4-tuple's ports, spread: the ports index and the held drops' buckets */
static size_t ports_hash(uint16_t lport, uint16_t rport)
{
	return (size_t)((((uint64_t)lport << 16 | rport) * 0x9e3779b97f4a7c15ULL) >> 32);
}

static size_t ports_bucket(const struct conn_table *t, uint16_t lport, uint16_t rport)
{
	return ports_hash(lport, rport) & (t->n_index - 1);
}

/* Ids are given in order: the id itself spreads them, one a bucket while
 * the table holds fewer than n_index (it holds at most half), and the
 * oldest closed connection, dropped at every close, is then alone in its
 * chain: its unlinking reads only the bucket (next to the last victim's),
 * not the newer connections ahead of it in a mixed chain (cold: a walk of
 * them was most of conn_drop in perf). */
static size_t id_bucket(const struct conn_table *t, uint64_t id)
{
	return (size_t)id & (t->n_index - 1);
}

static void chain_remove(struct conn **pp, struct conn *c, size_t link)
{
	for (; *pp; pp = (struct conn **)((char *)*pp + link)) {
		if (*pp == c) {
			*pp = *(struct conn **)((char *)c + link);
			*(struct conn **)((char *)c + link) = NULL;
			return;
		}
	}
}

static void index_link(struct conn_table *t, struct conn *c);

/* twice the buckets once the table holds half as many connections (left
 * as it is if memory is short: chains get longer, answers stay the same) */
static void index_grow(struct conn_table *t)
{
	size_t n = t->n_index * 2;
	struct conn **tb = calloc(n, sizeof(*tb)), **ib = calloc(n, sizeof(*ib));

	if (!tb || !ib) {
		free(tb);
		free(ib);
		return;
	}
	free(t->tbuckets);
	free(t->ibuckets);
	t->tbuckets = tb;
	t->ibuckets = ib;
	t->n_index = n;
	for (struct conn *c = t->open.head; c; c = c->next)
		index_link(t, c);
	for (struct conn *c = t->closed.head; c; c = c->next)
		index_link(t, c);
}

static void index_insert(struct conn_table *t, struct conn *c)
{
	/* at most one connection per two buckets: the chains are singly
	 * linked, and the connection dropped is the oldest, at a chain's end,
	 * so a longer chain is a walk through newer (cold) entries per drop */
	if (t->open.n + t->closed.n > t->n_index / 2)
		index_grow(t); /* c is on the open list already: linked there */
	else
		index_link(t, c);
}

static void index_link(struct conn_table *t, struct conn *c)
{
	size_t b = ports_bucket(t, c->ep.lport, c->ep.rport), i = id_bucket(t, c->id);

	c->tbucket = b;
	c->tnext = t->tbuckets[b];
	t->tbuckets[b] = c;
	c->inext = t->ibuckets[i];
	t->ibuckets[i] = c;
}

static void index_remove(struct conn_table *t, struct conn *c)
{
	chain_remove(&t->tbuckets[c->tbucket], c, offsetof(struct conn, tnext));
	chain_remove(&t->ibuckets[id_bucket(t, c->id)], c, offsetof(struct conn, inext));
}

/* c->ep (or c->id) is about to change: out of the indexes, then back in */
static void unbound_port(struct conn_table *t, uint16_t lport)
{
	t->unbound_lports[lport >> 6] |= 1ULL << (lport & 63);
	t->unbound_lports_dirty = true;
}

static void index_set_ep(struct conn_table *t, struct conn *c, const struct tl_endpoints *ep)
{
	if (!c->sk)
		unbound_port(t, ep->lport);
	if (c->ep.lport == ep->lport && c->ep.rport == ep->rport) {
		c->ep = *ep;
		return;
	}
	chain_remove(&t->tbuckets[c->tbucket], c, offsetof(struct conn, tnext));
	c->ep = *ep;
	c->tbucket = ports_bucket(t, c->ep.lport, c->ep.rport);
	c->tnext = t->tbuckets[c->tbucket];
	t->tbuckets[c->tbucket] = c;
}

/* of two matches, the one a walk of the open list from its newest, then of
 * the closed list from the last closed, would find first */
static struct conn *newer(struct conn *best, struct conn *c)
{
	if (!best)
		return c;
	if (c->closed != best->closed)
		return c->closed ? best : c;
	if (!c->closed)
		return c->id > best->id ? c : best;
	return c->close_seq > best->close_seq ? c : best;
}

static void conn_free(struct conn *c)
{
	for (size_t i = 0; i < c->n_events && c->ka_runs; i++)
		if (c->events[i].kind == TL_KA_RUN) {
			free(c->events[i].ka_run.run);
			c->ka_runs--;
		}
	free(c->events);
	free(c);
}

struct conn_table *conn_table_new(const struct conn_table_opts *opts)
{
	struct conn_table *t = calloc(1, sizeof(*t));
	size_t n = 1024;

	if (!t)
		return NULL;
	t->opts = *opts;
	if (!t->opts.max_open)
		t->opts.max_open = 65536;
	while (n < t->opts.max_open && n < (1u << 20))
		n <<= 1;
	t->max_buckets = n;
	t->n_buckets = 1024;
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	t->n_index = 1024;
	t->tbuckets = calloc(t->n_index, sizeof(*t->tbuckets));
	t->ibuckets = calloc(t->n_index, sizeof(*t->ibuckets));
	if (!t->buckets || !t->tbuckets || !t->ibuckets) {
		free(t->buckets);
		free(t->tbuckets);
		free(t->ibuckets);
		free(t);
		return NULL;
	}
	if (t->opts.max_events_per_conn) {
		t->n_by_len = (size_t)t->opts.max_events_per_conn + 1;
		t->by_len = calloc(t->n_by_len, sizeof(*t->by_len));
		if (!t->by_len) {
			free(t->buckets);
			free(t->tbuckets);
			free(t->ibuckets);
			free(t);
			return NULL;
		}
	}
	t->next_id = 1;
	return t;
}

static void free_list(struct conn_list *l)
{
	struct conn *c = l->head, *next;

	for (; c; c = next) {
		next = c->next;
		conn_free(c);
	}
}

void conn_table_free(struct conn_table *t)
{
	if (!t)
		return;
	free_list(&t->open);
	free_list(&t->closed);
	while (t->spare) {
		struct conn *c = t->spare;

		t->spare = c->next;
		free(c);
	}
	while (t->n_spare_events)
		free(t->spare_events[--t->n_spare_events]);
	free(t->buckets);
	free(t->tbuckets);
	free(t->ibuckets);
	free(t->by_len);
	while (t->hhead) {
		struct held_drop *h = t->hhead;

		t->hhead = h->fnext;
		free(h);
	}
	free(t->hbuckets);
	free(t);
}

/* One address: an IPv4-mapped IPv6 address (::ffff:a.b.c.d, how a
 * dual-stack socket sees an IPv4 peer) is that IPv4 address. */
static bool same_addr(uint8_t fa, const uint8_t *a, uint8_t fb, const uint8_t *b)
{
	if (addr_is_v4mapped(fa, a)) {
		fa = 4;
		a += 12;
	}
	if (addr_is_v4mapped(fb, b)) {
		fb = 4;
		b += 12;
	}
	if (fa != fb)
		return false;
	return !memcmp(a, b, fa == 4 ? 4 : 16);
}

static bool hashed(const struct conn *c)
{
	return c->sk && !c->destroyed;
}

static void free_runs(struct conn_table *t, struct conn *c, size_t from, size_t to);
static void events_put(struct conn_table *t, struct conn *c);

#define SPARE_CONNS 64

/* Drop a connection from the table entirely (its memory kept as a spare). */
static void conn_drop(struct conn_table *t, struct conn *c)
{
	if (hashed(c))
		hash_remove(t, c);
	if (!c->closed && !c->sk)
		t->n_unbound--;
	list_remove(c->closed ? &t->closed : &t->open, c);
	index_remove(t, c);
	len_unlink(t, c);
	free_runs(t, c, 0, c->n_events);
	t->held -= sizeof(*c) + c->cap_events * sizeof(*c->events);
	events_put(t, c); /* free_runs freed its keepalive runs */
	if (t->n_spare >= SPARE_CONNS) {
		conn_free(c);
		return;
	}
	c->next = t->spare;
	t->spare = c;
	t->n_spare++;
}

static struct conn *conn_new(struct conn_table *t, uint64_t sk, uint64_t birth,
			     const struct tl_endpoints *ep, uint64_t ts)
{
	struct conn *c;

	if (t->open.n >= t->opts.max_open && t->open.head) {
		conn_drop(t, t->open.head);
		t->evicted++;
	}
	if (t->spare) {
		c = t->spare;
		t->spare = c->next;
		t->n_spare--;
		zero_small(c, sizeof(*c));
	} else {
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
	}
	t->held += sizeof(*c);
	c->id = t->next_id++;
	c->sk = sk;
	c->birth_ns = birth;
	c->ep = *ep;
	c->first_ts = c->last_ts = ts;
	list_push(&t->open, c);
	index_insert(t, c);
	if (sk) {
		hash_insert(t, c);
	} else {
		if (!t->n_unbound && t->unbound_lports_dirty) {
			memset(t->unbound_lports, 0, sizeof(t->unbound_lports));
			t->unbound_lports_dirty = false;
		}
		t->n_unbound++;
		unbound_port(t, ep->lport);
	}
	return c;
}

static bool same_tuple(const struct tl_endpoints *a, const struct tl_endpoints *b)
{
	return a->family == b->family && a->lport == b->lport && a->rport == b->rport &&
	       !memcmp(a->laddr, b->laddr, 16) && !memcmp(a->raddr, b->raddr, 16);
}

/* A connection known by its 4-tuple only (found at start, or seen through a
 * request/timewait socket), newest first. */
static struct conn *find_by_tuple(const struct conn_table *t, const struct tl_endpoints *ep,
				  bool unbound_only)
{
	struct conn *best = NULL;

	if (unbound_only &&
	    (!t->n_unbound || !(t->unbound_lports[ep->lport >> 6] & (1ULL << (ep->lport & 63)))))
		return NULL;
	for (struct conn *c = t->tbuckets[ports_bucket(t, ep->lport, ep->rport)]; c; c = c->tnext)
		if (same_tuple(&c->ep, ep) && (!unbound_only || (!c->sk && !c->closed)))
			best = newer(best, c);
	return best;
}

#define SPARE_EVENTS_CAP 16 /* a story's first array (conn_store) */

/* c's array of events given up: one of the first size kept for the next */
static void events_put(struct conn_table *t, struct conn *c)
{
	if (c->events && c->cap_events == SPARE_EVENTS_CAP &&
	    t->n_spare_events < sizeof(t->spare_events) / sizeof(t->spare_events[0]))
		t->spare_events[t->n_spare_events++] = c->events;
	else
		free(c->events);
	c->events = NULL;
}

/* Resize c's event array to cap entries (cap >= n_events), keeping the
 * table's byte count. */
static bool events_resize(struct conn_table *t, struct conn *c, size_t cap)
{
	struct tl_event *n;

	if (cap == c->cap_events)
		return true;
	if (!cap) {
		events_put(t, c);
		n = NULL;
	} else if (!c->events && cap == SPARE_EVENTS_CAP && t->n_spare_events) {
		n = t->spare_events[--t->n_spare_events];
	} else {
		n = realloc(c->events, cap * sizeof(*n));
		if (!n)
			return false;
	}
	t->held = t->held - c->cap_events * sizeof(*n) + cap * sizeof(*n);
	c->events = n;
	c->cap_events = cap;
	return true;
}

/* --- keepalive runs ---------------------------------------------------------------------- */

/* An idle connection with keepalive on is an exchange every TCP_KEEPINTVL
 * for as long as it lives: at the prober its probe, the kernel's drop of
 * the peer's ACK... as reported (an out-of-window segment), the ACK; at the
 * probed end the probe and its drop. Held, each would be two or three
 * events of ~176 B. Exchanges alike but for their times (and a probe's n,
 * an ACK's RTT) are folded into one slot: 40 B each, expanded back
 * (conn_view) exactly as they came. */
#define KA_PARTS 3 /* events in an exchange, at most */

struct ka_exch {
	uint64_t ts[KA_PARTS];
	uint64_t rtt_ns; /* the ACK's */
	uint32_t n;	 /* the probe's */
};

struct tl_ka_run {
	struct tl_event t[KA_PARTS]; /* the first exchange, a probe first */
	uint32_t k;		     /* events in each exchange */
	uint32_t n, cap;
	struct ka_exch x[];
};

#define KA_RUN_FIRST 8
#define KA_RUN_MAX   1024 /* exchanges per slot; then a new run starts */

static size_t run_bytes(const struct tl_ka_run *r)
{
	return sizeof(*r) + r->cap * sizeof(r->x[0]);
}

static uint64_t run_events(const struct tl_ka_run *r)
{
	return (uint64_t)r->n * r->k;
}

/* the same but for the times, a probe's n and an ACK's RTT */
static bool ka_like(const struct tl_event *a, const struct tl_event *b)
{
	if (a->kind != b->kind || a->conn != b->conn || a->pid != b->pid ||
	    a->ep.family != b->ep.family || a->ep.lport != b->ep.lport ||
	    a->ep.rport != b->ep.rport || memcmp(a->ep.laddr, b->ep.laddr, 16) ||
	    memcmp(a->ep.raddr, b->ep.raddr, 16) || memcmp(a->comm, b->comm, TT_COMM_LEN))
		return false;
	switch (a->kind) {
	case TL_KA_PROBE:
		return a->ka_probe.dir == b->ka_probe.dir;
	case TL_KA_ACK:
		return a->ka_ack.dir == b->ka_ack.dir && a->ka_ack.inferred == b->ka_ack.inferred;
	case TL_DROP:
		return !a->drop.listener && !b->drop.listener && a->drop.dir == b->drop.dir &&
		       a->drop.flags == b->drop.flags && a->drop.reason == b->drop.reason &&
		       a->drop.bytes == b->drop.bytes;
	default:
		return false;
	}
}

/* seq[0..m) then ev are an exchange like tmpl[0..m] */
static bool ka_exchange_like(const struct tl_event *tmpl, const struct tl_event *seq, size_t m,
			     const struct tl_event *ev)
{
	if (tmpl[0].kind != TL_KA_PROBE)
		return false;
	for (size_t i = 0; i < m; i++)
		if (!ka_like(&tmpl[i], &seq[i]))
			return false;
	return ka_like(&tmpl[m], ev);
}

static struct ka_exch ka_exch_of(const struct tl_event *seq, size_t m, const struct tl_event *ev)
{
	struct ka_exch x = { { 0 }, 0, 0 };

	for (size_t i = 0; i <= m; i++) {
		const struct tl_event *e = i < m ? &seq[i] : ev;

		x.ts[i] = e->ts_ns;
		if (e->kind == TL_KA_PROBE)
			x.n = e->ka_probe.n;
		else if (e->kind == TL_KA_ACK)
			x.rtt_ns = e->ka_ack.rtt_ns;
	}
	return x;
}

static void free_runs(struct conn_table *t, struct conn *c, size_t from, size_t to)
{
	for (size_t i = from; i < to && c->ka_runs; i++) {
		if (c->events[i].kind != TL_KA_RUN)
			continue;
		t->held -= run_bytes(c->events[i].ka_run.run);
		free(c->events[i].ka_run.run);
		c->events[i].ka_run.run = NULL;
		c->ka_runs--;
	}
}

/*
 * Cut the middle of c's story: the first quarter (the handshake, how it
 * began) and the last quarter (what it came to) stay, one TL_TRUNCATED
 * marker stands for everything between (an earlier cut's marker is where
 * this one starts, so a story has one), and the array shrinks so the
 * memory goes back. false when the
 * story is too short to cut.
 */
static bool cut_middle(struct conn_table *t, struct conn *c)
{
	size_t n = c->n_events, head = n / 4, tail = n / 4, end = n - tail, cap;
	struct tl_event mark;
	uint64_t count = 0;

	if (n < CUT_MIN_EVENTS)
		return false;
	/* a story keeps one marker: a cut after an earlier one starts at it */
	for (size_t i = 0; i < head; i++)
		if (c->events[i].kind == TL_TRUNCATED) {
			head = i;
			break;
		}
	mark = c->events[head]; /* its connection fields and time */
	mark.kind = TL_TRUNCATED;
	memset((char *)&mark + offsetof(struct tl_event, truncated), 0,
	       sizeof(mark) - offsetof(struct tl_event, truncated));
	for (size_t i = head; i < end; i++) {
		if (c->events[i].kind == TL_TRUNCATED) {
			count += c->events[i].truncated.count; /* cut before */
		} else if (c->events[i].kind == TL_KA_RUN) {
			uint64_t k = run_events(c->events[i].ka_run.run);

			count += k;
			c->events_dropped += k;
			t->not_kept += k;
			free_runs(t, c, i, i + 1);
		} else {
			count++;
			c->events_dropped++;
			t->not_kept++;
		}
	}
	mark.truncated.count = count;
	c->events[head] = mark;
	memmove(&c->events[head + 1], &c->events[end], tail * sizeof(*c->events));
	c->n_events = head + 1 + tail;
	len_update(t, c);
	cap = c->n_events + c->n_events / 2;
	if (cap < 16)
		cap = 16;
	if (cap < c->cap_events)
		events_resize(t, c, cap);
	return true;
}

/* the connection with the most events kept, open or closed (among those
 * long enough to cut): the first to have reached that length */
static struct conn *longest_story(struct conn_table *t)
{
	while (t->longest >= CUT_MIN_EVENTS) {
		t->victim_steps++;
		if (t->by_len[t->longest].head)
			return t->by_len[t->longest].head;
		t->longest--;
	}
	return NULL;
}

/* consecutive data records of one direction are one run, as the ladder
 * folds them when it draws (the kernel side splits runs every second) */
static bool fold_into_last(struct conn *c, const struct tl_event *ev)
{
	struct tl_event *last;

	if (ev->kind != TL_DATA || !c->n_events)
		return false;
	last = &c->events[c->n_events - 1];
	if (last->kind != TL_DATA || last->data.dir != ev->data.dir)
		return false;
	last->data.bytes += ev->data.bytes;
	last->data.segs += ev->data.segs;
	return true;
}

/* room for bytes more within the budget, the longest stories (c among
 * them) losing their middle first; false if there is none */
static bool budget_room(struct conn_table *t, size_t bytes)
{
	while (t->opts.max_memory && t->held + bytes > t->opts.max_memory) {
		struct conn *victim = longest_story(t);

		if (!victim || !cut_middle(t, victim))
			return false;
	}
	return true;
}

/* one more exchange in run r, which is in one of c's last KA_PARTS slots */
static bool run_add(struct conn_table *t, struct conn *c, struct tl_ka_run *r,
		    const struct ka_exch *x)
{
	if (r->n == r->cap) {
		uint32_t cap = r->cap * 2;
		size_t grow = (size_t)(cap - r->cap) * sizeof(r->x[0]);
		struct tl_ka_run *n;

		/* a cut of c keeps its last quarter: r stays, maybe moved */
		if (cap > KA_RUN_MAX || !budget_room(t, grow))
			return false;
		n = realloc(r, sizeof(*r) + cap * sizeof(r->x[0]));
		if (!n)
			return false;
		for (size_t i = c->n_events >= KA_PARTS ? c->n_events - KA_PARTS : 0;
		     i < c->n_events; i++)
			if (c->events[i].kind == TL_KA_RUN && c->events[i].ka_run.run == r)
				c->events[i].ka_run.run = n;
		t->held += grow;
		r = n;
		r->cap = cap;
	}
	r->x[r->n++] = *x;
	return true;
}

/* slots [at, n_events) and ev are two exchanges of k events alike: one run
 * slot now */
static bool run_start(struct conn_table *t, struct conn *c, size_t at, uint32_t k,
		      const struct tl_event *ev)
{
	size_t bytes = sizeof(struct tl_ka_run) + KA_RUN_FIRST * sizeof(struct ka_exch);
	struct tl_event *first = &c->events[at], slot;
	struct tl_ka_run *r;

	if (t->opts.max_memory && t->held + bytes > t->opts.max_memory)
		return false; /* stored as they are: the budget's loop makes room */
	r = calloc(1, bytes);
	if (!r)
		return false;
	memcpy(r->t, first, k * sizeof(*first));
	r->k = k;
	r->cap = KA_RUN_FIRST;
	r->x[0] = ka_exch_of(first, k - 1, &first[k - 1]);
	r->x[1] = ka_exch_of(first + k, k - 1, ev);
	r->n = 2;
	t->held += bytes;
	slot = first[0];
	slot.kind = TL_KA_RUN;
	memset((char *)&slot + offsetof(struct tl_event, ka_run), 0,
	       sizeof(slot) - offsetof(struct tl_event, ka_run));
	slot.ka_run.run = r;
	c->events[at] = slot;
	c->n_events = at + 1;
	c->ka_runs++;
	len_update(t, c);
	return true;
}

/* ev ends an exchange that continues a run, or that with the one before it
 * starts one */
static bool fold_keepalive(struct conn_table *t, struct conn *c, const struct tl_event *ev)
{
	size_t n = c->n_events;
	struct tl_event *e = c->events;

	if (ev->kind != TL_KA_PROBE && ev->kind != TL_KA_ACK && ev->kind != TL_DROP)
		return false;
	for (uint32_t k = 1; k <= KA_PARTS; k++) {
		struct tl_ka_run *r;
		struct ka_exch x;

		if (n < k || e[n - k].kind != TL_KA_RUN)
			continue;
		r = e[n - k].ka_run.run;
		if (r->k != k || !ka_exchange_like(r->t, &e[n - k + 1], k - 1, ev))
			continue;
		x = ka_exch_of(&e[n - k + 1], k - 1, ev);
		if (!run_add(t, c, r, &x))
			return false;
		c->n_events -= k - 1; /* they are in the run now */
		len_update(t, c);
		return true;
	}
	for (uint32_t k = 1; k <= KA_PARTS; k++)
		if (n >= 2 * k - 1 &&
		    ka_exchange_like(&e[n - 2 * k + 1], &e[n - k + 1], k - 1, ev) &&
		    ka_exchange_like(&e[n - 2 * k + 1], &e[n - 2 * k + 1], k - 1, &e[n - k]))
			return run_start(t, c, n - 2 * k + 1, k, ev);
	return false;
}

const struct conn *conn_view(const struct conn *c, struct conn *tmp)
{
	size_t total = 0, k = 0;
	struct tl_event *ev;

	if (!c || !c->ka_runs)
		return c;
	for (size_t i = 0; i < c->n_events; i++)
		total += c->events[i].kind == TL_KA_RUN ? run_events(c->events[i].ka_run.run) : 1;
	ev = malloc(total * sizeof(*ev));
	if (!ev)
		return NULL;
	for (size_t i = 0; i < c->n_events; i++) {
		const struct tl_ka_run *r;

		if (c->events[i].kind != TL_KA_RUN) {
			ev[k++] = c->events[i];
			continue;
		}
		r = c->events[i].ka_run.run;
		for (uint32_t j = 0; j < r->n; j++) {
			for (uint32_t p = 0; p < r->k; p++, k++) {
				ev[k] = r->t[p];
				ev[k].ts_ns = r->x[j].ts[p];
				if (ev[k].kind == TL_KA_PROBE)
					ev[k].ka_probe.n = r->x[j].n;
				else if (ev[k].kind == TL_KA_ACK)
					ev[k].ka_ack.rtt_ns = r->x[j].rtt_ns;
			}
		}
	}
	*tmp = *c;
	tmp->events = ev;
	tmp->n_events = tmp->cap_events = total;
	tmp->ka_runs = 0;
	return tmp;
}

void conn_view_done(const struct conn *view, const struct conn *c)
{
	if (view && view != c)
		free(view->events);
}

static void conn_store(struct conn_table *t, struct conn *c, const struct tl_event *ev)
{
	if (!t->opts.max_events_per_conn || c->released)
		return;
	if (fold_into_last(c, ev) || fold_keepalive(t, c, ev))
		return;
	/* the per-connection limit: this story loses its middle */
	if (c->n_events >= t->opts.max_events_per_conn && !cut_middle(t, c)) {
		c->events_dropped++;
		t->not_kept++;
		return;
	}
	if (c->n_events == c->cap_events) {
		size_t cap = c->cap_events ? c->cap_events * 2 : 16;

		if (cap > t->opts.max_events_per_conn)
			cap = t->opts.max_events_per_conn;
		/* the budget: the longest stories lose their middle first */
		while (t->opts.max_memory &&
		       t->held + (cap - c->cap_events) * sizeof(*c->events) > t->opts.max_memory) {
			struct conn *victim = longest_story(t);

			if (!victim || !cut_middle(t, victim))
				break;
			if (c->n_events < c->cap_events)
				break; /* c itself was cut: room now */
		}
		if (c->n_events == c->cap_events &&
		    (cap <= c->cap_events ||
		     (t->opts.max_memory &&
		      t->held + (cap - c->cap_events) * sizeof(*c->events) > t->opts.max_memory) ||
		     !events_resize(t, c, cap))) {
			c->events_dropped++;
			t->not_kept++;
			return;
		}
	}
	c->events[c->n_events++] = *ev;
	/* a story shorter than CUT_MIN_EVENTS, not indexed by length yet:
	 * nothing for len_update to do */
	if (c->n_len || c->n_events >= CUT_MIN_EVENTS)
		len_update(t, c);
}

/*
 * The facts renderers read from struct conn besides its events (state,
 * totals, when it was last heard of), kept from each event alone: the same
 * for a kernel record and for the JSON line it became, read back (replay).
 */
static void conn_account(struct conn *c, const struct tl_event *ev)
{
	if (ev->ts_ns > c->last_ts)
		c->last_ts = ev->ts_ns;
	switch (ev->kind) {
	case TL_STATE:
		c->state = ev->state.new_state;
		if (ev->state.new_state == TT_TCP_SYN_SENT)
			c->role = CONN_ROLE_CLIENT;
		else if (ev->state.new_state == TT_TCP_LISTEN)
			c->role = CONN_ROLE_LISTENER;
		else if (!c->role && (ev->state.new_state == TT_TCP_SYN_RECV ||
				      ev->state.old_state == TT_TCP_SYN_RECV))
			c->role = CONN_ROLE_SERVER;
		break;
	case TL_DATA:
		if (ev->data.dir == TT_DIR_IN)
			c->bytes_in += ev->data.bytes;
		else
			c->bytes_out += ev->data.bytes;
		break;
	case TL_RETRANSMIT:
		if (!ev->retrans.err)
			c->retransmits++;
		c->seen |= CONN_SAW_RETRANSMIT;
		break;
	case TL_KA_PROBE:
		c->keepalives++;
		break;
	case TL_RST:
		c->rst_seen = true;
		c->seen |= CONN_SAW_RST;
		break;
	case TL_ERROR:
		c->seen |= CONN_SAW_ERROR;
		break;
	case TL_CLOSE:
		c->cause = ev->close.cause;
		c->cause_known = true;
		break;
	case TL_TRUNCATED: /* read back from a recording of a held story */
		c->events_dropped += ev->truncated.count;
		break;
	case TL_DROP:
		c->drops++;
		break;
	case TL_WINDOW: {
		int d = ev->window.dir == TT_DIR_OUT;

		if (!ev->window.open) {
			if (c->zw_since[d])
				break; /* zero already */
			c->window_stalls++;
			c->seen |= CONN_SAW_WINDOW;
			if (!c->stall_since)
				c->stall_since = ev->ts_ns ? ev->ts_ns : 1;
			c->zw_since[d] = ev->ts_ns ? ev->ts_ns : 1;
		} else {
			c->zw_probes += ev->window.probes;
			c->zw_since[d] = 0;
			if (!c->zw_since[!d] && c->stall_since) {
				if (ev->ts_ns > c->stall_since)
					c->stalled_ns += ev->ts_ns - c->stall_since;
				c->stall_since = 0;
			}
		}
		break;
	}
	case TL_EXISTING:
		c->existing = true;
		c->state = ev->existing.state;
		if (ev->existing.state == TT_TCP_LISTEN)
			c->role = CONN_ROLE_LISTENER;
		break;
	default:
		break;
	}
}

/* to the connection's facts and events, then to the sink */
static void record(struct conn_table *t, struct conn *c, const struct tl_event *ev)
{
	if (c) {
		conn_account(c, ev);
		/* asked here: conn_store's frame cost more than its own test
		 * when nothing is held (--metrics -q: every event) */
		if (t->opts.max_events_per_conn && !c->released)
			conn_store(t, c, ev);
	}
	if (t->opts.sink)
		t->opts.sink(ev, c, t->opts.sink_ctx);
}

static void held_before(struct conn_table *t, struct conn *c, uint64_t ts);

static void emit(struct conn_table *t, struct conn *c, struct tl_event *ev)
{
	if (t->n_held && c && ev->kind != TL_DROP)
		held_before(t, c, ev->ts_ns);
	if (c) {
		ev->conn = c->id;
		ev->ep = c->ep;
		ev->pid = c->pid;
		memcpy(ev->comm, c->comm, sizeof(ev->comm));
	}
	record(t, c, ev);
}

/* What dropping c will read, asked of memory ahead: its own lines (it
 * closed max_closed connections ago: cold) ... */
static void prefetch_conn(const struct conn *c)
{
	for (size_t off = 0; off < sizeof(*c); off += 64)
		__builtin_prefetch((const char *)c + off, 1);
}

/* ... and, once those are in, the chain heads it is unlinked from */
static void prefetch_links(const struct conn_table *t, const struct conn *c)
{
	if (hashed(c))
		__builtin_prefetch(&t->buckets[bucket_of(t, c->sk)], 1);
	__builtin_prefetch(&t->tbuckets[c->tbucket], 1);
	__builtin_prefetch(&t->ibuckets[id_bucket(t, c->id)], 1);
}

static void trim_closed(struct conn_table *t)
{
	if (t->closed.n <= t->opts.max_closed)
		return; /* nothing dropped: what the next drop reads was asked for */
	while (t->closed.n > t->opts.max_closed && t->closed.head)
		conn_drop(t, t->closed.head);
	/* Every close drops the oldest closed connection, a walk into memory
	 * nothing has touched since: the next victim's lines were asked for
	 * at the previous close, its chain heads now, the one after it's
	 * lines now. Dropping was a stall on each (a tenth of the live
	 * tracer's CPU under churn in perf). */
	if (t->closed.n >= t->opts.max_closed && t->closed.head) {
		prefetch_links(t, t->closed.head);
		if (t->closed.head->next)
			prefetch_conn(t->closed.head->next);
	}
}

/* from the open list to the closed one, then `done` (if set) */
static void conn_to_closed(struct conn_table *t, struct conn *c,
			   void (*done)(const struct conn *, void *))
{
	if (!c->sk)
		t->n_unbound--;
	list_remove(&t->open, c);
	c->closed = true;
	c->close_seq = ++t->close_seq;
	list_push(&t->closed, c);
	if (done)
		done(c, t->opts.on_close_ctx);
}

/* after its close event: to the closed list, and the diagram's turn */
static void conn_mark_closed(struct conn_table *t, struct conn *c)
{
	conn_to_closed(t, c, t->opts.on_close);
}

/* A reset sent with no socket behind it (a refused SYN, a segment for a gone
 * connection): nothing follows, it is not open. No close event, no diagram
 * of its own (the client's draws it). */
static void conn_end_stateless(struct conn_table *t, struct conn *c)
{
	conn_to_closed(t, c, t->opts.on_stateless);
}

static void conn_close(struct conn_table *t, struct conn *c, uint64_t ts)
{
	struct tl_event ev;

	if (c->closed)
		return;
	zero_small(&ev, sizeof(ev));
	ev.kind = TL_CLOSE;
	ev.ts_ns = ts;
	ev.close.cause = cause_decide(&c->facts, &ev.close.signal, &ev.close.exit_code);
	ev.close.by = c->facts.closer;
	ev.close.duration_ns = ts > c->first_ts ? ts - c->first_ts : 0;
	ev.close.bytes_in = c->bytes_in;
	ev.close.bytes_out = c->bytes_out;
	ev.close.retransmits = c->retransmits;
	ev.close.keepalives = c->keepalives;
	ev.close.drops = c->drops;
	if (c->window_stalls) {
		/* a stall still on at close lasted until then */
		uint64_t ns = c->stalled_ns +
			      (c->stall_since && ts > c->stall_since ? ts - c->stall_since : 0);

		ns = (ns + 999999) / 1000000;
		ev.close.stalled_ms = ns ? (ns < UINT32_MAX ? (uint32_t)ns : UINT32_MAX) : 1;
	}
	ev.close.srtt_us = ev.close.min_rtt_us = TT_RTT_NONE;
	if (c->rtt_when == TT_RTT_CLOSE) {
		ev.close.srtt_us = c->rtt_srtt_us;
		ev.close.min_rtt_us = c->rtt_min_us;
	}
	emit(t, c, &ev);
	conn_mark_closed(t, c);
}

static void conn_destroyed(struct conn_table *t, struct conn *c, uint64_t ts)
{
	if (!c->closed)
		conn_close(t, c, ts);
	if (hashed(c))
		hash_remove(t, c);
	c->destroyed = true;
}

static void raw_endpoints(const struct tt_event *raw, struct tl_endpoints *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = raw->family;
	memcpy(ep->laddr, raw->saddr, 16);
	memcpy(ep->raddr, raw->daddr, 16);
	ep->lport = raw->lport;
	ep->rport = raw->rport;
}

static void task_from(struct tl_task *task, const struct tt_event *raw)
{
	memset(task, 0, sizeof(*task));
	if (!raw->actor_pid)
		return;
	task->pid = raw->actor_pid;
	memcpy(task->comm, raw->actor_comm, TT_COMM_LEN);
	task->comm[TT_COMM_LEN - 1] = '\0';
	task->exiting = raw->actor_flags & TT_ACTOR_EXITING;
	task->exit_code = raw->exit_code;
}

static struct conn *conn_for_raw(struct conn_table *t, const struct tt_event *raw,
				 const struct tl_endpoints *ep)
{
	struct conn *c;

	if (!raw->birth_ns || !raw->sk) {
		/* a request, timewait or absent socket: the 4-tuple is all we have
		 * (a record naming no socket address is one of those, whatever its
		 * birth says: address 0 must never enter the hash, whose entries
		 * are only removed for sockets with an address) */
		c = find_by_tuple(t, ep, false);
		return c ? c : conn_new(t, 0, 0, ep, raw->ts_ns);
	}
	c = hash_find(t, raw->sk);
	if (c && c->birth_ns == raw->birth_ns)
		return c;
	if (c) {
		/* the address now holds a new socket: the old one's end was not seen */
		conn_destroyed(t, c, c->last_ts);
	}
	c = find_by_tuple(t, ep, true);
	if (c) {
		c->sk = raw->sk;
		c->birth_ns = raw->birth_ns;
		t->n_unbound--;
		hash_insert(t, c);
		return c;
	}
	return conn_new(t, raw->sk, raw->birth_ns, ep, raw->ts_ns);
}

/* --- dropped segments ------------------------------------------------------------------- */

/* The end whose local side is (la, lp) and remote side (ra, rp), a
 * dual-stack socket's IPv4-mapped addresses being the IPv4 ones. */
static bool end_is(const struct conn *c, uint8_t family, const uint8_t *la, uint16_t lp,
		   const uint8_t *ra, uint16_t rp)
{
	return c->ep.lport == lp && c->ep.rport == rp &&
	       same_addr(c->ep.family, c->ep.laddr, family, la) &&
	       same_addr(c->ep.family, c->ep.raddr, family, ra);
}

/* The open end whose local side is (la, lp) and remote side (ra, rp). */
static struct conn *find_open_end(const struct conn_table *t, uint8_t family, const uint8_t *la,
				  uint16_t lp, const uint8_t *ra, uint16_t rp)
{
	struct conn *best = NULL;

	for (struct conn *c = t->tbuckets[ports_bucket(t, lp, rp)]; c; c = c->tnext)
		if (!c->closed && end_is(c, family, la, lp, ra, rp))
			best = newer(best, c);
	return best;
}

static bool addr_any(const uint8_t *a)
{
	static const uint8_t zero[16];

	return !memcmp(a, zero, 16);
}

/* The open listener on (addr, port): bound to that address or to any (an
 * IPv6 listener on [::] takes IPv4 too unless IPV6_V6ONLY, which is not
 * known here). */
static struct conn *find_listener(const struct conn_table *t, uint8_t family, const uint8_t *addr,
				  uint16_t port)
{
	struct conn *best = NULL;

	/* a listener's remote port is 0 */
	for (struct conn *c = t->tbuckets[ports_bucket(t, port, 0)]; c; c = c->tnext)
		if (!c->closed && c->state == TT_TCP_LISTEN && c->ep.lport == port &&
		    (c->ep.family == family || (c->ep.family == 6 && family == 4)) &&
		    (addr_any(c->ep.laddr) || same_addr(c->ep.family, c->ep.laddr, family, addr)))
			best = newer(best, c);
	return best;
}

static void drop_emit(struct conn_table *t, struct conn *c, const struct tt_drop *raw, uint8_t dir,
		      bool listener)
{
	struct tl_event ev = { .kind = TL_DROP, .ts_ns = raw->ts_ns };

	ev.drop.dir = dir;
	ev.drop.flags = raw->flags;
	ev.drop.reason = raw->reason;
	ev.drop.bytes = raw->bytes;
	ev.drop.listener = listener;
	if (listener) {
		memcpy(ev.drop.peer_addr, raw->saddr, 16);
		ev.drop.peer_port = raw->sport;
	}
	emit(t, c, &ev);
}

/* Match what is still wanted of a drop; returns what is still wanted after. */
static void drop_match(struct conn_table *t, const struct tt_drop *raw, bool *want_out,
		       bool *want_in)
{
	struct conn *c;

	if (*want_out) {
		/* the sender's end: local side is the segment's source */
		c = find_open_end(t, raw->family, raw->saddr, raw->sport, raw->daddr, raw->dport);
		if (c && c->first_ts <= raw->ts_ns) {
			drop_emit(t, c, raw, TT_DIR_OUT, false);
			*want_out = false;
		}
	}
	if (*want_in) {
		c = find_open_end(t, raw->family, raw->daddr, raw->dport, raw->saddr, raw->sport);
		if (c && c->first_ts <= raw->ts_ns) {
			drop_emit(t, c, raw, TT_DIR_IN, false);
			*want_in = false;
		}
	}
}

static void pending_expire(struct conn_table *t, uint64_t now)
{
	size_t j = 0;

	for (size_t i = 0; i < t->n_pending; i++) {
		struct pending_drop *p = &t->pending[i];

		if ((p->want_out || p->want_in) && p->d.ts_ns + PENDING_DROP_NS > now)
			t->pending[j++] = *p;
	}
	t->n_pending = j;
}

/* c's 4-tuple is known now: the drops that were waiting for it. */
static void pending_drops_for(struct conn_table *t, struct conn *c)
{
	c->drops_checked = true;
	for (size_t i = 0; i < t->n_pending; i++) {
		struct pending_drop *p = &t->pending[i];
		const struct tt_drop *d = &p->d;

		if (d->ts_ns < c->first_ts)
			continue;
		if (p->want_out && end_is(c, d->family, d->saddr, d->sport, d->daddr, d->dport)) {
			drop_emit(t, c, d, TT_DIR_OUT, false);
			p->want_out = false;
		}
		if (p->want_in && end_is(c, d->family, d->daddr, d->dport, d->saddr, d->sport)) {
			drop_emit(t, c, d, TT_DIR_IN, false);
			p->want_in = false;
		}
	}
	pending_expire(t, c->last_ts);
}

/* The kernel freed the segment through a discard path without a reason of
 * its own: NOT_SPECIFIED, or (none_too) no reason at all (before 5.17). */
static bool reason_not_specified(const struct tt_drop *raw, bool none_too)
{
	const char *name;

	if (raw->reason == TT_DROP_REASON_NONE)
		return none_too;
	name = drop_reason_name(raw->reason);
	return name && !strcmp(name, "NOT_SPECIFIED");
}

/*
 * Not a drop: since 5.17 tcp_rcv_state_process frees a segment it is done
 * with in the closing states through its discard path, kfree_skb with
 * NOT_SPECIFIED (tcp_drop_reason), although nothing was lost: a bare ACK that
 * has been processed (the half-close demo's ACK of the server's data in
 * CLOSE_WAIT). A bare ACK with that reason into a local end in such a state.
 */
static bool processed_ack_candidate(const struct tt_drop *raw)
{
	return reason_not_specified(raw, false) && !raw->bytes && !(raw->flags & 0x07) &&
	       (raw->flags & 0x10);
}

static bool processed_ack_into(const struct conn *c)
{
	return c && (c->state == TT_TCP_CLOSE_WAIT || c->state == TT_TCP_LAST_ACK ||
		     c->state == TT_TCP_FIN_WAIT1 || c->state == TT_TCP_FIN_WAIT2 ||
		     c->state == TT_TCP_CLOSING);
}

static bool processed_ack(const struct conn_table *t, const struct tt_drop *raw)
{
	return processed_ack_candidate(raw) &&
	       processed_ack_into(find_open_end(t, raw->family, raw->daddr, raw->dport, raw->saddr,
						raw->sport));
}

/* How long Linux keeps a timewait socket (TCP_TIMEWAIT_LEN). */
#define TIMEWAIT_NS (60ull * 1000000000ull)

/*
 * Not a drop either: a segment to an end that lives on as a timewait socket
 * is handled by it (tcp_timewait_state_process: answered with an ACK, like a
 * keepalive probe from a peer left in CLOSE_WAIT, or taken as the FIN the
 * socket waited for) and then freed through tcp_v4_rcv's discard path,
 * kfree_skb with NOT_SPECIFIED (no reason at all before 5.17), although
 * nothing was lost. A segment with that reason into a local end that closed
 * into TIME_WAIT (time_wait: true) less than TCP_TIMEWAIT_LEN before. A SYN
 * may open a new connection there and is left to the matching below; a
 * drop with a reason of its own (netfilter, ...) stays a drop, except before
 * 5.17, where no drop has one.
 */
static bool timewait_handled(const struct conn_table *t, const struct tt_drop *raw)
{
	if (!reason_not_specified(raw, true) || (raw->flags & 0x02))
		return false;
	for (struct conn *c = t->tbuckets[ports_bucket(t, raw->dport, raw->sport)]; c; c = c->tnext)
		if (c->closed && c->timewait_ts && c->timewait_ts <= raw->ts_ns &&
		    raw->ts_ns - c->timewait_ts < TIMEWAIT_NS &&
		    end_is(c, raw->family, raw->daddr, raw->dport, raw->saddr, raw->sport))
			return true;
	return false;
}

/* A drop judged: matched to its ends, a listener, or left pending for an
 * end whose 4-tuple is not known yet. */
static void drop_place(struct conn_table *t, const struct tt_drop *raw, bool want_out, bool want_in)
{
	struct conn *l;

	drop_match(t, raw, &want_out, &want_in);
	if (want_in) {
		/* for a connection its listener has not handed over yet */
		l = find_listener(t, raw->family, raw->daddr, raw->dport);
		if (l) {
			drop_emit(t, l, raw, TT_DIR_IN, true);
			want_in = false;
		}
	}
	if (!want_out && !want_in)
		return;
	/* one end (or both) may be a socket whose 4-tuple is not known yet */
	if (t->n_pending)
		pending_expire(t, raw->ts_ns);
	if (t->n_pending == PENDING_DROPS) {
		memmove(t->pending, t->pending + 1, (PENDING_DROPS - 1) * sizeof(t->pending[0]));
		t->n_pending--;
	}
	t->pending[t->n_pending].d = *raw;
	t->pending[t->n_pending].want_out = want_out;
	t->pending[t->n_pending].want_in = want_in;
	t->n_pending++;
}

static size_t held_bucket(uint16_t lport, uint16_t rport)
{
	return ports_hash(lport, rport) & (HELD_BUCKETS - 1);
}

/* Holds a drop that may be a processed ACK; false: it cannot be held (no memory). */
static bool held_add(struct conn_table *t, const struct tt_drop *raw, bool want_out)
{
	struct held_drop *h;
	size_t b = held_bucket(raw->dport, raw->sport);

	if (!t->hbuckets && !(t->hbuckets = calloc(HELD_BUCKETS, sizeof(*t->hbuckets))))
		return false;
	h = malloc(sizeof(*h));
	if (!h)
		return false;
	h->d = *raw;
	h->want_out = want_out;
	h->done = false;
	h->bnext = t->hbuckets[b];
	t->hbuckets[b] = h;
	h->fnext = NULL;
	if (t->htail)
		t->htail->fnext = h;
	else
		t->hhead = h;
	t->htail = h;
	t->n_held++;
	return true;
}

/* *pp's drop out of its chain, judged (the queue frees it) */
static void held_take(struct conn_table *t, struct held_drop **pp)
{
	struct held_drop *h = *pp;

	*pp = h->bnext;
	h->done = true;
	t->n_held--;
}

static void held_unlink(struct conn_table *t, struct held_drop *h)
{
	struct held_drop **pp = &t->hbuckets[held_bucket(h->d.dport, h->d.sport)];

	while (*pp != h)
		pp = &(*pp)->bnext;
	held_take(t, pp);
}

/*
 * c, an end a held drop may have come into, has an event at ts: the drops
 * into it before ts are judged first, with c's state as it was then (the
 * event is not counted yet), and placed before the event in its story.
 */
static void held_before(struct conn_table *t, struct conn *c, uint64_t ts)
{
	struct held_drop **pp;

	if (!c->ep.lport || !c->ep.rport)
		return;
	pp = &t->hbuckets[held_bucket(c->ep.lport, c->ep.rport)];
	while (*pp) {
		struct held_drop *h = *pp;
		const struct tt_drop *d = &h->d;

		if (d->ts_ns >= ts || d->ts_ns < c->first_ts ||
		    !end_is(c, d->family, d->daddr, d->dport, d->saddr, d->sport)) {
			pp = &h->bnext;
			continue;
		}
		held_take(t, pp);
		if (!processed_ack_into(c))
			drop_place(t, d, h->want_out, true);
	}
}

void conn_table_expire_held(struct conn_table *t, uint64_t now)
{
	while (t->hhead) {
		struct held_drop *h = t->hhead;

		if (!h->done) {
			if (now != UINT64_MAX && h->d.ts_ns + t->hold_ns > now)
				return;
			/* the end's story up to the drop has come by now: as it is */
			held_unlink(t, h);
			if (!processed_ack(t, &h->d))
				drop_place(t, &h->d, h->want_out, true);
		}
		t->hhead = h->fnext;
		if (!t->hhead)
			t->htail = NULL;
		free(h);
	}
}

void conn_table_set_hold_drops(struct conn_table *t, uint64_t ns)
{
	t->hold_ns = ns;
}

void conn_table_add_drop(struct conn_table *t, const struct tt_drop *raw)
{
	bool want_out = true, want_in = true;
	struct conn *owner = raw->sk ? hash_find(t, raw->sk) : NULL;

	/* still owned by its sender (netfilter output, a queue purged at a
	 * reset): it never left, the receiver has nothing to do with it */
	if (owner && owner->ep.lport == raw->sport &&
	    same_addr(owner->ep.family, owner->ep.laddr, raw->family, raw->saddr))
		want_in = false;

	if (timewait_handled(t, raw))
		return;
	/* A bare ACK into an end whose story the flight recorder has not
	 * sent yet (before 6.11 the kernel does not name the receiving
	 * socket, whose log would go first): held until that story reaches
	 * the drop's time, or until any log up to it must have come */
	if (t->hold_ns && want_in && processed_ack_candidate(raw)) {
		if (t->n_held)
			conn_table_expire_held(t, raw->ts_ns);
		if (held_add(t, raw, want_out))
			return;
	}
	if (processed_ack(t, raw))
		return;
	drop_place(t, raw, want_out, want_in);
}

static void rtt_set(struct conn_table *t, uint64_t sk, uint64_t birth_ns, uint8_t when,
		    uint32_t srtt_us, uint32_t min_rtt_us)
{
	struct conn *c = hash_find(t, sk);

	/* only for a socket life we know: the transition follows at once */
	if (!c || c->birth_ns != birth_ns || c->closed)
		return;
	c->rtt_when = when;
	c->rtt_srtt_us = srtt_us;
	c->rtt_min_us = min_rtt_us;
}

void conn_table_add_rtt(struct conn_table *t, const struct tt_rtt *raw)
{
	rtt_set(t, raw->sk, raw->birth_ns, raw->when, raw->srtt_us, raw->min_rtt_us);
}

/*
 * A state record may carry what came just before it (tt_event.state): a
 * transition the BPF side held back (connect()'s SYN_SENT, a child's
 * SYN_RECV), and the socket's RTT estimates. Unpacked here into what they
 * were as records of their own: the held transition first, as
 * flush_held_state sent it (connect() is its owner's doing), then the
 * estimates, then this transition.
 */
static void state_unpack(struct conn_table *t, const struct tt_event *raw)
{
	struct tt_event cur = *raw;

	memset(&cur.state, 0, sizeof(cur.state));
	if (raw->state.held_ts) {
		struct tt_event held = cur;

		held.ts_ns = raw->state.held_ts;
		held.old_state = raw->state.held_old;
		held.new_state = raw->state.held_new;
		held.sk_err = 0;
		held.timer_ctx = TT_TIMER_NONE;
		held.peer_fin = held.linger2_neg = 0;
		held.actor_flags = 0;
		held.exit_code = 0;
		held.actor_pid = 0;
		memset(held.actor_comm, 0, sizeof(held.actor_comm));
		if (held.new_state == TT_TCP_SYN_SENT) {
			held.actor_pid = raw->owner_pid;
			memcpy(held.actor_comm, raw->owner_comm, TT_COMM_LEN);
		}
		conn_table_add_raw(t, &held);
	}
	if (raw->state.rtt_when)
		rtt_set(t, raw->sk, raw->birth_ns, raw->state.rtt_when, raw->state.srtt_us,
			raw->state.min_rtt_us);
	conn_table_add_raw(t, &cur);
}

void conn_table_add_window(struct conn_table *t, const struct tt_window *raw)
{
	struct conn *c = hash_find(t, raw->sk);
	struct tl_event ev = { .kind = TL_WINDOW, .ts_ns = raw->ts_ns };
	int d = raw->dir == TT_DIR_OUT;

	if (!c || c->birth_ns != raw->birth_ns || c->closed)
		return;
	ev.window.dir = raw->dir;
	ev.window.open = raw->state == TT_WINDOW_OPEN;
	ev.window.inferred = raw->inferred;
	ev.window.queued = raw->queued;
	if (ev.window.open) {
		if (!c->zw_since[d])
			return; /* its zero was not seen (an open without a zero is no news) */
		ev.window.probes = raw->dir == TT_DIR_IN ? raw->probes : 0;
		ev.window.stalled_ns = raw->ts_ns > c->zw_since[d] ? raw->ts_ns - c->zw_since[d] :
								     0;
	} else if (c->zw_since[d]) {
		return;
	}
	emit(t, c, &ev);
}

void conn_table_add_data(struct conn_table *t, const struct tt_data *raw)
{
	struct conn *c = hash_find(t, raw->sk);
	struct tl_event ev = { .kind = TL_DATA, .ts_ns = raw->ts_ns };

	/* the BPF side sends one only after a full record of the same life,
	 * which made the connection; it is gone only if the table let it go */
	if (!c || c->birth_ns != raw->birth_ns) {
		t->not_kept++;
		return;
	}
	ev.data.dir = raw->dir;
	ev.data.bytes = raw->bytes;
	ev.data.segs = raw->segs;
	ev.data.inferred = raw->inferred != 0;
	/* what conn_table_add_raw does with a TT_EV_DATA record of a known
	 * connection */
	cause_facts_add(&c->facts, &ev, TT_TIMER_NONE);
	emit(t, c, &ev);
	if (t->n_pending && !c->drops_checked && !c->closed && c->ep.lport && c->ep.rport)
		pending_drops_for(t, c);
	trim_closed(t);
}

void conn_table_add_state(struct conn_table *t, const struct tt_state *raw)
{
	struct conn *c = hash_find(t, raw->sk);
	struct tt_event e;

	if (!c || c->birth_ns != raw->birth_ns) {
		t->not_kept++;
		return;
	}
	memset(&e, 0, sizeof(e));
	e.type = TT_EV_STATE;
	e.ts_ns = raw->ts_ns;
	e.sk = raw->sk;
	e.birth_ns = raw->birth_ns;
	e.family = c->ep.family;
	memcpy(e.saddr, c->ep.laddr, 16);
	memcpy(e.daddr, c->ep.raddr, 16);
	e.lport = c->ep.lport;
	e.rport = c->ep.rport;
	e.owner_pid = c->pid;
	memcpy(e.owner_comm, c->comm, TT_COMM_LEN);
	e.old_state = raw->old_state;
	e.new_state = raw->new_state;
	e.sk_err = raw->sk_err;
	e.timer_ctx = raw->timer_ctx;
	e.peer_fin = raw->peer_fin;
	e.linger2_neg = raw->linger2_neg;
	e.actor_pid = raw->actor_pid;
	e.actor_flags = raw->actor_flags;
	e.exit_code = raw->exit_code;
	memcpy(e.actor_comm, raw->actor_comm, TT_COMM_LEN);
	e.state.rtt_when = raw->state.rtt_when;
	e.state.srtt_us = raw->state.srtt_us;
	e.state.min_rtt_us = raw->state.min_rtt_us;
	conn_table_add_raw(t, &e);
}

void conn_table_add_log(struct conn_table *t, const struct tt_log *raw)
{
	uint32_t from = 0, end = raw->h.first_seq + raw->h.n;
	const struct conn *c;
	struct tt_event e;

	/* a new socket's connection goes into its ports chain: that bucket
	 * asked for first, so its wait overlaps the socket hash's */
	__builtin_prefetch(&t->tbuckets[ports_bucket(t, raw->h.lport, raw->h.rport)], 1);
	c = hash_find(t, raw->h.sk);

	if (raw->h.from_map) {
		/* a copy read from the map (the budget) may overtake the
		 * socket's earlier logs still in the ring: taken only if it
		 * follows what came (else its entries' high-water mark would
		 * make those look like copies: a 6.12 guest lost a server's
		 * data in so); the socket's own flush sends it through the ring
		 * in order */
		uint32_t next = c && c->birth_ns == raw->h.birth_ns ? c->log_next : 0;

		if ((int32_t)(raw->h.first_seq - next) > 0)
			return;
	}
	if (c && c->birth_ns == raw->h.birth_ns) {
		int32_t seen = (int32_t)(c->log_next - raw->h.first_seq);

		if (seen >= (int32_t)raw->h.n)
			return; /* a second copy */
		if (seen > 0)
			from = (uint32_t)seen;
	}
	/* the socket's identity written once, each entry over it; an RTT
	 * carried by a transition goes first, as state_unpack does it */
	for (uint32_t i = from; i < raw->h.n; i++) {
		if (i == from)
			decode_log_entry(raw, i, &e);
		else
			decode_log_entry_next(raw, i, &e);
		if (e.type == TT_EV_STATE && e.state.rtt_when) {
			rtt_set(t, e.sk, e.birth_ns, e.state.rtt_when, e.state.srtt_us,
				e.state.min_rtt_us);
			memset(&e.state, 0, sizeof(e.state));
		}
		conn_table_add_raw(t, &e);
	}
	/* the connection is made by the log's first entry (or was there) */
	struct conn *now = hash_find(t, raw->h.sk);

	if (now && now->birth_ns == raw->h.birth_ns)
		now->log_next = end;
}

void conn_table_add_raw(struct conn_table *t, const struct tt_event *raw)
{
	struct tl_endpoints ep;
	struct tl_event ev;
	struct conn *c;
	bool fin_in, fw2_orphan_close;

	if (raw->type == TT_EV_STATE && (raw->state.held_ts || raw->state.rtt_when)) {
		state_unpack(t, raw);
		return;
	}
	raw_endpoints(raw, &ep);
	c = conn_for_raw(t, raw, &ep);
	if (!c)
		return;
	/* the local port is 0 before connect() picks one and after close releases
	 * it; an accepted socket may first show its listener's tuple */
	if ((!c->ep.lport || !c->ep.rport) && ep.lport && ep.rport)
		index_set_ep(t, c, &ep);
	if (raw->owner_pid &&
	    (c->pid != raw->owner_pid || memcmp(c->comm, raw->owner_comm, TT_COMM_LEN))) {
		c->pid = raw->owner_pid;
		memcpy(c->comm, raw->owner_comm, TT_COMM_LEN);
		c->comm[TT_COMM_LEN - 1] = '\0';
		c->stats_pi = 0;
	}

	zero_small(&ev, sizeof(ev));
	ev.ts_ns = raw->ts_ns;
	switch (raw->type) {
	case TT_EV_STATE:
		ev.kind = TL_STATE;
		ev.state.old_state = raw->old_state;
		ev.state.new_state = raw->new_state;
		fin_in = raw->peer_fin && !raw->sk_err;
		ev.state.sent = state_sent_segment(raw->old_state, raw->new_state, fin_in);
		ev.state.received = state_received_segment(raw->old_state, raw->new_state, fin_in);
		ev.state.time_wait = raw->new_state == TT_TCP_CLOSE && fin_in &&
				     (raw->old_state == TT_TCP_FIN_WAIT1 ||
				      raw->old_state == TT_TCP_FIN_WAIT2 ||
				      raw->old_state == TT_TCP_CLOSING);
		/* An orphan (closed by its process) whose FIN is ACKed before
		 * the peer's FIN arrives goes FIN_WAIT2 -> CLOSE at once: the
		 * kernel hands it to a timewait socket in FIN_WAIT2 (tcp_time_wait),
		 * which takes the peer's FIN later. No error, no reset: aborts
		 * (linger2 < 0 aside) reset or set sk_err. */
		fw2_orphan_close = raw->new_state == TT_TCP_CLOSE &&
				   raw->old_state == TT_TCP_FIN_WAIT2 && !fin_in && !raw->sk_err &&
				   !c->rst_seen;
		/* ... unless TCP_LINGER2 < 0 drops it there (tcp_done, no reset) */
		ev.state.tw_fin_wait2 = fw2_orphan_close && !raw->linger2_neg;
		ev.state.fin_wait2_dropped = fw2_orphan_close && raw->linger2_neg;
		if (ev.state.tw_fin_wait2)
			ev.state.time_wait = true;
		if (ev.state.time_wait)
			c->timewait_ts = raw->ts_ns;
		ev.state.sk_err = raw->sk_err;
		ev.state.handshake_us = TT_RTT_NONE;
		if (raw->new_state == TT_TCP_ESTABLISHED && c->rtt_when == TT_RTT_ESTABLISHED) {
			ev.state.handshake_us = c->rtt_srtt_us;
			c->rtt_when = 0;
		}
		task_from(&ev.state.actor, raw);
		if (raw->sk_err)
			c->last_sk_err = raw->sk_err;
		if (raw->new_state == TT_TCP_CLOSE && raw->sk_err &&
		    !t->opts.kernel_reports_errors) {
			struct tl_event err = { .kind = TL_ERROR, .ts_ns = raw->ts_ns };

			err.error.err = (int32_t)raw->sk_err;
			err.error.inferred = true;
			cause_facts_add(&c->facts, &err, raw->timer_ctx);
			emit(t, c, &err);
		}
		break;
	case TT_EV_DATA:
		ev.kind = TL_DATA;
		ev.data.dir = raw->data.dir;
		ev.data.bytes = raw->data.bytes;
		ev.data.segs = raw->data.segs;
		ev.data.inferred = raw->data.inferred != 0;
		break;
	case TT_EV_RETRANSMIT:
		ev.kind = TL_RETRANSMIT;
		ev.retrans.seq = raw->retrans.seq;
		ev.retrans.syn = raw->retrans.syn;
		ev.retrans.err = raw->retrans.err;
		/* the BPF count is per socket; ours also covers the request sock
		 * before it (conn_account counts this one when it is emitted) */
		ev.retrans.count = c->retransmits + !raw->retrans.err;
		break;
	case TT_EV_KA_PROBE:
		ev.kind = TL_KA_PROBE;
		ev.ka_probe.dir = raw->ka_probe.dir;
		ev.ka_probe.n = raw->ka_probe.n;
		break;
	case TT_EV_KA_ACK:
		ev.kind = TL_KA_ACK;
		ev.ka_ack.dir = raw->ka_ack.dir;
		ev.ka_ack.rtt_ns = raw->ka_ack.rtt_ns;
		ev.ka_ack.inferred = raw->ka_ack.inferred != 0;
		break;
	case TT_EV_RST:
		ev.kind = TL_RST;
		ev.rst.dir = raw->rst.dir;
		ev.rst.reason = raw->rst.reason;
		ev.rst.state = raw->old_state;
		task_from(&ev.rst.actor, raw);
		break;
	case TT_EV_ERROR:
		ev.kind = TL_ERROR;
		ev.error.err = (int32_t)raw->error.err;
		/* the application can take sk_err (xchg to 0) between the kernel
		 * setting it and reporting it: the state change before saw it */
		if (!ev.error.err)
			ev.error.err = (int32_t)c->last_sk_err;
		if (!ev.error.err)
			return;
		break;
	case TT_EV_DESTROY:
		conn_destroyed(t, c, raw->ts_ns);
		trim_closed(t);
		return;
	default:
		return;
	}
	cause_facts_add(&c->facts, &ev, raw->timer_ctx);
	emit(t, c, &ev);
	if (ev.kind == TL_STATE && ev.state.new_state == TT_TCP_CLOSE) {
		conn_close(t, c, raw->ts_ns);
	} else if (!c->sk && !c->closed && ev.kind == TL_RST && !c->n_state_events) {
		conn_end_stateless(t, c);
	}
	if (ev.kind == TL_STATE)
		c->n_state_events++;
	if (t->n_pending && !c->drops_checked && !c->closed && c->ep.lport && c->ep.rport)
		pending_drops_for(t, c);
	trim_closed(t);
}

/* A replayed connection is hashed by its id where a live one is hashed by
 * its socket address: a table holds one kind or the other, never both. */
static struct conn *conn_for_id(struct conn_table *t, const struct tl_event *ev)
{
	struct conn *c = hash_find(t, ev->conn);

	if (c)
		return c;
	c = conn_new(t, ev->conn, 1, &ev->ep, ev->ts_ns);
	if (c) {
		chain_remove(&t->ibuckets[id_bucket(t, c->id)], c, offsetof(struct conn, inext));
		c->id = ev->conn;
		c->inext = t->ibuckets[id_bucket(t, c->id)];
		t->ibuckets[id_bucket(t, c->id)] = c;
	}
	return c;
}

void conn_table_add_event(struct conn_table *t, const struct tl_event *ev)
{
	struct conn *c;

	if (ev->kind == TL_LOST || !ev->conn) {
		record(t, NULL, ev);
		return;
	}
	c = conn_for_id(t, ev);
	if (!c)
		return;
	/* what the live table had for the connection when it emitted this
	 * event; the event itself goes on as recorded */
	index_set_ep(t, c, &ev->ep);
	if (ev->pid) {
		c->pid = ev->pid;
		memcpy(c->comm, ev->comm, TT_COMM_LEN);
		c->comm[TT_COMM_LEN - 1] = '\0';
		c->stats_pi = 0;
	}
	record(t, c, ev);
	if (ev->kind == TL_CLOSE && !c->closed) {
		conn_mark_closed(t, c);
	} else if (ev->kind == TL_RST && !c->closed && !c->n_state_events && !c->existing) {
		/* the live table's rule (a reset from no socket) without the
		 * socket address, which JSON does not carry: a reset before any
		 * state change of a connection not found open at start */
		conn_end_stateless(t, c);
	}
	if (ev->kind == TL_STATE)
		c->n_state_events++;
	trim_closed(t);
}

void conn_table_add_existing(struct conn_table *t, const struct tl_endpoints *ep, uint8_t state,
			     uint32_t pid, const char *comm, uint64_t ts_ns)
{
	struct tl_event ev = { .kind = TL_EXISTING, .ts_ns = ts_ns };
	struct conn *c = conn_new(t, 0, 0, ep, ts_ns);

	if (!c)
		return;
	if (pid) {
		c->pid = pid;
		strncpy(c->comm, comm ? comm : "", TT_COMM_LEN - 1);
	}
	ev.existing.state = state;
	cause_facts_add(&c->facts, &ev, TT_TIMER_NONE);
	emit(t, c, &ev);
}

void conn_table_add_lost(struct conn_table *t, uint64_t count, uint64_t ts_ns)
{
	struct tl_event ev = { .kind = TL_LOST, .ts_ns = ts_ns };

	ev.lost.count = count;
	emit(t, NULL, &ev);
}

size_t conn_table_open_count(const struct conn_table *t)
{
	return t->open.n;
}

size_t conn_table_size(const struct conn_table *t)
{
	return t->open.n + t->closed.n;
}

void conn_table_foreach_open(const struct conn_table *t,
			     void (*fn)(const struct conn *c, void *ctx), void *ctx)
{
	for (struct conn *c = t->open.head; c; c = c->next)
		fn(c, ctx);
}

uint64_t conn_table_evicted(const struct conn_table *t)
{
	return t->evicted;
}

size_t conn_table_held_bytes(const struct conn_table *t)
{
	return t->held;
}

uint64_t conn_table_not_kept(const struct conn_table *t)
{
	return t->not_kept;
}

uint64_t conn_table_victim_steps(const struct conn_table *t)
{
	return t->victim_steps;
}

void conn_table_release(struct conn_table *t, const struct conn *cc)
{
	/* the table's own connection: only const to its users */
	struct conn *c = (struct conn *)cc;

	free_runs(t, c, 0, c->n_events);
	events_resize(t, c, 0);
	c->n_events = 0;
	len_unlink(t, c);
	c->released = true;
}

void conn_table_mark_shown(struct conn_table *t, const struct conn *cc)
{
	((struct conn *)cc)->shown = true;
}

void conn_table_set_kernel_reports_errors(struct conn_table *t, bool yes)
{
	t->opts.kernel_reports_errors = yes;
}

bool conn_stateless(const struct conn *c)
{
	for (size_t i = 0; i < c->n_events; i++)
		if (c->events[i].kind == TL_STATE || c->events[i].kind == TL_EXISTING)
			return false;
	return true;
}

bool conn_is_mirror(const struct conn *a, const struct conn *b)
{
	return a != b && a->ep.family && b->ep.family && a->ep.lport && a->ep.rport &&
	       a->ep.lport == b->ep.rport && a->ep.rport == b->ep.lport &&
	       same_addr(a->ep.family, a->ep.laddr, b->ep.family, b->ep.raddr) &&
	       same_addr(a->ep.family, a->ep.raddr, b->ep.family, b->ep.laddr);
}

const struct conn *conn_table_find_id(const struct conn_table *t, uint64_t id)
{
	struct conn *best = NULL;

	for (struct conn *c = t->ibuckets[id_bucket(t, id)]; c; c = c->inext)
		if (c->id == id)
			best = newer(best, c);
	return best;
}

/* b was alive at some point while a was (ports are reused) */
static bool lives_overlap(const struct conn *a, const struct conn *b)
{
	uint64_t a_end = a->closed ? a->last_ts : UINT64_MAX;
	uint64_t b_end = b->closed ? b->last_ts : UINT64_MAX;

	return b->first_ts <= a_end && a->first_ts <= b_end;
}

const struct conn *conn_table_find_mirror(const struct conn_table *t, const struct conn *c)
{
	struct conn *best = NULL;

	for (struct conn *m = t->tbuckets[ports_bucket(t, c->ep.rport, c->ep.lport)]; m;
	     m = m->tnext)
		if (conn_is_mirror(c, m) && lives_overlap(c, m))
			best = newer(best, m);
	return best;
}
