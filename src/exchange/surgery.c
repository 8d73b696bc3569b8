/*
 * Surgical quality control: expected risks under a shared logistic model, observed/expected
 * ratios, Steiner's risk-adjusted CUSUM, funnel limits and plot, and the surgery.alarm tx.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leben/base.h"
#include "leben/consortium.h"
#include "leben/ledger.h"
#include "leben/surgery.h"
#include "leben/tx.h"

int lb_surgery_model_read(const json_t *j, struct lb_surgery_model *m, struct lb_errmsg *em)
{
	if (json_is_object(json_object_get(j, "result")))
		j = json_object_get(j, "result");
	const json_t *co = json_object_get(j, "coefficients");
	if (!json_is_object(co))
		return lb_errf(em, LB_EINVALID,
			       "the model has no \"coefficients\" object (write it with 'leben surgery fit')");
	if (json_object_get(j, "standardization"))
		return lb_errf(em, LB_EINVALID,
			       "the model was fitted on standardised columns: fit it without \"standardize\"");
	struct lb_surgery_model t;
	memset(&t, 0, sizeof t);
	bool icpt = false;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)co, k, v) {
		if (!json_is_number(v) || !isfinite(json_number_value(v)))
			return lb_errf(em, LB_EINVALID, "model coefficient \"%s\" is not a finite number", k);
		if (!strcmp(k, "(intercept)")) {
			t.coef[0] = json_number_value(v);
			icpt = true;
			continue;
		}
		if (t.p == LB_SURGERY_MAX_FACTORS)
			return lb_errf(em, LB_ELIMIT, "the model has more than %d risk factors",
				       LB_SURGERY_MAX_FACTORS);
		if (!*k || strlen(k) >= sizeof t.names[0])
			return lb_errf(em, LB_EINVALID, "model factor name \"%s\" is empty or too long", k);
		snprintf(t.names[t.p], sizeof t.names[0], "%s", k);
		t.coef[++t.p] = json_number_value(v);
	}
	if (!icpt)
		return lb_errf(em, LB_EINVALID, "the model has no \"(intercept)\" coefficient");
	*m = t;
	return LB_OK;
}

int lb_surgery_expected(const struct lb_table *t, const struct lb_surgery_model *m,
			const char *outcome, double **p, double **y, struct lb_errmsg *em)
{
	long col[LB_SURGERY_MAX_FACTORS], yc = lb_table_find(t, outcome);
	if (yc < 0)
		return lb_errf(em, LB_EINVALID, "the records have no outcome column \"%s\"", outcome);
	if (t->cols[yc].kind != LB_COL_NUMERIC)
		return lb_errf(em, LB_EINVALID, "outcome column \"%s\" must hold 0 or 1", outcome);
	for (size_t j = 0; j < m->p; j++) {
		col[j] = lb_table_find(t, m->names[j]);
		if (col[j] < 0)
			return lb_errf(em, LB_EINVALID,
				       "the records have no column \"%s\", a risk factor of the model",
				       m->names[j]);
		if (t->cols[col[j]].kind != LB_COL_NUMERIC)
			return lb_errf(em, LB_EINVALID, "risk factor column \"%s\" is not numeric",
				       m->names[j]);
	}
	if (!t->nrows)
		return lb_errf(em, LB_EINVALID, "the records have no rows");
	double *pp = lb_calloc(t->nrows, sizeof *pp), *yy = lb_calloc(t->nrows, sizeof *yy);
	if (!pp || !yy) {
		lb_free(pp);
		lb_free(yy);
		return LB_ENOMEM;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		double eta = m->coef[0], o = t->cols[yc].v[r];
		if (!(o == 0 || o == 1)) {
			lb_free(pp);
			lb_free(yy);
			return lb_errf(em, LB_EINVALID, "row %zu: outcome \"%s\" must be 0 or 1", r + 1,
				       outcome);
		}
		for (size_t j = 0; j < m->p; j++) {
			double x = t->cols[col[j]].v[r];
			if (isnan(x)) {
				lb_free(pp);
				lb_free(yy);
				return lb_errf(em, LB_EINVALID, "row %zu: risk factor \"%s\" is missing",
					       r + 1, m->names[j]);
			}
			eta += m->coef[j + 1] * x;
		}
		pp[r] = 1 / (1 + exp(-eta));
		yy[r] = o;
	}
	*p = pp;
	*y = yy;
	return LB_OK;
}

static json_t *oe_json(const char *name, size_t n, double o, double e)
{
	json_t *g = json_object();
	if (name)
		json_object_set_new(g, "name", json_string(name));
	json_object_set_new(g, "n", json_integer((json_int_t)n));
	json_object_set_new(g, "observed", json_integer((json_int_t)o));
	json_object_set_new(g, "expected", json_real(e));
	json_object_set_new(g, "oe", e > 0 ? json_real(o / e) : json_null());
	return g;
}

static int by_name(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	return strcmp(json_string_value(json_object_get(x, "name")),
		      json_string_value(json_object_get(y, "name")));
}

int lb_surgery_oe(const struct lb_table *t, const double *p, const double *y, const char *by,
		  size_t min_cases, json_t **out, struct lb_errmsg *em)
{
	long c = lb_table_find(t, by);
	if (c < 0)
		return lb_errf(em, LB_EINVALID, "the records have no column \"%s\"", by);
	const struct lb_table_col *col = &t->cols[c];
	/* group key: the level text, or the number printed */
	size_t ng = 0, cap = 16;
	char **names = lb_calloc(cap, sizeof *names);
	double *o = lb_calloc(cap, sizeof *o), *e = lb_calloc(cap, sizeof *e);
	size_t *n = lb_calloc(cap, sizeof *n);
	int rc = LB_OK;
	double to = 0, te = 0;
	if (!names || !o || !e || !n) {
		rc = LB_ENOMEM;
		goto out;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		char buf[64];
		const char *k;
		if (isnan(col->v[r])) {
			rc = lb_errf(em, LB_EINVALID, "row %zu: column \"%s\" is empty", r + 1, by);
			goto out;
		}
		if (col->kind == LB_COL_CATEGORICAL)
			k = col->levels[(size_t)col->v[r]];
		else {
			snprintf(buf, sizeof buf, "%.15g", col->v[r]);
			k = buf;
		}
		size_t g = 0;
		while (g < ng && strcmp(names[g], k))
			g++;
		if (g == ng) {
			if (ng == cap) {
				cap *= 2;
				char **nn = lb_realloc(names, cap * sizeof *names);
				if (nn)
					names = nn;
				double *no = lb_realloc(o, cap * sizeof *o), *ne = no ? lb_realloc(e, cap * sizeof *e) : NULL;
				if (no)
					o = no;
				if (ne)
					e = ne;
				size_t *nc = ne ? lb_realloc(n, cap * sizeof *n) : NULL;
				if (nc)
					n = nc;
				if (!nn || !no || !ne || !nc) {
					rc = LB_ENOMEM;
					goto out;
				}
			}
			names[g] = lb_strdup(k);
			o[g] = e[g] = 0;
			n[g] = 0;
			ng++;
		}
		o[g] += y[r];
		e[g] += p[r];
		n[g]++;
		to += y[r];
		te += p[r];
	}
	json_t *res = oe_json(NULL, t->nrows, to, te), *gs = json_array();
	size_t supp = 0;
	json_t **arr = lb_calloc(ng ? ng : 1, sizeof *arr);
	size_t na = 0;
	for (size_t g = 0; g < ng; g++) {
		if (n[g] < min_cases)
			supp++;
		else if (arr)
			arr[na++] = oe_json(names[g], n[g], o[g], e[g]);
	}
	if (arr)
		qsort(arr, na, sizeof *arr, by_name);
	for (size_t i = 0; i < na; i++)
		json_array_append_new(gs, arr[i]);
	lb_free(arr);
	json_object_set_new(res, "by", json_string(by));
	json_object_set_new(res, "groups", gs);
	json_object_set_new(res, "suppressed_groups", json_integer((json_int_t)supp));
	json_object_set_new(res, "min_cases", json_integer((json_int_t)min_cases));
	*out = res;
out:
	for (size_t g = 0; g < ng; g++)
		lb_free(names[g]);
	lb_free(names);
	lb_free(o);
	lb_free(e);
	lb_free(n);
	return rc;
}

int lb_surgery_cusum(const double *p, const double *y, size_t n, double ra, double h, bool reset,
		     double *path, size_t *alarms, size_t *nalarms, struct lb_errmsg *em)
{
	if (!(ra > 0) || ra == 1 || !isfinite(ra))
		return lb_errf(em, LB_EINVALID, "the odds ratio to detect (--ra) must be a number > 0 and not 1");
	if (!(h > 0) || !isfinite(h))
		return lb_errf(em, LB_EINVALID, "the alarm threshold (--h) must be a number > 0");
	double s = 0, lra = log(ra);
	size_t na = 0;
	for (size_t t = 0; t < n; t++) {
		double d = log(1 - p[t] + ra * p[t]);
		s += (y[t] > 0.5 ? lra : 0) - d;
		/* a chart for a decrease (ra < 1) runs the other way: the same statistic, upper bound */
		if (s < 0)
			s = 0;
		path[t] = s;
		if (s >= h) {
			if (alarms)
				alarms[na] = t;
			na++;
			if (reset)
				s = 0;
		}
	}
	*nalarms = na;
	return LB_OK;
}

void lb_surgery_funnel_limits(double e, double z, double *lo, double *hi)
{
	double d = e > 0 ? z / sqrt(e) : INFINITY;
	*lo = fmax(0, 1 - d);
	*hi = 1 + d;
}

int lb_surgery_funnel_svg(const json_t *points, const char *title, char **svg,
			  struct lb_errmsg *em)
{
	if (!json_is_array(points) || !json_array_size(points))
		return lb_errf(em, LB_EINVALID, "no units to plot");
	double emax = 0, ymax = 2;
	size_t i;
	json_t *pt;
	json_array_foreach(points, i, pt) {
		double e = json_number_value(json_object_get(pt, "expected"));
		json_t *oe = json_object_get(pt, "oe");
		if (!json_is_string(json_object_get(pt, "name")) || !(e > 0) || !json_is_number(oe))
			return lb_errf(em, LB_EINVALID, "unit %zu needs a name, expected > 0 and oe", i + 1);
		emax = fmax(emax, e);
		ymax = fmax(ymax, json_number_value(oe) * 1.1);
	}
	emax *= 1.1;
	const double W = 640, H = 420, L = 60, R = 20, T = 40, B = 50;
	struct lb_buf b;
	lb_buf_init(&b, 1 << 26);
#define X(e) (L + (e) / emax * (W - L - R))
#define Y(v) (H - B - (v) / ymax * (H - T - B))
	int brc = LB_OK;
#define OUT(...)                                                                                   \
	do {                                                                                       \
		if (!brc)                                                                          \
			brc = lb_buf_addf(&b, __VA_ARGS__);                                        \
	} while (0)
	OUT("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
	    "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n", W, H, W, H);
	OUT("<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	char esc[200];
	size_t k = 0;
	for (const char *c = title ? title : ""; *c && k < sizeof esc - 7; c++) {
		if (*c == '<' || *c == '>' || *c == '&' || *c == '"')
			k += (size_t)snprintf(esc + k, sizeof esc - k, "&#%d;", *c);
		else
			esc[k++] = *c;
	}
	esc[k] = 0;
	OUT("<text x=\"%.0f\" y=\"22\" font-size=\"14\">%s</text>\n", L, esc);
	OUT("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", L, H - B, W - R, H - B);
	OUT("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", L, T, L, H - B);
	OUT("<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">expected deaths (E); limits 95 %% (orange) and 99.8 %% (red)</text>\n",
	    (L + W - R) / 2, H - 10);
	OUT("<text x=\"14\" y=\"%.0f\" transform=\"rotate(-90 14 %.0f)\" text-anchor=\"middle\">observed / expected</text>\n",
	    (T + H - B) / 2, (T + H - B) / 2);
	/* ticks: O/E every 0.5, E at a round step giving about five marks */
	for (double v = 0; v <= ymax + 1e-9; v += 0.5) {
		OUT("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", L - 4, Y(v), L, Y(v));
		OUT("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n", L - 6, Y(v) + 4, v);
	}
	double step = pow(10, floor(log10(emax / 5)));
	if (emax / step > 25)
		step *= 5;
	else if (emax / step > 10)
		step *= 2;
	for (double e = 0; e <= emax + 1e-9; e += step) {
		OUT("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", X(e), H - B, X(e), H - B + 4);
		OUT("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", X(e), H - B + 16, e);
	}
	OUT("<line class=\"target\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"gray\"/>\n", L, Y(1), W - R, Y(1));
	static const struct {
		double z;
		const char *cls, *dash;
	} lim[] = {{1.959964, "limit95", "4 3"}, {3.090232, "limit998", "8 3"}};
	for (size_t l = 0; l < 2; l++)
		for (int side = 0; side < 2; side++) {
			OUT("<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-dasharray=\"%s\" points=\"",
			    lim[l].cls, l ? "red" : "orange", lim[l].dash);
			for (int s = 1; s <= 100; s++) {
				double e = emax * s / 100, lo, hi;
				lb_surgery_funnel_limits(e, lim[l].z, &lo, &hi);
				double v = fmin(side ? hi : lo, ymax);
				OUT("%.1f,%.1f ", X(e), Y(v));
			}
			OUT("\"/>\n");
		}
	json_array_foreach(points, i, pt) {
		double e = json_number_value(json_object_get(pt, "expected"));
		double v = json_number_value(json_object_get(pt, "oe")), lo, hi;
		lb_surgery_funnel_limits(e, 3.090232, &lo, &hi);
		const char *name = json_string_value(json_object_get(pt, "name"));
		k = 0;
		for (const char *c = name; *c && k < sizeof esc - 7; c++)
			if (*c == '<' || *c == '>' || *c == '&' || *c == '"')
				k += (size_t)snprintf(esc + k, sizeof esc - k, "&#%d;", *c);
			else
				esc[k++] = *c;
		esc[k] = 0;
		OUT("<circle class=\"unit\" data-name=\"%s\" data-expected=\"%.6g\" data-oe=\"%.6g\" cx=\"%.1f\" "
		    "cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>%s: O/E %.2f, E %.1f</title></circle>\n",
		    esc, e, v, X(e), Y(fmin(v, ymax)), v > hi || v < lo ? "red" : "steelblue", esc, v, e);
	}
	OUT("</svg>\n");
#undef OUT
#undef X
#undef Y
	if (brc) {
		lb_buf_release(&b);
		return lb_errf(em, brc, "the funnel plot is too large");
	}
	*svg = (char *)b.data;
	return LB_OK;
}

/* ---- funnel and ranking over released summaries ------------------------------------------ */

int lb_surgery_summaries_check(const json_t *summaries, struct lb_errmsg *em)
{
	if (!json_is_array(summaries) || !json_array_size(summaries))
		return lb_errf(em, LB_EINVALID, "give at least one summary");
	const char *model = NULL;
	size_t i;
	json_t *s;
	json_array_foreach(summaries, i, s) {
		const char *kind = json_string_value(json_object_get(s, "kind"));
		const char *m = json_string_value(json_object_get(s, "model"));
		json_t *by = json_object_get(s, "by");
		if (!kind || strcmp(kind, "surgery.summary") || !m || !json_is_string(json_object_get(s, "hospital")) ||
		    !json_is_object(by) || !json_is_array(json_object_get(by, "surgeon")) ||
		    !json_is_array(json_object_get(by, "procedure")) || !json_is_number(json_object_get(s, "expected")))
			return lb_errf(em, LB_EINVALID, "summary %zu is not a summary written by 'leben surgery monitor'",
				       i + 1);
		if (model && strcmp(model, m))
			return lb_errf(em, LB_EINVALID,
				       "summary %zu was computed with another risk model (%.12s..., not %.12s...): "
				       "every hospital must use the same model", i + 1, m, model);
		model = m;
	}
	return LB_OK;
}

int lb_surgery_funnel(const json_t *summaries, const char *by, json_t **units, struct lb_errmsg *em)
{
	int rc = lb_surgery_summaries_check(summaries, em);
	if (rc)
		return rc;
	bool hosp = by && !strcmp(by, "hospital");
	if (!hosp && (!by || strcmp(by, "surgeon")))
		return lb_errf(em, LB_EINVALID, "by %s: use surgeon or hospital", by ? by : "(none)");
	json_t *pts = json_array();
	size_t i, j;
	json_t *s, *g;
	json_array_foreach(summaries, i, s) {
		if (hosp) {
			json_array_append_new(pts, json_pack("{s:O,s:O,s:O,s:O,s:O}", "name", json_object_get(s, "hospital"),
							     "n", json_object_get(s, "n"), "observed",
							     json_object_get(s, "observed"), "expected",
							     json_object_get(s, "expected"), "oe", json_object_get(s, "oe")));
			continue;
		}
		json_array_foreach(json_object_get(json_object_get(s, "by"), "surgeon"), j, g)
			json_array_append_new(pts, json_deep_copy(g));
	}
	json_array_foreach(pts, i, g) {
		double e = json_number_value(json_object_get(g, "expected")), lo95, hi95, lo998, hi998;
		double v = json_number_value(json_object_get(g, "oe"));
		lb_surgery_funnel_limits(e, 1.959964, &lo95, &hi95);
		lb_surgery_funnel_limits(e, 3.090232, &lo998, &hi998);
		json_object_set_new(g, "limits95", json_pack("[f,f]", lo95, hi95));
		json_object_set_new(g, "limits998", json_pack("[f,f]", lo998, hi998));
		json_object_set_new(g, "flag", json_string(v > hi998 ? "above 99.8%" : v > hi95 ? "above 95%" :
							   v < lo998 ? "below 99.8%" : v < lo95 ? "below 95%" : "within"));
	}
	*units = pts;
	return LB_OK;
}

static int by_oe(const void *a, const void *b)
{
	double x = json_number_value(json_object_get(*(json_t *const *)a, "oe"));
	double y = json_number_value(json_object_get(*(json_t *const *)b, "oe"));
	return x < y ? -1 : x > y;
}

int lb_surgery_rank(const json_t *summaries, const json_t *listings, json_t **out,
		    struct lb_errmsg *em)
{
	int rc = lb_surgery_summaries_check(summaries, em);
	if (rc)
		return rc;
	json_t *acc = json_object();
	size_t i, j;
	json_t *s, *g;
	json_array_foreach(summaries, i, s) {
		json_array_foreach(json_object_get(json_object_get(s, "by"), "procedure"), j, g) {
			const char *code = json_string_value(json_object_get(g, "name"));
			if (!code)
				continue;
			json_t *a = json_object_get(acc, code);
			if (!a) {
				a = json_pack("{s:s,s:i,s:i,s:f,s:i,s:[]}", "procedure", code, "n", 0, "observed", 0,
					      "expected", 0.0, "hospitals", 0, "contracts");
				json_object_set_new(acc, code, a);
			}
			json_object_set_new(a, "n", json_integer(json_integer_value(json_object_get(a, "n")) +
								 json_integer_value(json_object_get(g, "n"))));
			json_object_set_new(a, "observed",
					    json_integer(json_integer_value(json_object_get(a, "observed")) +
							 json_integer_value(json_object_get(g, "observed"))));
			json_object_set_new(a, "expected", json_real(json_number_value(json_object_get(a, "expected")) +
								     json_number_value(json_object_get(g, "expected"))));
			json_object_set_new(a, "hospitals",
					    json_integer(json_integer_value(json_object_get(a, "hospitals")) + 1));
		}
	}
	size_t na = json_object_size(acc), k = 0;
	json_t **arr = lb_calloc(na ? na : 1, sizeof *arr);
	if (!arr) {
		json_decref(acc);
		return LB_ENOMEM;
	}
	const char *code;
	json_t *a;
	json_object_foreach(acc, code, a) {
		double O = (double)json_integer_value(json_object_get(a, "observed"));
		double E = json_number_value(json_object_get(a, "expected"));
		json_object_set_new(a, "oe", json_real(E > 0 ? O / E : 0));
		json_object_set_new(a, "z", json_real(E > 0 ? (O - E) / sqrt(E) : 0));
		char want[64];
		snprintf(want, sizeof want, "snomed|%s", code);
		json_t *l, *c;
		json_array_foreach(listings, i, l)
			json_array_foreach(json_object_get(l, "codes"), j, c)
				if (json_is_string(c) && !strcmp(json_string_value(c), want))
					json_array_append_new(json_object_get(a, "contracts"),
							      json_pack("{s:O,s:O}", "id", json_object_get(l, "id"), "title",
									json_object_get(l, "title")));
		arr[k++] = a;
	}
	qsort(arr, k, sizeof *arr, by_oe);
	json_t *ranking = json_array();
	for (size_t r = 0; r < k; r++) {
		json_object_set_new(arr[r], "rank", json_integer((json_int_t)r + 1));
		json_array_append(ranking, arr[r]);
	}
	lb_free(arr);
	json_decref(acc);
	*out = json_pack("{s:O,s:I,s:o}", "model", json_object_get(json_array_get(summaries, 0), "model"), "hospitals",
			 (json_int_t)json_array_size(summaries), "ranking", ranking);
	return LB_OK;
}

/* ---- surgery.alarm ------------------------------------------------------------------------ */

static int alarm_check_json(const json_t *a, struct lb_errmsg *em)
{
	static const char *const keys[] = {"hospital", "surgeon", "procedure", "cases", "case", "value",
					   "h", "ra", "model", NULL};
	if (!json_is_object(a))
		return lb_errf(em, LB_EMALFORMED, "surgery.alarm: the payload is not a JSON object");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)a, k, v) {
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], k))
			i++;
		if (!keys[i])
			return lb_errf(em, LB_EINVALID, "surgery.alarm: unknown field \"%s\"", k);
	}
	for (size_t i = 0; i < 3; i++) {
		const char *s = json_string_value(json_object_get(a, keys[i]));
		if (!s || (i < 2 && !*s) || strlen(s) > 64)
			return lb_errf(em, LB_EINVALID, "surgery.alarm: \"%s\" must be a text of %s64 characters",
				       keys[i], i < 2 ? "1 to " : "at most ");
		for (const char *c = s; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == '/')
				return lb_errf(em, LB_EINVALID, "surgery.alarm: \"%s\" has a control character or '/'",
					       keys[i]);
	}
	json_t *cases = json_object_get(a, "cases"), *cs = json_object_get(a, "case");
	if (!json_is_integer(cases) || !json_is_integer(cs) || json_integer_value(cs) < 1 ||
	    json_integer_value(cs) > json_integer_value(cases))
		return lb_errf(em, LB_EINVALID, "surgery.alarm: \"case\" and \"cases\" must be integers with 1 <= case <= cases");
	double val = json_number_value(json_object_get(a, "value")), h = json_number_value(json_object_get(a, "h")),
	       ra = json_number_value(json_object_get(a, "ra"));
	if (!json_is_number(json_object_get(a, "h")) || !(h > 0) || !isfinite(h))
		return lb_errf(em, LB_EINVALID, "surgery.alarm: \"h\" must be a number > 0");
	if (!json_is_number(json_object_get(a, "value")) || !(val >= h) || !isfinite(val))
		return lb_errf(em, LB_EINVALID, "surgery.alarm: \"value\" must be a number >= h (an alarm)");
	if (!json_is_number(json_object_get(a, "ra")) || !(ra > 0) || ra == 1 || !isfinite(ra))
		return lb_errf(em, LB_EINVALID, "surgery.alarm: \"ra\" must be a number > 0 and not 1");
	const char *m = json_string_value(json_object_get(a, "model"));
	uint8_t mh[LB_HASH_LEN];
	if (!m || strlen(m) != 2 * LB_HASH_LEN || lb_hex_decode(mh, sizeof mh, m) != LB_OK)
		return lb_errf(em, LB_EINVALID, "surgery.alarm: \"model\" must be the model's hash (64 hex digits)");
	return LB_OK;
}

int lb_surgery_alarm_payload(const json_t *alarm, uint8_t **payload, size_t *len,
			     struct lb_errmsg *em)
{
	int rc = alarm_check_json(alarm, em);
	if (rc)
		return rc;
	char *s = json_dumps(alarm, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		return LB_ENOMEM;
	*len = strlen(s);
	*payload = (uint8_t *)lb_strdup(s);
	free(s);
	return *payload ? LB_OK : LB_ENOMEM;
}

static json_t *alarm_parse(const struct lb_tx *tx, struct lb_errmsg *em)
{
	json_error_t je;
	json_t *a = json_loadb((const char *)tx->payload, tx->payload_len, JSON_REJECT_DUPLICATES, &je);
	if (!a) {
		lb_errf(em, LB_EMALFORMED, "surgery.alarm: the payload is not JSON: %s", je.text);
		return NULL;
	}
	if (alarm_check_json(a, em)) {
		json_decref(a);
		return NULL;
	}
	char *c = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
	bool canon = c && strlen(c) == tx->payload_len && !memcmp(c, tx->payload, tx->payload_len);
	free(c);
	if (!canon) {
		json_decref(a);
		lb_errf(em, LB_EMALFORMED, "surgery.alarm: the payload is not canonical JSON (sorted keys, compact)");
		return NULL;
	}
	return a;
}

static int alarm_check(const struct lb_tx *tx, struct lb_errmsg *em)
{
	json_t *a = alarm_parse(tx, em);
	if (!a)
		return em->code ? em->code : LB_EMALFORMED;
	json_decref(a);
	return LB_OK;
}

static int alarm_apply(struct lb_apply_ctx *c)
{
	json_t *a = alarm_parse(c->tx, c->em);
	if (!a)
		return c->em->code ? c->em->code : LB_EMALFORMED;
	/* a hospital id is held by an institution of the consortium (its member key): the first
	 * member to record an alarm for it holds it, later alarms for that hospital must come
	 * from the same account */
	const char *hosp = json_string_value(json_object_get(a, "hospital"));
	const uint8_t *val;
	size_t vlen;
	int rc = lb_consortium_state_need_member(c->state, c->sender_addr,
						 "record surgery alarms for a hospital", c->em);
	if (rc) {
		json_decref(a);
		return rc;
	}
	uint64_t bind = 0, members = 0;
	char name[LB_MEMBER_NAME_MAX + 1];
	if ((rc = lb_state_get_u64(c->state, LB_SURGERY_CFG_NS, "bind", 4, 0, &bind)) ||
	    (bind && (rc = lb_consortium_state_member_name(c->state, c->sender_addr, name,
							   &members)))) {
		json_decref(a);
		return rc;
	}
	if (bind && members) { /* the hospital id is the member's name, or NAME:SITE */
		size_t nl = strlen(name);
		if (strncmp(hosp, name, nl) || (hosp[nl] && hosp[nl] != ':')) {
			lb_errf(c->em, LB_EUNAUTH,
				"surgery.alarm: hospital \"%s\" is not the sender's: a member records "
				"alarms under its own name as consortium member (\"%s\") or as "
				"\"%s:SITE\" for one of its sites",
				hosp, name, name);
			json_decref(a);
			return LB_EUNAUTH;
		}
		rc = LB_ENOTFOUND; /* bound by the name: no first-come hold (it survives a rekey) */
	} else {
		rc = lb_state_get(c->state, LB_SURGERY_HOSPITAL_NS, hosp, strlen(hosp), &val, &vlen);
	}
	if (rc == LB_OK && (vlen != LB_ADDR_LEN || memcmp(val, c->sender_addr, LB_ADDR_LEN))) {
		lb_errf(c->em, LB_EUNAUTH, "surgery.alarm: hospital \"%s\" records its alarms with another key",
			hosp);
		json_decref(a);
		return LB_EUNAUTH;
	}
	if (rc == LB_ENOTFOUND)
		rc = bind && members ? LB_OK
				     : lb_state_put(c->state, LB_SURGERY_HOSPITAL_NS, hosp, strlen(hosp),
						    c->sender_addr, LB_ADDR_LEN);
	if (rc) {
		json_decref(a);
		return rc;
	}
	char key[160];
	snprintf(key, sizeof key, "%s/%s", hosp, json_string_value(json_object_get(a, "surgeon")));
	json_t *list = NULL;
	if (lb_state_get(c->state, LB_SURGERY_ALARM_NS, key, strlen(key), &val, &vlen) == LB_OK)
		list = json_loadb((const char *)val, vlen, 0, NULL);
	if (!json_is_array(list)) {
		json_decref(list);
		list = json_array();
	}
	char id[2 * LB_HASH_LEN + 1], snd[2 * LB_PUBKEY_LEN + 1];
	lb_hex_encode(id, c->tx->id, LB_HASH_LEN);
	lb_hex_encode(snd, c->tx->sender, LB_PUBKEY_LEN);
	json_object_set_new(a, "tx", json_string(id));
	json_object_set_new(a, "sender", json_string(snd));
	json_object_set_new(a, "height", json_integer((json_int_t)c->height));
	json_array_append_new(list, a);
	char *s = json_dumps(list, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(list);
	if (!s)
		return LB_ENOMEM;
	if (strlen(s) > LB_STATE_VALUE_MAX) {
		free(s);
		return lb_errf(c->em, LB_ELIMIT, "surgery.alarm: too many alarms recorded for %s", key);
	}
	rc = lb_state_put(c->state, LB_SURGERY_ALARM_NS, key, strlen(key), s, strlen(s));
	free(s);
	return rc;
}

static json_t *alarm_json(const struct lb_tx *tx)
{
	return json_loadb((const char *)tx->payload, tx->payload_len, 0, NULL);
}

static const struct lb_txtype surgery_types[] = {
	{LB_TX_SURGERY_ALARM, LB_CHAIN_BUSINESS, "surgery.alarm", alarm_check, alarm_apply, alarm_json, true},
};

/* genesis.json "surgery": {"bind_hospitals": true} (business chain): hospital ids are bound to
 * the members' names. */
static int genesis_surgery(json_t *g, int chain, struct lb_state *s, struct lb_errmsg *em)
{
	json_t *sg = json_object_get(g, "surgery"), *v = json_object_get(sg, "bind_hospitals");
	if (chain != LB_CHAIN_BUSINESS || !sg)
		return LB_OK;
	if (!json_is_object(sg) || json_object_size(sg) != (v ? 1u : 0u) || (v && !json_is_boolean(v)))
		return lb_errf(em, LB_EINVALID,
			       "genesis: 'surgery' must be {\"bind_hospitals\": true|false} (docs/apps.md)");
	return json_is_true(v) ? lb_state_put_u64(s, LB_SURGERY_CFG_NS, "bind", 4, 1) : LB_OK;
}

/* Not block-independent: an alarm records its height. */
int lb_surgery_register_txtypes(void)
{
	int rc = lb_txtype_register_rows(surgery_types, sizeof surgery_types / sizeof surgery_types[0], false);
	return rc ? rc : lb_genesis_hook_register(genesis_surgery);
}
