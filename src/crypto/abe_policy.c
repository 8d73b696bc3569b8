/*
 * CP-ABE policies: the parser of the policy language (attributes joined by AND, OR and
 * "k of (a, b, ...)", parentheses; AND binds tighter than OR), the tree it builds, Shamir sharing
 * of a secret down the tree (each k-of-n gate a polynomial of degree k-1, child j gets q(j)), and
 * the reconstruction coefficients for a set of attributes (products of Lagrange coefficients
 * at 0 along the path). A tree of threshold gates is a linear secret-sharing scheme, which is
 * what Waters 2011 needs.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "crypto/abe_int.h"
#include "leben/base.h"

#define MAX_DEPTH 32

struct parser {
	const char *s;        /* the text */
	size_t pos;           /* current offset */
	int leaves;           /* leaves so far */
	int depth;            /* nesting */
	struct lb_errmsg *em; /* where errors go */
	int rc;               /* first error */
};

int abe_attr_char(int c)
{
	return isalnum(c) || c == '_' || c == ':' || c == '.' || c == '@' || c == '/' || c == '-' ||
	       c == '+' || c == '=';
}

static void skip_ws(struct parser *p)
{
	while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r')
		p->pos++;
}

/* length of the word at pos (0 if none) */
static size_t word_len(const struct parser *p, size_t at)
{
	size_t n = 0;
	while (abe_attr_char((unsigned char)p->s[at + n]))
		n++;
	return n;
}

static int word_is(const struct parser *p, size_t at, size_t n, const char *kw)
{
	return n == strlen(kw) && strncasecmp(p->s + at, kw, n) == 0;
}

static struct abe_node *fail(struct parser *p, int code, const char *what)
{
	if (p->rc == LB_OK)
		p->rc = lb_errf(p->em, code, "policy: at byte %zu: %s", p->pos, what);
	return NULL;
}

void abe_policy_free(struct abe_node *node)
{
	if (!node)
		return;
	for (int i = 0; i < node->n; i++)
		abe_policy_free(node->child[i]);
	lb_free(node->child);
	lb_free(node->attr);
	lb_free(node);
}

static struct abe_node *gate(struct parser *p, int k, struct abe_node **kids, int n)
{
	struct abe_node *g = lb_calloc(1, sizeof *g);
	if (!g) {
		for (int i = 0; i < n; i++)
			abe_policy_free(kids[i]);
		lb_free(kids);
		return fail(p, LB_ENOMEM, "out of memory");
	}
	g->k = k;
	g->n = n;
	g->child = kids;
	return g;
}

static struct abe_node *parse_expr(struct parser *p);

/* appends node to the list (*kids, *n); frees node and returns 0 on failure */
static int push(struct parser *p, struct abe_node ***kids, int *n, struct abe_node *node)
{
	struct abe_node **k = lb_realloc(*kids, (size_t)(*n + 1) * sizeof *k);
	if (!k) {
		abe_policy_free(node);
		fail(p, LB_ENOMEM, "out of memory");
		return 0;
	}
	k[(*n)++] = node;
	*kids = k;
	return 1;
}

static void free_list(struct abe_node **kids, int n)
{
	for (int i = 0; i < n; i++)
		abe_policy_free(kids[i]);
	lb_free(kids);
}

static struct abe_node *parse_factor(struct parser *p)
{
	skip_ws(p);
	char c = p->s[p->pos];
	if (c == '(') {
		if (++p->depth > MAX_DEPTH)
			return fail(p, LB_ETOOBIG, "nested deeper than 32 levels");
		p->pos++;
		struct abe_node *e = parse_expr(p);
		if (!e)
			return NULL;
		skip_ws(p);
		if (p->s[p->pos] != ')') {
			abe_policy_free(e);
			return fail(p, LB_ESYNTAX, "expected ')'");
		}
		p->pos++;
		p->depth--;
		return e;
	}
	size_t n = word_len(p, p->pos);
	if (n == 0)
		return fail(p, LB_ESYNTAX, c ? "expected an attribute, '(' or 'k of ('" : "unexpected end: expected an attribute");
	if (word_is(p, p->pos, n, "and") || word_is(p, p->pos, n, "or") || word_is(p, p->pos, n, "of"))
		return fail(p, LB_ESYNTAX, "expected an attribute, found a keyword");
	/* "k of (...)" */
	size_t after = p->pos + n;
	while (p->s[after] == ' ' || p->s[after] == '\t')
		after++;
	size_t m = word_len(p, after);
	int digits = 1;
	for (size_t i = 0; i < n; i++)
		digits &= isdigit((unsigned char)p->s[p->pos + i]) != 0;
	if (digits && word_is(p, after, m, "of")) {
		long k = n <= 4 ? strtol(p->s + p->pos, NULL, 10) : 100000;
		p->pos = after + m;
		skip_ws(p);
		if (p->s[p->pos] != '(')
			return fail(p, LB_ESYNTAX, "expected '(' after 'of'");
		if (++p->depth > MAX_DEPTH)
			return fail(p, LB_ETOOBIG, "nested deeper than 32 levels");
		p->pos++;
		struct abe_node **kids = NULL;
		int cnt = 0;
		for (;;) {
			struct abe_node *e = parse_expr(p);
			if (!e || !push(p, &kids, &cnt, e)) {
				free_list(kids, cnt);
				return NULL;
			}
			skip_ws(p);
			if (p->s[p->pos] == ',') {
				p->pos++;
				continue;
			}
			if (p->s[p->pos] == ')')
				break;
			free_list(kids, cnt);
			return fail(p, LB_ESYNTAX, "expected ',' or ')' in a threshold list");
		}
		p->pos++;
		p->depth--;
		if (k < 1 || k > cnt) {
			free_list(kids, cnt);
			return fail(p, LB_ESYNTAX, "threshold k of n needs 1 <= k <= n");
		}
		return gate(p, (int)k, kids, cnt);
	}
	if (n > LB_ABE_MAX_ATTR)
		return fail(p, LB_ESYNTAX, "attribute longer than 128 bytes");
	if (p->leaves >= LB_ABE_MAX_LEAVES)
		return fail(p, LB_ETOOBIG, "more than 256 attributes in one policy");
	struct abe_node *leaf = lb_calloc(1, sizeof *leaf);
	char *a = lb_malloc(n + 1);
	if (!leaf || !a) {
		lb_free(leaf);
		lb_free(a);
		return fail(p, LB_ENOMEM, "out of memory");
	}
	memcpy(a, p->s + p->pos, n);
	a[n] = 0;
	leaf->attr = a;
	leaf->leaf = p->leaves++;
	p->pos += n;
	return leaf;
}

/* a run of operands joined by the keyword kw ("and" at term level, "or" at expr level) */
static struct abe_node *parse_chain(struct parser *p, const char *kw, int and)
{
	struct abe_node **kids = NULL;
	int cnt = 0;
	for (;;) {
		struct abe_node *e = and ? parse_factor(p) : parse_chain(p, "and", 1);
		if (!e || !push(p, &kids, &cnt, e)) {
			free_list(kids, cnt);
			return NULL;
		}
		skip_ws(p);
		size_t n = word_len(p, p->pos);
		if (!word_is(p, p->pos, n, kw))
			break;
		p->pos += n;
	}
	if (cnt == 1) {
		struct abe_node *only = kids[0];
		lb_free(kids);
		return only;
	}
	return gate(p, and ? cnt : 1, kids, cnt);
}

static struct abe_node *parse_expr(struct parser *p) { return parse_chain(p, "or", 0); }

int abe_policy_parse(struct abe_node **root, int *leaves, const char *text, struct lb_errmsg *em)
{
	struct parser p = {text, 0, 0, 0, em, LB_OK};
	if (strlen(text) > LB_ABE_MAX_POLICY)
		return lb_errf(em, LB_ETOOBIG, "policy: longer than %d bytes", LB_ABE_MAX_POLICY);
	struct abe_node *r = parse_expr(&p);
	if (r) {
		skip_ws(&p);
		if (p.s[p.pos] != 0) {
			abe_policy_free(r);
			r = fail(&p, LB_ESYNTAX, "expected AND, OR or the end of the policy");
		}
	}
	if (!r)
		return p.rc;
	*root = r;
	*leaves = p.leaves;
	return LB_OK;
}

int abe_policy_share(const struct abe_node *node, const struct lb_bls_scalar *s,
		     struct lb_bls_scalar *lambda)
{
	int rc = LB_OK;
	if (node->k == 0) {
		lambda[node->leaf] = *s;
		return LB_OK;
	}
	/* q(0) = s, random coefficients of degree 1 .. k-1 */
	struct lb_bls_scalar *coef = lb_malloc((size_t)node->k * sizeof *coef);
	if (!coef)
		return LB_ENOMEM;
	coef[0] = *s;
	for (int i = 1; i < node->k; i++)
		lb_bls_scalar_random(&coef[i]);
	for (int j = 1; j <= node->n; j++) {
		struct lb_bls_scalar x, y;
		lb_bls_scalar_from_u64(&x, (uint64_t)j);
		y = coef[node->k - 1];
		for (int i = node->k - 2; i >= 0; i--) {
			lb_bls_scalar_mul(&y, &y, &x);
			lb_bls_scalar_add(&y, &y, &coef[i]);
		}
		if ((rc = abe_policy_share(node->child[j - 1], &y, lambda)) != LB_OK)
			break;
	}
	sodium_memzero(coef, (size_t)node->k * sizeof *coef);
	lb_free(coef);
	return rc;
}

static int sat(const struct abe_node *node, int (*has)(const void *, const char *), const void *ctx)
{
	if (node->k == 0)
		return has(ctx, node->attr);
	int c = 0;
	for (int i = 0; i < node->n && c < node->k; i++)
		c += sat(node->child[i], has, ctx);
	return c >= node->k;
}

static void assign(const struct abe_node *node, int (*has)(const void *, const char *), const void *ctx,
		   const struct lb_bls_scalar *mult, uint8_t *used, struct lb_bls_scalar *omega)
{
	if (node->k == 0) {
		used[node->leaf] = 1;
		omega[node->leaf] = *mult;
		return;
	}
	int idx[LB_ABE_MAX_LEAVES], c = 0;
	for (int i = 0; i < node->n && c < node->k; i++)
		if (sat(node->child[i], has, ctx))
			idx[c++] = i + 1;
	for (int a = 0; a < c; a++) {
		/* Lagrange coefficient at 0 of point idx[a] among idx[0..c) */
		struct lb_bls_scalar num, den, t, u, delta;
		lb_bls_scalar_from_u64(&num, 1);
		lb_bls_scalar_from_u64(&den, 1);
		for (int b = 0; b < c; b++) {
			if (b == a)
				continue;
			lb_bls_scalar_from_u64(&t, (uint64_t)idx[b]);
			lb_bls_scalar_mul(&num, &num, &t);
			lb_bls_scalar_from_u64(&u, (uint64_t)idx[a]);
			lb_bls_scalar_sub(&t, &t, &u);
			lb_bls_scalar_mul(&den, &den, &t);
		}
		lb_bls_scalar_inv(&den, &den);
		lb_bls_scalar_mul(&delta, &num, &den);
		lb_bls_scalar_mul(&delta, &delta, mult);
		assign(node->child[idx[a] - 1], has, ctx, &delta, used, omega);
	}
}

int abe_policy_satisfy(const struct abe_node *root, int (*has)(const void *ctx, const char *attr),
		       const void *ctx, uint8_t *used, struct lb_bls_scalar *omega)
{
	struct lb_bls_scalar one;
	if (!sat(root, has, ctx))
		return 0;
	lb_bls_scalar_from_u64(&one, 1);
	assign(root, has, ctx, &one, used, omega);
	return 1;
}
