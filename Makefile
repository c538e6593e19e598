# SPDX-License-Identifier: GPL-2.0
#
# dstor: kernel module + userspace tool.
#
#   make                 module for the running kernel (or the newest installed
#                        kernel with headers) and the dstor tool
#   make KVER=<release>  module for another installed kernel
#   make deps            install everything the build and the tests need (root)
#   make check           every test: host unit tests, style, module builds for
#                        both kernels, the VM selftests on 6.1, 6.12 and the
#                        debug kernel
#   make demo            the main job end to end in a VM
#   make bench           fio: local ramdisk, dstor, nbd and NVMe/TCP in one VM;
#                        multicast; dstor sync --peer against DRBD 8.4's
#                        verify + resync; 10,000 connections
#   make bench-ab B=KO   two builds of the module, interleaved in one VM
#   make install         module (modules_install + depmod) and tool
#   make dkms-install    register, build and install with DKMS
#   make deb             Debian packages dstor and dstor-dkms in build/deb,
#                        checked with lintian

VERSION := $(shell cat $(CURDIR)/VERSION)
TOP := $(CURDIR)
BUILD := $(TOP)/build

# Kernels: the running one if its headers are installed, else the newest
# installed one. KVERS are all the kernels `make check` builds and tests.
KVERS ?= $(shell ls -d /lib/modules/*/build 2>/dev/null | cut -d/ -f4 | sort -V)
RUNNING := $(shell uname -r)
KVER ?= $(if $(wildcard /lib/modules/$(RUNNING)/build),$(RUNNING),$(lastword $(KVERS)))
KDIR ?= /lib/modules/$(KVER)/build
KVER_61 := $(firstword $(filter 6.1.%,$(KVERS)))
KVER_612 := $(lastword $(filter 6.12.%,$(KVERS)))

DEBUG_KERNEL_DIR ?= $(TOP)/../shared/debug-kernel
DEBUG_TREE := $(BUILD)/debug/tree

MODULE_SRC := Kbuild $(wildcard kernel/*.c kernel/*.h) include/uapi/linux/dstor.h
TOOL := $(BUILD)/tool/dstor
LINUX_SRC := /usr/src/linux-source-6.1.tar.xz
CHECKPATCH := $(BUILD)/tools/linux-source-6.1/scripts/checkpatch.pl

TESTTOOLS := $(BUILD)/testtools
TESTTOOL_BINS := $(addprefix $(TESTTOOLS)/,dstor-hostile dstor-nlfuzz dstor-mitm dstor-mcforge dstor-mldforge dstor-mctree dstor-logreplay dstor-iovec dstor-stale)
FUZZ_SECONDS ?= 42

.PHONY: all module modules tool testtools fuzz host-test index-test style sparse sparse-build deps check check-big demo bench bench-ab print-kver61 print-kver612 \
	install dkms-install dkms-check deb vm-test debug-module debug-kernel clean

all: module tool

# Each kernel builds in its own copy of the sources so builds for several
# kernels never share object files.
define kmod_build
	@mkdir -p $(BUILD)/kmod/$(1)/kernel $(BUILD)/kmod/$(1)/include/uapi/linux
	@cp -u Kbuild $(BUILD)/kmod/$(1)/
	@cp -u kernel/*.c kernel/*.h $(BUILD)/kmod/$(1)/kernel/
	@cp -u include/uapi/linux/dstor.h $(BUILD)/kmod/$(1)/include/uapi/linux/
	$(MAKE) -C $(2) M=$(BUILD)/kmod/$(1) W=1 $(3) modules
endef

module: $(BUILD)/kmod/$(KVER)/dstor.ko

$(BUILD)/kmod/%/dstor.ko: $(MODULE_SRC)
	@test -d /lib/modules/$*/build || { echo "no headers for kernel $*: install linux-headers-$* (make deps)"; exit 1; }
	$(call kmod_build,$*,/lib/modules/$*/build)

# $(call warning_free,LOG,WHAT,COMMAND), in a recipe: COMMAND with its
# output in LOG, then shown; fails if COMMAND fails or prints any warning or
# error (those lines are repeated at the end).
warning_free = $(3) >$(1) 2>&1; rc=$$?; cat $(1); test $$rc -eq 0 || exit 1; \
	if grep -E 'warning:|error:' $(1); then echo "$(2): warnings (above)"; exit 1; fi; \
	echo "$(2): no warnings"

# The module for every installed kernel; warnings are errors here.
modules:
	@test -n "$(KVER_61)" || { echo "no 6.1 kernel headers: run make deps"; exit 1; }
	@test -n "$(KVER_612)" || { echo "no 6.12 kernel headers: run make deps"; exit 1; }
	@mkdir -p $(BUILD)
	@for k in $(KVER_61) $(KVER_612); do \
		rm -f $(BUILD)/kmod/$$k/dstor.ko; \
		$(call warning_free,$(BUILD)/kmod-$$k.log,kernel $$k: dstor.ko built,$(MAKE) --no-print-directory module KVER=$$k); \
	done

# The debug kernel's module build tree ships as a tarball next to its image.
$(DEBUG_TREE)/Makefile: $(DEBUG_KERNEL_DIR)/build-tree.tar.xz
	mkdir -p $(BUILD)/debug
	tar -C $(BUILD)/debug -xJf $<
	touch $@

debug-module: $(DEBUG_TREE)/Makefile $(MODULE_SRC)
	$(call kmod_build,debug,$(DEBUG_TREE))

tool:
	cmake -S tools/dstor -B $(BUILD)/tool -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD)/tool -j2

# The hostile-input tools that run inside the selftest VM (tools/testing).
testtools:
	cmake -S tools/testing -B $(TESTTOOLS) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(TESTTOOLS) -j2

# libFuzzer over the wire-format decoders of kernel/proto.h, bounded.
fuzz:
	bash tools/fuzz/run.sh $(FUZZ_SECONDS)

# `dstor index` against Debian's casync (tools/dstor/tests/test_index.sh).
index-test: tool
	bash tools/dstor/tests/test_index.sh $(TOOL)

# A unity build (the sources compiled as a few large files) takes half the
# CPU time of one file at a time under ASan; make tool builds file by file,
# so both ways compile.
host-test:
	cmake -S tools/dstor -B $(BUILD)/tool-asan -DDSTOR_SANITIZE=ON -DDSTOR_TESTS=ON \
		-DCMAKE_BUILD_TYPE=Debug -DCMAKE_UNITY_BUILD=ON >/dev/null
	cmake --build $(BUILD)/tool-asan -j2
	ctest --test-dir $(BUILD)/tool-asan --output-on-failure

$(CHECKPATCH):
	@test -f $(LINUX_SRC) || { echo "$(LINUX_SRC) missing: run make deps"; exit 1; }
	mkdir -p $(BUILD)/tools
	tar -C $(BUILD)/tools -xJf $(LINUX_SRC) --wildcards \
		'linux-source-6.1/scripts/checkpatch.pl' \
		'linux-source-6.1/scripts/spelling.txt' \
		'linux-source-6.1/scripts/const_structs.checkpatch' \
		'linux-source-6.1/tools/testing/selftests/kselftest.h'
	touch $@

# --strict everywhere but in the two headers with another job: proto.h also
# compiles on the host (so it keeps C99 types there and cannot use BIT()),
# and compat.h exists to compare kernel versions.
STYLE_STRICT := $(filter-out kernel/compat.h kernel/proto.h kernel/mcast_proto.h,$(wildcard kernel/*.c kernel/*.h)) \
	include/uapi/linux/dstor.h
style: $(CHECKPATCH)
	perl $(CHECKPATCH) --no-tree --terse --strict -f $(STYLE_STRICT)
	perl $(CHECKPATCH) --no-tree --terse -f kernel/proto.h kernel/mcast_proto.h
	perl $(CHECKPATCH) --no-tree --terse \
		--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f kernel/compat.h

# sparse over every file of the module (C=2: whether or not it needs
# rebuilding), with the kernel's own sparse flags; any warning fails. With
# these flags neither 6.1's nor 6.12's headers print anything of their own,
# so every line is about dstor's code.
sparse:
	@mkdir -p $(BUILD)
	@$(call warning_free,$(BUILD)/sparse-$(KVER).log,sparse $(KVER),$(MAKE) --no-print-directory sparse-build KVER=$(KVER))

sparse-build:
	$(call kmod_build,sparse-$(KVER),$(KDIR),C=2)

deps:
	sh scripts/deps.sh

VM := selftests/vm/run.sh
VM_TESTS ?= $(shell cat selftests/TESTS 2>/dev/null)

# The selftests on one kernel: make vm-test KVER=<release> [VM_TESTS="a.sh b.sh"]
vm-test: module tool testtools
	$(VM) --kernel /boot/vmlinuz-$(KVER) --modules $(KVER) \
		--ko $(BUILD)/kmod/$(KVER)/dstor.ko --tool $(TOOL) \
		$(addprefix --extra ,$(TESTTOOL_BINS)) $(VM_TESTS)

check:
	bash scripts/check.sh

# bigtree.sh at issue 14's scale, not in `make check` (Documentation/
# reconciliation.md, "Memory"): a sparse export of 64 GiB in 64 KiB blocks
# (1,048,576 leaves). About 250 s alone on 6.12, 700 s on 6.1, and several
# times that beside other guests.
check-big: module tool testtools
	$(VM) --kernel /boot/vmlinuz-$(KVER) --modules $(KVER) \
		--ko $(BUILD)/kmod/$(KVER)/dstor.ko --tool $(TOOL) \
		$(addprefix --extra ,$(TESTTOOL_BINS)) \
		--append "BIGTREE_MB=65536 BIGTREE_BS=65536" bigtree.sh

demo:
	sh scripts/demo.sh

bench:
	sh scripts/bench.sh

bench-ab:
	sh scripts/bench-ab.sh

install: module tool
	$(MAKE) -C $(KDIR) M=$(BUILD)/kmod/$(KVER) INSTALL_MOD_DIR=extra modules_install
	depmod -a $(KVER)
	install -D -m 0755 $(TOOL) $(DESTDIR)/usr/local/sbin/dstor
	install -D -m 0644 Documentation/dstor.8 $(DESTDIR)/usr/local/share/man/man8/dstor.8
	install -D -m 0644 Documentation/dstor.conf.5 $(DESTDIR)/usr/local/share/man/man5/dstor.conf.5
	install -D -m 0644 tools/dstor/completion/dstor.bash \
		$(DESTDIR)/usr/local/share/bash-completion/completions/dstor
	install -D -m 0644 udev/60-dstor.rules $(DESTDIR)/etc/udev/rules.d/60-dstor.rules
	install -d -m 0755 $(DESTDIR)/etc/dstor/conf.d
	mkdir -p $(DESTDIR)/etc/systemd/system
	sed 's|@SBINDIR@|/usr/local/sbin|g' systemd/dstor.service \
		>$(DESTDIR)/etc/systemd/system/dstor.service

DKMS_SRC := /usr/src/dstor-$(VERSION)

# The module's sources where DKMS looks for them, dkms.conf with the version.
define dkms_src
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)
	cp -r Kbuild VERSION kernel include $(DKMS_SRC)/
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf >$(DKMS_SRC)/dkms.conf
endef

dkms-install:
	$(dkms_src)
	dkms add dstor/$(VERSION) || true
	dkms build dstor/$(VERSION) -k $(KVER)
	dkms install dstor/$(VERSION) -k $(KVER)

# What CI proves: DKMS builds the module for both installed kernels.
dkms-check:
	$(dkms_src)
	-dkms remove dstor/$(VERSION) --all >/dev/null 2>&1
	dkms add dstor/$(VERSION)
	set -e; for k in $(KVER_61) $(KVER_612); do dkms build dstor/$(VERSION) -k $$k; done
	dkms remove dstor/$(VERSION) --all
	rm -rf $(DKMS_SRC)

# The Debian packages, built from a copy of the tracked files with a
# debian/changelog written from VERSION; lintian must find no error.
DEB_DIR := $(BUILD)/deb
deb:
	sh scripts/deb.sh $(DEB_DIR) $(VERSION)

debug-kernel:
	sh scripts/debug-kernel.sh

clean:
	rm -rf $(BUILD)

print-kver61:
	@echo $(KVER_61)
print-kver612:
	@echo $(KVER_612)
