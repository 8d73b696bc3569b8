/*
 * Internals shared by the files of src/exchange/ (not API): parameter helpers, small dense
 * linear algebra, and the local ("partial") steps of the algorithms that the federated
 * versions sum across owners.
 */
#ifndef LEBEN_EXCHANGE_INT_H
#define LEBEN_EXCHANGE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/algo.h"
#include "leben/error.h"

/* ---- parameters (params may be NULL: every getter then returns its default) -------------- */

/* String parameter key (borrowed from params) or def; LB_EINVALID if present and not a string. */
int xparam_str(const json_t *params, const char *key, const char *def, const char **out,
	       struct lb_errmsg *em);
/* Number parameter in [lo, hi] or def. */
int xparam_num(const json_t *params, const char *key, double def, double lo, double hi,
	       double *out, struct lb_errmsg *em);
int xparam_bool(const json_t *params, const char *key, bool def, bool *out, struct lb_errmsg *em);
/* Column index of the string parameter key (required), checked numeric if want_numeric. */
int xparam_col(const struct lb_table *t, const json_t *params, const char *key,
	       bool want_numeric, size_t *col, struct lb_errmsg *em);
/* Array of column names under key (required unless all_numeric_default: then every numeric
 * column). *cols allocated (lb_free), *n entries. */
int xparam_cols(const struct lb_table *t, const json_t *params, const char *key,
		bool all_numeric_default, size_t **cols, size_t *n, struct lb_errmsg *em);
/* Refuse keys of params not in the NULL-terminated list (LB_EINVALID naming the key). */
int xparam_only(const json_t *params, const char *const *allowed, struct lb_errmsg *em);

/* ---- patients known by commitment (xchg_run.c) --------------------------------------------- */

/* The local ids (column patient_col of t) whose commitment lb_xchg_patient_commit(asset,
 * salt_key, local) is among the n ids; *out allocated, free with xchg_locals_free. salt_key
 * (32 bytes) NULL: LB_EINVALID. */
int xchg_locals_of(const struct lb_table *t, const char *patient_col, const uint8_t asset[32],
		   const uint8_t *salt_key, const uint8_t *ids, size_t n, const char ***out,
		   size_t *nout, struct lb_errmsg *em);
void xchg_locals_free(const char **loc, size_t n);

/* ---- linear algebra ------------------------------------------------------------------------ */

/* Solve A x = b for a symmetric positive-definite p x p A (row-major, overwritten by its
 * Cholesky factor); b overwritten by x. LB_EINVALID if A is not positive definite. If inv is
 * not NULL, it receives A^-1 (p x p). */
int xlin_solve_spd(double *A, double *b, size_t p, double *inv, struct lb_errmsg *em);

/* ---- logistic regression (shared by the central and federated fits) ------------------------ */

/* Design of a fit: column indices of x and y; standardisation (mean, scale) per x column
 * (scale 1, mean 0 when not standardising). */
struct xlogreg_design {
	size_t p;            /* number of x columns */
	const size_t *xcols; /* borrowed, p indices */
	size_t ycol;         /* outcome column: values 0 or 1 */
	const double *mean;  /* borrowed, p values */
	const double *scale; /* borrowed, p values */
};

/* Number of values of one partial: gradient (p+1), Hessian upper triangle ((p+1)(p+2)/2), loss,
 * n, correct. */
size_t xlogreg_partial_len(size_t p);
/* Partial sums over the complete rows of t at coefficients w (p+1: intercept first) into out
 * (xlogreg_partial_len values). LB_EINVALID if y is not 0/1. */
int xlogreg_partial(const struct lb_table *t, const struct xlogreg_design *d, const double *w,
		    double *out, struct lb_errmsg *em);
/* One Newton step from summed partials with L2 penalty 1/C on non-intercept weights (C <= 0: no
 * penalty); updates w, returns the step's max |delta| in *delta and the penalised loss. */
int xlogreg_newton(const double *sum, size_t p, double C, double *w, double *delta, double *loss,
		   struct lb_errmsg *em);

/* ---- Kaplan–Meier ---------------------------------------------------------------------------- */

/* Curve from per-time counts over ascending times[0..k-1] with d events and c censorings at
 * each, n subjects in all. Stops before at-risk drops below min_at_risk (0 = never). Adds
 * "time", "at_risk", "events", "censored", "survival", "se" arrays, "median" and "truncated" to
 * obj. */
int xkm_curve(json_t *obj, const double *times, const double *d, const double *c, size_t k,
	      double n, unsigned min_at_risk, struct lb_errmsg *em);

/* ---- provenance recorder (agg.c) ------------------------------------------------------------ */

#include "leben/sandbox.h"

struct lb_buf;

/* One recorded value: kind, record set, the value, what it describes. */
struct xprov_cell {
	enum lb_prov_kind kind;
	unsigned flags;       /* LB_PROV_* */
	uint32_t set;         /* index into sets */
	double value;         /* the number (LABEL of a numeric level: the level) */
	char *label;          /* owned: LABEL text, NULL for a numeric level */
	char *column;         /* owned: the described variable ("" for counts) */
	char *colkey;         /* owned: sorted value columns, comma-separated ("" for counts) */
	char *ptr, *path;     /* owned once placed in the result */
	bool suppressible;    /* a cell (histogram, table, curve, level): n < k (0 too) gives null;
	                       * else the release check refuses the whole result */
	uint32_t group[2];    /* lines of disjoint cells whose total is known (0 = none): the
	                       * cells suppressed in a line must total 0 or >= k records */
};

/* The jail's recorder: every aggregate an algorithm hands out is a placeholder {"$prov": id}
 * in its result JSON, resolved by xprov_finish. */
struct xprov {
	const struct lb_table *t; /* borrowed */
	const uint64_t *keys;     /* borrowed record key per row, or NULL (key = row index) */
	unsigned k;               /* min_cohort */
	struct lb_prov_set *sets; /* owned, nsets (deduplicated) */
	size_t nsets, capsets;
	struct xprov_cell *cells; /* owned, ncells */
	size_t ncells, capcells;
	json_t *suppressed;       /* paths of suppressed cells (array) */
	uint32_t ngroups;         /* groups handed out */
	bool per_record;          /* a review run's script read rows (data.col): no provenance */
	uint32_t *htab;           /* owned: set index + 1 by hash of its keys (open addressing) */
	size_t hcap;
	const struct lb_prov_set *prior; /* borrowed: record sets released earlier to this user on
	                          * this asset (the executor's history), nprior of them */
	size_t nprior;
	uint64_t *rowkeys;        /* owned, lazily: the table's record keys, sorted (membership) */
	uint32_t *filters;        /* owned: the sets of the filters used so far (sticky targets) */
	size_t nfilters, capfilters;
};

void xprov_init(struct xprov *P, const struct lb_table *t, const uint64_t *keys, unsigned k);
void xprov_release(struct xprov *P);
/* Set of the rows r with mask[r] != 0 (mask: t->nrows bytes); *id its index. */
int xprov_set_mask(struct xprov *P, const uint8_t *mask, uint32_t *id);
/* Set of rows[0..n-1] (any order, duplicates allowed). */
int xprov_set_rows(struct xprov *P, const uint32_t *rows, size_t n, uint32_t *id);
size_t xprov_n(const struct xprov *P, uint32_t set);
/* Sticky sets: when the rows of mask (t->nrows bytes) differ by 0 < d < min_cohort records from
 * the records of a filter already used in this run, or from a prior set (released earlier to the same user, all of
 * whose records are in this table), rewrite mask to that set's rows. Then two aggregates whose
 * filters select nearly the same records are computed over the same records, and whether a
 * filter moved a few records or none cannot be told from the output, a withheld release or a
 * stopped run. LB_ENOMEM only. */
int xprov_snap_mask(struct xprov *P, uint8_t *mask);
/* A value over set: new placeholder (NULL on allocation failure); *cell (may be NULL) its id. */
json_t *xprov_num(struct xprov *P, enum lb_prov_kind kind, const char *column, const char *colkey,
		  uint32_t set, double value, bool suppressible, size_t *cell);
/* The count cell may show an empty set as 0: the algorithm guarantees it never holds 1 ..
 * min_cohort - 1 records (Kaplan–Meier steps), so 0 tells nothing a suppression would hide. */
void xprov_zero_ok(struct xprov *P, size_t cell);
/* A new group id (a line of disjoint cells, e.g. one histogram, one row of a table). */
uint32_t xprov_group(struct xprov *P);
/* Put cell in up to two groups (0 = none). */
void xprov_in_group(struct xprov *P, size_t cell, uint32_t g1, uint32_t g2);
/* A level name (text, or NULL for a numeric level num) over the rows having it. */
json_t *xprov_label(struct xprov *P, const char *text, double num, uint32_t set);
/* A script reads cell: refused (LB_EDENIED, why) if its set has 0 < n < k records or differs
 * from a set read before over meeting columns by 0 < d < k; else marks it read. */
int xprov_read(struct xprov *P, size_t cell, struct lb_errmsg *em);
/* Replace every placeholder of result by its value (null + listed under "suppressed" when
 * suppressible and 0 < n < k), recording where it went. LB_EINVALID on a stray placeholder. */
int xprov_finish(struct xprov *P, json_t *result, struct lb_errmsg *em);
/* The provenance frame (decoded by lb_provenance_decode). */
int xprov_encode(const struct xprov *P, struct lb_buf *out);
/* Size of the symmetric difference of two sorted key lists, counting stops at stop. */
size_t xprov_symdiff(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, size_t stop);
/* Whether two values must be compared for differencing: two counts, or two non-counts whose
 * column lists meet. Labels never. */
bool xprov_meet(enum lb_prov_kind ka, const char *ca, enum lb_prov_kind kb, const char *cb);
/* Sorted, comma-separated column names of cols (n indices of t) into out (lb_free). */
char *xprov_colkey(const struct lb_table *t, const size_t *cols, size_t n);
/* Run a built-in over t recording into ctx->prov (or a private recorder) and finish it. */
int xprov_run(int (*impl)(struct xprov *, const struct lb_table *, const json_t *,
			  const struct lb_algo_ctx *, json_t **, struct lb_errmsg *),
	      const struct lb_table *t, const json_t *params, const struct lb_algo_ctx *ctx,
	      json_t **result, struct lb_errmsg *em);

/* Shared aggregate builders (the built-ins and the Lua agg library), each over the rows r with
 * mask[r] (mask NULL: every row), rows missing a used column left out; *out is a new JSON
 * value holding placeholders. */
/* count (col < 0), or sum / mean / sd of numeric column col: one placeholder; *cell its id. */
int xagg_scalar(struct xprov *P, const struct lb_table *t, enum lb_prov_kind kind, long col,
		const uint8_t *mask, json_t **out, size_t *cell, struct lb_errmsg *em);
/* {"column","edges","counts","n"}: bins [e_i, e_i+1), the last closed; edges strictly
 * increasing (2..1001), from the parameters or the policy, never from the data. */
int xagg_hist(struct xprov *P, const struct lb_table *t, size_t col, const double *edges,
	      size_t nedges, const uint8_t *mask, json_t **out, struct lb_errmsg *em);
/* {"rows","cols","row_levels","col_levels","counts","row_counts","col_counts","n","chi2","df"} */
int xagg_crosstab(struct xprov *P, const struct lb_table *t, size_t a, size_t b,
		  const uint8_t *mask, json_t **out, struct lb_errmsg *em);
/* {"n","y","x","coefficients","coef","se","r2","sigma"} (ordinary least squares) */
int xagg_linreg(struct xprov *P, const struct lb_table *t, size_t y, const size_t *x, size_t p,
		const uint8_t *mask, json_t **out, struct lb_errmsg *em);

/* ---- helpers ------------------------------------------------------------------------------- */

/* JSON number that is null for NaN/inf (jansson refuses non-finite reals). */
json_t *xjson_num(double v);
/* Canonical JSON text of v (sorted keys, compact, reals with 17 significant digits);
 * caller frees with free(). */
char *xjson_canonical(const json_t *v);

/* ---- built-in algorithms (the rows of lb_algo_table) -------------------------------------- */

int xalgo_stats(const struct lb_table *, const json_t *, const struct lb_algo_ctx *, json_t **,
		struct lb_errmsg *);
int xalgo_crosstab(const struct lb_table *, const json_t *, const struct lb_algo_ctx *, json_t **,
		   struct lb_errmsg *);
int xalgo_linreg(const struct lb_table *, const json_t *, const struct lb_algo_ctx *, json_t **,
		 struct lb_errmsg *);
int xalgo_logreg(const struct lb_table *, const json_t *, const struct lb_algo_ctx *, json_t **,
		 struct lb_errmsg *);
int xalgo_kmeans(const struct lb_table *, const json_t *, const struct lb_algo_ctx *, json_t **,
		 struct lb_errmsg *);
int xalgo_km(const struct lb_table *, const json_t *, const struct lb_algo_ctx *, json_t **,
	     struct lb_errmsg *);

#endif
