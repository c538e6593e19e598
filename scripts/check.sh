#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: every test dstor has.
#
#   1. dependencies (apt, idempotent)
#   2. the module for Debian 12's 6.1 and for 6.12 with W=1 (no warnings),
#      the tool and the test tools: what the VMs need
#   3. two VM pipelines start in the background, side by side:
#        6.1     the VM selftests, then the two-machine crash test
#                (selftests/vm/pair.sh: the exporter's QEMU killed during
#                writes), then the first half of the debug kernel's list
#        6.12    make demo's walkthrough (demo.sh), the VM selftests, the
#                crash test, then the second half of the debug kernel's list
#      The debug kernel's tests (selftests/TESTS.debug; KASAN, lockdep,
#      kmemleak, KFENCE, UBSAN; from ../shared/debug-kernel) are skipped
#      only when that directory does not exist; one that exists but cannot
#      be used (no readable bzImage or build-tree.tar.xz, a module that
#      does not build against it) fails
#   4. meanwhile in the foreground: the debug kernel's module (the lanes
#      wait for it before their debug part), the tool's and the wire format's unit
#      tests under ASan/UBSan, libFuzzer over the wire-format decoders
#      (FUZZ_SECONDS, 42 in all), kernel style (checkpatch --strict),
#      sparse on both kernels (any warning fails), DKMS (dkms add + dkms
#      build for both kernels), `dstor index` against Debian's casync
#      (extract, seed, re-index, corrupt chunk, bad input) and the Debian
#      packages (make deb: debhelper, dh-dkms; lintian must find no error),
#      then two real Debian 12 systemd guests installed from those packages
#      (selftests/vm/syspair.sh: configuration files, fstab, reload and
#      reboots; the image is built with mmdebstrap, about 4 min, and kept in
#      build/sysimage/ keyed by its packages)
#   5. the summary, once both pipelines have ended
#
# Two pipelines because a TCG guest spends much of its time waiting
# (timeouts, link cuts, MLD intervals): one alone keeps about one of the
# two host CPUs busy. Not four lanes at once (each Debian kernel and each
# half of the debug list in its own guest, as until 2026-12-05): the suite
# is bound by its CPU work either way, and the debug kernel, whose every
# step costs many times more under TCG, fared worst in the crowd: its
# basic.sh, 130 s alone, did not finish in 1350 s beside three guests and
# the host's builds. The tests must (and do) hold under load, as on a busy
# CI machine. Each lane's output is prefixed with its kernel and kept in
# build/check-vm-LANE.log (LANE: 6.1, 6.12, debug-1, debug-2).
#
# Environment: CHECK_SKIP_DEPS=1 skips step 1; VM_TESTS="a.sh b.sh" runs
# only those selftests (and not the demo or the crash test);
# DEBUG_KERNEL_DIR is the debug kernel's directory; CHECK_SERIAL=1 runs
# the lanes one after the other.
set -uo pipefail
cd "$(dirname "$0")/.." || exit

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

mkdir -p build
step "module builds"
run "module builds (6.1, 6.12)" make --no-print-directory modules
run "tool build" make --no-print-directory tool
run "test tools build" make --no-print-directory testtools
kver61=$(make -s --no-print-directory print-kver61)
kver612=$(make -s --no-print-directory print-kver612)
extras=()
for x in dstor-hostile dstor-nlfuzz dstor-mitm dstor-mcforge dstor-mldforge dstor-mctree dstor-logreplay dstor-iovec dstor-stale; do
	extras+=(--extra "build/testtools/$x")
done

# vm_run LANE RUN.SH-ARGS...: the VM selftests, their output also kept in
# build/check-vm-LANE.log for the summary's list of failed cases.
vm_run() {
	local lane=$1
	shift
	selftests/vm/run.sh "$@" | tee -a "build/check-vm-$lane.log"
}

# lane_kernel KVER: the VM selftests on a Debian kernel, then the crash
# test (make demo's walkthrough first on its kernel, 6.12: about 30 s).
lane_kernel() {
	local kver=$1 tests=${VM_TESTS:-$(cat selftests/TESTS)}
	[ -n "${VM_TESTS:-}" ] || [ "$kver" != "$kver612" ] || tests="demo.sh $tests"
	step "VM selftests on $kver"
	# shellcheck disable=SC2086 # one word per test
	run "VM selftests $kver" vm_run "$kver" --kernel "/boot/vmlinuz-$kver" \
		--modules "$kver" --ko "build/kmod/$kver/dstor.ko" --tool build/tool/dstor "${extras[@]}" $tests
	[ -z "${VM_TESTS:-}" ] || return 0
	step "two-machine crash test on $kver"
	run "crash test $kver" vm_pair "$kver" --kernel "/boot/vmlinuz-$kver" \
		--modules "$kver" --ko "build/kmod/$kver/dstor.ko" --tool build/tool/dstor
}
# vm_pair LANE PAIR.SH-ARGS...: the crash test, its output kept in
# build/check-vm-LANE.log too (its "failure:" lines go into the summary).
vm_pair() {
	local lane=$1
	shift
	selftests/vm/pair.sh "$@" | tee -a "build/check-vm-$lane.log"
}

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
	[ -z "$bad" ] || return 1
	kernel_release "$1/bzImage" >/dev/null || { echo "$1/bzImage: not a kernel image"; return 1; }
}
# debug_ready: the debug kernel's directory is usable (0), or it is absent
# (1, said as SKIP), or neither (2, a failure in the summary).
debug_dir=${DEBUG_KERNEL_DIR:-../shared/debug-kernel}
debug_ready() {
	if [ ! -e "$debug_dir" ] && [ ! -L "$debug_dir" ]; then
		echo "SKIP: no debug kernel at $debug_dir (build one with: make debug-kernel)"
		return 1
	fi
	run "debug kernel at $debug_dir" usable_debug_kernel "$debug_dir" || return 2
}
# debug_module: the module for the debug kernel; its status (0: built) in
# build/check-debug-module.status, which the lanes wait for before their
# debug part. Built while the lanes run their Debian kernels' tests, off
# the critical path (before them with CHECK_SERIAL=1).
debug_module() {
	local rc=0
	run "debug module build" make --no-print-directory debug-module \
		DEBUG_KERNEL_DIR="$(cd "$debug_dir" && pwd)" >build/check-debug-module.log 2>&1 ||
		{ tail -n 30 build/check-debug-module.log; rc=1; }
	echo $rc >build/check-debug-module.status
}
# lane_debug PART TEST...: those of the debug tier's tests, in one VM.
lane_debug() {
	local part=$1
	shift
	step "VM selftests on the debug kernel, part $part: $*"
	run "VM selftests debug kernel, part $part" vm_run "debug-$part" --debug \
		--kernel "$debug_dir/bzImage" --modules none \
		--ko build/kmod/debug/dstor.ko --tool build/tool/dstor "${extras[@]}" "$@"
}

# lane NAME FUNCTION ARGS...: FUNCTION in the background (in the
# foreground with CHECK_SERIAL=1); the names it failed go to
# build/check-failed-NAME, read by the summary.
lane_names=()
lane() {
	local name=$1
	shift
	lane_names+=("$name")
	if [ "${CHECK_SERIAL:-0}" = 1 ]; then
		local before=${#failed[@]}
		"$@"
		printf '%s\n' "${failed[@]:before}" >"build/check-failed-$name"
		failed=("${failed[@]:0:before}")
	else
		( failed=(); "$@"; printf '%s\n' "${failed[@]}" >"build/check-failed-$name" ) &
	fi
}
# then DEBUG_PART TEST...: after a Debian kernel's lane, in the same
# pipeline, that part of the debug kernel's tests (when there is a debug
# kernel and a part).
then_debug() {
	local kver=$1 part=$2
	shift 2
	lane_kernel "$kver"
	[ $# -eq 0 ] && return
	while [ ! -f build/check-debug-module.status ]; do
		sleep 5
	done
	# A failed build is the foreground's failure, in the summary.
	[ "$(cat build/check-debug-module.status)" = 0 ] || return
	lane_debug "$part" "$@"
}
rm -f build/check-vm-*.log build/check-failed-* build/check-syspair.log build/check-debug-module.status
if [ ${#failed[@]} -eq 0 ]; then
	# Two pipelines side by side: a Debian kernel's lane, then half of the
	# debug kernel's tests. The debug kernel (KASAN, lockdep, kmemleak) is
	# many times slower under TCG and suffers most from a crowded host:
	# with four guests side by side (the two Debian kernels' and two debug
	# ones) its basic.sh ran out of 1350 s where alone it takes about 130.
	# So at most two guests run at once (and the host's own checks in the
	# foreground while the Debian lanes run).
	step "the debug kernel"
	dtests=()
	debug_ready
	case $? in
	0)
		# shellcheck disable=SC2207 # one word per test
		dtests=($(echo "${VM_TESTS_DEBUG:-$(cat selftests/TESTS.debug)}")) ;;
	esac
	half=$(((${#dtests[@]} + 1) / 2))
	[ ${#dtests[@]} -eq 0 ] || [ "${CHECK_SERIAL:-0}" != 1 ] || debug_module
	lane 6.1 then_debug "$kver61" 1 "${dtests[@]:0:half}"
	lane 6.12 then_debug "$kver612" 2 "${dtests[@]:half}"
	if [ ${#dtests[@]} -gt 0 ] && [ "${CHECK_SERIAL:-0}" != 1 ]; then
		step "the debug kernel's module (the lanes go on)"
		debug_module
	fi
else
	echo "a build failed: no VM tests"
fi

step "host unit tests (ASan/UBSan)"
run "host unit tests" make --no-print-directory host-test
step "fuzzing the wire-format decoders"
run "fuzz" make --no-print-directory fuzz

step "kernel style"
run "checkpatch" make --no-print-directory style
for kver in $kver61 $kver612; do
	run "sparse $kver" make --no-print-directory sparse KVER="$kver"
done

step "DKMS"
run "dkms build for both kernels" make --no-print-directory dkms-check
step "casync interop (dstor index)"
run "index test" make --no-print-directory index-test
step "Debian packages"
if run "make deb (lintian: no errors)" make --no-print-directory deb &&
	[ -z "${VM_TESTS:-}" ]; then
	step "two Debian 12 systemd guests across reboots (syspair.sh)"
	run "systemd pair (syspair.sh)" bash -c \
		'selftests/vm/syspair.sh 2>&1 | tee build/check-syspair.log; exit "${PIPESTATUS[0]}"'
fi

step "waiting for the VM lanes"
wait

for name in "${lane_names[@]}"; do
	if [ -f "build/check-failed-$name" ]; then
		while read -r f; do
			[ -z "$f" ] || failed+=("$f")
		done <"build/check-failed-$name"
	else
		failed+=("VM lane $name (ended without a verdict)")
	fi
done

step "summary"
if [ ${#failed[@]} -eq 0 ]; then
	echo "make check: all passed in $(($(date +%s) - start)) s"
	exit 0
fi
cat build/check-vm-*.log 2>/dev/null | grep -E '\] failed: |^\[[^]]* pair\] failure: ' | head -n 20
grep -a '^syspair.sh: not ok' build/check-syspair.log 2>/dev/null | head -n 10
echo "make check: FAILED: ${failed[*]}"
exit 1
