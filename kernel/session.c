// SPDX-License-Identifier: GPL-2.0
/*
 * The exporter's side of one connection: the handshake (handshake.c does
 * the frames, listener.c the registry), then requests turned into bios on
 * the backing device, each answered only when its bio has completed, with
 * the bio's real status. A FLUSH is always a flush of the backing device,
 * whatever the session may write now: earlier writes of the same importer
 * may still sit in the device's cache.
 *
 * Everything runs in the connection's io_work or in bio completions; a
 * session never waits. At most DSTOR_SRV_MAX_INFLIGHT requests of a
 * session are outstanding (bounding what one importer can pin); past
 * that, the session stops reading until one completes. A session whose
 * importer has been silent for longer than the importer's own keepalive
 * and dead-after allow, or that stopped reading replies for as long, is
 * closed ("reaped").
 *
 * Lifetime: the listener's registry holds a session until it is closed
 * (close_work: its connection stopped, off the registry); every request
 * holds it until its reply is sent or dropped. The last reference frees
 * it (free_work), and a newer session of the same importer connection
 * waiting for it starts serving then.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "dstor.h"
#include "export.h"

#define DSTOR_SRV_MAX_INFLIGHT	256
#define DSTOR_HELLO_TIMEOUT	(10 * HZ)

struct dstor_srv_req {
	struct dstor_session *s;
	struct dstor_tx tx;
	struct dstor_rx rx;
	struct work_struct work;	/* DISCARD and WRITE_ZEROES */
	u8 flags;
	u64 handle;
	u64 offset;
	u32 length;
	u8 op;
	u16 status;
	u8 *buf;			/* a tree reply's payload, or NULL */
	u32 reply_len;			/* its length */
	u8 gen[DSTOR_TREE_GEN_LEN];	/* TREE_FP: the generation asked */
	struct bio bio;			/* last: allocated by the bioset */
};

static struct bio_set dstor_srv_bioset;

/* ---- lifetime ---- */

static void session_free_work(struct work_struct *work)
{
	struct dstor_session *s = container_of(work, struct dstor_session,
					       free_work);
	struct dstor_session *next = dstor_listener_release(s);

	dstor_conn_put(s->conn);
	if (s->exp)
		dstor_export_put(s->exp);
	dstor_listener_put(s->listener);
	memzero_explicit(&s->key, sizeof(s->key));
	kfree(s);
	atomic_dec(&dstor_live.sessions);
	if (next) {
		dstor_session_serve(next);
		dstor_session_put(next);
	}
}

static void session_release(struct kref *ref)
{
	struct dstor_session *s = container_of(ref, struct dstor_session, ref);

	/* Any context: the socket is released from a work item. */
	queue_work(dstor_srv_wq, &s->free_work);
}

void dstor_session_put(struct dstor_session *s)
{
	kref_put(&s->ref, session_release);
}

static void session_close_work(struct work_struct *work)
{
	struct dstor_session *s = container_of(work, struct dstor_session,
					       close_work);

	dstor_conn_stop(s->conn);
	dstor_listener_detach(s);
	dstor_session_put(s);		/* the registry's */
}

/* Close the session (any context; the listener's lock may be held). */
void dstor_session_kill(struct dstor_session *s)
{
	dstor_conn_fail(s->conn, -ESHUTDOWN);
}

static void session_failed(struct dstor_conn *c, int err)
{
	struct dstor_session *s = c->owner;
	struct dstor_export *exp = s->exp;

	s->err = err;
	/*
	 * Challenged, and the importer went away, went silent until the
	 * handshake's deadline, or sent garbage instead of a response: an
	 * importer with another key checks our proof first and leaves at
	 * this point, so this is where it is counted. Only for these errors:
	 * our own closes (-ESHUTDOWN, aborts) are not the importer's doing.
	 * Acquire: pairs with the release of RESPONSE, made after attach set
	 * s->exp.
	 */
	if (smp_load_acquire(&s->hs.state) == DSTOR_HS_S_RESPONSE &&
	    (err == -ECONNRESET || err == -EPIPE || err == -ETIME ||
	     err == -EPROTO))
		dstor_session_auth_failed(s, "no valid response");
	if (READ_ONCE(s->state) == DSTOR_SESSION_SERVING && exp &&
	    (err == -ETIMEDOUT || err == -EWOULDBLOCK)) {
		dstor_stat_add(&exp->stats, DSTOR_STAT_REAPED, 1);
		net_info_ratelimited("export %s: closed the session of %pISpc: %s\n",
				     exp->name, &s->peer, err == -ETIMEDOUT ?
				     "silent for longer than its keepalive allows" :
				     "it stopped reading replies");
	} else if (err == -EPROTO) {
		net_warn_ratelimited("export %s: protocol error from %pISpc; closing its connection\n",
				     exp ? exp->name : "-", &s->peer);
	}
	queue_work(dstor_srv_wq, &s->close_work);
}

/*
 * Nothing heard on this connection for as long as the importer's keepalive
 * allows. Its importer pings on queue 0 only (DSTOR_EXP_KA_LEAD): a later
 * queue's session lives while that one is heard (lead_work looks).
 */
static bool session_silent(struct dstor_conn *c)
{
	struct dstor_session *s = c->owner;

	/* Pairs with the release of SERVING: ka_lead was set before it. */
	if (!s->queue || smp_load_acquire(&s->state) != DSTOR_SESSION_SERVING ||
	    !s->ka_lead)
		return true;
	if (test_and_set_bit(DSTOR_SESSION_LEAD_BUSY, &s->bits))
		return false;
	kref_get(&s->ref);
	queue_work(dstor_srv_wq, &s->lead_work);
	return false;
}

static void session_lead_work(struct work_struct *work)
{
	struct dstor_session *s = container_of(work, struct dstor_session,
					       lead_work);
	struct dstor_conn *c = s->conn;
	unsigned long when, dead = READ_ONCE(c->dead_after);
	unsigned long last = READ_ONCE(c->last_rx);

	clear_bit(DSTOR_SESSION_LEAD_BUSY, &s->bits);
	if (dstor_listener_lead_heard(s, &when) &&
	    time_before(jiffies, when + dead)) {
		/* Only forward: io_work may have heard it since. */
		while (time_after(when, last) &&
		       !try_cmpxchg(&c->last_rx, &last, when))
			;
		dstor_conn_timer(c);
	} else {
		dstor_conn_fail(c, -ETIMEDOUT);
	}
	dstor_session_put(s);
}

/* Count and log a failed authentication, once per session. */
void dstor_session_auth_failed(struct dstor_session *s, const char *why)
{
	if (test_and_set_bit(DSTOR_SESSION_AUTH_FAILED, &s->bits))
		return;
	dstor_stat_add(&s->exp->stats, DSTOR_STAT_AUTH_FAILURES, 1);
	net_warn_ratelimited("export %s: authentication failed from %pISpc: %s\n",
			     s->exp->name, &s->peer, why);
}

/* ---- requests ---- */

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

static void req_free(struct dstor_srv_req *req)
{
	struct dstor_session *s = req->s;
	struct bvec_iter_all iter;
	struct bio_vec *bv;

	dstor_stat_add(&s->exp->stats, DSTOR_STAT_INFLIGHT, -1);
	bio_for_each_segment_all(bv, &req->bio, iter)
		__free_page(bv->bv_page);
	kfree(req->buf);
	bio_put(&req->bio);
	atomic_dec(&dstor_live.srv_reqs);
	if (atomic_dec_return(&s->inflight) < DSTOR_SRV_MAX_INFLIGHT &&
	    READ_ONCE(s->throttled)) {
		WRITE_ONCE(s->throttled, false);
		dstor_conn_kick(s->conn);
	}
	dstor_session_put(s);
}

/* The request is done: answer it (any context). */
static void req_reply(struct dstor_srv_req *req)
{
	struct dstor_session *s = req->s;
	struct dstor_tx *tx = &req->tx;

	/* Errors of I/O only: a peer's tree requests cannot inflate them. */
	dstor_stats_count(&s->exp->stats, req->op, req->length,
			  req->status != DSTOR_ST_OK &&
			  !dstor_is_tree_op(req->op));
	tx->hdr = (struct dstor_hdr) {
		.op = req->op == DSTOR_OP_PING ? DSTOR_OP_PONG : DSTOR_OP_REPLY,
		.status = req->status,
		.handle = req->handle,
		.offset = req->offset,
		.length = req->length,
	};
	if (req->op == DSTOR_OP_READ && req->status == DSTOR_ST_OK) {
		struct bvec_iter all = { .bi_size = req->length };

		tx->hdr.payload = req->length;
		dstor_data_bio(&tx->data, &req->bio, all, req->length);
	} else if (req->buf && req->status == DSTOR_ST_OK) {
		tx->hdr.payload = req->reply_len;
		dstor_data_buf(&tx->data, req->buf, req->reply_len);
	} else {
		dstor_data_buf(&tx->data, NULL, 0);
	}
	dstor_conn_queue(s->conn, tx);
}

/*
 * A write, discard or write-zeroes went to the device (failed or not: some
 * of it may have landed): a live tree re-hashes what it touched. Only
 * submitted requests, whose range request_check() bounded: a refused one
 * changed nothing.
 */
static void req_written(struct dstor_srv_req *req)
{
	if (req->op == DSTOR_OP_WRITE || req->op == DSTOR_OP_DISCARD ||
	    req->op == DSTOR_OP_WRITE_ZEROES)
		dstor_tree_written(req->s->exp, req->offset, req->length);
}

static void req_end_io(struct bio *bio)
{
	struct dstor_srv_req *req = container_of(bio, struct dstor_srv_req,
						 bio);

	req->status = blk_status_to_wire(bio->bi_status);
	req_written(req);
	req_reply(req);
}

static void req_range_end_io(struct bio *bio)
{
	struct dstor_srv_req *req = bio->bi_private;

	req->status = blk_status_to_wire(bio->bi_status);
	bio_put(bio);
	req_written(req);
	req_reply(req);
}

/*
 * DISCARD and WRITE_ZEROES, as bios of their own. Building them may wait
 * for memory (many bios for a large range), so it runs on dstor_srv_wq,
 * not in the connection's io_work; nothing waits for the bios.
 */
static void req_range_work(struct work_struct *work)
{
	struct dstor_srv_req *req = container_of(work, struct dstor_srv_req,
						 work);
	struct block_device *bdev = req->s->exp->bdev.bdev;
	u8 flags = req->flags;
	sector_t sector = req->offset >> SECTOR_SHIFT;
	sector_t nr = req->length >> SECTOR_SHIFT;
	struct bio *bio = NULL;
	int ret;

	if (req->op == DSTOR_OP_DISCARD)
		ret = __blkdev_issue_discard(bdev, sector, nr, GFP_NOIO, &bio);
	else
		ret = __blkdev_issue_zeroout(bdev, sector, nr, GFP_NOIO, &bio,
					     flags & DSTOR_RQ_NOUNMAP ?
					     BLKDEV_ZERO_NOUNMAP : 0);
	if (!bio) {
		req->status = blk_status_to_wire(errno_to_blk_status(ret));
		req_reply(req);
		return;
	}
	bio->bi_private = req;
	bio->bi_end_io = req_range_end_io;
	submit_bio(bio);
}

static struct dstor_srv_req *req_alloc(struct dstor_session *s,
				       const struct dstor_hdr *h,
				       unsigned int nr_vecs, blk_opf_t opf)
{
	struct dstor_srv_req *req;
	struct bio *bio;

	/*
	 * Never waits: the bioset's reserve is freed only as replies go out,
	 * so waiting here could wait on a peer that does not read. Without
	 * memory the connection asks again soon.
	 */
	bio = bio_alloc_bioset(s->exp->bdev.bdev, nr_vecs, opf,
			       GFP_NOWAIT | __GFP_NOWARN, &dstor_srv_bioset);
	if (!bio)
		return NULL;
	req = container_of(bio, struct dstor_srv_req, bio);
	req->s = s;
	req->handle = h->handle;
	req->flags = h->flags;
	req->tx.plain = false;
	req->offset = h->offset;
	req->length = h->length;
	req->op = h->op;
	req->status = DSTOR_ST_OK;
	req->buf = NULL;
	req->reply_len = 0;
	bio->bi_iter.bi_sector = h->offset >> SECTOR_SHIFT;
	bio->bi_end_io = req_end_io;
	kref_get(&s->ref);
	atomic_inc(&s->inflight);
	atomic_inc(&dstor_live.srv_reqs);
	dstor_stat_add(&s->exp->stats, DSTOR_STAT_INFLIGHT, 1);
	return req;
}

static int req_add_pages(struct dstor_srv_req *req, u32 len)
{
	while (len) {
		struct page *page = alloc_page(GFP_NOWAIT | __GFP_NOWARN);
		u32 n = min_t(u32, len, PAGE_SIZE);

		if (!page)
			return -ENOMEM;
		__bio_add_page(&req->bio, page, n, 0);
		len -= n;
	}
	return 0;
}

/* Check a request against the export; DSTOR_ST_OK if it may proceed. */
static u16 request_check(struct dstor_session *s, const struct dstor_hdr *h)
{
	u32 lbs = bdev_logical_block_size(s->exp->bdev.bdev);

	/* Tree requests name nodes, not bytes: tree.c checks them. */
	if (h->op == DSTOR_OP_FLUSH || h->op == DSTOR_OP_PING ||
	    dstor_is_tree_op(h->op))
		return DSTOR_ST_OK;
	if (!dstor_range_ok(h->offset, h->length, s->exp->size) ||
	    h->offset % lbs || h->length % lbs)
		return DSTOR_ST_INVAL;
	if (h->op != DSTOR_OP_READ && READ_ONCE(s->read_only))
		return DSTOR_ST_ROFS;
	return DSTOR_ST_OK;
}

/*
 * TREE_INFO is answered at once; TREE_FP once its generation has arrived
 * (session_rx_done()). Both from the published tree: no I/O, no waiting.
 */
static struct dstor_rx *session_tree(struct dstor_srv_req *req,
				     const struct dstor_hdr *h)
{
	u32 len = h->op == DSTOR_OP_TREE_INFO ? DSTOR_TREE_INFO_LEN :
		  dstor_tree_fp_reply_len(h->length);

	if (!req->s->exp->tree.block_size) {
		req->status = DSTOR_ST_NOTSUPP;
		if (h->op == DSTOR_OP_TREE_INFO) {
			req_reply(req);
			return NULL;
		}
		/* Answered once its generation has arrived, and dropped. */
		dstor_data_buf(&req->rx.data, NULL, h->payload);
		return &req->rx;
	}
	req->buf = kmalloc(len, GFP_NOWAIT | __GFP_NOWARN);
	if (!req->buf) {
		req_free(req);
		return ERR_PTR(-ENOMEM);	/* asked again soon */
	}
	req->reply_len = len;
	if (h->op == DSTOR_OP_TREE_FP) {
		dstor_data_buf(&req->rx.data, req->gen, DSTOR_TREE_GEN_LEN);
		return &req->rx;
	}
	req->status = dstor_tree_info(req->s->exp, req->buf,
				      req->s->version >=
				      DSTOR_PROTO_VERSION_PENDING);
	req_reply(req);
	return NULL;
}

/* A request's header arrived: start it, or say where its data goes. */
static struct dstor_rx *session_request(struct dstor_session *s,
					const struct dstor_hdr *h)
{
	u16 status = request_check(s, h);
	unsigned int nr_vecs = 0;
	struct dstor_srv_req *req;
	blk_opf_t opf = REQ_OP_READ;

	if (dstor_is_tree_op(h->op) ? s->version < DSTOR_PROTO_VERSION_TREE :
	    !dstor_is_request(h->op) && h->op != DSTOR_OP_PING)
		return ERR_PTR(-EPROTO);
	if (atomic_read(&s->inflight) >= DSTOR_SRV_MAX_INFLIGHT) {
		WRITE_ONCE(s->throttled, true);
		smp_mb();	/* throttled before inflight; see req_free() */
		if (atomic_read(&s->inflight) >= DSTOR_SRV_MAX_INFLIGHT)
			return ERR_PTR(-EAGAIN);
		WRITE_ONCE(s->throttled, false);
	}
	if (status == DSTOR_ST_OK) {
		switch (h->op) {
		case DSTOR_OP_READ:
			nr_vecs = DIV_ROUND_UP(h->length, PAGE_SIZE);
			break;
		case DSTOR_OP_WRITE:
			/* An importer waits for it: not background writeback. */
			opf = REQ_OP_WRITE | REQ_SYNC | REQ_IDLE;
			if (h->flags & DSTOR_RQ_FUA)
				opf |= REQ_FUA;
			if (h->flags & DSTOR_RQ_PREFLUSH)
				opf |= REQ_PREFLUSH;
			nr_vecs = DIV_ROUND_UP(h->length, PAGE_SIZE);
			break;
		case DSTOR_OP_FLUSH:
			opf = REQ_OP_WRITE | REQ_PREFLUSH | REQ_SYNC;
			break;
		}
	}
	req = req_alloc(s, h, nr_vecs, opf);
	if (!req)
		return ERR_PTR(-ENOMEM);	/* asked again soon */
	if (h->op == DSTOR_OP_PING) {
		/* Answered at once, with the ping's handle. */
		req_reply(req);
		return NULL;
	}
	if (dstor_is_tree_op(h->op))
		return session_tree(req, h);
	if (status != DSTOR_ST_OK) {
		req->status = status;
		if (!h->payload) {
			req_reply(req);
			return NULL;
		}
		/*
		 * A refused write is answered once its data has arrived (and
		 * been dropped): the importer is sending it until then.
		 */
		dstor_data_buf(&req->rx.data, NULL, h->payload);
		return &req->rx;
	}
	if (nr_vecs && req_add_pages(req, h->length)) {
		req_free(req);
		return ERR_PTR(-ENOMEM);	/* asked again soon */
	}
	switch (h->op) {
	case DSTOR_OP_WRITE:
		dstor_data_bio(&req->rx.data, &req->bio, req->bio.bi_iter,
			       h->length);
		return &req->rx;
	case DSTOR_OP_DISCARD:
	case DSTOR_OP_WRITE_ZEROES:
		INIT_WORK(&req->work, req_range_work);
		queue_work(dstor_srv_wq, &req->work);
		return NULL;
	default:		/* READ, FLUSH */
		submit_bio(&req->bio);
		return NULL;
	}
}

/* ---- the handshake ---- */

static void fill_hello_reply(struct dstor_session *s,
			     struct dstor_hello_reply *r)
{
	struct block_device *bdev = s->exp->bdev.bdev;
	u32 lbs = bdev_logical_block_size(bdev);

	memset(r, 0, sizeof(*r));
	r->version = s->version;
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
	if (s->ka_lead)
		r->flags |= DSTOR_EXP_KA_LEAD;
	if (s->version >= DSTOR_PROTO_VERSION_TREE && s->exp->tree.block_size)
		r->flags |= DSTOR_EXP_TREE;
	r->size = s->exp->size - s->exp->size % lbs;
	r->logical_block_size = lbs;
	r->physical_block_size = max(bdev_physical_block_size(bdev), lbs);
	r->max_io = DSTOR_MAX_IO;
	r->max_range = DSTOR_MAX_RANGE;
	memcpy(r->uuid, s->exp->uuid, DSTOR_UUID_LEN);
	r->incarnation = s->exp->incarnation;
}

/*
 * Every older session of this importer connection is gone: answer the
 * HELLO and serve. From now on the importer must be heard from within
 * what its own keepalive and dead-after announce.
 */
void dstor_session_serve(struct dstor_session *s)
{
	const struct dstor_hello *hello = &s->hs.hello;
	struct dstor_conn *c = s->conn;
	struct dstor_hello_reply r;
	unsigned int ka = hello->keepalive, dead = hello->dead_after;

	if (!ka) {
		ka = DSTOR_DEFAULT_KEEPALIVE;
		dead = DSTOR_DEFAULT_DEAD_AFTER;
	}
	fill_hello_reply(s, &r);
	/* Pairs with session_silent(): ka_lead is read after SERVING. */
	smp_store_release(&s->state, DSTOR_SESSION_SERVING);
	WRITE_ONCE(c->deadline, 0);
	WRITE_ONCE(c->dead_after, (unsigned long)(ka + dead) * HZ);
	dstor_conn_timer(c);
	dstor_hs_server_reply(&s->hs, c, DSTOR_ST_OK, &r);
}

/* Refuse the HELLO with @status; the connection ends once it is sent. */
static void session_refuse(struct dstor_session *s, u16 status)
{
	WRITE_ONCE(s->state, DSTOR_SESSION_CLOSING);
	dstor_hs_server_reply(&s->hs, s->conn, status, NULL);
}

/* A handshake frame's payload arrived. */
static void session_handshake(struct dstor_session *s)
{
	struct dstor_hs_server *hs = &s->hs;
	struct dstor_conn *c = s->conn;
	bool wait;
	u16 status;
	int ret;

	if (hs->state == DSTOR_HS_S_HELLO) {
		ret = dstor_hs_server_hello(hs);
		if (ret < 0) {
			net_warn_ratelimited("malformed hello from %pISpc; connection closed\n",
					     &s->peer);
			dstor_conn_fail(c, -ECONNABORTED);
			return;
		}
		status = ret ? DSTOR_ST_VERSION :
			 dstor_listener_attach(s, hs->hello.name);
		if (status) {
			session_refuse(s, status);
			return;
		}
		if (s->key.set) {
			dstor_hs_server_challenge(hs, c, s->key.key);
			return;
		}
	} else {
		ret = dstor_hs_server_response(hs, c, s->key.key);
		if (ret) {
			/* An importer with another key gets nothing more. */
			if (ret == -EACCES)
				dstor_session_auth_failed(s, "wrong key");
			dstor_conn_fail(c, -ECONNABORTED);
			return;
		}
		/* Sealed: its AEAD goes to another CPU than its packets. */
		dstor_conn_move_off(c);
	}
	/* Before admit: whoever makes it SERVING publishes it (release). */
	s->version = min_t(u16, hs->hello.version_max, DSTOR_PROTO_VERSION);
	s->ka_lead = s->version >= 3;
	status = dstor_listener_admit(s, &wait);
	if (status) {
		session_refuse(s, status);
		return;
	}
	WRITE_ONCE(c->stats, &s->exp->stats);
	if (!wait)
		dstor_session_serve(s);
}

/* ---- the connection's callbacks ---- */

static struct dstor_rx *session_rx_hdr(struct dstor_conn *c,
				       const struct dstor_hdr *h)
{
	struct dstor_session *s = c->owner;

	switch (READ_ONCE(s->state)) {
	case DSTOR_SESSION_HANDSHAKE:
		return dstor_hs_server_rx_hdr(&s->hs, h);
	case DSTOR_SESSION_SERVING:
		return session_request(s, h);
	default:
		return ERR_PTR(-EPROTO);
	}
}

static void session_rx_done(struct dstor_conn *c, struct dstor_rx *rx)
{
	struct dstor_session *s = c->owner;
	struct dstor_srv_req *req;

	if (rx == &s->hs.rx) {
		if (!rx->err)
			session_handshake(s);
		return;
	}
	req = container_of(rx, struct dstor_srv_req, rx);
	if (rx->err) {
		/* Never submit a write that did not arrive whole. */
		req_free(req);
		return;
	}
	if (req->status != DSTOR_ST_OK) {
		req_reply(req);		/* refused, and all of it read */
		return;
	}
	if (req->op == DSTOR_OP_TREE_FP) {
		req->status = dstor_tree_fp(s->exp, req->offset, req->length,
					    req->gen, req->buf);
		req_reply(req);
		return;
	}
	submit_bio(&req->bio);
}

static void session_tx_done(struct dstor_conn *c, struct dstor_tx *tx,
			    int err)
{
	struct dstor_session *s = c->owner;

	if (tx == &s->hs.tx)
		return;
	if (tx == &s->hs.tx_reply) {
		if (READ_ONCE(s->state) == DSTOR_SESSION_CLOSING)
			dstor_conn_fail(c, -ECONNREFUSED);
		return;
	}
	req_free(container_of(tx, struct dstor_srv_req, tx));
}

static const struct dstor_conn_ops session_conn_ops = {
	.rx_hdr = session_rx_hdr,
	.rx_done = session_rx_done,
	.tx_done = session_tx_done,
	.failed = session_failed,
	.silent = session_silent,
};

/* An accepted connection of listener @l: start its handshake. */
void dstor_session_new(struct dstor_listener *l, struct socket *sock)
{
	struct dstor_session *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s) {
		sock_release(sock);
		return;
	}
	kref_init(&s->ref);
	s->listener = l;
	s->state = DSTOR_SESSION_HANDSHAKE;
	atomic_set(&s->inflight, 0);
	INIT_WORK(&s->close_work, session_close_work);
	INIT_WORK(&s->free_work, session_free_work);
	INIT_WORK(&s->lead_work, session_lead_work);
	if (kernel_getpeername(sock, (struct sockaddr *)&s->peer) < 0)
		s->peer.ss_family = AF_UNSPEC;
	s->conn = dstor_conn_accepted(sock, &session_conn_ops, s, NULL);
	if (!s->conn) {
		sock_release(sock);
		kfree(s);
		return;
	}
	if (!dstor_listener_add_session(l, s)) {
		net_warn_ratelimited("too many connections in their handshake; dropping one\n");
		dstor_conn_put(s->conn);
		kfree(s);
		return;
	}
	atomic_inc(&dstor_live.sessions);
	s->conn->deadline = jiffies + DSTOR_HELLO_TIMEOUT;
	dstor_conn_start(s->conn);
}

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
