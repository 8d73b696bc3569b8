/* Calibrated noise of the release policy beyond counts: sums and means of variables with
 * clamping bounds. With a fixed noise seed, 3000 releases give deviations whose empirical
 * distribution matches Laplace(k * sensitivity / epsilon) by a Kolmogorov-Smirnov test at
 * the 1% level and whose mean absolute deviation is within 8% of the scale (k values share
 * epsilon; sum sensitivity max(|lo|, |hi|), mean (hi - lo) / n, counts 1); a mean outside its
 * bounds is clamped; "sd" is removed under noise; a sum or mean without bounds is withheld and
 * spends nothing; the budget is charged once per release and refuses the release that would
 * overspend it, per (user, asset); bounds are parsed strictly and survive lb_policy_json. */
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/sandbox.h"

static int apply_as(const struct lb_policy *p, const char *json, struct lb_dp_budget *b,
		    const char *asset, struct lb_release *rel)
{
	json_t *j = json_loads(json, 0, NULL);
	assert_non_null(j);
	struct lb_errmsg em;
	int rc = lb_policy_apply(p, j, b, "user", asset, rel, &em);
	json_decref(j);
	return rc;
}

static void policy(struct lb_policy *p, const char *json)
{
	struct lb_errmsg em;
	lb_policy_default(p);
	if (lb_policy_parse(json, strlen(json), p, &em))
		fail_msg("%s: %s", json, em.text);
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double laplace_cdf(double x, double b)
{
	return x < 0 ? 0.5 * exp(x / b) : 1 - 0.5 * exp(-x / b);
}

/* KS statistic of samples against Laplace(0, b). */
static double ks(double *d, size_t n, double b)
{
	qsort(d, n, sizeof *d, cmpd);
	double D = 0;
	for (size_t i = 0; i < n; i++) {
		double f = laplace_cdf(d[i], b);
		double lo = fabs(f - (double)i / (double)n), hi = fabs((double)(i + 1) / (double)n - f);
		D = fmax(D, fmax(lo, hi));
	}
	return D;
}

static double mad(const double *d, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += fabs(d[i]);
	return s / (double)n;
}

static void test_spread(void **state)
{
	(void)state;
	enum { N = 3000 };
	static const uint8_t seed[32] = {7, 1, 2, 3};
	lb_policy_noise_seed(seed);
	struct lb_policy p;
	policy(&p, "{\"epsilon\":1,\"min_cohort\":0,\"bounds\":{\"weight\":[0,100]}}");
	p.budget = 1e9;
	struct lb_dp_budget *b;
	struct lb_errmsg em;
	assert_lb_ok(lb_dp_budget_open(NULL, &b, &em));
	static double ds[N], dm[N], dn[N];
	const char *res = "{\"n\":1000,\"weight\":{\"n\":1000,\"sum\":5000,\"mean\":5}}";
	for (int i = 0; i < N; i++) {
		struct lb_release rel;
		assert_lb_ok(apply_as(&p, res, b, "a", &rel));
		json_t *j = json_loads(rel.text, 0, NULL), *w = json_object_get(j, "weight");
		ds[i] = json_number_value(json_object_get(w, "sum")) - 5000;
		dm[i] = json_number_value(json_object_get(w, "mean")) - 5;
		dn[i] = (double)json_integer_value(json_object_get(j, "n")) - 1000;
		assert_true(rel.epsilon_spent == 1);
		json_decref(j);
		lb_release_release(&rel);
	}
	/* k = 4 noised values (two counts, a sum, a mean) share epsilon = 1 */
	double bs = 4 * 100.0, bm = 4 * 100.0 / 1000, bn = 4;
	double crit = 1.63 / sqrt((double)N); /* KS, 1% level */
	double Ds = ks(ds, N, bs), Dm = ks(dm, N, bm);
	print_message("sum: KS D = %.4f (crit %.4f), MAD %.2f (scale %.2f)\n", Ds, crit,
		      mad(ds, N), bs);
	print_message("mean: KS D = %.4f, MAD %.4f (scale %.4f)\n", Dm, mad(dm, N), bm);
	assert_true(Ds < crit);
	assert_true(Dm < crit);
	assert_true(fabs(mad(ds, N) / bs - 1) < 0.08);
	assert_true(fabs(mad(dm, N) / bm - 1) < 0.08);
	assert_true(fabs(mad(dn, N) / bn - 1) < 0.08); /* counts: rounded, same scale */
	/* the same seed gives the same release, twice */
	lb_policy_noise_seed(seed);
	struct lb_release rel;
	assert_lb_ok(apply_as(&p, res, b, "a", &rel));
	json_t *j = json_loads(rel.text, 0, NULL);
	double again = json_number_value(json_object_get(json_object_get(j, "weight"), "sum"));
	json_decref(j);
	lb_release_release(&rel);
	lb_policy_noise_seed(seed);
	assert_lb_ok(apply_as(&p, res, b, "a", &rel));
	j = json_loads(rel.text, 0, NULL);
	assert_true(json_number_value(json_object_get(json_object_get(j, "weight"), "sum")) ==
		    again);
	json_decref(j);
	lb_release_release(&rel);
	lb_policy_noise_seed(NULL);
	lb_dp_budget_close(b);
}

static void test_clamp_and_shape(void **state)
{
	(void)state;
	struct lb_policy p;
	policy(&p, "{\"epsilon\":0.5,\"budget\":1000,\"min_cohort\":10,"
		   "\"bounds\":{\"x\":[0,10],\"age\":[0,120]}}");
	struct lb_dp_budget *b;
	struct lb_errmsg em;
	assert_lb_ok(lb_dp_budget_open(NULL, &b, &em));
	for (int i = 0; i < 50; i++) {
		struct lb_release rel;
		assert_lb_ok(apply_as(&p, "{\"n\":50,\"x\":{\"n\":50,\"mean\":500}}", b, "a", &rel));
		json_t *j = json_loads(rel.text, 0, NULL);
		double m = json_number_value(json_object_get(json_object_get(j, "x"), "mean"));
		assert_true(m >= 0 && m <= 10);
		json_decref(j);
		lb_release_release(&rel);
	}
	/* a descriptive-statistics result: the column's mean is noised under its "name", its sd
	 * and extremes are removed, the rest kept */
	struct lb_release rel;
	assert_lb_ok(apply_as(&p,
			      "{\"n\":100,\"columns\":[{\"name\":\"age\",\"type\":\"numeric\","
			      "\"n\":100,\"mean\":50.25,\"sd\":10,\"min\":18,\"max\":90}]}",
			      b, "a", &rel));
	json_t *j = json_loads(rel.text, 0, NULL), *c = json_array_get(json_object_get(j, "columns"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "age");
	assert_null(json_object_get(c, "sd"));
	assert_null(json_object_get(c, "min"));
	assert_true(json_is_number(json_object_get(c, "mean")));
	assert_true(json_number_value(json_object_get(c, "mean")) != 50.25);
	assert_int_equal(rel.removed, 3);
	json_decref(j);
	lb_release_release(&rel);
	/* without noise the same result keeps sd and an unbounded mean */
	struct lb_policy q;
	policy(&q, "{\"min_cohort\":10}");
	assert_lb_ok(apply_as(&q, "{\"n\":100,\"y\":{\"n\":100,\"mean\":3.5,\"sd\":1}}", NULL, "a",
			      &rel));
	j = json_loads(rel.text, 0, NULL);
	assert_true(json_number_value(json_object_get(json_object_get(j, "y"), "mean")) == 3.5);
	assert_true(json_number_value(json_object_get(json_object_get(j, "y"), "sd")) == 1);
	json_decref(j);
	lb_release_release(&rel);
	lb_dp_budget_close(b);
}

static void test_budget(void **state)
{
	(void)state;
	struct lb_policy p;
	policy(&p, "{\"epsilon\":0.3,\"budget\":1,\"min_cohort\":0,\"bounds\":{\"x\":[-5,5]}}");
	struct lb_dp_budget *b;
	struct lb_errmsg em;
	double spent;
	assert_lb_ok(lb_dp_budget_open(NULL, &b, &em));
	const char *ok = "{\"n\":40,\"x\":{\"n\":40,\"sum\":12,\"mean\":0.3}}";
	/* unbounded mean: withheld, nothing spent */
	struct lb_release rel;
	assert_int_equal(apply_as(&p, "{\"n\":40,\"z\":{\"n\":40,\"mean\":1}}", b, "a", &rel),
			 LB_EDENIED);
	assert_non_null(strstr(rel.reason, "z.mean has no clamping bounds"));
	assert_non_null(strstr(rel.reason, "\"z\": [low, high]"));
	assert_null(rel.text);
	assert_lb_ok(lb_dp_budget_spent(b, "user", "a", &spent, &em));
	assert_true(spent == 0);
	for (int i = 1; i <= 3; i++) {
		assert_lb_ok(apply_as(&p, ok, b, "a", &rel));
		lb_release_release(&rel);
		assert_lb_ok(lb_dp_budget_spent(b, "user", "a", &spent, &em));
		assert_true(fabs(spent - 0.3 * i) < 1e-9); /* once per release, not per value */
	}
	assert_int_equal(apply_as(&p, ok, b, "a", &rel), LB_EDENIED);
	assert_non_null(strstr(rel.reason, "exhausted"));
	assert_lb_ok(lb_dp_budget_spent(b, "user", "a", &spent, &em));
	assert_true(fabs(spent - 0.9) < 1e-9);
	assert_lb_ok(apply_as(&p, ok, b, "other-asset", &rel)); /* per asset */
	lb_release_release(&rel);
	lb_dp_budget_close(b);
}

static void test_parse(void **state)
{
	(void)state;
	struct lb_policy p;
	struct lb_errmsg em;
	policy(&p, "{\"epsilon\":0.5,\"bounds\":{\"age\":[0,120],\"bmi\":[10.5,60]}}");
	assert_int_equal(p.nbounds, 2);
	json_t *j = lb_policy_json(&p);
	char *s = json_dumps(j, 0);
	struct lb_policy q;
	lb_policy_default(&q);
	assert_lb_ok(lb_policy_parse(s, strlen(s), &q, &em));
	assert_int_equal(q.nbounds, 2);
	for (size_t i = 0; i < 2; i++) {
		size_t k = strcmp(q.bounds[i].name, p.bounds[0].name) ? 1 : 0;
		assert_string_equal(q.bounds[i].name, p.bounds[k].name);
		assert_true(q.bounds[i].lo == p.bounds[k].lo && q.bounds[i].hi == p.bounds[k].hi);
	}
	free(s);
	json_decref(j);
	static const char *const bad[] = {
		"{\"bounds\":[0,1]}",          "{\"bounds\":{\"x\":[1]}}",
		"{\"bounds\":{\"x\":[2,1]}}",  "{\"bounds\":{\"x\":[0,\"a\"]}}",
		"{\"bounds\":{\"x\":\"0-1\"}}", "{\"bounds\":{\"\":[0,1]}}",
		"{\"bounds\":{\"x\":[0,1e300]}}",
	};
	struct lb_policy before = p;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(lb_policy_parse(bad[i], strlen(bad[i]), &p, &em), LB_EINVALID);
		assert_non_null(strstr(em.text, "bound"));
		assert_memory_equal(&p, &before, sizeof p);
	}
	char many[4096] = "{\"bounds\":{";
	for (int i = 0; i < LB_POLICY_BOUNDS_MAX + 1; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "%s\"v%d\":[0,1]",
			 i ? "," : "", i);
	strcat(many, "}}");
	assert_int_equal(lb_policy_parse(many, strlen(many), &p, &em), LB_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_clamp_and_shape),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
