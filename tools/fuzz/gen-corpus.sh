#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Regenerate the seed corpora in tools/fuzz/corpus/ from gen_corpus.c.
#
#   tools/fuzz/gen-corpus.sh
#
# The seeds are committed; rerun this after a change to kernel/proto.h (the
# generator checks each seed with proto.h's decoders and fails if a valid
# seed stopped decoding, or a near miss started to) and commit the result.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$top/build/fuzz
mkdir -p "$out"
"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -iquote "$top/kernel" -I "$top/include/uapi" \
	-o "$out/gen_corpus" "$here/gen_corpus.c"
# Replace the generated seeds; keep the inputs the fuzzers found (named by
# their SHA-1), which no layout change makes wrong, only less interesting.
if [ -d "$here/corpus" ]; then
	find "$here/corpus" -type f -regextype posix-extended \
		! -regex '.*/[0-9a-f]{40}' -delete
fi
"$out/gen_corpus" "$here/corpus"
