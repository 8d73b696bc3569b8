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
