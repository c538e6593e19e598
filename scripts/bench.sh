#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: fio against a local ramdisk, dstor, nbd and NVMe/TCP in one
# VM run (selftests/bench.sh); prints the table and dstor's ratios.
# BENCH_KVER picks the kernel (default: the newest installed), BENCH_RUNTIME
# the seconds per job (default 8).
set -eu
cd "$(dirname "$0")/.."

kver=${BENCH_KVER:-$(make -s --no-print-directory print-kver612)}
make --no-print-directory module KVER="$kver" >/dev/null
make --no-print-directory tool >/dev/null
exec selftests/vm/run.sh --kernel "/boot/vmlinuz-$kver" --modules "$kver" \
	--ko "build/kmod/$kver/dstor.ko" --tool build/tool/dstor \
	--extra "$(command -v openssl)" bench.sh
