/*
 * Descriptive statistics and cross-tabulation, computed through the provenance recorder: every
 * released number carries the set of records it describes. Definitions (docs/exchange.md): per
 * numeric column the count of non-missing values n, missing, mean, sample standard deviation
 * (n - 1) and optionally a histogram over a range given in the parameters (numpy.histogram:
 * equal-width bins, the last bin closed; never the data's own minimum and maximum, which are
 * single records' values and are not released); per categorical column the count of each level.
 * Cross-tabulation counts rows per (row level, column level) pair over rows where both are
 * present and gives the Pearson chi-square statistic of independence with its degrees of
 * freedom. Cells and level names of fewer than min_cohort records are suppressed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/exchange_int.h"
#include "leben/base.h"

#define MAX_BINS 1000
#define MAX_LEVELS 1000
#define MAX_CELLS 100000

static bool in_mask(const uint8_t *mask, size_t r)
{
	return !mask || mask[r];
}

int xagg_scalar(struct xprov *P, const struct lb_table *t, enum lb_prov_kind kind, long col,
		const uint8_t *mask, json_t **out, size_t *cell, struct lb_errmsg *em)
{
	const struct lb_table_col *c = col >= 0 ? &t->cols[col] : NULL;
	if (c && c->kind != LB_COL_NUMERIC)
		return lb_errf(em, LB_EINVALID, "column '%s' is not numeric", c->name);
	uint8_t *m = lb_malloc(t->nrows ? t->nrows : 1);
	if (!m)
		return LB_ENOMEM;
	double mean = 0, m2 = 0, sum = 0;
	size_t n = 0;
	for (size_t r = 0; r < t->nrows; r++) {
		m[r] = in_mask(mask, r) && (!c || !isnan(c->v[r]));
		if (!m[r])
			continue;
		n++;
		if (c) {
			double x = c->v[r], d = x - mean;
			sum += x;
			mean += d / (double)n;
			m2 += d * (x - mean);
		}
	}
	uint32_t set;
	int rc = xprov_set_mask(P, m, &set);
	lb_free(m);
	if (rc)
		return rc;
	double v = kind == LB_PROV_COUNT ? (double)n
		   : kind == LB_PROV_SUM ? sum
		   : kind == LB_PROV_MEAN ? (n ? mean : NAN)
		   : (n > 1 ? sqrt(m2 / (double)(n - 1)) : NAN);
	*out = xprov_num(P, kind, c ? c->name : "", c ? c->name : "", set, v, false, cell);
	return *out ? LB_OK : LB_ENOMEM;
}

int xagg_hist(struct xprov *P, const struct lb_table *t, size_t col, const double *edges,
	      size_t nedges, const uint8_t *mask, json_t **out, struct lb_errmsg *em)
{
	const struct lb_table_col *c = &t->cols[col];
	if (c->kind != LB_COL_NUMERIC)
		return lb_errf(em, LB_EINVALID, "histogram: column '%s' is not numeric", c->name);
	if (nedges < 2 || nedges > MAX_BINS + 1)
		return lb_errf(em, LB_EINVALID, "histogram: give 2 to %d bin edges", MAX_BINS + 1);
	for (size_t i = 0; i < nedges; i++)
		if (!isfinite(edges[i]) || (i > 0 && !(edges[i] > edges[i - 1])))
			return lb_errf(em, LB_EINVALID, "histogram: the edges must be finite and strictly increasing");
	size_t bins = nedges - 1;
	uint32_t *rows = lb_malloc((t->nrows ? t->nrows : 1) * sizeof *rows);
	size_t *bin_of = lb_malloc((t->nrows ? t->nrows : 1) * sizeof *bin_of);
	size_t *cnt = lb_calloc(bins + 1, sizeof *cnt), *off = lb_calloc(bins + 1, sizeof *off);
	int rc = LB_ENOMEM;
	json_t *o = NULL;
	if (!rows || !bin_of || !cnt || !off)
		goto out;
	for (size_t r = 0; r < t->nrows; r++) {
		double x = c->v[r];
		bin_of[r] = bins;
		if (!in_mask(mask, r) || isnan(x) || x < edges[0] || x > edges[bins])
			continue;
		size_t lo = 0, hi = bins; /* last edge <= x */
		while (lo + 1 < hi) {
			size_t mid = (lo + hi) / 2;
			if (edges[mid] <= x)
				lo = mid;
			else
				hi = mid;
		}
		bin_of[r] = lo;
		cnt[lo]++;
	}
	for (size_t b = 1; b <= bins; b++)
		off[b] = off[b - 1] + cnt[b - 1];
	size_t total = off[bins];
	size_t *fill = lb_calloc(bins + 1, sizeof *fill);
	if (!fill)
		goto out;
	for (size_t r = 0; r < t->nrows; r++)
		if (bin_of[r] < bins)
			rows[off[bin_of[r]] + fill[bin_of[r]]++] = (uint32_t)r;
	lb_free(fill);
	o = json_object();
	json_t *je = json_array(), *jc = json_array();
	json_object_set_new(o, "column", json_string(c->name));
	json_object_set_new(o, "edges", je);
	json_object_set_new(o, "counts", jc);
	for (size_t i = 0; i < nedges; i++)
		json_array_append_new(je, json_real(edges[i]));
	uint32_t grp = xprov_group(P);
	for (size_t b = 0; b < bins; b++) {
		uint32_t set;
		size_t id;
		if ((rc = xprov_set_rows(P, rows + off[b], cnt[b], &set)))
			goto out;
		json_t *ph = xprov_num(P, LB_PROV_COUNT, "", "", set, (double)cnt[b], true, &id);
		if (!ph) {
			rc = LB_ENOMEM;
			goto out;
		}
		xprov_in_group(P, id, grp, 0);
		json_array_append_new(jc, ph);
	}
	uint32_t all;
	if ((rc = xprov_set_rows(P, rows, total, &all)))
		goto out;
	json_t *ph = xprov_num(P, LB_PROV_COUNT, "", "", all, (double)total, true, NULL);
	if (!ph) {
		rc = LB_ENOMEM;
		goto out;
	}
	json_object_set_new(o, "n", ph);
	*out = o;
	o = NULL;
	rc = LB_OK;
out:
	json_decref(o);
	lb_free(rows);
	lb_free(bin_of);
	lb_free(cnt);
	lb_free(off);
	return rc;
}

/* The K sets of rows with key[r] = 0 .. K-1 (other keys: no set), by a counting sort; ids[k]
 * receives set k's index. */
static int bucket_sets(struct xprov *P, const size_t *key, size_t nrows, size_t K, uint32_t *ids)
{
	size_t *off = lb_calloc(K + 2, sizeof *off), *fill = lb_calloc(K + 1, sizeof *fill);
	uint32_t *rows = lb_malloc((nrows ? nrows : 1) * sizeof *rows);
	int rc = LB_ENOMEM;
	if (!off || !fill || !rows)
		goto out;
	for (size_t r = 0; r < nrows; r++)
		if (key[r] < K)
			off[key[r] + 1]++;
	for (size_t k = 1; k <= K; k++)
		off[k] += off[k - 1];
	for (size_t r = 0; r < nrows; r++)
		if (key[r] < K)
			rows[off[key[r]] + fill[key[r]]++] = (uint32_t)r;
	rc = LB_OK;
	for (size_t k = 0; k < K && rc == LB_OK; k++)
		rc = xprov_set_rows(P, rows + off[k], off[k + 1] - off[k], &ids[k]);
out:
	lb_free(off);
	lb_free(fill);
	lb_free(rows);
	return rc;
}

/* Levels of a column: categorical levels, or the sorted distinct numbers among masked rows. */
struct levels {
	size_t n;       /* number of levels */
	double *num;    /* numeric columns: sorted distinct values (owned) */
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int levels_of(const struct lb_table *t, size_t c, const uint8_t *mask, struct levels *lv,
		     struct lb_errmsg *em)
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
			if (in_mask(mask, r) && !isnan(col->v[r]))
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
		return lb_errf(em, LB_EINVALID, "column '%s' has more than %d distinct values (the most a table can have)",
			       col->name, MAX_LEVELS);
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

/* Level names as labels, each over every row of the table having the level (so a rare level's
 * name is suppressed whatever the filter). */
static int level_labels(struct xprov *P, const struct lb_table *t, size_t c, const struct levels *lv,
			json_t **out)
{
	const struct lb_table_col *col = &t->cols[c];
	json_t *a = json_array();
	size_t *key = lb_malloc((t->nrows ? t->nrows : 1) * sizeof *key);
	uint32_t *ids = lb_malloc((lv->n ? lv->n : 1) * sizeof *ids);
	int rc = LB_ENOMEM;
	if (!a || !key || !ids)
		goto out;
	for (size_t r = 0; r < t->nrows; r++) {
		double x = col->v[r];
		key[r] = lv->n;
		if (isnan(x))
			continue;
		size_t i = level_index(col, lv, x);
		if (i < lv->n && (col->kind == LB_COL_CATEGORICAL || lv->num[i] == x))
			key[r] = i;
	}
	if ((rc = bucket_sets(P, key, t->nrows, lv->n, ids)))
		goto out;
	for (size_t i = 0; i < lv->n; i++) {
		double want = col->kind == LB_COL_CATEGORICAL ? (double)i : lv->num[i];
		json_t *ph = xprov_label(P, col->kind == LB_COL_CATEGORICAL ? col->levels[i] : NULL, want, ids[i]);
		if (!ph) {
			rc = LB_ENOMEM;
			goto out;
		}
		json_array_append_new(a, ph);
	}
	*out = a;
	a = NULL;
out:
	json_decref(a);
	lb_free(key);
	lb_free(ids);
	return rc;
}

int xagg_crosstab(struct xprov *P, const struct lb_table *t, size_t ac, size_t bc,
		  const uint8_t *mask, json_t **out, struct lb_errmsg *em)
{
	struct levels lr, lc;
	int rc;
	if ((rc = levels_of(t, ac, mask, &lr, em)))
		return rc;
	if ((rc = levels_of(t, bc, mask, &lc, em))) {
		lb_free(lr.num);
		return rc;
	}
	const struct lb_table_col *a = &t->cols[ac], *b = &t->cols[bc];
	size_t ncell = lr.n * lc.n;
	if (ncell > MAX_CELLS) {
		lb_free(lr.num);
		lb_free(lc.num);
		return lb_errf(em, LB_EINVALID, "a table of '%s' by '%s' would have more than %d cells", a->name, b->name,
			       MAX_CELLS);
	}
	uint32_t *cell_set = lb_malloc((ncell + lr.n + lc.n + 1) * sizeof *cell_set);
	size_t *key2 = lb_malloc((t->nrows + lc.n + 1) * sizeof *key2);
	size_t *cell_of = lb_malloc((t->nrows ? t->nrows : 1) * sizeof *cell_of);
	size_t *cnt = lb_calloc(ncell + 1, sizeof *cnt);
	uint8_t *m = lb_malloc(t->nrows ? t->nrows : 1);
	json_t *o = NULL;
	rc = LB_ENOMEM;
	if (!cell_of || !cnt || !m || !cell_set || !key2)
		goto done;
	size_t n = 0;
	for (size_t r = 0; r < t->nrows; r++) {
		cell_of[r] = ncell;
		if (!in_mask(mask, r) || isnan(a->v[r]) || isnan(b->v[r]))
			continue;
		cell_of[r] = level_index(a, &lr, a->v[r]) * lc.n + level_index(b, &lc, b->v[r]);
		cnt[cell_of[r]]++;
		n++;
	}
	/* the sets: cells, then row and column margins */
	uint32_t *row_set = cell_set + ncell, *col_set = row_set + lr.n;
	if ((rc = bucket_sets(P, cell_of, t->nrows, ncell, cell_set)))
		goto done;
	for (size_t r = 0; r < t->nrows; r++)
		key2[r] = cell_of[r] < ncell ? cell_of[r] / lc.n : lr.n;
	if ((rc = bucket_sets(P, key2, t->nrows, lr.n, row_set)))
		goto done;
	for (size_t r = 0; r < t->nrows; r++)
		key2[r] = cell_of[r] < ncell ? cell_of[r] % lc.n : lc.n;
	if ((rc = bucket_sets(P, key2, t->nrows, lc.n, col_set)))
		goto done;
	rc = LB_ENOMEM;
	char *colkey;
	size_t two[2] = {ac, bc};
	if (!(colkey = xprov_colkey(t, two, 2)))
		goto done;
	o = json_object();
	json_t *mat = json_array(), *rt = json_array(), *ct = json_array(), *rl = NULL, *cl = NULL;
	json_object_set_new(o, "counts", mat);
	json_object_set_new(o, "row_counts", rt);
	json_object_set_new(o, "col_counts", ct);
	json_object_set_new(o, "rows", json_string(a->name));
	json_object_set_new(o, "cols", json_string(b->name));
	uint32_t set;
	size_t id;
	json_t *ph;
	uint32_t g0 = P->ngroups + 1; /* rows g0 .. g0+lr.n-1, columns after, margins last */
	for (size_t i = 0; i < lr.n + lc.n + 2; i++)
		xprov_group(P);
	uint32_t gr_margin = g0 + (uint32_t)(lr.n + lc.n), gc_margin = gr_margin + 1;
	for (size_t i = 0; i < lr.n; i++) {
		json_t *row = json_array();
		json_array_append_new(mat, row);
		for (size_t j = 0; j < lc.n; j++) {
			set = cell_set[i * lc.n + j];
			if (!(ph = xprov_num(P, LB_PROV_COUNT, "", "", set, (double)cnt[i * lc.n + j], true, &id)))
				goto nomem;
			xprov_in_group(P, id, g0 + (uint32_t)i, g0 + (uint32_t)(lr.n + j));
			json_array_append_new(row, ph);
		}
	}
	double chi2 = 0;
	size_t *colsum = key2; /* reuse: column totals */
	for (size_t j = 0; j < lc.n; j++)
		colsum[j] = 0;
	for (size_t i = 0; i < lr.n; i++)
		for (size_t j = 0; j < lc.n; j++)
			colsum[j] += cnt[i * lc.n + j];
	for (size_t i = 0; i < lr.n; i++) {
		size_t rs = 0;
		for (size_t j = 0; j < lc.n; j++)
			rs += cnt[i * lc.n + j];
		set = row_set[i];
		if (!(ph = xprov_num(P, LB_PROV_COUNT, "", "", set, (double)rs, true, &id)))
			goto nomem;
		xprov_in_group(P, id, gr_margin, 0);
		json_array_append_new(rt, ph);
		for (size_t j = 0; j < lc.n && n > 0; j++) {
			double e = (double)rs * (double)colsum[j] / (double)n;
			if (e > 0)
				chi2 += ((double)cnt[i * lc.n + j] - e) * ((double)cnt[i * lc.n + j] - e) / e;
		}
	}
	for (size_t j = 0; j < lc.n; j++) {
		size_t cs = colsum[j];
		set = col_set[j];
		if (!(ph = xprov_num(P, LB_PROV_COUNT, "", "", set, (double)cs, true, &id)))
			goto nomem;
		xprov_in_group(P, id, gc_margin, 0);
		json_array_append_new(ct, ph);
	}
	for (size_t r = 0; r < t->nrows; r++)
		m[r] = cell_of[r] < ncell;
	if ((rc = xprov_set_mask(P, m, &set)))
		goto fail;
	if (!(ph = xprov_num(P, LB_PROV_COUNT, "", "", set, (double)n, false, NULL)))
		goto nomem;
	json_object_set_new(o, "n", ph);
	if (!(ph = xprov_num(P, LB_PROV_STAT, colkey, colkey, set, chi2, false, NULL)))
		goto nomem;
	json_object_set_new(o, "chi2", ph);
	if (!(ph = xprov_num(P, LB_PROV_STAT, colkey, colkey, set,
			     (double)((lr.n ? lr.n - 1 : 0) * (lc.n ? lc.n - 1 : 0)), false, NULL)))
		goto nomem;
	json_object_set_new(o, "df", ph);
	if ((rc = level_labels(P, t, ac, &lr, &rl)))
		goto fail;
	json_object_set_new(o, "row_levels", rl);
	if ((rc = level_labels(P, t, bc, &lc, &cl)))
		goto fail;
	json_object_set_new(o, "col_levels", cl);
	*out = o;
	o = NULL;
	rc = LB_OK;
	goto fail;
nomem:
	rc = LB_ENOMEM;
fail:
	lb_free(colkey);
done:
	json_decref(o);
	lb_free(cell_set);
	lb_free(key2);
	lb_free(cell_of);
	lb_free(cnt);
	lb_free(m);
	lb_free(lr.num);
	lb_free(lc.num);
	return rc;
}

/* ---- stats ----------------------------------------------------------------------------------- */

static int count_over(struct xprov *P, const struct lb_table *t, const uint8_t *m, bool suppressible,
		      json_t **ph, uint32_t group)
{
	uint32_t set;
	size_t n = 0;
	for (size_t r = 0; r < t->nrows; r++)
		n += m[r] != 0;
	int rc = xprov_set_mask(P, m, &set);
	if (rc)
		return rc;
	size_t id;
	*ph = xprov_num(P, LB_PROV_COUNT, "", "", set, (double)n, suppressible, &id);
	if (*ph && group)
		xprov_in_group(P, id, group, 0);
	return *ph ? LB_OK : LB_ENOMEM;
}

static int stats_impl(struct xprov *P, const struct lb_table *t, const json_t *params,
		      const struct lb_algo_ctx *ctx, json_t **result, struct lb_errmsg *em)
{
	static const char *const ok[] = {"columns", "bins", "range", "ranges", NULL};
	(void)ctx;
	size_t *cols = NULL, ncols = 0;
	double bins, lo = 0, hi = 0;
	bool have_range = false;
	json_t *ranges = params ? json_object_get(params, "ranges") : NULL;
	if (ranges && !json_is_object(ranges))
		return lb_errf(em, LB_EINVALID, "parameter 'ranges' must be an object {\"column\": [low, high]}");
	int rc;
	if ((rc = xparam_only(params, ok, em)) || (rc = xparam_num(params, "bins", 0, 0, MAX_BINS, &bins, em)))
		return rc;
	if (bins != floor(bins))
		return lb_errf(em, LB_EINVALID, "parameter 'bins' must be a whole number");
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
	} else if (bins > 0 && !ranges) {
		return lb_errf(em, LB_EINVALID,
			       "parameter 'range' [low, high] is required with 'bins': a histogram's range never "
			       "comes from the data (its minimum and maximum are single records' values)");
	}
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
	double *edges = NULL;
	uint8_t *m = lb_malloc(t->nrows ? t->nrows : 1);
	json_t *out = json_object(), *arr = json_array(), *ph;
	rc = LB_ENOMEM;
	if (!m || !out || !arr)
		goto fail;
	json_object_set_new(out, "algorithm", json_string("stats"));
	json_object_set_new(out, "columns", arr);
	memset(m, 1, t->nrows);
	if ((rc = count_over(P, t, m, false, &ph, 0)))
		goto fail;
	json_object_set_new(out, "n", ph);
	if (bins > 0) {
		edges = lb_malloc(((size_t)bins + 1) * sizeof *edges);
		if (!edges)
			goto fail;
	}
	for (size_t i = 0; i < ncols; i++) {
		const struct lb_table_col *col = &t->cols[cols[i]];
		json_t *o = json_object();
		json_array_append_new(arr, o);
		json_object_set_new(o, "name", json_string(col->name));
		json_object_set_new(o, "type", json_string(col->kind == LB_COL_CATEGORICAL ? "categorical" : "numeric"));
		/* missing and present make up the table: a few missing suppress both (else the table's
		 * n minus the column's would give them) */
		uint32_t mgrp = xprov_group(P);
		for (size_t r = 0; r < t->nrows; r++)
			m[r] = isnan(col->v[r]);
		if ((rc = count_over(P, t, m, true, &ph, mgrp)))
			goto fail;
		json_object_set_new(o, "missing", ph);
		for (size_t r = 0; r < t->nrows; r++)
			m[r] = !isnan(col->v[r]);
		if ((rc = count_over(P, t, m, true, &ph, mgrp)))
			goto fail;
		json_object_set_new(o, "n", ph);
		if (col->kind == LB_COL_CATEGORICAL) {
			struct levels lv = {.n = col->nlevels};
			json_t *names, *ct = json_array();
			json_object_set_new(o, "counts", ct);
			if ((rc = level_labels(P, t, cols[i], &lv, &names)))
				goto fail;
			json_object_set_new(o, "levels", names);
			uint32_t grp = xprov_group(P);
			for (size_t l = 0; l < col->nlevels; l++) {
				for (size_t r = 0; r < t->nrows; r++)
					m[r] = col->v[r] == (double)l;
				if ((rc = count_over(P, t, m, true, &ph, grp)))
					goto fail;
				json_array_append_new(ct, ph);
			}
			continue;
		}
		static const enum lb_prov_kind kinds[2] = {LB_PROV_MEAN, LB_PROV_SD};
		static const char *const names[2] = {"mean", "sd"};
		for (int k = 0; k < 2; k++) {
			if ((rc = xagg_scalar(P, t, kinds[k], (long)cols[i], NULL, &ph, NULL, em)))
				goto fail;
			json_object_set_new(o, names[k], ph);
		}
		if (bins > 0) {
			/* the column's own range (the policy's bounds), else the common one */
			json_t *cr = ranges ? json_object_get(ranges, col->name) : NULL;
			double l = lo, hgh = hi;
			if (cr) {
				if (!json_is_array(cr) || json_array_size(cr) != 2 || !json_is_number(json_array_get(cr, 0)) ||
				    !json_is_number(json_array_get(cr, 1)) ||
				    !(json_number_value(json_array_get(cr, 0)) < json_number_value(json_array_get(cr, 1)))) {
					rc = lb_errf(em, LB_EINVALID, "parameter 'ranges': '%s' must be [low, high] with low < high",
						     col->name);
					goto fail;
				}
				l = json_number_value(json_array_get(cr, 0));
				hgh = json_number_value(json_array_get(cr, 1));
			} else if (!have_range) {
				rc = lb_errf(em, LB_EINVALID,
					     "column '%s' has no histogram range (parameter 'range', or its bounds in the "
					     "policy): a range never comes from the data",
					     col->name);
				goto fail;
			}
			for (size_t b = 0; b <= (size_t)bins; b++)
				edges[b] = l + (hgh - l) * (double)b / bins;
			json_t *h;
			if ((rc = xagg_hist(P, t, cols[i], edges, (size_t)bins + 1, NULL, &h, em)))
				goto fail;
			json_object_del(h, "column");
			json_object_del(h, "n");
			json_object_set_new(o, "histogram", h);
		}
	}
	lb_free(cols);
	lb_free(edges);
	lb_free(m);
	*result = out;
	return LB_OK;
fail:
	lb_free(cols);
	lb_free(edges);
	lb_free(m);
	json_decref(out);
	return rc;
}

int xalgo_stats(const struct lb_table *t, const json_t *params, const struct lb_algo_ctx *ctx,
		json_t **result, struct lb_errmsg *em)
{
	return xprov_run(stats_impl, t, params, ctx, result, em);
}

static int crosstab_impl(struct xprov *P, const struct lb_table *t, const json_t *params,
			 const struct lb_algo_ctx *ctx, json_t **result, struct lb_errmsg *em)
{
	static const char *const ok[] = {"rows", "cols", NULL};
	(void)ctx;
	size_t a, b;
	int rc;
	if ((rc = xparam_only(params, ok, em)) || (rc = xparam_col(t, params, "rows", false, &a, em)) ||
	    (rc = xparam_col(t, params, "cols", false, &b, em)))
		return rc;
	json_t *o;
	if ((rc = xagg_crosstab(P, t, a, b, NULL, &o, em)))
		return rc;
	json_object_set_new(o, "algorithm", json_string("crosstab"));
	*result = o;
	return LB_OK;
}

int xalgo_crosstab(const struct lb_table *t, const json_t *params, const struct lb_algo_ctx *ctx,
		   json_t **result, struct lb_errmsg *em)
{
	return xprov_run(crosstab_impl, t, params, ctx, result, em);
}
