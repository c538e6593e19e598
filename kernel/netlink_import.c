// SPDX-License-Identifier: GPL-2.0
/*
 * Netlink for imports: IMPORT_ADD/DEL/SET/GET and the events
 * (include/uapi/linux/dstor.h). Imports belong to the namespace of the
 * socket that added them; their device numbers are the machine's, but a
 * command from another namespace does not see them.
 */
#include <linux/cpumask.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "dstor.h"
#include "import.h"
#include "netlink.h"

#define TIMER_POLICY(min) NLA_POLICY_RANGE(NLA_U32, min, DSTOR_MAX_SECONDS)

const struct nla_policy dstor_nl_import_add_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
	[DSTOR_A_PEER] = NLA_POLICY_NESTED(dstor_nl_endpoint_policy),
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
	[DSTOR_A_LOCAL_NAME] = { .type = NLA_NUL_STRING,
				 .len = DSTOR_NAME_MAX - 1 },
};

const struct nla_policy dstor_nl_import_set_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_KEY] = NLA_POLICY_EXACT_LEN(DSTOR_KEY_LEN),
	[DSTOR_A_INDEX] = { .type = NLA_U32 },
	[DSTOR_A_TIMEOUT] = TIMER_POLICY(1),
	[DSTOR_A_RETRIES] = NLA_POLICY_MAX(NLA_U32, DSTOR_MAX_RETRIES),
	[DSTOR_A_RECONNECT_MIN] = TIMER_POLICY(1),
	[DSTOR_A_RECONNECT_MAX] = TIMER_POLICY(1),
	[DSTOR_A_KEEPALIVE] = TIMER_POLICY(1),
	[DSTOR_A_DEAD_AFTER] = TIMER_POLICY(2),
};

const struct nla_policy dstor_nl_import_id_policy[DSTOR_A_MAX + 1] = {
	[DSTOR_A_NAME] = { .type = NLA_NUL_STRING, .len = DSTOR_NAME_MAX - 1 },
	[DSTOR_A_INDEX] = { .type = NLA_U32 },
};

static const struct dstor_timers default_timers = {
	.timeout = DSTOR_DEFAULT_TIMEOUT,
	.retries = DSTOR_DEFAULT_RETRIES,
	.reconnect_min = DSTOR_DEFAULT_RECONNECT_MIN,
	.reconnect_max = DSTOR_DEFAULT_RECONNECT_MAX,
	.keepalive = DSTOR_DEFAULT_KEEPALIVE,
	.dead_after = DSTOR_DEFAULT_DEAD_AFTER,
};

/* The import with device index @index in @net; cfg mutex held. */
struct dstor_import *dstor_nl_import_find(struct net *net, u32 index)
{
	struct dstor_import *imp;

	lockdep_assert_held(&dstor_cfg_mutex);
	list_for_each_entry(imp, &dstor_imports, entry)
		if (imp->index == index && net_eq(imp->net, net))
			return imp;
	return NULL;
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

/* Why the import is down or failed, while it is. */
static int reason_put(struct sk_buff *skb, struct dstor_import *imp)
{
	enum dstor_why why = READ_ONCE(imp->why);

	if (!why || dstor_import_state(imp) == DSTOR_STATE_CONNECTED)
		return 0;
	return nla_put_string(skb, DSTOR_A_REASON, dstor_why_text(why));
}

static int import_attrs(struct sk_buff *skb, void *obj)
{
	struct dstor_import *imp = obj;

	if (nla_put_u32(skb, DSTOR_A_INDEX, imp->index) ||
	    nla_put_string(skb, DSTOR_A_NAME, imp->name) ||
	    (*imp->local &&
	     nla_put_string(skb, DSTOR_A_LOCAL_NAME, imp->local)) ||
	    dstor_nl_endpoint_put(skb, DSTOR_A_PEER, &imp->peer) ||
	    nla_put_u32(skb, DSTOR_A_FLAGS, imp->flags) ||
	    nla_put_u64_64bit(skb, DSTOR_A_SIZE, imp->info.size, DSTOR_A_PAD) ||
	    nla_put_u32(skb, DSTOR_A_BLOCK_SIZE,
			imp->info.logical_block_size) ||
	    nla_put(skb, DSTOR_A_UUID, DSTOR_UUID_LEN, imp->info.uuid) ||
	    nla_put_u32(skb, DSTOR_A_CONNECTIONS, imp->nr_queues) ||
	    nla_put_u32(skb, DSTOR_A_CONNECTED, dstor_import_connected(imp)) ||
	    nla_put_u32(skb, DSTOR_A_STATE, dstor_import_state(imp)) ||
	    reason_put(skb, imp) ||
	    timers_put(skb, &imp->timers) ||
	    import_key_put(skb, imp) ||
	    dstor_nl_stats_put(skb, &imp->stats, DSTOR_STATS_IMPORT))
		return -EMSGSIZE;
	return 0;
}

int dstor_nl_import_add(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct dstor_import_cfg cfg = {
		.nr_conns = min(num_online_cpus(), 4U),
		.timers = default_timers,
	};
	struct dstor_import *imp;
	int index, ret;

	if (GENL_REQ_ATTR_CHECK(info, DSTOR_A_NAME) ||
	    GENL_REQ_ATTR_CHECK(info, DSTOR_A_PEER))
		return -EINVAL;
	cfg.name = nla_data(info->attrs[DSTOR_A_NAME]);
	/* What an exporter can name: it goes into the HELLO as it is. */
	if (!dstor_name_ok(cfg.name)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[DSTOR_A_NAME],
				    DSTOR_NAME_RULE);
		return -EINVAL;
	}
	ret = dstor_nl_endpoint_parse(info->attrs[DSTOR_A_PEER], &cfg.peer,
				      info->extack);
	if (ret)
		return ret;
	if (info->attrs[DSTOR_A_FLAGS])
		cfg.flags = nla_get_u32(info->attrs[DSTOR_A_FLAGS]);
	if (info->attrs[DSTOR_A_CONNECTIONS])
		cfg.nr_conns = nla_get_u32(info->attrs[DSTOR_A_CONNECTIONS]);
	if (info->attrs[DSTOR_A_LOCAL_NAME]) {
		/*
		 * A name for the whole machine's /dev (and its fstab), not
		 * only for this network namespace: as opening a block device.
		 */
		if (!netlink_capable(skb, CAP_SYS_ADMIN)) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[DSTOR_A_LOCAL_NAME],
					    "a local name needs CAP_SYS_ADMIN (as well as CAP_NET_ADMIN)");
			return -EPERM;
		}
		cfg.local = nla_data(info->attrs[DSTOR_A_LOCAL_NAME]);
	}
	ret = timers_parse(info, &cfg.timers);
	if (!ret)
		ret = dstor_nl_key_usable(info);
	if (ret)
		return ret;
	cfg.key = dstor_nl_key(info);

	ret = dstor_import_add(net, &cfg, &index, info->extack);
	if (ret)
		return ret;
	mutex_lock(&dstor_cfg_mutex);
	imp = dstor_nl_import_find(net, index);
	ret = imp ? dstor_nl_reply(info, DSTOR_CMD_IMPORT_ADD, import_attrs,
				   imp) : 0;
	mutex_unlock(&dstor_cfg_mutex);
	return ret;
}

int dstor_nl_import_del(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *name_attr = info->attrs[DSTOR_A_NAME];
	struct nlattr *index_attr = info->attrs[DSTOR_A_INDEX];
	struct net *net = genl_info_net(info);
	struct dstor_import *imp, *found = NULL;

	if (!name_attr == !index_attr) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "give exactly one of an index and a name");
		return -EINVAL;
	}
	if (index_attr) {
		found = dstor_nl_import_find(net, nla_get_u32(index_attr));
	} else {
		list_for_each_entry(imp, &dstor_imports, entry) {
			if (!net_eq(imp->net, net) ||
			    strcmp(imp->name, nla_data(name_attr)))
				continue;
			if (found) {
				NL_SET_ERR_MSG_ATTR(info->extack, name_attr,
						    "more than one import has that name: give the device");
				return -EINVAL;
			}
			found = imp;
		}
	}
	if (!found) {
		NL_SET_ERR_MSG_MOD(info->extack, "no such import");
		return -ENOENT;
	}
	return dstor_import_del(found, info->extack);
}

int dstor_nl_import_set(struct sk_buff *skb, struct genl_info *info)
{
	struct dstor_import *imp = info->user_ptr[0];
	struct dstor_timers timers = imp->timers;
	int ret;

	ret = dstor_nl_key_usable(info);
	if (!ret)
		ret = timers_parse(info, &timers);
	if (ret)
		return ret;
	dstor_import_set_timers(imp, &timers);
	if (info->attrs[DSTOR_A_KEY])
		dstor_import_set_key(imp, dstor_nl_key(info));
	return 0;
}

int dstor_nl_import_get(struct sk_buff *skb, struct genl_info *info)
{
	return dstor_nl_reply(info, DSTOR_CMD_IMPORT_GET, import_attrs,
			      info->user_ptr[0]);
}

int dstor_nl_import_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(cb->skb->sk);
	long i = 0, start = cb->args[0];
	struct dstor_import *imp;
	void *hdr;

	mutex_lock(&dstor_cfg_mutex);
	list_for_each_entry(imp, &dstor_imports, entry) {
		if (!net_eq(imp->net, net) || i++ < start)
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &dstor_genl_family,
				  NLM_F_MULTI, DSTOR_CMD_IMPORT_GET);
		if (!hdr || import_attrs(skb, imp)) {
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

/*
 * Tell listeners on the events group, in the import's namespace only, that
 * something happened to it. @queue < 0: not about one connection.
 */
void dstor_netlink_event(struct dstor_import *imp, u32 event, int queue)
{
	struct sk_buff *skb;
	void *hdr;
	int err;

	skb = dstor_nl_event_new(event, GFP_NOIO, &hdr);
	if (!skb)
		return;
	err = nla_put_u32(skb, DSTOR_A_INDEX, imp->index) ||
	      nla_put_string(skb, DSTOR_A_NAME, imp->name) ||
	      (*imp->local &&
	       nla_put_string(skb, DSTOR_A_LOCAL_NAME, imp->local)) ||
	      dstor_nl_endpoint_put(skb, DSTOR_A_PEER, &imp->peer) ||
	      nla_put_u32(skb, DSTOR_A_STATE, dstor_import_state(imp)) ||
	      reason_put(skb, imp) ||
	      nla_put_u32(skb, DSTOR_A_CONNECTIONS, imp->nr_queues) ||
	      nla_put_u32(skb, DSTOR_A_CONNECTED, dstor_import_connected(imp)) ||
	      (queue >= 0 && nla_put_u32(skb, DSTOR_A_QUEUE, queue));
	dstor_nl_event_send(skb, hdr, imp->net, GFP_NOIO, err);
}
