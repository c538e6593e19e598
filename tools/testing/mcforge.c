// SPDX-License-Identifier: GPL-2.0
/*
 * dstor-mcforge: a hostile sender on a multicast export's groups.
 *
 *   dstor-mcforge --iface IFACE --name EXPORT [--seconds N] [--rate PPS]
 *                 [--levels L] [--announce BS] [--seed S] [--verbose]
 *
 * Joins the export's announce group on IFACE, binds UDP port 7421
 * (SO_REUSEADDR, next to the kernel's receiver) and waits up to 30 s for an
 * ANNOUNCE (Documentation/multicast.md; packets as in kernel/mcast_proto.h,
 * hashes and groups as in kernel/merkle.c). Then for N seconds (default
 * 10) it sends PPS packets a second (default 2000) to port 7421, hop
 * limit 1, out of IFACE. Run it on a receiver's host or a third one: the
 * exporter does not loop its own packets back to local sockets.
 *
 * Unsealed export (its packets have no tag): it derives the tree group and
 * the channel groups of levels 0..L (default 3) and of the top channel, and
 * sends
 *
 *   data-forged     DATA of a real block and chunk with random bytes: only
 *                   the leaf hash check can catch it
 *   data-tagged     the same with 16 bytes after the payload (version 1's
 *                   tag): the length no longer matches
 *   bad-epoch       DATA of another epoch
 *   bad-geometry    DATA past the last block or the end of its block
 *   magic, version, type, flags, reserved, len, offset, short
 *                   one header rule broken, or cut short
 *   bogus-announce  ANNOUNCE with a random root (a quarter of them also a
 *                   bad geometry) to the announce group
 *   bad-tree        TREE with random leaf hashes
 *
 * DATA goes to a channel group of its block; broken headers to that, the
 * tree or the announce group. Sealed export (no key, so no root): sealed-
 * looking packets with random ciphertext and tag to the announce group
 * (sealed-junk) and to random ff12:: groups (random-group), and broken
 * headers. All of it must be dropped and counted by the receivers.
 *
 * --announce BS: no exporter needed, none waited for. For N seconds it
 * sends PPS copies of one unsealed ANNOUNCE (fixed-announce) to the
 * announce group of EXPORT: 16 blocks of BS bytes (any value, such as
 * one below the protocol's minimum or the page size), a root and an epoch
 * from the seed. A receiver that took its geometry would take it at the
 * second copy.
 *
 * Counts per kind go to stderr. Exit status: 0; 2 on bad arguments; 1 if
 * the interface or socket could not be set up or no ANNOUNCE came in 30 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/dstor.h>
#include <openssl/evp.h>

#include "common.h"
#include "mcast_proto.h"
#include "mcgroup.h"

#define ANNOUNCE_MS	30000
#define NSEC		1000000000ULL

enum kind {
	K_DATA_OK, K_DATA_TAGGED, K_EPOCH, K_GEOMETRY, K_MAGIC, K_VERSION,
	K_TYPE, K_FLAGS, K_RESERVED, K_LEN, K_OFFSET, K_SHORT, K_ANNOUNCE,
	K_TREE, K_SEALED, K_RANDGRP, K_FIXED, NR_KINDS
};

static const char *const kind_name[NR_KINDS] = {
	"data-forged", "data-tagged", "bad-epoch", "bad-geometry", "magic",
	"version", "type", "flags", "reserved", "len", "offset", "short",
	"bogus-announce", "bad-tree", "sealed-junk", "random-group",
	"fixed-announce",
};

static struct {
	const char *iface, *name;
	unsigned int ifindex;
	u64 seconds, rate, levels, seed, announce;
	int verbose;
} opt = { .seconds = 10, .rate = 2000, .levels = 3 };

/* What the ANNOUNCE told, and what follows from it. */
static struct {
	int sealed;
	u8 cipher;
	u64 epoch;
	struct dstor_mc_announce a;
	unsigned int top;		/* the level of the top channel */
	struct in6_addr announce, tree;
} ex;

static struct rng rng;
static u64 sent[NR_KINDS], send_errors;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void __attribute__((noreturn)) fail(const char *what, int err)
{
	if (err)
		warnx("%s: %s", what, strerror(err));
	else
		warnx("%s", what);
	exit(1);
}

static const char *fmt_group(const struct in6_addr *g)
{
	static char buf[INET6_ADDRSTRLEN];

	return inet_ntop(AF_INET6, g, buf, sizeof(buf));
}

static void send_pkt(int fd, const struct in6_addr *g, const u8 *buf,
		     size_t n, enum kind k)
{
	struct sockaddr_in6 sa = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(DSTOR_MC_PORT),
		.sin6_addr = *g,
		.sin6_scope_id = opt.ifindex,
	};

	if (sendto(fd, buf, n, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (!send_errors++)
			warnx("sendto %s: %s", fmt_group(g), strerror(errno));
		return;
	}
	if (!sent[k]++ && opt.verbose)
		warnx("first %s: %zu bytes to %s", kind_name[k], n,
		      fmt_group(g));
}

/*
 * Encode @h in front of the @h->len payload bytes at buf + 32; sealed, a
 * random tag after them; unsealed and @tagged, 16 random bytes there all
 * the same. Returns the datagram's length.
 */
static size_t finish(u8 *buf, const struct dstor_mc_hdr *h, int tagged)
{
	dstor_mc_hdr_encode(buf, h);
	if (!(h->flags & DSTOR_MC_F_SEALED) && !tagged)
		return DSTOR_MC_HDR_LEN + h->len;
	rng_fill(&rng, buf + DSTOR_MC_HDR_LEN + h->len, DSTOR_MC_TAG_LEN);
	return DSTOR_MC_HDR_LEN + h->len + DSTOR_MC_TAG_LEN;
}

static u32 chunks_of(u64 b)
{
	u32 blen = dstor_mc_block_len(ex.a.size, ex.a.block_size, b);

	return (blen + DSTOR_MC_CHUNK - 1) / DSTOR_MC_CHUNK;
}

/* A well-formed DATA packet: a chunk of block @b, random bytes. */
static size_t build_data(u8 *buf, struct dstor_mc_hdr *h, u64 b, int tagged)
{
	u32 blen = dstor_mc_block_len(ex.a.size, ex.a.block_size, b);

	memset(h, 0, sizeof(*h));
	h->type = DSTOR_MC_DATA;
	h->epoch = ex.epoch;
	h->index = b;
	h->offset = rng_below(&rng, chunks_of(b)) * DSTOR_MC_CHUNK;
	h->len = blen - h->offset < DSTOR_MC_CHUNK ? blen - h->offset :
		 DSTOR_MC_CHUNK;
	rng_fill(&rng, buf + DSTOR_MC_HDR_LEN, h->len);
	return finish(buf, h, tagged);
}

/*
 * Break one header rule of the @n-byte packet in @buf (encoded from @h).
 * Returns the new length and sets *@k.
 */
static size_t mangle(u8 *buf, size_t n, const struct dstor_mc_hdr *h,
		     enum kind *k)
{
	u16 d;

	*k = K_MAGIC + rng_below(&rng, K_SHORT - K_MAGIC + 1);
	switch (*k) {
	case K_MAGIC:
		buf[rng_below(&rng, 4)] ^= 1 + rng_below(&rng, 255);
		break;
	case K_VERSION:
		buf[4] = DSTOR_MC_VERSION + 1 + rng_below(&rng, 255);
		break;
	case K_TYPE:
		buf[5] = rng_pct(&rng, 30) ? 0 :
			 __DSTOR_MC_TYPE_MAX + rng_below(&rng, 252);
		break;
	case K_FLAGS:	/* an unknown flag, or a cipher the flags forbid */
		if (rng_pct(&rng, 50))
			buf[6] |= 2 << rng_below(&rng, 7);
		else
			buf[7] = h->flags ? 3 + rng_below(&rng, 253) :
				 1 + rng_below(&rng, 255);
		break;
	case K_RESERVED:
		dstor_put16(buf + 30, 1 + rng_below(&rng, 0xffff));
		break;
	case K_LEN:	/* near the datagram's, or anything else */
		d = 1 + rng_below(&rng, rng_pct(&rng, 70) ? 16 : 0xffff);
		dstor_put16(buf + 28, rng_pct(&rng, 50) ? h->len + d :
			    h->len - d);
		break;
	case K_OFFSET:	/* not a chunk multiple, or not 0 as it must be */
		dstor_put32(buf + 24, h->offset + 1 +
			    rng_below(&rng, DSTOR_MC_CHUNK - 1));
		break;
	default:	/* K_SHORT */
		return rng_pct(&rng, 50) ?
		       rng_below(&rng, DSTOR_MC_HDR_LEN + DSTOR_MC_TAG_LEN) :
		       rng_below(&rng, (u32)n);
	}
	return n;
}

static void one_unsealed(int fd)
{
	u8 buf[DSTOR_MC_PKT_MAX];
	struct dstor_mc_hdr h = { .epoch = ex.epoch };
	struct dstor_mc_announce a = ex.a;
	struct in6_addr g;
	u64 b = rng_below(&rng, (u32)ex.a.blocks);
	u32 r = rng_below(&rng, 100), lv = rng_below(&rng, (u32)opt.levels + 2);
	enum kind k;
	size_t n;

	if (lv > opt.levels)	/* levels 0..L, or the top channel */
		lv = ex.top;
	mc_group(opt.name, DSTOR_MC_KIND_CHANNEL, ex.epoch, ex.a.root,
		 dstor_mc_node(lv, b >> lv), &g);
	if (r < 35) {
		send_pkt(fd, &g, buf, build_data(buf, &h, b, 0), K_DATA_OK);
	} else if (r < 55) {
		send_pkt(fd, &g, buf, build_data(buf, &h, b, 1), K_DATA_TAGGED);
	} else if (r < 63) {
		build_data(buf, &h, b, 0);
		h.epoch ^= rng_next(&rng) | 1;
		send_pkt(fd, &g, buf, finish(buf, &h, 0), K_EPOCH);
	} else if (r < 70) {
		build_data(buf, &h, b, 0);
		if (rng_pct(&rng, 40)) {	/* a block past the end */
			h.index = ex.a.blocks + rng_below(&rng, 1000);
		} else if (h.len < DSTOR_MC_CHUNK && rng_pct(&rng, 50)) {
			/* the last chunk, running past the end of the block */
			h.len += 1 + rng_below(&rng, DSTOR_MC_CHUNK - h.len);
			rng_fill(&rng, buf + DSTOR_MC_HDR_LEN, h.len);
		} else {		/* a chunk past the end */
			h.offset = (chunks_of(b) + rng_below(&rng, 16)) *
				   DSTOR_MC_CHUNK;
		}
		send_pkt(fd, &g, buf, finish(buf, &h, 0), K_GEOMETRY);
	} else if (r < 85) {
		n = build_data(buf, &h, b, 0);
		if (rng_pct(&rng, 30))
			g = rng_pct(&rng, 50) ? ex.announce : ex.tree;
		n = mangle(buf, n, &h, &k);
		send_pkt(fd, &g, buf, n, k);
	} else if (r < 91) {
		h.type = DSTOR_MC_ANNOUNCE;
		h.len = DSTOR_MC_ANNOUNCE_LEN;
		rng_fill(&rng, a.root, DSTOR_MC_HASH);
		dstor_mc_announce_encode(buf + DSTOR_MC_HDR_LEN, &a);
		if (rng_pct(&rng, 25))	/* a bit of block size..blocks */
			buf[DSTOR_MC_HDR_LEN + 8 + rng_below(&rng, 16)] ^=
				1 << rng_below(&rng, 8);
		send_pkt(fd, &ex.announce, buf, finish(buf, &h, 0), K_ANNOUNCE);
	} else {
		h.type = DSTOR_MC_TREE;
		h.index = b / DSTOR_MC_LEAVES_PER_PKT * DSTOR_MC_LEAVES_PER_PKT;
		r = (u32)(ex.a.blocks - h.index);
		h.len = (r < DSTOR_MC_LEAVES_PER_PKT ? r :
			 DSTOR_MC_LEAVES_PER_PKT) * DSTOR_MC_HASH;
		rng_fill(&rng, buf + DSTOR_MC_HDR_LEN, h.len);
		send_pkt(fd, &ex.tree, buf, finish(buf, &h, 0), K_TREE);
	}
}

/* --announce: the same ANNOUNCE every time, built once. */
static void one_fixed(int fd)
{
	static u8 buf[DSTOR_MC_PKT_MAX];
	static size_t n;

	if (!n) {
		struct dstor_mc_hdr h = {
			.type = DSTOR_MC_ANNOUNCE,
			.epoch = ex.epoch,
			.len = DSTOR_MC_ANNOUNCE_LEN,
		};
		struct dstor_mc_announce a = {
			.size = 16 * opt.announce,
			.block_size = (u32)opt.announce,
			.chunk = DSTOR_MC_CHUNK,
			.blocks = 16,
		};

		rng_fill(&rng, a.root, DSTOR_MC_HASH);
		dstor_mc_announce_encode(buf + DSTOR_MC_HDR_LEN, &a);
		n = finish(buf, &h, 0);
	}
	send_pkt(fd, &ex.announce, buf, n, K_FIXED);
}

/* Sealed-looking packets: random ciphertext and tag. */
static void one_sealed(int fd)
{
	u8 buf[DSTOR_MC_PKT_MAX];
	struct dstor_mc_hdr h = {
		.type = DSTOR_MC_ANNOUNCE, .flags = DSTOR_MC_F_SEALED,
		.cipher = ex.cipher, .epoch = ex.epoch,
		.len = DSTOR_MC_ANNOUNCE_LEN,
	};
	struct in6_addr g = ex.announce;
	u32 r = rng_below(&rng, 100), t = rng_below(&rng, 4);
	enum kind k = K_SEALED;
	size_t n;

	if (t == 2) {
		h.type = DSTOR_MC_TREE;
		h.index = rng_below(&rng, 2048) * DSTOR_MC_LEAVES_PER_PKT;
		h.len = DSTOR_MC_CHUNK;
	} else if (t == 3) {
		h.type = DSTOR_MC_DATA;
		h.index = rng_below(&rng, DSTOR_MC_MAX_BLOCKS);
		h.offset = rng_below(&rng, 64) * DSTOR_MC_CHUNK;
		h.len = 1 + rng_below(&rng, DSTOR_MC_CHUNK);
	}
	if (r >= 50 && r < 60) {
		h.epoch ^= rng_next(&rng) | 1;
		k = K_EPOCH;
	}
	rng_fill(&rng, buf + DSTOR_MC_HDR_LEN, h.len);
	n = finish(buf, &h, 0);
	if (r >= 60 && r < 85) {
		rng_fill(&rng, g.s6_addr + 2, 14);
		k = K_RANDGRP;
	} else if (r >= 85) {
		n = mangle(buf, n, &h, &k);
	}
	send_pkt(fd, &g, buf, n, k);
}

/*
 * Wait for an ANNOUNCE on @fd and fill in ex; then leave the group (the
 * socket is not read any more). 0, or -1 after 30 s.
 */
static int wait_announce(int fd)
{
	int64_t end = now_ms() + ANNOUNCE_MS, left;
	u8 buf[DSTOR_MC_PKT_MAX + 1];
	struct ipv6_mreq mr = { .ipv6mr_interface = opt.ifindex };
	struct dstor_mc_hdr h;
	ssize_t n;

	mr.ipv6mr_multiaddr = ex.announce;
	while (!stop && (left = end - now_ms()) > 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 || dstor_mc_hdr_decode(buf, (size_t)n, &h) ||
		    h.type != DSTOR_MC_ANNOUNCE)
			continue;
		ex.epoch = h.epoch;
		ex.sealed = h.flags & DSTOR_MC_F_SEALED;
		ex.cipher = h.cipher;
		if (!ex.sealed &&
		    dstor_mc_announce_decode(buf + DSTOR_MC_HDR_LEN, &ex.a,
					     DSTOR_MC_MIN_BLOCK,
					     DSTOR_MC_MAX_BLOCK,
					     DSTOR_MC_MAX_BLOCKS)) {
			if (opt.verbose)
				warnx("ANNOUNCE with a bad geometry");
			continue;
		}
		setsockopt(fd, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &mr, sizeof(mr));
		return 0;
	}
	return -1;
}

static int open_socket(void)
{
	struct sockaddr_in6 sa = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(DSTOR_MC_PORT),
		.sin6_addr = IN6ADDR_ANY_INIT,
	};
	struct ipv6_mreq mr = { .ipv6mr_interface = opt.ifindex };
	int one = 1, zero = 0, fd;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("socket", errno);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &one,
		       sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &opt.ifindex,
		       sizeof(opt.ifindex)))
		fail("setsockopt", errno);
	/* Only our group, not every group another socket joined. */
	setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &zero, sizeof(zero));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		fail("bind [::]:7421", errno);
	mr.ipv6mr_multiaddr = ex.announce;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)))
		fail("join the announce group", errno);
	return fd;
}

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: %s --iface IFACE --name EXPORT [--seconds N]\n"
		"       [--rate PPS] [--levels L] [--announce BS] [--seed S]\n"
		"       [--verbose]\n",
		prog);
	exit(rc);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "name", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "levels", required_argument, NULL, 'l' },
		{ "announce", required_argument, NULL, 'a' },
		{ "seed", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec t0;
	int ch, fd, seeded = 0;
	u64 i, ns, total = 0;

	prog = "dstor-mcforge";
	while ((ch = getopt_long(argc, argv, "i:n:s:r:l:a:S:vh", lo, NULL)) !=
	       -1) {
		switch (ch) {
		case 'i':
			opt.iface = optarg;
			break;
		case 'n':
			opt.name = optarg;
			break;
		case 's':
			opt.seconds = parse_u64("--seconds", optarg);
			break;
		case 'r':
			opt.rate = parse_u64("--rate", optarg);
			break;
		case 'l':
			opt.levels = parse_u64("--levels", optarg);
			break;
		case 'a':
			opt.announce = parse_u64("--announce", optarg);
			break;
		case 'S':
			opt.seed = parse_u64("--seed", optarg);
			seeded = 1;
			break;
		case 'v':
			opt.verbose = 1;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (!opt.iface || !opt.name || optind != argc)
		usage(2);
	if (!*opt.name || strlen(opt.name) >= DSTOR_NAME_MAX)
		die("--name: 1 to %d bytes", DSTOR_NAME_MAX - 1);
	if (!opt.rate || opt.rate > 10000000 || opt.seconds > 1000000 ||
	    opt.levels > 63 || opt.announce > UINT32_MAX)
		die("--rate 1..10000000, --seconds 0..1000000, --levels 0..63, --announce 0..%u",
		    UINT32_MAX);
	if (!seeded)
		opt.seed = seed_from_clock();
	rng.s = opt.seed;

	opt.ifindex = if_nametoindex(opt.iface);
	if (!opt.ifindex)
		fail(opt.iface, errno);
	mc_group(opt.name, DSTOR_MC_KIND_ANNOUNCE, 0, NULL, 0, &ex.announce);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = open_socket();
	if (opt.announce) {
		ex.epoch = rng_next(&rng);
	} else {
		if (opt.verbose)
			warnx("waiting for an ANNOUNCE on %s%%%s",
			      fmt_group(&ex.announce), opt.iface);
		if (wait_announce(fd))
			fail("no ANNOUNCE in 30 s", 0);
	}
	while (!ex.sealed && (1ULL << ex.top) < ex.a.blocks)
		ex.top++;
	if (opt.levels > ex.top)
		opt.levels = ex.top;
	mc_group(opt.name, DSTOR_MC_KIND_TREE, ex.epoch, ex.a.root, 0, &ex.tree);
	if (opt.verbose && !ex.sealed && !opt.announce)
		warnx("%llu blocks of %u (%llu bytes), top level %u, tree %s",
		      (unsigned long long)ex.a.blocks, ex.a.block_size,
		      (unsigned long long)ex.a.size, ex.top,
		      fmt_group(&ex.tree));

	/* Packet i at t0 + i / rate; late ones go out at once. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; !stop; i++) {
		ns = pace_ns(i, opt.rate);
		if (ns >= opt.seconds * NSEC)
			break;
		if (sleep_until(&t0, ns) && stop)
			break;
		if (opt.announce)
			one_fixed(fd);
		else if (ex.sealed)
			one_sealed(fd);
		else
			one_unsealed(fd);
	}
	close(fd);

	for (int k = 0; k < NR_KINDS; k++)
		total += sent[k];
	fprintf(stderr, "%s: '%s' (%s, epoch %016llx), seed %llu:\n", prog,
		opt.name, ex.sealed ? "sealed" : "unsealed",
		(unsigned long long)ex.epoch, (unsigned long long)opt.seed);
	fprintf(stderr, "  %-15s %llu\n  %-15s %llu\n", "sent",
		(unsigned long long)total, "send-errors",
		(unsigned long long)send_errors);
	for (int k = 0; k < NR_KINDS; k++)
		if (sent[k])
			fprintf(stderr, "  %-15s %llu\n", kind_name[k],
				(unsigned long long)sent[k]);
	return 0;
}
