// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink control plane. include/uapi/linux/dstor.h is the
 * specification of every command and attribute handled here.
 *
 * Every command has its own strict policy; values are checked there where
 * a policy can express it and in the handler otherwise, and each rejection
 * carries an extended ACK message naming what was wrong. The family runs
 * with parallel_ops: dstor_cfg_mutex, not genl_mutex, serialises us, so a
 * slow connect never stalls other netlink families.
 */
#include <linux/cpumask.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/netlink.h>

#include "dstor.h"
#include "netlink.h"

static const struct nla_policy endpoint_policy[DSTOR_A_ENDPOINT_MAX + 1] = {
	[DSTOR_A_ENDPOINT_IPV4] = NLA_POLICY_EXACT_LEN(4),
	[DSTOR_A_ENDPOINT_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[DSTOR_A_ENDPOINT_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[DSTOR_A_ENDPOINT_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* Not const: 6.1's policy takes a plain pointer. */
static struct netlink_range_validation mc_rate_range = {
	.min = DSTOR_MC_MIN_RATE,
	.max = DSTOR_MC_MAX_RATE,
};

static struct netlink_range_validation mc_block_range = {
	.min = DSTOR_MC_MIN_BLOCK,
	.max = DSTOR_MC_MAX_BLOCK,
};

static const struct nla_policy mcast_policy[DSTOR_A_MCAST_MAX + 1] = {
	[DSTOR_A_MCAST_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[DSTOR_A_MCAST_RATE] = NLA_POLICY_FULL_RANGE(NLA_U64, &mc_rate_range),
	/* a power of two: checked by dstor_mcast_start() */
	[DSTOR_A_MCAST_BLOCK_SIZE] = NLA_POLICY_FULL_RANGE(NLA_U32,
							   &mc_block_range),
	[DSTOR_A_MCAST_QUERIER] = { .type = NLA_FLAG },
};

static const struct nla_policy sync_mcast_policy[DSTOR_A_MCAST_MAX + 1] = {
	[DSTOR_A_MCAST_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[DSTOR_A_MCAST_ROOT] = NLA_POLICY_EXACT_LEN(DSTOR_MC_HASH_LEN),
};

static const struct nla_policy sync_add_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
	[DSTOR_A_DEVICE] = { .type = NLA_NUL_STRING, .len = DSTOR_PATH_MAX - 1 },
	[DSTOR_A_MCAST] = NLA_POLICY_NESTED(sync_mcast_policy),
	[DSTOR_A_KEY] = NLA_POLICY_EXACT_LEN(DSTOR_KEY_LEN),
};

static const struct nla_policy sync_index_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_INDEX] = { .type = NLA_U32 },
};

static const struct nla_policy export_add_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
	[DSTOR_A_DEVICE] = { .type = NLA_NUL_STRING, .len = DSTOR_PATH_MAX - 1 },
	[DSTOR_A_LISTEN] = NLA_POLICY_NESTED(endpoint_policy),
	[DSTOR_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, DSTOR_F_ALL),
	[DSTOR_A_KEY] = NLA_POLICY_EXACT_LEN(DSTOR_KEY_LEN),
	/* DSTOR_A_ACL items, parsed with their own policy by acls_parse() */
	[DSTOR_A_ACLS] = { .type = NLA_NESTED },
	[DSTOR_A_MCAST] = NLA_POLICY_NESTED(mcast_policy),
};

static const struct nla_policy export_set_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
	[DSTOR_A_KEY] = NLA_POLICY_EXACT_LEN(DSTOR_KEY_LEN),
};

static const struct nla_policy acl_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
	[DSTOR_A_ACL] = { .type = NLA_NESTED },
};

static const struct nla_policy set_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_CRYPTO_WORKERS] = NLA_POLICY_RANGE(NLA_U32, 1,
						    DSTOR_MAX_CRYPTO_WORKERS),
};

static const struct nla_policy export_name_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
};

#define TIMER_POLICY(min) NLA_POLICY_RANGE(NLA_U32, min, DSTOR_MAX_SECONDS)

static const struct nla_policy import_add_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
	[DSTOR_A_PEER] = NLA_POLICY_NESTED(endpoint_policy),
	[DSTOR_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, DSTOR_F_ALL),
	[DSTOR_A_CONNECTIONS] = NLA_POLICY_RANGE(NLA_U32, 1,
						 DSTOR_MAX_CONNECTIONS),
	[DSTOR_A_TIMEOUT] = TIMER_POLICY(1),
	[DSTOR_A_RETRIES] = NLA_POLICY_MAX(NLA_U32, DSTOR_MAX_RETRIES),
	[DSTOR_A_RECONNECT_MIN] = TIMER_POLICY(1),
	[DSTOR_A_RECONNECT_MAX] = TIMER_POLICY(1),
	[DSTOR_A_KEEPALIVE] = TIMER_POLICY(1),
	[DSTOR_A_DEAD_AFTER] = TIMER_POLICY(2),
	[DSTOR_A_KEY] = NLA_POLICY_EXACT_LEN(DSTOR_KEY_LEN),
};

static const struct nla_policy import_set_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_KEY] = NLA_POLICY_EXACT_LEN(DSTOR_KEY_LEN),
	[DSTOR_A_INDEX] = { .type = NLA_U32 },
	[DSTOR_A_TIMEOUT] = TIMER_POLICY(1),
	[DSTOR_A_RETRIES] = NLA_POLICY_MAX(NLA_U32, DSTOR_MAX_RETRIES),
	[DSTOR_A_RECONNECT_MIN] = TIMER_POLICY(1),
	[DSTOR_A_RECONNECT_MAX] = TIMER_POLICY(1),
	[DSTOR_A_KEEPALIVE] = TIMER_POLICY(1),
	[DSTOR_A_DEAD_AFTER] = TIMER_POLICY(2),
};

static const struct nla_policy import_id_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
	[DSTOR_A_INDEX] = { .type = NLA_U32 },
};

/* ---- attributes in and out ---- */

static int endpoint_parse(struct nlattr *nest, struct dstor_endpoint *ep,
			  struct netlink_ext_ack *extack)
{
	struct nlattr *tb[DSTOR_A_ENDPOINT_MAX + 1];
	u16 port = DSTOR_DEFAULT_PORT;
	int ret;

	ret = nla_parse_nested(tb, DSTOR_A_ENDPOINT_MAX, nest, endpoint_policy,
			       extack);
	if (ret)
		return ret;
	if (!!tb[DSTOR_A_ENDPOINT_IPV4] == !!tb[DSTOR_A_ENDPOINT_IPV6]) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "give exactly one of an IPv4 and an IPv6 address");
		return -EINVAL;
	}
	if (tb[DSTOR_A_ENDPOINT_PORT])
		port = nla_get_u16(tb[DSTOR_A_ENDPOINT_PORT]);

	memset(ep, 0, sizeof(*ep));
	if (tb[DSTOR_A_ENDPOINT_IPV4]) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ep->ss;

		if (tb[DSTOR_A_ENDPOINT_IFINDEX]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[DSTOR_A_ENDPOINT_IFINDEX],
					    "an interface scope applies to IPv6 only");
			return -EINVAL;
		}
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = nla_get_in_addr(tb[DSTOR_A_ENDPOINT_IPV4]);
		sin->sin_port = htons(port);
		ep->len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ep->ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = nla_get_in6_addr(tb[DSTOR_A_ENDPOINT_IPV6]);
		sin6->sin6_port = htons(port);
		if (tb[DSTOR_A_ENDPOINT_IFINDEX])
			sin6->sin6_scope_id =
				nla_get_u32(tb[DSTOR_A_ENDPOINT_IFINDEX]);
		if ((ipv6_addr_type(&sin6->sin6_addr) &
		     IPV6_ADDR_LINKLOCAL) && !sin6->sin6_scope_id) {
			NL_SET_ERR_MSG_ATTR(extack, nest,
					    "a link-local address needs an interface (addr%ifname)");
			return -EINVAL;
		}
		ep->len = sizeof(*sin6);
	}
	return 0;
}

static int endpoint_put(struct sk_buff *skb, int attr,
			const struct dstor_endpoint *ep)
{
	struct nlattr *nest = nla_nest_start(skb, attr);
	const struct sockaddr_in6 *sin6 = (const void *)&ep->ss;
	const struct sockaddr_in *sin = (const void *)&ep->ss;

	if (!nest)
		return -EMSGSIZE;
	if (ep->ss.ss_family == AF_INET) {
		if (nla_put_in_addr(skb, DSTOR_A_ENDPOINT_IPV4,
				    sin->sin_addr.s_addr))
			goto err;
	} else {
		if (nla_put_in6_addr(skb, DSTOR_A_ENDPOINT_IPV6,
				     &sin6->sin6_addr))
			goto err;
		if (sin6->sin6_scope_id &&
		    nla_put_u32(skb, DSTOR_A_ENDPOINT_IFINDEX,
				sin6->sin6_scope_id))
			goto err;
	}
	if (nla_put_u16(skb, DSTOR_A_ENDPOINT_PORT, dstor_endpoint_port(ep)))
		goto err;
	nla_nest_end(skb, nest);
	return 0;
err:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

int dstor_stats_put(struct sk_buff *skb, struct dstor_stats *s, u32 mask)
{
	struct nlattr *nest = nla_nest_start(skb, DSTOR_A_STATS);
	int i;

	BUILD_BUG_ON(DSTOR_A_STATS_READS + DSTOR_STAT_MAX - 1 !=
		     DSTOR_A_STATS_SYNC_CHANNELS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < DSTOR_STAT_MAX; i++) {
		if (!(mask & BIT(i)))
			continue;
		if (nla_put_u64_64bit(skb, DSTOR_A_STATS_READS + i,
				      atomic64_read(&s->c[i]),
				      DSTOR_A_STATS_PAD)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int export_fill(struct sk_buff *skb, struct dstor_export *exp,
		       u32 portid, u32 seq, int flags)
{
	void *hdr = genlmsg_put(skb, portid, seq, &dstor_genl_family, flags,
				DSTOR_CMD_EXPORT_GET);

	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_string(skb, DSTOR_A_NAME, exp->name) ||
	    nla_put_string(skb, DSTOR_A_DEVICE, exp->path) ||
	    (exp->listener &&
	     endpoint_put(skb, DSTOR_A_LISTEN, &exp->listener->addr)) ||
	    nla_put_u32(skb, DSTOR_A_FLAGS, exp->flags) ||
	    nla_put_u64_64bit(skb, DSTOR_A_SIZE, exp->size, DSTOR_A_PAD) ||
	    nla_put_u32(skb, DSTOR_A_BLOCK_SIZE,
			bdev_logical_block_size(exp->bdev.bdev)) ||
	    nla_put_u32(skb, DSTOR_A_SESSIONS, READ_ONCE(exp->nr_sessions)) ||
	    (exp->key.set && nla_put(skb, DSTOR_A_KEY_ID, DSTOR_KEY_ID_LEN,
				     exp->key.id)) ||
	    dstor_acl_put(skb, &exp->acl) ||
	    dstor_mcast_fill(skb, exp) ||
	    dstor_stats_put(skb, &exp->stats, DSTOR_STATS_EXPORT |
			    (exp->mcast ? DSTOR_STATS_MCAST : 0))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int timers_put(struct sk_buff *skb, const struct dstor_timers *t)
{
	if (nla_put_u32(skb, DSTOR_A_TIMEOUT, READ_ONCE(t->timeout)) ||
	    nla_put_u32(skb, DSTOR_A_RETRIES, READ_ONCE(t->retries)) ||
	    nla_put_u32(skb, DSTOR_A_RECONNECT_MIN,
			READ_ONCE(t->reconnect_min)) ||
	    nla_put_u32(skb, DSTOR_A_RECONNECT_MAX,
			READ_ONCE(t->reconnect_max)) ||
	    nla_put_u32(skb, DSTOR_A_KEEPALIVE, READ_ONCE(t->keepalive)) ||
	    nla_put_u32(skb, DSTOR_A_DEAD_AFTER, READ_ONCE(t->dead_after)))
		return -EMSGSIZE;
	return 0;
}

/* Fill @t from the request's timer attributes; reject what does not fit. */
static int timers_parse(struct genl_info *info, struct dstor_timers *t)
{
	struct nlattr **a = info->attrs;

	if (a[DSTOR_A_TIMEOUT])
		t->timeout = nla_get_u32(a[DSTOR_A_TIMEOUT]);
	if (a[DSTOR_A_RETRIES])
		t->retries = nla_get_u32(a[DSTOR_A_RETRIES]);
	if (a[DSTOR_A_RECONNECT_MIN])
		t->reconnect_min = nla_get_u32(a[DSTOR_A_RECONNECT_MIN]);
	if (a[DSTOR_A_RECONNECT_MAX])
		t->reconnect_max = nla_get_u32(a[DSTOR_A_RECONNECT_MAX]);
	if (a[DSTOR_A_KEEPALIVE])
		t->keepalive = nla_get_u32(a[DSTOR_A_KEEPALIVE]);
	if (a[DSTOR_A_DEAD_AFTER])
		t->dead_after = nla_get_u32(a[DSTOR_A_DEAD_AFTER]);

	if (t->reconnect_min > t->reconnect_max) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "reconnect minimum exceeds the maximum");
		return -EINVAL;
	}
	if (t->dead_after <= t->keepalive) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "dead-after must be longer than the keepalive interval");
		return -EINVAL;
	}
	return 0;
}

static const struct dstor_timers default_timers = {
	.timeout = DSTOR_DEFAULT_TIMEOUT,
	.retries = DSTOR_DEFAULT_RETRIES,
	.reconnect_min = DSTOR_DEFAULT_RECONNECT_MIN,
	.reconnect_max = DSTOR_DEFAULT_RECONNECT_MAX,
	.keepalive = DSTOR_DEFAULT_KEEPALIVE,
	.dead_after = DSTOR_DEFAULT_DEAD_AFTER,
};

static int import_key_put(struct sk_buff *skb, struct dstor_import *imp)
{
	u8 id[DSTOR_KEY_ID_LEN];
	bool set;

	spin_lock(&imp->key_lock);
	set = imp->key.set;
	memcpy(id, imp->key.id, sizeof(id));
	spin_unlock(&imp->key_lock);
	if (!set)
		return 0;
	if (nla_put(skb, DSTOR_A_KEY_ID, sizeof(id), id) ||
	    (imp->cipher && nla_put_u32(skb, DSTOR_A_CIPHER, imp->cipher)))
		return -EMSGSIZE;
	return 0;
}

static int import_fill(struct sk_buff *skb, struct dstor_import *imp,
		       u32 portid, u32 seq, int flags, u8 cmd)
{
	void *hdr = genlmsg_put(skb, portid, seq, &dstor_genl_family, flags,
				cmd);

	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, DSTOR_A_INDEX, imp->index) ||
	    nla_put_string(skb, DSTOR_A_NAME, imp->name) ||
	    endpoint_put(skb, DSTOR_A_PEER, &imp->peer) ||
	    nla_put_u32(skb, DSTOR_A_FLAGS, imp->flags) ||
	    nla_put_u64_64bit(skb, DSTOR_A_SIZE, imp->info.size, DSTOR_A_PAD) ||
	    nla_put_u32(skb, DSTOR_A_BLOCK_SIZE,
			imp->info.logical_block_size) ||
	    nla_put_u32(skb, DSTOR_A_CONNECTIONS, imp->nr_queues) ||
	    nla_put_u32(skb, DSTOR_A_CONNECTED, dstor_import_connected(imp)) ||
	    nla_put_u32(skb, DSTOR_A_STATE, dstor_import_state(imp)) ||
	    timers_put(skb, &imp->timers) ||
	    import_key_put(skb, imp) ||
	    dstor_stats_put(skb, &imp->stats, DSTOR_STATS_IMPORT)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* ---- exports ---- */

/* A key from DSTOR_A_KEY; all zero bytes are no key. */
const u8 *dstor_nl_key(struct genl_info *info)
{
	struct nlattr *a = info->attrs[DSTOR_A_KEY];

	if (!a || !memchr_inv(nla_data(a), 0, DSTOR_KEY_LEN))
		return NULL;
	return nla_data(a);
}

/* A key can only be set where this kernel has an AEAD to use it with. */
int dstor_nl_key_usable(struct genl_info *info)
{
	if (dstor_nl_key(info) && !dstor_crypto_ciphers()) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "no AEAD cipher available in this kernel: keys cannot be used");
		return -ENOPKG;
	}
	return 0;
}

/* An access list from DSTOR_A_ACLS, in the order dstor_acl wants. */
static int acls_parse(struct genl_info *info, struct dstor_acl **out)
{
	struct nlattr *list = info->attrs[DSTOR_A_ACLS], *item;
	struct dstor_acl *acl = NULL;
	struct dstor_acl_entry e;
	int rem, ret;

	*out = NULL;
	if (!list)
		return 0;
	mutex_lock(&dstor_cfg_mutex);
	nla_for_each_nested(item, list, rem) {
		if (nla_type(item) != DSTOR_A_ACL) {
			NL_SET_ERR_MSG_ATTR(info->extack, item,
					    "DSTOR_A_ACLS holds DSTOR_A_ACL items only");
			ret = -EINVAL;
		} else {
			ret = dstor_acl_parse(item, true, &e, info->extack);
		}
		if (!ret)
			ret = dstor_acl_update((struct dstor_acl __force __rcu **)&acl,
					       &e, false, info->extack);
		if (ret) {
			mutex_unlock(&dstor_cfg_mutex);
			/* Nobody has seen it: no grace period to wait for. */
			kfree(acl);
			return ret;
		}
	}
	mutex_unlock(&dstor_cfg_mutex);
	*out = acl;
	return 0;
}

/* DSTOR_A_MCAST of export add; the policy checked the ranges. */
static int mcast_parse(struct genl_info *info, u32 flags,
		       struct dstor_mcast_cfg *cfg)
{
	struct nlattr *nest = info->attrs[DSTOR_A_MCAST];
	struct nlattr *tb[DSTOR_A_MCAST_MAX + 1];
	int ret;

	ret = nla_parse_nested(tb, DSTOR_A_MCAST_MAX, nest, mcast_policy,
			       info->extack);
	if (ret)
		return ret;
	if (!tb[DSTOR_A_MCAST_IFINDEX]) {
		NL_SET_ERR_MSG_ATTR(info->extack, nest,
				    "multicast serving needs an interface (DSTOR_A_MCAST_IFINDEX)");
		return -EINVAL;
	}
	if (!(flags & DSTOR_F_READ_ONLY)) {
		NL_SET_ERR_MSG_ATTR(info->extack, nest,
				    "multicast serving needs a read-only export (--read-only)");
		return -EINVAL;
	}
	cfg->ifindex = nla_get_u32(tb[DSTOR_A_MCAST_IFINDEX]);
	cfg->rate = tb[DSTOR_A_MCAST_RATE] ?
		    nla_get_u64(tb[DSTOR_A_MCAST_RATE]) : DSTOR_MC_DEFAULT_RATE;
	cfg->block_size = tb[DSTOR_A_MCAST_BLOCK_SIZE] ?
			  nla_get_u32(tb[DSTOR_A_MCAST_BLOCK_SIZE]) :
			  DSTOR_MC_DEFAULT_BLOCK;
	cfg->querier = nla_get_flag(tb[DSTOR_A_MCAST_QUERIER]);
	return 0;
}

static int export_add(struct sk_buff *skb, struct genl_info *info)
{
	struct dstor_endpoint listen, *lp = NULL;
	struct dstor_mcast_cfg mcast, *mp = NULL;
	struct dstor_acl *acl;
	u32 flags = 0;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_NAME) ||
	    GENL_REQ_ATTR_CHECK(info, DSTOR_A_DEVICE))
		return -EINVAL;
	/* Without a listener, an export is served by multicast only. */
	if (!info->attrs[DSTOR_A_MCAST] &&
	    GENL_REQ_ATTR_CHECK(info, DSTOR_A_LISTEN))
		return -EINVAL;
	if (info->attrs[DSTOR_A_LISTEN]) {
		ret = endpoint_parse(info->attrs[DSTOR_A_LISTEN], &listen,
				     info->extack);
		if (ret)
			return ret;
		lp = &listen;
	}
	if (info->attrs[DSTOR_A_FLAGS])
		flags = nla_get_u32(info->attrs[DSTOR_A_FLAGS]);
	if (info->attrs[DSTOR_A_MCAST]) {
		ret = mcast_parse(info, flags, &mcast);
		if (ret)
			return ret;
		mp = &mcast;
	}
	ret = dstor_nl_key_usable(info);
	if (ret)
		return ret;
	ret = acls_parse(info, &acl);
	if (ret)
		return ret;

	mutex_lock(&dstor_cfg_mutex);
	ret = dstor_export_add(genl_info_net(info),
			       nla_data(info->attrs[DSTOR_A_NAME]),
			       nla_data(info->attrs[DSTOR_A_DEVICE]),
			       lp, flags, dstor_nl_key(info), acl, mp,
			       info->extack);
	mutex_unlock(&dstor_cfg_mutex);
	return ret;
}

static struct dstor_export *export_lookup(struct genl_info *info)
{
	struct dstor_export *exp;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_NAME))
		return ERR_PTR(-EINVAL);
	exp = dstor_export_find(nla_data(info->attrs[DSTOR_A_NAME]));
	if (!exp) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[DSTOR_A_NAME],
				    "no export of that name");
		return ERR_PTR(-ENOENT);
	}
	return exp;
}

static int export_set(struct sk_buff *skb, struct genl_info *info)
{
	struct dstor_export *exp;
	int ret = 0;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_KEY))
		return -EINVAL;
	ret = dstor_nl_key_usable(info);
	if (ret)
		return ret;
	mutex_lock(&dstor_cfg_mutex);
	exp = export_lookup(info);
	if (IS_ERR(exp))
		ret = PTR_ERR(exp);
	else
		dstor_export_set_key(exp, nla_data(info->attrs[DSTOR_A_KEY]));
	mutex_unlock(&dstor_cfg_mutex);
	return ret;
}

static int acl_doit(struct sk_buff *skb, struct genl_info *info, bool del)
{
	struct dstor_acl_entry e;
	struct dstor_export *exp;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_ACL))
		return -EINVAL;
	ret = dstor_acl_parse(info->attrs[DSTOR_A_ACL], !del, &e,
			      info->extack);
	if (ret)
		return ret;
	mutex_lock(&dstor_cfg_mutex);
	exp = export_lookup(info);
	if (IS_ERR(exp))
		ret = PTR_ERR(exp);
	else
		ret = dstor_export_acl(exp, &e, del, info->extack);
	mutex_unlock(&dstor_cfg_mutex);
	return ret;
}

static int acl_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	return acl_doit(skb, info, false);
}

static int acl_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	return acl_doit(skb, info, true);
}

static int acl_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct dstor_export *exp;
	struct sk_buff *msg;
	void *hdr;
	int ret = 0;

	msg = genlmsg_new(NLMSG_GOODSIZE * 4, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &dstor_genl_family, 0,
				DSTOR_CMD_ACL_GET);
	mutex_lock(&dstor_cfg_mutex);
	exp = export_lookup(info);
	if (IS_ERR(exp))
		ret = PTR_ERR(exp);
	else if (!hdr || nla_put_string(msg, DSTOR_A_NAME, exp->name) ||
		 dstor_acl_put(msg, &exp->acl))
		ret = -EMSGSIZE;
	mutex_unlock(&dstor_cfg_mutex);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int set_doit(struct sk_buff *skb, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_CRYPTO_WORKERS))
		return -EINVAL;
	return dstor_crypto_set_workers(nla_get_u32(info->attrs[DSTOR_A_CRYPTO_WORKERS]));
}

static int get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &dstor_genl_family, 0,
				DSTOR_CMD_GET);
	if (!hdr ||
	    nla_put_u32(msg, DSTOR_A_CRYPTO_WORKERS,
			dstor_crypto_workers_get()) ||
	    nla_put_u32(msg, DSTOR_A_CRYPTO_QUEUED,
			dstor_crypto_queued_get())) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int export_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_NAME))
		return -EINVAL;
	mutex_lock(&dstor_cfg_mutex);
	ret = dstor_export_del(nla_data(info->attrs[DSTOR_A_NAME]),
			       info->extack);
	mutex_unlock(&dstor_cfg_mutex);
	return ret;
}

static int export_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct dstor_export *exp;
	struct sk_buff *msg;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_NAME))
		return -EINVAL;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&dstor_cfg_mutex);
	exp = dstor_export_find(nla_data(info->attrs[DSTOR_A_NAME]));
	if (exp) {
		ret = export_fill(msg, exp, info->snd_portid, info->snd_seq, 0);
	} else {
		NL_SET_ERR_MSG_MOD(info->extack, "no export of that name");
		ret = -ENOENT;
	}
	mutex_unlock(&dstor_cfg_mutex);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

static int export_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct dstor_export *exp;
	long i = 0, start = cb->args[0];

	mutex_lock(&dstor_cfg_mutex);
	list_for_each_entry(exp, &dstor_exports, entry) {
		if (i++ < start)
			continue;
		if (export_fill(skb, exp, NETLINK_CB(cb->skb).portid,
				cb->nlh->nlmsg_seq, NLM_F_MULTI)) {
			i--;
			break;
		}
	}
	mutex_unlock(&dstor_cfg_mutex);
	cb->args[0] = i;
	return skb->len;
}

/* ---- imports ---- */

static struct dstor_import *import_find_index(u32 index)
{
	struct dstor_import *imp;

	list_for_each_entry(imp, &dstor_imports, entry)
		if (imp->index == index)
			return imp;
	return NULL;
}

static int import_reply(struct genl_info *info, u32 index, u8 cmd)
{
	struct dstor_import *imp;
	struct sk_buff *msg;
	int ret;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&dstor_cfg_mutex);
	imp = import_find_index(index);
	if (imp) {
		ret = import_fill(msg, imp, info->snd_portid, info->snd_seq, 0,
				  cmd);
	} else {
		NL_SET_ERR_MSG_MOD(info->extack, "no such import");
		ret = -ENOENT;
	}
	mutex_unlock(&dstor_cfg_mutex);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

static int import_add(struct sk_buff *skb, struct genl_info *info)
{
	unsigned int conns = min(num_online_cpus(), 4U);
	struct dstor_timers timers = default_timers;
	const char *name;
	struct dstor_endpoint peer;
	u32 flags = 0;
	int index, ret;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_NAME) ||
	    GENL_REQ_ATTR_CHECK(info, DSTOR_A_PEER))
		return -EINVAL;
	name = nla_data(info->attrs[DSTOR_A_NAME]);
	if (!*name) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[DSTOR_A_NAME],
				    "empty export name");
		return -EINVAL;
	}
	ret = endpoint_parse(info->attrs[DSTOR_A_PEER], &peer, info->extack);
	if (ret)
		return ret;
	if (info->attrs[DSTOR_A_FLAGS])
		flags = nla_get_u32(info->attrs[DSTOR_A_FLAGS]);
	if (info->attrs[DSTOR_A_CONNECTIONS])
		conns = nla_get_u32(info->attrs[DSTOR_A_CONNECTIONS]);
	ret = timers_parse(info, &timers);
	if (ret)
		return ret;

	/* Connecting can take a while: no lock is held meanwhile. */
	ret = dstor_import_add(genl_info_net(info), name, &peer, flags, conns,
			       &timers, dstor_nl_key(info), &index, info->extack);
	if (ret)
		return ret;
	return import_reply(info, index, DSTOR_CMD_IMPORT_ADD);
}

static int import_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *name_attr = info->attrs[DSTOR_A_NAME];
	struct nlattr *index_attr = info->attrs[DSTOR_A_INDEX];
	struct dstor_import *imp, *found = NULL;
	int ret = 0;

	if (!name_attr == !index_attr) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "give exactly one of an index and a name");
		return -EINVAL;
	}
	mutex_lock(&dstor_cfg_mutex);
	if (index_attr) {
		found = import_find_index(nla_get_u32(index_attr));
	} else {
		list_for_each_entry(imp, &dstor_imports, entry) {
			if (strcmp(imp->name, nla_data(name_attr)))
				continue;
			if (found) {
				NL_SET_ERR_MSG_ATTR(info->extack, name_attr,
						    "more than one import has that name: give the device");
				ret = -EINVAL;
				goto out;
			}
			found = imp;
		}
	}
	if (!found) {
		NL_SET_ERR_MSG_MOD(info->extack, "no such import");
		ret = -ENOENT;
		goto out;
	}
	ret = dstor_import_del(found, info->extack);
out:
	mutex_unlock(&dstor_cfg_mutex);
	return ret;
}

static int import_set(struct sk_buff *skb, struct genl_info *info)
{
	struct dstor_import *imp;
	struct dstor_timers timers;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_INDEX))
		return -EINVAL;
	ret = dstor_nl_key_usable(info);
	if (ret)
		return ret;
	mutex_lock(&dstor_cfg_mutex);
	imp = import_find_index(nla_get_u32(info->attrs[DSTOR_A_INDEX]));
	if (!imp) {
		NL_SET_ERR_MSG_MOD(info->extack, "no such import");
		ret = -ENOENT;
		goto out;
	}
	timers = imp->timers;
	ret = timers_parse(info, &timers);
	if (!ret)
		dstor_import_set_timers(imp, &timers);
	if (!ret && info->attrs[DSTOR_A_KEY])
		dstor_import_set_key(imp, dstor_nl_key(info));
out:
	mutex_unlock(&dstor_cfg_mutex);
	return ret;
}

static int import_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_INDEX))
		return -EINVAL;
	return import_reply(info, nla_get_u32(info->attrs[DSTOR_A_INDEX]),
			    DSTOR_CMD_IMPORT_GET);
}

static int import_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct dstor_import *imp;
	long i = 0, start = cb->args[0];

	mutex_lock(&dstor_cfg_mutex);
	list_for_each_entry(imp, &dstor_imports, entry) {
		if (i++ < start)
			continue;
		if (import_fill(skb, imp, NETLINK_CB(cb->skb).portid,
				cb->nlh->nlmsg_seq, NLM_F_MULTI,
				DSTOR_CMD_IMPORT_GET)) {
			i--;
			break;
		}
	}
	mutex_unlock(&dstor_cfg_mutex);
	cb->args[0] = i;
	return skb->len;
}

/*
 * The key in a request is copied where it is needed; the request's own
 * copy is wiped before the skb goes back to the allocator.
 */
static int key_wiped(struct genl_info *info, int ret)
{
	struct nlattr *a = info->attrs[DSTOR_A_KEY];

	if (a)
		memzero_explicit(nla_data(a), nla_len(a));
	return ret;
}

static int export_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	return key_wiped(info, export_add(skb, info));
}

static int export_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	return key_wiped(info, export_set(skb, info));
}

static int import_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	return key_wiped(info, import_add(skb, info));
}

static int import_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	return key_wiped(info, import_set(skb, info));
}

static int sync_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	return key_wiped(info, dstor_nl_sync_add(skb, info));
}

static const struct genl_ops dstor_genl_ops[] = {
	{
		.cmd = DSTOR_CMD_EXPORT_ADD,
		.flags = GENL_ADMIN_PERM,
		.policy = export_add_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = export_add_doit,
	},
	{
		.cmd = DSTOR_CMD_EXPORT_DEL,
		.flags = GENL_ADMIN_PERM,
		.policy = export_name_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = export_del_doit,
	},
	{
		.cmd = DSTOR_CMD_EXPORT_GET,
		.policy = export_name_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = export_get_doit,
		.dumpit = export_get_dumpit,
	},
	{
		.cmd = DSTOR_CMD_IMPORT_ADD,
		.flags = GENL_ADMIN_PERM,
		.policy = import_add_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = import_add_doit,
	},
	{
		.cmd = DSTOR_CMD_IMPORT_DEL,
		.flags = GENL_ADMIN_PERM,
		.policy = import_id_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = import_del_doit,
	},
	{
		.cmd = DSTOR_CMD_IMPORT_GET,
		.policy = import_id_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = import_get_doit,
		.dumpit = import_get_dumpit,
	},
	{
		.cmd = DSTOR_CMD_IMPORT_SET,
		.flags = GENL_ADMIN_PERM,
		.policy = import_set_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = import_set_doit,
	},
	{
		.cmd = DSTOR_CMD_ACL_ADD,
		.flags = GENL_ADMIN_PERM,
		.policy = acl_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = acl_add_doit,
	},
	{
		.cmd = DSTOR_CMD_ACL_DEL,
		.flags = GENL_ADMIN_PERM,
		.policy = acl_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = acl_del_doit,
	},
	{
		.cmd = DSTOR_CMD_ACL_GET,
		.policy = export_name_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = acl_get_doit,
	},
	{
		.cmd = DSTOR_CMD_SET,
		.flags = GENL_ADMIN_PERM,
		.policy = set_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = set_doit,
	},
	{
		.cmd = DSTOR_CMD_GET,
		.policy = set_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = get_doit,
	},
	{
		.cmd = DSTOR_CMD_SYNC_ADD,
		.flags = GENL_ADMIN_PERM,
		.policy = sync_add_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = sync_add_doit,
	},
	{
		.cmd = DSTOR_CMD_SYNC_DEL,
		.flags = GENL_ADMIN_PERM,
		.policy = sync_index_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = dstor_nl_sync_del,
	},
	{
		.cmd = DSTOR_CMD_SYNC_GET,
		.policy = sync_index_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = dstor_nl_sync_get,
		.dumpit = dstor_nl_sync_dump,
	},
	{
		.cmd = DSTOR_CMD_EXPORT_SET,
		.flags = GENL_ADMIN_PERM,
		.policy = export_set_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = export_set_doit,
	},
};

static const struct genl_multicast_group dstor_mcgrps[] = {
	{ .name = DSTOR_GENL_MCGRP_EVENTS },
};

struct genl_family dstor_genl_family __ro_after_init = {
	.name = DSTOR_GENL_NAME,
	.version = DSTOR_GENL_VERSION,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = dstor_genl_ops,
	.n_ops = ARRAY_SIZE(dstor_genl_ops),
	.mcgrps = dstor_mcgrps,
	.n_mcgrps = ARRAY_SIZE(dstor_mcgrps),
};

/*
 * Tell listeners on the events group, in the import's namespace, that
 * something happened to it. @queue < 0: not about one connection.
 */
void dstor_netlink_event(struct dstor_import *imp, u32 event, int queue)
{
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_NOIO);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &dstor_genl_family, 0, DSTOR_CMD_EVENT);
	if (!hdr)
		goto err;
	if (nla_put_u32(skb, DSTOR_A_EVENT, event) ||
	    nla_put_u32(skb, DSTOR_A_INDEX, imp->index) ||
	    nla_put_string(skb, DSTOR_A_NAME, imp->name) ||
	    endpoint_put(skb, DSTOR_A_PEER, &imp->peer) ||
	    nla_put_u32(skb, DSTOR_A_STATE, dstor_import_state(imp)) ||
	    nla_put_u32(skb, DSTOR_A_CONNECTIONS, imp->nr_queues) ||
	    nla_put_u32(skb, DSTOR_A_CONNECTED, dstor_import_connected(imp)) ||
	    (queue >= 0 && nla_put_u32(skb, DSTOR_A_QUEUE, queue)))
		goto err;
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&dstor_genl_family, imp->net, skb, 0, 0,
				GFP_NOIO);
	return;
err:
	nlmsg_free(skb);
}

int __init dstor_netlink_init(void)
{
	return genl_register_family(&dstor_genl_family);
}

void dstor_netlink_exit(void)
{
	genl_unregister_family(&dstor_genl_family);
}
