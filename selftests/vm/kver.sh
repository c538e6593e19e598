# SPDX-License-Identifier: GPL-2.0
# Sourced by run.sh and pair.sh (host side).
#
# kernel_release BZIMAGE: the release of an x86 bzImage from its setup
# header ("HdrS"): the 16-bit field at 0x20e points (relative to 0x200) at
# "6.1.0-56-amd64 (builder@...) #1 ..."; fails for anything else.
kernel_release() {
	local off
	[ "$(dd if="$1" bs=1 skip=$((0x202)) count=4 2>/dev/null)" = HdrS ] || return 1
	off=$(od -An -tu2 -j $((0x20e)) -N2 "$1" | tr -d ' ')
	dd if="$1" bs=1 skip=$((off + 0x200)) count=128 2>/dev/null |
		tr '\0' '\n' | head -n 1 | cut -d' ' -f1
}
