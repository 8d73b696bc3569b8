/*
 * Full offline verification of a node home: each chain is replayed from genesis into a fresh
 * in-memory state, and every block hash link, proposer signature, tx signature, Merkle root,
 * validity bit, app hash and cross-chain anchor is checked against what is stored; finally the
 * stored state (what the node answers queries and admits txs against) must equal the replayed
 * state. A chain is read inside one read transaction, so a running node's later commits do
 * not disturb the comparison.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "leben/codec.h"
#include "ledger/ledger_int.h"

static int fail(struct lb_errmsg *em, int chain, uint64_t height, const char *what)
{
	return lb_errf(em, LB_ECORRUPT, "%s chain, block %llu: %s", lb_chain_name(chain),
		       (unsigned long long)height, what);
}

static int check_anchors(struct chain_db *dbs, const struct lb_block_header *h,
			 struct lb_errmsg *em)
{
	for (int other = 0; other < LB_CHAIN_COUNT; other++) {
		int k = lb_anchor_index(h->chain, other);
		if (k < 0)
			continue;
		struct lb_block_header ah;
		uint8_t hash[LB_HASH_LEN];
		if (db_block(&dbs[other], h->anchors[k].height, &ah, NULL, NULL, NULL))
			return fail(em, h->chain, h->height, "anchors a block the other chain lacks");
		lb_header_hash(&ah, hash);
		if (memcmp(hash, h->anchors[k].hash, LB_HASH_LEN))
			return fail(em, h->chain, h->height,
				    "anchor hash differs from the other chain's block");
	}
	return LB_OK;
}

/* Copy a verified block's header into the replay database, so that handlers looking up
 * earlier block hashes (lb_state_block_hash) see the same history as on the live node. */
static int replay_block(struct chain_db *replay, struct chain_db *src, uint64_t height,
			struct lb_errmsg *em)
{
	sqlite3_stmt *get = src->get_block, *put = replay->put_block;
	sqlite3_bind_int64(get, 1, (sqlite3_int64)height);
	if (sqlite3_step(get) != SQLITE_ROW) {
		sqlite3_reset(get);
		return fail(em, src->chain, height, "block vanished during verification");
	}
	sqlite3_bind_int64(put, 1, (sqlite3_int64)height);
	sqlite3_bind_blob(put, 2, "", 0, SQLITE_STATIC);
	sqlite3_bind_blob(put, 3, sqlite3_column_blob(get, 0), sqlite3_column_bytes(get, 0),
			  SQLITE_TRANSIENT);
	sqlite3_bind_blob(put, 4, "", 0, SQLITE_STATIC);
	sqlite3_bind_int64(put, 5, 0);
	sqlite3_bind_int64(put, 6, 0);
	int src_rc = sqlite3_step(put);
	sqlite3_reset(put);
	sqlite3_reset(get);
	if (src_rc != SQLITE_DONE)
		return lb_errf(em, LB_EIO, "replay database: %s", sqlite3_errmsg(replay->db));
	return LB_OK;
}

/* Compare the state table of the stored chain with the replayed one, key by key. */
static int compare_state(struct chain_db *stored, struct chain_db *replay, uint64_t height,
			 struct lb_errmsg *em)
{
	static const char q[] = "SELECT k, v FROM state ORDER BY k";
	sqlite3_stmt *a = NULL, *b = NULL;
	int rc = LB_OK;
	if (sqlite3_prepare_v2(stored->db, q, -1, &a, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(replay->db, q, -1, &b, NULL) != SQLITE_OK) {
		rc = lb_errf(em, LB_EIO, "%s chain: reading the state: %s",
			     lb_chain_name(stored->chain), sqlite3_errmsg(stored->db));
		goto out;
	}
	for (;;) {
		int ra = sqlite3_step(a), rb = sqlite3_step(b);
		if (ra == SQLITE_DONE && rb == SQLITE_DONE)
			break;
		if ((ra != SQLITE_ROW && ra != SQLITE_DONE) || (rb != SQLITE_ROW && rb != SQLITE_DONE)) {
			rc = lb_errf(em, LB_EIO, "%s chain: reading the state failed",
				     lb_chain_name(stored->chain));
			break;
		}
		const uint8_t *ka = ra == SQLITE_ROW ? sqlite3_column_blob(a, 0) : NULL;
		const uint8_t *kb = rb == SQLITE_ROW ? sqlite3_column_blob(b, 0) : NULL;
		int la = ka ? sqlite3_column_bytes(a, 0) : 0, lbn = kb ? sqlite3_column_bytes(b, 0) : 0;
		const char *what = NULL;
		const uint8_t *k = ka ? ka : kb;
		if (!ka)
			what = "is missing from the stored state";
		else if (!kb)
			what = "is in the stored state but no tx wrote it";
		else if (la != lbn || memcmp(ka, kb, (size_t)la))
			what = "differs between the stored and the replayed state", k = ka;
		else if (sqlite3_column_bytes(a, 1) != sqlite3_column_bytes(b, 1) ||
			 memcmp(sqlite3_column_blob(a, 1), sqlite3_column_blob(b, 1),
				(size_t)sqlite3_column_bytes(a, 1)))
			what = "has another value in the stored state than replaying gives";
		if (what) {
			/* composite key: [ns length][ns][key] */
			int nl = k[0] < 33 ? k[0] : 0;
			rc = lb_errf(em, LB_ECORRUPT,
				     "%s chain at block %llu: a state entry of namespace '%.*s' %s "
				     "(the database was changed outside the node, or damaged); the blocks "
				     "themselves check out",
				     lb_chain_name(stored->chain), (unsigned long long)height, nl,
				     (const char *)k + 1, what);
			break;
		}
	}
out:
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	return rc;
}


/* The signatures of a block's txs as one batch (lb_sigs_are_valid, the same answers as one by
 * one): sig_ok[i] is false for tx i when its signature is not valid; txs that do not decode are
 * left true (their decoding error is reported by the replay). LB_ENOMEM when out of memory. */
static int block_sigs(const uint8_t *body, size_t blen, uint64_t count,
		      const uint8_t network[LB_HASH_LEN], bool *sig_ok)
{
	struct item {
		uint8_t sig[LB_SIG_LEN], pk[LB_PUBKEY_LEN], h[LB_HASH_LEN];
	} *keep = lb_malloc(count * sizeof *keep + 1);
	struct lb_sig_item *it = lb_malloc(count * sizeof *it + 1);
	size_t *at = lb_malloc(count * sizeof *at + 1), m = 0;
	bool *ok = lb_malloc(count + 1);
	int rc = keep && it && at && ok ? LB_OK : LB_ENOMEM;
	struct lb_errmsg e;
	struct lb_dec d;
	lb_dec_init(&d, body, blen, "block body", &e);
	for (uint64_t i = 0; i < count && !rc; i++) {
		const uint8_t *p;
		size_t n;
		struct lb_tx tx;
		sig_ok[i] = true;
		if (lb_dec_bytes(&d, "tx", LB_TX_MAX_BYTES, &p, &n))
			break;
		if (lb_tx_decode(&tx, p, n, &e))
			continue;
		memcpy(keep[m].sig, tx.sig, LB_SIG_LEN);
		memcpy(keep[m].pk, tx.sender, LB_PUBKEY_LEN);
		lb_tx_sighash(keep[m].h, p, tx.unsigned_len, network);
		it[m] = (struct lb_sig_item){keep[m].sig, keep[m].pk, keep[m].h, LB_HASH_LEN};
		at[m++] = (size_t)i;
	}
	if (!rc && !lb_sigs_are_valid(it, m, ok)) {
		for (size_t k = 0; k < m; k++)
			sig_ok[at[k]] = ok[k];
	}
	lb_free(keep);
	lb_free(it);
	lb_free(at);
	lb_free(ok);
	return rc;
}

static int verify_chain(struct chain_db *dbs, int chain, json_t *g,
			const uint8_t network[LB_HASH_LEN],
			void (*progress)(int, uint64_t, uint64_t, void *), void *ctx,
			struct lb_errmsg *em)
{
	struct chain_db replay;
	struct lb_block_header *h = lb_malloc(sizeof *h), *prev = lb_malloc(sizeof *prev);
	uint8_t prev_hash[LB_HASH_LEN], hash[LB_HASH_LEN], app[LB_HASH_LEN], zero[32] = {0};
	uint8_t tip_hash[LB_HASH_LEN];
	uint8_t *body = NULL;
	uint8_t(*ids)[LB_HASH_LEN] = lb_malloc((size_t)LB_BLOCK_MAX_TXS * LB_HASH_LEN);
	bool *sig_ok = lb_malloc(LB_BLOCK_MAX_TXS);
	size_t blen;
	uint64_t t;
	json_t *members = json_object_get(g, "members");
	bool consortium = json_is_array(members) && json_array_size(members) > 0;
	struct lb_state s;
	int rc;
	if (!h || !prev || !ids || !sig_ok) {
		lb_free(h);
		lb_free(prev);
		lb_free(ids);
		lb_free(sig_ok);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	if ((rc = db_open(&replay, ":memory:", chain, false, em)))
		goto out_free;
	state_init(&s, NULL, &replay);
	if ((rc = genesis_state(g, chain, &s, &t, em)) || (rc = state_app_hash(&s, zero, app)))
		goto out;
	genesis_header(prev, chain, t, app);
	lb_header_hash(prev, prev_hash);
	if ((rc = db_block(&dbs[chain], 0, h, NULL, NULL, em)))
		goto out;
	lb_header_hash(h, hash);
	if (memcmp(hash, prev_hash, LB_HASH_LEN)) {
		rc = fail(em, chain, 0, "genesis block does not match genesis.json");
		goto out;
	}
	if ((rc = db_exec(&replay, "BEGIN", em)) || (rc = state_flush(&s, em)) ||
	    (rc = replay_block(&replay, &dbs[chain], 0, em)) ||
	    (rc = db_exec(&replay, "COMMIT", em)))
		goto out;
	state_clear(&s);
	/* one view of this chain (blocks and state) for the whole check */
	struct lb_block_header tip;
	if ((rc = db_exec(&dbs[chain], "BEGIN", em)))
		goto out;
	if ((rc = db_tip(&dbs[chain], &tip, tip_hash, em)))
		goto out;
	for (uint64_t height = 1; height <= tip.height; height++) {
		if ((rc = db_block(&dbs[chain], height, h, &body, &blen, em)))
			goto out;
		lb_header_hash(h, hash);
		if (h->chain != chain || h->height != height) {
			rc = fail(em, chain, height, "stored under the wrong chain or height");
			goto out;
		}
		if (memcmp(h->prev_hash, prev_hash, LB_HASH_LEN)) {
			rc = fail(em, chain, height, "previous-hash link is broken");
			goto out;
		}
		if (h->time_ms < prev->time_ms) {
			rc = fail(em, chain, height, "time goes backwards");
			goto out;
		}
		/* unsigned blocks belong to consortium ordering only, where members' checkpoints
		 * vouch for them; a solo network's blocks must carry the node's signature */
		if (lb_header_is_unsigned(h) && !consortium) {
			rc = fail(em, chain, height,
				  "block is unsigned, but genesis lists no consortium members");
			goto out;
		}
		if (!lb_header_is_unsigned(h) &&
		    !lb_sig_is_valid(h->sig, hash, LB_HASH_LEN, h->proposer)) {
			rc = fail(em, chain, height, "proposer signature is invalid");
			goto out;
		}
		if ((rc = check_anchors(dbs, h, em)))
			goto out;
		if (h->tx_count > LB_BLOCK_MAX_TXS) {
			rc = fail(em, chain, height, "block holds more txs than a block may");
			goto out;
		}
		if ((rc = block_sigs(body, blen, h->tx_count, network, sig_ok))) {
			lb_errf(em, rc, "out of memory checking the signatures of %s block %llu",
				lb_chain_name(chain), (unsigned long long)height);
			goto out;
		}
		struct lb_dec d;
		lb_dec_init(&d, body, blen, "block body", em);
		for (uint64_t i = 0; i < h->tx_count; i++) {
			const uint8_t *p;
			size_t n;
			struct lb_tx tx;
			struct lb_errmsg e;
			lb_errclear(&e);
			if (lb_dec_bytes(&d, "tx", LB_TX_MAX_BYTES, &p, &n)) {
				rc = fail(em, chain, height, "block body is malformed");
				goto out;
			}
			lb_hash(ids[i], p, n);
			int code = lb_tx_decode(&tx, p, n, &e);
			if (!code && !sig_ok[i])
				code = LB_EBADSIG;
			if (!code)
				code = ledger_apply_tx(&s, chain, &tx, height, h->time_ms, &e);
			if ((code == LB_OK) != lb_header_tx_is_valid(h, i)) {
				char what[600];
				snprintf(what, sizeof what,
					 "tx %llu is marked %s but replaying it %s",
					 (unsigned long long)i,
					 lb_header_tx_is_valid(h, i) ? "valid" : "invalid",
					 code ? e.text : "succeeds");
				rc = fail(em, chain, height, what);
				goto out;
			}
		}
		if (lb_dec_end(&d)) {
			rc = fail(em, chain, height, "block body has trailing bytes");
			goto out;
		}
		lb_merkle_root((const uint8_t(*)[LB_HASH_LEN])ids, (size_t)h->tx_count, app);
		if (memcmp(app, h->tx_root, LB_HASH_LEN)) {
			rc = fail(em, chain, height, "Merkle root of the txs differs from the header");
			goto out;
		}
		if ((rc = state_app_hash(&s, prev->app_hash, app)))
			goto out;
		if (memcmp(app, h->app_hash, LB_HASH_LEN)) {
			rc = fail(em, chain, height,
				  "app hash differs: replaying the txs gives another state");
			goto out;
		}
		if ((rc = db_exec(&replay, "BEGIN", em)) || (rc = state_flush(&s, em)) ||
		    (rc = replay_block(&replay, &dbs[chain], height, em)) ||
		    (rc = db_exec(&replay, "COMMIT", em)))
			goto out;
		state_clear(&s);
		lb_free(body);
		body = NULL;
		*prev = *h;
		memcpy(prev_hash, hash, LB_HASH_LEN);
		if (progress && (height % 500 == 0 || height == tip.height))
			progress(chain, height, tip.height, ctx);
	}
	if (progress && tip.height == 0)
		progress(chain, 0, 0, ctx);
	rc = compare_state(&dbs[chain], &replay, tip.height, em);
out:
	if (dbs[chain].db && !sqlite3_get_autocommit(dbs[chain].db))
		db_exec(&dbs[chain], "COMMIT", NULL);
	state_release(&s);
	db_close(&replay);
out_free:
	lb_free(body);
	lb_free(ids);
	lb_free(sig_ok);
	lb_free(h);
	lb_free(prev);
	return rc;
}

int lb_ledger_verify_home(const char *home,
			  void (*progress)(int chain, uint64_t height, uint64_t top, void *ctx),
			  void *ctx, struct lb_errmsg *em)
{
	json_t *g = NULL;
	uint8_t network[LB_HASH_LEN];
	struct chain_db dbs[LB_CHAIN_COUNT];
	int rc;
	memset(dbs, 0, sizeof dbs);
	if ((rc = lb_crypto_init()) || (rc = lb_ledger_register_core_types()))
		return lb_errf(em, rc, "initialisation failed");
	if ((rc = genesis_load(home, &g, network, em)))
		return rc;
	for (int i = 0; i < LB_CHAIN_COUNT && !rc; i++) {
		char path[4300];
		snprintf(path, sizeof path, "%s/chains/%s.db", home, lb_chain_name(i));
		if (access(path, R_OK) != 0)
			rc = lb_errf(em, LB_ENOTFOUND, "%s is missing", path);
		else
			rc = db_open(&dbs[i], path, i, false, em);
	}
	for (int i = 0; i < LB_CHAIN_COUNT && !rc; i++)
		rc = verify_chain(dbs, i, g, network, progress, ctx, em);
	for (int i = 0; i < LB_CHAIN_COUNT; i++)
		db_close(&dbs[i]);
	json_decref(g);
	return rc;
}
