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
 *		   (see seed())
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
 * The target's I/O is sync_io.c's, netlink netlink_sync.c's: this file
 * offers them the calls of sync.h.
 */
#include <crypto/algapi.h>
#include <crypto/blake2s.h>
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/in6.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/sort.h>
#include <linux/udp.h>
#include <linux/xarray.h>
#include <net/addrconf.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "sync.h"
#include "sync_peer.h"
#include "tree.h"

#define SYNC_MAX_CHANNELS	64		/* groups joined at once */
#define SYNC_RX_MAX		(64 << 10)	/* one receive: a GRO batch */
#define SYNC_RX_TIMEOUT		(HZ / 10)	/* how soon a stop is seen */
#define SYNC_STALL		(5 * HZ)	/* nothing useful: join again */
#define SYNC_SLOT_IDLE		(60 * HZ)	/* a partial block given up */
#define SYNC_TREE_GONE		(10 * HZ)	/* unannounced: take another */
#define SYNC_CHUNKS_MAX		(DSTOR_MC_MAX_BLOCK / DSTOR_MC_CHUNK)
#define SYNC_SOURCES		4		/* announcers remembered */
#define SYNC_FP			16		/* a TREE packet's fingerprint */

/*
 * A multicast sync's socket receive buffer, in truesize (about half of it
 * data), taken when a sync is added: it absorbs the thread's pauses.
 */
#define SYNC_RCVBUF_MIN		(64U << 10)
#define SYNC_RCVBUF_MAX		(256U << 20)

static int rcvbuf_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int ret = kstrtouint(val, 0, &n);

	if (ret)
		return ret;
	if (n < SYNC_RCVBUF_MIN || n > SYNC_RCVBUF_MAX)
		return -ERANGE;
	WRITE_ONCE(*(unsigned int *)kp->arg, n);
	return 0;
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
 * A block being assembled from DATA packets into the target's buffer of
 * the same number (slot_buf()). Once verified, the block is written from
 * that buffer and the slot is free again, but not to be taken while the
 * buffer's write is in flight.
 */
struct sync_slot {
	u64 index;			/* U64_MAX: free */
	unsigned int chunks;		/* chunks of the block */
	unsigned int have;		/* chunks received */
	unsigned long touched;		/* jiffies of the last chunk */
	bool contested;			/* failed its hash: chunks replaced */
	unsigned int fetching;		/* repair: READs in flight into it */
	unsigned int tries;		/* repair: fetched, failed its hash */
	DECLARE_BITMAP(got, SYNC_CHUNKS_MAX);
};

/* The last ANNOUNCE from one source address (unkeyed, unpinned syncs). */
struct sync_source {
	struct in6_addr addr;
	struct dstor_mc_announce ann;
	u64 epoch;
};

struct sync_chan {
	u64 first, end;			/* leaves [first, end) */
	struct in6_addr group;
	u64 last;			/* repair: the block last seen on it */
	unsigned int last_chunk;	/* ... and its chunk */
	u64 prev;			/* repair: the block seen before it */
	unsigned int prev_chunk;	/* ... and its highest chunk seen */
	unsigned int start_chunk;	/* one block: the first chunk seen */
	bool wrapped;			/* one block: chunk 0 came since */
	u64 scan;			/* repair: blocks before it are settled */
};

struct dstor_sync_peer;

struct dstor_sync {
	u32 index;
	char name[DSTOR_NAME_MAX];
	char path[DSTOR_PATH_MAX];
	struct net *net;		/* no reference: see sync_net_pre_exit() */
	int ifindex;			/* multicast */
	struct dstor_endpoint peer;	/* over TCP (@sp) */
	struct dstor_sync_peer *sp;	/* over TCP: NULL for multicast */
	bool repair;			/* multicast, repaired over TCP (@sp) */
	const char *why;		/* why it failed (READ_ONCE), or NULL */
	bool why_said;			/* this round has set @why */
	const char *why_logged;		/* the last @why logged */
	bool fatal;			/* a later round cannot converge */
	const char *stale_why;		/* why the round saw the tree stale */
	u64 stale_block;		/* a block not matching its leaf */
	dev_t dev;
	struct dstor_key key;
	bool pinned;			/* only trees with this root */
	u8 pin_root[DSTOR_MC_HASH_LEN];
	u8 kt[DSTOR_MC_HASH_LEN];	/* tree key */
	u8 zero_leaf[DSTOR_MC_HASH_LEN];	/* of a block of zeros */
	struct task_struct *task;
	u64 started, ended;		/* ktime_get_ns(); ended 0: running */
	u32 state;			/* DSTOR_SYNC_STATE_*, READ_ONCE */
	u32 every, scrub;		/* seconds; over TCP (@sp) only */
	struct dstor_stats stats;

	spinlock_t lock;		/* known, ann, epoch, round_*: for GET */
	bool known;
	struct dstor_mc_announce ann;
	u64 epoch;
	u64 round_ended;		/* ktime_get_ns(); 0: no round yet */
	u64 round_repaired;
	bool round_scrubbed;
	u64 round_corrupt;

	/* The thread's own, and sync_release()'s once it has stopped. */
	struct dstor_sync_target t;
	struct file *seeds[DSTOR_SYNC_MAX_SEEDS];
	unsigned int nr_seeds;
	struct socket *sock;
	u8 *rx;				/* SYNC_RX_MAX: one receive */
	unsigned int rx_len;		/* bytes in it */
	unsigned int rx_off;		/* the next datagram's */
	unsigned int rx_seg;		/* datagram size of a GRO batch */
	struct sockaddr_in6 rx_from;
	u8 *pkt;			/* the datagram in rx being looked at
					 * (the AEAD maps it)
					 */
	struct dstor_mc_ctx actx;	/* ANNOUNCE packets */
	u64 actx_epoch;
	u8 actx_cipher;
	bool actx_ready;
	struct dstor_mc_ctx dctx;	/* TREE and DATA packets */
	bool dctx_ready;
	struct dstor_mc_announce next;	/* the last announce received */
	u64 next_epoch;
	unsigned long ann_seen;		/* jiffies: the current tree announced */
	struct sync_source sources[SYNC_SOURCES];
	unsigned int nr_sources;
	bool told_geometry;		/* announce_refused() has spoken */
	u8 *leaves;			/* the export's leaf hashes */
	u8 *mine;			/* the target's */
	unsigned long *tree_got;	/* TREE packets received */
	unsigned long *tree_ok;		/* ... and seen twice (contested) */
	u8 (*tree_fp)[SYNC_FP];		/* ... the last copy's fingerprint */
	unsigned long *good;		/* leaves the target holds */
	unsigned long *wrote;		/* blocks written by this sync */
	unsigned long *changed;		/* s->mine's leaves sp->mine lacks */
	unsigned long *fetch;		/* repair: blocks left to TCP */
	unsigned long *queue;		/* ... of them, not yet asked for */
	u64 queue_next;			/* where to look in @queue */
	unsigned int tcp_slots;		/* slots with READs in flight */
	bool settle;			/* repair: a channel may be done */
	bool repair_off;		/* repair: the connection failed */
	bool repair_worked;		/* repair: it was connected once */
	bool repair_up;			/* repair: connected, READs may go */
	u64 good_count;
	bool scrubbing;			/* hash_read() counts @corrupt */
	bool scrubbed;			/* this round scrubbed, finding @corrupt */
	u64 corrupt;
	struct sync_slot *slots;	/* t.nr_bufs of them */
	unsigned int nr_slots;
	struct sync_chan *chans;	/* joined now */
	unsigned int nr_chans;
	unsigned long last_useful;	/* jiffies */
};

/*
 * Every sync of the machine, by index; sync_mutex serialises add, delete
 * and GET (a sync in the array is alive while the mutex is held).
 */
static DEFINE_XARRAY_ALLOC(syncs);
static DEFINE_MUTEX(sync_mutex);

/*
 * Besides errors: a new tree was announced; the target still differs; the
 * connection for repairs failed (the rest comes by multicast alone).
 */
#define SYNC_NEW_TREE	1
#define SYNC_DIFFERS	2
#define SYNC_REPAIR_LOST 3

/* Over TCP alone: not multicast repaired over TCP. */
static bool sync_tcp(const struct dstor_sync *s)
{
	return s->sp && !s->repair;
}

static void set_state(struct dstor_sync *s, u32 state)
{
	WRITE_ONCE(s->state, state);
}

/* ---- groups ---- */

static int group_join(struct dstor_sync *s, const struct in6_addr *group)
{
	int ret;

	rtnl_lock();
	lock_sock(s->sock->sk);
	ret = ipv6_sock_mc_join(s->sock->sk, s->ifindex, group);
	release_sock(s->sock->sk);
	rtnl_unlock();
	return ret;
}

static void group_leave(struct dstor_sync *s, const struct in6_addr *group)
{
	rtnl_lock();
	lock_sock(s->sock->sk);
	ipv6_sock_mc_drop(s->sock->sk, s->ifindex, group);
	release_sock(s->sock->sk);
	rtnl_unlock();
}

static void tree_group(struct dstor_sync *s, struct in6_addr *g)
{
	dstor_mc_group(s->name, DSTOR_MC_KIND_TREE, s->epoch, s->ann.root, 0, g);
}

static void chans_leave(struct dstor_sync *s)
{
	while (s->nr_chans)
		group_leave(s, &s->chans[--s->nr_chans].group);
	atomic64_set(&s->stats.c[DSTOR_STAT_SYNC_CHANNELS], 0);
}

static void chan_drop(struct dstor_sync *s, unsigned int i)
{
	group_leave(s, &s->chans[i].group);
	s->chans[i] = s->chans[--s->nr_chans];
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_CHANNELS, -1);
}

/* ---- blocks ---- */

static u32 block_len(struct dstor_sync *s, u64 index)
{
	return dstor_sync_block_len(&s->t, index);
}

static struct dstor_sync_buf *slot_buf(struct dstor_sync *s,
				       struct sync_slot *sl)
{
	return &s->t.bufs[sl - s->slots];
}

static void block_hash(struct dstor_sync *s, struct page **pages, u64 index,
		       u8 *out)
{
	dstor_mc_leaf_pages(s->kt, s->zero_leaf, s->ann.block_size, pages,
			    block_len(s, index), out);
}

static void hash_read(void *arg, u64 index, struct page **pages)
{
	struct dstor_sync *s = arg;
	u8 *mine = s->mine + index * DSTOR_MC_HASH;
	u8 h[DSTOR_MC_HASH];

	block_hash(s, pages, index, h);
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
static u64 good_update(struct dstor_sync *s)
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

/*
 * Read and hash the blocks of the target into s->mine: every block, or
 * (@only) those set in that bitmap; a block whose hash is its leaf is
 * good. Returns the number of good blocks, or an error (-EINTR when
 * stopped).
 */
static s64 target_hash(struct dstor_sync *s, const unsigned long *only)
{
	int ret;

	ret = dstor_sync_read(&s->t, only, hash_read, s);
	if (ret)
		return ret;
	return good_update(s);
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
	/* Zeroed: hash_read() compares with what it held. */
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

/* ---- packets ---- */

/*
 * An ANNOUNCE that opened but breaks the protocol's rules (decoded as far
 * as it goes into s->next): said once per sync, since without a key
 * anybody can send these.
 */
static void announce_refused(struct dstor_sync *s, int err)
{
	const struct dstor_mc_announce *a = &s->next;

	if (s->told_geometry)
		return;
	s->told_geometry = true;
	if (err == -DSTOR_EMC_RESERVED)
		pr_warn("sync %s: dropping announcements with reserved bytes set\n",
			s->name);
	else
		pr_warn("sync %s: dropping announcements of a geometry this receiver does not take (%llu bytes in %llu blocks of %u, chunks of %u; it takes blocks of a power of two from %u to %u bytes, at most %u of them, chunks of %u)\n",
			s->name, a->size, a->blocks, a->block_size, a->chunk,
			DSTOR_MC_MIN_BLOCK, DSTOR_MC_MAX_BLOCK,
			DSTOR_MC_MAX_BLOCKS, DSTOR_MC_CHUNK);
}

/* Check an ANNOUNCE (header in @h) and decode it into s->next. */
static int announce_check(struct dstor_sync *s, const struct dstor_mc_hdr *h)
{
	const u8 *key = s->key.set ? s->key.key : NULL;
	u8 cipher = h->flags & DSTOR_MC_F_SEALED ? h->cipher : 0;
	int ret;

	/* The packet key depends on the epoch: keep the last one only. */
	if (!s->actx_ready || s->actx_epoch != h->epoch ||
	    (key && s->actx_cipher != cipher)) {
		if (s->actx_ready)
			dstor_mc_ctx_free(&s->actx);
		s->actx_ready = false;
		if (key && !cipher)
			return -EBADMSG;
		ret = dstor_mc_ctx_init(&s->actx, key, cipher, h->epoch,
					NULL);
		if (ret)
			return ret;
		s->actx_ready = true;
		s->actx_epoch = h->epoch;
		s->actx_cipher = cipher;
	}
	ret = dstor_mc_verify(&s->actx, s->pkt, h);
	if (ret)
		return ret;
	ret = dstor_mc_announce_decode(s->pkt + DSTOR_MC_HDR_LEN, &s->next,
				       DSTOR_MC_MIN_BLOCK, DSTOR_MC_MAX_BLOCK,
				       DSTOR_MC_MAX_BLOCKS);
	if (ret) {
		announce_refused(s, ret);
		return -EBADMSG;
	}
	if (s->pinned && crypto_memneq(s->next.root, s->pin_root,
				       DSTOR_MC_HASH))
		return -EBADMSG;
	s->next_epoch = h->epoch;
	return 0;
}

/*
 * Without a key or a pinned root anyone on the link can make a valid
 * ANNOUNCE. A tree is only taken once its source has announced it twice
 * in a row, so a sender of ever-changing roots (one address) cannot make
 * us chase trees nobody serves; the exporter repeats its announcement
 * every 500 ms. This does not stop a sender that spoofs addresses or
 * announces a consistent tree of its own: for that, use --key or --root.
 */
static bool announce_confirmed(struct dstor_sync *s,
			       const struct in6_addr *from)
{
	struct sync_source *src;
	unsigned int i;

	if (s->key.set || s->pinned)
		return true;
	for (i = 0; i < min_t(unsigned int, s->nr_sources, SYNC_SOURCES); i++) {
		src = &s->sources[i];
		if (!ipv6_addr_equal(&src->addr, from))
			continue;
		if (src->epoch == s->next_epoch &&
		    !memcmp(&src->ann, &s->next, sizeof(s->next)))
			return true;
		goto remember;
	}
	src = &s->sources[s->nr_sources++ % SYNC_SOURCES];
	src->addr = *from;
remember:
	src->ann = s->next;
	src->epoch = s->next_epoch;
	return false;
}

static bool same_tree(struct dstor_sync *s)
{
	return s->dctx_ready && s->next_epoch == s->epoch &&
	       !memcmp(&s->next, &s->ann, sizeof(s->ann));
}

/*
 * The next packet worth looking at: a verified ANNOUNCE of a tree other
 * than the current one (in s->next), or a verified TREE or DATA packet of
 * the current tree, opened in s->pkt. -EAGAIN after the receive timeout,
 * -EINTR when the sync is being stopped.
 */
/*
 * Receive into s->rx: one datagram, or with UDP GRO a batch of datagrams of
 * rx_seg bytes each (the last may be shorter) from one sender, as the
 * exporter's GSO sends them. 0, -EAGAIN or -EINTR.
 */
static int sync_recv_batch(struct dstor_sync *s)
{
	struct kvec iov = { .iov_base = s->rx, .iov_len = SYNC_RX_MAX };
	union {
		struct cmsghdr hdr;
		u8 buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr msg = {
		.msg_name = &s->rx_from,
		.msg_namelen = sizeof(s->rx_from),
		.msg_control = &cm,
		.msg_controllen = sizeof(cm),
	};
	int n, seg = 0;

	if (dstor_sync_stopping())
		return -EINTR;
	memset(&cm, 0, sizeof(cm));
	memset(&s->rx_from, 0, sizeof(s->rx_from));
	n = kernel_recvmsg(s->sock, &msg, &iov, 1, iov.iov_len, 0);
	if (n == -EAGAIN || n == -EINTR)
		return -EAGAIN;
	if (n < 0) {
		/* e.g. an ICMP error queued on the socket */
		msleep(20);
		return -EAGAIN;
	}
	if (msg.msg_controllen < sizeof(cm) &&
	    cm.hdr.cmsg_level == SOL_UDP && cm.hdr.cmsg_type == UDP_GRO &&
	    cm.hdr.cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&seg, cm.buf + CMSG_LEN(0), sizeof(seg));
	/* Truncated: nothing in it can be told apart; drop it whole. */
	if (msg.msg_flags & MSG_TRUNC) {
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_PACKETS, 1);
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_PACKETS_BAD, 1);
		n = 0;
	}
	s->rx_len = n;
	s->rx_off = 0;
	s->rx_seg = seg > 0 && seg < n ? seg : n;
	return 0;
}

static int sync_recv(struct dstor_sync *s, struct dstor_mc_hdr *h)
{
	unsigned int n;
	int ret;

	for (;;) {
		if (s->rx_off >= s->rx_len) {
			ret = sync_recv_batch(s);
			if (ret)
				return ret;
			continue;
		}
		s->pkt = s->rx + s->rx_off;
		n = min(s->rx_seg, s->rx_len - s->rx_off);
		s->rx_off += n;
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_PACKETS, 1);
		if (dstor_mc_hdr_decode(s->pkt, n, h))
			goto bad;
		if (h->type == DSTOR_MC_ANNOUNCE) {
			if (announce_check(s, h))
				goto bad;
			/*
			 * Another tree replaces ours only once ours is no
			 * longer announced: an old announcement replayed, or a
			 * second exporter of the name, cannot make us flap.
			 */
			if (same_tree(s))
				s->ann_seen = jiffies;
			else if ((!s->dctx_ready ||
				  time_after(jiffies, s->ann_seen + SYNC_TREE_GONE)) &&
				 announce_confirmed(s, &s->rx_from.sin6_addr))
				return 0;
			continue;
		}
		if (!s->dctx_ready || h->epoch != s->epoch ||
		    dstor_mc_verify(&s->dctx, s->pkt, h))
			goto bad;
		return 0;
bad:
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_PACKETS_BAD, 1);
	}
}

/* ---- the states ---- */

/* WAITING: until a verified ANNOUNCE is in s->next. */
static int wait_announce(struct dstor_sync *s)
{
	struct dstor_mc_hdr h;
	int ret;

	set_state(s, DSTOR_SYNC_STATE_WAITING);
	for (;;) {
		ret = sync_recv(s, &h);
		if (ret == -EAGAIN)
			continue;
		if (ret)
			return ret;
		if (h.type == DSTOR_MC_ANNOUNCE)
			return 0;
	}
}

/* Take the tree of s->next: geometry, contexts and memory. */
static int tree_setup(struct dstor_sync *s)
{
	const struct dstor_mc_announce *a = &s->next;
	int ret;

	chans_leave(s);
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

static void tree_fp_held(struct dstor_sync *s, u64 p, u8 *fp)
{
	u64 first = p * DSTOR_MC_LEAVES_PER_PKT;
	u64 leaves = min_t(u64, DSTOR_MC_LEAVES_PER_PKT, s->ann.blocks - first);

	blake2s(fp, s->leaves + first * DSTOR_MC_HASH, NULL, SYNC_FP,
		leaves * DSTOR_MC_HASH, 0);
}

/*
 * The leaves we hold do not give the root: some copy was forged (without
 * a key anyone can make a valid tag). From now on a TREE packet is only
 * taken once the same copy came twice in a row: the exporter's repeats
 * every carousel pass, a forger's random ones do not. What we hold counts
 * as the first copy.
 */
static void tree_contest(struct dstor_sync *s, u64 pkts)
{
	u64 p;

	bitmap_zero(s->tree_ok, pkts);
	for (p = 0; p < pkts; p++)
		tree_fp_held(s, p, s->tree_fp[p]);
}

/* Contested: true when this copy completes the set of confirmed packets. */
static bool tree_confirm(struct dstor_sync *s, const struct dstor_mc_hdr *h,
			 u64 p, u64 pkts, u64 *ok)
{
	u8 fp[SYNC_FP];

	if (test_bit(p, s->tree_ok))
		return false;
	blake2s(fp, s->pkt + DSTOR_MC_HDR_LEN, NULL, SYNC_FP, h->len, 0);
	if (memcmp(fp, s->tree_fp[p], SYNC_FP)) {
		memcpy(s->tree_fp[p], fp, SYNC_FP);
		return false;
	}
	set_bit(p, s->tree_ok);
	memcpy(s->leaves + h->index * DSTOR_MC_HASH, s->pkt + DSTOR_MC_HDR_LEN,
	       h->len);
	s->last_useful = jiffies;
	return ++*ok == pkts;
}

/* TREE: every leaf hash, checked against the root. */
static int tree_fetch(struct dstor_sync *s)
{
	u64 n = s->ann.blocks, pkts = DIV_ROUND_UP(n, DSTOR_MC_LEAVES_PER_PKT);
	u64 got = 0, p, leaves;
	struct in6_addr g;
	struct dstor_mc_hdr h;
	u8 root[DSTOR_MC_HASH];
	bool contested = false;
	int ret;

	set_state(s, DSTOR_SYNC_STATE_TREE);
	tree_group(s, &g);
	ret = group_join(s, &g);
	if (ret) {
		pr_err("sync %s: joining the tree group failed (%d)\n",
		       s->name, ret);
		return ret;
	}
	s->last_useful = jiffies;
	while (got < pkts) {
		ret = sync_recv(s, &h);
		if (ret == -EAGAIN) {
			if (time_after(jiffies, s->last_useful + SYNC_STALL)) {
				/* Reports get lost too: announce again. */
				group_leave(s, &g);
				ret = group_join(s, &g);
				if (ret)
					return ret;
				s->last_useful = jiffies;
			}
			continue;
		}
		if (ret)
			goto out;
		if (h.type == DSTOR_MC_ANNOUNCE) {
			ret = SYNC_NEW_TREE;
			goto out;
		}
		if (h.type != DSTOR_MC_TREE)
			continue;
		p = h.index / DSTOR_MC_LEAVES_PER_PKT;
		leaves = h.len / DSTOR_MC_HASH;
		if (h.index >= n || h.index % DSTOR_MC_LEAVES_PER_PKT ||
		    leaves != min_t(u64, DSTOR_MC_LEAVES_PER_PKT, n - h.index)) {
			dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_PACKETS_BAD, 1);
			continue;
		}
		if (contested) {
			if (!tree_confirm(s, &h, p, pkts, &got))
				continue;
		} else {
			/* first copy wins until the root check fails */
			if (test_and_set_bit(p, s->tree_got))
				continue;
			memcpy(s->leaves + h.index * DSTOR_MC_HASH,
			       s->pkt + DSTOR_MC_HDR_LEN, h.len);
			s->last_useful = jiffies;
			if (++got < pkts)
				continue;
		}
		ret = dstor_mc_root(s->kt, s->leaves, n, s->ann.size,
				    s->ann.block_size, root);
		if (ret)
			goto out;
		if (!crypto_memneq(root, s->ann.root, DSTOR_MC_HASH))
			break;
		if (!contested)
			pr_warn_ratelimited("sync %s: the leaf hashes do not match the root: fetching them again\n",
					    s->name);
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_HASH_BAD, 1);
		tree_contest(s, pkts);
		contested = true;
		got = 0;
	}
	ret = 0;
out:
	group_leave(s, &g);
	return ret;
}

/* Channel @n is node (@level, @j). */
static void chan_set(struct dstor_sync *s, unsigned int n, unsigned int level,
		     u64 j)
{
	struct sync_chan *c = &s->chans[n];

	c->first = j << level;
	c->end = min_t(u64, c->first + (1ULL << level), s->ann.blocks);
	c->last = U64_MAX;
	c->prev = U64_MAX;
	c->wrapped = false;
	c->scan = c->first;
	dstor_mc_group(s->name, DSTOR_MC_KIND_CHANNEL, s->epoch, s->ann.root,
		       dstor_mc_node(level, j), &c->group);
}

/*
 * The channels to join for the stale leaves under node (@level, @j):
 * the largest ones with stale leaves only, or, at @floor, any one with a
 * stale leaf. Returns the new count; past @max, it only counts.
 */
static unsigned int plan(struct dstor_sync *s, unsigned int level, u64 j,
			 unsigned int floor, unsigned int n, unsigned int max)
{
	u64 first = j << level, end;

	if (first >= s->ann.blocks)
		return n;
	end = min_t(u64, first + (1ULL << level), s->ann.blocks);
	if (find_next_zero_bit(s->good, end, first) >= end)
		return n;			/* all good */
	if (level > floor && find_next_bit(s->good, end, first) < end) {
		n = plan(s, level - 1, 2 * j, floor, n, max);
		return plan(s, level - 1, 2 * j + 1, floor, n, max);
	}
	if (n < max)
		chan_set(s, n, level, j);
	return n + 1;
}

/* The level of the node of every leaf. */
static unsigned int plan_top(struct dstor_sync *s)
{
	return s->ann.blocks > 1 ? ilog2(s->ann.blocks - 1) + 1 : 0;
}

/* Join the @n channels planned in s->chans. */
static int chans_join_planned(struct dstor_sync *s, unsigned int n)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = group_join(s, &s->chans[i].group);
		if (ret) {
			pr_err("sync %s: joining a channel failed (%d)\n",
			       s->name, ret);
			s->nr_chans = i;
			chans_leave(s);
			return ret;
		}
		s->nr_chans = i + 1;
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_CHANNELS, 1);
	}
	return 0;
}

/* Join the channels for the stale leaves: at most SYNC_MAX_CHANNELS. */
static int chans_join(struct dstor_sync *s)
{
	unsigned int top = plan_top(s), floor, n = 0;

	chans_leave(s);
	for (floor = 0; floor <= top; floor++) {
		n = plan(s, top, 0, floor, 0, SYNC_MAX_CHANNELS);
		if (n <= SYNC_MAX_CHANNELS)
			break;
	}
	return chans_join_planned(s, n);
}

/*
 * ---- multicast repaired over TCP (--mcast with --peer) ----
 *
 * The channels carry what they carry cheaply: nodes with at most a sixth
 * of their leaves good, of a level that keeps them within
 * SYNC_MAX_CHANNELS, then the largest nodes of stale leaves only for the
 * channels left. Every other stale block is fetched over TCP at once, and
 * so is every block a channel's carousel went past without completing it:
 * the exporter sends a channel's blocks whole and in order, so when block
 * k of a channel comes after block i, the blocks from i to k (not k) were
 * sent, and those not complete lost some of their packets. A block that
 * is partly here is completed with READs of the chunks missing; one that
 * is not, with READs of all of it. A channel is left as soon as each of
 * its blocks is good or left to TCP: one carousel round at most.
 */

/* Stale leaves of [@first, @end). */
static u64 stale_in(struct dstor_sync *s, u64 first, u64 end)
{
	u64 k, n = 0;

	for (k = find_next_zero_bit(s->good, end, first); k < end;
	     k = find_next_zero_bit(s->good, end, k + 1))
		n++;
	return n;
}

/*
 * The channels under node (@level, @j) of level @minl or more with at most
 * a sixth of their leaves good. Returns the new count; past @max, it stops
 * counting.
 */
static unsigned int plan_dense(struct dstor_sync *s, unsigned int level,
			       u64 j, unsigned int minl, unsigned int n,
			       unsigned int max)
{
	u64 first = j << level, end, stale;

	/* Below @minl nothing is a channel. */
	if (first >= s->ann.blocks || n > max || level < minl)
		return n;
	end = min_t(u64, first + (1ULL << level), s->ann.blocks);
	stale = stale_in(s, first, end);
	if (!stale)
		return n;
	if (stale * 6 >= (end - first) * 5) {
		if (n < max)
			chan_set(s, n, level, j);
		return n + 1;
	}
	if (!level)
		return n;
	n = plan_dense(s, level - 1, 2 * j, minl, n, max);
	return plan_dense(s, level - 1, 2 * j + 1, minl, n, max);
}

/*
 * The channels left after the @n of plan_dense(): the largest nodes below
 * level @minl whose leaves are all stale and in no channel yet. s->queue
 * marks the leaves of the channels.
 */
static unsigned int plan_fill(struct dstor_sync *s, unsigned int minl,
			      unsigned int n)
{
	u64 j, first, end;
	unsigned int i;

	bitmap_zero(s->queue, s->ann.blocks);
	for (i = 0; i < n; i++)
		bitmap_set(s->queue, s->chans[i].first,
			   s->chans[i].end - s->chans[i].first);
	while (minl-- > 0 && n < SYNC_MAX_CHANNELS) {
		for (j = 0; (j << minl) < s->ann.blocks &&
		     n < SYNC_MAX_CHANNELS; j++) {
			first = j << minl;
			end = min_t(u64, first + (1ULL << minl), s->ann.blocks);
			if (find_next_bit(s->good, end, first) < end ||
			    find_next_bit(s->queue, end, first) < end)
				continue;
			chan_set(s, n++, minl, j);
			bitmap_set(s->queue, first, end - first);
		}
		cond_resched();
	}
	return n;
}

/* Block @k is left to TCP, unless it is good or already is. */
static void repair_queue(struct dstor_sync *s, u64 k)
{
	if (test_bit(k, s->good) || test_and_set_bit(k, s->fetch))
		return;
	set_bit(k, s->queue);
	s->queue_next = min(s->queue_next, k);
	s->settle = true;
}

/* Plan and join the channels; what they do not carry is queued for TCP. */
static int repair_join(struct dstor_sync *s)
{
	unsigned int top = plan_top(s), minl, n = 0;
	u64 n_blocks = s->ann.blocks;

	chans_leave(s);
	/* At @top itself there is one node: the loop ends there at last. */
	for (minl = 0; minl <= top; minl++) {
		n = plan_dense(s, top, 0, minl, 0, SYNC_MAX_CHANNELS);
		if (n <= SYNC_MAX_CHANNELS)
			break;
		cond_resched();
	}
	n = plan_fill(s, minl, n);
	/* Neither good nor in a channel: s->queue marks the channels'. */
	bitmap_or(s->fetch, s->good, s->queue, n_blocks);
	bitmap_complement(s->fetch, s->fetch, n_blocks);
	if (n_blocks % BITS_PER_LONG)
		s->fetch[n_blocks / BITS_PER_LONG] &=
			BITMAP_LAST_WORD_MASK(n_blocks);
	bitmap_copy(s->queue, s->fetch, n_blocks);
	s->queue_next = 0;
	s->settle = true;
	return chans_join_planned(s, n);
}

/*
 * Chunk @chunk of block @index came: on its channel, the blocks due since
 * the one last seen there, and that one, are over (see above). On a
 * channel of one block, its chunks coming round again end it. A chunk of
 * the block seen before the last one, above the chunks seen of it, is late
 * (the exporter sends a block's chunks in order): not a round later.
 */
static void repair_seen(struct dstor_sync *s, u64 index, unsigned int chunk)
{
	struct sync_chan *c = NULL;
	unsigned int i;
	u64 k;

	for (i = 0; i < s->nr_chans && !c; i++)
		if (index >= s->chans[i].first && index < s->chans[i].end)
			c = &s->chans[i];
	if (!c)
		return;
	if (c->last == index) {
		/* One block: a round is over at the chunk it began with. */
		if (chunk < c->last_chunk)
			c->wrapped = true;
		if (c->wrapped && chunk >= c->start_chunk &&
		    c->end - c->first == 1)
			repair_queue(s, index);
		c->last_chunk = chunk;
		return;
	}
	if (index == c->prev && chunk > c->prev_chunk) {
		c->prev_chunk = chunk;
		return;
	}
	if (c->last != U64_MAX)
		for (k = c->last; k != index;
		     k = k + 1 == c->end ? c->first : k + 1)
			repair_queue(s, k);
	c->prev = c->last;
	c->prev_chunk = c->last_chunk;
	c->last = index;
	c->last_chunk = chunk;
	c->start_chunk = chunk;
	c->wrapped = false;
}

/* Leave the channels whose blocks are all good or left to TCP. */
static void repair_settle(struct dstor_sync *s)
{
	struct sync_chan *c;
	unsigned int i;

	s->settle = false;
	for (i = s->nr_chans; i-- > 0;) {
		c = &s->chans[i];
		while (c->scan < c->end && (test_bit(c->scan, s->good) ||
					    test_bit(c->scan, s->fetch)))
			c->scan++;
		if (c->scan >= c->end)
			chan_drop(s, i);
	}
}

/* Nothing useful came for SYNC_STALL: TCP gets all that is missing. */
static int repair_stall(struct dstor_sync *s)
{
	u64 k;

	for (k = find_next_zero_bit(s->good, s->ann.blocks, 0);
	     k < s->ann.blocks;
	     k = find_next_zero_bit(s->good, s->ann.blocks, k + 1))
		repair_queue(s, k);
	return 0;
}

static struct sync_slot *slot_get(struct dstor_sync *s, u64 index)
{
	struct sync_slot *free = NULL, *idle = NULL, *sl;
	unsigned int i;

	for (i = 0; i < s->nr_slots; i++) {
		sl = &s->slots[i];
		if (s->t.bufs[i].writing || sl->fetching)
			continue;
		if (sl->index == index)
			return sl;
		if (sl->index == U64_MAX)
			free = free ?: sl;
		else if (time_after(jiffies, sl->touched + SYNC_SLOT_IDLE))
			idle = idle ?: sl;
	}
	/* Full: the carousel sends this block again later. */
	sl = free ?: idle;
	if (!sl)
		return NULL;
	sl->index = index;
	sl->touched = jiffies;
	sl->chunks = DIV_ROUND_UP(block_len(s, index), DSTOR_MC_CHUNK);
	sl->have = 0;
	sl->contested = false;
	sl->tries = 0;
	bitmap_zero(sl->got, SYNC_CHUNKS_MAX);
	return sl;
}

/*
 * Block @index, whose hash @h is its leaf, is being written (from packets
 * or a seed): good from now on, and re-read when verifying.
 */
static void block_written(struct dstor_sync *s, u64 index, const u8 *h)
{
	set_bit(index, s->wrote);
	set_bit(index, s->good);
	set_bit(index, s->changed);
	memcpy(s->mine + index * DSTOR_MC_HASH, h, DSTOR_MC_HASH);
	s->good_count++;
}

/*
 * A block is complete: check it against its leaf and write it. One that
 * fails keeps its slot, contested: a forged chunk may have come first, so
 * from now on every chunk replaces the one held (see data_packet()).
 */
static int slot_done(struct dstor_sync *s, struct sync_slot *sl)
{
	u64 index = sl->index;
	u8 h[DSTOR_MC_HASH];
	unsigned int i;

	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_RECEIVED, 1);
	block_hash(s, slot_buf(s, sl)->pages, index, h);
	if (crypto_memneq(h, s->leaves + index * DSTOR_MC_HASH,
			  DSTOR_MC_HASH)) {
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_HASH_BAD, 1);
		sl->contested = true;
		return 0;
	}
	/* The buffer is busy until its write ends; the slot is free. */
	dstor_sync_write(&s->t, slot_buf(s, sl), index);
	sl->index = U64_MAX;
	block_written(s, index, h);
	s->last_useful = jiffies;
	s->settle = true;
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_VERIFIED, 1);
	for (i = 0; i < s->nr_chans; i++) {
		struct sync_chan *c = &s->chans[i];

		if (index < c->first || index >= c->end ||
		    find_next_zero_bit(s->good, c->end, c->first) < c->end)
			continue;
		chan_drop(s, i);
		break;			/* channels do not overlap */
	}
	return 0;
}

static int data_packet(struct dstor_sync *s, const struct dstor_mc_hdr *h)
{
	struct sync_slot *sl;
	unsigned int chunk;
	u32 blen;

	if (h->index >= s->ann.blocks)
		goto bad;
	blen = block_len(s, h->index);
	if (h->offset >= blen ||
	    h->len != min_t(u32, DSTOR_MC_CHUNK, blen - h->offset))
		goto bad;
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_BYTES, h->len);
	if (s->repair && !s->repair_off) {
		repair_seen(s, h->index, h->offset / DSTOR_MC_CHUNK);
		/* TCP's now: its buffer may be being read into. */
		if (test_bit(h->index, s->fetch))
			return 0;
	}
	if (test_bit(h->index, s->good))
		return 0;
	sl = slot_get(s, h->index);
	if (!sl) {
		if (s->repair && !s->repair_off)
			repair_queue(s, h->index);
		return 0;
	}
	chunk = h->offset / DSTOR_MC_CHUNK;
	if (test_and_set_bit(chunk, sl->got)) {
		if (!sl->contested)
			return 0;
	} else {
		/*
		 * Progress: a chunk we lacked. Copies for a contested
		 * block are not, so a forger cannot keep us from joining
		 * again when the exporter has stopped sending.
		 */
		sl->have++;
		s->last_useful = jiffies;
	}
	dstor_sync_buf_copy(slot_buf(s, sl), h->offset,
			    s->pkt + DSTOR_MC_HDR_LEN, h->len);
	sl->touched = jiffies;
	/*
	 * Contested: check again when the block's last chunk comes round;
	 * the sender sends a block's chunks in order, so the real ones
	 * have just replaced whatever was forged.
	 */
	if (sl->have < sl->chunks ||
	    (sl->contested && chunk != sl->chunks - 1))
		return 0;
	return slot_done(s, sl);
bad:
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_PACKETS_BAD, 1);
	return 0;
}

static int repair_receive(struct dstor_sync *s);

/*
 * The next packet while RECEIVING, DATA taken: 0, SYNC_NEW_TREE or an
 * error. After SYNC_STALL without a useful packet, @stall(s) instead.
 */
static int receive_packet(struct dstor_sync *s,
			  int (*stall)(struct dstor_sync *s))
{
	struct dstor_mc_hdr h;
	int ret;

	ret = sync_recv(s, &h);
	if (ret == -EAGAIN) {
		if (!time_after(jiffies, s->last_useful + SYNC_STALL))
			return 0;
		ret = stall(s);
		s->last_useful = jiffies;
		return ret;
	}
	if (ret)
		return ret;
	if (h.type == DSTOR_MC_ANNOUNCE)
		return SYNC_NEW_TREE;
	if (h.type != DSTOR_MC_DATA)
		return 0;
	return data_packet(s, &h);
}

/* RECEIVING: until every leaf is good. */
static int receive(struct dstor_sync *s)
{
	unsigned int i;
	int ret;

	set_state(s, DSTOR_SYNC_STATE_RECEIVING);
	/* Hashing used the buffers: what the slots held is gone. */
	ret = dstor_sync_drain(&s->t);
	if (ret)
		return ret;
	for (i = 0; i < s->nr_slots; i++) {
		s->slots[i].index = U64_MAX;
		s->slots[i].fetching = 0;
	}
	if (s->repair) {
		ret = repair_receive(s);
		if (ret != SYNC_REPAIR_LOST)
			return ret;
	}
	ret = chans_join(s);
	if (ret)
		return ret;
	s->last_useful = jiffies;
	while (s->good_count < s->ann.blocks) {
		ret = dstor_sync_reap(&s->t);
		if (ret)
			return ret;
		/* Nothing useful for a while: a lost MLD report. */
		ret = receive_packet(s, chans_join);
		if (ret)
			return ret;
	}
	chans_leave(s);
	return dstor_sync_drain(&s->t);
}

static int peer_mine(struct dstor_sync *s, u8 *root);

/* VERIFYING: 0 when the target now has the export's root. */
static int verify(struct dstor_sync *s)
{
	u8 root[DSTOR_MC_HASH];
	s64 good;
	int ret;

	set_state(s, DSTOR_SYNC_STATE_VERIFYING);
	ret = dstor_sync_flush(&s->t);
	if (ret)
		return ret;
	/* The other blocks were read and found good before receiving. */
	good = target_hash(s, s->wrote);
	if (good < 0)
		return good;
	if (sync_tcp(s)) {
		ret = peer_mine(s, root);
	} else {
		ret = dstor_mc_root(s->kt, s->mine, s->ann.blocks, s->ann.size,
				    s->ann.block_size, root);
	}
	if (ret)
		return ret;
	if (good == s->ann.blocks &&
	    !crypto_memneq(root, s->ann.root, DSTOR_MC_HASH))
		return 0;
	pr_warn("sync %s: %llu blocks of %s differ after writing: fetching them again\n",
		s->name, s->ann.blocks - good, s->path);
	return SYNC_DIFFERS;
}

/* ---- seeds ---- */

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
		block_written(s, index, h);
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_SEEDED, 1);
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_SEEDED_BYTES,
			       block_len(s, index));
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
static int seed(struct dstor_sync *s)
{
	u64 before = s->good_count;
	struct seed_want *w;
	size_t n = 0, cap;
	unsigned long i;
	unsigned int k;
	int ret = 0;

	if (!s->nr_seeds || s->good_count == s->ann.blocks)
		return 0;
	set_state(s, DSTOR_SYNC_STATE_SEEDING);
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

/* ---- over TCP: reconciliation (Documentation/reconciliation.md) ---- */

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

/* Nodes a TREE_FP asks at once: four levels down, b = 16. */
#define PEER_FP_LEVELS		4
#define PEER_FP_NODES		BIT(PEER_FP_LEVELS)
/* Depths of the descent: levels 40 to 1, PEER_FP_LEVELS at a time. */
#define PEER_DEPTHS		DIV_ROUND_UP(DSTOR_TREE_LEVELS - 1, \
					     PEER_FP_LEVELS)
/*
 * Differing nodes of one depth asked about before going deeper: the
 * descent holds at most PEER_FP_NODES times as many per depth, whatever
 * the export's size, and the requests of a window stream without waiting.
 */
#define PEER_WINDOW		1024

/*
 * The pool of requests: r[i] is free while its bit in @busy is clear. A
 * TREE_FP's reply goes to buf[i]; a READ's to bio[i], made for it.
 */
struct dstor_sync_peer {
	struct dstor_peer p;
	struct dstor_peer_req r[DSTOR_PEER_MAX_REQS];
	u8 *buf[DSTOR_PEER_MAX_REQS];
	DECLARE_BITMAP(busy, DSTOR_PEER_MAX_REQS);
	unsigned int nr_busy;
	struct peer_block *blocks;	/* the target's nr_bufs of them */
	bool *reading;			/* bufs[i] is a block's being read */
	/* The descent: differing nodes PEER_FP_LEVELS levels apart. */
	struct peer_node *win[PEER_DEPTHS];
	u64 nr_win[PEER_DEPTHS];	/* nodes in win[d] */
	u64 pos_win[PEER_DEPTHS];	/* asked about so far */
	u32 depths;			/* win[] allocated */
	struct dstor_tree *mine;	/* the target's tree */
	u64 gen;
};

/* A block whose data does not match its leaf is fetched again this often. */
#define PEER_TRIES		3
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
static int peer_failed(struct dstor_sync *s, const char *why, int err)
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

static void peer_req_put(struct dstor_sync *s, struct dstor_peer_req *r)
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

static void peer_submit(struct dstor_sync *s, struct dstor_peer_req *r)
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
		peer_failed(s, "the exporter did not answer a request within 60 s",
			    0);
	else if (IS_ERR(r) && PTR_ERR(r) != -EINTR)
		peer_failed(s, dstor_why_text(dstor_why_conn(PTR_ERR(r))), 0);
	return r;
}

/* Bytes per READ: the exporter's max_io, in whole pages. */
static u32 peer_max_io(struct dstor_sync *s)
{
	return rounddown(s->sp->p.info.max_io, PAGE_SIZE);
}

/* READs per block. */
static unsigned int peer_pieces(struct dstor_sync *s)
{
	return DIV_ROUND_UP(s->ann.block_size, peer_max_io(s));
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
	return peer_failed(s,
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
		peer_submit(s, r);
		r = peer_wait(s);
		if (IS_ERR(r))
			return PTR_ERR(r);
		peer_req_put(s, r);
		if (r->status == DSTOR_ST_NOTSUPP)
			return peer_failed(s,
					   "the export has no tree (export add --tree)",
					   -EOPNOTSUPP);
		if (r->status != DSTOR_ST_OK)
			return peer_failed(s,
					   "the exporter could not read the export to build its tree",
					   -EIO);
		if (dstor_tree_info_decode(r->buf, &ti))
			return peer_failed(s,
					   "the exporter's TREE_INFO is malformed",
					   -EPROTO);
		if ((ti.flags & DSTOR_TREE_PENDING) &&
		    s->sp->p.info.version < DSTOR_PROTO_VERSION_PENDING)
			return peer_failed(s,
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
			return peer_failed(s,
					   "the export's tree was still being built after 10 minutes",
					   -ETIMEDOUT);
		schedule_timeout_interruptible(PEER_BUILD_POLL);
		if (dstor_sync_stopping())
			return -EINTR;
	}
	if (ti.size != s->sp->p.info.size)
		return peer_failed(s,
				   "the export's tree is not of the export's size",
				   -EPROTO);
	/* dstor_tree_info_decode() checked the block size. */
	if (DIV_ROUND_UP(ti.block_size, peer_max_io(s)) > DSTOR_PEER_MAX_REQS)
		return peer_failed(s,
				   "the export's blocks take more READs than a sync sends at once",
				   -E2BIG);
	ret = peer_fits(s, dstor_tree_leaves(ti.size, ti.block_size),
			ti.block_size);
	if (ret)
		return ret;
	if (s->pinned && crypto_memneq(ti.root, s->pin_root, DSTOR_MC_HASH))
		return peer_failed(s,
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
	peer_submit(s, r);
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
		return peer_failed(s, "the exporter refused a tree request",
				   -EPROTO);
	if (dstor_get64(r->buf) != s->sp->gen)
		return peer_failed(s,
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
		return peer_failed(s,
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
		peer_req_put(s, r);
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

	set_state(s, DSTOR_SYNC_STATE_TREE);
	memcpy(s->leaves, sp->mine->level[0], n * DSTOR_MC_HASH);
	/* The top node, checked against the root. */
	ret = peer_ask(s, top, 0, 1, 0);
	if (ret)
		return ret;
	r = peer_wait(s);
	if (IS_ERR(r))
		return PTR_ERR(r);
	peer_req_put(s, r);
	ret = peer_fp_status(s, r);
	if (ret)
		return ret;
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_TREE_HASHES, 1);
	dstor_mc_root_of(s->kt, r->buf + DSTOR_TREE_GEN_LEN, s->ann.size,
			 s->ann.block_size, root);
	if (crypto_memneq(root, s->ann.root, DSTOR_MC_HASH))
		return peer_failed(s,
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
static struct dstor_peer_req *peer_read_req(struct dstor_sync *s, u64 pos,
					    u32 n, unsigned int nr)
{
	struct dstor_peer_req *r = peer_req(s, DSTOR_OP_READ, pos, n);

	if (!r)
		return ERR_PTR(-EIO);
	r->bio = bio_kmalloc(nr, GFP_KERNEL);
	if (!r->bio) {
		peer_req_put(s, r);
		return ERR_PTR(-ENOMEM);
	}
	bio_init(r->bio, NULL, r->bio->bi_inline_vecs, nr, 0);
	return r;
}

/* The reads of block @pb->index: a READ per max_io bytes of it. */
static int peer_read_block(struct dstor_sync *s, struct peer_block *pb)
{
	u32 len = block_len(s, pb->index), max_io = peer_max_io(s);
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
		r = peer_read_req(s, pos + off, n, nr);
		if (IS_ERR(r))
			return PTR_ERR(r);
		/* max_io is a multiple of the page size: whole pages. */
		for (i = 0; i < nr; i++, pg++)
			__bio_add_page(r->bio, pb->b->pages[pg],
				       min_t(u32, n - i * PAGE_SIZE, PAGE_SIZE),
				       0);
		r->cookie = pb - s->sp->blocks;
		peer_submit(s, r);
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
		return peer_failed(s,
				   "the exporter could not read a block of the export",
				   -EIO);
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_RECEIVED, 1);
	block_hash(s, pb->b->pages, pb->index, h);
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
	block_written(s, pb->index, h);
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_VERIFIED, 1);
	s->sp->reading[pb->b - s->t.bufs] = false;
	pb->b = NULL;
	return 0;
}

/* Every free buffer of the pool is being written: wait until one is not. */
static int write_wait(struct dstor_sync *s)
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

	set_state(s, DSTOR_SYNC_STATE_RECEIVING);
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
			ret = write_wait(s);
			if (ret)
				return ret;
			continue;
		}
		r = peer_wait(s);
		if (IS_ERR(r))
			return PTR_ERR(r);
		k = r->cookie;
		peer_req_put(s, r);
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

static void peer_free(struct dstor_sync *s)
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
		return peer_failed(s, dstor_why_text(sp->p.hs.why), ret);
	return ret;
}

/* Connect to the exporter, and check it can serve a sync. */
static int peer_connect(struct dstor_sync *s)
{
	struct dstor_sync_peer *sp = s->sp;
	int ret;

	set_state(s, DSTOR_SYNC_STATE_WAITING);
	ret = peer_dial(s);
	if (ret)
		return ret;
	if (sp->p.info.version < DSTOR_PROTO_VERSION_TREE)
		return peer_failed(s,
				   "the exporter does not offer sync over TCP (protocol version 4)",
				   -EPROTO);
	if (!(sp->p.info.flags & DSTOR_EXP_TREE))
		return peer_failed(s,
				   "the export has no tree (export add --tree)",
				   -EOPNOTSUPP);
	/* Whole pages per READ (max_io is at least 4096), all of a block's at once. */
	if (peer_max_io(s) < PAGE_SIZE)
		return peer_failed(s,
				   "the exporter's largest transfer is below a page",
				   -EPROTO);
	return 0;
}

/*
 * End the round's connection: what the exporter sent on it is counted,
 * and the requests it held are given back.
 */
static void peer_disconnect(struct dstor_sync *s)
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
		peer_req_put(s, &sp->r[i]);
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
		return peer_failed(s,
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
 * peer_main() forgot them) and, for a scrub, every block. 0 or an error.
 */
static int peer_rehash(struct dstor_sync *s, bool scrub)
{
	int ret;

	set_state(s, DSTOR_SYNC_STATE_HASHING);
	if (!bitmap_empty(s->wrote, s->ann.blocks)) {
		ret = dstor_sync_read(&s->t, s->wrote, hash_read, s);
		if (ret)
			return ret;
	}
	bitmap_zero(s->wrote, s->ann.blocks);
	if (!scrub)
		return 0;
	s->scrubbing = true;
	s->corrupt = 0;
	ret = dstor_sync_read(&s->t, NULL, hash_read, s);
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
static int peer_mine(struct dstor_sync *s, u8 *root)
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
		peer_req_put(s, r);
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

	ret = peer_mine(s, NULL);
	if (ret)
		return ret;
	if (!crypto_memneq(sp->mine->root, s->ann.root, DSTOR_MC_HASH)) {
		/* Equal: nothing to fetch or write. */
		memcpy(s->leaves, s->mine, s->ann.blocks * DSTOR_MC_HASH);
		atomic64_set(&s->stats.c[DSTOR_STAT_SYNC_GOOD],
			     good_update(s));
		if (bitmap_empty(s->wrote, s->ann.blocks))
			return 0;
		/* Started over after writing: flush and read them back. */
		ret = verify(s);
		if (ret != SYNC_DIFFERS)
			return ret;
	}
	ret = peer_descend(s);
	if (ret)
		return ret;
	atomic64_set(&s->stats.c[DSTOR_STAT_SYNC_GOOD], good_update(s));
	if (seeds) {
		ret = seed(s);
		if (ret)
			return ret;
	}
	for (tries = 0;; tries++) {
		ret = peer_fetch(s);
		if (!ret)
			ret = verify(s);
		if (ret != SYNC_DIFFERS)
			break;
		if (tries == PEER_TRIES)
			return peer_failed(s,
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
		return peer_failed(s,
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
	return peer_failed(s, s->stale_why ?:
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
		ret = tree_setup(s);
		if (!ret)
			ret = peer_alloc(s);
		if (ret)
			return ret;
		set_state(s, DSTOR_SYNC_STATE_HASHING);
		ret = dstor_sync_read(&s->t, NULL, hash_read, s);
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

/* ---- multicast repaired over TCP: the TCP side ---- */

/* READs a repair of one block sends at most; more gaps: the whole block. */
#define REPAIR_READS		8

/* Connected for repairs: is it the export served by multicast? */
static int repair_check(struct dstor_sync *s)
{
	struct dstor_sync_peer *sp = s->sp;

	if (sp->p.info.size != s->ann.size)
		return peer_failed(s,
				   "the export over TCP is not the size of the one announced by multicast",
				   -EPROTO);
	if (peer_max_io(s) < PAGE_SIZE ||
	    DIV_ROUND_UP(s->ann.block_size, peer_max_io(s)) > REPAIR_READS)
		return peer_failed(s,
				   "the exporter's largest transfer is too small for repairs of a block",
				   -EPROTO);
	return 0;
}

/* READs of bytes [@from, @to) of slot @sl's block, into its buffer. */
static int repair_read(struct dstor_sync *s, struct sync_slot *sl, u32 from,
		       u32 to)
{
	struct dstor_sync_buf *b = slot_buf(s, sl);
	u64 pos = sl->index * s->ann.block_size;
	u32 max_io = peer_max_io(s), off, n, o, seg;
	struct dstor_peer_req *r;
	unsigned int nr;

	for (off = from; off < to; off += n) {
		n = min(to - off, max_io);
		nr = DIV_ROUND_UP(offset_in_page(off) + n, PAGE_SIZE);
		r = peer_read_req(s, pos + off, n, nr);
		if (IS_ERR(r))
			return PTR_ERR(r);
		for (o = off; o < off + n; o += seg) {
			seg = min_t(u32, off + n - o,
				    PAGE_SIZE - offset_in_page(o));
			__bio_add_page(r->bio, b->pages[o >> PAGE_SHIFT], seg,
				       offset_in_page(o));
		}
		r->cookie = sl - s->slots;
		sl->fetching++;
		peer_submit(s, r);
	}
	return 0;
}

/* The READs a repair of @sl would send for the chunks it lacks. */
static unsigned int repair_reads(struct dstor_sync *s, struct sync_slot *sl)
{
	u32 len = block_len(s, sl->index), max_io = peer_max_io(s);
	unsigned int c, e, reads = 0;

	for (c = find_first_zero_bit(sl->got, sl->chunks); c < sl->chunks;
	     c = find_next_zero_bit(sl->got, sl->chunks, e)) {
		e = find_next_bit(sl->got, sl->chunks, c);
		reads += DIV_ROUND_UP(min(e * DSTOR_MC_CHUNK, len) -
				      c * DSTOR_MC_CHUNK, max_io);
	}
	return reads;
}

/*
 * The exporter reads whole sectors of its device: a sector with a chunk
 * missing is read whole (its chunks held are dropped).
 */
static void repair_sectors(struct dstor_sync *s, struct sync_slot *sl)
{
	unsigned int u = max(s->sp->p.info.logical_block_size / DSTOR_MC_CHUNK,
			     1U), c, e;

	if (u == 1)
		return;
	for (c = 0; c < sl->chunks; c += u) {
		e = min(c + u, sl->chunks);
		if (find_next_zero_bit(sl->got, e, c) < e)
			bitmap_clear(sl->got, c, e - c);
	}
	sl->have = bitmap_weight(sl->got, sl->chunks);
}

/*
 * Fetch what slot @sl's block lacks: its missing chunks, or all of it when
 * that takes fewer READs or a chunk it holds may be forged (contested).
 */
static int repair_fetch(struct dstor_sync *s, struct sync_slot *sl)
{
	u32 len = block_len(s, sl->index);
	unsigned int c, e;
	int ret;

	repair_sectors(s, sl);
	if (sl->contested || repair_reads(s, sl) > REPAIR_READS) {
		bitmap_zero(sl->got, sl->chunks);
		sl->have = 0;
		sl->contested = false;
	}
	for (c = find_first_zero_bit(sl->got, sl->chunks); c < sl->chunks;
	     c = find_next_zero_bit(sl->got, sl->chunks, e)) {
		e = find_next_bit(sl->got, sl->chunks, c);
		ret = repair_read(s, sl, c * DSTOR_MC_CHUNK,
				  min(e * DSTOR_MC_CHUNK, len));
		if (ret)
			return ret;
	}
	s->tcp_slots++;
	return 0;
}

/* A slot holding part of a queued block, or NULL. */
static struct sync_slot *repair_held(struct dstor_sync *s)
{
	struct sync_slot *sl;
	unsigned int i;

	for (i = 0; i < s->nr_slots; i++) {
		sl = &s->slots[i];
		if (!s->t.bufs[i].writing && !sl->fetching &&
		    sl->index != U64_MAX && test_bit(sl->index, s->queue))
			return sl;
	}
	return NULL;
}

/* Send READs for queued blocks while requests and buffers are free. */
static int repair_issue(struct dstor_sync *s)
{
	struct sync_slot *sl;
	u64 k;
	int ret;

	for (;;) {
		k = find_next_bit(s->queue, s->ann.blocks, s->queue_next);
		if (k >= s->ann.blocks)
			return 0;
		s->queue_next = k;
		if (s->sp->nr_busy + REPAIR_READS > DSTOR_PEER_MAX_REQS)
			return 0;
		/* Half the pool stays the channels' while there are some. */
		if (s->nr_chans && s->tcp_slots >= s->nr_slots / 2)
			return 0;
		sl = slot_get(s, k);
		/*
		 * Every buffer busy: a queued block that holds one goes first
		 * (partial blocks could fill the pool); else after a write.
		 */
		if (!sl)
			sl = repair_held(s);
		if (!sl)
			return 0;
		clear_bit(sl->index, s->queue);
		ret = repair_fetch(s, sl);
		if (ret)
			return ret;
	}
}

/* A READ of a repair answered: once all of its block's are, check it. */
static int repair_reply(struct dstor_sync *s, struct dstor_peer_req *r)
{
	struct sync_slot *sl = &s->slots[r->cookie];
	unsigned long useful = s->last_useful;
	u16 status = r->status;
	u32 length = r->length;
	u64 index = sl->index;
	int ret;

	peer_req_put(s, r);
	if (status != DSTOR_ST_OK)
		return peer_failed(s,
				   "the exporter could not read a block of the export",
				   -EIO);
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_BYTES, length);
	sl->touched = jiffies;
	if (--sl->fetching)
		return 0;
	s->tcp_slots--;
	bitmap_fill(sl->got, sl->chunks);
	sl->have = sl->chunks;
	ret = slot_done(s, sl);
	/* The stall is the channels': TCP's progress does not count. */
	s->last_useful = useful;
	if (ret)
		return ret;
	if (sl->index == U64_MAX) {
		clear_bit(index, s->fetch);
		return 0;
	}
	/* Not its leaf: slot_done() marked it contested, for a whole READ. */
	if (++sl->tries >= PEER_TRIES)
		return peer_failed(s,
				   "a block read from the exporter over TCP does not match the multicast tree",
				   -EBADMSG);
	set_bit(index, s->queue);
	s->queue_next = min(s->queue_next, index);
	return 0;
}

/*
 * The connection failed (@err): what it was to fetch comes by multicast
 * alone (SYNC_REPAIR_LOST); receive() dials again the next time.
 */
static int repair_lost(struct dstor_sync *s, int err)
{
	unsigned int i;

	if (err == -EINTR)
		return err;
	pr_warn("sync %s: the connection for repairs failed (%s): going on by multicast alone\n",
		s->name, err == -ETIME ? "no answer within 60 s" :
		dstor_why_text(dstor_why_conn(err)));
	/* Stopped: nothing is read into the slots' buffers any more. */
	peer_disconnect(s);
	s->repair_up = false;
	for (i = 0; i < s->nr_slots; i++) {
		if (!s->slots[i].fetching)
			continue;
		s->slots[i].fetching = 0;
		s->slots[i].index = U64_MAX;
	}
	s->tcp_slots = 0;
	bitmap_zero(s->fetch, s->ann.blocks);
	bitmap_zero(s->queue, s->ann.blocks);
	s->repair_off = true;
	return SYNC_REPAIR_LOST;
}

/*
 * Dial the exporter for repairs, not waiting: from the moment the tree is
 * known, so that the handshake goes on while the tree comes and the target
 * is hashed (a lost SYN costs a second; a receiver that joined its channels
 * late would keep the carousel going for the others).
 */
static int repair_dial(struct dstor_sync *s)
{
	struct dstor_peer *p = &s->sp->p;
	int ret;

	ret = dstor_peer_dial(p, s->net, &s->peer, s->name,
			      s->key.set ? &s->key : NULL, &s->stats);
	return ret ? peer_failed(s, dstor_why_text(p->hs.why), ret) : 0;
}

/*
 * The connection of repair_dial(), once its handshake ended
 * (@wait: waiting for that): 0 when READs may go, -EINPROGRESS, an error
 * when it is the first one (the peer, its key or its access list is wrong:
 * the sync fails), else SYNC_REPAIR_LOST (the rest by multicast alone).
 */
static int repair_dialled(struct dstor_sync *s, bool wait)
{
	struct dstor_sync_peer *sp = s->sp;
	int ret;

	ret = dstor_peer_dialled(&sp->p, wait);
	if (ret == -EINPROGRESS || ret == -EINTR)
		return ret;
	if (ret)
		ret = peer_failed(s, dstor_why_text(sp->p.hs.why), ret);
	else
		ret = repair_check(s);
	if (!ret) {
		s->repair_up = true;
		s->repair_worked = true;
		return 0;
	}
	if (!s->repair_worked)
		return ret;
	/* Not failed: said in the log, not as the reason. */
	WRITE_ONCE(s->why, NULL);
	s->why_logged = NULL;
	return repair_lost(s, ret);
}

/* Every reply there is, without waiting. */
static int repair_replies(struct dstor_sync *s)
{
	struct dstor_peer_req *r;
	int ret;

	for (;;) {
		r = dstor_peer_poll(&s->sp->p);
		if (!r)
			return 0;
		if (IS_ERR(r))
			return repair_lost(s, PTR_ERR(r));
		ret = repair_reply(s, r);
		if (ret)
			return ret;
	}
}

/*
 * RECEIVING with repairs: packets from the channels, replies from the
 * exporter over TCP, until every leaf is good. While READs are in flight
 * the socket is polled every jiffy, so replies wait at most that long.
 */
static int repair_loop(struct dstor_sync *s)
{
	struct dstor_peer_req *r;
	int ret;

	s->last_useful = jiffies;
	while (s->good_count < s->ann.blocks) {
		ret = dstor_sync_reap(&s->t);
		if (!ret)
			ret = repair_replies(s);
		if (!ret)
			ret = repair_issue(s);
		if (ret)
			return ret;
		if (s->settle)
			repair_settle(s);
		/* The replies above may have completed the last block. */
		if (s->good_count == s->ann.blocks)
			break;
		if (!s->nr_chans) {
			/* TCP's alone now. */
			if (s->sp->nr_busy) {
				r = dstor_peer_wait(&s->sp->p);
				if (IS_ERR(r))
					return repair_lost(s, PTR_ERR(r));
				ret = repair_reply(s, r);
				if (ret)
					return ret;
				continue;
			}
			if (!bitmap_empty(s->queue, s->ann.blocks)) {
				ret = write_wait(s);
				if (ret)
					return ret;
				continue;
			}
			/* Partly received, its channel gone: TCP's too. */
			repair_stall(s);
			if (WARN_ON_ONCE(bitmap_empty(s->queue, s->ann.blocks)))
				return -EIO;
			continue;
		}
		WRITE_ONCE(s->sock->sk->sk_rcvtimeo,
			   s->sp->nr_busy ? 1 : SYNC_RX_TIMEOUT);
		ret = receive_packet(s, repair_stall);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * RECEIVING with repairs over TCP; SYNC_REPAIR_LOST when there is no
 * connection to repair over, and receive() goes on by multicast alone. The
 * first dial failing fails the sync (the peer, its key or its access list
 * is wrong); a later one, after a connection that worked, does not.
 */
static int repair_receive(struct dstor_sync *s)
{
	struct dstor_peer *p = &s->sp->p;
	int ret;

	s->repair_off = false;
	s->tcp_slots = 0;
	if (p->conn && READ_ONCE(p->err)) {
		peer_disconnect(s);
		s->repair_up = false;
	}
	/*
	 * Nothing stale: the connection is not needed (nor waited for).
	 * Else its handshake, begun with the tree (repair_dial()), has
	 * usually ended by now; a first one that failed fails the sync before
	 * anything is received.
	 */
	if (s->good_count < s->ann.blocks && !s->repair_up) {
		ret = p->conn ? 0 : repair_dial(s);
		if (!ret)
			ret = repair_dialled(s, true);
		if (ret)
			return ret;
	}
	ret = repair_join(s);
	if (!ret)
		ret = repair_loop(s);
	WRITE_ONCE(s->sock->sk->sk_rcvtimeo, SYNC_RX_TIMEOUT);
	if (ret)
		return ret;
	chans_leave(s);
	return dstor_sync_drain(&s->t);
}

/* Why a sync over TCP failed, when no step said so. */
static void peer_why(struct dstor_sync *s, int err)
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

static void sync_info(struct dstor_sync *s, struct dstor_sync_info *si);

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
		peer_why(s, err);
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
	sync_info(s, si);
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
static int peer_main(struct dstor_sync *s)
{
	/* u64: 30 days of jiffies overflow a 32-bit long at HZ 1000. */
	u64 every = (u64)s->every * HZ, scrub = (u64)s->scrub * HZ;
	u64 last_scrub, backoff = 0;
	int ret;

	ret = peer_round(s, true, false);
	peer_disconnect(s);
	if (ret || !every)
		return ret;
	/* Seeds were for the first round. */
	while (s->nr_seeds)
		fput(s->seeds[--s->nr_seeds]);
	peer_round_end(s, 0, true);
	/* Flushed and read back by verify(): not to be read again. */
	bitmap_zero(s->wrote, s->ann.blocks);
	last_scrub = get_jiffies_64();
	for (;;) {
		set_state(s, DSTOR_SYNC_STATE_IDLE);
		ret = peer_sleep(get_jiffies_64() + (backoff ?: every));
		if (ret)
			return ret;
		ret = peer_round(s, false, scrub &&
				 time_after_eq64(get_jiffies_64(),
						 last_scrub + scrub));
		peer_disconnect(s);
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

static int mcast_main(struct dstor_sync *s)
{
	s64 good;
	int ret;

	ret = wait_announce(s);
	if (ret)
		return ret;
	for (;;) {
		ret = tree_setup(s);
		if (ret)
			return ret;
		/* Its failure is told when something is stale (receive()). */
		if (s->repair && !s->sp->p.conn)
			dstor_peer_dial(&s->sp->p, s->net, &s->peer, s->name,
					s->key.set ? &s->key : NULL, &s->stats);
		ret = tree_fetch(s);
		if (ret == SYNC_NEW_TREE)
			continue;
		if (ret)
			return ret;

		set_state(s, DSTOR_SYNC_STATE_HASHING);
		good = target_hash(s, NULL);
		if (good < 0)
			return good;
		atomic64_set(&s->stats.c[DSTOR_STAT_SYNC_GOOD], good);
		ret = seed(s);
		if (ret)
			return ret;

		do {
			ret = receive(s);
			if (!ret)
				ret = verify(s);
		} while (ret == SYNC_DIFFERS);
		if (ret != SYNC_NEW_TREE)
			return ret;
		/* READs in flight go into buffers tree_setup() frees. */
		if (s->repair) {
			peer_disconnect(s);
			s->repair_up = false;
		}
	}
}

static int sync_main(struct dstor_sync *s)
{
	int ret;

	ret = sync_tcp(s) ? peer_main(s) : mcast_main(s);
	/* Multicast's failures say why in the kernel log only. */
	if (ret < 0 && sync_tcp(s))
		peer_why(s, ret);
	return ret;
}

/* Give back what the sync holds, once its thread has stopped or ended. */
static void sync_release(struct dstor_sync *s)
{
	if (s->sock) {
		/* Closing the socket leaves its groups. */
		sock_release(s->sock);
		s->sock = NULL;
		s->nr_chans = 0;
		atomic64_set(&s->stats.c[DSTOR_STAT_SYNC_CHANNELS], 0);
	}
	if (s->sp) {
		peer_disconnect(s);
		peer_free(s);
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
		set_state(s, DSTOR_SYNC_STATE_FAILED);
	} else if (!ret) {
		pr_info("sync %s: %s is up to date (%llu blocks, %lld received, %lld from seeds)\n",
			s->name, s->path, s->ann.blocks,
			atomic64_read(&s->stats.c[DSTOR_STAT_SYNC_VERIFIED]),
			atomic64_read(&s->stats.c[DSTOR_STAT_SYNC_SEEDED]));
		set_state(s, DSTOR_SYNC_STATE_DONE);
	} else if (ret != -EINTR) {
		pr_err("sync %s: failed (%d)\n", s->name, ret);
		set_state(s, DSTOR_SYNC_STATE_FAILED);
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
	ret = group_join(s, &g);
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

static void sync_info(struct dstor_sync *s, struct dstor_sync_info *si)
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
		sync_info(s, info);
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
		sync_info(s, info);
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
		sync_info(s, info);
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
