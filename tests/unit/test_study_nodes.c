/* The owner's side of a study across nodes: pairwise masks (lb_fed_mask) with pair secrets
 * derived here independently from Ed25519 keys (X25519 of the converted keys, hashed with both
 * public keys in order, as lb_ledger_node_agree documents) cancel in the sum of three owners and
 * hide each owner's values; one owner's local step (lb_fed_step) equals sums written out here,
 * and malformed steps are refused with specific errors; the owner's rules: a step asks only
 * what the approved parameters fix (the same columns, bins, range, grid and outcome) within the
 * rounds they take, and a partial whose records or count cells fall below the owner's minimum
 * cohort is kept back. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "leben/algo.h"
#include "leben/base.h"
#include "leben/secagg.h"
#include "leben/study.h"
#include "test.h"

#define NP 3
#define LEN 5

static void pair_secret(const uint8_t sk[64], const uint8_t pk[32], const uint8_t peer[32], uint8_t out[32])
{
	uint8_t xsk[32], xpk[32], dh[32];
	assert_int_equal(crypto_sign_ed25519_sk_to_curve25519(xsk, sk), 0);
	assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(xpk, peer), 0);
	assert_int_equal(crypto_scalarmult(dh, xsk, xpk), 0);
	const uint8_t *a = memcmp(pk, peer, 32) < 0 ? pk : peer, *b = a == pk ? peer : pk;
	crypto_generichash_state h;
	crypto_generichash_init(&h, (const uint8_t *)"LEBEN-node-pair-v1", 18, 32);
	crypto_generichash_update(&h, dh, 32);
	crypto_generichash_update(&h, a, 32);
	crypto_generichash_update(&h, b, 32);
	crypto_generichash_final(&h, out, 32);
}

static void test_masks_cancel(void **state)
{
	(void)state;
	uint8_t pk[NP][32], sk[NP][64], pairs[NP][NP][32], digest[32], digest2[32];
	double v[NP][LEN];
	uint64_t m[NP][LEN], m2[LEN], sum[LEN] = {0};
	struct lb_errmsg em;
	for (int i = 0; i < NP; i++) {
		crypto_sign_keypair(pk[i], sk[i]);
		for (int j = 0; j < LEN; j++)
			v[i][j] = (i + 1) * 1000.25 - j * 17.5;
	}
	for (int i = 0; i < NP; i++)
		for (int k = 0; k < NP; k++)
			if (i != k)
				pair_secret(sk[i], pk[i], pk[k], pairs[i][k]);
	assert_memory_equal(pairs[0][1], pairs[1][0], 32); /* both sides derive the same secret */
	randombytes_buf(digest, sizeof digest);
	for (int i = 0; i < NP; i++) {
		assert_lb_ok(lb_fed_mask(v[i], LEN, 24, digest, pk[i], (const uint8_t(*)[32])pk,
					 (const uint8_t(*)[32])pairs[i], NP, m[i], &em));
		for (int j = 0; j < LEN; j++) {
			uint64_t plain;
			assert_lb_ok(lb_secagg_fixed_encode(v[i][j], 24, &plain));
			assert_true(m[i][j] != plain); /* one owner's vector alone is masked */
			sum[j] += m[i][j];
		}
	}
	for (int j = 0; j < LEN; j++) {
		double want = v[0][j] + v[1][j] + v[2][j];
		assert_true(fabs(lb_secagg_fixed_decode(sum[j], 24) - want) < 1e-6);
	}
	/* another round (digest) gives other masks for the same values */
	memcpy(digest2, digest, 32);
	digest2[0] ^= 1;
	assert_lb_ok(lb_fed_mask(v[0], LEN, 24, digest2, pk[0], (const uint8_t(*)[32])pk,
				 (const uint8_t(*)[32])pairs[0], NP, m2, &em));
	assert_true(memcmp(m2, m[0], sizeof m2) != 0);
	/* a value that does not fit the fixed-point encoding */
	double huge[1] = {1e30};
	assert_int_equal(lb_fed_mask(huge, 1, 24, digest, pk[0], (const uint8_t(*)[32])pk,
				     (const uint8_t(*)[32])pairs[0], NP, m2, &em), LB_ERANGE);
}

static const char csv[] = "a,b,y,t,e\n1,2,0,3,1\n2,4,1,5,0\n4,,1,7,1\n";

static json_t *step(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	assert_non_null(j);
	return j;
}

static void test_step(void **state)
{
	(void)state;
	struct lb_table t;
	struct lb_errmsg em;
	double *out = NULL;
	size_t len = 0;
	assert_lb_ok(lb_table_parse_csv(csv, sizeof csv - 1, 0, &t, &em));
	/* moments1 per column: n, sum; then the row total */
	json_t *s = step("{\"phase\":\"moments1\",\"columns\":[\"a\",\"b\"],\"bins\":0}");
	assert_lb_ok(lb_fed_step(&t, s, false, &out, &len, &em));
	assert_int_equal(len, 5);
	double want1[] = {3, 7, 2, 6, 3};
	for (size_t i = 0; i < len; i++)
		assert_true(out[i] == want1[i]);
	lb_free(out);
	json_decref(s);
	/* moments2: squared deviations from the given means */
	s = step("{\"phase\":\"moments2\",\"columns\":[\"a\",\"b\"],\"bins\":0,\"mean\":[2,3]}");
	assert_lb_ok(lb_fed_step(&t, s, false, &out, &len, &em));
	assert_int_equal(len, 2);
	assert_true(out[0] == 1 + 0 + 4 && out[1] == 1 + 1);
	lb_free(out);
	json_decref(s);
	/* km on grid [4, 7]: N, events at each grid time, censorings at each */
	s = step("{\"phase\":\"km\",\"time\":\"t\",\"event\":\"e\",\"grid\":[4,7]}");
	assert_lb_ok(lb_fed_step(&t, s, false, &out, &len, &em));
	assert_int_equal(len, 5);
	double want3[] = {3, 1, 1, 0, 1};
	for (size_t i = 0; i < len; i++)
		assert_true(out[i] == want3[i]);
	lb_free(out);
	json_decref(s);
	/* refusals */
	static const char *const bad[] = {
		"{}",
		"{\"phase\":\"nope\"}",
		"{\"phase\":\"moments1\",\"columns\":[\"zz\"]}",
		"{\"phase\":\"moments2\",\"columns\":[\"a\"],\"mean\":[1,2]}",
		"{\"phase\":\"logreg\",\"x\":[\"a\"],\"y\":\"y\",\"mean\":[0,0],\"scale\":[1,1]}",
		"{\"phase\":\"km\",\"time\":\"t\",\"event\":\"e\",\"grid\":[5,4]}",
		"{\"phase\":\"moments1\",\"columns\":[\"a\"],\"bins\":2,\"range\":[3,1]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		s = step(bad[i]);
		out = NULL;
		assert_int_equal(lb_fed_step(&t, s, false, &out, &len, &em), LB_EINVALID);
		assert_null(out);
		json_decref(s);
	}
	lb_table_release(&t);
}

/* lb_study_step_allowed: the approved parameters fix the columns and everything that decides
 * what is computed; the coordinator's per-round state (means, weights) is free. */
static void test_step_allowed(void **state)
{
	(void)state;
	struct lb_errmsg em;
	unsigned rounds = 0;
	json_t *sp = step("{\"columns\":[\"a\",\"b\"],\"bins\":2,\"range\":[0,10]}");
	json_t *lp = step("{\"x\":[\"a\",\"b\"],\"y\":\"y\",\"standardize\":true,\"max_iter\":7}");
	json_t *kp = step("{\"time\":\"t\",\"event\":\"e\",\"grid\":[4,7]}");
	static const struct {
		const char *algo;
		int which; /* 0 stats params, 1 logreg, 2 km */
		const char *step;
		int rc;
	} cases[] = {
		{"stats", 0, "{\"phase\":\"moments1\",\"columns\":[\"a\",\"b\"],\"bins\":2,\"range\":[0,10]}", LB_OK},
		{"stats", 0, "{\"phase\":\"moments2\",\"columns\":[\"a\",\"b\"],\"bins\":2,\"range\":[0.0,10.0],"
			     "\"mean\":[1,2]}", LB_OK},
		/* other columns, fewer columns, another order, other bins or range: refused */
		{"stats", 0, "{\"phase\":\"moments1\",\"columns\":[\"a\",\"y\"],\"bins\":2,\"range\":[0,10]}", LB_EINVALID},
		{"stats", 0, "{\"phase\":\"moments1\",\"columns\":[\"a\"],\"bins\":2,\"range\":[0,10]}", LB_EINVALID},
		{"stats", 0, "{\"phase\":\"moments1\",\"columns\":[\"b\",\"a\"],\"bins\":2,\"range\":[0,10]}", LB_EINVALID},
		{"stats", 0, "{\"phase\":\"moments1\",\"columns\":[\"a\",\"b\"],\"bins\":3,\"range\":[0,10]}", LB_EINVALID},
		{"stats", 0, "{\"phase\":\"moments1\",\"columns\":[\"a\",\"b\"],\"bins\":2,\"range\":[0,9]}", LB_EINVALID},
		{"stats", 0, "{\"phase\":\"moments1\",\"columns\":[\"a\",\"b\"],\"bins\":2,\"range\":[0,10],\"y\":\"y\"}",
		 LB_EINVALID},
		{"stats", 0, "{\"phase\":\"logreg\",\"x\":[\"a\",\"b\"],\"y\":\"y\"}", LB_EINVALID},
		{"logreg", 1, "{\"phase\":\"logreg\",\"x\":[\"a\",\"b\"],\"y\":\"y\",\"w\":[1,2,3]}", LB_OK},
		{"logreg", 1, "{\"phase\":\"moments1\",\"columns\":[\"a\",\"b\"],\"y\":\"y\",\"bins\":0}", LB_OK},
		{"logreg", 1, "{\"phase\":\"logreg\",\"x\":[\"a\"],\"y\":\"y\"}", LB_EINVALID},
		{"logreg", 1, "{\"phase\":\"logreg\",\"x\":[\"a\",\"b\"],\"y\":\"b\"}", LB_EINVALID},
		{"logreg", 1, "{\"phase\":\"moments1\",\"columns\":[\"a\",\"b\"],\"bins\":0}", LB_EINVALID},
		{"logreg", 1, "{\"phase\":\"moments1\",\"columns\":[\"a\",\"b\"],\"y\":\"y\",\"bins\":4,"
			      "\"range\":[0,1]}", LB_EINVALID},
		{"km", 2, "{\"phase\":\"km\",\"time\":\"t\",\"event\":\"e\",\"grid\":[4.0,7.0]}", LB_OK},
		{"km", 2, "{\"phase\":\"km\",\"time\":\"t\",\"event\":\"e\",\"grid\":[4,5,7]}", LB_EINVALID},
		{"km", 2, "{\"phase\":\"km\",\"time\":\"a\",\"event\":\"e\",\"grid\":[4,7]}", LB_EINVALID},
		{"km", 2, "{\"phase\":\"moments1\",\"columns\":[\"t\"]}", LB_EINVALID},
		{"linreg", 0, "{\"phase\":\"moments1\"}", LB_EUNSUPPORTED},
	};
	json_t *ps[] = {sp, lp, kp};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *s = step(cases[i].step);
		lb_errclear(&em);
		int rc = lb_study_step_allowed(cases[i].algo, ps[cases[i].which], s, &rounds, &em);
		if (rc != cases[i].rc)
			fail_msg("case %zu: %d, expected %d (%s)", i, rc, cases[i].rc, em.text);
		json_decref(s);
	}
	json_t *s = step("{\"phase\":\"logreg\",\"x\":[\"a\",\"b\"],\"y\":\"y\"}");
	assert_lb_ok(lb_study_step_allowed("logreg", lp, s, &rounds, &em));
	assert_int_equal(rounds, 7 + 1 + 2); /* Newton rounds, the accuracy round, two moments */
	json_decref(s);
	s = step("{\"phase\":\"moments1\",\"columns\":[\"a\",\"b\"],\"bins\":2,\"range\":[0,10]}");
	assert_lb_ok(lb_study_step_allowed("stats", sp, s, &rounds, &em));
	assert_int_equal(rounds, 2);
	/* parameters without columns cover nothing */
	json_t *none = step("{}");
	assert_int_equal(lb_study_step_allowed("stats", none, s, &rounds, &em), LB_EINVALID);
	json_decref(s);
	json_decref(none);
	json_decref(sp);
	json_decref(lp);
	json_decref(kp);
	assert_int_equal(lb_study_threshold(3), 2);
	assert_int_equal(lb_study_threshold(4), 3);
	assert_int_equal(lb_study_threshold(2), 2);
}

/* lb_study_partial_check: records at least the minimum cohort, count cells 0 or at least it. */
static void test_partial_policy(void **state)
{
	(void)state;
	struct lb_errmsg em;
	json_t *m1 = step("{\"phase\":\"moments1\",\"columns\":[\"a\"],\"bins\":2,\"range\":[0,1]}");
	double ok1[] = {12, 5.5, 0, 12, 12}, low_n[] = {9, 5.5, 0, 9, 9}, low_cell[] = {12, 5.5, 3, 9, 12};
	assert_lb_ok(lb_study_partial_check(m1, ok1, 5, 10, &em));
	assert_int_equal(lb_study_partial_check(m1, low_n, 5, 10, &em), LB_EDENIED);
	assert_int_equal(lb_study_partial_check(m1, low_cell, 5, 10, &em), LB_EDENIED);
	assert_non_null(strstr(em.text, "histogram bin 0"));
	assert_int_equal(lb_study_partial_check(m1, ok1, 4, 10, &em), LB_EINVALID);
	json_t *km = step("{\"phase\":\"km\",\"time\":\"t\",\"event\":\"e\",\"grid\":[4,7]}");
	double k_ok[] = {30, 10, 0, 0, 20}, k_low[] = {30, 10, 1, 0, 19};
	assert_lb_ok(lb_study_partial_check(km, k_ok, 5, 10, &em));
	assert_int_equal(lb_study_partial_check(km, k_low, 5, 10, &em), LB_EDENIED);
	assert_non_null(strstr(em.text, "events at grid time 1"));
	json_t *lr = step("{\"phase\":\"logreg\"}");
	double l_ok[] = {1, 2, 3, 0.5, 10, 9}, l_low[] = {1, 2, 3, 0.5, 9, 9};
	assert_lb_ok(lb_study_partial_check(lr, l_ok, 6, 10, &em));
	assert_int_equal(lb_study_partial_check(lr, l_low, 6, 10, &em), LB_EDENIED);
	json_decref(m1);
	json_decref(km);
	json_decref(lr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masks_cancel),
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_step_allowed),
		cmocka_unit_test(test_partial_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
