#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Smoke test of the selftest harness itself; needs nothing from dstor.
#
#  +---------------------------+            +---------------------------+
#  | netns ex-PID              |    veth    | netns im-PID              |
#  |   veth-ex ----------------+------------+---------------- veth-im   |
#  |   192.0.2.1/24            | netem loss |            192.0.2.2/24   |
#  |   2001:db8::1/64          |  (last     |          2001:db8::2/64   |
#  |                           |   cases)   |                           |
#  +---------------------------+            +---------------------------+
#
#  /dev/ram0: fio write + crc32c verify
#  /dev/ram1: ext4 -> mount, write, umount, e2fsck -fn, remount, compare
#
# Checks: both namespaces reach each other over IPv4 and IPv6, fio's data
# verification, an ext4 round trip with fsck, and that netem can be attached.
# shellcheck disable=SC2317 # the helpers below run through ktap_check
set -u
source "$(dirname "$0")/lib.sh"

require_cmd fio mkfs.ext4 e2fsck jq tc ip sha256sum
if [ ! -b /dev/ram0 ] || [ ! -b /dev/ram1 ]; then
	ktap_skip_all "no brd ramdisks /dev/ram0, /dev/ram1"
fi

ktap_header
ktap_plan 14

if ! ktap_check "netns pair setup" ns_pair_setup; then
	# Without the namespaces the network cases cannot run.
	for c in "ping ex->im IPv4" "ping im->ex IPv4" "ping ex->im IPv6" "ping im->ex IPv6"; do
		ktap_skip "$c" "no namespaces"
	done
	nsok=0
else
	nsok=1
	ktap_check "ping ex->im IPv4" wait_for 10 in_ex ping -c 1 -W 1 "$IM_IP4"
	ktap_check "ping im->ex IPv4" wait_for 10 in_im ping -c 1 -W 1 "$EX_IP4"
	ktap_check "ping ex->im IPv6" wait_for 10 in_ex ping -c 1 -W 1 "$IM_IP6"
	ktap_check "ping im->ex IPv6" wait_for 10 in_im ping -c 1 -W 1 "$EX_IP6"
fi

# fio: 16 MiB of 4 KiB random writes with crc32c checksums, then read back and
# verified; jq asserts on the JSON report that no job saw an error.
fio_verify() {
	fio --name=smoke --filename=/dev/ram0 --size=16M --bs=4k --rw=randwrite \
		--direct=1 --ioengine=libaio --iodepth=8 --verify=crc32c \
		--do_verify=1 --verify_fatal=1 --output-format=json >/tmp/smoke-fio.json &&
	jq -e '[.jobs[].error] | all(. == 0)' /tmp/smoke-fio.json
}
ktap_check "fio randwrite crc32c verify on /dev/ram0" fio_verify

# ext4 round trip on /dev/ram1.
mnt=$(mktemp -d)
at_exit "umount $mnt 2>/dev/null; rmdir $mnt"
ext4_write() {
	mkfs.ext4 -q -F /dev/ram1 &&
	mount -t ext4 /dev/ram1 "$mnt" &&
	head -c $((4 << 20)) /dev/urandom >"$mnt/data" &&
	sha256sum <"$mnt/data" >/tmp/smoke-sum &&
	umount "$mnt"
}
ext4_compare() {
	mount -t ext4 /dev/ram1 "$mnt" &&
	sha256sum <"$mnt/data" | cmp - /tmp/smoke-sum &&
	umount "$mnt"
}
ktap_check "ext4 mkfs, mount, write, umount" ext4_write
ktap_check "e2fsck -fn clean" e2fsck -fn /dev/ram1
ktap_check "ext4 remount, sha256 matches" ext4_compare

# netem on the exporter's side of the veth.
if [ $nsok = 1 ]; then
	ktap_check "tc netem loss 5% attached" \
		in_ex tc qdisc add dev "$EX_DEV" root netem loss 5%
	ktap_check "tc shows netem" \
		eval "in_ex tc qdisc show dev $EX_DEV | grep -q 'netem.*loss 5%'"
	# busybox ping exits 0 when at least one reply arrived.
	ktap_check "ping through netem" in_im ping -c 10 -i 0.1 -W 2 "$EX_IP4"
	ktap_check "tc netem removed" in_ex tc qdisc del dev "$EX_DEV" root
else
	for c in "tc netem loss 5% attached" "tc shows netem" "ping through netem" \
		"tc netem removed"; do
		ktap_skip "$c" "no namespaces"
	done
fi

ktap_check "slabinfo readable" eval 'slab_snapshot | grep -q "^total [1-9]"'

ktap_finish
