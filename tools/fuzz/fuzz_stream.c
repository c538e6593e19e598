// SPDX-License-Identifier: GPL-2.0
/*
 * A byte stream through a small model of the exporter's receive loop
 * (kernel/session.c), built from proto.h's decoders:
 *
 *   HELLO frame: header, then 120 payload bytes through dstor_hello_decode;
 *   a decode error or a version we do not speak ends the connection.
 *   Plain session: header after header; a header that fails to decode, or
 *   an op that is neither a request nor PING, ends it. A request is checked
 *   against a 64 MiB device (dstor_range_ok, 512-byte blocks); a refused
 *   one has its payload skipped, an accepted WRITE reads its payload; a
 *   payload cut short ends the connection without submitting the write.
 *   Sealed session (HELLO with AUTH): an AUTH_RESPONSE frame, then records:
 *   a 4-byte length through dstor_rec_len_ok, the record, and inside it
 *   (the model's "cipher" is the identity; the tag is the last 16 bytes)
 *   exactly one frame whose payload fills the record.
 *
 * Invariants checked on every frame the model lets through: payload at most
 * DSTOR_MAX_IO, requests 512-aligned, READ/WRITE length within
 * 1..DSTOR_MAX_IO, a WRITE's payload its length, DISCARD/WRITE_ZEROES within
 * DSTOR_MAX_RANGE, an accepted request inside the device, and the model
 * never consumes more bytes than it was given.
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

static void serve_sealed(struct stream *s)
{
	struct dstor_hdr h;
	u8 *lenbuf, *rec;
	u32 n;

	/* AUTH_RESPONSE, in the clear. */
	if (read_hdr(s, &h) || h.op != DSTOR_OP_AUTH_RESPONSE)
		return;
	CHECK(h.payload == DSTOR_RESPONSE_LEN, "response payload %u", h.payload);
	if (skip(s, h.payload))
		return;

	for (;;) {
		lenbuf = take(s, DSTOR_REC_LEN_BYTES);
		if (!lenbuf)
			return;
		n = dstor_get32(lenbuf);
		free(lenbuf);
		if (!dstor_rec_len_ok(n))
			return;
		CHECK(n >= DSTOR_REC_MIN && n - DSTOR_REC_MIN <= DSTOR_MAX_IO,
		      "record %u", n);
		rec = take(s, n);
		if (!rec)
			return;
		/* "Open" it: the frame is everything but the tag. */
		if (dstor_hdr_decode(rec, &h) ||
		    DSTOR_HDR_LEN + h.payload + DSTOR_TAG_LEN != n) {
			free(rec);
			return;
		}
		check_frame(&h);
		CHECK(h.payload <= n - DSTOR_REC_MIN, "payload past the record");
		if (h.op != DSTOR_OP_PING && !dstor_is_request(h.op)) {
			free(rec);
			return;
		}
		if (h.op == DSTOR_OP_WRITE && request_ok(&h)) {
			/* copy_payload(): the data is inside the record. */
			u8 sum = 0;

			for (u32 i = 0; i < h.length; i++)
				sum ^= rec[DSTOR_HDR_LEN + i];
			(void)sum;
		} else if (dstor_is_request(h.op)) {
			(void)request_ok(&h);
		}
		free(rec);
	}
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
	CHECK(h.payload == DSTOR_HELLO_LEN, "hello payload %u", h.payload);
	buf = take(&s, DSTOR_HELLO_LEN);
	if (!buf)
		return 0;
	ret = dstor_hello_decode(buf, &hello);
	free(buf);
	if (ret)
		return 0;	/* malformed, or DSTOR_ST_VERSION and close */
	if (hello.version_min > DSTOR_PROTO_VERSION ||
	    hello.version_max < DSTOR_PROTO_VERSION)
		return 0;
	CHECK(hello.queue < hello.nr_queues &&
	      hello.nr_queues <= DSTOR_MAX_QUEUES, "queue");

	if (hello.flags & DSTOR_HELLO_AUTH)
		serve_sealed(&s);
	else
		serve_plain(&s);
	CHECK(s.pos <= s.len, "consumed %zu of %zu", s.pos, s.len);
	return 0;
}
