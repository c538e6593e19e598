/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counters of exports, imports and syncs (DSTOR_A_STATS_* in the uapi
 * header, in the same order).
 */
#ifndef _DSTOR_STATS_H
#define _DSTOR_STATS_H

#include <linux/atomic.h>
#include <linux/bits.h>

#include "proto.h"

enum dstor_stat {
	DSTOR_STAT_READS,
	DSTOR_STAT_WRITES,
	DSTOR_STAT_FLUSHES,
	DSTOR_STAT_DISCARDS,
	DSTOR_STAT_WRITE_ZEROES,
	DSTOR_STAT_READ_BYTES,
	DSTOR_STAT_WRITE_BYTES,
	DSTOR_STAT_ERRORS,
	DSTOR_STAT_INFLIGHT,
	DSTOR_STAT_RESENT,
	DSTOR_STAT_TIMEOUTS,
	DSTOR_STAT_RECONNECTS,
	DSTOR_STAT_KEEPALIVES,
	DSTOR_STAT_AUTH_FAILURES,
	DSTOR_STAT_ACL_DENIED,
	DSTOR_STAT_BAD_RECORDS,
	DSTOR_STAT_MC_PACKETS,
	DSTOR_STAT_MC_BYTES,
	DSTOR_STAT_MC_BLOCKS,
	DSTOR_STAT_MLD_REPORTS,
	DSTOR_STAT_MLD_BAD,
	DSTOR_STAT_MC_QUERIES,
	DSTOR_STAT_SYNC_BLOCKS,
	DSTOR_STAT_SYNC_GOOD,
	DSTOR_STAT_SYNC_RECEIVED,
	DSTOR_STAT_SYNC_VERIFIED,
	DSTOR_STAT_SYNC_HASH_BAD,
	DSTOR_STAT_SYNC_BYTES,
	DSTOR_STAT_SYNC_PACKETS,
	DSTOR_STAT_SYNC_PACKETS_BAD,
	DSTOR_STAT_SYNC_CHANNELS,
	DSTOR_STAT_REAPED,
	DSTOR_STAT_REFUSED,
	DSTOR_STAT_SYNC_SEEDED,
	DSTOR_STAT_SYNC_SEEDED_BYTES,
	DSTOR_STAT_MAX,
};

struct dstor_stats {
	atomic64_t c[DSTOR_STAT_MAX];
};

static inline void dstor_stat_add(struct dstor_stats *s, enum dstor_stat i,
				  s64 v)
{
	atomic64_add(v, &s->c[i]);
}

/* A request of @op over @bytes completed, with an error or not. */
static inline void dstor_stats_count(struct dstor_stats *s, u8 op,
				     u32 bytes, bool error)
{
	switch (op) {
	case DSTOR_OP_READ:
		dstor_stat_add(s, DSTOR_STAT_READS, 1);
		dstor_stat_add(s, DSTOR_STAT_READ_BYTES, bytes);
		break;
	case DSTOR_OP_WRITE:
		dstor_stat_add(s, DSTOR_STAT_WRITES, 1);
		dstor_stat_add(s, DSTOR_STAT_WRITE_BYTES, bytes);
		break;
	case DSTOR_OP_FLUSH:
		dstor_stat_add(s, DSTOR_STAT_FLUSHES, 1);
		break;
	case DSTOR_OP_DISCARD:
		dstor_stat_add(s, DSTOR_STAT_DISCARDS, 1);
		break;
	case DSTOR_OP_WRITE_ZEROES:
		dstor_stat_add(s, DSTOR_STAT_WRITE_ZEROES, 1);
		break;
	}
	if (error)
		dstor_stat_add(s, DSTOR_STAT_ERRORS, 1);
}

/* Which counters each object reports. */
#define DSTOR_STATS_COMMON	GENMASK_ULL(DSTOR_STAT_INFLIGHT, 0)
#define DSTOR_STATS_IMPORT	(DSTOR_STATS_COMMON | \
				 BIT_ULL(DSTOR_STAT_RESENT) | \
				 BIT_ULL(DSTOR_STAT_TIMEOUTS) | \
				 BIT_ULL(DSTOR_STAT_RECONNECTS) | \
				 BIT_ULL(DSTOR_STAT_KEEPALIVES) | \
				 BIT_ULL(DSTOR_STAT_BAD_RECORDS))
#define DSTOR_STATS_EXPORT	(DSTOR_STATS_COMMON | \
				 BIT_ULL(DSTOR_STAT_AUTH_FAILURES) | \
				 BIT_ULL(DSTOR_STAT_ACL_DENIED) | \
				 BIT_ULL(DSTOR_STAT_BAD_RECORDS) | \
				 BIT_ULL(DSTOR_STAT_REAPED) | \
				 BIT_ULL(DSTOR_STAT_REFUSED))
#define DSTOR_STATS_MCAST	GENMASK_ULL(DSTOR_STAT_MC_QUERIES, \
					    DSTOR_STAT_MC_PACKETS)
#define DSTOR_STATS_SYNC	(GENMASK_ULL(DSTOR_STAT_SYNC_CHANNELS, \
					     DSTOR_STAT_SYNC_BLOCKS) | \
				 BIT_ULL(DSTOR_STAT_SYNC_SEEDED) | \
				 BIT_ULL(DSTOR_STAT_SYNC_SEEDED_BYTES))

#endif /* _DSTOR_STATS_H */
