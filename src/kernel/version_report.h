/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* -V/--version: the version, libbpf's, and what the kernel offers us. */
#ifndef VERSION_REPORT_H
#define VERSION_REPORT_H

#include <stdio.h>

/* Print the version report to out: tcptimeline, libbpf (running and built
 * against), the kernel, BTF, the ring buffer, each tracepoint the programs
 * use with its arguments and the newer ones that changed what we record.
 * Reads btf_path (NULL: /sys/kernel/btf/vmlinux), which needs no root;
 * never fails: what cannot be read is reported as such. Returns 0. */
int version_report(FILE *out, const char *btf_path);

#endif /* VERSION_REPORT_H */
