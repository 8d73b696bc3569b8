/*
 * SNOMED CT: SCTID checks (partition identifier, Verhoeff check digit) and an RF2 snapshot
 * loader — concepts, descriptions and relationships, current row per id by latest
 * effectiveTime — with term look-up and is-a walks used by coding validation and by the
 * search's synonym expansion.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_int.h"
#include "leben/data_coding.h"

static const uint8_t vd[10][10] = {
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
	{2, 3, 4, 0, 1, 7, 8, 9, 5, 6}, {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
	{4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
	{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
	{8, 7, 6, 5, 9, 3, 2, 1, 0, 4}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}};
static const uint8_t vp[8][10] = {
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
	{5, 8, 0, 3, 7, 9, 6, 1, 4, 2}, {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
	{9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
	{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8}};
static const uint8_t vinv[10] = {0, 4, 3, 2, 1, 5, 6, 7, 8, 9};

int lb_verhoeff_digit(const char *digits)
{
	size_t n = strlen(digits);
	int c = 0;
	for (size_t i = 0; i < n; i++)
		c = vd[c][vp[(i + 1) % 8][digits[n - 1 - i] - '0']];
	return vinv[c];
}

int lb_sctid_check(const char *s, enum lb_sctid_kind *kind)
{
	size_t n = strlen(s);
	if (n < 6 || n > 18 || s[0] == '0')
		return LB_ESYNTAX;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return LB_ESYNTAX;
	char body[19];
	memcpy(body, s, n - 1);
	body[n - 1] = 0;
	if (lb_verhoeff_digit(body) != s[n - 1] - '0')
		return LB_ECHECKSUM;
	int fmt = s[n - 3] - '0', part = s[n - 2] - '0';
	if (fmt > 1 || part > 2 || (fmt == 1 && n < 11))
		return LB_EINVALID;
	if (kind)
		*kind = (enum lb_sctid_kind)part;
	return LB_OK;
}

struct concept {
	uint64_t id;
	uint32_t eff;
	bool active;
};

struct desc {
	uint64_t id, concept, type;
	uint32_t eff;
	bool active;
	char *term; /* into text */
};

struct rel {
	uint64_t id, src, dst, type;
	uint32_t eff;
	bool active;
};

struct lb_snomed {
	char *text[3];
	struct concept *c;
	size_t nc;
	struct desc *d;
	size_t nd;
	struct rel *r;
	size_t nr;
};

static int cmp_c(const void *a, const void *b)
{
	const struct concept *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id ? 1 : (x->eff > y->eff) - (x->eff < y->eff);
}

static int cmp_d(const void *a, const void *b)
{
	const struct desc *x = a, *y = b;
	if (x->concept != y->concept)
		return x->concept < y->concept ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (x->eff > y->eff) - (x->eff < y->eff);
}

static int cmp_r(const void *a, const void *b)
{
	const struct rel *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (x->eff > y->eff) - (x->eff < y->eff);
}

static int cmp_r_src(const void *a, const void *b)
{
	const struct rel *x = a, *y = b;
	return x->src < y->src ? -1 : x->src > y->src ? 1 : (x->dst > y->dst) - (x->dst < y->dst);
}

static bool parse_u64(const char *s, uint64_t *out)
{
	if (!*s)
		return false;
	uint64_t v = 0;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) || v > UINT64_MAX / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* Split a tab-separated line into at most max fields; returns the count. */
static int split_tabs(char *line, char **f, int max)
{
	int n = 0;
	while (n < max) {
		f[n++] = line;
		char *t = strchr(line, '\t');
		if (!t)
			break;
		*t = 0;
		line = t + 1;
	}
	size_t l = strlen(f[n - 1]);
	if (l && f[n - 1][l - 1] == '\r')
		f[n - 1][l - 1] = 0;
	return n;
}

/* Keep the row with the latest effectiveTime of each id (rows sorted by id, then time). */
#define DEDUP_LATEST(arr, n, idfield)                                                      \
	do {                                                                               \
		size_t o_ = 0;                                                             \
		for (size_t i_ = 0; i_ < (n); i_++) {                                      \
			if (i_ + 1 < (n) && (arr)[i_ + 1].idfield == (arr)[i_].idfield)    \
				continue;                                                  \
			(arr)[o_++] = (arr)[i_];                                           \
		}                                                                          \
		(n) = o_;                                                                  \
	} while (0)

static int load_file(const char *path, int kind, struct lb_snomed *s, struct lb_errmsg *em)
{
	uint8_t *data;
	size_t len;
	int rc = lb_file_read(path, 1u << 30, &data, &len, em);
	if (rc)
		return rc;
	s->text[kind] = (char *)data;
	static const int want[3] = {5, 9, 10};
	size_t cap = 0, lineno = 0;
	char *save = NULL;
	for (char *line = strtok_r((char *)data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (lineno == 1)
			continue; /* header */
		char *f[10];
		int nf = split_tabs(line, f, 10);
		uint64_t id, eff, active, a = 0, b = 0, type = 0;
		bool ok = nf == want[kind] && parse_u64(f[0], &id) && parse_u64(f[1], &eff) &&
			  strlen(f[1]) == 8 && parse_u64(f[2], &active) && active <= 1;
		if (ok && kind == 1)
			ok = parse_u64(f[4], &a) && parse_u64(f[6], &type) && *f[7];
		if (ok && kind == 2)
			ok = parse_u64(f[4], &a) && parse_u64(f[5], &b) && parse_u64(f[7], &type);
		if (!ok)
			return lb_errf(em, LB_ESYNTAX,
				       "%s: line %zu is not an RF2 %s row (%d tab-separated fields)",
				       path, lineno,
				       kind == 0 ? "concept" : kind == 1 ? "description" : "relationship",
				       want[kind]);
		size_t *np = kind == 0 ? &s->nc : kind == 1 ? &s->nd : &s->nr;
		size_t esz = kind == 0 ? sizeof(struct concept)
			     : kind == 1 ? sizeof(struct desc)
					 : sizeof(struct rel);
		void **arr = kind == 0 ? (void **)&s->c : kind == 1 ? (void **)&s->d : (void **)&s->r;
		if (*np == cap) {
			cap = cap ? cap * 2 : 256;
			void *na = lb_realloc(*arr, cap * esz);
			if (!na)
				return lb_errf(em, LB_ENOMEM, "out of memory");
			*arr = na;
		}
		if (kind == 0)
			s->c[s->nc++] = (struct concept){id, (uint32_t)eff, active == 1};
		else if (kind == 1)
			s->d[s->nd++] = (struct desc){id, a, type, (uint32_t)eff, active == 1, f[7]};
		else
			s->r[s->nr++] = (struct rel){id, a, b, type, (uint32_t)eff, active == 1};
	}
	return LB_OK;
}

int lb_snomed_load(const char *concept_path, const char *desc_path, const char *rel_path,
		   struct lb_snomed **out, struct lb_errmsg *em)
{
	struct lb_snomed *s = lb_calloc(1, sizeof *s);
	if (!s)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	int rc = load_file(concept_path, 0, s, em);
	if (!rc && desc_path)
		rc = load_file(desc_path, 1, s, em);
	if (!rc && rel_path)
		rc = load_file(rel_path, 2, s, em);
	if (rc) {
		lb_snomed_free(s);
		return rc;
	}
	if (s->nc > 1) {
		qsort(s->c, s->nc, sizeof *s->c, cmp_c);
		DEDUP_LATEST(s->c, s->nc, id);
	}
	if (s->nd > 1) {
		/* latest row per description id, then order by concept for look-ups */
		qsort(s->d, s->nd, sizeof *s->d, cmp_d);
		size_t o = 0;
		for (size_t i = 0; i < s->nd; i++) {
			if (i + 1 < s->nd && s->d[i + 1].id == s->d[i].id &&
			    s->d[i + 1].concept == s->d[i].concept)
				continue;
			s->d[o++] = s->d[i];
		}
		s->nd = o;
	}
	if (s->nr > 1) {
		qsort(s->r, s->nr, sizeof *s->r, cmp_r);
		DEDUP_LATEST(s->r, s->nr, id);
	}
	/* keep only active is-a edges, ordered by source */
	size_t o = 0;
	for (size_t i = 0; i < s->nr; i++)
		if (s->r[i].active && s->r[i].type == LB_SNOMED_ISA)
			s->r[o++] = s->r[i];
	s->nr = o;
	if (s->nr > 1)
		qsort(s->r, s->nr, sizeof *s->r, cmp_r_src);
	*out = s;
	return LB_OK;
}

void lb_snomed_free(struct lb_snomed *s)
{
	if (!s)
		return;
	for (int i = 0; i < 3; i++)
		lb_free(s->text[i]);
	lb_free(s->c);
	lb_free(s->d);
	lb_free(s->r);
	lb_free(s);
}

size_t lb_snomed_concepts(const struct lb_snomed *s)
{
	return s->nc;
}

bool lb_snomed_concept(const struct lb_snomed *s, uint64_t id, bool *active)
{
	size_t lo = 0, hi = s->nc;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->c[mid].id < id)
			lo = mid + 1;
		else if (s->c[mid].id > id)
			hi = mid;
		else {
			if (active)
				*active = s->c[mid].active;
			return true;
		}
	}
	return false;
}

static size_t first_desc(const struct lb_snomed *s, uint64_t id)
{
	size_t lo = 0, hi = s->nd;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->d[mid].concept < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool lb_snomed_description(const struct lb_snomed *s, uint64_t id, size_t i, const char **term,
			   uint64_t *type)
{
	size_t k = first_desc(s, id);
	for (; k < s->nd && s->d[k].concept == id; k++) {
		if (!s->d[k].active)
			continue;
		if (i-- == 0) {
			*term = s->d[k].term;
			if (type)
				*type = s->d[k].type;
			return true;
		}
	}
	return false;
}

const char *lb_snomed_term(const struct lb_snomed *s, uint64_t id)
{
	const char *syn = NULL;
	for (size_t k = first_desc(s, id); k < s->nd && s->d[k].concept == id; k++) {
		if (!s->d[k].active)
			continue;
		if (s->d[k].type == LB_SNOMED_FSN)
			return s->d[k].term;
		if (!syn)
			syn = s->d[k].term;
	}
	return syn;
}

size_t lb_snomed_parents(const struct lb_snomed *s, uint64_t id, uint64_t *out, size_t max)
{
	size_t lo = 0, hi = s->nr, n = 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->r[mid].src < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->nr && s->r[lo].src == id; lo++)
		if (n < max)
			out[n++] = s->r[lo].dst;
	return n;
}

bool lb_snomed_is_a(const struct lb_snomed *s, uint64_t id, uint64_t ancestor)
{
	/* Breadth-first over parents; the hierarchy is a DAG, the visited cap bounds cycles in
	 * damaged releases. */
	size_t cap = 4096, head = 0, tail = 0;
	uint64_t *q = lb_malloc(cap * sizeof *q);
	if (!q)
		return false;
	q[tail++] = id;
	bool found = false;
	while (head < tail && !found) {
		uint64_t cur = q[head++];
		if (cur == ancestor) {
			found = true;
			break;
		}
		uint64_t par[64];
		size_t np = lb_snomed_parents(s, cur, par, 64);
		for (size_t i = 0; i < np && tail < cap; i++) {
			bool seen = false;
			for (size_t k = 0; k < tail && !seen; k++)
				seen = q[k] == par[i];
			if (!seen)
				q[tail++] = par[i];
		}
	}
	lb_free(q);
	return found;
}

uint64_t data_snomed_concept_at(const struct lb_snomed *s, size_t i)
{
	return i < s->nc ? s->c[i].id : 0;
}
