#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`, multicast part: the time to bring N = 1, 4 and 8 empty
# receivers up to date with one export, by multicast (dstor sync, all N at
# once) and by N sequential unicast copies (dd from a read-only dstor
# import of the same export over TCP). Every target is checked against the
# export (sha256) after every run. A benchmark, not a test: the cases only
# fail when something cannot be set up or a copy is wrong.
#
#                 root namespace: bridge br-PID (MLD snooping on)
#        +-------------------+-----------+-- ... --+
#  +-----+------+      +-----+----+ +----+-----+ +-+--------+
#  | mx-PID     |      | mr1-PID  | | mr2-PID  | | mr8-PID  |  receivers,
#  | "golden":  |      | eth0     | | eth0     | | eth0     |  a loop device
#  | --mcast    |      | target   | | target   | | target   |  each
#  | and :7420  |      +----------+ +----------+ +----------+
#  +------------+
# BENCH_MC_MB: the export's size in MiB (default 128); BENCH_MC_RATE: the
# exporter's --rate (default 400M).
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd jq losetup sha256sum dd

MB=${BENCH_MC_MB:-128}
RATE=${BENCH_MC_RATE:-400M}
NR=8
W=$(mktemp -d /tmp/bench-mcast.XXXXXX)

ktap_header
ktap_plan 9

cleanup() {
	local i
	# shellcheck disable=SC2046 # one word per namespace
	dstor_down $(for i in $(seq 0 "${MC_NR:-0}"); do rx_ns "$i"; done) "$NS_X"
	losetup -D
	rm -rf "$W"
}
at_exit cleanup

ktap_check "bridge with the exporter and $NR receiver hosts" mc_topology $NR ||
	ktap_skip_all "no bridge/namespaces"

head -c $((MB << 20)) /dev/urandom >"$W/golden.img"
GOLD=$(sha256sum <"$W/golden.img" | cut -d' ' -f1)
XDEV=$(losetup --find --show --read-only "$W/golden.img")
xshow() { in_x dstor show --json | jq -r ".exports[] | select(.name == \"golden\") | $1"; }
ktap_check "a $MB MiB export served by multicast ($RATE) and over TCP" \
	eval "in_x dstor export add golden --device $XDEV --read-only --listen $MC_X_IP4:7420 \
		--mcast eth0 --querier --rate $RATE &&
	      wait_for 300 eval '[ \"\$(xshow .mcast.state)\" = serving ]'"

# Targets: one sparse file of the export's size per receiver, zeroed again
# before every run.
for i in $(seq 1 $NR); do
	truncate -s ${MB}M "$W/t$i.img"
	losetup --find --show "$W/t$i.img" >"$W/dev.$i"
done
dev() { cat "$W/dev.$1"; }
reset_targets() {
	local i
	for i in $(seq 1 "$1"); do
		blkdiscard "$(dev "$i")" 2>/dev/null ||
			dd if=/dev/zero of="$(dev "$i")" bs=1M count="$MB" oflag=direct status=none
	done
}
check_targets() {
	local i
	for i in $(seq 1 "$1"); do
		[ "$(sha256sum <"$(dev "$i")" | cut -d' ' -f1)" = "$GOLD" ] ||
			{ echo "# receiver $i differs from the export"; return 1; }
	done
}
now() { echo "$EPOCHREALTIME"; }
# "busy total" jiffies of all CPUs, from /proc/stat.
cpu_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }
# busy_pct "B0 T0": the share of CPU time busy since that sample.
busy_pct() {
	local b0 t0 b1 t1
	read -r b0 t0 <<<"$1"
	read -r b1 t1 <<<"$(cpu_ticks)"
	awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) 'BEGIN { if (t > 0) printf "%.0f%%", 100 * b / t; else print "?" }'
}

# Datagrams the receivers' sockets dropped (buffer full), all namespaces.
rx_drops() {
	local i sum=0 d
	for i in $(seq 1 $NR); do
		d=$(in_r "$i" awk '$1 == "Udp6RcvbufErrors" { print $2 }' /proc/net/snmp6)
		sum=$((sum + ${d:-0}))
	done
	echo "$sum"
}

# CPU seconds the exporter's sending thread has used (USER_HZ is 100).
mc_cpu() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = dstor-mc/golden ] &&
			{ awk '{ print $14 + $15 }' "$p/stat"; return; }
	done
	echo 0
}

declare -A T B C D E
# multicast N: all N receivers sync at once; the time until the last is done.
multicast() {
	local n=$1 i pids=() rc=0 t0 b0 c0 d0 e0
	reset_targets "$n"
	sleep 3 # the previous run's listeners are gone
	b0=$(xshow .stats.mc_bytes)
	d0=$(rx_drops)
	e0=$(mc_cpu)
	c0=$(cpu_ticks)
	t0=$(now)
	for i in $(seq 1 "$n"); do
		in_r "$i" dstor sync golden --mcast eth0 --target "$(dev "$i")" --wait \
			>"$W/sync.$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || rc=1
	done
	T[mc:$n]=$(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
	C[mc:$n]=$(busy_pct "$c0")
	B[mc:$n]=$(($(xshow .stats.mc_bytes) - b0))
	D[mc:$n]=$(($(rx_drops) - d0))
	E[mc:$n]=$(awk -v a="$(mc_cpu)" -v b="$e0" 'BEGIN { printf "%.1f", (a - b) / 100 }')
	[ $rc = 0 ] && check_targets "$n"
}
# unicast N: receiver 1..N in turn imports the export and copies it with dd.
unicast() {
	local n=$1 i d t0 c0 rc=0
	reset_targets "$n"
	c0=$(cpu_ticks)
	t0=$(now)
	for i in $(seq 1 "$n"); do
		d=$(in_r "$i" dstor import add golden --peer "$MC_X_IP4:7420" --read-only) &&
			in_r "$i" dd if="$d" of="$(dev "$i")" bs=1M iflag=direct oflag=direct \
				status=none || rc=1
		[ -n "$d" ] && in_r "$i" dstor import del "$d"
		[ $rc = 0 ] || break
	done
	T[uc:$n]=$(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
	C[uc:$n]=$(busy_pct "$c0")
	[ $rc = 0 ] && check_targets "$n"
}

for n in 1 4 8; do
	ktap_check "multicast to $n receiver(s), all identical to the export" multicast $n
	ktap_check "$n sequential unicast copies, all identical to the export" unicast $n
done

report() {
	printf '%-10s %12s %9s %12s %9s %11s %17s\n' receivers "multicast s" "cpu busy" \
		"unicast s" "cpu busy" "mc/unicast" "mc vs 1 receiver"
	for n in 1 4 8; do
		printf '%-10s %12s %9s %12s %9s %11s %17s\n' "$n" "${T[mc:$n]:-?}" "${C[mc:$n]:-?}" \
			"${T[uc:$n]:-?}" "${C[uc:$n]:-?}" \
			"$(awk -v a="${T[mc:$n]:-0}" -v b="${T[uc:$n]:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')" \
			"$(awk -v a="${T[mc:$n]:-0}" -v b="${T[mc:1]:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
	done
	echo "exporter bytes sent by multicast: $(for n in 1 4 8; do printf '%s receiver(s) %s MiB; ' $n $((${B[mc:$n]:-0} >> 20)); done)export $MB MiB"
	echo "exporter's sending thread, CPU seconds: $(for n in 1 4 8; do printf '%s receiver(s) %s; ' $n "${E[mc:$n]:-?}"; done)"
	echo "receives (a datagram or a GRO batch) dropped by the receivers' full sockets: $(for n in 1 4 8; do printf '%s receiver(s) %s; ' $n "${D[mc:$n]:-?}"; done)"
	echo "goal: 8 receivers by multicast in at most 1.5x the time of 1"
	echo "(all receivers share this guest's $(nproc) CPUs: when they are busy, N receivers take"
	echo " about N times as long whatever the network does; the exporter's bytes show the scaling)"
}
report | sed 's/^/# /'
report >/tmp/bench-mcast-report.txt
ktap_check "report written" test -s /tmp/bench-mcast-report.txt

ktap_finish
