# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# libFuzzer over the pure modules (decode, connection table, renderers),
# included by the root Makefile:
#	make fuzz [FUZZ_SECS=60]	build and run tests/fuzz/fuzz_records.c (kernel
#					records) and fuzz_jsonl.c (recordings read
#					back, -r), FUZZ_SECS each
# clang with -fsanitize=fuzzer,address,undefined; the fuzzer runtime is
# Debian's libclang-rt-N-dev for the clang in use. Every crash, leak or
# undefined behaviour stops the run with a reproducer (crash-*, leak-*) in
# $(FUZZ_OUT)/; inputs it finds go to $(FUZZ_OUT)/corpus, never into the
# committed seeds (tests/fuzz/corpus/, made by tests/fuzz/seeds.py).

FUZZ_OUT := $(OUTPUT)/fuzz
FUZZ_SECS ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := $(filter-out -MMD -MP,$(TT_CFLAGS)) -O1 -g $(FUZZ_SAN)
FUZZ_OBJS := $(patsubst src/%.c,$(FUZZ_OUT)/obj/%.o,$(CORE_SRCS))

$(FUZZ_OUT)/obj/%.o: src/%.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_OUT)/fuzz_records: tests/fuzz/fuzz_records.c tests/fuzz/fuzz_app.h $(FUZZ_OBJS)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJS) $(JANSSON_LIBS) -o $@

$(FUZZ_OUT)/fuzz_jsonl: tests/fuzz/fuzz_jsonl.c tests/fuzz/fuzz_app.h $(FUZZ_OBJS)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJS) $(JANSSON_LIBS) -o $@

.PHONY: fuzz fuzz-bins
fuzz-bins: $(FUZZ_OUT)/fuzz_records $(FUZZ_OUT)/fuzz_jsonl

fuzz: $(FUZZ_OUT)/fuzz_records $(FUZZ_OUT)/fuzz_jsonl
	$(Q)mkdir -p $(FUZZ_OUT)/corpus $(FUZZ_OUT)/corpus-jsonl
	$(Q)cd $(FUZZ_OUT) && ./fuzz_records -max_total_time=$(FUZZ_SECS) -print_final_stats=1 \
		-max_len=8192 corpus $(abspath tests/fuzz/corpus/records)
	$(Q)cd $(FUZZ_OUT) && ./fuzz_jsonl -max_total_time=$(FUZZ_SECS) -print_final_stats=1 \
		-max_len=16384 corpus-jsonl $(abspath tests/fuzz/corpus/jsonl)

-include $(wildcard $(FUZZ_OUT)/obj/*/*.d)
