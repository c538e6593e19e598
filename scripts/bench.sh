#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: fio against a local ramdisk, dstor, nbd and NVMe/TCP in one
# VM run (selftests/bench.sh); prints the table and dstor's ratios. Then, in
# the same VM, multicast against sequential unicast copies for 1, 4 and 8
# receivers (selftests/bench-mcast.sh). Then, in a guest with more memory,
# 10,000 connections (selftests/bench-conns.sh: BENCH_CONN_IMPORTS imports,
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
# The kernel hands unknown NAME=VALUE parameters to /init as environment.
append=''
for v in BENCH_RUNTIME BENCH_MC_MB BENCH_MC_RATE BENCH_CONN_IMPORTS BENCH_CONN_QUEUES; do
	eval "x=\${$v:-}"
	[ -n "$x" ] && append="$append $v=$x"
done
# tcrypt.ko, for the kernel AEAD's own speed (bench.sh); 6.12 ships it
# compressed, and the guest's insmod takes it plain.
tcrypt=/lib/modules/$kver/kernel/crypto/tcrypt.ko
if [ ! -f "$tcrypt" ] && [ -f "$tcrypt.xz" ]; then
	mkdir -p build/bench
	xz -dc "$tcrypt.xz" >build/bench/tcrypt.ko
	tcrypt=build/bench/tcrypt.ko
fi
[ -f "$tcrypt" ] || tcrypt=''
rc=0
selftests/vm/run.sh --bench ${append:+--append "$append"} --kernel "/boot/vmlinuz-$kver" --modules "$kver" \
	--ko "build/kmod/$kver/dstor.ko" --tool build/tool/dstor \
	--mem 3584 --extra "$(command -v openssl)" ${tcrypt:+--extra "$tcrypt"} \
	bench.sh bench-mcast.sh || rc=1
selftests/vm/run.sh --bench ${append:+--append "$append"} --kernel "/boot/vmlinuz-$kver" --modules "$kver" \
	--ko "build/kmod/$kver/dstor.ko" --tool build/tool/dstor \
	--mem 6144 bench-conns.sh || rc=1
exit $rc
