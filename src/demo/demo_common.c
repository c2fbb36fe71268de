// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Shared helpers of demo-server and demo-client: options, scenarios, logging. */
#include "demo_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

_Static_assert(DEMO_REQUEST_LEN == 29, "the request is 29 bytes");
_Static_assert(DEMO_REPLY_LEN == 4, "the reply is 4 bytes");

static const char *const scenario_names[SC_COUNT] = {
	[SC_NORMAL] = "normal",
	[SC_SERVER_FIRST] = "server-first",
	[SC_CLIENT_EXIT] = "client-exit",
	[SC_KILL_CLIENT] = "kill-client",
	[SC_KILL_SERVER_IDLE] = "kill-server-idle",
	[SC_KEEPALIVE] = "keepalive",
	[SC_REFUSED] = "refused",
	[SC_HALF_CLOSE] = "half-close",
};

static const char *const scenario_help[SC_COUNT] = {
	[SC_NORMAL] = "request/reply, the client close()s first",
	[SC_SERVER_FIRST] = "request/reply, the server close()s first",
	[SC_CLIENT_EXIT] = "request/reply, the client exit()s with the socket open",
	[SC_KILL_CLIENT] = "the client is SIGKILLed with unread data: its kernel sends RST",
	[SC_KILL_SERVER_IDLE] =
		"the idle server is SIGKILLed (FIN); the client sends, gets RST, then EPIPE",
	[SC_KEEPALIVE] = "the client's keepalive probes over an idle connection, answered by ACKs",
	[SC_REFUSED] = "connect() to a port with no listener: RST, ECONNREFUSED",
	[SC_HALF_CLOSE] =
		"the client shutdown(SHUT_WR)s after its request, the server replies after EOF",
};

const char *demo_prog = "demo";

const char *scenario_name(enum scenario sc)
{
	return (unsigned)sc < SC_COUNT ? scenario_names[sc] : "?";
}

static void usage(FILE *f)
{
	fprintf(f, "usage: %s [-p PORT] [-6] [--fast] SCENARIO\n", demo_prog);
	fprintf(f, "  -p, --port PORT  TCP port on loopback (default 9000)\n");
	fprintf(f, "  -6               IPv6 (::1) instead of 127.0.0.1\n");
	fprintf(f,
		"  --fast           short timers (keepalive idle/interval 1 s instead of 6 s)\n");
	fprintf(f, "  -h, --help       this help\n");
	fprintf(f, "scenarios:\n");
	for (int i = 0; i < SC_COUNT; i++)
		fprintf(f, "  %-17s %s\n", scenario_names[i], scenario_help[i]);
	fprintf(f,
		"demo-server serves one connection and exits; it prints\n"
		"\"demo-server: listening on PORT\" once it listens (not in \"refused\", where it\n"
		"exits at once). Exit status: 0 when the scenario behaved as expected,\n"
		"1 otherwise, 2 on bad usage, 3 on timeout.\n");
}

static void __attribute__((noreturn)) bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", demo_prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (try -h)\n");
	exit(EXIT_USAGE);
}

void demo_parse_args(int argc, char **argv, struct demo_opts *o)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "fast", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->port = 9000;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:6h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > 65535)
				bad_usage("bad port '%s'", optarg);
			o->port = (int)v;
			break;
		}
		case '6':
			o->ipv6 = 1;
			break;
		case 'f':
			o->fast = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			bad_usage("option '%s' needs an argument", argv[optind - 1]);
		default:
			bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		bad_usage("%s", "missing SCENARIO");
	if (argc - optind > 1)
		bad_usage("unexpected argument '%s'", argv[optind + 1]);
	for (int i = 0; i < SC_COUNT; i++) {
		if (strcmp(argv[optind], scenario_names[i]) == 0) {
			o->sc = (enum scenario)i;
			return;
		}
	}
	bad_usage("unknown scenario '%s'", argv[optind]);
}

void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one write per line: no interleaving with the other process */
	printf("%s: %s\n", demo_prog, line);
	fflush(stdout);
}

const char *errname(int e)
{
	static char buf[32];

	switch (e) {
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ECONNRESET:
		return "ECONNRESET";
	case ECONNABORTED:
		return "ECONNABORTED";
	case EPIPE:
		return "EPIPE";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case ENOTCONN:
		return "ENOTCONN";
	case EAGAIN:
		return "EAGAIN";
	case EINTR:
		return "EINTR";
	case EADDRINUSE:
		return "EADDRINUSE";
	case EADDRNOTAVAIL:
		return "EADDRNOTAVAIL";
	case EAFNOSUPPORT:
		return "EAFNOSUPPORT";
	case EHOSTUNREACH:
		return "EHOSTUNREACH";
	case ENETUNREACH:
		return "ENETUNREACH";
	case EINVAL:
		return "EINVAL";
	case EBADF:
		return "EBADF";
	case EACCES:
		return "EACCES";
	case EPERM:
		return "EPERM";
	case EMFILE:
		return "EMFILE";
	case ENOBUFS:
		return "ENOBUFS";
	case ENOMEM:
		return "ENOMEM";
	default:
		snprintf(buf, sizeof(buf), "errno %d", e);
		return buf;
	}
}

socklen_t demo_addr(const struct demo_opts *o, struct sockaddr_storage *ss, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (o->ipv6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_addr = in6addr_loopback;
		return sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*s4);
	}
}

const char *fmt_addr(const struct sockaddr *sa)
{
	static char bufs[2][INET6_ADDRSTRLEN + 16];
	static int which;
	char ip[INET6_ADDRSTRLEN];
	char *b = bufs[which];

	which ^= 1;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(b, sizeof(bufs[0]), "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(b, sizeof(bufs[0]), "%s:%u", ip, ntohs(s4->sin_port));
	} else {
		snprintf(b, sizeof(bufs[0]), "?");
	}
	return b;
}

const char *fmt_local(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return "?";
	return fmt_addr((struct sockaddr *)&ss);
}

const char *fmt_peer(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return "?";
	return fmt_addr((struct sockaddr *)&ss);
}

static char watchdog_msg[128];
static size_t watchdog_len;
static volatile pid_t watchdog_child;

static void on_alarm(int sig)
{
	pid_t child = watchdog_child;

	(void)sig;
	if (write(STDOUT_FILENO, watchdog_msg, watchdog_len) < 0) {
		/* nothing more to do */
	}
	if (child > 0) {
		/* take the child along, and reap it: no orphan, no zombie */
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	_exit(EXIT_TIMEOUT);
}

void watchdog_reap(pid_t child)
{
	watchdog_child = child;
}

void arm_watchdog(unsigned int secs)
{
	struct sigaction sa;
	int n;

	watchdog_child = 0;
	n = snprintf(watchdog_msg, sizeof(watchdog_msg),
		     "%s: pid %d: timeout after %u s, giving up\n", demo_prog, (int)getpid(), secs);
	watchdog_len = n > 0 && (size_t)n < sizeof(watchdog_msg) ? (size_t)n : 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(secs);
}

unsigned int watchdog_secs(const struct demo_opts *o)
{
	/* well above the longest scenario: keepalive, ~3.5 s fast, ~19 s slow */
	return o->fast ? 20 : 60;
}

ssize_t log_send(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;

		say("send() %zu bytes -> %s", len, errname(e));
		errno = e;
	} else {
		say("send() %zd bytes ok", n);
	}
	return n;
}

ssize_t log_recv(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;

		say("recv() -> %s", errname(e));
		errno = e;
	} else if (n == 0) {
		say("recv() -> 0 (EOF: the peer sent FIN)");
	} else {
		say("recv() %zd bytes", n);
	}
	return n;
}

ssize_t recv_exact(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = log_recv(fd, (char *)buf + got, len - got);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

ssize_t recv_until_eof(int fd, void *buf, size_t len)
{
	size_t got = 0;
	char sink[256];

	for (;;) {
		ssize_t n;

		if (got < len)
			n = log_recv(fd, (char *)buf + got, len - got);
		else
			n = log_recv(fd, sink, sizeof(sink));
		if (n < 0)
			return -1;
		if (n == 0)
			return (ssize_t)got;
		got += (size_t)n;
	}
}

int log_close(int fd, const char *what)
{
	int r = close(fd);

	if (r < 0)
		say("close(%s) -> %s", what, errname(errno));
	else
		say("close(%s)", what);
	return r;
}

void die_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(EXIT_UNEXPECTED);
}

int demo_finish(int ok)
{
	say("done: %s", ok ? "as expected" : "NOT as expected");
	return ok ? EXIT_OK : EXIT_UNEXPECTED;
}

int demo_reap_killed(pid_t child)
{
	int status;

	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR) {
			say("waitpid() -> %s", errname(errno));
			return 0;
		}
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		say("child %d killed by SIGKILL", (int)child);
		return 1;
	}
	say("unexpected: child %d ended with status 0x%x", (int)child, status);
	return 0;
}
