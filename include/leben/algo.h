/*
 * Algorithms of the data exchange: numeric tables read from CSV, the built-in C algorithms
 * (descriptive statistics, cross-tabulation, linear and logistic regression, k-means,
 * Kaplan–Meier survival), Lua 5.4 algorithm scripts with a restricted standard library, and
 * their decomposition across several data owners (federated statistics, histograms, logistic
 * regression and Kaplan–Meier, partial results combined by secure aggregation).
 *
 * Everything here runs in the calling process and has no ledger dependency; the sandbox
 * (leben/sandbox.h) is what jails a run. The built-in algorithms and the Lua `agg` library
 * compute through a provenance recorder: every number they release is tagged with the set of
 * records it describes (struct lb_provenance, sent by the sandbox to the executor), cells of
 * fewer than ctx->min_cohort records are suppressed (null, listed under "suppressed"), and the
 * release check runs on those sets (lb_policy_release). Minima and maxima are never released.
 * Exact definitions of every algorithm are in docs/exchange.md.
 */
#ifndef LEBEN_ALGO_H
#define LEBEN_ALGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/error.h"

/* ---- tables ---------------------------------------------------------------------------- */

enum lb_table_kind {
	LB_COL_NUMERIC = 0,     /* every non-empty cell is a number */
	LB_COL_CATEGORICAL = 1, /* some cell is not a number: values are level indices */
};

/* One column. Missing cells (empty, NA, NaN, null, ?) are NAN in both kinds. */
struct lb_table_col {
	char *name;              /* owned, NUL-terminated header text */
	enum lb_table_kind kind; /* numeric or categorical */
	double *v;               /* owned, nrows values (categorical: level index as a double) */
	char **levels;           /* owned, categorical only: level texts in first-seen order */
	size_t nlevels;          /* number of levels (0 for numeric columns) */
};

/* A table read from CSV bytes (first line = header). Embedded struct: _init/_release. */
struct lb_table {
	size_t nrows;              /* data rows */
	size_t ncols;              /* columns */
	struct lb_table_col *cols; /* owned, ncols entries */
};

#define LB_TABLE_MAX_COLS 4096

/* Parse CSV text (comma, semicolon or tab, detected from the header; RFC 4180 quotes) into t.
 * text is borrowed for the call only. Refuses more than max_rows data rows (0 = no limit) with
 * LB_ETOOBIG, ragged rows, an empty header, duplicate column names (LB_EMALFORMED, message
 * names line and column). On error t is left empty (safe to release). */
int lb_table_parse_csv(const char *text, size_t len, size_t max_rows, struct lb_table *t,
		       struct lb_errmsg *em);
void lb_table_init(struct lb_table *t);
void lb_table_release(struct lb_table *t);
/* Index of the column named name, or -1. */
long lb_table_find(const struct lb_table *t, const char *name);
/* Remove, in place, every row whose cell in column col equals one of ids[0..n-1] (borrowed
 * texts; a categorical cell compares as text, a numeric cell numerically with the id read as a
 * number). Used to leave out the records of patients who revoked their consent. *dropped (may
 * be NULL) receives the number of rows removed. LB_EINVALID if col is out of range. */
int lb_table_drop_rows(struct lb_table *t, size_t col, const char *const *ids, size_t n,
		       size_t *dropped, struct lb_errmsg *em);

/* ---- built-in algorithms ----------------------------------------------------------------- */

/* Hints the runner gives every algorithm (from the owner's release policy). */
struct lb_algo_ctx {
	unsigned min_cohort; /* smallest cohort a released aggregate may have (0 = none): cells
	                      * over 0 < n < min_cohort records are suppressed (null), survival
	                      * curves are coarsened to steps of >= min_cohort events */
	void *prov;          /* internal: the jail's provenance recorder (the sandbox sets it);
	                      * NULL = the algorithm records into its own and drops it */
	bool noise;          /* the release adds noise: Lua scripts may not read values */
	bool review;         /* owner's review run: Lua scripts also get data.col (per-record) */
};

/* A built-in algorithm: reads t and params (borrowed; may be NULL = defaults), sets *result to
 * a new JSON object (caller owns: json_decref). Bad params: LB_EINVALID with the parameter named. */
typedef int (*lb_algo_fn)(const struct lb_table *t, const json_t *params,
			  const struct lb_algo_ctx *ctx, json_t **result, struct lb_errmsg *em);

struct lb_algo {
	const char *name;    /* "stats", "crosstab", "linreg", "logreg", "kmeans", "km" */
	lb_algo_fn run;      /* the implementation */
	const char *summary; /* one line for --help */
	const char *params;  /* the parameters it accepts, one line for --help */
};

/* The table of built-in algorithms (static storage) and its length. */
const struct lb_algo *lb_algo_table(size_t *n);
/* Built-in algorithm by name (static storage), or NULL. */
const struct lb_algo *lb_algo_find(const char *name);

/* ---- Lua 5.4 algorithms -------------------------------------------------------------------- */

/* Limits of one Lua run (0 = the default given in brackets). */
struct lb_lua_limits {
	uint64_t instructions; /* VM instructions before the run is stopped [1e9] */
	size_t memory;         /* bytes the Lua state may allocate [256 MiB] */
};

/* Run a Lua 5.4 script (source text only; bytecode refused) over t. The script never sees a row:
 * it computes through the `agg` library (agg.count/sum/mean/sd/histogram/crosstab/linreg with
 * declarative `where` filters), which returns opaque aggregates recorded with their record sets
 * (into ctx->prov when set, else a private recorder); `data.columns` / `agg.columns` name the
 * columns, `params` holds the params object as a Lua table, `ctx.min_cohort` the cohort. The
 * script returns a table of aggregates, booleans, and strings that name columns or echo
 * params; it becomes *result (new JSON object, caller owns) with the values in place. Reading a
 * value (a.value, a.n) obeys the release rules or stops the run (LB_EDENIED); ctx->noise refuses
 * reads; ctx->review (the owner's review) adds data.col(name) and data.nrows; a script that
 * uses them may return plain numbers and strings (its raw result is for the owner only). Restricted library: no io, os, package, debug, coroutine, load*, require, print,
 * collectgarbage, metatables or string patterns; strings at most 8 KiB. Errors: LB_ESYNTAX (does
 * not compile), LB_ELIMIT (instruction, memory or string limit, message says which), LB_EDENIED
 * (a read broke the rules), LB_EINVALID (runtime error or a refused result, the path named).
 * src is borrowed for the call. */
int lb_algo_lua(const char *src, size_t len, const struct lb_table *t, const json_t *params,
		const struct lb_algo_ctx *ctx, const struct lb_lua_limits *lim, json_t **result,
		struct lb_errmsg *em);

/* ---- decomposition across owners (federated algorithms) ------------------------------------- */

/* How partial results are combined. */
struct lb_fed_options {
	bool secure;          /* true: secure aggregation (leben/secagg.h); false: plain
	                       * summing (benchmarks and tests of the decomposition only) */
	unsigned frac_bits;   /* fixed-point fraction bits of secure aggregation [0 = 24] */
	const uint8_t *dropped; /* borrowed, nowners flags: owner i drops out after sharing its
	                       * masks in every round (tests of drop-out recovery); NULL = none */
	bool sandboxed;       /* run every owner's local step of every round in its own sandbox
	                       * (lb_sandbox_run, default limits): the partial comes back over the
	                       * sandbox's pipe; false = in this process */
	/* Remote rounds (the owners are other nodes): when set, every round calls remote instead
	 * of computing the owners' partials here and summing them; step is the round's local step
	 * as lb_fed_step takes it, sum receives the len combined values. The owners given to
	 * lb_fed_run are then one table that only names the columns (no rows are read). */
	int (*remote)(void *arg, const json_t *step, size_t len, double *sum, struct lb_errmsg *em);
	void *remote_arg;
};

/* Counters of one federated run, filled when not NULL. */
struct lb_fed_stats {
	unsigned rounds;        /* aggregation rounds */
	size_t values_summed;   /* vector entries aggregated over all rounds */
	uint64_t aggregate_ns;  /* time spent combining partials (masking + unmasking or summing) */
	uint64_t local_ns;      /* time spent computing partials at the owners */
};

/* One owner's data: borrowed table and a display name (borrowed). */
struct lb_fed_owner {
	const char *name;
	const struct lb_table *table;
};

/* Sum len-vectors partials[0..n-1] (borrowed) into sum (caller buffer of len doubles), through
 * secure aggregation when o->secure (each value must satisfy |v| * 2^frac_bits < 2^62; else
 * LB_ERANGE). Dropped owners' partials are excluded from the sum. The building block of every
 * federated algorithm, exposed for the exchange's chain-driven runs. */
int lb_fed_sum(const double *const *partials, size_t n, size_t len, const struct lb_fed_options *o,
	       double *sum, struct lb_fed_stats *st, struct lb_errmsg *em);

/* Federated counterparts of the built-in algorithms over owners[0..n-1] (n >= 2 for secure
 * aggregation, columns named alike at every owner). params as for the built-in algorithm of the
 * same name; *result is a new JSON object of the same shape as the centralised algorithm's,
 * plus "owners": n and "rounds". Supported names: "stats" (count, mean, sd; "bins" + "range"
 * give histograms), "logreg" (Newton rounds over summed gradients and Hessians), "km"
 * (Kaplan–Meier over summed per-time event and censoring counts on an agreed time grid). */
int lb_fed_run(const char *algorithm, const struct lb_fed_owner *owners, size_t n,
	       const json_t *params, const struct lb_algo_ctx *ctx, const struct lb_fed_options *o,
	       json_t **result, struct lb_fed_stats *st, struct lb_errmsg *em);

/* One owner's local step of one round of a federated algorithm over its table t, as the
 * coordinator's step object describes it ({"phase": "moments1"|"moments2"|"logreg"|"km", the
 * column names, and the state of the round: pooled means, current weights, grid...}). *out
 * (new, caller frees) receives *len values: the owner's plain partial, to be masked before it
 * leaves. When sandboxed, the step runs in its own sandbox. LB_EINVALID names what is wrong. */
int lb_fed_step(const struct lb_table *t, const json_t *step, bool sandboxed, double **out,
		size_t *len, struct lb_errmsg *em);

/* Pairwise masking of one owner's partial for a study across nodes: v (len values) in fixed
 * point (frac_bits), plus for every peer k the stream ChaCha20(key = BLAKE2b(pair[k] || digest))
 * read as len little-endian 64-bit words, added when self_pk sorts below peer_pk[k] and
 * subtracted otherwise (mod 2^64). pair[k] is the pairwise secret of this owner's node key and
 * peer k's (lb_ledger_node_agree), digest names the round (the same at every owner). Summed
 * over all owners of the round the masks cancel, so the coordinator learns only the sum; one
 * owner's masked vector alone is uniformly random. LB_ERANGE if a value does not fit. */
int lb_fed_mask(const double *v, size_t len, unsigned frac_bits, const uint8_t digest[32],
		const uint8_t self_pk[32], const uint8_t (*peer_pk)[32], const uint8_t (*pair)[32],
		size_t npeers, uint64_t *out, struct lb_errmsg *em);

#endif
