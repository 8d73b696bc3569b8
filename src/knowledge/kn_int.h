/*
 * Internal shared declarations of the knowledge module: the abstract syntax of a PROforma
 * contract (tasks, data definitions, expressions), three-valued values, the session state the
 * engine mutates, and the helpers the parsers, printers, engine and verifier share.
 * Nothing here is API; include/leben/knowledge.h is.
 */
#ifndef LEBEN_KN_INT_H
#define LEBEN_KN_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leben/base.h"
#include "leben/knowledge.h"

/* ---- values ------------------------------------------------------------------------------ */

enum kn_vtype {
	KN_V_UNKNOWN, /* no value: the third truth value of Kleene logic */
	KN_V_BOOL,
	KN_V_INT,
	KN_V_REAL,
	KN_V_TEXT,
	KN_V_DATE, /* whole days since 1970-01-01 */
	KN_V_SET   /* an ordered list of distinct scalar values */
};

struct kn_value {
	int t; /* enum kn_vtype */
	union {
		bool b;
		int64_t i; /* KN_V_INT and KN_V_DATE */
		double r;
		const char *s; /* KN_V_TEXT: owned by whoever owns the value (see kn_value_copy) */
		struct {
			struct kn_value *v; /* elements */
			size_t n;           /* element count */
		} set;
	} u;
};

/* Bump allocator for values built while evaluating one expression; reset afterwards. */
struct kn_arena {
	struct kn_arena_chunk *head; /* most recent chunk */
};
void *kn_arena_alloc(struct kn_arena *a, size_t n);
char *kn_arena_strdup(struct kn_arena *a, const char *s, size_t n);
void kn_arena_reset(struct kn_arena *a);

/* Deep copy into heap memory owned by the caller (free with kn_value_clear). */
int kn_value_copy(struct kn_value *dst, const struct kn_value *src);
void kn_value_clear(struct kn_value *v);
bool kn_value_equal(const struct kn_value *a, const struct kn_value *b);
/* Append the value as JSON (text quoted, sets as arrays, dates as "YYYY-MM-DD"). */
int kn_value_to_json(struct lb_buf *b, const struct kn_value *v);
/* Append a short human form (text unquoted, sets comma separated). */
int kn_value_to_text(struct lb_buf *b, const struct kn_value *v);
void kn_date_to_string(int64_t day, char out[24]);
bool kn_date_parse(const char *s, int64_t *day);

/* ---- expressions ------------------------------------------------------------------------- */

enum kn_op {
	KN_E_CONST,   /* literal: v */
	KN_E_NAME,    /* data item or task reference: name */
	KN_E_CALL,    /* function call: name(args) */
	KN_E_LIST,    /* set literal [a, b] */
	KN_E_NEG,     /* -a */
	KN_E_NOT,     /* not a */
	KN_E_AND,
	KN_E_OR,
	KN_E_EQ,
	KN_E_NE,
	KN_E_LT,
	KN_E_LE,
	KN_E_GT,
	KN_E_GE,
	KN_E_IN,      /* a in b */
	KN_E_ADD,
	KN_E_SUB,
	KN_E_MUL,
	KN_E_DIV,
	KN_E_COND     /* a ? b : c */
};

struct kn_expr {
	int op;                 /* enum kn_op */
	struct kn_value v;      /* KN_E_CONST: literal (text owned by the node) */
	char *name;             /* KN_E_NAME / KN_E_CALL: identifier (owned) */
	struct kn_expr **args;  /* operands / call arguments / list elements (owned) */
	size_t nargs;
	int ref;                /* resolved: data index (NAME), function id (CALL), -1 if none */
	int line, col;          /* position of the first token in the source */
};

/* Expression concrete syntaxes share one grammar; only the printers differ. */
enum kn_style { KN_STYLE_PF, KN_STYLE_JS };

/* Parse a whole expression from s[0..len). line/col give the position of s[0] in its file,
 * for messages. */
int kn_expr_parse(const char *s, size_t len, int line, int col, struct kn_expr **out,
		  struct lb_errmsg *em);
void kn_expr_free(struct kn_expr *e);
int kn_expr_print(struct lb_buf *b, const struct kn_expr *e, enum kn_style style);
bool kn_expr_equal(const struct kn_expr *a, const struct kn_expr *b);
struct kn_expr *kn_expr_clone(const struct kn_expr *e);

/* Built-in functions (KN_E_CALL ref). */
enum kn_fn {
	KN_F_IS_KNOWN, KN_F_RESULT_OF, KN_F_RESULT_SET, KN_F_NET_SUPPORT, KN_F_IS_DORMANT,
	KN_F_IS_IN_PROGRESS, KN_F_IS_COMPLETED, KN_F_IS_DISCARDED, KN_F_IS_FINISHED,
	KN_F_INCLUDES, KN_F_COUNT, KN_F_NOW, KN_F_DATE, KN_F_ABS, KN_F_MIN, KN_F_MAX,
	KN_F_IS_RECOMMENDED, KN_F_COUNT_
};
struct kn_fn_info {
	const char *name;
	int min_args, max_args;
	bool task_arg; /* first argument names a task (string literal or bare name) */
};
extern const struct kn_fn_info kn_fns[KN_F_COUNT_];
int kn_fn_lookup(const char *name);

/* ---- model ------------------------------------------------------------------------------- */

enum kn_class { KN_PLAN, KN_DECISION, KN_ACTION, KN_ENQUIRY };
enum kn_dtype { KN_T_BOOLEAN, KN_T_INTEGER, KN_T_REAL, KN_T_TEXT, KN_T_DATE };
enum kn_support { KN_SUP_WEIGHT, KN_SUP_FOR, KN_SUP_AGAINST, KN_SUP_CONFIRMING, KN_SUP_EXCLUDING };
enum kn_tstate { KN_DORMANT, KN_IN_PROGRESS, KN_COMPLETED, KN_DISCARDED };

struct kn_argument {
	char *name;              /* optional label (owned, may be NULL) */
	char *caption;           /* optional */
	int kind;                /* enum kn_support */
	double weight;           /* KN_SUP_WEIGHT: numeric support */
	struct kn_expr *cond;    /* activeCondition; NULL = always active */
};

struct kn_candidate {
	char *name;
	char *caption;
	char *description;
	int priority;                  /* higher wins ties in autonomous single-choice decisions */
	struct kn_argument *args;
	size_t nargs;
	struct kn_expr *recommend;     /* recommendCondition; NULL = default rule */
};

struct kn_source {
	char *data;                  /* name of the data item requested */
	bool optional;               /* mandatory unless set */
	struct kn_expr *request;     /* requestCondition; NULL = always requested */
	int ref;                     /* resolved data index */
};

struct kn_assign {
	char *data;           /* data item assigned */
	struct kn_expr *e;    /* value */
	int ref;              /* resolved data index */
};

struct kn_task {
	int cls;                 /* enum kn_class */
	char *name, *caption, *description;
	struct kn_expr *pre, *wait, *terminate, *abort, *cycle_until;
	char *trigger;           /* event name that must have been sent before the task starts */
	int64_t cycles;          /* maximum number of repetitions (0 = no limit unless cycle_until) */
	int64_t interval;        /* days between repetitions */
	bool autonomous;
	bool optional;           /* optional component of its plan */
	int priority;
	char **after;            /* antecedent sibling names (owned) */
	size_t nafter;
	struct kn_assign *post;  /* postcondition assignments, applied on completion */
	size_t npost;
	/* plan */
	struct kn_task **tasks;
	size_t ntasks;
	/* decision */
	struct kn_candidate *cands;
	size_t ncands;
	bool multiple;           /* choice_mode multiple */
	/* action */
	char *procedure;
	/* enquiry */
	struct kn_source *sources;
	size_t nsources;
	/* resolved by kn_model_resolve */
	int idx;                 /* preorder index */
	int parent;              /* parent index, -1 for the root */
	int *after_idx;          /* antecedent indexes */
};

struct kn_datadef {
	char *name, *caption, *description;
	int type;                      /* enum kn_dtype */
	bool multi;                    /* multiValued: values are sets of `type` */
	char *unit;
	bool has_range;                /* numeric range [lo, hi] */
	double lo, hi;
	struct kn_value *allowed;      /* allowed values (owned) */
	size_t nallowed;
	struct kn_value defval;        /* default value (KN_V_UNKNOWN if none) */
	struct kn_expr *derive;        /* derivation: computed value, read-only */
	struct kn_expr *valid;         /* valueCondition over `value`: refuse when false */
	struct kn_expr *warning;       /* warningCondition over `value`: accept with warning */
	char *warning_text;            /* message shown with the warning (optional) */
	int line, col;                 /* where it was defined */
};

/* A problem found while resolving names (undefined name, wrong argument): the model still
 * loads so the verifier can report it; `contract run` refuses such a model. */
struct kn_problem {
	int kind;        /* enum lb_kn_finding_kind (LB_KN_UNDEFINED or LB_KN_TYPE) */
	int task;        /* task index, -1 for data definitions */
	int line, col;   /* position when known, else 0 */
	char *text;      /* "file:line:col: undefined data item 'x'" (owned) */
};

#define KN_REF_VALUE (-2)  /* expression name `value` inside value/warning conditions */
#define KN_MAX_TASKS 4096

struct lb_kn_model {
	struct kn_problem *problems; /* owned */
	size_t nproblems;
	struct kn_task *root;
	struct kn_datadef *data;
	size_t ndata;
	struct kn_task **tasks;  /* preorder, tasks[0] = root (borrowed from the tree) */
	size_t ntasks;
	size_t ncands;           /* total candidates, for decision bitsets */
	int *cand_base;          /* per task: index of its first candidate in the global numbering */
};

/* Free a task subtree. */
void kn_task_free(struct kn_task *t);
/* Resolve names (tasks, data, functions), fill indexes; refuses duplicates and undefined
 * references with positions. */
int kn_model_resolve(struct lb_kn_model *m, const char *file, struct lb_errmsg *em);
int kn_model_problem(struct lb_kn_model *m, int kind, int task, int line, int col,
		     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int kn_model_find_task(const struct lb_kn_model *m, const char *name);
int kn_model_find_data(const struct lb_kn_model *m, const char *name);
const char *kn_class_name(int cls, bool js);
const char *kn_dtype_name(int t, bool js);

int kn_pf_parse(const char *text, size_t len, const char *file, struct lb_kn_model **out,
		struct lb_errmsg *em);
int kn_pf_print(const struct lb_kn_model *m, struct lb_buf *b);
int kn_js_parse(const char *text, size_t len, const char *file, struct lb_kn_model **out,
		struct lb_errmsg *em);
int kn_js_print(const struct lb_kn_model *m, struct lb_buf *b);

/* ---- session ----------------------------------------------------------------------------- */

struct kn_hist {
	struct kn_value v; /* owned */
	int64_t time;      /* engine day when recorded */
};

struct kn_datum {
	struct kn_hist *h; /* value history, oldest first; current = last */
	size_t n, cap;
};

struct kn_tstat {
	uint8_t state;     /* enum kn_tstate */
	uint32_t cycles;   /* completed repetitions so far */
	int64_t wake;      /* cyclic task: earliest day it may start again (0 = none) */
};

/* A trace event recorded but not yet formatted (kn_engine.c, "trace"). */
enum kn_ev_kind { KN_EV_PLAIN, KN_EV_TASK, KN_EV_DATA, KN_EV_COMMIT, KN_EV_TRIGGER };
#define KN_EVF_OVERRIDE 1 /* commit: the picks differ from the recommendation */
#define KN_EVF_ENGINE 2   /* commit: made by the engine (autonomous decision) */

struct kn_ev {
	const char *event;  /* event name (a string literal) */
	const char *by;     /* data: task whose postcondition set the value (model string) or NULL */
	int64_t time;       /* engine time when it happened */
	int64_t wake;       /* cycled: day of the next repetition */
	uint64_t seq;       /* event number in the session */
	int32_t idx;        /* task or data index, -1 if none */
	uint32_t aux;       /* data: history index; cycled: cycles; commit: offset of picks in evside */
	uint32_t text;      /* 1 + offset in evside of a copied text (warning, trigger), 0 if none */
	uint8_t kind;       /* enum kn_ev_kind */
	uint8_t flags;      /* commit: KN_EVF_* */
};

struct lb_kn_session {
	const struct lb_kn_model *m; /* borrowed */
	struct kn_tstat *ts;         /* per task */
	struct kn_datum *d;          /* per data item */
	uint8_t *chosen;             /* per candidate: committed */
	uint8_t *triggers;           /* per task: its trigger has been sent */
	int64_t now;                 /* engine time, days */
	uint64_t steps;              /* operations applied */
	struct kn_arena ar;          /* evaluation scratch */
	bool reverse;                /* verifier: visit siblings in reverse order */
	bool no_trace;               /* do not record the trace */
	bool no_history;             /* verifier: keep only the current value of each item */
	uint8_t *seen_started;       /* verifier: tasks that have ever gone in progress (may be NULL) */
	struct lb_buf trace;         /* JSON lines, one event each (formatted so far) */
	size_t trace_n;              /* events recorded (formatted or pending) */
	struct kn_ev *evs;           /* events recorded but not yet formatted into trace */
	size_t nevs, capevs;
	struct lb_buf evside;        /* texts and candidate picks the pending events refer to */
	struct lb_buf line;          /* scratch: the line handed to a listener */
	bool finished_said;          /* the "finished" event is in the trace */
	lb_kn_event_fn on_event;     /* optional listener */
	void *on_event_ctx;
	int max_passes;              /* run-to-fixpoint bound (0 = default) */
	int depth;                   /* nested support/recommendation evaluations */
	uint32_t cycle_cap;          /* verifier: saturate cycle counters at this value (0 = off) */
	/* ---- pfdiff: PROformajs enactment (kn_enact.c) reads stored attributes ---- */
	const double *pf_support;    /* per global candidate: stored support read by net_support
				      * (PROformajs reads the previous cycle's), NULL = computed */
	bool pf_stored_derived;      /* a derived item reads its stored value (kn_current) */
	/* ---- end pfdiff ---- */
};

/* Evaluate e in the session; result values may live in s->ar until kn_arena_reset. */
int kn_eval(struct lb_kn_session *s, const struct kn_expr *e, struct kn_value *out);
/* Evaluate with `value` bound to v (for valueCondition / warningCondition). */
int kn_eval_with(struct lb_kn_session *s, const struct kn_expr *e, const struct kn_value *v,
		 struct kn_value *out);
/* Condition truth: 1 true, 0 false, -1 unknown. */
int kn_truth(const struct kn_value *v);
double kn_net_support(struct lb_kn_session *s, int task, int cand, bool *confirmed,
		      bool *excluded);
bool kn_is_recommended(struct lb_kn_session *s, int task, int cand);
const struct kn_value *kn_current(const struct lb_kn_session *s, int data);

#define KN_SESSION_MAX (256u << 20) /* largest saved session, bytes */

/* A JSON value (json_t *, jansson) converted for item d; text lives in s->ar. */
int kn_value_from_json(struct lb_kn_session *s, const struct kn_datadef *d, const void *json,
		       struct kn_value *v, struct lb_errmsg *em);

/* Compact binary state (no trace, no history): for the verifier's visited set. */
int kn_state_encode(const struct lb_kn_session *s, struct lb_buf *b);
int kn_state_decode(struct lb_kn_session *s, const uint8_t *p, size_t n);
/* Set a value without type checks (verifier domains are already well typed). */
int kn_session_put(struct lb_kn_session *s, int data, const struct kn_value *v);
int kn_session_check_value(struct lb_kn_session *s, int data, const struct kn_value *v,
			   char *warn, size_t wlen, struct lb_errmsg *em);

/* lb_kn_publish_check that, on success, hands the parsed model to *keep (caller frees) when
 * keep is not NULL: the publish handler stores the model's decisions without parsing twice. */
int kn_publish_verify(const uint8_t *source, size_t len, const uint8_t source_hash[32],
		      const uint8_t report_hash[32], struct lb_kn_model **keep,
		      struct lb_errmsg *em);

/* ---- pfdiff: PROformajs enactment (kn_enact.c) ---------------------------------------------
 * The PROformajs 0.11 enactment cycle on a LEBEN model: every runtime state object (task,
 * source, candidate, argument, derived item) computes its updates from one snapshot, the
 * updates are applied together, and cycles repeat until none is produced. Paths are
 * PROformajs runtime paths ("plan:task[1]:sub"). Operations return LB_EINVALID when
 * PROformajs would throw (the state may then have changed as it does there). */
struct kn_enact;
struct kn_pf_ext {             /* PROformajs attributes per task (until the model has them) */
	bool cyclic;           /* task repeats: completing it builds instance [i+1] */
	bool auto_most;        /* decision: autoConfirmMostSupported */
	uint8_t *auto_rec;     /* per candidate: autoConfirmRecommended (owned, may be NULL) */
};
int kn_enact_new(const struct lb_kn_model *m, const struct kn_pf_ext *ext, struct kn_enact **out,
		 struct lb_errmsg *em);
void kn_enact_free(struct kn_enact *e);
int kn_enact_start(struct kn_enact *e, struct lb_errmsg *em);
/* value is a jansson json_t * (borrowed). */
int kn_enact_set(struct kn_enact *e, const char *path, const char *item, const void *value,
		 struct lb_errmsg *em);
int kn_enact_unset(struct kn_enact *e, const char *path, const char *item, struct lb_errmsg *em);
int kn_enact_complete(struct kn_enact *e, const char *path, struct lb_errmsg *em);
int kn_enact_cancel(struct kn_enact *e, const char *path, struct lb_errmsg *em);
int kn_enact_confirm(struct kn_enact *e, const char *path, bool on, struct lb_errmsg *em);
int kn_enact_trigger(struct kn_enact *e, const char *name, struct lb_errmsg *em);
/* The canonical step snapshot (tests/oracles/proforma_lib.mjs) as JSON members, appended. */
int kn_enact_snapshot(struct kn_enact *e, struct lb_buf *b);
/* ---- end pfdiff ---- */

/* Format the pending trace records into s->trace (in order). */
int kn_trace_flush(struct lb_kn_session *s);

#endif
