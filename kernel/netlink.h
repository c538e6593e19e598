/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The generic netlink family (netlink.c) and what its parts share:
 * netlink_export.c (exports, access lists), netlink_import.c (imports,
 * events) and netlink_sync.c (syncs). These files are the only ones that
 * encode or decode netlink.
 */
#ifndef _DSTOR_NETLINK_H
#define _DSTOR_NETLINK_H

#include <net/genetlink.h>
#include <uapi/linux/dstor.h>

#include "compat.h"
#include "sock.h"
#include "stats.h"

struct dstor_import;

extern struct genl_family dstor_genl_family;

/*
 * What pre_doit does for an op before its handler (ops' internal_flags);
 * post_doit undoes it.
 */
#define DSTOR_NL_LOCK		BIT(0)	/* hold dstor_cfg_mutex */
#define DSTOR_NL_EXPORT		BIT(1)	/* user_ptr[0]: DSTOR_A_NAME's export */
#define DSTOR_NL_IMPORT		BIT(2)	/* user_ptr[0]: DSTOR_A_INDEX's import */
#define DSTOR_NL_SYSADMIN	BIT(3)	/* opens a block device */

extern const struct nla_policy dstor_nl_endpoint_policy[DSTOR_A_ENDPOINT_MAX + 1];
extern struct netlink_range_validation dstor_nl_session_range;
int dstor_nl_endpoint_parse(struct nlattr *nest, struct dstor_endpoint *ep,
			    struct netlink_ext_ack *extack);
int dstor_nl_endpoint_put(struct sk_buff *skb, int attr,
			  const struct dstor_endpoint *ep);
int dstor_nl_stats_put(struct sk_buff *skb, struct dstor_stats *s, u64 mask);
/*
 * An EVENT notification: dstor_nl_event_new() starts it with DSTOR_A_EVENT
 * (NULL when out of memory; *@hdr for the end), the caller adds its
 * attributes, dstor_nl_event_send() sends it to the events group of @net,
 * or frees it when @err (an attribute did not fit).
 */
struct sk_buff *dstor_nl_event_new(u32 event, gfp_t gfp, void **hdr);
void dstor_nl_event_send(struct sk_buff *skb, void *hdr, struct net *net,
			 gfp_t gfp, int err);
const u8 *dstor_nl_key(struct genl_info *info);
int dstor_nl_key_usable(struct genl_info *info);
int dstor_nl_reply(struct genl_info *info, u8 cmd,
		   int (*fill)(struct sk_buff *skb, void *obj), void *obj);

/* netlink_export.c */
extern const struct nla_policy dstor_nl_export_add_policy[];
extern const struct nla_policy dstor_nl_export_set_policy[];
extern const struct nla_policy dstor_nl_acl_policy[];
extern const struct nla_policy dstor_nl_name_policy[];
int dstor_nl_export_add(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_export_del(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_export_set(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_export_rehash(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_export_get(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_export_dump(struct sk_buff *skb, struct netlink_callback *cb);
int dstor_nl_acl_add(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_acl_del(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_acl_get(struct sk_buff *skb, struct genl_info *info);

/* netlink_import.c */
extern const struct nla_policy dstor_nl_import_add_policy[];
extern const struct nla_policy dstor_nl_import_set_policy[];
extern const struct nla_policy dstor_nl_import_id_policy[];
struct dstor_import *dstor_nl_import_find(struct net *net, u32 index);
int dstor_nl_import_add(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_import_del(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_import_set(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_import_get(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_import_dump(struct sk_buff *skb, struct netlink_callback *cb);
void dstor_netlink_event(struct dstor_import *imp, u32 event, int queue);

/* netlink_sync.c */
extern const struct nla_policy dstor_nl_sync_add_policy[];
extern const struct nla_policy dstor_nl_sync_index_policy[];
int dstor_nl_sync_add(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_sync_del(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_sync_get(struct sk_buff *skb, struct genl_info *info);
int dstor_nl_sync_dump(struct sk_buff *skb, struct netlink_callback *cb);

int dstor_netlink_init(void);
void dstor_netlink_exit(void);

#endif /* _DSTOR_NETLINK_H */
