// SPDX-License-Identifier: GPL-2.0
/*
 * dstor_hello_reply_decode: accepts exactly the valid HELLO_REPLY payloads;
 * an accepted one describes a device the importer can use (block sizes
 * powers of two, size and limits multiples of the logical block size) and
 * re-encodes to the same 32 bytes.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 *buf = calloc(1, DSTOR_HELLO_REPLY_LEN), out[DSTOR_HELLO_REPLY_LEN];
	struct dstor_hello_reply m;
	int ret, ref;

	if (!buf)
		return 0;
	memcpy(buf, data,
	       size < DSTOR_HELLO_REPLY_LEN ? size : DSTOR_HELLO_REPLY_LEN);
	ret = dstor_hello_reply_decode(buf, &m);
	ref = ref_hello_reply_ok(buf);
	CHECK(ret == 0 || ref_known_err(ret), "unknown error code %d", ret);
	CHECK((ret == 0) == ref, "decoder says %d, the rules say %s", ret,
	      ref ? "valid" : "invalid");

	if (!ret) {
		CHECK(m.version == DSTOR_PROTO_VERSION, "version %u", m.version);
		CHECK(dstor_block_size_ok(m.logical_block_size), "lbs %u",
		      m.logical_block_size);
		CHECK(m.physical_block_size >= m.logical_block_size &&
		      m.physical_block_size % m.logical_block_size == 0,
		      "pbs %u lbs %u", m.physical_block_size,
		      m.logical_block_size);
		CHECK(m.size && m.size % m.logical_block_size == 0, "size");
		CHECK(m.max_io && m.max_io <= DSTOR_MAX_IO &&
		      m.max_io % DSTOR_SECTOR == 0, "max_io %u", m.max_io);
		CHECK(m.max_range <= DSTOR_MAX_RANGE &&
		      m.max_range % DSTOR_SECTOR == 0, "max_range %u",
		      m.max_range);
		CHECK(!(m.flags & ~DSTOR_EXP_ALL), "flags %#x", m.flags);
		dstor_hello_reply_encode(out, &m);
		CHECK(!memcmp(out, buf, DSTOR_HELLO_REPLY_LEN),
		      "re-encode differs");
	}
	free(buf);
	return 0;
}
