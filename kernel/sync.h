/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dstor sync (Documentation/multicast.md, "Receiving"), in two files:
 *
 *	sync.c		the syncs of the machine, and each one's receiver:
 *			socket, packets, states, target I/O
 *	netlink_sync.c	SYNC_ADD, SYNC_DEL and SYNC_GET: requests read into
 *			struct dstor_sync_cfg, replies written from struct
 *			dstor_sync_info
 *
 * Module load and unload call dstor_sync_init() and dstor_sync_exit()
 * (dstor.h).
 */
#ifndef _DSTOR_SYNC_H
#define _DSTOR_SYNC_H

#include "dstor.h"
#include "mcast_proto.h"

/* ---- the syncs (sync.c), for netlink_sync.c ---- */

/*
 * What SYNC_ADD asks for. The strings and bytes stay the caller's:
 * dstor_sync_add() copies what it keeps.
 */
struct dstor_sync_cfg {
	const char *name;		/* the export's, not empty */
	const char *path;		/* the target block device */
	int ifindex;			/* in the caller's namespace */
	const u8 *key;			/* DSTOR_KEY_LEN bytes, or NULL */
	const u8 *root;			/* DSTOR_MC_HASH bytes to pin, or NULL */
};

/* What a refusal by dstor_sync_add() is about. */
enum dstor_sync_part {
	DSTOR_SYNC_PART_NONE,
	DSTOR_SYNC_PART_IFACE,		/* cfg->ifindex */
	DSTOR_SYNC_PART_TARGET,		/* cfg->path */
};

/* One sync as SYNC_GET shows it, copied at one moment. */
struct dstor_sync_info {
	u32 index;
	char name[DSTOR_NAME_MAX];
	char path[DSTOR_PATH_MAX];
	int ifindex;
	u32 state;			/* DSTOR_SYNC_STATE_* */
	u64 elapsed_ms;
	bool keyed;
	u8 key_id[DSTOR_KEY_ID_LEN];
	bool known;			/* the tree is known: @ann, @epoch */
	struct dstor_mc_announce ann;
	u64 epoch;
	struct dstor_stats stats;
};

/* A sync's target is a block device: one sync at a time per target. */
int dstor_sync_add(struct net *net, const struct dstor_sync_cfg *cfg,
		   struct netlink_ext_ack *extack, enum dstor_sync_part *bad,
		   struct dstor_sync_info *info);
int dstor_sync_del(u32 index);
int dstor_sync_get(u32 index, struct dstor_sync_info *info);
int dstor_sync_next(unsigned long *pos, struct dstor_sync_info *info);

#endif /* _DSTOR_SYNC_H */
