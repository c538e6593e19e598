// SPDX-License-Identifier: GPL-2.0
/*
 * Receiving an export served by multicast into a local block device
 * (Documentation/multicast.md): dstor sync.
 *
 * One kthread per sync runs the whole receiver, blocking on its own UDP
 * socket with a short timeout so that stopping it is prompt:
 *
 *	WAITING    on the announce group, for a verified ANNOUNCE
 *	TREE       on the tree group, until every leaf hash is in and the
 *		   recomputed root is the announced one
 *	HASHING    the target, block by block: good or stale
 *	SEEDING    (with seeds) each seed, a block of the export's size at a
 *		   time: one whose hash is a stale leaf's is written there
 *		   (see dstor_sync_seed())
 *	RECEIVING  on the largest channels holding stale leaves only (at most
 *		   SYNC_MAX_CHANNELS, coarser ones past that); blocks are
 *		   assembled in the target's pool of buffers (sync_io.c),
 *		   checked against their leaf and written (the bio in
 *		   flight while receiving goes on; the buffer is reaped when
 *		   it ends); a channel is left once its leaves are all good
 *	VERIFYING  flush, re-read and re-hash every block written, root
 *		   check: DONE, or back to RECEIVING for what differs
 *
 * A verified ANNOUNCE of another tree (the export was added again) starts
 * over from TREE at any point. Memory is allocated once per tree, bounded
 * by the export's geometry (DSTOR_MC_MAX_BLOCKS leaves) and the pool size;
 * a packet never allocates, and anything malformed or unverifiable is
 * dropped and counted (SYNC_PACKETS_BAD).
 *
 * When the sync ends (DONE, FAILED or stopped) the thread leaves its
 * groups, releases the socket and closes the target; the sync stays listed
 * until SYNC_DEL, or until its network namespace goes away.
 *
 * This file holds the syncs of the machine and each one's life: adding one
 * (its socket, target and seeds), its thread, the tree's memory and the
 * target's hashes, removing it. The states are the other files of
 * sync_int.h: sync_mcast.c (by multicast), sync_seed.c (SEEDING),
 * sync_tcp.c (over TCP) and sync_repair.c (multicast repaired over TCP).
 * The target's I/O is sync_io.c's, netlink netlink_sync.c's: this file
 * offers them the calls of sync.h.
 */
#include <crypto/algapi.h>
#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/in6.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/netdevice.h>
#include <linux/udp.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "sync.h"
#include "sync_int.h"

/*
 * A multicast sync's socket receive buffer, in truesize (about half of it
 * data), taken when a sync is added: it absorbs the thread's pauses.
 */
#define SYNC_RCVBUF_MIN		(64U << 10)
#define SYNC_RCVBUF_MAX		(256U << 20)

static int rcvbuf_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, SYNC_RCVBUF_MIN, SYNC_RCVBUF_MAX);
}

static const struct kernel_param_ops rcvbuf_ops = {
	.set = rcvbuf_set,
	.get = param_get_uint,
};

static unsigned int sync_rcvbuf = 4U << 20;
module_param_cb(sync_rcvbuf, &rcvbuf_ops, &sync_rcvbuf, 0644);
MODULE_PARM_DESC(sync_rcvbuf,
		 "Receive buffer of a multicast sync's socket, bytes of truesize, taken when a sync is added (65536..268435456, default 4194304)");

/*
 * Every sync of the machine, by index; sync_mutex serialises add, delete
 * and GET (a sync in the array is alive while the mutex is held).
 */
static DEFINE_XARRAY_ALLOC(syncs);
static DEFINE_MUTEX(sync_mutex);

/* ---- blocks ---- */

void dstor_sync_block_hash(struct dstor_sync *s, struct page **pages, u64 index,
			   u8 *out)
{
	dstor_mc_leaf_pages(s->kt, s->zero_leaf, s->ann.block_size, pages,
			    sync_block_len(s, index), out);
}

void dstor_sync_hash_read(void *arg, u64 index, struct page **pages)
{
	struct dstor_sync *s = arg;
	u8 *mine = s->mine + index * DSTOR_MC_HASH;
	u8 h[DSTOR_MC_HASH];

	dstor_sync_block_hash(s, pages, index, h);
	/* A scrub: the block is not what the sync last read or wrote. */
	if (s->scrubbing && crypto_memneq(h, mine, DSTOR_MC_HASH)) {
		if (!s->corrupt)
			pr_warn("sync %s: scrub: block %llu of %s changed behind the sync's back\n",
				s->name, index, s->path);
		s->corrupt++;
	}
	if (crypto_memneq(h, mine, DSTOR_MC_HASH)) {
		set_bit(index, s->changed);
		memcpy(mine, h, DSTOR_MC_HASH);
	}
}

/* A block whose hash in s->mine is its leaf is good; how many are. */
u64 dstor_sync_good_update(struct dstor_sync *s)
{
	u64 i, good = 0;

	for (i = 0; i < s->ann.blocks; i++) {
		if (crypto_memneq(s->mine + i * DSTOR_MC_HASH,
				  s->leaves + i * DSTOR_MC_HASH,
				  DSTOR_MC_HASH)) {
			clear_bit(i, s->good);
		} else {
			set_bit(i, s->good);
			good++;
		}
		if (!(i & 0xffff))
			cond_resched();
	}
	s->good_count = good;
	return good;
}

/* ---- the tree's memory ---- */

static void tree_free(struct dstor_sync *s)
{
	dstor_sync_target_unshape(&s->t);
	kfree(s->slots);
	kvfree(s->leaves);
	kvfree(s->mine);
	bitmap_free(s->tree_got);
	bitmap_free(s->tree_ok);
	kvfree(s->tree_fp);
	kvfree(s->good);
	kvfree(s->wrote);
	kvfree(s->changed);
	bitmap_free(s->fetch);
	bitmap_free(s->queue);
	s->fetch = NULL;
	s->queue = NULL;
	s->slots = NULL;
	s->nr_slots = 0;
	s->leaves = NULL;
	s->mine = NULL;
	s->tree_got = NULL;
	s->tree_ok = NULL;
	s->tree_fp = NULL;
	s->good = NULL;
	s->wrote = NULL;
	s->changed = NULL;
	if (s->dctx_ready)
		dstor_mc_ctx_free(&s->dctx);
	s->dctx_ready = false;
}

/* What a tree of s->ann's geometry needs; the target is shaped for it. */
static int tree_alloc(struct dstor_sync *s)
{
	u64 n = s->ann.blocks, pkts = DIV_ROUND_UP(n, DSTOR_MC_LEAVES_PER_PKT);
	unsigned int i;

	s->leaves = kvmalloc_array(n, DSTOR_MC_HASH, GFP_KERNEL);
	/* Zeroed: dstor_sync_hash_read() compares with what it held. */
	s->mine = kvcalloc(n, DSTOR_MC_HASH, GFP_KERNEL);
	s->tree_got = bitmap_zalloc(pkts, GFP_KERNEL);
	s->tree_ok = bitmap_zalloc(pkts, GFP_KERNEL);
	s->tree_fp = kvcalloc(pkts, SYNC_FP, GFP_KERNEL);
	/* Over TCP, n is bounded by memory (peer_fits()), not by kmalloc. */
	s->good = kvcalloc(BITS_TO_LONGS(n), sizeof(long), GFP_KERNEL);
	s->wrote = kvcalloc(BITS_TO_LONGS(n), sizeof(long), GFP_KERNEL);
	s->changed = kvcalloc(BITS_TO_LONGS(n), sizeof(long), GFP_KERNEL);
	s->slots = kcalloc(s->t.nr_bufs, sizeof(*s->slots), GFP_KERNEL);
	if (!s->leaves || !s->mine || !s->tree_got || !s->tree_ok ||
	    !s->tree_fp || !s->good || !s->wrote || !s->changed || !s->slots)
		return -ENOMEM;
	if (s->repair) {
		s->fetch = bitmap_zalloc(n, GFP_KERNEL);
		s->queue = bitmap_zalloc(n, GFP_KERNEL);
		if (!s->fetch || !s->queue)
			return -ENOMEM;
	}
	s->nr_slots = s->t.nr_bufs;
	for (i = 0; i < s->nr_slots; i++)
		s->slots[i].index = U64_MAX;
	return 0;
}

/* Take the tree of s->next: geometry, contexts and memory. */
int dstor_sync_tree_setup(struct dstor_sync *s)
{
	const struct dstor_mc_announce *a = &s->next;
	int ret;

	dstor_sync_chans_leave(s);
	tree_free(s);
	ret = dstor_sync_target_shape(&s->t, a);
	if (ret)
		return ret;
	spin_lock(&s->lock);
	s->ann = *a;
	s->epoch = s->next_epoch;
	s->known = true;
	spin_unlock(&s->lock);
	dstor_mc_zero_leaf(s->kt, a->block_size, s->zero_leaf);
	ret = tree_alloc(s);
	if (ret)
		return ret;
	atomic64_set(&s->stats.c[DSTOR_STAT_SYNC_BLOCKS], a->blocks);
	s->ann_seen = jiffies;
	if (sync_tcp(s))
		return 0;	/* no packets to open */
	ret = dstor_mc_ctx_init(&s->dctx, s->key.set ? s->key.key : NULL,
				s->actx_cipher, s->epoch, s->ann.root);
	if (ret)
		return ret;
	s->dctx_ready = true;
	return 0;
}

/* ---- the thread ---- */

static int sync_main(struct dstor_sync *s)
{
	int ret;

	ret = sync_tcp(s) ? dstor_sync_peer_main(s) : dstor_sync_mcast_main(s);
	/* Multicast's failures say why in the kernel log only. */
	if (ret < 0 && sync_tcp(s))
		dstor_sync_peer_why(s, ret);
	return ret;
}

/* Give back what the sync holds, once its thread has stopped or ended. */
static void sync_release(struct dstor_sync *s)
{
	if (s->sock) {
		/* The last pauses' drops too. Closing leaves its groups. */
		dstor_sync_drops_count(s);
		sock_release(s->sock);
		s->sock = NULL;
		s->nr_chans = 0;
		atomic64_set(&s->stats.c[DSTOR_STAT_SYNC_CHANNELS], 0);
	}
	if (s->sp) {
		dstor_sync_peer_disconnect(s);
		dstor_sync_peer_free(s);
	}
	dstor_sync_target_close(&s->t);
	while (s->nr_seeds)
		fput(s->seeds[--s->nr_seeds]);
	tree_free(s);
	if (s->actx_ready)
		dstor_mc_ctx_free(&s->actx);
	s->actx_ready = false;
	kfree(s->rx);
	s->rx = NULL;
	s->pkt = NULL;
	kfree(s->chans);
	s->chans = NULL;
}

static int sync_thread(void *arg)
{
	struct dstor_sync *s = arg;
	int ret;

	allow_signal(SIGKILL);
	ret = sync_main(s);
	sync_release(s);
	if (ret == -EINTR && !kthread_should_stop()) {
		/* Killed from user space, not stopped: that ends it too. */
		pr_warn("sync %s: killed\n", s->name);
		sync_set_state(s, DSTOR_SYNC_STATE_FAILED);
	} else if (!ret) {
		pr_info("sync %s: %s is up to date (%llu blocks, %lld received, %lld from seeds)\n",
			s->name, s->path, s->ann.blocks,
			atomic64_read(&s->stats.c[DSTOR_STAT_SYNC_VERIFIED]),
			atomic64_read(&s->stats.c[DSTOR_STAT_SYNC_SEEDED]));
		sync_set_state(s, DSTOR_SYNC_STATE_DONE);
	} else if (ret != -EINTR) {
		pr_err("sync %s: failed (%d)\n", s->name, ret);
		sync_set_state(s, DSTOR_SYNC_STATE_FAILED);
	}
	WRITE_ONCE(s->ended, ktime_get_ns());
	/* A SIGKILL would keep the wait below from sleeping. */
	flush_signals(current);
	/* Stay until SYNC_DEL stops us: it holds a reference to the task. */
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* ---- adding and removing ---- */

static void sync_free(struct dstor_sync *s)
{
	unsigned int i;

	if (s->task) {
		/* Ends a killable wait in a seed's read (sync_thread()). */
		send_sig(SIGKILL, s->task, 1);
		kthread_stop(s->task);
		put_task_struct(s->task);
	}
	sync_release(s);
	if (s->sp) {
		for (i = 0; i < DSTOR_PEER_MAX_REQS; i++)
			kfree(s->sp->buf[i]);
		kvfree(s->sp);
	}
	memzero_explicit(&s->key, sizeof(s->key));
	kfree(s);
}

static int sync_socket(struct dstor_sync *s, struct netlink_ext_ack *extack)
{
	struct sockaddr_in6 sin6 = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(DSTOR_MC_PORT),
		.sin6_addr = IN6ADDR_ANY_INIT,
	};
	struct in6_addr g;
	int ret, off = 0, on = 1;

	ret = sock_create_kern(s->net, AF_INET6, SOCK_DGRAM, IPPROTO_UDP,
			       &s->sock);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "cannot create the UDP socket");
		return ret;
	}
	/*
	 * Several syncs in one namespace share the port; each gets the
	 * groups it joined only, not every group joined on the host. The
	 * receive buffer absorbs the thread's pauses (a block's write, a
	 * busy CPU): a datagram dropped there costs a carousel round.
	 */
	s->sock->sk->sk_reuse = SK_CAN_REUSE;
	lock_sock(s->sock->sk);
	s->sock->sk->sk_userlocks |= SOCK_RCVBUF_LOCK;
	WRITE_ONCE(s->sock->sk->sk_rcvbuf, READ_ONCE(sync_rcvbuf));
	release_sock(s->sock->sk);
	ret = s->sock->ops->setsockopt(s->sock, SOL_IPV6, IPV6_MULTICAST_ALL,
				       KERNEL_SOCKPTR(&off), sizeof(off));
	/*
	 * Batches as the exporter sends them (UDP GSO), or as the NIC's GRO
	 * merges them: one receive for up to 64 KiB. Without it, datagram
	 * by datagram.
	 */
	if (!ret && s->sock->ops->setsockopt(s->sock, SOL_UDP, UDP_GRO,
					     KERNEL_SOCKPTR(&on), sizeof(on)))
		pr_info("sync %s: no UDP GRO: receiving datagram by datagram\n",
			s->name);
	if (!ret)
		ret = sock_bindtoindex(s->sock->sk, s->ifindex, true);
	if (!ret)
		ret = kernel_bind(s->sock, (struct sockaddr *)&sin6,
				  sizeof(sin6));
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack,
				   "cannot bind the multicast port on the interface");
		return ret;
	}
	s->sock->sk->sk_rcvtimeo = SYNC_RX_TIMEOUT;
	dstor_mc_group(s->name, DSTOR_MC_KIND_ANNOUNCE, 0, NULL, 0, &g);
	ret = dstor_sync_group_join(s, &g);
	if (ret)
		NL_SET_ERR_MSG_MOD(extack,
				   "cannot join the announce group on the interface (is IPv6 up on it?)");
	return ret;
}

/* A sync of any namespace: a block device is the machine's. */
static struct dstor_sync *sync_find_dev(dev_t dev)
{
	struct dstor_sync *s;
	unsigned long i;

	xa_for_each(&syncs, i, s)
		if (s->dev == dev)
			return s;
	return NULL;
}

/* Open the target; extack says what is wrong with it. */
static int sync_target(struct dstor_sync *s, struct netlink_ext_ack *extack)
{
	dev_t dev;
	int ret;

	ret = lookup_bdev(s->path, &dev);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack,
				   "cannot find the target block device");
		return ret;
	}
	if (sync_find_dev(dev)) {
		NL_SET_ERR_MSG_MOD(extack, "the target is already being synced");
		return -EEXIST;
	}
	ret = dstor_sync_target_open(&s->t, s);
	if (ret == -EBUSY)
		NL_SET_ERR_MSG_MOD(extack, "the target is in use");
	else if (ret == -EACCES || ret == -EROFS)
		/* 6.12 refuses to open a read-only disk for writing */
		NL_SET_ERR_MSG_MOD(extack, "the target is read-only");
	else if (ret)
		NL_SET_ERR_MSG_MOD(extack,
				   "cannot open the target for writing");
	else
		s->dev = s->t.bdev.bdev->bd_dev;
	return ret;
}

/*
 * Take the caller's seeds (cfg->seed_fds, in the caller's context): each
 * open for reading, on a block device or a regular file of at least the
 * smallest block, and not the target (netlink_sync.c has checked that the
 * sync is keyed or pinned). extack says what is wrong. The files are held
 * until the sync ends.
 */
static int sync_seeds(struct dstor_sync *s, const struct dstor_sync_cfg *cfg,
		      struct netlink_ext_ack *extack)
{
	struct inode *inode;
	struct file *f;
	unsigned int i;

	if (WARN_ON_ONCE(cfg->nr_seeds > DSTOR_SYNC_MAX_SEEDS))
		return -EINVAL;
	for (i = 0; i < cfg->nr_seeds; i++) {
		f = fget(cfg->seed_fds[i]);
		if (!f) {
			NL_SET_ERR_MSG_MOD(extack,
					   "a seed is not an open file descriptor");
			return -EBADF;
		}
		s->seeds[s->nr_seeds++] = f;
		inode = file_inode(f);
		/* What kernel_read() needs. */
		if (!(f->f_mode & FMODE_READ) ||
		    !(f->f_mode & FMODE_CAN_READ) || !f->f_op->read_iter ||
		    f->f_op->read) {
			NL_SET_ERR_MSG_MOD(extack,
					   "a seed is not open for reading");
			return -EBADF;
		}
		if (S_ISBLK(inode->i_mode) && inode->i_rdev == s->dev) {
			NL_SET_ERR_MSG_MOD(extack, "a seed is the target itself");
			return -EINVAL;
		}
		if (!S_ISBLK(inode->i_mode) && !S_ISREG(inode->i_mode)) {
			NL_SET_ERR_MSG_MOD(extack,
					   "a seed is neither a block device nor a regular file");
			return -EINVAL;
		}
		if (i_size_read(f->f_mapping->host) < DSTOR_MC_MIN_BLOCK) {
			NL_SET_ERR_MSG_MOD(extack,
					   "a seed is smaller than the smallest block (4 KiB)");
			return -EINVAL;
		}
	}
	return 0;
}

void dstor_sync_describe(struct dstor_sync *s, struct dstor_sync_info *si)
{
	u64 end = READ_ONCE(s->ended) ?: ktime_get_ns();
	int i;

	memset(si, 0, sizeof(*si));
	si->index = s->index;
	strscpy(si->name, s->name, sizeof(si->name));
	strscpy(si->path, s->path, sizeof(si->path));
	si->ifindex = s->ifindex;
	si->state = READ_ONCE(s->state);
	si->elapsed_ms = div_u64(end - s->started, NSEC_PER_MSEC);
	si->keyed = s->key.set;
	memcpy(si->key_id, s->key.id, sizeof(si->key_id));
	si->by_peer = sync_tcp(s);
	si->repair = s->repair;
	si->peer = s->peer;
	si->why = READ_ONCE(s->why);
	si->every = s->every;
	si->scrub = s->scrub;
	spin_lock(&s->lock);
	si->known = s->known;
	si->ann = s->ann;
	si->epoch = s->epoch;
	si->rounds = s->round_ended != 0;
	si->last_ms = div_u64(ktime_get_ns() - s->round_ended, NSEC_PER_MSEC);
	si->repaired = s->round_repaired;
	si->scrubbed = s->round_scrubbed;
	si->corrupt = s->round_corrupt;
	spin_unlock(&s->lock);
	for (i = 0; i < DSTOR_STAT_MAX; i++)
		atomic64_set(&si->stats.c[i], atomic64_read(&s->stats.c[i]));
}

/* What a sync by multicast needs: its interface, buffers for packets. */
static int sync_mcast_alloc(struct dstor_sync *s, struct netlink_ext_ack *extack,
			    enum dstor_sync_part *bad)
{
	struct net_device *nd;

	s->rx = kmalloc(SYNC_RX_MAX, GFP_KERNEL);
	s->chans = kcalloc(SYNC_MAX_CHANNELS, sizeof(*s->chans), GFP_KERNEL);
	if (!s->rx || !s->chans)
		return -ENOMEM;
	nd = dev_get_by_index(s->net, s->ifindex);
	if (!nd) {
		NL_SET_ERR_MSG_MOD(extack, "no such interface");
		*bad = DSTOR_SYNC_PART_IFACE;
		return -ENODEV;
	}
	dev_put(nd);
	return 0;
}

/* What a sync over TCP needs before it knows the export's geometry. */
static int sync_peer_alloc(struct dstor_sync *s,
			   const struct dstor_sync_cfg *cfg)
{
	unsigned int i;

	s->peer = *cfg->peer;
	s->sp = kvzalloc(sizeof(*s->sp), GFP_KERNEL);
	if (!s->sp)
		return -ENOMEM;
	/* TREE_INFO's reply or a TREE_FP's of 16 nodes. */
	for (i = 0; i < DSTOR_PEER_MAX_REQS; i++) {
		s->sp->buf[i] = kmalloc(dstor_tree_fp_reply_len(PEER_FP_NODES),
					GFP_KERNEL);
		if (!s->sp->buf[i])
			return -ENOMEM;
	}
	return 0;
}

static int sync_create(struct net *net, const struct dstor_sync_cfg *cfg,
		       struct netlink_ext_ack *extack,
		       enum dstor_sync_part *bad, struct dstor_sync **out)
{
	struct dstor_sync *s;
	u32 index;
	int ret;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	spin_lock_init(&s->lock);
	strscpy(s->name, cfg->name, sizeof(s->name));
	strscpy(s->path, cfg->path, sizeof(s->path));
	dstor_sync_target_init(&s->t, s->name, s->path);
	s->net = net;
	s->ifindex = cfg->ifindex;
	s->every = cfg->every;
	s->scrub = cfg->scrub;
	s->started = ktime_get_ns();
	s->state = DSTOR_SYNC_STATE_WAITING;
	if (cfg->key) {
		memcpy(s->key.key, cfg->key, DSTOR_KEY_LEN);
		dstor_key_id(s->key.key, s->key.id);
		s->key.set = true;
	}
	if (cfg->root) {
		memcpy(s->pin_root, cfg->root, DSTOR_MC_HASH_LEN);
		s->pinned = true;
	}
	dstor_mc_tree_key(cfg->key ? s->key.key : NULL, s->name, s->kt);
	s->repair = cfg->peer && cfg->mcast;
	ret = cfg->peer ? sync_peer_alloc(s, cfg) : 0;
	if (!ret && cfg->mcast)
		ret = sync_mcast_alloc(s, extack, bad);
	if (ret)
		goto err;

	ret = sync_target(s, extack);
	if (ret) {
		*bad = DSTOR_SYNC_PART_TARGET;
		goto err;
	}
	ret = sync_seeds(s, cfg, extack);
	if (ret) {
		*bad = DSTOR_SYNC_PART_SEEDS;
		goto err;
	}
	ret = sync_tcp(s) ? 0 : sync_socket(s, extack);
	if (ret)
		goto err;

	/* 31 bits: a dump's cursor (index + 1) fits an unsigned long. */
	ret = xa_alloc(&syncs, &index, s, xa_limit_31b, GFP_KERNEL);
	if (ret)
		goto err;
	s->index = index;
	s->task = kthread_create(sync_thread, s, "dstor-sync/%u", index);
	if (IS_ERR(s->task)) {
		ret = PTR_ERR(s->task);
		s->task = NULL;
		xa_erase(&syncs, index);
		goto err;
	}
	get_task_struct(s->task);
	wake_up_process(s->task);
	*out = s;
	return 0;
err:
	sync_free(s);
	return ret;
}

/*
 * Start a sync in @net (the requester's namespace) and describe it in
 * @info. On failure, extack says why and @bad which part of @cfg it was
 * about (DSTOR_SYNC_PART_NONE when none).
 */
int dstor_sync_add(struct net *net, const struct dstor_sync_cfg *cfg,
		   struct netlink_ext_ack *extack, enum dstor_sync_part *bad,
		   struct dstor_sync_info *info)
{
	struct dstor_sync *s;
	int ret;

	*bad = DSTOR_SYNC_PART_NONE;
	mutex_lock(&sync_mutex);
	ret = sync_create(net, cfg, extack, bad, &s);
	if (!ret)
		dstor_sync_describe(s, info);
	mutex_unlock(&sync_mutex);
	return ret;
}

/* Stop sync @index of @net and forget it; -ENOENT if @net has none. */
int dstor_sync_del(struct net *net, u32 index)
{
	struct dstor_sync *s;

	mutex_lock(&sync_mutex);
	s = xa_load(&syncs, index);
	if (s && net_eq(s->net, net))
		xa_erase(&syncs, index);
	else
		s = NULL;
	mutex_unlock(&sync_mutex);
	if (!s)
		return -ENOENT;
	sync_free(s);
	return 0;
}

/* Describe sync @index of @net; -ENOENT if @net has none. */
int dstor_sync_get(struct net *net, u32 index, struct dstor_sync_info *info)
{
	struct dstor_sync *s;
	int ret = -ENOENT;

	mutex_lock(&sync_mutex);
	s = xa_load(&syncs, index);
	if (s && net_eq(s->net, net)) {
		dstor_sync_describe(s, info);
		ret = 0;
	}
	mutex_unlock(&sync_mutex);
	return ret;
}

/*
 * Describe the sync of @net with the lowest index at or past *@pos, and
 * move *@pos past it; -ENOENT when there is none. For dumps, which keep
 * *@pos between their rounds.
 */
int dstor_sync_next(struct net *net, unsigned long *pos,
		    struct dstor_sync_info *info)
{
	struct dstor_sync *s;
	unsigned long i;
	int ret = -ENOENT;

	mutex_lock(&sync_mutex);
	xa_for_each_start(&syncs, i, s, *pos) {
		if (!net_eq(s->net, net))
			continue;
		dstor_sync_describe(s, info);
		*pos = i + 1;
		ret = 0;
		break;
	}
	mutex_unlock(&sync_mutex);
	return ret;
}

/*
 * Take a sync of @net (any, when @net is NULL) out of the array; NULL
 * when there is none left.
 */
static struct dstor_sync *sync_take(struct net *net)
{
	struct dstor_sync *s;
	unsigned long i;

	mutex_lock(&sync_mutex);
	xa_for_each(&syncs, i, s) {
		if (!net || net_eq(s->net, net)) {
			xa_erase(&syncs, i);
			break;
		}
	}
	mutex_unlock(&sync_mutex);
	return s;
}

/*
 * A namespace going away takes its syncs along: their socket and
 * interface are gone with it, and nobody could reach them to delete them.
 * So a sync holds no reference to its namespace (as a kernel socket does
 * not); this runs while the namespace still works, before its devices go.
 */
static void __net_exit sync_net_pre_exit(struct net *net)
{
	struct dstor_sync *s;

	while ((s = sync_take(net))) {
		pr_info("sync %s: its network namespace is going away: stopped\n",
			s->name);
		sync_free(s);
	}
}

static struct pernet_operations sync_net_ops = {
	.pre_exit = sync_net_pre_exit,
};

int dstor_sync_init(void)
{
	return register_pernet_subsys(&sync_net_ops);
}

/* After the family is gone: no sync can be added any more. */
void dstor_sync_exit(void)
{
	struct dstor_sync *s;

	while ((s = sync_take(NULL)))
		sync_free(s);
	unregister_pernet_subsys(&sync_net_ops);
	xa_destroy(&syncs);
}
