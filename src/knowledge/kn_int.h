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
	KN_V_DATE, /* whole days since 1970-01-01; under the PROformajs rules (s->js)
		    * milliseconds since 1970-01-01T00:00Z, as a JavaScript Date */
	KN_V_SET   /* an ordered list of distinct scalar values */
};

struct kn_value {
	int t; /* enum kn_vtype */
	/* Under the PROformajs rules, a list a data item stores: its JavaScript identity (the
	 * array object; 0 for one the evaluation made). Kept by copies, ignored by
	 * kn_value_equal; it sits in what was padding, so the struct keeps its size. */
	uint32_t oid;
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

/* JavaScript's null under the PROformajs rules: an unknown value with this mark in u.i
 * (result_of() / result_set() of a task PROformajs cannot look up, of a task that is not a
 * decision, of no argument). The evaluation reads it as JavaScript does (0 as a number, "null"
 * as a text, == undefined but !== undefined, falsy); elsewhere it is unknown, and a data item
 * storing it is not in the evaluator's context (PROformajs adds values != null only). */
#define KN_JS_NULL INT64_C(0x6e756c6c)
static inline bool kn_js_null(const struct kn_value *v)
{
	return v->t == KN_V_UNKNOWN && v->u.i == KN_JS_NULL;
}

/* A JavaScript object in a text's clothes under the PROformajs rules: the top-level task's
 * state object, which its name (or a data item's name it shadows) reads in PROformajs's
 * evaluator context. It behaves as the text "[object Object]" (its String(): truthy, NaN as a
 * number, compared as that text) but for what an object lacks: count() undefined, nth() and
 * [i] undefined, includes() of it throws, === only to itself. Known by this pointer, which a
 * copy does not keep (kn_value_copy). */
extern const char kn_js_state_text[];
static inline bool kn_js_state(const struct kn_value *v)
{
	return v->t == KN_V_TEXT && v->u.s == kn_js_state_text;
}

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
/* moment(s, 'YYYY-MM-DDTHH:mm:ss.SSSZ').isValid() as PROformajs reads a Date default (its
 * forgiving parse: "2020/1/5", "5 2020", "2020-01-05T10:00Z"...); *day gets the date's day. */
bool kn_date_parse_moment(const char *s, int64_t *day);
/* The same read as a JavaScript time: milliseconds since 1970-01-01T00:00Z (an offset written
 * taken off; fields left out from the day of now_ms), as a Date value under the PROformajs
 * rules holds it. */
bool kn_date_parse_moment_ms(const char *s, int64_t now_ms, int64_t *ms);
/* fixed_ms when not 0 (a fixed clock), else the wall clock, in milliseconds since 1970. */
int64_t kn_clock_ms(int64_t fixed_ms);
/* A Date value under the PROformajs rules as Date.prototype.toISOString writes it. */
void kn_date_ms_iso(int64_t ms, char out[32]);
/* ... and as moment.js's toString() writes it ("Sun Mar 15 2026 13:45:30 GMT+0000"). */
void kn_date_ms_moment_text(int64_t ms, char out[40]);

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
	KN_E_COND,    /* a ? b : c */
	KN_E_SEQ,     /* a === b (PROformajs: strict equality, no coercion) */
	KN_E_SNE,     /* a !== b */
	KN_E_MOD,     /* a % b */
	KN_E_INDEX,   /* a[i]: element i (from 0) of a list, character i of a text */
	KN_E_POS,     /* +a: a as a number */
	/* JavaScript only (the JSON form, PROformajs's parser); the .pf form cannot hold them */
	KN_E_BAND,    /* a & b (ToInt32 operands) */
	KN_E_BOR,     /* a | b */
	KN_E_BXOR,    /* a ^ b */
	KN_E_SHL,     /* a << b */
	KN_E_SHR,     /* a >> b */
	KN_E_USHR,    /* a >>> b (ToUint32 result) */
	KN_E_BNOT,    /* ~a */
	KN_E_POW,     /* a ** b (parsed by PROformajs, not evaluated: its evaluation throws) */
	KN_E_NULLISH, /* a ?? b (likewise) */
	KN_E_COMPOUND, /* a, b / a; b / a b at the top: each evaluated, the last one's value */
	KN_E_MEMBER,  /* a.name: JavaScript's member access (name: the property) */
	KN_E_APPLY,   /* f(args) of a callee that is not a function's name (a method call
		       * `a.name(args)`): args[0] the callee, the arguments after it */
	KN_E_SEQUENCE /* (a, b): jsep's sequence in parentheses (PROformajs's evaluator has no
		       * evaluation for it: it throws) */
};
/* A KN_E_NAME / KN_E_CALL written through PROformajs's evaluator object (`this.x`,
 * `this['x']`, `this.f(...)`) has v.t == KN_V_INT and v.u.i one of these (0: a bare name). */
#define KN_THIS_DOT 1
#define KN_THIS_INDEX 2
/* `this` alone (name "this"): PROformajs's evaluator object. Under the PROformajs rules its
 * value is the text kn_js_this_obj itself (by pointer: String() "[object Object]", truthy,
 * NaN as a number), a new object at every evaluation (never === an earlier one); count(),
 * nth() and includes() of it read it as the object. */
#define KN_THIS_BARE 3
extern const char kn_js_this_obj[];
static inline bool kn_js_is_this(const struct kn_value *v)
{
	return v->t == KN_V_TEXT && v->u.s == kn_js_this_obj;
}
/* A JavaScript function read as a value (PROformajs's this.now, a date's .diff, a list's or
 * text's .includes, without a call). Under the PROformajs rules its value is the text
 * kn_js_fn_obj itself (by pointer): truthy, NaN as a number, === to itself (a prototype's
 * method: the same object at every evaluation), no value a data item takes; String() (its
 * source text, which LEBEN does not reproduce) throws with that said. */
extern const char kn_js_fn_obj[];
extern const char kn_js_fn_source_why[]; /* the throw of String() of it */
static inline bool kn_js_is_fn(const struct kn_value *v)
{
	return v->t == KN_V_TEXT && v->u.s == kn_js_fn_obj;
}
/* A function a derived item holds: an unknown value with this mark in u.i (the snapshot shows
 * its version and no value, as JSON drops a function); read back, it is kn_js_fn_obj again. */
#define KN_JS_FN INT64_C(0x66756e63)
static inline bool kn_js_fn_stored(const struct kn_value *v)
{
	return v->t == KN_V_UNKNOWN && v->u.i == KN_JS_FN;
}

struct kn_expr {
	int op;                 /* enum kn_op */
	struct kn_value v;      /* KN_E_CONST: literal (text owned by the node) */
	char *name;             /* KN_E_NAME / KN_E_CALL: identifier (owned) */
	struct kn_expr **args;  /* operands / call arguments / list elements (owned) */
	size_t nargs;
	int ref;                /* resolved: data index (NAME), function id (CALL), task index
				 * (task-name argument), -1 if none */
	int ref2;               /* resolved: candidate index of a one-argument net_support /
				 * is_recommended argument; calling task of index() / path() */
	int line, col;          /* position of the first token in the source */
};
static inline int kn_expr_this(const struct kn_expr *e)
{
	return e->op != KN_E_CONST && e->v.t == KN_V_INT ? (int)e->v.u.i : 0;
}
/* A KN_E_MEMBER / KN_E_INDEX / KN_E_APPLY written with JavaScript's `?.` has v.t ==
 * KN_V_BOOL and v.u.b set. */
static inline bool kn_expr_optional(const struct kn_expr *e)
{
	return e->op != KN_E_CONST && e->v.t == KN_V_BOOL && e->v.u.b;
}

/* JavaScript's member access under the PROformajs rules: what a property name is. */
enum kn_js_member_kind {
	KN_JSM_UNDEFINED, /* no value has it (undefined; a call of it throws), or a key
			   * PROformajs's evaluator refuses to read (kn_js_key_disallowed) */
	KN_JSM_LENGTH,    /* `length` of a text or a list */
	KN_JSM_METHOD,    /* a method LEBEN models (includes, moment's diff, years() ...) */
	KN_JSM_BUILTIN    /* another JavaScript or moment.js property: refused at load */
};
int kn_js_member(const char *name);
/* The member keys PROformajs's evaluator refuses to read (it throws): /^__proto__|prototype|
 * constructor$/. */
bool kn_js_key_disallowed(const char *k);

/* Expression concrete syntaxes share one grammar; only the printers differ. */
enum kn_style { KN_STYLE_PF, KN_STYLE_JS };

/* Parse a whole expression from s[0..len). line/col give the position of s[0] in its file,
 * for messages. kn_expr_parse reads the .pf spelling (and accepts the C-like one);
 * kn_expr_parse_js reads PROformajs's JavaScript subset only: `!` binds tighter than
 * comparisons, `===`/`!==`/`%` exist, `and`/`or`/`not`/`in`/`=`/`<>`/`{}` are refused. Both
 * read `includes(s, x)` as the membership `x in s`. */
int kn_expr_parse(const char *s, size_t len, int line, int col, struct kn_expr **out,
		  struct lb_errmsg *em);
int kn_expr_parse_js(const char *s, size_t len, int line, int col, struct kn_expr **out,
		     struct lb_errmsg *em);
void kn_expr_free(struct kn_expr *e);
/* The operator of the first node of e that only the JavaScript (JSON) form has ("&", "**",
 * "a, b"), or NULL: the .pf form cannot print such an expression. */
const char *kn_expr_js_only(const struct kn_expr *e);
int kn_expr_print(struct lb_buf *b, const struct kn_expr *e, enum kn_style style);
bool kn_expr_equal(const struct kn_expr *a, const struct kn_expr *b);
struct kn_expr *kn_expr_clone(const struct kn_expr *e);
/* Rename every name node `from` to `to` (not calls, not strings). */
int kn_expr_rename(struct kn_expr *e, const char *from, const char *to);

/* Built-in functions (KN_E_CALL ref). */
enum kn_fn {
	KN_F_IS_KNOWN, KN_F_RESULT_OF, KN_F_RESULT_SET, KN_F_NET_SUPPORT, KN_F_IS_DORMANT,
	KN_F_IS_IN_PROGRESS, KN_F_IS_COMPLETED, KN_F_IS_DISCARDED, KN_F_IS_FINISHED,
	KN_F_INCLUDES, KN_F_COUNT, KN_F_NOW, KN_F_DATE, KN_F_ABS, KN_F_MIN, KN_F_MAX,
	KN_F_IS_RECOMMENDED,
	/* the rest of PROformajs's predicates (evaluator.js EvaluatorContext) */
	KN_F_IN_PROGRESS_TIME, KN_F_COMPLETED_TIME, KN_F_DISCARDED_TIME, KN_F_FINISHED_TIME,
	KN_F_IS_VALID, KN_F_CAPTION, KN_F_CAPTIONS, KN_F_LAST_UPDATED, KN_F_NUM_FINISHED,
	KN_F_NUM_COMPLETED, KN_F_DATE_PART_HOUR, KN_F_ROUND, KN_F_RANDOM, KN_F_SIN, KN_F_COS,
	KN_F_TAN, KN_F_ASIN, KN_F_ACOS, KN_F_ATAN, KN_F_SUM, KN_F_NTH, KN_F_EXP, KN_F_LOG,
	KN_F_INDEX, KN_F_LAST_FINISHED, KN_F_PATH,
	KN_F_COUNT_
};
/* Result type of a function, for the verifier's type inference. */
enum kn_fn_type { KN_FT_BOOL, KN_FT_NUM, KN_FT_TEXT, KN_FT_SET, KN_FT_DATE, KN_FT_ANY };
/* What the first argument names, resolved at load time. */
enum kn_fn_arg { KN_FA_VALUE, KN_FA_TASK, KN_FA_DATA, KN_FA_TASKS };
struct kn_fn_info {
	const char *name;
	int min_args, max_args;
	bool task_arg; /* first argument names a task (string literal or bare name) */
	int rtype;     /* enum kn_fn_type */
	int arg0;      /* enum kn_fn_arg: the first argument is a value, a task, a data item
			* name or a list of task names */
	bool leben;    /* a LEBEN extension PROformajs does not have */
};
extern const struct kn_fn_info kn_fns[KN_F_COUNT_];
int kn_fn_lookup(const char *name);

/* ---- model ------------------------------------------------------------------------------- */

enum kn_class { KN_PLAN, KN_DECISION, KN_ACTION, KN_ENQUIRY };
enum kn_dtype {
	KN_T_BOOLEAN,
	KN_T_INTEGER,
	KN_T_REAL,
	KN_T_TEXT,
	KN_T_DATE,
	KN_T_ANY /* PROformajs's base class DataDefinition (JSON form only): any value LEBEN
		  * holds (a boolean, number or text; lists when multi-valued), its range alone
		  * checked */
};
enum kn_support { KN_SUP_WEIGHT, KN_SUP_FOR, KN_SUP_AGAINST, KN_SUP_CONFIRMING, KN_SUP_EXCLUDING };
enum kn_tstate { KN_DORMANT, KN_IN_PROGRESS, KN_COMPLETED, KN_DISCARDED };

struct kn_argument {
	char *name;              /* optional label (owned, may be NULL) */
	char *caption;           /* optional (PROformajs requires it) */
	char *description;       /* optional */
	char *meta;              /* PROformajs `meta`: any JSON, kept as compact text (owned) */
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
	bool auto_recommended;         /* autoConfirmRecommended: confirmed once recommended */
	char *meta;                    /* PROformajs `meta` as compact JSON (owned, may be NULL) */
};

struct kn_source {
	char *data;                  /* name of the data item requested */
	bool optional;               /* mandatory unless set */
	struct kn_expr *request;     /* requestCondition; NULL = always requested */
	int ref;                     /* resolved data index */
	char *meta;                  /* PROformajs `meta` as compact JSON (owned, may be NULL) */
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
	char *trigger_json;      /* the JSON form's eventTrigger when not a text, as compact JSON
				  * (printed back); `trigger` holds the name PROformajs keys it by,
				  * JavaScript's String() of it (owned, may be NULL) */
	int64_t cycles;          /* maximum number of repetitions (0 = no limit unless cycle_until) */
	int64_t interval;        /* days between repetitions */
	bool autonomous;
	bool optional;           /* optional component of its plan */
	bool cyclic;             /* PROformajs `cyclic`: a new cycle starts when it finishes
				  * (.pf: implied by cycles / cycle_until unless `cyclic false;`) */
	bool plain;              /* PROformajs class "Task" (read as an action; written back as
				  * "Task") */
	bool use_defaults;       /* enquiry `useDefaults`: defaults fill its sources on start */
	bool auto_most_supported; /* decision `autoConfirmMostSupported` */
	char *meta;              /* PROformajs `meta` as compact JSON (owned, may be NULL) */
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

/* A PROformajs Warning of a data item: active while its condition is true. In the
 * condition, the item's own name (or `value` in .pf) is the value being checked. */
struct kn_warning {
	struct kn_expr *cond;          /* warnCondition (owned) */
	char *caption;                 /* message shown (owned, may be NULL) */
	char *description;             /* owned, may be NULL */
	char *meta;                    /* PROformajs `meta` as compact JSON (owned, may be NULL) */
};

struct kn_datadef {
	char *name, *caption, *description;
	int type;                      /* enum kn_dtype */
	bool multi;                    /* multiValued: values are sets of `type` */
	char *unit;
	bool has_range;                /* numeric range [lo, hi] */
	double lo, hi;
	struct kn_value *allowed;      /* allowed values: PROformajs `range` (owned) */
	size_t nallowed;
	char **allowed_caption;        /* per allowed value: its caption or NULL (owned array,
					* NULL when no value has one) */
	bool range_objects;            /* `range` written as [{value, caption}] objects */
	char *range_text;              /* `range` written as a text (owned, NULL if not): PROformajs
					* iterates its characters and takes a value that is part of
					* it (kn_range_text_takes) */
	bool *range_obj;               /* per allowed value: written as an object (owned; NULL
					* unless the range mixes plain values and objects) */
	struct kn_value defval;        /* defaultValue (KN_V_UNKNOWN if none) */
	char *defval_text;             /* the JSON text a defaultValue was written as, which
					* PROformajs parses ("3" for 3); owned, NULL if none */
	char *defval_moment;           /* Date: String() of a defaultValue not "YYYY-MM-DD", as
					* moment.js reads it (owned; NULL if none) */
	struct kn_expr *defcond;       /* defaultCondition: expression giving the default */
	struct kn_expr *derive;        /* PROformajs valueCondition: computed value, read-only */
	struct kn_expr *valid;         /* LEBEN `valid` over `value`: refuse when false */
	struct kn_warning *warnings;   /* PROformajs warnings (owned) */
	size_t nwarnings;
	char *owner;                   /* task whose dataDefinitions hold it; NULL = the root */
	const struct kn_task *owner_task; /* the JSON form's owning task (borrowed, NULL: found
					   * by `owner`, whose name may not be unique there) */
	int owner_idx;                 /* resolved: index of the owning task (0: the root) */
	char *meta;                    /* PROformajs `meta` as compact JSON (owned, may be NULL) */
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
/* ref of the undefined constant standing for an expression the PROformajs JSON gave as
 * another value than a text (5, true, {...}): PROformajs evaluates it to undefined, where the
 * written expression `undefined` throws ("illegal Identifier") */
#define KN_REF_NONTEXT (-3)
/* ref2 of a call the PROformajs JSON wrote with more arguments than PROformajs reads where
 * LEBEN's .pf form gives the extra ones a meaning (net_support(c, x), min(a, b), max(a, b)):
 * PROformajs reads the first only, and so does LEBEN (the others are printed back) */
#define KN_REF_FIRST_ONLY (-4)
/* ref2 of result_of(t) / result_set(t) in the PROformajs JSON form when t is no decision:
 * JavaScript's null there (no confirmed()); the .pf form refuses it. */
#define KN_REF_NOT_DECISION (-5)
/* A call's arguments as its function reads them (KN_REF_FIRST_ONLY: the first only). */
static inline size_t kn_call_nargs(const struct kn_expr *e)
{
	return e->ref2 == KN_REF_FIRST_ONLY && e->nargs > 1 ? 1 : e->nargs;
}
#define KN_MAX_TASKS 4096
/* Longest name (task, data item, candidate) read, in bytes: beyond any protocol met; the
 * contract's size (LB_KN_MAX_SOURCE) bounds the rest */
#define KN_MAX_NAME 1024
/* First byte of a caption or description PROformajs JSON gave as another value than a text
 * (5, ["a"], {...}): the compact JSON follows; printed back as that value, shown as that
 * JSON text (kn_show_text). */
#define KN_RAW_JSON '\x01'


struct lb_kn_model {
	struct kn_problem *problems; /* owned */
	size_t nproblems;
	char **ignored;          /* LEBEN's own JSON keys ignored (a value it cannot read there):
				  * one message each, owned (lb_kn_model_ignored) */
	size_t nignored;
	struct kn_task *root;
	struct kn_datadef *data;
	size_t ndata;
	struct kn_task **tasks;  /* preorder, tasks[0] = root (borrowed from the tree) */
	size_t ntasks;
	size_t ncands;           /* total candidates, for decision bitsets */
	bool js;                 /* read from the JSON (PROformajs) form */
	bool top_data;           /* the JSON form's top level is a data definition (data[0]), not
				  * a task: root is a placeholder plan named like it, never enacted
				  * (PROformajs's enactment of it has no state: docs §5.2) */
	int *cand_base;          /* per task: index of its first candidate in the global numbering */
};

/* Canonical compact JSON (sorted keys) of the JSON text s into *out (caller frees);
 * LB_EINVALID when s is not JSON. */
int kn_meta_canon(const char *s, char **out);
/* Caption of allowed value i of d, or NULL. */
const char *kn_allowed_caption(const struct kn_datadef *d, size_t i);
/* A range written as a text: whether PROformajs's `range.includes(v)` holds (v a text that is
 * part of it). */
bool kn_range_text_takes(const struct kn_datadef *d, const struct kn_value *v);
/* Free a task subtree. */
void kn_task_free(struct kn_task *t);
/* Resolve names (tasks, data, functions), fill indexes; refuses duplicates and undefined
 * references with positions. */
int kn_model_resolve(struct lb_kn_model *m, const char *file, struct lb_errmsg *em);
int kn_model_problem(struct lb_kn_model *m, int kind, int task, int line, int col,
		     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The task whose design path ("root:sub:task", n bytes, no cycle indexes) is path, or -1. */
int kn_model_find_design(const struct lb_kn_model *m, const char *path, size_t n);
int kn_model_find_task(const struct lb_kn_model *m, const char *name);
/* Resolve an expression written at run time (a `${...}` in a caption) as if it were a
 * condition of `task` (-1: the data level), recording no problem: what does not resolve
 * evaluates to unknown. */
int kn_expr_resolve_quiet(const struct lb_kn_model *m, int task, struct kn_expr *e);
int kn_model_find_data(const struct lb_kn_model *m, const char *name);
/* The data item `name` as PROformajs finds it from task `task` (allDataDefinitions().find):
 * the outermost definition among those of the task and its ancestors (the top-level task's
 * first); -1 when none is visible there. A PROformajs protocol may define a name in several
 * tasks (once per task); the .pf form's names are unique. */
int kn_model_find_data_from(const struct lb_kn_model *m, const char *name, int task);
const char *kn_class_name(int cls, bool js);
const char *kn_dtype_name(int t, bool js);

int kn_pf_parse(const char *text, size_t len, const char *file, struct lb_kn_model **out,
		struct lb_errmsg *em);
/* Whether the .pf form can hold m (names starting with a letter or '_', unique task and
 * item names, whole numbers in integer items, text captions, a plan at the top): LB_OK, or
 * LB_EINVALID with the element named. kn_pf_print refuses what it cannot hold. */
int kn_pf_printable(const struct lb_kn_model *m, struct lb_errmsg *em);
int kn_pf_print(const struct lb_kn_model *m, struct lb_buf *b);
int kn_js_parse(const char *text, size_t len, const char *file, struct lb_kn_model **out,
		struct lb_errmsg *em);
int kn_js_print(const struct lb_kn_model *m, struct lb_buf *b);
/* The checks PROformajs's Protocol.validate() makes that resolution does not: reserved and
 * underscore names, names in expressions it would not know, sources of derived items,
 * defaults outside the range, name clashes; the first one found is refused (LB_EINVALID,
 * message naming the element and what to do). Run on models read from JSON. */
int kn_js_validate(const struct lb_kn_model *m, const char *file, struct lb_errmsg *em);
/* Rewrite every one-argument net_support whose argument is a candidate's full path from the
 * root plan ('plan:decision:candidate') into the two-argument form (decision, candidate):
 * the one model both forms read such a call into (kn_json.c). */
int kn_support_paths(struct lb_kn_model *m);
/* A reserved word of PROformajs's expression language. */
bool kn_js_reserved(const char *name);

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

struct kn_enact;
struct lb_kn_session {
	const struct lb_kn_model *m; /* borrowed */
	struct kn_tstat *ts;         /* per task */
	struct kn_datum *d;          /* per data item */
	uint8_t *chosen;             /* per candidate: committed */
	uint8_t *triggers;           /* per task: its trigger has been sent */
	int64_t now;                 /* engine time, days */
	int64_t js_now_ms;           /* PROformajs rules: now() in ms, fixed (0 = wall clock) */
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
	bool js;                     /* evaluate as PROformajs does (JavaScript semantics: unknown
				      * is `undefined`, comparisons with it are false, `==` coerces,
				      * `&&`/`||` return an operand, `+` concatenates text); off =
				      * LEBEN's Kleene logic */
	/* ---- pfdiff: PROformajs enactment (kn_enact.c) reads stored attributes ---- */
	const double *pf_support;    /* per global candidate: stored support read by net_support
				      * (PROformajs reads the previous cycle's), NULL = computed */
	bool pf_stored_derived;      /* a derived item reads its stored value (kn_current) */
	const struct kn_enact *pf_enact; /* the enactment evaluating (times of states and values:
				      * *_time(), last_updated()), NULL outside one; borrowed */
	const struct kn_value *pf_ident; /* per data item: the value its name has as an identifier
				      * (PROformajs's evaluator reads a name from the last task path
				      * storing a value under it, whichever task defines it), NULL =
				      * kn_current; owned by the enactment */
	bool (*pf_unresolved)(void *ctx, const struct kn_expr *task); /* NULL, or: does
				      * PROformajs fail to look up this task argument from the
				      * evaluating component (result_of() / result_set() give null) */
	bool (*pf_warning_active)(void *ctx, int data, size_t k); /* NULL, or: the stored
				      * `active` of item data's warning k (is_valid() reads it) */
	void *pf_ctx;                /* their context (the enactment; set before evaluating) */
	bool pf_caller_part;         /* the evaluating component is no task (a source, candidate,
				      * argument, derived item or warning): PROformajs's index()
				      * without argument reads its state's index, undefined - 1 = NaN */
	/* ---- PROformajs's evaluation throws (s->js): set by kn_eval, cleared by the caller ---- */
	bool js_threw;               /* an evaluation since the caller cleared it threw in
				      * JavaScript (its value is then meaningless) */
	const char *js_why;          /* the JavaScript error (static text) */
	/* ---- end pfdiff ---- */
};

/* Evaluate e in the session; result values may live in s->ar until kn_arena_reset. */
int kn_eval(struct lb_kn_session *s, const struct kn_expr *e, struct kn_value *out);
/* Evaluate with `value` bound to v (for valueCondition / warningCondition). */
int kn_eval_with(struct lb_kn_session *s, const struct kn_expr *e, const struct kn_value *v,
		 struct kn_value *out);
/* Evaluate with the answer v being checked for item `data` bound to both `value` and the
 * item's own name (warning conditions). */
int kn_eval_item(struct lb_kn_session *s, const struct kn_expr *e, int data,
		 const struct kn_value *v, struct kn_value *out);
/* The default of item `data`: its defaultValue, else the value of its defaultCondition when
 * the item would accept it, else unknown (out may live in s->ar). */
int kn_default_value(struct lb_kn_session *s, int data, struct kn_value *out);
/* A caption or description as PROformajs shows it: each match of /\$\{([^$]*)\}/g replaced
 * (at its first occurrence, $-patterns expanded) by the expression's value, evaluated for
 * `task` (JavaScript text of the value; nothing for unknown). *threw is set (and the text is
 * still rendered) when an expression does not parse, where PROformajs throws. Appends to out. */
int kn_render_text(struct lb_kn_session *s, int task, const char *text, struct lb_buf *out,
		   bool *threw);
/* A caption or description as shown: a KN_RAW_JSON one as its JSON text. */
const char *kn_show_text(const char *text);
/* JavaScript's ToNumber of v (undefined NaN, booleans 0/1, texts parsed, a list through its
 * String(), a date its ms). */
double kn_js_number(const struct kn_value *v);
/* Under the PROformajs rules: is task argument a (a bare name) found as a data item's value
 * by PROformajs's context (an item of that name holds a value; not the root's name)? The
 * lookup then gives that value, which has no state. */
bool kn_js_task_is_data(const struct lb_kn_session *s, const struct kn_expr *a);
/* Condition truth: 1 true, 0 false, -1 unknown. */
int kn_truth(const struct kn_value *v);
/* JavaScript truthiness (ToBoolean): unknown, false, 0, NaN and "" are false. */
bool kn_truthy(const struct kn_value *v);
/* The truth of a condition in session s: kn_truthy when s->js, else kn_truth == 1. */
bool kn_holds(const struct lb_kn_session *s, const struct kn_value *v);
double kn_net_support(struct lb_kn_session *s, int task, int cand, bool *confirmed,
		      bool *excluded);
bool kn_is_recommended(struct lb_kn_session *s, int task, int cand);
const struct kn_value *kn_current(const struct lb_kn_session *s, int data);

#define KN_SESSION_MAX (256u << 20) /* largest saved session, bytes */

/* A JSON value (json_t *, jansson) converted for item d; text lives in s->ar. */
int kn_value_from_json(struct lb_kn_session *s, const struct kn_datadef *d, const void *json,
		       struct kn_value *v, struct lb_errmsg *em);

/* A deep copy of session s (its own histories, trace and counters; borrowed pointers shared,
 * evaluation scratch empty): the same future as s under the same operations. */
int kn_session_clone(const struct lb_kn_session *s, struct lb_kn_session **out);
/* Compact binary state (no trace, no history): for the verifier's visited set. */
int kn_state_encode(const struct lb_kn_session *s, struct lb_buf *b);
int kn_state_decode(struct lb_kn_session *s, const uint8_t *p, size_t n);
/* Set a value without type checks (verifier domains are already well typed). */
int kn_session_put(struct lb_kn_session *s, int data, const struct kn_value *v);
int kn_session_check_value(struct lb_kn_session *s, int data, const struct kn_value *v,
			   char *warn, size_t wlen, struct lb_errmsg *em);

/* lb_kn_publish_check that, on success, hands the parsed model to *keep (caller frees) when
 * keep is not NULL: the publish handler stores the model's decisions without parsing twice. */
int kn_publish_verify(const uint8_t *source, size_t len, enum lb_kn_rules rules,
		      uint32_t max_states, const uint8_t source_hash[32],
		      const uint8_t report_hash[32], struct lb_kn_model **keep, struct lb_errmsg *em);

/* ---- pfdiff: PROformajs enactment (kn_enact.c) ---------------------------------------------
 * The PROformajs 0.11 enactment cycle on a LEBEN model: every runtime state object (task,
 * source, candidate, argument, derived item) computes its updates from one snapshot, the
 * updates are applied together, and cycles repeat until none is produced. Paths are
 * PROformajs runtime paths ("plan:task[1]:sub"). Operations return LB_EINVALID when
 * PROformajs would throw (the state may then have changed as it does there). */
struct kn_enact;
int kn_enact_new(const struct lb_kn_model *m, struct kn_enact **out, struct lb_errmsg *em);
/* Replace dst's data (PROformajs's _data: every version under every task path, and the
 * order of the paths, which decides what a name evaluates to) by a copy of src's; both
 * enactments of the same model. The rest of the state (objects, triggers) is not copied. */
int kn_enact_copy_data(struct kn_enact *dst, const struct kn_enact *src);
/* Fix the clock now() and Date defaults read (ms since 1970; 0 = the wall clock). */
void kn_enact_set_clock(struct kn_enact *e, int64_t now_ms);
/* PROformajs's in_progress_time, completed_time, discarded_time, finished_time (fn: the KN_F_
 * id) of task t written as `written`: the clock when the task's latest instance first reached
 * that state (finished_time: completed if it is, else discarded), as PROformajs's _getTime
 * reads its audit; false (undefined) when it has not, or when `written` is not the task's
 * design path from the root (PROformajs then looks the name itself up among the audit's
 * runtime paths, and finds nothing). */
bool kn_enact_task_time(const struct kn_enact *e, int fn, int t, const char *written,
			int64_t *ms);
/* PROformajs's last_updated of data item d: the `when` of the last version under the first
 * task path (in the order paths were first stored under) holding a version of d's name; false
 * (undefined) when none does. */
bool kn_enact_last_updated(const struct kn_enact *e, int d, int64_t *ms);
void kn_enact_free(struct kn_enact *e);
/* A deep copy of e (every field, its session included): applying the same operations to the
 * copy and to e gives the same states. The exploration branches states with it. */
int kn_enact_clone(const struct kn_enact *e, struct kn_enact **out);
/* Check kn_enact_clone against replay: a seeded walk of `steps` operations, each applied to a
 * copy of the previous state, compared with a replay from the start after every step
 * (LB_EINTERNAL with the step and both snapshots when they differ). */
int kn_enact_clone_walk(const struct lb_kn_model *m, unsigned steps, uint64_t seed,
			struct lb_errmsg *em);
int kn_enact_start(struct kn_enact *e, struct lb_errmsg *em);
/* value is a jansson json_t * (borrowed). */
int kn_enact_set(struct kn_enact *e, const char *path, const char *item, const void *value,
		 struct lb_errmsg *em);
/* PROformajs's set(path, data): every answer of the JSON object `data` (a json_t *) the item
 * accepts is stored, then one cycle; the first refusal is returned after it. */
/* json_loadb, with integers beyond 64 bits read as JavaScript reads them (doubles), where
 * jansson refuses them; je is required. Caller json_decref()s. */
struct json_t;
struct json_error_t;
struct json_t *kn_json_loadb_js(const char *text, size_t len, size_t flags,
				 struct json_error_t *je);
/* A JSON boolean, number or text as a value (a text borrowed from j; an integer beyond 2^53 as
 * the nearest double), false for another JSON value. */
bool kn_json_scalar(const struct json_t *j, struct kn_value *v);
int kn_enact_set_all(struct kn_enact *e, const char *path, const void *data,
		     struct lb_errmsg *em);
int kn_enact_unset(struct kn_enact *e, const char *path, const char *item, struct lb_errmsg *em);
int kn_enact_complete(struct kn_enact *e, const char *path, struct lb_errmsg *em);
int kn_enact_cancel(struct kn_enact *e, const char *path, struct lb_errmsg *em);
int kn_enact_confirm(struct kn_enact *e, const char *path, bool on, struct lb_errmsg *em);
int kn_enact_trigger(struct kn_enact *e, const char *name, struct lb_errmsg *em);
/* The canonical step snapshot (tests/oracles/proforma_lib.mjs) as JSON members, appended. */
int kn_enact_snapshot(struct kn_enact *e, struct lb_buf *b);
/* The clock the exploration reads (now(), Date defaults): 2026-01-01T00:00Z, fixed so that
 * every run and every node finds the same; findings that hang on the time of day are not
 * looked for. */
#define KN_EXPLORE_CLOCK_MS INT64_C(1767225600000)
/* Breadth-first exploration under the PROformajs rules (deadlocks with their operations,
 * unreachable tasks); appends {"complete", "states", "findings": [...]} to out. `reduce`
 * (exploration version 2): answer each item with one value per class of values every
 * comparison of the model reads alike (kn_enact.c, "answer values by the atoms"). */
int kn_enact_explore(const struct lb_kn_model *m, size_t max_states, unsigned max_depth,
		     bool reduce, struct lb_buf *out, struct lb_errmsg *em);
/* Benchmarks only: explore by replaying every state from the start (the former way). */
extern bool kn_explore_replay;
/* ---- end pfdiff ---- */

/* Format the pending trace records into s->trace (in order). */
int kn_trace_flush(struct lb_kn_session *s);

#endif
