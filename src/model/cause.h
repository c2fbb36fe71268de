/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Why a connection ended: rules over the facts the connection table gathers. */
#ifndef CAUSE_H
#define CAUSE_H

#include <stdbool.h>
#include <stdint.h>
#include "timeline.h"

/* The first thing that started the end of the connection. */
enum end_kind {
	END_NONE = 0,
	END_LOCAL_CLOSE, /* a task closed it (FIN out, or abort straight to CLOSE) */
	END_FIN_IN,	 /* the peer's FIN came first */
	END_RST_IN,
	END_RST_OUT, /* a reset we sent, not from a task's close */
	END_TIMEOUT, /* ETIMEDOUT reported */
};

struct cause_facts {
	enum end_kind first_end;
	struct tl_task closer; /* the task behind END_LOCAL_CLOSE, if seen */
	bool end_in_keepalive; /* the end happened inside the keepalive timer */
	bool established;      /* reached ESTABLISHED (or was found established) */
	bool syn_sent;	       /* was in SYN_SENT when it ended */
	bool rst_in;	       /* any reset received */
	int32_t last_err;      /* last error reported (errno), 0 none */
	uint32_t ka_probes_out;
};

/* Fold one event into the facts. */
void cause_facts_add(struct cause_facts *f, const struct tl_event *ev, uint8_t timer_ctx);

/* The verdict; *signal and *exit_code describe an exiting closer (0 / -1 otherwise). */
enum tl_cause cause_decide(const struct cause_facts *f, int32_t *signal, int32_t *exit_code);

#endif /* CAUSE_H */
