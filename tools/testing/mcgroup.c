// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include <linux/dstor.h>
#include <openssl/evp.h>

#include "common.h"
#include "mcgroup.h"

#define LABEL_GROUP	"dstor v1 mcast group"

void mc_group(const char *name, u8 kind, u64 epoch, const u8 *root, u64 node,
	      struct in6_addr *g)
{
	u8 buf[sizeof(LABEL_GROUP) + DSTOR_NAME_MAX + 10 + DSTOR_MC_HASH + 8];
	size_t n = strlen(LABEL_GROUP), nl = strnlen(name, DSTOR_NAME_MAX - 1);
	u8 *p = buf, h[DSTOR_MC_HASH];

	/* "dstor v1 mcast group" || name || 0 || kind || be64(epoch) || root || be64(node) */
	memcpy(p, LABEL_GROUP, n);
	p += n;
	memcpy(p, name, nl);
	p += nl;
	*p++ = 0;
	*p++ = kind;
	dstor_put64(p, epoch);
	p += 8;
	if (root)
		memcpy(p, root, DSTOR_MC_HASH);
	else
		memset(p, 0, DSTOR_MC_HASH);
	p += DSTOR_MC_HASH;
	dstor_put64(p, node);
	p += 8;
	if (!EVP_Digest(buf, (size_t)(p - buf), h, NULL, EVP_blake2s256(), NULL))
		die("BLAKE2s-256 failed");
	memset(g, 0, sizeof(*g));
	g->s6_addr[0] = 0xff;
	g->s6_addr[1] = 0x12;
	memcpy(g->s6_addr + 2, h, 14);
}
