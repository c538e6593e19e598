#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the gzip'd cpio initramfs that the selftest guests boot.
#
#   mkinitramfs.sh -o OUTPUT [--modules VER|none] [--ko PATH] [--tool PATH]
#                  [--extra PATH]... [--cache DIR]
#
# The image is two concatenated gzip'd cpio archives (the kernel unpacks
# them one after the other into the same rootfs):
#
#   base     busybox-static and its applet links, the host binaries listed
#            in HOST_BINS with every library ldd lists (and the dynamic
#            loader), and -- with --modules VER -- the kernel modules of
#            MODULES plus their dependencies, decompressed, with a load-order
#            list in /lib/modules/VER/selftest-modules.list.
#            It only depends on the host's packages, so it is cached in the
#            cache directory and rebuilt only when one of its inputs changed.
#   overlay  /init, the selftests/ directory (as /selftests), dstor.ko (as
#            /usr/lib/dstor/dstor.ko) and the dstor tool (as /usr/bin/dstor,
#            with its libraries), and each --extra binary (as
#            /usr/bin/NAME, with its libraries: the test tools of
#            tools/testing). Rebuilt every time; it is small.
#
# The guest's file system mirrors Debian's merged /usr: /bin, /sbin, /lib and
# /lib64 are symlinks into /usr, so the host's paths (and the paths ldd
# prints) stay valid inside the guest.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
selftests=$(dirname "$here")

# Host binaries copied into the image. A missing one is an error, except
# for the ones in OPTIONAL_BINS (nice to have, skipped with a warning).
HOST_BINS="bash fio ip tc bridge ss nstat mkfs.ext4 mke2fs e2fsck tune2fs jq
	nbd-server nbd-client nvme mdadm blockdev losetup lsblk timeout blkdiscard
	setpriv nsenter dmsetup"
OPTIONAL_BINS="ss nstat lsblk"

# Modules loaded at boot, with their dependency closure (--modules VER).
# The AEADs dstor seals records with: the guest has no modprobe to load them
# on demand (crypto_alloc_aead's request_module), so they are preloaded.
# The virtio disk and NIC of pair.sh's two-machine mode (virtio_pci is built
# into 6.12, a module in 6.1); without such devices they just sit there.
# dm-log-writes (with dm-mod) records what reaches stable storage for
# durability.sh; a kernel without it (the debug kernel) skips that test.
MODULES="brd veth bridge sch_netem ext4 nbd nvme-tcp nvmet-tcp raid1 crc32c_generic
	gcm ghash_generic aesni_intel chacha20poly1305 chacha_x86_64 poly1305_x86_64
	virtio_pci virtio_blk virtio_net loop dm-mod dm-log-writes"

usage() {
	sed -n '/^#   mkinitramfs/,/^$/s/^# \{0,1\}//p' "$0" >&2
	exit "${1:-2}"
}

out='' modver=none ko='' tool='' cache='' extras=()
while [ $# -gt 0 ]; do
	case $1 in
	-o|--output)	out=$2; shift 2 ;;
	--modules)	modver=$2; shift 2 ;;
	--ko)		ko=$2; shift 2 ;;
	--tool)		tool=$2; shift 2 ;;
	--extra)	extras+=("$2"); shift 2 ;;
	--cache)	cache=$2; shift 2 ;;
	-h|--help)	usage 0 ;;
	*)		echo "mkinitramfs: unknown argument '$1'" >&2; usage ;;
	esac
done
[ -n "$out" ] || usage
[ -z "$ko" ] || [ -f "$ko" ] || { echo "mkinitramfs: $ko: no such file" >&2; exit 1; }
[ -z "$tool" ] || [ -f "$tool" ] || { echo "mkinitramfs: $tool: no such file" >&2; exit 1; }
for x in ${extras[@]+"${extras[@]}"}; do
	[ -f "$x" ] || { echo "mkinitramfs: $x: no such file" >&2; exit 1; }
done
if [ "$modver" != none ] && [ ! -d "/lib/modules/$modver" ]; then
	echo "mkinitramfs: /lib/modules/$modver: no such directory" >&2
	exit 1
fi
: "${cache:=$(dirname "$out")}"
mkdir -p "$cache" "$(dirname "$out")"

log() { echo "mkinitramfs: $*" >&2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/dstor-initramfs.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Print the files a dynamically linked binary needs: the libraries ldd
# resolves ("libc.so.6 => /lib/.../libc.so.6 (0x...)") and the loader
# ("/lib64/ld-linux-x86-64.so.2 (0x...)"). Static binaries print nothing.
libs_of() {
	ldd "$1" 2>/dev/null | awk '
		$2 == "=>" && $3 ~ /^\// { print $3; next }
		$1 ~ /^\// { print $1 }' || true
}

# copy_file ROOT PATH: copy a host file to the same path under ROOT. The
# directory part is canonicalised (/lib/x86_64-linux-gnu -> /usr/lib/...,
# matching the merged-/usr symlinks of the image); the file itself is
# dereferenced so a library's soname symlink becomes a regular file.
copy_file() {
	local root=$1 path=$2 dir
	dir=$(realpath "$(dirname "$path")")
	mkdir -p "$root$dir"
	cp -L --remove-destination "$path" "$root$dir/$(basename "$path")"
}

# copy_binary ROOT PATH [DEST]: the binary (to its own path, or to DEST in
# the image) and everything it links against.
copy_binary() {
	local root=$1 bin=$2 dest=${3:-} lib
	if [ -n "$dest" ]; then
		mkdir -p "$root$(dirname "$dest")"
		cp -L "$bin" "$root$dest"
	else
		copy_file "$root" "$bin"
	fi
	for lib in $(libs_of "$bin"); do
		copy_file "$root" "$lib"
	done
}

# skeleton ROOT: directories and the merged-/usr symlinks.
skeleton() {
	local root=$1 d
	mkdir -p "$root"/usr/bin "$root"/usr/sbin "$root"/usr/lib "$root"/usr/lib64
	for d in bin sbin lib lib64; do
		ln -sfn "usr/$d" "$root/$d"
	done
	mkdir -p "$root"/dev "$root"/proc "$root"/sys "$root"/tmp "$root"/run \
		"$root"/mnt "$root"/root "$root"/etc "$root"/var
	ln -sfn ../run "$root"/var/run
	ln -sfn ../tmp "$root"/var/tmp
}

# ---------------------------------------------------------------------------
# Base image (cached).

# Resolve the host binaries and module files first: their paths, sizes and
# modification times make up the cache key.
bins=
for b in $HOST_BINS; do
	if p=$(command -v "$b"); then
		bins="$bins $p"
	elif [[ " $OPTIONAL_BINS " == *" $b "* ]]; then
		log "warning: optional host binary '$b' not found, skipped"
	else
		log "error: host binary '$b' not found"
		exit 1
	fi
done
busybox=$(command -v busybox) || { log "error: busybox not found"; exit 1; }
if ldd "$busybox" >/dev/null 2>&1; then
	log "error: $busybox is dynamically linked; install busybox-static"
	exit 1
fi

# Module closure, in load order, without duplicates. modprobe prints one line
# per module: "insmod /lib/modules/VER/...ko[.xz|.zst] [options from the
# host's modprobe.d]" or "builtin NAME". Host options are dropped on purpose
# (the guest's /init sets the parameters the tests rely on).
modfiles=
if [ "$modver" != none ]; then
	builtin='' missing=''
	for m in $MODULES; do
		if ! deps=$(modprobe -S "$modver" --show-depends "$m" 2>/dev/null); then
			missing="$missing $m"
			continue
		fi
		while read -r kind path _; do
			case $kind in
			insmod)
				case " $modfiles " in
				*" $path "*) ;;
				*) modfiles="$modfiles $path" ;;
				esac ;;
			builtin)
				builtin="$builtin $path" ;;
			esac
		done <<<"$deps"
	done
	[ -z "$builtin" ] || log "built into $modver (not loaded):$builtin"
	[ -z "$missing" ] || log "warning: not found for $modver (skipped):$missing"
fi

key=$(
	echo "script $(sha256sum "$0" | cut -d' ' -f1) modules $modver"
	# shellcheck disable=SC2086 # word splitting wanted
	for f in $busybox $bins $(for b in $bins; do libs_of "$b"; done) $modfiles; do
		stat -L -c '%n %s %Y' "$f"
	done | sort -u
)
key=$(echo "$key" | sha256sum | cut -d' ' -f1)
base=$cache/base-$modver.cpio.gz

if [ -f "$base" ] && [ "$(cat "$base.key" 2>/dev/null)" = "$key" ]; then
	log "base image up to date: $base"
else
	log "building base image: $base"
	root=$work/base
	skeleton "$root"

	for b in $bins; do
		copy_binary "$root" "$b"
	done
	# mkfs.ext4 and friends are symlinks on the host: keep them symlinks.
	ln -sf mke2fs "$root"/usr/sbin/mkfs.ext4
	[ -e "$root"/usr/sbin/e2fsck ] && ln -sf e2fsck "$root"/usr/sbin/fsck.ext4

	# busybox and its applets, except where a host binary of the same name
	# is already in /usr/bin or /usr/sbin (the full versions win).
	cp "$busybox" "$root"/usr/bin/busybox
	for a in $("$busybox" --list); do
		[ "$a" = busybox ] && continue
		if [ ! -e "$root/usr/bin/$a" ] && [ ! -e "$root/usr/sbin/$a" ]; then
			ln -s busybox "$root/usr/bin/$a"
		fi
	done

	if [ "$modver" != none ]; then
		mdir=$root/lib/modules/$modver
		mkdir -p "$mdir"
		: >"$mdir"/selftest-modules.list
		for f in $modfiles; do
			rel=${f#/lib/modules/"$modver"/}
			case $rel in
			*.ko.xz)  dst=${rel%.xz};  decomp="xz -dc" ;;
			*.ko.zst) dst=${rel%.zst}; decomp="zstd -qdc" ;;
			*.ko.gz)  dst=${rel%.gz};  decomp="gzip -dc" ;;
			*)        dst=$rel;        decomp="cat" ;;
			esac
			mkdir -p "$(dirname "$mdir/$dst")"
			$decomp "$f" >"$mdir/$dst"
			echo "$dst" >>"$mdir"/selftest-modules.list
		done
		log "$(wc -l <"$mdir"/selftest-modules.list) modules for $modver"
	fi

	# Minimal identity files for tools that look users up.
	printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
		>"$root"/etc/passwd
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root"/etc/group
	printf '127.0.0.1 localhost\n::1 localhost\n' >"$root"/etc/hosts

	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null --create --format=newc --owner=0:0 --quiet --reproducible) |
		gzip -1 >"$base.$$.tmp"
	# Concurrent runs may build the same base: each renames its own
	# complete file into place.
	mv "$base.$$.tmp" "$base"
	echo "$key" >"$base.key.$$.tmp"
	mv "$base.key.$$.tmp" "$base.key"
fi

# ---------------------------------------------------------------------------
# Overlay: /init, the tests, the module under test and the tool.
root=$work/overlay
mkdir -p "$root"/usr/bin "$root"/usr/lib/dstor
cp "$here"/init "$root"/init
chmod 755 "$root"/init
# The test scripts: everything under selftests/ except the VM machinery.
mkdir -p "$root"/selftests
(cd "$selftests" && find . -path ./vm -prune -o -type f -print0 |
	cpio --null --pass-through --make-directories --quiet "$root"/selftests)
if [ -n "$ko" ]; then
	cp "$ko" "$root"/usr/lib/dstor/dstor.ko
fi
if [ -n "$tool" ]; then
	copy_binary "$root" "$tool" /usr/bin/dstor
fi
for x in ${extras[@]+"${extras[@]}"}; do
	copy_binary "$root" "$x" "/usr/bin/$(basename "$x")"
done

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null --create --format=newc --owner=0:0 --quiet --reproducible) |
	gzip -1 >"$work"/overlay.cpio.gz

cat "$base" "$work"/overlay.cpio.gz >"$out.$$.tmp"
mv "$out.$$.tmp" "$out"
log "wrote $out ($(du -h "$out" | cut -f1))"
