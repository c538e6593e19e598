// SPDX-License-Identifier: GPL-2.0
/*
 * dstor-nlfuzz: malformed generic netlink requests against the dstor family.
 *
 *   dstor-nlfuzz [--iterations N] [--seed S] [--start I] [--no-targeted]
 *                [--verbose]
 *
 * Needs CAP_NET_ADMIN (the state-changing commands check it before they
 * parse anything). Resolves the "dstor" family, notes the exports and
 * imports that exist, then sends:
 *
 *   - the targeted cases: for every command, each required attribute
 *     missing, wrong types and lengths, endpoint nests with both or neither
 *     address, port 0, a scope on IPv4, ACL prefixes too long or with host
 *     bits, bad permissions, too many ACL entries, keys of the wrong
 *     length, out-of-range timers, export names the tool would never send
 *     (these must be refused with the kernel's own message about names),
 *     unknown attributes, and message-level damage (truncated headers and
 *     attributes, lengths that lie, trailing bytes, deep nesting, no
 *     NLM_F_REQUEST, NLM_F_DUMP where there is no dump);
 *   - N random messages (default 5000): command 0..40 (every valid one
 *     among them), random flags, attributes with valid ids and wrong types
 *     or lengths, unknown ids, garbage nests, strings without NUL or too
 *     long, huge integers, empty nests, ACL arrays with bad entries, and
 *     now and then a message cut short. Message I depends only on the seed
 *     and I: `--seed S --start I --iterations 1 --no-targeted --verbose`
 *     replays it.
 *
 * It never creates or destroys state: a name or an index it sends to a
 * state-changing command never matches an existing export or import (names
 * and indexes are checked against the ones found at start and refreshed
 * every 200 messages); every EXPORT_ADD names a device path that cannot
 * exist ("/\x01..."); every IMPORT_ADD has a defect the kernel is certain to
 * reject (one is added in front if the message has none; a bad export name
 * counts only in the last DSTOR_A_NAME, the one the kernel checks) and any peer
 * address in it is rewritten to an unreachable one (198.51.100.0/24,
 * 100::/64); DSTOR_CMD_SET only ever sets the current worker count and
 * session limits. The exports, imports, worker count and limits are
 * compared at the end.
 *
 * Each request must get exactly one answer within 5 s: an error ACK, or for
 * GET commands a reply or a dump ending in NLMSG_DONE. Replies are checked
 * (lengths, attribute layout, NUL-terminated strings, extended ACK TLVs, no
 * DSTOR_A_KEY ever). Prints counts per errno, per command and the extended
 * ACK messages seen. Exit status: 0; 1 if a request got no answer, an
 * answer was malformed or extra, a state-changing request succeeded, or the
 * state changed; 2 if the family cannot be used at all.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/dstor.h>

#include "common.h"

#define BUF_MAX		65536
#define ATTR_OFF	(NLMSG_HDRLEN + GENL_HDRLEN)
#define REPLY_MS	5000
#define NONE_MS		150	/* for datagrams the kernel may drop silently */
#define MAX_CMD		40
#define MAX_ERRNO	140
#define MAX_KNOWN	256
#define MAX_MSGS	128

static struct {
	unsigned long iterations, start;
	uint64_t seed;
	int targeted, verbose;
} opt = { .iterations = 5000, .targeted = 1 };

static struct mnl_socket *nl;
static uint32_t portid;
static uint16_t family;
static uint32_t seq = 1000;
static uint8_t valid_cmd[256];

/* Exports and imports that exist: never touched. */
static struct known {
	char names[MAX_KNOWN][DSTOR_NAME_MAX];
	int nnames;
	uint32_t idx[MAX_KNOWN];
	int nidx;
	uint32_t workers;
	uint32_t max_sessions, max_host_sessions;
} known;

/* ---- results ---- */

static struct {
	unsigned long sent, targeted, random, acks_err, acks_ok, dumps, replies,
		none, ignored;
	unsigned long no_reply, malformed, stray, extra, unexpected_ok;
	unsigned long per_errno[MAX_ERRNO + 1];
	unsigned long per_cmd[256], per_cmd_errno[MAX_CMD + 2][MAX_ERRNO + 1];
} st;

static struct {
	char text[128];
	int err;
	unsigned long n;
} extack[MAX_MSGS];
static int nextack;

static const char *cmd_name(unsigned int cmd)
{
	static const char *const names[] = {
		"unspec", "export_add", "export_del", "export_get", "import_add",
		"import_del", "import_get", "import_set", "event", "acl_add",
		"acl_del", "acl_get", "set", "get", "export_set", "sync_add",
		"sync_del", "sync_get", "export_rehash",
	};
	static char buf[16];

	if (cmd < sizeof(names) / sizeof(names[0]))
		return names[cmd];
	snprintf(buf, sizeof(buf), "cmd%u", cmd);
	return buf;
}

static int cmd_is_admin(unsigned int cmd)
{
	switch (cmd) {
	case DSTOR_CMD_EXPORT_ADD: case DSTOR_CMD_EXPORT_DEL:
	case DSTOR_CMD_IMPORT_ADD: case DSTOR_CMD_IMPORT_DEL:
	case DSTOR_CMD_IMPORT_SET: case DSTOR_CMD_ACL_ADD:
	case DSTOR_CMD_ACL_DEL: case DSTOR_CMD_SET: case DSTOR_CMD_EXPORT_SET:
	case DSTOR_CMD_EXPORT_REHASH:
		return 1;
	}
	return 0;
}

static const char *errname(int e)
{
	const char *s = e ? strerrorname_np(e) : "OK";
	static char buf[16];

	if (s)
		return s;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

/* ---- messages ---- */

struct msg {
	uint8_t b[BUF_MAX];
	size_t len;
	size_t nest[32];
	int depth;
	uint8_t cmd;
	uint16_t flags;
	uint8_t version;
	size_t send_len;	/* bytes to send; 0: len */
	int maybe_none;		/* the kernel may drop it without an answer */
	int full;
	const char *label;
	const char *want_ext;	/* targeted: an error whose extack has this */
	char desc[96];
};

static void m_init(struct msg *m, uint8_t cmd, uint16_t flags)
{
	memset(m, 0, offsetof(struct msg, b) + ATTR_OFF);
	m->len = ATTR_OFF;
	m->depth = 0;
	m->cmd = cmd;
	m->flags = flags;
	m->version = DSTOR_GENL_VERSION;
	m->send_len = 0;
	m->maybe_none = 0;
	m->full = 0;
	m->label = NULL;
	m->want_ext = NULL;
	m->desc[0] = 0;
}

static void *m_room(struct msg *m, size_t n)
{
	void *p;

	if (m->full || m->len + NLA_ALIGN(n) > BUF_MAX - 64) {
		m->full = 1;
		return NULL;
	}
	p = m->b + m->len;
	memset(p, 0, NLA_ALIGN(n));
	m->len += NLA_ALIGN(n);
	return p;
}

/* An attribute whose nla_len field says @nla_len (normally 4 + @len). */
static void m_attr_lie(struct msg *m, uint16_t type, uint16_t nla_len,
		       const void *data, size_t len)
{
	struct nlattr *a = m_room(m, NLA_HDRLEN + len);

	if (!a)
		return;
	a->nla_type = type;
	a->nla_len = nla_len;
	if (len)
		memcpy((uint8_t *)a + NLA_HDRLEN, data, len);
}

static void m_attr(struct msg *m, uint16_t type, const void *data, size_t len)
{
	m_attr_lie(m, type, (uint16_t)(NLA_HDRLEN + len), data, len);
}

static void m_u8(struct msg *m, uint16_t t, uint8_t v) { m_attr(m, t, &v, 1); }
static void m_u16(struct msg *m, uint16_t t, uint16_t v) { m_attr(m, t, &v, 2); }
static void m_u32(struct msg *m, uint16_t t, uint32_t v) { m_attr(m, t, &v, 4); }
static void m_u64(struct msg *m, uint16_t t, uint64_t v) { m_attr(m, t, &v, 8); }

static void m_str(struct msg *m, uint16_t t, const char *s)
{
	m_attr(m, t, s, strlen(s) + 1);
}

static void m_nest_start_flags(struct msg *m, uint16_t type)
{
	struct nlattr *a;

	if (m->depth >= 32) {
		m->full = 1;
		return;
	}
	m->nest[m->depth++] = m->len;
	a = m_room(m, NLA_HDRLEN);
	if (a)
		a->nla_type = type;
}

static void m_nest_start(struct msg *m, uint16_t type)
{
	m_nest_start_flags(m, type | NLA_F_NESTED);
}

static void m_nest_end(struct msg *m)
{
	struct nlattr *a;
	size_t n;

	if (!m->depth)
		return;
	a = (struct nlattr *)(m->b + m->nest[--m->depth]);
	n = m->len - m->nest[m->depth];
	a->nla_len = n > 0xffff ? 0xffff : (uint16_t)n;
}

static void m_finish(struct msg *m)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->b;
	struct genlmsghdr *g = (struct genlmsghdr *)(m->b + NLMSG_HDRLEN);

	while (m->depth)
		m_nest_end(m);
	nlh->nlmsg_len = (uint32_t)m->len;
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = m->flags;
	nlh->nlmsg_seq = ++seq;
	nlh->nlmsg_pid = 0;
	g->cmd = m->cmd;
	g->version = m->version;
}

/* Insert @n bytes at the start of the attributes. */
static void *m_prepend(struct msg *m, size_t n)
{
	n = NLA_ALIGN(n);
	if (m->len + n > BUF_MAX)
		return NULL;
	memmove(m->b + ATTR_OFF + n, m->b + ATTR_OFF, m->len - ATTR_OFF);
	memset(m->b + ATTR_OFF, 0, n);
	m->len += n;
	return m->b + ATTR_OFF;
}

static void m_prepend_u32(struct msg *m, uint16_t type, uint32_t v)
{
	struct nlattr *a = m_prepend(m, NLA_HDRLEN + 4);

	if (!a)
		return;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + 4;
	memcpy((uint8_t *)a + NLA_HDRLEN, &v, 4);
}

/* Walk attributes in [p, p+len); @fn sees each. -1 if they do not fit. */
static int walk(uint8_t *p, size_t len,
		void (*fn)(struct nlattr *a, uint8_t *data, size_t dlen, void *ctx),
		void *ctx)
{
	while (len >= NLA_HDRLEN) {
		struct nlattr *a = (struct nlattr *)p;
		size_t al = NLA_ALIGN(a->nla_len);

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return -1;
		if (fn)
			fn(a, p + NLA_HDRLEN, a->nla_len - NLA_HDRLEN, ctx);
		if (al > len)
			al = len;
		p += al;
		len -= al;
	}
	return len ? -1 : 0;
}

static int attr_type(const struct nlattr *a)
{
	return a->nla_type & NLA_TYPE_MASK;
}

/* ---- never touch what exists ---- */

static int name_known(const uint8_t *p, size_t len)
{
	size_t n = 0;

	while (n < len && p[n])
		n++;
	for (int i = 0; i < known.nnames; i++)
		if (strlen(known.names[i]) == n && !memcmp(known.names[i], p, n))
			return 1;
	return 0;
}

static int index_known(uint32_t v)
{
	for (int i = 0; i < known.nidx; i++)
		if (known.idx[i] == v)
			return 1;
	return 0;
}

struct san {
	struct msg *m;
	struct rng *r;
};

static void san_peer(struct nlattr *a, uint8_t *d, size_t dlen, void *ctx)
{
	struct san *s = ctx;

	if (attr_type(a) == DSTOR_A_ENDPOINT_IPV4 && dlen == 4) {
		d[0] = 198, d[1] = 51, d[2] = 100;
		d[3] = (uint8_t)(1 + rng_below(s->r, 254));
	} else if (attr_type(a) == DSTOR_A_ENDPOINT_IPV6 && dlen == 16) {
		/* 100::/64, the discard-only prefix (RFC 6666). */
		memset(d, 0, 8);
		d[0] = 0x01;
		d[15] |= 1;
	}
}

static void san_top(struct nlattr *a, uint8_t *d, size_t dlen, void *ctx)
{
	struct san *s = ctx;
	uint8_t cmd = s->m->cmd;
	int admin = cmd_is_admin(cmd);
	uint32_t v;

	switch (attr_type(a)) {
	case DSTOR_A_NAME:
		/* Existing names are [A-Za-z0-9._-]: '~' matches none. */
		if (admin && dlen && name_known(d, dlen))
			d[0] = '~';
		break;
	case DSTOR_A_INDEX:
		if (admin && dlen >= 4) {
			memcpy(&v, d, 4);
			while (index_known(v))
				v = 0xfffff000U | rng_below(s->r, 0x1000);
			memcpy(d, &v, 4);
		}
		break;
	case DSTOR_A_DEVICE:
		/* No path starting "/\1" exists. */
		if ((cmd == DSTOR_CMD_EXPORT_ADD ||
		     cmd == DSTOR_CMD_SYNC_ADD) && dlen) {
			d[0] = dlen > 1 ? '/' : 0;
			if (dlen > 1)
				d[1] = 1;
		}
		break;
	case DSTOR_A_CRYPTO_WORKERS:
		if (cmd == DSTOR_CMD_SET && dlen == 4) {
			memcpy(&v, d, 4);
			if (v >= 1 && v <= DSTOR_MAX_CRYPTO_WORKERS)
				memcpy(d, &known.workers, 4);
		}
		break;
	/* A limit the kernel would take is the current one: nothing changes. */
	case DSTOR_A_MAX_SESSIONS:
		if (cmd == DSTOR_CMD_SET && dlen == 4)
			memcpy(d, &known.max_sessions, 4);
		break;
	case DSTOR_A_MAX_HOST_SESSIONS:
		if (cmd == DSTOR_CMD_SET && dlen == 4)
			memcpy(d, &known.max_host_sessions, 4);
		break;
	case DSTOR_A_PEER:
	case DSTOR_A_LISTEN:
		if (cmd == DSTOR_CMD_IMPORT_ADD)
			walk(d, dlen, san_peer, s);
		break;
	}
}

/* What an IMPORT_ADD certainly gets rejected for (see the header). */
struct defect {
	int name, name_empty, name_bad, peer, found;
	uint32_t rmin, rmax, keepalive, dead;
};

static void defect_top(struct nlattr *a, uint8_t *d, size_t dlen, void *ctx)
{
	struct defect *df = ctx;
	uint32_t v = 0;
	int u32 = dlen == 4;

	if (u32)
		memcpy(&v, d, 4);
	switch (attr_type(a)) {
	case DSTOR_A_NAME:
		df->name = 1;
		if (!dlen)
			df->found = 1;
		df->name_empty = dlen && !d[0];
		/*
		 * A character an export name cannot have, before the NUL: the
		 * kernel checks the last DSTOR_A_NAME only (the policy checks
		 * every copy, the name check the one nla_parse kept).
		 */
		df->name_bad = 0;
		for (size_t k = 0; k < dlen && d[k]; k++)
			if (!isascii(d[k]) ||
			    (!isalnum(d[k]) && !strchr("._-", d[k])))
				df->name_bad = 1;
		break;
	case DSTOR_A_PEER:
		df->peer = 1;
		break;
	case DSTOR_A_CONNECTIONS:
		if (u32 && (v < 1 || v > DSTOR_MAX_CONNECTIONS))
			df->found = 1;
		break;
	case DSTOR_A_TIMEOUT:
		if (u32 && (v < 1 || v > DSTOR_MAX_SECONDS))
			df->found = 1;
		break;
	case DSTOR_A_RETRIES:
		if (u32 && v > DSTOR_MAX_RETRIES)
			df->found = 1;
		break;
	case DSTOR_A_RECONNECT_MIN:
	case DSTOR_A_RECONNECT_MAX:
	case DSTOR_A_KEEPALIVE:
	case DSTOR_A_DEAD_AFTER:
		if (u32 && (v < (attr_type(a) == DSTOR_A_DEAD_AFTER ? 2U : 1U) ||
			    v > DSTOR_MAX_SECONDS))
			df->found = 1;
		if (!u32)
			break;
		if (attr_type(a) == DSTOR_A_RECONNECT_MIN)
			df->rmin = v;
		else if (attr_type(a) == DSTOR_A_RECONNECT_MAX)
			df->rmax = v;
		else if (attr_type(a) == DSTOR_A_KEEPALIVE)
			df->keepalive = v;
		else
			df->dead = v;
		break;
	case DSTOR_A_FLAGS:
		if (u32 && (v & ~DSTOR_F_ALL))
			df->found = 1;
		break;
	case DSTOR_A_KEY:
		if (dlen != DSTOR_KEY_LEN)
			df->found = 1;
		break;
	}
}

static int import_add_defective(struct msg *m)
{
	struct defect df = {
		.rmin = DSTOR_DEFAULT_RECONNECT_MIN,
		.rmax = DSTOR_DEFAULT_RECONNECT_MAX,
		.keepalive = DSTOR_DEFAULT_KEEPALIVE,
		.dead = DSTOR_DEFAULT_DEAD_AFTER,
	};

	/* Bytes left over after the attributes: strict parsing refuses. */
	if (walk(m->b + ATTR_OFF, m->len - ATTR_OFF, defect_top, &df))
		return 1;
	return df.found || !df.name || !df.peer || df.name_empty || df.name_bad ||
	       df.rmin > df.rmax || df.dead <= df.keepalive;
}

/* Make @m harmless; see the header comment. */
static void sanitize(struct msg *m, struct rng *r)
{
	struct san s = { m, r };

	if (m->len < ATTR_OFF)
		return;		/* no room for attributes: refused anyway */
	walk(m->b + ATTR_OFF, m->len - ATTR_OFF, san_top, &s);
	if (m->cmd == DSTOR_CMD_IMPORT_ADD && !import_add_defective(m)) {
		static const struct { uint16_t type; uint32_t v; } bad[] = {
			{ DSTOR_A_CONNECTIONS, 0 },
			{ DSTOR_A_CONNECTIONS, DSTOR_MAX_CONNECTIONS + 1 },
			{ DSTOR_A_TIMEOUT, 0 },
			{ DSTOR_A_DEAD_AFTER, 1 },
			{ DSTOR_A_RETRIES, DSTOR_MAX_RETRIES + 1 },
			{ DSTOR_A_FLAGS, 1U << 7 },
		};
		unsigned int i = rng_below(r, sizeof(bad) / sizeof(bad[0]));

		m_prepend_u32(m, bad[i].type, bad[i].v);
		if (!import_add_defective(m))
			die("internal error: IMPORT_ADD without a defect");
	}
}

/* ---- building blocks ---- */

static void put_endpoint(struct msg *m, uint16_t type, const char *v4,
			 const char *v6, int port, int ifindex)
{
	uint8_t a[16];

	m_nest_start(m, type);
	if (v4 && inet_pton(AF_INET, v4, a) == 1)
		m_attr(m, DSTOR_A_ENDPOINT_IPV4, a, 4);
	if (v6 && inet_pton(AF_INET6, v6, a) == 1)
		m_attr(m, DSTOR_A_ENDPOINT_IPV6, a, 16);
	if (port >= 0)
		m_u16(m, DSTOR_A_ENDPOINT_PORT, (uint16_t)port);
	if (ifindex >= 0)
		m_u32(m, DSTOR_A_ENDPOINT_IFINDEX, (uint32_t)ifindex);
	m_nest_end(m);
}

/* One ACL entry: @fam 4, 6, 46 (both) or 0 (none); -1: leave it out. */
static void put_acl(struct msg *m, uint16_t type, int fam, const char *addr,
		    int plen, int perm)
{
	uint8_t a[16] = { 0 };

	m_nest_start(m, type);
	if (fam == 4 || fam == 46) {
		if (!addr || inet_pton(AF_INET, addr, a) != 1)
			memset(a, 0, 4);
		m_attr(m, DSTOR_A_ACL_IPV4, a, 4);
	}
	if (fam == 6 || fam == 46) {
		if (!addr || inet_pton(AF_INET6, addr, a) != 1)
			memset(a, 0, 16);
		m_attr(m, DSTOR_A_ACL_IPV6, a, 16);
	}
	if (plen >= 0)
		m_u8(m, DSTOR_A_ACL_PREFIX_LEN, (uint8_t)plen);
	if (perm >= 0)
		m_u32(m, DSTOR_A_ACL_PERM, (uint32_t)perm);
	m_nest_end(m);
}

static void put_acls1(struct msg *m, int fam, const char *addr, int plen,
		      int perm)
{
	m_nest_start(m, DSTOR_A_ACLS);
	put_acl(m, DSTOR_A_ACL, fam, addr, plen, perm);
	m_nest_end(m);
}

static const char NX_NAME[] = "nlfz-none";
static const char NX_DEV[] = "/nonexistent/nlfz";
#define V4 "192.0.2.1"
#define UNREACH "198.51.100.7"

/* The common prefix of a plausible EXPORT_ADD / IMPORT_ADD. */
static void export_base(struct msg *m, int name, int dev, int listen)
{
	if (name)
		m_str(m, DSTOR_A_NAME, NX_NAME);
	if (dev)
		m_str(m, DSTOR_A_DEVICE, NX_DEV);
	if (listen)
		put_endpoint(m, DSTOR_A_LISTEN, V4, NULL, 7420, -1);
}

static void import_base(struct msg *m, int name, int peer)
{
	if (name)
		m_str(m, DSTOR_A_NAME, NX_NAME);
	if (peer)
		put_endpoint(m, DSTOR_A_PEER, UNREACH, NULL, 7420, -1);
}

/* A SYNC_ADD that only its device keeps from starting. */
static void sync_base(struct msg *m)
{
	m_str(m, DSTOR_A_NAME, NX_NAME);
	m_str(m, DSTOR_A_DEVICE, NX_DEV);
	m_nest_start(m, DSTOR_A_MCAST);
	m_u32(m, DSTOR_A_MCAST_IFINDEX, 1);
	m_nest_end(m);
}

#define RQ (NLM_F_REQUEST | NLM_F_ACK)

/*
 * Targeted case @i into @m. Returns 0 past the last one. Each names what it
 * breaks; an IMPORT_ADD that happens to be valid would still get a defect
 * from sanitize().
 */
static int targeted(unsigned int i, struct msg *m)
{
	uint8_t key[DSTOR_KEY_LEN + 1] = { 1 }, junk[64];
	char s[4096];

	memset(junk, 0xa5, sizeof(junk));
#define T(cmd_, label_) m_init(m, cmd_, RQ); m->label = label_;
	switch (i) {
	/* EXPORT_ADD */
	case 0: T(DSTOR_CMD_EXPORT_ADD, "export_add: no attributes"); break;
	case 1: T(DSTOR_CMD_EXPORT_ADD, "export_add: name only"); export_base(m, 1, 0, 0); break;
	case 2: T(DSTOR_CMD_EXPORT_ADD, "export_add: no listen"); export_base(m, 1, 1, 0); break;
	case 3: T(DSTOR_CMD_EXPORT_ADD, "export_add: no device"); export_base(m, 1, 0, 1); break;
	case 4: T(DSTOR_CMD_EXPORT_ADD, "export_add: no name"); export_base(m, 0, 1, 1); break;
	case 5: T(DSTOR_CMD_EXPORT_ADD, "export_add: complete, device missing"); export_base(m, 1, 1, 1); break;
	case 6: T(DSTOR_CMD_EXPORT_ADD, "export_add: empty listen nest");
		export_base(m, 1, 1, 0); m_nest_start(m, DSTOR_A_LISTEN); m_nest_end(m); break;
	case 7: T(DSTOR_CMD_EXPORT_ADD, "export_add: listen with IPv4 and IPv6");
		export_base(m, 1, 1, 0); put_endpoint(m, DSTOR_A_LISTEN, V4, "2001:db8::1", 7420, -1); break;
	case 8: T(DSTOR_CMD_EXPORT_ADD, "export_add: listen with a port only");
		export_base(m, 1, 1, 0); put_endpoint(m, DSTOR_A_LISTEN, NULL, NULL, 7420, -1); break;
	case 9: T(DSTOR_CMD_EXPORT_ADD, "export_add: IPv4 of 3 bytes");
		export_base(m, 1, 1, 0); m_nest_start(m, DSTOR_A_LISTEN);
		m_attr(m, DSTOR_A_ENDPOINT_IPV4, junk, 3); m_nest_end(m); break;
	case 10: T(DSTOR_CMD_EXPORT_ADD, "export_add: IPv6 of 15 bytes");
		export_base(m, 1, 1, 0); m_nest_start(m, DSTOR_A_LISTEN);
		m_attr(m, DSTOR_A_ENDPOINT_IPV6, junk, 15); m_nest_end(m); break;
	case 11: T(DSTOR_CMD_EXPORT_ADD, "export_add: port 0");
		export_base(m, 1, 1, 0); put_endpoint(m, DSTOR_A_LISTEN, V4, NULL, 0, -1); break;
	case 12: T(DSTOR_CMD_EXPORT_ADD, "export_add: port as u32");
		export_base(m, 1, 1, 0); m_nest_start(m, DSTOR_A_LISTEN);
		m_attr(m, DSTOR_A_ENDPOINT_IPV4, junk, 4);
		m_u32(m, DSTOR_A_ENDPOINT_PORT, 7420); m_nest_end(m); break;
	case 13: T(DSTOR_CMD_EXPORT_ADD, "export_add: IPv4 with an interface scope");
		export_base(m, 1, 1, 0); put_endpoint(m, DSTOR_A_LISTEN, V4, NULL, 7420, 1); break;
	case 14: T(DSTOR_CMD_EXPORT_ADD, "export_add: link-local IPv6 without scope");
		export_base(m, 1, 1, 0); put_endpoint(m, DSTOR_A_LISTEN, NULL, "fe80::1", 7420, -1); break;
	case 15: T(DSTOR_CMD_EXPORT_ADD, "export_add: listen without NLA_F_NESTED");
		export_base(m, 1, 1, 0); m_nest_start_flags(m, DSTOR_A_LISTEN);
		m_attr(m, DSTOR_A_ENDPOINT_IPV4, junk, 4); m_nest_end(m); break;
	case 16: T(DSTOR_CMD_EXPORT_ADD, "export_add: unknown flag");
		export_base(m, 1, 1, 1); m_u32(m, DSTOR_A_FLAGS, 2); break;
	case 17: T(DSTOR_CMD_EXPORT_ADD, "export_add: flags as u8");
		export_base(m, 1, 1, 1); m_u8(m, DSTOR_A_FLAGS, 1); break;
	case 18: T(DSTOR_CMD_EXPORT_ADD, "export_add: key of 31 bytes");
		export_base(m, 1, 1, 1); m_attr(m, DSTOR_A_KEY, key, DSTOR_KEY_LEN - 1); break;
	case 19: T(DSTOR_CMD_EXPORT_ADD, "export_add: key of 33 bytes");
		export_base(m, 1, 1, 1); m_attr(m, DSTOR_A_KEY, key, DSTOR_KEY_LEN + 1); break;
	case 20: T(DSTOR_CMD_EXPORT_ADD, "export_add: name with a slash");
		export_base(m, 0, 1, 1); m_str(m, DSTOR_A_NAME, "bad/name"); break;
	case 21: T(DSTOR_CMD_EXPORT_ADD, "export_add: empty name");
		export_base(m, 0, 1, 1); m_str(m, DSTOR_A_NAME, ""); break;
	case 22: T(DSTOR_CMD_EXPORT_ADD, "export_add: name of 64 characters");
		export_base(m, 0, 1, 1); memset(s, 'n', 64); s[64] = 0; m_str(m, DSTOR_A_NAME, s); break;
	case 23: T(DSTOR_CMD_EXPORT_ADD, "export_add: name without NUL");
		export_base(m, 0, 1, 1); m_attr(m, DSTOR_A_NAME, "nlfzx", 5); break;
	case 24: T(DSTOR_CMD_EXPORT_ADD, "export_add: device path of 300 bytes");
		export_base(m, 1, 0, 1); memset(s, 'd', 300); s[0] = '/'; s[300] = 0;
		m_str(m, DSTOR_A_DEVICE, s); break;
	case 25: T(DSTOR_CMD_EXPORT_ADD, "export_add: device without NUL");
		export_base(m, 1, 0, 1); m_attr(m, DSTOR_A_DEVICE, NX_DEV, strlen(NX_DEV)); break;
	case 26: T(DSTOR_CMD_EXPORT_ADD, "export_add: unknown attribute 200");
		export_base(m, 1, 1, 1); m_u32(m, 200, 1); break;
	case 27: T(DSTOR_CMD_EXPORT_ADD, "export_add: attribute DSTOR_A_MAX + 1");
		export_base(m, 1, 1, 1); m_u32(m, DSTOR_A_MAX + 1, 1); break;
	case 28: T(DSTOR_CMD_EXPORT_ADD, "export_add: DSTOR_A_INDEX not in its policy");
		export_base(m, 1, 1, 1); m_u32(m, DSTOR_A_INDEX, 0); break;
	case 29: T(DSTOR_CMD_EXPORT_ADD, "export_add: ACL IPv4 prefix 33");
		export_base(m, 1, 1, 1); put_acls1(m, 4, "10.0.0.0", 33, DSTOR_PERM_RW); break;
	case 30: T(DSTOR_CMD_EXPORT_ADD, "export_add: ACL IPv6 prefix 129");
		export_base(m, 1, 1, 1); put_acls1(m, 6, "2001:db8::", 129, DSTOR_PERM_RW); break;
	case 31: T(DSTOR_CMD_EXPORT_ADD, "export_add: ACL with host bits");
		export_base(m, 1, 1, 1); put_acls1(m, 4, "10.0.0.1", 8, DSTOR_PERM_RO); break;
	case 32: T(DSTOR_CMD_EXPORT_ADD, "export_add: ACL without permission");
		export_base(m, 1, 1, 1); put_acls1(m, 4, "10.0.0.0", 8, -1); break;
	case 33: T(DSTOR_CMD_EXPORT_ADD, "export_add: ACL permission 3");
		export_base(m, 1, 1, 1); put_acls1(m, 4, "10.0.0.0", 8, 3); break;
	case 34: T(DSTOR_CMD_EXPORT_ADD, "export_add: ACL with IPv4 and IPv6");
		export_base(m, 1, 1, 1); put_acls1(m, 46, NULL, 0, DSTOR_PERM_RW); break;
	case 35: T(DSTOR_CMD_EXPORT_ADD, "export_add: ACL with no address");
		export_base(m, 1, 1, 1); put_acls1(m, 0, NULL, 8, DSTOR_PERM_RW); break;
	case 36: T(DSTOR_CMD_EXPORT_ADD, "export_add: 257 ACL entries");
		export_base(m, 1, 1, 1); m_nest_start(m, DSTOR_A_ACLS);
		for (int k = 0; k <= DSTOR_MAX_ACLS; k++) {
			snprintf(s, sizeof(s), "10.%d.%d.0", k / 256, k % 256);
			put_acl(m, DSTOR_A_ACL, 4, s, 24, DSTOR_PERM_RO);
		}
		m_nest_end(m); break;
	case 37: T(DSTOR_CMD_EXPORT_ADD, "export_add: ACL array item of another type");
		export_base(m, 1, 1, 1); m_nest_start(m, DSTOR_A_ACLS);
		put_acl(m, 7, 4, "10.0.0.0", 8, DSTOR_PERM_RW); m_nest_end(m); break;
	case 38: T(DSTOR_CMD_EXPORT_ADD, "export_add: garbage inside ACLS");
		export_base(m, 1, 1, 1); m_attr(m, DSTOR_A_ACLS | NLA_F_NESTED, junk, 13); break;
	case 39: T(DSTOR_CMD_EXPORT_ADD, "export_add: ACL prefix length as u32");
		export_base(m, 1, 1, 1); m_nest_start(m, DSTOR_A_ACLS); m_nest_start(m, DSTOR_A_ACL);
		m_attr(m, DSTOR_A_ACL_IPV4, junk, 4); m_u32(m, DSTOR_A_ACL_PREFIX_LEN, 8);
		m_u32(m, DSTOR_A_ACL_PERM, DSTOR_PERM_RW); m_nest_end(m); m_nest_end(m); break;
	/* EXPORT_DEL */
	case 40: T(DSTOR_CMD_EXPORT_DEL, "export_del: no name"); break;
	case 41: T(DSTOR_CMD_EXPORT_DEL, "export_del: no such export"); m_str(m, DSTOR_A_NAME, NX_NAME); break;
	case 42: T(DSTOR_CMD_EXPORT_DEL, "export_del: name as u32"); m_u32(m, DSTOR_A_NAME, 0x41414141); break;
	/* EXPORT_GET */
	case 43: T(DSTOR_CMD_EXPORT_GET, "export_get: no such export"); m_str(m, DSTOR_A_NAME, NX_NAME); break;
	case 44: T(DSTOR_CMD_EXPORT_GET, "export_get: no name"); break;
	case 45: T(DSTOR_CMD_EXPORT_GET, "export_get: dump"); m->flags |= NLM_F_DUMP; break;
	case 46: T(DSTOR_CMD_EXPORT_GET, "export_get: dump with a name"); m->flags |= NLM_F_DUMP;
		m_str(m, DSTOR_A_NAME, NX_NAME); break;
	case 47: T(DSTOR_CMD_EXPORT_GET, "export_get: unknown attribute"); m_str(m, DSTOR_A_NAME, NX_NAME);
		m_u64(m, 31000, 1); break;
	/* IMPORT_ADD: each one has its defect */
	case 48: T(DSTOR_CMD_IMPORT_ADD, "import_add: no attributes"); break;
	case 49: T(DSTOR_CMD_IMPORT_ADD, "import_add: no name"); import_base(m, 0, 1); break;
	case 50: T(DSTOR_CMD_IMPORT_ADD, "import_add: no peer"); import_base(m, 1, 0); break;
	case 51: T(DSTOR_CMD_IMPORT_ADD, "import_add: empty name"); m_str(m, DSTOR_A_NAME, "");
		import_base(m, 0, 1); break;
	case 52: T(DSTOR_CMD_IMPORT_ADD, "import_add: empty peer nest"); import_base(m, 1, 0);
		m_nest_start(m, DSTOR_A_PEER); m_nest_end(m); break;
	case 53: T(DSTOR_CMD_IMPORT_ADD, "import_add: peer with IPv4 and IPv6"); import_base(m, 1, 0);
		put_endpoint(m, DSTOR_A_PEER, UNREACH, "100::1", 7420, -1); break;
	case 54: T(DSTOR_CMD_IMPORT_ADD, "import_add: peer port 0"); import_base(m, 1, 0);
		put_endpoint(m, DSTOR_A_PEER, UNREACH, NULL, 0, -1); break;
	case 55: T(DSTOR_CMD_IMPORT_ADD, "import_add: 0 connections"); import_base(m, 1, 1);
		m_u32(m, DSTOR_A_CONNECTIONS, 0); break;
	case 56: T(DSTOR_CMD_IMPORT_ADD, "import_add: 17 connections"); import_base(m, 1, 1);
		m_u32(m, DSTOR_A_CONNECTIONS, DSTOR_MAX_CONNECTIONS + 1); break;
	case 57: T(DSTOR_CMD_IMPORT_ADD, "import_add: timeout 0"); import_base(m, 1, 1);
		m_u32(m, DSTOR_A_TIMEOUT, 0); break;
	case 58: T(DSTOR_CMD_IMPORT_ADD, "import_add: timeout 3601"); import_base(m, 1, 1);
		m_u32(m, DSTOR_A_TIMEOUT, DSTOR_MAX_SECONDS + 1); break;
	case 59: T(DSTOR_CMD_IMPORT_ADD, "import_add: 101 retries"); import_base(m, 1, 1);
		m_u32(m, DSTOR_A_RETRIES, DSTOR_MAX_RETRIES + 1); break;
	case 60: T(DSTOR_CMD_IMPORT_ADD, "import_add: reconnect min > max"); import_base(m, 1, 1);
		m_u32(m, DSTOR_A_RECONNECT_MIN, 10); m_u32(m, DSTOR_A_RECONNECT_MAX, 5); break;
	case 61: T(DSTOR_CMD_IMPORT_ADD, "import_add: dead-after = keepalive"); import_base(m, 1, 1);
		m_u32(m, DSTOR_A_KEEPALIVE, 7); m_u32(m, DSTOR_A_DEAD_AFTER, 7); break;
	case 62: T(DSTOR_CMD_IMPORT_ADD, "import_add: dead-after 1"); import_base(m, 1, 1);
		m_u32(m, DSTOR_A_DEAD_AFTER, 1); break;
	case 63: T(DSTOR_CMD_IMPORT_ADD, "import_add: key of 31 bytes"); import_base(m, 1, 1);
		m_attr(m, DSTOR_A_KEY, key, DSTOR_KEY_LEN - 1); break;
	case 64: T(DSTOR_CMD_IMPORT_ADD, "import_add: unknown flag"); import_base(m, 1, 1);
		m_u32(m, DSTOR_A_FLAGS, 2); break;
	case 65: T(DSTOR_CMD_IMPORT_ADD, "import_add: IPv6 scope 0"); import_base(m, 1, 0);
		put_endpoint(m, DSTOR_A_PEER, NULL, "100::1", 7420, 0); break;
	case 66: T(DSTOR_CMD_IMPORT_ADD, "import_add: IPv4 with a scope"); import_base(m, 1, 0);
		put_endpoint(m, DSTOR_A_PEER, UNREACH, NULL, 7420, 1); break;
	case 67: T(DSTOR_CMD_IMPORT_ADD, "import_add: link-local without scope"); import_base(m, 1, 0);
		put_endpoint(m, DSTOR_A_PEER, NULL, "fe80::1", 7420, -1); break;
	/* IMPORT_DEL */
	case 68: T(DSTOR_CMD_IMPORT_DEL, "import_del: neither index nor name"); break;
	case 69: T(DSTOR_CMD_IMPORT_DEL, "import_del: index and name"); m_u32(m, DSTOR_A_INDEX, 0xfffffff0);
		m_str(m, DSTOR_A_NAME, NX_NAME); break;
	case 70: T(DSTOR_CMD_IMPORT_DEL, "import_del: no such index"); m_u32(m, DSTOR_A_INDEX, 0xfffffff0); break;
	case 71: T(DSTOR_CMD_IMPORT_DEL, "import_del: no such name"); m_str(m, DSTOR_A_NAME, NX_NAME); break;
	case 72: T(DSTOR_CMD_IMPORT_DEL, "import_del: index as u8"); m_u8(m, DSTOR_A_INDEX, 0xf0); break;
	/* IMPORT_GET */
	case 73: T(DSTOR_CMD_IMPORT_GET, "import_get: no index"); break;
	case 74: T(DSTOR_CMD_IMPORT_GET, "import_get: no such index"); m_u32(m, DSTOR_A_INDEX, 0xfffffff0); break;
	case 75: T(DSTOR_CMD_IMPORT_GET, "import_get: dump"); m->flags |= NLM_F_DUMP; break;
	case 76: T(DSTOR_CMD_IMPORT_GET, "import_get: index as u64"); m_u64(m, DSTOR_A_INDEX, 0); break;
	/* IMPORT_SET */
	case 77: T(DSTOR_CMD_IMPORT_SET, "import_set: no index"); m_u32(m, DSTOR_A_TIMEOUT, 5); break;
	case 78: T(DSTOR_CMD_IMPORT_SET, "import_set: no such index"); m_u32(m, DSTOR_A_INDEX, 0xfffffff0); break;
	case 79: T(DSTOR_CMD_IMPORT_SET, "import_set: timeout 0"); m_u32(m, DSTOR_A_INDEX, 0xfffffff0);
		m_u32(m, DSTOR_A_TIMEOUT, 0); break;
	case 80: T(DSTOR_CMD_IMPORT_SET, "import_set: key of 31 bytes"); m_u32(m, DSTOR_A_INDEX, 0xfffffff0);
		m_attr(m, DSTOR_A_KEY, key, DSTOR_KEY_LEN - 1); break;
	case 81: T(DSTOR_CMD_IMPORT_SET, "import_set: name not in its policy"); m_u32(m, DSTOR_A_INDEX, 0xfffffff0);
		m_str(m, DSTOR_A_NAME, NX_NAME); break;
	/* EVENT is a notification, not a request */
	case 82: T(DSTOR_CMD_EVENT, "event: sent as a request"); m_u32(m, DSTOR_A_EVENT, 1); break;
	/* ACL_ADD */
	case 83: T(DSTOR_CMD_ACL_ADD, "acl_add: no ACL"); m_str(m, DSTOR_A_NAME, NX_NAME); break;
	case 84: T(DSTOR_CMD_ACL_ADD, "acl_add: no name");
		put_acl(m, DSTOR_A_ACL, 4, "10.0.0.0", 8, DSTOR_PERM_RW); break;
	case 85: T(DSTOR_CMD_ACL_ADD, "acl_add: no such export"); m_str(m, DSTOR_A_NAME, NX_NAME);
		put_acl(m, DSTOR_A_ACL, 4, "10.0.0.0", 8, DSTOR_PERM_RW); break;
	case 86: T(DSTOR_CMD_ACL_ADD, "acl_add: IPv4 prefix 33"); m_str(m, DSTOR_A_NAME, NX_NAME);
		put_acl(m, DSTOR_A_ACL, 4, "10.0.0.0", 33, DSTOR_PERM_RW); break;
	case 87: T(DSTOR_CMD_ACL_ADD, "acl_add: IPv6 prefix 129"); m_str(m, DSTOR_A_NAME, NX_NAME);
		put_acl(m, DSTOR_A_ACL, 6, "2001:db8::", 129, DSTOR_PERM_RW); break;
	case 88: T(DSTOR_CMD_ACL_ADD, "acl_add: IPv6 host bits"); m_str(m, DSTOR_A_NAME, NX_NAME);
		put_acl(m, DSTOR_A_ACL, 6, "2001:db8::1", 64, DSTOR_PERM_RW); break;
	case 89: T(DSTOR_CMD_ACL_ADD, "acl_add: permission 0"); m_str(m, DSTOR_A_NAME, NX_NAME);
		put_acl(m, DSTOR_A_ACL, 4, "10.0.0.0", 8, 0); break;
	case 90: T(DSTOR_CMD_ACL_ADD, "acl_add: permission 0xfffffffe"); m_str(m, DSTOR_A_NAME, NX_NAME);
		put_acl(m, DSTOR_A_ACL, 4, "10.0.0.0", 8, -2); break;
	case 91: T(DSTOR_CMD_ACL_ADD, "acl_add: no permission"); m_str(m, DSTOR_A_NAME, NX_NAME);
		put_acl(m, DSTOR_A_ACL, 4, "10.0.0.0", 8, -1); break;
	case 92: T(DSTOR_CMD_ACL_ADD, "acl_add: IPv4 and IPv6"); m_str(m, DSTOR_A_NAME, NX_NAME);
		put_acl(m, DSTOR_A_ACL, 46, NULL, 0, DSTOR_PERM_RW); break;
	case 93: T(DSTOR_CMD_ACL_ADD, "acl_add: no address"); m_str(m, DSTOR_A_NAME, NX_NAME);
		put_acl(m, DSTOR_A_ACL, 0, NULL, 0, DSTOR_PERM_RW); break;
	case 94: T(DSTOR_CMD_ACL_ADD, "acl_add: no prefix length"); m_str(m, DSTOR_A_NAME, NX_NAME);
		put_acl(m, DSTOR_A_ACL, 4, "10.0.0.0", -1, DSTOR_PERM_RW); break;
	case 95: T(DSTOR_CMD_ACL_ADD, "acl_add: ACL without NLA_F_NESTED"); m_str(m, DSTOR_A_NAME, NX_NAME);
		m_nest_start_flags(m, DSTOR_A_ACL); m_attr(m, DSTOR_A_ACL_IPV4, junk, 4);
		m_u8(m, DSTOR_A_ACL_PREFIX_LEN, 0); m_u32(m, DSTOR_A_ACL_PERM, 1); m_nest_end(m); break;
	case 96: T(DSTOR_CMD_ACL_ADD, "acl_add: garbage nest"); m_str(m, DSTOR_A_NAME, NX_NAME);
		m_attr(m, DSTOR_A_ACL | NLA_F_NESTED, junk, 7); break;
	/* ACL_DEL */
	case 97: T(DSTOR_CMD_ACL_DEL, "acl_del: with a permission"); m_str(m, DSTOR_A_NAME, NX_NAME);
		put_acl(m, DSTOR_A_ACL, 4, "10.0.0.0", 8, DSTOR_PERM_RW); break;
	case 98: T(DSTOR_CMD_ACL_DEL, "acl_del: no such export"); m_str(m, DSTOR_A_NAME, NX_NAME);
		put_acl(m, DSTOR_A_ACL, 4, "10.0.0.0", 8, -1); break;
	case 99: T(DSTOR_CMD_ACL_DEL, "acl_del: no prefix length"); m_str(m, DSTOR_A_NAME, NX_NAME);
		put_acl(m, DSTOR_A_ACL, 6, "::", -1, -1); break;
	/* ACL_GET */
	case 100: T(DSTOR_CMD_ACL_GET, "acl_get: no name"); break;
	case 101: T(DSTOR_CMD_ACL_GET, "acl_get: no such export"); m_str(m, DSTOR_A_NAME, NX_NAME); break;
	/* SET */
	case 102: T(DSTOR_CMD_SET, "set: nothing"); break;
	case 103: T(DSTOR_CMD_SET, "set: 0 workers"); m_u32(m, DSTOR_A_CRYPTO_WORKERS, 0); break;
	case 104: T(DSTOR_CMD_SET, "set: 257 workers"); m_u32(m, DSTOR_A_CRYPTO_WORKERS, DSTOR_MAX_CRYPTO_WORKERS + 1); break;
	case 105: T(DSTOR_CMD_SET, "set: 0xffffffff workers"); m_u32(m, DSTOR_A_CRYPTO_WORKERS, 0xffffffff); break;
	case 106: T(DSTOR_CMD_SET, "set: workers as u16"); m_u16(m, DSTOR_A_CRYPTO_WORKERS, 2); break;
	case 107: T(DSTOR_CMD_SET, "set: the current worker count"); m_u32(m, DSTOR_A_CRYPTO_WORKERS, known.workers); break;
	/* GET */
	case 108: T(DSTOR_CMD_GET, "get"); break;
	case 109: T(DSTOR_CMD_GET, "get: with a name"); m_str(m, DSTOR_A_NAME, NX_NAME); break;
	case 110: T(DSTOR_CMD_GET, "get: dump (there is none)"); m->flags |= NLM_F_DUMP; break;
	/* EXPORT_SET */
	case 111: T(DSTOR_CMD_EXPORT_SET, "export_set: no key"); m_str(m, DSTOR_A_NAME, NX_NAME); break;
	case 112: T(DSTOR_CMD_EXPORT_SET, "export_set: key of 31 bytes"); m_str(m, DSTOR_A_NAME, NX_NAME);
		m_attr(m, DSTOR_A_KEY, key, DSTOR_KEY_LEN - 1); break;
	case 113: T(DSTOR_CMD_EXPORT_SET, "export_set: no name"); m_attr(m, DSTOR_A_KEY, key, DSTOR_KEY_LEN); break;
	case 114: T(DSTOR_CMD_EXPORT_SET, "export_set: no such export"); m_str(m, DSTOR_A_NAME, NX_NAME);
		m_attr(m, DSTOR_A_KEY, key, DSTOR_KEY_LEN); break;
	/* commands that do not exist */
	case 115: T(0, "command 0"); break;
	case 116: T(__DSTOR_CMD_MAX, "command past the last"); break;
	case 117: T(MAX_CMD, "command 40"); m_str(m, DSTOR_A_NAME, NX_NAME); break;
	case 118: T(255, "command 255"); break;
	/* message-level damage */
	case 119: T(DSTOR_CMD_EXPORT_GET, "generic netlink header cut short");
		m->len = NLMSG_HDRLEN + 2; break;
	case 120: T(DSTOR_CMD_EXPORT_GET, "nlmsg_len past the datagram");
		m_str(m, DSTOR_A_NAME, NX_NAME); m->send_len = m->len; m->len += 64; m->maybe_none = 1; break;
	case 121: T(DSTOR_CMD_EXPORT_GET, "datagram of 8 bytes");
		m->send_len = 8; m->maybe_none = 1; break;
	case 122: T(DSTOR_CMD_EXPORT_GET, "nla_len 2");
		m_attr_lie(m, DSTOR_A_NAME, 2, "ab", 2); break;
	case 123: T(DSTOR_CMD_EXPORT_DEL, "nla_len past the message");
		m_attr_lie(m, DSTOR_A_NAME, 200, "nlfz", 5); break;
	case 124: T(DSTOR_CMD_EXPORT_DEL, "2 bytes after the attributes");
		m_str(m, DSTOR_A_NAME, NX_NAME); m->len += 2; break;
	case 125: T(DSTOR_CMD_EXPORT_ADD, "NLM_F_DUMP on a do-only command");
		m->flags |= NLM_F_DUMP; export_base(m, 1, 1, 1); break;
	case 126: T(DSTOR_CMD_EXPORT_DEL, "no NLM_F_REQUEST");
		m->flags = NLM_F_ACK; m_str(m, DSTOR_A_NAME, NX_NAME); break;
	case 127: T(DSTOR_CMD_EXPORT_GET, "genl version 255");
		m->version = 255; m_str(m, DSTOR_A_NAME, NX_NAME); break;
	case 128: T(DSTOR_CMD_EXPORT_ADD, "listen nested 30 deep");
		export_base(m, 1, 1, 0);
		for (int k = 0; k < 30; k++)
			m_nest_start(m, k ? DSTOR_A_ENDPOINT_IPV4 : DSTOR_A_LISTEN);
		m_u32(m, 1, 1); break;
	case 129: T(DSTOR_CMD_IMPORT_GET, "40 KiB of attributes");
		for (int k = 0; k < 400; k++)
			m_attr(m, (uint16_t)(1 + k % DSTOR_A_MAX), junk, 64 + k % 37);
		break;
	case 130: T(DSTOR_CMD_EXPORT_ADD, "ACLS empty nest");
		export_base(m, 1, 1, 1); m_nest_start(m, DSTOR_A_ACLS); m_nest_end(m); break;
	case 131: T(DSTOR_CMD_IMPORT_DEL, "name of 4000 bytes");
		memset(s, 'x', 4000); s[3999] = 0; m_str(m, DSTOR_A_NAME, s); break;
	/*
	 * Valid but for the export name, which the tool never sends so (it
	 * checks names itself): the kernel's own check must refuse it, not the
	 * connect to an unreachable peer.
	 */
	case 132: T(DSTOR_CMD_IMPORT_ADD, "import_add: export name with a slash");
		m_str(m, DSTOR_A_NAME, "a/b"); import_base(m, 0, 1);
		m->want_ext = "export name may use only"; break;
	case 133: T(DSTOR_CMD_IMPORT_ADD, "import_add: export name with a space");
		m_str(m, DSTOR_A_NAME, "a b"); import_base(m, 0, 1);
		m->want_ext = "export name may use only"; break;
	/* A sync's name picks its multicast groups: refused before the device. */
	case 134: T(DSTOR_CMD_SYNC_ADD, "sync_add: export name with a slash");
		m_str(m, DSTOR_A_NAME, "a/b"); m_str(m, DSTOR_A_DEVICE, NX_DEV);
		m_nest_start(m, DSTOR_A_MCAST); m_u32(m, DSTOR_A_MCAST_IFINDEX, 1);
		m_nest_end(m); m->want_ext = "export name may use only"; break;
	/* Seeds are parsed before the device is looked up. */
	case 135: T(DSTOR_CMD_SYNC_ADD, "sync_add: a name among the seeds");
		sync_base(m); m_attr(m, DSTOR_A_KEY, key, DSTOR_KEY_LEN);
		m_nest_start(m, DSTOR_A_SEEDS); m_u32(m, DSTOR_A_SEED_FD, 0);
		m_str(m, DSTOR_A_NAME, "x"); m_nest_end(m);
		m->want_ext = "DSTOR_A_SEEDS holds"; break;
	case 136: T(DSTOR_CMD_SYNC_ADD, "sync_add: a seed fd as u16");
		sync_base(m); m_nest_start(m, DSTOR_A_SEEDS); m_u16(m, DSTOR_A_SEED_FD, 0);
		m_nest_end(m); m->want_ext = "DSTOR_A_SEEDS holds"; break;
	case 137: T(DSTOR_CMD_SYNC_ADD, "sync_add: 9 seeds");
		sync_base(m); m_nest_start(m, DSTOR_A_SEEDS);
		for (int k = 0; k <= DSTOR_SYNC_MAX_SEEDS; k++)
			m_u32(m, DSTOR_A_SEED_FD, 0);
		m_nest_end(m); m->want_ext = "more seeds than"; break;
	case 138: T(DSTOR_CMD_SYNC_ADD, "sync_add: seeds, no key, no root");
		sync_base(m); m_nest_start(m, DSTOR_A_SEEDS); m_u32(m, DSTOR_A_SEED_FD, 0);
		m_nest_end(m); m->want_ext = "seeds need"; break;
	default:
		return 0;
	}
#undef T
	return 1;
}

/* ---- random messages ---- */

static const uint32_t u32_edges[] = {
	0, 1, 2, 3, 4, 5, 7, 15, 16, 17, 100, 101, 255, 256, 257, 3600, 3601,
	65535, 65536, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
};

static uint32_t rand_u32(struct rng *r)
{
	if (rng_pct(r, 70))
		return u32_edges[rng_below(r, sizeof(u32_edges) / sizeof(u32_edges[0]))];
	return (uint32_t)rng_next(r);
}

static void rand_string(struct msg *m, struct rng *r, uint16_t type)
{
	static const char cs[] = "abcdefghijklmnopqrstuvwxyz0123456789._-";
	static const char *const odd[] = {
		"bad/name", "..", "-", "a b", "%s%n", "\xff\xfe", "/dev/ram0",
		"t0", "s0", "e0",
	};
	char s[4100];
	size_t n;

	switch (rng_below(r, 8)) {
	case 0:
		m_str(m, type, "");
		return;
	case 1:
		m_str(m, type, odd[rng_below(r, sizeof(odd) / sizeof(odd[0]))]);
		return;
	case 2:	/* no NUL */
		n = 1 + rng_below(r, 80);
		for (size_t i = 0; i < n; i++)
			s[i] = cs[rng_below(r, sizeof(cs) - 1)];
		m_attr(m, type, s, n);
		return;
	case 3:	/* long */
		n = rng_pct(r, 50) ? 63 + rng_below(r, 3) : 200 + rng_below(r, 3800);
		break;
	case 4:	/* garbage */
		n = rng_below(r, 100);
		rng_fill(r, s, n);
		m_attr(m, type, s, n);
		return;
	case 5:	/* an embedded NUL */
		n = 2 + rng_below(r, 40);
		for (size_t i = 0; i < n; i++)
			s[i] = cs[rng_below(r, sizeof(cs) - 1)];
		s[rng_below(r, (uint32_t)n)] = 0;
		m_attr(m, type, s, n);
		return;
	default:
		n = 1 + rng_below(r, 62);
		break;
	}
	for (size_t i = 0; i < n; i++)
		s[i] = cs[rng_below(r, sizeof(cs) - 1)];
	if (n >= 4)
		memcpy(s, "nlfz", 4);
	s[n] = 0;
	m_str(m, type, s);
}

static void rand_blob(struct msg *m, struct rng *r, uint16_t type)
{
	static const uint8_t lens[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17,
					31, 32, 33, 64 };
	uint8_t b[300];
	size_t n = rng_pct(r, 85) ? lens[rng_below(r, sizeof(lens))] :
		   rng_below(r, sizeof(b));

	rng_fill(r, b, n);
	m_attr(m, type, b, n);
}

static void rand_attr(struct msg *m, struct rng *r, int depth, int ctx);

/* Inner attributes of a nest of kind @ctx (0 top, 1 endpoint, 2 acl). */
static void rand_nest(struct msg *m, struct rng *r, uint16_t type, int depth,
		      int ctx)
{
	unsigned int n = rng_below(r, 5);

	if (rng_pct(r, 10)) {	/* garbage instead of attributes */
		rand_blob(m, r, type | NLA_F_NESTED);
		return;
	}
	m_nest_start_flags(m, rng_pct(r, 90) ? type | NLA_F_NESTED : type);
	for (unsigned int i = 0; i < n && depth < 6; i++)
		rand_attr(m, r, depth + 1, ctx);
	m_nest_end(m);
}

static void rand_endpoint_attr(struct msg *m, struct rng *r)
{
	uint8_t a[16];

	switch (rng_below(r, 6)) {
	case 0:
		a[0] = 198, a[1] = 51, a[2] = 100, a[3] = (uint8_t)rng_next(r);
		if (rng_pct(r, 30))
			memcpy(a, (uint8_t[]){ 127, 0, 0, 1 }, 4);
		m_attr(m, DSTOR_A_ENDPOINT_IPV4, a, rng_pct(r, 85) ? 4 : rng_below(r, 9));
		break;
	case 1:
		rng_fill(r, a, 16);
		if (rng_pct(r, 40))
			a[0] = 0xfe, a[1] = 0x80;
		m_attr(m, DSTOR_A_ENDPOINT_IPV6, a, rng_pct(r, 85) ? 16 : rng_below(r, 17));
		break;
	case 2:
		if (rng_pct(r, 80))
			m_u16(m, DSTOR_A_ENDPOINT_PORT, (uint16_t)rand_u32(r));
		else
			m_u32(m, DSTOR_A_ENDPOINT_PORT, rand_u32(r));
		break;
	case 3:
		m_u32(m, DSTOR_A_ENDPOINT_IFINDEX, rand_u32(r));
		break;
	default:
		rand_blob(m, r, (uint16_t)rng_below(r, 8));
		break;
	}
}

static void rand_acl_attr(struct msg *m, struct rng *r)
{
	uint8_t a[16];

	switch (rng_below(r, 5)) {
	case 0:
		rng_fill(r, a, 4);
		if (rng_pct(r, 50))
			a[3] = 0;
		m_attr(m, DSTOR_A_ACL_IPV4, a, rng_pct(r, 85) ? 4 : rng_below(r, 9));
		break;
	case 1:
		rng_fill(r, a, 16);
		if (rng_pct(r, 50))
			memset(a + 8, 0, 8);
		m_attr(m, DSTOR_A_ACL_IPV6, a, rng_pct(r, 85) ? 16 : rng_below(r, 17));
		break;
	case 2:
		if (rng_pct(r, 80))
			m_u8(m, DSTOR_A_ACL_PREFIX_LEN, (uint8_t)rng_below(r, 256));
		else
			m_u32(m, DSTOR_A_ACL_PREFIX_LEN, rand_u32(r));
		break;
	case 3:
		m_u32(m, DSTOR_A_ACL_PERM, rng_pct(r, 70) ? rng_below(r, 4) : rand_u32(r));
		break;
	default:
		rand_blob(m, r, (uint16_t)rng_below(r, 8));
		break;
	}
}

/* A plausible ACL entry: often valid, sometimes one thing wrong. */
static void rand_acl(struct msg *m, struct rng *r, uint16_t type)
{
	if (rng_pct(r, 40)) {
		rand_nest(m, r, type, 3, 2);
		return;
	}
	if (rng_pct(r, 50))
		put_acl(m, type, 4, "10.1.0.0", rng_pct(r, 80) ? 16 : (int)rng_below(r, 40),
			rng_pct(r, 80) ? DSTOR_PERM_RO : (int)rng_below(r, 5) - 1);
	else
		put_acl(m, type, 6, "2001:db8:1::", rng_pct(r, 80) ? 48 : (int)rng_below(r, 140),
			rng_pct(r, 80) ? DSTOR_PERM_RW : (int)rng_below(r, 5) - 1);
}

static void rand_acls(struct msg *m, struct rng *r)
{
	unsigned int n = rng_pct(r, 90) ? rng_below(r, 6) : rng_below(r, 300);

	m_nest_start(m, DSTOR_A_ACLS);
	for (unsigned int i = 0; i < n && !m->full; i++)
		rand_acl(m, r, rng_pct(r, 90) ? DSTOR_A_ACL : (uint16_t)rng_below(r, 30));
	m_nest_end(m);
}

static void rand_typed_top(struct msg *m, struct rng *r, uint16_t t, int depth)
{
	switch (t) {
	case DSTOR_A_NAME:
	case DSTOR_A_DEVICE:
		rand_string(m, r, t);
		break;
	case DSTOR_A_LISTEN:
	case DSTOR_A_PEER:
		if (rng_pct(r, 50)) {
			m_nest_start(m, t);
			if (rng_pct(r, 60))
				rand_endpoint_attr(m, r);
			if (rng_pct(r, 60))
				rand_endpoint_attr(m, r);
			if (rng_pct(r, 40))
				rand_endpoint_attr(m, r);
			m_nest_end(m);
		} else {
			rand_nest(m, r, t, depth, 1);
		}
		break;
	case DSTOR_A_SIZE:
		m_u64(m, t, rng_next(r));
		break;
	case DSTOR_A_STATS:
	case DSTOR_A_ACL:
		if (t == DSTOR_A_ACL)
			rand_acl(m, r, t);
		else
			rand_nest(m, r, t, depth, 0);
		break;
	case DSTOR_A_ACLS:
		rand_acls(m, r);
		break;
	case DSTOR_A_KEY:
	case DSTOR_A_KEY_ID:
		rand_blob(m, r, t);
		break;
	default:	/* the u32s */
		m_u32(m, t, rand_u32(r));
		break;
	}
}

static void rand_attr(struct msg *m, struct rng *r, int depth, int ctx)
{
	uint16_t t;

	if (ctx == 1) {
		rand_endpoint_attr(m, r);
		return;
	}
	if (ctx == 2) {
		rand_acl_attr(m, r);
		return;
	}
	t = rng_pct(r, 85) ? (uint16_t)(1 + rng_below(r, DSTOR_A_MAX + 2)) :
	    rng_pct(r, 50) ? 0 : (uint16_t)rng_below(r, NLA_TYPE_MASK + 1);
	if (rng_pct(r, 3))
		t |= NLA_F_NET_BYTEORDER;
	switch (rng_below(r, 10)) {
	case 0:	/* any type, wrong kind */
		rand_blob(m, r, t);
		break;
	case 1:
		rand_nest(m, r, t, depth, 0);
		break;
	case 2:
		m_u64(m, t, rng_next(r));
		break;
	default:
		rand_typed_top(m, r, t & NLA_TYPE_MASK, depth);
		break;
	}
}

/* The attributes each command takes, to aim most attributes right. */
static const uint16_t *cmd_attrs(uint8_t cmd, unsigned int *n)
{
	static const uint16_t export_add[] = { DSTOR_A_NAME, DSTOR_A_DEVICE, DSTOR_A_LISTEN,
		DSTOR_A_FLAGS, DSTOR_A_KEY, DSTOR_A_ACLS };
	static const uint16_t name[] = { DSTOR_A_NAME };
	static const uint16_t import_add[] = { DSTOR_A_NAME, DSTOR_A_PEER, DSTOR_A_FLAGS,
		DSTOR_A_CONNECTIONS, DSTOR_A_TIMEOUT, DSTOR_A_RETRIES, DSTOR_A_RECONNECT_MIN,
		DSTOR_A_RECONNECT_MAX, DSTOR_A_KEEPALIVE, DSTOR_A_DEAD_AFTER, DSTOR_A_KEY };
	static const uint16_t import_id[] = { DSTOR_A_NAME, DSTOR_A_INDEX };
	static const uint16_t import_set[] = { DSTOR_A_INDEX, DSTOR_A_TIMEOUT, DSTOR_A_RETRIES,
		DSTOR_A_RECONNECT_MIN, DSTOR_A_RECONNECT_MAX, DSTOR_A_KEEPALIVE,
		DSTOR_A_DEAD_AFTER, DSTOR_A_KEY };
	static const uint16_t acl[] = { DSTOR_A_NAME, DSTOR_A_ACL };
	static const uint16_t set[] = { DSTOR_A_CRYPTO_WORKERS };
	static const uint16_t export_set[] = { DSTOR_A_NAME, DSTOR_A_KEY };
#define R(a) do { *n = sizeof(a) / sizeof(a[0]); return a; } while (0)
	switch (cmd) {
	case DSTOR_CMD_EXPORT_ADD: R(export_add);
	case DSTOR_CMD_EXPORT_DEL: case DSTOR_CMD_EXPORT_GET: case DSTOR_CMD_ACL_GET:
	case DSTOR_CMD_EXPORT_REHASH: R(name);
	case DSTOR_CMD_IMPORT_ADD: R(import_add);
	case DSTOR_CMD_IMPORT_DEL: case DSTOR_CMD_IMPORT_GET: R(import_id);
	case DSTOR_CMD_IMPORT_SET: R(import_set);
	case DSTOR_CMD_ACL_ADD: case DSTOR_CMD_ACL_DEL: R(acl);
	case DSTOR_CMD_SET: case DSTOR_CMD_GET: R(set);
	case DSTOR_CMD_EXPORT_SET: R(export_set);
	}
#undef R
	*n = 0;
	return NULL;
}

static void random_msg(struct msg *m, struct rng *r)
{
	uint8_t cmd = rng_pct(r, 80) ? (uint8_t)(1 + rng_below(r, DSTOR_CMD_MAX)) :
		      (uint8_t)rng_below(r, MAX_CMD + 1);
	uint16_t flags = RQ;
	unsigned int nattr = rng_below(r, 7), na;
	const uint16_t *ok = cmd_attrs(cmd, &na);

	if (rng_pct(r, 25))
		flags |= (uint16_t)(rng_next(r) & (NLM_F_ECHO | NLM_F_ROOT |
						   NLM_F_MATCH | NLM_F_ATOMIC |
						   NLM_F_MULTI));
	if (rng_pct(r, 3))
		flags &= (uint16_t)~NLM_F_REQUEST;
	m_init(m, cmd, flags);
	if (rng_pct(r, 5))
		m->version = (uint8_t)rng_next(r);
	snprintf(m->desc, sizeof(m->desc), "random %s flags %#x", cmd_name(cmd), flags);

	for (unsigned int i = 0; i < nattr && !m->full; i++) {
		if (na && rng_pct(r, 70))
			rand_typed_top(m, r, ok[rng_below(r, na)], 0);
		else
			rand_attr(m, r, 0, 0);
	}
	m_finish(m);
	/* Cut some short, inside an attribute or not. */
	if (rng_pct(r, 5) && m->len > ATTR_OFF)
		m->len = ATTR_OFF + rng_below(r, (uint32_t)(m->len - ATTR_OFF));
	else if (rng_pct(r, 1))
		m->len = NLMSG_HDRLEN + rng_below(r, GENL_HDRLEN);
}

/* ---- answers ---- */

enum { A_ERR, A_ACK, A_DONE, A_REPLY, A_NONE, A_TIMEOUT, A_BAD };

struct answer {
	int kind, err, data_msgs;
	char ext[128];
};

static int bad(const struct msg *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(const struct msg *m, const char *fmt, ...)
{
	va_list ap;

	st.malformed++;
	fprintf(stderr, "%s: bad answer to [%s]: ", prog,
		m->label ? m->label : m->desc);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* Attribute kinds in the dstor family's replies. */
enum { K_ANY, K_STR, K_U8, K_U16, K_U32, K_U64, K_BIN8, K_EP, K_STATS, K_ACL,
       K_ACLS, K_FORBIDDEN };

static int top_kind(int t)
{
	switch (t) {
	case DSTOR_A_NAME: case DSTOR_A_DEVICE: return K_STR;
	case DSTOR_A_LISTEN: case DSTOR_A_PEER: return K_EP;
	case DSTOR_A_SIZE: case DSTOR_A_SYNC_ELAPSED_MS: case DSTOR_A_SYNC_LAST_MS:
	case DSTOR_A_SYNC_REPAIRED: case DSTOR_A_SYNC_CORRUPT:
	case DSTOR_A_CRYPTO_POOLED: return K_U64;
	case DSTOR_A_STATS: return K_STATS;
	case DSTOR_A_PAD: return K_ANY;
	case DSTOR_A_KEY: return K_FORBIDDEN;
	case DSTOR_A_KEY_ID: return K_BIN8;
	case DSTOR_A_ACL: return K_ACL;
	case DSTOR_A_ACLS: return K_ACLS;
	default: return t <= DSTOR_A_MAX ? K_U32 : K_ANY;
	}
}

struct vctx {
	const struct msg *m;
	int kind;	/* of the nest being walked */
	int err;
};

static void check_attr(struct nlattr *a, uint8_t *d, size_t dlen, void *ctx);

static int check_attrs(const struct msg *m, uint8_t *p, size_t len, int kind)
{
	struct vctx v = { m, kind, 0 };

	if (walk(p, len, check_attr, &v))
		return bad(m, "attributes do not fit their nest (kind %d)", kind);
	return v.err;
}

static void check_attr(struct nlattr *a, uint8_t *d, size_t dlen, void *ctx)
{
	struct vctx *v = ctx;
	int t = attr_type(a), want;

	switch (v->kind) {
	case K_EP:
		want = t == DSTOR_A_ENDPOINT_IPV4 ? 4 : t == DSTOR_A_ENDPOINT_IPV6 ? 16 :
		       t == DSTOR_A_ENDPOINT_PORT ? 2 : 4;
		if (dlen != (size_t)want)
			v->err = bad(v->m, "endpoint attribute %d of %zu bytes", t, dlen);
		return;
	case K_STATS:
		if (t != DSTOR_A_STATS_PAD && dlen != 8)
			v->err = bad(v->m, "counter %d of %zu bytes", t, dlen);
		return;
	case K_ACL:
		want = t == DSTOR_A_ACL_IPV4 ? 4 : t == DSTOR_A_ACL_IPV6 ? 16 :
		       t == DSTOR_A_ACL_PREFIX_LEN ? 1 : 4;
		if (dlen != (size_t)want)
			v->err = bad(v->m, "ACL attribute %d of %zu bytes", t, dlen);
		return;
	case K_ACLS:
		if (t != DSTOR_A_ACL || !(a->nla_type & NLA_F_NESTED))
			v->err = bad(v->m, "ACL list item of type %#x", a->nla_type);
		else if (check_attrs(v->m, d, dlen, K_ACL))
			v->err = -1;
		return;
	}
	switch (top_kind(t)) {
	case K_STR:
		if (!dlen || d[dlen - 1] || memchr(d, 0, dlen) != d + dlen - 1)
			v->err = bad(v->m, "string attribute %d not NUL-terminated", t);
		break;
	case K_U32:
		if (dlen != 4)
			v->err = bad(v->m, "attribute %d of %zu bytes, u32 expected", t, dlen);
		break;
	case K_U64:
		if (dlen != 8)
			v->err = bad(v->m, "attribute %d of %zu bytes, u64 expected", t, dlen);
		break;
	case K_BIN8:
		if (dlen != DSTOR_KEY_ID_LEN)
			v->err = bad(v->m, "key id of %zu bytes", dlen);
		break;
	case K_FORBIDDEN:
		v->err = bad(v->m, "a reply carries DSTOR_A_KEY");
		break;
	case K_EP: case K_STATS: case K_ACL: case K_ACLS:
		if (check_attrs(v->m, d, dlen, top_kind(t)))
			v->err = -1;
		break;
	}
}

struct ectx {
	const struct msg *m;
	struct answer *ans;
	size_t req_len;
	int err;
};

static void check_ext(struct nlattr *a, uint8_t *d, size_t dlen, void *ctx)
{
	struct ectx *e = ctx;
	uint32_t v;

	switch (attr_type(a)) {
	case NLMSGERR_ATTR_MSG:
		if (!dlen || memchr(d, 0, dlen) == NULL) {
			e->err = bad(e->m, "extack message not NUL-terminated");
			return;
		}
		snprintf(e->ans->ext, sizeof(e->ans->ext), "%s", (char *)d);
		break;
	case NLMSGERR_ATTR_OFFS:
		if (dlen != 4) {
			e->err = bad(e->m, "extack offset of %zu bytes", dlen);
			return;
		}
		memcpy(&v, d, 4);
		if (v >= e->req_len)
			e->err = bad(e->m, "extack offset %u past the request (%zu bytes)",
				     v, e->req_len);
		break;
	case NLMSGERR_ATTR_MISS_TYPE:
	case NLMSGERR_ATTR_MISS_NEST:
		if (dlen != 4)
			e->err = bad(e->m, "extack attribute %d of %zu bytes",
				     attr_type(a), dlen);
		break;
	}
}

/* One netlink message of the answer. Returns 1 at the end, 0 more, -1 bad. */
static int check_one(const struct msg *m, struct nlmsghdr *nlh,
		     struct answer *ans)
{
	uint8_t *pl = mnl_nlmsg_get_payload(nlh);
	size_t plen = nlh->nlmsg_len - NLMSG_HDRLEN;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = (struct nlmsgerr *)pl;
		struct ectx ec = { m, ans, m->send_len ? m->send_len : m->len, 0 };
		size_t off = sizeof(*e);

		if (plen < sizeof(*e))
			return bad(m, "NLMSG_ERROR of %zu bytes", plen);
		if (e->error > 0 || e->error < -4095)
			return bad(m, "NLMSG_ERROR with error %d", e->error);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len > NLMSG_HDRLEN ?
			       NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN) : 0;
		if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
			if (off > plen ||
			    walk(pl + off, plen - off, check_ext, &ec))
				return bad(m, "extack TLVs do not parse");
			if (ec.err)
				return -1;
		}
		ans->err = -e->error;
		ans->kind = e->error ? A_ERR : ans->data_msgs ? A_REPLY : A_ACK;
		return 1;
	}
	if (nlh->nlmsg_type == NLMSG_DONE) {
		int err;

		if (plen < sizeof(int))
			return bad(m, "NLMSG_DONE of %zu bytes", plen);
		memcpy(&err, pl, sizeof(err));
		if (err > 0 || err < -4095)
			return bad(m, "NLMSG_DONE with error %d", err);
		if ((m->flags & NLM_F_DUMP) != NLM_F_DUMP)
			return bad(m, "NLMSG_DONE to a request that was no dump");
		ans->err = -err;
		ans->kind = err ? A_ERR : A_DONE;
		return 1;
	}
	if (nlh->nlmsg_type == family) {
		struct genlmsghdr *g = (struct genlmsghdr *)pl;
		int dump = (m->flags & NLM_F_DUMP) == NLM_F_DUMP;

		if (plen < GENL_HDRLEN)
			return bad(m, "reply of %zu bytes", plen);
		if (g->cmd != m->cmd)
			return bad(m, "reply with command %u to command %u", g->cmd,
				   m->cmd);
		if (m->cmd != DSTOR_CMD_EXPORT_GET && m->cmd != DSTOR_CMD_IMPORT_GET &&
		    m->cmd != DSTOR_CMD_GET && m->cmd != DSTOR_CMD_ACL_GET &&
		    m->cmd != DSTOR_CMD_IMPORT_ADD)
			return bad(m, "a reply to %s", cmd_name(m->cmd));
		if (dump != !!(nlh->nlmsg_flags & NLM_F_MULTI))
			return bad(m, "NLM_F_MULTI is %s in a %s",
				   dump ? "missing" : "set", dump ? "dump" : "reply");
		if (check_attrs(m, pl + GENL_HDRLEN, plen - GENL_HDRLEN, -1))
			return -1;
		ans->data_msgs++;
		/* A do without NLM_F_ACK would end here; we always ask. */
		return 0;
	}
	return bad(m, "message of type %u", nlh->nlmsg_type);
}

static uint8_t rbuf[BUF_MAX * 2];

/* Receive the answer to @m (sequence @sq). */
static void answer(const struct msg *m, uint32_t sq, struct answer *ans)
{
	int64_t end = now_ms() + (m->maybe_none ? NONE_MS : REPLY_MS);
	int fd = mnl_socket_get_fd(nl);

	memset(ans, 0, sizeof(*ans));
	ans->kind = A_TIMEOUT;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = end - now_ms();
		struct nlmsghdr *nlh;
		ssize_t got;
		int done = 0, n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
			if (m->maybe_none)
				ans->kind = A_NONE;
			return;
		}
		got = mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
		if (got < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			bad(m, "recv: %s", strerror(errno));
			ans->kind = A_BAD;
			return;
		}
		n = (int)got;
		for (nlh = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, n);
		     nlh = mnl_nlmsg_next(nlh, &n)) {
			int rc;

			if (nlh->nlmsg_pid != portid) {
				bad(m, "message for port %u", nlh->nlmsg_pid);
				ans->kind = A_BAD;
				continue;
			}
			if (nlh->nlmsg_seq != sq) {
				st.stray++;
				fprintf(stderr, "%s: stray message (type %u seq %u) while waiting for seq %u\n",
					prog, nlh->nlmsg_type, nlh->nlmsg_seq, sq);
				continue;
			}
			if (done) {
				st.extra++;
				bad(m, "a message after the end of the answer");
				ans->kind = A_BAD;
				continue;
			}
			rc = check_one(m, nlh, ans);
			if (rc < 0)
				ans->kind = A_BAD;
			if (rc)
				done = 1;
		}
		if (n > 0) {
			bad(m, "%d bytes of a partial message", n);
			ans->kind = A_BAD;
		}
		if (done)
			return;
	}
}

/* ---- one exchange ---- */

static void hexdump(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && i < 256; i++)
		fprintf(stderr, "%02x%s", p[i], i % 32 == 31 ? "\n" : " ");
	fputc('\n', stderr);
}

static void note_extack(const char *text, int err)
{
	for (int i = 0; i < nextack; i++)
		if (extack[i].err == err && !strcmp(extack[i].text, text)) {
			extack[i].n++;
			return;
		}
	if (nextack < MAX_MSGS) {
		snprintf(extack[nextack].text, sizeof(extack[0].text), "%s", text);
		extack[nextack].err = err;
		extack[nextack++].n = 1;
	}
}

static int exchange(struct msg *m, struct rng *r, unsigned long num)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->b;
	struct answer ans;
	size_t len;
	uint32_t sq;
	int fail = 0, e;

	if (m->label)
		m_finish(m);
	sanitize(m, r);
	/* nlmsg_len covers what was built (sanitize() may have added to it),
	 * cuts included; send_len, when set, is what actually goes out. */
	nlh->nlmsg_len = (uint32_t)m->len;
	len = m->send_len ? m->send_len : m->len;
	sq = nlh->nlmsg_seq;

	if (mnl_socket_sendto(nl, m->b, len) < 0) {
		/* The socket refused to send it at all: nothing to wait for. */
		fprintf(stderr, "%s: send [%s]: %s\n", prog,
			m->label ? m->label : m->desc, strerror(errno));
		return 0;
	}
	st.sent++;
	st.per_cmd[m->cmd]++;
	answer(m, sq, &ans);

	switch (ans.kind) {
	case A_TIMEOUT:
		st.no_reply++;
		fail = 1;
		fprintf(stderr, "%s: no answer within %d ms to #%lu [%s] (%zu bytes):\n",
			prog, REPLY_MS, num, m->label ? m->label : m->desc, len);
		hexdump(m->b, len);
		break;
	case A_BAD:
		fail = 1;
		hexdump(m->b, len);
		break;
	case A_NONE:
		st.none++;
		break;
	case A_ERR:
		st.acks_err++;
		break;
	case A_ACK:
		if (!(nlh->nlmsg_flags & NLM_F_REQUEST))
			st.ignored++;
		else
			st.acks_ok++;
		break;
	case A_DONE:
		st.dumps++;
		break;
	case A_REPLY:
		st.replies++;
		break;
	}
	e = ans.kind == A_ERR ? ans.err : 0;
	if (ans.kind == A_ERR || ans.kind == A_ACK || ans.kind == A_DONE ||
	    ans.kind == A_REPLY) {
		st.per_errno[e > MAX_ERRNO ? MAX_ERRNO : e]++;
		st.per_cmd_errno[m->cmd > MAX_CMD ? MAX_CMD + 1 : m->cmd]
				[e > MAX_ERRNO ? MAX_ERRNO : e]++;
	}
	if (ans.ext[0])
		note_extack(ans.ext, e);
	if (m->want_ext && (ans.kind != A_ERR || !strstr(ans.ext, m->want_ext))) {
		fail = 1;
		fprintf(stderr, "%s: #%lu [%s]: want an error saying \"%s\", got %s \"%s\"\n",
			prog, num, m->label, m->want_ext,
			ans.kind == A_ERR ? errname(e) : "no error", ans.ext);
	}
	/* A state-changing request that worked: only SET of the same value may. */
	if ((ans.kind == A_ACK || ans.kind == A_REPLY) &&
	    (nlh->nlmsg_flags & NLM_F_REQUEST) && cmd_is_admin(m->cmd) &&
	    m->cmd != DSTOR_CMD_SET) {
		st.unexpected_ok++;
		fail = 1;
		fprintf(stderr, "%s: a state-changing request succeeded: #%lu [%s]:\n",
			prog, num, m->label ? m->label : m->desc);
		hexdump(m->b, len);
	}
	if (opt.verbose)
		printf("#%lu %s: %zu bytes -> %s%s%s%s\n", num,
		       m->label ? m->label : m->desc, len,
		       ans.kind == A_TIMEOUT ? "NO ANSWER" : ans.kind == A_NONE ?
		       "no answer (allowed)" : ans.kind == A_BAD ? "BAD ANSWER" :
		       ans.kind == A_DONE ? "dump" : ans.kind == A_REPLY ? "reply" :
		       errname(e), ans.ext[0] ? " \"" : "", ans.ext,
		       ans.ext[0] ? "\"" : "");
	return fail;
}

/* ---- the family and what exists ---- */

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;
	int *nops = data;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
		    !mnl_attr_validate(a, MNL_TYPE_U16))
			family = mnl_attr_get_u16(a);
		if (mnl_attr_get_type(a) == CTRL_ATTR_OPS) {
			struct nlattr *op, *oa;

			mnl_attr_for_each_nested(op, a)
				mnl_attr_for_each_nested(oa, op)
					if (mnl_attr_get_type(oa) == CTRL_ATTR_OP_ID &&
					    !mnl_attr_validate(oa, MNL_TYPE_U32)) {
						uint32_t id = mnl_attr_get_u32(oa);

						if (id < 256)
							valid_cmd[id] = 1;
						(*nops)++;
					}
		}
	}
	return MNL_CB_OK;
}

/* Send a well-formed request and run @cb over the answer. */
static int simple(uint16_t type, uint8_t cmd, uint16_t flags,
		  void (*put)(struct nlmsghdr *nlh, const void *arg),
		  const void *arg, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;
	uint32_t sq = ++seq;
	ssize_t n;
	int ret;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = sq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = 1;
	if (put)
		put(nlh, arg);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };

		if (poll(&pfd, 1, REPLY_MS) != 1) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
		if (n < 0)
			return -1;
		ret = mnl_cb_run(rbuf, (size_t)n, sq, portid, cb, data);
	} while (ret > 0);
	return ret;
}

static void put_family_name(struct nlmsghdr *nlh, const void *arg)
{
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, arg);
}

static int state_cb(const struct nlmsghdr *nlh, void *data)
{
	struct known *k = data;
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		int t = mnl_attr_get_type(a);

		if (t == DSTOR_A_NAME && !mnl_attr_validate(a, MNL_TYPE_NUL_STRING) &&
		    k->nnames < MAX_KNOWN)
			snprintf(k->names[k->nnames++], DSTOR_NAME_MAX, "%s",
				 mnl_attr_get_str(a));
		if (t == DSTOR_A_INDEX && !mnl_attr_validate(a, MNL_TYPE_U32) &&
		    k->nidx < MAX_KNOWN)
			k->idx[k->nidx++] = mnl_attr_get_u32(a);
		if (t == DSTOR_A_CRYPTO_WORKERS && !mnl_attr_validate(a, MNL_TYPE_U32))
			k->workers = mnl_attr_get_u32(a);
		/* The module's: DSTOR_CMD_GET, read last (exports have their own). */
		if (t == DSTOR_A_MAX_SESSIONS && !mnl_attr_validate(a, MNL_TYPE_U32))
			k->max_sessions = mnl_attr_get_u32(a);
		if (t == DSTOR_A_MAX_HOST_SESSIONS && !mnl_attr_validate(a, MNL_TYPE_U32))
			k->max_host_sessions = mnl_attr_get_u32(a);
	}
	return MNL_CB_OK;
}

/* Exports and imports (names and indexes) and the crypto worker count. */
static void snapshot(struct known *k)
{
	memset(k, 0, sizeof(*k));
	if (simple(family, DSTOR_CMD_EXPORT_GET, NLM_F_REQUEST | NLM_F_DUMP, NULL,
		   NULL, state_cb, k) < 0 ||
	    simple(family, DSTOR_CMD_IMPORT_GET, NLM_F_REQUEST | NLM_F_DUMP, NULL,
		   NULL, state_cb, k) < 0 ||
	    simple(family, DSTOR_CMD_GET, NLM_F_REQUEST | NLM_F_ACK, NULL, NULL,
		   state_cb, k) < 0)
		die("reading the exports and imports: %s", strerror(errno));
}

static void print_known(const char *when, const struct known *k)
{
	printf("%s: %s: %d names (", prog, when, k->nnames);
	for (int i = 0; i < k->nnames; i++)
		printf("%s%s", i ? " " : "", k->names[i]);
	printf("), import indexes (");
	for (int i = 0; i < k->nidx; i++)
		printf("%s%u", i ? " " : "", k->idx[i]);
	printf("), crypto workers %u, session limits %u %u\n", k->workers,
	       k->max_sessions, k->max_host_sessions);
}

static int same_state(const struct known *a, const struct known *b)
{
	if (a->nnames != b->nnames || a->nidx != b->nidx || a->workers != b->workers ||
	    a->max_sessions != b->max_sessions ||
	    a->max_host_sessions != b->max_host_sessions)
		return 0;
	for (int i = 0; i < a->nnames; i++) {
		int found = 0;

		for (int j = 0; j < b->nnames; j++)
			found |= !strcmp(a->names[i], b->names[j]);
		if (!found)
			return 0;
	}
	for (int i = 0; i < a->nidx; i++) {
		int found = 0;

		for (int j = 0; j < b->nidx; j++)
			found |= a->idx[i] == b->idx[j];
		if (!found)
			return 0;
	}
	return 1;
}

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: %s [--iterations N] [--seed S] [--start I] [--no-targeted] [--verbose]\n",
		prog);
	exit(rc);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "start", required_argument, NULL, 'k' },
		{ "no-targeted", no_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct msg m;
	struct known before, after;
	int seeded = 0, ch, one = 1, nops = 0, fails = 0;
	unsigned long num = 0;
	int64_t t0;

	prog = "dstor-nlfuzz";
	while ((ch = getopt_long(argc, argv, "n:s:k:Tvh", lo, NULL)) != -1) {
		switch (ch) {
		case 'n': opt.iterations = parse_u64("--iterations", optarg); break;
		case 's': opt.seed = parse_u64("--seed", optarg); seeded = 1; break;
		case 'k': opt.start = parse_u64("--start", optarg); break;
		case 'T': opt.targeted = 0; break;
		case 'v': opt.verbose = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (!seeded)
		opt.seed = seed_from_clock();
	setvbuf(stdout, NULL, _IOLBF, 0);

	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		die("netlink socket: %s", strerror(errno));
	portid = mnl_socket_get_portid(nl);
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (simple(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_REQUEST | NLM_F_ACK,
		   put_family_name, DSTOR_GENL_NAME, family_cb, &nops) < 0 || !family)
		die("no generic netlink family \"%s\" (%s): is the module loaded?",
		    DSTOR_GENL_NAME, strerror(errno));
	printf("%s: family %s id %u, %d operations (", prog, DSTOR_GENL_NAME, family,
	       nops);
	for (int i = 0, first = 1; i < 256; i++)
		if (valid_cmd[i]) {
			printf("%s%s", first ? "" : " ", cmd_name((unsigned int)i));
			first = 0;
		}
	printf("), seed %llu\n", (unsigned long long)opt.seed);
	snapshot(&before);
	known = before;
	print_known("before", &before);
	t0 = now_ms();

	if (opt.targeted) {
		struct rng r = rng_for(opt.seed, ~0ULL);

		for (unsigned int i = 0; targeted(i, &m); i++) {
			fails += exchange(&m, &r, num++);
			st.targeted++;
		}
	}
	for (unsigned long i = opt.start; i < opt.start + opt.iterations; i++) {
		struct rng r = rng_for(opt.seed, i);

		if ((i - opt.start) % 200 == 199) {
			snapshot(&known);
			/* Keep what was there at the start too. */
			for (int k = 0; k < before.nnames && known.nnames < MAX_KNOWN; k++)
				memcpy(known.names[known.nnames++], before.names[k],
				       DSTOR_NAME_MAX);
			for (int k = 0; k < before.nidx && known.nidx < MAX_KNOWN; k++)
				known.idx[known.nidx++] = before.idx[k];
		}
		random_msg(&m, &r);
		fails += exchange(&m, &r, i);
		st.random++;
		num++;
		if (!opt.verbose && (i - opt.start) % 1000 == 999)
			printf("%s: %lu random messages sent\n", prog, i - opt.start + 1);
	}

	printf("%s: %lu requests in %lld ms (%lu targeted, %lu random)\n", prog,
	       st.sent, (long long)(now_ms() - t0), st.targeted, st.random);
	printf("  answers: error acks %lu, ok acks %lu, replies %lu, dumps %lu, "
	       "ignored (no NLM_F_REQUEST) %lu, dropped by the kernel (allowed) %lu\n",
	       st.acks_err, st.acks_ok, st.replies, st.dumps, st.ignored, st.none);
	printf("  per errno:");
	for (int e = 0; e <= MAX_ERRNO; e++)
		if (st.per_errno[e])
			printf(" %s %lu", errname(e), st.per_errno[e]);
	printf("\n  per command:\n");
	for (int c = 0; c <= MAX_CMD + 1; c++) {
		unsigned long tot = 0;

		for (int e = 0; e <= MAX_ERRNO; e++)
			tot += st.per_cmd_errno[c][e];
		if (!tot)
			continue;
		printf("    %-11s %5lu:", c > MAX_CMD ? ">40" : cmd_name((unsigned int)c), tot);
		for (int e = 0; e <= MAX_ERRNO; e++)
			if (st.per_cmd_errno[c][e])
				printf(" %s %lu", errname(e), st.per_cmd_errno[c][e]);
		printf("\n");
	}
	printf("  extended ACK messages (%d distinct):\n", nextack);
	for (int i = 0; i < nextack; i++)
		printf("    %6lu %-7s %s\n", extack[i].n, errname(extack[i].err),
		       extack[i].text);

	snapshot(&after);
	print_known("after", &after);
	if (!same_state(&before, &after)) {
		warnx("the exports or imports changed during the run");
		fails++;
	}
	printf("  failures: no answer %lu, malformed %lu, stray %lu, extra %lu, "
	       "state-changing successes %lu\n", st.no_reply, st.malformed,
	       st.stray, st.extra, st.unexpected_ok);
	if (fails || st.stray) {
		printf("%s: FAILED\n", prog);
		return 1;
	}
	printf("%s: ok\n", prog);
	return 0;
}
