/*
 * CSV/TSV profiling: RFC 4180 fields (quotes, doubled quotes, CRLF), delimiter and header
 * detection, then a profile per column — type, missing values, distinct values, min/max/mean/
 * sample sd, quantiles, skewness, a 10-bin histogram with numpy's bin rules, frequent values.
 * The profile feeds the hexahedron's data features and the audit checks (src/data/audit.c).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_int.h"
#include "leben/data_extract.h"

struct field {
	const char *p; /* into the text, or into owned */
	size_t n;
	char *owned;   /* unescaped copy of a quoted field with doubled quotes */
};

struct row {
	struct field *f;
	size_t n;
	size_t line;   /* 1-based line where the row starts */
};

struct table {
	struct row *rows;
	size_t nrows, cap;
};

static void table_release(struct table *t)
{
	for (size_t i = 0; i < t->nrows; i++) {
		for (size_t j = 0; j < t->rows[i].n; j++)
			lb_free(t->rows[i].f[j].owned);
		lb_free(t->rows[i].f);
	}
	lb_free(t->rows);
	memset(t, 0, sizeof *t);
}

static char detect_delimiter(const char *s, size_t len)
{
	static const char cands[] = {',', ';', '\t', '|'};
	size_t counts[5][4] = {{0}};
	int line = 0;
	bool q = false;
	for (size_t i = 0; i < len && line < 5; i++) {
		if (s[i] == '"')
			q = !q;
		else if (!q && s[i] == '\n')
			line++;
		else if (!q)
			for (int c = 0; c < 4; c++)
				if (s[i] == cands[c])
					counts[line][c]++;
	}
	int lines = line < 5 && len && s[len - 1] != '\n' ? line + 1 : line;
	if (lines == 0)
		lines = 1;
	char best = 0;
	size_t best_min = 0;
	for (int c = 0; c < 4; c++) {
		size_t mn = SIZE_MAX;
		for (int l = 0; l < lines && l < 5; l++)
			if (counts[l][c] < mn)
				mn = counts[l][c];
		/* the first line may be a preamble (sklearn): judge by later lines too */
		size_t mn2 = SIZE_MAX;
		for (int l = 1; l < lines && l < 5; l++)
			if (counts[l][c] < mn2)
				mn2 = counts[l][c];
		if (mn2 != SIZE_MAX && mn2 > mn)
			mn = mn2;
		if (mn > best_min) {
			best_min = mn;
			best = cands[c];
		}
	}
	return best ? best : ' ';
}

static int tokenize(const char *s, size_t len, char delim, size_t max_rows, struct table *t,
		    struct lb_errmsg *em)
{
	size_t i = 0, line = 1;
	while (i < len && (max_rows == 0 || t->nrows < max_rows)) {
		struct row r = {.line = line};
		size_t fcap = 0;
		bool end_row = false;
		while (!end_row) {
			struct field fl = {0};
			if (delim == ' ')
				while (i < len && s[i] == ' ')
					i++;
			if (i < len && s[i] == '"') {
				size_t start = ++i, qline = line;
				bool doubled = false;
				for (;;) {
					if (i >= len) {
						for (size_t k = 0; k < r.n; k++)
							lb_free(r.f[k].owned);
						lb_free(r.f);
						return lb_errf(em, LB_EMALFORMED,
							       "line %zu, offset %zu: quoted field is "
							       "never closed",
							       qline, start - 1);
					}
					if (s[i] == '"') {
						if (i + 1 < len && s[i + 1] == '"') {
							doubled = true;
							i += 2;
							continue;
						}
						break;
					}
					if (s[i] == '\n')
						line++;
					i++;
				}
				fl.p = s + start;
				fl.n = i - start;
				i++; /* closing quote; anything up to the delimiter is kept out */
				while (i < len && s[i] != delim && s[i] != '\n' && s[i] != '\r')
					i++;
				if (doubled) {
					fl.owned = lb_malloc(fl.n + 1);
					if (!fl.owned)
						goto err_nomem;
					size_t o = 0;
					for (size_t k = 0; k < fl.n; k++) {
						fl.owned[o++] = fl.p[k];
						if (fl.p[k] == '"')
							k++;
					}
					fl.owned[o] = 0;
					fl.p = fl.owned;
					fl.n = o;
				}
			} else {
				size_t start = i;
				while (i < len && s[i] != delim && s[i] != '\n')
					i++;
				size_t e = i;
				if (e > start && s[e - 1] == '\r')
					e--;
				fl.p = s + start;
				fl.n = e - start;
			}
			if (i < len && s[i] == '\r')
				i++;
			if (i >= len || s[i] == '\n') {
				end_row = true;
				if (i < len) {
					i++;
					line++;
				}
			} else {
				i++; /* delimiter */
				if (delim == ' ') {
					while (i < len && s[i] == ' ')
						i++;
					if (i >= len || s[i] == '\n' || s[i] == '\r') {
						/* trailing spaces end the row */
						if (i < len && s[i] == '\r')
							i++;
						if (i < len) {
							i++;
							line++;
						}
						end_row = true;
					}
				}
			}
			if (r.n == fcap) {
				fcap = fcap ? fcap * 2 : 8;
				struct field *nf = lb_realloc(r.f, fcap * sizeof *nf);
				if (!nf) {
					lb_free(fl.owned);
					goto err_nomem;
				}
				r.f = nf;
			}
			r.f[r.n++] = fl;
			continue;
err_nomem:
			for (size_t k = 0; k < r.n; k++)
				lb_free(r.f[k].owned);
			lb_free(r.f);
			return lb_errf(em, LB_ENOMEM, "out of memory");
		}
		if (r.n == 1 && r.f[0].n == 0) { /* blank line */
			lb_free(r.f[0].owned);
			lb_free(r.f);
			continue;
		}
		if (t->nrows == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 256;
			struct row *nr = lb_realloc(t->rows, t->cap * sizeof *nr);
			if (!nr) {
				for (size_t k = 0; k < r.n; k++)
					lb_free(r.f[k].owned);
				lb_free(r.f);
				return lb_errf(em, LB_ENOMEM, "out of memory");
			}
			t->rows = nr;
		}
		t->rows[t->nrows++] = r;
	}
	return LB_OK;
}

enum kind { K_MISSING, K_INT, K_REAL, K_BOOL, K_DATE, K_TEXT };

static void trim(const char **p, size_t *n)
{
	while (*n && isspace((unsigned char)(*p)[0])) {
		(*p)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

static bool eq_ci(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

bool data_is_missing_marker(const char *p, size_t n)
{
	static const char *const marks[] = {"NA", "N/A", "NaN", "null", "None", "#N/A", "?",
					    "-NaN", "nil", ".", "NULL"};
	if (n == 0)
		return true;
	for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
		if (eq_ci(p, n, marks[i]))
			return true;
	return false;
}

bool data_parse_number(const char *p, size_t n, double *out, bool *is_int)
{
	char buf[64];
	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, p, n);
	buf[n] = 0;
	const char *q = buf;
	if (*q == '+' || *q == '-')
		q++;
	if (!isdigit((unsigned char)*q) && !(*q == '.' && isdigit((unsigned char)q[1])))
		return false;
	bool integer = true;
	for (const char *c = q; *c; c++)
		if (!isdigit((unsigned char)*c))
			integer = false;
	char *end;
	double v = strtod(buf, &end);
	if (*end != 0 || !isfinite(v))
		return false;
	*out = v;
	if (is_int)
		*is_int = integer && (q - buf) + strlen(q) <= 16;
	return true;
}

bool data_is_date(const char *p, size_t n)
{
	if (n < 10 || n > 35)
		return false;
	for (int i = 0; i < 10; i++) {
		bool want_dash = i == 4 || i == 7;
		if (want_dash ? p[i] != '-' : !isdigit((unsigned char)p[i]))
			return false;
	}
	int mo = (p[5] - '0') * 10 + p[6] - '0', d = (p[8] - '0') * 10 + p[9] - '0';
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	if (n == 10)
		return true;
	if (p[10] != 'T' && p[10] != ' ')
		return false;
	for (size_t i = 11; i < n; i++)
		if (!isdigit((unsigned char)p[i]) && !strchr(":.+-Z", p[i]))
			return false;
	return n >= 16 && p[13] == ':';
}

static enum kind classify(const char *p, size_t n, double *num)
{
	trim(&p, &n);
	if (data_is_missing_marker(p, n))
		return K_MISSING;
	bool is_int;
	if (data_parse_number(p, n, num, &is_int))
		return is_int ? K_INT : K_REAL;
	if (eq_ci(p, n, "true") || eq_ci(p, n, "yes") || eq_ci(p, n, "t")) {
		*num = 1;
		return K_BOOL;
	}
	if (eq_ci(p, n, "false") || eq_ci(p, n, "no") || eq_ci(p, n, "f")) {
		*num = 0;
		return K_BOOL;
	}
	if (data_is_date(p, n))
		return K_DATE;
	return K_TEXT;
}

uint64_t data_hash64(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* numpy.percentile's default ("linear"): position q*(n-1) between order statistics. */
double data_quantile_sorted(const double *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	double pos = q * (double)(n - 1);
	size_t lo = (size_t)floor(pos);
	size_t hi = lo + 1 < n ? lo + 1 : lo;
	double frac = pos - (double)lo;
	return v[lo] + (v[hi] - v[lo]) * frac;
}

void data_histogram(const double *v, size_t n, double mn, double mx, size_t *hist, int bins)
{
	memset(hist, 0, (size_t)bins * sizeof *hist);
	if (n == 0)
		return;
	double first = mn, last = mx;
	if (first == last) {
		first -= 0.5;
		last += 0.5;
	}
	double edges[65];
	double step = (last - first) / bins;
	for (int i = 0; i <= bins; i++)
		edges[i] = first + i * step;
	edges[bins] = last;
	/* Halve everything when the range overflows a double (values near +-DBL_MAX). */
	double half = isfinite(last - first) ? 1.0 : 0.5;
	double norm = bins / (last * half - first * half);
	for (size_t i = 0; i < n; i++) {
		double x = v[i];
		double pos = (x * half - first * half) * norm;
		long k = pos >= bins ? bins - 1 : pos >= 0 ? (long)pos : 0;
		if (x < edges[k] && k > 0)
			k--;
		else if (x >= edges[k + 1] && k != bins - 1)
			k++;
		hist[k]++;
	}
}

struct vcount {
	uint64_t h;
	size_t count;
	size_t first; /* row of first occurrence */
	bool used;
};

static int profile_column(const struct table *t, size_t first_row, size_t col, const char *name,
			  struct lb_csv_column *c)
{
	size_t nrows = t->nrows - first_row;
	c->name = lb_strdup(name);
	c->count = nrows;
	c->values = lb_malloc((nrows ? nrows : 1) * sizeof *c->values);
	c->cells = lb_malloc((nrows ? nrows : 1) * sizeof *c->cells);
	size_t cap = 16;
	while (cap < nrows * 2)
		cap *= 2;
	struct vcount *set = lb_calloc(cap, sizeof *set);
	if (!c->name || !c->values || !c->cells || !set) {
		lb_free(set);
		return LB_ENOMEM;
	}
	bool seen[6] = {0};
	const char *minp = NULL, *maxp = NULL;
	size_t minn = 0, maxn = 0;
	for (size_t r = first_row; r < t->nrows; r++) {
		const struct row *row = &t->rows[r];
		const char *p = col < row->n ? row->f[col].p : "";
		size_t n = col < row->n ? row->f[col].n : 0;
		double num = 0;
		enum kind k = classify(p, n, &num);
		c->cells[r - first_row] = k == K_INT || k == K_REAL || k == K_BOOL ? num : NAN;
		if (k == K_MISSING) {
			c->missing++;
			continue;
		}
		trim(&p, &n);
		seen[k] = true;
		if (k == K_INT || k == K_REAL || k == K_BOOL)
			c->values[c->nvalues++] = num;
		if (n > c->max_length)
			c->max_length = n;
		if (!minp || memcmp(p, minp, n < minn ? n : minn) < 0 ||
		    (memcmp(p, minp, n < minn ? n : minn) == 0 && n < minn)) {
			minp = p;
			minn = n;
		}
		if (!maxp || memcmp(p, maxp, n < maxn ? n : maxn) > 0 ||
		    (memcmp(p, maxp, n < maxn ? n : maxn) == 0 && n > maxn)) {
			maxp = p;
			maxn = n;
		}
		uint64_t h = data_hash64(p, n);
		size_t slot = h & (cap - 1);
		while (set[slot].used && set[slot].h != h)
			slot = (slot + 1) & (cap - 1);
		if (!set[slot].used) {
			set[slot] = (struct vcount){.h = h, .count = 0, .first = r, .used = true};
			c->distinct++;
		}
		set[slot].count++;
	}
	/* Column type from the kinds seen. */
	int kinds = seen[K_INT] + seen[K_REAL] + seen[K_BOOL] + seen[K_DATE] + seen[K_TEXT];
	if (kinds == 0)
		c->type = LB_COL_EMPTY;
	else if (seen[K_TEXT] || (kinds > 1 && !(kinds == 2 && seen[K_INT] && seen[K_REAL])))
		c->type = LB_COL_TEXT;
	else if (seen[K_DATE])
		c->type = LB_COL_DATE;
	else if (seen[K_BOOL])
		c->type = LB_COL_BOOLEAN;
	else if (seen[K_REAL])
		c->type = LB_COL_REAL;
	else
		c->type = LB_COL_INTEGER;
	if (c->type == LB_COL_TEXT || c->type == LB_COL_DATE || c->type == LB_COL_EMPTY) {
		c->nvalues = 0;
		lb_free(c->cells);
		c->cells = NULL;
	}
	if (c->nvalues) {
		size_t n = c->nvalues;
		double sum = 0;
		c->min = c->max = c->values[0];
		for (size_t i = 0; i < n; i++) {
			sum += c->values[i];
			if (c->values[i] < c->min)
				c->min = c->values[i];
			if (c->values[i] > c->max)
				c->max = c->values[i];
		}
		c->mean = sum / (double)n;
		double m2 = 0, m3 = 0;
		for (size_t i = 0; i < n; i++) {
			double d = c->values[i] - c->mean;
			m2 += d * d;
			m3 += d * d * d;
		}
		c->sd = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0;
		if (n > 2 && m2 > 0) {
			double pm2 = m2 / (double)n, pm3 = m3 / (double)n;
			c->skew = sqrt((double)n * (double)(n - 1)) / (double)(n - 2) * pm3 /
				  pow(pm2, 1.5);
		}
		double *s = lb_malloc(n * sizeof *s);
		if (!s) {
			lb_free(set);
			return LB_ENOMEM;
		}
		memcpy(s, c->values, n * sizeof *s);
		qsort(s, n, sizeof *s, cmp_double);
		c->q25 = data_quantile_sorted(s, n, 0.25);
		c->median = data_quantile_sorted(s, n, 0.5);
		c->q75 = data_quantile_sorted(s, n, 0.75);
		lb_free(s);
		data_histogram(c->values, n, c->min, c->max, c->hist, LB_CSV_HIST_BINS);
	}
	if (minp) {
		c->min_text = lb_malloc(minn + 1);
		c->max_text = lb_malloc(maxn + 1);
		if (!c->min_text || !c->max_text) {
			lb_free(set);
			return LB_ENOMEM;
		}
		memcpy(c->min_text, minp, minn);
		c->min_text[minn] = 0;
		memcpy(c->max_text, maxp, maxn);
		c->max_text[maxn] = 0;
	}
	/* Every distinct value with its count, for small code-like columns (audit rules). */
	if (c->distinct && c->distinct <= LB_CSV_FREQ_MAX) {
		c->freq = lb_calloc(c->distinct, sizeof *c->freq);
		if (!c->freq) {
			lb_free(set);
			return LB_ENOMEM;
		}
		for (size_t i = 0; i < cap; i++) {
			if (!set[i].used)
				continue;
			const struct row *row = &t->rows[set[i].first];
			const char *p = row->f[col].p;
			size_t n = row->f[col].n;
			trim(&p, &n);
			char *v = lb_malloc(n + 1);
			if (!v) {
				lb_free(set);
				return LB_ENOMEM;
			}
			memcpy(v, p, n);
			v[n] = 0;
			c->freq[c->nfreq].value = v;
			c->freq[c->nfreq++].count = set[i].count;
		}
	}
	/* Most frequent values: repeated selection over the set (LB_CSV_TOP is small). */
	for (int k = 0; k < LB_CSV_TOP; k++) {
		struct vcount *best = NULL;
		for (size_t i = 0; i < cap; i++)
			if (set[i].used && set[i].count &&
			    (!best || set[i].count > best->count ||
			     (set[i].count == best->count && set[i].first < best->first)))
				best = &set[i];
		if (!best)
			break;
		const struct row *row = &t->rows[best->first];
		const char *p = row->f[col].p;
		size_t n = row->f[col].n;
		trim(&p, &n);
		char *v = lb_malloc(n + 1);
		if (!v) {
			lb_free(set);
			return LB_ENOMEM;
		}
		memcpy(v, p, n);
		v[n] = 0;
		c->top[c->ntop].value = v;
		c->top[c->ntop++].count = best->count;
		best->count = 0;
	}
	lb_free(set);
	return LB_OK;
}

int lb_csv_profile(const char *text, size_t len, const struct lb_csv_options *opt,
		   struct lb_csv_profile *out, struct lb_errmsg *em)
{
	struct lb_csv_options o = {0, -1, 0, 0};
	if (opt)
		o = *opt;
	memset(out, 0, sizeof *out);
	if (memchr(text, 0, len))
		return lb_errf(em, LB_EMALFORMED, "offset %zu: NUL byte: this is not a text table",
			       (size_t)((const char *)memchr(text, 0, len) - text));
	size_t off = 0;
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		off = 3; /* UTF-8 byte order mark */
	out->delimiter = o.delimiter ? o.delimiter : detect_delimiter(text + off, len - off);
	struct table t = {0};
	int rc = tokenize(text + off, len - off, out->delimiter, o.max_rows, &t, em);
	if (rc)
		goto err_table;
	size_t first = o.skip_rows < t.nrows ? o.skip_rows : t.nrows;
	/* Number of columns: the most common field count among the first 200 rows. */
	size_t best = 0, bestc = 0;
	for (size_t i = first; i < t.nrows && i < first + 200; i++) {
		size_t c = 0;
		for (size_t j = first; j < t.nrows && j < first + 200; j++)
			c += t.rows[j].n == t.rows[i].n;
		if (c > bestc) {
			bestc = c;
			best = t.rows[i].n;
		}
	}
	if (t.nrows - first > 2)
		while (first < t.nrows && t.rows[first].n != best)
			first++;
	out->skipped_rows = first;
	if (t.nrows == 0) {
		/* an empty file: a table of no columns and no rows, which the audit scores 0 */
		out->cols = lb_calloc(1, sizeof *out->cols);
		out->row_hash = lb_malloc(sizeof *out->row_hash);
		if (!out->cols || !out->row_hash) {
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
			goto err_profile;
		}
		goto done_empty;
	}
	if (first >= t.nrows) {
		rc = lb_errf(em, LB_EINVALID, "the table has no rows");
		goto err_table;
	}
	size_t ncols = best;
	bool header = o.header == 1;
	if (o.header < 0) {
		/* a single line of distinct non-numeric names is a header without rows */
		header = true;
		const struct row *h = &t.rows[first];
		for (size_t j = 0; header && j < h->n; j++) {
			const char *p = h->f[j].p;
			size_t n = h->f[j].n;
			double num;
			enum kind k = classify(p, n, &num);
			if (k != K_TEXT)
				header = false;
			for (size_t m = 0; header && m < j; m++)
				if (h->f[m].n == n && !memcmp(h->f[m].p, p, n))
					header = false;
		}
	}
	out->has_header = header;
	size_t data_first = first + (header ? 1 : 0);
	out->rows = t.nrows - data_first;
	for (size_t r = data_first; r < t.nrows; r++)
		out->ragged_rows += t.rows[r].n != ncols;
	out->cols = lb_calloc(ncols ? ncols : 1, sizeof *out->cols);
	if (!out->cols) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto err_table;
	}
	out->ncols = ncols;
	out->row_hash = lb_malloc((out->rows ? out->rows : 1) * sizeof *out->row_hash);
	if (!out->row_hash) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto err_profile;
	}
	for (size_t r = data_first; r < t.nrows; r++) {
		uint64_t h = 1469598103934665603ull;
		for (size_t j = 0; j < t.rows[r].n; j++) {
			const char *p = t.rows[r].f[j].p;
			size_t n = t.rows[r].f[j].n;
			trim(&p, &n);
			h = (h ^ data_hash64(p, n)) * 1099511628211ull + j;
		}
		out->row_hash[r - data_first] = h;
	}
	for (size_t j = 0; j < ncols; j++) {
		char name[256];
		if (header && j < t.rows[first].n) {
			const char *p = t.rows[first].f[j].p;
			size_t n = t.rows[first].f[j].n;
			trim(&p, &n);
			snprintf(name, sizeof name, "%.*s", (int)(n < 255 ? n : 255), p);
		} else {
			snprintf(name, sizeof name, "column %zu", j + 1);
		}
		rc = profile_column(&t, data_first, j, name, &out->cols[j]);
		if (rc) {
			rc = lb_errf(em, rc, "out of memory");
			goto err_profile;
		}
	}
done_empty:
	table_release(&t);
	return LB_OK;
err_profile:
	lb_csv_profile_release(out);
err_table:
	table_release(&t);
	return rc;
}

void lb_csv_profile_release(struct lb_csv_profile *p)
{
	for (size_t j = 0; j < p->ncols; j++) {
		struct lb_csv_column *c = &p->cols[j];
		lb_free(c->name);
		lb_free(c->values);
		lb_free(c->cells);
		lb_free(c->min_text);
		lb_free(c->max_text);
		for (size_t k = 0; k < c->ntop; k++)
			lb_free(c->top[k].value);
		for (size_t k = 0; k < c->nfreq; k++)
			lb_free(c->freq[k].value);
		lb_free(c->freq);
	}
	lb_free(p->cols);
	lb_free(p->row_hash);
	memset(p, 0, sizeof *p);
}

const char *lb_col_type_name(enum lb_col_type t)
{
	static const char *const names[] = {"empty", "integer", "real", "boolean", "date", "text"};
	return (unsigned)t < 6 ? names[t] : "?";
}

json_t *lb_csv_profile_json(const struct lb_csv_profile *p)
{
	json_t *cols = json_array();
	char d[2] = {p->delimiter, 0};
	json_t *o = json_pack("{s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:o}", "kind", "table", "delimiter", d,
			      "header", p->has_header, "skipped_rows", (json_int_t)p->skipped_rows,
			      "rows", (json_int_t)p->rows, "columns", (json_int_t)p->ncols,
			      "ragged_rows", (json_int_t)p->ragged_rows, "profile", cols);
	if (!o)
		return NULL;
	for (size_t j = 0; j < p->ncols; j++) {
		const struct lb_csv_column *c = &p->cols[j];
		json_t *cj = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "name", c->name, "type",
				       lb_col_type_name(c->type), "count", (json_int_t)c->count,
				       "missing", (json_int_t)c->missing, "distinct",
				       (json_int_t)c->distinct, "max_length",
				       (json_int_t)c->max_length);
		if (!cj)
			continue;
		if (c->nvalues) {
			json_t *h = json_array();
			for (int b = 0; b < LB_CSV_HIST_BINS; b++)
				json_array_append_new(h, json_integer((json_int_t)c->hist[b]));
			json_object_set_new(cj, "min", json_real(c->min));
			json_object_set_new(cj, "max", json_real(c->max));
			json_object_set_new(cj, "mean", json_real(c->mean));
			json_object_set_new(cj, "sd", json_real(c->sd));
			json_object_set_new(cj, "q25", json_real(c->q25));
			json_object_set_new(cj, "median", json_real(c->median));
			json_object_set_new(cj, "q75", json_real(c->q75));
			json_object_set_new(cj, "skew", json_real(c->skew));
			json_object_set_new(cj, "histogram", h);
		} else if (c->min_text) {
			json_object_set_new(cj, "min", json_string(c->min_text));
			json_object_set_new(cj, "max", json_string(c->max_text));
		}
		json_t *top = json_array();
		for (size_t k = 0; k < c->ntop; k++)
			json_array_append_new(top, json_pack("{s:s,s:I}", "value", c->top[k].value,
							     "count", (json_int_t)c->top[k].count));
		json_object_set_new(cj, "top", top);
		json_array_append_new(cols, cj);
	}
	return o;
}
