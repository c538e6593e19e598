// SPDX-License-Identifier: GPL-2.0
/*
 * An export's merkle tree for reconciliation over TCP (version 4's
 * TREE_INFO and TREE_FP; Documentation/reconciliation.md). It is the
 * multicast tree (merkle.c), kept level by level: level 0 the leaves, level
 * L node j the hash of nodes 2j and 2j + 1 of level L - 1, or node 2j
 * itself when it is the last of its level.
 *
 * A tree is built beside the published one and swapped in under RCU, so a
 * session answering a request copies from one whole tree, without I/O and
 * without waiting: the publisher waits for the grace period, not the
 * readers. Each publication has a generation one more than the last, and
 * the first is random, so (incarnation, generation) never names two trees.
 *
 * Who builds: a multicast export's sender hashes the device anyway and
 * publishes its leaves (mcast.c); any other export with a tree has a
 * builder thread here that reads the device once, at `export add` (and
 * again at `export rehash`, dstor_tree_rehash()), and then keeps the tree
 * live: a write, discard or write-zeroes that a session
 * submitted marks its leaves dirty when it completes (dstor_tree_written(),
 * any context: a bit per leaf), and at most once a second the builder
 * re-reads the dirty blocks and publishes the next generation. A bit is
 * cleared before its block is read, so a write that completes during the
 * pass marks it for the next one. The tree lags the device by up to a
 * second and a pass. Writes that do not come through dstor (a local writer of
 * the device) are not seen: a read-only export, or a snapshot, is what a
 * point-in-time copy needs.
 *
 * A tree is keyed (its tree key, merkle.c) with the export's key as it was
 * at `export add`, as a multicast export's packets are: after `export set
 * --key` it still answers with leaves of the old key, and a receiver with
 * the new one finds no block matching its leaf. `export rehash` re-keys
 * it (a multicast export must be added again).
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "dstor.h"
#include "export.h"
#include "mcast_proto.h"
#include "merkle.h"
#include "pages.h"
#include "tree.h"

void dstor_tree_free(struct dstor_tree *t)
{
	unsigned int l;

	if (!t)
		return;
	for (l = 0; l < DSTOR_TREE_LEVELS; l++)
		kvfree(t->level[l]);
	kfree(t);
}

/* Bytes of all the levels of a tree of @n leaves. */
static u64 tree_bytes(u64 n)
{
	u64 bytes = 0;
	u32 l;

	for (l = 0; l <= dstor_tree_top(n); l++)
		bytes += dstor_tree_nodes(n, l) * DSTOR_TREE_HASH;
	return bytes;
}

/* Node @j of level @l (1 and up) again, from the two below it. */
static void tree_node(const u8 *kt, struct dstor_tree *t, u32 l, u64 j)
{
	const u8 *c = t->level[l - 1] + 2 * j * DSTOR_TREE_HASH;
	u8 *out = t->level[l] + j * DSTOR_TREE_HASH;

	if (2 * j + 1 < dstor_tree_nodes(t->n, l - 1))
		dstor_mc_node_hash(kt, c, c + DSTOR_TREE_HASH, out);
	else
		memcpy(out, c, DSTOR_TREE_HASH);
}

/*
 * The levels above @leaves (@n of them) and the root. The tree takes
 * *@own (kvmalloc'ed leaves) when not NULL, and sets it NULL; else it
 * copies @leaves.
 */
static struct dstor_tree *tree_new(const u8 *kt, const u8 *leaves, u8 **own,
				   u64 n, u64 size, u32 block_size)
{
	struct dstor_tree *t = kzalloc(sizeof(*t), GFP_KERNEL);
	u64 j, nodes;
	u32 l;

	BUILD_BUG_ON(DSTOR_TREE_MAX_LEAVES != 1ULL << (DSTOR_TREE_LEVELS - 1));
	if (!t)
		return NULL;
	t->n = n;
	t->top = dstor_tree_top(n);
	if (own) {
		t->level[0] = *own;
		*own = NULL;
	}
	for (l = t->level[0] ? 1 : 0; l <= t->top; l++) {
		t->level[l] = kvmalloc_array(dstor_tree_nodes(n, l),
					     DSTOR_TREE_HASH, GFP_KERNEL);
		if (!t->level[l]) {
			dstor_tree_free(t);
			return NULL;
		}
	}
	if (!own)
		memcpy(t->level[0], leaves, n * DSTOR_TREE_HASH);
	for (l = 1; l <= t->top; l++) {
		nodes = dstor_tree_nodes(n, l);
		for (j = 0; j < nodes; j++) {
			tree_node(kt, t, l, j);
			if (!(j & 1023))
				cond_resched();
		}
	}
	dstor_mc_root_of(kt, t->level[t->top], size, block_size, t->root);
	return t;
}

/*
 * The leaves set in @changed are @leaves' now (or, @leaves NULL, are
 * already in level 0): hash the nodes above them again, each once, and
 * the root. d changed leaves cost at most d hashes a level, where a new
 * tree costs n in all.
 */
void dstor_tree_update(struct dstor_tree *t, const u8 *kt, const u8 *leaves,
		       const unsigned long *changed, u64 size, u32 block_size)
{
	u64 i, j, last, done = 0;
	u32 l;

	if (leaves)
		for_each_set_bit(i, changed, t->n) {
			memcpy(t->level[0] + i * DSTOR_TREE_HASH,
			       leaves + i * DSTOR_TREE_HASH, DSTOR_TREE_HASH);
			if (!(++done & 0xffff))
				cond_resched();
		}
	for (l = 1; l <= t->top; l++) {
		last = U64_MAX;
		for_each_set_bit(i, changed, t->n) {
			j = i >> l;
			if (j == last)
				continue;
			tree_node(kt, t, l, j);
			last = j;
			if (!(++done & 1023))
				cond_resched();
		}
	}
	dstor_mc_root_of(kt, t->level[t->top], size, block_size, t->root);
}

/* A copy of @t's levels and root, to update (dstor_tree_update()). */
static struct dstor_tree *tree_dup(const struct dstor_tree *t)
{
	struct dstor_tree *c = kzalloc(sizeof(*c), GFP_KERNEL);
	u64 bytes;
	u32 l;

	if (!c)
		return NULL;
	c->n = t->n;
	c->top = t->top;
	memcpy(c->root, t->root, DSTOR_TREE_HASH);
	for (l = 0; l <= t->top; l++) {
		bytes = dstor_tree_nodes(t->n, l) * DSTOR_TREE_HASH;
		c->level[l] = kvmalloc(bytes, GFP_KERNEL);
		if (!c->level[l]) {
			dstor_tree_free(c);
			return NULL;
		}
		memcpy(c->level[l], t->level[l], bytes);
	}
	return c;
}

/* Publish @t, the next generation, and free the one it replaces. */
static void tree_swap(struct dstor_export *exp, struct dstor_tree *t)
{
	struct dstor_tree_slot *ts = &exp->tree;
	struct dstor_tree *old;

	mutex_lock(&ts->lock);
	t->generation = ts->generation++;
	old = rcu_replace_pointer(ts->tree, t, lockdep_is_held(&ts->lock));
	mutex_unlock(&ts->lock);
	WRITE_ONCE(ts->built, 1000);
	if (old) {
		synchronize_rcu();
		dstor_tree_free(old);
	}
}

static int tree_publish(struct dstor_export *exp, const u8 *kt,
			const u8 *leaves, u8 **own, u64 n)
{
	struct dstor_tree *t;

	t = tree_new(kt, leaves, own, n, exp->size, exp->tree.block_size);
	if (!t)
		return -ENOMEM;
	tree_swap(exp, t);
	return 0;
}

/*
 * A tree of its own for a sync's target: the levels above @leaves (@n of
 * them, copied) of a device of @size bytes in blocks of @block_size. NULL
 * without memory. Freed with dstor_tree_free().
 */
struct dstor_tree *dstor_tree_new(const u8 *kt, const u8 *leaves, u64 n,
				  u64 size, u32 block_size)
{
	return tree_new(kt, leaves, NULL, n, size, block_size);
}

/*
 * Build the levels above @leaves (@n of them, hashed with the tree key
 * @kt; copied) and publish them as the export's tree. Process context;
 * may sleep.
 */
int dstor_tree_publish(struct dstor_export *exp, const u8 *kt,
		       const u8 *leaves, u64 n)
{
	int ret = tree_publish(exp, kt, leaves, NULL, n);

	if (ret)
		dstor_tree_failed(exp, ret);
	return ret;
}

/*
 * No tree will be published: TREE_INFO answers IOERR and `show` says
 * FAILED (unless one was published before).
 */
void dstor_tree_failed(struct dstor_export *exp, int err)
{
	WRITE_ONCE(exp->tree.err, err);
}

/* @done of @n leaves hashed. */
void dstor_tree_progress(struct dstor_export *exp, u64 done, u64 n)
{
	WRITE_ONCE(exp->tree.built,
		   (u32)min_t(u64, div64_u64(done * 1000, n),
			      DSTOR_TREE_BUILT_MAX));
}

/*
 * A session completed a write of @len bytes at @pos (a discard, a
 * write-zeroes, failed or not): the leaves it touched are dirty. Any
 * context.
 */
void dstor_tree_written(struct dstor_export *exp, u64 pos, u64 len)
{
	struct dstor_tree_slot *ts = &exp->tree;
	u64 i, end;

	if (!ts->dirty || !len || pos >= exp->size)
		return;
	end = min(pos + len, exp->size);
	/*
	 * The write's data before its bit: pairs with the builder's
	 * test_and_clear_bit() before it reads the block (live_pass()).
	 */
	smp_mb__before_atomic();
	for (i = pos >> ts->block_shift; i <= (end - 1) >> ts->block_shift; i++)
		set_bit(i, ts->dirty);
}

/* A read of block @index of a device of @size bytes into @pages. */
static struct bio *tree_bio(struct block_device *bdev, struct page **pages,
			    u64 size, u32 block_size, u64 index)
{
	u32 len = dstor_mc_block_len(size, block_size, index), n;
	unsigned int i, nr = DIV_ROUND_UP(len, PAGE_SIZE);
	struct bio *bio;

	bio = bio_alloc(bdev, nr, REQ_OP_READ, GFP_KERNEL);
	bio->bi_iter.bi_sector = (index * block_size) >> SECTOR_SHIFT;
	/* As many vectors as pages: each one fits. */
	for (i = 0; len; i++, len -= n) {
		n = min_t(u32, len, PAGE_SIZE);
		__bio_add_page(bio, pages[i], n, 0);
	}
	return bio;
}

/* Read block @index of a device of @size bytes into @pages; may sleep. */
int dstor_tree_read_block(struct block_device *bdev, struct page **pages,
			  u64 size, u32 block_size, u64 index)
{
	struct bio *bio = tree_bio(bdev, pages, size, block_size, index);
	int ret;

	ret = submit_bio_wait(bio);
	bio_put(bio);
	return ret;
}

/* The first build's reads in flight: as many bytes, at most so many. */
#define TREE_READ_BYTES		(2U << 20)
#define TREE_READ_DEPTH		8

/* A read in flight of the first build. */
struct tree_read {
	struct completion done;
	int status;
	u64 index;
};

static void tree_read_end(struct bio *bio)
{
	struct tree_read *rd = bio->bi_private;

	rd->status = blk_status_to_errno(bio->bi_status);
	bio_put(bio);
	complete(&rd->done);
}

/* What the builder needs, allocated before it starts. */
struct tree_build {
	struct dstor_export *exp;
	u8 kt[DSTOR_TREE_HASH];
	u8 zero[DSTOR_TREE_HASH];
	u64 n;
	u8 *leaves;
	unsigned long *pass;		/* a live pass's blocks */
	unsigned int nr_pages;		/* a block's */
	unsigned int depth;		/* blocks of pages: reads in flight */
	struct page **pages;		/* depth blocks' */
	struct tree_read rd[TREE_READ_DEPTH];
};

static void build_free(struct tree_build *b)
{
	dstor_pages_free(b->pages, b->nr_pages * b->depth);
	kfree(b->pages);
	kvfree(b->leaves);
	kvfree(b->pass);
	memzero_explicit(b->kt, sizeof(b->kt));
	kfree(b);
}

/* Sleep a second, or until stopped (true). */
static bool live_sleep(void)
{
	long left = HZ;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop() || !left)
			break;
		left = schedule_timeout(left);
	}
	__set_current_state(TASK_RUNNING);
	return kthread_should_stop();
}

/*
 * The dirty blocks re-read and re-hashed into a copy of the published
 * tree, the nodes above them hashed again (dstor_tree_update()), and the
 * copy published as the next generation. A block that cannot be read
 * stays dirty (the next pass tries again) and keeps its old leaf; without
 * memory for the copy, the blocks wait for the next pass.
 */
static void live_pass(struct tree_build *b)
{
	struct dstor_export *exp = b->exp;
	struct dstor_tree_slot *ts = &exp->tree;
	u32 bs = ts->block_size;
	struct dstor_tree *t;
	u64 i;
	int ret;

	/*
	 * Before any bit is cleared (test_and_clear_bit() orders it): from
	 * now until the publication, TREE_INFO says PENDING.
	 */
	WRITE_ONCE(ts->passing, true);
	mutex_lock(&ts->lock);
	/* Only this thread publishes: the tree stays while we copy it. */
	t = tree_dup(rcu_dereference_protected(ts->tree,
					       lockdep_is_held(&ts->lock)));
	mutex_unlock(&ts->lock);
	if (!t)
		goto out;
	bitmap_zero(b->pass, b->n);
	for_each_set_bit(i, ts->dirty, b->n) {
		if (kthread_should_stop()) {
			/* Still dirty: TREE_INFO says PENDING to the end. */
			for_each_set_bit(i, b->pass, b->n)
				set_bit(i, ts->dirty);
			dstor_tree_free(t);
			goto out;
		}
		/*
		 * Cleared before the read, fully ordered: a write that
		 * completes from now on sets it again for the next pass.
		 */
		if (!test_and_clear_bit(i, ts->dirty))
			continue;
		ret = dstor_tree_read_block(exp->bdev.bdev, b->pages,
					    exp->size, bs, i);
		if (ret) {
			pr_err_ratelimited("export %s: reading block %llu for its tree failed (%d)\n",
					   exp->name, i, ret);
			set_bit(i, ts->dirty);
			continue;
		}
		__set_bit(i, b->pass);
		dstor_mc_leaf_pages(b->kt, b->zero, bs, b->pages,
				    dstor_mc_block_len(exp->size, bs, i),
				    t->level[0] + i * DSTOR_TREE_HASH);
		cond_resched();
	}
	/* Every read failed: the same tree, no generation for nothing. */
	if (bitmap_empty(b->pass, b->n)) {
		dstor_tree_free(t);
		goto out;
	}
	dstor_tree_update(t, b->kt, NULL, b->pass, exp->size, bs);
	tree_swap(exp, t);
out:
	/* After the publication: pairs with tree_pending(). */
	smp_store_release(&ts->passing, false);
}

/*
 * The first build: every block read, b->depth of them in flight, and
 * hashed in order into b->leaves. 0, the first read error, or -EINTR.
 */
static int build_read(struct tree_build *b)
{
	struct dstor_export *exp = b->exp;
	u32 bs = exp->tree.block_size;
	unsigned int head = 0, busy = 0, cur;
	struct tree_read *rd;
	struct bio *bio;
	u64 next = 0;
	int ret = 0;

	while (busy || next < b->n) {
		while (!ret && busy < b->depth && next < b->n) {
			cur = (head + busy++) % b->depth;
			rd = &b->rd[cur];
			init_completion(&rd->done);
			rd->index = next;
			bio = tree_bio(exp->bdev.bdev,
				       b->pages + cur * b->nr_pages, exp->size,
				       bs, next++);
			bio->bi_private = rd;
			bio->bi_end_io = tree_read_end;
			submit_bio(bio);
		}
		if (!busy)
			break;
		/* Started in order: rd[head] is the oldest. */
		cur = head;
		head = (head + 1) % b->depth;
		busy--;
		rd = &b->rd[cur];
		wait_for_completion(&rd->done);
		if (ret)
			continue;	/* the others still end */
		if (rd->status) {
			ret = rd->status;
			pr_err("export %s: reading block %llu for its tree failed (%d): no new tree (export rehash tries again)\n",
			       exp->name, rd->index, ret);
			continue;
		}
		dstor_mc_leaf_pages(b->kt, b->zero, bs,
				    b->pages + cur * b->nr_pages,
				    dstor_mc_block_len(exp->size, bs, rd->index),
				    b->leaves + rd->index * DSTOR_TREE_HASH);
		dstor_tree_progress(exp, rd->index + 1, b->n);
		if (kthread_should_stop())
			ret = -EINTR;
		cond_resched();
	}
	return ret;
}

/* Its memory is dstor_tree_stop()'s to free: the thread may never run. */
static int tree_build_thread(void *arg)
{
	struct tree_build *b = arg;
	struct dstor_export *exp = b->exp;
	int ret;

	ret = build_read(b);
	/* Stopped: whoever stopped us (export del, a rehash) owns the state. */
	if (ret == -EINTR)
		return ret;
	if (!ret)
		ret = tree_publish(exp, b->kt, NULL, &b->leaves, b->n);
	if (ret)
		dstor_tree_failed(exp, ret);
	/* A rehash's end (dstor_tree_rehash()): pairs with tree_pending(). */
	smp_store_release(&exp->tree.passing, false);
	if (ret)
		return ret;
	/* Live: what sessions write is hashed again, a second at most later. */
	while (exp->tree.dirty && !live_sleep())
		if (!bitmap_empty(exp->tree.dirty, b->n))
			live_pass(b);
	return 0;
}

static int build_alloc(struct dstor_export *exp, const u8 *key, u64 n,
		       struct tree_build **out)
{
	u32 bs = exp->tree.block_size;
	struct tree_build *b;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->exp = exp;
	b->n = n;
	dstor_mc_tree_key(key, exp->name, b->kt);
	dstor_mc_zero_leaf(b->kt, bs, b->zero);
	b->nr_pages = bs >> PAGE_SHIFT;
	b->depth = clamp_t(u32, TREE_READ_BYTES / bs, 2, TREE_READ_DEPTH);
	b->pages = kcalloc(b->nr_pages * b->depth, sizeof(*b->pages),
			   GFP_KERNEL);
	b->leaves = kvmalloc_array(n, DSTOR_TREE_HASH, GFP_KERNEL);
	if (!b->pages || !b->leaves)
		goto err;
	if (exp->tree.dirty) {
		b->pass = kvcalloc(BITS_TO_LONGS(n), sizeof(long), GFP_KERNEL);
		if (!b->pass)
			goto err;
	}
	if (dstor_pages_alloc(b->pages, b->nr_pages * b->depth, GFP_KERNEL))
		goto err;
	*out = b;
	return 0;
err:
	build_free(b);
	return -ENOMEM;
}

/*
 * @copies trees of @n leaves of @block_size bytes fit in an eighth of this
 * machine's memory (and kvmalloc()'s INT_MAX bytes in one piece); if not,
 * the kernel log says how much they would take.
 */
static bool tree_fits(struct dstor_export *exp, u64 n, u32 block_size,
		      unsigned int copies)
{
	u64 bytes = tree_bytes(n) * copies,
	    ram = (u64)totalram_pages() << PAGE_SHIFT;

	if (n <= DSTOR_TREE_MAX_LEAVES && n <= INT_MAX / DSTOR_TREE_HASH &&
	    bytes <= ram / 8)
		return true;
	pr_info("export %s: %u tree(s) of %llu blocks of %u bytes would take %llu MiB; this machine allows %llu MiB\n",
		exp->name, copies, n, block_size, bytes >> 20, ram >> 23);
	return false;
}

/*
 * Start @exp's builder: it reads the device into a tree of @n leaves,
 * keyed with the export's key as it is now, and publishes it.
 */
static int builder_start(struct dstor_export *exp, u64 n)
{
	struct dstor_tree_slot *ts = &exp->tree;
	struct tree_build *b;
	int ret;

	ret = build_alloc(exp, exp->key.set ? exp->key.key : NULL, n, &b);
	if (ret)
		return ret;
	ts->task = kthread_create(tree_build_thread, b, "dstor-tree/%s",
				  exp->name);
	if (IS_ERR(ts->task)) {
		ret = PTR_ERR(ts->task);
		ts->task = NULL;
		build_free(b);
		return ret;
	}
	ts->build = b;
	/* kthread_stop() after the thread may have returned. */
	get_task_struct(ts->task);
	wake_up_process(ts->task);
	return 0;
}

/*
 * Give @exp a tree of @block_size blocks: its builder starts when @build,
 * else the multicast sender publishes it. At `export add`, before any
 * session can see the export; @exp->size is set, the device open.
 */
int dstor_tree_start(struct dstor_export *exp, u32 block_size, bool build,
		     struct netlink_ext_ack *extack)
{
	u32 lbs = bdev_logical_block_size(exp->bdev.bdev);
	struct dstor_tree_slot *ts = &exp->tree;
	u64 n;
	int ret;

	ts->generation = get_random_u64();
	/* Multicast checked its block size and bounds its blocks. */
	if (!build) {
		ts->block_size = block_size;
		return 0;
	}
	if (!is_power_of_2(block_size) || block_size % lbs ||
	    block_size < PAGE_SIZE || block_size < DSTOR_TREE_BS_MIN ||
	    block_size > DSTOR_TREE_BS_MAX) {
		NL_SET_ERR_MSG_MOD(extack,
				   "tree block size must be a power of two from 4 KiB to 1 MiB, at least the page size and a multiple of the device's logical block size");
		return -EINVAL;
	}
	/* What HELLO_REPLY says the size is, so that both say the same. */
	if (exp->size % lbs) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the device's size is not a multiple of its logical block size: it cannot have a tree");
		return -EINVAL;
	}
	n = dstor_tree_leaves(exp->size, block_size);
	/* A live tree's pass holds a second tree, a copy of the first. */
	if (!tree_fits(exp, n, block_size,
		       exp->flags & DSTOR_F_READ_ONLY ? 1 : 2)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the tree would take more than an eighth of this machine's memory (or 2 GiB of leaves): use a larger block size (the kernel log says how much)");
		return -E2BIG;
	}
	ts->block_size = block_size;
	ts->block_shift = ilog2(block_size);
	if (!(exp->flags & DSTOR_F_READ_ONLY)) {
		ts->dirty = kvcalloc(BITS_TO_LONGS(n), sizeof(long), GFP_KERNEL);
		if (!ts->dirty) {
			ret = -ENOMEM;
			goto err;
		}
	}

	ret = builder_start(exp, n);
	if (ret)
		goto err;
	return 0;
err:
	kvfree(ts->dirty);
	ts->dirty = NULL;
	ts->block_size = 0;
	return ret;
}

/*
 * `export rehash`: read the device again into a new tree, keyed with the
 * export's key as it is now, for a device written behind dstor's back (or
 * a key changed since). The published tree is served meanwhile, TREE_INFO
 * saying PENDING; the new one is the next generation, and the builder of
 * a live tree goes on from it. Under dstor_cfg_mutex, @exp listed.
 */
int dstor_tree_rehash(struct dstor_export *exp, struct netlink_ext_ack *extack)
{
	struct dstor_tree_slot *ts = &exp->tree;
	u64 n;
	int ret;

	lockdep_assert_held(&dstor_cfg_mutex);
	if (!ts->block_size) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the export has no tree (export add --tree)");
		return -EOPNOTSUPP;
	}
	if (exp->mcast) {
		NL_SET_ERR_MSG_MOD(extack,
				   "a multicast export's tree is its sender's: add the export again");
		return -EOPNOTSUPP;
	}
	/* The published tree, and the new one beside it until it replaces it. */
	n = dstor_tree_leaves(exp->size, ts->block_size);
	if (!tree_fits(exp, n, ts->block_size, 2)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the old and the new tree together would take more than an eighth of this machine's memory (the kernel log says how much): add the export again instead");
		return -E2BIG;
	}
	dstor_tree_stop(exp);
	WRITE_ONCE(ts->err, 0);
	WRITE_ONCE(ts->built, 0);
	WRITE_ONCE(ts->passing, true);
	ret = builder_start(exp, n);
	if (ret) {
		WRITE_ONCE(ts->passing, false);
		dstor_tree_failed(exp, ret);
		NL_SET_ERR_MSG_MOD(extack,
				   "the builder could not start (memory): the published tree stays, and is no longer kept live");
		return ret;
	}
	pr_info("export %s: reading the device again for its tree\n",
		exp->name);
	return 0;
}

/*
 * Stop the builder, if it still runs, and free its memory (the thread
 * function may never have run: kthread_stop() before it was scheduled);
 * the tree stays for the sessions.
 */
void dstor_tree_stop(struct dstor_export *exp)
{
	struct dstor_tree_slot *ts = &exp->tree;

	if (!ts->task)
		return;
	kthread_stop(ts->task);
	put_task_struct(ts->task);
	ts->task = NULL;
	build_free(ts->build);
	ts->build = NULL;
}

/* The export's last reference is gone: nobody reads the tree. */
void dstor_tree_free_slot(struct dstor_export *exp)
{
	dstor_tree_free(rcu_dereference_protected(exp->tree.tree, true));
	RCU_INIT_POINTER(exp->tree.tree, NULL);
	kvfree(exp->tree.dirty);
	exp->tree.dirty = NULL;
}

/*
 * The tree does not hold the device yet: a live tree's dirty leaves, or a
 * pass re-hashing them, or a rehash under way. Read before the tree: a
 * pass that ended before this published a tree the caller then sees.
 */
static bool tree_pending(struct dstor_export *exp)
{
	struct dstor_tree_slot *ts = &exp->tree;

	if (ts->dirty &&
	    !bitmap_empty(ts->dirty,
			  dstor_tree_leaves(exp->size, ts->block_size)))
		return true;
	/*
	 * A bit seen clear was cleared after @passing was set (live_pass()):
	 * the bitmap read before @passing.
	 */
	smp_rmb();
	/* Before the tree: pairs with live_pass()'s release. */
	return smp_load_acquire(&ts->passing);
}

/*
 * TREE_INFO's reply payload (DSTOR_TREE_INFO_LEN bytes) into @buf; with
 * @pending (a session of version 5), whether writes are pending.
 */
u16 dstor_tree_info(struct dstor_export *exp, u8 *buf, bool pending)
{
	struct dstor_tree_slot *ts = &exp->tree;
	struct dstor_tree_info m = {
		.size = exp->size,
		.block_size = ts->block_size,
		.leaf = DSTOR_TREE_LEAF_V3,
	};
	struct dstor_tree *t;

	if (!ts->block_size)
		return DSTOR_ST_NOTSUPP;
	if (pending && tree_pending(exp))
		m.flags = DSTOR_TREE_PENDING;
	rcu_read_lock();
	t = rcu_dereference(ts->tree);
	if (t) {
		m.generation = t->generation;
		memcpy(m.root, t->root, DSTOR_TREE_HASH);
	}
	rcu_read_unlock();
	if (!t) {
		if (READ_ONCE(ts->err))
			return DSTOR_ST_IOERR;
		m.flags = DSTOR_TREE_BUILDING;	/* never PENDING too */
		m.built = min_t(u32, READ_ONCE(ts->built),
				DSTOR_TREE_BUILT_MAX);
	}
	dstor_tree_info_encode(buf, &m);
	return DSTOR_ST_OK;
}

/*
 * TREE_FP's reply payload into @buf (dstor_tree_fp_reply_len(@count)
 * bytes): the generation @gen asked about and @count nodes from @offset.
 */
u16 dstor_tree_fp(struct dstor_export *exp, u64 offset, u32 count,
		  const u8 *gen, u8 *buf)
{
	u32 level = offset >> DSTOR_TREE_LEVEL_SHIFT;
	u64 first = offset & DSTOR_TREE_FIRST_MASK;
	struct dstor_tree *t;
	u16 status;

	if (!exp->tree.block_size)
		return DSTOR_ST_NOTSUPP;
	rcu_read_lock();
	t = rcu_dereference(exp->tree.tree);
	if (!t) {
		status = READ_ONCE(exp->tree.err) ? DSTOR_ST_IOERR :
			 DSTOR_ST_STALE;
	} else if (dstor_tree_fp_check(offset, count, t->n)) {
		status = DSTOR_ST_INVAL;
	} else if (dstor_get64(gen) != t->generation) {
		status = DSTOR_ST_STALE;
	} else {
		memcpy(buf, gen, DSTOR_TREE_GEN_LEN);
		memcpy(buf + DSTOR_TREE_GEN_LEN,
		       t->level[level] + first * DSTOR_TREE_HASH,
		       count * DSTOR_TREE_HASH);
		status = DSTOR_ST_OK;
	}
	rcu_read_unlock();
	return status;
}

void dstor_tree_status(struct dstor_export *exp, struct dstor_tree_status *st)
{
	struct dstor_tree_slot *ts = &exp->tree;
	struct dstor_tree *t;

	memset(st, 0, sizeof(*st));
	st->block_size = ts->block_size;
	if (!st->block_size)
		return;
	st->built = READ_ONCE(ts->built);
	st->err = READ_ONCE(ts->err);
	rcu_read_lock();
	t = rcu_dereference(ts->tree);
	if (t) {
		st->published = true;
		st->leaves = t->n;
		st->generation = t->generation;
		memcpy(st->root, t->root, DSTOR_TREE_HASH);
	}
	rcu_read_unlock();
}
