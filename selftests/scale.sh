#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Many connections at once: 80 read-only imports of one export with 4
# connections each (320 importer connections, 320 exporter sessions) all
# come up and read the right bytes, and a read-write import after them
# works. The old engine ran each connection's receive loop as a blocking
# work item and stopped at 256 of them on a host.
#
#  +-----------------------------+   veth   +-------------------------------+
#  | netns ex-PID                |          | netns im-PID                  |
#  |  /dev/ram0 -> export "s0"   +----------+  /dev/dstor0..79  (ro, 4 each) |
#  |  192.0.2.1:7420             |          |  /dev/dstor80      (rw)       |
#  +-----------------------------+          +-------------------------------+
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd fio jq sha256sum

N=80
CONNS=4
debug_kernel && N=40

ktap_header
ktap_plan 11

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
at_exit 'dstor_down "$NS_IM" "$NS_EX"'

# Known content, so every import can show it reads the export's bytes.
head -c $((1 << 20)) /dev/urandom | dd of=/dev/ram0 bs=1M oflag=direct status=none
sum=$(dd if=/dev/ram0 bs=1M count=1 iflag=direct status=none | sha256sum)
ktap_check "export s0" in_ex dstor export add s0 --device /dev/ram0 --listen "$EX_IP4:7420"

devs=()
up() {
	local i d
	for i in $(seq 1 $N); do
		d=$(in_im dstor import add s0 --peer "$EX_IP4:7420" --read-only \
			--connections $CONNS) || { echo "import $i failed"; return 1; }
		devs+=("$d")
	done
}
t0=${EPOCHREALTIME/[.,]/}
ktap_check "$N read-only imports with $CONNS connections each" up
t1=${EPOCHREALTIME/[.,]/}
ktap_note "$((N * CONNS)) connections up in $(((t1 - t0) / 1000)) ms ($(((t1 - t0) / 1000 / N)) ms per import)"

ktap_check "the exporter has $((N * CONNS)) sessions" \
	test "$(in_ex dstor show --json | jq '.exports[0].sessions')" = $((N * CONNS))
ktap_check "every import is connected, $CONNS of $CONNS" \
	test "$(in_im dstor show --json | jq "[.imports[] | select(.state == \"connected\" and .connected == $CONNS)] | length")" = $N

# Every import reads the export's bytes; four at once, on all connections.
reads() {
	local d bad=0
	for d in "${devs[@]}"; do
		[ "$(dd if="$d" bs=256k count=4 iflag=direct status=none | sha256sum)" = "$sum" ] ||
			{ echo "$d reads other bytes"; bad=1; }
	done
	return $bad
}
ktap_check "every import reads the export's first MiB" reads
# All at once: a reader per import (fio over 80 devices spends 40 s
# opening them here, for well under a second of I/O).
par_reads() {
	local i bad=0
	for i in "${!devs[@]}"; do
		dd if="${devs[$i]}" bs=64k count=16 iflag=direct status=none |
			sha256sum >"/tmp/scale-sum.$i" &
	done
	wait
	for i in "${!devs[@]}"; do
		[ "$(cat "/tmp/scale-sum.$i")" = "$sum" ] ||
			{ echo "${devs[$i]} read other bytes"; bad=1; }
	done
	rm -f /tmp/scale-sum.*
	return $bad
}
ktap_check "all $N imports read the export's first MiB at once" par_reads

# A read-write import after them all: nothing is short of anything.
rw=$(in_im dstor import add s0 --peer "$EX_IP4:7420" --connections $CONNS)
ktap_check "a read-write import after them" test -b "$rw"
ktap_check "it writes and verifies" \
	fio --name=v --filename="$rw" --offset=8M --size=8M --bs=16k --rw=randwrite --direct=1 \
	--ioengine=libaio --iodepth=16 --verify=crc32c --do_verify=1 --verify_fatal=1

dels() {
	local d
	for d in "${devs[@]}" "$rw"; do
		in_im dstor import del "$d" || return 1
	done
}
ktap_check "all imports deleted" dels
ktap_check "the exporter's sessions are gone" \
	wait_for 20 eval '[ "$(in_ex dstor show --json | jq ".exports[0].sessions")" = 0 ]'

ktap_finish
