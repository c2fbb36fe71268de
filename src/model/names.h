/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Names of kernel numbers: TCP states, errnos, signals, reset reasons. */
#ifndef NAMES_H
#define NAMES_H

#include <stdbool.h>
#include <stdint.h>

/* TCP states, kernel numbering (include/net/tcp_states.h) */
enum {
	TT_TCP_ESTABLISHED = 1,
	TT_TCP_SYN_SENT,
	TT_TCP_SYN_RECV,
	TT_TCP_FIN_WAIT1,
	TT_TCP_FIN_WAIT2,
	TT_TCP_TIME_WAIT,
	TT_TCP_CLOSE,
	TT_TCP_CLOSE_WAIT,
	TT_TCP_LAST_ACK,
	TT_TCP_LISTEN,
	TT_TCP_CLOSING,
	TT_TCP_NEW_SYN_RECV,
};

/* "ESTABLISHED", ...; "UNKNOWN" for anything else. */
const char *tcp_state_name(int state);

/* The control segments a transition implies, textbook style ("SYN,ACK");
 * NULL where it implies none. fin_in: the peer's FIN had been received
 * (the BPF side's peer_fin: SOCK_DONE, which tcp_fin() sets; RCV_SHUTDOWN
 * alone is no proof, shutdown(SHUT_RD) sets it too) and no error was set:
 * Linux hands a socket
 * entering TIME_WAIT to a timewait sock and reports the full socket as
 * going to CLOSE, so these are the only way to tell which segment did it. */
const char *state_segment_slow(bool received, int old_state, int new_state, bool fin_in);
/* their answers for states below 16, made from state_segment_slow at start
 * (state_seg_names: the very pointers it returns; 0 is NULL) */
#define STATE_SEG_STATES 16
extern const char *state_seg_names[8];
extern uint8_t state_seg_tab[2][2][STATE_SEG_STATES][STATE_SEG_STATES];

static inline const char *state_sent_segment(int old_state, int new_state, bool fin_in)
{
	if ((unsigned)old_state < STATE_SEG_STATES && (unsigned)new_state < STATE_SEG_STATES)
		return state_seg_names[state_seg_tab[0][fin_in][old_state][new_state]];
	return state_segment_slow(false, old_state, new_state, fin_in);
}

static inline const char *state_received_segment(int old_state, int new_state, bool fin_in)
{
	if ((unsigned)old_state < STATE_SEG_STATES && (unsigned)new_state < STATE_SEG_STATES)
		return state_seg_names[state_seg_tab[1][fin_in][old_state][new_state]];
	return state_segment_slow(true, old_state, new_state, fin_in);
}

/* "ECONNRESET", ...; NULL if unknown. */
const char *errno_name(int err);
/* "SIGKILL", ...; NULL if unknown. */
const char *signal_name(int sig);
/* The other way, for reading recordings: 0 if the name is not one of ours. */
int errno_from_name(const char *name);
int signal_from_name(const char *name);
/* TT_TCP_* for "ESTABLISHED", ...; 0 for "UNKNOWN" or a name that is none. */
int tcp_state_from_name(const char *name);
/* The static string state_sent_segment/state_received_segment would return
 * for this label ("SYN,ACK"), or NULL if it is not a segment they name. */
const char *segment_label(const char *label);

/* Reset reasons come from the running kernel's BTF (enum sk_rst_reason):
 * the loader registers them, renderers look them up. NULL: none given. */
void rst_reason_register(uint32_t value, const char *name);
const char *rst_reason_name(uint32_t value);
/* A reason known only by its name (a recording read back without the
 * kernel's BTF): its value, registering it under the next free value above
 * every kernel one if it is new. TT_RST_REASON_NONE if the table is full. */
uint32_t rst_reason_by_name(const char *name);
void rst_reasons_clear(void);

/* Drop reasons likewise (enum skb_drop_reason, 5.17+), registered without
 * their SKB_DROP_REASON_ prefix ("NETFILTER_DROP"). NULL: not known. */
void drop_reason_register(uint32_t value, const char *name);
const char *drop_reason_name(uint32_t value);
void drop_reasons_clear(void);
/* The value registered for a name; a name not registered yet (a recording
 * from another kernel) gets a value of its own. TT_DROP_REASON_NONE if full. */
uint32_t drop_reason_by_name(const char *name);
/* A few reasons in words for the ladder ("accept queue full"); NULL: none. */
const char *drop_reason_words(const char *name);
/* The flags of a TCP header byte, textbook style: "SYN", "FIN,ACK", "RST";
 * only SYN, FIN, RST and ACK are named ("" if none). */
const char *tcp_flags_name(uint8_t flags);
/* The other way: "FIN,ACK" -> 0x11; -1 if it is not such a name. */
int tcp_flags_from_name(const char *name);

#endif /* NAMES_H */
