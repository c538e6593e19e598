#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# mmdebstrap customize hook of sysimage.sh: makes sure DKMS built dstor.ko
# for the image's kernel (not the host's running one), then installs the
# guest's test configuration from this directory.
#
#   customize.sh ROOT
set -eu
root=$1
src=$(cd "$(dirname "$0")" && pwd)

kvers=$(ls "$root/lib/modules")
[ "$(echo "$kvers" | wc -l)" = 1 ] || { echo "customize.sh: want one kernel, have: $kvers" >&2; exit 1; }
kver=$kvers
echo "customize.sh: image kernel $kver"
# dstor-dkms's postinst builds for the running kernel (the host's, which has
# no headers here) and the headers' hook only if dstor-dkms came first: build
# for the image's kernel explicitly.
chroot "$root" dkms autoinstall -k "$kver"
chroot "$root" dkms status
ko=$(ls "$root/lib/modules/$kver/updates/dkms/"dstor.ko* 2>/dev/null | head -n 1)
[ -n "$ko" ] || { echo "customize.sh: no dstor.ko for $kver" >&2; exit 1; }
echo "customize.sh: built ${ko#"$root"}"
echo "$kver" >"$root/etc/dstor-sysimage-kver"

install -m 0644 "$src/fstab" "$root/etc/fstab"
echo dstor-sys >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tdstor-sys\n' >"$root/etc/hosts"
install -d -m 0755 "$root/etc/dstor" "$root/srv" "$root/var/lib/dstor-test"
install -m 0644 "$src/dstor.conf" "$root/etc/dstor/dstor.conf"
# The key: 32 random bytes, base64 (what dstor genkey writes), mode 0600.
(umask 077; head -c 32 /dev/urandom | base64 >"$root/etc/dstor/data.key")
# The exported disk: an ext4 file system in a file, persistent across boots.
rm -f "$root/var/lib/dstor-test/data.img"
truncate -s 256M "$root/var/lib/dstor-test/data.img"
mke2fs -q -t ext4 -L data "$root/var/lib/dstor-test/data.img"
install -m 0755 "$src/systest.sh" "$root/usr/local/sbin/dstor-systest"
install -m 0644 "$src/dstor-testdisk.service" "$src/dstor-systest.service" \
	"$root/etc/systemd/system/"
chroot "$root" systemctl enable dstor-testdisk.service dstor-systest.service
# The package enables dstor.service itself (dh_installsystemd); say so if not.
if ! chroot "$root" systemctl is-enabled dstor.service; then
	echo "customize.sh: WARNING: the package left dstor.service disabled; enabling it" >&2
	chroot "$root" systemctl enable dstor.service
fi
# Root without a password, for a look with systest.stay=1.
chroot "$root" passwd -d root
# Nothing there to wait for on the emulated console.
chroot "$root" systemctl mask getty@tty1.service >/dev/null 2>&1 || true
chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' >"$root/etc/dstor-sysimage-packages"
