#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Configuration files: `dstor apply` brings an export (with a key and an
# access list) and an import up from a file in each namespace, changes what
# a file edit changes (in place where it can), removes what a file drops,
# refuses a file with an error without changing anything, `dstor showconf`
# writes a file that applies as no change, and `dstor down` refuses a
# mounted import, naming the mount point, then removes everything.
#
#  +--------------------------------+          +--------------------------------+
#  | netns ex-PID (exporter)        |   veth   | netns im-PID (importer)        |
#  |  $D/ex.conf: [export c0]       |          |  $D/im.conf: [import c0]       |
#  |   /dev/ram0, key, allow        +----------+   peer 192.0.2.1, key, timers  |
#  |  192.0.2.1                     |          |  192.0.2.2     /dev/dstorN     |
#  +--------------------------------+          +--------------------------------+
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd jq sha256sum mkfs.ext4 nsenter

ktap_header
ktap_plan 34

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
at_exit 'dstor_down "$NS_IM" "$NS_EX"'

D=$(mktemp -d)
at_exit "rm -rf $D"
(umask 077 && dstor genkey >"$D/k.key")
keyid=$(dstor keyid "$D/k.key")

ex_conf() { # $1: the second allow entry; $2: more sections
	cat >"$D/ex.conf" <<-EOF
		# the exporter
		[export c0]
		device = /dev/ram0
		listen = $EX_IP4:7420
		key = $D/k.key
		allow = $IM_IP4=rw
		allow = ${1:-198.51.100.0/24=ro}
		${2:-}
	EOF
}
im_conf() { # $1: the timeout; $2: the peer's port
	cat >"$D/im.conf" <<-EOF
		[import c0]
		peer = $EX_IP4:${2:-7420}
		key = $D/k.key
		timeout = ${1:-20}
	EOF
}
ex_conf
im_conf

# What must not change when apply refuses: the objects, without counters.
state() {
	show_json | jq -c '{e: [.exports[] | {name, device, listen, key_id, acls, uuid}],
		i: [.imports[] | {index, name, peer, key_id, timers, read_only}]}'
}
import_json() { in_im dstor show --json | jq -c '.imports[0]'; }
connected() { [ "$(import_json | jq -r .state)" = connected ]; }
nothing() { [ "$1" = "dstor: nothing to change" ]; }

out=$(in_ex dstor apply "$D/ex.conf")
ktap_check "apply adds the export with its key and access list" \
	test "$out" = "dstor export add c0 --device /dev/ram0 --listen $EX_IP4:7420 --key $D/k.key --allow $IM_IP4/32=rw --allow 198.51.100.0/24=ro"
ktap_check "the export holds the key file's key and the access list" \
	test "$(in_ex dstor show --json | jq -c '.exports[0] | [.key_id, (.acls | length)]')" = "[\"$keyid\",2]"

out=$(in_im dstor apply "$D/im.conf")
ktap_check "apply adds the import" \
	test "$out" = "dstor import add c0 --peer $EX_IP4:7420 --name c0 --key $D/k.key --timeout 20"
ktap_check "the import connects" wait_for 30 connected
dev=$(import_json | jq -r .device)
index=$(import_json | jq -r .index)
ktap_check "its local name is the export's (/dev/disk/by-dstor/c0)" \
	test "$(cat "/sys/block/${dev#/dev/}/dstor/name")" = c0

verify() {
	head -c $((8 << 20)) /dev/urandom >"$D/data" &&
	dd if="$D/data" of="$dev" bs=1M oflag=direct status=none &&
	a=$(sha256sum <"$D/data") &&
	b=$(dd if="$dev" bs=1M count=8 iflag=direct status=none | sha256sum) &&
	c=$(dd if=/dev/ram0 bs=1M count=8 iflag=direct status=none | sha256sum) &&
	[ "$a" = "$b" ] && [ "$a" = "$c" ]
}
ktap_check "data written through the import reads back (sha256)" verify

ktap_check "a second apply changes nothing (exporter)" nothing "$(in_ex dstor apply "$D/ex.conf")"
ktap_check "a second apply changes nothing (importer)" nothing "$(in_im dstor apply "$D/im.conf")"

im_conf 7
dry_run() {
	[ "$(in_im dstor apply --dry-run "$D/im.conf")" = "dstor import set $dev --timeout 7" ] &&
	[ "$(import_json | jq .timers.timeout)" = 20 ]
}
ktap_check "--dry-run prints the change and makes none" dry_run

# The timer changes while a writer runs: same device, no I/O error.
in_time() {
	dd if=/dev/urandom of="$dev" bs=1M count=16 seek=8 oflag=direct status=none &
	local w=$! out
	out=$(in_im dstor apply "$D/im.conf") &&
	wait "$w" &&
	[ "$out" = "dstor import set $dev --timeout 7" ] &&
	[ "$(import_json | jq -c '[.index, .timers.timeout, .stats.errors]')" = "[$index,7,0]" ] &&
	verify
}
ktap_check "a timer edit applies in place: same device, I/O goes on" in_time
ktap_check "and applying again changes nothing" nothing "$(in_im dstor apply "$D/im.conf")"

# An access list edit: acl add before acl del, the importer stays.
ex_conf 203.0.113.0/24=ro
out=$(in_ex dstor apply "$D/ex.conf")
ktap_check "an access list edit applies in place" \
	test "$out" = "dstor acl add c0 203.0.113.0/24 ro
dstor acl del c0 198.51.100.0/24"
ktap_check "the import stayed connected, the data still verifies" verify

# refused CODE PATTERN CMD...: CMD exits with CODE and its stderr has PATTERN.
refused() {
	local code=$1 pattern=$2 err rc
	shift 2
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	echo "$err"
	[ "$rc" = "$code" ] && grep -q "$pattern" <<<"$err"
}

# One error anywhere: nothing changes, the error names FILE:LINE.
before=$(state)
sed 's/timeout = 7/timeout = 9/' "$D/im.conf" >"$D/bad.conf"
echo "colour = blue" >>"$D/bad.conf"
ktap_check "a file with an error: exit 2, FILE:LINE: message" \
	refused 2 "^$D/bad.conf:5: \[import c0\]: unknown key 'colour'" in_im dstor apply "$D/bad.conf"
c1="[export c1]
		device = /dev/ram1
		listen = $EX_IP4:7420"
ex_conf 203.0.113.0/24=ro "$c1
		key = $D/missing.key"
ktap_check "a missing key file: exit 2, FILE:LINE: message" \
	refused 2 "^$D/ex.conf:11: \[export c1\]: $D/missing.key" in_ex dstor apply "$D/ex.conf"
ktap_check "the refused files changed nothing" test "$(state)" = "$before"

# A section added, then dropped: apply made it, so apply removes it. An
# export made by hand stays unless --prune.
ex_conf 203.0.113.0/24=ro "$c1"
in_ex dstor apply "$D/ex.conf" >/dev/null
in_ex dstor export add hand --device /dev/ram2 --listen "$EX_IP4:7420"
ex_conf 203.0.113.0/24=ro
drop() {
	[ "$(in_ex dstor apply "$D/ex.conf")" = "dstor export del c1" ] &&
	[ "$(in_ex dstor show --json | jq -c '[.exports[].name] | sort')" = '["c0","hand"]' ]
}
ktap_check "a dropped section removes what apply made, not the rest" drop
prune() { [ "$(in_ex dstor apply --prune "$D/ex.conf")" = "dstor export del hand" ]; }
ktap_check "--prune removes what the files do not list" prune

# showconf: what runs, as a file that applies as no change. With the key
# file found in the directory searched (DSTOR_CONF_DIR), key = that file.
round_trip() {
	in_ex env DSTOR_CONF_DIR="$D" dstor showconf >"$D/ex-show.conf" &&
	in_im env DSTOR_CONF_DIR="$D" dstor showconf >"$D/im-show.conf" &&
	grep -q "^key = $D/k.key\$" "$D/ex-show.conf" &&
	nothing "$(in_ex dstor apply "$D/ex-show.conf")" &&
	nothing "$(in_im dstor apply "$D/im-show.conf")"
}
ktap_check "showconf > f; apply f: nothing to change" round_trip
# The kernel keeps an access list longest prefix first and, within a
# length, in address order: showconf's lines do not depend on the order
# the entries came in (a file captured by showconf and applied at boot
# shows the same again).
allows() { in_ex dstor showconf | grep '^allow = '; }
acl_order() {
	local a b x
	for x in 192.0.2.9 192.0.2.5 192.0.2.7; do in_ex dstor acl add c0 "$x" ro || return 1; done
	a=$(allows)
	for x in 192.0.2.9 192.0.2.5 192.0.2.7; do in_ex dstor acl del c0 "$x" || return 1; done
	for x in 192.0.2.7 192.0.2.5 192.0.2.9; do in_ex dstor acl add c0 "$x" ro || return 1; done
	b=$(allows)
	for x in 192.0.2.9 192.0.2.5 192.0.2.7; do in_ex dstor acl del c0 "$x" || return 1; done
	echo "$a"; echo "--"; echo "$b"
	[ "$a" = "$b" ]
}
ktap_check "showconf lists access entries in one order, whatever order they were added in" acl_order
# Without the key file: a comment, and a key line that apply refuses.
no_key_file() {
	in_ex env DSTOR_CONF_DIR="$D/none" dstor showconf >"$D/nokey.conf" &&
	grep -q "^# key: id $keyid, no file with this key found in $D/none\$" "$D/nokey.conf" &&
	! grep -qF "$(cat "$D/k.key")" "$D/nokey.conf" &&
	! in_ex dstor apply "$D/nokey.conf" >/dev/null 2>&1 &&
	[ "$(state)" = "$before" ]
}
ktap_check "showconf never prints a key; a key with no file is refused, not dropped" no_key_file

# down: a mounted import is refused with its mount point; after umount,
# everything goes.
mnt=$D/mnt
mkdir "$mnt"
at_exit "umount $mnt"
mkfs.ext4 -q -F "$dev" && in_net "$NS_IM" mount "$dev" "$mnt"
im_conf 7 7421
ktap_check "apply refuses to re-add a mounted import, naming the mount point" \
	refused 1 "is mounted on $mnt: its peer changed" in_im dstor apply "$D/im.conf"
ktap_check "down refuses a mounted import, naming the mount point" \
	refused 1 "dstor: down: import c0 ($dev) is mounted on $mnt: not removed" in_im dstor down "$D/im.conf"
ktap_check "the mounted import is still there, same device" \
	test "$(import_json | jq -r .device)" = "$dev"
umount "$mnt"
im_down() {
	[ "$(in_im dstor down "$D/im.conf")" = "dstor import del $dev" ] &&
	[ "$(in_im dstor show --json | jq '.imports | length')" = 0 ]
}
ktap_check "down removes the import once unmounted" im_down
ex_down() {
	[ "$(in_ex dstor down "$D/ex.conf")" = "dstor export del c0" ] &&
	[ "$(show_json | jq -c '[.exports, .imports]')" = "[[],[]]" ]
}
ktap_check "down removes the export" ex_down

# Both machines booting at once: the importer's apply runs before the
# exporter's. Without --retry it fails at once and adds nothing; with it,
# apply waits for the export that comes up 4 s later.
ex_conf
im_conf
no_retry() {
	! in_im dstor apply "$D/im.conf" >/dev/null 2>&1 &&
	[ "$(in_im dstor show --json | jq '.imports | length')" = 0 ]
}
ktap_check "apply without --retry: an import whose exporter is down fails, nothing added" no_retry
late_exporter() {
	local rc
	(sleep 4 && in_ex dstor apply "$D/ex.conf" >/dev/null) &
	in_im dstor apply --retry 60 "$D/im.conf" >"$D/retry.out" 2>&1
	rc=$?
	wait
	cat "$D/retry.out"
	[ $rc -eq 0 ] && grep -q "import c0: retrying every 2 s" "$D/retry.out" &&
		grep -q "import c0: connected" "$D/retry.out" && connected
}
ktap_check "apply --retry 60 waits for an exporter that comes up later" late_exporter
retry_bound() {
	local t0=$SECONDS
	in_im dstor down "$D/im.conf" >/dev/null &&
	in_ex dstor down "$D/ex.conf" >/dev/null &&
	! in_im dstor apply --retry 3 "$D/im.conf" >/dev/null 2>&1 &&
	[ $((SECONDS - t0)) -le 15 ] &&
	[ "$(in_im dstor show --json | jq '.imports | length')" = 0 ]
}
ktap_check "apply --retry 3 gives up after its bound, nothing added" retry_bound
ktap_check "--retry out of range is refused (exit 2)" \
	refused 2 "retry must be a number of seconds from 0 to 3600" in_im dstor apply --retry 3601 "$D/im.conf"

# An export listed without a uuid keeps the one its first apply got (apply's
# record, /var/lib/dstor/export-uuids) when it is added again on the same
# device, as after the exporter's reboot: its importer resumes, where a new
# uuid would fail it. On another device it gets a new one.
at_exit "rm -f /var/lib/dstor/export-uuids"
export_uuid() { show_json | jq -r '.exports[] | select(.name == "c0") | .uuid'; }
kept_uuid() {
	local u0 out
	in_ex dstor apply "$D/ex.conf" >/dev/null && u0=$(export_uuid) &&
	grep -q "^c0 $u0 /dev/ram0\$" /var/lib/dstor/export-uuids &&
	in_ex dstor down "$D/ex.conf" >/dev/null &&
	out=$(in_ex dstor apply "$D/ex.conf") && echo "$out" &&
	echo "$out" | grep -q -- "--uuid $u0\$" && [ "$(export_uuid)" = "$u0" ]
}
ktap_check "an export listed without a uuid gets the same one back after down and apply" kept_uuid
resumes() {
	local r0 d
	in_im dstor apply "$D/im.conf" >/dev/null && wait_for 30 connected || return 1
	r0=$(import_json | jq .stats.reconnects) d=$(import_json | jq -r .device)
	in_ex dstor down "$D/ex.conf" >/dev/null && in_ex dstor apply "$D/ex.conf" >/dev/null &&
	wait_for 60 eval '[ "$(import_json | jq .stats.reconnects)" -gt "$r0" ]' && connected &&
	dd if=/dev/zero of="$d" bs=4k count=4 oflag=direct status=none
}
ktap_check "its importer resumes after the exporter's down and apply" resumes
new_device() {
	local u0 u1
	u0=$(export_uuid)
	in_im dstor down "$D/im.conf" >/dev/null &&
	sed -i "s|device = /dev/ram0|device = /dev/ram1|" "$D/ex.conf" &&
	in_ex dstor apply "$D/ex.conf" >/dev/null && u1=$(export_uuid) &&
	[ -n "$u1" ] && [ "$u1" != "$u0" ] &&
	grep -q "^c0 $u1 /dev/ram1\$" /var/lib/dstor/export-uuids
}
ktap_check "on another device it gets a new uuid" new_device

ktap_finish
