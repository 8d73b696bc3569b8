/*
 * Off-chain sandbox runner and release policy of the data exchange.
 *
 * lb_sandbox_run forks a child process that sets resource limits (CPU time, address space,
 * file size, processes), moves into a private temporary directory, leaves the network
 * namespace when running as root, and loads a seccomp-bpf allow-list (no open, no socket, no
 * fork/exec: only read/write on its inherited descriptors, memory management and exit). Only
 * then does it open the sealed inputs (level-1 envelopes, leben/envelope.h), parse the table,
 * run the algorithm (built-in or Lua) and send the result over a pipe. The parent enforces a
 * wall-clock limit, collects the result and the reason of any stop, and removes the private
 * directory with everything in it ("burn after reading").
 *
 * The release policy then decides what of the result the user may see (lb_policy_release): it
 * runs on the provenance the jail sends with the result (what record set every number was
 * computed over): a minimum cohort per value and cell, no two values differing by a few
 * records, no linear combination isolating a few records, none of that against the user's
 * earlier releases on the asset (lb_release_history_*), optional Laplace noise charged to a
 * per-user, per-asset privacy budget, a maximum output size. A released result is hashed
 * (BLAKE2b-256 over its canonical JSON text) and sealed to the user, padded to a size bucket.
 * Ownership: every struct a function fills is the caller's (release it with the matching
 * _release/_free/_close); borrowed arguments are only read during the call.
 */
#ifndef LEBEN_SANDBOX_H
#define LEBEN_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/algo.h"
#include "leben/envelope.h"
#include "leben/error.h"

/* ---- provenance ----------------------------------------------------------------------------- */

/* What one number (or level name) of a result was computed over. Algorithms compute through the
 * aggregation interface (built-in C algorithms and the Lua `agg` library, docs/exchange.md), which
 * tags every value it hands out with its record set; the sandbox sends this provenance next to
 * the result, to the executor only, and the release check (lb_policy_release) runs on it. */
enum lb_prov_kind {
	LB_PROV_COUNT = 0, /* a number of records (cohort size, cell count) */
	LB_PROV_SUM = 1,   /* sum of a column over the set */
	LB_PROV_MEAN = 2,  /* mean of a column over the set */
	LB_PROV_SD = 3,    /* standard deviation of a column over the set */
	LB_PROV_STAT = 4,  /* any other statistic of the set (coefficient, chi², survival, ...) */
	LB_PROV_LABEL = 5, /* a level name or distinct value taken from the data */
};

#define LB_PROV_SUPPRESSED 0x01 /* n < min_cohort (empty too): null in the result, listed under
                                 * "suppressed" */
#define LB_PROV_READ 0x02       /* a script read the value inside the jail */
#define LB_PROV_PLACED 0x04     /* the value is in the result, at ptr */
#define LB_PROV_ZERO_OK 0x08    /* an empty cell shows 0: by construction it cannot hold 1 ..
                                 * min_cohort - 1 records (survival steps) */

/* A record set: sorted, distinct 64-bit record keys (from the job's patient column when it has
 * one: the first 8 bytes of BLAKE2b-256(asset || patient id); else the row's index in the input
 * table before any row was left out). */
struct lb_prov_set {
	size_t n;       /* records */
	uint64_t *keys; /* owned, n strictly increasing keys */
};

struct lb_prov_cell {
	enum lb_prov_kind kind;
	unsigned flags;  /* LB_PROV_* */
	uint32_t set;    /* index into lb_provenance.sets */
	char *ptr;       /* owned: JSON pointer (RFC 6901) into the result, "" when not placed */
	char *path;      /* owned: the same, readable ("age.histogram.counts[3]") */
	char *column;    /* owned: the variable a sum/mean/sd describes (bounds lookup), else "" */
	char *colkey;    /* owned: the value columns, sorted, comma-separated ("" for counts) */
	uint32_t group[2]; /* lines of disjoint cells (histogram, row or column of a table; 0 =
	                  * none): the release check also compares the union of a line's released
	                  * cells with every released count, so a suppressed cell cannot be
	                  * recovered as a total minus the released cells */
};

/* Opaque-by-convention container (read the fields; free with lb_provenance_free). */
struct lb_provenance {
	unsigned min_cohort;        /* the cohort the jail applied (suppression, reads) */
	size_t nsets, ncells;
	struct lb_prov_set *sets;   /* owned */
	struct lb_prov_cell *cells; /* owned */
};

/* Decode the provenance frame the jail sends (bytes from an untrusted child: every length,
 * index and key order is checked; LB_EMALFORMED names what is wrong). *out is new. */
int lb_provenance_decode(const uint8_t *p, size_t n, struct lb_provenance **out,
			 struct lb_errmsg *em);
void lb_provenance_free(struct lb_provenance *p);

/* ---- sandbox ------------------------------------------------------------------------------- */

/* Limits of one run; 0 in any field = the default in brackets (lb_sandbox_limits_default). */
struct lb_sandbox_limits {
	uint64_t cpu_ms;       /* CPU time (RLIMIT_CPU, rounded up to seconds) [30 000] */
	uint64_t wall_ms;      /* wall-clock time, enforced by the parent with SIGKILL [60 000] */
	uint64_t memory;       /* address space the child may add to what it had at fork
	                        * (RLIMIT_AS) [1 GiB] */
	uint64_t file_bytes;   /* largest file it may write in its directory (RLIMIT_FSIZE) [64 MiB] */
	uint64_t output_bytes; /* largest result it may send back [1 MiB] */
	uint64_t lua_instructions; /* Lua VM instruction budget [1e9] */
	size_t max_rows;       /* largest input table [10 000 000] */
};

void lb_sandbox_limits_default(struct lb_sandbox_limits *l);

/* Why a run ended. */
enum lb_sandbox_status {
	LB_SANDBOX_OK = 0,       /* the algorithm returned a result */
	LB_SANDBOX_FAILED,       /* the algorithm or its input was refused (bad params, bad CSV,
	                          * wrong key, Lua error); code + reason say which */
	LB_SANDBOX_SYSCALL,      /* a forbidden system call was attempted (open, socket, fork, ...) */
	LB_SANDBOX_CPU,          /* CPU-time limit */
	LB_SANDBOX_WALL,         /* wall-clock limit */
	LB_SANDBOX_MEMORY,       /* memory limit (allocation failed or Lua memory cap) */
	LB_SANDBOX_FILESIZE,     /* file-size limit in the private directory */
	LB_SANDBOX_OUTPUT,       /* the result is larger than output_bytes */
	LB_SANDBOX_INSTRUCTIONS, /* Lua instruction budget */
	LB_SANDBOX_CRASHED,      /* the child died otherwise (signal, no result) */
};

/* Stable lower-case name of a status ("syscall", "memory", ...), for JSON and logs. */
const char *lb_sandbox_status_name(enum lb_sandbox_status s);

/* One input table: CSV bytes, plain or sealed in a level-1 envelope. */
struct lb_sandbox_input {
	const uint8_t *data; /* borrowed for the call */
	size_t len;          /* bytes */
	bool sealed;         /* data is an envelope opened inside the child with job->open_sk/pk */
};

/* Environment a native (C) job function sees inside the jail. */
struct lb_sandbox_env {
	int scratch_fd;          /* read/write file in the private directory (size-limited) */
	const char *dir;         /* path of the private directory (informational: open is denied) */
	const uint8_t *input;    /* the opened input bytes (plaintext), or NULL */
	size_t input_len;        /* bytes */
	const struct lb_sandbox_limits *limits; /* effective limits */
};

/* A native job run inside the jail (what the built-in and Lua runners are, and what tests use to
 * attempt escapes). Sets *result to a new JSON object or returns an error code. Runs in the
 * child after the jail is in place. */
typedef int (*lb_sandbox_fn)(void *arg, const struct lb_sandbox_env *env, json_t **result,
			     struct lb_errmsg *em);

/* What to run. Zero it, then fill. */
struct lb_sandbox_job {
	const char *algorithm;       /* built-in algorithm name, or NULL if lua_src or fn is set */
	const char *lua_src;         /* Lua source text (borrowed), or NULL */
	size_t lua_len;              /* bytes of lua_src */
	const json_t *params;        /* algorithm parameters (borrowed), or NULL */
	struct lb_sandbox_input input; /* the table (CSV), required for algorithm/lua jobs */
	const uint8_t *open_sk;      /* X25519 secret key opening a sealed input (borrowed; only the
	                              * child uses it; the caller wipes its own copy) */
	const uint8_t *open_pk;      /* matching public key (borrowed) */
	unsigned min_cohort;         /* hint passed to algorithms (struct lb_algo_ctx) */
	struct lb_sandbox_limits limits; /* zero fields take defaults */
	const char *tmp_root;        /* where the private directory is made; NULL = $TMPDIR or /tmp */
	lb_sandbox_fn fn;            /* native job instead of algorithm/lua (input still opened) */
	void *fn_arg;                /* passed to fn */
	const char *patient_col;     /* column of patient ids, or NULL: with exclude, the rows of
	                              * these patients are removed inside the jail, right after the
	                              * table is read and before the algorithm sees it (revoked
	                              * consents) */
	const char *const *exclude;  /* borrowed patient ids to leave out */
	size_t nexclude;             /* entries of exclude */
	const uint8_t *exclude_ids;  /* borrowed patient commitments (n x 32, lb_xchg_patient_commit
	                              * of asset, salt_key and the local id) to leave out, for an
	                              * executor that knows the patients only by commitment */
	size_t nexclude_ids;         /* entries of exclude_ids */
	const uint8_t *asset;        /* the asset the commitments belong to (32 bytes) */
	const uint8_t *salt_key;     /* the asset's salt key (32 bytes, borrowed; the caller wipes
	                              * it), needed with exclude_ids */
	bool review;                 /* owner's review run: a Lua script also gets per-record access
	                              * (data.col); once it uses it, its raw result goes to the owner
	                              * only (no provenance, never releasable); otherwise the review
	                              * shows what would be released (lb_release_opts.review) */
	bool noise;                  /* the release policy adds noise: scripts may not read aggregate
	                              * values (a value read inside is exact) */
	const struct lb_prov_set *prior; /* borrowed: record sets released earlier to this user on
	                              * this asset (lb_release_history_sets), nprior of them: an
	                              * aggregate whose records differ from one of them by fewer than
	                              * min_cohort is computed over it instead (sticky sets), or NULL */
	size_t nprior;
};

/* Outcome of one run. Embedded struct: release with lb_sandbox_report_release. */
struct lb_sandbox_report {
	enum lb_sandbox_status status; /* why it ended */
	int code;                /* lb_err code matching the status (LB_OK when OK) */
	char reason[512];        /* sentence for the user ("forbidden system call socket") */
	json_t *result;          /* owned: the algorithm's result when status OK, else NULL */
	long syscall_nr;         /* the forbidden system call (status SYSCALL), else -1 */
	char syscall_name[32];   /* its name, "" if unknown */
	uint64_t wall_ns;        /* fork to reaped child */
	uint64_t cpu_ms;         /* child's user + system CPU time */
	uint64_t peak_rss;       /* child's peak resident memory, bytes (ru_maxrss) */
	char dir[256];           /* the private directory used (already removed) */
	bool dir_removed;        /* it was removed after the run */
	size_t excluded;         /* rows left out for job->exclude (known to the owner only) */
	struct lb_provenance *prov; /* owned: what every number of the result was computed over
	                          * (status OK, not a review run), else NULL; for the executor's
	                          * release check only, never shown to the user */
};

/* Run job in a fresh jail. Returns LB_OK when the algorithm produced a result; otherwise the
 * code of the report (LB_ELIMIT for limits, LB_EDENIED for a forbidden system call, the
 * algorithm's code for FAILED, LB_EINTERNAL for a crash) with em set to the reason; rep is
 * filled in every case once the child started (release it always). Setup failures (fork, pipe,
 * temporary directory) return LB_EIO / LB_ENOMEM. The calling process must not be holding
 * locks other threads need (fork). */
int lb_sandbox_run(const struct lb_sandbox_job *job, struct lb_sandbox_report *rep,
		   struct lb_errmsg *em);
void lb_sandbox_report_release(struct lb_sandbox_report *rep);
/* JSON view of a report (new object, caller owns; the result itself is under "result"). */
json_t *lb_sandbox_report_json(const struct lb_sandbox_report *rep);

/* ---- release policy ---------------------------------------------------------------------- */

#define LB_POLICY_BOUNDS_MAX 32

/* The owner's output policy. Embedded struct; lb_policy_default gives the defaults. */
struct lb_policy {
	unsigned min_cohort;     /* every "n" and every non-zero cell of "counts"/"at_risk" must be
	                          * at least this [10] */
	double epsilon;          /* Laplace noise on counting fields with this privacy loss per
	                          * released result; 0 = no noise [0] */
	double budget;           /* total epsilon a user may spend on one asset [1.0] */
	size_t max_output;       /* largest released result, bytes of canonical JSON [65 536] */
	bool aggregates_only;    /* refuse results without a top-level "n" or with arrays longer
	                          * than max_array [true] */
	size_t max_array;        /* longest array in a released result [1000] */
	bool release_extremes;   /* keep "min"/"max" (single records' values) [false: removed] */
	/* Clamping bounds of numeric variables, by name: with epsilon > 0, a "sum" or "mean"
	 * in an object whose "name" (else whose key) is a bound's name gets Laplace noise
	 * calibrated to the bounds (sum: max(|lo|, |hi|); mean: (hi - lo) / n), the noised
	 * mean is clamped to [lo, hi], and "sd" is removed; a sum or mean without bounds is
	 * withheld, its sensitivity being undefined. [none] */
	size_t nbounds;
	struct lb_policy_bound {
		char name[64];
		double lo, hi;
	} bounds[LB_POLICY_BOUNDS_MAX];
};

void lb_policy_default(struct lb_policy *p);
/* Read a policy from JSON text ({"min_cohort":10,"epsilon":0.5,"budget":2,"max_output":65536,
 * "aggregates_only":true,"max_array":1000,"release_extremes":false,
 * "bounds":{"age":[0,120]}}; absent keys keep defaults).
 * Unknown keys and wrong types are refused (LB_EINVALID, key named); p is unchanged on error. */
int lb_policy_parse(const char *text, size_t len, struct lb_policy *p, struct lb_errmsg *em);
json_t *lb_policy_json(const struct lb_policy *p);

/* Privacy-budget ledger: epsilon spent per (user, asset). SQLite file, or in memory when path
 * is NULL. Opaque handle: _open/_close. */
struct lb_dp_budget;
int lb_dp_budget_open(const char *path, struct lb_dp_budget **out, struct lb_errmsg *em);
void lb_dp_budget_close(struct lb_dp_budget *b);
/* Epsilon already spent by user on asset (0 if none). Strings borrowed. */
int lb_dp_budget_spent(struct lb_dp_budget *b, const char *user, const char *asset,
		       double *spent, struct lb_errmsg *em);
/* Charge eps if spent + eps <= total; else LB_EDENIED and nothing changes. */
int lb_dp_budget_charge(struct lb_dp_budget *b, const char *user, const char *asset, double eps,
			double total, struct lb_errmsg *em);

/* Decision on one result. Embedded struct: lb_release_release frees it. */
/* Which rule withheld a release (struct lb_release.rule): what a public record may say. */
enum lb_release_rule {
	LB_RELEASE_NONE = 0,         /* released */
	LB_RELEASE_COHORT = 1,       /* a value over fewer records than the minimum cohort */
	LB_RELEASE_DIFFERENCING = 2, /* values (or a value and an earlier release) too close */
	LB_RELEASE_BUDGET = 3,       /* the privacy budget would be exceeded */
	LB_RELEASE_LIMIT = 4,        /* too large (max_output) */
	LB_RELEASE_POLICY = 5,       /* any other rule of the policy */
};

struct lb_release {
	bool released;           /* the user may see text */
	int code;                /* LB_OK, or LB_EDENIED / LB_ETOOBIG with reason */
	enum lb_release_rule rule; /* the rule that withheld it (LB_RELEASE_NONE when released) */
	char reason[512];        /* why it was withheld ("cell counts[0][1] = 3 < min_cohort 10") */
	char *text;              /* owned: canonical JSON (sorted keys, compact) when released */
	size_t len;              /* bytes of text */
	uint8_t hash[32];        /* BLAKE2b-256 of text (zero when withheld) */
	double epsilon_spent;    /* epsilon charged for this release */
	unsigned removed;        /* fields removed (extremes) */
};

/* Apply p to result (borrowed; noise and removals are made on a copy). budget may be NULL when
 * p->epsilon is 0; user and asset (borrowed) name the budget row. Returns LB_OK when released,
 * else the withholding code with rel->reason and em set; rel is filled in both cases. */
int lb_policy_apply(const struct lb_policy *p, const json_t *result, struct lb_dp_budget *budget,
		    const char *user, const char *asset, struct lb_release *rel,
		    struct lb_errmsg *em);
void lb_release_release(struct lb_release *rel);
/* Cross-release differencing store: for every released aggregate, the (user, asset) it went to,
 * its value columns and its record set. SQLite file (the executor keeps
 * <node home>/exchange/releases.db), or in memory when path is NULL. */
struct lb_release_history;
int lb_release_history_open(const char *path, struct lb_release_history **out,
			    struct lb_errmsg *em);
void lb_release_history_close(struct lb_release_history *h);
/* LB_OK if no aggregate of prov (placed or read, not suppressed) differs from one released
 * earlier to user on asset over meeting columns (counts: any count) by 0 < d < min_cohort
 * records; else LB_EDENIED with why (the two paths and d) in em. */
int lb_release_history_check(struct lb_release_history *h, const char *user, const char *asset,
			     const struct lb_provenance *prov, unsigned min_cohort,
			     struct lb_errmsg *em);
/* The distinct record sets released to user on asset (for lb_sandbox_job.prior): *sets new,
 * *n of them (free with lb_prov_sets_free). */
int lb_release_history_sets(struct lb_release_history *h, const char *user, const char *asset,
			    struct lb_prov_set **sets, size_t *n, struct lb_errmsg *em);
void lb_prov_sets_free(struct lb_prov_set *sets, size_t n);
/* Record prov's aggregates as released to user on asset (one transaction). */
int lb_release_history_record(struct lb_release_history *h, const char *user,
			      const char *asset, const struct lb_provenance *prov,
			      struct lb_errmsg *em);

/* Where a release with provenance is charged and recorded (all borrowed, any may be NULL). */
struct lb_release_opts {
	struct lb_dp_budget *budget;          /* needed when the policy adds noise */
	struct lb_release_history *history;   /* cross-release check + record; NULL = none */
	const char *user, *asset;             /* the budget and history rows */
	bool review;  /* the owner's review: rel->text is what would be released, but nothing is
	               * charged or recorded and rel->released stays false */
};

/* The release check of a sandbox result: runs on prov, not on key names. Withheld (whole,
 * with the reason) when prov is NULL, when any placed or read value that is not suppressed was
 * computed over 0 < n < min_cohort records, when a suppressed cell is not null in the result,
 * when two aggregates over meeting columns (counts: any two counts) have record sets differing
 * by 0 < d < min_cohort, when the history holds such an aggregate released to the same user on
 * the same asset, when the result is too large or the budget spent. Extremes ("min"/"max" keys
 * of built-in results) are removed; with epsilon > 0 counts, sums and means get Laplace noise
 * as in lb_policy_apply (bounds from the cell's column), sds are removed. On release the budget
 * is charged and the aggregates recorded in the history. */
int lb_policy_release(const struct lb_policy *p, const json_t *result,
		      const struct lb_provenance *prov, const struct lb_release_opts *o,
		      struct lb_release *rel, struct lb_errmsg *em);

/* Draw the Laplace noise of the next releases from a ChaCha20 stream keyed by seed: an exchange
 * run keys it with its noise key (lb_xchg_noise_key: the executor's committed secret and the
 * block of its execution, so nobody chooses it alone); statistical tests key it for
 * reproducible draws. NULL goes back to the system's randomness. Process-wide, not
 * thread-safe: set it, release, then reset it. seed is copied. */
void lb_policy_noise_seed(const uint8_t seed[32]);
/* Seal a released result to the user's X25519 key (*env allocated, caller frees with lb_free).
 * The plaintext is the released text padded with spaces to a size bucket (1 KiB, then powers
 * of two), so the envelope's size does not track a value; lb_release_unpad gives the text back.
 * LB_EDENIED if rel was withheld. */
int lb_release_seal(const struct lb_release *rel, const uint8_t user_pk[LB_ENVELOPE_PKBYTES],
		    uint8_t **env, size_t *envlen, struct lb_errmsg *em);
/* Bucket size of a released text of len bytes (>= len). */
size_t lb_release_bucket(size_t len);
/* Strip the padding of an opened release in place: *len becomes the text's length (trailing
 * spaces removed; canonical JSON never ends in one). */
void lb_release_unpad(const uint8_t *text, size_t *len);
/* The released text, padded as lb_release_seal does, encrypted under a CP-ABE policy (abe.h:
 * policy with attribute epochs, hybrid XChaCha20-Poly1305 payload) instead of to a user: for
 * a request that names a result policy. *ct: caller frees with lb_free. */
struct lb_abe_pk;
int lb_release_seal_policy(const struct lb_release *rel, const struct lb_abe_pk *pk,
			   const char *policy, uint8_t **ct, size_t *ctlen, struct lb_errmsg *em);

#endif
