// SPDX-License-Identifier: GPL-2.0
/*
 * The MLD watcher of a multicast export (Documentation/multicast.md "MLD
 * handling"): a packet handler for IPv6 on the served interface that picks
 * out the MLD messages, parses them and keeps which of the export's groups
 * are listened, for the sender thread in mcast.c (mcast.h says who touches
 * what). It runs in softirq: no message allocates anything or takes more
 * work than its length.
 */
#include <linux/icmpv6.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>

#include "dstor.h"
#include "mcast.h"

#define MC_LI_QUERIER	(MC_QRV * MC_QI + msecs_to_jiffies(MC_QRI_MS))
#define MC_LI_DEFAULT	((2 * 125 + 10) * HZ)
#define MC_LI_MIN	(10 * HZ)
#define MC_LI_MAX	(3600 * HZ)
#define MC_LLQT		(2 * HZ)	/* last listener query time */
#define MC_LLQT_OURS	msecs_to_jiffies(MC_QRV * MC_LLQI_MS)

static void mld_kick(struct dstor_mld *w)
{
	WRITE_ONCE(w->kick, true);
	wake_up(&w->wait);
}

static void mld_listen(struct dstor_mld *w, struct dstor_mld_group *g)
{
	bool kick = false;

	spin_lock(&w->lock);
	g->expires = jiffies + READ_ONCE(w->li);
	if (list_empty(&g->node)) {
		list_add_tail(&g->node, &w->active);
		w->listened++;
		kick = true;
	} else if (g->held) {
		/* Somebody still listens: on with it. */
		g->held = false;
		list_move_tail(&g->node, &w->active);
		kick = true;
	}
	spin_unlock(&w->lock);
	if (kick)
		mld_kick(w);
}

/*
 * A listener left: the others have the last listener query time to say so.
 * Until one does, the group is held: the last listener, which is the one
 * that usually leaves (it has what it came for), costs nothing more, and
 * the others wait for no longer than their answer to the query takes.
 */
static void mld_leave(struct dstor_mld *w, struct dstor_mld_group *g)
{
	unsigned long t = jiffies + (w->querier ? MC_LLQT_OURS : MC_LLQT);
	bool kick = false;

	spin_lock(&w->lock);
	if (!list_empty(&g->node)) {
		if (time_before(t, g->expires))
			g->expires = t;
		if (!g->held) {
			g->held = true;
			list_move_tail(&g->node, &w->held);
		}
		if (w->querier) {
			if (!w->gsq) {
				w->gsq = MC_GSQ_ONE;
				w->gsq_group = g->addr;
			} else if (!ipv6_addr_equal(&w->gsq_group, &g->addr)) {
				w->gsq = MC_GSQ_ALL;
			}
			kick = true;
		}
	}
	spin_unlock(&w->lock);
	if (kick)
		mld_kick(w);
}

/* One multicast address record (or MLDv1 message) about @a. */
static void mld_record(struct dstor_mld *w, u8 type, u16 nsrcs,
		       const struct in6_addr *a)
{
	struct dstor_mld_group *g = dstor_mcast_lookup(w, a);

	if (!g)
		return;
	switch (type) {
	case MLD2_MODE_IS_EXCLUDE:
	case MLD2_CHANGE_TO_EXCLUDE:
		mld_listen(w, g);
		break;
	case MLD2_MODE_IS_INCLUDE:
	case MLD2_ALLOW_NEW_SOURCES:
		if (nsrcs)
			mld_listen(w, g);
		break;
	case MLD2_CHANGE_TO_INCLUDE:
		if (nsrcs)
			mld_listen(w, g);
		else
			mld_leave(w, g);
		break;
	case MLD2_BLOCK_OLD_SOURCES:
		mld_leave(w, g);
		break;
	}
}

/* Bytes [off, end) of @skb hold an MLDv2 report; false if malformed. */
static bool mld_report2(struct dstor_mld *w, const struct sk_buff *skb,
			unsigned int off, unsigned int end)
{
	u8 hb[8], rb[20];
	const u8 *h, *r;
	unsigned int i, nrec, rlen;
	struct in6_addr a;

	h = skb_header_pointer(skb, off, sizeof(hb), hb);
	if (!h || off + 8 > end)
		return false;
	nrec = dstor_get16(h + 6);
	off += 8;
	for (i = 0; i < nrec; i++) {
		r = skb_header_pointer(skb, off, sizeof(rb), rb);
		if (!r || off + 20 > end)
			return false;
		rlen = 20 + 16 * dstor_get16(r + 2) + 4 * r[1];
		if (rlen > end - off)
			return false;
		memcpy(&a, r + 4, sizeof(a));
		mld_record(w, r[0], dstor_get16(r + 2), &a);
		off += rlen;
	}
	return true;
}

/* RFC 3810 5.1.3 and 5.1.9: the exponential codes. */
static u32 mld_code(u32 v, unsigned int mant_bits, u32 exp_flag)
{
	if (v < exp_flag)
		return v;
	return ((v & ((1U << mant_bits) - 1)) | (1U << mant_bits)) <<
	       (((v >> mant_bits) & 7) + 3);
}

/* Another querier's query: its timers tell how often listeners report. */
static void mld_query(struct dstor_mld *w, const struct sk_buff *skb,
		      unsigned int off, unsigned int end)
{
	u8 qb[28];
	const u8 *q;
	u32 mrd, qrv = 2, qqi = 125;
	unsigned long li;

	if (w->querier || end - off < 24)
		return;
	q = skb_header_pointer(skb, off, end - off >= 28 ? 28 : 24, qb);
	if (!q)
		return;
	mrd = dstor_get16(q + 4);
	if (end - off >= 28) {
		mrd = mld_code(mrd, 12, 32768);
		qrv = q[24] & 7 ?: 2;
		qqi = mld_code(q[25], 4, 128) ?: 125;
	}
	li = clamp_t(unsigned long, qrv * qqi * HZ + msecs_to_jiffies(mrd),
		     MC_LI_MIN, MC_LI_MAX);
	WRITE_ONCE(w->li, li);
}

static int mld_rcv(struct sk_buff *skb, struct net_device *dev,
		   struct packet_type *pt, struct net_device *orig_dev)
{
	struct dstor_mld *w = container_of(pt, struct dstor_mld, pt);
	const struct ipv6hdr *ip6;
	struct ipv6hdr ip6b;
	unsigned int end, len;
	struct in6_addr a;
	__be16 frag_off;
	u8 nexthdr, type, mb[24];
	const u8 *mh;
	int off;

	if (skb->pkt_type == PACKET_LOOPBACK ||
	    skb->pkt_type == PACKET_OUTGOING)
		goto out;
	ip6 = skb_header_pointer(skb, 0, sizeof(ip6b), &ip6b);
	if (!ip6 || ip6->version != 6 ||
	    (ip6->nexthdr != NEXTHDR_HOP && ip6->nexthdr != NEXTHDR_ICMP))
		goto out;
	end = sizeof(*ip6) + ntohs(ip6->payload_len);
	if (end > skb->len)
		goto out;
	nexthdr = ip6->nexthdr;
	off = ipv6_skip_exthdr(skb, sizeof(*ip6), &nexthdr, &frag_off);
	if (off < 0 || nexthdr != IPPROTO_ICMPV6 || frag_off ||
	    off + 8 > end)
		goto out;
	mh = skb_header_pointer(skb, off, 8, mb);
	if (!mh)
		goto out;
	type = mh[0];
	switch (type) {
	case ICMPV6_MGM_QUERY:
	case ICMPV6_MGM_REPORT:
	case ICMPV6_MGM_REDUCTION:
	case ICMPV6_MLD2_REPORT:
		break;
	default:
		goto out;
	}
	if (type != ICMPV6_MGM_QUERY)
		dstor_stat_add(w->stats, DSTOR_STAT_MLD_REPORTS, 1);
	len = end - off;
	if (skb->ip_summed != CHECKSUM_PARTIAL &&
	    csum_ipv6_magic(&ip6->saddr, &ip6->daddr, len, IPPROTO_ICMPV6,
			    skb_checksum(skb, off, len, 0)))
		goto bad;
	switch (type) {
	case ICMPV6_MGM_QUERY:
		mld_query(w, skb, off, end);
		break;
	case ICMPV6_MGM_REPORT:
	case ICMPV6_MGM_REDUCTION:
		mh = skb_header_pointer(skb, off, sizeof(mb), mb);
		if (!mh || len < 24)
			goto bad;
		memcpy(&a, mh + 8, sizeof(a));
		mld_record(w, type == ICMPV6_MGM_REPORT ?
			   MLD2_MODE_IS_EXCLUDE : MLD2_CHANGE_TO_INCLUDE, 0, &a);
		break;
	case ICMPV6_MLD2_REPORT:
		if (!mld_report2(w, skb, off, end))
			goto bad;
		break;
	}
	goto out;
bad:
	if (type != ICMPV6_MGM_QUERY)
		dstor_stat_add(w->stats, DSTOR_STAT_MLD_BAD, 1);
out:
	consume_skb(skb);
	return NET_RX_SUCCESS;
}

void dstor_mld_init(struct dstor_mld *w, struct dstor_stats *stats,
		    bool querier)
{
	w->stats = stats;
	w->querier = querier;
	w->li = querier ? MC_LI_QUERIER : MC_LI_DEFAULT;
	spin_lock_init(&w->lock);
	INIT_LIST_HEAD(&w->active);
	INIT_LIST_HEAD(&w->held);
	init_waitqueue_head(&w->wait);
}

/* Watch @dev, under rtnl. */
int dstor_mld_attach(struct dstor_mld *w, struct net_device *dev)
{
	int ret;

	ASSERT_RTNL();
	/* MLDv1 reports go to the group itself: see every group. */
	ret = dev_set_allmulti(dev, 1);
	if (ret)
		return ret;
	w->pt.type = htons(ETH_P_IPV6);
	w->pt.dev = dev;
	w->pt.func = mld_rcv;
	dev_add_pack(&w->pt);
	return 0;
}

/* Stop watching @dev, under rtnl: on return mld_rcv() runs no more. */
void dstor_mld_detach(struct dstor_mld *w, struct net_device *dev)
{
	ASSERT_RTNL();
	dev_remove_pack(&w->pt);	/* and synchronize_net() */
	dev_set_allmulti(dev, -1);
}

/* Drop the groups whose expiry has passed; under @lock. */
void dstor_mld_expire(struct dstor_mld *w, unsigned long now)
{
	struct dstor_mld_group *g, *tmp;
	struct list_head *lists[] = { &w->active, &w->held };
	unsigned int i;

	lockdep_assert_held(&w->lock);
	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		list_for_each_entry_safe(g, tmp, lists[i], node) {
			if (time_after_eq(now, g->expires)) {
				list_del_init(&g->node);
				g->held = false;
				w->listened--;
			}
		}
	}
}

/*
 * The query a leave asked for, if any: MC_GSQ_ONE for @group, MC_GSQ_ALL
 * (leaves from several groups: a General Query), or 0.
 */
u8 dstor_mld_take_query(struct dstor_mld *w, struct in6_addr *group)
{
	u8 gsq;

	spin_lock_bh(&w->lock);
	gsq = w->gsq;
	*group = w->gsq_group;
	w->gsq = 0;
	spin_unlock_bh(&w->lock);
	return gsq;
}
