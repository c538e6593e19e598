# SPDX-License-Identifier: GPL-2.0
# Sourced by pair.sh and syspair.sh (not run).
#
# udp_port_pair: two consecutive UDP ports free on this host, "A B", for
# two guests' socket netdev (each sends to the other's port). Picked from
# the caller's pid, so that runs side by side differ, then the next pairs.
udp_port_pair() {
	local base=$((30000 + ($$ % 15000) * 2)) _
	for _ in $(seq 50); do
		if [ -z "$(ss -Hlun "sport = :$base")" ] &&
		   [ -z "$(ss -Hlun "sport = :$((base + 1))")" ]; then
			break
		fi
		base=$(((base - 30000 + 2) % 30000 + 30000))
	done
	echo "$base $((base + 1))"
}
