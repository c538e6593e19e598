/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of the generic netlink control plane share: netlink.c
 * has the family, its policies and ops table; netlink_sync.c the handlers
 * of the sync commands.
 */
#ifndef _DSTOR_NETLINK_H
#define _DSTOR_NETLINK_H

#include <net/genetlink.h>

extern struct genl_family dstor_genl_family;

const u8 *dstor_nl_key(struct genl_info *info);
int dstor_nl_key_usable(struct genl_info *info);

int dstor_nl_sync_add(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_sync_del(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_sync_get(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_sync_dump(struct sk_buff *skb, struct netlink_callback *cb);

#endif /* _DSTOR_NETLINK_H */
