/* Security tx handlers on a real ledger in a temp home (business chain): guardian records
 * (only the split key may record them, the owner is no guardian of itself), recovery
 * commitment and key reset (wrong secret, proof for another purpose, a nonce ahead, a reset
 * nonce used twice, a reset not signed by the new key, a used new key; after a good reset the
 * old key is refused on the business chain and the new key acts for the account, while the
 * settlement chain still knows only the old key), co-owner policies (2 of 3, approval counted
 * once, below threshold, past period, unknown asset, update needing the owners' approval, a
 * chain past the policy's 64 periods), and the key-reset follow-up on the settlement and
 * directory chains (a proof from a forged business chain, a proof not anchored in this chain,
 * tampered proof bytes, the proof of another tx, tx bytes other than the proven ones, a reset
 * marked invalid in its block, a follow-up sent twice, a superseded reset after a later one;
 * after it the old keys are refused there and the new key moves the account's ASC).
 * Every refusal has its own code and leaves the mempool and the account view unchanged. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/codec.h"
#include "leben/crypto.h"
#include "leben/error.h"
#include "leben/kes.h"
#include "leben/ledger.h"
#include "leben/security.h"
#include "leben/shamir.h"
#include "leben/tx.h"
#include "leben/zkp.h"

struct fx {
	char home[64];
	struct lb_ledger *l;
	struct lb_keypair prop, a, n, n2, g1, g2;
	uint8_t aa[LB_ADDR_LEN], na[LB_ADDR_LEN];
	uint64_t nonce_a, nonce_n;
	uint64_t time_ms;
	uint8_t last_id[LB_HASH_LEN];   /* id of the tx send_tx built last */
	uint8_t reset_id[2][LB_HASH_LEN]; /* the good resets 0 (to N) and 1 (to N2) */
	uint8_t record_id[LB_HASH_LEN]; /* a committed business record (not a reset) */
	uint8_t bad_reset_id[LB_HASH_LEN]; /* a reset in a block, marked invalid */
};

static struct fx F;

static void seeded(struct lb_keypair *kp, int v)
{
	uint8_t seed[LB_SEED_LEN];
	memset(seed, v, sizeof seed);
	lb_keypair_from_seed(kp, seed);
}

static void build(struct lb_buf *out, const struct lb_keypair *kp, int chain, uint32_t type,
		  uint64_t nonce, const void *pl, size_t plen)
{
	struct lb_tx t;
	memset(&t, 0, sizeof t);
	t.version = LB_TX_VERSION;
	t.chain = (uint8_t)chain;
	t.type = type;
	t.nonce = nonce;
	t.fee = chain == LB_CHAIN_SETTLEMENT && type != LB_TX_KEYS_FOLLOW ? 1000 : 0;
	t.payload = pl;
	t.payload_len = plen;
	lb_buf_init(out, LB_TX_MAX_BYTES);
	assert_lb_ok(lb_tx_build(out, &t, lb_ledger_network_id(F.l), kp, F.last_id));
}

static char *acct_text(const uint8_t addr[LB_ADDR_LEN])
{
	json_t *o = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_ledger_account_json(F.l, addr, &o, &em));
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	return s;
}

/* Submit a business tx signed by kp with nonce, commit it alone as the next block; returns the
 * admission code (nothing committed on refusal, and nothing changed: checked). */
static int send_tx(const struct lb_keypair *kp, int chain, uint32_t type, uint64_t nonce,
		   const void *pl, size_t plen, bool commit)
{
	struct lb_buf raw;
	struct lb_submit_result r;
	build(&raw, kp, chain, type, nonce, pl, plen);
	const uint8_t *raws[1] = {raw.data};
	size_t lens[1] = {raw.len};
	char *a0 = acct_text(F.aa), *n0 = acct_text(F.na);
	size_t pend = lb_ledger_pending(F.l, chain);
	memset(&r, 0, sizeof r);
	assert_lb_ok(lb_ledger_submit(F.l, 1, raws, lens, &r));
	if (r.code != LB_OK) {
		char *a1 = acct_text(F.aa), *n1 = acct_text(F.na);
		assert_true(r.message[0] != 0);
		print_message("refused as %s: %s\n", lb_errname(r.code), r.message);
		assert_string_equal(a0, a1);
		assert_string_equal(n0, n1);
		assert_int_equal(pend, lb_ledger_pending(F.l, chain));
		free(a1);
		free(n1);
	} else if (commit) {
		struct lb_cut c = {chain, F.time_ms += 1000, 1, raws, lens};
		struct lb_errmsg em;
		uint64_t h;
		if (lb_ledger_commit(F.l, &c, &h, &em))
			fail_msg("commit: %s", em.text);
	}
	free(a0);
	free(n0);
	lb_buf_release(&raw);
	return r.code;
}

/* An empty business block (moves chain time on). */
static void empty_block(void)
{
	struct lb_cut c = {LB_CHAIN_BUSINESS, F.time_ms += 1000, 0, NULL, NULL};
	struct lb_errmsg em;
	uint64_t h;
	if (lb_ledger_commit(F.l, &c, &h, &em))
		fail_msg("commit: %s", em.text);
}

static struct lb_ledger *open_ledger(const char *home, const struct lb_keypair *prop);

static int setup(void **state)
{
	(void)state;
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	assert_lb_ok(lb_security_register_txtypes());
	assert_lb_ok(lb_security_register_txtypes()); /* idempotent */
	snprintf(F.home, sizeof F.home, "/tmp/lb-test-sectx-XXXXXX");
	assert_non_null(mkdtemp(F.home));
	seeded(&F.prop, 1);
	seeded(&F.a, 2);
	seeded(&F.n, 3);
	seeded(&F.n2, 4);
	seeded(&F.g1, 5);
	seeded(&F.g2, 6);
	lb_addr_from_pubkey(F.aa, F.a.pk);
	lb_addr_from_pubkey(F.na, F.n.pk);
	F.l = open_ledger(F.home, &F.prop);
	F.time_ms = 10000;
	return 0;
}

/* A ledger in home whose blocks prop signs; account A holds 1 ASC and 1 CSC. */
static struct lb_ledger *open_ledger(const char *home, const struct lb_keypair *prop)
{
	struct lb_errmsg em;
	struct lb_ledger *l = NULL;
	char pt[LB_ADDR_TEXT_LEN + 1], at[LB_ADDR_TEXT_LEN + 1], hx[2 * LB_PUBKEY_LEN + 1];
	uint8_t pa[LB_ADDR_LEN];
	lb_addr_from_pubkey(pa, prop->pk);
	lb_addr_encode(pt, pa);
	lb_addr_encode(at, F.aa);
	lb_hex_encode(hx, prop->pk, LB_PUBKEY_LEN);
	json_t *g = json_pack("{s:s,s:i,s:s,s:[s],s:{s:i,s:i},s:{s:i},s:[{s:s,s:I,s:I}]}",
			      "network", "t", "time_ms", 1, "proposer", hx, "credit_partners", pt,
			      "convert", "csc", 100, "asc", 1, "fees", "default", 1000, "accounts",
			      "address", at, "asc", (json_int_t)1000000, "csc",
			      (json_int_t)1000000);
	assert_lb_ok(lb_genesis_write(home, g, &em));
	json_decref(g);
	struct lb_ledger_options o;
	lb_ledger_options_init(&o);
	o.home = home;
	o.sync_full = false;
	if (lb_ledger_open(&l, &o, prop, &em))
		fail_msg("open: %s", em.text);
	return l;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	lb_ledger_close(F.l);
	snprintf(cmd, sizeof cmd, "rm -rf %s", F.home);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_guardians(void **state)
{
	(void)state;
	struct lb_errmsg em;
	uint8_t secret[32], *env[2];
	size_t envl[2], len;
	static struct lb_guardian_record rec;
	static uint8_t buf[LB_GUARDIAN_RECORD_MAXBYTES];
	uint8_t gk[2][32];
	memcpy(gk[0], F.g1.pk, 32);
	memcpy(gk[1], F.g2.pk, 32);
	memcpy(secret, F.a.sk, 32);
	assert_lb_ok(lb_guardian_split(F.a.pk, secret, 32, 2, (const uint8_t(*)[32])gk, 2, env,
				       envl, &rec, &em));
	lb_free(env[0]);
	lb_free(env[1]);
	assert_lb_ok(lb_guardian_record_encode(&rec, buf, &len, &em));
	/* a record for A sent by the new key N: only the split key may record */
	assert_int_equal(send_tx(&F.n, LB_CHAIN_BUSINESS, LB_TX_KEYS_GUARDIANS, F.nonce_n, buf, len,
				 false),
			 LB_EUNAUTH);
	/* truncated record: refused before any state is read */
	assert_int_equal(send_tx(&F.a, LB_CHAIN_BUSINESS, LB_TX_KEYS_GUARDIANS, F.nonce_a, buf,
				 len - 1, false),
			 LB_EMALFORMED);
	/* the owner as its own guardian */
	memcpy(rec.g[0].guardian, F.a.pk, 32);
	size_t l2;
	static uint8_t buf2[LB_GUARDIAN_RECORD_MAXBYTES];
	assert_lb_ok(lb_guardian_record_encode(&rec, buf2, &l2, &em));
	assert_int_equal(send_tx(&F.a, LB_CHAIN_BUSINESS, LB_TX_KEYS_GUARDIANS, F.nonce_a, buf2,
				 l2, false),
			 LB_EINVALID);
	assert_int_equal(send_tx(&F.a, LB_CHAIN_BUSINESS, LB_TX_KEYS_GUARDIANS, F.nonce_a++, buf,
				 len, true),
			 LB_OK);
	sodium_memzero(secret, sizeof secret);
}

static void reset_payload(struct lb_keyreset *r, const uint8_t new_pk[32], uint64_t nonce)
{
	memset(r, 0, sizeof *r);
	memcpy(r->account, F.aa, LB_ADDR_LEN);
	r->account_len = LB_ADDR_LEN;
	memcpy(r->new_pk, new_pk, 32);
	r->nonce = nonce;
}

static int send_reset(const struct lb_keypair *signer, uint64_t nonce,
		      const struct lb_keyreset *r)
{
	uint8_t b[LB_KEYRESET_MAXBYTES];
	size_t n;
	struct lb_errmsg em;
	assert_lb_ok(lb_keyreset_encode(r, b, &n, &em));
	return send_tx(signer, LB_CHAIN_BUSINESS, LB_TX_KEYS_RESET, nonce, b, n, true);
}

static void test_reset(void **state)
{
	(void)state;
	struct lb_errmsg em;
	struct lb_zk_recovery rec;
	struct lb_keyreset r;
	struct lb_zk_context ctx;
	uint8_t rb[LB_ZK_RECOVERY_BYTES], x[32], xw[32];
	static const char secret[] = "orange-glacier-41-parsley-window";
	static const char wrong[] = "orange-glacier-41-parsley-windou";

	/* no commitment yet */
	assert_lb_ok(lb_zk_recovery_new(&rec, secret, strlen(secret), 1, 8192, &em));
	assert_lb_ok(lb_zk_derive(x, secret, strlen(secret), &rec, &em));
	reset_payload(&r, F.n.pk, 0);
	assert_lb_ok(lb_keyreset_prove(&r, x));
	assert_int_equal(send_reset(&F.n, 0, &r), LB_ENOTFOUND);

	lb_zk_recovery_encode(&rec, rb);
	assert_int_equal(send_tx(&F.a, LB_CHAIN_BUSINESS, LB_TX_KEYS_RECOVERY, F.nonce_a, rb,
				 sizeof rb - 1, false),
			 LB_EMALFORMED);
	assert_int_equal(send_tx(&F.a, LB_CHAIN_BUSINESS, LB_TX_KEYS_RECOVERY, F.nonce_a++, rb,
				 sizeof rb, true),
			 LB_OK);

	/* wrong secret */
	assert_lb_ok(lb_zk_derive(xw, wrong, strlen(wrong), &rec, &em));
	reset_payload(&r, F.n.pk, 0);
	assert_lb_ok(lb_keyreset_prove(&r, xw));
	assert_int_equal(send_reset(&F.n, 0, &r), LB_EBADSIG);
	/* right secret, proof made for another purpose */
	reset_payload(&r, F.n.pk, 0);
	lb_keyreset_context(&r, &ctx);
	ctx.purpose = "login";
	assert_lb_ok(lb_zk_prove(r.proof, x, &ctx));
	assert_int_equal(send_reset(&F.n, 0, &r), LB_EBADSIG);
	/* right secret, proof for another new key (N2) carried by N */
	reset_payload(&r, F.n2.pk, 0);
	assert_lb_ok(lb_keyreset_prove(&r, x));
	memcpy(r.new_pk, F.n.pk, 32);
	assert_int_equal(send_reset(&F.n, 0, &r), LB_EBADSIG);
	/* a reset nonce ahead of the account's */
	reset_payload(&r, F.n.pk, 1);
	assert_lb_ok(lb_keyreset_prove(&r, x));
	assert_int_equal(send_reset(&F.n, 0, &r), LB_ENONCEGAP);
	/* a good proof installing N, but signed by N2 */
	reset_payload(&r, F.n.pk, 0);
	assert_lb_ok(lb_keyreset_prove(&r, x));
	assert_int_equal(send_reset(&F.n2, 0, &r), LB_EUNAUTH);

	/* the good reset */
	assert_int_equal(send_reset(&F.n, 0, &r), LB_OK);
	memcpy(F.reset_id[0], F.last_id, LB_HASH_LEN);
	F.nonce_n = 1;
	/* the same proof again, from the same key: the new key is in use */
	assert_int_equal(send_reset(&F.n, 1, &r), LB_EEXISTS);
	/* a fresh proof for N2 under the used reset nonce 0: replay refused */
	reset_payload(&r, F.n2.pk, 0);
	assert_lb_ok(lb_keyreset_prove(&r, x));
	assert_int_equal(send_reset(&F.n2, 0, &r), LB_ENONCEUSED);

	/* the old key is refused on the business chain, the new one acts for A */
	static const uint8_t idpl[] = {LB_ROLE_PROVIDER, 4, 'C', 'l', 'i', 'n', 0};
	assert_int_equal(send_tx(&F.a, LB_CHAIN_BUSINESS, LB_TX_IDENTITY_REGISTER, F.nonce_a, idpl,
				 sizeof idpl, false),
			 LB_EUNAUTH);
	assert_int_equal(send_tx(&F.n, LB_CHAIN_BUSINESS, LB_TX_IDENTITY_REGISTER, F.nonce_n++,
				 idpl, sizeof idpl, true),
			 LB_OK);
	json_t *o = NULL;
	assert_lb_ok(lb_ledger_account_json(F.l, F.aa, &o, &em));
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "identity"),
							      "name")),
			    "Clin");
	json_decref(o);
	assert_lb_ok(lb_ledger_account_json(F.l, F.na, &o, &em));
	assert_true(json_is_null(json_object_get(o, "identity")));
	json_decref(o);

	/* a second reset (N2, reset nonce 1) retires N as well */
	reset_payload(&r, F.n2.pk, 1);
	assert_lb_ok(lb_keyreset_prove(&r, x));
	assert_int_equal(send_reset(&F.n2, 0, &r), LB_OK);
	memcpy(F.reset_id[1], F.last_id, LB_HASH_LEN);
	uint8_t recpl[3 + 1 + 32 + 1] = {3, 'a', '.', 'b'};
	memset(recpl + 4, 7, 32); /* subject */
	assert_int_equal(send_tx(&F.n, LB_CHAIN_BUSINESS, LB_TX_RECORD, F.nonce_n, recpl,
				 sizeof recpl, false),
			 LB_EUNAUTH);
	assert_int_equal(send_tx(&F.n2, LB_CHAIN_BUSINESS, LB_TX_RECORD, 1, recpl, sizeof recpl,
				 true),
			 LB_OK);
	memcpy(F.record_id, F.last_id, LB_HASH_LEN);

	/* the settlement chain keeps its own state: the old key still moves A's balance there */
	struct lb_buf pl;
	lb_buf_init(&pl, 256);
	assert_lb_ok(lb_payload_transfer(&pl, F.na, LB_ASC, 5, "after reset"));
	assert_int_equal(send_tx(&F.a, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 0, pl.data, pl.len,
				 true),
			 LB_OK);
	lb_buf_release(&pl);
	sodium_memzero(x, sizeof x);
	sodium_memzero(xw, sizeof xw);
}

/* ---- the follow-up on the settlement and directory chains ----------------------------------- */

/* Commit one block of chain holding raw alone (applied; marked invalid if refused). */
static void commit_raw(int chain, const struct lb_buf *raw)
{
	const uint8_t *raws[1] = {raw->data};
	size_t lens[1] = {raw->len};
	struct lb_cut c = {chain, F.time_ms += 1000, 1, raws, lens};
	struct lb_errmsg em;
	uint64_t h;
	if (lb_ledger_commit(F.l, &c, &h, &em))
		fail_msg("commit: %s", em.text);
}

static void empty_block_of(int chain)
{
	struct lb_cut c = {chain, F.time_ms += 1000, 0, NULL, NULL};
	struct lb_errmsg em;
	uint64_t h;
	if (lb_ledger_commit(F.l, &c, &h, &em))
		fail_msg("commit: %s", em.text);
}

/* keys.follow payload citing tx id (its committed bytes) with its proof anchored in anchor. */
static void follow_payload(struct lb_buf *out, const uint8_t id[LB_HASH_LEN], int anchor)
{
	struct lb_buf proof;
	struct lb_errmsg em;
	uint8_t *raw = NULL;
	size_t len = 0;
	int chain;
	assert_lb_ok(lb_ledger_tx_raw(F.l, id, &chain, &raw, &len));
	assert_int_equal(chain, LB_CHAIN_BUSINESS);
	lb_buf_init(&proof, 1 << 20);
	if (lb_ledger_proof(F.l, id, anchor, &proof, &em))
		fail_msg("proof: %s", em.text);
	lb_buf_init(out, LB_TX_MAX_BYTES);
	assert_lb_ok(lb_keyfollow_encode(out, raw, len, proof.data, proof.len));
	lb_buf_release(&proof);
	lb_free(raw);
}

static int send_follow(int chain, const struct lb_keypair *kp, uint64_t nonce,
		       const struct lb_buf *pl)
{
	return send_tx(kp, chain,
		       chain == LB_CHAIN_SETTLEMENT ? LB_TX_KEYS_FOLLOW : LB_TX_KEYS_FOLLOW_DIR,
		       nonce, pl->data, pl->len, true);
}

/* The key-map entry of key address ka on chain: its tag and account, 0 when there is none. */
static int keymap_tag(int chain, const uint8_t ka[LB_ADDR_LEN], uint8_t acct[LB_ADDR_LEN])
{
	struct lb_buf v;
	struct lb_errmsg em;
	lb_buf_init(&v, 64);
	int rc = lb_ledger_state_read(F.l, chain, LB_KEYMAP_NS, ka, LB_ADDR_LEN, &v, &em);
	int tag = 0;
	if (rc == LB_OK) {
		assert_int_equal(v.len, 1 + LB_ADDR_LEN);
		tag = v.data[0];
		memcpy(acct, v.data + 1, LB_ADDR_LEN);
	} else {
		assert_int_equal(rc, LB_ENOTFOUND);
	}
	lb_buf_release(&v);
	return tag;
}

static uint64_t asc_of(const uint8_t addr[LB_ADDR_LEN])
{
	json_t *o = NULL;
	struct lb_errmsg em;
	assert_lb_ok(lb_ledger_account_json(F.l, addr, &o, &em));
	json_t *v = json_object_get(json_object_get(o, "balances"), "asc");
	assert_true(json_is_integer(v));
	uint64_t n = (uint64_t)json_integer_value(v);
	json_decref(o);
	return n;
}

/* A reset from a chain the attacker made alone: A's stolen key records its own recovery
 * commitment there and resets to the attacker's key M. Its proof checks out by itself (the
 * attacker signs every header), but no block of the real chain anchors it. */
static void forged_follow(struct lb_buf *out, const struct lb_keypair *m)
{
	char home[64];
	struct lb_keypair prop2;
	struct lb_ledger *real = F.l;
	struct lb_zk_recovery rec;
	struct lb_keyreset r;
	struct lb_errmsg em;
	uint8_t rb[LB_ZK_RECOVERY_BYTES], x[32];
	static const char secret[] = "attacker-chosen-recovery-secret";
	uint64_t t0 = F.time_ms;
	snprintf(home, sizeof home, "/tmp/lb-test-sectx-forge-XXXXXX");
	assert_non_null(mkdtemp(home));
	seeded(&prop2, 9);
	F.l = open_ledger(home, &prop2);
	assert_lb_ok(lb_zk_recovery_new(&rec, secret, strlen(secret), 1, 8192, &em));
	assert_lb_ok(lb_zk_derive(x, secret, strlen(secret), &rec, &em));
	lb_zk_recovery_encode(&rec, rb);
	assert_int_equal(send_tx(&F.a, LB_CHAIN_BUSINESS, LB_TX_KEYS_RECOVERY, 0, rb, sizeof rb,
				 true),
			 LB_OK);
	reset_payload(&r, m->pk, 0);
	assert_lb_ok(lb_keyreset_prove(&r, x));
	assert_int_equal(send_reset(m, 0, &r), LB_OK);
	uint8_t id[LB_HASH_LEN];
	memcpy(id, F.last_id, LB_HASH_LEN);
	for (int i = 0; i < 8; i++) /* as many settlement blocks as the real chain, or more */
		empty_block_of(LB_CHAIN_SETTLEMENT);
	follow_payload(out, id, LB_CHAIN_SETTLEMENT);
	lb_ledger_close(F.l);
	F.l = real;
	F.time_ms = t0;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	assert_int_equal(system(cmd), 0);
	sodium_memzero(x, sizeof x);
}

static void test_follow(void **state)
{
	(void)state;
	struct lb_buf pl, bad, tr;
	struct lb_keyreset r;
	struct lb_keypair m;
	uint8_t n2a[LB_ADDR_LEN], ma[LB_ADDR_LEN], acct[LB_ADDR_LEN], b[LB_KEYRESET_MAXBYTES];
	size_t n;
	struct lb_errmsg em;
	lb_addr_from_pubkey(n2a, F.n2.pk);
	seeded(&m, 10);
	lb_addr_from_pubkey(ma, m.pk);

	/* a reset that went into a block but was refused there (its proof is all zeros) */
	reset_payload(&r, F.g1.pk, 2);
	assert_lb_ok(lb_keyreset_encode(&r, b, &n, &em));
	build(&bad, &F.g1, LB_CHAIN_BUSINESS, LB_TX_KEYS_RESET, 0, b, n);
	memcpy(F.bad_reset_id, F.last_id, LB_HASH_LEN);
	commit_raw(LB_CHAIN_BUSINESS, &bad);
	lb_buf_release(&bad);
	/* settlement and directory blocks that anchor every business block so far */
	empty_block_of(LB_CHAIN_SETTLEMENT);
	empty_block_of(LB_CHAIN_DIRECTORY);
	uint64_t a0 = asc_of(F.aa);
	assert_true(a0 > 0);

	/* a proof from a business chain the holder of A's stolen key made alone */
	forged_follow(&pl, &m);
	assert_int_equal(send_follow(LB_CHAIN_SETTLEMENT, &m, 0, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	/* the genuine proof of reset 1, anchored in the directory chain, sent to settlement */
	follow_payload(&pl, F.reset_id[1], LB_CHAIN_DIRECTORY);
	assert_int_equal(send_follow(LB_CHAIN_SETTLEMENT, &F.n2, 0, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	/* ... and a proof that stops at the business block (no anchor) */
	follow_payload(&pl, F.reset_id[1], -1);
	assert_int_equal(send_follow(LB_CHAIN_SETTLEMENT, &F.n2, 0, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	/* tampered proof bytes (one bit of the business header's app hash) */
	follow_payload(&pl, F.reset_id[1], LB_CHAIN_SETTLEMENT);
	pl.data[pl.len - 40] ^= 1;
	assert_int_equal(send_follow(LB_CHAIN_SETTLEMENT, &F.n2, 0, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	/* the proof of a business record, not of a reset */
	follow_payload(&pl, F.record_id, LB_CHAIN_SETTLEMENT);
	assert_int_equal(send_follow(LB_CHAIN_SETTLEMENT, &F.n2, 0, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	/* reset 1's bytes with reset 0's proof */
	{
		uint8_t *raw1 = NULL;
		size_t l1;
		int ch;
		struct lb_keyfollow f;
		struct lb_buf p0;
		follow_payload(&p0, F.reset_id[0], LB_CHAIN_SETTLEMENT);
		assert_lb_ok(lb_keyfollow_decode(&f, p0.data, p0.len, &em));
		assert_lb_ok(lb_ledger_tx_raw(F.l, F.reset_id[1], &ch, &raw1, &l1));
		lb_buf_init(&pl, LB_TX_MAX_BYTES);
		assert_lb_ok(lb_keyfollow_encode(&pl, raw1, l1, f.proof, f.proof_len));
		assert_int_equal(send_follow(LB_CHAIN_SETTLEMENT, &F.n2, 0, &pl), LB_EINVALID);
		lb_buf_release(&pl);
		lb_buf_release(&p0);
		lb_free(raw1);
	}
	/* a reset that is in its block but marked invalid there */
	follow_payload(&pl, F.bad_reset_id, LB_CHAIN_SETTLEMENT);
	assert_int_equal(send_follow(LB_CHAIN_SETTLEMENT, &F.n2, 0, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	/* a payload cut short: malformed before any state is read */
	follow_payload(&pl, F.reset_id[1], LB_CHAIN_SETTLEMENT);
	assert_int_equal(send_tx(&F.n2, LB_CHAIN_SETTLEMENT, LB_TX_KEYS_FOLLOW, 0, pl.data,
				 pl.len - 1, false),
			 LB_EMALFORMED);
	/* nothing of all that reached the settlement key map */
	assert_int_equal(keymap_tag(LB_CHAIN_SETTLEMENT, F.aa, acct), 0);
	assert_int_equal(keymap_tag(LB_CHAIN_SETTLEMENT, ma, acct), 0);

	/* reset 1 on settlement, sent by the new key itself: reset 0 is superseded */
	assert_int_equal(send_follow(LB_CHAIN_SETTLEMENT, &F.n2, 0, &pl), LB_OK);
	assert_int_equal(keymap_tag(LB_CHAIN_SETTLEMENT, F.aa, acct), LB_KEYMAP_REPLACED);
	assert_memory_equal(acct, F.aa, LB_ADDR_LEN);
	assert_int_equal(keymap_tag(LB_CHAIN_SETTLEMENT, n2a, acct), LB_KEYMAP_ACTS_FOR);
	assert_memory_equal(acct, F.aa, LB_ADDR_LEN);
	assert_int_equal(keymap_tag(LB_CHAIN_SETTLEMENT, F.na, acct), 0); /* never acted here */
	/* the same follow-up again (from another sender), and then the superseded reset 0 */
	assert_int_equal(send_follow(LB_CHAIN_SETTLEMENT, &F.g2, 0, &pl), LB_ENONCEUSED);
	lb_buf_release(&pl);
	follow_payload(&pl, F.reset_id[0], LB_CHAIN_SETTLEMENT);
	assert_int_equal(send_follow(LB_CHAIN_SETTLEMENT, &F.g2, 0, &pl), LB_ENONCEUSED);
	lb_buf_release(&pl);

	/* the old key is refused on settlement; the new key moves A's ASC (fee from A) */
	lb_buf_init(&tr, 256);
	assert_lb_ok(lb_payload_transfer(&tr, ma, LB_ASC, 7, "stolen key"));
	assert_int_equal(send_tx(&F.a, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 1, tr.data, tr.len,
				 false),
			 LB_EUNAUTH);
	assert_int_equal(send_tx(&F.n2, LB_CHAIN_SETTLEMENT, LB_TX_TRANSFER, 1, tr.data, tr.len,
				 true),
			 LB_OK);
	lb_buf_release(&tr);
	assert_int_equal(asc_of(F.aa), a0 - 7);
	assert_int_equal(asc_of(ma), 7);
	assert_int_equal(asc_of(n2a), 0);

	/* the directory chain, in order: reset 0 then reset 1 */
	follow_payload(&pl, F.reset_id[0], LB_CHAIN_SETTLEMENT); /* anchored in the wrong chain */
	assert_int_equal(send_follow(LB_CHAIN_DIRECTORY, &F.g2, 0, &pl), LB_EINVALID);
	lb_buf_release(&pl);
	follow_payload(&pl, F.reset_id[0], LB_CHAIN_DIRECTORY);
	assert_int_equal(send_follow(LB_CHAIN_DIRECTORY, &F.g2, 0, &pl), LB_OK);
	assert_int_equal(keymap_tag(LB_CHAIN_DIRECTORY, F.na, acct), LB_KEYMAP_ACTS_FOR);
	assert_int_equal(send_follow(LB_CHAIN_DIRECTORY, &F.g2, 1, &pl), LB_ENONCEUSED);
	lb_buf_release(&pl);
	follow_payload(&pl, F.reset_id[1], LB_CHAIN_DIRECTORY);
	assert_int_equal(send_follow(LB_CHAIN_DIRECTORY, &F.g2, 1, &pl), LB_OK);
	lb_buf_release(&pl);
	assert_int_equal(keymap_tag(LB_CHAIN_DIRECTORY, F.aa, acct), LB_KEYMAP_REPLACED);
	assert_int_equal(keymap_tag(LB_CHAIN_DIRECTORY, F.na, acct), LB_KEYMAP_REPLACED);
	assert_memory_equal(acct, F.aa, LB_ADDR_LEN);
	assert_int_equal(keymap_tag(LB_CHAIN_DIRECTORY, n2a, acct), LB_KEYMAP_ACTS_FOR);
	/* old keys refused on the directory chain, the new key registers an asset for A */
	uint8_t content[LB_HASH_LEN];
	memset(content, 0x5a, sizeof content);
	lb_buf_init(&tr, 256);
	assert_lb_ok(lb_payload_asset_register(&tr, content, "{}", 2));
	assert_int_equal(send_tx(&F.a, LB_CHAIN_DIRECTORY, LB_TX_ASSET_REGISTER, 0, tr.data, tr.len,
				 false),
			 LB_EUNAUTH);
	assert_int_equal(send_tx(&F.n, LB_CHAIN_DIRECTORY, LB_TX_ASSET_REGISTER, 0, tr.data, tr.len,
				 false),
			 LB_EUNAUTH);
	assert_int_equal(send_tx(&F.n2, LB_CHAIN_DIRECTORY, LB_TX_ASSET_REGISTER, 0, tr.data,
				 tr.len, true),
			 LB_OK);
	lb_buf_release(&tr);

	/* the JSON view names the cited reset */
	follow_payload(&pl, F.reset_id[1], LB_CHAIN_DIRECTORY);
	struct lb_tx fake = {.chain = LB_CHAIN_DIRECTORY, .type = LB_TX_KEYS_FOLLOW_DIR,
			     .payload = pl.data, .payload_len = pl.len};
	json_t *j = lb_txtype_find(LB_TX_KEYS_FOLLOW_DIR)->to_json(&fake);
	char idhex[2 * LB_HASH_LEN + 1];
	lb_hex_encode(idhex, F.reset_id[1], LB_HASH_LEN);
	assert_string_equal(json_string_value(json_object_get(j, "reset_tx")), idhex);
	assert_int_equal(json_integer_value(json_object_get(j, "reset_nonce")), 1);
	json_decref(j);
	lb_buf_release(&pl);

	/* the whole history replays to the same state */
	if (lb_ledger_verify_home(F.home, NULL, NULL, &em))
		fail_msg("verify: %s", em.text);
}

/* Owners' KES keys from fixed seeds; the policy lists them sorted. */
static void owners(struct lb_kes_sk sk[3], struct lb_msig_policy *p, unsigned t,
		   uint64_t start, uint64_t epoch)
{
	uint8_t vk[3][32], seed[32];
	memset(p, 0, sizeof *p);
	for (int i = 0; i < 3; i++) {
		memset(seed, 0x40 + i, sizeof seed);
		assert_lb_ok(lb_kes_keygen(&sk[i], vk[i], seed));
	}
	/* sort keys (and their sks) by vk */
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (memcmp(vk[j], vk[i], 32) < 0) {
				uint8_t tv[32];
				struct lb_kes_sk ts = sk[i];
				memcpy(tv, vk[i], 32);
				memcpy(vk[i], vk[j], 32);
				memcpy(vk[j], tv, 32);
				sk[i] = sk[j];
				sk[j] = ts;
			}
	p->n = 3;
	p->threshold = t;
	for (int i = 0; i < 3; i++)
		memcpy(p->owners[i], vk[i], 32);
	p->start_height = start;
	p->epoch_blocks = epoch;
}

/* Broadcast multi-signature of owners (indexes in who) over the act. */
static size_t msig(struct lb_kes_sk sk[3], const struct lb_msig_policy *p, const int *who,
		   size_t k, const uint8_t asset[32], const void *act, size_t alen, uint8_t *out)
{
	static uint8_t ent[3][LB_MSIG_ENTRYBYTES];
	const uint8_t *ep[3];
	uint8_t d[32];
	size_t n;
	struct lb_errmsg em;
	lb_security_act_digest(asset, act, alen, d);
	for (size_t i = 0; i < k; i++) {
		assert_lb_ok(lb_msig_broadcast_sign(&sk[who[i]], p, d, 32, ent[i], &em));
		ep[i] = ent[i];
	}
	assert_lb_ok(lb_msig_assemble(ep, k, sk[who[0]].period, out, &n, &em));
	return n;
}

static int send_approve(const uint8_t asset[32], const char *act, const uint8_t *sig,
			size_t slen)
{
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	assert_lb_ok(lb_policy_approve_encode(&b, asset, (const uint8_t *)act, strlen(act), sig,
					      slen));
	int rc = send_tx(&F.n2, LB_CHAIN_BUSINESS, LB_TX_POLICY_APPROVE, F.nonce_n, b.data, b.len,
			 true);
	if (rc == LB_OK)
		F.nonce_n++;
	lb_buf_release(&b);
	return rc;
}

static void test_policy(void **state)
{
	(void)state;
	static struct lb_kes_sk sk[3];
	static uint8_t sig[LB_MSIG_BYTES(3)];
	struct lb_msig_policy p, p2;
	struct lb_errmsg em;
	struct lb_buf b;
	uint8_t asset[32], other[32];
	uint64_t h = lb_ledger_height(F.l, LB_CHAIN_BUSINESS);
	size_t n;
	memset(asset, 0xA5, 32);
	memset(other, 0x5A, 32);
	F.nonce_n = 2; /* N2 (acting for A) continues its own nonce sequence */

	/* period 0 starts at the next block; 3 blocks per period */
	owners(sk, &p, 2, h + 1, 3);
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	/* a first policy carrying an approval: nothing to approve */
	assert_lb_ok(lb_policy_set_encode(&b, asset, &p, (const uint8_t *)"x", 1, &em));
	assert_int_equal(send_tx(&F.n2, LB_CHAIN_BUSINESS, LB_TX_POLICY_SET, F.nonce_n, b.data,
				 b.len, false),
			 LB_EINVALID);
	/* a policy starting in the future */
	p.start_height = h + 50;
	lb_buf_reset(&b);
	assert_lb_ok(lb_policy_set_encode(&b, asset, &p, NULL, 0, &em));
	assert_int_equal(send_tx(&F.n2, LB_CHAIN_BUSINESS, LB_TX_POLICY_SET, F.nonce_n, b.data,
				 b.len, false),
			 LB_EINVALID);
	/* unsorted owners: malformed */
	p.start_height = h + 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_policy_set_encode(&b, asset, &p, NULL, 0, &em));
	{
		uint8_t *q = lb_malloc(b.len);
		memcpy(q, b.data, b.len);
		/* owners start after version | asset | length (1 byte) | v1 | t | n */
		uint8_t t[32];
		size_t o = 1 + 32 + 1 + 3;
		memcpy(t, q + o, 32);
		memcpy(q + o, q + o + 32, 32);
		memcpy(q + o + 32, t, 32);
		assert_int_equal(send_tx(&F.n2, LB_CHAIN_BUSINESS, LB_TX_POLICY_SET, F.nonce_n, q,
					 b.len, false),
				 LB_EMALFORMED);
		lb_free(q);
	}
	assert_int_equal(send_tx(&F.n2, LB_CHAIN_BUSINESS, LB_TX_POLICY_SET, F.nonce_n++, b.data,
				 b.len, true),
			 LB_OK);
	/* setting it again without the owners' approval */
	assert_int_equal(send_tx(&F.n2, LB_CHAIN_BUSINESS, LB_TX_POLICY_SET, F.nonce_n, b.data,
				 b.len, false),
			 LB_EDENIED);

	/* the block now being built is h + 2: period 0 */
	static const char act[] = "grant execution of asset A5 to lb1example";
	int two[2] = {0, 2}, one[1] = {1};
	n = msig(sk, &p, one, 1, asset, act, strlen(act), sig);
	assert_int_equal(send_approve(asset, act, sig, n), LB_EDENIED);
	n = msig(sk, &p, two, 2, asset, act, strlen(act), sig);
	assert_int_equal(send_approve(other, act, sig, n), LB_ENOTFOUND);
	sig[100] ^= 1;
	assert_int_equal(send_approve(asset, act, sig, n), LB_EBADSIG);
	sig[100] ^= 1;
	assert_int_equal(send_approve(asset, "another act", sig, n), LB_EBADSIG);
	assert_int_equal(send_approve(asset, act, sig, n), LB_OK); /* block h + 2 */
	assert_int_equal(send_approve(asset, act, sig, n), LB_EDUPLICATE);

	/* move to period 1 (blocks h+4..h+6): a period-0 signature is refused, owners update */
	empty_block(); /* h + 3 */
	static const char act2[] = "grant execution of asset A5 to lb1other";
	n = msig(sk, &p, two, 2, asset, act2, strlen(act2), sig);
	assert_int_equal(send_approve(asset, act2, sig, n), LB_EINVALID);
	for (int i = 0; i < 3; i++)
		assert_lb_ok(lb_kes_update(&sk[i]));
	/* the updated key cannot sign for period 0 any more */
	assert_int_equal(lb_kes_update_to(&sk[0], 0), LB_EINVALID);
	n = msig(sk, &p, two, 2, asset, act2, strlen(act2), sig);
	assert_int_equal(send_approve(asset, act2, sig, n), LB_OK); /* block h + 4 */

	/* policy update: threshold 3, approved by 2 of the current owners (period 1) */
	p2 = p;
	p2.threshold = 3;
	uint8_t upd[11 + LB_MSIG_POLICY_MAXBYTES];
	size_t ulen;
	assert_lb_ok(lb_policy_update_act(&p2, upd, &ulen, &em));
	n = msig(sk, &p, two, 2, asset, upd, ulen, sig);
	lb_buf_reset(&b);
	assert_lb_ok(lb_policy_set_encode(&b, asset, &p2, sig, n, &em));
	assert_int_equal(send_tx(&F.n2, LB_CHAIN_BUSINESS, LB_TX_POLICY_SET, F.nonce_n++, b.data,
				 b.len, true),
			 LB_OK);
	/* now two signatures are not enough */
	static const char act3[] = "third act";
	n = msig(sk, &p2, two, 2, asset, act3, strlen(act3), sig);
	assert_int_equal(send_approve(asset, act3, sig, n), LB_EDENIED);
	int all[3] = {0, 1, 2};
	n = msig(sk, &p2, all, 3, asset, act3, strlen(act3), sig);
	assert_int_equal(send_approve(asset, act3, sig, n), LB_OK);
	/* a policy whose 64 periods of one block are over: LB_ERANGE */
	uint8_t old_asset[32];
	memset(old_asset, 0x0D, 32);
	for (int i = 0; i < 70; i++)
		empty_block();
	struct lb_msig_policy p3 = p;
	p3.start_height = 1;
	p3.epoch_blocks = 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_policy_set_encode(&b, old_asset, &p3, NULL, 0, &em));
	assert_int_equal(send_tx(&F.n2, LB_CHAIN_BUSINESS, LB_TX_POLICY_SET, F.nonce_n++, b.data,
				 b.len, true),
			 LB_OK);
	n = msig(sk, &p3, two, 2, old_asset, act3, strlen(act3), sig);
	assert_int_equal(send_approve(old_asset, act3, sig, n), LB_ERANGE);
	lb_buf_release(&b);
	for (int i = 0; i < 3; i++)
		lb_kes_sk_wipe(&sk[i]);
}

/* Known answers (tests/vectors/security-tx/, written by make.py from the wire format with the
 * python standard library): each payload passes its type's check, its JSON view equals the
 * expected one, and policy payloads re-encode to the same bytes. */
static void test_vectors(void **state)
{
	(void)state;
	static const char *const names[] = {"guardians", "recovery", "reset", "policy_set",
					    "policy_set_update", "policy_approve"};
	const char *root = getenv("LEBEN_ROOT");
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		char path[512], idtext[16];
		uint8_t *in, *pl;
		size_t len, plen;
		struct lb_errmsg em;
		snprintf(path, sizeof path, "%s/tests/vectors/security-tx/%s.in", root ? root : ".",
			 names[k]);
		assert_lb_ok(lb_file_read(path, 1 << 16, &in, &len, &em));
		char *nl = strchr((char *)in, '\n');
		assert_non_null(nl);
		*nl = 0;
		snprintf(idtext, sizeof idtext, "%s", (char *)in);
		char *hex = nl + 1, *end = strchr(hex, '\n');
		if (end)
			*end = 0;
		assert_lb_ok(lb_hex_decode_alloc(hex, &pl, &plen, LB_TX_PAYLOAD_MAX));
		const struct lb_txtype *t = lb_txtype_find((uint32_t)strtoul(idtext, NULL, 16));
		assert_non_null(t);
		struct lb_tx tx;
		memset(&tx, 0, sizeof tx);
		tx.chain = LB_CHAIN_BUSINESS;
		tx.type = t->id;
		tx.payload = pl;
		tx.payload_len = plen;
		if (t->check(&tx, &em))
			fail_msg("%s: %s", names[k], em.text);
		json_t *got = t->to_json(&tx);
		snprintf(path, sizeof path, "%s/tests/vectors/security-tx/%s.exp", root ? root : ".",
			 names[k]);
		json_t *want = json_load_file(path, 0, NULL);
		assert_non_null(got);
		assert_non_null(want);
		if (!json_equal(got, want)) {
			char *g = json_dumps(got, JSON_SORT_KEYS);
			fail_msg("%s: JSON view differs: %s", names[k], g);
		}
		json_decref(got);
		json_decref(want);
		struct lb_buf b;
		lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
		if (t->id == LB_TX_POLICY_SET) {
			struct lb_policy_set p;
			assert_lb_ok(lb_policy_set_decode(&p, pl, plen, &em));
			assert_lb_ok(lb_policy_set_encode(&b, p.asset, &p.policy, p.approval,
							  p.approval_len, &em));
		} else if (t->id == LB_TX_POLICY_APPROVE) {
			struct lb_policy_approve p;
			assert_lb_ok(lb_policy_approve_decode(&p, pl, plen, &em));
			assert_lb_ok(lb_policy_approve_encode(&b, p.asset, p.act, p.act_len, p.sig,
							      p.sig_len));
		}
		if (b.len) {
			assert_int_equal(b.len, plen);
			assert_memory_equal(b.data, pl, plen);
		}
		/* one byte more or less is refused */
		tx.payload_len = plen - 1;
		assert_int_not_equal(t->check(&tx, &em), LB_OK);
		lb_buf_release(&b);
		lb_free(pl);
		lb_free(in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_guardians),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_follow),
		cmocka_unit_test(test_policy),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
