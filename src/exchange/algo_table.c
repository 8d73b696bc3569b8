/*
 * Tables for the exchange's algorithms: CSV bytes parsed into numeric and categorical columns
 * (column-major doubles, NAN for missing cells), the table of built-in algorithms, and the
 * parameter and JSON helpers every algorithm uses.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exchange/exchange_int.h"
#include "leben/base.h"

static bool parse_num(const char *p, size_t n, double *out);

void lb_table_init(struct lb_table *t)
{
	memset(t, 0, sizeof *t);
}

void lb_table_release(struct lb_table *t)
{
	for (size_t c = 0; c < t->ncols; c++) {
		struct lb_table_col *col = &t->cols[c];
		lb_free(col->name);
		lb_free(col->v);
		for (size_t l = 0; l < col->nlevels; l++)
			lb_free(col->levels[l]);
		lb_free(col->levels);
	}
	lb_free(t->cols);
	memset(t, 0, sizeof *t);
}

long lb_table_find(const struct lb_table *t, const char *name)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (strcmp(t->cols[c].name, name) == 0)
			return (long)c;
	return -1;
}

int lb_table_drop_rows(struct lb_table *t, size_t col, const char *const *ids, size_t n,
		       size_t *dropped, struct lb_errmsg *em)
{
	if (col >= t->ncols)
		return lb_errf(em, LB_EINVALID, "no column %zu to match patients against", col);
	const struct lb_table_col *c = &t->cols[col];
	/* what each id means in this column: a level index or a number (NAN: matches nothing) */
	double *key = lb_malloc((n ? n : 1) * sizeof *key);
	bool *drop = lb_calloc(t->nrows ? t->nrows : 1, sizeof *drop);
	if (!key || !drop) {
		lb_free(key);
		lb_free(drop);
		return LB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		key[i] = NAN;
		if (c->kind == LB_COL_CATEGORICAL) {
			for (size_t l = 0; l < c->nlevels; l++)
				if (strcmp(c->levels[l], ids[i]) == 0)
					key[i] = (double)l;
		} else {
			double v;
			if (parse_num(ids[i], strlen(ids[i]), &v))
				key[i] = v;
		}
	}
	size_t out = 0, gone = 0;
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < n && !drop[r]; i++)
			drop[r] = c->v[r] == key[i];
		gone += drop[r];
	}
	for (size_t r = 0; r < t->nrows; r++) {
		if (drop[r])
			continue;
		for (size_t j = 0; j < t->ncols; j++)
			t->cols[j].v[out] = t->cols[j].v[r];
		out++;
	}
	t->nrows = out;
	lb_free(key);
	lb_free(drop);
	if (dropped)
		*dropped = gone;
	return LB_OK;
}

/* ---- CSV tokenizer ------------------------------------------------------------------------ */

struct csvr {
	const char *s;    /* text */
	size_t len;       /* bytes */
	size_t pos;       /* next byte */
	char delim;       /* field separator */
	size_t line;      /* 1-based line of pos */
	struct lb_buf unq; /* unquoted copy of the current quoted field */
};

/* Next field: *f and *n the field text, *eol set when it ended the record (or the text). Returns
 * LB_OK, or LB_EMALFORMED for an unterminated quote. */
static int csv_field(struct csvr *r, const char **f, size_t *n, bool *eol, struct lb_errmsg *em)
{
	const char *s = r->s;
	size_t i = r->pos;
	if (i < r->len && s[i] == '"') {
		lb_buf_reset(&r->unq);
		size_t start_line = r->line;
		i++;
		for (;;) {
			if (i >= r->len)
				return lb_errf(em, LB_EMALFORMED, "line %zu: unterminated quoted field",
					       start_line);
			if (s[i] == '"') {
				if (i + 1 < r->len && s[i + 1] == '"') {
					if (lb_buf_addc(&r->unq, '"'))
						return LB_ETOOBIG;
					i += 2;
					continue;
				}
				i++;
				break;
			}
			if (s[i] == '\n')
				r->line++;
			if (lb_buf_addc(&r->unq, (uint8_t)s[i]))
				return lb_errf(em, LB_ETOOBIG, "line %zu: quoted field too long", start_line);
			i++;
		}
		*f = r->unq.data ? (const char *)r->unq.data : "";
		*n = r->unq.len;
	} else {
		size_t b = i;
		while (i < r->len && s[i] != r->delim && s[i] != '\n' && s[i] != '\r')
			i++;
		*f = s + b;
		*n = i - b;
	}
	if (i < r->len && s[i] == r->delim) {
		*eol = false;
		r->pos = i + 1;
		return LB_OK;
	}
	if (i < r->len && s[i] != '\r' && s[i] != '\n')
		return lb_errf(em, LB_EMALFORMED, "line %zu: text after a closing quote", r->line);
	if (i < r->len && s[i] == '\r')
		i++;
	if (i < r->len && s[i] == '\n')
		i++;
	r->line++;
	r->pos = i;
	*eol = true;
	return LB_OK;
}

static bool is_missing(const char *p, size_t n)
{
	static const char *const m[] = {"", "na", "n/a", "nan", "null", "none", "?", "."};
	if (n > 0 && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+'))
		return false; /* the common case: a number */
	while (n && isspace((unsigned char)*p))
		p++, n--;
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
		if (strlen(m[i]) == n && strncasecmp(p, m[i], n) == 0)
			return true;
	return false;
}

/* Parse a whole field as a finite number. */
static bool parse_num(const char *p, size_t n, double *out)
{
	char tmp[64];
	while (n && isspace((unsigned char)*p))
		p++, n--;
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	if (n == 0 || n >= sizeof tmp)
		return false;
	if (!(isdigit((unsigned char)p[0]) || p[0] == '-' || p[0] == '+' || p[0] == '.'))
		return false;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	char *end;
	errno = 0;
	double v = strtod(tmp, &end);
	if (end != tmp + n || errno == ERANGE || !isfinite(v))
		return false;
	/* refuse hexadecimal floats (inf and nan are not finite, refused above) */
	if (memchr(tmp, 'x', n) || memchr(tmp, 'X', n))
		return false;
	*out = v;
	return true;
}

static char detect_delim(const char *s, size_t len)
{
	size_t cnt[3] = {0, 0, 0};
	const char d[3] = {',', ';', '\t'};
	bool q = false;
	for (size_t i = 0; i < len && (q || (s[i] != '\n' && s[i] != '\r')); i++) {
		if (s[i] == '"')
			q = !q;
		for (int k = 0; k < 3 && !q; k++)
			if (s[i] == d[k])
				cnt[k]++;
	}
	int best = 0;
	for (int k = 1; k < 3; k++)
		if (cnt[k] > cnt[best])
			best = k;
	return d[best];
}

/* Level index of text in col, adding it (hash table h of size hcap, indices + 1). */
static int level_of(struct lb_table_col *col, size_t **h, size_t *hcap, const char *p, size_t n,
		    size_t *idx)
{
	if (*hcap == 0 || col->nlevels * 2 >= *hcap) {
		size_t ncap = *hcap ? *hcap * 2 : 64;
		size_t *nh = lb_calloc(ncap, sizeof *nh);
		if (!nh)
			return LB_ENOMEM;
		for (size_t l = 0; l < col->nlevels; l++) {
			uint64_t hv = 1469598103934665603ull;
			for (const char *q = col->levels[l]; *q; q++)
				hv = (hv ^ (uint8_t)*q) * 1099511628211ull;
			size_t j = hv & (ncap - 1);
			while (nh[j])
				j = (j + 1) & (ncap - 1);
			nh[j] = l + 1;
		}
		lb_free(*h);
		*h = nh;
		*hcap = ncap;
	}
	uint64_t hv = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		hv = (hv ^ (uint8_t)p[i]) * 1099511628211ull;
	size_t j = hv & (*hcap - 1);
	while ((*h)[j]) {
		const char *lv = col->levels[(*h)[j] - 1];
		if (strlen(lv) == n && memcmp(lv, p, n) == 0) {
			*idx = (*h)[j] - 1;
			return LB_OK;
		}
		j = (j + 1) & (*hcap - 1);
	}
	char **nl = lb_realloc(col->levels, (col->nlevels + 1) * sizeof *nl);
	if (!nl)
		return LB_ENOMEM;
	col->levels = nl;
	char *copy = lb_malloc(n + 1);
	if (!copy)
		return LB_ENOMEM;
	memcpy(copy, p, n);
	copy[n] = '\0';
	col->levels[col->nlevels] = copy;
	(*h)[j] = ++col->nlevels;
	*idx = col->nlevels - 1;
	return LB_OK;
}

/* Pass over the data rows: pass 0 counts rows, stores numbers (growing each column, vcap
 * its capacity) and finds categorical columns; pass 1, only when there are some, fills their
 * level indices. */
static int data_pass(struct csvr *r, struct lb_table *t, size_t first, int pass, size_t max_rows,
		     bool *categorical, size_t **hash, size_t *hcap, size_t *vcap, struct lb_errmsg *em)
{
	size_t row = 0;
	r->pos = first;
	r->line = 2;
	int rc;
	while (r->pos < r->len) {
		/* skip blank lines */
		if (r->s[r->pos] == '\n' || r->s[r->pos] == '\r') {
			if (r->s[r->pos] == '\r')
				r->pos++;
			if (r->pos < r->len && r->s[r->pos] == '\n')
				r->pos++;
			r->line++;
			continue;
		}
		if (max_rows && row >= max_rows)
			return lb_errf(em, LB_ETOOBIG, "table has more than %zu rows (the limit)", max_rows);
		size_t line = r->line;
		for (size_t c = 0;; c++) {
			const char *f;
			size_t n;
			bool eol;
			if ((rc = csv_field(r, &f, &n, &eol, em)))
				return rc;
			if (c >= t->ncols)
				return lb_errf(em, LB_EMALFORMED, "line %zu: more fields than the %zu columns of the header",
					       line, t->ncols);
			struct lb_table_col *col = &t->cols[c];
			if (pass == 0) {
				double v = NAN;
				bool miss = is_missing(f, n);
				if (!miss && !parse_num(f, n, &v))
					categorical[c] = true;
				if (row >= vcap[c]) {
					size_t nc = vcap[c] ? vcap[c] * 2 : 1024;
					double *nv = lb_realloc(col->v, nc * sizeof *nv);
					if (!nv)
						return lb_errf(em, LB_ENOMEM, "out of memory at line %zu", line);
					col->v = nv;
					vcap[c] = nc;
				}
				col->v[row] = v;
			} else if (col->kind == LB_COL_CATEGORICAL) {
				if (is_missing(f, n)) {
					col->v[row] = NAN;
				} else {
					size_t idx;
					while (n && isspace((unsigned char)*f))
						f++, n--;
					while (n && isspace((unsigned char)f[n - 1]))
						n--;
					if ((rc = level_of(col, &hash[c], &hcap[c], f, n, &idx)))
						return lb_errf(em, rc, "out of memory reading categories");
					col->v[row] = (double)idx;
				}
			}
			if (eol) {
				if (c + 1 != t->ncols)
					return lb_errf(em, LB_EMALFORMED, "line %zu: %zu fields, the header has %zu",
						       line, c + 1, t->ncols);
				break;
			}
		}
		row++;
	}
	t->nrows = row;
	return LB_OK;
}

int lb_table_parse_csv(const char *text, size_t len, size_t max_rows, struct lb_table *t,
		       struct lb_errmsg *em)
{
	lb_table_init(t);
	struct csvr r = {.s = text, .len = len, .line = 1};
	lb_buf_init(&r.unq, 1u << 20);
	int rc = LB_OK;
	bool *categorical = NULL;
	size_t **hash = NULL, *hcap = NULL, *vcap = NULL;
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		r.pos = 3;
	if (r.pos >= len) {
		rc = lb_errf(em, LB_EMALFORMED, "the CSV is empty (no header line)");
		goto out;
	}
	r.delim = detect_delim(text + r.pos, len - r.pos);
	/* header */
	for (;;) {
		const char *f;
		size_t n;
		bool eol;
		if ((rc = csv_field(&r, &f, &n, &eol, em)))
			goto out;
		while (n && isspace((unsigned char)*f))
			f++, n--;
		while (n && isspace((unsigned char)f[n - 1]))
			n--;
		if (n == 0) {
			rc = lb_errf(em, LB_EMALFORMED, "header: column %zu has no name", t->ncols + 1);
			goto out;
		}
		if (t->ncols >= LB_TABLE_MAX_COLS) {
			rc = lb_errf(em, LB_ETOOBIG, "header: more than %d columns", LB_TABLE_MAX_COLS);
			goto out;
		}
		struct lb_table_col *nc = lb_realloc(t->cols, (t->ncols + 1) * sizeof *nc);
		if (!nc) {
			rc = LB_ENOMEM;
			goto out;
		}
		t->cols = nc;
		memset(&t->cols[t->ncols], 0, sizeof *nc);
		t->cols[t->ncols].name = lb_malloc(n + 1);
		if (!t->cols[t->ncols].name) {
			rc = LB_ENOMEM;
			goto out;
		}
		memcpy(t->cols[t->ncols].name, f, n);
		t->cols[t->ncols].name[n] = '\0';
		for (size_t c = 0; c < t->ncols; c++)
			if (strcmp(t->cols[c].name, t->cols[t->ncols].name) == 0) {
				rc = lb_errf(em, LB_EMALFORMED, "header: column name '%s' appears twice",
					     t->cols[c].name);
				t->ncols++;
				goto out;
			}
		t->ncols++;
		if (eol)
			break;
	}
	size_t first = r.pos;
	categorical = lb_calloc(t->ncols, sizeof *categorical);
	hash = lb_calloc(t->ncols, sizeof *hash);
	hcap = lb_calloc(t->ncols, sizeof *hcap);
	vcap = lb_calloc(t->ncols, sizeof *vcap);
	if (!categorical || !hash || !hcap || !vcap) {
		rc = LB_ENOMEM;
		goto out;
	}
	if ((rc = data_pass(&r, t, first, 0, max_rows, categorical, hash, hcap, vcap, em)))
		goto out;
	bool any_cat = false;
	for (size_t c = 0; c < t->ncols; c++) {
		t->cols[c].kind = categorical[c] ? LB_COL_CATEGORICAL : LB_COL_NUMERIC;
		any_cat |= categorical[c];
		if (!t->cols[c].v && !(t->cols[c].v = lb_malloc(sizeof(double)))) {
			rc = LB_ENOMEM;
			goto out;
		}
	}
	if (any_cat && (rc = data_pass(&r, t, first, 1, max_rows, categorical, hash, hcap, vcap, em)))
		goto out;
out:
	if (hash)
		for (size_t c = 0; c < t->ncols; c++)
			lb_free(hash[c]);
	lb_free(hash);
	lb_free(hcap);
	lb_free(vcap);
	lb_free(categorical);
	lb_buf_release(&r.unq);
	if (rc)
		lb_table_release(t);
	return rc;
}

/* ---- parameters ---------------------------------------------------------------------------- */

int xparam_only(const json_t *params, const char *const *allowed, struct lb_errmsg *em)
{
	if (!params)
		return LB_OK;
	if (!json_is_object(params))
		return lb_errf(em, LB_EINVALID, "parameters must be a JSON object");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)params, key, v)
	{
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			if (strcmp(allowed[i], key) == 0)
				ok = true;
		if (!ok)
			return lb_errf(em, LB_EINVALID, "unknown parameter '%s'", key);
	}
	return LB_OK;
}

int xparam_str(const json_t *params, const char *key, const char *def, const char **out,
	       struct lb_errmsg *em)
{
	json_t *v = params ? json_object_get(params, key) : NULL;
	if (!v || json_is_null(v)) {
		*out = def;
		return LB_OK;
	}
	if (!json_is_string(v))
		return lb_errf(em, LB_EINVALID, "parameter '%s' must be a string", key);
	*out = json_string_value(v);
	return LB_OK;
}

int xparam_num(const json_t *params, const char *key, double def, double lo, double hi,
	       double *out, struct lb_errmsg *em)
{
	json_t *v = params ? json_object_get(params, key) : NULL;
	if (!v || json_is_null(v)) {
		*out = def;
		return LB_OK;
	}
	if (!json_is_number(v))
		return lb_errf(em, LB_EINVALID, "parameter '%s' must be a number", key);
	double d = json_number_value(v);
	if (!(d >= lo && d <= hi))
		return lb_errf(em, LB_EINVALID, "parameter '%s' = %g is outside [%g, %g]", key, d, lo, hi);
	*out = d;
	return LB_OK;
}

int xparam_bool(const json_t *params, const char *key, bool def, bool *out, struct lb_errmsg *em)
{
	json_t *v = params ? json_object_get(params, key) : NULL;
	if (!v || json_is_null(v)) {
		*out = def;
		return LB_OK;
	}
	if (!json_is_boolean(v))
		return lb_errf(em, LB_EINVALID, "parameter '%s' must be true or false", key);
	*out = json_is_true(v);
	return LB_OK;
}

static int col_by_name(const struct lb_table *t, const char *key, const char *name,
		       bool want_numeric, size_t *col, struct lb_errmsg *em)
{
	long c = lb_table_find(t, name);
	if (c < 0)
		return lb_errf(em, LB_EINVALID, "parameter '%s': no column named '%s'", key, name);
	if (want_numeric && t->cols[c].kind != LB_COL_NUMERIC)
		return lb_errf(em, LB_EINVALID, "parameter '%s': column '%s' is not numeric", key, name);
	*col = (size_t)c;
	return LB_OK;
}

int xparam_col(const struct lb_table *t, const json_t *params, const char *key,
	       bool want_numeric, size_t *col, struct lb_errmsg *em)
{
	const char *name = NULL;
	int rc = xparam_str(params, key, NULL, &name, em);
	if (rc)
		return rc;
	if (!name)
		return lb_errf(em, LB_EINVALID, "parameter '%s' (a column name) is required", key);
	return col_by_name(t, key, name, want_numeric, col, em);
}

int xparam_cols(const struct lb_table *t, const json_t *params, const char *key,
		bool all_numeric_default, size_t **cols, size_t *n, struct lb_errmsg *em)
{
	json_t *v = params ? json_object_get(params, key) : NULL;
	*cols = NULL;
	*n = 0;
	if (!v || json_is_null(v)) {
		if (!all_numeric_default)
			return lb_errf(em, LB_EINVALID, "parameter '%s' (a list of column names) is required", key);
		*cols = lb_malloc((t->ncols ? t->ncols : 1) * sizeof **cols);
		if (!*cols)
			return LB_ENOMEM;
		for (size_t c = 0; c < t->ncols; c++)
			if (t->cols[c].kind == LB_COL_NUMERIC)
				(*cols)[(*n)++] = c;
		return LB_OK;
	}
	if (json_is_string(v)) {
		*cols = lb_malloc(sizeof **cols);
		if (!*cols)
			return LB_ENOMEM;
		*n = 1;
		int rc = col_by_name(t, key, json_string_value(v), true, *cols, em);
		if (rc) {
			lb_free(*cols);
			*cols = NULL;
			*n = 0;
		}
		return rc;
	}
	if (!json_is_array(v) || json_array_size(v) == 0)
		return lb_errf(em, LB_EINVALID, "parameter '%s' must be a non-empty list of column names", key);
	*cols = lb_malloc(json_array_size(v) * sizeof **cols);
	if (!*cols)
		return LB_ENOMEM;
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *e = json_array_get(v, i);
		int rc = json_is_string(e) ? col_by_name(t, key, json_string_value(e), true, &(*cols)[i], em)
					   : lb_errf(em, LB_EINVALID, "parameter '%s': entry %zu is not a string", key, i);
		if (rc) {
			lb_free(*cols);
			*cols = NULL;
			return rc;
		}
	}
	*n = json_array_size(v);
	return LB_OK;
}

/* ---- JSON helpers -------------------------------------------------------------------------- */

json_t *xjson_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

char *xjson_canonical(const json_t *v)
{
	return json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17));
}

/* ---- the table of built-in algorithms ------------------------------------------------------ */

static const struct lb_algo ALGOS[] = {
	{"stats", xalgo_stats, "descriptive statistics of columns (count, missing, mean, sd, histogram)",
	 "columns=[names] (default: every column), bins=N with range=[lo,hi] (never from the data)"},
	{"crosstab", xalgo_crosstab, "cross-tabulation of two columns with the chi-square statistic",
	 "rows=name, cols=name"},
	{"linreg", xalgo_linreg, "ordinary least-squares linear regression with standard errors and R²",
	 "y=name, x=[names]"},
	{"logreg", xalgo_logreg, "L2-regularised logistic regression (Newton), training accuracy",
	 "y=name (0/1), x=[names], C=1.0 (0: no penalty), standardize=false, max_iter=100, tol=1e-10"},
	{"kmeans", xalgo_kmeans, "k-means clustering (k-means++ start, Lloyd iterations)",
	 "columns=[names], k=N, seed=1, max_iter=300, standardize=false"},
	{"km", xalgo_km, "Kaplan–Meier survival curve with Greenwood standard errors, in steps of at least "
			 "the minimum cohort",
	 "time=name, event=name (1 event, 0 censored), group=name (optional)"},
};

const struct lb_algo *lb_algo_table(size_t *n)
{
	*n = sizeof ALGOS / sizeof ALGOS[0];
	return ALGOS;
}

const struct lb_algo *lb_algo_find(const char *name)
{
	for (size_t i = 0; i < sizeof ALGOS / sizeof ALGOS[0]; i++)
		if (strcmp(ALGOS[i].name, name) == 0)
			return &ALGOS[i];
	return NULL;
}
