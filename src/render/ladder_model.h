/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ladder of one connection as data: which arrows, which way, their
 * labels and times, the notes beside them, folded runs and idle gaps, the
 * header's endpoints and the summary's items. Built from the events the
 * connection table keeps (c->events); drawn as text by render_ladder and as
 * SVG by render_html, so both show the same picture.
 */
#ifndef LADDER_MODEL_H
#define LADDER_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conn_table.h"

#define LADDER_IDLE_NS	   2000000000ULL /* gaps longer than this (and 10% of the whole) are folded */
#define LADDER_NOTE_MAX	   200
#define LADDER_TEXT_MAX	   160 /* an endpoint, a summary item */
#define LADDER_SUMMARY_MAX 12

/* what a segment is, which is also how it is coloured */
enum ladder_seg {
	LADDER_SEG_CTRL, /* handshake and teardown: SYN, FIN, ACK, ... */
	LADDER_SEG_DATA,
	LADDER_SEG_KA_PROBE,
	LADDER_SEG_KA_ACK,
	LADDER_SEG_RST,
	LADDER_SEG_RETRANS,
	LADDER_SEG_DROP, /* a segment the kernel dropped, with no row of its own sender's */
};

enum ladder_row_kind { LADDER_ROW_ARROW, LADDER_ROW_NOTE };

struct ladder_row {
	enum ladder_row_kind kind;
	uint64_t ts;
	/* an idle gap longer than LADDER_IDLE_NS (and 10% of the whole) just
	 * before this row, drawn folded as one line; 0 when none */
	uint64_t idle_ns;
	/* events of end not_kept_col not kept just before this row (the middle
	 * of a long story, cut: a TL_TRUNCATED marker), drawn as one line; 0
	 * when none */
	uint64_t not_kept;
	int not_kept_col;
	int from; /* ROW_ARROW: the sender's column (0 client, 1 server); ROW_NOTE: whose note */
	enum ladder_seg seg;
	char label[32]; /* ROW_ARROW: "SYN", "FIN,ACK", "DATA", "KEEPALIVE", ... */
	uint64_t bytes, rtt_ns;
	bool inferred; /* LADDER_SEG_KA_ACK: read from the socket later, not seen arriving */
	uint32_t segs;
	int32_t err;	 /* LADDER_SEG_RETRANS: failed with this */
	uint32_t rcount; /* LADDER_SEG_RETRANS: nth retransmit */
	uint32_t rst_reason;
	/* the segment never arrived: the kernel dropped it (drawn stopping
	 * short, "SYN ----x"); drop_reason: enum skb_drop_reason or
	 * TT_DROP_REASON_NONE */
	bool dropped;
	uint32_t drop_reason;
	bool syn;
	/* order: the observation that gave the time */
	int o_col;
	size_t o_ev;
	int o_sub;
	char note[LADDER_NOTE_MAX];
	bool dead; /* folded into the row before it (only while building) */
};

struct ladder_obs;

struct ladder {
	const struct conn *end[2]; /* by column; NULL: not on this host */
	bool paired;
	uint64_t t0, t1;	 /* first and last event of either end */
	struct ladder_row *rows; /* in time order, folded rows removed */
	size_t n_rows;
	/* events not kept after the last row, by end (a cut with nothing
	 * kept after it) */
	uint64_t not_kept_after[2];
	/* "#3 127.0.0.1:41234 (curl 1234)", "10.0.0.2:80 (not traced here)" */
	char endpoint[2][LADDER_TEXT_MAX];
	/* "closed after 1.2 s", "client closed first", ..., one per item */
	char summary[LADDER_SUMMARY_MAX][LADDER_TEXT_MAX];
	int n_summary;
	/* how each end on this host ended: "close() [app_close]"; "" if not here */
	char fate[2][LADDER_TEXT_MAX];
	int first_col;	  /* the end that closed or reset first; -1 none (or refused) */
	bool first_reset; /* ... by a reset */
	bool open;	  /* an end is still open */
	/* building */
	size_t cap_rows;
	struct ladder_obs *obs;
	size_t n_obs;
	size_t *obs_of[2]; /* by end: 1 + index into obs of (event, sub), 0 none */
	/* steps of the searches inside per-observation work: the unit tests
	 * bound it, so a search that goes back to scanning everything fails */
	uint64_t steps;
	bool established_noted;
	bool shut[2]; /* that end called shutdown(SHUT_WR) and read on */
	/* an end whose held story has keepalive runs folded: read expanded
	 * (conn_view), freed by ladder_free */
	struct conn view[2];
	const struct conn *orig[2], *read[2]; /* read[i]: orig[i] or &view[i] */
};

extern const char *const ladder_role[2]; /* "client", "server" */

/*
 * Build the ladder of a, with b the other end of the same connection when it
 * is on this host too (the mirror 4-tuple, see conn_is_mirror), or NULL: the
 * remote end is then drawn from what a's kernel sent and received.
 * 0, or -ENOMEM (l is then empty but safe to free).
 */
int ladder_build(struct ladder *l, const struct conn *a, const struct conn *b);
void ladder_free(struct ladder *l);

/* An arrow's text: "DATA 1.2 kB", "SYN again", "FIN,ACK". */
void ladder_arrow_text(const struct ladder_row *r, char *buf, size_t len);
/* A row's note, with the segment count of folded data in front. */
void ladder_row_note(const struct ladder_row *r, char *buf, size_t len);
/* "close()", "killed by SIGKILL", "keepalive timeout": a close event's cause */
void ladder_close_text(const struct tl_event *e, char *buf, size_t len);

/* "29 B", "12.3 kB", "4.5 MB" */
void ladder_format_bytes(uint64_t bytes, char *buf, size_t len);

#endif /* LADDER_MODEL_H */
