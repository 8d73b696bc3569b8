/*
 * The contract verifier: static checks (undefined names, type errors, conditions that no
 * abstract input satisfies) and a bounded breadth-first exploration of the engine's state
 * space. Data items range over abstract domains (range bounds and the constants conditions
 * compare against, one either side); operations are answering a requested source, committing
 * a candidate, confirming an action, sending a trigger and advancing time to the next wake-up.
 * Every state is the engine's compact state; each finding carries the operations that lead to
 * it. Bounds and abstractions are documented in docs/knowledge-language.md ("Verification").
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "knowledge/kn_int.h"

#define DOM_MAX 12

enum opk { OP_ANSWER, OP_COMMIT, OP_COMMIT_REC, OP_CONFIRM, OP_TRIGGER, OP_TIME };

struct op {
	uint8_t kind;   /* enum opk */
	int32_t task;   /* task index */
	int32_t a, b;   /* ANSWER: data, domain index; COMMIT: candidate */
};

struct vstate {
	uint8_t *bytes; /* encoded state (owned) */
	uint32_t len;
	int32_t parent; /* -1 for the initial state */
	struct op via;  /* operation from parent */
	uint8_t hash[16];
};

struct domain {
	struct kn_value v[DOM_MAX];
	size_t n;
};

struct finding {
	int kind;
	int task;
	int state;        /* state whose trace is the counterexample, -1 if none */
	char msg[400];
};

struct ver {
	const struct lb_kn_model *m;
	struct lb_kn_session *s;
	struct domain *dom;
	struct vstate *st;
	size_t nst, capst;
	int32_t *table;    /* open addressing over st, -1 empty */
	size_t tcap;
	uint32_t *edge_from, *edge_to;
	size_t nedges, capedges;
	size_t mem, peak, max_mem, max_states;
	size_t transitions;
	uint8_t *seen;     /* per task: ever in progress */
	struct finding *f;
	size_t nf;
	bool limited;
	bool nondet_found;
	uint8_t *amb_found; /* per task */
	struct kn_value *elems; /* storage of set-valued domain elements */
	size_t nel, capel;
};

static int add_finding(struct ver *v, int kind, int task, int state, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int add_finding(struct ver *v, int kind, int task, int state, const char *fmt, ...)
{
	struct finding *n = lb_realloc(v->f, (v->nf + 1) * sizeof(*n));
	if (n == NULL)
		return LB_ENOMEM;
	v->f = n;
	struct finding *f = &v->f[v->nf++];
	f->kind = kind;
	f->task = task;
	f->state = state;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return LB_OK;
}

const char *lb_kn_finding_name(int kind)
{
	static const char *const names[] = { "deadlock",      "unreachable",  "livelock",
					     "ambiguity",     "nondeterminism", "undefined",
					     "type",          "unsatisfiable", "limit" };
	return kind >= 0 && kind <= LB_KN_LIMIT ? names[kind] : "?";
}

/* ---- abstract domains ---------------------------------------------------------------------- */

static void dom_add(struct domain *d, const struct kn_value *x)
{
	if (d->n >= DOM_MAX)
		return;
	for (size_t i = 0; i < d->n; i++)
		if (kn_value_equal(&d->v[i], x))
			return;
	d->v[d->n++] = *x;
}

static void dom_num(const struct kn_datadef *dd, struct domain *d, double x)
{
	struct kn_value v;
	if (dd->has_range && (x < dd->lo || x > dd->hi))
		return;
	if (dd->type == KN_T_INTEGER) {
		if (x != floor(x))
			return;
		v.t = KN_V_INT;
		v.u.i = (int64_t)x;
	} else {
		v.t = KN_V_REAL;
		v.u.r = x;
	}
	dom_add(d, &v);
}

/* Constants compared with data item `data` anywhere in e. */
static void collect_consts(struct ver *v, const struct kn_expr *e)
{
	if (e == NULL)
		return;
	if (e->op >= KN_E_EQ && e->op <= KN_E_IN && e->nargs == 2) {
		for (int side = 0; side < 2; side++) {
			const struct kn_expr *n = e->args[side], *c = e->args[1 - side];
			if (n->op != KN_E_NAME || n->ref < 0)
				continue;
			const struct kn_datadef *dd = &v->m->data[n->ref];
			struct domain *d = &v->dom[n->ref];
			const struct kn_expr *cs[DOM_MAX];
			size_t nc = 0;
			if (c->op == KN_E_CONST)
				cs[nc++] = c;
			else if (c->op == KN_E_LIST)
				for (size_t i = 0; i < c->nargs && nc < DOM_MAX; i++)
					if (c->args[i]->op == KN_E_CONST)
						cs[nc++] = c->args[i];
			for (size_t i = 0; i < nc; i++) {
				const struct kn_value *k = &cs[i]->v;
				if ((dd->type == KN_T_INTEGER || dd->type == KN_T_REAL) &&
				    (k->t == KN_V_INT || k->t == KN_V_REAL)) {
					double x = k->t == KN_V_INT ? (double)k->u.i : k->u.r;
					double eps = dd->type == KN_T_INTEGER ? 1 : 0.5;
					dom_num(dd, d, x);
					dom_num(dd, d, x - eps);
					dom_num(dd, d, x + eps);
				} else if (dd->type == KN_T_TEXT && k->t == KN_V_TEXT &&
					   dd->nallowed == 0) {
					dom_add(d, k);
				}
			}
		}
	}
	if (e->op == KN_E_CALL && e->ref == KN_F_INCLUDES && e->nargs == 2 &&
	    e->args[0]->op == KN_E_NAME && e->args[0]->ref >= 0 && e->args[1]->op == KN_E_CONST &&
	    e->args[1]->v.t == KN_V_TEXT && v->m->data[e->args[0]->ref].nallowed == 0)
		dom_add(&v->dom[e->args[0]->ref], &e->args[1]->v);
	for (size_t i = 0; i < e->nargs; i++)
		collect_consts(v, e->args[i]);
}

static void for_each_expr(struct ver *v, void (*fn)(struct ver *, const struct kn_expr *))
{
	const struct lb_kn_model *m = v->m;
	for (size_t i = 0; i < m->ntasks; i++) {
		const struct kn_task *t = m->tasks[i];
		fn(v, t->pre);
		fn(v, t->wait);
		fn(v, t->terminate);
		fn(v, t->abort);
		fn(v, t->cycle_until);
		for (size_t k = 0; k < t->npost; k++)
			fn(v, t->post[k].e);
		for (size_t c = 0; c < t->ncands; c++) {
			for (size_t a = 0; a < t->cands[c].nargs; a++)
				fn(v, t->cands[c].args[a].cond);
			fn(v, t->cands[c].recommend);
		}
		for (size_t k = 0; k < t->nsources; k++)
			fn(v, t->sources[k].request);
	}
	for (size_t i = 0; i < m->ndata; i++)
		fn(v, m->data[i].derive);
}

static void build_domains(struct ver *v)
{
	const struct lb_kn_model *m = v->m;
	for (size_t i = 0; i < m->ndata; i++) {
		const struct kn_datadef *dd = &m->data[i];
		struct domain *d = &v->dom[i];
		struct kn_value x;
		if (dd->type == KN_T_BOOLEAN) {
			x.t = KN_V_BOOL;
			x.u.b = true;
			dom_add(d, &x);
			x.u.b = false;
			dom_add(d, &x);
		} else if (dd->nallowed > 0) {
			for (size_t k = 0; k < dd->nallowed; k++)
				dom_add(d, &dd->allowed[k]);
		} else if (dd->has_range) {
			dom_num(dd, d, dd->lo);
			dom_num(dd, d, dd->hi);
		}
	}
	for_each_expr(v, collect_consts);
	for (size_t i = 0; i < m->ndata; i++) {
		const struct kn_datadef *dd = &m->data[i];
		struct domain *d = &v->dom[i];
		struct kn_value x = { 0 };
		if (d->n == 0) {
			/* no range, no constants: one representative value */
			switch (dd->type) {
			case KN_T_INTEGER: x.t = KN_V_INT; break;
			case KN_T_REAL: x.t = KN_V_REAL; break;
			case KN_T_TEXT: x.t = KN_V_TEXT; x.u.s = "other"; break;
			case KN_T_DATE: x.t = KN_V_DATE; break;
			}
			dom_add(d, &x);
		} else if (dd->type == KN_T_TEXT && dd->nallowed == 0) {
			x.t = KN_V_TEXT;
			x.u.s = "other";
			dom_add(d, &x);
		}
		if (dd->multi) {
			/* sets: empty, each single value, all values */
			struct domain sd = { .n = 0 };
			struct kn_value *elems = v->elems;
			size_t nel = v->nel;
			struct kn_value e = { .t = KN_V_SET };
			sd.v[sd.n++] = e;
			for (size_t k = 0; k < d->n && sd.n < DOM_MAX - 1 && nel < v->capel; k++) {
				elems[nel] = d->v[k];
				e.u.set.v = &elems[nel++];
				e.u.set.n = 1;
				sd.v[sd.n++] = e;
			}
			if (d->n > 1 && nel + d->n <= v->capel) {
				e.u.set.v = &elems[nel];
				for (size_t k = 0; k < d->n; k++)
					elems[nel++] = d->v[k];
				e.u.set.n = d->n;
				sd.v[sd.n++] = e;
			}
			v->nel = nel;
			*d = sd;
		}
	}
}

/* ---- static checks ------------------------------------------------------------------------- */

enum ty { TY_ANY, TY_BOOL, TY_NUM, TY_TEXT, TY_DATE, TY_SET };

static int data_ty(const struct kn_datadef *d)
{
	static const int t[] = { TY_BOOL, TY_NUM, TY_NUM, TY_TEXT, TY_DATE, TY_ANY };
	return d->multi ? TY_SET : t[d->type];
}

static const char *ty_name(int t)
{
	static const char *const n[] = { "any", "boolean", "number", "text", "date", "set" };
	return n[t];
}

struct tyctx {
	struct ver *v;
	int task;
	const char *where;
	bool bad;
};

static int infer(struct tyctx *c, const struct kn_expr *e);

static void ty_err(struct tyctx *c, const struct kn_expr *e, const char *fmt, int a, int b)
{
	if (c->bad)
		return; /* one type finding per expression */
	c->bad = true;
	char msg[200];
	/* fmt is always one of the literals in this file, with two %s */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(msg, sizeof(msg), fmt, ty_name(a), ty_name(b));
#pragma GCC diagnostic pop
	add_finding(c->v, LB_KN_TYPE, c->task, -1, "%s (line %d:%d): %s", c->where, e->line, e->col,
		    msg);
}

static int infer(struct tyctx *c, const struct kn_expr *e)
{
	int a, b;
	switch (e->op) {
	case KN_E_CONST:
		switch (e->v.t) {
		case KN_V_BOOL: return TY_BOOL;
		case KN_V_INT: case KN_V_REAL: return TY_NUM;
		case KN_V_TEXT: return TY_TEXT;
		default: return TY_ANY;
		}
	case KN_E_NAME:
		return e->ref >= 0 ? data_ty(&c->v->m->data[e->ref]) : TY_ANY;
	case KN_E_LIST:
		for (size_t i = 0; i < e->nargs; i++)
			infer(c, e->args[i]);
		return TY_SET;
	case KN_E_CALL:
		for (size_t i = 0; i < e->nargs; i++)
			if (e->ref < 0 || !kn_fns[e->ref].task_arg || i > 1)
				if (!(e->ref == KN_F_IS_KNOWN && e->args[0]->op == KN_E_CONST) &&
				    !(i == 0 && e->ref >= 0 && kn_fns[e->ref].arg0 != KN_FA_VALUE))
					infer(c, e->args[i]);
		if (e->ref < 0)
			return TY_ANY;
		if ((e->ref == KN_F_MIN || e->ref == KN_F_MAX) && kn_call_nargs(e) == 2)
			return TY_NUM;
		/* function result types (kn_fns[].rtype): bool, num, text, set, date, any */
		static const int fty[] = { TY_BOOL, TY_NUM, TY_TEXT, TY_SET, TY_DATE, TY_ANY };
		return fty[kn_fns[e->ref].rtype];
	case KN_E_NEG:
		a = infer(c, e->args[0]);
		if (a != TY_ANY && a != TY_NUM)
			ty_err(c, e, "'-' needs a number, not %s%.0s", a, 0);
		return TY_NUM;
	case KN_E_POS:
		infer(c, e->args[0]);
		return TY_NUM;
	case KN_E_INDEX:
		infer(c, e->args[0]);
		infer(c, e->args[1]);
		return TY_ANY;
	case KN_E_NOT:
		a = infer(c, e->args[0]);
		if (a != TY_ANY && a != TY_BOOL)
			ty_err(c, e, "'not' needs a boolean, not %s%.0s", a, 0);
		return TY_BOOL;
	case KN_E_AND:
	case KN_E_OR:
		a = infer(c, e->args[0]);
		b = infer(c, e->args[1]);
		if ((a != TY_ANY && a != TY_BOOL) || (b != TY_ANY && b != TY_BOOL))
			ty_err(c, e, "'and'/'or' need booleans, not %s and %s", a, b);
		return TY_BOOL;
	case KN_E_COND:
		infer(c, e->args[0]);
		a = infer(c, e->args[1]);
		b = infer(c, e->args[2]);
		return a == b ? a : TY_ANY;
	case KN_E_IN:
		a = infer(c, e->args[0]);
		b = infer(c, e->args[1]);
		return TY_BOOL;
	case KN_E_ADD: case KN_E_SUB: case KN_E_MUL: case KN_E_DIV: case KN_E_MOD:
		a = infer(c, e->args[0]);
		b = infer(c, e->args[1]);
		if (a == TY_DATE || b == TY_DATE)
			return (e->op == KN_E_SUB && a == TY_DATE && b == TY_DATE) ? TY_NUM : TY_DATE;
		if ((a != TY_ANY && a != TY_NUM) || (b != TY_ANY && b != TY_NUM))
			ty_err(c, e, "arithmetic needs numbers, not %s and %s", a, b);
		return TY_NUM;
	case KN_E_BAND: case KN_E_BOR: case KN_E_BXOR: case KN_E_SHL: case KN_E_SHR:
	case KN_E_USHR: case KN_E_BNOT: case KN_E_POW:
		/* (the JSON form's JavaScript: operands of any type, converted to numbers) */
		for (size_t i = 0; i < e->nargs; i++)
			infer(c, e->args[i]);
		return TY_NUM;
	case KN_E_MEMBER: case KN_E_APPLY: case KN_E_SEQUENCE:
		/* (JavaScript's member access and sequences: any type) */
		for (size_t i = 0; i < e->nargs; i++)
			infer(c, e->args[i]);
		return TY_ANY;
	case KN_E_NULLISH: case KN_E_COMPOUND:
		a = TY_ANY;
		for (size_t i = 0; i < e->nargs; i++)
			a = infer(c, e->args[i]);
		return e->op == KN_E_COMPOUND ? a : TY_ANY;
	default: /* comparisons */
		a = infer(c, e->args[0]);
		b = infer(c, e->args[1]);
		if (a != TY_ANY && b != TY_ANY && a != b)
			ty_err(c, e, "comparing %s with %s", a, b);
		return TY_BOOL;
	}
}

static void check_cond(struct ver *v, int task, const char *where, const struct kn_expr *e,
		       bool boolean)
{
	if (e == NULL)
		return;
	struct tyctx c = { .v = v, .task = task, .where = where };
	int t = infer(&c, e);
	if (boolean && !c.bad && t != TY_BOOL && t != TY_ANY)
		ty_err(&c, e, "a condition must be boolean, this is %s%.0s", t, 0);
}

/* Data items a condition depends on, or false if it depends on task state. */
static bool cond_inputs(const struct kn_expr *e, int *refs, size_t *n, size_t max)
{
	if (e->op == KN_E_CALL && e->ref >= 0 && kn_fns[e->ref].task_arg)
		return false;
	if (e->op == KN_E_CALL && e->ref == KN_F_NOW)
		return false;
	if (e->op == KN_E_NAME) {
		if (e->ref < 0)
			return false;
		for (size_t i = 0; i < *n; i++)
			if (refs[i] == e->ref)
				return true;
		if (*n >= max)
			return false;
		refs[(*n)++] = e->ref;
	}
	for (size_t i = 0; i < e->nargs; i++)
		if (!cond_inputs(e->args[i], refs, n, max))
			return false;
	return true;
}

static void check_sat(struct ver *v, int task, const char *where, const struct kn_expr *e)
{
	int refs[3];
	size_t n = 0;
	if (e == NULL || !cond_inputs(e, refs, &n, 3))
		return;
	for (size_t i = 0; i < n; i++)
		if (v->m->data[refs[i]].derive != NULL)
			return;
	struct lb_kn_session *s = v->s;
	size_t combos = 1;
	for (size_t i = 0; i < n; i++)
		combos *= v->dom[refs[i]].n + 1; /* + unknown */
	for (size_t k = 0; k < combos; k++) {
		size_t r = k;
		for (size_t i = 0; i < n; i++) {
			size_t di = r % (v->dom[refs[i]].n + 1);
			r /= v->dom[refs[i]].n + 1;
			struct kn_datum *d = &s->d[refs[i]];
			while (d->n > 0)
				kn_value_clear(&d->h[--d->n].v);
			if (di < v->dom[refs[i]].n)
				kn_session_put(s, refs[i], &v->dom[refs[i]].v[di]);
		}
		struct kn_value out;
		int ok = kn_eval(s, e, &out) == LB_OK && kn_truth(&out) == 1;
		kn_arena_reset(&s->ar);
		if (ok)
			goto clear;
	}
	add_finding(v, LB_KN_UNSATISFIABLE, task, -1,
		    "%s (line %d:%d) is false for every abstract input: the guarded step can never "
		    "happen",
		    where, e->line, e->col);
clear:
	for (size_t i = 0; i < n; i++) {
		struct kn_datum *d = &s->d[refs[i]];
		while (d->n > 0)
			kn_value_clear(&d->h[--d->n].v);
	}
}

static void static_checks(struct ver *v)
{
	const struct lb_kn_model *m = v->m;
	for (size_t i = 0; i < m->nproblems; i++)
		add_finding(v, m->problems[i].kind, m->problems[i].task, -1, "%s",
			    m->problems[i].text);
	for (size_t i = 0; i < m->ntasks; i++) {
		const struct kn_task *t = m->tasks[i];
		int ti = (int)i;
		check_cond(v, ti, "precondition", t->pre, true);
		check_cond(v, ti, "wait_condition", t->wait, true);
		check_cond(v, ti, "terminate_condition", t->terminate, true);
		check_cond(v, ti, "abort_condition", t->abort, true);
		check_cond(v, ti, "cycle_until", t->cycle_until, true);
		check_sat(v, ti, "precondition", t->pre);
		check_sat(v, ti, "wait_condition", t->wait);
		for (size_t k = 0; k < t->npost; k++) {
			struct tyctx c = { .v = v, .task = ti, .where = "postcondition" };
			int ty = infer(&c, t->post[k].e);
			int want = t->post[k].ref >= 0 ? data_ty(&m->data[t->post[k].ref]) : TY_ANY;
			if (!c.bad && ty != TY_ANY && want != TY_ANY && ty != want)
				ty_err(&c, t->post[k].e, "assigning %s to a %s item", ty, want);
		}
		for (size_t c = 0; c < t->ncands; c++) {
			for (size_t a = 0; a < t->cands[c].nargs; a++) {
				check_cond(v, ti, "argument condition", t->cands[c].args[a].cond, true);
				check_sat(v, ti, "argument condition", t->cands[c].args[a].cond);
			}
			check_cond(v, ti, "recommend condition", t->cands[c].recommend, true);
		}
		for (size_t k = 0; k < t->nsources; k++) {
			check_cond(v, ti, "request condition", t->sources[k].request, true);
			check_sat(v, ti, "request condition", t->sources[k].request);
		}
	}
	for (size_t i = 0; i < m->ndata; i++) {
		check_cond(v, -1, "value condition", m->data[i].valid, true);
		for (size_t k = 0; k < m->data[i].nwarnings; k++)
			check_cond(v, -1, "warning condition", m->data[i].warnings[k].cond, true);
		check_cond(v, -1, "derivation", m->data[i].derive, false);
	}
}

/* ---- state space ----------------------------------------------------------------------------- */

static void state_hash(const uint8_t *p, size_t n, uint8_t out[16])
{
	crypto_generichash(out, 16, p, n, NULL, 0);
}

static int lookup(struct ver *v, const uint8_t h[16], const uint8_t *p, size_t n)
{
	size_t i;
	memcpy(&i, h, sizeof(i));
	for (i &= v->tcap - 1;; i = (i + 1) & (v->tcap - 1)) {
		int32_t k = v->table[i];
		if (k < 0)
			return -1 - (int)i;
		if (memcmp(v->st[k].hash, h, 16) == 0 && v->st[k].len == n &&
		    memcmp(v->st[k].bytes, p, n) == 0)
			return k;
	}
}

static int grow_table(struct ver *v)
{
	size_t ncap = v->tcap ? v->tcap * 2 : 1024;
	int32_t *nt = lb_malloc(ncap * sizeof(*nt));
	if (nt == NULL)
		return LB_ENOMEM;
	memset(nt, 0xff, ncap * sizeof(*nt));
	lb_free(v->table);
	v->mem += (ncap - v->tcap) * sizeof(*nt);
	v->table = nt;
	v->tcap = ncap;
	for (size_t k = 0; k < v->nst; k++) {
		size_t i;
		memcpy(&i, v->st[k].hash, sizeof(i));
		for (i &= ncap - 1; nt[i] >= 0; i = (i + 1) & (ncap - 1))
			;
		nt[i] = (int32_t)k;
	}
	return LB_OK;
}

/* Add the encoded state; *idx = its index; *fresh when new. LB_ELIMIT at the bounds. */
static int add_state(struct ver *v, const struct lb_buf *b, int parent, const struct op *via,
		     int *idx, bool *fresh)
{
	uint8_t h[16];
	const uint8_t *p = b->data ? b->data : (const uint8_t *)"";
	state_hash(p, b->len, h);
	*fresh = false;
	if (v->tcap > 0) {
		int k = lookup(v, h, p, b->len);
		if (k >= 0) {
			*idx = k;
			return LB_OK;
		}
	}
	if (v->nst >= v->max_states || v->mem >= v->max_mem)
		return LB_ELIMIT;
	if ((v->nst + 1) * 2 > v->tcap && grow_table(v) != LB_OK)
		return LB_ENOMEM;
	if (v->nst == v->capst) {
		size_t nc = v->capst ? v->capst * 2 : 1024;
		struct vstate *ns = lb_realloc(v->st, nc * sizeof(*ns));
		if (ns == NULL)
			return LB_ENOMEM;
		v->mem += (nc - v->capst) * sizeof(*ns);
		v->st = ns;
		v->capst = nc;
	}
	struct vstate *s = &v->st[v->nst];
	if ((s->bytes = lb_malloc(b->len ? b->len : 1)) == NULL)
		return LB_ENOMEM;
	memcpy(s->bytes, p, b->len);
	v->mem += b->len + 16;
	s->len = (uint32_t)b->len;
	s->parent = parent;
	if (via != NULL)
		s->via = *via;
	memcpy(s->hash, h, 16);
	int k = lookup(v, h, p, b->len);
	v->table[-1 - k] = (int32_t)v->nst;
	*idx = (int)v->nst++;
	*fresh = true;
	if (v->mem > v->peak)
		v->peak = v->mem;
	return LB_OK;
}

static int add_edge(struct ver *v, uint32_t from, uint32_t to)
{
	if (v->nedges == v->capedges) {
		size_t nc = v->capedges ? v->capedges * 2 : 4096;
		uint32_t *a = lb_realloc(v->edge_from, nc * sizeof(*a));
		if (a == NULL)
			return LB_ENOMEM;
		v->edge_from = a;
		uint32_t *b = lb_realloc(v->edge_to, nc * sizeof(*b));
		if (b == NULL)
			return LB_ENOMEM;
		v->edge_to = b;
		v->mem += (nc - v->capedges) * 2 * sizeof(*a);
		v->capedges = nc;
	}
	v->edge_from[v->nedges] = from;
	v->edge_to[v->nedges++] = to;
	return LB_OK;
}

static size_t list_ops(struct ver *v, struct op *ops, size_t max)
{
	struct lb_kn_session *s = v->s;
	const struct lb_kn_model *m = v->m;
	size_t n = 0;
	int64_t wake = 0;
	for (size_t i = 0; i < m->ntasks; i++) {
		const struct kn_task *t = m->tasks[i];
		uint8_t st = s->ts[i].state;
		if (st == KN_DORMANT && i > 0 && s->ts[t->parent].state == KN_IN_PROGRESS) {
			if (t->trigger != NULL && !s->triggers[i] && n < max)
				ops[n++] = (struct op){ OP_TRIGGER, (int32_t)i, 0, 0 };
			if (s->ts[i].wake > s->now && (wake == 0 || s->ts[i].wake < wake))
				wake = s->ts[i].wake;
		}
		if (st != KN_IN_PROGRESS)
			continue;
		if (t->cls == KN_ENQUIRY) {
			for (size_t k = 0; k < t->nsources; k++) {
				const struct kn_source *src = &t->sources[k];
				struct kn_value rv = { .t = KN_V_BOOL, .u.b = true };
				if (src->ref < 0 || kn_current(s, src->ref)->t != KN_V_UNKNOWN)
					continue;
				if (src->request != NULL)
					kn_eval(s, src->request, &rv);
				kn_arena_reset(&s->ar);
				if (kn_truth(&rv) != 1)
					continue;
				for (size_t d = 0; d < v->dom[src->ref].n && n < max; d++)
					ops[n++] = (struct op){ OP_ANSWER, (int32_t)i, src->ref, (int32_t)d };
			}
		} else if (t->cls == KN_DECISION) {
			for (size_t c = 0; c < t->ncands && n < max; c++)
				ops[n++] = (struct op){ OP_COMMIT, (int32_t)i, (int32_t)c, 0 };
			if (t->multiple && n < max)
				ops[n++] = (struct op){ OP_COMMIT_REC, (int32_t)i, 0, 0 };
		} else if (t->cls == KN_ACTION && !t->autonomous && n < max) {
			ops[n++] = (struct op){ OP_CONFIRM, (int32_t)i, 0, 0 };
		}
	}
	if (wake > 0 && n < max)
		ops[n++] = (struct op){ OP_TIME, -1, (int32_t)(wake - s->now), 0 };
	return n;
}

/* Apply op to the session (already decoded); returns LB_EINVALID when not applicable. */
static int apply(struct ver *v, const struct op *o)
{
	struct lb_kn_session *s = v->s;
	const struct lb_kn_model *m = v->m;
	const struct kn_task *t = o->task >= 0 ? m->tasks[o->task] : NULL;
	struct lb_errmsg em;
	switch (o->kind) {
	case OP_ANSWER: {
		const struct kn_value *x = &v->dom[o->a].v[o->b];
		if (kn_session_check_value(s, o->a, x, NULL, 0, &em) != LB_OK)
			return LB_EINVALID;
		return kn_session_put(s, o->a, x);
	}
	case OP_COMMIT: {
		const char *c = t->cands[o->a].name;
		return lb_kn_session_commit(s, t->name, &c, 1, &em);
	}
	case OP_COMMIT_REC: {
		const char *names[256];
		size_t k = 0;
		for (size_t c = 0; c < t->ncands && c < 256; c++)
			if (kn_is_recommended(s, o->task, (int)c))
				names[k++] = t->cands[c].name;
		kn_arena_reset(&s->ar);
		return lb_kn_session_commit(s, t->name, names, k, &em);
	}
	case OP_CONFIRM:
		return lb_kn_session_confirm(s, t->name, &em);
	case OP_TRIGGER:
		return lb_kn_session_trigger(s, t->trigger, &em);
	case OP_TIME:
		return lb_kn_session_set_time(s, s->now + o->a, &em);
	}
	return LB_EINVALID;
}

static int op_text(struct ver *v, const struct op *o, struct lb_buf *b)
{
	const struct lb_kn_model *m = v->m;
	const struct kn_task *t = o->task >= 0 ? m->tasks[o->task] : NULL;
	switch (o->kind) {
	case OP_ANSWER: {
		int rc = lb_buf_addf(b, "answer %s = ", m->data[o->a].name);
		return rc ? rc : kn_value_to_json(b, &v->dom[o->a].v[o->b]);
	}
	case OP_COMMIT:
		return lb_buf_addf(b, "commit %s: %s", t->name, t->cands[o->a].name);
	case OP_COMMIT_REC:
		return lb_buf_addf(b, "commit %s: the recommended candidates", t->name);
	case OP_CONFIRM:
		return lb_buf_addf(b, "confirm %s", t->name);
	case OP_TRIGGER:
		return lb_buf_addf(b, "trigger %s", t->trigger);
	case OP_TIME:
		return lb_buf_addf(b, "advance time %d day%s", o->a, o->a == 1 ? "" : "s");
	}
	return LB_OK;
}

static int decode(struct ver *v, int k)
{
	return kn_state_decode(v->s, v->st[k].bytes, v->st[k].len);
}

/* Checks on one newly reached state (already decoded into v->s). */
static int check_state(struct ver *v, int k)
{
	const struct lb_kn_model *m = v->m;
	struct lb_kn_session *s = v->s;
	for (size_t i = 0; i < m->ntasks; i++) {
		const struct kn_task *t = m->tasks[i];
		if (t->cls != KN_DECISION || t->multiple || s->ts[i].state != KN_IN_PROGRESS ||
		    v->amb_found[i])
			continue;
		size_t nrec = 0;
		for (size_t c = 0; c < t->ncands; c++)
			nrec += kn_is_recommended(s, (int)i, (int)c);
		kn_arena_reset(&s->ar);
		if (nrec != 1) {
			v->amb_found[i] = 1;
			int rc = add_finding(v, LB_KN_AMBIGUITY, (int)i, k,
					     "single-choice decision '%s' recommends %zu candidates "
					     "for this input (expected exactly one)",
					     t->name, nrec);
			if (rc != LB_OK)
				return rc;
		}
	}
	return LB_OK;
}

static int explore(struct ver *v)
{
	struct lb_kn_session *s = v->s;
	struct lb_buf b, b2;
	struct op ops[1024];
	struct lb_errmsg em;
	int rc, idx;
	bool fresh, deadlock_found = false, livelock_run = false;
	lb_buf_init(&b, 1 << 24);
	lb_buf_init(&b2, 1 << 24);
	/* the initial run, also in the opposite task order */
	if ((rc = kn_state_encode(s, &b2)) != LB_OK)
		goto out;
	if ((rc = lb_kn_session_run(s, &em)) != LB_OK)
		goto out;
	if ((rc = kn_state_encode(s, &b)) != LB_OK)
		goto out;
	{
		struct lb_buf init;
		lb_buf_init(&init, 1 << 24);
		kn_state_decode(s, b2.data, b2.len);
		s->reverse = true;
		if (lb_kn_session_run(s, &em) == LB_OK && kn_state_encode(s, &init) == LB_OK &&
		    (init.len != b.len || memcmp(init.data, b.data, b.len) != 0)) {
			v->nondet_found = true;
			add_finding(v, LB_KN_NONDETERMINISM, -1, 0,
				    "at the start, the outcome depends on the order in which "
				    "simultaneous tasks are evaluated (e.g. two tasks assigning the "
				    "same item)");
		}
		s->reverse = false;
		lb_buf_release(&init);
		kn_state_decode(s, b.data, b.len);
	}
	if (
	    (rc = add_state(v, &b, -1, NULL, &idx, &fresh)) != LB_OK)
		goto out;
	if ((rc = check_state(v, 0)) != LB_OK)
		goto out;
	for (size_t q = 0; q < v->nst; q++) {
		if ((rc = decode(v, (int)q)) != LB_OK)
			goto out;
		if (lb_kn_session_is_finished(s))
			continue;
		size_t nops = list_ops(v, ops, sizeof(ops) / sizeof(ops[0]));
		bool progress = false;
		for (size_t o = 0; o < nops; o++) {
			if (o > 0 && (rc = decode(v, (int)q)) != LB_OK)
				goto out;
			s->reverse = false;
			if (apply(v, &ops[o]) != LB_OK)
				continue;
			v->transitions++;
			/* the same operation with the tasks visited in the opposite order */
			bool nd_check = !v->nondet_found;
			struct lb_buf pre;
			lb_buf_init(&pre, 1 << 24);
			if (nd_check && (rc = kn_state_encode(s, &pre)) != LB_OK) {
				lb_buf_release(&pre);
				goto out;
			}
			int rr = lb_kn_session_run(s, &em);
			lb_buf_reset(&b);
			if (rr == LB_ELIMIT) {
				if (!livelock_run) {
					livelock_run = true;
					rc = add_finding(v, LB_KN_LIVELOCK, -1, (int)q,
							 "after '%s...': the engine never settles (a task "
							 "cycles without interval or end)",
							 "the trace below, then this operation");
				}
				lb_buf_release(&pre);
				continue;
			}
			if (rr != LB_OK || (rc = kn_state_encode(s, &b)) != LB_OK) {
				lb_buf_release(&pre);
				rc = rr != LB_OK ? rr : rc;
				goto out;
			}
			if (nd_check) {
				kn_state_decode(s, pre.data, pre.len);
				s->reverse = true;
				lb_buf_reset(&b2);
				if (lb_kn_session_run(s, &em) == LB_OK &&
				    kn_state_encode(s, &b2) == LB_OK &&
				    (b.len != b2.len || memcmp(b.data, b2.data, b.len) != 0)) {
					v->nondet_found = true;
					struct lb_buf t;
					lb_buf_init(&t, 4096);
					op_text(v, &ops[o], &t);
					add_finding(v, LB_KN_NONDETERMINISM, -1, (int)q,
						    "after the trace below and '%s', the outcome depends "
						    "on the order in which simultaneous tasks are "
						    "evaluated (e.g. two tasks assigning the same item)",
						    t.data ? (char *)t.data : "");
					lb_buf_release(&t);
				}
				s->reverse = false;
			}
			lb_buf_release(&pre);
			rc = add_state(v, &b, (int)q, &ops[o], &idx, &fresh);
			if (rc == LB_ELIMIT) {
				v->limited = true;
				rc = LB_OK;
				goto out;
			}
			if (rc != LB_OK || (rc = add_edge(v, (uint32_t)q, (uint32_t)idx)) != LB_OK)
				goto out;
			if ((size_t)idx != q || ops[o].kind == OP_TIME)
				progress = true; /* time moving on is a change, even to the same state */
			if (fresh) {
				for (size_t i = 0; i < v->m->ntasks; i++)
					v->seen[i] |= s->seen_started[i];
				memset(s->seen_started, 0, v->m->ntasks);
				if ((rc = check_state(v, idx)) != LB_OK)
					goto out;
			}
		}
		if (!progress && !deadlock_found) {
			deadlock_found = true;
			rc = add_finding(v, LB_KN_DEADLOCK, -1, (int)q,
					 "the root plan is unfinished and no operation can change "
					 "anything (%zu operation%s available)",
					 nops, nops == 1 ? "" : "s");
			if (rc != LB_OK)
				goto out;
		}
	}
out:
	lb_buf_release(&b);
	lb_buf_release(&b2);
	return rc;
}

/* States from which no finished state is reachable, though they can move: livelock. */
static int find_livelock(struct ver *v)
{
	size_t n = v->nst;
	uint8_t *good = lb_calloc(n ? n : 1, 1);
	if (good == NULL)
		return LB_ENOMEM;
	int rc = LB_OK;
	for (size_t k = 0; k < n; k++) {
		if ((rc = decode(v, (int)k)) != LB_OK)
			goto out;
		good[k] = lb_kn_session_is_finished(v->s);
	}
	bool changed = true;
	while (changed) {
		changed = false;
		for (size_t e = 0; e < v->nedges; e++)
			if (good[v->edge_to[e]] && !good[v->edge_from[e]]) {
				good[v->edge_from[e]] = 1;
				changed = true;
			}
	}
	/* among the states that cannot finish, peel off those that cannot move on to another
	 * such state: what remains lies on (or leads into) a cycle that never finishes */
	uint8_t *alive = lb_calloc(n ? n : 1, 1);
	if (alive == NULL) {
		rc = LB_ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < n; k++)
		alive[k] = !good[k];
	changed = true;
	while (changed) {
		changed = false;
		for (size_t k = 0; k < n; k++)
			if (alive[k])
				alive[k] = 2; /* provisionally: no live successor */
		for (size_t e = 0; e < v->nedges; e++)
			if (alive[v->edge_from[e]] && alive[v->edge_to[e]])
				alive[v->edge_from[e]] = 1;
		for (size_t k = 0; k < n; k++)
			if (alive[k] == 2) {
				alive[k] = 0;
				changed = true;
			}
	}
	for (size_t k = 0; k < n; k++) {
		if (alive[k]) {
			rc = add_finding(v, LB_KN_LIVELOCK, -1, (int)k,
					 "from this state the contract can keep moving but can never "
					 "finish (a cycle that repeats forever)");
			break;
		}
	}
	lb_free(alive);
out:
	lb_free(good);
	return rc;
}

static int trace_json(struct ver *v, int k, struct lb_buf *b)
{
	int path[4096];
	size_t n = 0;
	for (int p = k; p > 0 && v->st[p].parent >= 0 && n < 4096; p = v->st[p].parent)
		path[n++] = p;
	int rc = lb_buf_addc(b, '[');
	for (size_t i = n; rc == LB_OK && i > 0; i--) {
		struct lb_buf t;
		lb_buf_init(&t, 4096);
		rc = op_text(v, &v->st[path[i - 1]].via, &t);
		struct kn_value sv = { .t = KN_V_TEXT, .u.s = t.data ? (char *)t.data : "" };
		if (rc == LB_OK && i != n)
			rc = lb_buf_addc(b, ',');
		if (rc == LB_OK)
			rc = kn_value_to_json(b, &sv);
		lb_buf_release(&t);
	}
	return rc ? rc : lb_buf_addc(b, ']');
}

int lb_kn_check(const struct lb_kn_model *m, const struct lb_kn_check_opts *opts,
		char **report, size_t *failures, struct lb_kn_check_stats *stats,
		struct lb_errmsg *em)
{
	struct lb_kn_check_opts def = { 0 };
	if (opts == NULL)
		opts = &def;
	struct ver v = { .m = m };
	v.max_states = opts->max_states ? opts->max_states : 200000;
	v.max_mem = opts->max_memory ? opts->max_memory : (256u << 20);
	int rc = LB_OK;
	struct lb_buf b;
	lb_buf_init(&b, 64u << 20);
	/* a scratch session that ignores the model's name problems */
	struct lb_kn_session *s = lb_calloc(1, sizeof(*s));
	v.dom = lb_calloc(m->ndata ? m->ndata : 1, sizeof(*v.dom));
	v.seen = lb_calloc(m->ntasks, 1);
	v.amb_found = lb_calloc(m->ntasks, 1);
	v.capel = 4096;
	v.elems = lb_calloc(v.capel, sizeof(*v.elems));
	if (s == NULL || v.elems == NULL || v.dom == NULL || v.seen == NULL || v.amb_found == NULL) {
		lb_free(s);
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	s->m = m;
	s->ts = lb_calloc(m->ntasks, sizeof(*s->ts));
	s->d = lb_calloc(m->ndata ? m->ndata : 1, sizeof(*s->d));
	s->chosen = lb_calloc(m->ncands ? m->ncands : 1, 1);
	s->triggers = lb_calloc(m->ntasks, 1);
	s->seen_started = lb_calloc(m->ntasks, 1);
	s->no_trace = true;
	s->no_history = true;
	s->cycle_cap = opts->cycle_cap ? opts->cycle_cap : 3;
	s->max_passes = 2000;
	v.s = s;
	if (s->ts == NULL || s->d == NULL || s->chosen == NULL || s->triggers == NULL ||
	    s->seen_started == NULL) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	build_domains(&v);
	static_checks(&v);
	if ((rc = explore(&v)) != LB_OK) {
		rc = lb_errf(em, rc, "exploring '%s': %s", m->root->name, lb_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i < m->ntasks; i++)
		v.seen[i] |= s->seen_started[i];
	if (v.limited) {
		add_finding(&v, LB_KN_LIMIT, -1, -1,
			    "exploration stopped at %zu states / %zu bytes (limits %zu states, %zu "
			    "bytes); results are incomplete — raise --max-states / --max-memory",
			    v.nst, v.mem, v.max_states, v.max_mem);
	} else {
		for (size_t i = 0; i < m->ntasks; i++)
			if (!v.seen[i])
				add_finding(&v, LB_KN_UNREACHABLE, (int)i, -1,
					    "task '%s' is never in progress on any run",
					    m->tasks[i]->name);
		if ((rc = find_livelock(&v)) != LB_OK)
			goto out;
	}
	/* the report: deterministic JSON */
	struct kn_value nm = { .t = KN_V_TEXT, .u.s = m->root->name };
	rc = lb_buf_adds(&b, "{\"model\":");
	rc = rc ? rc : kn_value_to_json(&b, &nm);
	rc = rc ? rc : lb_buf_addf(&b, ",\"ok\":%s,\"complete\":%s,\"states\":%zu,\"transitions\":%zu,"
				   "\"bounds\":{\"max_states\":%zu,\"max_memory\":%zu,"
				   "\"cycle_cap\":%u},\"findings\":[",
				   v.nf == 0 ? "true" : "false", v.limited ? "false" : "true", v.nst,
				   v.transitions, v.max_states, v.max_mem, s->cycle_cap);
	for (size_t i = 0; rc == LB_OK && i < v.nf; i++) {
		struct finding *f = &v.f[i];
		struct kn_value msg = { .t = KN_V_TEXT, .u.s = f->msg };
		rc = lb_buf_addf(&b, "%s{\"kind\":\"%s\",\"task\":", i ? "," : "",
				 lb_kn_finding_name(f->kind));
		if (rc == LB_OK && f->task >= 0) {
			struct kn_value tn = { .t = KN_V_TEXT, .u.s = m->tasks[f->task]->name };
			rc = kn_value_to_json(&b, &tn);
		} else if (rc == LB_OK) {
			rc = lb_buf_adds(&b, "null");
		}
		rc = rc ? rc : lb_buf_adds(&b, ",\"message\":");
		rc = rc ? rc : kn_value_to_json(&b, &msg);
		if (rc == LB_OK && f->state >= 0) {
			rc = lb_buf_adds(&b, ",\"trace\":");
			rc = rc ? rc : trace_json(&v, f->state, &b);
		}
		rc = rc ? rc : lb_buf_addc(&b, '}');
	}
	rc = rc ? rc : lb_buf_adds(&b, "]}\n");
	if (rc != LB_OK) {
		rc = lb_errf(em, rc, "building the report: %s", lb_strerror(rc));
		goto out;
	}
	*failures = v.nf;
	*report = (char *)lb_buf_detach(&b, NULL);
	if (stats != NULL) {
		stats->states = v.nst;
		stats->transitions = v.transitions;
		stats->peak_memory = v.peak;
	}
out:
	lb_buf_release(&b);
	if (v.s != NULL) {
		lb_free(s->seen_started);
		s->seen_started = NULL;
		lb_kn_session_free(s);
	}
	for (size_t i = 0; i < v.nst; i++)
		lb_free(v.st[i].bytes);
	lb_free(v.st);
	lb_free(v.table);
	lb_free(v.edge_from);
	lb_free(v.edge_to);
	lb_free(v.f);
	lb_free(v.dom);
	lb_free(v.seen);
	lb_free(v.amb_found);
	lb_free(v.elems);
	return rc;
}
