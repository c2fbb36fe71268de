/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Ladders in a browser: one self-contained HTML page (inline SVG and CSS,
 * nothing fetched, no script) with a ladder per connection, drawn from the
 * same ladder_model as the text ladder, and an index of the connections at
 * the top. Connections are added as their ladders are due (ladder_queue's
 * draw callback) and rendered then, since the table may forget them later;
 * the page is written once, at the end.
 *
 * Bounded: at most HTML_MAX_LADDERS ladders and HTML_MAX_ROWS rows per
 * ladder; what is cut is counted and said on the page.
 */
#ifndef RENDER_HTML_H
#define RENDER_HTML_H

#include <stdio.h>
#include "conn_table.h"

#define HTML_MAX_LADDERS 1000
#define HTML_MAX_ROWS	 2000

struct html_page;

struct html_page *html_page_new(void);
void html_page_free(struct html_page *p);

/* The ladder of a (b: its other end on this host, or NULL; see render_ladder). */
void html_page_add(struct html_page *p, const struct conn *a, const struct conn *b);
/* An end that closed after its ladder was drawn (render_ladder_late). */
void html_page_late(struct html_page *p, const struct conn *c);

/*
 * Write the page. subtitle: one line under the title (what was traced and
 * when; NULL for none). 0, or -EIO when f reports a write error.
 */
int html_page_write(const struct html_page *p, FILE *f, const char *subtitle);

#endif /* RENDER_HTML_H */
