// SPDX-License-Identifier: GPL-2.0
/*
 * dstor: export block devices over TCP and import them as /dev/dstorN.
 *
 * This file is only the module's init/exit ladder, and what every part
 * shares (dstor.h).
 */
#include <linux/ctype.h>
#include <linux/module.h>

#include "conn.h"
#include "crypto.h"
#include "dstor.h"
#include "export.h"
#include "import.h"
#include "mcast.h"
#include "netlink.h"
#include "seal.h"
#include "sync.h"

/* Serialises configuration; see dstor.h. */
DEFINE_MUTEX(dstor_cfg_mutex);
struct workqueue_struct *dstor_ctrl_wq;
struct workqueue_struct *dstor_srv_wq;
struct dstor_leak_counts dstor_live;

static void dstor_check_leaks(void)
{
	int exports = atomic_read(&dstor_live.exports);
	int listeners = atomic_read(&dstor_live.listeners);
	int sessions = atomic_read(&dstor_live.sessions);
	int reqs = atomic_read(&dstor_live.srv_reqs);
	int imports = atomic_read(&dstor_live.imports);
	int conns = atomic_read(&dstor_live.conns);

	if (exports || listeners || sessions || reqs || imports || conns)
		pr_err("leaked objects: %d exports, %d listeners, %d sessions, %d requests, %d imports, %d connections\n",
		       exports, listeners, sessions, reqs, imports, conns);
}

bool dstor_name_ok(const char *name)
{
	if (!*name)
		return false;
	/* isalnum() is Latin-1's: 0xc0 and up would pass. */
	for (; *name; name++)
		if (!isascii(*name) ||
		    (!isalnum(*name) && *name != '.' && *name != '_' &&
		     *name != '-'))
			return false;
	return true;
}

static int __init dstor_init(void)
{
	int ret;

	ret = dstor_crypto_init();
	if (ret)
		return ret;
	ret = dstor_import_init();
	if (ret)
		return ret;
	ret = dstor_conn_init();
	if (ret)
		goto err_import;
	ret = -ENOMEM;
	dstor_ctrl_wq = alloc_workqueue("dstor_ctrl",
					WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!dstor_ctrl_wq)
		goto err_conn;
	dstor_srv_wq = alloc_workqueue("dstor_srv", WQ_UNBOUND, 0);
	if (!dstor_srv_wq)
		goto err_ctrl;
	ret = dstor_seal_init();
	if (ret)
		goto err_srv;
	ret = dstor_session_init();
	if (ret)
		goto err_seal;
	ret = dstor_export_init();
	if (ret)
		goto err_session;
	ret = dstor_mcast_init();
	if (ret)
		goto err_export;
	ret = dstor_sync_init();
	if (ret)
		goto err_mcast;
	ret = dstor_netlink_init();
	if (ret)
		goto err_sync;

	pr_info("loaded (protocol %d)\n", DSTOR_PROTO_VERSION);
	return 0;

err_sync:
	dstor_sync_exit();
err_mcast:
	dstor_mcast_exit();
err_export:
	dstor_export_exit();
err_session:
	dstor_session_exit();
err_seal:
	dstor_seal_exit();
err_srv:
	destroy_workqueue(dstor_srv_wq);
err_ctrl:
	destroy_workqueue(dstor_ctrl_wq);
err_conn:
	dstor_conn_exit();
err_import:
	dstor_import_exit();
	return ret;
}

static void __exit dstor_exit(void)
{
	/* No new configuration, then tear down what exists. */
	dstor_netlink_exit();
	dstor_sync_exit();
	dstor_import_destroy_all();
	dstor_export_destroy_all();
	dstor_mcast_exit();

	/* Sessions free themselves from work items: let them finish. */
	destroy_workqueue(dstor_srv_wq);
	destroy_workqueue(dstor_ctrl_wq);
	dstor_export_exit();
	dstor_session_exit();
	dstor_seal_exit();
	dstor_conn_exit();
	dstor_import_exit();
	rcu_barrier();	/* access lists freed with kfree_rcu() */
	dstor_check_leaks();
	pr_info("unloaded\n");
}

module_init(dstor_init);
module_exit(dstor_exit);

MODULE_DESCRIPTION("dstor: network block device exports and imports over TCP");
MODULE_AUTHOR("The dstor developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.2.0");
MODULE_ALIAS_GENL_FAMILY(DSTOR_GENL_NAME);
