/*
 * Start-up integrity check of a node's chain databases: SQLite's own quick check of each
 * file, then, from each chain's tip down a bounded number of blocks, that every stored row
 * decodes, sits at its height and chain, carries the hash of its header, links to the block
 * below by that block's hash, and holds a body whose Merkle root is the header's. A node
 * whose files fail this must not serve (it would hand damaged blocks to clients and peers);
 * the full replay is `leben verify`.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "leben/codec.h"
#include "ledger/ledger_int.h"

static int damage(struct lb_ledger_damage *d, int chain, uint64_t height, bool known,
		  struct lb_errmsg *em, const char *what)
{
	d->chain = chain;
	d->height = height;
	d->height_known = known;
	if (known)
		snprintf(d->what, sizeof d->what, "%s chain, block %llu: %s", lb_chain_name(chain),
			 (unsigned long long)height, what);
	else
		snprintf(d->what, sizeof d->what, "%s chain: %s", lb_chain_name(chain), what);
	return lb_errf(em, LB_ECORRUPT, "%s", d->what);
}

/* quick_check: "ok" or a list of problems (the first is kept). */
static int check_sqlite(struct chain_db *c, struct lb_ledger_damage *d, struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK)
		return damage(d, c->chain, 0, false, em, sqlite3_errmsg(c->db));
	int rc = sqlite3_step(st);
	char what[400];
	if (rc != SQLITE_ROW)
		snprintf(what, sizeof what, "the database file is damaged: %s",
			 sqlite3_errmsg(c->db));
	else if (strcmp((const char *)sqlite3_column_text(st, 0), "ok"))
		snprintf(what, sizeof what, "the database file is damaged: %.300s",
			 (const char *)sqlite3_column_text(st, 0));
	else
		what[0] = 0;
	sqlite3_finalize(st);
	return what[0] ? damage(d, c->chain, 0, false, em, what) : LB_OK;
}

/* The rows from the tip down to tip - depth (not below 0). */
static int check_blocks(struct chain_db *c, uint64_t depth, struct lb_ledger_damage *d,
			struct lb_errmsg *em)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT height, hash, header, body FROM blocks ORDER BY height DESC",
			       -1, &st, NULL) != SQLITE_OK)
		return damage(d, c->chain, 0, false, em, sqlite3_errmsg(c->db));
	struct lb_block_header *h = lb_malloc(sizeof *h);
	uint8_t(*ids)[LB_HASH_LEN] = lb_malloc((size_t)LB_BLOCK_MAX_TXS * LB_HASH_LEN);
	uint8_t hash[LB_HASH_LEN], above_prev[LB_HASH_LEN], root[LB_HASH_LEN];
	uint64_t expect = 0, seen = 0;
	int rc = LB_OK;
	if (!h || !ids) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		int s = sqlite3_step(st);
		if (s == SQLITE_DONE)
			break;
		if (s != SQLITE_ROW) {
			char what[300];
			snprintf(what, sizeof what, "reading the blocks failed: %.200s",
				 sqlite3_errmsg(c->db));
			rc = damage(d, c->chain, expect, seen > 0, em, what);
			break;
		}
		uint64_t height = (uint64_t)sqlite3_column_int64(st, 0);
		if (seen && height != expect) {
			rc = damage(d, c->chain, expect, true, em, "the block row is missing");
			break;
		}
		if (sqlite3_column_bytes(st, 1) != LB_HASH_LEN) {
			rc = damage(d, c->chain, height, true, em, "the stored block hash is damaged");
			break;
		}
		struct lb_errmsg e;
		lb_errclear(&e);
		if (lb_header_decode(h, sqlite3_column_blob(st, 2),
				     (size_t)sqlite3_column_bytes(st, 2), &e)) {
			rc = damage(d, c->chain, height, true, em, "the stored header does not decode");
			break;
		}
		lb_header_hash(h, hash);
		if (h->chain != c->chain || h->height != height) {
			rc = damage(d, c->chain, height, true, em,
				    "the stored header names another chain or height");
			break;
		}
		if (memcmp(hash, sqlite3_column_blob(st, 1), LB_HASH_LEN)) {
			rc = damage(d, c->chain, height, true, em,
				    "the header does not hash to the block hash stored with it");
			break;
		}
		if (seen && memcmp(hash, above_prev, LB_HASH_LEN)) {
			rc = damage(d, c->chain, height, true, em,
				    "the block above does not link to this block's hash");
			break;
		}
		const uint8_t *body = sqlite3_column_blob(st, 3);
		size_t blen = (size_t)sqlite3_column_bytes(st, 3);
		struct lb_dec dec;
		lb_dec_init(&dec, body, blen, "block body", &e);
		bool ok = h->tx_count <= LB_BLOCK_MAX_TXS;
		for (uint64_t i = 0; ok && i < h->tx_count; i++) {
			const uint8_t *p;
			size_t n;
			if (lb_dec_bytes(&dec, "tx", LB_TX_MAX_BYTES, &p, &n))
				ok = false;
			else
				lb_hash(ids[i], p, n);
		}
		if (ok && lb_dec_end(&dec))
			ok = false;
		if (ok) {
			lb_merkle_root((const uint8_t(*)[LB_HASH_LEN])ids, (size_t)h->tx_count, root);
			ok = !memcmp(root, h->tx_root, LB_HASH_LEN);
		}
		if (!ok) {
			rc = damage(d, c->chain, height, true, em,
				    "the stored txs do not match the header's Merkle root");
			break;
		}
		memcpy(above_prev, h->prev_hash, LB_HASH_LEN);
		seen++;
		if (height == 0 || seen > depth)
			break;
		expect = height - 1;
	}
out:
	sqlite3_finalize(st);
	lb_free(ids);
	lb_free(h);
	return rc;
}

int lb_ledger_check_home(const char *home, uint64_t depth, struct lb_ledger_damage *d,
			 struct lb_errmsg *em)
{
	memset(d, 0, sizeof *d);
	d->chain = -1;
	int rc = LB_OK;
	for (int i = 0; i < LB_CHAIN_COUNT && !rc; i++) {
		char path[4300];
		snprintf(path, sizeof path, "%s/chains/%s.db", home, lb_chain_name(i));
		if (access(path, F_OK) != 0)
			continue; /* a new node: the ledger creates it */
		struct chain_db c;
		struct lb_errmsg e;
		lb_errclear(&e);
		if (db_open(&c, path, i, false, &e)) {
			char what[400];
			snprintf(what, sizeof what, "the database file cannot be opened: %.300s",
				 e.text);
			return damage(d, i, 0, false, em, what);
		}
		if (!(rc = check_sqlite(&c, d, em)) && !(rc = db_exec(&c, "BEGIN", em))) {
			rc = check_blocks(&c, depth, d, em);
			db_exec(&c, "COMMIT", NULL);
		}
		db_close(&c);
	}
	return rc;
}
