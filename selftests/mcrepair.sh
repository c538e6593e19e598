#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Multicast repaired over TCP: dstor sync NAME --mcast eth0 --peer ADDR
# (Documentation/multicast.md, "Repairs over TCP"). The channels carry what
# they carry cheaply; scattered stale blocks past the channel cap, and what
# a carousel round went past without completing, are read from the
# exporter's TCP listener instead of waiting for another round.
#
#                         root namespace: bridge br-PID (MLD snooping on)
#        +-------------------+-----------+-- ... --+
#        |                   |           |         |
#  +-----+------+      +-----+----+ +----+-----+ +-+--------+
#  | mx-PID     |      | mr1-PID  | | mr2-PID  | | mr8-PID  |   receivers:
#  | exporter   |      | eth0     | | eth0     | | eth0     |   dstor sync into
#  | eth0       |      | loop dev | | loop dev | | loop dev |   a loop device
#  | .1:7420    |      +----------+ +----------+ +----------+
#  +------------+
#
#  "big": 64 MiB in 16384 blocks of 4 KiB (random data, then zeros),
#	eight receivers, each with its own 100 random stale blocks;
#  "small": 32 MiB of random data in 16 KiB blocks (the size of issue 14's
#	measurement: 1.77 copies by multicast alone), four empty receivers,
#	two of them behind 5% packet loss; then four empty receivers again,
#	two of them with small socket receive buffers (sync_rcvbuf).
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd jq losetup sha256sum dstor-stale

ktap_header
ktap_plan 26

NR=8
BLOCKS=16384
DATA_MB=16
SMALL_MB=32
STALE=100
# The loss case's bound on what the exporter sends, in tenths of a copy.
# A receiver leaves its channel when it has handled the packets of a whole
# round: one whose CPU is starved lags the carousel by up to its socket
# buffer (2 MiB of data), and the carousel goes on for that long. On an 8
# MiB export that was 1.05-1.06 copies by multicast alone on 6.1 and 6.12
# when they had the host to themselves, 1.21 beside make check's other
# guest, and 1.20-1.21 on the debug kernel (KASAN: every packet many times
# dearer), at 8 and at 20 Mbit/s alike. Hence 32 MiB (4 on the debug
# kernel, whose bound is 1.5).
BOUND=13
# The small buffers' case: the multicast part alone (tenths of a copy).
MC_BOUND=12
# The debug kernel's "big" export is 16 MiB, not 64: every block of it is
# hashed by the exporter and by each of the 8 receivers, then read again
# for the sha256 (the 64 MiB took 190 of its 540 s there).
debug_kernel && { DATA_MB=4; SMALL_MB=4; BLOCKS=4096; BOUND=15; MC_BOUND=15; }
W=$(mktemp -d /tmp/mcrepair.XXXXXX)

mr_cleanup() {
	mc_syncs_del $(seq 1 $NR)
	in_x dstor export del big
	in_x dstor export del small
	losetup -D
	rm -rf "$W"
}
at_exit mr_cleanup

ktap_check "bridge with the exporter and $NR receiver hosts" mc_topology $NR ||
	ktap_skip_all "no bridge/namespaces"

xshow() { in_x dstor show --json | jq -r ".exports[] | select(.name == \"$1\") | $2"; }

# sync_all NAME I...: receivers I... sync NAME (targets in $W/dev.I) at
# once, multicast repaired over TCP; summaries in $W/sync.I.{json,err}.
# They join together, as in mcast.sh (mc_hold, mc_release).
# Pinned to the export's root (--root, as an unkeyed export should be
# synced), a receiver takes the first announcement it hears rather than
# waiting for a second: one that joins late keeps the carousel going after
# the others are done.
sync_all() {
	local name=$1 i pids=() rc=0 root
	shift
	root=$(xshow "$name" .mcast.root)
	mc_hold
	for i in "$@"; do
		[[ " ${SMALLBUF:-} " != *" $i "* ]] || echo $((SMALLBUF_KB << 10)) >"$RCVBUF"
		in_r "$i" timeout 300 dstor sync "$name" --mcast eth0 --peer "$MC_X_IP4" \
			--root "$root" --target "$(cat "$W/dev.$i")" --wait --json >"$W/sync.$i.json" 2>"$W/sync.$i.err" &
		pids+=($!)
		# The buffer is taken when the sync is added.
		[[ " ${SMALLBUF:-} " != *" $i "* ]] ||
			{ wait_for 30 eval '[ "$(in_r $i dstor sync list --json | jq length)" -gt 0 ]'
			  echo "$RCVBUF_DEFAULT" >"$RCVBUF"; }
	done
	mc_release "$name" "$@"
	for i in "${pids[@]}"; do
		wait "$i" || rc=1
	done
	[ $rc = 0 ] || for i in "$@"; do
		echo "# receiver $i: $(tail -n 2 "$W/sync.$i.err" | tr '\n' ' ')"
	done
	return $rc
}
stat_of() { jq -r ".stats.$2 // 0" "$W/sync.$1.json"; }
# sent M0 R0 M1 R1: what the exporter sent by multicast and TCP between two
# readings of its counters, in bytes; copies BYTES: as copies of "small".
sent() { echo $((($3 - $1) + ($4 - $2))); }
copies() { awk -v a="$1" -v b=$((SMALL_MB << 20)) 'BEGIN { printf "%.2f", a / b }'; }
# fresh I...: receivers I... get empty targets.
fresh() {
	local i
	for i in "$@"; do
		[ ! -s "$W/dev.$i" ] || losetup -d "$(cat "$W/dev.$i")"
		rm -f "$W/t$i.img"
		truncate -s ${SMALL_MB}M "$W/t$i.img"
		losetup --find --show "$W/t$i.img" >"$W/dev.$i"
	done
}
RCVBUF=/sys/module/dstor/parameters/sync_rcvbuf
RCVBUF_DEFAULT=$(cat "$RCVBUF")
# Small receive buffers: 128 KiB of truesize holds two or three of the
# exporter's GSO batches (32 datagrams, 45 KiB), where the default 4 MiB
# holds about 2 MiB of data.
SMALLBUF_KB=128
# On the debug kernel the exporter is too slow to overflow even 64 KiB
# (none dropped at --rate 160M with 128 KiB, 4 MiB exported): the case
# runs, its overflow is not asserted there.
debug_kernel && SMALLBUF_KB=64

# --- eight receivers, 100 scattered stale blocks each ---------------------------------------
head -c $((DATA_MB << 20)) /dev/urandom >"$W/big.img"
truncate -s $((BLOCKS * 4096)) "$W/big.img"
BIG=$(sha256sum <"$W/big.img" | cut -d' ' -f1)
XDEV=$(losetup --find --show --read-only "$W/big.img")
# 10 Mbit/s: the 8 receivers' 512 one-block channels go round in about
# 1.7 s. A receiver leaves a channel once it has taken in the channel's
# block, so one whose thread lags the carousel by a round gets the block
# again: at 40M (0.4 s a round) a receiver starved beside make check's
# other guests took 24 blocks twice (1.24x its stale bytes).
ktap_check "a multicast export with a TCP listener ($BLOCKS blocks of 4 KiB)" \
	in_x dstor export add big --device "$XDEV" --read-only --mcast eth0 --block-size 4K \
	--querier --rate 10M --listen "$MC_X_IP4:7420"
for i in $(seq 1 $NR); do
	# A sparse copy: the export's data, then its zeros as a hole.
	head -c $((DATA_MB << 20)) "$W/big.img" >"$W/t$i.img"
	truncate -s $((BLOCKS * 4096)) "$W/t$i.img"
	dstor-stale --block-size 4096 --count $STALE --seed "$i" "$W/t$i.img" >/dev/null &&
	losetup --find --show "$W/t$i.img" >"$W/dev.$i"
done
ktap_check "its tree is built" wait_for 120 eval '[ "$(xshow big .mcast.state)" = serving ]'

m0=$(xshow big .stats.mc_blocks) r0=$(xshow big .stats.read_bytes)
ktap_check "$NR receivers with $STALE stale blocks each sync" sync_all big $(seq 1 $NR)
ktap_check "all $NR targets equal the export (sha256)" mc_same "$BIG" $(seq 1 $NR)
m1=$(xshow big .stats.mc_blocks) r1=$(xshow big .stats.read_bytes)
over=''
for i in $(seq 1 $NR); do
	b=$(stat_of "$i" sync_bytes)
	ktap_note "receiver $i: $b bytes received for $((STALE * 4096)) stale ($(stat_of "$i" sync_requests) READs over TCP, $(stat_of "$i" sync_wire_bytes) bytes on its TCP wire)"
	[ "$b" -le $((STALE * 4096 * 12 / 10)) ] || over="$over $i"
done
ktap_check "each received at most 1.2x its stale blocks' bytes" test -z "$over"
ktap_note "the exporter sent $((m1 - m0)) blocks by multicast and $((r1 - r0)) bytes over TCP"
ktap_check "multicast carried some blocks, TCP the rest" \
	eval "[ $((m1 - m0)) -ge $NR ] && [ $((r1 - r0)) -ge $((NR * 4096)) ]"
for i in $(seq 1 $NR); do losetup -d "$(cat "$W/dev.$i")"; rm -f "$W/t$i.img" "$W/dev.$i"; done
in_x dstor export del big
losetup -d "$XDEV"

# --- four empty receivers, two behind packet loss -------------------------------------------
head -c $((SMALL_MB << 20)) /dev/urandom >"$W/small.img"
SMALL=$(sha256sum <"$W/small.img" | cut -d' ' -f1)
# 4096-byte sectors: the exporter reads whole sectors, so a lost 1 KiB
# chunk is repaired with the sector around it.
SDEV=$(losetup --sector-size 4096 --find --show --read-only "$W/small.img")
small_add() { # RATE
	in_x dstor export add small --device "$SDEV" --read-only --mcast eth0 --block-size 16K \
		--querier --rate "$1" --listen "$MC_X_IP4:7420"
}
ktap_check "a second export: $SMALL_MB MiB in blocks of 16 KiB, on 4096-byte sectors" \
	eval "small_add 20M && [ \"\$(blockdev --getss $SDEV)\" = 4096 ]"
fresh 1 2 3 4
ktap_check "its tree is built" wait_for 120 eval '[ "$(xshow small .mcast.state)" = serving ]'
for i in 1 2; do
	tc qdisc add dev "v-$(rx_ns $i)" root netem loss 5%
done
m0=$(xshow small .stats.mc_bytes) r0=$(xshow small .stats.read_bytes)
ktap_check "4 empty receivers, 2 behind 5% loss, sync" sync_all small 1 2 3 4
ktap_check "all 4 targets equal the export (sha256)" mc_same "$SMALL" 1 2 3 4
m1=$(xshow small .stats.mc_bytes) r1=$(xshow small .stats.read_bytes)
for i in 1 2; do
	tc qdisc del dev "v-$(rx_ns $i)" root
done
sent=$(sent "$m0" "$r0" "$m1" "$r1")
ktap_note "the exporter sent $((m1 - m0)) bytes by multicast and $((r1 - r0)) over TCP: $(copies $sent) copies"
for i in 1 2; do
	ktap_note "lossy receiver $i: $(stat_of "$i" sync_requests) READs over TCP, $(stat_of "$i" sync_bytes) bytes received"
done
ktap_check "the exporter sent at most $((BOUND / 10)).$((BOUND % 10)) copies of the export" \
	test $((sent * 10)) -le $(((SMALL_MB << 20) * BOUND))
ktap_check "the lossy receivers repaired over TCP" \
	eval "[ $(stat_of 1 sync_requests) -gt 0 ] && [ $(stat_of 2 sync_requests) -gt 0 ]"

# --- four empty receivers behind reordering -------------------------------------------------
# netem holds the packets to each receiver 20 ms (about a GSO batch and a
# half at 20 Mbit/s) and sends 5% of them (batches, mostly) at once: each
# of those overtakes the blocks before it, as when the exporter's thread
# sends one batch from one CPU and the next from another. The debug kernel
# met that: block 123 came before block 122, and 122 taken for the next
# round left 149 blocks to TCP in each of three receivers (2.89 copies).
# A packet a few blocks late is late, and a block is judged only once the
# carousel is 16 blocks past it, so the blocks a packet overtook complete by
# multicast. Queued for TCP at once, they cost each receiver 11-13% of the
# export over TCP (1.53 copies); judged late, none (1.04 copies, 6.12). A
# sixteenth of the export a receiver bounds it. netem reorders what the
# exporter sends as one GSO batch (a block) whole: packets overtaken within
# a block are not tried here.
fresh 1 2 3 4
for i in 1 2 3 4; do
	tc qdisc add dev "v-$(rx_ns $i)" root netem delay 20ms reorder 5%
done
m0=$(xshow small .stats.mc_bytes) r0=$(xshow small .stats.read_bytes)
ktap_check "4 empty receivers behind reordering sync" sync_all small 1 2 3 4
ktap_check "all 4 targets equal the export (sha256)" mc_same "$SMALL" 1 2 3 4
m1=$(xshow small .stats.mc_bytes) r1=$(xshow small .stats.read_bytes)
over=''
for i in 1 2 3 4; do
	tc qdisc del dev "v-$(rx_ns $i)" root
	ktap_note "receiver $i: $(stat_of "$i" sync_requests) READs over TCP, $(stat_of "$i" sync_wire_bytes) bytes on its TCP wire"
	[ "$(stat_of "$i" sync_wire_bytes)" -le $(((SMALL_MB << 20) / 16)) ] || over="$over $i"
done
ktap_note "the exporter sent $((m1 - m0)) bytes by multicast and $((r1 - r0)) over TCP: $(copies "$(sent "$m0" "$r0" "$m1" "$r1")") copies"
ktap_check "a packet overtaken is late, and what it overtook came by multicast: each receiver took at most a sixteenth of the export over TCP" \
	test -z "$over"

# --- four empty receivers, two with small receive buffers ----------------------------------
# A receiver whose buffer fills drops what comes next as a lossy link would,
# but in bursts: whole GSO batches while its thread is away. The exporter
# at --rate 120M sends its batches closer together than the receivers take
# them in a guest (it reaches about 30 Mbit/s there). Measured on 6.12 with
# the host to itself: 15-18 packets dropped by each small buffer at 120M,
# 69-91 at 160M (114 with 64 KiB buffers; none at 20M and 80M), none by
# the default ones. Beside a debug guest, 160M cost 180-196 drops each and
# 1.26 copies: the drops grow as the receivers' CPU shrinks.
in_x dstor export del small
ktap_check "the export again at --rate 120M" \
	eval 'small_add 120M && wait_for 120 eval "[ \"\$(xshow small .mcast.state)\" = serving ]"'
fresh 1 2 3 4
m0=$(xshow small .stats.mc_bytes) r0=$(xshow small .stats.read_bytes)
ktap_check "4 empty receivers, 2 with $SMALLBUF_KB KiB receive buffers, sync" \
	eval 'SMALLBUF="1 2" sync_all small 1 2 3 4'
ktap_check "all 4 targets equal the export (sha256)" mc_same "$SMALL" 1 2 3 4
m1=$(xshow small .stats.mc_bytes) r1=$(xshow small .stats.read_bytes)
sent=$(sent "$m0" "$r0" "$m1" "$r1")
ktap_note "the exporter sent $((m1 - m0)) bytes by multicast and $((r1 - r0)) over TCP: $(copies $sent) copies"
drops=0
for i in 1 2 3 4; do
	ktap_note "receiver $i: $(stat_of "$i" sync_rcv_drops) packets lost to a full receive buffer, $(stat_of "$i" sync_requests) READs over TCP"
	drops=$((drops + $(stat_of "$i" sync_rcv_drops)))
done
overflowed() {
	[ "$(stat_of 1 sync_rcv_drops)" -gt 0 ] && [ "$(stat_of 2 sync_rcv_drops)" -gt 0 ] &&
		[ "$(stat_of 1 sync_requests)" -gt 0 ] && [ "$(stat_of 2 sync_requests)" -gt 0 ]
}
if debug_kernel && ! overflowed; then
	ktap_skip "the small buffers overflowed (sync_rcv_drops), and were repaired over TCP" \
		"the debug kernel's exporter did not overflow them"
else
	ktap_check "the small buffers overflowed (sync_rcv_drops), and were repaired over TCP" overflowed
fi
# What a receiver drops depends on the CPU it gets, not on dstor: beside
# make check's other guests one small buffer lost 372 packets (about 18% of
# the export) and the exporter sent 1.38 copies. What dstor controls is
# asserted: the carousel went round no more than for the receivers that
# kept up (at most 1.2 copies by multicast, 1.04-1.14 measured; 1.5 on the
# debug kernel, whose receivers lag, as above), and TCP sent no more than
# the dropped packets held (each at most a GRO batch of 64 KiB; about 16
# KiB a drop measured), give or take 5% of the export for other gaps
# (reordering). Typically the whole is 1.17-1.18 copies.
ktap_check "no carousel round for the dropped packets: at most $((MC_BOUND / 10)).$((MC_BOUND % 10)) copies by multicast" \
	test $(((m1 - m0) * 10)) -le $(((SMALL_MB << 20) * MC_BOUND))
ktap_check "over TCP at most what the small buffers dropped ($drops packets of up to 64 KiB)" \
	test $((r1 - r0)) -le $((drops * 65536 + (SMALL_MB << 20) / 20))

# --- a peer that does not answer ------------------------------------------------------------
dev=$(cat "$W/dev.3")
ktap_check "nothing stale: no listener at --peer is needed" \
	in_r 3 timeout 120 dstor sync small --mcast eth0 --peer "$MC_X_IP4:7999" --target "$dev" --wait
dd if=/dev/urandom of="$dev" bs=16k count=2 seek=7 conv=notrunc status=none
sum=$(sha256sum <"$dev" | cut -d' ' -f1)
in_r 3 timeout 120 dstor sync small --mcast eth0 --peer "$MC_X_IP4:7999" --target "$dev" --wait \
	>"$W/out" 2>&1
rc=$?
ktap_check "no listener at --peer: the sync fails, saying why, target unchanged" \
	eval "[ $rc != 0 ] && grep -qi 'refused\|connect' $W/out &&
		[ \"\$(sha256sum <$dev | cut -d' ' -f1)\" = $sum ]" ||
	echo "# rc $rc: $(cat "$W/out")"

# --- the export deleted and added again while a receiver repairs -------------------------------
# Its connection fails with the export: the sync goes on by multicast alone,
# then takes the new tree (10 s after the old one's last announcement), dials
# again and ends identical.
in_x dstor export del small
# Slow enough that the sync is still going when the export goes: 8 s for
# 4 MiB at 4M was over before a debug guest's test saw it started.
if debug_kernel; then small_add 1M; else small_add 4M; fi
fresh 4
dev=$(cat "$W/dev.4")
wait_for 120 eval '[ "$(xshow small .mcast.state)" = serving ]'
in_r 4 timeout 300 dstor sync small --mcast eth0 --peer "$MC_X_IP4" --target "$dev" --wait \
	>"$W/out" 2>&1 &
pid=$!
wait_for 60 eval '[ "$(in_r 4 dstor sync list --json | jq ".[0].stats.sync_verified // 0")" -ge 16 ]' ||
	echo "# the sync did not get going"
in_x dstor export del small
small_add 40M
wait $pid
rc=$?
ktap_check "export deleted and added again mid-sync: the sync ends identical" \
	eval "[ $rc = 0 ] && mc_same $SMALL 4" || echo "# rc $rc: $(tail -n 3 "$W/out")"
ktap_check "and it went on by multicast alone in between (kernel log)" \
	eval "dmesg | grep -q 'sync small: the connection for repairs failed'"

ktap_finish
