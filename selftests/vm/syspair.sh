#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two Debian 12 systemd guests from sysimage.sh's image (dstor installed from
# make deb's packages, the module built by DKMS), an exporter and an
# importer on a UDP tunnel (as pair.sh), checked as an administrator relies
# on them across reboots. The host drives both through dstor-agent, a
# command channel on each guest's second serial port (sysguest/agent.sh).
#
#   syspair.sh [--timeout SECONDS]
#
#   1. Both boot at once: the importer's dstor.service (apply --retry)
#      waits for the exporter; /srv (fstab: /dev/disk/by-dstor/data, _netdev,
#      fsck pass 2) is mounted; files are written, their checksums kept here.
#   2. A config edit on each side, an ACL entry on the exporter and a timer
#      on the importer, then `systemctl reload dstor`, while fio verifies on
#      /srv: dry-run shows just that change, the reload applies it, fio sees
#      no error, and `dstor apply` afterwards has nothing to change.
#   3. The exporter reboots while the importer writes and verifies on /srv:
#      its file has no uuid, and the export comes back with the uuid it had
#      (apply's record), the import reconnects, fio finishes without an
#      error. Then a setup made by hand (another export, a module setting)
#      is captured with `dstor showconf > /etc/dstor/dstor.conf` (the boot
#      of step 6 must recreate it).
#   4. A configuration with errors (unknown key, bad address, missing key
#      file, duplicate section, a key file readable by others): apply prints
#      FILE:LINE for each and changes nothing; `systemctl restart dstor`
#      fails and `systemctl status dstor` says why; fixed, it starts and
#      the importer reconnects.
#   5. The importer reboots cleanly while a writer writes on /srv: the
#      writer stops, /srv is unmounted, then dstor.service stops (console
#      order); after the boot e2fsck -fn of the import is clean and the
#      files of step 1 are intact.
#   6. Both reboot at once again: all back (the exporter's showconf as
#      captured in step 3), the files intact.
# Then both power off and the exported disk's file system is checked here
# (e2fsck -fn). Every boot's console is searched for I/O errors, EXT4-fs
# errors, BUG, WARNING and Oops.
#
# Output: "syspair.sh: ok - ..." / "not ok - ..." lines, then "N passed, N
# failed" as the last line; exit status 0 iff none failed. The run's files
# (consoles, disks) are in build/sysimage/KEY/pair/.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
die() { echo "syspair.sh: $*" >&2; exit 2; }

timeout=2400
while [ $# -gt 0 ]; do
	case $1 in
	--timeout)	timeout=$2; shift 2 ;;
	*)		die "unknown argument '$1'" ;;
	esac
done
t_start=$SECONDS

"$here/sysimage.sh" --build-only || die "no image"
key=$("$here/sysimage.sh" --key) || die "no image key"
img=$top/build/sysimage/$key
[ -e "$img/done" ] || die "no image in $img"
run=$img/pair
rm -rf "$run"
mkdir -p "$run"

# --- the two disks --------------------------------------------------------------
# put DISK SRC DST [MODE] / link DISK TARGET DST / mkd DISK DIR: debugfs
# edits. debugfs writes SRC's mode, which depends on the checkout: MODE
# (default 644) is set explicitly.
put() {
	debugfs -w -R "rm $3" "$1" >/dev/null 2>&1
	debugfs -w -R "write $2 $3" "$1" >/dev/null 2>&1 &&
		debugfs -w -R "sif $3 mode 0100${4:-644}" "$1" >/dev/null 2>&1 &&
		debugfs -R "stat $3" "$1" 2>/dev/null | grep -q 'Size: [1-9]' ||
		die "cannot write $3 into $1"
}
link() {
	debugfs -w -R "rm $3" "$1" >/dev/null 2>&1
	debugfs -w -R "symlink $3 $2" "$1" >/dev/null 2>&1 || die "cannot link $3 in $1"
}
mkd() { debugfs -w -R "mkdir $2" "$1" >/dev/null 2>&1; }

# The importer's fstab line is the one an administrator writes (fsck pass 2:
# systemd checks the file system before mounting it); the device timeout
# is longer than systemd's 90 s because both guests boot at once under
# emulation and the import waits for the exporter's boot.
for role in exporter importer; do
	d=$run/$role
	mkdir -p "$d"
	cp --sparse=always "$img/rootfs.img" "$d/disk.img"
	case $role in
	exporter) addr=10.77.0.1
		printf '[export data]\ndevice = /dev/vdb\nlisten = 10.77.0.1\nkey = /etc/dstor/data.key\nallow = 10.77.0.2=rw\n' >"$d/dstor.conf"
		printf '/dev/vda\t/\text4\trw,errors=remount-ro\t0 1\n' >"$d/fstab" ;;
	importer) addr=10.77.0.2
		printf '[import data]\npeer = 10.77.0.1\nkey = /etc/dstor/data.key\n' >"$d/dstor.conf"
		printf '/dev/vda\t/\text4\trw,errors=remount-ro\t0 1\n/dev/disk/by-dstor/data\t/srv\text4\t_netdev,x-systemd.device-timeout=5min\t0 2\n' >"$d/fstab" ;;
	esac
	printf '[Match]\nName=en* eth*\n\n[Network]\nAddress=%s/24\n' "$addr" >"$d/50-tunnel.network"
	put "$d/disk.img" "$here/sysguest/systest.sh" /usr/local/sbin/dstor-systest 755
	put "$d/disk.img" "$here/sysguest/agent.sh" /usr/local/sbin/dstor-agent 755
	put "$d/disk.img" "$here/sysguest/dstor-agent.service" /etc/systemd/system/dstor-agent.service
	link "$d/disk.img" /etc/systemd/system/dstor-agent.service \
		/etc/systemd/system/multi-user.target.wants/dstor-agent.service
	# The image's own boot check (sysimage.sh) powers the guest off when
	# done: here the host runs the checks, through the agent.
	debugfs -w -R "rm /etc/systemd/system/multi-user.target.wants/dstor-systest.service" \
		"$d/disk.img" >/dev/null 2>&1
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
	rm -f "$d/ctl.in" "$d/ctl.out"
	mkfifo "$d/ctl.in" "$d/ctl.out" || die "mkfifo"
done
# The exported disk (an ext4 the importer mounts) and the disk of the
# export made by hand in step 3.
truncate -s 256M "$run/data.img"
mke2fs -q -t ext4 -L data "$run/data.img" || die "mke2fs"
truncate -s 32M "$run/hand.img"

# shellcheck source=selftests/vm/ports.sh
source "$here/ports.sh"
read -r ex_port im_port < <(udp_port_pair)

# --- verdicts -------------------------------------------------------------------
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "syspair.sh: ok - $*"; }
notok() { fail=$((fail + 1)); echo "syspair.sh: not ok - $*"; }
note() { echo "syspair.sh: # $*"; }

# --- guests ---------------------------------------------------------------------
declare -A qpid=() boots=() wfd=() rfd=() bootid=()
# boot ROLE: start ROLE's guest in the background (console: console-N.log,
# N its boot count).
boot() {
	local role=$1 d=$run/$1 port peer mac extra=() n
	case $role in
	exporter) port=$ex_port peer=$im_port mac=52:54:00:77:00:01
		extra=(-drive "file=$run/data.img,if=virtio,format=raw,cache=directsync"
			-drive "file=$run/hand.img,if=virtio,format=raw,cache=directsync") ;;
	importer) port=$im_port peer=$ex_port mac=52:54:00:77:00:02 ;;
	esac
	n=$((${boots[$role]:-0} + 1))
	boots[$role]=$n
	: >"$d/console-$n.log"
	# shellcheck disable=SC2054 # commas inside QEMU option values
	timeout -k 5 "$timeout" qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m 1024 \
		-nographic -no-reboot -nodefaults -no-user-config \
		-kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
		-append "root=/dev/vda rw console=ttyS0 panic=-1 tsc=reliable systemd.mask=serial-getty@ttyS0.service systest.role=$role" \
		-drive "file=$d/disk.img,if=virtio,format=raw" "${extra[@]}" \
		-netdev "socket,id=n0,udp=127.0.0.1:$peer,localaddr=127.0.0.1:$port" \
		-device "virtio-net-pci,netdev=n0,mac=$mac" \
		-serial "file:$d/console-$n.log" \
		-chardev "pipe,id=ctl,path=$d/ctl" -serial chardev:ctl \
		-monitor none </dev/null >"$d/qemu-$n.out" 2>&1 &
	qpid[$role]=$!
	# Both ends of each FIFO held open here (read-write: never blocks), so
	# that QEMU's restarts do not close them under us.
	if [ -z "${wfd[$role]:-}" ]; then
		exec {fd}<>"$d/ctl.in"
		wfd[$role]=$fd
		exec {fd}<>"$d/ctl.out"
		rfd[$role]=$fd
	fi
}
console() { echo "$run/$1/console-${boots[$1]}.log"; }

# readline ROLE SECS: one line from ROLE's agent into $line, within SECS;
# a line cut by the timeout is kept and completed by the next read.
declare -A partial=()
readline() {
	local end=$((SECONDS + $2)) got
	while [ $SECONDS -lt $end ]; do
		if IFS= read -r -t 2 -u "${rfd[$1]}" got; then
			line=${partial[$1]:-}${got%$'\r'}
			partial[$1]=''
			return 0
		fi
		partial[$1]=${partial[$1]:-}$got
	done
	return 1
}
# wait_ready ROLE SECS: until ROLE's agent of a new boot says it is ready.
wait_ready() {
	local role=$1 end=$((SECONDS + $2)) line id
	while [ $SECONDS -lt $end ]; do
		kill -0 "${qpid[$role]}" 2>/dev/null || return 1
		readline "$role" 5 || continue
		case $line in
		"agent ready "*)
			id=${line#agent ready }
			if [ "$id" != "${bootid[$role]:-}" ]; then
				bootid[$role]=$id
				return 0
			fi ;;
		esac
	done
	return 1
}
# gx ROLE SECS CMD: CMD run by sh in ROLE's guest; its output on our
# stdout, its exit status ours (124: no answer within SECS).
gx() {
	local role=$1 secs=$2 cmd=$3 id line end
	id=c$BASHPID.$RANDOM$RANDOM
	printf '%s %s\n' "$id" "$(printf '%s' "$cmd" | base64 -w0)" >&"${wfd[$role]}"
	end=$((SECONDS + secs))
	while [ $SECONDS -lt $end ]; do
		readline "$role" $((end - SECONDS)) || break
		case $line in
		"$id| "*) printf '%s\n' "${line#"$id| "}" ;;
		"$id rc="*) return "${line#"$id rc="}" ;;
		esac
	done
	echo "(no answer from the $role within $secs s)"
	return 124
}
# check DESC ROLE SECS CMD: one case; CMD's output is shown when it fails.
check() {
	local desc=$1 out rc
	out=$(gx "$2" "$3" "$4")
	rc=$?
	if [ $rc = 0 ]; then
		ok "$desc"
	else
		notok "$desc (exit $rc)"
		printf '%s\n' "$out" | tail -n 25 | sed 's/^/#   /'
	fi
	return $rc
}
# until_ok ROLE SECS CMD: CMD every 2 s in ROLE's guest until it succeeds.
until_ok() {
	gx "$1" $(($2 + 30)) "end=\$((\$(cut -d. -f1 /proc/uptime) + $2))
		until $3; do [ \$(cut -d. -f1 /proc/uptime) -lt \$end ] || exit 1; sleep 2; done"
}
# down ROLE reboot|poweroff: the guest goes down cleanly (QEMU ends: no
# -reboot); a case for QEMU's exit status.
down() {
	local role=$1 rc
	gx "$role" 20 "systemctl --no-block $2" >/dev/null
	wait "${qpid[$role]}"
	rc=$?
	[ $rc = 0 ] && ok "$role: clean $2 (boot ${boots[$role]})" ||
		notok "$role: $2 (boot ${boots[$role]}): QEMU exit $rc"
}
# up ROLE...: boot each at once, wait for their agents (which start early),
# then for the end of their boots (every start job done: dstor.service,
# and on the importer /srv).
up() {
	local role t0=$SECONDS state
	for role in "$@"; do boot "$role"; done
	for role in "$@"; do
		if ! wait_ready "$role" 600; then
			notok "$role: boot ${boots[$role]}: its agent never answered ($(console "$role"))"
			return 1
		fi
	done
	for role in "$@"; do
		state=$(gx "$role" 660 'timeout 600 systemctl is-system-running --wait')
		note "$role: boot ${boots[$role]} done after $((SECONDS - t0)) s: $state"
	done
}
# console_clean ROLE: this boot's console has no I/O error or kernel report.
console_clean() {
	local f
	f=$(console "$1")
	if tr -d '\r' <"$f" | grep -aE 'I/O error|EXT4-fs error|BUG:|WARNING:|Oops|Call Trace' | head -n 5 | sed 's/^/#   /' | grep .; then
		notok "$1: boot ${boots[$1]}: errors on the console"
	else
		ok "$1: boot ${boots[$1]}: no I/O error or kernel warning on the console"
	fi
}
cleanup() {
	local role
	for role in "${!qpid[@]}"; do kill "${qpid[$role]}" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

import_connected='dstor show | grep -q "^  state: connected"'
# fio_unit UNIT FILE SIZE WRITE_IOPS: the guest command that starts a
# verified fio on /srv in a unit of its own (writes rate-limited, so that it
# is still writing when the step's event comes); its exit status goes to
# /root/UNIT.rc. (A script, not sh -c: systemd expands $ in ExecStart.)
fio_unit() {
	echo "rm -f /root/$1.rc && printf '%s\n' 'fio --name=$1 --filename=/srv/$2 --size=$3 --bs=16k --rw=randwrite --ioengine=psync --direct=1 --verify=crc32c --do_verify=1 --verify_fatal=1 --rate_iops=1000,$4 >/root/$1.out 2>&1' 'echo \$? >/root/$1.rc' >/root/$1.sh && systemd-run --unit=$1 -p RequiresMountsFor=/srv sh /root/$1.sh"
}
fio_done() { # fio_done UNIT SECS: fio of fio_unit ended with status 0
	until_ok importer "$2" "[ -s /root/$1.rc ]" >/dev/null
	gx importer 30 "cat /root/$1.rc; [ \"\$(cat /root/$1.rc)\" = 0 ] || tail -n 20 /root/$1.out"
}

# --- 1. both boot at once -------------------------------------------------------------
note "1. both guests boot at once"
up exporter importer || { echo "$pass passed, $((fail + 1)) failed"; exit 1; }
check "exporter: the boot checks (dstor.service, DKMS module, show, showconf)" exporter 120 'dstor-systest checks'
check "importer: dstor.service waited for the exporter, then /srv was mounted" importer 600 \
	'systemctl is-active dstor.service && findmnt /srv >/dev/null || { systemctl status dstor.service srv.mount --no-pager; exit 1; }'
check "importer: the boot checks (by-dstor link, /srv, write and read back, fio)" importer 600 'dstor-systest checks'
check "importer: fsck ran on the import before the mount" importer 30 \
	'journalctl -b -o cat -u "systemd-fsck@dev-disk-by\\x2ddstor-data.service" | grep -i "clean\|Finished\|fsck"'
if gx importer 120 'mkdir -p /srv/keep && cd /srv/keep &&
	for i in 1 2 3 4; do head -c $((i * 1048576 + i)) /dev/urandom >f$i || exit 1; done &&
	sync && sha256sum f1 f2 f3 f4' >"$run/keep.sha256" && [ "$(wc -l <"$run/keep.sha256")" = 4 ]; then
	ok "importer: files written on /srv, checksums kept on the host"
else
	notok "importer: files on /srv"
fi
keep_intact() { check "importer: $1: the files of step 1 intact" importer 120 \
	"cd /srv/keep && printf '%s\\n' '$(cat "$run/keep.sha256")' | sha256sum -c"; }

# --- 2. reload while fio verifies -------------------------------------------------------
note "2. config edits and systemctl reload during I/O"
gx importer 30 "$(fio_unit fio-reload reload.dat 16M 40)" >/dev/null
check "importer: fio is writing" importer 60 'sleep 3; systemctl is-active fio-reload.service'
check "exporter: dry-run of the edited file shows just the new ACL entry" exporter 60 '
	echo "allow = 10.77.0.3=ro" >>/etc/dstor/dstor.conf &&
	out=$(dstor apply --dry-run) && echo "$out" &&
	[ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "acl add data 10.77.0.3"'
check "exporter: systemctl reload dstor applies it" exporter 120 \
	'systemctl reload dstor.service && dstor showconf | grep "allow = 10.77.0.3"'
check "importer: dry-run of the edited file shows just the new timer" importer 60 '
	sed -i "/^peer = /a timeout = 60" /etc/dstor/dstor.conf &&
	out=$(dstor apply --dry-run) && echo "$out" &&
	[ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "import set .*--timeout 60"'
check "importer: systemctl reload dstor applies it" importer 120 \
	'systemctl reload dstor.service && dstor showconf | grep "timeout = 60"'
check "importer: fio was still writing after both reloads" importer 30 'systemctl is-active fio-reload.service'
fio_out=$(fio_done fio-reload 600)
[ "$(echo "$fio_out" | head -n 1)" = 0 ] && ok "importer: fio across the reloads: exit 0, verified" ||
	{ notok "importer: fio across the reloads"; echo "$fio_out" | sed 's/^/#   /'; }
for role in exporter importer; do
	check "$role: dstor apply afterwards has nothing to change" "$role" 60 \
		'out=$(dstor apply 2>&1); echo "$out"; echo "$out" | grep -qx "dstor: nothing to change"'
done

# --- 3. showconf of a setup made by hand; the exporter reboots under I/O ------------------
note "3. the exporter reboots while /srv is in use; showconf captures a hand-made setup"
# The exporter's file has no uuid line: apply's record gives the export the
# uuid it had, or the import would fail after the reboot.
uuid_before=$(gx exporter 30 'dstor show | sed -n "s/^  uuid: //p"')
gx importer 30 "$(fio_unit fio-reboot reboot.dat 8M 10)" >/dev/null
check "importer: fio is writing" importer 60 'sleep 3; systemctl is-active fio-reboot.service'
down exporter reboot
console_clean exporter
up exporter || { echo "$pass passed, $((fail + 1)) failed"; exit 1; }
check "exporter: after the boot the export has the uuid it had ($uuid_before)" exporter 120 \
	"systemctl is-active dstor.service && dstor show | grep -x '  uuid: $uuid_before'"
if until_ok importer 300 "$import_connected" >/dev/null; then
	ok "importer: the import reconnected to the rebooted exporter"
else
	notok "importer: the import did not reconnect"
	gx importer 30 'dstor show' | sed 's/^/#   /'
fi
fio_out=$(fio_done fio-reboot 900)
if [ "$(echo "$fio_out" | head -n 1)" = 0 ]; then
	ok "importer: fio across the exporter's reboot: exit 0, verified"
else
	notok "importer: fio across the exporter's reboot"
	echo "$fio_out" | sed 's/^/#   /'
fi
# Recreated by the boot of step 6.
check "exporter: an export and a setting made by hand, captured by showconf" exporter 60 '
	dstor export add hand --device /dev/vdc --listen 10.77.0.1:7421 --read-only --allow 10.77.0.0/24=ro &&
	dstor set crypto-workers 3 &&
	dstor showconf >/root/showconf.before && cp /root/showconf.before /etc/dstor/dstor.conf &&
	cat /root/showconf.before && grep -q "^\[export hand\]" /root/showconf.before &&
	dstor apply | grep -qx "dstor: nothing to change"'

# --- 4. a configuration with errors ---------------------------------------------------------
note "4. a configuration with errors"
bad='[export bad1]
device = /dev/vdc
listen = 10.77.0.1:7422
colour = blue
[export bad2]
device = /dev/vdc
listen = 300.1.2.3
[import bad3]
peer = 10.77.0.9
key = /etc/dstor/missing.key
[export data]
device = /dev/vdb
[import bad4]
peer = 10.77.0.9
key = /etc/dstor/open.key'
check "exporter: apply names each error as FILE:LINE and changes nothing" exporter 60 "
	cp /etc/dstor/data.key /etc/dstor/open.key && chmod 644 /etc/dstor/open.key &&
	printf '%s\\n' '$bad' >/etc/dstor/conf.d/bad.conf &&
	dstor showconf >/root/showconf.mid
	out=\$(dstor apply 2>&1); rc=\$?; echo \"\$out\"
	[ \$rc != 0 ] || exit 1
	for l in 4 7 10 11 15; do echo \"\$out\" | grep -q \"^/etc/dstor/conf.d/bad.conf:\$l: \" || { echo \"no error for line \$l\"; exit 1; }; done
	dstor showconf | diff /root/showconf.mid -"
check "exporter: systemctl restart dstor fails, and systemctl status says why" exporter 120 '
	systemctl restart dstor.service && exit 1
	systemctl is-failed dstor.service
	systemctl status dstor.service --no-pager -n 20 | tee /root/status.txt
	grep -q "bad.conf:4: " /root/status.txt'
check "exporter: the errors removed, dstor.service starts again" exporter 120 '
	rm /etc/dstor/conf.d/bad.conf /etc/dstor/open.key &&
	systemctl start dstor.service && dstor showconf | diff /root/showconf.before -'
until_ok importer 300 "$import_connected" >/dev/null &&
	ok "importer: the import reconnected" || notok "importer: the import did not reconnect"
check "importer: /srv works" importer 120 \
	'dd if=/dev/urandom of=/srv/after-errors bs=64k count=16 conv=fsync status=none'

# --- 5. the importer reboots while writing -------------------------------------------------
note "5. the importer reboots while a writer writes on /srv"
check "importer: a writer on /srv" importer 60 '
	systemd-run --unit=dstor-writer -p RequiresMountsFor=/srv fio --name=w \
		--filename=/srv/writer.dat --size=32M --rw=write --bs=64k --ioengine=psync \
		--time_based --runtime=3600 && sleep 5 &&
	systemctl is-active dstor-writer.service && test -s /srv/writer.dat'
down importer reboot
f=$(console importer)
tr -d '\r' <"$f" | sed 's/\x1b\[[0-9;]*m//g' >"${f%.log}.txt"
wl=$(grep -an 'Stopped dstor-writer' "${f%.log}.txt" | head -n 1 | cut -d: -f1)
ul=$(grep -an 'Unmounted srv.mount\|Unmounted /srv' "${f%.log}.txt" | head -n 1 | cut -d: -f1)
sl=$(grep -an 'Stopping dstor\.service' "${f%.log}.txt" | head -n 1 | cut -d: -f1)
if [ -n "$wl" ] && [ -n "$ul" ] && [ -n "$sl" ] && [ "$wl" -lt "$ul" ] && [ "$ul" -lt "$sl" ]; then
	ok "importer: shutdown: writer stopped, /srv unmounted, then dstor.service stopped"
else
	notok "importer: shutdown order (writer ${wl:-none}, umount ${ul:-none}, dstor stop ${sl:-none})"
fi
console_clean importer
up importer || { echo "$pass passed, $((fail + 1)) failed"; exit 1; }
check "importer: after the boot /srv is mounted from the import" importer 600 \
	'until findmnt /srv >/dev/null; do sleep 2; done; findmnt -n -o SOURCE /srv | grep "^/dev/dstor"'
check "importer: e2fsck -fn of the import is clean" importer 300 \
	'umount /srv && e2fsck -fn /dev/disk/by-dstor/data; rc=$?; mount /srv; exit $rc'
keep_intact "after its reboot"

# --- 6. both reboot at once ------------------------------------------------------------------
note "6. both guests reboot at once"
gx importer 20 'systemctl --no-block reboot' >/dev/null
gx exporter 20 'systemctl --no-block reboot' >/dev/null
for role in importer exporter; do
	wait "${qpid[$role]}"
	rc=$?
	[ $rc = 0 ] && ok "$role: clean reboot (boot ${boots[$role]})" || notok "$role: reboot: QEMU exit $rc"
	console_clean "$role"
done
up exporter importer || { echo "$pass passed, $((fail + 1)) failed"; exit 1; }
check "exporter: the hand-made setup recreated by the boot (showconf as before)" exporter 120 \
	'systemctl is-active dstor.service && dstor showconf | diff /root/showconf.before -'
check "importer: /srv mounted from the import" importer 600 \
	'until findmnt /srv >/dev/null; do sleep 2; done; systemctl is-active dstor.service'
keep_intact "after both rebooted"
check "importer: no failed units" importer 30 'systemctl --failed --no-legend | grep . && exit 1 || true'

# --- the end -----------------------------------------------------------------------------------
down importer poweroff
console_clean importer
down exporter poweroff
console_clean exporter
if e2fsck -fn "$run/data.img" >"$run/e2fsck.log" 2>&1; then
	ok "the exported disk's file system is clean at the end (e2fsck -fn on the host)"
else
	notok "e2fsck -fn of the exported disk ($run/e2fsck.log)"
fi
note "$((SECONDS - t_start)) s"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
