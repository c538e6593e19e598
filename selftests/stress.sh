#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Races: while verified I/O runs on two imports (one plain, one sealed),
# other imports and exports are added and deleted with I/O on them, the
# link is cut and restored, and the crypto pool is resized, for a few
# minutes. Nothing may crash, leak or corrupt: the steady imports verify
# every round, and the harness fails on any kernel report (KASAN, lockdep,
# kmemleak on the debug kernel).
#
#  +-------------------------------+   veth (cut now and then)   +------------------------+
#  | netns ex-PID                  |                             | netns im-PID           |
#  |  /dev/ram0 -> "p0"            +-----------------------------+  steady:  p0, k0      |
#  |  /dev/ram1 -> "k0" (--key)    |                             |  churned: p0, k0, c0  |
#  |  /dev/ram2 -> "c0" (churned)  |                             |                        |
#  +-------------------------------+                             +------------------------+
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd fio jq

SECS=${STRESS_SECS:-30}
debug_kernel && SECS=${STRESS_SECS:-180}

ktap_header
ktap_plan 10

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
at_exit 'touch /tmp/stress-stop; kill $(jobs -p) 2>/dev/null; wait; dstor set crypto-workers 2; dstor_down "$NS_IM" "$NS_EX"'

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
	[ ! -e /tmp/stress-fail.$t ] || head -c 3000 /tmp/stress-fail.$t | sed 's/^/# /'
done
ktap_check "the plain import verified every round" \
	eval "[ ! -e /tmp/stress-fail.plain ] && [ \"\$(cat /tmp/stress-rounds.plain 2>/dev/null)\" -ge 1 ]"
ktap_check "the sealed import verified every round" \
	eval "[ ! -e /tmp/stress-fail.sealed ] && [ \"\$(cat /tmp/stress-rounds.sealed 2>/dev/null)\" -ge 1 ]"
ktap_check "imports, exports, the link and the pool were all churned" \
	eval "for t in imports exports link pool; do [ \"\$(cat /tmp/stress-rounds.\$t 2>/dev/null)\" -ge 1 ] || exit 1; done"
ktap_check "the steady imports are connected" \
	wait_for 30 eval '[ "$(in_im dstor show --json | jq "[.imports[] | select(.state == \"connected\")] | length")" = 2 ]'
ktap_check "everything deleted" eval 'dstor_down "$NS_IM" "$NS_EX" && [ "$(show_json | jq "(.exports | length) + (.imports | length)")" = 0 ]'
ktap_check "no leak reported by the module's counters after unload" \
	eval 'rmmod dstor && ! dmesg | grep -q "dstor: leaked" && insmod "$DSTOR_KO"'

ktap_finish
