// SPDX-License-Identifier: GPL-2.0
/*
 * A sync's target (Documentation/multicast.md, "Receiving"): the block
 * device a sync writes, read and written a block of the export at a time,
 * with bios around the page cache.
 *
 * For each tree the target is shaped: its geometry checked against the
 * device and a pool of block buffers allocated, at most SYNC_POOL_BYTES of
 * pages and SYNC_POOL_MAX buffers. sync_mcast.c assembles blocks in them
 * and hands verified ones to dstor_sync_write(), which returns at once: the
 * thread goes on receiving while the bio is in flight, and reaps ended
 * writes (dstor_sync_reap()) before it reuses a buffer. dstor_sync_read()
 * reads blocks into the first SYNC_READ_DEPTH buffers, that many in flight
 * while the caller hashes the one before.
 *
 * A block may be smaller than a page (a 4 KiB block on a kernel with
 * 64 KiB pages): it then takes one page of its own, and nothing here
 * divides a block size by the page size. A chunk of a DATA packet never
 * straddles a page: chunks start at multiples of DSTOR_MC_CHUNK, which
 * divides PAGE_SIZE.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/slab.h>

#include "pages.h"
#include "sync.h"

#define SYNC_POOL_BYTES		(16U << 20)	/* blocks being assembled */
#define SYNC_POOL_MAX		256
#define SYNC_READ_DEPTH		4		/* target reads in flight */

void dstor_sync_target_init(struct dstor_sync_target *t, const char *name,
			    const char *path)
{
	t->name = name;
	t->path = path;
	init_waitqueue_head(&t->wq);
}

/*
 * Open the target exclusively for writing: -EBUSY when it is in use,
 * -EROFS (or, from 6.12, -EACCES) when it is read-only.
 */
int dstor_sync_target_open(struct dstor_sync_target *t, void *holder)
{
	int ret;

	ret = dstor_bdev_open(&t->bdev, t->path, true, holder);
	if (ret) {
		t->bdev.bdev = NULL;
		return ret;
	}
	if (bdev_read_only(t->bdev.bdev)) {
		dstor_bdev_close(&t->bdev);
		return -EROFS;
	}
	t->dev_size = bdev_nr_bytes(t->bdev.bdev);
	return 0;
}

/* Once every write has ended: the pool goes, the target is closed. */
void dstor_sync_target_close(struct dstor_sync_target *t)
{
	dstor_sync_target_unshape(t);
	if (!t->bdev.bdev)
		return;
	/* We wrote around the page cache. */
	invalidate_bdev(t->bdev.bdev);
	dstor_bdev_close(&t->bdev);
}

/* Wait for the writes in flight, then free the pool. */
void dstor_sync_target_unshape(struct dstor_sync_target *t)
{
	unsigned int i;

	dstor_sync_drain(t);
	for (i = 0; t->bufs && i < t->nr_bufs; i++) {
		dstor_pages_free(t->bufs[i].pages, t->nr_pages);
		kfree(t->bufs[i].pages);
	}
	kfree(t->bufs);
	t->bufs = NULL;
	t->nr_bufs = 0;
}

/*
 * Shape the target for a tree of geometry @a (checked by the announce
 * decoder: a power-of-two block size within the protocol's bounds): it
 * must fit the device, in whole sectors. -ENOSPC, -EINVAL (logged) or
 * -ENOMEM.
 */
int dstor_sync_target_shape(struct dstor_sync_target *t,
			    const struct dstor_mc_announce *a)
{
	unsigned int lbs = bdev_logical_block_size(t->bdev.bdev), i;
	struct dstor_sync_buf *b;

	dstor_sync_target_unshape(t);
	if (a->size > t->dev_size) {
		pr_err("sync %s: the export has %llu bytes, %s only %llu\n",
		       t->name, a->size, t->path, t->dev_size);
		return -ENOSPC;
	}
	if (a->size % lbs || a->block_size % lbs) {
		pr_err("sync %s: the export's geometry (%llu bytes, blocks of %u) does not fit %s's %u-byte sectors\n",
		       t->name, a->size, a->block_size, t->path, lbs);
		return -EINVAL;
	}
	t->size = a->size;
	t->block_size = a->block_size;
	t->blocks = a->blocks;
	t->nr_pages = DIV_ROUND_UP(a->block_size, PAGE_SIZE);
	/* dstor_sync_read() reads into the first SYNC_READ_DEPTH buffers. */
	BUILD_BUG_ON(SYNC_POOL_BYTES / DSTOR_MC_MAX_BLOCK < SYNC_READ_DEPTH);
	t->nr_bufs = clamp_t(unsigned int,
			     SYNC_POOL_BYTES / (t->nr_pages * PAGE_SIZE),
			     SYNC_READ_DEPTH, SYNC_POOL_MAX);
	t->bufs = kcalloc(t->nr_bufs, sizeof(*t->bufs), GFP_KERNEL);
	if (!t->bufs)
		goto nomem;
	for (i = 0; i < t->nr_bufs; i++) {
		b = &t->bufs[i];
		b->t = t;
		b->pages = kcalloc(t->nr_pages, sizeof(*b->pages), GFP_KERNEL);
		if (!b->pages)
			goto nomem;
		if (dstor_pages_alloc(b->pages, t->nr_pages, GFP_KERNEL))
			goto nomem;
	}
	return 0;
nomem:
	dstor_sync_target_unshape(t);
	return -ENOMEM;
}

/* Bytes of block @index: the last block of the export may be short. */
u32 dstor_sync_block_len(const struct dstor_sync_target *t, u64 index)
{
	return dstor_mc_block_len(t->size, t->block_size, index);
}

/* @len bytes of block data at @offset, a multiple of DSTOR_MC_CHUNK. */
void dstor_sync_buf_copy(struct dstor_sync_buf *b, u32 offset,
			 const void *src, u32 len)
{
	BUILD_BUG_ON(PAGE_SIZE % DSTOR_MC_CHUNK);
	memcpy_to_page(b->pages[offset >> PAGE_SHIFT], offset_in_page(offset),
		       src, len);
}

/* A bio for block @index of the target, over @b's pages. */
static struct bio *block_bio(struct dstor_sync_target *t,
			     struct dstor_sync_buf *b, u64 index,
			     blk_opf_t opf)
{
	u32 len = dstor_sync_block_len(t, index), n;
	struct bio *bio;
	unsigned int i;

	bio = bio_alloc(t->bdev.bdev, DIV_ROUND_UP(len, PAGE_SIZE), opf,
			GFP_KERNEL);
	bio->bi_iter.bi_sector = (index * t->block_size) >> SECTOR_SHIFT;
	for (i = 0; len; i++, len -= n) {
		n = min_t(u32, len, PAGE_SIZE);
		__bio_add_page(bio, b->pages[i], n, 0);
	}
	return bio;
}

/* A read in flight while the caller hashes the block before. */
struct sync_read {
	struct completion done;
	u64 index;
	int status;
};

static void read_end(struct bio *bio)
{
	struct sync_read *r = bio->bi_private;

	r->status = blk_status_to_errno(bio->bi_status);
	bio_put(bio);
	complete(&r->done);
}

static void read_start(struct dstor_sync_target *t, struct dstor_sync_buf *b,
		       u64 index, struct sync_read *r)
{
	struct bio *bio = block_bio(t, b, index, REQ_OP_READ);

	init_completion(&r->done);
	r->index = index;
	bio->bi_private = r;
	bio->bi_end_io = read_end;
	submit_bio(bio);
}

/* The next block to read from @i on; t->blocks when none. */
static u64 next_read(const struct dstor_sync_target *t,
		     const unsigned long *only, u64 i)
{
	return only ? find_next_bit(only, t->blocks, i) : i;
}

/*
 * Read every block of the target (or, with @only, those set in that
 * bitmap) in order, and call @each with each one's pages, which are only
 * valid until it returns. Writes in flight end first; reading every
 * block, so does what was written through the page cache before. 0, the
 * first error, or -EINTR when the thread is being stopped.
 */
int dstor_sync_read(struct dstor_sync_target *t, const unsigned long *only,
		    void (*each)(void *arg, u64 index, struct page **pages),
		    void *arg)
{
	struct sync_read rd[SYNC_READ_DEPTH];
	unsigned int head = 0, busy = 0, cur;
	u64 next;
	int ret;

	ret = dstor_sync_drain(t);
	if (ret)
		return ret;
	if (!only)
		sync_blockdev(t->bdev.bdev);
	next = next_read(t, only, 0);
	while (busy || next < t->blocks) {
		while (busy < SYNC_READ_DEPTH && next < t->blocks) {
			cur = (head + busy++) % SYNC_READ_DEPTH;
			read_start(t, &t->bufs[cur], next, &rd[cur]);
			next = next_read(t, only, next + 1);
		}
		/* Started in order: rd[head] is the oldest. */
		cur = head;
		head = (head + 1) % SYNC_READ_DEPTH;
		busy--;
		wait_for_completion(&rd[cur].done);
		ret = rd[cur].status;
		if (ret) {
			pr_err("sync %s: reading block %llu of %s failed (%d)\n",
			       t->name, rd[cur].index, t->path, ret);
			break;
		}
		if (dstor_sync_stopping()) {
			ret = -EINTR;
			break;
		}
		each(arg, rd[cur].index, t->bufs[cur].pages);
		cond_resched();
	}
	/* The reads still in flight use the buffers' pages. */
	for (; busy; busy--, head = (head + 1) % SYNC_READ_DEPTH)
		wait_for_completion(&rd[head].done);
	return ret;
}

static void write_end(struct bio *bio)
{
	struct dstor_sync_buf *b = bio->bi_private;
	struct dstor_sync_target *t = b->t;
	unsigned long flags;

	b->status = blk_status_to_errno(bio->bi_status);
	bio_put(bio);
	/* @status before @written: dstor_sync_reap() reads them so. */
	smp_store_release(&b->written, true);
	/* Under the lock: dstor_sync_drain() knows when we are done. */
	spin_lock_irqsave(&t->wq.lock, flags);
	atomic_inc(&t->written);
	atomic_dec(&t->writes);
	wake_up_locked(&t->wq);
	spin_unlock_irqrestore(&t->wq.lock, flags);
}

/*
 * Write @b as block @index; @b is busy (@writing) until
 * dstor_sync_reap() has seen the write end.
 */
void dstor_sync_write(struct dstor_sync_target *t, struct dstor_sync_buf *b,
		      u64 index)
{
	struct bio *bio = block_bio(t, b, index, REQ_OP_WRITE);

	bio->bi_private = b;
	bio->bi_end_io = write_end;
	b->index = index;
	b->writing = true;
	b->written = false;
	atomic_inc(&t->writes);
	submit_bio(bio);
}

/* Free the buffers whose write has ended; the first write error, if any. */
int dstor_sync_reap(struct dstor_sync_target *t)
{
	struct dstor_sync_buf *b;
	unsigned int i;
	int ret = 0;

	if (!atomic_read(&t->written))
		return 0;
	for (i = 0; i < t->nr_bufs; i++) {
		b = &t->bufs[i];
		/* @written, then @status: write_end() */
		if (!b->writing || !smp_load_acquire(&b->written))
			continue;
		atomic_dec(&t->written);
		if (b->status && !ret) {
			pr_err("sync %s: writing block %llu of %s failed (%d)\n",
			       t->name, b->index, t->path, b->status);
			ret = b->status;
		}
		b->writing = false;
	}
	return ret;
}

/* Wait for every write in flight, then reap them. */
int dstor_sync_drain(struct dstor_sync_target *t)
{
	wait_event(t->wq, !atomic_read(&t->writes));
	/* The last completion has left t->wq.lock: it no longer touches @t. */
	spin_lock_irq(&t->wq.lock);
	spin_unlock_irq(&t->wq.lock);
	return dstor_sync_reap(t);
}

/*
 * A buffer with no write in flight, waiting for one to end if need be; an
 * ERR_PTR when a write failed.
 */
struct dstor_sync_buf *dstor_sync_buf_idle(struct dstor_sync_target *t)
{
	unsigned int i;
	int ret;

	for (;;) {
		ret = dstor_sync_reap(t);
		if (ret)
			return ERR_PTR(ret);
		for (i = 0; i < t->nr_bufs; i++)
			if (!t->bufs[i].writing)
				return &t->bufs[i];
		wait_event(t->wq, atomic_read(&t->written));
	}
}

/* A copy of the block in @from (its write may be in flight) into @to. */
void dstor_sync_buf_dup(struct dstor_sync_target *t, struct dstor_sync_buf *to,
			const struct dstor_sync_buf *from)
{
	unsigned int i;

	for (i = 0; i < t->nr_pages; i++)
		copy_highpage(to->pages[i], from->pages[i]);
}

/*
 * Read a block of the export's size from seed @f at @pos into @b, through
 * the seed's page cache: 0, -ENODATA when the seed ends first, or the
 * read's error.
 */
int dstor_sync_seed_read(struct dstor_sync_target *t, struct file *f,
			 loff_t pos, struct dstor_sync_buf *b)
{
	u32 len = t->block_size, done = 0, n;
	ssize_t r;
	void *p;

	while (done < len) {
		n = min_t(u32, len - done, PAGE_SIZE - offset_in_page(done));
		p = kmap_local_page(b->pages[done >> PAGE_SHIFT]);
		r = kernel_read(f, p + offset_in_page(done), n, &pos);
		kunmap_local(p);
		if (r < 0)
			return r;
		if (!r)
			return -ENODATA;
		done += r;
	}
	return 0;
}

/* What was written is on the target's media (logged when not). */
int dstor_sync_flush(struct dstor_sync_target *t)
{
	int ret = blkdev_issue_flush(t->bdev.bdev);

	if (ret)
		pr_err("sync %s: flushing %s failed (%d)\n", t->name, t->path,
		       ret);
	/*
	 * The blocks went by bio, past the target's page cache: what it
	 * holds of them (read before the sync, or between two rounds) is
	 * stale. Clean pages only: a writer that opened the target without
	 * O_EXCL keeps its dirty ones (and is what a scrub is for).
	 */
	invalidate_bdev(t->bdev.bdev);
	return ret;
}
