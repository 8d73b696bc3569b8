/*
 * The PROformajs JSON form of a contract: objects with `class`, `name`, `tasks`,
 * `dataDefinitions`, `candidates`, `arguments`, `sources` and conditions written in the C-like
 * expression syntax. Parsed with jansson; errors name file:line:column, found by walking the
 * raw text along the JSON path of the offending value. Keys this module does not know (layout
 * hints of editors) are ignored. The printer emits the canonical JSON form.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "knowledge/kn_int.h"

#define MAX_PATH 64

struct jp {
	const char *file;
	const char *text;
	size_t len;
	struct lb_errmsg *em;
	struct lb_kn_model *m;
	const char *path_key[MAX_PATH]; /* key at each level, or NULL for an array index */
	size_t path_idx[MAX_PATH];
	int depth;
};

/* ---- locating a JSON path in the raw text --------------------------------------------- */

struct scan {
	const char *p, *end;
};

static void sp(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* Skip one string; on return p is past the closing quote. */
static void skip_str(struct scan *s)
{
	s->p++;
	while (s->p < s->end && *s->p != '"') {
		if (*s->p == '\\')
			s->p++;
		s->p++;
	}
	if (s->p < s->end)
		s->p++;
}

static void skip_value(struct scan *s, int depth)
{
	sp(s);
	if (s->p >= s->end || depth > 200)
		return;
	if (*s->p == '"') {
		skip_str(s);
	} else if (*s->p == '{' || *s->p == '[') {
		char close = *s->p == '{' ? '}' : ']';
		s->p++;
		for (;;) {
			sp(s);
			if (s->p >= s->end)
				return;
			if (*s->p == close) {
				s->p++;
				return;
			}
			if (*s->p == ',') {
				s->p++;
				continue;
			}
			if (close == '}') {
				skip_str(s);
				sp(s);
				if (s->p < s->end && *s->p == ':')
					s->p++;
			}
			skip_value(s, depth + 1);
		}
	} else {
		while (s->p < s->end && strchr(",}] \t\r\n", *s->p) == NULL)
			s->p++;
	}
}

/* Offset of the value at the path, or of the closest enclosing value found. */
static size_t locate(const struct jp *j)
{
	struct scan s = { j->text, j->text + j->len };
	sp(&s);
	for (int d = 0; d < j->depth; d++) {
		const char *here = s.p;
		if (s.p >= s.end)
			return (size_t)(here - j->text);
		if (j->path_key[d] != NULL && *s.p == '{') {
			s.p++;
			bool found = false;
			while (!found) {
				sp(&s);
				if (s.p >= s.end || *s.p == '}')
					return (size_t)(here - j->text);
				if (*s.p == ',') {
					s.p++;
					continue;
				}
				const char *k = s.p + 1;
				skip_str(&s);
				size_t kn = (size_t)(s.p - k - 1);
				sp(&s);
				if (s.p < s.end && *s.p == ':')
					s.p++;
				sp(&s);
				if (kn == strlen(j->path_key[d]) && memcmp(k, j->path_key[d], kn) == 0)
					found = true;
				else
					skip_value(&s, 0);
			}
		} else if (j->path_key[d] == NULL && *s.p == '[') {
			s.p++;
			for (size_t i = 0;; i++) {
				sp(&s);
				if (s.p >= s.end || *s.p == ']')
					return (size_t)(here - j->text);
				if (i == j->path_idx[d])
					break;
				skip_value(&s, 0);
				sp(&s);
				if (s.p < s.end && *s.p == ',')
					s.p++;
			}
		} else {
			return (size_t)(here - j->text);
		}
	}
	sp(&s);
	return (size_t)(s.p - j->text);
}

static void line_col(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int jerr(struct jp *j, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int jerr(struct jp *j, int code, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int line, col;
	line_col(j->text, locate(j), &line, &col);
	return lb_errf(j->em, code, "%s:%d:%d: %s", j->file, line, col, msg);
}

static int push_key(struct jp *j, const char *k)
{
	if (j->depth >= MAX_PATH)
		return lb_errf(j->em, LB_ELIMIT, "%s: nested more than %d levels", j->file, MAX_PATH);
	j->path_key[j->depth] = k;
	j->path_idx[j->depth] = 0;
	j->depth++;
	return LB_OK;
}

static int push_idx(struct jp *j, size_t i)
{
	if (j->depth >= MAX_PATH)
		return lb_errf(j->em, LB_ELIMIT, "%s: nested more than %d levels", j->file, MAX_PATH);
	j->path_key[j->depth] = NULL;
	j->path_idx[j->depth] = i;
	j->depth++;
	return LB_OK;
}

/* ---- field readers ------------------------------------------------------------------------ */

static int get_str(struct jp *j, json_t *o, const char *k, char **out, bool required)
{
	json_t *v = json_object_get(o, k);
	if (v == NULL) {
		if (required)
			return jerr(j, LB_ESYNTAX, "expected a \"%s\" string in this object", k);
		return LB_OK;
	}
	int rc = push_key(j, k);
	if (rc != LB_OK)
		return rc;
	if (!json_is_string(v))
		return jerr(j, LB_ESYNTAX, "expected a string for \"%s\"", k);
	if ((*out = lb_strdup(json_string_value(v))) == NULL)
		return lb_errf(j->em, LB_ENOMEM, "out of memory");
	j->depth--;
	return LB_OK;
}

static int get_name(struct jp *j, json_t *o, const char *k, char **out)
{
	int rc = get_str(j, o, k, out, true);
	if (rc != LB_OK)
		return rc;
	const char *s = *out;
	bool ok = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_';
	for (const char *p = s; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
		     (*p >= '0' && *p <= '9');
	if (!ok || strlen(s) > 120) {
		push_key(j, k);
		return jerr(j, LB_ESYNTAX,
			    "expected a name (letters, digits, '_', not starting with a digit, at most "
			    "120 characters) for \"%s\", found \"%.40s\"",
			    k, s);
	}
	return LB_OK;
}

static int get_bool(struct jp *j, json_t *o, const char *k, bool *out)
{
	json_t *v = json_object_get(o, k);
	if (v == NULL)
		return LB_OK;
	if (!json_is_boolean(v)) {
		push_key(j, k);
		return jerr(j, LB_ESYNTAX, "expected true or false for \"%s\"", k);
	}
	*out = json_is_true(v);
	return LB_OK;
}

static int get_int(struct jp *j, json_t *o, const char *k, int64_t *out, int64_t lo, int64_t hi)
{
	json_t *v = json_object_get(o, k);
	if (v == NULL)
		return LB_OK;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		push_key(j, k);
		return jerr(j, LB_ESYNTAX, "expected a whole number %lld..%lld for \"%s\"",
			    (long long)lo, (long long)hi, k);
	}
	*out = json_integer_value(v);
	return LB_OK;
}

static int get_expr(struct jp *j, json_t *o, const char *k, struct kn_expr **out)
{
	json_t *v = json_object_get(o, k);
	if (v == NULL)
		return LB_OK;
	int rc = push_key(j, k);
	if (rc != LB_OK)
		return rc;
	if (!json_is_string(v))
		return jerr(j, LB_ESYNTAX, "expected an expression string for \"%s\"", k);
	int line, col;
	line_col(j->text, locate(j), &line, &col);
	struct lb_errmsg sub;
	lb_errclear(&sub);
	/* positions inside the string are reported relative to its opening quote */
	rc = kn_expr_parse(json_string_value(v), json_string_length(v), line, col + 1, out, &sub);
	if (rc != LB_OK)
		return lb_errf(j->em, rc, "%s:%s (in \"%s\")", j->file, sub.text, k);
	j->depth--;
	return LB_OK;
}

static int json_to_lit(struct jp *j, json_t *v, const struct kn_datadef *d, struct kn_value *out)
{
	memset(out, 0, sizeof(*out));
	switch (d->type) {
	case KN_T_BOOLEAN:
		if (!json_is_boolean(v))
			return jerr(j, LB_ETYPE, "expected true or false (item '%s' is boolean)",
				    d->name);
		out->t = KN_V_BOOL;
		out->u.b = json_is_true(v);
		return LB_OK;
	case KN_T_INTEGER:
		if (!json_is_integer(v))
			return jerr(j, LB_ETYPE, "expected a whole number (item '%s' is integer)",
				    d->name);
		out->t = KN_V_INT;
		out->u.i = json_integer_value(v);
		return LB_OK;
	case KN_T_REAL:
		if (!json_is_number(v))
			return jerr(j, LB_ETYPE, "expected a number (item '%s' is real)", d->name);
		out->t = KN_V_REAL;
		out->u.r = json_number_value(v);
		return LB_OK;
	case KN_T_TEXT:
		if (!json_is_string(v))
			return jerr(j, LB_ETYPE, "expected a string (item '%s' is text)", d->name);
		out->t = KN_V_TEXT;
		if ((out->u.s = lb_strdup(json_string_value(v))) == NULL)
			return lb_errf(j->em, LB_ENOMEM, "out of memory");
		return LB_OK;
	case KN_T_DATE:
		if (!json_is_string(v) || !kn_date_parse(json_string_value(v), &out->u.i))
			return jerr(j, LB_ETYPE, "expected a date \"YYYY-MM-DD\" (item '%s')",
				    d->name);
		out->t = KN_V_DATE;
		return LB_OK;
	}
	return LB_EINTERNAL;
}

static int parse_data(struct jp *j, json_t *o, struct kn_datadef *d)
{
	int rc;
	if (!json_is_object(o))
		return jerr(j, LB_ESYNTAX, "expected a data definition object");
	const char *cls = json_string_value(json_object_get(o, "class"));
	d->type = -1;
	for (int t = 0; cls != NULL && t < 5; t++)
		if (strcmp(cls, kn_dtype_name(t, true)) == 0)
			d->type = t;
	if (d->type < 0) {
		push_key(j, "class");
		return jerr(j, LB_ESYNTAX,
			    "expected \"class\": \"Boolean\", \"Integer\", \"Float\", \"Text\" or "
			    "\"Date\" for a data definition");
	}
	int line, col;
	line_col(j->text, locate(j), &line, &col);
	d->line = line;
	d->col = col;
	if ((rc = get_name(j, o, "name", &d->name)) != LB_OK ||
	    (rc = get_str(j, o, "caption", &d->caption, false)) != LB_OK ||
	    (rc = get_str(j, o, "description", &d->description, false)) != LB_OK ||
	    (rc = get_str(j, o, "unit", &d->unit, false)) != LB_OK ||
	    (rc = get_bool(j, o, "multiValued", &d->multi)) != LB_OK ||
	    (rc = get_expr(j, o, "derivation", &d->derive)) != LB_OK ||
	    (rc = get_expr(j, o, "valueCondition", &d->valid)) != LB_OK ||
	    (rc = get_expr(j, o, "warningCondition", &d->warning)) != LB_OK ||
	    (rc = get_str(j, o, "warningText", &d->warning_text, false)) != LB_OK)
		return rc;
	json_t *r = json_object_get(o, "range");
	if (r != NULL) {
		push_key(j, "range");
		if (!json_is_array(r))
			return jerr(j, LB_ESYNTAX, "expected an array for \"range\"");
		if (d->type == KN_T_INTEGER || d->type == KN_T_REAL) {
			if (json_array_size(r) != 2 || !json_is_number(json_array_get(r, 0)) ||
			    !json_is_number(json_array_get(r, 1)))
				return jerr(j, LB_ESYNTAX,
					    "expected [lowest, highest] numbers for the range of a "
					    "numeric item");
			d->has_range = true;
			d->lo = json_number_value(json_array_get(r, 0));
			d->hi = json_number_value(json_array_get(r, 1));
		} else {
			size_t n = json_array_size(r);
			if ((d->allowed = lb_calloc(n ? n : 1, sizeof(*d->allowed))) == NULL)
				return lb_errf(j->em, LB_ENOMEM, "out of memory");
			for (size_t i = 0; i < n; i++) {
				push_idx(j, i);
				if ((rc = json_to_lit(j, json_array_get(r, i), d,
						      &d->allowed[i])) != LB_OK)
					return rc;
				d->nallowed++;
				j->depth--;
			}
		}
		j->depth--;
	}
	json_t *dv = json_object_get(o, "defaultValue");
	if (dv != NULL) {
		push_key(j, "defaultValue");
		if (d->multi) {
			if (!json_is_array(dv))
				return jerr(j, LB_ETYPE, "expected an array (item '%s' is multi-valued)",
					    d->name);
			size_t n = json_array_size(dv);
			d->defval.t = KN_V_SET;
			if ((d->defval.u.set.v = lb_calloc(n ? n : 1, sizeof(struct kn_value))) == NULL)
				return lb_errf(j->em, LB_ENOMEM, "out of memory");
			for (size_t i = 0; i < n; i++) {
				push_idx(j, i);
				if ((rc = json_to_lit(j, json_array_get(dv, i), d,
						      &d->defval.u.set.v[i])) != LB_OK)
					return rc;
				d->defval.u.set.n++;
				j->depth--;
			}
		} else if ((rc = json_to_lit(j, dv, d, &d->defval)) != LB_OK) {
			return rc;
		}
		j->depth--;
	}
	return LB_OK;
}

static int parse_task(struct jp *j, json_t *o, struct kn_task **out);

static int parse_array(struct jp *j, json_t *o, const char *k, json_t **arr)
{
	*arr = json_object_get(o, k);
	if (*arr != NULL && !json_is_array(*arr)) {
		push_key(j, k);
		return jerr(j, LB_ESYNTAX, "expected an array for \"%s\"", k);
	}
	return LB_OK;
}

static int parse_candidate(struct jp *j, json_t *o, struct kn_candidate *c)
{
	int rc;
	int64_t prio = 0;
	json_t *args;
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "class")) ||
	    strcmp(json_string_value(json_object_get(o, "class")), "Candidate") != 0)
		return jerr(j, LB_ESYNTAX, "expected an object with \"class\": \"Candidate\"");
	if ((rc = get_name(j, o, "name", &c->name)) != LB_OK ||
	    (rc = get_str(j, o, "caption", &c->caption, false)) != LB_OK ||
	    (rc = get_str(j, o, "description", &c->description, false)) != LB_OK ||
	    (rc = get_int(j, o, "priority", &prio, -1000000, 1000000)) != LB_OK ||
	    (rc = get_expr(j, o, "recommendCondition", &c->recommend)) != LB_OK ||
	    (rc = parse_array(j, o, "arguments", &args)) != LB_OK)
		return rc;
	c->priority = (int)prio;
	size_t n = args ? json_array_size(args) : 0;
	if (n > 0 && (c->args = lb_calloc(n, sizeof(*c->args))) == NULL)
		return lb_errf(j->em, LB_ENOMEM, "out of memory");
	push_key(j, "arguments");
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_array_get(args, i);
		struct kn_argument *g = &c->args[i];
		push_idx(j, i);
		if (!json_is_object(a) || !json_is_string(json_object_get(a, "class")) ||
		    strcmp(json_string_value(json_object_get(a, "class")), "Argument") != 0)
			return jerr(j, LB_ESYNTAX, "expected an object with \"class\": \"Argument\"");
		c->nargs++;
		if ((json_object_get(a, "name") != NULL &&
		     (rc = get_name(j, a, "name", &g->name)) != LB_OK) ||
		    (rc = get_str(j, a, "caption", &g->caption, false)) != LB_OK ||
		    (rc = get_expr(j, a, "activeCondition", &g->cond)) != LB_OK)
			return rc;
		json_t *s = json_object_get(a, "support");
		const char *ss = json_string_value(s);
		if (json_is_number(s) && isfinite(json_number_value(s))) {
			g->kind = KN_SUP_WEIGHT;
			g->weight = json_number_value(s);
		} else if (ss != NULL && strcmp(ss, "+") == 0) {
			g->kind = KN_SUP_FOR;
		} else if (ss != NULL && strcmp(ss, "-") == 0) {
			g->kind = KN_SUP_AGAINST;
		} else if (ss != NULL && strcmp(ss, "++") == 0) {
			g->kind = KN_SUP_CONFIRMING;
		} else if (ss != NULL && strcmp(ss, "--") == 0) {
			g->kind = KN_SUP_EXCLUDING;
		} else {
			if (s != NULL)
				push_key(j, "support");
			return jerr(j, LB_ESYNTAX,
				    "expected \"support\": a number, \"+\" (for), \"-\" (against), "
				    "\"++\" (confirming) or \"--\" (excluding)");
		}
		j->depth--;
	}
	j->depth--;
	return LB_OK;
}

static int parse_task(struct jp *j, json_t *o, struct kn_task **out)
{
	int rc;
	json_t *arr;
	if (!json_is_object(o))
		return jerr(j, LB_ESYNTAX, "expected a task object");
	struct kn_task *t = lb_calloc(1, sizeof(*t));
	if (t == NULL)
		return lb_errf(j->em, LB_ENOMEM, "out of memory");
	*out = t;
	const char *cls = json_string_value(json_object_get(o, "class"));
	t->cls = -1;
	for (int c = 0; cls != NULL && c < 4; c++)
		if (strcmp(cls, kn_class_name(c, true)) == 0)
			t->cls = c;
	if (t->cls < 0) {
		if (cls != NULL)
			push_key(j, "class");
		return jerr(j, LB_ESYNTAX,
			    "expected \"class\": \"Plan\", \"Decision\", \"Action\" or \"Enquiry\"");
	}
	int64_t prio = 0;
	if ((rc = get_name(j, o, "name", &t->name)) != LB_OK ||
	    (rc = get_str(j, o, "caption", &t->caption, false)) != LB_OK ||
	    (rc = get_str(j, o, "description", &t->description, false)) != LB_OK ||
	    (rc = get_expr(j, o, "preCondition", &t->pre)) != LB_OK ||
	    (rc = get_expr(j, o, "waitCondition", &t->wait)) != LB_OK ||
	    (rc = get_expr(j, o, "terminateCondition", &t->terminate)) != LB_OK ||
	    (rc = get_expr(j, o, "abortCondition", &t->abort)) != LB_OK ||
	    (rc = get_expr(j, o, "cycleUntil", &t->cycle_until)) != LB_OK ||
	    (rc = get_int(j, o, "cycles", &t->cycles, 1, 1000000)) != LB_OK ||
	    (rc = get_int(j, o, "interval", &t->interval, 0, 36500)) != LB_OK ||
	    (rc = get_str(j, o, "trigger", &t->trigger, false)) != LB_OK ||
	    (rc = get_bool(j, o, "autonomous", &t->autonomous)) != LB_OK ||
	    (rc = get_bool(j, o, "optional", &t->optional)) != LB_OK ||
	    (rc = get_int(j, o, "priority", &prio, -1000000, 1000000)) != LB_OK)
		return rc;
	t->priority = (int)prio;
	if ((rc = parse_array(j, o, "antecedents", &arr)) != LB_OK)
		return rc;
	size_t n = arr ? json_array_size(arr) : 0;
	if (n > 0 && (t->after = lb_calloc(n, sizeof(char *))) == NULL)
		return lb_errf(j->em, LB_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		if (s == NULL) {
			push_key(j, "antecedents");
			push_idx(j, i);
			return jerr(j, LB_ESYNTAX, "expected a task name string");
		}
		if ((t->after[i] = lb_strdup(s)) == NULL)
			return lb_errf(j->em, LB_ENOMEM, "out of memory");
		t->nafter++;
	}
	if ((rc = parse_array(j, o, "postAssignments", &arr)) != LB_OK)
		return rc;
	n = arr ? json_array_size(arr) : 0;
	if (n > 0 && (t->post = lb_calloc(n, sizeof(*t->post))) == NULL)
		return lb_errf(j->em, LB_ENOMEM, "out of memory");
	push_key(j, "postAssignments");
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_array_get(arr, i);
		push_idx(j, i);
		if (!json_is_object(a))
			return jerr(j, LB_ESYNTAX, "expected {\"data\": name, \"value\": expression}");
		t->npost++;
		if ((rc = get_name(j, a, "data", &t->post[i].data)) != LB_OK ||
		    (rc = get_expr(j, a, "value", &t->post[i].e)) != LB_OK)
			return rc;
		if (t->post[i].e == NULL)
			return jerr(j, LB_ESYNTAX, "expected a \"value\" expression");
		j->depth--;
	}
	j->depth--;
	const char *mode = NULL;
	if (t->cls == KN_DECISION && (mode = json_string_value(json_object_get(o, "choiceMode")))) {
		if (strcmp(mode, "multiple") == 0)
			t->multiple = true;
		else if (strcmp(mode, "single") != 0) {
			push_key(j, "choiceMode");
			return jerr(j, LB_ESYNTAX, "expected \"single\" or \"multiple\"");
		}
	}
	if (t->cls == KN_ACTION && (rc = get_str(j, o, "procedure", &t->procedure, false)))
		return rc;
	if (t->cls == KN_PLAN) {
		if ((rc = parse_array(j, o, "tasks", &arr)) != LB_OK)
			return rc;
		n = arr ? json_array_size(arr) : 0;
		if (n > 0 && (t->tasks = lb_calloc(n, sizeof(*t->tasks))) == NULL)
			return lb_errf(j->em, LB_ENOMEM, "out of memory");
		push_key(j, "tasks");
		for (size_t i = 0; i < n; i++) {
			push_idx(j, i);
			rc = parse_task(j, json_array_get(arr, i), &t->tasks[i]);
			if (t->tasks[i] != NULL)
				t->ntasks++;
			if (rc != LB_OK)
				return rc;
			j->depth--;
		}
		j->depth--;
	}
	if (t->cls == KN_DECISION) {
		if ((rc = parse_array(j, o, "candidates", &arr)) != LB_OK)
			return rc;
		n = arr ? json_array_size(arr) : 0;
		if (n > 0 && (t->cands = lb_calloc(n, sizeof(*t->cands))) == NULL)
			return lb_errf(j->em, LB_ENOMEM, "out of memory");
		push_key(j, "candidates");
		for (size_t i = 0; i < n; i++) {
			push_idx(j, i);
			t->ncands++;
			if ((rc = parse_candidate(j, json_array_get(arr, i), &t->cands[i])) != LB_OK)
				return rc;
			j->depth--;
		}
		j->depth--;
	}
	if (t->cls == KN_ENQUIRY) {
		if ((rc = parse_array(j, o, "sources", &arr)) != LB_OK)
			return rc;
		n = arr ? json_array_size(arr) : 0;
		if (n > 0 && (t->sources = lb_calloc(n, sizeof(*t->sources))) == NULL)
			return lb_errf(j->em, LB_ENOMEM, "out of memory");
		push_key(j, "sources");
		for (size_t i = 0; i < n; i++) {
			json_t *s = json_array_get(arr, i);
			push_idx(j, i);
			if (!json_is_object(s))
				return jerr(j, LB_ESYNTAX, "expected a source object");
			t->nsources++;
			if ((rc = get_name(j, s, "type", &t->sources[i].data)) != LB_OK ||
			    (rc = get_bool(j, s, "optional", &t->sources[i].optional)) != LB_OK ||
			    (rc = get_expr(j, s, "requestCondition", &t->sources[i].request)))
				return rc;
			j->depth--;
		}
		j->depth--;
	}
	return LB_OK;
}

int kn_js_parse(const char *text, size_t len, const char *file, struct lb_kn_model **out,
		struct lb_errmsg *em)
{
	int rc;
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return lb_errf(em, LB_ESYNTAX, "%s:%d:%d: %s", file, je.line, je.column, je.text);
	struct jp j = { .file = file, .text = text, .len = len, .em = em };
	if ((j.m = lb_calloc(1, sizeof(*j.m))) == NULL) {
		json_decref(root);
		return lb_errf(em, LB_ENOMEM, "out of memory");
	}
	if (!json_is_object(root)) {
		rc = jerr(&j, LB_ESYNTAX, "expected a Plan object at the top level");
		goto err;
	}
	json_t *dd;
	if ((rc = parse_array(&j, root, "dataDefinitions", &dd)) != LB_OK)
		goto err;
	size_t n = dd ? json_array_size(dd) : 0;
	if (n > 0 && (j.m->data = lb_calloc(n, sizeof(*j.m->data))) == NULL) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto err;
	}
	push_key(&j, "dataDefinitions");
	for (size_t i = 0; i < n; i++) {
		push_idx(&j, i);
		j.m->ndata++;
		if ((rc = parse_data(&j, json_array_get(dd, i), &j.m->data[i])) != LB_OK)
			goto err;
		j.depth--;
	}
	j.depth--;
	if ((rc = parse_task(&j, root, &j.m->root)) != LB_OK)
		goto err;
	if ((rc = kn_model_resolve(j.m, file, em)) != LB_OK)
		goto err;
	json_decref(root);
	*out = j.m;
	return LB_OK;
err:
	json_decref(root);
	lb_kn_model_free(j.m);
	return rc;
}

/* ---- printer ------------------------------------------------------------------------------ */

static json_t *expr_json(const struct kn_expr *e)
{
	struct lb_buf b;
	lb_buf_init(&b, LB_KN_MAX_SOURCE);
	if (kn_expr_print(&b, e, KN_STYLE_JS) != LB_OK) {
		lb_buf_release(&b);
		return NULL;
	}
	json_t *s = json_stringn((const char *)b.data, b.len);
	lb_buf_release(&b);
	return s;
}

static json_t *lit_json(const struct kn_value *v)
{
	char d[24];
	switch (v->t) {
	case KN_V_BOOL:
		return json_boolean(v->u.b);
	case KN_V_INT:
		return json_integer(v->u.i);
	case KN_V_REAL:
		return json_real(v->u.r);
	case KN_V_TEXT:
		return json_string(v->u.s);
	case KN_V_DATE:
		kn_date_to_string(v->u.i, d);
		return json_string(d);
	case KN_V_SET: {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < v->u.set.n; i++)
			json_array_append_new(a, lit_json(&v->u.set.v[i]));
		return a;
	}
	default:
		return json_null();
	}
}

static json_t *num_json(double r)
{
	if (r == floor(r) && fabs(r) < 1e15)
		return json_integer((json_int_t)r);
	return json_real(r);
}

/* Sets key only when value is non-NULL; a NULL from a failed allocation marks *bad. */
static void put(json_t *o, const char *k, json_t *v, bool *bad)
{
	if (v == NULL || json_object_set_new(o, k, v) != 0)
		*bad = true;
}

static void put_str(json_t *o, const char *k, const char *s, bool *bad)
{
	if (s != NULL)
		put(o, k, json_string(s), bad);
}

static void put_expr(json_t *o, const char *k, const struct kn_expr *e, bool *bad)
{
	if (e != NULL)
		put(o, k, expr_json(e), bad);
}

static json_t *task_json(const struct kn_task *t, bool *bad)
{
	json_t *o = json_object();
	if (o == NULL) {
		*bad = true;
		return NULL;
	}
	put(o, "class", json_string(kn_class_name(t->cls, true)), bad);
	put_str(o, "name", t->name, bad);
	put_str(o, "caption", t->caption, bad);
	put_str(o, "description", t->description, bad);
	if (t->nafter > 0) {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < t->nafter; i++)
			json_array_append_new(a, json_string(t->after[i]));
		put(o, "antecedents", a, bad);
	}
	if (t->optional)
		put(o, "optional", json_true(), bad);
	if (t->autonomous)
		put(o, "autonomous", json_true(), bad);
	if (t->priority != 0)
		put(o, "priority", json_integer(t->priority), bad);
	put_str(o, "trigger", t->trigger, bad);
	put_expr(o, "preCondition", t->pre, bad);
	put_expr(o, "waitCondition", t->wait, bad);
	put_expr(o, "terminateCondition", t->terminate, bad);
	put_expr(o, "abortCondition", t->abort, bad);
	put_expr(o, "cycleUntil", t->cycle_until, bad);
	if (t->cycles != 0)
		put(o, "cycles", json_integer(t->cycles), bad);
	if (t->interval != 0)
		put(o, "interval", json_integer(t->interval), bad);
	if (t->npost > 0) {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < t->npost; i++) {
			json_t *p = json_object();
			put_str(p, "data", t->post[i].data, bad);
			put_expr(p, "value", t->post[i].e, bad);
			json_array_append_new(a, p);
		}
		put(o, "postAssignments", a, bad);
	}
	if (t->cls == KN_DECISION)
		put(o, "choiceMode", json_string(t->multiple ? "multiple" : "single"), bad);
	put_str(o, "procedure", t->procedure, bad);
	if (t->cls == KN_ENQUIRY) {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < t->nsources; i++) {
			const struct kn_source *s = &t->sources[i];
			json_t *so = json_object();
			put(so, "class", json_string("Source"), bad);
			put_str(so, "type", s->data, bad);
			if (s->optional)
				put(so, "optional", json_true(), bad);
			put_expr(so, "requestCondition", s->request, bad);
			json_array_append_new(a, so);
		}
		put(o, "sources", a, bad);
	}
	if (t->cls == KN_DECISION) {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < t->ncands; i++) {
			const struct kn_candidate *c = &t->cands[i];
			json_t *co = json_object();
			put(co, "class", json_string("Candidate"), bad);
			put_str(co, "name", c->name, bad);
			put_str(co, "caption", c->caption, bad);
			put_str(co, "description", c->description, bad);
			if (c->priority != 0)
				put(co, "priority", json_integer(c->priority), bad);
			json_t *args = json_array();
			for (size_t k = 0; args != NULL && k < c->nargs; k++) {
				const struct kn_argument *g = &c->args[k];
				static const char *const sym[] = { "", "+", "-", "++", "--" };
				json_t *ao = json_object();
				put(ao, "class", json_string("Argument"), bad);
				put_str(ao, "name", g->name, bad);
				put_str(ao, "caption", g->caption, bad);
				put(ao, "support", g->kind == KN_SUP_WEIGHT ? num_json(g->weight)
									 : json_string(sym[g->kind]),
				    bad);
				put_expr(ao, "activeCondition", g->cond, bad);
				json_array_append_new(args, ao);
			}
			put(co, "arguments", args, bad);
			put_expr(co, "recommendCondition", c->recommend, bad);
			json_array_append_new(a, co);
		}
		put(o, "candidates", a, bad);
	}
	if (t->cls == KN_PLAN) {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < t->ntasks; i++)
			json_array_append_new(a, task_json(t->tasks[i], bad));
		put(o, "tasks", a, bad);
	}
	return o;
}

int kn_js_print(const struct lb_kn_model *m, struct lb_buf *b)
{
	bool bad = false;
	json_t *root = task_json(m->root, &bad);
	if (root == NULL)
		return LB_ENOMEM;
	json_t *dd = json_array();
	for (size_t i = 0; dd != NULL && i < m->ndata; i++) {
		const struct kn_datadef *d = &m->data[i];
		json_t *o = json_object();
		put(o, "class", json_string(kn_dtype_name(d->type, true)), &bad);
		put_str(o, "name", d->name, &bad);
		put_str(o, "caption", d->caption, &bad);
		put_str(o, "description", d->description, &bad);
		put_str(o, "unit", d->unit, &bad);
		if (d->multi)
			put(o, "multiValued", json_true(), &bad);
		if (d->has_range) {
			json_t *r = json_array();
			json_array_append_new(r, num_json(d->lo));
			json_array_append_new(r, num_json(d->hi));
			put(o, "range", r, &bad);
		} else if (d->nallowed > 0) {
			json_t *r = json_array();
			for (size_t k = 0; r != NULL && k < d->nallowed; k++)
				json_array_append_new(r, lit_json(&d->allowed[k]));
			put(o, "range", r, &bad);
		}
		if (d->defval.t != KN_V_UNKNOWN)
			put(o, "defaultValue", lit_json(&d->defval), &bad);
		put_expr(o, "derivation", d->derive, &bad);
		put_expr(o, "valueCondition", d->valid, &bad);
		put_expr(o, "warningCondition", d->warning, &bad);
		put_str(o, "warningText", d->warning_text, &bad);
		json_array_append_new(dd, o);
	}
	put(root, "dataDefinitions", dd, &bad);
	char *s = bad ? NULL : json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
	json_decref(root);
	if (s == NULL)
		return LB_ENOMEM;
	int rc = lb_buf_adds(b, s);
	rc = rc != LB_OK ? rc : lb_buf_addc(b, '\n');
	free(s);
	return rc;
}
