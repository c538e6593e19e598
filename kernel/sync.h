/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dstor sync (Documentation/multicast.md, "Receiving"), in these files:
 *
 *	sync.c		the syncs of the machine, and each one's life:
 *			adding (socket, target, seeds), its thread, the
 *			tree's memory, removing
 *	sync_mcast.c	its receiver by multicast: groups, packets, the
 *			tree, channels, blocks assembled and verified
 *	sync_seed.c	seeds matched to stale leaves
 *	sync_tcp.c	its receiver over TCP: rounds of reconciliation
 *	sync_repair.c	multicast repaired over TCP
 *	sync_io.c	its target: reads for hashing, verified writes in
 *			flight, the pool of block buffers; reads of seeds
 *	sync_peer.c	its connection to an exporter (sync_peer.h)
 *	netlink_sync.c	SYNC_ADD, SYNC_DEL and SYNC_GET: requests read into
 *			struct dstor_sync_cfg, replies written from struct
 *			dstor_sync_info
 *
 * The first five share sync_int.h, which no other file includes. Module
 * load and unload call dstor_sync_init() and dstor_sync_exit().
 */
#ifndef _DSTOR_SYNC_H
#define _DSTOR_SYNC_H

#include <linux/kthread.h>
#include <linux/sched/signal.h>

#include "compat.h"
#include "crypto.h"
#include "dstor.h"
#include "mcast_proto.h"
#include "merkle.h"
#include "sock.h"
#include "stats.h"

int dstor_sync_init(void);
void dstor_sync_exit(void);

/*
 * The sync thread is to stop: kthread_stop(), or SIGKILL, which the
 * thread allows so that stopping it also ends a killable wait in a
 * seed's read (a hung network file system, a FUSE daemon).
 */
static inline bool dstor_sync_stopping(void)
{
	return kthread_should_stop() || fatal_signal_pending(current);
}

/* ---- the syncs (sync.c), for netlink_sync.c ---- */

/*
 * What SYNC_ADD asks for. The strings and bytes stay the caller's:
 * dstor_sync_add() copies what it keeps.
 */
struct dstor_sync_cfg {
	const char *name;		/* the export's, not empty */
	const char *path;		/* the target block device */
	const struct dstor_endpoint *peer;	/* over TCP; NULL: multicast */
	bool mcast;			/* by multicast (with @peer: repaired
					 * over TCP)
					 */
	int ifindex;			/* multicast: in the caller's namespace */
	const u8 *key;			/* DSTOR_KEY_LEN bytes, or NULL */
	const u8 *root;			/* DSTOR_MC_HASH bytes to pin, or NULL */
	const u32 *seed_fds;		/* the caller's file descriptors */
	unsigned int nr_seeds;		/* at most DSTOR_SYNC_MAX_SEEDS */
	u32 every;			/* over TCP: seconds between rounds,
					 * 0: one round
					 */
	u32 scrub;			/* with @every: seconds between scrubs */
};

/* What a refusal by dstor_sync_add() is about. */
enum dstor_sync_part {
	DSTOR_SYNC_PART_NONE,
	DSTOR_SYNC_PART_IFACE,		/* cfg->ifindex */
	DSTOR_SYNC_PART_TARGET,		/* cfg->path */
	DSTOR_SYNC_PART_SEEDS,		/* cfg->seed_fds */
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
	u64 epoch;			/* over TCP: the tree's generation */
	bool by_peer;			/* over TCP, from @peer */
	bool repair;			/* by multicast, repaired from @peer */
	struct dstor_endpoint peer;
	const char *why;		/* why it failed, or NULL */
	u32 every, scrub;		/* seconds, 0: not set */
	bool rounds;			/* a round has ended: the next three */
	u64 last_ms;			/* since the last round ended */
	u64 repaired;			/* blocks it wrote */
	bool scrubbed;			/* it scrubbed, finding @corrupt */
	u64 corrupt;
	struct dstor_stats stats;
};

/*
 * A sync lives in the network namespace it was added from (@net): its
 * socket and interface are there, and only that namespace sees it, gets
 * it or deletes it; when the namespace goes away, so does the sync. Its
 * target is a block device of the machine: one sync at a time per target,
 * whatever the namespace.
 */
int dstor_sync_add(struct net *net, const struct dstor_sync_cfg *cfg,
		   struct netlink_ext_ack *extack, enum dstor_sync_part *bad,
		   struct dstor_sync_info *info);
int dstor_sync_del(struct net *net, u32 index);
int dstor_sync_get(struct net *net, u32 index, struct dstor_sync_info *info);
int dstor_sync_next(struct net *net, unsigned long *pos,
		    struct dstor_sync_info *info);

/* ---- events (netlink_sync.c), for sync_tcp.c ---- */

/* A periodic sync's round ended: DSTOR_EVENT_SYNC_ROUND or _FAILED. */
void dstor_nl_sync_event(struct net *net, u32 event,
			 const struct dstor_sync_info *si);

/* ---- the target (sync_io.c), for the receiver's files ---- */

struct dstor_sync_target;

/*
 * One block of the export in memory: read from the target for hashing, or
 * assembled from packets and written to it. @pages hold the block one
 * after the other (a block smaller than a page has a page of its own).
 * While @writing, the write is in flight or not yet reaped: hands off.
 */
struct dstor_sync_buf {
	struct page **pages;
	struct dstor_sync_target *t;
	u64 index;			/* the block being written */
	bool writing;			/* the sync thread's */
	bool written;			/* completion -> thread (acquire) */
	int status;			/* of the write, once @written */
};

/*
 * A sync's target: the block device, opened exclusively for writing, and,
 * for the tree being received, its geometry and a pool of block buffers.
 * The sync's thread owns it (or whoever stopped the thread); write
 * completions touch @writes, @written, @wq and their buffer's @status and
 * @written only.
 */
struct dstor_sync_target {
	struct dstor_bdev bdev;
	const char *name;		/* the sync's export and */
	const char *path;		/* target, for the log */
	u64 dev_size;			/* bytes */
	u64 size;			/* the tree's geometry, once shaped */
	u32 block_size;
	u64 blocks;
	unsigned int nr_pages;		/* per buffer */
	struct dstor_sync_buf *bufs;
	unsigned int nr_bufs;		/* 0: not shaped */
	atomic_t writes;		/* in flight */
	atomic_t written;		/* ended, not yet reaped */
	wait_queue_head_t wq;		/* a write ended */
};

void dstor_sync_target_init(struct dstor_sync_target *t, const char *name,
			    const char *path);
int dstor_sync_target_open(struct dstor_sync_target *t, void *holder);
void dstor_sync_target_close(struct dstor_sync_target *t);
int dstor_sync_target_shape(struct dstor_sync_target *t,
			    const struct dstor_mc_announce *a);
void dstor_sync_target_unshape(struct dstor_sync_target *t);
u32 dstor_sync_block_len(const struct dstor_sync_target *t, u64 index);
void dstor_sync_buf_copy(struct dstor_sync_buf *b, u32 offset,
			 const void *src, u32 len);
int dstor_sync_read(struct dstor_sync_target *t, const unsigned long *only,
		    void (*each)(void *arg, u64 index, struct page **pages),
		    void *arg);
void dstor_sync_write(struct dstor_sync_target *t, struct dstor_sync_buf *b,
		      u64 index);
int dstor_sync_reap(struct dstor_sync_target *t);
int dstor_sync_drain(struct dstor_sync_target *t);
int dstor_sync_flush(struct dstor_sync_target *t);
struct dstor_sync_buf *dstor_sync_buf_idle(struct dstor_sync_target *t);
void dstor_sync_buf_dup(struct dstor_sync_target *t, struct dstor_sync_buf *to,
			const struct dstor_sync_buf *from);
int dstor_sync_seed_read(struct dstor_sync_target *t, struct file *f,
			 loff_t pos, struct dstor_sync_buf *b);

#endif /* _DSTOR_SYNC_H */
