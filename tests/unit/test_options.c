// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* CLI parsing: every bad value is a usage error (exit 2), good ones land in env. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "options.h"

static FILE *devnull;

static enum parse_result parse(struct env *env, ...)
{
	char *argv[16] = { "tcptimeline" };
	int argc = 1;
	va_list ap;
	char *a;

	env_defaults(env);
	va_start(ap, env);
	while ((a = va_arg(ap, char *)) && argc < 15)
		argv[argc++] = a;
	va_end(ap);
	return parse_options(argc, argv, env, devnull, devnull);
}

static void test_defaults(void **state)
{
	struct env env;

	assert_int_equal(parse(&env, NULL), PARSE_OK);
	assert_false(env.ports_on);
	assert_int_equal(env.pid, 0);
	assert_int_equal(env.family, 0);
	assert_false(env.json);
	assert_int_equal(env.ringbuf_mb, 8);
}

static void test_ports_and_ranges(void **state)
{
	struct env env;

	assert_int_equal(parse(&env, "-P", "9000", "--port", "9100-9102,80", NULL), PARSE_OK);
	assert_true(env.ports_on);
	assert_true(env_port_wanted(&env, 9000));
	assert_true(env_port_wanted(&env, 9100));
	assert_true(env_port_wanted(&env, 9101));
	assert_true(env_port_wanted(&env, 9102));
	assert_true(env_port_wanted(&env, 80));
	assert_false(env_port_wanted(&env, 9001));
	assert_false(env_port_wanted(&env, 9103));
	assert_string_equal(env.port_desc, "9000,9100-9102,80");
	assert_int_equal(parse(&env, "-P", "1-65535", NULL), PARSE_OK);
	assert_true(env_port_wanted(&env, 65535));
	assert_true(env_port_wanted(&env, 1));
	assert_false(env_port_wanted(&env, 0));
}

static void test_stale_errno_does_not_reject(void **state)
{
	struct env env;

	errno = ERANGE; /* what tcpstates.c forgets to clear */
	assert_int_equal(parse(&env, "-P", "443", NULL), PARSE_OK);
	errno = EINVAL;
	assert_int_equal(parse(&env, "-p", "1234", NULL), PARSE_OK);
	assert_int_equal(env.pid, 1234);
}

static void test_bad_values_are_usage_errors(void **state)
{
	static const char *const bad[][2] = {
		{ "-P", "0" },
		{ "-P", "65536" },
		{ "-P", "-1" },
		{ "-P", "abc" },
		{ "-P", "" },
		{ "-P", "90x" },
		{ "-P", "9010-9000" },
		{ "-P", "1-" },
		{ "-P", "-5" },
		{ "-P", "80,,81" },
		{ "-P", "80," },
		{ "-P", " 80" },
		{ "-P", "99999999999999999999" },
		{ "-p", "0" },
		{ "-p", "-3" },
		{ "-p", "x" },
		{ "-p", "4294967296" },
		{ "-p", "12a" },
		{ "-d", "0" },
		{ "-d", "-1" },
		{ "-d", "1.5" },
		{ "-d", "soon" },
		{ "-b", "3" },
		{ "-b", "0" },
		{ "-b", "2048" },
		{ "--max-conns", "1" },
		{ "--max-conns", "x" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct env env;

		if (parse(&env, bad[i][0], bad[i][1], NULL) != PARSE_USAGE)
			fail_msg("%s '%s' was accepted", bad[i][0], bad[i][1]);
	}
}

static void test_other_usage_errors(void **state)
{
	struct env env;

	assert_int_equal(parse(&env, "-x", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "--bogus", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "-P", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "stray", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "-4", "-6", NULL), PARSE_USAGE);
}

static void test_flags(void **state)
{
	struct env env;

	assert_int_equal(parse(&env, "-4", "-j", "-T", "-v", "-d", "5", "-b", "16", "-p", "77",
			       NULL),
			 PARSE_OK);
	assert_int_equal(env.family, 4);
	assert_true(env.json && env.timestamp && env.verbose);
	assert_int_equal(env.duration_ms, 5000);
	assert_int_equal(env.ringbuf_mb, 16);
	assert_int_equal(env.pid, 77);
	assert_int_equal(parse(&env, "-6", NULL), PARSE_OK);
	assert_int_equal(env.family, 6);
}

static void test_output_choice(void **state)
{
	struct env env;

	assert_int_equal(parse(&env, NULL), PARSE_OK);
	assert_false(env.ladder || env.live || env.no_color);
	assert_int_equal(parse(&env, "--ladder", "--no-color", NULL), PARSE_OK);
	assert_true(env.ladder && env.no_color);
	assert_int_equal(parse(&env, "--live", NULL), PARSE_OK);
	assert_true(env.live);
	/* one output at a time */
	assert_int_equal(parse(&env, "--ladder", "--json", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "-j", "--live", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "--live", "--ladder", NULL), PARSE_USAGE);
	/* flags take no value */
	assert_int_equal(parse(&env, "--ladder=yes", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "--no-color=1", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "--colour", NULL), PARSE_USAGE);
}

static void test_read_and_write(void **state)
{
	struct env env;

	assert_int_equal(parse(&env, "-r", "rec.jsonl", "--ladder", "--max-conns", "100", NULL),
			 PARSE_OK);
	assert_string_equal(env.read_path, "rec.jsonl");
	assert_int_equal(parse(&env, "--read", "-", "-j", NULL), PARSE_OK);
	assert_string_equal(env.read_path, "-");
	assert_int_equal(parse(&env, "-P", "9000", "-w", "out.jsonl", "--ladder", NULL), PARSE_OK);
	assert_string_equal(env.write_path, "out.jsonl");
	assert_int_equal(parse(&env, "--write", "o", "--json", NULL), PARSE_OK);
	/* what only tracing means, with a recording: usage errors */
	assert_int_equal(parse(&env, "-r", "rec.jsonl", "-P", "80", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "-p", "5", "-r", "rec.jsonl", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "-r", "rec.jsonl", "-6", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "-r", "rec.jsonl", "-d", "3", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "-r", "rec.jsonl", "-b", "8", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "-r", "", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "-r", NULL), PARSE_USAGE);
	/* stdout is the chosen output's: -w - would mix two */
	assert_int_equal(parse(&env, "-w", "-", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "-w", "", NULL), PARSE_USAGE);
}

static void test_help_and_version_exit_zero(void **state)
{
	struct env env;

	assert_int_equal(parse(&env, "-h", NULL), PARSE_EXIT);
	assert_false(env.version);
	assert_int_equal(parse(&env, "--version", NULL), PARSE_EXIT);
	/* main prints the report: it needs libbpf and the kernel's BTF */
	assert_true(env.version);
}

static void test_exec_takes_the_rest(void **state)
{
	struct env env;

	/* the command's own options are its own, with or without -- */
	assert_int_equal(parse(&env, "-P", "80", "-x", "curl", "-s", "-P", "x", NULL), PARSE_OK);
	assert_true(env.exec);
	assert_string_equal(env.exec_argv[0], "curl");
	assert_string_equal(env.exec_argv[1], "-s");
	assert_string_equal(env.exec_argv[2], "-P");
	assert_null(env.exec_argv[4]);
	assert_int_equal(parse(&env, "-j", "-x", "--", "ls", "-l", NULL), PARSE_OK);
	assert_true(env.json);
	assert_string_equal(env.exec_argv[0], "ls");
	assert_string_equal(env.exec_argv[1], "-l");
	/* no command, a pid too, a command without -x */
	assert_int_equal(parse(&env, "-x", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "-x", "--", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "-p", "1", "-x", "ls", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "--", "ls", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, NULL), PARSE_OK);
	assert_false(env.exec);
	assert_null(env.exec_argv);
}

static void test_cgroup_option(void **state)
{
	struct env env;

	assert_int_equal(parse(&env, "--cgroup", "system.slice/x.service", NULL), PARSE_OK);
	assert_string_equal(env.cgroup_path, "system.slice/x.service");
	assert_int_equal(parse(&env, "--cgroup", "", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "--cgroup", NULL), PARSE_USAGE);
	/* tracing filters mean nothing to a recording */
	assert_int_equal(parse(&env, "-r", "x.jsonl", "--cgroup", "a", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "-r", "x.jsonl", "-x", "ls", NULL), PARSE_USAGE);
}

static void test_usage_message_is_one_line(void **state)
{
	char buf[512] = "";
	FILE *err = fmemopen(buf, sizeof(buf) - 1, "w");
	char *argv[] = { "tcptimeline", "-P", "0", NULL };
	struct env env;

	env_defaults(&env);
	assert_int_equal(parse_options(3, argv, &env, devnull, err), PARSE_USAGE);
	fclose(err);
	assert_non_null(strstr(buf, "invalid port '0'"));
	assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);
}

static void test_leave_running_options(void **state)
{
	struct env env;

	assert_int_equal(parse(&env, "--summary", NULL), PARSE_OK);
	assert_int_equal(env.summary_secs, 10);
	assert_int_equal(parse(&env, "--summary=30", NULL), PARSE_OK);
	assert_int_equal(env.summary_secs, 30);
	assert_int_equal(parse(&env, "--summary=0", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "--summary=x", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, NULL), PARSE_OK);
	assert_int_equal(env.summary_secs, 0);
	assert_false(env.metrics_on);

	assert_int_equal(parse(&env, "--metrics", "127.0.0.1:9464", NULL), PARSE_OK);
	assert_true(env.metrics_on);
	assert_int_equal(env.metrics_family, 4);
	assert_string_equal(env.metrics_addr, "127.0.0.1");
	assert_int_equal(env.metrics_port, 9464);
	assert_int_equal(parse(&env, "--metrics", ":9464", NULL), PARSE_OK);
	assert_int_equal(env.metrics_family, 0);
	assert_string_equal(env.metrics_addr, "");
	assert_int_equal(parse(&env, "--metrics", "[::1]:80", NULL), PARSE_OK);
	assert_int_equal(env.metrics_family, 6);
	assert_string_equal(env.metrics_addr, "::1");
	assert_int_equal(env.metrics_port, 80);
	assert_int_equal(parse(&env, "--metrics", "9464", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "--metrics", "127.0.0.1:0", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "--metrics", "127.0.0.1:65536", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "--metrics", "127.0.0.1:", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "--metrics", "localhost:9464", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "--metrics", "::1:9464", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "--metrics", "[127.0.0.1]:9464", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "--metrics", "[]:9464", NULL), PARSE_USAGE);

	assert_int_equal(parse(&env, "-q", NULL), PARSE_OK);
	assert_true(env.quiet);
	assert_int_equal(parse(&env, "--quiet", "--json", NULL), PARSE_OK);
	assert_int_equal(parse(&env, "-q", "--ladder", NULL), PARSE_USAGE);
	assert_int_equal(parse(&env, "-q", "--live", NULL), PARSE_USAGE);

	assert_int_equal(parse(&env, "--user", "nobody", NULL), PARSE_OK);
	assert_string_equal(env.user, "nobody");
	assert_int_equal(parse(&env, "--user", "", NULL), PARSE_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_ports_and_ranges),
		cmocka_unit_test(test_stale_errno_does_not_reject),
		cmocka_unit_test(test_bad_values_are_usage_errors),
		cmocka_unit_test(test_other_usage_errors),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_output_choice),
		cmocka_unit_test(test_read_and_write),
		cmocka_unit_test(test_help_and_version_exit_zero),
		cmocka_unit_test(test_exec_takes_the_rest),
		cmocka_unit_test(test_cgroup_option),
		cmocka_unit_test(test_usage_message_is_one_line),
		cmocka_unit_test(test_leave_running_options),
	};

	devnull = fopen("/dev/null", "w");
	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
