// SPDX-License-Identifier: GPL-2.0
/*
 * The MLD watcher of a multicast export (Documentation/multicast.md "MLD
 * handling"): a packet handler for IPv6 on the served interface that picks
 * out the MLD messages, checks that they come from the link, parses them
 * and keeps which of the export's groups are listened, for the sender
 * thread in mcast.c (mcast.h says who touches what). It runs in softirq: no
 * message allocates anything or takes more work than its length.
 *
 * A message counts only as MLD from the link (RFC 3810 5.1.14, 5.2.13 and
 * 6.2; RFC 2710 3 and RFC 3590 for MLDv1): hop limit 1, a Router Alert
 * option with the MLD value in a hop-by-hop header, and a link-local
 * source address, or :: for a report or done (a host with no address
 * yet). One routed here, or sent from off the link, is counted in MLD_BAD
 * with the malformed ones and changes nothing: no report makes a group
 * listened, no query sets a timer.
 */
#include <linux/icmpv6.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>

#include "mld.h"
#include "proto.h"
#include "stats.h"

#define MC_LI_QUERIER	(MC_QRV * MC_QI + msecs_to_jiffies(MC_QRI_MS))
#define MC_LI_DEFAULT	((2 * 125 + 10) * HZ)
/*
 * What the link's queries may set the listener interval to: any host on
 * the link can send one, so only from our own querier's interval up to the
 * RFC defaults (what a link without a querier gets).
 */
#define MC_LI_MIN	MC_LI_QUERIER
#define MC_LI_MAX	MC_LI_DEFAULT
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

/*
 * Another querier's query at [off, end): its timers tell how often
 * listeners report. False if malformed (RFC 3810 8.1: 24 bytes is MLDv1,
 * 28 and more MLDv2 with its sources, anything else is not a query).
 */
static bool mld_query(struct dstor_mld *w, const struct sk_buff *skb,
		      unsigned int off, unsigned int end)
{
	unsigned int len = end - off;
	u32 mrd, qrv = 2, qqi = 125;
	unsigned long li;
	u8 qb[28];
	const u8 *q;

	if (len != 24 && len < 28)
		return false;
	q = skb_header_pointer(skb, off, len == 24 ? 24 : 28, qb);
	if (!q || (len >= 28 && 28 + 16 * dstor_get16(q + 26) > len))
		return false;
	if (w->querier)
		return true;
	mrd = dstor_get16(q + 4);
	if (len >= 28) {
		mrd = mld_code(mrd, 12, 32768);
		qrv = q[24] & 7 ?: 2;
		qqi = mld_code(q[25], 4, 128) ?: 125;
	}
	li = clamp_t(unsigned long, qrv * qqi * HZ + msecs_to_jiffies(mrd),
		     MC_LI_MIN, MC_LI_MAX);
	WRITE_ONCE(w->li, li);
	return true;
}

/*
 * A Router Alert option with the MLD value in the hop-by-hop header that
 * follows the IPv6 header (RFC 2711); false without one, or if the options
 * run past the header.
 */
static bool mld_router_alert(const struct sk_buff *skb)
{
	unsigned int off = sizeof(struct ipv6hdr), end;
	u8 ob[4];
	const u8 *o;

	o = skb_header_pointer(skb, off, 2, ob);
	if (!o)
		return false;
	end = off + (o[1] + 1) * 8;
	off += 2;
	while (off < end) {
		o = skb_header_pointer(skb, off, 1, ob);
		if (!o)
			return false;
		if (o[0] == IPV6_TLV_PAD1) {	/* one byte, no length */
			off++;
			continue;
		}
		if (end - off < 2)
			return false;
		o = skb_header_pointer(skb, off, 2, ob);
		if (!o || o[1] > end - off - 2)
			return false;
		if (o[0] == IPV6_TLV_ROUTERALERT) {
			o = skb_header_pointer(skb, off, 4, ob);
			return o && o[1] == 2 &&
			       dstor_get16(o + 2) == IPV6_OPT_ROUTERALERT_MLD;
		}
		off += 2 + o[1];
	}
	return false;
}

/*
 * Sent on the link, for MLD: hop limit 1 (not routed), a link-local source
 * (fe80::/10; or :: for a report or done from a host without an address
 * yet) and a Router Alert.
 */
static bool mld_from_link(const struct sk_buff *skb,
			  const struct ipv6hdr *ip6, u8 type)
{
	int t = ipv6_addr_type(&ip6->saddr);

	if (ip6->hop_limit != 1)
		return false;
	if ((t & (IPV6_ADDR_LINKLOCAL | IPV6_ADDR_UNICAST)) !=
	    (IPV6_ADDR_LINKLOCAL | IPV6_ADDR_UNICAST) &&
	    (t != IPV6_ADDR_ANY || type == ICMPV6_MGM_QUERY))
		return false;
	return ip6->nexthdr == NEXTHDR_HOP && mld_router_alert(skb);
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
	if (!mld_from_link(skb, ip6, type))
		goto bad;
	if (skb->ip_summed != CHECKSUM_PARTIAL &&
	    csum_ipv6_magic(&ip6->saddr, &ip6->daddr, len, IPPROTO_ICMPV6,
			    skb_checksum(skb, off, len, 0)))
		goto bad;
	switch (type) {
	case ICMPV6_MGM_QUERY:
		if (!mld_query(w, skb, off, end))
			goto bad;
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
