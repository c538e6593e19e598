#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The exporter half of the machine crash test; selftests/vm/pair.sh runs it
# (it skips anywhere else, and is not in TESTS). This guest exports its
# virtio disk /dev/vda -- a raw file on the host -- to the importer guest.
# The disk has no volatile write cache (pair.sh: cache=directsync), so the
# kill loses nothing that was acknowledged; FLUSH and FUA are tested by
# durability.sh instead.
# pair.sh kills this guest's QEMU (kill -9) while the importer writes, then
# boots it again on the same disk image and this script runs again: it
# re-adds the export on the disk exactly as the crash left it. Nothing here
# ever formats, repairs or writes the disk itself.
#
# After the importer has verified its files, unmounted and deleted its
# import, it sends its list of fsync'ed files; this side then checks its
# own disk: e2fsck -fn clean and every listed file present with its sha256.
# That shows the data is on the disk image, not only in the importer's
# view. The first boot never gets that far; pair.sh ignores its verdict.
set -u
# shellcheck source=selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=selftests/crash-lib.sh
source "$(dirname "$0")/crash-lib.sh"

pair_require exporter
require_dstor
require_cmd e2fsck nc sha256sum blockdev jq

ktap_header
ktap_plan 11

boot=$(pair_boot)
ktap_note "exporter boot ${boot:-?}"
ktap_check "network up: $PAIR_EX_IP/24" pair_net "$PAIR_EX_IP" || pair_fatal
ktap_note "network interface $PAIR_NIC"
ktap_check "the disk $PAIR_DISK is there" wait_for 20 test -b "$PAIR_DISK" || pair_fatal
# pair.sh attaches it with cache=directsync: a write is done once it is on
# the host's stable storage, so killing QEMU is a faithful power cut.
ktap_check "$PAIR_DISK has no volatile write cache" \
	grep -qx 'write through' "/sys/block/${PAIR_DISK#/dev/}/queue/write_cache"

# The importer's end message. Listen before exporting, so the listener is
# there before the importer can possibly be done. The test's own timeout
# (selftests/settings) is 900 s; leave time for the checks after.
nc -l -p "$PAIR_CTL_PORT" </dev/null >/tmp/end.msg 2>/tmp/nc.err &
ncpid=$!
at_exit "kill $ncpid; dstor export del $PAIR_EXPORT"

ktap_check "export $PAIR_EXPORT on $PAIR_DISK, as the crash left it" \
	dstor export add "$PAIR_EXPORT" --device "$PAIR_DISK" --listen "$PAIR_EX_IP:$PAIR_PORT" \
		--uuid "$PAIR_UUID" ||
	pair_fatal
# On the console too: pair.sh checks the killed first boot's console for it.
echo "crash-exporter: export $PAIR_EXPORT up on $PAIR_DISK (boot ${boot:-?})" >/dev/kmsg
ktap_note "pair: export-up boot=${boot:-?}"

# The first boot is killed somewhere in here.
end_message() {
	local deadline=$((SECONDS + 600)) last n
	while kill -0 "$ncpid" 2>/dev/null; do
		if [ $SECONDS -ge $deadline ]; then
			echo "no end message from the importer in 600 s"
			return 1
		fi
		sleep 1
	done
	wait "$ncpid" || { cat /tmp/nc.err; return 1; }
	last=$(tail -n 1 /tmp/end.msg)
	case $last in
	"END "*)
		n=${last#END }
		sed '$d' /tmp/end.msg >/tmp/manifest
		[ "$(wc -l </tmp/manifest)" = "$n" ] ||
			{ echo "got $(wc -l </tmp/manifest) lines of $n"; return 1; }
		;;
	*)
		echo "the importer gave up: ${last:-empty message}"
		return 1 ;;
	esac
}
ktap_check "end message from the importer (verified, unmounted, import deleted)" end_message ||
	pair_fatal "no list of files from the importer"
ktap_note "the importer lists $(wc -l </tmp/manifest) fsync'ed files"

# Writes the importer resent or made after the crash were served by this
# boot, whose counters start from zero.
ex() { dstor show --json | jq -r ".exports[] | select(.name == \"$PAIR_EXPORT\") | $1"; }
ktap_note "this boot's export counters: $(ex '.stats | "writes \(.writes) flushes \(.flushes) reads \(.reads) errors \(.errors)"')"
ktap_check "this boot served writes" test "$(ex .stats.writes)" -gt 0
ktap_check "export del" dstor export del "$PAIR_EXPORT"

# Read the disk itself from here on; nothing of it may come from a cache.
blockdev --flushbufs "$PAIR_DISK"
echo 3 >/proc/sys/vm/drop_caches
ktap_check "e2fsck -fn $PAIR_DISK: clean" e2fsck -fn "$PAIR_DISK"
mkdir -p /mnt/disk
ktap_check "mount $PAIR_DISK read-only" mount -t ext4 -o ro "$PAIR_DISK" /mnt/disk ||
	pair_fatal "not mounted"
at_exit "umount /mnt/disk"
ktap_check "every file the importer fsync'ed is on this disk, intact" \
	eval "cd /mnt/disk && sha256sum -c /tmp/manifest >/tmp/verify.out || { grep -v ': OK\$' /tmp/verify.out; false; }"
cd /
ktap_check "umount" umount /mnt/disk
ktap_finish
