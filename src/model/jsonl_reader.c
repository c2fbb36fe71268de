// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * JSON Lines back into tl_events (see jsonl_reader.h). Parsing is jansson's
 * (Debian's libjansson): strict JSON, UTF-8 checked. What is read is what
 * README's contract table says --json writes, field by field; a field a
 * renderer needs that is missing or of the wrong type makes the line
 * malformed, an unknown field is ignored (the contract may add fields), an
 * unknown event kind is counted and skipped (a newer tracer's recording).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "jsonl_reader.h"
#include "names.h"

/* A line is parsed in one go; the first problem ends it, into why[]. */
struct line_ctx {
	json_t *obj;
	char *why;
	size_t why_len;
	bool bad;
};

static bool bad(struct line_ctx *lc, const char *fmt, ...)
{
	va_list ap;

	if (lc->bad)
		return false;
	lc->bad = true;
	va_start(ap, fmt);
	vsnprintf(lc->why, lc->why_len, fmt, ap);
	va_end(ap);
	return false;
}

/* A whole number in [min, max]; null allowed when *is_null is given. */
static bool get_int(struct line_ctx *lc, const char *key, long long min, long long max,
		    long long *out, bool *is_null)
{
	json_t *v = json_object_get(lc->obj, key);

	if (is_null)
		*is_null = false;
	if (!v)
		return bad(lc, "no \"%s\"", key);
	if (json_is_null(v) && is_null) {
		*is_null = true;
		*out = 0;
		return true;
	}
	if (!json_is_integer(v))
		return bad(lc, "\"%s\" is not a whole number", key);
	*out = json_integer_value(v);
	if (*out < min || *out > max)
		return bad(lc, "\"%s\" out of range (%lld)", key, *out);
	return true;
}

static bool get_u32(struct line_ctx *lc, const char *key, uint32_t *out)
{
	long long v = 0;

	if (!get_int(lc, key, 0, UINT32_MAX, &v, NULL))
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool get_u64(struct line_ctx *lc, const char *key, uint64_t *out)
{
	long long v = 0;

	if (!get_int(lc, key, 0, LLONG_MAX, &v, NULL))
		return false;
	*out = (uint64_t)v;
	return true;
}

/* A string; NULL for null when null_ok (a missing key is an error). */
static bool get_str(struct line_ctx *lc, const char *key, bool null_ok, const char **out)
{
	json_t *v = json_object_get(lc->obj, key);

	*out = NULL;
	if (!v)
		return bad(lc, "no \"%s\"", key);
	if (json_is_null(v) && null_ok)
		return true;
	if (!json_is_string(v))
		return bad(lc, "\"%s\" is not a string", key);
	*out = json_string_value(v);
	return true;
}

/* An extension field: absent or null is false. */
static bool get_flag(struct line_ctx *lc, const char *key)
{
	json_t *v = json_object_get(lc->obj, key);

	if (v && !json_is_boolean(v) && !json_is_null(v))
		return bad(lc, "\"%s\" is not true or false", key);
	return v && json_is_true(v);
}

/* A comm: at most TT_COMM_LEN - 1 bytes, cut at a character boundary (a
 * name the tracer wrote with U+FFFD in it can be longer in UTF-8). */
static void copy_comm(char *dst, const char *src)
{
	size_t n = strlen(src);

	if (n > TT_COMM_LEN - 1) {
		n = TT_COMM_LEN - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memset(dst, 0, TT_COMM_LEN);
	memcpy(dst, src, n);
}

static bool get_dir(struct line_ctx *lc, uint8_t *dir)
{
	const char *s;

	if (!get_str(lc, "dir", false, &s))
		return false;
	if (!strcmp(s, "in"))
		*dir = TT_DIR_IN;
	else if (!strcmp(s, "out"))
		*dir = TT_DIR_OUT;
	else
		return bad(lc, "\"dir\" is \"%.20s\", not \"in\" or \"out\"", s);
	return true;
}

static bool get_state(struct line_ctx *lc, const char *key, uint8_t *state)
{
	const char *s;
	int v;

	if (!get_str(lc, key, false, &s))
		return false;
	v = tcp_state_from_name(s);
	if (!v && strcmp(s, "UNKNOWN"))
		return bad(lc, "\"%s\" is \"%.20s\", not a TCP state", key, s);
	*state = (uint8_t)v;
	return true;
}

static bool get_segment(struct line_ctx *lc, const char *key, const char **out)
{
	const char *s;

	if (!get_str(lc, key, true, &s))
		return false;
	*out = s ? segment_label(s) : NULL;
	if (s && !*out)
		return bad(lc, "\"%s\" is \"%.20s\", not a control segment", key, s);
	return true;
}

/* by_pid, by_comm and the extension by_exit_status: a task, or none */
static bool get_task(struct line_ctx *lc, struct tl_task *t, bool optional)
{
	long long pid = 0, status = 0;
	bool none = false;
	const char *comm;

	memset(t, 0, sizeof(*t));
	if (optional && !json_object_get(lc->obj, "by_pid"))
		return true; /* recorded before rst events named their task */
	if (!get_int(lc, "by_pid", 0, UINT32_MAX, &pid, &none) ||
	    !get_str(lc, "by_comm", true, &comm))
		return false;
	if (none)
		return true;
	t->pid = (uint32_t)pid;
	copy_comm(t->comm, comm ? comm : "");
	if (json_object_get(lc->obj, "by_exit_status")) {
		if (!get_int(lc, "by_exit_status", INT32_MIN, INT32_MAX, &status, &none))
			return false;
		t->exiting = !none;
		t->exit_code = (int32_t)status;
	}
	return true;
}

static bool get_addr(struct line_ctx *lc, const char *key, uint8_t family, uint8_t out[16])
{
	const char *s;

	if (!get_str(lc, key, false, &s))
		return false;
	memset(out, 0, 16);
	if (inet_pton(family == 6 ? AF_INET6 : AF_INET, s, out) != 1)
		return bad(lc, "\"%s\" is \"%.48s\", not an IPv%u address", key, s, family);
	return true;
}

/* "2026-11-24T03:49:47.123456Z" as microseconds since the epoch */
static bool parse_time(const char *s, int64_t *us)
{
	struct tm tm;
	const char *p;
	long frac = 0;
	int digits = 0;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p || tm.tm_year < 70 || tm.tm_year > 9999 - 1900)
		return false;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
			frac = frac * 10 + (*p - '0');
		if (!digits)
			return false;
	}
	for (; digits < 6; digits++)
		frac *= 10;
	if (strcmp(p, "Z"))
		return false;
	*us = (int64_t)timegm(&tm) * 1000000 + frac;
	/* 1970 to 2116: nanoseconds of it, plus or minus ts_ns, fit 64 bits */
	return *us >= 0 && *us <= (1LL << 62) / 1000;
}

/* an optional count of microseconds: absent or null is TT_RTT_NONE */
static bool get_us(struct line_ctx *lc, const char *key, uint32_t *out)
{
	long long v = 0;
	bool none = false;

	*out = TT_RTT_NONE;
	if (!json_object_get(lc->obj, key))
		return true;
	if (!get_int(lc, key, 0, TT_RTT_NONE - 1, &v, &none))
		return false;
	if (!none)
		*out = (uint32_t)v;
	return true;
}

/* A duration written in milliseconds with three decimals, back to ns. */
static bool get_ms(struct line_ctx *lc, const char *name, uint64_t *ns)
{
	json_t *d = json_object_get(lc->obj, name);

	if (!d || !json_is_number(d) || json_number_value(d) < 0 || json_number_value(d) > 1e13)
		return bad(lc, "\"%s\" is not a duration", name);
	*ns = (uint64_t)(json_number_value(d) * 1000.0 + 0.5) * 1000;
	return true;
}

static bool parse_close(struct line_ctx *lc, struct tl_event *ev)
{
	const char *cause, *sig;
	long long code = 0;
	bool none = false;
	json_t *d;
	int c;

	if (!get_str(lc, "cause", false, &cause))
		return false;
	for (c = CAUSE_UNKNOWN; c <= CAUSE_SYN_TIMEOUT; c++)
		if (!strcmp(cause_name((enum tl_cause)c), cause))
			break;
	if (c > CAUSE_SYN_TIMEOUT)
		return bad(lc, "\"cause\" is \"%.24s\", not a cause", cause);
	ev->close.cause = (enum tl_cause)c;
	if (!get_task(lc, &ev->close.by, false) || !get_str(lc, "signal", true, &sig) ||
	    !get_int(lc, "exit_code", 0, 255, &code, &none))
		return false;
	ev->close.exit_code = none ? -1 : (int32_t)code;
	if (sig) {
		ev->close.signal = signal_from_name(sig);
		if (!ev->close.signal)
			return bad(lc, "\"signal\" is \"%.20s\", not a signal", sig);
	} else if (ev->close.cause == CAUSE_KILLED && ev->close.by.exiting) {
		/* a signal with no name of ours: the status still has its number */
		ev->close.signal = ev->close.by.exit_code & 0x7f;
	}
	/* recorded before by_exit_status: the cause says how the closer ended */
	if (ev->close.by.pid && !ev->close.by.exiting &&
	    (ev->close.cause == CAUSE_KILLED || ev->close.cause == CAUSE_PROCESS_EXIT)) {
		ev->close.by.exiting = true;
		ev->close.by.exit_code = ev->close.cause == CAUSE_KILLED ?
						 ev->close.signal :
						 (ev->close.exit_code > 0 ? ev->close.exit_code : 0)
							 << 8;
	}
	d = json_object_get(lc->obj, "duration_ms");
	if (!d || !json_is_number(d) || json_number_value(d) < 0 || json_number_value(d) > 1e13)
		return bad(lc, "\"duration_ms\" is not a duration");
	/* written rounded to the microsecond: read back to that microsecond */
	ev->close.duration_ns = (uint64_t)(json_number_value(d) * 1000.0 + 0.5) * 1000;
	if (!get_u64(lc, "bytes_in", &ev->close.bytes_in) ||
	    !get_u64(lc, "bytes_out", &ev->close.bytes_out) ||
	    !get_u32(lc, "retransmits", &ev->close.retransmits) ||
	    !get_u32(lc, "keepalives", &ev->close.keepalives))
		return false;
	/* extensions, absent in older recordings */
	if (json_object_get(lc->obj, "drops") && !get_u32(lc, "drops", &ev->close.drops))
		return false;
	if (json_object_get(lc->obj, "stalled_ms") &&
	    !get_u32(lc, "stalled_ms", &ev->close.stalled_ms))
		return false;
	return get_us(lc, "srtt_us", &ev->close.srtt_us) &&
	       get_us(lc, "min_rtt_us", &ev->close.min_rtt_us);
}

static bool parse_drop(struct line_ctx *lc, struct tl_event *ev)
{
	const char *reason, *flags;
	long long port = 0;
	int f;

	if (!get_dir(lc, &ev->drop.dir) || !get_str(lc, "reason", true, &reason) ||
	    !get_str(lc, "flags", false, &flags) || !get_u32(lc, "bytes", &ev->drop.bytes))
		return false;
	/* names only: this machine's kernel (if any) may number them otherwise */
	ev->drop.reason = reason ? drop_reason_by_name(reason) : TT_DROP_REASON_NONE;
	f = tcp_flags_from_name(flags);
	if (f < 0)
		return bad(lc, "\"flags\" is \"%.20s\", not TCP flags", flags);
	ev->drop.flags = (uint8_t)f;
	ev->drop.listener = get_flag(lc, "listener");
	if (ev->drop.listener) {
		if (!get_addr(lc, "peer_addr", ev->ep.family, ev->drop.peer_addr) ||
		    !get_int(lc, "peer_port", 0, 65535, &port, NULL))
			return false;
		ev->drop.peer_port = (uint16_t)port;
	}
	return !lc->bad;
}

static bool parse_window(struct line_ctx *lc, struct tl_event *ev)
{
	const char *state;

	if (!get_dir(lc, &ev->window.dir) || !get_str(lc, "state", false, &state) ||
	    !get_u32(lc, "queued", &ev->window.queued))
		return false;
	if (strcmp(state, "zero") && strcmp(state, "open"))
		return bad(lc, "\"state\" is \"%.20s\", not zero or open", state);
	ev->window.open = !strcmp(state, "open");
	ev->window.inferred = get_flag(lc, "inferred");
	if (ev->window.open) {
		if (!get_ms(lc, "stalled_ms", &ev->window.stalled_ns))
			return false;
		if (json_object_get(lc->obj, "probes") &&
		    !get_u32(lc, "probes", &ev->window.probes))
			return false;
	}
	return !lc->bad;
}

static bool parse_kind(struct line_ctx *lc, struct tl_event *ev)
{
	const char *s;
	long long v = 0;
	bool none = false;

	switch (ev->kind) {
	case TL_STATE:
		if (!get_state(lc, "old", &ev->state.old_state) ||
		    !get_state(lc, "new", &ev->state.new_state) ||
		    !get_segment(lc, "sent", &ev->state.sent) ||
		    !get_segment(lc, "received", &ev->state.received) ||
		    !get_task(lc, &ev->state.actor, false))
			return false;
		if (!get_us(lc, "handshake_us", &ev->state.handshake_us))
			return false;
		ev->state.time_wait = get_flag(lc, "time_wait");
		ev->state.fin_wait2_dropped = get_flag(lc, "fin_wait2_dropped");
		if (json_object_get(lc->obj, "tw_state")) {
			if (!get_str(lc, "tw_state", true, &s))
				return false;
			if (s && strcmp(s, "FIN_WAIT2"))
				return bad(lc, "\"tw_state\" is \"%.20s\", not FIN_WAIT2", s);
			ev->state.tw_fin_wait2 = s != NULL;
		}
		return !lc->bad;
	case TL_DATA:
		ev->data.inferred = get_flag(lc, "inferred");
		return get_dir(lc, &ev->data.dir) && get_u64(lc, "bytes", &ev->data.bytes) &&
		       get_u32(lc, "segments", &ev->data.segs);
	case TL_RETRANSMIT: {
		json_t *syn = json_object_get(lc->obj, "syn");

		if (!get_u32(lc, "seq", &ev->retrans.seq) ||
		    !get_u32(lc, "count", &ev->retrans.count))
			return false;
		if (!syn || !json_is_boolean(syn))
			return bad(lc, "\"syn\" is not true or false");
		ev->retrans.syn = json_is_true(syn);
		if (json_object_get(lc->obj, "failed")) {
			if (!get_str(lc, "failed", true, &s))
				return false;
			/* a name that is none of ours was written as "error": any
			 * errno without a name draws it so again */
			if (s)
				ev->retrans.err = errno_from_name(s) ? -errno_from_name(s) : -4095;
		}
		return true;
	}
	case TL_KA_PROBE:
		return get_dir(lc, &ev->ka_probe.dir) && get_u32(lc, "n", &ev->ka_probe.n);
	case TL_KA_ACK:
		if (!get_dir(lc, &ev->ka_ack.dir) ||
		    !get_int(lc, "rtt_us", 0, LLONG_MAX / 1000, &v, &none))
			return false;
		ev->ka_ack.rtt_ns = (uint64_t)v * 1000;
		if (!none && json_object_get(lc->obj, "rtt_ns") &&
		    !get_u64(lc, "rtt_ns", &ev->ka_ack.rtt_ns))
			return false;
		ev->ka_ack.inferred = get_flag(lc, "inferred");
		return true;
	case TL_RST:
		if (!get_dir(lc, &ev->rst.dir) || !get_str(lc, "reason", true, &s) ||
		    !get_task(lc, &ev->rst.actor, true))
			return false;
		/* names only: this machine's kernel (if any) may number them otherwise */
		ev->rst.reason = s ? rst_reason_by_name(s) : TT_RST_REASON_NONE;
		return true;
	case TL_ERROR:
		if (!get_int(lc, "errno", INT32_MIN, INT32_MAX, &v, NULL))
			return false;
		ev->error.err = (int32_t)v;
		ev->error.inferred = get_flag(lc, "inferred");
		return !lc->bad;
	case TL_CLOSE:
		return parse_close(lc, ev);
	case TL_EXISTING:
		return get_state(lc, "state", &ev->existing.state);
	case TL_LOST:
		return get_u64(lc, "count", &ev->lost.count);
	case TL_TRUNCATED:
		return get_u64(lc, "count", &ev->truncated.count);
	case TL_DROP:
		return parse_drop(lc, ev);
	case TL_WINDOW:
		return parse_window(lc, ev);
	case TL_KA_RUN: /* internal to held stories: no JSON name */
		break;
	}
	return false;
}

/* conn, family, addresses, ports, owner: every event but lost */
static bool parse_conn(struct line_ctx *lc, struct tl_event *ev)
{
	long long family = 0, pid = 0;
	const char *comm;
	bool none = false;

	if (!get_int(lc, "conn", 1, LLONG_MAX, &family, NULL))
		return false;
	ev->conn = (uint64_t)family;
	if (!get_int(lc, "family", 4, 6, &family, NULL))
		return false;
	if (family == 5)
		return bad(lc, "\"family\" is 5, not 4 or 6");
	ev->ep.family = (uint8_t)family;
	if (!get_addr(lc, "laddr", ev->ep.family, ev->ep.laddr) ||
	    !get_addr(lc, "raddr", ev->ep.family, ev->ep.raddr))
		return false;
	if (!get_int(lc, "lport", 0, 65535, &family, NULL))
		return false;
	ev->ep.lport = (uint16_t)family;
	if (!get_int(lc, "rport", 0, 65535, &family, NULL))
		return false;
	ev->ep.rport = (uint16_t)family;
	if (!get_int(lc, "pid", 0, UINT32_MAX, &pid, &none) || !get_str(lc, "comm", true, &comm))
		return false;
	ev->pid = (uint32_t)pid;
	if (!none)
		copy_comm(ev->comm, comm ? comm : "");
	return true;
}

enum jsonl_parse jsonl_parse_line(const char *line, size_t len, struct tl_event *ev,
				  int64_t *time_us, char *why, size_t why_len)
{
	struct line_ctx lc = { .why = why, .why_len = why_len };
	json_error_t jerr;
	const char *kind, *tstr;
	enum jsonl_parse ret = JSONL_MALFORMED;
	long long ts = 0;
	size_t i;
	int k;

	memset(ev, 0, sizeof(*ev));
	*time_us = INT64_MIN;
	if (why_len)
		why[0] = '\0';
	for (i = 0;
	     i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n');
	     i++)
		;
	if (i == len)
		return JSONL_BLANK;
	lc.obj = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!lc.obj) {
		bad(&lc, "not JSON (%s, column %d)", jerr.text, jerr.column);
		return JSONL_MALFORMED;
	}
	if (!json_is_object(lc.obj)) {
		bad(&lc, "not a JSON object");
		goto out;
	}
	/* CLOCK_MONOTONIC: 2^62 ns is 146 years of uptime; the bound keeps
	 * ts_ns plus the realtime offset inside 64 bits */
	if (!get_str(&lc, "event", false, &kind) || !get_int(&lc, "ts_ns", 0, 1LL << 62, &ts, NULL))
		goto out;
	ev->ts_ns = (uint64_t)ts;
	for (k = TL_STATE; k <= TL_WINDOW; k++)
		if (!strcmp(tl_kind_name((enum tl_kind)k), kind))
			break;
	if (k > TL_WINDOW) {
		ret = JSONL_UNKNOWN;
		goto out;
	}
	ev->kind = (enum tl_kind)k;
	if (json_object_get(lc.obj, "time")) {
		if (!get_str(&lc, "time", true, &tstr))
			goto out;
		if (tstr && !parse_time(tstr, time_us)) {
			bad(&lc, "\"time\" is \"%.40s\", not RFC 3339 UTC", tstr);
			goto out;
		}
	}
	if (ev->kind != TL_LOST && !parse_conn(&lc, ev))
		goto out;
	if (parse_kind(&lc, ev) && !lc.bad)
		ret = JSONL_EVENT;
out:
	json_decref(lc.obj);
	return ret;
}

/* The rest of a line too long for the buffer. false at end of file. */
static bool skip_line(FILE *in)
{
	int c;

	while ((c = getc(in)) != EOF)
		if (c == '\n')
			return true;
	return false;
}

int jsonl_read(FILE *in, const struct jsonl_reader_opts *o, struct jsonl_reader_stats *st)
{
	static char line[JSONL_MAX_LINE + 2];
	const char *name = !strcmp(o->name, "-") ? "stdin" : o->name;
	uint64_t next_tick = 0;
	bool have_offset = false, first = true;
	int64_t offset = 0;

	memset(st, 0, sizeof(*st));
	while (fgets(line, sizeof(line), in)) {
		size_t len = strlen(line);
		struct tl_event ev;
		char why[160];
		int64_t time_us;
		enum jsonl_parse r;

		st->lines++;
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			skip_line(in);
			r = JSONL_MALFORMED;
			snprintf(why, sizeof(why), "longer than %d bytes", JSONL_MAX_LINE);
		} else {
			r = jsonl_parse_line(line, len, &ev, &time_us, why, sizeof(why));
		}
		if (r == JSONL_MALFORMED) {
			if (!st->malformed++)
				st->first_malformed_line = st->lines;
			if (st->malformed <= JSONL_MAX_NAMED)
				fprintf(o->err, "tcptimeline: %s:%llu: %s%s\n", name,
					(unsigned long long)st->lines, why,
					line[len ? len - 1 : 0] != '\n' && feof(in) ?
						" (the recording ends in this line: cut short?)" :
						"");
			continue;
		}
		if (r == JSONL_UNKNOWN)
			st->unknown++;
		if (r != JSONL_EVENT)
			continue;
		st->events++;
		if (time_us != INT64_MIN) {
			/* time = floor((ts_ns + offset) / 1000) µs for the one offset
			 * the tracer used: each line's lower bound, the largest so far,
			 * re-renders this line and every earlier one exactly */
			int64_t lower = time_us * 1000 - (int64_t)ev.ts_ns;

			if (!have_offset || lower > offset)
				offset = lower;
			have_offset = true;
			if (o->realtime_offset_ns)
				*o->realtime_offset_ns = offset;
		}
		if (first) {
			if (o->start_ns)
				*o->start_ns = ev.ts_ns;
			next_tick = ev.ts_ns + JSONL_TICK_NS;
			first = false;
		}
		/* the live loop ticked every 50 ms, idle or not, after draining
		 * what had arrived by then: every tick time before this event's
		 * (lines out of time order just wait for a later one) */
		while (next_tick < ev.ts_ns) {
			bool busy = o->tick && o->tick(next_tick, o->ctx);

			if (busy)
				next_tick += JSONL_TICK_NS;
			else /* nothing held: no tick can draw anything until an event */
				next_tick += (ev.ts_ns - next_tick + JSONL_TICK_NS - 1) /
					     JSONL_TICK_NS * JSONL_TICK_NS;
		}
		conn_table_add_event(o->table, &ev);
	}
	if (ferror(in))
		return -EIO;
	return 0;
}
