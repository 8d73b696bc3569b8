/*
 * Expression evaluation. LEBEN's semantics are three-valued (Kleene) logic: `unknown` is the
 * value of a data item nobody has supplied, and it propagates through comparisons and
 * arithmetic; `and` is false if either side is false, `or` is true if either side is true,
 * otherwise unknown wins over true (resp. false). Conditions count as satisfied only when true.
 * With s->js the operators follow PROformajs, i.e. JavaScript (undefined, coercing `==`,
 * operand-returning `&&`/`||`, truthiness). Also every PROformajs function, support and
 * recommendation of decision candidates, and data defaults.
 */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "knowledge/kn_int.h"

#define KN_EVAL_MAX_DEPTH 64 /* derivations referring to derivations */

struct ectx {
	struct lb_kn_session *s;
	const struct kn_value *bound; /* `value` */
	int bound_data;               /* data index whose name also means `value`, or -1 */
	int depth;
};

/* `this` alone under the PROformajs rules (kn_int.h KN_THIS_BARE) */
const char kn_js_this_obj[] = "[object Object]";
/* a function read without its call (kn_int.h kn_js_is_fn) */
const char kn_js_fn_obj[] = "[function]";
const char kn_js_fn_source_why[] = "a JavaScript function (a method read without its call) as "
				   "a text (String(), + with a text, a caption): its source "
				   "text, which LEBEN does not reproduce";

static const struct kn_value unknown_v = { .t = KN_V_UNKNOWN };
const char kn_js_state_text[] = "[object Object]";

int kn_truth(const struct kn_value *v)
{
	if (v->t != KN_V_BOOL)
		return -1;
	return v->u.b ? 1 : 0;
}

bool kn_truthy(const struct kn_value *v)
{
	switch (v->t) {
	case KN_V_BOOL: return v->u.b;
	case KN_V_INT: return v->u.i != 0;
	case KN_V_REAL: return v->u.r != 0 && !isnan(v->u.r);
	case KN_V_TEXT: return v->u.s[0] != 0;
	case KN_V_DATE: case KN_V_SET: return true;
	default: return false;
	}
}

bool kn_holds(const struct lb_kn_session *s, const struct kn_value *v)
{
	return s->js ? kn_truthy(v) : kn_truth(v) == 1;
}

const struct kn_value *kn_current(const struct lb_kn_session *s, int data)
{
	const struct kn_datum *d = &s->d[data];
	return d->n > 0 ? &d->h[d->n - 1].v : &unknown_v;
}

static int ev(struct ectx *c, const struct kn_expr *e, struct kn_value *out);

static void set_bool(struct kn_value *v, bool b)
{
	v->t = KN_V_BOOL;
	v->u.b = b;
}

static bool is_num(const struct kn_value *v)
{
	return v->t == KN_V_INT || v->t == KN_V_REAL;
}

static double num(const struct kn_value *v)
{
	return v->t == KN_V_REAL ? v->u.r : (double)v->u.i;
}

/* -1, 0, 1, or 2 when the values are not comparable (different types). */
static int cmp(const struct kn_value *a, const struct kn_value *b)
{
	if (is_num(a) && is_num(b)) {
		if (a->t == KN_V_INT && b->t == KN_V_INT)
			return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
		double x = num(a), y = num(b);
		return x < y ? -1 : x > y;
	}
	if (a->t != b->t)
		return 2;
	switch (a->t) {
	case KN_V_BOOL:
		return (int)a->u.b - (int)b->u.b;
	case KN_V_DATE:
		return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
	case KN_V_TEXT: {
		int r = strcmp(a->u.s, b->u.s);
		return r < 0 ? -1 : r > 0;
	}
	case KN_V_SET:
		return kn_value_equal(a, b) ? 0 : 3; /* sets: only = and <> */
	}
	return 2;
}

static bool member(const struct kn_value *x, const struct kn_value *set)
{
	if (set->t != KN_V_SET)
		return cmp(x, set) == 0;
	for (size_t i = 0; i < set->u.set.n; i++)
		if (cmp(x, &set->u.set.v[i]) == 0)
			return true;
	return false;
}

double kn_net_support(struct lb_kn_session *s, int task, int cand, bool *confirmed,
		      bool *excluded)
{
	const struct kn_candidate *c = &s->m->tasks[task]->cands[cand];
	double net = 0;
	*confirmed = *excluded = false;
	if (s->pf_support != NULL) /* pfdiff: PROformajs enactment reads the stored support */
		return s->pf_support[s->m->cand_base[task] + cand];
	if (s->depth > KN_EVAL_MAX_DEPTH)
		return 0; /* support defined through itself: no support */
	s->depth++;
	for (size_t i = 0; i < c->nargs; i++) {
		const struct kn_argument *a = &c->args[i];
		if (a->cond != NULL) {
			struct kn_value v;
			if (kn_eval(s, a->cond, &v) != LB_OK || kn_truth(&v) != 1)
				continue;
		}
		switch (a->kind) {
		case KN_SUP_FOR: net += 1; break;
		case KN_SUP_AGAINST: net -= 1; break;
		case KN_SUP_WEIGHT: net += a->weight; break;
		case KN_SUP_CONFIRMING: *confirmed = true; break;
		case KN_SUP_EXCLUDING: *excluded = true; break;
		}
	}
	s->depth--;
	return net;
}

bool kn_is_recommended(struct lb_kn_session *s, int task, int cand)
{
	const struct kn_candidate *c = &s->m->tasks[task]->cands[cand];
	if (c->recommend != NULL) {
		struct kn_value v;
		if (s->depth > KN_EVAL_MAX_DEPTH)
			return false;
		s->depth++;
		bool r = kn_eval(s, c->recommend, &v) == LB_OK && kn_truth(&v) == 1;
		s->depth--;
		return r;
	}
	bool conf, excl;
	double net = kn_net_support(s, task, cand, &conf, &excl);
	return !excl && (conf || net >= 1);
}

static int arith(int op, const struct kn_value *a, const struct kn_value *b, struct kn_value *out);

/* Sum of a set's numbers; unknown if one is not a number. */
static int set_fold(int op, const struct kn_value *set, struct kn_value *out)
{
	struct kn_value acc = { .t = KN_V_INT, .u.i = 0 };
	for (size_t i = 0; i < set->u.set.n; i++) {
		struct kn_value r;
		if (!is_num(&set->u.set.v[i]))
			return LB_OK;
		arith(op, &acc, &set->u.set.v[i], &r);
		if (r.t == KN_V_UNKNOWN)
			return LB_OK;
		acc = r;
	}
	*out = acc;
	return LB_OK;
}

/* sin, cos, tan, asin, acos, atan, exp, log (the default) of x. */
static double math_fn(int fn, double x)
{
	switch (fn) {
	case KN_F_SIN: return sin(x);
	case KN_F_COS: return cos(x);
	case KN_F_TAN: return tan(x);
	case KN_F_ASIN: return asin(x);
	case KN_F_ACOS: return acos(x);
	case KN_F_ATAN: return atan(x);
	case KN_F_EXP: return exp(x);
	default: return log(x);
	}
}

static int math1(int fn, const struct kn_value *a, struct kn_value *out)
{
	if (!is_num(a))
		return LB_OK;
	double x = num(a), r;
	switch (fn) {
	case KN_F_ROUND:
		/* JavaScript's Math.round: halves go up */
		r = floor(x + 0.5);
		if (fabs(r) < 9e15) {
			out->t = KN_V_INT;
			out->u.i = (int64_t)r;
		}
		return LB_OK;
	default:
		r = math_fn(fn, x);
		break;
	}
	if (isfinite(r)) {
		out->t = KN_V_REAL;
		out->u.r = r;
	}
	return LB_OK;
}

/* Day a task last went into the state asked for: read from the trace (unknown if never).
 * PROformajs rules: the time the enactment's audit gives (kn_enact_task_time). */
static int task_time(struct ectx *c, int fn, int task, const struct kn_expr *arg,
		     struct kn_value *out)
{
	struct lb_kn_session *s = c->s;
	if (s->js && s->pf_enact != NULL) {
		int64_t ms;
		const char *w = arg->op == KN_E_CONST && arg->v.t == KN_V_TEXT ? arg->v.u.s : NULL;
		if (kn_enact_task_time(s->pf_enact, fn, task, w, &ms)) {
			out->t = KN_V_DATE;
			out->u.i = ms;
		}
		return LB_OK;
	}
	uint8_t st = s->ts[task].state;
	bool fin = st == KN_COMPLETED || st == KN_DISCARDED;
	if ((fn == KN_F_COMPLETED_TIME && st != KN_COMPLETED) ||
	    (fn == KN_F_DISCARDED_TIME && st != KN_DISCARDED) ||
	    (fn == KN_F_FINISHED_TIME && !fin) ||
	    (fn == KN_F_IN_PROGRESS_TIME && st == KN_DORMANT))
		return LB_OK;
	/* the engine records state days in its trace; without a trace the current day stands
	 * for it (a state is entered at the latest now) */
	out->t = KN_V_DATE;
	out->u.i = s->js ? kn_clock_ms(s->js_now_ms) : s->now;
	return LB_OK;
}

/* The text built in b (released here) as the value of an expression, kept in the session's
 * arena; rc is the status of building it. */
static int text_result(struct lb_kn_session *s, struct lb_buf *b, int rc, struct kn_value *out)
{
	if (rc == LB_OK) {
		char *p = kn_arena_strdup(&s->ar, b->data ? (const char *)b->data : "", b->len);
		if (p == NULL)
			rc = LB_ENOMEM;
		else {
			out->t = KN_V_TEXT;
			out->u.s = p;
		}
	}
	lb_buf_release(b);
	return rc;
}

/* PROformajs runtime path: names from the root joined by ':', "[n]" after cyclic tasks. */
static int task_path(struct ectx *c, int task, bool previous, struct kn_value *out)
{
	struct lb_kn_session *s = c->s;
	const struct lb_kn_model *m = s->m;
	int chain[64], n = 0;
	for (int t = task; t >= 0 && n < 64; t = m->tasks[t]->parent)
		chain[n++] = t;
	struct lb_buf b;
	lb_buf_init(&b, 1u << 16);
	int rc = LB_OK;
	for (int i = n - 1; rc == LB_OK && i >= 0; i--) {
		const struct kn_task *t = m->tasks[chain[i]];
		rc = lb_buf_addf(&b, "%s%s", i == n - 1 ? "" : ":", t->name);
		if (rc == LB_OK && t->cyclic) {
			int64_t k = (int64_t)s->ts[chain[i]].cycles - (previous && i == 0 ? 1 : 0);
			rc = lb_buf_addf(&b, "[%lld]", (long long)k);
		}
	}
	return text_result(s, &b, rc, out);
}

/* is_valid, caption, captions, last_updated, date_part_hour: about one data item. */
static void js_throw(struct ectx *c, const char *why);

static int data_fn(struct ectx *c, const struct kn_expr *e, struct kn_value *out)
{
	struct lb_kn_session *s = c->s;
	int di = e->args[0]->ref;
	if (di < 0)
		return LB_OK;
	const struct kn_datadef *d = &s->m->data[di];
	struct kn_value v;
	struct kn_expr tmp = { .op = KN_E_NAME, .ref = di, .ref2 = -1 };
	int rc = ev(c, &tmp, &v);
	if (rc != LB_OK)
		return rc;
	switch (e->ref) {
	case KN_F_IS_VALID:
		/* false while one of the item's warnings is active; PROformajs reads each warning's
		 * stored `active` (no evaluation), LEBEN evaluates them (a warning naming is_valid()
		 * of its own item: unknown beyond the depth bound) */
		if (s->js && s->pf_warning_active != NULL) {
			for (size_t i = 0; i < d->nwarnings; i++)
				if (s->pf_warning_active(s->pf_ctx, di, i)) {
					set_bool(out, false);
					return LB_OK;
				}
			set_bool(out, true);
			return LB_OK;
		}
		if (c->depth >= KN_EVAL_MAX_DEPTH)
			return LB_OK;
		for (size_t i = 0; i < d->nwarnings; i++) {
			struct kn_value r;
			c->depth++;
			rc = ev(c, d->warnings[i].cond, &r);
			c->depth--;
			if (rc != LB_OK)
				return rc;
			if (kn_truth(&r) == 1) {
				set_bool(out, false);
				return LB_OK;
			}
		}
		set_bool(out, true);
		return LB_OK;
	case KN_F_LAST_UPDATED:
		if (s->js && s->pf_enact != NULL) { /* the last stored version's time */
			int64_t ms;
			if (kn_enact_last_updated(s->pf_enact, di, &ms)) {
				out->t = KN_V_DATE;
				out->u.i = ms;
			}
		} else if (s->pf_ident != NULL ? s->pf_ident[di].t != KN_V_UNKNOWN : s->d[di].n > 0) {
			out->t = KN_V_DATE; /* (PROformajs rules: the clock's time, as near as kept) */
			out->u.i = s->js ? kn_clock_ms(s->js_now_ms) : s->d[di].h[s->d[di].n - 1].time;
		}
		return LB_OK;
	case KN_F_DATE_PART_HOUR:
		if (v.t == KN_V_DATE) { /* dates are whole days: midnight; JavaScript's: UTC hour */
			out->t = KN_V_INT;
			out->u.i = s->js ? ((v.u.i % 86400000 + 86400000) % 86400000) / 3600000 : 0;
		} else if (s->js && v.t != KN_V_UNKNOWN) { /* this[datetime].hour() of no moment */
			js_throw(c, "this[datetime].hour is not a function (the item holds no date)");
		}
		return LB_OK;
	default:
		break;
	}
	/* caption / captions: the range caption of the value (each value for a set) */
	if (v.t == KN_V_UNKNOWN)
		return LB_OK;
	size_t n = v.t == KN_V_SET ? v.u.set.n : 1;
	struct kn_value *cap = kn_arena_alloc(&s->ar, (n ? n : 1) * sizeof(*cap));
	if (cap == NULL)
		return LB_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct kn_value *x = v.t == KN_V_SET ? &v.u.set.v[i] : &v;
		cap[i] = *x;
		for (size_t k = 0; k < d->nallowed; k++)
			if (kn_allowed_caption(d, k) != NULL && kn_value_equal(&d->allowed[k], x)) {
				cap[i].t = KN_V_TEXT;
				cap[i].u.s = kn_allowed_caption(d, k);
			}
	}
	if (e->ref == KN_F_CAPTION) {
		if (v.t == KN_V_SET) {
			out->t = KN_V_SET;
			out->u.set.v = cap;
			out->u.set.n = n;
		} else {
			*out = cap[0];
		}
		return LB_OK;
	}
	/* captions: "a, b and c" */
	struct lb_buf b;
	lb_buf_init(&b, 1u << 16);
	rc = LB_OK;
	for (size_t i = 0; rc == LB_OK && i < n; i++) {
		if (i > 0)
			rc = lb_buf_adds(&b, i + 1 == n ? " and " : ", ");
		if (rc == LB_OK)
			rc = kn_value_to_text(&b, &cap[i]);
	}
	return text_result(s, &b, rc, out);
}

/* ---- PROformajs's evaluation throws (s->js) --------------------------------------------------
 * Where JavaScript throws, PROformajs's evaluation fails (and with it the operation, see
 * kn_enact.c). The evaluator then says so in s->js_threw (the value it gives is meaningless);
 * LEBEN's rules (s->js off) never throw. */

static void js_throw(struct ectx *c, const char *why)
{
	if (!c->s->js_threw)
		c->s->js_why = why;
	c->s->js_threw = true;
}

/* is_known('p:sub:k'), is_valid, caption, captions, last_updated with a design path:
 * PROformajs looks for a data definition of that whole name ("unknown data definition"). */
static bool js_data_path_throws(struct ectx *c, const struct kn_expr *e)
{
	if (!(e->ref == KN_F_IS_KNOWN || e->ref == KN_F_IS_VALID || e->ref == KN_F_CAPTION ||
	      e->ref == KN_F_CAPTIONS || e->ref == KN_F_LAST_UPDATED) ||
	    e->nargs == 0 || e->args[0]->op != KN_E_CONST || e->args[0]->v.t != KN_V_TEXT ||
	    strchr(e->args[0]->v.u.s, ':') == NULL)
		return false;
	js_throw(c, "unknown data definition (a data item is named by its name, not its path)");
	return true;
}

/* is_known('x') and the other predicates about a data item, of a name no data definition the
 * calling component sees has (a `${...}` caption, which PROformajs's validation does not read):
 * "unknown data definition". */
static bool js_data_unknown_throws(struct ectx *c, const struct kn_expr *e)
{
	if (!(e->ref == KN_F_IS_KNOWN || e->ref == KN_F_IS_VALID || e->ref == KN_F_CAPTION ||
	      e->ref == KN_F_CAPTIONS || e->ref == KN_F_LAST_UPDATED) ||
	    e->nargs == 0 || e->args[0]->op != KN_E_CONST || e->args[0]->v.t != KN_V_TEXT ||
	    e->args[0]->ref >= 0)
		return false;
	js_throw(c, "unknown data definition");
	return true;
}

/* sum/min/max(arr) are arr.reduce(f) without an initial value, nth(arr, i) is arr[i]: they
 * throw on undefined, sum/min/max also on any other value than a list and on an empty list.
 * (A list written [x, y] is a JavaScript array even when LEBEN gives undefined for it, an
 * element being undefined: no throw then.) */
static bool js_list_fn_throws(struct ectx *c, const struct kn_expr *e, const struct kn_value *a)
{
	bool literal = e->nargs > 0 && e->args[0]->op == KN_E_LIST;
	switch (e->ref) {
	case KN_F_NTH:
		if (a->t != KN_V_UNKNOWN || literal)
			return false;
		js_throw(c, "Cannot read properties of undefined (nth of an unset value)");
		return true;
	case KN_F_SUM: case KN_F_MIN: case KN_F_MAX:
		if (a->t == KN_V_SET ? a->u.set.n > 0 : literal)
			return false;
		js_throw(c, a->t == KN_V_SET	 ? "Reduce of empty array with no initial value"
			    : a->t == KN_V_UNKNOWN ? "Cannot read properties of undefined (reading "
						     "'reduce')"
						   : "arr.reduce is not a function (not a list)");
		return true;
	default:
		return false;
	}
}

static int js_math1(int fn, const struct kn_value *a, struct kn_value *out);
static void set_real(struct kn_value *v, double r);
static int js_arith(struct lb_kn_session *s, int op, const struct kn_value *a,
		    const struct kn_value *b, struct kn_value *out);

/* A task argument written as a bare name (is_finished(p)) is that name's JavaScript value
 * there: a state object or undefined, which PROformajs's path lookup cannot split (unknown
 * task). Not index() and path(), which take undefined as the calling component; not a data
 * item's name (its value, maybe a task's name: not reproduced). */
static bool js_task_arg_throws(struct ectx *c, const struct kn_expr *e)
{
	if (!kn_fns[e->ref].task_arg || e->nargs == 0 || e->args[0]->op != KN_E_NAME ||
	    e->ref == KN_F_INDEX || e->ref == KN_F_PATH ||
	    kn_model_find_data(c->s->m, e->args[0]->name) >= 0)
		return false;
	js_throw(c, "unknown task (a task argument written as a bare name is that name's "
		    "JavaScript value; quote it)");
	return true;
}

/* index('t'): PROformajs reads the task by its design path from the root ("Unable to
 * getComponent" for a bare name, unless it is the root's). */
static bool js_index_throws(struct ectx *c, const struct kn_expr *e, int task)
{
	if (e->ref != KN_F_INDEX || e->nargs == 0 || e->args[0]->op != KN_E_CONST ||
	    e->args[0]->v.t != KN_V_TEXT || task < 0)
		return false;
	const struct lb_kn_model *m = c->s->m;
	const char *p = e->args[0]->v.u.s;
	size_t n = strlen(p);
	for (int t = task;;) { /* p ends with t's name, preceded by its parent's path and ':' */
		size_t l = strlen(m->tasks[t]->name);
		if (n < l || memcmp(p + n - l, m->tasks[t]->name, l) != 0)
			break;
		n -= l;
		if ((t = m->tasks[t]->parent) < 0) {
			if (n == 0)
				return false;
			break;
		}
		if (n == 0 || p[--n] != ':')
			break;
	}
	js_throw(c, "Unable to getComponent (index() takes a task's design path from the root)");
	return true;
}

/* A text's JavaScript length: UTF-16 units (a UTF-8 lead byte of 4 bytes is a pair). */
static int64_t js_text_length(const char *t)
{
	int64_t n = 0;
	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		if ((*p & 0xC0) != 0x80)
			n += *p >= 0xF0 ? 2 : 1;
	return n;
}

/* nth(text, i) is text[i] in JavaScript: its i-th character (one byte; the same for ASCII). */
static int js_nth_text(struct ectx *c, const struct kn_value *a, const struct kn_value *b,
		       struct kn_value *out)
{
	if (b->t != KN_V_INT || b->u.i < 0 || (uint64_t)b->u.i >= strlen(a->u.s))
		return LB_OK;
	char *p = kn_arena_strdup(&c->s->ar, a->u.s + b->u.i, 1);
	if (p == NULL)
		return LB_ENOMEM;
	out->t = KN_V_TEXT;
	out->u.s = p;
	return LB_OK;
}

/* A whole expression that is a bare name PROformajs does not know as a data item
 * (`constructor`, `now`, `undefined`): "illegal Identifier". */
static void js_whole_throws(struct ectx *c, const struct kn_expr *e)
{
	if ((e->op == KN_E_NAME && e->ref == -1 && kn_expr_this(e) == 0) ||
	    (e->op == KN_E_CONST && e->v.t == KN_V_UNKNOWN && e->ref != KN_REF_NONTEXT))
		js_throw(c, "illegal Identifier (the whole expression is a name that is not a data "
			    "item)");
}

/* A call written with fewer arguments than the function takes (JSON form only): JavaScript
 * passes undefined for the missing ones, and PROformajs's predicate then gives what it gives
 * for undefined (taken from PROformajs 0.11): count(), date_part_hour() undefined; the Math
 * functions NaN; includes(a) false for an unset item or a list, whether a text holds
 * "undefined"; nth(a) undefined, a throw for an unset item; includes() false; every other
 * one throws (a task, data item, candidate or list PROformajs cannot look up or read). */
static int js_missing_args(struct ectx *c, const struct kn_expr *e, struct kn_value *out)
{
	struct kn_value a = unknown_v;
	int rc;
	*out = unknown_v;
	if (e->nargs > 0 && (rc = ev(c, e->args[0], &a)) != LB_OK)
		return rc;
	switch (e->ref) {
	case KN_F_COUNT: case KN_F_DATE_PART_HOUR:
		return LB_OK;
	case KN_F_ABS: case KN_F_ROUND: case KN_F_SIN: case KN_F_COS: case KN_F_TAN:
	case KN_F_ASIN: case KN_F_ACOS: case KN_F_ATAN: case KN_F_EXP: case KN_F_LOG:
		return js_math1(e->ref, &a, out);
	case KN_F_RESULT_OF: case KN_F_RESULT_SET: /* of undefined: no component, null */
		out->u.i = KN_JS_NULL;
		return LB_OK;
	case KN_F_INCLUDES:
		if (a.t == KN_V_UNKNOWN || a.t == KN_V_SET)
			set_bool(out, false);
		else if (a.t == KN_V_TEXT)
			set_bool(out, strstr(a.u.s, "undefined") != NULL);
		else
			js_throw(c, "arr.includes is not a function");
		return LB_OK;
	case KN_F_NTH:
		if (a.t == KN_V_UNKNOWN)
			js_throw(c, "Cannot read properties of undefined (reading 'undefined')");
		return LB_OK;
	default:
		js_throw(c, "a missing argument is undefined, which PROformajs cannot look up "
			    "or read");
		return LB_OK;
	}
}

/* net_support(name) of a name that is no candidate (JSON form): PROformajs reads what its
 * evaluator has under the name, `(thing.support || 0)`: 0 for a data item's known value or a
 * task it can look up from the caller (kn_enact's names_bad fails the cycle when it cannot),
 * else it throws "unknown candidate". */
static int js_support_other(struct ectx *c, const struct kn_expr *e, struct kn_value *out)
{
	const struct kn_expr *a = e->args[0];
	const char *nm = a->op == KN_E_CONST && a->v.t == KN_V_TEXT ? a->v.u.s : NULL;
	int d = nm != NULL ? kn_model_find_data(c->s->m, nm) : -1;
	*out = unknown_v;
	if (d >= 0) {
		struct kn_expr tmp = { .op = KN_E_NAME, .ref = d };
		struct kn_value v;
		int rc = ev(c, &tmp, &v);
		if (rc != LB_OK)
			return rc;
		if (v.t != KN_V_UNKNOWN) {
			set_real(out, 0);
			return LB_OK;
		}
	}
	if (a->ref >= 0)
		set_real(out, 0);
	else
		js_throw(c, "unknown candidate");
	return LB_OK;
}

static int call(struct ectx *c, const struct kn_expr *e, struct kn_value *out)
{
	struct lb_kn_session *s = c->s;
	const struct lb_kn_model *m = s->m;
	struct kn_value a = unknown_v, b = unknown_v;
	int rc;
	*out = unknown_v;
	if (e->ref < 0)
		return LB_OK; /* unresolved: reported by the verifier, unknown at run time */
	const struct kn_fn_info *f = &kn_fns[e->ref];
	if (s->js && (int)e->nargs < f->min_args)
		return js_missing_args(c, e, out);
	if (s->js && e->ref == KN_F_NET_SUPPORT && kn_call_nargs(e) == 1 && e->args[0]->ref2 < 0)
		return js_support_other(c, e, out);
	int task = !f->task_arg ? -1 : e->nargs > 0 ? e->args[0]->ref : e->ref2;
	if (s->js && e->ref == KN_F_INDEX && e->nargs == 0 && s->pf_caller_part) {
		/* PROformajs: a state without index (undefined - 1), from a data item, warning,
		 * source, candidate or argument */
		out->t = KN_V_REAL;
		out->u.r = NAN;
		return LB_OK;
	}
	if (f->task_arg && task < 0)
		return LB_OK;
	uint8_t st = task >= 0 ? s->ts[task].state : 0;
	int cand = -1; /* net_support / is_recommended: the candidate */
	if (e->ref == KN_F_NET_SUPPORT || e->ref == KN_F_IS_RECOMMENDED)
		cand = kn_call_nargs(e) == 1 ? e->args[0]->ref2 : e->args[1]->ref;
	if (s->js && (js_data_path_throws(c, e) || js_data_unknown_throws(c, e) ||
		      js_task_arg_throws(c, e) || js_index_throws(c, e, task)))
		return LB_OK;
	if (f->task_arg && e->nargs == 1 && e->ref != KN_F_INDEX && e->ref != KN_F_PATH &&
	    e->ref != KN_F_LAST_FINISHED && kn_js_task_is_data(s, e->args[0])) {
		/* PROformajs's context holds a data item of that name: its value is what the task
		 * lookup finds, with no state (is_*() false, no support, no confirmed list) */
		if (e->ref == KN_F_NET_SUPPORT) {
			out->t = KN_V_INT;
			out->u.i = 0;
		} else if (e->ref == KN_F_RESULT_OF || e->ref == KN_F_RESULT_SET)
			out->u.i = KN_JS_NULL;
		else if (e->ref >= KN_F_IS_DORMANT && e->ref <= KN_F_IS_FINISHED)
			set_bool(out, false);
		return LB_OK;
	}
	if (s->js && e->ref == KN_F_NET_SUPPORT && e->nargs == 1 &&
	    e->args[0]->op == KN_E_CONST && e->args[0]->v.t == KN_V_TEXT && m->ntasks > 0 &&
	    strcmp(e->args[0]->v.u.s, m->tasks[0]->name) == 0) {
		/* net_support('c') of a candidate named like the root: PROformajs's lookup finds
		 * the root's state (its design path), which has no support: 0 */
		out->t = KN_V_INT;
		out->u.i = 0;
		return LB_OK;
	}
	switch (e->ref) {
	case KN_F_IN_PROGRESS_TIME: case KN_F_COMPLETED_TIME: case KN_F_DISCARDED_TIME:
	case KN_F_FINISHED_TIME:
		return task_time(c, e->ref, task, e->args[0], out);
	case KN_F_INDEX:
		/* repetition index of a cyclic task (0 for its first run), -1 if not cyclic;
		 * PROformajs: the task state's index, undefined for a task not cyclic (index - 1,
		 * NaN, while the state is not set: the start's first cycle) */
		if (s->js && !m->tasks[task]->cyclic) {
			if (st == 0xff) {
				out->t = KN_V_REAL;
				out->u.r = NAN;
			}
			return LB_OK;
		}
		out->t = KN_V_INT;
		out->u.i = m->tasks[task]->cyclic ? (int64_t)s->ts[task].cycles : -1;
		return LB_OK;
	case KN_F_PATH:
	case KN_F_LAST_FINISHED:
		return task_path(c, task, e->ref == KN_F_LAST_FINISHED, out);
	case KN_F_NUM_FINISHED:
	case KN_F_NUM_COMPLETED: {
		const struct kn_expr *l = e->args[0];
		int64_t n = 0;
		for (size_t i = 0; i < l->nargs; i++) {
			if (l->args[i]->ref < 0)
				return LB_OK;
			if (kn_js_task_is_data(s, l->args[i]))
				continue; /* a data value: no state (above) */
			uint8_t ts = s->ts[l->args[i]->ref].state;
			n += ts == KN_COMPLETED || (ts == KN_DISCARDED && e->ref == KN_F_NUM_FINISHED);
		}
		out->t = KN_V_INT;
		out->u.i = n;
		return LB_OK;
	}
	case KN_F_IS_VALID: case KN_F_CAPTION: case KN_F_CAPTIONS: case KN_F_LAST_UPDATED:
	case KN_F_DATE_PART_HOUR:
		return data_fn(c, e, out);
	case KN_F_RANDOM: {
		/* deterministic: a hash of the session's step, day and trace length, so a run
		 * replays identically (the verifier and the chain need that) */
		uint64_t z = s->steps * 0x9e3779b97f4a7c15ULL + (uint64_t)s->now * 0xbf58476d1ce4e5b9ULL +
			     (uint64_t)s->trace_n + 0x94d049bb133111ebULL;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		out->t = KN_V_REAL;
		out->u.r = (double)(z >> 11) / 9007199254740992.0;
		return LB_OK;
	}
	case KN_F_IS_KNOWN:
		if (e->args[0]->op == KN_E_CONST) { /* is_known('item') */
			if (e->args[0]->ref >= 0) {
				struct kn_expr tmp = { .op = KN_E_NAME, .ref = e->args[0]->ref };
				if ((rc = ev(c, &tmp, &a)) != LB_OK)
					return rc;
			}
		} else if ((rc = ev(c, e->args[0], &a)) != LB_OK) {
			return rc;
		}
		set_bool(out, a.t != KN_V_UNKNOWN);
		return LB_OK;
	case KN_F_IS_DORMANT: set_bool(out, st == KN_DORMANT); return LB_OK;
	case KN_F_IS_IN_PROGRESS: set_bool(out, st == KN_IN_PROGRESS); return LB_OK;
	case KN_F_IS_COMPLETED: set_bool(out, st == KN_COMPLETED); return LB_OK;
	case KN_F_IS_DISCARDED: set_bool(out, st == KN_DISCARDED); return LB_OK;
	case KN_F_IS_FINISHED:
		set_bool(out, st == KN_COMPLETED || st == KN_DISCARDED);
		return LB_OK;
	case KN_F_RESULT_OF:
	case KN_F_RESULT_SET: {
		if (s->js && s->pf_unresolved != NULL && s->pf_unresolved(s->pf_ctx, e->args[0])) {
			/* PROformajs: null for a decision it cannot look up from the caller */
			out->u.i = KN_JS_NULL;
			return LB_OK;
		}
		if (m->tasks[task]->cls != KN_DECISION) {
			/* PROformajs: null (the task's state has no confirmed()) */
			if (s->js)
				out->u.i = KN_JS_NULL;
			return LB_OK;
		}
		/* PROformajs (s->js) reads the confirmed candidates in any state */
		if (st != KN_COMPLETED && !s->js)
			return LB_OK; /* no result until the decision is completed */
		const struct kn_task *d = m->tasks[task];
		size_t n = 0;
		for (size_t i = 0; i < d->ncands; i++)
			n += s->chosen[m->cand_base[task] + i] != 0;
		if (e->ref == KN_F_RESULT_OF && !(s->js && n > 1)) {
			/* PROformajs: the name when one is chosen, the list when several */
			for (size_t i = 0; i < d->ncands; i++)
				if (s->chosen[m->cand_base[task] + i]) {
					out->t = KN_V_TEXT;
					out->u.s = d->cands[i].name;
					break;
				}
			return LB_OK;
		}
		out->t = KN_V_SET;
		out->u.set.n = 0;
		out->u.set.v = kn_arena_alloc(&s->ar, (n ? n : 1) * sizeof(struct kn_value));
		if (out->u.set.v == NULL)
			return LB_ENOMEM;
		for (size_t i = 0; i < d->ncands; i++)
			if (s->chosen[m->cand_base[task] + i]) {
				struct kn_value *v = &out->u.set.v[out->u.set.n++];
				v->t = KN_V_TEXT;
				v->u.s = d->cands[i].name;
			}
		return LB_OK;
	}
	case KN_F_NET_SUPPORT: {
		bool conf, excl;
		if (cand < 0 || c->depth > KN_EVAL_MAX_DEPTH)
			return LB_OK;
		c->depth++;
		out->t = KN_V_REAL;
		out->u.r = kn_net_support(s, task, cand, &conf, &excl);
		c->depth--;
		return LB_OK;
	}
	case KN_F_IS_RECOMMENDED:
		if (cand < 0 || c->depth > KN_EVAL_MAX_DEPTH)
			return LB_OK;
		c->depth++;
		set_bool(out, kn_is_recommended(s, task, cand));
		c->depth--;
		return LB_OK;
	case KN_F_NOW:
		out->t = KN_V_DATE;
		out->u.i = s->js ? kn_clock_ms(s->js_now_ms) : s->now;
		return LB_OK;
	default:
		break;
	}
	if ((rc = ev(c, e->args[0], &a)) != LB_OK)
		return rc;
	if (e->nargs > 1 && (rc = ev(c, e->args[1], &b)) != LB_OK)
		return rc;
	if (s->js && js_list_fn_throws(c, e, &a))
		return LB_OK;
	switch (e->ref) {
	case KN_F_INCLUDES:
		if (a.t == KN_V_SET && b.t != KN_V_UNKNOWN)
			set_bool(out, member(&b, &a));
		/* includes(s, x, more) under the PROformajs rules (two arguments are x in s):
		 * (arr != null) && arr.includes(value), false for undefined either side */
		else if (s->js && (a.t == KN_V_UNKNOWN || a.t == KN_V_SET))
			set_bool(out, false);
		return LB_OK;
	case KN_F_COUNT:
		if (a.t == KN_V_SET) {
			out->t = KN_V_INT;
			out->u.i = (int64_t)a.u.set.n;
		} else if (a.t == KN_V_TEXT && s->js && !kn_js_is_this(&a) &&
			   !kn_js_state(&a)) {
			/* arr.length of a text: its length in UTF-16 units (of `this` or the
			 * root's state object: its own property 'length', taken as undefined) */
			out->t = KN_V_INT;
			out->u.i = js_text_length(a.u.s);
		}
		return LB_OK;
	case KN_F_DATE:
		if (a.t == KN_V_TEXT && kn_date_parse(a.u.s, &out->u.i))
			out->t = KN_V_DATE;
		return LB_OK;
	case KN_F_ABS: case KN_F_ROUND: case KN_F_SIN: case KN_F_COS: case KN_F_TAN:
	case KN_F_ASIN: case KN_F_ACOS: case KN_F_ATAN: case KN_F_EXP: case KN_F_LOG:
		if (s->js)
			return js_math1(e->ref, &a, out);
		break;
	default:
		break;
	}
	switch (e->ref) {
	case KN_F_ABS:
		if (a.t == KN_V_INT && a.u.i != INT64_MIN) {
			*out = a;
			out->u.i = a.u.i < 0 ? -a.u.i : a.u.i;
		} else if (a.t == KN_V_REAL) {
			*out = a;
			out->u.r = fabs(a.u.r);
		}
		return LB_OK;
	case KN_F_ROUND: case KN_F_SIN: case KN_F_COS: case KN_F_TAN: case KN_F_ASIN:
	case KN_F_ACOS: case KN_F_ATAN: case KN_F_EXP: case KN_F_LOG:
		return math1(e->ref, &a, out);
	case KN_F_SUM:
		if (s->js && a.t == KN_V_SET && a.u.set.n > 0) {
			/* arr.reduce((cum, val) => cum + val): JavaScript's + (texts concatenate) */
			struct kn_value acc = a.u.set.v[0];
			for (size_t i = 1; i < a.u.set.n; i++) {
				struct kn_value r;
				if ((rc = js_arith(s, KN_E_ADD, &acc, &a.u.set.v[i], &r)) != LB_OK)
					return rc;
				acc = r;
			}
			*out = acc;
			return LB_OK;
		}
		if (a.t == KN_V_SET)
			return set_fold(KN_E_ADD, &a, out);
		return LB_OK;
	case KN_F_NTH:
		if (s->js && kn_js_is_this(&a)) /* this[i]: taken as undefined */
			return LB_OK;
		if (s->js && a.t == KN_V_TEXT && !kn_js_state(&a))
			return js_nth_text(c, &a, &b, out);
		if (a.t == KN_V_SET && b.t == KN_V_INT && b.u.i >= 0 && (uint64_t)b.u.i < a.u.set.n)
			*out = a.u.set.v[b.u.i];
		return LB_OK;
	case KN_F_MIN:
	case KN_F_MAX: {
		if (kn_call_nargs(e) == 1) {
			/* PROformajs: min(list) / max(list) */
			if (a.t != KN_V_SET || a.u.set.n == 0)
				return LB_OK;
			*out = a.u.set.v[0];
			for (size_t i = 1; i < a.u.set.n; i++) {
				int r = cmp(&a.u.set.v[i], out);
				if (r == 2 || r == 3) {
					*out = unknown_v;
					return LB_OK;
				}
				if ((r < 0) == (e->ref == KN_F_MIN) && r != 0)
					*out = a.u.set.v[i];
			}
			return LB_OK;
		}
		int r = cmp(&a, &b);
		if (r == 2 || r == 3 || a.t == KN_V_UNKNOWN)
			return LB_OK;
		*out = ((r <= 0) == (e->ref == KN_F_MIN)) ? a : b;
		return LB_OK;
	}
	}
	return LB_OK;
}

static int arith(int op, const struct kn_value *a, const struct kn_value *b, struct kn_value *out)
{
	*out = unknown_v;
	if (a->t == KN_V_UNKNOWN || b->t == KN_V_UNKNOWN)
		return LB_OK;
	/* date arithmetic: date ± days, date - date */
	if (a->t == KN_V_DATE || b->t == KN_V_DATE) {
		if (op == KN_E_ADD && a->t == KN_V_DATE && b->t == KN_V_INT) {
			out->t = KN_V_DATE;
			out->u.i = a->u.i + b->u.i;
		} else if (op == KN_E_ADD && a->t == KN_V_INT && b->t == KN_V_DATE) {
			out->t = KN_V_DATE;
			out->u.i = a->u.i + b->u.i;
		} else if (op == KN_E_SUB && a->t == KN_V_DATE && b->t == KN_V_INT) {
			out->t = KN_V_DATE;
			out->u.i = a->u.i - b->u.i;
		} else if (op == KN_E_SUB && a->t == KN_V_DATE && b->t == KN_V_DATE) {
			out->t = KN_V_INT;
			out->u.i = a->u.i - b->u.i;
		}
		return LB_OK;
	}
	if (!is_num(a) || !is_num(b))
		return LB_OK;
	if (op == KN_E_MOD) {
		if (a->t == KN_V_INT && b->t == KN_V_INT) {
			if (b->u.i != 0 && !(a->u.i == INT64_MIN && b->u.i == -1)) {
				out->t = KN_V_INT;
				out->u.i = a->u.i % b->u.i; /* sign of the dividend, as in JavaScript */
			}
			return LB_OK;
		}
		double y = num(b);
		if (y != 0) {
			out->t = KN_V_REAL;
			out->u.r = fmod(num(a), y);
		}
		return LB_OK;
	}
	if (a->t == KN_V_INT && b->t == KN_V_INT && op != KN_E_DIV) {
		int64_t r;
		bool ovf = op == KN_E_ADD   ? __builtin_add_overflow(a->u.i, b->u.i, &r)
			   : op == KN_E_SUB ? __builtin_sub_overflow(a->u.i, b->u.i, &r)
					    : __builtin_mul_overflow(a->u.i, b->u.i, &r);
		if (!ovf) {
			out->t = KN_V_INT;
			out->u.i = r;
		}
		return LB_OK;
	}
	double x = num(a), y = num(b), r;
	switch (op) {
	case KN_E_ADD: r = x + y; break;
	case KN_E_SUB: r = x - y; break;
	case KN_E_MUL: r = x * y; break;
	default:
		if (y == 0)
			return LB_OK; /* division by zero is unknown */
		r = x / y;
	}
	if (isfinite(r)) {
		out->t = KN_V_REAL;
		out->u.r = r;
	}
	return LB_OK;
}


/* ---- JavaScript semantics (PROformajs) ------------------------------------------------------ */

static void set_real(struct kn_value *v, double r)
{
	/* whole numbers stay integers (JavaScript has one number type; LEBEN keeps both) */
	if (r == floor(r) && fabs(r) < 9007199254740992.0 && !(r == 0 && signbit(r))) {
		v->t = KN_V_INT;
		v->u.i = (int64_t)r;
	} else {
		v->t = KN_V_REAL;
		v->u.r = r;
	}
}

static double js_num(const struct kn_value *v);

/* Math.abs/round/sin/.../log of ToNumber(a): NaN and the infinities included (Math.log of
 * undefined is NaN, of 0 -Infinity), where LEBEN's rules give unknown. */
static int js_math1(int fn, const struct kn_value *a, struct kn_value *out)
{
	double x = js_num(a);
	set_real(out, fn == KN_F_ABS	  ? fabs(x)
		      : fn == KN_F_ROUND ? floor(x + 0.5) /* halves go up */
					 : math_fn(fn, x));
	return LB_OK;
}

/* Length in bytes of JavaScript's white space or line terminator (StrWhiteSpaceChar) at p,
 * in UTF-8: tab, VT, FF, space, LF, CR, NBSP, ZWNBSP, LS, PS and the Zs spaces; else 0. */
static size_t js_space(const unsigned char *p)
{
	if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		return 1;
	if (p[0] == 0xc2 && p[1] == 0xa0)
		return 2;
	if ((p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) ||
	    (p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) ||
	    (p[0] == 0xe2 && p[1] == 0x80 && ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 ||
					     p[2] == 0xa9 || p[2] == 0xaf)) ||
	    (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) ||
	    (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80))
		return 3;
	return 0;
}

/* JavaScript's ToNumber of a text (StringToNumber): white space around is ignored, "" is 0;
 * a decimal literal with an optional sign ("1e3", ".5", "5.", "-Infinity"), or an unsigned
 * 0x / 0o / 0b integer ("0x1f" is 31, exactly rounded to a double); anything else is NaN
 * ("1_000", "0x", "+0x1", "inf", "1e"). */
static double js_text_num(const char *text)
{
	const unsigned char *p = (const unsigned char *)text, *end;
	size_t k;
	while ((k = js_space(p)) > 0)
		p += k;
	end = p + strlen((const char *)p);
	while (end > p) {
		const unsigned char *q = end - 1;
		while (q > p && (*q & 0xc0) == 0x80)
			q--;
		if (js_space(q) != (size_t)(end - q))
			break;
		end = q;
	}
	size_t n = (size_t)(end - p);
	if (n == 0)
		return 0;
	char buf[64];
	if (n > 2 && p[0] == '0' && strchr("xXoObB", p[1]) != NULL) {
		int bits = p[1] == 'x' || p[1] == 'X' ? 4 : p[1] == 'o' || p[1] == 'O' ? 3 : 1;
		/* the digits as bits, then as a C hexadecimal literal strtod rounds exactly */
		struct lb_buf b;
		lb_buf_init(&b, 1u << 24);
		int rc = lb_buf_adds(&b, "0x");
		unsigned acc = 0, nacc = (unsigned)((4 - ((n - 2) * (size_t)bits) % 4) % 4);
		for (size_t i = 2; rc == LB_OK && i < n; i++) {
			int c = p[i], d = c >= '0' && c <= '9'	 ? c - '0'
					: c >= 'a' && c <= 'f' ? c - 'a' + 10
					: c >= 'A' && c <= 'F' ? c - 'A' + 10
							       : 99;
			if (d >= (1 << bits)) {
				lb_buf_release(&b);
				return NAN;
			}
			for (int j = bits - 1; j >= 0; j--) {
				acc = acc << 1 | ((unsigned)d >> j & 1);
				if (++nacc == 4) {
					rc = lb_buf_addc(&b, (uint8_t)"0123456789abcdef"[acc]);
					acc = nacc = 0;
				}
			}
		}
		if (rc == LB_OK)
			rc = lb_buf_addc(&b, 0);
		double r = rc == LB_OK ? strtod((const char *)b.data, NULL) : NAN;
		lb_buf_release(&b);
		return r;
	}
	size_t i = 0, digits = 0;
	bool neg = p[0] == '-';
	if (p[0] == '+' || p[0] == '-')
		i++;
	if (n - i == 8 && memcmp(p + i, "Infinity", 8) == 0)
		return neg ? -INFINITY : INFINITY;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
		digits++;
	if (i < n && p[i] == '.')
		for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			digits++;
	if (digits == 0)
		return NAN;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		size_t e0;
		if (++i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		for (e0 = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == e0)
			return NAN;
	}
	if (i != n)
		return NAN;
	if (n < sizeof(buf)) {
		memcpy(buf, p, n);
		buf[n] = 0;
		return strtod(buf, NULL);
	}
	char *t = lb_malloc(n + 1);
	if (t == NULL)
		return NAN;
	memcpy(t, p, n);
	t[n] = 0;
	double r = strtod(t, NULL);
	lb_free(t);
	return r;
}

/* ToNumber: undefined -> NaN, null -> 0, booleans 0/1, text parsed ("" -> 0), dates as their
 * ms. */
static double js_num(const struct kn_value *v)
{
	switch (v->t) {
	case KN_V_UNKNOWN: return kn_js_null(v) ? 0 : NAN;
	case KN_V_BOOL: return v->u.b ? 1 : 0;
	case KN_V_INT: case KN_V_DATE: return (double)v->u.i;
	case KN_V_REAL: return v->u.r;
	case KN_V_TEXT:
		return js_text_num(v->u.s);
	case KN_V_SET:
		if (v->u.set.n == 0)
			return 0;
		if (v->u.set.n == 1 && (v->u.set.v[0].t == KN_V_INT || v->u.set.v[0].t == KN_V_REAL ||
					 v->u.set.v[0].t == KN_V_TEXT))
			return js_num(&v->u.set.v[0]);
		return NAN;
	default:
		return NAN;
	}
}

double kn_js_number(const struct kn_value *v)
{
	return js_num(v);
}

bool kn_js_task_is_data(const struct lb_kn_session *s, const struct kn_expr *a)
{
	if (!s->js || s->pf_ident == NULL || a->op != KN_E_CONST || a->v.t != KN_V_TEXT ||
	    strchr(a->v.u.s, ':') != NULL)
		return false;
	const struct lb_kn_model *m = s->m;
	if (m->ntasks > 0 && strcmp(m->tasks[0]->name, a->v.u.s) == 0)
		return false; /* the root: its design path is its name */
	int d = kn_model_find_data(m, a->v.u.s);
	return d >= 0 && s->pf_ident[d].t != KN_V_UNKNOWN;
}

/* ToString into the arena: how JavaScript writes the value ("undefined", "1.5", "a,b"). */
/* A finite number as JavaScript's String() writes it: the shortest digits that read back as
 * the same double, in fixed notation for exponents -7 < e < 21, else d.ddde±x. */
static int js_num_text(struct lb_buf *b, double x)
{
	if (x == 0)
		return lb_buf_adds(b, "0");
	char e[48], dig[24];
	for (int p = 1; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, x);
		if (strtod(e, NULL) == x)
			break;
	}
	int nd = 0, rc = x < 0 ? lb_buf_addc(b, '-') : LB_OK;
	const char *q = e + (x < 0);
	for (; *q != '\0' && *q != 'e'; q++)
		if (*q != '.' && nd < 20)
			dig[nd++] = *q;
	int n = atoi(q + 1) + 1; /* the value is 0.DIGITS times 10^n */
	if (rc == LB_OK && nd <= n && n <= 21) {
		rc = lb_buf_add(b, dig, (size_t)nd);
		for (int i = nd; rc == LB_OK && i < n; i++)
			rc = lb_buf_addc(b, '0');
	} else if (rc == LB_OK && 0 < n && n <= 21) {
		rc = lb_buf_add(b, dig, (size_t)n);
		rc = rc ? rc : lb_buf_addc(b, '.');
		rc = rc ? rc : lb_buf_add(b, dig + n, (size_t)(nd - n));
	} else if (rc == LB_OK && -6 < n && n <= 0) {
		rc = lb_buf_adds(b, "0.");
		for (int i = n; rc == LB_OK && i < 0; i++)
			rc = lb_buf_addc(b, '0');
		rc = rc ? rc : lb_buf_add(b, dig, (size_t)nd);
	} else if (rc == LB_OK) {
		rc = lb_buf_add(b, dig, 1);
		if (rc == LB_OK && nd > 1) {
			rc = lb_buf_addc(b, '.');
			rc = rc ? rc : lb_buf_add(b, dig + 1, (size_t)(nd - 1));
		}
		rc = rc ? rc : lb_buf_addf(b, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
	return rc;
}

static int js_str(struct lb_kn_session *s, const struct kn_value *v, const char **out)
{
	struct lb_buf b;
	int rc = LB_OK;
	if (kn_js_is_fn(v)) { /* its source text: not reproduced */
		if (!s->js_threw)
			s->js_why = kn_js_fn_source_why;
		s->js_threw = true;
		*out = "";
		return LB_OK;
	}
	lb_buf_init(&b, 1u << 20);
	switch (v->t) {
	case KN_V_UNKNOWN: rc = lb_buf_adds(&b, kn_js_null(v) ? "null" : "undefined"); break;
	case KN_V_BOOL: rc = lb_buf_adds(&b, v->u.b ? "true" : "false"); break;
	case KN_V_TEXT: rc = lb_buf_adds(&b, v->u.s); break;
	case KN_V_REAL:
		if (isnan(v->u.r)) {
			rc = lb_buf_adds(&b, "NaN");
			break;
		}
		if (isinf(v->u.r)) {
			rc = lb_buf_adds(&b, v->u.r > 0 ? "Infinity" : "-Infinity");
			break;
		}
		rc = js_num_text(&b, v->u.r);
		break;
	case KN_V_SET:
		for (size_t i = 0; rc == LB_OK && i < v->u.set.n; i++) {
			const char *e;
			if (i > 0)
				rc = lb_buf_addc(&b, ',');
			if (rc == LB_OK && v->u.set.v[i].t != KN_V_UNKNOWN &&
			    (rc = js_str(s, &v->u.set.v[i], &e)) == LB_OK)
				rc = lb_buf_adds(&b, e);
		}
		break;
	case KN_V_DATE: { /* a moment object's String() */
		char t[40];
		kn_date_ms_moment_text(v->u.i, t);
		rc = lb_buf_adds(&b, t);
		break;
	}
	default:
		rc = kn_value_to_text(&b, v);
	}
	if (rc == LB_OK) {
		char *p = kn_arena_strdup(&s->ar, b.data ? (const char *)b.data : "", b.len);
		if (p == NULL)
			rc = LB_ENOMEM;
		*out = p;
	}
	lb_buf_release(&b);
	return rc;
}

/* Strict equality (===): same type and value; numbers compare as numbers. */
static bool js_seq(const struct kn_value *a, const struct kn_value *b)
{
	if (is_num(a) && is_num(b))
		return num(a) == num(b);
	if (a->t != b->t || kn_js_state(a) != kn_js_state(b)) /* an object is no text */
		return false;
	switch (a->t) {
	case KN_V_UNKNOWN: return kn_js_null(a) == kn_js_null(b); /* null !== undefined */
	case KN_V_SET: /* two arrays are two objects, but for an item's array read twice */
		return a->oid != 0 && a->oid == b->oid;
	default: return cmp(a, b) == 0;
	}
}

/* Loose equality (==) with JavaScript's coercions. */
static bool js_leq(struct lb_kn_session *s, const struct kn_value *a, const struct kn_value *b)
{
	if (a->t == KN_V_UNKNOWN || b->t == KN_V_UNKNOWN)
		return a->t == b->t;
	if (a->t == KN_V_TEXT && b->t == KN_V_TEXT) /* a state object as its String() */
		return strcmp(a->u.s, b->u.s) == 0;
	if (a->t == b->t || (is_num(a) && is_num(b)))
		return js_seq(a, b);
	if (a->t == KN_V_SET || b->t == KN_V_SET) {
		/* an array against a primitive: compared as its string */
		const struct kn_value *arr = a->t == KN_V_SET ? a : b, *o = a->t == KN_V_SET ? b : a;
		struct kn_value t = { .t = KN_V_TEXT };
		if (o->t == KN_V_SET || js_str(s, arr, &t.u.s) != LB_OK)
			return false;
		return js_leq(s, &t, o);
	}
	/* a moment object against a primitive: its valueOf() (ms) as a number (two moment
	 * objects are two objects: equal only as the same object, here as the same time) */
	/* number, text, boolean and date: both as numbers */
	double x = js_num(a), y = js_num(b);
	return x == y;
}

/* <, <=, >, >=: two texts compare as text, anything else as numbers (NaN: false). */
static bool js_rel(int op, const struct kn_value *a, const struct kn_value *b)
{
	int r;
	if (a->t == KN_V_TEXT && b->t == KN_V_TEXT) {
		int c = strcmp(a->u.s, b->u.s);
		r = c < 0 ? -1 : c > 0;
	} else {
		double x = js_num(a), y = js_num(b);
		if (isnan(x) || isnan(y))
			return false;
		r = x < y ? -1 : x > y;
	}
	switch (op) {
	case KN_E_LT: return r < 0;
	case KN_E_LE: return r <= 0;
	case KN_E_GT: return r > 0;
	default: return r >= 0;
	}
}

static int js_arith(struct lb_kn_session *s, int op, const struct kn_value *a,
		    const struct kn_value *b, struct kn_value *out)
{
	if (op == KN_E_ADD && (a->t == KN_V_TEXT || b->t == KN_V_TEXT || a->t == KN_V_SET ||
			       b->t == KN_V_SET)) {
		const char *x, *y;
		int rc;
		/* a date (moment object) goes in as ToPrimitive gives it: valueOf(), its ms */
		struct kn_value an = *a, bn = *b;
		if (an.t == KN_V_DATE)
			set_real(&an, (double)a->u.i);
		if (bn.t == KN_V_DATE)
			set_real(&bn, (double)b->u.i);
		if ((rc = js_str(s, &an, &x)) != LB_OK || (rc = js_str(s, &bn, &y)) != LB_OK)
			return rc;
		size_t nx = strlen(x), ny = strlen(y);
		char *p = kn_arena_alloc(&s->ar, nx + ny + 1);
		if (p == NULL)
			return LB_ENOMEM;
		memcpy(p, x, nx);
		memcpy(p + nx, y, ny + 1);
		out->t = KN_V_TEXT;
		out->u.s = p;
		return LB_OK;
	}
	/* a date (moment object) counts as its valueOf(), milliseconds: the result is a number */
	double x = js_num(a), y = js_num(b), r;
	switch (op) {
	case KN_E_ADD: r = x + y; break;
	case KN_E_SUB: r = x - y; break;
	case KN_E_MUL: r = x * y; break;
	case KN_E_DIV: r = x / y; break;
	default: r = fmod(x, y); break;
	}
	set_real(out, r);
	return LB_OK;
}

/* arr.includes(x) (SameValueZero) and text.includes(x) (String(x) a part of it); other
 * values are left unknown. */
static int js_includes(struct lb_kn_session *s, const struct kn_value *hay,
		       const struct kn_value *x, struct kn_value *out)
{
	if (hay->t == KN_V_SET) {
		bool f = false;
		for (size_t i = 0; !f && i < hay->u.set.n; i++)
			f = js_seq(&hay->u.set.v[i], x) ||
			    (hay->u.set.v[i].t == KN_V_REAL && x->t == KN_V_REAL && isnan(x->u.r) &&
			     isnan(hay->u.set.v[i].u.r));
		set_bool(out, f);
	} else if (hay->t == KN_V_TEXT) {
		const char *t;
		int rc = js_str(s, x, &t);
		if (rc != LB_OK)
			return rc;
		set_bool(out, strstr(hay->u.s, t) != NULL);
	}
	return LB_OK;
}

/* ---- JavaScript's member access (the JSON form, PROformajs's evaluator) --------------------
 * What PROformajs's evaluator (jse-eval) does with `a.name`, `a[key]` and `a.name(args)` for
 * the values it can see: texts and lists (`length`, index, `includes`), moment objects (Date
 * items, now(): diff() and the getters years() ... milliseconds(), in UTC as PROformajs runs
 * with TZ=UTC), other values (no such member: undefined). Reading a member of undefined throws
 * ("Cannot read properties of undefined"), as does a key PROformajs refuses (constructor,
 * prototype, __proto__) and calling what is not a function. The other members of JavaScript's
 * and moment.js's own are refused at load (kn_expr.c, kn_js_member). */

static void js_read_of_undefined(struct ectx *c)
{
	js_throw(c, "Cannot read properties of undefined (member access)");
}

/* A member of o by its key text (a canonical array index reads an element); opt: read
 * through `?.`, where jse-eval reads a falsy object as {} (no member: undefined). */
static int js_member_of(struct ectx *c, const struct kn_value *o, const char *key, bool opt,
			struct kn_value *out)
{
	*out = unknown_v;
	if (kn_js_key_disallowed(key)) {
		js_throw(c, "Access to member disallowed");
		return LB_OK;
	}
	if (opt && !kn_truthy(o))
		return LB_OK;
	if (o->t == KN_V_UNKNOWN) {
		js_read_of_undefined(c);
		return LB_OK;
	}
	if (kn_js_state(o) || kn_js_is_this(o))
		return LB_OK; /* an object's: no length, no element (undefined) */
	/* a modelled method read without its call: the function (a list's or text's includes,
	 * a moment's diff, years() ...); undefined on any other value */
	if (kn_js_member(key) == KN_JSM_METHOD) {
		bool inc = strcmp(key, "includes") == 0;
		if ((inc && (o->t == KN_V_SET || (o->t == KN_V_TEXT && !kn_js_is_this(o) &&
						   !kn_js_is_fn(o)))) ||
		    (!inc && o->t == KN_V_DATE)) {
			out->t = KN_V_TEXT;
			out->u.s = kn_js_fn_obj;
		}
		return LB_OK;
	}
	if (strcmp(key, "length") == 0) {
		if (o->t == KN_V_SET)
			set_real(out, (double)o->u.set.n);
		else if (o->t == KN_V_TEXT)
			set_real(out, (double)js_text_length(o->u.s));
		return LB_OK;
	}
	/* a canonical array index: digits, no leading zero */
	size_t n = strlen(key);
	if (n == 0 || n > 15 || strspn(key, "0123456789") != n || (key[0] == '0' && n > 1))
		return LB_OK;
	uint64_t k = strtoull(key, NULL, 10);
	if (o->t == KN_V_SET && k < o->u.set.n) {
		*out = o->u.set.v[k];
	} else if (o->t == KN_V_TEXT && k < strlen(o->u.s)) {
		/* one byte (JavaScript: one UTF-16 unit; the same for ASCII) */
		char *p = kn_arena_strdup(&c->s->ar, o->u.s + k, 1);
		if (p == NULL)
			return LB_ENOMEM;
		out->t = KN_V_TEXT;
		out->u.s = p;
	}
	return LB_OK;
}

/* a[key] under the PROformajs rules: the key as JavaScript writes it names the member */
static int js_index(struct ectx *c, const struct kn_expr *e, struct kn_value *out)
{
	struct kn_value o, k;
	int rc;
	const char *key;
	if ((rc = ev(c, e->args[0], &o)) != LB_OK || (rc = ev(c, e->args[1], &k)) != LB_OK)
		return rc;
	if ((k.t == KN_V_INT || k.t == KN_V_REAL) && js_num(&k) == 0) {
		key = "0"; /* (-0 too) */
	} else if ((rc = js_str(c->s, &k, &key)) != LB_OK) {
		return rc;
	}
	return js_member_of(c, &o, key, kn_expr_optional(e), out);
}

static int js_member(struct ectx *c, const struct kn_expr *e, struct kn_value *out)
{
	struct kn_value o;
	int rc = ev(c, e->args[0], &o);
	return rc != LB_OK ? rc : js_member_of(c, &o, e->name, kn_expr_optional(e), out);
}

/* ---- moment.js in UTC ---- */

static int64_t js_floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* days since 1970-01-01 -> year, month 1-12, day 1-31 (proleptic Gregorian) */
static void js_civil(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = js_floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t js_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = js_floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int js_month_days(int64_t y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

/* moment's add(n, 'months'): the month moved, the day kept or the month's last, the time kept */
static int64_t js_add_months(int64_t ms, int64_t n)
{
	int64_t day = js_floor_div(ms, 86400000), y;
	int m, d;
	js_civil(day, &y, &m, &d);
	int64_t total = y * 12 + (m - 1) + n;
	int64_t ny = js_floor_div(total, 12);
	int nm = (int)(total - ny * 12) + 1;
	int nd = d < js_month_days(ny, nm) ? d : js_month_days(ny, nm);
	return js_days_from_civil(ny, nm, nd) * 86400000 + (ms - day * 86400000);
}

/* moment's monthDiff(a, b) */
static double js_month_diff(int64_t a, int64_t b)
{
	int64_t ya, yb;
	int ma, mb, da, db;
	js_civil(js_floor_div(a, 86400000), &ya, &ma, &da);
	js_civil(js_floor_div(b, 86400000), &yb, &mb, &db);
	if (da < db)
		return -js_month_diff(b, a);
	int64_t whole = (yb - ya) * 12 + (mb - ma);
	double anchor = (double)js_add_months(a, whole), anchor2, adjust;
	if ((double)b - anchor < 0) {
		anchor2 = (double)js_add_months(a, whole - 1);
		adjust = ((double)b - anchor) / (anchor - anchor2);
	} else {
		anchor2 = (double)js_add_months(a, whole + 1);
		adjust = ((double)b - anchor) / (anchor2 - anchor);
	}
	double r = -((double)whole + adjust);
	return r == 0 || isnan(r) ? 0 : r; /* (`|| 0`) */
}

/* moment's normalizeUnits for diff: 'y', 'year', 'years' (any case but 'M'/'m'...) */
static int js_diff_unit(const struct kn_value *u)
{
	static const struct {
		const char *a, *b, *c;
		int unit;
	} al[] = {
		{ "y", "year", "years", 'y' },	   { "M", "month", "months", 'M' },
		{ "Q", "quarter", "quarters", 'Q' }, { "w", "week", "weeks", 'w' },
		{ "d", "day", "days", 'd' },	   { "h", "hour", "hours", 'h' },
		{ "m", "minute", "minutes", 'm' },   { "s", "second", "seconds", 's' },
		{ "ms", "millisecond", "milliseconds", 'S' },
	};
	if (u->t != KN_V_TEXT)
		return 0;
	/* the exact spelling first ('M' month, 'm' minute), then in lower case */
	for (int pass = 0; pass < 2; pass++) {
		char low[16];
		const char *t = u->u.s;
		size_t n = strlen(t);
		if (pass == 1) {
			if (n >= sizeof(low))
				return 0;
			for (size_t i = 0; i <= n; i++)
				low[i] = (char)(t[i] >= 'A' && t[i] <= 'Z' ? t[i] + 32 : t[i]);
			t = low;
		}
		/* (moment's other aliases, 'D' for date..., are no diff unit: milliseconds) */
		static const char *const other[] = { "D", "date", "dates", "E", "W", "e" };
		for (size_t i = 0; pass == 0 && i < sizeof(other) / sizeof(other[0]); i++)
			if (strcmp(t, other[i]) == 0)
				return 0;
		for (size_t i = 0; i < sizeof(al) / sizeof(al[0]); i++)
			if (strcmp(t, al[i].a) == 0 || strcmp(t, al[i].b) == 0 || strcmp(t, al[i].c) == 0)
				return al[i].unit;
	}
	return 0;
}

/* moment(x) as diff() reads its argument, in ms: a moment, a number, undefined (now); other
 * values are not modelled (NaN, an invalid moment) */
static double js_moment_ms(struct ectx *c, const struct kn_value *x)
{
	switch (x->t) {
	case KN_V_DATE: return (double)x->u.i;
	case KN_V_INT: return (double)x->u.i;
	case KN_V_REAL: return isfinite(x->u.r) && fabs(x->u.r) <= 8.64e15 ? trunc(x->u.r) : NAN;
	case KN_V_UNKNOWN: return (double)kn_clock_ms(c->s->js_now_ms);
	default: return NAN;
	}
}

static int js_moment_method(struct ectx *c, const char *key, int64_t ms,
			    const struct kn_value *args, size_t nargs, struct kn_value *out)
{
	int64_t day = js_floor_div(ms, 86400000), y, in_day = ms - day * 86400000;
	int mo, d;
	js_civil(day, &y, &mo, &d);
	if (strcmp(key, "years") == 0)
		set_real(out, (double)y);
	else if (strcmp(key, "months") == 0)
		set_real(out, mo - 1);
	else if (strcmp(key, "days") == 0) /* the day of the week, 0 Sunday */
		set_real(out, (double)((day % 7 + 11) % 7));
	else if (strcmp(key, "hours") == 0)
		set_real(out, (double)(in_day / 3600000));
	else if (strcmp(key, "seconds") == 0)
		set_real(out, (double)(in_day / 1000 % 60));
	else if (strcmp(key, "milliseconds") == 0)
		set_real(out, (double)(in_day % 1000));
	else { /* diff(that, units, asFloat) */
		static const struct kn_value undef = { .t = KN_V_UNKNOWN };
		double that = js_moment_ms(c, nargs > 0 ? &args[0] : &undef), r;
		int unit = js_diff_unit(nargs > 1 ? &args[1] : &undef);
		double delta = (double)ms - that;
		if (isnan(that)) {
			r = NAN;
		} else {
			switch (unit) {
			case 'y': r = js_month_diff(ms, (int64_t)that) / 12; break;
			case 'M': r = js_month_diff(ms, (int64_t)that); break;
			case 'Q': r = js_month_diff(ms, (int64_t)that) / 3; break;
			case 's': r = delta / 1e3; break;
			case 'm': r = delta / 6e4; break;
			case 'h': r = delta / 36e5; break;
			case 'd': r = delta / 864e5; break;
			case 'w': r = delta / 6048e5; break;
			default: r = delta;
			}
			if (!(nargs > 2 && kn_truthy(&args[2]))) /* absFloor */
				r = r < 0 ? (ceil(r) == 0 ? 0 : ceil(r)) : floor(r);
		}
		set_real(out, r);
	}
	return LB_OK;
}

/* a.name(args) / a['name'](args) under the PROformajs rules */
static int js_apply(struct ectx *c, const struct kn_expr *e, struct kn_value *out)
{
	const struct kn_expr *f = e->args[0];
	const char *key = NULL;
	struct kn_value o, args[3], more;
	int rc;
	*out = unknown_v;
	if (f->op == KN_E_MEMBER)
		key = f->name;
	else if (f->op == KN_E_INDEX && f->args[1]->op == KN_E_CONST &&
		 f->args[1]->v.t == KN_V_TEXT)
		key = f->args[1]->v.u.s;
	if (key == NULL) {
		/* no function value but the evaluator's own (this.f(), read as a call) */
		if ((rc = ev(c, f, &o)) != LB_OK)
			return rc;
		js_throw(c, "is not a function");
		return LB_OK;
	}
	if ((rc = ev(c, f->args[0], &o)) != LB_OK)
		return rc;
	if (kn_js_key_disallowed(key)) {
		js_throw(c, "Access to member disallowed");
		return LB_OK;
	}
	bool opt = kn_expr_optional(f);
	if (opt && !kn_truthy(&o))
		return LB_OK; /* ({})[key] is no function: `?.` gives undefined */
	if (o.t == KN_V_UNKNOWN) {
		js_read_of_undefined(c);
		return LB_OK;
	}
	bool incl = strcmp(key, "includes") == 0 && (o.t == KN_V_SET || o.t == KN_V_TEXT);
	bool moment = kn_js_member(key) == KN_JSM_METHOD && !incl && o.t == KN_V_DATE &&
		      strcmp(key, "includes") != 0;
	if (!incl && !moment) {
		/* through `?.` a member that is no value (undefined, 0, '') gives undefined */
		struct kn_value fv;
		if (opt && (rc = js_member_of(c, &o, key, true, &fv)) == LB_OK && !kn_truthy(&fv))
			return LB_OK;
		js_throw(c, "is not a function");
		return rc;
	}
	size_t n = e->nargs - 1;
	for (size_t i = 0; i < 3; i++)
		args[i] = unknown_v;
	for (size_t i = 0; i < n; i++)
		if ((rc = ev(c, e->args[i + 1], i < 3 ? &args[i] : &more)) != LB_OK)
			return rc;
	if (incl)
		return js_includes(c->s, &o, &args[0], out);
	return js_moment_method(c, key, o.u.i, args, n, out);
}

/* Operators under JavaScript semantics; 1 when handled (functions, names, constants and
 * lists are shared with LEBEN's semantics). */
static int ev_js(struct ectx *c, const struct kn_expr *e, struct kn_value *out, int *rc)
{
	struct kn_value a, b;
	struct lb_kn_session *s = c->s;
	*rc = LB_OK;
	switch (e->op) {
	case KN_E_NOT:
		if ((*rc = ev(c, e->args[0], &a)) == LB_OK)
			set_bool(out, !kn_truthy(&a));
		return 1;
	case KN_E_AND:
	case KN_E_OR:
		if ((*rc = ev(c, e->args[0], &a)) != LB_OK)
			return 1;
		if (kn_truthy(&a) == (e->op == KN_E_OR)) {
			*out = a;
			return 1;
		}
		*rc = ev(c, e->args[1], out);
		return 1;
	case KN_E_COND:
		if ((*rc = ev(c, e->args[0], &a)) == LB_OK)
			*rc = ev(c, e->args[kn_truthy(&a) ? 1 : 2], out);
		return 1;
	case KN_E_NEG:
		if ((*rc = ev(c, e->args[0], &a)) == LB_OK)
			set_real(out, -js_num(&a));
		return 1;
	case KN_E_POS:
		if ((*rc = ev(c, e->args[0], &a)) == LB_OK)
			set_real(out, js_num(&a));
		return 1;
	case KN_E_INDEX:
		*rc = js_index(c, e, out);
		return 1;
	case KN_E_NAME:
		/* this.constructor: PROformajs's evaluator refuses the key */
		if (kn_expr_this(e) == KN_THIS_BARE) {
			out->t = KN_V_TEXT;
			out->u.s = kn_js_this_obj;
			return 1;
		}
		/* this.f of a function f that no data item's name hides: the function itself */
		if (kn_expr_this(e) == KN_THIS_DOT && e->ref == -1 && kn_fn_lookup(e->name) >= 0) {
			out->t = KN_V_TEXT;
			out->u.s = kn_js_fn_obj;
			return 1;
		}
		if (kn_expr_this(e) && kn_js_key_disallowed(e->name)) {
			js_throw(c, "Access to member disallowed");
			return 1;
		}
		return 0;
	case KN_E_CONST: case KN_E_CALL: case KN_E_LIST:
		return 0;
	default:
		break;
	}
	if ((*rc = ev(c, e->args[0], &a)) != LB_OK || (*rc = ev(c, e->args[1], &b)) != LB_OK)
		return 1;
	switch (e->op) {
	case KN_E_ADD: case KN_E_SUB: case KN_E_MUL: case KN_E_DIV: case KN_E_MOD:
		*rc = js_arith(s, e->op, &a, &b, out);
		return 1;
	case KN_E_EQ: set_bool(out, js_leq(s, &a, &b)); return 1;
	case KN_E_NE: set_bool(out, !js_leq(s, &a, &b)); return 1;
	case KN_E_SEQ: set_bool(out, js_seq(&a, &b)); return 1;
	case KN_E_SNE: set_bool(out, !js_seq(&a, &b)); return 1;
	case KN_E_IN:
		/* includes(arr, x): arr != null && arr.includes(x) (SameValueZero); a text
		 * includes a substring */
		if (b.t == KN_V_UNKNOWN)
			set_bool(out, false);
		else if (b.t == KN_V_SET || (b.t == KN_V_TEXT && !kn_js_is_this(&b) && !kn_js_state(&b)))
			*rc = js_includes(s, &b, &a, out);
		else /* a number, boolean, date or state object has no includes() */
			js_throw(c, "arr.includes is not a function");
		return 1;
	default: /* < <= > >= */
		set_bool(out, js_rel(e->op, &a, &b));
		return 1;
	}
}

/* ---- JavaScript-only operators (the JSON form: bitwise, `**`, `??`, compound) ---------------- */

/* ToInt32 / ToUint32: NaN and ±Infinity are 0, else the whole part modulo 2^32. */
static uint32_t js_uint32(const struct kn_value *v)
{
	double x = js_num(v);
	if (isnan(x) || isinf(x))
		return 0;
	x = fmod(trunc(x), 4294967296.0);
	if (x < 0)
		x += 4294967296.0;
	return (uint32_t)x;
}

static int32_t js_int32(const struct kn_value *v)
{
	uint32_t u = js_uint32(v);
	return u >= 0x80000000u ? (int32_t)(u - 0x80000000u) - INT32_MAX - 1 : (int32_t)u;
}

/* The operators only the JSON form has; 1 when e is one. Under the PROformajs rules as
 * PROformajs's evaluator (jse-eval) computes them; under LEBEN's rules (a JSON protocol run
 * with --rules leben) a compound is its last expression's value and the others are unknown. */
static int ev_js_ext(struct ectx *c, const struct kn_expr *e, struct kn_value *out, int *rc)
{
	struct kn_value a, b;
	*rc = LB_OK;
	switch (e->op) {
	case KN_E_MEMBER: case KN_E_APPLY:
		if (c->s->js)
			*rc = e->op == KN_E_MEMBER ? js_member(c, e, out) : js_apply(c, e, out);
		return 1; /* (LEBEN's rules: unknown; the .pf form has neither) */
	case KN_E_SEQUENCE:
		/* jse-eval has no evaluation for jsep's SequenceExpression: it throws */
		if (c->s->js)
			js_throw(c, "unknown node type: SequenceExpression");
		return 1;
	case KN_E_COMPOUND: /* each in turn (a failure of any fails it), the last one's value */
		for (size_t i = 0; *rc == LB_OK && i < e->nargs; i++)
			*rc = ev(c, e->args[i], i + 1 == e->nargs ? out : &a);
		return 1;
	case KN_E_BNOT:
		if ((*rc = ev(c, e->args[0], &a)) == LB_OK && c->s->js)
			set_real(out, (double)~js_int32(&a));
		return 1;
	case KN_E_BAND: case KN_E_BOR: case KN_E_BXOR: case KN_E_SHL: case KN_E_SHR:
	case KN_E_USHR: case KN_E_POW: case KN_E_NULLISH:
		break;
	default:
		return 0;
	}
	if ((*rc = ev(c, e->args[0], &a)) != LB_OK || (*rc = ev(c, e->args[1], &b)) != LB_OK ||
	    !c->s->js)
		return 1;
	uint32_t x = js_uint32(&a), y = js_uint32(&b);
	int32_t xi = js_int32(&a);
	switch (e->op) {
	case KN_E_BAND: set_real(out, (double)(xi & js_int32(&b))); break;
	case KN_E_BOR: set_real(out, (double)(xi | js_int32(&b))); break;
	case KN_E_BXOR: set_real(out, (double)(xi ^ js_int32(&b))); break;
	case KN_E_SHL: {
		uint32_t r = x << (y & 31);
		set_real(out, r >= 0x80000000u ? (double)r - 4294967296.0 : (double)r);
		break;
	}
	case KN_E_SHR: /* arithmetic shift of the signed value */
		set_real(out, xi >= 0 ? (double)(xi >> (y & 31))
				      : -1.0 - (double)((uint32_t)~(uint32_t)xi >> (y & 31)));
		break;
	case KN_E_USHR: set_real(out, (double)(x >> (y & 31))); break;
	default:
		/* `**`, `??`: PROformajs's parser reads them, but its evaluator has no function for
		 * them and throws ("n.binops[e.operator] is not a function"): so does this one */
		js_throw(c, "n.binops[e.operator] is not a function");
		break;
	}
	return 1;
}

static int ev(struct ectx *c, const struct kn_expr *e, struct kn_value *out)
{
	struct kn_value a, b;
	int rc, ta, tb;
	*out = unknown_v;
	if (e->op > KN_E_POS && ev_js_ext(c, e, out, &rc))
		return rc;
	if (c->s->js && ev_js(c, e, out, &rc))
		return rc;
	switch (e->op) {
	case KN_E_CONST:
		*out = e->v;
		return LB_OK;
	case KN_E_NAME:
		if (e->ref == KN_REF_VALUE) {
			if (c->bound != NULL)
				*out = *c->bound;
			return LB_OK;
		}
		if (e->ref < 0 && c->s->js && e->ref == -1 && c->s->m->root != NULL &&
		    !c->s->m->root->cyclic && strcmp(e->name, c->s->m->root->name) == 0) {
			/* PROformajs's context holds the tasks by runtime path: the top-level
			 * task's name (not cyclic) is its state object */
			out->t = KN_V_TEXT;
			out->u.s = kn_js_state_text;
			return LB_OK;
		}
		if (e->ref < 0)
			return LB_OK;
		if (e->ref == c->bound_data && c->bound != NULL) {
			*out = *c->bound;
			return LB_OK;
		}
		if (c->s->m->data[e->ref].derive != NULL && !c->s->pf_stored_derived) {
			if (c->depth >= KN_EVAL_MAX_DEPTH)
				return LB_OK; /* circular derivation: unknown */
			c->depth++;
			rc = ev(c, c->s->m->data[e->ref].derive, out);
			c->depth--;
			return rc;
		}
		*out = c->s->pf_ident != NULL ? c->s->pf_ident[e->ref] : *kn_current(c->s, e->ref);
		if (kn_js_fn_stored(out)) { /* a derived item holding a function */
			out->t = KN_V_TEXT;
			out->u.s = kn_js_fn_obj;
		}
		return LB_OK;
	case KN_E_CALL:
		return call(c, e, out);
	case KN_E_LIST:
		out->t = KN_V_SET;
		out->u.set.n = 0;
		out->u.set.v = kn_arena_alloc(&c->s->ar,
					      (e->nargs ? e->nargs : 1) * sizeof(struct kn_value));
		if (out->u.set.v == NULL)
			return LB_ENOMEM;
		for (size_t i = 0; i < e->nargs; i++) {
			if ((rc = ev(c, e->args[i], &a)) != LB_OK)
				return rc;
			if (a.t == KN_V_UNKNOWN) {
				*out = unknown_v;
				return LB_OK;
			}
			/* (under the PROformajs rules a JavaScript array: [1, 1] has two elements) */
			if (c->s->js || !member(&a, out))
				out->u.set.v[out->u.set.n++] = a;
		}
		return LB_OK;
	case KN_E_NEG:
		if ((rc = ev(c, e->args[0], &a)) != LB_OK)
			return rc;
		if (a.t == KN_V_INT && a.u.i != INT64_MIN) {
			*out = a;
			out->u.i = -a.u.i;
		} else if (a.t == KN_V_REAL) {
			*out = a;
			out->u.r = -a.u.r;
		}
		return LB_OK;
	case KN_E_NOT:
		if ((rc = ev(c, e->args[0], &a)) != LB_OK)
			return rc;
		if ((ta = kn_truth(&a)) >= 0)
			set_bool(out, !ta);
		return LB_OK;
	case KN_E_POS:
		if ((rc = ev(c, e->args[0], &a)) != LB_OK)
			return rc;
		if (is_num(&a))
			*out = a;
		return LB_OK;
	case KN_E_INDEX:
		if ((rc = ev(c, e->args[0], &a)) != LB_OK || (rc = ev(c, e->args[1], &b)) != LB_OK)
			return rc;
		if (c->s->js && a.t == KN_V_UNKNOWN && e->args[0]->op != KN_E_LIST) {
			/* a[i] of undefined or null (a list written out is an array all the same) */
			js_throw(c, "Cannot read properties of undefined (an index of an unset value)");
			return LB_OK;
		}
		if (!(b.t == KN_V_INT || (b.t == KN_V_REAL && b.u.r == floor(b.u.r))))
			return LB_OK;
		{
			double k = num(&b);
			if (a.t == KN_V_SET && k >= 0 && k < (double)a.u.set.n) {
				*out = a.u.set.v[(size_t)k];
			} else if (a.t == KN_V_TEXT && k >= 0 && k < (double)strlen(a.u.s) &&
				   !kn_js_state(&a)) {
				/* one byte (JavaScript: one UTF-16 unit; the same for ASCII) */
				char *p = kn_arena_strdup(&c->s->ar, a.u.s + (size_t)k, 1);
				if (p == NULL)
					return LB_ENOMEM;
				out->t = KN_V_TEXT;
				out->u.s = p;
			}
		}
		return LB_OK;
	case KN_E_AND:
	case KN_E_OR: {
		bool is_and = e->op == KN_E_AND;
		if ((rc = ev(c, e->args[0], &a)) != LB_OK)
			return rc;
		ta = kn_truth(&a);
		if (ta == (is_and ? 0 : 1)) {
			set_bool(out, !is_and);
			return LB_OK;
		}
		if ((rc = ev(c, e->args[1], &b)) != LB_OK)
			return rc;
		tb = kn_truth(&b);
		if (tb == (is_and ? 0 : 1))
			set_bool(out, !is_and);
		else if (ta >= 0 && tb >= 0)
			set_bool(out, is_and);
		return LB_OK; /* otherwise unknown */
	}
	case KN_E_COND:
		if ((rc = ev(c, e->args[0], &a)) != LB_OK)
			return rc;
		if ((ta = kn_truth(&a)) < 0)
			return LB_OK;
		return ev(c, e->args[ta ? 1 : 2], out);
	default:
		break;
	}
	if ((rc = ev(c, e->args[0], &a)) != LB_OK || (rc = ev(c, e->args[1], &b)) != LB_OK)
		return rc;
	if ((e->op >= KN_E_ADD && e->op <= KN_E_DIV) || e->op == KN_E_MOD)
		return arith(e->op, &a, &b, out);
	if (e->op == KN_E_SEQ || e->op == KN_E_SNE) {
		/* strict equality: values of different types are simply not equal */
		if (a.t == KN_V_UNKNOWN || b.t == KN_V_UNKNOWN)
			return LB_OK;
		bool eq = (is_num(&a) && is_num(&b)) ? num(&a) == num(&b)
						     : (a.t == b.t && cmp(&a, &b) == 0);
		set_bool(out, eq == (e->op == KN_E_SEQ));
		return LB_OK;
	}
	if (a.t == KN_V_UNKNOWN || b.t == KN_V_UNKNOWN)
		return LB_OK;
	if (e->op == KN_E_IN) {
		set_bool(out, member(&a, &b));
		return LB_OK;
	}
	int r = cmp(&a, &b);
	if (r == 2)
		return LB_OK; /* different types: unknown (the verifier reports a type error) */
	if (r == 3) {
		if (e->op == KN_E_NE)
			set_bool(out, true);
		else if (e->op == KN_E_EQ)
			set_bool(out, false);
		return LB_OK;
	}
	switch (e->op) {
	case KN_E_EQ: set_bool(out, r == 0); break;
	case KN_E_NE: set_bool(out, r != 0); break;
	case KN_E_LT: set_bool(out, r < 0); break;
	case KN_E_LE: set_bool(out, r <= 0); break;
	case KN_E_GT: set_bool(out, r > 0); break;
	case KN_E_GE: set_bool(out, r >= 0); break;
	}
	return LB_OK;
}

int kn_eval(struct lb_kn_session *s, const struct kn_expr *e, struct kn_value *out)
{
	struct ectx c = { .s = s, .bound_data = -1 };
	if (s->js)
		js_whole_throws(&c, e);
	return ev(&c, e, out);
}

int kn_eval_with(struct lb_kn_session *s, const struct kn_expr *e, const struct kn_value *v,
		 struct kn_value *out)
{
	struct ectx c = { .s = s, .bound = v, .bound_data = -1 };
	return ev(&c, e, out);
}

int kn_eval_item(struct lb_kn_session *s, const struct kn_expr *e, int data,
		 const struct kn_value *v, struct kn_value *out)
{
	struct ectx c = { .s = s, .bound = v, .bound_data = data };
	return ev(&c, e, out);
}

int kn_default_value(struct lb_kn_session *s, int data, struct kn_value *out)
{
	const struct kn_datadef *d = &s->m->data[data];
	*out = unknown_v;
	if (d->defval.t != KN_V_UNKNOWN) {
		*out = d->defval;
		return LB_OK;
	}
	if (d->defcond == NULL)
		return LB_OK;
	struct kn_value v;
	int rc = kn_eval(s, d->defcond, &v);
	if (rc != LB_OK || v.t == KN_V_UNKNOWN)
		return rc;
	/* PROformajs keeps a computed default only when the item accepts it: its type and, when
	 * it has them, its allowed values (and LEBEN's bounds) */
	size_t n = d->multi ? (v.t == KN_V_SET ? v.u.set.n : 0) : 1;
	if (d->multi && v.t != KN_V_SET)
		return LB_OK;
	for (size_t i = 0; i < n; i++) {
		const struct kn_value *x = d->multi ? &v.u.set.v[i] : &v;
		static const int want[] = { KN_V_BOOL, KN_V_INT, KN_V_REAL, KN_V_TEXT, KN_V_DATE };
		bool ok = d->type == KN_T_ANY ? x->t != KN_V_UNKNOWN
					      : x->t == want[d->type] ||
							(d->type == KN_T_REAL && x->t == KN_V_INT);
		if (ok && d->range_text != NULL)
			ok = kn_range_text_takes(d, x);
		else if (ok && d->nallowed > 0) {
			ok = false;
			for (size_t k = 0; !ok && k < d->nallowed; k++)
				ok = cmp(x, &d->allowed[k]) == 0;
		}
		if (ok && d->has_range)
			ok = num(x) >= d->lo && num(x) <= d->hi;
		if (!ok)
			return LB_OK;
	}
	*out = v;
	return LB_OK;
}

const char *kn_show_text(const char *text)
{
	return text[0] == KN_RAW_JSON ? text + 1 : text;
}

/* The text of ${...} (t[a..b)) evaluated for task: JavaScript's String(value), nothing for
 * unknown; *threw set when the expression does not parse or its evaluation throws (PROformajs
 * throws). Appends to out. */
static int render_expr(struct lb_kn_session *s, int task, const char *t, size_t a, size_t b,
		       struct lb_buf *out, bool *threw)
{
	struct kn_expr *e = NULL;
	struct lb_errmsg em;
	int rc = LB_OK;
	if (kn_expr_parse_js(t + a, b - a, 1, 1, &e, &em) == LB_OK) {
		struct kn_value v;
		const char *str = NULL;
		bool was = s->js_threw;
		s->js_threw = false;
		if ((rc = kn_expr_resolve_quiet(s->m, task, e)) == LB_OK &&
		    (rc = kn_eval(s, e, &v)) == LB_OK && v.t != KN_V_UNKNOWN && !s->js_threw &&
		    (rc = js_str(s, &v, &str)) == LB_OK)
			rc = lb_buf_adds(out, str);
		if (s->js_threw)
			*threw = true;
		s->js_threw = was || s->js_threw;
		kn_expr_free(e);
	} else {
		*threw = true;
	}
	return rc;
}

/* String.prototype.replace(pattern, r) with a text pattern: the first occurrence of m (n
 * bytes) in res replaced by r with its $$, $&, $` and $' patterns expanded. */
static int js_replace_first(struct lb_buf *res, const char *m, size_t n, const char *r)
{
	const char *h = res->data ? (const char *)res->data : "";
	size_t hl = res->len, pos = 0;
	while (pos + n <= hl && memcmp(h + pos, m, n) != 0)
		pos++;
	if (pos + n > hl)
		return LB_OK;
	struct lb_buf x;
	lb_buf_init(&x, res->max);
	int rc = lb_buf_add(&x, h, pos);
	for (const char *q = r; rc == LB_OK && *q; q++) {
		if (q[0] == '$' && q[1] == '$')
			rc = lb_buf_addc(&x, '$'), q++;
		else if (q[0] == '$' && q[1] == '&')
			rc = lb_buf_add(&x, m, n), q++;
		else if (q[0] == '$' && q[1] == '`')
			rc = lb_buf_add(&x, h, pos), q++;
		else if (q[0] == '$' && q[1] == '\'')
			rc = lb_buf_add(&x, h + pos + n, hl - pos - n), q++;
		else
			rc = lb_buf_addc(&x, (uint8_t)*q);
	}
	rc = rc ? rc : lb_buf_add(&x, h + pos + n, hl - pos - n);
	rc = rc ? rc : lb_buf_addc(&x, 0);
	if (rc == LB_OK) {
		x.len--;
		lb_buf_release(res);
		*res = x;
	} else {
		lb_buf_release(&x);
	}
	return rc;
}

/* As PROformajs's _getDynamic: every match of /\$\{([^$]*)\}/g in the text (the capture runs
 * to the last '}' before the next '$'), then for each in turn the first occurrence of the
 * match in the text so far replaced by the value of its expression. */
int kn_render_text(struct lb_kn_session *s, int task, const char *text, struct lb_buf *out,
		   bool *threw)
{
	const char *t = kn_show_text(text);
	size_t n = strlen(t);
	struct lb_buf res, val;
	lb_buf_init(&res, LB_KN_MAX_SOURCE * 4);
	int rc = lb_buf_add(&res, t, n);
	rc = rc ? rc : lb_buf_addc(&res, 0);
	if (rc == LB_OK)
		res.len--;
	for (size_t i = 0; rc == LB_OK && i + 1 < n; i++) {
		if (t[i] != '$' || t[i + 1] != '{')
			continue;
		size_t j = i + 2, k;
		while (j < n && t[j] != '$')
			j++;
		for (k = j; k > i + 2 && t[k - 1] != '}'; k--)
			;
		if (k == i + 2) /* no '}' before the next '$' */
			continue;
		k--; /* the closing '}' */
		lb_buf_init(&val, LB_KN_MAX_SOURCE * 4);
		rc = render_expr(s, task, t, i + 2, k, &val, threw);
		rc = rc ? rc : lb_buf_addc(&val, 0);
		if (rc == LB_OK)
			rc = js_replace_first(&res, t + i, k + 1 - i, (const char *)val.data);
		lb_buf_release(&val);
		i = k;
	}
	rc = rc ? rc : lb_buf_add(out, res.data ? res.data : (const uint8_t *)"", res.len);
	lb_buf_release(&res);
	return rc;
}
