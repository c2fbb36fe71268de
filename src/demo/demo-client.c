// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * demo-client: the client side of each tcptimeline demo scenario.
 * Prints one line per step of the application's view, exits 0 when the
 * scenario behaved as expected.
 *
 *   demo-client [-p 9000] [-6] [--fast] SCENARIO
 */
#include "demo_common.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct demo_opts opts;

static int set_keepalive(int fd)
{
	int one = 1;
	int idle = opts.fast ? KA_IDLE_FAST : KA_IDLE;
	int intvl = opts.fast ? KA_INTVL_FAST : KA_INTVL;
	int cnt = KA_CNT;

	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) < 0) {
		say("setsockopt(keepalive) -> %s", errname(errno));
		return -1;
	}
	say("setsockopt() SO_KEEPALIVE=1 TCP_KEEPIDLE=%d TCP_KEEPINTVL=%d TCP_KEEPCNT=%d", idle,
	    intvl, cnt);
	return 0;
}

/* Connects to the server; on failure returns -1 with errno set. */
static int connect_server(int port)
{
	struct sockaddr_storage ss;
	socklen_t len = demo_addr(&opts, &ss, port);
	int fd, r, e;

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		say("socket() -> %s", errname(e));
		errno = e;
		return -1;
	}
	if (opts.sc == SC_KEEPALIVE && set_keepalive(fd) < 0) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	do
		r = connect(fd, (struct sockaddr *)&ss, len);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		e = errno;
		say("connect() %s -> %s", fmt_addr((struct sockaddr *)&ss), errname(e));
		close(fd);
		errno = e;
		return -1;
	}
	say("connect() %s ok (local %s)", fmt_addr((struct sockaddr *)&ss), fmt_local(fd));
	return fd;
}

/* Sends the 29-byte request. */
static int send_request(int fd)
{
	return log_send(fd, DEMO_REQUEST, DEMO_REQUEST_LEN) == (ssize_t)DEMO_REQUEST_LEN ? 0 : -1;
}

/* Reads the 4-byte reply. */
static int read_reply(int fd)
{
	char buf[DEMO_REPLY_LEN];
	ssize_t n = recv_exact(fd, buf, sizeof(buf));

	if (n != (ssize_t)DEMO_REPLY_LEN) {
		say("unexpected: wanted a %zu-byte reply, got %zd", DEMO_REPLY_LEN, n);
		return -1;
	}
	return 0;
}

/*
 * kill-client: a child connects, sends the request and waits until the reply
 * sits unread in its socket (poll + FIONREAD), then tells the parent through a
 * pipe; the parent SIGKILLs it. The child is the only holder of the socket, so
 * its death closes it with unread data: the kernel sends RST.
 */
static int run_kill_client(void)
{
	int pfd[2], unread = 0;
	pid_t parent = getpid(), child;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		say("pipe() -> %s", errname(errno));
		return demo_finish(0);
	}
	fflush(NULL);
	child = fork();
	if (child < 0) {
		say("fork() -> %s", errname(errno));
		return demo_finish(0);
	}
	if (child == 0) {
		struct pollfd p;
		int fd, r;

		die_with_parent(parent);
		arm_watchdog(watchdog_secs(&opts));
		close(pfd[0]);
		say("child %d holds the connection", (int)getpid());
		fd = connect_server(opts.port);
		if (fd < 0 || send_request(fd) < 0)
			_exit(EXIT_UNEXPECTED);
		p.fd = fd;
		p.events = POLLIN;
		do
			r = poll(&p, 1, -1);
		while (r < 0 && errno == EINTR);
		if (r != 1 || ioctl(fd, FIONREAD, &unread) < 0 || unread <= 0) {
			say("unexpected: no data from the server");
			_exit(EXIT_UNEXPECTED);
		}
		say("child %d: poll() -> POLLIN, ioctl(FIONREAD) -> %d bytes, not reading them",
		    (int)getpid(), unread);
		if (write(pfd[1], &unread, sizeof(unread)) != (ssize_t)sizeof(unread))
			_exit(EXIT_UNEXPECTED);
		for (;;)
			pause();
	}

	watchdog_reap(child);
	close(pfd[1]);
	do
		n = read(pfd[0], &unread, sizeof(unread));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(unread)) {
		say("unexpected: child %d ended before the server's data arrived", (int)child);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		return demo_finish(0);
	}
	if (kill(child, SIGKILL) < 0) {
		say("kill(%d, SIGKILL) -> %s", (int)child, errname(errno));
		return demo_finish(0);
	}
	say("kill(%d, SIGKILL) with %d unread bytes in its socket: the kernel sends RST",
	    (int)child, unread);
	return demo_finish(demo_reap_killed(child));
}

/*
 * kill-server-idle: after the exchange we wait for the server's FIN (its
 * process was killed), send anyway, wait for the RST its kernel answers with
 * (poll() reports POLLERR/POLLHUP: no sleep), and send again: EPIPE.
 */
static int run_kill_server_idle(int fd)
{
	char buf[64];
	struct pollfd p;
	ssize_t n;
	int r;

	if (send_request(fd) < 0 || read_reply(fd) < 0)
		return -1;
	say("idle: waiting for the server to go away");
	n = log_recv(fd, buf, sizeof(buf));
	if (n != 0) {
		say("unexpected: wanted EOF (the killed server's kernel sends FIN)");
		return -1;
	}
	n = log_send(fd, DEMO_REQUEST, DEMO_REQUEST_LEN);
	if (n < 0)
		return errno == EPIPE || errno == ECONNRESET ? 0 : -1;
	say("(nobody is there: the server's kernel answers with RST)");
	p.fd = fd;
	p.events = 0; /* only POLLERR / POLLHUP: set when the RST arrives */
	do
		r = poll(&p, 1, 5000);
	while (r < 0 && errno == EINTR);
	if (r == 1)
		say("poll() -> %s%s", p.revents & POLLERR ? "POLLERR " : "",
		    p.revents & POLLHUP ? "POLLHUP" : "");
	else
		say("poll() -> %s (no RST within 5 s)", r == 0 ? "timeout" : errname(errno));
	n = log_send(fd, DEMO_REQUEST, DEMO_REQUEST_LEN);
	if (n >= 0 || (errno != EPIPE && errno != ECONNRESET)) {
		say("unexpected: wanted EPIPE or ECONNRESET");
		return -1;
	}
	say("send() failed with %s: the connection was reset", errname(errno));
	return 0;
}

static int run_keepalive(int fd)
{
	int idle = opts.fast ? KA_IDLE_FAST : KA_IDLE;
	int intvl = opts.fast ? KA_INTVL_FAST : KA_INTVL;
	/* each ACKed probe restarts the idle clock; idle == intvl here */
	int wait_ms = (idle + (KA_PROBES - 1) * intvl) * 1000 + intvl * 500;
	struct tcp_info ti;
	socklen_t tlen = sizeof(ti);
	struct pollfd p;
	int r;

	if (send_request(fd) < 0 || read_reply(fd) < 0)
		return -1;
	say("idle for %.1f s: expect %d keepalive probes, ACKed by the server's kernel",
	    wait_ms / 1000.0, KA_PROBES);
	p.fd = fd;
	p.events = POLLIN;
	do
		r = poll(&p, 1, wait_ms);
	while (r < 0 && errno == EINTR);
	if (r != 0) {
		say("unexpected: the connection woke up while idle (revents 0x%x)", p.revents);
		return -1;
	}
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) == 0)
		say("idle done: last ACK received %u ms ago (idle %.1f s: the probes were answered)",
		    ti.tcpi_last_ack_recv, wait_ms / 1000.0);
	return 0;
}

int main(int argc, char **argv)
{
	int fd, ok = 0;

	demo_prog = "demo-client";
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	demo_parse_args(argc, argv, &opts);
	say("pid %d, scenario %s, %s port %d%s", (int)getpid(), scenario_name(opts.sc),
	    opts.ipv6 ? "::1" : "127.0.0.1", opts.port, opts.fast ? ", fast" : "");
	arm_watchdog(watchdog_secs(&opts));

	if (opts.sc == SC_KILL_CLIENT)
		return run_kill_client();

	fd = connect_server(opts.port);
	if (opts.sc == SC_REFUSED) {
		if (fd >= 0) {
			say("unexpected: something listens on port %d", opts.port);
			log_close(fd, "connection");
			return demo_finish(0);
		}
		return demo_finish(errno == ECONNREFUSED);
	}
	if (fd < 0)
		return demo_finish(0);

	switch (opts.sc) {
	case SC_NORMAL:
		ok = send_request(fd) == 0 && read_reply(fd) == 0;
		log_close(fd, "connection");
		break;
	case SC_SERVER_FIRST: {
		char buf[64];

		ok = send_request(fd) == 0 && read_reply(fd) == 0;
		if (ok) {
			ok = log_recv(fd, buf, sizeof(buf)) == 0;
			if (!ok)
				say("unexpected: wanted EOF (the server closes first)");
		}
		log_close(fd, "connection");
		break;
	}
	case SC_CLIENT_EXIT:
		ok = send_request(fd) == 0 && read_reply(fd) == 0;
		if (ok) {
			say("done: as expected; exit(0) with the socket still open");
			exit(EXIT_OK);
		}
		break;
	case SC_KILL_SERVER_IDLE:
		ok = run_kill_server_idle(fd) == 0;
		log_close(fd, "connection");
		break;
	case SC_KEEPALIVE:
		ok = run_keepalive(fd) == 0;
		log_close(fd, "connection");
		break;
	case SC_HALF_CLOSE: {
		char buf[DEMO_REPLY_LEN + 1];
		ssize_t n;

		ok = send_request(fd) == 0;
		if (ok) {
			ok = shutdown(fd, SHUT_WR) == 0;
			say("shutdown(SHUT_WR)%s%s", ok ? "" : " -> ", ok ? "" : errname(errno));
		}
		if (ok) {
			n = recv_until_eof(fd, buf, sizeof(buf));
			ok = n == (ssize_t)DEMO_REPLY_LEN;
			if (!ok)
				say("unexpected: wanted %zu bytes then EOF, got %zd",
				    DEMO_REPLY_LEN, n);
		}
		log_close(fd, "connection");
		break;
	}
	default:
		break;
	}
	return demo_finish(ok);
}
