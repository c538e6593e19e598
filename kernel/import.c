// SPDX-License-Identifier: GPL-2.0
/*
 * Imports: /dev/dstorN backed by a peer's export, and DST's transaction
 * model: every request is answered, an unanswered one is resent, the link
 * reconnects by itself, and a request fails only once it has run out of
 * resends.
 *
 * Each blk-mq hardware queue owns one TCP connection (struct dstor_queue).
 * queue_rq never blocks: it pushes the request onto the queue's lock-free
 * send list and kicks tx_work, which frames and sends it (the nvme-tcp
 * model). rx_work is a blocking receive loop that matches each reply to its
 * request by handle, receives read data straight into the request's pages
 * and completes it.
 *
 * When a connection fails (a socket error, a keepalive that went
 * unanswered for dead_after, a request unanswered for a whole timeout),
 * recover_work stops both loops and parks every request of the queue in
 * state HELD; connect_work reconnects with exponential backoff and sends
 * the held requests again with their original handles. The exporter drains
 * the old connection of the same importer and queue before it serves the
 * new one, so a resent write can never land after a later one.
 *
 * Timers (include/uapi/linux/dstor.h has the defaults):
 *   timeout     blk-mq request timer. Each expiry is one timeout of the
 *               request; on a live connection it also resets the connection.
 *   retries     a request fails with an I/O error at timeout retries + 1,
 *               so a request waits at most timeout * (retries + 1).
 *   reconnect   connect attempts back off from reconnect_min doubling to
 *               reconnect_max seconds, for as long as the import exists.
 *   keepalive   ka_work ticks twice a second; a connection that received
 *               nothing for keepalive seconds is pinged (the exporter
 *               answers PONG), one silent for dead_after is reset.
 * Once a request has failed for want of resends while its connection is
 * down, the import is FAILED: requests for a connection that is down fail
 * at once, until every connection is back.
 *
 * A request is completed by exactly one party, the one that moves its
 * state to DSTOR_PDU_DONE (see dstor.h).
 */
#include <crypto/algapi.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/net.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "dstor.h"

#define DSTOR_QUEUE_DEPTH	128
#define DSTOR_MINORS		16
#define DSTOR_CONNECT_TIMEOUT	(10 * HZ)
#define DSTOR_KA_TICK		(HZ / 2)

LIST_HEAD(dstor_imports);
static DEFINE_IDA(dstor_index_ida);

/* ---- connecting ---- */

static void connect_error(int ret, struct netlink_ext_ack *extack)
{
	switch (ret) {
	case -ECONNREFUSED:
		NL_SET_ERR_MSG_MOD(extack,
				   "connection refused by the peer (is an export listening there?)");
		break;
	case -ETIMEDOUT:
		NL_SET_ERR_MSG_MOD(extack, "connection to the peer timed out");
		break;
	case -EHOSTUNREACH:
	case -ENETUNREACH:
		NL_SET_ERR_MSG_MOD(extack, "the peer is unreachable");
		break;
	default:
		NL_SET_ERR_MSG_MOD(extack, "cannot connect to the peer");
		break;
	}
}

static int hello_status_error(u16 status, struct netlink_ext_ack *extack)
{
	switch (status) {
	case DSTOR_ST_NOEXPORT:
		NL_SET_ERR_MSG_MOD(extack, "the peer has no export of that name");
		return -ENOENT;
	case DSTOR_ST_DENIED:
		NL_SET_ERR_MSG_MOD(extack, "the peer refused access");
		return -EACCES;
	case DSTOR_ST_VERSION:
		NL_SET_ERR_MSG_MOD(extack,
				   "the peer speaks no protocol version in common");
		return -EPROTO;
	case DSTOR_ST_BUSY:
		NL_SET_ERR_MSG_MOD(extack, "the peer is busy; try again");
		return -EBUSY;
	default:
		NL_SET_ERR_MSG_MOD(extack, "the peer refused the connection");
		return -EPROTO;
	}
}

static int queue_frame(struct dstor_seal *sl, struct dstor_rec *rec,
		       const struct dstor_hdr *h);
static void queue_seal_fail(struct dstor_seal *sl);

/*
 * The key exchange: check the exporter's proof, prove ours, derive the
 * session keys. Returns the sealed channel or an ERR_PTR.
 */
static struct dstor_seal *queue_auth(struct dstor_import *imp,
				     struct dstor_queue *q,
				     struct socket *sock, const u8 *key,
				     const u8 *hello_buf,
				     const struct dstor_hello *hello,
				     struct netlink_ext_ack *extack)
{
	u8 buf[DSTOR_CHALLENGE_LEN], proof[DSTOR_PROOF_LEN];
	u8 c2s[DSTOR_KEY_LEN], s2c[DSTOR_KEY_LEN];
	struct dstor_challenge ch;
	struct dstor_seal *sl;
	struct dstor_hdr h;
	int ret;

	ret = dstor_sock_recv(sock, buf, sizeof(buf));
	if (ret || dstor_challenge_decode(buf, hello->ciphers, &ch)) {
		NL_SET_ERR_MSG_MOD(extack, "malformed challenge from the peer");
		return ERR_PTR(ret ? ret : -EPROTO);
	}
	memcpy(proof, ch.proof, sizeof(proof));
	dstor_hs_proof(key, true, hello_buf, buf, ch.proof);
	if (crypto_memneq(proof, ch.proof, DSTOR_PROOF_LEN)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "authentication failed: the exporter holds a different key");
		return ERR_PTR(-EKEYREJECTED);
	}
	dstor_hs_proof(key, false, hello_buf, buf, proof);
	h = (struct dstor_hdr) {
		.op = DSTOR_OP_AUTH_RESPONSE,
		.payload = DSTOR_RESPONSE_LEN,
	};
	ret = dstor_send_frame(sock, &h, proof, false);
	if (ret)
		return ERR_PTR(ret);

	sl = kzalloc(sizeof(*sl), GFP_NOIO);
	if (!sl)
		return ERR_PTR(-ENOMEM);
	dstor_hs_keys(key, hello->nonce, ch.nonce, c2s, s2c);
	ret = dstor_seal_init(sl, ch.cipher, c2s, s2c);
	memzero_explicit(c2s, sizeof(c2s));
	memzero_explicit(s2c, sizeof(s2c));
	if (ret) {
		kfree(sl);
		NL_SET_ERR_MSG_MOD(extack, "cannot set up the cipher");
		return ERR_PTR(ret);
	}
	sl->sock = sock;
	sl->owner = q;
	sl->stats = &imp->stats;
	sl->fail = queue_seal_fail;
	sl->frame = queue_frame;
	return sl;
}

static int queue_hello(struct dstor_import *imp, struct dstor_queue *q,
		       struct socket *sock, struct dstor_hello_reply *info,
		       struct dstor_seal **sealp, struct netlink_ext_ack *extack)
{
	struct dstor_hello hello = {
		.version_min = DSTOR_PROTO_VERSION,
		.version_max = DSTOR_PROTO_VERSION,
		.session = imp->session,
		.queue = q->qid,
		.nr_queues = imp->nr_queues,
	};
	struct dstor_hdr h = {
		.op = DSTOR_OP_HELLO,
		.payload = DSTOR_HELLO_LEN,
	};
	u8 buf[DSTOR_HELLO_LEN], rbuf[DSTOR_HELLO_REPLY_LEN];
	struct dstor_seal *sl = NULL;
	struct dstor_key key;
	int ret;

	spin_lock(&imp->key_lock);
	key = imp->key;
	spin_unlock(&imp->key_lock);

	if (imp->flags & DSTOR_F_READ_ONLY)
		hello.flags |= DSTOR_HELLO_READ_ONLY;
	if (key.set) {
		hello.flags |= DSTOR_HELLO_AUTH;
		hello.ciphers = dstor_crypto_ciphers();
		get_random_bytes(hello.nonce, sizeof(hello.nonce));
		if (!hello.ciphers) {
			NL_SET_ERR_MSG_MOD(extack,
					   "no AEAD cipher available in this kernel (gcm(aes) or rfc7539(chacha20,poly1305))");
			ret = -ENOPKG;
			goto out;
		}
	}
	strscpy(hello.name, imp->name, sizeof(hello.name));
	dstor_hello_encode(buf, &hello);
	ret = dstor_send_frame(sock, &h, buf, false);
	if (!ret)
		ret = dstor_recv_hdr(sock, &h);
	if (!ret && key.set && h.op == DSTOR_OP_AUTH_CHALLENGE) {
		sl = queue_auth(imp, q, sock, key.key, buf, &hello, extack);
		if (IS_ERR(sl)) {
			ret = PTR_ERR(sl);
			sl = NULL;
			goto out;
		}
		ret = dstor_seal_recv_sync(sl, &h, rbuf, sizeof(rbuf));
		if (ret == -ECONNRESET || ret == -EPIPE) {
			/* The exporter hangs up on a key it does not accept. */
			NL_SET_ERR_MSG_MOD(extack,
					   "authentication failed: the exporter rejected our key");
			ret = -EKEYREJECTED;
			goto out;
		}
	} else if (!ret && h.op == DSTOR_OP_HELLO_REPLY && !h.status &&
		   !key.set) {
		ret = dstor_sock_recv(sock, rbuf, sizeof(rbuf));
	} else if (!ret && h.op != DSTOR_OP_HELLO_REPLY) {
		ret = -EPROTO;
	}
	if (ret) {
		if (ret == -EAGAIN)
			ret = -ETIMEDOUT;
		if (ret == -EPROTO)
			NL_SET_ERR_MSG_MOD(extack,
					   "the peer does not speak the dstor protocol");
		else
			NL_SET_ERR_MSG_MOD(extack,
					   "no hello reply from the peer");
		goto out;
	}
	if (h.op != DSTOR_OP_HELLO_REPLY) {
		ret = -EPROTO;
		goto out;
	}
	if (h.status == DSTOR_ST_AUTH) {
		if (key.set)
			NL_SET_ERR_MSG_MOD(extack,
					   "authentication failed: the export has no key, but a key was given");
		else
			NL_SET_ERR_MSG_MOD(extack,
					   "authentication failed: the export requires a key (--key)");
		ret = -EKEYREJECTED;
		goto out;
	}
	if (h.status) {
		ret = hello_status_error(h.status, extack);
		goto out;
	}
	if (key.set && !sl) {
		/* A keyless exporter must not simply say hello back. */
		NL_SET_ERR_MSG_MOD(extack,
				   "authentication failed: the exporter did not prove the key");
		ret = -EKEYREJECTED;
		goto out;
	}
	if (dstor_hello_reply_decode(rbuf, info)) {
		NL_SET_ERR_MSG_MOD(extack, "malformed hello reply from the peer");
		ret = -EPROTO;
		goto out;
	}
	*sealp = sl;
	sl = NULL;
out:
	memzero_explicit(&key, sizeof(key));
	if (sl) {
		dstor_seal_stop(sl);
		dstor_seal_free(sl);
	}
	return ret;
}

static struct socket *queue_connect(struct dstor_import *imp,
				    struct dstor_queue *q,
				    struct dstor_hello_reply *info,
				    struct dstor_seal **sealp,
				    struct netlink_ext_ack *extack)
{
	struct socket *sock;
	struct sock *sk;
	int ret;

	ret = sock_create_kern(imp->net, imp->peer.ss.ss_family, SOCK_STREAM,
			       IPPROTO_TCP, &sock);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "cannot create a socket");
		return ERR_PTR(ret);
	}
	sk = sock->sk;
	/* Writeback goes through this socket: it must not recurse into I/O. */
	sk->sk_allocation = GFP_NOIO;
	sk_set_memalloc(sk);
	dstor_sock_no_task_frag(sk);
	tcp_sock_set_nodelay(sk);
	dstor_sock_set_timeout(sock, DSTOR_CONNECT_TIMEOUT);

	ret = kernel_connect(sock, (struct sockaddr *)&imp->peer.ss,
			     imp->peer.len, 0);
	if (ret == -EINPROGRESS)
		ret = -ETIMEDOUT;
	if (ret) {
		connect_error(ret, extack);
		goto err;
	}
	ret = queue_hello(imp, q, sock, info, sealp, extack);
	if (ret)
		goto err;
	dstor_sock_set_timeout(sock, MAX_SCHEDULE_TIMEOUT);
	return sock;
err:
	sock_release(sock);
	return ERR_PTR(ret);
}

/* ---- the data path ---- */

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

/* Take a request that is in state @from; false if someone else did. */
static bool pdu_claim(struct request *rq, int from)
{
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);

	return atomic_cmpxchg(&pdu->state, from, DSTOR_PDU_DONE) == from;
}

static void pdu_finish(struct request *rq, blk_status_t status)
{
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);

	pdu->status = status;
	blk_mq_complete_request(rq);
}

/* Complete a request that is in state @from; false if someone else did. */
static bool pdu_complete(struct request *rq, int from, blk_status_t status)
{
	if (!pdu_claim(rq, from))
		return false;
	pdu_finish(rq, status);
	return true;
}

static void import_set_failed(struct dstor_import *imp)
{
	if (test_bit(DSTOR_IMP_DYING, &imp->state_bits) ||
	    test_and_set_bit(DSTOR_IMP_FAILED, &imp->state_bits))
		return;
	pr_err("%s: requests ran out of resends; failing I/O until the exporter is back\n",
	       imp->disk->disk_name);
	dstor_netlink_event(imp, DSTOR_EVENT_FAILED, -1);
}

/*
 * Fail a request that is in state @from and out of resends, and the import
 * with it. The import is marked failed before the error completes, so
 * whoever sees the EIO finds the import failed.
 */
static void pdu_expire(struct request *rq, int from)
{
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);

	if (!pdu_claim(rq, from))
		return;
	import_set_failed(pdu->q->imp);
	pdu_finish(rq, BLK_STS_IOERR);
}

/*
 * Take connection @gen of @q down, unless that already happened: the
 * recover work does the rest.
 */
static void queue_fail(struct dstor_queue *q, u32 gen)
{
	spin_lock(&q->lock);
	if (q->connected && q->gen == gen) {
		q->connected = false;
		queue_work(dstor_ctl_wq, &q->recover_work);
	}
	spin_unlock(&q->lock);
}

static blk_status_t dstor_queue_rq(struct blk_mq_hw_ctx *hctx,
				   const struct blk_mq_queue_data *bd)
{
	struct dstor_queue *q = hctx->driver_data;
	struct dstor_import *imp = q->imp;
	struct request *rq = bd->rq;
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);
	bool kick = false;

	if (unlikely(test_bit(DSTOR_IMP_DYING, &imp->state_bits)))
		return BLK_STS_IOERR;
	if (unlikely(!rq_to_op(rq)))
		return BLK_STS_NOTSUPP;

	spin_lock(&q->lock);
	if (unlikely(!q->connected &&
		     test_bit(DSTOR_IMP_FAILED, &imp->state_bits))) {
		spin_unlock(&q->lock);
		return BLK_STS_IOERR;
	}
	WRITE_ONCE(pdu->gen, pdu->gen + 1);
	pdu->status = BLK_STS_OK;
	pdu->expired = false;
	atomic_set(&pdu->timeouts, 0);
	dstor_stat_add(&imp->stats, DSTOR_STAT_INFLIGHT, 1);
	blk_mq_start_request(rq);
	if (likely(q->connected)) {
		pdu->sent = jiffies;
		atomic_set(&pdu->state, DSTOR_PDU_INFLIGHT);
		llist_add(&pdu->lnode, &q->send_llist);
		kick = bd->last;
	} else {
		/* Sent when the connection is back; its timer runs meanwhile. */
		atomic_set(&pdu->state, DSTOR_PDU_HELD);
	}
	spin_unlock(&q->lock);
	if (kick)
		queue_work(dstor_io_wq, &q->tx_work);
	return BLK_STS_OK;
}

static void dstor_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct dstor_queue *q = hctx->driver_data;

	queue_work(dstor_io_wq, &q->tx_work);
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
	int state = atomic_read(&pdu->state);
	bool over;

	if (state != DSTOR_PDU_INFLIGHT && state != DSTOR_PDU_HELD)
		return BLK_EH_DONE;	/* being completed */
	/* Resent less than a timeout ago: give the new send its full time. */
	if (state == DSTOR_PDU_INFLIGHT &&
	    time_before(jiffies, READ_ONCE(pdu->sent) + timeout))
		return BLK_EH_RESET_TIMER;

	dstor_stat_add(&imp->stats, DSTOR_STAT_TIMEOUTS, 1);
	over = atomic_inc_return(&pdu->timeouts) >
	       READ_ONCE(imp->timers.retries) ||
	       test_bit(DSTOR_IMP_DYING, &imp->state_bits);

	if (state == DSTOR_PDU_HELD) {
		if (!over && !test_bit(DSTOR_IMP_FAILED, &imp->state_bits))
			return BLK_EH_RESET_TIMER;
		pdu_expire(rq, DSTOR_PDU_HELD);
		return BLK_EH_DONE;
	}

	/*
	 * Sent and unanswered for a whole timeout on a connection that looks
	 * alive: reset it. The recover work parks the request for a resend, or
	 * fails it if it has no resends left.
	 */
	pr_warn_ratelimited("%s: request unanswered for %lus; resetting connection %u\n",
			    imp->disk->disk_name, timeout / HZ, q->qid);
	if (over)
		WRITE_ONCE(pdu->expired, true);
	queue_fail(q, READ_ONCE(q->gen));
	return BLK_EH_RESET_TIMER;
}

/*
 * Point @iter at the data of @bio, honouring where the bio starts within
 * its first vector (merged and split bios do not start at vector 0).
 */
static void bio_iter(struct bio *bio, unsigned int dir, struct iov_iter *iter)
{
	struct bvec_iter bi;
	struct bio_vec bv;
	unsigned int nr = 0;

	bio_for_each_bvec(bv, bio, bi)
		nr++;
	iov_iter_bvec(iter, dir, __bvec_iter_bvec(bio->bi_io_vec, bio->bi_iter),
		      nr, bio->bi_iter.bi_size + bio->bi_iter.bi_bvec_done);
	iov_iter_advance(iter, bio->bi_iter.bi_bvec_done);
}

static int rq_xfer_data(struct dstor_queue *q, struct request *rq,
			unsigned int dir, bool more)
{
	struct msghdr msg = {};
	struct bio *bio;
	int ret;

	__rq_for_each_bio(bio, rq) {
		bio_iter(bio, dir, &msg.msg_iter);
		while (msg_data_left(&msg)) {
			if (dir == ITER_SOURCE) {
				msg.msg_flags = MSG_NOSIGNAL |
					(more || bio->bi_next ? MSG_MORE : 0);
				ret = sock_sendmsg(q->sock, &msg);
			} else {
				msg.msg_flags = MSG_NOSIGNAL | MSG_WAITALL;
				ret = sock_recvmsg(q->sock, &msg,
						   msg.msg_flags);
			}
			if (ret <= 0)
				return ret ? ret : -ECONNRESET;
		}
	}
	return 0;
}

/*
 * Hand a request to the crypto pool. Its pages are copied into the record
 * there; the request cannot complete before then, since the exporter has
 * not seen it yet, and the recover work waits for the pool.
 */
static void seal_rq(struct dstor_queue *q, struct request *rq,
		    const struct dstor_hdr *h)
{
	struct dstor_rec *rec = dstor_seal_begin(q->seal, h);
	struct req_iterator iter;
	struct bio_vec bv;

	if (h->payload)
		rq_for_each_segment(bv, rq, iter)
			dstor_rec_add_src(rec, bv.bv_page, bv.bv_len,
					  bv.bv_offset);
	dstor_seal_commit(rec, NULL, NULL);
}

static int send_rq(struct dstor_queue *q, struct request *rq, bool more)
{
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);
	struct dstor_hdr h = {
		.op = rq_to_op(rq),
		.handle = dstor_handle_make(READ_ONCE(pdu->gen),
					    blk_mq_unique_tag(rq)),
	};
	u8 buf[DSTOR_HDR_LEN];
	int ret;

	if (h.op != DSTOR_OP_FLUSH) {
		h.offset = blk_rq_pos(rq) << SECTOR_SHIFT;
		h.length = blk_rq_bytes(rq);
	}
	if (h.op == DSTOR_OP_WRITE) {
		h.payload = h.length;
		if (rq->cmd_flags & REQ_FUA)
			h.flags |= DSTOR_RQ_FUA;
	}
	if (h.op == DSTOR_OP_WRITE_ZEROES && (rq->cmd_flags & REQ_NOUNMAP))
		h.flags |= DSTOR_RQ_NOUNMAP;

	if (q->seal) {
		seal_rq(q, rq, &h);
		return 0;
	}
	dstor_hdr_encode(buf, &h);
	ret = dstor_sock_send(q->sock, buf, sizeof(buf), more || h.payload);
	if (ret || !h.payload)
		return ret;
	return rq_xfer_data(q, rq, ITER_SOURCE, more);
}

static int send_ping(struct dstor_queue *q)
{
	struct dstor_hdr h = { .op = DSTOR_OP_PING, .handle = jiffies };

	dstor_stat_add(&q->imp->stats, DSTOR_STAT_KEEPALIVES, 1);
	if (q->seal) {
		dstor_seal_commit(dstor_seal_begin(q->seal, &h), NULL, NULL);
		return 0;
	}
	return dstor_send_frame(q->sock, &h, NULL, false);
}

static void queue_tx_work(struct work_struct *work)
{
	struct dstor_queue *q = container_of(work, struct dstor_queue,
					     tx_work);
	struct llist_node *list;
	struct dstor_pdu *pdu, *next;
	unsigned int noreclaim;
	u32 gen;
	int ret = 0;

	spin_lock(&q->lock);
	gen = q->gen;
	if (!q->connected) {
		/* Down: the recover work parks what is on the list. */
		spin_unlock(&q->lock);
		return;
	}
	spin_unlock(&q->lock);

	noreclaim = memalloc_noreclaim_save();
	if (xchg(&q->ping, false))
		ret = send_ping(q);
	list = llist_reverse_order(llist_del_all(&q->send_llist));
	llist_for_each_entry_safe(pdu, next, list, lnode) {
		if (ret)
			break;
		/* next is never NULL in this macro: test the node itself. */
		ret = send_rq(q, blk_mq_rq_from_pdu(pdu), pdu->lnode.next);
	}
	memalloc_noreclaim_restore(noreclaim);
	/*
	 * On failure the unsent rest of the list is left alone: those
	 * requests are INFLIGHT, and the recover work parks them for a resend
	 * once it has stopped this work.
	 */
	if (ret)
		queue_fail(q, gen);
}

/*
 * The request a reply names, if it is in flight under that handle; NULL
 * for a late or duplicate reply.
 */
static struct request *reply_rq(struct dstor_queue *q,
				const struct dstor_hdr *h, int *err)
{
	u32 utag = dstor_handle_tag(h->handle);
	struct dstor_pdu *pdu;
	struct request *rq;

	*err = 0;
	if (blk_mq_unique_tag_to_hwq(utag) != q->qid) {
		*err = -EPROTO;
		return NULL;
	}
	rq = blk_mq_tag_to_rq(q->imp->tag_set.tags[q->qid],
			      blk_mq_unique_tag_to_tag(utag));
	if (!rq || !blk_mq_request_started(rq))
		return NULL;
	pdu = blk_mq_rq_to_pdu(rq);
	if (READ_ONCE(pdu->gen) != dstor_handle_gen(h->handle) ||
	    atomic_read(&pdu->state) != DSTOR_PDU_INFLIGHT)
		return NULL;
	if (rq_to_op(rq) == DSTOR_OP_READ && h->status == DSTOR_ST_OK ?
	    h->payload != blk_rq_bytes(rq) : h->payload) {
		*err = -EPROTO;
		return NULL;
	}
	return rq;
}

/* A sealed reply, opened in the crypto pool. */
static int queue_frame(struct dstor_seal *sl, struct dstor_rec *rec,
		       const struct dstor_hdr *h)
{
	struct dstor_queue *q = sl->owner;
	struct req_iterator iter;
	struct request *rq;
	struct bio_vec bv;
	u32 off = 0;
	int err;

	if (h->op == DSTOR_OP_PONG)
		return 0;
	if (h->op != DSTOR_OP_REPLY)
		return -EPROTO;
	rq = reply_rq(q, h, &err);
	/* Claim it before touching its pages: a duplicate must not. */
	if (!rq || !pdu_claim(rq, DSTOR_PDU_INFLIGHT))
		return err;
	if (h->payload) {
		rq_for_each_segment(bv, rq, iter) {
			void *p = kmap_local_page(bv.bv_page);

			dstor_rec_read(rec, off, p + bv.bv_offset, bv.bv_len);
			kunmap_local(p);
			off += bv.bv_len;
		}
	}
	pdu_finish(rq, wire_to_blk_status(h->status));
	return 0;
}

static void queue_seal_fail(struct dstor_seal *sl)
{
	struct dstor_queue *q = sl->owner;

	queue_fail(q, READ_ONCE(q->gen));
}

static int handle_reply(struct dstor_queue *q, const struct dstor_hdr *h)
{
	struct dstor_import *imp = q->imp;
	struct request *rq;
	int ret;

	rq = reply_rq(q, h, &ret);
	if (ret)
		return ret;
	if (!rq)
		goto stale;

	if (h->payload) {
		ret = rq_xfer_data(q, rq, ITER_DEST, false);
		if (ret)
			return ret;
	}
	pdu_complete(rq, DSTOR_PDU_INFLIGHT, wire_to_blk_status(h->status));
	return 0;

stale:
	/* A late or duplicate reply: drop it, stay in step with the stream. */
	pr_debug("%s: dropping a stale reply\n", imp->disk->disk_name);
	return dstor_sock_discard(q->sock, h->payload);
}

static void queue_rx_work(struct work_struct *work)
{
	struct dstor_queue *q = container_of(work, struct dstor_queue,
					     rx_work);
	unsigned int noreclaim = memalloc_noreclaim_save();
	u32 gen = READ_ONCE(q->gen);
	struct dstor_hdr h;
	int ret;

	while (q->seal) {
		ret = dstor_seal_recv(q->seal);
		if (ret)
			goto out;
		WRITE_ONCE(q->last_rx, jiffies);
	}
	for (;;) {
		ret = dstor_recv_hdr(q->sock, &h);
		if (ret)
			break;
		WRITE_ONCE(q->last_rx, jiffies);
		if (h.op == DSTOR_OP_PONG)
			continue;
		if (h.op != DSTOR_OP_REPLY) {
			ret = -EPROTO;
			break;
		}
		ret = handle_reply(q, &h);
		if (ret)
			break;
	}
out:
	memalloc_noreclaim_restore(noreclaim);
	if (ret == -EPROTO)
		pr_err_ratelimited("%s: protocol error from the peer on connection %u\n",
				   q->imp->disk->disk_name, q->qid);
	queue_fail(q, gen);
}

static void queue_ka_work(struct work_struct *work)
{
	struct dstor_queue *q = container_of(to_delayed_work(work),
					     struct dstor_queue, ka_work);
	struct dstor_timers *t = &q->imp->timers;
	unsigned long now = jiffies;
	unsigned long idle = now - READ_ONCE(q->last_rx);
	u32 gen;

	spin_lock(&q->lock);
	gen = q->gen;
	if (!q->connected) {
		spin_unlock(&q->lock);
		return;
	}
	spin_unlock(&q->lock);

	if (idle >= READ_ONCE(t->dead_after) * HZ) {
		pr_warn("%s: nothing heard on connection %u for %lus; reconnecting\n",
			q->imp->disk->disk_name, q->qid, idle / HZ);
		queue_fail(q, gen);
		return;
	}
	if (idle >= READ_ONCE(t->keepalive) * HZ &&
	    now - q->last_ping >= READ_ONCE(t->keepalive) * HZ) {
		q->last_ping = now;
		WRITE_ONCE(q->ping, true);
		queue_work(dstor_io_wq, &q->tx_work);
	}
	queue_delayed_work(dstor_io_wq, &q->ka_work, DSTOR_KA_TICK);
}

/* ---- losing and regaining a connection ---- */

static bool park_one(struct request *rq, void *data)
{
	struct dstor_queue *q = data;
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);
	bool dying = test_bit(DSTOR_IMP_DYING, &q->imp->state_bits);

	if (rq->mq_hctx->queue_num != q->qid)
		return true;
	if (dying) {
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

static bool resend_one(struct request *rq, void *data)
{
	struct dstor_queue *q = data;
	struct dstor_pdu *pdu = blk_mq_rq_to_pdu(rq);

	if (rq->mq_hctx->queue_num != q->qid)
		return true;
	pdu->sent = jiffies;
	if (atomic_cmpxchg(&pdu->state, DSTOR_PDU_HELD, DSTOR_PDU_INFLIGHT) ==
	    DSTOR_PDU_HELD) {
		dstor_stat_add(&q->imp->stats, DSTOR_STAT_RESENT, 1);
		llist_add(&pdu->lnode, &q->send_llist);
	}
	return true;
}

/* What a failed reconnect means, for the log. */
static const char *reconnect_reason(long err)
{
	switch (err) {
	case -EKEYREJECTED:
		return "authentication failed (the keys differ?)";
	case -EACCES:
		return "the exporter's access list refuses this host";
	case -ENOENT:
		return "the exporter has no export of that name";
	case -ESTALE:
		return "the export changed its size or block size";
	case -ECONNREFUSED:
		return "connection refused";
	case -ETIMEDOUT:
	case -EAGAIN:
		return "no answer";
	default:
		return "cannot connect";
	}
}

static unsigned int next_backoff(struct dstor_queue *q)
{
	struct dstor_timers *t = &q->imp->timers;
	unsigned int lo = READ_ONCE(t->reconnect_min);
	unsigned int hi = READ_ONCE(t->reconnect_max);

	if (!q->backoff)
		return lo;
	return clamp(q->backoff * 2, lo, max(lo, hi));
}

/*
 * The connection is down (queue_fail cleared ->connected): stop both loops,
 * drop the socket, park the queue's requests for a resend, then start
 * reconnecting. With the import dying, fail the requests instead.
 */
static void queue_recover_work(struct work_struct *work)
{
	struct dstor_queue *q = container_of(work, struct dstor_queue,
					     recover_work);
	struct dstor_import *imp = q->imp;
	bool dying = test_bit(DSTOR_IMP_DYING, &imp->state_bits);
	struct socket *sock;

	cancel_delayed_work_sync(&q->ka_work);
	sock = q->sock;
	if (sock) {
		kernel_sock_shutdown(sock, SHUT_RDWR);
		flush_work(&q->rx_work);
		cancel_work_sync(&q->tx_work);
		if (q->seal) {
			/* Waits for the records in the pool. */
			dstor_seal_stop(q->seal);
			dstor_seal_free(q->seal);
			q->seal = NULL;
		}
		q->sock = NULL;
		sock_release(sock);
		if (!dying) {
			pr_warn("%s: connection %u to the exporter lost; reconnecting\n",
				imp->disk->disk_name, q->qid);
			dstor_netlink_event(imp, DSTOR_EVENT_LINK_LOST, q->qid);
		}
	}
	/* Nothing on the send list was sent to anyone alive: park it all. */
	llist_del_all(&q->send_llist);
	blk_mq_tagset_busy_iter(&imp->tag_set, park_one, q);

	if (!dying) {
		q->backoff = 0;
		queue_delayed_work(dstor_ctl_wq, &q->connect_work, 0);
	}
}

/* A fresh, greeted socket: make it the queue's connection. */
static void queue_start(struct dstor_queue *q, struct socket *sock,
			struct dstor_seal *seal)
{
	q->sock = sock;
	q->seal = seal;
	if (seal)
		q->imp->cipher = seal->cipher;
	q->last_rx = jiffies;
	q->last_ping = jiffies;
	q->ping = false;
	spin_lock(&q->lock);
	q->gen++;
	q->connected = true;
	spin_unlock(&q->lock);
	queue_work(dstor_rx_wq, &q->rx_work);
	queue_delayed_work(dstor_io_wq, &q->ka_work, DSTOR_KA_TICK);
}

unsigned int dstor_import_connected(struct dstor_import *imp)
{
	unsigned int i, n = 0;

	for (i = 0; i < imp->nr_queues; i++)
		n += READ_ONCE(imp->queues[i].connected);
	return n;
}

static void queue_connect_work(struct work_struct *work)
{
	struct dstor_queue *q = container_of(to_delayed_work(work),
					     struct dstor_queue, connect_work);
	struct dstor_import *imp = q->imp;
	struct dstor_seal *seal = NULL;
	struct dstor_hello_reply info;
	unsigned int noio;
	struct socket *sock;

	if (test_bit(DSTOR_IMP_DYING, &imp->state_bits))
		return;
	/* Writeback may be waiting on us: allocate without recursing. */
	noio = memalloc_noio_save();
	sock = queue_connect(imp, q, &info, &seal, NULL);
	memalloc_noio_restore(noio);
	/*
	 * A device that changed size or block size under us is not the one
	 * we had. One that became read-only for us (its access list changed)
	 * still is: reads go on, the exporter fails each write.
	 */
	if (!IS_ERR(sock) && (info.size != imp->info.size ||
			      info.logical_block_size !=
			      imp->info.logical_block_size)) {
		if (seal) {
			dstor_seal_stop(seal);
			dstor_seal_free(seal);
		}
		sock_release(sock);
		sock = ERR_PTR(-ESTALE);
	}
	if (IS_ERR(sock)) {
		q->backoff = next_backoff(q);
		/* Say why once per cause: a refusal needs the admin. */
		if (PTR_ERR(sock) != q->last_err)
			pr_warn("%s: reconnect of connection %u failed: %s (%ld); retrying every %u s at most\n",
				imp->disk->disk_name, q->qid,
				reconnect_reason(PTR_ERR(sock)), PTR_ERR(sock),
				READ_ONCE(imp->timers.reconnect_max));
		q->last_err = PTR_ERR(sock);
		queue_delayed_work(dstor_ctl_wq, &q->connect_work,
				   q->backoff * HZ);
		return;
	}

	q->backoff = 0;
	q->last_err = 0;
	queue_start(q, sock, seal);
	dstor_stat_add(&imp->stats, DSTOR_STAT_RECONNECTS, 1);
	blk_mq_tagset_busy_iter(&imp->tag_set, resend_one, q);
	queue_work(dstor_io_wq, &q->tx_work);

	pr_info("%s: connection %u to the exporter re-established\n",
		imp->disk->disk_name, q->qid);
	if (dstor_import_connected(imp) == imp->nr_queues)
		clear_bit(DSTOR_IMP_FAILED, &imp->state_bits);
	dstor_netlink_event(imp, DSTOR_EVENT_RECONNECTED, q->qid);
}

/* ---- the block device ---- */

int dstor_disk_open(struct gendisk *disk)
{
	struct dstor_import *imp = disk->private_data;

	if (test_bit(DSTOR_IMP_DYING, &imp->state_bits))
		return -ENXIO;
	return 0;
}

static const struct block_device_operations dstor_fops = {
	.owner = THIS_MODULE,
	.open = dstor_compat_open,
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
	.commit_rqs = dstor_commit_rqs,
	.complete = dstor_complete_rq,
	.timeout = dstor_timeout,
	.init_hctx = dstor_init_hctx,
	.init_request = dstor_init_request,
};

u32 dstor_import_state(struct dstor_import *imp)
{
	if (test_bit(DSTOR_IMP_DYING, &imp->state_bits))
		return DSTOR_STATE_DELETING;
	if (test_bit(DSTOR_IMP_FAILED, &imp->state_bits))
		return DSTOR_STATE_FAILED;
	if (dstor_import_connected(imp) < imp->nr_queues)
		return DSTOR_STATE_RECONNECTING;
	return DSTOR_STATE_CONNECTED;
}

/* A new key, used from the next connection on. NULL: no key. */
void dstor_import_set_key(struct dstor_import *imp, const u8 *key)
{
	spin_lock(&imp->key_lock);
	if (key) {
		memcpy(imp->key.key, key, DSTOR_KEY_LEN);
		dstor_key_id(key, imp->key.id);
		imp->key.set = true;
	} else {
		memzero_explicit(&imp->key, sizeof(imp->key));
	}
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
	if (imp->disk)
		blk_queue_rq_timeout(imp->disk->queue, t->timeout * HZ);
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
	int ret;

	if (info->flags & DSTOR_EXP_DISCARD)
		lim.max_discard_sectors = info->max_range >> SECTOR_SHIFT;
	if (info->flags & DSTOR_EXP_WRITE_ZEROES)
		lim.max_write_zeroes_sectors = info->max_range >> SECTOR_SHIFT;

	imp->tag_set.ops = &dstor_mq_ops;
	imp->tag_set.nr_hw_queues = imp->nr_queues;
	imp->tag_set.queue_depth = DSTOR_QUEUE_DEPTH;
	imp->tag_set.numa_node = NUMA_NO_NODE;
	imp->tag_set.cmd_size = sizeof(struct dstor_pdu);
	imp->tag_set.flags = BLK_MQ_F_SHOULD_MERGE;
	imp->tag_set.driver_data = imp;
	imp->tag_set.timeout = imp->timers.timeout * HZ;
	ret = blk_mq_alloc_tag_set(&imp->tag_set);
	if (ret)
		return ret;

	disk = dstor_alloc_disk(&imp->tag_set, &lim, imp);
	if (IS_ERR(disk)) {
		blk_mq_free_tag_set(&imp->tag_set);
		return PTR_ERR(disk);
	}
	disk->major = dstor_major;
	disk->first_minor = imp->index * DSTOR_MINORS;
	disk->minors = DSTOR_MINORS;
	disk->fops = &dstor_fops;
	disk->private_data = imp;
	snprintf(disk->disk_name, DISK_NAME_LEN, "dstor%d", imp->index);
	set_capacity(disk, info->size >> SECTOR_SHIFT);
	if (imp->flags & DSTOR_F_READ_ONLY)
		set_disk_ro(disk, true);
	imp->disk = disk;
	return 0;
}

/*
 * Stop every connection for good and fail whatever is still outstanding.
 * DSTOR_IMP_DYING is set, so nothing reconnects and queue_rq fails new I/O.
 */
static void import_stop(struct dstor_import *imp)
{
	unsigned int i;

	for (i = 0; i < imp->nr_queues; i++) {
		struct dstor_queue *q = &imp->queues[i];

		/*
		 * A recover that started before DYING may still queue one more
		 * connect, and that connect may succeed: go round until the
		 * queue is down with nothing pending.
		 */
		do {
			cancel_delayed_work_sync(&q->connect_work);
			spin_lock(&q->lock);
			q->connected = false;
			spin_unlock(&q->lock);
			queue_work(dstor_ctl_wq, &q->recover_work);
			flush_work(&q->recover_work);
		} while (delayed_work_pending(&q->connect_work) || q->sock);
	}
	/* A queue_rq that raced with DYING parked its request: fail it. */
	blk_mq_quiesce_queue(imp->disk->queue);
	for (i = 0; i < imp->nr_queues; i++)
		blk_mq_tagset_busy_iter(&imp->tag_set, park_one,
					&imp->queues[i]);
	blk_mq_unquiesce_queue(imp->disk->queue);
}

static void import_free(struct dstor_import *imp)
{
	unsigned int i;

	for (i = 0; i < imp->nr_queues; i++) {
		struct dstor_queue *q = &imp->queues[i];

		if (q->seal) {
			dstor_seal_stop(q->seal);
			dstor_seal_free(q->seal);
		}
		if (q->sock)
			sock_release(q->sock);
	}
	kfree(imp->queues);
	memzero_explicit(&imp->key, sizeof(imp->key));
	if (imp->index >= 0)
		ida_free(&dstor_index_ida, imp->index);
	put_net(imp->net);
	kfree(imp);
	atomic_dec(&dstor_live.imports);
}

int dstor_import_add(struct net *net, const char *name,
		     const struct dstor_endpoint *peer, u32 flags,
		     unsigned int nr_conns, const struct dstor_timers *timers,
		     const u8 *key, int *index, struct netlink_ext_ack *extack)
{
	struct dstor_hello_reply info;
	struct dstor_import *imp;
	struct socket *sock;
	unsigned int i;
	int ret;

	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp)
		return -ENOMEM;
	atomic_inc(&dstor_live.imports);
	imp->index = -1;
	imp->net = get_net(net);
	strscpy(imp->name, name, sizeof(imp->name));
	imp->peer = *peer;
	imp->flags = flags;
	imp->timers = *timers;
	spin_lock_init(&imp->key_lock);
	if (key) {
		memcpy(imp->key.key, key, DSTOR_KEY_LEN);
		dstor_key_id(key, imp->key.id);
		imp->key.set = true;
	}
	imp->nr_queues = nr_conns;
	get_random_bytes(&imp->session, sizeof(imp->session));
	imp->queues = kcalloc(nr_conns, sizeof(*imp->queues), GFP_KERNEL);
	if (!imp->queues) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < nr_conns; i++) {
		struct dstor_queue *q = &imp->queues[i];

		q->imp = imp;
		q->qid = i;
		spin_lock_init(&q->lock);
		init_llist_head(&q->send_llist);
		INIT_WORK(&q->tx_work, queue_tx_work);
		INIT_WORK(&q->rx_work, queue_rx_work);
		INIT_WORK(&q->recover_work, queue_recover_work);
		INIT_DELAYED_WORK(&q->connect_work, queue_connect_work);
		INIT_DELAYED_WORK(&q->ka_work, queue_ka_work);
	}

	for (i = 0; i < nr_conns; i++) {
		sock = queue_connect(imp, &imp->queues[i], &info,
				     &imp->queues[i].seal, extack);
		if (IS_ERR(sock)) {
			ret = PTR_ERR(sock);
			goto err_free;
		}
		imp->queues[i].sock = sock;
		if (i == 0) {
			imp->info = info;
		} else if (memcmp(&info, &imp->info, sizeof(info))) {
			NL_SET_ERR_MSG_MOD(extack,
					   "the export changed while connecting");
			ret = -EAGAIN;
			goto err_free;
		}
	}
	if ((imp->info.flags & DSTOR_EXP_READ_ONLY) &&
	    !(flags & DSTOR_F_READ_ONLY)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "the export is read-only for this importer: import it read-only");
		ret = -EROFS;
		goto err_free;
	}

	ret = ida_alloc_max(&dstor_index_ida, MINORMASK / DSTOR_MINORS,
			    GFP_KERNEL);
	if (ret < 0)
		goto err_free;
	imp->index = ret;

	ret = import_disk_create(imp);
	if (ret)
		goto err_free;
	for (i = 0; i < nr_conns; i++)
		queue_start(&imp->queues[i], imp->queues[i].sock,
			    imp->queues[i].seal);
	ret = add_disk(imp->disk);
	if (ret) {
		set_bit(DSTOR_IMP_DYING, &imp->state_bits);
		import_stop(imp);
		put_disk(imp->disk);
		blk_mq_free_tag_set(&imp->tag_set);
		goto err_free;
	}

	mutex_lock(&dstor_cfg_mutex);
	list_add_tail(&imp->entry, &dstor_imports);
	mutex_unlock(&dstor_cfg_mutex);
	*index = imp->index;
	return 0;

err_free:
	import_free(imp);
	return ret;
}

static void import_destroy(struct dstor_import *imp)
{
	set_bit(DSTOR_IMP_DYING, &imp->state_bits);
	import_stop(imp);
	del_gendisk(imp->disk);
	dstor_netlink_event(imp, DSTOR_EVENT_REMOVED, -1);
	blk_mq_free_tag_set(&imp->tag_set);
	put_disk(imp->disk);
	import_free(imp);
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
	import_destroy(imp);
	return 0;
}

void dstor_import_destroy_all(void)
{
	struct dstor_import *imp, *tmp;

	mutex_lock(&dstor_cfg_mutex);
	list_for_each_entry_safe(imp, tmp, &dstor_imports, entry) {
		list_del(&imp->entry);
		import_destroy(imp);
	}
	mutex_unlock(&dstor_cfg_mutex);
}
