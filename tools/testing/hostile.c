// SPDX-License-Identifier: GPL-2.0
/*
 * dstor-hostile: a load generator of malformed and abusive importer
 * traffic against a dstor exporter.
 *
 *   dstor-hostile --connect ADDR:PORT --export NAME [--connections N]
 *                 [--seed S] [--concurrency C] [--start K] [--size BYTES]
 *                 [--strict] [--verbose] [--mode MODE ...]
 *
 * --mode random (the default): opens N TCP connections (default 2000): the
 * first half one after another, the second half C at a time (default 24,
 * well below the exporter's 256 connections in their handshake). Each
 * connection runs one scenario, chosen from the seed and the connection's
 * number, so `--seed S --start K --connections 1 --verbose` replays
 * connection K:
 *
 *   nothing      connect, maybe wait, close (FIN or RST)
 *   random       random bytes
 *   trunc-hdr    the first 1..31 bytes of a HELLO header
 *   bad-hdr      a header with bad magic, an unknown op, flags not allowed,
 *                a status, a payload past DSTOR_MAX_IO or a huge length
 *   not-hello    a valid request before any HELLO
 *   bad-hello    a HELLO payload breaking one rule (version, flags, queues,
 *                name, reserved bytes, ciphers, timers: one of the two,
 *                dead-after not above keepalive or past 3600); or version
 *                1's 120-byte HELLO, which must be answered VERSION
 *   trunc-hello  a HELLO cut short
 *   no-export    a valid HELLO naming an export that does not exist
 *   auth         a HELLO with AUTH set; on a challenge, a garbage proof (or
 *                another wrong answer)
 *   session      a valid HELLO (version 2, queue 0 of 1, random session),
 *                then requests: valid READs, a READ of the last sector,
 *                FLUSH, PING, and READs/WRITEs/DISCARDs/WRITE_ZEROES past
 *                the end or wrapping 2^64 (each must get exactly one REPLY
 *                with the right status); then maybe one that ends the
 *                connection: length past the limits, misaligned, unknown
 *                op, flags, a reply op, a second HELLO, garbage, or a WRITE
 *                whose payload is shorter than announced followed by close
 *   flood        a session that pipelines 300 READs without reading the
 *                replies (the exporter's 256-request limit), then drains
 *                or resets
 *   supersede    two sessions with the same session id and queue: the
 *                second must shut the first down
 *
 * It never writes data the exporter would store: every WRITE is out of
 * range (refused) or cut short (never submitted). Sockets have
 * SO_RCVTIMEO/SO_SNDTIMEO and every wait is bounded, so it cannot hang.
 *
 * Replies are parsed and checked: a frame that does not decode, a reply
 * with an unknown handle, the wrong status or the wrong payload length is
 * counted (and the first few are printed). Exit status: 0, or 1 if no
 * connection could be made at all; with --strict, 3 if the exporter sent
 * anything malformed or wrong.
 *
 * The deterministic modes (exit status 0 when the exporter did what it
 * must, 1 when it did not, 2 for bad arguments). Every HELLO announces
 * --keepalive K --dead-after D (default: neither, which the exporter
 * takes as 5 and 15) and, with --read-only, the READ_ONLY flag:
 *
 *   silent   N connections (--connections, default 1), C at a time in
 *            their handshake (--concurrency), each completes a HELLO, reads
 *            the HELLO_REPLY, then sends nothing and keeps its socket open.
 *            Prints, for each, how long after its HELLO_REPLY the exporter
 *            closed it (EOF or reset), then the count and min / median /
 *            max. Fails if any is still open --bound SECS (default 30)
 *            after its HELLO_REPLY, was closed sooner than K + D after its
 *            HELLO was sent, or was refused.
 *   no-read  one session that pipelines --reads N READs (default 32) of
 *            --read-size BYTES (default 512 KiB) and never reads a reply,
 *            while it sends a PING every --ping-ms MS (default 250) so
 *            that the exporter hears from it: only the exporter's stalled
 *            sends can end it. The close shows as a reset answering a
 *            PING. Prints when the replies stopped coming (our receive
 *            queue stopped growing) and when the exporter closed the
 *            session; fails if it is still open --bound SECS after the
 *            replies stopped, or was closed more than 0.5 s sooner than
 *            K + D after that.
 *   write    one session: a WRITE of --length BYTES (default 64 KiB) of
 *            data from the seed at --offset BYTES (default 1 MiB), and,
 *            unless --expect is ok, a WRITE_ZEROES and a DISCARD of the
 *            same range; each reply must carry status --expect (default
 *            rofs). Then a READ of the range, which must hold the data
 *            exactly when --expect is ok. --pattern-out FILE saves the
 *            data written.
 *   hold     N sessions (C at a time), kept open --hold SECS (default 0)
 *            and closed; prints the HELLO_REPLY statuses, as
 *            "hold: hello statuses: ok=4 limit-export=1". Fails if a
 *            connection got no HELLO_REPLY or, with --expect-ok N, unless
 *            exactly N got OK.
 * Every HELLO offers protocol versions 2..--version-max (default the
 * newest); a HELLO_REPLY with a version above it is a problem.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/dstor.h>	/* the exporter's default timers */

#include "common.h"
#include "proto.h"

#define ST_ANY		0xffff	/* any reply status is fine */
#define MAX_PEND	512
#define CONNECT_MS	2000
#define REPLY_MS	2000	/* waiting for a hello reply or replies */
#define MODE_REPLY_MS	15000	/* the same, in the deterministic modes */
#define DRAIN_MS	1500	/* waiting for EOF after our FIN */
#define SEND_MS		2000	/* one send, at most */
#define CONN_MS		8000	/* one connection, at most */
/*
 * Before a reply counts as missing or a session as not superseded: what
 * a bug would never do, a starved guest (four TCG guests on two host CPUs,
 * fio alongside) may do seconds late. Waits for it end as soon as the
 * reply (or the close) comes, so only a real failure waits this long.
 */
#define VERDICT_MS	20000

enum scenario {
	SC_NOTHING, SC_RANDOM, SC_TRUNC_HDR, SC_BAD_HDR, SC_NOT_HELLO,
	SC_BAD_HELLO, SC_TRUNC_HELLO, SC_NO_EXPORT, SC_AUTH, SC_SESSION,
	SC_FLOOD, SC_SUPERSEDE, NR_SCENARIOS
};

static const char *const sc_names[NR_SCENARIOS] = {
	"nothing", "random", "trunc-hdr", "bad-hdr", "not-hello", "bad-hello",
	"trunc-hello", "no-export", "auth", "session", "flood", "supersede",
};

static const char *const st_names[__DSTOR_ST_MAX] = {
	"ok", "ioerr", "inval", "rofs", "notsupp", "nospc", "noexport",
	"denied", "version", "busy", "auth", "limit-export", "limit-host",
	"stale",
};

/* Relative weights: sessions carry most of the interesting traffic. */
static const unsigned int sc_weight[NR_SCENARIOS] = {
	6, 6, 5, 10, 4, 10, 4, 4, 6, 40, 1, 2,
};

enum mode { MODE_RANDOM, MODE_SILENT, MODE_NO_READ, MODE_WRITE, MODE_HOLD };

static struct {
	struct sockaddr_storage addr;
	socklen_t alen;
	const char *export;
	unsigned long conns, start, concurrency;
	uint64_t seed, size;
	int strict, verbose;
	/* The deterministic modes. */
	enum mode mode;
	unsigned int keepalive, dead_after;	/* announced in every HELLO */
	int read_only;				/* HELLO flag READ_ONLY */
	unsigned int bound_ms;			/* silent, no-read: give up */
	unsigned int reads, read_size, ping_ms;	/* no-read */
	uint64_t offset;			/* write */
	unsigned int length;
	int expect;				/* write: the status wanted */
	const char *pattern_out;
	unsigned int hold_ms;			/* hold */
	long expect_ok;
	int conns_given;
	unsigned int version_max;
} opt = { .version_max = DSTOR_PROTO_VERSION, .conns = 2000, .concurrency = 24, .size = 64ULL << 20,
	  .bound_ms = 30000, .reads = 32, .read_size = DSTOR_MAX_IO,
	  .ping_ms = 250, .offset = 1 << 20, .length = 65536,
	  .expect = DSTOR_ST_ROFS, .expect_ok = -1 };

static struct {
	atomic_ulong made, connect_fail;
	atomic_ulong frames_out, bytes_out, frames_in, bytes_in;
	atomic_ulong hello_status[__DSTOR_ST_MAX], reply_status[__DSTOR_ST_MAX];
	atomic_ulong pongs, challenges;
	atomic_ulong malformed, wrong, unknown_handle, missing;
	atomic_ulong closed_by_peer, lingering, resets;
	atomic_ulong superseded, not_superseded;
	atomic_ulong scenario[NR_SCENARIOS];
} st;

static atomic_ulong next_idx;
static atomic_int problems_printed;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* A request waiting for its reply, and what the reply must say. */
struct pend {
	u64 handle;
	u32 length;
	u16 want;
	u8 op;
	u8 used;
};

struct conn {
	int fd;
	unsigned long idx;
	struct rng *r;
	int eof, err;
	/* Reply parser. */
	u8 hdr[DSTOR_HDR_LEN];
	size_t hlen;
	struct dstor_hdr cur;
	u64 skip;
	u8 cap[DSTOR_CHALLENGE_LEN];
	size_t cap_len, cap_want;
	int desync;
	/* What came back. */
	int hello_status;		/* -1: no HELLO_REPLY yet */
	u64 dev_size;
	u32 lbs;
	u32 exp_flags;
	int challenged;
	unsigned int replies;
	struct pend pend[MAX_PEND];
	unsigned int npend;
	u64 next_handle;
	char desc[200];
};

static void note(struct conn *c, const char *what)
{
	size_t n = strlen(c->desc);

	if (n + strlen(what) + 2 < sizeof(c->desc))
		snprintf(c->desc + n, sizeof(c->desc) - n, "%s%s", n ? " " : "",
			 what);
}

/* Something the exporter should not have done. */
static void problem(struct conn *c, atomic_ulong *ctr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct conn *c, atomic_ulong *ctr, const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(ctr, 1);
	if (atomic_fetch_add(&problems_printed, 1) >= 20)
		return;
	pthread_mutex_lock(&out_lock);
	fprintf(stderr, "%s: connection %lu: ", prog, c->idx);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&out_lock);
}

/* ---- replies ---- */

static struct pend *pend_find(struct conn *c, u64 handle)
{
	for (unsigned int i = 0; i < c->npend; i++)
		if (c->pend[i].used && c->pend[i].handle == handle)
			return &c->pend[i];
	return NULL;
}

static unsigned int pend_count(const struct conn *c)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->npend; i++)
		n += c->pend[i].used;
	return n;
}

static void frame_done(struct conn *c)
{
	const struct dstor_hdr *h = &c->cur;
	struct dstor_hello_reply hr;
	struct pend *p;

	atomic_fetch_add(&st.frames_in, 1);
	switch (h->op) {
	case DSTOR_OP_HELLO_REPLY:
		if (c->hello_status >= 0 && !c->challenged) {
			problem(c, &st.wrong, "a second HELLO_REPLY");
			break;
		}
		c->hello_status = h->status;
		atomic_fetch_add(&st.hello_status[h->status], 1);
		if (h->status)
			break;
		if (dstor_hello_reply_decode(c->cap, &hr)) {
			problem(c, &st.malformed, "HELLO_REPLY payload does not decode");
			break;
		}
		if (hr.version > opt.version_max) {
			problem(c, &st.wrong, "HELLO_REPLY version above the HELLO's");
			break;
		}
		c->dev_size = hr.size;
		c->lbs = hr.logical_block_size;
		c->exp_flags = hr.flags;
		break;
	case DSTOR_OP_AUTH_CHALLENGE:
		c->challenged = 1;
		atomic_fetch_add(&st.challenges, 1);
		break;
	case DSTOR_OP_REPLY:
	case DSTOR_OP_PONG:
		c->replies++;
		if (h->op == DSTOR_OP_PONG)
			atomic_fetch_add(&st.pongs, 1);
		else
			atomic_fetch_add(&st.reply_status[h->status], 1);
		p = pend_find(c, h->handle);
		if (!p) {
			problem(c, &st.unknown_handle,
				"reply (op %u status %u) to unknown handle %#llx",
				h->op, h->status, (unsigned long long)h->handle);
			break;
		}
		p->used = 0;
		if ((p->op == DSTOR_OP_PING) != (h->op == DSTOR_OP_PONG)) {
			problem(c, &st.wrong, "op %u answered with op %u", p->op,
				h->op);
			break;
		}
		if (h->op == DSTOR_OP_PONG)
			break;
		if (p->want != ST_ANY && h->status != p->want)
			problem(c, &st.wrong,
				"op %u handle %#llx length %u: status %u, expected %u",
				p->op, (unsigned long long)h->handle, p->length,
				h->status, p->want);
		if (h->payload != (p->op == DSTOR_OP_READ && !h->status ?
				   p->length : 0))
			problem(c, &st.wrong,
				"op %u handle %#llx status %u: payload %u, length %u",
				p->op, (unsigned long long)h->handle, h->status,
				h->payload, p->length);
		if (h->length != p->length)
			problem(c, &st.wrong, "reply echoes length %u, sent %u",
				h->length, p->length);
		break;
	default:
		problem(c, &st.wrong, "the exporter sent op %u", h->op);
		break;
	}
}

/* Feed received bytes to the frame parser. */
static void parse(struct conn *c, const u8 *p, size_t n)
{
	atomic_fetch_add(&st.bytes_in, n);
	while (n && !c->desync) {
		if (c->hlen < DSTOR_HDR_LEN) {
			size_t k = DSTOR_HDR_LEN - c->hlen;

			if (k > n)
				k = n;
			memcpy(c->hdr + c->hlen, p, k);
			c->hlen += k;
			p += k;
			n -= k;
			if (c->hlen < DSTOR_HDR_LEN)
				break;
			if (dstor_hdr_decode(c->hdr, &c->cur)) {
				problem(c, &st.malformed,
					"undecodable frame header from the exporter (op %u status %u payload %u)",
					c->hdr[4], dstor_get16(c->hdr + 6),
					dstor_get32(c->hdr + 28));
				c->desync = 1;
				break;
			}
			c->skip = c->cur.payload;
			c->cap_len = 0;
			c->cap_want = c->cur.op == DSTOR_OP_HELLO_REPLY ?
				DSTOR_HELLO_REPLY_LEN :
				c->cur.op == DSTOR_OP_AUTH_CHALLENGE ?
				DSTOR_CHALLENGE_LEN : 0;
			if (c->cap_want > c->skip)
				c->cap_want = c->skip;
		} else {
			size_t k = c->skip < n ? (size_t)c->skip : n;

			if (c->cap_len < c->cap_want) {
				size_t m = c->cap_want - c->cap_len;

				if (m > k)
					m = k;
				memcpy(c->cap + c->cap_len, p, m);
				c->cap_len += m;
			}
			c->skip -= k;
			p += k;
			n -= k;
		}
		if (c->hlen == DSTOR_HDR_LEN && !c->skip) {
			frame_done(c);
			c->hlen = 0;
		}
	}
}

/* Read what is there (waiting up to @ms); 0, or -1 once the peer is gone. */
static int pump(struct conn *c, int ms)
{
	static __thread u8 buf[65536];
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t n;

	if (c->eof)
		return -1;
	if (poll(&pfd, 1, ms < 0 ? 0 : ms) <= 0)
		return 0;
	n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0) {
		parse(c, buf, (size_t)n);
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	c->eof = 1;
	if (n < 0) {
		c->err = errno;
		if (errno == ECONNRESET)
			atomic_fetch_add(&st.resets, 1);
	}
	return -1;
}

/* Read until @done says so, the peer closes, or @ms pass. */
static int wait_until(struct conn *c, int (*done)(struct conn *), int ms)
{
	int64_t end = now_ms() + ms;

	while (!done(c)) {
		int64_t left = end - now_ms();

		if (left <= 0 || pump(c, (int)left) < 0)
			return done(c);
	}
	return 1;
}

static int have_hello_reply(struct conn *c)
{
	return c->hello_status >= 0 || c->challenged;
}

static int all_replied(struct conn *c)
{
	return pend_count(c) == 0;
}

static int never(struct conn *c)
{
	(void)c;
	return 0;
}

/*
 * Read until every request is answered; @ms bounds the wait for the next
 * reply, not for all of them: an exporter starved of CPU that keeps
 * answering is slow, one that stops answering is wrong.
 */
static int wait_replies(struct conn *c, int ms)
{
	for (;;) {
		unsigned int before = pend_count(c);

		if (wait_until(c, all_replied, ms))
			return 1;
		if (c->eof || pend_count(c) == before)
			return 0;
	}
}

/*
 * Send all of @buf, reading replies meanwhile (unless @noread) so neither
 * side can stall the other. 0, or -1 if the connection broke or SEND_MS
 * passed.
 */
static int xsend_opt(struct conn *c, const void *buf, size_t len, int noread)
{
	const u8 *p = buf;
	int64_t end = now_ms() + SEND_MS;

	while (len) {
		struct pollfd pfd = {
			.fd = c->fd,
			.events = POLLOUT | (c->eof || noread ? 0 : POLLIN),
		};
		int64_t left = end - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) < 0)
			return -1;
		if (pfd.revents & POLLIN)
			pump(c, 0);
		if (!(pfd.revents & (POLLOUT | POLLERR | POLLHUP)))
			continue;
		n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			c->err = errno;
			return -1;
		}
		atomic_fetch_add(&st.bytes_out, (unsigned long)n);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int xsend(struct conn *c, const void *buf, size_t len)
{
	return xsend_opt(c, buf, len, 0);
}

/* ---- frames ---- */

static void mkhdr(u8 *b, u8 op, u8 flags, u64 handle, u64 offset, u32 length,
		  u32 payload)
{
	struct dstor_hdr h = {
		.op = op, .flags = flags, .handle = handle, .offset = offset,
		.length = length, .payload = payload,
	};

	dstor_hdr_encode(b, &h);
}

static int send_hdr(struct conn *c, u8 op, u8 flags, u64 handle, u64 offset,
		    u32 length, u32 payload)
{
	u8 b[DSTOR_HDR_LEN];

	mkhdr(b, op, flags, handle, offset, length, payload);
	atomic_fetch_add(&st.frames_out, 1);
	return xsend(c, b, DSTOR_HDR_LEN);
}

static void mkhello(u8 *b, struct rng *r, const char *name, u32 flags,
		    u8 ciphers, u64 session, u16 queue, u16 nr_queues)
{
	struct dstor_hello m = {
		.version_min = DSTOR_PROTO_VERSION_MIN,
		.version_max = (u16)opt.version_max,
		.flags = flags, .session = session, .queue = queue,
		.nr_queues = nr_queues, .ciphers = ciphers,
		.keepalive = (u16)opt.keepalive,
		.dead_after = (u16)opt.dead_after,
	};

	strncpy(m.name, name, sizeof(m.name) - 1);
	if (flags & DSTOR_HELLO_AUTH)
		rng_fill(r, m.nonce, sizeof(m.nonce));
	dstor_hello_encode(b, &m);
}

static int send_hello_payload(struct conn *c, const u8 *payload)
{
	u8 b[DSTOR_HDR_LEN + DSTOR_HELLO_LEN];

	mkhdr(b, DSTOR_OP_HELLO, 0, 0, 0, 0, DSTOR_HELLO_LEN);
	memcpy(b + DSTOR_HDR_LEN, payload, DSTOR_HELLO_LEN);
	atomic_fetch_add(&st.frames_out, 1);
	return xsend(c, b, sizeof(b));
}

/*
 * A valid HELLO for the export with @flags, then the reply within @ms.
 * 0 if the session is up.
 */
static int hello_as(struct conn *c, u64 session, u32 flags, int ms)
{
	u8 b[DSTOR_HELLO_LEN];

	mkhello(b, c->r, opt.export, flags, 0, session, 0, 1);
	if (send_hello_payload(c, b))
		return -1;
	if (!wait_until(c, have_hello_reply, ms) || c->hello_status) {
		note(c, c->hello_status > 0 ? "hello-refused" : "no-hello-reply");
		return -1;
	}
	if (!c->dev_size)
		c->dev_size = opt.size;
	if (!c->lbs)
		c->lbs = 512;
	return 0;
}

static int hello(struct conn *c, u64 session)
{
	return hello_as(c, session, 0, REPLY_MS);
}

/* Expect a reply to @handle. */
static void pend_add(struct conn *c, u64 handle, u8 op, u32 length, u16 want)
{
	struct pend *p = NULL;

	for (unsigned int i = 0; i < c->npend; i++)
		if (!c->pend[i].used) {
			p = &c->pend[i];
			break;
		}
	if (!p && c->npend < MAX_PEND)
		p = &c->pend[c->npend++];
	if (p)
		*p = (struct pend){ .handle = handle, .length = length,
				    .want = want, .op = op, .used = 1 };
}

/* Send a request whose reply must carry @want (or ST_ANY). */
static int request(struct conn *c, u8 op, u8 flags, u64 offset, u32 length,
		   u32 payload, u16 want)
{
	u64 handle = c->next_handle++;

	pend_add(c, handle, op, length, want);
	if (send_hdr(c, op, flags, handle, offset, length, payload))
		return -1;
	if (payload) {
		static const u8 zeros[65536];

		while (payload) {
			u32 k = payload < sizeof(zeros) ? payload : sizeof(zeros);

			if (xsend(c, zeros, k))
				return -1;
			payload -= k;
		}
	}
	return 0;
}

/* A random offset, aligned to the device's block, for @len bytes. */
static u64 rand_offset(struct conn *c, u32 len)
{
	u64 blocks;

	if (c->dev_size < (u64)len + c->lbs)
		return 0;
	blocks = (c->dev_size - len) / c->lbs + 1;
	return (rng_next(c->r) % blocks) * c->lbs;
}

/* ---- endings ---- */

enum { END_CLOSE, END_FIN_DRAIN, END_RST };

static void finish(struct conn *c, int how)
{
	if (how == END_RST) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	} else if (how == END_FIN_DRAIN) {
		shutdown(c->fd, SHUT_WR);
		wait_until(c, never, DRAIN_MS);
		if (c->eof)
			atomic_fetch_add(&st.closed_by_peer, 1);
		else
			atomic_fetch_add(&st.lingering, 1);
	}
	close(c->fd);
	c->fd = -1;
}

static int random_end(struct conn *c)
{
	unsigned int x = rng_below(c->r, 10);

	return x < 6 ? END_FIN_DRAIN : x < 8 ? END_CLOSE : END_RST;
}

/* ---- scenarios ---- */

static void sc_nothing(struct conn *c)
{
	if (rng_pct(c->r, 30))
		sleep_ms(rng_below(c->r, 100));
	finish(c, rng_pct(c->r, 50) ? END_CLOSE : END_RST);
}

static void sc_random(struct conn *c)
{
	u32 n = 1 + rng_below(c->r, rng_pct(c->r, 80) ? 256 : 8192);
	u8 *b = malloc(n);

	if (!b)
		abort();
	rng_fill(c->r, b, n);
	xsend(c, b, n);
	free(b);
	finish(c, random_end(c));
}

static void sc_trunc_hdr(struct conn *c)
{
	u8 b[DSTOR_HDR_LEN];

	mkhdr(b, DSTOR_OP_HELLO, 0, 0, 0, 0, DSTOR_HELLO_LEN);
	xsend(c, b, 1 + rng_below(c->r, DSTOR_HDR_LEN - 1));
	finish(c, random_end(c));
}

/* A header breaking one rule; also used inside sessions. */
static void bad_hdr(struct conn *c, u8 *b)
{
	static const u8 ops[] = { DSTOR_OP_HELLO, DSTOR_OP_READ, DSTOR_OP_WRITE,
				  DSTOR_OP_FLUSH, DSTOR_OP_DISCARD,
				  DSTOR_OP_WRITE_ZEROES, DSTOR_OP_PING };
	u8 op = ops[rng_below(c->r, sizeof(ops))];
	u32 len = op == DSTOR_OP_READ || op == DSTOR_OP_WRITE ? 4096 :
		  op == DSTOR_OP_DISCARD || op == DSTOR_OP_WRITE_ZEROES ? 1 << 20 : 0;
	u32 payload = op == DSTOR_OP_HELLO ? DSTOR_HELLO_LEN :
		      op == DSTOR_OP_WRITE ? len : 0;

	mkhdr(b, op, 0, rng_next(c->r), 0, len, payload);
	switch (rng_below(c->r, 9)) {
	case 0:
		note(c, "magic");
		b[rng_below(c->r, 4)] ^= (u8)(1 + rng_below(c->r, 255));
		break;
	case 1:
		note(c, "unknown-op");
		b[4] = rng_pct(c->r, 20) ? 0 : (u8)(__DSTOR_OP_MAX + rng_below(c->r, 256 - __DSTOR_OP_MAX));
		break;
	case 2:
		note(c, "flags");
		b[5] = (u8)(1 + rng_below(c->r, 255));
		if (op == DSTOR_OP_WRITE)
			b[5] |= 0x80;
		if (op == DSTOR_OP_WRITE_ZEROES)
			b[5] |= DSTOR_RQ_FUA;
		break;
	case 3:
		note(c, "status");
		dstor_put16(b + 6, (u16)(1 + rng_below(c->r, 0xffff)));
		break;
	case 4:
		note(c, "payload-past-max-io");
		dstor_put32(b + 24, DSTOR_MAX_IO + 512);
		dstor_put32(b + 28, DSTOR_MAX_IO + 512);
		b[4] = DSTOR_OP_WRITE;
		b[5] = 0;
		break;
	case 5:
		note(c, "huge-length");
		dstor_put32(b + 24, 0xffffffffU - rng_below(c->r, 4) * 512);
		break;
	case 6:
		note(c, "huge-payload");
		dstor_put32(b + 28, 0xffffffffU);
		break;
	case 7:
		note(c, "payload-mismatch");
		dstor_put32(b + 28, dstor_get32(b + 28) + 512);
		break;
	default:
		note(c, "misaligned");
		dstor_put64(b + 16, 1 + rng_below(c->r, 511));
		b[4] = rng_pct(c->r, 50) ? DSTOR_OP_READ : DSTOR_OP_DISCARD;
		dstor_put32(b + 24, 4096);
		dstor_put32(b + 28, 0);
		break;
	}
}

static void sc_bad_hdr(struct conn *c)
{
	u8 b[DSTOR_HDR_LEN + 128];

	bad_hdr(c, b);
	atomic_fetch_add(&st.frames_out, 1);
	/* Sometimes something after it, as if a payload followed. */
	if (rng_pct(c->r, 50)) {
		rng_fill(c->r, b + DSTOR_HDR_LEN, 128);
		xsend(c, b, sizeof(b));
	} else {
		xsend(c, b, DSTOR_HDR_LEN);
	}
	finish(c, random_end(c));
}

static void sc_not_hello(struct conn *c)
{
	static const u8 zeros[DSTOR_HELLO_REPLY_LEN];

	switch (rng_below(c->r, 4)) {
	case 0:
		note(c, "read");
		send_hdr(c, DSTOR_OP_READ, 0, 1, 0, 4096, 0);
		break;
	case 1:
		note(c, "ping");
		send_hdr(c, DSTOR_OP_PING, 0, 1, 0, 0, 0);
		break;
	case 2:
		note(c, "auth-response");
		send_hdr(c, DSTOR_OP_AUTH_RESPONSE, 0, 0, 0, 0, DSTOR_RESPONSE_LEN);
		xsend(c, zeros, DSTOR_RESPONSE_LEN);
		break;
	default:
		note(c, "hello-reply");
		send_hdr(c, DSTOR_OP_HELLO_REPLY, 0, 0, 0, 0, DSTOR_HELLO_REPLY_LEN);
		xsend(c, zeros, DSTOR_HELLO_REPLY_LEN);
		break;
	}
	finish(c, random_end(c));
}

static void sc_bad_hello(struct conn *c)
{
	u8 b[DSTOR_HELLO_LEN];

	mkhello(b, c->r, opt.export, 0, 0, rng_next(c->r), 0, 1);
	switch (rng_below(c->r, 17)) {
	case 0:
		note(c, "version-0");
		dstor_put16(b, 0);
		break;
	case 1:
		note(c, "version-min>max");
		dstor_put16(b, 3);
		dstor_put16(b + 2, 2);
		break;
	case 2:
		/* Well-formed but unknown: the exporter answers VERSION. */
		note(c, "version-future");
		dstor_put16(b, DSTOR_PROTO_VERSION + 1);
		dstor_put16(b + 2, (u16)(DSTOR_PROTO_VERSION + 1 +
					 rng_below(c->r, 100)));
		break;
	case 3:
		note(c, "flags");
		dstor_put32(b + 4, 1U << (2 + rng_below(c->r, 30)));
		break;
	case 4:
		note(c, "nr-queues-0");
		dstor_put16(b + 18, 0);
		break;
	case 5:
		note(c, "nr-queues-17");
		dstor_put16(b + 16, 0);
		dstor_put16(b + 18, DSTOR_MAX_QUEUES + 1 + rng_below(c->r, 1000));
		break;
	case 6:
		note(c, "queue>=nr");
		dstor_put16(b + 16, 4);
		dstor_put16(b + 18, 4);
		break;
	case 7:
		note(c, "reserved");
		b[21 + rng_below(c->r, 3)] = 1;
		break;
	case 8:
		note(c, "name-empty");
		memset(b + 24, 0, DSTOR_WIRE_NAME_LEN);
		break;
	case 9:
		note(c, "name-unterminated");
		memset(b + 24, 'a', DSTOR_WIRE_NAME_LEN);
		break;
	case 10:
		note(c, "name-garbage-after-nul");
		b[24 + DSTOR_WIRE_NAME_LEN - 1] = 'x';
		break;
	case 11:
		note(c, "ciphers-without-auth");
		b[20] = 1 << DSTOR_WIRE_AES_GCM;
		break;
	case 12:
		/* Version 2's timers: both or neither. */
		note(c, "one-timer");
		dstor_put16(b + 120 + 2 * rng_below(c->r, 2),
			    (u16)(1 + rng_below(c->r, 60)));
		break;
	case 13:
		note(c, "dead-after<=keepalive");
		dstor_put16(b + 120, (u16)(2 + rng_below(c->r, 60)));
		dstor_put16(b + 122, (u16)(dstor_get16(b + 120) -
					   rng_below(c->r, 2)));
		break;
	case 14:
		note(c, "dead-after>3600");
		dstor_put16(b + 120, (u16)(1 + rng_below(c->r, 60)));
		dstor_put16(b + 122, (u16)(DSTOR_MAX_TIMER + 1 +
					   rng_below(c->r, 1000)));
		break;
	case 15:
		note(c, "reserved-tail");
		b[124 + rng_below(c->r, 4)] = (u8)(1 + rng_below(c->r, 255));
		break;
	default: {
		/* Version 1's 120-byte HELLO: read, and answered VERSION. */
		u8 f[DSTOR_HDR_LEN + DSTOR_HELLO_V1_LEN];

		note(c, "v1-hello");
		dstor_put16(b, 1);
		dstor_put16(b + 2, (u16)(1 + rng_below(c->r, 2)));
		mkhdr(f, DSTOR_OP_HELLO, 0, 0, 0, 0, DSTOR_HELLO_V1_LEN);
		memcpy(f + DSTOR_HDR_LEN, b, DSTOR_HELLO_V1_LEN);
		atomic_fetch_add(&st.frames_out, 1);
		xsend(c, f, sizeof(f));
		if (wait_until(c, have_hello_reply, REPLY_MS) &&
		    c->hello_status != DSTOR_ST_VERSION)
			problem(c, &st.wrong,
				"version 1 HELLO: status %d, expected VERSION",
				c->hello_status);
		finish(c, random_end(c));
		return;
	}
	}
	send_hello_payload(c, b);
	wait_until(c, have_hello_reply, 300);
	finish(c, random_end(c));
}

static void sc_trunc_hello(struct conn *c)
{
	u8 b[DSTOR_HDR_LEN + DSTOR_HELLO_LEN];

	mkhdr(b, DSTOR_OP_HELLO, 0, 0, 0, 0, DSTOR_HELLO_LEN);
	mkhello(b + DSTOR_HDR_LEN, c->r, opt.export, 0, 0, rng_next(c->r), 0, 1);
	atomic_fetch_add(&st.frames_out, 1);
	xsend(c, b, DSTOR_HDR_LEN + rng_below(c->r, DSTOR_HELLO_LEN));
	finish(c, random_end(c));
}

static void sc_no_export(struct conn *c)
{
	u8 b[DSTOR_HELLO_LEN];
	char name[DSTOR_WIRE_NAME_LEN];

	snprintf(name, sizeof(name), "no-such-export-%08x",
		 (unsigned int)rng_next(c->r));
	mkhello(b, c->r, name, 0, 0, rng_next(c->r), 0, 1);
	send_hello_payload(c, b);
	if (wait_until(c, have_hello_reply, REPLY_MS) &&
	    c->hello_status != DSTOR_ST_NOEXPORT)
		problem(c, &st.wrong, "HELLO for export '%s': status %d, expected NOEXPORT",
			name, c->hello_status);
	finish(c, random_end(c));
}

static void sc_auth(struct conn *c)
{
	u8 b[DSTOR_HDR_LEN + DSTOR_RESPONSE_LEN + 64];
	u8 ciphers = (u8)(1 + rng_below(c->r, 3)) << 1;	/* bits 1, 2 */

	mkhello(b, c->r, opt.export, DSTOR_HELLO_AUTH, ciphers,
		rng_next(c->r), 0, 1);
	if (rng_pct(c->r, 10)) {
		note(c, "unknown-cipher");
		b[20] |= 0x80;
	}
	if (send_hello_payload(c, b))
		goto out;
	if (!wait_until(c, have_hello_reply, REPLY_MS))
		goto out;
	if (!c->challenged) {
		note(c, "refused");
		goto out;
	}
	/* A keyed export challenged us: answer wrongly. */
	switch (rng_below(c->r, 6)) {
	case 0:
		note(c, "garbage-proof");
		mkhdr(b, DSTOR_OP_AUTH_RESPONSE, 0, 0, 0, 0, DSTOR_RESPONSE_LEN);
		rng_fill(c->r, b + DSTOR_HDR_LEN, DSTOR_RESPONSE_LEN);
		atomic_fetch_add(&st.frames_out, 1);
		xsend(c, b, DSTOR_HDR_LEN + DSTOR_RESPONSE_LEN);
		break;
	case 1:
		note(c, "response-bad-length");
		mkhdr(b, DSTOR_OP_AUTH_RESPONSE, 0, 0, 0, 0, DSTOR_RESPONSE_LEN);
		dstor_put32(b + 28, DSTOR_RESPONSE_LEN + 64);
		rng_fill(c->r, b + DSTOR_HDR_LEN, DSTOR_RESPONSE_LEN + 64);
		atomic_fetch_add(&st.frames_out, 1);
		xsend(c, b, sizeof(b));
		break;
	case 2:
		note(c, "request-instead");
		send_hdr(c, DSTOR_OP_READ, 0, 1, 0, 4096, 0);
		break;
	case 3:
		note(c, "half-response");
		mkhdr(b, DSTOR_OP_AUTH_RESPONSE, 0, 0, 0, 0, DSTOR_RESPONSE_LEN);
		atomic_fetch_add(&st.frames_out, 1);
		xsend(c, b, DSTOR_HDR_LEN + rng_below(c->r, DSTOR_RESPONSE_LEN));
		break;
	case 4:
		note(c, "record-instead");
		dstor_put32(b, DSTOR_REC_MIN + rng_below(c->r, 64));
		rng_fill(c->r, b + 4, sizeof(b) - 4);
		xsend(c, b, sizeof(b));
		break;
	default:
		note(c, "silence");
		break;
	}
out:
	finish(c, random_end(c));
}

/* Requests that each get exactly one REPLY (or PONG). */
static int session_request(struct conn *c)
{
	u64 size = c->dev_size;
	u32 len;

	switch (rng_below(c->r, 12)) {
	case 0:
	case 1:
		len = c->lbs * (1 + rng_below(c->r, rng_pct(c->r, 80) ? 16 :
					      DSTOR_MAX_IO / c->lbs));
		if (len > size)
			len = c->lbs;
		note(c, "read");
		return request(c, DSTOR_OP_READ, 0, rand_offset(c, len), len, 0,
			       DSTOR_ST_OK);
	case 2:
		note(c, "read-last");
		return request(c, DSTOR_OP_READ, 0, size - c->lbs, c->lbs, 0,
			       DSTOR_ST_OK);
	case 3:
		note(c, "read-past-end");
		return request(c, DSTOR_OP_READ, 0,
			       rng_pct(c->r, 50) ? size : size - 512, 1024, 0,
			       DSTOR_ST_INVAL);
	case 4:
		/* offset + length wraps 2^64 */
		note(c, "read-wraps");
		return request(c, DSTOR_OP_READ, 0,
			       0ULL - 512 * (1 + rng_below(c->r, 8)), 8192, 0,
			       DSTOR_ST_INVAL);
	case 5:
		note(c, "read-far");
		return request(c, DSTOR_OP_READ, 0,
			       (rng_next(c->r) | (1ULL << 62)) & ~511ULL, 4096, 0,
			       DSTOR_ST_INVAL);
	case 6:
		/*
		 * Refused before the payload is used: nothing is written. At
		 * least 1024 bytes from size - 512: always past the end.
		 */
		note(c, "write-past-end");
		len = 512 * (2 + rng_below(c->r, 15));
		return request(c, DSTOR_OP_WRITE,
			       rng_pct(c->r, 30) ? DSTOR_RQ_FUA : 0,
			       size - 512 + 512 * rng_below(c->r, 4), len, len,
			       DSTOR_ST_INVAL);
	case 7:
		note(c, "discard-past-end");
		return request(c, DSTOR_OP_DISCARD, 0, size - 512,
			       rng_pct(c->r, 50) ? 1024 : DSTOR_MAX_RANGE, 0,
			       DSTOR_ST_INVAL);
	case 8:
		note(c, "write-zeroes-past-end");
		return request(c, DSTOR_OP_WRITE_ZEROES,
			       rng_pct(c->r, 50) ? DSTOR_RQ_NOUNMAP : 0,
			       0ULL - 4096, 8192, 0, DSTOR_ST_INVAL);
	case 9:
		note(c, "flush");
		return request(c, DSTOR_OP_FLUSH, 0, 0, 0, 0, ST_ANY);
	default:
		note(c, "ping");
		return request(c, DSTOR_OP_PING, 0, 0, 0, 0, ST_ANY);
	}
}

/* Something that ends the connection; returns how to close. */
static int session_breaker(struct conn *c)
{
	u8 b[DSTOR_HDR_LEN + DSTOR_HELLO_LEN];
	u64 size = c->dev_size;
	u32 len;

	switch (rng_below(c->r, 8)) {
	case 0:
	case 1:
		/* A write in range whose payload never fully arrives. */
		len = 4096 * (1 + rng_below(c->r, 128));
		note(c, "short-write");
		if (len > size)
			len = c->lbs;
		send_hdr(c, DSTOR_OP_WRITE, 0, c->next_handle++,
			 rand_offset(c, len), len, len);
		{
			u32 part = rng_below(c->r, len);
			u8 *junk = calloc(1, part ? part : 1);

			if (!junk)
				abort();
			xsend(c, junk, part);
			free(junk);
		}
		return rng_pct(c->r, 50) ? END_CLOSE : END_RST;
	case 2:
	case 3:
		bad_hdr(c, b);
		/* Should one still decode, it may get a reply. */
		if (!dstor_hdr_decode(b, &(struct dstor_hdr){0})) {
			note(c, "(decodes)");
			pend_add(c, dstor_get64(b + 8), b[4], dstor_get32(b + 24),
				 ST_ANY);
		}
		atomic_fetch_add(&st.frames_out, 1);
		xsend(c, b, DSTOR_HDR_LEN);
		return END_FIN_DRAIN;
	case 4:
		note(c, "second-hello");
		mkhdr(b, DSTOR_OP_HELLO, 0, 0, 0, 0, DSTOR_HELLO_LEN);
		mkhello(b + DSTOR_HDR_LEN, c->r, opt.export, 0, 0, 1, 0, 1);
		atomic_fetch_add(&st.frames_out, 1);
		xsend(c, b, sizeof(b));
		return END_FIN_DRAIN;
	case 5:
		note(c, "reply-op");
		send_hdr(c, rng_pct(c->r, 50) ? DSTOR_OP_REPLY : DSTOR_OP_PONG, 0,
			 1, 0, 0, 0);
		return END_FIN_DRAIN;
	case 6:
		note(c, "len-past-max-io");
		send_hdr(c, DSTOR_OP_READ, 0, c->next_handle++, 0,
			 DSTOR_MAX_IO + 512 * (1 + rng_below(c->r, 8)), 0);
		return END_FIN_DRAIN;
	default:
		note(c, "garbage");
		rng_fill(c->r, b, sizeof(b));
		b[0] = 'X';
		xsend(c, b, sizeof(b));
		return END_FIN_DRAIN;
	}
}

static void sc_session(struct conn *c)
{
	unsigned int n = rng_below(c->r, 24);
	int how;

	if (hello(c, rng_next(c->r)))
		goto out;
	for (unsigned int i = 0; i < n && !c->eof; i++) {
		if (session_request(c))
			break;
		/* Mostly pipelined; now and then wait for the replies. */
		if (rng_pct(c->r, 20))
			wait_until(c, all_replied, REPLY_MS);
	}
	if (!wait_replies(c, VERDICT_MS))
		problem(c, &st.missing, "%u request(s) unanswered, none for %d ms (%s)",
			pend_count(c), VERDICT_MS, c->desc);
	if (rng_pct(c->r, 70)) {
		how = session_breaker(c);
		finish(c, how);
		return;
	}
out:
	finish(c, random_end(c));
}

static void sc_flood(struct conn *c)
{
	int small = 4096;
	unsigned int sent = 0;

	/* A small receive buffer: the exporter's replies back up at once. */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (hello(c, rng_next(c->r)))
		goto out;
	for (unsigned int i = 0; i < 300; i++) {
		u8 b[DSTOR_HDR_LEN];
		struct pend *p;

		if (c->npend >= MAX_PEND)
			break;
		p = &c->pend[c->npend++];
		*p = (struct pend){ .handle = c->next_handle++, .length = 4096,
				    .want = DSTOR_ST_OK, .op = DSTOR_OP_READ,
				    .used = 1 };
		mkhdr(b, DSTOR_OP_READ, 0, p->handle, rand_offset(c, 4096), 4096, 0);
		atomic_fetch_add(&st.frames_out, 1);
		if (xsend_opt(c, b, sizeof(b), 1)) {
			p->used = 0;
			break;
		}
		sent++;
	}
	if (rng_pct(c->r, 50)) {
		note(c, "then-drain");
		if (!wait_replies(c, VERDICT_MS))
			problem(c, &st.missing,
				"flood: %u of %u reads got no reply (none for %d ms)",
				pend_count(c), sent, VERDICT_MS);
		finish(c, END_FIN_DRAIN);
		return;
	}
	note(c, "then-reset");
	finish(c, END_RST);
	return;
out:
	finish(c, END_CLOSE);
}

static int connect_to(void);

static void sc_supersede(struct conn *c)
{
	u64 session = rng_next(c->r);
	struct conn *b;

	if (hello(c, session))
		goto out;
	for (unsigned int i = 0; i < 8; i++)
		if (request(c, DSTOR_OP_READ, 0, rand_offset(c, 65536), 65536, 0,
			    DSTOR_ST_OK))
			break;
	b = calloc(1, sizeof(*b));
	if (!b)
		abort();
	b->idx = c->idx;
	b->r = c->r;
	b->hello_status = -1;
	b->next_handle = 1;
	b->fd = connect_to();
	if (b->fd < 0) {
		free(b);
		goto out;
	}
	/* Same session and queue: the exporter must drop the first. */
	if (!hello(b, session)) {
		wait_until(c, never, VERDICT_MS);
		if (c->eof) {
			atomic_fetch_add(&st.superseded, 1);
		} else {
			problem(c, &st.not_superseded,
				"a second session with the same id did not end the first");
		}
		request(b, DSTOR_OP_READ, 0, 0, 4096, 0, DSTOR_ST_OK);
		if (!wait_until(b, all_replied, VERDICT_MS))
			problem(c, &st.missing, "no reply on the superseding session");
	}
	finish(b, random_end(b));
	free(b);
out:
	finish(c, END_CLOSE);
}

/* ---- connections ---- */

static int connect_to(void)
{
	struct timeval tv = { .tv_sec = 2 };
	struct pollfd pfd;
	int fd, err = 0, one = 1;
	socklen_t elen = sizeof(err);

	fd = socket(opt.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Backstops: no blocking call below may wait forever. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&opt.addr, opt.alen) &&
	    errno != EINPROGRESS)
		goto fail;
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, CONNECT_MS) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) || err)
		goto fail;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
fail:
	close(fd);
	return -1;
}

static enum scenario pick(struct rng *r)
{
	unsigned int total = 0, x;

	for (int i = 0; i < NR_SCENARIOS; i++)
		total += sc_weight[i];
	x = rng_below(r, total);
	for (int i = 0; i < NR_SCENARIOS; i++) {
		if (x < sc_weight[i])
			return (enum scenario)i;
		x -= sc_weight[i];
	}
	return SC_NOTHING;
}

static void run_one(unsigned long idx)
{
	struct rng r = rng_for(opt.seed, idx);
	enum scenario sc = pick(&r);
	struct conn *c = calloc(1, sizeof(*c));
	int64_t t0 = now_ms();

	if (!c)
		abort();
	c->idx = idx;
	c->r = &r;
	c->hello_status = -1;
	c->next_handle = 1 + (rng_next(&r) & 0xffff0000ULL);
	atomic_fetch_add(&st.scenario[sc], 1);
	c->fd = connect_to();
	if (c->fd < 0) {
		atomic_fetch_add(&st.connect_fail, 1);
		free(c);
		return;
	}
	atomic_fetch_add(&st.made, 1);

	switch (sc) {
	case SC_NOTHING: sc_nothing(c); break;
	case SC_RANDOM: sc_random(c); break;
	case SC_TRUNC_HDR: sc_trunc_hdr(c); break;
	case SC_BAD_HDR: sc_bad_hdr(c); break;
	case SC_NOT_HELLO: sc_not_hello(c); break;
	case SC_BAD_HELLO: sc_bad_hello(c); break;
	case SC_TRUNC_HELLO: sc_trunc_hello(c); break;
	case SC_NO_EXPORT: sc_no_export(c); break;
	case SC_AUTH: sc_auth(c); break;
	case SC_SESSION: sc_session(c); break;
	case SC_FLOOD: sc_flood(c); break;
	case SC_SUPERSEDE: sc_supersede(c); break;
	default: break;
	}
	if (c->fd >= 0)
		close(c->fd);
	if (opt.verbose) {
		pthread_mutex_lock(&out_lock);
		printf("conn %lu: %s: %s%s(%lld ms, %u replies%s%s)\n", idx,
		       sc_names[sc], c->desc, *c->desc ? " " : "",
		       (long long)(now_ms() - t0), c->replies,
		       c->eof ? ", closed by peer" : "",
		       c->err ? ", socket error" : "");
		pthread_mutex_unlock(&out_lock);
	}
	if (now_ms() - t0 > CONN_MS)
		warnx("connection %lu (%s) took %lld ms", idx, sc_names[sc],
		      (long long)(now_ms() - t0));
	free(c);
}

static void *worker(void *arg)
{
	unsigned long end = *(unsigned long *)arg;

	for (;;) {
		unsigned long i = atomic_fetch_add(&next_idx, 1);

		if (i >= end)
			break;
		run_one(i);
	}
	return NULL;
}

static void run_phase(unsigned long from, unsigned long to, unsigned long n)
{
	pthread_t *t = calloc(n, sizeof(*t));

	if (!t)
		abort();
	atomic_store(&next_idx, from);
	for (unsigned long i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, &to))
			die("pthread_create failed");
	for (unsigned long i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	free(t);
}

/* ---- deterministic modes ---- */

static const char *st_name(int status)
{
	return status >= 0 && status < __DSTOR_ST_MAX ? st_names[status] :
	       "no reply";
}

static int parse_status(const char *s)
{
	for (int i = 0; i < __DSTOR_ST_MAX; i++)
		if (!strcmp(s, st_names[i]))
			return i;
	die("--expect: '%s' is not a status (ok, rofs, inval, ...)", s);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static struct conn *mode_conn(struct rng *r, unsigned long idx)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		abort();
	c->idx = idx;
	c->r = r;
	c->hello_status = -1;
	c->next_handle = 1;
	c->fd = -1;
	return c;
}

static void print_statuses(const char *mode, const unsigned long *n)
{
	printf("%s: hello statuses:", mode);
	for (int i = 0; i < __DSTOR_ST_MAX; i++)
		if (n[i])
			printf(" %s=%lu", st_names[i], n[i]);
	printf("\n");
}

/*
 * --mode silent / hold: N connections (C at a time in their handshake)
 * that each complete a valid HELLO and then send nothing at all, keeping
 * the socket open and watching it. silent waits until the exporter has
 * closed every one (or --bound passed since its HELLO_REPLY); hold keeps
 * them --hold seconds and closes them itself.
 */
struct held {
	struct conn *c;
	int64_t t_sent;		/* just before the HELLO was sent */
	int64_t t_reply;	/* the HELLO_REPLY read */
	int64_t t_end;		/* closed by the exporter, or given up */
	char how;		/* 0 open, 'F' EOF, 'R' reset, 'T' past the bound */
	unsigned long stray;	/* bytes the exporter sent after the reply */
};

static struct {
	pthread_mutex_t lock;
	struct held *h;
	unsigned long nh;
	unsigned long connect_fail, no_reply;
	unsigned long status[__DSTOR_ST_MAX];
	atomic_ulong next;
	atomic_uint workers_left;
} ms = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *held_worker(void *arg)
{
	(void)arg;
	for (;;) {
		unsigned long i = atomic_fetch_add(&ms.next, 1);
		struct rng r = rng_for(opt.seed, i);
		struct conn *c;
		int64_t t_sent;
		int ok;

		if (i >= opt.conns)
			break;
		c = mode_conn(&r, i);
		c->fd = connect_to();
		if (c->fd < 0) {
			pthread_mutex_lock(&ms.lock);
			ms.connect_fail++;
			pthread_mutex_unlock(&ms.lock);
			free(c);
			continue;
		}
		t_sent = now_ms();
		ok = !hello_as(c, rng_next(&r),
			       opt.read_only ? DSTOR_HELLO_READ_ONLY : 0,
			       MODE_REPLY_MS);
		pthread_mutex_lock(&ms.lock);
		if (c->hello_status >= 0)
			ms.status[c->hello_status]++;
		else
			ms.no_reply++;
		if (ok) {
			ms.h[ms.nh++] = (struct held){ .c = c, .t_sent = t_sent,
						       .t_reply = now_ms() };
			c = NULL;
		}
		pthread_mutex_unlock(&ms.lock);
		if (c) {
			close(c->fd);
			free(c);
		}
	}
	atomic_fetch_sub(&ms.workers_left, 1);
	return NULL;
}

/* Look at every open session once (waiting up to @wait_ms for news). */
static unsigned long held_watch(struct pollfd *pfd, unsigned long *map,
				int wait_ms)
{
	static u8 buf[65536];
	unsigned long n = 0, open = 0;
	int64_t now;

	pthread_mutex_lock(&ms.lock);
	for (unsigned long i = 0; i < ms.nh; i++) {
		if (ms.h[i].how)
			continue;
		pfd[n] = (struct pollfd){ .fd = ms.h[i].c->fd,
					  .events = POLLIN | POLLRDHUP };
		map[n++] = i;
	}
	pthread_mutex_unlock(&ms.lock);
	if (poll(pfd, n, wait_ms) < 0 && errno != EINTR)
		die("poll: %s", strerror(errno));
	now = now_ms();
	pthread_mutex_lock(&ms.lock);
	for (unsigned long k = 0; k < n; k++) {
		struct held *h = &ms.h[map[k]];
		ssize_t got;

		if (pfd[k].revents) {
			got = recv(h->c->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (got > 0) {
				h->stray += (unsigned long)got;
			} else if (got == 0) {
				h->how = 'F';
				h->t_end = now;
			} else if (errno != EAGAIN && errno != EINTR) {
				h->how = 'R';
				h->t_end = now;
				h->c->err = errno;
			}
		}
		if (!h->how && opt.mode == MODE_SILENT &&
		    now - h->t_reply > opt.bound_ms) {
			h->how = 'T';
			h->t_end = now;
		}
		open += !h->how;
	}
	pthread_mutex_unlock(&ms.lock);
	return open;
}

static int mode_held(void)
{
	const char *name = opt.mode == MODE_SILENT ? "silent" : "hold";
	unsigned long nt = opt.concurrency < opt.conns ? opt.concurrency :
			   opt.conns;
	struct pollfd *pfd = calloc(opt.conns + 1, sizeof(*pfd));
	unsigned long *map = calloc(opt.conns + 1, sizeof(*map));
	pthread_t *t = calloc(nt ? nt : 1, sizeof(*t));
	unsigned long closed = 0, eof = 0, rst = 0, past = 0, early = 0;
	unsigned long stray = 0, total;
	unsigned int announced = opt.keepalive ? opt.keepalive + opt.dead_after :
				 DSTOR_DEFAULT_KEEPALIVE + DSTOR_DEFAULT_DEAD_AFTER;
	int64_t *secs, t_setup = 0;
	int bad = 0;

	ms.h = calloc(opt.conns + 1, sizeof(*ms.h));
	secs = calloc(opt.conns + 1, sizeof(*secs));
	if (!pfd || !map || !t || !ms.h || !secs)
		abort();
	atomic_store(&ms.workers_left, (unsigned int)nt);
	for (unsigned long i = 0; i < nt; i++)
		if (pthread_create(&t[i], NULL, held_worker, NULL))
			die("pthread_create failed");
	for (;;) {
		/* Read before the look: a session set up meanwhile is seen. */
		int setting_up = atomic_load(&ms.workers_left) > 0;
		unsigned long open = held_watch(pfd, map, 50);

		if (setting_up)
			continue;
		if (!t_setup) {
			t_setup = now_ms();
			printf("%s: %lu sessions up, the last %lld ms after the first HELLO\n",
			       name, ms.nh, ms.nh ? (long long)(ms.h[ms.nh - 1].t_reply -
						     ms.h[0].t_sent) : 0LL);
			fflush(stdout);
		}
		if (opt.mode == MODE_SILENT && !open)
			break;
		if (opt.mode == MODE_HOLD && now_ms() - t_setup >= opt.hold_ms)
			break;
	}
	for (unsigned long i = 0; i < nt; i++)
		pthread_join(t[i], NULL);

	for (unsigned long i = 0; i < ms.nh; i++) {
		struct held *h = &ms.h[i];

		stray += h->stray;
		if (h->how == 'F' || h->how == 'R') {
			secs[closed++] = h->t_end - h->t_reply;
			eof += h->how == 'F';
			rst += h->how == 'R';
			/* Never before the announced timers from our HELLO. */
			if (h->t_end - h->t_sent < announced * 1000LL - 50)
				early++;
		}
		past += h->how == 'T';
		if (opt.verbose || opt.mode == MODE_SILENT)
			printf("conn %lu: %s %lld ms after its HELLO_REPLY (hello answered in %lld ms)%s\n",
			       h->c->idx,
			       h->how == 'F' ? "closed (EOF)" :
			       h->how == 'R' ? "closed (reset)" :
			       h->how == 'T' ? "STILL OPEN" : "open",
			       (long long)((h->how ? h->t_end : now_ms()) - h->t_reply),
			       (long long)(h->t_reply - h->t_sent),
			       h->stray ? " (the exporter sent data)" : "");
		close(h->c->fd);
		free(h->c);
	}
	total = opt.conns;
	print_statuses(name, ms.status);
	printf("%s: %lu connections: %lu sessions, %lu refused, %lu without a hello reply, %lu failed to connect\n",
	       name, total, ms.nh, total - ms.nh - ms.no_reply - ms.connect_fail,
	       ms.no_reply, ms.connect_fail);
	if (opt.mode == MODE_SILENT) {
		qsort(secs, closed, sizeof(*secs), cmp_i64);
		printf("%s: closed by the exporter %lu of %lu (EOF %lu, reset %lu); still open %u s after the HELLO_REPLY: %lu\n",
		       name, closed, ms.nh, eof, rst, opt.bound_ms / 1000, past);
		if (closed)
			printf("%s: seconds from the HELLO_REPLY to the close: min %.3f median %.3f max %.3f (announced %u)\n",
			       name, secs[0] / 1000.0, secs[closed / 2] / 1000.0,
			       secs[closed - 1] / 1000.0, announced);
		printf("%s: closed sooner than the announced %u s after the HELLO: %lu; bytes the exporter sent after its replies: %lu\n",
		       name, announced, early, stray);
		bad = past || early || stray || ms.nh != total;
	} else {
		printf("%s: closed by the exporter while held: %lu\n", name,
		       eof + rst);
		bad = ms.no_reply || ms.connect_fail ||
		      (opt.expect_ok >= 0 &&
		       ms.status[DSTOR_ST_OK] != (unsigned long)opt.expect_ok);
	}
	/* Every HELLO_REPLY must decode, at a version the HELLO offered. */
	if (atomic_load(&st.malformed) || atomic_load(&st.wrong)) {
		printf("%s: HELLO_REPLYs malformed %lu, wrong %lu\n", name,
		       atomic_load(&st.malformed), atomic_load(&st.wrong));
		bad = 1;
	}
	free(pfd);
	free(map);
	free(t);
	free(secs);
	free(ms.h);
	return bad ? 1 : 0;
}

/*
 * --mode no-read: a session that pipelines READs and never reads a reply,
 * while it keeps sending PINGs (so the exporter hears from it and the
 * only thing wrong is that it does not read). The exporter's sends stall;
 * it must close the session once they have been stalled for the announced
 * timers. A PING after the close draws a reset, which is how we see it.
 */
static int mode_no_read(void)
{
	struct rng r = rng_for(opt.seed, 0);
	struct conn *c = mode_conn(&r, 0);
	int64_t t_reply, t_grow, t_end = 0, next_ping, t_reads;
	unsigned int announced = opt.keepalive ? opt.keepalive + opt.dead_after :
				 DSTOR_DEFAULT_KEEPALIVE + DSTOR_DEFAULT_DEAD_AFTER;
	unsigned long pings = 0, ping_blocked = 0;
	u64 span, off;
	int q, q_max = 0, err = 0, bad;
	const char *how = NULL;

	c->fd = connect_to();
	if (c->fd < 0)
		die("cannot connect to %s", fmt_addr(&opt.addr));
	if (hello_as(c, rng_next(&r), opt.read_only ? DSTOR_HELLO_READ_ONLY : 0,
		     MODE_REPLY_MS))
		die("no session: HELLO_REPLY status %s", st_name(c->hello_status));
	t_reply = now_ms();
	if (c->dev_size < opt.read_size)
		die("the export (%llu bytes) is smaller than --read-size",
		    (unsigned long long)c->dev_size);
	span = c->dev_size / opt.read_size * opt.read_size;
	for (unsigned int i = 0; i < opt.reads; i++) {
		u8 b[DSTOR_HDR_LEN];

		off = (u64)i * opt.read_size % span;
		mkhdr(b, DSTOR_OP_READ, 0, c->next_handle++, off, opt.read_size, 0);
		if (xsend_opt(c, b, sizeof(b), 1))
			die("sending READ %u: %s", i, strerror(c->err ? c->err : ETIMEDOUT));
	}
	t_reads = t_grow = now_ms();
	printf("no-read: %u READs of %u bytes sent %lld ms after the HELLO_REPLY; reading nothing, a PING every %u ms\n",
	       opt.reads, opt.read_size, (long long)(t_reads - t_reply),
	       opt.ping_ms);
	fflush(stdout);
	next_ping = t_reads + opt.ping_ms;
	for (;;) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLRDHUP };
		int64_t now = now_ms();
		int wait;

		if (!ioctl(c->fd, FIONREAD, &q) && q > q_max) {
			q_max = q;
			t_grow = now;
		}
		if (now >= next_ping) {
			u8 b[DSTOR_HDR_LEN];
			ssize_t n;

			mkhdr(b, DSTOR_OP_PING, 0, c->next_handle++, 0, 0, 0);
			n = send(c->fd, b, sizeof(b), MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n == (ssize_t)sizeof(b)) {
				pings++;
			} else if (n < 0 && errno == EAGAIN) {
				ping_blocked++;
			} else if (n < 0) {
				err = errno;
				how = "a PING failed";
				t_end = now;
				break;
			} else {
				die("a PING went out in part (%zd bytes)", n);
			}
			next_ping += opt.ping_ms;
		}
		if (now - t_grow > opt.bound_ms)
			break;
		wait = (int)(next_ping - now);
		if (wait > 50)
			wait = 50;
		if (wait < 0)
			wait = 0;
		if (poll(&pfd, 1, wait) > 0 &&
		    (pfd.revents & (POLLERR | POLLHUP | POLLRDHUP))) {
			socklen_t len = sizeof(err);

			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
			how = pfd.revents & POLLERR ? "reset" : "closed";
			t_end = now_ms();
			break;
		}
	}
	printf("no-read: the replies stopped coming %lld ms after the HELLO_REPLY, %d bytes waiting in our receive queue\n",
	       (long long)(t_grow - t_reply), q_max);
	printf("no-read: %lu PINGs sent, %lu found our send buffer full\n",
	       pings, ping_blocked);
	if (how) {
		printf("no-read: %s by the exporter (%s) %.3f s after the replies stopped coming, %.3f s after the HELLO_REPLY (announced %u)\n",
		       how, err ? strerror(err) : "no error",
		       (t_end - t_grow) / 1000.0, (t_end - t_reply) / 1000.0,
		       announced);
	} else {
		printf("no-read: STILL OPEN %.3f s after the replies stopped coming\n",
		       (now_ms() - t_grow) / 1000.0);
	}
	/* Closed for not reading, not before the timers (with our slack). */
	bad = !how || t_end - t_grow < announced * 1000LL - 500;
	if (how && bad)
		printf("no-read: closed sooner than the announced %u s\n",
		       announced);
	close(c->fd);
	free(c);
	return bad ? 1 : 0;
}

/* ---- --mode write: one request at a time, replies read in order ---- */

static int recv_exact(struct conn *c, void *buf, size_t len, int ms)
{
	u8 *p = buf;
	int64_t end = now_ms() + ms;

	while (len) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int64_t left = end - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		n = recv(c->fd, p, len, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return -1;
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
	}
	return 0;
}

/*
 * Send one request (with @data as a WRITE's payload) and read its reply
 * (a READ's data into @data). The reply's status, or -1.
 */
static int one_request(struct conn *c, u8 op, u64 offset, u32 length,
		       u8 *data)
{
	u8 b[DSTOR_HDR_LEN];
	struct dstor_hdr h;
	u64 handle = c->next_handle++;

	mkhdr(b, op, 0, handle, offset, length,
	      op == DSTOR_OP_WRITE ? length : 0);
	if (xsend_opt(c, b, sizeof(b), 1) ||
	    (op == DSTOR_OP_WRITE && xsend_opt(c, data, length, 1)))
		return -1;
	if (recv_exact(c, b, sizeof(b), MODE_REPLY_MS) ||
	    dstor_hdr_decode(b, &h)) {
		warnx("no reply, or one that does not decode");
		return -1;
	}
	if (h.op != DSTOR_OP_REPLY || h.handle != handle || h.length != length ||
	    h.payload != (op == DSTOR_OP_READ && !h.status ? length : 0)) {
		warnx("wrong reply: op %u handle %llu length %u payload %u",
		      h.op, (unsigned long long)h.handle, h.length, h.payload);
		return -1;
	}
	if (h.payload && recv_exact(c, data, h.payload, MODE_REPLY_MS))
		return -1;
	return h.status;
}

/*
 * A WRITE of known data (then, when it must be refused, WRITE_ZEROES and
 * DISCARD of the same range), each answered with --expect; then the range
 * read back.
 */
static int mode_write(void)
{
	struct rng r = rng_for(opt.seed, 0), pr = rng_for(opt.seed, 1);
	struct conn *c = mode_conn(&r, 0);
	u8 *data = malloc(opt.length), *back = malloc(opt.length);
	static const u8 ops[] = { DSTOR_OP_WRITE, DSTOR_OP_WRITE_ZEROES,
				  DSTOR_OP_DISCARD };
	static const char *const op_names[] = { "WRITE", "WRITE_ZEROES",
						"DISCARD" };
	int bad = 0, st, same;

	if (!data || !back)
		abort();
	rng_fill(&pr, data, opt.length);
	if (opt.pattern_out) {
		FILE *f = fopen(opt.pattern_out, "w");

		if (!f || fwrite(data, 1, opt.length, f) != opt.length ||
		    fclose(f))
			die("--pattern-out %s: %s", opt.pattern_out, strerror(errno));
	}
	c->fd = connect_to();
	if (c->fd < 0)
		die("cannot connect to %s", fmt_addr(&opt.addr));
	if (hello_as(c, rng_next(&r), opt.read_only ? DSTOR_HELLO_READ_ONLY : 0,
		     MODE_REPLY_MS))
		die("no session: HELLO_REPLY status %s", st_name(c->hello_status));
	printf("write: session up; we asked for %s, the exporter says %s\n",
	       opt.read_only ? "read-only" : "read-write",
	       c->exp_flags & DSTOR_EXP_READ_ONLY ? "read-only" : "read-write");
	if (opt.offset + opt.length > c->dev_size)
		die("--offset + --length past the export's %llu bytes",
		    (unsigned long long)c->dev_size);
	for (unsigned int i = 0; i < sizeof(ops); i++) {
		/* Zeroes and discards only where they must be refused. */
		if (i && opt.expect == DSTOR_ST_OK)
			break;
		st = one_request(c, ops[i], opt.offset, opt.length, data);
		printf("write: %s of %u bytes at %llu: status %s (expected %s)\n",
		       op_names[i], opt.length, (unsigned long long)opt.offset,
		       st_name(st), st_name(opt.expect));
		bad |= st != opt.expect;
		if (st < 0)
			goto out;
	}
	st = one_request(c, DSTOR_OP_READ, opt.offset, opt.length, back);
	same = st == DSTOR_ST_OK && !memcmp(back, data, opt.length);
	printf("write: READ back: status %s; the range %s what we wrote\n",
	       st_name(st), same ? "holds" : "does not hold");
	bad |= st != DSTOR_ST_OK || same != (opt.expect == DSTOR_ST_OK);
out:
	close(c->fd);
	free(c);
	free(data);
	free(back);
	return bad ? 1 : 0;
}

static void print_status(const char *what, atomic_ulong *a)
{
	printf("  %s:", what);
	for (int i = 0; i < __DSTOR_ST_MAX; i++)
		if (atomic_load(&a[i]))
			printf(" %s %lu", st_names[i], atomic_load(&a[i]));
	printf("\n");
}

/* Long options without a short one. */
enum {
	O_KEEPALIVE = 256, O_DEAD_AFTER, O_READ_ONLY, O_BOUND, O_READS,
	O_READ_SIZE, O_PING_MS, O_OFFSET, O_LENGTH, O_EXPECT, O_PATTERN_OUT,
	O_HOLD, O_EXPECT_OK, O_VERSION_MAX,
};

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: %s --connect ADDR:PORT --export NAME [--connections N]\n"
		"       [--seed S] [--concurrency C] [--start K] [--size BYTES]\n"
		"       [--strict] [--verbose]\n"
		"       [--mode random|silent|no-read|write|hold]\n"
		"       [--keepalive K --dead-after D] [--read-only] [--version-max V]\n"
		"       silent:  [--connections N] [--concurrency C] [--bound SECS]\n"
		"       no-read: [--reads N] [--read-size BYTES] [--ping-ms MS] [--bound SECS]\n"
		"       write:   [--offset BYTES] [--length BYTES] [--expect STATUS]\n"
		"                [--pattern-out FILE]\n"
		"       hold:    [--connections N] [--concurrency C] [--hold SECS]\n"
		"                [--expect-ok N]\n", prog);
	exit(rc);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "export", required_argument, NULL, 'e' },
		{ "connections", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "concurrency", required_argument, NULL, 'j' },
		{ "start", required_argument, NULL, 'k' },
		{ "size", required_argument, NULL, 'z' },
		{ "strict", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "mode", required_argument, NULL, 'm' },
		{ "keepalive", required_argument, NULL, O_KEEPALIVE },
		{ "dead-after", required_argument, NULL, O_DEAD_AFTER },
		{ "read-only", no_argument, NULL, O_READ_ONLY },
		{ "bound", required_argument, NULL, O_BOUND },
		{ "reads", required_argument, NULL, O_READS },
		{ "read-size", required_argument, NULL, O_READ_SIZE },
		{ "ping-ms", required_argument, NULL, O_PING_MS },
		{ "offset", required_argument, NULL, O_OFFSET },
		{ "length", required_argument, NULL, O_LENGTH },
		{ "expect", required_argument, NULL, O_EXPECT },
		{ "pattern-out", required_argument, NULL, O_PATTERN_OUT },
		{ "hold", required_argument, NULL, O_HOLD },
		{ "expect-ok", required_argument, NULL, O_EXPECT_OK },
		{ "version-max", required_argument, NULL, O_VERSION_MAX },
		{ 0 },
	};
	static const char *const modes[] = {
		[MODE_RANDOM] = "random", [MODE_SILENT] = "silent",
		[MODE_NO_READ] = "no-read", [MODE_WRITE] = "write",
		[MODE_HOLD] = "hold",
	};
	int seeded = 0, ch, bad;
	unsigned long half, end;
	int64_t t0;

	prog = "dstor-hostile";
	while ((ch = getopt_long(argc, argv, "c:e:n:s:j:k:z:Svhm:", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			opt.alen = parse_hostport(optarg, &opt.addr);
			if (!opt.alen)
				die("--connect: '%s' is not ADDR:PORT", optarg);
			break;
		case 'e': opt.export = optarg; break;
		case 'n':
			opt.conns = parse_u64("--connections", optarg);
			opt.conns_given = 1;
			break;
		case 's': opt.seed = parse_u64("--seed", optarg); seeded = 1; break;
		case 'j': opt.concurrency = parse_u64("--concurrency", optarg); break;
		case 'k': opt.start = parse_u64("--start", optarg); break;
		case 'z': opt.size = parse_u64("--size", optarg); break;
		case 'S': opt.strict = 1; break;
		case 'v': opt.verbose = 1; break;
		case 'h': usage(0); break;
		case 'm':
			for (ch = 0; ch < (int)(sizeof(modes) / sizeof(modes[0])); ch++)
				if (!strcmp(optarg, modes[ch]))
					break;
			if (ch == (int)(sizeof(modes) / sizeof(modes[0])))
				die("--mode: '%s' is not random, silent, no-read, write or hold",
				    optarg);
			opt.mode = (enum mode)ch;
			break;
		case O_KEEPALIVE:
			opt.keepalive = parse_u64("--keepalive", optarg);
			break;
		case O_DEAD_AFTER:
			opt.dead_after = parse_u64("--dead-after", optarg);
			break;
		case O_READ_ONLY: opt.read_only = 1; break;
		case O_BOUND:
			opt.bound_ms = 1000 * parse_u64("--bound", optarg);
			break;
		case O_READS: opt.reads = parse_u64("--reads", optarg); break;
		case O_READ_SIZE:
			opt.read_size = parse_u64("--read-size", optarg);
			break;
		case O_PING_MS: opt.ping_ms = parse_u64("--ping-ms", optarg); break;
		case O_OFFSET: opt.offset = parse_u64("--offset", optarg); break;
		case O_LENGTH: opt.length = parse_u64("--length", optarg); break;
		case O_EXPECT: opt.expect = parse_status(optarg); break;
		case O_PATTERN_OUT: opt.pattern_out = optarg; break;
		case O_HOLD:
			opt.hold_ms = 1000 * parse_u64("--hold", optarg);
			break;
		case O_EXPECT_OK:
			opt.expect_ok = (long)parse_u64("--expect-ok", optarg);
			break;
		case O_VERSION_MAX:
			opt.version_max = parse_u64("--version-max", optarg);
			if (opt.version_max < DSTOR_PROTO_VERSION_MIN ||
			    opt.version_max > 0xffff)
				usage(2);
			break;
		default: usage(2);
		}
	}
	if (!opt.alen || !opt.export || optind != argc)
		usage(2);
	if (strlen(opt.export) >= DSTOR_WIRE_NAME_LEN)
		die("--export: name too long");
	if (opt.size < 65536 || opt.size % 512)
		die("--size: a multiple of 512, at least 64 KiB");
	if (!opt.concurrency)
		opt.concurrency = 1;
	if (!seeded)
		opt.seed = seed_from_clock();
	/* The importer's own rules (the exporter closes a HELLO that breaks them). */
	if (!opt.keepalive != !opt.dead_after ||
	    opt.dead_after > DSTOR_MAX_TIMER ||
	    (opt.keepalive && opt.dead_after <= opt.keepalive))
		die("--keepalive and --dead-after: both or neither, keepalive < dead-after <= %d",
		    DSTOR_MAX_TIMER);
	if (opt.mode != MODE_RANDOM) {
		if (!opt.conns_given)
			opt.conns = 1;
		if (!opt.conns)
			die("--connections: at least 1");
		if (opt.read_size == 0 || opt.read_size > DSTOR_MAX_IO ||
		    opt.read_size % 512)
			die("--read-size: a multiple of 512, at most %u", DSTOR_MAX_IO);
		if (opt.length == 0 || opt.length > DSTOR_MAX_IO ||
		    opt.length % 512 || opt.offset % 512)
			die("--offset, --length: multiples of 512, length at most %u",
			    DSTOR_MAX_IO);
		if (opt.ping_ms < 10)
			die("--ping-ms: at least 10");
		printf("%s: mode %s, seed %llu, %s (export %s), keepalive %u, dead-after %u%s\n",
		       prog, modes[opt.mode], (unsigned long long)opt.seed,
		       fmt_addr(&opt.addr), opt.export, opt.keepalive,
		       opt.dead_after, opt.read_only ? ", read-only" : "");
		fflush(stdout);
		switch (opt.mode) {
		case MODE_SILENT:
		case MODE_HOLD:
			return mode_held();
		case MODE_NO_READ:
			return mode_no_read();
		default:
			return mode_write();
		}
	}

	printf("%s: seed %llu, %lu connections to %s (export %s), concurrency %lu\n",
	       prog, (unsigned long long)opt.seed, opt.conns,
	       fmt_addr(&opt.addr), opt.export, opt.concurrency);
	fflush(stdout);
	t0 = now_ms();
	half = opt.start + opt.conns / 2;
	end = opt.start + opt.conns;
	if (opt.conns == 1)
		half = end;
	run_phase(opt.start, half, 1);
	run_phase(half, end, opt.concurrency);

	printf("%s: done in %lld ms\n", prog, (long long)(now_ms() - t0));
	printf("  connections made %lu, failed to connect %lu\n",
	       atomic_load(&st.made), atomic_load(&st.connect_fail));
	printf("  scenarios:");
	for (int i = 0; i < NR_SCENARIOS; i++)
		printf(" %s %lu", sc_names[i], atomic_load(&st.scenario[i]));
	printf("\n  frames sent %lu (%lu bytes); frames received %lu (%lu bytes)\n",
	       atomic_load(&st.frames_out), atomic_load(&st.bytes_out),
	       atomic_load(&st.frames_in), atomic_load(&st.bytes_in));
	print_status("hello replies", st.hello_status);
	print_status("replies", st.reply_status);
	printf("  pongs %lu, auth challenges %lu\n", atomic_load(&st.pongs),
	       atomic_load(&st.challenges));
	printf("  after our FIN: closed by the exporter %lu, still open after %d ms %lu; resets seen %lu\n",
	       atomic_load(&st.closed_by_peer), DRAIN_MS,
	       atomic_load(&st.lingering), atomic_load(&st.resets));
	printf("  supersede: first session ended %lu, not ended %lu\n",
	       atomic_load(&st.superseded), atomic_load(&st.not_superseded));
	bad = atomic_load(&st.malformed) || atomic_load(&st.wrong) ||
	      atomic_load(&st.unknown_handle) || atomic_load(&st.missing) ||
	      atomic_load(&st.not_superseded);
	printf("  exporter misbehaviour: malformed frames %lu, wrong replies %lu, unknown handles %lu, missing replies %lu\n",
	       atomic_load(&st.malformed), atomic_load(&st.wrong),
	       atomic_load(&st.unknown_handle), atomic_load(&st.missing));
	if (bad)
		printf("  replay one connection: %s --connect %s --export %s --seed %llu --start K --connections 1 --verbose\n",
		       prog, fmt_addr(&opt.addr), opt.export,
		       (unsigned long long)opt.seed);
	if (!atomic_load(&st.made)) {
		warnx("could not connect to %s at all", fmt_addr(&opt.addr));
		return 1;
	}
	return opt.strict && bad ? 3 : 0;
}
