/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a frame's payload lives: a chain of bios (a request's, linked by
 * bi_next, each read from its own bi_iter; or one bio of the exporter's
 * own, read from an iterator over its whole vector) or a flat buffer.
 * A struct dstor_data is a cursor: the socket and the sealing code take
 * bytes from it and advance it.
 */
#ifndef _DSTOR_DATA_H
#define _DSTOR_DATA_H

#include <linux/bio.h>
#include <linux/bvec.h>
#include <linux/scatterlist.h>
#include <linux/uio.h>

struct dstor_data {
	struct bio *bio;		/* first bio, read from @iter on */
	struct bvec_iter iter;		/* where @bio's data starts */
	void *buf;			/* or this buffer (when @bio is NULL) */
	u32 len;			/* bytes left */
};

static inline void dstor_data_bio(struct dstor_data *d, struct bio *bio,
				  struct bvec_iter iter, u32 len)
{
	d->bio = bio;
	d->iter = iter;
	d->buf = NULL;
	d->len = len;
}

static inline void dstor_data_buf(struct dstor_data *d, void *buf, u32 len)
{
	d->bio = NULL;
	d->buf = buf;
	d->len = len;
}

static inline bool dstor_data_dropped(const struct dstor_data *d)
{
	return !d->bio && !d->buf;
}

/* Move @d past @n bytes (at most what is left). */
static inline void dstor_data_advance(struct dstor_data *d, u32 n)
{
	d->len -= n;
	if (!d->bio) {
		if (d->buf)
			d->buf += n;
		return;
	}
	while (n) {
		u32 step = min(n, d->iter.bi_size);

		bio_advance_iter(d->bio, &d->iter, step);
		n -= step;
		if (!d->iter.bi_size && d->len) {
			d->bio = d->bio->bi_next;
			d->iter = d->bio->bi_iter;
		}
	}
}

/*
 * An iov_iter over what is left of @d's current piece (the current bio's
 * remaining data, or the buffer), at most @max bytes. @kv backs a buffer.
 */
static inline void dstor_data_iter(struct dstor_data *d, unsigned int dir,
				   struct iov_iter *it, struct kvec *kv,
				   u32 max)
{
	u32 n = min(d->len, max);
	const struct bio_vec *bv;
	unsigned long nr = 0;
	u32 left;

	if (!d->bio) {
		kv->iov_base = d->buf;
		kv->iov_len = n;
		if (d->buf)
			iov_iter_kvec(it, dir, kv, 1, n);
		else
			iov_iter_discard(it, dir, n);
		return;
	}
	n = min(n, d->iter.bi_size);
	bv = __bvec_iter_bvec(d->bio->bi_io_vec, d->iter);
	/*
	 * Count the vectors the n bytes span: bi_vcnt means nothing in a
	 * cloned or split bio, which shares its parent's vector.
	 */
	for (left = d->iter.bi_bvec_done + n; left; nr++)
		left -= min(left, bv[nr].bv_len);
	iov_iter_bvec(it, dir, bv, nr, d->iter.bi_bvec_done + n);
	iov_iter_advance(it, d->iter.bi_bvec_done);
}

/*
 * Describe the next @len bytes of @d as scatterlist entries from @sg[@i]
 * on, one page piece each, and advance @d. Returns the next free index,
 * or -E2BIG when more than @max entries would be needed.
 */
static inline int dstor_data_sg(struct dstor_data *d, u32 len,
				struct scatterlist *sg, int i, int max)
{
	while (len) {
		struct bio_vec bv;
		u32 n;

		if (i >= max)
			return -E2BIG;
		if (!d->bio) {
			sg_set_buf(&sg[i++], d->buf, len);
			dstor_data_advance(d, len);
			return i;
		}
		bv = bio_iter_iovec(d->bio, d->iter);
		n = min(len, bv.bv_len);
		sg_set_page(&sg[i++], bv.bv_page, n, bv.bv_offset);
		dstor_data_advance(d, n);
		len -= n;
	}
	return i;
}

#endif /* _DSTOR_DATA_H */
