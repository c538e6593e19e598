// SPDX-License-Identifier: GPL-2.0
/*
 * The import's controller: one delayed work per import that makes every
 * change to the import's connections, one at a time.
 *
 * Each queue is, as the controller sees it,
 *	down        no connection; a connect is due at retry_at
 *	connecting  q->next runs its TCP connect and handshake (io_work)
 *	live        q->conn carries requests
 * and the import as a whole is connected (every queue live), reconnecting,
 * failed (I/O fails while a queue is down) or deleting. Connections,
 * blk-mq timeouts and deletion only report to the controller (a flag and
 * a kick); the controller reacts:
 *	live, and its connection failed -> stop it, park its requests,
 *		down (connect again at once)
 *	connecting, and it failed -> down, retry after a backoff doubling
 *		from reconnect_min to reconnect_max seconds
 *	connecting, and the handshake is done -> check it is the same
 *		export (uuid, size, block size, no new volatile cache), live,
 *		resend the parked requests
 *	down, and retry_at has come -> connecting
 * Stopping a connection waits for nothing but its own io_work, timer and
 * crypto records, none of which waits on anything: a reconnect can never
 * hang behind a connection that went quiet. Deletion stops the controller
 * first, so nothing else changes the connections meanwhile.
 */
#include <linux/sched/mm.h>

#include "dstor.h"
#include "import.h"
#include "netlink.h"

/* A connection must be up and through its handshake within this. */
#define DSTOR_CONNECT_TIMEOUT	(10 * HZ)
/* Seconds idle before TCP probes a connection (dstor_conn_tcp_keepalive). */
#define DSTOR_TCP_KEEPIDLE	60

void dstor_ctrl_kick(struct dstor_import *imp)
{
	unsigned long fl;

	spin_lock_irqsave(&imp->ctrl_lock, fl);
	if (!imp->ctrl_stopped)
		mod_delayed_work(dstor_ctrl_wq, &imp->ctrl_work, 0);
	spin_unlock_irqrestore(&imp->ctrl_lock, fl);
}

/* ---- the connection's callbacks ---- */

static struct dstor_rx *queue_rx_hdr(struct dstor_conn *c,
				     const struct dstor_hdr *h)
{
	struct dstor_queue *q = c->owner;

	if (c == READ_ONCE(q->conn))
		return dstor_import_rx_reply(q, h);
	return dstor_hs_client_rx_hdr(&q->hs, h);
}

static void queue_rx_done(struct dstor_conn *c, struct dstor_rx *rx)
{
	struct dstor_queue *q = c->owner;
	int ret;

	if (rx != &q->hs.rx) {
		dstor_import_reply_done(rx);
		return;
	}
	if (rx->err)
		return;
	ret = dstor_hs_client_rx_done(&q->hs, c);
	if (ret < 0) {
		dstor_conn_fail(c, ret);
	} else if (ret > 0) {
		/* q->hs is complete: see hs_done(). */
		smp_store_release(&q->hs_done, true);
		dstor_ctrl_kick(q->imp);
	}
}

static void queue_tx_done(struct dstor_conn *c, struct dstor_tx *tx, int err)
{
	struct dstor_queue *q = c->owner;

	/*
	 * A request's frame is off our hands: its reply may now complete it
	 * (requests complete by their replies, or are parked and resent).
	 */
	if (tx != &q->hs.tx_hello && tx != &q->hs.tx_response)
		dstor_import_tx_done(tx);
}

static void queue_failed(struct dstor_conn *c, int err)
{
	struct dstor_queue *q = c->owner;
	struct dstor_import *imp = q->imp;

	if (c == READ_ONCE(q->conn) &&
	    !test_bit(DSTOR_IMP_DYING, &imp->state_bits)) {
		/* Said here, at once: the kernel log's clock tells when. */
		if (err == -ETIMEDOUT)
			pr_warn("%s: nothing heard on connection %u for %lus; reconnecting\n",
				imp->label, q->qid,
				READ_ONCE(c->dead_after) / HZ);
		else if (err == -EPROTO)
			pr_err_ratelimited("%s: protocol error from the peer on connection %u\n",
					   imp->label, q->qid);
	}
	dstor_ctrl_kick(imp);
}

static void queue_connected(struct dstor_conn *c)
{
	struct dstor_queue *q = c->owner;
	int ret = dstor_hs_client_start(&q->hs, c);

	if (ret)
		dstor_conn_fail(c, ret);
}

const struct dstor_conn_ops dstor_queue_conn_ops = {
	.rx_hdr = queue_rx_hdr,
	.rx_done = queue_rx_done,
	.tx_done = queue_tx_done,
	.failed = queue_failed,
	.connected = queue_connected,
};

/* ---- the controller ---- */

static unsigned int next_backoff(struct dstor_queue *q)
{
	struct dstor_timers *t = &q->imp->timers;
	unsigned int lo = READ_ONCE(t->reconnect_min);
	unsigned int hi = READ_ONCE(t->reconnect_max);

	if (!q->backoff)
		return lo;
	return clamp(q->backoff * 2, lo, max(lo, hi));
}

static void queue_retry_later(struct dstor_queue *q, enum dstor_why why)
{
	struct dstor_import *imp = q->imp;

	q->backoff = next_backoff(q);
	/* Say why once per cause: a refusal needs the admin. */
	if (why != q->last_why)
		pr_warn("%s: reconnect of connection %u failed: %s; retrying every %u s at most\n",
			imp->label, q->qid, dstor_why_text(why),
			READ_ONCE(imp->timers.reconnect_max));
	q->last_why = why;
	WRITE_ONCE(imp->why, why);
	q->retry_at = jiffies + q->backoff * HZ;
}

static void queue_drop_next(struct dstor_queue *q)
{
	struct dstor_conn *c = q->next;

	q->next = NULL;
	dstor_conn_stop(c);
	dstor_conn_put(c);
	dstor_hs_client_wipe(&q->hs);
}

/* Open a new connection; its handshake runs in its io_work. */
static void queue_connect(struct dstor_queue *q)
{
	struct dstor_import *imp = q->imp;
	struct dstor_hello *hello = &q->hs.hello;
	struct dstor_conn *c;
	u32 ka, dead;
	int ret;

	ret = dstor_conn_create(imp->net, imp->peer.ss.ss_family, q->io_cpu,
				&dstor_queue_conn_ops, q, &imp->stats, &c);
	if (ret) {
		if (imp->adding)
			imp->add_why = DSTOR_WHY_NOMEM;
		else
			queue_retry_later(q, DSTOR_WHY_NOMEM);
		return;
	}
	dstor_conn_writeback_safe(c);
	c->deadline = jiffies + DSTOR_CONNECT_TIMEOUT;
	ka = READ_ONCE(imp->timers.keepalive);
	dead = READ_ONCE(imp->timers.dead_after);
	/*
	 * A quiet queue sends nothing while idle (queue_set_timers): TCP
	 * probes it every minute, well inside NAT idle timeouts, and finds a
	 * cut link as dstor's own pings would.
	 */
	if (ka)
		dstor_conn_tcp_keepalive(c, DSTOR_TCP_KEEPIDLE, ka, dead);

	memset(&q->hs, 0, sizeof(q->hs));
	strscpy(hello->name, imp->name, sizeof(hello->name));
	hello->session = imp->session;
	hello->queue = q->qid;
	hello->nr_queues = imp->nr_queues;
	if (imp->flags & DSTOR_F_READ_ONLY)
		hello->flags |= DSTOR_HELLO_READ_ONLY;
	hello->keepalive = READ_ONCE(imp->timers.keepalive);
	hello->dead_after = READ_ONCE(imp->timers.dead_after);
	spin_lock(&imp->key_lock);
	q->hs.key = imp->key;
	spin_unlock(&imp->key_lock);

	q->hs_done = false;
	q->next = c;
	dstor_conn_start(c);
	ret = dstor_conn_connect(c, (struct sockaddr *)&imp->peer.ss,
				 imp->peer.len);
	if (ret)
		dstor_conn_fail(c, ret);	/* seen at the next step */
}

/* Is the export that answered the one this import was made of? */
static enum dstor_why queue_check(struct dstor_import *imp,
				  const struct dstor_hello_reply *info)
{
	const struct dstor_hello_reply *was = &imp->info;

	if (memcmp(info->uuid, was->uuid, DSTOR_UUID_LEN))
		return DSTOR_WHY_IDENTITY;
	if (info->size != was->size ||
	    info->logical_block_size != was->logical_block_size)
		return DSTOR_WHY_GEOMETRY;
	/* Our queue sends no flushes: writes would sit in that cache. */
	if ((info->flags & DSTOR_EXP_FLUSH) && !(was->flags & DSTOR_EXP_FLUSH))
		return DSTOR_WHY_CACHE;
	return DSTOR_WHY_NONE;
}

/*
 * The keepalive the exporter holds this queue's session to: what its HELLO
 * announced. Queue 0 pings for every quiet queue too: the shortest of theirs.
 */
static u32 queue_ka_told(struct dstor_queue *q)
{
	struct dstor_import *imp = q->imp;
	u32 ka = q->ka_told;
	unsigned int i;

	for (i = 1; !q->qid && i < imp->nr_queues; i++)
		if (imp->queues[i].conn && imp->queues[i].ka_quiet)
			ka = min(ka, imp->queues[i].ka_told);
	return ka;
}

static void queue_set_timers(struct dstor_queue *q, struct dstor_conn *c)
{
	struct dstor_import *imp = q->imp;
	struct dstor_timers *t = &imp->timers;
	/*
	 * The exporter reaps a session silent for longer than the keepalive
	 * its HELLO announced (plus dead-after): a longer one takes effect
	 * at the next connection.
	 */
	unsigned long ka = min(READ_ONCE(t->keepalive), queue_ka_told(q)) * HZ;
	unsigned long dead = READ_ONCE(t->dead_after) * HZ;

	/*
	 * While queue 0 is live, it pings for the import (as NVMe's
	 * keep-alive goes on the admin queue only): the exporter counts the
	 * other queues' sessions heard while it is, and they send nothing
	 * of their own; a request on them that goes unanswered times out.
	 * While queue 0 is down, each pings and times out by itself again
	 * (queue 0 steps first: the others see it down in the same pass).
	 */
	if (q->ka_quiet && imp->queues[0].conn) {
		ka = 0;
		dead = 0;
	}
	if (c->keepalive == ka && c->dead_after == dead && !c->deadline)
		return;
	/*
	 * Quiet until now (queue 0 went down; not a connection just out of
	 * its handshake): it may have heard nothing for hours, which says
	 * nothing of the link. Its clock starts now, with a ping.
	 */
	if (!c->dead_after && dead && !c->deadline) {
		WRITE_ONCE(c->last_rx, jiffies);
		smp_wmb();	/* pairs with conn_timer_fn(): last_rx first */
		dstor_conn_ping(c);
	}
	WRITE_ONCE(c->deadline, 0);
	WRITE_ONCE(c->keepalive, ka);
	WRITE_ONCE(c->dead_after, dead);
	dstor_conn_timer(c);
}

/* The live connection failed: stop it and park its requests. */
static void queue_down(struct dstor_queue *q)
{
	struct dstor_import *imp = q->imp;
	struct dstor_conn *c = q->conn;
	int err = READ_ONCE(c->err);
	enum dstor_why why = err == -ECANCELED ? DSTOR_WHY_TIMEDOUT :
			     dstor_why_conn(err);

	spin_lock(&q->lock);
	q->conn = NULL;
	spin_unlock(&q->lock);
	dstor_conn_stop(c);
	dstor_conn_put(c);
	dstor_import_park(q);
	if (imp->adding) {
		imp->add_why = why;
		return;
	}
	WRITE_ONCE(imp->why, why);
	pr_warn("%s: connection %u to the exporter lost (%s); reconnecting\n",
		imp->label, q->qid, dstor_why_text(why));
	dstor_netlink_event(imp, DSTOR_EVENT_LINK_LOST, q->qid);
	q->backoff = 0;
	q->retry_at = jiffies;
}

/*
 * The export answered with a new incarnation: every other queue's
 * connection, live or in its handshake, may be to the old one. End them;
 * the handshakes start again (and find the new one).
 */
static void queue_down_others(struct dstor_queue *q)
{
	struct dstor_import *imp = q->imp;
	unsigned int i;

	for (i = 0; i < imp->nr_queues; i++) {
		struct dstor_queue *o = &imp->queues[i];

		if (o == q)
			continue;
		if (o->next) {
			queue_drop_next(o);
			o->retry_at = jiffies;
		}
		if (o->conn) {
			dstor_conn_fail(o->conn, -ESTALE);
			queue_down(o);
		}
	}
	/*
	 * Those stepped before @q in this pass are down now and connect at
	 * once: look again, else nothing would (they have no connection
	 * left to kick us).
	 */
	dstor_ctrl_kick(imp);
}

/* The new connection finished its handshake: make it the live one. */
static void queue_up(struct dstor_queue *q)
{
	struct dstor_import *imp = q->imp;
	const struct dstor_hello_reply *info = &q->hs.info;
	struct dstor_conn *c = q->next;
	enum dstor_why why;

	if (imp->adding) {
		/* Every connection must find the same export. */
		if (!imp->have_info)
			imp->info = *info;
		else if (memcmp(info, &imp->info, sizeof(*info)))
			imp->add_why = DSTOR_WHY_CHANGED;
		imp->have_info = true;
		if (imp->add_why) {
			queue_drop_next(q);
			return;
		}
	} else {
		why = queue_check(imp, info);
		if (why) {
			queue_drop_next(q);
			dstor_import_set_failed(imp, why);
			queue_retry_later(q, why);
			return;
		}
		if (info->incarnation != imp->info.incarnation) {
			/*
			 * The export was added again (an exporter restart):
			 * what its volatile cache held is gone. If a write
			 * completed since the last completed FLUSH, it may be,
			 * after it was acknowledged: that must not pass
			 * silently. The other queues still talk to the old
			 * incarnation: take them down first, so no reply
			 * still in their sockets completes a write after the
			 * counters are read (their requests are resent to
			 * the new one).
			 */
			queue_down_others(q);
			if ((imp->info.flags & DSTOR_EXP_FLUSH) &&
			    atomic64_read(&imp->writes_done) >
			    atomic64_read(&imp->writes_flushed)) {
				queue_drop_next(q);
				set_bit(DSTOR_IMP_LOST, &imp->state_bits);
				dstor_import_set_failed(imp,
							DSTOR_WHY_CACHE_LOST);
				return;
			}
			imp->info.incarnation = info->incarnation;
		}
	}
	q->next = NULL;
	q->ka_told = q->hs.hello.keepalive;
	q->ka_quiet = q->qid && (info->flags & DSTOR_EXP_KA_LEAD);
	imp->cipher = q->hs.cipher;
	dstor_hs_client_wipe(&q->hs);
	queue_set_timers(q, c);
	dstor_conn_reset_on_close(c);
	spin_lock(&q->lock);
	q->conn = c;
	spin_unlock(&q->lock);
	/* Queue 0 now pings for this one too, as often as it announced. */
	if (q->ka_quiet && imp->queues[0].conn)
		queue_set_timers(&imp->queues[0], imp->queues[0].conn);
	dstor_import_resend(q);
	q->backoff = 0;
	q->last_why = DSTOR_WHY_NONE;
	if (imp->adding)
		return;
	dstor_stat_add(&imp->stats, DSTOR_STAT_RECONNECTS, 1);
	pr_info("%s: connection %u to the exporter re-established\n",
		imp->label, q->qid);
	if (dstor_import_connected(imp) == imp->nr_queues) {
		WRITE_ONCE(imp->why, DSTOR_WHY_NONE);
		clear_bit(DSTOR_IMP_FAILED, &imp->state_bits);
	}
	dstor_netlink_event(imp, DSTOR_EVENT_RECONNECTED, q->qid);
}

static bool hs_done(struct dstor_queue *q)
{
	/* Pairs with queue_rx_done(): q->hs is complete. */
	return smp_load_acquire(&q->hs_done);
}

/* One queue's step; *@wait shrinks to when it wants to run again. */
static void queue_step(struct dstor_queue *q, unsigned long *wait)
{
	struct dstor_import *imp = q->imp;
	struct dstor_conn *c = q->conn;
	long left;

	if (c && test_bit(DSTOR_CONN_FAILED, &c->flags))
		queue_down(q);
	else if (c)
		queue_set_timers(q, c);
	c = q->next;
	if (c && test_bit(DSTOR_CONN_FAILED, &c->flags)) {
		enum dstor_why why;

		smp_rmb();	/* FAILED before the reason */
		why = dstor_hs_client_failed(&q->hs, READ_ONCE(c->err));
		queue_drop_next(q);
		if (imp->adding)
			imp->add_why = imp->add_why ?: why;
		else
			queue_retry_later(q, why);
	} else if (c && hs_done(q)) {
		queue_up(q);
	}
	if (q->conn || q->next || (imp->adding && imp->add_why) ||
	    test_bit(DSTOR_IMP_LOST, &imp->state_bits))
		return;
	left = (long)(q->retry_at - jiffies);
	if (left <= 0) {
		queue_connect(q);
		if (q->next || imp->adding)
			return;
		/* It could not even start (no memory): retry_at moved on. */
		left = max(1L, (long)(q->retry_at - jiffies));
	}
	*wait = min_t(unsigned long, *wait, left);
}

static void ctrl_work(struct work_struct *work)
{
	struct dstor_import *imp = container_of(to_delayed_work(work),
						struct dstor_import, ctrl_work);
	unsigned long wait = MAX_JIFFY_OFFSET, fl;
	unsigned int i, noio = memalloc_noio_save();

	for (i = 0; i < imp->nr_queues; i++)
		queue_step(&imp->queues[i], &wait);
	if (imp->adding && (imp->add_why ||
			    dstor_import_connected(imp) == imp->nr_queues)) {
		imp->adding = false;
		complete(&imp->added);
	}
	memalloc_noio_restore(noio);
	if (wait == MAX_JIFFY_OFFSET)
		return;
	spin_lock_irqsave(&imp->ctrl_lock, fl);
	if (!imp->ctrl_stopped)
		queue_delayed_work(dstor_ctrl_wq, &imp->ctrl_work, wait);
	spin_unlock_irqrestore(&imp->ctrl_lock, fl);
}

/* Start connecting every queue. */
void dstor_ctrl_start(struct dstor_import *imp)
{
	unsigned int i;

	spin_lock_init(&imp->ctrl_lock);
	INIT_DELAYED_WORK(&imp->ctrl_work, ctrl_work);
	for (i = 0; i < imp->nr_queues; i++)
		imp->queues[i].retry_at = jiffies;
	dstor_ctrl_kick(imp);
}

/*
 * Stop the controller and every connection (DSTOR_IMP_DYING is set): after
 * this, nothing of the import runs but blk-mq's own.
 */
void dstor_ctrl_stop(struct dstor_import *imp)
{
	unsigned int i;

	spin_lock_irq(&imp->ctrl_lock);
	imp->ctrl_stopped = true;
	spin_unlock_irq(&imp->ctrl_lock);
	cancel_delayed_work_sync(&imp->ctrl_work);
	for (i = 0; i < imp->nr_queues; i++) {
		struct dstor_queue *q = &imp->queues[i];
		struct dstor_conn *c = q->conn;

		if (q->next)
			queue_drop_next(q);
		if (!c)
			continue;
		spin_lock(&q->lock);
		q->conn = NULL;
		spin_unlock(&q->lock);
		dstor_conn_stop(c);
		dstor_conn_put(c);
	}
	if (imp->adding) {
		imp->adding = false;
		complete(&imp->added);
	}
}
