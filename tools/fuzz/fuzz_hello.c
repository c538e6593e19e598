// SPDX-License-Identifier: GPL-2.0
/*
 * dstor_hello_decode: accepts exactly the valid HELLO payloads; an accepted
 * one has a NUL-terminated, NUL-padded name, sane queue numbers and ciphers
 * only with AUTH, and re-encodes to the same 120 bytes.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 *buf = calloc(1, DSTOR_HELLO_LEN), out[DSTOR_HELLO_LEN];
	struct dstor_hello m, m2;
	int ret, ref;

	if (!buf)
		return 0;
	memcpy(buf, data, size < DSTOR_HELLO_LEN ? size : DSTOR_HELLO_LEN);
	memset(&m, 0xa5, sizeof(m));
	ret = dstor_hello_decode(buf, &m);
	ref = ref_hello_ok(buf);
	CHECK(ret == 0 || ref_known_err(ret), "unknown error code %d", ret);
	CHECK((ret == 0) == ref, "decoder says %d, the rules say %s", ret,
	      ref ? "valid" : "invalid");

	if (!ret) {
		size_t n = dstor_strnlen(m.name, DSTOR_WIRE_NAME_LEN);

		CHECK(n >= 1 && n < DSTOR_WIRE_NAME_LEN, "name length %zu", n);
		CHECK(m.version_min >= 1 && m.version_min <= m.version_max,
		      "versions %u..%u", m.version_min, m.version_max);
		CHECK(m.nr_queues >= 1 && m.nr_queues <= DSTOR_MAX_QUEUES &&
		      m.queue < m.nr_queues, "queue %u of %u", m.queue,
		      m.nr_queues);
		CHECK(!(m.flags & ~DSTOR_HELLO_ALL), "flags %#x", m.flags);
		CHECK(!(m.ciphers & ~DSTOR_WIRE_CIPHERS), "ciphers %#x",
		      m.ciphers);
		CHECK(!(m.flags & DSTOR_HELLO_AUTH) == !m.ciphers,
		      "ciphers %#x with flags %#x", m.ciphers, m.flags);
		CHECK(m.session == ref_be64(buf + 8), "session");
		CHECK(!memcmp(m.nonce, buf + 88, DSTOR_NONCE_LEN), "nonce");
		dstor_hello_encode(out, &m);
		CHECK(!memcmp(out, buf, DSTOR_HELLO_LEN), "re-encode differs");
		CHECK(!dstor_hello_decode(out, &m2) &&
		      !memcmp(m2.name, m.name, sizeof(m.name)),
		      "re-decode differs");
	}
	free(buf);
	return 0;
}
