# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Kernel matrix under virtme-ng; included by the root Makefile.
#   make vm-setup [KERNELS="6.1 6.12"]      install qemu, vng, kernels
#   make vmtest   [KERNELS="6.1 6.12"]      integration suite on each kernel
# Kernels: 5.10 6.1 6.12 7 (newest 7.x) host; default all.
# Also passed through: VM_CMD VM_TIMEOUT VM_MEMORY VM_CPUS VM_KVM VM_RWDIR
# (see tests/vm/run.sh). Results: tests/vm/.cache/{logs/,matrix.md}.

VM_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
VM_ENV = KERNELS="$(KERNELS)" VM_CMD="$(VM_CMD)" VM_TIMEOUT="$(VM_TIMEOUT)" \
	 VM_MEMORY="$(VM_MEMORY)" VM_CPUS="$(VM_CPUS)" VM_KVM="$(VM_KVM)" \
	 VM_RWDIR="$(VM_RWDIR)"

.PHONY: vm-setup vmtest
vm-setup:
	$(VM_ENV) $(VM_DIR)/setup.sh

vmtest: tcptimeline vm-setup
	$(VM_ENV) $(VM_DIR)/run.sh
