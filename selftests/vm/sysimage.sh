#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a real Debian 12 (bookworm) system with systemd under QEMU (TCG), with
# dstor's own packages (make deb) installed, and check that dstor.service
# brings /etc/dstor/dstor.conf up at boot. A prototype: not part of make check.
#
#   sysimage.sh [--rebuild] [--build-only | --key] [--boots N]
#               [--timeout SECONDS] [--mem MB] [--smp N] [--append "ARGS"]
#               [--debs DIR]
#
#   --key         print the image's cache key and exit
#   --rebuild     build the image again even if the cached one matches
#   --build-only  build (or find) the image, do not boot it
#   --boots       boot the same disk this many times (default 2): each boot
#                 checks the data the previous one left on /srv
#   --timeout     each boot's QEMU is killed after this long (default 600 s)
#   --mem --smp   guest size (default 1024 MiB, 2 CPUs)
#   --append      extra kernel command line arguments (systest.stay=1
#                 leaves the guest running after the checks)
#   --debs        where dstor_*.deb and dstor-dkms_*.deb are (default
#                 build/deb, as make deb leaves them)
#
# The image: mmdebstrap (as root) of bookworm from the mirrors this host's
# apt uses (/etc/apt/sources.list.d/debian.sources, read at run time, or
# $DSTOR_SYSIMAGE_SOURCES), with systemd, bookworm's linux-image-amd64 and
# linux-headers-amd64, dkms, and both dstor packages; DKMS builds dstor.ko for
# the image's kernel during the build (sysguest/customize.sh, which also
# installs the guest's test configuration from sysguest/). The root file
# system becomes a raw ext4 image (mke2fs -d); the image's own vmlinuz and
# initrd boot it: root=/dev/vda, console on ttyS0.
#
# Cache: build/sysimage/KEY/, KEY a hash of this script, sysguest/, the dstor
# packages, the sources file and the host's apt lists of those sources (so
# after an apt-get update on the host a changed archive means a new image).
# The guest runs on a copy of the cached disk (disk.img), so every boot
# starts from the built state.
#
# In the guest, dstor-systest.service (after dstor.service and
# remote-fs.target) prints "systest: ok N - ..." / "systest: not ok N - ..."
# lines and "systest: done N tests, F failed" to ttyS0 and powers off.
# Output here: those lines, timings, and as the last line "N passed, N
# failed". Exit status 0 iff every check passed and the guest powered off.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

usage() {
	sed -n '/^#   sysimage.sh/,/^# The image/{/^# The image/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit "${1:-2}"
}
die() { echo "sysimage.sh: $*" >&2; exit 2; }

rebuild=0 build_only=0 print_key=0 boots=2 timeout=600 mem=1024 smp=2 append='' debdir=$top/build/deb
while [ $# -gt 0 ]; do
	case $1 in
	--rebuild)	rebuild=1; shift ;;
	--build-only)	build_only=1; shift ;;
	--key)		print_key=1; shift ;;
	--timeout)	timeout=$2; shift 2 ;;
	--boots)	boots=$2; shift 2 ;;
	--mem)		mem=$2; shift 2 ;;
	--smp)		smp=$2; shift 2 ;;
	--append)	append=$2; shift 2 ;;
	--debs)		debdir=$2; shift 2 ;;
	-h|--help)	usage 0 ;;
	*)		echo "sysimage.sh: unknown argument '$1'" >&2; usage ;;
	esac
done

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap --mode=root, chroot)"
for t in mmdebstrap mke2fs qemu-system-x86_64 sha256sum; do
	command -v $t >/dev/null || die "$t is missing (apt-get install mmdebstrap e2fsprogs qemu-system-x86)"
done
sources=${DSTOR_SYSIMAGE_SOURCES:-/etc/apt/sources.list.d/debian.sources}
[ -r "$sources" ] || die "$sources: cannot read (set DSTOR_SYSIMAGE_SOURCES)"

shopt -s nullglob
debs=("$debdir"/dstor_*_amd64.deb "$debdir"/dstor-dkms_*_all.deb)
shopt -u nullglob
[ ${#debs[@]} = 2 ] || die "want one dstor_*_amd64.deb and one dstor-dkms_*_all.deb in $debdir (make deb)"

# The packages of the image, besides the dstor ones (no recommends).
packages=systemd-sysv,udev,kmod,initramfs-tools,linux-image-amd64,linux-headers-amd64,dkms,e2fsprogs,fio,iproute2,procps,util-linux

# --- cache key ----------------------------------------------------------------
# The host's apt lists for the URIs in the sources file: their InRelease
# (dated, and listing every index's hash) stand for the archive's state.
# One line "URI SUITE" for each of the sources file's deb822 stanzas.
pairs=$(awk '/^[[:space:]]*$/ { for (i in u) for (j in s) print u[i], s[j]; delete u; delete s; next }
	/^URIs:/ { for (i = 2; i <= NF; i++) u[i] = $i }
	/^Suites:/ { for (i = 2; i <= NF; i++) s[i] = $i }
	END { for (i in u) for (j in s) print u[i], s[j] }' "$sources")
lists=()
while read -r u s; do
	[ -n "$u" ] || continue
	f=/var/lib/apt/lists/$(echo "${u#*://}" | sed 's|/*$||; s|/|_|g')_dists_${s}_InRelease
	[ -e "$f" ] && lists+=("$f")
done <<<"$pairs"
# What the build reads. Not sysguest/systest.sh and dstor-systest.service:
# each boot writes them into its copy of the disk (debugfs), so changing the
# checks needs no new image. BUILD_RECIPE: raise it when the build part of
# this script (mmdebstrap's options, the mke2fs step) changes.
BUILD_RECIPE=1
key=$( {
	echo "recipe $BUILD_RECIPE packages $packages"
	sha256sum "$here"/sysguest/customize.sh "$here"/sysguest/dstor.conf \
		"$here"/sysguest/fstab "$here"/sysguest/dstor-testdisk.service \
		"${debs[@]}" "$sources" ${lists[@]+"${lists[@]}"} |
		sed 's|  .*/|  |'
} | sha256sum | cut -c1-16)

[ $print_key = 0 ] || { echo "$key"; exit 0; }
cache=$top/build/sysimage
img=$cache/$key
mkdir -p "$cache"

# --- build --------------------------------------------------------------------
if [ $rebuild = 1 ] || [ ! -e "$img/done" ]; then
	rm -rf "$img" "$img.tmp"
	mkdir -p "$img.tmp"
	log=$img.tmp/build.log
	echo "sysimage.sh: building image $key (log: $img/build.log)"
	t0=$(date +%s)
	args=(--mode=root --variant=apt --format=directory
		--aptopt='APT::Install-Recommends "false"'
		--hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount
		--include="$packages")
	for d in "${debs[@]}"; do args+=(--include="$(readlink -f "$d")"); done
	args+=(--customize-hook="$here/sysguest/customize.sh \"\$1\"")
	if ! mmdebstrap "${args[@]}" bookworm "$img.tmp/rootfs" "$sources" >"$log" 2>&1; then
		tail -n 30 "$log"
		die "mmdebstrap failed (log: $log)"
	fi
	t1=$(date +%s)
	root=$img.tmp/rootfs
	kver=$(cat "$root/etc/dstor-sysimage-kver")
	cp "$root/boot/vmlinuz-$kver" "$img.tmp/vmlinuz" &&
		cp "$root/boot/initrd.img-$kver" "$img.tmp/initrd.img" ||
		die "no kernel or initrd for $kver in the image"
	cp "$root/etc/dstor-sysimage-packages" "$img.tmp/packages"
	echo "$kver" >"$img.tmp/kver"
	used=$(du -sm "$root" | cut -f1)
	# Room for the guest's own writes: half the tree again, at least 512M.
	size=$((used + (used / 2 > 512 ? used / 2 : 512)))
	if ! mke2fs -q -t ext4 -L root -d "$root" "$img.tmp/rootfs.img" "${size}M" >>"$log" 2>&1; then
		tail -n 10 "$log"
		die "mke2fs -d failed (log: $log)"
	fi
	rm -rf "$root"
	t2=$(date +%s)
	{
		echo "kernel $kver"
		echo "mmdebstrap_seconds $((t1 - t0))"
		echo "mke2fs_seconds $((t2 - t1))"
		echo "tree_mib $used"
		echo "image_mib $size"
		echo "image_allocated_mib $(du -sm "$img.tmp/rootfs.img" | cut -f1)"
	} >"$img.tmp/info"
	touch "$img.tmp/done"
	mv "$img.tmp" "$img"
	echo "sysimage.sh: built in $((t2 - t0)) s:"
	sed 's/^/  /' "$img/info"
	# Keep the newest three images.
	find "$cache" -mindepth 1 -maxdepth 1 -type d -name '????????????????' -printf '%T@ %p\n' |
		sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -rf
else
	echo "sysimage.sh: cached image $key"
	sed 's/^/  /' "$img/info"
fi
[ $build_only = 0 ] || exit 0

# --- boot ---------------------------------------------------------------------
run=$img/run
rm -rf "$run"
mkdir -p "$run"
cp --sparse=always "$img/rootfs.img" "$run/disk.img"
# This tree's checks and their unit, over the image's copies.
for f in systest.sh:/usr/local/sbin/dstor-systest \
	dstor-systest.service:/etc/systemd/system/dstor-systest.service; do
	debugfs -w -R "rm ${f#*:}" "$run/disk.img" >/dev/null 2>&1
	debugfs -w -R "write $here/sysguest/${f%%:*} ${f#*:}" "$run/disk.img" >/dev/null 2>&1 &&
		debugfs -R "stat ${f#*:}" "$run/disk.img" 2>/dev/null | grep -q 'Size: [1-9]' ||
		die "cannot write ${f#*:} into $run/disk.img"
done
# No serial getty: its vhangup() of ttyS0 would cut the test unit's output
# off, and nobody logs in (but with systest.stay=1).
cmdline="root=/dev/vda rw console=ttyS0 panic=-1 tsc=reliable"
case " $append " in
*" systest.stay=1 "*) ;;
*) cmdline="$cmdline systemd.mask=serial-getty@ttyS0.service" ;;
esac
[ -z "$append" ] || cmdline="$cmdline $append"

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "sysimage.sh: ok - $*"; }
notok() { fail=$((fail + 1)); echo "sysimage.sh: not ok - $*"; }

# boot_once K: boot the disk (the K-th time), count the guest's results and
# the host's checks of its console.
boot_once() {
	local k=$1 console=$run/console-$1.log plain=$run/console-$1.txt t0 t1 t_start='' qpid qemu_rc
	local umount_line stop_line writer_line bad
	: >"$console"
	echo "sysimage.sh: boot $k: $(cat "$img/kver") (console: $console)"
	t0=$(date +%s)
	# shellcheck disable=SC2054 # commas inside QEMU option values
	timeout -k 5 "$timeout" qemu-system-x86_64 -accel tcg -cpu max -smp "$smp" -m "$mem" \
		-nographic -no-reboot -nic none \
		-kernel "$img/vmlinuz" -initrd "$img/initrd.img" -append "$cmdline" \
		-drive file="$run/disk.img",if=virtio,format=raw \
		-serial "file:$console" -monitor none -pidfile "$run/qemu.pid" \
		</dev/null >"$run/qemu-$k.stdout" 2>"$run/qemu-$k.stderr" &
	qpid=$!
	while kill -0 $qpid 2>/dev/null; do
		if [ -z "$t_start" ] && grep -qa 'systest: start' "$console"; then
			t_start=$(date +%s)
			echo "sysimage.sh: boot $k: test unit started $((t_start - t0)) s after QEMU started"
		fi
		sleep 1
	done
	wait $qpid
	qemu_rc=$?
	t1=$(date +%s)
	tr -d '\r' <"$console" | sed 's/\x1b\[[0-9;]*m//g' >"$plain"
	grep -ao 'systest: .*' "$plain" | grep -aE '^systest: ([^#]|# time:)' | sed "s/^/[boot $k] /"
	echo "sysimage.sh: boot $k: QEMU exit $qemu_rc after $((t1 - t0)) s"

	pass=$((pass + $(grep -ac 'systest: ok ' "$plain")))
	fail=$((fail + $(grep -ac 'systest: not ok ' "$plain")))
	if grep -aq 'systest: done ' "$plain"; then
		ok "boot $k: the test unit finished"
	else
		notok "boot $k: the test unit never finished"
	fi
	if [ "$qemu_rc" = 0 ]; then
		ok "boot $k: the guest powered off"
	else
		notok "boot $k: QEMU exit $qemu_rc (killed after ${timeout}s: 124/137)"
	fi
	# The shutdown: the writer stopped, then /srv (the import's file
	# system) unmounted, then dstor.service stopped; no I/O errors.
	writer_line=$(grep -an 'Stopped dstor-writer' "$plain" | head -n 1 | cut -d: -f1)
	umount_line=$(grep -an 'Unmounted srv.mount' "$plain" | head -n 1 | cut -d: -f1)
	stop_line=$(grep -an 'Stopping dstor.service' "$plain" | head -n 1 | cut -d: -f1)
	if [ -n "$umount_line" ] && [ -n "$stop_line" ] && [ "$umount_line" -lt "$stop_line" ] &&
		[ -n "$writer_line" ] && [ "$writer_line" -lt "$umount_line" ]; then
		ok "boot $k: shutdown: writer stopped (console line $writer_line), /srv unmounted (line $umount_line), then dstor.service stopped (line $stop_line)"
	else
		notok "boot $k: shutdown order: writer stopped at line ${writer_line:-none}, /srv unmounted at ${umount_line:-none}, dstor.service stopping at ${stop_line:-none}"
	fi
	bad=$(grep -aE 'I/O error|EXT4-fs error|EXT4-fs warning|BUG:|WARNING:|Oops' "$plain" | head -n 5)
	if [ -n "$bad" ]; then
		printf '%s\n' "$bad" | sed 's/^/sysimage.sh:   /'
		notok "boot $k: errors on the console"
	else
		ok "boot $k: no I/O errors, kernel warnings or oopses on the console"
	fi
}

for k in $(seq 1 "$boots"); do
	boot_once "$k"
done

# After the last clean shutdown the exported file system must be clean.
rm -f "$run/data.img"
if debugfs -R "dump /var/lib/dstor-test/data.img $run/data.img" "$run/disk.img" >/dev/null 2>&1 &&
	e2fsck -fn "$run/data.img" >"$run/e2fsck.log" 2>&1; then
	ok "the export's file system is clean after the last shutdown (e2fsck -fn)"
else
	tail -n 5 "$run/e2fsck.log" 2>/dev/null | sed 's/^/sysimage.sh:   /'
	notok "the export's file system after the last shutdown (e2fsck -fn: $run/e2fsck.log)"
fi
rm -f "$run/data.img"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
