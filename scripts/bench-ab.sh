#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# `make bench-ab B=path/to/dstor.ko [A=path/to/dstor.ko]`: two builds of the
# module for the same kernel compared in one VM run, rounds interleaved
# (selftests/bench-ab.sh). A defaults to this tree's module for BENCH_KVER
# (default: the newest installed kernel). BENCH_RUNTIME (4 s a job),
# BENCH_AB_ROUNDS (3), BENCH_AB_JOBS (comma-separated RW:BS:QD),
# BENCH_AB_PLAIN=1 (plaintext imports too), BENCH_AB_PROFILE=RW:BS:QD (a
# perf profile of that job) and BENCH_AB_TRACE=RW:BS:QD (what each vCPU ran
# during it), both when perf is installed, go to the guest.
set -eu
cd "$(dirname "$0")/.."

kver=${BENCH_KVER:-$(make -s --no-print-directory print-kver612)}
b=${B:-}
[ -n "$b" ] && [ -f "$b" ] || { echo "bench-ab: B=path/to/dstor.ko (a build for $kver) is needed" >&2; exit 2; }
a=${A:-}
if [ -z "$a" ]; then
	make --no-print-directory module KVER="$kver" >/dev/null
	a=build/kmod/$kver/dstor.ko
fi
make --no-print-directory tool >/dev/null
# The guest gets B as /usr/bin/dstor-b.ko.
dir=build/bench-ab
mkdir -p "$dir"
cp "$b" "$dir/dstor-b.ko"
append=''
for v in BENCH_RUNTIME BENCH_AB_ROUNDS BENCH_AB_JOBS BENCH_AB_PLAIN BENCH_AB_PROFILE BENCH_AB_TRACE; do
	eval "x=\${$v:-}"
	[ -n "$x" ] && append="$append $v=$x"
done
perf=$(command -v perf || true)
exec selftests/vm/run.sh --bench ${append:+--append "$append"} --kernel "/boot/vmlinuz-$kver" \
	--modules "$kver" --ko "$a" --tool build/tool/dstor --mem 2048 \
	--extra "$dir/dstor-b.ko" ${perf:+--extra "$perf"} bench-ab.sh
