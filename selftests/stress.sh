#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Races: while verified I/O runs on two imports (one plain, one sealed),
# other imports and exports are added and deleted with I/O on them, the
# link is cut and restored, and the crypto pool is resized and switched
# on and off for records of over 4 KiB (seal_inline_max), for a few
# minutes. Nothing may crash, leak or corrupt: the steady imports verify
# every round, and the harness fails on any kernel report (KASAN, lockdep,
# kmemleak on the debug kernel). Then a sealed import's writeback under
# memory pressure: an ext4 on it written by fio in a small memory cgroup.
#
#  +-------------------------------+   veth (cut now and then)   +------------------------+
#  | netns ex-PID                  |                             | netns im-PID           |
#  |  /dev/ram0 -> "p0"            +-----------------------------+  steady:  p0, k0      |
#  |  /dev/ram1 -> "k0" (--key)    |                             |  churned: p0, k0, c0  |
#  |  /dev/ram2 -> "c0" (churned)  |                             |  then m0: ext4, fio in |
#  |  /dev/ram3 -> "m0" (--key)    |                             |  a memory cgroup       |
#  +-------------------------------+                             +------------------------+
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd fio jq mkfs.ext4 e2fsck

SECS=${STRESS_SECS:-30}
debug_kernel && SECS=${STRESS_SECS:-60}

ktap_header
ktap_plan 11

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
INLINE=/sys/module/dstor/parameters/seal_inline_max
at_exit 'touch /tmp/stress-stop; kill $(jobs -p) 2>/dev/null; wait; dstor set crypto-workers 2; echo 16384 >$INLINE; dstor_down "$NS_IM" "$NS_EX"'

K=$(mktemp -d)
(umask 077 && dstor genkey >"$K/k")
ktap_check "exports p0 (plain), k0 (keyed), c0" eval "
	in_ex dstor export add p0 --device /dev/ram0 --listen $EX_IP4 &&
	in_ex dstor export add k0 --device /dev/ram1 --listen $EX_IP4 --key $K/k &&
	in_ex dstor export add c0 --device /dev/ram2 --listen $EX_IP4"
# Steady imports ride out the link cuts (up to 4 s) on their timers.
T="--timeout 5 --retries 10 --reconnect 1:2 --keepalive 1 --dead-after 3"
# shellcheck disable=SC2086
p=$(in_im dstor import add p0 --peer "$EX_IP4" --connections 2 $T)
# shellcheck disable=SC2086
k=$(in_im dstor import add k0 --peer "$EX_IP4" --connections 2 --key "$K/k" $T)
ktap_check "steady imports of p0 and k0" eval "[ -b '$p' ] && [ -b '$k' ]"

rm -f /tmp/stress-stop /tmp/stress-fail.* /tmp/stress-rounds.*
verify_loop() { # DEV TAG: rounds of verified random writes
	local n=0
	while [ ! -e /tmp/stress-stop ]; do
		fio --name=v --filename="$1" --size=4M --bs=4k --bsrange=4k-256k --rw=randwrite \
			--direct=1 --ioengine=libaio --iodepth=8 --verify=crc32c \
			--do_verify=1 --verify_fatal=1 --randseed=$n \
			--output-format=json >"/tmp/stress-fio.$2.json" 2>"/tmp/stress-fio.$2.err" &&
		jq -e '[.jobs[].error] | all(. == 0)' "/tmp/stress-fio.$2.json" >/dev/null ||
			{ cp "/tmp/stress-fio.$2.json" "/tmp/stress-fail.$2"; break; }
		n=$((n + 1))
		echo $n >"/tmp/stress-rounds.$2"
	done
}
# Imports that come and go, with I/O on them while they go.
churn_imports() {
	local n=0 d e
	while [ ! -e /tmp/stress-stop ]; do
		for e in p0 k0 c0; do
			if [ $e = k0 ]; then
				d=$(in_im dstor import add $e --peer "$EX_IP4" --connections 3 \
					--key "$K/k" --timeout 2 --retries 1 2>/dev/null) || continue
			else
				d=$(in_im dstor import add $e --peer "$EX_IP4" --connections 3 \
					--timeout 2 --retries 1 2>/dev/null) || continue
			fi
			timeout 20 dd if="$d" of=/dev/null bs=64k count=32 iflag=direct status=none 2>/dev/null &
			sleep 0.$((RANDOM % 5))
			in_im dstor import del "$d" 2>/dev/null ||
				{ wait; in_im dstor import del "$d"; }
			wait
			n=$((n + 1))
		done
		echo $n >/tmp/stress-rounds.imports
	done
}
# An export deleted and added again under the churned imports' I/O.
churn_export() {
	local n=0
	while [ ! -e /tmp/stress-stop ]; do
		sleep 1.$((RANDOM % 10))
		in_ex dstor export del c0
		sleep 0.$((RANDOM % 10))
		in_ex dstor export add c0 --device /dev/ram2 --listen "$EX_IP4" || break
		n=$((n + 1))
		echo $n >/tmp/stress-rounds.exports
	done
}
churn_link() {
	local n=0
	while [ ! -e /tmp/stress-stop ]; do
		sleep $((3 + RANDOM % 5))
		ip -n "$NS_IM" link set "$IM_DEV" down
		sleep $((1 + RANDOM % 3))
		ip -n "$NS_IM" link set "$IM_DEV" up
		n=$((n + 1))
		echo $n >/tmp/stress-rounds.link
	done
}
churn_pool() {
	local n=0
	while [ ! -e /tmp/stress-stop ]; do
		dstor set crypto-workers $((1 + RANDOM % 4)) || break
		# Records of over 4 KiB on the pool, or each connection's own.
		echo $((RANDOM % 2 ? 4096 : 16384)) >$INLINE || break
		sleep 0.$((RANDOM % 10))
		n=$((n + 1))
		echo $n >/tmp/stress-rounds.pool
	done
}

verify_loop "$p" plain &
verify_loop "$k" sealed &
churn_imports &
churn_export &
churn_link &
churn_pool &
ktap_check "$SECS s of churn" sleep "$SECS"
touch /tmp/stress-stop
ip -n "$NS_IM" link set "$IM_DEV" up
wait
for t in plain sealed imports exports link pool; do
	ktap_note "$t: $(cat /tmp/stress-rounds.$t 2>/dev/null || echo 0) rounds"
done
for t in plain sealed; do
	# awk, not sed: a line cut by head still gets its newline, so the result
	# below starts a line of its own (and counts).
	[ ! -e /tmp/stress-fail.$t ] || head -c 3000 /tmp/stress-fail.$t | awk '{ print "# " $0 }'
done
ktap_check "the plain import verified every round" \
	eval "[ ! -e /tmp/stress-fail.plain ] && [ \"\$(cat /tmp/stress-rounds.plain 2>/dev/null)\" -ge 1 ]"
ktap_check "the sealed import verified every round" \
	eval "[ ! -e /tmp/stress-fail.sealed ] && [ \"\$(cat /tmp/stress-rounds.sealed 2>/dev/null)\" -ge 1 ]"
ktap_check "imports, exports, the link and the pool were all churned" \
	eval "for t in imports exports link pool; do [ \"\$(cat /tmp/stress-rounds.\$t 2>/dev/null)\" -ge 1 ] || exit 1; done"
ktap_check "the steady imports are connected" \
	wait_for 30 eval '[ "$(in_im dstor show --json | jq "[.imports[] | select(.state == \"connected\")] | length")" = 2 ]'

# Memory pressure: the import of m0 (sealed) carries an ext4 that fio writes
# with buffered I/O from a memory cgroup of 32 MiB, so the job's dirty pages
# reach the exporter through writeback while reclaim evicts them: two jobs
# of 24 MiB files, twice over (96 MiB written), each pass read back after
# fio's fsync and cache drop, from the exporter, and verified. The cgroup
# must have hit its limit (memory.events max) and reclaimed (pgsteal), with
# no OOM kill. No memory controller (the debug kernel): skipped.
MNT=$(mktemp -d)
MCG=/sys/fs/cgroup/dstor-stress-$$
memcg_setup() {
	if ! grep -q '^[^ ]* /sys/fs/cgroup cgroup2 ' /proc/mounts; then
		mount -t cgroup2 none /sys/fs/cgroup || return 1
		at_exit umount /sys/fs/cgroup
	fi
	grep -qw memory /sys/fs/cgroup/cgroup.controllers &&
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control &&
	mkdir "$MCG" && at_exit rmdir "$MCG" &&
	echo 32M >"$MCG/memory.max"
}
# memcg_val FILE KEY: KEY's number in the cgroup's memory.events or memory.stat.
memcg_val() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$MCG/$1"; }
memory_pressure() {
	local dev t0 frc w r imr max oom pgsteal fsck
	dstor set crypto-workers 2 && echo 16384 >$INLINE &&
	in_ex dstor export add m0 --device /dev/ram3 --listen "$EX_IP4" --key "$K/k" &&
	dev=$(in_im dstor import add m0 --peer "$EX_IP4" --key "$K/k") &&
	mkfs.ext4 -q -F "$dev" && mount "$dev" "$MNT" || return 1
	at_exit umount "$MNT"
	t0=$SECONDS
	# The subshell joins the cgroup, then becomes fio.
	(echo "$BASHPID" >"$MCG/cgroup.procs" &&
		exec fio --name=mp --directory="$MNT" --numjobs=2 --size=24M --loops=2 \
			--rw=randwrite --bsrange=4k-256k --verify=crc32c --do_verify=1 \
			--verify_fatal=1 --group_reporting --output-format=json) \
		>/tmp/stress-mem.json 2>/tmp/stress-mem.err
	frc=$?
	# (A failed job's "fio: pid=..." line comes before the JSON.)
	sed -i '/^{/,$!d' /tmp/stress-mem.json
	w=$(jq '[.jobs[].write.io_bytes] | add' /tmp/stress-mem.json 2>/dev/null)
	r=$(jq '[.jobs[].read.io_bytes] | add' /tmp/stress-mem.json 2>/dev/null)
	imr=$(in_im dstor show --json | jq '.imports[] | select(.name == "m0") | .stats.read_bytes')
	max=$(memcg_val memory.events max)
	oom=$(memcg_val memory.events oom_kill)
	pgsteal=$(memcg_val memory.stat pgsteal)
	{
		echo "memory cgroup of 32 MiB: events max $max, oom $(memcg_val memory.events oom), oom_kill $oom;" \
			"peak $(($(cat "$MCG/memory.peak" 2>/dev/null || echo 0) >> 20)) MiB;" \
			"pgscan $(memcg_val memory.stat pgscan), pgsteal $pgsteal"
		echo "fio: ${w:-?} bytes written, ${r:-?} read back and verified, in $((SECONDS - t0)) s;" \
			"the import read ${imr:-?} bytes from the exporter"
	} >/tmp/stress-mem.txt
	# Unmounted whatever happened, so that the cases below can go on.
	umount "$MNT" && e2fsck -fn "$dev" >/tmp/stress-mem.fsck 2>&1
	fsck=$?
	[ $frc = 0 ] && jq -e '[.jobs[].error] | all(. == 0)' /tmp/stress-mem.json >/dev/null ||
		{ echo "fio exit $frc"; cat /tmp/stress-mem.err; grep -E '"(jobname|error|io_bytes)"' /tmp/stress-mem.json; return 1; }
	[ "$w" = $((2 * 2 * 24 << 20)) ] && [ "$r" = "$w" ] ||
		{ echo "fio did not write 96 MiB and verify all of it"; return 1; }
	[ "$imr" -ge "$r" ] || { echo "the verify reads did not all come from the exporter"; return 1; }
	[ "$max" -gt 0 ] && [ "$pgsteal" -gt 0 ] && [ "$oom" = 0 ] ||
		{ echo "no memory pressure, or an OOM kill"; return 1; }
	[ $fsck = 0 ] || { echo "umount or e2fsck -fn failed:"; cat /tmp/stress-mem.fsck; return 1; }
}
MEM_CASE="sealed fio verify through ext4 under a 32 MiB memory cgroup"
if memcg_setup; then
	ktap_check "$MEM_CASE" memory_pressure
	sed 's/^/# /' /tmp/stress-mem.txt 2>/dev/null
elif ! grep -qsw memory /sys/fs/cgroup/cgroup.controllers; then
	ktap_skip "$MEM_CASE" "no memory cgroup controller"
else
	ktap_fail "$MEM_CASE" "cannot set up the memory cgroup $MCG"
fi
ktap_check "everything deleted" eval 'dstor_down "$NS_IM" "$NS_EX" && [ "$(show_json | jq "(.exports | length) + (.imports | length)")" = 0 ]'
ktap_check "no leak reported by the module's counters after unload" \
	eval 'rmmod dstor && ! dmesg | grep -q "dstor: leaked" && insmod "$DSTOR_KO"'

ktap_finish
