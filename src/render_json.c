// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <time.h>
#include "addr.h"
#include "json.h"
#include "names.h"
#include "render.h"

void format_rfc3339(int64_t realtime_ns, char *buf, size_t len)
{
	/* events come thousands a second: the date part is worked out once a second */
	static time_t cached_secs = -1;
	static char cached[80];
	time_t secs = (time_t)(realtime_ns / 1000000000LL);
	long usec = (long)((realtime_ns % 1000000000LL) / 1000);

	if (usec < 0) {
		usec += 1000000;
		secs -= 1;
	}
	if (secs != cached_secs) {
		struct tm tm;

		gmtime_r(&secs, &tm);
		snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec);
		cached_secs = secs;
	}
	snprintf(buf, len, "%s.%06ldZ", cached, usec);
}

static void str_or_null(FILE *f, const char *key, const char *s)
{
	fprintf(f, ",\"%s\":", key);
	if (s)
		json_write_string(f, s, 64);
	else
		fputs("null", f);
}

static void task_fields(FILE *f, const char *pid_key, const char *comm_key,
			const struct tl_task *t)
{
	if (t->pid) {
		fprintf(f, ",\"%s\":%u,\"%s\":", pid_key, t->pid, comm_key);
		json_write_string(f, t->comm, TT_COMM_LEN);
	} else {
		fprintf(f, ",\"%s\":null,\"%s\":null", pid_key, comm_key);
	}
}

static const char *dir_name(uint8_t dir)
{
	return dir == TT_DIR_OUT ? "out" : "in";
}

void render_json(FILE *f, const struct tl_event *ev, const struct render_opts *o)
{
	char tbuf[40], a[ADDR_STRLEN];

	format_rfc3339((int64_t)ev->ts_ns + o->realtime_offset_ns, tbuf, sizeof(tbuf));
	fprintf(f, "{\"event\":\"%s\",\"ts_ns\":%" PRIu64 ",\"time\":\"%s\"", tl_kind_name(ev->kind),
		ev->ts_ns, tbuf);
	if (ev->conn) {
		fprintf(f, ",\"conn\":%" PRIu64 ",\"family\":%u", ev->conn, ev->ep.family);
		addr_format(ev->ep.family, ev->ep.laddr, a, sizeof(a));
		fprintf(f, ",\"laddr\":\"%s\",\"lport\":%u", a, ev->ep.lport);
		addr_format(ev->ep.family, ev->ep.raddr, a, sizeof(a));
		fprintf(f, ",\"raddr\":\"%s\",\"rport\":%u", a, ev->ep.rport);
	} else {
		fputs(",\"conn\":null,\"family\":null,\"laddr\":null,\"lport\":null"
		      ",\"raddr\":null,\"rport\":null", f);
	}
	if (ev->pid) {
		fprintf(f, ",\"pid\":%u,\"comm\":", ev->pid);
		json_write_string(f, ev->comm, TT_COMM_LEN);
	} else {
		fputs(",\"pid\":null,\"comm\":null", f);
	}

	switch (ev->kind) {
	case TL_STATE:
		fprintf(f, ",\"old\":\"%s\",\"new\":\"%s\"", tcp_state_name(ev->state.old_state),
			tcp_state_name(ev->state.new_state));
		str_or_null(f, "sent", ev->state.sent);
		str_or_null(f, "received", ev->state.received);
		task_fields(f, "by_pid", "by_comm", &ev->state.actor);
		if (ev->state.time_wait)
			fputs(",\"time_wait\":true", f);
		break;
	case TL_DATA:
		fprintf(f, ",\"dir\":\"%s\",\"bytes\":%" PRIu64 ",\"segments\":%u",
			dir_name(ev->data.dir), ev->data.bytes, ev->data.segs);
		break;
	case TL_RETRANSMIT:
		fprintf(f, ",\"seq\":%u,\"syn\":%s,\"count\":%u", ev->retrans.seq,
			ev->retrans.syn ? "true" : "false", ev->retrans.count);
		if (ev->retrans.err)
			str_or_null(f, "failed", errno_name(-ev->retrans.err) ?
						 errno_name(-ev->retrans.err) : "error");
		break;
	case TL_KA_PROBE:
		fprintf(f, ",\"dir\":\"%s\",\"n\":%u", dir_name(ev->ka_probe.dir), ev->ka_probe.n);
		break;
	case TL_KA_ACK:
		fprintf(f, ",\"dir\":\"%s\"", dir_name(ev->ka_ack.dir));
		if (ev->ka_ack.rtt_ns)
			fprintf(f, ",\"rtt_us\":%" PRIu64, ev->ka_ack.rtt_ns / 1000);
		else
			fputs(",\"rtt_us\":null", f);
		break;
	case TL_RST:
		fprintf(f, ",\"dir\":\"%s\"", dir_name(ev->rst.dir));
		str_or_null(f, "reason", ev->rst.reason == TT_RST_REASON_NONE ?
						 NULL : rst_reason_name(ev->rst.reason));
		break;
	case TL_ERROR:
		fprintf(f, ",\"errno\":%d", ev->error.err);
		str_or_null(f, "name", errno_name(ev->error.err));
		if (ev->error.inferred)
			fputs(",\"inferred\":true", f);
		break;
	case TL_CLOSE:
		fprintf(f, ",\"cause\":\"%s\"", cause_name(ev->close.cause));
		task_fields(f, "by_pid", "by_comm", &ev->close.by);
		str_or_null(f, "signal", ev->close.signal ? signal_name(ev->close.signal) : NULL);
		if (ev->close.exit_code >= 0)
			fprintf(f, ",\"exit_code\":%d", ev->close.exit_code);
		else
			fputs(",\"exit_code\":null", f);
		fprintf(f,
			",\"duration_ms\":%.3f,\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64
			",\"retransmits\":%u,\"keepalives\":%u",
			(double)ev->close.duration_ns / 1e6, ev->close.bytes_in, ev->close.bytes_out,
			ev->close.retransmits, ev->close.keepalives);
		break;
	case TL_EXISTING:
		fprintf(f, ",\"state\":\"%s\"", tcp_state_name(ev->existing.state));
		break;
	case TL_LOST:
		fprintf(f, ",\"count\":%" PRIu64, ev->lost.count);
		break;
	}
	fputs("}\n", f);
}
