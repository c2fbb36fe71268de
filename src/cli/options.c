// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <sys/socket.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "options.h"

static const char usage_text[] =
	"Usage: tcptimeline [OPTIONS]\n"
	"Trace the life of TCP connections: handshake, data, keepalives, retransmits,\n"
	"resets, teardown, and why each one ended.\n"
	"\n"
	"  -P, --port PORT[-PORT][,...]  only connections with this local or remote port\n"
	"                                (repeatable; ranges like 9000-9010)\n"
	"  -p, --pid PID                 only sockets owned by this process\n"
	"  -x, --exec CMD [ARGS...]      run CMD (as the sudo user) and trace only its\n"
	"                                sockets and its descendants'; the rest of the\n"
	"                                command line is CMD's; ends when CMD exits, with\n"
	"                                its exit status\n"
	"      --cgroup PATH             only sockets of tasks in this cgroup v2 or below\n"
	"                                (absolute, or relative to the cgroup v2 mount)\n"
	"  -4, --ipv4                    only IPv4\n"
	"  -6, --ipv6                    only IPv6\n"
	"  -j, --json                    JSON Lines, one event per line\n"
	"      --ladder                  a ladder diagram per connection when it closes\n"
	"                                (and for those still open at exit); the default\n"
	"                                when stdout is a terminal\n"
	"      --live                    one text line per event as it happens; the default\n"
	"                                when stdout is not a terminal\n"
	"      --html FILE               also write every connection's ladder into FILE, one\n"
	"                                self-contained HTML page, when tracing ends\n"
	"      --no-color                no colour (also when NO_COLOR is set)\n"
	"  -T, --timestamp               wall-clock time on each text line\n"
	"  -d, --duration SECS           stop after SECS seconds\n"
	"  -b, --buffer-mb MB            ring buffer size (power of two, default 8)\n"
	"      --abnormal                only connections that went wrong: closed other than\n"
	"                                by app_close, peer_close or process_exit, or with a\n"
	"                                retransmit, a reset, an error or a zero-window stall;\n"
	"                                each printed whole when it closes\n"
	"      --cause LIST              only connections closed with one of these causes\n"
	"                                (comma-separated: killed,rst_in,...); printed whole\n"
	"                                when they close\n"
	"      --max-conns N             sockets followed at once (default 65536)\n"
	"      --max-memory MB           memory for the connections and the events held for\n"
	"                                ladders and filters (default 256); past it, the\n"
	"                                middle of the longest stories is not kept\n"
	"  -w, --write FILE              also write JSON Lines (as --json) to FILE: record\n"
	"                                while watching ladders or live text\n"
	"  -r, --read FILE               draw a recording (what --json or -w wrote; - for\n"
	"                                stdin) instead of tracing: no root, no BPF\n"
	"  -q, --quiet                   nothing per connection (with --metrics or --summary)\n"
	"      --summary[=SECS]          a table per port and process every SECS seconds\n"
	"                                (default 10) and at exit; a summary event in --json\n"
	"      --metrics ADDR:PORT       serve Prometheus metrics at http://ADDR:PORT/metrics\n"
	"                                (127.0.0.1:9464; :9464 for every address)\n"
	"      --user NAME               drop to this user's uid, gid and groups once attached\n"
	"  -v, --verbose                 show libbpf's log\n"
	"  -V, --version                 print the version, libbpf's and the kernel\n"
	"                                features found (for bug reports)\n"
	"  -h, --help                    this help\n"
	"\n"
	"Examples:\n"
	"  sudo tcptimeline -P 9000      every connection to or from port 9000\n"
	"  sudo tcptimeline -p 1234 -j   JSON for sockets of process 1234\n"
	"  sudo tcptimeline -P 9000 -w rec.jsonl --ladder   ladders now, the recording kept\n"
	"  tcptimeline -r rec.jsonl --ladder                 the same ladders later, anywhere\n"
	"  sudo tcptimeline -x -- curl -s http://localhost:8080/\n"
	"                                the connections of one command\n";

void env_defaults(struct env *env)
{
	memset(env, 0, sizeof(*env));
	env->ringbuf_mb = 8;
	env->max_conns = 65536;
	env->max_memory_mb = 256;
}

/* Whole decimal number in [min, max]; errno reset first (a stale errno
 * must not reject a valid value). */
static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void add_port_range(struct env *env, unsigned long lo, unsigned long hi)
{
	for (unsigned long p = lo; p <= hi; p++)
		env->port_bits[p >> 6] |= 1ULL << (p & 63);
	env->ports_on = true;
}

int parse_port_spec(const char *spec, struct env *env)
{
	char buf[256], *save = NULL, *tok;

	if (!spec || !*spec || strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	/* a trailing or doubled comma is an error, not an empty item */
	if (buf[0] == ',' || buf[strlen(buf) - 1] == ',' || strstr(buf, ",,"))
		return -1;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		unsigned long lo, hi;

		if (dash) {
			*dash = '\0';
			if (parse_ulong(tok, 1, 65535, &lo) ||
			    parse_ulong(dash + 1, 1, 65535, &hi) || lo > hi)
				return -1;
		} else {
			if (parse_ulong(tok, 1, 65535, &lo))
				return -1;
			hi = lo;
		}
		add_port_range(env, lo, hi);
	}
	return 0;
}

bool env_port_wanted(const struct env *env, uint16_t port)
{
	return env->port_bits[port >> 6] & (1ULL << (port & 63));
}

int parse_listen_addr(const char *spec, struct env *env)
{
	const char *colon, *host;
	char addr[sizeof(env->metrics_addr)];
	unsigned long port;
	size_t hlen;
	unsigned char bin[16];

	if (!spec)
		return -1;
	colon = strrchr(spec, ':');
	if (!colon)
		return -1;
	host = spec;
	hlen = (size_t)(colon - spec);
	if (hlen && spec[0] == '[') {
		/* [IPv6]:PORT */
		if (hlen < 3 || spec[hlen - 1] != ']')
			return -1;
		host = spec + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof(addr) || parse_ulong(colon + 1, 1, 65535, &port))
		return -1;
	memcpy(addr, host, hlen);
	addr[hlen] = '\0';
	if (!hlen)
		env->metrics_family = 0;
	else if (host == spec && inet_pton(AF_INET, addr, bin) == 1)
		env->metrics_family = 4;
	else if (host != spec && inet_pton(AF_INET6, addr, bin) == 1)
		env->metrics_family = 6;
	else
		return -1;
	strcpy(env->metrics_addr, addr);
	env->metrics_port = (uint16_t)port;
	env->metrics_on = true;
	return 0;
}

enum {
	OPT_MAX_CONNS = 1000,
	OPT_LADDER,
	OPT_LIVE,
	OPT_NO_COLOR,
	OPT_HTML,
	OPT_SUMMARY,
	OPT_METRICS,
	OPT_USER,
	OPT_ABNORMAL,
	OPT_CAUSE,
	OPT_MAX_MEMORY,
	OPT_CGROUP
};

static const struct option long_opts[] = {
	{ "port", required_argument, NULL, 'P' },
	{ "pid", required_argument, NULL, 'p' },
	{ "exec", no_argument, NULL, 'x' },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "json", no_argument, NULL, 'j' },
	{ "ladder", no_argument, NULL, OPT_LADDER },
	{ "live", no_argument, NULL, OPT_LIVE },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "html", required_argument, NULL, OPT_HTML },
	{ "timestamp", no_argument, NULL, 'T' },
	{ "duration", required_argument, NULL, 'd' },
	{ "buffer-mb", required_argument, NULL, 'b' },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "abnormal", no_argument, NULL, OPT_ABNORMAL },
	{ "cause", required_argument, NULL, OPT_CAUSE },
	{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
	{ "read", required_argument, NULL, 'r' },
	{ "write", required_argument, NULL, 'w' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "summary", optional_argument, NULL, OPT_SUMMARY },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "user", required_argument, NULL, OPT_USER },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static enum parse_result usage_error(FILE *err, const char *fmt, const char *arg)
{
	fputs("tcptimeline: ", err);
	fprintf(err, fmt, arg);
	fputs(" (see tcptimeline --help)\n", err);
	return PARSE_USAGE;
}

enum parse_result parse_options(int argc, char **argv, struct env *env, FILE *out, FILE *err)
{
	unsigned long v;
	int c;

	opterr = 0;
	optind = 1;
	/* '+': options end at the first operand, so -x CMD -a gives -a to CMD */
	while ((c = getopt_long(argc, argv, "+:P:p:x46jTd:b:r:w:qvVh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			if (parse_port_spec(optarg, env))
				return usage_error(
					err,
					"invalid port '%s': use 1-65535, a range like 9000-9010, or a comma list",
					optarg);
			if (env->port_desc[0])
				strncat(env->port_desc, ",",
					sizeof(env->port_desc) - strlen(env->port_desc) - 1);
			strncat(env->port_desc, optarg,
				sizeof(env->port_desc) - strlen(env->port_desc) - 1);
			break;
		case 'p':
			if (parse_ulong(optarg, 1, INT_MAX, &v))
				return usage_error(
					err, "invalid pid '%s': use a positive process id", optarg);
			env->pid = (uint32_t)v;
			break;
		case 'x':
			env->exec = true;
			break;
		case OPT_CGROUP:
			if (!*optarg)
				return usage_error(err, "%s",
						   "--cgroup needs a cgroup v2 directory");
			env->cgroup_path = optarg;
			break;
		case '4':
		case '6':
			if (env->family && env->family != (c == '4' ? 4 : 6))
				return usage_error(
					err, "%s",
					"-4 and -6 exclude each other: give one or neither");
			env->family = c == '4' ? 4 : 6;
			break;
		case 'j':
			env->json = true;
			break;
		case 'T':
			env->timestamp = true;
			break;
		case OPT_LADDER:
			env->ladder = true;
			break;
		case OPT_LIVE:
			env->live = true;
			break;
		case OPT_NO_COLOR:
			env->no_color = true;
			break;
		case OPT_HTML:
			if (!*optarg)
				return usage_error(err, "%s", "--html needs a file name");
			env->html = optarg;
			break;
		case 'd':
			if (parse_ulong(optarg, 1, 31536000, &v))
				return usage_error(
					err, "invalid duration '%s': use whole seconds, 1 or more",
					optarg);
			env->duration_ms = (uint64_t)v * 1000;
			break;
		case 'b':
			if (parse_ulong(optarg, 1, 1024, &v) || (v & (v - 1)))
				return usage_error(
					err,
					"invalid buffer size '%s': use a power of two from 1 to 1024 (MB)",
					optarg);
			env->ringbuf_mb = (uint32_t)v;
			env->ringbuf_set = true;
			break;
		case 'r':
			if (!*optarg)
				return usage_error(err, "%s",
						   "--read needs a file name (- for stdin)");
			env->read_path = optarg;
			break;
		case 'w':
			if (!*optarg || !strcmp(optarg, "-"))
				return usage_error(err,
						   "invalid --write '%s': give a file name "
						   "(--json writes to stdout)",
						   optarg);
			env->write_path = optarg;
			break;
		case OPT_ABNORMAL:
			env->outcome.abnormal = true;
			break;
		case OPT_CAUSE: {
			char bad[64];

			if (outcome_parse_causes(optarg, &env->outcome.causes, bad, sizeof(bad)))
				return usage_error(
					err,
					"unknown cause '%s' for --cause: use names of the JSON contract "
					"(app_close, process_exit, killed, peer_close, rst_in, rst_out, "
					"refused, keepalive_timeout, retransmit_timeout, syn_timeout, unknown)",
					bad);
			break;
		}
		case OPT_MAX_MEMORY:
			if (parse_ulong(optarg, 4, 1048576, &v))
				return usage_error(
					err, "invalid --max-memory '%s': use MiB from 4 to 1048576",
					optarg);
			env->max_memory_mb = (uint32_t)v;
			break;
		case OPT_MAX_CONNS:
			if (parse_ulong(optarg, 16, 16777216, &v))
				return usage_error(
					err,
					"invalid --max-conns '%s': use a number from 16 to 16777216",
					optarg);
			env->max_conns = (uint32_t)v;
			break;
		case 'q':
			env->quiet = true;
			break;
		case OPT_SUMMARY:
			env->summary_secs = 10;
			if (optarg && parse_ulong(optarg, 1, 86400, &v))
				return usage_error(
					err,
					"invalid --summary '%s': use whole seconds from 1 to 86400 "
					"(--summary=30)",
					optarg);
			if (optarg)
				env->summary_secs = (uint32_t)v;
			break;
		case OPT_METRICS:
			if (parse_listen_addr(optarg, env))
				return usage_error(
					err,
					"invalid --metrics '%s': use ADDR:PORT with a numeric address, "
					"like 127.0.0.1:9464, [::1]:9464 or :9464 for every address",
					optarg);
			break;
		case OPT_USER:
			if (!*optarg || strlen(optarg) >= sizeof(env->user))
				return usage_error(err, "invalid --user '%s': give a user name",
						   optarg);
			strcpy(env->user, optarg);
			break;
		case 'v':
			env->verbose = true;
			break;
		case 'V':
			/* main prints it: the report needs libbpf and the kernel's BTF */
			env->version = true;
			return PARSE_EXIT;
		case 'h':
			fputs(usage_text, out);
			return PARSE_EXIT;
		case ':':
			return usage_error(err, "option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error(err, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (env->exec) {
		if (optind >= argc)
			return usage_error(
				err, "%s",
				"-x needs a command: tcptimeline [OPTIONS] -x -- CMD [ARGS...]");
		if (env->pid)
			return usage_error(
				err, "%s",
				"-x and -p exclude each other: -x traces the command it starts");
		env->exec_argv = argv + optind;
	} else if (optind < argc) {
		return usage_error(
			err, "unexpected argument '%s' (to trace a command: -x -- CMD [ARGS...])",
			argv[optind]);
	}
	if (env->json + env->ladder + env->live > 1)
		return usage_error(
			err, "%s",
			"--json, --ladder and --live choose the output: give one of them");
	/* a recording is drawn as it was made: what the kernel was told to
	 * filter or how long to run means nothing there */
	if (env->read_path) {
		const char *kernel_only = env->ports_on	    ? "-P" :
					  env->pid	    ? "-p" :
					  env->family	    ? (env->family == 4 ? "-4" : "-6") :
					  env->duration_ms  ? "-d" :
					  env->ringbuf_set  ? "-b" :
					  env->metrics_on   ? "--metrics" :
					  env->user[0]	    ? "--user" :
					  env->summary_secs ? "--summary" :
					  env->exec	    ? "-x" :
					  env->cgroup_path  ? "--cgroup" :
							      NULL;

		if (kernel_only)
			return usage_error(err,
					   "%s is for tracing, not for --read: filter the "
					   "recording with jq instead",
					   kernel_only);
	}
	if (env->quiet && (env->ladder || env->live))
		return usage_error(
			err, "%s",
			"-q prints nothing per connection: give it without --ladder or --live");
	if (env->quiet && outcome_filter_on(&env->outcome))
		return usage_error(
			err, "%s",
			"-q prints nothing per connection: --abnormal and --cause choose which "
			"connections to print, give them without -q");
	return PARSE_OK;
}
