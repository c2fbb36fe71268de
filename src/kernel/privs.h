/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* --user: giving up root once every program is attached, as tcpdump -Z does. */
#ifndef PRIVS_H
#define PRIVS_H

#include <stddef.h>
#include <sys/types.h>

/* Look the user up (before anything is loaded, so a typo fails early).
 * 0 ok; -1 with a one-line reason in err. */
int privs_lookup(const char *name, uid_t *uid, gid_t *gid, char *err, size_t errlen);
/* Supplementary groups, gid, then uid; then checks that root cannot be
 * taken back. 0 ok; -1 with a one-line reason in err. */
int privs_drop(const char *name, uid_t uid, gid_t gid, char *err, size_t errlen);

#endif /* PRIVS_H */
