# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Benchmark fragment, included by the root Makefile (after it defines
# OUTPUT and the tcptimeline target):
#
#	make bench-bins		build the workloads into $(OUTPUT)/bench/
#	sudo make bench		build everything and run tests/bench/bench.sh
#
# bench.sh settings pass through the environment or the make command line,
# e.g. `sudo make bench ROUNDS=7 SECS=10` (see the top of bench.py).

OUTPUT ?= .output
BENCH_OUT := $(OUTPUT)/bench
BENCH_CFLAGS := -Wall -Wextra -Werror -std=c11 -O2
BENCH_BINS := $(BENCH_OUT)/churn $(BENCH_OUT)/bulk

$(BENCH_OUT):
	$(Q)mkdir -p $@

# $(Q) and $(msg) come from the root Makefile (empty if it has none).
$(BENCH_BINS): $(BENCH_OUT)/%: tests/bench/%.c tests/bench/bench_util.h | $(BENCH_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) -pthread -o $@ $<

# tcptimeline with its ring output compiled out (TT_BENCH_NO_OUTPUT): the
# tt_noout configuration, which measures the BPF bookkeeping alone. The
# same sources otherwise; only the BPF object and the loader that embeds it
# differ.
NOOUT := $(BENCH_OUT)/noout
NOOUT_TRACER := $(BENCH_OUT)/tcptimeline-noout

$(NOOUT):
	$(Q)mkdir -p $@

$(NOOUT)/tcptimeline.bpf.o: bpf/tcptimeline.bpf.c | $(NOOUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DTT_BENCH_NO_OUTPUT=1 -MMD -MP -c $< -o $@

$(NOOUT)/tcptimeline.skel.h: $(NOOUT)/tcptimeline.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# -I$(NOOUT) first: loader.c's "tcptimeline.skel.h" is found there
$(NOOUT)/loader.o: src/kernel/loader.c $(NOOUT)/tcptimeline.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) -I$(NOOUT) $(TT_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(NOOUT_TRACER): $(CORE_OBJS) $(filter-out $(OUTPUT)/kernel/loader.o,$(APP_OBJS)) $(NOOUT)/loader.o
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

-include $(wildcard $(NOOUT)/*.d)

# the report from a recorded run, figure for figure (no root; in make unit)
.PHONY: bench-report-check
bench-report-check:
	$(Q)python3 tests/bench/report_test.py
unit: bench-report-check

.PHONY: bench bench-bins
bench-bins: $(BENCH_BINS) $(NOOUT_TRACER)

bench: tcptimeline $(BENCH_BINS) $(NOOUT_TRACER)
	OUT="$(abspath $(BENCH_OUT))" TRACER="$(abspath tcptimeline)" \
		TRACER_NOOUT="$(abspath $(NOOUT_TRACER))" \
		CC="$(CC)" bash tests/bench/bench.sh

# sudo make soak [SOAK_SECS=600] [SOAK_MODES="metrics service"]: the CPU-bound
# churn for SOAK_SECS under each leave-it-running mode in turn (`--metrics
# 127.0.0.1:9464 -q`; the systemd unit's `--metrics ... --abnormal --json`),
# the tracer's RSS sampled over time; fails when it does not stay flat, events
# are lost or the tracer falls behind (tests/bench/soak.py)
SOAK_SECS ?= 600
SOAK_MODES ?= metrics service
.PHONY: soak
soak: tcptimeline $(BENCH_BINS)
	python3 tests/bench/soak.py --tracer "$(abspath tcptimeline)" \
		--churn "$(abspath $(BENCH_OUT)/churn)" --secs $(SOAK_SECS) \
		$(foreach m,$(SOAK_MODES),--mode $(m))
