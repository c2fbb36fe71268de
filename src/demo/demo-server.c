// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * demo-server: the server side of each tcptimeline demo scenario.
 * Serves ONE connection on loopback, prints one line per step, exits.
 *
 *   demo-server [-p 9000] [-6] [--fast] SCENARIO
 *
 * "demo-server: listening on PORT" (flushed) is the readiness signal.
 */
#include "demo_common.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct demo_opts opts;

static int listen_socket(void)
{
	struct sockaddr_storage ss;
	socklen_t len = demo_addr(&opts, &ss, opts.port);
	int one = 1;
	int fd;

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		say("socket() -> %s", errname(errno));
		return -1;
	}
	/* back-to-back runs: a TIME_WAIT left on the port must not block bind() */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (opts.ipv6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		say("bind() %s -> %s", fmt_addr((struct sockaddr *)&ss), errname(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, 1) < 0) {
		say("listen() -> %s", errname(errno));
		close(fd);
		return -1;
	}
	say("bind() %s ok, listen() ok", fmt_addr((struct sockaddr *)&ss));
	say("listening on %d", opts.port);
	return fd;
}

/* Accepts one connection and closes the listener. */
static int accept_one(int lfd)
{
	int fd;

	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		say("accept() -> %s", errname(errno));
		close(lfd);
		return -1;
	}
	say("accept() %s <- %s", fmt_local(fd), fmt_peer(fd));
	log_close(lfd, "listener");
	return fd;
}

/* Reads the 29-byte request and sends the 4-byte reply. */
static int request_reply(int fd)
{
	char buf[DEMO_REQUEST_LEN];
	ssize_t n = recv_exact(fd, buf, sizeof(buf));

	if (n != (ssize_t)DEMO_REQUEST_LEN) {
		say("unexpected: wanted a %zu-byte request, got %zd", DEMO_REQUEST_LEN, n);
		return -1;
	}
	if (log_send(fd, DEMO_REPLY, DEMO_REPLY_LEN) != (ssize_t)DEMO_REPLY_LEN)
		return -1;
	return 0;
}

/* Waits for the client's FIN: recv() must return 0. */
static int expect_eof(int fd)
{
	char buf[64];
	ssize_t n = log_recv(fd, buf, sizeof(buf));

	if (n != 0) {
		say("unexpected: wanted EOF from the client");
		return -1;
	}
	return 0;
}

/*
 * kill-server-idle: a child listens, serves the request and reports, through a
 * pipe, that it is idle (nothing unread); the parent then SIGKILLs it. The
 * child is the only holder of the connection, so its death closes it: no
 * unread data, so the kernel sends FIN, not RST.
 */
static int run_kill_server_idle(void)
{
	int pfd[2];
	pid_t parent = getpid(), child;
	char c;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		say("pipe() -> %s", errname(errno));
		return EXIT_UNEXPECTED;
	}
	fflush(NULL);
	child = fork();
	if (child < 0) {
		say("fork() -> %s", errname(errno));
		return EXIT_UNEXPECTED;
	}
	if (child == 0) {
		int lfd, fd;

		die_with_parent(parent);
		arm_watchdog(watchdog_secs(&opts));
		close(pfd[0]);
		say("child %d holds the connection", (int)getpid());
		lfd = listen_socket();
		if (lfd < 0)
			_exit(EXIT_UNEXPECTED);
		fd = accept_one(lfd);
		if (fd < 0 || request_reply(fd) < 0)
			_exit(EXIT_UNEXPECTED);
		say("child %d: idle now (nothing unread), waiting to be killed", (int)getpid());
		if (write(pfd[1], "I", 1) != 1)
			_exit(EXIT_UNEXPECTED);
		for (;;)
			pause();
	}

	watchdog_reap(child);
	close(pfd[1]);
	do
		n = read(pfd[0], &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		/* the child died before it was idle */
		say("unexpected: child %d ended before the exchange", (int)child);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		return demo_finish(0);
	}
	if (kill(child, SIGKILL) < 0) {
		say("kill(%d, SIGKILL) -> %s", (int)child, errname(errno));
		return demo_finish(0);
	}
	say("kill(%d, SIGKILL): the kernel closes its idle socket: FIN, not RST", (int)child);
	return demo_finish(demo_reap_killed(child));
}

int main(int argc, char **argv)
{
	int lfd, fd, ok = 0;

	demo_prog = "demo-server";
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	demo_parse_args(argc, argv, &opts);
	say("pid %d, scenario %s, %s port %d%s", (int)getpid(), scenario_name(opts.sc),
	    opts.ipv6 ? "::1" : "127.0.0.1", opts.port, opts.fast ? ", fast" : "");

	if (opts.sc == SC_REFUSED) {
		say("refused: nothing listens on port %d: the client's SYN gets RST", opts.port);
		return demo_finish(1);
	}
	arm_watchdog(watchdog_secs(&opts));
	if (opts.sc == SC_KILL_SERVER_IDLE)
		return run_kill_server_idle();

	lfd = listen_socket();
	if (lfd < 0)
		return demo_finish(0);
	fd = accept_one(lfd);
	if (fd < 0)
		return demo_finish(0);

	switch (opts.sc) {
	case SC_NORMAL:
	case SC_CLIENT_EXIT:
		/* the client ends first (close() or exit()): we read EOF, then close */
		ok = request_reply(fd) == 0 && expect_eof(fd) == 0;
		log_close(fd, "connection");
		break;
	case SC_KEEPALIVE:
		ok = request_reply(fd) == 0;
		if (ok) {
			say("idle: the client's keepalive probes are ACKed by this kernel");
			ok = expect_eof(fd) == 0;
		}
		log_close(fd, "connection");
		break;
	case SC_SERVER_FIRST:
		ok = request_reply(fd) == 0;
		log_close(fd, "connection");
		break;
	case SC_KILL_CLIENT: {
		char buf[64];
		ssize_t n;

		ok = request_reply(fd) == 0;
		if (ok) {
			say("waiting: the client will not read the reply");
			n = log_recv(fd, buf, sizeof(buf));
			ok = n < 0 && errno == ECONNRESET;
			if (!ok)
				say("unexpected: wanted ECONNRESET (the client's kernel sends RST)");
		}
		log_close(fd, "connection");
		break;
	}
	case SC_HALF_CLOSE: {
		char buf[DEMO_REQUEST_LEN + 1];
		ssize_t n = recv_until_eof(fd, buf, sizeof(buf));

		ok = n == (ssize_t)DEMO_REQUEST_LEN;
		if (!ok)
			say("unexpected: wanted %zu bytes then EOF, got %zd", DEMO_REQUEST_LEN, n);
		else
			say("client half-closed; replying on the open direction");
		if (ok)
			ok = log_send(fd, DEMO_REPLY, DEMO_REPLY_LEN) == (ssize_t)DEMO_REPLY_LEN;
		log_close(fd, "connection");
		break;
	}
	default:
		break;
	}
	return demo_finish(ok);
}
