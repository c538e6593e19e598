// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake of a connection, for both ends; Documentation/protocol.md
 * has the frames and security.md the cryptography (crypto.c).
 *
 * Everything runs in the connection's io_work, one frame at a time: the
 * owner's rx_hdr callback asks here where a handshake frame's payload
 * goes, its rx_done callback hands the payload here. The importer queues
 * AUTH_RESPONSE as a plaintext frame and seals its connection at once, so
 * the exporter's HELLO_REPLY, the first sealed frame, is read as a record.
 */
#include <crypto/algapi.h>
#include <linux/random.h>
#include <net/netlink.h>

#include "handshake.h"

/* ---- why a connection failed: the one table ---- */

static const struct {
	int err;
	const char *text;
} why_table[__DSTOR_WHY_MAX] = {
	[DSTOR_WHY_NONE] = {
		0,
		"dstor: no error"
	},
	[DSTOR_WHY_REFUSED] = {
		-ECONNREFUSED,
		"dstor: connection refused by the peer (is an export listening there?)"
	},
	[DSTOR_WHY_TIMEDOUT] = {
		-ETIMEDOUT,
		"dstor: no answer from the peer (connection timed out)"
	},
	[DSTOR_WHY_UNREACH] = {
		-EHOSTUNREACH,
		"dstor: the peer is unreachable"
	},
	[DSTOR_WHY_CONNECT] = {
		-ECONNABORTED,
		"dstor: cannot connect to the peer"
	},
	[DSTOR_WHY_NOEXPORT] = {
		-ENOENT,
		"dstor: the peer has no export of that name"
	},
	[DSTOR_WHY_DENIED] = {
		-EACCES,
		"dstor: the peer refused access"
	},
	[DSTOR_WHY_VERSION] = {
		-EPROTONOSUPPORT,
		"dstor: the peer speaks no protocol version in common (an older dstor?)"
	},
	[DSTOR_WHY_BUSY] = {
		-EBUSY,
		"dstor: the peer is busy; try again"
	},
	[DSTOR_WHY_LIMIT_EXPORT] = {
		-EUSERS,
		"dstor: the peer refused: the export has reached its session limit (export add --max-sessions)"
	},
	[DSTOR_WHY_LIMIT_HOST] = {
		-EUSERS,
		"dstor: the peer refused: too many sessions from this host (max-host-sessions)"
	},
	[DSTOR_WHY_NEEDS_KEY] = {
		-EKEYREJECTED,
		"dstor: authentication failed: the export requires a key (--key)"
	},
	[DSTOR_WHY_HAS_NO_KEY] = {
		-EKEYREJECTED,
		"dstor: authentication failed: the export has no key, but a key was given"
	},
	[DSTOR_WHY_OTHER_KEY] = {
		-EKEYREJECTED,
		"dstor: authentication failed: the exporter holds a different key"
	},
	[DSTOR_WHY_KEY_REJECTED] = {
		-EKEYREJECTED,
		"dstor: authentication failed: the exporter rejected our key"
	},
	[DSTOR_WHY_NO_PROOF] = {
		-EKEYREJECTED,
		"dstor: authentication failed: the exporter did not prove the key"
	},
	[DSTOR_WHY_NO_CIPHER] = {
		-ENOPKG,
		"dstor: no AEAD cipher in common with the peer (gcm(aes) or rfc7539(chacha20,poly1305))"
	},
	[DSTOR_WHY_NOT_DSTOR] = {
		-EPROTO,
		"dstor: the peer does not speak the dstor protocol"
	},
	[DSTOR_WHY_BAD_REPLY] = {
		-EPROTO,
		"dstor: malformed handshake frame from the peer"
	},
	[DSTOR_WHY_RESET] = {
		-ECONNRESET,
		"dstor: the peer closed the connection during the handshake (an older dstor, or not dstor?)"
	},
	[DSTOR_WHY_CLOSED] = {
		-ECONNRESET,
		"dstor: the peer closed the connection"
	},
	[DSTOR_WHY_RESTARTED] = {
		-ESTALE,
		"dstor: the exporter restarted; connecting to the new one"
	},
	[DSTOR_WHY_IDENTITY] = {
		-ESTALE,
		"dstor: the export is not the one this import was made of (another export under that name: its uuid differs)"
	},
	[DSTOR_WHY_GEOMETRY] = {
		-ESTALE,
		"dstor: the export changed its size or block size"
	},
	[DSTOR_WHY_CACHE] = {
		-ESTALE,
		"dstor: the export now has a volatile write cache this import was not made for: import it again"
	},
	[DSTOR_WHY_CACHE_LOST] = {
		-EIO,
		"dstor: the exporter restarted and may have lost acknowledged writes from its volatile write cache: unmount, check the file system, import again"
	},
	[DSTOR_WHY_READ_ONLY] = {
		-EROFS,
		"dstor: the export is read-only for this importer: import it read-only"
	},
	[DSTOR_WHY_CHANGED] = {
		-EAGAIN,
		"dstor: the export changed while connecting; try again"
	},
	[DSTOR_WHY_NOMEM] = {
		-ENOMEM,
		"dstor: out of memory"
	},
	[DSTOR_WHY_SILENT] = {
		-ETIMEDOUT,
		"dstor: nothing heard from the peer"
	},
	[DSTOR_WHY_STALLED] = {
		-ETIMEDOUT,
		"dstor: the peer stopped reading"
	},
	[DSTOR_WHY_PROTO] = {
		-EPROTO,
		"dstor: protocol error from the peer"
	},
	[DSTOR_WHY_BAD_RECORD] = {
		-EBADMSG,
		"dstor: a sealed record failed to open (forged, replayed or corrupted)"
	},
	[DSTOR_WHY_ERROR] = {
		-EIO,
		"dstor: connection error"
	},
};

/* The reason as a log line wants it (pr_fmt adds "dstor: "). */
const char *dstor_why_text(enum dstor_why why)
{
	if (why >= __DSTOR_WHY_MAX)
		why = DSTOR_WHY_ERROR;
	return why_table[why].text + strlen(KBUILD_MODNAME ": ");
}

int dstor_why_errno(enum dstor_why why)
{
	if (why >= __DSTOR_WHY_MAX)
		why = DSTOR_WHY_ERROR;
	return why_table[why].err;
}

void dstor_why_extack(struct netlink_ext_ack *extack, enum dstor_why why)
{
	if (why >= __DSTOR_WHY_MAX)
		why = DSTOR_WHY_ERROR;
	if (extack)
		extack->_msg = why_table[why].text;
}

/* A connection error, as a reason. */
enum dstor_why dstor_why_conn(int err)
{
	switch (err) {
	case -ECONNREFUSED:
		return DSTOR_WHY_REFUSED;
	case -ETIME:
		return DSTOR_WHY_TIMEDOUT;
	case -ETIMEDOUT:
		return DSTOR_WHY_SILENT;
	case -EWOULDBLOCK:
		return DSTOR_WHY_STALLED;
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -EADDRNOTAVAIL:
		return DSTOR_WHY_UNREACH;
	case -ECONNRESET:
	case -EPIPE:
		return DSTOR_WHY_CLOSED;
	case -ESTALE:
		return DSTOR_WHY_RESTARTED;
	case -EPROTO:
		return DSTOR_WHY_PROTO;
	case -EBADMSG:
		return DSTOR_WHY_BAD_RECORD;
	case -ENOMEM:
		return DSTOR_WHY_NOMEM;
	default:
		return DSTOR_WHY_ERROR;
	}
}

/* ---- the importer's end ---- */

enum {
	HS_C_HELLO,			/* HELLO sent */
	HS_C_SEALED,			/* AUTH_RESPONSE sent, sealed */
	HS_C_DONE,
};

static void hs_frame(struct dstor_tx *tx, u8 op, u16 status, void *buf,
		     u32 len, bool plain)
{
	tx->hdr = (struct dstor_hdr) {
		.op = op,
		.status = status,
		.payload = len,
	};
	dstor_data_buf(&tx->data, buf, len);
	tx->plain = plain;
}

int dstor_hs_client_start(struct dstor_hs_client *hs, struct dstor_conn *c)
{
	/* A sync asks for version 4 and up (its hello.version_min). */
	if (!hs->hello.version_min)
		hs->hello.version_min = DSTOR_PROTO_VERSION_MIN;
	hs->hello.version_max = DSTOR_PROTO_VERSION;
	if (hs->key.set) {
		hs->hello.flags |= DSTOR_HELLO_AUTH;
		hs->hello.ciphers = dstor_crypto_ciphers();
		if (!hs->hello.ciphers) {
			hs->why = DSTOR_WHY_NO_CIPHER;
			return -ENOPKG;
		}
		get_random_bytes(hs->hello.nonce, sizeof(hs->hello.nonce));
	}
	dstor_hello_encode(hs->hello_buf, &hs->hello);
	hs->state = HS_C_HELLO;
	hs_frame(&hs->tx_hello, DSTOR_OP_HELLO, 0, hs->hello_buf,
		 DSTOR_HELLO_LEN, true);
	dstor_conn_queue(c, &hs->tx_hello);
	return 0;
}

struct dstor_rx *dstor_hs_client_rx_hdr(struct dstor_hs_client *hs,
					const struct dstor_hdr *h)
{
	u32 len;

	BUILD_BUG_ON(sizeof(hs->rx_buf) < DSTOR_HELLO_REPLY_LEN);
	if (h->op == DSTOR_OP_AUTH_CHALLENGE && hs->state == HS_C_HELLO &&
	    hs->key.set)
		len = DSTOR_CHALLENGE_LEN;
	else if (h->op == DSTOR_OP_HELLO_REPLY && hs->state != HS_C_DONE)
		len = h->payload;	/* checked against the status below */
	else
		return ERR_PTR(-EPROTO);
	hs->rx_op = h->op;
	hs->rx_status = h->status;
	dstor_data_buf(&hs->rx.data, hs->rx_buf, len);
	return &hs->rx;
}

static int hs_fail(struct dstor_hs_client *hs, enum dstor_why why)
{
	hs->why = why;
	return dstor_why_errno(why);
}

/* AUTH_CHALLENGE: check the exporter's proof, prove ours, seal. */
static int hs_client_challenge(struct dstor_hs_client *hs,
			       struct dstor_conn *c)
{
	u8 proof[DSTOR_PROOF_LEN], c2s[DSTOR_KEY_LEN], s2c[DSTOR_KEY_LEN];
	struct dstor_challenge ch;
	int ret;

	if (dstor_challenge_decode(hs->rx_buf, hs->hello.ciphers, &ch))
		return hs_fail(hs, DSTOR_WHY_BAD_REPLY);
	dstor_hs_proof(hs->key.key, true, hs->hello_buf, hs->rx_buf, proof);
	if (crypto_memneq(proof, ch.proof, DSTOR_PROOF_LEN))
		return hs_fail(hs, DSTOR_WHY_OTHER_KEY);
	dstor_hs_proof(hs->key.key, false, hs->hello_buf, hs->rx_buf,
		       hs->response_buf);
	hs_frame(&hs->tx_response, DSTOR_OP_AUTH_RESPONSE, 0,
		 hs->response_buf, DSTOR_RESPONSE_LEN, true);
	dstor_conn_queue(c, &hs->tx_response);

	dstor_hs_keys(hs->key.key, hs->hello.nonce, ch.nonce, c2s, s2c);
	ret = dstor_conn_seal(c, ch.cipher, c2s, s2c);
	memzero_explicit(c2s, sizeof(c2s));
	memzero_explicit(s2c, sizeof(s2c));
	if (ret)
		return hs_fail(hs, ret == -ENOMEM ? DSTOR_WHY_NOMEM :
			       DSTOR_WHY_NO_CIPHER);
	hs->cipher = ch.cipher;
	hs->state = HS_C_SEALED;
	return 0;
}

static const u8 hello_status_why[__DSTOR_ST_MAX] = {
	[DSTOR_ST_NOEXPORT] = DSTOR_WHY_NOEXPORT,
	[DSTOR_ST_DENIED] = DSTOR_WHY_DENIED,
	[DSTOR_ST_VERSION] = DSTOR_WHY_VERSION,
	[DSTOR_ST_BUSY] = DSTOR_WHY_BUSY,
	[DSTOR_ST_LIMIT_EXPORT] = DSTOR_WHY_LIMIT_EXPORT,
	[DSTOR_ST_LIMIT_HOST] = DSTOR_WHY_LIMIT_HOST,
};

/*
 * A handshake frame's payload arrived: 1 when the handshake is done (the
 * export's description in hs->info), 0 when it goes on, or an error with
 * hs->why set.
 */
int dstor_hs_client_rx_done(struct dstor_hs_client *hs, struct dstor_conn *c)
{
	u16 status = hs->rx_status;

	if (hs->rx_op == DSTOR_OP_AUTH_CHALLENGE)
		return hs_client_challenge(hs, c);
	if (status == DSTOR_ST_AUTH)
		return hs_fail(hs, hs->key.set ? DSTOR_WHY_HAS_NO_KEY :
			       DSTOR_WHY_NEEDS_KEY);
	if (status)
		return hs_fail(hs, hello_status_why[status] ?:
			       DSTOR_WHY_BAD_REPLY);
	/* A keyless exporter must not simply say hello back. */
	if (hs->key.set && hs->state != HS_C_SEALED)
		return hs_fail(hs, DSTOR_WHY_NO_PROOF);
	if (dstor_hello_reply_decode(hs->rx_buf, &hs->info))
		return hs_fail(hs, DSTOR_WHY_BAD_REPLY);
	hs->state = HS_C_DONE;
	return 1;
}

/* The connection failed during the handshake: why, as the user sees it. */
enum dstor_why dstor_hs_client_failed(struct dstor_hs_client *hs, int err)
{
	if (hs->why)
		return hs->why;
	/* The exporter hangs up on a key it does not accept. */
	if (hs->state == HS_C_SEALED && (err == -ECONNRESET || err == -EPIPE))
		return DSTOR_WHY_KEY_REJECTED;
	if (err == -EPROTO)
		return DSTOR_WHY_NOT_DSTOR;
	if (err == -ETIMEDOUT)
		return DSTOR_WHY_TIMEDOUT;
	if (err == -ECONNRESET || err == -EPIPE)
		return DSTOR_WHY_RESET;
	return dstor_why_conn(err);
}

void dstor_hs_client_wipe(struct dstor_hs_client *hs)
{
	memzero_explicit(&hs->key, sizeof(hs->key));
}

/* ---- the exporter's end ---- */

struct dstor_rx *dstor_hs_server_rx_hdr(struct dstor_hs_server *hs,
					const struct dstor_hdr *h)
{
	if (hs->state == DSTOR_HS_S_HELLO && h->op == DSTOR_OP_HELLO)
		hs->hello_len = h->payload;
	else if (hs->state == DSTOR_HS_S_RESPONSE &&
		 h->op == DSTOR_OP_AUTH_RESPONSE)
		hs->hello_len = 0;
	else
		return ERR_PTR(-EPROTO);
	dstor_data_buf(&hs->rx.data, hs->buf, h->payload);
	return &hs->rx;
}

/*
 * The HELLO arrived: 0 when hs->hello holds it, 1 when it shares no
 * version with us (answer VERSION), -EPROTO when it is malformed.
 */
int dstor_hs_server_hello(struct dstor_hs_server *hs)
{
	u16 min, max;
	int ret;

	memset(hs->hello_buf, 0, DSTOR_HELLO_LEN);
	memcpy(hs->hello_buf, hs->buf, hs->hello_len);
	WRITE_ONCE(hs->state, DSTOR_HS_S_CHECK);
	dstor_hello_versions(hs->buf, &min, &max);
	if (hs->hello_len != DSTOR_HELLO_LEN)
		return 1;	/* version 1's shorter HELLO */
	ret = dstor_hello_decode(hs->buf, &hs->hello);
	if (ret == -DSTOR_EPROTO_VERSION)
		return 1;
	if (ret)
		return -EPROTO;
	if (min > DSTOR_PROTO_VERSION || max < DSTOR_PROTO_VERSION_MIN)
		return 1;
	return 0;
}

/* Prove the export's key @key and challenge the importer to prove it. */
void dstor_hs_server_challenge(struct dstor_hs_server *hs,
			       struct dstor_conn *c, const u8 *key)
{
	hs->ch.cipher = dstor_crypto_pick(hs->hello.ciphers);
	get_random_bytes(hs->ch.nonce, sizeof(hs->ch.nonce));
	dstor_challenge_encode(hs->ch_buf, &hs->ch);
	dstor_hs_proof(key, true, hs->hello_buf, hs->ch_buf, hs->ch.proof);
	dstor_challenge_encode(hs->ch_buf, &hs->ch);
	/* Release: session_failed() reads s->exp after seeing it. */
	smp_store_release(&hs->state, DSTOR_HS_S_RESPONSE);
	hs_frame(&hs->tx, DSTOR_OP_AUTH_CHALLENGE, 0, hs->ch_buf,
		 DSTOR_CHALLENGE_LEN, true);
	dstor_conn_queue(c, &hs->tx);
}

/*
 * The AUTH_RESPONSE arrived: check the importer's proof and seal the
 * connection. 0, -EACCES for a wrong proof, or another error.
 */
int dstor_hs_server_response(struct dstor_hs_server *hs,
			     struct dstor_conn *c, const u8 *key)
{
	u8 proof[DSTOR_PROOF_LEN], c2s[DSTOR_KEY_LEN], s2c[DSTOR_KEY_LEN];
	int ret;

	/* Answered: no longer the session's "no valid response". */
	WRITE_ONCE(hs->state, DSTOR_HS_S_CHECK);
	dstor_hs_proof(key, false, hs->hello_buf, hs->ch_buf, proof);
	if (crypto_memneq(proof, hs->buf, DSTOR_PROOF_LEN))
		return -EACCES;
	dstor_hs_keys(key, hs->hello.nonce, hs->ch.nonce, c2s, s2c);
	ret = dstor_conn_seal(c, hs->ch.cipher, s2c, c2s);
	memzero_explicit(c2s, sizeof(c2s));
	memzero_explicit(s2c, sizeof(s2c));
	if (!ret)
		WRITE_ONCE(hs->state, DSTOR_HS_S_PROVEN);
	return ret;
}

/* Answer the HELLO: @status, and with DSTOR_ST_OK the export @r. */
void dstor_hs_server_reply(struct dstor_hs_server *hs, struct dstor_conn *c,
			   u16 status, const struct dstor_hello_reply *r)
{
	if (!status)
		dstor_hello_reply_encode(hs->reply_buf, r);
	WRITE_ONCE(hs->state, DSTOR_HS_S_DONE);
	hs_frame(&hs->tx_reply, DSTOR_OP_HELLO_REPLY, status, hs->reply_buf,
		 status ? 0 : DSTOR_HELLO_REPLY_LEN, false);
	dstor_conn_queue(c, &hs->tx_reply);
}
