/*
 * Running a request where no sandbox runner is wired in yet: the patients of a CSV table
 * (their pseudonymous ids, so revoked consents can be left out), the built-in "stats"
 * algorithm over the remaining rows, and the owner's output policy (minimum cohort, largest
 * output) before a result may be sealed to the user. The sandbox runner and its richer release
 * policy take over this step once they are part of the node (docs/exchange.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/xchg_int.h"

#define CSV_MAX_COLS 256
#define CELL_MAX 256

/* One line split at commas into cells (pointers into a copy of the line). */
struct row {
	char *buf;
	char *cell[CSV_MAX_COLS];
	size_t n;
};

static int split(const uint8_t *p, size_t n, struct row *r, size_t lineno, struct lb_errmsg *em)
{
	r->buf = lb_malloc(n + 1);
	if (!r->buf)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	memcpy(r->buf, p, n);
	r->buf[n] = 0;
	if (n && r->buf[n - 1] == '\r')
		r->buf[n - 1] = 0;
	if (memchr(r->buf, '"', n) || strlen(r->buf) != (n && p[n - 1] == '\r' ? n - 1 : n)) {
		lb_free(r->buf);
		r->buf = NULL;
		return lb_errf(em, LB_EMALFORMED, "line %zu: quoted fields and NUL bytes are not read here",
			       lineno);
	}
	r->n = 0;
	char *s = r->buf;
	for (;;) {
		if (r->n == CSV_MAX_COLS) {
			lb_free(r->buf);
			r->buf = NULL;
			return lb_errf(em, LB_ETOOBIG, "line %zu: more than %d columns", lineno,
				       CSV_MAX_COLS);
		}
		r->cell[r->n++] = s;
		char *c = strchr(s, ',');
		if (!c)
			break;
		*c = 0;
		s = c + 1;
	}
	return LB_OK;
}

/* Walk the lines of csv: header first. Calls fn for every data row. */
typedef int (*row_fn)(void *ctx, const struct row *hdr, const struct row *r, size_t lineno,
		      struct lb_errmsg *em);

static int csv_walk(const uint8_t *csv, size_t len, row_fn fn, void *ctx, struct row *hdr,
		    struct lb_errmsg *em)
{
	size_t pos = 0, lineno = 0;
	int rc = LB_OK;
	hdr->buf = NULL;
	while (pos < len && !rc) {
		const uint8_t *nl = memchr(csv + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (csv + pos)) : len - pos;
		lineno++;
		if (n == 0 || (n == 1 && csv[pos] == '\r')) {
			pos += n + 1;
			continue;
		}
		if (!hdr->buf) {
			rc = split(csv + pos, n, hdr, lineno, em);
		} else {
			struct row r;
			if (!(rc = split(csv + pos, n, &r, lineno, em))) {
				if (r.n != hdr->n)
					rc = lb_errf(em, LB_EMALFORMED, "line %zu has %zu cells, the header %zu",
						     lineno, r.n, hdr->n);
				else
					rc = fn(ctx, hdr, &r, lineno, em);
				lb_free(r.buf);
			}
		}
		pos += n + 1;
	}
	if (!rc && !hdr->buf)
		rc = lb_errf(em, LB_EMALFORMED, "the table is empty (no header line)");
	return rc;
}

static long col_index(const struct row *hdr, const char *name)
{
	for (size_t i = 0; i < hdr->n; i++)
		if (!strcmp(hdr->cell[i], name))
			return (long)i;
	return -1;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, LB_HASH_LEN);
}

struct pat_ctx {
	const char *col;
	const uint8_t *asset;
	long idx;
	uint8_t *ids;
	size_t n, cap;
};

static int pat_row(void *ctx, const struct row *hdr, const struct row *r, size_t lineno,
		   struct lb_errmsg *em)
{
	struct pat_ctx *k = ctx;
	if (k->idx < 0 && (k->idx = col_index(hdr, k->col)) < 0)
		return lb_errf(em, LB_ENOTFOUND, "the table has no column '%s' naming the patient",
			       k->col);
	const char *v = r->cell[k->idx];
	if (!*v)
		return lb_errf(em, LB_EMALFORMED, "line %zu: the patient id is empty", lineno);
	if (k->n == k->cap) {
		size_t nc = k->cap ? 2 * k->cap : 256;
		uint8_t *p = lb_realloc(k->ids, nc * LB_HASH_LEN);
		if (!p)
			return lb_errf(em, LB_ENOMEM, "out of memory");
		k->ids = p;
		k->cap = nc;
	}
	lb_xchg_patient_id(k->ids + k->n++ * LB_HASH_LEN, k->asset, v);
	return LB_OK;
}

int lb_xchg_csv_patients(const uint8_t *csv, size_t len, const char *patient_col,
			 const uint8_t asset[LB_HASH_LEN], uint8_t **ids, size_t *n,
			 struct lb_errmsg *em)
{
	struct pat_ctx k = {patient_col, asset, -1, NULL, 0, 0};
	struct row hdr;
	int rc = csv_walk(csv, len, pat_row, &k, &hdr, em);
	if (!rc && k.idx < 0 && col_index(&hdr, patient_col) < 0)
		rc = lb_errf(em, LB_ENOTFOUND, "the table has no column '%s' naming the patient",
			     patient_col);
	lb_free(hdr.buf);
	if (rc) {
		lb_free(k.ids);
		return rc;
	}
	size_t m = 0;
	if (k.n) {
		qsort(k.ids, k.n, LB_HASH_LEN, cmp_id);
		for (size_t i = 0; i < k.n; i++)
			if (!m || memcmp(k.ids + (m - 1) * LB_HASH_LEN, k.ids + i * LB_HASH_LEN, LB_HASH_LEN))
				memmove(k.ids + m++ * LB_HASH_LEN, k.ids + i * LB_HASH_LEN, LB_HASH_LEN);
	}
	*ids = k.ids ? k.ids : lb_malloc(1);
	*n = m;
	return *ids ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}

/* ---- built-in stats ---------------------------------------------------------------------- */

struct stats_ctx {
	const char *col;
	const uint8_t *asset, *exclude;
	size_t n_exclude;
	long pidx;
	size_t ncols;
	bool numeric[CSV_MAX_COLS];
	uint64_t n[CSV_MAX_COLS];
	double mean[CSV_MAX_COLS], m2[CSV_MAX_COLS], min[CSV_MAX_COLS], max[CSV_MAX_COLS];
	uint8_t *used;   /* patient ids used (unsorted, duplicates) */
	size_t nused, capused;
};

static bool parse_num(const char *s, double *v)
{
	char *end;
	if (!*s)
		return false;
	*v = strtod(s, &end);
	return *end == 0 && isfinite(*v);
}

static int stats_row(void *ctx, const struct row *hdr, const struct row *r, size_t lineno,
		     struct lb_errmsg *em)
{
	struct stats_ctx *k = ctx;
	if (k->pidx < 0) {
		if ((k->pidx = col_index(hdr, k->col)) < 0)
			return lb_errf(em, LB_ENOTFOUND, "the table has no column '%s' naming the patient",
				       k->col);
		k->ncols = hdr->n;
		for (size_t i = 0; i < hdr->n; i++)
			k->numeric[i] = (long)i != k->pidx;
	}
	uint8_t pid[LB_HASH_LEN];
	lb_xchg_patient_id(pid, k->asset, r->cell[k->pidx]);
	if (k->n_exclude && bsearch(pid, k->exclude, k->n_exclude, LB_HASH_LEN, cmp_id))
		return LB_OK;
	if (k->nused == k->capused) {
		size_t nc = k->capused ? 2 * k->capused : 256;
		uint8_t *p = lb_realloc(k->used, nc * LB_HASH_LEN);
		if (!p)
			return lb_errf(em, LB_ENOMEM, "out of memory");
		k->used = p;
		k->capused = nc;
	}
	memcpy(k->used + k->nused++ * LB_HASH_LEN, pid, LB_HASH_LEN);
	for (size_t i = 0; i < k->ncols; i++) {
		double v;
		if (!k->numeric[i] || !r->cell[i][0])
			continue;
		if (!parse_num(r->cell[i], &v)) {
			k->numeric[i] = false; /* a text column: left out */
			continue;
		}
		/* Welford's running mean and sum of squared deviations */
		uint64_t n = ++k->n[i];
		double d = v - k->mean[i];
		k->mean[i] += d / (double)n;
		k->m2[i] += d * (v - k->mean[i]);
		if (n == 1 || v < k->min[i])
			k->min[i] = v;
		if (n == 1 || v > k->max[i])
			k->max[i] = v;
	}
	(void)lineno;
	return LB_OK;
}

int lb_xchg_run_builtin(const char *name, const uint8_t *csv, size_t len,
			const char *patient_col, const uint8_t asset[LB_HASH_LEN],
			const uint8_t *exclude, size_t n_exclude, json_t **result,
			struct lb_errmsg *em)
{
	if (strcmp(name, "stats"))
		return lb_errf(em, LB_EUNSUPPORTED,
			       "built-in algorithm '%s' is not available on this node (only 'stats')",
			       name);
	struct stats_ctx *k = lb_calloc(1, sizeof *k);
	struct row hdr;
	if (!k)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	k->col = patient_col;
	k->asset = asset;
	k->exclude = exclude;
	k->n_exclude = n_exclude;
	k->pidx = -1;
	int rc = csv_walk(csv, len, stats_row, k, &hdr, em);
	if (rc)
		goto out;
	size_t patients = 0;
	if (k->nused) {
		qsort(k->used, k->nused, LB_HASH_LEN, cmp_id);
		for (size_t i = 0; i < k->nused; i++)
			patients += i == 0 || memcmp(k->used + (i - 1) * LB_HASH_LEN,
						     k->used + i * LB_HASH_LEN, LB_HASH_LEN);
	}
	json_t *cols = json_object();
	for (size_t i = 0; i < k->ncols; i++) {
		if (!k->numeric[i] || !k->n[i])
			continue;
		double sd = k->n[i] > 1 ? sqrt(k->m2[i] / (double)(k->n[i] - 1)) : 0;
		json_object_set_new(cols, hdr.cell[i],
				    json_pack("{s:I,s:f,s:f,s:f,s:f}", "n", (json_int_t)k->n[i],
					      "mean", k->mean[i], "sd", sd, "min", k->min[i], "max",
					      k->max[i]));
	}
	*result = json_pack("{s:s,s:I,s:I,s:o}", "algorithm", "stats", "n", (json_int_t)patients,
			    "rows", (json_int_t)k->nused, "columns", cols);
	if (!*result)
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
out:
	lb_free(hdr.buf);
	lb_free(k->used);
	lb_free(k);
	return rc;
}

int lb_xchg_release_check(const json_t *result, uint64_t min_cohort, uint64_t max_output,
			  char **text, size_t *len, uint8_t hash[LB_HASH_LEN], struct lb_errmsg *em)
{
	json_t *n = json_object_get(result, "n");
	*text = NULL;
	memset(hash, 0, LB_HASH_LEN);
	if (!json_is_integer(n))
		return lb_errf(em, LB_EDENIED, "the result has no cohort size \"n\": only aggregates "
					       "may be released");
	if ((uint64_t)json_integer_value(n) < min_cohort)
		return lb_errf(em, LB_EDENIED,
			       "the result describes %lld patients, fewer than the owner's minimum "
			       "cohort of %llu",
			       (long long)json_integer_value(n), (unsigned long long)min_cohort);
	char *s = json_dumps(result, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	size_t sl = strlen(s);
	if (sl > max_output) {
		free(s);
		return lb_errf(em, LB_EDENIED,
			       "the result is %zu bytes, more than the owner's limit of %llu", sl,
			       (unsigned long long)max_output);
	}
	*text = lb_malloc(sl + 1);
	if (!*text) {
		free(s);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	memcpy(*text, s, sl + 1);
	free(s);
	*len = sl;
	lb_hash(hash, *text, sl);
	return LB_OK;
}
