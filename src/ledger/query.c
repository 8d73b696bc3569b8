/*
 * Read side of the ledger: JSON views for the API (status, chains, blocks, txs, accounts)
 * and binary inclusion proofs, optionally continued to another chain's anchor.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "leben/codec.h"
#include "ledger/ledger_int.h"

static json_t *header_json(const struct lb_block_header *h, const uint8_t hash[LB_HASH_LEN])
{
	json_t *o = json_object(), *anchors = json_object();
	json_object_set_new(o, "chain", json_string(lb_chain_name(h->chain)));
	json_object_set_new(o, "height", json_integer((json_int_t)h->height));
	json_object_set_new(o, "hash", ledger_hex_json(hash, LB_HASH_LEN));
	json_object_set_new(o, "time_ms", json_integer((json_int_t)h->time_ms));
	json_object_set_new(o, "prev_hash", ledger_hex_json(h->prev_hash, LB_HASH_LEN));
	json_object_set_new(o, "tx_root", ledger_hex_json(h->tx_root, LB_HASH_LEN));
	json_object_set_new(o, "app_hash", ledger_hex_json(h->app_hash, LB_HASH_LEN));
	for (int other = 0; other < LB_CHAIN_COUNT; other++) {
		int k = lb_anchor_index(h->chain, other);
		if (k < 0)
			continue;
		json_object_set_new(anchors, lb_chain_name(other),
				    json_pack("{s:I,s:o}", "height",
					      (json_int_t)h->anchors[k].height, "hash",
					      ledger_hex_json(h->anchors[k].hash, LB_HASH_LEN)));
	}
	json_object_set_new(o, "anchors", anchors);
	json_object_set_new(o, "tx_count", json_integer((json_int_t)h->tx_count));
	json_object_set_new(o, "proposer", ledger_hex_json(h->proposer, LB_PUBKEY_LEN));
	json_object_set_new(o, "signature", ledger_hex_json(h->sig, LB_SIG_LEN));
	return o;
}

static json_t *tx_fields_json(const struct lb_tx *tx)
{
	const struct lb_txtype *t = lb_txtype_find(tx->type);
	uint8_t a[LB_ADDR_LEN];
	char addr[LB_ADDR_TEXT_LEN + 1];
	lb_addr_from_pubkey(a, tx->sender);
	lb_addr_encode(addr, a);
	json_t *o = json_object();
	json_object_set_new(o, "id", ledger_hex_json(tx->id, LB_HASH_LEN));
	json_object_set_new(o, "chain", json_string(lb_chain_name(tx->chain)));
	json_object_set_new(o, "type", json_string(t ? t->name : "unknown"));
	json_object_set_new(o, "sender", json_string(addr));
	json_object_set_new(o, "nonce", json_integer((json_int_t)tx->nonce));
	json_object_set_new(o, "fee", json_integer((json_int_t)tx->fee));
	if (tx->expires_ms)
		json_object_set_new(o, "expires_ms", json_integer((json_int_t)tx->expires_ms));
	json_t *p = t && t->to_json ? t->to_json(tx) : NULL;
	json_object_set_new(o, "payload", p ? p : json_null());
	return o;
}

int lb_ledger_status_json(struct lb_ledger *l, json_t **out)
{
	json_t *o = json_object(), *chains = json_object();
	json_object_set_new(o, "network_id", ledger_hex_json(l->network, LB_HASH_LEN));
	if (l->has_proposer)
		json_object_set_new(o, "node_key", ledger_hex_json(l->proposer.pk, LB_PUBKEY_LEN));
	for (int i = 0; i < LB_CHAIN_COUNT; i++) {
		struct chain *c = &l->chains[i];
		pthread_mutex_lock(&c->mu);
		json_object_set_new(chains, lb_chain_name(i),
				    json_pack("{s:I,s:I,s:o}", "height",
					      (json_int_t)c->tip.height, "pending",
					      (json_int_t)c->mp.count, "hash",
					      ledger_hex_json(c->tip_hash, LB_HASH_LEN)));
		pthread_mutex_unlock(&c->mu);
	}
	json_object_set_new(o, "chains", chains);
	struct lb_state *s = &l->chains[LB_CHAIN_SETTLEMENT].mp.overlay;
	uint64_t fee = 0;
	/* the minimum fee of every settlement type that has its own (genesis fees.types, or a
	 * fee-exempt type such as issue: 0), so that clients charge what the chain asks */
	json_t *types = json_object();
	pthread_mutex_lock(&l->chains[LB_CHAIN_SETTLEMENT].mu);
	lb_state_get_u64(s, "param", "fee.default", 11, 0, &fee);
	for (uint32_t id = 0x0100; id < 0x0200; id++) {
		const struct lb_txtype *t = lb_txtype_find(id);
		uint8_t tk[4];
		uint64_t tf;
		if (!t || t->chain != LB_CHAIN_SETTLEMENT)
			continue;
		ledger_fee_key(id, tk);
		if (lb_state_get_u64(s, "fee", tk, 4, UINT64_MAX, &tf) == LB_OK && tf != UINT64_MAX)
			json_object_set_new(types, t->name, json_integer((json_int_t)tf));
	}
	pthread_mutex_unlock(&l->chains[LB_CHAIN_SETTLEMENT].mu);
	json_object_set_new(o, "fees", json_pack("{s:I,s:o}", "default", (json_int_t)fee, "types",
						 types));
	*out = o;
	return LB_OK;
}

int lb_ledger_chains_json(struct lb_ledger *l, json_t **out)
{
	json_t *a = json_array();
	for (int i = 0; i < LB_CHAIN_COUNT; i++) {
		struct chain *c = &l->chains[i];
		pthread_mutex_lock(&c->mu);
		json_t *h = header_json(&c->tip, c->tip_hash);
		pthread_mutex_unlock(&c->mu);
		json_array_append_new(a, json_pack("{s:s,s:I,s:o}", "name", lb_chain_name(i),
						   "height", (json_int_t)c->tip.height, "latest", h));
	}
	*out = json_pack("{s:o,s:o}", "network_id", ledger_hex_json(l->network, LB_HASH_LEN), "chains", a);
	return LB_OK;
}

int lb_ledger_block_json(struct lb_ledger *l, int chain, uint64_t height, json_t **out,
			 struct lb_errmsg *em)
{
	if (chain < 0 || chain >= LB_CHAIN_COUNT)
		return lb_errf(em, LB_ENOTFOUND, "no such chain");
	struct chain *c = &l->chains[chain];
	struct lb_block_header *h = lb_malloc(sizeof *h);
	uint8_t *body = NULL, hash[LB_HASH_LEN];
	size_t blen = 0;
	if (!h)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	pthread_mutex_lock(&c->mu);
	if (height == UINT64_MAX)
		height = c->tip.height;
	int rc = db_block(&c->db, height, h, &body, &blen, em);
	pthread_mutex_unlock(&c->mu);
	if (rc) {
		lb_free(h);
		return rc;
	}
	lb_header_hash(h, hash);
	json_t *o = header_json(h, hash), *txs = json_array();
	struct lb_dec d;
	lb_dec_init(&d, body, blen, "block body", em);
	for (uint64_t i = 0; i < h->tx_count && !rc; i++) {
		const uint8_t *p;
		size_t n;
		struct lb_tx tx;
		if ((rc = lb_dec_bytes(&d, "tx", LB_TX_MAX_BYTES, &p, &n)))
			break;
		json_t *t;
		if (lb_tx_decode(&tx, p, n, NULL) == LB_OK) {
			t = tx_fields_json(&tx);
		} else {
			uint8_t id[LB_HASH_LEN];
			lb_hash(id, p, n);
			t = json_pack("{s:o}", "id", ledger_hex_json(id, LB_HASH_LEN));
		}
		json_object_set_new(t, "valid", json_boolean(lb_header_tx_is_valid(h, i)));
		json_array_append_new(txs, t);
	}
	lb_free(body);
	lb_free(h);
	if (rc) {
		json_decref(o);
		json_decref(txs);
		return lb_errf(em, LB_ECORRUPT, "%s block %llu: stored body is corrupt",
			       lb_chain_name(chain), (unsigned long long)height);
	}
	json_object_set_new(o, "txs", txs);
	*out = o;
	return LB_OK;
}

/* Find a tx: committed location (chain, txloc) or pending raw copy. Chain lock not held. */
static int find_tx(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], int *chain,
		   struct txloc *loc, uint8_t **raw, size_t *len)
{
	for (int i = 0; i < LB_CHAIN_COUNT; i++) {
		struct chain *c = &l->chains[i];
		pthread_mutex_lock(&c->mu);
		int rc = db_txloc(&c->db, id, loc);
		struct pending *p = rc ? mempool_find(&c->mp, id) : NULL;
		if (p && raw && (*raw = lb_malloc(p->len))) {
			memcpy(*raw, p->raw, p->len);
			*len = p->len;
		}
		pthread_mutex_unlock(&c->mu);
		if (rc == LB_OK) {
			*chain = i;
			return LB_OK;
		}
		if (p) {
			*chain = i;
			return LB_EBUSY; /* pending */
		}
	}
	return LB_ENOTFOUND;
}

/* Raw bytes of tx idx of a block body; borrowed from body. */
static int body_tx(const uint8_t *body, size_t blen, uint64_t idx, const uint8_t **p,
		   size_t *n)
{
	struct lb_dec d;
	lb_dec_init(&d, body, blen, "block body", NULL);
	for (uint64_t i = 0; i <= idx; i++)
		if (lb_dec_bytes(&d, "tx", LB_TX_MAX_BYTES, p, n))
			return LB_ECORRUPT;
	return LB_OK;
}

int lb_ledger_tx_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
		      struct lb_errmsg *em)
{
	int chain;
	struct txloc loc;
	uint8_t *raw = NULL;
	size_t len = 0;
	int rc = find_tx(l, id, &chain, &loc, &raw, &len);
	if (rc == LB_ENOTFOUND) {
		char hex[2 * LB_HASH_LEN + 1];
		lb_hex_encode(hex, id, LB_HASH_LEN);
		return lb_errf(em, LB_ENOTFOUND,
			       "tx %s is neither committed nor waiting on this node", hex);
	}
	struct lb_tx tx;
	if (rc == LB_EBUSY) {
		if (!raw || lb_tx_decode(&tx, raw, len, NULL)) {
			lb_free(raw);
			return lb_errf(em, LB_ENOMEM, "out of memory");
		}
		json_t *o = tx_fields_json(&tx);
		json_object_set_new(o, "status", json_string("pending"));
		lb_free(raw);
		*out = o;
		return LB_OK;
	}
	struct chain *c = &l->chains[chain];
	struct lb_block_header *h = lb_malloc(sizeof *h);
	uint8_t *body = NULL;
	size_t blen;
	if (!h)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	pthread_mutex_lock(&c->mu);
	rc = db_block(&c->db, loc.height, h, &body, &blen, em);
	pthread_mutex_unlock(&c->mu);
	const uint8_t *p;
	size_t n;
	if (!rc && (rc = body_tx(body, blen, loc.index, &p, &n)) == LB_OK &&
	    lb_tx_decode(&tx, p, n, NULL) == LB_OK) {
		json_t *o = tx_fields_json(&tx);
		json_object_set_new(o, "status", json_string(loc.valid ? "committed" : "invalid"));
		json_object_set_new(o, "height", json_integer((json_int_t)loc.height));
		json_object_set_new(o, "index", json_integer(loc.index));
		if (!loc.valid)
			json_object_set_new(o, "error",
					    json_pack("{s:s,s:s}", "code", lb_errname(loc.code),
						      "message", loc.message));
		struct lb_buf proof;
		lb_buf_init(&proof, 1 << 20);
		if (lb_ledger_proof(l, id, -1, &proof, NULL) == LB_OK) {
			char *hx = lb_malloc(2 * proof.len + 1);
			if (hx) {
				lb_hex_encode(hx, proof.data, proof.len);
				json_object_set_new(o, "proof", json_string(hx));
				lb_free(hx);
			}
		}
		lb_buf_release(&proof);
		*out = o;
	} else if (!rc) {
		rc = lb_errf(em, LB_ECORRUPT, "stored block %llu is corrupt",
			     (unsigned long long)loc.height);
	}
	lb_free(body);
	lb_free(h);
	return rc;
}

int lb_ledger_account_json(struct lb_ledger *l, const uint8_t addr[LB_ADDR_LEN], json_t **out,
			   struct lb_errmsg *em)
{
	char text[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(text, addr);
	json_t *o = json_object(), *chains = json_object();
	json_object_set_new(o, "address", json_string(text));
	for (int i = 0; i < LB_CHAIN_COUNT; i++) {
		struct chain *c = &l->chains[i];
		uint64_t committed = 0, next = 0;
		struct lb_state base;
		chain_lock_view(c);
		state_init(&base, NULL, &c->db);
		lb_state_get_u64(&base, "nonce", addr, LB_ADDR_LEN, 0, &committed);
		lb_state_get_u64(&c->mp.overlay, "nonce", addr, LB_ADDR_LEN, 0, &next);
		if (i == LB_CHAIN_SETTLEMENT) {
			uint64_t asc = 0, csc = 0, partner = 0;
			acct_balances(&base, addr, &asc, &csc);
			lb_state_get_u64(&base, "partner", addr, LB_ADDR_LEN, 0, &partner);
			json_object_set_new(o, "balances",
					    json_pack("{s:I,s:I}", "asc", (json_int_t)asc, "csc",
						      (json_int_t)csc));
			json_object_set_new(o, "credit_partner", json_boolean(partner));
		} else if (i == LB_CHAIN_BUSINESS) {
			const uint8_t *v;
			size_t n;
			json_t *id = json_null();
			if (lb_state_get(&base, "identity", addr, LB_ADDR_LEN, &v, &n) == LB_OK) {
				struct lb_tx fake = {.type = LB_TX_IDENTITY_REGISTER, .payload = v,
						     .payload_len = n};
				const struct lb_txtype *t = lb_txtype_find(LB_TX_IDENTITY_REGISTER);
				json_t *j = t && t->to_json ? t->to_json(&fake) : NULL;
				if (j)
					id = j;
			}
			json_object_set_new(o, "identity", id);
		}
		state_release(&base);
		chain_unlock_view(c);
		json_object_set_new(chains, lb_chain_name(i),
				    json_pack("{s:I,s:I}", "nonce", (json_int_t)committed,
					      "next_nonce", (json_int_t)next));
	}
	json_object_set_new(o, "chains", chains);
	*out = o;
	(void)em;
	return LB_OK;
}

uint64_t lb_ledger_next_nonce(struct lb_ledger *l, int chain, const uint8_t addr[LB_ADDR_LEN])
{
	uint64_t n = 0;
	struct chain *c = &l->chains[chain];
	pthread_mutex_lock(&c->mu);
	lb_state_get_u64(&c->mp.overlay, "nonce", addr, LB_ADDR_LEN, 0, &n);
	pthread_mutex_unlock(&c->mu);
	return n;
}

int lb_ledger_state_view(struct lb_ledger *l, int chain,
			 int (*fn)(struct lb_state *s, void *ctx), void *ctx)
{
	if (chain < 0 || chain >= LB_CHAIN_COUNT)
		return LB_EINVALID;
	struct chain *c = &l->chains[chain];
	struct lb_state base;
	chain_lock_view(c);
	state_init(&base, NULL, &c->db);
	int rc = fn(&base, ctx);
	state_release(&base);
	chain_unlock_view(c);
	return rc;
}

uint64_t lb_ledger_height(struct lb_ledger *l, int chain)
{
	struct chain *c = &l->chains[chain];
	pthread_mutex_lock(&c->mu);
	uint64_t h = c->tip.height;
	pthread_mutex_unlock(&c->mu);
	return h;
}

size_t lb_ledger_pending(struct lb_ledger *l, int chain)
{
	struct chain *c = &l->chains[chain];
	pthread_mutex_lock(&c->mu);
	size_t n = c->mp.count;
	pthread_mutex_unlock(&c->mu);
	return n;
}

int lb_ledger_state_read(struct lb_ledger *l, int chain, const char *ns, const void *key,
			 size_t klen, struct lb_buf *out, struct lb_errmsg *em)
{
	if (chain < 0 || chain >= LB_CHAIN_COUNT)
		return lb_errf(em, LB_ENOTFOUND, "no such chain");
	struct chain *c = &l->chains[chain];
	struct lb_state base;
	const uint8_t *v;
	size_t n;
	lb_buf_reset(out);
	pthread_mutex_lock(&c->mu);
	state_init(&base, NULL, &c->db);
	int rc = lb_state_get(&base, ns, key, klen, &v, &n);
	if (!rc)
		rc = lb_buf_add(out, v, n);
	state_release(&base);
	pthread_mutex_unlock(&c->mu);
	return rc == LB_ENOTFOUND ? rc : rc ? lb_errf(em, rc, "reading %s state failed", ns) : LB_OK;
}

int lb_ledger_block_hashes(struct lb_ledger *l, int chain, uint64_t height,
			   uint8_t hash[LB_HASH_LEN], uint8_t app_hash[LB_HASH_LEN],
			   struct lb_errmsg *em)
{
	if (chain < 0 || chain >= LB_CHAIN_COUNT)
		return lb_errf(em, LB_ENOTFOUND, "no such chain");
	struct chain *c = &l->chains[chain];
	struct lb_block_header *h = lb_malloc(sizeof *h);
	if (!h)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	pthread_mutex_lock(&c->mu);
	int rc = height > c->tip.height ? LB_ENOTFOUND : db_block(&c->db, height, h, NULL, NULL, em);
	pthread_mutex_unlock(&c->mu);
	if (!rc) {
		if (hash)
			lb_header_hash(h, hash);
		if (app_hash)
			memcpy(app_hash, h->app_hash, LB_HASH_LEN);
	} else if (rc == LB_ENOTFOUND) {
		lb_errf(em, rc, "%s chain has no block %llu yet", lb_chain_name(chain),
			(unsigned long long)height);
	}
	lb_free(h);
	return rc;
}

/* Append a stored header (as length-prefixed bytes) to a proof. */
static int add_header(struct lb_buf *out, struct chain *c, uint64_t height,
		      struct lb_block_header *h, struct lb_errmsg *em)
{
	struct lb_buf hb;
	lb_buf_init(&hb, LB_HEADER_MAX_BYTES);
	int rc = db_block(&c->db, height, h, NULL, NULL, em);
	if (!rc && !(rc = lb_header_encode(&hb, h, true)))
		rc = lb_enc_bytes(out, hb.data, hb.len);
	lb_buf_release(&hb);
	return rc;
}

/* One attempt of lb_ledger_proof; *no_anchor tells that only the anchoring block is missing. */
static int proof_once(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], int anchor_chain,
		      struct lb_buf *out, struct lb_errmsg *em, bool *no_anchor)
{
	int chain;
	struct txloc loc;
	int rc = find_tx(l, id, &chain, &loc, NULL, NULL);
	if (rc == LB_EBUSY)
		return lb_errf(em, LB_ENOTFOUND, "the tx is not committed yet; try again shortly");
	if (rc)
		return lb_errf(em, LB_ENOTFOUND, "no committed tx with this id on this node");
	if (anchor_chain == chain)
		return lb_errf(em, LB_EINVALID, "a proof is anchored in one of the other two chains");
	struct chain *c = &l->chains[chain];
	struct lb_block_header *h = lb_malloc(sizeof *h);
	uint8_t *body = NULL, (*ids)[LB_HASH_LEN] = NULL, path[64][LB_HASH_LEN];
	size_t blen = 0, plen = 0;
	if (!h)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	pthread_mutex_lock(&c->mu);
	rc = db_block(&c->db, loc.height, h, &body, &blen, em);
	pthread_mutex_unlock(&c->mu);
	if (rc)
		goto out;
	ids = lb_malloc((size_t)(h->tx_count ? h->tx_count : 1) * LB_HASH_LEN);
	if (!ids) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	struct lb_dec d;
	lb_dec_init(&d, body, blen, "block body", em);
	for (uint64_t i = 0; i < h->tx_count; i++) {
		const uint8_t *p;
		size_t n;
		if ((rc = lb_dec_bytes(&d, "tx", LB_TX_MAX_BYTES, &p, &n)))
			goto out;
		lb_hash(ids[i], p, n);
	}
	lb_merkle_path((const uint8_t(*)[LB_HASH_LEN])ids, (size_t)h->tx_count, loc.index, path,
		       &plen);
	struct lb_buf hb;
	lb_buf_init(&hb, LB_HEADER_MAX_BYTES);
	if ((rc = lb_enc_u8(out, 1)) || (rc = lb_header_encode(&hb, h, true)) ||
	    (rc = lb_enc_bytes(out, hb.data, hb.len)) || (rc = lb_enc_uvar(out, loc.index)) ||
	    (rc = lb_enc_fixed(out, id, LB_HASH_LEN)) || (rc = lb_enc_uvar(out, plen))) {
		lb_buf_release(&hb);
		goto out;
	}
	lb_buf_release(&hb);
	for (size_t i = 0; i < plen && !rc; i++)
		rc = lb_enc_fixed(out, path[i], LB_HASH_LEN);
	if (rc)
		goto out;
	if (anchor_chain < 0) {
		rc = lb_enc_uvar(out, 0);
		goto out;
	}
	/* first block of anchor_chain whose anchor of `chain` is at or past the tx's block, among
	 * those the chain has published (a block written but not yet its tip would give a proof
	 * that a tx citing it cannot use yet: "which this chain does not have yet") */
	struct chain *a = &l->chains[anchor_chain];
	int col = lb_anchor_index(anchor_chain, chain);
	char sql[192];
	snprintf(sql, sizeof sql,
		 "SELECT height, anchor%d FROM blocks WHERE anchor%d >= ? AND height <= ? "
		 "ORDER BY height LIMIT 1",
		 col, col);
	sqlite3_stmt *st;
	uint64_t ah = 0, anchored = 0;
	pthread_mutex_lock(&a->mu);
	rc = sqlite3_prepare_v2(a->db.db, sql, -1, &st, NULL) == SQLITE_OK ? LB_OK : LB_EIO;
	if (!rc) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)loc.height);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)a->tip.height);
		if (sqlite3_step(st) == SQLITE_ROW) {
			ah = (uint64_t)sqlite3_column_int64(st, 0);
			anchored = (uint64_t)sqlite3_column_int64(st, 1);
		} else {
			*no_anchor = true;
			rc = lb_errf(em, LB_ENOTFOUND,
				     "no %s block anchors %s block %llu yet; try again after the "
				     "next %s block",
				     lb_chain_name(anchor_chain), lb_chain_name(chain),
				     (unsigned long long)loc.height, lb_chain_name(anchor_chain));
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&a->mu);
	if (rc)
		goto out;
	if ((rc = lb_enc_uvar(out, anchored - loc.height + 1)))
		goto out;
	pthread_mutex_lock(&c->mu);
	for (uint64_t hh = loc.height + 1; hh <= anchored && !rc; hh++)
		rc = add_header(out, c, hh, h, em);
	pthread_mutex_unlock(&c->mu);
	if (rc)
		goto out;
	pthread_mutex_lock(&a->mu);
	rc = add_header(out, a, ah, h, em);
	pthread_mutex_unlock(&a->mu);
out:
	lb_free(ids);
	lb_free(body);
	lb_free(h);
	return rc;
}

int lb_ledger_proof(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], int anchor_chain,
		    struct lb_buf *out, struct lb_errmsg *em)
{
	/* the anchoring block is made on demand: ask the orderer (again every second, in case a
	 * request was overtaken by a block that did not anchor yet) and poll */
	uint64_t start = lb_mono_ns(), asked = 0;
	size_t len0 = out->len;
	for (;;) {
		bool no_anchor = false;
		int rc = proof_once(l, id, anchor_chain, out, em, &no_anchor);
		if (!no_anchor || !l->opt.on_anchor_wanted)
			return rc;
		uint64_t now = lb_mono_ns();
		if (now - start >= (uint64_t)LB_ANCHOR_WAIT_MS * 1000000u)
			return lb_errwrap(em, "this node asked for an anchoring %s block %u s ago and "
					      "none was made (is ordering available? see 'leben query "
					      "status'): ",
					  lb_chain_name(anchor_chain), LB_ANCHOR_WAIT_MS / 1000);
		if (!asked || now - asked >= 1000000000u) {
			l->opt.on_anchor_wanted(l->opt.on_anchor_wanted_ctx, anchor_chain);
			asked = now;
		}
		out->len = len0;
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

int lb_ledger_tx_raw(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], int *chain,
		     uint8_t **raw, size_t *len)
{
	struct txloc loc;
	int rc = find_tx(l, id, chain, &loc, NULL, NULL);
	if (rc)
		return rc == LB_EBUSY ? LB_ENOTFOUND : rc;
	struct chain *c = &l->chains[*chain];
	struct lb_block_header *h = lb_malloc(sizeof *h);
	uint8_t *body = NULL;
	size_t blen;
	const uint8_t *p;
	size_t n;
	if (!h)
		return LB_ENOMEM;
	pthread_mutex_lock(&c->mu);
	rc = db_block(&c->db, loc.height, h, &body, &blen, NULL);
	pthread_mutex_unlock(&c->mu);
	if (!rc && !(rc = body_tx(body, blen, loc.index, &p, &n))) {
		*raw = lb_malloc(n);
		if (!*raw)
			rc = LB_ENOMEM;
		else {
			memcpy(*raw, p, n);
			*len = n;
		}
	}
	lb_free(body);
	lb_free(h);
	return rc;
}

/* ---- the node key for pairwise secrets (leben study across nodes) ------------------------- */

int lb_ledger_node_pk(struct lb_ledger *l, uint8_t pk[LB_PUBKEY_LEN], struct lb_errmsg *em)
{
	if (!l->has_proposer)
		return lb_errf(em, LB_EUNAVAILABLE, "this node runs without a node key");
	memcpy(pk, l->proposer.pk, LB_PUBKEY_LEN);
	return LB_OK;
}

/* Sign a tx with the node key (next nonce, the chain's minimum fee for its type) and submit it
 * like POST /v1/txs. Another signer of the node key (an operator's CLI) may take the nonce in
 * between: then sign again with the next one, at most three times. */
int lb_ledger_node_submit(struct lb_ledger *l, int chain, uint32_t type, const uint8_t *payload,
			  size_t len, uint8_t id[LB_HASH_LEN], struct lb_errmsg *em)
{
	uint8_t addr[LB_ADDR_LEN], tk[4];
	uint64_t fee = 0;
	if (!l->has_proposer)
		return lb_errf(em, LB_EUNAVAILABLE, "this node runs without a node key");
	if (chain < 0 || chain >= LB_CHAIN_COUNT)
		return lb_errf(em, LB_EINVALID, "no chain %d", chain);
	lb_addr_from_pubkey(addr, l->proposer.pk);
	if (chain == LB_CHAIN_SETTLEMENT) {
		struct chain *c = &l->chains[chain];
		ledger_fee_key(type, tk);
		pthread_mutex_lock(&c->mu);
		lb_state_get_u64(&c->mp.overlay, "param", "fee.default", 11, 0, &fee);
		lb_state_get_u64(&c->mp.overlay, "fee", tk, 4, fee, &fee);
		pthread_mutex_unlock(&c->mu);
	}
	struct lb_tx t = {.version = LB_TX_VERSION, .chain = (uint8_t)chain, .type = type, .fee = fee,
			  .payload = payload, .payload_len = len};
	struct lb_buf raw;
	struct lb_submit_result res;
	int rc = LB_OK;
	memset(&res, 0, sizeof res);
	lb_buf_init(&raw, LB_TX_MAX_BYTES);
	for (int attempt = 0; attempt < 3; attempt++) {
		t.nonce = lb_ledger_next_nonce(l, chain, addr);
		lb_buf_reset(&raw);
		if ((rc = lb_tx_build(&raw, &t, l->network, &l->proposer, id))) {
			lb_errf(em, rc, "the node could not build its %s tx (%s)", lb_chain_name(chain),
				lb_strerror(rc));
			break;
		}
		const uint8_t *raws[1] = {raw.data};
		size_t lens[1] = {raw.len};
		memset(&res, 0, sizeof res);
		if ((rc = lb_ledger_submit(l, 1, raws, lens, &res))) {
			lb_errf(em, rc, "submitting the node's tx failed (%s)", lb_strerror(rc));
			break;
		}
		if ((rc = res.code) != LB_ENONCEUSED)
			break;
	}
	if (rc && res.code)
		lb_errf(em, rc, "%s", res.message);
	lb_buf_release(&raw);
	return rc;
}

int lb_ledger_node_agree(struct lb_ledger *l, const uint8_t peer_pk[LB_PUBKEY_LEN],
			 uint8_t out[32], struct lb_errmsg *em)
{
	uint8_t xsk[32], xpk[32], dh[32];
	crypto_generichash_state h;
	if (!l->has_proposer)
		return lb_errf(em, LB_EUNAVAILABLE, "this node runs without a node key");
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, peer_pk))
		return lb_errf(em, LB_EINVALID, "the peer's node key is not a valid Ed25519 key");
	crypto_sign_ed25519_sk_to_curve25519(xsk, l->proposer.sk);
	int bad = crypto_scalarmult(dh, xsk, xpk);
	sodium_memzero(xsk, sizeof xsk);
	if (bad) {
		sodium_memzero(dh, sizeof dh);
		return lb_errf(em, LB_EINVALID, "the peer's node key gives no shared secret");
	}
	const uint8_t *a = l->proposer.pk, *b = peer_pk;
	if (memcmp(a, b, LB_PUBKEY_LEN) > 0) {
		const uint8_t *t = a;
		a = b;
		b = t;
	}
	crypto_generichash_init(&h, (const uint8_t *)"LEBEN-node-pair-v1", 18, 32);
	crypto_generichash_update(&h, dh, sizeof dh);
	crypto_generichash_update(&h, a, LB_PUBKEY_LEN);
	crypto_generichash_update(&h, b, LB_PUBKEY_LEN);
	crypto_generichash_final(&h, out, 32);
	sodium_memzero(dh, sizeof dh);
	sodium_memzero(&h, sizeof h);
	return LB_OK;
}
