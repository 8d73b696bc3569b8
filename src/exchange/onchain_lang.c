/*
 * The on-chain sandbox's language: a parser and a step-metered evaluator over 64-bit
 * integers and lists of them (docs/exchange.md, "On-chain sandbox"; include/leben/onchain.h
 * says why every node computes the same thing). Ledger-free; onchain_tx.c runs it in txs.
 *
 *   program := stmt { (NEWLINE | ';') stmt }
 *   stmt    := 'let' NAME '=' expr | 'out' NAME '=' expr | 'require' expr
 *   expr    := 'if' expr 'then' expr 'else' expr | or
 *   or      := and { 'or' and }        and := not { 'and' not }      not := 'not' not | cmp
 *   cmp     := add [ ('=='|'!='|'<'|'<='|'>'|'>=') add ]
 *   add     := mul { ('+'|'-') mul }   mul := unary { ('*'|'/'|'%') unary }
 *   unary   := '-' unary | post        post := primary { '[' expr ']' }
 *   primary := INT | NAME | NAME '(' [expr {',' expr}] ')' | '(' expr ')' | '[' [expr {',' expr}] ']'
 *
 * Costs: every expression node evaluated is one step; a builtin that reads or makes a list
 * costs one more step per element; naming a list variable copies it (one step per element).
 * Memory: every list made is charged 16 + 8 * n bytes, never given back during a run.
 */
#include <string.h>

#include "leben/onchain.h"

enum { T_EOF, T_NL, T_INT, T_NAME, T_OP };
enum {
	N_INT, N_NAME, N_LIST, N_CALL, N_NEG, N_NOT, N_BIN, N_AND, N_OR, N_IF, N_INDEX,
};
enum { O_ADD, O_SUB, O_MUL, O_DIV, O_MOD, O_EQ, O_NE, O_LT, O_LE, O_GT, O_GE };
enum { S_LET, S_OUT, S_REQUIRE };

struct ocn {
	int kind, op, line, col, h; /* h: height of the subtree (bounds evaluation recursion) */
	int64_t i;
	char name[LB_OC_NAME_MAX + 1];
	struct ocn **a;
	size_t na;
};

struct ocs {
	int kind, line, col, slot; /* slot: index among let/out statements, -1 for require */
	char name[LB_OC_NAME_MAX + 1];
	struct ocn *e;
};

/* Names are resolved once, after parsing: a name defined by an earlier `let`/`out` refers to
 * its slot (N_NAME op = slot + 1), any other name is free (op = -(index + 1) in frees) and is
 * matched against the inputs once per run, so a lookup costs the same whatever the number of
 * names (the step count stays an honest measure of work). */
struct lb_oc_program {
	struct ocs *s;
	size_t ns;
	char (*frees)[LB_OC_NAME_MAX + 1];
	size_t nfree;
	size_t ndefs; /* slots: one per let/out statement, in order */
};

/* ---- lexer ------------------------------------------------------------------------------ */

struct lex {
	const char *s;
	size_t len, pos;
	int line, col, nest, depth;
	int tok, tline, tcol;
	int64_t ival;
	char text[LB_OC_NAME_MAX + 1];
	struct lb_errmsg *em;
};

static int lerr(struct lex *lx, int line, int col, const char *what)
{
	return lb_errf(lx->em, LB_ESYNTAX, "line %d, column %d: %s", line, col, what);
}

static void adv(struct lex *lx)
{
	if (lx->s[lx->pos] == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->pos++;
}

static int peekc(const struct lex *lx, size_t k)
{
	return lx->pos + k < lx->len ? (unsigned char)lx->s[lx->pos + k] : -1;
}

static bool isdig(int c) { return c >= '0' && c <= '9'; }
static bool isid0(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

static int next(struct lex *lx)
{
	for (;;) {
		int c = peekc(lx, 0);
		if (c == ' ' || c == '\t' || c == '\r' || (c == '\n' && lx->nest > 0)) {
			adv(lx);
		} else if (c == '#') {
			while (peekc(lx, 0) != -1 && peekc(lx, 0) != '\n')
				adv(lx);
		} else {
			break;
		}
	}
	lx->tline = lx->line;
	lx->tcol = lx->col;
	int c = peekc(lx, 0);
	if (c == -1) {
		lx->tok = T_EOF;
		return LB_OK;
	}
	if (c == '\n' || c == ';') {
		adv(lx);
		lx->tok = T_NL;
		return LB_OK;
	}
	if (isdig(c)) {
		uint64_t v = 0;
		while (isdig(peekc(lx, 0))) {
			v = v * 10 + (uint64_t)(peekc(lx, 0) - '0');
			if (v > (uint64_t)INT64_MAX)
				return lerr(lx, lx->tline, lx->tcol,
					    "integer literal larger than 9223372036854775807");
			adv(lx);
		}
		if (peekc(lx, 0) == '.')
			return lerr(lx, lx->line, lx->col,
				    "fractions are not allowed: the on-chain language has integers "
				    "only (scale them, e.g. cents or per-mille)");
		if (isid0(peekc(lx, 0)))
			return lerr(lx, lx->line, lx->col, "a letter right after a number");
		lx->ival = (int64_t)v;
		lx->tok = T_INT;
		return LB_OK;
	}
	if (isid0(c)) {
		size_t n = 0;
		while (isid0(peekc(lx, 0)) || isdig(peekc(lx, 0))) {
			if (n == LB_OC_NAME_MAX)
				return lerr(lx, lx->tline, lx->tcol, "name longer than 32 characters");
			lx->text[n++] = (char)peekc(lx, 0);
			adv(lx);
		}
		lx->text[n] = 0;
		lx->tok = T_NAME;
		return LB_OK;
	}
	static const char *const ops2[] = {"==", "!=", "<=", ">="};
	for (size_t i = 0; i < 4; i++)
		if (c == ops2[i][0] && peekc(lx, 1) == ops2[i][1]) {
			memcpy(lx->text, ops2[i], 3);
			adv(lx);
			adv(lx);
			lx->tok = T_OP;
			return LB_OK;
		}
	if (strchr("+-*/%()[],=<>", c)) {
		lx->text[0] = (char)c;
		lx->text[1] = 0;
		if (c == '(' || c == '[')
			lx->nest++;
		else if ((c == ')' || c == ']') && lx->nest > 0)
			lx->nest--;
		adv(lx);
		lx->tok = T_OP;
		return LB_OK;
	}
	char what[64];
	if (c >= 0x20 && c < 0x7f)
		snprintf(what, sizeof what, "unexpected character '%c'", c);
	else
		snprintf(what, sizeof what, "unexpected byte 0x%02x", c);
	return lerr(lx, lx->tline, lx->tcol, what);
}

static bool is_op(const struct lex *lx, const char *op)
{
	return lx->tok == T_OP && !strcmp(lx->text, op);
}

static bool is_kw(const struct lex *lx, const char *kw)
{
	return lx->tok == T_NAME && !strcmp(lx->text, kw);
}

static bool reserved(const char *s)
{
	static const char *const kw[] = {"let", "out", "require", "if", "then",
					 "else", "and", "or", "not"};
	for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
		if (!strcmp(s, kw[i]))
			return true;
	return false;
}

/* ---- parser ------------------------------------------------------------------------------ */

static void node_free(struct ocn *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->na; i++)
		node_free(n->a[i]);
	lb_free(n->a);
	lb_free(n);
}

static struct ocn *mk(int kind, int line, int col)
{
	struct ocn *n = lb_calloc(1, sizeof *n);
	if (n) {
		n->kind = kind;
		n->h = 1;
		n->line = line;
		n->col = col;
	}
	return n;
}

static int push(struct lex *lx, struct ocn *n, struct ocn *a)
{
	struct ocn **p = lb_realloc(n->a, (n->na + 1) * sizeof *p);
	if (!p) {
		node_free(a);
		return lb_errf(lx->em, LB_ENOMEM, "out of memory parsing the program");
	}
	n->a = p;
	n->a[n->na++] = a;
	if (a->h + 1 > n->h)
		n->h = a->h + 1;
	if (n->h > LB_OC_HEIGHT_MAX)
		return lerr(lx, n->line, n->col,
			    "expression too deep (more than 256 levels of operators); split it "
			    "with let");
	return LB_OK;
}

static int expect_got(struct lex *lx, const char *want)
{
	char what[96];
	if (lx->tok == T_EOF)
		snprintf(what, sizeof what, "expected %s, found the end of the program", want);
	else if (lx->tok == T_NL)
		snprintf(what, sizeof what, "expected %s, found the end of the line", want);
	else if (lx->tok == T_INT)
		snprintf(what, sizeof what, "expected %s, found a number", want);
	else
		snprintf(what, sizeof what, "expected %s, found '%s'", want, lx->text);
	return lerr(lx, lx->tline, lx->tcol, what);
}

static int parse_expr(struct lex *lx, struct ocn **out);

static int parse_args(struct lex *lx, struct ocn *n, const char *close)
{
	int rc;
	if ((rc = next(lx)))
		return rc;
	if (is_op(lx, close))
		return next(lx);
	for (;;) {
		struct ocn *a = NULL;
		rc = parse_expr(lx, &a);
		if (a) {
			int prc = push(lx, n, a);
			rc = rc ? rc : prc;
		}
		if (rc)
			return rc;
		if (n->na > LB_OC_LIST_MAX)
			return lerr(lx, n->line, n->col, "more than 4096 elements or arguments");
		if (is_op(lx, close))
			return next(lx);
		if (!is_op(lx, ","))
			return expect_got(lx, !strcmp(close, ")") ? "',' or ')'" : "',' or ']'");
		if ((rc = next(lx)))
			return rc;
	}
}

static int nomem(struct lex *lx)
{
	return lb_errf(lx->em, LB_ENOMEM, "out of memory parsing the program");
}

static int parse_primary(struct lex *lx, struct ocn **out)
{
	int rc, line = lx->tline, col = lx->tcol;
	struct ocn *n = NULL;
	*out = NULL;
	if (lx->tok == T_INT) {
		if (!(n = mk(N_INT, line, col)))
			return nomem(lx);
		n->i = lx->ival;
		*out = n;
		return next(lx);
	}
	if (lx->tok == T_NAME && !reserved(lx->text)) {
		if (!(n = mk(N_NAME, line, col)))
			return nomem(lx);
		memcpy(n->name, lx->text, sizeof n->name);
		*out = n;
		if ((rc = next(lx)))
			return rc;
		if (is_op(lx, "(")) {
			n->kind = N_CALL;
			return parse_args(lx, n, ")");
		}
		return LB_OK;
	}
	if (is_op(lx, "(")) {
		if ((rc = next(lx)) || (rc = parse_expr(lx, out)))
			return rc;
		if (!is_op(lx, ")"))
			return expect_got(lx, "')'");
		return next(lx);
	}
	if (is_op(lx, "[")) {
		if (!(n = mk(N_LIST, line, col)))
			return nomem(lx);
		*out = n;
		return parse_args(lx, n, "]");
	}
	return expect_got(lx, "a number, a name, '(' or '['");
}

static int parse_post(struct lex *lx, struct ocn **out)
{
	int rc = parse_primary(lx, out);
	while (!rc && is_op(lx, "[")) {
		struct ocn *n = mk(N_INDEX, lx->tline, lx->tcol), *i = NULL;
		if (!n)
			return nomem(lx);
		n->a = lb_calloc(2, sizeof *n->a);
		if (!n->a) {
			lb_free(n);
			return nomem(lx);
		}
		n->na = 2;
		n->a[0] = *out;
		n->h = n->a[0]->h + 1;
		*out = n;
		if ((rc = next(lx)) || (rc = parse_expr(lx, &i))) {
			n->a[1] = i;
			return rc;
		}
		n->a[1] = i;
		if (i->h + 1 > n->h)
			n->h = i->h + 1;
		if (n->h > LB_OC_HEIGHT_MAX)
			return lerr(lx, n->line, n->col, "expression too deep");
		if (!is_op(lx, "]"))
			return expect_got(lx, "']'");
		rc = next(lx);
	}
	return rc;
}

static int enter(struct lex *lx)
{
	if (++lx->depth > LB_OC_DEPTH_MAX)
		return lerr(lx, lx->tline, lx->tcol, "expression nested more than 64 deep");
	return LB_OK;
}

static int parse_unary(struct lex *lx, struct ocn **out)
{
	int prc;
	int rc;
	*out = NULL;
	if ((rc = enter(lx)))
		return rc;
	if (is_op(lx, "-")) {
		struct ocn *n = mk(N_NEG, lx->tline, lx->tcol);
		if (!n)
			return nomem(lx);
		*out = n;
		if ((rc = next(lx)))
			return rc;
		struct ocn *a = NULL;
		rc = parse_unary(lx, &a);
		if (a && (prc = push(lx, n, a)))
			return prc;
		lx->depth--;
		return rc;
	}
	rc = parse_post(lx, out);
	lx->depth--;
	return rc;
}

static int binop(struct lex *lx, int level)
{
	static const char *const l0[] = {"*", "/", "%"}, *const l1[] = {"+", "-"},
				  *const l2[] = {"==", "!=", "<", "<=", ">", ">="};
	if (level == 0) {
		for (int i = 0; i < 3; i++)
			if (is_op(lx, l0[i]))
				return O_MUL + i;
	} else if (level == 1) {
		for (int i = 0; i < 2; i++)
			if (is_op(lx, l1[i]))
				return O_ADD + i;
	} else {
		for (int i = 0; i < 6; i++)
			if (is_op(lx, l2[i]))
				return O_EQ + i;
	}
	return -1;
}

/* level 0 mul, 1 add, 2 cmp (not chained) */
static int parse_bin(struct lex *lx, int level, struct ocn **out)
{
	int prc;
	int rc = level == 0 ? parse_unary(lx, out) : parse_bin(lx, level - 1, out);
	if (rc)
		return rc;
	int op;
	while ((op = binop(lx, level)) >= 0) {
		struct ocn *n = mk(N_BIN, lx->tline, lx->tcol), *b = NULL;
		if (!n)
			return nomem(lx);
		n->op = op;
		if ((rc = push(lx, n, *out))) {
			*out = NULL;
			node_free(n);
			return rc;
		}
		*out = n;
		if ((rc = next(lx)))
			return rc;
		rc = level == 0 ? parse_unary(lx, &b) : parse_bin(lx, level - 1, &b);
		if (b && (prc = push(lx, n, b)))
			return prc;
		if (rc)
			return rc;
		if (level == 2 && binop(lx, 2) >= 0)
			return lerr(lx, lx->tline, lx->tcol,
				    "comparisons do not chain: write (a < b) and (b < c)");
	}
	return LB_OK;
}

static int parse_not(struct lex *lx, struct ocn **out)
{
	int prc;
	int rc;
	*out = NULL;
	if ((rc = enter(lx)))
		return rc;
	if (is_kw(lx, "not")) {
		struct ocn *n = mk(N_NOT, lx->tline, lx->tcol), *a = NULL;
		if (!n)
			return nomem(lx);
		*out = n;
		if ((rc = next(lx)))
			return rc;
		rc = parse_not(lx, &a);
		if (a && (prc = push(lx, n, a)))
			return prc;
	} else {
		rc = parse_bin(lx, 2, out);
	}
	lx->depth--;
	return rc;
}

static int parse_logic(struct lex *lx, bool is_or, struct ocn **out)
{
	int prc;
	int rc = is_or ? parse_logic(lx, false, out) : parse_not(lx, out);
	while (!rc && is_kw(lx, is_or ? "or" : "and")) {
		struct ocn *n = mk(is_or ? N_OR : N_AND, lx->tline, lx->tcol), *b = NULL;
		if (!n)
			return nomem(lx);
		if ((rc = push(lx, n, *out))) {
			*out = NULL;
			node_free(n);
			return rc;
		}
		*out = n;
		if ((rc = next(lx)))
			return rc;
		rc = is_or ? parse_logic(lx, false, &b) : parse_not(lx, &b);
		if (b && (prc = push(lx, n, b)))
			return prc;
	}
	return rc;
}

static int parse_expr(struct lex *lx, struct ocn **out)
{
	int prc;
	int rc;
	*out = NULL;
	if ((rc = enter(lx)))
		return rc;
	if (is_kw(lx, "if")) {
		struct ocn *n = mk(N_IF, lx->tline, lx->tcol);
		if (!n)
			return nomem(lx);
		*out = n;
		static const char *const kw[] = {NULL, "then", "else"};
		for (int i = 0; i < 3; i++) {
			if (i && !is_kw(lx, kw[i]))
				return expect_got(lx, i == 1 ? "'then'" : "'else'");
			struct ocn *a = NULL;
			if ((rc = next(lx)))
				return rc;
			rc = parse_expr(lx, &a);
			if (a && (prc = push(lx, n, a)))
				return prc;
			if (rc)
				return rc;
		}
	} else {
		rc = parse_logic(lx, true, out);
	}
	lx->depth--;
	return rc;
}

void lb_oc_program_free(struct lb_oc_program *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ns; i++)
		node_free(p->s[i].e);
	lb_free(p->s);
	lb_free(p->frees);
	lb_free(p);
}

/* Resolve the names of n, in statement `upto` (statements before it are defined). */
static int resolve(struct lb_oc_program *p, size_t upto, struct ocn *n, struct lb_errmsg *em)
{
	if (n->kind == N_NAME) {
		for (size_t i = 0; i < upto; i++)
			if (p->s[i].slot >= 0 && !strcmp(p->s[i].name, n->name)) {
				n->op = p->s[i].slot + 1;
				return LB_OK;
			}
		for (size_t k = 0; k < p->nfree; k++)
			if (!strcmp(p->frees[k], n->name)) {
				n->op = -(int)k - 1;
				return LB_OK;
			}
		char(*f)[LB_OC_NAME_MAX + 1] = lb_realloc(p->frees, (p->nfree + 1) * sizeof *f);
		if (!f)
			return lb_errf(em, LB_ENOMEM, "out of memory");
		p->frees = f;
		memcpy(p->frees[p->nfree], n->name, sizeof *f);
		n->op = -(int)p->nfree - 1;
		p->nfree++;
		return LB_OK;
	}
	for (size_t i = 0; i < n->na; i++) {
		int rc = resolve(p, upto, n->a[i], em);
		if (rc)
			return rc;
	}
	return LB_OK;
}

/* Give each let/out its slot and resolve every name; a name defined twice is refused. */
static int resolve_all(struct lb_oc_program *p, struct lb_errmsg *em)
{
	for (size_t i = 0; i < p->ns; i++) {
		struct ocs *st = &p->s[i];
		int rc = resolve(p, i, st->e, em);
		if (rc)
			return rc;
		st->slot = -1;
		if (st->kind == S_REQUIRE)
			continue;
		for (size_t k = 0; k < i; k++)
			if (p->s[k].slot >= 0 && !strcmp(p->s[k].name, st->name))
				return lb_errf(em, LB_ESYNTAX,
					       "line %d, column %d: '%s' is already defined on line %d",
					       st->line, st->col, st->name, p->s[k].line);
		st->slot = (int)p->ndefs++;
	}
	return LB_OK;
}

static int parse_stmt(struct lex *lx, struct ocs *st)
{
	int rc;
	st->line = lx->tline;
	st->col = lx->tcol;
	if (is_kw(lx, "require")) {
		st->kind = S_REQUIRE;
		if ((rc = next(lx)))
			return rc;
		return parse_expr(lx, &st->e);
	}
	if (!is_kw(lx, "let") && !is_kw(lx, "out"))
		return expect_got(lx, "'let', 'out' or 'require' at the start of a statement");
	st->kind = is_kw(lx, "let") ? S_LET : S_OUT;
	if ((rc = next(lx)))
		return rc;
	if (lx->tok != T_NAME || reserved(lx->text))
		return expect_got(lx, "a name");
	memcpy(st->name, lx->text, sizeof st->name);
	if ((rc = next(lx)))
		return rc;
	if (!is_op(lx, "="))
		return expect_got(lx, "'='");
	if ((rc = next(lx)))
		return rc;
	return parse_expr(lx, &st->e);
}

int lb_oc_parse(const char *text, size_t len, struct lb_oc_program **out, struct lb_errmsg *em)
{
	*out = NULL;
	if (len > LB_OC_PROGRAM_MAX)
		return lb_errf(em, LB_ETOOBIG, "program of %zu bytes is larger than %u bytes", len,
			       (unsigned)LB_OC_PROGRAM_MAX);
	struct lex lx = {.s = text, .len = len, .line = 1, .col = 1, .em = em};
	for (size_t i = 0; i < len; i++)
		if (!text[i])
			return lerr(&lx, 1, 1, "the program contains a NUL byte");
	struct lb_oc_program *p = lb_calloc(1, sizeof *p);
	if (!p)
		return lb_errf(em, LB_ENOMEM, "out of memory parsing the program");
	int rc = next(&lx);
	while (!rc) {
		while (!rc && lx.tok == T_NL)
			rc = next(&lx);
		if (rc || lx.tok == T_EOF)
			break;
		struct ocs *s = lb_realloc(p->s, (p->ns + 1) * sizeof *s);
		if (!s) {
			rc = lb_errf(em, LB_ENOMEM, "out of memory parsing the program");
			break;
		}
		p->s = s;
		memset(&s[p->ns], 0, sizeof *s);
		rc = parse_stmt(&lx, &s[p->ns]);
		p->ns++;
		if (!rc && lx.tok != T_NL && lx.tok != T_EOF)
			rc = expect_got(&lx, "the end of the statement");
	}
	if (!rc && p->ns == 0)
		rc = lb_errf(em, LB_ESYNTAX, "line 1, column 1: the program has no statement");
	if (!rc)
		rc = resolve_all(p, em);
	if (rc) {
		lb_oc_program_free(p);
		return rc;
	}
	*out = p;
	return LB_OK;
}

/* ---- evaluator ----------------------------------------------------------------------------- */

struct val {
	bool list;
	int64_t i;
	int64_t *v; /* list elements (owned) */
	size_t n;
};

struct slotref {
	bool out;   /* in res->out, else in vars */
	size_t idx;
};

struct run {
	const struct lb_oc_value *in;
	size_t nin;
	struct lb_oc_value *vars; /* let-bound */
	size_t nvars;
	struct slotref *slots;    /* by slot, filled as statements run */
	long *free_in;            /* free name -> input index, -1 if not given */
	struct lb_oc_result *res;
	uint64_t max_steps, mem_max;
	struct lb_errmsg *em;
};

static void vclear(struct val *v)
{
	lb_free(v->v);
	memset(v, 0, sizeof *v);
}

static int at(struct run *r, const struct ocn *n, int code, const char *what)
{
	return lb_errf(r->em, code, "line %d, column %d: %s", n->line, n->col, what);
}

static int charge(struct run *r, const struct ocn *n, uint64_t steps)
{
	if (steps > r->max_steps - r->res->steps) {
		r->res->steps = r->max_steps;
		return lb_errf(r->em, LB_ELIMIT,
			       "line %d, column %d: step budget of %llu exhausted; ask for a larger "
			       "budget (at most %u) or simplify the program",
			       n->line, n->col, (unsigned long long)r->max_steps,
			       (unsigned)LB_OC_STEPS_MAX);
	}
	r->res->steps += steps;
	return LB_OK;
}

static int mklist(struct run *r, const struct ocn *n, size_t len, struct val *out)
{
	uint64_t bytes = 16 + 8 * (uint64_t)len;
	if (len > LB_OC_MEM_MAX || bytes > r->mem_max - r->res->mem)
		return lb_errf(r->em, LB_ETOOBIG,
			       "line %d, column %d: memory cap of %llu bytes reached making a list "
			       "of %zu elements",
			       n->line, n->col, (unsigned long long)r->mem_max, len);
	r->res->mem += bytes;
	int rc = charge(r, n, len);
	if (rc)
		return rc;
	memset(out, 0, sizeof *out);
	out->list = true;
	out->n = len;
	if (len && !(out->v = lb_calloc(len, sizeof *out->v)))
		return lb_errf(r->em, LB_ENOMEM, "out of memory");
	return LB_OK;
}

static int eval(struct run *r, const struct ocn *n, struct val *out);

static int eval_int(struct run *r, const struct ocn *n, int64_t *out)
{
	struct val v;
	int rc = eval(r, n, &v);
	if (rc)
		return rc;
	if (v.list) {
		vclear(&v);
		return at(r, n, LB_ETYPE, "a list where an integer is needed");
	}
	*out = v.i;
	return LB_OK;
}

static int eval_list(struct run *r, const struct ocn *n, struct val *out)
{
	int rc = eval(r, n, out);
	if (rc)
		return rc;
	if (!out->list)
		return at(r, n, LB_ETYPE, "an integer where a list is needed");
	return LB_OK;
}

static int arith(struct run *r, const struct ocn *n, int op, int64_t a, int64_t b, int64_t *out)
{
	bool ovf = false;
	switch (op) {
	case O_ADD: ovf = __builtin_add_overflow(a, b, out); break;
	case O_SUB: ovf = __builtin_sub_overflow(a, b, out); break;
	case O_MUL: ovf = __builtin_mul_overflow(a, b, out); break;
	case O_DIV:
	case O_MOD:
		if (b == 0)
			return at(r, n, LB_ERANGE, "division by zero");
		if (a == INT64_MIN && b == -1) {
			ovf = true;
			break;
		}
		/* Floor division and a modulo with the divisor's sign, the same on every node. */
		{
			int64_t q = a / b, m = a % b;
			if (m != 0 && ((m < 0) != (b < 0))) {
				q -= 1;
				m += b;
			}
			*out = op == O_DIV ? q : m;
		}
		break;
	case O_EQ: *out = a == b; break;
	case O_NE: *out = a != b; break;
	case O_LT: *out = a < b; break;
	case O_LE: *out = a <= b; break;
	case O_GT: *out = a > b; break;
	default: *out = a >= b; break;
	}
	if (ovf)
		return at(r, n, LB_ERANGE, "integer overflow (the range is -2^63 .. 2^63-1)");
	return LB_OK;
}

static const struct lb_oc_value *lookup(const struct run *r, const struct ocn *n)
{
	if (n->op > 0) {
		const struct slotref *sr = &r->slots[n->op - 1];
		return sr->out ? &r->res->out[sr->idx] : &r->vars[sr->idx];
	}
	long k = r->free_in[-n->op - 1];
	return k >= 0 ? &r->in[k] : NULL;
}

static int argc_is(struct run *r, const struct ocn *n, size_t lo, size_t hi)
{
	if (n->na >= lo && n->na <= hi)
		return LB_OK;
	char what[96];
	snprintf(what, sizeof what, "%s() takes %zu%s argument%s, not %zu", n->name, lo,
		 hi > lo ? " or more" : "", lo == 1 && hi == lo ? "" : "s", n->na);
	return at(r, n, LB_EINVALID, what);
}

__extension__ typedef __int128 i128;

/* floor(a * b / c) without intermediate overflow. */
static int muldiv(struct run *r, const struct ocn *n, int64_t a, int64_t b, int64_t c,
		  int64_t *out)
{
	if (c == 0)
		return at(r, n, LB_ERANGE, "division by zero in muldiv()");
	i128 p = (i128)a * b, q = p / c, m = p % c;
	if (m != 0 && ((m < 0) != (c < 0)))
		q -= 1;
	if (q > INT64_MAX || q < INT64_MIN)
		return at(r, n, LB_ERANGE, "integer overflow in muldiv()");
	*out = (int64_t)q;
	return LB_OK;
}

static int call(struct run *r, const struct ocn *n, struct val *out)
{
	const char *f = n->name;
	int rc;
	int64_t a, b, c;
	struct val l = {0};
	memset(out, 0, sizeof *out);
	if (!strcmp(f, "abs")) {
		if ((rc = argc_is(r, n, 1, 1)) || (rc = eval_int(r, n->a[0], &a)))
			return rc;
		if (a == INT64_MIN)
			return at(r, n, LB_ERANGE, "integer overflow in abs()");
		out->i = a < 0 ? -a : a;
		return LB_OK;
	}
	if (!strcmp(f, "muldiv")) {
		if ((rc = argc_is(r, n, 3, 3)) || (rc = eval_int(r, n->a[0], &a)) ||
		    (rc = eval_int(r, n->a[1], &b)) || (rc = eval_int(r, n->a[2], &c)))
			return rc;
		return muldiv(r, n, a, b, c, &out->i);
	}
	if (!strcmp(f, "clamp")) {
		if ((rc = argc_is(r, n, 3, 3)) || (rc = eval_int(r, n->a[0], &a)) ||
		    (rc = eval_int(r, n->a[1], &b)) || (rc = eval_int(r, n->a[2], &c)))
			return rc;
		if (b > c)
			return at(r, n, LB_ERANGE, "clamp() with a lower bound above the upper one");
		out->i = a < b ? b : a > c ? c : a;
		return LB_OK;
	}
	if (!strcmp(f, "min") || !strcmp(f, "max")) {
		bool mx = f[1] == 'a';
		if ((rc = argc_is(r, n, 1, LB_OC_LIST_MAX)))
			return rc;
		if (n->na == 1) {
			if ((rc = eval_list(r, n->a[0], &l)))
				goto done;
			if (l.n == 0) {
				rc = at(r, n, LB_ERANGE, "min() or max() of an empty list");
				goto done;
			}
			if ((rc = charge(r, n, l.n)))
				goto done;
			out->i = l.v[0];
			for (size_t i = 1; i < l.n; i++)
				if (mx ? l.v[i] > out->i : l.v[i] < out->i)
					out->i = l.v[i];
			goto done;
		}
		for (size_t i = 0; i < n->na; i++) {
			if ((rc = eval_int(r, n->a[i], &a)))
				return rc;
			if (i == 0 || (mx ? a > out->i : a < out->i))
				out->i = a;
		}
		return LB_OK;
	}
	if (!strcmp(f, "len") || !strcmp(f, "sum")) {
		if ((rc = argc_is(r, n, 1, 1)) || (rc = eval_list(r, n->a[0], &l)))
			goto done;
		if (f[0] == 'l') {
			out->i = (int64_t)l.n;
			goto done;
		}
		if ((rc = charge(r, n, l.n)))
			goto done;
		for (size_t i = 0; i < l.n && !rc; i++)
			rc = arith(r, n, O_ADD, out->i, l.v[i], &out->i);
		goto done;
	}
	if (!strcmp(f, "countge")) {
		if ((rc = argc_is(r, n, 2, 2)) || (rc = eval_list(r, n->a[0], &l)) ||
		    (rc = eval_int(r, n->a[1], &a)) || (rc = charge(r, n, l.n)))
			goto done;
		for (size_t i = 0; i < l.n; i++)
			out->i += l.v[i] >= a;
		goto done;
	}
	if (!strcmp(f, "range") || !strcmp(f, "fill")) {
		bool rg = f[0] == 'r';
		if ((rc = argc_is(r, n, rg ? 1 : 2, rg ? 1 : 2)) || (rc = eval_int(r, n->a[0], &a)))
			return rc;
		if (!rg && (rc = eval_int(r, n->a[1], &b)))
			return rc;
		if (a < 0)
			return at(r, n, LB_ERANGE, "a negative list length");
		if ((rc = mklist(r, n, (uint64_t)a > LB_OC_MEM_MAX ? LB_OC_MEM_MAX + 1 : (size_t)a,
				 out)))
			return rc;
		for (size_t i = 0; i < out->n; i++)
			out->v[i] = rg ? (int64_t)i : b;
		return LB_OK;
	}
	if (!strcmp(f, "split")) {
		/* split(total, weights): floor(total * w_i / W) each, the remainder going one
		 * unit at a time to the first shares. Total and weights must be >= 0. */
		struct val w = {0};
		if ((rc = argc_is(r, n, 2, 2)) || (rc = eval_int(r, n->a[0], &a)) ||
		    (rc = eval_list(r, n->a[1], &w)))
			goto split_done;
		int64_t tw = 0, given = 0;
		for (size_t i = 0; i < w.n && !rc; i++) {
			if (w.v[i] < 0)
				rc = at(r, n, LB_ERANGE, "split() with a negative weight");
			else
				rc = arith(r, n, O_ADD, tw, w.v[i], &tw);
		}
		if (!rc && (a < 0 || tw == 0))
			rc = at(r, n, LB_ERANGE,
				"split() needs a total >= 0 and weights adding up to more than 0");
		if (rc || (rc = mklist(r, n, w.n, out)))
			goto split_done;
		for (size_t i = 0; i < w.n && !rc; i++) {
			rc = muldiv(r, n, a, w.v[i], tw, &out->v[i]);
			given += out->v[i];
		}
		for (size_t i = 0; !rc && given < a; i = (i + 1) % w.n)
			if (w.v[i] > 0) {
				out->v[i]++;
				given++;
			}
	split_done:
		vclear(&w);
		return rc;
	}
	char what[80];
	snprintf(what, sizeof what, "unknown function '%s'", f);
	return at(r, n, LB_ENOTFOUND, what);
done:
	vclear(&l);
	return rc;
}

static int eval(struct run *r, const struct ocn *n, struct val *out)
{
	int rc;
	int64_t a, b;
	memset(out, 0, sizeof *out);
	if ((rc = charge(r, n, 1)))
		return rc;
	switch (n->kind) {
	case N_INT:
		out->i = n->i;
		return LB_OK;
	case N_NAME: {
		const struct lb_oc_value *v = lookup(r, n);
		if (!v) {
			char what[80];
			snprintf(what, sizeof what, "unknown name '%s' (not an input nor a let)",
				 n->name);
			return at(r, n, LB_ENOTFOUND, what);
		}
		if (!v->is_list) {
			out->i = v->n ? v->v[0] : 0;
			return LB_OK;
		}
		if ((rc = mklist(r, n, v->n, out)))
			return rc;
		if (v->n)
			memcpy(out->v, v->v, v->n * sizeof *v->v);
		return LB_OK;
	}
	case N_LIST:
		if ((rc = mklist(r, n, n->na, out)))
			return rc;
		for (size_t i = 0; i < n->na; i++)
			if ((rc = eval_int(r, n->a[i], &out->v[i]))) {
				vclear(out);
				return rc;
			}
		return LB_OK;
	case N_CALL:
		if ((rc = call(r, n, out)))
			vclear(out);
		return rc;
	case N_NEG:
		if ((rc = eval_int(r, n->a[0], &a)))
			return rc;
		return arith(r, n, O_SUB, 0, a, &out->i);
	case N_NOT:
		if ((rc = eval_int(r, n->a[0], &a)))
			return rc;
		out->i = a == 0;
		return LB_OK;
	case N_BIN:
		if ((rc = eval_int(r, n->a[0], &a)) || (rc = eval_int(r, n->a[1], &b)))
			return rc;
		return arith(r, n, n->op, a, b, &out->i);
	case N_AND:
	case N_OR:
		if ((rc = eval_int(r, n->a[0], &a)))
			return rc;
		if ((n->kind == N_AND) == (a == 0)) {
			out->i = n->kind == N_OR;
			return LB_OK;
		}
		if ((rc = eval_int(r, n->a[1], &b)))
			return rc;
		out->i = b != 0;
		return LB_OK;
	case N_IF:
		if ((rc = eval_int(r, n->a[0], &a)))
			return rc;
		return eval(r, n->a[a ? 1 : 2], out);
	default: { /* N_INDEX */
		struct val l;
		if ((rc = eval_list(r, n->a[0], &l)))
			return rc;
		if ((rc = eval_int(r, n->a[1], &a))) {
			vclear(&l);
			return rc;
		}
		if (a < 0 || (uint64_t)a >= l.n) {
			vclear(&l);
			char what[96];
			snprintf(what, sizeof what, "index %lld outside a list of %zu elements",
				 (long long)a, l.n);
			return at(r, n, LB_ERANGE, what);
		}
		out->i = l.v[a];
		vclear(&l);
		return LB_OK;
	}
	}
}

void lb_oc_values_free(struct lb_oc_value *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		lb_free(v[i].v);
	lb_free(v);
}

void lb_oc_result_clear(struct lb_oc_result *r)
{
	lb_oc_values_free(r->out, r->nout);
	r->out = NULL;
	r->nout = 0;
}

static int bind(struct run *r, struct lb_oc_value **arr, size_t *n, const struct ocs *st,
		struct val *v)
{
	struct lb_oc_value *p = lb_realloc(*arr, (*n + 1) * sizeof *p);
	if (!p) {
		vclear(v);
		return lb_errf(r->em, LB_ENOMEM, "out of memory");
	}
	*arr = p;
	struct lb_oc_value *d = &p[(*n)++];
	memset(d, 0, sizeof *d);
	memcpy(d->name, st->name, sizeof d->name);
	d->is_list = v->list;
	if (v->list) {
		d->v = v->v;
		d->n = v->n;
		return LB_OK;
	}
	if (!(d->v = lb_malloc(sizeof *d->v)))
		return lb_errf(r->em, LB_ENOMEM, "out of memory");
	d->v[0] = v->i;
	d->n = 1;
	return LB_OK;
}

int lb_oc_run(const struct lb_oc_program *p, const struct lb_oc_value *in, size_t nin,
	      uint64_t max_steps, uint64_t mem_max, struct lb_oc_result *res,
	      struct lb_errmsg *em)
{
	memset(res, 0, sizeof *res);
	struct run r = {in, nin, NULL, 0, NULL, NULL, res, max_steps, mem_max, em};
	int rc = LB_OK;
	for (size_t i = 0; i < nin && !rc; i++)
		for (size_t j = 0; j < i && !rc; j++)
			if (!strcmp(in[i].name, in[j].name))
				rc = lb_errf(em, LB_EINVALID, "input '%s' is given twice", in[i].name);
	if (rc)
		return rc;
	r.slots = lb_calloc(p->ndefs ? p->ndefs : 1, sizeof *r.slots);
	r.free_in = lb_calloc(p->nfree ? p->nfree : 1, sizeof *r.free_in);
	if (!r.slots || !r.free_in)
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
	for (size_t k = 0; !rc && k < p->nfree; k++) {
		r.free_in[k] = -1;
		for (size_t i = 0; i < nin; i++)
			if (!strcmp(p->frees[k], in[i].name))
				r.free_in[k] = (long)i;
	}
	for (size_t i = 0; i < p->ns && !rc; i++) {
		const struct ocs *st = &p->s[i];
		struct val v;
		if ((rc = eval(&r, st->e, &v)))
			break;
		if (st->kind == S_REQUIRE) {
			bool ok = !v.list && v.i != 0;
			vclear(&v);
			if (!ok)
				rc = lb_errf(em, LB_EDENIED, "line %d, column %d: requirement not met",
					     st->line, st->col);
			continue;
		}
		for (size_t k = 0; k < nin && !rc; k++)
			if (!strcmp(in[k].name, st->name))
				rc = lb_errf(em, LB_EEXISTS, "line %d, column %d: '%s' is already an input",
					     st->line, st->col, st->name);
		if (!rc && st->kind == S_OUT && res->nout == LB_OC_OUTPUTS_MAX)
			rc = lb_errf(em, LB_ELIMIT, "line %d, column %d: more than %d outputs", st->line,
				     st->col, LB_OC_OUTPUTS_MAX);
		if (rc) {
			vclear(&v);
			break;
		}
		r.slots[st->slot].out = st->kind == S_OUT;
		r.slots[st->slot].idx = st->kind == S_OUT ? res->nout : r.nvars;
		rc = st->kind == S_LET ? bind(&r, &r.vars, &r.nvars, st, &v)
				       : bind(&r, &res->out, &res->nout, st, &v);
	}
	lb_oc_values_free(r.vars, r.nvars);
	lb_free(r.slots);
	lb_free(r.free_in);
	if (rc)
		lb_oc_result_clear(res);
	return rc;
}
