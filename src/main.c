// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tcptimeline: one event loop (epoll over the ring buffer, a signalfd and a
 * timerfd) feeding ring buffer -> decode -> connection table -> renderer;
 * or, with -r, a recording -> jsonl_reader -> the same table and renderers,
 * with no kernel side at all.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <bpf/libbpf.h>
#include "addr.h"
#include "conn_table.h"
#include "decode.h"
#include "cgroup.h"
#include "exec_cmd.h"
#include "existing.h"
#include "version_report.h"
#include "json.h"
#include "jsonl_reader.h"
#include "ladder_queue.h"
#include "loader.h"
#include "metrics_http.h"
#include "names.h"
#include "options.h"
#include "outcome.h"
#include "output.h"
#include "privs.h"
#include "render.h"
#include "render_html.h"
#include "render_ladder.h"
#include "render_stats.h"
#include "stats.h"
#include "text.h"

#define TICK_MS		       50 /* drain the ring buffer at least this often */
#define LOG_BUDGET_EVERY_TICKS 1  /* socket logs older than the budget, every 50 ms */
#define COUNTER_EVERY_TICKS    10 /* look at the loss counters every 500 ms */
#define METRICS_EVERY_TICKS    5  /* a fresh /metrics snapshot every 250 ms */
/* a drop held for the story of the end it came into: the budget, and
 * three ticks for the log read from the map and the ring after it */
#define DROP_HOLD_NS	(TT_LOG_BUDGET_NS + 3ULL * TICK_MS * 1000000ULL)
#define HELD_MAX_EVENTS 4096	      /* events kept per connection for its diagram or filter */
#define LADDER_HOLD_NS	2000000000ULL /* a closed end waits this long for its other end */
#define LADDER_GRACE_NS 100000000ULL  /* events that trail a close (the RST of an abort) */

struct app {
	struct env env;
	struct render_opts ropts;
	struct conn_table *table;
	struct loader loader;
	bool ladder; /* ladders instead of the live stream */
	FILE *write; /* -w: JSON Lines here too */
	struct ladder_queue *ladders;
	struct html_page *html; /* --html: the page being gathered */
	FILE *html_file;	/* opened at start, so a bad path fails before tracing */
	bool html_created;	/* it did not exist before: removed if tracing never starts */
	uint64_t bad_records;
	uint64_t ring_records, ring_bytes; /* what came through the ring, for the bench */
	uint64_t lost_reported;
	uint64_t map_full_reported;
	int out_errno;	     /* stdout failed (write error, reader gone): stop, exit 1 */
	struct stats *stats; /* --summary, --metrics */
	struct metrics_http *http;
	uint64_t next_summary_ns;
	bool counters_unreadable; /* after --user on a kernel that wants CAP_BPF for it */
	uint64_t traced_full_reported;
	struct cgroup_sel cgroup; /* --cgroup, resolved */
	struct exec_cmd cmd;	  /* -x: the command */
	bool cmd_running;
	int cmd_exit; /* its exit status once it ended (exec_cmd_exit_code) */
};

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC, for an event's wall time: the two
 * clocks cannot be read at once, so the realtime read is taken between two
 * monotonic ones, the pair with the shortest gap of a few. One plain pair
 * could be apart by however long the task was preempted between them
 * (tens of milliseconds for an emulated VM's vCPU on a loaded host), and
 * every event's time with it. */
static int64_t realtime_offset_ns(void)
{
	uint64_t best_gap = UINT64_MAX;
	int64_t best = 0;

	for (int i = 0; i < 8; i++) {
		uint64_t a = now_ns(CLOCK_MONOTONIC);
		uint64_t r = now_ns(CLOCK_REALTIME);
		uint64_t b = now_ns(CLOCK_MONOTONIC);

		if (b - a < best_gap) {
			best_gap = b - a;
			best = (int64_t)r - (int64_t)(a + (b - a) / 2);
		}
	}
	return best;
}

/* Output is never lost silently: a failed write to stdout (a full disk, EIO,
 * a reader gone) stops the tracer with one line naming the output and exit 1.
 * Returns false once stdout has failed. */
static bool flush_stdout(struct app *app)
{
	if (app->out_errno)
		return false;
	fflush(stdout);
	app->out_errno = output_error(stdout);
	if (!app->out_errno)
		return true;
	fprintf(stderr,
		"tcptimeline: cannot write to stdout: %s: stopping (output lost from here)\n",
		strerror(app->out_errno));
	return false;
}

/* A pipe or socket on stdout is watched so that a reader that goes away
 * (`| head`) ends the tracer at once, even when no event is waiting to be
 * written: the write end of a pipe reports EPOLLERR once no reader is left. */
static bool stdout_watchable(void)
{
	struct stat st;

	return !fstat(STDOUT_FILENO, &st) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* --abnormal / --cause: events are held with their connection until it
 * qualifies (at its close, or at exit for one still open) */
static bool filtering(const struct app *app)
{
	return outcome_filter_on(&app->env.outcome);
}

static void render_event(struct app *app, const struct tl_event *ev)
{
	if (app->env.json)
		render_json(stdout, ev, &app->ropts);
	else
		render_text(stdout, ev, &app->ropts);
}

static void sink(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	struct app *app = ctx;

	if (app->stats)
		stats_event(app->stats, ev, c);
	/* -w records every event, whatever the outcome filters hold back */
	if (app->write)
		render_json(app->write, ev, &app->ropts);
	/* -q: nothing per connection on stdout (a recording with -w goes on) */
	if (app->env.quiet || app->ladder)
		return;
	/* held; after a connection is printed whole, what trails its close
	 * (the RST of an abort) goes out as it comes */
	if (c && filtering(app) && !c->shown)
		return;
	render_event(app, ev);
}

/* sink for --abnormal / --cause with nothing else per event (no stats, -w,
 * -q or ladders): sink's own tests answered once */
static void held_sink(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	if (!c || c->shown)
		render_event(ctx, ev);
}

/* sink for --json or --live with nothing else per event (no stats, -w,
 * -q, ladders or outcome filter): every event on stdout as it comes */
static void json_sink(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	render_json(stdout, ev, ctx);
}

static void text_sink(const struct tl_event *ev, const struct conn *c, void *ctx)
{
	render_text(stdout, ev, ctx);
}

/* a held story, every event as it came (keepalive runs expanded) */
static void print_held(struct app *app, const struct conn *c)
{
	struct conn tmp;
	const struct conn *v = conn_view(c, &tmp);

	if (!v) {
		fprintf(stderr, "tcptimeline: out of memory printing connection #%" PRIu64 "\n",
			c->id);
		return;
	}
	for (size_t i = 0; i < v->n_events; i++)
		render_event(app, &v->events[i]);
	conn_view_done(v, c);
}

/* --json / --live with an outcome filter: a held story is printed whole,
 * in order, when the connection qualifies; then it is no longer held
 * (unless a ladder queue still needs it for --html) */
static void release(struct app *app, const struct conn *c)
{
	if (outcome_wanted(&app->env.outcome, c)) {
		print_held(app, c);
		conn_table_mark_shown(app->table, c);
	}
	if (!app->ladders)
		conn_table_release(app->table, c);
}

static void on_close(const struct conn *c, void *ctx)
{
	struct app *app = ctx;

	/* a connection whose other end qualifies is drawn with it */
	if (app->ladders && (!filtering(app) || outcome_wanted(&app->env.outcome, c)))
		ladder_queue_closed(app->ladders, c);
	if (filtering(app) && !app->ladder)
		release(app, c);
}

/* a reset with no socket behind it: all there is of that "connection" */
static void on_stateless(const struct conn *c, void *ctx)
{
	struct app *app = ctx;

	if (filtering(app) && !app->ladder)
		release(app, c);
}

/* at exit: connections still open are printed if they already qualify */
static void release_open(const struct conn *c, void *ctx)
{
	struct app *app = ctx;

	if (outcome_wanted(&app->env.outcome, c))
		print_held(app, c);
}

static bool ladder_wanted(const struct conn *c, void *ctx)
{
	struct app *app = ctx;

	return !filtering(app) || outcome_wanted(&app->env.outcome, c);
}

static void draw_ladder(const struct conn *a, const struct conn *b, void *ctx)
{
	struct app *app = ctx;

	if (app->ladder)
		render_ladder(stdout, a, b, &app->ropts);
	if (app->html)
		html_page_add(app->html, a, b);
}

static void draw_late(const struct conn *c, void *ctx)
{
	struct app *app = ctx;

	if (app->ladder)
		render_ladder_late(stdout, c, &app->ropts);
	if (app->html)
		html_page_late(app->html, c);
}

/* --html: the file is opened (created or truncated) before tracing starts,
 * so a path that cannot be written is found at once. 0, or exit status 2. */
static int html_open(struct app *app)
{
	app->html_created = access(app->env.html, F_OK) != 0;
	app->html_file = fopen(app->env.html, "w");
	if (!app->html_file) {
		fprintf(stderr, "tcptimeline: cannot write --html %s: %s: give a writable path\n",
			app->env.html, strerror(errno));
		return 2;
	}
	app->html = html_page_new();
	if (!app->html) {
		fprintf(stderr, "tcptimeline: out of memory\n");
		return 1;
	}
	return 0;
}

/* The page, once tracing (or reading) ended. 0, or -EIO (said on stderr). */
static int html_finish(struct app *app, const char *subtitle)
{
	int rc = html_page_write(app->html, app->html_file, subtitle);

	if (fclose(app->html_file))
		rc = -EIO;
	app->html_file = NULL;
	if (rc)
		fprintf(stderr, "tcptimeline: writing --html %s failed: %s\n", app->env.html,
			strerror(-rc));
	return rc;
}

/* --html's file when no page is written (tracing never started): removed
 * if this run created it */
static void html_drop(struct app *app)
{
	if (!app->html_file)
		return;
	fclose(app->html_file);
	app->html_file = NULL;
	if (app->html_created)
		unlink(app->env.html);
}

/* what a live run's page says it shows */
static void html_live_subtitle(const char *filters, uint64_t start_realtime_ns, char *buf,
			       size_t len)
{
	char from[40], to[40], host[256] = "";

	format_rfc3339((int64_t)start_realtime_ns, from, sizeof(from));
	format_rfc3339((int64_t)now_ns(CLOCK_REALTIME), to, sizeof(to));
	if (gethostname(host, sizeof(host) - 1))
		host[0] = '\0';
	snprintf(buf, len, "Traced TCP (%s)%s%s from %s to %s", filters, host[0] ? " on " : "",
		 host, from, to);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct app *app = ctx;
	const struct tt_event *e;

	app->ring_records++;
	app->ring_bytes += size;
	/* the record's kind worked out once (most records are events) */
	switch (decode_record_kind(data, size)) {
	case TT_RECORD_DROP: {
		struct tt_drop d;

		if (decode_drop(data, size, &d))
			app->bad_records++;
		else
			conn_table_add_drop(app->table, &d);
		return 0;
	}
	case TT_RECORD_RTT: {
		struct tt_rtt r;

		if (decode_rtt(data, size, &r))
			app->bad_records++;
		else
			conn_table_add_rtt(app->table, &r);
		return 0;
	}
	case TT_RECORD_STATE: {
		struct tt_state st;

		if (decode_state(data, size, &st))
			app->bad_records++;
		else
			conn_table_add_state(app->table, &st);
		return 0;
	}
	case TT_RECORD_DATA: {
		struct tt_data d;

		if (decode_data(data, size, &d))
			app->bad_records++;
		else
			conn_table_add_data(app->table, &d);
		return 0;
	}
	case TT_RECORD_LOG: {
		/* read in place: the entries are unpacked from it */
		const struct tt_log *l = decode_log_view(data, size);

		if (!l)
			app->bad_records++;
		else
			conn_table_add_log(app->table, l);
		return 0;
	}
	case TT_RECORD_WINDOW: {
		struct tt_window w;

		if (decode_window(data, size, &w))
			app->bad_records++;
		else
			conn_table_add_window(app->table, &w);
		return 0;
	}
	default:
		break;
	}
	e = decode_event_view(data, size);
	if (!e) {
		app->bad_records++;
		return 0;
	}
	conn_table_add_raw(app->table, e);
	return 0;
}

static void on_existing(const struct existing_sock *s, void *ctx)
{
	struct app *app = ctx;

	/* --cgroup: the connections of tasks inside it; their listeners are
	 * seeded so that accepted sockets follow them */
	if (app->env.cgroup_path && (!s->pid || !cgroup_has_pid(&app->cgroup, s->pid)))
		return;
	if (s->state == TT_TCP_LISTEN && s->pid)
		loader_seed_listener(&app->loader, s->ep.family, s->ep.lport, s->pid, s->comm);
	conn_table_add_existing(app->table, &s->ep, s->state, s->pid, s->comm,
				now_ns(CLOCK_MONOTONIC));
}

static void check_counters(struct app *app, bool final)
{
	uint64_t c[TT_CNT_MAX];

	int rc = loader_read_counters(&app->loader, c);

	if (rc) {
		/* after --user on kernels before 5.19, whose bpf() refuses every
		 * command to an unprivileged caller once unprivileged BPF is off */
		if (!app->counters_unreadable)
			fprintf(stderr,
				"tcptimeline: warning: cannot read the loss counters (%s): lost events "
				"are not reported; without --user they are\n",
				strerror(-rc));
		app->counters_unreadable = true;
		if (final)
			fprintf(stderr,
				"tcptimeline: lost events: unknown (counters unreadable)\n");
		return;
	}
	if (c[TT_CNT_LOST] > app->lost_reported) {
		uint64_t delta = c[TT_CNT_LOST] - app->lost_reported;

		if (!app->lost_reported)
			fprintf(stderr,
				"tcptimeline: warning: the ring buffer was full and events were lost: "
				"a larger -b helps\n");
		conn_table_add_lost(app->table, delta, now_ns(CLOCK_MONOTONIC));
		app->lost_reported = c[TT_CNT_LOST];
	}
	if (c[TT_CNT_TRACED_FULL] > app->traced_full_reported) {
		fprintf(stderr,
			"tcptimeline: warning: %llu processes the command forked could not be "
			"followed (map full): their new sockets are not traced\n",
			(unsigned long long)(c[TT_CNT_TRACED_FULL] - app->traced_full_reported));
		app->traced_full_reported = c[TT_CNT_TRACED_FULL];
	}
	if (c[TT_CNT_MAP_FULL] > app->map_full_reported) {
		fprintf(stderr,
			"tcptimeline: warning: %llu sockets could not be followed (socket map full): "
			"raise --max-conns\n",
			(unsigned long long)(c[TT_CNT_MAP_FULL] - app->map_full_reported));
		app->map_full_reported = c[TT_CNT_MAP_FULL];
	}
	if (final) {
		fprintf(stderr, "tcptimeline: lost events: %llu\n",
			(unsigned long long)c[TT_CNT_LOST]);
		fprintf(stderr, "tcptimeline: ring records: %llu (%llu bytes)\n",
			(unsigned long long)app->ring_records, (unsigned long long)app->ring_bytes);
	}
}

static void summarise_open(const struct conn *c, void *ctx)
{
	struct app *app = ctx;
	char l[ADDR_STRLEN + 8], r[ADDR_STRLEN + 8], comm[TT_COMM_LEN * 4] = "?";
	uint64_t now = now_ns(CLOCK_MONOTONIC);

	endpoint_format(c->ep.family, c->ep.laddr, c->ep.lport, l, sizeof(l));
	endpoint_format(c->ep.family, c->ep.raddr, c->ep.rport, r, sizeof(r));
	if (c->pid)
		text_sanitize(c->comm, TT_COMM_LEN, comm, sizeof(comm));
	fprintf(stderr,
		"  #%llu %s > %s (%s %u) %s for %.3f s: %llu B out, %llu B in, %u retransmits, "
		"%u keepalives\n",
		(unsigned long long)c->id, l, r, comm, c->pid, tcp_state_name(c->state),
		(double)(now - c->first_ts) / 1e9, (unsigned long long)c->bytes_out,
		(unsigned long long)c->bytes_in, c->retransmits, c->keepalives);
	(void)app;
}

/* A snapshot of every counter for the HTTP thread: it serves this text
 * and never reads the live counters. */
static void publish_metrics(struct app *app)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!app->http)
		return;
	stats_set_tracked(app->stats, conn_table_open_count(app->table));
	f = open_memstream(&text, &len);
	if (!f)
		return;
	render_metrics(f, app->stats, TCPTIMELINE_VERSION);
	if (fclose(f)) {
		free(text);
		return;
	}
	metrics_http_publish(app->http, text, len);
}

/* --summary: the JSON event in --json mode (the stream's reader wants it);
 * with -q the table is all stdout carries; otherwise it goes to stderr, so
 * a stream of text lines or ladders on stdout stays what scripts expect. */
static void print_summary(struct app *app, bool final)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC);

	stats_set_tracked(app->stats, conn_table_open_count(app->table));
	if (app->env.json)
		render_summary_json(stdout, app->stats, now, now - app->ropts.start_ns, final,
				    &app->ropts);
	else
		render_summary_text(app->env.quiet ? stdout : stderr, app->stats,
				    now - app->ropts.start_ns, final);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return vfprintf(stderr, fmt, args);
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return 0;
}

/* s after what buf (len bytes, NUL-terminated) holds, cut to fit */
static void append(char *buf, size_t len, const char *s)
{
	size_t at = strnlen(buf, len), n = strlen(s);

	if (at + 1 >= len)
		return;
	if (n > len - 1 - at)
		n = len - 1 - at;
	memcpy(buf + at, s, n);
	buf[at + n] = '\0';
}

static void describe_filters(const struct app *app, char *buf, size_t len)
{
	const struct env *env = &app->env;
	char pid[4200] = "any pid";

	if (env->pid)
		snprintf(pid, sizeof(pid), "pid %u", env->pid);
	else if (env->exec)
		snprintf(pid, sizeof(pid), "command %s (pid %d) and its descendants",
			 env->exec_argv[0], (int)app->cmd.pid);
	if (env->cgroup_path) {
		size_t l = strlen(pid);

		snprintf(pid + l, sizeof(pid) - l, ", cgroup %s", app->cgroup.path);
	}
	/* pieces appended, cut to fit: gcc -O1 (the check-asan build) stops on
	 * -Wformat-truncation for one snprintf of them all */
	buf[0] = '\0';
	append(buf, len, env->ports_on ? "port " : "every port");
	append(buf, len, env->ports_on ? env->port_desc : "");
	append(buf, len, ", ");
	append(buf, len, pid);
	append(buf, len, ", ");
	append(buf, len, env->family == 4 ? "IPv4" : env->family == 6 ? "IPv6" : "IPv4 and IPv6");
}

static int epoll_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int run(struct app *app)
{
	struct epoll_event evs[8];
	int epfd = -1, sfd = -1, tfd = -1, ret = 0;
	struct itimerspec its = { .it_interval = { 0, TICK_MS * 1000000L },
				  .it_value = { 0, TICK_MS * 1000000L } };
	uint64_t ticks = 0, deadline = 0;
	sigset_t mask;
	bool stop = false, stopping = false;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (app->cmd_running)
		sigaddset(&mask, SIGCHLD);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || tfd < 0 || epfd < 0 || timerfd_settime(tfd, 0, &its, NULL) ||
	    epoll_add(epfd, loader_ringbuf_fd(&app->loader)) || epoll_add(epfd, sfd) ||
	    epoll_add(epfd, tfd)) {
		ret = -errno;
		fprintf(stderr, "tcptimeline: cannot set up the event loop: %s\n", strerror(-ret));
		goto out;
	}
	if (stdout_watchable()) {
		/* no EPOLLOUT: only EPOLLERR/EPOLLHUP, which epoll always reports */
		struct epoll_event oev = { .events = 0, .data.fd = STDOUT_FILENO };

		if (epoll_ctl(epfd, EPOLL_CTL_ADD, STDOUT_FILENO, &oev)) {
			ret = -errno;
			fprintf(stderr, "tcptimeline: cannot watch stdout: %s\n", strerror(-ret));
			goto out;
		}
	}
	if (app->env.duration_ms)
		deadline = now_ns(CLOCK_MONOTONIC) + app->env.duration_ms * 1000000ULL;

	while (!stop) {
		int n = epoll_wait(epfd, evs, 8, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			fprintf(stderr, "tcptimeline: epoll: %s\n", strerror(-ret));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGCHLD) {
					int st;

					/* -x: the command ended, and with it the trace */
					if (waitpid(app->cmd.pid, &st, WNOHANG) == app->cmd.pid) {
						app->cmd_running = false;
						app->cmd_exit = exec_cmd_exit_code(st);
						stop = true;
					}
				} else if (app->cmd_running && !stopping) {
					/* -x: the first SIGINT/SIGTERM/SIGHUP ends the command,
					 * and the trace with it; one sent by another
					 * process is passed on (a terminal's reached the
					 * command already); a second one stops us now */
					if (si.ssi_code == SI_USER || si.ssi_code == SI_QUEUE)
						kill(app->cmd.pid, (int)si.ssi_signo);
					stopping = true;
				} else {
					stop = true;
				}
			} else if (evs[i].data.fd == tfd) {
				uint64_t exp;

				if (read(tfd, &exp, sizeof(exp)) == sizeof(exp))
					ticks += exp;
				/* the flight recorder's budget: logs of idle sockets */
				if (ticks % LOG_BUDGET_EVERY_TICKS == 0) {
					/* the ring first: a log read from the map
					 * must not overtake the socket's earlier
					 * ones (conn_table_add_log skips one that
					 * would) */
					loader_consume(&app->loader);
					uint64_t now = now_ns(CLOCK_MONOTONIC);

					loader_log_budget(&app->loader, now);
					conn_table_expire_held(app->table, now);
				}
				if (ticks % COUNTER_EVERY_TICKS == 0)
					check_counters(app, false);
				if (ticks % METRICS_EVERY_TICKS == 0)
					publish_metrics(app);
				if (app->env.summary_secs &&
				    now_ns(CLOCK_MONOTONIC) >= app->next_summary_ns) {
					print_summary(app, false);
					app->next_summary_ns +=
						app->env.summary_secs * 1000000000ULL;
				}
				if (deadline && now_ns(CLOCK_MONOTONIC) >= deadline)
					stop = true;
			} else if (evs[i].data.fd == STDOUT_FILENO &&
				   (evs[i].events & (EPOLLERR | EPOLLHUP)) && !app->out_errno) {
				app->out_errno = EPIPE;
				fprintf(stderr,
					"tcptimeline: stdout: its reader went away: stopping\n");
				stop = true;
			}
		}
		int rc = loader_consume(&app->loader);

		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "tcptimeline: reading the ring buffer failed: %s\n",
				strerror(-rc));
			ret = rc;
			break;
		}
		if (app->ladders)
			ladder_queue_tick(app->ladders, now_ns(CLOCK_MONOTONIC));
		if (!flush_stdout(app))
			stop = true;
		if (app->write)
			fflush(app->write);
	}
	/* a second Ctrl-C while we finish kills us */
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	loader_consume(&app->loader);
	conn_table_expire_held(app->table, UINT64_MAX); /* the end: every drop judged */
out:
	if (epfd >= 0)
		close(epfd);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	return ret;
}

/* -w's file: flushed and closed, a failed write said (a full disk) */
static int close_write(struct app *app)
{
	int bad;

	if (!app->write)
		return 0;
	bad = fflush(app->write) || ferror(app->write);
	if (bad)
		fprintf(stderr, "tcptimeline: writing %s failed: %s\n", app->env.write_path,
			strerror(errno));
	if (fclose(app->write) && !bad) {
		fprintf(stderr, "tcptimeline: writing %s failed: %s\n", app->env.write_path,
			strerror(errno));
		bad = 1;
	}
	app->write = NULL;
	return bad;
}

static size_t replay_tick(uint64_t now_ns, void *ctx)
{
	struct app *app = ctx;

	if (!app->ladders)
		return 0;
	ladder_queue_tick(app->ladders, now_ns);
	return ladder_queue_pending(app->ladders);
}

/*
 * -r: a recording through the same table, queue and renderers as a live
 * run, in the order it was written, with the recording's clock for the
 * ladder queue. Nothing here touches libbpf or needs privileges.
 */
static int replay(struct app *app)
{
	const char *path = app->env.read_path;
	const char *name = strcmp(path, "-") ? path : "stdin";
	struct jsonl_reader_opts ro = {
		.table = app->table,
		.name = path,
		.err = stderr,
		.realtime_offset_ns = &app->ropts.realtime_offset_ns,
		.start_ns = &app->ropts.start_ns,
		.tick = replay_tick,
		.ctx = app,
	};
	struct jsonl_reader_stats st;
	FILE *in = strcmp(path, "-") ? fopen(path, "re") : stdin;
	int ret = 0;

	if (!in) {
		fprintf(stderr, "tcptimeline: cannot read %s: %s\n", path, strerror(errno));
		ret = 1;
		goto out;
	}
	if (jsonl_read(in, &ro, &st)) {
		fprintf(stderr, "tcptimeline: reading %s failed: %s\n", name, strerror(EIO));
		ret = 1;
	}
	/* the end of the recording is the end of the run: what is held, and
	 * every connection still open when it was made, drawn now */
	if (app->ladders)
		ladder_queue_flush(app->ladders);
	if (!flush_stdout(app))
		ret = 1;
	if (app->html) {
		char sub[PATH_MAX + 64];

		snprintf(sub, sizeof(sub), "Read from the recording %s", name);
		if (html_finish(app, sub))
			ret = 1;
	}
	if (st.unknown)
		fprintf(stderr,
			"tcptimeline: warning: %llu events of kinds this version does "
			"not know skipped in %s\n",
			(unsigned long long)st.unknown, name);
	if (st.malformed) {
		fprintf(stderr,
			"tcptimeline: %llu malformed line%s skipped in %s (the first: "
			"line %llu): what is drawn may be incomplete\n",
			(unsigned long long)st.malformed, st.malformed == 1 ? "" : "s", name,
			(unsigned long long)st.first_malformed_line);
		ret = 1;
	}
	if (!st.events && !st.malformed && !ret)
		fprintf(stderr, "tcptimeline: warning: no events in %s\n", name);
	if (in != stdin)
		fclose(in);
out:
	if (close_write(app))
		ret = 1;
	html_drop(app);
	html_page_free(app->html);
	ladder_queue_free(app->ladders);
	conn_table_free(app->table);
	rst_reasons_clear();
	return ret;
}

int main(int argc, char **argv)
{
	struct app app;
	struct conn_table_opts topts = { 0 };
	char err[512], filters[256];
	uint64_t start_realtime;
	enum parse_result pr;
	uid_t uid = 0;
	gid_t gid = 0;
	sigset_t mask;
	int ret, found;

	memset(&app, 0, sizeof(app));
	/* --max-memory bounds what the table holds; for the process to stay
	 * near that, memory handed back must leave it: event arrays from 64 KiB
	 * up are mapped on their own (glibc would otherwise raise the threshold
	 * after the first such free and keep them in a fragmenting heap) */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	env_defaults(&app.env);
	pr = parse_options(argc, argv, &app.env, stdout, stderr);
	if (pr == PARSE_EXIT && app.env.version) {
		libbpf_set_print(app.env.verbose ? libbpf_print : libbpf_quiet);
		/* TCPTIMELINE_BTF: another BTF file to report on (tests, or the
		 * BTF of a kernel the tracer is meant for) */
		return version_report(stdout, getenv("TCPTIMELINE_BTF"));
	}
	if (pr == PARSE_EXIT)
		return 0;
	if (pr == PARSE_USAGE)
		return 2;
	/* -p for a process that is not there follows nothing: a usage error */
	if (app.env.pid && kill((pid_t)app.env.pid, 0) && errno == ESRCH) {
		fprintf(stderr,
			"tcptimeline: no process with pid %u: give the pid of a running process "
			"(see tcptimeline --help)\n",
			app.env.pid);
		return 2;
	}

	libbpf_set_print(app.env.verbose ? libbpf_print : libbpf_quiet);
	/* Into a pipe or a file, output is written in 64 KiB blocks: the loop
	 * flushes after each batch it drains, so nothing waits longer than a
	 * poll interval. The stream remembers why a write failed. */
	{
		FILE *out = output_open(STDOUT_FILENO, isatty(STDOUT_FILENO));

		if (!out) {
			fprintf(stderr, "tcptimeline: out of memory\n");
			return 1;
		}
		stdout = out;
	}
	/* SIGINT/SIGTERM/SIGHUP arrive through the signalfd, from the first
	 * moment; SIGHUP (the terminal or the service manager going away) ends
	 * the tracer as cleanly as SIGTERM */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	/* -x: the command's end arrives through the signalfd too */
	if (app.env.exec)
		sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (app.env.cgroup_path) {
		if (cgroup_resolve(app.env.cgroup_path, &app.cgroup, err, sizeof(err))) {
			fprintf(stderr, "tcptimeline: %s\n", err);
			return 2;
		}
		app.env.cgroup_id = app.cgroup.id;
	}
	/* what can fail for the user's own reasons fails before anything is loaded */
	if (app.env.user[0] && privs_lookup(app.env.user, &uid, &gid, err, sizeof(err))) {
		fprintf(stderr, "tcptimeline: %s\n", err);
		return 2;
	}
	if (app.env.summary_secs || app.env.metrics_on) {
		app.stats = stats_new(app.env.ports_on ? app.env.port_bits : NULL);
		if (!app.stats) {
			fprintf(stderr, "tcptimeline: out of memory\n");
			return 1;
		}
	}
	/* bound before the drop (a port below 1024 needs root), served from
	 * libmicrohttpd's thread, which inherits the blocked SIGINT/SIGTERM */
	if (app.env.metrics_on) {
		app.http = metrics_http_start(app.env.metrics_family, app.env.metrics_addr,
					      app.env.metrics_port, err, sizeof(err));
		if (!app.http) {
			fprintf(stderr, "tcptimeline: %s\n", err);
			stats_free(app.stats);
			return 1;
		}
	}

	if (app.env.write_path) {
		app.write = fopen(app.env.write_path, "we");
		if (!app.write) {
			fprintf(stderr, "tcptimeline: cannot write %s: %s\n", app.env.write_path,
				strerror(errno));
			return 1;
		}
		setvbuf(app.write, NULL, _IOFBF, 64 * 1024);
	}

	app.ropts.realtime_offset_ns = realtime_offset_ns();
	app.ropts.start_ns = now_ns(CLOCK_MONOTONIC);
	start_realtime = now_ns(CLOCK_REALTIME);
	app.ropts.timestamp = app.env.timestamp;
	app.ropts.color = !app.env.json && !app.env.no_color && isatty(STDOUT_FILENO) &&
			  !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
	/* ladders: asked for, or the default on a terminal */
	app.ladder = app.env.ladder ||
		     (!app.env.quiet && !app.env.json && !app.env.live && isatty(STDOUT_FILENO));

	topts.max_open = app.env.max_conns;
	topts.max_closed = 1024;
	topts.sink = sink;
	topts.sink_ctx = &app;
	/* nothing per event but the stats: no call through sink's tests */
	if (app.stats && !app.write && (app.env.quiet || app.ladder)) {
		topts.sink = stats_sink;
		topts.sink_ctx = app.stats;
	} else if (!app.stats && !app.write && !app.env.quiet && !app.ladder) {
		/* events on stdout only: held for the outcome filter, or as they come */
		if (filtering(&app)) {
			topts.sink = held_sink;
		} else {
			topts.sink = app.env.json ? json_sink : text_sink;
			topts.sink_ctx = &app.ropts;
		}
	}
	if (app.env.html) {
		ret = html_open(&app);
		if (ret)
			return ret;
	}
	/* everything the tracer holds, within --max-memory */
	topts.max_memory = (size_t)app.env.max_memory_mb << 20;
	if (app.ladder || app.html || filtering(&app)) {
		topts.max_events_per_conn = HELD_MAX_EVENTS;
		topts.on_close = on_close;
		topts.on_stateless = on_stateless;
		topts.on_close_ctx = &app;
	}
	app.table = conn_table_new(&topts);
	if (app.table && (app.ladder || app.html)) {
		struct ladder_queue_opts qopts = {
			.hold_ns = LADDER_HOLD_NS,
			.grace_ns = LADDER_GRACE_NS,
			.draw = draw_ladder,
			.late = draw_late,
			.wanted = ladder_wanted,
			.ctx = &app,
		};

		app.ladders = ladder_queue_new(app.table, &qopts);
	}
	if (!app.table || ((app.ladder || app.html) && !app.ladders)) {
		fprintf(stderr, "tcptimeline: out of memory\n");
		ret = -ENOMEM;
		goto cleanup;
	}
	if (app.env.read_path)
		return replay(&app);

	ret = loader_start(&app.loader, &app.env, on_event, &app, stderr, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "tcptimeline: %s\n", err);
		goto cleanup;
	}
	conn_table_set_kernel_reports_errors(app.table, app.loader.has_error_report);
	/* with the flight recorder, a drop may come before the story of the
	 * end it came into: a bare ACK waits for it (conn_table.h) */
	if (app.loader.log_slots)
		conn_table_set_hold_drops(app.table, DROP_HOLD_NS);

	/* -x: the command is forked now, traced before it may exec, and has no
	 * sockets yet: nothing open before it to list */
	if (app.env.exec) {
		ret = exec_cmd_prepare(&app.cmd, app.env.exec_argv, err, sizeof(err));
		if (!ret && loader_trace_pid(&app.loader, (uint32_t)app.cmd.pid)) {
			ret = -errno;
			snprintf(err, sizeof(err), "cannot trace the command's pid: %s",
				 strerror(-ret));
			exec_cmd_abort(&app.cmd);
		}
		if (ret) {
			fprintf(stderr, "tcptimeline: %s\n", err);
			goto cleanup;
		}
		found = 0;
	} else {
		found = existing_scan(&app.env, on_existing, &app);
	}
	if (found < 0)
		fprintf(stderr,
			"tcptimeline: warning: cannot list connections open before tracing (%s): "
			"their events will show without an owner\n",
			strerror(-found));
	flush_stdout(&app);

	if (app.env.user[0]) {
		if (privs_drop(app.env.user, uid, gid, err, sizeof(err))) {
			fprintf(stderr, "tcptimeline: %s\n", err);
			ret = -EPERM;
			goto cleanup;
		}
	}
	if (app.stats) {
		publish_metrics(&app);
		app.next_summary_ns =
			now_ns(CLOCK_MONOTONIC) + app.env.summary_secs * 1000000000ULL;
	}

	describe_filters(&app, filters, sizeof(filters));
	fprintf(stderr, "tcptimeline: tracing TCP (%s); Ctrl-C to stop\n", filters);
	if (app.env.exec) {
		ret = exec_cmd_start(&app.cmd, app.env.exec_argv[0], err, sizeof(err));
		if (ret) {
			/* as a shell says it: 127 not found, 126 not runnable */
			fprintf(stderr, "tcptimeline: %s\n", err);
			waitpid(app.cmd.pid, NULL, 0);
			app.cmd_exit = ret == -ENOENT ? 127 : 126;
			goto cleanup;
		}
		app.cmd_running = true;
	}

	ret = run(&app);
	/* what is held, and every connection still open, drawn now (not into
	 * an output that has failed) */
	if (app.ladders && !app.out_errno)
		ladder_queue_flush(app.ladders);
	if (filtering(&app) && !app.ladder && !app.out_errno)
		conn_table_foreach_open(app.table, release_open, &app);
	if (app.html) {
		char sub[768];

		html_live_subtitle(filters, start_realtime, sub, sizeof(sub));
		if (html_finish(&app, sub) && !ret)
			ret = -EIO;
	}
	flush_stdout(&app);

	check_counters(&app, true);
	if (app.env.summary_secs)
		print_summary(&app, true);
	if (app.stats)
		publish_metrics(&app);
	if (app.ladder || filtering(&app)) {
		uint64_t n = conn_table_not_kept(app.table);

		/* held stories cut in the middle are marked where they were cut;
		 * this counts what is missing in all of them */
		fprintf(stderr, "tcptimeline: events not kept: %llu%s\n", (unsigned long long)n,
			n ? " (the middle of long connections: raise --max-memory)" : "");
	}
	if (app.bad_records)
		fprintf(stderr, "tcptimeline: warning: %llu malformed records ignored\n",
			(unsigned long long)app.bad_records);
	if (conn_table_evicted(app.table))
		fprintf(stderr,
			"tcptimeline: warning: %llu connections dropped from the table (full): "
			"raise --max-conns\n",
			(unsigned long long)conn_table_evicted(app.table));
	if (conn_table_open_count(app.table)) {
		size_t open = conn_table_open_count(app.table);

		fprintf(stderr, "tcptimeline: %zu connection%s still open:\n", open,
			open == 1 ? "" : "s");
		conn_table_foreach_open(app.table, summarise_open, &app);
	}
	flush_stdout(&app);

cleanup:
	/* one way out, in reverse order of set-up (each is a no-op on what was
	 * never set up) */
	metrics_http_stop(app.http);
	stats_free(app.stats);
	loader_stop(&app.loader);
	if (close_write(&app))
		ret = -EIO;
	html_drop(&app);
	html_page_free(app.html);
	ladder_queue_free(app.ladders);
	conn_table_free(app.table);
	rst_reasons_clear();
	drop_reasons_clear();
	/* -x: a command forked but never let run (the tracer failed in
	 * between) exits without running, and is reaped */
	if (app.cmd.pid && app.cmd.go_fd >= 0)
		exec_cmd_abort(&app.cmd);
	/* -x: the command's exit status, once it ended (a failed tracer, or
	 * a command that could not run, is still an error) */
	if (app.env.exec && app.cmd_exit)
		return app.cmd_exit;
	if (app.env.exec && app.cmd_running)
		fprintf(stderr, "tcptimeline: the trace ended before %s (pid %d), which runs on\n",
			app.env.exec_argv[0], (int)app.cmd.pid);
	return ret || app.out_errno ? 1 : 0;
}
