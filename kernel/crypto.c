// SPDX-License-Identifier: GPL-2.0
/*
 * Authentication, key derivation and sealed records.
 *
 * Handshake (Documentation/protocol.md has the wire layout): the importer's
 * HELLO carries a fresh nonce Nc; the exporter answers AUTH_CHALLENGE with
 * its nonce Ns and a proof, the importer answers AUTH_RESPONSE with its
 * proof. Proofs are HMAC-SHA256 under the pre-shared key over a label, the
 * whole HELLO payload and the challenge's cipher and nonce, so each side
 * proves it holds the key for this exchange. Then
 *	PRK = HMAC(Nc || Ns, key)			(HKDF-Extract)
 *	k_c2s = HMAC(PRK, "dstor v1 c2s" || 1)		(HKDF-Expand)
 *	k_s2c = HMAC(PRK, "dstor v1 s2c" || 1)
 * and every later frame, header included, travels as an AEAD record whose
 * nonce is its position in the stream, so a replayed, dropped, reordered or
 * modified record fails to open and resets the connection.
 *
 * The crypto worker pool: sealing and opening of records with data run as
 * work items on dstor_crypto_wq, an unbound workqueue whose max_active the
 * tool sets (DSTOR_CMD_SET), so records of one connection are sealed and
 * opened in parallel (small records are done inline, see
 * DSTOR_SEAL_INLINE). A connection's records keep their order on the wire because
 * each gets its sequence number when it is queued and send_work transmits
 * them strictly in that order; on receive the order does not matter once
 * each record carries its own sequence number.
 */
#include <crypto/aead.h>
#include <crypto/algapi.h>
#include <crypto/sha2.h>
#include <linux/highmem.h>
#include <linux/mempool.h>
#include <linux/net.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <net/sock.h>

#include "dstor.h"

#define DSTOR_REC_PAGES \
	DIV_ROUND_UP(DSTOR_REC_LEN_BYTES + DSTOR_REC_MAX, PAGE_SIZE)
/* Records of one connection waiting for or in the pool, per direction. */
#define DSTOR_SEAL_MAX_RX	64
/*
 * Records carrying at most this much payload are sealed and opened by the
 * connection's own transmit work or receive loop: handing a frame without
 * data or with one page of it to the pool costs two context switches, more
 * than the AEAD itself. Larger records go to the pool, where the records
 * of one connection are worked on in parallel.
 */
#define DSTOR_SEAL_INLINE	4096
#define rec_inline(size) \
	((size) <= DSTOR_REC_LEN_BYTES + DSTOR_HDR_LEN + DSTOR_SEAL_INLINE + \
		   DSTOR_TAG_LEN)

struct workqueue_struct *dstor_crypto_wq;
static atomic_t dstor_crypto_queued = ATOMIC_INIT(0);
static unsigned int dstor_crypto_workers;
static mempool_t *dstor_rec_pool;
static u8 dstor_ciphers;	/* DSTOR_WIRE_* this kernel can do */

struct dstor_rec {
	struct work_struct work;
	struct list_head entry;		/* seal->tx_list */
	struct dstor_seal *sl;
	u64 seq;
	u32 size;			/* on the wire: length bytes + sealed */
	unsigned int nr_pages;
	bool ready;			/* seal->lock */
	int err;
	struct dstor_hdr hdr;
	unsigned int nr_src;
	/*
	 * Payload pieces, one page each: a request of up to 128 segments
	 * that straddle page boundaries can take two per segment. Reused to
	 * describe the record's own pages for the socket.
	 */
	struct bio_vec src[2 * DSTOR_REC_PAGES];
	void (*copied)(void *arg);
	void *arg;
	struct page *pages[DSTOR_REC_PAGES];
	struct scatterlist sg[DSTOR_REC_PAGES];
};

/* ---- HMAC-SHA256 and the handshake's derivations ---- */

struct hmac_part {
	const void *p;
	size_t len;
};

/* HMAC-SHA256 (RFC 2104) of the concatenation of @parts. */
static void hmac_sha256(const u8 *key, size_t klen,
			const struct hmac_part *parts, int n, u8 *out)
{
	u8 k[SHA256_BLOCK_SIZE] = {}, pad[SHA256_BLOCK_SIZE];
	struct sha256_state st;
	int i;

	if (klen > SHA256_BLOCK_SIZE)
		sha256(key, klen, k);
	else
		memcpy(k, key, klen);

	for (i = 0; i < SHA256_BLOCK_SIZE; i++)
		pad[i] = k[i] ^ 0x36;
	sha256_init(&st);
	sha256_update(&st, pad, sizeof(pad));
	for (i = 0; i < n; i++)
		sha256_update(&st, parts[i].p, parts[i].len);
	sha256_final(&st, out);

	for (i = 0; i < SHA256_BLOCK_SIZE; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_init(&st);
	sha256_update(&st, pad, sizeof(pad));
	sha256_update(&st, out, SHA256_DIGEST_SIZE);
	sha256_final(&st, out);

	memzero_explicit(k, sizeof(k));
	memzero_explicit(pad, sizeof(pad));
	memzero_explicit(&st, sizeof(st));
}

void dstor_key_id(const u8 *key, u8 *id)
{
	u8 digest[SHA256_DIGEST_SIZE];
	struct sha256_state st;

	sha256_init(&st);
	sha256_update(&st, DSTOR_LABEL_KEY_ID, strlen(DSTOR_LABEL_KEY_ID));
	sha256_update(&st, key, DSTOR_KEY_LEN);
	sha256_final(&st, digest);
	memcpy(id, digest, DSTOR_KEY_ID_LEN);
	memzero_explicit(&st, sizeof(st));
}

void dstor_hs_proof(const u8 *key, bool server, const u8 *hello,
		    const u8 *challenge, u8 *proof)
{
	const char *label = server ? DSTOR_LABEL_SERVER : DSTOR_LABEL_CLIENT;
	struct hmac_part parts[] = {
		{ label, strlen(label) },
		{ hello, DSTOR_HELLO_LEN },
		/* cipher, reserved and nonce: everything but the proof */
		{ challenge, DSTOR_CHALLENGE_LEN - DSTOR_PROOF_LEN },
	};

	hmac_sha256(key, DSTOR_KEY_LEN, parts, ARRAY_SIZE(parts), proof);
}

void dstor_hs_keys(const u8 *key, const u8 *nc, const u8 *ns, u8 *c2s,
		   u8 *s2c)
{
	u8 salt[2 * DSTOR_NONCE_LEN], prk[SHA256_DIGEST_SIZE];
	static const u8 one = 1;
	struct hmac_part ikm = { key, DSTOR_KEY_LEN };
	struct hmac_part c[] = {
		{ DSTOR_LABEL_C2S, strlen(DSTOR_LABEL_C2S) }, { &one, 1 },
	};
	struct hmac_part s[] = {
		{ DSTOR_LABEL_S2C, strlen(DSTOR_LABEL_S2C) }, { &one, 1 },
	};

	memcpy(salt, nc, DSTOR_NONCE_LEN);
	memcpy(salt + DSTOR_NONCE_LEN, ns, DSTOR_NONCE_LEN);
	hmac_sha256(salt, sizeof(salt), &ikm, 1, prk);
	hmac_sha256(prk, sizeof(prk), c, ARRAY_SIZE(c), c2s);
	hmac_sha256(prk, sizeof(prk), s, ARRAY_SIZE(s), s2c);
	memzero_explicit(prk, sizeof(prk));
}

/* RFC 4231, test case 2: refuse to load with a broken HMAC. */
static int hmac_selftest(void)
{
	static const u8 want[SHA256_DIGEST_SIZE] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e,
		0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
		0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83,
		0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
	};
	static const char data[] = "what do ya want for nothing?";
	struct hmac_part part = { data, sizeof(data) - 1 };
	u8 out[SHA256_DIGEST_SIZE];

	hmac_sha256((const u8 *)"Jefe", 4, &part, 1, out);
	return memcmp(out, want, sizeof(out)) ? -EINVAL : 0;
}

/* ---- AEADs ---- */

static const char *cipher_name(u8 cipher)
{
	return cipher == DSTOR_WIRE_AES_GCM ? "gcm(aes)" :
	       "rfc7539(chacha20,poly1305)";
}

static bool aead_available(u8 cipher)
{
	return crypto_has_alg(cipher_name(cipher), CRYPTO_ALG_TYPE_AEAD,
			      CRYPTO_ALG_TYPE_MASK);
}

u8 dstor_crypto_ciphers(void)
{
	return dstor_ciphers;
}

/* The exporter's choice among what the importer offers: AES-GCM first. */
u8 dstor_crypto_pick(u8 offered)
{
	u8 both = offered & dstor_ciphers;

	if (both & BIT(DSTOR_WIRE_AES_GCM))
		return DSTOR_WIRE_AES_GCM;
	if (both & BIT(DSTOR_WIRE_CHACHA20_POLY1305))
		return DSTOR_WIRE_CHACHA20_POLY1305;
	return 0;
}

struct crypto_aead *dstor_aead_new(u8 cipher, const u8 *key)
{
	struct crypto_aead *tfm = crypto_alloc_aead(cipher_name(cipher), 0, 0);
	int ret;

	if (IS_ERR(tfm))
		return tfm;
	ret = crypto_aead_setkey(tfm, key, DSTOR_KEY_LEN);
	if (!ret)
		ret = crypto_aead_setauthsize(tfm, DSTOR_TAG_LEN);
	if (ret) {
		crypto_free_aead(tfm);
		return ERR_PTR(ret);
	}
	return tfm;
}

static void rec_send_work(struct work_struct *work);

int dstor_seal_init(struct dstor_seal *sl, u8 cipher, const u8 *ktx,
		    const u8 *krx)
{
	sl->tx = dstor_aead_new(cipher, ktx);
	if (IS_ERR(sl->tx))
		return PTR_ERR(sl->tx);
	sl->rx = dstor_aead_new(cipher, krx);
	if (IS_ERR(sl->rx)) {
		crypto_free_aead(sl->tx);
		return PTR_ERR(sl->rx);
	}
	sl->cipher = cipher;
	spin_lock_init(&sl->lock);
	INIT_LIST_HEAD(&sl->tx_list);
	INIT_WORK(&sl->send_work, rec_send_work);
	init_waitqueue_head(&sl->wait);
	atomic_set(&sl->pending, 0);
	atomic_set(&sl->rx_pending, 0);
	sl->tx_seq = 0;
	sl->rx_seq = 0;
	sl->dead = false;
	return 0;
}

/* ---- records ---- */

static struct dstor_rec *rec_alloc(struct dstor_seal *sl, u32 size)
{
	struct dstor_rec *rec = mempool_alloc(dstor_rec_pool, GFP_NOIO);
	unsigned int i;

	rec->sl = sl;
	rec->size = size;
	rec->nr_pages = DIV_ROUND_UP(size, PAGE_SIZE);
	rec->ready = false;
	rec->err = 0;
	rec->nr_src = 0;
	rec->copied = NULL;
	INIT_LIST_HEAD(&rec->entry);
	sg_init_table(rec->sg, rec->nr_pages);
	for (i = 0; i < rec->nr_pages; i++) {
		u32 len = min_t(u32, size - i * PAGE_SIZE, PAGE_SIZE);

		rec->pages[i] = mempool_alloc(dstor_page_pool, GFP_NOIO);
		sg_set_page(&rec->sg[i], rec->pages[i], len, 0);
	}
	return rec;
}

static void rec_free(struct dstor_rec *rec)
{
	unsigned int i;

	for (i = 0; i < rec->nr_pages; i++)
		mempool_free(rec->pages[i], dstor_page_pool);
	mempool_free(rec, dstor_rec_pool);
}

/* Copy @len bytes between @buf and the record at byte @off. */
static void rec_copy(struct dstor_rec *rec, u32 off, void *buf, u32 len,
		     bool to_rec)
{
	while (len) {
		struct page *page = rec->pages[off / PAGE_SIZE];
		u32 po = off % PAGE_SIZE, n = min_t(u32, len, PAGE_SIZE - po);

		if (to_rec)
			memcpy_to_page(page, po, buf, n);
		else
			memcpy_from_page(buf, page, po, n);
		buf += n;
		off += n;
		len -= n;
	}
}

/*
 * Describe the record's bytes [@skip, size) as bio_vecs in rec->src (free
 * once the plaintext has been copied in, or before it ever was) for
 * sending or receiving. Returns the number of vectors.
 */
static unsigned int rec_bvecs(struct dstor_rec *rec, u32 skip)
{
	unsigned int i, n = 0;

	for (i = skip / PAGE_SIZE; i < rec->nr_pages; i++) {
		u32 off = i == skip / PAGE_SIZE ? skip % PAGE_SIZE : 0;

		bvec_set_page(&rec->src[n++], rec->pages[i],
			      rec->sg[i].length - off, off);
	}
	return n;
}

void dstor_rec_read(struct dstor_rec *rec, u32 off, void *buf, u32 len)
{
	rec_copy(rec, DSTOR_REC_LEN_BYTES + DSTOR_HDR_LEN + off, buf, len,
		 false);
}

/* Run the AEAD over the record in place; @seal: encrypt, else decrypt. */
static int rec_crypt(struct dstor_rec *rec, struct crypto_aead *tfm,
		     u64 seq, bool seal)
{
	u32 body = rec->size - DSTOR_REC_LEN_BYTES;
	DECLARE_CRYPTO_WAIT(wait);
	struct aead_request *req;
	u8 iv[12];
	int ret;

	req = aead_request_alloc(tfm, GFP_NOIO);
	if (!req)
		return -ENOMEM;
	dstor_nonce(iv, seq);
	aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG |
				  CRYPTO_TFM_REQ_MAY_SLEEP,
				  crypto_req_done, &wait);
	aead_request_set_ad(req, DSTOR_REC_LEN_BYTES);
	aead_request_set_crypt(req, rec->sg, rec->sg,
			       seal ? body - DSTOR_TAG_LEN : body, iv);
	ret = crypto_wait_req(seal ? crypto_aead_encrypt(req) :
			      crypto_aead_decrypt(req), &wait);
	aead_request_free(req);
	return ret;
}

/* Plaintext of a transmit record: length, header, payload. */
static void rec_fill(struct dstor_rec *rec)
{
	u8 buf[DSTOR_REC_LEN_BYTES + DSTOR_HDR_LEN];
	u32 off = sizeof(buf);
	unsigned int i;

	dstor_put32(buf, rec->size - DSTOR_REC_LEN_BYTES);
	dstor_hdr_encode(buf + DSTOR_REC_LEN_BYTES, &rec->hdr);
	rec_copy(rec, 0, buf, sizeof(buf), true);
	for (i = 0; i < rec->nr_src; i++) {
		struct bio_vec *bv = &rec->src[i];
		void *p = kmap_local_page(bv->bv_page);

		rec_copy(rec, off, p + bv->bv_offset, bv->bv_len, true);
		kunmap_local(p);
		off += bv->bv_len;
	}
}

static void seal_done(struct dstor_seal *sl)
{
	atomic_dec(&dstor_crypto_queued);
	atomic_dec(&sl->pending);
	/* The receive loop waits for room, dstor_seal_stop() for none. */
	wake_up_all(&sl->wait);
}

static void rec_tx_work(struct work_struct *work)
{
	struct dstor_rec *rec = container_of(work, struct dstor_rec, work);
	struct dstor_seal *sl = rec->sl;

	if (READ_ONCE(sl->dead)) {
		rec->err = -EPIPE;
	} else if (!rec->err) {
		rec_fill(rec);
		rec->err = rec_crypt(rec, sl->tx, rec->seq, true);
	}
	/* The sources may go now: everything is in the record. */
	if (rec->copied)
		rec->copied(rec->arg);

	spin_lock(&sl->lock);
	rec->ready = true;
	spin_unlock(&sl->lock);
	queue_work(dstor_io_wq, &sl->send_work);
	seal_done(sl);
}

/* Send ready records at the head of the list, in sequence order. */
static void rec_send_work(struct work_struct *work)
{
	struct dstor_seal *sl = container_of(work, struct dstor_seal,
					     send_work);
	unsigned int noreclaim = memalloc_noreclaim_save();
	struct dstor_rec *rec;
	int ret;

	for (;;) {
		spin_lock(&sl->lock);
		rec = list_first_entry_or_null(&sl->tx_list, struct dstor_rec,
					       entry);
		if (!rec || !rec->ready) {
			spin_unlock(&sl->lock);
			break;
		}
		list_del(&rec->entry);
		spin_unlock(&sl->lock);

		ret = rec->err;
		if (!ret && !READ_ONCE(sl->dead))
			ret = dstor_sock_send_bvec(sl->sock, rec->src,
						   rec_bvecs(rec, 0), rec->size,
						   false);
		rec_free(rec);
		if (ret && !xchg(&sl->dead, true))
			sl->fail(sl);
	}
	memalloc_noreclaim_restore(noreclaim);
}

/*
 * Start a transmit record for header @h; add its payload with
 * dstor_rec_add_src() and queue it with dstor_seal_commit(). Only one
 * thread per connection builds records, so sequence numbers follow the
 * order of commits.
 */
struct dstor_rec *dstor_seal_begin(struct dstor_seal *sl,
				   const struct dstor_hdr *h)
{
	struct dstor_rec *rec;

	rec = rec_alloc(sl, DSTOR_REC_LEN_BYTES + DSTOR_HDR_LEN + h->payload +
			DSTOR_TAG_LEN);
	rec->hdr = *h;
	return rec;
}

void dstor_rec_add_src(struct dstor_rec *rec, struct page *page,
		       unsigned int len, unsigned int off)
{
	/* Cannot happen within the queue limits; never send a short frame. */
	if (WARN_ON_ONCE(rec->nr_src >= ARRAY_SIZE(rec->src))) {
		rec->err = -E2BIG;
		return;
	}
	bvec_set_page(&rec->src[rec->nr_src++], page, len, off);
}

void dstor_seal_commit(struct dstor_rec *rec, void (*copied)(void *arg),
		       void *arg)
{
	struct dstor_seal *sl = rec->sl;

	rec->copied = copied;
	rec->arg = arg;
	/* Count first, then look: dstor_seal_stop() sets dead, then waits. */
	atomic_inc(&sl->pending);
	atomic_inc(&dstor_crypto_queued);
	smp_mb__after_atomic();	/* pending before dead; see dstor_seal_stop() */
	if (READ_ONCE(sl->dead)) {
		if (copied)
			copied(arg);
		rec_free(rec);
		seal_done(sl);
		return;
	}
	INIT_WORK(&rec->work, rec_tx_work);
	spin_lock(&sl->lock);
	rec->seq = sl->tx_seq++;
	list_add_tail(&rec->entry, &sl->tx_list);
	spin_unlock(&sl->lock);
	if (rec_inline(rec->size))
		rec_tx_work(&rec->work);
	else
		queue_work(dstor_crypto_wq, &rec->work);
}

/* Open a received record; on success hand its frame to the owner. */
static void rec_rx_work(struct work_struct *work)
{
	struct dstor_rec *rec = container_of(work, struct dstor_rec, work);
	struct dstor_seal *sl = rec->sl;
	u8 buf[DSTOR_HDR_LEN];
	struct dstor_hdr h;
	int ret = -EPIPE;

	if (!READ_ONCE(sl->dead))
		ret = rec_crypt(rec, sl->rx, rec->seq, false);
	if (ret == -EBADMSG) {
		dstor_stat_add(sl->stats, DSTOR_STAT_BAD_RECORDS, 1);
		net_warn_ratelimited("dstor: a sealed record failed to open (forged, replayed or corrupted); resetting the connection\n");
	}
	if (!ret) {
		rec_copy(rec, DSTOR_REC_LEN_BYTES, buf, sizeof(buf), false);
		if (dstor_hdr_decode(buf, &h) ||
		    DSTOR_HDR_LEN + h.payload + DSTOR_TAG_LEN !=
		    rec->size - DSTOR_REC_LEN_BYTES)
			ret = -EPROTO;
	}
	if (!ret)
		ret = sl->frame(sl, rec, &h);
	if (ret && ret != -EPIPE && !xchg(&sl->dead, true))
		sl->fail(sl);

	rec_free(rec);
	atomic_dec(&sl->rx_pending);
	seal_done(sl);
}

/*
 * Read one record from the socket and queue it for opening. Called by the
 * connection's receive loop only. Returns 0 or a -errno that ends the loop.
 */
int dstor_seal_recv(struct dstor_seal *sl)
{
	u8 lenbuf[DSTOR_REC_LEN_BYTES];
	struct dstor_rec *rec;
	u32 n;
	int ret;

	ret = dstor_sock_recv(sl->sock, lenbuf, sizeof(lenbuf));
	if (ret)
		return ret;
	n = dstor_get32(lenbuf);
	if (!dstor_rec_len_ok(n))
		return -EPROTO;
	wait_event(sl->wait, atomic_read(&sl->rx_pending) < DSTOR_SEAL_MAX_RX ||
		   READ_ONCE(sl->dead));
	if (READ_ONCE(sl->dead))
		return -EPIPE;

	rec = rec_alloc(sl, DSTOR_REC_LEN_BYTES + n);
	rec_copy(rec, 0, lenbuf, sizeof(lenbuf), true);
	ret = dstor_sock_recv_bvec(sl->sock, rec->src,
				   rec_bvecs(rec, DSTOR_REC_LEN_BYTES), n);
	if (ret) {
		rec_free(rec);
		return ret;
	}
	rec->seq = sl->rx_seq++;
	atomic_inc(&sl->pending);
	atomic_inc(&sl->rx_pending);
	atomic_inc(&dstor_crypto_queued);
	INIT_WORK(&rec->work, rec_rx_work);
	if (!rec_inline(rec->size)) {
		queue_work(dstor_crypto_wq, &rec->work);
		return 0;
	}
	rec_rx_work(&rec->work);
	return READ_ONCE(sl->dead) ? -EPIPE : 0;
}

/* Handshake frames, sealed and sent inline before the loops run. */
int dstor_seal_send_sync(struct dstor_seal *sl, const struct dstor_hdr *h,
			 const void *payload)
{
	struct dstor_rec *rec = dstor_seal_begin(sl, h);
	int ret;

	rec_fill(rec);
	if (h->payload)
		rec_copy(rec, DSTOR_REC_LEN_BYTES + DSTOR_HDR_LEN,
			 (void *)payload, h->payload, true);
	ret = rec_crypt(rec, sl->tx, sl->tx_seq++, true);
	if (!ret)
		ret = dstor_sock_send_bvec(sl->sock, rec->src,
					   rec_bvecs(rec, 0), rec->size,
					   false);
	rec_free(rec);
	return ret;
}

/* Receive and open one frame inline; its payload must fit @max bytes. */
int dstor_seal_recv_sync(struct dstor_seal *sl, struct dstor_hdr *h,
			 void *payload, u32 max)
{
	u8 lenbuf[DSTOR_REC_LEN_BYTES], buf[DSTOR_HDR_LEN];
	struct dstor_rec *rec;
	u32 n;
	int ret;

	ret = dstor_sock_recv(sl->sock, lenbuf, sizeof(lenbuf));
	if (ret)
		return ret;
	n = dstor_get32(lenbuf);
	if (!dstor_rec_len_ok(n) || n > DSTOR_REC_MIN + max)
		return -EPROTO;
	rec = rec_alloc(sl, DSTOR_REC_LEN_BYTES + n);
	rec_copy(rec, 0, lenbuf, sizeof(lenbuf), true);
	ret = dstor_sock_recv_bvec(sl->sock, rec->src,
				   rec_bvecs(rec, DSTOR_REC_LEN_BYTES), n);
	if (!ret)
		ret = rec_crypt(rec, sl->rx, sl->rx_seq++, false);
	if (ret == -EBADMSG)
		dstor_stat_add(sl->stats, DSTOR_STAT_BAD_RECORDS, 1);
	if (!ret) {
		rec_copy(rec, DSTOR_REC_LEN_BYTES, buf, sizeof(buf), false);
		if (dstor_hdr_decode(buf, h) ||
		    DSTOR_HDR_LEN + h->payload + DSTOR_TAG_LEN != n)
			ret = -EPROTO;
	}
	if (!ret && h->payload)
		dstor_rec_read(rec, 0, payload, h->payload);
	rec_free(rec);
	return ret;
}

/*
 * Stop a sealed connection whose socket has been shut down and whose
 * receive loop has returned: no new records, wait for the pool to finish
 * the ones it has, drop what was not sent.
 */
void dstor_seal_stop(struct dstor_seal *sl)
{
	struct dstor_rec *rec, *tmp;

	WRITE_ONCE(sl->dead, true);
	smp_mb();	/* pairs with dstor_seal_commit() */
	wake_up_all(&sl->wait);
	wait_event(sl->wait, atomic_read(&sl->pending) == 0);
	cancel_work_sync(&sl->send_work);
	list_for_each_entry_safe(rec, tmp, &sl->tx_list, entry) {
		list_del(&rec->entry);
		rec_free(rec);
	}
}

void dstor_seal_free(struct dstor_seal *sl)
{
	if (!sl)
		return;
	crypto_free_aead(sl->tx);
	crypto_free_aead(sl->rx);
	kfree(sl);
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

int dstor_crypto_init(void)
{
	int ret = hmac_selftest();

	if (ret) {
		pr_err("HMAC-SHA256 self-test failed\n");
		return ret;
	}
	if (aead_available(DSTOR_WIRE_AES_GCM))
		dstor_ciphers |= BIT(DSTOR_WIRE_AES_GCM);
	if (aead_available(DSTOR_WIRE_CHACHA20_POLY1305))
		dstor_ciphers |= BIT(DSTOR_WIRE_CHACHA20_POLY1305);
	if (!dstor_ciphers)
		pr_warn("no AEAD available (gcm(aes), rfc7539(chacha20,poly1305)): keys cannot be used\n");

	dstor_rec_pool = mempool_create_kmalloc_pool(4,
						     sizeof(struct dstor_rec));
	if (!dstor_rec_pool)
		return -ENOMEM;
	dstor_crypto_workers = min_t(unsigned int, num_online_cpus(),
				     DSTOR_MAX_CRYPTO_WORKERS);
	dstor_crypto_wq = alloc_workqueue("dstor_crypto",
					  WQ_UNBOUND | WQ_MEM_RECLAIM,
					  dstor_crypto_workers);
	if (!dstor_crypto_wq) {
		mempool_destroy(dstor_rec_pool);
		return -ENOMEM;
	}
	return 0;
}

void dstor_crypto_exit(void)
{
	destroy_workqueue(dstor_crypto_wq);
	mempool_destroy(dstor_rec_pool);
}
