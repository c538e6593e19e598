// SPDX-License-Identifier: GPL-2.0
/*
 * dstor-mldforge: hostile MLD traffic for a multicast exporter's watcher.
 *
 *   dstor-mldforge --iface IFACE --name EXPORT [--count N] [--rate PPS]
 *                  [--seed S] [--verbose]
 *
 * Sends N Ethernet frames (default 3000) out of IFACE with a packet
 * socket, PPS a second (default 2000), each an IPv6 packet to ff02::16
 * with a Router Alert hop-by-hop header and an ICMPv6 MLD message, of one
 * of these kinds:
 *
 *   random-joins    a valid MLDv2 report joining 1 to 8 random ff12::
 *                   groups that are none of the export's: counted, ignored
 *   churn           a valid MLDv2 report or MLDv1 Report/Done joining or
 *                   leaving the export's announce group
 *   bad-checksum    a valid report with its ICMPv6 checksum broken
 *   nrec            more records announced than the message holds
 *   nsrcs           a record whose sources run past the end
 *   auxlen          a record whose auxiliary data runs past the end
 *   short-v1        an MLDv1 Report cut before its group address
 *   cut             the IPv6 payload length cuts the last record (the
 *                   checksum covers what it says)
 *   long-plen       an IPv6 payload length past the end of the frame
 *   fragment        a report behind a fragment header
 *   hbh-junk        a valid report behind a hop-by-hop header of random
 *                   options and length
 *   random          random bytes as an MLDv2 report, checksum right
 *   leave           (the last frame) MLDv2 TO_IN {} for the announce group
 *
 * Run it where the frames reach the exporter's interface without passing
 * a snooping bridge (which drops malformed MLD): on the bridge's port to
 * the exporter. The last frame leaves the announce group. On stdout:
 * "sent N reports R bad M": R the frames the exporter must count as MLD
 * reports (all but long-plen and fragment, which it does not take for MLD
 * at all), M those of them it must count as malformed (bad-checksum to
 * random, but hbh-junk). Exit status: 0; 2 on bad arguments; 1 when the
 * interface or socket cannot be set up or a frame could not be sent.
 */
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/dstor.h>

#include "common.h"
#include "mcgroup.h"

#define ETH_LEN		14
#define IP6_LEN		40
#define HBH_LEN		8
#define FRAME_MAX	1500

enum kind {
	K_JOINS, K_CHURN, K_CSUM, K_NREC, K_NSRCS, K_AUX, K_SHORT_V1, K_CUT,
	K_LONG_PLEN, K_FRAG, K_HBH, K_RANDOM, K_LEAVE, NR_KINDS
};

static const char *const kind_name[NR_KINDS] = {
	"random-joins", "churn", "bad-checksum", "nrec", "nsrcs", "auxlen",
	"short-v1", "cut", "long-plen", "fragment", "hbh-junk", "random",
	"leave",
};

/* Kinds the exporter counts as malformed (mld_bad). */
static const int counted_bad[NR_KINDS] = {
	[K_CSUM] = 1, [K_NREC] = 1, [K_NSRCS] = 1, [K_AUX] = 1,
	[K_SHORT_V1] = 1, [K_CUT] = 1, [K_RANDOM] = 1,
};

static struct {
	const char *iface, *name;
	unsigned int ifindex;
	u64 count, rate, seed;
	int verbose;
} opt = { .count = 3000, .rate = 2000 };

static struct rng rng;
static struct in6_addr announce;
static u8 src_mac[6];
static u64 sent[NR_KINDS], send_errors;

static u16 csum_add(u32 sum, const u8 *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (u32)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (u32)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)sum;
}

/* The ICMPv6 checksum of the @n bytes at @icmp, for @ip6's addresses. */
static u16 icmp6_csum(const u8 *ip6, const u8 *icmp, size_t n)
{
	u8 ph[40] = { 0 };
	u32 sum;

	memcpy(ph, ip6 + 8, 32);
	ph[32] = (u8)(n >> 24);
	ph[33] = (u8)(n >> 16);
	ph[34] = (u8)(n >> 8);
	ph[35] = (u8)n;
	ph[39] = 58;
	sum = csum_add(0, ph, sizeof(ph));
	sum = csum_add(sum, icmp, n);
	return (u16)~sum;
}

/* One MLDv2 record at @p: type, @nsrcs sources, @aux words; its length. */
static size_t record(u8 *p, u8 type, const struct in6_addr *g, u16 nsrcs,
		     u8 aux)
{
	size_t n = 20 + 16 * (size_t)nsrcs + 4 * (size_t)aux;

	p[0] = type;
	p[1] = aux;
	dstor_put16(p + 2, nsrcs);
	memcpy(p + 4, g, 16);
	rng_fill(&rng, p + 20, n - 20);
	return n;
}

static void random_group(struct in6_addr *g)
{
	rng_fill(&rng, g, sizeof(*g));
	g->s6_addr[0] = 0xff;
	g->s6_addr[1] = 0x12;
}

/*
 * Frame @k into @f: Ethernet, IPv6, hop-by-hop (Router Alert), ICMPv6.
 * Returns the frame's length.
 */
static size_t build(u8 *f, enum kind k)
{
	static const u8 dst_mac[6] = { 0x33, 0x33, 0, 0, 0, 0x16 };
	u8 *ip6 = f + ETH_LEN, *hbh = ip6 + IP6_LEN, *icmp = hbh + HBH_LEN;
	size_t n = 0, plen, i, nrec;
	struct in6_addr g;
	int sum_ok = 1;

	memset(f, 0, FRAME_MAX);
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	ip6[0] = 0x60;
	ip6[6] = 0;			/* next: hop-by-hop */
	ip6[7] = 1;			/* hop limit */
	ip6[8] = 0xfe;			/* fe80::/64, random interface id */
	ip6[9] = 0x80;
	rng_fill(&rng, ip6 + 16, 8);
	ip6[24] = 0xff;			/* ff02::16 */
	ip6[25] = 0x02;
	ip6[39] = 0x16;
	hbh[0] = 58;			/* ICMPv6 */
	hbh[1] = 0;
	hbh[2] = 5;			/* Router Alert: MLD */
	hbh[3] = 2;
	hbh[6] = 1;			/* PadN */

	icmp[0] = 143;			/* MLDv2 report */
	switch (k) {
	case K_JOINS:
		nrec = 1 + rng_below(&rng, 8);
		for (i = 0, n = 8; i < nrec; i++) {
			random_group(&g);
			n += record(icmp + n, 4, &g, 0, 0); /* TO_EX {} */
		}
		dstor_put16(icmp + 6, (u16)nrec);
		break;
	case K_CHURN:
		switch (rng_below(&rng, 4)) {
		case 0:				/* MLDv2 TO_EX {}: join */
		case 1:				/* MLDv2 TO_IN {}: leave */
			n = 8 + record(icmp + 8, rng_below(&rng, 2) ? 4 : 3,
				       &announce, 0, 0);
			dstor_put16(icmp + 6, 1);
			break;
		default:			/* MLDv1 Report / Done */
			icmp[0] = rng_below(&rng, 2) ? 131 : 132;
			memcpy(icmp + 8, &announce, 16);
			n = 24;
		}
		break;
	case K_CSUM:
		random_group(&g);
		n = 8 + record(icmp + 8, 4, &g, 0, 0);
		dstor_put16(icmp + 6, 1);
		sum_ok = 0;
		break;
	case K_NREC:
		random_group(&g);
		n = 8 + record(icmp + 8, 4, &g, 0, 0);
		dstor_put16(icmp + 6, (u16)(2 + rng_below(&rng, 65534)));
		break;
	case K_NSRCS:
		random_group(&g);
		n = 8 + record(icmp + 8, 1, &g, 2, 0);
		dstor_put16(icmp + 8 + 2, (u16)(3 + rng_below(&rng, 65533)));
		dstor_put16(icmp + 6, 1);
		break;
	case K_AUX:
		random_group(&g);
		n = 8 + record(icmp + 8, 4, &g, 0, 1);
		icmp[8 + 1] = (u8)(2 + rng_below(&rng, 254));
		dstor_put16(icmp + 6, 1);
		break;
	case K_SHORT_V1:
		icmp[0] = 131;
		n = 8 + rng_below(&rng, 16);
		rng_fill(&rng, icmp + 8, n - 8);
		break;
	case K_CUT:
		nrec = 2 + rng_below(&rng, 6);
		for (i = 0, n = 8; i < nrec; i++) {
			random_group(&g);
			n += record(icmp + n, 4, &g, (u16)rng_below(&rng, 3),
				    0);
		}
		dstor_put16(icmp + 6, (u16)nrec);
		n -= 1 + rng_below(&rng, 19);	/* into the last record */
		break;
	case K_LONG_PLEN:
		random_group(&g);
		n = 8 + record(icmp + 8, 4, &g, 0, 0);
		dstor_put16(icmp + 6, 1);
		break;
	case K_FRAG:
		hbh[0] = 44;			/* fragment header next */
		random_group(&g);
		icmp[0] = 58;			/* the fragment header */
		icmp[3] = 1;			/* offset 0, more fragments */
		rng_fill(&rng, icmp + 4, 4);
		icmp += 8;
		icmp[0] = 143;
		n = 8 + record(icmp + 8, 4, &g, 0, 0);
		dstor_put16(icmp + 6, 1);
		break;
	case K_HBH:
		hbh[1] = (u8)rng_below(&rng, 4);
		rng_fill(&rng, hbh + 2, 6 + 8 * (size_t)hbh[1]);
		icmp = hbh + 8 + 8 * (size_t)hbh[1];
		icmp[0] = 143;
		random_group(&g);
		n = 8 + record(icmp + 8, 4, &g, 0, 0);
		dstor_put16(icmp + 6, 1);
		break;
	case K_RANDOM:
		n = 8 + rng_below(&rng, 400);
		rng_fill(&rng, icmp + 1, n - 1);
		/* Something that does not parse: records past the end. */
		dstor_put16(icmp + 6, (u16)(n / 20 + 1 + rng_below(&rng, 100)));
		break;
	case K_LEAVE:
		n = 8 + record(icmp + 8, 3, &announce, 0, 0);	/* TO_IN {} */
		dstor_put16(icmp + 6, 1);
		break;
	case NR_KINDS:
		break;
	}
	icmp[2] = icmp[3] = 0;
	dstor_put16(icmp + 2, icmp6_csum(ip6, icmp, n));
	if (!sum_ok)
		icmp[3] ^= 1 + rng_below(&rng, 255);
	plen = (size_t)(icmp - hbh) + n;
	dstor_put16(ip6 + 4, (u16)(plen + (k == K_LONG_PLEN ?
					   64 + rng_below(&rng, 1000) : 0)));
	return ETH_LEN + IP6_LEN + plen;
}

static enum kind pick(void)
{
	u32 r = rng_below(&rng, 100);

	if (r < 15)
		return K_JOINS;
	if (r < 30)
		return K_CHURN;
	return (enum kind)(K_CSUM + rng_below(&rng, NR_KINDS - K_CSUM));
}

static void send_frame(int fd, const u8 *f, size_t n, enum kind k)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IPV6),
		.sll_ifindex = (int)opt.ifindex,
		.sll_halen = 6,
	};

	memcpy(sll.sll_addr, f, 6);
	if (sendto(fd, f, n, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		if (!send_errors++)
			warnx("sendto: %s", strerror(errno));
		return;
	}
	if (!sent[k]++ && opt.verbose)
		warnx("first %s: %zu bytes", kind_name[k], n);
}

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: %s --iface IFACE --name EXPORT [--count N] [--rate PPS]\n"
		"       [--seed S] [--verbose]\n", prog);
	exit(rc);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "name", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	u64 i, bad = 0, reports = 0, total = 0;
	struct timespec t0;
	u8 f[FRAME_MAX];
	int ch, fd, seeded = 0;
	enum kind k;

	prog = "dstor-mldforge";
	while ((ch = getopt_long(argc, argv, "i:n:c:r:S:vh", lo, NULL)) != -1) {
		switch (ch) {
		case 'i':
			opt.iface = optarg;
			break;
		case 'n':
			opt.name = optarg;
			break;
		case 'c':
			opt.count = parse_u64("--count", optarg);
			break;
		case 'r':
			opt.rate = parse_u64("--rate", optarg);
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
	if (!opt.rate || opt.rate > 1000000 || opt.count > 100000000)
		die("--rate 1..1000000, --count 0..100000000");
	if (!seeded)
		opt.seed = seed_from_clock();
	rng.s = opt.seed;
	opt.ifindex = if_nametoindex(opt.iface);
	if (!opt.ifindex)
		err(1, "%s", opt.iface);
	mc_group(opt.name, DSTOR_MC_KIND_ANNOUNCE, 0, NULL, 0, &announce);
	rng_fill(&rng, src_mac, sizeof(src_mac));
	src_mac[0] = (src_mac[0] & 0xfe) | 0x02;	/* local unicast */
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IPV6));
	if (fd < 0)
		err(1, "packet socket");

	/* Frame i at t0 + i / rate; the last one leaves the announce group. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i <= opt.count; i++) {
		sleep_until(&t0, pace_ns(i, opt.rate));
		k = i == opt.count ? K_LEAVE : pick();
		send_frame(fd, f, build(f, k), k);
	}
	close(fd);
	for (int j = 0; j < NR_KINDS; j++) {
		total += sent[j];
		if (counted_bad[j])
			bad += sent[j];
		if (j != K_LONG_PLEN && j != K_FRAG)
			reports += sent[j];
	}
	printf("sent %llu reports %llu bad %llu\n", (unsigned long long)total,
	       (unsigned long long)reports, (unsigned long long)bad);
	fprintf(stderr, "%s: '%s', seed %llu, send errors %llu:\n", prog,
		opt.name, (unsigned long long)opt.seed,
		(unsigned long long)send_errors);
	for (int j = 0; j < NR_KINDS; j++)
		if (sent[j])
			fprintf(stderr, "  %-15s %llu\n", kind_name[j],
				(unsigned long long)sent[j]);
	return send_errors ? 1 : 0;
}
