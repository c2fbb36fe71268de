/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* -x/--exec: the traced command, started once its pid is being traced. */
#ifndef EXEC_CMD_H
#define EXEC_CMD_H

#include <stddef.h>
#include <sys/types.h>

struct exec_cmd {
	pid_t pid;  /* the command, forked and waiting to exec; 0 none */
	int go_fd;  /* write end: a byte lets it exec */
	int err_fd; /* read end: errno if its exec failed, EOF once it ran */
};

/* Fork the command, stopped before exec until exec_cmd_start. Under sudo
 * (running as root with SUDO_UID/SUDO_GID set) it runs as the invoking user
 * with that user's supplementary groups, as perf and strace -u do. The
 * caller blocks SIGCHLD (a signalfd reads it) before calling this. Returns
 * 0, or -errno with a one-line reason in err. */
int exec_cmd_prepare(struct exec_cmd *c, char *const argv[], char *err, size_t errlen);
/* Let it exec. Returns 0 once it runs, or -errno when exec failed (err says
 * why; the child has exited with 127). */
int exec_cmd_start(struct exec_cmd *c, const char *cmd, char *err, size_t errlen);
/* Kill and reap a command never started (exec_cmd_prepare succeeded, the
 * tracer failed before exec_cmd_start). */
void exec_cmd_abort(struct exec_cmd *c);
/* The exit status a shell would give for a wait status: the code, or 128+N
 * for signal N. */
int exec_cmd_exit_code(int wstatus);

#endif /* EXEC_CMD_H */
