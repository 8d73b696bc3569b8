/* Exchange tx types: every payload round-trips through its encoder and decoder and every
 * non-canonical form is refused; then a real ledger in a temp home runs offer -> request ->
 * approve -> escrow -> exec -> result -> claim -> release, and each refusal on the way (wrong
 * owner, unknown asset or algorithm, unapproved algorithm, revoked consent, no execution right,
 * under-funded escrow, release before a result, refund before the timeout, a proof anchored
 * in another ledger's block, a tampered proof, a second release) has its own code and message
 * and changes nothing. */
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/codec.h"
#include "leben/consortium.h"
#include "leben/crypto.h"
#include "leben/exchange.h"
#include "leben/market.h"
#include "leben/ledger.h"
#include "leben/tx.h"

/* ---- codec --------------------------------------------------------------------------------- */

/* Decode b, re-encode, compare; then a trailing byte and every truncation are refused. */
typedef int (*dec_fn)(void *o, const uint8_t *p, size_t n, struct lb_errmsg *em);
typedef int (*enc_fn)(struct lb_buf *b, const void *o);

static void roundtrip(const struct lb_buf *b, dec_fn dec, enc_fn enc, size_t osize)
{
	void *o = calloc(1, osize);
	struct lb_buf again;
	struct lb_errmsg em;
	assert_non_null(o);
	if (dec(o, b->data, b->len, &em))
		fail_msg("decode: %s", em.text);
	lb_buf_init(&again, 1 << 20);
	assert_lb_ok(enc(&again, o));
	assert_int_equal(again.len, b->len);
	assert_memory_equal(again.data, b->data, b->len);
	lb_buf_release(&again);
	uint8_t *longer = malloc(b->len + 1);
	memcpy(longer, b->data, b->len);
	longer[b->len] = 0;
	assert_int_not_equal(dec(o, longer, b->len + 1, NULL), LB_OK);
	for (size_t n = 0; n < b->len; n++)
		assert_int_not_equal(dec(o, b->data, n, NULL), LB_OK);
	free(longer);
	free(o);
}

#define RT(b, name, type)                                                                       \
	roundtrip(b, (dec_fn)lb_##name##_decode, (enc_fn)lb_##name##_encode, sizeof(struct type))

static void test_codec(void **state)
{
	(void)state;
	struct lb_buf b;
	uint8_t pats[3 * LB_HASH_LEN];
	assert_lb_ok(lb_crypto_init());
	lb_buf_init(&b, 1 << 20);

	struct lb_xchg_offer *of = calloc(1, sizeof *of);
	uint8_t regtx[50], proof[40];
	memset(regtx, 7, sizeof regtx);
	memset(proof, 9, sizeof proof);
	of->reg_tx = regtx;
	of->reg_tx_len = sizeof regtx;
	of->reg_proof = proof;
	of->reg_proof_len = sizeof proof;
	of->data_fee = 5000000;
	of->flags = LB_XCHG_OFFER_LOCAL_ONLY;
	of->min_cohort = 10;
	of->max_output = 65536;
	of->data_bytes = 300;
	of->n_allow = 2;
	lb_xchg_builtin_hash(of->allow[0], "stats");
	lb_xchg_builtin_hash(of->allow[1], "km");
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	RT(&b, xchg_offer, lb_xchg_offer);
	/* the co-owner act of an offer does not depend on its registration proof */
	char act1[LB_XCHG_ACT_MAX], act2[LB_XCHG_ACT_MAX];
	assert_lb_ok(lb_xchg_owner_act(LB_TX_XCHG_OFFER, b.data, b.len, act1, NULL));
	proof[0] ^= 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	assert_lb_ok(lb_xchg_owner_act(LB_TX_XCHG_OFFER, b.data, b.len, act2, NULL));
	assert_string_equal(act1, act2);
	assert_int_equal(strlen(act1), strlen("xchg.offer ") + 64);
	of->data_fee++; /* but it does on the terms */
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	assert_lb_ok(lb_xchg_owner_act(LB_TX_XCHG_OFFER, b.data, b.len, act2, NULL));
	assert_string_not_equal(act1, act2);
	assert_int_equal(lb_xchg_owner_act(LB_TX_XCHG_EXEC, b.data, b.len, act2, NULL), LB_EINVALID);
	/* opt-out: the legal basis follows as the last field, and must be there */
	of->flags = LB_XCHG_OFFER_OPT_OUT;
	snprintf(of->legal_basis, sizeof of->legal_basis, "GDPR Art. 9(2)(j), registry law s. 4");
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	RT(&b, xchg_offer, lb_xchg_offer);
	struct lb_xchg_offer *of2 = calloc(1, sizeof *of2);
	assert_lb_ok(lb_xchg_offer_decode(of2, b.data, b.len, NULL));
	assert_string_equal(of2->legal_basis, of->legal_basis);
	of->legal_basis[0] = 0;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	assert_int_equal(lb_xchg_offer_decode(of2, b.data, b.len, NULL), LB_EINVALID);
	of->flags = 0; /* without the flag, no legal basis on the wire: a trailing one is refused */
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	assert_lb_ok(lb_enc_str(&b, "x"));
	assert_int_equal(lb_xchg_offer_decode(of2, b.data, b.len, NULL), LB_EMALFORMED);
	free(of2);
	/* unknown flag bits are refused */
	of->flags = 0x80;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	assert_int_equal(lb_xchg_offer_decode(of, b.data, b.len, NULL), LB_EMALFORMED);
	/* differential privacy: epsilon with budgets that allow at least one release (the
	 * refused decode above cleared the struct) */
	of->reg_tx = regtx;
	of->reg_tx_len = sizeof regtx;
	of->reg_proof = proof;
	of->reg_proof_len = sizeof proof;
	of->max_output = 65536;
	of->flags = 0;
	of->epsilon = 500000;
	of->budget_user = 2000000;
	of->budget_patient = 500000;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	RT(&b, xchg_offer, lb_xchg_offer);
	of->budget_patient = 499999; /* not even one release */
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	assert_int_equal(lb_xchg_offer_decode(of, b.data, b.len, NULL), LB_EINVALID);
	of->reg_tx = regtx; /* cleared again */
	of->reg_tx_len = sizeof regtx;
	of->reg_proof = proof;
	of->reg_proof_len = sizeof proof;
	of->max_output = 65536;
	of->epsilon = 0; /* budgets without epsilon */
	of->budget_user = 1;
	of->budget_patient = 0;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	assert_int_equal(lb_xchg_offer_decode(of, b.data, b.len, NULL), LB_EINVALID);
	of->reg_tx = regtx;
	of->reg_tx_len = sizeof regtx;
	of->reg_proof = proof;
	of->reg_proof_len = sizeof proof;
	of->max_output = 65536;
	of->epsilon = LB_XCHG_EPS_MAX + 1; /* past the largest epsilon */
	of->budget_user = of->budget_patient = LB_XCHG_EPS_MAX + 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	assert_int_equal(lb_xchg_offer_decode(of, b.data, b.len, NULL), LB_EMALFORMED);
	free(of);

	struct lb_xchg_grant g = {.kind = 3};
	memset(g.asset, 1, sizeof g.asset);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_grant_encode(&b, &g));
	RT(&b, xchg_grant, lb_xchg_grant);
	b.data[b.len - 1] = 4; /* kind 4 does not exist */
	assert_int_equal(lb_xchg_grant_decode(&g, b.data, b.len, NULL), LB_EMALFORMED);

	struct lb_xchg_algo a = {.fee = 1, .flags = LB_XCHG_ALGO_HEAVY_DEPS};
	snprintf(a.name, sizeof a.name, "stats");
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_algo_encode(&b, &a));
	RT(&b, xchg_algo, lb_xchg_algo);
	a.name[0] = 0;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_algo_encode(&b, &a));
	assert_int_equal(lb_xchg_algo_decode(&a, b.data, b.len, NULL), LB_EINVALID);

	struct lb_xchg_request rq = {.scenario = LB_XCHG_INTEGRATED};
	snprintf(rq.purpose, sizeof rq.purpose, "study");
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_request_encode(&b, &rq));
	RT(&b, xchg_request, lb_xchg_request);
	/* a result sealed to a CP-ABE policy: authority and policy after the parameters */
	memset(rq.result_authority, 0x5b, sizeof rq.result_authority);
	snprintf(rq.result_policy, sizeof rq.result_policy, "cardiologist AND 2 of (a, b, c)");
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_request_encode(&b, &rq));
	{
		/* the fields are optional at the end (requests without them stay valid), so the
		 * one truncation that decodes is the request without a policy */
		struct lb_xchg_request *d = malloc(sizeof *d);
		struct lb_errmsg dem;
		struct lb_buf again;
		size_t plain_len = b.len - 32 - 1 - strlen(rq.result_policy);
		assert_non_null(d);
		assert_lb_ok(lb_xchg_request_decode(d, b.data, b.len, NULL));
		assert_string_equal(d->result_policy, rq.result_policy);
		assert_memory_equal(d->result_authority, rq.result_authority, 32);
		lb_buf_init(&again, 1 << 20);
		assert_lb_ok(lb_xchg_request_encode(&again, d));
		assert_int_equal(again.len, b.len);
		assert_memory_equal(again.data, b.data, b.len);
		lb_buf_release(&again);
		for (size_t n = 0; n < b.len; n++)
			assert_int_equal(lb_xchg_request_decode(d, b.data, n, NULL) == LB_OK,
					 n == plain_len);
		assert_int_equal(d->result_policy[0], 0);
		/* a bad policy, an empty one, and one cut short are refused */
		snprintf(rq.result_policy, sizeof rq.result_policy, "(a AND");
		lb_buf_reset(&b);
		assert_lb_ok(lb_xchg_request_encode(&b, &rq));
		assert_int_equal(lb_xchg_request_decode(d, b.data, b.len, &dem), LB_ESYNTAX);
		assert_non_null(strstr(dem.text, "result policy"));
		size_t n = b.len;
		lb_buf_reset(&b);
		rq.result_policy[0] = 0;
		assert_lb_ok(lb_xchg_request_encode(&b, &rq));
		assert_true(b.len + 32 + 7 == n); /* no policy: nothing after the parameters */
		uint8_t tail[33] = {0};
		assert_lb_ok(lb_buf_add(&b, tail, sizeof tail)); /* authority and an empty policy */
		assert_int_equal(lb_xchg_request_decode(d, b.data, b.len, NULL), LB_EMALFORMED);
		assert_int_equal(lb_xchg_request_decode(d, b.data, b.len - 10, NULL), LB_EMALFORMED);
		free(d);
	}
	rq.scenario = 4;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_request_encode(&b, &rq));
	assert_int_equal(lb_xchg_request_decode(&rq, b.data, b.len, NULL), LB_EMALFORMED);

	struct lb_xchg_approve ap = {.decision = 2};
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_approve_encode(&b, &ap));
	RT(&b, xchg_approve, lb_xchg_approve);

	struct lb_xchg_consent co = {.action = 2};
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_consent_encode(&b, &co));
	RT(&b, xchg_consent, lb_xchg_consent);
	b.data[b.len - 1] = 0;
	assert_int_equal(lb_xchg_consent_decode(&co, b.data, b.len, NULL), LB_EMALFORMED);

	struct lb_xchg_exec ex = {.scenario = 2, .chosen_by = 2, .n_patients = 3, .patients = pats};
	ex.terms.data_fee = 300;
	ex.terms.compute_fee = 1;
	for (int i = 0; i < 3; i++)
		memset(pats + i * LB_HASH_LEN, i + 1, LB_HASH_LEN);
	memset(ex.noise_commit, 0xab, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	RT(&b, xchg_exec, lb_xchg_exec);
	/* the noise commitment is the last 32 bytes: cut one and the payload is short */
	assert_int_equal(lb_xchg_exec_decode(&ex, b.data, b.len - 1, NULL), LB_EMALFORMED);
	ex.patients = pats;
	/* patients out of order, or repeated, are refused */
	memset(pats, 2, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	assert_int_equal(lb_xchg_exec_decode(&ex, b.data, b.len, NULL), LB_EMALFORMED);
	ex.patients = pats;
	ex.scenario = 0; /* auto is a request's wish, not a run's scenario */
	memset(pats, 1, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	assert_int_equal(lb_xchg_exec_decode(&ex, b.data, b.len, NULL), LB_EMALFORMED);

	/* a result carries a fixed reason code that fits its status, never text */
	struct lb_xchg_result re = {.status = LB_XCHG_WITHHELD, .reason = LB_XCHG_REASON_COHORT};
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_result_encode(&b, &re));
	RT(&b, xchg_result, lb_xchg_result);
	assert_int_equal(b.len, 3 * LB_HASH_LEN + 1 + LB_HASH_LEN + 1);
	static const struct {
		uint8_t status, reason;
		int rc;
	} codes[] = {
		{LB_XCHG_DELIVERED, LB_XCHG_REASON_NONE, LB_OK},
		{LB_XCHG_DELIVERED, LB_XCHG_REASON_COHORT, LB_EMALFORMED},
		{LB_XCHG_WITHHELD, LB_XCHG_REASON_NONE, LB_EMALFORMED},
		{LB_XCHG_WITHHELD, LB_XCHG_REASON_BUDGET, LB_OK},
		{LB_XCHG_WITHHELD, LB_XCHG_REASON_DIFFERENCING, LB_OK},
		{LB_XCHG_WITHHELD, LB_XCHG_REASON_FAILED, LB_EMALFORMED},
		{LB_XCHG_WITHHELD, LB_XCHG_REASON_POLICY, LB_OK},
		{LB_XCHG_FAILED, LB_XCHG_REASON_FAILED, LB_OK},
		{LB_XCHG_FAILED, LB_XCHG_REASON_LIMIT, LB_OK},
		{LB_XCHG_FAILED, LB_XCHG_REASON_COHORT, LB_EMALFORMED},
		{LB_XCHG_FAILED, 7, LB_EMALFORMED},
		{LB_XCHG_FAILED, 255, LB_EMALFORMED},
	};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		re.status = codes[i].status;
		re.reason = codes[i].reason;
		lb_buf_reset(&b);
		assert_lb_ok(lb_xchg_result_encode(&b, &re));
		assert_int_equal(lb_xchg_result_decode(&re, b.data, b.len, NULL), codes[i].rc);
	}
	assert_string_equal(lb_xchg_reason_name(LB_XCHG_REASON_DIFFERENCING), "differencing");
	assert_string_equal(lb_xchg_reason_name(9), "?");

	struct lb_xchg_revoke rv = {.kind = 2};
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_revoke_encode(&b, &rv));
	RT(&b, xchg_revoke, lb_xchg_revoke);
	rv.executor[0] = 1; /* an executor only with kind 1 */
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_revoke_encode(&b, &rv));
	assert_int_equal(lb_xchg_revoke_decode(&rv, b.data, b.len, NULL), LB_EMALFORMED);

	struct lb_escrow_open op = {.timeout = 99};
	op.terms.algo_fee = 7;
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_open_encode(&b, &op));
	RT(&b, escrow_open, lb_escrow_open);
	op.terms.algo_fee = 0;
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_open_encode(&b, &op));
	assert_int_equal(lb_escrow_open_decode(&op, b.data, b.len, NULL), LB_EINVALID);
	op.terms.data_fee = UINT64_MAX;
	op.terms.algo_fee = 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_open_encode(&b, &op));
	assert_int_equal(lb_escrow_open_decode(&op, b.data, b.len, NULL), LB_ERANGE);

	struct lb_escrow_cite ci = {.result_tx = regtx, .result_tx_len = 5, .proof = proof,
				    .proof_len = 6};
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_cite_encode(&b, &ci));
	RT(&b, escrow_cite, lb_escrow_cite);
	ci.proof_len = 0; /* a result without its proof */
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_cite_encode(&b, &ci));
	assert_int_equal(lb_escrow_cite_decode(&ci, b.data, b.len, NULL), LB_EINVALID);

	struct lb_escrow_claim cl;
	memset(&cl, 3, sizeof cl);
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_claim_encode(&b, &cl));
	RT(&b, escrow_claim, lb_escrow_claim);

	/* patient commitments: one per asset and salt key; the card's salt opens it */
	uint8_t h1[LB_HASH_LEN], h2[LB_HASH_LEN], salt[LB_HASH_LEN], sk[LB_XCHG_SALT_KEY_LEN] = {4};
	uint8_t asset[LB_HASH_LEN] = {1};
	lb_xchg_patient_commit(h1, asset, sk, "P1");
	lb_xchg_patient_salt(salt, sk, asset, "P1");
	lb_xchg_patient_open(h2, asset, salt, "P1");
	assert_memory_equal(h1, h2, LB_HASH_LEN);
	lb_xchg_patient_open(h2, asset, salt, "P2");
	assert_memory_not_equal(h1, h2, LB_HASH_LEN);
	sk[0] = 5;
	lb_xchg_patient_commit(h2, asset, sk, "P1");
	assert_memory_not_equal(h1, h2, LB_HASH_LEN); /* another salt key: nothing to compare */
	asset[0] = 2;
	sk[0] = 4;
	lb_xchg_patient_commit(h2, asset, sk, "P1");
	assert_memory_not_equal(h1, h2, LB_HASH_LEN); /* one commitment per asset */
	/* known answer, computed independently with python's hashlib.blake2b */
	asset[0] = 1;
	lb_xchg_patient_commit(h1, asset, sk, "P1");
	char kat[2 * LB_HASH_LEN + 1];
	lb_hex_encode(kat, h1, LB_HASH_LEN);
	assert_string_equal(kat, "37c6d8a7cebf08b55f14e9274f76759f64fcb2297c8c12be0c09681169b9aaea");

	/* consent: rebind carries the new key, the others do not; unknown actions refused */
	struct lb_xchg_consent cs = {.action = LB_XCHG_REBIND}, cs2;
	memset(cs.asset, 1, LB_HASH_LEN);
	memset(cs.patient, 2, LB_HASH_LEN);
	memset(cs.new_key, 3, LB_ADDR_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_consent_encode(&b, &cs));
	assert_int_equal(b.len, 2 * LB_HASH_LEN + 1 + LB_ADDR_LEN);
	assert_lb_ok(lb_xchg_consent_decode(&cs2, b.data, b.len, NULL));
	assert_memory_equal(cs2.new_key, cs.new_key, LB_ADDR_LEN);
	assert_int_equal(lb_xchg_consent_decode(&cs2, b.data, b.len - 1, NULL), LB_EMALFORMED);
	cs.action = LB_XCHG_GIVE;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_consent_encode(&b, &cs));
	assert_int_equal(b.len, 2 * LB_HASH_LEN + 1);
	b.data[2 * LB_HASH_LEN] = 4;
	assert_int_equal(lb_xchg_consent_decode(&cs2, b.data, b.len, NULL), LB_EMALFORMED);
	b.data[2 * LB_HASH_LEN] = LB_XCHG_REBIND; /* a rebind without its key */
	assert_int_equal(lb_xchg_consent_decode(&cs2, b.data, b.len, NULL), LB_EMALFORMED);

	/* patients: sorted, distinct commitments, each with a key; 1..LB_XCHG_REGISTER_MAX */
	uint8_t ent[2 * LB_XCHG_PATIENT_ENTRY];
	memset(ent, 0x11, LB_XCHG_PATIENT_ENTRY);
	memset(ent + LB_XCHG_PATIENT_ENTRY, 0x22, LB_XCHG_PATIENT_ENTRY);
	struct lb_xchg_patients pp = {.n = 2, .entries = ent}, pp2;
	memset(pp.asset, 7, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_patients_encode(&b, &pp));
	assert_lb_ok(lb_xchg_patients_decode(&pp2, b.data, b.len, NULL));
	assert_int_equal(pp2.n, 2);
	assert_memory_equal(pp2.entries, ent, sizeof ent);
	assert_int_equal(lb_xchg_patients_decode(&pp2, b.data, b.len - 1, NULL), LB_EMALFORMED);
	memset(ent + LB_XCHG_PATIENT_ENTRY, 0x11, LB_HASH_LEN); /* a commitment twice */
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_patients_encode(&b, &pp));
	assert_int_equal(lb_xchg_patients_decode(&pp2, b.data, b.len, NULL), LB_EMALFORMED);
	memset(ent + LB_XCHG_PATIENT_ENTRY, 0x22, LB_HASH_LEN);
	memset(ent + LB_HASH_LEN, 0, LB_ADDR_LEN); /* no key */
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_patients_encode(&b, &pp));
	assert_int_equal(lb_xchg_patients_decode(&pp2, b.data, b.len, NULL), LB_EMALFORMED);
	pp.n = 0;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_patients_encode(&b, &pp));
	assert_int_equal(lb_xchg_patients_decode(&pp2, b.data, b.len, NULL), LB_EMALFORMED);

	/* view: part 1 or 2, sorted patients */
	uint8_t vp[2 * LB_HASH_LEN];
	memset(vp, 1, LB_HASH_LEN);
	memset(vp + LB_HASH_LEN, 2, LB_HASH_LEN);
	struct lb_xchg_view vw = {.part = LB_XCHG_VIEW_RAW, .version = 3, .n_patients = 2,
				  .patients = vp}, vw2;
	memset(vw.asset, 9, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_view_encode(&b, &vw));
	assert_lb_ok(lb_xchg_view_decode(&vw2, b.data, b.len, NULL));
	assert_int_equal(vw2.version, 3);
	assert_int_equal(vw2.n_patients, 2);
	vw.patients = vp + LB_HASH_LEN; /* 2,2: not increasing */
	vw.n_patients = 1;
	vw.part = 3;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_view_encode(&b, &vw));
	assert_int_equal(lb_xchg_view_decode(&vw2, b.data, b.len, NULL), LB_EMALFORMED);
	/* built-ins are known by their pinned hash; anything else is not one */
	lb_xchg_builtin_hash(h1, "km");
	assert_non_null(lb_xchg_builtin_name(h1));
	assert_string_equal(lb_xchg_builtin_name(h1), "km");
	lb_hash(h1, "km", 2);
	assert_null(lb_xchg_builtin_name(h1));
	/* the noise key needs both the executor's secret and the block */
	uint8_t r1[LB_HASH_LEN] = {1}, blk[LB_HASH_LEN] = {2}, k1[LB_HASH_LEN], k2[LB_HASH_LEN];
	lb_xchg_noise_key(k1, r1, blk);
	blk[0] ^= 1;
	lb_xchg_noise_key(k2, r1, blk);
	assert_memory_not_equal(k1, k2, LB_HASH_LEN);
	lb_xchg_noise_commit(h2, r1);
	assert_memory_not_equal(h2, k1, LB_HASH_LEN);
	/* the automatic choice: required scenario (0 = the executor decides) and its reason */
	int why = 0;
	assert_int_equal(lb_xchg_scenario_rule(LB_XCHG_INTEGRATED, LB_XCHG_OFFER_LOCAL_ONLY, 1, 0,
					       true, &why),
			 LB_XCHG_INTEGRATED);
	assert_int_equal(why, LB_XCHG_SCEN_USER);
	assert_int_equal(lb_xchg_scenario_rule(0, LB_XCHG_OFFER_LOCAL_ONLY, 1, LB_XCHG_ALGO_AT_AUTHOR,
					       true, &why),
			 LB_XCHG_LOCAL);
	assert_int_equal(why, LB_XCHG_SCEN_LOCAL_ONLY);
	assert_int_equal(lb_xchg_scenario_rule(0, 0, (uint64_t)1 << 30, LB_XCHG_ALGO_AT_AUTHOR, true,
					       &why),
			 LB_XCHG_LOCAL);
	assert_int_equal(why, LB_XCHG_SCEN_SIZE);
	assert_int_equal(lb_xchg_scenario_rule(0, 0, 1000, LB_XCHG_ALGO_AT_AUTHOR, true, &why),
			 LB_XCHG_OFFSITE);
	assert_int_equal(why, LB_XCHG_SCEN_AT_AUTHOR);
	assert_int_equal(lb_xchg_scenario_rule(0, 0, 1000, LB_XCHG_ALGO_HEAVY_DEPS, true, &why),
			 LB_XCHG_INTEGRATED);
	assert_int_equal(why, LB_XCHG_SCEN_DEPS);
	assert_int_equal(lb_xchg_scenario_rule(0, 0, 1000, LB_XCHG_ALGO_HEAVY_DEPS, false, &why),
			 LB_XCHG_LOCAL);
	assert_int_equal(why, LB_XCHG_SCEN_NO_COMPUTING);
	assert_int_equal(lb_xchg_scenario_rule(0, 0, 1000, 0, true, &why), 0);
	assert_int_equal(why, LB_XCHG_SCEN_EXECUTOR);
	assert_string_equal(lb_xchg_scen_reason_name(LB_XCHG_SCEN_DEPS), "dependencies");
	assert_string_equal(lb_xchg_scen_reason_name(0), "?");
	lb_buf_release(&b);
}

/* ---- a real ledger -------------------------------------------------------------------------- */

enum { K_PROP, K_OWNER, K_USER, K_AUTHOR, K_EXEC, K_PATIENT, K_OTHER, NKEYS };

struct fx {
	char home[64];
	struct lb_ledger *l;
	struct lb_keypair k[NKEYS];
	uint8_t a[NKEYS][LB_ADDR_LEN];
	uint64_t time_ms;
};

static void open_ledger(struct fx *f)
{
	struct lb_ledger_options o;
	struct lb_errmsg em;
	lb_ledger_options_init(&o);
	o.home = f->home;
	o.sync_full = false;
	if (lb_ledger_open(&f->l, &o, &f->k[K_PROP], &em))
		fail_msg("open: %s", em.text);
}

static void setup(struct fx *f, const char *genesis_text)
{
	uint8_t seed[LB_SEED_LEN];
	snprintf(f->home, sizeof f->home, "/tmp/lb-test-xchg-XXXXXX");
	assert_non_null(mkdtemp(f->home));
	for (int i = 0; i < NKEYS; i++) {
		memset(seed, 10 + i, sizeof seed);
		lb_keypair_from_seed(&f->k[i], seed);
		lb_addr_from_pubkey(f->a[i], f->k[i].pk);
	}
	char path[128];
	snprintf(path, sizeof path, "%s/genesis.json", f->home);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(genesis_text, fp);
	fclose(fp);
	f->time_ms = 1000;
	open_ledger(f);
}

/* With a genesis "market" section, releases pay through the split tables. */
static bool market_mode;
static const uint8_t market_platform[LB_ADDR_LEN] = {0x70, 0x6c, 0x61, 0x74};

static char *genesis_for(struct fx *f)
{
	char hx[2 * LB_PUBKEY_LEN + 1], ad[NKEYS][LB_ADDR_TEXT_LEN + 1];
	uint8_t seed[LB_SEED_LEN];
	struct lb_keypair kp;
	for (int i = 0; i < NKEYS; i++) {
		memset(seed, 10 + i, sizeof seed);
		lb_keypair_from_seed(&kp, seed);
		lb_addr_from_pubkey(f->a[i], kp.pk);
		lb_addr_encode(ad[i], f->a[i]);
		if (i == K_PROP)
			lb_hex_encode(hx, kp.pk, LB_PUBKEY_LEN);
	}
	json_t *accts = json_array();
	for (int i = 1; i < NKEYS; i++)
		json_array_append_new(accts, json_pack("{s:s,s:I,s:I}", "address", ad[i], "asc",
						       (json_int_t)100000000, "csc",
						       (json_int_t)100000000));
	json_t *g = json_pack("{s:s,s:i,s:s,s:[],s:{s:i},s:o}", "network", "xchg-test", "time_ms",
			      1, "proposer", hx, "credit_partners", "fees", "default", 1000,
			      "accounts", accts);
	if (market_mode) { /* the market layer's split tables (docs/economy.md), defaults */
		char pt[LB_ADDR_TEXT_LEN + 1];
		lb_addr_encode(pt, market_platform);
		json_object_set_new(g, "market", json_pack("{s:s}", "platform", pt));
	}
	char *s = json_dumps(g, JSON_INDENT(1));
	json_decref(g);
	return s;
}

/* Sign and submit one tx; if admitted, commit it as the next block of its chain. */
static int send(struct fx *f, int who, int chain, uint32_t type, const struct lb_buf *pl,
		uint8_t id[LB_HASH_LEN], char *msg, size_t msgsz)
{
	struct lb_tx t;
	struct lb_buf raw;
	uint8_t tid[LB_HASH_LEN];
	memset(&t, 0, sizeof t);
	t.version = LB_TX_VERSION;
	t.chain = (uint8_t)chain;
	t.type = type;
	t.nonce = lb_ledger_next_nonce(f->l, chain, f->a[who]);
	t.fee = chain == LB_CHAIN_SETTLEMENT ? 1000 : 0;
	t.payload = pl->data;
	t.payload_len = pl->len;
	lb_buf_init(&raw, LB_TX_MAX_BYTES);
	assert_lb_ok(lb_tx_build(&raw, &t, lb_ledger_network_id(f->l), &f->k[who], tid));
	if (id)
		memcpy(id, tid, LB_HASH_LEN);
	struct lb_submit_result r;
	const uint8_t *raws[1] = {raw.data};
	size_t lens[1] = {raw.len};
	memset(&r, 0, sizeof r);
	assert_lb_ok(lb_ledger_submit(f->l, 1, raws, lens, &r));
	if (msg)
		snprintf(msg, msgsz, "%s", r.message);
	if (r.code == LB_OK) {
		struct lb_cut c = {chain, f->time_ms += 1000, 1, raws, lens};
		struct lb_errmsg em;
		if (lb_ledger_commit(f->l, &c, NULL, &em))
			fail_msg("commit: %s", em.text);
	}
	lb_buf_release(&raw);
	return r.code;
}

/* A cheap tx on chain (to make a block that anchors the other chains' latest). */
static void tick(struct fx *f, int chain)
{
	struct lb_buf b;
	uint8_t subj[LB_HASH_LEN] = {0};
	lb_buf_init(&b, 1024);
	if (chain == LB_CHAIN_SETTLEMENT)
		assert_lb_ok(lb_payload_transfer(&b, f->a[K_OTHER], LB_CSC, 1, ""));
	else
		assert_lb_ok(lb_payload_record(&b, "tick", subj, NULL, 0));
	int rc = send(f, K_OTHER, chain,
		      chain == LB_CHAIN_SETTLEMENT ? LB_TX_TRANSFER : LB_TX_RECORD, &b, NULL, NULL, 0);
	assert_lb_ok(rc);
	lb_buf_release(&b);
}

/* Everything a refusal must leave untouched, as one text. */
static char *snapshot(struct fx *f, const uint8_t req[LB_HASH_LEN], const uint8_t esc[LB_HASH_LEN])
{
	json_t *all = json_object(), *j;
	struct lb_errmsg em;
	for (int i = 0; i < NKEYS; i++) {
		char key[16];
		snprintf(key, sizeof key, "k%d", i);
		assert_lb_ok(lb_ledger_account_json(f->l, f->a[i], &j, &em));
		json_object_set_new(all, key, j);
	}
	if (req && lb_xchg_request_json(f->l, req, &j, &em) == LB_OK)
		json_object_set_new(all, "request", j);
	if (esc && lb_xchg_escrow_json(f->l, esc, &j, &em) == LB_OK)
		json_object_set_new(all, "escrow", j);
	for (int c = 0; c < LB_CHAIN_COUNT; c++) {
		char key[16];
		snprintf(key, sizeof key, "h%d", c);
		json_object_set_new(all, key, json_integer((json_int_t)lb_ledger_height(f->l, c)));
	}
	char *s = json_dumps(all, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(all);
	return s;
}

/* Expect a refusal with code want and a message containing words, changing nothing. */
static void refused(struct fx *f, int who, int chain, uint32_t type, const struct lb_buf *pl,
		    int want, const char *words, const uint8_t *req, const uint8_t *esc)
{
	char msg[512];
	char *before = snapshot(f, req, esc);
	int rc = send(f, who, chain, type, pl, NULL, msg, sizeof msg);
	if (rc != want || !strstr(msg, words))
		fail_msg("type 0x%04x: got %s '%s', want %s '%s'", type, lb_errname(rc), msg,
			 lb_errname(want), words);
	char *after = snapshot(f, req, esc);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void receipt(struct fx *f, const uint8_t id[LB_HASH_LEN], int anchor, uint8_t **raw,
		    size_t *rawlen, struct lb_buf *proof)
{
	int chain;
	struct lb_errmsg em;
	assert_lb_ok(lb_ledger_tx_raw(f->l, id, &chain, raw, rawlen));
	lb_buf_init(proof, 1 << 20);
	if (lb_ledger_proof(f->l, id, anchor, proof, &em))
		fail_msg("proof: %s", em.text);
}

struct view_q {
	const uint8_t *key;
	uint64_t a, b;
};

static int share_view(struct lb_state *s, void *ctx)
{
	struct view_q *q = ctx;
	return lb_mkt_patient_share_get(s, q->key, &q->a);
}

static int bal_view(struct lb_state *s, void *ctx)
{
	struct view_q *q = ctx;
	return lb_mkt_balances(s, q->key, &q->a, &q->b);
}

static uint64_t asc_of(struct fx *f, const uint8_t addr[LB_ADDR_LEN])
{
	struct view_q q = {.key = addr};
	assert_lb_ok(lb_ledger_state_view(f->l, LB_CHAIN_SETTLEMENT, bal_view, &q));
	return q.a;
}

/* market.patient.claim after a market release (escrow esc; exec exid used patient pid's
 * record, registered to K_PATIENT by the owner's xchg.patients preg; pid3 to K_OTHER): the
 * attacks first, each refused changing nothing; then the patient's claim takes the whole
 * per-record share (1,000 micro-ASC of 1 record) from the owner's patient pool, once. */
static void claim_pl(struct lb_buf *b, const uint8_t *ex, size_t exl, const struct lb_buf *exp,
		     const uint8_t *rg, size_t rgl, const struct lb_buf *rgp,
		     const uint8_t c[LB_HASH_LEN])
{
	lb_buf_reset(b);
	assert_lb_ok(lb_mkt_patient_claim_encode(b, ex, exl, exp ? exp->data : NULL,
						 exp ? exp->len : 0, rg, rgl, rgp->data, rgp->len,
						 c));
}

static void patient_claims(struct fx *f, const uint8_t exid[LB_HASH_LEN],
			   const uint8_t preg[LB_HASH_LEN], const uint8_t pid[LB_HASH_LEN],
			   const uint8_t esc[LB_HASH_LEN])
{
	struct lb_buf b, ep, rp;
	uint8_t *er, *rr, pool[LB_ADDR_LEN], other[LB_HASH_LEN];
	size_t el, rl;
	struct view_q q = {.key = esc};
	lb_mkt_patient_pool(f->a[K_OWNER], pool);
	tick(f, LB_CHAIN_SETTLEMENT);
	receipt(f, exid, LB_CHAIN_SETTLEMENT, &er, &el, &ep);
	receipt(f, preg, LB_CHAIN_SETTLEMENT, &rr, &rl, &rp);
	lb_buf_init(&b, LB_TX_MAX_BYTES * 3);
	/* a proof missing */
	claim_pl(&b, er, el, NULL, rr, rl, &rp, pid);
	refused(f, K_PATIENT, LB_CHAIN_SETTLEMENT, LB_TX_MKT_PATIENT_CLAIM, &b, LB_EMALFORMED,
		"must be present", NULL, esc);
	/* the registration cited in the exec's place */
	claim_pl(&b, rr, rl, &rp, rr, rl, &rp, pid);
	refused(f, K_PATIENT, LB_CHAIN_SETTLEMENT, LB_TX_MKT_PATIENT_CLAIM, &b, LB_EINVALID,
		"xchg.exec", NULL, esc);
	/* a tampered exec proof */
	ep.data[ep.len / 2] ^= 1;
	claim_pl(&b, er, el, &ep, rr, rl, &rp, pid);
	refused(f, K_PATIENT, LB_CHAIN_SETTLEMENT, LB_TX_MKT_PATIENT_CLAIM, &b, LB_EINVALID, "",
		NULL, esc);
	ep.data[ep.len / 2] ^= 1;
	/* another key claims pid's share (K_OTHER is pid3's consent key, not pid's) */
	claim_pl(&b, er, el, &ep, rr, rl, &rp, pid);
	refused(f, K_OTHER, LB_CHAIN_SETTLEMENT, LB_TX_MKT_PATIENT_CLAIM, &b, LB_EUNAUTH,
		"only that key claims", NULL, esc);
	refused(f, K_OWNER, LB_CHAIN_SETTLEMENT, LB_TX_MKT_PATIENT_CLAIM, &b, LB_EUNAUTH,
		"only that key claims", NULL, esc);
	/* a patient whose records the exec did not use */
	memcpy(other, pid, LB_HASH_LEN);
	other[0] ^= 0x80;
	claim_pl(&b, er, el, &ep, rr, rl, &rp, other);
	refused(f, K_PATIENT, LB_CHAIN_SETTLEMENT, LB_TX_MKT_PATIENT_CLAIM, &b, LB_EINVALID,
		"did not use records", NULL, esc);
	/* the patient's own claim: the per-record share, from the pool to its consent key */
	assert_lb_ok(lb_ledger_state_view(f->l, LB_CHAIN_SETTLEMENT, share_view, &q));
	assert_int_equal(q.a, 1000); /* 20 % of the 5,000 data fee; the algorithm table: none */
	uint64_t asc0 = asc_of(f, f->a[K_PATIENT]), pasc0 = asc_of(f, pool);
	assert_int_equal(pasc0, 1000);
	claim_pl(&b, er, el, &ep, rr, rl, &rp, pid);
	assert_lb_ok(send(f, K_PATIENT, LB_CHAIN_SETTLEMENT, LB_TX_MKT_PATIENT_CLAIM, &b, NULL,
			  NULL, 0));
	assert_int_equal(asc_of(f, f->a[K_PATIENT]), asc0 + 1000); /* the fee is in CSC */
	assert_int_equal(asc_of(f, pool), 0);
	/* a second claim for (escrow, commitment) */
	refused(f, K_PATIENT, LB_CHAIN_SETTLEMENT, LB_TX_MKT_PATIENT_CLAIM, &b, LB_EEXISTS,
		"already claimed", NULL, esc);
	lb_buf_release(&b);
	lb_buf_release(&ep);
	lb_buf_release(&rp);
	lb_free(er);
	lb_free(rr);
}

static void ledger_flow(void)
{
	static struct fx F, G;
	struct fx *f = &F;
	struct lb_buf b, proof;
	uint8_t reg[LB_HASH_LEN], asset[LB_HASH_LEN], content[LB_HASH_LEN], algo[LB_HASH_LEN],
		req[LB_HASH_LEN], esc[LB_HASH_LEN], res[LB_HASH_LEN], pid[LB_HASH_LEN],
		pid2[LB_HASH_LEN], preg[LB_HASH_LEN], exid[LB_HASH_LEN];
	uint8_t *raw;
	size_t rawlen;

	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	assert_lb_ok(lb_exchange_register_txtypes());
	assert_lb_ok(lb_exchange_register_txtypes()); /* idempotent */
	assert_lb_ok(lb_market_register_txtypes());
	char *gtext = genesis_for(f);
	setup(f, gtext);
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);

	/* the owner registers an asset in the directory */
	lb_hash(content, "the data", 8);
	assert_lb_ok(lb_payload_asset_register(&b, content, "{}", 2));
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_DIRECTORY, LB_TX_ASSET_REGISTER, &b, reg, NULL, 0));
	lb_xchg_asset_id(asset, f->a[K_OWNER], 0);

	/* an offer citing a proof with no business anchor yet is refused */
	receipt(f, reg, -1, &raw, &rawlen, &proof);
	struct lb_xchg_offer *of = calloc(1, sizeof *of);
	of->reg_tx = raw;
	of->reg_tx_len = rawlen;
	of->reg_proof = proof.data;
	of->reg_proof_len = proof.len;
	of->data_fee = 5000;
	of->min_cohort = 2;
	of->max_output = 1000;
	of->epsilon = 1000000;        /* one release per user ... */
	of->budget_user = 1000000;
	of->budget_patient = 3000000; /* ... and three per patient */
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	refused(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_OFFER, &b, LB_EINVALID,
		"must be anchored in a business block", NULL, NULL);
	lb_buf_release(&proof);
	lb_free(raw);

	tick(f, LB_CHAIN_BUSINESS); /* a business block anchoring the registration */
	receipt(f, reg, LB_CHAIN_BUSINESS, &raw, &rawlen, &proof);
	of->reg_tx = raw;
	of->reg_proof = proof.data;
	of->reg_proof_len = proof.len;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	refused(f, K_USER, LB_CHAIN_BUSINESS, LB_TX_XCHG_OFFER, &b, LB_EUNAUTH, "wrong owner", NULL,
		NULL);
	/* a tampered proof (a flipped byte of the Merkle path or header) is refused */
	proof.data[proof.len - 5] ^= 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	refused(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_OFFER, &b, LB_EINVALID,
		"does not check out", NULL, NULL);
	proof.data[proof.len - 5] ^= 1;
	/* the registration tx bytes must be the proven tx */
	raw[rawlen - 1] ^= 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	refused(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_OFFER, &b, LB_EINVALID,
		"not the tx the proof is for", NULL, NULL);
	raw[rawlen - 1] ^= 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_OFFER, &b, NULL, NULL, 0));
	lb_buf_release(&proof);
	lb_free(raw);
	free(of);
	json_t *j;
	struct lb_errmsg em;
	assert_lb_ok(lb_xchg_offer_json(f->l, asset, &j, &em));
	assert_int_equal(json_integer_value(json_object_get(j, "data_fee")), 5000);
	json_decref(j);

	/* algorithm, request: unknown asset and algorithm refused */
	struct lb_xchg_algo al = {.fee = 700};
	lb_xchg_builtin_hash(al.hash, "stats"); /* built-ins belong to the platform */
	snprintf(al.name, sizeof al.name, "stats");
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_algo_encode(&b, &al));
	refused(f, K_AUTHOR, LB_CHAIN_BUSINESS, LB_TX_XCHG_ALGO, &b, LB_EDENIED,
		"belong to the platform", NULL, NULL);
	assert_lb_ok(lb_xchg_algo_json(f->l, al.hash, &j, &em)); /* known without registration */
	assert_true(json_is_null(json_object_get(j, "author")));
	assert_int_equal(json_integer_value(json_object_get(j, "fee")), 0);
	json_decref(j);
	lb_hash(algo, "return {n = 1}", 14); /* a script: its author is paid */
	memcpy(al.hash, algo, LB_HASH_LEN);
	snprintf(al.name, sizeof al.name, "count");
	struct lb_xchg_request rq = {0};
	memcpy(rq.asset, asset, LB_HASH_LEN);
	memcpy(rq.algo, algo, LB_HASH_LEN);
	snprintf(rq.purpose, sizeof rq.purpose, "study");
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_request_encode(&b, &rq));
	refused(f, K_USER, LB_CHAIN_BUSINESS, LB_TX_XCHG_REQUEST, &b, LB_ENOTFOUND,
		"is not registered", NULL, NULL);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_algo_encode(&b, &al));
	assert_lb_ok(send(f, K_AUTHOR, LB_CHAIN_BUSINESS, LB_TX_XCHG_ALGO, &b, NULL, NULL, 0));
	refused(f, K_OTHER, LB_CHAIN_BUSINESS, LB_TX_XCHG_ALGO, &b, LB_EEXISTS,
		"already registered by", NULL, NULL);
	rq.asset[0] ^= 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_request_encode(&b, &rq));
	refused(f, K_USER, LB_CHAIN_BUSINESS, LB_TX_XCHG_REQUEST, &b, LB_ENOTFOUND,
		"is not offered", NULL, NULL);
	rq.asset[0] ^= 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_request_encode(&b, &rq));
	assert_lb_ok(send(f, K_USER, LB_CHAIN_BUSINESS, LB_TX_XCHG_REQUEST, &b, req, NULL, 0));

	/* execution before approval: unapproved algorithm */
	static const uint8_t salt_key[LB_XCHG_SALT_KEY_LEN] = {9, 8, 7};
	lb_xchg_patient_commit(pid, asset, salt_key, "P1");
	lb_xchg_patient_commit(pid2, asset, salt_key, "P2");
	bool pid_first = memcmp(pid, pid2, LB_HASH_LEN) < 0;
	uint8_t pats[2 * LB_HASH_LEN];
	memcpy(pats, pid_first ? pid : pid2, LB_HASH_LEN);
	memcpy(pats + LB_HASH_LEN, pid_first ? pid2 : pid, LB_HASH_LEN);
	struct lb_xchg_exec ex = {.scenario = LB_XCHG_INTEGRATED, .chosen_by = 2, .n_patients = 2,
				  .patients = pats};
	memcpy(ex.request, req, LB_HASH_LEN);
	static struct lb_xchg_terms T;
	struct lb_xchg_terms *t = &T; /* the agreed terms (ex.terms is set from them) */
	memcpy(t->user, f->a[K_USER], LB_ADDR_LEN);
	memcpy(t->request, req, LB_HASH_LEN);
	memcpy(t->owner, f->a[K_OWNER], LB_ADDR_LEN);
	memcpy(t->author, f->a[K_AUTHOR], LB_ADDR_LEN);
	memcpy(t->executor, f->a[K_EXEC], LB_ADDR_LEN);
	t->data_fee = 5000;
	t->algo_fee = 700;
	t->compute_fee = 300;
	ex.terms = *t;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, LB_EDENIED,
		"unapproved algorithm", req, NULL);

	/* approval: only the owner */
	struct lb_xchg_approve ap = {.decision = 1};
	memcpy(ap.request, req, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_approve_encode(&b, &ap));
	refused(f, K_USER, LB_CHAIN_BUSINESS, LB_TX_XCHG_APPROVE, &b, LB_EUNAUTH, "wrong owner",
		req, NULL);
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_APPROVE, &b, NULL, NULL, 0));

	/* no execution right yet */
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, LB_EUNAUTH, "no execution right",
		req, NULL);
	struct lb_xchg_grant gr = {.kind = 3};
	memcpy(gr.asset, asset, LB_HASH_LEN);
	memcpy(gr.executor, f->a[K_EXEC], LB_ADDR_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_grant_encode(&b, &gr));
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_GRANT, &b, LB_EUNAUTH, "wrong owner", req,
		NULL);
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_GRANT, &b, NULL, NULL, 0));

	/* consent is bound to the patient: registered keys only, opt-in */
	struct lb_xchg_consent co = {.action = LB_XCHG_REVOKE_CONSENT};
	memcpy(co.asset, asset, LB_HASH_LEN);
	memcpy(co.patient, pid2, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_consent_encode(&b, &co));
	refused(f, K_PATIENT, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, LB_ENOTFOUND,
		"is not registered", req, NULL);
	uint8_t pid3[LB_HASH_LEN], ents[3 * LB_XCHG_PATIENT_ENTRY];
	lb_xchg_patient_commit(pid3, asset, salt_key, "P3");
	const uint8_t *bind[3][2] = {{pid, f->a[K_PATIENT]}, {pid2, f->a[K_PATIENT]},
				     {pid3, f->a[K_OTHER]}};
	for (int i = 0; i < 3; i++) { /* sorted by commitment */
		int at = 0;
		for (int k = 0; k < 3; k++)
			at += memcmp(bind[k][0], bind[i][0], LB_HASH_LEN) < 0;
		memcpy(ents + at * LB_XCHG_PATIENT_ENTRY, bind[i][0], LB_HASH_LEN);
		memcpy(ents + at * LB_XCHG_PATIENT_ENTRY + LB_HASH_LEN, bind[i][1], LB_ADDR_LEN);
	}
	struct lb_xchg_patients pr = {.n = 1, .entries = ents};
	memcpy(pr.asset, asset, LB_HASH_LEN);
	uint8_t own[LB_XCHG_PATIENT_ENTRY]; /* the owner as a patient's consent key: refused */
	memcpy(own, pid, LB_HASH_LEN);
	memcpy(own + LB_HASH_LEN, f->a[K_OWNER], LB_ADDR_LEN);
	pr.entries = own;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_patients_encode(&b, &pr));
	refused(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_PATIENTS, &b, LB_EINVALID,
		"cannot be a patient's consent key", req, NULL);
	pr.entries = ents;
	pr.n = 3;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_patients_encode(&b, &pr));
	refused(f, K_OTHER, LB_CHAIN_BUSINESS, LB_TX_XCHG_PATIENTS, &b, LB_EUNAUTH, "wrong owner",
		req, NULL);
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_PATIENTS, &b, preg, NULL, 0));
	refused(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_PATIENTS, &b, LB_EEXISTS,
		"already registered", req, NULL);
	assert_lb_ok(lb_xchg_consent_json(f->l, asset, pid3, &j, &em));
	assert_string_equal(json_string_value(json_object_get(j, "status")), "registered");
	json_decref(j);
	/* registered but no consent given: an opt-in offer does not use the patient */
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, LB_EDENIED, "no consent", req,
		NULL);
	/* the patient revokes; a stranger can neither give it back nor revoke for it */
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_consent_encode(&b, &co));
	refused(f, K_OTHER, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, LB_EUNAUTH,
		"only the patient's registered consent key", req, NULL);
	assert_lb_ok(send(f, K_PATIENT, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, NULL, NULL, 0));
	co.action = LB_XCHG_GIVE;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_consent_encode(&b, &co));
	refused(f, K_OTHER, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, LB_EUNAUTH,
		"only the patient's registered consent key", req, NULL);
	/* the owner records a revocation on a patient's behalf, never a consent */
	memcpy(co.patient, pid3, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_consent_encode(&b, &co));
	refused(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, LB_EUNAUTH, "never a consent",
		req, NULL);
	assert_lb_ok(send(f, K_OTHER, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, NULL, NULL, 0));
	co.action = LB_XCHG_REVOKE_CONSENT;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_consent_encode(&b, &co));
	refused(f, K_PATIENT, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, LB_EUNAUTH,
		"only the patient's registered consent key", req, NULL);
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, NULL, NULL, 0));
	/* rebind: the patient's current key moves it to a new key; the old key is then refused */
	co.action = LB_XCHG_REBIND;
	memcpy(co.new_key, f->a[K_PATIENT], LB_ADDR_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_consent_encode(&b, &co));
	refused(f, K_PATIENT, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, LB_EUNAUTH,
		"only the patient's registered consent key", req, NULL);
	refused(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, LB_EUNAUTH, "never a consent",
		req, NULL);
	memcpy(co.new_key, f->a[K_OWNER], LB_ADDR_LEN); /* not even the patient binds it to the owner */
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_consent_encode(&b, &co));
	refused(f, K_OTHER, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, LB_EINVALID,
		"the owner never gives", req, NULL);
	memcpy(co.new_key, f->a[K_PATIENT], LB_ADDR_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_consent_encode(&b, &co));
	assert_lb_ok(send(f, K_OTHER, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, NULL, NULL, 0));
	co.action = LB_XCHG_GIVE;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_consent_encode(&b, &co));
	refused(f, K_OTHER, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, LB_EUNAUTH,
		"only the patient's registered consent key", req, NULL);
	assert_lb_ok(send(f, K_PATIENT, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, NULL, NULL, 0));
	/* the first patient gives consent; the second revoked: the run listing it is refused */
	memcpy(co.patient, pid, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_consent_encode(&b, &co));
	assert_lb_ok(send(f, K_PATIENT, LB_CHAIN_BUSINESS, LB_TX_XCHG_CONSENT, &b, NULL, NULL, 0));
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, LB_EDENIED, "revoked consent", req,
		NULL);
	/* the dry run says the same, or leaves the patient out */
	assert_int_equal(lb_xchg_check_json(f->l, req, f->a[K_EXEC], pats, 2, false, &j, &em),
			 LB_EDENIED);
	assert_non_null(strstr(em.text, "revoked consent"));
	assert_lb_ok(lb_xchg_check_json(f->l, req, f->a[K_EXEC], pats, 2, true, &j, &em));
	assert_int_equal(json_array_size(json_object_get(j, "excluded")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "patients_used")), 1);
	json_decref(j);
	/* the same for an executor holding the table in clear: the local ids to leave out */
	{
		char home[] = "/tmp/leben-xt-XXXXXX", dir[128], path[256], hex[2 * LB_HASH_LEN + 1];
		static const char csv[] = "patient_id,x\nP1,1\nP2,2\nP9,3\nP1,4\n";
		char **ex2;
		size_t nex, nused;
		assert_non_null(mkdtemp(home));
		lb_hex_encode(hex, asset, LB_HASH_LEN);
		snprintf(dir, sizeof dir, "%s/exchange/salts", home);
		assert_lb_ok(lb_mkdirs(dir, 0700, &em));
		snprintf(path, sizeof path, "%s/%s.key", dir, hex);
		assert_lb_ok(lb_file_write(path, salt_key, sizeof salt_key, 0600, &em));
		assert_lb_ok(lb_xchg_table_exclusions(f->l, home, req, asset, f->a[K_EXEC],
						      (const uint8_t *)csv, sizeof csv - 1,
						      "patient_id", &ex2, &nex, &nused, &em));
		assert_int_equal(nused, 1); /* P1 gave consent; P2 revoked; P9 is unknown (opt-in) */
		assert_int_equal(nex, 2);
		bool p2 = !strcmp(ex2[0], "P2") || !strcmp(ex2[1], "P2");
		bool p9 = !strcmp(ex2[0], "P9") || !strcmp(ex2[1], "P9");
		assert_true(p2 && p9);
		lb_xchg_exclusions_free(ex2, nex);
		char cmd[200];
		snprintf(cmd, sizeof cmd, "rm -rf %s", home);
		assert_int_equal(system(cmd), 0);
	}
	ex.n_patients = 1;
	ex.patients = pid;

	/* escrow: only the user opens it, with enough funds */
	struct lb_escrow_open op = {.terms = *t, .timeout = lb_ledger_height(f->l, LB_CHAIN_SETTLEMENT) + 50};
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_open_encode(&b, &op));
	refused(f, K_OTHER, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_OPEN, &b, LB_EUNAUTH, "paying user",
		req, NULL);
	op.terms.data_fee = 200000000;
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_open_encode(&b, &op));
	refused(f, K_USER, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_OPEN, &b, LB_EFUNDS, "the balance is",
		req, NULL);
	op.terms.data_fee = 4999; /* below the owner's price: the exec will not accept it */
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_open_encode(&b, &op));
	uint8_t cheap[LB_HASH_LEN];
	assert_lb_ok(send(f, K_USER, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_OPEN, &b, cheap, NULL, 0));
	memcpy(ex.escrow, cheap, LB_HASH_LEN);
	ex.terms = op.terms;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, LB_EINVALID,
		"the owner asks", req, NULL);
	/* refund of that escrow before its timeout, without a proof: refused */
	struct lb_escrow_cite ci = {0};
	memcpy(ci.escrow, cheap, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_cite_encode(&b, &ci));
	refused(f, K_USER, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_REFUND, &b, LB_EINVALID,
		"times out after settlement height", req, cheap);

	op.terms = *t;
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_open_encode(&b, &op));
	assert_lb_ok(send(f, K_USER, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_OPEN, &b, esc, NULL, 0));
	/* a release before any result: nothing to cite */
	memcpy(ci.escrow, esc, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_cite_encode(&b, &ci));
	refused(f, K_EXEC, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_RELEASE, &b, LB_EINVALID,
		"must cite the run's result", req, esc);

	/* the run: the offer adds noise, so the execution commits to the executor's secret */
	memcpy(ex.escrow, esc, LB_HASH_LEN);
	ex.terms = *t;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, LB_EINVALID, "noise_commit", req,
		esc);
	uint8_t noise_r[LB_HASH_LEN] = {42};
	lb_xchg_noise_commit(ex.noise_commit, noise_r);
	/* the recorded scenario is the one that runs: a computing provider's run is integrated,
	 * and the user left the choice to the automatic rule */
	ex.scenario = LB_XCHG_LOCAL;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, LB_EINVALID,
		"but this executor runs it integrated", req, esc);
	ex.scenario = LB_XCHG_INTEGRATED;
	ex.chosen_by = 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, LB_EINVALID,
		"record chosen_by 2", req, esc);
	ex.chosen_by = 2;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	assert_lb_ok(send(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, exid, NULL, 0));
	/* the chain charged epsilon to the user on the asset and to the patient used */
	assert_lb_ok(lb_xchg_budget_json(f->l, f->a[K_USER], LB_ADDR_LEN, asset, &j, &em));
	assert_int_equal(json_integer_value(json_object_get(j, "spent_user")), 1000000);
	assert_int_equal(json_integer_value(json_object_get(j, "budget_left_user")), 0);
	json_decref(j);
	/* the patient is charged by its registered consent key, not by the commitment */
	assert_lb_ok(lb_xchg_budget_json(f->l, f->a[K_PATIENT], LB_ADDR_LEN, NULL, &j, &em));
	assert_int_equal(json_integer_value(json_object_get(j, "spent_patient")), 1000000);
	json_decref(j);
	assert_lb_ok(lb_xchg_budget_json(f->l, pid, LB_HASH_LEN, NULL, &j, &em));
	assert_int_equal(json_integer_value(json_object_get(j, "spent_patient")), 0);
	json_decref(j);
	assert_lb_ok(lb_xchg_budget_json(f->l, f->a[K_OTHER], LB_ADDR_LEN, NULL, &j, &em));
	assert_int_equal(json_integer_value(json_object_get(j, "spent_patient")), 0);
	json_decref(j);
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, LB_EINVALID, "already run", req,
		esc);
	struct lb_xchg_result rs = {.status = LB_XCHG_DELIVERED};
	memcpy(rs.request, req, LB_HASH_LEN);
	memcpy(rs.escrow, esc, LB_HASH_LEN);
	lb_xchg_terms_hash(t, rs.terms_hash);
	lb_hash(rs.result_hash, "result", 6);
	if (market_mode) { /* metered: 0 ms CPU, 1 MiB + 1 byte of memory (2 started MiB) */
		rs.metered = 1;
		rs.peak_mem = (1u << 20) + 1;
		struct lb_xchg_result back;
		lb_buf_reset(&b);
		assert_lb_ok(lb_xchg_result_encode(&b, &rs));
		assert_lb_ok(lb_xchg_result_decode(&back, b.data, b.len, &em));
		assert_int_equal(back.metered, 1);
		assert_int_equal(back.peak_mem, (1u << 20) + 1);
		b.data[b.len - 5] = 2; /* a tail that is not "1" */
		assert_int_equal(lb_xchg_result_decode(&back, b.data, b.len, &em), LB_EMALFORMED);
		assert_non_null(strstr(em.text, "metered"));
	}
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_result_encode(&b, &rs));
	refused(f, K_OTHER, LB_CHAIN_BUSINESS, LB_TX_XCHG_RESULT, &b, LB_EUNAUTH,
		"only the executor", req, esc);
	assert_lb_ok(send(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_RESULT, &b, res, NULL, 0));

	/* claim by the executor only; it also makes a settlement block anchoring the result */
	struct lb_escrow_claim cl;
	memcpy(cl.escrow, esc, LB_HASH_LEN);
	memcpy(cl.result_hash, rs.result_hash, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_claim_encode(&b, &cl));
	refused(f, K_USER, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_CLAIM, &b, LB_EUNAUTH, "only the executor",
		req, esc);
	assert_lb_ok(send(f, K_EXEC, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_CLAIM, &b, NULL, NULL, 0));

	/* a proof anchored in another ledger's settlement block (same genesis, same proposer,
	 * other history) is refused: the anchor is not this chain's block */
	struct fx *g = &G;
	g->k[K_PROP] = f->k[K_PROP];
	setup(g, gtext);
	assert_true(lb_ledger_height(f->l, LB_CHAIN_SETTLEMENT) >= 3);
	tick(g, LB_CHAIN_SETTLEMENT);
	tick(g, LB_CHAIN_BUSINESS);
	tick(g, LB_CHAIN_SETTLEMENT);
	uint8_t gid[LB_HASH_LEN];
	{
		/* g's business tick tx: a valid tx of g's business chain, anchored in g's settlement */
		json_t *blk;
		assert_lb_ok(lb_ledger_block_json(g->l, LB_CHAIN_BUSINESS, 1, &blk, &em));
		const char *idh = json_string_value(
			json_object_get(json_array_get(json_object_get(blk, "txs"), 0), "id"));
		assert_non_null(idh);
		assert_lb_ok(lb_hex_decode(gid, LB_HASH_LEN, idh));
		json_decref(blk);
	}
	uint8_t *graw;
	size_t grawlen;
	struct lb_buf gproof;
	receipt(g, gid, LB_CHAIN_SETTLEMENT, &graw, &grawlen, &gproof);
	struct lb_escrow_cite fake = {.result_tx = graw, .result_tx_len = grawlen,
				      .proof = gproof.data, .proof_len = gproof.len};
	memcpy(fake.escrow, esc, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_cite_encode(&b, &fake));
	refused(f, K_EXEC, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_RELEASE, &b, LB_EINVALID,
		"is not settlement block", req, esc);
	lb_buf_release(&gproof);
	lb_free(graw);
	lb_ledger_close(g->l);

	/* the genuine release: owner, author and executor paid exactly */
	receipt(f, res, LB_CHAIN_SETTLEMENT, &raw, &rawlen, &proof);
	ci.result_tx = raw;
	ci.result_tx_len = rawlen;
	ci.proof = proof.data;
	ci.proof_len = proof.len;
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_cite_encode(&b, &ci));
	refused(f, K_USER, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_REFUND, &b, LB_EDENIED,
		"delivered its result", req, esc);
	json_t *o0, *a0, *x0, *o1, *a1, *x1, *u0, *u1;
	assert_lb_ok(lb_ledger_account_json(f->l, f->a[K_USER], &u0, &em));
	assert_lb_ok(lb_ledger_account_json(f->l, f->a[K_OWNER], &o0, &em));
	assert_lb_ok(lb_ledger_account_json(f->l, f->a[K_AUTHOR], &a0, &em));
	assert_lb_ok(lb_ledger_account_json(f->l, f->a[K_EXEC], &x0, &em));
	assert_lb_ok(send(f, K_OTHER, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_RELEASE, &b, NULL, NULL, 0));
	assert_lb_ok(lb_ledger_account_json(f->l, f->a[K_OWNER], &o1, &em));
	assert_lb_ok(lb_ledger_account_json(f->l, f->a[K_AUTHOR], &a1, &em));
	assert_lb_ok(lb_ledger_account_json(f->l, f->a[K_EXEC], &x1, &em));
	assert_lb_ok(lb_ledger_account_json(f->l, f->a[K_USER], &u1, &em));
#define BAL(o, k) json_integer_value(json_object_get(json_object_get(o, "balances"), k))
	if (!market_mode) {
		assert_int_equal(BAL(o1, "asc") - BAL(o0, "asc"), 5000);
		assert_int_equal(BAL(a1, "asc") - BAL(a0, "asc"), 700);
		assert_int_equal(BAL(x1, "csc") - BAL(x0, "csc"), 300);
	} else {
		/* data fee 5000 by the data-run table: owner 50 %, patients 20 % (the owner's
		 * patient pool), algorithm author 10 %, executor 10 %, audit 3 % (no audit node:
		 * to the platform) and platform 7 %; algorithm fee 700 by the algorithm-call
		 * table: author 70 %, executor 15 %, audit 5 % (platform), platform 10 %; the
		 * compute fee is metered (below) */
		json_t *pp, *pl;
		uint8_t pool[LB_ADDR_LEN];
		lb_mkt_patient_pool(f->a[K_OWNER], pool);
		assert_lb_ok(lb_ledger_account_json(f->l, pool, &pp, &em));
		assert_lb_ok(lb_ledger_account_json(f->l, market_platform, &pl, &em));
		assert_int_equal(BAL(o1, "asc") - BAL(o0, "asc"), 2500);
		assert_int_equal(BAL(a1, "asc") - BAL(a0, "asc"), 500 + 490);
		assert_int_equal(BAL(x1, "asc") - BAL(x0, "asc"), 500 + 105);
		assert_int_equal(BAL(x1, "csc") - BAL(x0, "csc"), 0);
		assert_int_equal(BAL(pp, "asc"), 1000);
		assert_int_equal(BAL(pl, "asc"), 150 + 350 + 35 + 70);
		/* metered compute: 2 started MiB x 100 micro-CSC (genesis default) = 200 of the
		 * 300 escrowed are burned, 100 back to the user */
		assert_int_equal(BAL(u1, "csc") - BAL(u0, "csc"), 100);
		assert_int_equal(BAL(u1, "asc"), BAL(u0, "asc"));
		json_decref(pp);
		json_decref(pl);
	}
	if (!market_mode) /* no market section: the compute fee goes to the executor, unmetered */
		assert_int_equal(BAL(u1, "csc"), BAL(u0, "csc"));
	json_decref(u0);
	json_decref(u1);
	if (market_mode)
		patient_claims(f, exid, preg, pid, esc);
	assert_int_equal(BAL(o1, "csc"), BAL(o0, "csc"));
	json_decref(o0);
	json_decref(a0);
	json_decref(x0);
	json_decref(o1);
	json_decref(a1);
	json_decref(x1);
	refused(f, K_OTHER, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_RELEASE, &b, LB_EINVALID,
		"already released", req, esc);
	/* the cheap escrow cannot be paid with this result either */
	memcpy(ci.escrow, cheap, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_escrow_cite_encode(&b, &ci));
	refused(f, K_OTHER, LB_CHAIN_SETTLEMENT, LB_TX_ESCROW_RELEASE, &b, LB_EINVALID,
		"belongs to escrow", req, cheap);
	lb_buf_release(&proof);
	lb_free(raw);

	/* audit log of the asset: offer, request, approve, grant, patients, six consent changes, exec, result */
	assert_lb_ok(lb_xchg_log_json(f->l, asset, &j, &em));
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 13);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "paid"), "asc")), 5700);
	json_decref(j);
	assert_lb_ok(lb_xchg_log_json(f->l, pid, &j, &em));
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 3); /* registered, consent, run */
	json_decref(j);

	/* the user's budget on the asset is spent: a new request's run is refused by the dry run
	 * and by the chain */
	uint8_t req2[LB_HASH_LEN];
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_request_encode(&b, &rq));
	assert_lb_ok(send(f, K_USER, LB_CHAIN_BUSINESS, LB_TX_XCHG_REQUEST, &b, req2, NULL, 0));
	memcpy(ap.request, req2, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_approve_encode(&b, &ap));
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_APPROVE, &b, NULL, NULL, 0));
	assert_int_equal(lb_xchg_check_json(f->l, req2, f->a[K_EXEC], pid, 1, true, &j, &em),
			 LB_EDENIED);
	assert_non_null(strstr(em.text, "privacy budget exhausted"));
	memcpy(ex.request, req2, LB_HASH_LEN);
	memcpy(ex.terms.request, req2, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, LB_EDENIED,
		"privacy budget exhausted", req2, NULL);

	/* revocations: usage right of a finished request cannot be revoked; an offer can */
	struct lb_xchg_revoke rv = {.kind = 2};
	memcpy(rv.id, req, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_revoke_encode(&b, &rv));
	refused(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_REVOKE, &b, LB_EINVALID, "has not run",
		req, esc);
	rv.kind = 3;
	memcpy(rv.id, asset, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_revoke_encode(&b, &rv));
	refused(f, K_USER, LB_CHAIN_BUSINESS, LB_TX_XCHG_REVOKE, &b, LB_EUNAUTH, "wrong owner", req,
		esc);
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_REVOKE, &b, NULL, NULL, 0));
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_request_encode(&b, &rq));
	refused(f, K_USER, LB_CHAIN_BUSINESS, LB_TX_XCHG_REQUEST, &b, LB_EDENIED, "withdrawn", req,
		esc);

	lb_ledger_close(f->l);
	/* the history replays from genesis, cross-chain proofs included */
	if (lb_ledger_verify_home(f->home, NULL, NULL, &em))
		fail_msg("verify: %s", em.text);
	lb_buf_release(&b);
	free(gtext);
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "rm -rf %.63s %.63s", f->home, g->home);
	assert_int_equal(system(cmd), 0);
}

static void test_ledger_flow(void **state)
{
	(void)state;
	market_mode = false;
	ledger_flow();
}

/* The same flow on a chain whose genesis has a "market" section: the release pays through the
 * split tables; everything else (refusals, replay) is unchanged. */
static void test_ledger_flow_market(void **state)
{
	(void)state;
	market_mode = true;
	ledger_flow();
	market_mode = false;
}

/* ---- preparing a run ------------------------------------------------------------------------ */

static void test_patients(void **state)
{
	(void)state;
	static const char csv[] = "patient_id,age,sex\nA,10,f\nB,20,m\nA,30,f\n\"C, jr\",,m\n";
	static const char num[] = "id;x\n012;1\n12;2\n7;3\n";
	uint8_t asset[LB_HASH_LEN] = {5}, want[LB_HASH_LEN];
	struct lb_xchg_patient *p;
	size_t n;
	struct lb_errmsg em;
	static const uint8_t sk[LB_XCHG_SALT_KEY_LEN] = {6};
	assert_lb_ok(lb_xchg_csv_patients((const uint8_t *)csv, strlen(csv), "patient_id", asset, sk,
					  &p, &n, &em));
	assert_int_equal(n, 3); /* A, B and the quoted "C, jr" */
	for (size_t i = 0; i < n; i++) {
		lb_xchg_patient_commit(want, asset, sk, p[i].local);
		assert_memory_equal(want, p[i].id, LB_HASH_LEN);
		if (i)
			assert_true(memcmp(p[i - 1].id, p[i].id, LB_HASH_LEN) < 0);
	}
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found |= !strcmp(p[i].local, "C, jr");
	assert_true(found);
	lb_free(p);
	/* numeric ids in shortest decimal form: 012 and 12 are one patient */
	assert_lb_ok(lb_xchg_csv_patients((const uint8_t *)num, strlen(num), "id", asset, sk, &p, &n, &em));
	assert_int_equal(n, 2);
	assert_true(!strcmp(p[0].local, "12") || !strcmp(p[1].local, "12"));
	lb_free(p);
	assert_int_equal(lb_xchg_csv_patients((const uint8_t *)"a,b\n1\n", 6, "a", asset, sk, &p, &n, &em),
			 LB_EMALFORMED);
	assert_int_equal(lb_xchg_csv_patients((const uint8_t *)"a,b\n1,2\n", 8, "x", asset, sk, &p, &n,
					      &em),
			 LB_ENOTFOUND);
	assert_int_equal(lb_xchg_csv_patients((const uint8_t *)"a,b\n,2\n", 7, "a", asset, sk, &p, &n,
					      &em),
			 LB_EMALFORMED);
}

/* the asset's salt key file: made once (0600), read back the same, a damaged one refused */
static void test_salt_key(void **state)
{
	(void)state;
	char home[] = "/tmp/leben-salt-XXXXXX", path[256], hex[2 * LB_HASH_LEN + 1];
	uint8_t asset[LB_HASH_LEN] = {3}, k1[LB_XCHG_SALT_KEY_LEN], k2[LB_XCHG_SALT_KEY_LEN];
	struct lb_errmsg em;
	struct stat st;
	assert_non_null(mkdtemp(home));
	assert_int_equal(lb_xchg_salt_key(home, asset, false, k1, &em), LB_ENOTFOUND);
	assert_non_null(strstr(em.text, "leben exchange patients"));
	assert_lb_ok(lb_xchg_salt_key(home, asset, true, k1, &em));
	assert_lb_ok(lb_xchg_salt_key(home, asset, false, k2, &em));
	assert_memory_equal(k1, k2, sizeof k1);
	lb_hex_encode(hex, asset, LB_HASH_LEN);
	snprintf(path, sizeof path, "%s/exchange/salts/%s.key", home, hex);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	asset[0] = 4; /* another asset, another key */
	assert_lb_ok(lb_xchg_salt_key(home, asset, true, k2, &em));
	assert_memory_not_equal(k1, k2, sizeof k1);
	assert_lb_ok(lb_file_write(path, "short", 5, 0600, &em));
	asset[0] = 3;
	assert_int_equal(lb_xchg_salt_key(home, asset, true, k1, &em), LB_ECORRUPT);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", home);
	assert_int_equal(system(cmd), 0);
}


/* A consortium whose members hold different kinds: K_PROP data, K_AUTHOR computing and
 * algorithm, K_EXEC audit, K_OTHER audit; re-audits every 3 business blocks. Every role check
 * is made by the tx handlers, and every refusal leaves the state untouched. */
/* market.cite of an audit record (rec; req: another business tx) on the settlement chain: the
 * audit node ranks in the audit pool with one audit and the score as quality; every bad
 * citation is refused with its own code, changing nothing; a record counts once. */
static void cite_pl(struct lb_buf *b, unsigned kind, const uint8_t *raw, size_t len,
		    const uint8_t *proof, size_t plen)
{
	lb_buf_reset(b);
	assert_lb_ok(lb_mkt_cite_encode(b, kind, raw, len, proof, plen, NULL, 0, NULL, 0));
}

static void audit_cited(struct fx *f, const uint8_t rec[LB_HASH_LEN],
			const uint8_t req[LB_HASH_LEN])
{
	struct lb_buf b, proof, rproof;
	uint8_t *raw, *rraw;
	size_t rawlen, rrawlen;
	tick(f, LB_CHAIN_SETTLEMENT);
	receipt(f, rec, LB_CHAIN_SETTLEMENT, &raw, &rawlen, &proof);
	receipt(f, req, LB_CHAIN_SETTLEMENT, &rraw, &rrawlen, &rproof);
	lb_buf_init(&b, LB_TX_MAX_BYTES * 2);
	/* an unknown kind, a missing proof, a tampered proof, the proof of another kind of tx */
	cite_pl(&b, 9, raw, rawlen, proof.data, proof.len);
	refused(f, K_USER, LB_CHAIN_SETTLEMENT, LB_TX_MKT_CITE, &b, LB_EUNSUPPORTED,
		"not a kind of record counted", NULL, NULL);
	cite_pl(&b, LB_MKT_CITE_AUDIT, raw, rawlen, NULL, 0);
	refused(f, K_USER, LB_CHAIN_SETTLEMENT, LB_TX_MKT_CITE, &b, LB_EMALFORMED,
		"must both be present", NULL, NULL);
	proof.data[proof.len / 2] ^= 1;
	cite_pl(&b, LB_MKT_CITE_AUDIT, raw, rawlen, proof.data, proof.len);
	refused(f, K_USER, LB_CHAIN_SETTLEMENT, LB_TX_MKT_CITE, &b, LB_EINVALID, "market.cite",
		NULL, NULL);
	proof.data[proof.len / 2] ^= 1;
	cite_pl(&b, LB_MKT_CITE_AUDIT, rraw, rrawlen, rproof.data, rproof.len);
	refused(f, K_USER, LB_CHAIN_SETTLEMENT, LB_TX_MKT_CITE, &b, LB_EINVALID,
		"is not of type audit.record",
		NULL, NULL);
	/* the genuine citation, by any account; then the same again */
	cite_pl(&b, LB_MKT_CITE_AUDIT, raw, rawlen, proof.data, proof.len);
	assert_lb_ok(send(f, K_USER, LB_CHAIN_SETTLEMENT, LB_TX_MKT_CITE, &b, NULL, NULL, 0));
	refused(f, K_OTHER, LB_CHAIN_SETTLEMENT, LB_TX_MKT_CITE, &b, LB_EEXISTS, "already counted",
		NULL, NULL);
	lb_buf_release(&b);
	lb_buf_release(&proof);
	lb_buf_release(&rproof);
	lb_free(raw);
	lb_free(rraw);
}

/* Audit asset by auditor (asked by the owner) with score 8700, cited on the settlement chain. */
static void audit_and_cite(struct fx *f, int auditor, const uint8_t asset[LB_HASH_LEN],
			   const uint8_t content[LB_HASH_LEN])
{
	struct lb_buf b, proof;
	uint8_t rec[LB_HASH_LEN], *raw;
	size_t rawlen;
	struct lb_xchg_audit_req ar = {0};
	struct lb_xchg_audit_score sc = {.score = 8700};
	lb_buf_init(&b, LB_TX_MAX_BYTES * 2);
	memcpy(ar.asset, asset, LB_HASH_LEN);
	memcpy(ar.auditor, f->a[auditor], LB_ADDR_LEN);
	assert_lb_ok(lb_xchg_audit_req_encode(&b, &ar));
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_AUDIT_REQUEST, &b, NULL, NULL, 0));
	memcpy(sc.asset, asset, LB_HASH_LEN);
	memcpy(sc.content, content, LB_HASH_LEN);
	memset(sc.report_hash, 8, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_audit_score_encode(&b, &sc));
	assert_lb_ok(send(f, auditor, LB_CHAIN_BUSINESS, LB_TX_AUDIT_RECORD, &b, rec, NULL, 0));
	tick(f, LB_CHAIN_SETTLEMENT);
	receipt(f, rec, LB_CHAIN_SETTLEMENT, &raw, &rawlen, &proof);
	cite_pl(&b, LB_MKT_CITE_AUDIT, raw, rawlen, proof.data, proof.len);
	assert_lb_ok(send(f, K_USER, LB_CHAIN_SETTLEMENT, LB_TX_MKT_CITE, &b, NULL, NULL, 0));
	lb_buf_release(&b);
	lb_buf_release(&proof);
	lb_free(raw);
}

/* Period 0 (settlement blocks 1-40) closed: two audits by K_EXEC rank above one by K_OTHER;
 * default weights: 1,000,000 per audit + 1,000 per basis point of score. */
static void audits_ranked(struct fx *f)
{
	struct lb_buf b;
	struct lb_errmsg em;
	json_t *j;
	assert_true(lb_ledger_height(f->l, LB_CHAIN_SETTLEMENT) <= 40); /* all in period 0 */
	while (lb_ledger_height(f->l, LB_CHAIN_SETTLEMENT) < 40)
		tick(f, LB_CHAIN_SETTLEMENT);
	lb_buf_init(&b, 64);
	assert_lb_ok(lb_mkt_period_encode(&b, 0));
	assert_lb_ok(send(f, K_OTHER, LB_CHAIN_SETTLEMENT, LB_TX_MKT_PERIOD, &b, NULL, NULL, 0));
	lb_buf_release(&b);
	assert_lb_ok(lb_mkt_ledger_ranking_json(f->l, 0, &j, &em));
	json_t *top = json_object_get(json_object_get(j, "audit"), "top");
	assert_int_equal(json_array_size(top), 2);
	const int who[2] = {K_EXEC, K_OTHER};
	for (int i = 0; i < 2; i++) {
		char ad[LB_ADDR_TEXT_LEN + 1];
		lb_addr_encode(ad, f->a[who[i]]);
		json_t *e = json_array_get(top, (size_t)i);
		assert_string_equal(json_string_value(json_object_get(e, "node")), ad);
		assert_int_equal(json_integer_value(json_object_get(e, "score")),
				 (2 - i) * (1000000 + 8700 * 1000));
	}
	json_decref(j);
}

static void test_roles_and_audits(void **state)
{
	(void)state;
	static struct fx F;
	struct fx *f = &F;
	struct lb_buf b, proof;
	uint8_t reg[LB_HASH_LEN], asset[LB_HASH_LEN], content[LB_HASH_LEN], req[LB_HASH_LEN];
	uint8_t *raw;
	size_t rawlen;
	json_t *j;
	struct lb_errmsg em;

	assert_lb_ok(lb_crypto_init());
	assert_lb_ok(lb_ledger_register_core_types());
	assert_lb_ok(lb_exchange_register_txtypes());
	assert_lb_ok(lb_consortium_register_txtypes());
	assert_lb_ok(lb_market_register_txtypes());
	market_mode = true;
	char *gtext = genesis_for(f);
	market_mode = false;
	json_error_t jerr;
	json_t *g = json_loads(gtext, 0, &jerr);
	static const struct {
		int who;
		const char *kinds;
	} mem[] = {{K_PROP, "data"}, {K_AUTHOR, "computing,algorithm"}, {K_EXEC, "audit"},
		   {K_OTHER, "audit"}};
	json_t *ms = json_array();
	for (size_t i = 0; i < sizeof mem / sizeof mem[0]; i++) {
		char ad[LB_ADDR_TEXT_LEN + 1];
		lb_addr_encode(ad, f->a[mem[i].who]);
		json_array_append_new(ms, json_pack("{s:s,s:s,s:s}", "name", mem[i].kinds, "address", ad,
						    "kinds", mem[i].kinds));
	}
	json_object_set_new(g, "members", ms);
	json_object_set_new(g, "audit", json_pack("{s:i}", "interval_blocks", 3));
	/* ranking periods of 40 blocks: the audit records cited below count in period 0 */
	json_object_set_new(json_object_get(g, "market"), "period_blocks", json_integer(40));
	free(gtext);
	gtext = json_dumps(g, JSON_INDENT(1));
	json_decref(g);
	setup(f, gtext);
	free(gtext);
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);

	/* the owner (an account that is no member) registers and offers an asset */
	lb_hash(content, "the data", 8);
	assert_lb_ok(lb_payload_asset_register(&b, content, "{}", 2));
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_DIRECTORY, LB_TX_ASSET_REGISTER, &b, reg, NULL, 0));
	lb_xchg_asset_id(asset, f->a[K_OWNER], 0);
	tick(f, LB_CHAIN_BUSINESS);
	receipt(f, reg, LB_CHAIN_BUSINESS, &raw, &rawlen, &proof);
	struct lb_xchg_offer *of = calloc(1, sizeof *of);
	of->reg_tx = raw;
	of->reg_tx_len = rawlen;
	of->reg_proof = proof.data;
	of->reg_proof_len = proof.len;
	of->min_cohort = 2;
	of->max_output = 1000;
	of->n_allow = 1;
	lb_xchg_builtin_hash(of->allow[0], "stats");
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_offer_encode(&b, of));
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_OFFER, &b, NULL, NULL, 0));
	lb_buf_release(&proof);
	lb_free(raw);
	free(of);

	/* data: the owner's own node must be a data node */
	struct lb_xchg_grant gr = {.kind = 1};
	memcpy(gr.asset, asset, LB_HASH_LEN);
	memcpy(gr.executor, f->a[K_EXEC], LB_ADDR_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_grant_encode(&b, &gr));
	refused(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_GRANT, &b, LB_EUNAUTH,
		"not a data node", NULL, NULL);
	memcpy(gr.executor, f->a[K_PROP], LB_ADDR_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_grant_encode(&b, &gr));
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_GRANT, &b, NULL, NULL, 0));

	/* algorithm: only algorithm nodes publish */
	struct lb_xchg_algo al = {.fee = 0};
	lb_hash(al.hash, "return {}", 9);
	snprintf(al.name, sizeof al.name, "script");
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_algo_encode(&b, &al));
	refused(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_ALGO, &b, LB_EUNAUTH,
		"not an algorithm node", NULL, NULL);
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_ALGO, &b, LB_EUNAUTH,
		"--kinds algorithm", NULL, NULL);
	assert_lb_ok(send(f, K_AUTHOR, LB_CHAIN_BUSINESS, LB_TX_XCHG_ALGO, &b, NULL, NULL, 0));

	/* computing: an off-site run at an audit-only node is refused, at a computing node not */
	gr.kind = 2;
	memcpy(gr.executor, f->a[K_EXEC], LB_ADDR_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_grant_encode(&b, &gr));
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_GRANT, &b, NULL, NULL, 0));
	memcpy(gr.executor, f->a[K_AUTHOR], LB_ADDR_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_grant_encode(&b, &gr));
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_GRANT, &b, NULL, NULL, 0));
	struct lb_xchg_request rq = {.scenario = LB_XCHG_AUTO};
	memcpy(rq.asset, asset, LB_HASH_LEN);
	lb_xchg_builtin_hash(rq.algo, "stats");
	snprintf(rq.purpose, sizeof rq.purpose, "roles");
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_request_encode(&b, &rq));
	assert_lb_ok(send(f, K_USER, LB_CHAIN_BUSINESS, LB_TX_XCHG_REQUEST, &b, req, NULL, 0));
	struct lb_xchg_exec ex = {.scenario = LB_XCHG_OFFSITE, .chosen_by = 2};
	memcpy(ex.request, req, LB_HASH_LEN);
	memcpy(ex.terms.user, f->a[K_USER], LB_ADDR_LEN);
	memcpy(ex.terms.request, req, LB_HASH_LEN);
	memcpy(ex.terms.owner, f->a[K_OWNER], LB_ADDR_LEN);
	memcpy(ex.terms.executor, f->a[K_EXEC], LB_ADDR_LEN);
	ex.terms.compute_fee = 10;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, LB_EUNAUTH,
		"not a computing node", req, NULL);
	assert_lb_ok(lb_xchg_check_json(f->l, req, f->a[K_EXEC], NULL, 0, false, &j, &em) ==
			     LB_EUNAUTH
		     ? LB_OK
		     : LB_EINTERNAL);
	assert_non_null(strstr(em.text, "execute off-site and integrated runs"));
	/* the owner itself (no member, so no data node) may not run it locally either */
	memcpy(ex.terms.executor, f->a[K_OWNER], LB_ADDR_LEN);
	ex.scenario = LB_XCHG_LOCAL;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	refused(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, LB_EUNAUTH, "not a data node",
		req, NULL);
	/* the computing node runs it: recorded off-site, chosen by the executor's right */
	memcpy(ex.terms.executor, f->a[K_AUTHOR], LB_ADDR_LEN);
	ex.scenario = LB_XCHG_OFFSITE;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_exec_encode(&b, &ex));
	assert_lb_ok(send(f, K_AUTHOR, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &b, NULL, NULL, 0));
	assert_lb_ok(lb_xchg_request_json(f->l, req, &j, &em));
	assert_string_equal(json_string_value(json_object_get(j, "scenario")), "off-site");
	assert_string_equal(json_string_value(json_object_get(j, "scenario_reason")), "executor");
	assert_string_equal(json_string_value(json_object_get(j, "chosen_by")), "automatic");
	json_decref(j);

	/* audits: the owner asks an audit node; only that node's score counts */
	struct lb_xchg_audit_req ar = {0};
	memcpy(ar.asset, asset, LB_HASH_LEN);
	memcpy(ar.auditor, f->a[K_AUTHOR], LB_ADDR_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_audit_req_encode(&b, &ar));
	refused(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_AUDIT_REQUEST, &b, LB_EUNAUTH,
		"not an audit node", NULL, NULL);
	memcpy(ar.auditor, f->a[K_OWNER], LB_ADDR_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_audit_req_encode(&b, &ar));
	refused(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_AUDIT_REQUEST, &b, LB_EDENIED,
		"cannot audit its own data", NULL, NULL);
	memcpy(ar.auditor, f->a[K_EXEC], LB_ADDR_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_audit_req_encode(&b, &ar));
	refused(f, K_USER, LB_CHAIN_BUSINESS, LB_TX_AUDIT_REQUEST, &b, LB_EUNAUTH, "wrong owner",
		NULL, NULL);
	uint8_t areq[LB_HASH_LEN], arec[LB_HASH_LEN];
	assert_lb_ok(send(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_AUDIT_REQUEST, &b, areq, NULL, 0));
	assert_lb_ok(lb_xchg_audit_json(f->l, asset, &j, &em));
	assert_string_equal(json_string_value(json_object_get(j, "status")), "none");
	json_decref(j);
	struct lb_xchg_audit_score sc = {.score = 8700};
	memcpy(sc.asset, asset, LB_HASH_LEN);
	memcpy(sc.content, content, LB_HASH_LEN);
	memset(sc.report_hash, 7, LB_HASH_LEN);
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_audit_score_encode(&b, &sc));
	refused(f, K_OWNER, LB_CHAIN_BUSINESS, LB_TX_AUDIT_RECORD, &b, LB_EDENIED, "does not count",
		NULL, NULL);
	refused(f, K_AUTHOR, LB_CHAIN_BUSINESS, LB_TX_AUDIT_RECORD, &b, LB_EUNAUTH,
		"not an audit node", NULL, NULL);
	refused(f, K_OTHER, LB_CHAIN_BUSINESS, LB_TX_AUDIT_RECORD, &b, LB_ENOTFOUND, "was asked",
		NULL, NULL);
	sc.content[0] ^= 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_audit_score_encode(&b, &sc));
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_AUDIT_RECORD, &b, LB_EINVALID,
		"audit the registered data", NULL, NULL);
	sc.content[0] ^= 1;
	lb_buf_reset(&b);
	assert_lb_ok(lb_xchg_audit_score_encode(&b, &sc));
	assert_lb_ok(send(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_AUDIT_RECORD, &b, arec, NULL, 0));
	refused(f, K_EXEC, LB_CHAIN_BUSINESS, LB_TX_AUDIT_RECORD, &b, LB_ENOTFOUND, "was asked",
		NULL, NULL);
	assert_lb_ok(lb_xchg_audit_json(f->l, asset, &j, &em));
	assert_string_equal(json_string_value(json_object_get(j, "status")), "valid");
	assert_int_equal(json_integer_value(json_object_get(j, "score")), 8700);
	char ad[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(ad, f->a[K_EXEC]);
	assert_string_equal(json_string_value(json_object_get(j, "auditor")), ad);
	uint64_t at = (uint64_t)json_integer_value(json_object_get(j, "height"));
	assert_int_equal(json_integer_value(json_object_get(j, "expires_height")), at + 3);
	assert_true(json_integer_value(json_object_get(j, "time_ms")) > 0);
	json_decref(j);
	audit_cited(f, arec, areq);

	/* re-audits: after 3 more business blocks the audit has expired and is due */
	for (int i = 0; i < 4; i++)
		tick(f, LB_CHAIN_BUSINESS);
	assert_lb_ok(lb_xchg_audit_json(f->l, asset, &j, &em));
	assert_string_equal(json_string_value(json_object_get(j, "status")), "expired");
	json_decref(j);
	assert_lb_ok(lb_xchg_audits_json(f->l, &j, &em));
	assert_int_equal(json_array_size(json_object_get(j, "due")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "interval_blocks")), 3);
	json_decref(j);
	/* re-audited by K_OTHER, then by K_EXEC again: in the rankings K_EXEC (two audits) comes
	 * before K_OTHER (one) */
	audit_and_cite(f, K_OTHER, asset, content);
	audit_and_cite(f, K_EXEC, asset, content);
	audits_ranked(f);
	lb_buf_release(&b);
	lb_ledger_close(f->l);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %.63s", f->home);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_patients),
		cmocka_unit_test(test_salt_key),
		cmocka_unit_test(test_ledger_flow),
		cmocka_unit_test(test_ledger_flow_market),
		cmocka_unit_test(test_roles_and_audits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
