/*
 * The contract model once parsed: freeing, name resolution (tasks in preorder, antecedents,
 * data items, functions), structural equality of two models (what a lossless round trip
 * preserves), and the public parse/print/load entry points that dispatch to the two forms.
 * Undefined names in expressions do not stop loading: they are recorded as problems that the
 * verifier reports and that `contract run` refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "knowledge/kn_int.h"

const char *kn_class_name(int cls, bool js)
{
	static const char *const pf[] = { "plan", "decision", "action", "enquiry" };
	static const char *const jsn[] = { "Plan", "Decision", "Action", "Enquiry" };
	return (cls >= 0 && cls < 4) ? (js ? jsn : pf)[cls] : "?";
}

const char *kn_dtype_name(int t, bool js)
{
	static const char *const pf[] = { "boolean", "integer", "real", "text", "date", "any" };
	static const char *const jsn[] = { "Boolean", "Integer", "Float", "Text", "Date",
					   "DataDefinition" };
	return (t >= 0 && t <= KN_T_ANY) ? (js ? jsn : pf)[t] : "?";
}

int kn_meta_canon(const char *s, char **out)
{
	json_t *j = json_loads(s, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	if (j == NULL)
		return LB_EINVALID;
	char *d = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY |
				       JSON_REAL_PRECISION(17));
	json_decref(j);
	if (d == NULL)
		return LB_ENOMEM;
	*out = lb_strdup(d);
	free(d);
	return *out ? LB_OK : LB_ENOMEM;
}

bool kn_range_text_takes(const struct kn_datadef *d, const struct kn_value *v)
{
	return v->t == KN_V_TEXT && strstr(d->range_text, v->u.s) != NULL;
}

const char *kn_allowed_caption(const struct kn_datadef *d, size_t i)
{
	return d->allowed_caption != NULL && i < d->nallowed ? d->allowed_caption[i] : NULL;
}

void kn_task_free(struct kn_task *t)
{
	if (t == NULL)
		return;
	lb_free(t->name);
	lb_free(t->caption);
	lb_free(t->description);
	kn_expr_free(t->pre);
	kn_expr_free(t->wait);
	kn_expr_free(t->terminate);
	kn_expr_free(t->abort);
	kn_expr_free(t->cycle_until);
	lb_free(t->trigger);
	lb_free(t->trigger_json);
	lb_free(t->meta);
	for (size_t i = 0; i < t->nafter; i++)
		lb_free(t->after[i]);
	lb_free(t->after);
	lb_free(t->after_idx);
	for (size_t i = 0; i < t->npost; i++) {
		lb_free(t->post[i].data);
		kn_expr_free(t->post[i].e);
	}
	lb_free(t->post);
	for (size_t i = 0; i < t->ntasks; i++)
		kn_task_free(t->tasks[i]);
	lb_free(t->tasks);
	for (size_t i = 0; i < t->ncands; i++) {
		struct kn_candidate *c = &t->cands[i];
		lb_free(c->name);
		lb_free(c->caption);
		lb_free(c->description);
		for (size_t j = 0; j < c->nargs; j++) {
			lb_free(c->args[j].name);
			lb_free(c->args[j].caption);
			lb_free(c->args[j].description);
			lb_free(c->args[j].meta);
			kn_expr_free(c->args[j].cond);
		}
		lb_free(c->args);
		kn_expr_free(c->recommend);
		lb_free(c->meta);
	}
	lb_free(t->cands);
	lb_free(t->procedure);
	for (size_t i = 0; i < t->nsources; i++) {
		lb_free(t->sources[i].data);
		lb_free(t->sources[i].meta);
		kn_expr_free(t->sources[i].request);
	}
	lb_free(t->sources);
	lb_free(t);
}

void lb_kn_model_free(struct lb_kn_model *m)
{
	if (m == NULL)
		return;
	kn_task_free(m->root);
	for (size_t i = 0; i < m->ndata; i++) {
		struct kn_datadef *d = &m->data[i];
		lb_free(d->name);
		lb_free(d->caption);
		lb_free(d->description);
		lb_free(d->unit);
		for (size_t j = 0; j < d->nallowed; j++) {
			kn_value_clear(&d->allowed[j]);
			if (d->allowed_caption != NULL)
				lb_free(d->allowed_caption[j]);
		}
		lb_free(d->allowed);
		lb_free(d->allowed_caption);
		lb_free(d->range_obj);
		lb_free(d->range_text);
		lb_free(d->defval_text);
		lb_free(d->defval_moment);
		kn_value_clear(&d->defval);
		kn_expr_free(d->defcond);
		kn_expr_free(d->derive);
		kn_expr_free(d->valid);
		for (size_t j = 0; j < d->nwarnings; j++) {
			kn_expr_free(d->warnings[j].cond);
			lb_free(d->warnings[j].caption);
			lb_free(d->warnings[j].description);
			lb_free(d->warnings[j].meta);
		}
		lb_free(d->warnings);
		lb_free(d->owner);
		lb_free(d->meta);
	}
	lb_free(m->data);
	lb_free(m->tasks);
	lb_free(m->cand_base);
	for (size_t i = 0; i < m->nproblems; i++)
		lb_free(m->problems[i].text);
	lb_free(m->problems);
	for (size_t i = 0; i < m->nignored; i++)
		lb_free(m->ignored[i]);
	lb_free(m->ignored);
	lb_free(m);
}

const char *lb_kn_model_name(const struct lb_kn_model *m)
{
	return m->root->name;
}

int kn_model_find_task(const struct lb_kn_model *m, const char *name)
{
	for (size_t i = 0; i < m->ntasks; i++)
		if (strcmp(m->tasks[i]->name, name) == 0)
			return (int)i;
	return -1;
}

int kn_model_find_data(const struct lb_kn_model *m, const char *name)
{
	for (size_t i = 0; i < m->ndata; i++)
		if (strcmp(m->data[i].name, name) == 0)
			return (int)i;
	return -1;
}

int kn_model_find_data_from(const struct lb_kn_model *m, const char *name, int task)
{
	int best = -1, bestdepth = 0;
	if (task < 0 || (size_t)task >= m->ntasks)
		return -1;
	for (size_t i = 0; i < m->ndata; i++) {
		if (strcmp(m->data[i].name, name) != 0)
			continue;
		/* the owner must be the task or one of its ancestors; the nearer the root, the
		 * earlier it comes in allDataDefinitions() */
		int o = m->data[i].owner_idx, depth = -1;
		bool anc = false;
		for (int t = task; t >= 0; t = m->tasks[t]->parent) {
			anc |= t == o;
			depth += anc;
		}
		if (anc && (best < 0 || depth < bestdepth)) {
			best = (int)i;
			bestdepth = depth;
		}
	}
	return best;
}

int kn_model_problem(struct lb_kn_model *m, int kind, int task, int line, int col,
		     const char *fmt, ...)
{
	char text[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	struct kn_problem *n = lb_realloc(m->problems, (m->nproblems + 1) * sizeof(*n));
	if (n == NULL)
		return LB_ENOMEM;
	m->problems = n;
	struct kn_problem *p = &m->problems[m->nproblems];
	p->kind = kind;
	p->task = task;
	p->line = line;
	p->col = col;
	if ((p->text = lb_strdup(text)) == NULL)
		return LB_ENOMEM;
	m->nproblems++;
	return LB_OK;
}

/* Forget the problems recorded after the first n. */
static void drop_problems(struct lb_kn_model *m, size_t n)
{
	while (m->nproblems > n)
		lb_free(m->problems[--m->nproblems].text);
}

/* ---- resolution ------------------------------------------------------------------------ */

struct resolver {
	struct lb_kn_model *m;
	const char *file;
	struct lb_errmsg *em;
	int task;        /* task whose expressions are being resolved */
	const char *cpath; /* design path of the component evaluating them (PROformajs resolves
			    * a task name from it), NULL when not known */
	int scope;       /* task whose view of the data names resolve from (PROformajs
			  * allDataDefinitions); -1: the task being resolved, if any */
	bool value_ok;   /* `value` is bound (valueCondition / warningCondition) */
	bool quiet;      /* record no problem (unresolved names stay -1: unknown when evaluated) */
};

typedef int (*problem_fn)(struct lb_kn_model *m, int kind, int task, int line, int col,
			  const char *fmt, ...);

static int no_problem(struct lb_kn_model *m, int kind, int task, int line, int col,
		      const char *fmt, ...)
{
	(void)m, (void)kind, (void)task, (void)line, (void)col, (void)fmt;
	return LB_OK;
}

/* Where resolve_expr reports a problem. */
static problem_fn rprob(const struct resolver *r)
{
	return r->quiet ? no_problem : kn_model_problem;
}

static int collect(struct lb_kn_model *m, struct kn_task *t, int parent, size_t *cap)
{
	if (m->ntasks == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct kn_task **n = lb_realloc(m->tasks, nc * sizeof(*n));
		if (n == NULL)
			return LB_ENOMEM;
		m->tasks = n;
		*cap = nc;
	}
	t->idx = (int)m->ntasks;
	t->parent = parent;
	m->tasks[m->ntasks++] = t;
	for (size_t i = 0; i < t->ntasks; i++) {
		int rc = collect(m, t->tasks[i], t->idx, cap);
		if (rc != LB_OK)
			return rc;
	}
	return LB_OK;
}

/* The name a string literal or bare name argument gives, or NULL. */
static const char *arg_name(const struct kn_expr *a)
{
	if (a->op == KN_E_NAME)
		return a->name;
	if (a->op == KN_E_CONST && a->v.t == KN_V_TEXT)
		return a->v.u.s;
	return NULL;
}

/* Does task t have design path `path` ("root:sub:t", n bytes)? */
static bool design_is(const struct lb_kn_model *m, int t, const char *path, size_t n)
{
	for (; t >= 0; t = m->tasks[t]->parent) {
		const char *nm = m->tasks[t]->name;
		size_t k = strlen(nm);
		if (k > n || memcmp(path + n - k, nm, k) != 0)
			return false;
		n -= k;
		if (m->tasks[t]->parent < 0)
			return n == 0;
		if (n == 0 || path[n - 1] != ':')
			return false;
		n--;
	}
	return false;
}

int kn_model_find_design(const struct lb_kn_model *m, const char *path, size_t n)
{
	for (size_t t = 0; t < m->ntasks; t++)
		if (design_is(m, (int)t, path, n))
			return (int)t;
	return -1;
}

static int find_task_path(const struct lb_kn_model *m, const char *path);

/* A task named in an expression, found as PROformajs finds it from the evaluating component
 * (design path r->cpath): the name as a design path, then as a sibling of the component, then
 * as its child; else (PROformajs fails there; kn_enact reproduces that) by name. */
static int find_task_from(const struct resolver *r, const char *name)
{
	const struct lb_kn_model *m = r->m;
	int t = kn_model_find_design(m, name, strlen(name));
	if (t >= 0 || r->cpath == NULL)
		return t >= 0 ? t : find_task_path(m, name);
	char buf[1024];
	const char *last = strrchr(r->cpath, ':');
	int n = last ? snprintf(buf, sizeof(buf), "%.*s:%s", (int)(last - r->cpath), r->cpath, name)
		     : -1;
	if (n > 0 && (size_t)n < sizeof(buf) && (t = kn_model_find_design(m, buf, (size_t)n)) >= 0)
		return t;
	n = snprintf(buf, sizeof(buf), "%s:%s", r->cpath, name);
	if (n > 0 && (size_t)n < sizeof(buf) && (t = kn_model_find_design(m, buf, (size_t)n)) >= 0)
		return t;
	return find_task_path(m, name);
}

/* A task by name or by PROformajs path ("plan:sub:task": the path must follow the tree). */
static int find_task_path(const struct lb_kn_model *m, const char *path)
{
	const char *last = strrchr(path, ':');
	int t = kn_model_find_task(m, last ? last + 1 : path);
	if (t < 0 || last == NULL)
		return t;
	/* check the ancestors named, innermost first */
	int at = m->tasks[t]->parent;
	const char *end = last;
	while (end > path && at >= 0) {
		const char *start = end;
		while (start > path && start[-1] != ':')
			start--;
		size_t n = (size_t)(end - start);
		const char *nm = m->tasks[at]->name;
		if (strlen(nm) != n || memcmp(nm, start, n) != 0)
			return -1;
		at = m->tasks[at]->parent;
		end = start > path ? start - 1 : path;
	}
	return end > path ? -1 : t;
}

/* Candidate `name` or `decision:candidate` (a longer path: its last two parts): the calling
 * decision's own candidate first, then a sibling decision's, then the only one of that name. */
static int find_candidate(const struct resolver *r, const char *path, int *task, int *cand)
{
	const struct lb_kn_model *m = r->m;
	const char *cn = strrchr(path, ':');
	int only_task = -1;
	if (cn != NULL) {
		char tn[KN_MAX_NAME + 1];
		const char *ts = cn;
		while (ts > path && ts[-1] != ':')
			ts--;
		size_t n = (size_t)(cn - ts);
		if (n >= sizeof(tn))
			return LB_ENOTFOUND;
		memcpy(tn, ts, n);
		tn[n] = 0;
		only_task = kn_model_find_task(m, tn);
		if (only_task < 0)
			return LB_ENOTFOUND;
		cn++;
	} else {
		cn = path;
	}
	int best = -1, bestc = -1, rank = 99, count = 0;
	const struct kn_task *caller = r->task >= 0 ? m->tasks[r->task] : NULL;
	for (size_t t = 0; t < m->ntasks; t++) {
		if (only_task >= 0 && (int)t != only_task)
			continue;
		const struct kn_task *d = m->tasks[t];
		for (size_t c = 0; c < d->ncands; c++) {
			if (strcmp(d->cands[c].name, cn) != 0)
				continue;
			int rk = caller == NULL ? 2 : (int)t == caller->idx ? 0
				 : d->parent == caller->parent ? 1 : 2;
			count++;
			if (rk < rank) {
				rank = rk;
				best = (int)t;
				bestc = (int)c;
			}
		}
	}
	if (best < 0 || (rank == 2 && count > 1))
		return LB_ENOTFOUND;
	*task = best;
	*cand = bestc;
	return LB_OK;
}

/* A data name as seen from the resolver's scope: the outermost definition visible there
 * (PROformajs's allDataDefinitions().find), else the first of that name. */
static int find_data_r(const struct resolver *r, const char *name)
{
	int d = kn_model_find_data_from(r->m, name, r->scope >= 0 ? r->scope : r->task);
	return d >= 0 ? d : kn_model_find_data(r->m, name);
}

static int resolve_expr(struct resolver *r, struct kn_expr *e)
{
	int rc;
	if (e == NULL)
		return LB_OK;
	if (e->op == KN_E_NAME) {
		if (r->value_ok && strcmp(e->name, "value") == 0) {
			e->ref = KN_REF_VALUE;
			return LB_OK;
		}
		if (kn_expr_this(e) == KN_THIS_BARE) { /* PROformajs's evaluator object */
			e->ref = -1;
			return LB_OK;
		}
		e->ref = find_data_r(r, e->name);
		/* PROformajs: a predicate's bare name is the function itself, no data; LEBEN
		 * gives it no value (unknown) */
		if (e->ref < 0 && r->m->js && kn_js_reserved(e->name))
			return LB_OK;
		/* PROformajs: a task's, candidate's or text range value's name (its validation
		 * takes them) is undefined in its evaluator, whose context holds data values by
		 * name and task states by runtime path ("p:t"); only the top-level task's name
		 * (not cyclic) is a runtime path, its state object (kn_eval; stored as a data
		 * value it is refused: root_state_stored) */
		if (e->ref < 0 && r->m->js)
			return LB_OK;
		if (e->ref < 0)
			return rprob(r)(r->m, LB_KN_UNDEFINED, r->task, e->line, e->col,
						"%s:%d:%d: undefined data item '%s'", r->file,
						e->line, e->col, e->name);
		return LB_OK;
	}
	if (e->op == KN_E_CALL) {
		e->ref = kn_fn_lookup(e->name);
		if (e->ref < 0)
			return rprob(r)(r->m, LB_KN_UNDEFINED, r->task, e->line, e->col,
						"%s:%d:%d: unknown function '%s'", r->file, e->line,
						e->col, e->name);
		const struct kn_fn_info *f = &kn_fns[e->ref];
		/* PROformajs (JavaScript) ignores arguments beyond those a predicate reads; not for
		 * the functions whose second argument means something else in LEBEN */
		bool extra_ok = r->m->js && ((e->ref != KN_F_NET_SUPPORT &&
					      e->ref != KN_F_IS_RECOMMENDED && e->ref != KN_F_MIN &&
					      e->ref != KN_F_MAX) ||
					     e->ref2 == KN_REF_FIRST_ONLY);
		/* fewer arguments: JavaScript passes undefined (kn_eval gives PROformajs's answer;
		 * result_of() and result_set() are JavaScript's null) */
		bool fewer_ok = r->m->js && (int)e->nargs < f->min_args;
		if (((int)e->nargs < f->min_args && !fewer_ok) ||
		    ((int)e->nargs > f->max_args && !extra_ok)) {
			if (f->min_args == f->max_args)
				return rprob(r)(r->m, LB_KN_TYPE, r->task, e->line, e->col,
							"%s:%d:%d: %s takes %d argument%s, not %zu",
							r->file, e->line, e->col, f->name, f->min_args,
							f->min_args == 1 ? "" : "s", e->nargs);
			return rprob(r)(r->m, LB_KN_TYPE, r->task, e->line, e->col,
						"%s:%d:%d: %s takes %d to %d arguments, not %zu",
						r->file, e->line, e->col, f->name, f->min_args,
						f->max_args, e->nargs);
		}
		size_t first = 0;
		if (fewer_ok) {
			for (size_t i = 0; i < e->nargs; i++)
				if ((rc = resolve_expr(r, e->args[i])) != LB_OK)
					return rc;
			return LB_OK;
		}
		if (e->nargs == 0) {
			e->ref2 = r->task; /* index() / path(): the calling task */
			return LB_OK;
		}
		if (f->arg0 == KN_FA_TASKS) {
			struct kn_expr *l = e->args[0];
			if (l->op != KN_E_LIST)
				return rprob(r)(r->m, LB_KN_TYPE, r->task, l->line, l->col,
							"%s:%d:%d: %s needs a list of task names",
							r->file, l->line, l->col, f->name);
			for (size_t i = 0; i < l->nargs; i++) {
				struct kn_expr *a = l->args[i];
				const char *nm = arg_name(a);
				a->ref = nm ? find_task_from(r, nm) : -1;
				if (a->ref < 0)
					return kn_model_problem(
						r->m, LB_KN_UNDEFINED, r->task, a->line, a->col,
						"%s:%d:%d: undefined task '%s'", r->file, a->line,
						a->col, nm ? nm : "?");
			}
			return LB_OK;
		}
		bool one_cand = (e->ref == KN_F_NET_SUPPORT || e->ref == KN_F_IS_RECOMMENDED) &&
				kn_call_nargs(e) == 1;
		if (one_cand) {
			/* net_support('candidate') or net_support('decision:candidate') */
			struct kn_expr *a = e->args[0];
			const char *nm = arg_name(a);
			if (nm == NULL)
				return rprob(r)(r->m, LB_KN_TYPE, r->task, a->line, a->col,
							"%s:%d:%d: %s needs a candidate name", r->file,
							a->line, a->col, f->name);
			/* (PROformajs's validation takes any name it knows there, a task's
			 * say: its evaluation reads what its context has under the name, 0
			 * for a task or a known value, else throws "unknown candidate"; ref:
			 * the task of that name, ref2 -1; kn_eval, kn_enact names_bad) */
			if (find_candidate(r, nm, &a->ref, &a->ref2) != LB_OK && r->m->js) {
				a->ref = find_task_from(r, nm);
				a->ref2 = -1;
			} else if (a->ref < 0)
				return rprob(r)(r->m, LB_KN_UNDEFINED, r->task, a->line,
							a->col, "%s:%d:%d: undefined candidate '%s'",
							r->file, a->line, a->col, nm);
			/* (the arguments PROformajs does not read: resolved, not evaluated) */
			for (size_t i = 1; i < e->nargs; i++)
				if ((rc = resolve_expr(r, e->args[i])) != LB_OK)
					return rc;
			return LB_OK;
		}
		if (f->task_arg || f->arg0 == KN_FA_DATA ||
		    (e->ref == KN_F_IS_KNOWN && e->args[0]->op == KN_E_CONST)) {
			struct kn_expr *a = e->args[0];
			const char *nm = arg_name(a);
			if (nm == NULL)
				return rprob(r)(r->m, LB_KN_TYPE, r->task, a->line, a->col,
							"%s:%d:%d: %s needs a %s name", r->file,
							a->line, a->col, f->name,
							f->task_arg ? "task" : "data item");
			/* a data item given as a path ('plan:item'): its last part (PROformajs's
			 * validation accepts the path, its evaluation then fails) */
			const char *last = strrchr(nm, ':');
			a->ref = f->task_arg ? find_task_from(r, nm)
					     : find_data_r(r, last ? last + 1 : nm);
			if (a->ref < 0)
				return rprob(r)(r->m, LB_KN_UNDEFINED, r->task, a->line,
							a->col, "%s:%d:%d: undefined %s '%s'",
							r->file, a->line, a->col,
							f->task_arg ? "task" : "data item", nm);
			first = 1;
			if ((e->ref == KN_F_NET_SUPPORT || e->ref == KN_F_IS_RECOMMENDED)) {
				struct kn_task *d = r->m->tasks[a->ref];
				struct kn_expr *c = e->args[1];
				const char *cn = arg_name(c);
				c->ref = -1;
				if (d->cls != KN_DECISION)
					return kn_model_problem(
						r->m, LB_KN_TYPE, r->task, a->line, a->col,
						"%s:%d:%d: '%s' is not a decision", r->file, a->line,
						a->col, nm);
				for (size_t i = 0; cn != NULL && i < d->ncands; i++)
					if (strcmp(d->cands[i].name, cn) == 0)
						c->ref = (int)i;
				if (c->ref < 0)
					return kn_model_problem(
						r->m, LB_KN_UNDEFINED, r->task, c->line, c->col,
						"%s:%d:%d: decision '%s' has no candidate '%s'",
						r->file, c->line, c->col, nm, cn ? cn : "?");
				first = 2;
			}
			/* PROformajs: null for a task that is not a decision (its state has no
			 * confirmed()); marked for the .pf form, which refuses it */
			if ((e->ref == KN_F_RESULT_OF || e->ref == KN_F_RESULT_SET) &&
			    r->m->tasks[a->ref]->cls != KN_DECISION && r->m->js)
				e->ref2 = KN_REF_NOT_DECISION;
			else if ((e->ref == KN_F_RESULT_OF || e->ref == KN_F_RESULT_SET) &&
				 r->m->tasks[a->ref]->cls != KN_DECISION)
				return rprob(r)(r->m, LB_KN_TYPE, r->task, a->line, a->col,
							"%s:%d:%d: '%s' is not a decision", r->file,
							a->line, a->col, nm);
		}
		for (size_t i = first; i < e->nargs; i++)
			if ((rc = resolve_expr(r, e->args[i])) != LB_OK)
				return rc;
		return LB_OK;
	}
	for (size_t i = 0; i < e->nargs; i++)
		if ((rc = resolve_expr(r, e->args[i])) != LB_OK)
			return rc;
	return LB_OK;
}

/* Can x's value be the top-level task's state object (its name, resolved to no data item)?
 * Follows what an operand gives unchanged: ?:, &&, ||, a compound's last, and the element
 * of a list written out that nth, sum, min, max or [i] may give. */
static const struct kn_expr *root_state_value(const struct lb_kn_model *m,
					      const struct kn_expr *x)
{
	const struct kn_expr *r = NULL;
	if (x == NULL)
		return NULL;
	switch (x->op) {
	case KN_E_NAME:
		return x->ref == -1 && strcmp(x->name, m->root->name) == 0 ? x : NULL;
	case KN_E_COND:
		return (r = root_state_value(m, x->args[1])) ? r : root_state_value(m, x->args[2]);
	case KN_E_AND: case KN_E_OR:
		return (r = root_state_value(m, x->args[0])) ? r : root_state_value(m, x->args[1]);
	case KN_E_COMPOUND:
		return x->nargs > 0 ? root_state_value(m, x->args[x->nargs - 1]) : NULL;
	case KN_E_INDEX:
		return root_state_value(m, x->args[0]);
	case KN_E_LIST:
		for (size_t i = 0; r == NULL && i < x->nargs; i++)
			r = root_state_value(m, x->args[i]);
		return r;
	case KN_E_CALL:
		if (x->nargs > 0 && (x->ref == KN_F_NTH || x->ref == KN_F_SUM ||
				     x->ref == KN_F_MIN || x->ref == KN_F_MAX))
			return root_state_value(m, x->args[0]);
		return NULL;
	default:
		return NULL;
	}
}

/* PROformajs stores the top-level task's state object as a derived value (a numeric item
 * never: isNaN), which its snapshot then shows as the live state ({class, path, design,
 * state, ...}), and weighs it as a default (stored by a DataDefinition item without a range,
 * refused by the others): LEBEN's values cannot hold it, so a data item whose valueCondition
 * or defaultCondition may give it is refused by name. (An expression that is the name alone
 * throws there, "illegal Identifier", as in LEBEN: nothing is stored.) */
static int root_state_stored(const struct resolver *r, const struct kn_datadef *d)
{
	const struct lb_kn_model *m = r->m;
	if (!m->js || m->root == NULL || m->root->cyclic)
		return LB_OK;
	bool numeric = (d->type == KN_T_INTEGER || d->type == KN_T_REAL) && !d->multi;
	const struct kn_expr *x = numeric ? NULL : root_state_value(m, d->derive);
	if (x == NULL || x == d->derive)
		x = root_state_value(m, d->defcond);
	if (x == NULL || x == d->defcond)
		return LB_OK;
	return lb_errf(r->em, LB_EINVALID,
		       "%s:%d:%d: data item '%s' may store the top-level task's name '%s' as its "
		       "value (PROformajs stores that task's state object, which LEBEN's values "
		       "cannot hold); quote it or name a data item",
		       r->file, x->line, x->col, d->name, x->name);
}

int kn_expr_resolve_quiet(const struct lb_kn_model *m, int task, struct kn_expr *e)
{
	/* quiet: nothing of m is written */
	struct resolver r = { .m = (struct lb_kn_model *)m, .file = "", .task = task,
			      .scope = -1, .quiet = true };
	return resolve_expr(&r, e);
}

/* The design path of task t ("root:sub:t"), with ":suffix" when suffix is not NULL, in buf;
 * buf is "" when it does not fit. */
static const char *design_path(const struct lb_kn_model *m, int t, const char *suffix, char *buf,
			       size_t cap)
{
	const struct kn_task *k = m->tasks[t];
	size_t n = 0;
	if (k->parent >= 0) {
		design_path(m, k->parent, NULL, buf, cap);
		n = strlen(buf);
	}
	int w = snprintf(buf + n, cap - n, "%s%s%s%s", n ? ":" : "", k->name, suffix ? ":" : "",
			 suffix ? suffix : "");
	if (w < 0 || (size_t)w >= cap - n)
		buf[0] = 0;
	return buf;
}

static int resolve_task(struct resolver *r, struct kn_task *t)
{
	int rc;
	char cp[1024];
	r->task = t->idx;
	r->cpath = design_path(r->m, t->idx, NULL, cp, sizeof(cp));
	struct kn_expr *ex[] = { t->pre, t->wait, t->terminate, t->abort, t->cycle_until };
	for (size_t i = 0; i < 5; i++)
		if ((rc = resolve_expr(r, ex[i])) != LB_OK)
			return rc;
	if (t->nafter > 0) {
		if ((t->after_idx = lb_calloc(t->nafter, sizeof(int))) == NULL)
			return LB_ENOMEM;
		struct kn_task *p = t->parent >= 0 ? r->m->tasks[t->parent] : NULL;
		for (size_t i = 0; i < t->nafter; i++) {
			t->after_idx[i] = -1;
			for (size_t j = 0; p != NULL && j < p->ntasks; j++)
				if (p->tasks[j] != t && strcmp(p->tasks[j]->name, t->after[i]) == 0)
					t->after_idx[i] = p->tasks[j]->idx;
			/* PROformajs ignores the key: one naming what the protocol lacks is kept
			 * for the round trip and plays no part (the .pf form cannot hold it) */
			if (t->after_idx[i] < 0 && !r->m->js)
				return lb_errf(r->em, LB_EINVALID,
					       "%s: task '%s': antecedent '%s' is not another "
					       "component of the same plan",
					       r->file, t->name, t->after[i]);
		}
	}
	for (size_t i = 0; i < t->npost; i++) {
		/* PROformajs ignores postAssignments: in its JSON form one naming what the
		 * protocol lacks (a data item, a name in its value) is kept for the round trip,
		 * with ref -1 and its names unresolved, and plays no part */
		size_t np = r->m->nproblems;
		t->post[i].ref = kn_model_find_data(r->m, t->post[i].data);
		if (t->post[i].ref < 0)
			rc = rprob(r)(r->m, LB_KN_UNDEFINED, t->idx, 0, 0,
					      "%s: task '%s': postcondition assigns undefined data "
					      "item '%s'",
					      r->file, t->name, t->post[i].data);
		else if (r->m->data[t->post[i].ref].derive != NULL)
			rc = rprob(r)(r->m, LB_KN_TYPE, t->idx, 0, 0,
					      "%s: task '%s': postcondition assigns derived data "
					      "item '%s'",
					      r->file, t->name, t->post[i].data);
		if (rc == LB_OK)
			rc = resolve_expr(r, t->post[i].e);
		if (r->m->js && rc == LB_OK && r->m->nproblems > np) {
			drop_problems(r->m, np);
			t->post[i].ref = -1;
			bool q = r->quiet;
			r->quiet = true;
			rc = resolve_expr(r, t->post[i].e);
			r->quiet = q;
		}
		if (rc != LB_OK)
			return rc;
	}
	for (size_t i = 0; i < t->ncands; i++) {
		struct kn_candidate *c = &t->cands[i];
		r->cpath = design_path(r->m, t->idx, c->name, cp, sizeof(cp));
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->cands[j].name, c->name) == 0)
				return lb_errf(r->em, LB_EINVALID,
					       "%s: decision '%s': candidate '%s' defined twice",
					       r->file, t->name, c->name);
		for (size_t j = 0; j < c->nargs; j++)
			if ((rc = resolve_expr(r, c->args[j].cond)) != LB_OK)
				return rc;
		if ((rc = resolve_expr(r, c->recommend)) != LB_OK)
			return rc;
	}
	for (size_t i = 0; i < t->nsources; i++) {
		r->cpath = design_path(r->m, t->idx, t->sources[i].data, cp, sizeof(cp));
		t->sources[i].ref = find_data_r(r, t->sources[i].data);
		/* (the JSON form: a source naming no data definition is checked by kn_json.c's
		 * validation, as PROformajs checks it) */
		if (t->sources[i].ref < 0 && r->m->js)
			rc = LB_OK;
		else if (t->sources[i].ref < 0)
			rc = rprob(r)(r->m, LB_KN_UNDEFINED, t->idx, 0, 0,
					      "%s: enquiry '%s': source '%s' is not a defined data "
					      "item",
					      r->file, t->name, t->sources[i].data);
		else if (r->m->data[t->sources[i].ref].derive != NULL)
			rc = rprob(r)(r->m, LB_KN_TYPE, t->idx, 0, 0,
					      "%s: enquiry '%s': source '%s' is derived and cannot "
					      "be asked",
					      r->file, t->name, t->sources[i].data);
		if (rc != LB_OK || (rc = resolve_expr(r, t->sources[i].request)) != LB_OK)
			return rc;
	}
	return LB_OK;
}

int kn_model_resolve(struct lb_kn_model *m, const char *file, struct lb_errmsg *em)
{
	int rc;
	size_t cap = 0;
	struct resolver r = { .m = m, .file = file, .em = em, .scope = -1 };
	if (m->root == NULL)
		return lb_errf(em, LB_ESYNTAX, "%s: no plan defined", file);
	/* a PROformajs protocol may be any task (an enquiry alone, say); the .pf form's is a plan */
	if (m->root->cls != KN_PLAN && !m->js)
		return lb_errf(em, LB_EINVALID, "%s: the top-level task '%s' must be a plan", file,
			       m->root->name);
	if ((rc = collect(m, m->root, -1, &cap)) != LB_OK)
		return lb_errf(em, rc, "out of memory");
	if (m->ntasks > KN_MAX_TASKS)
		return lb_errf(em, LB_ELIMIT, "%s: %zu tasks; at most %d are supported", file,
			       m->ntasks, KN_MAX_TASKS);
	for (size_t i = 0; i < m->ndata; i++) {
		struct kn_datadef *d = &m->data[i];
		d->owner_idx = d->owner_task != NULL ? d->owner_task->idx
			       : d->owner != NULL    ? kn_model_find_task(m, d->owner)
						     : 0;
	}
	/* task names: unique in the contract in the .pf form; in a PROformajs protocol, among
	 * the components of one plan (PROformajs's rule; a name elsewhere is found from where
	 * it is used, find_task_from) */
	for (size_t i = 0; i < m->ntasks; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(m->tasks[i]->name, m->tasks[j]->name) == 0 &&
			    (!m->js || m->tasks[i]->parent == m->tasks[j]->parent))
				return m->js ? lb_errf(em, LB_EINVALID,
						       "%s: plan '%s': duplicate sub-task names: '%s' "
						       "(rename one of them)",
						       file, m->tasks[m->tasks[i]->parent]->name,
						       m->tasks[i]->name)
					     : lb_errf(em, LB_EINVALID,
						       "%s: task name '%s' is used twice (task names "
						       "must be unique)",
						       file, m->tasks[i]->name);
	/* data names: unique in the contract in the .pf form (LEBEN's rules); a PROformajs
	 * protocol may define a name in several tasks, once per task (each task then sees the
	 * outermost definition, kn_model_find_data_from) */
	for (size_t i = 0; i < m->ndata; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(m->data[i].name, m->data[j].name) == 0 &&
			    (!m->js || m->data[i].owner_idx == m->data[j].owner_idx))
				return m->js ? lb_errf(em, LB_EINVALID,
						       "%s:%d:%d: data item '%s' is defined twice in "
						       "task '%s' (duplicate dataDefinition names; two "
						       "tasks may each define it); rename one of them",
						       file, m->data[i].line, m->data[i].col,
						       m->data[i].name,
						       m->data[i].owner_idx >= 0
							       ? m->tasks[m->data[i].owner_idx]->name
							       : m->data[i].owner)
					     : lb_errf(em, LB_EINVALID,
						       "%s:%d:%d: data item '%s' is defined twice (in "
						       "the .pf form, LEBEN's rules, a data name is "
						       "unique in the contract; only the PROformajs JSON "
						       "form may define a name in two tasks); rename one "
						       "of them",
						       file, m->data[i].line, m->data[i].col,
						       m->data[i].name);
	if ((m->cand_base = lb_calloc(m->ntasks, sizeof(int))) == NULL)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	m->ncands = 0;
	for (size_t i = 0; i < m->ntasks; i++) {
		m->cand_base[i] = (int)m->ncands;
		m->ncands += m->tasks[i]->ncands;
	}
	for (size_t i = 0; i < m->ntasks; i++)
		if ((rc = resolve_task(&r, m->tasks[i])) != LB_OK)
			return rc == LB_ENOMEM ? lb_errf(em, rc, "out of memory") : rc;
	r.task = -1;
	for (size_t i = 0; i < m->ndata; i++) {
		struct kn_datadef *d = &m->data[i];
		char cp[1024];
		r.cpath = d->owner_idx >= 0 ? design_path(m, d->owner_idx, d->name, cp, sizeof(cp))
					    : NULL;
		r.scope = d->owner_idx;
		r.value_ok = false;
		if ((rc = resolve_expr(&r, d->derive)) != LB_OK ||
		    (rc = resolve_expr(&r, d->defcond)) != LB_OK)
			return lb_errf(em, rc, "out of memory");
		if ((rc = root_state_stored(&r, d)) != LB_OK)
			return rc;
		r.value_ok = true;
		if ((rc = resolve_expr(&r, d->valid)) != LB_OK)
			return lb_errf(em, rc, "out of memory");
		for (size_t k = 0; k < d->nwarnings; k++)
			if ((rc = resolve_expr(&r, d->warnings[k].cond)) != LB_OK)
				return lb_errf(em, rc, "out of memory");
		if (d->owner != NULL && d->owner_idx < 0)
			return lb_errf(em, LB_EINVALID,
				       "%s:%d:%d: data item '%s' belongs to task '%s', which the "
				       "contract does not have",
				       file, d->line, d->col, d->name, d->owner);
		if (d->has_range && d->lo > d->hi)
			return lb_errf(em, LB_EINVALID,
				       "%s:%d:%d: data item '%s': range %g .. %g is empty", file,
				       d->line, d->col, d->name, d->lo, d->hi);
	}
	return LB_OK;
}

/* ---- equality ---------------------------------------------------------------------------- */

static bool str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool task_equal(const struct kn_task *a, const struct kn_task *b)
{
	if (a->cls != b->cls || !str_eq(a->name, b->name) || !str_eq(a->caption, b->caption) ||
	    !str_eq(a->description, b->description) || !kn_expr_equal(a->pre, b->pre) ||
	    !kn_expr_equal(a->wait, b->wait) || !kn_expr_equal(a->terminate, b->terminate) ||
	    !kn_expr_equal(a->abort, b->abort) || !kn_expr_equal(a->cycle_until, b->cycle_until) ||
	    !str_eq(a->trigger, b->trigger) || !str_eq(a->trigger_json, b->trigger_json) || a->cycles != b->cycles ||
	    a->interval != b->interval || a->autonomous != b->autonomous ||
	    a->optional != b->optional || a->priority != b->priority ||
	    a->nafter != b->nafter || a->npost != b->npost || a->ntasks != b->ntasks ||
	    a->ncands != b->ncands || a->multiple != b->multiple ||
	    !str_eq(a->procedure, b->procedure) || a->nsources != b->nsources ||
	    a->cyclic != b->cyclic || a->plain != b->plain || a->use_defaults != b->use_defaults ||
	    a->auto_most_supported != b->auto_most_supported || !str_eq(a->meta, b->meta))
		return false;
	for (size_t i = 0; i < a->nafter; i++)
		if (!str_eq(a->after[i], b->after[i]))
			return false;
	for (size_t i = 0; i < a->npost; i++)
		if (!str_eq(a->post[i].data, b->post[i].data) ||
		    !kn_expr_equal(a->post[i].e, b->post[i].e))
			return false;
	for (size_t i = 0; i < a->ntasks; i++)
		if (!task_equal(a->tasks[i], b->tasks[i]))
			return false;
	for (size_t i = 0; i < a->ncands; i++) {
		const struct kn_candidate *x = &a->cands[i], *y = &b->cands[i];
		if (!str_eq(x->name, y->name) || !str_eq(x->caption, y->caption) ||
		    !str_eq(x->description, y->description) || x->priority != y->priority ||
		    x->nargs != y->nargs || !kn_expr_equal(x->recommend, y->recommend) ||
		    x->auto_recommended != y->auto_recommended || !str_eq(x->meta, y->meta))
			return false;
		for (size_t j = 0; j < x->nargs; j++) {
			const struct kn_argument *p = &x->args[j], *q = &y->args[j];
			if (!str_eq(p->name, q->name) || !str_eq(p->caption, q->caption) ||
			    !str_eq(p->description, q->description) || !str_eq(p->meta, q->meta) ||
			    p->kind != q->kind || p->weight != q->weight ||
			    !kn_expr_equal(p->cond, q->cond))
				return false;
		}
	}
	for (size_t i = 0; i < a->nsources; i++)
		if (!str_eq(a->sources[i].data, b->sources[i].data) ||
		    a->sources[i].optional != b->sources[i].optional ||
		    !str_eq(a->sources[i].meta, b->sources[i].meta) ||
		    !kn_expr_equal(a->sources[i].request, b->sources[i].request))
			return false;
	return true;
}

bool lb_kn_model_equal(const struct lb_kn_model *a, const struct lb_kn_model *b)
{
	if (a->ndata != b->ndata || a->top_data != b->top_data || !task_equal(a->root, b->root))
		return false;
	for (size_t i = 0; i < a->ndata; i++) {
		const struct kn_datadef *x = &a->data[i], *y = &b->data[i];
		if (!str_eq(x->name, y->name) || !str_eq(x->caption, y->caption) ||
		    !str_eq(x->description, y->description) || x->type != y->type ||
		    x->multi != y->multi || !str_eq(x->unit, y->unit) ||
		    x->has_range != y->has_range || (x->has_range && (x->lo != y->lo ||
								       x->hi != y->hi)) ||
		    x->nallowed != y->nallowed || !kn_value_equal(&x->defval, &y->defval) ||
		    !kn_expr_equal(x->derive, y->derive) || !kn_expr_equal(x->valid, y->valid) ||
		    !kn_expr_equal(x->defcond, y->defcond) || x->nwarnings != y->nwarnings ||
		    x->range_objects != y->range_objects || !str_eq(x->owner, y->owner) ||
		    !str_eq(x->meta, y->meta) || !str_eq(x->defval_text, y->defval_text) ||
		    !str_eq(x->range_text, y->range_text) ||
		    (x->range_obj == NULL) != (y->range_obj == NULL))
			return false;
		for (size_t j = 0; j < x->nallowed; j++)
			if (!kn_value_equal(&x->allowed[j], &y->allowed[j]) ||
			    (x->range_obj != NULL && x->range_obj[j] != y->range_obj[j]) ||
			    !str_eq(kn_allowed_caption(x, j), kn_allowed_caption(y, j)))
				return false;
		for (size_t j = 0; j < x->nwarnings; j++) {
			const struct kn_warning *p = &x->warnings[j], *q = &y->warnings[j];
			if (!kn_expr_equal(p->cond, q->cond) || !str_eq(p->caption, q->caption) ||
			    !str_eq(p->description, q->description) || !str_eq(p->meta, q->meta))
				return false;
		}
	}
	return true;
}

/* ---- public entry points ----------------------------------------------------------------- */

/* Offset of the first byte that is not part of valid UTF-8 (len if all valid). */
static size_t utf8_invalid_at(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned c = p[i];
		size_t n;
		unsigned min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			min = 0x80;
			c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			min = 0x800;
			c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			min = 0x10000;
			c &= 0x07;
		} else {
			return i;
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				return i;
			c = (c << 6) | (p[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return i;
		i += n + 1;
	}
	return len;
}

int lb_kn_model_parse(const char *text, size_t len, const char *file, enum lb_kn_form form,
		      struct lb_kn_model **out, struct lb_errmsg *em)
{
	if (file == NULL)
		file = "<input>";
	if (len > LB_KN_MAX_SOURCE)
		return lb_errf(em, LB_ETOOBIG, "%s: %zu bytes; contracts are limited to %u bytes",
			       file, len, LB_KN_MAX_SOURCE);
	if (form == LB_KN_FORM_AUTO) {
		size_t i = 0;
		while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' ||
				   text[i] == '\n'))
			i++;
		form = (i < len && text[i] == '{') ? LB_KN_FORM_JSON : LB_KN_FORM_PF;
	}
	if (memchr(text, 0, len) != NULL)
		return lb_errf(em, LB_EMALFORMED, "%s: contains a NUL byte", file);
	size_t bad = utf8_invalid_at(text, len);
	if (bad < len) {
		int line = 1, col = 1;
		for (size_t i = 0; i < bad; i++) {
			if (text[i] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
				col++;
			}
		}
		return lb_errf(em, LB_EMALFORMED, "%s:%d:%d: expected UTF-8 text (invalid byte 0x%02x)",
			       file, line, col, (unsigned char)text[bad]);
	}
	return form == LB_KN_FORM_JSON ? kn_js_parse(text, len, file, out, em)
				       : kn_pf_parse(text, len, file, out, em);
}

int lb_kn_model_load(const char *path, struct lb_kn_model **out, struct lb_errmsg *em)
{
	uint8_t *data;
	size_t len;
	int rc = lb_file_read(path, LB_KN_MAX_SOURCE, &data, &len, em);
	if (rc != LB_OK)
		return rc;
	rc = lb_kn_model_parse((const char *)data, len, path, LB_KN_FORM_AUTO, out, em);
	lb_free(data);
	return rc;
}

int lb_kn_model_printable(const struct lb_kn_model *m, enum lb_kn_form form,
			  struct lb_errmsg *em)
{
	return form == LB_KN_FORM_PF ? kn_pf_printable(m, em) : LB_OK;
}

int lb_kn_model_print(const struct lb_kn_model *m, enum lb_kn_form form, char **out,
		      size_t *len)
{
	struct lb_buf b;
	lb_buf_init(&b, 8 * (size_t)LB_KN_MAX_SOURCE);
	int rc = form == LB_KN_FORM_JSON ? kn_js_print(m, &b) : kn_pf_print(m, &b);
	if (rc != LB_OK) {
		lb_buf_release(&b);
		return rc;
	}
	if (b.data == NULL && lb_buf_addc(&b, 0) == LB_OK)
		b.len = 0;
	size_t n;
	*out = (char *)lb_buf_detach(&b, &n);
	if (len != NULL)
		*len = n;
	return *out != NULL ? LB_OK : LB_ENOMEM;
}

size_t lb_kn_model_ignored(const struct lb_kn_model *m, size_t i, const char **text)
{
	if (text != NULL)
		*text = i < m->nignored ? m->ignored[i] : NULL;
	return m->nignored;
}

size_t lb_kn_model_problems(const struct lb_kn_model *m, size_t i, const char **text)
{
	if (text != NULL)
		*text = i < m->nproblems ? m->problems[i].text : NULL;
	return m->nproblems;
}
