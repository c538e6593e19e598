/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels dstor supports lives here, so the
 * rest of the module is free of version checks. Supported: 6.1 LTS (Debian
 * 12) and 6.10 and later (6.12 LTS, Debian 12 backports and Debian 13).
 */
#ifndef _DSTOR_COMPAT_H
#define _DSTOR_COMPAT_H

#include <linux/version.h>
#include <linux/blkdev.h>
#include <linux/blk-mq.h>
#include <linux/bvec.h>
#include <linux/fs.h>
#include <linux/file.h>
#include <net/genetlink.h>
#include <net/sock.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0) && \
	LINUX_VERSION_CODE < KERNEL_VERSION(6, 10, 0)
#error "dstor supports Linux 6.1 to 6.4 and 6.10 or later"
#endif

#define DSTOR_NEW_BLOCK_API (LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0))

/* An opened backing block device. */
struct dstor_bdev {
	struct block_device *bdev;
#if DSTOR_NEW_BLOCK_API
	struct file *file;
#else
	fmode_t mode;
#endif
};

/* Open @path exclusively for @holder; read-only unless @write. */
static inline int dstor_bdev_open(struct dstor_bdev *b, const char *path,
				  bool write, void *holder)
{
#if DSTOR_NEW_BLOCK_API
	blk_mode_t mode = BLK_OPEN_READ | (write ? BLK_OPEN_WRITE : 0);

	b->file = bdev_file_open_by_path(path, mode, holder, NULL);
	if (IS_ERR(b->file))
		return PTR_ERR(b->file);
	b->bdev = file_bdev(b->file);
#else
	b->mode = FMODE_READ | FMODE_EXCL | (write ? FMODE_WRITE : 0);
	b->bdev = blkdev_get_by_path(path, b->mode, holder);
	if (IS_ERR(b->bdev))
		return PTR_ERR(b->bdev);
#endif
	return 0;
}

static inline void dstor_bdev_close(struct dstor_bdev *b)
{
#if DSTOR_NEW_BLOCK_API
	bdev_fput(b->file);
#else
	blkdev_put(b->bdev, b->mode);
#endif
	b->bdev = NULL;
}

/* What an import's queue looks like, applied the way each kernel wants. */
struct dstor_limits {
	unsigned int logical_block_size;
	unsigned int physical_block_size;
	unsigned int max_hw_sectors;
	unsigned int max_discard_sectors;
	unsigned int max_write_zeroes_sectors;
	bool write_cache;
	bool fua;
	bool rotational;
};

static inline struct gendisk *dstor_alloc_disk(struct blk_mq_tag_set *set,
					       const struct dstor_limits *l,
					       void *queuedata)
{
#if DSTOR_NEW_BLOCK_API
	struct queue_limits lim = {
		.logical_block_size = l->logical_block_size,
		.physical_block_size = l->physical_block_size,
		.max_hw_sectors = l->max_hw_sectors,
		.max_hw_discard_sectors = l->max_discard_sectors,
		.max_write_zeroes_sectors = l->max_write_zeroes_sectors,
		.discard_granularity = l->max_discard_sectors ?
				       l->logical_block_size : 0,
	};

	if (l->write_cache)
		lim.features |= BLK_FEAT_WRITE_CACHE;
	if (l->write_cache && l->fua)
		lim.features |= BLK_FEAT_FUA;
	if (l->rotational)
		lim.features |= BLK_FEAT_ROTATIONAL;
	return blk_mq_alloc_disk(set, &lim, queuedata);
#else
	struct gendisk *disk = blk_mq_alloc_disk(set, queuedata);
	struct request_queue *q;

	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_logical_block_size(q, l->logical_block_size);
	blk_queue_physical_block_size(q, l->physical_block_size);
	blk_queue_max_hw_sectors(q, l->max_hw_sectors);
	blk_queue_max_discard_sectors(q, l->max_discard_sectors);
	blk_queue_max_write_zeroes_sectors(q, l->max_write_zeroes_sectors);
	if (l->max_discard_sectors)
		q->limits.discard_granularity = l->logical_block_size;
	blk_queue_write_cache(q, l->write_cache, l->write_cache && l->fua);
	if (!l->rotational)
		blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	return disk;
#endif
}

/*
 * block_device_operations.open: both shapes call dstor_disk_open(), which
 * the importer defines.
 */
int dstor_disk_open(struct gendisk *disk);
#if DSTOR_NEW_BLOCK_API
static inline int dstor_compat_open(struct gendisk *disk, blk_mode_t mode)
{
	return dstor_disk_open(disk);
}
#else
static inline int dstor_compat_open(struct block_device *bdev, fmode_t mode)
{
	return dstor_disk_open(bdev->bd_disk);
}
#endif

/*
 * Sockets that carry writeback must not allocate from the task's page
 * fragment (6.2 and later have the switch; 6.1 always uses the socket's).
 */
static inline void dstor_sock_no_task_frag(struct sock *sk)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	sk->sk_use_task_frag = false;
#endif
}

/* A bio_vec over a buffer in the linear map (6.4 has bvec_set_virt()). */
static inline void dstor_bvec_virt(struct bio_vec *bv, void *vaddr,
				   unsigned int len)
{
	bvec_set_page(bv, virt_to_page(vaddr), len, offset_in_page(vaddr));
}

/*
 * Send the pages of @msg's ITER_BVEC without copying them: TCP takes a
 * reference to each page it queues. Every page must pass sendpage_ok().
 * 6.5 and later splice them (MSG_SPLICE_PAGES); 6.1 sends them one page
 * piece at a time with kernel_sendpage(). Returns the bytes queued, or
 * what sock_sendmsg() would (0 or an error) when none were.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
static inline int dstor_sendmsg_pages(struct socket *sock, struct msghdr *msg)
{
	msg->msg_flags |= MSG_SPLICE_PAGES;
	return sock_sendmsg(sock, msg);
}
#else
static inline int dstor_sendmsg_pages(struct socket *sock, struct msghdr *msg)
{
	struct iov_iter *it = &msg->msg_iter;
	int sent = 0, ret = 0;

	while (iov_iter_count(it)) {
		const struct bio_vec *bv = it->bvec;
		size_t off = bv->bv_offset + it->iov_offset;
		size_t len = min3((size_t)bv->bv_len - it->iov_offset,
				  iov_iter_count(it), PAGE_SIZE - off % PAGE_SIZE);
		struct page *page = nth_page(bv->bv_page, off / PAGE_SIZE);
		int flags = msg->msg_flags;

		if (len < iov_iter_count(it))
			flags |= MSG_MORE | MSG_SENDPAGE_NOTLAST;
		ret = kernel_sendpage(sock, page, off % PAGE_SIZE, len, flags);
		if (ret <= 0)
			break;
		sent += ret;
		iov_iter_advance(it, ret);
		if (ret < len)
			break;
	}
	return sent ?: ret;
}
#endif

/* What a genl family's pre_doit and post_doit are handed. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define dstor_genl_split_ops genl_split_ops
#else
#define dstor_genl_split_ops genl_ops
#endif

/* What a socket dropped: UDP counts it per NUMA node from 6.18 on. */
static inline unsigned int dstor_sk_drops(const struct sock *sk)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 18, 0)
	return sk_drops_read(sk);
#else
	return atomic_read(&sk->sk_drops);
#endif
}

#endif /* _DSTOR_COMPAT_H */
