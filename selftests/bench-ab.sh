#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench-ab`: two builds of the module, A (the one the guest loaded)
# and B (/usr/bin/dstor-b.ko), the same fio jobs on a sealed import (and a
# plaintext one with BENCH_AB_PLAIN=1) of a brd export over a veth, in
# BENCH_AB_ROUNDS (3) rounds of A and B in this one guest (A first in odd
# rounds, B first in even ones), each with the module loaded afresh. Host load under TCG moves a job's result by a
# third between runs, and by as much between minutes of one run: A and B
# interleaved a few seconds apart see the same host, and the medians and B/A
# ratios printed are what is worth comparing. Prints the guest's CPU busy
# share per job too. BENCH_AB_PROFILE=RW:BS:QD ends with a perf profile
# (cpu-clock, the whole guest) of that job on each build's sealed import,
# BENCH_AB_TRACE=RW:BS:QD a timeline of what each vCPU ran (see trace()).
# A benchmark, not a test: it fails only when a module, a target or fio does.
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd fio jq
[ -f /usr/bin/dstor-b.ko ] || ktap_skip_all "no module B (/usr/bin/dstor-b.ko)"

RUNTIME=${BENCH_RUNTIME:-4}
ROUNDS=${BENCH_AB_ROUNDS:-3}
JOBS=$(tr , ' ' <<<"${BENCH_AB_JOBS:-randread:4k:16,randwrite:4k:16,read:128k:4,write:128k:4}")
KINDS=sealed
[ "${BENCH_AB_PLAIN:-0}" = 1 ] && KINDS="plain sealed"
SIZE=48M
OUT=/tmp/bench-ab.out

ktap_header
ktap_plan 4
ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
at_exit "dstor_down $NS_IM $NS_EX"
(umask 077 && dstor genkey >/tmp/bench-ab.key)

# cpu_ticks: "cpuN busy idle" for each CPU so far.
cpu_ticks() { awk '/^cpu[0-9]/{ print $1, $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat; }

# run_job DEV RW BS QD -> "iops mbps busy% cpu0%/cpu1%/..."
# Each CPU's busy share too: a job bound by one CPU (both ends' io_work on
# it) shows as one at 100% while the guest as a whole is not.
run_job() {
	local b0 i0 b1 i1 r c0 c1
	read -r b0 i0 < <(busy_ticks)
	c0=$(cpu_ticks)
	r=$(fio_rate "$@" "$SIZE" "$RUNTIME") || return 1
	[ -n "$r" ] || return 1
	read -r b1 i1 < <(busy_ticks)
	c1=$(cpu_ticks)
	echo "$r $((100 * (b1 - b0) / (b1 - b0 + i1 - i0 + 1))) $(paste -d' ' <(echo "$c0") <(echo "$c1") |
		awk '{ b = $5 - $2; i = $6 - $3; printf "%s%d", (NR > 1 ? "/" : ""), 100 * b / (b + i + 1) }')"
}

# load_module A|B: a fresh module with a plaintext and a sealed import;
# sets DEV_plain and DEV_sealed.
load_module() {
	local ko=$DSTOR_KO
	[ "$1" = B ] && ko=/usr/bin/dstor-b.ko
	dstor_down "$NS_IM" "$NS_EX"
	rmmod dstor && insmod "$ko" || return 1
	# shellcheck disable=SC2034 # DEV_plain: read through eval in rounds()
	in_ex dstor export add plain --device /dev/ram1 --listen "$EX_IP4:7420" &&
	in_ex dstor export add sealed --device /dev/ram4 --listen "$EX_IP4:7420" \
		--key /tmp/bench-ab.key &&
	DEV_plain=$(in_im dstor import add plain --peer "$EX_IP4:7420") &&
	DEV_sealed=$(in_im dstor import add sealed --peer "$EX_IP4:7420" \
		--key /tmp/bench-ab.key)
}

rounds() {
	local r m k job rw bs qd dev res
	: >"$OUT"
	for r in $(seq "$ROUNDS"); do
		# A B, B A, ...: neither build always runs first.
		for m in $( ((r % 2)) && echo A B || echo B A); do
			load_module $m || return 1
			for k in $KINDS; do
				eval "dev=\$DEV_$k"
				for job in $JOBS; do
					IFS=: read -r rw bs qd <<<"$job"
					res=$(run_job "$dev" "$rw" "$bs" "$qd") || return 1
					echo "$k $job $m $r $res" >>"$OUT"
				done
			done
		done
	done
}
ktap_check "$ROUNDS rounds of A and B" rounds

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
report() {
	local k job m col
	printf '%-7s %-16s %-8s %s\n' kind job build "per round: IOPS MB/s busy (each CPU) | median IOPS, MB/s"
	for k in $KINDS; do
		for job in $JOBS; do
			for m in A B; do
				printf '%-7s %-16s %-8s ' "$k" "$job" "$m"
				awk -v k="$k" -v j="$job" -v m="$m" '$1 == k && $2 == j && $3 == m { printf "%s %s %s%% (%s) | ", $5, $6, $7, $8 }' "$OUT"
				for col in 5 6; do
					awk -v k="$k" -v j="$job" -v m="$m" -v c=$col '$1 == k && $2 == j && $3 == m { print $c }' "$OUT" | median
				done | tr '\n' ' '
				echo
			done
			printf '%-7s %-16s B/A      %s\n' "$k" "$job" "$(for m in A B; do
				awk -v k="$k" -v j="$job" -v m="$m" '$1 == k && $2 == j && $3 == m { print $6 }' "$OUT" | median
			done | paste -sd' ' | awk '{ printf "%.2fx (MB/s medians)", $1 ? $2 / $1 : 0 }')"
		done
	done
}
report | while IFS= read -r l; do ktap_note "$l"; done

# sealed_fio RW BS QD SECONDS [CMD...]: the job on the sealed import, run
# by CMD (perf record ... --) if given.
sealed_fio() {
	"${@:5}" fio --name=b --filename="$DEV_sealed" --rw="$1" --bs="$2" --iodepth="$3" \
		--size=$SIZE --direct=1 --ioengine=libaio --runtime="$4" \
		--time_based >/dev/null 2>&1
}
profile() {
	local m rw bs qd
	IFS=: read -r rw bs qd <<<"$BENCH_AB_PROFILE"
	: >/tmp/bench-ab.prof
	for m in A B; do
		load_module $m || return 1
		sealed_fio "$rw" "$bs" "$qd" "$RUNTIME" \
			perf record -q -e cpu-clock -a -o /tmp/perf-$m.data -- || return 1
		echo "build $m, sealed $BENCH_AB_PROFILE:" >>/tmp/bench-ab.prof
		perf report -i /tmp/perf-$m.data --sort sym --stdio 2>/dev/null |
			grep '%' | head -n 25 >>/tmp/bench-ab.prof
	done
}
# BENCH_AB_TRACE=RW:BS:QD: what each vCPU ran during 2 s of that job on each
# build's sealed import (the sched_switch tracepoint): its share of time by
# task (the io_work kworkers, fio, ksoftirqd, idle), and the share of time
# both vCPUs idled, one did, or neither. Idle on one vCPU while the other
# works is an imbalance between the two ends; idle on both is latency.
trace_report() {
	awk '
	function upd(t, d) {
		if (lt) {
			d = t - lt
			if (idle[0] && idle[1]) bi += d
			else if (idle[0] || idle[1]) oi += d
			else bb += d
			all += d
		}
		lt = t
	}
	/sched_switch/ {
		c = substr($1, 2) + 0
		t = $2 + 0
		if (c in last) {
			by[c "|" cur[c]] += t - last[c]
			tot[c] += t - last[c]
		}
		last[c] = t
		n = $0
		sub(/.*next_comm=/, "", n)
		sub(/ .*/, "", n)
		sub(/[0-9\/:]+.*$/, "", n)
		cur[c] = n
		idle[c] = n ~ /^swapper/
		upd(t)
	}
	END {
		for (k in by) {
			split(k, a, "|")
			if (by[k] * 200 >= tot[a[1]])
				printf "cpu%s %-12s %5.1f%%\n", a[1], a[2], 100 * by[k] / tot[a[1]]
		}
		if (all)
			printf "both vCPUs idle %.1f%%, one idle %.1f%%, neither %.1f%%\n",
				100 * bi / all, 100 * oi / all, 100 * bb / all
	}' | sort
}
trace() {
	local m rw bs qd pid
	IFS=: read -r rw bs qd <<<"$BENCH_AB_TRACE"
	: >/tmp/bench-ab.trace
	for m in A B; do
		load_module $m || return 1
		sealed_fio "$rw" "$bs" "$qd" 12 &
		pid=$!
		# perf takes seconds to start under TCG: the job is well under way.
		sleep 4
		perf record -q -e sched:sched_switch -a -o /tmp/trace-$m.data -- sleep 2 \
			>/dev/null 2>&1 || return 1
		wait $pid || return 1
		echo "build $m, sealed $BENCH_AB_TRACE, 2 s:" >>/tmp/bench-ab.trace
		perf script -i /tmp/trace-$m.data -F cpu,time,event,trace 2>/dev/null |
			trace_report >>/tmp/bench-ab.trace
	done
}
if [ -n "${BENCH_AB_TRACE:-}" ] && command -v perf >/dev/null; then
	ktap_check "trace of $BENCH_AB_TRACE" trace
	while IFS= read -r l; do ktap_note "$l"; done </tmp/bench-ab.trace
else
	ktap_skip "trace" "BENCH_AB_TRACE not set, or no perf"
fi
if [ -n "${BENCH_AB_PROFILE:-}" ] && command -v perf >/dev/null; then
	ktap_check "profile of $BENCH_AB_PROFILE" profile
	while IFS= read -r l; do ktap_note "$l"; done </tmp/bench-ab.prof
else
	ktap_skip "profile" "BENCH_AB_PROFILE not set, or no perf"
fi
ktap_finish
