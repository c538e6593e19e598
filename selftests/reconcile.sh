#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dstor sync --peer: a replica reconciled with an export over TCP
# (Documentation/reconciliation.md): only the differing parts of the two
# merkle trees are compared, only the differing blocks travel, every block
# is checked against the export's tree, and the replica ends identical.
#
#  +-----------------------------+          +-----------------------------+
#  | netns ex-PID                |   veth   | netns im-PID                |
#  |  "g": 64 MiB of random data |          |  dstor sync g --peer ...    |
#  |   read-only, --tree 4K      +----------+   --target a loop device:   |
#  |  "k": its first 16 MiB,     |          |   the export with d blocks  |
#  |   keyed; "p": no tree       |          |   changed                   |
#  +-----------------------------+          +-----------------------------+
#
# For d = 0.1%, 1% and 10% of the 16384 blocks, the exporter's bytes on
# the wire (TCP's count at the receiver) stay within the design's bound:
# 1.2 x the stale blocks' bytes plus (32 x 16 + 80) x ceil(log16 n) bytes
# of tree messages per stale block, plus 16 KiB for the handshake and
# TREE_INFO.
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd jq losetup sha256sum dstor-stale

ktap_header
ktap_plan 34

SIZE_MB=64
BLOCKS=16384
debug_kernel && { SIZE_MB=16; BLOCKS=4096; }
W=$(mktemp -d /tmp/reconcile.XXXXXX)
DEVS=()
rc_cleanup() {
	local d
	dstor_down "$NS_IM" "$NS_EX"
	for d in "${DEVS[@]}"; do losetup -d "$d" 2>/dev/null; done
	rm -rf "$W"
}
at_exit rc_cleanup

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"

head -c $((SIZE_MB << 20)) /dev/urandom >"$W/g.img"
# A block of zeros in every 64: scanned, not hashed, at both ends.
for k in $(seq 0 64 $((BLOCKS - 1))); do
	dd if=/dev/zero of="$W/g.img" bs=4k count=1 seek=$((k + 7)) conv=notrunc status=none
done
GOLD=$(sha256sum <"$W/g.img" | cut -d' ' -f1)
head -c $((16 << 20)) "$W/g.img" >"$W/k.img"
KGOLD=$(sha256sum <"$W/k.img" | cut -d' ' -f1)
XDEV=$(losetup --find --show --read-only "$W/g.img")
KDEV=$(losetup --find --show --read-only "$W/k.img")
PDEV=$(losetup --find --show --read-only "$W/k.img")
DEVS=("$XDEV" "$KDEV" "$PDEV")
head -c 32 /dev/urandom | base64 >"$W/key"
head -c 32 /dev/urandom | base64 >"$W/other"
chmod 600 "$W/key" "$W/other"

xshow() { in_ex dstor show --json | jq -r ".exports[] | select(.name == \"$1\") | $2"; }
ktap_check "exports with trees (plain and keyed) and one without" \
	eval "in_ex dstor export add g --device $XDEV --read-only --listen $EX_IP4:7420 --tree --block-size 4K &&
		in_ex dstor export add k --device $KDEV --read-only --listen $EX_IP4:7420 --tree --block-size 4K --key $W/key &&
		in_ex dstor export add p --device $PDEV --read-only --listen $EX_IP4:7420"
ktap_check "the trees are built" \
	wait_for 300 eval '[ "$(xshow g .tree.blocks)" = $BLOCKS ] && [ "$(xshow k .tree.blocks)" = 4096 ]'
ROOT=$(xshow g .tree.root)

# replica D [IMAGE]: IMAGE (the export g) with D random blocks (distinct)
# overwritten, on a loop device.
replica() {
	local f="$W/r.img" d=$1
	cp "${2:-$W/g.img}" "$f"
	dstor-stale --block-size 4096 --count "$d" --seed "$d" "$f" >"$W/stale" &&
	losetup --find --show "$f"
}

# sync_round PCT D: reconcile a replica with D stale blocks; check it.
sync_round() {
	local pct=$1 d=$2 t out bound wire
	t=$(replica "$d")
	DEVS+=("$t")
	out=$W/sync-$d.json
	if ! in_im dstor sync g --peer "$EX_IP4" --target "$t" --root "$ROOT" --wait --json \
		>"$out" 2>"$W/err"; then
		ktap_fail "d = $pct%: the sync succeeds" "$(cat "$W/err")"
		ktap_fail "d = $pct%: the replica equals the export (sha256)"
		ktap_fail "d = $pct%: $d blocks received, the rest found good"
		ktap_fail "d = $pct%: bytes on the wire within the bound"
		losetup -d "$t"
		return
	fi
	ktap_ok "d = $pct%: the sync succeeds"
	ktap_check "d = $pct%: the replica equals the export (sha256)" \
		test "$(sha256sum <"$t" | cut -d' ' -f1)" = "$GOLD"
	ktap_check "d = $pct%: $d blocks received, the rest found good" \
		test "$(jq -r '[.stats.sync_received, .stats.sync_verified, .stats.sync_good] | join(" ")' "$out")" = \
		"$d $d $((BLOCKS - d))"
	wire=$(jq -r .stats.sync_wire_bytes "$out")
	# ceil(log16 n) steps of four levels: 4 for 16384 blocks, 3 for 4096
	local steps=4
	[ "$BLOCKS" -gt 4096 ] || steps=3
	bound=$((d * 4096 * 12 / 10 + (32 * 16 + 80) * steps * d + 16384))
	ktap_note "d = $pct% ($d blocks): $wire bytes on the wire (bound $bound), $(jq -r .stats.sync_tree_hashes "$out") hashes, $(jq -r .stats.sync_requests "$out") requests, $(jq -r .elapsed_ms "$out") ms"
	ktap_check "d = $pct%: bytes on the wire within the bound" test "$wire" -le "$bound"
	losetup -d "$t"
}
sync_round 0.1 $((BLOCKS / 1000))
sync_round 1 $((BLOCKS / 100))
# The debug kernel (KASAN, lockdep, kmemleak) runs the same code paths at 1%.
if debug_kernel; then
	for i in 1 2 3 4; do ktap_skip "d = 10%: case $i of 4" "debug kernel: sizes cut"; done
else
	sync_round 10 $((BLOCKS / 10))
fi

# A sealed, keyed sync of the keyed export.
t=$(replica 41 "$W/k.img")
DEVS+=("$t")
ktap_check "keyed export: a sync with its key succeeds, sealed" \
	eval "in_im dstor sync k --peer $EX_IP4 --target $t --key $W/key --wait >$W/out 2>&1 &&
		[ \"\$(sha256sum <$t | cut -d' ' -f1)\" = $KGOLD ]"

# Refusals: each one line, nothing written to the target.
cp "$W/k.img" "$W/n.img"
dd if=/dev/urandom of="$W/n.img" bs=4k count=1 seek=5 conv=notrunc status=none
n=$(losetup --find --show "$W/n.img")
DEVS+=("$n")
NSUM=$(sha256sum <"$n" | cut -d' ' -f1)
# refused NAME PATTERN ARGS...: the sync fails, says PATTERN, and the target is unchanged.
refused() {
	local what=$1 pattern=$2
	shift 2
	if in_im dstor sync "$@" --target "$n" --wait >"$W/out" 2>&1; then
		ktap_fail "$what" "succeeded"
	elif ! grep -Eq "$pattern" "$W/out"; then
		ktap_fail "$what" "said: $(cat "$W/out")"
	elif [ "$(sha256sum <"$n" | cut -d' ' -f1)" != "$NSUM" ]; then
		ktap_fail "$what" "the target changed"
	else
		ktap_note "$what: $(tail -n 1 "$W/out")"
		ktap_ok "$what"
	fi
}
refused "the wrong key" "key" k --peer "$EX_IP4" --key "$W/other"
refused "a keyed export without the key" "key" k --peer "$EX_IP4"
refused "an unknown export" "no export|no such export" nope --peer "$EX_IP4"
refused "an export without a tree" "no tree" p --peer "$EX_IP4"
refused "another root pinned" "root" g --peer "$EX_IP4" --root "$(printf '%064d' 0)"
refused "nobody listening" "refused|reach" g --peer "$EX_IP4:7421"
# A hostile exporter (dstor-mctree --serve): every forgery ends the sync
# with its reason, and the target keeps only verified blocks: none here.
head -c $((4 << 20)) "$W/g.img" >"$W/h.img"
forged() { # WHAT PATTERN
	local port=$((7500 + RANDOM % 400))
	in_ex dstor-mctree --name h --block-size 4096 --serve "$EX_IP4:$port" --forge "$1" \
		"$W/h.img" >"$W/serve" 2>&1 &
	wait_for 30 grep -q serving "$W/serve"
	refused "a hostile exporter forging $1" "$2" h --peer "$EX_IP4:$port"
	kill $! 2>/dev/null
	wait $! 2>/dev/null
}
forged node "does not hash up to its root"
forged gen "another tree"
forged len "protocol error"
forged handle "protocol error"
forged data "does not match its tree"

# The export's device written behind dstor's back (its loop file): a sync
# that fetches a changed block finds it matching no leaf, and fails so;
# `export rehash` reads the device again into a new generation, whose
# root is the one dstor-mctree computes, and the next sync converges.
printf '%s\n' 3 1000 $((BLOCKS - 2)) >"$W/behind"
cp "$W/g.img" "$W/r.img"
while read -r k; do
	dd if=/dev/urandom of="$W/g.img" bs=4k count=1 seek="$k" conv=notrunc status=none
	dd if=/dev/urandom of="$W/r.img" bs=4k count=1 seek="$k" conv=notrunc status=none
done <"$W/behind"
GOLD2=$(sha256sum <"$W/g.img" | cut -d' ' -f1)
t=$(losetup --find --show "$W/r.img")
DEVS+=("$t")
if in_im dstor sync g --peer "$EX_IP4" --target "$t" --wait >"$W/out" 2>&1; then
	ktap_fail "written behind dstor's back: the sync fails and says so" "succeeded"
else
	ktap_check "written behind dstor's back: the sync fails and says so" \
		grep -q "behind dstor's back" "$W/out"
fi
gen=$(xshow g .tree.generation)
ktap_check "export rehash: a new generation, its root dstor-mctree's of the changed image" \
	eval 'in_ex dstor export rehash g &&
		wait_for 120 eval "[ \"\$(xshow g .tree.generation)\" != $gen ] && [ \"\$(xshow g .tree.built_permille)\" = 1000 ]" &&
		[ "$(xshow g .tree.root)" = "$(dstor-mctree --name g --block-size 4096 $W/g.img | head -n 1)" ]'
ktap_check "then the sync converges: the replica equals the changed export (sha256)" \
	eval 'in_im dstor sync g --peer $EX_IP4 --target $t --wait >$W/out 2>&1 &&
		[ "$(sha256sum <$t | cut -d" " -f1)" = $GOLD2 ]'
# rehash_refused PATTERN NAME: one line matching PATTERN, exit non-zero.
rehash_refused() {
	! in_ex dstor export rehash "$2" >"$W/out" 2>&1 && [ "$(wc -l <"$W/out")" = 1 ] &&
		grep -Eq "$1" "$W/out" || { echo "# $2: $(cat "$W/out")"; return 1; }
}
ktap_check "export rehash refused: an unknown export, one without a tree" \
	eval 'rehash_refused "no export|no such export" nope && rehash_refused "no tree" p'
ktap_check "--peer and --mcast together with --every: a usage error" \
	eval "! in_im dstor sync g --peer $EX_IP4 --mcast eth0 --every 1m --target $n 2>$W/err && grep -q 'peer alone' $W/err"
ktap_check "a malformed --peer: a usage error" \
	eval "! in_im dstor sync g --peer 192.0.2.1:99999 --target $n 2>$W/err && grep -q -- '--peer' $W/err"
ktap_check "no syncs left behind" test "$(in_im dstor sync list --json | jq length)" = 0

ktap_finish
