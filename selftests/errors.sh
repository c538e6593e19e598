#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every error the tool can meet: each one exits non-zero, prints one clear
# line, and changes nothing (`dstor show --json` is the same before and after).
#
#  +-----------------------------+          +-----------------------------+
#  | netns ex-PID                |   veth   | netns im-PID                |
#  |  export "e0" on /dev/ram2   +----------+  imports e0                 |
#  |  listen 192.0.2.1:7420      |          |                             |
#  +-----------------------------+          +-----------------------------+
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd jq setpriv

ktap_header
ktap_plan 29

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
at_exit 'dstor_down "$NS_IM" "$NS_EX"'
ktap_check "export add e0" \
	in_ex dstor export add e0 --device /dev/ram2 --listen "$EX_IP4:7420"
dev=$(in_im dstor import add e0 --peer "$EX_IP4")
ktap_check "import add e0" test -b "$dev"

state() { show_json | jq -c '[.exports[].name, .imports[].device]'; }
before=$(state)

# expect_error NAME PATTERN CMD...: CMD fails, stderr matches PATTERN (an
# extended regex), nothing else printed on stdout, and the state is unchanged.
expect_error() {
	local name=$1 pattern=$2 out err rc
	shift 2
	out=$("$@" 2>/tmp/err.txt)
	rc=$?
	err=$(cat /tmp/err.txt)
	if [ $rc -eq 0 ]; then
		ktap_fail "$name" "succeeded, expected failure: $*"
	elif ! grep -Eq "$pattern" <<<"$err"; then
		ktap_fail "$name" "stderr '$err' does not match '$pattern'"
	elif [ -n "$out" ]; then
		ktap_fail "$name" "printed on stdout: $out"
	elif [ "$(state)" != "$before" ]; then
		ktap_fail "$name" "state changed: $(state)"
	else
		ktap_note "$name: $err"
		ktap_ok "$name"
	fi
}

touch /tmp/regular-file
expect_error "device missing" "no such" \
	in_ex dstor export add x --device /dev/nonexistent --listen "$EX_IP4"
expect_error "device is not a block device (char)" "not a block device" \
	in_ex dstor export add x --device /dev/null --listen "$EX_IP4"
expect_error "device is not a block device (file)" "not a block device" \
	in_ex dstor export add x --device /tmp/regular-file --listen "$EX_IP4"
expect_error "device already exported" "in use" \
	in_ex dstor export add x --device /dev/ram2 --listen "$EX_IP4:7421"
expect_error "duplicate export name" "exists" \
	in_ex dstor export add e0 --device /dev/ram3 --listen "$EX_IP4"
expect_error "bad export name" "name" \
	in_ex dstor export add 'bad/name' --device /dev/ram3 --listen "$EX_IP4"
expect_error "listen address not on this host" "not an address of this host|assign" \
	in_ex dstor export add x --device /dev/ram3 --listen 198.51.100.7:7420

# A port another program holds: busybox nc listens in the exporter's netns
# (not through in_ex: $! must be nc itself, not a subshell).
ip netns exec "$NS_EX" nc -l -p 7500 >/dev/null 2>&1 &
ncpid=$!
at_exit "kill $ncpid"
wait_for 5 eval "in_ex netstat -ltn | grep -q ':7500 '"
expect_error "address in use" "in use" \
	in_ex dstor export add x --device /dev/ram3 --listen "$EX_IP4:7500"
kill $ncpid 2>/dev/null

expect_error "bad address" "address" \
	in_ex dstor export add x --device /dev/ram3 --listen 192.0.2.300:7420
expect_error "bad port" "port" \
	in_ex dstor export add x --device /dev/ram3 --listen "$EX_IP4:70000"
expect_error "host names are not resolved" "numeric|address" \
	in_im dstor import add e0 --peer exporter.example:7420
expect_error "unknown export on the peer" "no export" \
	in_im dstor import add nosuch --peer "$EX_IP4"
expect_error "nobody listening" "refused" \
	in_im dstor import add e0 --peer "$EX_IP4:7999"
expect_error "peer unreachable" "unreachable|timed out" \
	in_im dstor import add e0 --peer 198.51.100.9
expect_error "connections out of range" "connections" \
	in_im dstor import add e0 --peer "$EX_IP4" --connections 0
expect_error "read-only export imported read-write" "read-only" \
	eval "in_ex dstor export add ro0 --device /dev/ram3 --listen $EX_IP4 --read-only >/dev/null && \
	      in_im dstor import add ro0 --peer $EX_IP4; rc=\$?; in_ex dstor export del ro0; exit \$rc"
expect_error "export del of an unknown name" "no export" \
	in_ex dstor export del nosuch
expect_error "import del of an unknown device" "no such import" \
	in_im dstor import del /dev/dstor99

mnt=$(mktemp -d)
at_exit "umount $mnt; rmdir $mnt"
mkfs.ext4 -q -F "$dev" && mount "$dev" "$mnt"
expect_error "import del while mounted" "in use" in_im dstor import del "$dev"
umount "$mnt"

expect_error "not root" "permission denied|CAP_NET_ADMIN" \
	in_ex setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	dstor export add x --device /dev/ram3 --listen "$EX_IP4"
expect_error "not root: import del" "permission denied|CAP_NET_ADMIN" \
	in_im setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	dstor import del "$dev"
ktap_check "not root: show still works" \
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all dstor show

# Module parameters with a range refuse what is outside it (or not a
# number) and keep their value.
params_refuse() {
	local P=/sys/module/dstor/parameters p v0 bad
	for p in max_sessions:0 max_host_sessions:1000001 sync_rcvbuf:1 \
		 sync_rcvbuf:268435457 sync_rcvbuf:abc seal_inline_max:31 \
		 seal_inline_max:16385; do
		bad=${p#*:} p=${p%%:*}
		v0=$(cat $P/$p) || return 1
		if (echo "$bad" >$P/$p) 2>/dev/null; then
			echo "$p accepted $bad"
			echo "$v0" >$P/$p
			return 1
		fi
		[ "$(cat $P/$p)" = "$v0" ] || { echo "$p changed"; return 1; }
	done
}
ktap_check "module parameters out of range are refused" params_refuse

ktap_check "import del" in_im dstor import del "$dev"
ktap_check "export del" in_ex dstor export del e0

# Without the module the tool says so.
rmmod dstor
at_exit "insmod $DSTOR_KO"
before=$(echo)
state() { echo; }
expect_error "module not loaded" "not loaded" dstor show

ktap_finish
