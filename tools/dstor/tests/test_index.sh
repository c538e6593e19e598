#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `dstor index` against Debian's real casync: test_index.sh DSTOR.
# casync must extract what dstor indexed byte for byte (with and without a
# seed), re-indexing writes only the changed blocks, a corrupted chunk makes
# casync fail, and bad input fails with one line and nothing written.
# Needs no module: the image is a file. Exits 0 when every case passed.
set -u
dstor=$(realpath "$1")
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/w" && cd "$tmp/w" || exit 1

ok() { echo "ok: $*"; }
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
command -v casync >/dev/null || { echo "FAIL: casync is not installed (make deps)"; exit 1; }

# summary FIELD LINE: chunks, new or bytes of dstor index's summary line.
summary() {
	sed -n 's/^.*: \([0-9]*\) chunks, \([0-9]*\) new chunks written, \([0-9]*\) bytes written .*$/\1 \2 \3/p' <<<"$2" |
		awk -v f="$1" '{ print (f == "chunks" ? $1 : f == "new" ? $2 : $3) }'
}
chunks_in() { find "$1" -type f -name '*.cacnk' | wc -l; }

# 4 MiB of random data: 64 blocks of the default 64 KiB.
head -c $((4 << 20)) /dev/urandom >v1.img

out=$("$dstor" index v1.img --caibx v1.caibx --store st 2>&1)
rc=$?
echo "$out"
if [ $rc -eq 0 ] && [ "$(summary chunks "$out")" = 64 ] && [ "$(summary new "$out")" = 64 ]; then
	ok "v1 indexed: 64 chunks, 64 new"
else
	fail "v1 index (rc $rc): $out"
fi
if [ "$(chunks_in st)" = 64 ]; then ok "64 chunk files in st/xxxx/<id>.cacnk"; else fail "$(chunks_in st) chunk files"; fi
# casync's layout: 4 hex digits, then the 64-digit id with .cacnk.
bad=$(find st -type f | grep -Evc '^st/([0-9a-f]{4})/\1[0-9a-f]{60}\.cacnk$')
if [ "$bad" = 0 ]; then ok "store layout"; else fail "$bad files outside casync's layout"; fi

if casync extract --store=st v1.caibx v1.out && cmp v1.img v1.out; then
	ok "casync extract v1: identical"
else
	fail "casync extract v1"
fi

# Chunk ids are casync's own: casync make with the same fixed chunk size
# names the same chunks (its index differs only in feature flags that do
# not apply to blobs).
if casync make --store=ref --chunk-size=65536:65536:65536 ref.caibx v1.img >/dev/null &&
	diff <(cd st && find . -type f | sort) <(cd ref && find . -type f | sort) >/dev/null &&
	[ "$(cmp -l ref.caibx v1.caibx | wc -l)" -le 8 ] &&
	cmp -s <(tail -c +25 ref.caibx) <(tail -c +25 v1.caibx); then
	ok "same chunk ids and index as casync make"
else
	fail "casync make names other chunks or writes another index"
fi

# v2: one block in a hundred changed (1 of 64 here, plus a short last
# block: the image grows by 1000 bytes).
cp v1.img v2.img
head -c 4096 /dev/urandom | dd of=v2.img bs=4096 seek=$((20 * 16)) conv=notrunc status=none
head -c 1000 /dev/urandom >>v2.img
find st -type f | sort >before
out=$("$dstor" index v2.img --caibx v2.caibx --store st 2>&1)
rc=$?
echo "$out"
new=$(summary new "$out")
if [ $rc -eq 0 ] && [ "$(summary chunks "$out")" = 65 ] && [ "$new" -ge 1 ] && [ "$new" -le 3 ]; then
	ok "v2 re-indexed: $new new chunks of 65"
else
	fail "v2 index (rc $rc): $out"
fi
find st -type f | sort >after
if [ "$(comm -13 before after | wc -l)" = "$new" ]; then
	ok "only the new chunk files appeared"
else
	fail "$(comm -13 before after | wc -l) files appeared, $new reported"
fi
if [ "$(comm -23 before after | wc -l)" = 0 ]; then ok "no chunk file removed"; else fail "chunk files removed"; fi
if casync extract --store=st v2.caibx v2.out && cmp v2.img v2.out; then
	ok "casync extract v2: identical"
else
	fail "casync extract v2"
fi
# With v1 as seed, a store holding only v2's new chunks is enough: casync
# cuts the seed at the index's fixed chunk size and finds the rest there.
mkdir only-new
comm -13 before after | while read -r f; do
	mkdir -p "only-new/$(basename "$(dirname "$f")")"
	cp "$f" "only-new/$(basename "$(dirname "$f")")/"
done
if casync extract --store=only-new --seed=v1.img v2.caibx v2.seeded && cmp v2.img v2.seeded; then
	ok "casync extract v2 --seed v1 from the new chunks alone: identical"
else
	fail "casync extract --seed"
fi

# 1% of the blocks: with 4 KiB blocks the image has 1024; change 10 of
# them (1%), and the re-index writes those 10 and nothing else.
cp v1.img v3.img
for i in 0 1 2 3 4 5 6 7 8 9; do
	head -c 4096 /dev/urandom | dd of=v3.img bs=4096 seek=$((i * 100 + 7)) conv=notrunc status=none
done
"$dstor" index v1.img --caibx v1-4k.caibx --store st4k --block-size 4K >/dev/null
out=$("$dstor" index v3.img --caibx v3-4k.caibx --store st4k --block-size 4K 2>&1)
echo "$out"
new=$(summary new "$out") bytes=$(summary bytes "$out")
# zstd cannot shrink random data: each new chunk file is 4096 bytes and a
# frame header, so 1% of the image's bytes plus a little.
if [ "$(summary chunks "$out")" = 1024 ] && [ "$new" -ge 10 ] && [ "$new" -le 11 ] &&
	[ "$bytes" -ge $((10 * 4096)) ] && [ "$bytes" -le $((11 * 4200)) ]; then
	ok "1% of the blocks changed: $new of 1024 chunks written, $bytes bytes"
else
	fail "1% re-index: $out"
fi
if casync extract --store=st4k --seed=v1.img v3-4k.caibx v3.out && cmp v3.img v3.out; then
	ok "casync extract v3 (4K chunks, seed v1): identical"
else
	fail "casync extract v3"
fi

# Re-indexing the same image writes nothing.
out=$("$dstor" index v2.img --caibx v2.caibx --store st --force 2>&1)
if [ "$(summary new "$out")" = 0 ] && [ "$(summary bytes "$out")" = 0 ]; then
	ok "same image again: 0 new"
else
	fail "same image again: $out"
fi

# xz and uncompressed chunk files, 4 KiB blocks.
for c in xz none; do
	if "$dstor" index v1.img --caibx "$c.caibx" --store "st-$c" --compression "$c" \
		--block-size 4K >/dev/null && casync extract --store="st-$c" "$c.caibx" "$c.out" &&
		cmp v1.img "$c.out"; then
		ok "--compression $c --block-size 4K: casync extracts it"
	else
		fail "--compression $c"
	fi
done

# A corrupted chunk file: casync refuses to extract. The chunk stays a
# valid zstd frame; one byte of its content is inverted.
cp -r st st-bad
# (one of v1's chunks: the store also holds v2's)
victim=st-bad/$(head -n 1 before | cut -d/ -f2-)
chmod u+w "$victim"
zstd -q -d -c "$victim" >plain
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[100] ^= 0xff; open(sys.argv[1], "wb").write(b)' plain
zstd -q -f plain -o "$victim"
if zstd -q -d -c "$victim" | cmp -s - <(zstd -q -d -c "st/${victim#st-bad/}"); then
	fail "the chunk could not be corrupted"
fi
if casync extract --store=st-bad v1.caibx bad.out; then
	fail "casync extracted from a store with a corrupted chunk"
else
	ok "corrupted chunk: casync extract fails"
fi

# Bad input: one line "dstor: ...", exit status not 0, nothing written.
# expect_error NAME ARGS...: dstor index ARGS fails so, and no file or
# directory appears anywhere below the test's directory.
expect_error() {
	local name=$1 err rc appeared
	shift
	find . | sort >"$tmp/pre"
	err=$("$dstor" index "$@" 2>&1 >/dev/null)
	rc=$?
	find . | sort >"$tmp/post"
	appeared=$(comm -13 "$tmp/pre" "$tmp/post" | xargs)
	if [ $rc -ne 0 ] && [ "$(wc -l <<<"$err")" = 1 ] && [[ $err == "dstor: "* ]] &&
		[ -z "$appeared" ]; then
		ok "$name: $err"
	else
		fail "$name (rc $rc): '$err', new files: $appeared"
	fi
}
expect_error "missing device" ./no-such.img --caibx e1.caibx --store st-e1
expect_error "missing device by absolute path" /dev/no-such-device --caibx e1.caibx --store st-e1
echo "not a directory" >st-file
expect_error "store is a file" v1.img --caibx e2.caibx --store st-file
expect_error "store under a file" v1.img --caibx e2.caibx --store st-file/x
expect_error "store where nothing can be created" v1.img --caibx e2.caibx --store /proc/dstor-st
expect_error "unknown export" no-such-export --caibx e3.caibx --store st-e3
cp v1.caibx exists.caibx
expect_error "existing index without --force" v2.img --caibx exists.caibx --store st-e4
if cmp -s v1.caibx exists.caibx; then ok "the existing index is unchanged"; else fail "the existing index changed"; fi
expect_error "index directory missing" v1.img --caibx no-dir/x.caibx --store st-e5
expect_error "bad compression" v1.img --caibx e6.caibx --store st --compression gzip
expect_error "bad block size" v1.img --caibx e6.caibx --store st --block-size 1000
left=$(find . -name '*.tmp' -o -name '.*.caibx.*')
if [ -z "$left" ]; then ok "no temporary file left"; else fail "temporary files left: $(xargs <<<"$left")"; fi
# SIGINT between chunks: exit 130, no index, no temporary file, only
# complete chunk files (each one's name is its content's id).
head -c $((128 << 20)) /dev/urandom >big.img
"$dstor" index big.img --caibx big.caibx --store st-big --block-size 4K >/dev/null 2>big.err &
pid=$!
# Signalled once it writes chunks (its signals are caught by then).
for _ in $(seq 100); do
	[ -z "$(find st-big -name '*.cacnk' 2>/dev/null | head -n 1)" ] || break
	sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
left=$(find . -name '*.tmp' -o -name '.big.caibx.*')
if [ $rc = 130 ] && [ ! -e big.caibx ] && [ -z "$left" ] && grep -q '^dstor: index: Interrupt: ' big.err; then
	ok "SIGINT: exit 130, no index, no temporary file ($(find st-big -type f | wc -l) chunks kept)"
else
	fail "SIGINT: rc $rc, $(cat big.err), left: $left"
fi
victim=$(find st-big -type f -name '*.cacnk' | head -n 1)
if [ -n "$victim" ] && [ "$(zstd -q -d -c "$victim" | openssl dgst -sha512-256 -r | cut -c1-64)" = "$(basename "$victim" .cacnk)" ]; then
	ok "a chunk kept after SIGINT is complete"
else
	fail "chunk after SIGINT: $victim"
fi
rm -rf big.img st-big

# --force replaces an index.
if "$dstor" index v2.img --caibx exists.caibx --store st --force >/dev/null &&
	cmp -s v2.caibx exists.caibx; then
	ok "--force replaces the index"
else
	fail "--force"
fi

if [ $fails -eq 0 ]; then echo "all passed"; else echo "$fails failed"; fi
exit $((fails > 0))
