#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Multicast serving: one exporter, eight receivers on a bridge.
#
#                         root namespace: bridge br-PID (MLD snooping on)
#        +-------------------+-----------+-- ... --+-------------+
#        |                   |           |         |             |
#  +-----+------+      +-----+----+ +----+-----+ +-+--------+
#  | mx-PID     |      | mr1-PID  | | mr2-PID  | | mr8-PID  |   receivers:
#  | exporter   |      | eth0     | | eth0     | | eth0     |   dstor sync into
#  | eth0       |      | loop dev | | loop dev | | loop dev |   a loop device
#  | "golden"   |      +----------+ +----------+ +----------+
#  +------------+
#  The export: an 8 MiB loop device of random data with every 64th block
#  zeros, 16 KiB blocks, read-only, --mcast eth0 --querier. For the
#  foreign-query cases, a second one ("plain": 1 MiB, not querier).
#
#  dstor objects live in the network namespace they were added from (only
#  that one lists or deletes them): the exports are handled with in_x,
#  receiver I's syncs with in_r I.
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd jq losetup sha256sum dmsetup

ktap_header
ktap_plan 84

SIZE_MB=8
# The debug kernel (KASAN, lockdep, kmemleak) is several times slower.
debug_kernel && SIZE_MB=4
BS=16K
BLOCKS=$((SIZE_MB * 1024 / 16))
NR=8
W=$(mktemp -d /tmp/mcast.XXXXXX)
# sleep_until US: sleep until the clock of _now_us reaches US (at once if
# it already has).
sleep_until() {
	local d=$(($1 - $(_now_us)))
	[ $d -le 0 ] || sleep "$((d / 1000000)).$(printf %06d $((d % 1000000)))"
}

rx_syncs() { mc_all_syncs $(seq 0 $NR); } # every receiver's
# sget I IDX FILTER: FILTER of sync IDX, in receiver I's namespace.
sget() { in_r "$1" dstor sync list --json | jq -r ".[] | select(.index == $2) | $3"; }

mc_cleanup() {
	mc_syncs_del $(seq 0 $NR)
	in_x dstor export del golden
	in_x dstor export del sealed
	in_x dstor export del small
	in_x dstor export del plain
	in_x dstor export del v2
	dmsetup remove "seederr-$$" 2>/dev/null
	dmsetup resume "seedhang-$$" 2>/dev/null
	dmsetup remove "seedhang-$$" 2>/dev/null
	losetup -D
	rm -rf "$W"
}
at_exit mc_cleanup

ktap_check "bridge with the exporter and $((NR + 1)) receiver hosts" mc_topology $NR ||
	ktap_skip_all "no bridge/namespaces"

# --- the export ---------------------------------------------------------------------
head -c $((SIZE_MB << 20)) /dev/urandom >"$W/golden.img"
# Blocks of zeros have one leaf wherever they are (merkle.c): an empty
# target holds these already.
ZB=$((BLOCKS / 64))
for k in $(seq 0 $((ZB - 1))); do
	dd if=/dev/zero of="$W/golden.img" bs=16k count=1 seek=$((k * 64 + 3)) conv=notrunc status=none
done
XDEV=$(losetup --find --show --read-only "$W/golden.img")
GOLD=$(sha256sum <"$W/golden.img" | cut -d' ' -f1)
xshow() { in_x dstor show --json | jq -r ".exports[] | select(.name == \"golden\") | $1"; }
ktap_check "read-only multicast export" \
	in_x dstor export add golden --device "$XDEV" --read-only --mcast eth0 \
	--block-size $BS --querier --rate 40M
ktap_check "the tree is built (state serving)" wait_for 120 eval '[ "$(xshow .mcast.state)" = serving ]'
ktap_check "it has $BLOCKS blocks and a root" \
	eval "[ \"\$(xshow .mcast.blocks)\" = $BLOCKS ] && [[ \$(xshow .mcast.root) =~ ^[0-9a-f]{64}\$ ]]"
# The root from Documentation/multicast.md's definitions, computed apart
# from the module with OpenSSL (dstor-mctree): the module hashes what the
# document says.
spec_root() { # IMAGE NAME [KEYFILE]
	dstor-mctree --name "$2" --block-size 16384 ${3:+--key "$3"} "$1" | head -n 1
}
if command -v dstor-mctree >/dev/null; then
	ktap_check "the root is the specification's (dstor-mctree)" \
		eval '[ "$(xshow .mcast.root)" = "$(spec_root "$W/golden.img" golden)" ]'
else
	ktap_skip "the root is the specification's (dstor-mctree)" "dstor-mctree not in the guest"
fi
ktap_check "the same tree is published for TCP peers (show .tree)" \
	eval '[ "$(xshow .tree.root)" = "$(xshow .mcast.root)" ] && [ "$(xshow .tree.blocks)" = $BLOCKS ]'
ktap_check "multicast needs a read-only export" \
	eval "! in_x dstor export add rw --device /dev/ram1 --mcast eth0 2>$W/err && grep -qi read-only $W/err"

# mk_images: the files of later cases, made in the 10 s the export must
# stay silent with no listener (instead of sleeping through them): the
# stale targets' image (the export with ~1% of its blocks changed), and
# for the A/B update version 1 and version 2 of an image and a seed
# smaller than a block.
H=$((BLOCKS / 2)) ROT=37 CH=$((BLOCKS / 20))
mk_images() {
	local k
	cp "$W/golden.img" "$W/stale.img"
	for k in $(seq 1 $((BLOCKS / 100))); do
		dd if=/dev/urandom of="$W/stale.img" bs=16k count=1 seek=$(((k * 7919) % BLOCKS)) \
			conv=notrunc status=none
	done
	head -c $((SIZE_MB << 20)) /dev/urandom >"$W/v1.img"
	cp "$W/v1.img" "$W/v2.img"
	dd if="$W/v1.img" of="$W/v2.img" bs=16k skip=$ROT count=$((H - ROT)) conv=notrunc status=none
	dd if="$W/v1.img" of="$W/v2.img" bs=16k seek=$((H - ROT)) count=$ROT conv=notrunc status=none
	for k in $(seq 1 $CH); do
		dd if=/dev/urandom of="$W/v2.img" bs=16k count=1 seek=$(((k * 7919) % BLOCKS)) \
			conv=notrunc status=none
	done
	head -c 4096 /dev/urandom >"$W/tiny.seed"
}

# --- no listener, no traffic ----------------------------------------------------------
txb() { cat "/sys/class/net/v-$NS_X/statistics/rx_bytes"; } # what the exporter sent
p0=$(xshow .stats.mc_packets) b0=$(txb)
t0=$(_now_us)
# Meanwhile the images of later cases (files only: nothing on the link).
mk_images
sleep_until $((t0 + 10000000))
p1=$(xshow .stats.mc_packets) b1=$(txb)
ktap_note "no receiver for 10 s: $((p1 - p0)) data packets, $((b1 - b0)) bytes on the exporter's link (queries only)"
ktap_check "no receiver: no data packets for 10 s" test "$p1" = "$p0"
ktap_check "no receiver: under 4 KiB on the link in 10 s" test $((b1 - b0)) -lt 4096

# --- targets ----------------------------------------------------------------------------
# mk_target N KIND: a loop device in /tmp: empty (zeros), or the export with
# ~1% of its blocks changed (stale: a copy of mk_images's stale.img; the
# same blocks differ for every receiver, as they always did).
mk_target() {
	local f="$W/t$1.img"
	rm -f "$f"
	case $2 in
	empty) truncate -s ${SIZE_MB}M "$f" ;;
	stale) cp "$W/stale.img" "$f" ;;
	esac
	losetup --find --show "$f"
}
same_as_golden() { sha256_is "$GOLD" "$1"; }

# sync_all KIND I...: sync receivers I... at once, wait for all; each leaves
# its summary in $W/sync.I.{out,err,json}.
#
# "At once" means they join together: under emulation, starting eight
# processes one after another spreads them over seconds, and a carousel
# that starts serving at the first join sends the part of a round the last
# one missed again. So the exporter hears nothing until every sync waits
# for the announcement (mc_hold, mc_release in lib.sh).
sync_all() {
	local kind=$1 i pids=() rc=0
	shift
	for i in "$@"; do
		mk_target "$i" "$kind" >"$W/dev.$i" || return 1
	done
	mc_hold
	for i in "$@"; do
		in_r "$i" timeout 240 dstor sync golden --mcast eth0 --target "$(cat "$W/dev.$i")" \
			--wait >"$W/sync.$i.out" 2>"$W/sync.$i.err" &
		pids+=($!)
	done
	mc_release golden "$@"
	for i in "${pids[@]}"; do
		wait "$i" || rc=1
	done
	# Every sync has left its groups (sync_release) before it is done.
	SYNC_END=$(_now_us)
	[ $rc = 0 ] || for i in "$@"; do
		echo "# receiver $i: $(tail -n 2 "$W/sync.$i.out" "$W/sync.$i.err" | tr '\n' ' ')"
	done
	return $rc
}
check_all() { mc_same "$GOLD" "$@"; } # I...: every target equals the export
detach_all() {
	local i
	for i in "$@"; do
		losetup -d "$(cat "$W/dev.$i")"
		rm -f "$W/t$i.img"
	done
}
# idle: wait until the exporter serves nobody (the leaves of the last
# receivers answered), before the next receivers come.
idle() { wait_for 10 eval '[ "$(xshow .mcast.listened)" = 0 ]' || echo "# the export is still listened"; }
# Bytes of data receiver I got, from its --wait summary ("bytes received N").
rx_bytes() { sed -n 's/.*bytes received \([0-9]*\).*/\1/p' "$W/sync.$1.out" | tail -n 1; }

# --- one receiver alone, then eight together ----------------------------------------------
m0=$(xshow .stats.mc_bytes)
ktap_check "one receiver with an empty target syncs" sync_all empty 0
ktap_check "its target is identical to the export" check_all 0
zgood=$(sed -n 's/.*already good \([0-9]*\).*/\1/p' "$W/sync.0.out" | tail -n 1)
ktap_note "empty target: ${zgood:-?} blocks already good (the export has $ZB blocks of zeros)"
ktap_check "an empty target already holds the export's $ZB blocks of zeros" test "${zgood:-x}" = $ZB
m1=$(xshow .stats.mc_bytes)
one=$((m1 - m0))
detach_all 0
ktap_note "exporter sent $one bytes for one receiver (export: $((SIZE_MB << 20)) bytes)"
# quiet_after_leave US: from 2 s after the last listener left (its MLD
# leave, the querier's question, 500 ms), nothing goes out for 5 s. US:
# when it had left (_now_us), at the latest.
quiet_after_leave() {
	local p0 p1
	sleep_until $(($1 + 2000000))
	p0=$(xshow .stats.mc_packets)
	sleep 5
	p1=$(xshow .stats.mc_packets)
	[ "$p1" = "$p0" ] || { echo "# $((p1 - p0)) packets sent after the last leave"; return 1; }
}
ktap_check "the receiver done and gone: no packets from 2 s after its leave" quiet_after_leave "$SYNC_END"

m1=$(xshow .stats.mc_bytes)
ktap_check "$NR receivers with empty targets sync at once" sync_all empty $(seq 1 $NR)
ktap_check "all $NR targets are identical to the export" check_all $(seq 1 $NR)
m2=$(xshow .stats.mc_bytes)
eight=$((m2 - m1))
ktap_note "exporter sent $eight bytes for $NR receivers together ($(awk -v a=$eight -v b=$one 'BEGIN { printf "%.2f", a / b }')x one)"
ktap_check "scale: $NR together cost at most 1.5x one" \
	eval "[ $one -gt 0 ] && [ $((eight * 2)) -le $((one * 3)) ]"
detach_all $(seq 1 $NR)
idle

# --- stale receivers fetch only what differs --------------------------------------------------
ktap_check "$NR receivers with ~1% stale blocks sync" sync_all stale $(seq 1 $NR)
ktap_check "all $NR are identical to the export" check_all $(seq 1 $NR)
over=''
for i in $(seq 1 $NR); do
	b=$(rx_bytes "$i")
	ktap_note "stale receiver $i received ${b:-?} bytes ($(awk -v a="${b:-0}" -v b=$((SIZE_MB << 20)) 'BEGIN { printf "%.2f%%", 100 * a / b }'))"
	[ -n "$b" ] && [ "$b" -le $(((SIZE_MB << 20) * 3 / 100)) ] || over="$over $i"
done
ktap_check "stale receivers received at most 3% of the export" test -z "$over"
detach_all $(seq 1 $NR)
idle

# --- loss ---------------------------------------------------------------------------------------
for i in 1 2; do
	tc qdisc add dev "v-$(rx_ns $i)" root netem loss 5%
done
ktap_check "5% loss on two receivers' links: both sync" sync_all empty 1 2
ktap_check "and both targets are identical to the export" check_all 1 2
for i in 1 2; do
	tc qdisc del dev "v-$(rx_ns $i)" root
done
detach_all 1 2
idle

# --- forgery --------------------------------------------------------------------------------------
if command -v dstor-mcforge >/dev/null; then
	dev=$(mk_target 3 empty)
	echo "$dev" >"$W/dev.3"
	# Not through in_r: $! must be the forger itself, not a subshell.
	ip netns exec "$(rx_ns 4)" dstor-mcforge --iface eth0 --name golden --seconds 600 \
		>/dev/null 2>"$W/forge.err" &
	forger=$!
	sleep 2
	in_r 3 dstor sync golden --mcast eth0 --target "$dev" >"$W/idx3" 2>&1
	idx=$(cat "$W/idx3")
	ktap_check "forged packets: the sync still finishes" \
		wait_for 240 eval '[ "$(sget 3 $idx .state)" = done ] || [ "$(sget 3 $idx .state)" = failed ]'
	ktap_check "forged packets: the target is identical to the export" \
		eval "[ \"\$(sget 3 $idx .state)\" = done ] && same_as_golden $dev"
	ktap_note "forged: $(sget 3 "$idx" '.stats | "packets dropped \(.sync_packets_bad), blocks with a bad hash \(.sync_hash_bad)"')"
	ktap_check "forged packets were dropped and counted" \
		test "$(sget 3 "$idx" '.stats.sync_packets_bad + .stats.sync_hash_bad')" -gt 0
	kill $forger
	wait $forger 2>/dev/null
	in_r 3 dstor sync del "$idx"
	detach_all 3
else
	for c in "forged packets: the sync still finishes" \
		"forged packets: the target is identical to the export" \
		"forged packets were dropped and counted"; do
		ktap_skip "$c" "dstor-mcforge not in the guest"
	done
fi

# --- bad input, network namespaces -------------------------------------------------------
# bad_input_and_netns: cases of their own (refused commands; a sync in
# another namespace, pinned to a root nobody serves). Nothing of theirs
# goes to the groups of the export "plain" below, so they run in the 25 s
# that its join must last (or, without dstor-mldforge, after the hostile
# MLD cases).
bad_input_and_netns() {
	# --- bad input ---------------------------------------------------------------------------------
	# refused PATTERN CMD...: CMD fails with one message matching PATTERN, and
	# no sync or export came or went. The syncs refused below would have been
	# receiver 1's.
	counts() { echo "$(mc_all_syncs 1 | jq length) $(in_x dstor show --json | jq '.exports | length')"; }
	refused() {
		local pat=$1 c0
		shift
		c0=$(counts)
		if "$@" >"$W/refused" 2>&1; then
			echo "# accepted: $*"
			return 1
		fi
		echo "# $(head -n 1 "$W/refused")"
		grep -Eqi -- "$pat" "$W/refused" && [ "$(counts)" = "$c0" ]
	}
	truncate -s 4M "$W/e.img"
	edev=$(losetup --find --show "$W/e.img")
	erodev=$(losetup --find --show --read-only "$W/e.img")
	ktap_check "sync to a missing target is refused" \
		refused 'target' in_r 1 dstor sync golden --mcast eth0 --target /dev/nonexistent
	ktap_check "sync to a regular file is refused" \
		refused 'block device|target' in_r 1 dstor sync golden --mcast eth0 --target "$W/e.img"
	ktap_check "sync to a read-only device is refused" \
		refused 'read-only' in_r 1 dstor sync golden --mcast eth0 --target "$erodev"
	mkfs.ext4 -q -F "$edev" >/dev/null 2>&1 && mkdir -p "$W/mnt" && mount "$edev" "$W/mnt"
	ktap_check "sync to a mounted device is refused" \
		refused 'in use|busy' in_r 1 dstor sync golden --mcast eth0 --target "$edev"
	umount "$W/mnt"
	idx=$(in_r 1 dstor sync nosuch --mcast eth0 --target "$edev")
	ktap_check "a second sync to the same target is refused" \
		refused 'already' in_r 1 dstor sync golden --mcast eth0 --target "$edev"
	in_r 1 dstor sync del "$idx"
	ktap_check "sync on a missing interface is refused" \
		refused 'interface|nosuch0' in_r 1 dstor sync golden --mcast nosuch0 --target "$edev"
	ktap_check "sync --root that is not a root is refused" \
		refused 'root' in_r 1 dstor sync golden --mcast eth0 --target "$edev" --root 12ab
	Z0=$(printf '%064d' 0)
	ktap_check "sync --seed without --key or --root is refused" \
		refused 'seed.*(key|root)' in_r 1 dstor sync golden --mcast eth0 --target "$edev" --seed "$W/tiny.seed"
	ktap_check "sync --seed that does not exist is refused" \
		refused 'seed.*(no such|cannot open)' in_r 1 dstor sync golden --mcast eth0 --root $Z0 --target "$edev" --seed /nonexistent
	ktap_check "sync --seed on the target itself is refused" \
		refused 'seed.*target itself' in_r 1 dstor sync golden --mcast eth0 --root $Z0 --target "$edev" --seed "$edev"
	ktap_check "sync --seed smaller than a block is refused" \
		eval "head -c 1024 /dev/zero >$W/small.seed &&
		      refused 'seed.*too few' in_r 1 dstor sync golden --mcast eth0 --root $Z0 --target $edev --seed $W/small.seed"
	ktap_check "sync --seed on a directory is refused" \
		refused 'seed.*not a block device or regular file' in_r 1 dstor sync golden --mcast eth0 --root $Z0 --target "$edev" --seed "$W"
	truncate -s 4M "$W/m.img"
	mdev=$(losetup --find --show "$W/m.img")
	mkfs.ext4 -q -F "$mdev" >/dev/null 2>&1 && mount "$mdev" "$W/mnt"
	ktap_check "sync --seed on a device mounted read-write is refused" \
		refused 'seed.*mounted read-write' in_r 1 dstor sync golden --mcast eth0 --root $Z0 --target "$edev" --seed "$mdev"
	umount "$W/mnt"
	losetup -d "$mdev"
	rm -f "$W/m.img"
	ktap_check "export --mcast with a block size that is not a power of two is refused" \
		refused 'block.size' in_x dstor export add bad --device "$erodev" --read-only --mcast eth0 --block-size 12K
	truncate -s 512M "$W/big.img"
	bigdev=$(losetup --find --show --read-only "$W/big.img")
	ktap_check "export --mcast with more than 65536 blocks is refused" \
		refused 'block' in_x dstor export add bad --device "$bigdev" --read-only --mcast eth0 --block-size 4K
	ktap_check "export --mcast with a rate of 0 is refused" \
		refused 'rate' in_x dstor export add bad --device "$erodev" --read-only --mcast eth0 --rate 0
	losetup -d "$bigdev" "$erodev" "$edev"

	# --- network namespaces -----------------------------------------------------------------------
	# A sync belongs to the namespace it was added from: other namespaces do not
	# list it and cannot delete it. Its target is the machine's: no other sync
	# may take it, from any namespace. Deleting the namespace stops the sync and
	# frees the target. The sync here is pinned to a root nobody serves, so it
	# takes nothing meanwhile.
	NS_Z=mz-$$
	at_exit ns_del "$NS_Z"
	zero_root=$(printf '%064d' 0)
	truncate -s 4M "$W/z.img"
	zdev=$(losetup --find --show "$W/z.img")
	zidx=''
	mc_add_host "$NS_Z" 198.51.100.99 &&
		zidx=$(ip netns exec "$NS_Z" dstor sync golden --mcast eth0 --target "$zdev" --root "$zero_root")
	zcount() { ip netns exec "$NS_Z" dstor sync list --json | jq "[.[] | select(.index == ${zidx:-0})] | length"; }
	ktap_check "namespaces: a sync is listed in its own namespace" \
		eval "[ -n \"$zidx\" ] && [ \"\$(zcount)\" = 1 ]"
	ktap_check "namespaces: and in no other" \
		eval "[ \"\$(rx_syncs | jq '[.[] | select(.index == ${zidx:-0})] | length')\" = 0 ] &&
		      [ \"\$(dstor sync list --json | jq length)\" = 0 ]"
	ktap_check "namespaces: another namespace cannot delete it" \
		eval "! in_r 1 dstor sync del ${zidx:-0} >$W/zdel 2>&1 && grep -qi 'no such sync' $W/zdel && [ \"\$(zcount)\" = 1 ]"
	ktap_check "namespaces: nor sync its target" \
		refused 'already' in_r 1 dstor sync golden --mcast eth0 --target "$zdev" --root "$zero_root"
	# A target is free again once nobody holds it: the namespace goes in the
	# background.
	zfree() { in_r 1 dstor sync golden --mcast eth0 --target "$zdev" --root "$zero_root" >"$W/zidx" 2>&1; }
	ktap_check "namespaces: deleting a sync's namespace stops it and frees its target" \
		eval "ns_del $NS_Z && wait_for 30 zfree && dmesg | grep -q 'sync golden: its network namespace is going away'"
	[ -s "$W/zidx" ] && in_r 1 dstor sync del "$(cat "$W/zidx")"
	losetup -d "$zdev"
}

# --- hostile MLD -------------------------------------------------------------------------------
# Straight onto the exporter's link, out of its bridge port: the snooping
# bridge would drop malformed MLD before it reached anybody. The forger's
# last frame leaves the announce group it churned on.
MLD_CASES=("hostile MLD: the malformed reports counted, no valid one"
	"hostile MLD: no packets from 2 s after the forger's leave")
MLD_DEFECTS="routed global-src no-ra"
for d in $MLD_DEFECTS; do
	MLD_CASES+=("MLD joins $d: counted in mld_bad, nothing listened, nothing sent")
done
MLD_CASES+=("a valid MLD join of the export's channels is served"
	"and its leave stops them"
	"the same join from :: (a host without an address) is served"
	"and its leave stops them"
	"an export that is not querier"
	"queries routed, from off the link, without Router Alert, from :: counted in mld_bad"
	"after them a join still counts 25 s later (default interval, 260 s)"
	"after a valid query asking for a 1 s interval a join still counts 10 s later"
	"and it ends by 21 s (the shortest interval a query may set)"
	"export del of the export that is not querier"
	"after hostile MLD a receiver syncs, identical to the export")
if command -v dstor-mldforge >/dev/null; then
	mldforge() { dstor-mldforge --iface "v-$NS_X" "$@" 2>>"$W/mld.err"; }
	k0=$(xshow .stats.mld_bad)
	out=$(mldforge --name golden --count 3000 --rate 3000)
	rc=$?
	left=$(_now_us)
	k1=$(xshow .stats.mld_bad)
	read -r _ sent _ reps _ _ _ bad <<<"$out"
	ktap_note "hostile MLD: sent ${sent:-?} frames, ${reps:-?} reports, ${bad:-?} malformed; the exporter counted $((k1 - k0)) malformed"
	ktap_check "${MLD_CASES[0]}" \
		eval "[ $rc = 0 ] && [ ${bad:-0} -gt 0 ] && [ $((k1 - k0)) -le ${bad:-0} ] &&
		      [ $((k1 - k0)) -ge $((${bad:-0} - ${bad:-0} / 20)) ]"
	ktap_check "${MLD_CASES[1]}" quiet_after_leave "$left"

	# Joins of real channels of the export (its announce and tree groups
	# and its top channel, MLDv2 and MLDv1), each with one thing that says
	# it did not come from the link for MLD: hop limit 255, a global source
	# address, no Router Alert. None may make a group listened; each one
	# counts in mld_bad. Slowly, so that the counts are exact.
	gtree=(--name golden --epoch "0x$(xshow .mcast.epoch)" --root "$(xshow .mcast.root)" --blocks "$BLOCKS")
	c=2
	for d in $MLD_DEFECTS; do
		k0=$(xshow .stats.mld_bad) p0=$(xshow .stats.mc_packets)
		out=$(mldforge "${gtree[@]}" --kind join,join-v1 --defect "$d" --count 10 --rate 100)
		rc=$?
		sleep 2
		read -r _ _ _ _ _ _ _ bad <<<"$out"
		dk=$(($(xshow .stats.mld_bad) - k0)) dp=$(($(xshow .stats.mc_packets) - p0)) l=$(xshow .mcast.listened)
		ktap_note "MLD joins $d: ${bad:-?} sent, mld_bad +$dk, groups listened $l, data packets +$dp"
		ktap_check "${MLD_CASES[c]}" \
			eval "[ $rc = 0 ] && [ '${bad:-}' = 10 ] && [ $dk = 10 ] && [ $l = 0 ] && [ $dp = 0 ]"
		c=$((c + 1))
	done
	# The same join with nothing wrong, from a link-local address or from
	# ::, does start the carousel, and its leave stops it.
	quiet_now() {
		local p0
		wait_for 10 eval '[ "$(xshow .mcast.listened)" = 0 ]' || { echo "# still listened"; return 1; }
		p0=$(xshow .stats.mc_packets)
		sleep 2
		[ "$(xshow .stats.mc_packets)" = "$p0" ] || { echo "# still sending"; return 1; }
	}
	for d in none unspec-src; do
		p0=$(xshow .stats.mc_packets)
		mldforge "${gtree[@]}" --kind join --defect $d --count 1 >/dev/null
		ktap_check "${MLD_CASES[c]}" \
			wait_for 10 eval '[ "$(xshow .mcast.listened)" = 3 ] && [ "$(xshow .stats.mc_packets)" -gt $p0 ]'
		mldforge "${gtree[@]}" --kind leave --defect $d --count 1 >/dev/null
		ktap_check "${MLD_CASES[c + 1]}" quiet_now
		c=$((c + 2))
	done

	# Foreign queries, on an export that is not querier: it takes the
	# listener interval from the link's queries. Those from off the link
	# (or from ::) count in mld_bad and change nothing; a valid one moves it
	# only within 21 s .. 260 s. Each defect's last query asks for 1 s: had
	# it been believed, a report would count for 21 s at most.
	head -c $((1 << 20)) /dev/urandom >"$W/plain.img"
	PDEV=$(losetup --find --show --read-only "$W/plain.img")
	pshow() { in_x dstor show --json | jq -r ".exports[] | select(.name == \"plain\") | $1"; }
	ktap_check "${MLD_CASES[c]}" \
		eval 'in_x dstor export add plain --device "$PDEV" --read-only --mcast eth0 --block-size 16K --rate 1M &&
		      wait_for 60 eval "[ \"\$(pshow .mcast.state)\" = serving ]"'
	ptree=(--name plain --epoch "0x$(pshow .mcast.epoch)" --root "$(pshow .mcast.root)" --blocks 64)
	k0=$(pshow .stats.mld_bad)
	for d in routed global-src no-ra unspec-src; do
		mldforge "${ptree[@]}" --kind query-huge,query-small --defect $d --count 2 --rate 100 >/dev/null
	done
	sleep 1
	dk=$(($(pshow .stats.mld_bad) - k0))
	ktap_note "8 queries routed, from off the link, without Router Alert or from ::: mld_bad +$dk"
	ktap_check "${MLD_CASES[c + 1]}" test $dk = 8
	mldforge "${ptree[@]}" --kind join --count 1 >/dev/null
	read -r u0 _ </proc/uptime
	# The 25 s go to other cases. Should they take longer, the join is
	# checked later: still past the 21 s a believed query could give it,
	# and far from 260 s.
	t0=$(_now_us)
	bad_input_and_netns
	sleep_until $((t0 + 25000000))
	n=$(pshow .mcast.listened)
	read -r u1 _ </proc/uptime
	ktap_note "the join counted $n channels $(awk -v a="$u0" -v b="$u1" 'BEGIN { printf "%.1f", b - a }') s after it was sent"
	ktap_check "${MLD_CASES[c + 2]}" test "$n" = 3
	# Believed, the 1 s query would end the join within a few seconds;
	# clamped, it lasts 21 s. Checked 10 s after the join: on the loaded
	# debug kernel, 15 s plus the time of `dstor show` once came to 21 s.
	mldforge "${ptree[@]}" --kind query-small --count 1 >/dev/null
	mldforge "${ptree[@]}" --kind join --count 1 >/dev/null
	read -r u0 _ </proc/uptime
	sleep 10
	n=$(pshow .mcast.listened)
	read -r u1 _ </proc/uptime
	ktap_note "the join counted $n channels $(awk -v a="$u0" -v b="$u1" 'BEGIN { printf "%.1f", b - a }') s after it was sent"
	ktap_check "${MLD_CASES[c + 3]}" test "$n" = 3
	ktap_check "${MLD_CASES[c + 4]}" wait_for 20 eval '[ "$(pshow .mcast.listened)" = 0 ]'
	# One asking for 8.7 days gets 260 s: too long to wait for here.
	mldforge "${ptree[@]}" --kind query-huge --count 1 >/dev/null
	ktap_check "${MLD_CASES[c + 5]}" in_x dstor export del plain
	losetup -d "$PDEV"

	ktap_check "${MLD_CASES[c + 6]}" \
		eval "sync_all empty 3 && check_all 3"
	detach_all 3
else
	for c in "${MLD_CASES[@]}"; do
		ktap_skip "$c" "dstor-mldforge not in the guest"
	done
	bad_input_and_netns
fi

# --- resume ---------------------------------------------------------------------------------------
dev=$(mk_target 5 empty)
echo "$dev" >"$W/dev.5"
idx=$(in_r 5 dstor sync golden --mcast eth0 --target "$dev")
ktap_check "resume: a sync gets some of the way" \
	wait_for 240 eval '[ "$(sget 5 $idx .stats.sync_verified)" -ge $((BLOCKS / 4)) ]'
in_r 5 dstor sync del "$idx"
# Resumed with the root pinned, as an admin would for an unkeyed export.
had=$(in_r 5 timeout 300 dstor sync golden --mcast eth0 --target "$dev" --root "$(xshow .mcast.root)" --wait 2>&1 |
	tee "$W/sync.5.out" |
	sed -n 's/.*already good \([0-9]*\).*/\1/p' | tail -n 1)
ktap_note "resumed: $had blocks already good; $(tail -n 1 "$W/sync.5.out")"
ktap_check "resume: finishes, identical to the export" same_as_golden "$dev"
ktap_check "resume: what it had was not fetched again" test "${had:-0}" -ge $((BLOCKS / 4))
detach_all 5

# --- a pinned root -------------------------------------------------------------------------
dev=$(mk_target 5 empty)
echo "$dev" >"$W/dev.5"
idx=$(in_r 5 dstor sync golden --mcast eth0 --target "$dev" --root "$(printf '%064d' 0)")
# Once it has dropped the announcements of 3 s (two a second; it would
# have taken the second one, unpinned), it still waits.
wait_for 60 eval '[ "$(sget 5 $idx .stats.sync_packets_bad)" -ge 6 ]'
ktap_check "a sync pinned to another root takes nothing" \
	eval "[ \"\$(sget 5 $idx .state)\" = waiting ] && [ \"\$(sget 5 $idx .stats.sync_verified)\" = 0 ] &&
	      [ \"\$(sget 5 $idx .stats.sync_packets_bad)\" -gt 0 ]"
in_r 5 dstor sync del "$idx"
detach_all 5

# --- blocks of 4 KiB, and smaller -----------------------------------------------------------
# A receiver takes every block size the protocol allows (4 KiB to 1 MiB),
# also one smaller than its pages (4 KiB blocks on a kernel with 64 KiB
# pages, arm64 or ppc64el: such a block has a page of its own). Here pages
# are 4 KiB, the protocol's minimum: this runs the edge, 4 KiB blocks end to
# end (one page each), and announcements of blocks under 4 KiB, which must
# be dropped, counted and logged once while the receiver waits on. A block
# smaller than a page needs a kernel with larger pages to be exercised.
eshow() { in_x dstor show --json | jq -r ".exports[] | select(.name == \"$1\") | $2"; }
head -c $((1 << 20)) /dev/urandom >"$W/small.img"
SMDEV=$(losetup --find --show --read-only "$W/small.img")
ktap_check "export of 4 KiB blocks" \
	eval "in_x dstor export add small --device $SMDEV --read-only --mcast eth0 --block-size 4K --querier &&
	      wait_for 60 eval '[ \"\$(eshow small .mcast.state)\" = serving ]'"
truncate -s 1M "$W/s5.img"
dev=$(losetup --find --show "$W/s5.img")
ktap_check "a receiver syncs 4 KiB blocks, identical to the export" \
	eval "in_r 5 timeout 120 dstor sync small --mcast eth0 --target $dev --wait >$W/sync.small.out 2>&1 &&
	      [ \"\$(sha256sum <$dev | cut -d' ' -f1)\" = \"\$(sha256sum <$W/small.img | cut -d' ' -f1)\" ]"
in_x dstor export del small
losetup -d "$SMDEV"
if command -v dstor-mcforge >/dev/null; then
	idx=$(in_r 5 dstor sync tiny --mcast eth0 --target "$dev")
	sleep 2 # its MLD report reaches the bridge
	sent=0
	for bs in 512 1024 2048; do
		n=$(ip netns exec "$(rx_ns 4)" dstor-mcforge --iface eth0 --name tiny --announce $bs \
			--seconds 1 --rate 200 2>&1 | sed -n 's/^ *fixed-announce *\([0-9]*\)$/\1/p')
		sent=$((sent + ${n:-0}))
	done
	wait_for 10 eval '[ "$(sget 5 $idx .stats.sync_packets)" -ge $sent ]'
	ktap_note "announcements of 512 B to 2 KiB blocks: $sent sent, $(sget 5 "$idx" '.stats | "\(.sync_packets) received, \(.sync_packets_bad) dropped"')"
	ktap_check "announcements of blocks under 4 KiB: each one dropped and counted" \
		eval "[ $sent -gt 0 ] && [ \"\$(sget 5 $idx .stats.sync_packets)\" -ge $((sent * 9 / 10)) ] &&
		      [ \"\$(sget 5 $idx .stats.sync_packets_bad)\" = \"\$(sget 5 $idx .stats.sync_packets)\" ]"
	ktap_check "announcements of blocks under 4 KiB: the receiver waits on" \
		eval "[ \"\$(sget 5 $idx .state)\" = waiting ] && [ \"\$(sget 5 $idx .stats.sync_blocks)\" = 0 ]"
	ktap_check "announcements of blocks under 4 KiB: logged once" \
		eval "[ \"\$(dmesg | grep -c 'sync tiny: dropping announcements of a geometry')\" = 1 ]"
	in_r 5 dstor sync del "$idx"
else
	for c in "announcements of blocks under 4 KiB: each one dropped and counted" \
		"announcements of blocks under 4 KiB: the receiver waits on" \
		"announcements of blocks under 4 KiB: logged once"; do
		ktap_skip "$c" "dstor-mcforge not in the guest"
	done
fi
losetup -d "$dev"
rm -f "$W/s5.img" "$W/small.img"

# --- a keyed export ---------------------------------------------------------------------------------
(umask 077 && dstor genkey >"$W/k")
head -c $((4 << 20)) /dev/urandom >"$W/sealed.img"
SDEV=$(losetup --find --show --read-only "$W/sealed.img")
ktap_check "keyed multicast export" \
	eval "in_x dstor export add sealed --device $SDEV --read-only --mcast eth0 --key $W/k --block-size 16K --querier &&
	      wait_for 60 eval '[ \"\$(in_x dstor show --json | jq -r \".exports[] | select(.name == \\\"sealed\\\") | .mcast.state\")\" = serving ]'"
sroot() { in_x dstor show --json | jq -r '.exports[] | select(.name == "sealed") | .mcast.root'; }
if command -v dstor-mctree >/dev/null; then
	ktap_check "a keyed export's root is the specification's" \
		eval '[ "$(sroot)" = "$(spec_root "$W/sealed.img" sealed "$W/k")" ]'
else
	ktap_skip "a keyed export's root is the specification's" "dstor-mctree not in the guest"
fi
truncate -s 4M "$W/s6.img"
dev=$(losetup --find --show "$W/s6.img")
ktap_check "a receiver with the key syncs" \
	eval "in_r 6 timeout 300 dstor sync sealed --mcast eth0 --target $dev --key $W/k --wait >$W/sync.6.out 2>&1 &&
	      [ \"\$(sha256sum <$dev | cut -d' ' -f1)\" = \"\$(sha256sum <$W/sealed.img | cut -d' ' -f1)\" ]"
truncate -s 4M "$W/s7.img"
dev7=$(losetup --find --show "$W/s7.img")
idx=$(in_r 7 dstor sync sealed --mcast eth0 --target "$dev7")
# Once it has dropped the announcements of 3 s (two a second), it still
# waits: nothing it could open, nothing joined, nothing written.
wait_for 60 eval '[ "$(sget 7 $idx .stats.sync_packets_bad)" -ge 6 ]'
ktap_note "receiver without the key: $(sget 7 "$idx" '.stats | "\(.sync_packets) packets, \(.sync_packets_bad) dropped"'), state $(sget 7 "$idx" .state)"
ktap_check "a receiver without the key gets nothing usable" \
	eval "[ \"\$(sget 7 $idx .stats.sync_packets_bad)\" -ge 6 ] && [ \"\$(sget 7 $idx .state)\" = waiting ] &&
	      [ \"\$(sget 7 $idx .stats.sync_verified)\" = 0 ] &&
	      [ \"\$(sha256sum <$dev7 | cut -d' ' -f1)\" = \"\$(head -c $((4 << 20)) /dev/zero | sha256sum | cut -d' ' -f1)\" ]"
in_r 7 dstor sync del "$idx"

# --- an A/B update from a seed -------------------------------------------------------------------
# Version 2 of an image moves half of version 1's blocks to other offsets
# (the first half, rotated by 37 blocks) and changes 5% of them (random
# data). An empty slot synced with --seed on a read-only device holding
# version 1 copies every block version 1 has, wherever it is, and fetches
# only the changed ones. A second seed smaller than a block is passed over
# with a warning. The images (v1.img, v2.img, tiny.seed) are made by
# mk_images, while the export has no listener.
V2DEV=$(losetup --find --show --read-only "$W/v2.img")
V1DEV=$(losetup --find --show --read-only "$W/v1.img")
V1SUM=$(sha256sum <"$W/v1.img" | cut -d' ' -f1)
ktap_check "export of version 2" \
	eval "in_x dstor export add v2 --device $V2DEV --read-only --mcast eth0 --block-size $BS --querier &&
	      wait_for 120 eval '[ \"\$(eshow v2 .mcast.state)\" = serving ]'"
# Seeds need a key or a pinned root (multicast.md, "Seeds").
V2ROOT=$(eshow v2 .mcast.root)
truncate -s ${SIZE_MB}M "$W/slot.img"
slot=$(losetup --find --show "$W/slot.img")
ktap_check "sync of an empty slot with --seed on version 1: the slot equals version 2" \
	eval "in_r 8 timeout 300 dstor sync v2 --mcast eth0 --target $slot --root $V2ROOT --seed $W/tiny.seed \
	          --seed $V1DEV --wait --json >$W/seed.json 2>$W/seed.err &&
	      [ \"\$(sha256sum <$slot | cut -d' ' -f1)\" = \"\$(sha256sum <$W/v2.img | cut -d' ' -f1)\" ]" ||
	tail -n 3 "$W/seed.err" | sed 's/^/# /'
sj() { jq -r ".stats.$1" "$W/seed.json"; }
ktap_note "seeded sync: $(sj sync_seeded) blocks ($(sj sync_seeded_bytes) bytes) from the seed, $(sj sync_received) received ($(sj sync_bytes) bytes); $CH of $BLOCKS blocks changed"
ktap_check "every unchanged block came from the seed, only the changed ones were received" \
	eval "[ \"\$(sj sync_seeded)\" = $((BLOCKS - CH)) ] && [ \"\$(sj sync_verified)\" = $CH ] &&
	      [ \"\$(sj sync_seeded_bytes)\" = $(((BLOCKS - CH) * 16384)) ]"
ktap_check "bytes received: at most 1.2x the changed blocks' $((CH * 16384))" \
	eval "[ \"\$(sj sync_bytes)\" -le $((CH * 16384 * 12 / 10)) ]"
ktap_check "the seed is unchanged" \
	eval "[ \"\$(sha256sum <$V1DEV | cut -d' ' -f1)\" = $V1SUM ]"
ktap_check "a seed smaller than a block: a warning, nothing taken from it" \
	eval "dmesg | grep -q 'sync v2: seed tiny.seed has 4096 bytes, less than a block'"
# A seed whose last eighth cannot be read (device-mapper's error target):
# the rest still gives blocks, the read error is logged, the seed is left
# there and what only its last eighth had is received.
SECT=$((SIZE_MB * 2048)) SEEDDM="seederr-$$"
printf '0 %d linear %s 0\n%d %d error\n' $((SECT * 7 / 8)) "$V1DEV" $((SECT * 7 / 8)) $((SECT / 8)) |
	dmsetup create --readonly "$SEEDDM" && dmsetup mknodes "$SEEDDM"
truncate -s ${SIZE_MB}M "$W/slot2.img"
slot2=$(losetup --find --show "$W/slot2.img")
ktap_check "a seed that fails on the way: the slot still equals version 2" \
	eval "in_r 8 timeout 300 dstor sync v2 --mcast eth0 --target $slot2 --root $V2ROOT --seed /dev/mapper/$SEEDDM \
	          --wait --json >$W/seed2.json 2>$W/seed2.err &&
	      [ \"\$(sha256sum <$slot2 | cut -d' ' -f1)\" = \"\$(sha256sum <$W/v2.img | cut -d' ' -f1)\" ]" ||
	tail -n 3 "$W/seed2.err" | sed 's/^/# /'
s2=$(jq -r .stats.sync_seeded "$W/seed2.json" 2>/dev/null)
ktap_note "a seed unreadable past 7/8: ${s2:-?} blocks from it; $(dmesg | grep -m 1 'sync v2: reading seed')"
ktap_check "... what it could read was used, the failed read logged" \
	eval "[ \"${s2:-0}\" -gt 0 ] && [ \"${s2:-0}\" -lt $((BLOCKS - CH)) ] &&
	      dmesg | grep -q 'sync v2: reading seed .* failed'"
dmsetup remove "$SEEDDM"
# A seed whose reads hang (a suspended device-mapper device queues them):
# sync del still returns at once (it kills the wait), and once the device
# resumes, the slot is free again.
SEEDDM="seedhang-$$"
printf '0 %d linear %s 0\n' "$SECT" "$V1DEV" | dmsetup create --readonly "$SEEDDM" &&
	dmsetup mknodes "$SEEDDM" && dmsetup suspend "$SEEDDM"
dd if=/dev/zero of="$slot2" bs=1M count=$SIZE_MB conv=fsync status=none
idx=$(in_r 8 dstor sync v2 --mcast eth0 --target "$slot2" --root "$V2ROOT" --seed "/dev/mapper/$SEEDDM")
wait_for 120 eval '[ "$(sget 8 "$idx" .state)" = seeding ]' && sleep 2
st=$(sget 8 "$idx" .state)
# In the background: where the kill does not work, only the resume below
# lets the delete return.
read -r u0 _ </proc/uptime
ip netns exec "$(rx_ns 8)" dstor sync del "$idx" &
delpid=$!
wait_for 10 eval "! kill -0 $delpid 2>/dev/null"
quick=$?
read -r u1 _ </proc/uptime
dmsetup resume "$SEEDDM"
wait "$delpid"
rc=$?
ktap_note "hung seed: state $st, sync del exit $rc, $(awk -v a="$u0" -v b="$u1" 'BEGIN { printf "%.1f", b - a }') s$([ $quick = 0 ] || echo ', still running then')"
ktap_check "a seed whose reads hang: sync del returns within 10 s" \
	eval "[ $st = seeding ] && [ $quick = 0 ] && [ $rc = 0 ]"
dmsetup remove "$SEEDDM"
losetup -d "$slot2"
in_x dstor export del v2
losetup -d "$slot" "$V2DEV" "$V1DEV"
rm -f "$W/slot.img" "$W/slot2.img" "$W/v1.img" "$W/v2.img"

ktap_check "export del of both multicast exports" \
	eval "in_x dstor export del sealed && in_x dstor export del golden"

ktap_finish
