/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sealed records (Documentation/protocol.md, "Sealed records"): one AEAD
 * state per direction, counter nonces, and the record slots a connection
 * owns for as long as it is sealed. Every buffer a record needs is
 * allocated when the connection is sealed, so sealing and opening never
 * allocate: a sealed connection carrying writeback cannot wait for memory
 * another connection holds.
 *
 * Transmit slots form a ring: records are made in sequence order (the
 * nonce is the sequence number), sealed inline or on the crypto pool, and
 * sent strictly in ring order. Receive slots are taken in any order; each
 * record gets its sequence number when it has arrived, so records open in
 * parallel. A header record (48 bytes) is opened inline, in place, by the
 * receiving connection; a payload record is opened straight into its
 * frame's pages.
 *
 * Records are sealed and opened by the connection's own io_work, as
 * kTLS does in software: each hand-off to another CPU costs two context
 * switches and a kick back, and a sealed exporter session runs on another
 * CPU than its packets arrive on anyway (dstor_conn_move_off()). Records of more
 * than the module parameter seal_inline_max bytes go instead to the
 * crypto pool, dstor_crypto_wq, an unbound workqueue whose concurrency
 * `dstor set crypto-workers N` changes at run time: several CPUs then
 * seal one connection's records, for a host whose single connection
 * needs more than one CPU's AEAD.
 */
#ifndef _DSTOR_SEAL_H
#define _DSTOR_SEAL_H

#include <linux/scatterlist.h>
#include <linux/workqueue.h>

#include "data.h"
#include "proto.h"

struct aead_request;
struct crypto_aead;

#define DSTOR_SEAL_SLOTS	4	/* records in flight per direction */
#define DSTOR_REC_PAGES		DIV_ROUND_UP(DSTOR_SEAL_CHUNK, PAGE_SIZE)
/* A chunk's plaintext in pieces of at least one sector, plus spares. */
#define DSTOR_SEAL_SG		(DSTOR_SEAL_CHUNK / 512 + 4)

enum {
	DSTOR_REC_FREE,
	DSTOR_REC_BUSY,			/* being filled or received */
	DSTOR_REC_CRYPT,		/* on the crypto pool */
	DSTOR_REC_READY,		/* sealed, or opened */
};

struct dstor_seal;

/* One record slot. */
struct dstor_rec {
	struct work_struct work;	/* on the crypto pool */
	struct dstor_seal *sl;
	u8 state;			/* DSTOR_REC_*; the owner's */
	bool rx;
	bool in_place;			/* rx: opened where it was received */
	u64 seq;
	u32 n;				/* sealed bytes: ciphertext and tag */
	u32 sent;			/* tx: bytes on the wire, length incl. */
	void *frame;			/* tx: the frame it ends; rx: its rx */
	int err;
	u8 len[DSTOR_REC_LEN_BYTES];	/* the length bytes, also the AD */
	u8 tag[DSTOR_TAG_LEN];
	u8 hdr[DSTOR_HDR_LEN];		/* tx: a header record's plaintext */
	struct aead_request *req;
	struct page *pages[DSTOR_REC_PAGES];
	struct scatterlist buf_sg[DSTOR_REC_PAGES + 2];	/* AD, pages, tag */
	struct scatterlist data_sg[DSTOR_SEAL_SG];	/* AD, plaintext */
	struct bio_vec bv[DSTOR_REC_PAGES + 2];		/* len, pages, tag */
};

struct dstor_seal {
	struct crypto_aead *tx_tfm;
	struct crypto_aead *rx_tfm;
	u8 cipher;			/* DSTOR_WIRE_* */
	u64 tx_seq;
	u64 rx_seq;
	unsigned int tx_head;		/* tx slots in use: [tx_tail, tx_head) */
	unsigned int tx_tail;
	struct dstor_rec *tx[DSTOR_SEAL_SLOTS];
	struct dstor_rec *rx[DSTOR_SEAL_SLOTS];
	/* The ready records' bytes, to send them together. */
	struct bio_vec tx_bv[DSTOR_SEAL_SLOTS * (DSTOR_REC_PAGES + 2)];
	struct aead_request *hdr_req;	/* header records, opened inline */
	/* A record came back from the pool (from a pool worker). */
	void (*done)(struct dstor_rec *rec);
	void *owner;
};

extern struct workqueue_struct *dstor_crypto_wq;

int dstor_seal_init(void);
void dstor_seal_exit(void);
int dstor_crypto_set_workers(unsigned int n);
unsigned int dstor_crypto_workers_get(void);
unsigned int dstor_crypto_queued_get(void);
u64 dstor_crypto_pooled_get(void);

struct dstor_seal *dstor_seal_new(u8 cipher, const u8 *ktx, const u8 *krx,
				  void (*done)(struct dstor_rec *rec),
				  void *owner);
void dstor_seal_flush(struct dstor_seal *sl);
void dstor_seal_free(struct dstor_seal *sl);

/* Transmit. */
struct dstor_rec *dstor_seal_tx_slot(struct dstor_seal *sl);
void dstor_seal_tx_hdr(struct dstor_rec *rec, const struct dstor_hdr *h);
int dstor_seal_tx_data(struct dstor_rec *rec, struct dstor_data *pos,
		       u32 len);
struct dstor_rec *dstor_seal_tx_ready(struct dstor_seal *sl);
unsigned int dstor_seal_tx_iter(struct dstor_seal *sl, struct iov_iter *it);
struct dstor_rec *dstor_seal_tx_sent(struct dstor_seal *sl, u32 *len);
void dstor_seal_tx_free(struct dstor_seal *sl);

/* Receive. */
int dstor_seal_rx_hdr(struct dstor_seal *sl, u8 *rec, struct dstor_hdr *h);
struct dstor_rec *dstor_seal_rx_slot(struct dstor_seal *sl, u32 n);
void dstor_seal_rx_iter(struct dstor_rec *rec, u32 off, struct iov_iter *it);
int dstor_seal_rx_open(struct dstor_rec *rec, struct dstor_data *pos,
		       void *frame);
void dstor_seal_rx_free(struct dstor_rec *rec);

#endif /* _DSTOR_SEAL_H */
