/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel socket I/O that never waits, and endpoints (sock.c).
 */
#ifndef _DSTOR_SOCK_H
#define _DSTOR_SOCK_H

#include <linux/net.h>
#include <linux/socket.h>
#include <linux/uio.h>

struct dstor_endpoint {
	struct sockaddr_storage ss;
	int len;		/* of the sockaddr in ss */
};

bool dstor_endpoint_equal(const struct dstor_endpoint *a,
			  const struct dstor_endpoint *b);
u16 dstor_endpoint_port(const struct dstor_endpoint *ep);
bool dstor_addr_equal(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b);
u32 dstor_addr_hash(const struct sockaddr_storage *ss);

int dstor_sock_send(struct socket *sock, struct iov_iter *it, bool more);
int dstor_sock_send_pages(struct socket *sock, struct iov_iter *it, bool more);
int dstor_sock_recv(struct socket *sock, struct iov_iter *it);
void dstor_sock_writeback_safe(struct socket *sock);

#endif /* _DSTOR_SOCK_H */
