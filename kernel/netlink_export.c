// SPDX-License-Identifier: GPL-2.0
/*
 * Netlink for exports and their access lists: EXPORT_ADD/DEL/SET/GET and
 * ACL_ADD/DEL/GET (include/uapi/linux/dstor.h). netlink.c's pre_doit has
 * taken dstor_cfg_mutex and, for commands that name an export, found it in
 * the caller's namespace (info->user_ptr[0]).
 */
#include <linux/in.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "acl.h"
#include "dstor.h"
#include "export.h"
#include "mcast.h"
#include "netlink.h"
#include "tree.h"

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

static const struct nla_policy tree_policy[DSTOR_A_TREE_MAX + 1] = {
	/* a power of two: checked by dstor_tree_start() */
	[DSTOR_A_TREE_BLOCK_SIZE] = NLA_POLICY_FULL_RANGE(NLA_U32,
							  &mc_block_range),
};

const struct nla_policy dstor_nl_export_add_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
	[DSTOR_A_DEVICE] = { .type = NLA_NUL_STRING, .len = DSTOR_PATH_MAX - 1 },
	[DSTOR_A_LISTEN] = NLA_POLICY_NESTED(dstor_nl_endpoint_policy),
	[DSTOR_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, DSTOR_F_ALL),
	[DSTOR_A_KEY] = NLA_POLICY_EXACT_LEN(DSTOR_KEY_LEN),
	/* DSTOR_A_ACL items, parsed with their own policy by acls_parse() */
	[DSTOR_A_ACLS] = { .type = NLA_NESTED },
	[DSTOR_A_MCAST] = NLA_POLICY_NESTED(mcast_policy),
	[DSTOR_A_TREE] = NLA_POLICY_NESTED(tree_policy),
	[DSTOR_A_MAX_SESSIONS] = NLA_POLICY_FULL_RANGE(NLA_U32,
						       &dstor_nl_session_range),
	[DSTOR_A_UUID] = NLA_POLICY_EXACT_LEN(DSTOR_UUID_LEN),
};

const struct nla_policy dstor_nl_export_set_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
	[DSTOR_A_KEY] = NLA_POLICY_EXACT_LEN(DSTOR_KEY_LEN),
};

const struct nla_policy dstor_nl_acl_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
	[DSTOR_A_ACL] = { .type = NLA_NESTED },
};

const struct nla_policy dstor_nl_name_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
};

/* ---- access entries ---- */

static const struct nla_policy acl_entry_policy[DSTOR_A_ACL_MAX + 1] = {
	[DSTOR_A_ACL_IPV4] = NLA_POLICY_EXACT_LEN(4),
	[DSTOR_A_ACL_IPV6] = NLA_POLICY_EXACT_LEN(16),
	[DSTOR_A_ACL_PREFIX_LEN] = NLA_POLICY_MAX(NLA_U8, 128),
	[DSTOR_A_ACL_PERM] = NLA_POLICY_RANGE(NLA_U32, DSTOR_PERM_RO,
					      DSTOR_PERM_RW),
};

static int acl_parse(struct nlattr *nest, bool with_perm,
		     struct dstor_acl_entry *e, struct netlink_ext_ack *extack)
{
	struct nlattr *tb[DSTOR_A_ACL_MAX + 1];
	unsigned int max, len;
	int ret;

	ret = nla_parse_nested(tb, DSTOR_A_ACL_MAX, nest, acl_entry_policy,
			       extack);
	if (ret)
		return ret;
	if (!!tb[DSTOR_A_ACL_IPV4] == !!tb[DSTOR_A_ACL_IPV6]) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "an access entry needs exactly one of an IPv4 and an IPv6 prefix");
		return -EINVAL;
	}
	if (!tb[DSTOR_A_ACL_PREFIX_LEN]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "missing prefix length");
		return -EINVAL;
	}
	if (with_perm && !tb[DSTOR_A_ACL_PERM]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "missing permission (ro or rw)");
		return -EINVAL;
	}
	if (!with_perm && tb[DSTOR_A_ACL_PERM]) {
		NL_SET_ERR_MSG_ATTR(extack, tb[DSTOR_A_ACL_PERM],
				    "a permission does not belong here");
		return -EINVAL;
	}

	memset(e, 0, sizeof(*e));
	if (tb[DSTOR_A_ACL_IPV4]) {
		e->family = AF_INET;
		nla_memcpy(e->addr, tb[DSTOR_A_ACL_IPV4], 4);
		max = 32;
	} else {
		e->family = AF_INET6;
		nla_memcpy(e->addr, tb[DSTOR_A_ACL_IPV6], 16);
		max = 128;
	}
	e->prefix_len = nla_get_u8(tb[DSTOR_A_ACL_PREFIX_LEN]);
	if (e->prefix_len > max) {
		NL_SET_ERR_MSG_ATTR(extack, tb[DSTOR_A_ACL_PREFIX_LEN],
				    "prefix length too long for the address");
		return -EINVAL;
	}
	/* Host bits must be clear: 192.0.2.1/24 is a typo, not a prefix. */
	for (len = e->prefix_len; len < max; len++) {
		if (e->addr[len / 8] & (0x80 >> (len % 8))) {
			NL_SET_ERR_MSG_ATTR(extack, nest,
					    "the prefix has host bits set");
			return -EINVAL;
		}
	}
	if (with_perm)
		e->perm = nla_get_u32(tb[DSTOR_A_ACL_PERM]);
	return 0;
}

static int acl_put(struct sk_buff *skb, struct dstor_acl __rcu **aclp)
{
	struct dstor_acl *acl;
	struct nlattr *list, *item;
	unsigned int i;
	int ret = 0;

	list = nla_nest_start(skb, DSTOR_A_ACLS);
	if (!list)
		return -EMSGSIZE;
	rcu_read_lock();
	acl = rcu_dereference(*aclp);
	for (i = 0; acl && i < acl->n; i++) {
		const struct dstor_acl_entry *e = &acl->e[i];

		item = nla_nest_start(skb, DSTOR_A_ACL);
		if (!item ||
		    nla_put(skb, e->family == AF_INET ? DSTOR_A_ACL_IPV4 :
			    DSTOR_A_ACL_IPV6, e->family == AF_INET ? 4 : 16,
			    e->addr) ||
		    nla_put_u8(skb, DSTOR_A_ACL_PREFIX_LEN, e->prefix_len) ||
		    nla_put_u32(skb, DSTOR_A_ACL_PERM, e->perm)) {
			ret = -EMSGSIZE;
			break;
		}
		nla_nest_end(skb, item);
	}
	rcu_read_unlock();
	if (ret) {
		nla_nest_cancel(skb, list);
		return ret;
	}
	nla_nest_end(skb, list);
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
	nla_for_each_nested(item, list, rem) {
		if (nla_type(item) != DSTOR_A_ACL) {
			NL_SET_ERR_MSG_ATTR(info->extack, item,
					    "DSTOR_A_ACLS holds DSTOR_A_ACL items only");
			ret = -EINVAL;
		} else {
			ret = acl_parse(item, true, &e, info->extack);
		}
		if (!ret)
			ret = dstor_acl_update((struct dstor_acl __force __rcu **)&acl,
					       &e, false, info->extack);
		if (ret) {
			/* Nobody has seen it: no grace period to wait for. */
			kfree(acl);
			return ret;
		}
	}
	*out = acl;
	return 0;
}

static int acl_doit(struct genl_info *info, bool del)
{
	struct dstor_export *exp = info->user_ptr[0];
	struct dstor_acl_entry e;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_ACL))
		return -EINVAL;
	ret = acl_parse(info->attrs[DSTOR_A_ACL], !del, &e, info->extack);
	if (ret)
		return ret;
	return dstor_export_acl(exp, &e, del, info->extack);
}

int dstor_nl_acl_add(struct sk_buff *skb, struct genl_info *info)
{
	return acl_doit(info, false);
}

int dstor_nl_acl_del(struct sk_buff *skb, struct genl_info *info)
{
	return acl_doit(info, true);
}

static int acl_fill(struct sk_buff *skb, void *obj)
{
	struct dstor_export *exp = obj;

	if (nla_put_string(skb, DSTOR_A_NAME, exp->name) ||
	    acl_put(skb, &exp->acl))
		return -EMSGSIZE;
	return 0;
}

int dstor_nl_acl_get(struct sk_buff *skb, struct genl_info *info)
{
	return dstor_nl_reply(info, DSTOR_CMD_ACL_GET, acl_fill,
			      info->user_ptr[0]);
}

/* ---- exports ---- */

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

/* DSTOR_A_TREE of export add: the tree's block size, 0 for the default. */
static int tree_parse(struct genl_info *info, u32 *block_size)
{
	struct nlattr *tb[DSTOR_A_TREE_MAX + 1];
	int ret;

	ret = nla_parse_nested(tb, DSTOR_A_TREE_MAX, info->attrs[DSTOR_A_TREE],
			       tree_policy, info->extack);
	if (ret)
		return ret;
	*block_size = tb[DSTOR_A_TREE_BLOCK_SIZE] ?
		      nla_get_u32(tb[DSTOR_A_TREE_BLOCK_SIZE]) : 0;
	return 0;
}

int dstor_nl_export_add(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct dstor_export_cfg cfg = {};
	struct dstor_endpoint listen;
	struct dstor_mcast_cfg mcast;
	struct dstor_acl *acl;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_NAME) ||
	    GENL_REQ_ATTR_CHECK(info, DSTOR_A_DEVICE))
		return -EINVAL;
	/* Without a listener, an export is served by multicast only. */
	if (!a[DSTOR_A_MCAST] && GENL_REQ_ATTR_CHECK(info, DSTOR_A_LISTEN))
		return -EINVAL;
	cfg.name = nla_data(a[DSTOR_A_NAME]);
	cfg.path = nla_data(a[DSTOR_A_DEVICE]);
	if (a[DSTOR_A_LISTEN]) {
		ret = dstor_nl_endpoint_parse(a[DSTOR_A_LISTEN], &listen,
					      info->extack);
		if (ret)
			return ret;
		cfg.listen = &listen;
	}
	if (a[DSTOR_A_FLAGS])
		cfg.flags = nla_get_u32(a[DSTOR_A_FLAGS]);
	if (a[DSTOR_A_MCAST]) {
		ret = mcast_parse(info, cfg.flags, &mcast);
		if (ret)
			return ret;
		cfg.mcast = &mcast;
	}
	if (a[DSTOR_A_TREE]) {
		ret = tree_parse(info, &cfg.tree_block_size);
		if (ret)
			return ret;
		cfg.tree = true;
	}
	if (a[DSTOR_A_MAX_SESSIONS])
		cfg.max_sessions = nla_get_u32(a[DSTOR_A_MAX_SESSIONS]);
	if (a[DSTOR_A_UUID]) {
		cfg.uuid = nla_data(a[DSTOR_A_UUID]);
		if (!memchr_inv(cfg.uuid, 0, DSTOR_UUID_LEN)) {
			NL_SET_ERR_MSG_ATTR(info->extack, a[DSTOR_A_UUID],
					    "the nil UUID is no identity");
			return -EINVAL;
		}
	}
	ret = dstor_nl_key_usable(info);
	if (ret)
		return ret;
	cfg.key = dstor_nl_key(info);
	ret = acls_parse(info, &acl);
	if (ret)
		return ret;
	return dstor_export_add(genl_info_net(info), &cfg, acl, info->extack);
}

int dstor_nl_export_del(struct sk_buff *skb, struct genl_info *info)
{
	return dstor_export_del(info->user_ptr[0]);
}

int dstor_nl_export_set(struct sk_buff *skb, struct genl_info *info)
{
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_KEY))
		return -EINVAL;
	ret = dstor_nl_key_usable(info);
	if (ret)
		return ret;
	dstor_export_set_key(info->user_ptr[0],
			     nla_data(info->attrs[DSTOR_A_KEY]));
	return 0;
}

int dstor_nl_export_rehash(struct sk_buff *skb, struct genl_info *info)
{
	return dstor_tree_rehash(info->user_ptr[0], info->extack);
}

static int mcast_put(struct sk_buff *skb, struct dstor_export *exp)
{
	struct dstor_mcast_info mi;
	struct nlattr *nest;

	if (!dstor_mcast_info(exp, &mi))
		return 0;
	nest = nla_nest_start(skb, DSTOR_A_MCAST);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, DSTOR_A_MCAST_IFINDEX, mi.cfg.ifindex) ||
	    nla_put_u64_64bit(skb, DSTOR_A_MCAST_RATE, mi.cfg.rate,
			      DSTOR_A_MCAST_PAD) ||
	    nla_put_u32(skb, DSTOR_A_MCAST_BLOCK_SIZE, mi.cfg.block_size) ||
	    (mi.cfg.querier && nla_put_flag(skb, DSTOR_A_MCAST_QUERIER)) ||
	    nla_put_u64_64bit(skb, DSTOR_A_MCAST_BLOCKS, mi.blocks,
			      DSTOR_A_MCAST_PAD) ||
	    nla_put_u32(skb, DSTOR_A_MCAST_LISTENED, mi.listened) ||
	    nla_put_u32(skb, DSTOR_A_MCAST_MC_STATE, mi.state) ||
	    (mi.tree && (nla_put_u64_64bit(skb, DSTOR_A_MCAST_EPOCH, mi.epoch,
					   DSTOR_A_MCAST_PAD) ||
			 nla_put(skb, DSTOR_A_MCAST_ROOT, DSTOR_MC_HASH_LEN,
				 mi.root)))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int tree_put(struct sk_buff *skb, struct dstor_export *exp)
{
	struct dstor_tree_status ts;
	struct nlattr *nest;

	dstor_tree_status(exp, &ts);
	if (!ts.block_size)
		return 0;
	nest = nla_nest_start(skb, DSTOR_A_TREE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, DSTOR_A_TREE_BLOCK_SIZE, ts.block_size) ||
	    nla_put_u32(skb, DSTOR_A_TREE_BUILT, ts.built) ||
	    (ts.err && nla_put_flag(skb, DSTOR_A_TREE_FAILED)) ||
	    (ts.published &&
	     (nla_put_u64_64bit(skb, DSTOR_A_TREE_LEAVES, ts.leaves,
				DSTOR_A_TREE_PAD) ||
	      nla_put_u64_64bit(skb, DSTOR_A_TREE_GENERATION, ts.generation,
				DSTOR_A_TREE_PAD) ||
	      nla_put(skb, DSTOR_A_TREE_ROOT, DSTOR_MC_HASH_LEN, ts.root)))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int export_attrs(struct sk_buff *skb, void *obj)
{
	struct dstor_export *exp = obj;

	if (nla_put_string(skb, DSTOR_A_NAME, exp->name) ||
	    nla_put_string(skb, DSTOR_A_DEVICE, exp->path) ||
	    (exp->listener &&
	     dstor_nl_endpoint_put(skb, DSTOR_A_LISTEN, &exp->listener->addr)) ||
	    nla_put_u32(skb, DSTOR_A_FLAGS, exp->flags) ||
	    nla_put_u64_64bit(skb, DSTOR_A_SIZE, exp->size, DSTOR_A_PAD) ||
	    nla_put_u32(skb, DSTOR_A_BLOCK_SIZE,
			bdev_logical_block_size(exp->bdev.bdev)) ||
	    nla_put_u32(skb, DSTOR_A_SESSIONS, READ_ONCE(exp->nr_sessions)) ||
	    nla_put_u32(skb, DSTOR_A_MAX_SESSIONS,
			dstor_export_max_sessions(exp)) ||
	    nla_put(skb, DSTOR_A_UUID, DSTOR_UUID_LEN, exp->uuid) ||
	    (exp->key.set && nla_put(skb, DSTOR_A_KEY_ID, DSTOR_KEY_ID_LEN,
				     exp->key.id)) ||
	    acl_put(skb, &exp->acl) ||
	    mcast_put(skb, exp) ||
	    tree_put(skb, exp) ||
	    dstor_nl_stats_put(skb, &exp->stats, DSTOR_STATS_EXPORT |
			       (exp->mcast ? DSTOR_STATS_MCAST : 0)))
		return -EMSGSIZE;
	return 0;
}

int dstor_nl_export_get(struct sk_buff *skb, struct genl_info *info)
{
	return dstor_nl_reply(info, DSTOR_CMD_EXPORT_GET, export_attrs,
			      info->user_ptr[0]);
}

int dstor_nl_export_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(cb->skb->sk);
	long i = 0, start = cb->args[0];
	struct dstor_export *exp;
	void *hdr;

	mutex_lock(&dstor_cfg_mutex);
	list_for_each_entry(exp, &dstor_exports, entry) {
		if (!net_eq(exp->net, net) || i++ < start)
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &dstor_genl_family,
				  NLM_F_MULTI, DSTOR_CMD_EXPORT_GET);
		if (!hdr || export_attrs(skb, exp)) {
			if (hdr)
				genlmsg_cancel(skb, hdr);
			i--;
			break;
		}
		genlmsg_end(skb, hdr);
	}
	mutex_unlock(&dstor_cfg_mutex);
	cb->args[0] = i;
	return skb->len;
}
