#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: every test dstor has, in the order that fails fastest.
#
#   1. dependencies (apt, idempotent)
#   2. host: the tool's and the wire format's unit tests under ASan/UBSan,
#      and libFuzzer over the wire-format decoders (FUZZ_SECONDS, 42)
#   3. kernel style (checkpatch --strict) and sparse on both kernels (any
#      sparse or compiler warning fails)
#   4. the module for Debian 12's 6.1 and for 6.12 with W=1, no warnings
#   5. DKMS: dkms add + dkms build for both kernels
#   6. the VM selftests on 6.1 and on 6.12 (on 6.12, make demo's kernel,
#      demo.sh first), and the two-machine crash test (selftests/vm/pair.sh:
#      the exporter's QEMU killed during writes)
#   7. the VM selftests on the debug kernel (KASAN, lockdep, kmemleak,
#      KFENCE, UBSAN) from ../shared/debug-kernel: skipped only when that
#      directory does not exist; one that exists but cannot be used (no
#      readable bzImage or build-tree.tar.xz, a module that does not build
#      against it) fails
#
# Environment: CHECK_SKIP_DEPS=1 skips step 1; VM_TESTS="a.sh b.sh" runs
# only those selftests (and not the demo); DEBUG_KERNEL_DIR is the debug
# kernel's directory.
set -uo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
failed=()
step() { printf '\n==== %s (%ds)\n' "$*" $(($(date +%s) - start)); }
# run NAME CMD...: CMD's verdict under NAME; a failure goes into the
# summary. Returns CMD's status.
run() {
	local name=$1
	shift
	if "$@"; then
		echo "---- $name: ok"
	else
		echo "---- $name: FAILED"
		failed+=("$name")
		return 1
	fi
}

if [ "${CHECK_SKIP_DEPS:-0}" != 1 ]; then
	step "dependencies"
	sh scripts/deps.sh >build-deps.log 2>&1 || { tail -n 30 build-deps.log; echo "make deps failed"; exit 1; }
	mkdir -p build && mv build-deps.log build/deps.log
fi

step "host unit tests (ASan/UBSan)"
run "host unit tests" make --no-print-directory host-test
step "fuzzing the wire-format decoders"
run "fuzz" make --no-print-directory fuzz

step "kernel style"
run "checkpatch" make --no-print-directory style
kver61=$(make -s --no-print-directory print-kver61)
kver612=$(make -s --no-print-directory print-kver612)
for kver in $kver61 $kver612; do
	run "sparse $kver" make --no-print-directory sparse KVER="$kver"
done

step "module builds"
run "module builds (6.1, 6.12)" make --no-print-directory modules
run "tool build" make --no-print-directory tool
run "test tools build" make --no-print-directory testtools
extras=()
# The VM runs' output is also kept, for the summary's list of failed cases.
mkdir -p build
vm_log=build/check-vm.log
: >"$vm_log"
vm_run() { selftests/vm/run.sh "$@" | tee -a "$vm_log"; }
for x in dstor-hostile dstor-nlfuzz dstor-mitm dstor-mcforge dstor-mldforge dstor-mctree dstor-logreplay dstor-iovec; do
	extras+=(--extra "build/testtools/$x")
done

step "DKMS"
run "dkms build for both kernels" make --no-print-directory dkms-check

for kver in $kver61 $kver612; do
	tests=${VM_TESTS:-$(cat selftests/TESTS)}
	# make demo's walkthrough, so that it cannot break unnoticed: on its
	# kernel, in the same boot (about 30 s).
	[ -n "${VM_TESTS:-}" ] || [ "$kver" != "$kver612" ] || tests="demo.sh $tests"
	step "VM selftests on $kver"
	# shellcheck disable=SC2086 # one word per test
	run "VM selftests $kver" vm_run --kernel "/boot/vmlinuz-$kver" \
		--modules "$kver" --ko "build/kmod/$kver/dstor.ko" --tool build/tool/dstor "${extras[@]}" $tests
	if [ -z "${VM_TESTS:-}" ]; then
		step "two-machine crash test on $kver"
		run "crash test $kver" selftests/vm/pair.sh --kernel "/boot/vmlinuz-$kver" \
			--modules "$kver" --ko "build/kmod/$kver/dstor.ko" --tool build/tool/dstor
	fi
done

step "VM selftests on the debug kernel"
debug_dir=${DEBUG_KERNEL_DIR:-../shared/debug-kernel}
# shellcheck source=selftests/vm/kver.sh
source selftests/vm/kver.sh
# usable_debug_kernel DIR: a directory with a readable kernel image and
# module build tree; says what is wrong otherwise.
# (A corrupt build-tree.tar.xz fails the module build: tar reads it all.)
usable_debug_kernel() {
	local f bad=
	[ -d "$1" ] || { echo "$1: not a directory"; return 1; }
	for f in bzImage build-tree.tar.xz; do
		if [ ! -f "$1/$f" ] || [ ! -r "$1/$f" ]; then
			echo "$1/$f: missing or unreadable"
			bad=1
		fi
	done
	[ -n "$bad" ] || kernel_release "$1/bzImage" >/dev/null ||
		{ echo "$1/bzImage: not a kernel image"; bad=1; }
	[ -z "$bad" ]
}
if [ ! -e "$debug_dir" ] && [ ! -L "$debug_dir" ]; then
	echo "SKIP: no debug kernel at $debug_dir (build one with: make debug-kernel)"
elif run "debug kernel at $debug_dir" usable_debug_kernel "$debug_dir" &&
	run "debug module build" make --no-print-directory debug-module \
		DEBUG_KERNEL_DIR="$(cd "$debug_dir" && pwd)"; then
	# shellcheck disable=SC2086 # one word per test
	run "VM selftests debug kernel" vm_run --debug \
		--kernel "$debug_dir/bzImage" --modules none \
		--ko build/kmod/debug/dstor.ko --tool build/tool/dstor "${extras[@]}" \
		${VM_TESTS_DEBUG:-$(cat selftests/TESTS.debug)}
fi

step "summary"
if [ ${#failed[@]} -eq 0 ]; then
	echo "make check: all passed in $(($(date +%s) - start)) s"
	exit 0
fi
grep '\] failed: ' "$vm_log" | head -n 20
echo "make check: FAILED: ${failed[*]}"
exit 1
