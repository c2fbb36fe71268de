/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared helpers of demo-server and demo-client: options, scenarios, logging. */
#ifndef TCPTIMELINE_DEMO_COMMON_H
#define TCPTIMELINE_DEMO_COMMON_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

enum scenario {
	SC_NORMAL,
	SC_SERVER_FIRST,
	SC_CLIENT_EXIT,
	SC_KILL_CLIENT,
	SC_KILL_SERVER_IDLE,
	SC_KEEPALIVE,
	SC_REFUSED,
	SC_HALF_CLOSE,
	SC_COUNT
};

struct demo_opts {
	int port; /* default 9000 */
	int ipv6; /* -6: ::1 instead of 127.0.0.1 */
	int fast; /* --fast: short keepalive timers */
	enum scenario sc;
};

/* The application payloads: a 29-byte request and a 4-byte reply. */
#define DEMO_REQUEST	 "GET /tcptimeline HTTP/1.0\r\n\r\n"
#define DEMO_REQUEST_LEN (sizeof(DEMO_REQUEST) - 1)
#define DEMO_REPLY	 "OK\r\n"
#define DEMO_REPLY_LEN	 (sizeof(DEMO_REPLY) - 1)

/* Keepalive settings of the keepalive scenario (seconds). */
#define KA_IDLE	      6
#define KA_INTVL      6
#define KA_IDLE_FAST  1
#define KA_INTVL_FAST 1
#define KA_CNT	      9
#define KA_PROBES     3 /* how many probes the client waits for */

/* Exit statuses. */
#define EXIT_OK		0 /* the scenario behaved as expected */
#define EXIT_UNEXPECTED 1 /* something other than the expected happened */
#define EXIT_USAGE	2
#define EXIT_TIMEOUT	3 /* the watchdog fired */

extern const char *demo_prog; /* "demo-server" / "demo-client" */

const char *scenario_name(enum scenario sc);
/* Parses argv; prints usage and exits 0 on -h, one line and exits 2 on misuse. */
void demo_parse_args(int argc, char **argv, struct demo_opts *o);

/* printf-like, one line to stdout prefixed by "demo_prog: ". */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The last line of a scenario, and the exit status that goes with it. */
int demo_finish(int ok);
/* Wait for a child we sent SIGKILL; 1 if SIGKILL is what ended it. */
int demo_reap_killed(pid_t child);
/* "ECONNRESET", "EPIPE", ... (or "errno N"). */
const char *errname(int e);

/* Loopback address of the chosen family and port. */
socklen_t demo_addr(const struct demo_opts *o, struct sockaddr_storage *ss, int port);
/* "127.0.0.1:9000" / "[::1]:9000" in a static buffer (one of two alternating). */
const char *fmt_addr(const struct sockaddr *sa);
const char *fmt_local(int fd);
const char *fmt_peer(int fd);

/* Arms SIGALRM: after secs, print a line and _exit(EXIT_TIMEOUT). */
void arm_watchdog(unsigned int secs);
unsigned int watchdog_secs(const struct demo_opts *o);
/* On timeout, SIGKILL and reap this child too (0: none). */
void watchdog_reap(pid_t child);

/* Logged socket calls. Each prints one line and returns what the call returned
 * (errno preserved). */
ssize_t log_send(int fd, const void *buf, size_t len);
ssize_t log_recv(int fd, void *buf, size_t len);
/* Receives exactly len bytes (several recv() calls if needed). Returns len, or
 * the short count on EOF, or -1 (errno set). */
ssize_t recv_exact(int fd, void *buf, size_t len);
/* Receives until EOF. Returns the total, or -1 (errno set). */
ssize_t recv_until_eof(int fd, void *buf, size_t len);
int log_close(int fd, const char *what);

/* Child of a fork: dies with the parent (PR_SET_PDEATHSIG SIGKILL). */
void die_with_parent(pid_t parent);

#endif
