#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Network RAID1: md mirrors two imports from two exports. One exporter
# disappears mid-write: its import runs out of resends, md fails that half
# and carries on degraded, losing nothing. The exporter comes back, its
# import reconnects by itself, `mdadm --re-add` resyncs what the write-intent
# bitmap recorded, and the two halves end up identical.
#
#  +-------------------------------------+         +-------------------------------+
#  | netns ex-PID                        |  veth   | netns im-PID                  |
#  |  /dev/ram0 -> "m0" 192.0.2.1:7420   +---------+  /dev/dstorA <- m0  \         |
#  |  /dev/ram1 -> "m1" 192.0.2.1:7421   |         |  /dev/dstorB <- m1  -> md RAID1|
#  +-------------------------------------+         +-------------------------------+
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd mdadm fio jq
grep -q raid1 /proc/mdstat 2>/dev/null || [ -d /sys/module/raid1 ] || ktap_skip_all "no md raid1"

ktap_header
ktap_plan 12

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
MD=/dev/md/dstortest
at_exit "mdadm --stop $MD; dstor_down $NS_IM $NS_EX"

FAST="--timeout 2 --retries 1 --reconnect 1:1 --keepalive 1 --dead-after 2"
in_ex dstor export add m0 --device /dev/ram0 --listen "$EX_IP4:7420"
in_ex dstor export add m1 --device /dev/ram1 --listen "$EX_IP4:7421"
# shellcheck disable=SC2086
a=$(in_im dstor import add m0 --peer "$EX_IP4:7420" $FAST)
# shellcheck disable=SC2086
b=$(in_im dstor import add m1 --peer "$EX_IP4:7421" $FAST)
ktap_check "two imports" test -b "$a" -a -b "$b"

ktap_check "create RAID1 with a write-intent bitmap" \
	mdadm --create "$MD" --run --level=1 --raid-devices=2 --bitmap=internal \
	--assume-clean --metadata=1.2 "$a" "$b"

fio_md() { # fio_md NAME OFFSET [ARGS]: write 8 MiB with checksums, read back, verify
	local name=$1 off=$2
	shift 2
	fio --name="$name" --filename="$MD" --offset="$off" --size=8M --bs=16k --rw=randwrite \
		--direct=1 --ioengine=libaio --iodepth=8 --verify=crc32c --do_verify=1 \
		--verify_fatal=1 "$@" >/dev/null
}

# Kill exporter m1 while writes run.
# Rate-limited so the writes are still running when the exporter goes.
m1_uuid=$(in_ex dstor show --json | jq -r '.exports[] | select(.name == "m1") | .uuid')
fio_md w1 0 --rate_iops=100 &
fiopid=$!
sleep 2
kill -0 $fiopid || ktap_note "fio ended before the exporter went: the case proves little"
in_ex dstor export del m1
ktap_check "writes complete and verify on the degraded array" wait $fiopid
ktap_check "md marked the lost half faulty" \
	wait_for 20 eval "mdadm --detail $MD | grep -q faulty"
ktap_check "import of the lost exporter is failed" \
	test "$(in_im dstor show --json | jq -r ".imports[] | select(.device == \"$b\") | .state")" = failed
ktap_check "more writes while degraded" fio_md w2 16M

# Bring the exporter back, the same export (its uuid): the import
# reconnects by itself.
in_ex dstor export add m1 --device /dev/ram1 --listen "$EX_IP4:7421" --uuid "$m1_uuid"
ktap_check "import reconnects" wait_for 15 eval \
	"[ \"\$(in_im dstor show --json | jq -r '.imports[] | select(.device == \"$b\") | .state')\" = connected ]"
readd() {
	mdadm "$MD" --remove "$b" >/dev/null 2>&1
	mdadm "$MD" --re-add "$b"
}
ktap_check "mdadm --re-add" readd
ktap_check "resync finishes" eval "mdadm --wait $MD; mdadm --detail $MD | grep -q 'State : clean'"
ktap_check "earlier data still verifies" \
	fio --name=w1 --filename="$MD" --offset=0 --size=8M --bs=16k --rw=randwrite \
	--direct=1 --ioengine=libaio --iodepth=8 --verify=crc32c --verify_only=1 \
	--verify_fatal=1

# The halves: same bytes after md's data offset on both exporters' disks.
halves() {
	local off
	off=$(mdadm --examine "$a" | awk '/Data Offset/ { print $4 }')
	[ -n "$off" ] || return 1
	mdadm --stop "$MD" >/dev/null &&
	x=$(dd if=/dev/ram0 bs=512 skip="$off" count=$((48 << 11)) iflag=direct status=none | sha256sum) &&
	y=$(dd if=/dev/ram1 bs=512 skip="$off" count=$((48 << 11)) iflag=direct status=none | sha256sum) &&
	echo "data offset $off: $x / $y" && [ "$x" = "$y" ]
}
ktap_check "the two mirror halves are identical" halves

ktap_finish
