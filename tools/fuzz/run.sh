#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build and run the libFuzzer targets over kernel/proto.h and mcast_proto.h.
#
#   tools/fuzz/run.sh SECONDS [TARGET...]
#
# Builds every target with clang -fsanitize=fuzzer,address,undefined into
# build/fuzz/, then runs each (all of them, or the TARGETs named) for its
# share of SECONDS over its seed corpus tools/fuzz/corpus/TARGET/. New
# inputs go to build/fuzz/corpus/TARGET/ (the committed seeds are only
# read); a crash leaves its input in build/fuzz/artifacts/TARGET/ and its
# log in build/fuzz/TARGET.log. Exit status 0 iff no target crashed.
#
# Targets: hdr hello hello_reply challenge rec_len range stream mc tree (one
# file fuzz_TARGET.c each; mc is the multicast datagram of mcast_proto.h). tools/fuzz/gen-corpus.sh rewrites the seeds.
#
# Reproduce a crash:  build/fuzz/fuzz_TARGET build/fuzz/artifacts/TARGET/crash-...
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$top/build/fuzz

usage() { sed -n '/^#   tools/,/^# Reproduce/{s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }
[ $# -ge 1 ] || usage
secs=$1
shift
case $secs in '' | *[!0-9]*) usage ;; esac

all=(hdr hello hello_reply challenge rec_len range stream mc tree)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

# Largest useful input of each target (protocol version 2: a 128-byte
# HELLO, a 56-byte HELLO_REPLY; a stream long enough for a sealed WRITE of
# two full DSTOR_SEAL_CHUNK payload records).
max_len() {
	case $1 in
	hdr) echo 32 ;;
	hello_reply) echo 56 ;;
	hello) echo 128 ;;
	challenge) echo 69 ;;
	rec_len) echo 16 ;;
	range) echo 20 ;;
	stream) echo 36864 ;;
	mc) echo 1100 ;;
	tree) echo 76 ;;
	esac
}

CC=${CC:-clang}
CFLAGS=(-std=c11 -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-iquote "$top/kernel" -I "$top/include/uapi")

mkdir -p "$out"
for t in "${targets[@]}"; do
	[ -f "$here/fuzz_$t.c" ] || { echo "run.sh: no target '$t'" >&2; exit 2; }
	"$CC" "${CFLAGS[@]}" -o "$out/fuzz_$t" "$here/fuzz_$t.c"
done
echo "fuzz: built ${#targets[@]} targets into $out"

# Each target gets an equal share, at least 1 s.
per=$((secs / ${#targets[@]}))
[ "$per" -ge 1 ] || per=1

failed=()
for t in "${targets[@]}"; do
	mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
	log=$out/$t.log
	seeds=$here/corpus/$t
	[ -d "$seeds" ] || seeds=
	# UBSan reports abort (-fno-sanitize-recover); leaks count too.
	if UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$out/fuzz_$t" -max_total_time="$per" -max_len="$(max_len "$t")" \
			-use_value_profile=1 -dict="$here/proto.dict" \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix="$out/artifacts/$t/" \
			"$out/corpus/$t" ${seeds:+"$seeds"} >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
		echo "fuzz: $t: ok (${per}s, ${runs:-?} runs, ${cov:-cov: ?})"
	else
		echo "fuzz: $t: FAILED; log $log:"
		grep -E 'check failed|ERROR|SUMMARY|runtime error|Test unit written' "$log" |
			head -n 20 | sed 's/^/    /'
		failed+=("$t")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: ${#failed[@]} target(s) crashed: ${failed[*]}"
	exit 1
fi
echo "fuzz: all ${#targets[@]} targets passed"
