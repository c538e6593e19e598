#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`, the anchor for reconciliation (issue 14): DRBD 8.4 bringing
# a stale secondary up to date with online verify plus resync, against
# `dstor sync --peer` from a read-only export with a tree, on the same
# devices with the same stale blocks. A benchmark, not a test: a case fails
# only when something cannot be set up or a replica ends different from its
# source (sha256), never on speed.
#
#  DRBD (8.4, in-tree drbd.ko, drbdsetup-84 and drbdmeta from drbd-utils):
#  +----------------------------------------------------------------------+
#  | root namespace: DRBD's sockets are always in init_net, and its       |
#  | netlink family is not namespace-aware, so both nodes live here       |
#  |                                                                      |
#  |  r0: /dev/drbd0, Primary              r1: /dev/drbd1, Secondary      |
#  |  loop a.img, meta loop ma.img         loop b.img, meta loop mb.img   |
#  |  198.18.0.1:7789 on drbd-a ===== veth ===== drbd-b: 198.18.0.2:7789  |
#  |  (policy routing sends the traffic between the two local addresses   |
#  |   over the veth, not lo)                                             |
#  +----------------------------------------------------------------------+
#  dstor (the lib.sh namespace pair, veth-ex/veth-im):
#  +-----------------------------+          +-----------------------------+
#  | netns ex-PID                |   veth   | netns im-PID                |
#  |  "g": loop g.img read-only, +----------+  dstor sync g --peer ...    |
#  |   --tree --block-size 4K    |          |   --target loop r.img       |
#  +-----------------------------+          +-----------------------------+
#
# All data devices are loop devices over 64 MiB files in /tmp (tmpfs), so
# /sys/block/loopN/stat counts every read: brd does not account I/O.
# For d = 0.1%, 1% and 10% of the 16384 blocks of 4 KiB, the same blocks
# (dstor-stale, same seed) are overwritten with the same random data:
# - DRBD: with r1 down (behind DRBD's back, its bitmap does not know),
#   on b.img; r1 back up and UpToDate/UpToDate; then, measured: `verify`
#   on the primary (verify-alg sha256) until it ends, disconnect, connect,
#   the resync of what verify found (csums-alg sha256) until UpToDate/
#   UpToDate again;
# - dstor: on a copy of g.img; measured: `dstor sync --wait` (one round).
# Printed per d and system: bytes over the veth (both directions, from its
# counters), blocks read from the source and from the replica, blocks
# written to the replica, wall time, and dstor / DRBD. Then a later round
# of a periodic dstor sync (--every): the export added again with 1% of its
# blocks changed; what that round reads and sends.
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd jq losetup sha256sum blockdev dstor-stale drbdsetup-84 drbdmeta

SIZE_MB=64
BLOCKS=$((SIZE_MB * 256))
ALG=sha256 # verify-alg and csums-alg
W=$(mktemp -d /tmp/bench-drbd.XXXXXX)
DRBD_A=drbd-a DRBD_B=drbd-b
IP_A=198.18.0.1 IP_B=198.18.0.2 # RFC 2544's benchmarking range
DEVS=()
RULES=''

ktap_header
ktap_plan 20

bd_cleanup() {
	local d
	dstor_down "$NS_IM" "$NS_EX"
	drbdsetup-84 down r1 2>/dev/null
	drbdsetup-84 down r0 2>/dev/null
	if [ -n "$RULES" ]; then
		ip rule add pref 0 lookup local 2>/dev/null
		ip rule del pref 1000 lookup local 2>/dev/null
		ip rule del pref 100 2>/dev/null
		ip rule del pref 101 2>/dev/null
	fi
	ip link del "$DRBD_A" 2>/dev/null
	for d in "${DEVS[@]}"; do losetup -d "$d" 2>/dev/null; done
	rm -rf "$W"
}
at_exit bd_cleanup

# --- measuring ------------------------------------------------------------------
# dev_io DEV: "sectors-read sectors-written" of a block device.
dev_io() {
	local s
	read -r -a s <"/sys/block/${1#/dev/}/stat"
	echo "${s[2]} ${s[6]}"
}
# veth_bytes NS DEV: rx + tx bytes of a network device ("-": this namespace).
veth_bytes() {
	local rx tx
	if [ "$1" = - ]; then
		rx=$(<"/sys/class/net/$2/statistics/rx_bytes")
		tx=$(<"/sys/class/net/$2/statistics/tx_bytes")
	else
		read -r rx tx < <(ip netns exec "$1" cat "/sys/class/net/$2/statistics/rx_bytes" \
			"/sys/class/net/$2/statistics/tx_bytes" | tr '\n' ' ')
	fi
	echo $((rx + tx))
}
now_us() { echo "${EPOCHREALTIME//[.,]/}"; }
# sample NS NETDEV SRC DST: "wire srcread dstread dstwritten time_us"
sample() {
	local s d
	read -r s _ <<<"$(dev_io "$3")"
	d=$(dev_io "$4")
	echo "$(veth_bytes "$1" "$2") $s $d $(now_us)"
}
# delta "BEFORE" "AFTER": "wire_bytes src_blocks dst_blocks dst_written_blocks ms"
delta() {
	local -a a b
	read -r -a a <<<"$1"
	read -r -a b <<<"$2"
	echo "$((b[0] - a[0])) $(((b[1] - a[1]) / 8)) $(((b[2] - a[2]) / 8)) $(((b[3] - a[3]) / 8)) $(((b[4] - a[4]) / 1000))"
}
sum_of() { blockdev --flushbufs "$1" && sha256sum <"$1" | cut -d' ' -f1; }

# --- files ------------------------------------------------------------------------
head -c $((SIZE_MB << 20)) /dev/urandom >"$W/g.img"
GOLD=$(sha256sum <"$W/g.img" | cut -d' ' -f1)
cp "$W/g.img" "$W/a.img"
cp "$W/g.img" "$W/b.img"
truncate -s 1M "$W/ma.img" "$W/mb.img"
loop() { losetup --find --show "$@"; }
A=$(loop "$W/a.img") B=$(loop "$W/b.img") MA=$(loop "$W/ma.img") MB=$(loop "$W/mb.img")
XDEV=$(loop --read-only "$W/g.img")
DEVS=("$A" "$B" "$MA" "$MB" "$XDEV")

# --- DRBD -------------------------------------------------------------------------
# Both nodes are in the root namespace: each end of a veth gets one
# address; locally sent packets between them are routed over the veth (rules
# 100 and 101, before the local table, now at 1000), and each end accepts
# packets from the other local address.
drbd_net() {
	local f
	ip link add "$DRBD_A" type veth peer name "$DRBD_B" &&
	ip addr add "$IP_A/32" dev "$DRBD_A" &&
	ip addr add "$IP_B/32" dev "$DRBD_B" &&
	ip link set "$DRBD_A" up && ip link set "$DRBD_B" up || return 1
	for f in "$DRBD_A" "$DRBD_B"; do
		echo 1 >"/proc/sys/net/ipv4/conf/$f/accept_local" &&
		echo 0 >"/proc/sys/net/ipv4/conf/$f/rp_filter" || return 1
	done
	ip neigh replace "$IP_B" lladdr "$(<"/sys/class/net/$DRBD_B/address")" dev "$DRBD_A" nud permanent &&
	ip neigh replace "$IP_A" lladdr "$(<"/sys/class/net/$DRBD_A/address")" dev "$DRBD_B" nud permanent &&
	ip route add "$IP_B" dev "$DRBD_A" src "$IP_A" table 198 &&
	ip route add "$IP_A" dev "$DRBD_B" src "$IP_B" table 199 &&
	RULES=1 &&
	ip rule add pref 100 from "$IP_A" to "$IP_B" iif lo lookup 198 &&
	ip rule add pref 101 from "$IP_B" to "$IP_A" iif lo lookup 199 &&
	ip rule add pref 1000 lookup local &&
	ip rule del pref 0 lookup local &&
	ip route get "$IP_B" from "$IP_A" | grep -q "dev $DRBD_A" &&
	ip route get "$IP_A" from "$IP_B" | grep -q "dev $DRBD_B"
}

drbd_modules() {
	local m
	for m in lru_cache libcrc32c drbd; do
		[ -d "/sys/module/$m" ] || insmod "/usr/bin/$m.ko" || return 1
	done
}

# drbd_state MINOR: sets CS, RO, DS and OOS (KiB out of sync) from /proc/drbd
# (read by the shell itself: no process per poll).
drbd_state() {
	local line cur=''
	CS='' RO='' DS='' OOS=''
	while IFS= read -r line; do
		if [[ $line =~ ^\ *([0-9]+):\ cs:([A-Za-z]+)(\ ro:([A-Za-z/]+)\ ds:([A-Za-z/]+))? ]]; then
			cur=${BASH_REMATCH[1]}
			[ "$cur" = "$1" ] || continue
			CS=${BASH_REMATCH[2]} RO=${BASH_REMATCH[4]} DS=${BASH_REMATCH[5]}
		elif [ "$cur" = "$1" ] && [[ $line =~ oos:([0-9]+) ]]; then
			OOS=${BASH_REMATCH[1]}
		fi
	done </proc/drbd
}
# drbd_is MINOR CS [DS [OOS]]
drbd_is() {
	drbd_state "$1"
	[ "$CS" = "$2" ] && { [ $# -lt 3 ] || [ "$DS" = "$3" ]; } && { [ $# -lt 4 ] || [ "$OOS" = "$4" ]; }
}
# drbd_wait SECS MINOR CS [DS [OOS]]: poll every 0.1 s.
drbd_wait() {
	local deadline=$(($(now_us) + $1 * 1000000))
	shift
	until drbd_is "$@"; do
		[ "$(now_us)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}
drbd_say() { drbd_state "$1"; echo "minor $1: cs:$CS ro:$RO ds:$DS oos:$OOS"; }
# What went wrong: both minors and DRBD's last kernel messages.
drbd_diag() { drbd_say 0; drbd_say 1; dmesg | grep -i drbd | tail -n 15; }

NET_OPTS=(--protocol=C "--verify-alg=$ALG" "--csums-alg=$ALG" --max-buffers=8000 --max-epoch-size=8000 --connect-int=1)
# A fixed resync (and verify) rate at DRBD's maximum: its dynamic
# controller (c-plan-ahead) would only slow it down here.
DISK_OPTS=(--c-plan-ahead=0 --resync-rate=4194304)
# drbd_up RES MINOR DATA META LOCAL PEER: what `drbdadm up` does (after
# `down`, the meta-data stay marked unclean until apply-al).
drbd_up() {
	drbdmeta "$2" v08 "$4" flex-external apply-al &&
	drbdsetup-84 new-resource "$1" &&
	drbdsetup-84 new-minor "$1" "$2" 0 &&
	drbdsetup-84 attach "$2" "$3" "$4" flexible "${DISK_OPTS[@]}" &&
	drbdsetup-84 connect "$1" "ipv4:$5:7789" "ipv4:$6:7789" "${NET_OPTS[@]}"
}
up_a() { drbd_up r0 0 "$A" "$MA" "$IP_A" "$IP_B"; }
up_b() { drbd_up r1 1 "$B" "$MB" "$IP_B" "$IP_A"; }
# New meta-data on both, connected, then both UpToDate without the initial
# full sync (their data are identical copies): new-current-uuid
# --clear-bitmap. r0 becomes Primary, so that a lost connection gives it a
# new current UUID and a reconnect resyncs what its bitmap holds.
drbd_setup() {
	# drbdmeta locks the minor in /var/lock.
	mkdir -p /var/lock /var/lib/drbd &&
	drbdmeta --force 0 v08 "$MA" flex-external create-md &&
	drbdmeta --force 1 v08 "$MB" flex-external create-md &&
	up_a && up_b &&
	drbd_wait 60 0 Connected Inconsistent/Inconsistent &&
	drbdsetup-84 new-current-uuid 0 --clear-bitmap &&
	drbd_wait 30 0 Connected UpToDate/UpToDate &&
	drbdsetup-84 primary 0 &&
	drbd_wait 30 0 Connected UpToDate/UpToDate || { drbd_diag; return 1; }
}

# drbd_round PCT D: r1 down, D blocks of b.img overwritten, r1 up again;
# then verify and resync, measured. Sets R[drbd:D] (the whole) and
# V[drbd:D] (verify alone: wire bytes and ms).
declare -A R V
drbd_round() {
	local d=$2 s0 sv s1 found
	drbdsetup-84 down r1 &&
	dstor-stale --block-size 4096 --count "$d" --seed "$d" "$W/b.img" >/dev/null &&
	up_b && drbd_wait 60 0 Connected UpToDate/UpToDate 0 || { drbd_diag; return 1; }
	s0=$(sample - "$DRBD_A" "$A" "$B")
	drbdsetup-84 verify 0 || return 1
	drbd_wait 600 0 Connected UpToDate/UpToDate || { drbd_diag; return 1; }
	sv=$(sample - "$DRBD_A" "$A" "$B")
	found=$((OOS / 4))
	drbdsetup-84 disconnect "ipv4:$IP_A:7789" "ipv4:$IP_B:7789" &&
	drbdsetup-84 connect r0 "ipv4:$IP_A:7789" "ipv4:$IP_B:7789" "${NET_OPTS[@]}" &&
	drbd_wait 600 0 Connected UpToDate/UpToDate 0 || { drbd_diag; return 1; }
	s1=$(sample - "$DRBD_A" "$A" "$B")
	R[drbd:$d]="$(delta "$s0" "$s1") $found"
	V[drbd:$d]=$(delta "$s0" "$sv")
}

# --- dstor ------------------------------------------------------------------------
xshow() { in_ex dstor show --json | jq -r ".exports[] | select(.name == \"g\") | $1"; }
export_g() {
	in_ex dstor export add g --device "$XDEV" --read-only --listen "$EX_IP4:7420" \
		--tree --block-size 4K && wait_for 600 eval '[ "$(xshow .tree.blocks)" = $BLOCKS ]'
}
# dstor_round PCT D: a copy of g.img with the D blocks overwritten, synced.
# Sets R[dstor:D].
dstor_round() {
	local d=$2 t s0 s1 out=$W/sync-$2.json
	cp "$W/g.img" "$W/r.img" &&
	dstor-stale --block-size 4096 --count "$d" --seed "$d" "$W/r.img" >/dev/null &&
	t=$(loop "$W/r.img") || return 1
	DEVS+=("$t")
	T=$t
	s0=$(sample "$NS_IM" "$IM_DEV" "$XDEV" "$t")
	in_im dstor sync g --peer "$EX_IP4" --target "$t" --root "$ROOT" --wait --json >"$out" ||
		return 1
	s1=$(sample "$NS_IM" "$IM_DEV" "$XDEV" "$t")
	R[dstor:$d]="$(delta "$s0" "$s1") $(jq -r .stats.sync_received "$out")"
}

# --- the cases --------------------------------------------------------------------
ktap_check "DRBD 8.4 module loaded" drbd_modules && ktap_note "$(head -n 1 /proc/drbd)"
ktap_check "DRBD's veth in the root namespace, routed between its two addresses" drbd_net
ktap_check "DRBD r0 (Primary) and r1 (Secondary) UpToDate/UpToDate, meta-data external" drbd_setup
ktap_check "dstor's netns pair" ns_pair_setup
t0=$(now_us)
x0=$(dev_io "$XDEV")
ktap_check "dstor export with its tree (4 KiB blocks)" export_g
x1=$(dev_io "$XDEV")
ktap_note "dstor's tree built in $((($(now_us) - t0) / 1000)) ms, reading $(((${x1% *} - ${x0% *}) / 8)) blocks of the export (once, at export add)"
ROOT=$(xshow .tree.root)

for pd in 0.1:$((BLOCKS / 1000)) 1:$((BLOCKS / 100)) 10:$((BLOCKS / 10)); do
	pct=${pd%:*} d=${pd#*:}
	ktap_check "DRBD d = $pct% ($d blocks): verify + resync" drbd_round "$pct" "$d"
	ktap_check "DRBD d = $pct%: the secondary equals the source (sha256)" test "$(sum_of "$B")" = "$GOLD"
	T=''
	ktap_check "dstor d = $pct% ($d blocks): sync --peer" dstor_round "$pct" "$d" &&
		ktap_note "dstor d = $pct%: $(jq -r '"received \(.stats.sync_received), good \(.stats.sync_good), tree hashes \(.stats.sync_tree_hashes), requests \(.stats.sync_requests), bytes on the wire by its own count \(.stats.sync_wire_bytes), \(.elapsed_ms) ms by its own clock"' "$W/sync-$d.json")"
	ktap_check "dstor d = $pct%: the target equals the export (sha256)" test "$(sum_of "${T:-/dev/null}")" = "$GOLD"
	[ -z "$T" ] || losetup -d "$T"
done

# --- the table ---------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
# The design's bound on the exporter's bytes (reconcile.sh asserts it):
# 1.2 x the stale bytes, plus (32 x 16 + 80) bytes per stale block and
# step of four tree levels (ceil(log16 16384) = 4), plus 16 KiB.
bound() { echo $(($1 * 4096 * 12 / 10 + (32 * 16 + 80) * 4 * $1 + 16384)); }
report() {
	local pd pct d sys wire src dst dw ms n vw vms
	local -a a b
	printf '%-5s %-6s %5s %11s %9s %9s %9s %8s %6s\n' d system stale "wire bytes" "src read" "dst read" "dst wrote" "time ms" found
	for pd in 0.1:$((BLOCKS / 1000)) 1:$((BLOCKS / 100)) 10:$((BLOCKS / 10)); do
		pct=${pd%:*} d=${pd#*:}
		for sys in drbd dstor; do
			[ -n "${R[$sys:$d]:-}" ] || continue
			read -r wire src dst dw ms n <<<"${R[$sys:$d]}"
			printf '%-5s %-6s %5s %11s %9s %9s %9s %8s %6s\n' "$pct%" "$sys" "$d" "$wire" "$src" "$dst" "$dw" "$ms" "$n"
		done
		[ -n "${R[drbd:$d]:-}" ] && [ -n "${R[dstor:$d]:-}" ] || continue
		read -r -a a <<<"${R[dstor:$d]}"
		read -r -a b <<<"${R[drbd:$d]}"
		printf '%-5s %-6s %5s %11s %9s %9s %9s %8s\n' "$pct%" "ratio" "" "$(ratio "${a[0]}" "${b[0]}")" \
			"$(ratio "${a[1]}" "${b[1]}")" "$(ratio "${a[2]}" "${b[2]}")" "$(ratio "${a[3]}" "${b[3]}")" \
			"$(ratio "${a[4]}" "${b[4]}")"
	done
	echo "blocks of 4 KiB; wire: both directions over the veth, headers included; src: the"
	echo "DRBD primary's / dstor exporter's device; dst: the secondary / target; found: what"
	echo "DRBD's verify found out of sync / the blocks dstor received; ratio: dstor / DRBD"
	for pd in 0.1:$((BLOCKS / 1000)) 1:$((BLOCKS / 100)) 10:$((BLOCKS / 10)); do
		pct=${pd%:*} d=${pd#*:}
		[ -n "${R[dstor:$d]:-}" ] || continue
		read -r wire _ <<<"${R[dstor:$d]}"
		awk -v w="$wire" -v d="$d" -v b="$(bound "$d")" -v p="$pct" 'BEGIN {
			printf "d = %s%%: dstor wire / stale bytes %.2f; design bound %d bytes (%.2f of the stale bytes): wire / bound %.2f\n",
				p, w / (d * 4096), b, b / (d * 4096), w / b }'
		[ -n "${V[drbd:$d]:-}" ] || continue
		read -r vw _ _ _ vms <<<"${V[drbd:$d]}"
		read -r wire _ _ _ ms _ <<<"${R[drbd:$d]}"
		echo "d = $pct%: DRBD's verify alone $vw bytes in $vms ms, the resync (disconnect, connect, resync) $((wire - vw)) bytes in $((ms - vms)) ms"
	done
}
report | sed 's/^/# /'

# --- a later round of a periodic sync ---------------------------------------------------
# The d = 1% replica again, synced with --every: its first round as above;
# then the export goes away, comes back with 1% of its blocks changed (a new
# tree, read once), and the next round fetches those. Measured from before
# the export is deleted (the target and the veth) and from its new tree
# (the export's reads) to the end of that round.
later_round() {
	local d=$((BLOCKS / 100)) t s0 x0 x1 s1 wire rd wr j
	cp "$W/g.img" "$W/r.img" &&
	dstor-stale --block-size 4096 --count "$d" --seed "$d" "$W/r.img" >/dev/null &&
	t=$(loop "$W/r.img") || return 1
	DEVS+=("$t")
	T=$t
	in_im dstor sync g --peer "$EX_IP4" --target "$t" --every 10s --wait --json >/dev/null ||
		return 1
	s0=$(sample "$NS_IM" "$IM_DEV" "$XDEV" "$t")
	in_ex dstor export del g &&
	dstor-stale --block-size 4096 --count "$d" --seed 99 "$W/g.img" >/dev/null &&
	GOLD=$(sha256sum <"$W/g.img" | cut -d' ' -f1) || return 1
	# The round may start as soon as the tree is published, before
	# export_g sees it: the export's reads are counted from before the
	# export is added, its new tree's BLOCKS reads taken off.
	x0=$(dev_io "$XDEV")
	export_g || return 1
	wait_for 120 eval '[ "$(in_im dstor sync list --json | jq -r ".[0].stats.sync_rounds")" -ge 2 ]' ||
		return 1
	s1=$(sample "$NS_IM" "$IM_DEV" "$XDEV" "$t")
	x1=$(dev_io "$XDEV")
	j=$(in_im dstor sync list --json | jq -r '.[0] | "rounds \(.stats.sync_rounds) (failed \(.stats.sync_rounds_failed)), last repaired \(.last_repaired), received in all \(.stats.sync_received)"')
	read -r wire _ rd wr _ <<<"$(delta "$s0" "$s1")"
	LATER="$d blocks of the export changed ($j): the receiver read $rd blocks and wrote $wr; the export read $(((${x1% *} - ${x0% *}) / 8 - BLOCKS)) blocks besides its new tree's $BLOCKS; $wire bytes over the veth (with the refused connections while the export was away)"
	in_im dstor sync del "$(in_im dstor sync list --json | jq -r '.[0].index')"
}
T='' LATER=''
ktap_check "dstor, a later round (--every 10s): 1% of the export changed" later_round &&
	ktap_note "later round: $LATER"
ktap_check "dstor, the later round: the target equals the changed export (sha256)" \
	test "$(sum_of "${T:-/dev/null}")" = "$GOLD"
ktap_check "DRBD's kernel log: no split brain" eval '! dmesg | grep -q "Split-Brain"'

ktap_finish
