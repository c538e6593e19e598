// SPDX-License-Identifier: GPL-2.0
/*
 * Receiving an export served by multicast into a local block device
 * (Documentation/multicast.md): dstor sync.
 */
#include <net/genetlink.h>

#include "dstor.h"

int dstor_nl_sync_add(struct sk_buff *skb, struct genl_info *info)
{
	NL_SET_ERR_MSG_MOD(info->extack, "sync is not implemented yet");
	return -EOPNOTSUPP;
}

int dstor_nl_sync_del(struct sk_buff *skb, struct genl_info *info)
{
	return -ENOENT;
}

int dstor_nl_sync_get(struct sk_buff *skb, struct genl_info *info)
{
	return -ENOENT;
}

int dstor_nl_sync_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	return 0;
}

int dstor_sync_init(void)
{
	return 0;
}

void dstor_sync_exit(void)
{
}
