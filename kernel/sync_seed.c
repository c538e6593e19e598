// SPDX-License-Identifier: GPL-2.0
/*
 * SEEDING (dstor sync --seed): before anything travels, a sync looks for
 * the target's stale blocks in its seeds, block devices or regular files
 * holding data like the export's. Each seed is read a block of the
 * export's size at a time, at multiples of that size; a block whose hash
 * is a stale leaf's is written as every stale block with that leaf, and
 * verified later like a block received. By multicast and over TCP alike.
 */
#include <crypto/algapi.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sort.h>

#include "sync_int.h"

/* A stale block, by the first bytes of its leaf hash. */
struct seed_want {
	u64 key;
	u64 index;
};

static u64 want_key(const u8 *hash)
{
	u64 key;

	memcpy(&key, hash, sizeof(key));
	return key;
}

static int want_cmp(const void *a, const void *b)
{
	const struct seed_want *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The first of the @n sorted wants whose key is not below @key. */
static size_t want_find(const struct seed_want *w, size_t n, u64 key)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (w[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * A seed's block, in @b, hashes to @h: write it as every stale block with
 * that leaf, from @b and copies of it. What is written is what was
 * hashed, so it is verified like a block assembled from packets. 0 or a
 * write error.
 */
static int seed_match(struct dstor_sync *s, const struct seed_want *w,
		      size_t n, struct dstor_sync_buf *b, const u8 *h)
{
	struct dstor_sync_buf *src = NULL;
	u64 key = want_key(h), index;
	size_t i;

	for (i = want_find(w, n, key); i < n && w[i].key == key; i++) {
		/* One block may be wanted everywhere: blocks of zeros. */
		if (dstor_sync_stopping())
			return -EINTR;
		index = w[i].index;
		if (test_bit(index, s->good) ||
		    crypto_memneq(h, s->leaves + index * DSTOR_MC_HASH,
				  DSTOR_MC_HASH))
			continue;
		if (src) {
			/* src is busy until its write has been reaped. */
			b = dstor_sync_buf_idle(&s->t);
			if (IS_ERR(b))
				return PTR_ERR(b);
			if (b != src)
				dstor_sync_buf_dup(&s->t, b, src);
		}
		dstor_sync_write(&s->t, b, index);
		src = b;
		dstor_sync_block_written(s, index, h);
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_SEEDED, 1);
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_SEEDED_BYTES,
			       sync_block_len(s, index));
	}
	return 0;
}

/*
 * Read seed @f a block of the export's size at a time, at multiples of
 * that size, and take what matches. A seed that cannot be read is left
 * (logged): 0, or the sync's error (-EINTR when stopped).
 */
static int seed_file(struct dstor_sync *s, struct file *f,
		     const struct seed_want *w, size_t n)
{
	loff_t size = i_size_read(f->f_mapping->host), pos;
	u32 bs = s->ann.block_size;
	struct dstor_sync_buf *b;
	u8 h[DSTOR_MC_HASH];
	int ret;

	if (size < bs) {
		pr_warn("sync %s: seed %pD has %lld bytes, less than a block of the export (%u): not used\n",
			s->name, f, size, bs);
		return 0;
	}
	for (pos = 0; pos <= size - bs && s->good_count < s->ann.blocks;
	     pos += bs) {
		if (dstor_sync_stopping())
			return -EINTR;
		b = dstor_sync_buf_idle(&s->t);
		if (IS_ERR(b))
			return PTR_ERR(b);
		ret = dstor_sync_seed_read(&s->t, f, pos, b);
		if (ret && dstor_sync_stopping())
			return -EINTR;
		if (ret) {
			pr_warn("sync %s: reading seed %pD at byte %lld failed (%d): nothing more is taken from it\n",
				s->name, f, pos, ret);
			return 0;
		}
		dstor_mc_leaf_pages(s->kt, s->zero_leaf, bs, b->pages, bs, h);
		ret = seed_match(s, w, n, b, h);
		if (ret)
			return ret;
		cond_resched();
	}
	return 0;
}

/*
 * SEEDING: before anything travels, the stale blocks are looked for in
 * the seeds. The stale leaves are indexed (sorted by hash), not the
 * seeds: memory is bounded by the export, whatever the seeds' sizes, and
 * each seed is read once. 0 or the sync's error.
 */
int dstor_sync_seed(struct dstor_sync *s)
{
	u64 before = s->good_count;
	struct seed_want *w;
	size_t n = 0, cap;
	unsigned long i;
	unsigned int k;
	int ret = 0;

	if (!s->nr_seeds || s->good_count == s->ann.blocks)
		return 0;
	sync_set_state(s, DSTOR_SYNC_STATE_SEEDING);
	cap = s->ann.blocks - s->good_count;
	w = kvmalloc_array(cap, sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	for_each_clear_bit(i, s->good, s->ann.blocks) {
		if (WARN_ON_ONCE(n == cap))
			break;
		w[n].key = want_key(s->leaves + i * DSTOR_MC_HASH);
		w[n++].index = i;
	}
	sort(w, n, sizeof(*w), want_cmp, NULL);
	for (k = 0; k < s->nr_seeds && !ret; k++)
		ret = seed_file(s, s->seeds[k], w, n);
	kvfree(w);
	if (!ret)
		ret = dstor_sync_drain(&s->t);
	if (!ret)
		pr_info("sync %s: %llu of %llu stale blocks copied from seeds\n",
			s->name, s->good_count - before, s->ann.blocks - before);
	return ret;
}
