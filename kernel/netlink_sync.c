// SPDX-License-Identifier: GPL-2.0
/*
 * The sync commands of the generic netlink family: DSTOR_CMD_SYNC_ADD,
 * _DEL and _GET (do and dump), as include/uapi/linux/dstor.h specifies
 * them. Requests are read into struct dstor_sync_cfg, replies written from
 * struct dstor_sync_info; the syncs themselves are sync.c's (sync.h). The
 * ops table is netlink.c's.
 *
 * Every command acts in the requester's network namespace: a sync of
 * another namespace is "no such sync".
 */
#include <linux/slab.h>
#include <net/genetlink.h>

#include "dstor.h"
#include "netlink.h"
#include "sync.h"

static const struct nla_policy sync_mcast_policy[DSTOR_A_MCAST_MAX + 1] = {
	[DSTOR_A_MCAST_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[DSTOR_A_MCAST_ROOT] = NLA_POLICY_EXACT_LEN(DSTOR_MC_HASH_LEN),
};

const struct nla_policy dstor_nl_sync_add_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
	[DSTOR_A_DEVICE] = { .type = NLA_NUL_STRING, .len = DSTOR_PATH_MAX - 1 },
	[DSTOR_A_MCAST] = NLA_POLICY_NESTED(sync_mcast_policy),
	[DSTOR_A_PEER] = NLA_POLICY_NESTED(dstor_nl_endpoint_policy),
	[DSTOR_A_ROOT] = NLA_POLICY_EXACT_LEN(DSTOR_MC_HASH_LEN),
	[DSTOR_A_KEY] = NLA_POLICY_EXACT_LEN(DSTOR_KEY_LEN),
	[DSTOR_A_SEEDS] = { .type = NLA_NESTED },
	[DSTOR_A_SYNC_EVERY] = { .type = NLA_U32 },
	[DSTOR_A_SYNC_SCRUB] = { .type = NLA_U32 },
};

const struct nla_policy dstor_nl_sync_index_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_INDEX] = { .type = NLA_U32 },
};

static int sync_mcast_put(struct sk_buff *skb,
			  const struct dstor_sync_info *si)
{
	struct nlattr *nest = nla_nest_start(skb, DSTOR_A_MCAST);
	const struct dstor_mc_announce *a = &si->ann;

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, DSTOR_A_MCAST_IFINDEX, si->ifindex))
		goto err;
	if (si->known &&
	    (nla_put_u32(skb, DSTOR_A_MCAST_BLOCK_SIZE, a->block_size) ||
	     nla_put_u64_64bit(skb, DSTOR_A_MCAST_BLOCKS, a->blocks,
			       DSTOR_A_MCAST_PAD) ||
	     nla_put_u64_64bit(skb, DSTOR_A_MCAST_EPOCH, si->epoch,
			       DSTOR_A_MCAST_PAD) ||
	     nla_put(skb, DSTOR_A_MCAST_ROOT, DSTOR_MC_HASH_LEN, a->root)))
		goto err;
	nla_nest_end(skb, nest);
	if (si->known &&
	    nla_put_u64_64bit(skb, DSTOR_A_SIZE, a->size, DSTOR_A_PAD))
		return -EMSGSIZE;
	return 0;
err:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* A sync over TCP: its exporter and, once known, the export's tree. */
static int sync_peer_put(struct sk_buff *skb,
			 const struct dstor_sync_info *si)
{
	const struct dstor_mc_announce *a = &si->ann;
	struct nlattr *nest;

	if (dstor_nl_endpoint_put(skb, DSTOR_A_PEER, &si->peer) ||
	    (si->why && nla_put_string(skb, DSTOR_A_REASON, si->why)))
		return -EMSGSIZE;
	if (!si->known)
		return 0;
	nest = nla_nest_start(skb, DSTOR_A_TREE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, DSTOR_A_TREE_BLOCK_SIZE, a->block_size) ||
	    nla_put_u64_64bit(skb, DSTOR_A_TREE_LEAVES, a->blocks,
			      DSTOR_A_TREE_PAD) ||
	    nla_put_u64_64bit(skb, DSTOR_A_TREE_GENERATION, si->epoch,
			      DSTOR_A_TREE_PAD) ||
	    nla_put(skb, DSTOR_A_TREE_ROOT, DSTOR_MC_HASH_LEN, a->root)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return nla_put_u64_64bit(skb, DSTOR_A_SIZE, a->size, DSTOR_A_PAD);
}

/* A multicast sync repaired over TCP: its exporter, why it failed. */
static int sync_repair_put(struct sk_buff *skb,
			   const struct dstor_sync_info *si)
{
	if (dstor_nl_endpoint_put(skb, DSTOR_A_PEER, &si->peer) ||
	    (si->why && nla_put_string(skb, DSTOR_A_REASON, si->why)))
		return -EMSGSIZE;
	return 0;
}

/* A periodic sync's intervals and its last round. */
static int sync_rounds_put(struct sk_buff *skb,
			   const struct dstor_sync_info *si)
{
	if (!si->every)
		return 0;
	if (nla_put_u32(skb, DSTOR_A_SYNC_EVERY, si->every) ||
	    (si->scrub && nla_put_u32(skb, DSTOR_A_SYNC_SCRUB, si->scrub)))
		return -EMSGSIZE;
	if (!si->rounds)
		return 0;
	if (nla_put_u64_64bit(skb, DSTOR_A_SYNC_LAST_MS, si->last_ms,
			      DSTOR_A_PAD) ||
	    nla_put_u64_64bit(skb, DSTOR_A_SYNC_REPAIRED, si->repaired,
			      DSTOR_A_PAD) ||
	    (si->scrubbed &&
	     nla_put_u64_64bit(skb, DSTOR_A_SYNC_CORRUPT, si->corrupt,
			       DSTOR_A_PAD)))
		return -EMSGSIZE;
	return 0;
}

/* The attributes of one sync after @hdr (NULL: no room for it). */
static int sync_fill(struct sk_buff *skb, void *hdr,
		     struct dstor_sync_info *si)
{
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, DSTOR_A_INDEX, si->index) ||
	    nla_put_string(skb, DSTOR_A_NAME, si->name) ||
	    nla_put_string(skb, DSTOR_A_DEVICE, si->path) ||
	    (si->by_peer ? sync_peer_put(skb, si) : sync_mcast_put(skb, si)) ||
	    (si->repair && sync_repair_put(skb, si)) ||
	    sync_rounds_put(skb, si) ||
	    nla_put_u32(skb, DSTOR_A_SYNC_STATE, si->state) ||
	    nla_put_u64_64bit(skb, DSTOR_A_SYNC_ELAPSED_MS, si->elapsed_ms,
			      DSTOR_A_PAD) ||
	    (si->keyed && nla_put(skb, DSTOR_A_KEY_ID, DSTOR_KEY_ID_LEN,
				  si->key_id)) ||
	    dstor_nl_stats_put(skb, &si->stats, DSTOR_STATS_SYNC)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * A reply and the description it carries, allocated before the command
 * does anything: a sync added is always answered.
 */
static int reply_alloc(struct sk_buff **msg, struct dstor_sync_info **si)
{
	*msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	*si = kmalloc(sizeof(**si), GFP_KERNEL);
	if (*msg && *si)
		return 0;
	nlmsg_free(*msg);
	kfree(*si);
	return -ENOMEM;
}

/* Unless @ret, answer @info with @si as @cmd; uses @msg and @si up. */
static int sync_reply(struct genl_info *info, struct sk_buff *msg,
		      struct dstor_sync_info *si, u8 cmd, int ret)
{
	if (!ret)
		ret = sync_fill(msg, genlmsg_put_reply(msg, info,
						       &dstor_genl_family, 0,
						       cmd), si);
	kfree(si);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

/* The file descriptors of DSTOR_A_SEEDS into @fds (DSTOR_SYNC_MAX_SEEDS). */
static int seeds_parse(struct genl_info *info, u32 *fds,
		       struct dstor_sync_cfg *cfg)
{
	struct nlattr *list = info->attrs[DSTOR_A_SEEDS], *item;
	int rem;

	cfg->seed_fds = fds;
	cfg->nr_seeds = 0;
	if (!list)
		return 0;
	nla_for_each_nested(item, list, rem) {
		if (nla_type(item) != DSTOR_A_SEED_FD ||
		    nla_len(item) != sizeof(u32)) {
			NL_SET_ERR_MSG_ATTR(info->extack, item,
					    "DSTOR_A_SEEDS holds DSTOR_A_SEED_FD items (u32) only");
			return -EINVAL;
		}
		if (cfg->nr_seeds == DSTOR_SYNC_MAX_SEEDS) {
			NL_SET_ERR_MSG_ATTR(info->extack, item,
					    "more seeds than DSTOR_SYNC_MAX_SEEDS");
			return -EINVAL;
		}
		fds[cfg->nr_seeds++] = nla_get_u32(item);
	}
	if (rem) {
		NL_SET_ERR_MSG_ATTR(info->extack, list,
				    "DSTOR_A_SEEDS is malformed");
		return -EINVAL;
	}
	return 0;
}

/* DSTOR_A_PEER (and DSTOR_A_ROOT) of a SYNC_ADD request over TCP. */
static int sync_parse_peer(struct genl_info *info, struct dstor_sync_cfg *cfg,
			   struct dstor_endpoint *ep)
{
	struct nlattr **a = info->attrs;
	int ret;

	ret = dstor_nl_endpoint_parse(a[DSTOR_A_PEER], ep, info->extack);
	if (ret)
		return ret;
	cfg->peer = ep;
	cfg->root = a[DSTOR_A_ROOT] ? nla_data(a[DSTOR_A_ROOT]) : NULL;
	if (a[DSTOR_A_SYNC_EVERY]) {
		cfg->every = nla_get_u32(a[DSTOR_A_SYNC_EVERY]);
		if (cfg->every < DSTOR_SYNC_MIN_EVERY ||
		    cfg->every > DSTOR_SYNC_MAX_EVERY) {
			NL_SET_ERR_MSG_ATTR(info->extack, a[DSTOR_A_SYNC_EVERY],
					    "rounds are 10 s to 30 days apart");
			return -ERANGE;
		}
	}
	if (a[DSTOR_A_SYNC_SCRUB]) {
		cfg->scrub = nla_get_u32(a[DSTOR_A_SYNC_SCRUB]);
		if (cfg->scrub > DSTOR_SYNC_MAX_EVERY) {
			NL_SET_ERR_MSG_ATTR(info->extack, a[DSTOR_A_SYNC_SCRUB],
					    "scrubs are at most 30 days apart");
			return -ERANGE;
		}
		if (cfg->scrub < cfg->every || !cfg->every) {
			NL_SET_ERR_MSG_ATTR(info->extack, a[DSTOR_A_SYNC_SCRUB],
					    "a scrub interval needs a round interval (DSTOR_A_SYNC_EVERY) no longer than it");
			return -EINVAL;
		}
	}
	return 0;
}

/* DSTOR_A_MCAST or DSTOR_A_PEER, and the rest of a SYNC_ADD, checked. */
static int sync_parse(struct genl_info *info, struct dstor_sync_cfg *cfg,
		      struct nlattr **ifa, u32 *fds, struct dstor_endpoint *ep)
{
	struct nlattr **a = info->attrs;
	struct nlattr *root;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	*ifa = NULL;
	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_NAME) ||
	    GENL_REQ_ATTR_CHECK(info, DSTOR_A_DEVICE))
		return -EINVAL;
	if (!a[DSTOR_A_PEER] && GENL_REQ_ATTR_CHECK(info, DSTOR_A_MCAST))
		return -EINVAL;
	cfg->name = nla_data(a[DSTOR_A_NAME]);
	/* It picks the multicast groups: a name an exporter can have. */
	if (!dstor_name_ok(cfg->name)) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[DSTOR_A_NAME],
				    DSTOR_NAME_RULE);
		return -EINVAL;
	}
	cfg->path = nla_data(a[DSTOR_A_DEVICE]);
	if (a[DSTOR_A_MCAST] &&
	    (a[DSTOR_A_SYNC_EVERY] || a[DSTOR_A_SYNC_SCRUB])) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    a[DSTOR_A_SYNC_EVERY] ?: a[DSTOR_A_SYNC_SCRUB],
				    "periodic rounds and scrubs are for a sync over TCP (DSTOR_A_PEER) alone");
		return -EINVAL;
	}
	if (a[DSTOR_A_PEER]) {
		ret = sync_parse_peer(info, cfg, ep);
		if (ret)
			return ret;
		/* Both: multicast, repaired over TCP. */
		if (!a[DSTOR_A_MCAST])
			goto rest;
	}
	if (a[DSTOR_A_ROOT]) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[DSTOR_A_ROOT],
				    "a multicast sync pins its root with DSTOR_A_MCAST_ROOT");
		return -EINVAL;
	}
	/* The policy checked the nested attributes. */
	*ifa = nla_find_nested(a[DSTOR_A_MCAST], DSTOR_A_MCAST_IFINDEX);
	if (!*ifa) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[DSTOR_A_MCAST],
				    "missing the interface (DSTOR_A_MCAST_IFINDEX)");
		return -EINVAL;
	}
	cfg->ifindex = nla_get_u32(*ifa);
	cfg->mcast = true;
	root = nla_find_nested(a[DSTOR_A_MCAST], DSTOR_A_MCAST_ROOT);
	cfg->root = root ? nla_data(root) : NULL;
rest:
	ret = seeds_parse(info, fds, cfg);
	if (ret)
		return ret;
	cfg->key = dstor_nl_key(info);
	/*
	 * Unkeyed and unpinned, anyone on the link may announce a tree of
	 * guessed blocks and learn from the channels the sync joins which
	 * ones its seeds hold.
	 */
	if (cfg->nr_seeds && !cfg->key && !cfg->root) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[DSTOR_A_SEEDS],
				    "seeds need the export's key or a pinned root");
		return -EINVAL;
	}
	return dstor_nl_key_usable(info);
}

/* netlink.c wipes the request's key after this. */
int dstor_nl_sync_add(struct sk_buff *skb, struct genl_info *info)
{
	u32 fds[DSTOR_SYNC_MAX_SEEDS];
	struct dstor_sync_info *si;
	struct dstor_sync_cfg cfg;
	struct dstor_endpoint ep;
	enum dstor_sync_part bad;
	struct sk_buff *msg;
	struct nlattr *ifa;
	int ret;

	ret = sync_parse(info, &cfg, &ifa, fds, &ep);
	if (!ret)
		ret = reply_alloc(&msg, &si);
	if (ret)
		return ret;
	ret = dstor_sync_add(genl_info_net(info), &cfg, info->extack, &bad,
			     si);
	if (bad == DSTOR_SYNC_PART_IFACE && ifa)
		NL_SET_BAD_ATTR(info->extack, ifa);
	else if (bad == DSTOR_SYNC_PART_TARGET)
		NL_SET_BAD_ATTR(info->extack, info->attrs[DSTOR_A_DEVICE]);
	else if (bad == DSTOR_SYNC_PART_SEEDS)
		NL_SET_BAD_ATTR(info->extack, info->attrs[DSTOR_A_SEEDS]);
	return sync_reply(info, msg, si, DSTOR_CMD_SYNC_ADD, ret);
}

int dstor_nl_sync_del(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *index = info->attrs[DSTOR_A_INDEX];
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_INDEX))
		return -EINVAL;
	ret = dstor_sync_del(genl_info_net(info), nla_get_u32(index));
	if (ret == -ENOENT)
		NL_SET_ERR_MSG_ATTR(info->extack, index, "no such sync");
	return ret;
}

int dstor_nl_sync_get(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *index = info->attrs[DSTOR_A_INDEX];
	struct dstor_sync_info *si;
	struct sk_buff *msg;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_INDEX))
		return -EINVAL;
	ret = reply_alloc(&msg, &si);
	if (ret)
		return ret;
	ret = dstor_sync_get(genl_info_net(info), nla_get_u32(index), si);
	if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, index, "no such sync");
	return sync_reply(info, msg, si, DSTOR_CMD_SYNC_GET, ret);
}

/* cb->args[0]: the index to go on from. */
int dstor_nl_sync_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(cb->skb->sk);
	unsigned long pos = cb->args[0];
	struct dstor_sync_info *si;
	void *hdr;

	si = kmalloc(sizeof(*si), GFP_KERNEL);
	if (!si)
		return -ENOMEM;
	while (!dstor_sync_next(net, &pos, si)) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &dstor_genl_family,
				  NLM_F_MULTI, DSTOR_CMD_SYNC_GET);
		if (sync_fill(skb, hdr, si))
			break;
		cb->args[0] = pos;
	}
	kfree(si);
	return skb->len;
}

/* See sync.h. From the sync's thread: it may sleep. */
void dstor_nl_sync_event(struct net *net, u32 event,
			 const struct dstor_sync_info *si)
{
	struct sk_buff *skb;
	void *hdr;
	int err;

	skb = dstor_nl_event_new(event, GFP_KERNEL, &hdr);
	if (!skb)
		return;
	err = nla_put_u32(skb, DSTOR_A_INDEX, si->index) ||
	      nla_put_string(skb, DSTOR_A_NAME, si->name) ||
	      nla_put_string(skb, DSTOR_A_DEVICE, si->path) ||
	      dstor_nl_endpoint_put(skb, DSTOR_A_PEER, &si->peer) ||
	      nla_put_u64_64bit(skb, DSTOR_A_SYNC_REPAIRED, si->repaired,
				DSTOR_A_PAD) ||
	      (si->scrubbed &&
	       nla_put_u64_64bit(skb, DSTOR_A_SYNC_CORRUPT, si->corrupt,
				 DSTOR_A_PAD)) ||
	      (si->why && nla_put_string(skb, DSTOR_A_REASON, si->why));
	dstor_nl_event_send(skb, hdr, net, GFP_KERNEL, err);
}
