/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dstor internal interfaces: what one file of the module uses of another.
 */
#ifndef _DSTOR_H
#define _DSTOR_H

#include <linux/atomic.h>
#include <linux/blk-mq.h>
#include <linux/in6.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/socket.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include <uapi/linux/dstor.h>
#include "compat.h"
#include "proto.h"

/* ---- module-wide state (main.c) ---- */

/*
 * dstor_cfg_mutex serialises configuration: the export, listener and import
 * lists and every object's add and delete. Data paths never take it.
 */
extern struct mutex dstor_cfg_mutex;
/*
 * Workqueues. A work never flushes another work of its own queue (with
 * WQ_MEM_RECLAIM only the rescuer may be running under memory pressure):
 *   dstor_rx_wq   importer receive loops (long-running, reclaim-safe)
 *   dstor_ctl_wq  importer recover and connect works, which flush rx works
 *   dstor_io_wq   senders, keepalive ticks, exporter range requests
 *   dstor_srv_wq  exporter accept and session receive loops (not in any
 *                 reclaim path of this machine)
 */
extern struct workqueue_struct *dstor_rx_wq;
extern struct workqueue_struct *dstor_ctl_wq;
extern struct workqueue_struct *dstor_io_wq;
extern struct workqueue_struct *dstor_srv_wq;
extern struct bio_set dstor_srv_bioset;
extern mempool_t *dstor_page_pool;
extern int dstor_major;

/*
 * Live object counts: checked at module unload, where anything non-zero is
 * reported as a leak (the selftests fail on that line).
 */
struct dstor_leak_counts {
	atomic_t exports;
	atomic_t listeners;
	atomic_t sessions;
	atomic_t srv_reqs;
	atomic_t imports;
};

extern struct dstor_leak_counts dstor_live;

/* ---- addresses ---- */

struct dstor_endpoint {
	struct sockaddr_storage ss;
	int len;		/* of the sockaddr in ss */
};

bool dstor_endpoint_equal(const struct dstor_endpoint *a,
			  const struct dstor_endpoint *b);
u16 dstor_endpoint_port(const struct dstor_endpoint *ep);

/* ---- counters shared by exports and imports ---- */

enum dstor_stat {
	DSTOR_STAT_READS,
	DSTOR_STAT_WRITES,
	DSTOR_STAT_FLUSHES,
	DSTOR_STAT_DISCARDS,
	DSTOR_STAT_WRITE_ZEROES,
	DSTOR_STAT_READ_BYTES,
	DSTOR_STAT_WRITE_BYTES,
	DSTOR_STAT_ERRORS,
	DSTOR_STAT_INFLIGHT,
	DSTOR_STAT_RESENT,
	DSTOR_STAT_TIMEOUTS,
	DSTOR_STAT_RECONNECTS,
	DSTOR_STAT_KEEPALIVES,
	DSTOR_STAT_AUTH_FAILURES,
	DSTOR_STAT_ACL_DENIED,
	DSTOR_STAT_BAD_RECORDS,
	DSTOR_STAT_MC_PACKETS,
	DSTOR_STAT_MC_BYTES,
	DSTOR_STAT_MC_BLOCKS,
	DSTOR_STAT_MLD_REPORTS,
	DSTOR_STAT_MLD_BAD,
	DSTOR_STAT_MC_QUERIES,
	DSTOR_STAT_SYNC_BLOCKS,
	DSTOR_STAT_SYNC_GOOD,
	DSTOR_STAT_SYNC_RECEIVED,
	DSTOR_STAT_SYNC_VERIFIED,
	DSTOR_STAT_SYNC_HASH_BAD,
	DSTOR_STAT_SYNC_BYTES,
	DSTOR_STAT_SYNC_PACKETS,
	DSTOR_STAT_SYNC_PACKETS_BAD,
	DSTOR_STAT_SYNC_CHANNELS,
	DSTOR_STAT_MAX,
};

struct dstor_stats {
	atomic64_t c[DSTOR_STAT_MAX];
};

static inline void dstor_stat_add(struct dstor_stats *s, enum dstor_stat i,
				  s64 v)
{
	atomic64_add(v, &s->c[i]);
}

void dstor_stats_count(struct dstor_stats *s, u8 op, u32 bytes, bool error);
int dstor_stats_put(struct sk_buff *skb, struct dstor_stats *s, u32 mask);

/* Which counters each object reports. */
#define DSTOR_STATS_COMMON	(BIT(DSTOR_STAT_RESENT) - 1)
#define DSTOR_STATS_IMPORT	(DSTOR_STATS_COMMON | BIT(DSTOR_STAT_RESENT) | \
				 BIT(DSTOR_STAT_TIMEOUTS) | \
				 BIT(DSTOR_STAT_RECONNECTS) | \
				 BIT(DSTOR_STAT_KEEPALIVES) | \
				 BIT(DSTOR_STAT_BAD_RECORDS))
#define DSTOR_STATS_EXPORT	(DSTOR_STATS_COMMON | \
				 BIT(DSTOR_STAT_AUTH_FAILURES) | \
				 BIT(DSTOR_STAT_ACL_DENIED) | \
				 BIT(DSTOR_STAT_BAD_RECORDS))
#define DSTOR_STATS_MCAST	(GENMASK(DSTOR_STAT_MC_QUERIES, \
					 DSTOR_STAT_MC_PACKETS))
#define DSTOR_STATS_SYNC	(GENMASK(DSTOR_STAT_SYNC_CHANNELS, \
					 DSTOR_STAT_SYNC_BLOCKS))

/* ---- socket helpers (conn.c) ---- */

int dstor_sock_send(struct socket *sock, const void *buf, size_t len,
		    bool more);
int dstor_sock_send_bvec(struct socket *sock, struct bio_vec *bv,
			 unsigned int nr, size_t len, bool more);
int dstor_sock_recv(struct socket *sock, void *buf, size_t len);
int dstor_sock_recv_bvec(struct socket *sock, struct bio_vec *bv,
			 unsigned int nr, size_t len);
int dstor_sock_discard(struct socket *sock, size_t len);
int dstor_send_frame(struct socket *sock, const struct dstor_hdr *h,
		     const void *payload, bool more);
int dstor_recv_hdr(struct socket *sock, struct dstor_hdr *h);
void dstor_sock_set_timeout(struct socket *sock, long timeo);

/* ---- sealed connections (crypto.c) ---- */

struct dstor_rec;

/*
 * One direction pair of AEAD state for a connection, and its records in
 * flight through the crypto pool. @frame is called, from the pool, with
 * each opened frame (its payload read with dstor_rec_read()); @fail when
 * the connection must be reset.
 */
struct dstor_seal {
	struct crypto_aead *tx;
	struct crypto_aead *rx;
	struct socket *sock;
	u8 cipher;			/* DSTOR_WIRE_* */
	spinlock_t lock;		/* tx_list, tx_seq, records' ready */
	struct list_head tx_list;	/* in sequence order */
	u64 tx_seq;
	u64 rx_seq;			/* the receive loop's only */
	struct work_struct send_work;
	atomic_t pending;		/* records in the pool */
	atomic_t rx_pending;		/* of which received */
	wait_queue_head_t wait;
	bool dead;
	void (*fail)(struct dstor_seal *sl);
	int (*frame)(struct dstor_seal *sl, struct dstor_rec *rec,
		     const struct dstor_hdr *h);
	void *owner;
	struct dstor_stats *stats;
};

extern struct workqueue_struct *dstor_crypto_wq;

int dstor_crypto_init(void);
void dstor_crypto_exit(void);
u8 dstor_crypto_ciphers(void);
u8 dstor_crypto_pick(u8 offered);
int dstor_crypto_set_workers(unsigned int n);
unsigned int dstor_crypto_workers_get(void);
unsigned int dstor_crypto_queued_get(void);
void dstor_key_id(const u8 *key, u8 *id);
void dstor_hs_proof(const u8 *key, bool server, const u8 *hello,
		    const u8 *challenge, u8 *proof);
void dstor_hs_keys(const u8 *key, const u8 *nc, const u8 *ns, u8 *c2s,
		   u8 *s2c);
struct crypto_aead *dstor_aead_new(u8 cipher, const u8 *key);
int dstor_seal_init(struct dstor_seal *sl, u8 cipher, const u8 *ktx,
		    const u8 *krx);
void dstor_seal_stop(struct dstor_seal *sl);
void dstor_seal_free(struct dstor_seal *sl);
struct dstor_rec *dstor_seal_begin(struct dstor_seal *sl,
				   const struct dstor_hdr *h);
void dstor_rec_add_src(struct dstor_rec *rec, struct page *page,
		       unsigned int len, unsigned int off);
void dstor_seal_commit(struct dstor_rec *rec, void (*copied)(void *arg),
		       void *arg);
int dstor_seal_recv(struct dstor_seal *sl);
void dstor_rec_read(struct dstor_rec *rec, u32 off, void *buf, u32 len);
int dstor_seal_send_sync(struct dstor_seal *sl, const struct dstor_hdr *h,
			 const void *payload);
int dstor_seal_recv_sync(struct dstor_seal *sl, struct dstor_hdr *h,
			 void *payload, u32 max);

/* A pre-shared key and its public fingerprint. */
struct dstor_key {
	bool set;
	u8 key[DSTOR_KEY_LEN];
	u8 id[DSTOR_KEY_ID_LEN];
};

/* ---- access lists (acl.c) ---- */

struct dstor_acl_entry {
	sa_family_t family;
	u8 prefix_len;
	u8 perm;			/* DSTOR_PERM_* */
	u8 addr[16];
};

struct dstor_acl {
	struct rcu_head rcu;
	unsigned int n;
	struct dstor_acl_entry e[];	/* longest prefix first */
};

u8 dstor_acl_check(struct dstor_acl __rcu **aclp,
		   const struct sockaddr_storage *peer);
int dstor_acl_parse(struct nlattr *nest, bool with_perm,
		    struct dstor_acl_entry *e, struct netlink_ext_ack *extack);
int dstor_acl_update(struct dstor_acl __rcu **aclp,
		     const struct dstor_acl_entry *e, bool del,
		     struct netlink_ext_ack *extack);
int dstor_acl_put(struct sk_buff *skb, struct dstor_acl __rcu **aclp);
void dstor_acl_free(struct dstor_acl __rcu **aclp);

/* ---- exports (export.c, session.c) ---- */

struct dstor_listener;
struct dstor_mcast_cfg;

struct dstor_export {
	struct list_head entry;		/* dstor_exports; cfg mutex */
	struct list_head lentry;	/* listener->exports; listener->lock */
	struct dstor_listener *listener;	/* NULL: multicast only */
	char name[DSTOR_NAME_MAX];
	char path[DSTOR_PATH_MAX];
	struct dstor_bdev bdev;
	u32 flags;			/* DSTOR_F_* */
	u64 size;			/* bytes */
	unsigned int nr_sessions;	/* listener->lock */
	bool dead;			/* listener->lock: takes no new session */
	struct dstor_key key;		/* listener->lock */
	struct dstor_acl __rcu *acl;	/* cfg mutex to change, RCU to read */
	struct dstor_stats stats;
	struct dstor_mcast *mcast;	/* multicast sender, or NULL */
};

struct dstor_listener {
	struct list_head entry;		/* dstor_listeners; cfg mutex */
	struct net *net;
	struct dstor_endpoint addr;
	struct socket *sock;
	struct work_struct accept_work;
	unsigned int refs;		/* exports using it; cfg mutex */
	bool stopping;			/* lock */
	struct mutex lock;		/* sessions, exports, counts below */
	struct list_head sessions;
	struct list_head exports;
	unsigned int nr_sessions;
	unsigned int nr_pending;	/* sessions in their handshake */
	unsigned int detach_seq;	/* bumped by every detach */
};

/* One importer connection, served by one receive loop. */
struct dstor_session {
	struct list_head entry;		/* listener->sessions; listener->lock */
	struct dstor_listener *listener;
	struct dstor_export *exp;	/* set once the hello names it */
	struct socket *sock;
	struct work_struct rx_work;
	struct work_struct tx_work;
	struct llist_head replies;	/* completed requests to answer */
	atomic_t inflight;
	wait_queue_head_t wait;		/* inflight went down */
	bool read_only;			/* READ_ONCE: the ACL may change it */
	bool want_ro;			/* the importer asked for read-only */
	bool pending;			/* listener lock: counted in nr_pending */
	unsigned long hs_deadline;	/* jiffies: the handshake ends by then */
	u64 id;				/* importer's session id */
	u16 queue;
	struct sockaddr_storage peer;
	struct dstor_key key;		/* the export's, taken at the hello */
	struct dstor_seal *seal;	/* NULL: plaintext */
};

int dstor_export_add(struct net *net, const char *name, const char *path,
		     const struct dstor_endpoint *listen, u32 flags,
		     const u8 *key, struct dstor_acl *acl,
		     const struct dstor_mcast_cfg *mcast,
		     struct netlink_ext_ack *extack);
int dstor_export_acl(struct dstor_export *exp,
		     const struct dstor_acl_entry *e, bool del,
		     struct netlink_ext_ack *extack);
void dstor_export_set_key(struct dstor_export *exp, const u8 *key);
int dstor_export_del(const char *name, struct netlink_ext_ack *extack);
struct dstor_export *dstor_export_find(const char *name);
void dstor_export_destroy_all(void);
void dstor_listener_accept_work(struct work_struct *work);

void dstor_session_start(struct dstor_listener *l, struct socket *sock);
void dstor_session_kill(struct dstor_session *s);
void dstor_session_detach(struct dstor_session *s);
u16 dstor_session_attach(struct dstor_session *s, const char *name,
			 bool want_ro, u64 id, u16 queue);
void dstor_session_supersede(struct dstor_session *s);
int dstor_session_init(void);
void dstor_session_exit(void);

/* ---- imports (import.c) ---- */

struct dstor_import;

/*
 * One connection of an import, serving one blk-mq hardware queue.
 *
 * @lock guards @connected and @gen. While connected, tx_work and rx_work
 * run and own @sock; recover_work takes the connection down (it stops both
 * loops before it releases the socket) and connect_work brings a new one
 * up. Requests keep their queue for life, so a resent request always goes
 * back on the same queue, to a session the exporter has drained first.
 */
struct dstor_queue {
	struct dstor_import *imp;
	unsigned int qid;
	spinlock_t lock;		/* connected, gen */
	bool connected;
	u32 gen;			/* connection generation */
	struct socket *sock;
	struct llist_head send_llist;	/* from queue_rq and resends */
	struct work_struct tx_work;
	struct work_struct rx_work;
	struct work_struct recover_work;
	struct delayed_work connect_work;
	struct delayed_work ka_work;	/* keepalive tick */
	unsigned long last_rx;		/* jiffies of the last frame received */
	unsigned long last_ping;	/* jiffies of the last ping sent */
	struct dstor_seal *seal;	/* NULL: plaintext */
	bool ping;			/* tx_work owes the peer a ping */
	bool was_down;			/* a link-lost event was sent */
	unsigned int backoff;		/* seconds to the next connect */
	long last_err;			/* the last reconnect failure, 0 after success */
};

/* Per-request state, in the blk-mq PDU. */
struct dstor_pdu {
	struct dstor_queue *q;
	struct llist_node lnode;
	u32 gen;			/* handle generation of this tag */
	atomic_t state;			/* DSTOR_PDU_* */
	atomic_t timeouts;		/* timeouts seen by this request */
	bool expired;			/* out of retries: fail, do not resend */
	unsigned long sent;		/* jiffies of the last send */
	blk_status_t status;
};

/*
 * A request moves IDLE -> INFLIGHT (on a send list or sent) or HELD
 * (waiting for its connection to come back) -> DONE. The one that moves
 * it to DONE completes it.
 */
enum {
	DSTOR_PDU_IDLE,
	DSTOR_PDU_INFLIGHT,
	DSTOR_PDU_HELD,
	DSTOR_PDU_DONE,
};

/* Transaction timers, in seconds; changed at run time by IMPORT_SET. */
struct dstor_timers {
	u32 timeout;
	u32 retries;
	u32 reconnect_min;
	u32 reconnect_max;
	u32 keepalive;
	u32 dead_after;
};

struct dstor_import {
	struct list_head entry;		/* dstor_imports; cfg mutex */
	int index;
	char name[DSTOR_NAME_MAX];
	struct dstor_endpoint peer;
	struct net *net;
	u32 flags;			/* DSTOR_F_* asked for */
	u64 session;
	struct dstor_hello_reply info;
	struct dstor_timers timers;	/* READ_ONCE: set under cfg mutex */
	spinlock_t key_lock;		/* key */
	struct dstor_key key;
	u8 cipher;			/* of the last handshake */
	unsigned int nr_queues;
	struct dstor_queue *queues;
	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;
	unsigned long state_bits;	/* DSTOR_IMP_* */
	struct dstor_stats stats;
};

enum {
	DSTOR_IMP_DYING,		/* being deleted: fail all I/O */
	DSTOR_IMP_FAILED,		/* past the resend budget while down */
};

int dstor_import_add(struct net *net, const char *name,
		     const struct dstor_endpoint *peer, u32 flags,
		     unsigned int nr_conns, const struct dstor_timers *timers,
		     const u8 *key, int *index, struct netlink_ext_ack *extack);
void dstor_import_set_key(struct dstor_import *imp, const u8 *key);
int dstor_import_del(struct dstor_import *imp, struct netlink_ext_ack *extack);
void dstor_import_set_timers(struct dstor_import *imp,
			     const struct dstor_timers *t);
unsigned int dstor_import_connected(struct dstor_import *imp);
u32 dstor_import_state(struct dstor_import *imp);
void dstor_import_destroy_all(void);

extern struct list_head dstor_exports;
extern struct list_head dstor_imports;

/* ---- multicast serving: hashes and packets (merkle.c) ---- */

struct dstor_mc_hdr;
struct crypto_aead;

/*
 * What protects one export's multicast packets: the tree key (always) and,
 * when the export has a key, an AEAD keyed for this epoch and root.
 */
struct dstor_mc_ctx {
	struct crypto_aead *tfm;	/* NULL: unsealed, no tag */
	u8 cipher;			/* DSTOR_WIRE_* of tfm */
};

void dstor_mc_tree_key(const u8 *key, const char *name, u8 *kt);
void dstor_mc_zero_leaf(const u8 *kt, u32 len, u8 *out);
void dstor_mc_leaf_pages(const u8 *kt, const u8 *zero, u32 zero_len,
			 struct page **pages, u32 len, u8 *out);
void dstor_mc_node_hash(const u8 *kt, const u8 *left, const u8 *right,
			u8 *out);
int dstor_mc_root(const u8 *kt, const u8 *leaves, u64 n, u64 size,
		  u32 block_size, u8 *root);
void dstor_mc_group(const char *name, u8 kind, u64 epoch, const u8 *root,
		    u64 node, struct in6_addr *group);
int dstor_mc_ctx_init(struct dstor_mc_ctx *c, const u8 *key, u8 cipher,
		      u64 epoch, const u8 *root);
void dstor_mc_ctx_free(struct dstor_mc_ctx *c);
int dstor_mc_protect(const struct dstor_mc_ctx *c, u8 *pkt,
		     const struct dstor_mc_hdr *h);
int dstor_mc_verify(const struct dstor_mc_ctx *c, u8 *pkt,
		    const struct dstor_mc_hdr *h);

/* ---- multicast serving (mcast.c) and receiving (sync.c) ---- */

struct dstor_mcast;		/* an export's multicast sender, mcast.c */
struct sk_buff;

/* What DSTOR_A_MCAST asked for (export add). */
struct dstor_mcast_cfg {
	int ifindex;
	u64 rate;			/* bits per second */
	u32 block_size;
	bool querier;
};

int dstor_mcast_start(struct dstor_export *exp, struct net *net,
		      const struct dstor_mcast_cfg *cfg,
		      struct netlink_ext_ack *extack);
void dstor_mcast_stop(struct dstor_export *exp);
int dstor_mcast_fill(struct sk_buff *skb, struct dstor_export *exp);
int dstor_mcast_init(void);
void dstor_mcast_exit(void);

/* The rest of sync.c's interface is in sync.h. */
int dstor_sync_init(void);
void dstor_sync_exit(void);

/* ---- netlink (netlink.c) ---- */

int dstor_netlink_init(void);
void dstor_netlink_exit(void);
void dstor_netlink_event(struct dstor_import *imp, u32 event, int queue);

#endif /* _DSTOR_H */
