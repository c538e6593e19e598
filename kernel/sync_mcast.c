// SPDX-License-Identifier: GPL-2.0
/*
 * A sync by multicast (Documentation/multicast.md, "Receiving"; sync.c
 * describes the states): the groups it joins, its packets received and
 * verified, the tree's leaf hashes fetched from the tree group, the
 * channels planned for the stale leaves, and blocks assembled from DATA
 * packets in slots of the target's buffers, checked against their leaf
 * and written; then VERIFYING, which a sync over TCP shares.
 *
 * A packet never allocates; anything malformed or unverifiable is dropped
 * and counted (SYNC_PACKETS_BAD). Repaired over TCP, a sync plans and
 * leaves its channels as sync_repair.c says, and hands it the blocks a
 * carousel went past without completing them.
 */
#include <crypto/algapi.h>
#include <crypto/blake2s.h>
#include <linux/delay.h>
#include <linux/in6.h>
#include <linux/rtnetlink.h>
#include <linux/udp.h>
#include <net/addrconf.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "sync_int.h"

#define SYNC_STALL		(5 * HZ)	/* nothing useful: join again */
#define SYNC_SLOT_IDLE		(60 * HZ)	/* a partial block given up */
#define SYNC_TREE_GONE		(10 * HZ)	/* unannounced: take another */

/* ---- groups ---- */

int dstor_sync_group_join(struct dstor_sync *s, const struct in6_addr *group)
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

void dstor_sync_chans_leave(struct dstor_sync *s)
{
	while (s->nr_chans)
		group_leave(s, &s->chans[--s->nr_chans].group);
	atomic64_set(&s->stats.c[DSTOR_STAT_SYNC_CHANNELS], 0);
}

void dstor_sync_chan_drop(struct dstor_sync *s, unsigned int i)
{
	group_leave(s, &s->chans[i].group);
	s->chans[i] = s->chans[--s->nr_chans];
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_CHANNELS, -1);
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
/* What the socket dropped since last counted, mostly its buffer full. */
void dstor_sync_drops_count(struct dstor_sync *s)
{
	unsigned int drops = dstor_sk_drops(s->sock->sk);

	if (drops != s->rcv_drops) {
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_RCV_DROPS,
			       drops - s->rcv_drops);
		s->rcv_drops = drops;
	}
}

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
	dstor_sync_drops_count(s);
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

	sync_set_state(s, DSTOR_SYNC_STATE_WAITING);
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
	dstor_sync_useful(s);
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

	sync_set_state(s, DSTOR_SYNC_STATE_TREE);
	tree_group(s, &g);
	ret = dstor_sync_group_join(s, &g);
	if (ret) {
		pr_err("sync %s: joining the tree group failed (%d)\n",
		       s->name, ret);
		return ret;
	}
	dstor_sync_useful(s);
	while (got < pkts) {
		ret = sync_recv(s, &h);
		if (ret == -EAGAIN) {
			if (time_after(jiffies, s->last_useful + SYNC_STALL)) {
				/* Reports get lost too: announce again. */
				group_leave(s, &g);
				ret = dstor_sync_group_join(s, &g);
				if (ret)
					return ret;
				dstor_sync_useful(s);
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
			dstor_sync_useful(s);
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
void dstor_sync_chan_set(struct dstor_sync *s, unsigned int n,
			 unsigned int level, u64 j)
{
	struct sync_chan *c = &s->chans[n];

	c->first = j << level;
	c->end = min_t(u64, c->first + (1ULL << level), s->ann.blocks);
	c->last = U64_MAX;
	c->prev = U64_MAX;
	c->judged = c->first;
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
		dstor_sync_chan_set(s, n, level, j);
	return n + 1;
}

/* The level of the node of every leaf. */
unsigned int dstor_sync_plan_top(struct dstor_sync *s)
{
	return s->ann.blocks > 1 ? ilog2(s->ann.blocks - 1) + 1 : 0;
}

/* Join the @n channels planned in s->chans. */
int dstor_sync_chans_join_planned(struct dstor_sync *s, unsigned int n)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = dstor_sync_group_join(s, &s->chans[i].group);
		if (ret) {
			pr_err("sync %s: joining a channel failed (%d)\n",
			       s->name, ret);
			s->nr_chans = i;
			dstor_sync_chans_leave(s);
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
	unsigned int top = dstor_sync_plan_top(s), floor, n = 0;

	dstor_sync_chans_leave(s);
	for (floor = 0; floor <= top; floor++) {
		n = plan(s, top, 0, floor, 0, SYNC_MAX_CHANNELS);
		if (n <= SYNC_MAX_CHANNELS)
			break;
	}
	return dstor_sync_chans_join_planned(s, n);
}

struct sync_slot *dstor_sync_slot_get(struct dstor_sync *s, u64 index)
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
	sl->chunks = DIV_ROUND_UP(sync_block_len(s, index), DSTOR_MC_CHUNK);
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
void dstor_sync_block_written(struct dstor_sync *s, u64 index, const u8 *h)
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
int dstor_sync_slot_done(struct dstor_sync *s, struct sync_slot *sl)
{
	u64 index = sl->index;
	u8 h[DSTOR_MC_HASH];
	unsigned int i;

	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_RECEIVED, 1);
	dstor_sync_block_hash(s, sync_slot_buf(s, sl)->pages, index, h);
	if (crypto_memneq(h, s->leaves + index * DSTOR_MC_HASH,
			  DSTOR_MC_HASH)) {
		dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_HASH_BAD, 1);
		sl->contested = true;
		return 0;
	}
	/* The buffer is busy until its write ends; the slot is free. */
	dstor_sync_write(&s->t, sync_slot_buf(s, sl), index);
	sl->index = U64_MAX;
	dstor_sync_block_written(s, index, h);
	dstor_sync_useful(s);
	s->settle = true;
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_VERIFIED, 1);
	for (i = 0; i < s->nr_chans; i++) {
		struct sync_chan *c = &s->chans[i];

		if (index < c->first || index >= c->end ||
		    find_next_zero_bit(s->good, c->end, c->first) < c->end)
			continue;
		dstor_sync_chan_drop(s, i);
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
	blen = sync_block_len(s, h->index);
	if (h->offset >= blen ||
	    h->len != min_t(u32, DSTOR_MC_CHUNK, blen - h->offset))
		goto bad;
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_BYTES, h->len);
	if (s->repair && !s->repair_off) {
		dstor_repair_seen(s, h->index, h->offset / DSTOR_MC_CHUNK);
		/* TCP's now: its buffer may be being read into. */
		if (test_bit(h->index, s->fetch))
			return 0;
	}
	if (test_bit(h->index, s->good))
		return 0;
	sl = dstor_sync_slot_get(s, h->index);
	if (!sl) {
		if (s->repair && !s->repair_off)
			dstor_repair_queue(s, h->index);
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
		dstor_sync_useful(s);
	}
	dstor_sync_buf_copy(sync_slot_buf(s, sl), h->offset,
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
	return dstor_sync_slot_done(s, sl);
bad:
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_PACKETS_BAD, 1);
	return 0;
}

/*
 * The next packet while RECEIVING, DATA taken: 0, SYNC_NEW_TREE or an
 * error. After SYNC_STALL without a useful packet, @stall(s) instead:
 * SYNC_STALL gone by, and as much waited out in receive timeouts. A
 * thread the host or the guest did not run for seconds has not heard the
 * channels fall silent.
 */
int dstor_sync_receive_packet(struct dstor_sync *s,
			      int (*stall)(struct dstor_sync *s))
{
	struct dstor_mc_hdr h;
	int ret;

	ret = sync_recv(s, &h);
	if (ret == -EAGAIN) {
		s->waited += min_t(long, READ_ONCE(s->sock->sk->sk_rcvtimeo),
				   SYNC_RX_TIMEOUT);
		if (!time_after(jiffies, s->last_useful + SYNC_STALL) ||
		    s->waited < SYNC_STALL)
			return 0;
		ret = stall(s);
		dstor_sync_useful(s);
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

	sync_set_state(s, DSTOR_SYNC_STATE_RECEIVING);
	/* Hashing used the buffers: what the slots held is gone. */
	ret = dstor_sync_drain(&s->t);
	if (ret)
		return ret;
	for (i = 0; i < s->nr_slots; i++) {
		s->slots[i].index = U64_MAX;
		s->slots[i].fetching = 0;
	}
	if (s->repair) {
		ret = dstor_repair_receive(s);
		if (ret != SYNC_REPAIR_LOST)
			return ret;
	}
	ret = chans_join(s);
	if (ret)
		return ret;
	dstor_sync_useful(s);
	while (s->good_count < s->ann.blocks) {
		ret = dstor_sync_reap(&s->t);
		if (ret)
			return ret;
		/* Nothing useful for a while: a lost MLD report. */
		ret = dstor_sync_receive_packet(s, chans_join);
		if (ret)
			return ret;
	}
	dstor_sync_chans_leave(s);
	return dstor_sync_drain(&s->t);
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

	ret = dstor_sync_read(&s->t, only, dstor_sync_hash_read, s);
	if (ret)
		return ret;
	return dstor_sync_good_update(s);
}

/* VERIFYING: 0 when the target now has the export's root. */
int dstor_sync_verify(struct dstor_sync *s)
{
	u8 root[DSTOR_MC_HASH];
	s64 good;
	int ret;

	sync_set_state(s, DSTOR_SYNC_STATE_VERIFYING);
	ret = dstor_sync_flush(&s->t);
	if (ret)
		return ret;
	/* The other blocks were read and found good before receiving. */
	good = target_hash(s, s->wrote);
	if (good < 0)
		return good;
	if (sync_tcp(s)) {
		ret = dstor_sync_peer_mine(s, root);
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

int dstor_sync_mcast_main(struct dstor_sync *s)
{
	s64 good;
	int ret;

	ret = wait_announce(s);
	if (ret)
		return ret;
	for (;;) {
		ret = dstor_sync_tree_setup(s);
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

		sync_set_state(s, DSTOR_SYNC_STATE_HASHING);
		good = target_hash(s, NULL);
		if (good < 0)
			return good;
		atomic64_set(&s->stats.c[DSTOR_STAT_SYNC_GOOD], good);
		ret = dstor_sync_seed(s);
		if (ret)
			return ret;

		do {
			ret = receive(s);
			if (!ret)
				ret = dstor_sync_verify(s);
		} while (ret == SYNC_DIFFERS);
		if (ret != SYNC_NEW_TREE)
			return ret;
		/* READs in flight go into buffers dstor_sync_tree_setup() frees. */
		if (s->repair) {
			dstor_sync_peer_disconnect(s);
			s->repair_up = false;
		}
	}
}
