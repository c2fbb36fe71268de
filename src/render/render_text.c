// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include "addr.h"
#include "ansi.h"
#include "json.h"
#include "names.h"
#include "render.h"
#include "text.h"

static const char *kind_color(const struct tl_event *ev)
{
	switch (ev->kind) {
	case TL_RST:
	case TL_ERROR:
	case TL_LOST:
	case TL_TRUNCATED:
	case TL_DROP:
		return C_RED;
	case TL_RETRANSMIT:
	case TL_KA_PROBE:
	case TL_KA_ACK:
	case TL_WINDOW:
		return C_YELLOW;
	case TL_CLOSE:
		return C_CYAN;
	case TL_STATE:
		return C_GREEN;
	default:
		return "";
	}
}

static void task_text(FILE *f, const char *prefix, const struct tl_task *t)
{
	char comm[TT_COMM_LEN * 4];

	if (!t->pid)
		return;
	text_sanitize(t->comm, TT_COMM_LEN, comm, sizeof(comm));
	fprintf(f, "%s%s %u", prefix, comm, t->pid);
	if (t->exiting) {
		if (t->exit_code & 0x7f) {
			const char *sig = signal_name(t->exit_code & 0x7f);

			fprintf(f, ", exiting: %s", sig ? sig : "signal");
		} else {
			fprintf(f, ", exiting: code %d", (t->exit_code >> 8) & 0xff);
		}
	}
}

static const char *dir_arrow(uint8_t dir)
{
	return dir == TT_DIR_OUT ? "->" : "<-";
}

void render_text(FILE *f, const struct tl_event *ev, const struct render_opts *o)
{
	char l[ADDR_STRLEN + 8], r[ADDR_STRLEN + 8], comm[TT_COMM_LEN * 4];
	const char *color = o->color ? kind_color(ev) : "";

	if (o->timestamp) {
		char t[40];

		format_rfc3339((int64_t)ev->ts_ns + o->realtime_offset_ns, t, sizeof(t));
		fprintf(f, "%.15s ", t + 11);
	} else {
		fprintf(f, "%9.6f ",
			ev->ts_ns >= o->start_ns ? (double)(ev->ts_ns - o->start_ns) / 1e9 : 0.0);
	}
	if (ev->kind == TL_LOST) {
		fprintf(f, "%s!! %" PRIu64 " events lost: the ring buffer was full (try -b)%s\n",
			o->color ? C_RED : "", ev->lost.count, o->color ? C_RESET : "");
		return;
	}
	endpoint_format(ev->ep.family, ev->ep.laddr, ev->ep.lport, l, sizeof(l));
	endpoint_format(ev->ep.family, ev->ep.raddr, ev->ep.rport, r, sizeof(r));
	fprintf(f, "#%-4" PRIu64 " %s > %s", ev->conn, l, r);
	if (ev->pid) {
		text_sanitize(ev->comm, TT_COMM_LEN, comm, sizeof(comm));
		fprintf(f, " (%s %u)", comm, ev->pid);
	}
	fprintf(f, "  %s", color);

	switch (ev->kind) {
	case TL_STATE:
		fprintf(f, "%s -> %s", tcp_state_name(ev->state.old_state),
			tcp_state_name(ev->state.new_state));
		if (ev->state.received)
			fprintf(f, "  received %s", ev->state.received);
		if (ev->state.sent)
			fprintf(f, "%s sent %s", ev->state.received ? "," : " ", ev->state.sent);
		if (ev->state.tw_fin_wait2)
			fputs("  (now a timewait socket in FIN_WAIT2)", f);
		else if (ev->state.fin_wait2_dropped)
			fputs("  (dropped in FIN_WAIT2: TCP_LINGER2 < 0, no TIME_WAIT)", f);
		else if (ev->state.time_wait)
			fputs("  (now TIME_WAIT)", f);
		task_text(f, "  by ", &ev->state.actor);
		break;
	case TL_DATA:
		fprintf(f, "DATA %s %" PRIu64 " B in %u segment%s", dir_arrow(ev->data.dir),
			ev->data.bytes, ev->data.segs, ev->data.segs == 1 ? "" : "s");
		break;
	case TL_RETRANSMIT:
		fprintf(f, "RETRANSMIT #%u %sseq %u", ev->retrans.count,
			ev->retrans.syn ? "SYN " : "", ev->retrans.seq);
		if (ev->retrans.err)
			fprintf(f, " (failed: %s)",
				errno_name(-ev->retrans.err) ? errno_name(-ev->retrans.err) :
							       "error");
		break;
	case TL_KA_PROBE:
		fprintf(f, "KEEPALIVE probe %s #%u", dir_arrow(ev->ka_probe.dir), ev->ka_probe.n);
		break;
	case TL_KA_ACK:
		fprintf(f, "KEEPALIVE ack %s", dir_arrow(ev->ka_ack.dir));
		if (ev->ka_ack.rtt_ns)
			fprintf(f, " rtt %" PRIu64 " us", ev->ka_ack.rtt_ns / 1000);
		if (ev->ka_ack.inferred)
			fprintf(f, " (inferred)");
		break;
	case TL_RST: {
		const char *reason = ev->rst.reason == TT_RST_REASON_NONE ?
					     NULL :
					     rst_reason_name(ev->rst.reason);

		fprintf(f, "RST %s", ev->rst.dir == TT_DIR_OUT ? "sent" : "received");
		if (reason)
			fprintf(f, " (%s)", reason);
		task_text(f, "  by ", &ev->rst.actor);
		break;
	}
	case TL_ERROR: {
		const char *name = errno_name(ev->error.err);

		fprintf(f, "ERROR %s (%d): the application's next call fails with it",
			name ? name : "errno", ev->error.err);
		break;
	}
	case TL_CLOSE:
		fprintf(f, "CLOSED: %s", cause_name(ev->close.cause));
		if (ev->close.signal) {
			const char *sig = signal_name(ev->close.signal);

			fprintf(f, " by %s", sig ? sig : "signal");
		} else if (ev->close.exit_code >= 0) {
			fprintf(f, " (exit code %d)", ev->close.exit_code);
		}
		task_text(f, ", closed by ", &ev->close.by);
		fprintf(f,
			" after %.3f s: %" PRIu64 " B out, %" PRIu64 " B in, %u retransmit%s, "
			"%u keepalive%s",
			(double)ev->close.duration_ns / 1e9, ev->close.bytes_out,
			ev->close.bytes_in, ev->close.retransmits,
			ev->close.retransmits == 1 ? "" : "s", ev->close.keepalives,
			ev->close.keepalives == 1 ? "" : "s");
		if (ev->close.drops)
			fprintf(f, ", %u dropped segment%s", ev->close.drops,
				ev->close.drops == 1 ? "" : "s");
		if (ev->close.stalled_ms)
			fprintf(f, ", stalled %.3f s by a zero window",
				(double)ev->close.stalled_ms / 1e3);
		break;
	case TL_WINDOW:
		if (!ev->window.open)
			fprintf(f, "WINDOW 0 %s: %s (%u B waiting)%s",
				ev->window.dir == TT_DIR_OUT ? "here" : "at the peer",
				ev->window.dir == TT_DIR_OUT ? "our application is not reading" :
							       "we cannot send",
				ev->window.queued, ev->window.inferred ? " (inferred)" : "");
		else
			fprintf(f, "WINDOW open again %s after %.3f s",
				ev->window.dir == TT_DIR_OUT ? "here" : "at the peer",
				(double)ev->window.stalled_ns / 1e9);
		if (ev->window.open && ev->window.dir == TT_DIR_IN)
			fprintf(f, ", %u zero-window probe%s sent", ev->window.probes,
				ev->window.probes == 1 ? "" : "s");
		if (ev->window.open && ev->window.inferred)
			fputs(" (inferred)", f);
		break;
	case TL_EXISTING:
		fprintf(f, "EXISTING %s (open before tracing began)",
			tcp_state_name(ev->existing.state));
		break;
	case TL_TRUNCATED:
		fprintf(f, "… %" PRIu64 " events not kept …", ev->truncated.count);
		break;
	case TL_DROP: {
		const char *reason = ev->drop.reason == TT_DROP_REASON_NONE ?
					     NULL :
					     drop_reason_name(ev->drop.reason);

		fprintf(f, "DROP %s %s", dir_arrow(ev->drop.dir), tcp_flags_name(ev->drop.flags));
		if (ev->drop.bytes)
			fprintf(f, " %u B", ev->drop.bytes);
		fprintf(f, " dropped by the kernel: %s", reason ? reason : "reason unknown");
		if (ev->drop.listener) {
			endpoint_format(ev->ep.family, ev->drop.peer_addr, ev->drop.peer_port, r,
					sizeof(r));
			fprintf(f, " (for the listener, from %s)", r);
		}
		break;
	}
	case TL_LOST:
	case TL_KA_RUN: /* never handed to a renderer (conn_view expands it) */
		break;
	}
	fprintf(f, "%s\n", *color ? C_RESET : "");
}
