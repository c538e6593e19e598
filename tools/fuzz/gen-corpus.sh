#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Regenerate the seed corpora in tools/fuzz/corpus/ from gen_corpus.c.
#
#   tools/fuzz/gen-corpus.sh
#
# The seeds are committed; rerun this after a change to kernel/proto.h (the
# generator checks each seed with proto.h's decoders and fails if a valid
# seed stopped decoding) and commit the result.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$top/build/fuzz
mkdir -p "$out"
"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -iquote "$top/kernel" -I "$top/include/uapi" \
	-o "$out/gen_corpus" "$here/gen_corpus.c"
rm -rf "$here/corpus"
"$out/gen_corpus" "$here/corpus"
