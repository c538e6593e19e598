/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The group addresses of a multicast export, derived as kernel/merkle.c
 * does (Documentation/multicast.md "Groups and channels"), with OpenSSL.
 */
#ifndef DSTOR_TESTING_MCGROUP_H
#define DSTOR_TESTING_MCGROUP_H

#include <netinet/in.h>

#include "mcast_proto.h"

/* dstor_mc_group(): @root NULL means zeros. */
void mc_group(const char *name, u8 kind, u64 epoch, const u8 *root, u64 node,
	      struct in6_addr *g);

#endif
