// SPDX-License-Identifier: GPL-2.0
/*
 * The connection engine: one send path and one receive path for plaintext
 * and sealed connections, run by a per-connection io_work that never waits
 * on a socket (conn.h describes the model and the lifetime rules).
 *
 * Receiving is a state machine over the stream:
 *   plaintext  HDR (32 bytes) -> DATA (payload) -> HDR ...
 *   sealed     HREC (a header record with its length bytes) -> SLOT (a
 *              free receive slot for the next payload record; it waits
 *              there while every slot is busy) -> DREC (the record with
 *              its length bytes) -> SLOT ... -> HREC ...
 * and HOLD parks a frame whose owner cannot take it yet. Sending takes
 * frames from a lock-free list in order; plaintext frames go out header
 * then payload, sealed ones as records made in a ring of transmit slots
 * and sent in ring order.
 */
#include <linux/sched/isolation.h>
#include <linux/sched/mm.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "compat.h"
#include "conn.h"
#include "dstor.h"
#include "pages.h"
#include "seal.h"
#include "sock.h"
#include "stats.h"

/* How long io_work may run before it yields. */
#define DSTOR_IO_BUDGET		max_t(unsigned long, msecs_to_jiffies(1), 1)
/* How soon to try again when the owner had no memory for a frame. */
#define DSTOR_RETRY_DELAY	(HZ / 50)

enum {
	RX_HDR,
	RX_DATA,
	RX_HREC,
	RX_DREC,
	RX_SLOT,
	RX_HOLD,
};

/* io_work of importer connections, and of exporter sessions. */
static struct workqueue_struct *dstor_imp_io_wq, *dstor_srv_io_wq;

/* ---- kicks, failure, timers ---- */

void dstor_conn_kick(struct dstor_conn *c)
{
	unsigned long fl;

	spin_lock_irqsave(&c->lock, fl);
	if (!test_bit(DSTOR_CONN_DEAD, &c->flags))
		queue_work_on(READ_ONCE(c->cpu), c->wq, &c->io_work);
	spin_unlock_irqrestore(&c->lock, fl);
}

void dstor_conn_fail(struct dstor_conn *c, int err)
{
	if (test_bit(DSTOR_CONN_FAILED, &c->flags))
		return;
	cmpxchg(&c->err, 0, err);	/* the first reason stays */
	/* Fully ordered: whoever sees FAILED sees err. */
	if (test_and_set_bit(DSTOR_CONN_FAILED, &c->flags))
		return;
	c->ops->failed(c, err);
}

static void conn_tx_done(struct dstor_conn *c, struct dstor_tx *tx, int err)
{
	if (tx == &c->ping_tx)
		clear_bit(DSTOR_CONN_PING_QUEUED, &c->flags);
	else
		c->ops->tx_done(c, tx, err);
}

void dstor_conn_queue(struct dstor_conn *c, struct dstor_tx *tx)
{
	unsigned long fl;

	spin_lock_irqsave(&c->lock, fl);
	if (test_bit(DSTOR_CONN_DEAD, &c->flags)) {
		spin_unlock_irqrestore(&c->lock, fl);
		conn_tx_done(c, tx, -EPIPE);
		return;
	}
	llist_add(&tx->node, &c->tx_llist);
	queue_work_on(READ_ONCE(c->cpu), c->wq, &c->io_work);
	spin_unlock_irqrestore(&c->lock, fl);
}

/* A keepalive ping, unless one is on its way already. */
static void conn_ping(struct dstor_conn *c)
{
	struct dstor_tx *tx = &c->ping_tx;

	if (test_and_set_bit(DSTOR_CONN_PING_QUEUED, &c->flags))
		return;
	if (c->stats)
		dstor_stat_add(c->stats, DSTOR_STAT_KEEPALIVES, 1);
	tx->hdr = (struct dstor_hdr) { .op = DSTOR_OP_PING, .handle = jiffies };
	dstor_data_buf(&tx->data, NULL, 0);
	dstor_conn_queue(c, tx);
}

/* Ping now, e.g. a connection that sent none while queue 0 pinged. */
void dstor_conn_ping(struct dstor_conn *c)
{
	WRITE_ONCE(c->last_ping, jiffies);
	conn_ping(c);
}

static unsigned long earlier(unsigned long a, unsigned long b)
{
	return time_before(a, b) ? a : b;
}

/*
 * The connection's one timer: the deadline, dead_after (nothing received,
 * or output blocked, for that long), keepalive pings, and retries. It
 * re-arms itself for the earliest of them.
 */
static void conn_timer_fn(struct timer_list *t)
{
	struct dstor_conn *c = from_timer(c, t, timer);
	unsigned long now = jiffies, next = now + 600 * HZ;
	unsigned long dl = READ_ONCE(c->deadline);
	unsigned long ka = READ_ONCE(c->keepalive);
	unsigned long dead = READ_ONCE(c->dead_after);
	unsigned long last, stall = READ_ONCE(c->tx_stall);

	smp_rmb();	/* a new dead_after comes with a fresh last_rx */
	last = READ_ONCE(c->last_rx);
	if (test_bit(DSTOR_CONN_DEAD, &c->flags) ||
	    test_bit(DSTOR_CONN_FAILED, &c->flags))
		return;
	if (dl) {
		if (time_after_eq(now, dl)) {
			dstor_conn_fail(c, -ETIME);
			return;
		}
		next = earlier(next, dl);
	}
	if (test_bit(DSTOR_CONN_HOLDING, &c->flags))
		last = now;
	if (dead) {
		if (time_after_eq(now, last + dead)) {
			if (!c->ops->silent || c->ops->silent(c)) {
				dstor_conn_fail(c, -ETIMEDOUT);
				return;
			}
			last = now;	/* the owner answers before this */
		}
		next = earlier(next, last + dead);
		if (stall) {
			if (time_after_eq(now, stall + dead)) {
				dstor_conn_fail(c, -EWOULDBLOCK);
				return;
			}
			next = earlier(next, stall + dead);
		}
	}
	if (ka) {
		unsigned long due = (time_after(c->last_ping, last) ?
				     c->last_ping : last) + ka;

		if (time_after_eq(now, due)) {
			c->last_ping = now;
			due = now + ka;
			conn_ping(c);
		}
		next = earlier(next, due);
	}
	if (test_and_clear_bit(DSTOR_CONN_RETRY, &c->flags))
		dstor_conn_kick(c);
	mod_timer(&c->timer, next);
}

/* The timers changed (or a retry is due): look at them again now. */
void dstor_conn_timer(struct dstor_conn *c)
{
	unsigned long fl;

	spin_lock_irqsave(&c->lock, fl);
	if (!test_bit(DSTOR_CONN_DEAD, &c->flags))
		mod_timer(&c->timer, jiffies);
	spin_unlock_irqrestore(&c->lock, fl);
}

static void conn_retry_later(struct dstor_conn *c)
{
	unsigned long fl;

	set_bit(DSTOR_CONN_RETRY, &c->flags);
	spin_lock_irqsave(&c->lock, fl);
	if (!test_bit(DSTOR_CONN_DEAD, &c->flags))
		timer_reduce(&c->timer, jiffies + DSTOR_RETRY_DELAY);
	spin_unlock_irqrestore(&c->lock, fl);
}

/* ---- socket callbacks (softirq) ---- */

static void conn_data_ready(struct sock *sk)
{
	struct dstor_conn *c;

	read_lock_bh(&sk->sk_callback_lock);
	c = sk->sk_user_data;
	if (c)
		dstor_conn_kick(c);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void conn_write_space(struct sock *sk)
{
	struct dstor_conn *c;

	read_lock_bh(&sk->sk_callback_lock);
	c = sk->sk_user_data;
	if (c && sk_stream_is_writeable(sk)) {
		clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		dstor_conn_kick(c);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/*
 * Connected, closing or reset: io_work finds out which, reading whatever
 * the peer sent before it closed.
 */
static void conn_state_change(struct sock *sk)
{
	struct dstor_conn *c;

	read_lock_bh(&sk->sk_callback_lock);
	c = sk->sk_user_data;
	if (c) {
		dstor_conn_kick(c);
		c->saved_state_change(sk);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/* ---- sending ---- */

static struct dstor_tx *conn_next_tx(struct dstor_conn *c)
{
	struct llist_node *n;

	if (!c->tx_list)
		c->tx_list = llist_reverse_order(llist_del_all(&c->tx_llist));
	n = c->tx_list;
	if (!n)
		return NULL;
	c->tx_list = n->next;
	return llist_entry(n, struct dstor_tx, node);
}

static bool conn_more_tx(struct dstor_conn *c)
{
	return c->tx_list || !llist_empty(&c->tx_llist);
}

static void conn_stalled(struct dstor_conn *c)
{
	if (!c->tx_stall)
		WRITE_ONCE(c->tx_stall, jiffies ? jiffies : 1);
}

static void conn_progressed(struct dstor_conn *c)
{
	if (c->tx_stall)
		WRITE_ONCE(c->tx_stall, 0);
}

static void conn_tx_start(struct dstor_conn *c, struct dstor_tx *tx)
{
	c->tx_cur = tx;
	c->tx_pos = tx->data;
	c->tx_hdr_off = 0;
	c->tx_hdr_sealed = false;
	dstor_hdr_encode(c->tx_hdr, &tx->hdr);
}

/* Send more of the current plaintext frame: >0 progress, 0 blocked. */
static int conn_send_plain(struct dstor_conn *c)
{
	struct dstor_tx *tx = c->tx_cur;
	bool more = conn_more_tx(c);
	struct iov_iter it;
	struct kvec kv;
	int ret;

	if (c->tx_hdr_off < DSTOR_HDR_LEN) {
		kv.iov_base = c->tx_hdr + c->tx_hdr_off;
		kv.iov_len = DSTOR_HDR_LEN - c->tx_hdr_off;
		iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, kv.iov_len);
		ret = dstor_sock_send(c->sock, &it, more || tx->hdr.payload);
		if (ret < 0)
			return ret;
		c->tx_hdr_off += ret;
	} else {
		u32 left = c->tx_pos.len;

		dstor_data_iter(&c->tx_pos, ITER_SOURCE, &it, &kv, left);
		more = more || iov_iter_count(&it) < left;
		/* Pages (a request's or a reply's bio) go without a copy. */
		ret = c->tx_pos.bio ? dstor_sock_send_pages(c->sock, &it, more) :
				      dstor_sock_send(c->sock, &it, more);
		if (ret < 0)
			return ret;
		dstor_data_advance(&c->tx_pos, ret);
	}
	/*
	 * Handed back the moment its last byte is sent, before this io_work
	 * can read anything: the owner learns it was sent before it can see
	 * the reply.
	 */
	if (c->tx_hdr_off == DSTOR_HDR_LEN && !c->tx_pos.len) {
		c->tx_cur = NULL;
		conn_tx_done(c, tx, 0);
	}
	return 1;
}

/* Make the next record of the current frame in a free transmit slot. */
static int conn_seal_next(struct dstor_conn *c)
{
	struct dstor_tx *tx = c->tx_cur;
	struct dstor_rec *rec = dstor_seal_tx_slot(c->seal);

	if (!rec)
		return 0;
	if (!c->tx_hdr_sealed) {
		dstor_seal_tx_hdr(rec, &tx->hdr);
		c->tx_hdr_sealed = true;
		if (rec->err)
			return rec->err;
	} else {
		/* Done at once (1) when inline: then its result is known. */
		if (dstor_seal_tx_data(rec, &c->tx_pos,
				       min_t(u32, c->tx_pos.len,
					     DSTOR_SEAL_CHUNK)) && rec->err)
			return rec->err;
	}
	if (!c->tx_pos.len) {
		rec->frame = tx;
		c->tx_cur = NULL;
	}
	return 1;
}

/* Put the ready records, from the oldest (@rec) on, on the wire. */
static int conn_send_rec(struct dstor_conn *c, struct dstor_rec *rec)
{
	struct dstor_seal *sl = c->seal;
	struct iov_iter it;
	unsigned int n;
	bool more;
	int ret;
	u32 left;

	if (rec->err)
		return rec->err;
	n = dstor_seal_tx_iter(sl, &it);
	/* Cork only while another record or frame is on its way. */
	more = sl->tx_tail + n != sl->tx_head || c->tx_cur || conn_more_tx(c);
	ret = dstor_sock_send(c->sock, &it, more);
	if (ret < 0)
		return ret;
	for (left = ret; left;) {
		rec = dstor_seal_tx_sent(sl, &left);
		if (rec && rec->frame)
			conn_tx_done(c, rec->frame, 0);
	}
	return 1;
}

/*
 * One step of sending: >0 when something moved, 0 when there is nothing
 * to send or the socket is full, or an error.
 */
static int conn_try_send(struct dstor_conn *c)
{
	struct dstor_seal *sl = c->seal;
	struct dstor_rec *rec;
	int ret;

	if (!c->tx_cur) {
		struct dstor_tx *tx = conn_next_tx(c);

		if (tx)
			conn_tx_start(c, tx);
	}
	if (sl) {
		/* Make records while there is room, send what is ready. */
		if (c->tx_cur && !c->tx_cur->plain) {
			ret = conn_seal_next(c);
			if (ret)
				return ret;
		}
		rec = dstor_seal_tx_ready(sl);
		if (rec) {
			ret = conn_send_rec(c, rec);
			goto sent;
		}
		/* A handshake frame waits for the ring to drain. */
		if (!c->tx_cur || !c->tx_cur->plain ||
		    sl->tx_tail != sl->tx_head)
			return 0;
	} else if (!c->tx_cur) {
		return 0;
	}
	ret = conn_send_plain(c);
sent:
	if (ret == -EAGAIN) {
		conn_stalled(c);
		return 0;
	}
	if (ret > 0)
		conn_progressed(c);
	return ret;
}

/* ---- receiving ---- */

static void conn_rx_next(struct dstor_conn *c)
{
	c->rx_off = 0;
	c->rx_state = c->seal ? RX_HREC : RX_HDR;
}

/* Refill the (empty) stage with one recvmsg of what the socket holds. */
static int conn_stage_fill(struct dstor_conn *c, struct dstor_rx_stage *st)
{
	struct bio_vec bv[DSTOR_RX_STAGE_PAGES];
	struct iov_iter it;
	unsigned int i;
	int ret;

	for (i = 0; i < DSTOR_RX_STAGE_PAGES; i++)
		bvec_set_page(&bv[i], st->pages[i], PAGE_SIZE, 0);
	iov_iter_bvec(&it, ITER_DEST, bv, DSTOR_RX_STAGE_PAGES,
		      DSTOR_RX_STAGE);
	ret = dstor_sock_recv(c->sock, &it);
	if (ret < 0)
		return ret;
	st->off = 0;
	st->len = ret;
	return 0;
}

/* Copy @n bytes of the stage, from its offset on, into @it. */
static int conn_stage_take(struct dstor_rx_stage *st, size_t n,
			   struct iov_iter *it)
{
	while (n) {
		struct page *page = st->pages[st->off >> PAGE_SHIFT];
		size_t poff = offset_in_page(st->off);
		size_t k = min_t(size_t, n, PAGE_SIZE - poff);

		if (WARN_ON_ONCE(copy_page_to_iter(page, poff, k, it) != k))
			return -EFAULT;
		st->off += k;
		n -= k;
	}
	return 0;
}

/*
 * Receive into @it a piece of @whole bytes: from the sealed
 * connection's stage first, then from the socket. A sealed stream is
 * small pieces (a 52-byte header record, then the payload's records, one
 * for a 4 KiB request), and each recvmsg costs a socket lock, a pass of
 * TCP's receive window bookkeeping and, often, an ACK. So a piece under
 * half the stage that finds it empty refills it with one recvmsg of
 * whatever the socket holds, and the pieces after it are copied from
 * there. Larger pieces (16 KiB payload records) are read straight into
 * place, but for what the stage held of their start: so a stream of them
 * goes through the stage only after each small piece.
 *
 * Until @it is full or the socket is empty: a piece cut short means, as
 * it does for recvmsg, that the socket had no more (the caller then waits
 * for data_ready), never that the stage ran out. Returns the bytes
 * received (the caller goes by this count: @it is not always advanced),
 * -EAGAIN when there were none, or an error: dstor_sock_recv()'s, the
 * socket's once it was reset, or -EFAULT. Whatever makes receiving stop
 * with bytes in the stage must kick io_work itself: data_ready does not
 * know of them.
 */
static int conn_recv(struct dstor_conn *c, struct iov_iter *it, u32 whole)
{
	struct dstor_rx_stage *st = c->seal ? &c->rx_stage : NULL;
	int got = 0, ret;

	while (iov_iter_count(it)) {
		size_t n;

		if (!st || st->off == st->len) {
			/* The reset rule (conn_io_work) holds within a call. */
			ret = got ? READ_ONCE(c->sock->sk->sk_err) : 0;
			if (ret)
				return -ret;
			if (!st || whole >= DSTOR_RX_STAGE / 2) {
				ret = dstor_sock_recv(c->sock, it);
				if (ret == -EAGAIN && got)
					return got;
				return ret < 0 ? ret : got + ret;
			}
			ret = conn_stage_fill(c, st);
			if (ret == -EAGAIN && got)
				return got;
			if (ret < 0)
				return ret;
		}
		n = min_t(size_t, st->len - st->off, iov_iter_count(it));
		ret = conn_stage_take(st, n, it);
		if (ret)
			return ret;
		got += n;
	}
	return got;
}

/* Receive into @buf up to @want bytes past rx_off: 1 complete, 0 not. */
static int conn_recv_buf(struct dstor_conn *c, u8 *buf, u32 want)
{
	struct kvec kv = { .iov_base = buf + c->rx_off,
			   .iov_len = want - c->rx_off };
	struct iov_iter it;
	int ret;

	iov_iter_kvec(&it, ITER_DEST, &kv, 1, kv.iov_len);
	ret = conn_recv(c, &it, want);
	if (ret < 0)
		return ret;
	WRITE_ONCE(c->last_rx, jiffies);
	c->rx_off += ret;
	return c->rx_off == want;
}

/*
 * A frame's header is in c->rx_h: ask the owner where its payload goes.
 * Sets the state for its payload. Returns 1, 0 when held, or an error.
 */
static int conn_rx_frame(struct dstor_conn *c)
{
	const struct dstor_hdr *h = &c->rx_h;
	struct dstor_rx *rx;

	rx = c->ops->rx_hdr(c, h);
	if (IS_ERR(rx)) {
		if (PTR_ERR(rx) != -EAGAIN && PTR_ERR(rx) != -ENOMEM)
			return PTR_ERR(rx);
		if (PTR_ERR(rx) == -ENOMEM)
			conn_retry_later(c);
		/* We are the ones not reading: the peer is not silent. */
		set_bit(DSTOR_CONN_HOLDING, &c->flags);
		c->rx_state = RX_HOLD;
		return 0;
	}
	if (test_and_clear_bit(DSTOR_CONN_HOLDING, &c->flags))
		WRITE_ONCE(c->last_rx, jiffies);
	c->rx_cur = rx;
	c->rx_left = h->payload;
	if (rx) {
		if (rx->data.len != h->payload)
			return -EPROTO;
		rx->err = 0;
		c->rx_pos = rx->data;
		atomic_set(&rx->pending,
			   DIV_ROUND_UP(h->payload, DSTOR_SEAL_CHUNK));
	} else {
		dstor_data_buf(&c->rx_pos, NULL, h->payload);
	}
	if (!h->payload) {
		c->rx_cur = NULL;
		if (rx)
			c->ops->rx_done(c, rx);
		conn_rx_next(c);
		return 1;
	}
	c->rx_off = 0;
	c->rx_state = c->seal ? RX_SLOT : RX_DATA;
	return 1;
}

/* A plaintext frame's payload, straight into its pages. */
static int conn_recv_data(struct dstor_conn *c)
{
	struct iov_iter it;
	struct kvec kv;
	int ret;

	dstor_data_iter(&c->rx_pos, ITER_DEST, &it, &kv, c->rx_left);
	ret = dstor_sock_recv(c->sock, &it);
	if (ret < 0)
		return ret;
	WRITE_ONCE(c->last_rx, jiffies);
	dstor_data_advance(&c->rx_pos, ret);
	c->rx_left -= ret;
	if (!c->rx_left) {
		struct dstor_rx *rx = c->rx_cur;

		c->rx_cur = NULL;
		if (rx)
			c->ops->rx_done(c, rx);
		conn_rx_next(c);
	}
	return 1;
}

static void conn_bad_record(struct dstor_conn *c)
{
	struct dstor_stats *stats = READ_ONCE(c->stats);

	if (stats)
		dstor_stat_add(stats, DSTOR_STAT_BAD_RECORDS, 1);
	net_warn_ratelimited("a sealed record failed to open (forged, replayed or corrupted); resetting the connection\n");
}

/* A payload record was opened (inline, or on the pool). */
static void conn_rec_opened(struct dstor_conn *c, struct dstor_rec *rec)
{
	struct dstor_rx *rx = rec->frame;
	int err = rec->err;

	dstor_seal_rx_free(rec);
	if (err == -EBADMSG)
		conn_bad_record(c);
	if (err)
		dstor_conn_fail(c, err == -EBADMSG ? err : -EPROTO);
	if (rx) {
		if (err)
			WRITE_ONCE(rx->err, err);
		if (atomic_dec_and_test(&rx->pending))
			c->ops->rx_done(c, rx);
	}
}

/* The crypto pool is done with a record of ours. */
static void conn_seal_done(struct dstor_rec *rec)
{
	struct dstor_conn *c = rec->sl->owner;

	if (rec->rx)
		conn_rec_opened(c, rec);
	/* A record to send, or a free receive slot. */
	dstor_conn_kick(c);
}

/*
 * The length bytes of a record and the record are read in one go: the
 * stream fixes every record's length (a header record, then the payload
 * in chunks), so the length bytes only confirm it.
 */
static int conn_recv_sealed(struct dstor_conn *c)
{
	struct dstor_rec *rec;
	int ret;

	switch (c->rx_state) {
	case RX_HREC:
		ret = conn_recv_buf(c, c->rx_buf,
				    DSTOR_REC_LEN_BYTES + DSTOR_REC_HDR);
		if (ret <= 0)
			return ret;
		/* A record out of place was forged, replayed or cut. */
		if (dstor_get32(c->rx_buf) != DSTOR_REC_HDR) {
			conn_bad_record(c);
			return -EBADMSG;
		}
		ret = dstor_seal_rx_hdr(c->seal, c->rx_buf, &c->rx_h);
		if (ret == -EBADMSG)
			conn_bad_record(c);
		if (ret)
			return ret;
		return conn_rx_frame(c);
	case RX_SLOT:
		rec = dstor_seal_rx_slot(c->seal,
					 dstor_rec_next_len(c->rx_left));
		if (!rec)
			return 0;	/* kicked when a slot is free */
		c->rx_rec = rec;
		c->rx_off = 0;
		c->rx_state = RX_DREC;
		return 1;
	case RX_DREC: {
		struct iov_iter it;

		rec = c->rx_rec;
		dstor_seal_rx_iter(rec, c->rx_off, &it);
		ret = conn_recv(c, &it, DSTOR_REC_LEN_BYTES + rec->n);
		if (ret < 0)
			return ret;
		WRITE_ONCE(c->last_rx, jiffies);
		c->rx_off += ret;
		if (c->rx_off < DSTOR_REC_LEN_BYTES + rec->n)
			return 1;
		if (dstor_get32(rec->len) != rec->n) {
			conn_bad_record(c);
			return -EBADMSG;
		}
		c->rx_rec = NULL;
		c->rx_left -= rec->n - DSTOR_TAG_LEN;
		/* Opened now (or refused now): accounted like the pool's. */
		if (dstor_seal_rx_open(rec, &c->rx_pos, c->rx_cur))
			conn_rec_opened(c, rec);
		if (!c->rx_left) {
			c->rx_cur = NULL;
			conn_rx_next(c);
		} else {
			c->rx_off = 0;
			c->rx_state = RX_SLOT;
		}
		return 1;
	}
	}
	return -EINVAL;
}

/* One step of receiving: >0 progress, 0 nothing to do now, or an error. */
static int conn_try_recv(struct dstor_conn *c)
{
	int ret;

	switch (c->rx_state) {
	case RX_HOLD:
		return conn_rx_frame(c);
	case RX_HDR:
		ret = conn_recv_buf(c, c->rx_buf, DSTOR_HDR_LEN);
		if (ret <= 0)
			return ret;
		if (dstor_hdr_decode(c->rx_buf, &c->rx_h))
			return -EPROTO;
		return conn_rx_frame(c);
	case RX_DATA:
		return conn_recv_data(c);
	default:
		return conn_recv_sealed(c);
	}
}

/* ---- io_work ---- */

/* Connecting: 1 once the TCP connection is up, 0 while not yet. */
static int conn_connecting(struct dstor_conn *c)
{
	struct sock *sk = c->sock->sk;
	int err;

	switch (READ_ONCE(sk->sk_state)) {
	case TCP_ESTABLISHED:
		clear_bit(DSTOR_CONN_CONNECTING, &c->flags);
		WRITE_ONCE(c->last_rx, jiffies);
		c->ops->connected(c);
		return 1;
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		return 0;
	default:
		/* Closed without an error: the connect is yet to start. */
		err = READ_ONCE(sk->sk_err);
		return err ? -err : 0;
	}
}

static void conn_io_work(struct work_struct *work)
{
	struct dstor_conn *c = container_of(work, struct dstor_conn, io_work);
	struct sock *sk = c->sock->sk;
	unsigned long deadline = jiffies + DSTOR_IO_BUDGET;
	unsigned int noreclaim = 0;
	bool memalloc = test_bit(DSTOR_CONN_MEMALLOC, &c->flags);
	int sent, rcvd;

	if (test_bit(DSTOR_CONN_DEAD, &c->flags) ||
	    test_bit(DSTOR_CONN_FAILED, &c->flags))
		return;
	if (test_bit(DSTOR_CONN_CONNECTING, &c->flags)) {
		rcvd = conn_connecting(c);
		if (rcvd < 0)
			dstor_conn_fail(c, rcvd);
		if (rcvd <= 0)
			return;
	}
	if (memalloc)
		noreclaim = memalloc_noreclaim_save();
	for (;;) {
		/*
		 * Reset, or timed out: take nothing more from the stream. What
		 * the socket still holds came before the reset, and its pages
		 * may be a failed request's that their owner is reusing by now
		 * (on loopback and veth, the receive queue holds the sender's
		 * own pages).
		 */
		sent = READ_ONCE(sk->sk_err);
		if (sent) {
			dstor_conn_fail(c, -sent);
			break;
		}
		sent = conn_try_send(c);
		if (sent < 0) {
			dstor_conn_fail(c, sent);
			break;
		}
		rcvd = conn_try_recv(c);
		if (rcvd == -EAGAIN)
			rcvd = 0;
		if (rcvd < 0) {
			dstor_conn_fail(c, rcvd);
			break;
		}
		if (!sent && !rcvd)
			break;
		if (test_bit(DSTOR_CONN_FAILED, &c->flags))
			break;
		if (time_after(jiffies, deadline)) {
			dstor_conn_kick(c);	/* budget spent: yield */
			break;
		}
	}
	if (memalloc)
		memalloc_noreclaim_restore(noreclaim);
}

/* ---- set-up and tear-down ---- */

/*
 * Connections whose io_work each CPU runs: importer connections
 * (import_io_cpu) and sealed exporter sessions (dstor_conn_move_off).
 */
static DEFINE_PER_CPU(atomic_t, io_load);

int dstor_io_load(int cpu)
{
	return atomic_read(per_cpu_ptr(&io_load, cpu));
}

void dstor_io_load_add(int cpu, int n)
{
	atomic_add(n, per_cpu_ptr(&io_load, cpu));
}

/* May @cpu run io_work? Online, and not isolated from workqueues. */
bool dstor_io_cpu_ok(int cpu, bool isolated)
{
	return cpu_online(cpu) &&
	       (isolated ||
		(cpumask_test_cpu(cpu, housekeeping_cpumask(HK_TYPE_WQ)) &&
		 cpumask_test_cpu(cpu, housekeeping_cpumask(HK_TYPE_DOMAIN))));
}

/*
 * From now on, run @c's io_work on another CPU than the one its packets
 * arrive on (sk_incoming_cpu): a sealed exporter session's, whose AEAD
 * then shares a CPU neither with the softirq nor, over a veth or loopback,
 * with its importer's io_work (Documentation/design.md has the numbers).
 * Of the CPUs that may run io_work, the one with the fewest connections,
 * on the packets' node if it has another. From io_work, once; it takes
 * effect when io_work next starts. Nothing changes when no other CPU may.
 */
void dstor_conn_move_off(struct dstor_conn *c)
{
	int rx = READ_ONCE(c->sock->sk->sk_incoming_cpu), best = -1, cpu;
	const struct cpumask *near;

	if (c->moved)
		return;
	if (rx < 0 || rx >= nr_cpu_ids)
		rx = raw_smp_processor_id();
	near = cpumask_of_node(cpu_to_node(rx));
	for_each_cpu_wrap(cpu, cpu_online_mask, rx) {
		if (cpu == rx || !dstor_io_cpu_ok(cpu, false))
			continue;
		if (best < 0 ||
		    cpumask_test_cpu(cpu, near) > cpumask_test_cpu(best, near) ||
		    (cpumask_test_cpu(cpu, near) ==
		     cpumask_test_cpu(best, near) &&
		     dstor_io_load(cpu) < dstor_io_load(best)))
			best = cpu;
	}
	if (best < 0)
		return;
	dstor_io_load_add(best, 1);
	c->moved = true;
	WRITE_ONCE(c->cpu, best);
}

static struct dstor_conn *conn_alloc(struct socket *sock,
				     const struct dstor_conn_ops *ops,
				     void *owner, struct dstor_stats *stats,
				     struct workqueue_struct *wq, int cpu)
{
	struct dstor_conn *c = kzalloc(sizeof(*c), GFP_NOIO);

	if (!c)
		return NULL;
	kref_init(&c->ref);
	c->wq = wq;
	c->cpu = cpu;
	c->sock = sock;
	c->ops = ops;
	c->owner = owner;
	c->stats = stats;
	spin_lock_init(&c->lock);
	INIT_WORK(&c->io_work, conn_io_work);
	timer_setup(&c->timer, conn_timer_fn, 0);
	init_llist_head(&c->tx_llist);
	c->rx_state = RX_HDR;
	tcp_sock_set_nodelay(sock->sk);
	atomic_inc(&dstor_live.conns);
	return c;
}

/*
 * A new, unconnected connection in @net: an importer's (dstor_imp_io),
 * its io_work run on @cpu.
 */
int dstor_conn_create(struct net *net, int family, int cpu,
		      const struct dstor_conn_ops *ops, void *owner,
		      struct dstor_stats *stats, struct dstor_conn **out)
{
	struct socket *sock;
	int ret;

	ret = sock_create_kern(net, family, SOCK_STREAM, IPPROTO_TCP, &sock);
	if (ret)
		return ret;
	*out = conn_alloc(sock, ops, owner, stats, dstor_imp_io_wq, cpu);
	if (!*out) {
		sock_release(sock);
		return -ENOMEM;
	}
	/* Not connected yet: io_work waits for the connect to finish. */
	set_bit(DSTOR_CONN_CONNECTING, &(*out)->flags);
	return 0;
}

/*
 * A connection for an accepted socket, which it now owns: an exporter
 * session's (dstor_srv_io).
 */
struct dstor_conn *dstor_conn_accepted(struct socket *sock,
				       const struct dstor_conn_ops *ops,
				       void *owner, struct dstor_stats *stats)
{
	return conn_alloc(sock, ops, owner, stats, dstor_srv_io_wq,
			  WORK_CPU_UNBOUND);
}

/*
 * From now on, close with a reset: what the connection still has queued
 * then (a write's pages, sent without a copy) is dropped, never delivered
 * late. Called when an importer's connection goes live: a handshake ends
 * with a FIN, so that the exporter still reads (and counts) the last
 * frame of a failed one.
 */
void dstor_conn_reset_on_close(struct dstor_conn *c)
{
	sock_no_linger(c->sock->sk);
}

/*
 * TCP's own keepalive under dstor's: probes after @idle seconds without
 * traffic, every @intvl (further apart if TCP's probe limit needs it),
 * and the connection fails when none was answered for @span seconds.
 * The stack sends and answers them without io_work, so a connection that
 * sends no pings of its own (a quiet queue, while queue 0 pings for it)
 * still finds a cut link and keeps NAT state. Process context.
 */
void dstor_conn_tcp_keepalive(struct dstor_conn *c, int idle, int intvl,
			      int span)
{
	struct sock *sk = c->sock->sk;
	int cnt;

	intvl = max3(intvl, DIV_ROUND_UP(span, MAX_TCP_KEEPCNT), 1);
	cnt = DIV_ROUND_UP(span, intvl);
	sock_set_keepalive(sk);
	tcp_sock_set_keepidle(sk, clamp(idle, 1, MAX_TCP_KEEPIDLE));
	tcp_sock_set_keepintvl(sk, clamp(intvl, 1, MAX_TCP_KEEPINTVL));
	tcp_sock_set_keepcnt(sk, clamp(cnt, 1, MAX_TCP_KEEPCNT));
}

/* Writeback goes through this connection: see dstor_sock_writeback_safe. */
void dstor_conn_writeback_safe(struct dstor_conn *c)
{
	dstor_sock_writeback_safe(c->sock);
	set_bit(DSTOR_CONN_MEMALLOC, &c->flags);
}

/* Take over the socket's callbacks and start the timer and io_work. */
void dstor_conn_start(struct dstor_conn *c)
{
	struct sock *sk = c->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	c->saved_data_ready = sk->sk_data_ready;
	c->saved_write_space = sk->sk_write_space;
	c->saved_state_change = sk->sk_state_change;
	sk->sk_user_data = c;
	sk->sk_data_ready = conn_data_ready;
	sk->sk_write_space = conn_write_space;
	sk->sk_state_change = conn_state_change;
	write_unlock_bh(&sk->sk_callback_lock);

	c->last_rx = jiffies;
	c->last_ping = jiffies;
	dstor_conn_timer(c);
	dstor_conn_kick(c);
}

/* Start connecting a started connection to @addr; ops->connected follows. */
int dstor_conn_connect(struct dstor_conn *c, struct sockaddr *addr, int len)
{
	int ret;

	ret = kernel_connect(c->sock, addr, len, O_NONBLOCK);
	if (ret && ret != -EINPROGRESS)
		return ret;
	dstor_conn_kick(c);
	return 0;
}

/* The peer proved the key: seal everything from the next frame on. */
int dstor_conn_seal(struct dstor_conn *c, u8 cipher, const u8 *ktx,
		    const u8 *krx)
{
	struct dstor_seal *sl;

	if (WARN_ON_ONCE(c->seal))
		return -EINVAL;
	sl = dstor_seal_new(cipher, ktx, krx, conn_seal_done, c);
	if (IS_ERR(sl))
		return PTR_ERR(sl);
	if (dstor_pages_alloc(c->rx_stage.pages, DSTOR_RX_STAGE_PAGES,
			      GFP_NOIO)) {
		dstor_seal_free(sl);
		return -ENOMEM;
	}
	c->seal = sl;
	return 0;
}

u8 dstor_conn_cipher(struct dstor_conn *c)
{
	return c->seal ? c->seal->cipher : 0;
}

/* Hand back every frame queued or half done, with -EPIPE. */
static void conn_drop(struct dstor_conn *c)
{
	struct dstor_seal *sl = c->seal;
	struct dstor_rx *rx = c->rx_cur;
	struct dstor_tx *tx;

	if (sl) {
		while (sl->tx_tail != sl->tx_head) {
			tx = sl->tx[sl->tx_tail % DSTOR_SEAL_SLOTS]->frame;
			dstor_seal_tx_free(sl);
			if (tx)
				conn_tx_done(c, tx, -EPIPE);
		}
	}
	if (c->tx_cur)
		conn_tx_done(c, c->tx_cur, -EPIPE);
	c->tx_cur = NULL;
	while ((tx = conn_next_tx(c)))
		conn_tx_done(c, tx, -EPIPE);

	c->rx_cur = NULL;
	if (!rx)
		return;
	rx->err = -EPIPE;
	/* Records of the frame that never arrived will not be opened. */
	if (!sl ||
	    atomic_sub_and_test(DIV_ROUND_UP(c->rx_left, DSTOR_SEAL_CHUNK),
				&rx->pending))
		c->ops->rx_done(c, rx);
}

/*
 * Stop for good: no callback, timer, record or io_work of the connection
 * runs after this returns, and every frame it held was handed back.
 * Process context; not from io_work or the owner's callbacks.
 */
void dstor_conn_stop(struct dstor_conn *c)
{
	struct sock *sk = c->sock->sk;

	spin_lock_irq(&c->lock);
	set_bit(DSTOR_CONN_DEAD, &c->flags);
	spin_unlock_irq(&c->lock);

	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_user_data == c) {
		sk->sk_user_data = NULL;
		sk->sk_data_ready = c->saved_data_ready;
		sk->sk_write_space = c->saved_write_space;
		sk->sk_state_change = c->saved_state_change;
	}
	write_unlock_bh(&sk->sk_callback_lock);
	kernel_sock_shutdown(c->sock, SHUT_RDWR);
	timer_delete_sync(&c->timer);
	/*
	 * io_work first: nothing can queue it again (every kick checks DEAD),
	 * and once it is gone nothing hands the pool another record. Then the
	 * pool's records: their completions only account frames now.
	 */
	cancel_work_sync(&c->io_work);
	if (c->seal)
		dstor_seal_flush(c->seal);
	if (c->rx_rec)
		dstor_seal_rx_free(c->rx_rec);
	c->rx_rec = NULL;
	conn_drop(c);
}

void dstor_conn_get(struct dstor_conn *c)
{
	kref_get(&c->ref);
}

static void conn_release(struct kref *ref)
{
	struct dstor_conn *c = container_of(ref, struct dstor_conn, ref);

	if (c->moved)
		dstor_io_load_add(c->cpu, -1);
	sock_release(c->sock);
	dstor_seal_free(c->seal);
	dstor_pages_free(c->rx_stage.pages, DSTOR_RX_STAGE_PAGES);
	kfree(c);
	atomic_dec(&dstor_live.conns);
}

void dstor_conn_put(struct dstor_conn *c)
{
	if (c)
		kref_put(&c->ref, conn_release);
}

/*
 * Importer connections: per-CPU, each on the CPU its import chose for its
 * hardware queue (import_io_cpu), as nvme-tcp's io_cpu. Kicks come from
 * where the I/O is submitted and where packets arrive, both usually the
 * submitter's CPU (loopback, and a NIC without RPS, process a packet on
 * the CPU that sent or took it): io_work queued where it was kicked put
 * the submitter, its io_work and the peer's on one CPU and left the others
 * idle; an unbound queue woke a worker per kick wherever the scheduler
 * put it. A fixed CPU other than the submitter's takes both: the
 * submitter hands over and goes on, and kicks batch on one worker.
 *
 * Exporter sessions: per-CPU, as nvmet-tcp's. A per-CPU pool runs many
 * short work items on one worker per CPU (concurrency managed) where an
 * unbound pool wakes a worker per item: with both ends unbound,
 * hostile.sh's 2000 hostile connections took 1.6x the time, and the test
 * 1.3x the CPU, of both per-CPU.
 *
 * make bench on 6.1, two vCPUs, 4k random reads/writes per second: both
 * per-CPU 1835/1736, both unbound 2681/2590, importer unbound and sessions
 * per-CPU 3026/3505, 3359/3231 on a later day; importer on a fixed CPU
 * and sessions per-CPU 6242/5703 the same day, and with the importer's
 * io_work on the submitter's own CPU 2024/1868 (Documentation/testing.md).
 *
 * Two queues, each with its own rescuer and its own limit of active
 * items: a session's io_work may sleep in submit_bio (tags, writeback
 * throttling), and sessions asleep there must never hold up an importer
 * connection of the same host, on which that very device's writeback may
 * depend (a mirror with a leg on /dev/dstorN). WQ_SYSFS: an administrator
 * can set either queue's limit.
 */
int dstor_conn_init(void)
{
	unsigned int flags = WQ_MEM_RECLAIM | WQ_HIGHPRI | WQ_SYSFS;

	dstor_imp_io_wq = alloc_workqueue("dstor_imp_io", flags, 0);
	if (!dstor_imp_io_wq)
		return -ENOMEM;
	dstor_srv_io_wq = alloc_workqueue("dstor_srv_io", flags, 0);
	if (!dstor_srv_io_wq) {
		destroy_workqueue(dstor_imp_io_wq);
		return -ENOMEM;
	}
	return 0;
}

void dstor_conn_exit(void)
{
	destroy_workqueue(dstor_srv_io_wq);
	destroy_workqueue(dstor_imp_io_wq);
}
