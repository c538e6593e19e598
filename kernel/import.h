/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Imports: the block device (import.c) and its controller (import_ctrl.c).
 *
 * Each blk-mq hardware queue owns one connection to the exporter. A
 * request's state (struct dstor_pdu, in the blk-mq PDU) moves
 *	IDLE -> INFLIGHT (queued on or sent by the connection)
 *	     -> RECEIVING (its reply's header arrived, the data is coming)
 *	     -> DONE (completed, by whoever moved it there)
 * and, while its connection is down, INFLIGHT -> HELD -> INFLIGHT (resent
 * with the same handle) or -> DONE (out of resends). Every move is an
 * atomic compare-and-exchange, so exactly one party completes a request.
 *
 * The controller is one work item per import: every change of a
 * connection (it failed, a new one finished its handshake, a reconnect is
 * due, the import is deleted) runs there, one at a time.
 */
#ifndef _DSTOR_IMPORT_H
#define _DSTOR_IMPORT_H

#include <linux/blk-mq.h>
#include <linux/completion.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include "conn.h"
#include "crypto.h"
#include "handshake.h"
#include "sock.h"
#include "stats.h"

struct dstor_import;

/* One connection of an import, serving one blk-mq hardware queue. */
struct dstor_queue {
	struct dstor_import *imp;
	unsigned int qid;
	int io_cpu;			/* where its connections' io_work runs */
	spinlock_t lock;		/* conn, against queue_rq */
	struct dstor_conn *conn;	/* live, or NULL: requests are held */
	atomic_t next_gen;		/* handle generations, per queue */
	/* The controller's own: */
	struct dstor_conn *next;	/* connecting, in its handshake */
	bool hs_done;			/* next finished its handshake */
	struct dstor_hs_client hs;	/* next's handshake */
	unsigned long retry_at;		/* jiffies of the next connect */
	unsigned int backoff;		/* seconds */
	enum dstor_why last_why;	/* of the last failed reconnect */
	u32 ka_told;			/* keepalive the live conn's HELLO said */
	bool ka_quiet;			/* queue 0 may speak for it (KA_LEAD) */
	bool was_up;
};

/* Per-request state, in the blk-mq PDU. */
struct dstor_pdu {
	struct dstor_queue *q;
	struct dstor_tx tx;
	struct dstor_rx rx;
	u32 gen;			/* handle generation of this start */
	bool tx_busy;			/* its frame is queued or being sent */
	atomic_t state;			/* DSTOR_PDU_* */
	atomic_t timeouts;		/* timeouts seen by this request */
	bool expired;			/* out of retries: fail, do not resend */
	unsigned long started;		/* jiffies blk-mq started it */
	unsigned long sent;		/* jiffies of the last send */
	u64 flush_mark;			/* FLUSH: writes done when sent */
	blk_status_t status;
};

enum {
	DSTOR_PDU_IDLE,
	DSTOR_PDU_INFLIGHT,
	DSTOR_PDU_RECEIVING,
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

/* What `import add` asks for. */
struct dstor_import_cfg {
	const char *name;		/* the export's */
	const char *local;		/* NULL: none */
	struct dstor_endpoint peer;
	u32 flags;			/* DSTOR_F_* */
	unsigned int nr_conns;
	struct dstor_timers timers;
	const u8 *key;			/* NULL: none */
};

struct dstor_import {
	struct kref ref;
	struct list_head entry;		/* dstor_imports; cfg mutex */
	int index;			/* N of /dev/dstorN */
	char label[DISK_NAME_LEN];	/* for the log */
	char name[DSTOR_NAME_MAX];
	char local[DSTOR_NAME_MAX];	/* "": none; fixed once added */
	struct list_head local_entry;	/* dstor_local_names, when it has one */
	struct dstor_endpoint peer;
	struct net *net;
	u32 flags;			/* DSTOR_F_* asked for */
	u64 session;			/* our id, the same across reconnects */
	struct dstor_hello_reply info;	/* the export, as first met */
	bool have_info;
	struct dstor_timers timers;	/* READ_ONCE: set under cfg mutex */
	spinlock_t key_lock;		/* key */
	struct dstor_key key;
	u8 cipher;			/* of the last handshake */
	unsigned int nr_queues;
	struct dstor_queue *queues;
	struct blk_mq_tag_set tag_set;
	bool has_tag_set;
	struct gendisk *disk;
	unsigned long state_bits;	/* DSTOR_IMP_* */
	enum dstor_why why;		/* why it is failed, or was last down */
	/*
	 * Writes (not FUA) completed, and how many of those a completed FLUSH
	 * covers: more of the first means some may sit in the exporter's
	 * volatile cache, lost if it restarts.
	 */
	atomic64_t writes_done;
	atomic64_t writes_flushed;
	struct dstor_stats stats;

	/* The controller. */
	struct delayed_work ctrl_work;
	spinlock_t ctrl_lock;		/* ctrl_stopped, against kicks */
	bool ctrl_stopped;
	bool adding;			/* connecting for `import add` */
	enum dstor_why add_why;
	struct completion added;
};

enum {
	DSTOR_IMP_DYING,		/* being deleted: fail all I/O */
	DSTOR_IMP_FAILED,		/* past the resend budget while down */
	DSTOR_IMP_LOST,			/* acknowledged writes were lost: I/O
					 * fails until the import is deleted
					 */
};

extern struct list_head dstor_imports;

/* import.c */
int dstor_import_add(struct net *net, const struct dstor_import_cfg *cfg,
		     int *index, struct netlink_ext_ack *extack);
int dstor_import_del(struct dstor_import *imp, struct netlink_ext_ack *extack);
void dstor_import_set_key(struct dstor_import *imp, const u8 *key);
void dstor_import_set_timers(struct dstor_import *imp,
			     const struct dstor_timers *t);
unsigned int dstor_import_connected(struct dstor_import *imp);
u32 dstor_import_state(struct dstor_import *imp);
void dstor_import_destroy_all(void);
int dstor_import_init(void);
void dstor_import_exit(void);
struct dstor_rx *dstor_import_rx_reply(struct dstor_queue *q,
				       const struct dstor_hdr *h);
void dstor_import_reply_done(struct dstor_rx *rx);
void dstor_import_tx_done(struct dstor_tx *tx);
void dstor_import_park(struct dstor_queue *q);
void dstor_import_resend(struct dstor_queue *q);
void dstor_import_set_failed(struct dstor_import *imp, enum dstor_why why);

/* import_ctrl.c */
extern const struct dstor_conn_ops dstor_queue_conn_ops;
void dstor_ctrl_kick(struct dstor_import *imp);
void dstor_ctrl_start(struct dstor_import *imp);
void dstor_ctrl_stop(struct dstor_import *imp);

#endif /* _DSTOR_IMPORT_H */
