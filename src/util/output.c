// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "output.h"

#define OUTPUT_BLOCK (64 * 1024)

struct output {
	int fd;
	int err; /* first failed write's errno */
	char buf[OUTPUT_BLOCK];
};

static ssize_t output_write(void *cookie, const char *data, size_t len)
{
	struct output *o = cookie;
	size_t done = 0;

	if (o->err)
		return 0;
	while (done < len) {
		ssize_t n = write(o->fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->err = n < 0 ? errno : EIO;
			/* a write function reports an error by returning 0 */
			return 0;
		}
		done += (size_t)n;
	}
	return (ssize_t)len;
}

/* output_error needs the cookie back from the FILE: kept here, the tracer
 * opens one output */
static struct output *last_opened;
static FILE *last_file;

static int output_close(void *cookie)
{
	if (cookie == last_opened) {
		last_opened = NULL;
		last_file = NULL;
	}
	free(cookie);
	return 0;
}

FILE *output_open(int fd, bool line_buffered)
{
	cookie_io_functions_t io = { .write = output_write, .close = output_close };
	struct output *o = calloc(1, sizeof(*o));
	FILE *f;

	if (!o)
		return NULL;
	o->fd = fd;
	f = fopencookie(o, "w", io);
	if (!f) {
		free(o);
		return NULL;
	}
	setvbuf(f, o->buf, line_buffered ? _IOLBF : _IOFBF, sizeof(o->buf));
	last_opened = o;
	last_file = f;
	return f;
}

int output_error(FILE *f)
{
	if (f != last_file || !last_opened)
		return ferror(f) ? EIO : 0;
	return last_opened->err;
}
