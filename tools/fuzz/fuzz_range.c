// SPDX-License-Identifier: GPL-2.0
/*
 * dstor_range_ok: input is offset (8 bytes), length (4), size (8), big
 * endian. The check must agree with offset + length <= size computed
 * without overflow. Also the handle helpers: make, then gen and tag, give
 * back what went in.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 b[20] = {0};
	u64 offset, dev, h;
	u32 length;
	int ok, ref;

	memcpy(b, data, size < sizeof(b) ? size : sizeof(b));
	offset = ref_be64(b);
	length = ref_be(b + 8, 4);
	dev = ref_be64(b + 12);

	ok = dstor_range_ok(offset, length, dev);
	/* offset + length <= dev, in 65 bits. */
	ref = offset <= dev && (u64)length <= dev - offset;
	if (offset <= UINT64_MAX - length)
		CHECK(ref == (offset + length <= dev), "reference");
	else
		CHECK(!ref, "reference overflow");
	CHECK(ok == ref, "offset %llu length %u size %llu: says %d",
	      (unsigned long long)offset, length, (unsigned long long)dev, ok);
	if (ok)
		CHECK(offset <= dev && offset + length <= dev && offset + length >= offset,
		      "accepted range leaves the device");

	h = dstor_handle_make((u32)(offset >> 32), (u32)offset);
	CHECK(h == offset && dstor_handle_gen(h) == (u32)(offset >> 32) &&
	      dstor_handle_tag(h) == (u32)offset, "handle");
	return 0;
}
