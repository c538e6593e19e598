// SPDX-License-Identifier: GPL-2.0
/*
 * dstor-stale: make a replica stale. Overwrites COUNT distinct blocks of
 * FILE, chosen at random from SEED, with random bytes, and prints their
 * indices, one a line (what a shell loop of dd would do, in one process:
 * under emulation each dd costs tens of milliseconds).
 *
 *   dstor-stale --block-size BYTES --count COUNT [--seed SEED] FILE
 *
 * Exit status: 0; 2 on bad arguments; 1 when FILE cannot be written or
 * has fewer than COUNT blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: dstor-stale --block-size BYTES --count COUNT [--seed SEED] FILE\n");
	exit(rc);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "block-size", required_argument, NULL, 'b' },
		{ "count", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t bs = 0, count = 0, seed = 1, blocks, done = 0, b;
	unsigned char *hit, *buf;
	struct stat st;
	struct rng r;
	int ch, fd;

	prog = "dstor-stale";
	while ((ch = getopt_long(argc, argv, "b:c:s:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'b':
			bs = parse_u64("--block-size", optarg);
			break;
		case 'c':
			count = parse_u64("--count", optarg);
			break;
		case 's':
			seed = parse_u64("--seed", optarg);
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (!bs || bs > (1 << 20) || optind != argc - 1)
		usage(2);
	fd = open(argv[optind], O_RDWR);
	if (fd < 0 || fstat(fd, &st))
		die("%s: %s", argv[optind], strerror(errno));
	blocks = (uint64_t)st.st_size / bs;
	if (count > blocks)
		die("%s has %llu blocks, fewer than %llu", argv[optind],
		    (unsigned long long)blocks, (unsigned long long)count);
	hit = calloc(blocks ? blocks : 1, 1);
	buf = malloc(bs);
	if (!hit || !buf)
		die("out of memory");
	r = rng_for(seed, 0);
	while (done < count) {
		b = rng_next(&r) % blocks;
		if (hit[b])
			continue;
		hit[b] = 1;
		rng_fill(&r, buf, bs);
		if (pwrite(fd, buf, bs, (off_t)(b * bs)) != (ssize_t)bs)
			die("%s: writing block %llu: %s", argv[optind],
			    (unsigned long long)b, strerror(errno));
		printf("%llu\n", (unsigned long long)b);
		done++;
	}
	if (fsync(fd) || close(fd))
		die("%s: %s", argv[optind], strerror(errno));
	return 0;
}
