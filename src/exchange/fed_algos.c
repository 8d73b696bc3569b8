/*
 * Federated algorithms: the user's algorithm split into local steps at each owner whose partial
 * vectors are combined by lb_fed_sum (secure aggregation), with the coordinator's step between
 * rounds. stats: round 1 sums (n, sum x, histogram counts) per column, round 2 sums of squared
 * deviations from the pooled mean (numerically as stable as the central two-pass). logreg:
 * optional standardisation rounds as stats (population sd, as scikit-learn's StandardScaler),
 * then Newton rounds each summing the owners' gradient, Hessian and loss at the current
 * weights, then one round for accuracy. km: one round summing per-grid-time event and
 * censoring counts; the curve follows from the sums exactly as in the central algorithm.
 */
#include <math.h>
#include <string.h>

#include "exchange/exchange_int.h"
#include "leben/base.h"
#include "leben/sandbox.h"

/* Columns named in params at every owner: indices per owner (cols[o*p + j]). */
static int fed_cols(const struct lb_fed_owner *ow, size_t n, const json_t *params, const char *key,
		    bool all_default, size_t **cols, size_t *p, struct lb_errmsg *em)
{
	size_t *first = NULL, p0;
	int rc = xparam_cols(ow[0].table, params, key, all_default, &first, &p0, em);
	if (rc)
		return lb_errwrap(em, "owner %s", ow[0].name);
	size_t *all = lb_malloc((n * p0 != 0 ? n * p0 : 1) * sizeof *all);
	if (!all) {
		lb_free(first);
		return LB_ENOMEM;
	}
	for (size_t o = 0; o < n; o++)
		for (size_t j = 0; j < p0; j++) {
			const char *name = ow[0].table->cols[first[j]].name;
			long c = lb_table_find(ow[o].table, name);
			if (c < 0 || ow[o].table->cols[c].kind != LB_COL_NUMERIC) {
				lb_free(first);
				lb_free(all);
				return lb_errf(em, LB_EINVALID, "owner %s has no numeric column '%s'", ow[o].name, name);
			}
			all[o * p0 + j] = (size_t)c;
		}
	lb_free(first);
	*cols = all;
	*p = p0;
	return LB_OK;
}

/* Run one round: partial(o, buf) at each owner, then the (secure) sum. */
typedef int (*partial_fn)(void *arg, size_t o, double *out, struct lb_errmsg *em);

/* One owner's local step inside a sandbox: the partial vector comes back as JSON numbers
 * printed with 17 significant digits, so it round-trips exactly. */
struct jailed_step {
	partial_fn fn;  /* the local step */
	void *arg;      /* its argument */
	size_t owner;   /* which owner */
	size_t len;     /* values */
};

static int jailed_partial(void *arg, const struct lb_sandbox_env *env, json_t **result,
			  struct lb_errmsg *em)
{
	(void)env;
	const struct jailed_step *js = arg;
	double *v = lb_calloc(js->len ? js->len : 1, sizeof *v);
	if (!v)
		return LB_ENOMEM;
	int rc = js->fn(js->arg, js->owner, v, em);
	if (rc == LB_OK) {
		json_t *a = json_array();
		for (size_t i = 0; i < js->len; i++)
			json_array_append_new(a, json_real(v[i]));
		*result = json_pack("{so}", "partial", a);
	}
	lb_free(v);
	return rc;
}

static int partial_in_sandbox(partial_fn fn, void *arg, size_t o, size_t len, double *out,
			      struct lb_errmsg *em)
{
	struct jailed_step js = {.fn = fn, .arg = arg, .owner = o, .len = len};
	struct lb_sandbox_job job;
	struct lb_sandbox_report rep;
	memset(&job, 0, sizeof job);
	job.fn = jailed_partial;
	job.fn_arg = &js;
	job.limits.output_bytes = (uint64_t)len * 32 + 1024;
	int rc = lb_sandbox_run(&job, &rep, em);
	if (rc == LB_OK) {
		json_t *a = json_object_get(rep.result, "partial");
		if (json_array_size(a) != len)
			rc = lb_errf(em, LB_EINTERNAL, "the sandbox returned %zu values, %zu expected", json_array_size(a), len);
		for (size_t i = 0; rc == LB_OK && i < len; i++)
			out[i] = json_number_value(json_array_get(a, i));
	}
	lb_sandbox_report_release(&rep);
	return rc;
}

static json_t *step_json(partial_fn fn, const void *arg);

static int round_sum(size_t n, size_t len, partial_fn fn, void *arg, const struct lb_fed_options *opt,
		     double *sum, struct lb_fed_stats *st, struct lb_errmsg *em)
{
	uint64_t t0 = lb_mono_ns();
	if (opt && opt->remote) {
		json_t *step = step_json(fn, arg);
		int rc = step ? opt->remote(opt->remote_arg, step, len, sum, em) : LB_ENOMEM;
		json_decref(step);
		if (st && rc == LB_OK) {
			st->rounds++;
			st->values_summed += len;
			st->aggregate_ns += lb_mono_ns() - t0;
		}
		return rc;
	}
	double **parts = lb_calloc(n, sizeof *parts);
	int rc = parts ? LB_OK : LB_ENOMEM;
	for (size_t o = 0; o < n && rc == LB_OK; o++) {
		parts[o] = lb_calloc(len ? len : 1, sizeof **parts);
		if (!parts[o])
			rc = LB_ENOMEM;
		else if (opt && opt->sandboxed)
			rc = partial_in_sandbox(fn, arg, o, len, parts[o], em);
		else
			rc = fn(arg, o, parts[o], em);
	}
	if (st)
		st->local_ns += lb_mono_ns() - t0;
	if (rc == LB_OK)
		rc = lb_fed_sum((const double *const *)parts, n, len, opt, sum, st, em);
	for (size_t o = 0; parts && o < n; o++)
		lb_free(parts[o]);
	lb_free(parts);
	return rc;
}

/* ---- stats and histograms ---------------------------------------------------------------- */

struct fstats {
	const struct lb_fed_owner *ow;
	const size_t *cols; /* per owner p indices */
	size_t p;           /* columns */
	size_t bins;        /* histogram bins (0 = none) */
	double lo, hi;      /* histogram range */
	const double *mean; /* round 2: pooled means */
	const size_t *ycol; /* logreg: outcome per owner, complete rows over cols + y; NULL = per column */
};

static bool complete(const struct fstats *f, size_t o, size_t r)
{
	const struct lb_table *t = f->ow[o].table;
	if (f->ycol && isnan(t->cols[f->ycol[o]].v[r]))
		return false;
	for (size_t j = 0; f->ycol && j < f->p; j++)
		if (isnan(t->cols[f->cols[o * f->p + j]].v[r]))
			return false;
	return true;
}

/* layout per column: n, sum, bins counts; then total rows */
static int stats_r1(void *arg, size_t o, double *out, struct lb_errmsg *em)
{
	(void)em;
	const struct fstats *f = arg;
	const struct lb_table *t = f->ow[o].table;
	size_t w = 2 + f->bins;
	for (size_t r = 0; r < t->nrows; r++) {
		if (!complete(f, o, r))
			continue;
		for (size_t j = 0; j < f->p; j++) {
			double x = t->cols[f->cols[o * f->p + j]].v[r];
			if (isnan(x))
				continue;
			out[j * w] += 1;
			out[j * w + 1] += x;
			if (f->bins && x >= f->lo && x <= f->hi) {
				size_t b = (size_t)((x - f->lo) / ((f->hi - f->lo) / (double)f->bins));
				out[j * w + 2 + (b >= f->bins ? f->bins - 1 : b)] += 1;
			}
		}
	}
	out[f->p * w] = (double)t->nrows;
	return LB_OK;
}

static int stats_r2(void *arg, size_t o, double *out, struct lb_errmsg *em)
{
	(void)em;
	const struct fstats *f = arg;
	const struct lb_table *t = f->ow[o].table;
	for (size_t r = 0; r < t->nrows; r++) {
		if (!complete(f, o, r))
			continue;
		for (size_t j = 0; j < f->p; j++) {
			double x = t->cols[f->cols[o * f->p + j]].v[r];
			if (!isnan(x))
				out[j] += (x - f->mean[j]) * (x - f->mean[j]);
		}
	}
	return LB_OK;
}

/* Pooled n, mean and sum of squared deviations per column (two rounds). h (may be NULL) receives
 * round 1's sums. */
static int pooled_moments(struct fstats *f, size_t n, const struct lb_fed_options *opt, double *cnt,
			  double *mean, double *ssd, double *r1out, struct lb_fed_stats *st,
			  struct lb_errmsg *em)
{
	size_t w = 2 + f->bins, len1 = f->p * w + 1;
	double *s1 = lb_calloc(len1, sizeof *s1);
	if (!s1)
		return LB_ENOMEM;
	int rc = round_sum(n, len1, stats_r1, f, opt, s1, st, em);
	if (rc == LB_OK) {
		for (size_t j = 0; j < f->p; j++) {
			cnt[j] = round(s1[j * w]);
			mean[j] = cnt[j] > 0 ? s1[j * w + 1] / cnt[j] : NAN;
		}
		f->mean = mean;
		rc = round_sum(n, f->p, stats_r2, f, opt, ssd, st, em);
		if (r1out)
			memcpy(r1out, s1, len1 * sizeof *s1);
	}
	lb_free(s1);
	return rc;
}

static int fed_stats(const struct lb_fed_owner *ow, size_t n, const json_t *params,
		     const struct lb_fed_options *opt, json_t **result, struct lb_fed_stats *st,
		     struct lb_errmsg *em)
{
	static const char *const ok[] = {"columns", "bins", "range", NULL};
	struct fstats f = {.ow = ow};
	double bins;
	size_t *cols = NULL;
	int rc;
	if ((rc = xparam_only(params, ok, em)) || (rc = xparam_num(params, "bins", 0, 0, 1000, &bins, em)))
		return rc;
	f.bins = (size_t)bins;
	if (f.bins) {
		json_t *range = json_object_get(params, "range");
		if (!json_is_array(range) || json_array_size(range) != 2 || !json_is_number(json_array_get(range, 0)) ||
		    !json_is_number(json_array_get(range, 1)))
			return lb_errf(em, LB_EINVALID,
				       "federated histograms need 'range': [low, high] agreed in advance (the owners' "
				       "minimum and maximum are not revealed)");
		f.lo = json_number_value(json_array_get(range, 0));
		f.hi = json_number_value(json_array_get(range, 1));
		if (!(f.lo < f.hi))
			return lb_errf(em, LB_EINVALID, "parameter 'range': low must be below high");
	}
	if ((rc = fed_cols(ow, n, params, "columns", true, &cols, &f.p, em)))
		return rc;
	f.cols = cols;
	size_t w = 2 + f.bins;
	double *cnt = lb_calloc(f.p + 1, sizeof *cnt), *mean = lb_calloc(f.p + 1, sizeof *mean),
	       *ssd = lb_calloc(f.p + 1, sizeof *ssd), *s1 = lb_calloc(f.p * w + 1, sizeof *s1);
	if (!cnt || !mean || !ssd || !s1) {
		rc = LB_ENOMEM;
		goto out;
	}
	if ((rc = pooled_moments(&f, n, opt, cnt, mean, ssd, s1, st, em)))
		goto out;
	json_t *o = json_object(), *arr = json_array();
	double rows = round(s1[f.p * w]);
	for (size_t j = 0; j < f.p; j++) {
		json_t *c = json_object();
		json_object_set_new(c, "name", json_string(ow[0].table->cols[cols[j]].name));
		json_object_set_new(c, "type", json_string("numeric"));
		json_object_set_new(c, "n", json_integer((json_int_t)cnt[j]));
		json_object_set_new(c, "missing", json_integer((json_int_t)(rows - cnt[j])));
		json_object_set_new(c, "mean", xjson_num(mean[j]));
		json_object_set_new(c, "sd", cnt[j] > 1 ? xjson_num(sqrt(fmax(ssd[j], 0) / (cnt[j] - 1))) : json_null());
		if (f.bins) {
			json_t *h = json_object(), *e = json_array(), *ct = json_array();
			for (size_t b = 0; b <= f.bins; b++)
				json_array_append_new(e, json_real(f.lo + (f.hi - f.lo) / (double)f.bins * (double)b));
			for (size_t b = 0; b < f.bins; b++)
				json_array_append_new(ct, json_integer((json_int_t)round(s1[j * w + 2 + b])));
			json_object_set_new(h, "edges", e);
			json_object_set_new(h, "counts", ct);
			json_object_set_new(c, "histogram", h);
		}
		json_array_append_new(arr, c);
	}
	json_object_set_new(o, "algorithm", json_string("stats"));
	json_object_set_new(o, "n", json_integer((json_int_t)rows));
	json_object_set_new(o, "columns", arr);
	*result = o;
out:
	lb_free(cnt);
	lb_free(mean);
	lb_free(ssd);
	lb_free(s1);
	lb_free(cols);
	return rc;
}

/* ---- logistic regression ------------------------------------------------------------------ */

struct flog {
	const struct lb_fed_owner *ow;
	const size_t *cols;  /* per owner p indices */
	const size_t *ycol;  /* per owner */
	size_t p;
	const double *mean, *scale, *w;
};

static int logreg_part(void *arg, size_t o, double *out, struct lb_errmsg *em)
{
	const struct flog *f = arg;
	struct xlogreg_design d = {.p = f->p, .xcols = f->cols + o * f->p, .ycol = f->ycol[o],
				   .mean = f->mean, .scale = f->scale};
	int rc = xlogreg_partial(f->ow[o].table, &d, f->w, out, em);
	return rc ? lb_errwrap(em, "owner %s", f->ow[o].name) : LB_OK;
}

static json_t *num_array(const double *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, xjson_num(v[i]));
	return a;
}

static int fed_logreg(const struct lb_fed_owner *ow, size_t n, const json_t *params,
		      const struct lb_fed_options *opt, json_t **result, struct lb_fed_stats *st,
		      struct lb_errmsg *em)
{
	static const char *const ok[] = {"y", "x", "C", "standardize", "max_iter", "tol", NULL};
	double C, max_iter, tol;
	bool stdz;
	size_t *cols = NULL, p, *ycol = lb_calloc(n, sizeof *ycol);
	int rc;
	if (!ycol)
		return LB_ENOMEM;
	if ((rc = xparam_only(params, ok, em)) || (rc = xparam_num(params, "C", 1.0, 0, 1e12, &C, em)) ||
	    (rc = xparam_bool(params, "standardize", false, &stdz, em)) ||
	    (rc = xparam_num(params, "max_iter", 100, 1, 10000, &max_iter, em)) ||
	    (rc = xparam_num(params, "tol", 1e-10, 0, 1, &tol, em))) {
		lb_free(ycol);
		return rc;
	}
	for (size_t o = 0; o < n; o++)
		if ((rc = xparam_col(ow[o].table, params, "y", true, &ycol[o], em))) {
			lb_free(ycol);
			return lb_errwrap(em, "owner %s", ow[o].name);
		}
	if ((rc = fed_cols(ow, n, params, "x", false, &cols, &p, em))) {
		lb_free(ycol);
		return rc;
	}
	size_t q = p + 1, len = xlogreg_partial_len(p);
	double *mean = lb_calloc(q, sizeof *mean), *scale = lb_calloc(q, sizeof *scale),
	       *cnt = lb_calloc(q, sizeof *cnt), *ssd = lb_calloc(q, sizeof *ssd),
	       *w = lb_calloc(q, sizeof *w), *sum = lb_calloc(len, sizeof *sum);
	if (!mean || !scale || !cnt || !ssd || !w || !sum) {
		rc = LB_ENOMEM;
		goto out;
	}
	for (size_t j = 0; j < p; j++)
		scale[j] = 1;
	if (stdz) {
		struct fstats f = {.ow = ow, .cols = cols, .p = p, .ycol = ycol};
		if ((rc = pooled_moments(&f, n, opt, cnt, mean, ssd, NULL, st, em)))
			goto out;
		for (size_t j = 0; j < p; j++) {
			scale[j] = cnt[j] > 0 ? sqrt(fmax(ssd[j], 0) / cnt[j]) : 1;
			if (!(scale[j] > 0))
				scale[j] = 1;
		}
	}
	struct flog f = {.ow = ow, .cols = cols, .ycol = ycol, .p = p, .mean = mean, .scale = scale, .w = w};
	unsigned it = 0;
	bool converged = false;
	double loss, delta;
	while (it < (unsigned)max_iter) {
		if ((rc = round_sum(n, len, logreg_part, &f, opt, sum, st, em)))
			goto out;
		if (sum[len - 2] < 1) {
			rc = lb_errf(em, LB_EINVALID, "logistic regression: no complete rows at any owner");
			goto out;
		}
		if ((rc = xlogreg_newton(sum, p, C, w, &delta, &loss, em)))
			goto out;
		it++;
		/* fixed-point sums carry ~2^-frac_bits noise: stop at that resolution too */
		if (delta <= fmax(tol, opt && opt->secure ? 1e-6 : 0)) {
			converged = true;
			break;
		}
	}
	if ((rc = round_sum(n, len, logreg_part, &f, opt, sum, st, em)))
		goto out;
	double nn = round(sum[len - 2]);
	json_t *o = json_object(), *co = json_object();
	json_object_set_new(co, "(intercept)", xjson_num(w[0]));
	for (size_t j = 0; j < p; j++)
		json_object_set_new(co, ow[0].table->cols[cols[j]].name, xjson_num(w[j + 1]));
	json_object_set_new(o, "algorithm", json_string("logreg"));
	json_object_set_new(o, "n", json_integer((json_int_t)nn));
	json_object_set_new(o, "y", json_string(ow[0].table->cols[ycol[0]].name));
	json_object_set_new(o, "coefficients", co);
	json_object_set_new(o, "coef", num_array(w, q));
	json_object_set_new(o, "accuracy", xjson_num(round(sum[len - 1]) / nn));
	json_object_set_new(o, "log_loss", xjson_num(sum[len - 3] / nn));
	json_object_set_new(o, "iterations", json_integer(it));
	json_object_set_new(o, "converged", json_boolean(converged));
	json_object_set_new(o, "C", xjson_num(C));
	if (stdz) {
		json_t *s = json_object();
		json_object_set_new(s, "mean", num_array(mean, p));
		json_object_set_new(s, "scale", num_array(scale, p));
		json_object_set_new(o, "standardization", s);
	}
	*result = o;
out:
	lb_free(mean);
	lb_free(scale);
	lb_free(cnt);
	lb_free(ssd);
	lb_free(w);
	lb_free(sum);
	lb_free(cols);
	lb_free(ycol);
	return rc;
}

/* ---- Kaplan–Meier -------------------------------------------------------------------------- */

struct fkm {
	const struct lb_fed_owner *ow;
	const size_t *tcol, *ecol; /* per owner */
	const double *grid;        /* ascending agreed times */
	size_t k;                  /* grid points */
};

/* layout: N, d[k], c[k] */
static int km_part(void *arg, size_t o, double *out, struct lb_errmsg *em)
{
	const struct fkm *f = arg;
	const struct lb_table *t = f->ow[o].table;
	const double *tv = t->cols[f->tcol[o]].v, *ev = t->cols[f->ecol[o]].v;
	for (size_t r = 0; r < t->nrows; r++) {
		if (isnan(tv[r]) || isnan(ev[r]))
			continue;
		if (tv[r] < 0 || (ev[r] != 0 && ev[r] != 1))
			return lb_errf(em, LB_EINVALID, "owner %s: data row %zu has time %g, event %g (need time >= 0, event 0 or 1)",
				       f->ow[o].name, r + 1, tv[r], ev[r]);
		out[0] += 1;
		/* first grid time >= t; beyond the grid: stays at risk, not shown */
		size_t lo = 0, hi = f->k;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (f->grid[mid] >= tv[r])
				hi = mid;
			else
				lo = mid + 1;
		}
		if (lo < f->k)
			out[1 + (ev[r] == 1 ? 0 : f->k) + lo] += 1;
	}
	return LB_OK;
}

static int fed_km(const struct lb_fed_owner *ow, size_t n, const json_t *params,
		  const struct lb_algo_ctx *ctx, const struct lb_fed_options *opt, json_t **result,
		  struct lb_fed_stats *st, struct lb_errmsg *em)
{
	static const char *const ok[] = {"time", "event", "grid", NULL};
	int rc;
	if ((rc = xparam_only(params, ok, em)))
		return rc;
	json_t *g = json_object_get(params, "grid");
	if (!json_is_array(g) || json_array_size(g) == 0 || json_array_size(g) > 100000)
		return lb_errf(em, LB_EINVALID, "federated Kaplan–Meier needs 'grid': the ascending list of times "
						"all owners report counts at");
	size_t k = json_array_size(g);
	double *grid = lb_malloc(k * sizeof *grid), *sum = lb_calloc(1 + 2 * k, sizeof *sum);
	size_t *tcol = lb_calloc(n, sizeof *tcol), *ecol = lb_calloc(n, sizeof *ecol);
	if (!grid || !sum || !tcol || !ecol) {
		rc = LB_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < k; i++) {
		json_t *e = json_array_get(g, i);
		grid[i] = json_is_number(e) ? json_number_value(e) : NAN;
		if (isnan(grid[i]) || (i > 0 && !(grid[i] > grid[i - 1]))) {
			rc = lb_errf(em, LB_EINVALID, "parameter 'grid': entry %zu is not a number above the previous one", i);
			goto out;
		}
	}
	for (size_t o = 0; o < n; o++)
		if ((rc = xparam_col(ow[o].table, params, "time", true, &tcol[o], em)) ||
		    (rc = xparam_col(ow[o].table, params, "event", true, &ecol[o], em))) {
			lb_errwrap(em, "owner %s", ow[o].name);
			goto out;
		}
	struct fkm f = {.ow = ow, .tcol = tcol, .ecol = ecol, .grid = grid, .k = k};
	if ((rc = round_sum(n, 1 + 2 * k, km_part, &f, opt, sum, st, em)))
		goto out;
	for (size_t i = 0; i < 1 + 2 * k; i++)
		sum[i] = round(sum[i]);
	json_t *o = json_object();
	json_object_set_new(o, "algorithm", json_string("km"));
	xkm_curve(o, grid, sum + 1, sum + 1 + k, k, sum[0], ctx ? ctx->min_cohort : 0, em);
	*result = o;
out:
	lb_free(grid);
	lb_free(sum);
	lb_free(tcol);
	lb_free(ecol);
	return rc;
}

/* ---- remote rounds: the step an owner's node computes --------------------------------------- */

static json_t *names_json(const struct lb_table *t, const size_t *cols, size_t p)
{
	json_t *a = json_array();
	for (size_t j = 0; j < p; j++)
		json_array_append_new(a, json_string(t->cols[cols[j]].name));
	return a;
}

static json_t *reals_json(const double *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_real(v[i]));
	return a;
}

/* The step object of one round (coordinator side; owner 0 is the schema table). */
static json_t *step_json(partial_fn fn, const void *arg)
{
	json_t *o = json_object();
	if (fn == stats_r1 || fn == stats_r2) {
		const struct fstats *f = arg;
		const struct lb_table *t = f->ow[0].table;
		json_object_set_new(o, "phase", json_string(fn == stats_r1 ? "moments1" : "moments2"));
		json_object_set_new(o, "columns", names_json(t, f->cols, f->p));
		if (f->ycol)
			json_object_set_new(o, "y", json_string(t->cols[f->ycol[0]].name));
		json_object_set_new(o, "bins", json_integer((json_int_t)f->bins));
		json_object_set_new(o, "range", json_pack("[ff]", f->lo, f->hi));
		if (fn == stats_r2)
			json_object_set_new(o, "mean", reals_json(f->mean, f->p));
	} else if (fn == logreg_part) {
		const struct flog *f = arg;
		const struct lb_table *t = f->ow[0].table;
		json_object_set_new(o, "phase", json_string("logreg"));
		json_object_set_new(o, "x", names_json(t, f->cols, f->p));
		json_object_set_new(o, "y", json_string(t->cols[f->ycol[0]].name));
		json_object_set_new(o, "mean", reals_json(f->mean, f->p + 1));
		json_object_set_new(o, "scale", reals_json(f->scale, f->p + 1));
		json_object_set_new(o, "w", reals_json(f->w, f->p + 1));
	} else {
		const struct fkm *f = arg;
		const struct lb_table *t = f->ow[0].table;
		json_object_set_new(o, "phase", json_string("km"));
		json_object_set_new(o, "time", json_string(t->cols[f->tcol[0]].name));
		json_object_set_new(o, "event", json_string(t->cols[f->ecol[0]].name));
		json_object_set_new(o, "grid", reals_json(f->grid, f->k));
	}
	return o;
}

/* An array of exactly n numbers from step[key] into v (n values). */
static int step_reals(const json_t *step, const char *key, size_t n, double *v, struct lb_errmsg *em)
{
	json_t *a = json_object_get(step, key);
	if (!json_is_array(a) || json_array_size(a) != n)
		return lb_errf(em, LB_EINVALID, "step: '%s' must be an array of %zu numbers", key, n);
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(a, i);
		if (!json_is_number(e) || !isfinite(json_number_value(e)))
			return lb_errf(em, LB_EINVALID, "step: '%s'[%zu] is not a finite number", key, i);
		v[i] = json_number_value(e);
	}
	return LB_OK;
}

#define STEP_MAX_VALUES 1000000

int lb_fed_step(const struct lb_table *t, const json_t *step, bool sandboxed, double **out,
		size_t *len, struct lb_errmsg *em)
{
	struct lb_fed_owner ow = {.name = "this node", .table = t};
	const char *phase = json_string_value(json_object_get(step, "phase"));
	size_t *cols = NULL, p = 0, ycol = 0, ecol = 0, n = 0;
	double *v1 = NULL, *v2 = NULL, *v3 = NULL, *res = NULL;
	partial_fn fn = NULL;
	void *arg = NULL;
	struct fstats fs = {.ow = &ow};
	struct flog fl = {.ow = &ow};
	struct fkm fk = {.ow = &ow};
	int rc;
	if (!json_is_object(step) || !phase)
		return lb_errf(em, LB_EINVALID, "step: an object with a 'phase' is needed");
	if (!strcmp(phase, "moments1") || !strcmp(phase, "moments2")) {
		const json_t *ps = step;
		double bins;
		if ((rc = fed_cols(&ow, 1, ps, "columns", false, &cols, &p, em)) ||
		    (rc = xparam_num(ps, "bins", 0, 0, 1000, &bins, em)))
			goto out;
		fs.cols = cols;
		fs.p = p;
		fs.bins = (size_t)bins;
		if (json_object_get(step, "y")) {
			if ((rc = xparam_col(t, ps, "y", true, &ycol, em)))
				goto out;
			fs.ycol = &ycol;
		}
		if (fs.bins) {
			double r[2];
			if ((rc = step_reals(step, "range", 2, r, em)))
				goto out;
			if (!(r[0] < r[1])) {
				rc = lb_errf(em, LB_EINVALID, "step: 'range': low must be below high");
				goto out;
			}
			fs.lo = r[0];
			fs.hi = r[1];
		}
		if (phase[7] == '2') {
			if (!(v1 = lb_calloc(p + 1, sizeof *v1))) {
				rc = LB_ENOMEM;
				goto out;
			}
			if ((rc = step_reals(step, "mean", p, v1, em)))
				goto out;
			fs.mean = v1;
			fn = stats_r2;
			n = p;
		} else {
			fn = stats_r1;
			n = p * (2 + fs.bins) + 1;
		}
		arg = &fs;
	} else if (!strcmp(phase, "logreg")) {
		if ((rc = fed_cols(&ow, 1, step, "x", false, &cols, &p, em)) ||
		    (rc = xparam_col(t, step, "y", true, &ycol, em)))
			goto out;
		v1 = lb_calloc(p + 1, sizeof *v1);
		v2 = lb_calloc(p + 1, sizeof *v2);
		v3 = lb_calloc(p + 1, sizeof *v3);
		if (!v1 || !v2 || !v3) {
			rc = LB_ENOMEM;
			goto out;
		}
		if ((rc = step_reals(step, "mean", p + 1, v1, em)) || (rc = step_reals(step, "scale", p + 1, v2, em)) ||
		    (rc = step_reals(step, "w", p + 1, v3, em)))
			goto out;
		fl.cols = cols;
		fl.ycol = &ycol;
		fl.p = p;
		fl.mean = v1;
		fl.scale = v2;
		fl.w = v3;
		fn = logreg_part;
		arg = &fl;
		n = xlogreg_partial_len(p);
	} else if (!strcmp(phase, "km")) {
		json_t *g = json_object_get(step, "grid");
		size_t k = json_array_size(g);
		if (k == 0 || k > 100000) {
			rc = lb_errf(em, LB_EINVALID, "step: 'grid' must list 1 to 100000 times");
			goto out;
		}
		if ((rc = xparam_col(t, step, "time", true, &ycol, em)) ||
		    (rc = xparam_col(t, step, "event", true, &ecol, em)))
			goto out;
		if (!(v1 = lb_calloc(k, sizeof *v1))) {
			rc = LB_ENOMEM;
			goto out;
		}
		if ((rc = step_reals(step, "grid", k, v1, em)))
			goto out;
		for (size_t i = 1; i < k; i++)
			if (!(v1[i] > v1[i - 1])) {
				rc = lb_errf(em, LB_EINVALID, "step: 'grid' entry %zu is not above the previous one", i);
				goto out;
			}
		fk.tcol = &ycol;
		fk.ecol = &ecol;
		fk.grid = v1;
		fk.k = k;
		fn = km_part;
		arg = &fk;
		n = 1 + 2 * k;
	} else {
		rc = lb_errf(em, LB_EINVALID, "step: unknown phase '%s' (moments1, moments2, logreg, km)", phase);
		goto out;
	}
	if (n > STEP_MAX_VALUES) {
		rc = lb_errf(em, LB_ETOOBIG, "step: %zu values, at most %d", n, STEP_MAX_VALUES);
		goto out;
	}
	if (!(res = lb_calloc(n ? n : 1, sizeof *res))) {
		rc = LB_ENOMEM;
		goto out;
	}
	rc = sandboxed ? partial_in_sandbox(fn, arg, 0, n, res, em) : fn(arg, 0, res, em);
	if (rc == LB_OK) {
		*out = res;
		*len = n;
		res = NULL;
	}
out:
	lb_free(cols);
	lb_free(v1);
	lb_free(v2);
	lb_free(v3);
	lb_free(res);
	return rc;
}

int lb_fed_run(const char *algorithm, const struct lb_fed_owner *owners, size_t n,
	       const json_t *params, const struct lb_algo_ctx *ctx, const struct lb_fed_options *o,
	       json_t **result, struct lb_fed_stats *st, struct lb_errmsg *em)
{
	if (n == 0)
		return lb_errf(em, LB_EINVALID, "no owners");
	if (params && !json_is_object(params))
		return lb_errf(em, LB_EINVALID, "parameters must be a JSON object");
	struct lb_fed_stats local = {0};
	int rc;
	if (!strcmp(algorithm, "stats"))
		rc = fed_stats(owners, n, params, o, result, &local, em);
	else if (!strcmp(algorithm, "logreg"))
		rc = fed_logreg(owners, n, params, o, result, &local, em);
	else if (!strcmp(algorithm, "km"))
		rc = fed_km(owners, n, params, ctx, o, result, &local, em);
	else
		return lb_errf(em, LB_EUNSUPPORTED,
			       "algorithm '%s' has no federated form (federated: stats, logreg, km)", algorithm);
	if (rc == LB_OK) {
		json_object_set_new(*result, "owners", json_integer((json_int_t)n));
		json_object_set_new(*result, "rounds", json_integer(local.rounds));
		json_object_set_new(*result, "secure_aggregation", json_boolean(o && o->secure));
		json_object_set_new(*result, "sandboxed", json_boolean(o && o->sandboxed));
	}
	if (st)
		*st = local;
	return rc;
}
