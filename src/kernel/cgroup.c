// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --cgroup PATH: its id for the kernel side (which compares it with the ids
 * of a task's cgroup and its ancestors), and its path for the user side,
 * which keeps only the connections open at start whose owner is inside.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include "cgroup.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* The first cgroup2 mount in /proc/self/mountinfo, else /sys/fs/cgroup. */
static void cgroup2_mount(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	snprintf(buf, len, "/sys/fs/cgroup");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		/* id parent maj:min root mountpoint opts ... - fstype source opts */
		char *sep = strstr(line, " - ");
		char root[PATH_MAX], mnt[PATH_MAX], fstype[64];

		if (!sep || sscanf(sep + 3, "%63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) == 2 &&
		    !strcmp(root, "/")) {
			snprintf(buf, len, "%s", mnt);
			break;
		}
	}
	fclose(f);
}

static bool is_cgroup2(const char *path)
{
	struct statfs fs;

	return !statfs(path, &fs) && fs.f_type == CGROUP2_SUPER_MAGIC;
}

int cgroup_resolve(const char *path, struct cgroup_sel *sel, char *err, size_t errlen)
{
	char mnt[PATH_MAX], full[PATH_MAX], real[PATH_MAX], realmnt[PATH_MAX];
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	int mount_id, e;
	size_t ml;
	struct stat st;

	memset(sel, 0, sizeof(*sel));
	cgroup2_mount(mnt, sizeof(mnt));
	if ((size_t)(path[0] == '/' ?
			     snprintf(full, sizeof(full), "%s", path) :
			     snprintf(full, sizeof(full), "%s/%s", mnt, path)) >= sizeof(full)) {
		snprintf(err, errlen, "--cgroup: the path is too long");
		return -ENAMETOOLONG;
	}
	if (!realpath(full, real) || stat(real, &st)) {
		e = errno;
		snprintf(err, errlen,
			 "--cgroup %s: %s: give a cgroup v2 directory such as "
			 "/sys/fs/cgroup/system.slice/NAME.service",
			 full, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode) || !is_cgroup2(real)) {
		snprintf(err, errlen,
			 "--cgroup %s: not a cgroup v2 directory (cgroup v2 is "
			 "mounted on %s)",
			 full, mnt);
		return -ENOTDIR;
	}
	/* the id the kernel uses is the kernfs node id, which the cgroup's file
	 * handle carries (what libbpf's and bpftool's cgroup ids are) */
	h.fh.handle_bytes = sizeof(h.id);
	if (name_to_handle_at(AT_FDCWD, real, &h.fh, &mount_id, 0) || h.fh.handle_bytes != 8) {
		e = errno ? errno : EINVAL;
		snprintf(err, errlen, "--cgroup %s: cannot read its id: %s", real, strerror(e));
		return -e;
	}
	memcpy(&sel->id, h.fh.f_handle, sizeof(sel->id));
	/* the path below the mount, as /proc/PID/cgroup shows it */
	if (!realpath(mnt, realmnt))
		snprintf(realmnt, sizeof(realmnt), "%s", mnt);
	ml = strlen(realmnt);
	if (!strncmp(real, realmnt, ml) && (real[ml] == '/' || !real[ml]))
		snprintf(sel->path, sizeof(sel->path), "%s", real[ml] ? real + ml : "/");
	else
		snprintf(sel->path, sizeof(sel->path), "/");
	return 0;
}

bool cgroup_has_pid(const struct cgroup_sel *sel, uint32_t pid)
{
	char p[64], line[4096];
	size_t len = strlen(sel->path);
	bool in = false;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%u/cgroup", pid);
	f = fopen(p, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *cg;

		/* the v2 line: "0::/system.slice/x.service" */
		if (strncmp(line, "0::", 3))
			continue;
		cg = line + 3;
		cg[strcspn(cg, "\n")] = '\0';
		in = !strcmp(sel->path, "/") ||
		     (!strncmp(cg, sel->path, len) && (cg[len] == '/' || !cg[len]));
		break;
	}
	fclose(f);
	return in;
}
