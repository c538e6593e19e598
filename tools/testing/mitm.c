// SPDX-License-Identifier: GPL-2.0
/*
 * dstor-mitm: a TCP proxy between an importer and an exporter that tampers
 * with the importer's sealed stream exactly once.
 *
 *   dstor-mitm --listen ADDR:PORT --to ADDR:PORT
 *              (--flip-after BYTES | --replay-after BYTES) [--verbose]
 *
 * Every connection accepted on --listen is forwarded to --to, both ways,
 * byte for byte. The importer-to-exporter stream of each connection is
 * parsed (kernel/proto.h): the plaintext HELLO frame (header and 120-byte
 * payload), with DSTOR_HELLO_AUTH set the plaintext AUTH_RESPONSE frame,
 * and from then on sealed records, "u32 n (big-endian), n bytes of AEAD
 * ciphertext and tag". The exporter's direction is not parsed. A stream
 * that does not parse so (a session without a key, garbage) is forwarded
 * and never touched.
 *
 * Once over the life of the process, on the first connection that is in
 * its sealed phase at stream byte BYTES or later:
 *
 *   --flip-after    the next record that starts there gets one bit of its
 *                   sealed body (ciphertext or tag, never the length)
 *                   flipped;
 *   --replay-after  the first record that ends there is sent twice.
 *
 * Either way the exporter must reject the record (its nonce is the
 * record's position in the stream) and reset the connection; the importer
 * reconnects through the proxy, which from then on only forwards. A line
 * with "flipped" or "replayed" goes to stderr.
 *
 * One thread, one poll loop, non-blocking sockets and bounded buffers
 * (64 KiB per direction, plus one saved record of at most DSTOR_REC_MAX
 * bytes while a replay is pending). When either side closes, what is
 * buffered for the other side is sent (for at most 5 s) and both are
 * closed; a reset on one side is passed on as a reset to the other.
 * SIGTERM and SIGINT end it.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "proto.h"

#define MAX_CONNS	64
#define BUF_LEN		(64 * 1024)
#define CONNECT_MS	5000
#define DRAIN_MS	5000
#define NO_FLIP		UINT32_MAX

enum { IMP, EXP };	/* sides of a pair; also the direction read there */

enum phase {
	PH_HELLO_HDR, PH_HELLO, PH_RESP_HDR, PH_RESP, PH_REC_LEN, PH_REC_BODY,
	PH_PASS,	/* not parsed (any more): forward only */
};

/* Bytes read from one side, to be written to the other. */
struct dir {
	u8 buf[BUF_LEN];
	size_t head, mark, tail;	/* sent, parsed, read */
	const u8 *inject;		/* a replay, sent at mark */
	size_t inject_off, inject_len;
	int eof;
	u64 bytes;
};

/* The importer's stream. */
struct parser {
	enum phase ph;
	u8 piece[DSTOR_HELLO_LEN];	/* a header, HELLO payload or length */
	u32 got, want;			/* of the current piece or body */
	u64 pos;			/* stream bytes parsed */
	u64 rec;			/* sequence number of the current record */
	u64 rec_pos;			/* where it starts */
	u32 flip_at;			/* body byte to flip, or NO_FLIP */
	u8 flip_bit;
	u8 *save;			/* the current record, for a replay */
	u32 save_len;
	u64 replay_rec;			/* the record being replayed */
};

struct conn {
	unsigned long id;
	int fd[2];
	int connecting;
	int64_t deadline;		/* of the connect or the drain */
	struct dir d[2];		/* d[IMP]: importer to exporter */
	struct parser p;
};

static struct {
	struct sockaddr_storage listen, to;
	socklen_t llen, tlen;
	int replay;			/* else flip */
	u64 after;
	int verbose;
} opt;

static int tamper_done;
static struct rng rng;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void vnote(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vnote(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (!opt.verbose)
		return;
	fprintf(stderr, "%s: conn %lu: ", prog, c->id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void next_piece(struct parser *p, enum phase ph, u32 want)
{
	p->ph = ph;
	p->want = want;
	p->got = 0;
}

static void give_up(struct conn *c, const char *why)
{
	vnote(c, "%s at stream byte %llu: forwarding only", why,
	      (unsigned long long)c->p.pos);
	c->p.ph = PH_PASS;
	if (!c->d[IMP].inject_len) {
		free(c->p.save);
		c->p.save = NULL;
	}
}

static void rec_start(struct conn *c)
{
	struct parser *p = &c->p;

	next_piece(p, PH_REC_LEN, DSTOR_REC_LEN_BYTES);
	p->rec_pos = p->pos;
	p->flip_at = NO_FLIP;
	p->save_len = 0;
	if (tamper_done && p->save && !c->d[IMP].inject_len) {
		free(p->save);
		p->save = NULL;
	}
}

/* The current piece of the importer's stream is complete. */
static void piece_done(struct conn *c)
{
	struct parser *p = &c->p;
	struct dir *d = &c->d[IMP];
	struct dstor_hdr h;
	u32 n;

	switch (p->ph) {
	case PH_HELLO_HDR:
		if (dstor_hdr_decode(p->piece, &h) || h.op != DSTOR_OP_HELLO)
			give_up(c, "no HELLO");
		else
			next_piece(p, PH_HELLO, DSTOR_HELLO_LEN);
		break;
	case PH_HELLO:
		if (!(dstor_get32(p->piece + 4) & DSTOR_HELLO_AUTH))
			give_up(c, "a HELLO without a key");
		else
			next_piece(p, PH_RESP_HDR, DSTOR_HDR_LEN);
		break;
	case PH_RESP_HDR:
		if (dstor_hdr_decode(p->piece, &h) ||
		    h.op != DSTOR_OP_AUTH_RESPONSE)
			give_up(c, "no AUTH_RESPONSE");
		else
			next_piece(p, PH_RESP, DSTOR_RESPONSE_LEN);
		break;
	case PH_RESP:
		vnote(c, "sealed from stream byte %llu",
		      (unsigned long long)p->pos);
		if (opt.replay && !tamper_done) {
			p->save = malloc(DSTOR_REC_LEN_BYTES + DSTOR_REC_MAX);
			if (!p->save)
				die("out of memory");
		}
		p->rec = 0;
		rec_start(c);
		break;
	case PH_REC_LEN:
		n = dstor_get32(p->piece);
		if (!dstor_rec_len_ok(n)) {
			give_up(c, "a bad record length");
			break;
		}
		next_piece(p, PH_REC_BODY, n);
		if (!opt.replay && !tamper_done && p->rec_pos >= opt.after) {
			p->flip_at = rng_below(&rng, n);
			p->flip_bit = (u8)rng_below(&rng, 8);
			tamper_done = 1;
		}
		break;
	case PH_REC_BODY:
		if (p->save && !tamper_done && p->pos >= opt.after) {
			d->inject = p->save;
			d->inject_off = 0;
			d->inject_len = p->save_len;
			p->replay_rec = p->rec;
			tamper_done = 1;
		}
		p->rec++;
		rec_start(c);
		break;
	case PH_PASS:
		break;
	}
}

/*
 * Parse d[IMP].buf[mark, tail), tampering on the way. Stops at a record
 * boundary while a replay waits to be sent.
 */
static void parse(struct conn *c)
{
	struct parser *p = &c->p;
	struct dir *d = &c->d[IMP];

	while (d->mark < d->tail && !d->inject_len) {
		u8 *b = d->buf + d->mark;
		u32 n = (u32)(d->tail - d->mark);

		if (p->ph == PH_PASS) {
			p->pos += n;
			d->mark = d->tail;
			break;
		}
		if (n > p->want - p->got)
			n = p->want - p->got;
		if (p->ph != PH_REC_BODY)
			memcpy(p->piece + p->got, b, n);
		if (p->ph == PH_REC_BODY && p->flip_at != NO_FLIP &&
		    p->flip_at >= p->got && p->flip_at < p->got + n) {
			b[p->flip_at - p->got] ^= 1U << p->flip_bit;
			fprintf(stderr, "%s: flipped bit %u of byte %u of record %llu (%u bytes sealed, stream byte %llu) (conn %lu)\n",
				prog, p->flip_bit, p->flip_at,
				(unsigned long long)p->rec, p->want,
				(unsigned long long)(p->rec_pos +
						     DSTOR_REC_LEN_BYTES +
						     p->flip_at), c->id);
			fflush(stderr);
			p->flip_at = NO_FLIP;
		}
		if (p->save && (p->ph == PH_REC_LEN || p->ph == PH_REC_BODY)) {
			memcpy(p->save + p->save_len, b, n);
			p->save_len += n;
		}
		p->got += n;
		p->pos += n;
		d->mark += n;
		if (p->got == p->want)
			piece_done(c);
	}
}

/* Read from side @s. Returns 0, or -1 if the pair must be reset. */
static int do_read(struct conn *c, int s)
{
	struct dir *d = &c->d[s];
	ssize_t n;

	if (d->eof)
		return 0;
	if (d->tail == BUF_LEN && d->head) {
		memmove(d->buf, d->buf + d->head, d->tail - d->head);
		d->mark -= d->head;
		d->tail -= d->head;
		d->head = 0;
	}
	if (d->tail == BUF_LEN)
		return 0;
	n = recv(c->fd[s], d->buf + d->tail, BUF_LEN - d->tail, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0) {
		vnote(c, "%s closed", s == IMP ? "importer" : "exporter");
		d->eof = 1;
		c->deadline = now_ms() + DRAIN_MS;
		return 0;
	}
	d->tail += (size_t)n;
	d->bytes += (u64)n;
	if (s == IMP)
		parse(c);
	else
		d->mark = d->tail;
	return 0;
}

/* Send what direction @s holds to the other side; 0, or -1 to reset. */
static int do_write(struct conn *c, int s)
{
	struct dir *d = &c->d[s];
	const u8 *ptr;
	size_t len;
	ssize_t n;

	for (;;) {
		if (d->head < d->mark) {
			ptr = d->buf + d->head;
			len = d->mark - d->head;
		} else if (d->inject_len) {
			ptr = d->inject + d->inject_off;
			len = d->inject_len - d->inject_off;
		} else {
			break;
		}
		n = send(c->fd[!s], ptr, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		if (d->head < d->mark) {
			d->head += (size_t)n;
			continue;
		}
		d->inject_off += (size_t)n;
		if (d->inject_off == d->inject_len) {
			fprintf(stderr, "%s: replayed record %llu (%zu bytes) after stream byte %llu (conn %lu)\n",
				prog, (unsigned long long)c->p.replay_rec,
				d->inject_len, (unsigned long long)c->p.pos,
				c->id);
			fflush(stderr);
			d->inject_len = 0;
			free(c->p.save);
			c->p.save = NULL;
			parse(c);
		}
	}
	if (d->head == d->tail && !d->inject_len)
		d->head = d->mark = d->tail = 0;
	return 0;
}

static int pending(const struct dir *d)
{
	return d->head < d->mark || d->inject_len;
}

static void conn_close(struct conn *c, int reset)
{
	static const struct linger rst = { .l_onoff = 1, .l_linger = 0 };

	vnote(c, "%s: importer sent %llu bytes (%llu records), exporter %llu",
	      reset ? "reset" : "closed",
	      (unsigned long long)c->d[IMP].bytes,
	      (unsigned long long)(c->p.ph == PH_REC_LEN ||
				   c->p.ph == PH_REC_BODY ? c->p.rec : 0),
	      (unsigned long long)c->d[EXP].bytes);
	/* A tampering that never reached the wire: the next connection. */
	if (c->p.flip_at != NO_FLIP || c->d[IMP].inject_len)
		tamper_done = 0;
	for (int s = IMP; s <= EXP; s++) {
		if (reset)
			setsockopt(c->fd[s], SOL_SOCKET, SO_LINGER, &rst,
				   sizeof(rst));
		close(c->fd[s]);
	}
	free(c->p.save);
	free(c);
}

/* After poll: 1 to keep the pair, 0 to close it, -1 to reset it. */
static int conn_service(struct conn *c, const short *re)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (c->connecting) {
		if (re[IMP] & (POLLERR | POLLHUP))
			return -1;
		if (!(re[EXP] & (POLLOUT | POLLERR | POLLHUP)))
			return now_ms() < c->deadline ? 1 : -1;
		if (getsockopt(c->fd[EXP], SOL_SOCKET, SO_ERROR, &err, &el) ||
		    err) {
			vnote(c, "cannot connect to the exporter: %s",
			      strerror(err));
			return -1;
		}
		c->connecting = 0;
		c->deadline = 0;
		vnote(c, "connected to the exporter");
	}
	for (int s = IMP; s <= EXP; s++) {
		/* Even with a full buffer, an error must end the pair. */
		if ((re[s] & POLLERR) &&
		    (getsockopt(c->fd[s], SOL_SOCKET, SO_ERROR, &err, &el) ||
		     err))
			return -1;
		if ((re[s] & (POLLIN | POLLERR | POLLHUP)) && do_read(c, s))
			return -1;
	}
	for (int s = IMP; s <= EXP; s++)
		if (do_write(c, s))
			return -1;
	for (int s = IMP; s <= EXP; s++)
		if (c->d[s].eof && !pending(&c->d[s]))
			return 0;
	if (c->deadline && now_ms() >= c->deadline)
		return -1;
	return 1;
}

static void conn_accept(int lfd, struct conn **conns, int *nr)
{
	static unsigned long ids;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	struct conn *c;
	int one = 1, fd;

	fd = accept4(lfd, (struct sockaddr *)&peer, &plen,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		die("out of memory");
	c->id = ++ids;
	c->fd[IMP] = fd;
	c->fd[EXP] = socket(opt.to.ss_family,
			    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	vnote(c, "from %s", fmt_addr(&peer));
	if (c->fd[EXP] < 0) {
		close(fd);
		free(c);
		return;
	}
	setsockopt(c->fd[IMP], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd[EXP], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->p.flip_at = NO_FLIP;
	next_piece(&c->p, PH_HELLO_HDR, DSTOR_HDR_LEN);
	if (connect(c->fd[EXP], (struct sockaddr *)&opt.to, opt.tlen) == 0) {
		vnote(c, "connected to the exporter");
	} else if (errno == EINPROGRESS) {
		c->connecting = 1;
		c->deadline = now_ms() + CONNECT_MS;
	} else {
		vnote(c, "cannot connect to the exporter: %s", strerror(errno));
		conn_close(c, 1);
		return;
	}
	conns[(*nr)++] = c;
}

static int listen_on(void)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1, fd;

	fd = socket(opt.listen.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&opt.listen, opt.llen) ||
	    listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		warnx("cannot listen on %s: %s", fmt_addr(&opt.listen),
		      strerror(errno));
		exit(1);
	}
	fprintf(stderr, "%s: listening on %s\n", prog, fmt_addr(&ss));
	fflush(stderr);
	return fd;
}

static void usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: %s --listen ADDR:PORT --to ADDR:PORT\n"
		"       (--flip-after BYTES | --replay-after BYTES) [--verbose]\n",
		prog);
	exit(rc);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "to", required_argument, NULL, 't' },
		{ "flip-after", required_argument, NULL, 'f' },
		{ "replay-after", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pollfd pfd[1 + 2 * MAX_CONNS];
	struct conn *conns[MAX_CONNS];
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec tmo = { 1, 0 };
	sigset_t block, orig;
	int nr = 0, modes = 0, ch, lfd;

	prog = "dstor-mitm";
	while ((ch = getopt_long(argc, argv, "l:t:f:r:vh", lo, NULL)) != -1) {
		switch (ch) {
		case 'l':
			opt.llen = parse_hostport(optarg, &opt.listen);
			if (!opt.llen)
				usage(2);
			break;
		case 't':
			opt.tlen = parse_hostport(optarg, &opt.to);
			if (!opt.tlen)
				usage(2);
			break;
		case 'f':
		case 'r':
			opt.replay = ch == 'r';
			opt.after = parse_u64(ch == 'r' ? "--replay-after" :
					      "--flip-after", optarg);
			modes++;
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
	if (!opt.llen || !opt.tlen || modes != 1 || optind != argc)
		usage(2);
	rng.s = seed_from_clock();

	/* The signals are taken only inside ppoll(): no lost wake-up. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigdelset(&orig, SIGTERM);
	sigdelset(&orig, SIGINT);

	lfd = listen_on();
	while (!stop) {
		pfd[0].fd = nr < MAX_CONNS ? lfd : -1;
		pfd[0].events = POLLIN;
		for (int i = 0; i < nr; i++) {
			struct conn *c = conns[i];

			for (int s = IMP; s <= EXP; s++) {
				struct pollfd *q = &pfd[1 + 2 * i + s];

				q->fd = c->d[s].eof ? -1 : c->fd[s];
				q->events = 0;
				q->revents = 0;
				if (c->connecting) {
					q->events = s == EXP ? POLLOUT : 0;
					continue;
				}
				if (c->d[s].tail < BUF_LEN || c->d[s].head)
					q->events |= POLLIN;
				if (pending(&c->d[!s]))
					q->events |= POLLOUT;
			}
		}
		if (ppoll(pfd, 1 + 2 * (nfds_t)nr, &tmo, &orig) < 0) {
			if (errno == EINTR)
				continue;
			warnx("poll: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < nr; i++) {
			short re[2] = { pfd[1 + 2 * i].revents,
					pfd[2 + 2 * i].revents };
			int ret = conn_service(conns[i], re);

			if (ret <= 0) {
				conn_close(conns[i], ret < 0);
				conns[i] = NULL;
			}
		}
		for (int i = 0; i < nr; )
			if (!conns[i])
				conns[i] = conns[--nr];
			else
				i++;
		if (pfd[0].revents & POLLIN)
			while (nr < MAX_CONNS) {
				int before = nr;

				conn_accept(lfd, conns, &nr);
				if (nr == before)
					break;
			}
	}
	for (int i = 0; i < nr; i++)
		conn_close(conns[i], 0);
	close(lfd);
	return 0;
}
