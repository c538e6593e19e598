#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make debug-kernel`: build the debug kernel the third selftest tier runs
# on (KASAN, lockdep, kmemleak, KFENCE, UBSAN, KUnit) from Debian's
# linux-source-6.1, with scripts/debug.config on top of defconfig and
# kvm_guest.config; everything a test guest needs is built in.
#
# Output, in the layout `make check` expects (DEBUG_KERNEL_DIR):
#   build/debug-kernel/bzImage
#   build/debug-kernel/config
#   build/debug-kernel/build-tree.tar.xz   module build tree, unpacks to tree/
# Then: make check DEBUG_KERNEL_DIR=$PWD/build/debug-kernel
# DEBUG_KERNEL_CONFIG_ONLY=1 stops after checking the configuration.
# About 25 minutes on two cores; needs linux-source-6.1 (make deps) and the
# kernel build dependencies (bc, bison, flex, libelf-dev, libssl-dev).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
src_tar=/usr/src/linux-source-6.1.tar.xz
work=$top/build/debug-kernel-src
out=$top/build/debug-kernel
jobs=$(nproc)

[ -f "$src_tar" ] || { echo "debug-kernel: $src_tar missing: run make deps" >&2; exit 1; }
for p in bc bison flex; do
	command -v $p >/dev/null || { echo "debug-kernel: $p missing (make deps)" >&2; exit 1; }
done

if [ ! -f "$work/linux-source-6.1/Makefile" ]; then
	rm -rf "$work"
	mkdir -p "$work"
	echo "debug-kernel: unpacking $src_tar"
	tar -C "$work" -xJf "$src_tar"
fi
k=$work/linux-source-6.1

echo "debug-kernel: configuring (defconfig + kvm_guest.config + scripts/debug.config)"
make -C "$k" -s defconfig
make -C "$k" -s kvm_guest.config
"$k"/scripts/kconfig/merge_config.sh -m -O "$k" "$k/.config" "$top/scripts/debug.config" >/dev/null
make -C "$k" -s olddefconfig
# Every line of the fragment must have survived olddefconfig.
missing=$(grep '^CONFIG_' "$top/scripts/debug.config" | while read -r line; do
	grep -qx "$line" "$k/.config" || echo "$line"
done)
[ -z "$missing" ] || { echo "debug-kernel: not in the final .config:" $missing >&2; exit 1; }
if [ "${DEBUG_KERNEL_CONFIG_ONLY:-0}" = 1 ]; then
	echo "debug-kernel: configured $k/.config (DEBUG_KERNEL_CONFIG_ONLY=1: not building)"
	exit 0
fi

echo "debug-kernel: building bzImage and modules_prepare with $jobs jobs"
make -C "$k" -j"$jobs" bzImage modules_prepare
# Module.symvers of the built-in symbols, for external modules.
make -C "$k" -j"$jobs" modules >/dev/null

mkdir -p "$out"
cp "$k/arch/x86/boot/bzImage" "$out/bzImage"
cp "$k/.config" "$out/config"

# The external-module build tree: what linux-headers packages carry
# (Makefiles, Kconfig, headers, scripts, the configuration, Module.symvers
# and objtool), under tree/.
echo "debug-kernel: packing the module build tree"
list=$work/tree.list
(cd "$k" && {
	find . -name 'Makefile*' -o -name 'Kbuild*' -o -name 'Kconfig*' -o -name '*.lds'
	find include arch/x86/include -type f
	find scripts -type f
	find tools/objtool -maxdepth 1 -type f -name objtool
	find arch/x86 -maxdepth 1 -type f
	echo .config
	echo Module.symvers
} | sed 's,^\./,,; s,^,./,' | sort -u) >"$list"
tar -C "$k" --transform 's,^\./,tree/,' -cJf "$out/build-tree.tar.xz" -T "$list"
echo "debug-kernel: done: $out (use: make check DEBUG_KERNEL_DIR=$out)"
