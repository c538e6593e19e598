// SPDX-License-Identifier: GPL-2.0
/*
 * dstor_hello_decode: accepts exactly the valid version 2 HELLO payloads
 * (128 bytes); an accepted one has a NUL-terminated, NUL-padded name, sane
 * queue numbers, ciphers only with AUTH, timers that are both absent or
 * keepalive < dead_after <= DSTOR_MAX_TIMER, and re-encodes to the same 128
 * bytes. A HELLO whose only fault is its version fields is refused with
 * -DSTOR_EPROTO_VERSION (the exporter answers that with VERSION, not by
 * hanging up), and that code means the version fields are at fault.
 *
 * dstor_hello_versions: on the first 120 bytes alone (a version 1 HELLO, in
 * a buffer of exactly that size so AddressSanitizer sees a read past it)
 * gives back the two version fields.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 *buf = calloc(1, DSTOR_HELLO_LEN), out[DSTOR_HELLO_LEN];
	u8 *v1 = malloc(DSTOR_HELLO_V1_LEN);
	struct dstor_hello m, m2;
	u16 vmin, vmax;
	int ret, ref, rest;

	if (!buf || !v1) {
		free(buf);
		free(v1);
		return 0;
	}
	memcpy(buf, data, size < DSTOR_HELLO_LEN ? size : DSTOR_HELLO_LEN);
	memset(&m, 0xa5, sizeof(m));
	ret = dstor_hello_decode(buf, &m);
	ref = ref_hello_ok(buf);
	rest = ref_hello_rest_ok(buf);
	CHECK(ret == 0 || ref_known_err(ret), "unknown error code %d", ret);
	CHECK((ret == 0) == ref, "decoder says %d, the rules say %s (keepalive %u dead_after %u)",
	      ret, ref ? "valid" : "invalid", ref_be(buf + 120, 2),
	      ref_be(buf + 122, 2));
	/* Malformed versions, all else fine: answered VERSION. */
	if (rest && !ref_hello_versions_ok(buf))
		CHECK(ret == -DSTOR_EPROTO_VERSION,
		      "versions %u..%u: decoder says %d, not VERSION",
		      ref_be(buf, 2), ref_be(buf + 2, 2), ret);
	/* VERSION is never the answer to well-formed version fields. */
	if (ret == -DSTOR_EPROTO_VERSION)
		CHECK(!ref_hello_versions_ok(buf),
		      "VERSION for versions %u..%u", ref_be(buf, 2),
		      ref_be(buf + 2, 2));

	if (!ret) {
		size_t n = dstor_strnlen(m.name, DSTOR_WIRE_NAME_LEN);

		CHECK(n >= 1 && n < DSTOR_WIRE_NAME_LEN, "name length %zu", n);
		CHECK(m.version_min >= 1 && m.version_min <= m.version_max,
		      "versions %u..%u", m.version_min, m.version_max);
		CHECK(m.version_min == ref_be(buf, 2) &&
		      m.version_max == ref_be(buf + 2, 2), "versions");
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
		/* The timers, as sent, and within the importer's rules. */
		CHECK(m.keepalive == ref_be(buf + 120, 2) &&
		      m.dead_after == ref_be(buf + 122, 2),
		      "timers %u/%u", m.keepalive, m.dead_after);
		CHECK((!m.keepalive && !m.dead_after) ||
		      (m.keepalive && m.keepalive < m.dead_after &&
		       m.dead_after <= DSTOR_MAX_TIMER),
		      "keepalive %u dead_after %u", m.keepalive, m.dead_after);
		dstor_hello_encode(out, &m);
		CHECK(!memcmp(out, buf, DSTOR_HELLO_LEN), "re-encode differs");
		memset(&m2, 0x5a, sizeof(m2));
		CHECK(!dstor_hello_decode(out, &m2) &&
		      !memcmp(m2.name, m.name, sizeof(m.name)) &&
		      m2.keepalive == m.keepalive &&
		      m2.dead_after == m.dead_after,
		      "re-decode differs");
	}

	/* A version 1 HELLO: only its version fields are read. */
	memcpy(v1, buf, DSTOR_HELLO_V1_LEN);
	dstor_hello_versions(v1, &vmin, &vmax);
	CHECK(vmin == ref_be(buf, 2) && vmax == ref_be(buf + 2, 2),
	      "versions %u..%u", vmin, vmax);
	free(v1);
	free(buf);
	return 0;
}
