# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# tcptimeline: .bpf.c -> .bpf.o -> .skel.h -> ./tcptimeline (the libbpf-bootstrap pipeline)

OUTPUT := .output
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
CC ?= cc
PKG_CONFIG ?= pkg-config
SCDOC ?= scdoc
comma := ,
space := $(subst ,, )
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf)
# jansson reads recordings back (-r): src/model/jsonl_reader.c
JANSSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags jansson 2>/dev/null)
JANSSON_LIBS := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null || echo -ljansson)
# --metrics: Debian's libmicrohttpd-dev
MHD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS := $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)

VERSION := 0.1.0
# CFLAGS and LDFLAGS are the builder's (make CFLAGS=-O0, a distribution's
# hardening flags); the project's own flags live in TT_CFLAGS and are always
# added, so overriding CFLAGS never loses -std, the include paths or -MMD.
CFLAGS ?= -O2 -g
LDFLAGS ?=
SRC_DIRS := src src/cli src/export src/kernel src/model src/render src/util
TT_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
	     -Iinclude $(addprefix -I,$(SRC_DIRS)) -I$(OUTPUT) $(LIBBPF_CFLAGS) $(JANSSON_CFLAGS) $(MHD_CFLAGS) -MMD -MP \
	     -DTCPTIMELINE_VERSION='"$(VERSION)"'
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Ivmlinux -Iinclude -Ibpf $(LIBBPF_CFLAGS)
LDLIBS := $(LIBBPF_LIBS) $(JANSSON_LIBS) -lelf -lz $(MHD_LIBS) -lpthread

# Build dependencies, checked when make reads this file, so a machine that
# lacks one stops at once with one line instead of failing inside the
# compiler. Tools: the command (its first word) and its Debian package;
# libraries: the pkg-config name and the Debian package (add yours to
# BUILD_LIBS). Goals that build nothing, or install the dependencies first
# and then run make again (check, demo), are not checked.
BUILD_TOOLS := CC=$(firstword $(CC)):gcc CLANG=$(firstword $(CLANG)):clang \
	       BPFTOOL=$(firstword $(BPFTOOL)):bpftool PKG_CONFIG=$(firstword $(PKG_CONFIG)):pkg-config \
	       SCDOC=$(firstword $(SCDOC)):scdoc
BUILD_LIBS := libbpf:libbpf-dev libelf:libelf-dev zlib:zlib1g-dev jansson:libjansson-dev \
	      libmicrohttpd:libmicrohttpd-dev
UNIT_LIBS := cmocka:libcmocka-dev
NO_BUILD_GOALS := deps check demo deb clean uninstall vm-setup lint format print-build-deps
ifneq ($(if $(MAKECMDGOALS),$(filter-out $(NO_BUILD_GOALS),$(MAKECMDGOALS)),all),)
dep_word = $(word $(2),$(subst :, ,$(1)))
# each missing item is one word, ~ for its spaces, so the list joins with commas
missing_tool = $(if $(shell command -v $(call dep_word,$(lastword $(subst =, ,$(1))),1) 2>/dev/null),,\
	$(call dep_word,$(1),2)~($(call dep_word,$(1),1)~not~found))
missing_lib = $(if $(shell $(PKG_CONFIG) --exists $(call dep_word,$(1),1) 2>/dev/null && echo y),,\
	$(call dep_word,$(1),2)~(no~$(call dep_word,$(1),1)~for~$(PKG_CONFIG)))
MISSING_TOOLS := $(strip $(foreach t,$(BUILD_TOOLS),$(call missing_tool,$(t))))
# without pkg-config no library can be looked for: the tool is named alone
MISSING_LIBS := $(if $(filter pkg-config%,$(MISSING_TOOLS)),,$(strip \
	$(foreach l,$(BUILD_LIBS) $(if $(filter unit% docs-check,$(MAKECMDGOALS)),$(UNIT_LIBS)),\
	$(call missing_lib,$(l)))))
MISSING := $(strip $(MISSING_TOOLS) $(MISSING_LIBS))
ifneq ($(MISSING),)
$(error missing build dependencies: $(subst ~, ,$(subst $(space),$(comma)$(space),$(MISSING))): run 'sudo make deps')
endif
endif

# The source tree by pipeline stage:
#   src/cli      options
#   src/export   --metrics: the HTTP endpoint (libmicrohttpd)
#   src/kernel   the libbpf side: loading, attaching, sockets open at start; --user
#   src/model    records -> connections: decode, connection table, causes, names;
#                recordings (JSON Lines) read back; stats (counters for --summary
#                and --metrics)
#   src/render   connections and events -> JSON, text, ladders (ladder_model: the
#                rows and notes; render_ladder draws them as text, render_html as SVG);
#                the stats as Prometheus text and summaries
#   src/util     small shared helpers (line building and escaping, text for people,
#                terminal colours, addresses)
# The pure modules (no libbpf): unit-tested without a kernel.
CORE_SRCS := src/model/names.c src/kernel/log_scan.c src/model/decode.c src/model/conn_table.c src/model/cause.c src/model/outcome.c \
	     src/model/jsonl_reader.c \
	     src/util/json.c src/util/text.c src/util/addr.c src/util/output.c src/cli/options.c \
	     src/render/render_json.c src/render/render_text.c \
	     src/render/ladder_model.c src/render/render_ladder.c src/render/render_html.c \
	     src/render/ladder_queue.c src/model/stats.c src/render/render_stats.c
APP_SRCS := src/main.c src/kernel/loader.c src/kernel/existing.c src/kernel/version_report.c \
	    src/kernel/privs.c src/export/metrics_http.c src/kernel/exec_cmd.c src/kernel/cgroup.c
CORE_OBJS := $(patsubst src/%.c,$(OUTPUT)/%.o,$(CORE_SRCS))
APP_OBJS := $(patsubst src/%.c,$(OUTPUT)/%.o,$(APP_SRCS))

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all clean deps check unit integration docs-check html-check check-asan lint
# the tracer's path: check-asan builds a sanitized one elsewhere
TRACER_BIN ?= tcptimeline
all: $(TRACER_BIN) $(OUTPUT)/tcptimeline.8

# Debian packages first, then a fresh make so pkg-config and bpftool are found
deps:
	$(Q)tests/install-deps.sh

# every test: unit, integration (root), and the integration suite again in a
# VM per kernel of the matrix (tests/vm); VMTEST=0 skips the VMs
VMTEST ?= 1
check: deps
	$(Q)$(MAKE) --no-print-directory all unit-bins demo-bins bench-bins fuzz-bins asan-bins
	$(Q)VMTEST=$(VMTEST) tests/check.sh

integration: tcptimeline
	$(Q)python3 tests/integration/run.py

# shellcheck on every shell script, pyflakes on every Python file (found by
# name and #! line: tests/lint.sh); make check runs it, and so does make unit
# (2 s), which every landing runs, so that main stays clean
lint:
	$(Q)tests/lint.sh
# make format: every C file git knows rewritten to .clang-format (what lint checks)
.PHONY: format
format:
	$(Q)git ls-files '*.c' '*.h' | grep -v '^vmlinux/' | xargs -r -d '\n' clang-format -i
unit: lint

$(OUTPUT):
	$(Q)mkdir -p $@

# header dependencies of BPF objects come from clang's -MMD, like the C objects'
$(OUTPUT)/%.bpf.o: bpf/%.bpf.c | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/%.o: src/%.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TT_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# the man page, from its scdoc source
$(OUTPUT)/tcptimeline.8: docs/tcptimeline.8.scd | $(OUTPUT)
	$(call msg,SCDOC,$@)
	$(Q)$(SCDOC) < $< > $@

# the man page and the bash completion against --help and the README's
# contract (no root); part of make unit, so an option added without its
# man page entry and completion fails before it lands; the same for a
# build dependency missing from debian/control or tests/install-deps.sh
docs-check: tcptimeline $(OUTPUT)/tcptimeline.8
	$(Q)python3 tests/docs/run.py --tracer ./tcptimeline --man $(OUTPUT)/tcptimeline.8
	$(Q)python3 tests/pkg/run.py -k build_depends

# the Debian packages of BUILD_TOOLS, BUILD_LIBS and UNIT_LIBS (tests/pkg)
.PHONY: print-build-deps
print-build-deps:
	@echo $(foreach d,$(BUILD_TOOLS) $(BUILD_LIBS) $(UNIT_LIBS),$(lastword $(subst :, ,$(d))))
unit: docs-check

# the HTML page: the unit tests' golden page well-formed (xmllint) and drawn
# by a headless chromium (no root; a few seconds); in make check
html-check: $(TRACER_BIN)
	$(Q)python3 tests/html/run.py --tracer ./$(TRACER_BIN)

# the loader and the version report include the skeleton
$(OUTPUT)/kernel/loader.o $(OUTPUT)/kernel/version_report.o: $(OUTPUT)/tcptimeline.skel.h

$(TRACER_BIN): $(CORE_OBJS) $(APP_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# make install / uninstall: the files a distribution ships, nothing else.
# PREFIX and DESTDIR as everywhere (make install DESTDIR=/tmp/x PREFIX=/usr).
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/tcptimeline
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL ?= install
DOCS := README.md $(wildcard docs/*.md)
# the unit that runs the metrics mode, once the tree has one
SYSTEMD_UNIT := $(wildcard systemd/tcptimeline.service)

.PHONY: install uninstall
install: tcptimeline $(OUTPUT)/tcptimeline.8
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(BASHCOMPDIR)
	$(Q)$(INSTALL) -m 0755 tcptimeline $(DESTDIR)$(SBINDIR)/tcptimeline
	$(Q)$(INSTALL) -m 0644 $(OUTPUT)/tcptimeline.8 $(DESTDIR)$(MANDIR)/man8/tcptimeline.8
	$(Q)$(INSTALL) -m 0644 completions/tcptimeline $(DESTDIR)$(BASHCOMPDIR)/tcptimeline
	$(Q)$(INSTALL) -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
ifneq ($(SYSTEMD_UNIT),)
	$(Q)$(INSTALL) -d $(DESTDIR)$(SYSTEMDUNITDIR)
	$(Q)sed 's|/usr/sbin/tcptimeline|$(SBINDIR)/tcptimeline|g' $(SYSTEMD_UNIT) \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/tcptimeline.service
	$(Q)chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/tcptimeline.service
endif

# removes what install put there and the docs directory it made; the shared
# directories (sbin, man8, ...) stay, as they belong to the system
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/tcptimeline $(DESTDIR)$(MANDIR)/man8/tcptimeline.8 \
		$(DESTDIR)$(BASHCOMPDIR)/tcptimeline $(DESTDIR)$(SYSTEMDUNITDIR)/tcptimeline.service \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	$(Q)if [ -d $(DESTDIR)$(DOCDIR) ]; then rmdir $(DESTDIR)$(DOCDIR); fi

# make deb: the Debian package (debian/, debhelper), built from a copy of the
# tree in $(OUTPUT)/deb so this checkout's build and its parent directory
# are left alone; lintian must find no errors. The package build runs no
# tests unless asked (make deb DEB_BUILD_OPTIONS=): they are make check's.
DEB_BUILD_OPTIONS ?= nocheck
DEB_DIR := $(OUTPUT)/deb
.PHONY: deb
deb:
	$(call msg,DEB,$(DEB_DIR))
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/tcptimeline-$(VERSION)
	$(Q)if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -co --exclude-standard -z; \
	else \
		find . -path ./.output -prune -o -path ./tests/vm/.cache -prune -o \
			-path ./tcptimeline -prune -o -type f -print0; \
	fi | xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' x | \
		tar -c --null -T - -f - | tar -x -C $(DEB_DIR)/tcptimeline-$(VERSION)
	$(Q)cd $(DEB_DIR)/tcptimeline-$(VERSION) && \
		DEB_BUILD_OPTIONS="$(DEB_BUILD_OPTIONS)" \
		dpkg-buildpackage -us -uc $(if $(filter nocheck,$(DEB_BUILD_OPTIONS)),-Pnocheck) \
		>../build.log 2>&1 || { tail -30 ../build.log; \
		echo "make deb: dpkg-buildpackage failed: $(DEB_DIR)/build.log has the whole log" >&2; \
		exit 1; }
	$(Q)lintian --fail-on error $(DEB_DIR)/tcptimeline_$(VERSION)_*.changes
	$(Q)ls $(DEB_DIR)/*.deb

# make check-asan: the unit and integration suites against an AddressSanitizer
# + UndefinedBehaviorSanitizer build of everything (in .output/asan); any
# report, leaks included, fails it (tests/check-asan.sh)
ASAN_OUT := .output/asan
# -O2 as the normal build, so both see the same -Wformat-truncation and
# -Wrestrict analysis (at -O1 gcc reports false positives the normal build,
# which every landing builds, never shows)
ASAN_FLAGS := -O2 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
.PHONY: asan-bins
asan-bins:
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(ASAN_OUT) TRACER_BIN=$(ASAN_OUT)/tcptimeline \
		CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" \
		$(ASAN_OUT)/tcptimeline unit-bins

check-asan: deps
	$(Q)$(MAKE) --no-print-directory asan-bins demo-bins
	$(Q)tests/check-asan.sh $(ASAN_OUT)

-include tests/unit/unit.mk
-include src/demo/demo.mk
-include tests/vm/vm.mk
-include tests/bench/bench.mk
-include tests/fuzz/fuzz.mk

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) tcptimeline

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/*/*.d)

.DELETE_ON_ERROR:
.SECONDARY:
