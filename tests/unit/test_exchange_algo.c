/*
 * Exchange algorithms without the sandbox: the CSV table reader (kinds, missing cells, quoting,
 * refusals that name the line), algorithms on hand-checked data (statistics, cross-tabulation,
 * an exact linear fit, Kaplan–Meier on the textbook 6-MP example), the release policy (each rule
 * withholds with its reason; noise and the privacy budget; hash and sealing), secure
 * aggregation summing what plain summing gives (also with an owner dropping out), and federated
 * statistics equal to the central ones on a split table.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "leben/algo.h"
#include "leben/base.h"
#include "leben/sandbox.h"
#include "test.h"

static json_t *run(const char *algo, const struct lb_table *t, const char *params, unsigned mc)
{
	json_t *p = params ? json_loads(params, 0, NULL) : NULL;
	json_t *res = NULL;
	struct lb_algo_ctx ctx = {.min_cohort = mc};
	struct lb_errmsg em;
	int rc = lb_algo_find(algo)->run(t, p, &ctx, &res, &em);
	json_decref(p);
	if (rc)
		fail_msg("%s: %s", algo, em.text);
	return res;
}

static void parse(const char *csv, struct lb_table *t)
{
	struct lb_errmsg em;
	if (lb_table_parse_csv(csv, strlen(csv), 0, t, &em))
		fail_msg("parse: %s", em.text);
}

static double num(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static void test_table_kinds(void **state)
{
	(void)state;
	struct lb_table t;
	parse("\xEF\xBB\xBFid;name;score\r\n1;\"Smith; J\";3.5\r\n2;\"O\"\"Neil\";NA\r\n\r\n3;Brown;4\r\n", &t);
	assert_int_equal(t.ncols, 3);
	assert_int_equal(t.nrows, 3);
	assert_string_equal(t.cols[0].name, "id");
	assert_int_equal(t.cols[1].kind, LB_COL_CATEGORICAL);
	assert_int_equal(t.cols[1].nlevels, 3);
	assert_string_equal(t.cols[1].levels[0], "Smith; J");
	assert_string_equal(t.cols[1].levels[1], "O\"Neil");
	assert_int_equal(t.cols[2].kind, LB_COL_NUMERIC);
	assert_true(t.cols[2].v[0] == 3.5 && isnan(t.cols[2].v[1]) && t.cols[2].v[2] == 4);
	assert_int_equal(lb_table_find(&t, "score"), 2);
	assert_int_equal(lb_table_find(&t, "nope"), -1);
	lb_table_release(&t);
}

static void test_table_refusals(void **state)
{
	(void)state;
	struct lb_table t;
	struct lb_errmsg em;
	const char *bad[][2] = {
		{"a,b\n1,2\n3,4,5\n", "line 3"},  {"a,b\n1\n", "line 2"},
		{"a,a\n1,2\n", "appears twice"},  {"a,,c\n1,2,3\n", "column 2 has no name"},
		{"a,b\n\"1,2\n", "unterminated"}, {"", "empty"},
		{"a,b\n\"x\"y,2\n", "after a closing quote"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		lb_errclear(&em);
		assert_int_equal(lb_table_parse_csv(bad[i][0], strlen(bad[i][0]), 0, &t, &em), LB_EMALFORMED);
		if (!strstr(em.text, bad[i][1]))
			fail_msg("case %zu: '%s' lacks '%s'", i, em.text, bad[i][1]);
		assert_int_equal(t.ncols, 0);
		assert_null(t.cols);
	}
	const char *big = "a\n1\n2\n3\n";
	assert_int_equal(lb_table_parse_csv(big, strlen(big), 2, &t, &em), LB_ETOOBIG);
}

static void test_stats_crosstab(void **state)
{
	(void)state;
	struct lb_table t;
	char csv[512] = "x,g,h\n";
	for (int i = 1; i <= 12; i++)
		snprintf(csv + strlen(csv), sizeof csv - strlen(csv), "%d,%s,%s\n", i, i % 3 ? "a" : "b",
			 i <= 6 ? "lo" : "hi");
	parse(csv, &t);
	json_t *r = run("stats", &t, "{\"columns\":[\"x\",\"g\"],\"bins\":3,\"range\":[0,12]}", 0);
	json_t *x = json_array_get(json_object_get(r, "columns"), 0);
	assert_int_equal(json_integer_value(json_object_get(x, "n")), 12);
	assert_true(fabs(num(x, "mean") - 6.5) < 1e-15);
	assert_true(fabs(num(x, "sd") - sqrt(13.0)) < 1e-14); /* sample variance of 1..n = n(n+1)/12 */
	/* extremes are single records' values: never released */
	assert_null(json_object_get(x, "min"));
	assert_null(json_object_get(x, "max"));
	json_t *h = json_object_get(json_object_get(x, "histogram"), "counts");
	assert_int_equal(json_integer_value(json_array_get(h, 0)), 3); /* 1 2 3 */
	assert_int_equal(json_integer_value(json_array_get(h, 1)), 4); /* 4..7 */
	assert_int_equal(json_integer_value(json_array_get(h, 2)), 5); /* 8..12, last bin closed */
	json_t *g = json_array_get(json_object_get(r, "columns"), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(g, "counts"), 0)), 8);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(g, "counts"), 1)), 4);
	json_decref(r);
	r = run("crosstab", &t, "{\"rows\":\"g\",\"cols\":\"h\"}", 0);
	/* a: 1 2 4 5 (lo) 7 8 10 11 (hi); b: 3 6 (lo) 9 12 (hi) */
	json_t *m = json_object_get(r, "counts");
	assert_int_equal(json_integer_value(json_array_get(json_array_get(m, 0), 0)), 4);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(m, 0), 1)), 4);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(m, 1), 0)), 2);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(m, 1), 1)), 2);
	assert_true(fabs(num(r, "chi2")) < 1e-12); /* independent by construction */
	json_decref(r);
	/* bad parameters name themselves */
	json_t *res = NULL;
	struct lb_errmsg em;
	json_t *p = json_pack("{ss}", "rows", "nope");
	assert_int_equal(lb_algo_find("crosstab")->run(&t, p, NULL, &res, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "'nope'"));
	json_decref(p);
	p = json_pack("{si}", "colums", 1);
	assert_int_equal(lb_algo_find("stats")->run(&t, p, NULL, &res, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "unknown parameter 'colums'"));
	json_decref(p);
	lb_table_release(&t);
}

static void test_linreg_exact(void **state)
{
	(void)state;
	struct lb_table t;
	char csv[1024] = "a,b,y\n";
	for (int i = 0; i < 20; i++) {
		double a = i * 0.5, b = (i * 7) % 11;
		snprintf(csv + strlen(csv), sizeof csv - strlen(csv), "%g,%g,%g\n", a, b, 2 + 3 * a - b);
	}
	parse(csv, &t);
	json_t *r = run("linreg", &t, "{\"y\":\"y\",\"x\":[\"a\",\"b\"]}", 0);
	json_t *c = json_object_get(r, "coef");
	assert_true(fabs(json_real_value(json_array_get(c, 0)) - 2) < 1e-9);
	assert_true(fabs(json_real_value(json_array_get(c, 1)) - 3) < 1e-9);
	assert_true(fabs(json_real_value(json_array_get(c, 2)) + 1) < 1e-9);
	assert_true(fabs(num(r, "r2") - 1) < 1e-12);
	json_decref(r);
	lb_table_release(&t);
}

/* Freireich et al. 6-MP group (Kleinbaum & Klein, Survival Analysis, table 2.1). */
static void test_km_textbook(void **state)
{
	(void)state;
	static const int tt[] = {6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35};
	static const int ev[] = {1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0};
	char csv[1024] = "t,e\n";
	for (size_t i = 0; i < 21; i++)
		snprintf(csv + strlen(csv), sizeof csv - strlen(csv), "%d,%d\n", tt[i], ev[i]);
	struct lb_table t;
	parse(csv, &t);
	json_t *r = run("km", &t, "{\"time\":\"t\",\"event\":\"e\"}", 0);
	/* event times and S(t) as exact products */
	double s = 1;
	struct {
		int t, r, d;
	} steps[] = {{6, 21, 3}, {7, 17, 1}, {10, 15, 1}, {13, 12, 1}, {16, 11, 1}, {22, 7, 1}, {23, 6, 1}};
	json_t *times = json_object_get(r, "time"), *surv = json_object_get(r, "survival"),
	       *risk = json_object_get(r, "at_risk");
	size_t found = 0;
	for (size_t i = 0; i < json_array_size(times); i++)
		for (size_t k = 0; k < 7; k++)
			if (json_real_value(json_array_get(times, i)) == steps[k].t) {
				s = 1;
				for (size_t j = 0; j <= k; j++)
					s *= 1 - (double)steps[j].d / steps[j].r;
				assert_true(fabs(json_real_value(json_array_get(surv, i)) - s) < 1e-15);
				assert_int_equal(json_integer_value(json_array_get(risk, i)), steps[k].r);
				found++;
			}
	assert_int_equal(found, 7);
	assert_true(fabs(0.4482 - s) < 5e-5); /* the book's rounded S(23) */
	assert_true(num(r, "median") == 23);
	json_decref(r);
	/* with a minimum cohort of 3 times merge into steps of >= 3 events and >= 3 censorings:
	 * 6 (3 events, 1 censored), 7 (1), 9 (1 c), 10 (1, 1 c) give one step at 10 with r = 21,
	 * d = 5, c = 3 and the exact S(10) */
	r = run("km", &t, "{\"time\":\"t\",\"event\":\"e\"}", 3);
	times = json_object_get(r, "time");
	assert_true(json_number_value(json_array_get(times, 0)) == 10);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(r, "at_risk"), 0)), 21);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(r, "events"), 0)), 5);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(r, "censored"), 0)), 3);
	assert_true(fabs(json_real_value(json_array_get(json_object_get(r, "survival"), 0)) -
			 (1 - 3.0 / 21) * (1 - 1.0 / 17) * (1 - 1.0 / 15)) < 1e-15);
	json_decref(r);
	/* with 10: the 9 events never make a step of 10; nothing of the curve is released */
	r = run("km", &t, "{\"time\":\"t\",\"event\":\"e\"}", 10);
	assert_int_equal(json_array_size(json_object_get(r, "time")), 0);
	assert_true(json_is_true(json_object_get(r, "truncated")));
	json_decref(r);
	lb_table_release(&t);
}

/* ---- release policy ---- */

static int apply(const struct lb_policy *p, const char *json, struct lb_dp_budget *b, struct lb_release *rel)
{
	json_t *j = json_loads(json, 0, NULL);
	assert_non_null(j);
	struct lb_errmsg em;
	int rc = lb_policy_apply(p, j, b, "user", "asset", rel, &em);
	json_decref(j);
	return rc;
}

static void expect_withheld(const struct lb_policy *p, const char *json, int code, const char *why)
{
	struct lb_release rel;
	assert_int_equal(apply(p, json, NULL, &rel), code);
	assert_false(rel.released);
	assert_null(rel.text);
	if (!strstr(rel.reason, why))
		fail_msg("reason '%s' lacks '%s'", rel.reason, why);
	lb_release_release(&rel);
}

static void test_policy_rules(void **state)
{
	(void)state;
	struct lb_policy p;
	lb_policy_default(&p);
	expect_withheld(&p, "{\"mean\":3}", LB_EDENIED, "no cohort size");
	expect_withheld(&p, "{\"n\":5}", LB_EDENIED, "n is below the minimum cohort 10");
	expect_withheld(&p, "{\"n\":50,\"counts\":[[20,0],[27,3]]}", LB_EDENIED, "counts[1][1] is below");
	expect_withheld(&p, "{\"n\":50,\"g\":[{\"n\":40},{\"n\":9}]}", LB_EDENIED, "g[1].n is below");
	expect_withheld(&p, "{\"n\":50,\"at_risk\":[50,20,4]}", LB_EDENIED, "at_risk[2] is below");
	expect_withheld(&p, "{\"n\":50,\"row_counts\":[45,5]}", LB_EDENIED, "row_counts[1] is below");
	p.max_array = 3;
	expect_withheld(&p, "{\"n\":50,\"values\":[1,2,3,4]}", LB_EDENIED, "row-level");
	lb_policy_default(&p);
	p.max_output = 20;
	expect_withheld(&p, "{\"n\":50,\"text\":\"abcdefghijklmnopqrstuvwxyz\"}", LB_ETOOBIG, "maximum output of 20");
	lb_policy_default(&p);
	struct lb_release rel;
	assert_lb_ok(apply(&p, "{\"n\":50,\"counts\":[[20,0],[30,0]],\"c\":[{\"min\":1,\"max\":9,\"mean\":5}]}", NULL, &rel));
	assert_true(rel.released);
	assert_int_equal(rel.removed, 2);
	assert_string_equal(rel.text, "{\"c\":[{\"mean\":5}],\"counts\":[[20,0],[30,0]],\"n\":50}");
	uint8_t h[32];
	crypto_generichash(h, 32, (const uint8_t *)rel.text, rel.len, NULL, 0);
	assert_memory_equal(h, rel.hash, 32);
	/* sealed to the user: opens to the same text */
	uint8_t pk[32], sk[32], *env, *back;
	size_t envlen, backlen;
	struct lb_errmsg em;
	lb_envelope_keypair(pk, sk);
	assert_lb_ok(lb_release_seal(&rel, pk, &env, &envlen, &em));
	assert_lb_ok(lb_envelope_open(sk, pk, env, envlen, 1 << 20, &back, &backlen, &em));
	assert_int_equal(backlen, 1024); /* padded to its size bucket */
	lb_release_unpad(back, &backlen);
	assert_int_equal(backlen, rel.len);
	assert_memory_equal(back, rel.text, rel.len);
	lb_free(env);
	lb_free(back);
	lb_release_release(&rel);
	struct lb_release w;
	apply(&p, "{\"n\":2}", NULL, &w);
	assert_int_equal(lb_release_seal(&w, pk, &env, &envlen, &em), LB_EDENIED);
	lb_release_release(&w);
}

static void test_policy_noise_budget(void **state)
{
	(void)state;
	struct lb_policy p;
	lb_policy_default(&p);
	p.epsilon = 0.4;
	p.budget = 1.0;
	struct lb_release rel;
	assert_int_equal(apply(&p, "{\"n\":500}", NULL, &rel), LB_EDENIED); /* no budget given */
	assert_non_null(strstr(rel.reason, "no privacy budget"));
	struct lb_dp_budget *b;
	struct lb_errmsg em;
	assert_lb_ok(lb_dp_budget_open(NULL, &b, &em));
	for (int i = 0; i < 2; i++) {
		assert_lb_ok(apply(&p, "{\"n\":500,\"counts\":[200,300],\"chi2\":1.5}", b, &rel));
		json_t *j = json_loads(rel.text, 0, NULL);
		assert_true(json_is_integer(json_object_get(j, "n")));
		assert_true(json_integer_value(json_array_get(json_object_get(j, "counts"), 0)) >= 0);
		assert_true(num(j, "chi2") == 1.5); /* other statistics are not noised (sums and
						     * means: test_exchange_noise.c) */
		assert_true(rel.epsilon_spent == 0.4);
		json_decref(j);
		lb_release_release(&rel);
	}
	double spent;
	assert_lb_ok(lb_dp_budget_spent(b, "user", "asset", &spent, &em));
	assert_true(fabs(spent - 0.8) < 1e-12);
	assert_int_equal(apply(&p, "{\"n\":500}", b, &rel), LB_EDENIED);
	assert_non_null(strstr(rel.reason, "exhausted"));
	assert_lb_ok(lb_dp_budget_spent(b, "user", "asset", &spent, &em));
	assert_true(fabs(spent - 0.8) < 1e-12); /* a refused release spends nothing */
	assert_lb_ok(lb_dp_budget_spent(b, "other", "asset", &spent, &em));
	assert_true(spent == 0);
	lb_dp_budget_close(b);
	/* the noise is Laplace with scale k/epsilon: over many draws of one count (k = 1) the mean
	 * absolute deviation is close to the scale */
	p.epsilon = 1.0;
	p.budget = 1e9;
	p.min_cohort = 0;
	assert_lb_ok(lb_dp_budget_open(NULL, &b, &em));
	double mad = 0;
	for (int i = 0; i < 2000; i++) {
		assert_lb_ok(apply(&p, "{\"n\":1000}", b, &rel));
		json_t *j = json_loads(rel.text, 0, NULL);
		mad += fabs((double)json_integer_value(json_object_get(j, "n")) - 1000);
		json_decref(j);
		lb_release_release(&rel);
	}
	mad /= 2000;
	assert_true(mad > 0.7 && mad < 1.3); /* E|X| = 1 for Laplace(1), before rounding */
	lb_dp_budget_close(b);
}

static void test_policy_parse(void **state)
{
	(void)state;
	struct lb_policy p;
	struct lb_errmsg em;
	lb_policy_default(&p);
	const char *ok = "{\"min_cohort\":5,\"epsilon\":0.5,\"budget\":2,\"max_output\":100,"
			 "\"aggregates_only\":false,\"max_array\":7,\"release_extremes\":true}";
	assert_lb_ok(lb_policy_parse(ok, strlen(ok), &p, &em));
	assert_true(p.min_cohort == 5 && p.epsilon == 0.5 && p.budget == 2 && p.max_output == 100 &&
		    !p.aggregates_only && p.max_array == 7 && p.release_extremes);
	struct lb_policy before = p;
	const char *bad[][2] = {{"{\"min_cohrt\":5}", "unknown key 'min_cohrt'"},
				{"{\"min_cohort\":\"5\"}", "'min_cohort' must be a whole number"},
				{"{\"epsilon\":-1}", "'epsilon' must be a number"},
				{"{\"aggregates_only\":1}", "'aggregates_only' must be true or false"},
				{"[1]", "must be a JSON object"},
				{"{\"min_cohort\":5,\"min_cohort\":6}", "policy: line 1"}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_not_equal(lb_policy_parse(bad[i][0], strlen(bad[i][0]), &p, &em), LB_OK);
		if (!strstr(em.text, bad[i][1]))
			fail_msg("'%s' lacks '%s'", em.text, bad[i][1]);
		assert_memory_equal(&p, &before, sizeof p);
	}
}

/* ---- decomposition ---- */

static void test_fed_sum(void **state)
{
	(void)state;
	enum { N = 3, LEN = 500 };
	double v[N][LEN], plain[LEN], sec[LEN];
	const double *parts[N] = {v[0], v[1], v[2]};
	for (int i = 0; i < N; i++)
		for (int j = 0; j < LEN; j++)
			v[i][j] = ((double)randombytes_uniform(2000000) - 1e6) / 997.0;
	struct lb_fed_options po = {.secure = false}, so = {.secure = true};
	struct lb_fed_stats st = {0};
	struct lb_errmsg em;
	assert_lb_ok(lb_fed_sum(parts, N, LEN, &po, plain, NULL, &em));
	assert_lb_ok(lb_fed_sum(parts, N, LEN, &so, sec, &st, &em));
	for (int j = 0; j < LEN; j++)
		assert_true(fabs(plain[j] - sec[j]) < 3 * ldexp(1, -24));
	assert_int_equal(st.rounds, 1);
	assert_int_equal(st.values_summed, LEN);
	/* owner 2 drops out after sharing: the sum is over owners 1 and 3 */
	uint8_t drop[N] = {0, 1, 0};
	so.dropped = drop;
	assert_lb_ok(lb_fed_sum(parts, N, LEN, &so, sec, NULL, &em));
	for (int j = 0; j < LEN; j++)
		assert_true(fabs(v[0][j] + v[2][j] - sec[j]) < 3 * ldexp(1, -24));
	uint8_t drop2[N] = {1, 1, 0};
	so.dropped = drop2;
	assert_int_equal(lb_fed_sum(parts, N, LEN, &so, sec, NULL, &em), LB_EUNAVAILABLE);
	so.dropped = NULL;
	double huge[1] = {1e300};
	const double *hp[2] = {huge, huge};
	assert_int_equal(lb_fed_sum(hp, 2, 1, &so, sec, NULL, &em), LB_ERANGE);
	assert_int_equal(lb_fed_sum(parts, 1, LEN, &so, sec, NULL, &em), LB_EINVALID);
}

static void test_fed_stats_equal_central(void **state)
{
	(void)state;
	char all[4096] = "x,y\n", part[3][2048] = {"x,y\n", "x,y\n", "x,y\n"};
	for (int i = 0; i < 90; i++) {
		char row[64];
		snprintf(row, sizeof row, "%d.%d,%d\n", (i * 37) % 101, i % 10, (i * 13) % 7);
		strcat(all, row);
		strcat(part[i % 3], row);
	}
	struct lb_table ta, tp[3];
	parse(all, &ta);
	struct lb_fed_owner ow[3];
	for (int k = 0; k < 3; k++) {
		parse(part[k], &tp[k]);
		ow[k].name = "owner";
		ow[k].table = &tp[k];
	}
	json_t *c = run("stats", &ta, "{\"bins\":4,\"range\":[0,101]}", 0);
	json_t *p = json_loads("{\"bins\":4,\"range\":[0,101]}", 0, NULL), *f = NULL;
	struct lb_fed_options so = {.secure = true};
	struct lb_errmsg em;
	assert_lb_ok(lb_fed_run("stats", ow, 3, p, NULL, &so, &f, NULL, &em));
	for (size_t j = 0; j < 2; j++) {
		json_t *a = json_array_get(json_object_get(c, "columns"), j), *b = json_array_get(json_object_get(f, "columns"), j);
		assert_int_equal(json_integer_value(json_object_get(a, "n")), json_integer_value(json_object_get(b, "n")));
		assert_true(fabs(num(a, "mean") - num(b, "mean")) < 1e-6);
		assert_true(fabs(num(a, "sd") - num(b, "sd")) < 1e-6);
		assert_true(json_equal(json_object_get(json_object_get(a, "histogram"), "counts"),
				       json_object_get(json_object_get(b, "histogram"), "counts")));
	}
	assert_int_equal(json_integer_value(json_object_get(f, "owners")), 3);
	/* the owners' local steps in sandboxes give the same partials (plain sums: bit for bit) */
	struct lb_fed_options po = {.secure = false}, pso = {.secure = false, .sandboxed = true};
	json_t *f1 = NULL, *f2 = NULL;
	assert_lb_ok(lb_fed_run("stats", ow, 3, p, NULL, &po, &f1, NULL, &em));
	assert_lb_ok(lb_fed_run("stats", ow, 3, p, NULL, &pso, &f2, NULL, &em));
	assert_true(json_equal(json_object_get(f1, "columns"), json_object_get(f2, "columns")));
	assert_true(json_is_true(json_object_get(f2, "sandboxed")));
	json_decref(f1);
	json_decref(f2);
	json_decref(c);
	json_decref(f);
	/* histograms without an agreed range are refused (min/max would leak) */
	json_t *q = json_loads("{\"bins\":4}", 0, NULL);
	assert_int_equal(lb_fed_run("stats", ow, 3, q, NULL, &so, &f, NULL, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "range"));
	assert_int_equal(lb_fed_run("kmeans", ow, 3, NULL, NULL, &so, &f, NULL, &em), LB_EUNSUPPORTED);
	json_decref(q);
	json_decref(p);
	lb_table_release(&ta);
	for (int k = 0; k < 3; k++)
		lb_table_release(&tp[k]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_kinds),         cmocka_unit_test(test_table_refusals),
		cmocka_unit_test(test_stats_crosstab),      cmocka_unit_test(test_linreg_exact),
		cmocka_unit_test(test_km_textbook),         cmocka_unit_test(test_policy_rules),
		cmocka_unit_test(test_policy_noise_budget), cmocka_unit_test(test_policy_parse),
		cmocka_unit_test(test_fed_sum),             cmocka_unit_test(test_fed_stats_equal_central),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
