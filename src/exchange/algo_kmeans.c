/*
 * k-means clustering of the complete rows over the chosen columns: k-means++ seeding from a
 * deterministic generator (splitmix64 of the "seed" parameter), then Lloyd iterations
 * (assign each row to its nearest centroid by squared Euclidean distance, ties to the lower
 * index; move each centroid to the mean of its rows) until no assignment changes or max_iter.
 * Released: centroids, cluster sizes ("counts"), within-cluster sum of squares ("inertia"), each
 * tagged with its cluster's records: a cluster of 0 < n < min_cohort records has its centroid and
 * size suppressed.
 */
#include <math.h>
#include <string.h>

#include "exchange/exchange_int.h"
#include "leben/base.h"

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static double unif(uint64_t *s)
{
	return (double)(splitmix(s) >> 11) * 0x1.0p-53;
}

static int kmeans_impl(struct xprov *P, const struct lb_table *t, const json_t *params,
		       const struct lb_algo_ctx *ctx, json_t **result, struct lb_errmsg *em)
{
	static const char *const ok[] = {"columns", "k", "seed", "max_iter", "standardize", NULL};
	(void)ctx;
	size_t *cols = NULL, p;
	double kd, seedd, maxit;
	bool stdz;
	int rc;
	if ((rc = xparam_only(params, ok, em)) || (rc = xparam_num(params, "k", 0, 1, 1000, &kd, em)) ||
	    (rc = xparam_num(params, "seed", 1, 0, 9007199254740991.0, &seedd, em)) ||
	    (rc = xparam_num(params, "max_iter", 300, 1, 100000, &maxit, em)) ||
	    (rc = xparam_bool(params, "standardize", false, &stdz, em)))
		return rc;
	if (kd < 1 || kd != floor(kd))
		return lb_errf(em, LB_EINVALID, "parameter 'k' (number of clusters, a whole number >= 1) is required");
	if ((rc = xparam_cols(t, params, "columns", true, &cols, &p, em)))
		return rc;
	size_t k = (size_t)kd;
	uint64_t seed = (uint64_t)seedd;
	double *X = NULL, *cent = NULL, *sum = NULL, *dist = NULL, *mean = NULL, *scale = NULL;
	size_t *asg = NULL, *cnt = NULL, n = 0;
	uint32_t *rowi = NULL, *crow = NULL;
	char *colkey = NULL;
	if (p == 0) {
		rc = lb_errf(em, LB_EINVALID, "k-means needs at least one numeric column");
		goto out;
	}
	X = lb_malloc((t->nrows ? t->nrows : 1) * p * sizeof *X);
	cent = lb_calloc(k * p, sizeof *cent);
	sum = lb_calloc(k * p, sizeof *sum);
	dist = lb_malloc((t->nrows ? t->nrows : 1) * sizeof *dist);
	asg = lb_malloc((t->nrows ? t->nrows : 1) * sizeof *asg);
	cnt = lb_calloc(k, sizeof *cnt);
	mean = lb_calloc(p, sizeof *mean);
	scale = lb_malloc(p * sizeof *scale);
	rowi = lb_malloc((t->nrows ? t->nrows : 1) * sizeof *rowi);
	crow = lb_malloc((t->nrows ? t->nrows : 1) * sizeof *crow);
	colkey = xprov_colkey(t, cols, p);
	if (!X || !cent || !sum || !dist || !asg || !cnt || !mean || !scale || !rowi || !crow || !colkey) {
		rc = LB_ENOMEM;
		goto out;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		bool ok_row = true;
		for (size_t j = 0; j < p && ok_row; j++)
			ok_row = !isnan(t->cols[cols[j]].v[r]);
		if (!ok_row)
			continue;
		for (size_t j = 0; j < p; j++)
			X[n * p + j] = t->cols[cols[j]].v[r];
		rowi[n++] = (uint32_t)r;
	}
	if (n < k) {
		rc = lb_errf(em, LB_EINVALID, "k-means: fewer complete rows than k = %zu clusters", k);
		goto out;
	}
	for (size_t j = 0; j < p; j++)
		scale[j] = 1;
	if (stdz) {
		for (size_t j = 0; j < p; j++) {
			double m = 0, s2 = 0;
			for (size_t i = 0; i < n; i++)
				m += X[i * p + j];
			m /= (double)n;
			for (size_t i = 0; i < n; i++)
				s2 += (X[i * p + j] - m) * (X[i * p + j] - m);
			mean[j] = m;
			scale[j] = s2 > 0 ? sqrt(s2 / (double)n) : 1;
			for (size_t i = 0; i < n; i++)
				X[i * p + j] = (X[i * p + j] - m) / scale[j];
		}
	}
	/* k-means++ */
	size_t first = (size_t)(unif(&seed) * (double)n);
	memcpy(cent, X + first * p, p * sizeof *cent);
	for (size_t i = 0; i < n; i++)
		dist[i] = INFINITY;
	for (size_t c = 1; c < k; c++) {
		double tot = 0;
		for (size_t i = 0; i < n; i++) {
			double d2 = 0;
			for (size_t j = 0; j < p; j++) {
				double d = X[i * p + j] - cent[(c - 1) * p + j];
				d2 += d * d;
			}
			if (d2 < dist[i])
				dist[i] = d2;
			tot += dist[i];
		}
		double u = unif(&seed) * tot, acc = 0;
		size_t pick = n - 1;
		for (size_t i = 0; i < n; i++) {
			acc += dist[i];
			if (acc > u) {
				pick = i;
				break;
			}
		}
		memcpy(cent + c * p, X + pick * p, p * sizeof *cent);
	}
	unsigned it = 0;
	double inertia = 0;
	bool changed = true;
	for (size_t i = 0; i < n; i++)
		asg[i] = SIZE_MAX;
	while (changed && it < (unsigned)maxit) {
		changed = false;
		inertia = 0;
		memset(sum, 0, k * p * sizeof *sum);
		memset(cnt, 0, k * sizeof *cnt);
		for (size_t i = 0; i < n; i++) {
			size_t best = 0;
			double bd = INFINITY;
			for (size_t c = 0; c < k; c++) {
				double d2 = 0;
				for (size_t j = 0; j < p; j++) {
					double d = X[i * p + j] - cent[c * p + j];
					d2 += d * d;
				}
				if (d2 < bd) {
					bd = d2;
					best = c;
				}
			}
			if (asg[i] != best) {
				asg[i] = best;
				changed = true;
			}
			inertia += bd;
			cnt[best]++;
			for (size_t j = 0; j < p; j++)
				sum[best * p + j] += X[i * p + j];
		}
		for (size_t c = 0; c < k; c++)
			if (cnt[c])
				for (size_t j = 0; j < p; j++)
					cent[c * p + j] = sum[c * p + j] / (double)cnt[c];
		it++;
	}
	json_t *o = json_object(), *jc = json_array(), *jn = json_array(), *names = json_array();
	json_object_set_new(o, "centroids", jc);
	json_object_set_new(o, "counts", jn);
	json_object_set_new(o, "columns", names);
	rc = LB_ENOMEM;
	uint32_t grp = xprov_group(P);
	for (size_t c = 0; c < k; c++) {
		json_t *row = json_array(), *ph;
		size_t id;
		uint32_t set;
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (asg[i] == c)
				crow[m++] = rowi[i];
		json_array_append_new(jc, row);
		if ((rc = xprov_set_rows(P, crow, m, &set)))
			goto fail;
		for (size_t j = 0; j < p; j++) { /* centroids on the original scale */
			if (!(ph = xprov_num(P, LB_PROV_STAT, colkey, colkey, set, cent[c * p + j] * scale[j] + mean[j],
					     true, &id)))
				goto fail;
			xprov_in_group(P, id, grp, 0);
			json_array_append_new(row, ph);
		}
		if (!(ph = xprov_num(P, LB_PROV_COUNT, "", "", set, (double)cnt[c], true, &id)))
			goto fail;
		xprov_in_group(P, id, grp, 0);
		json_array_append_new(jn, ph);
	}
	for (size_t j = 0; j < p; j++)
		json_array_append_new(names, json_string(t->cols[cols[j]].name));
	uint32_t all;
	json_t *ph;
	if ((rc = xprov_set_rows(P, rowi, n, &all)))
		goto fail;
	if (!(ph = xprov_num(P, LB_PROV_COUNT, "", "", all, (double)n, false, NULL)))
		goto fail;
	json_object_set_new(o, "n", ph);
	if (!(ph = xprov_num(P, LB_PROV_STAT, colkey, colkey, all, inertia, false, NULL)))
		goto fail;
	json_object_set_new(o, "inertia", ph);
	json_object_set_new(o, "algorithm", json_string("kmeans"));
	json_object_set_new(o, "k", json_integer((json_int_t)k));
	json_object_set_new(o, "iterations", json_integer(it));
	json_object_set_new(o, "converged", json_boolean(!changed));
	*result = o;
	rc = LB_OK;
	goto out;
fail:
	json_decref(o);
	rc = rc ? rc : LB_ENOMEM;
out:
	lb_free(rowi);
	lb_free(crow);
	lb_free(colkey);
	lb_free(X);
	lb_free(cent);
	lb_free(sum);
	lb_free(dist);
	lb_free(asg);
	lb_free(cnt);
	lb_free(mean);
	lb_free(scale);
	lb_free(cols);
	return rc;
}

int xalgo_kmeans(const struct lb_table *t, const json_t *params, const struct lb_algo_ctx *ctx,
		 json_t **result, struct lb_errmsg *em)
{
	return xprov_run(kmeans_impl, t, params, ctx, result, em);
}
