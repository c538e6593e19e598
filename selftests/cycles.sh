#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Twenty cycles of load, export, import, I/O, delete, unload; then the same
# with everything left in place at unload. No object may leak: the module
# reports any it still counts when it unloads (the harness fails on that
# line), and the slab caches return to where they were.
#
#  +-----------------------------+          +-----------------------------+
#  | netns ex-PID                |   veth   | netns im-PID                |
#  |  export "c0" on /dev/ram3   +----------+  /dev/dstorN <- c0          |
#  +-----------------------------+          +-----------------------------+
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd jq
[ -n "${DSTOR_KO:-}" ] && [ -f "$DSTOR_KO" ] || ktap_skip_all "no DSTOR_KO to reload"

CYCLES=20
# kmemleak, not the slab count, is the leak check there (below).
debug_kernel && CYCLES=8

ktap_header
ktap_plan 6

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
at_exit "lsmod | grep -q '^dstor ' || insmod $DSTOR_KO"

one_cycle() {
	lsmod | grep -q '^dstor ' || insmod "$DSTOR_KO" || return 1
	in_ex dstor export add c0 --device /dev/ram3 --listen "$EX_IP4:7420" || return 1
	dev=$(in_im dstor import add c0 --peer "$EX_IP4:7420" --connections 2) || return 1
	dd if=/dev/urandom of="$dev" bs=64k count=4 oflag=direct status=none || return 1
	dd if="$dev" of=/dev/null bs=64k count=4 iflag=direct status=none || return 1
	in_im dstor import del "$dev" || return 1
	in_ex dstor export del c0 || return 1
	rmmod dstor
}

# Slab usage of the caches the module touches: kmalloc, bios, request PDUs.
slabs() { slab_snapshot '^(kmalloc|bio|biovec|blkdev|request|TCP|sock_inode)' | awk '$1 == "total" { print $2 }'; }

one_cycle || true
sync
echo 3 >/proc/sys/vm/drop_caches
base=$(slabs)

cycles() {
	local i
	for i in $(seq $CYCLES); do
		one_cycle || { echo "cycle $i failed"; return 1; }
	done
}
ktap_check "$CYCLES cycles of load/export/import/io/del/unload" cycles

echo 3 >/proc/sys/vm/drop_caches
after=$(slabs)
ktap_note "slab bytes of watched caches: before $base, after $after"
if [ -e /sys/kernel/debug/kmemleak ]; then
	# KASAN's quarantine holds freed objects, so slab counts only grow
	# here; kmemleak's scan at the end of the run is the leak check.
	ktap_skip "slab usage back to baseline" "debug kernel: kmemleak decides"
else
	# Slab pages are kept per cpu and in partial slabs, so allow slack of
	# 256 KiB for the whole run; a leak of one request per cycle would
	# exceed it at once.
	ktap_check "slab usage back to baseline (+256 KiB slack)" test "$after" -le $((base + 262144))
fi
ktap_check "no leak reported by the module" eval "! dmesg | grep -q 'dstor: leaked'"

# Unload with an export and an import still configured: the module tears
# both down itself.
teardown() {
	insmod "$DSTOR_KO" &&
	in_ex dstor export add c0 --device /dev/ram3 --listen "$EX_IP4:7420" &&
	dev=$(in_im dstor import add c0 --peer "$EX_IP4:7420") &&
	dd if=/dev/zero of="$dev" bs=64k count=2 oflag=direct status=none &&
	rmmod dstor &&
	! test -b "$dev"
}
ktap_check "unload with an export and an import present" teardown

# Unload while the import is mounted: refused, everything keeps working.
mnt=$(mktemp -d)
at_exit "umount $mnt; rmdir $mnt"
mounted() {
	insmod "$DSTOR_KO" &&
	in_ex dstor export add c0 --device /dev/ram3 --listen "$EX_IP4:7420" &&
	dev=$(in_im dstor import add c0 --peer "$EX_IP4:7420") &&
	mkfs.ext4 -q -F "$dev" && mount "$dev" "$mnt" &&
	! rmmod dstor 2>/dev/null &&
	echo hello >"$mnt/f" && sync &&
	umount "$mnt" &&
	rmmod dstor
}
ktap_check "unload refused while mounted, works after umount" mounted

ktap_finish
