// SPDX-License-Identifier: GPL-2.0
/*
 * Exports: named block devices served to importers over TCP (through a
 * listener, listener.c) and/or by multicast (mcast.c).
 *
 * Names are unique within a network namespace; an export belongs to the
 * namespace of the netlink socket that created it and is invisible from
 * the others. Each export has an identity, a UUID made at `export add` (or
 * given, for an export that must survive an exporter reboot), which the
 * importer checks on every reconnect.
 *
 * Deleting an export marks it dead (no session attaches any more), closes
 * its sessions, and waits for its last reference: sessions hold it until
 * every bio they submitted has completed, so the backing device is closed
 * only when nothing of the export is in flight, and can be exported again
 * at once.
 */
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/uuid.h>

#include "acl.h"
#include "dstor.h"
#include "export.h"
#include "mcast.h"
#include "tree.h"

LIST_HEAD(dstor_exports);

struct dstor_export *dstor_export_find(struct net *net, const char *name)
{
	struct dstor_export *exp;

	lockdep_assert_held(&dstor_cfg_mutex);
	list_for_each_entry(exp, &dstor_exports, entry)
		if (net_eq(exp->net, net) && !strcmp(exp->name, name))
			return exp;
	return NULL;
}

static void export_release(struct kref *ref)
{
	struct dstor_export *exp = container_of(ref, struct dstor_export, ref);
	struct completion *released = exp->released;

	dstor_tree_free_slot(exp);
	dstor_bdev_close(&exp->bdev);
	dstor_acl_free(&exp->acl);
	memzero_explicit(&exp->key, sizeof(exp->key));
	kfree(exp);
	atomic_dec(&dstor_live.exports);
	if (released)
		complete(released);
}

void dstor_export_put(struct dstor_export *exp)
{
	kref_put(&exp->ref, export_release);
}

int dstor_export_acl(struct dstor_export *exp,
		     const struct dstor_acl_entry *e, bool del,
		     struct netlink_ext_ack *extack)
{
	int ret;

	lockdep_assert_held(&dstor_cfg_mutex);
	ret = dstor_acl_update(&exp->acl, e, del, extack);
	if (!ret && exp->listener)
		dstor_listener_recheck(exp->listener, exp);
	return ret;
}

/* A new key for new sessions; NULL or all zero bytes: no key. */
void dstor_export_set_key(struct dstor_export *exp, const u8 *key)
{
	struct dstor_listener *l = exp->listener;

	lockdep_assert_held(&dstor_cfg_mutex);
	if (key && !memchr_inv(key, 0, DSTOR_KEY_LEN))
		key = NULL;
	/* Multicast keeps the key it started with (Documentation/multicast.md). */
	if (!l) {
		dstor_key_set(&exp->key, key);
		return;
	}
	spin_lock(&l->lock);	/* sessions take it at their hello */
	dstor_key_set(&exp->key, key);
	spin_unlock(&l->lock);
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

int dstor_export_add(struct net *net, const struct dstor_export_cfg *cfg,
		     struct dstor_acl *acl, struct netlink_ext_ack *extack)
{
	struct dstor_listener *l = NULL;
	struct dstor_export *exp;
	int ret;

	lockdep_assert_held(&dstor_cfg_mutex);
	ret = -EINVAL;
	if (!dstor_name_ok(cfg->name)) {
		NL_SET_ERR_MSG_MOD(extack, DSTOR_NAME_RULE);
		goto err_acl;
	}
	ret = -EEXIST;
	if (dstor_export_find(net, cfg->name)) {
		NL_SET_ERR_MSG_MOD(extack, "an export of that name exists");
		goto err_acl;
	}

	ret = -ENOMEM;
	exp = kzalloc(sizeof(*exp), GFP_KERNEL);
	if (!exp)
		goto err_acl;
	kref_init(&exp->ref);
	mutex_init(&exp->tree.lock);
	strscpy(exp->name, cfg->name, sizeof(exp->name));
	strscpy(exp->path, cfg->path, sizeof(exp->path));
	exp->flags = cfg->flags;
	exp->max_sessions = cfg->max_sessions;
	dstor_key_set(&exp->key, cfg->key);
	if (cfg->uuid)
		memcpy(exp->uuid, cfg->uuid, DSTOR_UUID_LEN);
	else
		generate_random_uuid(exp->uuid);
	exp->incarnation = get_random_u64();

	ret = dstor_bdev_open(&exp->bdev, cfg->path,
			      !(cfg->flags & DSTOR_F_READ_ONLY), exp);
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

	/* A multicast export's tree is the sender's: it publishes it. */
	if (cfg->mcast && cfg->tree && cfg->tree_block_size &&
	    cfg->tree_block_size != cfg->mcast->block_size) {
		NL_SET_ERR_MSG_MOD(extack,
				   "a multicast export's tree has the multicast block size");
		ret = -EINVAL;
		goto err_close;
	}
	if (cfg->mcast || cfg->tree) {
		ret = dstor_tree_start(exp, cfg->mcast ? cfg->mcast->block_size :
				       cfg->tree_block_size ?: DSTOR_MC_DEFAULT_BLOCK,
				       !cfg->mcast, extack);
		if (ret)
			goto err_close;
	}
	if (cfg->mcast) {
		ret = dstor_mcast_start(exp, net, cfg->mcast, extack);
		if (ret)
			goto err_tree;
	}
	if (cfg->listen) {
		l = dstor_listener_get(net, cfg->listen, extack);
		if (IS_ERR(l)) {
			ret = PTR_ERR(l);
			goto err_mcast;
		}
	}
	exp->net = net;
	exp->listener = l;
	/* The access list is in place before the first peer can come. */
	RCU_INIT_POINTER(exp->acl, acl);
	if (l)
		dstor_listener_add_export(l, exp);
	list_add_tail(&exp->entry, &dstor_exports);
	atomic_inc(&dstor_live.exports);
	return 0;

err_mcast:
	dstor_mcast_stop(exp);
err_tree:
	dstor_tree_stop(exp);
	dstor_tree_free_slot(exp);
err_close:
	dstor_bdev_close(&exp->bdev);
err_free:
	memzero_explicit(&exp->key, sizeof(exp->key));
	kfree(exp);
err_acl:
	kfree(acl);
	return ret;
}

/*
 * Delete @exp and wait until nothing of it is left: every session closed,
 * every request completed, the device closed. cfg mutex held.
 */
int dstor_export_del(struct dstor_export *exp)
{
	DECLARE_COMPLETION_ONSTACK(released);

	lockdep_assert_held(&dstor_cfg_mutex);
	list_del(&exp->entry);
	/* Multicast and the tree's builder read the device too: they stop first. */
	dstor_mcast_stop(exp);
	dstor_tree_stop(exp);
	if (exp->listener)
		dstor_listener_del_export(exp->listener, exp);
	exp->released = &released;
	dstor_export_put(exp);
	wait_for_completion(&released);
	return 0;
}

/* Every export of @net, or of every namespace (@net NULL), goes. */
static void export_del_all(struct net *net)
{
	struct dstor_export *exp, *tmp;

	mutex_lock(&dstor_cfg_mutex);
	list_for_each_entry_safe(exp, tmp, &dstor_exports, entry) {
		if (net && !net_eq(exp->net, net))
			continue;
		if (net)
			pr_info("export %s: its network namespace is going away: deleted\n",
				exp->name);
		dstor_export_del(exp);
	}
	mutex_unlock(&dstor_cfg_mutex);
}

void dstor_export_destroy_all(void)
{
	export_del_all(NULL);
}

/*
 * Exports do not hold their namespace: when it goes away (its last
 * process gone, its name deleted), so do they, before its sockets do.
 */
static void __net_exit export_net_pre_exit(struct net *net)
{
	export_del_all(net);
}

static struct pernet_operations export_net_ops = {
	.pre_exit = export_net_pre_exit,
};

int dstor_export_init(void)
{
	return register_pernet_subsys(&export_net_ops);
}

void dstor_export_exit(void)
{
	unregister_pernet_subsys(&export_net_ops);
}
