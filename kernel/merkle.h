/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The merkle tree of a multicast export, its channel groups and the
 * protection of multicast packets (merkle.c).
 */
#ifndef _DSTOR_MERKLE_H
#define _DSTOR_MERKLE_H

#include <linux/in6.h>
#include <linux/types.h>

struct crypto_aead;
struct dstor_mc_hdr;
struct page;

/*
 * What protects one export's multicast packets: the tree key (always) and,
 * when the export has a key, an AEAD keyed for this epoch and root.
 */
struct dstor_mc_ctx {
	struct crypto_aead *tfm;	/* NULL: unsealed, no tag */
	u8 cipher;			/* DSTOR_WIRE_* of tfm */
};

void dstor_mc_tree_key(const u8 *key, const char *name, u8 *kt);
void dstor_mc_zero_leaf(const u8 *kt, u32 len, u8 *out);
void dstor_mc_leaf_pages(const u8 *kt, const u8 *zero, u32 zero_len,
			 struct page **pages, u32 len, u8 *out);
void dstor_mc_node_hash(const u8 *kt, const u8 *left, const u8 *right,
			u8 *out);
void dstor_mc_hash_up(const u8 *kt, u8 *nodes, u64 count, u32 levels);
void dstor_mc_root_of(const u8 *kt, const u8 *top, u64 size, u32 block_size,
		      u8 *root);
int dstor_mc_root(const u8 *kt, const u8 *leaves, u64 n, u64 size,
		  u32 block_size, u8 *root);
void dstor_mc_group(const char *name, u8 kind, u64 epoch, const u8 *root,
		    u64 node, struct in6_addr *group);
int dstor_mc_ctx_init(struct dstor_mc_ctx *c, const u8 *key, u8 cipher,
		      u64 epoch, const u8 *root);
void dstor_mc_ctx_free(struct dstor_mc_ctx *c);
int dstor_mc_protect(const struct dstor_mc_ctx *c, u8 *pkt,
		     const struct dstor_mc_hdr *h);
int dstor_mc_verify(const struct dstor_mc_ctx *c, u8 *pkt,
		    const struct dstor_mc_hdr *h);

#endif /* _DSTOR_MERKLE_H */
