// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake's cryptography: HMAC-SHA256, the proofs and the HKDF key
 * derivation, key fingerprints, and which AEADs this kernel offers.
 *
 * Handshake (Documentation/protocol.md has the wire layout): the importer's
 * HELLO carries a fresh nonce Nc; the exporter answers AUTH_CHALLENGE with
 * its nonce Ns and a proof, the importer answers AUTH_RESPONSE with its
 * proof. Proofs are HMAC-SHA256 under the pre-shared key over a label, the
 * whole HELLO payload and the challenge's cipher and nonce, so each side
 * proves it holds the key for this exchange. Then
 *	PRK = HMAC(Nc || Ns, key)			(HKDF-Extract)
 *	k_c2s = HMAC(PRK, "dstor v2 c2s" || 1)		(HKDF-Expand)
 *	k_s2c = HMAC(PRK, "dstor v2 s2c" || 1)
 * and seal.c seals every later record of the connection with these keys.
 */
#include <crypto/aead.h>
#include <crypto/sha2.h>
#include <linux/string.h>

#include "crypto.h"

static u8 dstor_ciphers;	/* DSTOR_WIRE_* this kernel can do */

/* ---- HMAC-SHA256 and the handshake's derivations ---- */

struct hmac_part {
	const void *p;
	size_t len;
};

/* HMAC-SHA256 (RFC 2104) of the concatenation of @parts. */
static void hmac_sha256(const u8 *key, size_t klen,
			const struct hmac_part *parts, int n, u8 *out)
{
	u8 k[SHA256_BLOCK_SIZE] = {}, pad[SHA256_BLOCK_SIZE];
	struct sha256_state st;
	int i;

	if (klen > SHA256_BLOCK_SIZE)
		sha256(key, klen, k);
	else
		memcpy(k, key, klen);

	for (i = 0; i < SHA256_BLOCK_SIZE; i++)
		pad[i] = k[i] ^ 0x36;
	sha256_init(&st);
	sha256_update(&st, pad, sizeof(pad));
	for (i = 0; i < n; i++)
		sha256_update(&st, parts[i].p, parts[i].len);
	sha256_final(&st, out);

	for (i = 0; i < SHA256_BLOCK_SIZE; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_init(&st);
	sha256_update(&st, pad, sizeof(pad));
	sha256_update(&st, out, SHA256_DIGEST_SIZE);
	sha256_final(&st, out);

	memzero_explicit(k, sizeof(k));
	memzero_explicit(pad, sizeof(pad));
	memzero_explicit(&st, sizeof(st));
}

void dstor_key_id(const u8 *key, u8 *id)
{
	u8 digest[SHA256_DIGEST_SIZE];
	struct sha256_state st;

	sha256_init(&st);
	sha256_update(&st, DSTOR_LABEL_KEY_ID, strlen(DSTOR_LABEL_KEY_ID));
	sha256_update(&st, key, DSTOR_KEY_LEN);
	sha256_final(&st, digest);
	memcpy(id, digest, DSTOR_KEY_ID_LEN);
	memzero_explicit(&st, sizeof(st));
}

/* Set @k to @key, or clear it when @key is NULL. */
void dstor_key_set(struct dstor_key *k, const u8 *key)
{
	if (!key) {
		memzero_explicit(k, sizeof(*k));
		return;
	}
	memcpy(k->key, key, DSTOR_KEY_LEN);
	dstor_key_id(key, k->id);
	k->set = true;
}

void dstor_hs_proof(const u8 *key, bool server, const u8 *hello,
		    const u8 *challenge, u8 *proof)
{
	const char *label = server ? DSTOR_LABEL_SERVER : DSTOR_LABEL_CLIENT;
	struct hmac_part parts[] = {
		{ label, strlen(label) },
		{ hello, DSTOR_HELLO_LEN },
		/* cipher, reserved and nonce: everything but the proof */
		{ challenge, DSTOR_CHALLENGE_LEN - DSTOR_PROOF_LEN },
	};

	hmac_sha256(key, DSTOR_KEY_LEN, parts, ARRAY_SIZE(parts), proof);
}

void dstor_hs_keys(const u8 *key, const u8 *nc, const u8 *ns, u8 *c2s,
		   u8 *s2c)
{
	u8 salt[2 * DSTOR_NONCE_LEN], prk[SHA256_DIGEST_SIZE];
	static const u8 one = 1;
	struct hmac_part ikm = { key, DSTOR_KEY_LEN };
	struct hmac_part c[] = {
		{ DSTOR_LABEL_C2S, strlen(DSTOR_LABEL_C2S) }, { &one, 1 },
	};
	struct hmac_part s[] = {
		{ DSTOR_LABEL_S2C, strlen(DSTOR_LABEL_S2C) }, { &one, 1 },
	};

	memcpy(salt, nc, DSTOR_NONCE_LEN);
	memcpy(salt + DSTOR_NONCE_LEN, ns, DSTOR_NONCE_LEN);
	hmac_sha256(salt, sizeof(salt), &ikm, 1, prk);
	hmac_sha256(prk, sizeof(prk), c, ARRAY_SIZE(c), c2s);
	hmac_sha256(prk, sizeof(prk), s, ARRAY_SIZE(s), s2c);
	memzero_explicit(prk, sizeof(prk));
}

/* RFC 4231, test case 2: refuse to load with a broken HMAC. */
static int hmac_selftest(void)
{
	static const u8 want[SHA256_DIGEST_SIZE] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e,
		0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
		0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
		0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
	};
	static const char data[] = "what do ya want for nothing?";
	struct hmac_part part = { data, sizeof(data) - 1 };
	u8 out[SHA256_DIGEST_SIZE];

	hmac_sha256((const u8 *)"Jefe", 4, &part, 1, out);
	return memcmp(out, want, sizeof(out)) ? -EINVAL : 0;
}

/* ---- AEADs ---- */

static const char *cipher_name(u8 cipher)
{
	return cipher == DSTOR_WIRE_AES_GCM ? "gcm(aes)" :
	       "rfc7539(chacha20,poly1305)";
}

static bool aead_available(u8 cipher)
{
	return crypto_has_alg(cipher_name(cipher), CRYPTO_ALG_TYPE_AEAD,
			      CRYPTO_ALG_TYPE_MASK);
}

u8 dstor_crypto_ciphers(void)
{
	return dstor_ciphers;
}

/* The exporter's choice among what the importer offers: AES-GCM first. */
u8 dstor_crypto_pick(u8 offered)
{
	u8 both = offered & dstor_ciphers;

	if (both & BIT(DSTOR_WIRE_AES_GCM))
		return DSTOR_WIRE_AES_GCM;
	if (both & BIT(DSTOR_WIRE_CHACHA20_POLY1305))
		return DSTOR_WIRE_CHACHA20_POLY1305;
	return 0;
}

struct crypto_aead *dstor_aead_new(u8 cipher, const u8 *key)
{
	struct crypto_aead *tfm = crypto_alloc_aead(cipher_name(cipher), 0, 0);
	int ret;

	if (IS_ERR(tfm))
		return tfm;
	ret = crypto_aead_setkey(tfm, key, DSTOR_KEY_LEN);
	if (!ret)
		ret = crypto_aead_setauthsize(tfm, DSTOR_TAG_LEN);
	if (ret) {
		crypto_free_aead(tfm);
		return ERR_PTR(ret);
	}
	return tfm;
}

int dstor_crypto_init(void)
{
	int ret = hmac_selftest();

	if (ret) {
		pr_err("HMAC-SHA256 self-test failed\n");
		return ret;
	}
	if (aead_available(DSTOR_WIRE_AES_GCM))
		dstor_ciphers |= BIT(DSTOR_WIRE_AES_GCM);
	if (aead_available(DSTOR_WIRE_CHACHA20_POLY1305))
		dstor_ciphers |= BIT(DSTOR_WIRE_CHACHA20_POLY1305);
	if (!dstor_ciphers)
		pr_warn("no AEAD available (gcm(aes), rfc7539(chacha20,poly1305)): keys cannot be used\n");
	return 0;
}
