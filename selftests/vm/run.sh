#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a kernel in QEMU and run selftests inside it.
#
#   run.sh --kernel IMAGE [--modules VER|none] [--ko PATH] [--tool PATH]
#          [--extra PATH]...
#          [--debug | --bench] [--timeout SECONDS] [--mem MB] [--smp N]
#          [--append "ARGS"] [--log FILE] [--boot-timeout SECONDS]
#          [--boot-retries N] [--qemu-arg ARG]... [--qemu-pidfile FILE]
#          TEST...
#
#   TEST         a script path relative to selftests/, e.g. smoke.sh
#   --kernel     bzImage to boot (e.g. /boot/vmlinuz-6.1.0-56-amd64)
#   --modules    /lib/modules/VER to take brd, veth, nbd, ... from, or none
#                (default: the kernel image's own version if that directory
#                exists, else none)
#   --ko         dstor.ko to put into the guest (loaded at boot, $DSTOR_KO)
#   --tool       dstor tool binary to put into the guest (as /usr/bin/dstor)
#   --extra      another binary for the guest's /usr/bin (repeatable): the
#                test tools dstor-hostile, dstor-nlfuzz, dstor-mitm
#   --debug      debug-kernel profile: no modules, no slub_debug, ramdisks
#                sized on the command line, kmemleak scan at the end, test
#                timeouts x3
#   --bench      benchmark profile: the allocators without slub_debug and
#                KFENCE, whose stack traces and poisoning on every slab
#                allocation (every skb) would be measured along
#   --timeout    whole-run limit; QEMU is killed and the run fails after it
#                (default: boot allowance + the sum of the test timeouts)
#   --mem --smp  guest size (default 2048 MiB, 2 CPUs)
#   --append     extra kernel command line arguments
#   --log        where the full kernel console goes (default
#                build/vm/LABEL/RUN/console.log; LABEL is the kernel release,
#                plus "-debug" with --debug; build/vm/LABEL/latest is the
#                newest RUN directory, with ktap.log and qemu.stderr)
#   --boot-timeout  a guest that has not started /init after this long, or
#                whose console stays silent for 60 s before that, is killed
#                and booted again (default 120 s, 300 s with --debug): under
#                TCG the debug kernel often hangs early in its boot
#   --boot-retries  how many times to boot again after such a hang
#                (default 2, 10 with --debug)
#   --qemu-arg   one more QEMU argument, appended to the command line as is
#                (repeatable, one word each): e.g. --qemu-arg -drive
#                --qemu-arg file=disk.img,format=raw,if=virtio. Used by
#                pair.sh for the disk and the network link
#   --qemu-pidfile  where QEMU writes its process id (default
#                build/vm/LABEL/RUN/qemu.pid): lets another script kill
#                this guest (pair.sh's exporter crash)
#
# Each test's timeout comes from the "timeout.NAME=" or else the "timeout="
# line of the settings file next to it, else selftests/settings (kselftest
# style), else 45 s.
#
# Output: the tests' KTAP lines as they arrive, prefixed "[KERNEL TEST]";
# then one verdict per test script, the kernel log check (one more test
# case: it fails on BUG/WARNING/Oops, lockdep, KASAN/UBSAN/KFENCE/kmemleak
# or slub_debug reports and on "dstor: ... leaked"), a "N skipped" line and,
# as the very last line, "N passed, N failed". Exit status 0 iff 0 failed.
#
# Counting: every unindented "ok"/"not ok" line of every test is one case
# ("# SKIP" counts as passed, and as skipped). A script also adds one
# failure if it exited non-zero without a "not ok", printed fewer results
# than its plan (or none at all), timed out, or never ran / never finished
# because the guest died. A script that exits 4 (kselftest "skip") without
# results counts as one skipped case. A --ko that fails to load at boot is
# one more failure.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
selftests=$(dirname "$here")
top=$(dirname "$selftests")

usage() {
	sed -n '/^#   run.sh/,/^# Output/{/^# Output/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit "${1:-2}"
}
die() { echo "run.sh: $*" >&2; exit 2; }

kernel='' modules=auto ko='' tool='' extras=() debug=0 bench=0 run_timeout='' mem=2048 smp=2 append='' console_log=''
boot_timeout='' boot_retries='' qemu_args=() qemu_pidfile=''
tests=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel)	kernel=$2; shift 2 ;;
	--modules)	modules=$2; shift 2 ;;
	--ko)		ko=$2; shift 2 ;;
	--tool)		tool=$2; shift 2 ;;
	--extra)	extras+=("$2"); shift 2 ;;
	--debug)	debug=1; shift ;;
	--bench)	bench=1; shift ;;
	--timeout)	run_timeout=$2; shift 2 ;;
	--mem)		mem=$2; shift 2 ;;
	--smp)		smp=$2; shift 2 ;;
	--append)	append=$2; shift 2 ;;
	--log)		console_log=$2; shift 2 ;;
	--boot-timeout)	boot_timeout=$2; shift 2 ;;
	--boot-retries)	boot_retries=$2; shift 2 ;;
	--qemu-arg)	qemu_args+=("$2"); shift 2 ;;
	--qemu-pidfile)	qemu_pidfile=$2; shift 2 ;;
	-h|--help)	usage 0 ;;
	-*)		echo "run.sh: unknown option '$1'" >&2; usage ;;
	*)		tests+=("$1"); shift ;;
	esac
done
[ -n "$kernel" ] || usage
[ ${#tests[@]} -gt 0 ] || usage
[ -r "$kernel" ] || die "$kernel: cannot read"
for t in "${tests[@]}"; do
	case $t in *[,:\ ]*) die "test name '$t' must not contain ',', ':' or spaces" ;; esac
	[ -f "$selftests/$t" ] || die "$selftests/$t: no such test"
done

# The kernel's release, from its setup header.
# shellcheck source=selftests/vm/kver.sh
source "$here/kver.sh"
release=$(kernel_release "$kernel") || release=
[ -n "$release" ] || echo "run.sh: warning: cannot read the release of $kernel" >&2

if [ "$modules" = auto ]; then
	if [ $debug = 0 ] && [ -n "$release" ] && [ -d "/lib/modules/$release" ]; then
		modules=$release
	else
		modules=none
	fi
fi
if [ "$modules" != none ] && [ -n "$release" ] && [ "$modules" != "$release" ]; then
	die "--modules $modules does not match the kernel ($release)"
fi
if [ -n "$ko" ] && [ -n "$release" ]; then
	vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)
	[ "$vermagic" = "$release" ] ||
		echo "run.sh: warning: $ko is built for '$vermagic', the kernel is $release" >&2
fi

label=${release:-$(basename "$kernel")}
[ $debug = 0 ] || label=$label-debug
# One directory per run, so runs can go on in parallel:
# build/vm/LABEL/YYYYmmdd-HHMMSS-PID, with build/vm/LABEL/latest pointing at
# the newest. The 20 newest are kept.
labeldir=$top/build/vm/$label
outdir=$labeldir/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$outdir"
ln -sfn "$(basename "$outdir")" "$labeldir/latest"
find "$labeldir" -mindepth 1 -maxdepth 1 -type d -name "[0-9]*-[0-9]*" | sort -r |
	tail -n +21 | xargs -r rm -rf
: "${console_log:=$outdir/console.log}"
: "${qemu_pidfile:=$outdir/qemu.pid}"
mkdir -p "$(dirname "$qemu_pidfile")"
mkdir -p "$(dirname "$console_log")"
ktap_log=$outdir/ktap.log
initrd=$outdir/initramfs.cpio.gz

# Per-test timeouts (kselftest "settings" files); "timeout.NAME=S" lines
# override "timeout=S" for the test NAME.
test_timeout() {
	local s v name
	name=$(basename "$1")
	for s in "$(dirname "$selftests/$1")/settings" "$selftests/settings"; do
		[ -f "$s" ] || continue
		v=$(sed -n "s/^timeout\.$name=\([0-9]\+\)\$/\1/p" "$s" | tail -n 1)
		[ -n "$v" ] && { echo "$v"; return; }
		v=$(sed -n 's/^timeout=\([0-9]\+\)$/\1/p' "$s" | tail -n 1)
		[ -n "$v" ] && { echo "$v"; return; }
	done
	echo 45
}
factor=1
[ $debug = 0 ] || factor=3
tests_arg='' sum=0
for t in "${tests[@]}"; do
	secs=$(($(test_timeout "$t") * factor))
	tests_arg=${tests_arg:+$tests_arg,}$t:$secs
	# The guest's watchdog gives a test 30 s more than its timeout.
	sum=$((sum + secs + 30))
done
if [ -z "$boot_timeout" ]; then
	if [ $debug = 0 ]; then boot_timeout=120; else boot_timeout=300; fi
fi
if [ -z "$boot_retries" ]; then
	# The debug kernel hangs in 4 to 5 boots out of 10 (see boot_watch),
	# and each such hang is seen and cut in about 20 s.
	if [ $debug = 0 ]; then boot_retries=2; else boot_retries=10; fi
fi
if [ -z "$run_timeout" ]; then
	# Boot (about 10 s, 60 s on the debug kernel), then the tests, then
	# the kmemleak scan and the dmesg dump.
	if [ $debug = 0 ]; then run_timeout=$((120 + sum)); else run_timeout=$((300 + sum)); fi
fi

# --- image -------------------------------------------------------------------
mk_args=(-o "$initrd" --modules "$modules" --cache "$top/build/vm/cache")
[ -z "$ko" ] || mk_args+=(--ko "$ko")
[ -z "$tool" ] || mk_args+=(--tool "$tool")
for x in ${extras[@]+"${extras[@]}"}; do
	mk_args+=(--extra "$x")
done
t0=$(date +%s.%N)
"$here"/mkinitramfs.sh "${mk_args[@]}" || die "building the initramfs failed"
t1=$(date +%s.%N)

# --- boot --------------------------------------------------------------------
# panic=-1 reboots at once on a panic and -no-reboot turns that into a QEMU
# exit. No oops=panic: an oops kills the offending task only, the run goes on
# and the log check reports it.
cmdline="console=ttyS0 panic=-1 selftests=$tests_arg"
if [ $debug = 0 ]; then
	# KFENCE is compiled into 6.12 but off by default (interval 0).
	# tsc=reliable: when the host is busy, the clocksource watchdog finds
	# the emulated TSC skewed against the emulated HPET and marks it
	# unstable; flipping sched_clock's static key then patches live kernel
	# text, and under TCG another vCPU can run into the int3 of that
	# patching ("Oops: int3" in sched_clock_cpu, a panic; seen once in
	# hostile.sh on 6.12 while the host ran a fuzzer). Every vCPU's TSC
	# comes from the same QEMU clock, so trusting it is right here.
	if [ $bench = 0 ]; then
		cmdline="$cmdline slub_debug=FZPU kfence.sample_interval=100"
	fi
	cmdline="$cmdline tsc=reliable"
else
	# slub_debug on top of KASAN stalls the boot under emulation.
	cmdline="$cmdline brd.rd_nr=6 brd.rd_size=65536"
fi
[ -z "$append" ] || cmdline="$cmdline $append"

echo "[$label] booting $kernel (modules: $modules, timeout ${run_timeout}s)"
echo "[$label] console: $console_log"
: >"$ktap_log"

# Serial port 0 (ttyS0, the console) goes to the log file; port 1 (ttyS1,
# the tests' output) to our stdout, read line by line below.
# shellcheck disable=SC2054 # commas inside QEMU option values
# The debug kernel's two vCPUs take turns in one host thread: make check
# runs four guests on two host CPUs, and with a thread per vCPU the debug
# kernel's (lockdep's, KASAN's) spinning on a lock whose holder's thread
# is not running burned CPU for nothing: basic.sh and hostile.sh side by
# side with the others used 329 and 368 CPU s that way, 261 and 300 so
# (2026-12-05). The Debian kernels keep a thread per vCPU (no difference
# there), so their tests run truly in parallel.
accel=tcg
[ $debug = 0 ] || accel=tcg,thread=single
qemu=(qemu-system-x86_64 -accel "$accel" -cpu max -smp "$smp" -m "$mem"
	-nographic -nodefaults -no-user-config -no-reboot -monitor none
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline"
	-serial "file:$console_log" -chardev stdio,id=ktap,signal=off
	-serial chardev:ktap -pidfile "$qemu_pidfile" ${qemu_args[@]+"${qemu_args[@]}"})

# Boot watchdog, run in the background: if /init has not announced itself
# on the console by the deadline, or the console stayed silent for 60 s
# before that, stop QEMU and leave a note for the caller. A normal boot
# never pauses longer than ~15 s. The debug kernel, under TCG, hangs in
# about 4 boots out of 10 right after "Running RCU-tasks wait API self
# tests" (PROVE_RCU's boot-time self test, before the second CPU is up; the
# CPU keeps taking timer interrupts but the boot makes no progress) -- with
# any of idle=halt, noapictimer, nox2apic, tsc=reliable, -smp 1 or
# single-threaded TCG. Booting again is the cure. A healthy boot prints its
# next line about 0.1 s (guest time) after that one, so a console silent
# on it for 15 s is that hang: boot again then, not after 60 s.
#
# The same goes for a kernel that reports a problem of its own before /init
# (before dstor.ko exists in the guest): once the debug kernel took a KASAN
# "wild-memory-access" in handle_edge_irq, an interrupt during cpu_detect
# at 1.5 s under TCG. Such a kernel is tainted (lockdep turns itself off),
# so the tests would run on a weaker checker: boot again instead.
early_bad='BUG:|WARNING:|Oops|Kernel panic|Call Trace:'
rcu_tasks_hang='Running RCU-tasks wait API self tests'
boot_watch() {
	local deadline=$((SECONDS + boot_timeout)) size=-1 now last_change=$SECONDS
	while [ $SECONDS -lt "$deadline" ]; do
		if sed '/vm-init: kernel/q' "$console_log" 2>/dev/null | grep -Eq "$early_bad"; then
			echo report >"$outdir/boot-hang"
			break
		fi
		grep -qs 'vm-init: kernel' "$console_log" && return
		now=$(stat -c %s "$console_log" 2>/dev/null || echo 0)
		if [ "$now" != "$size" ]; then
			size=$now
			last_change=$SECONDS
		elif [ $((SECONDS - last_change)) -ge 60 ]; then
			break
		elif [ $((SECONDS - last_change)) -ge 15 ] &&
			tail -n 1 "$console_log" | grep -q "$rcu_tasks_hang"; then
			break
		fi
		sleep 2
	done
	[ -e "$outdir/boot-hang" ] || : >"$outdir/boot-hang"
	kill "$(cat "$qemu_pidfile" 2>/dev/null)" 2>/dev/null
}

# Print the test port's lines as they come, prefixed, and keep them in
# ktap.log for the verdicts below.
# qemu_cpu: the CPU seconds QEMU has used so far (user + system), 0 when
# it is not running: what each test costs the host, printed after it.
clk_tck=$(getconf CLK_TCK)
qemu_cpu() {
	local pid
	pid=$(cat "$qemu_pidfile" 2>/dev/null) &&
		awk -v t="$clk_tck" '{ print int(($14 + $15) / t) }' "/proc/$pid/stat" 2>/dev/null ||
		echo 0
}

read_ktap() {
	local line part current='' cpu0=0
	while IFS= read -r line; do
		line=${line%$'\r'}
		# A test that died in the middle of a line leaves the next marker at
		# the end of that line: split it off.
		case $line in
		?*"%%vm "*)
			part=${line%%"%%vm "*}
			printf '%s\n' "$part" >>"$ktap_log"
			echo "[$label${current:+ $current}] $part"
			line=${line#"$part"} ;;
		esac
		printf '%s\n' "$line" >>"$ktap_log"
		case $line in
		"%%vm begin "*)
			current=${line#"%%vm begin "}
			cpu0=$(qemu_cpu)
			echo "[$label] ---- $current" ;;
		"%%vm end "*)
			# shellcheck disable=SC2086 # split "NAME rc=N secs=S"
			set -- ${line#"%%vm end "}
			echo "[$label] ---- $1: exit ${2#rc=} after ${3#secs=} s (host CPU $(($(qemu_cpu) - cpu0)) s)"
			current= ;;
		"%%vm done") ;;
		*)
			echo "[$label${current:+ $current}] $line" ;;
		esac
	done
}

attempt=0
while :; do
	attempt=$((attempt + 1))
	rm -f "$outdir/boot-hang"
	boot_watch &
	watch_pid=$!
	timeout -k 5 "$run_timeout" "${qemu[@]}" </dev/null 2>"$outdir/qemu.stderr" | read_ktap
	qemu_rc=${PIPESTATUS[0]}
	kill "$watch_pid" 2>/dev/null
	wait "$watch_pid" 2>/dev/null
	# A panic before /init ends QEMU (-no-reboot) before the watch sees
	# it: once, a 6.12 guest under TCG oopsed on an int3 in
	# sched_clock_cpu at 3.6 s, patching a static key, no module loaded.
	if [ ! -e "$outdir/boot-hang" ] && ! grep -qs 'vm-init: kernel' "$console_log" &&
		grep -Eqs "$early_bad" "$console_log"; then
		echo report >"$outdir/boot-hang"
	fi
	[ -e "$outdir/boot-hang" ] || break
	if [ -s "$outdir/boot-hang" ]; then
		echo "[$label] bad boot: the kernel reported a problem before /init, before dstor.ko was loaded (attempt $attempt):"
		sed '/vm-init: kernel/q' "$console_log" | grep -E "$early_bad" | head -n 3 | sed "s/^/[$label]   /"
	else
		echo "[$label] boot hang: no /init (console silent 60 s, 15 s on the RCU-tasks self test, or ${boot_timeout}s passed; attempt $attempt)"
	fi
	[ "$attempt" -le "$boot_retries" ] || break
	mv "$console_log" "$console_log.boot-hang-$attempt"
	echo "[$label] booting again (the hung boot's console: $console_log.boot-hang-$attempt)"
	: >"$ktap_log"
done
t2=$(date +%s.%N)
# The image is rebuilt in a second from the cache; do not keep 45 MB per run.
rm -f "$initrd"

if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	echo "[$label] whole-run timeout (${run_timeout}s): QEMU killed"
elif [ "$qemu_rc" != 0 ]; then
	echo "[$label] QEMU exited with status $qemu_rc:"
	sed "s/^/[$label]   /" "$outdir/qemu.stderr"
fi

# --- verdicts ----------------------------------------------------------------
# Per script: "NAME PASS FAIL SKIP NOTE" from the KTAP log. The guest runs
# the tests in the order given and marks each one it starts, so the k-th
# "begin" marker is the k-th test (a test may be listed more than once).
verdicts=$(awk -v expected="${tests[*]}" '
	BEGIN { n = split(expected, order, " ") }
	/^%%vm begin / { t = ++seq; began[t] = 1; next }
	/^%%vm end / { ended[t] = 1; rc[t] = substr($4, 4); t = ""; next }
	t == "" { next }
	/^1\.\.[0-9]+/ { plan[t] = substr($1, 4) + 0; next }
	/^(not )?ok( |$)/ {
		results[t]++
		if ($0 ~ /#[ \t]*[Ss][Kk][Ii][Pp]/) { pass[t]++; skip[t]++ }
		else if ($1 == "not") { fail[t]++; notok[t]++ }
		else pass[t]++
	}
	END {
		for (t = 1; t <= n; t++) {
			p = pass[t] + 0; f = fail[t] + 0; s = skip[t] + 0
			r = results[t] + 0; note = "exit " rc[t]
			if (!began[t]) { f++; note = "never ran (guest died, or an earlier test hung)" }
			else if (!ended[t]) { f++; note = "did not finish (guest died?)" }
			else if (rc[t] == "hung") { f++; note = "hung: unkillable after timeout" }
			else if (rc[t] == 124 || rc[t] == 137) { f++; note = "timed out" }
			else if (rc[t] == 4 && r == 0) { p++; s++; note = "skipped (exit 4)" }
			else if (rc[t] != 0 && !notok[t]) { f++; note = "exit " rc[t] " without a not ok" }
			else if (rc[t] == 0 && r == 0) { f++; note = "no results" }
			else if (t in plan && plan[t] != r) {
				f++; note = "planned " plan[t] ", got " r
			}
			printf "%s %d %d %d %s\n", order[t], p, f, s, note
		}
	}' "$ktap_log")

passed=0 failed=0 skipped=0
while read -r t p f s note; do
	printf '[%s] %s: %d passed, %d failed, %d skipped (%s)\n' "$label" "$t" "$p" "$f" "$s" "$note"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done <<<"$verdicts"

# A module under test that does not load would turn its tests into skips:
# count it as a failure of its own.
if [ -n "$ko" ] && grep -qs '^vm-init: insmod dstor failed' "$console_log"; then
	echo "[$label] $ko did not load at boot: $(grep -m1 '^vm-init: insmod dstor failed' "$console_log" |
		tr -d '\r' | sed 's/^vm-init: insmod dstor failed: //')"
	failed=$((failed + 1))
fi

# --- kernel log check --------------------------------------------------------
# The console log holds the kernel messages as printed, the kmemleak report
# and, if the guest got that far, a full dmesg dump (which repeats what the
# console showed: identical lines are reported once). Lines are attributed
# to the test that was running, from the "selftest: begin/end" markers.
bad='BUG:|WARNING:|Oops|general protection fault|Call Trace:|kernel BUG|Kernel panic'
bad="$bad|possible circular locking|possible recursive locking|inconsistent lock state"
bad="$bad|suspicious RCU usage|INFO: task .* blocked|soft lockup|hard LOCKUP|detected stalls"
bad="$bad|unreferenced object|KASAN|UBSAN|KFENCE"
bad="$bad|BUG kmalloc|BUG [^ ]+ \\((Not tainted|Tainted)|Poison overwritten|Redzone|Object already free"
bad="$bad|dstor.*leaked"
findings=$(tr -d '\r' <"$console_log" 2>/dev/null | awk -v bad="$bad" '
	/selftest: begin / { sub(/.*selftest: begin /, ""); during = $0; next }
	/selftest: end / { during = ""; next }
	/^%%vm (kmemleak|dmesg) begin/ { during = "" }
	$0 ~ bad && !seen[$0]++ {
		print (during == "" ? "" : "(" during ") ") $0
	}')
[ -s "$console_log" ] || findings="no kernel console output at all"
complete=''
grep -qs '^%%vm dmesg end' "$console_log" ||
	complete=" (as far as it goes: the guest did not reach its dmesg dump)"
if [ -z "$findings" ]; then
	echo "[$label] kernel log: clean$complete"
	passed=$((passed + 1))
else
	echo "[$label] kernel log: $(echo "$findings" | wc -l) suspicious line(s), see $console_log:"
	echo "$findings" | head -n 60 | sed "s/^/[$label]   /"
	failed=$((failed + 1))
fi

# Times: building the image; QEMU start to exit; and from the guest's own
# clock, userspace start and poweroff.
up=$(sed -n 's/.*vm-init: userspace up after \([0-9]*\) s.*/\1/p' "$console_log" | head -n 1)
down=$(sed -n 's/.*vm-init: poweroff after \([0-9]*\) s.*/\1/p' "$console_log" | head -n 1)
printf '[%s] times: image %.1f s, QEMU %.1f s for %d boot(s) (last boot, guest clock: /init at %s s, poweroff at %s s)\n' \
	"$label" "$(awk "BEGIN { print $t1 - $t0 }")" "$(awk "BEGIN { print $t2 - $t1 }")" \
	"$attempt" "${up:-?}" "${down:-?}"
# The failed cases by name, last, so that a log's tail (all CI keeps) says
# which ones they were.
notok=$(awk '/^%%vm begin / { t = $3; next }
	/^%%vm end / { t = ""; next }
	/^not ok / && !/#[ \t]*[Ss][Kk][Ii][Pp]/ { print t ": " $0 }' "$ktap_log")
[ -z "$notok" ] || echo "$notok" | head -n 20 | sed "s/^/[$label] failed: /"
echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
