/*
 * The JSON form of a contract: the protocol format of the PROformajs engine, attribute for
 * attribute (tasks with their dataDefinitions, sources, candidates, arguments, warnings,
 * `meta` everywhere), expressions in its JavaScript subset. Parsed with jansson, attributes
 * read as PROformajs reads them, then validated as PROformajs validates (kn_js_validate);
 * errors name file:line:column, found by walking the raw text along the JSON path of the
 * offending value, or the element. LEBEN-only attributes are written as extra keys that
 * PROformajs ignores. Keys neither defines are dropped.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "knowledge/kn_int.h"

#define MAX_PATH 1024 /* JSON levels (about 500 nested plans; jansson reads 2048) */

struct jp {
	const char *file;
	const char *text;
	size_t len;
	struct lb_errmsg *em;
	struct lb_kn_model *m;
	const char *path_key[MAX_PATH]; /* key at each level, or NULL for an array index */
	size_t path_idx[MAX_PATH];
	int depth;
	int ext_depth; /* depth before reading one of LEBEN's own keys (ext_mark, ext_key) */
	unsigned nlist; /* names written as lists so far (get_list_name) */
};

/* ---- JSON numbers as JavaScript reads them -------------------------------------------- */

/* x as an integer when it is an integral real within 2^53, else NULL. */
static json_t *js_int(const json_t *x)
{
	double r = json_is_real(x) ? json_real_value(x) : 0.5;
	return r == floor(r) && fabs(r) <= 9007199254740992.0 ? json_integer((json_int_t)r) : NULL;
}

/* Integral reals within 2^53 back to integers (after JSON_DECODE_INT_AS_REAL). */
static void js_ints(json_t *v)
{
	size_t i;
	const char *k;
	json_t *x, *n;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if ((n = js_int(x)) != NULL)
				json_array_set_new(v, i, n);
			else
				js_ints(x);
		}
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			if ((n = js_int(x)) != NULL)
				json_object_set_new(v, k, n);
			else
				js_ints(x);
		}
	}
}

json_t *kn_json_loadb_js(const char *text, size_t len, size_t flags, json_error_t *je)
{
	json_t *v = json_loadb(text, len, flags, je);
	if (v != NULL || je == NULL || strstr(je->text, "too big integer") == NULL)
		return v;
	/* an integer beyond 64 bits (12345678901234567000, as JavaScript writes 1.2e19): every
	 * number read as a double, the whole ones within 2^53 kept as integers */
	v = json_loadb(text, len, flags | JSON_DECODE_INT_AS_REAL, je);
	js_ints(v);
	return v;
}

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

/* An attribute as PROformajs reads it: absent when missing or null. */
static json_t *jget(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_null(v) ? NULL : v;
}

static int get_str(struct jp *j, json_t *o, const char *k, char **out, bool required)
{
	json_t *v = jget(o, k);
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

static int js_string(json_t *v, struct lb_buf *b);
static bool js_word(const char *s);

/* A name written as a list (["a"]): PROformajs tests String(name) against /^[\w\d]+$/ (so
 * ["a"], [1], [["b"]] pass) and refuses it only when its first element is "_" (the list's
 * indexOf('_')); its other checks compare names with === or includes(), which a list never
 * equals, so such an element is never found by name, never clashes with another, and is no
 * reserved word. It is kept as KN_RAW_JSON, the compact list, then " #N" (N counting the
 * list names of the protocol), which no name, identifier or other list name equals; written
 * back as the list. */
static int get_list_name(struct jp *j, json_t *v, const char *k, char **out)
{
	struct lb_buf b;
	lb_buf_init(&b, 1u << 16);
	int rc = push_key(j, k);
	rc = rc ? rc : js_string(v, &b);
	bool word = rc == LB_OK && b.len > 0 && js_word((const char *)b.data);
	lb_buf_release(&b);
	if (rc != LB_OK)
		return rc == LB_ENOMEM ? lb_errf(j->em, rc, "out of memory") : jerr(j, rc, "bad name");
	if (!word)
		return jerr(j, LB_ESYNTAX,
			    "expected a name (letters, digits and '_') for \"%s\": this list reads as "
			    "a text with other characters",
			    k);
	json_t *first = json_array_get(v, 0);
	if (json_is_string(first) && strcmp(json_string_value(first), "_") == 0)
		return jerr(j, LB_ESYNTAX, "\"%s\": a name cannot start with an underscore", k);
	char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	size_t n = t ? strlen(t) : 0;
	if (t == NULL || n > 4000 || (*out = lb_malloc(n + 24)) == NULL) {
		free(t);
		return t == NULL || n <= 4000 ? lb_errf(j->em, LB_ENOMEM, "out of memory")
					      : jerr(j, LB_ELIMIT, "\"%s\": the list is too long", k);
	}
	snprintf(*out, n + 24, "%c%s #%u", KN_RAW_JSON, t, ++j->nlist);
	free(t);
	j->depth--;
	return LB_OK;
}

/* PROformajs's /^[\w\d]+$/ */
static bool js_word(const char *s)
{
	bool ok = s[0] != 0;
	for (const char *p = s; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
		     (*p >= '0' && *p <= '9');
	return ok;
}

static int get_name(struct jp *j, json_t *o, const char *k, char **out)
{
	json_t *lv = jget(o, k);
	if (lv != NULL && json_is_array(lv))
		return get_list_name(j, lv, k, out);
	int rc = get_str(j, o, k, out, true);
	if (rc != LB_OK)
		return rc;
	const char *s = *out;
	/* PROformajs's /^[\w\d]+$/: a digit may come first (a leading '_' is refused by
	 * kn_js_validate, as PROformajs refuses it) */
	if (!js_word(s) || strlen(s) > KN_MAX_NAME) {
		push_key(j, k);
		return jerr(j, LB_ESYNTAX,
			    "expected a name (letters, digits and '_', at most %d characters) for "
			    "\"%s\", found \"%.40s\"",
			    KN_MAX_NAME, k, s);
	}
	return LB_OK;
}

/* A caption or description: PROformajs keeps any JSON value there (5, ["a"], {...}); a text
 * is kept as it is, another value as KN_RAW_JSON followed by its compact JSON, printed back
 * as that value. */
static int get_text(struct jp *j, json_t *o, const char *k, char **out)
{
	json_t *v = jget(o, k);
	if (v == NULL || json_is_string(v) || json_is_null(v))
		return v != NULL && json_is_null(v) ? LB_OK : get_str(j, o, k, out, false);
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	size_t n = s ? strlen(s) : 0;
	if (s == NULL || (*out = lb_malloc(n + 2)) == NULL) {
		free(s);
		return lb_errf(j->em, LB_ENOMEM, "out of memory");
	}
	(*out)[0] = KN_RAW_JSON;
	memcpy(*out + 1, s, n + 1);
	free(s);
	return LB_OK;
}

/* JavaScript's String(v) of a JSON value (how PROformajs keys an eventTrigger). */
static int js_string(json_t *v, struct lb_buf *b)
{
	if (json_is_string(v))
		return lb_buf_adds(b, json_string_value(v));
	if (json_is_true(v) || json_is_false(v))
		return lb_buf_adds(b, json_is_true(v) ? "true" : "false");
	if (json_is_null(v))
		return lb_buf_adds(b, "null");
	if (json_is_integer(v))
		return lb_buf_addf(b, "%lld", (long long)json_integer_value(v));
	if (json_is_real(v)) {
		double x = json_real_value(v);
		char t[40];
		for (int p = 1; p <= 17; p++) { /* the shortest text that reads back the same */
			snprintf(t, sizeof(t), "%.*g", p, x);
			if (strtod(t, NULL) == x)
				break;
		}
		char *e = strchr(t, 'e');
		if (e == NULL)
			return lb_buf_adds(b, t);
		/* 1e+21, 1.5e-7: JavaScript writes the exponent without leading zeros */
		int ex = atoi(e + 1);
		*e = 0;
		return lb_buf_addf(b, "%se%s%d", t, ex < 0 ? "-" : "+", ex < 0 ? -ex : ex);
	}
	if (json_is_array(v)) { /* elements joined by ',', null ones empty */
		int rc = LB_OK;
		for (size_t i = 0; rc == LB_OK && i < json_array_size(v); i++) {
			json_t *x = json_array_get(v, i);
			rc = i ? lb_buf_addc(b, ',') : LB_OK;
			if (rc == LB_OK && !json_is_null(x))
				rc = js_string(x, b);
		}
		return rc;
	}
	return lb_buf_adds(b, "[object Object]");
}

/* eventTrigger: a text, or any other JSON value PROformajs keys by its String() (kept as
 * trigger_json to be printed back); null is no trigger. */
static int get_trigger(struct jp *j, json_t *o, struct kn_task *t)
{
	json_t *v = jget(o, "eventTrigger");
	if (v == NULL || json_is_string(v))
		return get_str(j, o, "eventTrigger", &t->trigger, false);
	if (json_is_null(v))
		return LB_OK;
	struct lb_buf b;
	lb_buf_init(&b, LB_KN_MAX_SOURCE);
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	int rc = s ? js_string(v, &b) : LB_ENOMEM;
	rc = rc ? rc : lb_buf_addc(&b, 0);
	if (rc == LB_OK && ((t->trigger = lb_strdup((const char *)b.data)) == NULL ||
			    (t->trigger_json = lb_strdup(s)) == NULL))
		rc = LB_ENOMEM;
	free(s);
	lb_buf_release(&b);
	return rc == LB_OK ? LB_OK : lb_errf(j->em, rc, "out of memory");
}

/* A flag: PROformajs takes any value by JavaScript truthiness (false, 0, "" are false). */
static int get_bool(struct jp *j, json_t *o, const char *k, bool *out)
{
	json_t *v = jget(o, k);
	if (v == NULL)
		return LB_OK;
	(void)j;
	*out = !(json_is_false(v) || (json_is_number(v) && json_number_value(v) == 0) ||
		 (json_is_string(v) && json_string_length(v) == 0));
	return LB_OK;
}

/* LEBEN's own keys (§5.2 of docs/knowledge-language.md): PROformajs ignores them, so a value
 * LEBEN cannot read there (of another type, out of range) is ignored as well, not refused: the
 * protocol stays the one PROformajs accepts. Written ext_key(j, (ext_mark(j), get_...(...))):
 * the comma orders the mark before the reading (the order of a call's arguments is not). */
static void ext_mark(struct jp *j)
{
	j->ext_depth = j->depth;
}

/* rc: the reading's result; a refusal is dropped (the error and the key path it pushed) */
static int ext_key(struct jp *j, int rc)
{
	if (rc != LB_ESYNTAX && rc != LB_ETYPE && rc != LB_EINVALID)
		return rc;
	j->depth = j->ext_depth;
	/* kept, so that `contract check` can say the key did nothing */
	char **n = lb_realloc(j->m->ignored, (j->m->nignored + 1) * sizeof(*n));
	if (n == NULL)
		return lb_errf(j->em, LB_ENOMEM, "out of memory");
	j->m->ignored = n;
	if ((n[j->m->nignored] = lb_strdup(j->em->text)) == NULL)
		return lb_errf(j->em, LB_ENOMEM, "out of memory");
	j->m->nignored++;
	lb_errclear(j->em);
	return LB_OK;
}

/* One of LEBEN's keys, k, whose value is not what: ignored (kept for `contract check`). */
static int ext_ignore(struct jp *j, const char *k, const char *what)
{
	ext_mark(j);
	int rc = push_key(j, k);
	return rc != LB_OK ? rc : ext_key(j, jerr(j, LB_ESYNTAX, "expected %s for \"%s\"", what, k));
}

static int get_int(struct jp *j, json_t *o, const char *k, int64_t *out, int64_t lo, int64_t hi)
{
	json_t *v = jget(o, k);
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

/* Calls PROformajs reads by their first argument only where LEBEN's .pf form reads a second
 * (net_support(c, x), min(a, b), max(a, b)): marked KN_REF_FIRST_ONLY, read as PROformajs
 * reads them and printed back as written. */
static void mark_first_only(struct kn_expr *e)
{
	if (e == NULL)
		return;
	if (e->op == KN_E_CALL && e->name != NULL && e->nargs > 1 &&
	    (strcmp(e->name, "net_support") == 0 || strcmp(e->name, "min") == 0 ||
	     strcmp(e->name, "max") == 0))
		e->ref2 = KN_REF_FIRST_ONLY;
	for (size_t i = 0; i < e->nargs; i++)
		mark_first_only(e->args[i]);
}

static int get_expr(struct jp *j, json_t *o, const char *k, struct kn_expr **out)
{
	json_t *v = jget(o, k);
	/* an empty expression is no expression (PROformajs warns and evaluates nothing) */
	if (v == NULL || (json_is_string(v) && json_string_length(v) == 0))
		return LB_OK;
	int rc = push_key(j, k);
	if (rc != LB_OK)
		return rc;
	if (json_is_array(v) && json_array_size(v) > 0)
		return jerr(j, LB_ESYNTAX, "expected an expression string for \"%s\"", k);
	if (!json_is_string(v)) {
		/* PROformajs accepts any other value here (its parser fails on a non-empty list)
		 * and evaluates a non-text one to undefined */
		int line, col;
		line_col(j->text, locate(j), &line, &col);
		if ((rc = kn_expr_parse_js("undefined", 9, line, col, out, j->em)) != LB_OK)
			return rc;
		(*out)->ref = KN_REF_NONTEXT; /* undefined, not the throwing `undefined` */
		/* the value itself, printed back as it was (compact JSON in the node's name) */
		char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
		(*out)->name = t != NULL ? lb_strdup(t) : NULL;
		free(t);
		if ((*out)->name == NULL)
			return lb_errf(j->em, LB_ENOMEM, "out of memory");
		j->depth--;
		return LB_OK;
	}
	int line, col;
	line_col(j->text, locate(j), &line, &col);
	struct lb_errmsg sub;
	lb_errclear(&sub);
	/* positions inside the string are reported relative to its opening quote */
	rc = kn_expr_parse_js(json_string_value(v), json_string_length(v), line, col + 1, out,
			      &sub);
	if (rc != LB_OK)
		return lb_errf(j->em, rc, "%s:%s (in \"%s\")", j->file, sub.text, k);
	mark_first_only(*out);
	j->depth--;
	return LB_OK;
}

bool kn_json_scalar(const json_t *j, struct kn_value *v)
{
	memset(v, 0, sizeof(*v));
	if (json_is_boolean(j)) {
		v->t = KN_V_BOOL;
		v->u.b = json_is_true(j);
	} else if (json_is_string(j)) {
		v->t = KN_V_TEXT;
		v->u.s = json_string_value(j);
	} else if (json_is_integer(j) && llabs(json_integer_value(j)) <= 9007199254740992LL) {
		v->t = KN_V_INT;
		v->u.i = json_integer_value(j);
	} else if (json_is_number(j)) {
		v->t = KN_V_REAL;
		v->u.r = json_number_value(j);
	} else {
		return false;
	}
	return true;
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
		/* PROformajs's Integer accepts any number: a fraction is kept as one */
		if (!json_is_number(v))
			return jerr(j, LB_ETYPE, "expected a number (item '%s' is integer)",
				    d->name);
		if (json_is_integer(v)) {
			out->t = KN_V_INT;
			out->u.i = json_integer_value(v);
		} else {
			out->t = KN_V_REAL;
			out->u.r = json_real_value(v);
		}
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
	case KN_T_ANY:
		/* PROformajs's DataDefinition takes any value; LEBEN's values hold these */
		if (!kn_json_scalar(v, out))
			return jerr(j, LB_ETYPE,
				    "expected a boolean, number or text (item '%s' is a "
				    "DataDefinition: PROformajs takes any value, LEBEN's values hold "
				    "these)",
				    d->name);
		if (out->t == KN_V_TEXT && (out->u.s = lb_strdup(out->u.s)) == NULL)
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

/* `meta`: any JSON, kept as canonical compact text. */
static int get_meta(struct jp *j, json_t *o, char **out)
{
	json_t *v = jget(o, "meta");
	if (v == NULL)
		return LB_OK;
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY |
					JSON_REAL_PRECISION(17));
	if (s == NULL || (*out = lb_strdup(s)) == NULL) {
		free(s);
		return lb_errf(j->em, LB_ENOMEM, "out of memory");
	}
	free(s);
	return LB_OK;
}

static struct kn_datadef *new_data(struct jp *j)
{
	struct lb_kn_model *m = j->m;
	struct kn_datadef *n = lb_realloc(m->data, (m->ndata + 1) * sizeof(*n));
	if (n == NULL)
		return NULL;
	m->data = n;
	memset(&m->data[m->ndata], 0, sizeof(*n));
	return &m->data[m->ndata++];
}

static int check_class(struct jp *j, json_t *o, const char *want);
static int parse_array(struct jp *j, json_t *o, const char *k, json_t **arr);

/* A Date item's defaultValue as PROformajs reads it: moment(String(value),
 * 'YYYY-MM-DDTHH:mm:ss.SSSZ') in moment.js's forgiving mode, valid or refused by its
 * validation (kn_date_parse_moment); a multi-valued item's only default it accepts is []
 * (another list reads as one date, which is not a list). A "YYYY-MM-DD" text is left to the
 * caller (*dv unchanged); another accepted spelling is stored (the day) and kept as written
 * (defval_text), *dv set to NULL. */
static int date_default(struct jp *j, struct kn_datadef *d, json_t **dv)
{
	int64_t day;
	json_t *v = *dv;
	if (d->multi) {
		if (json_is_array(v) && json_array_size(v) == 0)
			return LB_OK;
		push_key(j, "defaultValue");
		return jerr(j, LB_ETYPE,
			    "a multi-valued Date item (here '%s') takes no defaultValue but [] "
			    "(PROformajs reads the default as one date, which is not a list)",
			    d->name);
	}
	if (json_is_string(v) && kn_date_parse(json_string_value(v), &day))
		return LB_OK;
	struct lb_buf b;
	lb_buf_init(&b, 1u << 16);
	bool ok = (json_is_string(v) || json_is_number(v) || json_is_array(v)) &&
		  js_string(v, &b) == LB_OK &&
		  kn_date_parse_moment(b.data ? (const char *)b.data : "", &day);
	if (ok && (d->defval_moment = lb_strdup(b.data ? (const char *)b.data : "")) == NULL)
		ok = false;
	lb_buf_release(&b);
	push_key(j, "defaultValue");
	if (!ok)
		return jerr(j, LB_ETYPE,
			    "the defaultValue of '%s' is not a date PROformajs reads (moment.js's "
			    "'YYYY-MM-DDTHH:mm:ss.SSSZ', forgiving: \"2020-01-05\", \"2020/1/5\", "
			    "\"2020-01-05T10:30Z\"...)",
			    d->name);
	char *t = json_is_string(v) ? NULL
				    : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
							    JSON_REAL_PRECISION(17));
	const char *w = json_is_string(v) ? json_string_value(v) : t;
	size_t n = w ? strlen(w) : 0;
	if (w == NULL || (d->defval_text = lb_malloc(n + 2)) == NULL) {
		free(t);
		return lb_errf(j->em, LB_ENOMEM, "out of memory");
	}
	/* a text kept as it is; a number or list as KN_RAW_JSON + its JSON (put_str) */
	if (t != NULL)
		d->defval_text[0] = KN_RAW_JSON;
	memcpy(d->defval_text + (t != NULL), w, n + 1);
	free(t);
	d->defval.t = KN_V_DATE;
	d->defval.u.i = day;
	j->depth--;
	*dv = NULL;
	return LB_OK;
}

static int parse_warning(struct jp *j, json_t *o, struct kn_warning *w)
{
	int rc;
	if ((rc = check_class(j, o, "Warning")) != LB_OK)
		return rc;
	if ((rc = get_expr(j, o, "warnCondition", &w->cond)) != LB_OK ||
	    (rc = get_text(j, o, "caption", &w->caption)) != LB_OK ||
	    (rc = get_text(j, o, "description", &w->description)) != LB_OK ||
	    (rc = get_meta(j, o, &w->meta)) != LB_OK)
		return rc;
	if (w->cond == NULL)
		return jerr(j, LB_EINVALID,
			    "a Warning needs a \"warnCondition\" expression (when the warning shows)");
	return LB_OK;
}

static int parse_data(struct jp *j, json_t *o, struct kn_datadef *d, const struct kn_task *owner)
{
	int rc;
	if (!json_is_object(o))
		return jerr(j, LB_ESYNTAX, "expected a data definition object");
	const char *cls = json_string_value(json_object_get(o, "class"));
	d->type = -1;
	/* (DataDefinition, PROformajs's base class: any value, KN_T_ANY) */
	for (int t = 0; cls != NULL && t <= KN_T_ANY; t++)
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
	d->owner_task = owner;
	if (owner != NULL && (d->owner = lb_strdup(owner->name)) == NULL)
		return lb_errf(j->em, LB_ENOMEM, "out of memory");
	if ((rc = get_name(j, o, "name", &d->name)) != LB_OK ||
	    (rc = get_text(j, o, "caption", &d->caption)) != LB_OK ||
	    (rc = get_text(j, o, "description", &d->description)) != LB_OK ||
	    (rc = get_meta(j, o, &d->meta)) != LB_OK ||
	    (rc = ext_key(j, (ext_mark(j), get_str(j, o, "unit", &d->unit, false)))) != LB_OK ||
	    (rc = get_bool(j, o, "multiValued", &d->multi)) != LB_OK ||
	    (rc = get_expr(j, o, "valueCondition", &d->derive)) != LB_OK ||
	    (rc = get_expr(j, o, "defaultCondition", &d->defcond)) != LB_OK ||
	    (rc = ext_key(j, (ext_mark(j), json_is_string(jget(o, "validCondition"))
						   ? get_expr(j, o, "validCondition", &d->valid)
						   : LB_OK))) != LB_OK)
		return rc;
	json_t *r = jget(o, "range");
	if (r != NULL && json_is_string(r)) {
		/* PROformajs iterates a text range's characters: each must pass the item's
		 * accept(), which only a Text item's does (an empty text has none) */
		push_key(j, "range");
		if (d->type != KN_T_TEXT && json_string_length(r) > 0)
			return jerr(j, LB_EINVALID,
				    "the range of '%s' is a text, whose characters PROformajs checks as "
				    "values, and '%s' is not a Text item; write the list of values",
				    d->name, d->name);
		if ((d->range_text = lb_strdup(json_string_value(r))) == NULL)
			return lb_errf(j->em, LB_ENOMEM, "out of memory");
		j->depth--;
		r = NULL;
	}
	if (r != NULL) {
		push_key(j, "range");
		if (!json_is_array(r))
			return jerr(j, LB_ESYNTAX,
				    "expected \"range\": the list of allowed values, plain or "
				    "{\"value\": v, \"caption\": \"...\"}");
		size_t n = json_array_size(r);
		if ((d->allowed = lb_calloc(n ? n : 1, sizeof(*d->allowed))) == NULL ||
		    (d->allowed_caption = lb_calloc(n ? n : 1, sizeof(char *))) == NULL)
			return lb_errf(j->em, LB_ENOMEM, "out of memory");
		d->range_objects = n > 0 && json_is_object(json_array_get(r, 0));
		/* PROformajs takes a range mixing plain values and {value, caption} objects
		 * (validated in kn_json_validate); each entry keeps the way it was written */
		bool mixed = false;
		for (size_t i = 1; i < n; i++)
			mixed |= json_is_object(json_array_get(r, i)) != d->range_objects;
		if (mixed && (d->range_obj = lb_calloc(n, sizeof(bool))) == NULL)
			return lb_errf(j->em, LB_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			json_t *e = json_array_get(r, i);
			push_idx(j, i);
			if (mixed)
				d->range_obj[i] = json_is_object(e);
			if (json_is_object(e)) {
				if ((rc = get_text(j, e, "caption", &d->allowed_caption[i])) != LB_OK)
					return rc;
				e = jget(e, "value");
				if (e == NULL) {
					lb_free(d->allowed_caption[i]);
					d->allowed_caption[i] = NULL;
				}
				if (e == NULL)
					return jerr(j, LB_EINVALID,
						    "a range entry written as an object needs its "
						    "\"value\"");
				push_key(j, "value");
			}
			if ((rc = json_to_lit(j, e, d, &d->allowed[i])) != LB_OK) {
				lb_free(d->allowed_caption[i]);
				d->allowed_caption[i] = NULL;
				return rc;
			}
			d->nallowed++; /* owned by d from here */
			j->depth = j->depth - (json_is_object(json_array_get(r, i)) ? 2 : 1);
		}
		j->depth--;
	}
	json_t *b = jget(o, "bounds");
	/* LEBEN's [lowest, highest]; another value is ignored, as PROformajs does (ext_key) */
	if (b != NULL && ((d->type != KN_T_INTEGER && d->type != KN_T_REAL) || !json_is_array(b) ||
			  json_array_size(b) != 2 || !json_is_number(json_array_get(b, 0)) ||
			  !json_is_number(json_array_get(b, 1)) ||
			  json_number_value(json_array_get(b, 0)) >
				  json_number_value(json_array_get(b, 1)))) {
		b = NULL;
		if ((rc = ext_ignore(j, "bounds", d->type != KN_T_INTEGER && d->type != KN_T_REAL
						  ? "no bounds on an item that is not a number"
						  : "[lowest, highest] numbers")) != LB_OK)
			return rc;
	}
	if (b != NULL) {
		push_key(j, "bounds");
		d->has_range = true;
		d->lo = json_number_value(json_array_get(b, 0));
		d->hi = json_number_value(json_array_get(b, 1));
		j->depth--;
	}
	json_t *dv = jget(o, "defaultValue"), *parsed = NULL;
	if (dv != NULL && json_is_string(dv) &&
	    (d->type == KN_T_INTEGER || d->type == KN_T_REAL || d->type == KN_T_BOOLEAN ||
	     (d->type == KN_T_TEXT && d->multi && json_string_value(dv)[0] == '['))) {
		/* PROformajs parses a text default of these items as JSON ("3" is 3) */
		push_key(j, "defaultValue");
		if ((d->defval_text = lb_strdup(json_string_value(dv))) == NULL)
			return lb_errf(j->em, LB_ENOMEM, "out of memory");
		parsed = json_loads(d->defval_text, JSON_DECODE_ANY, NULL);
		if (parsed == NULL)
			return jerr(j, LB_ETYPE,
				    "the defaultValue \"%s\" of '%s' is a text, which PROformajs "
				    "reads as JSON, and it is not JSON; write the value itself",
				    d->defval_text, d->name);
		j->depth--;
		dv = parsed;
		if (json_is_null(parsed)) /* "null": no default, as in PROformajs */
			dv = NULL;
	}
	if (dv != NULL && d->type == KN_T_DATE && (rc = date_default(j, d, &dv)) != LB_OK) {
		json_decref(parsed);
		return rc;
	}
	if (dv != NULL) {
		push_key(j, "defaultValue");
		if (d->multi) {
			/* (a refusal frees the default's parsed JSON text too) */
			size_t n = json_array_size(dv);
			rc = LB_OK;
			if (!json_is_array(dv))
				rc = jerr(j, LB_ETYPE, "expected an array (item '%s' is multi-valued)",
					  d->name);
			else if ((d->defval.u.set.v = lb_calloc(n ? n : 1, sizeof(struct kn_value))) ==
				 NULL)
				rc = lb_errf(j->em, LB_ENOMEM, "out of memory");
			else
				d->defval.t = KN_V_SET;
			for (size_t i = 0; rc == LB_OK && i < n; i++) {
				push_idx(j, i);
				if ((rc = json_to_lit(j, json_array_get(dv, i), d,
						      &d->defval.u.set.v[i])) != LB_OK)
					break;
				d->defval.u.set.n++;
				j->depth--;
			}
		} else {
			rc = json_to_lit(j, dv, d, &d->defval);
		}
		json_decref(parsed);
		if (rc != LB_OK)
			return rc;
		j->depth--;
	}
	json_t *ws;
	if ((rc = parse_array(j, o, "warnings", &ws)) != LB_OK)
		return rc;
	if (ws != NULL) {
		push_key(j, "warnings");
		size_t n = json_array_size(ws);
		if (n > 0 && (d->warnings = lb_calloc(n, sizeof(*d->warnings))) == NULL)
			return lb_errf(j->em, LB_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			push_idx(j, i);
			d->nwarnings++;
			if ((rc = parse_warning(j, json_array_get(ws, i), &d->warnings[i])) != LB_OK)
				return rc;
			j->depth--;
		}
		j->depth--;
	}
	return LB_OK;
}

static int parse_task(struct jp *j, json_t *o, struct kn_task **out);

/* A list attribute. PROformajs's own lists (tasks, sources, candidates, arguments,
 * dataDefinitions, warnings) are ignored unless arrays, as PROformajs does; LEBEN's must be. */
static int parse_array(struct jp *j, json_t *o, const char *k, json_t **arr)
{
	static const char *const pf_lists[] = { "tasks", "sources", "candidates", "arguments",
						"dataDefinitions", "warnings" };
	*arr = jget(o, k);
	for (size_t i = 0; *arr != NULL && !json_is_array(*arr) && i < 6; i++)
		if (strcmp(k, pf_lists[i]) == 0)
			*arr = NULL;
	if (*arr != NULL && !json_is_array(*arr)) {
		push_key(j, k);
		return jerr(j, LB_ESYNTAX, "expected an array for \"%s\"", k);
	}
	return LB_OK;
}

/* `class` of a nested object: optional (PROformajs builds candidates, arguments, sources and
 * warnings whatever their class says), but when present it must be the expected one. */
static int check_class(struct jp *j, json_t *o, const char *want)
{
	/* PROformajs builds a Candidate, Argument, Source or Warning from the object whatever
	 * its `class` says; LEBEN writes the right one back */
	if (!json_is_object(o))
		return jerr(j, LB_ESYNTAX, "expected a %s object", want);
	return LB_OK;
}

static int parse_candidate(struct jp *j, json_t *o, struct kn_candidate *c)
{
	int rc;
	int64_t prio = 0;
	json_t *args;
	if ((rc = check_class(j, o, "Candidate")) != LB_OK)
		return rc;
	if ((rc = get_name(j, o, "name", &c->name)) != LB_OK ||
	    (rc = get_text(j, o, "caption", &c->caption)) != LB_OK ||
	    (rc = get_text(j, o, "description", &c->description)) != LB_OK ||
	    (rc = get_meta(j, o, &c->meta)) != LB_OK ||
	    (rc = get_bool(j, o, "autoConfirmRecommended", &c->auto_recommended)) != LB_OK ||
	    (rc = ext_key(j, (ext_mark(j), get_int(j, o, "priority", &prio, -1000000, 1000000)))) ||
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
		if ((rc = check_class(j, a, "Argument")) != LB_OK)
			return rc;
		c->nargs++;
		if (jget(a, "name") != NULL) {
			ext_mark(j);
			int nrc = get_name(j, a, "name", &g->name);
			if ((rc = ext_key(j, nrc)) != LB_OK)
				return rc;
			if (nrc != LB_OK) { /* a name LEBEN cannot use is dropped, not kept half-read */
				lb_free(g->name);
				g->name = NULL;
			}
		}
		if ((rc = get_text(j, a, "caption", &g->caption)) != LB_OK ||
		    (rc = get_text(j, a, "description", &g->description)) != LB_OK ||
		    (rc = get_meta(j, a, &g->meta)) != LB_OK ||
		    (rc = get_expr(j, a, "activeCondition", &g->cond)) != LB_OK)
			return rc;
		/* PROformajs requires both; LEBEN's own exports always write them */
		if (g->caption == NULL)
			return jerr(j, LB_EINVALID,
				    "an Argument needs a \"caption\" (the reason shown to the "
				    "clinician; \"\" if none)");
		if (g->cond == NULL)
			return jerr(j, LB_EINVALID,
				    "an Argument needs an \"activeCondition\" expression (\"true\" "
				    "when it always applies)");
		if (g->caption[0] == 0) {
			lb_free(g->caption);
			g->caption = NULL;
		}
		if (g->cond->op == KN_E_CONST && g->cond->v.t == KN_V_BOOL && g->cond->v.u.b) {
			/* "true": always active, LEBEN's argument without `if` */
			kn_expr_free(g->cond);
			g->cond = NULL;
		}
		json_t *s = jget(a, "support");
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
			return jerr(j, s == NULL ? LB_EINVALID : LB_ESYNTAX,
				    "expected \"support\": a number, \"+\" (for), \"-\" (against), "
				    "\"++\" (confirming) or \"--\" (excluding)");
		}
		j->depth--;
	}
	j->depth--;
	return LB_OK;
}

static int task_class(const char *cls, bool *plain)
{
	*plain = false;
	if (cls == NULL)
		return -1;
	for (int c = 0; c < 4; c++)
		if (strcmp(cls, kn_class_name(c, true)) == 0)
			return c;
	if (strcmp(cls, "Task") == 0) {
		*plain = true;
		return KN_ACTION;
	}
	return -1;
}

/* PROformajs's classes that are not tasks but that it builds at the top of a protocol */
static bool top_level_component(json_t *cls)
{
	static const char *const names[] = { "Integer", "Float", "Text", "Boolean", "Date",
					     "DataDefinition", "Source", "Candidate", "Argument",
					     "Warning" };
	for (size_t i = 0; json_is_string(cls) && i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(json_string_value(cls), names[i]) == 0)
			return true;
	return false;
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
	t->cls = task_class(json_string_value(json_object_get(o, "class")), &t->plain);
	const char *tc = json_string_value(json_object_get(o, "class"));
	bool data_class = false;
	for (int k = 0; tc != NULL && k <= KN_T_ANY; k++)
		data_class |= strcmp(tc, kn_dtype_name(k, true)) == 0;
	if (t->cls < 0 && j->depth == 0 && data_class) {
		/* PROformajs builds and validates a data definition at the top and enacts it as
		 * nothing (no state; every operation "unknown component"; a start failure when it
		 * has a state, derived or with warnings): kept as data[0] under a placeholder plan
		 * of its name (kn_enact, kn_js_print) */
		struct kn_datadef *d = new_data(j);
		if (d == NULL)
			return lb_errf(j->em, LB_ENOMEM, "out of memory");
		int rc0 = parse_data(j, o, d, NULL);
		if (rc0 != LB_OK)
			return rc0;
		t->cls = KN_PLAN;
		j->m->top_data = true;
		if ((t->name = lb_strdup(d->name)) == NULL)
			return lb_errf(j->em, LB_ENOMEM, "out of memory");
		return LB_OK;
	}
	if (t->cls < 0 && j->depth == 0 && top_level_component(json_object_get(o, "class"))) {
		/* PROformajs builds any of its exported classes at the top and validates a data
		 * definition there (nothing refers to it); such a "protocol" has no task to enact */
		push_key(j, "class");
		return jerr(j, LB_EINVALID,
			    "the top level is a %s, which is not a task: PROformajs validates it, "
			    "but there is nothing to enact; put it in the \"dataDefinitions\" of a "
			    "Plan",
			    json_string_value(json_object_get(o, "class")));
	}
	if (t->cls < 0) {
		if (json_object_get(o, "class") != NULL)
			push_key(j, "class");
		return jerr(j, LB_ESYNTAX,
			    "expected \"class\": \"Plan\", \"Decision\", \"Action\", \"Enquiry\" or "
			    "\"Task\"");
	}
	int64_t prio = 0;
	if ((rc = get_name(j, o, "name", &t->name)) != LB_OK ||
	    (rc = get_text(j, o, "caption", &t->caption)) != LB_OK ||
	    (rc = get_text(j, o, "description", &t->description)) != LB_OK ||
	    (rc = get_meta(j, o, &t->meta)) != LB_OK ||
	    (rc = get_expr(j, o, "preCondition", &t->pre)) != LB_OK ||
	    (rc = get_expr(j, o, "waitCondition", &t->wait)) != LB_OK ||
	    (rc = get_expr(j, o, "terminateCondition", &t->terminate)) != LB_OK ||
	    (rc = get_expr(j, o, "abortCondition", &t->abort)) != LB_OK ||
	    (rc = get_expr(j, o, "cycleUntil", &t->cycle_until)) != LB_OK ||
	    (rc = get_bool(j, o, "cyclic", &t->cyclic)) != LB_OK ||
	    (rc = ext_key(j, (ext_mark(j), get_int(j, o, "cycles", &t->cycles, 1, 1000000)))) ||
	    (rc = ext_key(j, (ext_mark(j), get_int(j, o, "interval", &t->interval, 0, 36500)))) ||
	    (rc = get_trigger(j, o, t)) != LB_OK ||
	    (rc = get_bool(j, o, "autonomous", &t->autonomous)) != LB_OK ||
	    (rc = get_bool(j, o, "optional", &t->optional)) != LB_OK ||
	    (rc = ext_key(j, (ext_mark(j), get_int(j, o, "priority", &prio, -1000000, 1000000)))))
		return rc;
	t->priority = (int)prio;
	if ((rc = parse_array(j, o, "dataDefinitions", &arr)) != LB_OK)
		return rc;
	size_t n = arr ? json_array_size(arr) : 0;
	push_key(j, "dataDefinitions");
	for (size_t i = 0; i < n; i++) {
		push_idx(j, i);
		struct kn_datadef *d = new_data(j);
		if (d == NULL)
			return lb_errf(j->em, LB_ENOMEM, "out of memory");
		if ((rc = parse_data(j, json_array_get(arr, i), d,
				     t == j->m->root ? NULL : t)) != LB_OK)
			return rc;
		j->depth--;
	}
	j->depth--;
	/* antecedents and postAssignments: LEBEN's; not a list of names (of {data, value}
	 * objects), they are ignored as PROformajs ignores them (ext_key) */
	arr = jget(o, "antecedents");
	for (size_t i = 0; json_is_array(arr) && i < json_array_size(arr); i++)
		if (!json_is_string(json_array_get(arr, i)))
			arr = NULL;
	if (!json_is_array(arr) && jget(o, "antecedents") != NULL &&
	    (rc = ext_ignore(j, "antecedents", "a list of task names")) != LB_OK)
		return rc;
	n = json_is_array(arr) ? json_array_size(arr) : 0;
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
	arr = jget(o, "postAssignments");
	for (size_t i = 0; json_is_array(arr) && i < json_array_size(arr); i++) {
		json_t *a = json_array_get(arr, i), *dn = jget(a, "data"), *dx = jget(a, "value");
		if (!json_is_object(a) || !json_is_string(dn) || !js_word(json_string_value(dn)) ||
		    json_string_length(dn) > KN_MAX_NAME || !json_is_string(dx) || json_string_length(dx) == 0)
			arr = NULL;
	}
	if (!json_is_array(arr) && jget(o, "postAssignments") != NULL &&
	    (rc = ext_ignore(j, "postAssignments",
			     "a list of {\"data\": name, \"value\": expression} objects")) != LB_OK)
		return rc;
	n = json_is_array(arr) ? json_array_size(arr) : 0;
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
		/* (another value: ignored, as PROformajs ignores the key) */
		if (strcmp(mode, "multiple") == 0)
			t->multiple = true;
		else if (strcmp(mode, "single") != 0 &&
			 (rc = ext_ignore(j, "choiceMode", "\"single\" or \"multiple\"")) != LB_OK)
			return rc;
	} else if (t->cls == KN_DECISION && json_object_get(o, "choiceMode") != NULL &&
		   !json_is_null(json_object_get(o, "choiceMode")) &&
		   (rc = ext_ignore(j, "choiceMode", "\"single\" or \"multiple\"")) != LB_OK) {
		return rc;
	}
	if (t->cls == KN_DECISION &&
	    (rc = get_bool(j, o, "autoConfirmMostSupported", &t->auto_most_supported)) != LB_OK)
		return rc;
	if (t->cls == KN_ENQUIRY && (rc = get_bool(j, o, "useDefaults", &t->use_defaults)) != LB_OK)
		return rc;
	if (t->cls == KN_ACTION &&
	    (rc = ext_key(j, (ext_mark(j), get_str(j, o, "procedure", &t->procedure, false)))))
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
			if ((rc = check_class(j, s, "Source")) != LB_OK)
				return rc;
			t->nsources++;
			if ((rc = get_name(j, s, "type", &t->sources[i].data)) != LB_OK ||
			    (rc = get_bool(j, s, "optional", &t->sources[i].optional)) != LB_OK ||
			    (rc = get_meta(j, s, &t->sources[i].meta)) != LB_OK ||
			    (rc = get_expr(j, s, "requestCondition", &t->sources[i].request)))
				return rc;
			j->depth--;
		}
		j->depth--;
	}
	return LB_OK;
}

/* ---- net_support paths ----------------------------------------------------------------------
 * PROformajs's net_support takes one argument, a candidate's path from the root plan
 * ("plan:decision:candidate"); LEBEN's two-argument form (decision, candidate) is written that
 * way in JSON, and such a path is read back as the two-argument form, so both forms round-trip.
 * A short one-argument form (a candidate's name) stays as written. */

static struct kn_expr *text_node(const char *s, size_t n, int line, int col)
{
	struct kn_expr *e = lb_calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->op = KN_E_CONST;
	e->ref = e->ref2 = -1;
	e->line = line;
	e->col = col;
	e->v.t = KN_V_TEXT;
	char *t = lb_malloc(n + 1);
	if (t == NULL) {
		lb_free(e);
		return NULL;
	}
	memcpy(t, s, n);
	t[n] = 0;
	e->v.u.s = t;
	return e;
}

static bool is_support_call(const struct kn_expr *e)
{
	return e->op == KN_E_CALL && strcmp(e->name, "net_support") == 0;
}

/* Printing: net_support(d, c) -> net_support('root:...:d:c'). */
static int to_paths(const struct lb_kn_model *m, struct kn_expr *e)
{
	for (size_t i = 0; i < e->nargs; i++) {
		int rc = to_paths(m, e->args[i]);
		if (rc != LB_OK)
			return rc;
	}
	if (!is_support_call(e) || e->nargs != 2 || e->ref2 == KN_REF_FIRST_ONLY ||
	    e->args[0]->ref < 0 || e->args[1]->ref < 0 ||
	    (size_t)e->args[0]->ref >= m->ntasks)
		return LB_OK;
	const struct kn_task *d = m->tasks[e->args[0]->ref];
	if ((size_t)e->args[1]->ref >= d->ncands)
		return LB_OK;
	struct lb_buf b;
	int chain[MAX_PATH], n = 0, rc = LB_OK; /* (a task is at most MAX_PATH plans deep) */
	for (int t = d->idx; t >= 0 && n < MAX_PATH; t = m->tasks[t]->parent)
		chain[n++] = t;
	lb_buf_init(&b, 1u << 16);
	for (int i = n - 1; rc == LB_OK && i >= 0; i--)
		rc = lb_buf_addf(&b, "%s:", m->tasks[chain[i]]->name);
	if (rc == LB_OK)
		rc = lb_buf_adds(&b, d->cands[e->args[1]->ref].name);
	struct kn_expr *p = rc == LB_OK ? text_node((const char *)b.data, b.len, e->args[0]->line,
						    e->args[0]->col)
					: NULL;
	lb_buf_release(&b);
	if (p == NULL)
		return LB_ENOMEM;
	p->ref = e->args[0]->ref;
	p->ref2 = e->args[1]->ref;
	kn_expr_free(e->args[0]);
	kn_expr_free(e->args[1]);
	e->args[0] = p;
	e->nargs = 1;
	return LB_OK;
}

/* The decision a full path "root:...:decision:candidate" names in the tree, or NULL. */
static const struct kn_task *path_decision(const struct kn_task *root, const char *path,
					   const char **cand)
{
	const struct kn_task *t = NULL;
	const char *p = path;
	for (;;) {
		const char *q = strchr(p, ':');
		if (q == NULL) {
			if (t == NULL || t->cls != KN_DECISION)
				return NULL;
			for (size_t i = 0; i < t->ncands; i++)
				if (strcmp(t->cands[i].name, p) == 0) {
					*cand = p;
					return t;
				}
			return NULL;
		}
		size_t n = (size_t)(q - p);
		const struct kn_task *next = NULL;
		if (t == NULL) {
			if (strlen(root->name) == n && memcmp(root->name, p, n) == 0)
				next = root;
		} else {
			for (size_t i = 0; i < t->ntasks; i++)
				if (strlen(t->tasks[i]->name) == n &&
				    memcmp(t->tasks[i]->name, p, n) == 0)
					next = t->tasks[i];
		}
		if (next == NULL)
			return NULL;
		t = next;
		p = q + 1;
	}
}

/* Reading: net_support('root:...:d:c') -> net_support('d', 'c'). */
static int from_paths(const struct kn_task *root, struct kn_expr *e)
{
	if (e == NULL)
		return LB_OK;
	for (size_t i = 0; i < e->nargs; i++) {
		int rc = from_paths(root, e->args[i]);
		if (rc != LB_OK)
			return rc;
	}
	if (!is_support_call(e) || e->nargs != 1 || e->args[0]->op != KN_E_CONST ||
	    e->args[0]->v.t != KN_V_TEXT || strchr(e->args[0]->v.u.s, ':') == NULL)
		return LB_OK;
	const char *cand = NULL;
	const struct kn_task *d = path_decision(root, e->args[0]->v.u.s, &cand);
	if (d == NULL)
		return LB_OK; /* not a full path: validation names it */
	struct kn_expr *a = e->args[0];
	struct kn_expr *x = text_node(d->name, strlen(d->name), a->line, a->col);
	struct kn_expr *y = text_node(cand, strlen(cand), a->line, a->col);
	struct kn_expr **args = lb_realloc(e->args, 2 * sizeof(*args));
	if (x == NULL || y == NULL || args == NULL) {
		kn_expr_free(x);
		kn_expr_free(y);
		if (args != NULL)
			e->args = args;
		return LB_ENOMEM;
	}
	e->args = args;
	kn_expr_free(a);
	e->args[0] = x;
	e->args[1] = y;
	e->nargs = 2;
	return LB_OK;
}

static int from_paths_task(const struct kn_task *root, struct kn_task *t)
{
	int rc;
	struct kn_expr *ex[] = { t->pre, t->wait, t->terminate, t->abort, t->cycle_until };
	for (size_t i = 0; i < 5; i++)
		if ((rc = from_paths(root, ex[i])) != LB_OK)
			return rc;
	for (size_t i = 0; i < t->npost; i++)
		if ((rc = from_paths(root, t->post[i].e)) != LB_OK)
			return rc;
	for (size_t i = 0; i < t->nsources; i++)
		if ((rc = from_paths(root, t->sources[i].request)) != LB_OK)
			return rc;
	for (size_t i = 0; i < t->ncands; i++) {
		if ((rc = from_paths(root, t->cands[i].recommend)) != LB_OK)
			return rc;
		for (size_t k = 0; k < t->cands[i].nargs; k++)
			if ((rc = from_paths(root, t->cands[i].args[k].cond)) != LB_OK)
				return rc;
	}
	for (size_t i = 0; i < t->ntasks; i++)
		if ((rc = from_paths_task(root, t->tasks[i])) != LB_OK)
			return rc;
	return LB_OK;
}

int kn_support_paths(struct lb_kn_model *m)
{
	int rc = from_paths_task(m->root, m->root);
	for (size_t i = 0; rc == LB_OK && i < m->ndata; i++) {
		struct kn_datadef *d = &m->data[i];
		(void)((rc = from_paths(m->root, d->derive)) != LB_OK ||
		       (rc = from_paths(m->root, d->defcond)) != LB_OK ||
		       (rc = from_paths(m->root, d->valid)) != LB_OK);
		for (size_t k = 0; rc == LB_OK && k < d->nwarnings; k++)
			rc = from_paths(m->root, d->warnings[k].cond);
	}
	return rc;
}

/* ---- validation as PROformajs does it ------------------------------------------------------ */

/* Names an expression may use besides data items, tasks and candidates (PROformajs's
 * `reservedWords`: its predicates plus moment.js words). */
static const char *const reserved[] = {
	"constructor", "now", "is_dormant", "is_in_progress", "is_completed", "is_discarded",
	"is_finished", "in_progress_time", "completed_time", "discarded_time", "finished_time",
	"is_valid", "is_known", "caption", "captions", "net_support", "result_set", "result_of",
	"includes", "last_updated", "num_finished", "num_completed", "date_part_hour", "round",
	"abs", "random", "sin", "cos", "tan", "asin", "acos", "atan", "count", "sum", "min", "max",
	"nth", "exp", "log", "index", "last_finished", "path", "diff", "add", "subtract",
	"undefined", "years", "months", "weeks", "days", "hours", "seconds", "milliseconds",
};

bool kn_js_reserved(const char *name)
{
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(reserved[i], name) == 0)
			return true;
	return false;
}

struct vctx {
	const struct lb_kn_model *m;
	const char *file;
	struct lb_errmsg *em;
	int scope; /* task whose view of the data is checked */
};

/* PROformajs scoping: a task sees the data of the top-level plan, its own, and its
 * ancestors'. */
static bool visible(const struct lb_kn_model *m, const struct kn_datadef *d, int task)
{
	if (d->owner == NULL || task == -2) /* -2: a path from the root sees everything */
		return true;
	int o = d->owner_idx;
	for (int t = task; t >= 0; t = m->tasks[t]->parent)
		if (t == o)
			return true;
	return false;
}

/* A name PROformajs knows: a data item, a text item's range value, a task, a candidate,
 * a reserved word, or a path of those separated by ':' (argument/warning indexes too). */
static bool known_one(const struct vctx *v, const char *s, size_t n)
{
	const struct lb_kn_model *m = v->m;
	char *buf = lb_malloc(n + 1);
	bool found = false;
	if (buf == NULL)
		return true; /* out of memory: do not refuse a protocol for it */
	memcpy(buf, s, n);
	buf[n] = 0;
	/* (a name several tasks define: any definition the scope sees) */
	int di = v->scope == -2 ? kn_model_find_data(m, buf) : kn_model_find_data_from(m, buf, v->scope);
	found = kn_js_reserved(buf) || di >= 0 ||
		kn_model_find_task(m, buf) >= 0;
	for (size_t i = 0; !found && i < m->ndata; i++) {
		const struct kn_datadef *d = &m->data[i];
		if (!visible(m, d, v->scope))
			continue;
		for (size_t k = 0; !found && d->type == KN_T_TEXT && k < d->nallowed; k++)
			found = strcmp(d->allowed[k].u.s, buf) == 0;
		/* a range written as a text: each of its characters */
		found |= d->type == KN_T_TEXT && d->range_text != NULL && n == 1 &&
			 strchr(d->range_text, buf[0]) != NULL && buf[0] != '\0';
	}
	for (size_t t = 0; !found && t < m->ntasks; t++)
		for (size_t c = 0; !found && c < m->tasks[t]->ncands; c++)
			found = strcmp(m->tasks[t]->cands[c].name, buf) == 0;
	lb_free(buf);
	return found;
}

static bool known(const struct vctx *v, const char *s)
{
	const struct lb_kn_model *m = v->m;
	if (m->top_data) /* (PROformajs validates a top-level data definition with no names) */
		return kn_js_reserved(s);
	if (known_one(v, s, strlen(s)))
		return true;
	if (strchr(s, ':') == NULL)
		return false;
	/* a design path from the root plan, as PROformajs's subPaths() lists them: the tasks
	 * down the tree, then a data definition of the last one, or a candidate of a decision
	 * and maybe one of its arguments' index */
	size_t rn = strlen(m->root->name);
	if (strncmp(s, m->root->name, rn) != 0 || s[rn] != ':')
		return false;
	const struct kn_task *t = m->root;
	const char *p = s + rn + 1;
	for (;;) {
		const char *q = strchr(p, ':');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		const struct kn_task *next = NULL;
		for (size_t i = 0; next == NULL && i < t->ntasks; i++)
			if (strlen(t->tasks[i]->name) == n && memcmp(t->tasks[i]->name, p, n) == 0)
				next = t->tasks[i];
		if (next == NULL)
			break;
		t = next;
		if (q == NULL)
			return true;
		p = q + 1;
	}
	const char *q = strchr(p, ':');
	size_t n = q ? (size_t)(q - p) : strlen(p);
	for (size_t i = 0; q == NULL && i < m->ndata; i++) {
		const struct kn_datadef *d = &m->data[i];
		if ((d->owner_task == t || (t == m->root && d->owner == NULL)) &&
		    strlen(d->name) == n && memcmp(d->name, p, n) == 0)
			return true;
	}
	for (size_t c = 0; c < t->ncands; c++) {
		const struct kn_candidate *k = &t->cands[c];
		if (strlen(k->name) != n || memcmp(k->name, p, n) != 0)
			continue;
		if (q == NULL)
			return true;
		const char *a = q + 1;
		char *end = NULL;
		unsigned long idx = strtoul(a, &end, 10);
		return a[0] >= '0' && a[0] <= '9' && *end == 0 && idx < k->nargs &&
		       (a[0] != '0' || a[1] == 0);
	}
	return false;
}

static int check_ids(struct vctx *v, const struct kn_expr *e, const char *where,
		     const char *attr)
{
	if (e == NULL)
		return LB_OK;
	const char *id = NULL;
	if ((e->op == KN_E_NAME && kn_expr_this(e) != KN_THIS_BARE) || e->op == KN_E_CALL ||
	    e->op == KN_E_MEMBER)
		id = e->name; /* (a member's property too: jsep's Identifier; `this` alone is
			       * jsep's ThisExpression) */
	else if (e->op == KN_E_CONST && e->v.t == KN_V_TEXT)
		id = e->v.u.s;
	if (id != NULL && !known(v, id) &&
	    !(e->op == KN_E_CALL && kn_fn_lookup(id) >= 0) &&
	    !(e->op == KN_E_NAME && strcmp(id, "value") == 0))
		return lb_errf(v->em, LB_EINVALID,
			       "%s: %s, %s: unknown component/predicate '%s' (%s '%s' is neither "
			       "a data item, a text item's range value, a task, a candidate nor a "
			       "function; fix the spelling or define it)",
			       v->file, where, attr, id,
			       e->op == KN_E_CONST ? "the string" : "the name", id);
	for (size_t i = 0; i < e->nargs; i++) {
		int rc = check_ids(v, e->args[i], where, attr);
		if (rc != LB_OK)
			return rc;
	}
	return LB_OK;
}

/* `what` names the element ("decision 'd'"); `name` is its name. */
static int check_name(struct vctx *v, const char *what, const char *name)
{
	if (name[0] == KN_RAW_JSON) /* a list: checked when read (get_list_name) */
		return LB_OK;
	if (kn_js_reserved(name))
		return lb_errf(v->em, LB_EINVALID,
			       "%s: %s: the name is a reserved word of the expression language; "
			       "rename it",
			       v->file, what);
	if (name[0] == '_')
		return lb_errf(v->em, LB_EINVALID,
			       "%s: %s: a name cannot start with an underscore; rename it", v->file,
			       what);
	return LB_OK;
}

static int check_task(struct vctx *v, const struct kn_task *t)
{
	int rc;
	char where[200];
	snprintf(where, sizeof(where), "%s '%s'", t->plain ? "task" : kn_class_name(t->cls, false),
		 t->name);
	if ((rc = check_name(v, where, t->name)) != LB_OK)
		return rc;
	v->scope = t->idx;
	const struct kn_expr *ex[] = { t->pre, t->wait, t->abort, t->terminate, t->cycle_until };
	static const char *const exn[] = { "preCondition", "waitCondition", "abortCondition",
					   "terminateCondition", "cycleUntil" };
	for (size_t i = 0; i < 5; i++)
		if ((rc = check_ids(v, ex[i], where, exn[i])) != LB_OK)
			return rc;
	if (t->cls == KN_PLAN && t->autonomous && t->cyclic) {
		bool mandatory = false;
		for (size_t i = 0; i < t->ntasks; i++)
			mandatory |= !t->tasks[i]->optional;
		if (!mandatory)
			return lb_errf(v->em, LB_EINVALID,
				       "%s: %s: an autonomous cyclic plan with no mandatory "
				       "component would cycle for ever; make a component mandatory "
				       "or the plan not cyclic",
				       v->file, where);
	}
	for (size_t i = 0; i < t->ntasks; i++)
		for (size_t k = 0; k < v->m->ndata; k++) {
			const struct kn_datadef *d = &v->m->data[k];
			bool here = d->owner_idx == t->idx;
			if (here && strcmp(d->name, t->tasks[i]->name) == 0)
				return lb_errf(v->em, LB_EINVALID,
					       "%s: %s: component task '%s' has the name of one of "
					       "the plan's data definitions; rename one of them",
					       v->file, where, d->name);
		}
	for (size_t i = 0; i < t->nsources; i++) {
		const struct kn_source *s = &t->sources[i];
		for (size_t k = 0; k < i; k++)
			if (strcmp(t->sources[k].data, s->data) == 0)
				return lb_errf(v->em, LB_EINVALID,
					       "%s: %s asks for '%s' twice; keep one source", v->file,
					       where, s->data);
		/* PROformajs's validation takes any name it knows (a task's, a candidate's, a
		 * text range value): such a source is requested by its requestCondition and
		 * takes no answer ("unknown dataDefinition"); not a reserved word, which sources
		 * are not checked against */
		if (s->ref < 0 && (!known(v, s->data) || kn_js_reserved(s->data)))
			return lb_errf(v->em, LB_EINVALID,
				       "%s: %s: source '%s' is not a data definition; define it in "
				       "\"dataDefinitions\" or fix the name",
				       v->file, where, s->data);
		if (s->ref < 0) {
			if ((rc = check_ids(v, s->request, where, "requestCondition")) != LB_OK)
				return rc;
			continue;
		}
		if (!visible(v->m, &v->m->data[s->ref], t->idx) && !known(v, s->data))
			return lb_errf(v->em, LB_EINVALID,
				       "%s: %s: source '%s' is a data item of task '%s', which this "
				       "enquiry does not see (a task sees the data of the top-level "
				       "plan, its own and its ancestors'); define it higher up",
				       v->file, where, s->data, v->m->data[s->ref].owner);
		if (v->m->data[s->ref].derive != NULL)
			return lb_errf(v->em, LB_EINVALID,
				       "%s: %s: source '%s' has a valueCondition (its value is "
				       "derived) and cannot be asked; remove the source or the "
				       "valueCondition",
				       v->file, where, s->data);
		if ((rc = check_ids(v, s->request, where, "requestCondition")) != LB_OK)
			return rc;
	}
	for (size_t i = 0; i < t->ncands; i++) {
		const struct kn_candidate *c = &t->cands[i];
		char cw[400];
		snprintf(cw, sizeof(cw), "%s, candidate '%s'", where, c->name);
		if ((rc = check_name(v, cw, c->name)) != LB_OK ||
		    (rc = check_ids(v, c->recommend, cw, "recommendCondition")) != LB_OK)
			return rc;
		for (size_t k = 0; k < v->m->ndata; k++)
			if (v->m->data[k].owner != NULL && v->m->data[k].owner_idx == t->idx &&
			    strcmp(v->m->data[k].name, c->name) == 0)
				return lb_errf(v->em, LB_EINVALID,
					       "%s: %s: the candidate has the name of a data "
					       "definition of its decision; rename one of them",
					       v->file, cw);
		for (size_t k = 0; k < c->nargs; k++)
			if ((rc = check_ids(v, c->args[k].cond, cw, "activeCondition")) != LB_OK)
				return rc;
	}
	for (size_t i = 0; i < t->ntasks; i++)
		if ((rc = check_task(v, t->tasks[i])) != LB_OK)
			return rc;
	return LB_OK;
}

static bool in_range(const struct kn_datadef *d, const struct kn_value *v)
{
	if (d->range_text != NULL)
		return kn_range_text_takes(d, v);
	if (d->nallowed == 0)
		return true;
	for (size_t i = 0; i < d->nallowed; i++)
		if (kn_value_equal(&d->allowed[i], v))
			return true;
	return false;
}

int kn_js_validate(const struct lb_kn_model *m, const char *file, struct lb_errmsg *em)
{
	struct vctx v = { .m = m, .file = file, .em = em };
	int rc;
	for (size_t i = 0; i < m->ndata; i++) {
		const struct kn_datadef *d = &m->data[i];
		char where[200];
		snprintf(where, sizeof(where), "data definition '%s'", d->name);
		v.scope = d->owner_idx;
		if ((rc = check_name(&v, where, d->name)) != LB_OK ||
		    (rc = check_ids(&v, d->derive, where, "valueCondition")) != LB_OK ||
		    (rc = check_ids(&v, d->defcond, where, "defaultCondition")) != LB_OK)
			return rc;
		for (size_t k = 0; k < d->nwarnings; k++)
			if ((rc = check_ids(&v, d->warnings[k].cond, where, "warnCondition")) != LB_OK)
				return rc;
		if (d->type == KN_T_DATE && d->nallowed > 0)
			return lb_errf(em, LB_EINVALID,
				       "%s:%d:%d: %s: a Date item cannot have a range in PROformajs "
				       "(its dates are not comparable with the listed values); remove "
				       "the range",
				       file, d->line, d->col, where);
		/* a range mixing plain values and objects: PROformajs checks each entry
		 * written the other way than the first against the first kind's values */
		for (size_t k = 0; d->range_obj != NULL && k < d->nallowed; k++) {
			bool found = d->range_obj[k] == d->range_objects;
			for (size_t q = 0; !found && q < d->nallowed; q++)
				found = d->range_obj[q] == d->range_objects &&
					kn_value_equal(&d->allowed[q], &d->allowed[k]);
			if (!found)
				return lb_errf(em, LB_EINVALID,
					       "%s:%d:%d: %s: range entry %zu is written %s, unlike "
					       "the first, and its value is not among the values "
					       "written that way, which PROformajs refuses; write "
					       "every entry the same way",
					       file, d->line, d->col, where, k,
					       d->range_obj[k] ? "as an object" : "plain");
		}
		json_t *lst = d->type == KN_T_TEXT && !d->multi && d->defval.t == KN_V_TEXT &&
				      d->defval.u.s[0] == '['
				      ? json_loads(d->defval.u.s, JSON_DECODE_ANY, NULL)
				      : NULL;
		bool is_list = lst != NULL;
		json_decref(lst);
		if (is_list)
			return lb_errf(em, LB_EINVALID,
				       "%s:%d:%d: %s: PROformajs reads a text defaultValue that is a "
				       "JSON list as that list, which a single-valued item does not "
				       "take; change the default",
				       file, d->line, d->col, where);
		const struct kn_value *dv = &d->defval;
		if (((d->range_text != NULL && d->range_text[0] == '\0') ||
		     (d->range_text == NULL && d->allowed != NULL && d->nallowed == 0)) &&
		    dv->t != KN_V_UNKNOWN && (dv->t != KN_V_SET || dv->u.set.n > 0))
			return lb_errf(em, LB_EINVALID,
				       "%s:%d:%d: %s: an empty range (\"\" or []) with a defaultValue "
				       "makes PROformajs's validation fail; remove one of them",
				       file, d->line, d->col, where);
		bool ok = true;
		if (dv->t == KN_V_SET) {
			for (size_t k = 0; k < dv->u.set.n; k++)
				ok &= in_range(d, &dv->u.set.v[k]);
		} else if (dv->t != KN_V_UNKNOWN) {
			ok = in_range(d, dv);
		}
		if (!ok)
			return lb_errf(em, LB_EINVALID,
				       "%s:%d:%d: %s: defaultValue is not one of the range values; "
				       "pick one of them or extend the range",
				       file, d->line, d->col, where);
	}
	if ((rc = check_task(&v, m->root)) != LB_OK)
		return rc;
	if (m->nproblems > 0)
		return lb_errf(em, LB_EINVALID, "%s (PROformajs refuses such a protocol: fix it)",
			       m->problems[0].text);
	return LB_OK;
}

int kn_js_parse(const char *text, size_t len, const char *file, struct lb_kn_model **out,
		struct lb_errmsg *em)
{
	int rc;
	json_error_t je;
	/* a key written twice in an object: the last one counts, as JSON.parse (how PROformajs
	 * reads a protocol) has it */
	json_t *root = kn_json_loadb_js(text, len, 0, &je);
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
	if (jget(root, "_parent") != NULL) {
		/* PROformajs copies it as the component's parent, which the top level has not */
		push_key(&j, "_parent");
		rc = jerr(&j, LB_EINVALID,
			  "\"_parent\" at the top level: PROformajs takes it as the parent component "
			  "and fails (this._parent.allDataDefinitions is not a function); remove it");
		goto err;
	}
	if ((rc = parse_task(&j, root, &j.m->root)) != LB_OK)
		goto err;
	if ((rc = kn_support_paths(j.m)) != LB_OK) {
		rc = lb_errf(em, rc, "out of memory");
		goto err;
	}
	j.m->js = true;
	if ((rc = kn_model_resolve(j.m, file, em)) != LB_OK)
		goto err;
	if ((rc = kn_js_validate(j.m, file, em)) != LB_OK)
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

static json_t *expr_json(const struct lb_kn_model *m, const struct kn_expr *e)
{
	/* an expression PROformajs JSON gave as another value than a text: that value again */
	if (e->op == KN_E_CONST && e->ref == KN_REF_NONTEXT && e->name != NULL)
		return json_loads(e->name, JSON_DECODE_ANY, NULL);
	struct lb_buf b;
	struct kn_expr *c = kn_expr_clone(e);
	lb_buf_init(&b, LB_KN_MAX_SOURCE);
	if (c == NULL || to_paths(m, c) != LB_OK || kn_expr_print(&b, c, KN_STYLE_JS) != LB_OK) {
		kn_expr_free(c);
		lb_buf_release(&b);
		return NULL;
	}
	kn_expr_free(c);
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
	if (s != NULL && s[0] == KN_RAW_JSON)
		put(o, k, json_loads(s + 1, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL), bad);
	else if (s != NULL)
		put(o, k, json_string(s), bad);
}

static void put_expr(const struct lb_kn_model *m, json_t *o, const char *k, const struct kn_expr *e,
		     bool *bad)
{
	if (e != NULL)
		put(o, k, expr_json(m, e), bad);
}

static void put_meta(json_t *o, const char *meta, bool *bad)
{
	if (meta != NULL)
		put(o, "meta", json_loads(meta, JSON_DECODE_ANY, NULL), bad);
}

static void append(json_t *a, json_t *v, bool *bad)
{
	if (a == NULL || v == NULL || json_array_append_new(a, v) != 0)
		*bad = true;
}

static json_t *data_json(const struct lb_kn_model *m, const struct kn_datadef *d, bool *bad)
{
	json_t *o = json_object();
	if (o == NULL) {
		*bad = true;
		return NULL;
	}
	put(o, "class", json_string(kn_dtype_name(d->type, true)), bad);
	put_str(o, "name", d->name, bad);
	put_str(o, "caption", d->caption, bad);
	put_str(o, "description", d->description, bad);
	put_meta(o, d->meta, bad);
	if (d->multi)
		put(o, "multiValued", json_true(), bad);
	if (d->nallowed > 0 || (d->allowed != NULL && d->range_text == NULL)) { /* ([]: kept) */
		json_t *r = json_array();
		for (size_t k = 0; r != NULL && k < d->nallowed; k++) {
			json_t *v = lit_json(&d->allowed[k]);
			if (d->range_obj != NULL ? d->range_obj[k] : d->range_objects) {
				json_t *ro = json_object();
				put(ro, "value", v, bad);
				put_str(ro, "caption", kn_allowed_caption(d, k), bad);
				v = ro;
			}
			append(r, v, bad);
		}
		put(o, "range", r, bad);
	}
	if (d->range_text != NULL)
		put_str(o, "range", d->range_text, bad);
	if (d->defval_text != NULL)
		put_str(o, "defaultValue", d->defval_text, bad);
	else if (d->defval.t != KN_V_UNKNOWN)
		put(o, "defaultValue", lit_json(&d->defval), bad);
	put_expr(m, o, "defaultCondition", d->defcond, bad);
	put_expr(m, o, "valueCondition", d->derive, bad);
	if (d->nwarnings > 0) {
		json_t *a = json_array();
		for (size_t k = 0; a != NULL && k < d->nwarnings; k++) {
			const struct kn_warning *w = &d->warnings[k];
			json_t *wo = json_object();
			put(wo, "class", json_string("Warning"), bad);
			put_str(wo, "caption", w->caption, bad);
			put_str(wo, "description", w->description, bad);
			put_meta(wo, w->meta, bad);
			put_expr(m, wo, "warnCondition", w->cond, bad);
			append(a, wo, bad);
		}
		put(o, "warnings", a, bad);
	}
	/* LEBEN extensions (PROformajs ignores keys it does not know) */
	put_str(o, "unit", d->unit, bad);
	if (d->has_range) {
		json_t *r = json_array();
		append(r, num_json(d->lo), bad);
		append(r, num_json(d->hi), bad);
		put(o, "bounds", r, bad);
	}
	put_expr(m, o, "validCondition", d->valid, bad);
	return o;
}

static json_t *task_json(const struct lb_kn_model *m, const struct kn_task *t, bool *bad)
{
	json_t *o = json_object();
	if (o == NULL) {
		*bad = true;
		return NULL;
	}
	put(o, "class", json_string(t->plain ? "Task" : kn_class_name(t->cls, true)), bad);
	put_str(o, "name", t->name, bad);
	put_str(o, "caption", t->caption, bad);
	put_str(o, "description", t->description, bad);
	put_meta(o, t->meta, bad);
	if (t->optional)
		put(o, "optional", json_true(), bad);
	if (t->autonomous)
		put(o, "autonomous", json_true(), bad);
	if (t->cyclic)
		put(o, "cyclic", json_true(), bad);
	if (t->trigger_json != NULL)
		put(o, "eventTrigger", json_loads(t->trigger_json, JSON_DECODE_ANY, NULL), bad);
	else
		put_str(o, "eventTrigger", t->trigger, bad);
	put_expr(m, o, "preCondition", t->pre, bad);
	put_expr(m, o, "waitCondition", t->wait, bad);
	put_expr(m, o, "terminateCondition", t->terminate, bad);
	put_expr(m, o, "abortCondition", t->abort, bad);
	put_expr(m, o, "cycleUntil", t->cycle_until, bad);
	if (t->use_defaults)
		put(o, "useDefaults", json_true(), bad);
	if (t->auto_most_supported)
		put(o, "autoConfirmMostSupported", json_true(), bad);
	/* LEBEN extensions */
	if (t->nafter > 0) {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < t->nafter; i++)
			append(a, json_string(t->after[i]), bad);
		put(o, "antecedents", a, bad);
	}
	if (t->priority != 0)
		put(o, "priority", json_integer(t->priority), bad);
	if (t->cycles != 0)
		put(o, "cycles", json_integer(t->cycles), bad);
	if (t->interval != 0)
		put(o, "interval", json_integer(t->interval), bad);
	if (t->npost > 0) {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < t->npost; i++) {
			json_t *p = json_object();
			put_str(p, "data", t->post[i].data, bad);
			put_expr(m, p, "value", t->post[i].e, bad);
			append(a, p, bad);
		}
		put(o, "postAssignments", a, bad);
	}
	if (t->cls == KN_DECISION && t->multiple)
		put(o, "choiceMode", json_string("multiple"), bad);
	put_str(o, "procedure", t->procedure, bad);
	/* data definitions held by this task */
	json_t *dd = json_array();
	for (size_t i = 0; dd != NULL && i < m->ndata; i++) {
		const struct kn_datadef *d = &m->data[i];
		if (d->owner_idx == t->idx)
			append(dd, data_json(m, d, bad), bad);
	}
	if (dd != NULL && json_array_size(dd) > 0)
		put(o, "dataDefinitions", dd, bad);
	else
		json_decref(dd);
	if (t->cls == KN_ENQUIRY && t->nsources > 0) {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < t->nsources; i++) {
			const struct kn_source *s = &t->sources[i];
			json_t *so = json_object();
			put(so, "class", json_string("Source"), bad);
			put_str(so, "type", s->data, bad);
			put_meta(so, s->meta, bad);
			put_expr(m, so, "requestCondition", s->request, bad);
			if (s->optional)
				put(so, "optional", json_true(), bad);
			append(a, so, bad);
		}
		put(o, "sources", a, bad);
	}
	if (t->cls == KN_DECISION && t->ncands > 0) {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < t->ncands; i++) {
			const struct kn_candidate *c = &t->cands[i];
			json_t *co = json_object();
			put(co, "class", json_string("Candidate"), bad);
			put_str(co, "name", c->name, bad);
			put_str(co, "caption", c->caption, bad);
			put_str(co, "description", c->description, bad);
			put_meta(co, c->meta, bad);
			if (c->auto_recommended)
				put(co, "autoConfirmRecommended", json_true(), bad);
			if (c->priority != 0)
				put(co, "priority", json_integer(c->priority), bad);
			json_t *args = json_array();
			for (size_t k = 0; args != NULL && k < c->nargs; k++) {
				const struct kn_argument *g = &c->args[k];
				static const char *const sym[] = { "", "+", "-", "++", "--" };
				json_t *ao = json_object();
				put(ao, "class", json_string("Argument"), bad);
				put_str(ao, "name", g->name, bad);
				put_str(ao, "caption", g->caption ? g->caption : "", bad);
				put_str(ao, "description", g->description, bad);
				put_meta(ao, g->meta, bad);
				put(ao, "support", g->kind == KN_SUP_WEIGHT ? num_json(g->weight)
									 : json_string(sym[g->kind]),
				    bad);
				if (g->cond != NULL)
					put_expr(m, ao, "activeCondition", g->cond, bad);
				else
					put(ao, "activeCondition", json_string("true"), bad);
				append(args, ao, bad);
			}
			if (c->nargs > 0)
				put(co, "arguments", args, bad);
			else
				json_decref(args);
			put_expr(m, co, "recommendCondition", c->recommend, bad);
			append(a, co, bad);
		}
		put(o, "candidates", a, bad);
	}
	if (t->cls == KN_PLAN && t->ntasks > 0) {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < t->ntasks; i++)
			append(a, task_json(m, t->tasks[i], bad), bad);
		put(o, "tasks", a, bad);
	}
	return o;
}

int kn_js_print(const struct lb_kn_model *m, struct lb_buf *b)
{
	bool bad = false;
	json_t *root = m->top_data ? data_json(m, &m->data[0], &bad) : task_json(m, m->root, &bad);
	if (root == NULL)
		return LB_ENOMEM;
	char *s = bad ? NULL : json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
	json_decref(root);
	if (s == NULL)
		return LB_ENOMEM;
	int rc = lb_buf_adds(b, s);
	rc = rc != LB_OK ? rc : lb_buf_addc(b, '\n');
	free(s);
	return rc;
}
