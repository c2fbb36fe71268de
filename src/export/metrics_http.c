// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The --metrics endpoint: libmicrohttpd with its internal polling thread.
 * We make the listening socket ourselves so a bad address or a port in use
 * gets a precise one-line error (libmicrohttpd only says it failed), and so
 * it is bound before privileges are dropped.
 */
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "metrics_http.h"

struct metrics_http {
	struct MHD_Daemon *d;
	pthread_mutex_t mu;
	char *text; /* the latest snapshot */
	size_t len;
	uint64_t requests;
};

static const char not_found[] = "not found: the metrics are at /metrics\n";
static const char starting[] = "tcptimeline is attaching its programs\n";

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct metrics_http *m = cls;
	struct MHD_Response *resp;
	unsigned int status = MHD_HTTP_OK;
	enum MHD_Result ret;
	char *body = NULL;
	size_t len = 0;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, "Allow", "GET, HEAD");
		ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (strcmp(url, "/metrics")) {
		resp = MHD_create_response_from_buffer(sizeof(not_found) - 1, (void *)not_found,
						       MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_FOUND;
	} else {
		bool ready;

		pthread_mutex_lock(&m->mu);
		ready = m->text != NULL;
		if (ready && (body = malloc(m->len ? m->len : 1))) {
			memcpy(body, m->text, m->len);
			len = m->len;
		}
		m->requests++;
		pthread_mutex_unlock(&m->mu);
		if (!ready) {
			/* bound before the programs are loaded: nothing to say yet */
			resp = MHD_create_response_from_buffer(
				sizeof(starting) - 1, (void *)starting, MHD_RESPMEM_PERSISTENT);
			if (!resp)
				return MHD_NO;
			ret = MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
			MHD_destroy_response(resp);
			return ret;
		}
		if (!body)
			return MHD_NO;
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
		if (!resp) {
			free(body);
			return MHD_NO;
		}
		MHD_add_response_header(resp, "Content-Type",
					"text/plain; version=0.0.4; charset=utf-8");
	}
	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int listen_on(uint8_t family, const char *addr, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, zero = 0, e;

	memset(&ss, 0, sizeof(ss));
	if (family == 4) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (family == 6)
			inet_pton(AF_INET6, addr, &a->sin6_addr);
		else
			a->sin6_addr = in6addr_any;
		sl = sizeof(*a);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && family == 0 && errno == EAFNOSUPPORT)
		return listen_on(4, "0.0.0.0", port, err, errlen); /* no IPv6 here */
	if (fd < 0) {
		snprintf(err, errlen, "--metrics: cannot make a socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == 0) /* [::] takes IPv4 too */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 64)) {
		e = errno;
		close(fd);
		if (e == EADDRINUSE)
			snprintf(err, errlen,
				 "--metrics: port %u is in use on %s: choose another port or stop "
				 "what listens there",
				 port, family ? addr : "every address");
		else if (e == EADDRNOTAVAIL)
			snprintf(err, errlen,
				 "--metrics: %s is not an address of this host: use one it has, "
				 "or :%u for every address",
				 addr, port);
		else
			snprintf(err, errlen, "--metrics: cannot listen on %s port %u: %s",
				 family ? addr : "every address", port, strerror(e));
		return -1;
	}
	return fd;
}

struct metrics_http *metrics_http_start(uint8_t family, const char *addr, uint16_t port, char *err,
					size_t errlen)
{
	struct metrics_http *m = calloc(1, sizeof(*m));
	int fd;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->mu, NULL);
	fd = listen_on(family, addr, port, err, errlen);
	if (fd < 0) {
		pthread_mutex_destroy(&m->mu);
		free(m);
		return NULL;
	}
	/* a scraper needs one connection; a few more for curl beside it. A
	 * slow or stuck client is cut after 10 s. */
	m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL,
				handle, m, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)16,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_END);
	if (!m->d) {
		snprintf(err, errlen, "--metrics: the HTTP server (libmicrohttpd) did not start");
		close(fd);
		pthread_mutex_destroy(&m->mu);
		free(m);
		return NULL;
	}
	return m;
}

void metrics_http_publish(struct metrics_http *m, char *text, size_t len)
{
	char *old;

	pthread_mutex_lock(&m->mu);
	old = m->text;
	m->text = text;
	m->len = len;
	pthread_mutex_unlock(&m->mu);
	free(old);
}

uint64_t metrics_http_requests(struct metrics_http *m)
{
	uint64_t n;

	pthread_mutex_lock(&m->mu);
	n = m->requests;
	pthread_mutex_unlock(&m->mu);
	return n;
}

void metrics_http_stop(struct metrics_http *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	pthread_mutex_destroy(&m->mu);
	free(m->text);
	free(m);
}
