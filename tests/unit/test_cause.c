// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Every close-cause rule, from the facts a connection's events leave. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "cause.h"
#include "names.h"

static struct tl_event state_ev(int o, int n, unsigned pid, int exiting, int code)
{
	struct tl_event ev = { .kind = TL_STATE };

	ev.state.old_state = o;
	ev.state.new_state = n;
	ev.state.actor.pid = pid;
	ev.state.actor.exiting = exiting;
	ev.state.actor.exit_code = code;
	return ev;
}

static struct tl_event rst_ev(int dir, unsigned pid)
{
	struct tl_event ev = { .kind = TL_RST };

	ev.rst.dir = dir;
	ev.rst.actor.pid = pid;
	return ev;
}

static struct tl_event err_ev(int err)
{
	struct tl_event ev = { .kind = TL_ERROR };

	ev.error.err = err;
	return ev;
}

static enum tl_cause decide(struct cause_facts *f, int *sig, int *code)
{
	int32_t s, c;
	enum tl_cause r = cause_decide(f, &s, &c);

	if (sig)
		*sig = s;
	if (code)
		*code = c;
	return r;
}

static void add(struct cause_facts *f, struct tl_event ev, int timer)
{
	cause_facts_add(f, &ev, timer);
}

static void established(struct cause_facts *f)
{
	add(f, state_ev(TT_TCP_SYN_SENT, TT_TCP_ESTABLISHED, 0, 0, 0), 0);
}

static void test_app_close(void **state)
{
	struct cause_facts f = { 0 };
	int sig, code;

	established(&f);
	add(&f, state_ev(TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 100, 0, 0), 0);
	add(&f, state_ev(TT_TCP_FIN_WAIT1, TT_TCP_FIN_WAIT2, 0, 0, 0), 0);
	add(&f, state_ev(TT_TCP_FIN_WAIT2, TT_TCP_CLOSE, 0, 0, 0), 0);
	assert_int_equal(decide(&f, &sig, &code), CAUSE_APP_CLOSE);
	assert_int_equal(sig, 0);
	assert_int_equal(code, -1);
	assert_int_equal(f.closer.pid, 100);
}

static void test_peer_close(void **state)
{
	struct cause_facts f = { 0 };

	established(&f);
	add(&f, state_ev(TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT, 0, 0, 0), 0);
	/* our close comes second: still the peer's doing */
	add(&f, state_ev(TT_TCP_CLOSE_WAIT, TT_TCP_LAST_ACK, 200, 0, 0), 0);
	add(&f, state_ev(TT_TCP_LAST_ACK, TT_TCP_CLOSE, 0, 0, 0), 0);
	assert_int_equal(decide(&f, NULL, NULL), CAUSE_PEER_CLOSE);
}

static void test_peer_close_then_rst(void **state)
{
	struct cause_facts f = { 0 };

	/* kill-server-idle from the client: FIN first, then our write meets RST */
	established(&f);
	add(&f, state_ev(TT_TCP_ESTABLISHED, TT_TCP_CLOSE_WAIT, 0, 0, 0), 0);
	add(&f, rst_ev(TT_DIR_IN, 0), 0);
	add(&f, err_ev(EPIPE), 0);
	add(&f, state_ev(TT_TCP_CLOSE_WAIT, TT_TCP_CLOSE, 0, 0, 0), 0);
	assert_int_equal(decide(&f, NULL, NULL), CAUSE_PEER_CLOSE);
}

static void test_process_exit(void **state)
{
	struct cause_facts f = { 0 };
	int sig, code;

	established(&f);
	add(&f, state_ev(TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 300, 1, 3 << 8), 0);
	assert_int_equal(decide(&f, &sig, &code), CAUSE_PROCESS_EXIT);
	assert_int_equal(sig, 0);
	assert_int_equal(code, 3);
}

static void test_killed_fin(void **state)
{
	struct cause_facts f = { 0 };
	int sig, code;

	established(&f);
	add(&f, state_ev(TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 300, 1, SIGKILL), 0);
	assert_int_equal(decide(&f, &sig, &code), CAUSE_KILLED);
	assert_int_equal(sig, SIGKILL);
	assert_int_equal(code, -1);
}

static void test_killed_with_unread_data_rst(void **state)
{
	struct cause_facts f = { 0 };
	int sig;

	/* data unread: close() aborts straight to CLOSE and sends RST */
	established(&f);
	add(&f, state_ev(TT_TCP_ESTABLISHED, TT_TCP_CLOSE, 400, 1, SIGKILL), 0);
	add(&f, rst_ev(TT_DIR_OUT, 400), 0);
	assert_int_equal(decide(&f, &sig, NULL), CAUSE_KILLED);
	assert_int_equal(sig, SIGKILL);
}

static void test_killed_core_dump_signal(void **state)
{
	struct cause_facts f = { 0 };
	int sig;

	established(&f);
	add(&f, state_ev(TT_TCP_ESTABLISHED, TT_TCP_FIN_WAIT1, 300, 1, 0x80 | SIGSEGV), 0);
	assert_int_equal(decide(&f, &sig, NULL), CAUSE_KILLED);
	assert_int_equal(sig, SIGSEGV);
}

static void test_rst_in(void **state)
{
	struct cause_facts f = { 0 };

	established(&f);
	add(&f, rst_ev(TT_DIR_IN, 0), 0);
	add(&f, err_ev(ECONNRESET), 0);
	/* the CLOSE may run in the owner's context (backlog): not a local close */
	add(&f, state_ev(TT_TCP_ESTABLISHED, TT_TCP_CLOSE, 500, 0, 0), 0);
	assert_int_equal(decide(&f, NULL, NULL), CAUSE_RST_IN);
}

static void test_rst_out_without_task(void **state)
{
	struct cause_facts f = { 0 };

	established(&f);
	add(&f, rst_ev(TT_DIR_OUT, 0), 0);
	add(&f, state_ev(TT_TCP_ESTABLISHED, TT_TCP_CLOSE, 0, 0, 0), 0);
	assert_int_equal(decide(&f, NULL, NULL), CAUSE_RST_OUT);
}

static void test_refused(void **state)
{
	struct cause_facts f = { 0 };

	add(&f, rst_ev(TT_DIR_IN, 0), 0);
	add(&f, err_ev(ECONNREFUSED), 0);
	add(&f, state_ev(TT_TCP_SYN_SENT, TT_TCP_CLOSE, 0, 0, 0), 0);
	assert_int_equal(decide(&f, NULL, NULL), CAUSE_REFUSED);
}

static void test_syn_timeout(void **state)
{
	struct cause_facts f = { 0 };

	add(&f, err_ev(ETIMEDOUT), 0);
	add(&f, state_ev(TT_TCP_SYN_SENT, TT_TCP_CLOSE, 0, 0, 0), 0);
	assert_int_equal(decide(&f, NULL, NULL), CAUSE_SYN_TIMEOUT);
}

static void test_connect_abandoned_by_app(void **state)
{
	struct cause_facts f = { 0 };

	add(&f, state_ev(TT_TCP_SYN_SENT, TT_TCP_CLOSE, 42, 0, 0), 0);
	assert_int_equal(decide(&f, NULL, NULL), CAUSE_APP_CLOSE);
}

static void test_retransmit_timeout(void **state)
{
	struct cause_facts f = { 0 };

	established(&f);
	add(&f, err_ev(ETIMEDOUT), 0);
	add(&f, state_ev(TT_TCP_ESTABLISHED, TT_TCP_CLOSE, 0, 0, 0), 0);
	assert_int_equal(decide(&f, NULL, NULL), CAUSE_RETRANSMIT_TIMEOUT);
}

static void test_keepalive_timeout(void **state)
{
	struct cause_facts f = { 0 };
	struct tl_event probe = { .kind = TL_KA_PROBE };

	established(&f);
	probe.ka_probe.dir = TT_DIR_OUT;
	cause_facts_add(&f, &probe, TT_TIMER_KEEPALIVE);
	/* the keepalive timer gives up: RST out, then ETIMEDOUT, inside the timer */
	add(&f, rst_ev(TT_DIR_OUT, 0), TT_TIMER_KEEPALIVE);
	add(&f, err_ev(ETIMEDOUT), TT_TIMER_KEEPALIVE);
	add(&f, state_ev(TT_TCP_ESTABLISHED, TT_TCP_CLOSE, 0, 0, 0), TT_TIMER_KEEPALIVE);
	assert_int_equal(decide(&f, NULL, NULL), CAUSE_KEEPALIVE_TIMEOUT);
}

static void test_keepalive_timeout_inferred(void **state)
{
	struct cause_facts f = { 0 };
	struct tl_event probe = { .kind = TL_KA_PROBE };

	/* no RST seen, no timer context (5.10): probes went out, then ETIMEDOUT */
	established(&f);
	probe.ka_probe.dir = TT_DIR_OUT;
	cause_facts_add(&f, &probe, 0);
	add(&f, err_ev(ETIMEDOUT), 0);
	assert_int_equal(decide(&f, NULL, NULL), CAUSE_KEEPALIVE_TIMEOUT);
}

static void test_unknown(void **state)
{
	struct cause_facts f = { 0 };

	established(&f);
	assert_int_equal(decide(&f, NULL, NULL), CAUSE_UNKNOWN);
}

static void test_names(void **state)
{
	assert_string_equal(cause_name(CAUSE_APP_CLOSE), "app_close");
	assert_string_equal(cause_name(CAUSE_KEEPALIVE_TIMEOUT), "keepalive_timeout");
	assert_string_equal(cause_name(CAUSE_SYN_TIMEOUT), "syn_timeout");
	assert_string_equal(cause_name((enum tl_cause)99), "unknown");
	assert_string_equal(tl_kind_name(TL_KA_ACK), "keepalive_ack");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_app_close),
		cmocka_unit_test(test_peer_close),
		cmocka_unit_test(test_peer_close_then_rst),
		cmocka_unit_test(test_process_exit),
		cmocka_unit_test(test_killed_fin),
		cmocka_unit_test(test_killed_with_unread_data_rst),
		cmocka_unit_test(test_killed_core_dump_signal),
		cmocka_unit_test(test_rst_in),
		cmocka_unit_test(test_rst_out_without_task),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_syn_timeout),
		cmocka_unit_test(test_connect_abandoned_by_app),
		cmocka_unit_test(test_retransmit_timeout),
		cmocka_unit_test(test_keepalive_timeout),
		cmocka_unit_test(test_keepalive_timeout_inferred),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("cause", tests, NULL, NULL);
}
