/*
 * Committing an ordered cut as the next block of its chain: every tx applied in order (an
 * invalid one stays in the block, marked in the validity bitmap, and changes nothing), the
 * header made with the app hash, Merkle root and anchors, signed, and written with the
 * block's state changes in one SQL transaction. Then the mempool drops what was committed.
 */
#include <stdio.h>
#include <string.h>

#include "leben/codec.h"
#include "ledger/ledger_int.h"

/* Latest header hash of every chain, for anchors, readable without the chains' locks. */
static pthread_mutex_t tips_mu = PTHREAD_MUTEX_INITIALIZER;

static void read_anchor(struct lb_ledger *l, int other, struct lb_anchor *a)
{
	pthread_mutex_lock(&tips_mu);
	a->height = l->chains[other].tip.height;
	memcpy(a->hash, l->chains[other].tip_hash, LB_HASH_LEN);
	pthread_mutex_unlock(&tips_mu);
}

struct cut_item {
	struct lb_tx tx;
	int code;
	char msg[512];
	bool known;  /* admitted here before: signature already checked */
	uint8_t *ws; /* its admission writes, taken from the mempool (owned), or NULL */
	size_t ws_len;
};

struct cut_job {
	struct lb_ledger *l;
	const struct lb_cut *cut;
	struct cut_item *items;
};

static const struct lb_tx *cut_tx_at(void *ctx, size_t i)
{
	struct cut_job *j = ctx;
	struct cut_item *it = &j->items[i];
	return it->code || it->known ? NULL : &it->tx;
}

static void cut_bad_sig(void *ctx, size_t i)
{
	struct cut_job *j = ctx;
	j->items[i].code = LB_EBADSIG;
	snprintf(j->items[i].msg, sizeof j->items[i].msg, "bad signature");
}

/* Write the block and its tx locations; the caller's write transaction is open on
 * c->wdb and the block's state changes are already flushed into it. */
static int write_block(struct chain *c, const struct lb_block_header *h,
		       const uint8_t hash[LB_HASH_LEN], const struct lb_cut *cut,
		       struct cut_item *items, const uint8_t *cursor, size_t cursor_len,
		       struct lb_errmsg *em)
{
	struct lb_buf hb, body;
	lb_buf_init(&hb, LB_HEADER_MAX_BYTES);
	lb_buf_init(&body, (size_t)LB_BLOCK_MAX_TXS * (LB_TX_MAX_BYTES + 4));
	int rc = lb_header_encode(&hb, h, true);
	for (size_t i = 0; i < cut->n && !rc; i++)
		rc = lb_enc_bytes(&body, cut->raws[i], cut->lens[i]);
	if (!rc && !body.data)
		rc = lb_buf_reserve(&body, 1);
	if (rc) {
		lb_errf(em, rc, "out of memory encoding the block");
		goto out;
	}
	sqlite3_stmt *st = c->wdb.put_block;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)h->height);
	sqlite3_bind_blob(st, 2, hash, LB_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, hb.data, (int)hb.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, body.data, (int)body.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)h->anchors[0].height);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)h->anchors[1].height);
	int src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src != SQLITE_DONE ||
	    (cursor_len && db_meta_put(&c->wdb, "order.cursor", cursor, cursor_len)))
		goto sqlfail;
	for (size_t i = 0; i < cut->n; i++) {
		st = c->wdb.put_txloc;
		sqlite3_bind_blob(st, 1, items[i].tx.id, LB_HASH_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)h->height);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)i);
		sqlite3_bind_int(st, 4, items[i].code);
		if (items[i].code)
			sqlite3_bind_text(st, 5, items[i].msg, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 5);
		src = sqlite3_step(st);
		sqlite3_reset(st);
		if (src != SQLITE_DONE)
			goto sqlfail;
	}
	goto out;
sqlfail:
	rc = lb_errf(em, LB_EIO, "%s chain: writing block %llu failed: %s", lb_chain_name(c->id),
		     (unsigned long long)h->height, sqlite3_errmsg(c->wdb.db));
out:
	lb_buf_release(&hb);
	lb_buf_release(&body);
	return rc;
}

static int wdb_step(struct chain *c, sqlite3_stmt *st, const char *what, struct lb_errmsg *em)
{
	int src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return lb_errf(em, LB_EIO, "%s chain: cannot %s: %s", lb_chain_name(c->id), what,
			       sqlite3_errmsg(c->wdb.db));
	return LB_OK;
}

static void log_drop(void *ctx, const uint8_t *id, int code, const char *msg)
{
	char hex[2 * LB_HASH_LEN + 1];
	lb_hex_encode(hex, id, LB_HASH_LEN);
	lb_log(LB_LOG_WARN, "%s: dropped tx %s from the mempool: %s", (const char *)ctx, hex, msg);
}

/* After a commit: drop the committed txs from the mempool and bring the overlay up to date.
 * Pruning keeps the overlay exact only if the block wrote exactly what its txs wrote on
 * admission, that is if every tx of the block took its admission writes (all_reused); a tx
 * applied again (a type not marked block-independent may write otherwise at block time) or
 * marked invalid makes the overlay, and the write-sets computed on top of it, stale: rebuild. */
static void mempool_after_commit(struct chain *c, const struct lb_cut *cut,
				 const struct cut_item *items, bool all_reused)
{
	uint64_t upto = 0;
	bool prefix = all_reused;
	for (size_t i = 0; i < cut->n; i++) {
		uint64_t seq = prefix ? mempool_pop_head_if(&c->mp, items[i].tx.id) : 0;
		if (seq)
			upto = seq;
		else {
			prefix = false;
			mempool_remove(&c->mp, items[i].tx.id);
		}
	}
	if (!prefix || state_prune(&c->mp.overlay, upto))
		mempool_rebuild(&c->mp, c->id, c->tip.height + 1, lb_now_ms(), log_drop,
				(void *)lb_chain_name(c->id));
}

int lb_ledger_commit(struct lb_ledger *l, const struct lb_cut *cut, uint64_t *height,
		     struct lb_errmsg *em)
{
	if (cut->chain < 0 || cut->chain >= LB_CHAIN_COUNT || cut->n > LB_BLOCK_MAX_TXS)
		return lb_errf(em, LB_EINVALID, "bad cut (chain %d, %zu txs)", cut->chain, cut->n);
	if (!l->has_proposer && !l->opt.unsigned_blocks)
		return lb_errf(em, LB_EINVALID, "this ledger was opened without a block signer");
	struct chain *c = &l->chains[cut->chain];
	struct cut_item *items = lb_calloc(cut->n ? cut->n : 1, sizeof *items);
	uint8_t(*ids)[LB_HASH_LEN] = lb_malloc((cut->n ? cut->n : 1) * LB_HASH_LEN);
	struct lb_block_header *h = lb_calloc(1, sizeof *h);
	if (!items || !ids || !h) {
		lb_free(items);
		lb_free(ids);
		lb_free(h);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	/* Commits of a chain are serialised by commit_mu; the chain lock (admission, queries)
	 * is taken only to look txs up in the mempool and, at the end, to publish the new tip
	 * and update the mempool, so admission goes on while the block is applied and written. */
	pthread_mutex_lock(&c->commit_mu);
	for (size_t i = 0; i < cut->n; i++) {
		struct lb_errmsg e;
		lb_errclear(&e);
		struct cut_item *it = &items[i];
		it->code = lb_tx_decode(&it->tx, cut->raws[i], cut->lens[i], &e);
		if (it->code) {
			lb_hash(it->tx.id, cut->raws[i], cut->lens[i]);
			snprintf(it->msg, sizeof it->msg, "%s", e.text);
		}
		memcpy(ids[i], it->tx.id, LB_HASH_LEN);
	}
	/* While the cut follows the mempool from its head, its txs were admitted onto exactly
	 * the state this block builds on: take their admission writes instead of applying them
	 * again (a block-time expiry is still checked below). */
	pthread_mutex_lock(&c->mu);
	struct pending *head = c->mp.head;
	for (size_t i = 0; i < cut->n; i++) {
		struct cut_item *it = &items[i];
		it->known = !it->code && mempool_find(&c->mp, it->tx.id);
		if (head && it->known && head->ws && !memcmp(head->id, it->tx.id, LB_HASH_LEN)) {
			it->ws = head->ws;
			it->ws_len = head->ws_len;
			head->ws = NULL;
			head = head->next;
		} else {
			head = NULL;
		}
	}
	pthread_mutex_unlock(&c->mu);
	struct cut_job job = {.l = l, .cut = cut, .items = items};
	ledger_check_sigs(l, cut->n, (const uint8_t *const *)cut->raws, cut_tx_at, cut_bad_sig, &job);

	struct lb_state blk;
	state_init(&blk, NULL, &c->wdb);
	h->version = 1;
	h->chain = (uint8_t)c->id;
	h->height = c->tip.height + 1;
	h->time_ms = cut->time_ms > c->tip.time_ms ? cut->time_ms : c->tip.time_ms;
	memcpy(h->prev_hash, c->tip_hash, LB_HASH_LEN);
	/* the write transaction opens before the txs are applied: their reads then see one
	 * view of the state and take no lock each */
	int rc = wdb_step(c, c->wdb.begin, "begin a block", em);
	if (rc)
		goto done;
	bool all_valid = true, reuse = true, all_reused = true;
	for (size_t i = 0; i < cut->n && !rc; i++) {
		struct cut_item *it = &items[i];
		struct lb_errmsg e;
		lb_errclear(&e);
		if (!it->code && reuse && it->ws &&
		    !(it->tx.expires_ms && h->time_ms > it->tx.expires_ms)) {
			if ((rc = state_writes_apply(&blk, it->ws, it->ws_len)))
				lb_errf(em, rc, "out of memory building the block");
			c->reused_writes++;
		} else if (!it->code) {
			/* applied again from here on: later admission writes assumed this one */
			reuse = all_reused = false;
			it->code = ledger_apply_tx(&blk, c->id, &it->tx, h->height, h->time_ms, &e);
			if (it->code)
				snprintf(it->msg, sizeof it->msg, "%s", e.text);
		}
		if (it->code) {
			all_valid = all_reused = false;
			h->validity[i / 8] |= (uint8_t)(1u << (i % 8));
		}
	}
	h->tx_count = cut->n;
	h->bitmap_len = all_valid ? 0 : (cut->n + 7) / 8;
	lb_merkle_root((const uint8_t(*)[LB_HASH_LEN])ids, cut->n, h->tx_root);
	if (rc) {
		sqlite3_step(c->wdb.rollback);
		sqlite3_reset(c->wdb.rollback);
		goto done;
	}
	rc = state_app_hash(&blk, c->tip.app_hash, h->app_hash);
	for (int other = 0, k = 0; other < LB_CHAIN_COUNT; other++)
		if (other != c->id)
			read_anchor(l, other, &h->anchors[k++]);
	/* consortium ordering: no proposer, no signature, so every member makes the same block */
	if (!l->opt.unsigned_blocks)
		memcpy(h->proposer, l->proposer.pk, LB_PUBKEY_LEN);
	uint8_t hash[LB_HASH_LEN];
	lb_header_hash(h, hash);
	if (!l->opt.unsigned_blocks)
		lb_sign(h->sig, hash, LB_HASH_LEN, &l->proposer);
	if (rc)
		lb_errf(em, rc, "out of memory hashing the write-set");
	if (!rc)
		rc = state_flush(&blk, em);
	if (!rc)
		rc = write_block(c, h, hash, cut, items, c->cursor, c->cursor_len, em);
	c->cursor_len = 0;
	if (!rc)
		rc = wdb_step(c, c->wdb.commit, "commit a block", em);
	if (rc) {
		sqlite3_step(c->wdb.rollback);
		sqlite3_reset(c->wdb.rollback);
		goto done;
	}
	pthread_mutex_lock(&c->mu);
	pthread_mutex_lock(&tips_mu);
	c->tip = *h;
	memcpy(c->tip_hash, hash, LB_HASH_LEN);
	pthread_mutex_unlock(&tips_mu);
	/* the database changed: what admission read and cached is stale from now on (a read
	 * transaction begun after this sees the block; those begun before ended under mu) */
	state_cache_clear(&c->mp.overlay);
	mempool_after_commit(c, cut, items, all_reused);
	wal_after_commit(&c->wal, &c->mp);
	pthread_mutex_unlock(&c->mu);
	if (height)
		*height = h->height;
done:
	pthread_mutex_unlock(&c->commit_mu);
	state_release(&blk);
	for (size_t i = 0; i < cut->n; i++)
		lb_free(items[i].ws);
	lb_free(items);
	lb_free(ids);
	lb_free(h);
	return rc;
}
