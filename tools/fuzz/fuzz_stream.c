// SPDX-License-Identifier: GPL-2.0
/*
 * A byte stream through a small model of the exporter's receive loop
 * (kernel/session.c, kernel/handshake.c and kernel/conn.c), built from
 * proto.h's decoders:
 *
 *   HELLO frame: a header, then its payload. 128 bytes (version 2) go
 *   through dstor_hello_decode; a decode error or a version we do not speak
 *   ends the connection (with or without VERSION). 120 bytes (version 1's
 *   HELLO, which the header check lets through) are read whole, only their
 *   version fields are looked at (dstor_hello_versions, on a buffer of
 *   exactly 120 bytes), and the connection ends with VERSION.
 *   Plain session: header after header; a header that fails to decode, or
 *   an op that is neither a request nor PING, ends it. A request is checked
 *   against a 64 MiB device (dstor_range_ok, 512-byte blocks); a refused
 *   one has its payload skipped, an accepted WRITE reads its payload; a
 *   payload cut short ends the connection without submitting the write.
 *   Sealed session (HELLO with AUTH): an AUTH_RESPONSE frame, then records
 *   (the model's "cipher" is the identity; the tag is the last 16 bytes of
 *   a record): a 4-byte length n that must be exactly dstor_rec_next_len()
 *   of the payload left of the current frame (anything else is a bad
 *   record and ends the connection), then n bytes. With nothing left it is
 *   a header record (n = 48: a 32-byte header and the tag); a frame with a
 *   payload is followed by payload records of at most DSTOR_SEAL_CHUNK
 *   bytes, each opened straight into the request's pages (a heap buffer of
 *   exactly the payload's size) or, for a refused request, discarded.
 *
 * Invariants checked on every frame the model lets through: payload at most
 * DSTOR_MAX_IO, requests 512-aligned, READ/WRITE length within
 * 1..DSTOR_MAX_IO, a WRITE's payload its length, DISCARD/WRITE_ZEROES within
 * DSTOR_MAX_RANGE, an accepted request inside the device, a HELLO of 120 or
 * 128 bytes, record lengths as the rules compute them (header record 48,
 * chunks of min(left, 16384) + 16, never above DSTOR_REC_MAX, never more
 * than the payload left), a payload's records carrying exactly its bytes,
 * and the model never consumes more bytes than it was given.
 */
#include "fuzz.h"

#define DEV_SIZE	(64ULL << 20)
#define DEV_LBS		512U

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct stream {
	const u8 *p;
	size_t len, pos;
};

/*
 * Take @n bytes as a heap copy (so ASan sees over-reads of it), or NULL if
 * the stream ends first.
 */
static u8 *take(struct stream *s, size_t n)
{
	u8 *buf;

	if (s->len - s->pos < n)
		return NULL;
	buf = malloc(n ? n : 1);
	if (!buf)
		abort();
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	CHECK(s->pos <= s->len, "consumed %zu of %zu", s->pos, s->len);
	return buf;
}

static int skip(struct stream *s, u64 n)
{
	if (s->len - s->pos < n)
		return -1;
	s->pos += n;
	return 0;
}

/* What every header the loop acts on must satisfy. */
static void check_frame(const struct dstor_hdr *h)
{
	CHECK(h->payload <= DSTOR_MAX_IO, "payload %u", h->payload);
	if (!dstor_is_request(h->op))
		return;
	CHECK(h->offset % DSTOR_SECTOR == 0 && h->length % DSTOR_SECTOR == 0,
	      "unaligned %llu+%u", (unsigned long long)h->offset, h->length);
	CHECK(!(h->flags & ~DSTOR_RQ_ALL), "flags %#x", h->flags);
	switch (h->op) {
	case DSTOR_OP_READ:
	case DSTOR_OP_WRITE:
		CHECK(h->length >= DSTOR_SECTOR && h->length <= DSTOR_MAX_IO,
		      "length %u", h->length);
		CHECK(h->payload == (h->op == DSTOR_OP_WRITE ? h->length : 0),
		      "payload %u for length %u", h->payload, h->length);
		break;
	case DSTOR_OP_DISCARD:
	case DSTOR_OP_WRITE_ZEROES:
		CHECK(h->length >= DSTOR_SECTOR && h->length <= DSTOR_MAX_RANGE &&
		      !h->payload, "length %u payload %u", h->length,
		      h->payload);
		break;
	case DSTOR_OP_FLUSH:
		CHECK(!h->offset && !h->length && !h->payload, "flush");
		break;
	}
}

/* request_check() of session.c: 0 if the request may run. */
static int request_ok(const struct dstor_hdr *h)
{
	if (h->op == DSTOR_OP_FLUSH)
		return 1;
	if (!dstor_range_ok(h->offset, h->length, DEV_SIZE) ||
	    h->offset % DEV_LBS || h->length % DEV_LBS)
		return 0;
	/* An accepted request lies inside the device, even near 2^64. */
	CHECK(h->offset < DEV_SIZE || !h->length, "offset %llu",
	      (unsigned long long)h->offset);
	CHECK((unsigned __int128)h->offset + h->length <= DEV_SIZE,
	      "%llu+%u past the end", (unsigned long long)h->offset,
	      h->length);
	return 1;
}

static int read_hdr(struct stream *s, struct dstor_hdr *h)
{
	u8 *buf = take(s, DSTOR_HDR_LEN);
	int ret;

	if (!buf)
		return -1;
	ret = dstor_hdr_decode(buf, h);
	free(buf);
	if (ret)
		return -1;
	check_frame(h);
	return 0;
}

static void serve_plain(struct stream *s)
{
	struct dstor_hdr h;

	while (!read_hdr(s, &h)) {
		if (h.op != DSTOR_OP_PING && !dstor_is_request(h.op))
			return;		/* protocol error */
		if (h.op == DSTOR_OP_PING)
			continue;
		if (!request_ok(&h)) {
			if (skip(s, h.payload))
				return;
			continue;
		}
		if (h.op == DSTOR_OP_WRITE) {
			u8 *data = take(s, h.length);

			if (!data)
				return;	/* never submit a half write */
			free(data);
		}
	}
}

/* The n of the next record, read and checked; 0 ends the connection. */
static u32 read_rec_len(struct stream *s, u32 left)
{
	u32 want = dstor_rec_next_len(left), n;
	u8 *lenbuf;

	CHECK(want == ref_rec_next_len(left), "left %u: next %u, the rules say %u",
	      left, want, ref_rec_next_len(left));
	CHECK(dstor_rec_len_ok(want) && want <= DSTOR_REC_MAX,
	      "left %u: next %u", left, want);
	lenbuf = take(s, DSTOR_REC_LEN_BYTES);
	if (!lenbuf)
		return 0;
	n = dstor_get32(lenbuf);
	free(lenbuf);
	/* A record out of place was forged, replayed or cut. */
	if (n != want)
		return 0;
	CHECK(dstor_rec_len_ok(n), "record %u", n);
	return n;
}

static void serve_sealed(struct stream *s)
{
	struct dstor_hdr h;
	u8 *rec, *pages = NULL;
	u32 n, left = 0, pos = 0;

	/* AUTH_RESPONSE, in the clear. */
	if (read_hdr(s, &h) || h.op != DSTOR_OP_AUTH_RESPONSE)
		return;
	CHECK(h.payload == DSTOR_RESPONSE_LEN, "response payload %u", h.payload);
	if (skip(s, h.payload))
		return;

	for (;;) {
		n = read_rec_len(s, left);
		if (!n)
			break;
		rec = take(s, n);
		if (!rec)
			break;	/* a write cut short is never submitted */
		if (left) {
			/* A payload record: its chunk, into the pages. */
			u32 chunk = n - DSTOR_TAG_LEN;

			CHECK(n > DSTOR_TAG_LEN && chunk <= left &&
			      chunk <= DSTOR_SEAL_CHUNK,
			      "chunk %u with %u left", chunk, left);
			CHECK(pos + chunk <= h.payload, "chunk past the payload");
			if (pages)
				memcpy(pages + pos, rec, chunk);
			pos += chunk;
			left -= chunk;
			free(rec);
			if (!left) {
				/* The whole payload arrived: submit it. */
				CHECK(pos == h.payload, "%u of %u bytes", pos,
				      h.payload);
				if (pages) {
					u8 sum = 0;

					for (u32 i = 0; i < h.length; i++)
						sum ^= pages[i];
					(void)sum;
				}
				free(pages);
				pages = NULL;
			}
			continue;
		}
		/* A header record: "open" it, the header is all but the tag. */
		CHECK(n == DSTOR_HDR_LEN + DSTOR_TAG_LEN, "header record %u", n);
		if (dstor_hdr_decode(rec, &h)) {
			free(rec);
			break;
		}
		free(rec);
		check_frame(&h);
		if (h.op != DSTOR_OP_PING && !dstor_is_request(h.op))
			break;
		if (!h.payload) {
			if (dstor_is_request(h.op))
				(void)request_ok(&h);
			continue;
		}
		CHECK(h.op == DSTOR_OP_WRITE && h.payload == h.length,
		      "op %u payload %u", h.op, h.payload);
		/* Refused: its payload records are read and discarded. */
		if (request_ok(&h)) {
			pages = malloc(h.payload);
			if (!pages)
				abort();
		}
		left = h.payload;
		pos = 0;
	}
	free(pages);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream s = { .p = data, .len = size };
	struct dstor_hello hello;
	struct dstor_hdr h;
	u8 *buf;
	int ret;

	if (read_hdr(&s, &h) || h.op != DSTOR_OP_HELLO)
		return 0;
	CHECK(h.payload == 128 || h.payload == 120, "hello payload %u",
	      h.payload);
	buf = take(&s, h.payload);
	if (!buf)
		return 0;
	if (h.payload != DSTOR_HELLO_LEN) {
		u16 vmin, vmax;

		/* Version 1: read its versions, answer VERSION, close. */
		dstor_hello_versions(buf, &vmin, &vmax);
		CHECK(vmin == ref_be(buf, 2) && vmax == ref_be(buf + 2, 2),
		      "versions %u..%u", vmin, vmax);
		free(buf);
		return 0;
	}
	ret = dstor_hello_decode(buf, &hello);
	free(buf);
	if (ret)
		return 0;	/* malformed, or DSTOR_ST_VERSION and close */
	if (hello.version_min > DSTOR_PROTO_VERSION ||
	    hello.version_max < DSTOR_PROTO_VERSION_MIN)
		return 0;
	CHECK(hello.queue < hello.nr_queues &&
	      hello.nr_queues <= DSTOR_MAX_QUEUES, "queue");
	CHECK((!hello.keepalive && !hello.dead_after) ||
	      (hello.keepalive && hello.keepalive < hello.dead_after &&
	       hello.dead_after <= DSTOR_MAX_TIMER), "timers %u/%u",
	      hello.keepalive, hello.dead_after);

	if (hello.flags & DSTOR_HELLO_AUTH)
		serve_sealed(&s);
	else
		serve_plain(&s);
	CHECK(s.pos <= s.len, "consumed %zu of %zu", s.pos, s.len);
	return 0;
}
