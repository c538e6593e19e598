// SPDX-License-Identifier: GPL-2.0
/*
 * dstor-mctree: the merkle root of an image, computed from the
 * specification in Documentation/multicast.md with OpenSSL's BLAKE2s, apart
 * from the module's code (kernel/merkle.c, kernel/tree.c).
 *
 *   dstor-mctree --name EXPORT --block-size BYTES [--key FILE]
 *                [--peer ADDR:PORT [--hostile]]
 *                [--serve ADDR:PORT [--forge WHAT] [--count N]] IMAGE
 *
 * Prints the root in hex, as `dstor show` prints an export's, then the
 * number of blocks and how many of them are all zeros. A test compares the
 * two roots: equal means the module hashes what the document says.
 *
 * With --peer, it then asks the exporter at ADDR:PORT (an unkeyed export:
 * the connection is plaintext) for the export's tree over protocol version 4
 * (Documentation/protocol.md, "Version 4: trees"): TREE_INFO, then every node
 * of every level by TREE_FP, top down, each compared with its own; it
 * prints "tree served: N nodes in R requests, all equal". --hostile also
 * sends what the exporter must refuse (a stale generation, a level or range
 * that does not exist, a count of 0, tree ops on a version 3 session) and
 * checks each answer.
 *
 * With --serve, it is a hostile exporter instead, for `dstor sync --peer`'s
 * tests: it listens on ADDR:PORT and serves N connections (1) in turn as a
 * version 4 exporter of IMAGE's tree would (plaintext, read-only, TREE set),
 * but forging what --forge says: "node" (a bit of the first node of every
 * TREE_FP reply flipped), "gen" (replies for another generation), "len" (a
 * TREE_FP reply 32 bytes short), "handle" (TREE_FP replies to a handle never
 * sent), "data" (READ replies with a byte of every sector flipped), "none".
 * Exit status: 0; 2 on bad arguments; 1 when IMAGE or FILE cannot be read,
 * or when the peer's tree or answers differ from what they must be.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common.h"
#include "proto.h"

#define HASH		32
#define KEY_LEN		32
#define LABEL_TREE	"dstor v1 mcast tree"

static EVP_MAC *mac;

/* BLAKE2s-256 keyed with @key (@klen bytes, 0: unkeyed) over @n parts. */
static void b2s(const unsigned char *key, size_t klen, unsigned char *out,
		int n, const void *const *parts, const size_t *lens)
{
	OSSL_PARAM p[2] = { OSSL_PARAM_END, OSSL_PARAM_END };
	EVP_MAC_CTX *c;
	size_t outl;
	int i;

	if (!klen) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		if (!md || !EVP_DigestInit_ex(md, EVP_blake2s256(), NULL))
			errx(1, "BLAKE2s-256 is missing");
		for (i = 0; i < n; i++)
			EVP_DigestUpdate(md, parts[i], lens[i]);
		EVP_DigestFinal_ex(md, out, NULL);
		EVP_MD_CTX_free(md);
		return;
	}
	c = EVP_MAC_CTX_new(mac);
	if (!c || !EVP_MAC_init(c, key, klen, p))
		errx(1, "BLAKE2SMAC cannot be keyed");
	for (i = 0; i < n; i++)
		EVP_MAC_update(c, parts[i], lens[i]);
	if (!EVP_MAC_final(c, out, &outl, HASH) || outl != HASH)
		errx(1, "BLAKE2SMAC failed");
	EVP_MAC_CTX_free(c);
}

static void put_be(unsigned char *p, unsigned long long v, int bytes)
{
	while (bytes--) {
		p[bytes] = v & 0xff;
		v >>= 8;
	}
}

/* A key file of `dstor genkey`: 32 bytes in base64, one line. */
static void read_key(const char *path, unsigned char *key)
{
	unsigned char raw[KEY_LEN + 3];
	char line[128];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		err(1, "%s", path);
	if (!fgets(line, sizeof(line), f))
		errx(1, "%s: empty", path);
	fclose(f);
	n = strcspn(line, "\r\n");
	if (n != 44 || EVP_DecodeBlock(raw, (unsigned char *)line, 44) != 33)
		errx(1, "%s: not a dstor key", path);
	memcpy(key, raw, KEY_LEN);
}

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: dstor-mctree --name EXPORT --block-size BYTES [--key FILE]\n"
		"                    [--peer ADDR:PORT [--hostile]]\n"
		"                    [--serve ADDR:PORT [--forge WHAT] [--count N]] IMAGE\n");
	exit(rc);
}

/* The tree, level by level: lv[0] the leaves, lv[top] one node. */
struct tree {
	unsigned long long n;
	unsigned int top;
	unsigned char *lv[64];
};

static unsigned long long nodes_at(const struct tree *t, unsigned int l)
{
	return ((t->n - 1) >> l) + 1;
}

/* node = BLAKE2s(key = kt, 0x01 || left || right); odd ones move up */
static void build_levels(struct tree *t, const unsigned char *kt)
{
	unsigned long long j, m;
	unsigned int l;

	for (l = 1; nodes_at(t, l - 1) > 1; l++) {
		m = nodes_at(t, l);
		t->lv[l] = malloc(m * HASH);
		if (!t->lv[l])
			errx(1, "out of memory");
		for (j = 0; j < m; j++) {
			const unsigned char *c = t->lv[l - 1] + 2 * j * HASH;
			unsigned char d = 1;
			const void *parts[] = { &d, c, c + HASH };
			size_t lens[] = { 1, HASH, HASH };

			if (2 * j + 1 < nodes_at(t, l - 1))
				b2s(kt, HASH, t->lv[l] + j * HASH, 3, parts,
				    lens);
			else
				memcpy(t->lv[l] + j * HASH, c, HASH);
		}
	}
	t->top = l - 1;
}

/* root = BLAKE2s(key = kt, 0x02 || be64(size) || be32(bs) || top) */
static void tree_root(const struct tree *t, const unsigned char *kt,
		      unsigned long long size, unsigned long bs,
		      unsigned char *root)
{
	unsigned char pre[13];
	const void *parts[] = { pre, t->lv[t->top] };
	size_t lens[] = { sizeof(pre), HASH };

	pre[0] = 2;
	put_be(pre + 1, size, 8);
	put_be(pre + 9, bs, 4);
	b2s(kt, HASH, root, 2, parts, lens);
}

/* ---- --peer: the exporter's tree over protocol version 4 ---- */

static int peer_fd = -1;
static unsigned long long next_handle = 1;

static void xwrite(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n <= 0)
			err(1, "peer: write");
		p += n;
		len -= (size_t)n;
	}
}

/* 0, or -1 when the peer closed the connection (reset or EOF). */
static int xread(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;
	ssize_t n;

	while (len) {
		n = read(fd, p, len);
		if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE)))
			return -1;
		if (n < 0)
			err(1, "peer: read");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void send_frame(int fd, u8 op, u64 offset, u32 length,
		       const void *payload, u32 plen)
{
	struct dstor_hdr h = {
		.op = op, .handle = next_handle++, .offset = offset,
		.length = length, .payload = plen,
	};
	u8 b[DSTOR_HDR_LEN];

	dstor_hdr_encode(b, &h);
	xwrite(fd, b, sizeof(b));
	if (plen)
		xwrite(fd, payload, plen);
}

/* The next frame: its header into @h, its payload (at most @max) into @buf. */
static int recv_frame(int fd, struct dstor_hdr *h, void *buf, u32 max)
{
	u8 b[DSTOR_HDR_LEN];
	int ret;

	if (xread(fd, b, sizeof(b)))
		return -1;
	ret = dstor_hdr_decode(b, h);
	if (ret)
		errx(1, "peer: malformed header (%d)", ret);
	if (h->payload > max)
		errx(1, "peer: a payload of %u bytes, at most %u expected",
		     h->payload, max);
	return h->payload ? xread(fd, buf, h->payload) : 0;
}

/* A plaintext session of @name offering versions @min to @max. */
static int connect_session(const struct sockaddr_storage *ss, socklen_t sl,
			   const char *name, u16 min, u16 max,
			   struct dstor_hello_reply *r)
{
	struct dstor_hello m = {
		.version_min = min, .version_max = max, .session = 1,
		.nr_queues = 1,
	};
	u8 b[DSTOR_HELLO_LEN], rb[DSTOR_HELLO_REPLY_LEN];
	struct dstor_hdr h;
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)ss, sl))
		err(1, "peer: connect %s", fmt_addr(ss));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	snprintf(m.name, sizeof(m.name), "%s", name);
	m.session = (u64)getpid() << 16 | (u64)max;
	dstor_hello_encode(b, &m);
	send_frame(fd, DSTOR_OP_HELLO, 0, 0, b, sizeof(b));
	if (recv_frame(fd, &h, rb, sizeof(rb)) || h.op != DSTOR_OP_HELLO_REPLY)
		errx(1, "peer: no HELLO_REPLY");
	if (h.status)
		errx(1, "peer: HELLO refused, status %u", h.status);
	if (dstor_hello_reply_decode(rb, r))
		errx(1, "peer: malformed HELLO_REPLY");
	return fd;
}

/* Ask TREE_FP; the reply's status, its payload into @out. */
static u16 tree_fp(u32 level, u64 first, u32 count, u64 gen, u8 *out)
{
	u8 g[DSTOR_TREE_GEN_LEN];
	struct dstor_hdr h;

	dstor_put64(g, gen);
	send_frame(peer_fd, DSTOR_OP_TREE_FP, dstor_tree_fp_offset(level, first),
		   count, g, sizeof(g));
	if (recv_frame(peer_fd, &h, out, dstor_tree_fp_reply_len(DSTOR_TREE_FP_MAX)))
		errx(1, "peer: closed the connection at TREE_FP");
	if (h.op != DSTOR_OP_REPLY || h.handle != next_handle - 1 ||
	    h.offset != dstor_tree_fp_offset(level, first) || h.length != count)
		errx(1, "peer: TREE_FP answered by op %u handle %llu offset %llx length %u",
		     h.op, (unsigned long long)h.handle,
		     (unsigned long long)h.offset, h.length);
	if (h.status == DSTOR_ST_OK) {
		if (h.payload != dstor_tree_fp_reply_len(count))
			errx(1, "peer: TREE_FP of %u nodes answered %u bytes",
			     count, h.payload);
		if (dstor_get64(out) != gen)
			errx(1, "peer: TREE_FP answered another generation");
	} else if (h.payload) {
		errx(1, "peer: a payload with status %u", h.status);
	}
	return h.status;
}

static void tree_info(struct dstor_tree_info *ti)
{
	u8 b[DSTOR_TREE_INFO_LEN];
	struct dstor_hdr h;
	int i;

	for (i = 0; i < 600; i++) {
		send_frame(peer_fd, DSTOR_OP_TREE_INFO, 0, 0, NULL, 0);
		if (recv_frame(peer_fd, &h, b, sizeof(b)))
			errx(1, "peer: closed the connection at TREE_INFO");
		if (h.op != DSTOR_OP_REPLY || h.status != DSTOR_ST_OK ||
		    h.payload != sizeof(b))
			errx(1, "peer: TREE_INFO answered status %u, %u bytes",
			     h.status, h.payload);
		if (dstor_tree_info_decode(b, ti))
			errx(1, "peer: malformed TREE_INFO reply");
		if (!(ti->flags & DSTOR_TREE_BUILDING))
			return;
		usleep(100000);
	}
	errx(1, "peer: the tree is still building after 60 s");
}

/* The peer's session ends: it took the last request as a protocol error. */
static void expect_closed(int fd, const char *what)
{
	struct dstor_hdr h;
	u8 b[64];

	if (recv_frame(fd, &h, b, sizeof(b)) == 0)
		errx(1, "peer: %s was answered (op %u status %u), not refused",
		     what, h.op, h.status);
	close(fd);
	printf("refused: %s (connection closed)\n", what);
}

static void expect_status(u16 got, u16 want, const char *what)
{
	if (got != want)
		errx(1, "peer: %s answered status %u, not %u", what, got, want);
	printf("refused: %s (status %u)\n", what, got);
}

static void hostile(const struct sockaddr_storage *ss, socklen_t sl,
		    const char *name, const struct tree *t, u64 gen, u8 *buf)
{
	struct dstor_hello_reply r;
	u8 b[DSTOR_HDR_LEN];
	struct dstor_hdr h = {
		.op = DSTOR_OP_TREE_FP, .handle = 1,
		.offset = dstor_tree_fp_offset(0, 0), .payload = 8,
	};
	int fd;

	expect_status(tree_fp(0, 0, 1, gen + 1, buf), DSTOR_ST_STALE,
		      "another generation");
	expect_status(tree_fp(t->top + 1, 0, 1, gen, buf), DSTOR_ST_INVAL,
		      "a level above the top");
	expect_status(tree_fp(0, t->n - 1, 2, gen, buf), DSTOR_ST_INVAL,
		      "nodes past the end of a level");
	expect_status(tree_fp(t->top, 1, 1, gen, buf), DSTOR_ST_INVAL,
		      "a node past the top's one");
	expect_status(tree_fp(0, DSTOR_TREE_FIRST_MASK, 1, gen, buf),
		      DSTOR_ST_INVAL, "the largest first node");

	/* A count of 0 cannot be decoded: the header is malformed. */
	fd = connect_session(ss, sl, name, DSTOR_PROTO_VERSION_MIN,
			     DSTOR_PROTO_VERSION, &r);
	dstor_hdr_encode(b, &h);
	xwrite(fd, b, sizeof(b));
	xwrite(fd, "\0\0\0\0\0\0\0\0", 8);
	expect_closed(fd, "TREE_FP of 0 nodes");

	/* Version 3 has no tree ops, nor the TREE flag. */
	fd = connect_session(ss, sl, name, DSTOR_PROTO_VERSION_MIN, 3, &r);
	if (r.version != 3 || (r.flags & DSTOR_EXP_TREE))
		errx(1, "peer: a version 3 HELLO got version %u flags %#x",
		     r.version, r.flags);
	send_frame(fd, DSTOR_OP_TREE_INFO, 0, 0, NULL, 0);
	expect_closed(fd, "TREE_INFO on a version 3 session");
}

static void probe(const char *peer, const char *name, const struct tree *t,
		  const unsigned char *kt, unsigned long long size,
		  unsigned long bs, int bad)
{
	u8 *buf = malloc(dstor_tree_fp_reply_len(DSTOR_TREE_FP_MAX));
	unsigned long long nodes = 0, requests = 0, j, m;
	struct dstor_hello_reply r;
	struct dstor_tree_info ti;
	struct sockaddr_storage ss;
	unsigned char root[HASH];
	socklen_t sl = parse_hostport(peer, &ss);
	unsigned int l;
	u32 count;

	if (!sl)
		errx(2, "--peer '%s': not ADDR:PORT", peer);
	if (!buf)
		errx(1, "out of memory");
	peer_fd = connect_session(&ss, sl, name, DSTOR_PROTO_VERSION_TREE,
				  DSTOR_PROTO_VERSION_TREE, &r);
	if (r.version != DSTOR_PROTO_VERSION_TREE)
		errx(1, "peer: version %u answered, not 4", r.version);
	if (!(r.flags & DSTOR_EXP_TREE)) {
		/* Asked all the same: NOTSUPP, and the session goes on. */
		if (bad) {
			struct dstor_hdr h;

			send_frame(peer_fd, DSTOR_OP_TREE_INFO, 0, 0, NULL, 0);
			if (recv_frame(peer_fd, &h, buf, 0))
				errx(1, "peer: closed the connection at TREE_INFO");
			expect_status(h.status, DSTOR_ST_NOTSUPP,
				      "TREE_INFO without a tree");
			expect_status(tree_fp(0, 0, 1, 0, buf), DSTOR_ST_NOTSUPP,
				      "TREE_FP without a tree");
		}
		errx(1, "peer: flags %#x: no tree offered", r.flags);
	}
	tree_info(&ti);
	requests++;
	if (ti.size != size || ti.block_size != bs || ti.leaf != DSTOR_TREE_LEAF_V3)
		errx(1, "peer: a tree of %llu bytes in blocks of %u, not %llu in %lu",
		     (unsigned long long)ti.size, ti.block_size, size, bs);

	tree_root(t, kt, size, bs, root);
	if (memcmp(root, ti.root, HASH))
		errx(1, "peer: TREE_INFO's root differs from the image's");

	for (l = t->top + 1; l-- > 0;) {
		m = nodes_at(t, l);
		for (j = 0; j < m; j += count) {
			count = m - j < DSTOR_TREE_FP_MAX ? (u32)(m - j) :
				DSTOR_TREE_FP_MAX;
			if (tree_fp(l, j, count, ti.generation, buf))
				errx(1, "peer: TREE_FP level %u first %llu: status %u",
				     l, j, buf[0]);
			requests++;
			if (memcmp(buf + DSTOR_TREE_GEN_LEN, t->lv[l] + j * HASH,
				   (size_t)count * HASH))
				errx(1, "peer: level %u nodes %llu..%llu differ from the image's",
				     l, j, j + count - 1);
			nodes += count;
		}
	}
	printf("tree served: %llu nodes in %llu requests, all equal\n", nodes,
	       requests);
	if (bad)
		hostile(&ss, sl, name, t, ti.generation, buf);
	close(peer_fd);
	free(buf);
}

/* ---- --serve: a hostile exporter, for the receiver's tests ---- */

enum forge { F_NONE, F_NODE, F_GEN, F_LEN, F_HANDLE, F_DATA };

static const char *const forge_names[] = {
	"none", "node", "gen", "len", "handle", "data",
};

/* Answer one frame @h (its payload in @in); 0, or -1 to end the session. */
static int serve_frame(int fd, const struct dstor_hdr *h, const u8 *in,
		       const struct tree *t, FILE *img, unsigned long long size,
		       unsigned long bs, const u8 *root, u64 gen, enum forge f,
		       u8 *out)
{
	struct dstor_hdr r = {
		.op = DSTOR_OP_REPLY, .handle = h->handle, .offset = h->offset,
		.length = h->length,
	};
	struct dstor_tree_info ti = {
		.size = size, .block_size = (u32)bs, .leaf = DSTOR_TREE_LEAF_V3,
		.generation = gen,
	};
	u32 level = h->offset >> DSTOR_TREE_LEVEL_SHIFT, i;
	u64 first = h->offset & DSTOR_TREE_FIRST_MASK;
	u8 b[DSTOR_HDR_LEN];

	switch (h->op) {
	case DSTOR_OP_PING:
		r.op = DSTOR_OP_PONG;
		r.offset = r.length = 0;
		break;
	case DSTOR_OP_TREE_INFO:
		memcpy(ti.root, root, HASH);
		dstor_tree_info_encode(out, &ti);
		r.payload = DSTOR_TREE_INFO_LEN;
		break;
	case DSTOR_OP_TREE_FP:
		if (dstor_tree_fp_check(h->offset, h->length, t->n)) {
			r.status = DSTOR_ST_INVAL;
			break;
		}
		if (dstor_get64(in) != gen) {
			r.status = DSTOR_ST_STALE;
			break;
		}
		dstor_put64(out, f == F_GEN ? gen + 1 : gen);
		memcpy(out + DSTOR_TREE_GEN_LEN, t->lv[level] + first * HASH,
		       (size_t)h->length * HASH);
		if (f == F_NODE)
			out[DSTOR_TREE_GEN_LEN] ^= 1;
		r.payload = dstor_tree_fp_reply_len(h->length);
		if (f == F_LEN)
			r.payload -= HASH;
		if (f == F_HANDLE)
			r.handle ^= 0x5a5a00;
		break;
	case DSTOR_OP_READ:
		if (h->offset + h->length > size) {
			r.status = DSTOR_ST_INVAL;
			break;
		}
		if (fseeko(img, (off_t)h->offset, SEEK_SET) ||
		    fread(out, 1, h->length, img) != h->length)
			errx(1, "serve: reading the image failed");
		if (f == F_DATA)
			for (i = 0; i < h->length; i += 512)
				out[i] ^= 0xff;
		r.payload = h->length;
		break;
	default:
		return -1;	/* nothing else is a sync's */
	}
	dstor_hdr_encode(b, &r);
	xwrite(fd, b, sizeof(b));
	if (r.payload)
		xwrite(fd, out, r.payload);
	return 0;
}

/*
 * Serve the image's tree to @count connections in turn, as an exporter of
 * version 4 would (plaintext), but forging what @f says.
 */
static void serve(const char *addr, unsigned int count, const char *name,
		  const struct tree *t, const unsigned char *kt, FILE *img,
		  unsigned long long size, unsigned long bs, enum forge f)
{
	u8 *in = malloc(DSTOR_HELLO_LEN), *out = malloc(DSTOR_MAX_IO);
	struct sockaddr_storage ss;
	socklen_t sl = parse_hostport(addr, &ss);
	struct dstor_hello_reply hr = {
		.version = DSTOR_PROTO_VERSION_TREE,
		.flags = DSTOR_EXP_READ_ONLY | DSTOR_EXP_TREE,
		.size = size, .logical_block_size = 512,
		.physical_block_size = 4096, .max_io = DSTOR_MAX_IO,
		.incarnation = 1,
	};
	unsigned char root[HASH];
	struct dstor_hello hello;
	u64 gen = (u64)getpid() << 20;
	int lfd, fd, one = 1;
	struct dstor_hdr h;
	u8 b[DSTOR_HDR_LEN];

	if (!sl || !in || !out)
		errx(2, "--serve '%s': not ADDR:PORT", addr);
	tree_root(t, kt, size, bs, root);
	lfd = socket(ss.ss_family, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&ss, sl) || listen(lfd, 4))
		err(1, "--serve %s", addr);
	printf("serving %s forging %s\n", name, forge_names[f]);
	fflush(stdout);
	while (count--) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			err(1, "accept");
		if (recv_frame(fd, &h, in, DSTOR_HELLO_LEN) ||
		    h.op != DSTOR_OP_HELLO || dstor_hello_decode(in, &hello) ||
		    strcmp(hello.name, name)) {
			close(fd);
			continue;
		}
		dstor_hello_reply_encode(in, &hr);
		h = (struct dstor_hdr){ .op = DSTOR_OP_HELLO_REPLY,
					.payload = DSTOR_HELLO_REPLY_LEN };
		dstor_hdr_encode(b, &h);
		xwrite(fd, b, sizeof(b));
		xwrite(fd, in, DSTOR_HELLO_REPLY_LEN);
		while (!recv_frame(fd, &h, in, DSTOR_TREE_GEN_LEN) &&
		       !serve_frame(fd, &h, in, t, img, size, bs, root, gen, f,
				    out))
			;
		close(fd);
	}
	close(lfd);
	free(in);
	free(out);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "key", required_argument, NULL, 'k' },
		{ "peer", required_argument, NULL, 'p' },
		{ "hostile", no_argument, NULL, 'H' },
		{ "serve", required_argument, NULL, 'S' },
		{ "forge", required_argument, NULL, 'F' },
		{ "count", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned char key[KEY_LEN], kt[HASH], *buf, *zero;
	const char *name = NULL, *keyfile = NULL, *peer = NULL, *srv = NULL;
	unsigned int count = 1;
	enum forge forge = F_NONE;
	unsigned long long size, zeros = 0, i;
	struct tree t = { 0 };
	unsigned long bs = 0;
	int ch, bad = 0;
	size_t got;
	FILE *img;

	prog = "dstor-mctree";
	while ((ch = getopt_long(argc, argv, "n:b:k:p:HS:F:C:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'n':
			name = optarg;
			break;
		case 'b':
			bs = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'p':
			peer = optarg;
			break;
		case 'H':
			bad = 1;
			break;
		case 'S':
			srv = optarg;
			break;
		case 'F':
			for (forge = F_NONE; forge <= F_DATA; forge++)
				if (!strcmp(optarg, forge_names[forge]))
					break;
			if (forge > F_DATA)
				usage(2);
			break;
		case 'C':
			count = (unsigned int)parse_u64("--count", optarg);
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (!name || bs < 4096 || bs > (1 << 20) || (bs & (bs - 1)) ||
	    optind != argc - 1 || (bad && !peer) || ((peer || srv) && keyfile) ||
	    (peer && srv))
		usage(2);
	mac = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	if (!mac)
		errx(1, "OpenSSL has no BLAKE2SMAC");
	if (keyfile)
		read_key(keyfile, key);

	/* tree key kt = BLAKE2s(key = export key or none, label || name) */
	{
		const void *parts[] = { LABEL_TREE, name };
		size_t lens[] = { strlen(LABEL_TREE), strlen(name) };

		b2s(key, keyfile ? KEY_LEN : 0, kt, 2, parts, lens);
	}

	img = fopen(argv[optind], "rb");
	if (!img || fseeko(img, 0, SEEK_END) || (long long)(size = ftello(img)) < 0)
		err(1, "%s", argv[optind]);
	rewind(img);
	t.n = (size + bs - 1) / bs;
	if (!t.n)
		errx(1, "%s: empty", argv[optind]);
	t.lv[0] = malloc(t.n * HASH);
	buf = malloc(bs);
	zero = calloc(1, bs);
	if (!t.lv[0] || !buf || !zero)
		errx(1, "out of memory");

	/* leaf i = BLAKE2s(key = kt, 0x00 || block i) */
	for (i = 0; i < t.n; i++) {
		unsigned char d = 0;
		const void *parts[] = { &d, buf };
		size_t lens[2] = { 1, 0 };

		got = fread(buf, 1, bs, img);
		if (got != bs && (got == 0 || i != t.n - 1))
			errx(1, "%s: short read at block %llu", argv[optind], i);
		lens[1] = got;
		zeros += got == bs && !memcmp(buf, zero, bs);
		b2s(kt, HASH, t.lv[0] + i * HASH, 2, parts, lens);
	}
	build_levels(&t, kt);

	{
		unsigned char root[HASH];

		tree_root(&t, kt, size, bs, root);
		for (i = 0; i < HASH; i++)
			printf("%02x", root[i]);
		printf("\nblocks %llu, all zeros %llu\n", t.n, zeros);
		fflush(stdout);
	}
	if (peer)
		probe(peer, name, &t, kt, size, bs, bad);
	if (srv)
		serve(srv, count, name, &t, kt, img, size, bs, forge);
	fclose(img);
	EVP_MAC_free(mac);
	for (i = 0; i <= t.top; i++)
		free(t.lv[i]);
	free(buf);
	free(zero);
	return 0;
}
