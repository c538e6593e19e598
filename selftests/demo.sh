#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: the main job end to end, narrated. Two machines are played by
# two network namespaces joined by a virtual cable:
#
#   exporter (192.0.2.1)                          importer (192.0.2.2)
#   /dev/ram0 --> dstor export "demo" ====TCP====> /dev/dstorN --> ext4 on /mnt
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd mkfs.ext4 e2fsck sha256sum

ktap_header
ktap_plan 9

say() { printf '#\n# == %s\n' "$*"; }
# run WHERE CMD...: show the command as a user would type it, then run it.
run() {
	local where=$1 out rc
	shift
	printf '# %s$ %s\n' "$where" "$*"
	case $where in
	exporter) out=$(in_ex "$@" 2>&1) ;;
	importer) out=$(in_im "$@" 2>&1) ;;
	esac
	rc=$?
	[ -z "$out" ] || sed 's/^/#     /' <<<"$out"
	LAST=$out
	return $rc
}

say "Two hosts: 'exporter' has a 64 MiB disk (/dev/ram0), 'importer' has none"
ns_pair_setup
ktap_check "hosts are up and can reach each other" in_im ping -c 1 -W 2 "$EX_IP4"
at_exit 'for d in /dev/dstor*; do dstor import del $d; done; dstor export del demo'

say "On the exporter: serve /dev/ram0 under the name 'demo' on port 7420"
ktap_check "export added" run exporter dstor export add demo --device /dev/ram0 --listen "$EX_IP4:7420"

say "On the importer: connect to it; the kernel creates a local block device"
run importer dstor import add demo --peer "$EX_IP4:7420"
dev=$LAST
ktap_check "import created $dev" test -b "$dev"
run importer blockdev --getsize64 "$dev"

say "Make a file system on the network disk and mount it, like any disk"
mnt=$(mktemp -d)
at_exit "umount $mnt; rmdir $mnt"
ktap_check "mkfs.ext4 and mount" eval "run importer mkfs.ext4 -q -F $dev && run importer mount $dev $mnt"

say "Write 20 files of random data (12 MiB), remember their checksums, unmount"
write_files() {
	local i
	for i in $(seq -w 1 20); do
		head -c $((600 * 1024)) /dev/urandom >"$mnt/file$i" || return 1
	done
	(cd "$mnt" && sha256sum file*) >/tmp/demo-sums
	run importer df -h "$mnt"
	run importer umount "$mnt"
}
ktap_check "files written" write_files

say "Check the file system over the network"
ktap_check "e2fsck -fn is clean" run importer e2fsck -fn "$dev"

say "Forget every cached page, mount again and read everything back"
echo 3 >/proc/sys/vm/drop_caches
ktap_check "all 20 checksums match" eval "run importer mount $dev $mnt && (cd $mnt && sha256sum -c --quiet /tmp/demo-sums) && run importer umount $mnt"

say "The exporter's own disk holds exactly what the importer wrote"
same() {
	a=$(dd if="$dev" bs=1M iflag=direct status=none | sha256sum)
	b=$(dd if=/dev/ram0 bs=1M iflag=direct status=none | sha256sum)
	printf '#     importer %s\n#     exporter %s\n' "${a%% *}" "${b%% *}"
	[ "$a" = "$b" ]
}
ktap_check "sha256 of the import equals sha256 of the backing disk" same

say "What dstor shows"
run importer dstor show

say "Tear down: remove the import, then the export"
ktap_check "import and export removed" \
	eval "run importer dstor import del $dev && run exporter dstor export del demo"

ktap_finish
