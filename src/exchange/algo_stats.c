/*
 * Descriptive statistics and cross-tabulation. Definitions (docs/exchange.md): per numeric
 * column the count of non-missing values n, missing, mean, sample standard deviation (n - 1),
 * min, max, and optionally a histogram (numpy.histogram: equal-width bins over the range, the
 * last bin closed); per categorical column the count of each level. Cross-tabulation counts
 * rows per (row level, column level) pair over rows where both are present and gives the
 * Pearson chi-square statistic of independence with its degrees of freedom.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/exchange_int.h"
#include "leben/base.h"

#define MAX_BINS 1000
#define MAX_LEVELS 1000

static json_t *histogram(const double *v, size_t nrows, size_t bins, double lo, double hi)
{
	size_t *h = lb_calloc(bins, sizeof *h);
	if (!h)
		return NULL;
	double w = (hi - lo) / (double)bins;
	for (size_t r = 0; r < nrows; r++) {
		double x = v[r];
		if (isnan(x) || x < lo || x > hi)
			continue;
		size_t b = w > 0 ? (size_t)((x - lo) / w) : 0;
		if (b >= bins)
			b = bins - 1;
		h[b]++;
	}
	json_t *o = json_object(), *edges = json_array(), *counts = json_array();
	for (size_t b = 0; b <= bins; b++)
		json_array_append_new(edges, json_real(lo + w * (double)b));
	for (size_t b = 0; b < bins; b++)
		json_array_append_new(counts, json_integer((json_int_t)h[b]));
	json_object_set_new(o, "edges", edges);
	json_object_set_new(o, "counts", counts);
	lb_free(h);
	return o;
}

int xalgo_stats(const struct lb_table *t, const json_t *params, const struct lb_algo_ctx *ctx,
		json_t **result, struct lb_errmsg *em)
{
	static const char *const ok[] = {"columns", "bins", "range", NULL};
	(void)ctx;
	size_t *cols = NULL, ncols = 0;
	double bins, lo = 0, hi = 0;
	bool have_range = false;
	int rc;
	if ((rc = xparam_only(params, ok, em)) || (rc = xparam_num(params, "bins", 0, 0, MAX_BINS, &bins, em)))
		return rc;
	json_t *range = params ? json_object_get(params, "range") : NULL;
	if (range) {
		if (!json_is_array(range) || json_array_size(range) != 2 ||
		    !json_is_number(json_array_get(range, 0)) || !json_is_number(json_array_get(range, 1)))
			return lb_errf(em, LB_EINVALID, "parameter 'range' must be [low, high]");
		lo = json_number_value(json_array_get(range, 0));
		hi = json_number_value(json_array_get(range, 1));
		if (!(lo < hi))
			return lb_errf(em, LB_EINVALID, "parameter 'range': low %g must be below high %g", lo, hi);
		have_range = true;
	}
	/* columns: listed ones may be categorical too */
	json_t *cv = params ? json_object_get(params, "columns") : NULL;
	if (cv) {
		if (!json_is_array(cv) || json_array_size(cv) == 0)
			return lb_errf(em, LB_EINVALID, "parameter 'columns' must be a non-empty list of column names");
		cols = lb_malloc(json_array_size(cv) * sizeof *cols);
		if (!cols)
			return LB_ENOMEM;
		for (size_t i = 0; i < json_array_size(cv); i++) {
			json_t *e = json_array_get(cv, i);
			long c = json_is_string(e) ? lb_table_find(t, json_string_value(e)) : -1;
			if (c < 0) {
				lb_free(cols);
				return lb_errf(em, LB_EINVALID, "parameter 'columns': entry %zu is not a column of the table", i);
			}
			cols[ncols++] = (size_t)c;
		}
	} else {
		cols = lb_malloc((t->ncols ? t->ncols : 1) * sizeof *cols);
		if (!cols)
			return LB_ENOMEM;
		for (size_t c = 0; c < t->ncols; c++)
			cols[ncols++] = c;
	}
	json_t *out = json_object(), *arr = json_array();
	json_object_set_new(out, "algorithm", json_string("stats"));
	json_object_set_new(out, "n", json_integer((json_int_t)t->nrows));
	for (size_t i = 0; i < ncols; i++) {
		const struct lb_table_col *col = &t->cols[cols[i]];
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(col->name));
		size_t n = 0;
		if (col->kind == LB_COL_CATEGORICAL) {
			size_t *cnt = lb_calloc(col->nlevels ? col->nlevels : 1, sizeof *cnt);
			if (!cnt) {
				json_decref(o);
				rc = LB_ENOMEM;
				goto fail;
			}
			for (size_t r = 0; r < t->nrows; r++)
				if (!isnan(col->v[r])) {
					cnt[(size_t)col->v[r]]++;
					n++;
				}
			json_t *lv = json_array(), *ct = json_array();
			for (size_t l = 0; l < col->nlevels; l++) {
				json_array_append_new(lv, json_string(col->levels[l]));
				json_array_append_new(ct, json_integer((json_int_t)cnt[l]));
			}
			lb_free(cnt);
			json_object_set_new(o, "type", json_string("categorical"));
			json_object_set_new(o, "n", json_integer((json_int_t)n));
			json_object_set_new(o, "missing", json_integer((json_int_t)(t->nrows - n)));
			json_object_set_new(o, "levels", lv);
			json_object_set_new(o, "counts", ct);
		} else {
			/* Welford: stable mean and variance in one pass */
			double mean = 0, m2 = 0, mn = INFINITY, mx = -INFINITY;
			for (size_t r = 0; r < t->nrows; r++) {
				double x = col->v[r];
				if (isnan(x))
					continue;
				n++;
				double d = x - mean;
				mean += d / (double)n;
				m2 += d * (x - mean);
				if (x < mn)
					mn = x;
				if (x > mx)
					mx = x;
			}
			json_object_set_new(o, "type", json_string("numeric"));
			json_object_set_new(o, "n", json_integer((json_int_t)n));
			json_object_set_new(o, "missing", json_integer((json_int_t)(t->nrows - n)));
			json_object_set_new(o, "mean", n ? xjson_num(mean) : json_null());
			json_object_set_new(o, "sd", n > 1 ? xjson_num(sqrt(m2 / (double)(n - 1))) : json_null());
			json_object_set_new(o, "min", n ? xjson_num(mn) : json_null());
			json_object_set_new(o, "max", n ? xjson_num(mx) : json_null());
			if (bins > 0 && n > 0) {
				json_t *h = histogram(col->v, t->nrows, (size_t)bins, have_range ? lo : mn,
						      have_range ? hi : (mx > mn ? mx : mn + 1));
				if (!h) {
					json_decref(o);
					rc = LB_ENOMEM;
					goto fail;
				}
				json_object_set_new(o, "histogram", h);
			}
		}
		json_array_append_new(arr, o);
	}
	json_object_set_new(out, "columns", arr);
	lb_free(cols);
	*result = out;
	return LB_OK;
fail:
	lb_free(cols);
	json_decref(out);
	json_decref(arr);
	return rc;
}

/* Levels of a column for tabulation: categorical levels, or the sorted distinct numbers. */
struct levels {
	size_t n;       /* number of levels */
	double *num;    /* numeric columns: sorted distinct values (owned) */
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int levels_of(const struct lb_table *t, size_t c, struct levels *lv, struct lb_errmsg *em)
{
	const struct lb_table_col *col = &t->cols[c];
	lv->num = NULL;
	if (col->kind == LB_COL_CATEGORICAL) {
		lv->n = col->nlevels;
	} else {
		double *v = lb_malloc((t->nrows ? t->nrows : 1) * sizeof *v);
		if (!v)
			return LB_ENOMEM;
		size_t k = 0;
		for (size_t r = 0; r < t->nrows; r++)
			if (!isnan(col->v[r]))
				v[k++] = col->v[r];
		qsort(v, k, sizeof *v, cmp_d);
		size_t u = 0;
		for (size_t i = 0; i < k; i++)
			if (u == 0 || v[i] != v[u - 1])
				v[u++] = v[i];
		lv->n = u;
		lv->num = v;
	}
	if (lv->n > MAX_LEVELS) {
		lb_free(lv->num);
		return lb_errf(em, LB_EINVALID, "column '%s' has %zu distinct values (at most %d can be tabulated)",
			       col->name, lv->n, MAX_LEVELS);
	}
	return LB_OK;
}

static size_t level_index(const struct lb_table_col *col, const struct levels *lv, double x)
{
	if (col->kind == LB_COL_CATEGORICAL)
		return (size_t)x;
	size_t lo = 0, hi = lv->n;
	while (lo + 1 < hi) {
		size_t mid = (lo + hi) / 2;
		if (lv->num[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static json_t *level_names(const struct lb_table_col *col, const struct levels *lv)
{
	json_t *a = json_array();
	for (size_t i = 0; i < lv->n; i++)
		json_array_append_new(a, col->kind == LB_COL_CATEGORICAL ? json_string(col->levels[i])
									 : json_real(lv->num[i]));
	return a;
}

int xalgo_crosstab(const struct lb_table *t, const json_t *params, const struct lb_algo_ctx *ctx,
		   json_t **result, struct lb_errmsg *em)
{
	static const char *const ok[] = {"rows", "cols", NULL};
	(void)ctx;
	size_t rc_, cc;
	int rc;
	if ((rc = xparam_only(params, ok, em)) || (rc = xparam_col(t, params, "rows", false, &rc_, em)) ||
	    (rc = xparam_col(t, params, "cols", false, &cc, em)))
		return rc;
	struct levels lr, lc;
	if ((rc = levels_of(t, rc_, &lr, em)))
		return rc;
	if ((rc = levels_of(t, cc, &lc, em))) {
		lb_free(lr.num);
		return rc;
	}
	size_t *cnt = lb_calloc(lr.n * lc.n + 1, sizeof *cnt);
	if (!cnt) {
		lb_free(lr.num);
		lb_free(lc.num);
		return LB_ENOMEM;
	}
	const struct lb_table_col *a = &t->cols[rc_], *b = &t->cols[cc];
	size_t n = 0;
	for (size_t r = 0; r < t->nrows; r++) {
		if (isnan(a->v[r]) || isnan(b->v[r]))
			continue;
		cnt[level_index(a, &lr, a->v[r]) * lc.n + level_index(b, &lc, b->v[r])]++;
		n++;
	}
	json_t *out = json_object(), *m = json_array(), *rt = json_array(), *ct = json_array();
	double chi2 = 0;
	size_t *colsum = lb_calloc(lc.n + 1, sizeof *colsum);
	if (!colsum) {
		rc = LB_ENOMEM;
		json_decref(out);
		json_decref(m);
		json_decref(rt);
		json_decref(ct);
		goto done;
	}
	for (size_t i = 0; i < lr.n; i++)
		for (size_t j = 0; j < lc.n; j++)
			colsum[j] += cnt[i * lc.n + j];
	for (size_t i = 0; i < lr.n; i++) {
		json_t *row = json_array();
		size_t rs = 0;
		for (size_t j = 0; j < lc.n; j++) {
			json_array_append_new(row, json_integer((json_int_t)cnt[i * lc.n + j]));
			rs += cnt[i * lc.n + j];
		}
		for (size_t j = 0; j < lc.n && n > 0; j++) {
			double e = (double)rs * (double)colsum[j] / (double)n;
			if (e > 0)
				chi2 += ((double)cnt[i * lc.n + j] - e) * ((double)cnt[i * lc.n + j] - e) / e;
		}
		json_array_append_new(m, row);
		json_array_append_new(rt, json_integer((json_int_t)rs));
	}
	for (size_t j = 0; j < lc.n; j++)
		json_array_append_new(ct, json_integer((json_int_t)colsum[j]));
	json_object_set_new(out, "algorithm", json_string("crosstab"));
	json_object_set_new(out, "n", json_integer((json_int_t)n));
	json_object_set_new(out, "rows", json_string(a->name));
	json_object_set_new(out, "cols", json_string(b->name));
	json_object_set_new(out, "row_levels", level_names(a, &lr));
	json_object_set_new(out, "col_levels", level_names(b, &lc));
	json_object_set_new(out, "counts", m);
	json_object_set_new(out, "row_counts", rt);
	json_object_set_new(out, "col_counts", ct);
	json_object_set_new(out, "chi2", xjson_num(chi2));
	json_object_set_new(out, "df", json_integer((json_int_t)((lr.n ? lr.n - 1 : 0) * (lc.n ? lc.n - 1 : 0))));
	*result = out;
	rc = LB_OK;
done:
	lb_free(colsum);
	lb_free(cnt);
	lb_free(lr.num);
	lb_free(lc.num);
	return rc;
}
