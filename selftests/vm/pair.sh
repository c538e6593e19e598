#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A real machine crash, with two QEMU guests: the exporter guest's QEMU is
# killed during the importer guest's writes and booted again on the same
# disk image.
#
# What it proves, and what it cannot: killing QEMU loses the exporter's
# kernel, its sessions and whatever requests it held, but never a write
# QEMU had completed -- that is in the host's file whatever the guest
# flushed. A kill is not a power cut of a disk with a volatile write cache,
# so this test could never see a FLUSH or FUA that was dropped. The disk
# is therefore attached with cache=directsync: the guest sees no volatile
# write cache (a write completes once it is on the host's stable storage,
# O_DIRECT | O_DSYNC), the export says so, and the importer sends no FLUSH
# at all; crash-exporter.sh and crash-importer.sh check both ends. On such
# a disk the kill is a faithful power cut, and the test shows that every
# write the importer was told is done survives the exporter's crash, that
# the import reconnects to the new boot and resends what was in flight, and
# that ext4 on it comes through consistent. FLUSH and FUA on a disk with a
# volatile cache are durability.sh's job (dm-log-writes).
#
#   pair.sh --kernel IMAGE --ko PATH --tool PATH [--modules VER|none]
#           [--extra PATH]... [--mem MB] [--disk-mb N] [--freeze SECONDS]
#           [--keep]
#
#   --kernel --modules --ko --tool --extra --mem
#                as for run.sh (each guest is one run.sh run)
#   --disk-mb    size of the exporter's disk, a sparse raw file made fresh
#                for each run (default 64)
#   --freeze     the exporter's QEMU is stopped (SIGSTOP) this long before
#                it is killed (SIGKILL), so requests are surely in flight
#                when it dies (default 3; 0: kill at once, and then the
#                importer's "counted resent requests" fails whenever
#                nothing happened to be in flight)
#   --keep       keep the disk image even when everything passed
#
# The guests (selftests/crash-lib.sh has the picture):
#   exporter   10.77.0.1, disk.img as a virtio disk (/dev/vda,
#              cache=directsync: no volatile write cache), runs
#              selftests/crash-exporter.sh: exports /dev/vda as "crash"
#   importer   10.77.0.2, runs selftests/crash-importer.sh: imports it,
#              mkfs.ext4, mount, two writers of fsync'ed, checksummed files
# Each guest gets a virtio NIC on "-netdev socket,udp=...,localaddr=...":
# a stateless UDP tunnel between two ports of the host's loopback, which
# stays valid while one side's QEMU is killed and started again. Each
# guest's kernel command line says its role (dstor_pair.role=...); without
# it the two scripts skip, so they never disturb a normal run.sh run.
#
# The sequence:
#   1. boot the exporter (boot 1) and the importer side by side (the
#      importer tries to import for up to 480 s); wait for the exporter's
#      "pair: export-up boot=1";
#   2. wait for the importer's "pair: crash-exporter" (8 files are fsync'ed
#      and the writers go on);
#   3. SIGSTOP the exporter's QEMU, --freeze seconds, SIGKILL; 2 s later
#      boot the exporter again on the same disk.img (boot 2): it re-adds the
#      export on the disk as it is;
#   4. the importer reconnects, resends, writes 8 more files, verifies
#      everything (after umount, dropped caches, e2fsck -fn), deletes its
#      import and sends its list of files over the link to the exporter,
#      which runs e2fsck -fn on its disk and checks every file's sha256
#      there, then powers off.
#
# Output: every guest's run.sh output, prefixed [exporter1], [importer],
# [exporter2]; then the verdict. Counted: the importer's results and log
# check, boot 2's results and log check, and two cases of our own (boot 1
# had the export up, on its console too; boot 1 was killed during the
# importer's writes). Boot 1's own verdict is ignored: its QEMU was killed
# on purpose, so run.sh reports its test as unfinished. A skipped case of
# the importer or of boot 2 is a failure here. The last line is
# "N passed, N failed"; exit status 0 iff 0 failed.
#
# Files: build/vm/LABEL/pair/RUN/ holds each guest's output (NAME.out),
# console (NAME.console.log) and, when something failed or with --keep,
# disk.img. The 10 newest RUN directories are kept.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$(dirname "$here")")

usage() {
	sed -n '/^#   pair.sh/,/^# The guests/{/^# The guests/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit "${1:-2}"
}
die() { echo "pair.sh: $*" >&2; exit 2; }

kernel='' modules='' ko='' tool='' extras=() mem='' disk_mb=64 freeze=3 keep=0
while [ $# -gt 0 ]; do
	case $1 in
	--kernel)	kernel=$2; shift 2 ;;
	--modules)	modules=$2; shift 2 ;;
	--ko)		ko=$2; shift 2 ;;
	--tool)		tool=$2; shift 2 ;;
	--extra)	extras+=("$2"); shift 2 ;;
	--mem)		mem=$2; shift 2 ;;
	--disk-mb)	disk_mb=$2; shift 2 ;;
	--freeze)	freeze=$2; shift 2 ;;
	--keep)		keep=1; shift ;;
	-h|--help)	usage 0 ;;
	*)		echo "pair.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
{ [ -n "$kernel" ] && [ -n "$ko" ] && [ -n "$tool" ]; } || usage
[ -r "$kernel" ] || die "$kernel: cannot read"
[ -f "$ko" ] || die "$ko: no such file"
[ -f "$tool" ] || die "$tool: no such file"

# The label, as run.sh makes it: the kernel's release from its setup header.
# shellcheck source=selftests/vm/kver.sh
source "$here/kver.sh"
release=$(kernel_release "$kernel") || release=
label=${release:-$(basename "$kernel")}
P="[$label pair]"

pairdir=$top/build/vm/$label/pair
dir=$pairdir/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$dir"
find "$pairdir" -mindepth 1 -maxdepth 1 -type d -name "[0-9]*-[0-9]*" | sort -r |
	tail -n +11 | xargs -r rm -rf

# Two free UDP ports on the loopback.
# shellcheck source=selftests/vm/ports.sh
source "$here/ports.sh"
read -r ex_port im_port < <(udp_port_pair)

img=$dir/disk.img
rm -f "$img"
truncate -s "${disk_mb}M" "$img" || die "cannot create $img"

common=(--kernel "$kernel" --ko "$ko" --tool "$tool")
[ -z "$modules" ] || common+=(--modules "$modules")
[ -z "$mem" ] || common+=(--mem "$mem")
for x in ${extras[@]+"${extras[@]}"}; do
	common+=(--extra "$x")
done

# nic PORT PEER-PORT MAC: run.sh arguments for the virtio NIC, in $nic_args.
nic() {
	nic_args=(--qemu-arg -netdev --qemu-arg "socket,id=n0,udp=127.0.0.1:$2,localaddr=127.0.0.1:$1"
		--qemu-arg -device --qemu-arg "virtio-net-pci,netdev=n0,mac=$3")
}

# start NAME RUN.SH-ARGS...: one guest in the background. Its output goes to
# NAME.out and, prefixed, to our stdout; NAME.rc appears when it is over.
#
# A guest whose kernel dies before /init ran (no "vm-init: kernel" on its
# console) is booted again, twice at most, like run.sh does with a boot that
# hangs: dstor is not loaded yet at that point (/init loads it), so such a
# death is not the module's. Under TCG the Debian 6.12 kernel very rarely
# (about 1 boot in 70 here) takes an "Oops: int3" in code that jump-label
# patching has just changed, an emulation race; with three boots per run
# that would fail about one run in 25. The dead boot's console is kept
# (NAME.console.log.early-death-N) and reported, not counted.
start() {
	local name=$1
	shift
	rm -f "$dir/$name.rc" "$dir/$name.pid" "$dir/$name.killed"
	# shellcheck disable=SC2094 # NAME.out and NAME.rc are different files
	{
		local try rc
		for try in 1 2 3; do
			"$here"/run.sh "${common[@]}" --log "$dir/$name.console.log" \
				--qemu-pidfile "$dir/$name.pid" "$@" 2>&1
			rc=$?
			# No stale pid for kill_guest to hit (QEMU removes it only
			# when it exits normally).
			rm -f "$dir/$name.pid"
			[ "$rc" != 0 ] && [ $try -lt 3 ] && [ ! -e "$dir/$name.killed" ] &&
				! grep -qas 'vm-init: kernel' "$dir/$name.console.log" || break
			mv "$dir/$name.console.log" "$dir/$name.console.log.early-death-$try"
			echo "$P $name: the kernel died before /init, not counted" \
				"(dstor was not loaded yet): $(tr -d '\r' <"$dir/$name.console.log.early-death-$try" |
				grep -a -m1 -E 'Oops|BUG|Kernel panic|Call Trace' || echo 'no message')"
			echo "$P $name: booting it again (that console: $name.console.log.early-death-$try)"
		done
		echo "$rc" >"$dir/$name.rc"
	} | tee "$dir/$name.out" | sed -u "s/^/[$name] /" &
}

# wait_line NAME TEXT SECONDS: until NAME's output has TEXT; fails when
# NAME's run ends without it, or after SECONDS.
wait_line() {
	local deadline=$((SECONDS + $3))
	while :; do
		grep -qF -- "$2" "$dir/$1.out" 2>/dev/null && return 0
		if [ -e "$dir/$1.rc" ]; then
			grep -qF -- "$2" "$dir/$1.out" 2>/dev/null
			return
		fi
		[ $SECONDS -lt "$deadline" ] || return 1
		sleep 0.5
	done
}

# wait_end NAME SECONDS: until NAME's run.sh has exited.
wait_end() {
	local deadline=$((SECONDS + $2))
	until [ -e "$dir/$1.rc" ]; do
		[ $SECONDS -lt "$deadline" ] || return 1
		sleep 1
	done
}

# kill_guest NAME [SIGNAL]: signal NAME's QEMU (ours only: by its pidfile).
# A guest killed is not booted again.
kill_guest() {
	local pid
	[ "${2:-KILL}" != KILL ] || : >"$dir/$1.killed"
	pid=$(cat "$dir/$1.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill "-${2:-KILL}" "$pid" 2>/dev/null
}

cleanup() {
	local g
	for g in exporter1 importer exporter2; do
		[ -e "$dir/$g.rc" ] || kill_guest "$g"
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

exporter() {
	local n=$1
	nic "$ex_port" "$im_port" 52:54:00:77:00:01
	start "exporter$n" --append "dstor_pair.role=exporter dstor_pair.boot=$n" \
		--qemu-arg -drive --qemu-arg "file=$img,format=raw,if=virtio,cache=directsync" \
		"${nic_args[@]}" crash-exporter.sh
}

echo "$P directory $dir"
echo "$P link: UDP 127.0.0.1:$ex_port (exporter) <-> 127.0.0.1:$im_port (importer); disk ${disk_mb} MiB"
pass=0 fail=0 skipped=0 notes=()
ok() { echo "$P ok: $*"; pass=$((pass + 1)); }
bad() { echo "$P FAILED: $*"; fail=$((fail + 1)); notes+=("$*"); }

t_start=$SECONDS
crashed=0 t_up='' t_crash='' t_boot2=''

# 1. The exporter, boot 1, and the importer: booting them one after the
#    other would take half a minute longer.
exporter 1
nic "$im_port" "$ex_port" 52:54:00:77:00:02
start importer --append "dstor_pair.role=importer" "${nic_args[@]}" crash-importer.sh
if wait_line exporter1 "pair: export-up boot=1" 600; then
	t_up=$((SECONDS - t_start))
	# 2. The importer's call for the crash.
	if wait_line importer "pair: crash-exporter" 600; then
		# 3. The crash.
		t_crash=$((SECONDS - t_start))
		if [ -e "$dir/exporter1.rc" ] || ! kill_guest exporter1 0; then
			bad "exporter boot 1 was not running when the crash was due"
		else
			echo "$P crash: SIGSTOP exporter1's QEMU, ${freeze} s, SIGKILL"
			kill_guest exporter1 STOP
			sleep "$freeze"
			kill_guest exporter1 KILL
			crashed=1
			wait_end exporter1 60 || echo "$P exporter1's run.sh did not end"
			sleep 2
			echo "$P booting the exporter again on the same disk"
			t_boot2=$((SECONDS - t_start))
			exporter 2
		fi
	else
		echo "$P the importer never called for the crash"
	fi
else
	echo "$P exporter boot 1 never had the export up: stopping the importer"
	kill_guest importer
fi

# 4. The importer ends on its own (run.sh has its own time limit); boot 2
#    ends when the importer's message has come, or gives up after 600 s.
#    Once the importer is done, it gets 120 s more.
if [ -e "$dir/importer.out" ]; then
	wait_end importer 1500 || { echo "$P importer still running: killed"; kill_guest importer; }
fi
t_im=$((SECONDS - t_start))
if [ -e "$dir/exporter2.out" ]; then
	wait_end exporter2 120 || { echo "$P exporter2 still running 120 s after the importer: killed"; kill_guest exporter2; }
fi
[ $crashed = 1 ] || kill_guest exporter1
wait
t_end=$((SECONDS - t_start))

# --- verdict -----------------------------------------------------------------
echo "$P ---- verdict"
# Boot 1: its console must show the export up; the rest is not counted.
if grep -qF "pair: export-up boot=1" "$dir/exporter1.out" 2>/dev/null &&
	grep -qs "crash-exporter: export crash up on /dev/vda (boot 1)" "$dir/exporter1.console.log"; then
	ok "exporter boot 1 had the export up (test output and console)"
else
	bad "exporter boot 1 never had the export up (see $dir/exporter1.out, exporter1.console.log)"
fi
if [ $crashed = 1 ]; then
	ok "exporter boot 1 killed during the importer's writes, at +${t_crash}s"
else
	bad "no crash happened"
fi
echo "$P exporter boot 1 was killed on purpose (run.sh calls that a whole-run" \
	"timeout): its own verdict is ignored:"
sed -n 's/^\(\[[^]]*\] \(crash-exporter.sh:\|kernel log:\)\)/  \1/p' \
	"$dir/exporter1.out" 2>/dev/null | sed "s/^/$P /"

# count NAME SCRIPT MIN: add run NAME's final "N passed, N failed"; every
# case of SCRIPT must have run (MIN results at least, none skipped).
count() {
	local name=$1 script=$2 min=$3 line p f s
	if [ ! -e "$dir/$name.out" ]; then
		bad "$name never ran"
		return
	fi
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$dir/$name.out" | tail -n 1)
	if [ -z "$line" ]; then
		bad "$name: no verdict from run.sh (see $dir/$name.out)"
		return
	fi
	p=${line%% passed*} f=${line#*passed, } f=${f%% failed*}
	pass=$((pass + p)) fail=$((fail + f))
	[ "$f" = 0 ] || notes+=("$name: $f failed")
	s=$(sed -n "s/.* $script: [0-9]* passed, [0-9]* failed, \([0-9]*\) skipped .*/\1/p" "$dir/$name.out" |
		tail -n 1)
	[ -n "$s" ] || { bad "$name: no verdict for $script"; return; }
	skipped=$((skipped + s))
	[ "$s" = 0 ] || bad "$name: $s case(s) of $script skipped"
	[ $((p - 1)) -ge "$min" ] || bad "$name: only $((p - 1)) of $min cases of $script passed"
	echo "$P $name: $line"
}
count importer crash-importer.sh 19
count exporter2 crash-exporter.sh 11

echo "$P times: export up at +${t_up:-?}s, crash at +${t_crash:-?}s, boot 2 at +${t_boot2:-?}s, importer done at +${t_im}s, all done at +${t_end}s"
for g in exporter1 importer exporter2; do
	[ -e "$dir/$g.console.log" ] && echo "$P console: $dir/$g.console.log"
done
for f in "$dir"/*.early-death-*; do
	[ -e "$f" ] && echo "$P a boot that died before /init (booted again, not counted): $f"
done
if [ "$fail" = 0 ] && [ $keep = 0 ]; then
	rm -f "$img"
else
	echo "$P disk image kept: $img"
fi
for n in ${notes[@]+"${notes[@]}"}; do
	echo "$P failure: $n"
done
echo "$skipped skipped"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
