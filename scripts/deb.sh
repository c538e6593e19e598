#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make deb: dstor_VERSION_ARCH.deb and dstor-dkms_VERSION_all.deb in OUT,
# built with debhelper and dh-dkms from a copy of the tracked files, with a
# debian/changelog written from VERSION (the version's one place), and
# checked by lintian: any error fails.
#
#   sh scripts/deb.sh OUT VERSION
set -eu

out=$1
version=$2
top=$(pwd)
src=$out/dstor-$version

for t in dpkg-buildpackage dh dh_dkms lintian fakeroot; do
	command -v $t >/dev/null 2>&1 ||
		{ echo "make deb: $t is missing: run make deps" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	# The tracked files as they are in the tree (uncommitted edits too).
	git -C "$top" ls-files | while read -r f; do
		[ -e "$top/$f" ] || continue
		mkdir -p "$src/$(dirname "$f")"
		cp -p "$top/$f" "$src/$f"
	done
	when=$(git -C "$top" log -1 --format=%ct)
else
	tar -C "$top" --exclude=./build -cf - . | tar -C "$src" -xf -
	when=$(date +%s)
fi

maint=$(sed -n 's/^Maintainer: //p' "$src/debian/control")
cat >"$src/debian/changelog" <<CHANGES
dstor ($version) unstable; urgency=medium

  * dstor $version, built from its sources.

 -- $maint  $(LC_ALL=C date -R -u -d "@$when")
CHANGES

echo "make deb: building in $src (log: $out/build.log)"
if ! (cd "$src" && SOURCE_DATE_EPOCH=$when dpkg-buildpackage -b -us -uc) \
	>"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log"
	echo "make deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
fi
changes=$(ls "$out"/dstor_"$version"_*.changes)
echo "make deb: lintian $changes"
lintian --fail-on error --info "$changes"
ls -l "$out"/*.deb
