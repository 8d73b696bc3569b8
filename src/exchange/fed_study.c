/*
 * The owner's rules for one step of a study across nodes (leben/study.h): a step may only ask
 * what the approved parameters determine (the same columns, bins, range, grid, outcome), a run
 * of the algorithm only as many rounds as those parameters take, and the owner's partial leaves
 * only if the records and count cells behind it pass the owner's minimum cohort.
 */
#include <math.h>
#include <string.h>

#include "exchange/exchange_int.h"
#include "leben/study.h"

size_t lb_study_threshold(size_t n)
{
	return n / 2 + 1;
}

/* step[key] must equal want (both borrowed; want NULL: step must not have key). Numbers compare
 * by value (1 and 1.0 are equal); arrays element by element. */
static bool same_value(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!same_value(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	return json_equal(a, b);
}

static int must_equal(const json_t *step, const char *key, const json_t *want, const char *from,
		      struct lb_errmsg *em)
{
	const json_t *v = json_object_get(step, key);
	if (!want && !v)
		return LB_OK;
	if (!want)
		return lb_errf(em, LB_EINVALID, "the step names '%s', which the approved parameters do not", key);
	if (!v || !same_value(v, want))
		return lb_errf(em, LB_EINVALID, "the step's '%s' is not the approved parameters' '%s'", key, from);
	return LB_OK;
}

/* bins of the step (integer, default 0) equal to want */
static int bins_equal(const json_t *step, double want, struct lb_errmsg *em)
{
	const json_t *b = json_object_get(step, "bins");
	double v = b ? json_number_value(b) : 0;
	if ((b && !json_is_number(b)) || v != want)
		return lb_errf(em, LB_EINVALID, "the step's 'bins' (%g) is not the approved %g", v, want);
	return LB_OK;
}

static int moments_allowed(const json_t *step, const json_t *cols, const json_t *y, double bins,
			   const json_t *range, struct lb_errmsg *em)
{
	int rc;
	if ((rc = must_equal(step, "columns", cols, y ? "x" : "columns", em)) ||
	    (rc = must_equal(step, "y", y, "y", em)) || (rc = bins_equal(step, bins, em)))
		return rc;
	if (bins > 0 && (rc = must_equal(step, "range", range, "range", em)))
		return rc;
	return LB_OK;
}

int lb_study_step_allowed(const char *algorithm, const json_t *params, const json_t *step,
			  unsigned *max_rounds, struct lb_errmsg *em)
{
	const char *phase = json_string_value(json_object_get(step, "phase"));
	unsigned rounds = 0;
	int rc = LB_OK;
	if (!json_is_object(params))
		return lb_errf(em, LB_EINVALID, "the approved request carries no parameters: a study needs "
						"its columns approved");
	if (!json_is_object(step) || !phase)
		return lb_errf(em, LB_EINVALID, "step: an object with a 'phase' is needed");
	if (!strcmp(algorithm, "stats")) {
		const json_t *cols = json_object_get(params, "columns");
		double bins;
		if (!json_is_array(cols) || json_array_size(cols) == 0)
			return lb_errf(em, LB_EINVALID, "the approved parameters name no 'columns': a study "
							"computes only over approved columns");
		if ((rc = xparam_num(params, "bins", 0, 0, 1000, &bins, em)))
			return rc;
		rounds = 2;
		if (strcmp(phase, "moments1") && strcmp(phase, "moments2"))
			return lb_errf(em, LB_EINVALID, "phase '%s' is not a step of stats (moments1, moments2)", phase);
		rc = moments_allowed(step, cols, NULL, bins, json_object_get(params, "range"), em);
	} else if (!strcmp(algorithm, "logreg")) {
		const json_t *x = json_object_get(params, "x"), *y = json_object_get(params, "y");
		double it;
		bool stdz;
		if (!json_is_array(x) || json_array_size(x) == 0 || !json_is_string(y))
			return lb_errf(em, LB_EINVALID, "the approved parameters name no 'x' and 'y'");
		if ((rc = xparam_num(params, "max_iter", 100, 1, 10000, &it, em)) ||
		    (rc = xparam_bool(params, "standardize", false, &stdz, em)))
			return rc;
		rounds = (unsigned)it + 1 + (stdz ? 2 : 0);
		if (!strcmp(phase, "logreg")) {
			if ((rc = must_equal(step, "x", x, "x", em)) || (rc = must_equal(step, "y", y, "y", em)))
				return rc;
		} else if (!strcmp(phase, "moments1") || !strcmp(phase, "moments2")) {
			if (!stdz)
				return lb_errf(em, LB_EINVALID, "phase '%s': the approved logistic regression is "
								"not standardised", phase);
			rc = moments_allowed(step, x, y, 0, NULL, em);
		} else {
			return lb_errf(em, LB_EINVALID, "phase '%s' is not a step of logreg (moments1, moments2, "
							"logreg)", phase);
		}
	} else if (!strcmp(algorithm, "km")) {
		rounds = 1;
		if (strcmp(phase, "km"))
			return lb_errf(em, LB_EINVALID, "phase '%s' is not a step of km", phase);
		if (!json_object_get(params, "time") || !json_object_get(params, "event") ||
		    !json_is_array(json_object_get(params, "grid")))
			return lb_errf(em, LB_EINVALID, "the approved parameters name no 'time', 'event' and 'grid'");
		if ((rc = must_equal(step, "time", json_object_get(params, "time"), "time", em)) ||
		    (rc = must_equal(step, "event", json_object_get(params, "event"), "event", em)) ||
		    (rc = must_equal(step, "grid", json_object_get(params, "grid"), "grid", em)))
			return rc;
	} else {
		return lb_errf(em, LB_EUNSUPPORTED, "algorithm '%s' has no federated form (stats, logreg, km)",
			       algorithm);
	}
	if (rc == LB_OK && max_rounds)
		*max_rounds = rounds;
	return rc;
}

/* a count of records: at least mc; a count cell: 0 or at least mc */
static int records(double v, uint64_t mc, const char *what, size_t i, struct lb_errmsg *em)
{
	if (v < (double)mc)
		return lb_errf(em, LB_EDENIED, "%s %zu: %.0f records, below this owner's minimum cohort %llu",
			       what, i, v, (unsigned long long)mc);
	return LB_OK;
}

static int cell(double v, uint64_t mc, const char *what, size_t i, struct lb_errmsg *em)
{
	if (v != 0 && v < (double)mc)
		return lb_errf(em, LB_EDENIED, "%s %zu: %.0f records, neither 0 nor at least this owner's "
					       "minimum cohort %llu", what, i, v, (unsigned long long)mc);
	return LB_OK;
}

int lb_study_partial_check(const json_t *step, const double *part, size_t len,
			   uint64_t min_cohort, struct lb_errmsg *em)
{
	const char *phase = json_string_value(json_object_get(step, "phase"));
	int rc = LB_OK;
	if (!phase)
		return lb_errf(em, LB_EINVALID, "step: an object with a 'phase' is needed");
	if (!strcmp(phase, "moments1")) {
		size_t p = json_array_size(json_object_get(step, "columns"));
		size_t bins = (size_t)json_number_value(json_object_get(step, "bins"));
		size_t w = 2 + bins;
		if (p == 0 || len != p * w + 1)
			return lb_errf(em, LB_EINVALID, "moments1 partial of %zu values, %zu expected", len, p * w + 1);
		if ((rc = records(part[p * w], min_cohort, "rows of the table, total", 0, em)))
			return rc;
		for (size_t j = 0; j < p && !rc; j++) {
			rc = records(part[j * w], min_cohort, "values of column", j, em);
			for (size_t b = 0; b < bins && !rc; b++)
				if ((rc = cell(part[j * w + 2 + b], min_cohort, "histogram bin", b, em)))
					lb_errwrap(em, "column %zu", j);
		}
	} else if (!strcmp(phase, "logreg")) {
		if (len < 3)
			return lb_errf(em, LB_EINVALID, "logreg partial of %zu values", len);
		rc = records(part[len - 2], min_cohort, "complete rows, round", 0, em);
	} else if (!strcmp(phase, "km")) {
		size_t k = json_array_size(json_object_get(step, "grid"));
		if (len != 1 + 2 * k)
			return lb_errf(em, LB_EINVALID, "km partial of %zu values, %zu expected", len, 1 + 2 * k);
		rc = records(part[0], min_cohort, "subjects, total", 0, em);
		for (size_t i = 0; i < k && !rc; i++)
			if (!(rc = cell(part[1 + i], min_cohort, "events at grid time", i, em)))
				rc = cell(part[1 + k + i], min_cohort, "censorings at grid time", i, em);
	} else if (strcmp(phase, "moments2")) {
		return lb_errf(em, LB_EINVALID, "step: unknown phase '%s'", phase);
	}
	return rc;
}
