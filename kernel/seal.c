// SPDX-License-Identifier: GPL-2.0
/*
 * Sealed records and the crypto pool; see seal.h for the model and
 * Documentation/protocol.md for the record format.
 */
#include <crypto/aead.h>
#include <linux/gfp.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "compat.h"
#include "crypto.h"
#include "pages.h"
#include "seal.h"

struct workqueue_struct *dstor_crypto_wq;
static atomic_t dstor_crypto_queued = ATOMIC_INIT(0);
static atomic64_t dstor_crypto_pooled = ATOMIC64_INIT(0);
static unsigned int dstor_crypto_workers;

/*
 * At least DSTOR_HDR_LEN: header records are always sealed inline, so that
 * dstor_seal_tx_hdr() has its result at once.
 */
static int inline_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, DSTOR_HDR_LEN, DSTOR_SEAL_CHUNK);
}

static const struct kernel_param_ops inline_ops = {
	.set = inline_set,
	.get = param_get_uint,
};

static unsigned int seal_inline_max __read_mostly = DSTOR_SEAL_CHUNK;
module_param_cb(seal_inline_max, &inline_ops, &seal_inline_max, 0644);
MODULE_PARM_DESC(seal_inline_max,
		 "Records of up to this many bytes are sealed and opened by their connection, larger ones on the crypto pool (32..16384, default 16384: all)");

/* Run the AEAD of @rec from @src to @dst over @len plaintext bytes. */
static int rec_crypt(struct dstor_rec *rec, struct scatterlist *src,
		     struct scatterlist *dst, u32 len)
{
	struct aead_request *req = rec->req;
	DECLARE_CRYPTO_WAIT(wait);
	u8 iv[12];

	dstor_nonce(iv, rec->seq);
	aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG |
				  CRYPTO_TFM_REQ_MAY_SLEEP,
				  crypto_req_done, &wait);
	aead_request_set_ad(req, DSTOR_REC_LEN_BYTES);
	aead_request_set_crypt(req, src, dst,
			       rec->rx ? len + DSTOR_TAG_LEN : len, iv);
	return crypto_wait_req(rec->rx ? crypto_aead_decrypt(req) :
			       crypto_aead_encrypt(req), &wait);
}

/*
 * The record's own buffer as a scatterlist: the length bytes (the AD),
 * @len bytes of its pages, the tag.
 */
static void rec_buf_sg(struct dstor_rec *rec, u32 len)
{
	struct scatterlist *sg = rec->buf_sg;
	unsigned int i, nr = DIV_ROUND_UP(len, PAGE_SIZE);

	sg_init_table(sg, nr + 2);
	sg_set_buf(&sg[0], rec->len, DSTOR_REC_LEN_BYTES);
	for (i = 0; i < nr; i++)
		sg_set_page(&sg[i + 1], rec->pages[i],
			    min_t(u32, len - i * PAGE_SIZE, PAGE_SIZE), 0);
	sg_set_buf(&sg[nr + 1], rec->tag, DSTOR_TAG_LEN);
}

/* Plaintext of @len bytes from @pos (advanced), after the AD. */
static int rec_data_sg(struct dstor_rec *rec, struct dstor_data *pos,
		       u32 len)
{
	struct scatterlist *sg = rec->data_sg;
	int nr;

	sg_init_table(sg, DSTOR_SEAL_SG);
	sg_set_buf(&sg[0], rec->len, DSTOR_REC_LEN_BYTES);
	nr = dstor_data_sg(pos, len, sg, 1, DSTOR_SEAL_SG);
	if (nr < 0)
		return nr;
	sg_mark_end(&sg[nr - 1]);
	return 0;
}

static int rec_run(struct dstor_rec *rec)
{
	u32 len = rec->n - DSTOR_TAG_LEN;

	if (rec->rx)
		return rec_crypt(rec, rec->buf_sg,
				 rec->in_place ? rec->buf_sg : rec->data_sg,
				 len);
	return rec_crypt(rec, rec->data_sg, rec->buf_sg, len);
}

static void rec_work(struct work_struct *work)
{
	struct dstor_rec *rec = container_of(work, struct dstor_rec, work);
	unsigned int noreclaim = memalloc_noreclaim_save();

	rec->err = rec_run(rec);
	memalloc_noreclaim_restore(noreclaim);
	/* The state before done(): the owner may look at once. */
	smp_store_release(&rec->state, DSTOR_REC_READY);
	rec->sl->done(rec);
	atomic64_inc(&dstor_crypto_pooled);
	atomic_dec(&dstor_crypto_queued);
}

/*
 * Seal or open @rec now (1: done, its result in rec->err) or on the pool
 * (0: sl->done follows).
 */
static int rec_submit(struct dstor_rec *rec)
{
	if (rec->n - DSTOR_TAG_LEN <= READ_ONCE(seal_inline_max)) {
		/* No reclaim into I/O from a connection's own io_work. */
		unsigned int noio = memalloc_noio_save();

		rec->err = rec_run(rec);
		memalloc_noio_restore(noio);
		rec->state = DSTOR_REC_READY;
		return 1;
	}
	rec->state = DSTOR_REC_CRYPT;
	atomic_inc(&dstor_crypto_queued);
	queue_work(dstor_crypto_wq, &rec->work);
	return 0;
}

/* ---- transmit ---- */

struct dstor_rec *dstor_seal_tx_slot(struct dstor_seal *sl)
{
	struct dstor_rec *rec;

	if (sl->tx_head - sl->tx_tail >= DSTOR_SEAL_SLOTS)
		return NULL;
	rec = sl->tx[sl->tx_head++ % DSTOR_SEAL_SLOTS];
	rec->state = DSTOR_REC_BUSY;
	rec->seq = sl->tx_seq++;
	rec->sent = 0;
	rec->frame = NULL;
	rec->err = 0;
	return rec;
}

/* The record's bytes on the wire: length, ciphertext, tag. */
static void rec_tx_bvecs(struct dstor_rec *rec)
{
	u32 len = rec->n - DSTOR_TAG_LEN;
	unsigned int i, nr = DIV_ROUND_UP(len, PAGE_SIZE);

	dstor_bvec_virt(&rec->bv[0], rec->len, DSTOR_REC_LEN_BYTES);
	for (i = 0; i < nr; i++)
		bvec_set_page(&rec->bv[i + 1], rec->pages[i],
			      min_t(u32, len - i * PAGE_SIZE, PAGE_SIZE), 0);
	dstor_bvec_virt(&rec->bv[nr + 1], rec->tag, DSTOR_TAG_LEN);
}

static void rec_tx_start(struct dstor_rec *rec, u32 len)
{
	rec->n = len + DSTOR_TAG_LEN;
	dstor_put32(rec->len, rec->n);
	rec_buf_sg(rec, len);
	rec_tx_bvecs(rec);
}

/* A header record, sealed here and now. */
void dstor_seal_tx_hdr(struct dstor_rec *rec, const struct dstor_hdr *h)
{
	struct dstor_data d;

	dstor_hdr_encode(rec->hdr, h);
	dstor_data_buf(&d, rec->hdr, DSTOR_HDR_LEN);
	rec_tx_start(rec, DSTOR_HDR_LEN);
	rec_data_sg(rec, &d, DSTOR_HDR_LEN);
	rec_submit(rec);
}

/*
 * A payload record of the next @len bytes of @pos (advanced): 1 when
 * done already (its result in rec->err: the sender fails the connection
 * on it), 0 when on the pool (sl->done follows).
 */
int dstor_seal_tx_data(struct dstor_rec *rec, struct dstor_data *pos,
		       u32 len)
{
	int ret;

	rec_tx_start(rec, len);
	ret = rec_data_sg(rec, pos, len);
	if (ret) {
		rec->err = ret;
		rec->state = DSTOR_REC_READY;
		return 1;
	}
	return rec_submit(rec);
}

/* The oldest record, if it is ready to go on the wire. */
struct dstor_rec *dstor_seal_tx_ready(struct dstor_seal *sl)
{
	struct dstor_rec *rec;

	if (sl->tx_tail == sl->tx_head)
		return NULL;
	rec = sl->tx[sl->tx_tail % DSTOR_SEAL_SLOTS];
	/* Pairs with rec_work(): a sealed record's bytes are all there. */
	if (smp_load_acquire(&rec->state) != DSTOR_REC_READY)
		return NULL;
	return rec;
}

/*
 * The ready records from the oldest on (up to the first that is not, or
 * failed), as one iterator over what of them is still to be sent: one
 * sendmsg for a header record and its payload. Returns how many.
 */
unsigned int dstor_seal_tx_iter(struct dstor_seal *sl, struct iov_iter *it)
{
	unsigned int i, n = 0, nbv = 0;
	size_t total = 0;

	for (i = sl->tx_tail; i != sl->tx_head; i++, n++) {
		struct dstor_rec *rec = sl->tx[i % DSTOR_SEAL_SLOTS];
		unsigned int nr;

		/* Pairs with rec_work(): a sealed record's bytes are all there. */
		if (smp_load_acquire(&rec->state) != DSTOR_REC_READY ||
		    rec->err)
			break;
		nr = DIV_ROUND_UP(rec->n - DSTOR_TAG_LEN, PAGE_SIZE) + 2;
		memcpy(&sl->tx_bv[nbv], rec->bv, nr * sizeof(*rec->bv));
		nbv += nr;
		total += DSTOR_REC_LEN_BYTES + rec->n;
	}
	iov_iter_bvec(it, ITER_SOURCE, sl->tx_bv, nbv, total);
	iov_iter_advance(it, sl->tx[sl->tx_tail % DSTOR_SEAL_SLOTS]->sent);
	return n;
}

/*
 * @len more bytes of the oldest record went out: the record is on the wire
 * when it returns it, and its slot is free then.
 */
struct dstor_rec *dstor_seal_tx_sent(struct dstor_seal *sl, u32 *len)
{
	struct dstor_rec *rec = sl->tx[sl->tx_tail % DSTOR_SEAL_SLOTS];
	u32 n = min(*len, DSTOR_REC_LEN_BYTES + rec->n - rec->sent);

	rec->sent += n;
	*len -= n;
	if (rec->sent < DSTOR_REC_LEN_BYTES + rec->n)
		return NULL;
	sl->tx_tail++;
	rec->state = DSTOR_REC_FREE;
	return rec;
}

/* Drop the oldest record (the connection is going). */
void dstor_seal_tx_free(struct dstor_seal *sl)
{
	sl->tx[sl->tx_tail++ % DSTOR_SEAL_SLOTS]->state = DSTOR_REC_FREE;
}

/* ---- receive ---- */

/*
 * Open a header record in place: @rec holds its 4 length bytes and 48
 * sealed bytes. Returns 0 with @h decoded, -EBADMSG or -EPROTO.
 */
int dstor_seal_rx_hdr(struct dstor_seal *sl, u8 *rec, struct dstor_hdr *h)
{
	struct aead_request *req = sl->hdr_req;
	DECLARE_CRYPTO_WAIT(wait);
	struct scatterlist sg;
	u8 iv[12];
	int ret;

	dstor_nonce(iv, sl->rx_seq++);
	sg_init_one(&sg, rec, DSTOR_REC_LEN_BYTES + DSTOR_REC_HDR);
	aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG |
				  CRYPTO_TFM_REQ_MAY_SLEEP,
				  crypto_req_done, &wait);
	aead_request_set_ad(req, DSTOR_REC_LEN_BYTES);
	aead_request_set_crypt(req, &sg, &sg, DSTOR_REC_HDR, iv);
	ret = crypto_wait_req(crypto_aead_decrypt(req), &wait);
	if (ret)
		return ret == -EBADMSG ? ret : -EPROTO;
	return dstor_hdr_decode(rec + DSTOR_REC_LEN_BYTES, h) ? -EPROTO : 0;
}

/* A free slot for a payload record of @n sealed bytes, or NULL. */
struct dstor_rec *dstor_seal_rx_slot(struct dstor_seal *sl, u32 n)
{
	unsigned int i, nr = DIV_ROUND_UP(n - DSTOR_TAG_LEN, PAGE_SIZE);
	struct dstor_rec *rec;

	for (i = 0; i < DSTOR_SEAL_SLOTS; i++) {
		rec = sl->rx[i];
		/* Pairs with dstor_seal_rx_free(): the pool is done with it. */
		if (smp_load_acquire(&rec->state) == DSTOR_REC_FREE)
			break;
	}
	if (i == DSTOR_SEAL_SLOTS)
		return NULL;
	rec->state = DSTOR_REC_BUSY;
	rec->n = n;
	rec->err = 0;
	rec->frame = NULL;
	rec_buf_sg(rec, n - DSTOR_TAG_LEN);
	dstor_bvec_virt(&rec->bv[0], rec->len, DSTOR_REC_LEN_BYTES);
	for (i = 0; i < nr; i++)
		bvec_set_page(&rec->bv[i + 1], rec->pages[i],
			      min_t(u32, n - DSTOR_TAG_LEN - i * PAGE_SIZE,
				    PAGE_SIZE), 0);
	dstor_bvec_virt(&rec->bv[nr + 1], rec->tag, DSTOR_TAG_LEN);
	return rec;
}

/*
 * Where the record's length bytes (the caller checks them) and its sealed
 * bytes go, from byte @off of the two on.
 */
void dstor_seal_rx_iter(struct dstor_rec *rec, u32 off, struct iov_iter *it)
{
	iov_iter_bvec(it, ITER_DEST, rec->bv,
		      DIV_ROUND_UP(rec->n - DSTOR_TAG_LEN, PAGE_SIZE) + 2,
		      DSTOR_REC_LEN_BYTES + rec->n);
	iov_iter_advance(it, off);
}

/*
 * All of @rec has arrived: open it into the next bytes of @pos (advanced;
 * dropped data opens in place) for @frame. 1 when done already, opened or
 * refused (rec->err), 0 when on the pool (sl->done follows).
 */
int dstor_seal_rx_open(struct dstor_rec *rec, struct dstor_data *pos,
		       void *frame)
{
	u32 len = rec->n - DSTOR_TAG_LEN;
	int ret;

	rec->seq = rec->sl->rx_seq++;
	rec->frame = frame;
	rec->in_place = dstor_data_dropped(pos);
	if (!rec->in_place) {
		ret = rec_data_sg(rec, pos, len);
		if (ret) {
			rec->err = ret;
			rec->state = DSTOR_REC_READY;
			return 1;
		}
	} else {
		dstor_data_advance(pos, len);
	}
	return rec_submit(rec);
}

void dstor_seal_rx_free(struct dstor_rec *rec)
{
	/* The slot may be refilled at once: see dstor_seal_rx_slot(). */
	smp_store_release(&rec->state, DSTOR_REC_FREE);
}

/* ---- a connection's seal ---- */

static struct dstor_rec *rec_new(struct dstor_seal *sl,
				 struct crypto_aead *tfm, bool rx)
{
	struct dstor_rec *rec = kzalloc(sizeof(*rec), GFP_NOIO);

	if (!rec)
		return NULL;
	rec->sl = sl;
	rec->rx = rx;
	INIT_WORK(&rec->work, rec_work);
	rec->req = aead_request_alloc(tfm, GFP_NOIO);
	if (!rec->req)
		goto free_rec;
	if (dstor_pages_alloc(rec->pages, DSTOR_REC_PAGES, GFP_NOIO))
		goto free_req;
	return rec;
free_req:
	aead_request_free(rec->req);
free_rec:
	kfree(rec);
	return NULL;
}

static void rec_free(struct dstor_rec *rec)
{
	if (!rec)
		return;
	dstor_pages_free(rec->pages, DSTOR_REC_PAGES);
	aead_request_free(rec->req);
	kfree(rec);
}

/*
 * A seal for a connection: keys @ktx and @krx for cipher @cipher, every
 * record buffer allocated now. @done is called from a pool worker when a
 * record it took comes back.
 */
struct dstor_seal *dstor_seal_new(u8 cipher, const u8 *ktx, const u8 *krx,
				  void (*done)(struct dstor_rec *rec),
				  void *owner)
{
	struct dstor_seal *sl = kzalloc(sizeof(*sl), GFP_NOIO);
	unsigned int i;

	if (!sl)
		return ERR_PTR(-ENOMEM);
	sl->cipher = cipher;
	sl->done = done;
	sl->owner = owner;
	sl->tx_tfm = dstor_aead_new(cipher, ktx);
	if (IS_ERR(sl->tx_tfm)) {
		void *err = sl->tx_tfm;

		kfree(sl);
		return err;
	}
	sl->rx_tfm = dstor_aead_new(cipher, krx);
	if (IS_ERR(sl->rx_tfm)) {
		void *err = sl->rx_tfm;

		sl->rx_tfm = NULL;
		dstor_seal_free(sl);
		return err;
	}
	sl->hdr_req = aead_request_alloc(sl->rx_tfm, GFP_NOIO);
	if (!sl->hdr_req)
		goto nomem;
	for (i = 0; i < DSTOR_SEAL_SLOTS; i++) {
		sl->tx[i] = rec_new(sl, sl->tx_tfm, false);
		sl->rx[i] = rec_new(sl, sl->rx_tfm, true);
		if (!sl->tx[i] || !sl->rx[i])
			goto nomem;
	}
	return sl;
nomem:
	dstor_seal_free(sl);
	return ERR_PTR(-ENOMEM);
}

/* Wait until no record of @sl is on the pool. */
void dstor_seal_flush(struct dstor_seal *sl)
{
	unsigned int i;

	for (i = 0; i < DSTOR_SEAL_SLOTS; i++) {
		flush_work(&sl->tx[i]->work);
		flush_work(&sl->rx[i]->work);
	}
}

void dstor_seal_free(struct dstor_seal *sl)
{
	unsigned int i;

	if (!sl)
		return;
	for (i = 0; i < DSTOR_SEAL_SLOTS; i++) {
		rec_free(sl->tx[i]);
		rec_free(sl->rx[i]);
	}
	aead_request_free(sl->hdr_req);
	if (sl->rx_tfm)
		crypto_free_aead(sl->rx_tfm);
	crypto_free_aead(sl->tx_tfm);
	kfree_sensitive(sl);
}

/* ---- the pool ---- */

int dstor_crypto_set_workers(unsigned int n)
{
	if (!n || n > DSTOR_MAX_CRYPTO_WORKERS)
		return -ERANGE;
	workqueue_set_max_active(dstor_crypto_wq, n);
	WRITE_ONCE(dstor_crypto_workers, n);
	return 0;
}

unsigned int dstor_crypto_workers_get(void)
{
	return READ_ONCE(dstor_crypto_workers);
}

unsigned int dstor_crypto_queued_get(void)
{
	return atomic_read(&dstor_crypto_queued);
}

u64 dstor_crypto_pooled_get(void)
{
	return atomic64_read(&dstor_crypto_pooled);
}

int dstor_seal_init(void)
{
	dstor_crypto_workers = min_t(unsigned int, num_online_cpus(),
				     DSTOR_MAX_CRYPTO_WORKERS);
	dstor_crypto_wq = alloc_workqueue("dstor_crypto",
					  WQ_UNBOUND | WQ_MEM_RECLAIM,
					  dstor_crypto_workers);
	return dstor_crypto_wq ? 0 : -ENOMEM;
}

void dstor_seal_exit(void)
{
	destroy_workqueue(dstor_crypto_wq);
}
