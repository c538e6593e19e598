#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job: export a ramdisk from one network namespace, import it in
# another over IPv4 and over IPv6, and use it: fio with verification, ext4
# with fsck and checksums, read-only access, and `dstor show`.
#
#  +--------------------------------+          +--------------------------------+
#  | netns ex-PID (exporter)        |   veth   | netns im-PID (importer)        |
#  |  /dev/ram0 -> export "d0"      |          |  /dev/dstorA <- d0 (IPv4)      |
#  |  /dev/ram1 -> export "d1" (ro) |          |  /dev/dstorB <- d1 (IPv6, ro)  |
#  |  listen 192.0.2.1:7420         +----------+  192.0.2.2                     |
#  |  listen [2001:db8::1]:7420     |          |  2001:db8::2                   |
#  +--------------------------------+          +--------------------------------+
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd fio mkfs.ext4 e2fsck jq sha256sum dstor-iovec

ktap_header
ktap_plan 38

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
at_exit 'dstor_down "$NS_IM" "$NS_EX"'

# Known content on the read-only export's device before it is exported.
head -c $((8 << 20)) /dev/urandom | dd of=/dev/ram1 bs=1M oflag=direct status=none
ro_sum=$(dd if=/dev/ram1 bs=1M count=8 iflag=direct status=none | sha256sum)

ktap_check "export add d0 (IPv4)" \
	in_ex dstor export add d0 --device /dev/ram0 --listen "$EX_IP4:7420"
ktap_check "export add d1 (IPv6, read-only)" \
	in_ex dstor export add d1 --device /dev/ram1 --listen "[$EX_IP6]:7420" --read-only

dev4=$(in_im dstor import add d0 --peer "$EX_IP4:7420" --connections 2)
ktap_check "import add d0 over IPv4 prints a device" test -b "$dev4"
dev6=$(in_im dstor import add d1 --peer "[$EX_IP6]" --read-only)
ktap_check "import add d1 over IPv6 (default port) prints a device" test -b "$dev6"

size=$(blockdev --getsize64 /dev/ram0)
ktap_check "import has the export's size" test "$(blockdev --getsize64 "$dev4")" = "$size"

show=$(show_json)
ktap_check "show: export d0 has one importer with 2 connections" \
	test "$(jq '.exports[] | select(.name == "d0") | .sessions' <<<"$show")" = 2
ktap_check "show: import d0 is connected over IPv4" \
	test "$(jq -r ".imports[] | select(.device == \"$dev4\") | .state + \" \" + .peer" <<<"$show")" = \
	"connected $EX_IP4:7420"
ktap_check "show: import d1 is read-only over IPv6" \
	test "$(jq -r ".imports[] | select(.device == \"$dev6\") | \"\(.read_only) \(.peer)\"" <<<"$show")" = \
	"true [$EX_IP6]:7420"

# fio: random writes with crc32c checksums, then every block read back and
# verified, at queue depth 16 so many requests are in flight.
# The debug kernel (KASAN, lockdep, kmemleak) runs 4k I/O about 17 times
# slower under TCG (8 MiB took 267 s of make check): the same I/O paths
# there, less data.
RAND_MB=24 SEQ_MB=16 FILES=8
debug_kernel && RAND_MB=2 SEQ_MB=4 FILES=3
fio_verify() {
	fio --name=verify --filename="$dev4" --size=${RAND_MB}M --bs=4k --rw=randwrite \
		--direct=1 --ioengine=libaio --iodepth=16 --verify=crc32c \
		--do_verify=1 --verify_fatal=1 --output-format=json >/tmp/basic-fio.json &&
	jq -e '[.jobs[].error] | all(. == 0)' /tmp/basic-fio.json >/dev/null
}
ktap_check "fio randwrite QD16 + crc32c verify" fio_verify

# Mixed sizes, sequential, larger than one request.
fio_seq() {
	fio --name=seq --filename="$dev4" --offset=24M --size=${SEQ_MB}M --bsrange=4k-512k \
		--rw=write --direct=1 --ioengine=libaio --iodepth=4 --verify=md5 \
		--do_verify=1 --verify_fatal=1 >/dev/null
}
ktap_check "fio sequential 4k-512k + md5 verify" fio_seq

# What the importer reads is what the exporter's disk holds: both written
# ranges and the never-written gap between them.
same_bytes() {
	local mb=$((24 + SEQ_MB))
	a=$(dd if="$dev4" bs=1M count=$mb iflag=direct status=none | sha256sum)
	b=$(dd if=/dev/ram0 bs=1M count=$mb iflag=direct status=none | sha256sum)
	[ "$a" = "$b" ]
}
ktap_check "import and backing device hold the same bytes" same_bytes
# Requests of many scattered sub-page pieces, each way.
ktap_check "vectored I/O of scattered 512-byte pieces verifies" \
	dstor-iovec "$dev4" --rounds 16

# ext4 round trip.
mnt=$(mktemp -d)
at_exit "umount $mnt; rmdir $mnt"
ext4_write() {
	mkfs.ext4 -q -F "$dev4" &&
	mount -t ext4 "$dev4" "$mnt" &&
	mkdir "$mnt/dir" &&
	for i in $(seq "$FILES"); do
		head -c $((i * 300 * 1024)) /dev/urandom >"$mnt/dir/f$i" || return 1
	done &&
	(cd "$mnt/dir" && sha256sum f*) >/tmp/basic-sums &&
	sync &&
	umount "$mnt"
}
ktap_check "mkfs.ext4, mount, write files, umount" ext4_write
ktap_check "e2fsck -fn clean" e2fsck -fn "$dev4"
ext4_verify() {
	echo 3 >/proc/sys/vm/drop_caches
	mount -t ext4 "$dev4" "$mnt" &&
	(cd "$mnt/dir" && sha256sum -c /tmp/basic-sums) &&
	umount "$mnt"
}
ktap_check "remount, checksums match" ext4_verify
ktap_check "e2fsck -fn on the exporter's disk too" e2fsck -fn /dev/ram0

# Discard and write-zeroes reach the exporter.
zeroes() {
	head -c $((1 << 20)) /dev/urandom | dd of="$dev4" bs=1M seek=50 oflag=direct status=none &&
	blkdiscard -z -o $((50 << 20)) -l $((1 << 20)) "$dev4" &&
	[ "$(dd if=/dev/ram0 bs=1M skip=50 count=1 iflag=direct status=none | tr -d '\0' | wc -c)" -eq 0 ]
}
ktap_check "write-zeroes reaches the backing device" zeroes

# Read-only import: reads work and match, writes fail, nothing changes.
ktap_check "read-only import reads the export's content" \
	test "$(dd if="$dev6" bs=1M count=8 iflag=direct status=none | sha256sum)" = "$ro_sum"
ktap_check "read-only device is marked ro" test "$(blockdev --getro "$dev6")" = 1
ktap_check "write to the read-only import fails" \
	eval "! dd if=/dev/zero of=$dev6 bs=4k count=1 oflag=direct status=none 2>/dev/null"
ktap_check "backing device of the read-only export unchanged" \
	test "$(dd if=/dev/ram1 bs=1M count=8 iflag=direct status=none | sha256sum)" = "$ro_sum"

# Counters moved.
show=$(show_json)
ktap_check "show: import counters count reads and writes" \
	jq -e ".imports[] | select(.device == \"$dev4\") | .stats.reads > 0 and .stats.writes > 0 and .stats.errors == 0 and .stats.inflight == 0" <<<"$show"
ktap_check "show: export counters count bytes" \
	jq -e '.exports[] | select(.name == "d0") | .stats.read_bytes > 0 and .stats.write_bytes > 0' <<<"$show"
ktap_check "show: human output names both exports" \
	eval 'in_ex dstor show | grep -q d0 && in_ex dstor show | grep -q d1'

# Objects belong to the namespace that made them: a third one sees none of
# them, cannot delete them, hears none of their events, and may use the
# same names for its own.
NS_3=third-$$
at_exit "dstor_down $NS_3; ip netns del $NS_3"
ip netns add "$NS_3"
in_3() { ip netns exec "$NS_3" "$@"; }
in_3 dstor monitor --json >/tmp/basic-events3.json 2>&1 &
mon3=$!
ktap_check "namespaces: a third one sees no export and no import" \
	test "$(in_3 dstor show --json | jq -c '[.exports, .imports]')" = '[[],[]]'
ktap_check "namespaces: and cannot delete them" \
	eval "! in_3 dstor export del d0 2>/dev/null && ! in_3 dstor import del $dev4 2>/dev/null &&
	      ! in_3 dstor import del d0 2>/dev/null && in_ex dstor show --json | jq -e '.exports | length == 2' >/dev/null &&
	      test -b $dev4"
ktap_check "namespaces: it may have an export d0 of its own" \
	eval "in_3 ip link set lo up && in_3 dstor export add d0 --device /dev/ram2 --listen 127.0.0.1 &&
	      in_3 dstor export del d0"
in_im dstor import set "$dev4" --keepalive 1 --dead-after 2
ip -n "$NS_IM" link set "$IM_DEV" down
wait_for 30 eval "[ \"\$(in_im dstor show --json | jq -r '.imports[] | select(.device == \"$dev4\") | .state')\" = reconnecting ]"
ip -n "$NS_IM" link set "$IM_DEV" up
wait_for 30 eval "[ \"\$(in_im dstor show --json | jq -r '.imports[] | select(.device == \"$dev4\") | .state')\" = connected ]"
kill $mon3
ktap_check "namespaces: it heard none of their events" test ! -s /tmp/basic-events3.json

# Local names: /sys/block/dstorN/dstor/name, which udev/60-dstor.rules
# links as /dev/disk/by-dstor/NAME; only when asked for, unique on the
# machine.
n4=${dev4#/dev/}
ktap_check "local name: none unless asked for; sysfs has the export's name" \
	eval "test \"\$(cat /sys/block/$n4/dstor/name)\" = '' &&
	      test \"\$(cat /sys/block/$n4/dstor/export)\" = d0 &&
	      in_im dstor show --json | jq -e '.imports[] | select(.device == \"$dev4\") | has(\"local_name\") | not' >/dev/null"
local_names() {
	local a b
	b=$(in_im dstor import add d0 --peer "$EX_IP4:7420" --name data) &&
	test "$(cat "/sys/block/${b#/dev/}/dstor/name")" = data &&
	in_im dstor show --json | jq -e ".imports[] | select(.device == \"$b\") | .local_name == \"data\"" >/dev/null &&
	in_im dstor show | grep -q "name: data (/dev/disk/by-dstor/data)" &&
	# Taken: refused, with the reason, and nothing added.
	! in_im dstor import add d0 --peer "$EX_IP4:7420" --name data 2>/tmp/basic-dup.err &&
	grep -q "another import has that local name" /tmp/basic-dup.err &&
	test "$(in_im dstor show --json | jq '.imports | length')" = 3 &&
	# A link to the device is a device (what udev's rule makes).
	mkdir -p /dev/disk/by-dstor && ln -sf "$b" /dev/disk/by-dstor/data &&
	in_im dstor import set /dev/disk/by-dstor/data --timeout 17 &&
	test "$(in_im dstor show --json | jq ".imports[] | select(.device == \"$b\") | .timers.timeout")" = 17 &&
	rm /dev/disk/by-dstor/data &&
	# The local name names the import; deleted, it is free again.
	in_im dstor import del data && ! test -b "$b" &&
	b=$(in_im dstor import add d0 --peer "$EX_IP4:7420" --name data) &&
	in_im dstor import del "$b"
}
ktap_check "local names: --name, refused twice, by link, by name, free again" local_names
ktap_check "local names: '..', 'a/b', '', 'x-part1' are refused, nothing added" \
	eval "! in_im dstor import add d0 --peer $EX_IP4:7420 --name .. 2>/dev/null &&
	      ! in_im dstor import add d0 --peer $EX_IP4:7420 --name a/b 2>/dev/null &&
	      ! in_im dstor import add d0 --peer $EX_IP4:7420 --name '' 2>/dev/null &&
	      ! in_im dstor import add d0 --peer $EX_IP4:7420 --name x-part1 2>/dev/null &&
	      test \"\$(in_im dstor show --json | jq '.imports | length')\" = 2"

ktap_check "import del by device" in_im dstor import del "$dev4"
ktap_check "device node is gone" eval "! test -b $dev4"
ktap_check "import del by name" in_im dstor import del d1
ktap_check "export del d0 and d1" eval 'in_ex dstor export del d0 && in_ex dstor export del d1'
ktap_check "show is empty" \
	test "$(show_json | jq -c '[.exports, .imports]')" = '[[],[]]'

# A namespace that goes away takes its imports and exports with it.
ns_gone() {
	in_ex dstor export add g0 --device /dev/ram0 --listen "$EX_IP4:7420" &&
	g=$(in_im dstor import add g0 --peer "$EX_IP4:7420") && test -b "$g" &&
	ns_del "$NS_IM" && wait_for 30 eval "! test -b $g" &&
	dmesg | grep -q "its network namespace is going away: removed" &&
	ns_del "$NS_EX" && wait_for 30 eval "dmesg | grep -q 'export g0: its network namespace is going away'" &&
	{ exec 3<>/dev/ram0; } && exec 3>&-
}
ktap_check "a deleted namespace takes its imports and exports with it" ns_gone

ktap_finish
