/*
 * The ledger's side of catch-up from a peer: a consistent point to copy from (every chain's
 * tip and the orderer cursor stored with it, taken while no block commits, so that no block
 * up to those tips anchors a block above them), the stored bytes of a block, and importing a
 * peer's block by committing its txs here and requiring the same block hash: every imported
 * block is replayed (signatures, validity bits, app hash, anchors), not trusted.
 */
#include <stdio.h>
#include <string.h>

#include "leben/codec.h"
#include "ledger/ledger_int.h"

int lb_ledger_snapshot_point(struct lb_ledger *l, uint64_t heights[LB_CHAIN_COUNT],
			     uint8_t cursors[LB_CHAIN_COUNT][LB_CURSOR_MAX],
			     size_t cursor_lens[LB_CHAIN_COUNT], struct lb_errmsg *em)
{
	int rc = LB_OK;
	for (int i = 0; i < LB_CHAIN_COUNT; i++)
		pthread_mutex_lock(&l->chains[i].commit_mu);
	for (int i = 0; i < LB_CHAIN_COUNT && !rc; i++) {
		struct chain *c = &l->chains[i];
		pthread_mutex_lock(&c->mu);
		heights[i] = c->tip.height;
		cursor_lens[i] = 0;
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(c->db.db, "SELECT v FROM meta WHERE k='order.cursor'", -1, &st,
				       NULL) != SQLITE_OK) {
			rc = lb_errf(em, LB_EIO, "%s chain: %s", lb_chain_name(i),
				     sqlite3_errmsg(c->db.db));
		} else {
			if (sqlite3_step(st) == SQLITE_ROW) {
				int n = sqlite3_column_bytes(st, 0);
				if (n > LB_CURSOR_MAX)
					rc = lb_errf(em, LB_ECORRUPT, "%s chain: stored cursor too long",
						     lb_chain_name(i));
				else if (n > 0)
					memcpy(cursors[i], sqlite3_column_blob(st, 0), (size_t)n);
				cursor_lens[i] = n > 0 && n <= LB_CURSOR_MAX ? (size_t)n : 0;
			}
			sqlite3_finalize(st);
		}
		pthread_mutex_unlock(&c->mu);
	}
	for (int i = LB_CHAIN_COUNT - 1; i >= 0; i--)
		pthread_mutex_unlock(&l->chains[i].commit_mu);
	return rc;
}

int lb_ledger_block_raw(struct lb_ledger *l, int chain, uint64_t height, struct lb_buf *header,
			struct lb_buf *body, struct lb_errmsg *em)
{
	if (chain < 0 || chain >= LB_CHAIN_COUNT)
		return lb_errf(em, LB_ENOTFOUND, "no such chain");
	struct chain *c = &l->chains[chain];
	pthread_mutex_lock(&c->mu);
	sqlite3_stmt *st = c->db.get_block;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
	int s = sqlite3_step(st), rc;
	if (s == SQLITE_ROW) {
		lb_buf_reset(header);
		lb_buf_reset(body);
		rc = lb_buf_add(header, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
		if (!rc)
			rc = lb_buf_add(body, sqlite3_column_blob(st, 1),
					(size_t)sqlite3_column_bytes(st, 1));
		if (rc)
			rc = lb_errf(em, rc, "block %llu does not fit in memory",
				     (unsigned long long)height);
	} else if (s == SQLITE_DONE) {
		rc = lb_errf(em, LB_ENOTFOUND, "%s chain has no block %llu", lb_chain_name(chain),
			     (unsigned long long)height);
	} else {
		rc = lb_errf(em, LB_EIO, "%s chain: %s", lb_chain_name(chain),
			     sqlite3_errmsg(c->db.db));
	}
	sqlite3_reset(st);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int lb_ledger_import_block(struct lb_ledger *l, const uint8_t *header, size_t hlen,
			   const uint8_t *body, size_t blen, const uint8_t *cursor,
			   size_t cursor_len, struct lb_errmsg *em)
{
	struct lb_block_header *h = lb_malloc(sizeof *h);
	const uint8_t **raws = NULL;
	size_t *lens = NULL;
	int rc;
	if (!h)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	if ((rc = lb_header_decode(h, header, hlen, em)))
		goto out;
	if (h->chain >= LB_CHAIN_COUNT || h->tx_count > LB_BLOCK_MAX_TXS) {
		rc = lb_errf(em, LB_EMALFORMED, "block header names no chain or too many txs");
		goto out;
	}
	int chain = h->chain;
	if (h->height != lb_ledger_height(l, chain) + 1) {
		rc = lb_errf(em, LB_EINVALID, "%s block %llu is not the next one (this node is at %llu)",
			     lb_chain_name(chain), (unsigned long long)h->height,
			     (unsigned long long)lb_ledger_height(l, chain));
		goto out;
	}
	size_t n = (size_t)h->tx_count;
	raws = lb_calloc(n ? n : 1, sizeof *raws);
	lens = lb_calloc(n ? n : 1, sizeof *lens);
	if (!raws || !lens) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	struct lb_dec d;
	lb_dec_init(&d, body, blen, "block body", em);
	for (size_t i = 0; i < n && !rc; i++)
		rc = lb_dec_bytes(&d, "tx", LB_TX_MAX_BYTES, &raws[i], &lens[i]);
	if (!rc)
		rc = lb_dec_end(&d);
	if (rc)
		goto out;
	if (cursor_len && (rc = lb_ledger_cursor_set(l, chain, cursor, cursor_len))) {
		lb_errf(em, rc, "bad cursor");
		goto out;
	}
	struct lb_cut cut = {.chain = chain, .time_ms = h->time_ms, .n = n,
			     .raws = (const uint8_t *const *)raws, .lens = lens};
	uint64_t height;
	uint8_t want[LB_HASH_LEN], got[LB_HASH_LEN];
	if ((rc = lb_ledger_commit(l, &cut, &height, em)) ||
	    (rc = lb_ledger_block_hashes(l, chain, height, got, NULL, em)))
		goto out;
	lb_header_hash(h, want);
	if (memcmp(want, got, LB_HASH_LEN))
		rc = lb_errf(em, LB_ECORRUPT,
			     "%s block %llu from the peer does not replay to the block it claims "
			     "(its hash differs from the one its txs give here)",
			     lb_chain_name(chain), (unsigned long long)h->height);
out:
	lb_free(raws);
	lb_free(lens);
	lb_free(h);
	return rc;
}
