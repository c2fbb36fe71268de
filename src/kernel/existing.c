// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "existing.h"
#include "names.h"

#define MAX_SOCKS 65536

/* Every state but TIME_WAIT (no owner, no future) and the request socks. */
#define STATES_WANTED                                                                      \
	((1u << TT_TCP_ESTABLISHED) | (1u << TT_TCP_SYN_SENT) | (1u << TT_TCP_SYN_RECV) |  \
	 (1u << TT_TCP_FIN_WAIT1) | (1u << TT_TCP_FIN_WAIT2) | (1u << TT_TCP_CLOSE_WAIT) | \
	 (1u << TT_TCP_LAST_ACK) | (1u << TT_TCP_LISTEN) | (1u << TT_TCP_CLOSING))

static int dump_family(int fd, uint8_t af, const struct env *env, struct existing_sock *out, int n,
		       int max)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = { .nlmsg_len = sizeof(msg),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .sdiag_family = af,
			 .sdiag_protocol = IPPROTO_TCP,
			 .idiag_states = STATES_WANTED },
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[32768];

	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			struct inet_diag_msg *d = NLMSG_DATA(h);
			struct existing_sock *s;
			uint16_t lport, rport;

			if (h->nlmsg_type == NLMSG_DONE)
				return n;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error ? e->error : -EIO;
			}
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*d)))
				continue;
			lport = ntohs(d->id.idiag_sport);
			rport = ntohs(d->id.idiag_dport);
			if (env->ports_on && !env_port_wanted(env, lport) &&
			    !env_port_wanted(env, rport))
				continue;
			if (n >= max)
				return n;
			s = &out[n++];
			memset(s, 0, sizeof(*s));
			s->ep.family = af == AF_INET ? 4 : 6;
			s->ep.lport = lport;
			s->ep.rport = rport;
			memcpy(s->ep.laddr, d->id.idiag_src, af == AF_INET ? 4 : 16);
			memcpy(s->ep.raddr, d->id.idiag_dst, af == AF_INET ? 4 : 16);
			s->state = d->idiag_state;
			s->inode = d->idiag_inode;
		}
	}
}

/* Owners: one pass over /proc/PID/fd, only for the inodes we need. */
static void find_owners(struct existing_sock *socks, int n)
{
	DIR *proc = opendir("/proc");
	struct dirent *pd;
	int left = 0;

	for (int i = 0; i < n; i++)
		left += socks[i].inode != 0;
	if (!proc)
		return;
	while (left && (pd = readdir(proc))) {
		char path[64], link[64];
		struct dirent *fd_ent;
		DIR *fds;
		char *end;
		long pid = strtol(pd->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fd_ent = readdir(fds))) {
			char fdpath[400];
			ssize_t len;
			unsigned long ino;

			snprintf(fdpath, sizeof(fdpath), "%s/%s", path, fd_ent->d_name);
			len = readlink(fdpath, link, sizeof(link) - 1);
			if (len <= 0)
				continue;
			link[len] = '\0';
			if (sscanf(link, "socket:[%lu]", &ino) != 1)
				continue;
			for (int i = 0; i < n; i++) {
				if (socks[i].inode != ino || socks[i].pid)
					continue;
				socks[i].pid = (uint32_t)pid;
				left--;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	for (int i = 0; i < n; i++) {
		char path[64];
		FILE *f;

		if (!socks[i].pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%u/comm", socks[i].pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(socks[i].comm, sizeof(socks[i].comm), f))
			socks[i].comm[strcspn(socks[i].comm, "\n")] = '\0';
		fclose(f);
	}
}

int existing_scan(const struct env *env, existing_fn fn, void *ctx)
{
	struct existing_sock *socks = calloc(MAX_SOCKS, sizeof(*socks));
	int fd, n = 0, kept = 0;

	if (!socks)
		return -ENOMEM;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		free(socks);
		return -errno;
	}
	if (env->family != 6)
		n = dump_family(fd, AF_INET, env, socks, n, MAX_SOCKS);
	if (n >= 0 && env->family != 4)
		n = dump_family(fd, AF_INET6, env, socks, n, MAX_SOCKS);
	close(fd);
	if (n < 0) {
		free(socks);
		return n;
	}
	find_owners(socks, n);
	for (int i = 0; i < n; i++) {
		if (env->pid && socks[i].pid != env->pid)
			continue;
		fn(&socks[i], ctx);
		kept++;
	}
	free(socks);
	return kept;
}
