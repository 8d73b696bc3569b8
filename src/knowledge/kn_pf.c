/*
 * The `.pf` text form of a contract: a keyword syntax in the spirit of PROforma
 * (`plan :: name ; attribute value ; ... end plan.`), specified in docs/knowledge-language.md.
 * Parser (errors carry file:line:col and what was expected) and canonical printer. Attribute
 * values that are expressions run to the next `;` outside quotes and go to kn_expr_parse.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knowledge/kn_int.h"

enum { P_END, P_ID, P_STR, P_NUM, P_PUNCT };

struct pf {
	const char *file;
	const char *s, *end, *p;
	int line, col;
	int t;              /* token kind */
	const char *ts;     /* token text */
	size_t tn;
	int tline, tcol;
	char *str;          /* P_STR decoded (owned) */
	struct lb_errmsg *em;
	struct lb_kn_model *m;
	int depth;
};

static void padv(struct pf *x)
{
	if (*x->p == '\n') {
		x->line++;
		x->col = 1;
	} else {
		x->col++;
	}
	x->p++;
}

static int perr(struct pf *x, const char *what)
{
	if (x->t == P_END)
		return lb_errf(x->em, LB_ESYNTAX, "%s:%d:%d: expected %s, found end of file",
			       x->file, x->tline, x->tcol, what);
	int n = x->tn > 24 ? 24 : (int)x->tn;
	return lb_errf(x->em, LB_ESYNTAX, "%s:%d:%d: expected %s, found '%.*s'", x->file,
		       x->tline, x->tcol, what, n, x->ts);
}

static void skip_space(struct pf *x)
{
	for (;;) {
		while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\r' ||
					 *x->p == '\n'))
			padv(x);
		if (x->end - x->p >= 2 && x->p[0] == '/' && x->p[1] == '/') {
			while (x->p < x->end && *x->p != '\n')
				padv(x);
			continue;
		}
		break;
	}
}

static int pnext(struct pf *x)
{
	lb_free(x->str);
	x->str = NULL;
	skip_space(x);
	x->ts = x->p;
	x->tline = x->line;
	x->tcol = x->col;
	if (x->p >= x->end) {
		x->t = P_END;
		x->tn = 0;
		return LB_OK;
	}
	char c = *x->p;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
		while (x->p < x->end && ((*x->p >= 'a' && *x->p <= 'z') ||
					 (*x->p >= 'A' && *x->p <= 'Z') || *x->p == '_' ||
					 (*x->p >= '0' && *x->p <= '9')))
			padv(x);
		x->t = P_ID;
	} else if ((c >= '0' && c <= '9') || ((c == '-' || c == '+') && x->p + 1 < x->end &&
					      x->p[1] >= '0' && x->p[1] <= '9')) {
		padv(x);
		while (x->p < x->end && ((*x->p >= '0' && *x->p <= '9') || *x->p == 'e' ||
					 *x->p == 'E' ||
					 (*x->p == '.' && !(x->p + 1 < x->end && x->p[1] == '.')))) {
			bool exp = *x->p == 'e' || *x->p == 'E';
			padv(x);
			/* the exponent's sign: 1.5e+53, as the printer writes large numbers */
			if (exp && x->p < x->end && (*x->p == '+' || *x->p == '-'))
				padv(x);
		}
		x->t = P_NUM;
	} else if (c == '"') {
		struct lb_buf b;
		lb_buf_init(&b, LB_KN_MAX_SOURCE);
		padv(x);
		for (;;) {
			if (x->p >= x->end || *x->p == '\n') {
				lb_buf_release(&b);
				x->tn = 1;
				return lb_errf(x->em, LB_ESYNTAX,
					       "%s:%d:%d: expected the closing '\"' of this string "
					       "on the same line",
					       x->file, x->tline, x->tcol);
			}
			char ch = *x->p;
			if (ch == '"') {
				padv(x);
				break;
			}
			if (ch == '\\' && x->p + 1 < x->end) {
				padv(x);
				ch = *x->p == 'n' ? '\n' : *x->p == 't' ? '\t' : *x->p;
			}
			if (lb_buf_addc(&b, (uint8_t)ch) != LB_OK) {
				lb_buf_release(&b);
				return lb_errf(x->em, LB_ENOMEM, "out of memory");
			}
			padv(x);
		}
		if (b.len > 0 && b.data[0] == (uint8_t)KN_RAW_JSON) {
			/* (the byte marks a value kept as JSON text inside the model) */
			lb_buf_release(&b);
			return lb_errf(x->em, LB_ESYNTAX,
				       "%s:%d:%d: a string may not start with the control byte 0x01; "
				       "remove it",
				       x->file, x->tline, x->tcol);
		}
		x->str = b.data ? (char *)lb_buf_detach(&b, NULL) : lb_strdup("");
		if (x->str == NULL)
			return lb_errf(x->em, LB_ENOMEM, "out of memory");
		x->t = P_STR;
	} else {
		x->t = P_PUNCT;
		if (x->end - x->p >= 2 && ((c == ':' && (x->p[1] == ':' || x->p[1] == '=')) ||
					   (c == '.' && x->p[1] == '.'))) {
			padv(x);
			padv(x);
		} else {
			padv(x);
		}
	}
	x->tn = (size_t)(x->p - x->ts);
	return LB_OK;
}

static bool pis(struct pf *x, const char *w)
{
	size_t n = strlen(w);
	return (x->t == P_ID || x->t == P_PUNCT) && x->tn == n && memcmp(x->ts, w, n) == 0;
}

static int pexpect(struct pf *x, const char *w)
{
	if (!pis(x, w)) {
		char what[40];
		snprintf(what, sizeof(what), "'%s'", w);
		return perr(x, what);
	}
	return pnext(x);
}

static int pident(struct pf *x, char **out, const char *what)
{
	if (x->t != P_ID)
		return perr(x, what);
	if (x->tn > KN_MAX_NAME)
		return perr(x, "a name of at most 1024 characters");
	if ((*out = lb_malloc(x->tn + 1)) == NULL)
		return lb_errf(x->em, LB_ENOMEM, "out of memory");
	memcpy(*out, x->ts, x->tn);
	(*out)[x->tn] = 0;
	int rc = pnext(x);
	if (rc != LB_OK) {
		lb_free(*out);
		*out = NULL;
	}
	return rc;
}

static int pstring(struct pf *x, char **out)
{
	if (x->t != P_STR)
		return perr(x, "a double-quoted string");
	if (*out != NULL)
		return lb_errf(x->em, LB_ESYNTAX, "%s:%d:%d: attribute given twice", x->file,
			       x->tline, x->tcol);
	*out = x->str;
	x->str = NULL;
	if (pnext(x) != LB_OK)
		return x->em ? x->em->code : LB_ESYNTAX;
	return pexpect(x, ";");
}

static int pint(struct pf *x, int64_t *out)
{
	if (x->t != P_NUM)
		return perr(x, "a whole number");
	char tmp[32];
	if (x->tn >= sizeof(tmp))
		return perr(x, "a shorter number");
	memcpy(tmp, x->ts, x->tn);
	tmp[x->tn] = 0;
	char *e;
	errno = 0;
	long long v = strtoll(tmp, &e, 10);
	if (*e != 0 || errno != 0)
		return perr(x, "a whole number");
	*out = v;
	return pnext(x);
}

static int pnum(struct pf *x, double *out)
{
	if (x->t != P_NUM)
		return perr(x, "a number");
	char tmp[64];
	if (x->tn >= sizeof(tmp))
		return perr(x, "a shorter number");
	memcpy(tmp, x->ts, x->tn);
	tmp[x->tn] = 0;
	char *e;
	double v = strtod(tmp, &e);
	if (*e != 0 || !isfinite(v))
		return perr(x, "a number");
	*out = v;
	return pnext(x);
}

/* Expression text from the cursor up to the next ';' outside quotes; consumes the ';'. */
static int pexpr(struct pf *x, struct kn_expr **out, const char *stop)
{
	if (*out != NULL)
		return lb_errf(x->em, LB_ESYNTAX, "%s:%d:%d: attribute given twice", x->file,
			       x->tline, x->tcol);
	/* the current token is the first token of the expression: restart scanning there */
	const char *start = x->ts;
	int line = x->tline, col = x->tcol;
	lb_free(x->str);
	x->str = NULL;
	x->p = start;
	x->line = line;
	x->col = col;
	char q = 0;
	while (x->p < x->end) {
		char c = *x->p;
		if (q) {
			if (c == '\\' && x->p + 1 < x->end)
				padv(x);
			else if (c == q)
				q = 0;
		} else if (c == '"' || c == '\'') {
			q = c;
		} else if (c == ';') {
			break;
		} else if (stop != NULL && x->end - x->p > (ptrdiff_t)strlen(stop) &&
			   memcmp(x->p, stop, strlen(stop)) == 0) {
			break;
		}
		padv(x);
	}
	if (x->p >= x->end) {
		x->t = P_END;
		x->tline = x->line;
		x->tcol = x->col;
		return perr(x, "';' after the expression");
	}
	struct lb_errmsg sub;
	lb_errclear(&sub);
	int rc = kn_expr_parse(start, (size_t)(x->p - start), line, col, out, &sub);
	if (rc != LB_OK)
		return lb_errf(x->em, rc, "%s:%s", x->file, sub.text);
	if (stop != NULL && *x->p != ';') {
		/* leave the cursor at the stop word */
		return pnext(x);
	}
	if (pnext(x) != LB_OK)
		return x->em->code;
	return pexpect(x, ";");
}

/* `meta "JSON"`: the string must hold JSON; it is kept in canonical compact form. */
static int pmeta(struct pf *x, char **out)
{
	int line = x->tline, col = x->tcol, rc;
	if (*out != NULL)
		return lb_errf(x->em, LB_ESYNTAX, "%s:%d:%d: attribute given twice", x->file, line,
			       col);
	if (x->t != P_STR)
		return perr(x, "a string holding JSON (meta)");
	rc = kn_meta_canon(x->str, out);
	if (rc == LB_EINVALID)
		return lb_errf(x->em, LB_ESYNTAX, "%s:%d:%d: meta is not JSON text", x->file,
			       x->tline, x->tcol);
	if (rc != LB_OK)
		return lb_errf(x->em, rc, "out of memory");
	return pnext(x);
}

/* A literal for `allowed` / `default`, typed by the data item. */
static int plit(struct pf *x, const struct kn_datadef *d, struct kn_value *v)
{
	memset(v, 0, sizeof(*v));
	if (x->t == P_STR) {
		if (d->type == KN_T_DATE) {
			if (!kn_date_parse(x->str, &v->u.i))
				return perr(x, "a date \"YYYY-MM-DD\"");
			v->t = KN_V_DATE;
			return pnext(x);
		}
		if (d->type != KN_T_TEXT)
			return perr(x, "a value of the item's type");
		v->t = KN_V_TEXT;
		v->u.s = x->str;
		x->str = NULL;
		int rc = pnext(x);
		if (rc != LB_OK)
			kn_value_clear(v);
		return rc;
	}
	if (x->t == P_NUM && (d->type == KN_T_INTEGER || d->type == KN_T_REAL)) {
		if (d->type == KN_T_INTEGER) {
			v->t = KN_V_INT;
			return pint(x, &v->u.i);
		}
		v->t = KN_V_REAL;
		return pnum(x, &v->u.r);
	}
	if ((pis(x, "true") || pis(x, "false")) && d->type == KN_T_BOOLEAN) {
		v->t = KN_V_BOOL;
		v->u.b = pis(x, "true");
		return pnext(x);
	}
	return perr(x, "a value of the item's type");
}

static int pdata(struct pf *x)
{
	int rc;
	struct lb_kn_model *m = x->m;
	struct kn_datadef *n = lb_realloc(m->data, (m->ndata + 1) * sizeof(*n));
	if (n == NULL)
		return lb_errf(x->em, LB_ENOMEM, "out of memory");
	m->data = n;
	struct kn_datadef *d = &m->data[m->ndata++];
	memset(d, 0, sizeof(*d));
	d->type = -1;
	d->line = x->tline;
	d->col = x->tcol;
	if ((rc = pnext(x)) != LB_OK || (rc = pexpect(x, "::")) != LB_OK ||
	    (rc = pident(x, &d->name, "a data item name")) != LB_OK ||
	    (rc = pexpect(x, ";")) != LB_OK)
		return rc;
	while (!pis(x, "end")) {
		int aline = x->tline, acol = x->tcol;
		if (pis(x, "type")) {
			/* once: values already read were typed by it */
			if (d->type >= 0)
				return lb_errf(x->em, LB_ESYNTAX, "%s:%d:%d: attribute given twice",
					       x->file, aline, acol);
			if ((rc = pnext(x)) != LB_OK)
				return rc;
			for (int t = 0; t < 5; t++)
				if (pis(x, kn_dtype_name(t, false)))
					d->type = t;
			if (d->type < 0)
				return perr(x, "a type: boolean, integer, real, text or date");
			if ((rc = pnext(x)) != LB_OK)
				return rc;
			if (pis(x, "multiple")) {
				d->multi = true;
				if ((rc = pnext(x)) != LB_OK)
					return rc;
			}
			rc = pexpect(x, ";");
		} else if (d->type < 0) {
			return perr(x, "'type' as the first attribute of a data item");
		} else if (pis(x, "caption")) {
			(void)((rc = pnext(x)) != LB_OK || (rc = pstring(x, &d->caption)) != LB_OK);
		} else if (pis(x, "description")) {
			(void)((rc = pnext(x)) != LB_OK ||
			    (rc = pstring(x, &d->description)) != LB_OK);
		} else if (pis(x, "unit")) {
			(void)((rc = pnext(x)) != LB_OK || (rc = pstring(x, &d->unit)) != LB_OK);
		} else if (pis(x, "warning_text") || pis(x, "warning_description") ||
			   pis(x, "warning_meta")) {
			if (d->nwarnings == 0)
				return perr(x, "'warning EXPRESSION;' before its text, description "
					       "or meta");
			struct kn_warning *w = &d->warnings[d->nwarnings - 1];
			if (pis(x, "warning_meta"))
				(void)((rc = pnext(x)) != LB_OK || (rc = pmeta(x, &w->meta)) != LB_OK ||
				    (rc = pexpect(x, ";")) != LB_OK);
			else if (pis(x, "warning_text") && w->caption == NULL)
				(void)((rc = pnext(x)) != LB_OK || (rc = pstring(x, &w->caption)) != LB_OK);
			else if (pis(x, "warning_description") && w->description == NULL)
				(void)((rc = pnext(x)) != LB_OK ||
				    (rc = pstring(x, &w->description)) != LB_OK);
			else
				return lb_errf(x->em, LB_ESYNTAX, "%s:%d:%d: attribute given twice",
					       x->file, aline, acol);
		} else if (pis(x, "meta")) {
			(void)((rc = pnext(x)) != LB_OK || (rc = pmeta(x, &d->meta)) != LB_OK ||
			    (rc = pexpect(x, ";")) != LB_OK);
		} else if (pis(x, "scope")) {
			if (d->owner != NULL)
				return lb_errf(x->em, LB_ESYNTAX, "%s:%d:%d: attribute given twice",
					       x->file, aline, acol);
			(void)((rc = pnext(x)) != LB_OK ||
			    (rc = pident(x, &d->owner, "a task name")) != LB_OK ||
			    (rc = pexpect(x, ";")) != LB_OK);
		} else if (pis(x, "range_objects")) {
			/* JSON form detail: the range is written as {"value": v} objects even
			 * though no value has a caption */
			d->range_objects = true;
			(void)((rc = pnext(x)) != LB_OK || (rc = pexpect(x, ";")) != LB_OK);
		} else if (pis(x, "default_condition")) {
			(void)((rc = pnext(x)) != LB_OK ||
			    (rc = pexpr(x, &d->defcond, NULL)) != LB_OK);
		} else if (pis(x, "range")) {
			if (d->type != KN_T_INTEGER && d->type != KN_T_REAL)
				return perr(x, "an attribute that fits the type ('range' is for "
					       "integer and real items)");
			d->has_range = true;
			if ((rc = pnext(x)) != LB_OK || (rc = pnum(x, &d->lo)) != LB_OK ||
			    (rc = pexpect(x, "..")) != LB_OK || (rc = pnum(x, &d->hi)) != LB_OK)
				return rc;
			rc = pexpect(x, ";");
		} else if (pis(x, "allowed")) {
			if (d->nallowed > 0)
				return lb_errf(x->em, LB_ESYNTAX, "%s:%d:%d: attribute given twice",
					       x->file, aline, acol);
			if ((rc = pnext(x)) != LB_OK)
				return rc;
			for (;;) {
				struct kn_value *na =
					lb_realloc(d->allowed, (d->nallowed + 1) * sizeof(*na));
				if (na == NULL)
					return lb_errf(x->em, LB_ENOMEM, "out of memory");
				d->allowed = na;
				char **nc = lb_realloc(d->allowed_caption,
						       (d->nallowed + 1) * sizeof(*nc));
				if (nc == NULL)
					return lb_errf(x->em, LB_ENOMEM, "out of memory");
				d->allowed_caption = nc;
				nc[d->nallowed] = NULL;
				if ((rc = plit(x, d, &d->allowed[d->nallowed])) != LB_OK)
					return rc;
				d->nallowed++;
				if (x->t == P_STR) {
					/* V "caption": a string right after a value is its caption */
					nc[d->nallowed - 1] = x->str;
					x->str = NULL;
					if ((rc = pnext(x)) != LB_OK)
						return rc;
				}
				if (nc[d->nallowed - 1] != NULL)
					d->range_objects = true;
				if (!pis(x, ","))
					break;
				if ((rc = pnext(x)) != LB_OK)
					return rc;
			}
			rc = pexpect(x, ";");
		} else if (pis(x, "default")) {
			if (d->defval.t != KN_V_UNKNOWN)
				return lb_errf(x->em, LB_ESYNTAX, "%s:%d:%d: attribute given twice",
					       x->file, aline, acol);
			if ((rc = pnext(x)) != LB_OK)
				return rc;
			if (d->multi) {
				/* default of a multi-valued item: literals separated by ',' */
				struct kn_value set = { .t = KN_V_SET };
				/* (`default ;`: the empty set, as JSON's "defaultValue": []) */
				for (; !pis(x, ";");) {
					struct kn_value *nv = lb_realloc(
						set.u.set.v, (set.u.set.n + 1) * sizeof(*nv));
					if (nv == NULL) {
						kn_value_clear(&set);
						return lb_errf(x->em, LB_ENOMEM, "out of memory");
					}
					set.u.set.v = nv;
					if ((rc = plit(x, d, &nv[set.u.set.n])) != LB_OK) {
						kn_value_clear(&set);
						return rc;
					}
					set.u.set.n++;
					if (!pis(x, ","))
						break;
					if ((rc = pnext(x)) != LB_OK) {
						kn_value_clear(&set);
						return rc;
					}
				}
				d->defval = set;
			} else if ((rc = plit(x, d, &d->defval)) != LB_OK) {
				return rc;
			}
			rc = pexpect(x, ";");
		} else if (pis(x, "derive")) {
			(void)((rc = pnext(x)) != LB_OK ||
			    (rc = pexpr(x, &d->derive, NULL)) != LB_OK);
		} else if (pis(x, "valid")) {
			(void)((rc = pnext(x)) != LB_OK ||
			    (rc = pexpr(x, &d->valid, NULL)) != LB_OK);
		} else if (pis(x, "warning")) {
			struct kn_warning *nw =
				lb_realloc(d->warnings, (d->nwarnings + 1) * sizeof(*nw));
			if (nw == NULL)
				return lb_errf(x->em, LB_ENOMEM, "out of memory");
			d->warnings = nw;
			struct kn_warning *w = &d->warnings[d->nwarnings++];
			memset(w, 0, sizeof(*w));
			(void)((rc = pnext(x)) != LB_OK || (rc = pexpr(x, &w->cond, NULL)) != LB_OK);
			/* `value` is the item itself: written with its name (as PROformajs does) */
			if (rc == LB_OK && (rc = kn_expr_rename(w->cond, "value", d->name)) != LB_OK)
				return lb_errf(x->em, rc, "out of memory");
		} else {
			return perr(x, "a data attribute (caption, description, unit, range, "
				       "allowed, range_objects, default, default_condition, derive, "
				       "valid, warning, warning_text, warning_description, warning_meta, "
				       "scope, meta) or 'end data.'");
		}
		if (rc != LB_OK)
			return rc;
	}
	if (d->type < 0)
		return perr(x, "'type'");
	if ((rc = pnext(x)) != LB_OK || (rc = pexpect(x, "data")) != LB_OK)
		return rc;
	return pexpect(x, ".");
}

static int parg(struct pf *x, struct kn_candidate *c)
{
	int rc;
	struct kn_argument *n = lb_realloc(c->args, (c->nargs + 1) * sizeof(*n));
	if (n == NULL)
		return lb_errf(x->em, LB_ENOMEM, "out of memory");
	c->args = n;
	struct kn_argument *a = &c->args[c->nargs++];
	memset(a, 0, sizeof(*a));
	if ((rc = pnext(x)) != LB_OK)
		return rc;
	if (pis(x, "::")) {
		if ((rc = pnext(x)) != LB_OK || (rc = pident(x, &a->name, "an argument name")))
			return rc;
	}
	if (pis(x, "for"))
		a->kind = KN_SUP_FOR;
	else if (pis(x, "against"))
		a->kind = KN_SUP_AGAINST;
	else if (pis(x, "confirming"))
		a->kind = KN_SUP_CONFIRMING;
	else if (pis(x, "excluding"))
		a->kind = KN_SUP_EXCLUDING;
	else if (x->t == P_NUM)
		a->kind = KN_SUP_WEIGHT;
	else
		return perr(x, "for, against, confirming, excluding or a numeric weight");
	if (a->kind == KN_SUP_WEIGHT)
		rc = pnum(x, &a->weight);
	else
		rc = pnext(x);
	if (rc != LB_OK)
		return rc;
	if (x->t == P_STR) {
		a->caption = x->str;
		x->str = NULL;
		if ((rc = pnext(x)) != LB_OK)
			return rc;
	}
	if (pis(x, "description")) {
		if ((rc = pnext(x)) != LB_OK)
			return rc;
		if (x->t != P_STR)
			return perr(x, "a double-quoted string");
		a->description = x->str;
		x->str = NULL;
		if ((rc = pnext(x)) != LB_OK)
			return rc;
	}
	if (pis(x, "meta") && ((rc = pnext(x)) != LB_OK || (rc = pmeta(x, &a->meta)) != LB_OK))
		return rc;
	if (pis(x, "if"))
		return (rc = pnext(x)) != LB_OK ? rc : pexpr(x, &a->cond, NULL);
	return pexpect(x, ";");
}

static int pcand(struct pf *x, struct kn_task *t)
{
	int rc;
	struct kn_candidate *n = lb_realloc(t->cands, (t->ncands + 1) * sizeof(*n));
	if (n == NULL)
		return lb_errf(x->em, LB_ENOMEM, "out of memory");
	t->cands = n;
	struct kn_candidate *c = &t->cands[t->ncands++];
	memset(c, 0, sizeof(*c));
	if ((rc = pnext(x)) != LB_OK || (rc = pexpect(x, "::")) != LB_OK ||
	    (rc = pident(x, &c->name, "a candidate name")) != LB_OK ||
	    (rc = pexpect(x, ";")) != LB_OK)
		return rc;
	while (!pis(x, "end")) {
		if (pis(x, "caption")) {
			(void)((rc = pnext(x)) != LB_OK || (rc = pstring(x, &c->caption)) != LB_OK);
		} else if (pis(x, "description")) {
			(void)((rc = pnext(x)) != LB_OK ||
			    (rc = pstring(x, &c->description)) != LB_OK);
		} else if (pis(x, "priority")) {
			int64_t v = 0;
			(void)((rc = pnext(x)) != LB_OK || (rc = pint(x, &v)) != LB_OK ||
			    (rc = pexpect(x, ";")) != LB_OK);
			c->priority = (int)v;
		} else if (pis(x, "argument")) {
			rc = parg(x, c);
		} else if (pis(x, "auto_confirm_recommended")) {
			c->auto_recommended = true;
			(void)((rc = pnext(x)) != LB_OK || (rc = pexpect(x, ";")) != LB_OK);
		} else if (pis(x, "meta")) {
			(void)((rc = pnext(x)) != LB_OK || (rc = pmeta(x, &c->meta)) != LB_OK ||
			    (rc = pexpect(x, ";")) != LB_OK);
		} else if (pis(x, "recommend")) {
			(void)((rc = pnext(x)) != LB_OK ||
			    (rc = pexpr(x, &c->recommend, NULL)) != LB_OK);
		} else {
			return perr(x, "a candidate attribute (caption, description, priority, "
				       "argument, recommend, auto_confirm_recommended, meta) or 'end "
				       "candidate.'");
		}
		if (rc != LB_OK)
			return rc;
	}
	if ((rc = pnext(x)) != LB_OK || (rc = pexpect(x, "candidate")) != LB_OK)
		return rc;
	return pexpect(x, ".");
}

static int class_of(struct pf *x)
{
	for (int c = 0; c < 4; c++)
		if (pis(x, kn_class_name(c, false)))
			return c;
	if (pis(x, "task"))
		return KN_ACTION; /* PROformajs's plain Task: runs as an action */
	return -1;
}

static const char *task_kw(const struct kn_task *t)
{
	return t->plain ? "task" : kn_class_name(t->cls, false);
}

static int ptask(struct pf *x, struct kn_task **out)
{
	int rc;
	if (++x->depth > 64)
		return lb_errf(x->em, LB_ELIMIT, "%s:%d:%d: plans nested more than 64 deep",
			       x->file, x->tline, x->tcol);
	struct kn_task *t = lb_calloc(1, sizeof(*t));
	if (t == NULL)
		return lb_errf(x->em, LB_ENOMEM, "out of memory");
	*out = t;
	t->cls = class_of(x);
	t->plain = pis(x, "task");
	bool cyclic_said = false;
	if ((rc = pnext(x)) != LB_OK || (rc = pexpect(x, "::")) != LB_OK ||
	    (rc = pident(x, &t->name, "a task name")) != LB_OK || (rc = pexpect(x, ";")) != LB_OK)
		return rc;
	while (!pis(x, "end")) {
		int64_t v = 0;
		if (class_of(x) >= 0) {
			if (t->cls != KN_PLAN)
				return perr(x, "an attribute (only plans have component tasks)");
			struct kn_task **nt = lb_realloc(t->tasks, (t->ntasks + 1) * sizeof(*nt));
			if (nt == NULL)
				return lb_errf(x->em, LB_ENOMEM, "out of memory");
			t->tasks = nt;
			t->tasks[t->ntasks] = NULL;
			rc = ptask(x, &t->tasks[t->ntasks]);
			if (t->tasks[t->ntasks] != NULL)
				t->ntasks++;
		} else if (pis(x, "candidate")) {
			if (t->cls != KN_DECISION)
				return perr(x, "an attribute (only decisions have candidates)");
			rc = pcand(x, t);
		} else if (pis(x, "caption")) {
			(void)((rc = pnext(x)) != LB_OK || (rc = pstring(x, &t->caption)) != LB_OK);
		} else if (pis(x, "description")) {
			(void)((rc = pnext(x)) != LB_OK ||
			    (rc = pstring(x, &t->description)) != LB_OK);
		} else if (pis(x, "precondition")) {
			(void)((rc = pnext(x)) != LB_OK || (rc = pexpr(x, &t->pre, NULL)) != LB_OK);
		} else if (pis(x, "wait_condition")) {
			(void)((rc = pnext(x)) != LB_OK ||
			    (rc = pexpr(x, &t->wait, NULL)) != LB_OK);
		} else if (pis(x, "terminate_condition")) {
			(void)((rc = pnext(x)) != LB_OK ||
			    (rc = pexpr(x, &t->terminate, NULL)) != LB_OK);
		} else if (pis(x, "abort_condition")) {
			(void)((rc = pnext(x)) != LB_OK ||
			    (rc = pexpr(x, &t->abort, NULL)) != LB_OK);
		} else if (pis(x, "cycle_until")) {
			(void)((rc = pnext(x)) != LB_OK ||
			    (rc = pexpr(x, &t->cycle_until, NULL)) != LB_OK);
		} else if (pis(x, "cycles")) {
			(void)((rc = pnext(x)) != LB_OK || (rc = pint(x, &t->cycles)) != LB_OK ||
			    (rc = pexpect(x, ";")) != LB_OK);
			if (rc == LB_OK && (t->cycles < 1 || t->cycles > 1000000))
				return lb_errf(x->em, LB_ESYNTAX, "%s:%d:%d: cycles must be 1..1000000",
					       x->file, x->tline, x->tcol);
		} else if (pis(x, "interval")) {
			(void)((rc = pnext(x)) != LB_OK || (rc = pint(x, &t->interval)) != LB_OK ||
			    (rc = pexpect(x, ";")) != LB_OK);
			if (rc == LB_OK && (t->interval < 0 || t->interval > 36500))
				return lb_errf(x->em, LB_ESYNTAX,
					       "%s:%d:%d: interval must be 0..36500 days", x->file,
					       x->tline, x->tcol);
		} else if (pis(x, "priority")) {
			(void)((rc = pnext(x)) != LB_OK || (rc = pint(x, &v)) != LB_OK ||
			    (rc = pexpect(x, ";")) != LB_OK);
			t->priority = (int)v;
		} else if (pis(x, "trigger")) {
			(void)((rc = pnext(x)) != LB_OK || (rc = pstring(x, &t->trigger)) != LB_OK);
		} else if (pis(x, "cyclic")) {
			if (cyclic_said)
				return lb_errf(x->em, LB_ESYNTAX, "%s:%d:%d: attribute given twice",
					       x->file, x->tline, x->tcol);
			cyclic_said = true;
			t->cyclic = true;
			if ((rc = pnext(x)) != LB_OK)
				return rc;
			if (pis(x, "false") || pis(x, "true")) {
				t->cyclic = pis(x, "true");
				if ((rc = pnext(x)) != LB_OK)
					return rc;
			}
			rc = pexpect(x, ";");
		} else if (pis(x, "use_defaults") && t->cls == KN_ENQUIRY) {
			t->use_defaults = true;
			(void)((rc = pnext(x)) != LB_OK || (rc = pexpect(x, ";")) != LB_OK);
		} else if (pis(x, "auto_confirm_most_supported") && t->cls == KN_DECISION) {
			t->auto_most_supported = true;
			(void)((rc = pnext(x)) != LB_OK || (rc = pexpect(x, ";")) != LB_OK);
		} else if (pis(x, "meta")) {
			(void)((rc = pnext(x)) != LB_OK || (rc = pmeta(x, &t->meta)) != LB_OK ||
			    (rc = pexpect(x, ";")) != LB_OK);
		} else if (pis(x, "autonomous")) {
			t->autonomous = true;
			(void)((rc = pnext(x)) != LB_OK || (rc = pexpect(x, ";")) != LB_OK);
		} else if (pis(x, "optional")) {
			t->optional = true;
			(void)((rc = pnext(x)) != LB_OK || (rc = pexpect(x, ";")) != LB_OK);
		} else if (pis(x, "after")) {
			if ((rc = pnext(x)) != LB_OK)
				return rc;
			for (;;) {
				char **na = lb_realloc(t->after, (t->nafter + 1) * sizeof(*na));
				if (na == NULL)
					return lb_errf(x->em, LB_ENOMEM, "out of memory");
				t->after = na;
				if ((rc = pident(x, &t->after[t->nafter], "a task name")) != LB_OK)
					return rc;
				t->nafter++;
				if (!pis(x, ","))
					break;
				if ((rc = pnext(x)) != LB_OK)
					return rc;
			}
			rc = pexpect(x, ";");
		} else if (pis(x, "post")) {
			struct kn_assign *na = lb_realloc(t->post, (t->npost + 1) * sizeof(*na));
			if (na == NULL)
				return lb_errf(x->em, LB_ENOMEM, "out of memory");
			t->post = na;
			struct kn_assign *a = &t->post[t->npost++];
			memset(a, 0, sizeof(*a));
			(void)((rc = pnext(x)) != LB_OK ||
			    (rc = pident(x, &a->data, "a data item name")) != LB_OK ||
			    (rc = pexpect(x, ":=")) != LB_OK ||
			    (rc = pexpr(x, &a->e, NULL)) != LB_OK);
		} else if (pis(x, "choice_mode") && t->cls == KN_DECISION) {
			if ((rc = pnext(x)) != LB_OK)
				return rc;
			if (!pis(x, "single") && !pis(x, "multiple"))
				return perr(x, "single or multiple");
			t->multiple = pis(x, "multiple");
			(void)((rc = pnext(x)) != LB_OK || (rc = pexpect(x, ";")) != LB_OK);
		} else if (pis(x, "procedure") && t->cls == KN_ACTION) {
			(void)((rc = pnext(x)) != LB_OK ||
			    (rc = pstring(x, &t->procedure)) != LB_OK);
		} else if (pis(x, "source") && t->cls == KN_ENQUIRY) {
			struct kn_source *ns = lb_realloc(t->sources, (t->nsources + 1) * sizeof(*ns));
			if (ns == NULL)
				return lb_errf(x->em, LB_ENOMEM, "out of memory");
			t->sources = ns;
			struct kn_source *s = &t->sources[t->nsources++];
			memset(s, 0, sizeof(*s));
			int line = x->tline, col = x->tcol;
			if ((rc = pnext(x)) != LB_OK ||
			    (rc = pident(x, &s->data, "a data item name")) != LB_OK)
				return rc;
			for (size_t k = 0; k + 1 < t->nsources; k++)
				if (strcmp(t->sources[k].data, s->data) == 0)
					return lb_errf(x->em, LB_EINVALID,
						       "%s:%d:%d: enquiry '%s' asks for '%s' twice; keep "
						       "one source",
						       x->file, line, col, t->name, s->data);
			if (pis(x, "optional")) {
				s->optional = true;
				if ((rc = pnext(x)) != LB_OK)
					return rc;
			}
			if (pis(x, "meta") &&
			    ((rc = pnext(x)) != LB_OK || (rc = pmeta(x, &s->meta)) != LB_OK))
				return rc;
			if (pis(x, "when"))
				(void)((rc = pnext(x)) != LB_OK ||
				    (rc = pexpr(x, &s->request, NULL)) != LB_OK);
			else
				rc = pexpect(x, ";");
		} else {
			char what[200];
			snprintf(what, sizeof(what),
				 "a %s attribute%s or 'end %s.'", kn_class_name(t->cls, false),
				 t->cls == KN_PLAN ? ", a component task" :
				 t->cls == KN_DECISION ? ", 'candidate'" :
				 t->cls == KN_ENQUIRY ? ", 'source'" : ", 'procedure'",
				 kn_class_name(t->cls, false));
			return perr(x, what);
		}
		if (rc != LB_OK)
			return rc;
	}
	if ((rc = pnext(x)) != LB_OK)
		return rc;
	if (!pis(x, task_kw(t))) {
		char what[200];
		snprintf(what, sizeof(what), "'%s' (closing %s '%s')", task_kw(t), task_kw(t),
			 t->name);
		return perr(x, what);
	}
	/* .pf: a repetition limit or end condition makes the task cyclic unless it says not */
	if (!cyclic_said && (t->cycles != 0 || t->cycle_until != NULL))
		t->cyclic = true;
	x->depth--;
	return (rc = pnext(x)) != LB_OK ? rc : pexpect(x, ".");
}

int kn_pf_parse(const char *text, size_t len, const char *file, struct lb_kn_model **out,
		struct lb_errmsg *em)
{
	int rc;
	struct pf x = { .file = file, .s = text, .end = text + len, .p = text, .line = 1,
			.col = 1, .em = em };
	if ((x.m = lb_calloc(1, sizeof(*x.m))) == NULL)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	if ((rc = pnext(&x)) != LB_OK)
		goto err;
	while (x.t != P_END) {
		if (pis(&x, "data")) {
			rc = pdata(&x);
		} else if (class_of(&x) >= 0) {
			if (x.m->root != NULL) {
				rc = perr(&x, "a data definition (the file has one top-level plan)");
				goto err;
			}
			rc = ptask(&x, &x.m->root);
		} else {
			rc = perr(&x, "'plan ::' or 'data ::'");
		}
		if (rc != LB_OK)
			goto err;
	}
	if (x.m->root != NULL && (rc = kn_support_paths(x.m)) != LB_OK) {
		rc = lb_errf(em, rc, "out of memory");
		goto err;
	}
	if ((rc = kn_model_resolve(x.m, file, em)) != LB_OK)
		goto err;
	lb_free(x.str);
	*out = x.m;
	return LB_OK;
err:
	lb_free(x.str);
	lb_kn_model_free(x.m);
	return rc;
}

/* ---- printer ----------------------------------------------------------------------------- */

static int ind(struct lb_buf *b, int depth)
{
	int rc = LB_OK;
	for (int i = 0; rc == LB_OK && i < depth; i++)
		rc = lb_buf_adds(b, "  ");
	return rc;
}

static int qstr(struct lb_buf *b, const char *s)
{
	int rc = lb_buf_addc(b, '"');
	for (; rc == LB_OK && *s; s++) {
		if (*s == '"' || *s == '\\')
			rc = lb_buf_addf(b, "\\%c", *s);
		else if (*s == '\n')
			rc = lb_buf_adds(b, "\\n");
		else if (*s == '\t')
			rc = lb_buf_adds(b, "\\t");
		else
			rc = lb_buf_addc(b, (uint8_t)*s);
	}
	return rc != LB_OK ? rc : lb_buf_addc(b, '"');
}

static int attr_str(struct lb_buf *b, int d, const char *k, const char *v)
{
	if (v == NULL)
		return LB_OK;
	int rc;
	if ((rc = ind(b, d)) != LB_OK || (rc = lb_buf_addf(b, "%s ", k)) != LB_OK ||
	    (rc = qstr(b, v)) != LB_OK)
		return rc;
	return lb_buf_adds(b, ";\n");
}

static int attr_expr(struct lb_buf *b, int d, const char *k, const struct kn_expr *e)
{
	if (e == NULL)
		return LB_OK;
	int rc;
	if ((rc = ind(b, d)) != LB_OK || (rc = lb_buf_addf(b, "%s ", k)) != LB_OK ||
	    (rc = kn_expr_print(b, e, KN_STYLE_PF)) != LB_OK)
		return rc;
	return lb_buf_adds(b, ";\n");
}

static int attr_meta(struct lb_buf *b, int d, const char *meta)
{
	return attr_str(b, d, "meta", meta);
}

static int lit(struct lb_buf *b, const struct kn_value *v)
{
	if (v->t == KN_V_TEXT)
		return qstr(b, v->u.s);
	return kn_value_to_json(b, v);
}

static int num(struct lb_buf *b, double r)
{
	struct kn_value v = { .t = KN_V_REAL, .u.r = r };
	if (r == floor(r) && fabs(r) < 1e15)
		return lb_buf_addf(b, "%.0f", r);
	return kn_value_to_json(b, &v);
}

static int print_task(struct lb_buf *b, const struct kn_task *t, int d)
{
	int rc;
	const char *cls = task_kw(t);
	if ((rc = ind(b, d)) != LB_OK ||
	    (rc = lb_buf_addf(b, "%s :: %s ;\n", cls, t->name)) != LB_OK)
		return rc;
	d++;
	(void)((rc = attr_str(b, d, "caption", t->caption)) != LB_OK ||
	    (rc = attr_str(b, d, "description", t->description)) != LB_OK);
	if (rc == LB_OK && t->nafter > 0) {
		(void)((rc = ind(b, d)) != LB_OK || (rc = lb_buf_adds(b, "after ")) != LB_OK);
		for (size_t i = 0; rc == LB_OK && i < t->nafter; i++)
			rc = lb_buf_addf(b, "%s%s", i ? ", " : "", t->after[i]);
		(void)(rc != LB_OK || (rc = lb_buf_adds(b, ";\n")) != LB_OK);
	}
	if (rc == LB_OK && t->optional)
		(void)((rc = ind(b, d)) != LB_OK || (rc = lb_buf_adds(b, "optional;\n")) != LB_OK);
	if (rc == LB_OK && t->autonomous)
		(void)((rc = ind(b, d)) != LB_OK ||
		    (rc = lb_buf_adds(b, "autonomous;\n")) != LB_OK);
	if (rc == LB_OK && t->priority != 0)
		(void)((rc = ind(b, d)) != LB_OK ||
		    (rc = lb_buf_addf(b, "priority %d;\n", t->priority)) != LB_OK);
	(void)(rc != LB_OK || (rc = attr_str(b, d, "trigger", t->trigger)) != LB_OK ||
	    (rc = attr_expr(b, d, "precondition", t->pre)) != LB_OK ||
	    (rc = attr_expr(b, d, "wait_condition", t->wait)) != LB_OK ||
	    (rc = attr_expr(b, d, "terminate_condition", t->terminate)) != LB_OK ||
	    (rc = attr_expr(b, d, "abort_condition", t->abort)) != LB_OK ||
	    (rc = attr_expr(b, d, "cycle_until", t->cycle_until)) != LB_OK);
	bool implied = t->cycles != 0 || t->cycle_until != NULL;
	if (rc == LB_OK && t->cyclic != implied)
		(void)((rc = ind(b, d)) != LB_OK ||
		    (rc = lb_buf_adds(b, t->cyclic ? "cyclic;\n" : "cyclic false;\n")) != LB_OK);
	if (rc == LB_OK && t->use_defaults)
		(void)((rc = ind(b, d)) != LB_OK || (rc = lb_buf_adds(b, "use_defaults;\n")) != LB_OK);
	if (rc == LB_OK && t->auto_most_supported)
		(void)((rc = ind(b, d)) != LB_OK ||
		    (rc = lb_buf_adds(b, "auto_confirm_most_supported;\n")) != LB_OK);
	(void)(rc != LB_OK || (rc = attr_meta(b, d, t->meta)) != LB_OK);
	if (rc == LB_OK && t->cycles != 0)
		(void)((rc = ind(b, d)) != LB_OK ||
		    (rc = lb_buf_addf(b, "cycles %lld;\n", (long long)t->cycles)) != LB_OK);
	if (rc == LB_OK && t->interval != 0)
		(void)((rc = ind(b, d)) != LB_OK ||
		    (rc = lb_buf_addf(b, "interval %lld;\n", (long long)t->interval)) != LB_OK);
	for (size_t i = 0; rc == LB_OK && i < t->npost; i++)
		(void)((rc = ind(b, d)) != LB_OK ||
		    (rc = lb_buf_addf(b, "post %s := ", t->post[i].data)) != LB_OK ||
		    (rc = kn_expr_print(b, t->post[i].e, KN_STYLE_PF)) != LB_OK ||
		    (rc = lb_buf_adds(b, ";\n")) != LB_OK);
	if (rc == LB_OK && t->cls == KN_DECISION && t->multiple)
		(void)((rc = ind(b, d)) != LB_OK ||
		    (rc = lb_buf_adds(b, "choice_mode multiple;\n")) != LB_OK);
	(void)(rc != LB_OK || (rc = attr_str(b, d, "procedure", t->procedure)) != LB_OK);
	for (size_t i = 0; rc == LB_OK && i < t->nsources; i++) {
		const struct kn_source *s = &t->sources[i];
		(void)((rc = ind(b, d)) != LB_OK ||
		    (rc = lb_buf_addf(b, "source %s%s", s->data, s->optional ? " optional" : "")) != LB_OK);
		if (rc == LB_OK && s->meta != NULL)
			(void)((rc = lb_buf_adds(b, " meta ")) != LB_OK || (rc = qstr(b, s->meta)) != LB_OK);
		if (rc == LB_OK && s->request != NULL)
			(void)((rc = lb_buf_adds(b, " when ")) != LB_OK ||
			    (rc = kn_expr_print(b, s->request, KN_STYLE_PF)) != LB_OK);
		(void)(rc != LB_OK || (rc = lb_buf_adds(b, ";\n")) != LB_OK);
	}
	for (size_t i = 0; rc == LB_OK && i < t->ncands; i++) {
		const struct kn_candidate *c = &t->cands[i];
		rc = ind(b, d);
		(void)(rc != LB_OK ||
		    (rc = lb_buf_addf(b, "candidate :: %s ;\n", c->name)) != LB_OK);
		(void)(rc != LB_OK ||
		    (rc = attr_str(b, d + 1, "caption", c->caption)) != LB_OK ||
		    (rc = attr_str(b, d + 1, "description", c->description)) != LB_OK);
		if (rc == LB_OK && c->priority != 0)
			(void)((rc = ind(b, d + 1)) != LB_OK ||
			    (rc = lb_buf_addf(b, "priority %d;\n", c->priority)) != LB_OK);
		if (rc == LB_OK && c->auto_recommended)
			(void)((rc = ind(b, d + 1)) != LB_OK ||
			    (rc = lb_buf_adds(b, "auto_confirm_recommended;\n")) != LB_OK);
		(void)(rc != LB_OK || (rc = attr_meta(b, d + 1, c->meta)) != LB_OK);
		for (size_t j = 0; rc == LB_OK && j < c->nargs; j++) {
			const struct kn_argument *a = &c->args[j];
			static const char *const kinds[] = { "", "for", "against", "confirming",
							     "excluding" };
			(void)((rc = ind(b, d + 1)) != LB_OK ||
			    (rc = lb_buf_adds(b, "argument ")) != LB_OK);
			if (rc == LB_OK && a->name != NULL)
				rc = lb_buf_addf(b, ":: %s ", a->name);
			if (rc == LB_OK && a->kind == KN_SUP_WEIGHT)
				rc = num(b, a->weight);
			else if (rc == LB_OK)
				rc = lb_buf_adds(b, kinds[a->kind]);
			if (rc == LB_OK && a->caption != NULL)
				(void)((rc = lb_buf_addc(b, ' ')) != LB_OK ||
				    (rc = qstr(b, a->caption)) != LB_OK);
			if (rc == LB_OK && a->description != NULL)
				(void)((rc = lb_buf_adds(b, " description ")) != LB_OK ||
				    (rc = qstr(b, a->description)) != LB_OK);
			if (rc == LB_OK && a->meta != NULL)
				(void)((rc = lb_buf_adds(b, " meta ")) != LB_OK ||
				    (rc = qstr(b, a->meta)) != LB_OK);
			if (rc == LB_OK && a->cond != NULL)
				(void)((rc = lb_buf_adds(b, " if ")) != LB_OK ||
				    (rc = kn_expr_print(b, a->cond, KN_STYLE_PF)) != LB_OK);
			(void)(rc != LB_OK || (rc = lb_buf_adds(b, ";\n")) != LB_OK);
		}
		(void)(rc != LB_OK ||
		    (rc = attr_expr(b, d + 1, "recommend", c->recommend)) != LB_OK ||
		    (rc = ind(b, d)) != LB_OK ||
		    (rc = lb_buf_adds(b, "end candidate.\n")) != LB_OK);
	}
	for (size_t i = 0; rc == LB_OK && i < t->ntasks; i++)
		rc = print_task(b, t->tasks[i], d);
	return rc != LB_OK ? rc : (rc = ind(b, d - 1)) != LB_OK ? rc :
	    lb_buf_addf(b, "end %s.\n", cls);
}

/* ---- what the .pf form cannot hold ----------------------------------------------------------- */

static bool pf_name(const char *s)
{
	bool ok = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_';
	for (const char *p = s; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
		     (*p >= '0' && *p <= '9');
	return ok;
}

static bool pf_text(const char *s)
{
	return s == NULL || s[0] != KN_RAW_JSON;
}

static bool pf_whole(const struct kn_value *v)
{
	if (v->t == KN_V_SET) {
		for (size_t i = 0; i < v->u.set.n; i++)
			if (!pf_whole(&v->u.set.v[i]))
				return false;
		return true;
	}
	return v->t != KN_V_REAL;
}

/* Why an element with this name (NULL: none), caption and description cannot be written in
 * the .pf form, or NULL. */
static const char *pf_element(const char *name, const char *caption, const char *description)
{
	if (name != NULL && name[0] == KN_RAW_JSON)
		return "its name is written as a list";
	if (name != NULL && !pf_name(name))
		return "its name starts with a digit";
	if (!pf_text(caption) || !pf_text(description))
		return "its caption or description is not a text";
	return NULL;
}

static int pf_refuse(struct lb_errmsg *em, const char *what, const char *name, const char *why)
{
	return lb_errf(em, LB_EINVALID,
		       "%s '%s' cannot be written in the .pf form: %s; keep the protocol in its "
		       "JSON form (docs/knowledge-language.md §5.3)",
		       what, name, why);
}

/* kn_expr_js_only, and a call the JSON wrote with arguments PROformajs does not read where the
 * .pf form reads them (KN_REF_FIRST_ONLY); js: the model came from the JSON form (there an
 * unresolved name is a task's or candidate's, which PROformajs reads as undefined; in a .pf
 * model it is the verifier's "undefined data item" finding). */
static const char *pf_js_only(const struct kn_expr *e, bool js)
{
	if (e == NULL)
		return NULL;
	if (e->op == KN_E_CALL && e->ref2 == KN_REF_FIRST_ONLY)
		return strcmp(e->name, "net_support") == 0
			       ? "net_support(c, x) (PROformajs reads its first argument only)"
			       : "min/max(a, b) (PROformajs reads its first argument only)";
	if (e->op == KN_E_CALL && e->ref2 == KN_REF_NOT_DECISION)
		return "result_of/result_set of a task that is not a decision (null in PROformajs)";
	if (js && e->op == KN_E_NAME && e->ref == -1 && !kn_js_reserved(e->name))
		return "a task or candidate name used as a value (undefined in PROformajs)";
	if (js && e->op == KN_E_CALL && e->ref >= 0 && (int)e->nargs < kn_fns[e->ref].min_args)
		return "a call with fewer arguments than the function takes (JavaScript passes "
		       "undefined)";
	const char *op = kn_expr_js_only(e);
	for (size_t i = 0; op == NULL && i < e->nargs; i++)
		op = pf_js_only(e->args[i], js);
	return op;
}

/* The JavaScript-only operator of a task's expressions (kn_expr_js_only), or NULL. */
static const char *pf_task_js_only(const struct kn_task *t, bool js)
{
	const char *op = NULL;
	const struct kn_expr *es[] = { t->pre, t->wait, t->terminate, t->abort, t->cycle_until };
	for (size_t i = 0; op == NULL && i < sizeof(es) / sizeof(es[0]); i++)
		op = pf_js_only(es[i], js);
	for (size_t i = 0; op == NULL && i < t->npost; i++)
		op = pf_js_only(t->post[i].e, js);
	for (size_t i = 0; op == NULL && i < t->nsources; i++)
		op = pf_js_only(t->sources[i].request, js);
	for (size_t i = 0; op == NULL && i < t->ncands; i++) {
		op = pf_js_only(t->cands[i].recommend, js);
		for (size_t k = 0; op == NULL && k < t->cands[i].nargs; k++)
			op = pf_js_only(t->cands[i].args[k].cond, js);
	}
	return op;
}

static int pf_refuse_js(struct lb_errmsg *em, const char *what, const char *name, const char *op)
{
	return lb_errf(em, LB_EINVALID,
		       "%s '%s' cannot be written in the .pf form: an expression uses JavaScript's "
		       "'%s', which LEBEN's .pf expressions lack; keep the protocol in its JSON form "
		       "(docs/knowledge-language.md §4, §5.3)",
		       what, name, op);
}

static int pf_task_printable(const struct lb_kn_model *m, const struct kn_task *t,
			     struct lb_errmsg *em)
{
	const char *jsop = pf_task_js_only(t, m->js);
	if (jsop != NULL)
		return pf_refuse_js(em, "task", t->name, jsop);
	const char *why = pf_element(t->name, t->caption, t->description);
	if (why == NULL && t->trigger_json != NULL)
		why = "its eventTrigger is not a text";
	int depth = 1; /* (ptask's limit: the JSON form nests deeper) */
	for (int p = t->parent; p >= 0 && depth <= 64; p = m->tasks[p]->parent)
		depth++;
	if (why == NULL && depth > 64)
		why = "it is nested more than 64 plans deep (the .pf form's limit)";
	for (size_t i = 0; why == NULL && i < m->ntasks; i++)
		if (m->tasks[i] != t && m->tasks[i]->idx < t->idx &&
		    strcmp(m->tasks[i]->name, t->name) == 0)
			why = "another task has its name (.pf task names are unique in the contract)";
	/* (what follows names what a JSON protocol lacks, which PROformajs lets through; in a
	 * model read from the .pf form the verifier reports it as a finding instead) */
	for (size_t i = 0; m->js && why == NULL && i < t->nafter; i++)
		if (t->after_idx != NULL && t->after_idx[i] < 0)
			why = "its antecedent names no other component of its plan (PROformajs ignores "
			      "\"antecedents\")";
	for (size_t i = 0; m->js && why == NULL && i < t->nsources; i++)
		if (t->sources[i].ref < 0)
			why = "a source's type names no data definition (a task, candidate or range "
			      "value, which PROformajs's validation takes)";
	for (size_t i = 0; m->js && why == NULL && i < t->npost; i++)
		if (t->post[i].ref < 0)
			why = "a postAssignment names what the protocol lacks or a derived item "
			      "(PROformajs ignores \"postAssignments\")";
	for (size_t i = 0; why == NULL && i < t->ncands; i++) {
		const struct kn_candidate *c = &t->cands[i];
		if (pf_element(c->name, c->caption, c->description) != NULL)
			why = "a candidate's name starts with a digit or its caption is not a text";
		for (size_t k = 0; why == NULL && k < c->nargs; k++) {
			if (pf_element(NULL, c->args[k].caption, c->args[k].description) != NULL)
				why = "an argument's caption or description is not a text";
			/* (LEBEN's argument label, `argument :: NAME`: a .pf name there) */
			else if (c->args[k].name != NULL && !pf_name(c->args[k].name))
				why = "an argument's name is not a name the .pf form reads";
		}
	}
	if (why != NULL)
		return pf_refuse(em, "task", t->name, why);
	for (size_t i = 0; i < t->ntasks; i++) {
		int rc = pf_task_printable(m, t->tasks[i], em);
		if (rc != LB_OK)
			return rc;
	}
	return LB_OK;
}

int kn_pf_printable(const struct lb_kn_model *m, struct lb_errmsg *em)
{
	if (m->top_data)
		return lb_errf(em, LB_EINVALID,
			       "the top level is the data definition '%s', not a task, which the .pf "
			       "form needs; keep the protocol in its JSON form "
			       "(docs/knowledge-language.md §5.3)",
			       kn_show_text(m->data[0].name));
	if (m->root->cls != KN_PLAN)
		return lb_errf(em, LB_EINVALID,
			       "the top-level task '%s' is not a plan, which the .pf form needs; "
			       "keep the protocol in its JSON form (docs/knowledge-language.md §5.3)",
			       m->root->name);
	for (size_t i = 0; i < m->ndata; i++) {
		const struct kn_datadef *d = &m->data[i];
		const char *jsop = pf_js_only(d->defcond, m->js);
		if (jsop == NULL)
			jsop = pf_js_only(d->derive, m->js);
		if (jsop == NULL)
			jsop = pf_js_only(d->valid, m->js);
		for (size_t k = 0; jsop == NULL && k < d->nwarnings; k++)
			jsop = pf_js_only(d->warnings[k].cond, m->js);
		if (jsop != NULL)
			return pf_refuse_js(em, "data item", d->name, jsop);
		const char *why = pf_element(d->name, d->caption, d->description);
		for (size_t k = 0; why == NULL && k < d->nwarnings; k++)
			if (pf_element(NULL, d->warnings[k].caption, d->warnings[k].description))
				why = "a warning's caption or description is not a text";
		for (size_t k = 0; why == NULL && k < d->nallowed; k++)
			if (!pf_text(kn_allowed_caption(d, k)) ||
			    (d->type == KN_T_INTEGER && !pf_whole(&d->allowed[k])))
				why = "a range value is a fraction or its caption is not a text";
		if (why == NULL && d->type == KN_T_ANY)
			why = "its class is DataDefinition (any value), which the .pf form lacks";
		if (why == NULL && d->range_text != NULL)
			why = "its range is written as a text";
		if (why == NULL && d->allowed != NULL && d->nallowed == 0)
			why = "its range is empty (PROformajs then takes no value)";
		if (why == NULL && d->range_obj != NULL)
			why = "its range mixes plain values and {value, caption} objects";
		if (why == NULL && d->defval_text != NULL)
			why = "its defaultValue is written as a text";
		if (why == NULL && d->type == KN_T_INTEGER && !pf_whole(&d->defval))
			why = "its defaultValue is a fraction (the .pf form's integers are whole)";
		for (size_t k = 0; why == NULL && k < i; k++)
			if (strcmp(m->data[k].name, d->name) == 0)
				why = "another data item has its name (.pf names are unique)";
		if (why != NULL)
			return pf_refuse(em, "data item", d->name, why);
	}
	return pf_task_printable(m, m->root, em);
}

int kn_pf_print(const struct lb_kn_model *m, struct lb_buf *b)
{
	int rc = LB_OK;
	struct lb_errmsg em;
	if (kn_pf_printable(m, &em) != LB_OK)
		return LB_EINVALID;
	for (size_t i = 0; rc == LB_OK && i < m->ndata; i++) {
		const struct kn_datadef *d = &m->data[i];
		rc = lb_buf_addf(b, "data :: %s ;\n  type %s%s;\n", d->name,
				 kn_dtype_name(d->type, false), d->multi ? " multiple" : "");
		(void)(rc != LB_OK ||
		    (rc = attr_str(b, 1, "caption", d->caption)) != LB_OK ||
		    (rc = attr_str(b, 1, "description", d->description)) != LB_OK ||
		    (rc = attr_str(b, 1, "unit", d->unit)) != LB_OK);
		if (rc == LB_OK && d->has_range)
			(void)((rc = lb_buf_adds(b, "  range ")) != LB_OK ||
			    (rc = num(b, d->lo)) != LB_OK ||
			    (rc = lb_buf_adds(b, " .. ")) != LB_OK ||
			    (rc = num(b, d->hi)) != LB_OK ||
			    (rc = lb_buf_adds(b, ";\n")) != LB_OK);
		(void)(rc != LB_OK || (rc = attr_meta(b, 1, d->meta)) != LB_OK);
		if (rc == LB_OK && d->owner != NULL)
			rc = lb_buf_addf(b, "  scope %s;\n", d->owner);
		if (rc == LB_OK && d->nallowed > 0) {
			rc = lb_buf_adds(b, "  allowed ");
			for (size_t j = 0; rc == LB_OK && j < d->nallowed; j++) {
				(void)((rc = (j ? lb_buf_adds(b, ", ") : LB_OK)) != LB_OK ||
				    (rc = lit(b, &d->allowed[j])) != LB_OK);
				if (rc == LB_OK && kn_allowed_caption(d, j) != NULL)
					(void)((rc = lb_buf_addc(b, ' ')) != LB_OK ||
					    (rc = qstr(b, kn_allowed_caption(d, j))) != LB_OK);
			}
			(void)(rc != LB_OK || (rc = lb_buf_adds(b, ";\n")) != LB_OK);
			bool captioned = false;
			for (size_t j = 0; j < d->nallowed; j++)
				captioned |= kn_allowed_caption(d, j) != NULL;
			if (rc == LB_OK && d->range_objects && !captioned)
				rc = lb_buf_adds(b, "  range_objects;\n");
		}
		if (rc == LB_OK && d->defval.t != KN_V_UNKNOWN) {
			rc = lb_buf_adds(b, "  default ");
			if (d->defval.t == KN_V_SET)
				for (size_t j = 0; rc == LB_OK && j < d->defval.u.set.n; j++)
					(void)((rc = (j ? lb_buf_adds(b, ", ") : LB_OK)) != LB_OK ||
					    (rc = lit(b, &d->defval.u.set.v[j])) != LB_OK);
			else
				(void)(rc != LB_OK || (rc = lit(b, &d->defval)) != LB_OK);
			(void)(rc != LB_OK || (rc = lb_buf_adds(b, ";\n")) != LB_OK);
		}
		(void)(rc != LB_OK ||
		    (rc = attr_expr(b, 1, "default_condition", d->defcond)) != LB_OK ||
		    (rc = attr_expr(b, 1, "derive", d->derive)) != LB_OK ||
		    (rc = attr_expr(b, 1, "valid", d->valid)) != LB_OK);
		for (size_t j = 0; rc == LB_OK && j < d->nwarnings; j++)
			(void)((rc = attr_expr(b, 1, "warning", d->warnings[j].cond)) != LB_OK ||
			    (rc = attr_str(b, 1, "warning_text", d->warnings[j].caption)) != LB_OK ||
			    (rc = attr_str(b, 1, "warning_description",
					   d->warnings[j].description)) != LB_OK ||
			    (rc = attr_str(b, 1, "warning_meta", d->warnings[j].meta)) != LB_OK);
		(void)(rc != LB_OK || (rc = lb_buf_adds(b, "end data.\n\n")) != LB_OK);
	}
	return rc != LB_OK ? rc : print_task(b, m->root, 0);
}
