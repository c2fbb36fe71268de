/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The tracer's stdout: a stdio stream over file descriptor 1 whose writes
 * remember the first error (ENOSPC on a full disk, EIO, EPIPE), so that a
 * failed write is reported with its cause instead of being lost inside
 * stdio's buffering. Written in large blocks when it is not a terminal.
 */
#ifndef OUTPUT_H
#define OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

/* A stream writing to fd: fully buffered in 64 KiB blocks, or line
 * buffered when line_buffered (a terminal). NULL on failure. */
FILE *output_open(int fd, bool line_buffered);
/* The errno of the first write on f that failed, 0 if none; f must come
 * from output_open. */
int output_error(FILE *f);

#endif /* OUTPUT_H */
