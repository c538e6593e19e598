#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: install what is needed, build, and show the main job end to
# end in a VM: export a ramdisk, import it, mkfs, mount, write, read back,
# verify. DEMO_KVER picks the kernel (default: the newest installed 6.12).
# The exit status is the VM run's: non-zero if any step of the demo fails
# (selftests/demo.sh never skips) or the kernel log shows a problem.
set -eu
cd "$(dirname "$0")/.."

mkdir -p build
if [ "${CHECK_SKIP_DEPS:-0}" != 1 ]; then
	echo "== installing build and test dependencies (make deps)"
	sh scripts/deps.sh >build/deps.log 2>&1 || { tail -n 30 build/deps.log; exit 1; }
fi
kver=${DEMO_KVER:-$(make -s --no-print-directory print-kver612)}
[ -n "$kver" ] || { echo "no 6.12 kernel headers: run make deps, or set DEMO_KVER"; exit 1; }
echo "== building dstor.ko for $kver and the dstor tool"
make --no-print-directory module KVER="$kver" >build/demo-build.log 2>&1 &&
	make --no-print-directory tool >>build/demo-build.log 2>&1 ||
	{ tail -n 30 build/demo-build.log; exit 1; }
echo "== booting $kver in QEMU (software emulation: this takes a few minutes)"
exec selftests/vm/run.sh --kernel "/boot/vmlinuz-$kver" --modules "$kver" \
	--ko "build/kmod/$kver/dstor.ko" --tool build/tool/dstor demo.sh
