/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every part of the module shares (main.c): the configuration
 * mutex, the control workqueue and the live-object counts.
 */
#ifndef _DSTOR_H
#define _DSTOR_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <uapi/linux/dstor.h>

/*
 * dstor_cfg_mutex serialises configuration: the lists of exports,
 * listeners and imports and every object's add and delete. Data paths
 * never take it.
 */
extern struct mutex dstor_cfg_mutex;

/*
 * Work that may sleep but never waits on a socket: import controllers
 * (dstor_ctrl_wq, in the reclaim path of the imports' writeback), and the
 * exporter's accepting, closing and freeing sessions and building discard
 * and write-zeroes bios (dstor_srv_wq).
 */
extern struct workqueue_struct *dstor_ctrl_wq;
extern struct workqueue_struct *dstor_srv_wq;

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
	atomic_t conns;
};

extern struct dstor_leak_counts dstor_live;

/* A name of an export or an import: letters, digits, '.', '_', '-'. */
bool dstor_name_ok(const char *name);
/* The extack message for a name dstor_name_ok() refuses. */
#define DSTOR_NAME_RULE \
	"export name may use only letters, digits, '.', '_' and '-' (1 to 63 of them)"

#endif /* _DSTOR_H */
