// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel socket I/O that never waits, and endpoint helpers.
 */
#include <linux/in.h>
#include <linux/jhash.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "compat.h"
#include "sock.h"

bool dstor_addr_equal(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a;
	const struct sockaddr_in6 *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return ipv6_addr_equal(&a6->sin6_addr, &b6->sin6_addr);
	return true;
}

/* A hash of the address alone (not the port), for per-host counts. */
u32 dstor_addr_hash(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return jhash_1word((__force u32)sin->sin_addr.s_addr, AF_INET);
	if (ss->ss_family == AF_INET6)
		return jhash(&sin6->sin6_addr, sizeof(sin6->sin6_addr),
			     AF_INET6);
	return 0;
}

bool dstor_endpoint_equal(const struct dstor_endpoint *a,
			  const struct dstor_endpoint *b)
{
	const struct sockaddr_in *a4 = (const void *)&a->ss;
	const struct sockaddr_in *b4 = (const void *)&b->ss;
	const struct sockaddr_in6 *a6 = (const void *)&a->ss;
	const struct sockaddr_in6 *b6 = (const void *)&b->ss;

	if (!dstor_addr_equal(&a->ss, &b->ss))
		return false;
	if (a->ss.ss_family == AF_INET)
		return a4->sin_port == b4->sin_port;
	return a6->sin6_port == b6->sin6_port &&
	       a6->sin6_scope_id == b6->sin6_scope_id;
}

u16 dstor_endpoint_port(const struct dstor_endpoint *ep)
{
	if (ep->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&ep->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&ep->ss)->sin6_port);
}

/*
 * Send what @it holds, as much as the socket takes now. Returns the bytes
 * sent (at least 1), -EAGAIN when the socket is full, or an error.
 */
int dstor_sock_send(struct socket *sock, struct iov_iter *it, bool more)
{
	struct msghdr msg = {
		.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL |
			     (more ? MSG_MORE : 0),
	};
	int ret;

	msg.msg_iter = *it;
	ret = sock_sendmsg(sock, &msg);
	if (ret == 0)
		return -EAGAIN;
	return ret;
}

/* May TCP hold on to every page of @it (an ITER_BVEC) instead of a copy? */
static bool dstor_pages_ok(const struct iov_iter *it)
{
	size_t left = iov_iter_count(it), skip = it->iov_offset;
	const struct bio_vec *bv = it->bvec;

	for (; left; bv++, skip = 0) {
		size_t off = bv->bv_offset + skip;
		size_t len = min_t(size_t, bv->bv_len - skip, left);
		size_t i, last = (off + len - 1) / PAGE_SIZE;

		for (i = off / PAGE_SIZE; i <= last; i++)
			if (!sendpage_ok(nth_page(bv->bv_page, i)))
				return false;
		left -= len;
	}
	return true;
}

/*
 * Send the pages @it (an ITER_BVEC) points at, as dstor_sock_send() does,
 * but without copying them where they allow it: TCP then keeps a reference
 * to each page until the peer has acknowledged its bytes, so the caller
 * may let go of the pages as soon as this returns, but must not write to
 * them again until its peer's answer proves they arrived (a request's
 * reply, which follows its payload on the stream).
 */
int dstor_sock_send_pages(struct socket *sock, struct iov_iter *it, bool more)
{
	struct msghdr msg = {
		.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL |
			     (more ? MSG_MORE : 0),
	};
	int ret;

	if (!dstor_pages_ok(it))
		return dstor_sock_send(sock, it, more);
	msg.msg_iter = *it;
	ret = dstor_sendmsg_pages(sock, &msg);
	if (ret == 0)
		return -EAGAIN;
	return ret;
}

/*
 * Receive into @it what the socket holds now. Returns the bytes received
 * (at least 1), -EAGAIN when there are none, -ECONNRESET at the end of the
 * stream, or an error.
 */
int dstor_sock_recv(struct socket *sock, struct iov_iter *it)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	int ret;

	msg.msg_iter = *it;
	ret = sock_recvmsg(sock, &msg, msg.msg_flags);
	if (ret == 0 && iov_iter_count(it))
		return -ECONNRESET;
	return ret;
}

/*
 * A socket that carries writeback: its allocations must not recurse into
 * I/O, may use the reserves, and must not use the task's page fragment.
 */
void dstor_sock_writeback_safe(struct socket *sock)
{
	struct sock *sk = sock->sk;

	sk->sk_allocation = GFP_NOIO;
	sk_set_memalloc(sk);
	dstor_sock_no_task_frag(sk);
}
