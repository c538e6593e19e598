// SPDX-License-Identifier: GPL-2.0
/*
 * Write the fuzzers' seed corpora (protocol version 2): valid frames of
 * every op, HELLOs (with and without timers, and version 1's 120 bytes),
 * HELLO_REPLYs with uuid and incarnation, challenges, record lengths and
 * next-record lengths, ranges and whole sessions (sealed ones in chunked
 * records), plus a few near misses, several of them version 1 layouts. Every frame is built with proto.h's own encoders
 * and checked with its decoders, so a seed that stops being valid (or
 * invalid) after a protocol change fails the generator.
 *
 *   gen_corpus DIR     writes DIR/TARGET/NAME (run by gen-corpus.sh)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "mcast_proto.h"
#include "proto.h"

static const char *outdir;
static int nfiles;

static void die(const char *what)
{
	fprintf(stderr, "gen_corpus: %s\n", what);
	exit(1);
}

static void put(const char *target, const char *name, const void *p,
		size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) && errno != EEXIST)
		die("mkdir");
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f))
		die(path);
	nfiles++;
}

/* A growing byte buffer for sessions. */
struct buf {
	u8 b[65536];
	size_t n;
};

static void add(struct buf *b, const void *p, size_t len)
{
	if (b->n + len > sizeof(b->b))
		die("session buffer");
	memcpy(b->b + b->n, p, len);
	b->n += len;
}

static void add_hdr(struct buf *b, const struct dstor_hdr *h)
{
	u8 x[DSTOR_HDR_LEN];
	struct dstor_hdr chk;

	dstor_hdr_encode(x, h);
	if (dstor_hdr_decode(x, &chk))
		die("a seed header does not decode");
	add(b, x, sizeof(x));
}

static struct dstor_hello hello(u32 flags, u8 ciphers, u16 q, u16 nq,
				const char *name)
{
	struct dstor_hello m = {
		.version_min = DSTOR_PROTO_VERSION,
		.version_max = DSTOR_PROTO_VERSION, .flags = flags,
		.session = 0x0123456789abcdefULL, .queue = q, .nr_queues = nq,
		.ciphers = ciphers,
	};

	strncpy(m.name, name, sizeof(m.name) - 1);
	if (ciphers)
		for (int i = 0; i < DSTOR_NONCE_LEN; i++)
			m.nonce[i] = (u8)(i * 7 + 1);
	return m;
}

static void add_hello(struct buf *b, const struct dstor_hello *m)
{
	struct dstor_hdr h = { .op = DSTOR_OP_HELLO, .payload = DSTOR_HELLO_LEN };
	u8 x[DSTOR_HELLO_LEN];
	struct dstor_hello chk;

	add_hdr(b, &h);
	dstor_hello_encode(x, m);
	if (dstor_hello_decode(x, &chk))
		die("a seed hello does not decode");
	add(b, x, sizeof(x));
}

/* A version 1 importer's HELLO: 120 bytes, versions 1..1, no timers. */
static void add_hello_v1(struct buf *b, const struct dstor_hello *m)
{
	struct dstor_hdr h = { .op = DSTOR_OP_HELLO,
			       .payload = DSTOR_HELLO_V1_LEN };
	struct dstor_hello v1 = *m;
	u8 x[DSTOR_HELLO_LEN];

	add_hdr(b, &h);
	v1.version_min = 1;
	v1.version_max = 1;
	v1.keepalive = 0;
	v1.dead_after = 0;
	dstor_hello_encode(x, &v1);
	add(b, x, DSTOR_HELLO_V1_LEN);
}

/* A sealed record in the model's identity "cipher": n, plaintext, tag. */
static void add_rec(struct buf *b, const void *p, u32 len)
{
	static const u8 tag[DSTOR_TAG_LEN];
	u8 x[4];

	dstor_put32(x, len + DSTOR_TAG_LEN);
	add(b, x, sizeof(x));
	add(b, p, len);
	add(b, tag, sizeof(tag));
}

/* A frame sealed as version 2 does: a header record, then its chunks. */
static void add_sealed(struct buf *b, const struct dstor_hdr *h,
		       const u8 *payload)
{
	u8 x[DSTOR_HDR_LEN];
	struct dstor_hdr chk;
	u32 left = h->payload, n;

	dstor_hdr_encode(x, h);
	if (dstor_hdr_decode(x, &chk))
		die("a sealed seed header does not decode");
	if (dstor_rec_next_len(0) != DSTOR_REC_HDR)
		die("header record length");
	add_rec(b, x, sizeof(x));
	while (left) {
		n = dstor_rec_next_len(left) - DSTOR_TAG_LEN;
		add_rec(b, payload + (h->payload - left), n);
		left -= n;
	}
}

static void hdr_seeds(void)
{
	static const struct {
		const char *name;
		struct dstor_hdr h;
	} seeds[] = {
		{ "hello", { .op = DSTOR_OP_HELLO, .payload = DSTOR_HELLO_LEN } },
		{ "hello_reply_ok", { .op = DSTOR_OP_HELLO_REPLY,
				      .payload = DSTOR_HELLO_REPLY_LEN } },
		{ "hello_reply_noexport", { .op = DSTOR_OP_HELLO_REPLY,
					    .status = DSTOR_ST_NOEXPORT } },
		{ "hello_reply_auth", { .op = DSTOR_OP_HELLO_REPLY,
					.status = DSTOR_ST_AUTH } },
		{ "read", { .op = DSTOR_OP_READ, .handle = 0x100000007ULL,
			    .offset = 4096, .length = 65536 } },
		{ "write_fua", { .op = DSTOR_OP_WRITE, .flags = DSTOR_RQ_FUA |
				 DSTOR_RQ_PREFLUSH, .handle = 42,
				 .offset = 1 << 20, .length = 4096,
				 .payload = 4096 } },
		{ "write_max", { .op = DSTOR_OP_WRITE, .length = DSTOR_MAX_IO,
				 .payload = DSTOR_MAX_IO } },
		{ "flush", { .op = DSTOR_OP_FLUSH, .handle = 9 } },
		{ "discard", { .op = DSTOR_OP_DISCARD, .offset = 512,
			       .length = DSTOR_MAX_RANGE } },
		{ "write_zeroes_nounmap", { .op = DSTOR_OP_WRITE_ZEROES,
					    .flags = DSTOR_RQ_NOUNMAP,
					    .offset = 8192, .length = 8192 } },
		{ "reply_read", { .op = DSTOR_OP_REPLY, .handle = 0x100000007ULL,
				  .offset = 4096, .length = 65536,
				  .payload = 65536 } },
		{ "reply_ioerr", { .op = DSTOR_OP_REPLY, .status = DSTOR_ST_IOERR,
				   .handle = 3, .length = 512 } },
		{ "ping", { .op = DSTOR_OP_PING, .handle = 77 } },
		{ "pong", { .op = DSTOR_OP_PONG, .handle = 77 } },
		{ "auth_challenge", { .op = DSTOR_OP_AUTH_CHALLENGE,
				      .payload = DSTOR_CHALLENGE_LEN } },
		{ "auth_response", { .op = DSTOR_OP_AUTH_RESPONSE,
				     .payload = DSTOR_RESPONSE_LEN } },
		{ "hello_v1", { .op = DSTOR_OP_HELLO,
				.payload = DSTOR_HELLO_V1_LEN } },
		{ "hello_reply_limit_export", { .op = DSTOR_OP_HELLO_REPLY,
						.status = DSTOR_ST_LIMIT_EXPORT } },
		{ "hello_reply_limit_host", { .op = DSTOR_OP_HELLO_REPLY,
					      .status = DSTOR_ST_LIMIT_HOST } },
		{ "hello_reply_version", { .op = DSTOR_OP_HELLO_REPLY,
					   .status = DSTOR_ST_VERSION } },
	};
	/* Near misses that must not decode. */
	static const struct {
		const char *name;
		struct dstor_hdr h;
	} bad[] = {
		/* Version 1's 32-byte HELLO_REPLY payload. */
		{ "hello_reply_v1_len", { .op = DSTOR_OP_HELLO_REPLY,
					  .payload = 32 } },
		{ "hello_reply_limit_payload", { .op = DSTOR_OP_HELLO_REPLY,
						 .status = DSTOR_ST_LIMIT_HOST,
						 .payload = DSTOR_HELLO_REPLY_LEN } },
		{ "hello_reply_status_past", { .op = DSTOR_OP_HELLO_REPLY,
					       .status = __DSTOR_ST_MAX } },
		{ "reply_limit_export", { .op = DSTOR_OP_REPLY,
					  .status = DSTOR_ST_LIMIT_EXPORT } },
		{ "pong_limit_host", { .op = DSTOR_OP_PONG,
				       .status = DSTOR_ST_LIMIT_HOST } },
		{ "hello_124", { .op = DSTOR_OP_HELLO, .payload = 124 } },
		{ "hello_v2_plus", { .op = DSTOR_OP_HELLO,
				     .payload = DSTOR_HELLO_LEN + 1 } },
	};
	u8 x[DSTOR_HDR_LEN];
	struct dstor_hdr chk;

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		dstor_hdr_encode(x, &seeds[i].h);
		if (dstor_hdr_decode(x, &chk))
			die(seeds[i].name);
		put("hdr", seeds[i].name, x, sizeof(x));
	}
	/* Near misses: bad magic, a misaligned read. */
	dstor_hdr_encode(x, &seeds[4].h);
	x[3] ^= 1;
	put("hdr", "bad_magic", x, sizeof(x));
	dstor_hdr_encode(x, &seeds[4].h);
	x[23] = 1;
	if (!dstor_hdr_decode(x, &chk))
		die("misaligned read decodes");
	put("hdr", "read_misaligned", x, sizeof(x));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dstor_hdr_encode(x, &bad[i].h);
		if (!dstor_hdr_decode(x, &chk))
			die(bad[i].name);
		put("hdr", bad[i].name, x, sizeof(x));
	}
}

static void hello_seeds(void)
{
	static const struct {
		const char *name;
		u32 flags;
		u8 ciphers;
		u16 q, nq;
		const char *export;
		u16 keepalive, dead_after;
	} seeds[] = {
		{ "plain", 0, 0, 0, 1, "t0", 0, 0 },
		{ "plain_timers", 0, 0, 0, 1, "t0", 5, 15 },
		{ "read_only_q3_of_4", DSTOR_HELLO_READ_ONLY, 0, 3, 4, "disk.a-1_x",
		  1, 2 },
		{ "auth_both", DSTOR_HELLO_AUTH, DSTOR_WIRE_CIPHERS, 0, 16, "s0",
		  30, 120 },
		{ "auth_chacha_long_name", DSTOR_HELLO_AUTH,
		  1 << DSTOR_WIRE_CHACHA20_POLY1305, 15, 16,
		  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.",
		  DSTOR_MAX_TIMER - 1, DSTOR_MAX_TIMER },
	};
	/* Near misses: the timers and the new reserved bytes. */
	static const struct {
		const char *name;
		u16 keepalive, dead_after;
		u8 reserved;
		int err;
	} bad[] = {
		{ "keepalive_only", 5, 0, 0, -DSTOR_EPROTO_LENGTH },
		{ "dead_after_only", 0, 15, 0, -DSTOR_EPROTO_LENGTH },
		{ "dead_after_equal", 15, 15, 0, -DSTOR_EPROTO_LENGTH },
		{ "dead_after_below", 15, 5, 0, -DSTOR_EPROTO_LENGTH },
		{ "dead_after_past_max", 5, DSTOR_MAX_TIMER + 1, 0,
		  -DSTOR_EPROTO_LENGTH },
		{ "reserved_127", 5, 15, 1, -DSTOR_EPROTO_RESERVED },
	};
	u8 x[DSTOR_HELLO_LEN];
	struct dstor_hello m;

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		m = hello(seeds[i].flags, seeds[i].ciphers, seeds[i].q,
			  seeds[i].nq, seeds[i].export);
		m.keepalive = seeds[i].keepalive;
		m.dead_after = seeds[i].dead_after;
		dstor_hello_encode(x, &m);
		if (dstor_hello_decode(x, &m))
			die(seeds[i].name);
		put("hello", seeds[i].name, x, sizeof(x));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = hello(0, 0, 0, 1, "t0");
		m.keepalive = bad[i].keepalive;
		m.dead_after = bad[i].dead_after;
		dstor_hello_encode(x, &m);
		x[DSTOR_HELLO_LEN - 1] = bad[i].reserved;
		if (dstor_hello_decode(x, &m) != bad[i].err)
			die(bad[i].name);
		put("hello", bad[i].name, x, sizeof(x));
	}
	/* Versions we do not speak, well formed: decode, then VERSION. */
	m = hello(0, 0, 0, 1, "t0");
	m.version_min = DSTOR_PROTO_VERSION + 1;
	m.version_max = DSTOR_PROTO_VERSION + 2;
	dstor_hello_encode(x, &m);
	if (dstor_hello_decode(x, &m) != 0)
		die("future version");
	put("hello", "future_version", x, sizeof(x));
	/* Malformed versions: -DSTOR_EPROTO_VERSION, answered VERSION. */
	m = hello(0, 0, 0, 1, "t0");
	m.version_min = 3;
	m.version_max = 2;
	dstor_hello_encode(x, &m);
	if (dstor_hello_decode(x, &m) != -DSTOR_EPROTO_VERSION)
		die("malformed versions");
	put("hello", "versions_reversed", x, sizeof(x));
	/* Version 1's 120 bytes (the target pads them with zeros). */
	m = hello(0, 0, 0, 1, "t0");
	m.version_min = 1;
	m.version_max = 1;
	dstor_hello_encode(x, &m);
	put("hello", "v1_plain", x, DSTOR_HELLO_V1_LEN);
}

static void hello_reply_seeds(void)
{
	static const struct {
		const char *name;
		struct dstor_hello_reply r;
	} seeds[] = {
		{ "ramdisk", { .version = DSTOR_PROTO_VERSION,
			       .flags = DSTOR_EXP_DISCARD |
			       DSTOR_EXP_WRITE_ZEROES, .size = 64ULL << 20,
			       .logical_block_size = 512,
			       .physical_block_size = 4096,
			       .max_io = DSTOR_MAX_IO,
			       .max_range = DSTOR_MAX_RANGE,
			       .uuid = { 0x5e, 0xed, 0x00, 0x01, 0x02, 0x03,
					 0x44, 0x05, 0x86, 0x07, 0x08, 0x09,
					 0x0a, 0x0b, 0x0c, 0x0d },
			       .incarnation = 0x0123456789abcdefULL } },
		{ "ro_rotational_4k", { .version = DSTOR_PROTO_VERSION,
					.flags = DSTOR_EXP_READ_ONLY |
					DSTOR_EXP_ROTATIONAL | DSTOR_EXP_FLUSH |
					DSTOR_EXP_FUA, .size = 1ULL << 40,
					.logical_block_size = 4096,
					.physical_block_size = 65536,
					.max_io = 4096,
					.uuid = { 0xff, 0xff, 0xff, 0xff, 0xff,
						  0xff, 0xff, 0xff, 0xff, 0xff,
						  0xff, 0xff, 0xff, 0xff, 0xff,
						  0xff },
					.incarnation = UINT64_MAX } },
		{ "zero_uuid", { .version = DSTOR_PROTO_VERSION,
				 .size = 512, .logical_block_size = 512,
				 .physical_block_size = 512,
				 .max_io = 4096 } },
	};
	u8 x[DSTOR_HELLO_REPLY_LEN];
	struct dstor_hello_reply chk, r;

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		dstor_hello_reply_encode(x, &seeds[i].r);
		if (dstor_hello_reply_decode(x, &chk) ||
		    memcmp(chk.uuid, seeds[i].r.uuid, DSTOR_WIRE_UUID_LEN) ||
		    chk.incarnation != seeds[i].r.incarnation)
			die(seeds[i].name);
		put("hello_reply", seeds[i].name, x, sizeof(x));
	}
	/* A version 1 exporter's reply: version 1, only 32 bytes. */
	r = seeds[0].r;
	r.version = 1;
	dstor_hello_reply_encode(x, &r);
	if (dstor_hello_reply_decode(x, &chk) != -DSTOR_EPROTO_VERSION)
		die("version 1 reply");
	put("hello_reply", "v1_reply", x, 32);
	/* A reply of version 3. */
	r.version = DSTOR_PROTO_VERSION + 1;
	dstor_hello_reply_encode(x, &r);
	if (dstor_hello_reply_decode(x, &chk) != -DSTOR_EPROTO_VERSION)
		die("version 3 reply");
	put("hello_reply", "future_version", x, sizeof(x));
}

static void challenge_seeds(void)
{
	struct dstor_challenge c = { .cipher = DSTOR_WIRE_AES_GCM };
	u8 x[1 + DSTOR_CHALLENGE_LEN];

	for (int i = 0; i < DSTOR_NONCE_LEN; i++) {
		c.nonce[i] = (u8)(0x30 + i);
		c.proof[i] = (u8)(0xc0 ^ i);
	}
	x[0] = DSTOR_WIRE_CIPHERS;
	dstor_challenge_encode(x + 1, &c);
	if (dstor_challenge_decode(x + 1, x[0], &c))
		die("challenge aes");
	put("challenge", "aes_gcm", x, sizeof(x));
	c.cipher = DSTOR_WIRE_CHACHA20_POLY1305;
	x[0] = 1 << DSTOR_WIRE_CHACHA20_POLY1305;
	dstor_challenge_encode(x + 1, &c);
	if (dstor_challenge_decode(x + 1, x[0], &c))
		die("challenge chacha");
	put("challenge", "chacha", x, sizeof(x));
	x[0] = 1 << DSTOR_WIRE_AES_GCM;
	put("challenge", "not_offered", x, sizeof(x));
}

static void rec_len_seeds(void)
{
	/* n, then a record counter, then the payload left of a frame. */
	static const struct {
		const char *name;
		u32 n, left;
	} seeds[] = {
		{ "min", DSTOR_REC_MIN, 1 },
		{ "below_min", DSTOR_REC_MIN - 1, 0 },
		{ "header", DSTOR_REC_HDR, 0 },
		{ "read_4k", 4096 + DSTOR_TAG_LEN, 4096 },
		{ "chunk_minus", DSTOR_REC_MAX - 1, DSTOR_SEAL_CHUNK - 1 },
		{ "max", DSTOR_REC_MAX, DSTOR_SEAL_CHUNK },
		{ "above_max", DSTOR_REC_MAX + 1, DSTOR_SEAL_CHUNK + 1 },
		{ "write_20k", DSTOR_REC_MAX, 20480 },
		{ "max_io", DSTOR_REC_MAX, DSTOR_MAX_IO },
		/* Version 1's whole-frame records, now refused. */
		{ "v1_min", DSTOR_HDR_LEN + DSTOR_TAG_LEN + 512, DSTOR_MAX_IO + 1 },
		{ "v1_max", DSTOR_HDR_LEN + DSTOR_MAX_IO + DSTOR_TAG_LEN,
		  UINT32_MAX },
	};
	u8 x[16];

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		dstor_put32(x, seeds[i].n);
		dstor_put64(x + 4, i);
		dstor_put32(x + 12, seeds[i].left);
		put("rec_len", seeds[i].name, x, sizeof(x));
	}
	if (dstor_rec_len_ok(DSTOR_HDR_LEN + DSTOR_MAX_IO + DSTOR_TAG_LEN))
		die("a version 1 record length passes");
}

static void range_seeds(void)
{
	static const struct {
		const char *name;
		u64 offset;
		u32 length;
		u64 size;
	} seeds[] = {
		{ "last_sector", (64ULL << 20) - 512, 512, 64ULL << 20 },
		{ "past_end", 64ULL << 20, 512, 64ULL << 20 },
		{ "wraps", UINT64_MAX - 511, 4096, 64ULL << 20 },
	};
	u8 x[20];

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		dstor_put64(x, seeds[i].offset);
		dstor_put32(x + 8, seeds[i].length);
		dstor_put64(x + 12, seeds[i].size);
		put("range", seeds[i].name, x, sizeof(x));
	}
}

static void stream_seeds(void)
{
	static u8 zeros[4096], data[20480];
	struct dstor_hello m;
	struct dstor_hdr h;
	static struct buf b;
	u8 x[4];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (u8)(i * 13 + 5);

	/* A plain session: every request op, a ping, a refused write. */
	b.n = 0;
	m = hello(0, 0, 0, 1, "t0");
	m.keepalive = 5;
	m.dead_after = 15;
	add_hello(&b, &m);
	h = (struct dstor_hdr){ .op = DSTOR_OP_READ, .handle = 1,
				.offset = (64ULL << 20) - 512, .length = 512 };
	add_hdr(&b, &h);
	h = (struct dstor_hdr){ .op = DSTOR_OP_WRITE, .handle = 2,
				.flags = DSTOR_RQ_FUA, .offset = 4096,
				.length = 1024, .payload = 1024 };
	add_hdr(&b, &h);
	add(&b, zeros, 1024);
	h = (struct dstor_hdr){ .op = DSTOR_OP_FLUSH, .handle = 3 };
	add_hdr(&b, &h);
	h = (struct dstor_hdr){ .op = DSTOR_OP_DISCARD, .handle = 4,
				.offset = 1 << 20, .length = 1 << 20 };
	add_hdr(&b, &h);
	h = (struct dstor_hdr){ .op = DSTOR_OP_WRITE_ZEROES, .handle = 5,
				.flags = DSTOR_RQ_NOUNMAP, .length = 8192 };
	add_hdr(&b, &h);
	h = (struct dstor_hdr){ .op = DSTOR_OP_PING, .handle = 6 };
	add_hdr(&b, &h);
	h = (struct dstor_hdr){ .op = DSTOR_OP_WRITE, .handle = 7,
				.offset = 64ULL << 20, .length = 512,
				.payload = 512 };
	add_hdr(&b, &h);
	add(&b, zeros, 512);
	put("stream", "plain_session", b.b, b.n);

	/* The same hello, then a write cut short. */
	b.n = 0;
	add_hello(&b, &m);
	h = (struct dstor_hdr){ .op = DSTOR_OP_WRITE, .handle = 1,
				.length = 4096, .payload = 4096 };
	add_hdr(&b, &h);
	add(&b, zeros, 100);
	put("stream", "short_write", b.b, b.n);

	/* A version 1 importer: its 120-byte HELLO gets VERSION. */
	b.n = 0;
	add_hello_v1(&b, &m);
	h = (struct dstor_hdr){ .op = DSTOR_OP_READ, .handle = 1,
				.length = 512 };
	add_hdr(&b, &h);
	put("stream", "v1_hello", b.b, b.n);

	/* Read-only hello, queue 2 of 4, then a protocol error (a reply). */
	b.n = 0;
	m = hello(DSTOR_HELLO_READ_ONLY, 0, 2, 4, "disk1");
	add_hello(&b, &m);
	h = (struct dstor_hdr){ .op = DSTOR_OP_REPLY, .handle = 1 };
	add_hdr(&b, &h);
	put("stream", "reply_from_importer", b.b, b.n);

	/*
	 * A sealed session: hello with AUTH, the response, then frames in
	 * header and payload records: a read, a one-record write, a write of
	 * two records (a full chunk and a short one), a ping, a write past the
	 * device (refused, its records still read) and a flush.
	 */
	b.n = 0;
	m = hello(DSTOR_HELLO_AUTH, DSTOR_WIRE_CIPHERS, 0, 1, "s0");
	m.keepalive = 10;
	m.dead_after = 30;
	add_hello(&b, &m);
	h = (struct dstor_hdr){ .op = DSTOR_OP_AUTH_RESPONSE,
				.payload = DSTOR_RESPONSE_LEN };
	add_hdr(&b, &h);
	add(&b, zeros, DSTOR_RESPONSE_LEN);
	h = (struct dstor_hdr){ .op = DSTOR_OP_READ, .handle = 1, .length = 4096 };
	add_sealed(&b, &h, NULL);
	h = (struct dstor_hdr){ .op = DSTOR_OP_WRITE, .handle = 2, .offset = 512,
				.length = 512, .payload = 512 };
	add_sealed(&b, &h, data);
	h = (struct dstor_hdr){ .op = DSTOR_OP_WRITE, .handle = 3,
				.flags = DSTOR_RQ_FUA, .offset = 1 << 20,
				.length = 20480, .payload = 20480 };
	add_sealed(&b, &h, data);
	h = (struct dstor_hdr){ .op = DSTOR_OP_PING, .handle = 4 };
	add_sealed(&b, &h, NULL);
	h = (struct dstor_hdr){ .op = DSTOR_OP_WRITE, .handle = 5,
				.offset = 64ULL << 20, .length = 1024,
				.payload = 1024 };
	add_sealed(&b, &h, data);
	h = (struct dstor_hdr){ .op = DSTOR_OP_FLUSH, .handle = 6 };
	add_sealed(&b, &h, NULL);
	put("stream", "sealed_session", b.b, b.n);

	/* Sealed, then a write as version 1 sealed it: one whole record. */
	b.n = 0;
	m = hello(DSTOR_HELLO_AUTH, 1 << DSTOR_WIRE_AES_GCM, 0, 1, "s0");
	add_hello(&b, &m);
	h = (struct dstor_hdr){ .op = DSTOR_OP_AUTH_RESPONSE,
				.payload = DSTOR_RESPONSE_LEN };
	add_hdr(&b, &h);
	add(&b, zeros, DSTOR_RESPONSE_LEN);
	dstor_put32(x, DSTOR_HDR_LEN + 512 + DSTOR_TAG_LEN);
	add(&b, x, 4);
	h = (struct dstor_hdr){ .op = DSTOR_OP_WRITE, .handle = 1,
				.length = 512, .payload = 512 };
	add_hdr(&b, &h);
	add(&b, zeros, 512 + DSTOR_TAG_LEN);
	put("stream", "sealed_v1_record", b.b, b.n);

	/* Sealed, a two-record write whose second record is cut short. */
	b.n = 0;
	add_hello(&b, &m);
	h = (struct dstor_hdr){ .op = DSTOR_OP_AUTH_RESPONSE,
				.payload = DSTOR_RESPONSE_LEN };
	add_hdr(&b, &h);
	add(&b, zeros, DSTOR_RESPONSE_LEN);
	h = (struct dstor_hdr){ .op = DSTOR_OP_WRITE, .handle = 1,
				.length = 20480, .payload = 20480 };
	add_sealed(&b, &h, data);
	b.n -= 1000;
	put("stream", "sealed_short_write", b.b, b.n);
}

/* Multicast datagrams: one of each type, sealed and not, near misses. */
static void mc_seeds(void)
{
	static const struct {
		const char *name;
		u8 type, flags, cipher;
		u64 index;
		u32 offset;
		u16 len;
		int tag, valid;
	} s[] = {
		{ "announce", DSTOR_MC_ANNOUNCE, 0, 0, 0, 0, 64, 0, 1 },
		{ "announce_sealed", DSTOR_MC_ANNOUNCE, DSTOR_MC_F_SEALED,
		  DSTOR_WIRE_CHACHA20_POLY1305, 0, 0, 64, 1, 1 },
		{ "tree", DSTOR_MC_TREE, 0, 0, 64, 0, 1024, 0, 1 },
		{ "tree_tail", DSTOR_MC_TREE, 0, 0, 96, 0, 96, 0, 1 },
		{ "data", DSTOR_MC_DATA, 0, 0, 7, 3072, 1024, 0, 1 },
		{ "data_short", DSTOR_MC_DATA, 0, 0, 9, 0, 100, 0, 1 },
		{ "data_sealed", DSTOR_MC_DATA, DSTOR_MC_F_SEALED,
		  DSTOR_WIRE_AES_GCM, 7, 1024, 1024, 1, 1 },
		{ "data_v1_tag", DSTOR_MC_DATA, 0, 0, 7, 0, 1024, 1, 0 },
		{ "data_sealed_no_tag", DSTOR_MC_DATA, DSTOR_MC_F_SEALED,
		  DSTOR_WIRE_AES_GCM, 7, 0, 1024, 0, 0 },
		{ "tree_unaligned", DSTOR_MC_TREE, 0, 0, 5, 0, 64, 0, 0 },
	};
	struct dstor_mc_announce a = {
		.size = 10 << 20, .block_size = 65536, .chunk = DSTOR_MC_CHUNK,
		.blocks = 160,
	};
	static u8 x[DSTOR_MC_PKT_MAX];
	struct dstor_mc_hdr h, chk;
	size_t n;

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		h = (struct dstor_mc_hdr){
			.type = s[i].type, .flags = s[i].flags,
			.cipher = s[i].cipher, .epoch = 0x0123456789abcdefULL,
			.index = s[i].index, .offset = s[i].offset,
			.len = s[i].len,
		};
		memset(x, 0x5a, sizeof(x));
		dstor_mc_hdr_encode(x, &h);
		if (h.type == DSTOR_MC_ANNOUNCE)
			dstor_mc_announce_encode(x + DSTOR_MC_HDR_LEN, &a);
		n = DSTOR_MC_HDR_LEN + h.len + (s[i].tag ? DSTOR_MC_TAG_LEN : 0);
		if ((dstor_mc_hdr_decode(x, n, &chk) == 0) != s[i].valid)
			die(s[i].name);
		put("mc", s[i].name, x, n);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) && errno != EEXIST)
		die("mkdir");
	hdr_seeds();
	hello_seeds();
	hello_reply_seeds();
	challenge_seeds();
	rec_len_seeds();
	range_seeds();
	stream_seeds();
	mc_seeds();
	printf("gen_corpus: wrote %d files under %s\n", nfiles, outdir);
	return 0;
}
