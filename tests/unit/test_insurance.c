/* The insurance payloads (include/leben/insurance.h): every type round-trips; a payload with
 * another version, trailing bytes, a co-payment over 100 %, no covered pair, a code with a
 * character outside the set, zero limits or a fingerprint of the wrong size is refused naming
 * the field; the pool account differs per policy; the premium formula. */
#include "test.h"

#include <math.h>
#include <stdio.h>

#include "leben/base.h"
#include "leben/codec.h"
#include "leben/data_dedup.h"
#include "leben/error.h"
#include "leben/insurance.h"

static struct lb_ins_tx *policy(void)
{
	static struct lb_ins_tx p;
	memset(&p, 0, sizeof p);
	p.type = LB_TX_INS_POLICY;
	snprintf(p.name, sizeof p.name, "Cardiac cover");
	p.npairs = 2;
	snprintf(p.diag[0], sizeof p.diag[0], "I21.4");
	snprintf(p.proc[0], sizeof p.proc[0], "0270346");
	snprintf(p.diag[1], sizeof p.diag[1], "icd10|I20.0");
	snprintf(p.proc[1], sizeof p.proc[1], "02703ZZ");
	p.limit_claim = 300000000;
	p.limit_period = 500000000;
	p.period_blocks = 100000;
	p.waiting_blocks = 10;
	p.copay_bp = 2000;
	p.premium = 12500000;
	return &p;
}

static void roundtrip(const struct lb_ins_tx *p)
{
	struct lb_buf b, b2;
	struct lb_errmsg em;
	struct lb_ins_tx *q = lb_calloc(1, sizeof *q);
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	lb_buf_init(&b2, LB_TX_PAYLOAD_MAX);
	assert_lb_ok(lb_ins_tx_encode(&b, p, &em));
	assert_lb_ok(lb_ins_tx_decode(p->type, b.data, b.len, q, &em));
	assert_lb_ok(lb_ins_tx_encode(&b2, q, &em));
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);
	lb_buf_release(&b);
	lb_buf_release(&b2);
	lb_free(q);
}

static void test_roundtrip(void **state)
{
	(void)state;
	roundtrip(policy());
	struct lb_ins_tx *pm = policy(); /* priced from an exchange request: version 2 */
	pm->has_model = true;
	memset(pm->model, 0xab, sizeof pm->model);
	roundtrip(pm);
	struct lb_ins_tx p;
	uint8_t fp[LB_TEXT_FP_SIZE] = {1, 2, 3}, raw[40] = {9};
	memset(&p, 0, sizeof p);
	p.type = LB_TX_INS_ENROL;
	p.policy[0] = 7;
	roundtrip(&p);
	p.type = LB_TX_INS_EVENT;
	p.kind = LB_INS_PROCEDURE;
	snprintf(p.code, sizeof p.code, "0270346");
	p.fp = fp;
	p.fp_len = sizeof fp;
	roundtrip(&p);
	p.fp_len = 0;
	roundtrip(&p);
	p.type = LB_TX_INS_CLAIM;
	p.cost = 250000000;
	p.approved = 200000000;
	roundtrip(&p);
	p.type = LB_TX_INS_FUND;
	p.amount = 1;
	roundtrip(&p);
	p.type = LB_TX_INS_SETTLE;
	p.cited = raw;
	p.cited_len = sizeof raw;
	p.proof = raw;
	p.proof_len = 10;
	roundtrip(&p);
}

/* Encode p, then apply edit to the bytes (may be NULL); decode must fail with code and a
 * message containing want. */
static void refused(const struct lb_ins_tx *p, void (*edit)(struct lb_buf *), int code,
		    const char *want)
{
	struct lb_buf b;
	struct lb_errmsg em;
	struct lb_ins_tx *q = lb_calloc(1, sizeof *q);
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	lb_errclear(&em);
	int rc = lb_ins_tx_encode(&b, p, &em);
	if (!rc) {
		if (edit)
			edit(&b);
		lb_errclear(&em);
		rc = lb_ins_tx_decode(p->type, b.data, b.len, q, &em);
	}
	if (rc != code || !strstr(em.text, want))
		fail_msg("want %s '%s', got %s '%s'", lb_strerror(code), want, lb_strerror(rc),
			 em.text);
	lb_buf_release(&b);
	lb_free(q);
}

static void bump_version(struct lb_buf *b)
{
	b->data[0] = 3;
}

static void add_byte(struct lb_buf *b)
{
	lb_enc_u8(b, 0);
}

static void test_refusals(void **state)
{
	(void)state;
	refused(policy(), bump_version, LB_EMALFORMED, "version");
	refused(policy(), add_byte, LB_EMALFORMED, "");
	struct lb_ins_tx *p = policy();
	p->copay_bp = 10001;
	refused(p, NULL, LB_EINVALID, "co-payment");
	p = policy();
	p->npairs = 0;
	refused(p, NULL, LB_EINVALID, "pairs");
	p = policy();
	snprintf(p->proc[1], sizeof p->proc[1], "02 703");
	refused(p, NULL, LB_EINVALID, "covered pair 2");
	p = policy();
	p->limit_period = 0;
	refused(p, NULL, LB_EINVALID, "limits");
	struct lb_ins_tx e;
	uint8_t fp[10] = {0};
	memset(&e, 0, sizeof e);
	e.type = LB_TX_INS_EVENT;
	e.kind = 3;
	snprintf(e.code, sizeof e.code, "I21.4");
	refused(&e, NULL, LB_EINVALID, "condition or procedure");
	e.kind = LB_INS_CONDITION;
	e.fp = fp;
	e.fp_len = sizeof fp;
	refused(&e, NULL, LB_EINVALID, "fingerprint");
	e.type = LB_TX_INS_CLAIM;
	e.cost = 0;
	refused(&e, NULL, LB_EINVALID, "cost");
}

static void test_pool_and_premium(void **state)
{
	(void)state;
	uint8_t a[LB_HASH_LEN] = {1}, b[LB_HASH_LEN] = {2}, pa[LB_ADDR_LEN], pb[LB_ADDR_LEN],
		pa2[LB_ADDR_LEN];
	lb_ins_pool_addr(a, pa);
	lb_ins_pool_addr(b, pb);
	lb_ins_pool_addr(a, pa2);
	assert_memory_equal(pa, pa2, LB_ADDR_LEN);
	assert_memory_not_equal(pa, pb, LB_ADDR_LEN);
	double coef[3] = {-2.0, 0.03, 0.5}, x[3] = {0, 20, 1}, prob;
	double prem = lb_ins_premium(coef, x, 3, 220.0, 0.10, &prob);
	double want = 1.0 / (1.0 + exp(-(-2.0 + 0.6 + 0.5)));
	assert_true(fabs(prob - want) < 1e-12);
	assert_true(fabs(prem - want * 220.0 * 1.1) < 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_pool_and_premium),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
