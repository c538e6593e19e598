// SPDX-License-Identifier: GPL-2.0
/*
 * Per-export access lists: IPv4 and IPv6 prefixes with read-only or
 * read-write permission. An empty list admits every peer read-write; once
 * it has an entry, a peer that matches none is refused, and the longest
 * matching prefix decides the permission.
 *
 * The list is an array sorted by prefix length, longest first, so the
 * first match is the longest; it is replaced as a whole under the
 * configuration mutex and read under RCU by sessions at their hello. With
 * at most DSTOR_MAX_ACLS entries checked once per connection, a scan beats
 * a trie in code and cache footprint. The netlink side parses and encodes
 * the entries.
 */
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <net/ipv6.h>
#include <net/netlink.h>
#include <uapi/linux/dstor.h>

#include "acl.h"
#include "dstor.h"

/* Do the first @bits bits of @a and @b agree? */
static bool prefix_match(const u8 *a, const u8 *b, unsigned int bits)
{
	unsigned int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes))
		return false;
	return !rest || !((a[bytes] ^ b[bytes]) & (0xff << (8 - rest)));
}

/* The peer's address as an ACL sees it: IPv4-mapped IPv6 is IPv4. */
static sa_family_t peer_addr(const struct sockaddr_storage *ss, u8 *addr)
{
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	const struct sockaddr_in *sin = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		memcpy(addr, &sin->sin_addr, 4);
		return AF_INET;
	}
	if (ss->ss_family != AF_INET6)
		return AF_UNSPEC;	/* matches no entry */
	if (ipv6_addr_v4mapped(&sin6->sin6_addr)) {
		memcpy(addr, &sin6->sin6_addr.s6_addr32[3], 4);
		return AF_INET;
	}
	memcpy(addr, &sin6->sin6_addr, 16);
	return AF_INET6;
}

/* DSTOR_PERM_RO, DSTOR_PERM_RW, or 0: refused. */
u8 dstor_acl_check(struct dstor_acl __rcu **aclp,
		   const struct sockaddr_storage *peer)
{
	struct dstor_acl *acl;
	u8 addr[16], perm = 0;
	sa_family_t family = peer_addr(peer, addr);
	unsigned int i;

	rcu_read_lock();
	acl = rcu_dereference(*aclp);
	if (!acl || !acl->n) {
		perm = DSTOR_PERM_RW;
	} else {
		for (i = 0; i < acl->n; i++) {
			const struct dstor_acl_entry *e = &acl->e[i];

			if (e->family == family &&
			    prefix_match(e->addr, addr, e->prefix_len)) {
				perm = e->perm;
				break;
			}
		}
	}
	rcu_read_unlock();
	return perm;
}

static bool same_prefix(const struct dstor_acl_entry *a,
			const struct dstor_acl_entry *b)
{
	return a->family == b->family && a->prefix_len == b->prefix_len &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/*
 * Longest prefix first; equal lengths in family and address order, so the
 * list (and what show and showconf print) is the same however the entries
 * came in. No two entries compare equal: dstor_acl_update() replaces one
 * with the same prefix.
 */
static int longest_first(const void *a, const void *b)
{
	const struct dstor_acl_entry *x = a, *y = b;

	if (x->prefix_len != y->prefix_len)
		return (int)y->prefix_len - (int)x->prefix_len;
	if (x->family != y->family)
		return (int)x->family - (int)y->family;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

/*
 * Add (or replace) an entry, or delete one. Builds a new array and
 * publishes it; readers keep the old one until a grace period passes.
 */
int dstor_acl_update(struct dstor_acl __rcu **aclp,
		     const struct dstor_acl_entry *e, bool del,
		     struct netlink_ext_ack *extack)
{
	struct dstor_acl *old = rcu_dereference_protected(*aclp,
				lockdep_is_held(&dstor_cfg_mutex));
	unsigned int i, n = old ? old->n : 0, found = n;
	struct dstor_acl *acl;

	for (i = 0; i < n; i++)
		if (same_prefix(&old->e[i], e))
			found = i;
	if (del && found == n) {
		NL_SET_ERR_MSG_MOD(extack, "no access entry for that prefix");
		return -ENOENT;
	}
	if (!del && found == n && n >= DSTOR_MAX_ACLS) {
		NL_SET_ERR_MSG_MOD(extack, "the access list is full");
		return -ENOSPC;
	}

	acl = kzalloc(struct_size(acl, e, n + 1), GFP_KERNEL);
	if (!acl)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (i != found)
			acl->e[acl->n++] = old->e[i];
	if (!del)
		acl->e[acl->n++] = *e;
	sort(acl->e, acl->n, sizeof(acl->e[0]), longest_first, NULL);

	rcu_assign_pointer(*aclp, acl);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

void dstor_acl_free(struct dstor_acl __rcu **aclp)
{
	struct dstor_acl *acl = rcu_dereference_protected(*aclp, true);

	RCU_INIT_POINTER(*aclp, NULL);
	if (acl)
		kfree_rcu(acl, rcu);
}
