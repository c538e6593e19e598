#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An export's merkle tree served over TCP (protocol version 4: TREE_INFO and
# TREE_FP; Documentation/reconciliation.md), compared node by node with the
# tree dstor-mctree computes from the device's image apart from the module,
# and what the exporter must refuse.
#
#  +-----------------------------+          +-----------------------------+
#  | netns ex-PID                |   veth   | netns im-PID                |
#  |  "t": loop of tree.img,     +----------+  dstor-mctree --peer        |
#  |   --read-only --tree 4K     |          |   (plaintext, version 4)    |
#  |  "plain": the same, no tree |          |                             |
#  +-----------------------------+          +-----------------------------+
#
# The image is 6 MiB and 12 KiB of random data with a block of zeros in
# every 32: 1539 leaves of 4 KiB, so levels end in odd nodes that move up.
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd jq losetup
command -v dstor-mctree >/dev/null || { ktap_header; ktap_skip_all "dstor-mctree not in the guest"; }

ktap_header
ktap_plan 13

W=$(mktemp -d /tmp/tree.XXXXXX)
DEVS=()
tree_cleanup() {
	local d
	dstor_down "$NS_EX"
	for d in "${DEVS[@]}"; do losetup -d "$d"; done
	rm -rf "$W"
}
at_exit tree_cleanup

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"

IMG=$W/tree.img
LEAVES=1539
head -c $(((6 << 20) + 12288)) /dev/urandom >"$IMG"
for k in $(seq 0 32 $((LEAVES - 1))); do
	dd if=/dev/zero of="$IMG" bs=4k count=1 seek=$((k + 5)) conv=notrunc status=none 2>/dev/null
done
truncate -s $(((6 << 20) + 12288)) "$IMG"
DEV=$(losetup --find --show --read-only "$IMG")
DEV2=$(losetup --find --show --read-only "$IMG")
DEVS=("$DEV" "$DEV2")

tshow() { in_ex dstor show --json | jq -r ".exports[] | select(.name == \"$1\") | $2"; }
ktap_check "read-only export with --tree --block-size 4K" \
	in_ex dstor export add t --device "$DEV" --read-only --listen "$EX_IP4:7420" --tree --block-size 4K
ktap_check "its tree is built: $LEAVES blocks, a generation and a root" \
	wait_for 120 eval '[ "$(tshow t .tree.blocks)" = $LEAVES ] &&
		[[ $(tshow t .tree.generation) =~ ^[0-9a-f]{16}$ ]] &&
		[[ $(tshow t .tree.root) =~ ^[0-9a-f]{64}$ ]]'
SPEC=$(dstor-mctree --name t --block-size 4096 "$IMG" | head -n 1)
ktap_check "its root is the specification's (dstor-mctree)" test "$(tshow t .tree.root)" = "$SPEC"

# Every node of every level, top down, against dstor-mctree's own; then
# what must be refused, each answer checked.
in_im dstor-mctree --name t --block-size 4096 --peer "$EX_IP4:7420" --hostile "$IMG" \
	>"$W/probe" 2>&1
rc=$?
while read -r l; do ktap_note "$l"; done <"$W/probe"
ktap_check "every node served equals the specification's" \
	eval "[ $rc = 0 ] && grep -q '^tree served: .* all equal' $W/probe"
ktap_check "a stale generation is answered STALE" grep -q "^refused: another generation (status 13)" "$W/probe"
ktap_check "ranges off the tree are answered INVAL" \
	test "$(grep -c '^refused: .* (status 2)' "$W/probe")" = 4
ktap_check "TREE_FP of 0 nodes, or on a version 3 session: the session is closed" \
	test "$(grep -c '^refused: .* (connection closed)' "$W/probe")" = 2

ktap_check "an export without --tree offers none, and answers NOTSUPP" \
	eval "in_ex dstor export add plain --device $DEV2 --read-only --listen $EX_IP4:7420 &&
		! in_im dstor-mctree --name plain --block-size 4096 --peer $EX_IP4:7420 --hostile $IMG \
			>$W/plain 2>&1 && grep -q 'no tree offered' $W/plain &&
		[ \$(grep -c 'without a tree (status 4)' $W/plain) = 2 ]"
# The builder may not have run yet when the export goes (its memory is
# freed all the same: kmemleak on the debug kernel).
ktap_check "export del at once after export add --tree, five times" \
	eval 'in_ex dstor export del plain && (for i in 1 2 3 4 5; do
		in_ex dstor export add q --device $DEV2 --read-only --listen $EX_IP4:7420 --tree &&
		in_ex dstor export del q || exit 1; done)'
# A read-write export's tree is live: what an import writes is hashed
# again within a second or so and published as the next generation.
ktap_check "a read-write export with --tree: its tree is built" \
	eval 'in_ex dstor export add rw --device /dev/ram3 --listen $EX_IP4:7420 --tree --block-size 4K &&
		wait_for 120 eval "[[ \$(tshow rw .tree.root) =~ ^[0-9a-f]{64}\$ ]]"'
G1=$(tshow rw .tree.generation)
RW=$(in_im dstor import add rw --peer "$EX_IP4:7420")
for k in 10 11 12 1000 4095; do
	dd if=/dev/urandom of="$RW" bs=4k count=1 seek=$k oflag=direct status=none
done
# rw_root: the root dstor-mctree computes from the device as it is now.
rw_root() {
	dd if=/dev/ram3 of="$W/rw.img" bs=1M iflag=direct status=none &&
	dstor-mctree --name rw --block-size 4096 "$W/rw.img" | head -n 1
}
ktap_check "writes through an import: the next generation, its root the device's" \
	wait_for 30 eval '[ "$(tshow rw .tree.generation)" != "$G1" ] &&
		[ "$(tshow rw .tree.root)" = "$(rw_root)" ]'
in_im dstor import del "$RW"
in_ex dstor export del rw
ktap_check "the exporter still serves: the tree again" \
	eval "in_im dstor-mctree --name t --block-size 4096 --peer $EX_IP4:7420 $IMG | grep -q 'all equal'"

ktap_finish
