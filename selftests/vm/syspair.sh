#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two Debian 12 systemd guests from sysimage.sh's image, an exporter and an
# importer on a UDP tunnel (as pair.sh), each booted ROUNDS times: the
# importer's /etc/fstab mounts /dev/disk/by-dstor/data on /srv (_netdev),
# its checks (sysguest/systest.sh) verify what the previous round left
# there, and every round ends with a clean power-off of the importer while
# it writes. A prototype: not part of make check.
#
#   syspair.sh [--rounds N] [--timeout SECONDS]
#
# Each round: boot the exporter (systest.role=exporter: its dstor.service
# exports /dev/vdb, a 256 MiB ext4 made here, on 10.77.0.1) and wait for its
# checks; then boot the importer (systest.role=importer, 10.77.0.2), which
# runs the checks and powers off; then shut the exporter down
# (Ctrl-Alt-Del from the QEMU monitor). The exporter comes first because
# `dstor import add` needs the export up: dstor.service does not retry.
# Last line "N passed, N failed"; exit status 0 iff none failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
die() { echo "syspair.sh: $*" >&2; exit 2; }

rounds=2 timeout=600
while [ $# -gt 0 ]; do
	case $1 in
	--rounds)	rounds=$2; shift 2 ;;
	--timeout)	timeout=$2; shift 2 ;;
	*)		die "unknown argument '$1'" ;;
	esac
done

"$here/sysimage.sh" --build-only || die "no image"
key=$("$here/sysimage.sh" --key) || die "no image key"
img=$top/build/sysimage/$key
[ -e "$img/done" ] || die "no image in $img"
run=$img/pair
rm -rf "$run"
mkdir -p "$run"

# put DISK SRC DST / link DISK TARGET DST / mkd DISK DIR: debugfs edits.
put() {
	debugfs -w -R "rm $3" "$1" >/dev/null 2>&1
	debugfs -w -R "write $2 $3" "$1" >/dev/null 2>&1 &&
		debugfs -R "stat $3" "$1" 2>/dev/null | grep -q 'Size: [1-9]' ||
		die "cannot write $3 into $1"
}
link() {
	debugfs -w -R "rm $3" "$1" >/dev/null 2>&1
	debugfs -w -R "symlink $3 $2" "$1" >/dev/null 2>&1 || die "cannot link $3 in $1"
}
mkd() { debugfs -w -R "mkdir $2" "$1" >/dev/null 2>&1; }

for role in exporter importer; do
	d=$run/$role
	mkdir -p "$d"
	cp --sparse=always "$img/rootfs.img" "$d/disk.img"
	case $role in
	exporter) addr=10.77.0.1
		printf '[export data]\ndevice = /dev/vdb\nlisten = 10.77.0.1\nkey = /etc/dstor/data.key\n' >"$d/dstor.conf"
		printf '/dev/vda\t/\text4\trw,errors=remount-ro\t0 1\n' >"$d/fstab" ;;
	importer) addr=10.77.0.2
		printf '[import data]\npeer = 10.77.0.1\nkey = /etc/dstor/data.key\n' >"$d/dstor.conf"
		cp "$here/sysguest/fstab" "$d/fstab" ;;
	esac
	printf '[Match]\nName=en* eth*\n\n[Network]\nAddress=%s/24\n' "$addr" >"$d/50-tunnel.network"
	put "$d/disk.img" "$here/sysguest/systest.sh" /usr/local/sbin/dstor-systest
	put "$d/disk.img" "$here/sysguest/dstor-systest.service" /etc/systemd/system/dstor-systest.service
	put "$d/disk.img" "$d/dstor.conf" /etc/dstor/dstor.conf
	put "$d/disk.img" "$d/fstab" /etc/fstab
	put "$d/disk.img" "$d/50-tunnel.network" /etc/systemd/network/50-tunnel.network
	# systemd-networkd, and network-online.target waiting for it.
	mkd "$d/disk.img" /etc/systemd/system/sockets.target.wants
	mkd "$d/disk.img" /etc/systemd/system/network-online.target.wants
	link "$d/disk.img" /lib/systemd/system/systemd-networkd.service \
		/etc/systemd/system/multi-user.target.wants/systemd-networkd.service
	link "$d/disk.img" /lib/systemd/system/systemd-networkd.socket \
		/etc/systemd/system/sockets.target.wants/systemd-networkd.socket
	link "$d/disk.img" /lib/systemd/system/systemd-networkd-wait-online.service \
		/etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service
done
truncate -s 256M "$run/data.img"
mke2fs -q -t ext4 -L data "$run/data.img" || die "mke2fs"

port_free() { [ -z "$(ss -Hlun "sport = :$1")" ]; }
base=$((30000 + ($$ % 15000) * 2))
for _ in $(seq 50); do
	port_free "$base" && port_free $((base + 1)) && break
	base=$(((base - 30000 + 2) % 30000 + 30000))
done
ex_port=$base im_port=$((base + 1))

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "syspair.sh: ok - $*"; }
notok() { fail=$((fail + 1)); echo "syspair.sh: not ok - $*"; }

# boot ROLE ROUND: start the guest in the background; $! is timeout's pid.
boot() {
	local role=$1 r=$2 d=$run/$1 port peer mac extra=()
	case $role in
	exporter) port=$ex_port peer=$im_port mac=52:54:00:77:00:01
		extra=(-drive "file=$run/data.img,if=virtio,format=raw,cache=directsync") ;;
	importer) port=$im_port peer=$ex_port mac=52:54:00:77:00:02 ;;
	esac
	: >"$d/console-$r.log"
	# shellcheck disable=SC2054 # commas inside QEMU option values
	timeout -k 5 "$timeout" qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 1024 \
		-nographic -no-reboot \
		-kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
		-append "root=/dev/vda rw console=ttyS0 panic=-1 tsc=reliable systemd.mask=serial-getty@ttyS0.service systest.role=$role" \
		-drive "file=$d/disk.img,if=virtio,format=raw" "${extra[@]}" \
		-netdev "socket,id=n0,udp=127.0.0.1:$peer,localaddr=127.0.0.1:$port" \
		-device "virtio-net-pci,netdev=n0,mac=$mac" \
		-serial "file:$d/console-$r.log" -monitor "unix:$d/monitor,server,nowait" \
		</dev/null >"$d/qemu-$r.out" 2>&1 &
}
# wait_for FILE PATTERN SECONDS PID: until PATTERN is in FILE or PID ends.
wait_for() {
	local _
	for _ in $(seq "$3"); do
		grep -aq "$2" "$1" && return 0
		kill -0 "$4" 2>/dev/null || { grep -aq "$2" "$1"; return; }
		sleep 1
	done
	return 1
}
report() {
	local role=$1 r=$2 f=$run/$1/console-$2.log
	tr -d '\r' <"$f" | sed 's/\x1b\[[0-9;]*m//g' >"${f%.log}.txt"
	grep -ao 'systest: .*' "${f%.log}.txt" | grep -aE '^systest: ([^#]|# time:)' | sed "s/^/[$role $r] /"
	pass=$((pass + $(grep -ac 'systest: ok ' "${f%.log}.txt")))
	fail=$((fail + $(grep -ac 'systest: not ok ' "${f%.log}.txt")))
	grep -aq 'systest: done ' "${f%.log}.txt" && ok "$role round $r: checks finished" ||
		notok "$role round $r: checks never finished"
	if grep -aE 'I/O error|EXT4-fs error|BUG:|WARNING:|Oops' "${f%.log}.txt" | head -n 5 | grep .; then
		notok "$role round $r: errors on the console"
	else
		ok "$role round $r: no I/O errors or kernel warnings on the console"
	fi
}

for r in $(seq 1 "$rounds"); do
	t0=$(date +%s)
	boot exporter "$r"; epid=$!
	if wait_for "$run/exporter/console-$r.log" 'systest: done' "$timeout" $epid; then
		echo "syspair.sh: round $r: exporter up after $(($(date +%s) - t0)) s"
	else
		notok "round $r: exporter never finished its checks"
	fi
	t1=$(date +%s)
	boot importer "$r"; ipid=$!
	wait $ipid; irc=$?
	echo "syspair.sh: round $r: importer exit $irc after $(($(date +%s) - t1)) s"
	[ $irc = 0 ] && ok "importer round $r: powered off" || notok "importer round $r: QEMU exit $irc"
	# Ctrl-Alt-Del: systemd starts reboot.target, a clean shutdown, and
	# -no-reboot ends QEMU (no ACPI power button: logind needs dbus, which
	# the image does not have).
	python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"sendkey ctrl-alt-delete\n"); time.sleep(1)' \
		"$run/exporter/monitor" 2>/dev/null
	wait $epid; erc=$?
	[ $erc = 0 ] && ok "exporter round $r: clean shutdown (Ctrl-Alt-Del)" || notok "exporter round $r: QEMU exit $erc"
	report exporter "$r"
	report importer "$r"
	p=$run/importer/console-$r.txt
	wl=$(grep -an 'Stopped dstor-writer' "$p" | head -n 1 | cut -d: -f1)
	ul=$(grep -an 'Unmounted srv.mount' "$p" | head -n 1 | cut -d: -f1)
	sl=$(grep -an 'Stopping dstor.service' "$p" | head -n 1 | cut -d: -f1)
	if [ -n "$wl" ] && [ -n "$ul" ] && [ -n "$sl" ] && [ "$wl" -lt "$ul" ] && [ "$ul" -lt "$sl" ]; then
		ok "importer round $r: shutdown: writer stopped, /srv unmounted, then dstor.service stopped"
	else
		notok "importer round $r: shutdown order (writer ${wl:-none}, umount ${ul:-none}, dstor stop ${sl:-none})"
	fi
done
if e2fsck -fn "$run/data.img" >"$run/e2fsck.log" 2>&1; then
	ok "the exported disk's file system is clean at the end (e2fsck -fn)"
else
	notok "e2fsck -fn of the exported disk ($run/e2fsck.log)"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
