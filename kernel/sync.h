/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Receiving a multicast export into a local block device (sync.c).
 */
#ifndef _DSTOR_SYNC_H
#define _DSTOR_SYNC_H

int dstor_sync_init(void);
void dstor_sync_exit(void);

#endif /* _DSTOR_SYNC_H */
