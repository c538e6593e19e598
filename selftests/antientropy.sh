#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dstor sync --peer --every / --scrub: periodic anti-entropy
# (Documentation/reconciliation.md, "Periodic rounds"). The sync keeps its
# target and tree after the first round and runs a round each interval;
# a round fetches only what changed, a failed round is reported and
# retried, and a scrub finds blocks changed behind the sync's back.
#
#  +-----------------------------+          +-----------------------------+
#  | netns ex-PID                |   veth   | netns im-PID                |
#  |  "g": 16 MiB, read-only,    +----------+  dstor sync g --peer ...    |
#  |   --tree 4K; deleted and    |          |   --every 10s --scrub 20s   |
#  |   added again with 8 blocks |          |   --target dm-linear over a |
#  |   changed                   |          |   loop device of r.img      |
#  +-----------------------------+          +-----------------------------+
#
# 1. first round: a replica with 20 stale blocks converges; --wait returns
#    and leaves the sync idle; `dstor monitor` reports the round;
# 2. the export goes away: the next round fails with its reason
#    (sync-failed) and the sync stays;
# 3. it comes back with 8 blocks changed: the next round fetches exactly
#    those 8 (sync-round: 8 repaired) and the replica equals it;
# 4. 5 blocks of the replica are overwritten below the dm-linear target:
#    the next scrub finds exactly those 5, repairs them, and says so;
# 5. a read-write export "w" (its tree live): 6 blocks written through an
#    import are exactly what the next rounds of its sync fetch;
# 6. bad --every / --scrub values are refused with one line; `sync del`
#    frees the target.
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd jq losetup sha256sum dmsetup dstor-stale

ktap_header
ktap_plan 24

BLOCKS=4096
W=$(mktemp -d /tmp/antientropy.XXXXXX)
DM=ae-$$
DEVS=()
MONPID=
ae_cleanup() {
	local d
	[ -z "$MONPID" ] || kill "$MONPID" 2>/dev/null
	dstor_down "$NS_IM" "$NS_EX"
	dmsetup remove "$DM" 2>/dev/null
	for d in "${DEVS[@]}"; do losetup -d "$d" 2>/dev/null; done
	rm -rf "$W"
}
at_exit ae_cleanup

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"

head -c $((BLOCKS * 4096)) /dev/urandom >"$W/g.img"
XDEV=$(losetup --find --show --read-only "$W/g.img")
cp "$W/g.img" "$W/r.img"
dstor-stale --block-size 4096 --count 20 --seed 1 "$W/r.img" >/dev/null
RDEV=$(losetup --find --show "$W/r.img")
DEVS=("$XDEV" "$RDEV")
gold() { sha256sum <"$W/g.img" | cut -d' ' -f1; }
target_sum() { sha256sum <"/dev/mapper/$DM" | cut -d' ' -f1; }
xshow() { in_ex dstor show --json | jq -r ".exports[] | select(.name == \"g\") | $1"; }
sync_json() { in_im dstor sync list --json | jq -r ".[] | select(.name == \"${2:-g}\") | $1"; }
# events JQ-FILTER: how many of the events received so far match it.
events() { jq -c "select(.event | startswith(\"sync\")) | select($1)" "$W/events" 2>/dev/null | wc -l; }
# seen N JQ-FILTER: at least N of them match.
seen() { [ "$(events "$2")" -ge "$1" ]; }
export_g() {
	in_ex dstor export add g --device "$XDEV" --read-only --listen "$EX_IP4:7420" --tree \
		--block-size 4K && wait_for 120 eval '[ "$(xshow .tree.blocks)" = $BLOCKS ]'
}

ktap_check "a read-only export with a tree" export_g
ktap_check "a dm-linear target over the stale replica" \
	eval "dmsetup create $DM --table '0 $((BLOCKS * 8)) linear $RDEV 0' &&
		dmsetup mknodes $DM && test -b /dev/mapper/$DM"

in_im dstor monitor --json >"$W/events" 2>&1 &
MONPID=$!
sleep 1

# 1. The first round.
if in_im dstor sync g --peer "$EX_IP4" --target "/dev/mapper/$DM" --every 10s --scrub 20s \
	--wait --json >"$W/first.json" 2>"$W/err"; then
	ktap_ok "the first round converges; --wait returns"
else
	ktap_fail "the first round converges; --wait returns" "$(cat "$W/err")"
fi
ktap_check "the replica equals the export (sha256)" test "$(target_sum)" = "$(gold)"
ktap_check "exactly the 20 stale blocks were fetched" \
	test "$(jq -r '[.stats.sync_received, .stats.sync_good] | join(" ")' "$W/first.json")" = \
	"20 $((BLOCKS - 20))"
ktap_check "the sync stays, idle, with its intervals" \
	test "$(sync_json '[.state, .every_seconds, .scrub_seconds] | join(" ")')" = "idle 10 20"
ktap_check "dstor monitor: sync-round, 20 repaired" \
	wait_for 5 seen 1 '.event == "sync-round" and .repaired == 20'
ktap_check "the next round finds them equal and fetches nothing" \
	eval 'wait_for 25 seen 1 ".event == \"sync-round\" and .repaired == 0" &&
		[ "$(sync_json .stats.sync_received)" = 20 ]'

# 2. The export goes away: rounds fail, with a reason, and are retried.
in_ex dstor export del g
ktap_check "without the export: sync-failed, with its reason" \
	wait_for 45 seen 1 '.event == "sync-failed" and (.reason | length) > 0'
ktap_check "the sync stays and shows why" \
	eval '[ "$(sync_json .state)" = idle ] && [ -n "$(sync_json .reason)" ]'

# 3. Back with 8 blocks changed: the next round fetches exactly those.
dstor-stale --block-size 4096 --count 8 --seed 2 "$W/g.img" >/dev/null
before=$(sync_json .stats.sync_received)
ktap_check "the export is back, 8 blocks changed" export_g
ktap_check "the next round: sync-round, 8 repaired" \
	wait_for 40 seen 1 '.event == "sync-round" and .repaired == 8'
ktap_check "the replica equals the changed export (sha256)" test "$(target_sum)" = "$(gold)"
ktap_check "exactly 8 more blocks received" \
	test "$(sync_json .stats.sync_received)" = $((before + 8))

# 4. Behind the sync's back, below dm-linear: only a scrub can see it.
#    A scrub may come while the five are being written (a starved debug
#    guest): the scrub rounds from here on must find 5 and repair 5 in all.
ktap_note "corrupting 5 blocks of $RDEV under /dev/mapper/$DM"
rounds0=$(events '.event == "sync-round"')
for k in 3 700 1500 2222 4095; do
	dd if=/dev/urandom of="$W/r.img" bs=4k count=1 seek=$k conv=notrunc status=none
done
# since0 FIELD: the sum of FIELD over the sync-round events after rounds0.
since0() {
	jq -s "[.[] | select(.event == \"sync-round\")] | .[$rounds0:] | map(.$1 // 0) | add // 0" \
		"$W/events" 2>/dev/null
}
ktap_check "a scrub finds the 5 corrupt blocks and repairs them" \
	wait_for 90 eval '[ "$(since0 corrupt)" = 5 ] && [ "$(since0 repaired)" = 5 ]'
ktap_check "the replica equals the export again (sha256)" test "$(target_sum)" = "$(gold)"
# The last round need not be the scrub's any more (another may have come
# since on a slow guest): the totals say what the scrubs found.
ktap_check "dstor show: rounds, repairs and what the scrubs found" \
	eval 'in_im dstor show | grep -Eq "rounds:.*every 10s, scrub every 20s.* 5 found corrupt by scrubs" &&
		in_im dstor show | grep -q "last round:" &&
		[ "$(sync_json .stats.sync_corrupt)" = 5 ]'

# 5. A read-write export's tree is live: blocks written through an import
#    between two rounds are exactly what the next rounds fetch.
head -c $((1024 * 4096)) /dev/urandom >"$W/w.img"
cp "$W/w.img" "$W/wr.img"
WDEV=$(losetup --find --show "$W/w.img")
WRDEV=$(losetup --find --show "$W/wr.img")
DEVS+=("$WDEV" "$WRDEV")
wtree() { in_ex dstor show --json | jq -r '.exports[] | select(.name == "w") | .tree.blocks'; }
ktap_check "a read-write export with a tree, synced every 10 s (nothing to fetch)" \
	eval 'in_ex dstor export add w --device $WDEV --listen $EX_IP4:7420 --tree --block-size 4K &&
		wait_for 120 eval "[ \"\$(wtree)\" = 1024 ]" &&
		in_im dstor sync w --peer $EX_IP4 --target $WRDEV --every 10s --wait >/dev/null &&
		[ "$(sync_json .stats.sync_received w)" = 0 ]'
WIMP=$(in_im dstor import add w --peer "$EX_IP4:7420")
for k in 0 1 2 511 800 1023; do
	dd if=/dev/urandom of="$WIMP" bs=4k count=1 seek=$k oflag=direct status=none
done
in_im dstor import del "$WIMP"
# w_repaired: the blocks the rounds of sync w repaired, in all.
w_repaired() {
	jq -s '[.[] | select(.name == "w" and .event == "sync-round") | .repaired] | add // 0' "$W/events"
}
ktap_check "writes through an import: the next rounds fetch exactly those 6 blocks" \
	eval 'wait_for 40 eval "[ \$(w_repaired) = 6 ]" && [ "$(sync_json .stats.sync_received w)" = 6 ]'
dsum() { dd if="$1" bs=1M iflag=direct status=none | sha256sum | cut -d' ' -f1; }
ktap_check "the replica equals the read-write export (sha256)" test "$(dsum "$WRDEV")" = "$(dsum "$WDEV")"
in_im dstor sync del "$(sync_json .index w)"
in_ex dstor export del w
kill "$MONPID"
MONPID=

# 6. Refusals, and the end.
# refused PATTERN ARGS...: dstor sync fails with one line matching PATTERN.
refused() {
	local pattern=$1
	shift
	if in_im dstor sync g --target "$RDEV" "$@" >"$W/out" 2>&1; then
		echo "# succeeded: $*"
		return 1
	elif [ "$(wc -l <"$W/out")" != 1 ] || ! grep -Eq "$pattern" "$W/out"; then
		echo "# $*: $(cat "$W/out")"
		return 1
	fi
}
ktap_check "refused: --every under 10 s, not a duration, with --mcast; --scrub without --every or under it" \
	eval 'refused "from 10 s" --peer $EX_IP4 --every 5s &&
		refused "not a duration" --peer $EX_IP4 --every 10x &&
		refused "go with --peer" --mcast lo --every 10s &&
		refused "goes with --every" --peer $EX_IP4 --scrub 1m &&
		refused "shorter than --every" --peer $EX_IP4 --every 1m --scrub 30s'
ktap_check "nothing was added" test "$(in_im dstor sync list --json | jq length)" = 1
ktap_check "sync del stops it and frees the target" \
	eval "in_im dstor sync del \$(sync_json .index) && dmsetup remove $DM"

ktap_finish
