/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dstor wire format: encode and decode of every frame, pure C.
 *
 * This file is compiled into the module and, unchanged, into the host unit
 * tests and fuzzers, so it uses no kernel-only headers and no allocation.
 * Frames are byte strings in network (big-endian) order; the structs below
 * are native, decoded views. Documentation/protocol.md is the specification.
 *
 * A frame is a 32-byte header followed by hdr.payload bytes:
 *
 *	off len field
 *	  0   4 magic	DSTOR_MAGIC ("DSTR")
 *	  4   1 op	enum dstor_op
 *	  5   1 flags	DSTOR_RQ_* (requests only)
 *	  6   2 status	enum dstor_status (replies only)
 *	  8   8 handle	chosen by the importer, echoed in the reply
 *	 16   8 offset	byte offset on the device
 *	 24   4 length	bytes the operation covers
 *	 28   4 payload	bytes that follow the header
 *
 * The importer sends HELLO first on every connection; the exporter answers
 * HELLO_REPLY, then serves requests on that connection. Every request gets
 * exactly one REPLY carrying the same handle; a READ's reply carries the
 * data as its payload.
 */
#ifndef _DSTOR_PROTO_H
#define _DSTOR_PROTO_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#else
#include <stddef.h>
#include <stdint.h>
#include <string.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
#endif

#define DSTOR_MAGIC		0x44535452U	/* "DSTR" */
/*
 * Versions spoken: 2; 3 (2 with KA_LEAD); 4 (3 with TREE_INFO and TREE_FP,
 * below); 5 (4 with TREE_INFO's PENDING). The exporter answers with the
 * highest the HELLO offers.
 */
#define DSTOR_PROTO_VERSION	5
#define DSTOR_PROTO_VERSION_MIN	2
#define DSTOR_HDR_LEN		32
#define DSTOR_HELLO_LEN		128
#define DSTOR_HELLO_V1_LEN	120	/* a version 1 importer's HELLO */
#define DSTOR_HELLO_REPLY_LEN	56
#define DSTOR_WIRE_UUID_LEN	16
#define DSTOR_CHALLENGE_LEN	68
#define DSTOR_RESPONSE_LEN	32

/* Largest data transfer of one READ or WRITE. */
#define DSTOR_MAX_IO		(512U * 1024)
/* Largest DISCARD or WRITE_ZEROES range of one request. */
#define DSTOR_MAX_RANGE		(1U << 30)
/* All offsets and lengths are multiples of this. */
#define DSTOR_SECTOR		512U
#define DSTOR_WIRE_NAME_LEN	64
/* Most connections one import may open (one per hardware queue). */
#define DSTOR_MAX_QUEUES	16
/* Longest keepalive or dead-after an importer may announce, seconds. */
#define DSTOR_MAX_TIMER		3600

enum dstor_op {
	DSTOR_OP_HELLO = 1,
	DSTOR_OP_HELLO_REPLY,
	DSTOR_OP_READ,
	DSTOR_OP_WRITE,
	DSTOR_OP_FLUSH,
	DSTOR_OP_DISCARD,
	DSTOR_OP_WRITE_ZEROES,
	DSTOR_OP_REPLY,
	DSTOR_OP_PING,
	DSTOR_OP_PONG,
	DSTOR_OP_AUTH_CHALLENGE,
	DSTOR_OP_AUTH_RESPONSE,
	DSTOR_OP_TREE_INFO,	/* version 4 */
	DSTOR_OP_TREE_FP,	/* version 4 */
	__DSTOR_OP_MAX,
};

/* Request flags. */
#define DSTOR_RQ_FUA		(1U << 0)	/* durable before the reply */
#define DSTOR_RQ_PREFLUSH	(1U << 1)	/* flush the cache first */
#define DSTOR_RQ_NOUNMAP	(1U << 2)	/* WRITE_ZEROES: keep allocated */
#define DSTOR_RQ_ALL		(DSTOR_RQ_FUA | DSTOR_RQ_PREFLUSH | DSTOR_RQ_NOUNMAP)

/* Reply status: a wire enum, not errno, so both ends agree on every OS. */
enum dstor_status {
	DSTOR_ST_OK = 0,
	DSTOR_ST_IOERR,		/* the backing device failed the I/O */
	DSTOR_ST_INVAL,		/* malformed or out-of-range request */
	DSTOR_ST_ROFS,		/* write to a read-only export or session */
	DSTOR_ST_NOTSUPP,	/* operation not supported by the device */
	DSTOR_ST_NOSPC,		/* thin device out of space */
	DSTOR_ST_NOEXPORT,	/* HELLO_REPLY: no export of that name */
	DSTOR_ST_DENIED,	/* HELLO_REPLY: access denied */
	DSTOR_ST_VERSION,	/* HELLO_REPLY: no common protocol version */
	DSTOR_ST_BUSY,		/* HELLO_REPLY: try again later */
	DSTOR_ST_AUTH,		/* HELLO_REPLY: a key on one side only */
	DSTOR_ST_LIMIT_EXPORT,	/* HELLO_REPLY: the export's session limit */
	DSTOR_ST_LIMIT_HOST,	/* HELLO_REPLY: the per-host session limit */
	DSTOR_ST_STALE,		/* TREE_FP: not the published tree (v4) */
	__DSTOR_ST_MAX,
};

/* HELLO flags (importer to exporter). */
#define DSTOR_HELLO_READ_ONLY	(1U << 0)
#define DSTOR_HELLO_AUTH	(1U << 1)	/* the importer holds a key */
#define DSTOR_HELLO_ALL		(DSTOR_HELLO_READ_ONLY | DSTOR_HELLO_AUTH)

/* AEADs for sealed connections (the same numbers as enum dstor_cipher). */
#define DSTOR_WIRE_AES_GCM		1
#define DSTOR_WIRE_CHACHA20_POLY1305	2
#define DSTOR_WIRE_CIPHERS	((1U << DSTOR_WIRE_AES_GCM) | \
				 (1U << DSTOR_WIRE_CHACHA20_POLY1305))

/*
 * Sealed connections. After the handshake the stream is a sequence of
 * records:
 *	u32 n (big-endian), then n bytes: AEAD ciphertext followed by its tag
 * The 4 length bytes are the associated data; the nonce of the k-th record
 * in a direction is 4 zero bytes and k as a big-endian u64. A frame travels
 * as one header record (its 32-byte header, n = 48) followed, when it has a
 * payload, by payload records of DSTOR_SEAL_CHUNK plaintext bytes each, the
 * last one shorter, so a receiver always knows the exact n of the next
 * record and can open a payload record straight into the request's pages.
 */
#define DSTOR_NONCE_LEN		32	/* handshake nonces */
#define DSTOR_PROOF_LEN		32	/* HMAC-SHA256 */
#define DSTOR_REC_LEN_BYTES	4
#define DSTOR_TAG_LEN		16
#define DSTOR_SEAL_CHUNK	16384	/* payload bytes per record */
#define DSTOR_REC_HDR		(DSTOR_HDR_LEN + DSTOR_TAG_LEN)
#define DSTOR_REC_MIN		(1 + DSTOR_TAG_LEN)
#define DSTOR_REC_MAX		(DSTOR_SEAL_CHUNK + DSTOR_TAG_LEN)

/* Version 4's TREE_FP (below): its sizes, for the header's checks. */
#define DSTOR_TREE_HASH		32
#define DSTOR_TREE_GEN_LEN	8	/* TREE_FP's payload, its reply's start */
/* Nodes in one TREE_FP: its reply's payload fits one sealed record. */
#define DSTOR_TREE_FP_MAX	((DSTOR_SEAL_CHUNK - DSTOR_TREE_GEN_LEN) / DSTOR_TREE_HASH)

/* Labels of the handshake's HMAC-SHA256 proofs and key derivation. */
#define DSTOR_LABEL_SERVER	"dstor v2 server proof"
#define DSTOR_LABEL_CLIENT	"dstor v2 client proof"
#define DSTOR_LABEL_C2S		"dstor v2 c2s"
#define DSTOR_LABEL_S2C		"dstor v2 s2c"
#define DSTOR_LABEL_KEY_ID	"dstor key id"

/* HELLO_REPLY flags: what the export offers. */
#define DSTOR_EXP_READ_ONLY	(1U << 0)
#define DSTOR_EXP_FLUSH		(1U << 1)	/* volatile write cache */
#define DSTOR_EXP_FUA		(1U << 2)
#define DSTOR_EXP_DISCARD	(1U << 3)
#define DSTOR_EXP_WRITE_ZEROES	(1U << 4)
#define DSTOR_EXP_ROTATIONAL	(1U << 5)
#define DSTOR_EXP_ALL_V2	0x3fU
/*
 * Version 3: the exporter counts a session of queue 1 and up as heard from
 * while the same importer's queue 0 (same session id and address) is: the
 * importer pings on queue 0 only.
 */
#define DSTOR_EXP_KA_LEAD	(1U << 6)
#define DSTOR_EXP_ALL_V3	0x7fU
/* Version 4: the export answers TREE_INFO and TREE_FP (below). */
#define DSTOR_EXP_TREE		(1U << 7)
#define DSTOR_EXP_ALL		0xffU

struct dstor_hdr {
	u8 op;
	u8 flags;
	u16 status;
	u64 handle;
	u64 offset;
	u32 length;
	u32 payload;
};

struct dstor_hello {
	u16 version_min;
	u16 version_max;
	u32 flags;
	u64 session;		/* importer's id, the same across reconnects */
	u16 queue;		/* index of this connection */
	u16 nr_queues;
	u8 ciphers;		/* AUTH: mask of 1 << DSTOR_WIRE_* it accepts */
	char name[DSTOR_WIRE_NAME_LEN];	/* NUL-terminated export name */
	u8 nonce[DSTOR_NONCE_LEN];	/* AUTH: fresh random; else zero */
	u16 keepalive;		/* seconds: the importer pings when idle */
	u16 dead_after;		/* seconds: it gives up on a silent link */
};

struct dstor_challenge {
	u8 cipher;			/* DSTOR_WIRE_* chosen by the exporter */
	u8 nonce[DSTOR_NONCE_LEN];
	u8 proof[DSTOR_PROOF_LEN];
};

struct dstor_hello_reply {
	u16 version;
	u32 flags;		/* DSTOR_EXP_* */
	u64 size;		/* bytes */
	u32 logical_block_size;
	u32 physical_block_size;
	u32 max_io;		/* bytes, <= DSTOR_MAX_IO */
	u32 max_range;		/* bytes, <= DSTOR_MAX_RANGE */
	u8 uuid[DSTOR_WIRE_UUID_LEN];	/* the export's identity */
	u64 incarnation;	/* random per `export add`: a restart shows */
};

/* Decode errors: distinct negative codes so tests can tell them apart. */
enum dstor_proto_err {
	DSTOR_EPROTO_MAGIC = 1,
	DSTOR_EPROTO_OP,
	DSTOR_EPROTO_FLAGS,
	DSTOR_EPROTO_STATUS,
	DSTOR_EPROTO_PAYLOAD,
	DSTOR_EPROTO_ALIGN,
	DSTOR_EPROTO_LENGTH,
	DSTOR_EPROTO_NAME,
	DSTOR_EPROTO_VERSION,
	DSTOR_EPROTO_RESERVED,
	DSTOR_EPROTO_QUEUE,
	DSTOR_EPROTO_SIZE,
};

/* strnlen() is not in strict C99; the host tests build this header too. */
static inline size_t dstor_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

static inline void dstor_put16(u8 *p, u16 v)
{
	p[0] = (v >> 8) & 0xff;
	p[1] = v & 0xff;
}

static inline void dstor_put32(u8 *p, u32 v)
{
	dstor_put16(p, (v >> 16) & 0xffff);
	dstor_put16(p + 2, v & 0xffff);
}

static inline void dstor_put64(u8 *p, u64 v)
{
	dstor_put32(p, (v >> 32) & 0xffffffff);
	dstor_put32(p + 4, v & 0xffffffff);
}

static inline u16 dstor_get16(const u8 *p)
{
	return (u16)((u16)p[0] << 8 | p[1]);
}

static inline u32 dstor_get32(const u8 *p)
{
	return (u32)dstor_get16(p) << 16 | dstor_get16(p + 2);
}

static inline u64 dstor_get64(const u8 *p)
{
	return (u64)dstor_get32(p) << 32 | dstor_get32(p + 4);
}

static inline void dstor_hdr_encode(u8 *buf, const struct dstor_hdr *h)
{
	dstor_put32(buf, DSTOR_MAGIC);
	buf[4] = h->op;
	buf[5] = h->flags;
	dstor_put16(buf + 6, h->status);
	dstor_put64(buf + 8, h->handle);
	dstor_put64(buf + 16, h->offset);
	dstor_put32(buf + 24, h->length);
	dstor_put32(buf + 28, h->payload);
}

static inline int dstor_is_request(u8 op)
{
	return op == DSTOR_OP_READ || op == DSTOR_OP_WRITE ||
	       op == DSTOR_OP_FLUSH || op == DSTOR_OP_DISCARD ||
	       op == DSTOR_OP_WRITE_ZEROES;
}

static inline int dstor_is_tree_op(u8 op)
{
	return op == DSTOR_OP_TREE_INFO || op == DSTOR_OP_TREE_FP;
}

/*
 * Decode a header and check everything that can be checked without knowing
 * the device: magic, op, flags, status, alignment and the payload each op
 * must carry. Returns 0 or -DSTOR_EPROTO_*.
 */
static inline int dstor_hdr_decode(const u8 *buf, struct dstor_hdr *h)
{
	if (dstor_get32(buf) != DSTOR_MAGIC)
		return -DSTOR_EPROTO_MAGIC;
	h->op = buf[4];
	h->flags = buf[5];
	h->status = dstor_get16(buf + 6);
	h->handle = dstor_get64(buf + 8);
	h->offset = dstor_get64(buf + 16);
	h->length = dstor_get32(buf + 24);
	h->payload = dstor_get32(buf + 28);

	if (h->op == 0 || h->op >= __DSTOR_OP_MAX)
		return -DSTOR_EPROTO_OP;
	if (h->status >= __DSTOR_ST_MAX)
		return -DSTOR_EPROTO_STATUS;
	/* Data statuses in replies, hello statuses in hello replies only. */
	if (h->op == DSTOR_OP_REPLY ?
	    h->status >= DSTOR_ST_NOEXPORT && h->status != DSTOR_ST_STALE :
	    h->op == DSTOR_OP_HELLO_REPLY ?
	    h->status && h->status < DSTOR_ST_NOEXPORT : h->status)
		return -DSTOR_EPROTO_STATUS;
	if (h->flags & ~DSTOR_RQ_ALL)
		return -DSTOR_EPROTO_FLAGS;
	if (h->op != DSTOR_OP_WRITE &&
	    (h->flags & (DSTOR_RQ_FUA | DSTOR_RQ_PREFLUSH)))
		return -DSTOR_EPROTO_FLAGS;
	if (h->op != DSTOR_OP_WRITE_ZEROES && (h->flags & DSTOR_RQ_NOUNMAP))
		return -DSTOR_EPROTO_FLAGS;
	if ((h->op == DSTOR_OP_HELLO || h->op == DSTOR_OP_HELLO_REPLY) &&
	    (h->offset || h->length))
		return -DSTOR_EPROTO_LENGTH;
	if (h->op == DSTOR_OP_HELLO_REPLY && h->status == DSTOR_ST_STALE)
		return -DSTOR_EPROTO_STATUS;

	switch (h->op) {
	case DSTOR_OP_HELLO:
		/* A version 1 HELLO is read so it can be told VERSION. */
		if (h->payload != DSTOR_HELLO_LEN &&
		    h->payload != DSTOR_HELLO_V1_LEN)
			return -DSTOR_EPROTO_PAYLOAD;
		break;
	case DSTOR_OP_HELLO_REPLY:
		if (h->payload != (h->status ? 0 : DSTOR_HELLO_REPLY_LEN))
			return -DSTOR_EPROTO_PAYLOAD;
		break;
	case DSTOR_OP_AUTH_CHALLENGE:
	case DSTOR_OP_AUTH_RESPONSE:
		if (h->offset || h->length)
			return -DSTOR_EPROTO_LENGTH;
		if (h->payload != (h->op == DSTOR_OP_AUTH_CHALLENGE ?
				   DSTOR_CHALLENGE_LEN : DSTOR_RESPONSE_LEN))
			return -DSTOR_EPROTO_PAYLOAD;
		break;
	case DSTOR_OP_READ:
	case DSTOR_OP_WRITE:
		if (h->length == 0 || h->length > DSTOR_MAX_IO)
			return -DSTOR_EPROTO_LENGTH;
		if (h->payload != (h->op == DSTOR_OP_WRITE ? h->length : 0))
			return -DSTOR_EPROTO_PAYLOAD;
		break;
	case DSTOR_OP_DISCARD:
	case DSTOR_OP_WRITE_ZEROES:
		if (h->length == 0 || h->length > DSTOR_MAX_RANGE)
			return -DSTOR_EPROTO_LENGTH;
		if (h->payload)
			return -DSTOR_EPROTO_PAYLOAD;
		break;
	case DSTOR_OP_FLUSH:
		if (h->offset)
			return -DSTOR_EPROTO_ALIGN;
		if (h->length)
			return -DSTOR_EPROTO_LENGTH;
		if (h->payload)
			return -DSTOR_EPROTO_PAYLOAD;
		break;
	case DSTOR_OP_TREE_INFO:
		if (h->offset || h->length)
			return -DSTOR_EPROTO_LENGTH;
		if (h->payload)
			return -DSTOR_EPROTO_PAYLOAD;
		break;
	case DSTOR_OP_TREE_FP:
		/* offset and length name nodes: no alignment rule. */
		if (h->length == 0 || h->length > DSTOR_TREE_FP_MAX)
			return -DSTOR_EPROTO_LENGTH;
		if (h->payload != DSTOR_TREE_GEN_LEN)
			return -DSTOR_EPROTO_PAYLOAD;
		break;
	case DSTOR_OP_REPLY:
		/* A READ's reply carries its data; the importer checks it. */
		if (h->payload > DSTOR_MAX_IO)
			return -DSTOR_EPROTO_PAYLOAD;
		break;
	default: /* PING, PONG */
		if (h->payload || h->length || h->offset)
			return -DSTOR_EPROTO_PAYLOAD;
		break;
	}
	if (dstor_is_request(h->op) &&
	    (h->offset % DSTOR_SECTOR || h->length % DSTOR_SECTOR))
		return -DSTOR_EPROTO_ALIGN;
	return 0;
}

/*
 * A request fits a device of @size bytes: offset + length <= size, written
 * so that it cannot overflow.
 */
static inline int dstor_range_ok(u64 offset, u32 length, u64 size)
{
	return offset <= size && length <= size - offset;
}

/*
 * HELLO payload, 128 bytes: version_min 2, version_max 2, flags 4,
 * session 8, queue 2, nr_queues 2, ciphers 1, reserved 3, name 64,
 * nonce 32, keepalive 2, dead_after 2, reserved 4. The first 120 bytes
 * are version 1's whole HELLO, so either version reads the other's
 * version fields.
 */
static inline void dstor_hello_encode(u8 *buf, const struct dstor_hello *m)
{
	memset(buf, 0, DSTOR_HELLO_LEN);
	dstor_put16(buf, m->version_min);
	dstor_put16(buf + 2, m->version_max);
	dstor_put32(buf + 4, m->flags);
	dstor_put64(buf + 8, m->session);
	dstor_put16(buf + 16, m->queue);
	dstor_put16(buf + 18, m->nr_queues);
	buf[20] = m->ciphers;
	memcpy(buf + 24, m->name, dstor_strnlen(m->name, DSTOR_WIRE_NAME_LEN - 1));
	memcpy(buf + 88, m->nonce, DSTOR_NONCE_LEN);
	dstor_put16(buf + 120, m->keepalive);
	dstor_put16(buf + 122, m->dead_after);
}

/* The version range of a HELLO of either length, for a VERSION reply. */
static inline void dstor_hello_versions(const u8 *buf, u16 *min, u16 *max)
{
	*min = dstor_get16(buf);
	*max = dstor_get16(buf + 2);
}

static inline int dstor_hello_decode(const u8 *buf, struct dstor_hello *m)
{
	size_t n;

	m->version_min = dstor_get16(buf);
	m->version_max = dstor_get16(buf + 2);
	m->flags = dstor_get32(buf + 4);
	m->session = dstor_get64(buf + 8);
	m->queue = dstor_get16(buf + 16);
	m->nr_queues = dstor_get16(buf + 18);
	m->ciphers = buf[20];
	if (buf[21] || buf[22] || buf[23])
		return -DSTOR_EPROTO_RESERVED;
	if (m->version_min == 0 || m->version_min > m->version_max)
		return -DSTOR_EPROTO_VERSION;
	if (m->flags & ~DSTOR_HELLO_ALL)
		return -DSTOR_EPROTO_FLAGS;
	if (m->nr_queues == 0 || m->nr_queues > DSTOR_MAX_QUEUES ||
	    m->queue >= m->nr_queues)
		return -DSTOR_EPROTO_QUEUE;
	/* The name must be NUL-terminated and NUL-padded. */
	n = dstor_strnlen((const char *)buf + 24, DSTOR_WIRE_NAME_LEN);
	if (n == 0 || n == DSTOR_WIRE_NAME_LEN)
		return -DSTOR_EPROTO_NAME;
	for (size_t i = n; i < DSTOR_WIRE_NAME_LEN; i++)
		if (buf[24 + i])
			return -DSTOR_EPROTO_NAME;
	memcpy(m->name, buf + 24, DSTOR_WIRE_NAME_LEN);
	memcpy(m->nonce, buf + 88, DSTOR_NONCE_LEN);
	m->keepalive = dstor_get16(buf + 120);
	m->dead_after = dstor_get16(buf + 122);
	if (buf[124] || buf[125] || buf[126] || buf[127])
		return -DSTOR_EPROTO_RESERVED;
	/* Either both timers or neither; the importer's own rules hold. */
	if (!m->keepalive != !m->dead_after ||
	    m->dead_after > DSTOR_MAX_TIMER ||
	    (m->keepalive && m->dead_after <= m->keepalive))
		return -DSTOR_EPROTO_LENGTH;
	/* Ciphers go with a key and only with one. */
	if (!(m->flags & DSTOR_HELLO_AUTH) != !m->ciphers ||
	    (m->ciphers & ~DSTOR_WIRE_CIPHERS))
		return -DSTOR_EPROTO_FLAGS;
	return 0;
}

/* AUTH_CHALLENGE payload, 68 bytes: cipher 1, reserved 3, nonce, proof. */
static inline void dstor_challenge_encode(u8 *buf,
					  const struct dstor_challenge *m)
{
	memset(buf, 0, DSTOR_CHALLENGE_LEN);
	buf[0] = m->cipher;
	memcpy(buf + 4, m->nonce, DSTOR_NONCE_LEN);
	memcpy(buf + 36, m->proof, DSTOR_PROOF_LEN);
}

static inline int dstor_challenge_decode(const u8 *buf, u8 ciphers_offered,
					 struct dstor_challenge *m)
{
	m->cipher = buf[0];
	if (buf[1] || buf[2] || buf[3])
		return -DSTOR_EPROTO_RESERVED;
	if (m->cipher >= 8 || !(ciphers_offered & (1U << m->cipher)))
		return -DSTOR_EPROTO_FLAGS;
	memcpy(m->nonce, buf + 4, DSTOR_NONCE_LEN);
	memcpy(m->proof, buf + 36, DSTOR_PROOF_LEN);
	return 0;
}

/*
 * HELLO_REPLY payload, 56 bytes: version 2, reserved 2, flags 4, size 8,
 * logical and physical block size 4 + 4, max_io 4, max_range 4, uuid 16,
 * incarnation 8.
 */
static inline void dstor_hello_reply_encode(u8 *buf,
					    const struct dstor_hello_reply *m)
{
	memset(buf, 0, DSTOR_HELLO_REPLY_LEN);
	dstor_put16(buf, m->version);
	dstor_put32(buf + 4, m->flags);
	dstor_put64(buf + 8, m->size);
	dstor_put32(buf + 16, m->logical_block_size);
	dstor_put32(buf + 20, m->physical_block_size);
	dstor_put32(buf + 24, m->max_io);
	dstor_put32(buf + 28, m->max_range);
	memcpy(buf + 32, m->uuid, DSTOR_WIRE_UUID_LEN);
	dstor_put64(buf + 48, m->incarnation);
}

static inline int dstor_block_size_ok(u32 bs)
{
	return bs >= 512 && bs <= 4096 && !(bs & (bs - 1));
}

static inline int dstor_hello_reply_decode(const u8 *buf,
					   struct dstor_hello_reply *m)
{
	m->version = dstor_get16(buf);
	m->flags = dstor_get32(buf + 4);
	m->size = dstor_get64(buf + 8);
	m->logical_block_size = dstor_get32(buf + 16);
	m->physical_block_size = dstor_get32(buf + 20);
	m->max_io = dstor_get32(buf + 24);
	m->max_range = dstor_get32(buf + 28);
	memcpy(m->uuid, buf + 32, DSTOR_WIRE_UUID_LEN);
	m->incarnation = dstor_get64(buf + 48);
	if (dstor_get16(buf + 2))
		return -DSTOR_EPROTO_RESERVED;
	if (m->version < DSTOR_PROTO_VERSION_MIN ||
	    m->version > DSTOR_PROTO_VERSION)
		return -DSTOR_EPROTO_VERSION;
	if (m->flags & ~(m->version == 2 ? DSTOR_EXP_ALL_V2 :
			 m->version == 3 ? DSTOR_EXP_ALL_V3 : DSTOR_EXP_ALL))
		return -DSTOR_EPROTO_FLAGS;
	if (!dstor_block_size_ok(m->logical_block_size) ||
	    m->physical_block_size < m->logical_block_size ||
	    m->physical_block_size > 65536 ||
	    (m->physical_block_size & (m->physical_block_size - 1)))
		return -DSTOR_EPROTO_LENGTH;
	if (m->size == 0)
		return -DSTOR_EPROTO_SIZE;
	if (m->size % m->logical_block_size)
		return -DSTOR_EPROTO_ALIGN;
	if (m->max_io < 4096 || m->max_io > DSTOR_MAX_IO ||
	    m->max_io % m->logical_block_size)
		return -DSTOR_EPROTO_LENGTH;
	if (m->max_range > DSTOR_MAX_RANGE ||
	    m->max_range % m->logical_block_size)
		return -DSTOR_EPROTO_LENGTH;
	if (!m->max_range &&
	    (m->flags & (DSTOR_EXP_DISCARD | DSTOR_EXP_WRITE_ZEROES)))
		return -DSTOR_EPROTO_LENGTH;
	return 0;
}

/*
 * Handles: the importer packs a per-tag generation (so a late reply to an
 * earlier use of the same tag is recognised as stale) with the blk-mq unique
 * tag (hardware queue << 16 | tag).
 */
static inline u64 dstor_handle_make(u32 gen, u32 unique_tag)
{
	return (u64)gen << 32 | unique_tag;
}

static inline u32 dstor_handle_gen(u64 handle)
{
	return (u32)(handle >> 32);
}

static inline u32 dstor_handle_tag(u64 handle)
{
	return (u32)handle;
}

static inline int dstor_rec_len_ok(u32 n)
{
	return n >= DSTOR_REC_MIN && n <= DSTOR_REC_MAX;
}

/*
 * The length n of the next sealed record: a header record when no payload
 * is left of the current frame, else the next payload chunk.
 */
static inline u32 dstor_rec_next_len(u32 payload_left)
{
	if (!payload_left)
		return DSTOR_REC_HDR;
	return (payload_left < DSTOR_SEAL_CHUNK ? payload_left :
		DSTOR_SEAL_CHUNK) + DSTOR_TAG_LEN;
}

static inline void dstor_nonce(u8 *iv, u64 counter)
{
	iv[0] = 0;
	iv[1] = 0;
	iv[2] = 0;
	iv[3] = 0;
	dstor_put64(iv + 4, counter);
}

/*
 * Version 4: trees (Documentation/reconciliation.md). An exporter answers
 * these ops only on a session of version 4 or later whose HELLO_REPLY had
 * DSTOR_EXP_TREE (NOTSUPP without it, a protocol error before version 4).
 *
 * TREE_INFO: a request with no offset, length or payload; its reply's
 * payload is DSTOR_TREE_INFO_LEN bytes (struct dstor_tree_info).
 * TREE_FP: offset = level << 56 | first node (not a byte range), length =
 * count of nodes (1 to DSTOR_TREE_FP_MAX), payload = the generation asked
 * about (8 bytes). Its reply's payload is that generation and count node
 * hashes of DSTOR_TREE_HASH bytes; INVAL when the nodes are not all on one
 * existing level (dstor_tree_fp_check), STALE when the generation is not
 * the published one. Node (L, j) covers leaves [j << L, min(n, (j + 1) << L));
 * level 0 is the leaves.
 */
#define DSTOR_PROTO_VERSION_TREE	4
#define DSTOR_TREE_INFO_LEN	56
#define DSTOR_TREE_LEAF_V3	3	/* the multicast tree's leaves */
#define DSTOR_PROTO_VERSION_PENDING	5
#define DSTOR_TREE_BUILDING	(1U << 0)	/* TREE_INFO: not built yet */
/*
 * TREE_INFO, version 5: writes completed that the published tree does not
 * hold yet; a later generation will (a live tree's next pass).
 */
#define DSTOR_TREE_PENDING	(1U << 1)
#define DSTOR_TREE_BUILT_MAX	999	/* per mille, while building */
/* The multicast tree's block sizes (DSTOR_MC_MIN_BLOCK, _MAX_BLOCK). */
#define DSTOR_TREE_BS_MIN	4096U
#define DSTOR_TREE_BS_MAX	(1U << 20)
#define DSTOR_TREE_MAX_LEAVES	(1ULL << 40)
#define DSTOR_TREE_LEVEL_SHIFT	56
#define DSTOR_TREE_FIRST_MASK	((1ULL << DSTOR_TREE_LEVEL_SHIFT) - 1)

struct dstor_tree_info {
	u64 size;		/* bytes the tree covers: the export's size */
	u32 block_size;		/* bytes a leaf covers; the last may be short */
	u8 leaf;		/* DSTOR_TREE_LEAF_* */
	u8 flags;		/* DSTOR_TREE_BUILDING, _PENDING */
	u16 built;		/* BUILDING: per mille of the leaves hashed */
	u64 generation;		/* random at a build, +1 at each publication */
	u8 root[DSTOR_TREE_HASH];	/* zeros while BUILDING */
};

/* Leaves of a tree over @size bytes in blocks of @bs (a power of two). */
static inline u64 dstor_tree_leaves(u64 size, u32 bs)
{
	return size / bs + (size % bs != 0);
}

/* The top level of a tree of @n leaves: the smallest T with 2^T >= n. */
static inline u32 dstor_tree_top(u64 n)
{
	u32 t = 0;

	while (t < 63 && (1ULL << t) < n)
		t++;
	return t;
}

/* Nodes at @level (at most 63) of a tree of @n leaves: ceil(n / 2^level). */
static inline u64 dstor_tree_nodes(u64 n, u32 level)
{
	return (n >> level) + ((n & ((1ULL << level) - 1)) != 0);
}

static inline u64 dstor_tree_fp_offset(u32 level, u64 first)
{
	return (u64)level << DSTOR_TREE_LEVEL_SHIFT |
	       (first & DSTOR_TREE_FIRST_MASK);
}

/*
 * A TREE_FP request (its header's offset and length) fits a tree of @n
 * leaves: a level that exists, 1 to DSTOR_TREE_FP_MAX nodes, all of them
 * on that level. The exporter answers INVAL when it does not.
 */
static inline int dstor_tree_fp_check(u64 offset, u32 count, u64 n)
{
	u32 level = offset >> DSTOR_TREE_LEVEL_SHIFT;
	u64 first = offset & DSTOR_TREE_FIRST_MASK, nodes;

	if (!n || n > DSTOR_TREE_MAX_LEAVES || level > dstor_tree_top(n))
		return -DSTOR_EPROTO_LENGTH;
	if (!count || count > DSTOR_TREE_FP_MAX)
		return -DSTOR_EPROTO_LENGTH;
	nodes = dstor_tree_nodes(n, level);
	if (first >= nodes || count > nodes - first)
		return -DSTOR_EPROTO_LENGTH;
	return 0;
}

/* Payload bytes of the reply to a TREE_FP of @count nodes (a checked one). */
static inline u32 dstor_tree_fp_reply_len(u32 count)
{
	return DSTOR_TREE_GEN_LEN + count * DSTOR_TREE_HASH;
}

/*
 * The nodes min(@levels, @level) levels below node (@level, @j) of a tree
 * of @n leaves: *first and the return value, their count (0 when the node
 * does not exist).
 */
static inline u32 dstor_tree_children(u64 n, u32 level, u64 j, u32 levels,
				      u64 *first)
{
	u64 nodes;

	if (levels > level)
		levels = level;
	nodes = dstor_tree_nodes(n, level - levels);
	*first = j << levels;
	if (j > (DSTOR_TREE_FIRST_MASK >> levels) || *first >= nodes)
		return 0;
	return nodes - *first < (1ULL << levels) ? (u32)(nodes - *first) :
	       1U << levels;
}

/*
 * TREE_INFO payload, 56 bytes: size 8, block_size 4, leaf 1, flags 1,
 * built 2, generation 8, root 32.
 */
static inline void dstor_tree_info_encode(u8 *buf,
					  const struct dstor_tree_info *m)
{
	memset(buf, 0, DSTOR_TREE_INFO_LEN);
	dstor_put64(buf, m->size);
	dstor_put32(buf + 8, m->block_size);
	buf[12] = m->leaf;
	buf[13] = m->flags;
	dstor_put16(buf + 14, m->built);
	dstor_put64(buf + 16, m->generation);
	memcpy(buf + 24, m->root, DSTOR_TREE_HASH);
}

static inline int dstor_tree_info_decode(const u8 *buf,
					 struct dstor_tree_info *m)
{
	m->size = dstor_get64(buf);
	m->block_size = dstor_get32(buf + 8);
	m->leaf = buf[12];
	m->flags = buf[13];
	m->built = dstor_get16(buf + 14);
	m->generation = dstor_get64(buf + 16);
	memcpy(m->root, buf + 24, DSTOR_TREE_HASH);
	if (m->flags & ~(DSTOR_TREE_BUILDING | DSTOR_TREE_PENDING))
		return -DSTOR_EPROTO_FLAGS;
	if (m->flags & DSTOR_TREE_BUILDING) {
		int i;

		if (m->built > DSTOR_TREE_BUILT_MAX ||
		    (m->flags & DSTOR_TREE_PENDING))
			return -DSTOR_EPROTO_RESERVED;
		for (i = 0; i < DSTOR_TREE_HASH; i++)
			if (m->root[i])
				return -DSTOR_EPROTO_RESERVED;
	} else if (m->built) {
		return -DSTOR_EPROTO_RESERVED;
	}
	if (m->leaf != DSTOR_TREE_LEAF_V3)
		return -DSTOR_EPROTO_VERSION;
	if (m->block_size < DSTOR_TREE_BS_MIN ||
	    m->block_size > DSTOR_TREE_BS_MAX ||
	    (m->block_size & (m->block_size - 1)))
		return -DSTOR_EPROTO_LENGTH;
	if (!m->size ||
	    dstor_tree_leaves(m->size, m->block_size) > DSTOR_TREE_MAX_LEAVES)
		return -DSTOR_EPROTO_SIZE;
	return 0;
}

#endif /* _DSTOR_PROTO_H */
