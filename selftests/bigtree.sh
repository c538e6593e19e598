#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dstor sync --peer past 65,536 blocks (Documentation/reconciliation.md,
# "Memory"): a sparse read-write export of more blocks than a sync used to
# take, reconciled into a sparse replica. Blocks of zeros are
# scanned, not hashed, at both ends; only the blocks holding data travel
# and only they are written; writes through an import just before a sync
# are waited for (TREE_INFO's PENDING) and fetched; writes during a sync's
# round make it start over on the new tree.
#
#  +-----------------------------+          +-----------------------------+
#  | netns ex-PID                |   veth   | netns im-PID                |
#  |  "big": a loop device over  +----------+  dstor sync big --peer ...  |
#  |   a sparse file, 24 blocks  |          |   --target a loop device    |
#  |   of data, --tree 64K, live |          |   over an empty sparse file |
#  |                             |          |  /dev/dstorN: writes        |
#  +-----------------------------+          +-----------------------------+
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd jq losetup cmp stat dstor-stale

ktap_header
ktap_plan 11

# 320 MiB in blocks of 4 KiB: 81,920 leaves, past the old limit (288 MiB,
# 73,728 leaves, on the debug kernel). `make check-big` runs it at 64 GiB
# in blocks of 64 KiB (BIGTREE_MB=65536 BIGTREE_BS=65536 on the kernel
# command line, which hands them to /init): about a minute for the
# exporter's tree and for each sync's scan of its replica, alone on 6.12
# (Documentation/reconciliation.md, "Memory").
SIZE_MB=320
debug_kernel && SIZE_MB=288
SIZE=$((${BIGTREE_MB:-$SIZE_MB} << 20))
BS=${BIGTREE_BS:-4096}
BLOCKS=$((SIZE / BS))
DATA=24
W=$(mktemp -d /tmp/bigtree.XXXXXX)
DEVS=()
IMP=
bt_cleanup() {
	local d
	[ -z "$IMP" ] || in_im dstor import del "$IMP" 2>/dev/null
	dstor_down "$NS_IM" "$NS_EX"
	for d in "${DEVS[@]}"; do losetup -d "$d" 2>/dev/null; done
	rm -rf "$W"
}
at_exit bt_cleanup

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
ktap_note "$((SIZE >> 20)) MiB in $BLOCKS blocks of $BS bytes"

truncate -s "$SIZE" "$W/x.img" "$W/r.img"
dstor-stale --block-size "$BS" --count "$DATA" --seed 7 "$W/x.img" | sort -n >"$W/data"
XDEV=$(losetup --find --show "$W/x.img")
RDEV=$(losetup --find --show "$W/r.img")
DEVS=("$XDEV" "$RDEV")
xshow() { in_ex dstor show --json | jq -r ".exports[] | select(.name == \"big\") | $1"; }

t0=$(date +%s)
ktap_check "a read-write export with a tree of $BLOCKS blocks" \
	eval 'in_ex dstor export add big --device $XDEV --listen $EX_IP4:7420 --tree --block-size $BS &&
		wait_for 600 eval "[ \"\$(xshow .tree.blocks)\" = $BLOCKS ]"'
ktap_note "the tree was built in $(($(date +%s) - t0)) s"

# same_blocks FILE: the blocks listed in FILE are the same in x.img and r.img.
same_blocks() {
	local k
	while read -r k; do
		cmp -s <(dd if="$W/x.img" bs="$BS" skip="$k" count=1 status=none) \
			<(dd if="$W/r.img" bs="$BS" skip="$k" count=1 status=none) || {
			echo "# block $k differs"
			return 1
		}
	done <"$1"
}
# sync_once OUT: a one-shot sync of big into the replica.
sync_once() {
	in_im dstor sync big --peer "$EX_IP4" --target "$RDEV" --wait --json >"$1" 2>"$W/err" ||
		{ cat "$W/err"; return 1; }
}

t0=$(date +%s)
if sync_once "$W/first.json"; then
	ktap_ok "the sync converges (the replica's root is the export's)"
else
	ktap_fail "the sync converges (the replica's root is the export's)" "$(cat "$W/err")"
fi
ktap_note "first sync: $(($(date +%s) - t0)) s, $(jq -r .stats.sync_wire_bytes "$W/first.json") bytes on the wire, $(jq -r .stats.sync_tree_hashes "$W/first.json") hashes"
ktap_check "exactly the $DATA blocks of data travelled; the zeros were found good" \
	test "$(jq -r '[.stats.sync_received, .stats.sync_good] | join(" ")' "$W/first.json")" = \
	"$DATA $((BLOCKS - DATA))"
ktap_check "they equal the export's" same_blocks "$W/data"
# The replica stays sparse: nothing but those blocks was written.
alloc=$(($(stat -c %b "$W/r.img") * 512))
ktap_note "the replica's file holds $alloc bytes"
ktap_check "only those blocks were written to the replica" test "$alloc" -le $((DATA * BS + (1 << 20)))

# Writes through an import, and a sync at once: the exporter's tree does
# not hold them yet (it follows within a second); TREE_INFO says PENDING
# and the sync waits for the next generation instead of converging to
# the last one.
IMP=$(in_im dstor import add big --peer "$EX_IP4:7420")
printf '%s\n' 5 $((BLOCKS / 3)) $((BLOCKS / 2 + 1)) $((BLOCKS - 1)) >"$W/written"
ktap_check "4 blocks written through an import" \
	eval 'while read -r k; do
			dd if=/dev/urandom of=$IMP bs=$BS count=1 seek=$k oflag=direct status=none || exit 1
		done <$W/written'
t0=$(date +%s)
if sync_once "$W/second.json"; then
	ktap_ok "a sync right after the writes converges"
else
	ktap_fail "a sync right after the writes converges" "$(cat "$W/err")"
fi
ktap_note "second sync: $(($(date +%s) - t0)) s"
ktap_check "it fetched exactly the 4 written blocks, and they are the export's" \
	eval '[ "$(jq -r .stats.sync_received $W/second.json)" = 4 ] && same_blocks $W/written'

# Writes published while a sync hashes its target (after its TREE_INFO):
# the replica has 3 other blocks stale, so the round descends, its first
# TREE_FP meets STALE, and it starts over on the new generation instead of
# failing.
sync_state() { in_im dstor sync list --json | jq -r '.[] | select(.name == "big") | .state'; }
printf '%s\n' 100 200 300 >"$W/stale"
while read -r k; do
	dd if=/dev/urandom of="$W/r.img" bs="$BS" count=1 seek="$k" conv=notrunc status=none
done <"$W/stale"
printf '%s\n' 9 $((BLOCKS / 4)) >"$W/during"
restarts=$(dmesg | grep -c "sync big: the export's tree changed during the round: starting over")
sync_once "$W/third.json" &
spid=$!
if wait_for 60 eval '[ "$(sync_state)" = hashing ]'; then
	while read -r k; do
		dd if=/dev/urandom of="$IMP" bs="$BS" count=1 seek="$k" oflag=direct status=none
	done <"$W/during"
	ktap_check "writes during a sync's round: it starts over on the new tree and converges" \
		eval 'wait $spid && wait_for 5 eval "[ \$(dmesg | grep -c \"sync big: the export.s tree changed during the round: starting over\") -gt $restarts ]"'
else
	ktap_fail "writes during a sync's round: it starts over on the new tree and converges" \
		"never saw the sync hashing: $(sync_state)"
	wait $spid
fi
ktap_check "it fetched exactly the 3 stale and the 2 written blocks, and they are the export's" \
	eval '[ "$(jq -r .stats.sync_received $W/third.json)" = 5 ] && same_blocks $W/stale &&
		same_blocks $W/during'
in_im dstor import del "$IMP"
IMP=

ktap_finish
