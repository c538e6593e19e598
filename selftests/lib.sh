# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for the dstor selftests (bash). Source it first:
#
#   set -u
#   source "$(dirname "$0")/lib.sh"
#
# KTAP output (kselftest style):
#   ktap_header                  "TAP version 13"
#   ktap_plan N                  "1..N"
#   ktap_ok NAME                 "ok K NAME"
#   ktap_fail NAME [WHY]         "# WHY" then "not ok K NAME"
#   ktap_skip NAME REASON        "ok K NAME # SKIP REASON"
#   ktap_check NAME CMD...       ok if CMD succeeds; else its output as "# "
#                                lines and not ok. CMD runs in this shell
#                                (functions work, variables it sets stick).
#   ktap_note TEXT...            "# TEXT"
#   ktap_skip_all REASON         "1..0 # SKIP REASON", exit 4
#   ktap_finish                  totals; exit 1 if anything failed or the
#                                plan was not met, 4 if all skipped, else 0
#
# Other helpers:
#   at_exit CMD...               run CMD at exit (last registered runs first)
#   wait_for SECS CMD...         poll CMD until it succeeds, 0.1 s after
#                                the first try, then less often (every
#                                0.5 s at most: a poll often starts dstor
#                                and jq, costly under emulation); fails
#                                after SECS seconds
#   require_cmd CMD...           skip the whole test unless CMDs exist
#   require_dstor                skip the whole test unless the dstor module
#                                is loaded and the dstor tool is on PATH
#   ns_pair_setup / ns_cleanup   two network namespaces joined by a veth
#   in_ex CMD... / in_im CMD...  run CMD in the exporter / importer namespace
#                                (ip netns exec: CMD gets a mount namespace
#                                of its own, so a mount it makes is gone
#                                when it exits)
#   in_net NS CMD...             run CMD in network namespace NS but in this
#                                shell's mount namespace: mounts it makes stay
#   show_json                    `dstor show --json` of both namespaces,
#                                merged (dstor objects are per namespace)
#   dstor_down NS...             delete every import, export and sync of
#                                each namespace (for at_exit)
#   slab_snapshot [REGEX]        "cache active_objs objsize" lines from
#                                /proc/slabinfo, then a "total BYTES" line
#   slab_active CACHE            active objects of one slab cache
#
# Tests run as root inside the guest; each one gets /dev/ram0..5 (64 MiB
# each) to itself, since the harness runs tests one at a time.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

_ktap_num=0
_ktap_plan=
_ktap_pass=0
_ktap_fail=0
_ktap_skip=0

ktap_header() { echo "TAP version 13"; }

ktap_plan() {
	_ktap_plan=$1
	echo "1..$1"
}

ktap_note() { echo "# $*"; }

# Where a test's time goes: a note before any result that came 10 s or more
# after the one before it (or after the plan).
_ktap_lap_us=${EPOCHREALTIME//[.,]/}
_ktap_lap() {
	local now=${EPOCHREALTIME//[.,]/}
	[ $((now - _ktap_lap_us)) -lt 10000000 ] ||
		ktap_note "($(((now - _ktap_lap_us) / 1000000)) s for the case below)"
	_ktap_lap_us=$now
}

ktap_ok() {
	_ktap_lap
	_ktap_num=$((_ktap_num + 1))
	_ktap_pass=$((_ktap_pass + 1))
	echo "ok $_ktap_num $1"
}

ktap_fail() {
	_ktap_lap
	_ktap_num=$((_ktap_num + 1))
	_ktap_fail=$((_ktap_fail + 1))
	[ $# -lt 2 ] || ktap_note "$2"
	echo "not ok $_ktap_num $1"
}

ktap_skip() {
	_ktap_lap
	_ktap_num=$((_ktap_num + 1))
	_ktap_skip=$((_ktap_skip + 1))
	echo "ok $_ktap_num $1 # SKIP ${2:-}"
}

ktap_check() {
	local name=$1 out rc
	shift
	out=$(mktemp)
	"$@" >"$out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		ktap_ok "$name"
	else
		sed 's/^/# /' "$out"
		ktap_fail "$name" "failed (exit $rc): $*"
	fi
	rm -f "$out"
	return $rc
}

ktap_skip_all() {
	echo "1..0 # SKIP $*"
	exit $KSFT_SKIP
}

ktap_finish() {
	echo "# Totals: pass:$_ktap_pass fail:$_ktap_fail skip:$_ktap_skip"
	if [ -n "$_ktap_plan" ] && [ "$_ktap_num" -ne "$_ktap_plan" ]; then
		ktap_note "planned $_ktap_plan tests, ran $_ktap_num"
		exit $KSFT_FAIL
	fi
	[ $_ktap_fail -eq 0 ] || exit $KSFT_FAIL
	if [ $_ktap_num -gt 0 ] && [ $_ktap_skip -eq $_ktap_num ]; then
		exit $KSFT_SKIP
	fi
	exit $KSFT_PASS
}

# --- cleanup -------------------------------------------------------------------
_at_exit=()

at_exit() { _at_exit=("$*" "${_at_exit[@]}"); }

_run_at_exit() {
	local rc=$? cmd
	trap - EXIT
	for cmd in "${_at_exit[@]}"; do
		eval "$cmd" >/dev/null 2>&1
	done
	exit $rc
}
trap _run_at_exit EXIT
# The harness stops a test that runs too long with TERM: clean up then, too.
trap 'exit 143' TERM INT

# --- polling -------------------------------------------------------------------
# Monotonic-enough microseconds from bash itself (no fork per poll).
_now_us() { echo "${EPOCHREALTIME//[.,]/}"; }

# Polls every 0.1 s at first, then less often: every 0.5 s, every 2 s on
# the debug kernel, where each poll (a dstor and a jq, as a rule) costs a
# starved guest more of the CPU the awaited work needs.
wait_for() {
	local secs=$1 deadline ms=100 max=${_WAIT_MAX_MS:-500}
	shift
	deadline=$(($(_now_us) + secs * 1000000))
	until "$@"; do
		[ "$(_now_us)" -lt "$deadline" ] || return 1
		sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
		[ $ms -ge $max ] || ms=$((ms + 100))
	done
}

# --- the kernel's own clock ------------------------------------------------------
# Time between two kernel log records, from their timestamps: what the
# kernel did when, whatever the delays of the shell that watches it.
#
# kmsg_mark TEXT: a record of our own in the kernel log.
kmsg_mark() { echo "selftest-mark: $1" >/dev/kmsg; }

# kmsg_ms_since TEXT ERE: milliseconds from the mark TEXT to the first later
# record matching ERE; fails if there is none (yet).
kmsg_ms_since() {
	local mark="selftest-mark: $1" re=$2 fd line t0='' us
	exec {fd}</dev/kmsg || return 1
	# /dev/kmsg: "prio,seq,usec,flags;text"; a read at the end blocks.
	while IFS= read -r -t 0.2 -u "$fd" line; do
		us=${line#*,*,}
		us=${us%%[,;]*}
		if [ -z "$t0" ]; then
			[ "${line#*;}" = "$mark" ] && t0=$us
		elif [[ ${line#*;} =~ $re ]]; then
			exec {fd}<&-
			echo $(((us - t0) / 1000))
			return 0
		fi
	done
	exec {fd}<&-
	return 1
}

# --- requirements --------------------------------------------------------------
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || ktap_skip_all "$c not installed"
	done
}

require_dstor() {
	[ -d /sys/module/dstor ] || ktap_skip_all "dstor module not loaded"
	require_cmd dstor
}

# --- network namespaces ---------------------------------------------------------
#
#  +-----------------------------+              +-----------------------------+
#  | netns $NS_EX ("ex-PID")     |              | netns $NS_IM ("im-PID")     |
#  | exporter                    |     veth     | importer                    |
#  |         $EX_DEV  "veth-ex" -+--------------+- "veth-im"  $IM_DEV         |
#  |   $EX_IP4  192.0.2.1/24     |              |   192.0.2.2/24  $IM_IP4     |
#  |   $EX_IP6  2001:db8::1/64   |              |   2001:db8::2/64  $IM_IP6   |
#  +-----------------------------+              +-----------------------------+
#
# Addresses come from the documentation ranges (RFC 5737, RFC 3849); IPv6
# addresses skip duplicate address detection (nodad) so they are usable at
# once. Both namespaces have lo up. ns_pair_setup registers ns_cleanup, which
# kills whatever still runs in the namespaces and deletes them.
NS_EX=ex-$$
NS_IM=im-$$
EX_DEV=veth-ex
IM_DEV=veth-im
EX_IP4=192.0.2.1
IM_IP4=192.0.2.2
EX_IP6=2001:db8::1
IM_IP6=2001:db8::2

in_ex() { ip netns exec "$NS_EX" "$@"; }
in_im() { ip netns exec "$NS_IM" "$@"; }
in_net() { nsenter --net="/run/netns/$1" -- "${@:2}"; }

ns_pair_setup() {
	at_exit ns_cleanup
	ip netns add "$NS_EX" &&
	ip netns add "$NS_IM" &&
	ip -n "$NS_EX" link set lo up &&
	ip -n "$NS_IM" link set lo up &&
	ip link add "$EX_DEV" netns "$NS_EX" type veth peer name "$IM_DEV" netns "$NS_IM" &&
	ip -n "$NS_EX" addr add "$EX_IP4/24" dev "$EX_DEV" &&
	ip -n "$NS_IM" addr add "$IM_IP4/24" dev "$IM_DEV" &&
	ip -n "$NS_EX" addr add "$EX_IP6/64" dev "$EX_DEV" nodad &&
	ip -n "$NS_IM" addr add "$IM_IP6/64" dev "$IM_DEV" nodad &&
	ip -n "$NS_EX" link set "$EX_DEV" up &&
	ip -n "$NS_IM" link set "$IM_DEV" up
}

# ns_del NS...: kill what runs in each namespace that exists, delete it.
ns_del() {
	local ns pid
	for ns in "$@"; do
		[ -e "/run/netns/$ns" ] || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns"
	done
}

ns_cleanup() { ns_del "$NS_EX" "$NS_IM"; }

# dstor objects belong to the namespace that created them; a test that
# looks at both ends merges what each namespace shows.
show_json() {
	{ in_ex dstor show --json; in_im dstor show --json; } |
		jq -s '{exports: (map(.exports) | add), imports: (map(.imports) | add),
			syncs: (map(.syncs) | add), crypto: .[0].crypto, limits: .[0].limits}'
}

# dstor_down NS...: remove what dstor has in each namespace (imports
# first, then syncs and exports). "-" is the initial namespace.
dstor_down() {
	local ns run j x
	for ns in "$@"; do
		if [ "$ns" = - ]; then run=(); else run=(ip netns exec "$ns"); fi
		[ "$ns" = - ] || [ -e "/run/netns/$ns" ] || continue
		j=$("${run[@]}" dstor show --json 2>/dev/null) || continue
		for x in $(jq -r '.imports[].device' <<<"$j"); do "${run[@]}" dstor import del "$x"; done
		for x in $(jq -r '.syncs[].index' <<<"$j"); do "${run[@]}" dstor sync del "$x"; done
		for x in $(jq -r '.exports[].name' <<<"$j"); do "${run[@]}" dstor export del "$x"; done
	done
}

# The debug tier's kernel (KASAN, lockdep, kmemleak) runs several times
# slower under TCG: tests do the same things there, fewer times.
debug_kernel() { grep -qw kasan_report /proc/kallsyms; }
_WAIT_MAX_MS=500
! debug_kernel || _WAIT_MAX_MS=2000 # wait_for's longest pause

# --- a bridged link for multicast -----------------------------------------------
# mc_topology NR: bridge br-PID (MLD snooping on), the exporter's namespace
# mx-PID and receivers mr0-PID .. mrNR-PID, each with eth0 on the bridge,
# IPv6 link-local only (no DAD) and, for unicast comparisons, 198.51.100.X/24
# (the exporter .1, receiver I .(I+10)).
MC_BR=br-$$
NS_X=mx-$$
MC_X_IP4=198.51.100.1
rx_ns() { echo "mr$1-$$"; }
rx_ip4() { echo "198.51.100.$(($1 + 10))"; }
in_x() { ip netns exec "$NS_X" "$@"; }
in_r() {
	local i=$1
	shift
	ip netns exec "$(rx_ns "$i")" "$@"
}

mc_add_host() { # NS IPV4
	ip netns add "$1" &&
	ip -n "$1" link set lo up &&
	ip link add "v-$1" type veth peer name eth0 netns "$1" &&
	ip netns exec "$1" sysctl -qw net.ipv6.conf.eth0.accept_dad=0 &&
	ip -n "$1" addr add "$2/24" dev eth0 &&
	ip link set "v-$1" master "$MC_BR" up &&
	ip -n "$1" link set eth0 up
}

mc_topology() {
	MC_NR=$1
	at_exit mc_topology_cleanup
	ip link add "$MC_BR" type bridge mcast_snooping 1 &&
	ip link set "$MC_BR" up &&
	mc_add_host "$NS_X" "$MC_X_IP4" || return 1
	local i
	for i in $(seq 0 "$MC_NR"); do
		mc_add_host "$(rx_ns "$i")" "$(rx_ip4 "$i")" || return 1
	done
}

# mc_all_syncs I...: the syncs of receivers I..., one JSON array.
mc_all_syncs() {
	local i
	for i in "$@"; do
		in_r "$i" dstor sync list --json
	done | jq -s 'add // []'
}

# Receivers that join together (mcast.sh's sync_all): mc_hold, start
# them, then mc_release NAME I...: the exporter hears nothing (its bridge
# port drops what goes to it) until receivers I... all wait for NAME's
# announcement (60 s at most); then a query brings all their reports in one
# go: the exporter's next one, or at once one of the same kind sent into the
# bridge by dstor-mldforge (a second querier on the link, whose queries a
# --querier export ignores).
mc_hold() { tc qdisc add dev "v-$NS_X" root netem loss 100%; }
mc_release() {
	local name=$1 n=$(($# - 1))
	shift
	# shellcheck disable=SC2034 # for the eval below
	local who=("$@")
	wait_for 60 eval '[ "$(mc_all_syncs "${who[@]}" | jq "[.[] | select(.state == \"waiting\")] | length")" -ge $n ]' ||
		echo "# not all $n syncs were waiting"
	tc qdisc del dev "v-$NS_X" root
	if command -v dstor-mldforge >/dev/null; then
		dstor-mldforge --iface "$MC_BR" --name "$name" --kind query --count 1 >/dev/null 2>&1 ||
			echo "# dstor-mldforge failed"
	fi
}

# sha256_is SUM FILE: FILE's content hashes to SUM.
sha256_is() { [ "$(sha256sum <"$2" | cut -d' ' -f1)" = "$1" ]; }

# mc_same SUM I...: the target of each receiver I (its path in $W/dev.I)
# hashes to SUM; hashed side by side.
mc_same() {
	local sum=$1 i pids=() rc=0
	shift
	for i in "$@"; do
		sha256_is "$sum" "$(cat "$W/dev.$i")" &
		pids+=($!)
	done
	for i in "$@"; do
		wait "${pids[0]}" || { echo "# receiver $i differs"; rc=1; }
		pids=("${pids[@]:1}")
	done
	return $rc
}

# mc_syncs_del I...: delete every sync of receivers I...
mc_syncs_del() {
	local i s
	for i in "$@"; do
		for s in $(in_r "$i" dstor sync list --json 2>/dev/null | jq -r '.[].index' 2>/dev/null); do
			in_r "$i" dstor sync del "$s"
		done
	done
}

mc_topology_cleanup() {
	local i
	# shellcheck disable=SC2046 # one word per namespace
	ns_del "$NS_X" $(for i in $(seq 0 "${MC_NR:-0}"); do rx_ns "$i"; done)
	ip link del "$MC_BR" 2>/dev/null
}

# --- benchmarks -----------------------------------------------------------------

# fio_rate DEV RW BS QD SIZE SECONDS: one direct libaio fio job, after a
# second of ramp; prints "IOPS MB/s" of its reads, or of its writes.
fio_rate() {
	fio --name=b --filename="$1" --rw="$2" --bs="$3" --iodepth="$4" --size="$5" \
		--direct=1 --ioengine=libaio --runtime="$6" --time_based \
		--ramp_time=1 --output-format=json 2>/dev/null |
	jq -r '.jobs[0] | (if .read.io_bytes > 0 then .read else .write end) |
		"\(.iops | floor) \(.bw_bytes / 1000000 * 10 | floor / 10)"'
}

# busy_ticks: busy and idle jiffies of all CPUs so far.
busy_ticks() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat; }

# fio_rate_busy ARGS... (as fio_rate) -> "iops mbps busy": busy is the share
# of all CPUs' time the guest was busy during the job (0 to 1).
fio_rate_busy() {
	local b0 i0 b1 i1 r
	read -r b0 i0 < <(busy_ticks)
	r=$(fio_rate "$@") || return 1
	[ -n "$r" ] || return 1
	read -r b1 i1 < <(busy_ticks)
	echo "$r $(awk -v b=$((b1 - b0)) -v i=$((i1 - i0)) 'BEGIN { printf "%.3f", b / (b + i + 1) }')"
}

# --- slab accounting ------------------------------------------------------------
# /proc/slabinfo: "name active_objs num_objs objsize objperslab ...". With
# slub_debug (the Debian kernels' boot) caches are not merged, so a module's
# own caches show up under their own names.
slab_snapshot() {
	awk -v re="${1:-.}" '
		NR > 2 && $1 ~ re { print $1, $2, $4; total += $2 * $4 }
		END { print "total", total + 0 }' /proc/slabinfo
}

slab_active() {
	awk -v c="$1" '$1 == c { print $2; found = 1 } END { if (!found) print 0 }' /proc/slabinfo
}
