// SPDX-License-Identifier: GPL-2.0
/*
 * Socket I/O shared by both ends: whole-buffer send and receive, frames,
 * and the endpoint helpers.
 */
#include <linux/net.h>
#include <linux/uio.h>
#include <linux/in.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "dstor.h"

bool dstor_endpoint_equal(const struct dstor_endpoint *a,
			  const struct dstor_endpoint *b)
{
	const struct sockaddr_in *a4 = (const void *)&a->ss;
	const struct sockaddr_in *b4 = (const void *)&b->ss;
	const struct sockaddr_in6 *a6 = (const void *)&a->ss;
	const struct sockaddr_in6 *b6 = (const void *)&b->ss;

	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr &&
		       a4->sin_port == b4->sin_port;
	return ipv6_addr_equal(&a6->sin6_addr, &b6->sin6_addr) &&
	       a6->sin6_port == b6->sin6_port &&
	       a6->sin6_scope_id == b6->sin6_scope_id;
}

u16 dstor_endpoint_port(const struct dstor_endpoint *ep)
{
	if (ep->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&ep->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&ep->ss)->sin6_port);
}

void dstor_sock_set_timeout(struct socket *sock, long timeo)
{
	sock->sk->sk_sndtimeo = timeo;
	sock->sk->sk_rcvtimeo = timeo;
}

static int sock_xmit(struct socket *sock, struct msghdr *msg, size_t len)
{
	size_t done = 0;
	int ret;

	while (done < len) {
		ret = sock_sendmsg(sock, msg);
		if (ret <= 0)
			return ret ? ret : -EPIPE;
		done += ret;
	}
	return 0;
}

int dstor_sock_send(struct socket *sock, const void *buf, size_t len,
		    bool more)
{
	struct kvec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0),
	};

	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &iov, 1, len);
	return sock_xmit(sock, &msg, len);
}

int dstor_sock_send_bvec(struct socket *sock, struct bio_vec *bv,
			 unsigned int nr, size_t len, bool more)
{
	struct msghdr msg = {
		.msg_flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0),
	};

	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bv, nr, len);
	return sock_xmit(sock, &msg, len);
}

/*
 * Receive exactly @len bytes. With a receive timeout set, it bounds the
 * whole call, not each piece: a peer trickling a byte at a time cannot
 * stretch it.
 */
static int sock_fill(struct socket *sock, struct msghdr *msg, size_t len)
{
	long timeo = READ_ONCE(sock->sk->sk_rcvtimeo);
	unsigned long deadline = jiffies + timeo;
	size_t done = 0;
	int ret = 0;

	while (done < len) {
		if (done && timeo != MAX_SCHEDULE_TIMEOUT) {
			long left = (long)(deadline - jiffies);

			if (left <= 0) {
				ret = -EAGAIN;
				break;
			}
			WRITE_ONCE(sock->sk->sk_rcvtimeo, left);
		}
		msg->msg_flags = MSG_NOSIGNAL | MSG_WAITALL;
		ret = sock_recvmsg(sock, msg, msg->msg_flags);
		if (ret <= 0) {
			ret = ret ? ret : -ECONNRESET;
			break;
		}
		done += ret;
		ret = 0;
	}
	if (timeo != MAX_SCHEDULE_TIMEOUT)
		WRITE_ONCE(sock->sk->sk_rcvtimeo, timeo);
	return ret;
}

int dstor_sock_recv(struct socket *sock, void *buf, size_t len)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {};

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &iov, 1, len);
	return sock_fill(sock, &msg, len);
}

int dstor_sock_recv_bvec(struct socket *sock, struct bio_vec *bv,
			 unsigned int nr, size_t len)
{
	struct msghdr msg = {};

	iov_iter_bvec(&msg.msg_iter, ITER_DEST, bv, nr, len);
	return sock_fill(sock, &msg, len);
}

/* Read and drop @len bytes, to stay in step after refusing a request. */
int dstor_sock_discard(struct socket *sock, size_t len)
{
	struct page *page = alloc_page(GFP_NOIO);
	int ret = 0;

	if (!page)
		return -ENOMEM;
	while (len && !ret) {
		size_t n = min_t(size_t, len, PAGE_SIZE);

		ret = dstor_sock_recv(sock, page_address(page), n);
		len -= n;
	}
	__free_page(page);
	return ret;
}

int dstor_send_frame(struct socket *sock, const struct dstor_hdr *h,
		     const void *payload, bool more)
{
	u8 buf[DSTOR_HDR_LEN];
	int ret;

	dstor_hdr_encode(buf, h);
	ret = dstor_sock_send(sock, buf, sizeof(buf),
			      more || h->payload);
	if (ret || !h->payload || !payload)
		return ret;
	return dstor_sock_send(sock, payload, h->payload, more);
}

/* Receive one header. Returns 0, a -errno, or -EPROTO for a bad frame. */
int dstor_recv_hdr(struct socket *sock, struct dstor_hdr *h)
{
	u8 buf[DSTOR_HDR_LEN];
	int ret;

	ret = dstor_sock_recv(sock, buf, sizeof(buf));
	if (ret)
		return ret;
	return dstor_hdr_decode(buf, h) ? -EPROTO : 0;
}

void dstor_stats_count(struct dstor_stats *s, u8 op, u32 bytes, bool error)
{
	switch (op) {
	case DSTOR_OP_READ:
		dstor_stat_add(s, DSTOR_STAT_READS, 1);
		dstor_stat_add(s, DSTOR_STAT_READ_BYTES, bytes);
		break;
	case DSTOR_OP_WRITE:
		dstor_stat_add(s, DSTOR_STAT_WRITES, 1);
		dstor_stat_add(s, DSTOR_STAT_WRITE_BYTES, bytes);
		break;
	case DSTOR_OP_FLUSH:
		dstor_stat_add(s, DSTOR_STAT_FLUSHES, 1);
		break;
	case DSTOR_OP_DISCARD:
		dstor_stat_add(s, DSTOR_STAT_DISCARDS, 1);
		break;
	case DSTOR_OP_WRITE_ZEROES:
		dstor_stat_add(s, DSTOR_STAT_WRITE_ZEROES, 1);
		break;
	}
	if (error)
		dstor_stat_add(s, DSTOR_STAT_ERRORS, 1);
}
