/* Ledger spine: Merkle paths (every leaf of trees of 1..40 leaves verifies, a wrong index,
 * leaf or path does not), header encoding round trip, then a real ledger in a temp home:
 * a transfer moves balances, every refusal has its own code and changes nothing, an
 * inclusion proof verifies offline (also anchored in another chain) and a flipped byte breaks
 * it, and the offline verifier catches an edited state entry and an edited block. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/error.h"
#include "leben/ledger.h"
#include "leben/tx.h"
#include "ledger_fixture.h"

static void test_merkle(void **state)
{
	(void)state;
	static uint8_t ids[40][LB_HASH_LEN], path[64][LB_HASH_LEN];
	uint8_t root[LB_HASH_LEN], other[LB_HASH_LEN], root2[LB_HASH_LEN];
	size_t plen;

	assert_lb_ok(lb_crypto_init());
	for (size_t i = 0; i < 40; i++)
		lb_hash(ids[i], &i, sizeof i);
	lb_hash(other, "other", 5);
	for (size_t n = 1; n <= 40; n++) {
		lb_merkle_root((const uint8_t(*)[LB_HASH_LEN])ids, n, root);
		if (n > 1) {
			/* the root depends on every leaf */
			uint8_t save[LB_HASH_LEN];
			memcpy(save, ids[n - 1], LB_HASH_LEN);
			ids[n - 1][0] ^= 1;
			lb_merkle_root((const uint8_t(*)[LB_HASH_LEN])ids, n, root2);
			memcpy(ids[n - 1], save, LB_HASH_LEN);
			assert_memory_not_equal(root, root2, LB_HASH_LEN);
		}
		for (size_t i = 0; i < n; i++) {
			assert_lb_ok(lb_merkle_path((const uint8_t(*)[LB_HASH_LEN])ids, n, i, path,
						    &plen));
			assert_true(plen <= 6);
			const uint8_t(*cp)[LB_HASH_LEN] = (const uint8_t(*)[LB_HASH_LEN])path;
			if (!lb_merkle_path_is_valid(ids[i], i, n, cp, plen, root))
				fail_msg("n=%zu idx=%zu: path does not verify", n, i);
			assert_false(lb_merkle_path_is_valid(other, i, n, cp, plen, root));
			if (n > 1) {
				assert_false(lb_merkle_path_is_valid(ids[i], (i + 1) % n, n, cp, plen,
								     root));
				assert_false(lb_merkle_path_is_valid(ids[(i + 1) % n], i, n, cp,
								     plen, root));
			}
			if (plen > 0) {
				path[plen - 1][5] ^= 0x10;
				assert_false(lb_merkle_path_is_valid(ids[i], i, n, cp, plen, root));
				path[plen - 1][5] ^= 0x10;
				assert_false(lb_merkle_path_is_valid(ids[i], i, n, cp, plen - 1, root));
			}
			assert_false(lb_merkle_path_is_valid(ids[i], i, n, cp, plen, other));
		}
	}
}

static void test_header_roundtrip(void **state)
{
	(void)state;
	static struct lb_block_header h, g;
	struct lb_keypair kp;
	struct lb_buf b, b2;
	uint8_t hash[LB_HASH_LEN], hash2[LB_HASH_LEN];

	assert_lb_ok(lb_crypto_init());
	lb_keypair_generate(&kp);
	for (int variant = 0; variant < 3; variant++) {
		memset(&h, 0, sizeof h);
		h.version = 1;
		h.chain = (uint8_t)variant;
		h.height = variant == 0 ? 0 : 1000000 + (uint64_t)variant;
		h.time_ms = 1700000000000ULL + (uint64_t)variant;
		memset(h.prev_hash, variant ? 0x11 : 0, LB_HASH_LEN);
		memset(h.tx_root, 0x22, LB_HASH_LEN);
		memset(h.app_hash, 0x33, LB_HASH_LEN);
		h.anchors[0].height = 7;
		memset(h.anchors[0].hash, 0x44, LB_HASH_LEN);
		h.anchors[1].height = 9;
		memset(h.anchors[1].hash, 0x55, LB_HASH_LEN);
		h.tx_count = variant == 2 ? 20 : 3;
		if (variant == 2) {
			h.bitmap_len = 3;
			h.validity[0] = 0x81;
			h.validity[2] = 0x08; /* tx 19 */
		}
		memcpy(h.proposer, kp.pk, LB_PUBKEY_LEN);
		lb_header_hash(&h, hash);
		lb_sign(h.sig, hash, LB_HASH_LEN, &kp);
		lb_buf_init(&b, LB_HEADER_MAX_BYTES + 1024);
		lb_buf_init(&b2, LB_HEADER_MAX_BYTES + 1024);
		assert_lb_ok(lb_header_encode(&b, &h, true));
		memset(&g, 0xa5, sizeof g);
		assert_lb_ok(lb_header_decode(&g, b.data, b.len, NULL));
		assert_int_equal(g.chain, h.chain);
		assert_true(g.height == h.height && g.time_ms == h.time_ms);
		assert_true(g.tx_count == h.tx_count);
		assert_int_equal(g.bitmap_len, h.bitmap_len);
		assert_memory_equal(g.sig, h.sig, LB_SIG_LEN);
		assert_memory_equal(g.app_hash, h.app_hash, LB_HASH_LEN);
		assert_true(g.anchors[1].height == 9);
		lb_header_hash(&g, hash2);
		assert_memory_equal(hash, hash2, LB_HASH_LEN);
		assert_true(lb_sig_is_valid(g.sig, hash2, LB_HASH_LEN, kp.pk));
		assert_lb_ok(lb_header_encode(&b2, &g, true));
		assert_int_equal(b.len, b2.len);
		assert_memory_equal(b.data, b2.data, b.len);
		if (variant == 2) {
			assert_false(lb_header_tx_is_valid(&g, 0));
			assert_true(lb_header_tx_is_valid(&g, 1));
			assert_false(lb_header_tx_is_valid(&g, 7));
			assert_false(lb_header_tx_is_valid(&g, 19));
			assert_true(lb_header_tx_is_valid(&g, 18));
		} else {
			assert_true(lb_header_tx_is_valid(&g, 0));
		}
		/* truncated or extended input is refused */
		assert_int_not_equal(lb_header_decode(&g, b.data, b.len - 1, NULL), LB_OK);
		assert_lb_ok(lb_buf_addc(&b, 0));
		assert_int_not_equal(lb_header_decode(&g, b.data, b.len, NULL), LB_OK);
		lb_buf_release(&b);
		lb_buf_release(&b2);
	}
	lb_keypair_wipe(&kp);
}

/* ---- a real ledger ------------------------------------------------------------------------ */

struct fx {
	char home[64];
	struct lb_ledger *l;
	struct lb_keypair prop, a, b;
	uint8_t pa[LB_ADDR_LEN], aa[LB_ADDR_LEN], ba[LB_ADDR_LEN];
};

/* fees are paid on settlement only (FX_SETTLEMENT_FEE) */
static void build(struct fx *f, struct lb_buf *out, const struct lb_keypair *kp, int chain,
		  uint32_t type, uint64_t nonce, uint64_t expires, const struct lb_buf *pl,
		  uint8_t id[LB_HASH_LEN])
{
	fx_build(out, f->l, kp, chain, type, nonce, expires, pl->data, pl->len, id);
}

static int submit1(struct fx *f, const uint8_t *raw, size_t len)
{
	struct lb_submit_result r;
	if (fx_submit1(f->l, raw, len, &r) != LB_OK) {
		assert_true(r.message[0] != 0);
		print_message("submit: %s: %s\n", lb_errname(r.code), r.message);
	}
	return r.code;
}

static void commit(struct fx *f, int chain, uint64_t time_ms, size_t n,
		   const uint8_t *const *raws, const size_t *lens, uint64_t want_height)
{
	struct lb_cut c = {chain, time_ms, n, raws, lens};
	struct lb_errmsg em;
	uint64_t h = 0;
	int rc = lb_ledger_commit(f->l, &c, &h, &em);
	if (rc)
		fail_msg("commit: %s", em.text);
	assert_true(h == want_height);
	assert_true(lb_ledger_height(f->l, chain) == want_height);
}

static char *acct_text(struct fx *f, const uint8_t addr[LB_ADDR_LEN])
{
	json_t *o = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_ledger_account_json(f->l, addr, &o, &em));
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	assert_non_null(s);
	return s;
}

static void balances(struct fx *f, const uint8_t addr[LB_ADDR_LEN], json_int_t *asc,
		     json_int_t *csc)
{
	json_t *o = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_ledger_account_json(f->l, addr, &o, &em));
	json_t *b = json_object_get(o, "balances");
	*asc = b ? json_integer_value(json_object_get(b, "asc")) : 0;
	*csc = b ? json_integer_value(json_object_get(b, "csc")) : 0;
	json_decref(o);
}

/* Submit raw and expect code want, with neither account's view changed. */
static void refused(struct fx *f, const uint8_t *raw, size_t len, int want, const char *what)
{
	char *a0 = acct_text(f, f->aa), *b0 = acct_text(f, f->ba);
	size_t pend = lb_ledger_pending(f->l, LB_CHAIN_SETTLEMENT);
	int rc = submit1(f, raw, len);
	if (rc != want)
		fail_msg("%s: got %s, want %s", what, lb_errname(rc), lb_errname(want));
	char *a1 = acct_text(f, f->aa), *b1 = acct_text(f, f->ba);
	assert_string_equal(a0, a1);
	assert_string_equal(b0, b1);
	assert_int_equal(pend, lb_ledger_pending(f->l, LB_CHAIN_SETTLEMENT));
	free(a0);
	free(a1);
	free(b0);
	free(b1);
}

static void open_ledger(struct fx *f)
{
	fx_open(&f->l, f->home, &f->prop);
}

/* One integer from the settlement database (a query returning one row). */
static uint64_t sqlite_u64(const char *home, const char *sql)
{
	char path[512];
	sqlite3 *db;
	sqlite3_stmt *st;
	snprintf(path, sizeof path, "%s/chains/settlement.db", home);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	uint64_t v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int db_blob_flip(const char *home, const char *sql_get, const char *sql_put, int at)
{
	char path[512];
	sqlite3 *db;
	sqlite3_stmt *st;
	uint8_t buf[70000];
	int n = -1;
	snprintf(path, sizeof path, "%s/chains/settlement.db", home);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql_get, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_bytes(st, 0);
		assert_true(n > at && n < (int)sizeof buf);
		memcpy(buf, sqlite3_column_blob(st, 0), (size_t)n);
	}
	sqlite3_finalize(st);
	assert_true(n > 0);
	buf[at] ^= 0x01;
	assert_int_equal(sqlite3_prepare_v2(db, sql_put, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, buf, n, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void test_ledger_flow(void **state)
{
	(void)state;
	static struct fx F;
	struct fx *f = &F;
	struct lb_errmsg em;
	uint8_t seed[LB_SEED_LEN], id0[LB_HASH_LEN], id1[LB_HASH_LEN], idx[LB_HASH_LEN];
	char pt[LB_ADDR_TEXT_LEN + 1], at[LB_ADDR_TEXT_LEN + 1];
	struct lb_buf pl, raw0, raw1, r;
	json_int_t asc, csc;
	int rc;

	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	fx_mkhome(f->home, sizeof f->home, "ledger");
	memset(seed, 1, sizeof seed);
	lb_keypair_from_seed(&f->prop, seed);
	memset(seed, 2, sizeof seed);
	lb_keypair_from_seed(&f->a, seed);
	memset(seed, 3, sizeof seed);
	lb_keypair_from_seed(&f->b, seed);
	lb_addr_from_pubkey(f->pa, f->prop.pk);
	lb_addr_from_pubkey(f->aa, f->a.pk);
	lb_addr_from_pubkey(f->ba, f->b.pk);
	lb_addr_encode(pt, f->pa);
	lb_addr_encode(at, f->aa);
	json_t *g = json_pack("{s:s,s:i,s:[s],s:{s:i,s:i},s:{s:i},s:[{s:s,s:I,s:I}]}",
			      "network", "t", "time_ms", 1, "credit_partners", pt,
			      "convert", "csc", 100, "asc", 1, "fees", "default", 1000, "accounts",
			      "address", at, "asc", (json_int_t)1000000000, "csc",
			      (json_int_t)1000000000);
	fx_genesis(f->home, g);
	open_ledger(f);

	/* a transfer moves balances and burns the fee */
	lb_buf_init(&pl, LB_TX_PAYLOAD_MAX);
	assert_lb_ok(lb_payload_transfer(&pl, f->ba, LB_ASC, 5000, "first"));
	build(f, &raw0, &f->a, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 0, 0, &pl, id0);
	assert_int_equal(submit1(f, raw0.data, raw0.len), LB_OK);
	assert_int_equal(lb_ledger_pending(f->l, LB_CHAIN_SETTLEMENT), 1);
	assert_true(lb_ledger_next_nonce(f->l, LB_CHAIN_SETTLEMENT, f->aa) == 1);
	{
		const uint8_t *raws[1] = {raw0.data};
		size_t lens[1] = {raw0.len};
		commit(f, LB_CHAIN_SETTLEMENT, 1000, 1, raws, lens, 1);
	}
	assert_int_equal(lb_ledger_pending(f->l, LB_CHAIN_SETTLEMENT), 0);
	balances(f, f->aa, &asc, &csc);
	assert_true(asc == 1000000000 - 5000);
	assert_true(csc == 1000000000 - 1000);
	balances(f, f->ba, &asc, &csc);
	assert_true(asc == 5000 && csc == 0);

	/* refusals: each its own code, nothing changed */
	lb_buf_reset(&pl);
	assert_lb_ok(lb_payload_transfer(&pl, f->ba, LB_ASC, 7, NULL));
	build(f, &r, &f->a, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 1, 0, &pl, NULL);
	r.data[r.len - 1] ^= 0x40;
	refused(f, r.data, r.len, LB_EBADSIG, "flipped signature byte");
	r.data[r.len - 1] ^= 0x40;
	r.data[10] ^= 0x01; /* inside the sender key: signed by someone else */
	refused(f, r.data, r.len, LB_EBADSIG, "flipped sender byte");
	lb_buf_release(&r);
	build(f, &r, &f->a, LB_CHAIN_BUSINESS, LB_TX_TRANSFER, 0, 0, &pl, NULL);
	refused(f, r.data, r.len, LB_EWRONGCHAIN, "transfer on business chain");
	lb_buf_release(&r);
	build(f, &r, &f->a, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 0, 0, &pl, NULL);
	refused(f, r.data, r.len, LB_ENONCEUSED, "replayed nonce 0");
	lb_buf_release(&r);
	build(f, &r, &f->a, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 5, 0, &pl, NULL);
	refused(f, r.data, r.len, LB_ENONCEGAP, "nonce 5 after 0");
	lb_buf_release(&r);
	lb_buf_reset(&pl);
	assert_lb_ok(lb_payload_transfer(&pl, f->ba, LB_ASC, 2000000000, NULL));
	build(f, &r, &f->a, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 1, 0, &pl, NULL);
	refused(f, r.data, r.len, LB_EFUNDS, "transfer above balance");
	lb_buf_release(&r);
	lb_buf_reset(&pl);
	assert_lb_ok(lb_payload_transfer(&pl, f->aa, LB_ASC, 1, NULL));
	build(f, &r, &f->b, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 0, 0, &pl, NULL);
	refused(f, r.data, r.len, LB_EFUNDS, "fee without CSC");
	lb_buf_release(&r);
	lb_buf_reset(&pl);
	assert_lb_ok(lb_payload_issue(&pl, f->aa, 1000));
	build(f, &r, &f->a, LB_CHAIN_SETTLEMENT, LB_TX_ISSUE, 1, 0, &pl, NULL);
	refused(f, r.data, r.len, LB_EUNAUTH, "issue by a non-partner");
	lb_buf_release(&r);
	build(f, &r, &f->a, LB_CHAIN_SETTLEMENT, 0x0999, 1, 0, &pl, NULL);
	refused(f, r.data, r.len, LB_EUNKNOWNTYPE, "type 0x0999");
	lb_buf_release(&r);
	lb_buf_reset(&pl);
	assert_lb_ok(lb_payload_transfer(&pl, f->ba, LB_ASC, 7, NULL));
	build(f, &r, &f->a, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 1, 1, &pl, NULL);
	refused(f, r.data, r.len, LB_EEXPIRED, "expires_ms=1");
	refused(f, r.data, r.len - 1, LB_EMALFORMED, "truncated");
	refused(f, r.data, 10, LB_EMALFORMED, "truncated to 10 bytes");
	lb_buf_release(&r);

	/* a valid pending tx, then the same bytes again */
	build(f, &raw1, &f->a, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 1, 0, &pl, id1);
	assert_int_equal(submit1(f, raw1.data, raw1.len), LB_OK);
	refused(f, raw1.data, raw1.len, LB_EDUPLICATE, "same tx twice");
	{
		const uint8_t *raws[1] = {raw1.data};
		size_t lens[1] = {raw1.len};
		commit(f, LB_CHAIN_SETTLEMENT, 2000, 1, raws, lens, 2);
	}
	balances(f, f->ba, &asc, &csc);
	assert_true(asc == 5007);
	rc = submit1(f, raw0.data, raw0.len);
	assert_true(rc == LB_EDUPLICATE || rc == LB_ENONCEUSED);

	/* inclusion proof of tx0 */
	struct lb_buf pf;
	struct lb_proof_info info;
	lb_buf_init(&pf, 1 << 20);
	rc = lb_ledger_proof(f->l, id0, -1, &pf, &em);
	if (rc)
		fail_msg("proof: %s", em.text);
	assert_lb_ok(lb_proof_verify(pf.data, pf.len, f->prop.pk, &info, &em));
	assert_memory_equal(info.tx_id, id0, LB_HASH_LEN);
	assert_int_equal(info.chain, LB_CHAIN_SETTLEMENT);
	assert_true(info.height == 1 && info.index == 0 && info.tx_valid);
	assert_false(info.anchored);
	assert_memory_equal(info.proposer, f->prop.pk, LB_PUBKEY_LEN);
	assert_int_not_equal(lb_proof_verify(pf.data, pf.len, f->a.pk, &info, &em), LB_OK);
	for (size_t i = 0; i < pf.len; i++) {
		pf.data[i] ^= 0x01;
		if (lb_proof_verify(pf.data, pf.len, f->prop.pk, &info, &em) == LB_OK)
			fail_msg("proof with byte %zu of %zu flipped still verifies", i, pf.len);
		pf.data[i] ^= 0x01;
	}

	/* a business block anchors the settlement chain; the proof then reaches it */
	lb_buf_reset(&pl);
	assert_lb_ok(lb_payload_identity(&pl, LB_ROLE_PROVIDER, "Clinic A", NULL, 0));
	build(f, &r, &f->a, LB_CHAIN_BUSINESS, LB_TX_IDENTITY_REGISTER, 0, 0, &pl, idx);
	assert_int_equal(submit1(f, r.data, r.len), LB_OK);
	{
		const uint8_t *raws[1] = {r.data};
		size_t lens[1] = {r.len};
		commit(f, LB_CHAIN_BUSINESS, 3000, 1, raws, lens, 1);
	}
	lb_buf_release(&r);
	lb_buf_reset(&pf);
	rc = lb_ledger_proof(f->l, id0, LB_CHAIN_BUSINESS, &pf, &em);
	if (rc)
		fail_msg("anchored proof: %s", em.text);
	assert_lb_ok(lb_proof_verify(pf.data, pf.len, f->prop.pk, &info, &em));
	assert_memory_equal(info.tx_id, id0, LB_HASH_LEN);
	assert_true(info.anchored);
	assert_int_equal(info.anchor_chain, LB_CHAIN_BUSINESS);
	assert_true(info.anchor_height == 1);
	for (size_t i = 0; i < pf.len; i++) {
		pf.data[i] ^= 0x80;
		if (lb_proof_verify(pf.data, pf.len, f->prop.pk, &info, &em) == LB_OK)
			fail_msg("anchored proof with byte %zu of %zu flipped verifies", i, pf.len);
		pf.data[i] ^= 0x80;
	}
	lb_buf_release(&pf);

	/* the same tx ordered twice (an orderer that leaves duplicates to the ledger): the second
	 * copy is committed invalid (its nonce is used), changes nothing, and the tx keeps its
	 * first location */
	{
		char *before = acct_text(f, f->aa);
		uint64_t dh = lb_ledger_height(f->l, LB_CHAIN_SETTLEMENT) + 1;
		const uint8_t *raws[1] = {raw1.data};
		size_t lens[1] = {raw1.len};
		commit(f, LB_CHAIN_SETTLEMENT, 4000, 1, raws, lens, dh);
		json_t *b = NULL, *tj = NULL;
		assert_lb_ok(lb_ledger_block_json(f->l, LB_CHAIN_SETTLEMENT, dh, &b, &em));
		json_t *t0 = json_array_get(json_object_get(b, "txs"), 0);
		assert_true(json_is_false(json_object_get(t0, "valid")));
		assert_lb_ok(lb_ledger_tx_json(f->l, id1, &tj, &em));
		assert_string_equal(json_string_value(json_object_get(tj, "status")), "committed");
		assert_int_equal(json_integer_value(json_object_get(tj, "height")), 2);
		char *after = acct_text(f, f->aa);
		assert_string_equal(before, after);
		free(before);
		free(after);
		json_decref(b);
		json_decref(tj);
	}

	/* offline verification */
	lb_ledger_close(f->l);
	f->l = NULL;
	rc = lb_ledger_verify_home(f->home, NULL, NULL, &em);
	if (rc)
		fail_msg("verify: %s", em.text);
	/* the start-up check passes an intact home */
	struct lb_ledger_damage dmg;
	rc = lb_ledger_check_home(f->home, 128, &dmg, &em);
	if (rc)
		fail_msg("start-up check: %s", em.text);
	assert_int_equal(dmg.chain, -1);
	db_blob_flip(f->home, "SELECT v FROM state ORDER BY k LIMIT 1",
		     "UPDATE state SET v=?1 WHERE k=(SELECT k FROM state ORDER BY k LIMIT 1)", 0);
	assert_int_equal(lb_ledger_verify_home(f->home, NULL, NULL, &em), LB_ECORRUPT);
	assert_non_null(strstr(em.text, "stored state"));
	db_blob_flip(f->home, "SELECT v FROM state ORDER BY k LIMIT 1",
		     "UPDATE state SET v=?1 WHERE k=(SELECT k FROM state ORDER BY k LIMIT 1)", 0);
	rc = lb_ledger_verify_home(f->home, NULL, NULL, &em);
	if (rc)
		fail_msg("verify after restoring the state: %s", em.text);
	db_blob_flip(f->home, "SELECT body FROM blocks WHERE height=1",
		     "UPDATE blocks SET body=?1 WHERE height=1", 40);
	assert_int_equal(lb_ledger_verify_home(f->home, NULL, NULL, &em), LB_ECORRUPT);
	assert_true(em.text[0] != 0);
	/* the start-up check names the damaged block; a depth that stops above it cannot */
	assert_int_equal(lb_ledger_check_home(f->home, 128, &dmg, &em), LB_ECORRUPT);
	assert_int_equal(dmg.chain, LB_CHAIN_SETTLEMENT);
	assert_true(dmg.height_known);
	assert_int_equal(dmg.height, 1);
	assert_non_null(strstr(dmg.what, "settlement chain, block 1: "));
	assert_non_null(strstr(dmg.what, "Merkle root"));
	assert_string_equal(em.text, dmg.what);
	{
		uint64_t tip = sqlite_u64(f->home, "SELECT max(height) FROM blocks");
		assert_true(tip >= 2);
		assert_lb_ok(lb_ledger_check_home(f->home, tip - 2, &dmg, &em));
		assert_int_equal(lb_ledger_check_home(f->home, tip - 1, &dmg, &em), LB_ECORRUPT);
		assert_int_equal(dmg.height, 1);
	}
	db_blob_flip(f->home, "SELECT body FROM blocks WHERE height=1",
		     "UPDATE blocks SET body=?1 WHERE height=1", 40);
	rc = lb_ledger_verify_home(f->home, NULL, NULL, &em);
	if (rc)
		fail_msg("verify after restoring the body: %s", em.text);
	db_blob_flip(f->home, "SELECT header FROM blocks WHERE height=2",
		     "UPDATE blocks SET header=?1 WHERE height=2", 12);
	assert_int_equal(lb_ledger_verify_home(f->home, NULL, NULL, &em), LB_ECORRUPT);
	assert_int_equal(lb_ledger_check_home(f->home, 128, &dmg, &em), LB_ECORRUPT);
	assert_int_equal(dmg.chain, LB_CHAIN_SETTLEMENT);
	assert_int_equal(dmg.height, 2);
	/* the stored hash column damaged alone (header and body intact) */
	db_blob_flip(f->home, "SELECT header FROM blocks WHERE height=2",
		     "UPDATE blocks SET header=?1 WHERE height=2", 12);
	assert_lb_ok(lb_ledger_check_home(f->home, 128, &dmg, &em));
	db_blob_flip(f->home, "SELECT hash FROM blocks WHERE height=2",
		     "UPDATE blocks SET hash=?1 WHERE height=2", 31);
	assert_int_equal(lb_ledger_check_home(f->home, 128, &dmg, &em), LB_ECORRUPT);
	assert_int_equal(dmg.height, 2);
	assert_non_null(strstr(dmg.what, "does not hash to the block hash"));
	db_blob_flip(f->home, "SELECT hash FROM blocks WHERE height=2",
		     "UPDATE blocks SET hash=?1 WHERE height=2", 31);
	/* a missing row below the tip */
	sqlite_u64(f->home, "DELETE FROM blocks WHERE height=1 RETURNING 1");
	assert_int_equal(lb_ledger_check_home(f->home, 128, &dmg, &em), LB_ECORRUPT);
	assert_int_equal(dmg.height, 1);
	assert_non_null(strstr(dmg.what, "missing"));

	lb_buf_release(&pl);
	lb_buf_release(&raw0);
	lb_buf_release(&raw1);
	lb_keypair_wipe(&f->prop);
	lb_keypair_wipe(&f->a);
	lb_keypair_wipe(&f->b);
	fx_rmhome(f->home);
}

/* ---- anchoring blocks on demand ------------------------------------------------------------ */

struct anchor_fx {
	struct lb_ledger *l;
	int calls[LB_CHAIN_COUNT]; /* on_anchor_wanted calls per chain */
	bool make;                 /* play an orderer: commit an empty block of the chain asked */
};

static void want_anchor(void *ctx, int chain)
{
	struct anchor_fx *a = ctx;
	a->calls[chain]++;
	if (!a->make)
		return;
	struct lb_cut c = {chain, 5000, 0, NULL, NULL};
	struct lb_errmsg em;
	uint64_t h;
	if (lb_ledger_commit(a->l, &c, &h, &em))
		fail_msg("empty block: %s", em.text);
}

/* One committed business record of kp (nonce n) at height want; its id into id. */
static void business_record(struct lb_ledger *l, const struct lb_keypair *kp, uint64_t n,
			    uint64_t want, uint8_t id[LB_HASH_LEN])
{
	struct lb_buf pl, raw;
	struct lb_submit_result r;
	uint8_t subj[LB_HASH_LEN] = {7};
	lb_buf_init(&pl, LB_TX_PAYLOAD_MAX);
	assert_lb_ok(lb_payload_record(&pl, "anchor.test", subj, NULL, 0));
	fx_build(&raw, l, kp, LB_CHAIN_BUSINESS, LB_TX_RECORD, n, 0, pl.data, pl.len, id);
	assert_int_equal(fx_submit1(l, raw.data, raw.len, &r), LB_OK);
	const uint8_t *raws[1] = {raw.data};
	size_t lens[1] = {raw.len};
	struct lb_cut c = {LB_CHAIN_BUSINESS, 4000 + n, 1, raws, lens};
	struct lb_errmsg em;
	uint64_t h;
	assert_lb_ok(lb_ledger_commit(l, &c, &h, &em));
	assert_true(h == want);
	lb_buf_release(&pl);
	lb_buf_release(&raw);
}

/* A proof asked for in a chain that has no block after the tx's block: the ledger asks the
 * orderer for one (on_anchor_wanted) and waits for it; the empty block it gets anchors the tx
 * and the proof verifies. Nobody making the block: LB_ENOTFOUND after the bounded wait, saying
 * so. A proof without an anchor chain never asks. */
static void test_anchor_on_demand(void **state)
{
	(void)state;
	static struct anchor_fx A;
	char home[64];
	uint8_t seed[LB_SEED_LEN], id1[LB_HASH_LEN], id2[LB_HASH_LEN];
	struct lb_keypair prop, a;
	struct lb_errmsg em;
	char at[LB_ADDR_TEXT_LEN + 1];
	uint8_t aa[LB_ADDR_LEN];
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	fx_mkhome(home, sizeof home, "anchor");
	memset(seed, 4, sizeof seed);
	lb_keypair_from_seed(&prop, seed);
	memset(seed, 5, sizeof seed);
	lb_keypair_from_seed(&a, seed);
	lb_addr_from_pubkey(aa, a.pk);
	lb_addr_encode(at, aa);
	fx_genesis(home, json_pack("{s:s,s:i,s:[{s:s,s:I,s:I}]}", "network", "anchor", "time_ms", 1,
				   "accounts", "address", at, "asc", (json_int_t)1000, "csc",
				   (json_int_t)1000000));
	struct lb_ledger_options o;
	lb_ledger_options_init(&o);
	o.home = home;
	o.sync_full = false;
	o.on_anchor_wanted = want_anchor;
	o.on_anchor_wanted_ctx = &A;
	memset(&A, 0, sizeof A);
	if (lb_ledger_open(&A.l, &o, &prop, &em))
		fail_msg("open: %s", em.text);

	business_record(A.l, &a, 0, 1, id1);
	struct lb_buf pf;
	struct lb_proof_info info;
	lb_buf_init(&pf, 1 << 20);
	assert_lb_ok(lb_ledger_proof(A.l, id1, -1, &pf, &em));
	assert_int_equal(A.calls[LB_CHAIN_SETTLEMENT] + A.calls[LB_CHAIN_DIRECTORY], 0);

	A.make = true;
	lb_buf_reset(&pf);
	if (lb_ledger_proof(A.l, id1, LB_CHAIN_SETTLEMENT, &pf, &em))
		fail_msg("anchored proof: %s", em.text);
	assert_int_equal(A.calls[LB_CHAIN_SETTLEMENT], 1);
	assert_lb_ok(lb_proof_verify(pf.data, pf.len, prop.pk, &info, &em));
	assert_true(info.anchored && info.anchor_chain == LB_CHAIN_SETTLEMENT &&
		    info.anchor_height == 1);
	json_t *b = NULL;
	assert_lb_ok(lb_ledger_block_json(A.l, LB_CHAIN_SETTLEMENT, 1, &b, &em));
	assert_int_equal(json_integer_value(json_object_get(b, "tx_count")), 0);
	json_decref(b);
	/* asked again: the block is there, nobody is asked */
	lb_buf_reset(&pf);
	assert_lb_ok(lb_ledger_proof(A.l, id1, LB_CHAIN_SETTLEMENT, &pf, &em));
	assert_int_equal(A.calls[LB_CHAIN_SETTLEMENT], 1);

	/* nobody makes the block: refused after the bounded wait, naming what was asked */
	A.make = false;
	business_record(A.l, &a, 1, 2, id2);
	lb_buf_reset(&pf);
	uint64_t t0 = lb_mono_ns();
	assert_int_equal(lb_ledger_proof(A.l, id2, LB_CHAIN_DIRECTORY, &pf, &em), LB_ENOTFOUND);
	uint64_t waited_ms = (lb_mono_ns() - t0) / 1000000u;
	assert_true(waited_ms >= LB_ANCHOR_WAIT_MS && waited_ms < LB_ANCHOR_WAIT_MS + 3000);
	assert_true(A.calls[LB_CHAIN_DIRECTORY] >= 2); /* asked again while waiting */
	assert_non_null(strstr(em.text, "asked for an anchoring directory block"));
	assert_non_null(strstr(em.text, "no directory block anchors business block 2"));
	lb_buf_release(&pf);
	lb_ledger_close(A.l);
	lb_keypair_wipe(&prop);
	lb_keypair_wipe(&a);
	fx_rmhome(home);
}

/* genesis.json read through lb_json_file_read_text: missing, damaged, keys twice or not an
 * object, each refused with the file named and what to do; the file left as it is. */
static void test_genesis_file(void **state)
{
	(void)state;
	static const struct {
		const char *text; /* NULL: no file */
		int code;
		const char *says;
	} cases[] = {
		{NULL, LB_ENOTFOUND, "a node home? Create one with 'leben init"},
		{"{\"network\": \"g\", \"time_ms\": 1", LB_ECORRUPT, "not JSON (line 1"},
		{"{\"network\": \"g\", \"network\": \"h\", \"time_ms\": 1}", LB_ECORRUPT,
		 "duplicate object key"},
		{"[1, 2]", LB_ECORRUPT, "not a JSON object"},
	};
	struct lb_keypair prop;
	uint8_t seed[LB_SEED_LEN];
	memset(seed, 4, sizeof seed);
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	lb_keypair_from_seed(&prop, seed);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char home[64], path[128];
		fx_mkhome(home, sizeof home, "genesis");
		snprintf(path, sizeof path, "%s/genesis.json", home);
		if (cases[i].text) {
			FILE *f = fopen(path, "w");
			assert_non_null(f);
			fputs(cases[i].text, f);
			fclose(f);
		}
		struct lb_ledger_options o;
		struct lb_ledger *l = NULL;
		struct lb_errmsg em;
		lb_ledger_options_init(&o);
		o.home = home;
		lb_errclear(&em);
		assert_int_equal(lb_ledger_open(&l, &o, &prop, &em), cases[i].code);
		print_message("genesis %s: %s\n", cases[i].text ? cases[i].text : "(none)", em.text);
		assert_non_null(strstr(em.text, path));
		assert_non_null(strstr(em.text, cases[i].says));
		if (cases[i].text) {
			assert_non_null(strstr(em.text, "copy it back from another member"));
			uint8_t *back;
			size_t n;
			assert_lb_ok(lb_file_read(path, 4096, &back, &n, &em));
			assert_string_equal((char *)back, cases[i].text);
			lb_free(back);
		}
		fx_rmhome(home);
	}
	lb_keypair_wipe(&prop);
}

/* Run sql on the SQLite file path (a connection of its own, as another writer would be). */
static void sql_on(const char *path, const char *sql)
{
	sqlite3 *db;
	char *err = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
	sqlite3_close(db);
}

/* A proof anchored in another chain names only blocks that chain has published (its tip).
 * The window between a commit's write of its block row and the move of its tip is made
 * without threads: a twin of the home (same network, same key) makes the settlement block
 * that would anchor a business tx, and that row is written into the open ledger's
 * settlement.db from outside, its tip left at 0. The proof is refused as while no block
 * anchors the tx; once the block is the tip (the ledger opened on the file holding it) the
 * same request gives a proof anchored in it. Fails if the anchor were looked up among
 * written blocks rather than published ones. */
static void test_anchor_published_only(void **state)
{
	(void)state;
	char home[64], twin[96], cmd[400], db[200], twin_db[200], sql[600];
	struct lb_keypair prop, a;
	uint8_t addr[LB_ADDR_LEN], id[LB_HASH_LEN];
	struct lb_ledger *l, *t;
	struct lb_errmsg em;
	struct lb_buf pf;
	struct lb_proof_info info;
	uint64_t h;
	fx_one_account(home, sizeof home, "tipanchor", &prop, &a, addr);
	fx_open(&l, home, &prop);
	business_record(l, &a, 0, 1, id); /* business block 1 holds the tx */
	lb_ledger_close(l);
	snprintf(twin, sizeof twin, "%s-twin", home);
	snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", home, twin);
	assert_int_equal(system(cmd), 0);
	fx_open(&t, twin, &prop);
	struct lb_cut c = {LB_CHAIN_SETTLEMENT, 5000, 0, NULL, NULL};
	assert_lb_ok(lb_ledger_commit(t, &c, &h, &em));
	assert_true(h == 1); /* settlement block 1 anchors business block 1 */
	lb_ledger_close(t);

	fx_open(&l, home, &prop);
	lb_buf_init(&pf, 1 << 20);
	assert_int_equal(lb_ledger_proof(l, id, LB_CHAIN_SETTLEMENT, &pf, &em), LB_ENOTFOUND);
	/* written, not published: the row is in the file, the ledger's tip still 0 */
	snprintf(db, sizeof db, "%s/chains/settlement.db", home);
	snprintf(twin_db, sizeof twin_db, "%s/chains/settlement.db", twin);
	snprintf(sql, sizeof sql,
		 "ATTACH '%s' AS twin; INSERT INTO blocks SELECT * FROM twin.blocks WHERE height = 1;",
		 twin_db);
	sql_on(db, sql);
	lb_buf_reset(&pf);
	lb_errclear(&em);
	int rc = lb_ledger_proof(l, id, LB_CHAIN_SETTLEMENT, &pf, &em);
	if (rc == LB_OK)
		fail_msg("a proof anchored in settlement block 1, written but not this ledger's tip");
	assert_int_equal(rc, LB_ENOTFOUND);
	assert_non_null(strstr(em.text, "no settlement block anchors business block 1"));
	json_t *chains = NULL;
	assert_lb_ok(lb_ledger_chains_json(l, &chains));
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(chains, "chains"), LB_CHAIN_SETTLEMENT),
				 "height")),
			 0); /* the row is there, the tip is not */
	json_decref(chains);
	lb_ledger_close(l);

	/* published: the ledger opened again takes the written block as its tip */
	fx_open(&l, home, &prop);
	lb_buf_reset(&pf);
	if (lb_ledger_proof(l, id, LB_CHAIN_SETTLEMENT, &pf, &em))
		fail_msg("proof once the block is the tip: %s", em.text);
	assert_lb_ok(lb_proof_verify(pf.data, pf.len, prop.pk, &info, &em));
	assert_true(info.anchored && info.anchor_chain == LB_CHAIN_SETTLEMENT &&
		    info.anchor_height == 1);
	lb_buf_release(&pf);
	lb_ledger_close(l);
	lb_keypair_wipe(&prop);
	lb_keypair_wipe(&a);
	fx_rmhome(home);
	fx_rmhome(twin);
}

/* Txs are checked with Ed25519 batch verification. Admission: a valid batch passes without a
 * single one-by-one check, and bad signatures inside a batch are found and refused each with
 * its own result while the valid txs around them are admitted. Blocks: a twin ledger that
 * never saw the txs applies the same two cuts (checking their signatures as a batch), marks the
 * two txs invalid and nothing else, and the offline verifier's replay (signatures again as a
 * batch) accepts its history. */
static void test_batch_signatures(void **state)
{
	(void)state;
	char home[64], twin[64], at[LB_ADDR_TEXT_LEN + 1], bt[LB_ADDR_TEXT_LEN + 1];
	uint8_t seed[LB_SEED_LEN], aa[LB_ADDR_LEN], ba[LB_ADDR_LEN];
	struct lb_keypair prop, a, b;
	struct lb_errmsg em;
	enum { N = LB_SIG_BATCH_MIN + 44 }; /* one batch, checked as a batch */
	static struct lb_buf raw[2][N];
	static const uint8_t *raws[2][N];
	static size_t lens[2][N];
	static struct lb_submit_result res[N];
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	fx_mkhome(home, sizeof home, "batchsig");
	fx_mkhome(twin, sizeof twin, "batchsig-twin");
	memset(seed, 6, sizeof seed);
	lb_keypair_from_seed(&prop, seed);
	memset(seed, 7, sizeof seed);
	lb_keypair_from_seed(&a, seed);
	memset(seed, 8, sizeof seed);
	lb_keypair_from_seed(&b, seed);
	lb_addr_from_pubkey(aa, a.pk);
	lb_addr_from_pubkey(ba, b.pk);
	lb_addr_encode(at, aa);
	lb_addr_encode(bt, ba);
	json_t *g = json_pack("{s:s,s:i,s:[{s:s,s:I,s:I},{s:s,s:I,s:I}]}", "network", "batchsig",
			      "time_ms", 1, "accounts", "address", at, "asc",
			      (json_int_t)1000000000, "csc", (json_int_t)1000000000, "address", bt,
			      "asc", (json_int_t)1000000000, "csc", (json_int_t)1000000000);
	json_incref(g);
	fx_genesis(home, g);
	fx_genesis(twin, g);
	struct lb_ledger *l, *l2;
	fx_open(&l, home, &prop);
	fx_open(&l2, twin, &prop);
	struct lb_buf pl;
	lb_buf_init(&pl, LB_TX_PAYLOAD_MAX);
	assert_lb_ok(lb_payload_transfer(&pl, ba, LB_ASC, 1, NULL));
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			bool from_b = round == 1 && i == 150;
			fx_build(&raw[round][i], l, from_b ? &b : &a, LB_CHAIN_SETTLEMENT,
				 LB_TX_TRANSFER,
				 from_b ? 0 : (uint64_t)(round * N + i - (round == 1 && i > 150)), 0,
				 pl.data, pl.len, NULL);
			raws[round][i] = raw[round][i].data;
			lens[round][i] = raw[round][i].len;
		}
		if (round == 1) { /* b's tx in the middle and a's last: signatures altered */
			raw[1][150].data[raw[1][150].len - 1] ^= 0x40;
			raw[1][N - 1].data[raw[1][N - 1].len - 20] ^= 0x01;
		}
		uint64_t singles = lb_sig_batch_singles();
		assert_lb_ok(lb_ledger_submit(l, N, raws[round], lens[round], res));
		for (int i = 0; i < N; i++) {
			bool bad = round == 1 && (i == 150 || i == N - 1);
			if (res[i].code != (bad ? LB_EBADSIG : LB_OK))
				fail_msg("round %d tx %d: %s", round, i, res[i].message);
		}
		if (round == 0)
			assert_int_equal(lb_sig_batch_singles(), singles);
		else
			assert_true(lb_sig_batch_singles() > singles);
	}
	assert_int_equal(lb_ledger_pending(l, LB_CHAIN_SETTLEMENT), 2 * N - 2);

	for (int round = 0; round < 2; round++) {
		struct lb_cut cut = {LB_CHAIN_SETTLEMENT, 1000 + (uint64_t)round, N, raws[round],
				     lens[round]};
		uint64_t singles = lb_sig_batch_singles();
		if (lb_ledger_commit(l2, &cut, NULL, &em))
			fail_msg("twin commit: %s", em.text);
		if (round == 0) /* checked as a batch: no one-by-one check */
			assert_int_equal(lb_sig_batch_singles(), singles);
		else /* a batch with bad signatures: then checked one by one */
			assert_true(lb_sig_batch_singles() > singles);
	}
	assert_true(lb_ledger_next_nonce(l2, LB_CHAIN_SETTLEMENT, aa) == 2 * N - 2);
	assert_true(lb_ledger_next_nonce(l2, LB_CHAIN_SETTLEMENT, ba) == 0);
	lb_ledger_close(l2);
	uint64_t singles = lb_sig_batch_singles();
	if (lb_ledger_verify_home(twin, NULL, NULL, &em))
		fail_msg("verify: %s", em.text);
	assert_true(lb_sig_batch_singles() > singles); /* the replay's batch found the two */

	for (int round = 0; round < 2; round++)
		for (int i = 0; i < N; i++)
			lb_buf_release(&raw[round][i]);
	lb_buf_release(&pl);
	lb_ledger_close(l);
	lb_keypair_wipe(&prop);
	lb_keypair_wipe(&a);
	lb_keypair_wipe(&b);
	fx_rmhome(home);
	fx_rmhome(twin);
}

/* Admission and blocks answer the same with batch verification as with one-by-one checks
 * (lb_ledger_options.sig_one_by_one): a batch of 1000 holding bad signatures at its first,
 * middle and last place, a tx twice, a tx committed before and one that does not decode gets
 * the same per-tx answers (code, id, message) from a ledger that checks in batches and from
 * one that checks one by one, and committing the batch as a block gives the same block (so the
 * same state) on both, and on two twins that never saw the txs, checking in batches and not. */
enum { EQ_SENDERS = 8, EQ_N = 1000 };

static void eq_open(struct lb_ledger **l, const char *home, const struct lb_keypair *prop,
		    bool one_by_one)
{
	struct lb_ledger_options o;
	struct lb_errmsg em;
	lb_ledger_options_init(&o);
	o.home = home;
	o.sync_full = false;
	o.sig_one_by_one = one_by_one;
	if (lb_ledger_open(l, &o, prop, &em))
		fail_msg("open %s: %s", home, em.text);
}

static void eq_commit(struct lb_ledger *l, size_t n, const uint8_t *const *raws,
		      const size_t *lens, uint64_t time_ms, uint8_t hash[LB_HASH_LEN])
{
	struct lb_errmsg em;
	uint64_t height;
	struct lb_cut cut = {LB_CHAIN_SETTLEMENT, time_ms, n, raws, lens};
	if (lb_ledger_commit(l, &cut, &height, &em) ||
	    lb_ledger_block_hashes(l, LB_CHAIN_SETTLEMENT, height, hash, NULL, &em))
		fail_msg("commit: %s", em.text);
}

static void test_batch_equals_single(void **state)
{
	(void)state;
	enum { L_ON, L_OFF, T_ON, T_OFF, NL };
	char homes[NL][64], at[LB_ADDR_TEXT_LEN + 1];
	uint8_t seed[LB_SEED_LEN], addr[EQ_SENDERS + 1][LB_ADDR_LEN], hash[NL][LB_HASH_LEN];
	struct lb_keypair prop, kp[EQ_SENDERS + 1]; /* the last one: mallory */
	static struct lb_buf raw[EQ_N + 1];
	static const uint8_t *raws[EQ_N + 1];
	static size_t lens[EQ_N + 1];
	static struct lb_submit_result res[2][EQ_N];
	struct lb_ledger *l[NL];
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	memset(seed, 9, sizeof seed);
	lb_keypair_from_seed(&prop, seed);
	json_t *accts = json_array();
	for (int k = 0; k <= EQ_SENDERS; k++) {
		memset(seed, 40 + k, sizeof seed);
		lb_keypair_from_seed(&kp[k], seed);
		lb_addr_from_pubkey(addr[k], kp[k].pk);
		lb_addr_encode(at, addr[k]);
		json_array_append_new(accts, json_pack("{s:s,s:I,s:I}", "address", at, "asc",
						       (json_int_t)1000000000, "csc",
						       (json_int_t)1000000000));
	}
	json_t *g = json_pack("{s:s,s:i,s:o}", "network", "sigeq", "time_ms", 1, "accounts",
			      accts);
	for (int i = 0; i < NL; i++) {
		fx_mkhome(homes[i], sizeof homes[i], "sigeq");
		json_incref(g);
		fx_genesis(homes[i], g);
		eq_open(&l[i], homes[i], &prop, i == L_OFF || i == T_OFF);
	}
	json_decref(g);
	struct lb_buf pl;
	lb_buf_init(&pl, LB_TX_PAYLOAD_MAX);
	/* block 1: tx X (sender 0, nonce 0), committed everywhere */
	assert_lb_ok(lb_payload_transfer(&pl, addr[1], LB_ASC, 1, NULL));
	fx_build(&raw[EQ_N], l[L_ON], &kp[0], LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 0, 0, pl.data,
		 pl.len, NULL);
	raws[EQ_N] = raw[EQ_N].data;
	lens[EQ_N] = raw[EQ_N].len;
	for (int i = 0; i < NL; i++)
		eq_commit(l[i], 1, raws + EQ_N, lens + EQ_N, 1000, hash[i]);
	/* the batch: senders in turn with their next nonces, and the special places */
	uint64_t nonce[EQ_SENDERS] = {1};
	int bad[] = {0, 500, EQ_N - 1}, dup_of = 600, dup = 601, committed = 300, malformed = 700;
	for (int i = 0, b = 0; i < EQ_N; i++) {
		int k = i % EQ_SENDERS;
		if (b < 3 && i == bad[b]) { /* mallory: the same nonce, other amounts */
			lb_buf_reset(&pl);
			assert_lb_ok(lb_payload_transfer(&pl, addr[0], LB_ASC, (uint64_t)(1 + b), NULL));
			fx_build(&raw[i], l[L_ON], &kp[EQ_SENDERS], LB_CHAIN_SETTLEMENT,
				 LB_TX_TRANSFER, 0, 0, pl.data, pl.len, NULL);
			raw[i].data[raw[i].len - 1 - 7 * b] ^= 0x10; /* a byte of the signature */
			b++;
		} else if (i == dup || i == committed) {
			const struct lb_buf *src = i == dup ? &raw[dup_of] : &raw[EQ_N];
			lb_buf_init(&raw[i], LB_TX_MAX_BYTES);
			assert_lb_ok(lb_buf_add(&raw[i], src->data, src->len));
		} else {
			lb_buf_reset(&pl);
			assert_lb_ok(lb_payload_transfer(&pl, addr[(k + 1) % EQ_SENDERS], LB_ASC, 1,
							 NULL));
			fx_build(&raw[i], l[L_ON], &kp[k], LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER,
				 i == malformed ? nonce[k] : nonce[k]++, 0, pl.data, pl.len, NULL);
			if (i == malformed) /* cut short: does not decode */
				raw[i].len -= 5;
		}
		raws[i] = raw[i].data;
		lens[i] = raw[i].len;
	}
	uint64_t singles = lb_sig_batch_singles();
	assert_lb_ok(lb_ledger_submit(l[L_ON], EQ_N, raws, lens, res[0]));
	uint64_t batched_singles = lb_sig_batch_singles() - singles;
	assert_true(batched_singles > 0); /* a batch that failed, then checked one by one */
	singles = lb_sig_batch_singles();
	assert_lb_ok(lb_ledger_submit(l[L_OFF], EQ_N, raws, lens, res[1]));
	assert_int_equal(lb_sig_batch_singles(), singles); /* no batch at all */
	size_t accepted = 0;
	for (int i = 0; i < EQ_N; i++) {
		const struct lb_submit_result *a = &res[0][i], *o = &res[1][i];
		if (a->code != o->code || a->chain != o->chain || memcmp(a->id, o->id, LB_HASH_LEN) ||
		    strcmp(a->message, o->message))
			fail_msg("tx %d: batch %s (%s), one by one %s (%s)", i, lb_errname(a->code),
				 a->message, lb_errname(o->code), o->message);
		int want = LB_OK;
		if (i == bad[0] || i == bad[1] || i == bad[2])
			want = LB_EBADSIG;
		else if (i == dup || i == committed)
			want = LB_EDUPLICATE;
		else if (i == malformed)
			want = a->code ? a->code : LB_EMALFORMED; /* a decoding error, checked below */
		if (a->code != want)
			fail_msg("tx %d: %s (%s)", i, lb_errname(a->code), a->message);
		accepted += a->code == LB_OK;
	}
	assert_int_not_equal(res[0][malformed].code, LB_OK);
	assert_int_equal(res[0][malformed].chain, -1);
	assert_non_null(strstr(res[0][dup].message, "already waiting"));
	assert_non_null(strstr(res[0][committed].message, "already committed"));
	assert_int_equal(accepted, EQ_N - 6);
	assert_int_equal(lb_ledger_pending(l[L_ON], LB_CHAIN_SETTLEMENT), EQ_N - 6);
	assert_int_equal(lb_ledger_pending(l[L_OFF], LB_CHAIN_SETTLEMENT), EQ_N - 6);
	/* block 2: the whole batch as one cut; the twins check its signatures at commit */
	for (int i = 0; i < NL; i++) {
		eq_commit(l[i], EQ_N, raws, lens, 2000, hash[i]);
		if (i)
			assert_memory_equal(hash[i], hash[0], LB_HASH_LEN);
		assert_int_equal(lb_ledger_pending(l[i], LB_CHAIN_SETTLEMENT), 0);
		assert_true(lb_ledger_next_nonce(l[i], LB_CHAIN_SETTLEMENT, addr[0]) == nonce[0]);
		assert_true(lb_ledger_next_nonce(l[i], LB_CHAIN_SETTLEMENT, addr[EQ_SENDERS]) == 0);
	}
	for (int i = 0; i <= EQ_N; i++)
		lb_buf_release(&raw[i]);
	lb_buf_release(&pl);
	for (int i = 0; i < NL; i++) {
		lb_ledger_close(l[i]);
		fx_rmhome(homes[i]);
	}
	for (int k = 0; k <= EQ_SENDERS; k++)
		lb_keypair_wipe(&kp[k]);
	lb_keypair_wipe(&prop);
}

/* Admission reads committed state through a cache under the mempool overlay: a block that
 * changes what admission read before (here txs the node never admitted, as another node's
 * cut brings them: the overlay holds none of their writes) is seen by the next admission.
 * S's transfer above its balance and its tx with a nonce ahead are refused (both read S's
 * balance and nonce); a block then takes S's nonce 0 and 1 ASC: the tx with the next nonce is
 * admitted, the block's tx is a duplicate, and the balance left is what the block left. */
static void test_admission_sees_blocks(void **state)
{
	(void)state;
	char home[64], rt[LB_ADDR_TEXT_LEN + 1];
	uint8_t seed[LB_SEED_LEN], sa[LB_ADDR_LEN], ra[LB_ADDR_LEN];
	struct lb_keypair prop, s, r;
	struct lb_submit_result res;
	struct lb_buf pl, big, ahead, n0, fund;
	struct lb_errmsg em;
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	fx_one_account(home, sizeof home, "cachesee", &prop, &s, sa); /* S: 1000 ASC, 10^6 CSC */
	memset(seed, 11, sizeof seed);
	lb_keypair_from_seed(&r, seed);
	lb_addr_from_pubkey(ra, r.pk);
	lb_addr_encode(rt, ra);
	struct lb_ledger *l;
	fx_open(&l, home, &prop);
	lb_buf_init(&pl, LB_TX_PAYLOAD_MAX);
	/* refused: 5000 ASC (S has 1000), and nonce 1 (S's next is 0) */
	assert_lb_ok(lb_payload_transfer(&pl, ra, LB_ASC, 5000, NULL));
	fx_build(&big, l, &s, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 0, 0, pl.data, pl.len, NULL);
	assert_int_equal(fx_submit1(l, big.data, big.len, &res), LB_EFUNDS);
	lb_buf_reset(&pl);
	assert_lb_ok(lb_payload_transfer(&pl, ra, LB_ASC, 1, NULL));
	fx_build(&ahead, l, &s, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 1, 0, pl.data, pl.len, NULL);
	assert_int_equal(fx_submit1(l, ahead.data, ahead.len, &res), LB_ENONCEGAP);
	assert_int_equal(fx_submit1(l, big.data, big.len, &res), LB_EFUNDS); /* read again */
	/* a block of a tx this node never admitted: S's nonce 0, 1 ASC to R (999 ASC left) */
	lb_buf_reset(&pl);
	assert_lb_ok(lb_payload_transfer(&pl, ra, LB_ASC, 1, NULL));
	fx_build(&n0, l, &s, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 0, 0, pl.data, pl.len, NULL);
	const uint8_t *raws[1] = {n0.data};
	size_t lens[1] = {n0.len};
	struct lb_cut cut = {LB_CHAIN_SETTLEMENT, 1000, 1, raws, lens};
	if (lb_ledger_commit(l, &cut, NULL, &em))
		fail_msg("commit: %s", em.text);
	assert_int_equal(lb_ledger_pending(l, LB_CHAIN_SETTLEMENT), 0);
	/* the nonce the block took is seen: nonce 1 is now next, nonce 0 is used */
	assert_int_equal(fx_submit1(l, ahead.data, ahead.len, &res), LB_OK);
	assert_int_equal(fx_submit1(l, n0.data, n0.len, &res), LB_EDUPLICATE);
	/* the balance the block changed is seen: 998 ASC left after the admitted tx, so 999 is
	 * refused and 998 admitted */
	lb_buf_reset(&pl);
	assert_lb_ok(lb_payload_transfer(&pl, ra, LB_ASC, 999, NULL));
	fx_build(&fund, l, &s, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 2, 0, pl.data, pl.len, NULL);
	assert_int_equal(fx_submit1(l, fund.data, fund.len, &res), LB_EFUNDS);
	lb_buf_release(&fund);
	lb_buf_reset(&pl);
	assert_lb_ok(lb_payload_transfer(&pl, ra, LB_ASC, 998, NULL));
	fx_build(&fund, l, &s, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 2, 0, pl.data, pl.len, NULL);
	assert_int_equal(fx_submit1(l, fund.data, fund.len, &res), LB_OK);
	lb_buf_release(&pl);
	lb_buf_release(&big);
	lb_buf_release(&ahead);
	lb_buf_release(&n0);
	lb_buf_release(&fund);
	lb_ledger_close(l);
	lb_keypair_wipe(&prop);
	lb_keypair_wipe(&s);
	lb_keypair_wipe(&r);
	fx_rmhome(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merkle),
		cmocka_unit_test(test_header_roundtrip),
		cmocka_unit_test(test_ledger_flow),
		cmocka_unit_test(test_anchor_on_demand),
		cmocka_unit_test(test_anchor_published_only),
		cmocka_unit_test(test_genesis_file),
		cmocka_unit_test(test_batch_signatures),
		cmocka_unit_test(test_batch_equals_single),
		cmocka_unit_test(test_admission_sees_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
