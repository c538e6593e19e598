#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: the same fio jobs against a local ramdisk, dstor, nbd and
# NVMe/TCP, each network one over the same veth between two namespaces and
# each backed by its own brd ramdisk of the same size. Prints IOPS and MB/s
# per job and dstor's ratio to nbd and to NVMe/TCP. A benchmark, not a test:
# the cases only fail when a target cannot be set up or fio fails.
#
#  +-------------------------------------+   veth   +-------------------------------+
#  | netns ex-PID                        |          | netns im-PID                  |
#  |  /dev/ram1 -> dstor export :7420    +----------+ /dev/dstorN                   |
#  |  /dev/ram4 -> dstor export, --key   |          | /dev/dstorM   (sealed)        |
#  |  /dev/ram2 -> nbd-server    :10809  |          | /dev/nbd0   (nbd-client -C 2) |
#  |  /dev/ram3 -> nvmet-tcp     :4420   |          | /dev/nvmeXn1 (nvme connect)   |
#  +-------------------------------------+          +-------------------------------+
#  /dev/ram0: local baseline, no network.
set -u
source "$(dirname "$0")/lib.sh"

require_dstor
require_cmd fio jq nbd-server nbd-client nvme

RUNTIME=${BENCH_RUNTIME:-8}
SIZE=48M

ktap_header
ktap_plan 7

ktap_check "netns pair" ns_pair_setup || ktap_skip_all "no namespaces"
NVMET=/sys/kernel/config/nvmet
at_exit "in_im nvme disconnect -n dstorbench; rm -f $NVMET/ports/1/subsystems/dstorbench; rmdir $NVMET/ports/1 $NVMET/subsystems/dstorbench/namespaces/1 $NVMET/subsystems/dstorbench; in_im nbd-client -d /dev/nbd0; dstor_down $NS_IM $NS_EX"

# --- targets ------------------------------------------------------------------
setup_dstor() {
	in_ex dstor export add bench --device /dev/ram1 --listen "$EX_IP4:7420" &&
	DSTOR=$(in_im dstor import add bench --peer "$EX_IP4:7420") && test -b "$DSTOR"
}
# The same, sealed: a key on both sides, records on the crypto pool at its
# default size.
setup_sealed() {
	(umask 077 && dstor genkey >/tmp/bench.key) &&
	in_ex dstor export add benchk --device /dev/ram4 --listen "$EX_IP4:7420" \
		--key /tmp/bench.key &&
	SEALED=$(in_im dstor import add benchk --peer "$EX_IP4:7420" --key /tmp/bench.key) &&
	test -b "$SEALED" &&
	ktap_note "sealed with $(in_im dstor show --json | jq -r '.imports[] | select(.name == "benchk") | .cipher'), $(dstor show --json | jq -r .crypto.workers) crypto workers"
}
setup_nbd() {
	printf '[generic]\n[bench]\nexportname = /dev/ram2\n' >/tmp/nbd.conf &&
	in_ex nbd-server -C /tmp/nbd.conf &&
	wait_for 10 eval "in_ex netstat -ltn | grep -q ':10809 '" &&
	in_im nbd-client -L -N bench -C 2 "$EX_IP4" 10809 /dev/nbd0 >/dev/null &&
	NBD=/dev/nbd0
}
setup_nvme() {
	local s=$NVMET/subsystems/dstorbench p=$NVMET/ports/1
	[ -d $NVMET ] || return 1
	mkdir $s && echo 1 >$s/attr_allow_any_host &&
	mkdir $s/namespaces/1 && echo /dev/ram3 >$s/namespaces/1/device_path &&
	echo 1 >$s/namespaces/1/enable &&
	mkdir $p && echo tcp >$p/addr_trtype && echo ipv4 >$p/addr_adrfam &&
	echo "$EX_IP4" >$p/addr_traddr && echo 4420 >$p/addr_trsvcid &&
	# The port's listener is created in the namespace of whoever links it.
	# (nsenter, not ip netns exec: that one remounts /sys without configfs.)
	nsenter --net="/run/netns/$NS_EX" ln -s $s $p/subsystems/dstorbench &&
	local id
	id=$(cat /proc/sys/kernel/random/uuid)
	in_im nvme connect -t tcp -a "$EX_IP4" -s 4420 -n dstorbench \
		--hostnqn="nqn.2014-08.org.nvmexpress:uuid:$id" --hostid="$id" >/dev/null &&
	wait_for 10 eval 'NVME=$(ls /dev/nvme*n1 2>/dev/null | head -n 1); [ -b "$NVME" ]'
}
ktap_check "dstor target" setup_dstor
ktap_check "sealed dstor target" setup_sealed
ktap_check "nbd target" setup_nbd
ktap_check "NVMe/TCP target" setup_nvme

# --- jobs -----------------------------------------------------------------------
JOBS="randread:4k:16 randwrite:4k:16 read:128k:4 write:128k:4 read:128k:16 write:128k:16"

# run_job DEV RW BS QD -> "iops mbps busy" (busy: the guest's CPU share)
run_job() { fio_rate_busy "$@" "$SIZE" "$RUNTIME"; }

declare -A R
bench_all() {
	local t dev job rw bs qd
	for t in local dstor sealed nbd nvme; do
		case $t in
		local) dev=/dev/ram0 ;;
		dstor) dev=$DSTOR ;;
		sealed) dev=$SEALED ;;
		nbd) dev=$NBD ;;
		nvme) dev=$NVME ;;
		esac
		for job in $JOBS; do
			IFS=: read -r rw bs qd <<<"$job"
			R[$t:$job]=$(run_job "$dev" "$rw" "$bs" "$qd") || return 1
			[ -n "${R[$t:$job]}" ] || return 1
		done
	done
}
NVME=${NVME:-} NBD=${NBD:-} DSTOR=${DSTOR:-} SEALED=${SEALED:-}
ktap_check "fio on all five targets" bench_all

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
report() {
	local job a
	printf '%-16s %20s %20s %20s %20s %9s %9s\n' job local dstor nbd nvme-tcp "vs nbd" "vs nvme"
	for job in $JOBS; do
		printf '%-16s' "$job"
		for t in local dstor nbd nvme; do
			read -r iops mbps _ <<<"${R[$t:$job]}"
			printf ' %9s IOPS %5s MB/s' "$iops" "$mbps"
		done
		read -r a _ <<<"${R[dstor:$job]}"
		printf ' %9s %9s\n' "$(ratio "$a" "${R[nbd:$job]%% *}")" "$(ratio "$a" "${R[nvme:$job]%% *}")"
	done
	echo
	printf '%-16s %20s %20s %12s\n' job dstor "dstor sealed" "sealed/plain"
	for job in $JOBS; do
		printf '%-16s' "$job"
		for t in dstor sealed; do
			read -r iops mbps _ <<<"${R[$t:$job]}"
			printf ' %9s IOPS %5s MB/s' "$iops" "$mbps"
		done
		printf ' %12s\n' "$(ratio "${R[sealed:$job]%% *}" "${R[dstor:$job]%% *}")"
	done
}
report | sed 's/^/# /'
# What the sealed runs are up against: the AEAD's own speed on one vCPU of
# this guest (under TCG the AES and carry-less multiply instructions are
# emulated, roughly two orders of magnitude slower than on the host).
if command -v openssl >/dev/null; then
	for c in aes-256-gcm chacha20-poly1305; do
		openssl speed -seconds 2 -bytes 16384 -evp $c 2>/dev/null | tail -n 1 |
			awk -v c=$c '{ printf "# %s on one vCPU: %.1f MB/s (16 KiB blocks, openssl speed)\n", c, $2 / 1000 }'
	done
fi
# The kernel's own AEAD, the one sealed records use, on one vCPU: tcrypt's
# speed test of gcm(aes) (mode 211), when make bench put tcrypt.ko in the
# guest. Sets AEAD[enc:N] and AEAD[dec:N] to "operations bytes" per second
# for 256-bit keys and N-byte blocks (64, 4096, and 8192, tcrypt's largest;
# 64 is optional: the header records are left out without it).
declare -A AEAD
kernel_aead() {
	local fd line text dir='' seen='' re='\(256 bit key, ([0-9]+) byte blocks\): ([0-9]+) operations in ([0-9]+) seconds \(([0-9]+) bytes\)'
	[ -f /usr/bin/tcrypt.ko ] || return 1
	kmsg_mark "tcrypt"
	# It always fails to load (EAGAIN): tcrypt is a test, not a module.
	insmod /usr/bin/tcrypt.ko mode=211 sec=1 2>/dev/null
	exec {fd}</dev/kmsg || return 1
	while IFS= read -r -t 0.2 -u "$fd" line; do
		text=${line#*;}
		if [ -z "$seen" ]; then
			[ "$text" = "selftest-mark: tcrypt" ] && seen=1
			continue
		fi
		case $text in
		*"testing speed of gcm(aes)"*encryption*) dir=enc ;;
		*"testing speed of gcm(aes)"*decryption*) dir=dec ;;
		*"testing speed of"*) dir='' ;;
		esac
		[ -n "$dir" ] && [[ $text =~ $re ]] &&
			AEAD[$dir:${BASH_REMATCH[1]}]="$((BASH_REMATCH[2] / BASH_REMATCH[3])) $((BASH_REMATCH[4] / BASH_REMATCH[3]))"
	done
	exec {fd}<&-
	[ -n "${AEAD[enc:8192]:-}" ] && [ -n "${AEAD[dec:8192]:-}" ] &&
		[ -n "${AEAD[enc:4096]:-}" ] && [ -n "${AEAD[dec:4096]:-}" ]
}
# Against it: both ends are in this guest, so every sealed byte is sealed
# once and opened once on its two vCPUs. At 128k the AEAD alone allows
# 2 / (1/enc + 1/dec) MB/s; a sealed 4k request costs a 4 KiB seal and a
# 4 KiB open (and four 48-byte header records, left out), so the AEAD
# alone allows 2 / (t_enc + t_dec) requests a second. What the CPUs allow a
# sealed 4k request adds the plaintext one's CPU time (the guest's busy
# share of its CPUs over its rate) and the header records (64-byte blocks):
# N / (t_plain + t_enc + t_dec + 2 (t_enc64 + t_dec64)); at 128k, per MB:
# N / (t_plain + 1/enc + 1/dec).
aead_report() {
	local e8 d8 e4 d4 e64 d64 job ncpu
	ncpu=$(grep -c ^processor /proc/cpuinfo)
	read -r _ e8 <<<"${AEAD[enc:8192]}"
	read -r _ d8 <<<"${AEAD[dec:8192]}"
	read -r e4 _ <<<"${AEAD[enc:4096]}"
	read -r d4 _ <<<"${AEAD[dec:4096]}"
	read -r e64 _ <<<"${AEAD[enc:64]:-0}"
	read -r d64 _ <<<"${AEAD[dec:64]:-0}"
	awk -v e=$e8 -v d=$d8 -v e4=$e4 -v d4=$d4 -v e64=$e64 -v d64=$d64 'BEGIN {
		printf "kernel gcm(aes) 256-bit on one vCPU (tcrypt): 8 KiB seal %.1f MB/s, open %.1f MB/s; 4 KiB seal %.0f us, open %.0f us",
			e / 1e6, d / 1e6, 1e6 / e4, 1e6 / d4
		if (e64 && d64)
			printf "; 64 B seal %.1f us, open %.1f us", 1e6 / e64, 1e6 / d64
		printf "\n" }'
	for job in $JOBS; do
		read -r iops mbps _ <<<"${R[sealed:$job]}"
		case $job in
		*:4k:*)
			read -r piops _ pbusy <<<"${R[dstor:$job]}"
			awk -v j=$job -v x=$iops -v e4=$e4 -v d4=$d4 -v e64=$e64 -v d64=$d64 \
				-v n=$ncpu -v pi=$piops -v pb=$pbusy 'BEGIN {
			b = 2 / (1 / e4 + 1 / d4)
			tp = n * pb / pi
			c = n / (tp + 1 / e4 + 1 / d4 + (e64 && d64 ? 2 / e64 + 2 / d64 : 0))
			printf "%-16s sealed %6d IOPS, the AEAD alone allows %6d: %.2fx; with plaintext'"'"'s %.0f us of CPU a request, the CPUs allow %6d: %.2fx\n",
				j, x, b, x / b, tp * 1e6, c, x / c }' ;;
		*)
			read -r _ pmbps pbusy <<<"${R[dstor:$job]}"
			awk -v j=$job -v x=$mbps -v e=$e8 -v d=$d8 -v n=$ncpu -v pm=$pmbps -v pb=$pbusy 'BEGIN {
			b = 2 / (1 / e + 1 / d) / 1e6
			tp = n * pb / pm
			c = n / (tp + 1e6 / e + 1e6 / d)
			printf "%-16s sealed %6.1f MB/s, the AEAD alone allows %6.1f: %.2fx; with plaintext'"'"'s %.1f ms of CPU a MB, the CPUs allow %6.1f: %.2fx\n",
				j, x, b, x / b, tp * 1e3, c, x / c }' ;;
		esac
	done
}
if kernel_aead; then
	aead_report | sed 's/^/# /'
else
	ktap_note "no kernel AEAD speed: tcrypt.ko not in the guest, or its output not understood"
fi
report >/tmp/bench-report.txt
ktap_check "report written" test -s /tmp/bench-report.txt

ktap_finish
