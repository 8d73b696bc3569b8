/*
 * Kaplan–Meier survival. At each distinct observed time t_k (ascending) with d_k events and c_k
 * censorings, r_k = subjects whose time is >= t_k; S(t_k) = prod_{j<=k} (1 - d_j / r_j);
 * Greenwood standard error se_k = S(t_k) sqrt(sum_{j<=k} d_j / (r_j (r_j - d_j))). The median is
 * the first t_k with S <= 0.5. The curve stops before r_k drops below the release policy's
 * minimum cohort, so no step describes fewer people than the policy allows. The federated
 * version computes the same curve from summed (d_k, c_k) counts on a grid all owners agree on.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/exchange_int.h"
#include "leben/base.h"

int xkm_curve(json_t *obj, const double *times, const double *d, const double *c, size_t k,
	      double n, unsigned min_at_risk, struct lb_errmsg *em)
{
	(void)em;
	json_t *jt = json_array(), *jr = json_array(), *jd = json_array(), *jc = json_array(),
	       *js = json_array(), *jse = json_array();
	double r = n, s = 1, gw = 0, median = NAN;
	bool truncated = false;
	size_t events = 0;
	for (size_t i = 0; i < k; i++) {
		if (d[i] == 0 && c[i] == 0)
			continue;
		if (min_at_risk && r < (double)min_at_risk) {
			truncated = true;
			break;
		}
		if (d[i] > 0 && r > 0) {
			s *= 1 - d[i] / r;
			gw = r > d[i] ? gw + d[i] / (r * (r - d[i])) : INFINITY;
		}
		events += (size_t)d[i];
		json_array_append_new(jt, xjson_num(times[i]));
		json_array_append_new(jr, json_integer((json_int_t)llround(r)));
		json_array_append_new(jd, json_integer((json_int_t)llround(d[i])));
		json_array_append_new(jc, json_integer((json_int_t)llround(c[i])));
		json_array_append_new(js, xjson_num(s));
		json_array_append_new(jse, xjson_num(s * sqrt(gw)));
		if (isnan(median) && s <= 0.5)
			median = times[i];
		r -= d[i] + c[i];
	}
	json_object_set_new(obj, "n", json_integer((json_int_t)llround(n)));
	json_object_set_new(obj, "time", jt);
	json_object_set_new(obj, "at_risk", jr);
	json_object_set_new(obj, "events", jd);
	json_object_set_new(obj, "censored", jc);
	json_object_set_new(obj, "survival", js);
	json_object_set_new(obj, "se", jse);
	json_object_set_new(obj, "median", xjson_num(median));
	json_object_set_new(obj, "truncated", json_boolean(truncated));
	return LB_OK;
}

struct obs {
	double t;  /* time */
	double e;  /* 1 event, 0 censored */
};

static int cmp_obs(const void *a, const void *b)
{
	double x = ((const struct obs *)a)->t, y = ((const struct obs *)b)->t;
	return (x > y) - (x < y);
}

/* Curve of the observations o[0..m-1] (sorted in place) into obj. */
static int km_one(json_t *obj, struct obs *o, size_t m, unsigned min_at_risk, struct lb_errmsg *em)
{
	qsort(o, m, sizeof *o, cmp_obs);
	double *tv = lb_malloc((m ? m : 1) * sizeof *tv), *dv = lb_malloc((m ? m : 1) * sizeof *dv),
	       *cv = lb_malloc((m ? m : 1) * sizeof *cv);
	int rc = LB_ENOMEM;
	if (tv && dv && cv) {
		size_t k = 0;
		for (size_t i = 0; i < m; i++) {
			if (k == 0 || o[i].t != tv[k - 1]) {
				tv[k] = o[i].t;
				dv[k] = cv[k] = 0;
				k++;
			}
			if (o[i].e)
				dv[k - 1]++;
			else
				cv[k - 1]++;
		}
		rc = xkm_curve(obj, tv, dv, cv, k, (double)m, min_at_risk, em);
	}
	lb_free(tv);
	lb_free(dv);
	lb_free(cv);
	return rc;
}

int xalgo_km(const struct lb_table *t, const json_t *params, const struct lb_algo_ctx *ctx,
	     json_t **result, struct lb_errmsg *em)
{
	static const char *const ok[] = {"time", "event", "group", NULL};
	size_t tc, ec, gc = 0;
	const char *gname;
	int rc;
	if ((rc = xparam_only(params, ok, em)) || (rc = xparam_col(t, params, "time", true, &tc, em)) ||
	    (rc = xparam_col(t, params, "event", true, &ec, em)) ||
	    (rc = xparam_str(params, "group", NULL, &gname, em)))
		return rc;
	if (gname && (rc = xparam_col(t, params, "group", false, &gc, em)))
		return rc;
	const double *tv = t->cols[tc].v, *ev = t->cols[ec].v;
	for (size_t r = 0; r < t->nrows; r++) {
		if (isnan(tv[r]) || isnan(ev[r]))
			continue;
		if (tv[r] < 0)
			return lb_errf(em, LB_EINVALID, "time column '%s' is negative on data row %zu", t->cols[tc].name, r + 1);
		if (ev[r] != 0 && ev[r] != 1)
			return lb_errf(em, LB_EINVALID, "event column '%s' has %g on data row %zu (must be 1 = event or 0 = censored)",
				       t->cols[ec].name, ev[r], r + 1);
	}
	struct obs *o = lb_malloc((t->nrows ? t->nrows : 1) * sizeof *o);
	if (!o)
		return LB_ENOMEM;
	unsigned mar = ctx ? ctx->min_cohort : 0;
	json_t *out = json_object();
	json_object_set_new(out, "algorithm", json_string("km"));
	if (!gname) {
		size_t m = 0;
		for (size_t r = 0; r < t->nrows; r++)
			if (!isnan(tv[r]) && !isnan(ev[r]))
				o[m++] = (struct obs){tv[r], ev[r]};
		rc = km_one(out, o, m, mar, em);
	} else {
		const struct lb_table_col *g = &t->cols[gc];
		json_t *groups = json_array();
		size_t total = 0;
		/* groups: categorical levels, or distinct numbers in first-seen order */
		double *seen = lb_malloc((t->nrows ? t->nrows : 1) * sizeof *seen);
		size_t ns = 0;
		if (!seen) {
			rc = LB_ENOMEM;
			json_decref(groups);
			goto done;
		}
		for (size_t r = 0; r < t->nrows; r++) {
			if (isnan(g->v[r]))
				continue;
			bool have = false;
			for (size_t i = 0; i < ns && !have; i++)
				have = seen[i] == g->v[r];
			if (!have) {
				if (ns >= 100) {
					lb_free(seen);
					json_decref(groups);
					rc = lb_errf(em, LB_EINVALID, "group column '%s' has more than 100 groups", g->name);
					goto done;
				}
				seen[ns++] = g->v[r];
			}
		}
		for (size_t i = 0; i < ns && rc == LB_OK; i++) {
			size_t m = 0;
			for (size_t r = 0; r < t->nrows; r++)
				if (g->v[r] == seen[i] && !isnan(tv[r]) && !isnan(ev[r]))
					o[m++] = (struct obs){tv[r], ev[r]};
			json_t *go = json_object();
			if (g->kind == LB_COL_CATEGORICAL)
				json_object_set_new(go, "group", json_string(g->levels[(size_t)seen[i]]));
			else
				json_object_set_new(go, "group", json_real(seen[i]));
			rc = km_one(go, o, m, mar, em);
			json_array_append_new(groups, go);
			total += m;
		}
		lb_free(seen);
		json_object_set_new(out, "n", json_integer((json_int_t)total));
		json_object_set_new(out, "group", json_string(g->name));
		json_object_set_new(out, "groups", groups);
	}
done:
	lb_free(o);
	if (rc) {
		json_decref(out);
		return rc;
	}
	*result = out;
	return LB_OK;
}
