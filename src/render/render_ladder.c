// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Ladder diagrams as text: the rows ladder_model built, one line each (the
 * time offset from the first event, the label, the arrow, the note wrapped
 * at the side), long idle gaps as one line, the header's endpoints above and
 * the summary below, within LADDER_WIDTH characters.
 */
#include <inttypes.h>
#include <string.h>
#include "addr.h"
#include "ansi.h"
#include "ladder_model.h"
#include "names.h"
#include "render_ladder.h"
#include "text.h"

/* geometry: time, label, arrow, label, note */
#define LABEL_W 13
#define ARROW_W 24

static const char *seg_color(const struct ladder_row *r)
{
	if (r->dropped)
		return C_RED;
	switch (r->seg) {
	case LADDER_SEG_RST:
	case LADDER_SEG_DROP:
		return C_RED;
	case LADDER_SEG_KA_PROBE:
	case LADDER_SEG_KA_ACK:
	case LADDER_SEG_RETRANS:
		return C_YELLOW;
	case LADDER_SEG_DATA:
		return C_CYAN;
	default:
		return C_GREEN;
	}
}

struct geom {
	int time_w;
	int note_col; /* where notes start */
};

/* print text at column col of a line that is at column *at (plain width) */
static void pad_to(FILE *f, int *at, int col)
{
	while (*at < col) {
		fputc(' ', f);
		(*at)++;
	}
}

/* the note, wrapped at word boundaries to fit the width */
static void put_note(FILE *f, const struct geom *g, int at, const char *note)
{
	const char *p = note;
	int room = LADDER_WIDTH - g->note_col;

	while (*p) {
		int n = (int)strlen(p);

		if (n > room) {
			int semi = room;

			while (semi > 0 && !(p[semi] == ' ' && p[semi - 1] == ';'))
				semi--;
			n = room;
			while (n > 0 && p[n] != ' ')
				n--;
			if (semi > room / 3)
				n = semi;
			if (n == 0)
				n = room;
		}
		pad_to(f, &at, g->note_col);
		fprintf(f, "%.*s\n", n, p);
		p += n;
		while (*p == ' ')
			p++;
		at = 0;
	}
}

static void put_time(FILE *f, const struct geom *g, uint64_t off, const struct render_opts *o)
{
	fprintf(f, "%s%*.6f%s  ", o->color ? C_DIM : "", g->time_w, (double)off / 1e9,
		o->color ? C_RESET : "");
}

static void draw_row(FILE *f, const struct geom *g, const struct ladder_row *r, uint64_t t0,
		     const struct render_opts *o)
{
	char label[48], note[LADDER_NOTE_MAX + 32], shaft[ARROW_W + 1];
	const char *color = o->color ? seg_color(r) : "", *reset = o->color ? C_RESET : "";
	int at = g->time_w + 2;

	put_time(f, g, r->ts - t0, o);
	if (r->kind == LADDER_ROW_NOTE) {
		fputs(o->color ? C_DIM : "", f);
		put_note(f, g, at, r->note);
		fputs(o->color ? C_RESET : "", f);
		return;
	}
	ladder_arrow_text(r, label, sizeof(label));
	label[LABEL_W] = '\0';
	memset(shaft, '-', ARROW_W);
	shaft[ARROW_W] = '\0';
	if (r->dropped) {
		/* an arrow that stops short of the receiver: "SYN ----x" */
		if (r->from == 0) {
			memset(shaft + ARROW_W - 6, ' ', 6);
			shaft[ARROW_W - 7] = 'x';
		} else {
			memset(shaft, ' ', 6);
			shaft[6] = 'x';
		}
	}
	if (r->from == 0) {
		if (!r->dropped)
			shaft[ARROW_W - 1] = '>';
		fprintf(f, "%s%*s %s%s", color, LABEL_W, label, shaft, reset);
		at += LABEL_W + 1 + ARROW_W;
	} else {
		if (!r->dropped)
			shaft[0] = '<';
		fprintf(f, "%*s%s%s %s%s", LABEL_W + 1, "", color, shaft, label, reset);
		at += LABEL_W + 1 + ARROW_W + 1 + (int)strlen(label);
	}
	ladder_row_note(r, note, sizeof(note));
	if (note[0])
		put_note(f, g, at, note);
	else
		fputc('\n', f);
}

static void header(FILE *f, const struct ladder *l, const struct geom *g,
		   const struct render_opts *o)
{
	const char *left = l->endpoint[0], *right = l->endpoint[1];

	fputs(o->color ? C_BOLD : "", f);
	if ((int)(strlen(left) + strlen(right) + 5) <= LADDER_WIDTH)
		fprintf(f, "%s  <->  %s", left, right);
	else
		fprintf(f, "%s\n  <->  %s", left, right);
	fprintf(f, "%s\n", o->color ? C_RESET : "");
	fprintf(f, "%*s  %*s %*s %s\n", g->time_w, "time", LABEL_W, ladder_role[0], ARROW_W, "",
		ladder_role[1]);
}

/* the items joined by " · ", wrapped at the width */
static void summary(FILE *f, const struct ladder *l, const struct render_opts *o)
{
	int at = 0;

	fputs(o->color ? C_BOLD : "", f);
	for (int i = 0; i < l->n_summary; i++) {
		int w = (int)strlen(l->summary[i]);

		if (at && at + 3 + w > LADDER_WIDTH) {
			fputs("\n", f);
			at = 0;
		}
		if (at) {
			fputs(" · ", f);
			at += 3;
		} else {
			fputs("  ", f);
			at = 2;
		}
		fputs(l->summary[i], f);
		at += w;
	}
	fprintf(f, "%s\n\n", o->color ? C_RESET : "");
}

/* the middle of a long story, not kept: one line where it was */
static void not_kept_line(FILE *f, const struct geom *g, uint64_t n, int col,
			  const struct render_opts *o)
{
	char text[96];

	snprintf(text, sizeof(text), "… %" PRIu64 " %s events not kept …", n, ladder_role[col]);
	fprintf(f, "%*s  %s%*s%s\n", g->time_w, "", o->color ? C_DIM : "",
		LABEL_W + 1 + (int)strlen(text), text, o->color ? C_RESET : "");
}

void render_ladder(FILE *f, const struct conn *a, const struct conn *b, const struct render_opts *o)
{
	struct ladder l;
	struct geom g = { .time_w = 8 };

	if (ladder_build(&l, a, b)) {
		ladder_free(&l);
		return;
	}
	if ((double)(l.t1 - l.t0) / 1e9 >= 100.0)
		g.time_w = snprintf(NULL, 0, "%.6f", (double)(l.t1 - l.t0) / 1e9);
	g.note_col = g.time_w + 2 + LABEL_W + 1 + ARROW_W + 1 + LABEL_W + 1;

	header(f, &l, &g, o);
	for (size_t i = 0; i < l.n_rows; i++) {
		const struct ladder_row *r = &l.rows[i];

		if (r->idle_ns) {
			char idle[64];

			snprintf(idle, sizeof(idle), "… %.1f s idle …", (double)r->idle_ns / 1e9);
			fprintf(f, "%*s  %s%*s%s\n", g.time_w, "", o->color ? C_DIM : "",
				LABEL_W + 1 + (ARROW_W - 14) / 2 + (int)strlen(idle), idle,
				o->color ? C_RESET : "");
		}
		if (r->not_kept)
			not_kept_line(f, &g, r->not_kept, r->not_kept_col, o);
		draw_row(f, &g, r, l.t0, o);
	}
	for (int col = 0; col < 2; col++)
		if (l.not_kept_after[col])
			not_kept_line(f, &g, l.not_kept_after[col], col, o);
	summary(f, &l, o);
	ladder_free(&l);
}

void render_ladder_late(FILE *f, const struct conn *c, const struct render_opts *o)
{
	char ep[ADDR_STRLEN + 8], comm[TT_COMM_LEN * 4] = "?", why[64] = "unknown";
	const struct tl_event *close = NULL;

	for (size_t i = 0; i < c->n_events; i++)
		if (c->events[i].kind == TL_CLOSE)
			close = &c->events[i];
	if (close)
		ladder_close_text(close, why, sizeof(why));
	endpoint_format(c->ep.family, c->ep.laddr, c->ep.lport, ep, sizeof(ep));
	if (c->pid)
		text_sanitize(c->comm, TT_COMM_LEN, comm, sizeof(comm));
	fprintf(f,
		"%s#%" PRIu64 " %s (%s %u) closed after %.6f s, after its diagram was drawn: "
		"%s [%s]%s\n\n",
		o->color ? C_BOLD : "", c->id, ep, comm, c->pid,
		(double)(c->last_ts - c->first_ts) / 1e9, why,
		close ? cause_name(close->close.cause) : "unknown", o->color ? C_RESET : "");
}
