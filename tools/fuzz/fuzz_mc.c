// SPDX-License-Identifier: GPL-2.0
/*
 * dstor_mc_hdr_decode and dstor_mc_announce_decode (kernel/mcast_proto.h),
 * the multicast receiver's first look at any datagram from the link: they
 * accept exactly what the packet rules allow, what they accept is within
 * its limits and re-encodes to the same bytes. Input: one datagram.
 */
#include "fuzz.h"
#include "mcast_proto.h"

#include <linux/dstor.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The header rules of Documentation/multicast.md, field by field. */
static int ref_mc_ok(const u8 *b, size_t n)
{
	u8 type, flags, cipher;
	u64 index;
	u32 offset, len;
	int sealed;

	if (n < 32 || b[0] != 'D' || b[1] != 'S' || b[2] != 'T' || b[3] != 'M')
		return 0;
	type = b[5];
	flags = b[6];
	cipher = b[7];
	index = ref_be64(b + 16);
	offset = ref_be(b + 24, 4);
	len = ref_be(b + 28, 2);
	sealed = flags & 1;
	if (b[4] != 3 || type < 1 || type > 3 || (flags & ~1) ||
	    ref_be(b + 30, 2))
		return 0;
	if (sealed ? cipher != DSTOR_WIRE_AES_GCM &&
		     cipher != DSTOR_WIRE_CHACHA20_POLY1305 : cipher)
		return 0;
	/* The tag: 16 bytes, sealed packets only. */
	if (!len || len > 1024 || n != 32 + len + (sealed ? 16 : 0))
		return 0;
	switch (type) {
	case 1:		/* ANNOUNCE */
		return len == 64 && !index && !offset;
	case 2:		/* TREE: whole leaf hashes from a packet boundary */
		return len % 32 == 0 && !offset && index % 32 == 0;
	default:	/* DATA */
		return offset % 1024 == 0;
	}
}

static int ref_announce_ok(const u8 *p)
{
	u64 size = ref_be64(p), blocks = ref_be64(p + 16);
	u32 bs = ref_be(p + 8, 4), chunk = ref_be(p + 12, 4);

	for (int i = 56; i < 64; i++)
		if (p[i])
			return 0;
	return chunk == 1024 && ref_pow2(bs) && bs >= DSTOR_MC_MIN_BLOCK &&
	       bs <= DSTOR_MC_MAX_BLOCK && size && blocks &&
	       blocks <= DSTOR_MC_MAX_BLOCKS &&
	       blocks == size / bs + (size % bs != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 *buf = malloc(size ? size : 1), out[DSTOR_MC_ANNOUNCE_LEN];
	struct dstor_mc_announce a;
	struct dstor_mc_hdr h, h2;
	int ret, ref;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ret = dstor_mc_hdr_decode(buf, size, &h);
	ref = ref_mc_ok(buf, size);
	CHECK(ret == 0 || (ret < 0 && ret >= -DSTOR_EMC_GEOMETRY),
	      "unknown error code %d", ret);
	CHECK((ret == 0) == ref, "decoder says %d, the rules say %s (%zu bytes)",
	      ret, ref ? "valid" : "invalid", size);
	CHECK(dstor_mc_hdr_decode(buf, size, &h2) == ret,
	      "second decode differs");
	if (ret)
		goto out;

	CHECK(h.type == buf[5] && h.flags == buf[6] && h.cipher == buf[7] &&
	      h.epoch == ref_be64(buf + 8) && h.index == ref_be64(buf + 16) &&
	      h.offset == ref_be(buf + 24, 4) && h.len == ref_be(buf + 28, 2),
	      "decoded fields differ");
	CHECK(h.len >= 1 && h.len <= DSTOR_MC_CHUNK, "len %u", h.len);
	CHECK(DSTOR_MC_HDR_LEN + h.len + dstor_mc_tag_len(h.flags) <=
	      DSTOR_MC_PKT_MAX, "packet of %zu bytes", size);
	dstor_mc_hdr_encode(out, &h);
	CHECK(!memcmp(out, buf, DSTOR_MC_HDR_LEN), "re-encode differs");

	if (h.type == DSTOR_MC_ANNOUNCE) {
		const u8 *p = buf + DSTOR_MC_HDR_LEN;

		ret = dstor_mc_announce_decode(p, &a, DSTOR_MC_MIN_BLOCK,
					       DSTOR_MC_MAX_BLOCK,
					       DSTOR_MC_MAX_BLOCKS);
		CHECK(ret == 0 || ret == -DSTOR_EMC_RESERVED ||
		      ret == -DSTOR_EMC_GEOMETRY, "announce error %d", ret);
		CHECK((ret == 0) == ref_announce_ok(p),
		      "announce decoder says %d, the rules disagree", ret);
		if (!ret) {
			CHECK(dstor_mc_block_len(a.size, a.block_size,
						 a.blocks - 1) >= 1,
			      "empty last block");
			dstor_mc_announce_encode(out, &a);
			CHECK(!memcmp(out, p, DSTOR_MC_ANNOUNCE_LEN),
			      "announce re-encode differs");
		}
	}
out:
	free(buf);
	return 0;
}
