// SPDX-License-Identifier: GPL-2.0
/*
 * Multicast serving of an export (Documentation/multicast.md): the merkle
 * tree, the MLD watcher, the querier and the carousel sender.
 */
#include "dstor.h"

int dstor_mcast_start(struct dstor_export *exp, struct net *net,
		      const struct dstor_mcast_cfg *cfg,
		      struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG_MOD(extack, "multicast serving is not implemented yet");
	return -EOPNOTSUPP;
}

void dstor_mcast_stop(struct dstor_export *exp)
{
}

int dstor_mcast_fill(struct sk_buff *skb, struct dstor_export *exp)
{
	return 0;
}

int dstor_mcast_init(void)
{
	return 0;
}

void dstor_mcast_exit(void)
{
}
