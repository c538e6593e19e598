// SPDX-License-Identifier: GPL-2.0
/*
 * Multicast serving of an export (Documentation/multicast.md): the merkle
 * tree, the channel table, the querier and the carousel sender; the MLD
 * watcher that tells it who listens is mld.c (mcast.h is what they share).
 *
 * One struct dstor_mcast per export served, with one kernel thread that
 * first reads the device and builds the tree (HASHING), then serves
 * (SERVING) until it is stopped. Everything is allocated when the export is
 * added: the leaf hashes, the channel table (every group the export can be
 * asked for, hashed by address), the block buffer and the packet buffer.
 * Neither a report nor a packet allocates anything.
 *
 * Who touches what:
 *   the MLD watcher (softirq) finds a group with dstor_mcast_lookup() in
 *	the channel table (immutable once published with smp_store_release
 *	on @ready) and keeps its listener state (mcast.h);
 *   the thread, under the watcher's lock (BH off), expires channels and
 *	picks the next one; the rest of its state (cursors, pacing,
 *	buffers) is its own;
 *   the configuration path starts and stops; rtnl guards @dev and the list
 *	of served devices, so the netdevice notifier can stop serving a
 *	device that goes away (it never takes dstor_cfg_mutex).
 *
 * Timers: mcast.h, and
 *   announce		at most one ANNOUNCE per 500 ms while its group is
 *			listened
 *   expiry scan	every pass of the sender, at least every 500 ms
 */
#include <crypto/blake2s.h>
#include <linux/bio.h>
#include <linux/delay.h>
#include <linux/in6.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/netdevice.h>
#include <linux/random.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/udp.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/netlink.h>

#include "crypto.h"
#include "dstor.h"
#include "export.h"
#include "mcast.h"
#include "mcast_proto.h"
#include "merkle.h"
#include "mld.h"
#include "pages.h"
#include "tree.h"

#define MC_ANNOUNCE	(HZ / 2)
#define MC_SCAN		(HZ / 2)
#define MC_BATCH	32		/* packets per send (UDP GSO) */
#define MC_BURST_PKTS	MC_BATCH	/* pacing: packets sent back to back */

enum { MC_ANN, MC_TREE };		/* channel table indices */

struct mc_chan {
	struct dstor_mld_group mld;	/* its group, listener state */
	u32 next;			/* hash chain: index + 1, 0 ends it */
	u32 first;			/* leaves [first, first + count) */
	u32 count;			/* tree: packets of the tree carousel */
	u32 cursor;			/* the thread's: next leaf or packet */
};

struct dstor_mcast {
	struct list_head entry;		/* mc_list; rtnl */
	struct dstor_export *exp;
	struct dstor_mcast_cfg cfg;
	struct net_device *dev;		/* rtnl; NULL once stopped */
	netdevice_tracker tracker;
	struct dstor_mld mld;		/* the watcher, and who listens */
	struct socket *udp;		/* data, to [group]:DSTOR_MC_PORT */
	struct socket *raw;		/* ICMPv6: queries (querier only) */
	struct task_struct *task;

	bool keyed;
	u8 key[DSTOR_KEY_LEN];		/* the export's key at start */
	u8 kt[DSTOR_MC_HASH];
	u8 zero_leaf[DSTOR_MC_HASH];	/* of a block of zeros */
	u32 blocks;
	u8 *leaves;			/* blocks x 32 bytes */
	u64 epoch;
	u8 root[DSTOR_MC_HASH];
	u32 state;			/* enum dstor_mc_state */
	bool ready;			/* the table is complete (acquire) */

	u32 nr_chans;
	struct mc_chan *chans;
	u32 *buckets;			/* index + 1 of the first, 0 none */
	u32 bucket_mask;
	u32 seed;

	/* the thread's own */
	struct dstor_mc_ctx ctx_ann;	/* ANNOUNCE packets */
	struct dstor_mc_ctx ctx;	/* TREE and DATA packets */
	u8 cipher;
	unsigned int nr_pages;
	struct page **pages;		/* one block */
	u8 *pkt;			/* MC_BATCH packets to one group */
	unsigned int nr_pkts;		/* in pkt, not yet sent */
	unsigned int pkt_bytes;		/* their length together */
	unsigned int seg;		/* the first one's length */
	struct in6_addr pkt_group;
	bool gso;			/* UDP GSO works on the device */
	unsigned long next_ann;
	unsigned long next_scan;
	unsigned long next_query;
	unsigned int queries;		/* sent so far (startup queries) */
	u64 t_next;			/* pacing: ns the next send may start */
	u64 burst_ns;
};

static LIST_HEAD(mc_list);		/* served devices; rtnl */

/* ---- the channel table ---- */

static u32 mc_levels(u32 n)
{
	return n > 1 ? ilog2(n - 1) + 1 : 0;
}

static u32 mc_nr_chans(u32 n)
{
	u32 l, t = 2;

	for (l = 0; l <= mc_levels(n); l++)
		t += DIV_ROUND_UP(n, 1U << l);
	return t;
}

static u32 mc_hash(const struct dstor_mcast *m, const struct in6_addr *a)
{
	return jhash(a, sizeof(*a), m->seed) & m->bucket_mask;
}

static void mc_insert(struct dstor_mcast *m, u32 i)
{
	u32 b = mc_hash(m, &m->chans[i].mld.addr);

	m->chans[i].next = m->buckets[b];
	m->buckets[b] = i + 1;
}

struct dstor_mld_group *dstor_mcast_lookup(struct dstor_mld *w,
					   const struct in6_addr *addr)
{
	struct dstor_mcast *m = container_of(w, struct dstor_mcast, mld);
	u32 i;

	if (ipv6_addr_equal(addr, &m->chans[MC_ANN].mld.addr))
		return &m->chans[MC_ANN].mld;
	/* Pairs with the release in mc_build(). */
	if (!smp_load_acquire(&m->ready))
		return NULL;
	for (i = m->buckets[mc_hash(m, addr)]; i; i = m->chans[i - 1].next)
		if (ipv6_addr_equal(addr, &m->chans[i - 1].mld.addr))
			return &m->chans[i - 1].mld;
	return NULL;
}

/* Every group of the tree just built: tree, then channels by level. */
static void mc_build(struct dstor_mcast *m)
{
	const char *name = m->exp->name;
	u32 l, j, i = MC_TREE, n = m->blocks;
	struct mc_chan *c;

	c = &m->chans[MC_TREE];
	dstor_mc_group(name, DSTOR_MC_KIND_TREE, m->epoch, m->root, 0,
		       &c->mld.addr);
	c->count = DIV_ROUND_UP(n, DSTOR_MC_LEAVES_PER_PKT);
	mc_insert(m, i++);
	for (l = 0; l <= mc_levels(n); l++) {
		for (j = 0; j < DIV_ROUND_UP(n, 1U << l); j++) {
			c = &m->chans[i];
			dstor_mc_group(name, DSTOR_MC_KIND_CHANNEL, m->epoch,
				       m->root, dstor_mc_node(l, j),
				       &c->mld.addr);
			c->first = j << l;
			c->count = min(1U << l, n - c->first);
			mc_insert(m, i++);
			if (!(i & 255))
				cond_resched();
		}
	}
	WARN_ON_ONCE(i != m->nr_chans);
	/* The table, epoch and root before @ready: lookup, fill. */
	smp_store_release(&m->ready, true);
}

/* ---- sending ---- */

/* Keep to the rate: sleep once the next send is a burst ahead of now. */
static void mc_pace(struct dstor_mcast *m, unsigned int bytes)
{
	u64 now = ktime_get_ns(), ahead;

	if (m->t_next < now)
		m->t_next = now;
	m->t_next += div64_u64((u64)bytes * 8 * NSEC_PER_SEC, m->cfg.rate);
	ahead = m->t_next - now;
	if (ahead <= m->burst_ns)
		return;
	ahead = div_u64(ahead - m->burst_ns, NSEC_PER_USEC);
	if (ahead > 20000)
		schedule_timeout_interruptible(usecs_to_jiffies(ahead));
	else
		usleep_range(ahead, ahead + ahead / 8 + 10);
}

/*
 * Send @len bytes to @group; @seg > 0: as UDP GSO, datagrams of @seg bytes
 * (the last one may be shorter).
 */
static int mc_sendto(struct socket *sock, const struct in6_addr *group,
		     u16 port, int ifindex, void *buf, size_t len, u16 seg)
{
	union {
		struct cmsghdr hdr;
		u8 buf[CMSG_SPACE(sizeof(u16))];
	} cm = {};
	struct sockaddr_in6 sin6 = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(port),
		.sin6_addr = *group,
		.sin6_scope_id = ifindex,
	};
	struct msghdr msg = {
		.msg_name = &sin6,
		.msg_namelen = sizeof(sin6),
		.msg_flags = MSG_DONTWAIT,
	};
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	int ret, tries;

	if (seg) {
		cm.hdr.cmsg_level = SOL_UDP;
		cm.hdr.cmsg_type = UDP_SEGMENT;
		cm.hdr.cmsg_len = CMSG_LEN(sizeof(u16));
		memcpy(cm.buf + CMSG_LEN(0), &seg, sizeof(seg));
		msg.msg_control = &cm;
		msg.msg_controllen = sizeof(cm);
	}
	for (tries = 0; tries < 100; tries++) {
		ret = kernel_sendmsg(sock, &msg, &iov, 1, len);
		if (ret != -EAGAIN && ret != -ENOBUFS)
			break;
		if (kthread_should_stop())
			break;
		/* The queue is full: let it drain. */
		usleep_range(500, 1000);
	}
	return ret < 0 ? ret : 0;
}

/* Where the next packet goes: its header, then its payload. */
static u8 *mc_pkt(struct dstor_mcast *m)
{
	return m->pkt + m->pkt_bytes;
}

/*
 * Send the packets queued in m->pkt: as one UDP GSO datagram when there are
 * several and the device can (the stack or the NIC cuts it into the same
 * packets), else one by one.
 */
static int mc_flush(struct dstor_mcast *m)
{
	unsigned int n = m->nr_pkts, bytes = m->pkt_bytes, off;
	int ret = -EIO;

	if (!n)
		return 0;
	m->nr_pkts = 0;
	m->pkt_bytes = 0;
	mc_pace(m, bytes);
	if (n > 1 && m->gso) {
		ret = mc_sendto(m->udp, &m->pkt_group, DSTOR_MC_PORT,
				m->cfg.ifindex, m->pkt, bytes, m->seg);
		/* No checksum offload or no GSO on this route. */
		if (ret == -EIO || ret == -EINVAL) {
			pr_info("export %s: no UDP segmentation on this link (%d): sending packet by packet\n",
				m->exp->name, ret);
			m->gso = false;
		}
	}
	if (ret == -EIO || ret == -EINVAL) {
		for (ret = 0, off = 0; off < bytes && !ret; off += m->seg)
			ret = mc_sendto(m->udp, &m->pkt_group, DSTOR_MC_PORT,
					m->cfg.ifindex, m->pkt + off,
					min(m->seg, bytes - off), 0);
	}
	if (ret) {
		net_warn_ratelimited("export %s: multicast send failed (%d)\n",
				     m->exp->name, ret);
		/* Link down or gone: do not spin on it. */
		schedule_timeout_interruptible(HZ / 10);
		return ret;
	}
	dstor_stat_add(&m->exp->stats, DSTOR_STAT_MC_PACKETS, n);
	dstor_stat_add(&m->exp->stats, DSTOR_STAT_MC_BYTES, bytes);
	return 0;
}

/*
 * The packet at mc_pkt(m), payload written: encode header @h, protect it
 * and queue it for @group. The queue goes out when full, before a packet
 * for another group or a longer one, and after a shorter one (a GSO
 * datagram is packets of one length, the last may be shorter). Callers
 * flush when done.
 */
static int mc_send(struct dstor_mcast *m, const struct in6_addr *group,
		   const struct dstor_mc_ctx *ctx, struct dstor_mc_hdr *h)
{
	u8 *pkt = mc_pkt(m);
	unsigned int len;
	int ret;

	h->flags = ctx->tfm ? DSTOR_MC_F_SEALED : 0;
	h->cipher = ctx->tfm ? ctx->cipher : 0;
	len = DSTOR_MC_HDR_LEN + h->len + dstor_mc_tag_len(h->flags);
	dstor_mc_hdr_encode(pkt, h);
	ret = dstor_mc_protect(ctx, pkt, h);
	if (ret)
		return ret;
	if (m->nr_pkts &&
	    (len > m->seg || !ipv6_addr_equal(group, &m->pkt_group))) {
		ret = mc_flush(m);
		memmove(m->pkt, pkt, len);
		if (ret)
			return ret;
	}
	if (!m->nr_pkts) {
		m->seg = len;
		m->pkt_group = *group;
	}
	m->nr_pkts++;
	m->pkt_bytes += len;
	if (m->nr_pkts == MC_BATCH || len < m->seg)
		return mc_flush(m);
	return 0;
}

static void mc_send_announce(struct dstor_mcast *m)
{
	struct dstor_mc_hdr h = {
		.type = DSTOR_MC_ANNOUNCE,
		.epoch = m->epoch,
		.len = DSTOR_MC_ANNOUNCE_LEN,
	};
	struct dstor_mc_announce a = {
		.size = m->exp->size,
		.block_size = m->cfg.block_size,
		.chunk = DSTOR_MC_CHUNK,
		.blocks = m->blocks,
	};

	memcpy(a.root, m->root, DSTOR_MC_HASH);
	dstor_mc_announce_encode(mc_pkt(m) + DSTOR_MC_HDR_LEN, &a);
	if (!mc_send(m, &m->chans[MC_ANN].mld.addr, &m->ctx_ann, &h))
		mc_flush(m);
}

/* The tree carousel: as many packets per turn as a block takes. */
static void mc_send_tree(struct dstor_mcast *m, struct mc_chan *c)
{
	unsigned int i, n = max(m->cfg.block_size / DSTOR_MC_CHUNK, 1U);
	struct dstor_mc_hdr h = { .type = DSTOR_MC_TREE, .epoch = m->epoch };
	u32 first;

	for (i = 0; i < n && !kthread_should_stop(); i++) {
		first = c->cursor * DSTOR_MC_LEAVES_PER_PKT;
		h.index = first;
		h.len = min_t(u32, DSTOR_MC_LEAVES_PER_PKT, m->blocks - first) *
			DSTOR_MC_HASH;
		memcpy(mc_pkt(m) + DSTOR_MC_HDR_LEN,
		       m->leaves + (size_t)first * DSTOR_MC_HASH, h.len);
		c->cursor = (c->cursor + 1) % c->count;
		if (mc_send(m, &c->mld.addr, &m->ctx, &h))
			return;
	}
	mc_flush(m);
}

static u32 mc_block_len(struct dstor_mcast *m, u32 index)
{
	return dstor_mc_block_len(m->exp->size, m->cfg.block_size, index);
}

/* Read block @index into m->pages. */
static int mc_read(struct dstor_mcast *m, u32 index)
{
	return dstor_tree_read_block(m->exp->bdev.bdev, m->pages, m->exp->size,
				     m->cfg.block_size, index);
}

/* The leaf hash of the block in m->pages. */
static void mc_leaf(struct dstor_mcast *m, u32 index, u8 *out)
{
	dstor_mc_leaf_pages(m->kt, m->zero_leaf, m->cfg.block_size, m->pages,
			    mc_block_len(m, index), out);
}

/* The next block of a channel's carousel, all its pieces. */
static void mc_send_block(struct dstor_mcast *m, struct mc_chan *c)
{
	struct dstor_mc_hdr h = { .type = DSTOR_MC_DATA, .epoch = m->epoch };
	u32 index = c->first + c->cursor, len, off;
	u8 leaf[DSTOR_MC_HASH];
	int ret;

	c->cursor = (c->cursor + 1) % c->count;
	ret = mc_read(m, index);
	if (ret) {
		pr_warn_ratelimited("export %s: reading block %u failed (%d): not sent\n",
				    m->exp->name, index, ret);
		schedule_timeout_interruptible(HZ / 10);
		return;
	}
	/*
	 * Sealed, a block that changed under the export would reuse nonces
	 * with other plaintext: send only what the tree says.
	 */
	if (m->keyed) {
		mc_leaf(m, index, leaf);
		if (memcmp(leaf, m->leaves + (size_t)index * DSTOR_MC_HASH,
			   DSTOR_MC_HASH)) {
			pr_warn_ratelimited("export %s: block %u changed since the tree was built: not sent\n",
					    m->exp->name, index);
			return;
		}
	}
	len = mc_block_len(m, index);
	h.index = index;
	for (off = 0; off < len && !kthread_should_stop();
	     off += DSTOR_MC_CHUNK) {
		h.offset = off;
		h.len = min_t(u32, len - off, DSTOR_MC_CHUNK);
		memcpy(mc_pkt(m) + DSTOR_MC_HDR_LEN,
		       page_address(m->pages[off >> PAGE_SHIFT]) +
		       offset_in_page(off), h.len);
		if (mc_send(m, &c->mld.addr, &m->ctx, &h))
			return;
	}
	if (!mc_flush(m))
		dstor_stat_add(&m->exp->stats, DSTOR_STAT_MC_BLOCKS, 1);
}

/* ---- the querier ---- */

/* A General Query (@group NULL) or a group-specific one. */
static void mc_query(struct dstor_mcast *m, const struct in6_addr *group,
		     u16 mrd_ms)
{
	struct in6_addr all_nodes = IN6ADDR_LINKLOCAL_ALLNODES_INIT;
	u8 q[28] = { ICMPV6_MGM_QUERY };

	dstor_put16(q + 4, mrd_ms);
	if (group)
		memcpy(q + 8, group, sizeof(*group));
	q[24] = MC_QRV;
	q[25] = MC_QI_SECS;
	if (!mc_sendto(m->raw, group ?: &all_nodes, 0, m->cfg.ifindex, q,
		       sizeof(q), 0))
		dstor_stat_add(&m->exp->stats, DSTOR_STAT_MC_QUERIES, 1);
}

/* Queries due now: the periodic General Query, and after a leave. */
static void mc_query_tick(struct dstor_mcast *m)
{
	struct in6_addr group;
	u8 gsq;

	if (!m->raw)
		return;
	if (time_after_eq(jiffies, m->next_query)) {
		mc_query(m, NULL, MC_QRI_MS);
		m->queries++;
		/* RFC 3810 startup: the second query a quarter interval on. */
		m->next_query = jiffies + (m->queries < MC_QRV ? MC_QI / 4 :
					   MC_QI);
	}
	/* After leaves from several groups, one General Query asks for all. */
	gsq = dstor_mld_take_query(&m->mld, &group);
	if (gsq)
		mc_query(m, gsq == MC_GSQ_ONE ? &group : NULL, MC_LLQI_MS);
}

/* Router Alert (MLD) hop-by-hop option on every query. */
static void mc_query_setup(struct dstor_mcast *m)
{
	u8 hbh[8] = { 0, 0, IPV6_TLV_ROUTERALERT, 2, 0, 0,
		      IPV6_TLV_PADN, 0 };
	int ret;

	if (!m->raw)
		return;
	/* Here, not at start: it takes CAP_NET_RAW, which a kthread has. */
	ret = m->raw->ops->setsockopt(m->raw, SOL_IPV6, IPV6_HOPOPTS,
				      KERNEL_SOCKPTR(hbh), sizeof(hbh));
	if (ret)
		pr_warn("export %s: queries go without Router Alert (%d)\n",
			m->exp->name, ret);
	m->next_query = jiffies;
}

/* ---- the thread ---- */

static int mc_hash_tree(struct dstor_mcast *m)
{
	u32 i;
	int ret;

	dstor_mc_tree_key(m->keyed ? m->key : NULL, m->exp->name, m->kt);
	dstor_mc_zero_leaf(m->kt, m->cfg.block_size, m->zero_leaf);
	for (i = 0; i < m->blocks; i++) {
		if (kthread_should_stop())
			return -EINTR;
		mc_query_tick(m);
		ret = mc_read(m, i);
		if (ret) {
			pr_err("export %s: reading block %u failed (%d): multicast serving failed\n",
			       m->exp->name, i, ret);
			return ret;
		}
		mc_leaf(m, i, m->leaves + (size_t)i * DSTOR_MC_HASH);
		dstor_tree_progress(m->exp, i + 1, m->blocks);
		cond_resched();
	}
	ret = dstor_mc_root(m->kt, m->leaves, m->blocks, m->exp->size,
			    m->cfg.block_size, m->root);
	if (ret)
		return ret;
	/* The same tree, for reconciliation over TCP (tree.c). */
	if (dstor_tree_publish(m->exp, m->kt, m->leaves, m->blocks))
		pr_warn("export %s: no memory for its tree: TREE_INFO answers IOERR\n",
			m->exp->name);
	m->epoch = get_random_u64();
	ret = dstor_mc_ctx_init(&m->ctx_ann, m->keyed ? m->key : NULL,
				m->cipher, m->epoch, NULL);
	if (!ret)
		ret = dstor_mc_ctx_init(&m->ctx, m->keyed ? m->key : NULL,
					m->cipher, m->epoch, m->root);
	if (ret) {
		pr_err("export %s: cannot set up the multicast cipher (%d)\n",
		       m->exp->name, ret);
		return ret;
	}
	mc_build(m);
	return 0;
}

/* Listened, and nobody left it since: its packets go out; under the lock. */
static bool mc_sent(const struct mc_chan *c)
{
	return !list_empty(&c->mld.node) && !c->mld.held;
}

/*
 * Expire, then pick: @ann when an ANNOUNCE is due, and the next tree or
 * data channel in round-robin order (NULL when none is listened).
 */
static struct mc_chan *mc_next(struct dstor_mcast *m, bool *ann)
{
	struct mc_chan *c, *ann_c = &m->chans[MC_ANN];
	struct dstor_mld *w = &m->mld;
	unsigned long now = jiffies;

	spin_lock_bh(&w->lock);
	if (time_after_eq(now, m->next_scan)) {
		dstor_mld_expire(w, now);
		m->next_scan = now + MC_SCAN;
	}
	*ann = mc_sent(ann_c) && time_after_eq(now, m->next_ann);
	if (*ann)
		m->next_ann = now + MC_ANNOUNCE;
	c = list_first_entry_or_null(&w->active, struct mc_chan, mld.node);
	if (c == ann_c) {
		list_move_tail(&c->mld.node, &w->active);
		c = list_first_entry(&w->active, struct mc_chan, mld.node);
		if (c == ann_c)
			c = NULL;
	}
	if (c)
		list_move_tail(&c->mld.node, &w->active);
	spin_unlock_bh(&w->lock);
	return c;
}

/* Nothing to send: how long until something may be due. */
static long mc_idle(struct dstor_mcast *m)
{
	unsigned long now = jiffies, t = now + HZ;

	spin_lock_bh(&m->mld.lock);
	if (!list_empty(&m->mld.active) || !list_empty(&m->mld.held))
		t = min(t, now + MC_SCAN);
	if (mc_sent(&m->chans[MC_ANN]) && time_before(m->next_ann, t))
		t = m->next_ann;
	spin_unlock_bh(&m->mld.lock);
	if (m->raw && time_before(m->next_query, t))
		t = m->next_query;
	return time_after(t, now) ? t - now : 1;
}

static void mc_serve(struct dstor_mcast *m)
{
	struct mc_chan *c;
	bool ann;

	while (!kthread_should_stop()) {
		WRITE_ONCE(m->mld.kick, false);
		mc_query_tick(m);
		c = mc_next(m, &ann);
		if (ann)
			mc_send_announce(m);
		if (c == &m->chans[MC_TREE])
			mc_send_tree(m, c);
		else if (c)
			mc_send_block(m, c);
		if (c || ann) {
			cond_resched();
			continue;
		}
		wait_event_interruptible_timeout(m->mld.wait,
						 READ_ONCE(m->mld.kick) ||
						 kthread_should_stop(),
						 mc_idle(m));
	}
}

static int mc_thread(void *arg)
{
	struct dstor_mcast *m = arg;
	int ret;

	mc_query_setup(m);
	ret = mc_hash_tree(m);
	if (!ret) {
		pr_info("export %s: multicast tree built (%u blocks of %u bytes, epoch %016llx), serving on ifindex %d\n",
			m->exp->name, m->blocks, m->cfg.block_size, m->epoch,
			m->cfg.ifindex);
		WRITE_ONCE(m->state, DSTOR_MC_STATE_SERVING);
		mc_serve(m);
	} else {
		/* Stopped (interface gone, export deleted): no tree either. */
		dstor_tree_failed(m->exp, ret == -EINTR ? -ENODEV : ret);
		if (ret != -EINTR)
			WRITE_ONCE(m->state, DSTOR_MC_STATE_FAILED);
	}
	/* Only kthread_stop() ends the thread: it holds no reference. */
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

/* ---- start and stop ---- */

/* Stop serving on the device, under rtnl. Idempotent. */
static void mc_detach(struct dstor_mcast *m)
{
	ASSERT_RTNL();
	if (!m->dev)
		return;
	dstor_mld_detach(&m->mld, m->dev);
	kthread_stop(m->task);
	/* Never joined a group: releasing takes no rtnl. */
	sock_release(m->udp);
	m->udp = NULL;
	if (m->raw)
		sock_release(m->raw);
	m->raw = NULL;
	netdev_put(m->dev, &m->tracker);
	m->dev = NULL;
	list_del(&m->entry);
}

static void mc_free(struct dstor_mcast *m)
{
	if (m->udp)
		sock_release(m->udp);
	if (m->raw)
		sock_release(m->raw);
	dstor_mc_ctx_free(&m->ctx_ann);
	dstor_mc_ctx_free(&m->ctx);
	dstor_pages_free(m->pages, m->nr_pages);
	kfree(m->pages);
	kfree(m->pkt);
	kvfree(m->buckets);
	kvfree(m->chans);
	kvfree(m->leaves);
	memzero_explicit(m->key, sizeof(m->key));
	memzero_explicit(m->kt, sizeof(m->kt));
	kfree(m);
}

static int mc_sockopt(struct socket *sock, int level, int name, int val)
{
	return sock->ops->setsockopt(sock, level, name, KERNEL_SOCKPTR(&val),
				     sizeof(val));
}

static int mc_sockets(struct dstor_mcast *m, struct net *net)
{
	struct icmp6_filter all = {};
	int ret;

	ret = sock_create_kern(net, AF_INET6, SOCK_DGRAM, IPPROTO_UDP,
			       &m->udp);
	if (ret)
		return ret;
	ret = sock_bindtoindex(m->udp->sk, m->cfg.ifindex, true) ?:
	      mc_sockopt(m->udp, SOL_IPV6, IPV6_MULTICAST_HOPS, 1) ?:
	      mc_sockopt(m->udp, SOL_IPV6, IPV6_MULTICAST_LOOP, 0);
	if (ret || !m->cfg.querier)
		return ret;
	ret = sock_create_kern(net, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6,
			       &m->raw);
	if (ret)
		return ret;
	/* Send only: no ICMPv6 message is queued to it. */
	memset(&all, 0xff, sizeof(all));
	return sock_bindtoindex(m->raw->sk, m->cfg.ifindex, true) ?:
	       mc_sockopt(m->raw, SOL_IPV6, IPV6_MULTICAST_HOPS, 1) ?:
	       mc_sockopt(m->raw, SOL_IPV6, IPV6_MULTICAST_LOOP, 0) ?:
	       m->raw->ops->setsockopt(m->raw, SOL_ICMPV6, ICMPV6_FILTER,
				       KERNEL_SOCKPTR(&all), sizeof(all));
}

static int mc_alloc(struct dstor_mcast *m)
{
	unsigned int i;

	m->leaves = kvcalloc(m->blocks, DSTOR_MC_HASH, GFP_KERNEL);
	m->nr_chans = mc_nr_chans(m->blocks);
	m->chans = kvcalloc(m->nr_chans, sizeof(*m->chans), GFP_KERNEL);
	m->bucket_mask = roundup_pow_of_two(m->nr_chans) - 1;
	m->buckets = kvcalloc(m->bucket_mask + 1, sizeof(*m->buckets),
			      GFP_KERNEL);
	m->nr_pages = m->cfg.block_size >> PAGE_SHIFT;
	m->pages = kcalloc(m->nr_pages, sizeof(*m->pages), GFP_KERNEL);
	m->pkt = kmalloc(MC_BATCH * DSTOR_MC_PKT_MAX, GFP_KERNEL);
	if (!m->leaves || !m->chans || !m->buckets || !m->pages || !m->pkt)
		return -ENOMEM;
	if (dstor_pages_alloc(m->pages, m->nr_pages, GFP_KERNEL))
		return -ENOMEM;
	for (i = 0; i < m->nr_chans; i++)
		INIT_LIST_HEAD(&m->chans[i].mld.node);
	return 0;
}

int dstor_mcast_start(struct dstor_export *exp, struct net *net,
		      const struct dstor_mcast_cfg *cfg,
		      struct netlink_ext_ack *extack)
{
	u32 bs = cfg->block_size, lbs = bdev_logical_block_size(exp->bdev.bdev);
	struct net_device *dev;
	struct dstor_mcast *m;
	u64 blocks;
	int ret;

	if (!is_power_of_2(bs) || bs % lbs || bs < PAGE_SIZE) {
		NL_SET_ERR_MSG_MOD(extack,
				   "block size must be a power of two, at least the page size and a multiple of the device's logical block size");
		return -EINVAL;
	}
	blocks = DIV_ROUND_UP_ULL(exp->size, bs);
	if (blocks > DSTOR_MC_MAX_BLOCKS) {
		NL_SET_ERR_MSG_MOD(extack,
				   "too many blocks: use a larger --block-size");
		return -EINVAL;
	}

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->exp = exp;
	m->cfg = *cfg;
	m->blocks = blocks;
	m->state = DSTOR_MC_STATE_HASHING;
	m->seed = get_random_u32();
	m->gso = true;
	m->burst_ns = div64_u64((u64)MC_BURST_PKTS * DSTOR_MC_PKT_MAX * 8 *
				NSEC_PER_SEC, cfg->rate);
	dstor_mld_init(&m->mld, &exp->stats, cfg->querier);
	if (exp->key.set) {
		m->keyed = true;
		memcpy(m->key, exp->key.key, DSTOR_KEY_LEN);
		m->cipher = dstor_crypto_pick(dstor_crypto_ciphers());
		if (!m->cipher) {
			NL_SET_ERR_MSG_MOD(extack,
					   "no AEAD (AES-GCM or ChaCha20-Poly1305) available to seal multicast packets");
			ret = -EOPNOTSUPP;
			goto err;
		}
	}
	ret = mc_alloc(m);
	if (ret)
		goto err;
	dstor_mc_group(exp->name, DSTOR_MC_KIND_ANNOUNCE, 0, NULL, 0,
		       &m->chans[MC_ANN].mld.addr);

	ret = mc_sockets(m, net);
	if (ret) {
		if (ret == -ENODEV)
			NL_SET_ERR_MSG_MOD(extack,
					   "no such interface (in this network namespace)");
		else
			NL_SET_ERR_MSG_MOD(extack,
					   "cannot set up the multicast sockets");
		goto err;
	}

	rtnl_lock();
	dev = __dev_get_by_index(net, cfg->ifindex);
	ret = -ENODEV;
	if (!dev) {
		NL_SET_ERR_MSG_MOD(extack,
				   "no such interface (in this network namespace)");
		goto err_unlock;
	}
	ret = -EINVAL;
	if (!(dev->flags & IFF_MULTICAST)) {
		NL_SET_ERR_MSG_MOD(extack, "the interface cannot multicast");
		goto err_unlock;
	}
	m->task = kthread_create(mc_thread, m, "dstor-mc/%s", exp->name);
	if (IS_ERR(m->task)) {
		ret = PTR_ERR(m->task);
		goto err_unlock;
	}
	ret = dstor_mld_attach(&m->mld, dev);
	if (ret) {
		kthread_stop(m->task);
		goto err_unlock;
	}
	netdev_hold(dev, &m->tracker, GFP_KERNEL);
	m->dev = dev;
	list_add(&m->entry, &mc_list);
	wake_up_process(m->task);
	rtnl_unlock();
	exp->mcast = m;
	return 0;

err_unlock:
	rtnl_unlock();
err:
	mc_free(m);
	return ret;
}

void dstor_mcast_stop(struct dstor_export *exp)
{
	struct dstor_mcast *m = exp->mcast;

	if (!m)
		return;
	rtnl_lock();
	mc_detach(m);
	rtnl_unlock();
	exp->mcast = NULL;
	mc_free(m);
}

/* A snapshot for `show`; false when @exp is not served by multicast. */
bool dstor_mcast_info(struct dstor_export *exp, struct dstor_mcast_info *mi)
{
	struct dstor_mcast *m = exp->mcast;

	if (!m)
		return false;
	mi->cfg = m->cfg;
	mi->blocks = m->blocks;
	mi->listened = READ_ONCE(m->mld.listened);
	mi->state = READ_ONCE(m->state);
	/* Epoch and root are set once @ready is (release in mc_build()). */
	mi->tree = smp_load_acquire(&m->ready);
	if (mi->tree) {
		mi->epoch = m->epoch;
		memcpy(mi->root, m->root, DSTOR_MC_HASH);
	}
	return true;
}

/* A served interface goes away (or changes namespace): stop serving it. */
static int mc_netdev_event(struct notifier_block *nb, unsigned long event,
			   void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct dstor_mcast *m, *tmp;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	list_for_each_entry_safe(m, tmp, &mc_list, entry) {
		if (m->dev != dev)
			continue;
		pr_warn("export %s: interface %s is going away: multicast serving stopped\n",
			m->exp->name, dev->name);
		mc_detach(m);
		WRITE_ONCE(m->state, DSTOR_MC_STATE_FAILED);
	}
	return NOTIFY_DONE;
}

static struct notifier_block mc_netdev_nb = {
	.notifier_call = mc_netdev_event,
};

int dstor_mcast_init(void)
{
	return register_netdevice_notifier(&mc_netdev_nb);
}

void dstor_mcast_exit(void)
{
	unregister_netdevice_notifier(&mc_netdev_nb);
}
