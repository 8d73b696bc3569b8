/*
 * The PROformajs rules for users: the public face of kn_enact.c (include/leben/knowledge.h,
 * lb_kn_enactment_* and lb_kn_check_proformajs). A protocol read from the PROformajs JSON form
 * runs here by default, so what `leben contract run` and `leben contract check` do with it is
 * what tests/integration/test_knowledge_diff compares with PROformajs itself. An enactment
 * keeps the operations applied (its saved form: replaying them gives the same state); its
 * pending view is derived from the step snapshot and the model.
 * Callers: cli/cmd_contract.c (run, check), tests/integration/test_contract_proformajs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "knowledge/kn_int.h"

struct lb_kn_enactment {
	const struct lb_kn_model *m;
	struct kn_enact *e;
	json_t *ops; /* operations applied, as given (+ "error":true when refused) */
};

enum lb_kn_rules lb_kn_model_rules(const struct lb_kn_model *m)
{
	return m->js ? LB_KN_RULES_PROFORMAJS : LB_KN_RULES_LEBEN;
}

int lb_kn_rules_parse(const char *text, enum lb_kn_rules *out)
{
	if (text != NULL && strcmp(text, "proformajs") == 0)
		*out = LB_KN_RULES_PROFORMAJS;
	else if (text != NULL && strcmp(text, "leben") == 0)
		*out = LB_KN_RULES_LEBEN;
	else if (text != NULL && strcmp(text, "auto") == 0)
		*out = LB_KN_RULES_AUTO;
	else
		return LB_EUSAGE;
	return LB_OK;
}

int lb_kn_enactment_new(const struct lb_kn_model *m, struct lb_kn_enactment **out,
			struct lb_errmsg *em)
{
	if (m->nproblems > 0)
		return lb_errf(em, LB_EINVALID,
			       "contract '%s' has %zu problem%s (first: %s); run 'leben contract "
			       "check' and correct it before running it",
			       m->root->name, m->nproblems, m->nproblems == 1 ? "" : "s",
			       m->problems[0].text);
	struct lb_kn_enactment *x = lb_calloc(1, sizeof(*x));
	if (x == NULL)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	x->m = m;
	x->ops = json_array();
	int rc = x->ops ? kn_enact_new(m, &x->e, em) : lb_errf(em, LB_ENOMEM, "out of memory");
	if (rc == LB_OK && (rc = kn_enact_start(x->e, em)) != LB_OK) {
		char why[sizeof(em->text)];
		snprintf(why, sizeof(why), "%s", em->text);
		rc = lb_errf(em, LB_EINVALID,
			     "'%s' cannot start under the PROformajs rules (PROformajs stops there "
			     "too): %s",
			     m->root->name, why);
	}
	if (rc != LB_OK) {
		lb_kn_enactment_free(x);
		return rc;
	}
	*out = x;
	return LB_OK;
}

void lb_kn_enactment_free(struct lb_kn_enactment *x)
{
	if (x == NULL)
		return;
	kn_enact_free(x->e);
	json_decref(x->ops);
	lb_free(x);
}

static int apply_op(struct kn_enact *e, json_t *op, struct lb_errmsg *em)
{
	const char *k = json_string_value(json_object_get(op, "op"));
	const char *path = json_string_value(json_object_get(op, "path"));
	const char *name = json_string_value(json_object_get(op, "name"));
	if (k != NULL && strcmp(k, "trigger") == 0)
		return kn_enact_trigger(e, name, em);
	if (strcmp(k, "set") == 0)
		return kn_enact_set_all(e, path, json_object_get(op, "data"), em);
	if (strcmp(k, "unset") == 0)
		return kn_enact_unset(e, path, name, em);
	if (strcmp(k, "complete") == 0)
		return kn_enact_complete(e, path, em);
	if (strcmp(k, "cancel") == 0)
		return kn_enact_cancel(e, path, em);
	if (strcmp(k, "confirm") == 0)
		return kn_enact_confirm(e, path, true, em);
	return kn_enact_confirm(e, path, false, em); /* unconfirm */
}

/* The shape of an operation, checked before anything changes. */
static int op_check(json_t *op, struct lb_errmsg *em)
{
	static const char *const kinds[] = { "set",    "unset",	    "complete", "cancel",
					     "confirm", "unconfirm", "trigger" };
	const char *k = json_string_value(json_object_get(op, "op"));
	size_t i;
	for (i = 0; k != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(k, kinds[i]) == 0)
			break;
	if (!json_is_object(op) || k == NULL || i == sizeof(kinds) / sizeof(kinds[0]))
		return lb_errf(em, LB_EMALFORMED,
			       "an operation is {\"op\": set|unset|complete|cancel|confirm|unconfirm|"
			       "trigger, ...}; got %s",
			       k ? k : "no \"op\"");
	if (i == 6)
		return json_is_string(json_object_get(op, "name"))
			       ? LB_OK
			       : lb_errf(em, LB_EMALFORMED, "a trigger operation needs \"name\"");
	if (!json_is_string(json_object_get(op, "path")))
		return lb_errf(em, LB_EMALFORMED, "operation '%s' needs a task \"path\"", k);
	if (i == 0 && !json_is_object(json_object_get(op, "data")))
		return lb_errf(em, LB_EMALFORMED, "a set operation needs \"data\": {item: value}");
	if (i == 1 && !json_is_string(json_object_get(op, "name")))
		return lb_errf(em, LB_EMALFORMED, "an unset operation needs the item's \"name\"");
	return LB_OK;
}

int lb_kn_enactment_apply(struct lb_kn_enactment *x, const char *op_json, struct lb_errmsg *em)
{
	json_error_t je;
	json_t *op = kn_json_loadb_js(op_json, strlen(op_json), 0, &je);
	if (op == NULL)
		return lb_errf(em, LB_EMALFORMED, "operation: %s (column %d)", je.text, je.column);
	int rc = op_check(op, em);
	if (rc != LB_OK) {
		json_decref(op);
		return rc;
	}
	json_object_del(op, "error");
	rc = apply_op(x->e, op, em);
	if (rc != LB_OK)
		json_object_set_new(op, "error", json_true());
	if (json_array_append_new(x->ops, op) != 0)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	return rc;
}

static int snap(struct lb_kn_enactment *x, json_t **out, struct lb_errmsg *em)
{
	struct lb_buf b;
	lb_buf_init(&b, 256u << 20);
	int rc = lb_buf_addc(&b, '{');
	rc = rc ? rc : kn_enact_snapshot(x->e, &b);
	rc = rc ? rc : lb_buf_addc(&b, '}');
	*out = rc == LB_OK ? json_loads((const char *)b.data, 0, NULL) : NULL;
	lb_buf_release(&b);
	if (*out == NULL)
		return lb_errf(em, rc ? rc : LB_ENOMEM, "state of the enactment: %s",
			       lb_strerror(rc ? rc : LB_ENOMEM));
	return LB_OK;
}

static int dump(json_t *j, char **out, struct lb_errmsg *em)
{
	char *t = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (t == NULL)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	*out = lb_strdup(t);
	free(t);
	return *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}

int lb_kn_enactment_state(struct lb_kn_enactment *x, char **json, struct lb_errmsg *em)
{
	json_t *j;
	int rc = snap(x, &j, em);
	return rc ? rc : dump(j, json, em);
}

bool lb_kn_enactment_finished(struct lb_kn_enactment *x)
{
	json_t *j;
	struct lb_errmsg em;
	if (snap(x, &j, &em) != LB_OK)
		return false;
	bool f = json_is_true(json_object_get(j, "finished"));
	json_decref(j);
	return f;
}

int lb_kn_enactment_ops(const struct lb_kn_enactment *x, char **json, struct lb_errmsg *em)
{
	return dump(json_incref(x->ops), json, em);
}

/* The design task of a runtime path: the path without its cycle indexes. */
static int design_task(const struct lb_kn_model *m, const char *path, size_t len)
{
	char d[1024];
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < sizeof(d); i++) {
		if (path[i] == '[') {
			while (i < len && path[i] != ']')
				i++;
			continue;
		}
		d[n++] = path[i];
	}
	return kn_model_find_design(m, d, n);
}

static json_t *value_json(const struct kn_value *v)
{
	struct lb_buf b;
	lb_buf_init(&b, 1u << 20);
	json_t *j = kn_value_to_json(&b, v) == LB_OK
			    ? json_loads((const char *)b.data, JSON_DECODE_ANY, NULL)
			    : NULL;
	lb_buf_release(&b);
	return j ? j : json_null();
}

static json_t *opt_str(const char *s)
{
	return s ? json_string(kn_show_text(s)) : json_null();
}

/* A source of an in-progress enquiry as a question. PROformajs shows every source of an
 * enquiry in progress; a source is "requested" when its requestCondition holds, and the
 * enquiry cannot be completed while one is. */
static json_t *question(const struct lb_kn_model *m, const char *path, const struct kn_task *k,
			size_t i, json_t *snap)
{
	int d = k->sources[i].ref >= 0 ? k->sources[i].ref : kn_model_find_data(m, k->sources[i].data);
	if (d < 0)
		return NULL;
	const struct kn_datadef *dd = &m->data[d];
	char sp[1024];
	snprintf(sp, sizeof(sp), "%s:%s", path, dd->name);
	bool requested = false;
	json_t *v;
	size_t n;
	json_array_foreach(json_object_get(snap, "requested"), n, v)
		requested |= strcmp(json_string_value(v), sp) == 0;
	json_t *q = json_object();
	json_object_set_new(q, "path", json_string(path));
	json_object_set_new(q, "enquiry", json_string(k->name));
	json_object_set_new(q, "data", json_string(dd->name));
	json_object_set_new(q, "caption", opt_str(dd->caption ? dd->caption : dd->name));
	json_object_set_new(q, "type", json_string(kn_dtype_name(dd->type, true)));
	if (dd->unit)
		json_object_set_new(q, "unit", json_string(dd->unit));
	if (dd->nallowed > 0) {
		json_t *al = json_array();
		for (size_t a = 0; a < dd->nallowed; a++)
			json_array_append_new(al, value_json(&dd->allowed[a]));
		json_object_set_new(q, "allowed", al);
	}
	json_object_set_new(q, "multiple", json_boolean(dd->multi));
	json_object_set_new(q, "requested", json_boolean(requested));
	json_object_set_new(q, "mandatory", json_boolean(requested));
	json_t *cur = json_object_get(json_object_get(snap, "data"), dd->name);
	json_object_set_new(q, "known", json_boolean(cur != NULL && !json_is_null(cur)));
	return q;
}

int lb_kn_enactment_pending(struct lb_kn_enactment *x, char **json, struct lb_errmsg *em)
{
	static const char *const cls[] = { "plan", "decision", "action", "enquiry" };
	const struct lb_kn_model *m = x->m;
	json_t *s;
	int rc = snap(x, &s, em);
	if (rc != LB_OK)
		return rc;
	json_t *out = json_object(), *qs = json_array(), *ds = json_array(), *ts = json_array();
	json_object_set(out, "finished", json_object_get(s, "finished"));
	json_t *v;
	json_t *tasks = json_object_get(s, "tasks"), *comp = json_object_get(s, "completeable");
	json_t *cands = json_object_get(s, "candidates");
	const char *path;
	json_object_foreach(tasks, path, v) {
		int t = design_task(m, path, strlen(path));
		if (t < 0 || strcmp(json_string_value(v), "in_progress") != 0)
			continue;
		const struct kn_task *k = m->tasks[t];
		bool completeable = false;
		json_t *c;
		size_t j;
		json_array_foreach(comp, j, c)
			completeable |= strcmp(json_string_value(c), path) == 0;
		for (size_t n = 0; k->cls == KN_ENQUIRY && n < k->nsources; n++) {
			json_t *q = question(m, path, k, n, s);
			if (q != NULL)
				json_array_append_new(qs, q);
		}
		if (k->cls == KN_DECISION) {
			json_t *d = json_object(), *cl = json_array();
			json_object_set_new(d, "path", json_string(path));
			json_object_set_new(d, "name", json_string(k->name));
			json_object_set_new(d, "caption", opt_str(k->caption));
			json_object_set_new(d, "multiple", json_boolean(k->multiple));
			json_object_set_new(d, "completeable", json_boolean(completeable));
			for (size_t n = 0; n < k->ncands; n++) {
				char cp[1024];
				snprintf(cp, sizeof(cp), "%s:%s", path, k->cands[n].name);
				json_t *cv = json_object_get(cands, cp);
				json_t *co = json_object();
				json_object_set_new(co, "path", json_string(cp));
				json_object_set_new(co, "name", json_string(k->cands[n].name));
				json_object_set_new(co, "caption", opt_str(k->cands[n].caption));
				json_object_set(co, "support", cv ? json_array_get(cv, 0) : json_null());
				json_object_set_new(co, "recommended",
						    json_boolean(json_is_true(json_array_get(cv, 1))));
				json_object_set_new(co, "confirmed",
						    json_boolean(json_is_true(json_array_get(cv, 2))));
				json_array_append_new(cl, co);
			}
			json_object_set_new(d, "candidates", cl);
			json_array_append_new(ds, d);
		} else if (completeable) {
			json_t *o = json_object();
			json_object_set_new(o, "path", json_string(path));
			json_object_set_new(o, "name", json_string(k->name));
			json_object_set_new(o, "class", json_string(k->plain ? "task" : cls[k->cls]));
			json_object_set_new(o, "caption", opt_str(k->caption));
			if (k->procedure)
				json_object_set_new(o, "procedure", json_string(k->procedure));
			json_array_append_new(ts, o);
		}
	}
	json_object_set_new(out, "questions", qs);
	json_object_set_new(out, "decisions", ds);
	json_object_set_new(out, "tasks", ts);
	json_object_set(out, "triggers", json_object_get(s, "triggers"));
	json_decref(s);
	return dump(out, json, em);
}

/* ---- the verifier under the PROformajs rules ------------------------------------------------ */

#define PF_CHECK_STATES 1000 /* when no bound is given (and publication version 2's) */
#define PF_CHECK_MAX_STATES LB_KN_PJS_MAX_STATES
#define PF_CHECK_DEPTH 12     /* exploration version 1 (bounds up to LB_KN_PJS_V1_MAX_STATES) */
#define PF_CHECK_DEPTH_V2 200 /* version 2: bounds above it */

int lb_kn_check_proformajs(const struct lb_kn_model *m, const struct lb_kn_check_opts *opts,
			   char **report, size_t *failures, struct lb_errmsg *em)
{
	/* the name checks of LEBEN's verifier, stopped before it explores (its exploration
	 * follows LEBEN's rules, so its findings are left out) */
	struct lb_kn_check_opts so = { .max_states = 1 };
	char *lrep = NULL;
	size_t lf = 0;
	int rc = lb_kn_check(m, &so, &lrep, &lf, NULL, em);
	if (rc != LB_OK)
		return rc;
	json_t *lj = json_loads(lrep, 0, NULL);
	lb_free(lrep);
	size_t max = opts && opts->max_states ? opts->max_states : PF_CHECK_STATES;
	if (max > PF_CHECK_MAX_STATES)
		max = PF_CHECK_MAX_STATES;
	/* a bound above version 1's explores by value classes, deeper (docs/knowledge-language.md
	 * §10.3); bounds up to it explore exactly as before, so their reports are unchanged */
	bool v2 = max > LB_KN_PJS_V1_MAX_STATES;
	int depth = v2 ? PF_CHECK_DEPTH_V2 : PF_CHECK_DEPTH;
	struct lb_buf b;
	lb_buf_init(&b, 64u << 20);
	json_t *xj = NULL;
	char start_err[sizeof(em->text)] = "";
	struct lb_kn_enactment *x0 = NULL;
	struct lb_errmsg em0;
	lb_errclear(&em0);
	if (m->nproblems == 0 && lb_kn_enactment_new(m, &x0, &em0) != LB_OK)
		snprintf(start_err, sizeof(start_err), "%s", em0.text);
	lb_kn_enactment_free(x0);
	if (lj == NULL) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
	} else if (m->nproblems == 0 && start_err[0] == 0) {
		rc = kn_enact_explore(m, max, depth, v2, &b, em);
		if (rc == LB_OK && (xj = json_loads((const char *)b.data, 0, NULL)) == NULL)
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
	}
	lb_buf_release(&b);
	if (rc != LB_OK) {
		json_decref(lj);
		return rc;
	}
	json_t *fs = json_array(), *f;
	size_t i;
	json_array_foreach(json_object_get(lj, "findings"), i, f) {
		const char *k = json_string_value(json_object_get(f, "kind"));
		/* names that do not resolve; LEBEN's type and satisfiability checks follow its
		 * three-valued logic, not JavaScript's coercions, so they do not apply here */
		if (k != NULL && strcmp(k, "undefined") == 0)
			json_array_append(fs, f);
	}
	bool complete = xj != NULL && json_is_true(json_object_get(xj, "complete"));
	json_array_foreach(xj ? json_object_get(xj, "findings") : NULL, i, f) {
		const char *k = json_string_value(json_object_get(f, "kind"));
		json_t *o = json_object();
		json_object_set_new(o, "kind", json_string(k));
		if (strcmp(k, "unreachable") == 0) {
			json_object_set(o, "task", json_object_get(f, "task"));
			char msg[512];
			snprintf(msg, sizeof(msg),
				 "task '%s' is never in progress on any run under the PROformajs rules",
				 json_string_value(json_object_get(f, "task")));
			json_object_set_new(o, "message", json_string(msg));
		} else {
			json_object_set_new(o, "task", json_null());
			json_object_set_new(o, "message",
					    json_string("the pathway is not finished and no answer, "
							"completion, confirmation or trigger moves it "
							"(PROformajs rules); the operations in \"trace\" "
							"lead there"));
			json_object_set(o, "trace", json_object_get(f, "ops"));
		}
		json_array_append_new(fs, o);
	}
	if (start_err[0] != 0) {
		/* PROformajs throws while starting it: nothing to explore */
		json_array_append_new(fs, json_pack("{s:s,s:n,s:s,s:[]}", "kind", "error", "task",
						    "message", start_err, "trace"));
	} else if (m->nproblems == 0 && !complete) {
		char msg[512];
		snprintf(msg, sizeof(msg),
			 "exploration under the PROformajs rules stopped at %zu states or %d "
			 "operations deep; results are incomplete (--max-states raises the first, up "
			 "to %d; contract publish raises it by itself)",
			 max, depth, PF_CHECK_MAX_STATES);
		json_array_append_new(fs, json_pack("{s:s,s:n,s:s}", "kind", "limit", "task",
						    "message", msg));
	}
	json_t *r = json_object();
	json_object_set(r, "model", json_object_get(lj, "model"));
	json_object_set_new(r, "rules", json_string("proformajs"));
	json_object_set_new(r, "ok", json_boolean(json_array_size(fs) == 0));
	json_object_set_new(r, "complete", json_boolean(complete));
	json_object_set_new(r, "states", json_integer(json_integer_value(json_object_get(xj, "states"))));
	json_t *bj = json_pack("{s:I,s:i}", "max_states", (json_int_t)max, "max_depth", depth);
	if (v2)
		json_object_set_new(bj, "values", json_string("classes"));
	json_object_set_new(r, "bounds", bj);
	json_object_set_new(r, "findings", fs);
	*failures = json_array_size(fs);
	json_decref(lj);
	json_decref(xj);
	char *t = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(r);
	if (t == NULL)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	size_t n = strlen(t);
	*report = lb_malloc(n + 2);
	if (*report != NULL) {
		memcpy(*report, t, n);
		memcpy(*report + n, "\n", 2);
	}
	free(t);
	return *report ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}
