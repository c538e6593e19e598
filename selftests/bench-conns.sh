#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`, part 3: ten thousand connections. N imports (default 625)
# of one export, C connections each (default 16): N x C importer
# connections and as many exporter sessions in one guest. Measures the time
# to bring them up, the kernel memory they take (per connection and per
# import), and 4k random read IOPS through the last import against one
# import alone, in the same run. A benchmark, not a test: cases fail only
# when something cannot be set up or fio fails.
#
#  +-----------------------------+   veth   +------------------------------------+
#  | netns ex-PID                |          | netns im-PID                       |
#  |  /dev/ram0 -> export "c0"   +----------+  /dev/dstor0 .. N-1, C connections  |
#  |  192.0.2.1:7420             |          |  each                              |
#  +-----------------------------+          +------------------------------------+
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd fio jq

N=${BENCH_CONN_IMPORTS:-625}
C=${BENCH_CONN_QUEUES:-16}
RUNTIME=${BENCH_RUNTIME:-8}

ktap_header
ktap_plan 7

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
at_exit 'dstor_down "$NS_IM" "$NS_EX"'

ktap_check "export c0, up to $((N * C)) sessions" \
	in_ex dstor export add c0 --device /dev/ram0 --listen "$EX_IP4:7420" \
	--max-sessions $((N * C + C))

# 4k random reads at queue depth 16 for RUNTIME seconds: IOPS.
iops() {
	fio --name=r --filename="$1" --rw=randread --bs=4k --size=32M --direct=1 \
		--ioengine=libaio --iodepth=16 --runtime="$RUNTIME" --time_based \
		--output-format=json 2>/dev/null | jq '.jobs[0].read.iops | floor'
}
# Kernel memory in kB: what is not free, less the page cache.
used_kb() {
	awk '/^MemFree:/ { f = $2 } /^Cached:/ { c = $2 } /^Buffers:/ { b = $2 }
	     /^MemTotal:/ { t = $2 } END { print t - f - c - b }' /proc/meminfo
}
slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }

devs=()
d=$(in_im dstor import add c0 --peer "$EX_IP4:7420" --connections "$C")
devs+=("$d")
alone=$(iops "$d")
ktap_check "one import alone: $alone IOPS" test "${alone:-0}" -gt 0

sync
echo 3 >/proc/sys/vm/drop_caches
m0=$(used_kb)
s0=$(slab_kb)
t0=${EPOCHREALTIME/[.,]/}
up() {
	local i
	for i in $(seq 2 "$N"); do
		d=$(in_im dstor import add c0 --peer "$EX_IP4:7420" --connections "$C") ||
			{ echo "import $i failed"; return 1; }
		devs+=("$d")
	done
}
ktap_check "$N imports x $C connections up" up
t1=${EPOCHREALTIME/[.,]/}
sync
echo 3 >/proc/sys/vm/drop_caches
m1=$(used_kb)
s1=$(slab_kb)
n=$(((N - 1) * C))
ktap_check "the exporter has $((N * C)) sessions" \
	test "$(in_ex dstor show --json | jq '.exports[0].sessions')" = $((N * C))
last=$(iops "${devs[-1]}")
ktap_check "through the last import: $last IOPS" test "${last:-0}" -gt 0

secs=$(((t1 - t0) / 1000000))
ktap_note "connections: $((N * C)) importer, $((N * C)) exporter sessions, one guest"
ktap_note "up in $secs s: $(((t1 - t0) / 1000 / (N - 1))) ms per import, $(((t1 - t0) / n)) us per connection"
ktap_note "kernel memory for $((N - 1)) imports: $(((m1 - m0) / 1024)) MiB, slab $(((s1 - s0) / 1024)) MiB"
ktap_note "per import (both ends, ${C} connections, blk-mq tags included): $(((m1 - m0) / (N - 1))) kB"
ktap_note "per connection (one importer connection and its exporter session): $(((m1 - m0) * 1024 / n / 1024)) kB, of it slab $(((s1 - s0) * 1024 / n)) B"
ktap_note "4k random read QD16: one import alone $alone IOPS, the last of $N $last IOPS ($(awk -v a="$last" -v b="$alone" 'BEGIN { printf "%.2fx", b ? a / b : 0 }'))"

dels() {
	local x
	for x in "${devs[@]}"; do
		in_im dstor import del "$x" || return 1
	done
}
t0=${EPOCHREALTIME/[.,]/}
ktap_check "all $N imports deleted" dels
t1=${EPOCHREALTIME/[.,]/}
ktap_note "deleted in $(((t1 - t0) / 1000000)) s"

ktap_finish
