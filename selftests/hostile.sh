#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hostile input: thousands of malformed importer connections and malformed
# netlink requests against live exports, while legitimate importers keep
# verifying their data; and every state-changing command refused to a user
# without CAP_NET_ADMIN.
#
#  +-----------------------------------+   veth    +------------------------------+
#  | netns ex-PID (exporter)           |           | netns im-PID (importer)      |
#  |  /dev/ram0 -> "h0" (no key)       +-----------+  fio --verify on both        |
#  |  /dev/ram1 -> "h1" --key k        |           |  dstor-hostile -> h0, h1     |
#  |  192.0.2.1:7420                   |           |  192.0.2.2                   |
#  +-----------------------------------+           +------------------------------+
#  root namespace: dstor-nlfuzz against the genl family
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd fio jq setpriv dstor-hostile dstor-nlfuzz

ktap_header
ktap_plan 25

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
at_exit 'touch /tmp/hostile-stop; kill $(jobs -p) 2>/dev/null; wait; dstor_down "$NS_IM" "$NS_EX"'

# The Debian kernels run --strict: every reply correct, and none missing
# (a request counts as unanswered after 20 s without a reply on its
# connection: a starved guest is slow, not wrong). The debug kernel (KASAN,
# lockdep, kmemleak) is many times slower: the same attacks, fewer of them,
# and missing replies are printed but not counted as wrong.
N_PLAIN=1000 N_KEYED=500 N_NONE=100 N_NL=2000 STRICT=--strict FIO_MB=8
if debug_kernel; then
	N_PLAIN=100 N_KEYED=60 N_NONE=20 N_NL=300 STRICT= FIO_MB=2
fi

K=$(mktemp -d)
chmod 700 "$K"
(umask 077 && dstor genkey >"$K/k")

ktap_check "export h0 (plain) and h1 (keyed)" eval "
	in_ex dstor export add h0 --device /dev/ram0 --listen $EX_IP4 &&
	in_ex dstor export add h1 --device /dev/ram1 --listen $EX_IP4 --key $K/k"
d0=$(in_im dstor import add h0 --peer "$EX_IP4" --connections 2)
d1=$(in_im dstor import add h1 --peer "$EX_IP4" --key "$K/k" --connections 2)
ktap_check "legitimate imports of both" eval "[ -b '$d0' ] && [ -b '$d1' ]"

# The state the attacks must not change: names, devices, peers, states.
state() {
	show_json | jq -c '[.exports[] | [.name, .device, .listen, .key_id]],
		[.imports[] | [.device, .name, .peer, .state]]'
}
before=$(state)

# Legitimate I/O for as long as the attacks run: rounds of random writes,
# each verified, on both imports. A failed round leaves its fio output.
rm -f /tmp/hostile-stop /tmp/hostile-fail.* /tmp/hostile-rounds.*
verify_loop() { # DEV TAG
	local n=0
	while [ ! -e /tmp/hostile-stop ]; do
		if ! fio --name=v --filename="$1" --size=${FIO_MB}M --bs=16k --rw=randwrite \
			--direct=1 --ioengine=libaio --iodepth=8 --verify=crc32c \
			--do_verify=1 --verify_fatal=1 --randseed=$n \
			--output-format=json >"/tmp/hostile-fio.$2.json" 2>&1 ||
		   ! jq -e '[.jobs[].error] | all(. == 0)' "/tmp/hostile-fio.$2.json" >/dev/null; then
			cp "/tmp/hostile-fio.$2.json" "/tmp/hostile-fail.$2"
			break
		fi
		n=$((n + 1))
		echo $n >"/tmp/hostile-rounds.$2"
	done
}
verify_loop "$d0" plain &
v0=$!
verify_loop "$d1" sealed &
v1=$!

# --- the wire ----------------------------------------------------------------------
hostile() { # NAME CONNECTIONS SEED
	in_im dstor-hostile --connect "$EX_IP4:7420" --export "$1" \
		--connections "$2" --seed "$3" $STRICT >"/tmp/hostile.$1.log" 2>&1 ||
		{ tail -n 30 "/tmp/hostile.$1.log"; false; }
}
ktap_check "$N_PLAIN hostile connections to the plain export" hostile h0 $N_PLAIN 1
tail -n 8 /tmp/hostile.h0.log | sed 's/^/# /'
ktap_check "$N_KEYED hostile connections to the keyed export" hostile h1 $N_KEYED 2
tail -n 4 /tmp/hostile.h1.log | sed 's/^/# /'
ktap_check "hostile traffic to an export that does not exist" hostile nosuch $N_NONE 3

# --- netlink -----------------------------------------------------------------------
ktap_check "$N_NL malformed netlink requests: only errors, state unchanged" \
	eval "dstor-nlfuzz --iterations $N_NL --seed 7 >/tmp/nlfuzz.log 2>&1 ||
	      { tail -n 30 /tmp/nlfuzz.log; false; }"
tail -n 6 /tmp/nlfuzz.log | sed 's/^/# /'

touch /tmp/hostile-stop
wait $v0 $v1
for t in plain sealed; do
	ktap_note "$t import: $(cat /tmp/hostile-rounds.$t 2>/dev/null || echo 0) verified rounds"
done
ktap_check "the plain import verified every round meanwhile" \
	eval "[ ! -e /tmp/hostile-fail.plain ] && [ \"\$(cat /tmp/hostile-rounds.plain 2>/dev/null)\" -ge 1 ]"
ktap_check "the keyed import verified every round meanwhile" \
	eval "[ ! -e /tmp/hostile-fail.sealed ] && [ \"\$(cat /tmp/hostile-rounds.sealed 2>/dev/null)\" -ge 1 ]"
[ ! -e /tmp/hostile-fail.plain ] || head -c 2000 /tmp/hostile-fail.plain | sed 's/^/# /'
ktap_check "exports and imports unchanged" test "$(state)" = "$before"
ktap_check "both imports still connected" \
	test "$(show_json | jq '[.imports[] | select(.state == "connected")] | length')" = 2
ktap_check "the exporter counted the bad handshakes" \
	test "$(show_json | jq '.exports[] | select(.name == "h1") | .stats.auth_failures')" -gt 0

# --- CAP_NET_ADMIN -----------------------------------------------------------------
# The tool checks nothing itself: these are the kernel's EPERM answers.
nobody() { # NS CMD...
	local ns=$1
	shift
	ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"
}
eperm() { # NS CMD...: refused with EPERM's sentence, state unchanged
	nobody "$@" >/dev/null 2>/tmp/hostile-err
	local rc=$?
	[ $rc -ne 0 ] && grep -q CAP_NET_ADMIN /tmp/hostile-err && [ "$(state)" = "$before" ] ||
		{ echo "# rc $rc: $(cat /tmp/hostile-err)"; return 1; }
}
cp "$K/k" /tmp/hostile-key && chown 65534 /tmp/hostile-key
ktap_check "unprivileged: export add, set, rehash, del refused" eval "
	eperm $NS_EX dstor export add x --device /dev/ram3 --listen $EX_IP4:7421 &&
	eperm $NS_EX dstor export set h0 --key /tmp/hostile-key &&
	eperm $NS_EX dstor export rehash h0 &&
	eperm $NS_EX dstor export del h0"
ktap_check "unprivileged: import add, set, del refused" eval "
	eperm $NS_IM dstor import add h0 --peer $EX_IP4 &&
	eperm $NS_IM dstor import set $d0 --timeout 9 &&
	eperm $NS_IM dstor import del $d0"
ktap_check "unprivileged: acl add, del refused" eval "
	eperm $NS_EX dstor acl add h0 192.0.2.0/24 rw && eperm $NS_EX dstor acl del h0 192.0.2.0/24"
ktap_check "unprivileged: set crypto-workers refused" eperm "$NS_EX" dstor set crypto-workers 3
ktap_check "unprivileged: show and acl list work" \
	eval "nobody $NS_EX dstor show >/dev/null && nobody $NS_EX dstor acl list h0 >/dev/null"
rm -f /tmp/hostile-key

# --- CAP_NET_ADMIN without CAP_SYS_ADMIN --------------------------------------------
# A daemon trusted with the network but not the disks may import and look,
# but never open a local block device: export add and sync need
# CAP_SYS_ADMIN, and nothing is opened when it is missing.
netadmin() { # NS CMD...: as nobody, holding CAP_NET_ADMIN only
	local ns=$1
	shift
	ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin "$@"
}
esysadmin() { # NS CMD...: refused, naming CAP_SYS_ADMIN; state unchanged
	netadmin "$@" >/dev/null 2>/tmp/hostile-err
	local rc=$?
	[ $rc -ne 0 ] && grep -q CAP_SYS_ADMIN /tmp/hostile-err && [ "$(state)" = "$before" ] ||
		{ echo "# rc $rc: $(cat /tmp/hostile-err)"; return 1; }
}
ktap_check "CAP_NET_ADMIN only: export add refused, naming CAP_SYS_ADMIN" \
	esysadmin "$NS_EX" dstor export add x --device /dev/ram3 --listen "$EX_IP4:7421"
ktap_check "CAP_NET_ADMIN only: sync refused, naming CAP_SYS_ADMIN" \
	esysadmin "$NS_IM" dstor sync h0 --mcast "$IM_DEV" --target /dev/ram3
ktap_check "CAP_NET_ADMIN only: nothing opened the device" \
	eval "[ \"\$(in_ex dstor show --json | jq '[.exports[] | select(.device == \"/dev/ram3\")] | length')\" = 0 ] &&
	      in_ex dstor export add x3 --device /dev/ram3 --listen $EX_IP4:7422 && in_ex dstor export del x3"
ktap_check "CAP_NET_ADMIN only: show works" netadmin "$NS_IM" dstor show
nd=$(netadmin "$NS_IM" dstor import add h0 --peer "$EX_IP4" --connections 1 2>/tmp/hostile-err)
ktap_check "CAP_NET_ADMIN only: import add works" test -b "$nd"
ktap_check "CAP_NET_ADMIN only: import del works" netadmin "$NS_IM" dstor import del "$nd"

ktap_check "import del, export del" eval "
	in_im dstor import del $d0 && in_im dstor import del $d1 &&
	in_ex dstor export del h0 && in_ex dstor export del h1"
ktap_check "no dstor state left" \
	test "$(show_json | jq '(.exports | length) + (.imports | length)')" = 0

ktap_finish
