/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Arrays of single pages that the module owns: a sealed connection's
 * record slots and receive stage, the multicast sender's block, the tree
 * builder's read buffers, the sync target's write buffers. Allocation
 * fills an all-NULL array or leaves it all NULL; freeing skips the empty
 * entries, so a half-built owner can be torn down by the same call.
 */
#ifndef _DSTOR_PAGES_H
#define _DSTOR_PAGES_H

#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/mm_types.h>

/*
 * Free the pages of @pages[0..n), skipping empty entries; nothing when
 * the array itself is missing (an owner torn down half built).
 */
static inline void dstor_pages_free(struct page **pages, unsigned int n)
{
	unsigned int i;

	for (i = 0; pages && i < n; i++) {
		if (pages[i])
			__free_page(pages[i]);
		pages[i] = NULL;
	}
}

/*
 * Fill @pages[0..n), all NULL, with single pages: 0, or -ENOMEM with
 * none kept (all NULL again).
 */
static inline int dstor_pages_alloc(struct page **pages, unsigned int n,
				    gfp_t gfp)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		pages[i] = alloc_page(gfp);
		if (!pages[i]) {
			dstor_pages_free(pages, i);
			return -ENOMEM;
		}
	}
	return 0;
}

#endif /* _DSTOR_PAGES_H */
