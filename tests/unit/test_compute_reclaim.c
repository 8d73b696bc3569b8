/* Reclaim of an expired compute.prepay (docs/economy.md §7, "Reclaim"), on a real ledger with
 * the three chains and block times chosen by the test: the attacks first, each committed in a
 * block and found invalid there with its own message, every balance unchanged (a reclaim
 * before the expiry while a run's settlement is pending, by another account, a run citing a
 * prepayment past half its expiry); then the race of a settlement and a reclaim of the same
 * prepayment in one block, in both orders: the first applied wins, the other is invalid (a
 * settlement after the reclaim: "reclaimed it", the money is gone; a reclaim after the
 * settlement: "it was settled"); a second reclaim and a later settlement of a reclaimed
 * prepayment are refused; the payer gets exactly the amount back; the home replays
 * (lb_ledger_verify_home). */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "ledger_fixture.h"
#include "leben/codec.h"
#include "leben/market.h"
#include "leben/onchain.h"

#define PRICE 7
#define BUDGET 100
#define EXPIRY_S 10
#define T0 1000000u

enum { PAYER, OTHER, NK };

struct fx {
	char home[64];
	struct lb_ledger *l;
	struct lb_keypair prop, k[NK];
	uint8_t a[NK][LB_ADDR_LEN];
	uint64_t pend[NK][LB_CHAIN_COUNT]; /* txs built for the next block */
	uint64_t serial;                   /* makes every tx distinct (a retry has a new id) */
};

static void fx_init(struct fx *f)
{
	uint8_t seed[LB_SEED_LEN];
	char at[LB_ADDR_TEXT_LEN + 1], pt[LB_ADDR_TEXT_LEN + 1];
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	assert_lb_ok(lb_market_register_txtypes());
	assert_lb_ok(lb_onchain_register_txtypes());
	memset(f, 0, sizeof *f);
	fx_mkhome(f->home, sizeof f->home, "reclaim");
	memset(seed, 70, sizeof seed);
	lb_keypair_from_seed(&f->prop, seed);
	json_t *accts = json_array();
	for (int i = 0; i < NK; i++) {
		memset(seed, 71 + i, sizeof seed);
		lb_keypair_from_seed(&f->k[i], seed);
		lb_addr_from_pubkey(f->a[i], f->k[i].pk);
		lb_addr_encode(at, f->a[i]);
		json_array_append_new(accts, json_pack("{s:s,s:I,s:I}", "address", at, "asc",
						       (json_int_t)1000000, "csc",
						       (json_int_t)10000000));
	}
	uint8_t plat[LB_ADDR_LEN];
	memset(plat, 0x5a, sizeof plat);
	lb_addr_encode(pt, plat);
	fx_genesis(f->home,
		   json_pack("{s:s,s:i,s:{s:i},s:o,s:{s:s,s:{s:i}},s:{s:b}}", "network", "reclaim",
			     "time_ms", 1, "fees", "default", 1000, "accounts", accts, "market",
			     "platform", pt, "compute", "step", PRICE, "compute", "prepay", 1));
	fx_open(&f->l, f->home, &f->prop);
}

/* Sign a tx of who on chain (its next nonce after those built for the block) into raw; its
 * id into id. */
static void build(struct fx *f, struct lb_buf *raw, int who, int chain, uint32_t type,
		  const void *pl, size_t len, uint8_t id[LB_HASH_LEN])
{
	uint64_t nonce = lb_ledger_next_nonce(f->l, chain, f->a[who]) + f->pend[who][chain]++;
	fx_build(raw, f->l, &f->k[who], chain, type, nonce, 10000000000000ull + f->serial++, pl,
		 len, id);
}

/* Commit the n txs as one block of chain at time t (no admission: the block decides). */
static void block(struct fx *f, int chain, uint64_t t, size_t n, struct lb_buf *raws)
{
	const uint8_t *r[4];
	size_t l[4];
	struct lb_errmsg em;
	for (size_t i = 0; i < n; i++) {
		r[i] = raws[i].data;
		l[i] = raws[i].len;
	}
	struct lb_cut c = {chain, t, n, r, l};
	if (lb_ledger_commit(f->l, &c, NULL, &em))
		fail_msg("commit: %s", em.text);
	for (size_t i = 0; i < n; i++)
		lb_buf_release(&raws[i]);
	memset(f->pend, 0, sizeof f->pend);
}

/* Committed valid (NULL words), or invalid with a message holding words. */
static void outcome(struct fx *f, const uint8_t id[LB_HASH_LEN], const char *words)
{
	json_t *j;
	struct lb_errmsg em;
	assert_lb_ok(lb_ledger_tx_json(f->l, id, &j, &em));
	const char *st = json_string_value(json_object_get(j, "status"));
	const char *msg =
		json_string_value(json_object_get(json_object_get(j, "error"), "message"));
	if (!words && strcmp(st, "committed"))
		fail_msg("want committed, got %s: %s", st, msg ? msg : "");
	if (words && (strcmp(st, "invalid") || !msg || !strstr(msg, words)))
		fail_msg("want invalid '%s', got %s: %s", words, st, msg ? msg : "");
	json_decref(j);
}

static uint64_t csc(struct fx *f, const uint8_t a[LB_ADDR_LEN])
{
	return fx_csc(f->l, a);
}

static void prepay(struct fx *f, struct lb_buf *raw, uint8_t id[LB_HASH_LEN])
{
	uint8_t pb[20];
	struct lb_buf p = {.data = pb, .len = 0, .cap = sizeof pb - 1, .max = sizeof pb};
	struct lb_oc_prepay pp = {.budget = BUDGET, .has_expiry = true, .expiry_s = EXPIRY_S};
	assert_lb_ok(lb_oc_prepay_encode(&p, &pp));
	build(f, raw, PAYER, LB_CHAIN_SETTLEMENT, LB_TX_COMPUTE_PREPAY, p.data, p.len, id);
}

/* The committed tx's bytes and its proof anchored in chain anchor (caller releases both). */
static void cited(struct fx *f, const uint8_t id[LB_HASH_LEN], int anchor, struct lb_buf *tx,
		  struct lb_buf *proof)
{
	uint8_t *raw;
	size_t n;
	int chain;
	struct lb_errmsg em;
	assert_lb_ok(lb_ledger_tx_raw(f->l, id, &chain, &raw, &n));
	lb_buf_init(tx, LB_TX_MAX_BYTES);
	assert_lb_ok(lb_buf_add(tx, raw, n));
	lb_free(raw);
	lb_buf_init(proof, 1 << 20);
	if (lb_ledger_proof(f->l, id, anchor, proof, &em))
		fail_msg("proof: %s", em.text);
}

/* A compute.run of PAYER citing prepayment pid (3 steps). */
static void run_citing(struct fx *f, const uint8_t pid[LB_HASH_LEN], struct lb_buf *raw,
		       uint8_t id[LB_HASH_LEN])
{
	static const char prog[] = "out z = x + 1\n";
	int64_t x = 1;
	struct lb_buf ptx, pproof, pl;
	cited(f, pid, LB_CHAIN_BUSINESS, &ptx, &pproof);
	struct lb_oc_value in = {.name = "x", .v = &x, .n = 1};
	struct lb_oc_run_tx r = {.text = (const uint8_t *)prog, .text_len = sizeof prog - 1,
				 .budget = BUDGET, .in = &in, .nin = 1, .has_prepay = true,
				 .prepay_tx = ptx.data, .prepay_tx_len = ptx.len,
				 .prepay_proof = pproof.data, .prepay_proof_len = pproof.len};
	lb_buf_init(&pl, LB_TX_MAX_BYTES);
	assert_lb_ok(lb_oc_run_encode(&pl, &r));
	build(f, raw, PAYER, LB_CHAIN_BUSINESS, LB_TX_COMPUTE_RUN, pl.data, pl.len, id);
	lb_buf_release(&pl);
	lb_buf_release(&ptx);
	lb_buf_release(&pproof);
}

/* compute.settle of run rid (3 steps), sent by OTHER. */
static void settle(struct fx *f, const uint8_t rid[LB_HASH_LEN], struct lb_buf *raw,
		   uint8_t id[LB_HASH_LEN])
{
	struct lb_buf rtx, rproof, pl;
	cited(f, rid, LB_CHAIN_SETTLEMENT, &rtx, &rproof);
	lb_buf_init(&pl, LB_TX_MAX_BYTES);
	assert_lb_ok(lb_mkt_settle_encode(&pl, rtx.data, rtx.len, rproof.data, rproof.len, 3,
					  NULL, 0));
	build(f, raw, OTHER, LB_CHAIN_SETTLEMENT, LB_TX_COMPUTE_SETTLE, pl.data, pl.len, id);
	lb_buf_release(&pl);
	lb_buf_release(&rtx);
	lb_buf_release(&rproof);
}

static void reclaim(struct fx *f, int who, const uint8_t pid[LB_HASH_LEN], struct lb_buf *raw,
		    uint8_t id[LB_HASH_LEN])
{
	build(f, raw, who, LB_CHAIN_SETTLEMENT, LB_TX_COMPUTE_RECLAIM, pid, LB_HASH_LEN, id);
}

static void test_reclaim(void **state)
{
	(void)state;
	struct fx f;
	struct lb_buf b[3];
	uint8_t p[3][LB_HASH_LEN], r[3][LB_HASH_LEN], x[2][LB_HASH_LEN], y[2][LB_HASH_LEN];
	uint8_t lock[LB_ADDR_LEN];
	lb_mkt_prepay_addr(lock);
	fx_init(&f);

	/* three prepayments of 100 steps at 7 micro-CSC, expiring 10 s after their block */
	uint64_t c0 = csc(&f, f.a[PAYER]);
	prepay(&f, &b[0], p[0]);
	block(&f, LB_CHAIN_SETTLEMENT, T0, 1, b);
	prepay(&f, &b[0], p[1]);
	block(&f, LB_CHAIN_SETTLEMENT, T0, 1, b);
	prepay(&f, &b[0], p[2]);
	block(&f, LB_CHAIN_SETTLEMENT, T0, 1, b);
	assert_int_equal(c0 - csc(&f, f.a[PAYER]), 3 * (BUDGET * PRICE + FX_SETTLEMENT_FEE));
	assert_int_equal(csc(&f, lock), 3 * BUDGET * PRICE);
	block(&f, LB_CHAIN_BUSINESS, T0 + 1000, 0, NULL); /* anchors them */

	/* runs cite the first two within half the expiry; the third, past it, is invalid */
	run_citing(&f, p[0], &b[0], r[0]);
	run_citing(&f, p[1], &b[1], r[1]);
	block(&f, LB_CHAIN_BUSINESS, T0 + 2000, 2, b);
	outcome(&f, r[0], NULL);
	outcome(&f, r[1], NULL);
	run_citing(&f, p[2], &b[0], r[2]);
	block(&f, LB_CHAIN_BUSINESS, T0 + 5000, 1, b);
	outcome(&f, r[2], "half its expiry");
	block(&f, LB_CHAIN_SETTLEMENT, T0 + 5000, 0, NULL); /* anchors the runs */

	/* before the expiry (the runs' settlements pending) and by another account: refused */
	uint64_t c1 = csc(&f, f.a[PAYER]), o1 = csc(&f, f.a[OTHER]), l1 = csc(&f, lock);
	reclaim(&f, PAYER, p[0], &b[0], x[0]);
	reclaim(&f, OTHER, p[2], &b[1], x[1]);
	block(&f, LB_CHAIN_SETTLEMENT, T0 + 9999, 2, b);
	outcome(&f, x[0], "a run may still be settled from it");
	outcome(&f, x[1], "made by another account");
	assert_int_equal(csc(&f, f.a[PAYER]), c1);
	assert_int_equal(csc(&f, f.a[OTHER]), o1);
	assert_int_equal(csc(&f, lock), l1);

	/* the race, in one block each: reclaim then settle; settle then reclaim */
	reclaim(&f, PAYER, p[0], &b[0], x[0]);
	settle(&f, r[0], &b[1], y[0]);
	block(&f, LB_CHAIN_SETTLEMENT, T0 + 10000, 2, b);
	outcome(&f, x[0], NULL);
	outcome(&f, y[0], "reclaimed it");
	assert_int_equal(csc(&f, f.a[PAYER]) - c1, BUDGET * PRICE - FX_SETTLEMENT_FEE);
	assert_int_equal(csc(&f, f.a[OTHER]), o1); /* its settlement was invalid: no fee */
	settle(&f, r[1], &b[0], y[1]);
	reclaim(&f, PAYER, p[1], &b[1], x[1]);
	block(&f, LB_CHAIN_SETTLEMENT, T0 + 10001, 2, b);
	outcome(&f, y[1], NULL);
	outcome(&f, x[1], "it was settled");
	assert_int_equal(csc(&f, f.a[PAYER]) - c1,
			 BUDGET * PRICE - FX_SETTLEMENT_FEE + (BUDGET - 3) * PRICE);

	/* a second reclaim; a settlement of the reclaimed prepayment in a later block */
	uint64_t c2 = csc(&f, f.a[PAYER]), l2 = csc(&f, lock);
	reclaim(&f, PAYER, p[0], &b[0], x[0]);
	settle(&f, r[0], &b[1], y[0]);
	block(&f, LB_CHAIN_SETTLEMENT, T0 + 12000, 2, b);
	outcome(&f, x[0], "reclaimed already");
	outcome(&f, y[0], "reclaimed it");
	assert_int_equal(csc(&f, f.a[PAYER]), c2);
	assert_int_equal(csc(&f, lock), l2);

	/* the third, which no run used (its run was refused), comes back whole */
	reclaim(&f, PAYER, p[2], &b[0], x[0]);
	block(&f, LB_CHAIN_SETTLEMENT, T0 + 13000, 1, b);
	outcome(&f, x[0], NULL);
	assert_int_equal(csc(&f, f.a[PAYER]) - c2, BUDGET * PRICE - FX_SETTLEMENT_FEE);
	assert_int_equal(csc(&f, lock), 0);

	struct lb_errmsg em;
	lb_ledger_close(f.l);
	if (lb_ledger_verify_home(f.home, NULL, NULL, &em))
		fail_msg("verify: %s", em.text);
	fx_rmhome(f.home);
}

/* The prepayment payload: old (budget only) and new (with expiry) round-trip; bad ones are
 * refused with the field named. */
static void test_payload(void **state)
{
	(void)state;
	uint8_t buf[32];
	struct lb_buf b = {.data = buf, .len = 0, .cap = sizeof buf - 1, .max = sizeof buf};
	struct lb_oc_prepay in = {.budget = 5}, out;
	struct lb_errmsg em;
	assert_lb_ok(lb_oc_prepay_encode(&b, &in));
	assert_int_equal(b.len, 1);
	assert_lb_ok(lb_oc_prepay_decode(&out, b.data, b.len, &em));
	assert_true(out.budget == 5 && !out.has_expiry);
	in.has_expiry = true;
	in.expiry_s = 86400;
	b.len = 0;
	assert_lb_ok(lb_oc_prepay_encode(&b, &in));
	assert_lb_ok(lb_oc_prepay_decode(&out, b.data, b.len, &em));
	assert_true(out.budget == 5 && out.has_expiry && out.expiry_s == 86400);
	static const struct {
		uint8_t p[8];
		size_t n;
		const char *field;
	} bad[] = {
		{{5, 1}, 2, "too short"},            /* 1 s */
		{{5, 0}, 2, "too short"},            /* 0 s */
		{{0}, 1, "step budget"},             /* budget 0 */
		{{5, 0x81, 0xe7, 0x84, 0x0f}, 5, "expiry"}, /* a year + 1 s */
		{{5, 10, 1}, 3, "trailing"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = lb_oc_prepay_decode(&out, bad[i].p, bad[i].n, &em);
		if (rc != LB_EMALFORMED || !strstr(em.text, bad[i].field))
			fail_msg("bad payload %zu: %s '%s'", i, lb_errname(rc), em.text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_reclaim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
