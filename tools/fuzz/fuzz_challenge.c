// SPDX-License-Identifier: GPL-2.0
/*
 * dstor_challenge_decode: input byte 0 is the mask of ciphers the HELLO
 * offered, the next 68 bytes the AUTH_CHALLENGE payload. An accepted
 * challenge picks a cipher that was offered (a real one when the offer was
 * a valid HELLO's) and re-encodes to the same bytes.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	u8 *buf = calloc(1, DSTOR_CHALLENGE_LEN), out[DSTOR_CHALLENGE_LEN];
	struct dstor_challenge m;
	u8 offered;
	int ret, ref;

	if (!buf || !size) {
		free(buf);
		return 0;
	}
	offered = data[0];
	data++;
	size--;
	memcpy(buf, data, size < DSTOR_CHALLENGE_LEN ? size : DSTOR_CHALLENGE_LEN);
	ret = dstor_challenge_decode(buf, offered, &m);
	ref = ref_challenge_ok(buf, offered);
	CHECK(ret == 0 || ref_known_err(ret), "unknown error code %d", ret);
	CHECK((ret == 0) == ref, "decoder says %d, the rules say %s (cipher %u offered %#x)",
	      ret, ref ? "valid" : "invalid", buf[0], offered);

	if (!ret) {
		CHECK(m.cipher < 8 && (offered & (1U << m.cipher)),
		      "cipher %u not offered (%#x)", m.cipher, offered);
		if (!(offered & ~DSTOR_WIRE_CIPHERS))
			CHECK(m.cipher == DSTOR_WIRE_AES_GCM ||
			      m.cipher == DSTOR_WIRE_CHACHA20_POLY1305,
			      "cipher %u", m.cipher);
		dstor_challenge_encode(out, &m);
		CHECK(!memcmp(out, buf, DSTOR_CHALLENGE_LEN),
		      "re-encode differs");
	}
	free(buf);
	return 0;
}
