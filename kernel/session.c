// SPDX-License-Identifier: GPL-2.0
/*
 * The exporter's side of one connection: the hello, then requests turned
 * into bios on the backing device, each answered only when its bio has
 * completed, with the bio's real status.
 *
 * A session has two work items: rx_work, a blocking receive loop on
 * dstor_srv_wq that lives as long as the connection, and tx_work on
 * dstor_io_wq, which sends the replies that bio completions queue on the
 * session's lock-free reply list. Request memory (the request, its bio and
 * its data pages) comes from mempools, so a request never fails for want of
 * memory; at most DSTOR_SRV_MAX_INFLIGHT requests are outstanding per
 * session, which bounds what one importer can pin.
 */
#include <crypto/algapi.h>
#include <linux/bio.h>
#include <linux/highmem.h>
#include <linux/random.h>
#include <linux/mempool.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <net/sock.h>
#include <linux/tcp.h>

#include "dstor.h"

#define DSTOR_SRV_MAX_INFLIGHT	256
#define DSTOR_HELLO_TIMEOUT	(10 * HZ)
#define DSTOR_MAX_PENDING	64	/* connections in their handshake */

struct dstor_srv_req {
	struct dstor_session *s;
	struct llist_node node;
	struct work_struct work;	/* discard and write-zeroes */
	u64 handle;
	u64 offset;
	u32 length;
	u8 op;
	u8 flags;
	u16 status;
	struct bio bio;			/* last: allocated by the bioset */
};

static void session_tx_work(struct work_struct *work);
static void session_rx_work(struct work_struct *work);

int dstor_session_init(void)
{
	return bioset_init(&dstor_srv_bioset, 64,
			   offsetof(struct dstor_srv_req, bio),
			   BIOSET_NEED_BVECS);
}

void dstor_session_exit(void)
{
	bioset_exit(&dstor_srv_bioset);
}

void dstor_session_start(struct dstor_listener *l, struct socket *sock)
{
	struct dstor_session *s;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		goto drop;
	s->listener = l;
	s->sock = sock;
	atomic_set(&s->inflight, 0);
	init_waitqueue_head(&s->wait);
	init_llist_head(&s->replies);
	INIT_WORK(&s->rx_work, session_rx_work);
	INIT_WORK(&s->tx_work, session_tx_work);

	mutex_lock(&l->lock);
	if (l->stopping || l->nr_pending >= DSTOR_MAX_PENDING) {
		mutex_unlock(&l->lock);
		net_warn_ratelimited("dstor: too many connections in their handshake; dropping one\n");
		kfree(s);
		goto drop;
	}
	l->nr_pending++;
	s->pending = true;
	l->nr_sessions++;
	if (kernel_getpeername(sock, (struct sockaddr *)&s->peer) < 0)
		s->peer.ss_family = AF_UNSPEC;
	list_add_tail(&s->entry, &l->sessions);
	mutex_unlock(&l->lock);

	atomic_inc(&dstor_live.sessions);
	tcp_sock_set_nodelay(sock->sk);
	queue_work(dstor_srv_wq, &s->rx_work);
	return;
drop:
	sock_release(sock);
}

/* Called with the listener's lock held. */
void dstor_session_kill(struct dstor_session *s)
{
	lockdep_assert_held(&s->listener->lock);
	if (s->sock)
		kernel_sock_shutdown(s->sock, SHUT_RDWR);
}

static u16 blk_status_to_wire(blk_status_t st)
{
	switch (st) {
	case BLK_STS_OK:
		return DSTOR_ST_OK;
	case BLK_STS_NOTSUPP:
		return DSTOR_ST_NOTSUPP;
	case BLK_STS_NOSPC:
		return DSTOR_ST_NOSPC;
	default:
		return DSTOR_ST_IOERR;
	}
}

static u16 errno_to_wire(int err)
{
	return blk_status_to_wire(errno_to_blk_status(err));
}

static struct dstor_srv_req *req_alloc(struct dstor_session *s,
				       const struct dstor_hdr *h,
				       unsigned int nr_vecs, blk_opf_t opf)
{
	struct block_device *bdev = s->exp ? s->exp->bdev.bdev : NULL;
	struct dstor_srv_req *req;
	struct bio *bio;

	/* GFP_NOIO from a bioset: waits for memory, never fails. */
	bio = bio_alloc_bioset(bdev, nr_vecs, opf, GFP_NOIO, &dstor_srv_bioset);
	req = container_of(bio, struct dstor_srv_req, bio);
	req->s = s;
	req->handle = h->handle;
	req->offset = h->offset;
	req->length = h->length;
	req->op = h->op;
	req->flags = h->flags;
	req->status = DSTOR_ST_OK;
	atomic_inc(&s->inflight);
	atomic_inc(&dstor_live.srv_reqs);
	if (s->exp)
		dstor_stat_add(&s->exp->stats, DSTOR_STAT_INFLIGHT, 1);
	return req;
}

static void req_free(struct dstor_srv_req *req)
{
	struct dstor_session *s = req->s;
	struct bio_vec *bv;
	struct bvec_iter_all iter;

	if (s->exp)
		dstor_stat_add(&s->exp->stats, DSTOR_STAT_INFLIGHT, -1);
	bio_for_each_segment_all(bv, &req->bio, iter)
		mempool_free(bv->bv_page, dstor_page_pool);
	bio_put(&req->bio);
	atomic_dec(&dstor_live.srv_reqs);
	if (atomic_dec_return(&s->inflight) < DSTOR_SRV_MAX_INFLIGHT)
		wake_up(&s->wait);
}

static void req_reply(struct dstor_srv_req *req)
{
	struct dstor_session *s = req->s;

	if (llist_add(&req->node, &s->replies))
		queue_work(dstor_io_wq, &s->tx_work);
}

static void req_end_io(struct bio *bio)
{
	struct dstor_srv_req *req = container_of(bio, struct dstor_srv_req,
						 bio);

	req->status = blk_status_to_wire(bio->bi_status);
	req_reply(req);
}

static void req_range_work(struct work_struct *work)
{
	struct dstor_srv_req *req = container_of(work, struct dstor_srv_req,
						 work);
	struct block_device *bdev = req->s->exp->bdev.bdev;
	sector_t sector = req->offset >> SECTOR_SHIFT;
	sector_t nr = req->length >> SECTOR_SHIFT;
	int ret;

	if (req->op == DSTOR_OP_DISCARD)
		ret = blkdev_issue_discard(bdev, sector, nr, GFP_NOIO);
	else
		ret = blkdev_issue_zeroout(bdev, sector, nr, GFP_NOIO,
					   req->flags & DSTOR_RQ_NOUNMAP ?
					   BLKDEV_ZERO_NOUNMAP : 0);
	req->status = errno_to_wire(ret);
	req_reply(req);
}

static void reply_hdr(struct dstor_srv_req *req, struct dstor_hdr *h)
{
	*h = (struct dstor_hdr) {
		.op = req->op == DSTOR_OP_PING ? DSTOR_OP_PONG : DSTOR_OP_REPLY,
		.handle = req->handle,
		.status = req->status,
	};
	if (req->op != DSTOR_OP_PING) {
		h->offset = req->offset;
		h->length = req->length;
	}
	if (req->op == DSTOR_OP_READ && req->status == DSTOR_ST_OK)
		h->payload = req->length;
}

static int send_reply(struct dstor_session *s, struct dstor_srv_req *req,
		      bool more)
{
	u8 buf[DSTOR_HDR_LEN];
	struct dstor_hdr h;
	int ret;

	reply_hdr(req, &h);
	dstor_hdr_encode(buf, &h);
	ret = dstor_sock_send(s->sock, buf, sizeof(buf), more || h.payload);
	if (ret || !h.payload)
		return ret;
	return dstor_sock_send_bvec(s->sock, req->bio.bi_io_vec,
				    req->bio.bi_vcnt, h.payload, more);
}

static void req_copied(void *arg)
{
	req_free(arg);
}

/* Hand a reply to the crypto pool; the request is freed once copied. */
static void seal_reply(struct dstor_session *s, struct dstor_srv_req *req)
{
	struct dstor_hdr h;
	struct dstor_rec *rec;
	struct bio_vec *bv;
	struct bvec_iter_all iter;

	reply_hdr(req, &h);
	rec = dstor_seal_begin(s->seal, &h);
	if (h.payload)
		bio_for_each_segment_all(bv, &req->bio, iter)
			dstor_rec_add_src(rec, bv->bv_page, bv->bv_len,
					  bv->bv_offset);
	dstor_seal_commit(rec, req_copied, req);
}

static void session_tx_work(struct work_struct *work)
{
	struct dstor_session *s = container_of(work, struct dstor_session,
					       tx_work);
	struct dstor_srv_req *req, *next;
	struct llist_node *list;
	int ret = 0;

	list = llist_reverse_order(llist_del_all(&s->replies));
	llist_for_each_entry_safe(req, next, list, node) {
		if (s->exp && req->op != DSTOR_OP_PING)
			dstor_stats_count(&s->exp->stats, req->op, req->length,
					  req->status != DSTOR_ST_OK);
		if (s->seal) {
			seal_reply(s, req);
			continue;
		}
		if (!ret)
			ret = send_reply(s, req, req->node.next);
		req_free(req);
	}
	/* A dead connection: make the receive loop notice and end. */
	if (ret)
		kernel_sock_shutdown(s->sock, SHUT_RDWR);
}

static void fill_hello_reply(struct dstor_session *s,
			     struct dstor_hello_reply *r)
{
	struct block_device *bdev = s->exp->bdev.bdev;
	u32 lbs = bdev_logical_block_size(bdev);

	r->version = DSTOR_PROTO_VERSION;
	r->flags = 0;
	if (s->read_only)
		r->flags |= DSTOR_EXP_READ_ONLY;
	if (bdev_write_cache(bdev))
		r->flags |= DSTOR_EXP_FLUSH;
	if (bdev_fua(bdev))
		r->flags |= DSTOR_EXP_FUA;
	if (!s->read_only) {
		if (bdev_max_discard_sectors(bdev))
			r->flags |= DSTOR_EXP_DISCARD;
		r->flags |= DSTOR_EXP_WRITE_ZEROES;
	}
	if (!bdev_nonrot(bdev))
		r->flags |= DSTOR_EXP_ROTATIONAL;
	r->size = s->exp->size - s->exp->size % lbs;
	r->logical_block_size = lbs;
	r->physical_block_size = max(bdev_physical_block_size(bdev), lbs);
	r->max_io = DSTOR_MAX_IO;
	r->max_range = DSTOR_MAX_RANGE;
}

static void session_seal_fail(struct dstor_seal *sl)
{
	struct dstor_session *s = sl->owner;

	/* The receive loop ends and tears the session down. */
	kernel_sock_shutdown(s->sock, SHUT_RDWR);
}

static int session_frame(struct dstor_seal *sl, struct dstor_rec *rec,
			 const struct dstor_hdr *h);

/*
 * The whole handshake, however slowly the peer sends it, must be done by
 * s->hs_deadline: each read gets the time that is left.
 */
static void hs_timeout(struct dstor_session *s)
{
	long left = (long)(s->hs_deadline - jiffies);

	dstor_sock_set_timeout(s->sock, max(left, 1L));
}

static void auth_failed(struct dstor_session *s, const char *why)
{
	dstor_stat_add(&s->exp->stats, DSTOR_STAT_AUTH_FAILURES, 1);
	net_warn_ratelimited("dstor: export %s: authentication failed from %pISc: %s\n",
			     s->exp->name, &s->peer, why);
}

/*
 * Prove the key to the importer, check its proof, and seal the connection.
 * A peer that fails gets nothing but the closed socket.
 */
static int session_auth(struct dstor_session *s, const u8 *hello_buf,
			const struct dstor_hello *hello)
{
	u8 buf[DSTOR_CHALLENGE_LEN], proof[DSTOR_PROOF_LEN];
	u8 c2s[DSTOR_KEY_LEN], s2c[DSTOR_KEY_LEN];
	struct dstor_challenge ch = {};
	struct dstor_hdr h = {
		.op = DSTOR_OP_AUTH_CHALLENGE,
		.payload = DSTOR_CHALLENGE_LEN,
	};
	int ret;

	ch.cipher = dstor_crypto_pick(hello->ciphers);
	if (!ch.cipher)		/* session_hello() answered DSTOR_ST_AUTH */
		return -EACCES;
	get_random_bytes(ch.nonce, sizeof(ch.nonce));
	dstor_challenge_encode(buf, &ch);
	dstor_hs_proof(s->key.key, true, hello_buf, buf, ch.proof);
	dstor_challenge_encode(buf, &ch);
	ret = dstor_send_frame(s->sock, &h, buf, false);
	if (ret)
		return ret;

	hs_timeout(s);
	ret = dstor_recv_hdr(s->sock, &h);
	if (!ret && h.op != DSTOR_OP_AUTH_RESPONSE)
		ret = -EPROTO;
	if (!ret) {
		hs_timeout(s);
		ret = dstor_sock_recv(s->sock, proof, sizeof(proof));
	}
	if (ret) {
		/* An importer with another key hangs up here. */
		auth_failed(s, "no valid response");
		return -EACCES;
	}
	dstor_challenge_encode(buf, &ch);
	dstor_hs_proof(s->key.key, false, hello_buf, buf, ch.proof);
	if (crypto_memneq(proof, ch.proof, DSTOR_PROOF_LEN)) {
		auth_failed(s, "wrong key");
		return -EACCES;
	}

	s->seal = kzalloc(sizeof(*s->seal), GFP_KERNEL);
	if (!s->seal)
		return -ENOMEM;
	dstor_hs_keys(s->key.key, hello->nonce, ch.nonce, c2s, s2c);
	ret = dstor_seal_init(s->seal, ch.cipher, s2c, c2s);
	memzero_explicit(c2s, sizeof(c2s));
	memzero_explicit(s2c, sizeof(s2c));
	if (ret) {
		kfree(s->seal);
		s->seal = NULL;
		return ret;
	}
	s->seal->sock = s->sock;
	s->seal->owner = s;
	s->seal->stats = &s->exp->stats;
	s->seal->fail = session_seal_fail;
	s->seal->frame = session_frame;
	return 0;
}

static int session_hello(struct dstor_session *s)
{
	u8 buf[DSTOR_HELLO_LEN], rbuf[DSTOR_HELLO_REPLY_LEN];
	struct dstor_hello_reply reply = {};
	struct dstor_hello hello;
	struct dstor_hdr h;
	u16 status;
	int ret;

	s->hs_deadline = jiffies + DSTOR_HELLO_TIMEOUT;
	hs_timeout(s);
	ret = dstor_recv_hdr(s->sock, &h);
	if (ret)
		return ret;
	if (h.op != DSTOR_OP_HELLO)
		return -EPROTO;
	hs_timeout(s);
	ret = dstor_sock_recv(s->sock, buf, sizeof(buf));
	if (ret)
		return ret;
	ret = dstor_hello_decode(buf, &hello);
	if (ret && ret != -DSTOR_EPROTO_VERSION)
		return -EPROTO;
	if (ret || hello.version_min > DSTOR_PROTO_VERSION ||
	    hello.version_max < DSTOR_PROTO_VERSION)
		status = DSTOR_ST_VERSION;
	else
		status = dstor_session_attach(s, hello.name,
					      hello.flags & DSTOR_HELLO_READ_ONLY,
					      hello.session, hello.queue);
	if (status == DSTOR_ST_OK &&
	    s->key.set != !!(hello.flags & DSTOR_HELLO_AUTH)) {
		auth_failed(s, s->key.set ? "the importer has no key" :
			    "the export has no key");
		status = DSTOR_ST_AUTH;
	}
	if (status == DSTOR_ST_OK && s->key.set &&
	    !dstor_crypto_pick(hello.ciphers)) {
		auth_failed(s, "no cipher in common");
		status = DSTOR_ST_AUTH;
	}
	if (status == DSTOR_ST_OK && s->key.set) {
		ret = session_auth(s, buf, &hello);
		if (ret)
			return ret;
	}

	if (status == DSTOR_ST_OK) {
		dstor_session_supersede(s);
		fill_hello_reply(s, &reply);
	}
	h = (struct dstor_hdr) {
		.op = DSTOR_OP_HELLO_REPLY,
		.status = status,
		.payload = status ? 0 : DSTOR_HELLO_REPLY_LEN,
	};
	dstor_hello_reply_encode(rbuf, &reply);
	if (s->seal)
		ret = dstor_seal_send_sync(s->seal, &h, rbuf);
	else
		ret = dstor_send_frame(s->sock, &h, rbuf, false);
	if (ret)
		return ret;
	if (status)
		return -ENOENT;
	dstor_sock_set_timeout(s->sock, MAX_SCHEDULE_TIMEOUT);
	mutex_lock(&s->listener->lock);
	s->listener->nr_pending--;
	s->pending = false;
	mutex_unlock(&s->listener->lock);
	return 0;
}

/* Check a request against the export; DSTOR_ST_OK if it may proceed. */
static u16 request_check(struct dstor_session *s, const struct dstor_hdr *h)
{
	u32 lbs = bdev_logical_block_size(s->exp->bdev.bdev);

	if (h->op == DSTOR_OP_FLUSH)
		return DSTOR_ST_OK;
	if (!dstor_range_ok(h->offset, h->length, s->exp->size) ||
	    h->offset % lbs || h->length % lbs)
		return DSTOR_ST_INVAL;
	if (h->op != DSTOR_OP_READ && READ_ONCE(s->read_only))
		return DSTOR_ST_ROFS;
	return DSTOR_ST_OK;
}

static void copy_payload(struct dstor_rec *rec, struct bio *bio)
{
	struct bio_vec *bv;
	struct bvec_iter_all iter;
	u32 off = 0;

	bio_for_each_segment_all(bv, bio, iter) {
		void *p = kmap_local_page(bv->bv_page);

		dstor_rec_read(rec, off, p + bv->bv_offset, bv->bv_len);
		kunmap_local(p);
		off += bv->bv_len;
	}
}

static void req_add_pages(struct dstor_srv_req *req, u32 len)
{
	while (len) {
		struct page *page = mempool_alloc(dstor_page_pool, GFP_NOIO);
		u32 n = min_t(u32, len, PAGE_SIZE);

		__bio_add_page(&req->bio, page, n, 0);
		len -= n;
	}
}

/*
 * Serve one request. Its payload comes from @rec (a sealed record, already
 * opened) or, without one, from the socket.
 */
static int session_request(struct dstor_session *s, const struct dstor_hdr *h,
			   struct dstor_rec *rec)
{
	u16 status = request_check(s, h);
	unsigned int nr_vecs = 0;
	struct dstor_srv_req *req;
	blk_opf_t opf;
	int ret;

	if (status != DSTOR_ST_OK) {
		ret = rec ? 0 : dstor_sock_discard(s->sock, h->payload);
		if (ret)
			return ret;
		req = req_alloc(s, h, 0, REQ_OP_READ);
		req->status = status;
		req_reply(req);
		return 0;
	}

	switch (h->op) {
	case DSTOR_OP_READ:
		opf = REQ_OP_READ;
		nr_vecs = DIV_ROUND_UP(h->length, PAGE_SIZE);
		break;
	case DSTOR_OP_WRITE:
		opf = REQ_OP_WRITE;
		if (h->flags & DSTOR_RQ_FUA)
			opf |= REQ_FUA;
		if (h->flags & DSTOR_RQ_PREFLUSH)
			opf |= REQ_PREFLUSH;
		nr_vecs = DIV_ROUND_UP(h->length, PAGE_SIZE);
		break;
	case DSTOR_OP_FLUSH:
		opf = REQ_OP_WRITE | REQ_PREFLUSH;
		break;
	default:		/* DISCARD, WRITE_ZEROES */
		req = req_alloc(s, h, 0, REQ_OP_READ);
		INIT_WORK(&req->work, req_range_work);
		queue_work(dstor_io_wq, &req->work);
		return 0;
	}

	req = req_alloc(s, h, nr_vecs, opf);
	req->bio.bi_iter.bi_sector = h->offset >> SECTOR_SHIFT;
	req->bio.bi_end_io = req_end_io;
	req_add_pages(req, nr_vecs ? h->length : 0);
	if (h->op == DSTOR_OP_WRITE && rec) {
		copy_payload(rec, &req->bio);
	} else if (h->op == DSTOR_OP_WRITE) {
		ret = dstor_sock_recv_bvec(s->sock, req->bio.bi_io_vec,
					   req->bio.bi_vcnt, h->length);
		if (ret) {
			/* Never submit a half-received write. */
			req->status = DSTOR_ST_IOERR;
			req_reply(req);
			return ret;
		}
	}
	if (h->op == DSTOR_OP_FLUSH && READ_ONCE(s->read_only)) {
		/* Nothing of ours can be dirty on a read-only session. */
		req_reply(req);
		return 0;
	}
	submit_bio(&req->bio);
	return 0;
}

/* An opened frame of a sealed session, in the crypto pool. */
static int session_frame(struct dstor_seal *sl, struct dstor_rec *rec,
			 const struct dstor_hdr *h)
{
	struct dstor_session *s = sl->owner;

	if (h->op == DSTOR_OP_PING) {
		req_reply(req_alloc(s, h, 0, REQ_OP_READ));
		return 0;
	}
	if (!dstor_is_request(h->op))
		return -EPROTO;
	return session_request(s, h, rec);
}

static void session_serve(struct dstor_session *s)
{
	struct dstor_hdr h;
	int ret;

	while (s->seal) {
		wait_event(s->wait,
			   atomic_read(&s->inflight) < DSTOR_SRV_MAX_INFLIGHT);
		ret = dstor_seal_recv(s->seal);
		if (ret)
			goto out;
	}
	for (;;) {
		ret = dstor_recv_hdr(s->sock, &h);
		if (ret)
			break;
		if (h.op != DSTOR_OP_PING && !dstor_is_request(h.op)) {
			ret = -EPROTO;
			break;
		}
		wait_event(s->wait,
			   atomic_read(&s->inflight) < DSTOR_SRV_MAX_INFLIGHT);
		if (h.op == DSTOR_OP_PING) {
			req_reply(req_alloc(s, &h, 0, REQ_OP_READ));
			continue;
		}
		ret = session_request(s, &h, NULL);
		if (ret)
			break;
	}
out:
	if (ret == -EPROTO)
		net_warn_ratelimited("dstor: export %s: protocol error from an importer; closing its connection\n",
				     s->exp->name);
}

static void session_rx_work(struct work_struct *work)
{
	struct dstor_session *s = container_of(work, struct dstor_session,
					       rx_work);
	struct dstor_listener *l = s->listener;
	struct socket *sock;
	int ret;

	ret = session_hello(s);
	if (ret == -EPROTO)
		net_warn_ratelimited("dstor: malformed hello; connection closed\n");
	if (!ret)
		session_serve(s);

	kernel_sock_shutdown(s->sock, SHUT_RDWR);
	/* Records in the pool finish; replies from now on are dropped. */
	if (s->seal)
		dstor_seal_stop(s->seal);
	/* Bios in flight still complete and try to reply; then none are left. */
	wait_event(s->wait, atomic_read(&s->inflight) == 0);
	flush_work(&s->tx_work);
	dstor_seal_free(s->seal);
	memzero_explicit(&s->key, sizeof(s->key));

	mutex_lock(&l->lock);
	sock = s->sock;
	s->sock = NULL;
	mutex_unlock(&l->lock);
	sock_release(sock);

	dstor_session_detach(s);
	kfree(s);
	atomic_dec(&dstor_live.sessions);
}
