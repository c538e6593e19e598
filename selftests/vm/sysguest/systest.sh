#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs at boot in the sysimage.sh guest (dstor-systest.service, after
# dstor.service and remote-fs.target): checks that dstor.service brought the
# configuration up, prints TAP-like lines prefixed "systest:" to ttyS0 for
# the host to parse, then starts a writer on /srv and powers the guest off
# while it writes. "systest.stay=1" on the kernel command line leaves the
# guest running (and starts no writer); so does the argument "checks"
# (syspair.sh runs the checks so, through dstor-agent).
stay=0
grep -qw 'systest.stay=1' /proc/cmdline && stay=1
[ "${1:-}" != checks ] || stay=1
n=0 fail=0
say() { echo "systest: $*"; }
ok() { n=$((n + 1)); say "ok $n - $1"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); say "not ok $n - $1"; }
check() {
	desc=$1; shift
	if out=$("$@" 2>&1); then ok "$desc"; else notok "$desc"; fi
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/systest: # /'
}

# syspair.sh's guests: systest.role=exporter (checks its export, then stays
# up for the importer; the host shuts it down) or systest.role=importer.
role=$(sed -n 's/.*systest\.role=\([a-z]*\).*/\1/p' /proc/cmdline)
say "start uptime $(cut -d' ' -f1 /proc/uptime) kernel $(uname -r) role ${role:-single}"
check "dstor.service is active" systemctl is-active dstor.service
check "dstor module loaded" sh -c 'lsmod | grep -w "^dstor"'
check "dstor.ko from DKMS" sh -c 'modinfo -n dstor | grep /updates/dkms/'
check "dstor --version" dstor --version
check "data in dstor show (the export; on an importer the import)" sh -c 'dstor show | grep -w data'
check "dstor showconf" dstor showconf
if [ "$role" = exporter ]; then
	say "end uptime $(cut -d' ' -f1 /proc/uptime)"
	say "done $n tests, $fail failed"
	[ "${1:-}" = checks ] || exit 0
	exit $((fail > 0))
fi
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
# Data written in the previous boot (sysimage.sh --boots N reboots the same
# disk), its checksum kept on the root file system.
state=/var/lib/dstor-test
if [ -e $state/persist.sha256 ]; then
	check "data of the previous boot intact on /srv" sh -c "cd /srv && sha256sum -c $state/persist.sha256"
fi
check "write /srv/persist for the next boot" sh -c "
	dd if=/dev/urandom of=/srv/persist bs=1M count=8 status=none && sync /srv/persist &&
	(cd /srv && sha256sum persist) >$state/persist.sha256.new &&
	mv $state/persist.sha256.new $state/persist.sha256 && sync"
check "no failed units" sh -c 'systemctl --failed --no-legend | grep . && exit 1 || true'
say "# journal of dstor.service:"
journalctl -b -u dstor.service --no-pager -o cat 2>&1 | sed 's/^/systest: # /'
# Boot timings, monotonic seconds since the kernel started (systemd-analyze
# would wait for the end of the boot, which includes this unit).
mono() { systemctl show -P "$2" "$1" 2>/dev/null | awk '{ printf "%.2f", $1 / 1e6 }'; }
say "# time: initrd->root switch $(systemctl show -P UserspaceTimestampMonotonic | awk '{ printf "%.2f", $1 / 1e6 }') s," \
	"dstor-testdisk $(mono dstor-testdisk.service ActiveEnterTimestampMonotonic) s," \
	"dstor.service $(mono dstor.service ActiveEnterTimestampMonotonic) s," \
	"srv.mount $(mono srv.mount ActiveEnterTimestampMonotonic) s," \
	"multi-user.target $(mono multi-user.target ActiveEnterTimestampMonotonic) s," \
	"this unit $(mono dstor-systest.service ExecMainStartTimestampMonotonic) s"
# A writer on /srv during the shutdown: a unit of its own that needs /srv,
# so systemd stops it before unmounting /srv, and that before stopping
# dstor.service; the host then looks for I/O errors on the console.
if [ $stay = 0 ]; then
	check "writer on /srv started for the shutdown" systemd-run --unit=dstor-writer \
		--property=RequiresMountsFor=/srv fio --name=w --filename=/srv/writer.dat \
		--size=32M --rw=write --bs=64k --ioengine=psync --time_based --runtime=3600
	sleep 5
	check "writer still writing" sh -c 'systemctl is-active dstor-writer.service && test -s /srv/writer.dat'
fi
say "end uptime $(cut -d' ' -f1 /proc/uptime)"
say "done $n tests, $fail failed"
[ $stay = 1 ] || systemctl --no-block poweroff
[ "${1:-}" != checks ] || [ $fail = 0 ]
