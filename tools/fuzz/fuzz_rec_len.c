// SPDX-License-Identifier: GPL-2.0
/*
 * dstor_rec_len_ok: input bytes 0..3 are a record's big-endian length. The
 * check accepts exactly DSTOR_REC_MIN..DSTOR_REC_MAX, and an accepted length
 * holds one header, at most DSTOR_MAX_IO of payload and a tag, so a record
 * buffer sized for DSTOR_REC_MAX always fits it. Also the record nonce:
 * 4 zero bytes, then the counter.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 *lenbuf = calloc(1, DSTOR_REC_LEN_BYTES), iv[12];
	u64 ctr = 0;
	u32 n;
	int ok;

	if (!lenbuf)
		return 0;
	memcpy(lenbuf, data, size < DSTOR_REC_LEN_BYTES ? size : DSTOR_REC_LEN_BYTES);
	n = dstor_get32(lenbuf);
	CHECK(n == ref_be(lenbuf, 4), "get32");
	ok = dstor_rec_len_ok(n);
	CHECK(ok == (n >= 32 + 16 && n <= 32 + 512 * 1024 + 16),
	      "length %u: says %d", n, ok);
	if (ok) {
		u32 payload = n - DSTOR_HDR_LEN - DSTOR_TAG_LEN;

		CHECK(n >= DSTOR_HDR_LEN + DSTOR_TAG_LEN, "no room for a header");
		CHECK(payload <= DSTOR_MAX_IO, "payload %u", payload);
		CHECK((u64)DSTOR_REC_LEN_BYTES + n <=
		      (u64)DSTOR_REC_LEN_BYTES + DSTOR_REC_MAX, "buffer");
	}

	for (size_t i = 0; i < 8 && DSTOR_REC_LEN_BYTES + i < size; i++)
		ctr = ctr << 8 | data[DSTOR_REC_LEN_BYTES + i];
	dstor_nonce(iv, ctr);
	CHECK(!iv[0] && !iv[1] && !iv[2] && !iv[3] && ref_be64(iv + 4) == ctr,
	      "nonce of %llu", (unsigned long long)ctr);
	free(lenbuf);
	return 0;
}
