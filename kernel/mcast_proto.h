/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dstor multicast packet format: encode and decode, pure C (like proto.h,
 * also compiled into the host unit tests and fuzzers).
 * Documentation/multicast.md is the specification.
 *
 * Every packet is one UDP datagram to [group]:DSTOR_MC_PORT, hop limit 1:
 *
 *	off len field
 *	  0   4 magic	DSTOR_MC_MAGIC ("DSTM")
 *	  4   1 version	DSTOR_MC_VERSION
 *	  5   1 type	enum dstor_mc_type
 *	  6   1 flags	DSTOR_MC_F_SEALED when the payload is AEAD-sealed
 *	  7   1 cipher	DSTOR_WIRE_* of the AEAD when sealed, else 0
 *	  8   8 epoch	the tree's epoch (random per tree build)
 *	 16   8 index	ANNOUNCE: 0; TREE: first leaf; DATA: block number
 *	 24   4 offset	DATA: byte offset in the block (multiple of
 *			DSTOR_MC_CHUNK); else 0
 *	 28   2 len	payload bytes, 1..DSTOR_MC_CHUNK
 *	 30   2 reserved, 0
 *	 32 len payload (ciphertext when sealed)
 *	  +  16 tag	sealed only: the AEAD tag (header = associated data)
 *
 * An unsealed packet carries no tag of its own: without a key anybody could
 * compute one, UDP's checksum already catches damage, and what counts is
 * checked end to end (every block against its leaf hash, the leaves
 * against the root). Version 1 had a BLAKE2s-128 tag there; it cost a hash
 * of every byte on both sides and stopped nothing. Version 3 changed no
 * field: its leaves no longer hash the block's index (merkle.c), so a
 * version 2 peer would compute other leaves.
 *
 * The exporter sends a run of packets to one group as one UDP GSO datagram
 * where the link allows (Documentation/multicast.md); on the wire they are
 * the same packets.
 *
 * ANNOUNCE payload (DSTOR_MC_ANNOUNCE_LEN bytes): size u64, block size
 * u32, chunk u32, blocks u64, root[32], reserved[8] = 64 bytes. A sealed
 * ANNOUNCE uses the packet key of root 0 (the receiver learns the root
 * from it); TREE and DATA packets the one of the announced root.
 * TREE payload: up to DSTOR_MC_CHUNK / 32 leaf hashes from leaf `index`.
 * DATA payload: bytes [offset, offset + len) of block `index`.
 */
#ifndef _DSTOR_MCAST_PROTO_H
#define _DSTOR_MCAST_PROTO_H

#include "proto.h"

#define DSTOR_MC_MAGIC		0x4453544dU	/* "DSTM" */
#define DSTOR_MC_VERSION	3
#define DSTOR_MC_PORT		7421
#define DSTOR_MC_HDR_LEN	32
#define DSTOR_MC_TAG_LEN	16
#define DSTOR_MC_CHUNK		1024U		/* payload bytes per packet */
#define DSTOR_MC_PKT_MAX	(DSTOR_MC_HDR_LEN + DSTOR_MC_CHUNK + DSTOR_MC_TAG_LEN)
#define DSTOR_MC_ANNOUNCE_LEN	64
#define DSTOR_MC_HASH		DSTOR_TREE_HASH	/* BLAKE2s-256 */
#define DSTOR_MC_LEAVES_PER_PKT	(DSTOR_MC_CHUNK / DSTOR_MC_HASH)

#define DSTOR_MC_F_SEALED	(1U << 0)

/* The bytes after the payload: the AEAD tag when sealed, else none. */
static inline unsigned int dstor_mc_tag_len(u8 flags)
{
	return flags & DSTOR_MC_F_SEALED ? DSTOR_MC_TAG_LEN : 0;
}

enum dstor_mc_type {
	DSTOR_MC_ANNOUNCE = 1,	/* on the announce group: geometry and root */
	DSTOR_MC_TREE,		/* on the tree group: leaf hashes */
	DSTOR_MC_DATA,		/* on a channel group: a piece of a block */
	__DSTOR_MC_TYPE_MAX,
};

/*
 * Group kinds (the "kind" input of the group derivation, see merkle.c):
 * the announce group depends on the export's name only, the others also on
 * the epoch and root, so a join for an old tree never matches new data.
 */
enum dstor_mc_kind {
	DSTOR_MC_KIND_ANNOUNCE,
	DSTOR_MC_KIND_TREE,
	DSTOR_MC_KIND_CHANNEL,
};

/*
 * A channel is an aligned range of leaves: node (level, j) covers leaves
 * [j << level, (j + 1) << level) (clipped to the export). Its number in
 * the group derivation is level << 56 | j.
 */
#define DSTOR_MC_LEVEL_SHIFT	56
static inline u64 dstor_mc_node(unsigned int level, u64 j)
{
	return (u64)level << DSTOR_MC_LEVEL_SHIFT | j;
}

struct dstor_mc_hdr {
	u8 type;
	u8 flags;
	u8 cipher;
	u64 epoch;
	u64 index;
	u32 offset;
	u16 len;
};

struct dstor_mc_announce {
	u64 size;
	u32 block_size;
	u32 chunk;
	u64 blocks;
	u8 root[DSTOR_MC_HASH];
};

enum {
	DSTOR_EMC_SHORT = 1,	/* shorter than header + len + tag */
	DSTOR_EMC_MAGIC,
	DSTOR_EMC_VERSION,
	DSTOR_EMC_TYPE,
	DSTOR_EMC_FLAGS,
	DSTOR_EMC_RESERVED,
	DSTOR_EMC_LEN,
	DSTOR_EMC_OFFSET,
	DSTOR_EMC_GEOMETRY,	/* announce values out of range */
};

static inline void dstor_mc_hdr_encode(u8 *buf, const struct dstor_mc_hdr *h)
{
	dstor_put32(buf, DSTOR_MC_MAGIC);
	buf[4] = DSTOR_MC_VERSION;
	buf[5] = h->type;
	buf[6] = h->flags;
	buf[7] = h->cipher;
	dstor_put64(buf + 8, h->epoch);
	dstor_put64(buf + 16, h->index);
	dstor_put32(buf + 24, h->offset);
	dstor_put16(buf + 28, h->len);
	dstor_put16(buf + 30, 0);
}

/*
 * Decode and check a received datagram of @n bytes: its header must be
 * well formed and the datagram exactly header + len + tag long. Checks
 * against the export's geometry (block count, block size) are the
 * caller's. Returns 0 or -DSTOR_EMC_*.
 */
static inline int dstor_mc_hdr_decode(const u8 *buf, size_t n,
				      struct dstor_mc_hdr *h)
{
	if (n < DSTOR_MC_HDR_LEN)
		return -DSTOR_EMC_SHORT;
	if (dstor_get32(buf) != DSTOR_MC_MAGIC)
		return -DSTOR_EMC_MAGIC;
	if (buf[4] != DSTOR_MC_VERSION)
		return -DSTOR_EMC_VERSION;
	h->type = buf[5];
	h->flags = buf[6];
	h->cipher = buf[7];
	h->epoch = dstor_get64(buf + 8);
	h->index = dstor_get64(buf + 16);
	h->offset = dstor_get32(buf + 24);
	h->len = dstor_get16(buf + 28);
	if (h->type < DSTOR_MC_ANNOUNCE || h->type >= __DSTOR_MC_TYPE_MAX)
		return -DSTOR_EMC_TYPE;
	if (h->flags & ~DSTOR_MC_F_SEALED)
		return -DSTOR_EMC_FLAGS;
	if (dstor_get16(buf + 30))
		return -DSTOR_EMC_RESERVED;
	if ((h->flags & DSTOR_MC_F_SEALED) ?
	    h->cipher != DSTOR_WIRE_AES_GCM &&
	    h->cipher != DSTOR_WIRE_CHACHA20_POLY1305 : h->cipher)
		return -DSTOR_EMC_FLAGS;
	if (!h->len || h->len > DSTOR_MC_CHUNK ||
	    n != DSTOR_MC_HDR_LEN + (size_t)h->len + dstor_mc_tag_len(h->flags))
		return -DSTOR_EMC_LEN;
	switch (h->type) {
	case DSTOR_MC_ANNOUNCE:
		if (h->len != DSTOR_MC_ANNOUNCE_LEN || h->index || h->offset)
			return -DSTOR_EMC_LEN;
		break;
	case DSTOR_MC_TREE:
		if (h->len % DSTOR_MC_HASH || h->offset ||
		    h->index % DSTOR_MC_LEAVES_PER_PKT)
			return -DSTOR_EMC_OFFSET;
		break;
	case DSTOR_MC_DATA:
		if (h->offset % DSTOR_MC_CHUNK)
			return -DSTOR_EMC_OFFSET;
		break;
	}
	return 0;
}

static inline void dstor_mc_announce_encode(u8 *buf,
					    const struct dstor_mc_announce *a)
{
	memset(buf, 0, DSTOR_MC_ANNOUNCE_LEN);
	dstor_put64(buf, a->size);
	dstor_put32(buf + 8, a->block_size);
	dstor_put32(buf + 12, a->chunk);
	dstor_put64(buf + 16, a->blocks);
	memcpy(buf + 24, a->root, DSTOR_MC_HASH);
}

/* Power of two in [min_block, max_block], blocks = ceil(size / bs). */
static inline int dstor_mc_announce_decode(const u8 *buf,
					   struct dstor_mc_announce *a,
					   u32 min_block, u32 max_block,
					   u64 max_blocks)
{
	unsigned int i;

	a->size = dstor_get64(buf);
	a->block_size = dstor_get32(buf + 8);
	a->chunk = dstor_get32(buf + 12);
	a->blocks = dstor_get64(buf + 16);
	memcpy(a->root, buf + 24, DSTOR_MC_HASH);
	for (i = 56; i < DSTOR_MC_ANNOUNCE_LEN; i++)
		if (buf[i])
			return -DSTOR_EMC_RESERVED;
	if (a->chunk != DSTOR_MC_CHUNK || a->block_size < min_block ||
	    a->block_size > max_block ||
	    (a->block_size & (a->block_size - 1)) || !a->size ||
	    !a->blocks || a->blocks > max_blocks ||
	    a->blocks != (a->size - 1) / a->block_size + 1)
		return -DSTOR_EMC_GEOMETRY;
	return 0;
}

/* Bytes of block @index of an export of @size bytes. */
static inline u32 dstor_mc_block_len(u64 size, u32 block_size, u64 index)
{
	u64 start = index * block_size;

	return size - start < block_size ? (u32)(size - start) : block_size;
}

#endif /* _DSTOR_MCAST_PROTO_H */
