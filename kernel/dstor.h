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
	DSTOR_STAT_EXPORT_MAX,		/* exports count the ones above */
	DSTOR_STAT_RESENT = DSTOR_STAT_EXPORT_MAX,
	DSTOR_STAT_TIMEOUTS,
	DSTOR_STAT_RECONNECTS,
	DSTOR_STAT_KEEPALIVES,
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
int dstor_stats_put(struct sk_buff *skb, struct dstor_stats *s, int n);

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

/* ---- exports (export.c, session.c) ---- */

struct dstor_listener;

struct dstor_export {
	struct list_head entry;		/* dstor_exports; cfg mutex */
	struct list_head lentry;	/* listener->exports; listener->lock */
	struct dstor_listener *listener;
	char name[DSTOR_NAME_MAX];
	char path[DSTOR_PATH_MAX];
	struct dstor_bdev bdev;
	u32 flags;			/* DSTOR_F_* */
	u64 size;			/* bytes */
	unsigned int nr_sessions;	/* listener->lock */
	bool dead;			/* listener->lock: takes no new session */
	struct dstor_stats stats;
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
	unsigned int nr_pending;	/* sessions before their hello */
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
	bool read_only;
	u64 id;				/* importer's session id */
	u16 queue;
};

int dstor_export_add(struct net *net, const char *name, const char *path,
		     const struct dstor_endpoint *listen, u32 flags,
		     struct netlink_ext_ack *extack);
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
	bool ping;			/* tx_work owes the peer a ping */
	bool was_down;			/* a link-lost event was sent */
	unsigned int backoff;		/* seconds to the next connect */
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
		     int *index, struct netlink_ext_ack *extack);
int dstor_import_del(struct dstor_import *imp, struct netlink_ext_ack *extack);
void dstor_import_set_timers(struct dstor_import *imp,
			     const struct dstor_timers *t);
unsigned int dstor_import_connected(struct dstor_import *imp);
u32 dstor_import_state(struct dstor_import *imp);
void dstor_import_destroy_all(void);

extern struct list_head dstor_exports;
extern struct list_head dstor_imports;

/* ---- netlink (netlink.c) ---- */

int dstor_netlink_init(void);
void dstor_netlink_exit(void);
void dstor_netlink_event(struct dstor_import *imp, u32 event, int queue);

#endif /* _DSTOR_H */
