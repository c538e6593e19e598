/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A connection: one TCP socket and, once both ends have proven the key, a
 * seal. Importer queues and exporter sessions are connections; they cannot
 * tell a plaintext one from a sealed one.
 *
 * Nothing here waits on a socket. The socket's callbacks (data ready,
 * write space, state change) and the connection's timer queue io_work,
 * which sends and receives until the socket would block or a budget of
 * one jiffy is spent (1 to 8 ms with the next tick), then yields by
 * queueing itself again. io_work may sleep
 * only where its owner's callbacks do: an exporter session's in
 * submit_bio, and a record sealed or opened inline if the AEAD the crypto
 * API chose is asynchronous. Frames are sent and received by
 * resumable state machines; a frame's payload moves straight between the
 * socket and the pages of a bio chain (or a small buffer).
 *
 * The owner describes a frame to send with a struct dstor_tx and learns of
 * a received one through ops->rx_hdr, where it says where the payload
 * goes (a struct dstor_rx); ops->rx_done tells it the payload is in place.
 * On a sealed connection payload records are opened straight into those
 * pages, by io_work itself or (records over the module parameter
 * seal_inline_max) in parallel on the crypto pool, so rx_done may run on a
 * pool worker, concurrently with io_work.
 *
 * Lifetime: dstor_conn_create() returns a connection holding one reference,
 * the owner's. Any failure (socket error, end of stream, protocol error,
 * timer) calls ops->failed once; the owner then calls dstor_conn_stop()
 * from process context (never from io_work or a callback): after it
 * returns, nothing of the connection runs and every queued frame has been
 * given back through tx_done/rx_done. The last dstor_conn_put() frees it
 * and releases the socket. An importer's connection has no reference but
 * its owner's, and the owner puts it before it gives a request back
 * (parks, resends or fails it): the release resets the connection and
 * drops what TCP still held of the request's pages (sent by reference).
 */
#ifndef _DSTOR_CONN_H
#define _DSTOR_CONN_H

#include <linux/kref.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/net.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/workqueue.h>

#include "data.h"
#include "proto.h"

struct dstor_conn;
struct dstor_rec;
struct dstor_seal;
struct dstor_stats;

/* A frame to send, embedded in what it belongs to. */
struct dstor_tx {
	struct llist_node node;
	struct dstor_hdr hdr;		/* hdr.payload bytes follow from @data */
	struct dstor_data data;
	bool plain;			/* handshake frame: never sealed */
};

/*
 * Where a received frame's payload goes. @pending counts the payload
 * records of a sealed frame still being opened.
 */
struct dstor_rx {
	struct dstor_data data;		/* no bio and no buf: dropped */
	atomic_t pending;
	int err;			/* first error; rx_done reads it */
};

struct dstor_conn_ops {
	/*
	 * A frame header arrived (already checked by dstor_hdr_decode). Return
	 * where its payload goes, NULL to drop it, ERR_PTR(-EAGAIN) to be asked
	 * again after dstor_conn_kick(), ERR_PTR(-ENOMEM) to be asked again
	 * soon (the timer retries), or another ERR_PTR to fail the connection.
	 * While a header is held so, the peer does not count as silent. A
	 * frame without payload that returns a dstor_rx gets rx_done at once.
	 * Every frame the owner queued and whose last byte went out was given
	 * back through tx_done before io_work reads anything further: a reply
	 * never arrives before its request's tx_done.
	 */
	struct dstor_rx *(*rx_hdr)(struct dstor_conn *c,
				   const struct dstor_hdr *h);
	/* The payload is in place (rx->err 0), or never will be. */
	void (*rx_done)(struct dstor_conn *c, struct dstor_rx *rx);
	/* A queued frame was sent (0), or dropped with the connection. */
	void (*tx_done)(struct dstor_conn *c, struct dstor_tx *tx, int err);
	/*
	 * The connection failed; called once, from any context (softirq
	 * included). -ETIMEDOUT: nothing heard for dead_after; -EWOULDBLOCK:
	 * the peer stopped reading for dead_after; -ETIME: the deadline
	 * passed; -EPROTO, -EBADMSG: a malformed frame or a record that did
	 * not open; others from the socket.
	 */
	void (*failed)(struct dstor_conn *c, int err);
	/*
	 * Optional: nothing was heard for dead_after. True fails the
	 * connection with -ETIMEDOUT; false when the owner looks into it
	 * (from the timer: it must not wait) and then either fails it or
	 * moves last_rx on and calls dstor_conn_timer().
	 */
	bool (*silent)(struct dstor_conn *c);
	/* Connecting side: the TCP connection is up (from io_work). */
	void (*connected)(struct dstor_conn *c);
};

enum {
	DSTOR_CONN_DEAD,		/* stopped: nothing may queue io_work */
	DSTOR_CONN_FAILED,		/* ops->failed was called */
	DSTOR_CONN_CONNECTING,		/* waiting for the TCP handshake */
	DSTOR_CONN_PING_QUEUED,
	DSTOR_CONN_RETRY,		/* the timer kicks io_work soon */
	DSTOR_CONN_MEMALLOC,		/* carries writeback */
	DSTOR_CONN_HOLDING,		/* a received header waits for rx_hdr */
};

/*
 * A sealed connection's receive stage (conn.c, conn_recv()): the pages
 * one recvmsg fills, in single pages (a contiguous allocation could fail
 * under memory pressure, when the importer's handshake runs without
 * reclaim), allocated by dstor_conn_seal() before it sets @seal (so a
 * sealed connection always has them); what of them is filled (len) and
 * taken (off).
 */
#define DSTOR_RX_STAGE		16384
#define DSTOR_RX_STAGE_PAGES	DIV_ROUND_UP(DSTOR_RX_STAGE, PAGE_SIZE)

struct dstor_rx_stage {
	struct page *pages[DSTOR_RX_STAGE_PAGES];
	u32 off, len;
};

struct dstor_conn {
	struct kref ref;
	struct socket *sock;
	const struct dstor_conn_ops *ops;
	void *owner;
	struct dstor_stats *stats;	/* KEEPALIVES, BAD_RECORDS */
	unsigned long flags;		/* DSTOR_CONN_* */
	int err;			/* why it failed, once FAILED */
	spinlock_t lock;		/* DEAD against kicks and tx_llist */
	struct work_struct io_work;
	struct workqueue_struct *wq;	/* importer's or exporter's io queue */
	/*
	 * io_work's, or WORK_CPU_UNBOUND; written once by
	 * dstor_conn_move_off() from io_work, hence READ_ONCE where kicked.
	 */
	int cpu;
	bool moved;			/* counted in the CPU's io_load */
	struct timer_list timer;

	/* Timers in jiffies, 0 for none (WRITE_ONCE, then dstor_conn_timer). */
	unsigned long deadline;		/* absolute: fail with -ETIME then */
	unsigned long keepalive;	/* ping after this long without input */
	unsigned long dead_after;	/* fail after this long silent/stalled */
	unsigned long last_rx;		/* jiffies of the last bytes received */
	unsigned long last_ping;
	unsigned long tx_stall;		/* since when output is blocked, or 0 */

	void (*saved_data_ready)(struct sock *sk);
	void (*saved_write_space)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);

	/* Sending: io_work's own. */
	struct llist_head tx_llist;	/* queued from anywhere */
	struct llist_node *tx_list;	/* taken from tx_llist, in order */
	struct dstor_tx *tx_cur;	/* being sent (plain) or sealed */
	struct dstor_data tx_pos;	/* what of its payload is left */
	u32 tx_hdr_off;			/* header bytes sent (plain) */
	bool tx_hdr_sealed;		/* its header record is made */
	u8 tx_hdr[DSTOR_HDR_LEN];
	struct dstor_tx ping_tx;

	/* Receiving: io_work's own. */
	u8 rx_state;
	u32 rx_off;			/* bytes of the current piece */
	struct dstor_hdr rx_h;		/* the frame being received */
	struct dstor_rx *rx_cur;	/* its payload's destination */
	struct dstor_data rx_pos;	/* what of the payload is left */
	u32 rx_left;			/* payload bytes not yet received */
	struct dstor_rec *rx_rec;	/* sealed: slot being filled */
	u8 rx_buf[DSTOR_REC_LEN_BYTES + DSTOR_REC_HDR];
	struct dstor_rx_stage rx_stage;	/* sealed: what one recvmsg took */

	struct dstor_seal *seal;	/* NULL: plaintext */
};

int dstor_conn_create(struct net *net, int family, int cpu,
		      const struct dstor_conn_ops *ops, void *owner,
		      struct dstor_stats *stats, struct dstor_conn **out);
struct dstor_conn *dstor_conn_accepted(struct socket *sock,
				       const struct dstor_conn_ops *ops,
				       void *owner,
				       struct dstor_stats *stats);
int dstor_conn_connect(struct dstor_conn *c, struct sockaddr *addr,
		       int len);
void dstor_conn_start(struct dstor_conn *c);
void dstor_conn_stop(struct dstor_conn *c);
void dstor_conn_put(struct dstor_conn *c);
void dstor_conn_get(struct dstor_conn *c);

void dstor_conn_queue(struct dstor_conn *c, struct dstor_tx *tx);
void dstor_conn_kick(struct dstor_conn *c);
bool dstor_io_cpu_ok(int cpu, bool isolated);
int dstor_io_load(int cpu);
void dstor_io_load_add(int cpu, int n);
void dstor_conn_move_off(struct dstor_conn *c);
void dstor_conn_fail(struct dstor_conn *c, int err);
void dstor_conn_timer(struct dstor_conn *c);
void dstor_conn_writeback_safe(struct dstor_conn *c);
void dstor_conn_ping(struct dstor_conn *c);
void dstor_conn_tcp_keepalive(struct dstor_conn *c, int idle, int intvl,
			      int span);
void dstor_conn_reset_on_close(struct dstor_conn *c);
int dstor_conn_seal(struct dstor_conn *c, u8 cipher, const u8 *ktx,
		    const u8 *krx);
u8 dstor_conn_cipher(struct dstor_conn *c);

int dstor_conn_init(void);
void dstor_conn_exit(void);

#endif /* _DSTOR_CONN_H */
