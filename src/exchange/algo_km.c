/*
 * Kaplan–Meier survival. At each distinct observed time t_k (ascending) with d_k events and c_k
 * censorings, r_k = subjects whose time is >= t_k; S(t_k) = prod_{j<=k} (1 - d_j / r_j);
 * Greenwood standard error se_k = S(t_k) sqrt(sum_{j<=k} d_j / (r_j (r_j - d_j))).
 *
 * With a minimum cohort k > 0 no step describes fewer than k individuals: consecutive times are
 * merged into one step until its events and its censorings are each 0 or >= k and the number
 * still at risk after it is 0 or >= k; a step reports the time of its last observation, the
 * number at risk at its start, its events and censorings, and S and se at its end (the exact
 * product-limit values there). The curve stops before the number at risk drops below k
 * ("truncated"). The median is the first step time with S <= 0.5. The federated version computes
 * the same steps from summed (d_k, c_k) counts on a grid all owners agree on.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/exchange_int.h"
#include "leben/base.h"

struct km_step {
	size_t i0, i1;   /* first and last time index merged into the step */
	double r, d, c;  /* at risk at its start, events, censorings */
	double s, se;    /* survival and Greenwood se at its end */
};

/* Steps of the curve; *nsteps of them in out (k entries allocated by the caller). */
static void km_steps(const double *d, const double *c, size_t k, double n, unsigned min,
		     struct km_step *out, size_t *nsteps, bool *truncated)
{
	double r = n, s = 1, gw = 0, ad = 0, ac = 0, r0 = n;
	size_t ns = 0, i0 = 0;
	bool open = false;
	*truncated = false;
	for (size_t i = 0; i < k; i++) {
		if (d[i] == 0 && c[i] == 0)
			continue;
		if (!open) {
			if (min && r < (double)min) {
				*truncated = true;
				break;
			}
			open = true;
			i0 = i;
			r0 = r;
			ad = ac = 0;
		}
		if (d[i] > 0 && r > 0) {
			s *= 1 - d[i] / r;
			gw = r > d[i] ? gw + d[i] / (r * (r - d[i])) : INFINITY;
		}
		ad += d[i];
		ac += c[i];
		r -= d[i] + c[i];
		if (!min || ((ad == 0 || ad >= min) && (ac == 0 || ac >= min) && (r <= 0 || r >= min))) {
			out[ns++] = (struct km_step){i0, i, r0, ad, ac, s, s * sqrt(gw)};
			open = false;
		}
	}
	if (open)
		*truncated = true;
	*nsteps = ns;
}

int xkm_curve(json_t *obj, const double *times, const double *d, const double *c, size_t k,
	      double n, unsigned min_at_risk, struct lb_errmsg *em)
{
	(void)em;
	struct km_step *st = lb_malloc((k ? k : 1) * sizeof *st);
	if (!st)
		return LB_ENOMEM;
	size_t ns;
	bool truncated;
	km_steps(d, c, k, n, min_at_risk, st, &ns, &truncated);
	json_t *jt = json_array(), *jr = json_array(), *jd = json_array(), *jc = json_array(),
	       *js = json_array(), *jse = json_array();
	double median = NAN;
	for (size_t i = 0; i < ns; i++) {
		json_array_append_new(jt, xjson_num(times[st[i].i1]));
		json_array_append_new(jr, json_integer((json_int_t)llround(st[i].r)));
		json_array_append_new(jd, json_integer((json_int_t)llround(st[i].d)));
		json_array_append_new(jc, json_integer((json_int_t)llround(st[i].c)));
		json_array_append_new(js, xjson_num(st[i].s));
		json_array_append_new(jse, xjson_num(st[i].se));
		if (isnan(median) && st[i].s <= 0.5)
			median = times[st[i].i1];
	}
	lb_free(st);
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
	double t;   /* time */
	double e;   /* 1 event, 0 censored */
	uint32_t r; /* row */
};

static int cmp_obs(const void *a, const void *b)
{
	double x = ((const struct obs *)a)->t, y = ((const struct obs *)b)->t;
	return (x > y) - (x < y);
}

/* Curve of the observations o[0..m-1] (sorted in place) into obj, every value tagged. */
static int km_one(struct xprov *P, json_t *obj, struct obs *o, size_t m, unsigned min)
{
	qsort(o, m, sizeof *o, cmp_obs);
	size_t cap = m ? m : 1;
	double *tv = lb_malloc(cap * sizeof *tv), *dv = lb_malloc(cap * sizeof *dv),
	       *cv = lb_malloc(cap * sizeof *cv);
	size_t *first = lb_malloc((cap + 1) * sizeof *first);
	struct km_step *st = lb_malloc(cap * sizeof *st);
	uint32_t *rows = lb_malloc(cap * sizeof *rows);
	static const char colkey[] = "event,time";
	int rc = LB_ENOMEM;
	if (!tv || !dv || !cv || !first || !st || !rows)
		goto out;
	size_t k = 0;
	for (size_t i = 0; i < m; i++) {
		if (k == 0 || o[i].t != tv[k - 1]) {
			tv[k] = o[i].t;
			dv[k] = cv[k] = 0;
			first[k] = i;
			k++;
		}
		if (o[i].e)
			dv[k - 1]++;
		else
			cv[k - 1]++;
	}
	first[k] = m;
	size_t ns;
	bool truncated;
	km_steps(dv, cv, k, (double)m, min, st, &ns, &truncated);
	json_t *jt = json_array(), *jr = json_array(), *jd = json_array(), *jc = json_array(),
	       *js = json_array(), *jse = json_array(), *ph;
	json_object_set_new(obj, "time", jt);
	json_object_set_new(obj, "at_risk", jr);
	json_object_set_new(obj, "events", jd);
	json_object_set_new(obj, "censored", jc);
	json_object_set_new(obj, "survival", js);
	json_object_set_new(obj, "se", jse);
	uint32_t all, set;
	for (size_t i = 0; i < m; i++)
		rows[i] = o[i].r;
	if ((rc = xprov_set_rows(P, rows, m, &all)))
		goto out;
	rc = LB_ENOMEM;
	size_t median_step = ns;
	for (size_t s = 0; s < ns; s++) {
		size_t a = first[st[s].i0], b = first[st[s].i1 + 1], nr = 0;
		/* at risk: from the step's first observation on */
		for (size_t i = a; i < m; i++)
			rows[nr++] = o[i].r;
		if (xprov_set_rows(P, rows, nr, &set) ||
		    !(ph = xprov_num(P, LB_PROV_COUNT, "", "", set, st[s].r, true, NULL)))
			goto out;
		json_array_append_new(jr, ph);
		/* the step's time: a label over the individuals who left in it */
		nr = 0;
		for (size_t i = a; i < b; i++)
			rows[nr++] = o[i].r;
		if (xprov_set_rows(P, rows, nr, &set) || !(ph = xprov_label(P, NULL, tv[st[s].i1], set)))
			goto out;
		json_array_append_new(jt, ph);
		for (int ev = 1; ev >= 0; ev--) {
			nr = 0;
			for (size_t i = a; i < b; i++)
				if ((o[i].e != 0) == (ev == 1))
					rows[nr++] = o[i].r;
			size_t cell;
			if (xprov_set_rows(P, rows, nr, &set) ||
			    !(ph = xprov_num(P, LB_PROV_COUNT, "", "", set, ev ? st[s].d : st[s].c, true, &cell)))
				goto out;
			xprov_zero_ok(P, cell); /* steps are merged until each is 0 or >= min_cohort */
			json_array_append_new(ev ? jd : jc, ph);
		}
		if (!(ph = xprov_num(P, LB_PROV_STAT, colkey, colkey, all, st[s].s, false, NULL)))
			goto out;
		json_array_append_new(js, ph);
		if (!(ph = xprov_num(P, LB_PROV_STAT, colkey, colkey, all, st[s].se, false, NULL)))
			goto out;
		json_array_append_new(jse, ph);
		if (median_step == ns && st[s].s <= 0.5)
			median_step = s;
	}
	if (median_step < ns) {
		size_t a = first[st[median_step].i0], b = first[st[median_step].i1 + 1], nr = 0;
		for (size_t i = a; i < b; i++)
			rows[nr++] = o[i].r;
		if (xprov_set_rows(P, rows, nr, &set) ||
		    !(ph = xprov_label(P, NULL, tv[st[median_step].i1], set)))
			goto out;
		json_object_set_new(obj, "median", ph);
	} else {
		json_object_set_new(obj, "median", json_null());
	}
	if (!(ph = xprov_num(P, LB_PROV_COUNT, "", "", all, (double)m, false, NULL)))
		goto out;
	json_object_set_new(obj, "n", ph);
	json_object_set_new(obj, "truncated", json_boolean(truncated));
	rc = LB_OK;
out:
	lb_free(tv);
	lb_free(dv);
	lb_free(cv);
	lb_free(first);
	lb_free(st);
	lb_free(rows);
	return rc;
}

static int km_impl(struct xprov *P, const struct lb_table *t, const json_t *params,
		   const struct lb_algo_ctx *ctx, json_t **result, struct lb_errmsg *em)
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
			return lb_errf(em, LB_EINVALID, "time column '%s' has a negative value", t->cols[tc].name);
		if (ev[r] != 0 && ev[r] != 1)
			return lb_errf(em, LB_EINVALID, "event column '%s' has a value other than 1 (event) or 0 (censored)",
				       t->cols[ec].name);
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
				o[m++] = (struct obs){tv[r], ev[r], (uint32_t)r};
		rc = km_one(P, out, o, m, mar);
	} else {
		const struct lb_table_col *g = &t->cols[gc];
		json_t *groups = json_array();
		json_object_set_new(out, "group", json_string(g->name));
		json_object_set_new(out, "groups", groups);
		/* groups: categorical levels, or distinct numbers in first-seen order */
		double *seen = lb_malloc((t->nrows ? t->nrows : 1) * sizeof *seen);
		uint32_t *rows = lb_malloc((t->nrows ? t->nrows : 1) * sizeof *rows);
		size_t ns = 0, total = 0;
		if (!seen || !rows) {
			lb_free(seen);
			lb_free(rows);
			rc = LB_ENOMEM;
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
					lb_free(rows);
					rc = lb_errf(em, LB_EINVALID, "group column '%s' has more than 100 groups", g->name);
					goto done;
				}
				seen[ns++] = g->v[r];
			}
		}
		for (size_t i = 0; i < ns && rc == LB_OK; i++) {
			size_t m = 0, nr = 0;
			for (size_t r = 0; r < t->nrows; r++) {
				if (g->v[r] == seen[i])
					rows[nr++] = (uint32_t)r;
				if (g->v[r] == seen[i] && !isnan(tv[r]) && !isnan(ev[r]))
					o[m++] = (struct obs){tv[r], ev[r], (uint32_t)r};
			}
			json_t *go = json_object(), *ph = NULL;
			uint32_t set;
			json_array_append_new(groups, go);
			if ((rc = xprov_set_rows(P, rows, nr, &set)))
				break;
			ph = xprov_label(P, g->kind == LB_COL_CATEGORICAL ? g->levels[(size_t)seen[i]] : NULL, seen[i], set);
			if (!ph) {
				rc = LB_ENOMEM;
				break;
			}
			json_object_set_new(go, "group", ph);
			rc = km_one(P, go, o, m, mar);
			total += m;
		}
		if (rc == LB_OK) {
			size_t m = 0;
			for (size_t r = 0; r < t->nrows; r++)
				if (!isnan(g->v[r]) && !isnan(tv[r]) && !isnan(ev[r]))
					rows[m++] = (uint32_t)r;
			uint32_t set;
			json_t *ph = NULL;
			if (!(rc = xprov_set_rows(P, rows, m, &set)) &&
			    !(ph = xprov_num(P, LB_PROV_COUNT, "", "", set, (double)total, false, NULL)))
				rc = LB_ENOMEM;
			if (ph)
				json_object_set_new(out, "n", ph);
		}
		lb_free(seen);
		lb_free(rows);
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

int xalgo_km(const struct lb_table *t, const json_t *params, const struct lb_algo_ctx *ctx,
	     json_t **result, struct lb_errmsg *em)
{
	return xprov_run(km_impl, t, params, ctx, result, em);
}
