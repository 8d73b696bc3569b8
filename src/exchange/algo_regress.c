/*
 * Linear and logistic regression, and the dense linear algebra they share. Linear: ordinary
 * least squares on the complete rows, by Cholesky on the normal equations, with classical
 * standard errors and R². Logistic: minimises sum_i [log(1 + exp(eta_i)) - y_i eta_i] +
 * ||w||² / (2C) over the non-intercept weights (scikit-learn's L2 objective) by Newton steps; the
 * local sums of one step (gradient, Hessian, loss) are exactly what the federated fit adds up
 * across owners.
 */
#include <math.h>
#include <string.h>

#include "exchange/exchange_int.h"
#include "leben/base.h"

int xlin_solve_spd(double *A, double *b, size_t p, double *inv, struct lb_errmsg *em)
{
	/* in-place Cholesky: lower triangle of A becomes L */
	for (size_t j = 0; j < p; j++) {
		double s = A[j * p + j];
		for (size_t k = 0; k < j; k++)
			s -= A[j * p + k] * A[j * p + k];
		if (!(s > 1e-300))
			return lb_errf(em, LB_EINVALID,
				       "the system is singular (collinear or constant columns, or too few rows)");
		double d = sqrt(s);
		A[j * p + j] = d;
		for (size_t i = j + 1; i < p; i++) {
			double v = A[i * p + j];
			for (size_t k = 0; k < j; k++)
				v -= A[i * p + k] * A[j * p + k];
			A[i * p + j] = v / d;
		}
	}
	/* L y = b, L^T x = y */
	for (size_t i = 0; i < p; i++) {
		double v = b[i];
		for (size_t k = 0; k < i; k++)
			v -= A[i * p + k] * b[k];
		b[i] = v / A[i * p + i];
	}
	for (size_t i = p; i-- > 0;) {
		double v = b[i];
		for (size_t k = i + 1; k < p; k++)
			v -= A[k * p + i] * b[k];
		b[i] = v / A[i * p + i];
	}
	if (inv) {
		/* columns of A^-1 by the same two solves on unit vectors */
		for (size_t c = 0; c < p; c++) {
			double *e = inv + c * p; /* column c stored as row c (symmetric result) */
			for (size_t i = 0; i < p; i++)
				e[i] = i == c ? 1.0 : 0.0;
			for (size_t i = 0; i < p; i++) {
				double v = e[i];
				for (size_t k = 0; k < i; k++)
					v -= A[i * p + k] * e[k];
				e[i] = v / A[i * p + i];
			}
			for (size_t i = p; i-- > 0;) {
				double v = e[i];
				for (size_t k = i + 1; k < p; k++)
					v -= A[k * p + i] * e[k];
				e[i] = v / A[i * p + i];
			}
		}
	}
	return LB_OK;
}

static bool row_complete(const struct lb_table *t, const size_t *xcols, size_t p, size_t ycol,
			 size_t r)
{
	if (isnan(t->cols[ycol].v[r]))
		return false;
	for (size_t j = 0; j < p; j++)
		if (isnan(t->cols[xcols[j]].v[r]))
			return false;
	return true;
}

/* Coefficients as placeholders: an object by name and an array, over the same cells. */
static int coef_cells(struct xprov *P, const struct lb_table *t, const size_t *xcols, size_t p,
		      const double *w, const char *colkey, uint32_t set, json_t **obj, json_t **arr)
{
	*obj = json_object();
	*arr = json_array();
	for (size_t j = 0; j <= p; j++) {
		size_t id;
		json_t *ph = xprov_num(P, LB_PROV_STAT, colkey, colkey, set, w[j], false, &id);
		if (!ph)
			return LB_ENOMEM;
		json_object_set_new(*obj, j == 0 ? "(intercept)" : t->cols[xcols[j - 1]].name, ph);
		json_array_append_new(*arr, json_deep_copy(ph));
	}
	return LB_OK;
}

static json_t *stat_array(struct xprov *P, const double *v, size_t n, const char *colkey, uint32_t set)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *ph = xprov_num(P, LB_PROV_STAT, colkey, colkey, set, v[i], false, NULL);
		if (!ph) {
			json_decref(a);
			return NULL;
		}
		json_array_append_new(a, ph);
	}
	return a;
}

int xagg_linreg(struct xprov *P, const struct lb_table *t, size_t ycol, const size_t *xcols, size_t p,
		const uint8_t *mask, json_t **result, struct lb_errmsg *em)
{
	size_t q = p + 1;
	int rc;
	for (size_t j = 0; j < p; j++)
		if (t->cols[xcols[j]].kind != LB_COL_NUMERIC)
			return lb_errf(em, LB_EINVALID, "linear regression: column '%s' is not numeric",
				       t->cols[xcols[j]].name);
	if (t->cols[ycol].kind != LB_COL_NUMERIC)
		return lb_errf(em, LB_EINVALID, "linear regression: column '%s' is not numeric", t->cols[ycol].name);
	double *A = lb_calloc(q * q, sizeof *A), *b = lb_calloc(q, sizeof *b),
	       *inv = lb_calloc(q * q, sizeof *inv), *x = lb_calloc(q, sizeof *x);
	uint8_t *m = lb_malloc(t->nrows ? t->nrows : 1);
	size_t *all = lb_malloc((p + 1) * sizeof *all);
	char *colkey = NULL;
	double *xty = NULL;
	if (!A || !b || !inv || !x || !m || !all) {
		rc = LB_ENOMEM;
		goto out;
	}
	memcpy(all, xcols, p * sizeof *all);
	all[p] = ycol;
	if (!(colkey = xprov_colkey(t, all, p + 1))) {
		rc = LB_ENOMEM;
		goto out;
	}
	size_t n = 0;
	double sy = 0, syy = 0;
	for (size_t r = 0; r < t->nrows; r++) {
		m[r] = (!mask || mask[r]) && row_complete(t, xcols, p, ycol, r);
		if (!m[r])
			continue;
		x[0] = 1;
		for (size_t j = 0; j < p; j++)
			x[j + 1] = t->cols[xcols[j]].v[r];
		double y = t->cols[ycol].v[r];
		for (size_t i = 0; i < q; i++) {
			b[i] += x[i] * y;
			for (size_t k = 0; k <= i; k++)
				A[i * q + k] += x[i] * x[k];
		}
		sy += y;
		syy += y * y;
		n++;
	}
	if (n <= q) {
		rc = lb_errf(em, LB_EINVALID, "linear regression needs more complete rows than coefficients (%zu)", q);
		goto out;
	}
	for (size_t i = 0; i < q; i++)
		for (size_t k = i + 1; k < q; k++)
			A[i * q + k] = A[k * q + i];
	xty = lb_malloc(q * sizeof *xty);
	if (!xty) {
		rc = LB_ENOMEM;
		goto out;
	}
	memcpy(xty, b, q * sizeof *b);
	if ((rc = xlin_solve_spd(A, b, q, inv, em)))
		goto out;
	/* RSS = y'y - 2 b'X'y + b'X'X b = y'y - b'X'y at the solution */
	double bxty = 0;
	for (size_t i = 0; i < q; i++)
		bxty += b[i] * xty[i];
	double rss = syy - bxty;
	if (rss < 0)
		rss = 0;
	double tss = syy - sy * sy / (double)n;
	double sigma2 = rss / (double)(n - q);
	double *se = x; /* reuse */
	for (size_t i = 0; i < q; i++)
		se[i] = sqrt(sigma2 * inv[i * q + i]);
	uint32_t set;
	if ((rc = xprov_set_mask(P, m, &set)))
		goto out;
	json_t *out = json_object(), *co, *ca, *ph;
	*result = out;
	rc = LB_ENOMEM;
	json_object_set_new(out, "y", json_string(t->cols[ycol].name));
	json_t *xn = json_array();
	for (size_t j = 0; j < p; j++)
		json_array_append_new(xn, json_string(t->cols[xcols[j]].name));
	json_object_set_new(out, "x", xn);
	if (!(ph = xprov_num(P, LB_PROV_COUNT, "", "", set, (double)n, false, NULL)))
		goto fail;
	json_object_set_new(out, "n", ph);
	if (coef_cells(P, t, xcols, p, b, colkey, set, &co, &ca)) {
		json_decref(co);
		json_decref(ca);
		goto fail;
	}
	json_object_set_new(out, "coefficients", co);
	json_object_set_new(out, "coef", ca);
	json_t *sa = stat_array(P, se, q, colkey, set);
	if (!sa)
		goto fail;
	json_object_set_new(out, "se", sa);
	if (!(ph = xprov_num(P, LB_PROV_STAT, colkey, colkey, set, tss > 0 ? 1 - rss / tss : NAN, false, NULL)))
		goto fail;
	json_object_set_new(out, "r2", ph);
	if (!(ph = xprov_num(P, LB_PROV_STAT, colkey, colkey, set, sqrt(sigma2), false, NULL)))
		goto fail;
	json_object_set_new(out, "sigma", ph);
	rc = LB_OK;
	goto out;
fail:
	json_decref(out);
	*result = NULL;
out:
	lb_free(A);
	lb_free(b);
	lb_free(inv);
	lb_free(x);
	lb_free(m);
	lb_free(all);
	lb_free(colkey);
	lb_free(xty);
	return rc;
}

static int linreg_impl(struct xprov *P, const struct lb_table *t, const json_t *params,
		       const struct lb_algo_ctx *ctx, json_t **result, struct lb_errmsg *em)
{
	static const char *const ok[] = {"y", "x", NULL};
	(void)ctx;
	size_t ycol, *xcols = NULL, p;
	int rc;
	if ((rc = xparam_only(params, ok, em)) || (rc = xparam_col(t, params, "y", true, &ycol, em)) ||
	    (rc = xparam_cols(t, params, "x", false, &xcols, &p, em)))
		return rc;
	rc = xagg_linreg(P, t, ycol, xcols, p, NULL, result, em);
	lb_free(xcols);
	if (rc == LB_OK)
		json_object_set_new(*result, "algorithm", json_string("linreg"));
	return rc;
}

int xalgo_linreg(const struct lb_table *t, const json_t *params, const struct lb_algo_ctx *ctx,
		 json_t **result, struct lb_errmsg *em)
{
	return xprov_run(linreg_impl, t, params, ctx, result, em);
}

/* ---- logistic regression ---------------------------------------------------------------------- */

size_t xlogreg_partial_len(size_t p)
{
	size_t q = p + 1;
	return q + q * (q + 1) / 2 + 3;
}

int xlogreg_partial(const struct lb_table *t, const struct xlogreg_design *d, const double *w,
		    double *out, struct lb_errmsg *em)
{
	size_t p = d->p, q = p + 1;
	size_t len = xlogreg_partial_len(p);
	memset(out, 0, len * sizeof *out);
	double *g = out, *h = out + q, *tail = out + q + q * (q + 1) / 2;
	double xv[LB_TABLE_MAX_COLS + 1];
	if (p > LB_TABLE_MAX_COLS)
		return lb_errf(em, LB_EINVALID, "too many columns");
	for (size_t r = 0; r < t->nrows; r++) {
		if (!row_complete(t, d->xcols, p, d->ycol, r))
			continue;
		double y = t->cols[d->ycol].v[r];
		if (y != 0 && y != 1)
			return lb_errf(em, LB_EINVALID, "outcome column '%s' has a value other than 0 or 1", t->cols[d->ycol].name);
		xv[0] = 1;
		double eta = w[0];
		for (size_t j = 0; j < p; j++) {
			xv[j + 1] = (t->cols[d->xcols[j]].v[r] - d->mean[j]) / d->scale[j];
			eta += w[j + 1] * xv[j + 1];
		}
		double mu = 1.0 / (1.0 + exp(-eta));
		double wt = mu * (1 - mu);
		for (size_t i = 0; i < q; i++) {
			g[i] += (mu - y) * xv[i];
			double *hi = h + i * (2 * q - i + 1) / 2 - i; /* row i of the upper triangle, from col i */
			for (size_t k = i; k < q; k++)
				hi[k] += wt * xv[i] * xv[k];
		}
		tail[0] += (eta > 0 ? eta + log1p(exp(-eta)) : log1p(exp(eta))) - y * eta;
		tail[1] += 1;
		tail[2] += ((eta >= 0) == (y == 1)) ? 1 : 0;
	}
	return LB_OK;
}

int xlogreg_newton(const double *sum, size_t p, double C, double *w, double *delta, double *loss,
		   struct lb_errmsg *em)
{
	size_t q = p + 1;
	double *H = lb_malloc(q * q * sizeof *H), *g = lb_malloc(q * sizeof *g);
	if (!H || !g) {
		lb_free(H);
		lb_free(g);
		return LB_ENOMEM;
	}
	const double *h = sum + q;
	double pen = 0;
	for (size_t i = 0; i < q; i++) {
		g[i] = sum[i] + (C > 0 && i > 0 ? w[i] / C : 0);
		const double *hi = h + i * (2 * q - i + 1) / 2 - i;
		for (size_t k = i; k < q; k++)
			H[i * q + k] = H[k * q + i] = hi[k];
		if (C > 0 && i > 0) {
			H[i * q + i] += 1 / C;
			pen += w[i] * w[i] / (2 * C);
		}
	}
	*loss = sum[q + q * (q + 1) / 2] + pen;
	int rc = xlin_solve_spd(H, g, q, NULL, em);
	if (rc == LB_OK) {
		double md = 0;
		for (size_t i = 0; i < q; i++) {
			w[i] -= g[i];
			if (fabs(g[i]) > md)
				md = fabs(g[i]);
		}
		*delta = md;
	}
	lb_free(H);
	lb_free(g);
	return rc;
}

static int logreg_impl(struct xprov *P, const struct lb_table *t, const json_t *params,
		       const struct lb_algo_ctx *ctx, json_t **result, struct lb_errmsg *em)
{
	static const char *const ok[] = {"y", "x", "C", "standardize", "max_iter", "tol", NULL};
	(void)ctx;
	size_t ycol, *xcols = NULL, p;
	double C, max_iter, tol;
	bool stdz;
	int rc;
	if ((rc = xparam_only(params, ok, em)) || (rc = xparam_col(t, params, "y", true, &ycol, em)) ||
	    (rc = xparam_num(params, "C", 1.0, 0, 1e12, &C, em)) ||
	    (rc = xparam_bool(params, "standardize", false, &stdz, em)) ||
	    (rc = xparam_num(params, "max_iter", 100, 1, 10000, &max_iter, em)) ||
	    (rc = xparam_num(params, "tol", 1e-10, 0, 1, &tol, em)) ||
	    (rc = xparam_cols(t, params, "x", false, &xcols, &p, em)))
		return rc;
	size_t q = p + 1, len = xlogreg_partial_len(p);
	double *mean = lb_calloc(p, sizeof *mean), *scale = lb_calloc(p, sizeof *scale),
	       *w = lb_calloc(q, sizeof *w), *part = lb_calloc(len, sizeof *part);
	if (!mean || !scale || !w || !part) {
		rc = LB_ENOMEM;
		goto out;
	}
	size_t n = 0;
	for (size_t j = 0; j < p; j++)
		scale[j] = 1;
	if (stdz) {
		double *s2 = part; /* scratch: sums of squares */
		for (size_t r = 0; r < t->nrows; r++) {
			if (!row_complete(t, xcols, p, ycol, r))
				continue;
			n++;
			for (size_t j = 0; j < p; j++) {
				double x = t->cols[xcols[j]].v[r];
				double dlt = x - mean[j];
				mean[j] += dlt / (double)n;
				s2[j] += dlt * (x - mean[j]);
			}
		}
		for (size_t j = 0; j < p; j++) {
			scale[j] = n ? sqrt(s2[j] / (double)n) : 1; /* population sd, as StandardScaler */
			if (!(scale[j] > 0))
				scale[j] = 1;
		}
	}
	struct xlogreg_design d = {.p = p, .xcols = xcols, .ycol = ycol, .mean = mean, .scale = scale};
	unsigned it = 0;
	bool converged = false;
	double loss = NAN, delta = 0;
	while (it < (unsigned)max_iter) {
		if ((rc = xlogreg_partial(t, &d, w, part, em)))
			goto out;
		if (part[len - 2] < 1) {
			rc = lb_errf(em, LB_EINVALID, "logistic regression: no complete rows");
			goto out;
		}
		if ((rc = xlogreg_newton(part, p, C, w, &delta, &loss, em)))
			goto out;
		it++;
		if (delta <= tol) {
			converged = true;
			break;
		}
	}
	/* final partial at the fitted weights: loss and accuracy */
	if ((rc = xlogreg_partial(t, &d, w, part, em)))
		goto out;
	uint8_t *m = lb_malloc(t->nrows ? t->nrows : 1);
	size_t *allc = lb_malloc((p + 1) * sizeof *allc);
	char *colkey = NULL;
	uint32_t set = 0;
	if (m && allc) {
		for (size_t r = 0; r < t->nrows; r++)
			m[r] = row_complete(t, xcols, p, ycol, r);
		memcpy(allc, xcols, p * sizeof *allc);
		allc[p] = ycol;
		colkey = xprov_colkey(t, allc, p + 1);
	}
	rc = m && allc && colkey ? xprov_set_mask(P, m, &set) : LB_ENOMEM;
	lb_free(m);
	lb_free(allc);
	json_t *o = rc ? NULL : json_object(), *co = NULL, *ca = NULL, *ph;
	if (!o || (rc = coef_cells(P, t, xcols, p, w, colkey, set, &co, &ca))) {
		json_decref(co);
		json_decref(ca);
		json_decref(o);
		lb_free(colkey);
		rc = rc ? rc : LB_ENOMEM;
		goto out;
	}
	json_object_set_new(o, "algorithm", json_string("logreg"));
	json_object_set_new(o, "n", xprov_num(P, LB_PROV_COUNT, "", "", set, part[len - 2], false, NULL));
	json_object_set_new(o, "y", json_string(t->cols[ycol].name));
	json_object_set_new(o, "coefficients", co);
	json_object_set_new(o, "coef", ca);
	json_object_set_new(o, "accuracy", xprov_num(P, LB_PROV_STAT, colkey, colkey, set,
						     part[len - 1] / part[len - 2], false, NULL));
	json_object_set_new(o, "log_loss", xprov_num(P, LB_PROV_STAT, colkey, colkey, set,
						     part[len - 3] / part[len - 2], false, NULL));
	json_object_set_new(o, "iterations", json_integer(it));
	json_object_set_new(o, "converged", json_boolean(converged));
	json_object_set_new(o, "C", xjson_num(C));
	if (stdz) {
		json_t *s = json_object();
		json_object_set_new(s, "mean", (ph = stat_array(P, mean, p, colkey, set)) ? ph : json_null());
		json_object_set_new(s, "scale", (ph = stat_array(P, scale, p, colkey, set)) ? ph : json_null());
		json_object_set_new(o, "standardization", s);
	}
	lb_free(colkey);
	*result = o;
	rc = LB_OK;
out:
	lb_free(mean);
	lb_free(scale);
	lb_free(w);
	lb_free(part);
	lb_free(xcols);
	return rc;
}

int xalgo_logreg(const struct lb_table *t, const json_t *params, const struct lb_algo_ctx *ctx,
		 json_t **result, struct lb_errmsg *em)
{
	return xprov_run(logreg_impl, t, params, ctx, result, em);
}
