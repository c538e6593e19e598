// SPDX-License-Identifier: GPL-2.0
/*
 * dstor-mldforge: hostile MLD traffic for a multicast exporter's watcher.
 *
 *   dstor-mldforge --iface IFACE --name EXPORT [--count N] [--rate PPS]
 *                  [--seed S] [--verbose] [--kind KIND[,KIND...]]
 *                  [--defect DEFECT] [--epoch E --root HEX --blocks N]
 *
 * Sends N Ethernet frames (default 3000) out of IFACE with a packet
 * socket, PPS a second (default 2000), each an IPv6 packet with a Router
 * Alert hop-by-hop header and an ICMPv6 MLD message, hop limit 1, from a
 * random fe80::/64 address: reports to ff02::16, queries to ff02::1. The
 * kinds:
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
 *                   length, its Router Alert among random options
 *   random          random bytes as an MLDv2 report, checksum right
 *   leave           MLDv2 TO_IN {} for the export's groups (below)
 *   join            a valid MLDv2 report, TO_EX {} for the export's groups
 *   join-v1         a valid MLDv1 Report for the export's last group
 *   query-small     an MLDv2 General Query asking for the shortest
 *                   listener interval: QRV 1, QQIC 1 s, response delay 0
 *   query-huge      one asking for the longest: QRV 7, QQIC 31744 s,
 *                   response delay 8387.584 s
 *   query           one as a --querier export sends it: QRV 2, QQIC
 *                   10 s, response delay 1 s (sent into a bridge, it
 *                   has the hosts behind it report their groups now)
 *
 * The export's groups are its announce group and, given its tree (--epoch,
 * from `dstor show`, 0x in front; --root; --blocks), also its tree group
 * and its top channel (every block): real channels of the export.
 *
 * Without --kind, the frames are a random mix of random-joins to leave
 * (mostly the malformed ones), and one more frame, the last, is a leave.
 * With --kind, frame i is the (i mod K)-th of the K kinds listed, and
 * nothing more is sent.
 *
 * --defect makes every frame one the exporter must not believe (RFC 3810
 * 5.1.14, 5.2.13, 6.2):
 *
 *   routed          hop limit 255
 *   global-src      from a 2001:db8::/64 address
 *   no-ra           without a Router Alert for MLD: no hop-by-hop header,
 *                   one of padding only, or a Router Alert of another value
 *   unspec-src      from :: (what a host without an address sends: good
 *                   for reports, not for queries)
 *
 * Run it where the frames reach the exporter's interface without passing
 * a snooping bridge (which drops malformed MLD): on the bridge's port to
 * the exporter. On stdout: "sent N reports R queries Q bad M": R the frames
 * the exporter must count as MLD reports and Q the queries (long-plen and
 * fragment it does not take for MLD at all), M those it must count as
 * malformed or not from the link (bad-checksum to random, but hbh-junk;
 * with a defect, all but unspec-src reports). Exit status: 0; 2 on bad
 * arguments; 1 when the interface or socket cannot be set up or a frame
 * could not be sent.
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
	K_LONG_PLEN, K_FRAG, K_HBH, K_RANDOM, K_LEAVE,
	NR_MIX,				/* the random mix: the kinds above */
	K_JOIN = NR_MIX, K_JOIN_V1, K_QSMALL, K_QHUGE, K_QUERY, NR_KINDS
};

static const char *const kind_name[NR_KINDS] = {
	"random-joins", "churn", "bad-checksum", "nrec", "nsrcs", "auxlen",
	"short-v1", "cut", "long-plen", "fragment", "hbh-junk", "random",
	"leave", "join", "join-v1", "query-small", "query-huge", "query",
};

enum defect { D_NONE, D_ROUTED, D_GLOBAL, D_NO_RA, D_UNSPEC, NR_DEFECTS };

static const char *const defect_name[NR_DEFECTS] = {
	"none", "routed", "global-src", "no-ra", "unspec-src",
};

/* Kinds the exporter counts as malformed (mld_bad). */
static const int counted_bad[NR_KINDS] = {
	[K_CSUM] = 1, [K_NREC] = 1, [K_NSRCS] = 1, [K_AUX] = 1,
	[K_SHORT_V1] = 1, [K_CUT] = 1, [K_RANDOM] = 1,
};

static struct {
	const char *iface, *name;
	unsigned int ifindex;
	u64 count, rate, seed, epoch, blocks;
	u8 root[DSTOR_MC_HASH];
	int verbose, tree;
	enum kind kinds[NR_KINDS];
	unsigned int nr_kinds;
	enum defect defect;
} opt = { .count = 3000, .rate = 2000 };

static struct rng rng;
static struct in6_addr announce;
/* The groups a join or leave names: announce, tree, top channel. */
static struct in6_addr groups[3];
static unsigned int nr_groups;
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
 * @n bytes of well-formed hop-by-hop options at @p, none a Router Alert:
 * Pad1, PadN, or an unknown type a receiver skips (action bits 00).
 */
static void random_options(u8 *p, size_t n)
{
	size_t len;

	while (n) {
		if (n == 1 || rng_pct(&rng, 10)) {
			*p++ = 0;			/* Pad1 */
			n--;
			continue;
		}
		len = 2 + rng_below(&rng, (u32)(n - 1));	/* 2..n */
		p[0] = rng_below(&rng, 2) ? 1 : (u8)(6 + rng_below(&rng, 58));
		p[1] = (u8)(len - 2);
		rng_fill(&rng, p + 2, len - 2);
		p += len;
		n -= len;
	}
}

/* MLDv2 records at @icmp + 8, @type for the export's groups; the length. */
static size_t records(u8 *icmp, u8 type)
{
	size_t n = 8;
	unsigned int i;

	for (i = 0; i < nr_groups; i++)
		n += record(icmp + n, type, &groups[i], 0, 0);
	dstor_put16(icmp + 6, (u16)nr_groups);
	return n;
}

/* An MLDv2 General Query at @icmp; its length. */
static size_t query(u8 *icmp, u16 mrc, u8 qrv, u8 qqic)
{
	icmp[0] = 130;
	dstor_put16(icmp + 4, mrc);
	icmp[24] = qrv;
	icmp[25] = qqic;
	return 28;
}

/* The source address of the frame's IPv6 header at @ip6, by the defect. */
static void source(u8 *ip6)
{
	switch (opt.defect) {
	case D_GLOBAL:			/* 2001:db8::/64 */
		ip6[8] = 0x20;
		ip6[9] = 0x01;
		ip6[10] = 0x0d;
		ip6[11] = 0xb8;
		rng_fill(&rng, ip6 + 16, 8);
		break;
	case D_UNSPEC:			/* :: */
		break;
	default:			/* fe80::/64, random interface id */
		ip6[8] = 0xfe;
		ip6[9] = 0x80;
		rng_fill(&rng, ip6 + 16, 8);
	}
}

/*
 * The no-ra defect on the frame's hop-by-hop header at @hbh, of the IPv6
 * payload of @plen bytes: gone, padding only, or a Router Alert that is
 * not for MLD. Returns the payload length after.
 */
static size_t no_router_alert(u8 *ip6, u8 *hbh, size_t plen)
{
	size_t hl = 8 + 8 * (size_t)hbh[1];

	switch (rng_below(&rng, 3)) {
	case 0:
		ip6[6] = hbh[0];
		memmove(hbh, hbh + hl, plen - hl);
		return plen - hl;
	case 1:
		memset(hbh + 2, 0, hl - 2);
		hbh[2] = 1;			/* PadN */
		hbh[3] = (u8)(hl - 4);
		return plen;
	default:
		memset(hbh + 2, 0, hl - 2);
		hbh[2] = 5;			/* Router Alert, not MLD */
		hbh[3] = 2;
		dstor_put16(hbh + 4, (u16)(1 + rng_below(&rng, 65535)));
		hbh[6] = 1;			/* PadN */
		hbh[7] = (u8)(hl - 8);
		return plen;
	}
}

static int is_query(enum kind k)
{
	return k == K_QSMALL || k == K_QHUGE || k == K_QUERY;
}

/*
 * Frame @k into @f: Ethernet, IPv6, hop-by-hop (Router Alert), ICMPv6,
 * and the defect. Returns the frame's length.
 */
static size_t build(u8 *f, enum kind k)
{
	u8 *ip6 = f + ETH_LEN, *hbh = ip6 + IP6_LEN, *icmp = hbh + HBH_LEN;
	size_t n = 0, plen, i, nrec, hl, pre;
	struct in6_addr g;
	int sum_ok = 1;

	memset(f, 0, FRAME_MAX);
	f[0] = 0x33;			/* to ff02::16, or ff02::1 */
	f[1] = 0x33;
	f[5] = is_query(k) ? 0x01 : 0x16;
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	ip6[0] = 0x60;
	ip6[6] = 0;			/* next: hop-by-hop */
	ip6[7] = opt.defect == D_ROUTED ? 255 : 1;	/* hop limit */
	source(ip6);
	ip6[24] = 0xff;
	ip6[25] = 0x02;
	ip6[39] = f[5];
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
		hl = 8 + 8 * (size_t)hbh[1];
		pre = rng_below(&rng, (u32)(hl - 6 + 1));
		random_options(hbh + 2, pre);
		hbh[2 + pre] = 5;		/* Router Alert: MLD */
		hbh[3 + pre] = 2;
		hbh[4 + pre] = hbh[5 + pre] = 0;
		random_options(hbh + 6 + pre, hl - 6 - pre);
		icmp = hbh + hl;
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
		n = records(icmp, 3);			/* TO_IN {} */
		break;
	case K_JOIN:
		n = records(icmp, 4);			/* TO_EX {} */
		break;
	case K_JOIN_V1:
		icmp[0] = 131;
		memcpy(icmp + 8, &groups[nr_groups - 1], 16);
		n = 24;
		break;
	case K_QSMALL:
		n = query(icmp, 0, 1, 1);
		break;
	case K_QHUGE:
		n = query(icmp, 0xffff, 7, 0xff);
		break;
	case K_QUERY:
		n = query(icmp, 1000, 2, 10);
		break;
	case NR_KINDS:
		break;
	}
	icmp[2] = icmp[3] = 0;
	dstor_put16(icmp + 2, icmp6_csum(ip6, icmp, n));
	if (!sum_ok)
		icmp[3] ^= 1 + rng_below(&rng, 255);
	plen = (size_t)(icmp - hbh) + n;
	if (opt.defect == D_NO_RA)
		plen = no_router_alert(ip6, hbh, plen);
	dstor_put16(ip6 + 4, (u16)(plen + (k == K_LONG_PLEN ?
					   64 + rng_below(&rng, 1000) : 0)));
	return ETH_LEN + IP6_LEN + plen;
}

/* Whether the exporter takes frame @k for MLD, and counts it malformed. */
static int is_mld(enum kind k)
{
	return k != K_LONG_PLEN && k != K_FRAG;
}

static int is_bad(enum kind k)
{
	if (!is_mld(k))
		return 0;
	switch (opt.defect) {
	case D_NONE:
		return counted_bad[k];
	case D_UNSPEC:
		return counted_bad[k] || is_query(k);
	default:
		return 1;
	}
}

static enum kind pick(void)
{
	u32 r = rng_below(&rng, 100);

	if (r < 15)
		return K_JOINS;
	if (r < 30)
		return K_CHURN;
	return (enum kind)(K_CSUM + rng_below(&rng, NR_MIX - K_CSUM));
}

/* "join,leave": the kinds to send in turn. */
static void parse_kinds(const char *arg)
{
	char *list = strdup(arg), *save = NULL, *t;
	unsigned int j;

	if (!list)
		die("out of memory");
	for (t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		for (j = 0; j < NR_KINDS && strcmp(t, kind_name[j]); j++)
			;
		if (j == NR_KINDS || opt.nr_kinds == NR_KINDS)
			die("--kind: '%s' is not one of the kinds (see --help)", t);
		opt.kinds[opt.nr_kinds++] = (enum kind)j;
	}
	free(list);
	if (!opt.nr_kinds)
		die("--kind: no kind");
}

static enum defect parse_defect(const char *arg)
{
	unsigned int j;

	for (j = 0; j < NR_DEFECTS; j++)
		if (!strcmp(arg, defect_name[j]))
			return (enum defect)j;
	die("--defect: routed, global-src, no-ra, unspec-src or none");
}

/* 64 hex digits. */
static void parse_root(const char *arg)
{
	unsigned int j, v;

	if (strlen(arg) != 2 * DSTOR_MC_HASH)
		die("--root: %d hex digits", 2 * DSTOR_MC_HASH);
	for (j = 0; j < DSTOR_MC_HASH; j++) {
		if (sscanf(arg + 2 * j, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdefABCDEF", arg[2 * j]) ||
		    !strchr("0123456789abcdefABCDEF", arg[2 * j + 1]))
			die("--root: %d hex digits", 2 * DSTOR_MC_HASH);
		opt.root[j] = (u8)v;
	}
	opt.tree = 1;
}

/* Levels above the leaves of a tree of @n leaves (merkle.c). */
static unsigned int levels(u64 n)
{
	unsigned int l = 0;

	while (n > 1ULL << l)
		l++;
	return l;
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
		"       [--seed S] [--verbose] [--kind KIND[,KIND...]]\n"
		"       [--defect routed|global-src|no-ra|unspec-src]\n"
		"       [--epoch 0xE --root HEX --blocks N]\n"
		"kinds:", prog);
	for (int j = 0; j < NR_KINDS; j++)
		fprintf(rc ? stderr : stdout, " %s", kind_name[j]);
	fputc('\n', rc ? stderr : stdout);
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
		{ "kind", required_argument, NULL, 'k' },
		{ "defect", required_argument, NULL, 'd' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "root", required_argument, NULL, 'R' },
		{ "blocks", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	u64 i, n, bad = 0, reports = 0, queries = 0, total = 0;
	struct timespec t0;
	u8 f[FRAME_MAX];
	int ch, fd, seeded = 0;
	enum kind k;

	prog = "dstor-mldforge";
	while ((ch = getopt_long(argc, argv, "i:n:c:r:S:vk:d:e:R:b:h", lo, NULL)) != -1) {
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
		case 'k':
			parse_kinds(optarg);
			break;
		case 'd':
			opt.defect = parse_defect(optarg);
			break;
		case 'e':
			opt.epoch = parse_u64("--epoch", optarg);
			break;
		case 'R':
			parse_root(optarg);
			break;
		case 'b':
			opt.blocks = parse_u64("--blocks", optarg);
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
	if (opt.tree && (!opt.blocks || opt.blocks > DSTOR_MC_MAX_BLOCKS))
		die("--root needs --epoch and --blocks 1..%d",
		    DSTOR_MC_MAX_BLOCKS);
	if (!seeded)
		opt.seed = seed_from_clock();
	rng.s = opt.seed;
	opt.ifindex = if_nametoindex(opt.iface);
	if (!opt.ifindex)
		err(1, "%s", opt.iface);
	mc_group(opt.name, DSTOR_MC_KIND_ANNOUNCE, 0, NULL, 0, &announce);
	groups[nr_groups++] = announce;
	if (opt.tree) {
		mc_group(opt.name, DSTOR_MC_KIND_TREE, opt.epoch, opt.root, 0,
			 &groups[nr_groups++]);
		mc_group(opt.name, DSTOR_MC_KIND_CHANNEL, opt.epoch, opt.root,
			 dstor_mc_node(levels(opt.blocks), 0),
			 &groups[nr_groups++]);
	}
	rng_fill(&rng, src_mac, sizeof(src_mac));
	src_mac[0] = (src_mac[0] & 0xfe) | 0x02;	/* local unicast */
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IPV6));
	if (fd < 0)
		err(1, "packet socket");

	/*
	 * Frame i at t0 + i / rate. The mix: a last frame leaves the export's
	 * groups; --kind: the kinds in turn, nothing more.
	 */
	n = opt.nr_kinds ? opt.count : opt.count + 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		sleep_until(&t0, pace_ns(i, opt.rate));
		if (opt.nr_kinds)
			k = opt.kinds[i % opt.nr_kinds];
		else
			k = i == opt.count ? K_LEAVE : pick();
		send_frame(fd, f, build(f, k), k);
	}
	close(fd);
	for (int j = 0; j < NR_KINDS; j++) {
		total += sent[j];
		if (is_bad((enum kind)j))
			bad += sent[j];
		if (is_mld((enum kind)j))
			*(is_query((enum kind)j) ? &queries : &reports) += sent[j];
	}
	printf("sent %llu reports %llu queries %llu bad %llu\n",
	       (unsigned long long)total, (unsigned long long)reports,
	       (unsigned long long)queries, (unsigned long long)bad);
	fprintf(stderr, "%s: '%s', defect %s, seed %llu, send errors %llu:\n",
		prog, opt.name, defect_name[opt.defect],
		(unsigned long long)opt.seed, (unsigned long long)send_errors);
	for (int j = 0; j < NR_KINDS; j++)
		if (sent[j])
			fprintf(stderr, "  %-15s %llu\n", kind_name[j],
				(unsigned long long)sent[j]);
	return send_errors ? 1 : 0;
}
