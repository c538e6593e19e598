#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs at boot in the sysimage.sh guest (dstor-systest.service, after
# dstor.service and remote-fs.target): checks that dstor.service brought the
# configuration up, prints TAP-like lines prefixed "systest:" to ttyS0 for
# the host to parse, then powers the guest off. "dstor.systest=stay" on the
# kernel command line leaves the guest running.
n=0 fail=0
say() { echo "systest: $*"; }
ok() { n=$((n + 1)); say "ok $n - $1"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); say "not ok $n - $1"; }
check() {
	desc=$1; shift
	if out=$("$@" 2>&1); then ok "$desc"; else notok "$desc"; fi
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/systest: # /'
}

say "start uptime $(cut -d' ' -f1 /proc/uptime) kernel $(uname -r)"
check "dstor.service is active" systemctl is-active dstor.service
check "dstor module loaded" sh -c 'lsmod | grep -w "^dstor"'
check "dstor.ko from DKMS" sh -c 'modinfo -n dstor | grep /updates/dkms/'
check "dstor --version" dstor --version
check "export data in dstor show" sh -c 'dstor show | grep -w data'
check "dstor showconf" dstor showconf
check "/dev/disk/by-dstor/data" sh -c 'readlink -f /dev/disk/by-dstor/data | grep "^/dev/dstor[0-9]"'
check "/srv mounted from the import" sh -c 'findmnt -n -o SOURCE,FSTYPE,OPTIONS /srv | grep "^/dev/dstor[0-9]"'
check "write, sync, drop caches, read back" sh -c '
	dd if=/dev/urandom of=/srv/blob bs=1M count=8 status=none &&
	a=$(sha256sum </srv/blob) && sync &&
	echo 3 >/proc/sys/vm/drop_caches &&
	b=$(sha256sum </srv/blob) && echo "$b" && [ "$a" = "$b" ]'
check "fio verify on /srv" fio --name=v --filename=/srv/fio.dat --size=16M \
	--rw=randwrite --bs=4k --ioengine=psync --direct=1 --verify=crc32c \
	--do_verify=1 --minimal
check "no failed units" sh -c 'systemctl --failed --no-legend | grep . && exit 1 || true'
say "# journal of dstor.service:"
journalctl -b -u dstor.service --no-pager -o cat 2>&1 | sed 's/^/systest: # /'
systemd-analyze time 2>&1 | sed 's/^/systest: # /'
systemd-analyze blame 2>&1 | head -n 15 | sed 's/^/systest: # /'
say "end uptime $(cut -d' ' -f1 /proc/uptime)"
say "done $n tests, $fail failed"
grep -qw 'dstor.systest=stay' /proc/cmdline || systemctl --no-block poweroff
exit 0
