// SPDX-License-Identifier: GPL-2.0
/*
 * dstor_hello_reply_decode: accepts exactly the valid version 2 HELLO_REPLY
 * payloads (56 bytes, version 2); an accepted one describes a device the
 * importer can use (block sizes powers of two, size and limits multiples of
 * the logical block size), carries the uuid and incarnation as sent, and
 * re-encodes to the same 56 bytes.
 *
 * Round trip from the other side too: any uuid and incarnation (taken from
 * the input) put into a valid reply encode at bytes 32 and 48 and decode
 * back unchanged, whatever their value.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 *buf = calloc(1, DSTOR_HELLO_REPLY_LEN), out[DSTOR_HELLO_REPLY_LEN];
	struct dstor_hello_reply m, r, r2;
	int ret, ref;

	if (!buf)
		return 0;
	memcpy(buf, data,
	       size < DSTOR_HELLO_REPLY_LEN ? size : DSTOR_HELLO_REPLY_LEN);
	memset(&m, 0xa5, sizeof(m));
	ret = dstor_hello_reply_decode(buf, &m);
	ref = ref_hello_reply_ok(buf);
	CHECK(ret == 0 || ref_known_err(ret), "unknown error code %d", ret);
	CHECK((ret == 0) == ref, "decoder says %d, the rules say %s (version %u)",
	      ret, ref ? "valid" : "invalid", ref_be(buf, 2));

	if (!ret) {
		CHECK(m.version >= DSTOR_PROTO_VERSION_MIN &&
		      m.version <= DSTOR_PROTO_VERSION, "version %u", m.version);
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
		/* The export's identity, as sent. */
		CHECK(!memcmp(m.uuid, buf + 32, 16), "uuid differs");
		CHECK(m.incarnation == ref_be64(buf + 48), "incarnation %llu",
		      (unsigned long long)m.incarnation);
		dstor_hello_reply_encode(out, &m);
		CHECK(!memcmp(out, buf, DSTOR_HELLO_REPLY_LEN),
		      "re-encode differs");
	}

	/* Any uuid and incarnation survive encode and decode. */
	r = (struct dstor_hello_reply){
		.version = DSTOR_PROTO_VERSION, .size = 1ULL << 30,
		.logical_block_size = 512, .physical_block_size = 4096,
		.max_io = DSTOR_MAX_IO, .max_range = DSTOR_MAX_RANGE,
		.flags = DSTOR_EXP_DISCARD,
	};
	memcpy(r.uuid, buf + 32, 16);
	r.incarnation = ref_be64(buf + 48);
	dstor_hello_reply_encode(out, &r);
	CHECK(!memcmp(out + 32, r.uuid, 16) &&
	      ref_be64(out + 48) == r.incarnation, "uuid/incarnation encoding");
	CHECK(ref_hello_reply_ok(out), "a valid reply encodes invalid");
	memset(&r2, 0x5a, sizeof(r2));
	CHECK(!dstor_hello_reply_decode(out, &r2), "a valid reply refused");
	CHECK(!memcmp(r2.uuid, r.uuid, 16) && r2.incarnation == r.incarnation,
	      "uuid/incarnation round trip");
	free(buf);
	return 0;
}
