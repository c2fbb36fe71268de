# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# cmocka unit tests: the pure modules, no kernel, no libbpf.

UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/unit/%,$(wildcard tests/unit/test_*.c))

$(OUTPUT)/unit:
	$(Q)mkdir -p $@

$(OUTPUT)/unit/%: tests/unit/%.c $(CORE_OBJS) | $(OUTPUT)/unit
	$(call msg,UNIT,$@)
	$(Q)$(CC) $(TT_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -Itests/unit $< $(CORE_OBJS) $(JANSSON_LIBS) -lcmocka -o $@

unit-bins: $(UNIT_TESTS)

# every binary runs, even after a failure; the exit status says if any failed
unit: $(UNIT_TESTS)
	$(Q)rc=0; for t in $(UNIT_TESTS); do $$t || rc=1; done; exit $$rc

.PHONY: unit unit-bins
