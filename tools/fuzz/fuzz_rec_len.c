// SPDX-License-Identifier: GPL-2.0
/*
 * Sealed record lengths (protocol version 2: a frame is one header record,
 * n = 48, then payload records of at most DSTOR_SEAL_CHUNK plaintext bytes
 * plus the tag). Input: bytes 0..3 a record's big-endian length n, 4..11 a
 * record counter, 12..15 the payload bytes of a frame not yet received.
 *
 *   dstor_rec_len_ok(n) accepts exactly 1..16384 plaintext bytes + 16 tag
 *   (DSTOR_REC_MIN..DSTOR_REC_MAX), so a record buffer sized for
 *   DSTOR_REC_MAX always fits an accepted one, and a header record passes.
 *   dstor_rec_next_len(left) is the header record's 48 when nothing is
 *   left, else min(left, 16384) + 16: never above DSTOR_REC_MAX, never
 *   more plaintext than is left, always a length dstor_rec_len_ok takes.
 *   Walking a whole payload (left <= DSTOR_MAX_IO) with it gives full
 *   chunks then one shorter, ceil(left / 16384) records carrying exactly
 *   the payload, then a header record again.
 *   dstor_nonce: 4 zero bytes, then the counter.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_next(u32 left)
{
	u32 n = dstor_rec_next_len(left);

	CHECK(n == ref_rec_next_len(left), "left %u: next %u, the rules say %u",
	      left, n, ref_rec_next_len(left));
	CHECK(n <= DSTOR_REC_MAX, "left %u: next %u above the maximum", left, n);
	CHECK(dstor_rec_len_ok(n), "left %u: next %u refused", left, n);
	if (!left) {
		CHECK(n == DSTOR_REC_HDR && n == DSTOR_HDR_LEN + DSTOR_TAG_LEN,
		      "header record %u", n);
	} else {
		CHECK(n > DSTOR_TAG_LEN && n - DSTOR_TAG_LEN <= left &&
		      n - DSTOR_TAG_LEN <= DSTOR_SEAL_CHUNK,
		      "left %u: chunk of %u", left, n - DSTOR_TAG_LEN);
		/* Only the last chunk is short. */
		if (left >= DSTOR_SEAL_CHUNK)
			CHECK(n == DSTOR_REC_MAX, "left %u: short chunk %u",
			      left, n);
		else
			CHECK(n - DSTOR_TAG_LEN == left, "left %u: last chunk %u",
			      left, n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 *lenbuf = calloc(1, DSTOR_REC_LEN_BYTES), iv[12], tail[4] = {0};
	u64 ctr = 0;
	u32 n, left;
	int ok;

	if (!lenbuf)
		return 0;
	memcpy(lenbuf, data, size < DSTOR_REC_LEN_BYTES ? size : DSTOR_REC_LEN_BYTES);
	n = dstor_get32(lenbuf);
	CHECK(n == ref_be(lenbuf, 4), "get32");
	ok = dstor_rec_len_ok(n);
	CHECK(ok == ref_rec_len_ok(n), "length %u: says %d", n, ok);
	if (ok) {
		CHECK(n > DSTOR_TAG_LEN, "no plaintext in %u", n);
		CHECK(n - DSTOR_TAG_LEN <= DSTOR_SEAL_CHUNK, "plaintext %u",
		      n - DSTOR_TAG_LEN);
		CHECK((u64)DSTOR_REC_LEN_BYTES + n <=
		      (u64)DSTOR_REC_LEN_BYTES + DSTOR_REC_MAX, "buffer");
	}
	CHECK(dstor_rec_len_ok(DSTOR_REC_HDR), "header record refused");

	for (size_t i = 0; i < 8 && DSTOR_REC_LEN_BYTES + i < size; i++)
		ctr = ctr << 8 | data[DSTOR_REC_LEN_BYTES + i];
	dstor_nonce(iv, ctr);
	CHECK(!iv[0] && !iv[1] && !iv[2] && !iv[3] && ref_be64(iv + 4) == ctr,
	      "nonce of %llu", (unsigned long long)ctr);

	/* The next record's length, for any payload left (any u32). */
	if (size > 12)
		memcpy(tail, data + 12, size - 12 < 4 ? size - 12 : 4);
	left = ref_be(tail, 4);
	check_next(left);
	check_next(0);
	/* A whole frame's payload, record by record. */
	if (left <= DSTOR_MAX_IO) {
		u32 want = (left + 16383) / 16384, records = 0, got = 0;
		u32 l = left;

		while (l) {
			u32 r = dstor_rec_next_len(l);

			CHECK(r >= DSTOR_REC_MIN && r - DSTOR_TAG_LEN <= l,
			      "payload %u: record %u with %u left", left, r, l);
			got += r - DSTOR_TAG_LEN;
			l -= r - DSTOR_TAG_LEN;
			CHECK(++records <= want, "payload %u: record %u of %u",
			      left, records, want);
		}
		CHECK(records == want && got == left,
		      "payload %u: %u records carry %u", left, records, got);
		CHECK(dstor_rec_next_len(l) == DSTOR_REC_HDR,
		      "payload %u: no header record after it", left);
	}
	free(lenbuf);
	return 0;
}
