// SPDX-License-Identifier: GPL-2.0
/*
 * Imports: /dev/dstorN backed by a peer's export, and DST's transaction
 * model: every request is answered, an unanswered one is resent, the link
 * reconnects by itself, and a request fails only once it has run out of
 * resends.
 *
 * queue_rq never blocks: it queues the request on its hardware queue's
 * connection (conn.c sends it from the connection's io_work), or, while
 * the connection is down, holds it. A reply is matched to its request by
 * handle (a per-queue generation and the blk-mq unique tag, so a late or
 * duplicate reply is recognised and dropped); its data goes straight into
 * the request's pages, opened there on a sealed connection.
 *
 * Timers (include/uapi/linux/dstor.h has the defaults):
 *   timeout     blk-mq request timer. Each expiry is one timeout of the
 *               request; on a live connection it also resets the connection.
 *   retries     a request fails with an I/O error at timeout retries + 1,
 *               so a request waits at most timeout * (retries + 1).
 *   reconnect   connect attempts back off from reconnect_min doubling to
 *               reconnect_max seconds, for as long as the import exists.
 *   keepalive   a connection that received nothing for keepalive seconds
 *   dead_after  is pinged (the exporter answers PONG); one silent for
 *               dead_after is reset (the connection's timer, conn.c).
 * Once a request has failed for want of resends while its connection is
 * down, the import is FAILED: requests for a connection that is down fail
 * at once, until every connection is back.
 */
#include <linux/blkdev.h>
#include <linux/cpu.h>
#include <linux/idr.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "dstor.h"
#include "import.h"
#include "netlink.h"

#define DSTOR_QUEUE_DEPTH	128
#define DSTOR_MINORS		16

LIST_HEAD(dstor_imports);
static DEFINE_IDA(dstor_index_ida);
static int dstor_major;

/* ---- requests ---- */

static u8 rq_to_op(struct request *rq)
{
	switch (req_op(rq)) {
	case REQ_OP_READ:
		return DSTOR_OP_READ;
	case REQ_OP_WRITE:
		return DSTOR_OP_WRITE;
	case REQ_OP_FLUSH:
		return DSTOR_OP_FLUSH;
	case REQ_OP_DISCARD:
		return DSTOR_OP_DISCARD;
	case REQ_OP_WRITE_ZEROES:
		return DSTOR_OP_WRITE_ZEROES;
	default:
		return 0;
	}
}

static blk_status_t wire_to_blk_status(u16 status)
{
	switch (status) {
	case DSTOR_ST_OK:
		return BLK_STS_OK;
	case DSTOR_ST_NOTSUPP:
		return BLK_STS_NOTSUPP;
	case DSTOR_ST_NOSPC:
		return BLK_STS_NOSPC;
	default:
		return BLK_STS_IOERR;
	}
}

/* Move a request from state @from to DONE; false if someone else did. */
static bool pdu_claim(struct request *rq, int from)
{
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);

	return atomic_cmpxchg(&pdu->state, from, DSTOR_PDU_DONE) == from;
}

static bool pdu_complete(struct request *rq, int from, blk_status_t status)
{
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);

	if (!pdu_claim(rq, from))
		return false;
	pdu->status = status;
	blk_mq_complete_request(rq);
	return true;
}

/*
 * Fail a request that is in state @from and out of resends, and the import
 * with it. The import is marked failed before the error completes, so
 * whoever sees the EIO finds the import failed.
 */
static bool pdu_expire(struct request *rq, int from)
{
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);

	if (!pdu_claim(rq, from))
		return false;
	dstor_import_set_failed(pdu->q->imp, DSTOR_WHY_NONE);
	pdu->status = BLK_STS_IOERR;
	blk_mq_complete_request(rq);
	return true;
}

/* Queue @rq on @c as it is now: header, and a write's data. */
static void pdu_send(struct dstor_conn *c, struct request *rq)
{
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);
	struct dstor_tx *tx = &pdu->tx;
	struct dstor_hdr *h = &tx->hdr;

	*h = (struct dstor_hdr) {
		.op = rq_to_op(rq),
		.handle = dstor_handle_make(READ_ONCE(pdu->gen),
					    blk_mq_unique_tag(rq)),
	};
	if (h->op != DSTOR_OP_FLUSH) {
		h->offset = blk_rq_pos(rq) << SECTOR_SHIFT;
		h->length = blk_rq_bytes(rq);
	}
	dstor_data_buf(&tx->data, NULL, 0);
	if (h->op == DSTOR_OP_FLUSH)
		pdu->flush_mark = atomic64_read(&pdu->q->imp->writes_done);
	WRITE_ONCE(pdu->tx_busy, true);
	if (h->op == DSTOR_OP_WRITE) {
		h->payload = h->length;
		if (rq->cmd_flags & REQ_FUA)
			h->flags |= DSTOR_RQ_FUA;
		dstor_data_bio(&tx->data, rq->bio, rq->bio->bi_iter, h->length);
	}
	if (h->op == DSTOR_OP_WRITE_ZEROES && (rq->cmd_flags & REQ_NOUNMAP))
		h->flags |= DSTOR_RQ_NOUNMAP;
	tx->plain = false;
	dstor_conn_queue(c, tx);
}

static blk_status_t dstor_queue_rq(struct blk_mq_hw_ctx *hctx,
				   const struct blk_mq_queue_data *bd)
{
	struct dstor_queue *q = hctx->driver_data;
	struct dstor_import *imp = q->imp;
	struct request *rq = bd->rq;
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);

	if (unlikely(test_bit(DSTOR_IMP_DYING, &imp->state_bits) ||
		     test_bit(DSTOR_IMP_LOST, &imp->state_bits)))
		return BLK_STS_IOERR;
	if (unlikely(!rq_to_op(rq)))
		return BLK_STS_NOTSUPP;

	spin_lock(&q->lock);
	if (unlikely(!q->conn &&
		     test_bit(DSTOR_IMP_FAILED, &imp->state_bits))) {
		spin_unlock(&q->lock);
		return BLK_STS_IOERR;
	}
	/*
	 * A generation of the queue, not of the tag: a flush borrows another
	 * request's tag, and must not share its handles.
	 */
	WRITE_ONCE(pdu->gen, atomic_inc_return(&q->next_gen));
	pdu->status = BLK_STS_OK;
	pdu->expired = false;
	atomic_set(&pdu->timeouts, 0);
	dstor_stat_add(&imp->stats, DSTOR_STAT_INFLIGHT, 1);
	blk_mq_start_request(rq);
	pdu->started = jiffies;
	if (likely(q->conn)) {
		pdu->sent = pdu->started;
		/* The generation is seen by whoever sees it in flight. */
		atomic_set_release(&pdu->state, DSTOR_PDU_INFLIGHT);
		pdu_send(q->conn, rq);
	} else {
		/* Sent when the connection is back; its timer runs meanwhile. */
		atomic_set(&pdu->state, DSTOR_PDU_HELD);
	}
	spin_unlock(&q->lock);
	return BLK_STS_OK;
}

/*
 * What a completed request tells about the exporter's volatile cache:
 * a write may sit there until a FLUSH sent after it completes.
 */
static void track_cache(struct dstor_import *imp, struct request *rq,
			const struct dstor_pdu *pdu)
{
	u64 done;
	s64 old;

	switch (req_op(rq)) {
	case REQ_OP_WRITE:
	case REQ_OP_WRITE_ZEROES:
	case REQ_OP_DISCARD:
		if (!(rq->cmd_flags & REQ_FUA))
			atomic64_inc(&imp->writes_done);
		break;
	case REQ_OP_FLUSH:
		done = pdu->flush_mark;
		old = atomic64_read(&imp->writes_flushed);
		while (old < done &&
		       !atomic64_try_cmpxchg(&imp->writes_flushed, &old, done))
			;
		break;
	default:
		break;
	}
}

static void dstor_complete_rq(struct request *rq)
{
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);
	struct dstor_import *imp = pdu->q->imp;

	dstor_stat_add(&imp->stats, DSTOR_STAT_INFLIGHT, -1);
	dstor_stats_count(&imp->stats, rq_to_op(rq), blk_rq_bytes(rq),
			  pdu->status != BLK_STS_OK);
	blk_mq_end_request(rq, pdu->status);
}

static enum blk_eh_timer_return dstor_timeout(struct request *rq)
{
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);
	struct dstor_queue *q = pdu->q;
	struct dstor_import *imp = q->imp;
	unsigned long timeout = READ_ONCE(imp->timers.timeout) * HZ;
	u32 retries = READ_ONCE(imp->timers.retries);
	int state = atomic_read(&pdu->state);
	bool over, late;

	if (state == DSTOR_PDU_DONE || state == DSTOR_PDU_IDLE)
		return BLK_EH_DONE;	/* being completed */
	/*
	 * The promise: no request lives longer than timeout x (retries + 1),
	 * however often its connection was reset and it was resent.
	 */
	late = time_after_eq(jiffies, pdu->started + timeout * (retries + 1));
	/* Resent less than a timeout ago: give the new send its full time. */
	if (state != DSTOR_PDU_HELD && !late &&
	    time_before(jiffies, READ_ONCE(pdu->sent) + timeout))
		return BLK_EH_RESET_TIMER;

	dstor_stat_add(&imp->stats, DSTOR_STAT_TIMEOUTS, 1);
	over = atomic_inc_return(&pdu->timeouts) > retries || late ||
	       test_bit(DSTOR_IMP_DYING, &imp->state_bits);

	if (state == DSTOR_PDU_HELD) {
		if (!over && !test_bit(DSTOR_IMP_FAILED, &imp->state_bits))
			return BLK_EH_RESET_TIMER;
		/* Lost the race with a resend: it is in flight again. */
		return pdu_expire(rq, DSTOR_PDU_HELD) ? BLK_EH_DONE :
		       BLK_EH_RESET_TIMER;
	}

	/*
	 * Sent and unanswered for a whole timeout on a connection that looks
	 * alive: reset it. The controller parks the request for a resend, or
	 * fails it if it has no resends left.
	 */
	pr_warn_ratelimited("%s: request unanswered for %lus; resetting connection %u\n",
			    imp->label, timeout / HZ, q->qid);
	if (over)
		WRITE_ONCE(pdu->expired, true);
	spin_lock(&q->lock);
	if (q->conn)
		dstor_conn_fail(q->conn, -ECANCELED);
	spin_unlock(&q->lock);
	/* Its reply may have come meanwhile: then it is being completed. */
	state = atomic_read(&pdu->state);
	if (state == DSTOR_PDU_DONE || state == DSTOR_PDU_IDLE)
		return BLK_EH_DONE;
	return BLK_EH_RESET_TIMER;
}

/* ---- replies ---- */

/*
 * The request a reply names, claimed for receiving its data; NULL for a
 * late or duplicate reply (its data is dropped), or an ERR_PTR for one
 * that breaks the protocol.
 */
struct dstor_rx *dstor_import_rx_reply(struct dstor_queue *q,
				       const struct dstor_hdr *h)
{
	u32 utag = dstor_handle_tag(h->handle);
	struct dstor_pdu *pdu;
	struct request *rq;
	u32 want;

	if (h->op == DSTOR_OP_PONG)
		return NULL;	/* a keepalive answered: it was heard */
	if (h->op != DSTOR_OP_REPLY ||
	    blk_mq_unique_tag_to_hwq(utag) != q->qid ||
	    blk_mq_unique_tag_to_tag(utag) >= DSTOR_QUEUE_DEPTH)
		return ERR_PTR(-EPROTO);
	rq = blk_mq_tag_to_rq(q->imp->tag_set.tags[q->qid],
			      blk_mq_unique_tag_to_tag(utag));
	if (!rq || !blk_mq_request_started(rq))
		return NULL;
	pdu = blk_mq_rq_to_pdu(rq);
	if (READ_ONCE(pdu->gen) != dstor_handle_gen(h->handle))
		return NULL;
	want = rq_to_op(rq) == DSTOR_OP_READ && h->status == DSTOR_ST_OK ?
	       blk_rq_bytes(rq) : 0;
	/* The reply echoes what was asked; anything else breaks the protocol. */
	if (h->payload != want || h->offset != pdu->tx.hdr.offset ||
	    h->length != pdu->tx.hdr.length)
		return ERR_PTR(-EPROTO);
	/*
	 * Answered before we finished sending it: an exporter answers a
	 * request only once it has all of it, so this one is lying. Its
	 * pages are still being sent; it must not complete.
	 */
	if (READ_ONCE(pdu->tx_busy))
		return ERR_PTR(-EPROTO);
	/* Claim it before its pages are touched: a duplicate must not. */
	if (atomic_cmpxchg(&pdu->state, DSTOR_PDU_INFLIGHT,
			   DSTOR_PDU_RECEIVING) != DSTOR_PDU_INFLIGHT)
		return NULL;
	/* The tag may have started anew between the check and the claim. */
	if (READ_ONCE(pdu->gen) != dstor_handle_gen(h->handle)) {
		atomic_set(&pdu->state, DSTOR_PDU_INFLIGHT);
		return NULL;
	}
	pdu->status = wire_to_blk_status(h->status);
	if (want)
		dstor_data_bio(&pdu->rx.data, rq->bio, rq->bio->bi_iter, want);
	else
		dstor_data_buf(&pdu->rx.data, NULL, 0);
	return &pdu->rx;
}

/* A reply's data is in the pages, or the connection died under it. */
void dstor_import_reply_done(struct dstor_rx *rx)
{
	struct dstor_pdu *pdu = container_of(rx, struct dstor_pdu, rx);
	struct request *rq = blk_mq_rq_from_pdu(pdu);

	if (rx->err) {
		/* Resent once the connection is back. */
		atomic_cmpxchg(&pdu->state, DSTOR_PDU_RECEIVING,
			       DSTOR_PDU_INFLIGHT);
		return;
	}
	if (!pdu_claim(rq, DSTOR_PDU_RECEIVING))
		return;
	/* Counted before the connection can be stopped: see queue_up(). */
	if (pdu->status == BLK_STS_OK)
		track_cache(pdu->q->imp, rq, pdu);
	blk_mq_complete_request(rq);
}

/* A request's frame is sent, or dropped with its connection. */
void dstor_import_tx_done(struct dstor_tx *tx)
{
	struct dstor_pdu *pdu = container_of(tx, struct dstor_pdu, tx);

	WRITE_ONCE(pdu->tx_busy, false);
}

/* ---- losing and regaining a connection (from the controller) ---- */

static bool park_one(struct request *rq, void *data)
{
	struct dstor_queue *q = data;
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);

	if (rq->mq_hctx->queue_num != q->qid)
		return true;
	if (test_bit(DSTOR_IMP_DYING, &q->imp->state_bits)) {
		pdu_complete(rq, DSTOR_PDU_INFLIGHT, BLK_STS_IOERR);
		pdu_complete(rq, DSTOR_PDU_HELD, BLK_STS_IOERR);
		return true;
	}
	if (READ_ONCE(pdu->expired)) {
		pdu_expire(rq, DSTOR_PDU_INFLIGHT);
		return true;
	}
	atomic_cmpxchg(&pdu->state, DSTOR_PDU_INFLIGHT, DSTOR_PDU_HELD);
	return true;
}

/* @q's connection is stopped: hold its requests for a resend. */
void dstor_import_park(struct dstor_queue *q)
{
	blk_mq_tagset_busy_iter(&q->imp->tag_set, park_one, q);
}

static bool resend_one(struct request *rq, void *data)
{
	struct dstor_queue *q = data;
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);

	if (rq->mq_hctx->queue_num != q->qid)
		return true;
	WRITE_ONCE(pdu->sent, jiffies);
	if (atomic_cmpxchg(&pdu->state, DSTOR_PDU_HELD, DSTOR_PDU_INFLIGHT) ==
	    DSTOR_PDU_HELD) {
		dstor_stat_add(&q->imp->stats, DSTOR_STAT_RESENT, 1);
		pdu_send(q->conn, rq);
	}
	return true;
}

/* @q has a live connection again: send what it held. */
void dstor_import_resend(struct dstor_queue *q)
{
	blk_mq_tagset_busy_iter(&q->imp->tag_set, resend_one, q);
}

static bool fail_held_one(struct request *rq, void *data)
{
	pdu_complete(rq, DSTOR_PDU_HELD, BLK_STS_IOERR);
	return true;
}

/*
 * Requests ran out of resends while the exporter was away, or the
 * exporter came back as another export: fail I/O until every connection
 * is back. @why: the reason to report, or NONE for running out.
 */
void dstor_import_set_failed(struct dstor_import *imp, enum dstor_why why)
{
	enum dstor_why was = READ_ONCE(imp->why);

	if (test_bit(DSTOR_IMP_DYING, &imp->state_bits))
		return;
	if (why)
		WRITE_ONCE(imp->why, why);
	/* Said once per reason. */
	if (test_and_set_bit(DSTOR_IMP_FAILED, &imp->state_bits) &&
	    (!why || why == was))
		return;
	if (why)
		pr_err("%s: %s; failing I/O\n", imp->label, dstor_why_text(why));
	else
		pr_err("%s: requests ran out of resends; failing I/O until the exporter is back\n",
		       imp->label);
	if (why)
		blk_mq_tagset_busy_iter(&imp->tag_set, fail_held_one, NULL);
	dstor_netlink_event(imp, DSTOR_EVENT_FAILED, -1);
}

/* ---- the block device ---- */

int dstor_disk_open(struct gendisk *disk)
{
	struct dstor_import *imp = disk->private_data;

	if (test_bit(DSTOR_IMP_DYING, &imp->state_bits))
		return -ENXIO;
	return 0;
}

static void import_release(struct kref *ref);

/*
 * Every import's local name: unique on the machine, as the links udev
 * makes of them (/dev/disk/by-dstor/NAME) are. Held from import add until
 * the disk is deleted.
 */
static LIST_HEAD(dstor_local_names);
static DEFINE_SPINLOCK(dstor_local_lock);

/*
 * A file name in /dev/disk/by-dstor: a name, not "." or "..", and not
 * ending in "-part" and digits, which the rule gives partitions.
 */
static bool local_name_ok(const char *name)
{
	const char *part = strrchr(name, '-');
	size_t digits;

	if (!dstor_name_ok(name) || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	if (!part || strncmp(part, "-part", 5))
		return true;
	digits = strspn(part + 5, "0123456789");
	return !digits || part[5 + digits];
}

/*
 * Give @imp the local name @want, if asked for one. Never by default: a
 * default taken by whichever import comes first could, after a reboot,
 * give the link an fstab line names to another peer's disk.
 */
static int import_local_take(struct dstor_import *imp, const char *want,
			     struct netlink_ext_ack *extack)
{
	struct dstor_import *other;
	int ret = 0;

	if (!want)
		return 0;
	if (!local_name_ok(want)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "local name may use only letters, digits, '.', '_' and '-', is not . or .. and does not end in -partN");
		return -EINVAL;
	}
	spin_lock(&dstor_local_lock);
	list_for_each_entry(other, &dstor_local_names, local_entry) {
		if (!strcmp(other->local, want)) {
			ret = -EEXIST;
			break;
		}
	}
	if (!ret) {
		strscpy(imp->local, want, sizeof(imp->local));
		list_add_tail(&imp->local_entry, &dstor_local_names);
	}
	spin_unlock(&dstor_local_lock);
	if (ret)
		NL_SET_ERR_MSG_MOD(extack,
				   "another import has that local name (in this or another network namespace, or being added)");
	return ret;
}

static void import_local_put(struct dstor_import *imp)
{
	spin_lock(&dstor_local_lock);
	list_del_init(&imp->local_entry);
	spin_unlock(&dstor_local_lock);
}

/* /sys/block/dstorN/dstor/: what udev and people look an import up by. */
static ssize_t name_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct dstor_import *imp = dev_to_disk(dev)->private_data;

	return sysfs_emit(buf, "%s\n", imp->local);
}
static DEVICE_ATTR_RO(name);

static ssize_t export_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct dstor_import *imp = dev_to_disk(dev)->private_data;

	return sysfs_emit(buf, "%s\n", imp->name);
}
static DEVICE_ATTR_RO(export);

static struct attribute *dstor_disk_attrs[] = {
	&dev_attr_name.attr,
	&dev_attr_export.attr,
	NULL,
};

static const struct attribute_group dstor_disk_group = {
	.name = "dstor",
	.attrs = dstor_disk_attrs,
};

static const struct attribute_group *dstor_disk_groups[] = {
	&dstor_disk_group,
	NULL,
};

static void dstor_free_disk(struct gendisk *disk)
{
	struct dstor_import *imp = disk->private_data;

	kref_put(&imp->ref, import_release);
}

static const struct block_device_operations dstor_fops = {
	.owner = THIS_MODULE,
	.open = dstor_compat_open,
	.free_disk = dstor_free_disk,
};

static int dstor_init_hctx(struct blk_mq_hw_ctx *hctx, void *data,
			   unsigned int hctx_idx)
{
	struct dstor_import *imp = data;

	hctx->driver_data = &imp->queues[hctx_idx];
	return 0;
}

static int dstor_init_request(struct blk_mq_tag_set *set, struct request *rq,
			      unsigned int hctx_idx, unsigned int numa_node)
{
	struct dstor_import *imp = set->driver_data;
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);

	pdu->q = &imp->queues[hctx_idx];
	pdu->gen = 0;
	atomic_set(&pdu->state, DSTOR_PDU_IDLE);
	return 0;
}

static const struct blk_mq_ops dstor_mq_ops = {
	.queue_rq = dstor_queue_rq,
	.complete = dstor_complete_rq,
	.timeout = dstor_timeout,
	.init_hctx = dstor_init_hctx,
	.init_request = dstor_init_request,
};

unsigned int dstor_import_connected(struct dstor_import *imp)
{
	unsigned int i, n = 0;

	for (i = 0; i < imp->nr_queues; i++)
		n += !!READ_ONCE(imp->queues[i].conn);
	return n;
}

u32 dstor_import_state(struct dstor_import *imp)
{
	if (test_bit(DSTOR_IMP_DYING, &imp->state_bits))
		return DSTOR_STATE_DELETING;
	if (test_bit(DSTOR_IMP_FAILED, &imp->state_bits) ||
	    test_bit(DSTOR_IMP_LOST, &imp->state_bits))
		return DSTOR_STATE_FAILED;
	if (dstor_import_connected(imp) < imp->nr_queues)
		return DSTOR_STATE_RECONNECTING;
	return DSTOR_STATE_CONNECTED;
}

/* A new key, used from the next connection on. NULL: no key. */
void dstor_import_set_key(struct dstor_import *imp, const u8 *key)
{
	spin_lock(&imp->key_lock);
	dstor_key_set(&imp->key, key);
	spin_unlock(&imp->key_lock);
}

void dstor_import_set_timers(struct dstor_import *imp,
			     const struct dstor_timers *t)
{
	lockdep_assert_held(&dstor_cfg_mutex);
	WRITE_ONCE(imp->timers.timeout, t->timeout);
	WRITE_ONCE(imp->timers.retries, t->retries);
	WRITE_ONCE(imp->timers.reconnect_min, t->reconnect_min);
	WRITE_ONCE(imp->timers.reconnect_max, t->reconnect_max);
	WRITE_ONCE(imp->timers.keepalive, t->keepalive);
	WRITE_ONCE(imp->timers.dead_after, t->dead_after);
	blk_queue_rq_timeout(imp->disk->queue, t->timeout * HZ);
	dstor_ctrl_kick(imp);	/* live connections take the new timers */
}

static int import_disk_create(struct dstor_import *imp)
{
	const struct dstor_hello_reply *info = &imp->info;
	struct dstor_limits lim = {
		.logical_block_size = info->logical_block_size,
		.physical_block_size = info->physical_block_size,
		.max_hw_sectors = info->max_io >> SECTOR_SHIFT,
		.write_cache = info->flags & DSTOR_EXP_FLUSH,
		/* The exporter's block layer emulates FUA where needed. */
		.fua = true,
		.rotational = info->flags & DSTOR_EXP_ROTATIONAL,
	};
	struct gendisk *disk;

	if (info->flags & DSTOR_EXP_DISCARD)
		lim.max_discard_sectors = info->max_range >> SECTOR_SHIFT;
	if (info->flags & DSTOR_EXP_WRITE_ZEROES)
		lim.max_write_zeroes_sectors = info->max_range >> SECTOR_SHIFT;

	disk = dstor_alloc_disk(&imp->tag_set, &lim, imp);
	if (IS_ERR(disk))
		return PTR_ERR(disk);
	disk->major = dstor_major;
	disk->first_minor = imp->index * DSTOR_MINORS;
	disk->minors = DSTOR_MINORS;
	disk->fops = &dstor_fops;
	disk->private_data = imp;
	strscpy(disk->disk_name, imp->label, DISK_NAME_LEN);
	set_capacity(disk, info->size >> SECTOR_SHIFT);
	if (imp->flags & DSTOR_F_READ_ONLY)
		set_disk_ro(disk, true);
	imp->disk = disk;
	return 0;
}

static int import_tag_set(struct dstor_import *imp)
{
	struct blk_mq_tag_set *set = &imp->tag_set;

	set->ops = &dstor_mq_ops;
	set->nr_hw_queues = imp->nr_queues;
	set->queue_depth = DSTOR_QUEUE_DEPTH;
	set->numa_node = NUMA_NO_NODE;
	set->cmd_size = sizeof(struct dstor_pdu);
	set->flags = BLK_MQ_F_SHOULD_MERGE;
	set->driver_data = imp;
	set->timeout = imp->timers.timeout * HZ;
	return blk_mq_alloc_tag_set(set);
}

/*
 * The CPU that runs hardware queue @qid's io_work, as nvme-tcp's io_cpu:
 * fixed for the queue, so that its kicks batch on one worker, and not the
 * CPU that submits to the queue: the submitter hands its frames over and
 * goes on while another CPU sends and receives (conn.c has the numbers).
 * A queue several CPUs submit to gets one of them but the first; a queue
 * with one gets one of the other CPUs. Among those, the one fewest
 * importer connections run on, so that imports spread. Only CPUs the
 * kernel lets workqueues use (isolcpus, nohz_full), unless there are
 * none. If the CPU goes offline later, the workqueue runs the work on
 * another.
 */
static int import_io_cpu(struct blk_mq_tag_set *set, unsigned int qid)
{
	const unsigned int *map = set->map[HCTX_TYPE_DEFAULT].mq_map;
	int cpu, first = -1, best = -1, mine = 0, other = 0;
	bool any = true;

	cpus_read_lock();
	for_each_online_cpu(cpu)
		if (dstor_io_cpu_ok(cpu, false))
			any = false;
	for_each_online_cpu(cpu) {
		if (!dstor_io_cpu_ok(cpu, any))
			continue;
		if (map[cpu] != qid)
			other++;
		else if (first < 0)
			first = cpu;
		else
			mine++;
	}
	for_each_online_cpu(cpu) {
		if (!dstor_io_cpu_ok(cpu, any))
			continue;
		if (cpu == first && (mine || other))
			continue;
		if (mine && map[cpu] != qid)
			continue;
		if (best < 0 || dstor_io_load(cpu) < dstor_io_load(best))
			best = cpu;
	}
	if (best < 0)
		best = cpumask_first(cpu_online_mask);
	dstor_io_load_add(best, 1);
	cpus_read_unlock();
	return best;
}

static void import_release(struct kref *ref)
{
	struct dstor_import *imp = container_of(ref, struct dstor_import, ref);
	unsigned int i;

	for (i = 0; imp->queues && i < imp->nr_queues; i++)
		if (imp->queues[i].io_cpu >= 0)
			dstor_io_load_add(imp->queues[i].io_cpu, -1);
	kfree(imp->queues);
	memzero_explicit(&imp->key, sizeof(imp->key));
	if (imp->index >= 0)
		ida_free(&dstor_index_ida, imp->index);
	kfree(imp);
	atomic_dec(&dstor_live.imports);
}

/*
 * Stop every connection for good and fail whatever is still outstanding.
 * DSTOR_IMP_DYING is set, so nothing reconnects and queue_rq fails new I/O.
 */
static void import_stop(struct dstor_import *imp)
{
	unsigned int i;

	dstor_ctrl_stop(imp);
	if (!imp->disk)
		return;
	/* A queue_rq that raced with DYING may have held its request. */
	blk_mq_quiesce_queue(imp->disk->queue);
	for (i = 0; i < imp->nr_queues; i++)
		dstor_import_park(&imp->queues[i]);
	blk_mq_unquiesce_queue(imp->disk->queue);
}

int dstor_import_add(struct net *net, const struct dstor_import_cfg *cfg,
		     int *index, struct netlink_ext_ack *extack)
{
	struct dstor_import *imp;
	unsigned int i;
	int ret;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp)
		return -ENOMEM;
	atomic_inc(&dstor_live.imports);
	kref_init(&imp->ref);
	imp->index = -1;
	imp->net = net;
	strscpy(imp->label, "dstor (new)", sizeof(imp->label));
	strscpy(imp->name, cfg->name, sizeof(imp->name));
	INIT_LIST_HEAD(&imp->local_entry);
	imp->peer = cfg->peer;
	imp->flags = cfg->flags;
	imp->timers = cfg->timers;
	spin_lock_init(&imp->key_lock);
	dstor_key_set(&imp->key, cfg->key);
	imp->nr_queues = cfg->nr_conns;
	get_random_bytes(&imp->session, sizeof(imp->session));
	init_completion(&imp->added);
	ret = import_local_take(imp, cfg->local, extack);
	if (ret)
		goto err_free;
	imp->queues = kcalloc(imp->nr_queues, sizeof(*imp->queues),
			      GFP_KERNEL);
	if (!imp->queues) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < imp->nr_queues; i++) {
		imp->queues[i].imp = imp;
		imp->queues[i].qid = i;
		imp->queues[i].io_cpu = -1;
		spin_lock_init(&imp->queues[i].lock);
	}
	ret = import_tag_set(imp);
	if (ret)
		goto err_free;
	imp->has_tag_set = true;
	for (i = 0; i < imp->nr_queues; i++)
		imp->queues[i].io_cpu = import_io_cpu(&imp->tag_set, i);

	/* Connect every queue; the controller says when they are up. */
	imp->adding = true;
	dstor_ctrl_start(imp);
	/* A killed caller gets EINTR, not a restart: nothing is left. */
	ret = wait_for_completion_killable(&imp->added) ? -EINTR : 0;
	if (!ret && imp->add_why) {
		dstor_why_extack(extack, imp->add_why);
		ret = dstor_why_errno(imp->add_why);
	}
	if (ret)
		goto err_stop;
	if ((imp->info.flags & DSTOR_EXP_READ_ONLY) &&
	    !(cfg->flags & DSTOR_F_READ_ONLY)) {
		dstor_why_extack(extack, DSTOR_WHY_READ_ONLY);
		ret = -EROFS;
		goto err_stop;
	}

	ret = ida_alloc_max(&dstor_index_ida, MINORMASK / DSTOR_MINORS,
			    GFP_KERNEL);
	if (ret < 0)
		goto err_stop;
	imp->index = ret;
	snprintf(imp->label, sizeof(imp->label), "dstor%d", imp->index);
	ret = import_disk_create(imp);
	if (ret)
		goto err_stop;
	ret = device_add_disk(NULL, imp->disk, dstor_disk_groups);
	if (ret)
		goto err_disk;
	kref_get(&imp->ref);		/* the disk's, put by free_disk */

	mutex_lock(&dstor_cfg_mutex);
	list_add_tail(&imp->entry, &dstor_imports);
	mutex_unlock(&dstor_cfg_mutex);
	*index = imp->index;
	return 0;

err_disk:
	set_bit(DSTOR_IMP_DYING, &imp->state_bits);
	import_stop(imp);
	put_disk(imp->disk);	/* never added: no free_disk */
	imp->disk = NULL;
	goto err_free;
err_stop:
	set_bit(DSTOR_IMP_DYING, &imp->state_bits);
	import_stop(imp);
err_free:
	import_local_put(imp);
	if (imp->has_tag_set)
		blk_mq_free_tag_set(&imp->tag_set);
	kref_put(&imp->ref, import_release);
	return ret;
}

static void import_destroy(struct dstor_import *imp, bool tell)
{
	set_bit(DSTOR_IMP_DYING, &imp->state_bits);
	import_stop(imp);
	del_gendisk(imp->disk);
	import_local_put(imp);
	if (tell)
		dstor_netlink_event(imp, DSTOR_EVENT_REMOVED, -1);
	blk_mq_free_tag_set(&imp->tag_set);
	put_disk(imp->disk);
	kref_put(&imp->ref, import_release);
}

int dstor_import_del(struct dstor_import *imp, struct netlink_ext_ack *extack)
{
	struct gendisk *disk = imp->disk;

	lockdep_assert_held(&dstor_cfg_mutex);
	mutex_lock(&disk->open_mutex);
	if (disk_openers(disk)) {
		mutex_unlock(&disk->open_mutex);
		NL_SET_ERR_MSG_MOD(extack,
				   "the device is in use (mounted or open): unmount or close it first");
		return -EBUSY;
	}
	/* From here on opens fail, so nobody can start using it. */
	set_bit(DSTOR_IMP_DYING, &imp->state_bits);
	mutex_unlock(&disk->open_mutex);

	list_del(&imp->entry);
	import_destroy(imp, true);
	return 0;
}

void dstor_import_destroy_all(void)
{
	struct dstor_import *imp, *tmp;

	mutex_lock(&dstor_cfg_mutex);
	list_for_each_entry_safe(imp, tmp, &dstor_imports, entry) {
		list_del(&imp->entry);
		/* The module goes: its netlink family is gone already. */
		import_destroy(imp, false);
	}
	mutex_unlock(&dstor_cfg_mutex);
}

/*
 * Imports do not hold their namespace either: when it goes away, its
 * imports go, in use or not (their I/O fails, as when the link is gone
 * for good), before its sockets do. Nobody is left there to tell.
 */
static void __net_exit import_net_pre_exit(struct net *net)
{
	struct dstor_import *imp, *tmp;

	mutex_lock(&dstor_cfg_mutex);
	list_for_each_entry_safe(imp, tmp, &dstor_imports, entry) {
		if (!net_eq(imp->net, net))
			continue;
		pr_warn("%s: its network namespace is going away: removed\n",
			imp->label);
		list_del(&imp->entry);
		import_destroy(imp, false);
	}
	mutex_unlock(&dstor_cfg_mutex);
}

static struct pernet_operations import_net_ops = {
	.pre_exit = import_net_pre_exit,
};

int dstor_import_init(void)
{
	int ret;

	dstor_major = register_blkdev(0, "dstor");
	if (dstor_major < 0)
		return dstor_major;
	ret = register_pernet_subsys(&import_net_ops);
	if (ret)
		unregister_blkdev(dstor_major, "dstor");
	return ret;
}

void dstor_import_exit(void)
{
	unregister_pernet_subsys(&import_net_ops);
	unregister_blkdev(dstor_major, "dstor");
}
