// SPDX-License-Identifier: GPL-2.0
/*
 * Listeners and the registry of sessions.
 *
 * Exports that name the same address and port in the same network
 * namespace share a listener; the importer's HELLO picks the export by
 * name. Accepting is driven by the listening socket's data_ready callback,
 * which queues accept_work; it takes what is in the backlog without
 * waiting and hands each connection to a new session (session.c).
 *
 * The registry (the listener's lock) knows every session of the listener:
 *   - a session in its handshake is "pending" (at most DSTOR_MAX_PENDING);
 *   - once its importer has named an export and passed its access list and
 *     key, it is admitted, within the export's session limit
 *     (--max-sessions, module default max_sessions) and the per-address
 *     limit (module parameter max_host_sessions), and counted;
 *   - from admission to its final release it is in by_id under the
 *     importer's (session id, queue), so a reconnecting importer's new
 *     session can end the old one and wait until it is completely gone,
 *     every bio it submitted completed, before serving: an old write can
 *     never land after the resent one.
 */
#include <linux/in.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "acl.h"
#include "dstor.h"
#include "export.h"

#define DSTOR_MAX_PENDING	256	/* sessions in their handshake */
#define DSTOR_ACCEPT_BUDGET	64	/* accepts before accept_work yields */

/* The limits take what DSTOR_CMD_SET takes, from sysfs too. */
static int limit_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, DSTOR_MAX_SESSION_LIMIT);
}

static const struct kernel_param_ops limit_ops = {
	.set = limit_set,
	.get = param_get_uint,
};

unsigned int dstor_max_sessions = DSTOR_DEFAULT_MAX_SESSIONS;
module_param_cb(max_sessions, &limit_ops, &dstor_max_sessions, 0644);
MODULE_PARM_DESC(max_sessions,
		 "Sessions an export takes unless export add says (1..1000000, default 4096)");
unsigned int dstor_max_host_sessions = DSTOR_DEFAULT_MAX_HOST_SESSIONS;
module_param_cb(max_host_sessions, &limit_ops, &dstor_max_host_sessions,
		0644);
MODULE_PARM_DESC(max_host_sessions,
		 "Sessions one peer address may hold on a listener (1..1000000, default 16384)");

static LIST_HEAD(dstor_listeners);

unsigned int dstor_export_max_sessions(const struct dstor_export *exp)
{
	return exp->max_sessions ?: READ_ONCE(dstor_max_sessions);
}

/* ---- accepting ---- */

static void listener_data_ready(struct sock *sk)
{
	struct dstor_listener *l;

	read_lock_bh(&sk->sk_callback_lock);
	l = sk->sk_user_data;
	/* Accepted sockets inherit this callback until their session starts. */
	if (l && sk->sk_state == TCP_LISTEN)
		queue_work(dstor_srv_wq, &l->accept_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void listener_accept_work(struct work_struct *work)
{
	struct dstor_listener *l = container_of(work, struct dstor_listener,
						accept_work);
	struct socket *sock;
	int i, ret;

	for (i = 0; i < DSTOR_ACCEPT_BUDGET; i++) {
		ret = kernel_accept(l->sock, &sock, O_NONBLOCK);
		if (ret == -ECONNABORTED)
			continue;
		if (ret)
			return;	/* -EAGAIN: the backlog is empty */
		dstor_session_new(l, sock);
	}
	queue_work(dstor_srv_wq, &l->accept_work);	/* yield */
}

static int listener_open(struct dstor_listener *l,
			 struct netlink_ext_ack *extack)
{
	struct socket *sock;
	struct sock *sk;
	int ret;

	ret = sock_create_kern(l->net, l->addr.ss.ss_family, SOCK_STREAM,
			       IPPROTO_TCP, &sock);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "cannot create the listening socket");
		return ret;
	}
	sk = sock->sk;
	sock_set_reuseaddr(sk);
	ret = kernel_bind(sock, (struct sockaddr *)&l->addr.ss, l->addr.len);
	if (ret) {
		if (ret == -EADDRINUSE)
			NL_SET_ERR_MSG_MOD(extack, "listen address already in use");
		else if (ret == -EADDRNOTAVAIL)
			NL_SET_ERR_MSG_MOD(extack,
					   "listen address is not an address of this host (in this network namespace)");
		else
			NL_SET_ERR_MSG_MOD(extack, "cannot bind the listen address");
		goto err;
	}
	/* Set before any accept_work can run. */
	l->sock = sock;
	write_lock_bh(&sk->sk_callback_lock);
	l->saved_data_ready = sk->sk_data_ready;
	sk->sk_user_data = l;
	sk->sk_data_ready = listener_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	ret = kernel_listen(sock, 1024);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "cannot listen on the address");
		goto err;
	}
	return 0;
err:
	l->sock = NULL;
	sock_release(sock);
	return ret;
}

/* Stop accepting for good: no export uses the listener any more. */
static void listener_close(struct dstor_listener *l)
{
	struct sock *sk = l->sock->sk;
	struct dstor_session *s;

	list_del(&l->entry);
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = l->saved_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	cancel_work_sync(&l->accept_work);
	sock_release(l->sock);
	l->sock = NULL;

	/* Sessions still in their handshake belong to no export. */
	spin_lock(&l->lock);
	list_for_each_entry(s, &l->sessions, entry)
		dstor_session_kill(s);
	spin_unlock(&l->lock);
}

/* The listener on @addr in @net, shared or opened; cfg mutex held. */
struct dstor_listener *dstor_listener_get(struct net *net,
					  const struct dstor_endpoint *addr,
					  struct netlink_ext_ack *extack)
{
	struct dstor_listener *l;
	int ret;

	lockdep_assert_held(&dstor_cfg_mutex);
	list_for_each_entry(l, &dstor_listeners, entry) {
		if (net_eq(l->net, net) &&
		    dstor_endpoint_equal(&l->addr, addr)) {
			kref_get(&l->ref);
			return l;
		}
	}

	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return ERR_PTR(-ENOMEM);
	kref_init(&l->ref);
	l->net = net;
	l->addr = *addr;
	spin_lock_init(&l->lock);
	INIT_LIST_HEAD(&l->sessions);
	INIT_LIST_HEAD(&l->exports);
	hash_init(l->by_id);
	hash_init(l->hosts);
	INIT_WORK(&l->accept_work, listener_accept_work);
	ret = listener_open(l, extack);
	if (ret) {
		kfree(l);
		return ERR_PTR(ret);
	}
	atomic_inc(&dstor_live.listeners);
	list_add_tail(&l->entry, &dstor_listeners);
	/* Connections may have come in before the callback was set. */
	queue_work(dstor_srv_wq, &l->accept_work);
	return l;
}

static void listener_release(struct kref *ref)
{
	struct dstor_listener *l = container_of(ref, struct dstor_listener,
						ref);
	struct completion *released = l->released;

	kfree(l);
	atomic_dec(&dstor_live.listeners);
	if (released)
		complete(released);
}

void dstor_listener_put(struct dstor_listener *l)
{
	kref_put(&l->ref, listener_release);
}

void dstor_listener_add_export(struct dstor_listener *l,
			       struct dstor_export *exp)
{
	spin_lock(&l->lock);
	list_add_tail(&exp->lentry, &l->exports);
	spin_unlock(&l->lock);
}

/*
 * @exp goes away: it takes no new session and its sessions are closed.
 * The last export closes the listener. Drops @exp's reference to @l.
 */
void dstor_listener_del_export(struct dstor_listener *l,
			       struct dstor_export *exp)
{
	DECLARE_COMPLETION_ONSTACK(released);
	struct dstor_session *s;
	bool last;

	lockdep_assert_held(&dstor_cfg_mutex);
	spin_lock(&l->lock);
	exp->dead = true;
	list_del(&exp->lentry);
	list_for_each_entry(s, &l->sessions, entry)
		if (s->exp == exp)
			dstor_session_kill(s);
	last = list_empty(&l->exports);
	if (last)
		l->closed = true;
	spin_unlock(&l->lock);
	if (!last) {
		dstor_listener_put(l);
		return;
	}
	/*
	 * The last export: stop accepting, and wait until every session the
	 * listener accepted is freed, its socket released (kernel sockets do
	 * not hold their namespace, which may be going away).
	 */
	listener_close(l);
	l->released = &released;
	dstor_listener_put(l);
	wait_for_completion(&released);
}

/* Read-only for this peer? */
static bool session_read_only(struct dstor_session *s, u8 perm)
{
	return s->want_ro || (s->exp->flags & DSTOR_F_READ_ONLY) ||
	       perm == DSTOR_PERM_RO;
}

/*
 * The export's access list changed: re-check every connected peer. A peer
 * now refused is disconnected; one now read-only gets write errors.
 */
void dstor_listener_recheck(struct dstor_listener *l,
			    struct dstor_export *exp)
{
	struct dstor_session *s;
	u8 perm;

	spin_lock(&l->lock);
	list_for_each_entry(s, &l->sessions, entry) {
		if (s->exp != exp)
			continue;
		perm = dstor_acl_check(&exp->acl, &s->peer);
		if (!perm)
			dstor_session_kill(s);
		else
			WRITE_ONCE(s->read_only, session_read_only(s, perm));
	}
	spin_unlock(&l->lock);
}

/* ---- the registry ---- */

/*
 * The HELLO in s->hs names export @name: find it and check the peer's
 * address and key against it. Returns the HELLO_REPLY status; with
 * DSTOR_ST_OK the session holds the export, its key and its access.
 */
u16 dstor_listener_attach(struct dstor_session *s, const char *name)
{
	const struct dstor_hello *hello = &s->hs.hello;
	struct dstor_listener *l = s->listener;
	bool auth = hello->flags & DSTOR_HELLO_AUTH;
	struct dstor_export *exp;
	u16 status = DSTOR_ST_NOEXPORT;
	u8 perm;

	spin_lock(&l->lock);
	list_for_each_entry(exp, &l->exports, lentry) {
		if (exp->dead || strcmp(exp->name, name))
			continue;
		perm = dstor_acl_check(&exp->acl, &s->peer);
		if (!perm) {
			dstor_stat_add(&exp->stats, DSTOR_STAT_ACL_DENIED, 1);
			net_info_ratelimited("export %s: refused %pISpc (not in its access list)\n",
					     exp->name, &s->peer);
			status = DSTOR_ST_DENIED;
			break;
		}
		kref_get(&exp->ref);
		s->exp = exp;
		s->key = exp->key;
		s->want_ro = hello->flags & DSTOR_HELLO_READ_ONLY;
		s->read_only = session_read_only(s, perm);
		s->id = hello->session;
		s->queue = hello->queue;
		status = DSTOR_ST_OK;
		if (s->key.set != auth) {
			dstor_session_auth_failed(s, s->key.set ?
						  "the importer has no key" :
						  "the export has no key");
			status = DSTOR_ST_AUTH;
		} else if (auth && !dstor_crypto_pick(hello->ciphers)) {
			dstor_session_auth_failed(s, "no cipher in common");
			status = DSTOR_ST_AUTH;
		}
		break;
	}
	spin_unlock(&l->lock);
	return status;
}

static struct dstor_host *host_find(struct dstor_listener *l,
				    const struct sockaddr_storage *addr)
{
	struct dstor_host *h;

	hash_for_each_possible(l->hosts, h, node, dstor_addr_hash(addr))
		if (dstor_addr_equal(&h->addr, addr))
			return h;
	return NULL;
}

static u32 id_key(u64 id, u16 queue)
{
	return (u32)(id ^ (id >> 32)) ^ queue;
}

static bool same_conn(const struct dstor_session *a,
		      const struct dstor_session *b)
{
	return a != b && a->exp == b->exp && a->id == b->id &&
	       a->queue == b->queue;
}

/* @s no longer counts against the limits; the listener's lock held. */
static void uncount(struct dstor_session *s)
{
	struct dstor_host *host = s->host;

	if (!s->counted)
		return;
	s->counted = false;
	s->exp->nr_sessions--;
	if (!--host->nr) {
		hash_del(&host->node);
		kfree(host);
	}
	s->host = NULL;
}

/*
 * The importer is who it says (its key proven, if the export has one):
 * admit the session within the limits. Older sessions of the same importer
 * connection are ended first and no longer count, so a reconnecting
 * importer is never refused for the connection it replaces (they end
 * even if this one is refused after all: for want of memory). With
 * DSTOR_ST_OK, *wait says whether they are still there: the session then
 * serves only when the last of them is freed (dstor_listener_release).
 * Returns the HELLO_REPLY status.
 */
u16 dstor_listener_admit(struct dstor_session *s, bool *wait)
{
	struct dstor_host *host, *spare = kzalloc(sizeof(*spare), GFP_NOIO);
	struct dstor_listener *l = s->listener;
	struct dstor_export *exp = s->exp;
	struct dstor_session *o;
	u16 status = DSTOR_ST_OK;
	unsigned int n = 0;

	*wait = false;
	spin_lock(&l->lock);
	if (exp->dead) {
		status = DSTOR_ST_NOEXPORT;
		goto out;
	}
	hash_for_each_possible(l->by_id, o, id_node, id_key(s->id, s->queue)) {
		if (!same_conn(o, s))
			continue;
		dstor_session_kill(o);
		uncount(o);
		n++;
	}
	host = host_find(l, &s->peer);
	if (exp->nr_sessions >= dstor_export_max_sessions(exp)) {
		status = DSTOR_ST_LIMIT_EXPORT;
	} else if ((host ? host->nr : 0) >= READ_ONCE(dstor_max_host_sessions)) {
		status = DSTOR_ST_LIMIT_HOST;
	} else if (!host && !spare) {
		status = DSTOR_ST_BUSY;
	} else {
		if (!host) {
			host = spare;
			spare = NULL;
			host->addr = s->peer;
			hash_add(l->hosts, &host->node, dstor_addr_hash(&s->peer));
		}
		host->nr++;
		s->host = host;
		exp->nr_sessions++;
		s->counted = true;
		s->attached = true;
		s->pending = false;
		l->nr_pending--;
		hash_add(l->by_id, &s->id_node, id_key(s->id, s->queue));
		if (n)
			s->state = DSTOR_SESSION_DRAINING;
		*wait = n;
	}
out:
	spin_unlock(&l->lock);
	kfree(spare);
	if (status == DSTOR_ST_LIMIT_EXPORT || status == DSTOR_ST_LIMIT_HOST) {
		dstor_stat_add(&exp->stats, DSTOR_STAT_REFUSED, 1);
		net_info_ratelimited("export %s: refused %pISpc: %s session limit reached\n",
				     exp->name, &s->peer,
				     status == DSTOR_ST_LIMIT_HOST ?
				     "the per-host" : "the export's");
	}
	return status;
}

/* The session is closed: it no longer counts, and takes nothing new. */
void dstor_listener_detach(struct dstor_session *s)
{
	struct dstor_listener *l = s->listener;

	spin_lock(&l->lock);
	s->closed = true;
	list_del(&s->entry);
	if (s->pending)
		l->nr_pending--;
	s->pending = false;
	uncount(s);
	spin_unlock(&l->lock);
}

/*
 * When was the importer of @s last heard on its queue 0 (same export and
 * session id, from any address: connections of one importer may leave
 * from different ones)? The newest of every such session still in the
 * registry: one on its way out while queue 0 reconnects, one waiting for
 * it to drain, or one holding a request back (heard now). False if none.
 */
bool dstor_listener_lead_heard(struct dstor_session *s, unsigned long *when)
{
	struct dstor_listener *l = s->listener;
	struct dstor_session *o;
	bool found = false;

	spin_lock(&l->lock);
	hash_for_each_possible(l->by_id, o, id_node, id_key(s->id, 0)) {
		unsigned long t;

		if (o->exp != s->exp || o->id != s->id || o->queue)
			continue;
		/* Holding a request back counts as heard, while it serves. */
		t = !o->closed &&
		    !test_bit(DSTOR_CONN_FAILED, &o->conn->flags) &&
		    test_bit(DSTOR_CONN_HOLDING, &o->conn->flags) ? jiffies :
		    READ_ONCE(o->conn->last_rx);
		if (!found || time_after(t, *when))
			*when = t;
		found = true;
	}
	spin_unlock(&l->lock);
	return found;
}

/*
 * The session is gone, every request of it completed: if a newer session
 * of the same importer connection waits for nothing else, return it (held)
 * to start serving.
 */
struct dstor_session *dstor_listener_release(struct dstor_session *s)
{
	struct dstor_listener *l = s->listener;
	struct dstor_session *o, *next = NULL;
	unsigned int n = 0;

	if (!s->attached)
		return NULL;
	spin_lock(&l->lock);
	hash_del(&s->id_node);
	hash_for_each_possible(l->by_id, o, id_node, id_key(s->id, s->queue)) {
		if (!same_conn(o, s))
			continue;
		n++;
		if (o->state == DSTOR_SESSION_DRAINING)
			next = o;
	}
	if (n != 1)
		next = NULL;	/* others are still on their way out */
	/* A successor failed meanwhile, or being freed, serves nothing. */
	if (next && (next->closed ||
		     test_bit(DSTOR_CONN_FAILED, &next->conn->flags) ||
		     !kref_get_unless_zero(&next->ref)))
		next = NULL;
	if (next)	/* release: session_silent() reads ka_lead after it */
		smp_store_release(&next->state, DSTOR_SESSION_SERVING);
	spin_unlock(&l->lock);
	return next;
}

/* A new session may take a handshake slot; false: drop the connection. */
bool dstor_listener_add_session(struct dstor_listener *l,
				struct dstor_session *s)
{
	bool ok;

	spin_lock(&l->lock);
	ok = !l->closed && l->nr_pending < DSTOR_MAX_PENDING;
	if (ok) {
		l->nr_pending++;
		s->pending = true;
		list_add_tail(&s->entry, &l->sessions);
		kref_get(&l->ref);
	}
	spin_unlock(&l->lock);
	return ok;
}
