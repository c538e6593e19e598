// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family: its operations, the pre_doit/post_doit that
 * check capabilities, take the configuration mutex and resolve the object
 * an operation names, and the helpers its parts share.
 * include/uapi/linux/dstor.h is the specification of every command and
 * attribute.
 *
 * Every command has its own strict policy; values are checked there where
 * a policy can express it and in the handler otherwise, and each rejection
 * carries an extended ACK message naming what was wrong. The family runs
 * with parallel_ops: dstor_cfg_mutex, not genl_mutex, serialises us, so a
 * slow connect never stalls other netlink families. Objects belong to the
 * network namespace of the socket that created them: a command sees only
 * its own namespace's.
 *
 * Capabilities: every command that changes state needs CAP_NET_ADMIN
 * (GENL_ADMIN_PERM); those that open a local block device (export add,
 * sync add) need CAP_SYS_ADMIN too, as nbd does: with the device, they
 * hand out the machine's disks. So does an import add that names the
 * import for the machine's /dev (DSTOR_A_LOCAL_NAME, netlink_import.c).
 */
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <net/ipv6.h>
#include <net/netlink.h>

#include "dstor.h"
#include "export.h"
#include "import.h"
#include "netlink.h"
#include "seal.h"

/* ---- shared helpers ---- */

const struct nla_policy dstor_nl_endpoint_policy[DSTOR_A_ENDPOINT_MAX + 1] = {
	[DSTOR_A_ENDPOINT_IPV4] = NLA_POLICY_EXACT_LEN(4),
	[DSTOR_A_ENDPOINT_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[DSTOR_A_ENDPOINT_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[DSTOR_A_ENDPOINT_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
};

int dstor_nl_endpoint_parse(struct nlattr *nest, struct dstor_endpoint *ep,
			    struct netlink_ext_ack *extack)
{
	struct nlattr *tb[DSTOR_A_ENDPOINT_MAX + 1];
	u16 port = DSTOR_DEFAULT_PORT;
	int ret;

	ret = nla_parse_nested(tb, DSTOR_A_ENDPOINT_MAX, nest,
			       dstor_nl_endpoint_policy, extack);
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

int dstor_nl_endpoint_put(struct sk_buff *skb, int attr,
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

struct sk_buff *dstor_nl_event_new(u32 event, gfp_t gfp, void **hdr)
{
	struct sk_buff *skb = genlmsg_new(NLMSG_GOODSIZE, gfp);

	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &dstor_genl_family, 0, DSTOR_CMD_EVENT);
	if (!*hdr || nla_put_u32(skb, DSTOR_A_EVENT, event)) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

void dstor_nl_event_send(struct sk_buff *skb, void *hdr, struct net *net,
			 gfp_t gfp, int err)
{
	if (err) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&dstor_genl_family, net, skb, 0, 0, gfp);
}

int dstor_nl_stats_put(struct sk_buff *skb, struct dstor_stats *s, u64 mask)
{
	struct nlattr *nest = nla_nest_start(skb, DSTOR_A_STATS);
	int i;

	BUILD_BUG_ON(DSTOR_A_STATS_READS + DSTOR_STAT_MAX - 1 !=
		     DSTOR_A_STATS_MAX);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < DSTOR_STAT_MAX; i++) {
		if (!(mask & BIT_ULL(i)))
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

/* Reply to a do request with one object, filled by @fill. */
int dstor_nl_reply(struct genl_info *info, u8 cmd,
		   int (*fill)(struct sk_buff *skb, void *obj), void *obj)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE * 4, GFP_KERNEL);
	void *hdr;

	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &dstor_genl_family, 0, cmd);
	if (!hdr || fill(msg, obj)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* ---- module-wide settings ---- */

/* Not const: 6.1's policy takes a plain pointer. */
struct netlink_range_validation dstor_nl_session_range = {
	.min = 1,
	.max = DSTOR_MAX_SESSION_LIMIT,
};

static const struct nla_policy set_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_CRYPTO_WORKERS] = NLA_POLICY_RANGE(NLA_U32, 1,
						    DSTOR_MAX_CRYPTO_WORKERS),
	[DSTOR_A_MAX_SESSIONS] = NLA_POLICY_FULL_RANGE(NLA_U32,
						       &dstor_nl_session_range),
	[DSTOR_A_MAX_HOST_SESSIONS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &dstor_nl_session_range),
};

static int set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	int ret;

	if (!a[DSTOR_A_CRYPTO_WORKERS] && !a[DSTOR_A_MAX_SESSIONS] &&
	    !a[DSTOR_A_MAX_HOST_SESSIONS]) {
		NL_SET_ERR_MSG_MOD(info->extack, "nothing to set");
		return -EINVAL;
	}
	if (a[DSTOR_A_CRYPTO_WORKERS]) {
		ret = dstor_crypto_set_workers(nla_get_u32(a[DSTOR_A_CRYPTO_WORKERS]));
		if (ret)
			return ret;
	}
	if (a[DSTOR_A_MAX_SESSIONS])
		WRITE_ONCE(dstor_max_sessions,
			   nla_get_u32(a[DSTOR_A_MAX_SESSIONS]));
	if (a[DSTOR_A_MAX_HOST_SESSIONS])
		WRITE_ONCE(dstor_max_host_sessions,
			   nla_get_u32(a[DSTOR_A_MAX_HOST_SESSIONS]));
	return 0;
}

static int module_fill(struct sk_buff *skb, void *unused)
{
	if (nla_put_u32(skb, DSTOR_A_CRYPTO_WORKERS,
			dstor_crypto_workers_get()) ||
	    nla_put_u32(skb, DSTOR_A_CRYPTO_QUEUED,
			dstor_crypto_queued_get()) ||
	    nla_put_u64_64bit(skb, DSTOR_A_CRYPTO_POOLED,
			      dstor_crypto_pooled_get(), DSTOR_A_PAD) ||
	    nla_put_u32(skb, DSTOR_A_MAX_SESSIONS,
			READ_ONCE(dstor_max_sessions)) ||
	    nla_put_u32(skb, DSTOR_A_MAX_HOST_SESSIONS,
			READ_ONCE(dstor_max_host_sessions)))
		return -EMSGSIZE;
	return 0;
}

static int get_doit(struct sk_buff *skb, struct genl_info *info)
{
	return dstor_nl_reply(info, DSTOR_CMD_GET, module_fill, NULL);
}

/* ---- pre_doit and post_doit ---- */

/* Keys in a request are copied where they are needed; wipe the skb's. */
static void key_wipe(struct genl_info *info)
{
	struct nlattr *a = info->attrs ? info->attrs[DSTOR_A_KEY] : NULL;

	if (a)
		memzero_explicit(nla_data(a), nla_len(a));
}

static void *pre_export(struct genl_info *info)
{
	struct nlattr *a = info->attrs[DSTOR_A_NAME];
	struct dstor_export *exp;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_NAME))
		return ERR_PTR(-EINVAL);
	exp = dstor_export_find(genl_info_net(info), nla_data(a));
	if (!exp) {
		NL_SET_ERR_MSG_ATTR(info->extack, a, "no export of that name");
		return ERR_PTR(-ENOENT);
	}
	return exp;
}

static void *pre_import(struct genl_info *info)
{
	struct dstor_import *imp;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_INDEX))
		return ERR_PTR(-EINVAL);
	imp = dstor_nl_import_find(genl_info_net(info),
				   nla_get_u32(info->attrs[DSTOR_A_INDEX]));
	if (!imp) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[DSTOR_A_INDEX],
				    "no such import");
		return ERR_PTR(-ENOENT);
	}
	return imp;
}

static int dstor_pre_doit(const struct dstor_genl_split_ops *ops,
			  struct sk_buff *skb, struct genl_info *info)
{
	u8 f = ops->internal_flags;
	void *obj = NULL;

	if ((f & DSTOR_NL_SYSADMIN) && !netlink_capable(skb, CAP_SYS_ADMIN)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "opening a block device needs CAP_SYS_ADMIN (as well as CAP_NET_ADMIN)");
		key_wipe(info);
		return -EPERM;
	}
	if (!(f & (DSTOR_NL_LOCK | DSTOR_NL_EXPORT | DSTOR_NL_IMPORT)))
		return 0;
	mutex_lock(&dstor_cfg_mutex);
	if (f & DSTOR_NL_EXPORT)
		obj = pre_export(info);
	else if (f & DSTOR_NL_IMPORT)
		obj = pre_import(info);
	if (IS_ERR(obj)) {
		mutex_unlock(&dstor_cfg_mutex);
		key_wipe(info);
		return PTR_ERR(obj);
	}
	info->user_ptr[0] = obj;
	return 0;
}

static void dstor_post_doit(const struct dstor_genl_split_ops *ops,
			    struct sk_buff *skb, struct genl_info *info)
{
	if (ops->internal_flags &
	    (DSTOR_NL_LOCK | DSTOR_NL_EXPORT | DSTOR_NL_IMPORT))
		mutex_unlock(&dstor_cfg_mutex);
	key_wipe(info);
}

/* ---- the family ---- */

#define DSTOR_OP(c, pol, fl, intf, d) {	\
		.cmd = (c),			\
		.flags = (fl),			\
		.internal_flags = (intf),	\
		.policy = (pol),		\
		.maxattr = DSTOR_A_MAX,		\
		.doit = (d),			\
	}

static const struct genl_ops dstor_genl_ops[] = {
	DSTOR_OP(DSTOR_CMD_EXPORT_ADD, dstor_nl_export_add_policy,
		 GENL_ADMIN_PERM, DSTOR_NL_LOCK | DSTOR_NL_SYSADMIN,
		 dstor_nl_export_add),
	DSTOR_OP(DSTOR_CMD_EXPORT_DEL, dstor_nl_name_policy, GENL_ADMIN_PERM,
		 DSTOR_NL_EXPORT, dstor_nl_export_del),
	{
		.cmd = DSTOR_CMD_EXPORT_GET,
		.internal_flags = DSTOR_NL_EXPORT,
		.policy = dstor_nl_name_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = dstor_nl_export_get,
		.dumpit = dstor_nl_export_dump,
	},
	DSTOR_OP(DSTOR_CMD_EXPORT_SET, dstor_nl_export_set_policy,
		 GENL_ADMIN_PERM, DSTOR_NL_EXPORT, dstor_nl_export_set),
	DSTOR_OP(DSTOR_CMD_EXPORT_REHASH, dstor_nl_name_policy,
		 GENL_ADMIN_PERM, DSTOR_NL_EXPORT, dstor_nl_export_rehash),
	DSTOR_OP(DSTOR_CMD_ACL_ADD, dstor_nl_acl_policy, GENL_ADMIN_PERM,
		 DSTOR_NL_EXPORT, dstor_nl_acl_add),
	DSTOR_OP(DSTOR_CMD_ACL_DEL, dstor_nl_acl_policy, GENL_ADMIN_PERM,
		 DSTOR_NL_EXPORT, dstor_nl_acl_del),
	DSTOR_OP(DSTOR_CMD_ACL_GET, dstor_nl_name_policy, 0,
		 DSTOR_NL_EXPORT, dstor_nl_acl_get),
	/* Connecting can take a while: no lock is held meanwhile. */
	DSTOR_OP(DSTOR_CMD_IMPORT_ADD, dstor_nl_import_add_policy,
		 GENL_ADMIN_PERM, 0, dstor_nl_import_add),
	DSTOR_OP(DSTOR_CMD_IMPORT_DEL, dstor_nl_import_id_policy,
		 GENL_ADMIN_PERM, DSTOR_NL_LOCK, dstor_nl_import_del),
	{
		.cmd = DSTOR_CMD_IMPORT_GET,
		.internal_flags = DSTOR_NL_IMPORT,
		.policy = dstor_nl_import_id_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = dstor_nl_import_get,
		.dumpit = dstor_nl_import_dump,
	},
	DSTOR_OP(DSTOR_CMD_IMPORT_SET, dstor_nl_import_set_policy,
		 GENL_ADMIN_PERM, DSTOR_NL_IMPORT, dstor_nl_import_set),
	DSTOR_OP(DSTOR_CMD_SET, set_policy, GENL_ADMIN_PERM, 0, set_doit),
	DSTOR_OP(DSTOR_CMD_GET, set_policy, 0, 0, get_doit),
	DSTOR_OP(DSTOR_CMD_SYNC_ADD, dstor_nl_sync_add_policy,
		 GENL_ADMIN_PERM, DSTOR_NL_SYSADMIN, dstor_nl_sync_add),
	DSTOR_OP(DSTOR_CMD_SYNC_DEL, dstor_nl_sync_index_policy,
		 GENL_ADMIN_PERM, 0, dstor_nl_sync_del),
	{
		.cmd = DSTOR_CMD_SYNC_GET,
		.policy = dstor_nl_sync_index_policy,
		.maxattr = DSTOR_A_MAX,
		.doit = dstor_nl_sync_get,
		.dumpit = dstor_nl_sync_dump,
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
	.pre_doit = dstor_pre_doit,
	.post_doit = dstor_post_doit,
	.ops = dstor_genl_ops,
	.n_ops = ARRAY_SIZE(dstor_genl_ops),
	.mcgrps = dstor_mcgrps,
	.n_mcgrps = ARRAY_SIZE(dstor_mcgrps),
};

int __init dstor_netlink_init(void)
{
	return genl_register_family(&dstor_genl_family);
}

void dstor_netlink_exit(void)
{
	genl_unregister_family(&dstor_genl_family);
}
