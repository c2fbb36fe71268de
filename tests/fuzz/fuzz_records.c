// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: arbitrary kernel records in arbitrary order through
 * decode -> connection table -> every renderer (JSON, text, ladder queue,
 * ladder and the HTML page), as main.c wires them. The input is a sequence
 * of 32-byte steps; each step builds one record from its bytes: which of four socket
 * addresses and three birth times (so sockets are unknown, reborn, destroyed
 * twice, or seen without a birth), any event type (valid or not), any states,
 * a signed time delta (time goes backwards too), actor/owner/timer flags and
 * the type-specific payload bytes as they come. A step can also hand decode a
 * record cut short, report sockets open at start, report lost events, or let
 * the ladder queue's clock run, or hand in a socket's log (tt_log). An input that ends mid-step is a recording
 * cut short. Seeds in tests/fuzz/corpus/records/ are the golden recordings
 * (the .jsonl files in tests/unit/golden) in this encoding (tests/fuzz/seeds.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decode.h"
#include "fuzz_app.h"

#define STEP 32

enum op {
	OP_RECORD = 0, /* a whole record */
	OP_SHORT,      /* a record cut short: decode must refuse it */
	OP_EXISTING,   /* a socket open when tracing began */
	OP_LOST,       /* the kernel lost events */
	OP_TICK,       /* the main loop's tick */
	OP_DROP,       /* a dropped segment (tt_drop), either way, maybe cut short */
	OP_WINDOW,     /* a zero-window stall's begin or end (tt_window), maybe malformed */
	OP_DATA,       /* a compact data run (tt_data) of any socket life, maybe malformed */
	OP_STATE,      /* a compact state change (tt_state): the step's record without its socket */
	OP_LOG,	       /* a socket's log (tt_log): entries from the step's bytes, maybe malformed */
	OP_MAX,
};

static const uint64_t socks[4] = { 0xffff888000001000ULL, 0xffff888000002000ULL,
				   0xffff888000003000ULL, 0 };
static const uint64_t births[3] = { 0, 1000, 5000000000ULL };

static void build(const uint8_t *s, uint64_t ts, struct tt_event *e)
{
	int client = s[1] & 0x10;

	memset(e, 0, sizeof(*e));
	e->sk = socks[s[1] & 3];
	e->birth_ns = births[((s[1] >> 2) & 3) % 3];
	e->type = s[2] % (TT_EV_TYPE_MAX + 1);
	e->old_state = s[3] % 16;
	e->new_state = s[4] % 16;
	e->ts_ns = ts;
	e->family = (s[1] & 0x20) ? 6 : 4;
	e->saddr[0] = 127, e->saddr[3] = 1;
	e->daddr[0] = 127, e->daddr[3] = 1;
	/* two client ports: a client and a server socket can be each other's
	 * other end (the ladder pairs them) or strangers */
	e->lport = client ? 40000 + ((s[1] >> 6) & 1) : 9000;
	e->rport = client ? 9000 : 40000 + ((s[1] >> 6) & 1);
	if (s[7] & 0x01) {
		e->owner_pid = 100 + (s[8] & 7);
		memcpy(e->owner_comm, "own\x1b[31m\xff<&", 11);
	}
	if (s[7] & 0x02) {
		e->actor_pid = 200 + (s[9] & 7);
		memcpy(e->actor_comm, "act\"\\\n", 6);
	}
	e->actor_flags = (s[7] & 0x04) ? TT_ACTOR_EXITING : 0;
	e->exit_code = (int8_t)s[10] * 37;
	e->sk_err = s[11] % 140;
	e->timer_ctx = (s[7] >> 3) & 1;
	e->peer_fin = (s[7] >> 4) & 1;
	e->linger2_neg = (s[7] >> 5) & 1;
	memcpy(e->raw, s + 12, 20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_app a;
	uint64_t ts = 10000000000ULL;

	fuzz_app_init(&a, size);
	a.ro.start_ns = ts;

	for (size_t off = 0; off + STEP <= size; off += STEP) {
		const uint8_t *s = data + off;
		int16_t delta = (int16_t)(s[5] | s[6] << 8);
		struct tt_event e;

		/* microseconds, either way; time can go backwards */
		ts += (uint64_t)((int64_t)delta * 1000);
		build(s, ts, &e);
		switch (s[0] % OP_MAX) {
		case OP_RECORD:
		case OP_SHORT: {
			struct tt_event out;
			size_t len = s[0] % OP_MAX == OP_SHORT ? s[12] % sizeof(e) : sizeof(e);

			if (!decode_event(&e, len, &out))
				conn_table_add_raw(a.t, &out);
			break;
		}
		case OP_EXISTING: {
			struct tl_endpoints ep = { .family = e.family,
						   .lport = e.lport,
						   .rport = e.rport };

			memcpy(ep.laddr, e.saddr, 16);
			memcpy(ep.raddr, e.daddr, 16);
			conn_table_add_existing(a.t, &ep, e.new_state, e.owner_pid, e.owner_comm,
						ts);
			break;
		}
		case OP_LOST:
			conn_table_add_lost(a.t, s[12] + 1, ts);
			break;
		case OP_TICK:
			ladder_queue_tick(a.q, ts + (uint64_t)s[12] * 100000000ULL);
			break;
		case OP_DROP: {
			struct tt_drop d = { .rec = TT_REC_DROP }, out;
			bool rev = s[13] & 1;
			size_t len = (s[13] & 2) ? s[14] % (sizeof(d) + 8) : sizeof(d);

			d.ts_ns = ts;
			d.family = (s[13] & 4) ? e.family + 1 : e.family;
			memcpy(d.saddr, rev ? e.daddr : e.saddr, 16);
			memcpy(d.daddr, rev ? e.saddr : e.daddr, 16);
			d.sport = rev ? e.rport : e.lport;
			d.dport = rev ? e.lport : e.rport;
			d.flags = s[12];
			d.bytes = s[15];
			d.reason = (s[13] & 8) ? TT_DROP_REASON_NONE : s[16];
			if (!decode_drop(&d, len, &out))
				conn_table_add_drop(a.t, &out);
			break;
		}
		case OP_WINDOW: {
			struct tt_window w = { .rec = TT_REC_WINDOW }, out;
			size_t len = (s[13] & 2) ? s[14] % (sizeof(w) + 8) : sizeof(w);

			w.ts_ns = ts;
			w.sk = e.sk;
			w.birth_ns = (s[13] & 4) ? e.birth_ns + 1 : e.birth_ns;
			w.dir = s[12] % 3;	    /* 2: bad */
			w.state = (s[12] >> 2) % 4; /* 0 and 3: bad */
			w.inferred = s[13] & 8;
			w.queued = (uint32_t)s[15] << 8 | s[16];
			w.probes = s[13] >> 4;
			if (!decode_window(&w, len, &out))
				conn_table_add_window(a.t, &out);
			break;
		}
		case OP_DATA: {
			struct tt_data d = { .rec = TT_REC_DATA }, out;
			size_t len = (s[13] & 2) ? s[14] % (sizeof(d) + 8) : sizeof(d);

			d.ts_ns = ts;
			d.sk = e.sk;
			d.birth_ns = (s[13] & 4) ? e.birth_ns + 1 : e.birth_ns;
			d.dir = s[12] % 3; /* 2: bad */
			d.inferred = s[13] & 8;
			d.segs = s[13] >> 4;
			memcpy(&d.bytes, s + 15, 8); /* any size, up to 2^64 - 1 */
			if (!decode_data(&d, len, &out))
				conn_table_add_data(a.t, &out);
			break;
		}
		case OP_STATE: {
			struct tt_state r = { .rec = TT_REC_STATE }, out;
			size_t len = (s[13] & 2) ? s[14] % (sizeof(r) + 8) : sizeof(r);

			r.ts_ns = ts;
			r.sk = e.sk;
			r.birth_ns = e.birth_ns;
			r.old_state = e.old_state;
			r.new_state = e.new_state;
			r.sk_err = e.sk_err;
			r.timer_ctx = e.timer_ctx;
			r.peer_fin = e.peer_fin;
			r.linger2_neg = e.linger2_neg;
			r.actor_pid = e.actor_pid;
			r.actor_flags = e.actor_flags;
			r.exit_code = e.exit_code;
			memcpy(r.actor_comm, e.actor_comm, TT_COMM_LEN);
			r.state.rtt_when = s[13] % 4; /* 3: bad */
			r.state.srtt_us = (uint32_t)s[15] << 8 | s[16];
			r.state.min_rtt_us = s[17] & 1 ? TT_RTT_NONE : s[17];
			if (!decode_state(&r, len, &out))
				conn_table_add_state(a.t, &out);
			break;
		}
		case OP_LOG: {
			struct tt_log l = { .h = { .rec = TT_REC_LOG } }, out;
			size_t len = (s[13] & 2) ? s[14] % (sizeof(l) + 8) : sizeof(l);

			l.h.sk = e.sk;
			l.h.birth_ns = e.birth_ns;
			/* places in the log: overlapping, repeated, going back */
			l.h.first_seq = s[15] % 12;
			l.h.n = s[16] % (TT_LOG_CAP + 2); /* 0 and CAP + 1: bad */
			l.h.family = (s[13] & 4) ? e.family + 1 : e.family;
			memcpy(l.h.saddr, e.saddr, 16);
			memcpy(l.h.daddr, e.daddr, 16);
			l.h.lport = (s[13] & 8) ? 0 : e.lport;
			l.h.rport = e.rport;
			l.h.owner_pid = e.owner_pid;
			memcpy(l.h.owner_comm, "own\x1b[31m\xff<&\xfe\xfd\xfc\xfb\xfa",
			       TT_COMM_LEN);
			for (unsigned int i = 0; i < TT_LOG_CAP; i++) {
				const uint8_t *b = s + 17 + i;
				struct tt_log_ent *en = &l.e[i];

				en->ts_ns = ts + (uint64_t)b[0] * 1000 - 50000;
				en->kind = b[0] % 4; /* 0, 3: bad */
				en->a = b[1] % 17;
				en->b = b[2 % (15 - i)] % 16;
				en->flags = b[0] ^ s[12];
				en->x = b[1] % 140;
				en->y = (uint32_t)b[0] << 8 | s[12];
				en->z = s[12] & 1 ? TT_RTT_NONE : b[1];
			}
			if (!decode_log(&l, len, &out))
				conn_table_add_log(a.t, &out);
			break;
		}
		}
	}
	fuzz_app_fini(&a);
	return 0;
}
