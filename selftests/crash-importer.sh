#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The importer half of the machine crash test; selftests/vm/pair.sh runs it
# (it skips anywhere else, and is not in TESTS). The exporter is another
# QEMU guest serving its virtio disk (no volatile write cache: pair.sh
# attaches it with cache=directsync); pair.sh kills that guest's QEMU
# during our writes and boots it again on the same disk image.
#
#   1. import the exporter guest's disk, mkfs.ext4, mount;
#   2. two writers make files of random data, each written with
#      dd conv=fsync and its directory fsync'ed; only once both returned is
#      the file listed with its sha256 (in this guest's tmpfs);
#   3. after BEFORE files are listed, print the marker pair.sh waits for
#      ("pair: crash-exporter"): it freezes the exporter's QEMU, so requests
#      are surely in flight, then kills it and boots the exporter again;
#   4. the import notices, reconnects to the new boot, resends what was in
#      flight, and the writers carry on: AFTER more files get listed;
#   5. no writer saw an I/O error; reconnects, resent, no errors in the
#      counters; umount, drop every cache, e2fsck -fn clean; mount; every
#      listed file is there with its sha256 (read from the exporter's disk,
#      not from a cache) and no other file is;
#   6. umount, import del, and send the list to the exporter guest, which
#      checks its disk on its own (crash-exporter.sh).
# shellcheck disable=SC2016 # the single-quoted commands are eval'd later
set -u
# shellcheck source=selftests/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=selftests/crash-lib.sh
source "$(dirname "$0")/crash-lib.sh"

pair_require importer
require_dstor
require_cmd jq mkfs.ext4 e2fsck sha256sum blockdev

ktap_header
ktap_plan 19

# A dead exporter is noticed within 3 s; connects are tried every 1-2 s
# (each waits up to 10 s); a request may wait timeout x (retries + 1) =
# 510 s before it fails: longer than we wait for the reconnect (480 s),
# far longer than the exporter's reboot takes (30 to 90 s under TCG on a
# busy host; a boot that hangs is killed after 120 s and booted again,
# twice at most: run.sh's --boot-timeout and --boot-retries).
TIMERS="--connections 2 --timeout 10 --retries 50 --reconnect 1:2 --keepalive 1 --dead-after 3"
BEFORE=8	# files fsync'ed before the crash is called for
AFTER=8		# files fsync'ed after the import is back
state=/tmp/crash	# tmpfs, this guest's memory: the lists live here
mnt=/mnt/crash
mkdir -p "$state" "$mnt"
: >"$state/manifest"
dev='' sent='' w1='' w2=''

# Poll CMD once a second (cheaper than lib.sh's wait_for under emulation:
# every poll of `dstor show` forks dstor and jq).
poll() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 1
	done
}

imp() { dstor show --json | jq -r ".imports[] | select(.device == \"$dev\") | $1"; }
durable() { wc -l <"$state/manifest"; }

# send_end LAST-LINE: the list, then LAST-LINE, to the exporter guest.
send_end() {
	local deadline=$((SECONDS + 60))
	sent=1
	until ( { cat "$state/manifest"; echo "$1"; } >"/dev/tcp/$PAIR_EX_IP/$PAIR_CTL_PORT" ) 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || { echo "cannot reach $PAIR_EX_IP:$PAIR_CTL_PORT"; return 1; }
		sleep 1
	done
}

cleanup() {
	# Tell the exporter first: nothing below may keep it waiting.
	[ -n "$sent" ] || send_end "ABORT the importer's test ended early"
	touch "$state/stop"
	[ -z "$w1$w2" ] || kill $w1 $w2
	sleep 1
	[ -n "$dev" ] || return
	if [ "$(imp .state)" = connected ]; then
		umount "$mnt"
		dstor import del "$dev"
	else
		# The exporter is gone: a plain umount would wait for it.
		umount -l "$mnt"
	fi
}
at_exit cleanup

# writer ID: files of 32 to 512 KiB of random data in wID/ until told to
# stop. Each file is listed only after its fsync and its directory's fsync
# returned: whatever is listed must survive the crash.
writer() {
	local id=$1 n=0 kib sum
	mkdir "$mnt/w$id" && sync "$mnt" || return 1
	while [ ! -e "$state/stop" ]; do
		n=$((n + 1))
		kib=$(((RANDOM % 16 + 1) * 32))
		head -c $((kib * 1024)) /dev/urandom >"$state/buf$id" || return 1
		sum=$(sha256sum <"$state/buf$id") || return 1
		dd if="$state/buf$id" of="$mnt/w$id/f$n" bs=64k conv=fsync status=none || return 1
		sync "$mnt/w$id" || return 1
		echo "${sum%% *}  w$id/f$n" >>"$state/manifest"
	done
}

stop_writers() {
	local w rc=0
	touch "$state/stop"
	poll 120 eval '! kill -0 $w1 2>/dev/null && ! kill -0 $w2 2>/dev/null' ||
		{ echo "writers still running 120 s after the stop"; return 1; }
	for w in 1 2; do
		if ! wait "$(eval echo "\$w$w")"; then
			echo "writer $w failed:"
			cat "$state/w$w.err"
			rc=1
		fi
	done
	w1='' w2=''
	return $rc
}

# verify LIST: every file of LIST under $mnt with its sha256.
verify() {
	(cd "$mnt" && sha256sum -c "$1" >"$state/verify.out") ||
		{ grep -v ': OK$' "$state/verify.out"; return 1; }
}

# The files under w1/ and w2/ are exactly the listed ones.
same_files() {
	(cd "$mnt" && find w1 w2 -type f | sort) >"$state/found"
	awk '{ print $2 }' "$state/manifest" | sort >"$state/listed"
	diff "$state/listed" "$state/found"
}

drop_caches() { blockdev --flushbufs "$dev" && echo 3 >/proc/sys/vm/drop_caches; }

# --- 1 ---------------------------------------------------------------------
ktap_check "network up: $PAIR_IM_IP/24" pair_net "$PAIR_IM_IP" || pair_fatal
ktap_note "network interface $PAIR_NIC"

# pair.sh boots the exporter alongside: it may take a while (a boot that
# hangs under TCG is killed after 120 s and booted again).
import_add() {
	local deadline=$((SECONDS + 480))
	# shellcheck disable=SC2086 # TIMERS are separate words
	until dev=$(dstor import add "$PAIR_EXPORT" --peer "$PAIR_EX_IP:$PAIR_PORT" $TIMERS 2>"$state/import.err"); do
		[ $SECONDS -lt $deadline ] || { cat "$state/import.err"; return 1; }
		sleep 2
	done
	test -b "$dev"
}
ktap_check "import $PAIR_EXPORT from $PAIR_EX_IP" import_add || pair_fatal
# The exporter's disk has no volatile write cache, and the import says so:
# every write is durable when it is acknowledged, and no FLUSH is sent.
ktap_check "the import has no volatile write cache, like the exporter's disk" \
	grep -qx 'write through' "/sys/block/${dev#/dev/}/queue/write_cache"
ktap_note "$dev, timers: $(imp '.timers | "timeout \(.timeout) retries \(.retries) reconnect \(.reconnect_min):\(.reconnect_max) keepalive \(.keepalive) dead-after \(.dead_after)"')"
ktap_check "mkfs.ext4 and mount" eval 'mkfs.ext4 -q -F "$dev" && mount "$dev" "$mnt"' ||
	pair_fatal

# --- 2, 3 ------------------------------------------------------------------
writer 1 2>"$state/w1.err" &
w1=$!
writer 2 2>"$state/w2.err" &
w2=$!
ktap_check "$BEFORE files fsync'ed" poll 120 eval '[ "$(durable)" -ge $BEFORE ]' || pair_fatal
before=$(durable)
cp "$state/manifest" "$state/manifest.before"
t0=$SECONDS
ktap_note "pair: crash-exporter ($before files fsync'ed)"

# --- 4 ---------------------------------------------------------------------
ktap_check "the import notices the exporter is gone" \
	poll 60 eval '[ "$(imp .state)" != connected ]'
ktap_note "state $(imp .state), $(imp .stats.inflight) request(s) in flight, $(durable) files fsync'ed"
ktap_check "reconnected to the exporter's next boot" \
	poll 480 eval '[ "$(imp .state)" = connected ] && [ "$(imp .stats.reconnects)" -ge 1 ]' ||
	pair_fatal "the import did not come back"
back=$(durable)
ktap_note "back after $((SECONDS - t0)) s; $back files fsync'ed"
ktap_check "$AFTER more files fsync'ed after the reconnect" \
	poll 120 eval '[ "$(durable)" -ge $((back + AFTER)) ]'

# --- 5 ---------------------------------------------------------------------
ktap_check "writers stopped, no I/O error" stop_writers
ktap_note "counters: $(imp '.stats | "writes \(.writes) flushes \(.flushes) resent \(.resent) timeouts \(.timeouts) reconnects \(.reconnects) errors \(.errors)"')"
ktap_check "counted reconnects" test "$(imp .stats.reconnects)" -ge 1
ktap_check "counted resent requests (in flight at the crash)" test "$(imp .stats.resent)" -ge 1
ktap_check "no request failed" test "$(imp .stats.errors)" -eq 0
ktap_check "umount, e2fsck -fn clean" eval 'umount "$mnt" && drop_caches && e2fsck -fn "$dev"'
ktap_check "mount again, caches dropped" eval 'drop_caches && mount "$dev" "$mnt"' ||
	pair_fatal "not mounted"
ktap_check "the $before files fsync'ed before the crash are intact" verify "$state/manifest.before"
ktap_check "all $(durable) fsync'ed files are intact" verify "$state/manifest"
ktap_check "no files but the listed ones" same_files

# --- 6 ---------------------------------------------------------------------
ktap_check "umount, import del" eval 'umount "$mnt" && dstor import del "$dev" && dev='
ktap_check "list of $(durable) files sent to the exporter" send_end "END $(durable)"
ktap_finish
