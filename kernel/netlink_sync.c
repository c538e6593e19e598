// SPDX-License-Identifier: GPL-2.0
/*
 * Netlink for syncs: the policies (the handlers are in sync.c for now).
 */
#include <net/genetlink.h>

#include "netlink.h"

static const struct nla_policy sync_mcast_policy[DSTOR_A_MCAST_MAX + 1] = {
	[DSTOR_A_MCAST_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[DSTOR_A_MCAST_ROOT] = NLA_POLICY_EXACT_LEN(DSTOR_MC_HASH_LEN),
};
const struct nla_policy dstor_nl_sync_add_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
	[DSTOR_A_DEVICE] = { .type = NLA_NUL_STRING, .len = DSTOR_PATH_MAX - 1 },
	[DSTOR_A_MCAST] = NLA_POLICY_NESTED(sync_mcast_policy),
	[DSTOR_A_KEY] = NLA_POLICY_EXACT_LEN(DSTOR_KEY_LEN),
};
const struct nla_policy dstor_nl_sync_index_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_INDEX] = { .type = NLA_U32 },
};
