// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The aggregated counters as text: Prometheus' exposition format for
 * --metrics, and the periodic --summary (a table, or one JSON `summary`
 * event). Pure functions of a struct stats.
 */
#include <inttypes.h>
#include <string.h>
#include "json.h"
#include "names.h"
#include "render_stats.h"
#include "text.h"

#define P "tcptimeline_"

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong 3- and 4-byte forms, surrogates, beyond U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return len;
}

void prom_label_value(FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = 0;

	while (len < n && s[len])
		len++;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t k;

		if (c == '\\' || c == '"') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c == '\n') {
			fputs("\\n", f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fputc('?', f);
			i++;
		} else if ((k = utf8_seq(s + i, len - i))) {
			fwrite(s + i, 1, k, f);
			i += k;
		} else {
			fputc('?', f);
			i++;
		}
	}
}

/* ns as seconds, shortest exact decimal: 100000 -> "0.0001", 5e9 -> "5" */
static void seconds(FILE *f, uint64_t ns)
{
	char frac[16];
	int n;

	fprintf(f, "%" PRIu64, (uint64_t)(ns / 1000000000ULL));
	if (!(ns % 1000000000ULL))
		return;
	n = snprintf(frac, sizeof(frac), "%09" PRIu64, (uint64_t)(ns % 1000000000ULL));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	fprintf(f, ".%s", frac);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP " P "%s %s\n# TYPE " P "%s %s\n", name, help, name, type);
}

/* Rows in label order: the labelled ports, then "other". */
#define for_port_rows(s, i, r)                            \
	for (uint32_t i = 0; i <= STATS_MAX_PORTS; i++)   \
		if (i < (s)->n_ports || i == STATS_OTHER) \
			for (const struct stats_row *r = &(s)->port_rows[i]; r && r->used; r = NULL)

static void port_label(FILE *f, const struct stats *s, uint32_t i)
{
	char buf[8];

	fprintf(f, "port=\"%s\"", stats_port_label(s, i, buf, sizeof(buf)));
}

static const char *dir_name(int d)
{
	return d ? "out" : "in";
}

static void reason_label(FILE *f, uint32_t key)
{
	const char *name = key == TT_RST_REASON_NONE ? "none" : rst_reason_name(key);

	if (name)
		prom_label_value(f, name, 64);
	else
		fprintf(f, "%" PRIu32, key);
}

/* A drop reason's name as the kernel's enum spells it (without SKB_DROP_REASON_);
 * "none" before 5.17, where the kernel gives none; its number if not named. */
static void drop_reason_label(FILE *f, uint32_t key)
{
	const char *name = key == TT_DROP_REASON_NONE ? "none" : drop_reason_name(key);

	if (name)
		prom_label_value(f, name, 64);
	else
		fprintf(f, "%" PRIu32, key);
}

static void error_label(FILE *f, uint32_t err)
{
	const char *name = errno_name((int)err);

	if (name)
		fputs(name, f);
	else
		fprintf(f, "errno_%" PRIu32, err);
}

static void histogram(FILE *f, const struct stats *s, const char *name, bool handshake)
{
	const uint64_t *bounds = handshake ? stats_hs_bounds_ns : stats_dur_bounds_ns;
	uint32_t nb = handshake ? STATS_HS_BUCKETS : STATS_DUR_BUCKETS;

	for_port_rows(s, i, r)
	{
		const struct stats_hist *h = handshake ? &r->handshake : &r->duration;
		uint64_t cum = 0;

		for (uint32_t b = 0; b < nb; b++) {
			cum += h->prom[b];
			fprintf(f, P "%s_bucket{", name);
			port_label(f, s, i);
			fputs(",le=\"", f);
			seconds(f, bounds[b]);
			fprintf(f, "\"} %" PRIu64 "\n", cum);
		}
		fprintf(f, P "%s_bucket{", name);
		port_label(f, s, i);
		fprintf(f, ",le=\"+Inf\"} %" PRIu64 "\n", h->count);
		fprintf(f, P "%s_sum{", name);
		port_label(f, s, i);
		fputs("} ", f);
		seconds(f, h->sum_ns);
		fprintf(f, "\n" P "%s_count{", name);
		port_label(f, s, i);
		fprintf(f, "} %" PRIu64 "\n", h->count);
	}
}

static void cell_labels(FILE *f, const struct stats *s, uint32_t p, uint32_t c)
{
	port_label(f, s, p);
	fputs(",comm=\"", f);
	prom_label_value(f, stats_comm_label(s, c), TT_COMM_LEN);
	fputc('"', f);
}

#define for_cells(s, p, c, cell)                                                                \
	for (uint32_t p = 0; p <= STATS_MAX_PORTS; p++)                                         \
		if (p < (s)->n_ports || p == STATS_OTHER)                                       \
			for (uint32_t c = 0; c < STATS_MAX_COMMS + 2; c++)                      \
				if (c < (s)->n_comms || c >= STATS_COMM_OTHER)                  \
					for (const struct stats_cell *cell = &(s)->cells[p][c]; \
					     cell; cell = NULL)

void render_metrics(FILE *f, const struct stats *s, const char *version)
{
	family(f, "connections_opened_total", "counter",
	       "Connections begun while tracing: a SYN sent by connect(), or one received by a "
	       "listener.");
	for_cells(s, p, c, cell)
	{
		if (!cell->opened)
			continue;
		fputs(P "connections_opened_total{", f);
		cell_labels(f, s, p, c);
		fprintf(f, "} %" PRIu64 "\n", cell->opened);
	}
	family(f, "connections_closed_total", "counter",
	       "Connections ended, by close cause (the JSON close event's cause).");
	for_cells(s, p, c, cell)
	{
		for (int k = 0; k < STATS_N_CAUSES; k++) {
			if (!cell->closed[k])
				continue;
			fprintf(f, P "connections_closed_total{cause=\"%s\",", cause_name(k));
			cell_labels(f, s, p, c);
			fprintf(f, "} %" PRIu64 "\n", cell->closed[k]);
		}
	}
	family(f, "resets_total", "counter",
	       "TCP resets sent (out) and received (in), by the kernel's reset reason.");
	for_port_rows(s, i, r)
	{
		for (int d = 0; d < 2; d++) {
			for (uint32_t k = 0; k < r->n_reasons[d]; k++) {
				fputs(P "resets_total{", f);
				port_label(f, s, i);
				fprintf(f, ",dir=\"%s\",reason=\"", dir_name(d));
				reason_label(f, r->reasons[d][k].key);
				fprintf(f, "\"} %" PRIu64 "\n", r->reasons[d][k].n);
			}
			if (r->reasons_other[d]) {
				fputs(P "resets_total{", f);
				port_label(f, s, i);
				fprintf(f, ",dir=\"%s\",reason=\"other\"} %" PRIu64 "\n",
					dir_name(d), r->reasons_other[d]);
			}
		}
	}
	family(f, "retransmits_total", "counter", "Segments retransmitted (data, SYN, SYN-ACK).");
	for_port_rows(s, i, r)
	{
		fputs(P "retransmits_total{", f);
		port_label(f, s, i);
		fprintf(f, "} %" PRIu64 "\n", r->retransmits);
	}
	family(f, "drops_total", "counter",
	       "Segments the kernel dropped (the JSON drop events: each local end's view and a "
	       "listener's count once), by the kernel's drop reason (none before 5.17).");
	for_port_rows(s, i, r)
	{
		for (uint32_t k = 0; k < r->n_drop_reasons; k++) {
			fputs(P "drops_total{", f);
			port_label(f, s, i);
			fputs(",reason=\"", f);
			drop_reason_label(f, r->drop_reasons[k].key);
			fprintf(f, "\"} %" PRIu64 "\n", r->drop_reasons[k].n);
		}
		if (r->drop_reasons_other) {
			fputs(P "drops_total{", f);
			port_label(f, s, i);
			fprintf(f, ",reason=\"other\"} %" PRIu64 "\n", r->drop_reasons_other);
		}
	}
	family(f, "window_stalls_total", "counter",
	       "Zero-window stalls begun: in, the peer's window (it is not reading); out, ours "
	       "(our application is not reading).");
	for_port_rows(s, i, r)
	{
		for (int d = 0; d < 2; d++) {
			fputs(P "window_stalls_total{", f);
			port_label(f, s, i);
			fprintf(f, ",dir=\"%s\"} %" PRIu64 "\n", dir_name(d), r->window_stalls[d]);
		}
	}
	family(f, "keepalive_probes_total", "counter",
	       "Keepalive probes: out, sent by this host; in, received from the peer.");
	for_port_rows(s, i, r)
	{
		for (int d = 0; d < 2; d++) {
			fputs(P "keepalive_probes_total{", f);
			port_label(f, s, i);
			fprintf(f, ",dir=\"%s\"} %" PRIu64 "\n", dir_name(d), r->ka_probes[d]);
		}
	}
	family(f, "errors_total", "counter", "Errors reported to the application, by errno name.");
	for_port_rows(s, i, r)
	{
		for (uint32_t k = 0; k < r->n_errors; k++) {
			fputs(P "errors_total{", f);
			port_label(f, s, i);
			fputs(",name=\"", f);
			error_label(f, r->errors[k].key);
			fprintf(f, "\"} %" PRIu64 "\n", r->errors[k].n);
		}
		if (r->errors_other) {
			fputs(P "errors_total{", f);
			port_label(f, s, i);
			fprintf(f, ",name=\"other\"} %" PRIu64 "\n", r->errors_other);
		}
	}
	family(f, "bytes_total", "counter", "Payload bytes: in, received; out, sent.");
	for_port_rows(s, i, r)
	{
		for (int d = 0; d < 2; d++) {
			fputs(P "bytes_total{", f);
			port_label(f, s, i);
			fprintf(f, ",dir=\"%s\"} %" PRIu64 "\n", dir_name(d), r->bytes[d]);
		}
	}
	family(f, "handshake_seconds", "histogram",
	       "Handshake time: a client's SYN to ESTABLISHED, a server's SYN received to "
	       "ESTABLISHED.");
	histogram(f, s, "handshake_seconds", true);
	family(f, "connection_duration_seconds", "histogram",
	       "Connection lifetime, first event to close (connections begun while tracing).");
	histogram(f, s, "connection_duration_seconds", false);
	family(f, "lost_events_total", "counter",
	       "Events the kernel could not hand over (ring buffer full).");
	fprintf(f, P "lost_events_total %" PRIu64 "\n", s->lost);
	family(f, "tracked_sockets", "gauge", "Sockets followed now.");
	fprintf(f, P "tracked_sockets %" PRIu64 "\n", s->tracked);
	family(f, "build_info", "gauge", "The tracer's version; always 1.");
	fputs(P "build_info{version=\"", f);
	prom_label_value(f, version, 64);
	fputs("\"} 1\n", f);
}

/* --- the summary ------------------------------------------------------- */

static void fmt_dur(char *buf, size_t len, uint64_t ns, uint64_t count)
{
	if (!count)
		snprintf(buf, len, "-");
	else if (ns < 1000000)
		snprintf(buf, len, "%" PRIu64 "us", ns / 1000);
	else if (ns < 1000000000ULL)
		snprintf(buf, len, "%.1fms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
}

static void fmt_bytes(char *buf, size_t len, uint64_t b)
{
	if (b < 10000)
		snprintf(buf, len, "%" PRIu64, b);
	else if (b < 10000ULL * 1024)
		snprintf(buf, len, "%.1fK", (double)b / 1024);
	else if (b < 10000ULL * 1024 * 1024)
		snprintf(buf, len, "%.1fM", (double)b / (1024 * 1024));
	else
		snprintf(buf, len, "%.1fG", (double)b / (1024.0 * 1024 * 1024));
}

static uint64_t closed_sum(const struct stats_row *r)
{
	uint64_t n = 0;

	for (int k = 0; k < STATS_N_CAUSES; k++)
		n += r->closed[k];
	return n;
}

static uint64_t errors_sum(const struct stats_row *r)
{
	uint64_t n = r->errors_other;

	for (uint32_t k = 0; k < r->n_errors; k++)
		n += r->errors[k].n;
	return n;
}

static void text_row(FILE *f, const char *label, const struct stats_row *r)
{
	char hs50[16], hs99[16], d50[16], d99[16], bin[16], bout[16];
	bool any = false;

	fmt_dur(hs50, sizeof(hs50), stats_hist_quantile_ns(&r->handshake, 0.5), r->handshake.count);
	fmt_dur(hs99, sizeof(hs99), stats_hist_quantile_ns(&r->handshake, 0.99),
		r->handshake.count);
	fmt_dur(d50, sizeof(d50), stats_hist_quantile_ns(&r->duration, 0.5), r->duration.count);
	fmt_dur(d99, sizeof(d99), stats_hist_quantile_ns(&r->duration, 0.99), r->duration.count);
	fmt_bytes(bin, sizeof(bin), r->bytes[0]);
	fmt_bytes(bout, sizeof(bout), r->bytes[1]);
	fprintf(f,
		"  %-16s %7" PRIu64 " %7" PRIu64 " %6" PRIu64 " %6" PRIu64 " %7" PRIu64 " %6" PRIu64
		" %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %7s %7s %7s %7s %7s %7s\n",
		label, r->opened, closed_sum(r), r->resets[0], r->resets[1], r->retransmits,
		r->drops, r->window_stalls[0] + r->window_stalls[1],
		r->closed[CAUSE_KEEPALIVE_TIMEOUT], errors_sum(r), hs50, hs99, d50, d99, bin, bout);
	for (int k = 0; k < STATS_N_CAUSES; k++) {
		if (!r->closed[k])
			continue;
		fprintf(f, "%s %s %" PRIu64, any ? "," : "      closed:", cause_name(k),
			r->closed[k]);
		any = true;
	}
	if (any)
		fputc('\n', f);
	any = false;
	for (uint32_t k = 0; k < r->n_errors; k++) {
		const char *name = errno_name((int)r->errors[k].key);

		fprintf(f, "%s %s %" PRIu64, any ? "," : "      errors:", name ? name : "?",
			r->errors[k].n);
		any = true;
	}
	if (r->errors_other)
		fprintf(f, "%s other %" PRIu64, any ? "," : "      errors:", r->errors_other);
	if (any || r->errors_other)
		fputc('\n', f);
	any = false;
	for (uint32_t k = 0; k < r->n_drop_reasons; k++) {
		uint32_t key = r->drop_reasons[k].key;
		const char *name = key == TT_DROP_REASON_NONE ? "none" : drop_reason_name(key);
		char buf[96];

		text_sanitize(name ? name : "?", 64, buf, sizeof(buf));
		fprintf(f, "%s %s %" PRIu64, any ? "," : "      drops:", buf, r->drop_reasons[k].n);
		any = true;
	}
	if (r->drop_reasons_other)
		fprintf(f, "%s other %" PRIu64, any ? "," : "      drops:", r->drop_reasons_other);
	if (any || r->drop_reasons_other)
		fputc('\n', f);
}

static const char table_head[] =
	"  %-16s %7s %7s %6s %6s %7s %6s %6s %6s %6s %7s %7s %7s %7s %7s %7s\n";

void render_summary_text(FILE *f, const struct stats *s, uint64_t elapsed_ns, bool final)
{
	char label[TT_COMM_LEN * 4];

	fprintf(f,
		"tcptimeline: summary%s after %.1f s (counts since start; handshake and "
		"duration p50/p99)\n",
		final ? " at exit" : "", (double)elapsed_ns / 1e9);
	fprintf(f, table_head, "port", "opened", "closed", "rst_in", "rstout", "retrans", "drops",
		"stalls", "ka_tmo", "errors", "hs_p50", "hs_p99", "dur_p50", "dur_p99", "B_in",
		"B_out");
	for_port_rows(s, i, r)
	{
		char buf[8];

		text_row(f, stats_port_label(s, i, buf, sizeof(buf)), r);
	}
	fprintf(f, table_head, "process", "opened", "closed", "rst_in", "rstout", "retrans",
		"drops", "stalls", "ka_tmo", "errors", "hs_p50", "hs_p99", "dur_p50", "dur_p99",
		"B_in", "B_out");
	for (uint32_t i = 0; i < STATS_MAX_COMMS + 2; i++) {
		if ((i < s->n_comms || i >= STATS_COMM_OTHER) && s->comm_rows[i].used) {
			text_sanitize(stats_comm_label(s, i), TT_COMM_LEN, label, sizeof(label));
			text_row(f, label, &s->comm_rows[i]);
		}
	}
	fprintf(f, "  lost events: %" PRIu64 ", sockets tracked now: %" PRIu64 "\n", s->lost,
		s->tracked);
}

static void json_quantiles(FILE *f, const char *key, const struct stats_hist *h, uint64_t div)
{
	fprintf(f, ",\"%s\":{\"count\":%" PRIu64, key, h->count);
	if (h->count)
		fprintf(f, ",\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 "}",
			stats_hist_quantile_ns(h, 0.5) / div,
			stats_hist_quantile_ns(h, 0.99) / div);
	else
		fputs(",\"p50\":null,\"p99\":null}", f);
}

static void json_row(FILE *f, const struct stats_row *r)
{
	bool any = false;

	fprintf(f, ",\"opened\":%" PRIu64 ",\"closed\":%" PRIu64 ",\"causes\":{", r->opened,
		closed_sum(r));
	for (int k = 0; k < STATS_N_CAUSES; k++) {
		if (!r->closed[k])
			continue;
		fprintf(f, "%s\"%s\":%" PRIu64, any ? "," : "", cause_name(k), r->closed[k]);
		any = true;
	}
	fprintf(f,
		"},\"rst_in\":%" PRIu64 ",\"rst_out\":%" PRIu64 ",\"retransmits\":%" PRIu64
		",\"keepalive_probes_out\":%" PRIu64 ",\"keepalive_probes_in\":%" PRIu64
		",\"keepalive_timeouts\":%" PRIu64 ",\"errors\":{",
		r->resets[0], r->resets[1], r->retransmits, r->ka_probes[1], r->ka_probes[0],
		r->closed[CAUSE_KEEPALIVE_TIMEOUT]);
	any = false;
	for (uint32_t k = 0; k < r->n_errors; k++) {
		const char *name = errno_name((int)r->errors[k].key);

		if (name)
			fprintf(f, "%s\"%s\":%" PRIu64, any ? "," : "", name, r->errors[k].n);
		else
			fprintf(f, "%s\"errno_%" PRIu32 "\":%" PRIu64, any ? "," : "",
				r->errors[k].key, r->errors[k].n);
		any = true;
	}
	if (r->errors_other)
		fprintf(f, "%s\"other\":%" PRIu64, any ? "," : "", r->errors_other);
	fprintf(f,
		"},\"window_stalls_in\":%" PRIu64 ",\"window_stalls_out\":%" PRIu64
		",\"drops\":%" PRIu64 ",\"drop_reasons\":{",
		r->window_stalls[0], r->window_stalls[1], r->drops);
	any = false;
	for (uint32_t k = 0; k < r->n_drop_reasons; k++) {
		uint32_t key = r->drop_reasons[k].key;
		const char *name = key == TT_DROP_REASON_NONE ? "none" : drop_reason_name(key);

		fputs(any ? "," : "", f);
		if (name)
			json_write_string(f, name, 64);
		else
			fprintf(f, "\"%" PRIu32 "\"", key);
		fprintf(f, ":%" PRIu64, r->drop_reasons[k].n);
		any = true;
	}
	if (r->drop_reasons_other)
		fprintf(f, "%s\"other\":%" PRIu64, any ? "," : "", r->drop_reasons_other);
	fputc('}', f);
	json_quantiles(f, "handshake_us", &r->handshake, 1000);
	json_quantiles(f, "duration_us", &r->duration, 1000);
	fprintf(f, ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64 "}", r->bytes[0],
		r->bytes[1]);
}

void render_summary_json(FILE *f, const struct stats *s, uint64_t ts_ns, uint64_t elapsed_ns,
			 bool final, const struct render_opts *o)
{
	char when[40];
	bool first = true;

	format_rfc3339((int64_t)ts_ns + o->realtime_offset_ns, when, sizeof(when));
	fprintf(f,
		"{\"event\":\"summary\",\"ts_ns\":%" PRIu64 ",\"time\":\"%s\",\"conn\":null,"
		"\"family\":null,\"laddr\":null,\"lport\":null,\"raddr\":null,\"rport\":null,"
		"\"pid\":null,\"comm\":null,\"final\":%s,\"elapsed_ms\":%" PRIu64
		",\"lost\":%" PRIu64 ",\"tracked\":%" PRIu64 ",\"ports\":[",
		ts_ns, when, final ? "true" : "false", elapsed_ns / 1000000, s->lost, s->tracked);
	for_port_rows(s, i, r)
	{
		if (i == STATS_OTHER)
			fprintf(f, "%s{\"port\":\"other\"", first ? "" : ",");
		else
			fprintf(f, "%s{\"port\":%u", first ? "" : ",", s->ports[i]);
		json_row(f, r);
		first = false;
	}
	fputs("],\"processes\":[", f);
	first = true;
	for (uint32_t i = 0; i < STATS_MAX_COMMS + 2; i++) {
		if ((i < s->n_comms || i >= STATS_COMM_OTHER) && s->comm_rows[i].used) {
			fprintf(f, "%s{\"comm\":", first ? "" : ",");
			json_write_string(f, stats_comm_label(s, i), TT_COMM_LEN);
			json_row(f, &s->comm_rows[i]);
			first = false;
		}
	}
	fputs("]}\n", f);
}
