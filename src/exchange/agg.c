/*
 * Provenance of aggregates. Inside the jail, every value an algorithm hands out (built-in C
 * algorithms and the Lua `agg` library) is recorded with the set of records it was computed
 * over, as sorted 64-bit record keys, and appears in the result as a placeholder {"$prov": id}.
 * xprov_finish puts the values in place (cells of n < min_cohort records, empty ones too, become null and are
 * listed under "suppressed") and remembers where each went; xprov_encode writes the frame the
 * executor decodes with lb_provenance_decode and checks with lb_policy_release. A script that
 * reads a value inside the jail (xprov_read) is held to the same rules as a release.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/exchange_int.h"
#include "leben/base.h"

#define PROV_MAGIC "LBP1"
#define PATH_MAX_LEN 512

void xprov_init(struct xprov *P, const struct lb_table *t, const uint64_t *keys, unsigned k)
{
	memset(P, 0, sizeof *P);
	P->t = t;
	P->keys = keys;
	P->k = k;
	P->suppressed = json_array();
}

void xprov_release(struct xprov *P)
{
	for (size_t i = 0; i < P->nsets; i++)
		lb_free(P->sets[i].keys);
	for (size_t i = 0; i < P->ncells; i++) {
		struct xprov_cell *c = &P->cells[i];
		lb_free(c->label);
		lb_free(c->column);
		lb_free(c->colkey);
		lb_free(c->ptr);
		lb_free(c->path);
	}
	lb_free(P->sets);
	lb_free(P->cells);
	lb_free(P->htab);
	lb_free(P->rowkeys);
	lb_free(P->filters);
	json_decref(P->suppressed);
	memset(P, 0, sizeof *P);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Take keys (n, owned, any order): sort, deduplicate, reuse an equal set. */
static int add_set(struct xprov *P, uint64_t *keys, size_t n, uint32_t *id)
{
	qsort(keys, n, sizeof *keys, cmp_u64);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || keys[i] != keys[u - 1])
			keys[u++] = keys[i];
	uint64_t h = 1469598103934665603ull ^ u;
	for (size_t i = 0; i < u; i++)
		h = (h ^ keys[i]) * 1099511628211ull;
	if (P->nsets * 2 >= P->hcap) { /* grow the index */
		size_t nc = P->hcap ? P->hcap * 2 : 64;
		uint32_t *nt = lb_calloc(nc, sizeof *nt);
		if (!nt) {
			lb_free(keys);
			return LB_ENOMEM;
		}
		for (size_t i = 0; i < P->nsets; i++) {
			const struct lb_prov_set *s = &P->sets[i];
			uint64_t g = 1469598103934665603ull ^ s->n;
			for (size_t j = 0; j < s->n; j++)
				g = (g ^ s->keys[j]) * 1099511628211ull;
			size_t k = g & (nc - 1);
			while (nt[k])
				k = (k + 1) & (nc - 1);
			nt[k] = (uint32_t)i + 1;
		}
		lb_free(P->htab);
		P->htab = nt;
		P->hcap = nc;
	}
	size_t slot = h & (P->hcap - 1);
	for (; P->htab[slot]; slot = (slot + 1) & (P->hcap - 1)) {
		size_t i = P->htab[slot] - 1;
		if (P->sets[i].n == u && (u == 0 || !memcmp(P->sets[i].keys, keys, u * sizeof *keys))) {
			lb_free(keys);
			*id = (uint32_t)i;
			return LB_OK;
		}
	}
	if (P->nsets == P->capsets) {
		size_t nc = P->capsets ? P->capsets * 2 : 16;
		struct lb_prov_set *ns = lb_realloc(P->sets, nc * sizeof *ns);
		if (!ns) {
			lb_free(keys);
			return LB_ENOMEM;
		}
		P->sets = ns;
		P->capsets = nc;
	}
	P->sets[P->nsets] = (struct lb_prov_set){.n = u, .keys = keys};
	P->htab[slot] = (uint32_t)P->nsets + 1;
	*id = (uint32_t)P->nsets++;
	return LB_OK;
}

int xprov_set_rows(struct xprov *P, const uint32_t *rows, size_t n, uint32_t *id)
{
	uint64_t *keys = lb_malloc((n ? n : 1) * sizeof *keys);
	if (!keys)
		return LB_ENOMEM;
	for (size_t i = 0; i < n; i++)
		keys[i] = P->keys ? P->keys[rows[i]] : rows[i];
	return add_set(P, keys, n, id);
}

int xprov_set_mask(struct xprov *P, const uint8_t *mask, uint32_t *id)
{
	size_t n = 0, nrows = P->t ? P->t->nrows : 0;
	for (size_t r = 0; r < nrows; r++)
		n += mask[r] != 0;
	uint64_t *keys = lb_malloc((n ? n : 1) * sizeof *keys);
	if (!keys)
		return LB_ENOMEM;
	size_t j = 0;
	for (size_t r = 0; r < nrows; r++)
		if (mask[r])
			keys[j++] = P->keys ? P->keys[r] : r;
	return add_set(P, keys, n, id);
}

size_t xprov_n(const struct xprov *P, uint32_t set)
{
	return set < P->nsets ? P->sets[set].n : 0;
}

/* ---- sticky sets ------------------------------------------------------------------------------ */

static uint64_t row_key(const struct xprov *P, size_t r)
{
	return P->keys ? P->keys[r] : r;
}

static bool has_key(const uint64_t *keys, size_t n, uint64_t k)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (keys[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && keys[lo] == k;
}

/* Whether every record of s is a row of this table (a prior set may name records that are not
 * here any more, e.g. after a revocation: computing over it would not be computing over it). */
static int prior_here(struct xprov *P, const struct lb_prov_set *s, bool *here)
{
	size_t nrows = P->t ? P->t->nrows : 0;
	if (!P->rowkeys) {
		P->rowkeys = lb_malloc((nrows ? nrows : 1) * sizeof *P->rowkeys);
		if (!P->rowkeys)
			return LB_ENOMEM;
		for (size_t r = 0; r < nrows; r++)
			P->rowkeys[r] = row_key(P, r);
		qsort(P->rowkeys, nrows, sizeof *P->rowkeys, cmp_u64);
	}
	*here = true;
	for (size_t i = 0; i < s->n && *here; i++)
		*here = has_key(P->rowkeys, nrows, s->keys[i]);
	return LB_OK;
}

/* A set (of this run, else prior) that keys[0..n-1] (sorted, distinct) differs from by
 * 0 < d < k records; NULL if none. */
static const struct lb_prov_set *near_set(struct xprov *P, const uint64_t *keys, size_t n, int *rc)
{
	*rc = LB_OK;
	if (P->k < 2)
		return NULL;
	for (int pass = 0; pass < 2; pass++) {
		size_t nv = pass ? P->nprior : P->nfilters;
		for (size_t i = 0; i < nv; i++) {
			const struct lb_prov_set *t = pass ? &P->prior[i] : &P->sets[P->filters[i]];
			if ((t->n > n ? t->n - n : n - t->n) >= P->k)
				continue;
			size_t d = xprov_symdiff(keys, n, t->keys, t->n, P->k);
			if (d == 0 || d >= P->k)
				continue;
			bool here = true;
			if (pass && (*rc = prior_here(P, t, &here)))
				return NULL;
			if (here)
				return t;
		}
	}
	return NULL;
}

int xprov_snap_mask(struct xprov *P, uint8_t *mask)
{
	size_t nrows = P->t ? P->t->nrows : 0, n = 0;
	uint64_t *keys = lb_malloc((nrows ? nrows : 1) * sizeof *keys);
	if (!keys)
		return LB_ENOMEM;
	for (size_t r = 0; r < nrows; r++)
		if (mask[r])
			keys[n++] = row_key(P, r);
	qsort(keys, n, sizeof *keys, cmp_u64);
	int rc;
	const struct lb_prov_set *t = near_set(P, keys, n, &rc);
	if (t)
		for (size_t r = 0; r < nrows; r++)
			mask[r] = has_key(t->keys, t->n, row_key(P, r));
	if (rc) {
		lb_free(keys);
		return rc;
	}
	/* remember this filter's records as a target of later filters */
	uint32_t id;
	if (t) {
		n = t->n;
		memcpy(keys, t->keys, n * sizeof *keys);
	}
	if ((rc = add_set(P, keys, n, &id)))
		return rc;
	for (size_t i = 0; i < P->nfilters; i++)
		if (P->filters[i] == id)
			return LB_OK;
	if (P->nfilters == P->capfilters) {
		size_t nc = P->capfilters ? P->capfilters * 2 : 16;
		uint32_t *nf = lb_realloc(P->filters, nc * sizeof *nf);
		if (!nf)
			return LB_ENOMEM;
		P->filters = nf;
		P->capfilters = nc;
	}
	P->filters[P->nfilters++] = id;
	return LB_OK;
}

/* A count over set: the same sticky rule (a count is the size of its set, so it moves with it). */
static int snap_count(struct xprov *P, uint32_t *set)
{
	const struct lb_prov_set *s = &P->sets[*set];
	int rc;
	const struct lb_prov_set *t = near_set(P, s->keys, s->n, &rc);
	if (rc || !t)
		return rc;
	if (t >= P->sets && t < P->sets + P->nsets) {
		*set = (uint32_t)(t - P->sets);
		return LB_OK;
	}
	uint64_t *copy = lb_malloc((t->n ? t->n : 1) * sizeof *copy);
	if (!copy)
		return LB_ENOMEM;
	memcpy(copy, t->keys, t->n * sizeof *copy);
	return add_set(P, copy, t->n, set);
}

static json_t *placeholder(size_t id)
{
	json_t *o = json_object();
	if (o && json_object_set_new(o, "$prov", json_integer((json_int_t)id))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static struct xprov_cell *new_cell(struct xprov *P, size_t *id)
{
	if (P->ncells == P->capcells) {
		size_t nc = P->capcells ? P->capcells * 2 : 32;
		struct xprov_cell *n = lb_realloc(P->cells, nc * sizeof *n);
		if (!n)
			return NULL;
		P->cells = n;
		P->capcells = nc;
	}
	struct xprov_cell *c = &P->cells[P->ncells];
	memset(c, 0, sizeof *c);
	*id = P->ncells++;
	return c;
}

json_t *xprov_num(struct xprov *P, enum lb_prov_kind kind, const char *column, const char *colkey,
		  uint32_t set, double value, bool suppressible, size_t *cell)
{
	size_t id;
	if (kind == LB_PROV_COUNT && set < P->nsets) {
		if (snap_count(P, &set))
			return NULL;
		value = (double)P->sets[set].n;
	}
	struct xprov_cell *c = new_cell(P, &id);
	if (!c)
		return NULL;
	c->kind = kind;
	c->set = set;
	c->value = value;
	c->suppressible = suppressible;
	c->column = lb_strdup(kind == LB_PROV_COUNT || !column ? "" : column);
	c->colkey = lb_strdup(kind == LB_PROV_COUNT || !colkey ? "" : colkey);
	if (!c->column || !c->colkey)
		return NULL;
	if (cell)
		*cell = id;
	return placeholder(id);
}

void xprov_zero_ok(struct xprov *P, size_t cell)
{
	if (cell < P->ncells)
		P->cells[cell].flags |= LB_PROV_ZERO_OK;
}

uint32_t xprov_group(struct xprov *P)
{
	return ++P->ngroups;
}

void xprov_in_group(struct xprov *P, size_t cell, uint32_t g1, uint32_t g2)
{
	if (cell < P->ncells) {
		P->cells[cell].group[0] = g1;
		P->cells[cell].group[1] = g2;
	}
}

json_t *xprov_label(struct xprov *P, const char *text, double num, uint32_t set)
{
	size_t id;
	struct xprov_cell *c = new_cell(P, &id);
	if (!c)
		return NULL;
	c->kind = LB_PROV_LABEL;
	c->set = set;
	c->value = num;
	c->suppressible = true;
	c->column = lb_strdup("");
	c->colkey = lb_strdup("");
	c->label = text ? lb_strdup(text) : NULL;
	if (!c->column || !c->colkey || (text && !c->label))
		return NULL;
	return placeholder(id);
}

size_t xprov_symdiff(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, size_t stop)
{
	size_t i = 0, j = 0, d = 0;
	while ((i < na || j < nb) && d < stop) {
		if (j >= nb || (i < na && a[i] < b[j])) {
			d++;
			i++;
		} else if (i >= na || b[j] < a[i]) {
			d++;
			j++;
		} else {
			i++;
			j++;
		}
	}
	return d;
}

/* Whether the comma-separated lists a and b share a name. */
static bool lists_meet(const char *a, const char *b)
{
	for (const char *p = a; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		for (const char *q = b; *q;) {
			const char *f = strchr(q, ',');
			size_t m = f ? (size_t)(f - q) : strlen(q);
			if (n == m && !memcmp(p, q, n))
				return true;
			q += m + (f ? 1 : 0);
		}
		p += n + (e ? 1 : 0);
	}
	return false;
}

bool xprov_meet(enum lb_prov_kind ka, const char *ca, enum lb_prov_kind kb, const char *cb)
{
	if (ka == LB_PROV_LABEL || kb == LB_PROV_LABEL)
		return false;
	if (ka == LB_PROV_COUNT || kb == LB_PROV_COUNT)
		return ka == kb;
	return lists_meet(ca, cb);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *xprov_colkey(const struct lb_table *t, const size_t *cols, size_t n)
{
	const char **names = lb_malloc((n ? n : 1) * sizeof *names);
	if (!names)
		return NULL;
	size_t len = 1;
	for (size_t i = 0; i < n; i++) {
		names[i] = t->cols[cols[i]].name;
		len += strlen(names[i]) + 1;
	}
	qsort(names, n, sizeof *names, cmp_str);
	char *out = lb_malloc(len);
	if (out) {
		size_t o = 0;
		for (size_t i = 0; i < n; i++) {
			if (i > 0 && !strcmp(names[i], names[i - 1]))
				continue;
			if (o)
				out[o++] = ',';
			size_t l = strlen(names[i]);
			memcpy(out + o, names[i], l);
			o += l;
		}
		out[o] = '\0';
	}
	lb_free(names);
	return out;
}

int xprov_read(struct xprov *P, size_t cell, struct lb_errmsg *em)
{
	if (cell >= P->ncells)
		return lb_errf(em, LB_EINTERNAL, "no aggregate %zu", cell);
	struct xprov_cell *c = &P->cells[cell];
	const struct lb_prov_set *s = &P->sets[c->set];
	if (s->n < P->k)
		return lb_errf(em, LB_EDENIED,
			       "reading an aggregate over fewer records than the minimum cohort %u is refused; the "
			       "run stops and nothing is released",
			       P->k);
	for (size_t i = 0; i < P->ncells; i++) {
		const struct xprov_cell *o = &P->cells[i];
		if (i == cell || !(o->flags & LB_PROV_READ) || !xprov_meet(c->kind, c->colkey, o->kind, o->colkey))
			continue;
		const struct lb_prov_set *t = &P->sets[o->set];
		size_t d = xprov_symdiff(s->keys, s->n, t->keys, t->n, P->k);
		if (d > 0 && d < P->k)
			return lb_errf(em, LB_EDENIED,
				       "reading an aggregate whose records differ from an aggregate read before "
				       "by fewer than the minimum cohort %u is refused; the run stops and nothing is "
				       "released",
				       P->k);
	}
	c->flags |= LB_PROV_READ;
	return LB_OK;
}

/* ---- finishing: placeholders to values -------------------------------------------------------- */

struct fin {
	struct xprov *P;
	char path[PATH_MAX_LEN];
	char ptr[PATH_MAX_LEN];
	struct lb_errmsg *em;
};

static bool is_placeholder(json_t *v, size_t *id)
{
	json_t *x;
	if (!json_is_object(v) || json_object_size(v) != 1 || !(x = json_object_get(v, "$prov")))
		return false;
	*id = json_is_integer(x) ? (size_t)json_integer_value(x) : (size_t)-1;
	return true;
}

/* Append a key or index to both paths; returns the previous lengths packed, or -1 if too long. */
static bool push(struct fin *f, const char *key, size_t idx, size_t *pl, size_t *ql)
{
	*pl = strlen(f->path);
	*ql = strlen(f->ptr);
	char seg[PATH_MAX_LEN];
	int n;
	if (key)
		n = snprintf(f->path + *pl, sizeof f->path - *pl, "%s%s", *pl ? "." : "", key);
	else
		n = snprintf(f->path + *pl, sizeof f->path - *pl, "[%zu]", idx);
	if (n < 0 || (size_t)n >= sizeof f->path - *pl)
		return false;
	size_t o = 0;
	if (key) {
		for (const char *k = key; *k && o + 3 < sizeof seg; k++) {
			if (*k == '~' || *k == '/') {
				seg[o++] = '~';
				seg[o++] = *k == '~' ? '0' : '1';
			} else {
				seg[o++] = *k;
			}
		}
		seg[o] = '\0';
	} else {
		snprintf(seg, sizeof seg, "%zu", idx);
	}
	n = snprintf(f->ptr + *ql, sizeof f->ptr - *ql, "/%s", seg);
	return n >= 0 && (size_t)n < sizeof f->ptr - *ql;
}

static void pop(struct fin *f, size_t pl, size_t ql)
{
	f->path[pl] = '\0';
	f->ptr[ql] = '\0';
}

/* The value that replaces placeholder id at the current path. */
static json_t *resolve(struct fin *f, size_t id)
{
	struct xprov *P = f->P;
	if (id >= P->ncells) {
		lb_errf(f->em, LB_EINVALID, "%s: not an aggregate of this run", f->path);
		return NULL;
	}
	if (P->cells[id].flags & LB_PROV_PLACED) {
		/* the same value in a second place: a cell of its own (each copy is checked, noised
		 * and counted on its own) */
		size_t nid;
		struct xprov_cell *d = new_cell(P, &nid);
		if (!d) {
			lb_errf(f->em, LB_ENOMEM, "out of memory");
			return NULL;
		}
		const struct xprov_cell *s = &P->cells[id];
		d->kind = s->kind;
		d->set = s->set;
		d->value = s->value;
		d->suppressible = s->suppressible;
		d->flags = s->flags & LB_PROV_SUPPRESSED;
		d->group[0] = s->group[0];
		d->group[1] = s->group[1];
		d->label = s->label ? lb_strdup(s->label) : NULL;
		d->column = lb_strdup(s->column);
		d->colkey = lb_strdup(s->colkey);
		if ((s->label && !d->label) || !d->column || !d->colkey) {
			lb_errf(f->em, LB_ENOMEM, "out of memory");
			return NULL;
		}
		id = nid;
	}
	struct xprov_cell *c = &P->cells[id];
	size_t n = P->sets[c->set].n;
	c->flags |= LB_PROV_PLACED;
	c->ptr = lb_strdup(f->ptr);
	c->path = lb_strdup(f->path);
	if (!c->ptr || !c->path) {
		lb_errf(f->em, LB_ENOMEM, "out of memory");
		return NULL;
	}
	(void)n;
	if (c->flags & LB_PROV_SUPPRESSED) {
		json_array_append_new(P->suppressed, json_string(f->path));
		return json_null();
	}
	if (c->kind == LB_PROV_LABEL)
		return c->label ? json_string(c->label) : xjson_num(c->value);
	if (c->kind == LB_PROV_COUNT && isfinite(c->value) && c->value == floor(c->value) &&
	    fabs(c->value) < 9e15)
		return json_integer((json_int_t)c->value);
	return xjson_num(c->value);
}

static int fin_walk(struct fin *f, json_t *v, int depth);

/* One member e of a container, under key k (object) or index i (array): a placeholder becomes
 * its value (in *put, NULL otherwise), anything else is walked. */
static int fin_member(struct fin *f, const char *k, size_t i, json_t *e, int depth, json_t **put)
{
	size_t pl, ql, id;
	int rc = LB_OK;
	*put = NULL;
	if (!push(f, k, i, &pl, &ql))
		return lb_errf(f->em, LB_EINVALID, "a path of the result is too long (%.80s...)", f->path);
	if (is_placeholder(e, &id)) {
		if (!(*put = resolve(f, id)))
			return LB_EINVALID;
	} else if ((rc = fin_walk(f, e, depth + 1))) {
		return rc;
	}
	pop(f, pl, ql);
	return LB_OK;
}

static int fin_walk(struct fin *f, json_t *v, int depth)
{
	if (depth > 64)
		return lb_errf(f->em, LB_EINVALID, "%s: the result nests deeper than 64 levels", f->path);
	json_t *x;
	int rc;
	if (json_is_object(v)) {
		const char *k;
		json_t *e;
		json_object_foreach(v, k, e)
		{
			if ((rc = fin_member(f, k, 0, e, depth, &x)))
				return rc;
			if (x)
				json_object_set_new(v, k, x);
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			if ((rc = fin_member(f, NULL, i, json_array_get(v, i), depth, &x)))
				return rc;
			if (x)
				json_array_set_new(v, i, x);
		}
	}
	return LB_OK;
}

/* Primary suppression (n < k, empty cells too), then secondary: while a line's suppressed cells total
 * 0 < s < k records, also suppress its smallest released non-empty cell (else its total minus
 * the released cells would give them). */
static void plan_suppression(struct xprov *P)
{
	for (size_t i = 0; i < P->ncells; i++) {
		struct xprov_cell *c = &P->cells[i];
		size_t n = P->sets[c->set].n;
		if (c->suppressible && n < P->k && !(n == 0 && (c->flags & LB_PROV_ZERO_OK)))
			c->flags |= LB_PROV_SUPPRESSED; /* empty too: 0 and 1 .. k - 1 look the same */
	}
	/* members of each group, counts only */
	size_t ng = P->ngroups, nm = 0;
	size_t *off = lb_calloc(ng + 2, sizeof *off), *mem = lb_malloc((2 * P->ncells + 1) * sizeof *mem);
	if (!off || !mem) {
		/* without the lists: suppress every suppressible cell of a line with any suppression */
		for (size_t i = 0; i < P->ncells; i++)
			if (P->cells[i].suppressible && (P->cells[i].group[0] || P->cells[i].group[1]))
				P->cells[i].flags |= LB_PROV_SUPPRESSED;
		lb_free(off);
		lb_free(mem);
		return;
	}
	for (size_t i = 0; i < P->ncells; i++)
		for (int j = 0; j < 2; j++) {
			uint32_t g = P->cells[i].group[j];
			if (g && g <= ng && P->cells[i].kind == LB_PROV_COUNT)
				off[g + 1]++;
		}
	for (size_t g = 1; g <= ng + 1 && g < ng + 2; g++)
		off[g] += off[g - 1];
	size_t *fill = lb_calloc(ng + 1, sizeof *fill);
	if (fill) {
		for (size_t i = 0; i < P->ncells; i++)
			for (int j = 0; j < 2; j++) {
				uint32_t g = P->cells[i].group[j];
				if (g && g <= ng && P->cells[i].kind == LB_PROV_COUNT)
					mem[off[g] + fill[g]++] = i, nm++;
			}
	}
	bool changed = fill != NULL;
	for (unsigned round = 0; changed && round < 100000; round++) {
		changed = false;
		for (uint32_t g = 1; g <= ng; g++) {
			size_t s = 0, best = (size_t)-1, bestn = 0;
			for (size_t x = off[g]; x < off[g + 1]; x++) {
				struct xprov_cell *c = &P->cells[mem[x]];
				size_t n = P->sets[c->set].n;
				if (c->flags & LB_PROV_SUPPRESSED)
					s += n;
				else if (c->suppressible && n > 0 && (best == (size_t)-1 || n < bestn)) {
					best = mem[x];
					bestn = n;
				}
			}
			if (s > 0 && s < P->k && best != (size_t)-1) {
				P->cells[best].flags |= LB_PROV_SUPPRESSED;
				changed = true;
			}
		}
	}
	(void)nm;
	lb_free(fill);
	lb_free(off);
	lb_free(mem);
	/* what else a line says about a suppressed cell's records goes with it (a cluster's
	 * centroid with its size) */
	uint32_t *supp = lb_calloc(P->nsets ? P->nsets : 1, sizeof *supp);
	if (!supp)
		return;
	for (size_t i = 0; i < P->ncells; i++) {
		const struct xprov_cell *c = &P->cells[i];
		if ((c->flags & LB_PROV_SUPPRESSED) && c->group[0] && c->kind == LB_PROV_COUNT)
			supp[c->set] = c->group[0];
	}
	for (size_t j = 0; j < P->ncells; j++) {
		struct xprov_cell *d = &P->cells[j];
		if (d->suppressible && d->group[0] && supp[d->set] == d->group[0])
			d->flags |= LB_PROV_SUPPRESSED;
	}
	lb_free(supp);
}

int xprov_finish(struct xprov *P, json_t *result, struct lb_errmsg *em)
{
	plan_suppression(P);
	struct fin f = {.P = P, .em = em};
	size_t id;
	if (!json_is_object(result) || is_placeholder(result, &id))
		return lb_errf(em, LB_EINVALID, "the result must be a table of named values");
	int rc = fin_walk(&f, result, 0);
	if (rc)
		return rc;
	if (json_array_size(P->suppressed) > 0)
		json_object_set(result, "suppressed", P->suppressed);
	return LB_OK;
}

int xprov_run(int (*impl)(struct xprov *, const struct lb_table *, const json_t *,
			  const struct lb_algo_ctx *, json_t **, struct lb_errmsg *),
	      const struct lb_table *t, const json_t *params, const struct lb_algo_ctx *ctx,
	      json_t **result, struct lb_errmsg *em)
{
	struct xprov own, *P = ctx && ctx->prov ? ctx->prov : NULL;
	if (!P) {
		xprov_init(&own, t, NULL, ctx ? ctx->min_cohort : 0);
		P = &own;
	}
	json_t *r = NULL;
	int rc = impl(P, t, params, ctx, &r, em);
	if (rc == LB_OK && (rc = xprov_finish(P, r, em)) != LB_OK) {
		json_decref(r);
		r = NULL;
	}
	if (P == &own)
		xprov_release(&own);
	if (rc == LB_OK)
		*result = r;
	return rc;
}

/* ---- the frame ----------------------------------------------------------------------------- */

static int put_u32(struct lb_buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	return lb_buf_add(b, x, 4);
}

static int put_str(struct lb_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	int rc = put_u32(b, (uint32_t)n);
	return rc ? rc : n ? lb_buf_add(b, s, n) : LB_OK;
}

int xprov_encode(const struct xprov *P, struct lb_buf *b)
{
	int rc;
	if ((rc = lb_buf_add(b, PROV_MAGIC, 4)) || (rc = put_u32(b, P->k)) ||
	    (rc = put_u32(b, (uint32_t)P->nsets)))
		return rc;
	for (size_t i = 0; i < P->nsets; i++) {
		if ((rc = put_u32(b, (uint32_t)P->sets[i].n)))
			return rc;
		for (size_t j = 0; j < P->sets[i].n; j++) {
			uint8_t x[8];
			uint64_t v = P->sets[i].keys[j];
			for (int k = 0; k < 8; k++)
				x[k] = (uint8_t)(v >> (56 - 8 * k));
			if ((rc = lb_buf_add(b, x, 8)))
				return rc;
		}
	}
	size_t kept = 0;
	for (size_t i = 0; i < P->ncells; i++)
		kept += (P->cells[i].flags & (LB_PROV_PLACED | LB_PROV_READ)) != 0;
	if ((rc = put_u32(b, (uint32_t)kept)))
		return rc;
	for (size_t i = 0; i < P->ncells; i++) {
		const struct xprov_cell *c = &P->cells[i];
		if (!(c->flags & (LB_PROV_PLACED | LB_PROV_READ)))
			continue;
		uint8_t kf[2] = {(uint8_t)c->kind, (uint8_t)c->flags};
		if ((rc = lb_buf_add(b, kf, 2)) || (rc = put_u32(b, c->set)) || (rc = put_u32(b, c->group[0])) ||
		    (rc = put_u32(b, c->group[1])) || (rc = put_str(b, c->ptr)) ||
		    (rc = put_str(b, c->path)) || (rc = put_str(b, c->column)) || (rc = put_str(b, c->colkey)))
			return rc;
	}
	return LB_OK;
}

struct rd {
	const uint8_t *p;
	size_t n, off;
};

static bool get_u32(struct rd *r, uint32_t *v)
{
	if (r->n - r->off < 4)
		return false;
	const uint8_t *p = r->p + r->off;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	r->off += 4;
	return true;
}

static bool get_str(struct rd *r, char **out)
{
	uint32_t n;
	if (!get_u32(r, &n) || n > 4096 || r->n - r->off < n)
		return false;
	if (memchr(r->p + r->off, 0, n))
		return false;
	*out = lb_malloc((size_t)n + 1);
	if (!*out)
		return false;
	memcpy(*out, r->p + r->off, n);
	(*out)[n] = '\0';
	r->off += n;
	return true;
}

void lb_provenance_free(struct lb_provenance *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nsets; i++)
		lb_free(p->sets[i].keys);
	for (size_t i = 0; i < p->ncells; i++) {
		lb_free(p->cells[i].ptr);
		lb_free(p->cells[i].path);
		lb_free(p->cells[i].column);
		lb_free(p->cells[i].colkey);
	}
	lb_free(p->sets);
	lb_free(p->cells);
	lb_free(p);
}

int lb_provenance_decode(const uint8_t *p, size_t n, struct lb_provenance **out, struct lb_errmsg *em)
{
	struct rd r = {.p = p, .n = n};
	struct lb_provenance *v = lb_calloc(1, sizeof *v);
	uint32_t k, ns, nc;
	const char *what = "header";
	if (!v)
		return LB_ENOMEM;
	if (n < 4 || memcmp(p, PROV_MAGIC, 4))
		goto bad;
	r.off = 4;
	if (!get_u32(&r, &k) || !get_u32(&r, &ns) || ns > (n - r.off) / 4)
		goto bad;
	v->min_cohort = k;
	what = "record sets";
	v->sets = lb_calloc(ns ? ns : 1, sizeof *v->sets);
	if (!v->sets)
		goto nomem;
	for (uint32_t i = 0; i < ns; i++) {
		uint32_t m;
		if (!get_u32(&r, &m) || m > (r.n - r.off) / 8)
			goto bad;
		struct lb_prov_set *s = &v->sets[v->nsets++];
		s->keys = lb_malloc((m ? m : 1) * sizeof *s->keys);
		if (!s->keys)
			goto nomem;
		for (uint32_t j = 0; j < m; j++) {
			uint64_t x = 0;
			for (int b = 0; b < 8; b++)
				x = x << 8 | r.p[r.off + (size_t)b];
			r.off += 8;
			if (j > 0 && x <= s->keys[j - 1])
				goto bad;
			s->keys[j] = x;
		}
		s->n = m;
	}
	what = "cells";
	if (!get_u32(&r, &nc) || nc > (n - r.off) / 30)
		goto bad;
	v->cells = lb_calloc(nc ? nc : 1, sizeof *v->cells);
	if (!v->cells)
		goto nomem;
	for (uint32_t i = 0; i < nc; i++) {
		struct lb_prov_cell *c = &v->cells[v->ncells++];
		uint32_t set;
		if (r.n - r.off < 2)
			goto bad;
		uint8_t kind = r.p[r.off], flags = r.p[r.off + 1];
		r.off += 2;
		if (kind > LB_PROV_LABEL || (flags & ~0x0fu) || !get_u32(&r, &set) || set >= ns ||
		    !get_u32(&r, &c->group[0]) || !get_u32(&r, &c->group[1]) ||
		    !get_str(&r, &c->ptr) || !get_str(&r, &c->path) || !get_str(&r, &c->column) ||
		    !get_str(&r, &c->colkey))
			goto bad;
		c->kind = (enum lb_prov_kind)kind;
		c->flags = flags;
		c->set = set;
		if ((flags & LB_PROV_PLACED) && c->ptr[0] != '/')
			goto bad;
	}
	if (r.off != n)
		goto bad;
	*out = v;
	return LB_OK;
nomem:
	lb_provenance_free(v);
	return LB_ENOMEM;
bad:
	lb_provenance_free(v);
	return lb_errf(em, LB_EMALFORMED, "the sandbox's provenance frame is malformed (%s, at byte %zu)", what,
		       r.off);
}
