/*
 * The expression language shared by both contract forms: one tokenizer and recursive-descent
 * parser that accepts both spellings of the logical operators (`and`/`&&`, `or`/`||`,
 * `not`/`!`, `=`/`==`, `<>`/`!=`), single- or double-quoted strings, set literals and calls;
 * printers for the .pf style and the PROformajs (C-like) style; structural equality and copy.
 * Printing then re-parsing yields the same tree (the round-trip property the tests check).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knowledge/kn_int.h"

const struct kn_fn_info kn_fns[KN_F_COUNT_] = {
#define T KN_FA_TASK
#define D KN_FA_DATA
#define V KN_FA_VALUE
	[KN_F_IS_KNOWN] = { "is_known", 1, 1, false, KN_FT_BOOL, V, false },
	[KN_F_RESULT_OF] = { "result_of", 1, 1, true, KN_FT_TEXT, T, false },
	[KN_F_RESULT_SET] = { "result_set", 1, 1, true, KN_FT_SET, T, false },
	[KN_F_NET_SUPPORT] = { "net_support", 1, 2, true, KN_FT_NUM, T, false },
	[KN_F_IS_DORMANT] = { "is_dormant", 1, 1, true, KN_FT_BOOL, T, false },
	[KN_F_IS_IN_PROGRESS] = { "is_in_progress", 1, 1, true, KN_FT_BOOL, T, false },
	[KN_F_IS_COMPLETED] = { "is_completed", 1, 1, true, KN_FT_BOOL, T, false },
	[KN_F_IS_DISCARDED] = { "is_discarded", 1, 1, true, KN_FT_BOOL, T, false },
	[KN_F_IS_FINISHED] = { "is_finished", 1, 1, true, KN_FT_BOOL, T, false },
	[KN_F_INCLUDES] = { "includes", 2, 2, false, KN_FT_BOOL, V, false },
	[KN_F_COUNT] = { "count", 1, 1, false, KN_FT_NUM, V, false },
	[KN_F_NOW] = { "now", 0, 0, false, KN_FT_DATE, V, false },
	[KN_F_DATE] = { "date", 1, 1, false, KN_FT_DATE, V, true },
	[KN_F_ABS] = { "abs", 1, 1, false, KN_FT_NUM, V, false },
	[KN_F_MIN] = { "min", 1, 2, false, KN_FT_ANY, V, false },
	[KN_F_MAX] = { "max", 1, 2, false, KN_FT_ANY, V, false },
	[KN_F_IS_RECOMMENDED] = { "is_recommended", 1, 2, true, KN_FT_BOOL, T, true },
	[KN_F_IN_PROGRESS_TIME] = { "in_progress_time", 1, 1, true, KN_FT_DATE, T, false },
	[KN_F_COMPLETED_TIME] = { "completed_time", 1, 1, true, KN_FT_DATE, T, false },
	[KN_F_DISCARDED_TIME] = { "discarded_time", 1, 1, true, KN_FT_DATE, T, false },
	[KN_F_FINISHED_TIME] = { "finished_time", 1, 1, true, KN_FT_DATE, T, false },
	[KN_F_IS_VALID] = { "is_valid", 1, 1, false, KN_FT_BOOL, D, false },
	[KN_F_CAPTION] = { "caption", 1, 1, false, KN_FT_ANY, D, false },
	[KN_F_CAPTIONS] = { "captions", 1, 1, false, KN_FT_TEXT, D, false },
	[KN_F_LAST_UPDATED] = { "last_updated", 1, 1, false, KN_FT_DATE, D, false },
	[KN_F_NUM_FINISHED] = { "num_finished", 1, 1, false, KN_FT_NUM, KN_FA_TASKS, false },
	[KN_F_NUM_COMPLETED] = { "num_completed", 1, 1, false, KN_FT_NUM, KN_FA_TASKS, false },
	[KN_F_DATE_PART_HOUR] = { "date_part_hour", 1, 1, false, KN_FT_NUM, D, false },
	[KN_F_ROUND] = { "round", 1, 1, false, KN_FT_NUM, V, false },
	[KN_F_RANDOM] = { "random", 0, 0, false, KN_FT_NUM, V, false },
	[KN_F_SIN] = { "sin", 1, 1, false, KN_FT_NUM, V, false },
	[KN_F_COS] = { "cos", 1, 1, false, KN_FT_NUM, V, false },
	[KN_F_TAN] = { "tan", 1, 1, false, KN_FT_NUM, V, false },
	[KN_F_ASIN] = { "asin", 1, 1, false, KN_FT_NUM, V, false },
	[KN_F_ACOS] = { "acos", 1, 1, false, KN_FT_NUM, V, false },
	[KN_F_ATAN] = { "atan", 1, 1, false, KN_FT_NUM, V, false },
	[KN_F_SUM] = { "sum", 1, 1, false, KN_FT_NUM, V, false },
	[KN_F_NTH] = { "nth", 2, 2, false, KN_FT_ANY, V, false },
	[KN_F_EXP] = { "exp", 1, 1, false, KN_FT_NUM, V, false },
	[KN_F_LOG] = { "log", 1, 1, false, KN_FT_NUM, V, false },
	[KN_F_INDEX] = { "index", 0, 1, true, KN_FT_NUM, T, false },
	[KN_F_LAST_FINISHED] = { "last_finished", 1, 1, true, KN_FT_TEXT, T, false },
	[KN_F_PATH] = { "path", 0, 1, true, KN_FT_TEXT, T, false },
#undef T
#undef D
#undef V
};

int kn_fn_lookup(const char *name)
{
	for (int i = 0; i < KN_F_COUNT_; i++)
		if (strcmp(kn_fns[i].name, name) == 0)
			return i;
	return -1;
}

/* ---- tokenizer --------------------------------------------------------------------------- */

enum tok { T_END, T_NUM, T_STR, T_ID, T_OP };

struct lexer {
	const char *s, *end, *p; /* text, its end, cursor */
	int line, col;           /* position of p */
	int t;                   /* current token kind */
	const char *ts;          /* token start */
	size_t tn;               /* token length */
	int tline, tcol;         /* token position */
	char *str;               /* T_STR: decoded content (owned) */
	size_t strn;
	struct lb_errmsg *em;
	int depth;               /* nesting, bounded */
	bool js;                 /* PROformajs (JavaScript) syntax only */
};

/* Nesting bounds: the tree may be at most KN_EXPR_MAX_TREE deep, whichever form it is written
 * in (so a contract that loads in one form loads in the other, whose printer may add
 * parentheses); the parser's own recursion is bounded more loosely, for the stack. */
#define KN_EXPR_MAX_TREE 200
#define KN_EXPR_MAX_DEPTH (4 * KN_EXPR_MAX_TREE)

static void adv(struct lexer *lx)
{
	if (*lx->p == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->p++;
}

static int lex_err(struct lexer *lx, const char *what)
{
	char near[24];
	size_t n = lx->tn < 16 ? lx->tn : 16;
	if (lx->t == T_END)
		snprintf(near, sizeof(near), "end of expression");
	else
		snprintf(near, sizeof(near), "'%.*s'", (int)n, lx->ts);
	return lb_errf(lx->em, LB_ESYNTAX, "%d:%d: expected %s, found %s", lx->tline, lx->tcol,
		       what, near);
}

static bool is_id0(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_id(int c)
{
	return is_id0(c) || (c >= '0' && c <= '9');
}

/* JavaScript's operators the .pf form lacks (PROformajs's parser, jsep): `>>>`, `**`, `??`,
 * `<<`, `>>`, `&`, `|`, `^`, `~` and the separators `;` of a compound expression. `&&`, `||`,
 * `<=`, `>=` are left to the common table. */
static bool js_op_token(struct lexer *lx)
{
	static const char *const ops[] = { ">>>", "**", "??", "<<", ">>" };
	size_t left = (size_t)(lx->end - lx->p);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i]);
		if (left >= n && memcmp(lx->p, ops[i], n) == 0) {
			for (size_t k = 0; k < n; k++)
				adv(lx);
			lx->tn = n;
			return true;
		}
	}
	char c = *lx->p;
	if (strchr("&|^~;", c) == NULL || c == 0 ||
	    (left >= 2 && (c == '&' || c == '|') && lx->p[1] == c))
		return false;
	adv(lx);
	lx->tn = 1;
	return true;
}

static int next(struct lexer *lx)
{
	lb_free(lx->str);
	lx->str = NULL;
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' ||
				   *lx->p == '\r'))
		adv(lx);
	lx->ts = lx->p;
	lx->tline = lx->line;
	lx->tcol = lx->col;
	lx->tn = 0;
	if (lx->p >= lx->end) {
		lx->t = T_END;
		return LB_OK;
	}
	unsigned char c = (unsigned char)*lx->p;
	/* (.5: a number, in PROformajs's parser as in JavaScript) */
	bool dot_num = lx->js && c == '.' && lx->p + 1 < lx->end && lx->p[1] >= '0' &&
		       lx->p[1] <= '9';
	if ((c >= '0' && c <= '9') || dot_num) {
		while (lx->p < lx->end && ((*lx->p >= '0' && *lx->p <= '9') || *lx->p == '.'))
			adv(lx);
		if (lx->p < lx->end && (*lx->p == 'e' || *lx->p == 'E')) {
			adv(lx);
			if (lx->p < lx->end && (*lx->p == '+' || *lx->p == '-'))
				adv(lx);
			while (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9')
				adv(lx);
		}
		lx->t = T_NUM;
		/* (PROformajs's parser: "Variable names cannot start with a number", `1h`) */
		if (lx->js && lx->p < lx->end && (is_id0((unsigned char)*lx->p) || *lx->p == '$')) {
			lx->tn = (size_t)(lx->p - lx->ts) + 1;
			return lb_errf(lx->em, LB_ESYNTAX,
				       "%d:%d: a name cannot start with a number ('%.*s')", lx->tline,
				       lx->tcol, (int)(lx->tn < 16 ? lx->tn : 16), lx->ts);
		}
	} else if (is_id0(c)) {
		while (lx->p < lx->end && is_id((unsigned char)*lx->p))
			adv(lx);
		lx->t = T_ID;
	} else if (c == '"' || c == '\'') {
		struct lb_buf b;
		lb_buf_init(&b, LB_KN_MAX_SOURCE);
		adv(lx);
		for (;;) {
			if (lx->p >= lx->end) {
				lb_buf_release(&b);
				lx->tn = (size_t)(lx->p - lx->ts);
				return lb_errf(lx->em, LB_ESYNTAX,
					       "%d:%d: expected closing %c of the string", lx->tline,
					       lx->tcol, c);
			}
			char ch = *lx->p;
			if (ch == (char)c) {
				adv(lx);
				break;
			}
			if (ch == '\\' && lx->p + 1 < lx->end) {
				adv(lx);
				ch = *lx->p;
				ch = ch == 'n' ? '\n' : ch == 't' ? '\t' : ch;
			}
			if (ch == 0) {
				lb_buf_release(&b);
				return lb_errf(lx->em, LB_ESYNTAX, "%d:%d: NUL byte in string",
					       lx->line, lx->col);
			}
			if (lb_buf_addc(&b, (uint8_t)ch) != LB_OK) {
				lb_buf_release(&b);
				return lb_errf(lx->em, LB_ENOMEM, "out of memory");
			}
			adv(lx);
		}
		lx->strn = b.len;
		lx->str = b.data ? (char *)lb_buf_detach(&b, NULL) : lb_strdup("");
		if (lx->str == NULL)
			return lb_errf(lx->em, LB_ENOMEM, "out of memory");
		lx->t = T_STR;
	} else {
		static const char *const two[] = { "&&", "||", "==", "!=", "<>", "<=", ">=" };
		lx->t = T_OP;
		if (lx->js && js_op_token(lx))
			return LB_OK;
		if (lx->end - lx->p >= 3 && (lx->p[0] == '=' || lx->p[0] == '!') &&
		    lx->p[1] == '=' && lx->p[2] == '=') {
			adv(lx);
			adv(lx);
			adv(lx);
			lx->tn = 3;
			return LB_OK;
		}
		for (size_t i = 0; i < sizeof(two) / sizeof(two[0]); i++) {
			if (lx->end - lx->p >= 2 && lx->p[0] == two[i][0] && lx->p[1] == two[i][1]) {
				adv(lx);
				adv(lx);
				lx->tn = 2;
				return LB_OK;
			}
		}
		/* member access: `.` and `?.` (`a?.5 : 1` too: PROformajs's parser reads `?.` as
		 * optional member access and refuses it there, unlike JavaScript) */
		if (lx->js && c == '?' && lx->p + 1 < lx->end && lx->p[1] == '.') {
			adv(lx);
			adv(lx);
			lx->tn = 2;
			return LB_OK;
		}
		if (lx->js && c == '.') {
			adv(lx);
			lx->tn = 1;
			return LB_OK;
		}
		if (strchr("+-*/%()[]{},<>=!?:", c) == NULL || c == 0) {
			lx->tn = 1;
			return lb_errf(lx->em, LB_ESYNTAX, "%d:%d: unexpected character '%c' (0x%02x)",
				       lx->tline, lx->tcol, c >= 0x20 && c < 0x7f ? c : '?', c);
		}
		adv(lx);
	}
	lx->tn = (size_t)(lx->p - lx->ts);
	return LB_OK;
}

static bool is_op(struct lexer *lx, const char *op)
{
	size_t n = strlen(op);
	return lx->t == T_OP && lx->tn == n && memcmp(lx->ts, op, n) == 0;
}

static bool is_kw(struct lexer *lx, const char *kw)
{
	size_t n = strlen(kw);
	return lx->t == T_ID && lx->tn == n && memcmp(lx->ts, kw, n) == 0;
}

/* ---- trees ------------------------------------------------------------------------------- */

void kn_expr_free(struct kn_expr *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->nargs; i++)
		kn_expr_free(e->args[i]);
	lb_free(e->args);
	lb_free(e->name);
	kn_value_clear(&e->v);
	lb_free(e);
}

static struct kn_expr *node(int op, int line, int col)
{
	struct kn_expr *e = lb_calloc(1, sizeof(*e));
	if (e != NULL) {
		e->op = op;
		e->ref = -1;
		e->ref2 = -1;
		e->line = line;
		e->col = col;
	}
	return e;
}

static int push_arg(struct kn_expr *e, struct kn_expr *a)
{
	struct kn_expr **n = lb_realloc(e->args, (e->nargs + 1) * sizeof(*n));
	if (n == NULL)
		return LB_ENOMEM;
	e->args = n;
	e->args[e->nargs++] = a;
	return LB_OK;
}

static struct kn_expr *binary(int op, struct kn_expr *a, struct kn_expr *b)
{
	struct kn_expr *e = node(op, a->line, a->col);
	if (e == NULL || push_arg(e, a) != LB_OK || push_arg(e, b) != LB_OK) {
		if (e != NULL) {
			/* args pushed so far are freed by the caller via a/b */
			lb_free(e->args);
			lb_free(e);
		}
		return NULL;
	}
	return e;
}

static int parse_expr(struct lexer *lx, struct kn_expr **out);

static int nomem(struct lexer *lx)
{
	return lb_errf(lx->em, LB_ENOMEM, "out of memory");
}

static bool js_starts_expr(struct lexer *lx);
static int js_skip_separators(struct lexer *lx, const char **prev);

static int parse_list(struct lexer *lx, struct kn_expr *e, const char *close)
{
	int rc;
	bool commas = false, blanks = false;
	if (is_op(lx, close))
		return next(lx);
	for (;;) {
		struct kn_expr *a;
		if ((rc = parse_expr(lx, &a)) != LB_OK)
			return rc;
		if (push_arg(e, a) != LB_OK) {
			kn_expr_free(a);
			return nomem(lx);
		}
		/* PROformajs's parser (jsep) also reads elements and arguments separated by
		 * blanks alone, all of them (`[a b]`, `f(a b)`); `[a b,]` too */
		if (is_op(lx, ",") && !(blanks && close[0] == ')')) {
			commas = true;
			rc = next(lx);
			if (rc == LB_OK && blanks && !is_op(lx, close))
				return lex_err(lx, "']' (elements are separated by blanks or by ',', "
						   "not both)");
		} else if (is_op(lx, close)) {
			return next(lx);
		} else if (lx->js && !commas && js_starts_expr(lx)) {
			blanks = true;
			continue;
		} else {
			return lex_err(lx, close[0] == ')' ? "',' or ')'" : "',' or ']'");
		}
		if (rc != LB_OK)
			return rc;
		/* [1, 2,]: PROformajs's parser takes a trailing comma in a list */
		if (lx->js && close[0] == ']' && is_op(lx, close))
			return next(lx);
	}
}

/* ---- JavaScript's member access, `this`, calls, sequences (the JSON form) ------------------ */

/* PROformajs's evaluator (jse-eval) refuses a member key matching /^__proto__|prototype|
 * constructor$/: reading it throws ("Access to member ... disallowed"). */
bool kn_js_key_disallowed(const char *k)
{
	size_t n = strlen(k);
	return strncmp(k, "__proto__", 9) == 0 || strstr(k, "prototype") != NULL ||
	       (n >= 11 && strcmp(k + n - 11, "constructor") == 0);
}

/* The own properties of the prototypes a value PROformajs's evaluator sees may have
 * (String, Array, Number, Boolean, Object and moment.js's), which LEBEN does not model: a
 * member access naming one is refused (node 22; `length` and the modelled methods are
 * left out: kn_js_member). */
static const char *const js_builtin[] = {
	"__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__", "add",
	"anchor", "at", "big", "blink", "bold", "calendar", "charAt", "charCodeAt", "clone",
	"codePointAt", "concat", "copyWithin", "creationData", "date", "dates", "day", "dayOfYear",
	"daysInMonth", "endOf", "endsWith", "entries", "eraAbbr", "eraName", "eraNarrow",
	"eraYear", "every", "fill", "filter", "find", "findIndex", "findLast", "findLastIndex",
	"fixed", "flat", "flatMap", "fontcolor", "fontsize", "forEach", "format", "from",
	"fromNow", "get", "hasAlignedHourOffset", "hasOwnProperty", "hour", "indexOf", "inspect",
	"invalidAt", "isAfter", "isBefore", "isBetween", "isDST", "isDSTShifted", "isLeapYear",
	"isLocal", "isPrototypeOf", "isSame", "isSameOrAfter", "isSameOrBefore", "isUTC", "isUtc",
	"isUtcOffset", "isValid", "isWellFormed", "isoWeek", "isoWeekYear", "isoWeekday",
	"isoWeeks", "isoWeeksInISOWeekYear", "isoWeeksInYear", "italics", "join", "keys", "lang",
	"lastIndexOf", "link", "local", "locale", "localeCompare", "localeData", "map", "match",
	"matchAll", "max", "millisecond", "min", "minute", "minutes", "month", "normalize",
	"padEnd", "padStart", "parseZone", "parsingFlags", "pop", "propertyIsEnumerable", "push",
	"quarter", "quarters", "reduce", "reduceRight", "repeat", "replace", "replaceAll",
	"reverse", "search", "second", "set", "shift", "slice", "small", "some", "sort", "splice",
	"split", "startOf", "startsWith", "strike", "sub", "substr", "substring", "subtract",
	"sup", "to", "toArray", "toDate", "toExponential", "toFixed", "toISOString", "toJSON",
	"toLocaleLowerCase", "toLocaleString", "toLocaleUpperCase", "toLowerCase", "toNow",
	"toObject", "toPrecision", "toReversed", "toSorted", "toSpliced", "toString",
	"toUpperCase", "toWellFormed", "trim", "trimEnd", "trimLeft", "trimRight", "trimStart",
	"unix", "unshift", "utc", "utcOffset", "valueOf", "values", "week", "weekYear", "weekday",
	"weeks", "weeksInWeekYear", "weeksInYear", "with", "year", "zone", "zoneAbbr", "zoneName",
};

/* The methods LEBEN models, with the most arguments each reads. */
static const struct {
	const char *name;
	int max_args;
} js_methods[] = {
	{ "includes", 1 }, { "diff", 3 },  { "years", 0 },   { "months", 0 },
	{ "days", 0 },     { "hours", 0 }, { "seconds", 0 }, { "milliseconds", 0 },
};

int kn_js_member(const char *name)
{
	if (kn_js_key_disallowed(name))
		return KN_JSM_UNDEFINED;
	if (strcmp(name, "length") == 0)
		return KN_JSM_LENGTH;
	for (size_t i = 0; i < sizeof(js_methods) / sizeof(js_methods[0]); i++)
		if (strcmp(js_methods[i].name, name) == 0)
			return KN_JSM_METHOD;
	for (size_t i = 0; i < sizeof(js_builtin) / sizeof(js_builtin[0]); i++)
		if (strcmp(js_builtin[i], name) == 0)
			return KN_JSM_BUILTIN;
	return KN_JSM_UNDEFINED;
}

static int js_member_refuse(struct lexer *lx, const char *name, int line, int col)
{
	return lb_errf(lx->em, LB_ESYNTAX,
		       "%d:%d: JavaScript's member '%.40s' (a method or property of JavaScript's or "
		       "moment.js's own) is not read: LEBEN reads .length, .includes(x) and moment's "
		       "diff(), years(), months(), days(), hours(), seconds(), milliseconds() "
		       "(docs/knowledge-language.md §4.2)",
		       line, col, name);
}

/* A member key written out (`.name`, `['name']`): refused when it names a JavaScript or
 * moment.js property LEBEN does not model. */
static int js_member_check(struct lexer *lx, const char *name, int line, int col)
{
	if (kn_js_member(name) == KN_JSM_BUILTIN)
		return js_member_refuse(lx, name, line, col);
	return LB_OK;
}

/* The method name a callee denotes (`a.name`, `a['name']`), or NULL. */
static const char *js_callee_key(const struct kn_expr *e)
{
	if (e->op == KN_E_MEMBER)
		return e->name;
	if (e->op == KN_E_INDEX && e->args[1]->op == KN_E_CONST && e->args[1]->v.t == KN_V_TEXT)
		return e->args[1]->v.u.s;
	return NULL;
}

/* e (a name) is called: `(` is the current token. includes(set, x) is the membership x in
 * set. */
static int parse_call(struct lexer *lx, struct kn_expr *e)
{
	int rc;
	e->op = KN_E_CALL;
	if ((rc = next(lx)) != LB_OK || (rc = parse_list(lx, e, ")")) != LB_OK)
		return rc;
	if (strcmp(e->name, "includes") == 0 && e->nargs == 2 && kn_expr_this(e) == 0) {
		struct kn_expr *t = e->args[0];
		e->args[0] = e->args[1];
		e->args[1] = t;
		e->op = KN_E_IN;
		lb_free(e->name);
		e->name = NULL;
	}
	return LB_OK;
}

/* `this` (the current token), PROformajs's evaluator object: its own properties are the data
 * values by name (and the tasks' state objects by runtime path), its methods the functions.
 * Read: this.NAME and this['NAME'] (the name's value, as the bare name), this.f(...) and
 * this['f'](...) (the function f), and `this` alone (KN_THIS_BARE). */
static int parse_this(struct lexer *lx, struct kn_expr **out)
{
	int line = lx->tline, col = lx->tcol, rc, mark = 0;
	char *name = NULL;
	if ((rc = next(lx)) != LB_OK)
		return rc;
	if (!is_op(lx, ".") && !is_op(lx, "[") && !is_op(lx, "?.") && !is_op(lx, "(")) {
		struct kn_expr *e = node(KN_E_NAME, line, col);
		if (e == NULL || (e->name = lb_strdup("this")) == NULL) {
			kn_expr_free(e);
			return nomem(lx);
		}
		e->v.t = KN_V_INT;
		e->v.u.i = KN_THIS_BARE;
		*out = e;
		return LB_OK;
	}
	if (is_op(lx, ".")) {
		if ((rc = next(lx)) != LB_OK)
			return rc;
		if (lx->t != T_ID)
			return lex_err(lx, "a property name after '.'");
		if ((name = lb_malloc(lx->tn + 1)) == NULL)
			return nomem(lx);
		memcpy(name, lx->ts, lx->tn);
		name[lx->tn] = 0;
		mark = KN_THIS_DOT;
	} else if (is_op(lx, "[")) {
		if ((rc = next(lx)) != LB_OK)
			return rc;
		if (lx->t == T_STR) {
			name = lx->str;
			lx->str = NULL;
			if ((rc = next(lx)) != LB_OK) {
				lb_free(name);
				return rc;
			}
			mark = is_op(lx, "]") ? KN_THIS_INDEX : 0;
		}
	}
	if (mark == 0) {
		lb_free(name);
		return lb_errf(lx->em, LB_ESYNTAX,
			       "%d:%d: 'this' (PROformajs's evaluator object) is read only as "
			       "this.NAME or this['NAME'] (a data item's value), this.f(...) (a "
			       "function) and alone: write the name itself",
			       line, col);
	}
	if ((rc = next(lx)) != LB_OK) {
		lb_free(name);
		return rc;
	}
	struct kn_expr *e = node(KN_E_NAME, line, col);
	if (e == NULL) {
		lb_free(name);
		return nomem(lx);
	}
	e->name = name;
	e->v.t = KN_V_INT;
	e->v.u.i = mark;
	if (is_op(lx, "(")) {
		if ((rc = parse_call(lx, e)) != LB_OK) {
			kn_expr_free(e);
			return rc;
		}
	}
	*out = e;
	return LB_OK;
}

/* A list node of one expression (a compound or a sequence) is that expression. */
static struct kn_expr *sole(struct kn_expr *e)
{
	if (e->nargs != 1)
		return e;
	struct kn_expr *x = e->args[0];
	e->nargs = 0;
	kn_expr_free(e);
	return x;
}

/* `(` in JavaScript: a group, whose expressions may be separated by `,`, `;` or nothing; two
 * or more are a sequence (jsep). */
static int parse_js_group(struct lexer *lx, struct kn_expr **out)
{
	int rc, line = lx->tline, col = lx->tcol;
	struct kn_expr *e = node(KN_E_SEQUENCE, line, col), *x;
	if (e == NULL)
		return nomem(lx);
	const char *prev = lx->p; /* (right after the `(`) */
	if ((rc = next(lx)) != LB_OK)
		goto err;
	for (;;) {
		if ((rc = js_skip_separators(lx, &prev)) != LB_OK)
			goto err;
		if (is_op(lx, ")") && prev != NULL && lx->ts > prev) {
			/* "( )", "(a, )": jsep wants an expression after those blanks */
			rc = lex_err(lx, "an expression in '()'");
			goto err;
		}
		if (is_op(lx, ")"))
			break;
		if (e->nargs > 0 && !js_starts_expr(lx)) {
			rc = lex_err(lx, "')'");
			goto err;
		}
		if ((rc = parse_expr(lx, &x)) != LB_OK)
			goto err;
		if (push_arg(e, x) != LB_OK) {
			kn_expr_free(x);
			rc = nomem(lx);
			goto err;
		}
		prev = NULL;
	}
	if (e->nargs == 0) {
		rc = lex_err(lx, "an expression in '()'");
		goto err;
	}
	if ((rc = next(lx)) != LB_OK)
		goto err;
	*out = sole(e);
	return LB_OK;
err:
	kn_expr_free(e);
	return rc;
}

/* `.name`, `?.`, `(args)` after an expression *e (JavaScript). */
static void mark_optional(struct kn_expr *e, bool opt)
{
	if (opt) {
		e->v.t = KN_V_BOOL;
		e->v.u.b = true;
	}
}

/* `(this).x`, `(this)[k]`, `(this)(...)`: the evaluator object's member, which LEBEN reads only
 * as this.NAME / this['NAME'] / this.f(...) */
static int this_object(struct lexer *lx, const struct kn_expr *e)
{
	if (e->op != KN_E_NAME || kn_expr_this(e) != KN_THIS_BARE)
		return LB_OK;
	return lb_errf(lx->em, LB_ESYNTAX,
		       "%d:%d: 'this' (PROformajs's evaluator object) is read only as this.NAME or "
		       "this['NAME'] (a data item's value), this.f(...) (a function) and alone: "
		       "write the name itself",
		       e->line, e->col);
}

/* `.name`, `(args)`, and after `?.` (opt, consumed) `name`, `(args)` */
static int parse_js_postfix(struct lexer *lx, struct kn_expr **e, bool opt)
{
	int rc, line = lx->tline, col = lx->tcol;
	struct kn_expr *x;
	if (lx->t == T_NUM) /* `a.5`, `a?.5 : 1`: jsep wants a name after the '.' */
		return lex_err(lx, "a property name after '.'");
	if (is_op(lx, "(")) {
		const char *key = js_callee_key(*e);
		/* `(f)(x)` is f(x); `f?.(x)` too (PROformajs's evaluator reads no `?.` of a call
		 * by name: it is written back as f(x), the same syntax tree but for that flag) */
		if ((*e)->op == KN_E_NAME && kn_expr_this(*e) == 0)
			return parse_call(lx, *e);
		if ((rc = this_object(lx, *e)) != LB_OK)
			return rc;
		if ((x = node(KN_E_APPLY, (*e)->line, (*e)->col)) == NULL)
			return nomem(lx);
		if (push_arg(x, *e) != LB_OK) {
			lb_free(x);
			return nomem(lx);
		}
		mark_optional(x, opt);
		*e = x;
		if ((rc = next(lx)) != LB_OK || (rc = parse_list(lx, x, ")")) != LB_OK)
			return rc;
		for (size_t i = 0; key != NULL && i < sizeof(js_methods) / sizeof(js_methods[0]); i++)
			if (strcmp(js_methods[i].name, key) == 0 &&
			    (int)x->nargs - 1 > js_methods[i].max_args)
				return lb_errf(lx->em, LB_ESYNTAX,
					       "%d:%d: JavaScript's .%s() with %zu arguments is not read "
					       "(LEBEN reads %d at most)",
					       line, col, key, x->nargs - 1, js_methods[i].max_args);
		return LB_OK;
	}
	/* `.name` */
	if ((rc = this_object(lx, *e)) != LB_OK)
		return rc;
	if (!opt && (rc = next(lx)) != LB_OK)
		return rc;
	if (lx->t != T_ID)
		return lex_err(lx, "a property name after '.'");
	if ((x = node(KN_E_MEMBER, (*e)->line, (*e)->col)) == NULL ||
	    (x->name = lb_malloc(lx->tn + 1)) == NULL || push_arg(x, *e) != LB_OK) {
		kn_expr_free(x);
		return nomem(lx);
	}
	mark_optional(x, opt);
	memcpy(x->name, lx->ts, lx->tn);
	x->name[lx->tn] = 0;
	*e = x;
	if ((rc = js_member_check(lx, x->name, lx->tline, lx->tcol)) != LB_OK)
		return rc;
	if ((rc = next(lx)) != LB_OK)
		return rc;
	return LB_OK;
}

static int parse_primary(struct lexer *lx, struct kn_expr **out)
{
	int rc;
	struct kn_expr *e = NULL;
	int line = lx->tline, col = lx->tcol;
	if (lx->t == T_NUM) {
		/* JavaScript's numbers: any number of digits, read as the nearest double (a whole
		 * number beyond 2^53 is no longer exact; 1e400 is Infinity) */
		char *tmp = lb_malloc(lx->tn + 1);
		if (tmp == NULL || (e = node(KN_E_CONST, line, col)) == NULL) {
			lb_free(tmp);
			return nomem(lx);
		}
		memcpy(tmp, lx->ts, lx->tn);
		tmp[lx->tn] = 0;
		char *endp;
		errno = 0;
		e->v.t = KN_V_REAL;
		e->v.u.r = strtod(tmp, &endp);
		bool ok = *endp == 0 && strchr(tmp, '.') == strrchr(tmp, '.');
		if (ok && strpbrk(tmp, ".eE") == NULL && fabs(e->v.u.r) <= 9007199254740992.0) {
			e->v.t = KN_V_INT;
			e->v.u.i = strtoll(tmp, &endp, 10);
		}
		lb_free(tmp);
		if (!ok) {
			kn_expr_free(e);
			return lex_err(lx, "a number");
		}
		if ((rc = next(lx)) == LB_OK && lx->js) {
			/* (PROformajs's parser reads no index, member or call after a number: `1[0]`
			 * is two expressions there) */
			*out = e;
			return LB_OK;
		}
	} else if (lx->t == T_STR) {
		if ((e = node(KN_E_CONST, line, col)) == NULL)
			return nomem(lx);
		e->v.t = KN_V_TEXT;
		e->v.u.s = lx->str;
		lx->str = NULL;
		rc = next(lx);
	} else if (lx->t == T_ID) {
		if (is_kw(lx, "true") || is_kw(lx, "false")) {
			if ((e = node(KN_E_CONST, line, col)) == NULL)
				return nomem(lx);
			e->v.t = KN_V_BOOL;
			e->v.u.b = is_kw(lx, "true");
			rc = next(lx);
		} else if (!lx->js && (is_kw(lx, "unknown") || is_kw(lx, "null") ||
				       is_kw(lx, "undefined"))) {
			if ((e = node(KN_E_CONST, line, col)) == NULL)
				return nomem(lx);
			rc = next(lx);
		} else if (lx->js && is_kw(lx, "this")) {
			if ((rc = parse_this(lx, &e)) != LB_OK)
				return rc;
		} else if (lx->js && is_kw(lx, "undefined")) {
			if ((e = node(KN_E_CONST, line, col)) == NULL)
				return nomem(lx);
			rc = next(lx);
		} else if (lx->js && (is_kw(lx, "and") || is_kw(lx, "or") || is_kw(lx, "not") ||
				      is_kw(lx, "in") || is_kw(lx, "unknown") || is_kw(lx, "null"))) {
			/* (PROformajs's validation fails on a null literal too) */
			return lex_err(lx, "PROformajs (JavaScript) syntax: '&&', '||', '!', "
					   "includes(set, x) and undefined instead of and, or, not, in, "
					   "unknown, null;");
		} else if (is_kw(lx, "and") || is_kw(lx, "or") || is_kw(lx, "not") ||
			   is_kw(lx, "in")) {
			return lex_err(lx, "a value, name or '('");
		} else {
			if ((e = node(KN_E_NAME, line, col)) == NULL)
				return nomem(lx);
			if ((e->name = lb_malloc(lx->tn + 1)) == NULL)
				goto err_nomem;
			memcpy(e->name, lx->ts, lx->tn);
			e->name[lx->tn] = 0;
			if ((rc = next(lx)) != LB_OK)
				goto err;
			if (is_op(lx, "(") && (rc = parse_call(lx, e)) != LB_OK)
				goto err;
		}
	} else if (lx->js && is_op(lx, "(")) {
		if ((rc = parse_js_group(lx, &e)) != LB_OK)
			return rc;
	} else if (is_op(lx, "(")) {
		if ((rc = next(lx)) != LB_OK || (rc = parse_expr(lx, &e)) != LB_OK)
			return rc;
		if (!is_op(lx, ")")) {
			kn_expr_free(e);
			return lex_err(lx, "')'");
		}
		rc = next(lx);
	} else if (lx->js && is_op(lx, "{")) {
		return lex_err(lx, "a value, name or '(' (sets are written [a, b] in PROformajs)");
	} else if (is_op(lx, "[") || is_op(lx, "{")) {
		const char *close = is_op(lx, "[") ? "]" : "}";
		if ((e = node(KN_E_LIST, line, col)) == NULL)
			return nomem(lx);
		if ((rc = next(lx)) != LB_OK || (rc = parse_list(lx, e, close)) != LB_OK)
			goto err;
	} else {
		return lex_err(lx, "a value, name or '('");
	}
	if (rc != LB_OK)
		goto err;
	/* postfix index: a[i]; in JavaScript also a.name, a(args) (a chain as long as the tree
	 * may be deep) */
	for (int chain = 0;
	     is_op(lx, "[") || (lx->js && (is_op(lx, ".") || is_op(lx, "?.") || is_op(lx, "(") ||
					   (lx->t == T_NUM && lx->ts[0] == '.')));
	     chain++) {
		if (chain > KN_EXPR_MAX_TREE) {
			rc = lb_errf(lx->em, LB_ELIMIT, "%d:%d: expression nested too deeply",
				     lx->tline, lx->tcol);
			goto err;
		}
		/* optional member access `?.` (jse-eval: a falsy object reads as {}; a missing
		 * method called through it gives undefined) */
		bool opt = lx->js && is_op(lx, "?.");
		if (opt && (rc = next(lx)) != LB_OK)
			goto err;
		if (!is_op(lx, "[")) {
			if ((rc = parse_js_postfix(lx, &e, opt)) != LB_OK)
				goto err;
			continue;
		}
		struct kn_expr *i, *x;
		if ((rc = this_object(lx, e)) != LB_OK)
			goto err;
		if (++lx->depth > KN_EXPR_MAX_DEPTH) {
			rc = lb_errf(lx->em, LB_ELIMIT, "%d:%d: expression nested too deeply",
				     lx->tline, lx->tcol);
			goto err;
		}
		if ((rc = next(lx)) != LB_OK || (rc = parse_expr(lx, &i)) != LB_OK)
			goto err;
		lx->depth--;
		if (!is_op(lx, "]")) {
			kn_expr_free(i);
			rc = lex_err(lx, "']'");
			goto err;
		}
		if ((x = binary(KN_E_INDEX, e, i)) == NULL) {
			kn_expr_free(i);
			goto err_nomem;
		}
		e = x;
		mark_optional(x, opt);
		if ((rc = next(lx)) != LB_OK)
			goto err;
		if (lx->js && i->op == KN_E_CONST && i->v.t == KN_V_TEXT &&
		    (rc = js_member_check(lx, i->v.u.s, i->line, i->col)) != LB_OK)
			goto err;
	}
	*out = e;
	return LB_OK;
err_nomem:
	rc = nomem(lx);
err:
	kn_expr_free(e);
	return rc;
}

static int parse_unary(struct lexer *lx, struct kn_expr **out)
{
	/* prefix operators: unary plus (the operand as a number, JavaScript's usual conversion),
	 * JavaScript's `!` (binds tighter than comparisons and arithmetic there), minus */
	int op = -1;
	if (is_op(lx, "+"))
		op = KN_E_POS;
	else if (lx->js && is_op(lx, "!"))
		op = KN_E_NOT;
	else if (lx->js && is_op(lx, "~"))
		op = KN_E_BNOT;
	else if (is_op(lx, "-"))
		op = KN_E_NEG;
	if (op < 0)
		return parse_primary(lx, out);
	int line = lx->tline, col = lx->tcol, rc;
	struct kn_expr *a;
	if (++lx->depth > KN_EXPR_MAX_DEPTH)
		return lb_errf(lx->em, LB_ELIMIT, "%d:%d: expression nested too deeply", line, col);
	if ((rc = next(lx)) != LB_OK || (rc = parse_unary(lx, &a)) != LB_OK)
		return rc;
	lx->depth--;
	/* fold negative literals so printing "-5" reads back as the same constant (not one folded
	 * already: `- -5` stays a negation of the literal -5, as PROformajs's parser reads it) */
	bool folded = a->op == KN_E_CONST && ((a->v.t == KN_V_INT && a->v.u.i < 0) ||
					      (a->v.t == KN_V_REAL && signbit(a->v.u.r)));
	if (op == KN_E_NEG && !folded && a->op == KN_E_CONST &&
	    ((a->v.t == KN_V_INT && a->v.u.i != INT64_MIN) || a->v.t == KN_V_REAL)) {
		if (lx->js && a->v.t == KN_V_INT && a->v.u.i == 0) {
			a->v.t = KN_V_REAL; /* JavaScript's -0 (printed "-0.0", read back so) */
			a->v.u.r = -0.0;
		} else if (a->v.t == KN_V_INT) {
			a->v.u.i = -a->v.u.i;
		} else {
			a->v.u.r = -a->v.u.r;
		}
		a->line = line;
		a->col = col;
		*out = a;
		return LB_OK;
	}
	struct kn_expr *e = node(op, line, col);
	if (e == NULL || push_arg(e, a) != LB_OK) {
		lb_free(e);
		kn_expr_free(a);
		return nomem(lx);
	}
	*out = e;
	return LB_OK;
}

static int parse_bin(struct lexer *lx, int level, struct kn_expr **out);

/* *a becomes the node op(*a, b); both operands are freed when it cannot be made. */
static int join_bin(struct lexer *lx, int op, struct kn_expr **a, struct kn_expr *b)
{
	struct kn_expr *e = binary(op, *a, b);
	if (e == NULL) {
		kn_expr_free(*a);
		kn_expr_free(b);
		*a = NULL;
		return nomem(lx);
	}
	*a = e;
	return LB_OK;
}

/* Binary levels, loosest first: 0 or, 1 and, 2 not (prefix), 3 comparison, 4 additive,
 * 5 multiplicative. */
static int bin_op(struct lexer *lx, int level)
{
	bool pf = !lx->js;
	switch (level) {
	case 0:
		return (pf && is_kw(lx, "or")) || is_op(lx, "||") ? KN_E_OR : -1;
	case 1:
		return (pf && is_kw(lx, "and")) || is_op(lx, "&&") ? KN_E_AND : -1;
	case 3:
		if ((pf && is_op(lx, "=")) || is_op(lx, "=="))
			return KN_E_EQ;
		if (is_op(lx, "!=") || (pf && is_op(lx, "<>")))
			return KN_E_NE;
		if (is_op(lx, "==="))
			return KN_E_SEQ;
		if (is_op(lx, "!=="))
			return KN_E_SNE;
		if (is_op(lx, "<"))
			return KN_E_LT;
		if (is_op(lx, "<="))
			return KN_E_LE;
		if (is_op(lx, ">"))
			return KN_E_GT;
		if (is_op(lx, ">="))
			return KN_E_GE;
		if (pf && is_kw(lx, "in"))
			return KN_E_IN;
		return -1;
	case 4:
		return is_op(lx, "+") ? KN_E_ADD : is_op(lx, "-") ? KN_E_SUB : -1;
	case 5:
		return is_op(lx, "*")	? KN_E_MUL
		       : is_op(lx, "/") ? KN_E_DIV
		       : is_op(lx, "%") ? KN_E_MOD
					: -1;
	}
	return -1;
}

static int parse_bin(struct lexer *lx, int level, struct kn_expr **out)
{
	int rc;
	if (level == 6)
		return parse_unary(lx, out);
	if (level == 2) {
		if (!lx->js && (is_kw(lx, "not") || is_op(lx, "!"))) {
			int line = lx->tline, col = lx->tcol;
			struct kn_expr *a;
			if (++lx->depth > KN_EXPR_MAX_DEPTH)
				return lb_errf(lx->em, LB_ELIMIT,
					       "%d:%d: expression nested too deeply", line, col);
			if ((rc = next(lx)) != LB_OK || (rc = parse_bin(lx, 2, &a)) != LB_OK)
				return rc;
			lx->depth--;
			struct kn_expr *e = node(KN_E_NOT, line, col);
			if (e == NULL || push_arg(e, a) != LB_OK) {
				lb_free(e);
				kn_expr_free(a);
				return nomem(lx);
			}
			*out = e;
			return LB_OK;
		}
		return parse_bin(lx, 3, out);
	}
	struct kn_expr *a;
	if ((rc = parse_bin(lx, level + 1, &a)) != LB_OK)
		return rc;
	int op;
	while ((op = bin_op(lx, level)) >= 0) {
		struct kn_expr *b;
		if ((rc = next(lx)) != LB_OK || (rc = parse_bin(lx, level + 1, &b)) != LB_OK) {
			kn_expr_free(a);
			return rc;
		}
		if ((rc = join_bin(lx, op, &a, b)) != LB_OK)
			return rc;
		if (level == 3)
			break; /* comparisons do not chain */
	}
	*out = a;
	return LB_OK;
}

/* JavaScript's binary operators as PROformajs's parser (jsep 1.x) ranks them, loosest
 * first: 1 `||` `??`, 2 `&&`, 3 `|`, 4 `^`, 5 `&`, 6 `==` `!=` `===` `!==`, 7 `<` `>` `<=` `>=`,
 * 8 `<<` `>>` `>>>`, 9 `+` `-`, 10 `*` `/` `%`, 11 `**` (right-associative); all others
 * left-associative, so comparisons chain: `a > 1 > 0` is `(a > 1) > 0`. */
static int js_bin_op(struct lexer *lx, int level)
{
	static const struct {
		int level, op;
		const char *text;
	} ops[] = {
		{ 1, KN_E_OR, "||" }, { 1, KN_E_NULLISH, "??" }, { 2, KN_E_AND, "&&" },
		{ 3, KN_E_BOR, "|" }, { 4, KN_E_BXOR, "^" }, { 5, KN_E_BAND, "&" },
		{ 6, KN_E_EQ, "==" }, { 6, KN_E_NE, "!=" }, { 6, KN_E_SEQ, "===" },
		{ 6, KN_E_SNE, "!==" }, { 7, KN_E_LT, "<" }, { 7, KN_E_GT, ">" },
		{ 7, KN_E_LE, "<=" }, { 7, KN_E_GE, ">=" }, { 8, KN_E_SHL, "<<" },
		{ 8, KN_E_SHR, ">>" }, { 8, KN_E_USHR, ">>>" }, { 9, KN_E_ADD, "+" },
		{ 9, KN_E_SUB, "-" }, { 10, KN_E_MUL, "*" }, { 10, KN_E_DIV, "/" },
		{ 10, KN_E_MOD, "%" }, { 11, KN_E_POW, "**" },
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].level == level && is_op(lx, ops[i].text))
			return ops[i].op;
	return -1;
}

static int parse_js_bin(struct lexer *lx, int level, struct kn_expr **out)
{
	int rc, op;
	struct kn_expr *a;
	if (level == 12)
		return parse_unary(lx, out);
	if ((rc = parse_js_bin(lx, level + 1, &a)) != LB_OK)
		return rc;
	while ((op = js_bin_op(lx, level)) >= 0) {
		struct kn_expr *b;
		/* `**` is right-associative: its right operand is another `**` chain (counted
		 * against the nesting bound, for the stack) */
		if (op == KN_E_POW && ++lx->depth > KN_EXPR_MAX_DEPTH) {
			kn_expr_free(a);
			return lb_errf(lx->em, LB_ELIMIT, "%d:%d: expression nested too deeply",
				       lx->tline, lx->tcol);
		}
		if ((rc = next(lx)) != LB_OK ||
		    (rc = parse_js_bin(lx, op == KN_E_POW ? level : level + 1, &b)) != LB_OK) {
			kn_expr_free(a);
			return rc;
		}
		if ((rc = join_bin(lx, op, &a, b)) != LB_OK)
			return rc;
		if (op == KN_E_POW) {
			lx->depth--;
			break;
		}
	}
	*out = a;
	return LB_OK;
}

static int parse_expr(struct lexer *lx, struct kn_expr **out)
{
	int rc;
	struct kn_expr *c, *a, *b;
	/* (JavaScript's table has twice the levels, each a frame: it counts twice, for the stack;
	 * the tree bound, KN_EXPR_MAX_TREE, is reached first either way) */
	int cost = lx->js ? 2 : 1;
	if ((lx->depth += cost) > KN_EXPR_MAX_DEPTH)
		return lb_errf(lx->em, LB_ELIMIT, "%d:%d: expression nested too deeply", lx->tline,
			       lx->tcol);
	if ((rc = lx->js ? parse_js_bin(lx, 1, &c) : parse_bin(lx, 0, &c)) != LB_OK)
		return rc;
	if (is_op(lx, "?")) {
		if ((rc = next(lx)) != LB_OK || (rc = parse_expr(lx, &a)) != LB_OK) {
			kn_expr_free(c);
			return rc;
		}
		if (!is_op(lx, ":")) {
			kn_expr_free(c);
			kn_expr_free(a);
			return lex_err(lx, "':' of the conditional expression");
		}
		if ((rc = next(lx)) != LB_OK || (rc = parse_expr(lx, &b)) != LB_OK) {
			kn_expr_free(c);
			kn_expr_free(a);
			return rc;
		}
		struct kn_expr *e = node(KN_E_COND, c->line, c->col);
		if (e == NULL || push_arg(e, c) != LB_OK) {
			lb_free(e);
			kn_expr_free(c);
			kn_expr_free(a);
			kn_expr_free(b);
			return nomem(lx);
		}
		if (push_arg(e, a) != LB_OK) {
			kn_expr_free(e);
			kn_expr_free(a);
			kn_expr_free(b);
			return nomem(lx);
		}
		if (push_arg(e, b) != LB_OK) {
			kn_expr_free(e);
			kn_expr_free(b);
			return nomem(lx);
		}
		c = e;
	}
	lx->depth -= cost;
	*out = c;
	return LB_OK;
}

static int tree_depth(const struct kn_expr *e, int d)
{
	int best = d + 1;
	if (best > KN_EXPR_MAX_TREE)
		return best;
	for (size_t i = 0; i < e->nargs; i++) {
		int x = tree_depth(e->args[i], d + 1);
		if (x > best)
			best = x;
	}
	return best;
}

/* Can the current token start an expression (JavaScript)? */
static bool js_starts_expr(struct lexer *lx)
{
	/* (`a and b`, `a in s`: left to the end-of-expression error, which says what to write) */
	if (is_kw(lx, "and") || is_kw(lx, "or") || is_kw(lx, "in"))
		return false;
	if (lx->t == T_NUM || lx->t == T_STR || lx->t == T_ID)
		return true;
	return is_op(lx, "(") || is_op(lx, "[") || is_op(lx, "!") || is_op(lx, "-") ||
	       is_op(lx, "+") || is_op(lx, "~");
}

/* Separators (`,`, `;`) where jsep's gobbleExpressions skips them: right after an expression
 * (blanks between are read with it), or right after another separator or the start; one
 * after blanks there is refused, as PROformajs's parser refuses it (" ;", "a; ;"). */
static int js_skip_separators(struct lexer *lx, const char **prev)
{
	int rc = LB_OK;
	while (rc == LB_OK && (is_op(lx, ";") || is_op(lx, ","))) {
		if (*prev != NULL && lx->ts > *prev)
			return lb_errf(lx->em, LB_ESYNTAX,
				       "%d:%d: unexpected '%c' after blanks where an expression belongs "
				       "(PROformajs's parser refuses it)",
				       lx->tline, lx->tcol, *lx->ts);
		*prev = lx->ts + lx->tn;
		rc = next(lx);
	}
	return rc;
}

/* PROformajs's parser reads a list of expressions separated by `,`, `;` or nothing (`a, b`,
 * `a; b`, `a b`) as one compound expression, whose value is the last one's; a leading `;` and
 * extra separators are skipped. (In parentheses such a list is a sequence PROformajs's evaluator
 * cannot evaluate: refused here.) */
static int parse_js_compound(struct lexer *lx, struct kn_expr **out)
{
	int rc = LB_OK;
	struct kn_expr *e = NULL, *x;
	int line = lx->tline, col = lx->tcol;
	const char *prev = lx->s; /* (where an expression belongs: the start) */
	if ((rc = js_skip_separators(lx, &prev)) != LB_OK)
		return rc;
	/* `;`, `;;` and `()` alone are an empty compound, whose value is undefined */
	bool empty = lx->t == T_END;
	if (!empty && is_op(lx, "(") && lx->p < lx->end) {
		/* (separators inside, but no blanks: jsep refuses "( )") */
		const char *q = lx->p;
		while (q < lx->end && (*q == ';' || *q == ','))
			q++;
		if (q < lx->end && *q == ')') {
			const char *r = q + 1;
			while (r < lx->end && (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r'))
				r++;
			if (r == lx->end) {
				while (lx->p <= q)
					adv(lx);
				if ((rc = next(lx)) != LB_OK)
					return rc;
				empty = true;
			}
		}
	}
	if (empty) {
		if ((e = node(KN_E_COMPOUND, line, col)) == NULL)
			return nomem(lx);
		*out = e;
		return LB_OK;
	}
	for (;;) {
		if ((rc = parse_expr(lx, &x)) != LB_OK)
			goto err;
		if (e == NULL && !(is_op(lx, ",") || is_op(lx, ";") || js_starts_expr(lx))) {
			*out = x; /* (one expression: no compound) */
			return LB_OK;
		}
		if (e == NULL && (e = node(KN_E_COMPOUND, x->line, x->col)) == NULL) {
			kn_expr_free(x);
			return nomem(lx);
		}
		if (push_arg(e, x) != LB_OK) {
			kn_expr_free(x);
			rc = nomem(lx);
			goto err;
		}
		prev = NULL; /* (right after an expression: blanks are read with it) */
		if ((rc = js_skip_separators(lx, &prev)) != LB_OK)
			goto err;
		if (!js_starts_expr(lx))
			break;
	}
	*out = sole(e); /* `a,` is a */
	return LB_OK;
err:
	kn_expr_free(e);
	return rc;
}

static int expr_parse(const char *s, size_t len, int line, int col, bool js,
		      struct kn_expr **out, struct lb_errmsg *em)
{
	struct lexer lx = { .s = s, .end = s + len, .p = s, .line = line, .col = col, .em = em,
			    .js = js };
	int rc;
	struct kn_expr *e = NULL;
	if ((rc = next(&lx)) != LB_OK)
		goto out;
	if (lx.t == T_END && !js) { /* (JavaScript: blanks alone are an empty compound) */
		rc = lex_err(&lx, "an expression");
		goto out;
	}
	if ((rc = js ? parse_js_compound(&lx, &e) : parse_expr(&lx, &e)) != LB_OK)
		goto out;
	if (tree_depth(e, 0) > KN_EXPR_MAX_TREE) {
		rc = lb_errf(em, LB_ELIMIT, "%d:%d: expression nested too deeply (more than %d levels)",
			     e->line, e->col, KN_EXPR_MAX_TREE);
		kn_expr_free(e);
		goto out;
	}
	if (lx.t != T_END) {
		rc = lex_err(&lx, js && (is_op(&lx, "=") || is_op(&lx, "<>") || is_kw(&lx, "in") ||
					 is_kw(&lx, "and") || is_kw(&lx, "or"))
					  ? "PROformajs (JavaScript) syntax: '==', '!=', '&&', '||' or "
					    "includes(set, x) instead of =, <>, and, or, in;"
					  : "an operator or the end of the expression");
		kn_expr_free(e);
		goto out;
	}
	*out = e;
out:
	lb_free(lx.str);
	return rc;
}

int kn_expr_parse(const char *s, size_t len, int line, int col, struct kn_expr **out,
		  struct lb_errmsg *em)
{
	return expr_parse(s, len, line, col, false, out, em);
}

int kn_expr_parse_js(const char *s, size_t len, int line, int col, struct kn_expr **out,
		     struct lb_errmsg *em)
{
	return expr_parse(s, len, line, col, true, out, em);
}

/* ---- printing ---------------------------------------------------------------------------- */

static int prec(const struct kn_expr *e)
{
	switch (e->op) {
	case KN_E_COND:
		return 1;
	case KN_E_OR:
		return 2;
	case KN_E_AND:
		return 3;
	case KN_E_NOT:
		return 4;
	case KN_E_EQ: case KN_E_NE: case KN_E_LT: case KN_E_LE: case KN_E_GT: case KN_E_GE:
	case KN_E_IN: case KN_E_SEQ: case KN_E_SNE:
		return 5;
	case KN_E_ADD: case KN_E_SUB:
		return 6;
	case KN_E_MUL: case KN_E_DIV: case KN_E_MOD:
		return 7;
	case KN_E_NEG: case KN_E_POS: case KN_E_BNOT:
		return 8;
	case KN_E_COMPOUND:
		return 0;
	case KN_E_BAND: case KN_E_BOR: case KN_E_BXOR: case KN_E_SHL: case KN_E_SHR:
	case KN_E_USHR: case KN_E_POW: case KN_E_NULLISH:
		/* (JavaScript only: below every operator of this scale but `? :`, so that they are
		 * parenthesized as the operand of any other; print_js_ext orders their own) */
		return 1;
	case KN_E_CONST:
		/* a negative literal behaves like a negation when it is an operand */
		if ((e->v.t == KN_V_INT && e->v.u.i < 0) ||
		    (e->v.t == KN_V_REAL && signbit(e->v.u.r)))
			return 8;
		return 9;
	default:
		return 9;
	}
}

static int print_str(struct lb_buf *b, const char *s, char q)
{
	int rc = lb_buf_addc(b, (uint8_t)q);
	for (; rc == LB_OK && *s; s++) {
		if (*s == q || *s == '\\')
			rc = lb_buf_addf(b, "\\%c", *s);
		else if (*s == '\n')
			rc = lb_buf_adds(b, "\\n");
		else if (*s == '\t')
			rc = lb_buf_adds(b, "\\t");
		else
			rc = lb_buf_addc(b, (uint8_t)*s);
	}
	return rc != LB_OK ? rc : lb_buf_addc(b, (uint8_t)q);
}

/* e printed as an operand that needs precedence min on the scale rank gives (prec: the
 * operators both forms share; js_prec: JavaScript's), in parentheses when it binds looser */
static int print_ranked(struct lb_buf *b, const struct kn_expr *e, enum kn_style st,
			int (*rank)(const struct kn_expr *), int min)
{
	int rc;
	bool par = rank(e) < min;
	if (par && (rc = lb_buf_addc(b, '(')) != LB_OK)
		return rc;
	if ((rc = kn_expr_print(b, e, st)) != LB_OK)
		return rc;
	return par ? lb_buf_addc(b, ')') : LB_OK;
}

static int print_sub(struct lb_buf *b, const struct kn_expr *e, enum kn_style st, int min)
{
	return print_ranked(b, e, st, prec, min);
}

/* ---- JavaScript-only operators (the JSON form) -------------------------------------------- */

static const char *js_ext_op(int op)
{
	switch (op) {
	case KN_E_BAND: return "&";
	case KN_E_BOR: return "|";
	case KN_E_BXOR: return "^";
	case KN_E_SHL: return "<<";
	case KN_E_SHR: return ">>";
	case KN_E_USHR: return ">>>";
	case KN_E_BNOT: return "~";
	case KN_E_POW: return "**";
	case KN_E_NULLISH: return "??";
	case KN_E_COMPOUND: return "a, b";
	default: return NULL;
	}
}

const char *kn_expr_js_only(const struct kn_expr *e)
{
	if (e == NULL)
		return NULL;
	if (e->op == KN_E_CONST && e->ref == KN_REF_NONTEXT)
		return "expression written as a JSON value, not a text";
	const char *op = js_ext_op(e->op);
	if (e->op == KN_E_MEMBER)
		op = "a.b";
	else if (e->op == KN_E_APPLY)
		op = "a.f()";
	else if (e->op == KN_E_SEQUENCE)
		op = "(a, b)";
	else if ((e->op == KN_E_NAME || e->op == KN_E_CALL) && kn_expr_this(e))
		op = "this";
	else if (e->op == KN_E_INDEX && kn_expr_optional(e))
		op = "a?.[i]";
	for (size_t i = 0; op == NULL && i < e->nargs; i++)
		op = kn_expr_js_only(e->args[i]);
	return op;
}

/* JavaScript's precedence of a printed node (jsep's binary ranks plus one; 13 prefix operators,
 * 14 primaries, calls, lists and indexing; 1 `? :`; 0 a compound) */
static int js_prec(const struct kn_expr *e)
{
	switch (e->op) {
	case KN_E_COMPOUND: return 0;
	case KN_E_COND: return 1;
	case KN_E_OR: case KN_E_NULLISH: return 2;
	case KN_E_AND: return 3;
	case KN_E_BOR: return 4;
	case KN_E_BXOR: return 5;
	case KN_E_BAND: return 6;
	case KN_E_EQ: case KN_E_NE: case KN_E_SEQ: case KN_E_SNE: return 7;
	case KN_E_LT: case KN_E_LE: case KN_E_GT: case KN_E_GE: return 8;
	case KN_E_SHL: case KN_E_SHR: case KN_E_USHR: return 9;
	case KN_E_ADD: case KN_E_SUB: return 10;
	case KN_E_MUL: case KN_E_DIV: case KN_E_MOD: return 11;
	case KN_E_POW: return 12;
	case KN_E_NOT: case KN_E_NEG: case KN_E_POS: case KN_E_BNOT: return 13;
	default: return prec(e) == 8 ? 13 : 14; /* (a negative literal is a negation) */
	}
}

static int print_js_sub(struct lb_buf *b, const struct kn_expr *e, int min)
{
	return print_ranked(b, e, KN_STYLE_JS, js_prec, min);
}

static int print_js_ext(struct lb_buf *b, const struct kn_expr *e, enum kn_style st)
{
	int rc = LB_OK;
	if (st != KN_STYLE_JS)
		return LB_EINVALID; /* the .pf form has no such operator (kn_pf_printable says so) */
	if (e->op == KN_E_COMPOUND) {
		if (e->nargs == 0)
			return lb_buf_adds(b, "()");
		for (size_t i = 0; rc == LB_OK && i < e->nargs; i++) {
			if (i > 0)
				rc = lb_buf_adds(b, ", ");
			if (rc == LB_OK)
				rc = print_js_sub(b, e->args[i], 1);
		}
		return rc;
	}
	if (e->op == KN_E_BNOT) {
		if ((rc = lb_buf_addc(b, '~')) != LB_OK)
			return rc;
		/* "~-x" is fine, but "- -x" rules apply to the operand's own printing */
		return print_js_sub(b, e->args[0], 13);
	}
	int p = js_prec(e);
	bool right = e->op == KN_E_POW; /* right-associative */
	if ((rc = print_js_sub(b, e->args[0], right ? p + 1 : p)) != LB_OK ||
	    (rc = lb_buf_addf(b, " %s ", js_ext_op(e->op))) != LB_OK)
		return rc;
	return print_js_sub(b, e->args[1], right ? p : p + 1);
}

/* `this.` / `this['name']` before a name written through PROformajs's evaluator object */
static int print_this(struct lb_buf *b, const struct kn_expr *e)
{
	int rc;
	switch (kn_expr_this(e)) {
	case KN_THIS_DOT:
		return lb_buf_adds(b, "this.");
	case KN_THIS_INDEX:
		if ((rc = lb_buf_adds(b, "this[")) != LB_OK || (rc = print_str(b, e->name, '\'')) != LB_OK)
			return rc;
		return lb_buf_addc(b, ']');
	default:
		return LB_OK;
	}
}

/* The object of a member access, an index or a call (JavaScript): a primary, and not a number
 * literal (PROformajs's parser reads nothing after one) */
static int print_object(struct lb_buf *b, const struct kn_expr *e, enum kn_style st)
{
	bool num = e->op == KN_E_CONST && (e->v.t == KN_V_INT || e->v.t == KN_V_REAL);
	return print_ranked(b, e, st, js_prec, num ? 15 : 14);
}

int kn_expr_print(struct lb_buf *b, const struct kn_expr *e, enum kn_style st)
{
	bool js = st == KN_STYLE_JS;
	int rc = LB_OK;
	const char *op = NULL;
	switch (e->op) {
	case KN_E_CONST:
		if (e->v.t == KN_V_UNKNOWN)
			return lb_buf_adds(b, js ? "undefined" : "unknown");
		if (e->v.t == KN_V_TEXT)
			return print_str(b, e->v.u.s, js ? '\'' : '"');
		if (e->v.t == KN_V_REAL && e->v.u.r == 0 && signbit(e->v.u.r))
			return lb_buf_adds(b, "-0.0");
		if (e->v.t == KN_V_REAL && isinf(e->v.u.r)) /* a literal beyond the doubles */
			return lb_buf_adds(b, e->v.u.r < 0 ? "-1e999" : "1e999");
		return kn_value_to_json(b, &e->v);
	case KN_E_NAME:
		if (!js && kn_expr_this(e))
			return LB_EINVALID; /* (the .pf form has no `this`) */
		if ((rc = print_this(b, e)) != LB_OK || kn_expr_this(e) == KN_THIS_INDEX)
			return rc;
		return lb_buf_adds(b, e->name);
	case KN_E_MEMBER:
		if (!js)
			return LB_EINVALID; /* (kn_pf_printable refuses it first) */
		if ((rc = print_object(b, e->args[0], st)) != LB_OK ||
		    (rc = lb_buf_adds(b, kn_expr_optional(e) ? "?." : ".")) != LB_OK)
			return rc;
		return lb_buf_adds(b, e->name);
	case KN_E_SEQUENCE:
	case KN_E_APPLY:
		if (!js)
			return LB_EINVALID;
		if (e->op == KN_E_APPLY)
			rc = print_object(b, e->args[0], st);
		if (rc == LB_OK && kn_expr_optional(e))
			rc = lb_buf_adds(b, "?.");
		if (rc == LB_OK)
			rc = lb_buf_addc(b, '(');
		for (size_t i = e->op == KN_E_APPLY; rc == LB_OK && i < e->nargs; i++) {
			if (i > (e->op == KN_E_APPLY) && (rc = lb_buf_adds(b, ", ")) != LB_OK)
				break;
			rc = e->op == KN_E_APPLY ? kn_expr_print(b, e->args[i], st)
						 : print_js_sub(b, e->args[i], 1);
		}
		return rc != LB_OK ? rc : lb_buf_addc(b, ')');
	case KN_E_CALL:
	case KN_E_LIST:
		if (!js && e->op == KN_E_CALL && kn_expr_this(e))
			return LB_EINVALID;
		if (e->op == KN_E_CALL && (rc = print_this(b, e)) == LB_OK &&
		    kn_expr_this(e) != KN_THIS_INDEX)
			rc = lb_buf_adds(b, e->name);
		if (rc == LB_OK)
			rc = lb_buf_addc(b, e->op == KN_E_CALL ? '(' : '[');
		for (size_t i = 0; rc == LB_OK && i < e->nargs; i++) {
			if (i > 0)
				rc = lb_buf_adds(b, ", ");
			if (rc == LB_OK)
				rc = kn_expr_print(b, e->args[i], st);
		}
		return rc != LB_OK ? rc : lb_buf_addc(b, e->op == KN_E_CALL ? ')' : ']');
	case KN_E_NEG:
		if ((rc = lb_buf_addc(b, '-')) != LB_OK)
			return rc;
		/* "- -x" must not print as "--x" */
		if (e->args[0]->op == KN_E_NEG || prec(e->args[0]) == 8)
			rc = lb_buf_addc(b, ' ');
		return rc != LB_OK ? rc : print_sub(b, e->args[0], st, 8);
	case KN_E_POS:
		if ((rc = lb_buf_addc(b, '+')) != LB_OK)
			return rc;
		/* "+ +x" must not print as "++x" */
		if (e->args[0]->op == KN_E_POS || prec(e->args[0]) == 8)
			rc = lb_buf_addc(b, ' ');
		return rc != LB_OK ? rc : print_sub(b, e->args[0], st, 8);
	case KN_E_INDEX:
		if ((rc = js ? print_object(b, e->args[0], st) : print_sub(b, e->args[0], st, 9)) !=
			    LB_OK ||
		    (kn_expr_optional(e) && (rc = js ? lb_buf_adds(b, "?.") : LB_EINVALID) != LB_OK) ||
		    (rc = lb_buf_addc(b, '[')) != LB_OK ||
		    (rc = kn_expr_print(b, e->args[1], st)) != LB_OK)
			return rc;
		return lb_buf_addc(b, ']');
	case KN_E_NOT:
		if ((rc = lb_buf_adds(b, js ? "!" : "not ")) != LB_OK)
			return rc;
		/* JavaScript's `!` is a unary operator: anything looser goes in parentheses */
		return print_sub(b, e->args[0], st, js ? 9 : 4);
	case KN_E_IN:
		if (!js) {
			op = "in";
			break;
		}
		if ((rc = lb_buf_adds(b, "includes(")) != LB_OK ||
		    (rc = kn_expr_print(b, e->args[1], st)) != LB_OK ||
		    (rc = lb_buf_adds(b, ", ")) != LB_OK ||
		    (rc = kn_expr_print(b, e->args[0], st)) != LB_OK)
			return rc;
		return lb_buf_addc(b, ')');
	case KN_E_COND:
		if ((rc = print_sub(b, e->args[0], st, 2)) != LB_OK ||
		    (rc = lb_buf_adds(b, " ? ")) != LB_OK ||
		    (rc = print_sub(b, e->args[1], st, 1)) != LB_OK ||
		    (rc = lb_buf_adds(b, " : ")) != LB_OK)
			return rc;
		return print_sub(b, e->args[2], st, 1);
	case KN_E_AND: op = js ? "&&" : "and"; break;
	case KN_E_OR: op = js ? "||" : "or"; break;
	case KN_E_EQ: op = js ? "==" : "="; break;
	case KN_E_NE: op = js ? "!=" : "<>"; break;
	case KN_E_LT: op = "<"; break;
	case KN_E_LE: op = "<="; break;
	case KN_E_GT: op = ">"; break;
	case KN_E_GE: op = ">="; break;
	case KN_E_SEQ: op = "==="; break;
	case KN_E_SNE: op = "!=="; break;
	case KN_E_MOD: op = "%"; break;
	case KN_E_ADD: op = "+"; break;
	case KN_E_SUB: op = "-"; break;
	case KN_E_MUL: op = "*"; break;
	case KN_E_DIV: op = "/"; break;
	default:
		if (js_ext_op(e->op) != NULL)
			return print_js_ext(b, e, st);
		return LB_EINTERNAL;
	}
	int p = prec(e);
	bool cmp = p == 5;
	if ((rc = print_sub(b, e->args[0], st, cmp ? p + 1 : p)) != LB_OK)
		return rc;
	if ((rc = lb_buf_addf(b, " %s ", op)) != LB_OK)
		return rc;
	return print_sub(b, e->args[1], st, p + 1);
}

/* ---- equality and copy ------------------------------------------------------------------- */

bool kn_expr_equal(const struct kn_expr *a, const struct kn_expr *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->op != b->op || a->nargs != b->nargs)
		return false;
	if (a->op == KN_E_CONST && !kn_value_equal(&a->v, &b->v))
		return false;
	if ((a->op == KN_E_NAME || a->op == KN_E_CALL) && kn_expr_this(a) != kn_expr_this(b))
		return false;
	if (kn_expr_optional(a) != kn_expr_optional(b))
		return false;
	if ((a->name == NULL) != (b->name == NULL) ||
	    (a->name != NULL && strcmp(a->name, b->name) != 0))
		return false;
	for (size_t i = 0; i < a->nargs; i++)
		if (!kn_expr_equal(a->args[i], b->args[i]))
			return false;
	return true;
}

struct kn_expr *kn_expr_clone(const struct kn_expr *e)
{
	if (e == NULL)
		return NULL;
	struct kn_expr *c = node(e->op, e->line, e->col);
	if (c == NULL)
		return NULL;
	c->ref = e->ref;
	c->ref2 = e->ref2;
	if (kn_value_copy(&c->v, &e->v) != LB_OK)
		goto err;
	if (e->name != NULL && (c->name = lb_strdup(e->name)) == NULL)
		goto err;
	for (size_t i = 0; i < e->nargs; i++) {
		struct kn_expr *a = kn_expr_clone(e->args[i]);
		if (a == NULL || push_arg(c, a) != LB_OK) {
			kn_expr_free(a);
			goto err;
		}
	}
	return c;
err:
	kn_expr_free(c);
	return NULL;
}

int kn_expr_rename(struct kn_expr *e, const char *from, const char *to)
{
	if (e == NULL)
		return LB_OK;
	if (e->op == KN_E_NAME && strcmp(e->name, from) == 0) {
		char *n = lb_strdup(to);
		if (n == NULL)
			return LB_ENOMEM;
		lb_free(e->name);
		e->name = n;
	}
	for (size_t i = 0; i < e->nargs; i++) {
		int rc = kn_expr_rename(e->args[i], from, to);
		if (rc != LB_OK)
			return rc;
	}
	return LB_OK;
}
