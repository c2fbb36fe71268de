// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Ladders as one HTML page. Each connection's ladder_model rows become an
 * inline SVG: the client's and the server's lifelines, one arrow per row
 * (the same rows, labels, times and notes as the text ladder, rows evenly
 * spaced as there), coloured by kind, notes wrapped beside the arrows, long
 * idle gaps folded into a band; the summary under it. An index at the top
 * links to every ladder. The SVG carries its colours as attributes, so it
 * reads the same cut out of the page; the page is well-formed XML too.
 * Every string that reaches the page is escaped (xml_write_escaped).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "ladder_model.h"
#include "names.h"
#include "render_html.h"
#include "text.h"

/* geometry (px): time at the left, lifelines, notes at the right */
#define SVG_W	   960
#define TIME_X	   12
#define LEFT_X	   200
#define RIGHT_X	   520
#define NOTE_X	   544
#define NOTE_CHARS 60 /* a note line: ~410 px of 12 px sans */
#define TOP_Y	   58 /* first row */
#define ROW_H	   30
#define LINE_H	   15 /* each further line of a note */
#define IDLE_H	   30

enum kind { K_HANDSHAKE, K_TEARDOWN, K_DATA, K_KEEPALIVE, K_RESET, K_RETRANSMIT, K_DROP, K_N };

static const struct {
	const char *name;  /* also the class */
	const char *color; /* arrows and labels */
	const char *what;  /* the legend */
} kinds[K_N] = {
	[K_HANDSHAKE] = { "handshake", "#2e7d32", "SYN, SYN,ACK, the handshake's ACK" },
	[K_TEARDOWN] = { "teardown", "#6a1b9a", "FIN and the ACKs after one" },
	[K_DATA] = { "data", "#1565c0", "data (runs one way folded)" },
	[K_KEEPALIVE] = { "keepalive", "#a66f00", "keepalive probes and their ACKs" },
	[K_RESET] = { "reset", "#c62828", "RST" },
	[K_RETRANSMIT] = { "retransmit", "#e65100", "a segment sent again (dashed)" },
	[K_DROP] = { "drop", "#616161",
		     "a segment that never arrived: dropped (the reason noted), or a retransmit that "
		     "failed (✕)" },
};

#define NOTE_COLOR     "#37474f"
#define DIM_COLOR      "#757575"
#define LIFELINE_COLOR "#b0bec5"

struct entry {
	char *index; /* one <tr> */
	char *body;  /* one <section> */
};

struct html_page {
	struct entry *e;
	size_t n, cap;
	size_t not_drawn; /* ladders past HTML_MAX_LADDERS */
	char **late;
	size_t n_late, cap_late;
	size_t late_not_kept;
};

struct html_page *html_page_new(void)
{
	return calloc(1, sizeof(struct html_page));
}

void html_page_free(struct html_page *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->e[i].index);
		free(p->e[i].body);
	}
	for (size_t i = 0; i < p->n_late; i++)
		free(p->late[i]);
	free(p->e);
	free(p->late);
	free(p);
}

static void esc(FILE *f, const char *s)
{
	xml_write_escaped(f, s, strlen(s));
}

static enum kind row_kind(const struct ladder_row *r, bool fin_seen)
{
	/* as the text ladder draws them: stopping short of the receiver */
	if (r->dropped || r->seg == LADDER_SEG_DROP)
		return K_DROP;
	switch (r->seg) {
	case LADDER_SEG_DATA:
		return K_DATA;
	case LADDER_SEG_KA_PROBE:
	case LADDER_SEG_KA_ACK:
		return K_KEEPALIVE;
	case LADDER_SEG_RST:
		return K_RESET;
	case LADDER_SEG_RETRANS:
		return r->err ? K_DROP : K_RETRANSMIT;
	default:
		if (strstr(r->label, "SYN"))
			return K_HANDSHAKE;
		if (strstr(r->label, "FIN") || fin_seen)
			return K_TEARDOWN;
		return K_HANDSHAKE;
	}
}

/* Split a note into lines of at most NOTE_CHARS characters: at "; " when
 * that is not too early, else at a space. Returns the number of lines;
 * starts[i] and lens[i] in bytes. */
static int wrap(const char *s, int max_lines, const char **starts, int *lens)
{
	int n = 0;

	while (*s && n < max_lines) {
		int len = 0, chars = 0, cut = -1, semi = -1;

		/* walk at most NOTE_CHARS characters (UTF-8: count lead bytes) */
		while (s[len] && (chars < NOTE_CHARS || ((unsigned char)s[len] & 0xc0) == 0x80)) {
			if (((unsigned char)s[len] & 0xc0) != 0x80)
				chars++;
			len++;
		}
		if (s[len]) {
			for (int i = len; i > 0; i--) {
				if (s[i] == ' ' && cut < 0)
					cut = i;
				if (s[i] == ' ' && s[i - 1] == ';') {
					semi = i;
					break;
				}
			}
			if (semi > len / 3)
				len = semi;
			else if (cut > 0)
				len = cut;
		}
		starts[n] = s;
		lens[n] = len;
		n++;
		s += len;
		while (*s == ' ')
			s++;
	}
	return n;
}

#define MAX_NOTE_LINES 8

static int note_lines(const struct ladder_row *r, char *buf, size_t len, const char **starts,
		      int *lens)
{
	ladder_row_note(r, buf, len);
	return wrap(buf, MAX_NOTE_LINES, starts, lens);
}

static void put_note(FILE *f, int y, int n, const char **starts, const int *lens, const char *color)
{
	if (!n)
		return;
	fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"%s\">", NOTE_X, y + 4, color);
	for (int i = 0; i < n; i++) {
		fprintf(f, "<tspan x=\"%d\" y=\"%d\">", NOTE_X, y + 4 + i * LINE_H);
		xml_write_escaped(f, starts[i], (size_t)lens[i]);
		fputs("</tspan>", f);
	}
	fputs("</text>\n", f);
}

static void arrow(FILE *f, const struct ladder_row *r, enum kind k, int y)
{
	const char *c = kinds[k].color;
	int from = r->from == 0 ? LEFT_X : RIGHT_X, to = r->from == 0 ? RIGHT_X : LEFT_X;
	int dir = to > from ? 1 : -1, tip = to - dir * 2;
	char label[64];

	ladder_arrow_text(r, label, sizeof(label));
	fprintf(f, "<g class=\"%s\">", kinds[k].name);
	if (k == K_DROP) {
		/* it never left: half a shaft and a cross */
		int mid = (from + to) / 2;

		fprintf(f,
			"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
			"stroke-width=\"2\" stroke-dasharray=\"6 4\"/>",
			from, y, mid, y, c);
		fprintf(f,
			"<path d=\"M%d %dl10 10m0 -10l-10 10\" stroke=\"%s\" stroke-width=\"2\"/>",
			mid - 5, y - 5, c);
	} else {
		fprintf(f,
			"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
			"stroke-width=\"2\"%s/>",
			from, y, tip - dir * 8, y, c,
			k == K_RETRANSMIT ? " stroke-dasharray=\"6 4\"" : "");
		fprintf(f, "<path d=\"M%d %dl%d -5v10z\" fill=\"%s\"/>", tip, y, -dir * 10, c);
	}
	fprintf(f,
		"<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\" "
		"font-weight=\"bold\">",
		(LEFT_X + RIGHT_X) / 2, y - 6, c);
	esc(f, label);
	fputs("</text></g>\n", f);
}

/* A band across both lifelines (an idle gap, a cut story): its white
 * background, then each band draws its own lifeline marks. */
static void band_open(FILE *f, const char *cls, int y)
{
	fprintf(f,
		"<g class=\"%s\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
		"fill=\"#ffffff\"/>",
		cls, LEFT_X - 12, y + 6, RIGHT_X - LEFT_X + 24, IDLE_H - 12);
}

/* the band's words, in the middle, and its end */
static void band_close(FILE *f, const char *text, int y)
{
	fprintf(f,
		"<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\" "
		"font-style=\"italic\">",
		(LEFT_X + RIGHT_X) / 2, y + IDLE_H / 2 + 4, DIM_COLOR);
	esc(f, text);
	fputs("</text></g>\n", f);
}

static void idle_band(FILE *f, uint64_t idle_ns, int y)
{
	char text[64];

	snprintf(text, sizeof(text), "… %.1f s idle …", (double)idle_ns / 1e9);
	band_open(f, "idle", y);
	/* the lifelines broken by the gap */
	for (int x = LEFT_X; x <= RIGHT_X; x += RIGHT_X - LEFT_X)
		fprintf(f,
			"<path d=\"M%d %dl-6 4l12 4l-6 4\" fill=\"none\" stroke=\"%s\" "
			"stroke-width=\"2\"/>",
			x, y + 9, LIFELINE_COLOR);
	band_close(f, text, y);
}

/* the middle of a long story, not kept: a band where it was, as the text
 * ladder's line "… N client events not kept …" */
static void cut_band(FILE *f, uint64_t n, int col, int y)
{
	char text[96];

	snprintf(text, sizeof(text), "… %" PRIu64 " %s events not kept …", n, ladder_role[col]);
	band_open(f, "cut", y);
	for (int x = LEFT_X; x <= RIGHT_X; x += RIGHT_X - LEFT_X)
		fprintf(f,
			"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
			"stroke-width=\"3\" stroke-dasharray=\"2 3\"/>",
			x, y + 6, x, y + IDLE_H - 6, DIM_COLOR);
	band_close(f, text, y);
}

static void put_time(FILE *f, uint64_t off, int y)
{
	fprintf(f,
		"<text x=\"%d\" y=\"%d\" fill=\"%s\" font-family=\"DejaVu Sans Mono, monospace\" "
		"font-size=\"11\">%.6f</text>\n",
		TIME_X, y + 4, DIM_COLOR, (double)off / 1e9);
}

/* the rows drawn: all of them up to HTML_MAX_ROWS */
static size_t rows_drawn(const struct ladder *l)
{
	return l->n_rows < HTML_MAX_ROWS ? l->n_rows : HTML_MAX_ROWS;
}

static int svg_height(const struct ladder *l)
{
	char buf[LADDER_NOTE_MAX + 32];
	const char *starts[MAX_NOTE_LINES];
	int lens[MAX_NOTE_LINES], y = TOP_Y;

	for (size_t i = 0; i < rows_drawn(l); i++) {
		int n = note_lines(&l->rows[i], buf, sizeof(buf), starts, lens);

		if (l->rows[i].idle_ns)
			y += IDLE_H;
		if (l->rows[i].not_kept)
			y += IDLE_H;
		y += ROW_H + (n > 1 ? (n - 1) * LINE_H : 0);
	}
	if (l->n_rows > rows_drawn(l))
		y += ROW_H;
	for (int col = 0; col < 2; col++)
		if (l->not_kept_after[col])
			y += IDLE_H;
	return y;
}

static void svg(FILE *f, const struct ladder *l, size_t n)
{
	char buf[LADDER_NOTE_MAX + 32];
	const char *starts[MAX_NOTE_LINES];
	int lens[MAX_NOTE_LINES], h = svg_height(l), y = TOP_Y;
	bool fin_seen = false;

	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ladder\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Arial, sans-serif\" "
		"font-size=\"12\" role=\"img\" aria-labelledby=\"title-%zu\">\n",
		SVG_W, h, SVG_W, h, n);
	fprintf(f, "<title id=\"title-%zu\">", n);
	esc(f, l->endpoint[0]);
	fputs(" ⇄ ", f);
	esc(f, l->endpoint[1]);
	fputs("</title>\n", f);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", SVG_W, h);
	fprintf(f, "<text x=\"%d\" y=\"24\" fill=\"%s\">time (s)</text>\n", TIME_X, DIM_COLOR);
	for (int col = 0; col < 2; col++) {
		int x = col ? RIGHT_X : LEFT_X;

		fprintf(f,
			"<text x=\"%d\" y=\"24\" text-anchor=\"middle\" font-weight=\"bold\" "
			"font-size=\"14\">%s%s</text>\n",
			x, ladder_role[col], l->end[col] ? "" : " (remote)");
		fprintf(f,
			"<line x1=\"%d\" y1=\"34\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
			"stroke-width=\"3\"%s/>\n",
			x, x, h - 8, LIFELINE_COLOR,
			l->end[col] ? "" : " stroke-dasharray=\"2 4\"");
	}
	for (size_t i = 0; i < rows_drawn(l); i++) {
		const struct ladder_row *r = &l->rows[i];
		int nl = note_lines(r, buf, sizeof(buf), starts, lens);

		if (r->idle_ns) {
			idle_band(f, r->idle_ns, y - ROW_H / 2);
			y += IDLE_H;
		}
		if (r->not_kept) {
			cut_band(f, r->not_kept, r->not_kept_col, y - ROW_H / 2);
			y += IDLE_H;
		}
		put_time(f, r->ts - l->t0, y);
		if (r->kind == LADDER_ROW_NOTE) {
			int x = r->from ? RIGHT_X : LEFT_X;

			fprintf(f,
				"<circle cx=\"%d\" cy=\"%d\" r=\"4\" fill=\"#ffffff\" stroke=\"%s\" "
				"stroke-width=\"2\"/>\n",
				x, y, NOTE_COLOR);
			put_note(f, y, nl, starts, lens, NOTE_COLOR);
		} else {
			enum kind k = row_kind(r, fin_seen);

			if (r->seg == LADDER_SEG_CTRL && strstr(r->label, "FIN"))
				fin_seen = true;
			arrow(f, r, k, y);
			put_note(f, y, nl, starts, lens, NOTE_COLOR);
		}
		y += ROW_H + (nl > 1 ? (nl - 1) * LINE_H : 0);
	}
	if (l->n_rows > rows_drawn(l)) {
		fprintf(f,
			"<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\" "
			"font-weight=\"bold\">… %zu more rows not drawn (a ladder keeps %d) …</text>\n",
			(LEFT_X + RIGHT_X) / 2, y + 4, kinds[K_RESET].color,
			l->n_rows - rows_drawn(l), HTML_MAX_ROWS);
		y += ROW_H;
	}
	for (int col = 0; col < 2; col++) {
		if (l->not_kept_after[col]) {
			cut_band(f, l->not_kept_after[col], col, y - ROW_H / 2);
			y += IDLE_H;
		}
	}
	fputs("</svg>\n", f);
}

static void index_row(FILE *f, const struct ladder *l, size_t n)
{
	fprintf(f, "<tr><td><a href=\"#ladder-%zu\">%zu</a></td><td>", n, n);
	esc(f, l->endpoint[0]);
	fputs("</td><td>", f);
	esc(f, l->endpoint[1]);
	fprintf(f, "</td><td class=\"num\">%.6f s%s</td><td>", (double)(l->t1 - l->t0) / 1e9,
		l->open ? " (open)" : "");
	if (l->first_col >= 0)
		fprintf(f, "%s %s first<br/>", ladder_role[l->first_col],
			l->first_reset ? "reset" : "closed");
	for (int col = 0; col < 2; col++) {
		if (!l->fate[col][0])
			continue;
		fprintf(f, "%s: ", ladder_role[col]);
		esc(f, l->fate[col]);
		fputs(col == 0 && l->fate[1][0] ? "<br/>" : "", f);
	}
	fputs("</td></tr>\n", f);
}

static void section(FILE *f, const struct ladder *l, size_t n)
{
	fprintf(f,
		"<section class=\"conn\" id=\"ladder-%zu\">\n<h2><a href=\"#ladder-%zu\">%zu</a> ",
		n, n, n);
	esc(f, l->endpoint[0]);
	fputs(" <span class=\"both\">⇄</span> ", f);
	esc(f, l->endpoint[1]);
	fputs("</h2>\n<div class=\"scroll\">\n", f);
	svg(f, l, n);
	fputs("</div>\n<p class=\"summary\">", f);
	for (int i = 0; i < l->n_summary; i++) {
		if (i)
			fputs(" · ", f);
		esc(f, l->summary[i]);
	}
	fputs("</p>\n<p class=\"top\"><a href=\"#index\">↑ index</a></p>\n</section>\n", f);
}

/* what f wrote into a memstream, or NULL */
static char *render(void (*fn)(FILE *, const struct ladder *, size_t), const struct ladder *l,
		    size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fn(f, l, n);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

void html_page_add(struct html_page *p, const struct conn *a, const struct conn *b)
{
	struct ladder l;
	struct entry e;

	if (p->n >= HTML_MAX_LADDERS) {
		p->not_drawn++;
		return;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct entry *ne = realloc(p->e, cap * sizeof(*ne));

		if (!ne) {
			p->not_drawn++;
			return;
		}
		p->e = ne;
		p->cap = cap;
	}
	if (ladder_build(&l, a, b)) {
		ladder_free(&l);
		p->not_drawn++;
		return;
	}
	e.index = render(index_row, &l, p->n + 1);
	e.body = render(section, &l, p->n + 1);
	ladder_free(&l);
	if (!e.index || !e.body) {
		free(e.index);
		free(e.body);
		p->not_drawn++;
		return;
	}
	p->e[p->n++] = e;
}

void html_page_late(struct html_page *p, const struct conn *c)
{
	char why[64] = "unknown", *buf = NULL;
	const struct tl_event *close = NULL;
	struct ladder l;
	size_t len = 0;
	FILE *f;

	if (p->n_late >= HTML_MAX_LADDERS) {
		p->late_not_kept++;
		return;
	}
	if (p->n_late == p->cap_late) {
		size_t cap = p->cap_late ? p->cap_late * 2 : 8;
		char **nl = realloc(p->late, cap * sizeof(*nl));

		if (!nl) {
			p->late_not_kept++;
			return;
		}
		p->late = nl;
		p->cap_late = cap;
	}
	for (size_t i = 0; i < c->n_events; i++)
		if (c->events[i].kind == TL_CLOSE)
			close = &c->events[i];
	if (close)
		ladder_close_text(close, why, sizeof(why));
	/* the endpoint as the ladder names it */
	if (ladder_build(&l, c, NULL)) {
		ladder_free(&l);
		p->late_not_kept++;
		return;
	}
	f = open_memstream(&buf, &len);
	if (f) {
		fputs("<li>", f);
		esc(f, l.endpoint[l.end[0] == c ? 0 : 1]);
		fprintf(f, " closed after %.6f s, after its ladder was drawn: ",
			(double)(c->last_ts - c->first_ts) / 1e9);
		esc(f, why);
		fprintf(f, " [%s]</li>\n", close ? cause_name(close->close.cause) : "unknown");
		if (fclose(f)) {
			free(buf);
			buf = NULL;
		}
	}
	ladder_free(&l);
	if (!buf) {
		p->late_not_kept++;
		return;
	}
	p->late[p->n_late++] = buf;
}

static const char css[] =
	"body{font-family:\"DejaVu Sans\",Arial,sans-serif;color:#212121;background:#fafafa;"
	"margin:0 auto;padding:16px 24px;max-width:1040px}\n"
	"h1{font-size:22px;margin:4px 0}\n"
	"h2{font-size:15px;font-weight:normal;margin:0 0 8px}\n"
	"h2 a{font-weight:bold;color:#212121;text-decoration:none}\n"
	".sub{color:#616161;margin:0 0 12px}\n"
	"table.index{border-collapse:collapse;width:100%;font-size:13px;background:#fff}\n"
	"table.index th,table.index td{border:1px solid #e0e0e0;padding:4px 8px;text-align:left;"
	"vertical-align:top}\n"
	"table.index th{background:#eceff1}\n"
	"td.num{white-space:nowrap;text-align:right}\n"
	".legend{margin:12px 0;font-size:13px}\n"
	".legend span{display:inline-block;margin-right:14px}\n"
	".legend i{display:inline-block;width:22px;height:4px;margin-right:5px;"
	"vertical-align:middle}\n"
	"section.conn{background:#fff;border:1px solid #e0e0e0;border-radius:6px;"
	"padding:12px 14px;margin:18px 0}\n"
	".scroll{overflow-x:auto}\n"
	"svg.ladder{display:block;max-width:100%;height:auto}\n"
	".summary{font-weight:bold;font-size:13px;margin:8px 0 0}\n"
	".top{font-size:12px;margin:4px 0 0}\n"
	".warn{color:#c62828;font-weight:bold}\n";

int html_page_write(const struct html_page *p, FILE *f, const char *subtitle)
{
	size_t total = p->n + p->not_drawn;

	fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
	      "<head>\n<meta charset=\"utf-8\"/>\n",
	      f);
	fprintf(f, "<title>tcptimeline: %zu connection%s</title>\n", total, total == 1 ? "" : "s");
	fprintf(f, "<style>\n%s</style>\n</head>\n<body>\n", css);
	fprintf(f, "<h1 id=\"index\">tcptimeline: %zu connection%s</h1>\n", total,
		total == 1 ? "" : "s");
	if (subtitle) {
		fputs("<p class=\"sub\">", f);
		esc(f, subtitle);
		fputs("</p>\n", f);
	}
	if (p->not_drawn)
		fprintf(f,
			"<p class=\"warn\">%zu connection%s not drawn: the page keeps %d "
			"ladders (or memory ran out)</p>\n",
			p->not_drawn, p->not_drawn == 1 ? "" : "s", HTML_MAX_LADDERS);
	fputs("<p class=\"legend\">", f);
	for (int k = 0; k < K_N; k++) {
		fprintf(f, "<span class=\"%s\"><i style=\"background:%s\"></i>", kinds[k].name,
			kinds[k].color);
		esc(f, kinds[k].what);
		fputs("</span>", f);
	}
	fputs("</p>\n", f);
	if (p->n) {
		fputs("<table class=\"index\">\n<tr><th>ladder</th><th>client</th><th>server</th>"
		      "<th>lasted</th><th>how it ended</th></tr>\n",
		      f);
		for (size_t i = 0; i < p->n; i++)
			fputs(p->e[i].index, f);
		fputs("</table>\n", f);
	} else {
		fputs("<p>No connection was seen.</p>\n", f);
	}
	if (p->n_late || p->late_not_kept) {
		fputs("<h2>Closed after their ladder was drawn</h2>\n<ul>\n", f);
		for (size_t i = 0; i < p->n_late; i++)
			fputs(p->late[i], f);
		if (p->late_not_kept)
			fprintf(f, "<li class=\"warn\">%zu more not kept</li>\n", p->late_not_kept);
		fputs("</ul>\n", f);
	}
	for (size_t i = 0; i < p->n; i++)
		fputs(p->e[i].body, f);
	fputs("</body>\n</html>\n", f);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
