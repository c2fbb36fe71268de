// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include "decode.h"

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
