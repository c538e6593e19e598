// SPDX-License-Identifier: GPL-2.0
/*
 * A sync's connection to an exporter (dstor sync --peer; the exchange is in
 * Documentation/reconciliation.md): the importer's handshake (handshake.c),
 * so the same keys, sealed records and access lists apply, offering
 * protocol version 4 only, on a connection of conn.c's; then requests the
 * sync thread queues and replies it waits for.
 *
 * The thread submits a request (dstor_peer_submit()) and later takes it
 * back answered (dstor_peer_wait()), in the order the replies came. A
 * reply is matched to its request by the handle, slot and sequence number
 * both: one that answers nothing asked, or whose offset, length or payload
 * is not what its request's op makes it, is a protocol error and ends the
 * connection, and with it the sync's round. The connection's callbacks run
 * in its io_work and on the crypto pool; they only fill requests in and
 * wake the thread.
 */
#include <linux/bio.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <net/tcp.h>

#include "dstor.h"
#include "sync.h"
#include "sync_peer.h"
#include "tree.h"

/* Connected and through the handshake within this. */
#define PEER_CONNECT_TIMEOUT	(10 * HZ)

#define SLOT_BITS	8
#define SLOT_MASK	((1U << SLOT_BITS) - 1)

static void peer_fail(struct dstor_peer *p, int err)
{
	unsigned long fl;

	spin_lock_irqsave(&p->lock, fl);
	if (!p->err)
		p->err = err;
	spin_unlock_irqrestore(&p->lock, fl);
	wake_up(&p->wq);
}

/* ---- the connection's callbacks ---- */

/*
 * The request a reply's handle names, if it is outstanding and was sent
 * (a reply to a request still queued is forged: its handle was guessed).
 */
static struct dstor_peer_req *peer_find(struct dstor_peer *p, u64 handle)
{
	u32 slot = handle & SLOT_MASK;
	struct dstor_peer_req *r;
	unsigned long fl;

	BUILD_BUG_ON(BIT(SLOT_BITS) < DSTOR_PEER_MAX_REQS);
	if (slot >= DSTOR_PEER_MAX_REQS)
		return NULL;
	spin_lock_irqsave(&p->lock, fl);
	r = p->slots[slot];
	if (r && r->tx.hdr.handle == handle && READ_ONCE(r->sent))
		p->slots[slot] = NULL;
	else
		r = NULL;
	spin_unlock_irqrestore(&p->lock, fl);
	return r;
}

static struct dstor_rx *peer_rx_hdr(struct dstor_conn *c,
				    const struct dstor_hdr *h)
{
	struct dstor_peer *p = c->owner;
	struct dstor_peer_req *r;

	if (!READ_ONCE(p->hs_done))
		return dstor_hs_client_rx_hdr(&p->hs, h);
	if (h->op == DSTOR_OP_PONG)
		return NULL;
	if (h->op != DSTOR_OP_REPLY)
		return ERR_PTR(-EPROTO);
	r = peer_find(p, h->handle);
	if (!r || h->offset != r->offset || h->length != r->length ||
	    h->payload != (h->status == DSTOR_ST_OK ? r->want : 0))
		return ERR_PTR(-EPROTO);
	r->status = h->status;
	if (!h->payload)
		dstor_data_buf(&r->rx.data, NULL, 0);
	else if (r->bio)
		dstor_data_bio(&r->rx.data, r->bio, r->bio->bi_iter, r->want);
	else
		dstor_data_buf(&r->rx.data, r->buf, r->want);
	return &r->rx;
}

static void peer_rx_done(struct dstor_conn *c, struct dstor_rx *rx)
{
	struct dstor_peer *p = c->owner;
	struct dstor_peer_req *r;
	unsigned long fl;
	int ret;

	if (rx == &p->hs.rx) {
		if (rx->err)
			return;
		ret = dstor_hs_client_rx_done(&p->hs, c);
		if (ret < 0) {
			dstor_conn_fail(c, ret);
		} else if (ret > 0) {
			/* Through: the connect deadline no longer applies. */
			WRITE_ONCE(c->deadline, 0);
			/*
			 * Idle until READs go (the target may take minutes to
			 * hash): pings keep the session.
			 */
			WRITE_ONCE(c->keepalive, DSTOR_DEFAULT_KEEPALIVE * HZ);
			WRITE_ONCE(c->dead_after, DSTOR_DEFAULT_DEAD_AFTER * HZ);
			dstor_conn_timer(c);
			/* p->hs.info is complete (acquire in peer_hs_over()). */
			smp_store_release(&p->hs_done, true);
			wake_up(&p->wq);
		}
		return;
	}
	r = container_of(rx, struct dstor_peer_req, rx);
	if (rx->err) {
		/* Never used: the connection has failed (failed() says why). */
		r->status = DSTOR_ST_IOERR;
	}
	spin_lock_irqsave(&p->lock, fl);
	list_add_tail(&r->node, &p->done);
	spin_unlock_irqrestore(&p->lock, fl);
	wake_up(&p->wq);
}

static void peer_tx_done(struct dstor_conn *c, struct dstor_tx *tx, int err)
{
	struct dstor_peer *p = c->owner;

	/* A request completes by its reply, a dropped one with the failure. */
	if (err || tx == &p->hs.tx_hello || tx == &p->hs.tx_response ||
	    tx == &c->ping_tx)
		return;
	WRITE_ONCE(container_of(tx, struct dstor_peer_req, tx)->sent, true);
}

static void peer_failed(struct dstor_conn *c, int err)
{
	peer_fail(c->owner, err);
}

static void peer_connected(struct dstor_conn *c)
{
	struct dstor_peer *p = c->owner;
	int ret = dstor_hs_client_start(&p->hs, c);

	if (ret)
		dstor_conn_fail(c, ret);
}

static const struct dstor_conn_ops peer_conn_ops = {
	.rx_hdr = peer_rx_hdr,
	.rx_done = peer_rx_done,
	.tx_done = peer_tx_done,
	.failed = peer_failed,
	.connected = peer_connected,
};

/* ---- the sync thread's calls ---- */

/* The handshake is done, or will never be. */
static bool peer_hs_over(struct dstor_peer *p)
{
	/* Acquire: pairs with the release in peer_rx_done(). */
	return smp_load_acquire(&p->hs_done) || READ_ONCE(p->err) ||
	       dstor_sync_stopping();
}

/*
 * Start connecting to the export @name at @ep, as an importer with @key
 * (or none) that reads only; dstor_peer_dialled() tells when the handshake
 * ended. 0, or an error the caller explains with dstor_why_text(p->hs.why).
 */
int dstor_peer_dial(struct dstor_peer *p, struct net *net,
		    const struct dstor_endpoint *ep, const char *name,
		    const struct dstor_key *key, struct dstor_stats *stats)
{
	struct dstor_hello *hello = &p->hs.hello;
	struct dstor_conn *c;
	int ret;

	memset(p, 0, sizeof(*p));
	spin_lock_init(&p->lock);
	INIT_LIST_HEAD(&p->done);
	init_waitqueue_head(&p->wq);
	p->seq = get_random_u32();

	strscpy(hello->name, name, sizeof(hello->name));
	hello->version_min = DSTOR_PROTO_VERSION_TREE;
	hello->flags = DSTOR_HELLO_READ_ONLY;
	hello->session = get_random_u64();
	hello->nr_queues = 1;
	hello->keepalive = DSTOR_DEFAULT_KEEPALIVE;
	hello->dead_after = DSTOR_DEFAULT_DEAD_AFTER;
	if (key && key->set)
		p->hs.key = *key;

	ret = dstor_conn_create(net, ep->ss.ss_family, WORK_CPU_UNBOUND,
				&peer_conn_ops, p, stats, &c);
	if (ret) {
		p->hs.why = DSTOR_WHY_NOMEM;
		return ret;
	}
	p->conn = c;
	c->deadline = jiffies + PEER_CONNECT_TIMEOUT;
	dstor_conn_start(c);
	ret = dstor_conn_connect(c, (struct sockaddr *)&ep->ss, ep->len);
	if (ret)
		dstor_conn_fail(c, ret);
	return 0;
}

/*
 * The handshake of dstor_peer_dial(), once it ended (@wait: waiting for
 * that): 0 when connected, -EINPROGRESS while it goes on (not @wait), or
 * an error as dstor_peer_dial()'s; then the connection is closed.
 */
int dstor_peer_dialled(struct dstor_peer *p, bool wait)
{
	struct dstor_conn *c = p->conn;
	long left = 1;
	int ret;

	if (wait)
		left = wait_event_interruptible_timeout(p->wq, peer_hs_over(p),
							PEER_CONNECT_TIMEOUT + HZ);
	else if (!peer_hs_over(p))
		return -EINPROGRESS;
	/* Acquire: pairs with the release in peer_rx_done(); hs.info is in. */
	if (smp_load_acquire(&p->hs_done) && !READ_ONCE(p->err)) {
		p->info = p->hs.info;
		return 0;
	}
	ret = left < 0 || dstor_sync_stopping() ? -EINTR :
	      READ_ONCE(p->err) ?: -ETIMEDOUT;
	/* Stopped first: io_work no longer touches p->hs. */
	dstor_conn_stop(c);
	if (ret != -EINTR && p->hs.why == DSTOR_WHY_NONE)
		p->hs.why = dstor_hs_client_failed(&p->hs, ret);
	dstor_peer_close(p);
	return ret;
}

/* Both: connect, and wait for the handshake. */
int dstor_peer_connect(struct dstor_peer *p, struct net *net,
		       const struct dstor_endpoint *ep, const char *name,
		       const struct dstor_key *key, struct dstor_stats *stats)
{
	int ret = dstor_peer_dial(p, net, ep, name, key, stats);

	return ret ?: dstor_peer_dialled(p, true);
}

/*
 * End the connection. Every request submitted and not yet waited for is
 * given back: the caller frees them after (see dstor_peer_wait()).
 */
void dstor_peer_close(struct dstor_peer *p)
{
	if (!p->conn)
		return;
	dstor_conn_stop(p->conn);
	dstor_conn_put(p->conn);
	p->conn = NULL;
	dstor_hs_client_wipe(&p->hs);
}

/*
 * Queue @r (op, offset, length, and buf or bio set; for TREE_FP gen). The
 * caller keeps at most DSTOR_PEER_MAX_REQS submitted at once (-EBUSY).
 */
int dstor_peer_submit(struct dstor_peer *p, struct dstor_peer_req *r)
{
	unsigned int i;

	switch (r->op) {
	case DSTOR_OP_TREE_INFO:
		r->want = DSTOR_TREE_INFO_LEN;
		break;
	case DSTOR_OP_TREE_FP:
		r->want = dstor_tree_fp_reply_len(r->length);
		break;
	default:
		r->want = r->length;
		break;
	}
	r->status = DSTOR_ST_IOERR;
	r->sent = false;
	r->tx.plain = false;
	r->tx.hdr = (struct dstor_hdr) {
		.op = r->op,
		.offset = r->offset,
		.length = r->length,
	};
	atomic_set(&r->rx.pending, 0);
	r->rx.err = 0;
	if (r->op == DSTOR_OP_TREE_FP) {
		r->tx.hdr.payload = DSTOR_TREE_GEN_LEN;
		dstor_data_buf(&r->tx.data, r->gen, DSTOR_TREE_GEN_LEN);
	} else {
		dstor_data_buf(&r->tx.data, NULL, 0);
	}

	/* Whole before it is findable: a reply may come at once. */
	spin_lock_irq(&p->lock);
	for (i = 0; i < DSTOR_PEER_MAX_REQS && p->slots[i]; i++)
		;
	if (WARN_ON_ONCE(i == DSTOR_PEER_MAX_REQS)) {
		spin_unlock_irq(&p->lock);
		return -EBUSY;
	}
	r->tx.hdr.handle = ++p->seq << SLOT_BITS | i;
	p->slots[i] = r;
	p->nr_reqs++;
	spin_unlock_irq(&p->lock);
	dstor_conn_queue(p->conn, &r->tx);
	return 0;
}

/*
 * The next answered request, in the order replies came; ERR_PTR(-EINTR)
 * when the thread is to stop, -ETIME when nothing was answered within
 * DSTOR_PEER_REQ_TIMEOUT, or the connection's error once it failed
 * (p->err): then dstor_peer_close() and the requests are the caller's.
 */
struct dstor_peer_req *dstor_peer_wait(struct dstor_peer *p)
{
	long left;

	left = wait_event_interruptible_timeout(p->wq,
						!list_empty_careful(&p->done) ||
						READ_ONCE(p->err) ||
						dstor_sync_stopping(),
						DSTOR_PEER_REQ_TIMEOUT);
	if (left < 0 || dstor_sync_stopping())
		return ERR_PTR(-EINTR);
	if (!left)
		return ERR_PTR(-ETIME);
	return dstor_peer_poll(p) ?: ERR_PTR(-EIO);
}

/*
 * Without waiting: the next answered request, NULL when none is, or the
 * connection's error once it failed (as dstor_peer_wait()).
 */
struct dstor_peer_req *dstor_peer_poll(struct dstor_peer *p)
{
	struct dstor_peer_req *r = NULL;
	int ret = 0;

	spin_lock_irq(&p->lock);
	if (p->err) {
		ret = p->err;
	} else if (!list_empty(&p->done)) {
		r = list_first_entry(&p->done, struct dstor_peer_req, node);
		list_del(&r->node);
		p->nr_reqs--;
	}
	spin_unlock_irq(&p->lock);
	return ret ? ERR_PTR(ret) : r;
}

/* Bytes the exporter has sent us on this connection, as TCP counts them. */
u64 dstor_peer_wire_bytes(struct dstor_peer *p)
{
	struct sock *sk = p->conn ? p->conn->sock->sk : NULL;

	return sk ? READ_ONCE(tcp_sk(sk)->bytes_received) : 0;
}
