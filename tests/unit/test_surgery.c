/*
 * Surgical quality control library: the risk-adjusted CUSUM against hand-computed steps, O/E
 * grouping and suppression, funnel limits, the model reader's refusals, and the surgery.alarm
 * payload checks.
 */
#include <math.h>
#include <string.h>

#include "test.h"

#include "leben/base.h"
#include "leben/surgery.h"

static void test_cusum_steps(void **state)
{
	(void)state;
	/* p = 0.1, RA = 2: death adds ln 2 - ln 1.1, survival adds -ln 1.1 */
	double p[] = {0.1, 0.1, 0.1, 0.1, 0.5}, y[] = {1, 1, 0, 1, 1}, path[5];
	size_t al[5], na;
	struct lb_errmsg em;
	lb_errclear(&em);
	assert_lb_ok(lb_surgery_cusum(p, y, 5, 2, 1.0, true, path, al, &na, &em));
	double up = log(2) - log(1.1), down = -log(1.1);
	assert_true(fabs(path[0] - up) < 1e-15);
	/* 2 up = 1.0986 >= 1: alarm at case 2, restart */
	assert_true(fabs(path[1] - 2 * up) < 1e-15);
	assert_true(fabs(path[2] - 0) < 1e-15); /* restarted, then down: floored at 0 */
	assert_true(fabs(path[3] - up) < 1e-15);
	assert_true(fabs(path[4] - (up + log(2) - log(1.5))) < 1e-15);
	assert_int_equal(na, 1); /* case 5: 0.606 + ln 2 - ln 1.5 = 0.894 < 1 */
	assert_int_equal(al[0], 1);
	/* without restarts the chart keeps climbing and alarms again at cases 4 and 5 */
	assert_lb_ok(lb_surgery_cusum(p, y, 5, 2, 1.0, false, path, al, &na, &em));
	assert_int_equal(na, 4);
	assert_true(fabs(path[2] - (2 * up + down)) < 1e-15);
	assert_int_equal(lb_surgery_cusum(p, y, 5, 1, 1.0, true, path, al, &na, &em), LB_EINVALID);
	assert_int_equal(lb_surgery_cusum(p, y, 5, 2, 0, true, path, al, &na, &em), LB_EINVALID);
	assert_int_equal(lb_surgery_cusum(p, y, 5, 2, NAN, true, path, al, &na, &em), LB_EINVALID);
}

static void test_oe_and_model(void **state)
{
	(void)state;
	const char *csv = "surgeon,age,died\nA,50,1\nA,60,0\nB,70,1\nA,55,0\n";
	struct lb_table t;
	struct lb_errmsg em;
	lb_errclear(&em);
	assert_lb_ok(lb_table_parse_csv(csv, strlen(csv), 0, &t, &em));
	json_t *mj = json_pack("{s:{s:f,s:f}}", "coefficients", "(intercept)", -2.0, "age", 0.01);
	struct lb_surgery_model m;
	assert_lb_ok(lb_surgery_model_read(mj, &m, &em));
	json_decref(mj);
	double *p, *y;
	assert_lb_ok(lb_surgery_expected(&t, &m, "died", &p, &y, &em));
	assert_true(fabs(p[0] - 1 / (1 + exp(1.5))) < 1e-15);
	json_t *o;
	assert_lb_ok(lb_surgery_oe(&t, p, y, "surgeon", 2, &o, &em));
	assert_int_equal(json_integer_value(json_object_get(o, "n")), 4);
	assert_int_equal(json_array_size(json_object_get(o, "groups")), 1); /* B has 1 < 2 cases */
	assert_int_equal(json_integer_value(json_object_get(o, "suppressed_groups")), 1);
	json_t *a = json_array_get(json_object_get(o, "groups"), 0);
	double e = p[0] + p[1] + p[3];
	assert_true(fabs(json_real_value(json_object_get(a, "expected")) - e) < 1e-15);
	assert_true(fabs(json_real_value(json_object_get(a, "oe")) - 1 / e) < 1e-15);
	json_decref(o);
	double *q, *z;
	assert_int_equal(lb_surgery_expected(&t, &m, "dead", &q, &z, &em), LB_EINVALID);
	lb_free(p);
	lb_free(y);
	lb_table_release(&t);

	mj = json_pack("{s:{s:f}}", "coefficients", "age", 0.1);
	assert_int_equal(lb_surgery_model_read(mj, &m, &em), LB_EINVALID);
	assert_non_null(strstr(em.text, "(intercept)"));
	json_decref(mj);
	mj = json_pack("{s:{s:f},s:{}}", "coefficients", "(intercept)", 0.1, "standardization");
	assert_int_equal(lb_surgery_model_read(mj, &m, &em), LB_EINVALID);
	json_decref(mj);

	double lo, hi;
	lb_surgery_funnel_limits(25, 1.959964, &lo, &hi);
	assert_true(fabs(lo - (1 - 1.959964 / 5)) < 1e-15 && fabs(hi - (1 + 1.959964 / 5)) < 1e-15);
	lb_surgery_funnel_limits(1, 3.090232, &lo, &hi);
	assert_true(lo == 0);
}

static void test_alarm_payload(void **state)
{
	(void)state;
	struct lb_errmsg em;
	lb_errclear(&em);
	char model[65];
	memset(model, 'a', 64);
	model[64] = 0;
	json_t *a = json_pack("{s:s,s:s,s:s,s:i,s:i,s:f,s:f,s:f,s:s}", "hospital", "H1", "surgeon", "S1",
			      "procedure", "", "cases", 10, "case", 4, "value", 5.0, "h", 4.5, "ra", 2.0, "model", model);
	uint8_t *pl;
	size_t n;
	assert_lb_ok(lb_surgery_alarm_payload(a, &pl, &n, &em));
	assert_true(n > 0 && pl[0] == '{');
	lb_free(pl);
	json_object_set_new(a, "value", json_real(4.0));
	assert_int_equal(lb_surgery_alarm_payload(a, &pl, &n, &em), LB_EINVALID);
	json_object_set_new(a, "value", json_real(5.0));
	json_object_set_new(a, "case", json_integer(11));
	assert_int_equal(lb_surgery_alarm_payload(a, &pl, &n, &em), LB_EINVALID);
	json_object_set_new(a, "case", json_integer(4));
	json_object_set_new(a, "surgeon", json_string("a/b"));
	assert_int_equal(lb_surgery_alarm_payload(a, &pl, &n, &em), LB_EINVALID);
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cusum_steps),
		cmocka_unit_test(test_oe_and_model),
		cmocka_unit_test(test_alarm_payload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
