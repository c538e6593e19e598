#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What reaches stable storage. The export's device is a dm-log-writes target
# over a ramdisk: it passes every request on and logs each write only once
# it is on stable storage -- ordinary writes when a later FLUSH completes,
# FUA writes when they complete -- so the log is what a power cut could
# leave behind, in order (the method of xfstests' crash-consistency tests;
# Documentation/admin-guide/device-mapper/log-writes.rst in the kernel).
#
# The importer runs ext4 on the import and fsyncs files one by one; a file
# is listed with its sha256 only after its fsync (and its directory's)
# returned, and then a mark goes into the log. Replaying the log up to the
# last FLUSH or FUA before a mark gives the disk as a crash right after that
# fsync could leave it: mounted (journal recovery, as after a reboot) every
# file listed before the mark must be there, intact, and e2fsck -fn clean.
# An exporter that acked a FLUSH or FUA without the disk having done it
# leaves nothing durable before the marks, and this test fails; on brd
# alone (no write cache, no FLUSH even sent) it could not.
#
#  +----------------------------------+    veth    +---------------------------+
#  | netns ex-PID                     |            | netns im-PID              |
#  |  /dev/ram0 (data, 32 MiB used)   |            |  /dev/dstorN <- "dur"     |
#  |  /dev/ram1 (log)                 |            |   ext4, fsync'ing writer  |
#  |   -> dm "dur-PID" (log-writes)   +------------+                           |
#  |   -> export "dur" 192.0.2.1:7420 |            |  192.0.2.2                |
#  +----------------------------------+            +---------------------------+
#  afterwards: dstor-logreplay replays /dev/ram1 onto /dev/ram2 (step by step)
#  and each checked point is copied to /dev/ram3, mounted, verified, fsck'ed.
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd dmsetup dstor-logreplay mkfs.ext4 e2fsck sha256sum blockdev jq cmp
[ -c /dev/mapper/control ] || ktap_skip_all "no device-mapper in this kernel (CONFIG_BLK_DEV_DM)"
dmsetup targets 2>/dev/null | grep -q '^log-writes ' ||
	ktap_skip_all "no dm-log-writes target in this kernel (CONFIG_DM_LOG_WRITES)"

FSYNCS=24	# files fsync'ed, a mark after each
EVERY=3		# crash points checked: after mkfs and every EVERY-th fsync
MB=32		# the part of /dev/ram0 the target maps (and of ram2, ram3)
DATA=/dev/ram0 LOG=/dev/ram1 BASE=/dev/ram2 CHECK=/dev/ram3
DM=dur-$$
marks=(mkfs) points=(mkfs)
for ((i = 1; i <= FSYNCS; i++)); do
	marks+=("fsync-$i")
	[ $((i % EVERY)) != 0 ] || points+=("fsync-$i")
done

ktap_header
ktap_plan $((18 + ${#points[@]}))

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"

state=/tmp/dur-$$	# tmpfs: the lists, the buffers
mnt=$state/mnt chk=$state/chk
mkdir -p "$state" "$mnt" "$chk"
dev='' noise=''
at_exit "rm -rf $state"
at_exit "dmsetup remove $DM"
at_exit 'in_ex dstor export del dur'
at_exit '[ -z "$dev" ] || in_im dstor import del "$dev"'
at_exit "umount $mnt; umount $chk"
at_exit '[ -z "$noise" ] || kill $noise'

zero() { dd if=/dev/zero of="$1" bs=1M count="$2" oflag=direct status=none; }
# The data device and the replay base start out equal (zeros), and the log
# has no super from an earlier run.
setup() {
	zero $DATA $MB && zero $BASE $MB && zero $LOG 1 &&
	dmsetup create "$DM" --table "0 $((MB * 2048)) log-writes $DATA $LOG" &&
	# No udev in the guest: the /dev/mapper node is ours to make.
	dmsetup mknodes "$DM" && test -b "/dev/mapper/$DM"
}
# Without the target nothing below can run: the plan is not met, a failure.
ktap_check "dm-log-writes target over $DATA, log on $LOG" setup || ktap_finish

ktap_check "export dur on /dev/mapper/$DM" \
	in_ex dstor export add dur --device "/dev/mapper/$DM" --listen "$EX_IP4:7420"
dev=$(in_im dstor import add dur --peer "$EX_IP4")
ktap_check "import dur" test -b "$dev"

# The target has a volatile write cache as far as anyone can tell: the
# import must say so, or the importer would never send a FLUSH or FUA.
q=/sys/block/${dev#/dev/}/queue
ktap_check "the import has a volatile write cache and FUA" \
	eval "grep -qx 'write back' $q/write_cache && grep -qx 1 $q/fua"

mark() { dmsetup message "$DM" 0 mark "$1"; }
ktap_check "mkfs.ext4 on the import, mount, mark mkfs" \
	eval "mkfs.ext4 -q -F -b 4096 -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 $dev &&
	      mark mkfs && mount -t ext4 $dev $mnt"

# Buffered appends that nobody fsyncs, beside the writer: unchecked, but
# their blocks and metadata are in flight at the crash points too.
mkdir "$mnt/noise"
(for _ in $(seq 200); do
	head -c 16384 /dev/urandom >>"$mnt/noise/log" || exit
	sleep 0.2
done) &
noise=$!

# list PATH: PATH's checksum (from the buffer it was written from) replaces
# any earlier line for it; then a copy of the list for the mark that follows.
list() {
	{ grep -v "  $1\$" "$state/manifest"; echo "${sum%% *}  $1"; } >"$state/manifest.new" &&
	mv "$state/manifest.new" "$state/manifest"
}

# FSYNCS files, new ones in directories of six and, every fifth time, an
# earlier one rewritten; each written with dd conv=fsync, its directory
# fsync'ed, then listed, then a mark "fsync-I" in the log.
workload() {
	local i d f kib sum
	: >"$state/manifest"
	cp "$state/manifest" "$state/at-mkfs"
	for i in $(seq "$FSYNCS"); do
		d=d$(((i - 1) / 6))
		if [ ! -d "$mnt/$d" ]; then
			mkdir "$mnt/$d" && sync "$mnt" || return 1
		fi
		f=$d/f$i
		[ $((i % 5)) != 0 ] || f=$(awk 'NR == 2 { print $2 }' "$state/manifest")
		kib=$(((RANDOM % 32 + 1) * 4))
		head -c $((kib * 1024)) /dev/urandom >"$state/buf" &&
		sum=$(sha256sum <"$state/buf") &&
		dd if="$state/buf" of="$mnt/$f" bs=64k conv=fsync status=none &&
		sync "$mnt/${f%/*}" || { echo "writing $f failed"; return 1; }
		list "$f" && cp "$state/manifest" "$state/at-fsync-$i" &&
		mark "fsync-$i" || return 1
	done
}
ktap_check "$FSYNCS files fsync'ed on the import, a mark after each" workload

stop() {
	kill "$noise" 2>/dev/null
	wait "$noise"
	noise=''
	umount "$mnt" && in_im dstor import del "$dev" && dev='' &&
	counters=$(in_ex dstor show --json | jq -r '.exports[] | select(.name == "dur") |
		.stats | "writes \(.writes) flushes \(.flushes) errors \(.errors)"') &&
	in_ex dstor export del dur
}
counters=
ktap_check "umount, import del, export del" stop
ktap_note "the export served: ${counters:-?}"

# "0 SECTORS log-writes ENTRIES HIGHEST-SECTOR [logging_disabled]"
finish_log() {
	local st
	st=$(dmsetup status "$DM") || return 1
	case $st in *logging_disabled*) echo "the target stopped logging: $st"; return 1 ;; esac
	dmsetup remove "$DM"
}
ktap_check "the log is complete (logging never stopped), target removed" finish_log

# "MARK-INDEX FLUSH-INDEX NAME" a mark: the FLUSH or FUA entry before it.
declare -A at_mark at_flush
dstor-logreplay --log $LOG --points >"$state/points" 2>&1
while read -r m f name; do
	[ -n "${at_mark[$name]:-}" ] || { at_mark[$name]=$m; at_flush[$name]=$f; }
done <"$state/points"
dstor-logreplay --log $LOG --list >"$state/list" 2>&1
log_bytes=$(sed -n 's/^# end of the log at byte \([0-9]*\)$/\1/p' "$state/list")
ktap_note "log: $(head -n 1 "$state/list" | sed 's/^# [^:]*: //'), $((${log_bytes:-0} >> 10)) KiB;" \
	"$(grep -c ' flush' "$state/list") with FLUSH, $(grep -c ' [a-z,]*fua' "$state/list") with FUA"

all_marks() {
	local name
	for name in "${marks[@]}" dm-log-writes-end; do
		[ -n "${at_mark[$name]:-}" ] || { echo "no mark $name in the log:"; cat "$state/points"; return 1; }
	done
}
ktap_check "every mark is in the log" all_marks

# Each fsync made something durable after the mark before it: a FLUSH or
# FUA entry lies between the two marks (for mkfs: before it).
flush_each() {
	local prev=-1 name rc=0
	for name in "${marks[@]}"; do
		if [ "${at_flush[$name]:--1}" -le "$prev" ]; then
			echo "no FLUSH or FUA between the mark before and mark $name (entry ${at_mark[$name]:-?})"
			rc=1
		fi
		prev=${at_mark[$name]:-$prev}
	done
	return $rc
}
ktap_check "a FLUSH or FUA in the log for every fsync" flush_each

# crash_at NAME: the log replayed onto $BASE up to the last FLUSH or FUA
# before mark NAME (from where the previous point left it), copied to
# $CHECK; mounted there, every file listed before the mark is intact; after
# umount e2fsck -fn is clean.
done_to=-1
crash_at() {
	local name=$1 f=${at_flush[$1]:--1}
	if [ "$f" -lt 0 ]; then
		echo "no FLUSH or FUA before mark $name: nothing the fsyncs relied on reached the disk"
		return 1
	fi
	if [ "$f" -gt "$done_to" ]; then
		dstor-logreplay --log $LOG --replay $BASE --from $((done_to + 1)) --to "$f" >/dev/null &&
		done_to=$f || return 1
	fi
	dd if=$BASE of=$CHECK bs=1M count=$MB iflag=direct oflag=direct status=none &&
	mount -t ext4 $CHECK "$chk" || return 1
	if [ -s "$state/at-$name" ] &&
		! (cd "$chk" && sha256sum -c "$state/at-$name" >"$state/verify.out" 2>&1); then
		grep -v ': OK$' "$state/verify.out"
		umount "$chk"
		return 1
	fi
	umount "$chk" && e2fsck -fn $CHECK
}
for name in "${points[@]}"; do
	f=${at_flush[$name]:--1}
	[ "$f" -ge 0 ] && to="log replayed to entry $f" || to="no FLUSH or FUA before it"
	ktap_check "crash after mark $name ($to): $(wc -l <"$state/at-$name") listed files intact, e2fsck clean" \
		crash_at "$name"
done

# The whole log replayed gives the data device, byte for byte: the log and
# the replay miss nothing, so what the points lacked was never durable.
# (The target logs a FUA write when it completes and an ordinary one at the
# next FLUSH, so an ordinary write followed by a FUA write of the same block
# with no FLUSH between would replay in the wrong order. ext4 never does
# that: its FUA writes, the journal's commit blocks, carry a PREFLUSH, and
# the superblock's at umount follows the journal's last flush. An exporter
# that drops FLUSH but keeps FUA fails here too.)
full() {
	local end=${at_mark[dm-log-writes-end]:-}
	[ -n "$end" ] && [ "$end" -gt "$done_to" ] &&
	dstor-logreplay --log $LOG --replay $BASE --from $((done_to + 1)) --to "$end" || return 1
	cmp -s -n $((MB << 20)) $DATA $BASE ||
		{ cmp -n $((MB << 20)) $DATA $BASE 2>&1 | head -n 1; return 1; }
}
ktap_check "the whole log replayed equals the data device" full

# The replay tool on damaged logs: one clear error and exit status 1.
damaged() {
	local img=$state/log.img off rc=0
	[ -n "$log_bytes" ] || { echo "no length of the log from --list"; return 1; }
	dd if=$LOG of="$img" bs=64k count=$(((log_bytes + 65535) >> 16)) status=none || return 1
	expect_bad() { # WHAT FILE
		local out
		out=$(dstor-logreplay --log "$2" --points 2>&1)
		[ $? = 1 ] && grep -q '^dstor-logreplay: ' <<<"$out" ||
			{ echo "$1: not refused with exit status 1:"; echo "$out" | tail -n 3; rc=1; }
	}
	head -c $((log_bytes / 2)) "$img" >"$img.cut"
	expect_bad "log cut in half" "$img.cut"
	# Entry 1's flags, then the data length of the first write.
	off=$(awk '$1 == 1 { print $2 }' "$state/list")
	cp "$img" "$img.flags"
	printf '\xff\xff\xff\xff\xff\xff\xff\xff' |
		dd of="$img.flags" bs=1 seek=$((off + 16)) conv=notrunc status=none
	expect_bad "unknown flags" "$img.flags"
	off=$(awk '$3 == "write" { print $2; exit }' "$state/list")
	cp "$img" "$img.len"
	printf '\x00\x00\x00\x00\x00\x00\x00\x01' |
		dd of="$img.len" bs=1 seek=$((off + 8)) conv=notrunc status=none
	expect_bad "a write longer than the log" "$img.len"
	rm -f "$img"*
	return $rc
}
ktap_check "dstor-logreplay refuses damaged logs" damaged

# --- an exporter restart, and what its volatile cache held -----------------------
# The export is deleted and added again with its identity (--uuid), as an
# exporter reboot would: whatever sat in the device's volatile write cache
# is gone. If the importer had a write completed after its last completed
# FLUSH, that write may be lost after it was acknowledged: the import must
# fail, saying so, not resume as if nothing happened. After a FLUSH it
# resumes. (dm-log-writes gives the export its volatile cache.)
CU=6f1e0c2a-4b5d-4e6f-9a0b-1c2d3e4f5a6b
T="--timeout 5 --retries 2 --reconnect 1:1 --keepalive 1 --dead-after 2"
DM2=durc-$$
restart() {
	in_ex dstor export del durc &&
	in_ex dstor export add durc --device "/dev/mapper/$DM2" --listen "$EX_IP4:7420" --uuid $CU
}
ci() { in_im dstor show --json | jq -r ".imports[] | select(.device == \"$cdev\") | $1"; }
at_exit "dmsetup remove $DM2"
at_exit 'in_ex dstor export del durc'
at_exit '[ -z "$cdev" ] || in_im dstor import del "$cdev"'
cdev=''
cache_setup() {
	zero $LOG 1 &&
	dmsetup create "$DM2" --table "0 $((MB << 11)) log-writes $DATA $LOG" &&
	dmsetup mknodes "$DM2" &&
	in_ex dstor export add durc --device "/dev/mapper/$DM2" --listen "$EX_IP4:7420" --uuid $CU &&
	# shellcheck disable=SC2086
	cdev=$(in_im dstor import add durc --peer "$EX_IP4:7420" --connections 2 $T) &&
	test "$(cat "/sys/block/${cdev#/dev/}/queue/write_cache")" = "write back"
}
ktap_check "an export with a volatile cache, imported with a fixed uuid" cache_setup
flushed() {
	dd if=/dev/urandom of="$cdev" bs=64k count=4 oflag=direct conv=fsync status=none &&
	restart &&
	wait_for 20 eval '[ "$(ci .state)" = connected ] && [ "$(ci .stats.reconnects)" -gt 0 ]' &&
	dd if="$cdev" of=/dev/null bs=64k count=4 iflag=direct status=none
}
ktap_check "a restart after the last write was flushed: the import resumes" flushed
# A FLUSH on a session that became read-only (its grant changed from rw to
# ro) after it wrote: its writes may still be in the cache, so the FLUSH
# must reach the device all the same.
ro_flush() {
	local before after
	dd if=/dev/urandom of="$cdev" bs=64k count=4 seek=16 oflag=direct status=none &&
	in_ex dstor acl add durc "$IM_IP4/32" ro &&
	dmsetup message "$DM2" 0 mark ro-before &&
	dd if=/dev/null of="$cdev" count=0 conv=fsync,notrunc status=none &&
	dmsetup message "$DM2" 0 mark ro-after &&
	in_ex dstor acl del durc "$IM_IP4/32" || return 1
	dstor-logreplay --log $LOG --points >"$state/ro-points" 2>&1
	before=$(awk '$3 == "ro-before" { print $1 }' "$state/ro-points")
	after=$(awk '$3 == "ro-after" { print $2 }' "$state/ro-points")
	echo "mark ro-before at entry ${before:-?}; the last FLUSH or FUA before ro-after: ${after:-?}"
	[ -n "$before" ] && [ -n "$after" ] && [ "$after" -gt "$before" ]
}
ktap_check "a FLUSH on a session made read-only reaches the device" ro_flush
unflushed() {
	dd if=/dev/urandom of="$cdev" bs=64k count=4 oflag=direct status=none &&
	restart &&
	wait_for 20 eval '[ "$(ci .state)" = failed ]' &&
	ci .reason | grep -q "restarted" &&
	! dd if="$cdev" of=/dev/null bs=64k count=1 iflag=direct status=none 2>/dev/null &&
	dmesg | grep -q "may have lost acknowledged writes"
}
ktap_check "a restart with an unflushed write: the import fails and says why" unflushed
ktap_check "and stays failed, the exporter back or not" \
	eval 'sleep 3 && [ "$(ci .state)" = failed ] && in_im dstor import del "$cdev" && cdev='

ktap_finish
