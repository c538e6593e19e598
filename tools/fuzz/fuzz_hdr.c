// SPDX-License-Identifier: GPL-2.0
/*
 * dstor_hdr_decode: accepts exactly what the header rules of protocol
 * version 2 allow; what it accepts has its fields within their limits and
 * re-encodes to the same 32 bytes. In particular a HELLO carries 128 bytes
 * or version 1's 120 (read so that it can be answered VERSION) and nothing
 * else, a HELLO_REPLY 56 with OK and nothing with a refusal, and the hello
 * statuses (LIMIT_EXPORT and LIMIT_HOST among them) appear in HELLO_REPLY
 * only. Input: the first 32 bytes (shorter inputs are zero-padded).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 *buf = calloc(1, DSTOR_HDR_LEN), out[DSTOR_HDR_LEN];
	struct dstor_hdr h, h2;
	int ret, ref;

	if (!buf)
		return 0;
	memcpy(buf, data, size < DSTOR_HDR_LEN ? size : DSTOR_HDR_LEN);
	ret = dstor_hdr_decode(buf, &h);
	ref = ref_hdr_ok(buf);
	CHECK(ret == 0 || ref_known_err(ret), "unknown error code %d", ret);
	CHECK((ret == 0) == ref, "decoder says %d, the rules say %s (op %u flags %#x status %u length %u payload %u)",
	      ret, ref ? "valid" : "invalid", buf[4], buf[5],
	      ref_be(buf + 6, 2), ref_be(buf + 24, 4), ref_be(buf + 28, 4));
	/* Deterministic. */
	CHECK(dstor_hdr_decode(buf, &h2) == ret, "second decode differs");

	if (!ret) {
		CHECK(h.op == buf[4] && h.flags == buf[5] &&
		      h.status == ref_be(buf + 6, 2) &&
		      h.handle == ref_be64(buf + 8) &&
		      h.offset == ref_be64(buf + 16) &&
		      h.length == ref_be(buf + 24, 4) &&
		      h.payload == ref_be(buf + 28, 4), "decoded fields differ");
		CHECK(h.op >= 1 && h.op < __DSTOR_OP_MAX, "op %u", h.op);
		CHECK(h.status < __DSTOR_ST_MAX, "status %u", h.status);
		CHECK(!(h.flags & ~DSTOR_RQ_ALL), "flags %#x", h.flags);
		CHECK(h.payload <= DSTOR_MAX_IO, "payload %u", h.payload);
		if (dstor_is_request(h.op)) {
			CHECK(h.offset % DSTOR_SECTOR == 0 &&
			      h.length % DSTOR_SECTOR == 0,
			      "unaligned request %llu+%u",
			      (unsigned long long)h.offset, h.length);
			CHECK(h.length <= DSTOR_MAX_RANGE, "length %u", h.length);
			CHECK(h.payload == (h.op == DSTOR_OP_WRITE ? h.length : 0),
			      "op %u length %u payload %u", h.op, h.length,
			      h.payload);
		}
		if (h.op == DSTOR_OP_READ || h.op == DSTOR_OP_WRITE)
			CHECK(h.length && h.length <= DSTOR_MAX_IO, "length %u",
			      h.length);
		/* Either HELLO length, and no other. */
		if (h.op == DSTOR_OP_HELLO)
			CHECK(h.payload == DSTOR_HELLO_LEN ||
			      h.payload == DSTOR_HELLO_V1_LEN,
			      "hello payload %u", h.payload);
		/* A reply the importer can read whole, or a bare refusal. */
		if (h.op == DSTOR_OP_HELLO_REPLY)
			CHECK(h.payload == (h.status ? 0 : DSTOR_HELLO_REPLY_LEN),
			      "hello reply payload %u status %u", h.payload,
			      h.status);
		/* Hello statuses, the new limits too, in HELLO_REPLY only. */
		if (h.status >= DSTOR_ST_NOEXPORT && h.status != DSTOR_ST_STALE)
			CHECK(h.op == DSTOR_OP_HELLO_REPLY && !h.payload,
			      "hello status %u in op %u payload %u", h.status,
			      h.op, h.payload);
		if (h.op == DSTOR_OP_REPLY)
			CHECK(h.status < DSTOR_ST_NOEXPORT ||
			      h.status == DSTOR_ST_STALE, "reply status %u",
			      h.status);
		if (h.status == DSTOR_ST_STALE)
			CHECK(h.op == DSTOR_OP_REPLY, "STALE in op %u", h.op);
		if (h.op == DSTOR_OP_TREE_FP)
			CHECK(h.length && h.length <= DSTOR_TREE_FP_MAX &&
			      h.payload == DSTOR_TREE_GEN_LEN,
			      "TREE_FP length %u payload %u", h.length,
			      h.payload);
		if (h.op != DSTOR_OP_REPLY && h.op != DSTOR_OP_HELLO_REPLY)
			CHECK(!h.status, "op %u status %u", h.op, h.status);
		dstor_hdr_encode(out, &h);
		CHECK(!memcmp(out, buf, DSTOR_HDR_LEN), "re-encode differs");
	}
	free(buf);
	return 0;
}
