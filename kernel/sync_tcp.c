// SPDX-License-Identifier: GPL-2.0
/*
 * A sync over TCP (dstor sync --peer; Documentation/reconciliation.md):
 * rounds of reconciliation with an exporter, on sync_peer.c's connection.
 * A round learns the export's tree (TREE_INFO), descends it where it
 * differs from the target's (TREE_FP), reads what is stale (READ), checks
 * each block against its leaf, writes it and verifies the root; the
 * export's tree changing meanwhile starts the round over. With --every a
 * round runs each interval, and with --scrub the whole target is read
 * again now and then. The pool of requests and its READs are also what
 * sync_repair.c repairs multicast with.
 */
#include <crypto/algapi.h>
#include <linux/bio.h>
#include <linux/file.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "sync_int.h"

/* A node of the export's tree that differs from ours: its hash, checked. */
struct peer_node {
	u64 j;
	u32 level;
	u8 hash[DSTOR_MC_HASH];
};

/* A block being read over TCP into a buffer of the target's pool. */
struct peer_block {
	u64 index;
	struct dstor_sync_buf *b;	/* NULL: free */
	unsigned int pieces;		/* READs not yet answered */
	unsigned int tries;
	bool failed;			/* a READ was not answered OK */
	bool again;			/* did not match its leaf: read again */
};

/*
 * Differing nodes of one depth asked about before going deeper: the
 * descent holds at most PEER_FP_NODES times as many per depth, whatever
 * the export's size, and the requests of a window stream without waiting.
 */
#define PEER_WINDOW		1024

#define PEER_WHY_CHANGED \
	"a block of the export does not match its tree: it changed since the tree was published, behind dstor's back (not through an import)"
/* TREE_INFO answers BUILDING: asked again this often, this long at most. */
#define PEER_BUILD_POLL		HZ
#define PEER_BUILD_TIMEOUT	(600 * HZ)
/*
 * TREE_INFO answers PENDING (a live tree's next pass is due): asked again
 * this often, this long at most; then the round takes the tree there is.
 */
#define PEER_PENDING_POLL	(HZ / 10)
#define PEER_PENDING_TIMEOUT	(10 * HZ)
/* The export's tree changed during a round: the round starts over, so often. */
#define PEER_RESTARTS		8

/*
 * A round failed, for @why. A periodic sync's rounds failing the same way
 * again and again log it once: the events say it each round.
 */
int dstor_sync_peer_failed(struct dstor_sync *s, const char *why, int err)
{
	WRITE_ONCE(s->why, why);
	s->why_said = true;
	if (why != s->why_logged)
		pr_err("sync %s: %s\n", s->name, why);
	s->why_logged = why;
	return err;
}

static struct dstor_peer_req *peer_req(struct dstor_sync *s, u8 op,
				       u64 offset, u32 length)
{
	struct dstor_sync_peer *sp = s->sp;
	unsigned int i = find_first_zero_bit(sp->busy, DSTOR_PEER_MAX_REQS);
	struct dstor_peer_req *r;

	/* Callers count: nr_busy stays below DSTOR_PEER_MAX_REQS. */
	if (WARN_ON_ONCE(i >= DSTOR_PEER_MAX_REQS))
		return NULL;
	r = &sp->r[i];
	__set_bit(i, sp->busy);
	sp->nr_busy++;
	r->op = op;
	r->offset = offset;
	r->length = length;
	r->buf = sp->buf[i];
	r->bio = NULL;
	return r;
}

void dstor_sync_peer_req_put(struct dstor_sync *s, struct dstor_peer_req *r)
{
	struct dstor_sync_peer *sp = s->sp;

	if (r->bio) {
		bio_uninit(r->bio);
		kfree(r->bio);
		r->bio = NULL;
	}
	__clear_bit(r - sp->r, sp->busy);
	sp->nr_busy--;
}

void dstor_sync_peer_submit(struct dstor_sync *s, struct dstor_peer_req *r)
{
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_REQUESTS, 1);
	/* Never full: the pool has as many requests as the peer slots. */
	WARN_ON_ONCE(dstor_peer_submit(&s->sp->p, r));
}

/* The next reply; an error when the connection failed or we stop. */
static struct dstor_peer_req *peer_wait(struct dstor_sync *s)
{
	struct dstor_peer_req *r = dstor_peer_wait(&s->sp->p);

	if (IS_ERR(r) && PTR_ERR(r) == -ETIME)
		dstor_sync_peer_failed(s,
				       "the exporter did not answer a request within 60 s",
				       0);
	else if (IS_ERR(r) && PTR_ERR(r) != -EINTR)
		dstor_sync_peer_failed(s,
				       dstor_why_text(dstor_why_conn(PTR_ERR(r))),
				       0);
	return r;
}

/* Bytes per READ: the exporter's max_io, in whole pages. */
u32 dstor_sync_peer_max_io(struct dstor_sync *s)
{
	return rounddown(s->sp->p.info.max_io, PAGE_SIZE);
}

/* READs per block. */
static unsigned int peer_pieces(struct dstor_sync *s)
{
	return DIV_ROUND_UP(s->ann.block_size, dstor_sync_peer_max_io(s));
}

/*
 * What a sync of @n blocks holds for its lifetime: the export's leaves
 * and the target's (s->leaves, s->mine), the target's tree (about as
 * much again), three bitmaps; the descent's windows are bounded apart. At
 * most an eighth of the machine's memory, as an export's tree.
 */
static int peer_fits(struct dstor_sync *s, u64 n, u32 block_size)
{
	u64 bytes = n * 4 * DSTOR_MC_HASH + BITS_TO_LONGS(n) * 3 *
		    sizeof(long), ram = (u64)totalram_pages() << PAGE_SHIFT;

	/* kvmalloc() refuses more than INT_MAX bytes in one piece. */
	if (n <= INT_MAX / DSTOR_MC_HASH && bytes <= ram / 8)
		return 0;
	pr_err("sync %s: %llu blocks of %u bytes would take %llu MiB; this machine allows %llu MiB\n",
	       s->name, n, block_size, bytes >> 20, ram >> 23);
	return dstor_sync_peer_failed(s,
				"the export's tree would take more than an eighth of this machine's memory: export it with a larger tree block size (the kernel log says how much)",
				-E2BIG);
}

/*
 * TREE_INFO until the tree is built, and (@pending) holds the writes that
 * completed before it was first asked: its geometry into s->next.
 */
static int peer_tree_info(struct dstor_sync *s, bool pending)
{
	unsigned long until = jiffies + PEER_BUILD_TIMEOUT, pending_until = 0;
	struct dstor_mc_announce *a = &s->next;
	struct dstor_peer_req *r;
	struct dstor_tree_info ti;
	u64 gen0 = 0;
	int ret;

	for (;;) {
		r = peer_req(s, DSTOR_OP_TREE_INFO, 0, 0);
		if (!r)
			return -EIO;
		dstor_sync_peer_submit(s, r);
		r = peer_wait(s);
		if (IS_ERR(r))
			return PTR_ERR(r);
		dstor_sync_peer_req_put(s, r);
		if (r->status == DSTOR_ST_NOTSUPP)
			return dstor_sync_peer_failed(s,
						"the export has no tree (export add --tree)",
						-EOPNOTSUPP);
		if (r->status != DSTOR_ST_OK)
			return dstor_sync_peer_failed(s,
						"the exporter could not read the export to build its tree",
						-EIO);
		if (dstor_tree_info_decode(r->buf, &ti))
			return dstor_sync_peer_failed(s,
						"the exporter's TREE_INFO is malformed",
						-EPROTO);
		if ((ti.flags & DSTOR_TREE_PENDING) &&
		    s->sp->p.info.version < DSTOR_PROTO_VERSION_PENDING)
			return dstor_sync_peer_failed(s,
						"the exporter's TREE_INFO is malformed",
						-EPROTO);
		if (pending && (ti.flags & DSTOR_TREE_PENDING)) {
			/*
			 * Written to: a pass that starts after this reply
			 * holds those writes, and is published at most two
			 * generations on (one may be under way).
			 */
			if (!pending_until) {
				pending_until = jiffies + PEER_PENDING_TIMEOUT;
				gen0 = ti.generation;
			}
			if (ti.generation - gen0 >= 2 ||
			    time_after(jiffies, pending_until))
				break;
			schedule_timeout_interruptible(PEER_PENDING_POLL);
			if (dstor_sync_stopping())
				return -EINTR;
			continue;
		}
		if (!(ti.flags & DSTOR_TREE_BUILDING))
			break;
		if (time_after(jiffies, until))
			return dstor_sync_peer_failed(s,
						"the export's tree was still being built after 10 minutes",
						-ETIMEDOUT);
		schedule_timeout_interruptible(PEER_BUILD_POLL);
		if (dstor_sync_stopping())
			return -EINTR;
	}
	if (ti.size != s->sp->p.info.size)
		return dstor_sync_peer_failed(s,
					"the export's tree is not of the export's size",
					-EPROTO);
	/* dstor_tree_info_decode() checked the block size. */
	if (DIV_ROUND_UP(ti.block_size, dstor_sync_peer_max_io(s)) >
	    DSTOR_PEER_MAX_REQS)
		return dstor_sync_peer_failed(s,
					"the export's blocks take more READs than a sync sends at once",
					-E2BIG);
	ret = peer_fits(s, dstor_tree_leaves(ti.size, ti.block_size),
			ti.block_size);
	if (ret)
		return ret;
	if (s->pinned && crypto_memneq(ti.root, s->pin_root, DSTOR_MC_HASH))
		return dstor_sync_peer_failed(s,
					"the export's root is not the one given (--root)",
					-EKEYREJECTED);
	a->size = ti.size;
	a->block_size = ti.block_size;
	a->blocks = dstor_tree_leaves(ti.size, ti.block_size);
	memcpy(a->root, ti.root, DSTOR_MC_HASH);
	s->next_epoch = ti.generation;
	s->sp->gen = ti.generation;
	return 0;
}

/* Ask the nodes of @level from @first, @count of them (into a TREE_FP). */
static int peer_ask(struct dstor_sync *s, u32 level, u64 first, u32 count,
		    unsigned long cookie)
{
	struct dstor_peer_req *r;

	r = peer_req(s, DSTOR_OP_TREE_FP, dstor_tree_fp_offset(level, first),
		     count);
	if (!r)
		return -EIO;
	dstor_put64(r->gen, s->sp->gen);
	r->cookie = cookie;
	dstor_sync_peer_submit(s, r);
	return 0;
}

/* A TREE_FP's reply: OK, and for the generation asked. */
static int peer_fp_status(struct dstor_sync *s, struct dstor_peer_req *r)
{
	/* A live tree's next generation: peer_round() starts over. */
	if (r->status == DSTOR_ST_STALE) {
		s->stale_why = "the export's tree changed during the round";
		return -ESTALE;
	}
	if (r->status != DSTOR_ST_OK)
		return dstor_sync_peer_failed(s,
					"the exporter refused a tree request",
					-EPROTO);
	if (dstor_get64(r->buf) != s->sp->gen)
		return dstor_sync_peer_failed(s,
					"the exporter answered for another tree than the one asked",
					-EPROTO);
	return 0;
}

/*
 * A TREE_FP's reply for the children of front node @nd: they must hash up
 * to it; those that differ from ours are descended into (or are leaves).
 */
static int peer_children(struct dstor_sync *s, const struct peer_node *nd,
			 struct dstor_peer_req *r, u32 d)
{
	struct dstor_sync_peer *sp = s->sp;
	u32 k = min_t(u32, PEER_FP_LEVELS, nd->level), l = nd->level - k;
	u8 up[PEER_FP_NODES * DSTOR_MC_HASH];
	const u8 *h = r->buf + DSTOR_TREE_GEN_LEN, *mine;
	u64 first = r->offset & DSTOR_TREE_FIRST_MASK, c;
	struct peer_node *n;
	int ret;

	ret = peer_fp_status(s, r);
	if (ret)
		return ret;
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_TREE_HASHES, r->length);
	memcpy(up, h, r->length * DSTOR_MC_HASH);
	dstor_mc_hash_up(s->kt, up, r->length, k);
	if (crypto_memneq(up, nd->hash, DSTOR_MC_HASH))
		return dstor_sync_peer_failed(s,
					"the exporter's tree does not hash up to its root",
					-EBADMSG);
	mine = sp->mine->level[l];
	for (c = 0; c < r->length; c++, h += DSTOR_MC_HASH) {
		if (!crypto_memneq(h, mine + (first + c) * DSTOR_MC_HASH,
				   DSTOR_MC_HASH))
			continue;
		if (!l) {
			memcpy(s->leaves + (first + c) * DSTOR_MC_HASH, h,
			       DSTOR_MC_HASH);
			continue;
		}
		/* peer_alloc() sized it: PEER_FP_NODES per node asked. */
		if (WARN_ON_ONCE(d >= sp->depths))
			return -EIO;
		n = &sp->win[d][sp->nr_win[d]++];
		n->level = l;
		n->j = first + c;
		memcpy(n->hash, h, DSTOR_MC_HASH);
	}
	return 0;
}

/*
 * The children of win[@d]'s nodes from pos_win[@d], @count of them, asked
 * for at once (pipelined); those that differ go to win[@d + 1].
 */
static int peer_window(struct dstor_sync *s, u32 d, u64 count)
{
	struct dstor_sync_peer *sp = s->sp;
	u64 n = s->ann.blocks, base = sp->pos_win[d], i, first;
	struct dstor_peer_req *r;
	struct peer_node *t;
	u32 c;
	int ret;

	if (d + 1 < sp->depths)
		sp->nr_win[d + 1] = 0;
	for (i = 0; i < count || sp->nr_busy;) {
		while (i < count && sp->nr_busy < DSTOR_PEER_MAX_REQS) {
			t = &sp->win[d][base + i];
			c = dstor_tree_children(n, t->level, t->j,
						PEER_FP_LEVELS, &first);
			ret = peer_ask(s, t->level -
				       min_t(u32, PEER_FP_LEVELS, t->level),
				       first, c, base + i++);
			if (ret)
				return ret;
		}
		r = peer_wait(s);
		if (IS_ERR(r))
			return PTR_ERR(r);
		ret = peer_children(s, &sp->win[d][r->cookie], r, d + 1);
		dstor_sync_peer_req_put(s, r);
		if (ret)
			return ret;
	}
	sp->pos_win[d] += count;
	return 0;
}

/*
 * TREE: the export's leaves into s->leaves, from the top down, asking only
 * for the children of nodes that differ from the target's; the others are
 * the target's own. Every reply is checked against the node above it.
 * Depth first, a window of a depth at a time: the memory it takes is
 * bounded by PEER_WINDOW, not by the export's size.
 */
static int peer_descend(struct dstor_sync *s)
{
	struct dstor_sync_peer *sp = s->sp;
	u64 n = s->ann.blocks;
	struct dstor_peer_req *r;
	u8 root[DSTOR_MC_HASH];
	u32 top = dstor_tree_top(n), d;
	int ret;

	sync_set_state(s, DSTOR_SYNC_STATE_TREE);
	memcpy(s->leaves, sp->mine->level[0], n * DSTOR_MC_HASH);
	/* The top node, checked against the root. */
	ret = peer_ask(s, top, 0, 1, 0);
	if (ret)
		return ret;
	r = peer_wait(s);
	if (IS_ERR(r))
		return PTR_ERR(r);
	dstor_sync_peer_req_put(s, r);
	ret = peer_fp_status(s, r);
	if (ret)
		return ret;
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_TREE_HASHES, 1);
	dstor_mc_root_of(s->kt, r->buf + DSTOR_TREE_GEN_LEN, s->ann.size,
			 s->ann.block_size, root);
	if (crypto_memneq(root, s->ann.root, DSTOR_MC_HASH))
		return dstor_sync_peer_failed(s,
					"the exporter's tree does not hash up to its root",
					-EBADMSG);
	if (!top) {
		memcpy(s->leaves, r->buf + DSTOR_TREE_GEN_LEN, DSTOR_MC_HASH);
		return 0;
	}
	sp->win[0][0].level = top;
	sp->win[0][0].j = 0;
	memcpy(sp->win[0][0].hash, r->buf + DSTOR_TREE_GEN_LEN, DSTOR_MC_HASH);
	sp->nr_win[0] = 1;
	sp->pos_win[0] = 0;
	for (d = 0;;) {
		if (sp->pos_win[d] == sp->nr_win[d]) {
			if (!d)
				return 0;
			d--;
			continue;
		}
		ret = peer_window(s, d, min_t(u64, PEER_WINDOW,
					      sp->nr_win[d] - sp->pos_win[d]));
		if (ret)
			return ret;
		if (d + 1 < sp->depths && sp->nr_win[d + 1]) {
			d++;
			sp->pos_win[d] = 0;
		}
	}
}

/* A READ of @n bytes at @pos, into a bio of @nr segments for the caller. */
struct dstor_peer_req *dstor_sync_peer_read_req(struct dstor_sync *s, u64 pos,
						u32 n, unsigned int nr)
{
	struct dstor_peer_req *r = peer_req(s, DSTOR_OP_READ, pos, n);

	if (!r)
		return ERR_PTR(-EIO);
	r->bio = bio_kmalloc(nr, GFP_KERNEL);
	if (!r->bio) {
		dstor_sync_peer_req_put(s, r);
		return ERR_PTR(-ENOMEM);
	}
	bio_init(r->bio, NULL, r->bio->bi_inline_vecs, nr, 0);
	return r;
}

/* The reads of block @pb->index: a READ per max_io bytes of it. */
static int peer_read_block(struct dstor_sync *s, struct peer_block *pb)
{
	u32 len = sync_block_len(s, pb->index), max_io = dstor_sync_peer_max_io(s);
	u64 pos = pb->index * s->ann.block_size;
	struct dstor_peer_req *r;
	unsigned int pg = 0, nr, i;
	u32 off, n;

	pb->pieces = DIV_ROUND_UP(len, max_io);
	pb->failed = false;
	pb->again = false;
	for (off = 0; off < len; off += n) {
		n = min(len - off, max_io);
		nr = DIV_ROUND_UP(n, PAGE_SIZE);
		r = dstor_sync_peer_read_req(s, pos + off, n, nr);
		if (IS_ERR(r))
			return PTR_ERR(r);
		/* max_io is a multiple of the page size: whole pages. */
		for (i = 0; i < nr; i++, pg++)
			__bio_add_page(r->bio, pb->b->pages[pg],
				       min_t(u32, n - i * PAGE_SIZE, PAGE_SIZE),
				       0);
		r->cookie = pb - s->sp->blocks;
		dstor_sync_peer_submit(s, r);
	}
	return 0;
}

/* A READ of block @pb answered: once all are, check it and write it. */
static int peer_block_read(struct dstor_sync *s, struct peer_block *pb,
			   struct dstor_peer_req *r)
{
	u8 h[DSTOR_MC_HASH];

	if (r->status == DSTOR_ST_OK)
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_BYTES, r->length);
	else
		pb->failed = true;
	if (--pb->pieces)
		return 0;
	if (pb->failed)
		return dstor_sync_peer_failed(s,
					"the exporter could not read a block of the export",
					-EIO);
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_RECEIVED, 1);
	dstor_sync_block_hash(s, pb->b->pages, pb->index, h);
	if (crypto_memneq(h, s->leaves + pb->index * DSTOR_MC_HASH,
			  DSTOR_MC_HASH)) {
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_HASH_BAD, 1);
		if (++pb->tries >= PEER_TRIES) {
			/*
			 * Written since the tree was published: the next
			 * generation holds it (peer_round() starts over),
			 * unless it was written behind dstor's back.
			 */
			s->stale_block = pb->index;
			s->stale_why = PEER_WHY_CHANGED;
			return -ESTALE;
		}
		pb->again = true;	/* peer_fetch() reads it again */
		return 0;
	}
	dstor_sync_write(&s->t, pb->b, pb->index);
	dstor_sync_block_written(s, pb->index, h);
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_VERIFIED, 1);
	s->sp->reading[pb->b - s->t.bufs] = false;
	pb->b = NULL;
	return 0;
}

/* Every free buffer of the pool is being written: wait until one is not. */
int dstor_sync_write_wait(struct dstor_sync *s)
{
	if (WARN_ON_ONCE(!atomic_read(&s->t.writes)))
		return -EIO;
	if (wait_event_killable(s->t.wq, atomic_read(&s->t.written)))
		return -EINTR;
	return 0;
}

/* A buffer of the pool neither being written nor read into, or NULL. */
static struct dstor_sync_buf *peer_buf(struct dstor_sync *s)
{
	unsigned int i;

	for (i = 0; i < s->t.nr_bufs; i++)
		if (!s->t.bufs[i].writing && !s->sp->reading[i])
			return &s->t.bufs[i];
	return NULL;
}

/* RECEIVING: every block not good, read, checked and written. */
static int peer_fetch(struct dstor_sync *s)
{
	struct dstor_sync_peer *sp = s->sp;
	unsigned int k, pieces = peer_pieces(s);
	struct dstor_peer_req *r;
	struct dstor_sync_buf *b;
	u64 next = 0;
	int ret;

	sync_set_state(s, DSTOR_SYNC_STATE_RECEIVING);
	ret = dstor_sync_drain(&s->t);
	if (ret)
		return ret;
	for (k = 0; k < s->t.nr_bufs; k++) {
		sp->blocks[k].b = NULL;
		sp->reading[k] = false;
	}
	for (;;) {
		ret = dstor_sync_reap(&s->t);
		if (ret)
			return ret;
		/* Blocks to read again first, then the next stale ones. */
		for (k = 0; k < s->t.nr_bufs; k++) {
			if (!sp->blocks[k].b || !sp->blocks[k].again ||
			    sp->nr_busy + pieces > DSTOR_PEER_MAX_REQS)
				continue;
			ret = peer_read_block(s, &sp->blocks[k]);
			if (ret)
				return ret;
		}
		next = find_next_zero_bit(s->good, s->ann.blocks, next);
		/* Room for a whole block's READs, and a buffer for it. */
		while (next < s->ann.blocks &&
		       sp->nr_busy + pieces <= DSTOR_PEER_MAX_REQS &&
		       (b = peer_buf(s))) {
			for (k = 0; sp->blocks[k].b; k++)
				;
			sp->blocks[k].b = b;
			sp->reading[b - s->t.bufs] = true;
			sp->blocks[k].index = next;
			sp->blocks[k].tries = 0;
			ret = peer_read_block(s, &sp->blocks[k]);
			if (ret)
				return ret;
			next = find_next_zero_bit(s->good, s->ann.blocks,
						  next + 1);
		}
		if (!sp->nr_busy) {
			if (next >= s->ann.blocks)
				break;
			ret = dstor_sync_write_wait(s);
			if (ret)
				return ret;
			continue;
		}
		r = peer_wait(s);
		if (IS_ERR(r))
			return PTR_ERR(r);
		k = r->cookie;
		dstor_sync_peer_req_put(s, r);
		ret = peer_block_read(s, &sp->blocks[k], r);
		if (ret)
			return ret;
	}
	return dstor_sync_drain(&s->t);
}

/* What a sync over TCP needs once it knows the export's geometry. */
static int peer_alloc(struct dstor_sync *s)
{
	struct dstor_sync_peer *sp = s->sp;
	u64 n = s->ann.blocks, cap;
	u32 d;

	sp->blocks = kcalloc(s->t.nr_bufs, sizeof(*sp->blocks), GFP_KERNEL);
	sp->reading = kcalloc(s->t.nr_bufs, sizeof(*sp->reading), GFP_KERNEL);
	if (!sp->blocks || !sp->reading)
		return -ENOMEM;
	/* Nodes of level 1 and up: depth d's are at level top - 4d. */
	sp->depths = DIV_ROUND_UP(dstor_tree_top(n), PEER_FP_LEVELS);
	for (d = 0, cap = 1; d < sp->depths; d++) {
		sp->win[d] = kvmalloc_array(cap, sizeof(*sp->win[d]),
					    GFP_KERNEL);
		if (!sp->win[d])
			return -ENOMEM;
		cap = PEER_FP_NODES * min_t(u64, cap, PEER_WINDOW);
	}
	return 0;
}

void dstor_sync_peer_free(struct dstor_sync *s)
{
	struct dstor_sync_peer *sp = s->sp;
	u32 d;

	kfree(sp->blocks);
	kfree(sp->reading);
	for (d = 0; d < PEER_DEPTHS; d++) {
		kvfree(sp->win[d]);
		sp->win[d] = NULL;
	}
	sp->depths = 0;
	dstor_tree_free(sp->mine);
	sp->blocks = NULL;
	sp->reading = NULL;
	sp->mine = NULL;
}

/* Connect to the exporter as an importer that reads only. */
static int peer_dial(struct dstor_sync *s)
{
	struct dstor_sync_peer *sp = s->sp;
	int ret;

	ret = dstor_peer_connect(&sp->p, s->net, &s->peer, s->name,
				 s->key.set ? &s->key : NULL, &s->stats);
	if (ret && ret != -EINTR)
		return dstor_sync_peer_failed(s, dstor_why_text(sp->p.hs.why), ret);
	return ret;
}

/* Connect to the exporter, and check it can serve a sync. */
static int peer_connect(struct dstor_sync *s)
{
	struct dstor_sync_peer *sp = s->sp;
	int ret;

	sync_set_state(s, DSTOR_SYNC_STATE_WAITING);
	ret = peer_dial(s);
	if (ret)
		return ret;
	if (sp->p.info.version < DSTOR_PROTO_VERSION_TREE)
		return dstor_sync_peer_failed(s,
					"the exporter does not offer sync over TCP (protocol version 4)",
					-EPROTO);
	if (!(sp->p.info.flags & DSTOR_EXP_TREE))
		return dstor_sync_peer_failed(s,
					"the export has no tree (export add --tree)",
					-EOPNOTSUPP);
	/* Whole pages per READ (max_io is at least 4096), all of a block's at once. */
	if (dstor_sync_peer_max_io(s) < PAGE_SIZE)
		return dstor_sync_peer_failed(s,
					"the exporter's largest transfer is below a page",
					-EPROTO);
	return 0;
}

/*
 * End the round's connection: what the exporter sent on it is counted,
 * and the requests it held are given back.
 */
void dstor_sync_peer_disconnect(struct dstor_sync *s)
{
	struct dstor_sync_peer *sp = s->sp;
	unsigned int i;

	if (sp->p.conn) {
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_WIRE_BYTES,
			       dstor_peer_wire_bytes(&sp->p));
		dstor_peer_close(&sp->p);
	}
	/* The connection is stopped: nothing copies into their bios. */
	for_each_set_bit(i, sp->busy, DSTOR_PEER_MAX_REQS)
		dstor_sync_peer_req_put(s, &sp->r[i]);
}

/*
 * The export's tree of a later round: the geometry must be the first
 * round's (the target is shaped for it); the root and generation may have
 * changed.
 */
static int peer_tree_again(struct dstor_sync *s)
{
	const struct dstor_mc_announce *a = &s->next;

	if (a->size != s->ann.size || a->block_size != s->ann.block_size) {
		s->fatal = true;
		return dstor_sync_peer_failed(s,
					"the export's size or block size changed: add the sync again",
					-ESTALE);
	}
	spin_lock(&s->lock);
	memcpy(s->ann.root, a->root, DSTOR_MC_HASH);
	s->epoch = s->next_epoch;
	spin_unlock(&s->lock);
	return 0;
}

/*
 * Before a later round, what the target holds into s->mine: the blocks a
 * failed last round wrote (they were neither flushed nor re-read, and a
 * write may have failed; a round that converged re-read its own, and
 * dstor_sync_peer_main() forgot them) and, for a scrub, every block. 0 or an error.
 */
static int peer_rehash(struct dstor_sync *s, bool scrub)
{
	int ret;

	sync_set_state(s, DSTOR_SYNC_STATE_HASHING);
	if (!bitmap_empty(s->wrote, s->ann.blocks)) {
		ret = dstor_sync_read(&s->t, s->wrote, dstor_sync_hash_read, s);
		if (ret)
			return ret;
	}
	bitmap_zero(s->wrote, s->ann.blocks);
	if (!scrub)
		return 0;
	s->scrubbing = true;
	s->corrupt = 0;
	ret = dstor_sync_read(&s->t, NULL, dstor_sync_hash_read, s);
	s->scrubbing = false;
	if (ret)
		return ret;
	s->scrubbed = true;
	if (s->corrupt) {
		pr_warn("sync %s: scrub: %llu blocks of %s changed behind the sync's back\n",
			s->name, s->corrupt, s->path);
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_CORRUPT, s->corrupt);
	}
	return 0;
}

/*
 * The target's tree (sp->mine) of its hashes (s->mine): the first time
 * built, then only the nodes above the leaves that changed hashed again.
 * Its root into @root, when not NULL.
 */
int dstor_sync_peer_mine(struct dstor_sync *s, u8 *root)
{
	struct dstor_sync_peer *sp = s->sp;
	u64 n = s->ann.blocks;

	/* Past an eighth of the leaves, a new tree costs about as much. */
	if (sp->mine && bitmap_weight(s->changed, n) <= n / 8) {
		dstor_tree_update(sp->mine, s->kt, s->mine, s->changed,
				  s->ann.size, s->ann.block_size);
	} else {
		dstor_tree_free(sp->mine);
		sp->mine = dstor_tree_new(s->kt, s->mine, n, s->ann.size,
					  s->ann.block_size);
		if (!sp->mine)
			return -ENOMEM;
	}
	bitmap_zero(s->changed, n);
	if (root)
		memcpy(root, sp->mine->root, DSTOR_MC_HASH);
	return 0;
}

/* Wait for the replies to every request in flight, and drop them. */
static int peer_drain(struct dstor_sync *s)
{
	struct dstor_peer_req *r;

	while (s->sp->nr_busy) {
		r = peer_wait(s);
		if (IS_ERR(r))
			return PTR_ERR(r);
		dstor_sync_peer_req_put(s, r);
	}
	return dstor_sync_drain(&s->t);
}

/*
 * Reconcile the target (its hashes in s->mine) with the export's tree
 * (s->ann): descend where they differ, copy from seeds (@seeds), fetch
 * what is still stale, verify the root. -ESTALE when the export's tree
 * changed meanwhile (s->stale_why).
 */
static int peer_reconcile(struct dstor_sync *s, bool seeds)
{
	struct dstor_sync_peer *sp = s->sp;
	unsigned int tries;
	int ret;

	ret = dstor_sync_peer_mine(s, NULL);
	if (ret)
		return ret;
	if (!crypto_memneq(sp->mine->root, s->ann.root, DSTOR_MC_HASH)) {
		/* Equal: nothing to fetch or write. */
		memcpy(s->leaves, s->mine, s->ann.blocks * DSTOR_MC_HASH);
		atomic64_set(&s->stats.c[DSTOR_STAT_SYNC_GOOD],
			     dstor_sync_good_update(s));
		if (bitmap_empty(s->wrote, s->ann.blocks))
			return 0;
		/* Started over after writing: flush and read them back. */
		ret = dstor_sync_verify(s);
		if (ret != SYNC_DIFFERS)
			return ret;
	}
	ret = peer_descend(s);
	if (ret)
		return ret;
	atomic64_set(&s->stats.c[DSTOR_STAT_SYNC_GOOD], dstor_sync_good_update(s));
	if (seeds) {
		ret = dstor_sync_seed(s);
		if (ret)
			return ret;
	}
	for (tries = 0;; tries++) {
		ret = peer_fetch(s);
		if (!ret)
			ret = dstor_sync_verify(s);
		if (ret != SYNC_DIFFERS)
			break;
		if (tries == PEER_TRIES)
			return dstor_sync_peer_failed(s,
						"the target does not keep what was written to it",
						-EIO);
	}
	return ret;
}

/*
 * The export's tree changed during the round: the replies still due are
 * dropped and the next generation taken. -ESTALE (failed) when there is
 * none, or after PEER_RESTARTS: what the round wrote stays, checked
 * against the new tree like the rest of the target.
 */
static int peer_restart(struct dstor_sync *s, unsigned int restarts)
{
	u64 gen = s->sp->gen;
	int ret;

	if (restarts == PEER_RESTARTS)
		return dstor_sync_peer_failed(s,
					"the export's tree changed during the round, 8 times running: it is written to faster than its tree follows",
					-ESTALE);
	/* After STALE a newer tree is published: no writes to wait for. */
	ret = peer_drain(s);
	if (!ret)
		ret = peer_tree_info(s, s->stale_block != U64_MAX);
	if (!ret)
		ret = peer_tree_again(s);
	if (ret)
		return ret;
	if (s->sp->gen != gen)
		return 0;
	if (s->stale_block != U64_MAX)
		pr_err("sync %s: block %llu of the export does not match its leaf\n",
		       s->name, s->stale_block);
	return dstor_sync_peer_failed(s, s->stale_why ?:
				"the export's tree changed during the round", -ESTALE);
}

/*
 * A round over TCP: connect, learn the export's tree, hash the target
 * (the first round: all of it; later ones see peer_rehash()), reconcile.
 * A round the export's tree changed under starts over on the new one.
 * The caller ends the connection.
 */
static int peer_round(struct dstor_sync *s, bool first, bool scrub)
{
	unsigned int restarts;
	int ret;

	s->why_said = false;
	s->scrubbed = false;
	if (!first) {
		/* The geometry is the first round's: no exporter needed. */
		ret = peer_rehash(s, scrub);
		if (ret)
			return ret;
	}
	ret = peer_connect(s);
	if (!ret)
		ret = peer_tree_info(s, true);
	if (ret)
		return ret;
	if (first) {
		ret = dstor_sync_tree_setup(s);
		if (!ret)
			ret = peer_alloc(s);
		if (ret)
			return ret;
		sync_set_state(s, DSTOR_SYNC_STATE_HASHING);
		ret = dstor_sync_read(&s->t, NULL, dstor_sync_hash_read, s);
	} else {
		ret = peer_tree_again(s);
	}
	for (restarts = 0; !ret; restarts++) {
		s->stale_block = U64_MAX;
		s->stale_why = NULL;
		ret = peer_reconcile(s, first && !restarts);
		if (ret != -ESTALE || s->fatal)
			break;
		ret = peer_restart(s, restarts);
		if (!ret)
			pr_info_ratelimited("sync %s: the export's tree changed during the round: starting over on generation %llu\n",
					    s->name, s->sp->gen);
	}
	return ret;
}

/* Why a sync over TCP failed, when no step said so. */
void dstor_sync_peer_why(struct dstor_sync *s, int err)
{
	if (s->why_said || err == -EINTR)
		return;
	switch (err) {
	case -ENOSPC:
		WRITE_ONCE(s->why, "the target is smaller than the export");
		break;
	case -EINVAL:
		WRITE_ONCE(s->why,
			   "the export's blocks do not fit the target's sectors");
		break;
	case -ENOMEM:
		WRITE_ONCE(s->why, "out of memory");
		break;
	default:
		WRITE_ONCE(s->why,
			   "reading or writing the target failed (see the kernel log)");
		break;
	}
}

/*
 * A round of a periodic sync ended (@err 0: converged): kept for GET and
 * told to the sync's namespace. What a failed round wrote is not counted:
 * the next one re-reads it (peer_rehash()).
 */
static void peer_round_end(struct dstor_sync *s, int err, bool first)
{
	u64 repaired = err ? 0 : bitmap_weight(s->wrote, s->ann.blocks);
	struct dstor_sync_info *si;

	if (err)
		dstor_sync_peer_why(s, err);
	else
		WRITE_ONCE(s->why, NULL);
	if (!err)
		s->why_logged = NULL;
	spin_lock(&s->lock);
	s->round_ended = ktime_get_ns();
	s->round_repaired = repaired;
	s->round_scrubbed = s->scrubbed;
	s->round_corrupt = s->scrubbed ? s->corrupt : 0;
	spin_unlock(&s->lock);
	dstor_stat_add(&s->stats, err ? DSTOR_STAT_SYNC_ROUNDS_FAILED :
		       DSTOR_STAT_SYNC_ROUNDS, 1);
	if (!first)
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_REPAIRED, repaired);
	if (!first && repaired)
		pr_info("sync %s: round: %llu blocks of %s repaired\n",
			s->name, repaired, s->path);
	si = kmalloc(sizeof(*si), GFP_KERNEL);
	if (!si)
		return;
	dstor_sync_describe(s, si);
	dstor_nl_sync_event(s->net, err ? DSTOR_EVENT_SYNC_FAILED :
			    DSTOR_EVENT_SYNC_ROUND, si);
	kfree(si);
}

/* Sleep until @until (jiffies64), or until stopped (-EINTR). */
static int peer_sleep(u64 until)
{
	s64 left;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (dstor_sync_stopping())
			break;
		left = until - get_jiffies_64();
		if (left <= 0)
			break;
		schedule_timeout(min_t(s64, left, MAX_JIFFY_OFFSET));
	}
	__set_current_state(TASK_RUNNING);
	return dstor_sync_stopping() ? -EINTR : 0;
}

/*
 * A sync over TCP: one round, and with --every one each interval after
 * it. A later round that fails is reported and tried again with the
 * import's backoff, never sooner than DSTOR_DEFAULT_RECONNECT_MIN nor
 * later than the interval; the first failing ends the sync.
 */
int dstor_sync_peer_main(struct dstor_sync *s)
{
	/* u64: 30 days of jiffies overflow a 32-bit long at HZ 1000. */
	u64 every = (u64)s->every * HZ, scrub = (u64)s->scrub * HZ;
	u64 last_scrub, backoff = 0;
	int ret;

	ret = peer_round(s, true, false);
	dstor_sync_peer_disconnect(s);
	if (ret || !every)
		return ret;
	/* Seeds were for the first round. */
	while (s->nr_seeds)
		fput(s->seeds[--s->nr_seeds]);
	peer_round_end(s, 0, true);
	/* Flushed and read back by dstor_sync_verify(): not to be read again. */
	bitmap_zero(s->wrote, s->ann.blocks);
	last_scrub = get_jiffies_64();
	for (;;) {
		sync_set_state(s, DSTOR_SYNC_STATE_IDLE);
		ret = peer_sleep(get_jiffies_64() + (backoff ?: every));
		if (ret)
			return ret;
		ret = peer_round(s, false, scrub &&
				 time_after_eq64(get_jiffies_64(),
						 last_scrub + scrub));
		dstor_sync_peer_disconnect(s);
		if (ret == -EINTR || dstor_sync_stopping())
			return -EINTR;
		if (s->scrubbed)
			last_scrub = get_jiffies_64();
		peer_round_end(s, ret, false);
		if (!ret)
			bitmap_zero(s->wrote, s->ann.blocks);
		if (s->fatal)
			return ret;
		if (!ret)
			backoff = 0;
		else if (!backoff)
			backoff = min_t(u64, DSTOR_DEFAULT_RECONNECT_MIN * HZ,
					every);
		else
			backoff = min3(backoff * 2,
				       (u64)DSTOR_DEFAULT_RECONNECT_MAX * HZ,
				       every);
	}
}
