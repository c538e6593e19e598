#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: fio against a local ramdisk, dstor, nbd and NVMe/TCP in one
# VM run (selftests/bench.sh); prints the table and dstor's ratios. Then, in
# the same VM, multicast against sequential unicast copies for 1, 4 and 8
# receivers (selftests/bench-mcast.sh), and DRBD 8.4's online verify plus
# resync against dstor sync --peer bringing replicas with 0.1%, 1% and 10%
# stale blocks up to date (selftests/bench-drbd.sh: the in-tree drbd.ko,
# drbdsetup-84 and drbdmeta from drbd-utils). Then, in a guest with more
# memory, 10,000 connections (selftests/bench-conns.sh: BENCH_CONN_IMPORTS imports,
# default 625, of BENCH_CONN_QUEUES connections, default 16).
# BENCH_KVER picks the kernel (default: the newest installed), BENCH_RUNTIME
# the seconds per fio job (default 8), BENCH_MC_MB the multicast export's
# size in MiB (default 128), BENCH_MC_RATE its --rate (default 400M).
# The guests boot without slub_debug and KFENCE (run.sh --bench): the
# selftests keep them, and they would be measured along.
set -eu
cd "$(dirname "$0")/.."

kver=${BENCH_KVER:-$(make -s --no-print-directory print-kver612)}
make --no-print-directory module KVER="$kver" >/dev/null
make --no-print-directory tool >/dev/null
make --no-print-directory testtools >/dev/null
# The kernel hands unknown NAME=VALUE parameters to /init as environment.
append=''
for v in BENCH_RUNTIME BENCH_MC_MB BENCH_MC_RATE BENCH_CONN_IMPORTS BENCH_CONN_QUEUES; do
	eval "x=\${$v:-}"
	[ -n "$x" ] && append="$append $v=$x"
done
# plain_ko REL: the kernel's module REL (under /lib/modules/KVER/kernel),
# uncompressed: 6.12 ships them xz-compressed, and the guest's insmod takes
# them plain. Prints nothing when the kernel has no such module.
plain_ko() {
	f=/lib/modules/$kver/kernel/$1
	if [ -f "$f" ]; then
		echo "$f"
	elif [ -f "$f.xz" ]; then
		mkdir -p "build/bench/$kver"
		xz -dc "$f.xz" >"build/bench/$kver/$(basename "$f")"
		echo "build/bench/$kver/$(basename "$f")"
	fi
}
# tcrypt.ko, for the kernel AEAD's own speed (bench.sh).
tcrypt=$(plain_ko crypto/tcrypt.ko)
# DRBD 8.4 for bench-drbd.sh: drbd.ko and what it needs beyond the guest's
# own modules, drbd-utils' 8.4 tools (drbdadm 9 would only hand over to
# drbdadm-84, which wants a configuration file per host), and dstor-stale.
drbd=''
for m in lib/lru_cache.ko lib/libcrc32c.ko drivers/block/drbd/drbd.ko; do
	x=$(plain_ko $m)
	[ -n "$x" ] || { echo "bench: $kver has no $m: bench-drbd.sh will fail" >&2; continue; }
	drbd="$drbd --extra $x"
done
for x in /lib/drbd/drbdsetup-84 /sbin/drbdmeta; do
	if [ -x "$x" ]; then
		drbd="$drbd --extra $x"
	else
		echo "bench: no $x (drbd-utils; make deps installs it): bench-drbd.sh will skip" >&2
	fi
done
rc=0
# shellcheck disable=SC2086 # $drbd: one word per argument
selftests/vm/run.sh --bench ${append:+--append "$append"} --kernel "/boot/vmlinuz-$kver" --modules "$kver" \
	--ko "build/kmod/$kver/dstor.ko" --tool build/tool/dstor \
	--mem 3584 --extra "$(command -v openssl)" ${tcrypt:+--extra "$tcrypt"} \
	--extra build/testtools/dstor-stale $drbd \
	bench.sh bench-mcast.sh bench-drbd.sh || rc=1
selftests/vm/run.sh --bench ${append:+--append "$append"} --kernel "/boot/vmlinuz-$kver" --modules "$kver" \
	--ko "build/kmod/$kver/dstor.ko" --tool build/tool/dstor \
	--mem 6144 bench-conns.sh || rc=1
exit $rc
