/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The handshake of a connection, for both ends (handshake.c): HELLO, then
 * with a key AUTH_CHALLENGE and AUTH_RESPONSE and the switch to sealed
 * records, then HELLO_REPLY. The importer's side is complete here; the
 * exporter's side leaves finding and checking the export to session.c.
 *
 * One table of reasons serves the extended ACK of `import add`, the log
 * lines of a failed reconnect and DSTOR_A_REASON.
 */
#ifndef _DSTOR_HANDSHAKE_H
#define _DSTOR_HANDSHAKE_H

#include "conn.h"
#include "crypto.h"
#include "proto.h"

struct netlink_ext_ack;

enum dstor_why {
	DSTOR_WHY_NONE,
	DSTOR_WHY_REFUSED,		/* TCP connection refused */
	DSTOR_WHY_TIMEDOUT,		/* no TCP connection or no reply */
	DSTOR_WHY_UNREACH,
	DSTOR_WHY_CONNECT,
	DSTOR_WHY_NOEXPORT,
	DSTOR_WHY_DENIED,
	DSTOR_WHY_VERSION,
	DSTOR_WHY_BUSY,
	DSTOR_WHY_LIMIT_EXPORT,
	DSTOR_WHY_LIMIT_HOST,
	DSTOR_WHY_NEEDS_KEY,		/* the export has a key, we have none */
	DSTOR_WHY_HAS_NO_KEY,		/* we have a key, the export has none */
	DSTOR_WHY_OTHER_KEY,		/* the exporter's proof is wrong */
	DSTOR_WHY_KEY_REJECTED,		/* the exporter hung up on our proof */
	DSTOR_WHY_NO_PROOF,		/* a keyless exporter said hello back */
	DSTOR_WHY_NO_CIPHER,
	DSTOR_WHY_NOT_DSTOR,		/* the peer speaks something else */
	DSTOR_WHY_BAD_REPLY,
	DSTOR_WHY_RESET,		/* closed by the peer in the handshake */
	DSTOR_WHY_CLOSED,		/* closed by the peer once live */
	DSTOR_WHY_RESTARTED,		/* ended: the export has a new incarnation */
	DSTOR_WHY_IDENTITY,		/* another export under the same name */
	DSTOR_WHY_GEOMETRY,		/* size or block size changed */
	DSTOR_WHY_CACHE,		/* a volatile write cache appeared */
	DSTOR_WHY_CACHE_LOST,		/* a restart lost unflushed writes */
	DSTOR_WHY_READ_ONLY,		/* read-only for us: import read-only */
	DSTOR_WHY_CHANGED,		/* connections disagree while adding */
	DSTOR_WHY_NOMEM,
	DSTOR_WHY_SILENT,		/* nothing heard for dead-after */
	DSTOR_WHY_STALLED,		/* the peer stopped reading */
	DSTOR_WHY_PROTO,		/* a malformed frame */
	DSTOR_WHY_BAD_RECORD,		/* a sealed record did not open */
	DSTOR_WHY_ERROR,
	__DSTOR_WHY_MAX,
};

const char *dstor_why_text(enum dstor_why why);
int dstor_why_errno(enum dstor_why why);
enum dstor_why dstor_why_conn(int err);
void dstor_why_extack(struct netlink_ext_ack *extack, enum dstor_why why);

/* The importer's end of one connection's handshake. */
struct dstor_hs_client {
	/* Filled by the owner before dstor_hs_client_start(). */
	struct dstor_hello hello;	/* name, session, queue, flags, timers */
	struct dstor_key key;

	u8 state;
	u8 rx_op;			/* the handshake frame being received */
	u16 rx_status;
	enum dstor_why why;		/* why it failed */
	struct dstor_hello_reply info;	/* the result */
	u8 cipher;			/* DSTOR_WIRE_*, 0: plaintext */
	struct dstor_tx tx_hello;
	struct dstor_tx tx_response;
	struct dstor_rx rx;
	u8 hello_buf[DSTOR_HELLO_LEN];
	u8 response_buf[DSTOR_RESPONSE_LEN];
	u8 rx_buf[DSTOR_CHALLENGE_LEN];	/* or a hello reply */
};

int dstor_hs_client_start(struct dstor_hs_client *hs, struct dstor_conn *c);
struct dstor_rx *dstor_hs_client_rx_hdr(struct dstor_hs_client *hs,
					const struct dstor_hdr *h);
int dstor_hs_client_rx_done(struct dstor_hs_client *hs,
			    struct dstor_conn *c);
enum dstor_why dstor_hs_client_failed(struct dstor_hs_client *hs, int err);
void dstor_hs_client_wipe(struct dstor_hs_client *hs);

/* The exporter's end. */
struct dstor_hs_server {
	u8 state;
	u16 hello_len;
	struct dstor_hello hello;	/* once decoded */
	struct dstor_challenge ch;
	struct dstor_tx tx;		/* AUTH_CHALLENGE */
	struct dstor_tx tx_reply;	/* HELLO_REPLY */
	struct dstor_rx rx;
	u8 buf[DSTOR_HELLO_LEN];	/* HELLO, then the AUTH_RESPONSE */
	u8 hello_buf[DSTOR_HELLO_LEN];
	u8 ch_buf[DSTOR_CHALLENGE_LEN];
	u8 reply_buf[DSTOR_HELLO_REPLY_LEN];
};

enum {
	DSTOR_HS_S_HELLO,		/* waiting for HELLO */
	DSTOR_HS_S_CHECK,		/* HELLO in, the owner decides */
	DSTOR_HS_S_RESPONSE,		/* CHALLENGE sent, waiting */
	DSTOR_HS_S_PROVEN,		/* the importer proved the key */
	DSTOR_HS_S_DONE,		/* HELLO_REPLY queued */
};

struct dstor_rx *dstor_hs_server_rx_hdr(struct dstor_hs_server *hs,
					const struct dstor_hdr *h);
int dstor_hs_server_hello(struct dstor_hs_server *hs);
void dstor_hs_server_challenge(struct dstor_hs_server *hs,
			       struct dstor_conn *c, const u8 *key);
int dstor_hs_server_response(struct dstor_hs_server *hs,
			     struct dstor_conn *c, const u8 *key);
void dstor_hs_server_reply(struct dstor_hs_server *hs, struct dstor_conn *c,
			   u16 status, const struct dstor_hello_reply *r);

#endif /* _DSTOR_HANDSHAKE_H */
