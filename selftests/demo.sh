#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: the main job end to end, narrated. Two machines are played by
# two network namespaces joined by a virtual cable:
#
#   exporter (192.0.2.1)                          importer (192.0.2.2)
#   /dev/ram0 --> dstor export "demo" ====TCP====> /dev/dstorN --> ext4 on /mnt
#
# Every command is shown as a user would type it on that host, and exactly
# that line is what runs (see run). The two hosts share this guest's kernel
# and file systems: a command runs in its host's network namespace but in the
# guest's mount namespace (in_net, not ip netns exec), so what the importer
# mounts stays mounted until it unmounts it.
#
# `make check` runs the demo on 6.12 as `make demo` does. A demo that cannot
# run fails: it never skips.
set -u
source "$(dirname "$0")/lib.sh"

ktap_skip_all() {
	echo "Bail out! the demo cannot run: $*"
	exit "$KSFT_FAIL"
}
require_dstor
require_cmd nsenter mkfs.ext4 e2fsck blockdev sha256sum dd

ktap_header
ktap_plan 10

say() { printf '#\n# == %s\n' "$*"; }

# run HOST LINE...: each LINE as typed at HOST's prompt, then that very line
# run by bash in HOST's network namespace, with its output below it. Stops at
# the first LINE that fails and returns its status. LAST is the output of
# the last LINE run.
run() {
	local host=$1 ns line rc
	shift
	case $host in
	exporter) ns=$NS_EX ;;
	importer) ns=$NS_IM ;;
	esac
	for line in "$@"; do
		printf '# %s$ %s\n' "$host" "$line"
		LAST=$(in_net "$ns" bash -c "$line" 2>&1)
		rc=$?
		[ -z "$LAST" ] || sed 's/^/#     /' <<<"$LAST"
		[ $rc -eq 0 ] || return $rc
	done
}

# expect NAME CMD...: one KTAP result for CMD. Unlike ktap_check, which
# shows a command's output only when it fails, the narration always shows.
expect() {
	local name=$1 rc
	shift
	"$@"
	rc=$?
	if [ $rc -eq 0 ]; then
		ktap_ok "$name"
	else
		ktap_fail "$name" "failed (exit $rc): $*"
	fi
	return $rc
}

say "Two hosts: 'exporter' has a 64 MiB disk (/dev/ram0), 'importer' has none"
ns_pair_setup
expect "hosts are up and can reach each other" run importer "ping -c 1 -W 2 $EX_IP4"

say "On the exporter: serve /dev/ram0 under the name 'demo' on port 7420"
at_exit 'in_ex dstor export del demo'
expect "export added" run exporter "dstor export add demo --device /dev/ram0 --listen $EX_IP4:7420"

say "On the importer: connect to it; the kernel creates a local block device"
dev=
import_add() {
	run importer "dstor import add demo --peer $EX_IP4:7420" || return
	[ -b "$LAST" ] || return
	dev=$LAST
	run importer "blockdev --getsize64 $dev" && [ "$LAST" = $((64 << 20)) ]
}
expect "import added: a 64 MiB block device" import_add
[ -z "$dev" ] || at_exit "in_im dstor import del $dev"

say "Make a file system on the network disk and mount it, like any disk"
at_exit 'umount /mnt'
expect "mkfs.ext4 and mount" run importer "mkfs.ext4 -q -F $dev" "mount $dev /mnt"

say "Write 20 files of random data (12 MiB), remember their checksums, unmount"
at_exit 'rm -f /tmp/demo.sha256'
write_files() {
	# shellcheck disable=SC2016 # $i is the importer's, as typed
	run importer \
		'for i in $(seq -w 1 20); do head -c 614400 /dev/urandom > /mnt/file$i; done' \
		'cd /mnt && sha256sum file* > /tmp/demo.sha256' \
		'df -h /mnt' \
		'umount /mnt' &&
		[ "$(wc -l </tmp/demo.sha256)" -eq 20 ]
}
expect "files written" write_files

say "Check the file system over the network"
expect "e2fsck -fn is clean" run importer "e2fsck -fn $dev"

say "Forget every cached page, mount again and read everything back"
expect "all 20 checksums match" run importer \
	'echo 3 > /proc/sys/vm/drop_caches' \
	"mount $dev /mnt" \
	'cd /mnt && sha256sum -c /tmp/demo.sha256' \
	'umount /mnt'

say "The exporter's own disk holds exactly what the importer wrote"
same() {
	local a
	run importer "dd if=$dev bs=1M iflag=direct status=none | sha256sum" || return
	a=$LAST
	run exporter 'dd if=/dev/ram0 bs=1M iflag=direct status=none | sha256sum' &&
		[[ $a =~ ^[0-9a-f]{64}\ +-$ ]] && [ "$a" = "$LAST" ]
}
expect "sha256 of the import equals sha256 of the backing disk" same

say "What dstor shows on each host"
show_both() { run exporter 'dstor show' && run importer 'dstor show'; }
expect "dstor show on both hosts" show_both

say "Tear down: remove the import, then the export"
teardown() { run importer "dstor import del $dev" && run exporter 'dstor export del demo'; }
expect "import and export removed" teardown

ktap_finish
