/* Unit tests for split tables (include/leben/market.h): the property that the credits add up
 * to the amount for random tables, amounts and parties; exact figures of a worked example;
 * a table that does not add up refused (apply and decode); patients paid per record used;
 * unfilled roles and remainders in the platform pool; the wire form round-trips. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

#include "leben/base.h"
#include "leben/codec.h"
#include "leben/app_referral.h"
#include "leben/market.h"

/* an independent exact share: 128-bit product */
__extension__ typedef unsigned __int128 u128;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void addr(uint8_t a[LB_ADDR_LEN], unsigned v)
{
	memset(a, 0, LB_ADDR_LEN);
	a[0] = (uint8_t)(v >> 8);
	a[1] = (uint8_t)v;
}

static void test_worked_example(void **state)
{
	struct lb_mkt_splits s;
	struct lb_mkt_credits c;
	struct lb_errmsg em;
	uint8_t pats[3][LB_ADDR_LEN], aud[1][LB_ADDR_LEN];
	struct lb_mkt_parties p = {0};
	lb_mkt_splits_default(&s);
	assert_lb_ok(lb_mkt_splits_check(&s, &em));
	p.has_owner = true;
	addr(p.owner, 1);
	addr(pats[0], 10);
	addr(pats[1], 11);
	addr(pats[2], 10); /* patient 10 had two records used */
	p.patients = (const uint8_t(*)[LB_ADDR_LEN])pats;
	p.n_patients = 3;
	p.has_algo_author = true;
	addr(p.algo_author, 2);
	p.has_executor = true;
	addr(p.executor, 3);
	addr(aud[0], 4);
	p.audit = (const uint8_t(*)[LB_ADDR_LEN])aud;
	p.n_audit = 1;
	addr(p.platform, 99);
	/* data run 1,000,001 micro-units: owner 50 %, patients 20 % (3 records), algo 10 %,
	 * executor 10 %, audit 3 %, platform 7 % + remainders */
	assert_lb_ok(lb_mkt_split_apply(&s.use[LB_MKT_USE_DATA_RUN], LB_MKT_USE_DATA_RUN, 1000001,
					&p, &c, &em));
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_COUNT), 1000001);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_OWNER), 500000);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_ALGO), 100000);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_EXECUTOR), 100000);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_AUDIT), 30000);
	/* 200000 / 3 records = 66666 each, 2 left over */
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_PATIENTS), 199998);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_PLATFORM), 70000 + 2 + 1);
	size_t npat = 0;
	for (size_t i = 0; i < c.n; i++)
		if (c.v[i].role == LB_MKT_ROLE_PATIENTS) {
			npat++;
			assert_int_equal(c.v[i].amount, c.v[i].to[1] == 10 ? 133332 : 66666);
		}
	assert_int_equal(npat, 2); /* merged: one credit per patient */
	lb_mkt_credits_release(&c);

	/* contract call with no ancestors: their 15 % goes to the platform pool */
	uint8_t auth[2][LB_ADDR_LEN];
	addr(auth[0], 20);
	addr(auth[1], 21);
	p.authors = (const uint8_t(*)[LB_ADDR_LEN])auth;
	p.n_authors = 2;
	assert_lb_ok(lb_mkt_split_apply(&s.use[LB_MKT_USE_CONTRACT], LB_MKT_USE_CONTRACT, 1000,
					&p, &c, &em));
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_AUTHORS), 600);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_ANCESTORS), 0);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_PLATFORM), 100 + 150);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_COUNT), 1000);
	lb_mkt_credits_release(&c);
}

static void test_bad_table_refused(void **state)
{
	struct lb_mkt_split t = {{500000, 200000, 0, 0, 100000, 100000, 30000, 69999}};
	struct lb_mkt_credits c;
	struct lb_errmsg em;
	struct lb_mkt_parties p = {0};
	assert_int_equal(lb_mkt_split_apply(&t, LB_MKT_USE_DATA_RUN, 1000, &p, &c, &em),
			 LB_EINVALID);
	assert_non_null(strstr(em.text, "adds up to 999999 ppm"));
	assert_non_null(strstr(em.text, "data-run"));
	assert_int_equal(c.n, 0);
	assert_null(c.v);
	t.ppm[7] = 70001;
	assert_int_equal(lb_mkt_split_check(&t, LB_MKT_USE_STUDY, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "remove 1 ppm"));
	/* a share above the whole cannot overflow the sum check */
	struct lb_mkt_split big = {{0xffffffffu, 1, 0, 0, 0, 0, 0, 0}};
	assert_int_equal(lb_mkt_split_check(&big, 0, &em), LB_EINVALID);

	/* decode refuses a table that does not add up, and a short one */
	struct lb_mkt_splits s, d;
	struct lb_buf b;
	lb_mkt_splits_default(&s);
	s.use[LB_MKT_USE_COMPUTE].ppm[LB_MKT_ROLE_EXECUTOR] = 900001;
	lb_buf_init(&b, 4096);
	assert_lb_ok(lb_mkt_splits_encode(&s, &b));
	assert_int_equal(lb_mkt_splits_decode(&d, b.data, b.len, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "compute"));
	assert_int_equal(lb_mkt_splits_decode(&d, b.data, b.len - 1, &em), LB_EMALFORMED);
	lb_buf_release(&b);
	unsigned u;
	assert_int_equal(lb_mkt_use_parse("lunch", &u, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "contract-call"));
	assert_lb_ok(lb_mkt_use_parse("study", &u, &em));
	assert_int_equal(u, LB_MKT_USE_STUDY);
}

/* The diagnosis table (application 1): its name, its default row and a split of a
 * diagnosis's value among the white paper's four parties through lb_ref_diagnosis_parties,
 * worked out here by hand. */
static void test_diagnosis(void **state)
{
	struct lb_mkt_splits s;
	struct lb_mkt_credits c;
	struct lb_mkt_parties p;
	struct lb_errmsg em;
	uint8_t prov[LB_ADDR_LEN], dev[LB_ADDR_LEN], gp[LB_ADDR_LEN];
	unsigned u;
	assert_lb_ok(lb_mkt_use_parse("diagnosis", &u, &em));
	assert_int_equal(u, LB_MKT_USE_DIAGNOSIS);
	assert_int_equal(LB_MKT_USE_DIAGNOSIS, 5); /* a wire value */
	assert_string_equal(lb_mkt_use_name(u), "diagnosis");
	lb_mkt_splits_default(&s);
	assert_lb_ok(lb_mkt_splits_check(&s, &em));
	static const uint32_t want[LB_MKT_ROLE_COUNT] = {200000, 0, 550000, 0, 0, 100000, 0, 150000};
	assert_memory_equal(s.use[LB_MKT_USE_DIAGNOSIS].ppm, want, sizeof want);
	addr(prov, 31);
	addr(dev, 32);
	addr(gp, 33);
	lb_ref_diagnosis_parties(&p, prov, dev, gp);
	addr(p.platform, 99);
	/* 20,000,003 micro-ASC: 4,000,000 provider, 11,000,001 developer, 2,000,000 GP, and the
	 * platform 3,000,000 + the 2 units the floors left */
	assert_lb_ok(lb_mkt_split_apply(&s.use[u], u, 20000003, &p, &c, &em));
	assert_int_equal(c.n, 4);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_OWNER), 4000000);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_AUTHORS), 11000001);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_EXECUTOR), 2000000);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_PLATFORM), 3000002);
	for (size_t i = 0; i < c.n; i++)
		assert_memory_equal(c.v[i].to,
				    c.v[i].role == LB_MKT_ROLE_OWNER     ? prov
				    : c.v[i].role == LB_MKT_ROLE_AUTHORS ? dev
				    : c.v[i].role == LB_MKT_ROLE_EXECUTOR ? gp
									   : p.platform,
				    LB_ADDR_LEN);
	lb_mkt_credits_release(&c);
	/* a governed change of the table (as genesis or a split vote gives it) is what applies */
	json_t *j = json_pack("{s:{s:i,s:i,s:i,s:i}}", "diagnosis", "owner", 300000, "authors",
			      400000, "executor", 200000, "platform", 100000);
	struct lb_mkt_splits v;
	assert_lb_ok(lb_mkt_splits_from_json(j, &s, &v, &em));
	json_decref(j);
	assert_lb_ok(lb_mkt_split_apply(&v.use[u], u, 1000, &p, &c, &em));
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_OWNER), 300);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_AUTHORS), 400);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_EXECUTOR), 200);
	assert_int_equal(lb_mkt_credits_sum(&c, LB_MKT_ROLE_PLATFORM), 100);
	lb_mkt_credits_release(&c);
	assert_memory_equal(v.use[LB_MKT_USE_CONTRACT].ppm, s.use[LB_MKT_USE_CONTRACT].ppm,
			    sizeof s.use[0].ppm);
}

static void test_roundtrip(void **state)
{
	struct lb_mkt_splits s, d;
	struct lb_buf b;
	struct lb_errmsg em;
	lb_mkt_splits_default(&s);
	lb_buf_init(&b, 4096);
	assert_lb_ok(lb_mkt_splits_encode(&s, &b));
	assert_lb_ok(lb_mkt_splits_decode(&d, b.data, b.len, &em));
	assert_memory_equal(&s, &d, sizeof s);
	lb_buf_release(&b);

	/* The five-table form of older chains: its tables as written, the diagnosis table the
	 * default one; four tables are refused. */
	s.use[LB_MKT_USE_STUDY].ppm[LB_MKT_ROLE_OWNER] -= 1000;
	s.use[LB_MKT_USE_STUDY].ppm[LB_MKT_ROLE_PLATFORM] += 1000;
	for (unsigned n = LB_MKT_USE_DIAGNOSIS - 1; n <= LB_MKT_USE_DIAGNOSIS; n++) {
		lb_buf_init(&b, 4096);
		assert_lb_ok(lb_enc_uvar(&b, n));
		for (unsigned u = 0; u < n; u++) {
			assert_lb_ok(lb_enc_uvar(&b, LB_MKT_ROLE_COUNT));
			for (unsigned r = 0; r < LB_MKT_ROLE_COUNT; r++)
				assert_lb_ok(lb_enc_uvar(&b, s.use[u].ppm[r]));
		}
		int rc = lb_mkt_splits_decode(&d, b.data, b.len, &em);
		if (n < LB_MKT_USE_DIAGNOSIS) {
			assert_int_equal(rc, LB_EMALFORMED);
		} else {
			struct lb_mkt_splits def;
			lb_mkt_splits_default(&def);
			assert_lb_ok(rc);
			assert_memory_equal(d.use[LB_MKT_USE_STUDY].ppm, s.use[LB_MKT_USE_STUDY].ppm,
					    sizeof s.use[0].ppm);
			assert_memory_equal(d.use[LB_MKT_USE_DIAGNOSIS].ppm,
					    def.use[LB_MKT_USE_DIAGNOSIS].ppm, sizeof s.use[0].ppm);
		}
		lb_buf_release(&b);
	}
}

/* Property: for random tables, amounts and parties, the credits add up to the amount, every
 * role gets at most its share, a filled single-party role gets exactly its share, and no credit
 * is zero. */
static void test_property_sum(void **state)
{
	static uint8_t pool[64][LB_ADDR_LEN];
	struct lb_errmsg em;
	for (unsigned i = 0; i < 64; i++)
		addr(pool[i], i + 1);
	for (int it = 0; it < 20000; it++) {
		struct lb_mkt_split t = {{0}};
		uint32_t left = LB_MKT_PPM;
		for (unsigned r = 0; r + 1 < LB_MKT_ROLE_COUNT; r++) {
			uint32_t v = (rnd() & 3) ? (uint32_t)(rnd() % (left + 1)) : 0;
			t.ppm[r] = v;
			left -= v;
		}
		t.ppm[LB_MKT_ROLE_COUNT - 1] = left;
		/* shuffle the shares across roles */
		for (unsigned r = LB_MKT_ROLE_COUNT - 1; r > 0; r--) {
			unsigned j = (unsigned)(rnd() % (r + 1));
			uint32_t x = t.ppm[r];
			t.ppm[r] = t.ppm[j];
			t.ppm[j] = x;
		}
		uint64_t amount;
		switch (rnd() % 4) {
		case 0: amount = rnd() % 10; break;
		case 1: amount = rnd() % 1000000; break;
		case 2: amount = rnd() >> (rnd() % 64); break;
		default: amount = UINT64_MAX - rnd() % 1000; break;
		}
		struct lb_mkt_parties p = {0};
		p.has_owner = rnd() & 1;
		memcpy(p.owner, pool[rnd() % 64], LB_ADDR_LEN);
		p.has_algo_author = rnd() & 1;
		memcpy(p.algo_author, pool[rnd() % 64], LB_ADDR_LEN);
		p.has_executor = rnd() & 1;
		memcpy(p.executor, pool[rnd() % 64], LB_ADDR_LEN);
		memcpy(p.platform, pool[rnd() % 64], LB_ADDR_LEN);
		p.patients = (const uint8_t(*)[LB_ADDR_LEN])pool[rnd() % 32];
		p.n_patients = rnd() % 33;
		p.authors = (const uint8_t(*)[LB_ADDR_LEN])pool[rnd() % 60];
		p.n_authors = rnd() % 5;
		p.ancestors = (const uint8_t(*)[LB_ADDR_LEN])pool[rnd() % 60];
		p.n_ancestors = rnd() % 5;
		p.audit = (const uint8_t(*)[LB_ADDR_LEN])pool[rnd() % 60];
		p.n_audit = rnd() % 5;
		struct lb_mkt_credits c;
		assert_lb_ok(lb_mkt_split_apply(&t, (unsigned)(rnd() % LB_MKT_USE_COUNT), amount, &p,
						&c, &em));
		uint64_t sum = 0;
		for (size_t i = 0; i < c.n; i++) {
			assert_true(c.v[i].amount > 0);
			assert_true(sum + c.v[i].amount >= sum); /* no wrap */
			sum += c.v[i].amount;
			if (i)
				assert_true(c.v[i - 1].role < c.v[i].role ||
					    (c.v[i - 1].role == c.v[i].role &&
					     memcmp(c.v[i - 1].to, c.v[i].to, LB_ADDR_LEN) < 0));
		}
		assert_true(sum == amount);
		for (unsigned r = 0; r < LB_MKT_ROLE_PLATFORM; r++) {
			u128 exact = (u128)amount * t.ppm[r] / LB_MKT_PPM;
			uint64_t got = lb_mkt_credits_sum(&c, r);
			assert_true(got <= (uint64_t)exact);
			bool single = r == LB_MKT_ROLE_OWNER || r == LB_MKT_ROLE_ALGO ||
				      r == LB_MKT_ROLE_EXECUTOR;
			bool filled = (r == LB_MKT_ROLE_OWNER && p.has_owner) ||
				      (r == LB_MKT_ROLE_ALGO && p.has_algo_author) ||
				      (r == LB_MKT_ROLE_EXECUTOR && p.has_executor);
			if (single && filled)
				assert_true(got == (uint64_t)exact);
			if (single && !filled)
				assert_true(got == 0);
		}
		lb_mkt_credits_release(&c);
	}
}

/* Metered compute: CPU rounded up to 100 ms units, memory up to MiB, at the unit prices. */
static void test_compute_fee(void **state)
{
	struct lb_mkt_config c = {0};
	c.compute_cpu_ms_price = 1000;
	c.compute_mem_mib_price = 100;
	c.compute_step_price = 3;
	assert_int_equal(lb_mkt_compute_fee(&c, 0, 0), 0);
	assert_int_equal(lb_mkt_compute_fee(&c, 1, 1), 1000 + 100);
	assert_int_equal(lb_mkt_compute_fee(&c, 100, 1 << 20), 1000 + 100);
	assert_int_equal(lb_mkt_compute_fee(&c, 101, (1 << 20) + 1), 2000 + 200);
	assert_int_equal(lb_mkt_onchain_fee(&c, 7), 21);
	c.compute_cpu_ms_price = UINT64_MAX;
	assert_true(lb_mkt_compute_fee(&c, 1000, 0) == UINT64_MAX); /* saturates */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_bad_table_refused),
		cmocka_unit_test(test_diagnosis),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_property_sum),
		cmocka_unit_test(test_compute_fee),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
