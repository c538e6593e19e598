/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A sync's connection to an exporter (sync_peer.c): the handshake of an
 * importer, protocol version 4 only, then requests the sync thread queues
 * and the replies it waits for.
 */
#ifndef _DSTOR_SYNC_PEER_H
#define _DSTOR_SYNC_PEER_H

#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "conn.h"
#include "handshake.h"
#include "sock.h"

struct bio;
struct dstor_stats;
struct net;

/* Requests in flight at once, READs and TREE_FPs together. */
#define DSTOR_PEER_MAX_REQS	64

/*
 * One request and, once @done, its reply: @status, and on OK its payload
 * in @buf (TREE_INFO, TREE_FP) or @bio's pages (READ). The sync thread
 * owns it except between dstor_peer_submit() and its return by
 * dstor_peer_wait().
 */
struct dstor_peer_req {
	struct list_head node;		/* peer->done once answered */
	struct dstor_tx tx;
	struct dstor_rx rx;
	u8 op;
	u64 offset;
	u32 length;
	u8 gen[DSTOR_TREE_GEN_LEN];	/* TREE_FP: the generation asked */
	void *buf;			/* TREE_INFO, TREE_FP: the reply */
	struct bio *bio;		/* READ: where its data goes */
	u32 want;			/* the reply's payload on OK */
	u16 status;
	unsigned long cookie;		/* the sync's */
	bool sent;			/* tx_done: a reply may come now */
};

struct dstor_peer {
	struct dstor_conn *conn;
	struct dstor_hs_client hs;
	struct dstor_hello_reply info;	/* once connected */
	spinlock_t lock;		/* done, slots, failed */
	struct list_head done;
	struct dstor_peer_req *slots[DSTOR_PEER_MAX_REQS];
	unsigned int nr_reqs;		/* submitted, not yet waited for */
	u64 seq;			/* handles: seq << 8 | slot */
	wait_queue_head_t wq;
	bool hs_done;
	int err;			/* the connection failed */
};

/* An outstanding request gets its reply within this, or the sync fails. */
#define DSTOR_PEER_REQ_TIMEOUT	(60 * HZ)

int dstor_peer_connect(struct dstor_peer *p, struct net *net,
		       const struct dstor_endpoint *ep, const char *name,
		       const struct dstor_key *key, struct dstor_stats *stats);
int dstor_peer_dial(struct dstor_peer *p, struct net *net,
		    const struct dstor_endpoint *ep, const char *name,
		    const struct dstor_key *key, struct dstor_stats *stats);
int dstor_peer_dialled(struct dstor_peer *p, bool wait);
void dstor_peer_close(struct dstor_peer *p);
int dstor_peer_submit(struct dstor_peer *p, struct dstor_peer_req *r);
struct dstor_peer_req *dstor_peer_wait(struct dstor_peer *p);
struct dstor_peer_req *dstor_peer_poll(struct dstor_peer *p);
u64 dstor_peer_wire_bytes(struct dstor_peer *p);

#endif /* _DSTOR_SYNC_PEER_H */
