// SPDX-License-Identifier: GPL-2.0
/*
 * Versions 4 and 5: tree messages (Documentation/reconciliation.md). Input: a
 * TREE_INFO payload (56 bytes), then a TREE_FP request's offset (8) and
 * count (4) and a leaf count n (8), big endian. dstor_tree_info_decode must
 * accept exactly the payloads the reference does and give back its bytes;
 * dstor_tree_fp_check must accept exactly the requests whose nodes all lie
 * on an existing level of a tree of n leaves, counted here by brute force
 * over the levels.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ref_info_ok(const u8 *b)
{
	u64 sz = ref_be64(b), leaves;
	u32 bs = ref_be(b + 8, 4), built = ref_be(b + 14, 2);
	int i;

	/* Flags: BUILDING (1), PENDING (2, version 5), never both. */
	if (b[12] != 3 || (b[13] & ~3) || b[13] == 3)
		return 0;
	if (b[13] & 1) {
		if (built > 999)
			return 0;
		for (i = 24; i < 56; i++)
			if (b[i])
				return 0;
	} else if (built) {
		return 0;
	}
	if (bs < 4096 || bs > (1U << 20) || (bs & (bs - 1)))
		return 0;
	leaves = sz / bs + (sz % bs ? 1 : 0);
	return sz && leaves <= (1ULL << 40);
}

static int ref_fp_ok(u64 offset, u32 count, u64 n)
{
	u64 nodes = n, first = offset & ((1ULL << 56) - 1);
	u32 level, want = offset >> 56;

	if (!n || n > (1ULL << 40) || !count || count > 511)
		return 0;
	/* Walk up the levels: each halves the nodes, rounding up, to one. */
	for (level = 0; level < want; level++) {
		if (nodes == 1)
			return 0;
		nodes = (nodes + 1) / 2;
	}
	return first < nodes && first + count <= nodes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 in[76] = {0}, out[DSTOR_TREE_INFO_LEN];
	struct dstor_tree_info m;
	u8 *buf;
	u64 offset, n;
	u32 count;
	int ret, ref;

	memcpy(in, data, size < sizeof(in) ? size : sizeof(in));
	buf = malloc(DSTOR_TREE_INFO_LEN);
	memcpy(buf, in, DSTOR_TREE_INFO_LEN);
	ret = dstor_tree_info_decode(buf, &m);
	ref = ref_info_ok(in);
	CHECK((!ret) == ref, "tree info: decoder says %d, reference %d", ret, ref);
	if (!ret) {
		dstor_tree_info_encode(out, &m);
		CHECK(!memcmp(out, in, DSTOR_TREE_INFO_LEN), "re-encoded differs");
	}
	free(buf);

	offset = ref_be64(in + 56);
	count = ref_be(in + 64, 4);
	n = ref_be64(in + 68);
	ret = dstor_tree_fp_check(offset, count, n);
	ref = ref_fp_ok(offset, count, n);
	CHECK((!ret) == ref, "fp offset %llx count %u n %llu: says %d, reference %d",
	      (unsigned long long)offset, count, (unsigned long long)n, ret, ref);
	if (!ret)
		CHECK(dstor_tree_fp_reply_len(count) <= DSTOR_SEAL_CHUNK,
		      "reply over one sealed record");
	return 0;
}
