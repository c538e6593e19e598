#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The exporter's sessions: importers that fall silent, vanish or stop
# reading are closed ("reaped") once the keepalive and dead-after they
# announced have passed; sessions past an export's or a host's limit are
# refused with their own status and message; a write on a read-only session
# is refused (ROFS) and never written. A legitimate import keeps verifying
# its data while the reaping goes on.
#
#  +--------------------------------------+  veth  +-------------------------------+
#  | netns ex-PID (exporter)              +--------+ netns im-PID (importer)       |
#  |  192.0.2.1/24 (veth-ex)              |        |  192.0.2.2/24                 |
#  |  :7420 s0  /dev/ram0                 |        |  import of s0: fio --verify   |
#  |  :7421 s1  /dev/ram1 --max-sessions 4|        |  dstor-hostile: no-read,      |
#  |  :7422 s2  /dev/ram2                 |        |    silent, hold, write        |
#  |  :7423 r0  /dev/ram3 --read-only     |        |  imports of s1, s2 (limits)   |
#  |  :7423 r1  /dev/ram4 acl .2 ro .1 rw |        +-------------------------------+
#  |  198.51.100.1/24 (veth-gx)           |  veth  +-------------------------------+
#  |                                      +--------+ netns gn-PID ("gone")         |
#  +--------------------------------------+        |  198.51.100.2/24 (veth-g),    |
#                                                  |  192.0.2.0/24 via .1          |
#                                                  |  25 imports x 12 of s0, then  |
#                                                  |  its link down, import del    |
#                                                  +-------------------------------+
#
# The "gone" namespace reaches 192.0.2.1:7420 over its own link: nothing is
# forwarded (192.0.2.1 is the exporter's own address, its replies go back
# on veth-gx). Taking veth-g down cuts that namespace off alone, so its
# importers can vanish without the exporter hearing a FIN or a reset.
#
# Module-wide state: max-sessions and max-host-sessions are changed here
# and put back to what they were (also when the test is stopped).
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd fio jq sha256sum cmp dstor-hostile

# The importers announce keepalive 1 s and dead-after 2 s: the exporter
# must close their sessions 3 s after it last heard from them (or could
# last send to them). SLACK is what a busy two-core TCG guest may add;
# the debug kernel is several times slower, so fewer and more slack.
KA=1 DEAD=2
ANN=$((KA + DEAD))
SLACK=10
N_SILENT=300 VAN_IMPORTS=25 VAN_CONNS=12
if debug_kernel; then
	SLACK=20 N_SILENT=100 VAN_IMPORTS=10 VAN_CONNS=10
fi
N_VAN=$((VAN_IMPORTS * VAN_CONNS))

ktap_header
ktap_plan 47

NS_G=gn-$$
G_DEV=veth-g
GX_DEV=veth-gx
G_IP4=198.51.100.2
GX_IP4=198.51.100.1
in_g() { ip netns exec "$NS_G" "$@"; }

gone_setup() {
	ip netns add "$NS_G" &&
	ip -n "$NS_G" link set lo up &&
	ip link add "$GX_DEV" netns "$NS_EX" type veth peer name "$G_DEV" netns "$NS_G" &&
	ip -n "$NS_EX" addr add "$GX_IP4/24" dev "$GX_DEV" &&
	ip -n "$NS_G" addr add "$G_IP4/24" dev "$G_DEV" &&
	ip -n "$NS_EX" link set "$GX_DEV" up &&
	ip -n "$NS_G" link set "$G_DEV" up &&
	ip -n "$NS_G" route add 192.0.2.0/24 via "$GX_IP4" &&
	in_g ping -c 1 -W 5 "$EX_IP4" >/dev/null
}

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
at_exit 'ns_del "$NS_G"'
ktap_check "a third namespace with its own link to the exporter" gone_setup

# The module's limits as they were, put back at exit.
P=/sys/module/dstor/parameters
MAXS0=$(cat $P/max_sessions) MAXH0=$(cat $P/max_host_sessions)
at_exit "echo $MAXS0 >$P/max_sessions; echo $MAXH0 >$P/max_host_sessions"
[ "$MAXS0 $MAXH0" = "4096 16384" ] ||
	ktap_note "the module's limits were not the defaults: $MAXS0 $MAXH0"
at_exit 'touch /tmp/sessions-stop; kill $(jobs -p) 2>/dev/null; wait; dstor_down "$NS_G" "$NS_IM" "$NS_EX"'

# One export's JSON field: exp_get NAME JQ-PATH
exp_get() { in_ex dstor show --json | jq -r ".exports[] | select(.name == \"$1\") | $2"; }
reaped() { exp_get "$1" .stats.sessions_reaped; }
sessions_are() { [ "$(exp_get "$1" .sessions)" = "$2" ]; }
refused() { exp_get "$1" .stats.sessions_refused; }
now_s() { echo "${EPOCHREALTIME/[.,]/}"; }
secs_since() { # T0 [T1]: seconds (one decimal) from T0 to T1 or now, in us
	local d=$((${2:-$(now_s)} - $1))
	echo "$((d / 1000000)).$((d % 1000000 / 100000))"
}

# dstor-hostile in a namespace, its output kept: hostile NS LOG ARGS...
hostile() {
	local ns=$1 log=/tmp/sessions.$2.log
	shift 2
	ip netns exec "$ns" dstor-hostile "$@" >"$log" 2>&1 ||
		{ tail -n 20 "$log"; false; }
}
# Its summary lines (not the per-connection ones) as notes. (On failure,
# hostile has shown its last lines already.)
hostile_notes() { grep -v '^conn ' "/tmp/sessions.$1.log" | sed 's/^/# /'; }

# Write 4 MiB of random data through import DEV, read it back through the
# import and from the exporter's disk BACKING: all three the same.
data_check() { # DEV BACKING
	local f want
	f=$(mktemp)
	head -c $((4 << 20)) /dev/urandom >"$f"
	want=$(sha256sum <"$f")
	dd if="$f" of="$1" bs=1M oflag=direct status=none
	rm -f "$f"
	if [ "$(dd if="$1" bs=1M count=4 iflag=direct status=none | sha256sum)" != "$want" ] ||
	   [ "$(dd if="$2" bs=1M count=4 iflag=direct status=none | sha256sum)" != "$want" ]; then
		echo "# $1 or $2 does not hold what was written"
		return 1
	fi
}

# --- reaping -------------------------------------------------------------------
ktap_check "export s0" in_ex dstor export add s0 --device /dev/ram0 --listen "$EX_IP4:7420"
d0=$(in_im dstor import add s0 --peer "$EX_IP4:7420" --connections 2)
ktap_check "a legitimate import of s0 (2 connections, default timers)" test -b "$d0"

# Legitimate I/O while the exporter reaps: rounds of random writes, each
# verified. A failed round leaves its fio output. (No disk statistics:
# fio would walk /sys/block while the imports below come and go, and say
# "stat: No such file or directory" when one goes.)
rm -f /tmp/sessions-stop /tmp/sessions-fail /tmp/sessions-rounds
verify_loop() { # DEV
	local n=0
	while [ ! -e /tmp/sessions-stop ]; do
		if ! fio --name=v --filename="$1" --size=8M --bs=16k --rw=randwrite \
			--direct=1 --ioengine=libaio --iodepth=8 --verify=crc32c \
			--do_verify=1 --verify_fatal=1 --randseed=$n --disk_util=0 \
			--output-format=json >/tmp/sessions-fio.json 2>/tmp/sessions-fio.err ||
		   ! jq -e '[.jobs[].error] | all(. == 0)' /tmp/sessions-fio.json >/dev/null 2>&1; then
			cat /tmp/sessions-fio.err /tmp/sessions-fio.json >/tmp/sessions-fail
			break
		fi
		n=$((n + 1))
		echo $n >/tmp/sessions-rounds
	done
}
verify_loop "$d0" &
vpid=$!

# 1. A client that pipelines 32 READs of 512 KiB and reads no reply, while
#    it pings every 250 ms: the exporter hears from it all the time, but its
#    replies stall. First of the reaping cases, so that its log line is not
#    lost to the rate limit of the 300 that follow.
r0=$(reaped s0)
ktap_check "a client that stops reading is cut off within $ANN+$SLACK s of its replies stalling" \
	hostile "$NS_IM" noread --connect "$EX_IP4:7420" --export s0 --mode no-read \
	--keepalive $KA --dead-after $DEAD --reads 32 --read-size 524288 --bound $((ANN + SLACK)) &&
	hostile_notes noread
ktap_check "counted in sessions_reaped; logged as not reading" eval "
	[ \"\$(reaped s0)\" = $((r0 + 1)) ] &&
	dmesg | grep -Eq 'export s0: closed the session of ${IM_IP4//./\\.}(:[0-9]+)?: it stopped reading replies'"

# 2. Clients that complete the HELLO and then say nothing, keeping their
#    sockets open: each closed 3 s after its HELLO, never sooner.
r0=$(reaped s0)
ktap_check "$N_SILENT silent clients all closed within $ANN+$SLACK s of their HELLO_REPLY" \
	hostile "$NS_IM" silent --connect "$EX_IP4:7420" --export s0 --mode silent \
	--connections $N_SILENT --concurrency 24 --keepalive $KA --dead-after $DEAD \
	--bound $((ANN + SLACK)) &&
	hostile_notes silent
ktap_check "sessions_reaped grew by exactly $N_SILENT" \
	eval "[ \"\$(reaped s0)\" = $((r0 + N_SILENT)) ]"
ktap_check "s0 is back to the legitimate import's 2 sessions" wait_for 10 sessions_are s0 2

# 2b. Clients of protocol version 2 (their HELLO offers 2..2): the exporter
#     answers version 2, which they decode (without KA_LEAD, version 3's),
#     and reaps them as silent clients.
r0=$(reaped s0)
ktap_check "24 version 2 clients: answered version 2, closed within $ANN+$SLACK s" \
	hostile "$NS_IM" silentv2 --connect "$EX_IP4:7420" --export s0 --mode silent \
	--connections 24 --version-max 2 --keepalive $KA --dead-after $DEAD \
	--bound $((ANN + SLACK)) &&
	hostile_notes silentv2
ktap_check "sessions_reaped grew by exactly 24" eval "[ \"\$(reaped s0)\" = $((r0 + 24)) ]"

# 3. Importers that vanish: VAN_IMPORTS imports with VAN_CONNS connections
#    each from the "gone" namespace, whose link is then cut; they are
#    deleted on their side, and the exporter never hears of it.
van_up() {
	local i d
	for i in $(seq 1 $VAN_IMPORTS); do
		d=$(in_g dstor import add s0 --peer "$EX_IP4:7420" --connections $VAN_CONNS \
			--keepalive $KA --dead-after $DEAD) || { echo "import $i failed"; return 1; }
		[ -b "$d" ] || { echo "import $i: no device '$d'"; return 1; }
	done
}
t0=$(now_s)
r_set=$(reaped s0)
ktap_check "$VAN_IMPORTS imports x $VAN_CONNS connections of s0 from $NS_G (keepalive $KA, dead-after $DEAD)" van_up
ktap_note "$N_VAN connections up in $(secs_since "$t0") s"
ktap_check "the exporter has 2 + $N_VAN sessions of s0" wait_for 10 sessions_are s0 $((2 + N_VAN))
ktap_check "they are all connected" \
	test "$(in_g dstor show --json | jq "[.imports[] | select(.state == \"connected\" and .connected == $VAN_CONNS)] | length")" = $VAN_IMPORTS

# tcp_gone SECS: the time (microseconds) at which the exporter's namespace
# has no TCP connection from the gone namespace ESTABLISHED any more (its
# sockets leave that state when the exporter closes them), or nothing
# after SECS. A shell in that namespace asks ss, a netlink dump, each time.
tcp_gone() {
	in_ex bash -c '
		end=$((${EPOCHREALTIME/[.,]/} + $2 * 1000000))
		while [ "${EPOCHREALTIME/[.,]/}" -lt $end ]; do
			[ -n "$(ss -Htn state established dst "$1")" ] ||
				{ echo "${EPOCHREALTIME/[.,]/}"; exit 0; }
			sleep 0.1
		done' - "$G_IP4" "$1"
}

van_del() {
	local d
	for d in $(in_g dstor show --json | jq -r '.imports[].device'); do
		in_g dstor import del "$d" || echo "import del $d failed"
	done
}
r0=$(reaped s0)
# With 1 s and 2 s timers, a guest the host stops for a few seconds (TCG on
# a busy host) loses sessions while they are set up; their importers
# reconnect. Said, not counted.
[ "$r0" = "$r_set" ] ||
	ktap_note "$((r0 - r_set)) of their sessions were reaped while they were set up (the importers reconnected)"
tcp_gone $((ANN + SLACK)) >/tmp/sessions-tcpgone &
tpid=$!
t0=$(now_s)
ip -n "$NS_G" link set "$G_DEV" down
van_del >/tmp/sessions-vandel.log 2>&1 &
dpid=$!
gone=no
wait_for $((ANN + SLACK)) sessions_are s0 2 && gone=yes
ktap_note "dstor show: s0 has $(exp_get s0 .sessions) sessions $(secs_since "$t0") s after the cut (announced $ANN s)"
wait $tpid
[ ! -s /tmp/sessions-tcpgone ] ||
	ktap_note "ss: the exporter's last TCP connection to them closed $(secs_since "$t0" "$(cat /tmp/sessions-tcpgone)") s after the cut"
ktap_check "the exporter closed all $N_VAN within $ANN+$SLACK s of the cut" test $gone = yes
wait $dpid
ktap_check "the vanished imports were deleted on their side" eval "
	[ ! -s /tmp/sessions-vandel.log ] &&
	[ \"\$(in_g dstor show --json | jq '.imports | length')\" = 0 ]" ||
	head -n 5 /tmp/sessions-vandel.log | sed 's/^/# /'
ktap_check "sessions_reaped grew by exactly $N_VAN" \
	eval "[ \"\$(reaped s0)\" = $((r0 + N_VAN)) ]"

touch /tmp/sessions-stop
wait $vpid
ktap_note "the legitimate import: $(cat /tmp/sessions-rounds 2>/dev/null || echo 0) verified fio rounds"
[ ! -e /tmp/sessions-fail ] || head -c 2000 /tmp/sessions-fail | sed 's/^/# /'
ktap_check "the legitimate import verified every round meanwhile" \
	eval "[ ! -e /tmp/sessions-fail ] && [ \"\$(cat /tmp/sessions-rounds 2>/dev/null)\" -ge 1 ]"
ktap_check "it stayed connected, without a reconnect" \
	test "$(in_im dstor show --json | jq -r ".imports[] | select(.device == \"$d0\") | \"\(.state) \(.stats.reconnects)\"")" = "connected 0"
ktap_check "import del of s0" in_im dstor import del "$d0"

# --- session limits ------------------------------------------------------------
# at_limit EXPORT PORT N BACKING TEXT: with room for N sessions of ours, an
# import of EXPORT (listening on PORT, its disk BACKING) with N connections
# comes up and holds what it writes; one session more is refused, the
# importer saying TEXT, and counted. The import's device is left in $limdev.
at_limit() {
	local exp=$1 port=$2 n=$3 said rc
	limdev=$(in_im dstor import add "$exp" --peer "$EX_IP4:$port" --connections "$n")
	ktap_check "an import of $exp with $n connections: $n sessions" \
		eval "[ -b '$limdev' ] && sessions_are $exp $n"
	ktap_check "it writes, and reads back what it wrote" data_check "$limdev" "$4"
	# (Not $out: ktap_check has a local of that name.)
	said=$(in_im dstor import add "$exp" --peer "$EX_IP4:$port" --connections 1 2>&1)
	rc=$?
	ktap_note "import add: exit $rc: $said"
	ktap_check "one session more is refused: '$5'" \
		eval "[ $rc -ne 0 ] && grep -q '$5' <<<\"\$said\""
	ktap_check "counted: sessions_refused 1, still $n sessions, no import added" eval "
		[ \"\$(refused $exp) \$(exp_get $exp .sessions)\" = '1 $n' ] &&
		[ \"\$(in_im dstor show --json | jq '.imports | length')\" = 1 ]"
}

ktap_check "export s1 --max-sessions 4" eval "
	in_ex dstor export add s1 --device /dev/ram1 --listen $EX_IP4:7421 --max-sessions 4 &&
	[ \"\$(exp_get s1 .max_sessions)\" = 4 ]"
at_limit s1 7421 4 /dev/ram1 "the export has reached its session limit"
d1=$limdev
ktap_check "3 raw sessions more: every one refused LIMIT_EXPORT" eval "
	hostile $NS_IM hold1 --connect $EX_IP4:7421 --export s1 --mode hold --connections 3 --expect-ok 0 &&
	grep -qx 'hold: hello statuses: limit-export=3' /tmp/sessions.hold1.log &&
	[ \"\$(refused s1)\" = 4 ]"
ktap_check "import del: its 4 sessions are freed" eval "
	in_im dstor import del $d1 && wait_for 10 sessions_are s1 0"
ktap_check "then 5 raw sessions at once: 4 admitted, 1 refused" eval "
	hostile $NS_IM hold2 --connect $EX_IP4:7421 --export s1 --mode hold --connections 5 \
		--concurrency 5 --expect-ok 4 &&
	grep -qx 'hold: hello statuses: ok=4 limit-export=1' /tmp/sessions.hold2.log"

ktap_check "dstor set max-host-sessions 3 (sysfs and show agree)" eval "
	dstor set max-host-sessions 3 && [ \"\$(cat $P/max_host_sessions)\" = 3 ] &&
	[ \"\$(in_ex dstor show --json | jq .limits.max_host_sessions)\" = 3 ]"
ktap_check "export s2 on a listener of its own" \
	in_ex dstor export add s2 --device /dev/ram2 --listen "$EX_IP4:7422"
at_limit s2 7422 3 /dev/ram2 "too many sessions from this host"
d2=$limdev
ktap_check "another address (192.0.2.1) still gets a session" \
	hostile "$NS_EX" hold3 --connect "$EX_IP4:7422" --export s2 --mode hold --connections 1 --expect-ok 1
ktap_check "max-host-sessions back to $MAXH0; max-sessions 5: s2 (no limit of its own) takes 2 more, s1 keeps 4" eval "
	dstor set max-host-sessions $MAXH0 && dstor set max-sessions 5 &&
	[ \"\$(exp_get s2 .max_sessions) \$(exp_get s1 .max_sessions)\" = '5 4' ] &&
	hostile $NS_IM hold4 --connect $EX_IP4:7422 --export s2 --mode hold --connections 3 \
		--concurrency 1 --expect-ok 2 &&
	grep -qx 'hold: hello statuses: ok=2 limit-export=1' /tmp/sessions.hold4.log"
ktap_check "module limits restored ($MAXS0, $MAXH0)" eval "
	dstor set max-sessions $MAXS0 && [ \"\$(cat $P/max_sessions) \$(cat $P/max_host_sessions)\" = '$MAXS0 $MAXH0' ] &&
	[ \"\$(in_ex dstor show --json | jq -c '[.limits.max_sessions, .limits.max_host_sessions]')\" = '[$MAXS0,$MAXH0]' ]"
ktap_check "import del of s2" in_im dstor import del "$d2"

# --- writes on read-only sessions ------------------------------------------------
# Known, random content on both disks; WRITE, WRITE_ZEROES and DISCARD of
# 64 KiB at 1 MiB must each get ROFS, and the disk stays byte-identical.
for r in /dev/ram3 /dev/ram4; do
	head -c $((8 << 20)) /dev/urandom | dd of=$r bs=1M oflag=direct status=none
done
disk_sum() { sha256sum <"$1"; }
sum3=$(disk_sum /dev/ram3)
sum4=$(disk_sum /dev/ram4)
rofs() { # NS LOG EXPORT [--read-only]
	local ns=$1 log=$2 exp=$3
	shift 3
	hostile "$ns" "$log" --connect "$EX_IP4:7423" --export "$exp" --mode write \
		--expect rofs "$@"
}
ktap_check "export r0 --read-only" \
	in_ex dstor export add r0 --device /dev/ram3 --listen "$EX_IP4:7423" --read-only
ktap_check "raw WRITE, WRITE_ZEROES, DISCARD on the read-only export: ROFS each" \
	rofs "$NS_IM" rofs1 r0 && hostile_notes rofs1
ktap_check "r0's disk is byte-identical (sha256)" test "$(disk_sum /dev/ram3)" = "$sum3"
ktap_check "export r1 (read-write), acl 192.0.2.2/32 ro, 192.0.2.1/32 rw" eval "
	in_ex dstor export add r1 --device /dev/ram4 --listen $EX_IP4:7423 &&
	in_ex dstor acl add r1 $IM_IP4/32 ro && in_ex dstor acl add r1 $EX_IP4/32 rw"
ktap_check "raw writes from the read-only grant (192.0.2.2): ROFS each" \
	rofs "$NS_IM" rofs2 r1 && hostile_notes rofs2
ktap_check "raw writes on a session that said READ_ONLY (192.0.2.1, granted rw): ROFS each" \
	rofs "$NS_EX" rofs3 r1 --read-only
ktap_check "r1's disk is byte-identical (sha256)" test "$(disk_sum /dev/ram4)" = "$sum4"
# The same WRITE where it is allowed does land: the check above can fail.
ktap_check "control: the same WRITE from the rw grant is written" eval "
	hostile $NS_EX wr --connect $EX_IP4:7423 --export r1 --mode write --expect ok \
		--pattern-out /tmp/sessions-pattern &&
	dd if=/dev/ram4 bs=64k skip=16 count=1 iflag=direct status=none | cmp - /tmp/sessions-pattern"

all_del() {
	local e
	for e in s0 s1 s2 r0 r1; do
		in_ex dstor export del $e || return 1
	done
	[ "$(show_json | jq '(.exports | length) + (.imports | length)')" = 0 ]
}
ktap_check "export del: no dstor state left" all_del

ktap_finish
