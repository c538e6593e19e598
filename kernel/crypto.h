/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The handshake's cryptography and pre-shared keys (crypto.c).
 */
#ifndef _DSTOR_CRYPTO_H
#define _DSTOR_CRYPTO_H

#include <linux/types.h>
#include <uapi/linux/dstor.h>

#include "proto.h"

struct crypto_aead;

/* A pre-shared key and its public fingerprint. */
struct dstor_key {
	bool set;
	u8 key[DSTOR_KEY_LEN];
	u8 id[DSTOR_KEY_ID_LEN];
};

int dstor_crypto_init(void);
u8 dstor_crypto_ciphers(void);
u8 dstor_crypto_pick(u8 offered);
struct crypto_aead *dstor_aead_new(u8 cipher, const u8 *key);

void dstor_key_set(struct dstor_key *k, const u8 *key);
void dstor_key_id(const u8 *key, u8 *id);
void dstor_hs_proof(const u8 *key, bool server, const u8 *hello,
		    const u8 *challenge, u8 *proof);
void dstor_hs_keys(const u8 *key, const u8 *nc, const u8 *ns, u8 *c2s,
		   u8 *s2c);

#endif /* _DSTOR_CRYPTO_H */
