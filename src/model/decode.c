// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "decode.h"
#include "zero.h"

/* The record layout is shared with the BPF side: a change of size is a change
 * of contract between the two, caught here at build time. */
_Static_assert(sizeof(struct tt_event) == 144, "struct tt_event changed size");

_Static_assert(sizeof(struct tt_drop) == 72, "struct tt_drop changed size");
_Static_assert(sizeof(struct tt_drop) != sizeof(struct tt_event),
	       "records are told apart by size: tt_drop must differ from tt_event");

_Static_assert(sizeof(struct tt_rtt) == 40, "struct tt_rtt changed size");
_Static_assert(sizeof(struct tt_rtt) != sizeof(struct tt_event) &&
		       sizeof(struct tt_rtt) != sizeof(struct tt_drop),
	       "records are told apart by size: tt_rtt must differ from the others");

_Static_assert(sizeof(struct tt_window) == 48, "struct tt_window changed size");
_Static_assert(sizeof(struct tt_window) != sizeof(struct tt_event) &&
		       sizeof(struct tt_window) != sizeof(struct tt_drop) &&
		       sizeof(struct tt_window) != sizeof(struct tt_rtt),
	       "records are told apart by size: tt_window must differ from the others");

_Static_assert(sizeof(struct tt_data) == 56, "struct tt_data changed size");
_Static_assert(sizeof(struct tt_data) != sizeof(struct tt_event) &&
		       sizeof(struct tt_data) != sizeof(struct tt_drop) &&
		       sizeof(struct tt_data) != sizeof(struct tt_rtt) &&
		       sizeof(struct tt_data) != sizeof(struct tt_window),
	       "records are told apart by size: tt_data must differ from the others");

_Static_assert(sizeof(struct tt_state) == 80, "struct tt_state changed size");
_Static_assert(sizeof(struct tt_state) != sizeof(struct tt_event) &&
		       sizeof(struct tt_state) != sizeof(struct tt_drop) &&
		       sizeof(struct tt_state) != sizeof(struct tt_rtt) &&
		       sizeof(struct tt_state) != sizeof(struct tt_window) &&
		       sizeof(struct tt_state) != sizeof(struct tt_data),
	       "records are told apart by size: tt_state must differ from the others");

_Static_assert(sizeof(struct tt_log_ent) == 24, "struct tt_log_ent changed size");
_Static_assert(sizeof(struct tt_log_hdr) == 88, "struct tt_log_hdr changed size");
_Static_assert(sizeof(struct tt_log) == 280, "struct tt_log changed size");
_Static_assert(sizeof(struct tt_log) != sizeof(struct tt_event) &&
		       sizeof(struct tt_log) != sizeof(struct tt_drop) &&
		       sizeof(struct tt_log) != sizeof(struct tt_rtt) &&
		       sizeof(struct tt_log) != sizeof(struct tt_window) &&
		       sizeof(struct tt_log) != sizeof(struct tt_data) &&
		       sizeof(struct tt_log) != sizeof(struct tt_state),
	       "records are told apart by size: tt_log must differ from the others");

enum tt_record_kind decode_record_kind(const void *data, size_t size)
{
	if (!data)
		return TT_RECORD_BAD;
	if (size == sizeof(struct tt_drop) && ((const struct tt_drop *)data)->rec == TT_REC_DROP)
		return TT_RECORD_DROP;
	if (size == sizeof(struct tt_rtt) && ((const struct tt_rtt *)data)->rec == TT_REC_RTT)
		return TT_RECORD_RTT;
	if (size == sizeof(struct tt_window) &&
	    ((const struct tt_window *)data)->rec == TT_REC_WINDOW)
		return TT_RECORD_WINDOW;
	if (size == sizeof(struct tt_data) && ((const struct tt_data *)data)->rec == TT_REC_DATA)
		return TT_RECORD_DATA;
	if (size == sizeof(struct tt_state) && ((const struct tt_state *)data)->rec == TT_REC_STATE)
		return TT_RECORD_STATE;
	if (size == sizeof(struct tt_log) && ((const struct tt_log *)data)->h.rec == TT_REC_LOG)
		return TT_RECORD_LOG;
	if (size >= sizeof(struct tt_event))
		return TT_RECORD_EVENT;
	return TT_RECORD_BAD;
}

int decode_drop(const void *data, size_t size, struct tt_drop *out)
{
	const struct tt_drop *d = data;

	if (decode_record_kind(data, size) != TT_RECORD_DROP)
		return -EINVAL;
	if (d->family != 4 && d->family != 6)
		return -EINVAL;
	memcpy(out, d, sizeof(*out));
	return 0;
}

int decode_rtt(const void *data, size_t size, struct tt_rtt *out)
{
	const struct tt_rtt *r = data;

	if (decode_record_kind(data, size) != TT_RECORD_RTT)
		return -EINVAL;
	if (r->when != TT_RTT_ESTABLISHED && r->when != TT_RTT_CLOSE)
		return -EINVAL;
	memcpy(out, r, sizeof(*out));
	return 0;
}

int decode_window(const void *data, size_t size, struct tt_window *out)
{
	const struct tt_window *w = data;

	if (decode_record_kind(data, size) != TT_RECORD_WINDOW)
		return -EINVAL;
	if (w->dir > TT_DIR_OUT || (w->state != TT_WINDOW_ZERO && w->state != TT_WINDOW_OPEN))
		return -EINVAL;
	memcpy(out, w, sizeof(*out));
	return 0;
}

int decode_data(const void *data, size_t size, struct tt_data *out)
{
	const struct tt_data *d = data;

	if (decode_record_kind(data, size) != TT_RECORD_DATA)
		return -EINVAL;
	if (d->dir > TT_DIR_OUT || !d->sk || !d->birth_ns)
		return -EINVAL;
	memcpy(out, d, sizeof(*out));
	return 0;
}

int decode_state(const void *data, size_t size, struct tt_state *out)
{
	const struct tt_state *s = data;

	if (decode_record_kind(data, size) != TT_RECORD_STATE)
		return -EINVAL;
	if (!s->sk || !s->birth_ns)
		return -EINVAL;
	if (s->state.rtt_when != 0 && s->state.rtt_when != TT_RTT_ESTABLISHED &&
	    s->state.rtt_when != TT_RTT_CLOSE)
		return -EINVAL;
	memcpy(out, s, sizeof(*out));
	out->actor_comm[TT_COMM_LEN - 1] = '\0';
	return 0;
}

const struct tt_event *decode_event_view(const void *data, size_t size)
{
	const struct tt_event *e = data;

	if (!data || size < sizeof(*e))
		return NULL;
	if (e->type < TT_EV_STATE || e->type >= TT_EV_TYPE_MAX)
		return NULL;
	if (e->type != TT_EV_DESTROY && e->family != 4 && e->family != 6)
		return NULL;
	if (e->type == TT_EV_DATA && e->data.dir > TT_DIR_OUT)
		return NULL;
	/* a kernel error is -1 .. -4095 (MAX_ERRNO); renderers negate it */
	if (e->type == TT_EV_RETRANSMIT && (e->retrans.err > 0 || e->retrans.err < -4095))
		return NULL;
	if (e->type == TT_EV_STATE && e->state.rtt_when != 0 &&
	    e->state.rtt_when != TT_RTT_ESTABLISHED && e->state.rtt_when != TT_RTT_CLOSE)
		return NULL;
	return e;
}

int decode_event(const void *data, size_t size, struct tt_event *out)
{
	const struct tt_event *e = decode_event_view(data, size);

	if (!e)
		return -EINVAL;
	memcpy(out, e, sizeof(*out));
	out->owner_comm[TT_COMM_LEN - 1] = '\0';
	out->actor_comm[TT_COMM_LEN - 1] = '\0';
	return 0;
}

const struct tt_log *decode_log_view(const void *data, size_t size)
{
	const struct tt_log *l = data;

	if (decode_record_kind(data, size) != TT_RECORD_LOG)
		return NULL;
	if (!l->h.n || l->h.n > TT_LOG_CAP || !l->h.sk || !l->h.birth_ns ||
	    (l->h.family != 4 && l->h.family != 6))
		return NULL;
	for (unsigned int i = 0; i < l->h.n; i++) {
		const struct tt_log_ent *e = &l->e[i];
		unsigned int when = (e->flags >> TT_LOGF_RTT_SHIFT) & 3;

		if (e->kind == TT_LOG_STATE) {
			if (when == 3)
				return NULL;
		} else if (e->kind == TT_LOG_DATA) {
			if (e->a > TT_DIR_OUT)
				return NULL;
		} else {
			return NULL;
		}
	}
	return l;
}

int decode_log(const void *data, size_t size, struct tt_log *out)
{
	const struct tt_log *l = decode_log_view(data, size);

	if (!l)
		return -EINVAL;
	memcpy(out, l, sizeof(*out));
	out->h.owner_comm[TT_COMM_LEN - 1] = '\0';
	return 0;
}

void decode_log_entry(const struct tt_log *l, unsigned int i, struct tt_event *out)
{
	zero_small(out, sizeof(*out));
	out->sk = l->h.sk;
	out->birth_ns = l->h.birth_ns;
	memcpy(out->saddr, l->h.saddr, 16);
	memcpy(out->daddr, l->h.daddr, 16);
	out->lport = l->h.lport;
	out->rport = l->h.rport;
	out->family = l->h.family;
	out->owner_pid = l->h.owner_pid;
	memcpy(out->owner_comm, l->h.owner_comm, TT_COMM_LEN);
	out->owner_comm[TT_COMM_LEN - 1] = '\0';
	decode_log_entry_next(l, i, out);
}

void decode_log_entry_next(const struct tt_log *l, unsigned int i, struct tt_event *out)
{
	const struct tt_log_ent *e = &l->e[i % TT_LOG_CAP];

	/* what an entry sets: its time, kind, states, actor and everything
	 * from the actor's name on (flags, error, the per-kind union) */
	out->ts_ns = e->ts_ns;
	out->old_state = out->new_state = 0;
	out->actor_pid = 0;
	memset(out->actor_comm, 0, sizeof(*out) - offsetof(struct tt_event, actor_comm));
	if (e->kind == TT_LOG_DATA) {
		out->type = TT_EV_DATA;
		out->data.bytes = (uint64_t)e->y | (uint64_t)e->z << 32;
		out->data.segs = e->x;
		out->data.dir = e->a;
		out->data.inferred = (e->flags & TT_LOGF_INFERRED) != 0;
		return;
	}
	out->type = TT_EV_STATE;
	out->old_state = e->a;
	out->new_state = e->b;
	out->sk_err = e->x;
	out->peer_fin = (e->flags & TT_LOGF_PEER_FIN) != 0;
	out->linger2_neg = (e->flags & TT_LOGF_LINGER2_NEG) != 0;
	out->timer_ctx = (e->flags & TT_LOGF_TIMER_KA) ? TT_TIMER_KEEPALIVE : TT_TIMER_NONE;
	if (e->flags & TT_LOGF_ACTOR_OWNER) {
		out->actor_pid = out->owner_pid;
		memcpy(out->actor_comm, out->owner_comm, TT_COMM_LEN);
	}
	out->state.rtt_when = (e->flags >> TT_LOGF_RTT_SHIFT) & 3;
	if (out->state.rtt_when) {
		out->state.srtt_us = e->y;
		out->state.min_rtt_us = e->z;
	}
}
