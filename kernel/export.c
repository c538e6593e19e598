// SPDX-License-Identifier: GPL-2.0
/*
 * Exports and their listeners.
 *
 * An export is a named block device served to importers. Exports that name
 * the same address and port in the same network namespace share a listener;
 * the importer's hello picks the export by name. A listener's accept loop
 * runs as a long work item on dstor_srv_wq and hands each new connection to a
 * session (session.c).
 *
 * Lifetime: the configuration path (under dstor_cfg_mutex) creates and
 * destroys exports and listeners. Deleting an export marks it dead under the
 * listener's lock (so no new session attaches), shuts down the sockets of its
 * sessions and waits until every one of them has detached; only then is the
 * backing device closed.
 *
 * An export served by multicast (mcast.c) may have no listener at all
 * (exp->listener NULL): then no session can ever attach to it.
 */
#include <linux/ctype.h>
#include <linux/in.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "dstor.h"

LIST_HEAD(dstor_exports);
static LIST_HEAD(dstor_listeners);

/* Woken whenever a session detaches from an export or a listener. */
static DECLARE_WAIT_QUEUE_HEAD(dstor_detach_wait);

struct dstor_export *dstor_export_find(const char *name)
{
	struct dstor_export *exp;

	lockdep_assert_held(&dstor_cfg_mutex);
	list_for_each_entry(exp, &dstor_exports, entry)
		if (!strcmp(exp->name, name))
			return exp;
	return NULL;
}

void dstor_listener_accept_work(struct work_struct *work)
{
	struct dstor_listener *l = container_of(work, struct dstor_listener,
						accept_work);
	struct socket *sock;
	int ret;

	while (!READ_ONCE(l->stopping)) {
		ret = kernel_accept(l->sock, &sock, 0);
		if (ret) {
			if (READ_ONCE(l->stopping) || ret == -EINVAL)
				break;
			/* Transient (aborted connection, no memory). */
			if (ret != -ECONNABORTED && ret != -EAGAIN)
				msleep(100);
			continue;
		}
		dstor_session_start(l, sock);
	}
}

static int listener_open(struct dstor_listener *l,
			 struct netlink_ext_ack *extack)
{
	struct socket *sock;
	int ret;

	ret = sock_create_kern(l->net, l->addr.ss.ss_family, SOCK_STREAM,
			       IPPROTO_TCP, &sock);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "cannot create the listening socket");
		return ret;
	}
	sock_set_reuseaddr(sock->sk);
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
	ret = kernel_listen(sock, 128);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "cannot listen on the address");
		goto err;
	}
	l->sock = sock;
	return 0;
err:
	sock_release(sock);
	return ret;
}

static struct dstor_listener *listener_get(struct net *net,
					   const struct dstor_endpoint *addr,
					   struct netlink_ext_ack *extack)
{
	struct dstor_listener *l;
	int ret;

	lockdep_assert_held(&dstor_cfg_mutex);
	list_for_each_entry(l, &dstor_listeners, entry) {
		if (net_eq(l->net, net) && dstor_endpoint_equal(&l->addr, addr)) {
			l->refs++;
			return l;
		}
	}

	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return ERR_PTR(-ENOMEM);
	l->net = get_net(net);
	l->addr = *addr;
	l->refs = 1;
	mutex_init(&l->lock);
	INIT_LIST_HEAD(&l->sessions);
	INIT_LIST_HEAD(&l->exports);
	INIT_WORK(&l->accept_work, dstor_listener_accept_work);
	ret = listener_open(l, extack);
	if (ret) {
		put_net(l->net);
		kfree(l);
		return ERR_PTR(ret);
	}
	atomic_inc(&dstor_live.listeners);
	list_add_tail(&l->entry, &dstor_listeners);
	queue_work(dstor_srv_wq, &l->accept_work);
	return l;
}

static void listener_put(struct dstor_listener *l)
{
	struct dstor_session *s;

	lockdep_assert_held(&dstor_cfg_mutex);
	if (--l->refs)
		return;
	list_del(&l->entry);

	mutex_lock(&l->lock);
	WRITE_ONCE(l->stopping, true);
	mutex_unlock(&l->lock);
	/* Shutting down a listening socket wakes a blocked accept. */
	kernel_sock_shutdown(l->sock, SHUT_RDWR);
	flush_work(&l->accept_work);

	/* Sessions that never got as far as naming an export. */
	mutex_lock(&l->lock);
	list_for_each_entry(s, &l->sessions, entry)
		dstor_session_kill(s);
	mutex_unlock(&l->lock);
	wait_event(dstor_detach_wait, !READ_ONCE(l->nr_sessions));

	sock_release(l->sock);
	put_net(l->net);
	kfree(l);
	atomic_dec(&dstor_live.listeners);
}

/*
 * Called by a session's receive loop when it ends: unlink it so listener
 * and export teardown can proceed.
 */
void dstor_session_detach(struct dstor_session *s)
{
	struct dstor_listener *l = s->listener;

	mutex_lock(&l->lock);
	list_del(&s->entry);
	if (s->exp)
		WRITE_ONCE(s->exp->nr_sessions, s->exp->nr_sessions - 1);
	if (s->pending)
		l->nr_pending--;
	WRITE_ONCE(l->nr_sessions, l->nr_sessions - 1);
	WRITE_ONCE(l->detach_seq, l->detach_seq + 1);
	mutex_unlock(&l->lock);
	/*
	 * The waiters may free @l and the export as soon as they see the
	 * counts drop; the wait queue is static, so this is safe.
	 */
	wake_up_all(&dstor_detach_wait);
}

/*
 * Attach a session to the export its hello names. Returns the hello status
 * to answer with.
 */
/* Read-only for this peer? Called with the listener's lock held. */
static bool session_read_only(struct dstor_session *s, u8 perm)
{
	return s->want_ro || (s->exp->flags & DSTOR_F_READ_ONLY) ||
	       perm == DSTOR_PERM_RO;
}

u16 dstor_session_attach(struct dstor_session *s, const char *name,
			 bool want_ro, u64 id, u16 queue)
{
	struct dstor_listener *l = s->listener;
	struct dstor_export *exp;
	u16 status = DSTOR_ST_NOEXPORT;
	u8 perm;

	mutex_lock(&l->lock);
	list_for_each_entry(exp, &l->exports, lentry) {
		if (exp->dead || strcmp(exp->name, name))
			continue;
		perm = dstor_acl_check(&exp->acl, &s->peer);
		if (!perm) {
			dstor_stat_add(&exp->stats, DSTOR_STAT_ACL_DENIED, 1);
			net_info_ratelimited("dstor: export %s: refused %pISc (not in its access list)\n",
					     exp->name, &s->peer);
			status = DSTOR_ST_DENIED;
			break;
		}
		s->exp = exp;
		s->id = id;
		s->queue = queue;
		s->want_ro = want_ro;
		s->read_only = session_read_only(s, perm);
		s->key = exp->key;
		WRITE_ONCE(exp->nr_sessions, exp->nr_sessions + 1);
		status = DSTOR_ST_OK;
		break;
	}
	mutex_unlock(&l->lock);
	return status;
}

/*
 * The export's access list changed: re-check every connected peer.
 * A peer now refused is disconnected; one now read-only gets write errors.
 */
static void export_recheck(struct dstor_export *exp)
{
	struct dstor_listener *l = exp->listener;
	struct dstor_session *s;
	u8 perm;

	if (!l)
		return;
	mutex_lock(&l->lock);
	list_for_each_entry(s, &l->sessions, entry) {
		if (s->exp != exp)
			continue;
		perm = dstor_acl_check(&exp->acl, &s->peer);
		if (!perm)
			dstor_session_kill(s);
		else
			WRITE_ONCE(s->read_only, session_read_only(s, perm));
	}
	mutex_unlock(&l->lock);
}

int dstor_export_acl(struct dstor_export *exp,
		     const struct dstor_acl_entry *e, bool del,
		     struct netlink_ext_ack *extack)
{
	int ret;

	lockdep_assert_held(&dstor_cfg_mutex);
	ret = dstor_acl_update(&exp->acl, e, del, extack);
	if (!ret)
		export_recheck(exp);
	return ret;
}

void dstor_export_set_key(struct dstor_export *exp, const u8 *key)
{
	struct dstor_listener *l = exp->listener;

	lockdep_assert_held(&dstor_cfg_mutex);
	/* Multicast keeps the key it started with (Documentation/multicast.md). */
	if (l)
		mutex_lock(&l->lock);
	if (memchr_inv(key, 0, DSTOR_KEY_LEN)) {
		memcpy(exp->key.key, key, DSTOR_KEY_LEN);
		dstor_key_id(key, exp->key.id);
		exp->key.set = true;
	} else {
		memzero_explicit(&exp->key, sizeof(exp->key));
	}
	if (l)
		mutex_unlock(&l->lock);
}

/*
 * An importer reconnected: end its older sessions for the same connection
 * and wait until they are gone, every bio they submitted completed. Only
 * then may the new session serve the requests the importer resends, so an
 * old write can never land on top of a newer one.
 */
void dstor_session_supersede(struct dstor_session *s)
{
	struct dstor_listener *l = s->listener;
	struct dstor_session *o;
	unsigned int seq;
	bool found;

	for (;;) {
		found = false;
		mutex_lock(&l->lock);
		seq = l->detach_seq;
		list_for_each_entry(o, &l->sessions, entry) {
			if (o == s || o->exp != s->exp || o->id != s->id ||
			    o->queue != s->queue)
				continue;
			dstor_session_kill(o);
			found = true;
		}
		mutex_unlock(&l->lock);
		if (!found)
			return;
		wait_event(dstor_detach_wait, READ_ONCE(l->detach_seq) != seq);
	}
}

static bool export_name_ok(const char *name)
{
	if (!*name)
		return false;
	for (; *name; name++)
		if (!isalnum(*name) && *name != '.' && *name != '_' &&
		    *name != '-')
			return false;
	return true;
}

static void bdev_open_error(int ret, struct netlink_ext_ack *extack)
{
	switch (ret) {
	case -ENOENT:
		NL_SET_ERR_MSG_MOD(extack, "no such device");
		break;
	case -ENOTBLK:
		NL_SET_ERR_MSG_MOD(extack, "not a block device");
		break;
	case -EBUSY:
		NL_SET_ERR_MSG_MOD(extack,
				   "device is in use (mounted, held by another driver, or exported already)");
		break;
	case -EACCES:
	case -EROFS:
		NL_SET_ERR_MSG_MOD(extack,
				   "device is read-only: export it with the read-only flag");
		break;
	default:
		NL_SET_ERR_MSG_MOD(extack, "cannot open the device");
		break;
	}
}

int dstor_export_add(struct net *net, const char *name, const char *path,
		     const struct dstor_endpoint *listen, u32 flags,
		     const u8 *key, struct dstor_acl *acl,
		     const struct dstor_mcast_cfg *mcast,
		     struct netlink_ext_ack *extack)
{
	struct dstor_listener *l = NULL;
	struct dstor_export *exp;
	int ret;

	lockdep_assert_held(&dstor_cfg_mutex);
	ret = -EINVAL;
	if (!export_name_ok(name)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "export name may use only letters, digits, '.', '_' and '-'");
		goto err_acl;
	}
	ret = -EEXIST;
	if (dstor_export_find(name)) {
		NL_SET_ERR_MSG_MOD(extack, "an export of that name exists");
		goto err_acl;
	}

	ret = -ENOMEM;
	exp = kzalloc(sizeof(*exp), GFP_KERNEL);
	if (!exp)
		goto err_acl;
	strscpy(exp->name, name, sizeof(exp->name));
	strscpy(exp->path, path, sizeof(exp->path));
	exp->flags = flags;
	if (key) {
		memcpy(exp->key.key, key, DSTOR_KEY_LEN);
		dstor_key_id(key, exp->key.id);
		exp->key.set = true;
	}

	ret = dstor_bdev_open(&exp->bdev, path, !(flags & DSTOR_F_READ_ONLY),
			      exp);
	if (ret) {
		bdev_open_error(ret, extack);
		goto err_free;
	}
	exp->size = bdev_nr_bytes(exp->bdev.bdev);
	if (exp->size < bdev_logical_block_size(exp->bdev.bdev)) {
		NL_SET_ERR_MSG_MOD(extack, "device is empty");
		ret = -EINVAL;
		goto err_close;
	}

	if (mcast) {
		ret = dstor_mcast_start(exp, net, mcast, extack);
		if (ret)
			goto err_close;
	}
	if (listen) {
		l = listener_get(net, listen, extack);
		if (IS_ERR(l)) {
			ret = PTR_ERR(l);
			goto err_mcast;
		}
	}
	exp->listener = l;
	/* The access list is in place before the first peer can come. */
	RCU_INIT_POINTER(exp->acl, acl);
	if (l) {
		mutex_lock(&l->lock);
		list_add_tail(&exp->lentry, &l->exports);
		mutex_unlock(&l->lock);
	}
	list_add_tail(&exp->entry, &dstor_exports);
	atomic_inc(&dstor_live.exports);
	return 0;

err_mcast:
	dstor_mcast_stop(exp);
err_close:
	dstor_bdev_close(&exp->bdev);
err_free:
	memzero_explicit(&exp->key, sizeof(exp->key));
	kfree(exp);
err_acl:
	kfree(acl);
	return ret;
}

static void export_destroy(struct dstor_export *exp)
{
	struct dstor_listener *l = exp->listener;
	struct dstor_session *s;

	lockdep_assert_held(&dstor_cfg_mutex);
	list_del(&exp->entry);
	/* Multicast reads the device too: it stops first. */
	dstor_mcast_stop(exp);

	if (l) {
		mutex_lock(&l->lock);
		exp->dead = true;
		list_del(&exp->lentry);
		list_for_each_entry(s, &l->sessions, entry)
			if (s->exp == exp)
				dstor_session_kill(s);
		mutex_unlock(&l->lock);

		/* Requests already at the backing device complete first. */
		wait_event(dstor_detach_wait, !READ_ONCE(exp->nr_sessions));
		listener_put(l);
	}
	dstor_bdev_close(&exp->bdev);
	dstor_acl_free(&exp->acl);
	memzero_explicit(&exp->key, sizeof(exp->key));
	kfree(exp);
	atomic_dec(&dstor_live.exports);
}

int dstor_export_del(const char *name, struct netlink_ext_ack *extack)
{
	struct dstor_export *exp;

	lockdep_assert_held(&dstor_cfg_mutex);
	exp = dstor_export_find(name);
	if (!exp) {
		NL_SET_ERR_MSG_MOD(extack, "no export of that name");
		return -ENOENT;
	}
	export_destroy(exp);
	return 0;
}

void dstor_export_destroy_all(void)
{
	struct dstor_export *exp, *tmp;

	mutex_lock(&dstor_cfg_mutex);
	list_for_each_entry_safe(exp, tmp, &dstor_exports, entry)
		export_destroy(exp);
	mutex_unlock(&dstor_cfg_mutex);
}
