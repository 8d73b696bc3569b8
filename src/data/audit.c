/*
 * Audit checks over a table profile (src/data/csv.c) and the score that goes on the chain:
 *   score = 10000 x (0.30 completeness + 0.20 uniqueness + 0.20 validity + 0.15 outliers
 *                    + 0.15 stability), each sub-score in 0..1 (see docs/data.md).
 * Plus correlation, robust outliers, drift (KS) and k-means clusters for the report.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_int.h"
#include "leben/data_audit.h"
#include "leben/data_coding.h"

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double lb_ks_statistic(const double *a, size_t na, const double *b, size_t nb)
{
	if (!na || !nb)
		return 0;
	double *x = lb_malloc(na * sizeof *x), *y = lb_malloc(nb * sizeof *y);
	if (!x || !y) {
		lb_free(x);
		lb_free(y);
		return NAN;
	}
	memcpy(x, a, na * sizeof *x);
	memcpy(y, b, nb * sizeof *y);
	qsort(x, na, sizeof *x, cmp_d);
	qsort(y, nb, sizeof *y, cmp_d);
	size_t i = 0, j = 0;
	double d = 0;
	while (i < na && j < nb) {
		double v = x[i] < y[j] ? x[i] : y[j];
		while (i < na && x[i] <= v)
			i++;
		while (j < nb && y[j] <= v)
			j++;
		double diff = fabs((double)i / (double)na - (double)j / (double)nb);
		if (diff > d)
			d = diff;
	}
	lb_free(x);
	lb_free(y);
	return d;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t xs = 0x2545F4914F6CDD1Dull;
static double urand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (double)(*s >> 11) / 9007199254740992.0;
}

/* k-means (k-means++ seeding, Lloyd iterations) over n points of dimension d; best of 5
 * seedings from a fixed seed so the result is reproducible. */
static double kmeans(const double *x, size_t n, size_t d, int k, double *cent, int *assign)
{
	double best = INFINITY;
	double *c = lb_malloc((size_t)k * d * sizeof *c), *dist = lb_malloc(n * sizeof *dist);
	int *as = lb_malloc(n * sizeof *as);
	size_t *cnt = lb_malloc((size_t)k * sizeof *cnt);
	if (!c || !dist || !as || !cnt)
		goto out;
	uint64_t seed = xs;
	for (int run = 0; run < 5; run++) {
		size_t first = (size_t)(urand(&seed) * (double)n);
		memcpy(c, x + first * d, d * sizeof *c);
		for (int m = 1; m < k; m++) {
			double total = 0;
			for (size_t i = 0; i < n; i++) {
				double bd = INFINITY;
				for (int q = 0; q < m; q++) {
					double s = 0;
					for (size_t t = 0; t < d; t++) {
						double df = x[i * d + t] - c[(size_t)q * d + t];
						s += df * df;
					}
					if (s < bd)
						bd = s;
				}
				dist[i] = bd;
				total += bd;
			}
			double pick = urand(&seed) * total, acc = 0;
			size_t chosen = n - 1;
			for (size_t i = 0; i < n; i++) {
				acc += dist[i];
				if (acc >= pick) {
					chosen = i;
					break;
				}
			}
			memcpy(c + (size_t)m * d, x + chosen * d, d * sizeof *c);
		}
		double inertia = 0;
		for (int it = 0; it < 100; it++) {
			bool changed = false;
			inertia = 0;
			for (size_t i = 0; i < n; i++) {
				double bd = INFINITY;
				int bq = 0;
				for (int q = 0; q < k; q++) {
					double s = 0;
					for (size_t t = 0; t < d; t++) {
						double df = x[i * d + t] - c[(size_t)q * d + t];
						s += df * df;
					}
					if (s < bd) {
						bd = s;
						bq = q;
					}
				}
				if (it == 0 || as[i] != bq)
					changed = true;
				as[i] = bq;
				inertia += bd;
			}
			if (!changed)
				break;
			memset(c, 0, (size_t)k * d * sizeof *c);
			memset(cnt, 0, (size_t)k * sizeof *cnt);
			for (size_t i = 0; i < n; i++) {
				cnt[as[i]]++;
				for (size_t t = 0; t < d; t++)
					c[(size_t)as[i] * d + t] += x[i * d + t];
			}
			for (int q = 0; q < k; q++)
				for (size_t t = 0; t < d; t++)
					c[(size_t)q * d + t] = cnt[q] ? c[(size_t)q * d + t] / (double)cnt[q]
								      : x[t];
		}
		if (inertia < best) {
			best = inertia;
			memcpy(cent, c, (size_t)k * d * sizeof *c);
			memcpy(assign, as, n * sizeof *as);
		}
	}
out:
	lb_free(c);
	lb_free(dist);
	lb_free(as);
	lb_free(cnt);
	return best;
}

static const struct lb_audit_rule *rule_for(const struct lb_audit_options *o, const char *name)
{
	for (size_t i = 0; o && i < o->nrules; i++)
		if (!strcmp(o->rules[i].column, name))
			return &o->rules[i];
	return NULL;
}

/* A column whose name says it holds codes and has no rule: validity is the share of its
 * present values that are valid codes (counted over its distinct values; a column with more
 * than LB_CSV_FREQ_MAX distinct values is not counted). A column that is only guessed to hold
 * codes ("diagnosis") counts when at least 80% of its values are well formed. */
static bool audit_code_validity(const struct lb_csv_column *c, const struct lb_code_tables *t,
				struct lb_audit_column *ac)
{
	bool guessed = false;
	int sys = lb_audit_code_column(c->name, &guessed);
	if (!sys || !c->nfreq)
		return false;
	size_t present = c->count - c->missing, bad = 0, malformed = 0;
	for (size_t i = 0; i < c->nfreq; i++) {
		int rc = lb_code_check((enum lb_code_system)sys, c->freq[i].value, t, NULL);
		bad += rc ? c->freq[i].count : 0;
		malformed += rc && rc != LB_ENOTFOUND ? c->freq[i].count : 0;
	}
	if (!present || (guessed && malformed * 5 > present))
		return false;
	ac->code_system = lb_code_system_name((enum lb_code_system)sys);
	ac->violations = bad;
	ac->validity = 1 - (double)bad / (double)present;
	return true;
}

int lb_audit_table(const struct lb_csv_profile *p, const struct lb_audit_options *opt,
		   struct lb_audit *a, struct lb_errmsg *em)
{
	memset(a, 0, sizeof *a);
	a->rows = p->rows;
	a->cols = p->ncols;
	a->col = lb_calloc(p->ncols ? p->ncols : 1, sizeof *a->col);
	a->num_cols = lb_calloc(p->ncols ? p->ncols : 1, sizeof *a->num_cols);
	if (!a->col || !a->num_cols)
		goto err_nomem;
	/* duplicate rows */
	uint64_t *h = lb_malloc((p->rows ? p->rows : 1) * sizeof *h);
	if (!h)
		goto err_nomem;
	memcpy(h, p->row_hash, p->rows * sizeof *h);
	if (p->rows > 1)
		qsort(h, p->rows, sizeof *h, cmp_u64);
	for (size_t i = 1; i < p->rows; i++)
		a->duplicate_rows += h[i] == h[i - 1];
	lb_free(h);
	double sum_c = 0, sum_v = 0, ks_sum = 0;
	size_t nvalid = 0, nks = 0, outl = 0, numvals = 0;
	for (size_t j = 0; j < p->ncols; j++) {
		const struct lb_csv_column *c = &p->cols[j];
		struct lb_audit_column *ac = &a->col[j];
		ac->completeness = c->count ? (double)(c->count - c->missing) / (double)c->count : 1;
		ac->key_like = c->missing == 0 && c->distinct == c->count && c->count > 1;
		ac->validity = 1;
		ac->drift_ks = -1;
		sum_c += ac->completeness;
		const struct lb_audit_rule *r = rule_for(opt, c->name);
		if (c->nvalues) {
			a->num_cols[a->nnum++] = j;
			/* robust z: 0.6745 (x - median) / MAD */
			double *dev = lb_malloc(c->nvalues * sizeof *dev);
			if (!dev)
				goto err_nomem;
			for (size_t i = 0; i < c->nvalues; i++)
				dev[i] = fabs(c->values[i] - c->median);
			qsort(dev, c->nvalues, sizeof *dev, cmp_d);
			ac->mad = data_quantile_sorted(dev, c->nvalues, 0.5);
			lb_free(dev);
			for (size_t i = 0; ac->mad > 0 && i < c->nvalues; i++)
				ac->outliers += fabs(0.6745 * (c->values[i] - c->median) / ac->mad) >
						LB_AUDIT_ROBUST_Z;
			outl += ac->outliers;
			numvals += c->nvalues;
		}
		if (r) {
			size_t present = c->count - c->missing, bad = 0;
			if (c->cells && (r->has_min || r->has_max))
				for (size_t i = 0; i < c->count; i++) {
					double v = c->cells[i];
					if (!isnan(v) && ((r->has_min && v < r->min) || (r->has_max && v > r->max)))
						bad++;
				}
			if (r->nallowed) {
				/* every distinct value with its count (kept up to LB_CSV_FREQ_MAX
				 * distinct values; beyond that the column cannot be a code set, and
				 * everything outside the top values counts as a violation) */
				const struct lb_csv_top *f = c->nfreq ? c->freq : c->top;
				size_t nf = c->nfreq ? c->nfreq : c->ntop, seen = 0;
				for (size_t t = 0; t < nf; t++) {
					bool ok = false;
					for (size_t q = 0; q < r->nallowed && !ok; q++)
						ok = !strcmp(f[t].value, r->allowed[q]);
					if (!ok)
						bad += f[t].count;
					else
						seen += f[t].count;
				}
				if (!c->nfreq)
					bad = present - seen;
			}
			ac->violations = bad;
			ac->validity = present ? 1 - (double)bad / (double)present : 1;
			sum_v += ac->validity;
			nvalid++;
		} else if (audit_code_validity(c, opt ? opt->codes : NULL, ac)) {
			sum_v += ac->validity;
			nvalid++;
		}
		if (opt && opt->previous && c->nvalues) {
			for (size_t q = 0; q < opt->previous->ncols; q++) {
				const struct lb_csv_column *pc = &opt->previous->cols[q];
				if (!strcmp(pc->name, c->name) && pc->nvalues) {
					ac->drift_ks = lb_ks_statistic(c->values, c->nvalues, pc->values,
								       pc->nvalues);
					ks_sum += ac->drift_ks;
					nks++;
				}
			}
		}
	}
	/* Pearson correlation, pairwise complete rows */
	size_t m = a->nnum;
	a->corr = lb_malloc((m ? m * m : 1) * sizeof *a->corr);
	if (!a->corr)
		goto err_nomem;
	for (size_t x = 0; x < m; x++)
		for (size_t y = 0; y < m; y++) {
			const double *u = p->cols[a->num_cols[x]].cells, *v = p->cols[a->num_cols[y]].cells;
			double su = 0, sv = 0, suu = 0, svv = 0, suv = 0;
			size_t n = 0;
			for (size_t i = 0; i < p->rows; i++)
				if (!isnan(u[i]) && !isnan(v[i])) {
					su += u[i];
					sv += v[i];
					n++;
				}
			double mu = n ? su / (double)n : 0, mv = n ? sv / (double)n : 0;
			for (size_t i = 0; i < p->rows; i++)
				if (!isnan(u[i]) && !isnan(v[i])) {
					suu += (u[i] - mu) * (u[i] - mu);
					svv += (v[i] - mv) * (v[i] - mv);
					suv += (u[i] - mu) * (v[i] - mv);
				}
			a->corr[x * m + y] = suu > 0 && svv > 0 ? suv / sqrt(suu * svv) : NAN;
		}
	/* k-means on standardised complete rows */
	int k = opt && opt->k > 0 ? opt->k : 3;
	if (k > LB_AUDIT_MAX_K)
		k = LB_AUDIT_MAX_K;
	a->cluster_of = lb_malloc((p->rows ? p->rows : 1) * sizeof *a->cluster_of);
	double *pts = lb_malloc((p->rows * m > 0 ? p->rows * m : 1) * sizeof *pts);
	size_t *rowix = lb_malloc((p->rows ? p->rows : 1) * sizeof *rowix);
	int *asg = lb_malloc((p->rows ? p->rows : 1) * sizeof *asg);
	a->centroids = lb_calloc((size_t)k * (m ? m : 1), sizeof *a->centroids);
	if (!a->cluster_of || !pts || !rowix || !asg || !a->centroids) {
		lb_free(pts);
		lb_free(rowix);
		lb_free(asg);
		goto err_nomem;
	}
	size_t np = 0;
	for (size_t i = 0; i < p->rows; i++) {
		a->cluster_of[i] = -1;
		bool ok = m > 0;
		for (size_t x = 0; x < m && ok; x++)
			ok = !isnan(p->cols[a->num_cols[x]].cells[i]);
		if (!ok)
			continue;
		for (size_t x = 0; x < m; x++) {
			const struct lb_csv_column *c = &p->cols[a->num_cols[x]];
			pts[np * m + x] = c->sd > 0 ? (c->cells[i] - c->mean) / c->sd : 0;
		}
		rowix[np++] = i;
	}
	if (np >= (size_t)k * 2 && m > 0) {
		a->k = k;
		a->inertia = kmeans(pts, np, m, k, a->centroids, asg);
		for (size_t i = 0; i < np; i++) {
			a->cluster_of[rowix[i]] = asg[i];
			a->cluster_size[asg[i]]++;
		}
		for (int q = 0; q < k; q++) /* back to column units */
			for (size_t x = 0; x < m; x++) {
				const struct lb_csv_column *c = &p->cols[a->num_cols[x]];
				a->centroids[(size_t)q * m + x] = a->centroids[(size_t)q * m + x] * c->sd +
								  c->mean;
			}
	}
	lb_free(pts);
	lb_free(rowix);
	lb_free(asg);
	/* scores */
	a->s_completeness = p->ncols ? sum_c / (double)p->ncols : 1;
	a->s_uniqueness = p->rows ? 1 - (double)a->duplicate_rows / (double)p->rows : 1;
	a->s_validity = nvalid ? sum_v / (double)nvalid : 1;
	double rate = numvals ? (double)outl / (double)numvals : 0;
	a->s_outliers = rate * 5 >= 1 ? 0 : 1 - rate * 5;
	a->s_drift = nks ? 1 - ks_sum / (double)nks : 1;
	double s = 0.30 * a->s_completeness + 0.20 * a->s_uniqueness + 0.20 * a->s_validity +
		   0.15 * a->s_outliers + 0.15 * a->s_drift;
	a->score = (uint32_t)lround(s * 10000);
	if (!p->rows || !p->ncols) {
		/* nothing to use: an empty table is not a perfect one */
		a->s_completeness = a->s_uniqueness = a->s_validity = a->s_outliers = a->s_drift = 0;
		a->score = 0;
		a->note = p->ncols ? "the table has a header but no data rows: there is nothing to "
				     "use; export it again with its rows"
				   : "the table is empty: no header and no rows";
	}
	return LB_OK;
err_nomem:
	lb_audit_release(a);
	return lb_errf(em, LB_ENOMEM, "out of memory");
}

void lb_audit_release(struct lb_audit *a)
{
	lb_free(a->col);
	lb_free(a->num_cols);
	lb_free(a->corr);
	lb_free(a->centroids);
	lb_free(a->cluster_of);
	memset(a, 0, sizeof *a);
}

int lb_audit_rules_from_json(const json_t *j, struct lb_audit_rule **rules, size_t *n,
			     struct lb_errmsg *em)
{
	if (!json_is_object(j))
		return lb_errf(em, LB_ETYPE, "rules: a JSON object {\"column\": {...}} is expected");
	size_t cnt = json_object_size(j), i = 0;
	struct lb_audit_rule *r = lb_calloc(cnt ? cnt : 1, sizeof *r);
	if (!r)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)j, key, v) {
		struct lb_audit_rule *x = &r[i++];
		snprintf(x->column, sizeof x->column, "%s", key);
		json_t *mn = json_object_get(v, "min"), *mx = json_object_get(v, "max"),
		       *al = json_object_get(v, "allowed");
		if (!json_is_object(v) || (mn && !json_is_number(mn)) || (mx && !json_is_number(mx)) ||
		    (al && !json_is_array(al))) {
			lb_audit_rules_free(r, i);
			return lb_errf(em, LB_ETYPE,
				       "rules: \"%s\" must be {\"min\": number, \"max\": number, "
				       "\"allowed\": [text, ...]}",
				       key);
		}
		x->has_min = mn != NULL;
		x->has_max = mx != NULL;
		x->min = json_number_value(mn);
		x->max = json_number_value(mx);
		if (al && json_array_size(al)) {
			x->allowed = (const char **)lb_calloc(json_array_size(al), sizeof *x->allowed);
			if (!x->allowed) {
				lb_audit_rules_free(r, i);
				return lb_errf(em, LB_ENOMEM, "out of memory");
			}
			size_t q;
			json_t *s;
			json_array_foreach(al, q, s) x->allowed[x->nallowed++] =
				json_is_string(s) ? json_string_value(s) : "";
		}
	}
	*rules = r;
	*n = cnt;
	return LB_OK;
}

void lb_audit_rules_free(struct lb_audit_rule *rules, size_t n)
{
	for (size_t i = 0; rules && i < n; i++)
		lb_free((void *)rules[i].allowed);
	lb_free(rules);
}

json_t *lb_audit_json(const struct lb_csv_profile *p, const struct lb_audit *a)
{
	json_t *cols = json_array(), *corr = json_array(), *clusters = json_array();
	for (size_t j = 0; j < a->cols; j++) {
		const struct lb_audit_column *c = &a->col[j];
		json_t *o = json_pack("{s:s,s:f,s:f,s:I,s:I,s:f,s:b}", "name", p->cols[j].name,
				      "completeness", c->completeness, "validity", c->validity,
				      "violations", (json_int_t)c->violations, "outliers",
				      (json_int_t)c->outliers, "mad", c->mad, "key_like", c->key_like);
		if (o && c->drift_ks >= 0)
			json_object_set_new(o, "drift_ks", json_real(c->drift_ks));
		if (o && c->code_system)
			json_object_set_new(o, "codes", json_string(c->code_system));
		json_array_append_new(cols, o);
	}
	for (size_t x = 0; x < a->nnum; x++)
		for (size_t y = x + 1; y < a->nnum; y++) {
			double r = a->corr[x * a->nnum + y];
			if (!isnan(r))
				json_array_append_new(corr, json_pack("{s:s,s:s,s:f}", "a",
								      p->cols[a->num_cols[x]].name, "b",
								      p->cols[a->num_cols[y]].name, "r", r));
		}
	for (int q = 0; q < a->k; q++) {
		json_t *cent = json_object();
		for (size_t x = 0; x < a->nnum; x++)
			json_object_set_new(cent, p->cols[a->num_cols[x]].name,
					    json_real(a->centroids[(size_t)q * a->nnum + x]));
		json_array_append_new(clusters, json_pack("{s:I,s:o}", "size",
							  (json_int_t)a->cluster_size[q], "centroid",
							  cent));
	}
	json_t *j = json_pack("{s:i,s:{s:f,s:f,s:f,s:f,s:f},s:I,s:I,s:I,s:o,s:o,s:f,s:o}", "score",
			 (int)a->score, "subscores", "completeness", a->s_completeness,
			 "uniqueness", a->s_uniqueness, "validity", a->s_validity, "outliers",
			 a->s_outliers, "stability", a->s_drift, "rows", (json_int_t)a->rows,
			 "columns", (json_int_t)a->cols, "duplicate_rows",
			 (json_int_t)a->duplicate_rows, "checks", cols, "correlations", corr,
			 "kmeans_inertia", a->inertia, "clusters", clusters);
	if (j && a->note)
		json_object_set_new(j, "note", json_string(a->note));
	return j;
}
