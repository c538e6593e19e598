/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of a sync's receiver share (sync.h lists them): the sync
 * itself, its slots, channels and sources, and the calls from one file to
 * another. Only sync.c, sync_mcast.c, sync_seed.c, sync_tcp.c and
 * sync_repair.c include it; the rest of the module calls sync.h.
 */
#ifndef _DSTOR_SYNC_INT_H
#define _DSTOR_SYNC_INT_H

#include <linux/in6.h>
#include <linux/jiffies.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "sync.h"
#include "sync_peer.h"
#include "tree.h"

#define SYNC_MAX_CHANNELS	64		/* groups joined at once */
#define SYNC_RX_MAX		(64 << 10)	/* one receive: a GRO batch */
#define SYNC_RX_TIMEOUT		(HZ / 10)	/* how soon a stop is seen */
#define SYNC_CHUNKS_MAX		(DSTOR_MC_MAX_BLOCK / DSTOR_MC_CHUNK)
#define SYNC_SOURCES		4		/* announcers remembered */
#define SYNC_FP			16		/* a TREE packet's fingerprint */

/*
 * A block being assembled from DATA packets into the target's buffer of
 * the same number (sync_slot_buf()). Once verified, the block is written from
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
	u64 judged;			/* repair: the next block to judge */
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
	unsigned int rcv_drops;		/* the socket's, last counted */
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
	bool scrubbing;			/* dstor_sync_hash_read() counts @corrupt */
	bool scrubbed;			/* this round scrubbed, finding @corrupt */
	u64 corrupt;
	struct sync_slot *slots;	/* t.nr_bufs of them */
	unsigned int nr_slots;
	struct sync_chan *chans;	/* joined now */
	unsigned int nr_chans;
	unsigned long last_useful;	/* jiffies */
	unsigned long waited;		/* receive timeouts since, jiffies */
};

/* Something useful came (or the wait starts over): the stall restarts. */
static inline void dstor_sync_useful(struct dstor_sync *s)
{
	s->last_useful = jiffies;
	s->waited = 0;
}

/*
 * Besides errors: a new tree was announced; the target still differs; the
 * connection for repairs failed (the rest comes by multicast alone).
 */
#define SYNC_NEW_TREE	1
#define SYNC_DIFFERS	2
#define SYNC_REPAIR_LOST 3

/* Over TCP alone: not multicast repaired over TCP. */
static inline bool sync_tcp(const struct dstor_sync *s)
{
	return s->sp && !s->repair;
}

static inline void sync_set_state(struct dstor_sync *s, u32 state)
{
	WRITE_ONCE(s->state, state);
}

static inline u32 sync_block_len(struct dstor_sync *s, u64 index)
{
	return dstor_sync_block_len(&s->t, index);
}

static inline struct dstor_sync_buf *sync_slot_buf(struct dstor_sync *s,
						   struct sync_slot *sl)
{
	return &s->t.bufs[sl - s->slots];
}

/* ---- the syncs (sync.c) ---- */

void dstor_sync_block_hash(struct dstor_sync *s, struct page **pages, u64 index,
			   u8 *out);
void dstor_sync_hash_read(void *arg, u64 index, struct page **pages);
u64 dstor_sync_good_update(struct dstor_sync *s);
int dstor_sync_tree_setup(struct dstor_sync *s);
void dstor_sync_describe(struct dstor_sync *s, struct dstor_sync_info *si);

/* ---- by multicast (sync_mcast.c) ---- */

void dstor_sync_drops_count(struct dstor_sync *s);
int dstor_sync_group_join(struct dstor_sync *s, const struct in6_addr *group);
void dstor_sync_chans_leave(struct dstor_sync *s);
void dstor_sync_chan_drop(struct dstor_sync *s, unsigned int i);
void dstor_sync_chan_set(struct dstor_sync *s, unsigned int n,
			 unsigned int level, u64 j);
unsigned int dstor_sync_plan_top(struct dstor_sync *s);
int dstor_sync_chans_join_planned(struct dstor_sync *s, unsigned int n);
struct sync_slot *dstor_sync_slot_get(struct dstor_sync *s, u64 index);
void dstor_sync_block_written(struct dstor_sync *s, u64 index, const u8 *h);
int dstor_sync_slot_done(struct dstor_sync *s, struct sync_slot *sl);
int dstor_sync_receive_packet(struct dstor_sync *s,
			      int (*stall)(struct dstor_sync *s));
int dstor_sync_verify(struct dstor_sync *s);
int dstor_sync_mcast_main(struct dstor_sync *s);

/* ---- seeds (sync_seed.c) ---- */

int dstor_sync_seed(struct dstor_sync *s);

/* ---- over TCP (sync_tcp.c) ---- */

/* Nodes a TREE_FP asks at once: four levels down, b = 16. */
#define PEER_FP_LEVELS		4
#define PEER_FP_NODES		BIT(PEER_FP_LEVELS)
/* Depths of the descent: levels 40 to 1, PEER_FP_LEVELS at a time. */
#define PEER_DEPTHS		DIV_ROUND_UP(DSTOR_TREE_LEVELS - 1, \
					     PEER_FP_LEVELS)

struct peer_block;
struct peer_node;

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

int dstor_sync_peer_failed(struct dstor_sync *s, const char *why, int err);
void dstor_sync_peer_req_put(struct dstor_sync *s, struct dstor_peer_req *r);
void dstor_sync_peer_submit(struct dstor_sync *s, struct dstor_peer_req *r);
u32 dstor_sync_peer_max_io(struct dstor_sync *s);
struct dstor_peer_req *dstor_sync_peer_read_req(struct dstor_sync *s, u64 pos,
						u32 n, unsigned int nr);
int dstor_sync_write_wait(struct dstor_sync *s);
void dstor_sync_peer_free(struct dstor_sync *s);
void dstor_sync_peer_disconnect(struct dstor_sync *s);
int dstor_sync_peer_mine(struct dstor_sync *s, u8 *root);
void dstor_sync_peer_why(struct dstor_sync *s, int err);
int dstor_sync_peer_main(struct dstor_sync *s);

/* ---- multicast repaired over TCP (sync_repair.c) ---- */

void dstor_repair_queue(struct dstor_sync *s, u64 k);
void dstor_repair_seen(struct dstor_sync *s, u64 index, unsigned int chunk);
int dstor_repair_receive(struct dstor_sync *s);

#endif /* _DSTOR_SYNC_INT_H */
