// SPDX-License-Identifier: GPL-2.0
/*
 * A sync by multicast repaired over TCP (dstor sync --mcast with --peer;
 * Documentation/multicast.md): the channels it joins, what their carousel
 * went past left to TCP, and the READs that fetch that from the exporter
 * (on sync_peer.c's connection, with sync_tcp.c's pool of requests) into
 * the slots sync_mcast.c assembles blocks in.
 */
#include <linux/bio.h>
#include <net/sock.h>

#include "sync_int.h"

/*
 * ---- multicast repaired over TCP (--mcast with --peer) ----
 *
 * The channels carry what they carry cheaply: nodes with at most a sixth
 * of their leaves good, of a level that keeps them within
 * SYNC_MAX_CHANNELS, then the largest nodes of stale leaves only for the
 * channels left. Every other stale block is fetched over TCP at once, and
 * so is every block a channel's carousel went past without completing it:
 * the exporter sends a channel's blocks whole and in order, so when block
 * k of a channel comes after block i, the blocks from i to k (not k) were
 * sent, and those not complete lost some of their packets (unless k is a
 * little behind i: then its packet is late, repair_late()). Packets
 * overtake each other, so a block is judged only once the carousel is
 * more than repair_wait() blocks past it (the window of late packets,
 * less where the blocks waiting would fill a quarter of the pool): one
 * completed by then is not fetched. A block that is partly here is
 * completed with READs of the chunks missing; one that is not, with READs
 * of all of it. A channel is left as soon as each of its blocks is good
 * or left to TCP: one carousel round and that wait at most, but for a
 * loss of over three quarters of a channel's round, taken for late
 * packets, which waits for the next round.
 */

/* Stale leaves of [@first, @end). */
static u64 stale_in(struct dstor_sync *s, u64 first, u64 end)
{
	u64 k, n = 0;

	for (k = find_next_zero_bit(s->good, end, first); k < end;
	     k = find_next_zero_bit(s->good, end, k + 1))
		n++;
	return n;
}

/*
 * The channels under node (@level, @j) of level @minl or more with at most
 * a sixth of their leaves good. Returns the new count; past @max, it stops
 * counting.
 */
static unsigned int plan_dense(struct dstor_sync *s, unsigned int level,
			       u64 j, unsigned int minl, unsigned int n,
			       unsigned int max)
{
	u64 first = j << level, end, stale;

	/* Below @minl nothing is a channel. */
	if (first >= s->ann.blocks || n > max || level < minl)
		return n;
	end = min_t(u64, first + (1ULL << level), s->ann.blocks);
	stale = stale_in(s, first, end);
	if (!stale)
		return n;
	if (stale * 6 >= (end - first) * 5) {
		if (n < max)
			dstor_sync_chan_set(s, n, level, j);
		return n + 1;
	}
	if (!level)
		return n;
	n = plan_dense(s, level - 1, 2 * j, minl, n, max);
	return plan_dense(s, level - 1, 2 * j + 1, minl, n, max);
}

/*
 * The channels left after the @n of plan_dense(): the largest nodes below
 * level @minl whose leaves are all stale and in no channel yet. s->queue
 * marks the leaves of the channels.
 */
static unsigned int plan_fill(struct dstor_sync *s, unsigned int minl,
			      unsigned int n)
{
	u64 j, first, end;
	unsigned int i;

	bitmap_zero(s->queue, s->ann.blocks);
	for (i = 0; i < n; i++)
		bitmap_set(s->queue, s->chans[i].first,
			   s->chans[i].end - s->chans[i].first);
	while (minl-- > 0 && n < SYNC_MAX_CHANNELS) {
		for (j = 0; (j << minl) < s->ann.blocks &&
		     n < SYNC_MAX_CHANNELS; j++) {
			first = j << minl;
			end = min_t(u64, first + (1ULL << minl), s->ann.blocks);
			if (find_next_bit(s->good, end, first) < end ||
			    find_next_bit(s->queue, end, first) < end)
				continue;
			dstor_sync_chan_set(s, n++, minl, j);
			bitmap_set(s->queue, first, end - first);
		}
		cond_resched();
	}
	return n;
}

/* Block @k is left to TCP, unless it is good or already is. */
void dstor_repair_queue(struct dstor_sync *s, u64 k)
{
	if (test_bit(k, s->good) || test_and_set_bit(k, s->fetch))
		return;
	set_bit(k, s->queue);
	s->queue_next = min(s->queue_next, k);
	s->settle = true;
}

/* Plan and join the channels; what they do not carry is queued for TCP. */
static int repair_join(struct dstor_sync *s)
{
	unsigned int top = dstor_sync_plan_top(s), minl, n = 0;
	u64 n_blocks = s->ann.blocks;

	dstor_sync_chans_leave(s);
	/* At @top itself there is one node: the loop ends there at last. */
	for (minl = 0; minl <= top; minl++) {
		n = plan_dense(s, top, 0, minl, 0, SYNC_MAX_CHANNELS);
		if (n <= SYNC_MAX_CHANNELS)
			break;
		cond_resched();
	}
	n = plan_fill(s, minl, n);
	/* Neither good nor in a channel: s->queue marks the channels'. */
	bitmap_or(s->fetch, s->good, s->queue, n_blocks);
	bitmap_complement(s->fetch, s->fetch, n_blocks);
	if (n_blocks % BITS_PER_LONG)
		s->fetch[n_blocks / BITS_PER_LONG] &=
			BITMAP_LAST_WORD_MASK(n_blocks);
	bitmap_copy(s->queue, s->fetch, n_blocks);
	s->queue_next = 0;
	s->settle = true;
	return dstor_sync_chans_join_planned(s, n);
}

/* How far behind the last block seen a packet may be and count as late. */
#define REPAIR_LATE_BLOCKS	16

/* Blocks of @c from @a forward to @b, in the channel's (cyclic) order. */
static u64 chan_dist(const struct sync_chan *c, u64 a, u64 b)
{
	return b >= a ? b - a : b + (c->end - c->first) - a;
}

/*
 * How far behind the last block seen on @c a packet may be and be late:
 * REPAIR_LATE_BLOCKS, and at most a quarter of the channel. Packets
 * overtake each other on the way (two batches sent from two CPUs), and a
 * round in which three quarters of the channel were lost is less likely.
 */
static u64 repair_window(const struct sync_chan *c)
{
	return min_t(u64, REPAIR_LATE_BLOCKS, (c->end - c->first) / 4);
}

/* Is a packet of block @index, not the last block seen on @c, late? */
static bool repair_late(const struct sync_chan *c, u64 index)
{
	return c->last != U64_MAX &&
	       chan_dist(c, index, c->last) <= repair_window(c);
}

/*
 * How far behind the last block seen on @c a block waits to be judged:
 * the window, but no more than keeps the blocks waiting in all channels
 * within a quarter of the pool of block buffers (a block partly here
 * holds one, and TCP holds at most half).
 */
static u64 repair_wait(const struct dstor_sync *s, const struct sync_chan *c)
{
	return min_t(u64, repair_window(c), s->nr_slots / (4 * s->nr_chans));
}

/*
 * Chunk @chunk of block @index came: on its channel, the blocks due since
 * those judged, up to repair_wait() behind @index, are over (see above).
 * On a channel of one block, its chunks coming round again end it. A
 * chunk of the block seen before the last one, above the chunks seen of
 * it, is late (the exporter sends a block's chunks in order): not a round
 * later; so is any chunk of a block a little behind the last one
 * (repair_late()).
 */
void dstor_repair_seen(struct dstor_sync *s, u64 index, unsigned int chunk)
{
	struct sync_chan *c = NULL;
	unsigned int i;
	u64 k, wait;

	for (i = 0; i < s->nr_chans && !c; i++)
		if (index >= s->chans[i].first && index < s->chans[i].end)
			c = &s->chans[i];
	if (!c)
		return;
	if (c->last == index) {
		/* One block: a round is over at the chunk it began with. */
		if (chunk < c->last_chunk)
			c->wrapped = true;
		if (c->wrapped && chunk >= c->start_chunk &&
		    c->end - c->first == 1)
			dstor_repair_queue(s, index);
		c->last_chunk = chunk;
		return;
	}
	if (index == c->prev && chunk > c->prev_chunk) {
		c->prev_chunk = chunk;
		return;
	}
	if (repair_late(c, index))
		return;
	/*
	 * What is within repair_wait() behind @index may still come late,
	 * and waits. Up to a channel's blocks (65535): resched.
	 */
	wait = repair_wait(s, c);
	k = c->last == U64_MAX ? index : c->judged;
	for (; chan_dist(c, k, index) > wait;
	     k = k + 1 == c->end ? c->first : k + 1) {
		dstor_repair_queue(s, k);
		cond_resched();
	}
	c->judged = k;
	c->prev = c->last;
	c->prev_chunk = c->last_chunk;
	c->last = index;
	c->last_chunk = chunk;
	c->start_chunk = chunk;
	c->wrapped = false;
}

/* Leave the channels whose blocks are all good or left to TCP. */
static void repair_settle(struct dstor_sync *s)
{
	struct sync_chan *c;
	unsigned int i;

	s->settle = false;
	for (i = s->nr_chans; i-- > 0;) {
		c = &s->chans[i];
		while (c->scan < c->end && (test_bit(c->scan, s->good) ||
					    test_bit(c->scan, s->fetch)))
			c->scan++;
		if (c->scan >= c->end)
			dstor_sync_chan_drop(s, i);
	}
}

/* Nothing useful came for SYNC_STALL: TCP gets all that is missing. */
static int repair_stall(struct dstor_sync *s)
{
	u64 k;

	for (k = find_next_zero_bit(s->good, s->ann.blocks, 0);
	     k < s->ann.blocks;
	     k = find_next_zero_bit(s->good, s->ann.blocks, k + 1))
		dstor_repair_queue(s, k);
	return 0;
}

/* ---- multicast repaired over TCP: the TCP side ---- */

/* READs a repair of one block sends at most; more gaps: the whole block. */
#define REPAIR_READS		8

/* Connected for repairs: is it the export served by multicast? */
static int repair_check(struct dstor_sync *s)
{
	struct dstor_sync_peer *sp = s->sp;

	if (sp->p.info.size != s->ann.size)
		return dstor_sync_peer_failed(s,
					"the export over TCP is not the size of the one announced by multicast",
					-EPROTO);
	if (dstor_sync_peer_max_io(s) < PAGE_SIZE ||
	    DIV_ROUND_UP(s->ann.block_size, dstor_sync_peer_max_io(s)) > REPAIR_READS)
		return dstor_sync_peer_failed(s,
					"the exporter's largest transfer is too small for repairs of a block",
					-EPROTO);
	return 0;
}

/* READs of bytes [@from, @to) of slot @sl's block, into its buffer. */
static int repair_read(struct dstor_sync *s, struct sync_slot *sl, u32 from,
		       u32 to)
{
	struct dstor_sync_buf *b = sync_slot_buf(s, sl);
	u64 pos = sl->index * s->ann.block_size;
	u32 max_io = dstor_sync_peer_max_io(s), off, n, o, seg;
	struct dstor_peer_req *r;
	unsigned int nr;

	for (off = from; off < to; off += n) {
		n = min(to - off, max_io);
		nr = DIV_ROUND_UP(offset_in_page(off) + n, PAGE_SIZE);
		r = dstor_sync_peer_read_req(s, pos + off, n, nr);
		if (IS_ERR(r))
			return PTR_ERR(r);
		for (o = off; o < off + n; o += seg) {
			seg = min_t(u32, off + n - o,
				    PAGE_SIZE - offset_in_page(o));
			__bio_add_page(r->bio, b->pages[o >> PAGE_SHIFT], seg,
				       offset_in_page(o));
		}
		r->cookie = sl - s->slots;
		sl->fetching++;
		dstor_sync_peer_submit(s, r);
	}
	return 0;
}

/* The READs a repair of @sl would send for the chunks it lacks. */
static unsigned int repair_reads(struct dstor_sync *s, struct sync_slot *sl)
{
	u32 len = sync_block_len(s, sl->index), max_io = dstor_sync_peer_max_io(s);
	unsigned int c, e, reads = 0;

	for (c = find_first_zero_bit(sl->got, sl->chunks); c < sl->chunks;
	     c = find_next_zero_bit(sl->got, sl->chunks, e)) {
		e = find_next_bit(sl->got, sl->chunks, c);
		reads += DIV_ROUND_UP(min(e * DSTOR_MC_CHUNK, len) -
				      c * DSTOR_MC_CHUNK, max_io);
	}
	return reads;
}

/*
 * The exporter reads whole sectors of its device: a sector with a chunk
 * missing is read whole (its chunks held are dropped).
 */
static void repair_sectors(struct dstor_sync *s, struct sync_slot *sl)
{
	unsigned int u = max(s->sp->p.info.logical_block_size / DSTOR_MC_CHUNK,
			     1U), c, e;

	if (u == 1)
		return;
	for (c = 0; c < sl->chunks; c += u) {
		e = min(c + u, sl->chunks);
		if (find_next_zero_bit(sl->got, e, c) < e)
			bitmap_clear(sl->got, c, e - c);
	}
	sl->have = bitmap_weight(sl->got, sl->chunks);
}

/*
 * Fetch what slot @sl's block lacks: its missing chunks, or all of it when
 * that takes fewer READs or a chunk it holds may be forged (contested).
 */
static int repair_fetch(struct dstor_sync *s, struct sync_slot *sl)
{
	u32 len = sync_block_len(s, sl->index);
	unsigned int c, e;
	int ret;

	repair_sectors(s, sl);
	if (sl->contested || repair_reads(s, sl) > REPAIR_READS) {
		bitmap_zero(sl->got, sl->chunks);
		sl->have = 0;
		sl->contested = false;
	}
	for (c = find_first_zero_bit(sl->got, sl->chunks); c < sl->chunks;
	     c = find_next_zero_bit(sl->got, sl->chunks, e)) {
		e = find_next_bit(sl->got, sl->chunks, c);
		ret = repair_read(s, sl, c * DSTOR_MC_CHUNK,
				  min(e * DSTOR_MC_CHUNK, len));
		if (ret)
			return ret;
	}
	s->tcp_slots++;
	return 0;
}

/* A slot holding part of a queued block, or NULL. */
static struct sync_slot *repair_held(struct dstor_sync *s)
{
	struct sync_slot *sl;
	unsigned int i;

	for (i = 0; i < s->nr_slots; i++) {
		sl = &s->slots[i];
		if (!s->t.bufs[i].writing && !sl->fetching &&
		    sl->index != U64_MAX && test_bit(sl->index, s->queue))
			return sl;
	}
	return NULL;
}

/* Send READs for queued blocks while requests and buffers are free. */
static int repair_issue(struct dstor_sync *s)
{
	struct sync_slot *sl;
	u64 k;
	int ret;

	for (;;) {
		k = find_next_bit(s->queue, s->ann.blocks, s->queue_next);
		if (k >= s->ann.blocks)
			return 0;
		s->queue_next = k;
		if (s->sp->nr_busy + REPAIR_READS > DSTOR_PEER_MAX_REQS)
			return 0;
		/* Half the pool stays the channels' while there are some. */
		if (s->nr_chans && s->tcp_slots >= s->nr_slots / 2)
			return 0;
		sl = dstor_sync_slot_get(s, k);
		/*
		 * Every buffer busy: a queued block that holds one goes first
		 * (partial blocks could fill the pool); else after a write.
		 */
		if (!sl)
			sl = repair_held(s);
		if (!sl)
			return 0;
		clear_bit(sl->index, s->queue);
		ret = repair_fetch(s, sl);
		if (ret)
			return ret;
	}
}

/* A READ of a repair answered: once all of its block's are, check it. */
static int repair_reply(struct dstor_sync *s, struct dstor_peer_req *r)
{
	struct sync_slot *sl = &s->slots[r->cookie];
	unsigned long useful = s->last_useful, waited = s->waited;
	u16 status = r->status;
	u32 length = r->length;
	u64 index = sl->index;
	int ret;

	dstor_sync_peer_req_put(s, r);
	if (status != DSTOR_ST_OK)
		return dstor_sync_peer_failed(s,
					"the exporter could not read a block of the export",
					-EIO);
	dstor_stat_add(&s->stats, DSTOR_STAT_SYNC_BYTES, length);
	sl->touched = jiffies;
	if (--sl->fetching)
		return 0;
	s->tcp_slots--;
	bitmap_fill(sl->got, sl->chunks);
	sl->have = sl->chunks;
	ret = dstor_sync_slot_done(s, sl);
	/* The stall is the channels': TCP's progress does not count. */
	s->last_useful = useful;
	s->waited = waited;
	if (ret)
		return ret;
	if (sl->index == U64_MAX) {
		clear_bit(index, s->fetch);
		return 0;
	}
	/*
	 * Not its leaf: dstor_sync_slot_done() marked it contested, for a whole
	 * READ.
	 */
	if (++sl->tries >= PEER_TRIES)
		return dstor_sync_peer_failed(s,
					"a block read from the exporter over TCP does not match the multicast tree",
					-EBADMSG);
	set_bit(index, s->queue);
	s->queue_next = min(s->queue_next, index);
	return 0;
}

/*
 * The connection failed (@err): what it was to fetch comes by multicast
 * alone (SYNC_REPAIR_LOST); receive() dials again the next time.
 */
static int repair_lost(struct dstor_sync *s, int err)
{
	unsigned int i;

	if (err == -EINTR)
		return err;
	pr_warn("sync %s: the connection for repairs failed (%s): going on by multicast alone\n",
		s->name, err == -ETIME ? "no answer within 60 s" :
		dstor_why_text(dstor_why_conn(err)));
	/* Stopped: nothing is read into the slots' buffers any more. */
	dstor_sync_peer_disconnect(s);
	s->repair_up = false;
	for (i = 0; i < s->nr_slots; i++) {
		if (!s->slots[i].fetching)
			continue;
		s->slots[i].fetching = 0;
		s->slots[i].index = U64_MAX;
	}
	s->tcp_slots = 0;
	bitmap_zero(s->fetch, s->ann.blocks);
	bitmap_zero(s->queue, s->ann.blocks);
	s->repair_off = true;
	return SYNC_REPAIR_LOST;
}

/*
 * Dial the exporter for repairs, not waiting: from the moment the tree is
 * known, so that the handshake goes on while the tree comes and the target
 * is hashed (a lost SYN costs a second; a receiver that joined its channels
 * late would keep the carousel going for the others).
 */
static int repair_dial(struct dstor_sync *s)
{
	struct dstor_peer *p = &s->sp->p;
	int ret;

	ret = dstor_peer_dial(p, s->net, &s->peer, s->name,
			      s->key.set ? &s->key : NULL, &s->stats);
	return ret ? dstor_sync_peer_failed(s, dstor_why_text(p->hs.why), ret) : 0;
}

/*
 * The connection of repair_dial(), once its handshake ended
 * (@wait: waiting for that): 0 when READs may go, -EINPROGRESS, an error
 * when it is the first one (the peer, its key or its access list is wrong:
 * the sync fails), else SYNC_REPAIR_LOST (the rest by multicast alone).
 */
static int repair_dialled(struct dstor_sync *s, bool wait)
{
	struct dstor_sync_peer *sp = s->sp;
	int ret;

	ret = dstor_peer_dialled(&sp->p, wait);
	if (ret == -EINPROGRESS || ret == -EINTR)
		return ret;
	if (ret)
		ret = dstor_sync_peer_failed(s, dstor_why_text(sp->p.hs.why), ret);
	else
		ret = repair_check(s);
	if (!ret) {
		s->repair_up = true;
		s->repair_worked = true;
		return 0;
	}
	if (!s->repair_worked)
		return ret;
	/* Not failed: said in the log, not as the reason. */
	WRITE_ONCE(s->why, NULL);
	s->why_logged = NULL;
	return repair_lost(s, ret);
}

/* Every reply there is, without waiting. */
static int repair_replies(struct dstor_sync *s)
{
	struct dstor_peer_req *r;
	int ret;

	for (;;) {
		r = dstor_peer_poll(&s->sp->p);
		if (!r)
			return 0;
		if (IS_ERR(r))
			return repair_lost(s, PTR_ERR(r));
		ret = repair_reply(s, r);
		if (ret)
			return ret;
	}
}

/*
 * RECEIVING with repairs: packets from the channels, replies from the
 * exporter over TCP, until every leaf is good. While READs are in flight
 * the socket is polled every jiffy, so replies wait at most that long.
 */
static int repair_loop(struct dstor_sync *s)
{
	struct dstor_peer_req *r;
	int ret;

	dstor_sync_useful(s);
	while (s->good_count < s->ann.blocks) {
		ret = dstor_sync_reap(&s->t);
		if (!ret)
			ret = repair_replies(s);
		if (!ret)
			ret = repair_issue(s);
		if (ret)
			return ret;
		if (s->settle)
			repair_settle(s);
		/* The replies above may have completed the last block. */
		if (s->good_count == s->ann.blocks)
			break;
		if (!s->nr_chans) {
			/* TCP's alone now. */
			if (s->sp->nr_busy) {
				r = dstor_peer_wait(&s->sp->p);
				if (IS_ERR(r))
					return repair_lost(s, PTR_ERR(r));
				ret = repair_reply(s, r);
				if (ret)
					return ret;
				continue;
			}
			if (!bitmap_empty(s->queue, s->ann.blocks)) {
				ret = dstor_sync_write_wait(s);
				if (ret)
					return ret;
				continue;
			}
			/* Partly received, its channel gone: TCP's too. */
			repair_stall(s);
			if (WARN_ON_ONCE(bitmap_empty(s->queue, s->ann.blocks)))
				return -EIO;
			continue;
		}
		WRITE_ONCE(s->sock->sk->sk_rcvtimeo,
			   s->sp->nr_busy ? 1 : SYNC_RX_TIMEOUT);
		ret = dstor_sync_receive_packet(s, repair_stall);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * RECEIVING with repairs over TCP; SYNC_REPAIR_LOST when there is no
 * connection to repair over, and receive() goes on by multicast alone. The
 * first dial failing fails the sync (the peer, its key or its access list
 * is wrong); a later one, after a connection that worked, does not.
 */
int dstor_repair_receive(struct dstor_sync *s)
{
	struct dstor_peer *p = &s->sp->p;
	int ret;

	s->repair_off = false;
	s->tcp_slots = 0;
	if (p->conn && READ_ONCE(p->err)) {
		dstor_sync_peer_disconnect(s);
		s->repair_up = false;
	}
	/*
	 * Nothing stale: the connection is not needed (nor waited for).
	 * Else its handshake, begun with the tree (repair_dial()), has
	 * usually ended by now; a first one that failed fails the sync before
	 * anything is received.
	 */
	if (s->good_count < s->ann.blocks && !s->repair_up) {
		ret = p->conn ? 0 : repair_dial(s);
		if (!ret)
			ret = repair_dialled(s, true);
		if (ret)
			return ret;
	}
	ret = repair_join(s);
	if (!ret)
		ret = repair_loop(s);
	WRITE_ONCE(s->sock->sk->sk_rcvtimeo, SYNC_RX_TIMEOUT);
	if (ret)
		return ret;
	dstor_sync_chans_leave(s);
	return dstor_sync_drain(&s->t);
}
