/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exporter: exports (export.c), their listeners and the registry of
 * sessions (listener.c), and the sessions themselves (session.c).
 *
 * References: the configuration list holds an export; every session
 * attached to it holds it too, so the backing device is closed only after
 * the last request of the last session has completed. A listener is held
 * by the exports on it and by every session it accepted; it stops
 * accepting as soon as no export uses it. A session is held by its
 * listener's registry until it is closed, and by each of its requests.
 */
#ifndef _DSTOR_EXPORT_H
#define _DSTOR_EXPORT_H

#include <linux/completion.h>
#include <linux/hashtable.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include "compat.h"
#include "conn.h"
#include "crypto.h"
#include "handshake.h"
#include "sock.h"
#include "stats.h"
#include "tree.h"

struct dstor_acl;
struct dstor_acl_entry;
struct dstor_mcast;
struct dstor_mcast_cfg;

/* What `export add` asks for. */
struct dstor_export_cfg {
	const char *name;
	const char *path;
	const struct dstor_endpoint *listen;	/* NULL: multicast only */
	u32 flags;				/* DSTOR_F_* */
	const u8 *key;				/* NULL: none */
	const u8 *uuid;				/* NULL: a random one */
	u32 max_sessions;			/* 0: the module's default */
	const struct dstor_mcast_cfg *mcast;	/* NULL: none */
	bool tree;				/* keep a tree (mcast has one) */
	u32 tree_block_size;			/* 0: mcast's, or the default */
};

struct dstor_export {
	struct kref ref;
	struct list_head entry;		/* dstor_exports; cfg mutex */
	struct list_head lentry;	/* listener->exports; listener->lock */
	struct net *net;
	struct dstor_listener *listener;	/* NULL: multicast only */
	char name[DSTOR_NAME_MAX];
	char path[DSTOR_PATH_MAX];
	struct dstor_bdev bdev;
	u32 flags;			/* DSTOR_F_* */
	u64 size;			/* bytes */
	u8 uuid[DSTOR_UUID_LEN];
	u64 incarnation;		/* random: importers see a re-export */
	u32 max_sessions;		/* 0: the module's default */
	unsigned int nr_sessions;	/* attached; listener->lock */
	bool dead;			/* listener->lock: takes no new session */
	struct dstor_key key;		/* listener->lock */
	struct dstor_acl __rcu *acl;	/* cfg mutex to change, RCU to read */
	struct dstor_stats stats;
	struct dstor_mcast *mcast;	/* multicast sender, or NULL */
	struct dstor_tree_slot tree;	/* for TREE_INFO and TREE_FP */
	struct completion *released;	/* export del waits for the last put */
};

/* Sessions from one peer address on one listener. */
struct dstor_host {
	struct hlist_node node;
	struct sockaddr_storage addr;
	unsigned int nr;
};

struct dstor_listener {
	struct kref ref;
	struct list_head entry;		/* the listeners; cfg mutex */
	struct net *net;
	struct dstor_endpoint addr;
	struct socket *sock;
	struct work_struct accept_work;
	void (*saved_data_ready)(struct sock *sk);
	spinlock_t lock;		/* all below, and sessions' links */
	bool closed;
	struct completion *released;	/* the last export waits */
	struct list_head exports;
	struct list_head sessions;
	unsigned int nr_pending;	/* sessions in their handshake */
	DECLARE_HASHTABLE(by_id, 8);	/* attached sessions by (id, queue) */
	DECLARE_HASHTABLE(hosts, 8);	/* struct dstor_host */
};

enum {
	DSTOR_SESSION_HANDSHAKE,
	DSTOR_SESSION_DRAINING,		/* waits for its predecessors */
	DSTOR_SESSION_SERVING,
	DSTOR_SESSION_CLOSING,		/* answered a refusal, or failed */
};

#define DSTOR_SESSION_LEAD_BUSY	0	/* bits: lead_work is queued */
#define DSTOR_SESSION_AUTH_FAILED	1	/* bits: counted in auth_failures */

/* The exporter's side of one connection. */
struct dstor_session {
	struct kref ref;
	struct list_head entry;		/* listener->sessions; listener->lock */
	struct hlist_node id_node;	/* listener->by_id while attached */
	struct dstor_listener *listener;
	struct dstor_export *exp;	/* held once the hello names it */
	struct dstor_host *host;	/* counted in while attached */
	struct dstor_conn *conn;
	struct work_struct close_work;
	struct work_struct free_work;
	struct work_struct lead_work;	/* is queue 0 of the importer heard? */
	unsigned long bits;		/* DSTOR_SESSION_* */
	struct dstor_hs_server hs;
	u8 state;			/* DSTOR_SESSION_* */
	bool pending;			/* listener->lock: in nr_pending */
	bool attached;			/* listener->lock: in by_id */
	bool counted;			/* listener->lock: in the limits */
	bool closed;			/* listener->lock: off its lists */
	bool read_only;			/* READ_ONCE: the ACL may change it */
	bool want_ro;			/* the importer asked for read-only */
	bool ka_lead;			/* told the importer KA_LEAD */
	bool throttled;			/* stopped reading: too many requests */
	int err;			/* why it failed */
	u64 id;				/* the importer's session id */
	u16 queue;
	u16 version;			/* the protocol version answered */
	struct sockaddr_storage peer;
	struct dstor_key key;		/* the export's, taken at the hello */
	atomic_t inflight;
};

extern struct list_head dstor_exports;
extern unsigned int dstor_max_sessions;
extern unsigned int dstor_max_host_sessions;

/* export.c */
int dstor_export_add(struct net *net, const struct dstor_export_cfg *cfg,
		     struct dstor_acl *acl, struct netlink_ext_ack *extack);
struct dstor_export *dstor_export_find(struct net *net, const char *name);
int dstor_export_del(struct dstor_export *exp);
int dstor_export_acl(struct dstor_export *exp,
		     const struct dstor_acl_entry *e, bool del,
		     struct netlink_ext_ack *extack);
void dstor_export_set_key(struct dstor_export *exp, const u8 *key);
void dstor_export_put(struct dstor_export *exp);
void dstor_export_destroy_all(void);
int dstor_export_init(void);
void dstor_export_exit(void);

/* listener.c */
struct dstor_listener *dstor_listener_get(struct net *net,
					  const struct dstor_endpoint *addr,
					  struct netlink_ext_ack *extack);
void dstor_listener_add_export(struct dstor_listener *l,
			       struct dstor_export *exp);
void dstor_listener_del_export(struct dstor_listener *l,
			       struct dstor_export *exp);
void dstor_listener_recheck(struct dstor_listener *l,
			    struct dstor_export *exp);
void dstor_listener_put(struct dstor_listener *l);
bool dstor_listener_add_session(struct dstor_listener *l,
				struct dstor_session *s);
u16 dstor_listener_attach(struct dstor_session *s, const char *name);
u16 dstor_listener_admit(struct dstor_session *s, bool *wait);
void dstor_listener_detach(struct dstor_session *s);
bool dstor_listener_lead_heard(struct dstor_session *s, unsigned long *when);
struct dstor_session *dstor_listener_release(struct dstor_session *s);
unsigned int dstor_export_max_sessions(const struct dstor_export *exp);

/* session.c */
void dstor_session_new(struct dstor_listener *l, struct socket *sock);
void dstor_session_kill(struct dstor_session *s);
void dstor_session_serve(struct dstor_session *s);
void dstor_session_auth_failed(struct dstor_session *s, const char *why);
void dstor_session_put(struct dstor_session *s);
int dstor_session_init(void);
void dstor_session_exit(void);

#endif /* _DSTOR_EXPORT_H */
