# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by crash-exporter.sh and crash-importer.sh, the two halves of the
# machine crash test that selftests/vm/pair.sh runs on two QEMU guests (not
# a test itself). Source it after lib.sh.
#
#  +-------------------------------+  virtio NICs joined by  +-------------------------------+
#  | guest "exporter"              |  QEMU -netdev socket    | guest "importer"              |
#  |  /dev/vda (a file on the host)|  (UDP on host loopback) |  /dev/dstorN <- crash         |
#  |   -> export "crash"           +-------------------------+   ext4, fsync'ing writers     |
#  |  10.77.0.1:7420, ctl :7421    |                         |  10.77.0.2                    |
#  +-------------------------------+                         +-------------------------------+
#
# pair.sh puts "dstor_pair.role=exporter|importer" (and, for the exporter,
# "dstor_pair.boot=N") on each guest's kernel command line; a guest without
# it is not in pair mode and both scripts skip.
#
#   pair_require ROLE      skip the whole test unless this guest is ROLE
#   pair_boot              the exporter's boot number (1, then 2 after the crash)
#   pair_net ADDR          put ADDR/24 on the guest's (only) NIC, $PAIR_NIC, up
#   pair_skip_rest REASON  "ok ... # SKIP" up to the plan
#   pair_fatal [REASON]    skip the rest and finish (after a failed step
#                          everything else depends on)

# shellcheck disable=SC2034 # used by the scripts that source this file
PAIR_EX_IP=10.77.0.1
PAIR_IM_IP=10.77.0.2
PAIR_PORT=7420
# The importer's end message: its list of fsync'ed files ("SHA256  PATH"
# lines, paths relative to the file system's root), then "END N" (N lines)
# or, if it gave up, "ABORT REASON".
PAIR_CTL_PORT=7421
PAIR_EXPORT=crash
# The export's identity, the same in both of the exporter's boots, as an
# admin's configuration would keep it: the import resumes against it.
PAIR_UUID=6c0e5f1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b
PAIR_DISK=/dev/vda

pair_arg() {
	local w
	# shellcheck disable=SC2013 # the command line is one line of words
	for w in $(cat /proc/cmdline); do
		case $w in "dstor_pair.$1="*) echo "${w#*=}" ;; esac
	done
}

pair_require() {
	[ "$(pair_arg role)" = "$1" ] ||
		ktap_skip_all "not the $1 of selftests/vm/pair.sh's two-machine mode"
}

pair_boot() { pair_arg boot; }

# The NIC: with QEMU's -nodefaults the pair's virtio-net is the only device
# with a driver behind it (lo has none).
pair_nic() {
	local d
	for d in /sys/class/net/*; do
		[ -e "$d/device" ] && { basename "$d"; return 0; }
	done
	return 1
}

PAIR_NIC=
pair_net() {
	wait_for 20 pair_nic >/dev/null || { echo "no network interface"; return 1; }
	PAIR_NIC=$(pair_nic)
	ip addr add "$1/24" dev "$PAIR_NIC" && ip link set "$PAIR_NIC" up
}

pair_skip_rest() {
	# shellcheck disable=SC2154 # lib.sh's counters
	while [ "$_ktap_num" -lt "${_ktap_plan:-0}" ]; do
		ktap_skip "not reached" "$1"
	done
}

pair_fatal() {
	pair_skip_rest "${1:-an earlier step failed}"
	ktap_finish
}
