#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: install what is needed, build, and show the main job end to
# end in a VM: export a ramdisk, import it, mkfs, mount, write, read back,
# verify. DEMO_KVER picks the kernel (default: the newest installed).
set -eu
cd "$(dirname "$0")/.."

if [ "${CHECK_SKIP_DEPS:-0}" != 1 ]; then
	echo "== installing build and test dependencies (make deps)"
	mkdir -p build
	sh scripts/deps.sh >build/deps.log 2>&1 || { tail -n 30 build/deps.log; exit 1; }
fi
kver=${DEMO_KVER:-$(make -s --no-print-directory print-kver612)}
echo "== building dstor.ko for $kver and the dstor tool"
make --no-print-directory module KVER="$kver" >build/demo-build.log 2>&1 &&
	make --no-print-directory tool >>build/demo-build.log 2>&1 ||
	{ tail -n 30 build/demo-build.log; exit 1; }
echo "== booting $kver in QEMU (software emulation: this takes a few minutes)"
exec selftests/vm/run.sh --kernel "/boot/vmlinuz-$kver" --modules "$kver" \
	--ko "build/kmod/$kver/dstor.ko" --tool build/tool/dstor demo.sh
