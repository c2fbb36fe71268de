/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Command line: libbpf-tools conventions. */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "outcome.h"
#include "tcptimeline.h"

struct env {
	bool verbose;		 /* -v: libbpf's own log */
	bool version;		 /* -V given: print the version report and exit */
	bool json;		 /* -j */
	bool ladder;		 /* --ladder: a diagram per connection (default on a terminal) */
	bool live;		 /* --live: one line per event (default when not a terminal) */
	bool no_color;		 /* --no-color (or NO_COLOR in the environment) */
	bool timestamp;		 /* -T: wall-clock time on text lines */
	const char *html;	 /* --html FILE: the ladders as one HTML page, written at the end */
	uint8_t family;		 /* 0 both, 4, 6 */
	uint32_t pid;		 /* 0: any */
	bool exec;		 /* -x: run a command and trace it and its descendants */
	char **exec_argv;	 /* -x: the command line (into argv), NULL-terminated */
	const char *cgroup_path; /* --cgroup PATH as given (into argv); NULL: any */
	uint64_t cgroup_id;	 /* its id, set by main once resolved (kernel/cgroup.c) */
	bool ports_on;
	uint64_t port_bits[TT_MAX_PORT_WORDS];
	char port_desc[128];	/* "9000,9100-9110" as given, for the readiness line */
	uint64_t duration_ms;	/* 0: until Ctrl-C */
	uint32_t ringbuf_mb;	/* ring buffer size */
	uint32_t max_conns;	/* BPF socket map and connection table bound */
	bool ringbuf_set;	/* -b given */
	const char *read_path;	/* -r: replay this recording ("-" stdin) instead of tracing */
	const char *write_path; /* -w: also write JSON Lines here */
	bool quiet;		/* -q: nothing per connection (metrics, summaries only) */
	uint32_t summary_secs;	/* --summary[=SECS]: a table every SECS; 0 none */
	bool metrics_on;	/* --metrics ADDR:PORT */
	uint8_t metrics_family; /* 0: every address (":PORT"), 4, 6 */
	char metrics_addr[48];	/* numeric address as given, "" for every address */
	uint16_t metrics_port;
	char user[64];		       /* --user NAME: drop to this user once attached; "" none */
	struct outcome_filter outcome; /* --abnormal, --cause */
	uint32_t max_memory_mb;	       /* --max-memory: what the tracer holds */
};

enum parse_result {
	PARSE_OK = 0,
	PARSE_EXIT = 1,	 /* --help printed, or --version asked (env.version): exit 0 */
	PARSE_USAGE = 2, /* bad input: one line on err, exit 2 */
};

void env_defaults(struct env *env);
/* Messages (help, version, errors) go to out/err. */
enum parse_result parse_options(int argc, char **argv, struct env *env, FILE *out, FILE *err);

/* "9000", "9000-9010", "80,443": adds to env's port set. 0 ok, -1 bad. */
int parse_port_spec(const char *spec, struct env *env);
bool env_port_wanted(const struct env *env, uint16_t port);
/* "127.0.0.1:9464", "[::1]:9464", ":9464" (every address) into env. 0 ok, -1 bad. */
int parse_listen_addr(const char *spec, struct env *env);

#endif /* OPTIONS_H */
