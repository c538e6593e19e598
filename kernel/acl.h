/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-export access lists (acl.c).
 */
#ifndef _DSTOR_ACL_H
#define _DSTOR_ACL_H

#include <linux/rcupdate.h>
#include <linux/socket.h>
#include <linux/types.h>

struct netlink_ext_ack;

struct dstor_acl_entry {
	sa_family_t family;
	u8 prefix_len;
	u8 perm;			/* DSTOR_PERM_* */
	u8 addr[16];
};

struct dstor_acl {
	struct rcu_head rcu;
	unsigned int n;
	struct dstor_acl_entry e[];	/* longest prefix first */
};

u8 dstor_acl_check(struct dstor_acl __rcu **aclp,
		   const struct sockaddr_storage *peer);
int dstor_acl_update(struct dstor_acl __rcu **aclp,
		     const struct dstor_acl_entry *e, bool del,
		     struct netlink_ext_ack *extack);
void dstor_acl_free(struct dstor_acl __rcu **aclp);

#endif /* _DSTOR_ACL_H */
