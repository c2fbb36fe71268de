# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Benchmark fragment, included by the root Makefile (after it defines
# OUTPUT and the tcptimeline target):
#
#	make bench-bins		build the workloads into $(OUTPUT)/bench/
#	sudo make bench		build everything and run tests/bench/bench.sh
#
# bench.sh settings pass through the environment or the make command line,
# e.g. `sudo make bench ROUNDS=7 SECS=10` (see the top of bench.sh).

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

.PHONY: bench bench-bins
bench-bins: $(BENCH_BINS)

bench: tcptimeline $(BENCH_BINS)
	OUT="$(abspath $(BENCH_OUT))" TRACER="$(abspath tcptimeline)" \
		CC="$(CC)" bash tests/bench/bench.sh
