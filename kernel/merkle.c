// SPDX-License-Identifier: GPL-2.0
/*
 * Multicast serving: the merkle tree, the group addresses and the packet
 * protection, shared by the sender (mcast.c) and the receiver (sync*.c).
 * Documentation/multicast.md is the specification; every hash is
 * BLAKE2s-256 from lib/crypto, and every input starts with a label or a
 * domain byte so that no two kinds of hash can collide.
 *
 *	tree key  kt   = BLAKE2s(key = export key or none,
 *			         "dstor v1 mcast tree" || name)
 *	leaf i         = BLAKE2s(key = kt, 0x00 || block i)
 *	node           = BLAKE2s(key = kt, 0x01 || left || right)
 *	root           = BLAKE2s(key = kt, 0x02 || be64(size) ||
 *			         be32(block size) || top)
 *
 * A leaf does not name its block: the tree's shape puts it in its place,
 * and every block of zeros (a new disk, a sparse or discarded range) then
 * has the same leaf, which both ends hash once and find by a scan. The
 * tree is built level by level from the leaves; an odd node at the end
 * of a level moves up unchanged. A group address is ff12:: (link-local
 * scope, transient) followed by 14 bytes of
 *
 *	BLAKE2s("dstor v1 mcast group" || name || 0x00 || kind ||
 *		be64(epoch) || root || be64(node))
 *
 * and the packet key of a keyed export is
 *
 *	BLAKE2s(key = export key, "dstor v1 mcast seal" || be64(epoch) || root)
 *
 * with root all zeros for ANNOUNCE packets (which carry the root).
 */
#include <crypto/aead.h>
#include <crypto/algapi.h>
#include <crypto/blake2s.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "crypto.h"
#include "merkle.h"
#include "mcast_proto.h"

#define LABEL_TREE	"dstor v1 mcast tree"
#define LABEL_GROUP	"dstor v1 mcast group"
#define LABEL_SEAL	"dstor v1 mcast seal"

enum { DOMAIN_LEAF, DOMAIN_NODE, DOMAIN_ROOT };

void dstor_mc_tree_key(const u8 *key, const char *name, u8 *kt)
{
	struct blake2s_state st;

	blake2s_init_key(&st, BLAKE2S_HASH_SIZE, key, key ? DSTOR_KEY_LEN : 0);
	blake2s_update(&st, LABEL_TREE, strlen(LABEL_TREE));
	blake2s_update(&st, name, strlen(name));
	blake2s_final(&st, kt);
}

static void leaf_init(struct blake2s_state *st, const u8 *kt)
{
	u8 d = DOMAIN_LEAF;

	blake2s_init_key(st, BLAKE2S_HASH_SIZE, kt, DSTOR_MC_HASH);
	blake2s_update(st, &d, 1);
}

/* The leaf of a block of @len zero bytes. */
void dstor_mc_zero_leaf(const u8 *kt, u32 len, u8 *out)
{
	struct blake2s_state st;
	u32 n;

	leaf_init(&st, kt);
	for (; len; len -= n) {
		n = min_t(u32, len, PAGE_SIZE);
		blake2s_update(&st, page_address(ZERO_PAGE(0)), n);
	}
	blake2s_final(&st, out);
}

static bool pages_zero(struct page **pages, u32 len)
{
	unsigned int i;
	void *p, *nz;
	u32 n;

	for (i = 0; len; i++, len -= n) {
		n = min_t(u32, len, PAGE_SIZE);
		p = kmap_local_page(pages[i]);
		nz = memchr_inv(p, 0, n);
		kunmap_local(p);
		if (nz)
			return false;
	}
	return true;
}

/*
 * The leaf of the @len bytes in @pages (one page after the other). @zero
 * is dstor_mc_zero_leaf() of @zero_len bytes: a block of that length that
 * is all zeros costs a scan, not a hash.
 */
void dstor_mc_leaf_pages(const u8 *kt, const u8 *zero, u32 zero_len,
			 struct page **pages, u32 len, u8 *out)
{
	struct blake2s_state st;
	unsigned int i;
	void *p;
	u32 n;

	if (len == zero_len && pages_zero(pages, len)) {
		memcpy(out, zero, DSTOR_MC_HASH);
		return;
	}
	leaf_init(&st, kt);
	for (i = 0; len; i++, len -= n) {
		n = min_t(u32, len, PAGE_SIZE);
		p = kmap_local_page(pages[i]);
		blake2s_update(&st, p, n);
		kunmap_local(p);
	}
	blake2s_final(&st, out);
}

void dstor_mc_node_hash(const u8 *kt, const u8 *left, const u8 *right,
			u8 *out)
{
	struct blake2s_state st;
	u8 d = DOMAIN_NODE;

	blake2s_init_key(&st, BLAKE2S_HASH_SIZE, kt, DSTOR_MC_HASH);
	blake2s_update(&st, &d, 1);
	blake2s_update(&st, left, DSTOR_MC_HASH);
	blake2s_update(&st, right, DSTOR_MC_HASH);
	blake2s_final(&st, out);
}

/* The root of a tree whose top node is @top. */
void dstor_mc_root_of(const u8 *kt, const u8 *top, u64 size, u32 block_size,
		      u8 *root)
{
	struct blake2s_state st;
	u8 pre[13];

	pre[0] = DOMAIN_ROOT;
	dstor_put64(pre + 1, size);
	dstor_put32(pre + 9, block_size);
	blake2s_init_key(&st, BLAKE2S_HASH_SIZE, kt, DSTOR_MC_HASH);
	blake2s_update(&st, pre, sizeof(pre));
	blake2s_update(&st, top, DSTOR_MC_HASH);
	blake2s_final(&st, root);
}

/*
 * @count nodes of one level, hashed up @levels levels in place (an odd
 * node at the end moves up unchanged): the node above them is then at
 * @nodes. Aligned to 2^@levels nodes and either that many or the end of
 * their level, they make the node above them in the tree; a receiver
 * checks a TREE_FP reply so (sync_tcp.c).
 */
void dstor_mc_hash_up(const u8 *kt, u8 *nodes, u64 count, u32 levels)
{
	u64 i;

	for (; levels && count > 1; levels--) {
		for (i = 0; i + 1 < count; i += 2)
			dstor_mc_node_hash(kt, nodes + i * DSTOR_MC_HASH,
					   nodes + (i + 1) * DSTOR_MC_HASH,
					   nodes + i / 2 * DSTOR_MC_HASH);
		if (count & 1)
			memmove(nodes + count / 2 * DSTOR_MC_HASH,
				nodes + (count - 1) * DSTOR_MC_HASH,
				DSTOR_MC_HASH);
		count = (count + 1) / 2;
		cond_resched();
	}
}

/*
 * The root over @n leaf hashes (32 bytes each, in order), in one pass
 * with a node per level: after leaf i, pending[L] holds the last complete
 * node of level L for each bit L set in i + 1. At the end the nodes left,
 * the lowest level first, are each the right child of the one above it
 * (an odd node moved up unchanged meets its left sibling there).
 */
int dstor_mc_root(const u8 *kt, const u8 *leaves, u64 n, u64 size,
		  u32 block_size, u8 *root)
{
	u8 (*pending)[DSTOR_MC_HASH], carry[DSTOR_MC_HASH];
	bool have = false;
	u64 i;
	u32 l;

	if (!n || n > DSTOR_TREE_MAX_LEAVES)
		return -EINVAL;
	/* 2^40 leaves: 41 levels. */
	pending = kmalloc_array(64, DSTOR_MC_HASH, GFP_KERNEL);
	if (!pending)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		memcpy(carry, leaves + i * DSTOR_MC_HASH, DSTOR_MC_HASH);
		for (l = 0; i & BIT_ULL(l); l++)
			dstor_mc_node_hash(kt, pending[l], carry, carry);
		memcpy(pending[l], carry, DSTOR_MC_HASH);
		if (!(i & 1023))
			cond_resched();
	}
	for (l = 0; l < 64; l++) {
		if (!(n & BIT_ULL(l)))
			continue;
		if (have)
			dstor_mc_node_hash(kt, pending[l], carry, carry);
		else
			memcpy(carry, pending[l], DSTOR_MC_HASH);
		have = true;
	}
	dstor_mc_root_of(kt, carry, size, block_size, root);
	kfree(pending);
	return 0;
}

void dstor_mc_group(const char *name, u8 kind, u64 epoch, const u8 *root,
		    u64 node, struct in6_addr *group)
{
	static const u8 zero[DSTOR_MC_HASH];
	struct blake2s_state st;
	u8 h[BLAKE2S_HASH_SIZE], buf[10];

	blake2s_init(&st, BLAKE2S_HASH_SIZE);
	blake2s_update(&st, LABEL_GROUP, strlen(LABEL_GROUP));
	blake2s_update(&st, name, strlen(name));
	buf[0] = 0;
	buf[1] = kind;
	dstor_put64(buf + 2, epoch);
	blake2s_update(&st, buf, sizeof(buf));
	blake2s_update(&st, root ? root : zero, DSTOR_MC_HASH);
	dstor_put64(buf, node);
	blake2s_update(&st, buf, 8);
	blake2s_final(&st, h);
	group->s6_addr[0] = 0xff;
	group->s6_addr[1] = 0x12;
	memcpy(group->s6_addr + 2, h, 14);
}

/* @root NULL: the context of ANNOUNCE packets. */
int dstor_mc_ctx_init(struct dstor_mc_ctx *c, const u8 *key, u8 cipher,
		      u64 epoch, const u8 *root)
{
	static const u8 zero[DSTOR_MC_HASH];
	struct blake2s_state st;
	u8 pk[BLAKE2S_HASH_SIZE], buf[8];

	memset(c, 0, sizeof(*c));
	if (!key)
		return 0;
	blake2s_init_key(&st, BLAKE2S_HASH_SIZE, key, DSTOR_KEY_LEN);
	blake2s_update(&st, LABEL_SEAL, strlen(LABEL_SEAL));
	dstor_put64(buf, epoch);
	blake2s_update(&st, buf, sizeof(buf));
	blake2s_update(&st, root ? root : zero, DSTOR_MC_HASH);
	blake2s_final(&st, pk);
	c->tfm = dstor_aead_new(cipher, pk);
	memzero_explicit(pk, sizeof(pk));
	if (IS_ERR(c->tfm)) {
		int ret = PTR_ERR(c->tfm);

		c->tfm = NULL;
		return ret;
	}
	c->cipher = cipher;
	return 0;
}

void dstor_mc_ctx_free(struct dstor_mc_ctx *c)
{
	if (c->tfm)
		crypto_free_aead(c->tfm);
	memzero_explicit(c, sizeof(*c));
}

/* Type, then the packet's position: never the same for two packets. */
static void mc_nonce(const struct dstor_mc_hdr *h, u8 *iv)
{
	memset(iv, 0, 4);
	iv[0] = h->type;
	dstor_put64(iv + 4, h->index << 12 | h->offset / DSTOR_MC_CHUNK);
}

static int mc_aead(const struct dstor_mc_ctx *c, u8 *pkt,
		   const struct dstor_mc_hdr *h, bool seal)
{
	DECLARE_CRYPTO_WAIT(wait);
	struct aead_request *req;
	struct scatterlist sg;
	u8 iv[12];
	int ret;

	req = aead_request_alloc(c->tfm, GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	mc_nonce(h, iv);
	sg_init_one(&sg, pkt, DSTOR_MC_HDR_LEN + h->len + DSTOR_MC_TAG_LEN);
	aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG |
				  CRYPTO_TFM_REQ_MAY_SLEEP,
				  crypto_req_done, &wait);
	aead_request_set_ad(req, DSTOR_MC_HDR_LEN);
	aead_request_set_crypt(req, &sg, &sg,
			       h->len + (seal ? 0 : DSTOR_MC_TAG_LEN), iv);
	ret = crypto_wait_req(seal ? crypto_aead_encrypt(req) :
			      crypto_aead_decrypt(req), &wait);
	aead_request_free(req);
	return ret;
}

/*
 * @pkt holds the encoded header and @h->len bytes of payload, with room
 * for the tag after them (kmalloc'ed: the AEAD maps it). Seals the payload
 * when the export has a key; an unsealed packet has no tag.
 */
int dstor_mc_protect(const struct dstor_mc_ctx *c, u8 *pkt,
		     const struct dstor_mc_hdr *h)
{
	return c->tfm ? mc_aead(c, pkt, h, true) : 0;
}

/*
 * Check a received packet whose header decoded into @h; opens the payload
 * in place. -EBADMSG when it is forged, damaged or protected otherwise
 * than this export's packets are. Unsealed, nothing is checked here: the
 * receiver checks the payload against the tree.
 */
int dstor_mc_verify(const struct dstor_mc_ctx *c, u8 *pkt,
		    const struct dstor_mc_hdr *h)
{
	if (!!(h->flags & DSTOR_MC_F_SEALED) != !!c->tfm ||
	    (c->tfm && h->cipher != c->cipher))
		return -EBADMSG;
	return c->tfm ? mc_aead(c, pkt, h, false) : 0;
}
