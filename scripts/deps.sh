#!/bin/sh
# Install everything dstor's build, tests, demo and benchmark need on Debian 12.
# Idempotent; run as root. The 6.12 kernel comes from bookworm-backports, added
# with the same mirror URI the machine already uses (no host name is written here).
set -eu

if [ "$(id -u)" -ne 0 ]; then
	echo "make deps: must run as root (it uses apt-get)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive

bp=/etc/apt/sources.list.d/dstor-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
	if [ -z "$uri" ]; then
		uri=$(sed -n 's/^deb[[:space:]]\+\([^[:space:]]*\)[[:space:]]\+bookworm[[:space:]].*/\1/p' \
			/etc/apt/sources.list 2>/dev/null | head -n 1)
	fi
	if [ -z "$uri" ]; then
		echo "make deps: cannot find the Debian mirror URI to add bookworm-backports" >&2
		exit 1
	fi
	cat > "$bp" <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

apt-get update -q

# Debian 12's 6.1 kernel (the plain meta packages resolve to bookworm's 6.1) and
# the 6.12 LTS kernel from backports, images and headers. The guests boot the
# images directly with QEMU, so no initramfs is generated for them.
export INITRD=No
apt-get install -y -q --no-install-recommends \
	linux-image-amd64 linux-headers-amd64
apt-get install -y -q --no-install-recommends -t bookworm-backports \
	linux-image-6.12-amd64 linux-headers-6.12-amd64

apt-get install -y -q --no-install-recommends \
	build-essential bc bison flex libelf-dev kmod cpio xz-utils gzip dkms sparse \
	cmake g++ clang libclang-rt-14-dev pkg-config \
	libmnl-dev libssl-dev libzstd-dev liblzma-dev libcli11-dev nlohmann-json3-dev libgtest-dev googletest \
	qemu-system-x86 busybox-static fio iproute2 e2fsprogs util-linux jq \
	nbd-server nbd-client nvme-cli mdadm dmsetup openssl perl python3 \
	casync zstd drbd-utils \
	linux-source-6.1 \
	debhelper dh-dkms dpkg-dev fakeroot lintian \
	mmdebstrap
