#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DST's transaction model under faults: a lossy, reordering, duplicating
# link; a cut link; an exporter that goes away and comes back; a peer that
# falls silent; an outage longer than the resend budget. Every data check
# verifies content.
#
#  +-----------------------------+   veth (netem, link cuts)   +--------------------------+
#  | netns ex-PID                |                              | netns im-PID             |
#  |  /dev/ram0 -> export "t0"   +------------------------------+  /dev/dstorN <- t0       |
#  |  192.0.2.1:7420             |                              |  192.0.2.2               |
#  +-----------------------------+                              +--------------------------+
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd fio jq mkfs.ext4 e2fsck tc

ktap_header
ktap_plan 45

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
at_exit 'kill $(jobs -p); dstor_down "$NS_IM" "$NS_EX"'

# Fast timers so the faults below resolve in seconds.
FAST="--timeout 4 --retries 8 --reconnect 1:2 --keepalive 1 --dead-after 3"

ktap_check "export t0" in_ex dstor export add t0 --device /dev/ram0 --listen "$EX_IP4:7420"
# shellcheck disable=SC2086
dev=$(in_im dstor import add t0 --peer "$EX_IP4" --connections 2 $FAST)
ktap_check "import t0 with fast timers" test -b "$dev"

imp() { in_im dstor show --json | jq -r ".imports[] | select(.device == \"$dev\") | $1"; }
link() { ip -n "$NS_IM" link set "$IM_DEV" "$1"; }

ktap_check "show reports the timers" \
	test "$(imp '.timers | "\(.timeout) \(.retries) \(.reconnect_min):\(.reconnect_max) \(.keepalive) \(.dead_after)"')" = "4 8 1:2 1 3"

fio_verify() { # fio_verify NAME SIZE [extra fio args]: write, read back, verify
	local name=$1 size=$2
	shift 2
	fio --name="$name" --filename="$dev" --size="$size" --bs=16k --rw=randwrite \
		--direct=1 --ioengine=libaio --iodepth=16 --verify=crc32c \
		--do_verify=1 --verify_fatal=1 --output-format=json "$@" >"/tmp/$name.json" &&
	jq -e '[.jobs[].error] | all(. == 0)' "/tmp/$name.json" >/dev/null
}

# 1. Loss, reordering and duplication on the wire: TCP hides most of it;
#    what it does not (stalls long enough for a timeout) the resend covers.
ktap_check "netem loss 5% reorder 25% duplicate 1%" \
	in_ex tc qdisc add dev "$EX_DEV" root netem delay 2ms loss 5% reorder 25% duplicate 1%
NETEM_MB=8
debug_kernel && NETEM_MB=2 # the debug guest: the same faults, less data
ktap_check "fio verify through netem: no errors" fio_verify netem ${NETEM_MB}M
in_ex tc qdisc del dev "$EX_DEV" root

# The faults of 2 and 3 must hit fio mid-way, with requests in flight. fio
# is rate-limited (100 writes a second: its writes alone take 5 s or more)
# and the fault comes as soon as it is writing: when the import has
# completed 16 writes more than before fio started (counted at completion).
writing_since() { [ "$(imp .stats.writes)" -gt $(($1 + 16)) ]; }
# in_flight: fio's requests wait on the import (they keep coming at 100 a
# second, so some are in flight within a moment of the fault). Once there,
# they stay until the fault ends; 10 s because one `dstor show` can take
# seconds on a starved debug guest (CI: not ok with 3 s).
in_flight() { wait_for 10 eval '[ "$(imp .stats.inflight)" -gt 0 ]'; }

# 2. The link is cut for 5 s under a mounted ext4 with fio running.
mnt=$(mktemp -d)
at_exit "umount $mnt; rmdir $mnt"
mkfs.ext4 -q -F "$dev" && mount "$dev" "$mnt"
r0=$(imp .stats.reconnects)
w0=$(imp .stats.writes)
# 768 writes at 100 a second: 7.7 s of writes at least, then the reads.
fio --name=cut --directory="$mnt" --size=12M --bs=16k --rw=randwrite --ioengine=libaio \
	--direct=1 --iodepth=8 --verify=crc32c --do_verify=1 --verify_fatal=1 --rate_iops=100 \
	--output-format=json >/tmp/cut.json 2>&1 &
fiopid=$!
wait_for 60 writing_since "$w0"
running=no
kill -0 $fiopid && running=yes
link down
ktap_check "fio is writing when the link is cut" test $running = yes
ktap_check "requests in flight across the cut" in_flight
sleep 5
link up
ktap_check "fio on ext4 across a 5 s link cut completes without error" \
	eval "wait $fiopid && jq -e '[.jobs[].error] | all(. == 0)' /tmp/cut.json >/dev/null"
ktap_check "the import reconnected" test "$(imp .stats.reconnects)" -gt "$r0"
ktap_check "state back to connected" wait_for 10 eval "[ \"\$(imp .state)\" = connected ]"
ktap_check "umount and e2fsck -fn clean" eval "umount $mnt && e2fsck -fn $dev"

# 3. The export is deleted and added again while writes are in flight. It
#    keeps its identity (--uuid), as an exporter that reboots would.
uuid=$(in_ex dstor show --json | jq -r '.exports[] | select(.name == "t0") | .uuid')
w0=$(imp .stats.writes)
s0=$(imp .stats.resent)
# 1024 writes at 100 a second: 10 s of writes at least, long enough for a
# shell that polls slowly on a busy host to see them start (with 5 s, fio
# was done before the export went); the reads then run unthrottled.
fio_verify readd 16M --rate_iops=1000,100 &
fiopid=$!
wait_for 60 writing_since "$w0"
running=no
kill -0 $fiopid && running=yes
ktap_check "export del during writes" in_ex dstor export del t0
ktap_check "fio is writing when the export goes" test $running = yes
ktap_check "requests in flight while the export is gone" in_flight
sleep 3
ktap_check "export re-added with the same uuid" \
	in_ex dstor export add t0 --device /dev/ram0 --listen "$EX_IP4:7420" --uuid "$uuid"
ktap_check "writes resume and verify" wait $fiopid
ktap_check "requests in flight at the deletion were resent" test "$(imp .stats.resent)" -gt "$s0"

# 3b. Another disk of the same size is exported under the same name (a new
#     uuid): the import must not write to it. It fails, and says why.
ram1_sum=$(sha256sum </dev/ram1)
in_im dstor monitor --json >/tmp/events-id.json 2>&1 &
monpid=$!
sleep 1
in_ex dstor export del t0
ktap_check "another disk exported under the same name" \
	in_ex dstor export add t0 --device /dev/ram1 --listen "$EX_IP4:7420"
ktap_check "a write to the import fails instead of landing there" \
	eval "! timeout 60 dd if=/dev/urandom of=$dev bs=4k count=8 oflag=direct status=none 2>/dev/null"
ktap_check "the import is failed, and says the uuid differs" \
	eval "[ \"\$(imp .state)\" = failed ] && imp .reason | grep -q uuid"
ktap_check "dstor monitor said why" \
	wait_for 5 eval "grep '\"event\":\"failed\"' /tmp/events-id.json | grep -q uuid"
ktap_check "the other disk is unchanged" test "$(sha256sum </dev/ram1)" = "$ram1_sum"
kill $monpid
in_ex dstor export del t0
ktap_check "the right export back (same uuid): the import resumes" \
	eval "in_ex dstor export add t0 --device /dev/ram0 --listen $EX_IP4:7420 --uuid $uuid &&
	      wait_for 20 eval '[ \"\$(imp .state)\" = connected ]' &&
	      dd if=/dev/zero of=$dev bs=4k count=4 oflag=direct status=none"

# 3c. Restarts with many connections: when the first connection back finds
#     a new incarnation, it ends the other queues' connections, live or
#     still in their handshake; each must come back, whichever finished
#     first. Four more connections (a read-only import), and a delay that
#     varies from packet to packet, make every order likely.
# shellcheck disable=SC2086
dev4=$(in_im dstor import add t0 --peer "$EX_IP4" --connections 4 --read-only $FAST)
state_of() { in_im dstor show --json | jq -r ".imports[] | select(.device == \"$1\") | .state"; }
both_up() { [ "$(state_of "$dev")" = connected ] && [ "$(state_of "$dev4")" = connected ]; }
restarts() {
	local i
	for i in 1 2 3 4 5 6; do
		in_ex dstor export del t0 &&
		in_ex dstor export add t0 --device /dev/ram0 --listen "$EX_IP4:7420" --uuid "$uuid" &&
		wait_for 20 both_up || { echo "restart $i: $(state_of "$dev") $(state_of "$dev4")"; return 1; }
	done
}
in_ex tc qdisc add dev "$EX_DEV" root netem delay 15ms 15ms
ktap_check "six restarts: every connection of 2 + 4 comes back each time" restarts
in_ex tc qdisc del dev "$EX_DEV" root
in_im dstor import del "$dev4"

# 4. Keepalive: no I/O at all, cut the link; the import notices within
#    keepalive (1 s) + dead-after (3 s) + 1 s, and `dstor monitor` reports
#    it. Queue 0 alone pings: its last pong came up to a keepalive and a
#    round trip (a second on the loaded debug kernel) before the cut.
in_im dstor monitor --json >/tmp/events.json 2>&1 &
monpid=$!
sleep 1
ktap_check "connected and idle" wait_for 10 eval "[ \"\$(imp .state)\" = connected ]"
# Idle for 8 s, twice what keepalive + dead-after (1 + 3 s) allow a silent
# session: queue 0 pings for the import (at most one ping a second, not
# two), and the exporter keeps queue 1's session although nothing arrives
# on it, because queue 0 is heard (KA_LEAD, Documentation/protocol.md).
# The pings counted are those between the two samples: at most the time
# from before the first to after the second, 8 s plus the samples' own
# (seconds each on a loaded host); two pinging queues would send two a
# second for at least 8 s.
reaped() { in_ex dstor show --json | jq -r '.exports[] | select(.name == "t0") | .stats.sessions_reaped'; }
ms_now() { local u; read -r u _ </proc/uptime; echo $((${u%.*} * 1000 + 10#${u#*.} * 10)); }
r0=$(imp .stats.reconnects) s0=$(reaped)
t0=$(ms_now) k0=$(imp .stats.keepalives)
sleep 8
k1=$(imp .stats.keepalives) t1=$(ms_now)
win=$(((t1 - t0 + 999) / 1000))
ktap_note "idle $win s: $((k1 - k0)) pings, $(($(reaped) - s0)) sessions reaped, $(($(imp .stats.reconnects) - r0)) reconnects"
ktap_check "idle: pings on queue 0 only (4 to $((win + 2)) in $win s)" \
	test $((k1 - k0)) -ge 4 -a $((k1 - k0)) -le $((win + 2))
ktap_check "idle: the quiet connection's session kept, no reconnect" \
	test "$(reaped)" = "$s0" -a "$(imp .stats.reconnects)" = "$r0"
# The time is taken from the kernel log's own timestamps (the mark written
# at the cut, the import's "nothing heard" warning): the shell polling the
# state lags by up to a poll, a second or more on the debug kernel.
kmsg_mark "keepalive: link down"
link down
ktap_check "state reconnecting after the cut" wait_for 10 eval "[ \"\$(imp .state)\" = reconnecting ]"
ms=$(kmsg_ms_since "keepalive: link down" "nothing heard on connection")
# On the debug kernel the timers themselves fire late when its vCPUs are
# starved (CI: not ok at 5 s); 10 s still tells the keepalive from TCP's own
# timeouts (minutes) and from the requests' (none are in flight).
dead_ms=5000
debug_kernel && dead_ms=10000
ktap_note "dead peer noticed after ${ms:-?} ms (kernel clock; at most $dead_ms)"
ktap_check "dead peer noticed within keepalive + dead-after + slack (1 s; 6 s debug)" test "${ms:-99999}" -le $dead_ms
ktap_check "monitor printed link-lost" \
	wait_for 5 grep -q '"event":"link-lost"' /tmp/events.json
# Queue 1 sent no pings while queue 0 was up; once queue 0 is down it pings
# by itself, its dead-after counted from then (3 s), not from its last
# reply, which came before the idle 8 s.
ktap_check "both connections ended, queue 1 after queue 0" \
	wait_for 10 eval "[ \"\$(grep -c '\"event\":\"link-lost\"' /tmp/events.json)\" -ge 2 ]"
link up
ktap_check "reconnected after the link came back" wait_for 15 eval "[ \"\$(imp .state)\" = connected ]"
ktap_check "monitor printed reconnected" \
	wait_for 5 grep -q '"event":"reconnected"' /tmp/events.json
ktap_check "keepalive pings were sent" test "$(imp .stats.keepalives)" -gt 0

# 4b. The exporter is unreachable for 20 s during writes: packets vanish,
#     nothing is refused or reset. Every connect attempt meanwhile times
#     out; none of it may hang the import: once the link carries packets
#     again it reconnects, resends, and the writes verify.
blackhole() { # add|del
	in_ex tc qdisc "$1" dev "$EX_DEV" root netem loss 100% &&
	in_im tc qdisc "$1" dev "$IM_DEV" root netem loss 100%
}
w0=$(imp .stats.writes)
r0=$(imp .stats.reconnects)
# 512 writes at 50 a second: 10 s of writes at least (see 3.).
fio_verify hole 8M --rate_iops=1000,50 &
fiopid=$!
wait_for 60 writing_since "$w0"
ktap_check "a 20 s blackhole while fio writes" \
	eval "kill -0 $fiopid && blackhole add && sleep 20 && blackhole del"
ktap_check "the writes complete and verify after it" wait $fiopid
ktap_check "the import reconnected and is connected" \
	wait_for 15 eval "[ \"\$(imp .stats.reconnects)\" -gt $r0 ] &&
	                  [ \"\$(imp .state)\" = connected ]"

# 5. Durability: an fsync'ed write is on the exporter's disk even when the
#    link dies right after and the import is destroyed at once.
head -c $((1 << 20)) /dev/urandom >/tmp/dur.bin
durable() {
	dd if=/tmp/dur.bin of="$dev" bs=64k seek=160 oflag=direct conv=fsync status=none &&
	link down &&
	in_im dstor import del "$dev" &&
	link up &&
	[ "$(dd if=/dev/ram0 bs=64k skip=160 count=16 iflag=direct status=none | sha256sum)" = \
	  "$(sha256sum </tmp/dur.bin)" ]
}
ktap_check "fsync'ed data is on the exporter after cut + import del" durable

# 6. An outage longer than the resend budget: EIO, state failed, the
#    device can be removed; a reconnect brings a failed import back.
dev=$(in_im dstor import add t0 --peer "$EX_IP4" --timeout 1 --retries 1 \
	--reconnect 1:1 --keepalive 1 --dead-after 2)
link down
ktap_check "write fails with EIO past the budget" \
	eval "! timeout 30 dd if=/dev/zero of=$dev bs=4k count=1 oflag=direct status=none"
ktap_check "state is failed" test "$(imp .state)" = failed
ktap_check "new I/O fails at once while failed" \
	eval "! timeout 3 dd if=$dev of=/dev/null bs=4k count=1 iflag=direct status=none"
link up
ktap_check "a reconnect brings it back" wait_for 15 eval "[ \"\$(imp .state)\" = connected ]"
ktap_check "I/O works again" dd if=/dev/zero of="$dev" bs=4k count=4 oflag=direct status=none
link down
timeout 30 dd if=/dev/zero of="$dev" bs=4k count=1 oflag=direct status=none 2>/dev/null
ktap_check "a failed import can be deleted" in_im dstor import del "$dev"
link up

kill $monpid
ktap_finish
