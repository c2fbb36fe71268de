/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Ladder diagrams: one connection drawn as the picture a person draws on a
 * whiteboard, client on the left, server on the right, one row per segment.
 * Pure functions of the events the connection table keeps (c->events); the
 * rows come from ladder_model, this draws them as text.
 */
#ifndef RENDER_LADDER_H
#define RENDER_LADDER_H

#include <stdio.h>
#include "conn_table.h"
#include "ladder_model.h"
#include "render.h"

#define LADDER_WIDTH 100 /* no line is wider than this (in characters) */

/*
 * Draw a connection. b: the other end of the same connection when it is on
 * this host too (the mirror 4-tuple, see conn_is_mirror), or NULL: the remote
 * end is then drawn from what a's kernel sent and received. Only o->color is
 * used. Ends with a blank line.
 */
void render_ladder(FILE *f, const struct conn *a, const struct conn *b,
		   const struct render_opts *o);

/* One line for an end that closed after its diagram was drawn (its mirror
 * closed long before: see ladder_queue). */
void render_ladder_late(FILE *f, const struct conn *c, const struct render_opts *o);

#endif /* RENDER_LADDER_H */
