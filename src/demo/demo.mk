# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The demo client and server (src/demo/): included by the root Makefile,
# or on its own: make -f src/demo/demo.mk demo-bins
#   .output/demo/demo-server, .output/demo/demo-client

OUTPUT ?= .output
DEMO_OUT := $(OUTPUT)/demo
DEMO_CFLAGS ?= -std=c11 -O2 -g -D_GNU_SOURCE -Wall -Wextra -Werror
DEMO_COMMON := src/demo/demo_common.c
DEMO_DEPS := $(DEMO_COMMON) src/demo/demo_common.h

.PHONY: demo-bins
demo-bins: $(DEMO_OUT)/demo-server $(DEMO_OUT)/demo-client

$(DEMO_OUT):
	$(Q)mkdir -p $@

$(DEMO_OUT)/demo-server: src/demo/demo-server.c $(DEMO_DEPS) | $(DEMO_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(DEMO_CFLAGS) src/demo/demo-server.c $(DEMO_COMMON) -o $@

$(DEMO_OUT)/demo-client: src/demo/demo-client.c $(DEMO_DEPS) | $(DEMO_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(DEMO_CFLAGS) src/demo/demo-client.c $(DEMO_COMMON) -o $@

# sudo make demo [SCENARIO=keepalive]: the tracer draws every demo scenario.
# Packages first (tests/install-deps.sh), then a fresh make so pkg-config and
# bpftool are found, then src/demo/demo.sh.
SCENARIO ?=
.PHONY: demo
demo:
	$(Q)tests/install-deps.sh
	$(Q)$(MAKE) --no-print-directory all demo-bins
	$(Q)src/demo/demo.sh $(SCENARIO)
