/*
 * Split tables: one payment divided among the roles of one kind of use (include/leben/market.h).
 * Integer arithmetic only; every unit not paid to a role lands in the platform pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leben/codec.h"
#include "leben/market.h"
#include "market/market_int.h"

static const char *const use_names[LB_MKT_USE_COUNT] = {
	"data-run", "contract-call", "algorithm-call", "compute", "study", "diagnosis"};
static const char *const role_names[LB_MKT_ROLE_COUNT] = {
	"owner", "patients", "authors", "ancestors", "algorithm-author", "executor", "audit",
	"platform"};

const char *lb_mkt_use_name(unsigned use)
{
	return use < LB_MKT_USE_COUNT ? use_names[use] : "?";
}

const char *lb_mkt_role_name(unsigned role)
{
	return role < LB_MKT_ROLE_COUNT ? role_names[role] : "?";
}

static int name_parse(const char *const *names, unsigned n, const char *what, const char *name,
		      unsigned *out, struct lb_errmsg *em)
{
	char choices[256] = "";
	for (unsigned i = 0; i < n; i++) {
		if (name && !strcmp(name, names[i])) {
			*out = i;
			return LB_OK;
		}
		size_t l = strlen(choices);
		snprintf(choices + l, sizeof choices - l, "%s%s", i ? ", " : "", names[i]);
	}
	return lb_errf(em, LB_EINVALID, "unknown %s '%s': use one of %s", what, name ? name : "",
		       choices);
}

int lb_mkt_use_parse(const char *name, unsigned *use, struct lb_errmsg *em)
{
	return name_parse(use_names, LB_MKT_USE_COUNT, "kind of use", name, use, em);
}

int lb_mkt_role_parse(const char *name, unsigned *role, struct lb_errmsg *em)
{
	return name_parse(role_names, LB_MKT_ROLE_COUNT, "split role", name, role, em);
}

int lb_mkt_split_check(const struct lb_mkt_split *t, unsigned use, struct lb_errmsg *em)
{
	uint64_t sum = 0;
	for (unsigned r = 0; r < LB_MKT_ROLE_COUNT; r++)
		sum += t->ppm[r];
	if (sum == LB_MKT_PPM)
		return LB_OK;
	return lb_errf(em, LB_EINVALID,
		       "the %s split table adds up to %llu ppm, not %u (100%%): %s %llu ppm; change "
		       "the shares so they add up exactly (remainders of a split already go to the "
		       "platform pool)",
		       lb_mkt_use_name(use), (unsigned long long)sum, LB_MKT_PPM,
		       sum > LB_MKT_PPM ? "remove" : "add",
		       (unsigned long long)(sum > LB_MKT_PPM ? sum - LB_MKT_PPM : LB_MKT_PPM - sum));
}

int lb_mkt_splits_check(const struct lb_mkt_splits *s, struct lb_errmsg *em)
{
	for (unsigned u = 0; u < LB_MKT_USE_COUNT; u++) {
		int rc = lb_mkt_split_check(&s->use[u], u, em);
		if (rc)
			return rc;
	}
	return LB_OK;
}

void lb_mkt_splits_default(struct lb_mkt_splits *s)
{
	/* shares in percent x 10,000; each row adds up to 1,000,000 (docs/economy.md) */
	static const uint32_t def[LB_MKT_USE_COUNT][LB_MKT_ROLE_COUNT] = {
		/* owner  patients authors ancestors algo  executor audit  platform */
		{500000, 200000, 0, 0, 100000, 100000, 30000, 70000},  /* data run */
		{0, 0, 600000, 150000, 0, 100000, 50000, 100000},      /* contract call */
		{0, 0, 0, 0, 700000, 150000, 50000, 100000},           /* algorithm call */
		{0, 0, 0, 0, 0, 900000, 0, 100000},                    /* compute */
		{400000, 300000, 0, 0, 100000, 100000, 30000, 70000},  /* study */
		{200000, 0, 550000, 0, 0, 100000, 0, 150000},          /* diagnosis */
	};
	for (unsigned u = 0; u < LB_MKT_USE_COUNT; u++)
		memcpy(s->use[u].ppm, def[u], sizeof s->use[u].ppm);
}

/* floor(amount * ppm / LB_MKT_PPM) without overflow (ppm <= LB_MKT_PPM) */
static uint64_t share_of(uint64_t amount, uint32_t ppm)
{
	uint64_t q = amount / LB_MKT_PPM, r = amount % LB_MKT_PPM;
	return q * ppm + r * ppm / LB_MKT_PPM;
}

static int credit_add(struct lb_mkt_credits *c, const uint8_t to[LB_ADDR_LEN], unsigned role,
		      uint64_t amount)
{
	if (!amount)
		return LB_OK;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct lb_mkt_credit *v = lb_realloc(c->v, cap * sizeof *v);
		if (!v)
			return LB_ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	struct lb_mkt_credit *e = &c->v[c->n++];
	memcpy(e->to, to, LB_ADDR_LEN);
	e->role = (uint8_t)role;
	e->amount = amount;
	return LB_OK;
}

static int credit_cmp(const void *a, const void *b)
{
	const struct lb_mkt_credit *x = a, *y = b;
	if (x->role != y->role)
		return x->role < y->role ? -1 : 1;
	return memcmp(x->to, y->to, LB_ADDR_LEN);
}

/* Sort by (role, account) and merge equal entries (a patient with several records used). */
static void credits_merge(struct lb_mkt_credits *c)
{
	if (c->n < 2)
		return;
	qsort(c->v, c->n, sizeof *c->v, credit_cmp);
	size_t w = 0;
	for (size_t i = 1; i < c->n; i++) {
		if (!credit_cmp(&c->v[w], &c->v[i]))
			c->v[w].amount += c->v[i].amount;
		else
			c->v[++w] = c->v[i];
	}
	c->n = w + 1;
}

/* Pay `share` equally to n accounts; returns what is left (share when n is 0). */
static int pay_list(struct lb_mkt_credits *c, unsigned role, const uint8_t (*list)[LB_ADDR_LEN],
		    size_t n, uint64_t share, uint64_t *left)
{
	*left = share;
	if (!n || !list)
		return LB_OK;
	uint64_t each = share / n;
	if (!each)
		return LB_OK; /* too small to divide: all of it goes to the platform pool */
	for (size_t i = 0; i < n; i++) {
		int rc = credit_add(c, list[i], role, each);
		if (rc)
			return rc;
	}
	*left = share - each * n;
	return LB_OK;
}

int lb_mkt_split_apply(const struct lb_mkt_split *t, unsigned use, uint64_t amount,
		       const struct lb_mkt_parties *p, struct lb_mkt_credits *out,
		       struct lb_errmsg *em)
{
	memset(out, 0, sizeof *out);
	int rc = lb_mkt_split_check(t, use, em);
	if (rc)
		return rc;
	uint64_t paid = 0, left;
	for (unsigned r = 0; r < LB_MKT_ROLE_COUNT && !rc; r++) {
		uint64_t share = share_of(amount, t->ppm[r]);
		left = share;
		switch (r) {
		case LB_MKT_ROLE_OWNER:
			if (p->has_owner && !(rc = credit_add(out, p->owner, r, share)))
				left = 0;
			break;
		case LB_MKT_ROLE_PATIENTS:
			rc = pay_list(out, r, p->patients, p->n_patients, share, &left);
			break;
		case LB_MKT_ROLE_AUTHORS:
			rc = pay_list(out, r, p->authors, p->n_authors, share, &left);
			break;
		case LB_MKT_ROLE_ANCESTORS:
			rc = pay_list(out, r, p->ancestors, p->n_ancestors, share, &left);
			break;
		case LB_MKT_ROLE_ALGO:
			if (p->has_algo_author && !(rc = credit_add(out, p->algo_author, r, share)))
				left = 0;
			break;
		case LB_MKT_ROLE_EXECUTOR:
			if (p->has_executor && !(rc = credit_add(out, p->executor, r, share)))
				left = 0;
			break;
		case LB_MKT_ROLE_AUDIT:
			rc = pay_list(out, r, p->audit, p->n_audit, share, &left);
			break;
		default: /* the platform's own share is paid with the remainders below */
			break;
		}
		paid += share - left;
	}
	/* the platform pool: its share, the rounding remainders and the unfilled roles */
	if (!rc)
		rc = credit_add(out, p->platform, LB_MKT_ROLE_PLATFORM, amount - paid);
	if (rc) {
		lb_mkt_credits_release(out);
		return rc == LB_ENOMEM ? lb_errf(em, rc, "out of memory splitting a %s payment",
						 lb_mkt_use_name(use))
				       : rc;
	}
	credits_merge(out);
	return LB_OK;
}

void lb_mkt_credits_release(struct lb_mkt_credits *c)
{
	lb_free(c->v);
	memset(c, 0, sizeof *c);
}

uint64_t lb_mkt_credits_sum(const struct lb_mkt_credits *c, unsigned role)
{
	uint64_t s = 0;
	for (size_t i = 0; i < c->n; i++)
		if (role >= LB_MKT_ROLE_COUNT || c->v[i].role == role)
			s += c->v[i].amount;
	return s;
}

int lb_mkt_splits_encode(const struct lb_mkt_splits *s, struct lb_buf *b)
{
	int rc = lb_enc_uvar(b, LB_MKT_USE_COUNT);
	for (unsigned u = 0; u < LB_MKT_USE_COUNT && !rc; u++) {
		rc = lb_enc_uvar(b, LB_MKT_ROLE_COUNT);
		for (unsigned r = 0; r < LB_MKT_ROLE_COUNT && !rc; r++)
			rc = lb_enc_uvar(b, s->use[u].ppm[r]);
	}
	return rc;
}

int mkt_splits_dec(struct lb_dec *d, struct lb_mkt_splits *s)
{
	uint64_t n, m, v;
	int rc;
	if ((rc = lb_dec_uvar(d, "uses", LB_MKT_USE_COUNT, &n)))
		return rc;
	/* Five tables are the form written before the diagnosis table existed (state and split
	 * votes of older chains): the diagnosis table is then the default one. */
	if (n != LB_MKT_USE_COUNT && n != LB_MKT_USE_DIAGNOSIS)
		return lb_dec_fail(d, LB_EMALFORMED, "uses", "%llu tables; one per kind of use (%u) "
				   "is needed", (unsigned long long)n, LB_MKT_USE_COUNT);
	if (n < LB_MKT_USE_COUNT)
		lb_mkt_splits_default(s);
	for (unsigned u = 0; u < n; u++) {
		if ((rc = lb_dec_uvar(d, "roles", LB_MKT_ROLE_COUNT, &m)))
			return rc;
		if (m != LB_MKT_ROLE_COUNT)
			return lb_dec_fail(d, LB_EMALFORMED, "roles", "%llu shares in the %s table; "
					   "one per role (%u) is needed", (unsigned long long)m,
					   lb_mkt_use_name(u), LB_MKT_ROLE_COUNT);
		for (unsigned r = 0; r < LB_MKT_ROLE_COUNT; r++) {
			if ((rc = lb_dec_uvar(d, "ppm", LB_MKT_PPM, &v)))
				return rc;
			s->use[u].ppm[r] = (uint32_t)v;
		}
	}
	return LB_OK;
}

int lb_mkt_splits_decode(struct lb_mkt_splits *s, const uint8_t *p, size_t len,
			 struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, p, len, "split tables", em);
	if ((rc = mkt_splits_dec(&d, s)) || (rc = lb_dec_end(&d)))
		return rc;
	return lb_mkt_splits_check(s, em);
}
