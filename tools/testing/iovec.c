// SPDX-License-Identifier: GPL-2.0
/*
 * dstor-iovec: O_DIRECT vectored I/O whose requests are made of many small
 * pieces, against a block device, verified byte for byte.
 *
 *   dstor-iovec DEV [--offset BYTES] [--rounds N] [--seed S] [--huge]
 *
 * Each round writes one request's worth (up to 512 KiB) with pwritev()
 * from iovecs of 512 bytes to 64 KiB at scattered, 512-aligned places of a
 * buffer (no two adjacent, so none merge into one segment), then reads it
 * back with preadv() into another scattering and compares. Sub-page pieces
 * are what a sealed record's scatterlist must hold (at most 32 per 16 KiB
 * record); --huge takes the buffers from a 2 MiB huge page, where pieces
 * span several physically contiguous pages.
 *
 * Exit 0 when every byte read back is the byte written; 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"

#define SECTOR		512u
#define MAX_REQ		(512u * 1024)	/* the import's max_hw_sectors */
#define BUF_LEN		(4u * 1024 * 1024)	/* room to scatter 512 KiB */
#define MAX_IOV		1024

struct scatter {
	struct iovec iov[MAX_IOV];
	int n;
	size_t len;
};

/*
 * Scatter up to @want bytes over @buf: pieces of 1..128 sectors, each
 * after a gap of at least one sector, in random order of size.
 */
static void scatter(struct rng *r, char *buf, size_t want, struct scatter *s)
{
	size_t pos = 0;

	s->n = 0;
	s->len = 0;
	while (s->len < want && s->n < MAX_IOV) {
		/* Mostly single sectors: the most pieces per record. */
		size_t len = rng_pct(r, 90) ? SECTOR :
			     (1 + rng_below(r, 128)) * SECTOR;

		if (len > want - s->len)
			len = want - s->len;
		pos += (1 + rng_below(r, 3)) * SECTOR;	/* the gap */
		if (pos + len > BUF_LEN)
			break;
		s->iov[s->n].iov_base = buf + pos;
		s->iov[s->n].iov_len = len;
		s->n++;
		s->len += len;
		pos += len;
	}
}

/* Whether @ret says all of @s moved; says what went wrong otherwise. */
static int moved(ssize_t ret, const char *call, const struct scatter *s,
		 int round, off_t at)
{
	if (ret == (ssize_t)s->len)
		return 1;
	fprintf(stderr, "round %d: %s of %zu bytes in %d pieces at %jd: %s\n",
		round, call, s->len, s->n, (intmax_t)at,
		ret < 0 ? strerror(errno) : "short");
	return 0;
}

static void *alloc_buf(int huge)
{
	void *p;

	if (huge) {
		p = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "dstor-iovec: no huge pages: %s\n",
				strerror(errno));
			return NULL;
		}
		return p;
	}
	if (posix_memalign(&p, 4096, BUF_LEN))
		return NULL;
	return p;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "huge", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t seed = 0, offset = 0;
	int rounds = 32, huge = 0, c, fd, i, j, bad = 0;
	size_t pieces = 0, bytes = 0;
	char *wbuf, *rbuf, *want;
	struct scatter *ws, *rs;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			offset = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			rounds = atoi(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'H':
			huge = 1;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || offset % SECTOR || rounds < 1) {
		fprintf(stderr, "usage: dstor-iovec DEV [--offset BYTES] [--rounds N] [--seed S] [--huge]\n");
		return 2;
	}
	if (!seed)
		seed = seed_from_clock();
	fd = open(argv[optind], O_RDWR | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "dstor-iovec: %s: %s\n", argv[optind],
			strerror(errno));
		return 1;
	}
	wbuf = alloc_buf(huge);
	rbuf = alloc_buf(huge);
	want = malloc(MAX_REQ);
	ws = malloc(sizeof(*ws));
	rs = malloc(sizeof(*rs));
	if (!wbuf || !rbuf || !want || !ws || !rs)
		return 1;

	for (i = 0; i < rounds && !bad; i++) {
		struct rng r = rng_for(seed, i);
		size_t len = (1 + rng_below(&r, MAX_REQ / SECTOR)) * SECTOR;
		off_t at = offset + (off_t)i * MAX_REQ;
		size_t k = 0;

		rng_fill(&r, wbuf, BUF_LEN);
		scatter(&r, wbuf, len, ws);
		for (j = 0; j < ws->n; j++) {
			memcpy(want + k, ws->iov[j].iov_base, ws->iov[j].iov_len);
			k += ws->iov[j].iov_len;
		}
		if (!moved(pwritev(fd, ws->iov, ws->n, at), "pwritev", ws, i, at)) {
			bad = 1;
			break;
		}
		memset(rbuf, 0, BUF_LEN);
		scatter(&r, rbuf, ws->len, rs);
		if (!moved(preadv(fd, rs->iov, rs->n, at), "preadv", rs, i, at)) {
			bad = 1;
			break;
		}
		for (j = 0, k = 0; j < rs->n; j++) {
			if (memcmp(want + k, rs->iov[j].iov_base,
				   rs->iov[j].iov_len)) {
				fprintf(stderr, "round %d: bytes %zu..%zu at %jd differ (seed %" PRIu64 ")\n",
					i, k, k + rs->iov[j].iov_len,
					(intmax_t)at, seed);
				bad = 1;
				break;
			}
			k += rs->iov[j].iov_len;
		}
		pieces += ws->n + rs->n;
		bytes += ws->len;
	}
	close(fd);
	printf("dstor-iovec: %d rounds, %zu bytes in %zu pieces each way: %s\n",
	       i, bytes, pieces / 2, bad ? "FAILED" : "ok");
	return bad;
}
