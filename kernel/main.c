// SPDX-License-Identifier: GPL-2.0
/*
 * dstor: export block devices over TCP and import them as /dev/dstorN.
 *
 * This file is only the module's init/exit ladder.
 */
#include <linux/module.h>
#include <linux/mempool.h>
#include <net/genetlink.h>

#include "dstor.h"

/* Serialises configuration; see dstor.h. */
DEFINE_MUTEX(dstor_cfg_mutex);
struct workqueue_struct *dstor_rx_wq;
struct workqueue_struct *dstor_ctl_wq;
struct workqueue_struct *dstor_io_wq;
struct workqueue_struct *dstor_srv_wq;
struct bio_set dstor_srv_bioset;
mempool_t *dstor_page_pool;
int dstor_major;
struct dstor_leak_counts dstor_live;

/* Pages kept in reserve for exporter requests: two maximal requests. */
#define DSTOR_PAGE_RESERVE	(2 * DSTOR_MAX_IO / PAGE_SIZE)

static void dstor_check_leaks(void)
{
	int exports = atomic_read(&dstor_live.exports);
	int listeners = atomic_read(&dstor_live.listeners);
	int sessions = atomic_read(&dstor_live.sessions);
	int reqs = atomic_read(&dstor_live.srv_reqs);
	int imports = atomic_read(&dstor_live.imports);

	if (exports || listeners || sessions || reqs || imports)
		pr_err("leaked objects: %d exports, %d listeners, %d sessions, %d requests, %d imports\n",
		       exports, listeners, sessions, reqs, imports);
}

static int __init dstor_init(void)
{
	int ret;

	dstor_major = register_blkdev(0, "dstor");
	if (dstor_major < 0)
		return dstor_major;

	ret = -ENOMEM;
	/* Long-running importer receive loops; they may carry writeback. */
	dstor_rx_wq = alloc_workqueue("dstor_rx", WQ_UNBOUND | WQ_MEM_RECLAIM,
				      0);
	if (!dstor_rx_wq)
		goto err_blkdev;
	dstor_ctl_wq = alloc_workqueue("dstor_ctl",
				       WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!dstor_ctl_wq)
		goto err_rx_wq;
	dstor_io_wq = alloc_workqueue("dstor_io", WQ_MEM_RECLAIM | WQ_HIGHPRI,
				      0);
	if (!dstor_io_wq)
		goto err_ctl_wq;
	dstor_srv_wq = alloc_workqueue("dstor_srv", WQ_UNBOUND, 0);
	if (!dstor_srv_wq)
		goto err_io_wq;
	dstor_page_pool = mempool_create_page_pool(DSTOR_PAGE_RESERVE, 0);
	if (!dstor_page_pool)
		goto err_srv_wq;
	ret = dstor_session_init();
	if (ret)
		goto err_pool;
	ret = dstor_crypto_init();
	if (ret)
		goto err_session;
	ret = dstor_mcast_init();
	if (ret)
		goto err_crypto;
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
err_crypto:
	dstor_crypto_exit();
err_session:
	dstor_session_exit();
err_pool:
	mempool_destroy(dstor_page_pool);
err_srv_wq:
	destroy_workqueue(dstor_srv_wq);
err_io_wq:
	destroy_workqueue(dstor_io_wq);
err_ctl_wq:
	destroy_workqueue(dstor_ctl_wq);
err_rx_wq:
	destroy_workqueue(dstor_rx_wq);
err_blkdev:
	unregister_blkdev(dstor_major, "dstor");
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

	/* Drains every loop that was still returning. */
	destroy_workqueue(dstor_srv_wq);
	dstor_crypto_exit();
	destroy_workqueue(dstor_ctl_wq);
	destroy_workqueue(dstor_io_wq);
	destroy_workqueue(dstor_rx_wq);
	dstor_session_exit();
	mempool_destroy(dstor_page_pool);
	unregister_blkdev(dstor_major, "dstor");
	rcu_barrier();	/* access lists freed with kfree_rcu() */
	dstor_check_leaks();
	pr_info("unloaded\n");
}

module_init(dstor_init);
module_exit(dstor_exit);

MODULE_DESCRIPTION("dstor: network block device exports and imports over TCP");
MODULE_AUTHOR("The dstor developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1.0");
MODULE_ALIAS_GENL_FAMILY(DSTOR_GENL_NAME);
