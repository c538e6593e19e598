/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the libFuzzer targets over kernel/proto.h.
 *
 * Each target decodes the fuzzer's bytes with the module's own decoder and
 * checks it two ways:
 *   - against a reference predicate written here, independently, from the
 *     rules in proto.h's comments: the decoder must accept exactly what the
 *     reference accepts (so it neither lets a bad frame through nor refuses
 *     a good one);
 *   - against invariants of what it accepted (fields within their limits,
 *     decode then encode gives back the same bytes).
 * A failed check prints what differed and aborts: libFuzzer reports it as a
 * crash and saves the input.
 *
 * Decoders read fixed-size buffers; the targets copy the input into a heap
 * buffer of exactly that size so AddressSanitizer sees any read past it.
 */
#ifndef DSTOR_FUZZ_H
#define DSTOR_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#include "proto.h"

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: check failed: %s: ",	\
				__FILE__, __LINE__, #cond);		\
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
			abort();					\
		}							\
	} while (0)

/* Independent big-endian readers (not proto.h's). */
static inline u32 ref_be(const u8 *p, int n)
{
	u32 v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static inline u64 ref_be64(const u8 *p)
{
	return (u64)ref_be(p, 4) << 32 | ref_be(p + 4, 4);
}

static inline int ref_pow2(u64 v)
{
	return v && !(v & (v - 1));
}

static inline int ref_is_request(u8 op)
{
	return op >= DSTOR_OP_READ && op <= DSTOR_OP_WRITE_ZEROES;
}

/* Is the decoder's error one of the codes it documents? */
static inline int ref_known_err(int ret)
{
	return ret < 0 && ret >= -DSTOR_EPROTO_SIZE;
}

/*
 * The header rules of protocol versions 2 to 4 (proto.h, Documentation/protocol.md),
 * spelled out field by field with the numbers of the specification rather
 * than proto.h's constants.
 */
static inline int ref_hdr_ok(const u8 *b)
{
	u8 op = b[4], flags = b[5];
	u32 status = ref_be(b + 6, 2);
	u64 offset = ref_be64(b + 16);
	u32 length = ref_be(b + 24, 4), payload = ref_be(b + 28, 4);
	u32 allowed;

	if (b[0] != 'D' || b[1] != 'S' || b[2] != 'T' || b[3] != 'R')
		return 0;
	/* Ops 1 (HELLO) .. 12 (AUTH_RESPONSE); 13, 14: version 4's trees. */
	if (op < 1 || op > 14)
		return 0;
	if (op == DSTOR_OP_REPLY) {
		/* Data statuses: OK 0, IOERR 1 .. NOSPC 5; STALE 13 (v4). */
		if (status > 5 && status != 13)
			return 0;
	} else if (op == DSTOR_OP_HELLO_REPLY) {
		/*
		 * Hello statuses: OK 0, NOEXPORT 6, DENIED 7, VERSION 8,
		 * BUSY 9, AUTH 10, LIMIT_EXPORT 11, LIMIT_HOST 12.
		 */
		if (status && (status < 6 || status > 12))
			return 0;
	} else if (status) {
		return 0;
	}
	allowed = op == DSTOR_OP_WRITE ? DSTOR_RQ_FUA | DSTOR_RQ_PREFLUSH :
		  op == DSTOR_OP_WRITE_ZEROES ? DSTOR_RQ_NOUNMAP : 0;
	if (flags & ~allowed)
		return 0;
	if (ref_is_request(op) && (offset % 512 || length % 512))
		return 0;

	switch (op) {
	case DSTOR_OP_HELLO:
		/* 128 bytes; a version 1 importer's 120 is read too. */
		return !offset && !length && (payload == 128 || payload == 120);
	case DSTOR_OP_HELLO_REPLY:
		/* 56 bytes with OK, nothing with a refusal. */
		return !offset && !length && payload == (status ? 0U : 56U);
	case DSTOR_OP_AUTH_CHALLENGE:
		return !offset && !length && payload == 68;
	case DSTOR_OP_AUTH_RESPONSE:
		return !offset && !length && payload == 32;
	case DSTOR_OP_READ:
		return length >= 1 && length <= 512 * 1024 && payload == 0;
	case DSTOR_OP_WRITE:
		return length >= 1 && length <= 512 * 1024 && payload == length;
	case DSTOR_OP_FLUSH:
		return !offset && !length && !payload;
	case DSTOR_OP_DISCARD:
	case DSTOR_OP_WRITE_ZEROES:
		return length >= 1 && length <= (1U << 30) && !payload;
	case DSTOR_OP_REPLY:
		return payload <= 512 * 1024;
	case 13: /* TREE_INFO */
		return !offset && !length && !payload;
	case 14: /* TREE_FP: offset and length name nodes; 8 bytes: a generation */
		return length >= 1 && length <= 511 && payload == 8;
	default: /* PING, PONG */
		return !offset && !length && !payload;
	}
}

/*
 * The version fields of a HELLO of either length (the first 4 bytes of
 * version 1's 120 and version 2's 128) are well formed: version_min at
 * least 1 and not above version_max.
 */
static inline int ref_hello_versions_ok(const u8 *b)
{
	u32 vmin = ref_be(b, 2), vmax = ref_be(b + 2, 2);

	return vmin >= 1 && vmin <= vmax;
}

/*
 * Every rule of a version 2 HELLO payload (128 bytes) but the version
 * fields: reserved 21..23 and 124..127 zero, flags READ_ONLY 1 and AUTH 2
 * only, 1..16 queues and queue below nr_queues, a name of 1..63 bytes,
 * NUL-terminated and NUL-padded, ciphers (1 << 1 and 1 << 2 only) exactly
 * with AUTH, and the timers: keepalive at 120 and dead_after at 122 both 0
 * or both set, dead_after above keepalive and at most 3600.
 */
static inline int ref_hello_rest_ok(const u8 *b)
{
	u32 flags = ref_be(b + 4, 4);
	u32 queue = ref_be(b + 16, 2), nrq = ref_be(b + 18, 2);
	u32 keepalive = ref_be(b + 120, 2), dead_after = ref_be(b + 122, 2);
	u8 ciphers = b[20];
	int n = 0;

	if (b[21] || b[22] || b[23])
		return 0;
	if (b[124] || b[125] || b[126] || b[127])
		return 0;
	if (flags & ~3U)
		return 0;
	if (nrq < 1 || nrq > 16 || queue >= nrq)
		return 0;
	while (n < 64 && b[24 + n])
		n++;
	if (n < 1 || n > 63)
		return 0;
	for (int i = n; i < 64; i++)
		if (b[24 + i])
			return 0;
	if (!!(flags & 2) != !!ciphers)
		return 0;
	if (ciphers & ~((1U << 1) | (1U << 2)))
		return 0;
	if (keepalive || dead_after) {
		if (!keepalive || !dead_after)
			return 0;
		if (dead_after <= keepalive || dead_after > 3600)
			return 0;
	}
	return 1;
}

/* HELLO payload rules (version 2, 128 bytes). */
static inline int ref_hello_ok(const u8 *b)
{
	return ref_hello_versions_ok(b) && ref_hello_rest_ok(b);
}

/*
 * HELLO_REPLY payload rules (versions 2 to 5, 56 bytes). The reply carries
 * the version chosen, 2 to 5; flag bit 6 (KA_LEAD) is version 3's and up,
 * bit 7 (TREE) version 4's and up (5 adds no flag);
 * uuid (32..47) and incarnation (48..55) are opaque: any value is valid.
 */
static inline int ref_hello_reply_ok(const u8 *b)
{
	u32 version = ref_be(b, 2), reserved = ref_be(b + 2, 2);
	u32 flags = ref_be(b + 4, 4);
	u64 size = ref_be64(b + 8);
	u32 lbs = ref_be(b + 16, 4), pbs = ref_be(b + 20, 4);
	u32 max_io = ref_be(b + 24, 4), max_range = ref_be(b + 28, 4);

	if (reserved || version < 2 || version > 5 ||
	    (flags & ~(version == 2 ? 0x3fU : version == 3 ? 0x7fU : 0xffU)))
		return 0;
	if (!ref_pow2(lbs) || lbs < 512 || lbs > 4096)
		return 0;
	if (!ref_pow2(pbs) || pbs < lbs || pbs > 65536)
		return 0;
	if (!size || size % lbs)
		return 0;
	if (max_io < 4096 || max_io > 512 * 1024 || max_io % lbs)
		return 0;
	if (max_range > (1U << 30) || max_range % lbs)
		return 0;
	if (!max_range && (flags & (8 | 16)))
		return 0;
	return 1;
}

/*
 * Sealed records (version 2): a frame is one header record, n = 32 + 16,
 * then its payload in records of 16384 plaintext bytes each, the last one
 * shorter, each n = chunk + 16. The n of the next record, given the bytes
 * of the current frame's payload not yet received.
 */
static inline u32 ref_rec_next_len(u32 payload_left)
{
	if (!payload_left)
		return 32 + 16;
	return (payload_left > 16384 ? 16384 : payload_left) + 16;
}

/* Any record length a receiver may take: 1..16384 plaintext bytes + tag. */
static inline int ref_rec_len_ok(u32 n)
{
	return n >= 1 + 16 && n <= 16384 + 16;
}

/* AUTH_CHALLENGE payload rules, given the ciphers the HELLO offered. */
static inline int ref_challenge_ok(const u8 *b, u8 offered)
{
	if (b[1] || b[2] || b[3])
		return 0;
	return b[0] < 8 && (offered >> b[0] & 1);
}

#endif /* DSTOR_FUZZ_H */
