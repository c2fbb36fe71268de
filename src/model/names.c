// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "names.h"
#include "tcptimeline.h"

static const char *const state_names[] = {
	[TT_TCP_ESTABLISHED] = "ESTABLISHED",
	[TT_TCP_SYN_SENT] = "SYN_SENT",
	[TT_TCP_SYN_RECV] = "SYN_RECV",
	[TT_TCP_FIN_WAIT1] = "FIN_WAIT1",
	[TT_TCP_FIN_WAIT2] = "FIN_WAIT2",
	[TT_TCP_TIME_WAIT] = "TIME_WAIT",
	[TT_TCP_CLOSE] = "CLOSE",
	[TT_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TT_TCP_LAST_ACK] = "LAST_ACK",
	[TT_TCP_LISTEN] = "LISTEN",
	[TT_TCP_CLOSING] = "CLOSING",
	[TT_TCP_NEW_SYN_RECV] = "NEW_SYN_RECV",
};

const char *tcp_state_name(int state)
{
	if (state > 0 && state < (int)(sizeof(state_names) / sizeof(state_names[0])) &&
	    state_names[state])
		return state_names[state];
	return "UNKNOWN";
}

/* RFC 793 figure 6, as Linux walks it. Linux creates the accepted socket
 * when the handshake's last ACK arrives, but the transition it reports
 * (LISTEN -> SYN_RECV) is the textbook one: SYN in, SYN,ACK out. */
static const char *sent_segment(int o, int n, bool fin_in)
{
	if (n == TT_TCP_CLOSE && fin_in && (o == TT_TCP_FIN_WAIT1 || o == TT_TCP_FIN_WAIT2))
		return "ACK"; /* the ACK of the peer's FIN, entering TIME_WAIT */
	if (o == TT_TCP_CLOSE && n == TT_TCP_SYN_SENT)
		return "SYN";
	if (o == TT_TCP_LISTEN && n == TT_TCP_SYN_RECV)
		return "SYN,ACK";
	if (o == TT_TCP_SYN_SENT && n == TT_TCP_ESTABLISHED)
		return "ACK";
	if (n == TT_TCP_FIN_WAIT1 && (o == TT_TCP_ESTABLISHED || o == TT_TCP_SYN_RECV))
		return "FIN";
	if (o == TT_TCP_CLOSE_WAIT && n == TT_TCP_LAST_ACK)
		return "FIN";
	if (o == TT_TCP_ESTABLISHED && n == TT_TCP_CLOSE_WAIT)
		return "ACK";
	if (o == TT_TCP_FIN_WAIT1 && (n == TT_TCP_CLOSING || n == TT_TCP_TIME_WAIT))
		return "ACK";
	if (o == TT_TCP_FIN_WAIT2 && n == TT_TCP_TIME_WAIT)
		return "ACK";
	return NULL;
}

static const char *received_segment(int o, int n, bool fin_in)
{
	if (n == TT_TCP_CLOSE && o == TT_TCP_FIN_WAIT2)
		return fin_in ? "FIN" : NULL;
	if (n == TT_TCP_CLOSE && o == TT_TCP_FIN_WAIT1 && fin_in)
		return "FIN,ACK";
	if (n == TT_TCP_CLOSE && o == TT_TCP_CLOSING && fin_in)
		return "ACK";
	if (o == TT_TCP_LISTEN && n == TT_TCP_SYN_RECV)
		return "SYN";
	if (o == TT_TCP_SYN_SENT && n == TT_TCP_ESTABLISHED)
		return "SYN,ACK";
	if (o == TT_TCP_SYN_RECV && n == TT_TCP_ESTABLISHED)
		return "ACK";
	if (o == TT_TCP_ESTABLISHED && n == TT_TCP_CLOSE_WAIT)
		return "FIN";
	if (o == TT_TCP_FIN_WAIT1 && n == TT_TCP_FIN_WAIT2)
		return "ACK";
	if (o == TT_TCP_FIN_WAIT1 && n == TT_TCP_CLOSING)
		return "FIN";
	if (o == TT_TCP_FIN_WAIT1 && n == TT_TCP_TIME_WAIT)
		return "FIN,ACK";
	if (o == TT_TCP_FIN_WAIT2 && n == TT_TCP_TIME_WAIT)
		return "FIN";
	if (o == TT_TCP_CLOSING && n == TT_TCP_TIME_WAIT)
		return "ACK";
	if (o == TT_TCP_LAST_ACK && n == TT_TCP_CLOSE)
		return "ACK";
	return NULL;
}

const char *state_segment_slow(bool received, int o, int n, bool fin_in)
{
	return received ? received_segment(o, n, fin_in) : sent_segment(o, n, fin_in);
}

/* Both looked up in a table made from them at start (two per state change,
 * for every connection): state_seg_tab[received][fin_in][o][n] indexes
 * state_seg_names. */
const char *state_seg_names[8];
uint8_t state_seg_tab[2][2][STATE_SEG_STATES][STATE_SEG_STATES];

__attribute__((constructor)) static void seg_tab_build(void)
{
	uint8_t n_names = 1; /* 0: NULL */

	for (int r = 0; r < 2; r++)
		for (int f = 0; f < 2; f++)
			for (int o = 0; o < STATE_SEG_STATES; o++)
				for (int n = 0; n < STATE_SEG_STATES; n++) {
					const char *p = state_segment_slow(r, o, n, f);
					uint8_t k = 0;

					if (p) {
						for (k = 1; k < n_names && state_seg_names[k] != p;
						     k++)
							;
						if (k == n_names) {
							if (n_names ==
							    sizeof(state_seg_names) /
								    sizeof(state_seg_names[0]))
								abort();
							state_seg_names[n_names++] = p;
						}
					}
					state_seg_tab[r][f][o][n] = k;
				}
}

struct num_name {
	int num;
	const char *name;
};

#define NN(x)         \
	{             \
		x, #x \
	}
static const struct num_name errnos[] = {
	NN(EPERM),	  NN(ENOENT),	     NN(EINTR),	    NN(EIO),	     NN(EBADF),
	NN(EAGAIN),	  NN(ENOMEM),	     NN(EACCES),    NN(EFAULT),	     NN(EBUSY),
	NN(EINVAL),	  NN(ENFILE),	     NN(EMFILE),    NN(ENOSPC),	     NN(EPIPE),
	NN(ENOBUFS),	  NN(ENOTCONN),	     NN(ESHUTDOWN), NN(ETIMEDOUT),   NN(ECONNREFUSED),
	NN(EHOSTDOWN),	  NN(EHOSTUNREACH),  NN(ENETDOWN),  NN(ENETUNREACH), NN(ENETRESET),
	NN(ECONNABORTED), NN(ECONNRESET),    NN(EISCONN),   NN(EMSGSIZE),    NN(EPROTO),
	NN(EADDRINUSE),	  NN(EADDRNOTAVAIL), NN(EALREADY),  NN(EINPROGRESS), NN(ENOPROTOOPT),
	NN(EOPNOTSUPP),
};

static const struct num_name signals[] = {
	NN(SIGHUP),  NN(SIGINT),    NN(SIGQUIT), NN(SIGILL),	NN(SIGTRAP), NN(SIGABRT),
	NN(SIGBUS),  NN(SIGFPE),    NN(SIGKILL), NN(SIGUSR1),	NN(SIGSEGV), NN(SIGUSR2),
	NN(SIGPIPE), NN(SIGALRM),   NN(SIGTERM), NN(SIGSTKFLT), NN(SIGCHLD), NN(SIGCONT),
	NN(SIGSTOP), NN(SIGTSTP),   NN(SIGTTIN), NN(SIGTTOU),	NN(SIGURG),  NN(SIGXCPU),
	NN(SIGXFSZ), NN(SIGVTALRM), NN(SIGPROF), NN(SIGWINCH),	NN(SIGIO),   NN(SIGPWR),
	NN(SIGSYS),
};
#undef NN

static const char *lookup(const struct num_name *t, size_t n, int num)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].num == num)
			return t[i].name;
	return NULL;
}

const char *errno_name(int err)
{
	return lookup(errnos, sizeof(errnos) / sizeof(errnos[0]), err);
}

const char *signal_name(int sig)
{
	return lookup(signals, sizeof(signals) / sizeof(signals[0]), sig);
}

static int lookup_name(const struct num_name *t, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (!strcmp(t[i].name, name))
			return t[i].num;
	return 0;
}

int errno_from_name(const char *name)
{
	return lookup_name(errnos, sizeof(errnos) / sizeof(errnos[0]), name);
}

int signal_from_name(const char *name)
{
	return lookup_name(signals, sizeof(signals) / sizeof(signals[0]), name);
}

int tcp_state_from_name(const char *name)
{
	for (int s = 1; name && s < (int)(sizeof(state_names) / sizeof(state_names[0])); s++)
		if (state_names[s] && !strcmp(state_names[s], name))
			return s;
	return 0;
}

const char *segment_label(const char *label)
{
	static const char *const labels[] = { "SYN", "SYN,ACK", "ACK", "FIN", "FIN,ACK" };

	for (size_t i = 0; label && i < sizeof(labels) / sizeof(labels[0]); i++)
		if (!strcmp(labels[i], label))
			return labels[i];
	return NULL;
}

#define MAX_RST_REASONS 128
static struct {
	uint32_t value;
	char *name;
} rst_reasons[MAX_RST_REASONS];
static size_t n_rst_reasons;

void rst_reason_register(uint32_t value, const char *name)
{
	if (n_rst_reasons == MAX_RST_REASONS || !name)
		return;
	rst_reasons[n_rst_reasons].value = value;
	rst_reasons[n_rst_reasons].name = strdup(name);
	if (rst_reasons[n_rst_reasons].name)
		n_rst_reasons++;
}

const char *rst_reason_name(uint32_t value)
{
	for (size_t i = 0; i < n_rst_reasons; i++)
		if (rst_reasons[i].value == value)
			return rst_reasons[i].name;
	return NULL;
}

uint32_t rst_reason_by_name(const char *name)
{
	uint32_t next = 0;

	for (size_t i = 0; i < n_rst_reasons; i++) {
		if (!strcmp(rst_reasons[i].name, name))
			return rst_reasons[i].value;
		if (rst_reasons[i].value >= next)
			next = rst_reasons[i].value + 1;
	}
	if (n_rst_reasons == MAX_RST_REASONS || next == TT_RST_REASON_NONE)
		return TT_RST_REASON_NONE;
	rst_reason_register(next, name);
	return rst_reason_name(next) ? next : TT_RST_REASON_NONE;
}

void rst_reasons_clear(void)
{
	for (size_t i = 0; i < n_rst_reasons; i++)
		free(rst_reasons[i].name);
	n_rst_reasons = 0;
}

/* A small registry of kernel enum values and names, read from BTF at start. */
struct name_reg {
	uint32_t value;
	char *name;
};

#define MAX_DROP_REASONS 512 /* 6.18 has 128 core reasons */
static struct name_reg drop_reasons[MAX_DROP_REASONS];
static size_t n_drop_reasons;

void drop_reason_register(uint32_t value, const char *name)
{
	if (n_drop_reasons == MAX_DROP_REASONS || !name)
		return;
	drop_reasons[n_drop_reasons].value = value;
	drop_reasons[n_drop_reasons].name = strdup(name);
	if (drop_reasons[n_drop_reasons].name)
		n_drop_reasons++;
}

const char *drop_reason_name(uint32_t value)
{
	/* values are dense from 0 in the kernel's enum: try the slot first */
	if (value < n_drop_reasons && drop_reasons[value].value == value)
		return drop_reasons[value].name;
	for (size_t i = 0; i < n_drop_reasons; i++)
		if (drop_reasons[i].value == value)
			return drop_reasons[i].name;
	return NULL;
}

uint32_t drop_reason_by_name(const char *name)
{
	uint32_t next = 0;

	for (size_t i = 0; i < n_drop_reasons; i++) {
		if (!strcmp(drop_reasons[i].name, name))
			return drop_reasons[i].value;
		if (drop_reasons[i].value >= next)
			next = drop_reasons[i].value + 1;
	}
	if (n_drop_reasons == MAX_DROP_REASONS || next == TT_DROP_REASON_NONE)
		return TT_DROP_REASON_NONE;
	drop_reason_register(next, name);
	return drop_reason_name(next) ? next : TT_DROP_REASON_NONE;
}

void drop_reasons_clear(void)
{
	for (size_t i = 0; i < n_drop_reasons; i++)
		free(drop_reasons[i].name);
	n_drop_reasons = 0;
}

static const struct {
	const char *name, *words;
} drop_words[] = {
	{ "NETFILTER_DROP", "firewall rule (netfilter)" },
	{ "TCP_LISTEN_OVERFLOW", "accept queue full" },
	{ "LISTENOVERFLOWS", "accept queue full" },
	{ "TCP_REQQFULLDROP", "SYN queue full" },
	{ "SOCKET_RCVBUFF", "receive buffer full" },
	{ "SOCKET_BACKLOG", "socket backlog full" },
	{ "PROTO_MEM", "TCP memory limit" },
	{ "NO_SOCKET", "no socket" },
	{ "TCP_CSUM", "bad checksum" },
	{ "TCP_ZEROWINDOW", "zero window" },
	{ "TCP_OVERWINDOW", "beyond the window" },
	{ "TCP_OLD_DATA", "already received" },
	{ "TCP_OFOMERGE", "duplicate out-of-order data" },
	{ "TCP_OFO_DROP", "out-of-order queue full" },
	{ "TCP_OFO_QUEUE_PRUNE", "out-of-order queue pruned" },
	{ "TCP_INVALID_SEQUENCE", "outside the window" },
	{ "TCP_RFC7323_PAWS", "old timestamp (PAWS)" },
	{ "QDISC_DROP", "queueing discipline" },
	{ "TC_INGRESS", "tc ingress" },
	{ "TC_EGRESS", "tc egress" },
	{ "BPF_CGROUP_EGRESS", "cgroup BPF program" },
	{ "XDP", "XDP program" },
	{ "IP_OUTNOROUTES", "no route" },
	{ "NEIGH_FAILED", "neighbour unreachable" },
};

const char *drop_reason_words(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(drop_words) / sizeof(drop_words[0]); i++)
		if (!strcmp(drop_words[i].name, name))
			return drop_words[i].words;
	return NULL;
}

const char *tcp_flags_name(uint8_t flags)
{
	/* every combination of SYN, FIN, RST, ACK: 16 names */
	static const char *const names[16] = {
		"",	   "FIN",	  "SYN",	 "SYN,FIN",
		"RST",	   "FIN,RST",	  "SYN,RST",	 "SYN,FIN,RST",
		"ACK",	   "FIN,ACK",	  "SYN,ACK",	 "SYN,FIN,ACK",
		"RST,ACK", "FIN,RST,ACK", "SYN,RST,ACK", "SYN,FIN,RST,ACK",
	};
	unsigned idx = (flags & 0x07) | ((flags & 0x10) ? 8 : 0);

	return names[idx];
}

int tcp_flags_from_name(const char *name)
{
	for (int f = 0; f < 0x20; f++)
		if ((f & 0x08) == 0 && !strcmp(tcp_flags_name((uint8_t)f), name))
			return f;
	return -1;
}
