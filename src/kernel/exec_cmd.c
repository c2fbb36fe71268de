// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * -x/--exec CMD: fork, let the parent put the child's pid in the kernel's
 * traced map, then exec, so the command's first connect() is already seen.
 * The child waits on a pipe for the go-ahead; a second pipe, close-on-exec,
 * carries exec's errno back (EOF means the exec succeeded).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "exec_cmd.h"

#define MAX_GROUPS 1024

/* SUDO_UID / SUDO_GID as ids; false when absent or not numbers. */
static bool sudo_ids(uid_t *uid, gid_t *gid)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
	char *end;
	unsigned long uv, gv;

	if (!u || !g || !*u || !*g)
		return false;
	errno = 0;
	uv = strtoul(u, &end, 10);
	if (errno || *end || uv > UINT_MAX - 1)
		return false;
	gv = strtoul(g, &end, 10);
	if (errno || *end || gv > UINT_MAX - 1)
		return false;
	*uid = (uid_t)uv;
	*gid = (gid_t)gv;
	return true;
}

int exec_cmd_prepare(struct exec_cmd *c, char *const argv[], char *err, size_t errlen)
{
	int go[2], ex[2];
	uid_t uid = 0;
	gid_t gid = 0;
	gid_t groups[MAX_GROUPS];
	int ngroups = -1;
	bool drop = false;

	memset(c, 0, sizeof(*c));
	c->go_fd = c->err_fd = -1;
	/* the user and groups are looked up here, not in the child: NSS is not
	 * async-signal-safe */
	if (geteuid() == 0 && sudo_ids(&uid, &gid) && uid != 0) {
		struct passwd *pw = getpwuid(uid);

		ngroups = MAX_GROUPS;
		if (!pw || getgrouplist(pw->pw_name, gid, groups, &ngroups) < 0) {
			snprintf(
				err, errlen,
				"cannot look up the groups of SUDO_UID %u (the user sudo was run by)",
				(unsigned)uid);
			return -ENOENT;
		}
		drop = true;
	}
	if (pipe2(go, O_CLOEXEC))
		goto fail_errno;
	if (pipe2(ex, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		goto fail_errno;
	}
	c->pid = fork();
	if (c->pid < 0) {
		close(go[0]);
		close(go[1]);
		close(ex[0]);
		close(ex[1]);
		c->pid = 0;
		goto fail_errno;
	}
	if (c->pid == 0) {
		sigset_t none;
		char b;
		int e;

		close(go[1]);
		close(ex[0]);
		/* the tracer blocks signals for its signalfd and ignores SIGPIPE:
		 * the command starts with neither */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		/* no go-ahead (the tracer died or gave up): never run untraced */
		if (read(go[0], &b, 1) != 1)
			_exit(127);
		if (drop && (setgroups((size_t)ngroups, groups) || setgid(gid) || setuid(uid)))
			e = errno;
		else {
			execvp(argv[0], argv);
			e = errno;
		}
		if (write(ex[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(ex[1]);
	c->go_fd = go[1];
	c->err_fd = ex[0];
	return 0;

fail_errno:
	snprintf(err, errlen, "cannot start the command: %s", strerror(errno));
	return -errno;
}

int exec_cmd_start(struct exec_cmd *c, const char *cmd, char *err, size_t errlen)
{
	int e = 0;
	ssize_t n;

	if (write(c->go_fd, "g", 1) != 1) {
		e = errno;
		snprintf(err, errlen, "cannot start %s: %s", cmd, strerror(e));
		return -e;
	}
	close(c->go_fd);
	c->go_fd = -1;
	do
		n = read(c->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(c->err_fd);
	c->err_fd = -1;
	if (n == (ssize_t)sizeof(e)) {
		snprintf(err, errlen, "cannot run %s: %s%s", cmd, strerror(e),
			 e == ENOENT ? " (not found in PATH)" : "");
		return -e;
	}
	return 0;
}

void exec_cmd_abort(struct exec_cmd *c)
{
	if (c->go_fd >= 0)
		close(c->go_fd); /* the child reads EOF and exits without running */
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->go_fd = c->err_fd = -1;
	if (c->pid > 0)
		waitpid(c->pid, NULL, 0);
	c->pid = 0;
}

int exec_cmd_exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 1;
}
