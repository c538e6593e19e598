/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An export's merkle tree, kept level by level and published for
 * reconciliation over TCP (tree.c; Documentation/reconciliation.md).
 */
#ifndef _DSTOR_TREE_H
#define _DSTOR_TREE_H

#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

#include "proto.h"

struct block_device;
struct dstor_export;
struct netlink_ext_ack;
struct page;
struct task_struct;
struct tree_build;

/* Levels of a tree of at most DSTOR_TREE_MAX_LEAVES leaves: 0 to 40. */
#define DSTOR_TREE_LEVELS	41

/* A published tree: never changed; replaced whole, freed after a grace. */
struct dstor_tree {
	u64 n;				/* leaves */
	u32 top;			/* its top level: one node */
	u64 generation;
	u8 root[DSTOR_TREE_HASH];
	u8 *level[DSTOR_TREE_LEVELS];	/* dstor_tree_nodes(n, L) hashes each */
};

/* What an export keeps of its tree. */
struct dstor_tree_slot {
	struct dstor_tree __rcu *tree;	/* the published tree, or NULL */
	struct mutex lock;		/* orders generations and replacements */
	u32 block_size;			/* 0: the export has no tree */
	u32 block_shift;		/* ilog2(block_size) */
	u32 built;			/* per mille hashed (READ_ONCE) */
	int err;			/* the build failed (READ_ONCE) */
	u64 generation;			/* of the next publication */
	struct task_struct *task;	/* the builder: not with multicast */
	struct tree_build *build;	/* its memory: dstor_tree_stop() frees */
	unsigned long *dirty;		/* leaves written since their hash:
					 * the builder's exports; set from
					 * any context, freed with the slot
					 */
	bool passing;			/* a live pass re-hashes them, or a
					 * rehash reads the device
					 */
};

struct dstor_tree *dstor_tree_new(const u8 *kt, const u8 *leaves, u64 n,
				  u64 size, u32 block_size);
void dstor_tree_free(struct dstor_tree *t);
void dstor_tree_update(struct dstor_tree *t, const u8 *kt, const u8 *leaves,
		       const unsigned long *changed, u64 size, u32 block_size);
int dstor_tree_start(struct dstor_export *exp, u32 block_size, bool build,
		     struct netlink_ext_ack *extack);
void dstor_tree_stop(struct dstor_export *exp);
int dstor_tree_rehash(struct dstor_export *exp, struct netlink_ext_ack *extack);
void dstor_tree_free_slot(struct dstor_export *exp);
int dstor_tree_publish(struct dstor_export *exp, const u8 *kt,
		       const u8 *leaves, u64 n);
void dstor_tree_failed(struct dstor_export *exp, int err);
void dstor_tree_progress(struct dstor_export *exp, u64 done, u64 n);
void dstor_tree_written(struct dstor_export *exp, u64 pos, u64 len);
int dstor_tree_read_block(struct block_device *bdev, struct page **pages,
			  u64 size, u32 block_size, u64 index);
u16 dstor_tree_info(struct dstor_export *exp, u8 *buf, bool pending);
u16 dstor_tree_fp(struct dstor_export *exp, u64 offset, u32 count,
		  const u8 *gen, u8 *buf);

/* A snapshot for `show`. */
struct dstor_tree_status {
	u32 block_size;			/* 0: no tree */
	u32 built;			/* per mille while building */
	int err;
	bool published;
	u64 leaves;
	u64 generation;
	u8 root[DSTOR_TREE_HASH];
};

void dstor_tree_status(struct dstor_export *exp, struct dstor_tree_status *ts);

#endif /* _DSTOR_TREE_H */
