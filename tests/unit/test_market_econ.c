/* Unit tests of the settlement-chain economy (include/leben/market.h) on a real ledger in a
 * temporary home: paid uses split exactly (figures computed here independently), quota pools,
 * bonuses, a period's top-k ranking and payouts, ASC redemption, split tables changed by a
 * vote of the credit partners; every bad input refused with a specific error and nothing
 * changed; and the invariants over a random history of more than 100,000 txs (total ASC =
 * issued - redeemed, total CSC = genesis + minted - burned, balances and pools add up to the
 * supply, a replay from genesis gives the same state). */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ledger_fixture.h"
#include "leben/base.h"
#include "leben/codec.h"
#include "leben/crypto.h"
#include "leben/ledger.h"
#include "leben/market.h"
#include "leben/tx.h"

enum { P1, P2, P3, U1, U2, U3, U4, U5, NK };
#define PERIOD_BLOCKS 4
#define ACCT_ASC 10000000000000ull /* 10,000,000 ASC */
#define ACCT_CSC 1000000000ull     /* 1,000 CSC */

struct fx {
	char home[64];
	struct lb_ledger *l;
	struct lb_keypair k[NK];
	uint8_t a[NK][LB_ADDR_LEN];
	uint8_t platform[LB_ADDR_LEN];
	uint64_t nonce[NK];
	uint64_t time_ms;
};

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* genesis: P1..P3 credit partners; everyone ACCT_ASC and ACCT_CSC; the market section */
static void fx_setup_market(struct fx *f, const char *tag, bool market);

static void fx_setup(struct fx *f, const char *tag)
{
	fx_setup_market(f, tag, true);
}

static void fx_setup_market(struct fx *f, const char *tag, bool market)
{
	uint8_t seed[LB_SEED_LEN];
	char at[LB_ADDR_TEXT_LEN + 1];
	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	assert_lb_ok(lb_market_register_txtypes());
	memset(f, 0, sizeof *f);
	fx_mkhome(f->home, sizeof f->home, tag);
	json_t *partners = json_array(), *accts = json_array();
	for (int i = 0; i < NK; i++) {
		memset(seed, 40 + i, sizeof seed);
		lb_keypair_from_seed(&f->k[i], seed);
		lb_addr_from_pubkey(f->a[i], f->k[i].pk);
		lb_addr_encode(at, f->a[i]);
		if (i <= P3)
			json_array_append_new(partners, json_string(at));
		json_array_append_new(accts, json_pack("{s:s,s:I,s:I}", "address", at, "asc",
						       (json_int_t)ACCT_ASC, "csc",
						       (json_int_t)ACCT_CSC));
	}
	memset(f->platform, 0x5a, LB_ADDR_LEN);
	lb_addr_encode(at, f->platform);
	json_t *g = json_pack("{s:s,s:i,s:o,s:{s:i},s:o,s:{s:s,s:i,s:i,s:{s:i,s:i}}}", "network",
			      "market-test", "time_ms", 1, "credit_partners", partners, "fees",
			      "default", 1000, "accounts", accts, "market", "platform", at,
			      "period_blocks", PERIOD_BLOCKS, "top_k", 2, "quota", "csc_per_asc", 2,
			      "periods", 2);
	if (!market)
		json_object_del(g, "market");
	fx_genesis(f->home, g);
	fx_open(&f->l, f->home, &f->k[P1]);
	f->time_ms = 1000;
}

/* Close, replay from genesis, recompute every closed period's rankings (leben verify);
 * the number of periods checked. */
static uint64_t fx_teardown(struct fx *f)
{
	struct lb_errmsg em;
	uint64_t periods;
	lb_ledger_close(f->l);
	if (lb_ledger_verify_home(f->home, NULL, NULL, &em))
		fail_msg("verify: %s", em.text);
	struct lb_ledger_options o;
	lb_ledger_options_init(&o);
	o.home = f->home;
	assert_lb_ok(lb_ledger_open(&f->l, &o, NULL, &em));
	if (lb_mkt_verify_ledger(f->l, &periods, &em))
		fail_msg("market verify: %s", em.text);
	lb_ledger_close(f->l);
	fx_rmhome(f->home);
	return periods;
}

/* Build one settlement tx of who (its next nonce). */
static void build(struct fx *f, struct lb_buf *raw, int who, uint32_t type, const struct lb_buf *pl)
{
	fx_build(raw, f->l, &f->k[who], LB_CHAIN_SETTLEMENT, type, f->nonce[who], 0, pl->data,
		 pl->len, NULL);
}

static void commit(struct fx *f, size_t n, const uint8_t *const *raws, const size_t *lens)
{
	struct lb_cut c = {LB_CHAIN_SETTLEMENT, f->time_ms += 1000, n, raws, lens};
	struct lb_errmsg em;
	if (lb_ledger_commit(f->l, &c, NULL, &em))
		fail_msg("commit: %s", em.text);
}

/* Submit one tx of who and commit it as a block (an empty block if refused); its result code
 * and message. */
static int send(struct fx *f, int who, uint32_t type, const struct lb_buf *pl, char *msg,
		size_t msgsz)
{
	struct lb_buf raw;
	struct lb_submit_result r;
	build(f, &raw, who, type, pl);
	fx_submit1(f->l, raw.data, raw.len, &r);
	if (msg)
		snprintf(msg, msgsz, "%s", r.message);
	if (r.code == LB_OK) {
		const uint8_t *raws[1] = {raw.data};
		size_t lens[1] = {raw.len};
		f->nonce[who]++;
		commit(f, 1, raws, lens);
	} else {
		commit(f, 0, NULL, NULL);
	}
	lb_buf_release(&raw);
	return r.code;
}

static void bal(struct fx *f, const uint8_t a[LB_ADDR_LEN], uint64_t *asc, uint64_t *csc)
{
	json_t *o;
	struct lb_errmsg em;
	assert_lb_ok(lb_ledger_account_json(f->l, a, &o, &em));
	json_t *b = json_object_get(o, "balances");
	*asc = b ? (uint64_t)json_integer_value(json_object_get(b, "asc")) : 0;
	*csc = b ? (uint64_t)json_integer_value(json_object_get(b, "csc")) : 0;
	json_decref(o);
}

static int view_market(struct lb_state *s, void *ctx)
{
	struct lb_errmsg em;
	return lb_mkt_state_json(s, (json_t **)ctx, &em);
}

static json_t *market(struct fx *f)
{
	json_t *o = NULL;
	assert_lb_ok(lb_ledger_state_view(f->l, LB_CHAIN_SETTLEMENT, view_market, &o));
	return o;
}

/* The bonus pool's CSC available (micro-CSC). */
static json_int_t bonus_available(struct fx *f)
{
	json_t *m = market(f);
	json_int_t v = json_integer_value(json_object_get(
		json_object_get(json_object_get(m, "pools"), "bonus"), "csc_available"));
	json_decref(m);
	return v;
}

struct rank_q {
	uint64_t period;
	json_t *out;
	struct lb_errmsg em;
};

static int view_rank(struct lb_state *s, void *ctx)
{
	struct rank_q *q = ctx;
	return lb_mkt_ranking_json(s, q->period, &q->out, &q->em);
}

/* Everything a refusal must leave untouched (balances, market state), as one text. */
static char *snapshot(struct fx *f)
{
	json_t *all = json_object(), *j;
	struct lb_errmsg em;
	for (int i = 0; i < NK; i++) {
		char key[16];
		snprintf(key, sizeof key, "k%d", i);
		assert_lb_ok(lb_ledger_account_json(f->l, f->a[i], &j, &em));
		json_object_del(j, "nonce");
		json_object_del(j, "nonces");
		json_object_set_new(all, key, json_pack("{s:O}", "b",
							json_object_get(j, "balances")
								? json_object_get(j, "balances")
								: json_null()));
		json_decref(j);
	}
	json_t *m = market(f);
	json_object_del(json_object_get(m, "totals"), "csc_supply"); /* the refused tx's block */
	json_object_set_new(all, "market", m);
	char *s = json_dumps(all, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(all);
	return s;
}

/* A refusal at admission: code want, message containing words, nothing changed. */
static void refused(struct fx *f, int who, uint32_t type, const struct lb_buf *pl, int want,
		    const char *words)
{
	char msg[512];
	char *before = snapshot(f);
	int rc = send(f, who, type, pl, msg, sizeof msg);
	if (rc != want || !strstr(msg, words))
		fail_msg("type 0x%04x: got %s '%s', want %s '%s'", type, lb_errname(rc), msg,
			 lb_errname(want), words);
	char *after = snapshot(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void test_flow_and_bad_input(void **state)
{
	static struct fx F;
	struct fx *f = &F;
	struct lb_buf b;
	uint64_t a0, c0, a1, c1;
	fx_setup(f, "mkt");
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);

	/* bad input first: each refused, nothing changed (each makes an empty block: blocks
	 * 1..9) */
	assert_lb_ok(lb_mkt_period_encode(&b, 0));
	refused(f, U1, LB_TX_MKT_PERIOD, &b, LB_EINVALID, "close it in a later block");
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_period_encode(&b, 3));
	refused(f, U1, LB_TX_MKT_PERIOD, &b, LB_EINVALID, "the next period to close is 0");
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_fund_encode(&b, LB_MKT_POOL_DEV, 1000));
	refused(f, U1, LB_TX_MKT_FUND, &b, LB_EUNAUTH, "is not a credit partner");
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_fund_encode(&b, LB_MKT_POOL_DEV, ACCT_ASC + 1));
	refused(f, P1, LB_TX_MKT_FUND, &b, LB_EFUNDS, "cannot fund the developers pool");
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_fund_encode(&b, 9, 10));
	refused(f, P1, LB_TX_MKT_FUND, &b, LB_EINVALID, "pool 9 is unknown");
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_redeem_encode(&b, ACCT_ASC + 1));
	refused(f, P1, LB_TX_MKT_REDEEM, &b, LB_EFUNDS, "cannot redeem 10000000.000001 ASC");
	refused(f, U1, LB_TX_MKT_REDEEM, &b, LB_EUNAUTH, "may redeem ASC");
	struct lb_mkt_splits sp;
	lb_mkt_splits_default(&sp);
	sp.use[LB_MKT_USE_CONTRACT].ppm[LB_MKT_ROLE_AUTHORS] += 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_propose_encode(&b, &sp, 1000));
	refused(f, P1, LB_TX_MKT_SPLITS_PROPOSE, &b, LB_EINVALID,
		"contract-call split table adds up to 1000001 ppm");
	struct lb_mkt_parties p = {0};
	p.has_owner = true;
	memcpy(p.owner, f->a[U2], LB_ADDR_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_pay_encode(&b, LB_MKT_USE_DATA_RUN, ACCT_ASC + 1, &p));
	refused(f, U1, LB_TX_MKT_PAY, &b, LB_EFUNDS, "cannot pay the data-run");

	assert_int_equal(lb_ledger_height(f->l, LB_CHAIN_SETTLEMENT), 9);
	/* partners fund the pools (blocks 10..12, period 2): 10 ASC each into developers and data, 1 ASC into bonus;
	 * at 2 CSC per ASC over 2 periods: 10 CSC per period each, 1 CSC for bonus */
	bal(f, f->a[P1], &a0, &c0);
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_fund_encode(&b, LB_MKT_POOL_DEV, 10000000));
	assert_lb_ok(send(f, P1, LB_TX_MKT_FUND, &b, NULL, 0));
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_fund_encode(&b, LB_MKT_POOL_DATA, 10000000));
	assert_lb_ok(send(f, P1, LB_TX_MKT_FUND, &b, NULL, 0));
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_fund_encode(&b, LB_MKT_POOL_BONUS, 1000000));
	assert_lb_ok(send(f, P2, LB_TX_MKT_FUND, &b, NULL, 0));
	bal(f, f->a[P1], &a1, &c1);
	assert_true(a0 - a1 == 20000000);
	assert_true(c0 - c1 == 2 * 1000); /* two fees */
	json_t *m = market(f);
	json_t *dev = json_object_get(json_object_get(m, "pools"), "developers");
	assert_int_equal(json_integer_value(json_object_get(dev, "asc_locked")), 10000000);
	assert_int_equal(json_integer_value(json_object_get(dev, "csc_pending")), 20000000);
	assert_int_equal(json_integer_value(json_object_get(dev, "csc_per_period")), 10000000);
	json_decref(m);

	/* a contract call of 1,000,001 micro-ASC by U1: authors U3 and U4 (60 %), ancestor U5
	 * (15 %), executor U2 (10 %), no audit node (5 % to the platform), platform 10 % */
	uint8_t authors[2][LB_ADDR_LEN], anc[1][LB_ADDR_LEN];
	memcpy(authors[0], f->a[U3], LB_ADDR_LEN);
	memcpy(authors[1], f->a[U4], LB_ADDR_LEN);
	memcpy(anc[0], f->a[U5], LB_ADDR_LEN);
	memset(&p, 0, sizeof p);
	p.authors = (const uint8_t(*)[LB_ADDR_LEN])authors;
	p.n_authors = 2;
	p.ancestors = (const uint8_t(*)[LB_ADDR_LEN])anc;
	p.n_ancestors = 1;
	p.has_executor = true;
	memcpy(p.executor, f->a[U2], LB_ADDR_LEN);
	uint64_t u3a, u3c, u5a, u5c, u2a, u2c, pla, plc, u1a, u1c;
	bal(f, f->a[U3], &u3a, &u3c);
	bal(f, f->a[U5], &u5a, &u5c);
	bal(f, f->a[U2], &u2a, &u2c);
	bal(f, f->a[U1], &u1a, &u1c);
	bal(f, f->platform, &pla, &plc);
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_pay_encode(&b, LB_MKT_USE_CONTRACT, 1000001, &p));
	assert_lb_ok(send(f, U1, LB_TX_MKT_PAY, &b, NULL, 0));
	bal(f, f->a[U3], &a1, &c1);
	assert_true(a1 - u3a == 300000); /* 600000 / 2 */
	/* bonus CSC: contract-call authors get 1 CSC each, but the bonus pool has allotted
	 * nothing yet (its CSC is allotted at the first period close): no bonus */
	assert_true(c1 == u3c);
	bal(f, f->a[U5], &a1, &c1);
	assert_true(a1 - u5a == 150000);
	bal(f, f->a[U2], &a1, &c1);
	assert_true(a1 - u2a == 100000);
	bal(f, f->platform, &a1, &c1);
	assert_true(a1 - pla == 1000001 - 600000 - 150000 - 100000);
	bal(f, f->a[U1], &a1, &c1);
	assert_true(u1a - a1 == 1000001 && u1c - c1 == 1000);

	/* a data run: owner U4, with the owner's patient pool */
	uint8_t pool[1][LB_ADDR_LEN];
	lb_mkt_patient_pool(f->a[U4], pool[0]);
	memset(&p, 0, sizeof p);
	p.has_owner = true;
	memcpy(p.owner, f->a[U4], LB_ADDR_LEN);
	p.patients = (const uint8_t(*)[LB_ADDR_LEN])pool;
	p.n_patients = 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_pay_encode(&b, LB_MKT_USE_DATA_RUN, 2000000, &p));
	assert_lb_ok(send(f, U1, LB_TX_MKT_PAY, &b, NULL, 0));
	bal(f, pool[0], &a1, &c1);
	assert_true(a1 == 400000);

	/* close period 0 (blocks 1..4) in block 15 */
	assert_int_equal(lb_ledger_height(f->l, LB_CHAIN_SETTLEMENT), 14);
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_period_encode(&b, 0));
	bal(f, f->a[U3], &a0, &c0);
	assert_lb_ok(send(f, U1, LB_TX_MKT_PERIOD, &b, NULL, 0));
	refused(f, U1, LB_TX_MKT_PERIOD, &b, LB_EINVALID, "the next period to close is 1");
	struct rank_q q = {.period = 0};
	assert_lb_ok(lb_ledger_state_view(f->l, LB_CHAIN_SETTLEMENT, view_rank, &q));
	/* blocks 1-9 refusals (empty blocks), 10-12 funds, 13 call, 14 data run: period 0 ended
	 * with block 4 but was still open (not closed) when the uses were settled, so they count
	 * in it (a use counts in the open period, never by its block height: market.pay reads
	 * only state). Developers U3, U4 (300000 each) and U5 (150000); top 2 by score = volume +
	 * calls x 1 ASC: U3 and U4 tie at 1300000 (order by address), U5 (1150000) is third and
	 * gets nothing; the pool's 10 CSC allotted for period 0 are paid 5 + 5 */
	json_t *top = json_object_get(json_object_get(q.out, "developers"), "top");
	assert_int_equal(json_array_size(top), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(q.out, "developers"),
							    "allotted_csc")),
			 10000000);
	for (size_t i = 0; i < 2; i++) {
		json_t *e = json_array_get(top, i);
		assert_int_equal(json_integer_value(json_object_get(e, "score")), 300000 + 1000000);
		assert_int_equal(json_integer_value(json_object_get(e, "paid_csc")), 5000000);
	}
	json_t *dtop = json_object_get(json_object_get(q.out, "data"), "top");
	assert_int_equal(json_array_size(dtop), 1); /* U4, owner of the data run */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(dtop, 0), "paid_csc")),
			 10000000);
	json_decref(q.out);
	bal(f, f->a[U3], &a1, &c1);
	assert_true(c1 - c0 == 5000000);
	q.period = 5;
	assert_int_equal(lb_ledger_state_view(f->l, LB_CHAIN_SETTLEMENT, view_rank, &q),
			 LB_ENOTFOUND);
	/* close periods 1..3: nobody active, so nobody is paid; period 1's allotment stays */
	for (uint64_t per = 1; per <= 3; per++) {
		while (lb_ledger_height(f->l, LB_CHAIN_SETTLEMENT) < (per + 1) * PERIOD_BLOCKS)
			commit(f, 0, NULL, NULL);
		lb_buf_reset(&b);
		assert_lb_ok(lb_mkt_period_encode(&b, per));
		assert_lb_ok(send(f, U1, LB_TX_MKT_PERIOD, &b, NULL, 0));
	}
	q.period = 3;
	assert_lb_ok(lb_ledger_state_view(f->l, LB_CHAIN_SETTLEMENT, view_rank, &q));
	assert_int_equal(json_array_size(json_object_get(json_object_get(q.out, "developers"),
							 "top")),
			 0);
	json_decref(q.out);

	/* the patient's bonus for a medical service received: a contract call of at least 1 ASC
	 * naming the patient pays it 0.1 CSC from the bonus pool (allotted at the closes), once
	 * per patient and period; a cheaper call, or a second one, pays no bonus */
	{
		uint8_t pat[2][LB_ADDR_LEN];
		uint64_t pa0, pc0, pa1, pc1, xa0, xc0, xa1, xc1;
		memcpy(pat[0], f->a[U5], LB_ADDR_LEN);
		memcpy(pat[1], f->a[U2], LB_ADDR_LEN);
		struct lb_mkt_parties sv = {0};
		sv.patients = (const uint8_t(*)[LB_ADDR_LEN])pat;
		sv.n_patients = 1;
		bal(f, f->a[U5], &pa0, &pc0);
		json_t *mk = market(f);
		json_int_t bonus0 = json_integer_value(json_object_get(
			json_object_get(json_object_get(mk, "pools"), "bonus"), "csc_available"));
		json_decref(mk);
		lb_buf_reset(&b);
		assert_lb_ok(lb_mkt_pay_encode(&b, LB_MKT_USE_CONTRACT, LB_MKT_SERVICE_MIN - 1, &sv));
		assert_lb_ok(send(f, U1, LB_TX_MKT_PAY, &b, NULL, 0));
		bal(f, f->a[U5], &pa1, &pc1);
		assert_true(pc1 == pc0 && pa1 == pa0); /* below the minimum: no bonus */
		lb_buf_reset(&b);
		assert_lb_ok(lb_mkt_pay_encode(&b, LB_MKT_USE_CONTRACT, LB_MKT_SERVICE_MIN, &sv));
		assert_lb_ok(send(f, U1, LB_TX_MKT_PAY, &b, NULL, 0));
		bal(f, f->a[U5], &pa1, &pc1);
		assert_true(pc1 - pc0 == 100000 && pa1 == pa0);
		bal(f, f->a[U2], &xa0, &xc0);
		sv.n_patients = 2; /* U5 again (paid this period) and U2 */
		lb_buf_reset(&b);
		assert_lb_ok(lb_mkt_pay_encode(&b, LB_MKT_USE_CONTRACT, 2 * LB_MKT_SERVICE_MIN, &sv));
		assert_lb_ok(send(f, U1, LB_TX_MKT_PAY, &b, NULL, 0));
		bal(f, f->a[U5], &pa0, &pc0);
		assert_true(pc0 == pc1);
		bal(f, f->a[U2], &xa1, &xc1);
		assert_true(xc1 - xc0 == 100000 && xa1 == xa0);
		mk = market(f);
		assert_int_equal(bonus0 - json_integer_value(json_object_get(
						   json_object_get(json_object_get(mk, "pools"), "bonus"),
						   "csc_available")),
				 200000); /* two bonuses, from the bonus pool */
		json_decref(mk);
	}

	/* attack: the author bonus (1 CSC per author) bought with a 1-micro-ASC call naming the
	 * payer itself as author, or a friend again and again; and a data run naming the payer
	 * as owner (1 CSC). Nothing but the fee moves in CSC; the bonus pool is untouched. Then
	 * the rule: a call of at least 1 ASC pays another author once per payer and period. */
	{
		uint8_t me[1][LB_ADDR_LEN], fr[1][LB_ADDR_LEN];
		uint64_t ma, mc0, mc1, fa, fc0, fc1;
		memcpy(me[0], f->a[U1], LB_ADDR_LEN);
		memcpy(fr[0], f->a[U3], LB_ADDR_LEN);
		struct lb_mkt_parties at = {.authors = (const uint8_t(*)[LB_ADDR_LEN])me,
					    .n_authors = 1};
		const json_int_t pool0 = bonus_available(f);
		assert_true(pool0 > 1000000); /* enough for the bonuses the attack aims at */
		bal(f, f->a[U1], &ma, &mc0);
		lb_buf_reset(&b);
		assert_lb_ok(lb_mkt_pay_encode(&b, LB_MKT_USE_CONTRACT, 1, &at));
		assert_lb_ok(send(f, U1, LB_TX_MKT_PAY, &b, NULL, 0));
		lb_buf_reset(&b); /* even a call of 1 ASC: the payer is no author of its own call */
		assert_lb_ok(lb_mkt_pay_encode(&b, LB_MKT_USE_CONTRACT, LB_MKT_BONUS_MIN, &at));
		assert_lb_ok(send(f, U1, LB_TX_MKT_PAY, &b, NULL, 0));
		struct lb_mkt_parties ow = {0};
		ow.has_owner = true;
		memcpy(ow.owner, f->a[U1], LB_ADDR_LEN);
		lb_buf_reset(&b);
		assert_lb_ok(lb_mkt_pay_encode(&b, LB_MKT_USE_DATA_RUN, 1, &ow));
		assert_lb_ok(send(f, U1, LB_TX_MKT_PAY, &b, NULL, 0));
		bal(f, f->a[U1], &ma, &mc1);
		assert_int_equal(mc0 - mc1, 3 * 1000); /* three fees, no bonus */
		at.authors = (const uint8_t(*)[LB_ADDR_LEN])fr; /* a friend, U3, below 1 ASC */
		bal(f, f->a[U3], &fa, &fc0);
		lb_buf_reset(&b);
		assert_lb_ok(lb_mkt_pay_encode(&b, LB_MKT_USE_CONTRACT, LB_MKT_BONUS_MIN - 1, &at));
		assert_lb_ok(send(f, U1, LB_TX_MKT_PAY, &b, NULL, 0));
		bal(f, f->a[U3], &fa, &fc1);
		assert_true(fc1 == fc0);
		assert_int_equal(bonus_available(f), pool0);
		/* 1 ASC naming U3: 1 CSC once; the same payer again this period: nothing; another
		 * payer (U2): 1 CSC, or what is left in the bonus pool */
		const int64_t left = pool0 - 1000000 < 1000000 ? pool0 - 1000000 : 1000000;
		for (int i = 0; i < 3; i++) {
			lb_buf_reset(&b);
			assert_lb_ok(lb_mkt_pay_encode(&b, LB_MKT_USE_CONTRACT, LB_MKT_BONUS_MIN, &at));
			assert_lb_ok(send(f, i < 2 ? U1 : U2, LB_TX_MKT_PAY, &b, NULL, 0));
			bal(f, f->a[U3], &fa, &fc1);
			assert_int_equal(fc1 - fc0, i == 0 ? 1000000 : i == 1 ? 0 : left);
			fc0 = fc1;
		}
	}

	/* split tables by vote: P1 proposes (its yes), P2 votes yes: 2 of 3 partners adopt it */
	lb_mkt_splits_default(&sp);
	sp.use[LB_MKT_USE_CONTRACT].ppm[LB_MKT_ROLE_AUTHORS] = 700000;
	sp.use[LB_MKT_USE_CONTRACT].ppm[LB_MKT_ROLE_ANCESTORS] = 50000;
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_propose_encode(&b, &sp, 100000));
	refused(f, U1, LB_TX_MKT_SPLITS_PROPOSE, &b, LB_EUNAUTH, "may propose split tables");
	uint8_t prop[LB_HASH_LEN];
	{
		struct lb_buf raw;
		struct lb_submit_result r;
		fx_build(&raw, f->l, &f->k[P1], LB_CHAIN_SETTLEMENT, LB_TX_MKT_SPLITS_PROPOSE,
			 f->nonce[P1], 0, b.data, b.len, prop);
		assert_lb_ok(fx_submit1(f->l, raw.data, raw.len, &r));
		f->nonce[P1]++;
		const uint8_t *raws[1] = {raw.data};
		size_t lens[1] = {raw.len};
		commit(f, 1, raws, lens);
		lb_buf_release(&raw);
	}
	m = market(f);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(m, "splits"), "contract-call"), "authors")),
			 600000); /* one vote of three: not yet */
	json_decref(m);
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_vote_encode(&b, prop, true));
	refused(f, P1, LB_TX_MKT_SPLITS_VOTE, &b, LB_EDUPLICATE, "has already voted");
	assert_lb_ok(send(f, P2, LB_TX_MKT_SPLITS_VOTE, &b, NULL, 0));
	m = market(f);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(m, "splits"), "contract-call"), "authors")),
			 700000);
	json_decref(m);
	refused(f, P3, LB_TX_MKT_SPLITS_VOTE, &b, LB_EINVALID, "is already adopted");
	uint8_t none[LB_HASH_LEN] = {1};
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_vote_encode(&b, none, true));
	refused(f, P3, LB_TX_MKT_SPLITS_VOTE, &b, LB_ENOTFOUND, "there is no split proposal");

	/* redemption: P3 takes 5 ASC back; the supply falls by 5 ASC, counted as redeemed */
	m = market(f);
	json_int_t sup0 = json_integer_value(json_object_get(json_object_get(m, "totals"), "asc_supply"));
	json_decref(m);
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_redeem_encode(&b, 5000000));
	assert_lb_ok(send(f, P3, LB_TX_MKT_REDEEM, &b, NULL, 0));
	m = market(f);
	json_t *tot = json_object_get(m, "totals");
	assert_int_equal(sup0 - json_integer_value(json_object_get(tot, "asc_supply")), 5000000);
	assert_int_equal(json_integer_value(json_object_get(tot, "asc_redeemed")), 5000000);
	json_decref(m);

	/* the owner U4 pays its patients (consent accounts U1, U5) from its patient pool, which
	 * holds the data run's 20 % (400000); nobody else can, and never beyond the pool */
	uint8_t pats[2][LB_ADDR_LEN];
	uint64_t amts[2] = {250000, 150001};
	memcpy(pats[0], f->a[U1], LB_ADDR_LEN);
	memcpy(pats[1], f->a[U5], LB_ADDR_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_pool_pay_encode(&b, LB_ASC, (const uint8_t(*)[LB_ADDR_LEN])pats, amts, 2));
	refused(f, U4, LB_TX_MKT_POOL_PAY, &b, LB_EFUNDS, "cannot pay the patients of");
	refused(f, U5, LB_TX_MKT_POOL_PAY, &b, LB_EFUNDS, "is 0.000000 ASC");
	amts[1] = 150000;
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_pool_pay_encode(&b, LB_ASC, (const uint8_t(*)[LB_ADDR_LEN])pats, amts, 2));
	bal(f, f->a[U5], &a0, &c0);
	assert_lb_ok(send(f, U4, LB_TX_MKT_POOL_PAY, &b, NULL, 0));
	bal(f, f->a[U5], &a1, &c1);
	assert_true(a1 - a0 == 150000);
	bal(f, pool[0], &a1, &c1);
	assert_true(a1 == 0);
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_pool_pay_encode(&b, LB_ASC, (const uint8_t(*)[LB_ADDR_LEN])pats, amts, 0));
	refused(f, U4, LB_TX_MKT_POOL_PAY, &b, LB_EINVALID, "name at least one patient account");

	lb_buf_release(&b);
	assert_int_equal(fx_teardown(f), 4); /* periods 0..3 recomputed and matching */
}

/* ---- invariants over a long random history ------------------------------------------------- */

#define HIST_TXS 120000
#define BLOCK_TXS 2000

struct model {
	uint64_t genesis_asc, genesis_csc, issued, redeemed, fees, burned_tx;
};

/* Sum of every account's balances (keys, platform, patient pools) and the pools' holdings. */
static void totals(struct fx *f, uint64_t *asc, uint64_t *csc)
{
	uint64_t a, c;
	*asc = *csc = 0;
	for (int i = 0; i < NK; i++) {
		uint8_t pool[LB_ADDR_LEN];
		bal(f, f->a[i], &a, &c);
		*asc += a;
		*csc += c;
		lb_mkt_patient_pool(f->a[i], pool);
		bal(f, pool, &a, &c);
		*asc += a;
		*csc += c;
	}
	bal(f, f->platform, &a, &c);
	*asc += a;
	*csc += c;
	json_t *m = market(f);
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(m, "pools"), k, v) {
		*asc += (uint64_t)json_integer_value(json_object_get(v, "asc_locked"));
		*csc += (uint64_t)json_integer_value(json_object_get(v, "csc_available"));
	}
	json_decref(m);
}

static void check_invariants(struct fx *f, const struct model *md)
{
	uint64_t asc, csc;
	json_t *m = market(f), *t = json_object_get(m, "totals");
	uint64_t sup_asc = (uint64_t)json_integer_value(json_object_get(t, "asc_supply"));
	uint64_t sup_csc = (uint64_t)json_integer_value(json_object_get(t, "csc_supply"));
	uint64_t minted = (uint64_t)json_integer_value(json_object_get(t, "csc_minted"));
	uint64_t redeemed = (uint64_t)json_integer_value(json_object_get(t, "asc_redeemed"));
	uint64_t burned = (uint64_t)json_integer_value(json_object_get(t, "csc_burned"));
	json_decref(m);
	/* total ASC = issued - redeemed (genesis counts as issued) */
	assert_true(redeemed == md->redeemed);
	assert_true(sup_asc == md->genesis_asc + md->issued - md->redeemed);
	/* total CSC = genesis + minted - burned (fees and burn txs burned by the ledger, compute
	 * CSC burned by the market) */
	assert_true(sup_csc == md->genesis_csc + minted - md->fees - md->burned_tx - burned);
	/* balances (never negative: unsigned, and every debit checked) add up to the supply */
	totals(f, &asc, &csc);
	assert_true(asc == sup_asc);
	assert_true(csc == sup_csc);
}

static void test_invariants_history(void **state)
{
	static struct fx F;
	struct fx *f = &F;
	struct model md = {0};
	fx_setup(f, "mkthist");
	md.genesis_asc = (uint64_t)NK * ACCT_ASC;
	md.genesis_csc = (uint64_t)NK * ACCT_CSC;
	uint8_t **raws = calloc(BLOCK_TXS, sizeof *raws);
	size_t *lens = calloc(BLOCK_TXS, sizeof *lens);
	struct lb_submit_result r;
	uint64_t next_period = 0, valid = 0;
	size_t done = 0;
	while (done < HIST_TXS) {
		size_t n = 0;
		uint64_t h = lb_ledger_height(f->l, LB_CHAIN_SETTLEMENT) + 1; /* the block built */
		for (size_t i = 0; i < BLOCK_TXS; i++, done++) {
			struct lb_buf pl, raw;
			lb_buf_init(&pl, LB_TX_PAYLOAD_MAX);
			int who = (int)(rnd() % NK);
			uint32_t type;
			uint64_t amt = 1 + rnd() % 3000000;
			unsigned kind = (unsigned)(rnd() % 100);
			uint64_t issue_amt = 0, redeem_amt = 0, burn_amt = 0;
			if (i == 0 && next_period < (h - 1) / PERIOD_BLOCKS) {
				type = LB_TX_MKT_PERIOD; /* close the next period as soon as it ends */
				assert_lb_ok(lb_mkt_period_encode(&pl, next_period));
			} else if (kind < 30) {
				type = LB_TX_TRANSFER;
				assert_lb_ok(lb_payload_transfer(&pl, f->a[rnd() % NK],
								 rnd() & 1 ? LB_ASC : LB_CSC, amt, ""));
			} else if (kind < 70) {
				struct lb_mkt_parties p = {0};
				uint8_t lists[6][LB_ADDR_LEN], pool[1][LB_ADDR_LEN];
				for (int j = 0; j < 6; j++)
					memcpy(lists[j], f->a[rnd() % NK], LB_ADDR_LEN);
				p.has_owner = rnd() & 1;
				memcpy(p.owner, f->a[rnd() % NK], LB_ADDR_LEN);
				p.has_algo_author = rnd() & 1;
				memcpy(p.algo_author, f->a[rnd() % NK], LB_ADDR_LEN);
				p.has_executor = rnd() & 1;
				memcpy(p.executor, f->a[rnd() % NK], LB_ADDR_LEN);
				lb_mkt_patient_pool(p.owner, pool[0]);
				p.patients = (const uint8_t(*)[LB_ADDR_LEN])pool;
				p.n_patients = p.has_owner;
				p.authors = (const uint8_t(*)[LB_ADDR_LEN])lists;
				p.n_authors = rnd() % 3;
				p.ancestors = (const uint8_t(*)[LB_ADDR_LEN])lists + 2;
				p.n_ancestors = rnd() % 3;
				p.audit = (const uint8_t(*)[LB_ADDR_LEN])lists + 4;
				p.n_audit = rnd() % 3;
				type = LB_TX_MKT_PAY;
				assert_lb_ok(lb_mkt_pay_encode(&pl, (unsigned)(rnd() % LB_MKT_USE_COUNT),
							       rnd() % 50 ? amt : amt * 100000, &p));
			} else if (kind < 78) {
				type = LB_TX_MKT_FUND;
				who = (int)(rnd() % 4); /* P1..P3 and sometimes U1 (refused) */
				assert_lb_ok(lb_mkt_fund_encode(&pl, (unsigned)(rnd() % LB_MKT_POOL_COUNT),
								amt));
			} else if (kind < 84) {
				type = LB_TX_MKT_REDEEM;
				who = (int)(rnd() % 4);
				redeem_amt = rnd() % 20 ? amt : UINT32_MAX * 1000ull;
				assert_lb_ok(lb_mkt_redeem_encode(&pl, redeem_amt));
			} else if (kind < 92) {
				type = LB_TX_ISSUE;
				who = (int)(rnd() % 4);
				issue_amt = amt;
				assert_lb_ok(lb_payload_issue(&pl, f->a[rnd() % NK], amt));
			} else {
				type = LB_TX_BURN;
				burn_amt = amt / 100 + 1;
				assert_lb_ok(lb_payload_burn(&pl, burn_amt));
			}
			build(f, &raw, who, type, &pl);
			lb_buf_release(&pl);
			fx_submit1(f->l, raw.data, raw.len, &r);
			if (r.code != LB_OK) {
				lb_buf_release(&raw);
				continue;
			}
			if (type == LB_TX_MKT_PERIOD)
				next_period++;
			f->nonce[who]++;
			md.fees += FX_SETTLEMENT_FEE;
			md.issued += issue_amt;
			md.redeemed += redeem_amt;
			md.burned_tx += burn_amt;
			raws[n] = lb_buf_detach(&raw, &lens[n]);
			n++;
			valid++;
		}
		commit(f, n, (const uint8_t *const *)raws, lens);
		for (size_t i = 0; i < n; i++)
			lb_free(raws[i]);
		if (lb_ledger_height(f->l, LB_CHAIN_SETTLEMENT) % 10 == 0)
			check_invariants(f, &md);
	}
	check_invariants(f, &md);
	/* the history did pay rankings: the last closed period paid two developers */
	assert_true(next_period >= 5);
	struct rank_q q = {.period = next_period - 1};
	assert_lb_ok(lb_ledger_state_view(f->l, LB_CHAIN_SETTLEMENT, view_rank, &q));
	json_t *top = json_object_get(json_object_get(q.out, "developers"), "top");
	assert_int_equal(json_array_size(top), 2);
	assert_true(json_integer_value(json_object_get(json_array_get(top, 0), "paid_csc")) > 0);
	json_decref(q.out);
	assert_true(valid > HIST_TXS / 2);
	print_message("history: %llu txs submitted, %llu valid, %llu periods closed\n",
		      (unsigned long long)done, (unsigned long long)valid,
		      (unsigned long long)next_period);
	free(raws);
	free(lens);
	/* the replay from genesis checks every app hash (the same balances), and every closed
	 * period's rankings are recomputed from their counters */
	assert_true(fx_teardown(f) == next_period);
}

/* Without a genesis "market" section the market txs are refused, naming why. */
static void test_no_market_section(void **state)
{
	static struct fx F;
	struct fx *f = &F;
	struct lb_buf b;
	char msg[512];
	fx_setup_market(f, "mktoff", false);
	lb_buf_init(&b, 256);
	assert_lb_ok(lb_mkt_fund_encode(&b, LB_MKT_POOL_DEV, 1000));
	assert_int_equal(send(f, P1, LB_TX_MKT_FUND, &b, msg, sizeof msg), LB_EUNAVAILABLE);
	assert_non_null(strstr(msg, "has no 'market' section"));
	lb_buf_reset(&b);
	assert_lb_ok(lb_mkt_period_encode(&b, 0));
	assert_int_equal(send(f, P1, LB_TX_MKT_PERIOD, &b, msg, sizeof msg), LB_EUNAVAILABLE);
	json_t *o = NULL;
	assert_int_equal(lb_ledger_state_view(f->l, LB_CHAIN_SETTLEMENT, view_market, &o),
			 LB_ENOTFOUND);
	lb_buf_release(&b);
	fx_teardown(f);
}

/* A bad genesis "market" section is refused when the chain is created, the field named. */
static void test_bad_genesis(void **state)
{
	static const char *const cases[][2] = {
		{"{\"period_blocks\": 1}", "market.period_blocks must be a whole number from 2"},
		{"{\"splits\": {\"study\": {\"owner\": 999999}}}", "the study split table adds up to 999999"},
		{"{\"colour\": 1}", "market.colour is not a setting"},
		{"{\"bonus\": {\"lunch\": {}}}", "unknown kind of use 'lunch'"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char home[64], at[LB_ADDR_TEXT_LEN + 1];
		uint8_t a[LB_ADDR_LEN];
		struct lb_ledger *l = NULL;
		struct lb_ledger_options o;
		struct lb_errmsg em;
		json_error_t je;
		fx_mkhome(home, sizeof home, "mktgen");
		memset(a, 7, sizeof a);
		lb_addr_encode(at, a);
		json_t *m = json_loads(cases[i][0], 0, &je);
		assert_non_null(m);
		json_object_set_new(m, "platform", json_string(at));
		fx_genesis(home, json_pack("{s:s,s:i,s:o}", "network", "bad", "time_ms", 1, "market", m));
		lb_ledger_options_init(&o);
		o.home = home;
		o.sync_full = false;
		assert_int_not_equal(lb_ledger_open(&l, &o, NULL, &em), LB_OK);
		if (!strstr(em.text, cases[i][1]))
			fail_msg("case %zu: '%s' does not say '%s'", i, em.text, cases[i][1]);
		fx_rmhome(home);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_and_bad_input),
		cmocka_unit_test(test_no_market_section),
		cmocka_unit_test(test_bad_genesis),
		cmocka_unit_test(test_invariants_history),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
