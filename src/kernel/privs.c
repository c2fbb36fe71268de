// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --user: what stays open after the drop is all the tracer needs (the ring
 * buffer's fd and mapping, the counter map's fd, the metrics socket); the
 * BPF links stay attached because their fds stay open. Order as tcpdump
 * -Z: the groups and gid while we may still change them, the uid last.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "privs.h"

int privs_lookup(const char *name, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (!pw) {
		snprintf(err, errlen, "--user: no user '%s'%s%s: give an existing user name", name,
			 errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int privs_drop(const char *name, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	if (initgroups(name, gid) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid)) {
		snprintf(err, errlen, "--user %s: cannot drop privileges: %s", name,
			 strerror(errno));
		return -1;
	}
	/* a drop that can be undone is no drop */
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "--user %s: root could be regained after the drop", name);
		return -1;
	}
	/* left non-dumpable (setuid made it so): the user must not be able to
	 * ptrace us and take the BPF fds */
	return 0;
}
