// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include "cause.h"
#include "names.h"

static void first_end(struct cause_facts *f, enum end_kind k, uint8_t timer_ctx)
{
	if (f->first_end != END_NONE)
		return;
	f->first_end = k;
	f->end_in_keepalive = timer_ctx == TT_TIMER_KEEPALIVE;
}

void cause_facts_add(struct cause_facts *f, const struct tl_event *ev, uint8_t timer_ctx)
{
	switch (ev->kind) {
	case TL_STATE: {
		uint8_t o = ev->state.old_state, n = ev->state.new_state;

		if (n == TT_TCP_ESTABLISHED)
			f->established = true;
		if (n == TT_TCP_CLOSE)
			f->syn_sent = o == TT_TCP_SYN_SENT;
		if (n == TT_TCP_CLOSE_WAIT || (o == TT_TCP_FIN_WAIT1 && n == TT_TCP_CLOSING)) {
			first_end(f, END_FIN_IN, timer_ctx);
		} else if ((n == TT_TCP_FIN_WAIT1 || n == TT_TCP_CLOSE) && ev->state.actor.pid) {
			/* a task closed it: close(), shutdown(), exit, or abort */
			if (f->first_end == END_NONE)
				f->closer = ev->state.actor;
			first_end(f, END_LOCAL_CLOSE, timer_ctx);
		} else if (n == TT_TCP_FIN_WAIT1) {
			first_end(f, END_LOCAL_CLOSE, timer_ctx);
		}
		if (ev->state.sk_err == ETIMEDOUT && n == TT_TCP_CLOSE)
			first_end(f, END_TIMEOUT, timer_ctx);
		break;
	}
	case TL_RST:
		if (ev->rst.dir == TT_DIR_IN) {
			f->rst_in = true;
			first_end(f, END_RST_IN, timer_ctx);
		} else if (ev->rst.actor.pid) {
			if (f->first_end == END_NONE)
				f->closer = ev->rst.actor;
			first_end(f, END_LOCAL_CLOSE, timer_ctx);
		} else {
			first_end(f, END_RST_OUT, timer_ctx);
		}
		break;
	case TL_ERROR:
		f->last_err = ev->error.err;
		if (ev->error.err == ETIMEDOUT)
			first_end(f, END_TIMEOUT, timer_ctx);
		break;
	case TL_KA_PROBE:
		if (ev->ka_probe.dir == TT_DIR_OUT)
			f->ka_probes_out++;
		break;
	case TL_EXISTING:
		if (ev->existing.state != TT_TCP_SYN_SENT && ev->existing.state != TT_TCP_LISTEN)
			f->established = true;
		break;
	default:
		break;
	}
}

static enum tl_cause closer_cause(const struct cause_facts *f, int32_t *signal, int32_t *exit_code)
{
	if (!f->closer.pid)
		return CAUSE_APP_CLOSE; /* FIN_WAIT1 is only entered by close()/shutdown() */
	if (!f->closer.exiting)
		return CAUSE_APP_CLOSE;
	if (f->closer.exit_code & 0x7f) {
		*signal = f->closer.exit_code & 0x7f;
		return CAUSE_KILLED;
	}
	*exit_code = (f->closer.exit_code >> 8) & 0xff;
	return CAUSE_PROCESS_EXIT;
}

enum tl_cause cause_decide(const struct cause_facts *f, int32_t *signal, int32_t *exit_code)
{
	*signal = 0;
	*exit_code = -1;

	/* a connection that never got past SYN_SENT */
	if (f->syn_sent && !f->established) {
		if (f->rst_in)
			return CAUSE_REFUSED;
		if (f->first_end == END_TIMEOUT || f->last_err == ETIMEDOUT)
			return CAUSE_SYN_TIMEOUT;
		if (f->first_end == END_LOCAL_CLOSE)
			return closer_cause(f, signal, exit_code);
		return CAUSE_UNKNOWN;
	}
	switch (f->first_end) {
	case END_LOCAL_CLOSE:
		return closer_cause(f, signal, exit_code);
	case END_FIN_IN:
		return CAUSE_PEER_CLOSE;
	case END_RST_IN:
		return CAUSE_RST_IN;
	case END_RST_OUT:
		if (f->end_in_keepalive)
			return CAUSE_KEEPALIVE_TIMEOUT;
		return CAUSE_RST_OUT;
	case END_TIMEOUT:
		if (f->end_in_keepalive || f->ka_probes_out)
			return CAUSE_KEEPALIVE_TIMEOUT;
		return CAUSE_RETRANSMIT_TIMEOUT;
	default:
		return CAUSE_UNKNOWN;
	}
}

const char *cause_name(enum tl_cause cause)
{
	static const char *const names[] = {
		[CAUSE_UNKNOWN] = "unknown",
		[CAUSE_APP_CLOSE] = "app_close",
		[CAUSE_PROCESS_EXIT] = "process_exit",
		[CAUSE_KILLED] = "killed",
		[CAUSE_PEER_CLOSE] = "peer_close",
		[CAUSE_RST_IN] = "rst_in",
		[CAUSE_RST_OUT] = "rst_out",
		[CAUSE_REFUSED] = "refused",
		[CAUSE_KEEPALIVE_TIMEOUT] = "keepalive_timeout",
		[CAUSE_RETRANSMIT_TIMEOUT] = "retransmit_timeout",
		[CAUSE_SYN_TIMEOUT] = "syn_timeout",
	};

	if ((unsigned)cause < sizeof(names) / sizeof(names[0]))
		return names[cause];
	return "unknown";
}

const char *tl_kind_name(enum tl_kind kind)
{
	static const char *const names[] = {
		[TL_STATE] = "state",		[TL_DATA] = "data",
		[TL_RETRANSMIT] = "retransmit", [TL_KA_PROBE] = "keepalive_probe",
		[TL_KA_ACK] = "keepalive_ack",	[TL_RST] = "rst",
		[TL_ERROR] = "error",		[TL_CLOSE] = "close",
		[TL_EXISTING] = "existing",	[TL_LOST] = "lost",
		[TL_TRUNCATED] = "truncated",	[TL_DROP] = "drop",
		[TL_WINDOW] = "window",
	};

	if ((unsigned)kind < sizeof(names) / sizeof(names[0]))
		return names[kind];
	return "unknown";
}
