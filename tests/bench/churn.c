// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * churn - loopback TCP connection-churn generator for the tcptimeline
 * benchmark.
 *
 * A server (T accept threads sharing one listening socket on
 * 127.0.0.1:PORT) and W client threads.  Each client loops, for a fixed
 * duration:
 *
 *	connect -> send a small request -> read the reply -> close
 *
 * and the server answers: accept -> read request -> write reply -> close.
 *
 * Who closes first decides who holds TIME_WAIT, and what limits the rate:
 *
 * - default: the server closes right after its reply (the client reads
 *   EOF, then closes).  TIME_WAIT sits on the server side, keyed by the
 *   client's port (bounded by net.ipv4.tcp_max_tw_buckets; beyond it
 *   sockets skip TIME_WAIT), client ports are free again at once, and the
 *   rate is limited by CPU only (25,000-29,000 conn/s on 2 CPUs here).
 *
 * - -c: the client closes first (the server waits for its FIN).  TIME_WAIT
 *   lands on the client's ephemeral ports; net.ipv4.tcp_tw_reuse (default
 *   2: loopback) lets connect() take one over once it is older than
 *   net.ipv4.tcp_tw_reuse_delay (default 1 s).  The rate is then capped by
 *   how fast ports come free, whatever the CPU (measured with the default
 *   28,232 ports: ~14,500 conn/s at 1 s, ~9,800 at 2 s, ~26,000 and
 *   CPU-bound at 0.5 s), and spare CPU is burnt in connect()'s port
 *   search: a tracer's cost hides in that slack until it exceeds it.  This
 *   is the ~14,000 conn/s load the project's first performance targets
 *   were set on (README.md, Performance; docs/architecture.md, "Where the
 *   cost is").
 *
 * Both make 10 state changes and 5 tcp_probe firings per connection.
 *
 * Only ever talks to 127.0.0.1.  The last line of output is machine
 * readable:
 *
 *	churn conns=N secs=S rate=R errors=E cpu=C
 *
 * cpu is this process's own utime+stime in seconds (softirq work done
 * on its behalf included).
 */
#define _GNU_SOURCE
#include "bench_util.h"
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ_LEN	    64
#define REPLY_LEN   16
#define MAX_THREADS 256

static int port = 7777;
static int workers = 4;
static int servers; /* 0: same as workers */
static double duration = 5.0;
static bool client_closes_first;

static int listen_fd = -1;
static atomic_bool stop_clients;
static atomic_bool stop_servers;
static pthread_barrier_t start_barrier;

struct worker {
	pthread_t thread;
	uint64_t conns;
	uint64_t errors;
	int last_errno;
};

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes; returns 0, or -1 on error or early EOF. */
static int read_full(int fd, char *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Wait for the peer's FIN; returns 0 on clean EOF. */
static int read_eof(int fd)
{
	char c[64];

	for (;;) {
		ssize_t n = read(fd, c, sizeof(c));

		if (n == 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
	}
}

static void *server_main(void *arg)
{
	struct worker *w = arg;
	char req[REQ_LEN];
	char reply[REPLY_LEN];

	memset(reply, 'R', sizeof(reply));
	pthread_barrier_wait(&start_barrier);
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0) {
			if (atomic_load(&stop_servers))
				break;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			w->errors++;
			w->last_errno = errno;
			continue;
		}
		if (read_full(fd, req, sizeof(req)) || write_all(fd, reply, sizeof(reply)) ||
		    (client_closes_first && read_eof(fd))) {
			if (!atomic_load(&stop_servers)) {
				w->errors++;
				w->last_errno = errno;
			}
		} else {
			w->conns++;
		}
		close(fd);
	}
	return NULL;
}

static void *client_main(void *arg)
{
	struct worker *w = arg;
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	char req[REQ_LEN];
	char reply[REPLY_LEN];

	memset(req, 'Q', sizeof(req));
	pthread_barrier_wait(&start_barrier);
	while (!atomic_load_explicit(&stop_clients, memory_order_relaxed)) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int err = 0;

		if (fd < 0) {
			w->errors++;
			w->last_errno = errno;
			continue;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    write_all(fd, req, sizeof(req)) || read_full(fd, reply, sizeof(reply)))
			err = errno;
		else if (!client_closes_first && read_eof(fd))
			err = errno;
		close(fd);
		if (err) {
			w->errors++;
			w->last_errno = err;
			/* Do not spin on a persistent error (e.g. EADDRNOTAVAIL). */
			if (err == EADDRNOTAVAIL || err == ECONNREFUSED)
				usleep(1000);
		} else {
			w->conns++;
		}
	}
	return NULL;
}

static void usage(const char *prog, int status)
{
	fprintf(status ? stderr : stdout,
		"Usage: %s [-p PORT] [-w WORKERS] [-s SERVERS] [-d SECS] [-c]\n"
		"Loopback (127.0.0.1) TCP connection churn.\n"
		"  -p PORT     listen port (default 7777)\n"
		"  -w WORKERS  client threads (default 4)\n"
		"  -s SERVERS  server accept threads (default: = WORKERS)\n"
		"  -d SECS     duration in seconds (default 5)\n"
		"  -c          client closes first (default: the server does);\n"
		"              its TIME_WAIT ports are recycled through\n"
		"              net.ipv4.tcp_tw_reuse, which caps the rate\n",
		prog);
	exit(status);
}

int main(int argc, char **argv)
{
	static struct worker clients[MAX_THREADS], srv[MAX_THREADS];
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = 0,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	uint64_t conns = 0, errors = 0, srv_conns = 0, srv_errors = 0;
	int last_errno = 0;
	double t0, t1, secs;
	int one = 1;
	int opt, i;

	while ((opt = getopt(argc, argv, "p:w:s:d:ch")) != -1) {
		switch (opt) {
		case 'p':
			port = (int)parse_long("churn", optarg, 1, 65535, "port");
			break;
		case 'w':
			workers = (int)parse_long("churn", optarg, 1, MAX_THREADS, "workers");
			break;
		case 's':
			servers = (int)parse_long("churn", optarg, 1, MAX_THREADS, "servers");
			break;
		case 'd':
			duration = parse_secs("churn", optarg);
			break;
		case 'c':
			client_closes_first = true;
			break;
		case 'h':
			usage(argv[0], 0);
			break;
		default:
			usage(argv[0], 2);
		}
	}
	if (optind != argc)
		usage(argv[0], 2);
	if (!servers)
		servers = workers;

	signal(SIGPIPE, SIG_IGN);

	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0) {
		perror("churn: socket");
		return 1;
	}
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_port = htons((uint16_t)port);
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(listen_fd, 4096)) {
		fprintf(stderr, "churn: bind/listen 127.0.0.1:%d: %s\n", port, strerror(errno));
		return 1;
	}

	if (pthread_barrier_init(&start_barrier, NULL, (unsigned int)(workers + servers + 1))) {
		fprintf(stderr, "churn: pthread_barrier_init failed\n");
		return 1;
	}
	for (i = 0; i < servers; i++) {
		if (pthread_create(&srv[i].thread, NULL, server_main, &srv[i])) {
			fprintf(stderr, "churn: pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < workers; i++) {
		if (pthread_create(&clients[i].thread, NULL, client_main, &clients[i])) {
			fprintf(stderr, "churn: pthread_create failed\n");
			return 1;
		}
	}

	pthread_barrier_wait(&start_barrier);
	t0 = now();
	for (;;) {
		double left = t0 + duration - now();
		struct timespec ts;

		if (left <= 0)
			break;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	atomic_store(&stop_clients, true);
	for (i = 0; i < workers; i++) {
		pthread_join(clients[i].thread, NULL);
		conns += clients[i].conns;
		errors += clients[i].errors;
		if (clients[i].last_errno)
			last_errno = clients[i].last_errno;
	}
	t1 = now();
	secs = t1 - t0;

	/* Wake the accept threads: shutdown() on a listener aborts accept(). */
	atomic_store(&stop_servers, true);
	shutdown(listen_fd, SHUT_RDWR);
	for (i = 0; i < servers; i++) {
		pthread_join(srv[i].thread, NULL);
		srv_conns += srv[i].conns;
		srv_errors += srv[i].errors;
		if (srv[i].last_errno && !last_errno)
			last_errno = srv[i].last_errno;
	}
	close(listen_fd);

	if (last_errno)
		fprintf(stderr, "churn: last error: %s\n", strerror(last_errno));
	printf("# churn 127.0.0.1:%d workers=%d servers=%d close=%s "
	       "server_conns=%llu server_errors=%llu\n",
	       port, workers, servers, client_closes_first ? "client-first" : "server-first",
	       (unsigned long long)srv_conns, (unsigned long long)srv_errors);
	printf("churn conns=%llu secs=%.3f rate=%.1f errors=%llu cpu=%.3f\n",
	       (unsigned long long)conns, secs, conns / secs,
	       (unsigned long long)(errors + srv_errors), cpu_secs());
	return 0;
}
