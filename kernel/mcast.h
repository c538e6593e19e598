/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Multicast serving of an export (mcast.c): what the rest of the module
 * uses of it.
 */
#ifndef _DSTOR_MCAST_H
#define _DSTOR_MCAST_H

#include <linux/types.h>
#include <uapi/linux/dstor.h>

struct dstor_export;
struct net;
struct netlink_ext_ack;

/* What DSTOR_A_MCAST asked for (export add). */
struct dstor_mcast_cfg {
	int ifindex;
	u64 rate;			/* bits per second */
	u32 block_size;
	bool querier;
};

/* What `show` reports of a multicast export. */
struct dstor_mcast_info {
	struct dstor_mcast_cfg cfg;
	u64 blocks;
	u32 listened;			/* channels listened to now */
	u32 state;			/* enum dstor_mc_state */
	bool tree;			/* epoch and root are known */
	u64 epoch;
	u8 root[DSTOR_MC_HASH_LEN];
};

int dstor_mcast_start(struct dstor_export *exp, struct net *net,
		      const struct dstor_mcast_cfg *cfg,
		      struct netlink_ext_ack *extack);
void dstor_mcast_stop(struct dstor_export *exp);
bool dstor_mcast_info(struct dstor_export *exp, struct dstor_mcast_info *mi);
int dstor_mcast_init(void);
void dstor_mcast_exit(void);

#endif /* _DSTOR_MCAST_H */
