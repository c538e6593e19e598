/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Between the two halves of multicast serving (Documentation/multicast.md),
 * and for nothing else:
 *
 *   mcast.c	the export's side: the channel table, the sender thread (the
 *		carousel and the querier), start and stop
 *   mld.c	the MLD watcher: a packet handler on the served interface that
 *		checks and parses the MLD reports and queries arriving there
 *		(softirq) and keeps which of the export's groups are listened
 *
 * They share one struct dstor_mld per export, and the struct
 * dstor_mld_group in each entry of the channel table:
 *
 *   mld.c, in softirq, finds a group with dstor_mcast_lookup() and, under
 *	@lock, sets its expiry and puts it on @active (listened: sent) or
 *	@held (a listener left: not sent until a report says others remain),
 *	asks for a query after a leave (@gsq), and wakes the thread (@kick);
 *   mcast.c's thread, under @lock with BH off, drops expired groups with
 *	dstor_mld_expire(), serves @active in turn (rotating it), takes the
 *	query a leave asked for with dstor_mld_take_query() and sleeps on
 *	@wait when nothing is listened.
 *
 * Timers (jiffies; Documentation/multicast.md "MLD handling", "Querier"):
 *   listener interval	a listened group expires this long after the last
 *			report for it: 2 x 10 s + 1 s = 21 s as querier;
 *			else learned from the link's valid queries
 *			(robustness x query interval + max response delay),
 *			within 21 s .. 260 s; 260 s until one is seen (RFC 3810
 *			defaults)
 *   last listener	a leave (MLDv1 Done, TO_IN {}, BLOCK) cuts the expiry
 *			to 2 s (the link's querier asks who else listens); as
 *			querier we ask at once, with a group-specific query of
 *			250 ms response delay, and cut it to 500 ms
 *   query interval	as querier: a General Query at start, 2.5 s later,
 *			then every 10 s
 */
#ifndef _DSTOR_MLD_H
#define _DSTOR_MLD_H

#include <linux/in6.h>
#include <linux/list.h>
#include <linux/netdevice.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

struct dstor_stats;

/* Our queries, as querier. */
#define MC_QI		(10 * HZ)	/* query interval */
#define MC_QI_SECS	10
#define MC_QRI_MS	1000		/* max response delay */
#define MC_QRV		2		/* robustness */
#define MC_LLQI_MS	250		/* after a leave: max response delay */

/* One group the export can be asked for: the watcher's part of it. */
struct dstor_mld_group {
	struct in6_addr addr;		/* set before the table is published */
	struct list_head node;		/* on @active or @held while listened,
					 * else empty; lock
					 */
	unsigned long expires;		/* lock */
	bool held;			/* on @held; lock */
};

/* What a leave asks the querier for (dstor_mld_take_query()). */
enum { MC_GSQ_ONE = 1, MC_GSQ_ALL };

/* The MLD watcher of one served export, and what it shares. */
struct dstor_mld {
	struct packet_type pt;
	struct dstor_stats *stats;	/* the export's: MLD_REPORTS, MLD_BAD */
	bool querier;			/* we query; others' queries change
					 * nothing
					 */

	spinlock_t lock;		/* the groups' node, expires, held; */
	struct list_head active;	/* listened: sent in turn */
	struct list_head held;		/* listened, but one left: not sent */
	u32 listened;			/* on either list (READ_ONCE outside) */
	u8 gsq;				/* 0, MC_GSQ_ONE (gsq_group), _ALL */
	struct in6_addr gsq_group;

	unsigned long li;		/* listener interval (WRITE_ONCE) */
	wait_queue_head_t wait;		/* the sender thread sleeps here */
	bool kick;			/* something to look at (WRITE_ONCE) */
};

/* mld.c */
void dstor_mld_init(struct dstor_mld *w, struct dstor_stats *stats,
		    bool querier);
int dstor_mld_attach(struct dstor_mld *w, struct net_device *dev);
void dstor_mld_detach(struct dstor_mld *w, struct net_device *dev);
void dstor_mld_expire(struct dstor_mld *w, unsigned long now);
u8 dstor_mld_take_query(struct dstor_mld *w, struct in6_addr *group);

/* mcast.c: @w's export's group @addr, or NULL; any context. */
struct dstor_mld_group *dstor_mcast_lookup(struct dstor_mld *w,
					   const struct in6_addr *addr);

#endif /* _DSTOR_MLD_H */
