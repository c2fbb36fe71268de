// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bulk - loopback small-write bulk stream for the tcptimeline benchmark.
 *
 * One long TCP connection over 127.0.0.1: a sender thread write()s small
 * chunks (default 256 B, TCP_NODELAY) for a fixed duration, a receiver
 * thread reads them.  Small writes make many small segments, so a tracer
 * hooked on per-segment tracepoints (tcp_probe fires for every segment
 * handled by tcp_rcv_established: data on the receiver, ACKs on the
 * sender) pays its per-event cost as often as it can be made to.
 *
 * Only ever talks to 127.0.0.1.  The last line of output is machine
 * readable:
 *
 *	bulk bytes=N secs=S gbps=G writes=W errors=E cpu=C
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
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_WRITE (1 << 20)
#define READ_BUF  (256 << 10)

static int port = 7778;
static size_t write_size = 256;
static double duration = 5.0;
static bool nodelay = true;
static int tx_cpu = -1, rx_cpu = -1;

static int server_fd = -1; /* receiver's accepted socket */
static uint64_t rx_bytes;
static int rx_errno;
static double rx_end;

static int pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *receiver_main(void *arg)
{
	char *buf = malloc(READ_BUF);

	(void)arg;
	if (pin(rx_cpu))
		fprintf(stderr, "bulk: cannot pin receiver to CPU %d\n", rx_cpu);
	if (!buf) {
		rx_errno = ENOMEM;
		return NULL;
	}
	for (;;) {
		ssize_t n = read(server_fd, buf, READ_BUF);

		if (n > 0) {
			rx_bytes += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rx_errno = errno;
		break;
	}
	rx_end = now();
	free(buf);
	return NULL;
}

static void usage(const char *prog, int status)
{
	fprintf(status ? stderr : stdout,
		"Usage: %s [-p PORT] [-s WRITE_BYTES] [-d SECS] [-N] [-C TX,RX]\n"
		"One loopback (127.0.0.1) TCP stream made of small writes.\n"
		"  -p PORT         port (default 7778)\n"
		"  -s WRITE_BYTES  bytes per write() (default 256)\n"
		"  -d SECS         duration in seconds (default 5)\n"
		"  -N              leave Nagle on (default: TCP_NODELAY)\n"
		"  -C TX,RX        pin the sender thread to CPU TX, the receiver\n"
		"                  to CPU RX (default: not pinned)\n",
		prog);
	exit(status);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	uint64_t writes = 0, errors = 0;
	pthread_t rx;
	double t0, deadline, secs;
	char *buf;
	int lfd, cfd, one = 1, opt;

	while ((opt = getopt(argc, argv, "p:s:d:NC:h")) != -1) {
		switch (opt) {
		case 'p':
			port = (int)parse_long("bulk", optarg, 1, 65535, "port");
			break;
		case 's':
			write_size = (size_t)parse_long("bulk", optarg, 1, MAX_WRITE, "write size");
			break;
		case 'd':
			duration = parse_secs("bulk", optarg);
			break;
		case 'N':
			nodelay = false;
			break;
		case 'C':
			if (sscanf(optarg, "%d,%d", &tx_cpu, &rx_cpu) != 2 || tx_cpu < 0 ||
			    rx_cpu < 0) {
				fprintf(stderr, "bulk: bad -C '%s' (TX,RX)\n", optarg);
				return 2;
			}
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

	signal(SIGPIPE, SIG_IGN);
	buf = malloc(write_size);
	if (!buf) {
		perror("bulk: malloc");
		return 1;
	}
	memset(buf, 'B', write_size);

	sa.sin_port = htons((uint16_t)port);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		perror("bulk: socket");
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1)) {
		fprintf(stderr, "bulk: bind/listen 127.0.0.1:%d: %s\n", port, strerror(errno));
		return 1;
	}
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("bulk: connect");
		return 1;
	}
	server_fd = accept(lfd, NULL, NULL);
	if (server_fd < 0) {
		perror("bulk: accept");
		return 1;
	}
	close(lfd);
	if (nodelay)
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	if (pthread_create(&rx, NULL, receiver_main, NULL)) {
		fprintf(stderr, "bulk: pthread_create failed\n");
		return 1;
	}

	if (pin(tx_cpu))
		fprintf(stderr, "bulk: cannot pin sender to CPU %d\n", tx_cpu);
	t0 = now();
	deadline = t0 + duration;
	for (;;) {
		ssize_t n = write(cfd, buf, write_size);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			errors++;
			perror("bulk: write");
			break;
		}
		writes++;
		/* Reading the clock every 64 writes keeps its cost negligible. */
		if (!(writes & 63) && now() >= deadline)
			break;
	}
	shutdown(cfd, SHUT_WR);
	pthread_join(rx, NULL);
	close(cfd);
	close(server_fd);
	if (rx_errno) {
		fprintf(stderr, "bulk: read: %s\n", strerror(rx_errno));
		errors++;
	}

	secs = rx_end - t0;
	printf("# bulk 127.0.0.1:%d write=%zu nodelay=%d\n", port, write_size, nodelay ? 1 : 0);
	printf("bulk bytes=%llu secs=%.3f gbps=%.3f writes=%llu errors=%llu "
	       "cpu=%.3f\n",
	       (unsigned long long)rx_bytes, secs, rx_bytes * 8 / secs / 1e9,
	       (unsigned long long)writes, (unsigned long long)errors, cpu_secs());
	free(buf);
	return 0;
}
