/*
 * Read-only JSON views of the knowledge store for the CLI and the API: listing pages sorted
 * by rating, price or calls, one listing with its ratings, outcome statistics (only from
 * LB_STORE_OUTCOME_MIN outcomes on: fewer could let a reader tie an outcome to a patient it
 * knows was seen), its family and its template, the family tree, templates, wallets, and the
 * search documents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leben/codec.h"
#include "market/store_int.h"

#define HEX(p) store_hex((char[2 * LB_HASH_LEN + 1]){0}, (p))

static bool zero32(const uint8_t *p)
{
	uint8_t a = 0;
	for (int i = 0; i < LB_HASH_LEN; i++)
		a |= p[i];
	return a == 0;
}

static json_t *addr_json(const uint8_t a[LB_ADDR_LEN])
{
	char t[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(t, a);
	return json_string(t);
}

static double avg_rating(const struct store_listing *r)
{
	return r->ratings ? (double)r->rating_sum / (double)r->ratings : 0.0;
}

static json_t *listing_json(const struct store_listing *r)
{
	json_t *codes = json_array();
	for (size_t i = 0; i < r->ncodes; i++)
		json_array_append_new(codes, json_string(r->codes[i]));
	json_t *o = json_pack(
		"{s:s,s:s,s:o,s:s,s:I,s:s,s:s,s:s,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:I}", "id",
		HEX(r->id), "kind", r->kind == LB_STORE_CONTRACT ? "contract" : "algorithm",
		"author", addr_json(r->author), "name", r->name, "version", (json_int_t)r->version,
		"title", r->title, "specialty", r->specialty, "description", r->description, "codes",
		codes, "price_call", (json_int_t)r->price_call, "price_licence",
		(json_int_t)r->price_licence, "calls", (json_int_t)r->calls, "licences",
		(json_int_t)r->licences, "revenue", (json_int_t)r->revenue, "ratings",
		(json_int_t)r->ratings, "rating", avg_rating(r), "height", (json_int_t)r->height);
	if (!zero32(r->parent)) {
		json_object_set_new(o, "parent", json_string(HEX(r->parent)));
		json_object_set_new(o, "relation", json_string(lb_store_relation_name(r->relation)));
	}
	if (!zero32(r->tmpl)) {
		json_object_set_new(o, "template", json_string(HEX(r->tmpl)));
		json_object_set_new(o, "params", json_string(r->params));
	}
	return o;
}

struct view {
	const struct lb_store_query *q;
	const uint8_t *id;
	json_t *out;
	struct lb_errmsg *em;
};

static int id_at(struct lb_state *s, uint64_t i, uint8_t id[LB_HASH_LEN])
{
	uint8_t key[8];
	const uint8_t *v;
	size_t n;
	for (int k = 0; k < 8; k++)
		key[k] = (uint8_t)(i >> (56 - 8 * k));
	int rc = lb_state_get(s, NS_IDX, key, 8, &v, &n);
	if (rc || n != LB_HASH_LEN)
		return rc ? rc : LB_ECORRUPT;
	memcpy(id, v, LB_HASH_LEN);
	return LB_OK;
}

struct row {
	double key;
	uint64_t index;
	json_t *j;
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? 1 : -1; /* larger key first */
	return x->index < y->index ? -1 : x->index > y->index;
}

static int view_listings(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	const struct lb_store_query *q = v->q;
	const char *sort = q->sort ? q->sort : "new";
	int mode = !strcmp(sort, "rating") ? 1 : !strcmp(sort, "price") ? 2
					     : !strcmp(sort, "calls")  ? 3
					     : !strcmp(sort, "new")    ? 0
								       : -1;
	if (mode < 0)
		return lb_errf(v->em, LB_EINVALID, "sort=%s: use rating, price, calls or new", sort);
	uint64_t total;
	int rc = lb_state_get_u64(s, NS_COUNT, "listings", 8, 0, &total);
	if (rc)
		return rc;
	struct row *rows = lb_calloc(total ? total : 1, sizeof *rows);
	struct store_listing *r = lb_malloc(sizeof *r);
	size_t nrows = 0;
	if (!rows || !r) {
		lb_free(rows);
		lb_free(r);
		return lb_errf(v->em, LB_ENOMEM, "out of memory");
	}
	for (uint64_t i = 0; i < total && !rc; i++) {
		uint8_t id[LB_HASH_LEN];
		if ((rc = id_at(s, i, id)) || (rc = store_listing_get(s, id, r))) {
			rc = lb_errf(v->em, LB_ECORRUPT, "store listing %llu cannot be read",
				     (unsigned long long)i);
			break;
		}
		if ((q->kind && r->kind != q->kind) ||
		    (q->author && memcmp(q->author, r->author, LB_ADDR_LEN)))
			continue;
		if (q->specialty && *q->specialty && strcasecmp(q->specialty, r->specialty))
			continue;
		struct row *w = &rows[nrows++];
		w->index = i;
		uint64_t price = r->price_call ? r->price_call : r->price_licence;
		w->key = mode == 1   ? avg_rating(r) * 1e6 + (double)r->ratings
			 : mode == 2 ? -(double)price /* cheapest first */
			 : mode == 3 ? (double)r->calls
				     : (double)i;
		w->j = listing_json(r);
	}
	if (!rc) {
		qsort(rows, nrows, sizeof *rows, row_cmp);
		size_t lim = q->limit ? q->limit : 20;
		json_t *arr = json_array();
		for (size_t i = q->offset; i < nrows && json_array_size(arr) < lim; i++) {
			json_array_append(arr, rows[i].j);
		}
		v->out = json_pack("{s:I,s:I,s:I,s:s,s:o}", "total", (json_int_t)nrows, "offset",
				   (json_int_t)q->offset, "limit", (json_int_t)lim, "sort", sort,
				   "listings", arr);
	}
	for (size_t i = 0; i < nrows; i++)
		json_decref(rows[i].j);
	lb_free(rows);
	lb_free(r);
	return rc;
}

int lb_store_listings_json(struct lb_ledger *l, const struct lb_store_query *q, json_t **out,
			   struct lb_errmsg *em)
{
	struct view v = {.q = q, .em = em};
	if (q->limit > 1000)
		return lb_errf(em, LB_EINVALID, "limit=%zu: at most 1000", q->limit);
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_listings, &v);
	*out = v.out;
	return rc;
}

static int need(struct lb_state *s, struct view *v, const uint8_t *id, struct store_listing *r)
{
	int rc = store_listing_get(s, id, r);
	if (rc == LB_ENOTFOUND)
		return lb_errf(v->em, rc, "listing %s is not in the store", HEX(id));
	if (rc)
		return lb_errf(v->em, rc, "listing %s cannot be read", HEX(id));
	return LB_OK;
}

static json_t *children_json(struct lb_state *s, const struct store_listing *r)
{
	json_t *arr = json_array();
	for (uint64_t i = 0; i < r->children; i++) {
		uint8_t key[LB_HASH_LEN + 8];
		const uint8_t *v;
		size_t n;
		memcpy(key, r->id, LB_HASH_LEN);
		for (int k = 0; k < 8; k++)
			key[LB_HASH_LEN + k] = (uint8_t)(i >> (56 - 8 * k));
		if (!lb_state_get(s, NS_CHILD, key, sizeof key, &v, &n) && n == LB_HASH_LEN)
			json_array_append_new(arr, json_string(HEX(v)));
	}
	return arr;
}

/* Outcome statistics of one version: counts only from the minimum on (fewer could let a
 * reader tie an outcome to a patient it knows was seen). */
static json_t *outcomes_json(const struct store_listing *r)
{
	uint64_t tot = 0;
	for (int i = 0; i < LB_STORE_OUT_KINDS; i++)
		tot += r->outcomes[i];
	json_t *os = json_pack("{s:I,s:I}", "minimum", (json_int_t)LB_STORE_OUTCOME_MIN,
			       "version", (json_int_t)r->version);
	if (tot >= LB_STORE_OUTCOME_MIN) {
		json_t *c = json_object();
		for (int i = 0; i < LB_STORE_OUT_KINDS; i++)
			json_object_set_new(c, lb_store_outcome_name(i + 1),
					    json_integer((json_int_t)r->outcomes[i]));
		json_object_set_new(os, "recorded", json_integer((json_int_t)tot));
		json_object_set_new(os, "counts", c);
	} else {
		json_object_set_new(os, "recorded", json_null());
		json_object_set_new(os, "hidden",
				    json_string("fewer outcomes than the minimum are recorded"));
	}
	return os;
}

#define RATINGS_SHOWN 20

/* Ratings [from, from + limit) of listing r, oldest first. */
static json_t *ratings_json(struct lb_state *s, const struct store_listing *r, uint64_t from,
			    size_t limit)
{
	json_t *ra = json_array();
	for (uint64_t i = from; i < r->ratings && json_array_size(ra) < limit; i++) {
		uint8_t key[LB_HASH_LEN + 8], who[LB_ADDR_LEN], stars;
		char text[LB_STORE_TEXT_MAX + 1];
		uint64_t h;
		memcpy(key, r->id, LB_HASH_LEN);
		for (int k = 0; k < 8; k++)
			key[LB_HASH_LEN + k] = (uint8_t)(i >> (56 - 8 * k));
		struct lb_dec d;
		if (store_record(s, NS_RATING, key, sizeof key, "rating", &d) ||
		    lb_dec_fixed(&d, "a", who, LB_ADDR_LEN) || lb_dec_u8(&d, "s", &stars) ||
		    lb_dec_str(&d, "t", LB_STORE_TEXT_MAX, text, sizeof text) ||
		    lb_dec_uvar(&d, "h", UINT64_MAX, &h))
			continue;
		json_array_append_new(ra, json_pack("{s:o,s:i,s:s,s:I}", "by", addr_json(who),
						    "stars", stars, "text", text, "height",
						    (json_int_t)h));
	}
	return ra;
}

/* Every listed version of r's contract (same author and root name), with its outcome
 * statistics when it has the minimum: {"version","id","outcomes"} oldest first. */
static json_t *versions_json(struct lb_state *s, const struct store_listing *r)
{
	uint8_t key[1 + LB_ADDR_LEN + LB_STORE_NAME_MAX + 8];
	size_t kl = store_versions_key(r, key);
	uint64_t n = 0;
	json_t *arr = json_array();
	struct store_listing *v = lb_malloc(sizeof *v);
	lb_state_get_u64(s, NS_VERS, key, kl, 0, &n);
	for (uint64_t i = 0; v && i < n; i++) {
		const uint8_t *val;
		uint8_t id[LB_HASH_LEN];
		size_t vl;
		for (int k = 0; k < 8; k++)
			key[kl + k] = (uint8_t)(i >> (56 - 8 * k));
		if (lb_state_get(s, NS_VERS, key, kl + 8, &val, &vl) || vl != LB_HASH_LEN)
			continue;
		memcpy(id, val, LB_HASH_LEN); /* val is borrowed until the next read */
		if (store_listing_get(s, id, v))
			continue;
		json_array_append_new(arr, json_pack("{s:I,s:s,s:o}", "version",
						     (json_int_t)v->version, "id", HEX(v->id),
						     "outcomes", outcomes_json(v)));
	}
	lb_free(v);
	return arr;
}

static int view_listing(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct store_listing *r = lb_malloc(sizeof *r);
	if (!r)
		return lb_errf(v->em, LB_ENOMEM, "out of memory");
	int rc = need(s, v, v->id, r);
	if (rc) {
		lb_free(r);
		return rc;
	}
	json_t *o = listing_json(r);
	/* the latest ratings (all of them: GET /v1/store/listings/{id}/ratings) */
	uint64_t from = r->ratings > RATINGS_SHOWN ? r->ratings - RATINGS_SHOWN : 0;
	json_t *ra = ratings_json(s, r, from, RATINGS_SHOWN);
	json_object_set_new(o, "rating_list", ra);
	json_object_set_new(o, "outcomes", outcomes_json(r));
	/* family */
	uint8_t anc[LB_STORE_ANCESTORS_MAX][LB_ADDR_LEN], aid[LB_STORE_ANCESTORS_MAX][LB_HASH_LEN];
	size_t na = 0;
	json_t *aj = json_array();
	if (!store_ancestors(s, r, anc, aid, &na))
		for (size_t i = 0; i < na; i++)
			json_array_append_new(aj, json_pack("{s:s,s:o}", "id", HEX(aid[i]),
							    "author", addr_json(anc[i])));
	json_object_set_new(o, "ancestors", aj);
	json_object_set_new(o, "versions", versions_json(s, r));
	json_object_set_new(o, "children", children_json(s, r));
	v->out = o;
	lb_free(r);
	return LB_OK;
}

int lb_store_listing_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
			  struct lb_errmsg *em)
{
	struct view v = {.id = id, .em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_listing, &v);
	*out = v.out;
	return rc;
}

static json_t *tree_json(struct lb_state *s, const uint8_t id[LB_HASH_LEN], int depth)
{
	struct store_listing *r = lb_malloc(sizeof *r);
	if (!r || store_listing_get(s, id, r)) {
		lb_free(r);
		return NULL;
	}
	json_t *o = json_pack("{s:s,s:s,s:o,s:I}", "id", HEX(id), "title", r->title, "author",
			      addr_json(r->author), "version", (json_int_t)r->version);
	if (r->relation)
		json_object_set_new(o, "relation", json_string(lb_store_relation_name(r->relation)));
	json_t *kids = json_array();
	json_t *ids = children_json(s, r);
	size_t i;
	json_t *c;
	if (depth < 32)
		json_array_foreach(ids, i, c)
		{
			uint8_t cid[LB_HASH_LEN];
			if (lb_hex_decode(cid, LB_HASH_LEN, json_string_value(c)) == LB_OK) {
				json_t *t = tree_json(s, cid, depth + 1);
				if (t)
					json_array_append_new(kids, t);
			}
		}
	json_decref(ids);
	json_object_set_new(o, "children", kids);
	lb_free(r);
	return o;
}

static int view_family(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct store_listing *r = lb_malloc(sizeof *r);
	if (!r)
		return LB_ENOMEM;
	int rc = need(s, v, v->id, r);
	if (!rc) {
		uint8_t root[LB_HASH_LEN];
		memcpy(root, v->id, LB_HASH_LEN);
		for (int d = 0; d < 64 && !zero32(r->parent); d++) {
			memcpy(root, r->parent, LB_HASH_LEN);
			if (store_listing_get(s, root, r))
				break;
		}
		v->out = json_pack("{s:s,s:s,s:o}", "listing", HEX(v->id), "root", HEX(root),
				   "tree", tree_json(s, root, 0));
	}
	lb_free(r);
	return rc;
}

int lb_store_family_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
			 struct lb_errmsg *em)
{
	struct view v = {.id = id, .em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_family, &v);
	*out = v.out;
	return rc;
}

static int view_template(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	v->out = store_template_json(s, v->id, true);
	return v->out ? LB_OK
		      : lb_errf(v->em, LB_ENOTFOUND, "template %s is not registered", HEX(v->id));
}

int lb_store_template_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
			   struct lb_errmsg *em)
{
	struct view v = {.id = id, .em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_template, &v);
	*out = v.out;
	return rc;
}

static int view_wallet(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	uint64_t w;
	int rc = lb_store_wallet(s, v->id, &w);
	if (!rc)
		v->out = json_pack("{s:o,s:I}", "address", addr_json(v->id), "wallet",
				   (json_int_t)w);
	return rc;
}

int lb_store_wallet_json(struct lb_ledger *l, const uint8_t addr[LB_ADDR_LEN], json_t **out,
			 struct lb_errmsg *em)
{
	struct view v = {.id = addr, .em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_wallet, &v);
	*out = v.out;
	return rc;
}

static int view_docs(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	uint64_t total;
	int rc = lb_state_get_u64(s, NS_COUNT, "listings", 8, 0, &total);
	if (rc)
		return rc;
	struct store_listing *r = lb_malloc(sizeof *r);
	if (!r)
		return LB_ENOMEM;
	json_t *arr = json_array();
	for (uint64_t i = 0; i < total && !rc; i++) {
		uint8_t id[LB_HASH_LEN];
		if ((rc = id_at(s, i, id)) || (rc = store_listing_get(s, id, r)))
			break;
		json_array_append_new(arr, listing_json(r));
	}
	lb_free(r);
	if (rc) {
		json_decref(arr);
		return lb_errf(v->em, LB_ECORRUPT, "a store listing cannot be read");
	}
	v->out = arr;
	return LB_OK;
}

int lb_store_documents_json(struct lb_ledger *l, json_t **out, uint64_t *count,
			    struct lb_errmsg *em)
{
	struct view v = {.em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_docs, &v);
	*out = v.out;
	if (count)
		*count = v.out ? json_array_size(v.out) : 0;
	return rc;
}

static int view_count(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	uint64_t n;
	int rc = lb_state_get_u64(s, NS_COUNT, "listings", 8, 0, &n);
	if (!rc)
		v->out = json_integer((json_int_t)n);
	return rc;
}

int lb_store_count(struct lb_ledger *l, uint64_t *n, struct lb_errmsg *em)
{
	struct view v = {.em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_count, &v);
	*n = rc ? 0 : (uint64_t)json_integer_value(v.out);
	json_decref(v.out);
	return rc;
}

static int view_ratings(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct store_listing *r = lb_malloc(sizeof *r);
	if (!r)
		return lb_errf(v->em, LB_ENOMEM, "out of memory");
	int rc = need(s, v, v->id, r);
	if (!rc) {
		size_t lim = v->q->limit ? v->q->limit : 20;
		v->out = json_pack("{s:I,s:I,s:o}", "total", (json_int_t)r->ratings, "offset",
				   (json_int_t)v->q->offset,
				   "ratings", ratings_json(s, r, v->q->offset, lim));
	}
	lb_free(r);
	return rc;
}

int lb_store_ratings_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN],
			  const struct lb_store_query *q, json_t **out, struct lb_errmsg *em)
{
	struct view v = {.q = q, .id = id, .em = em};
	if (q->limit > 1000)
		return lb_errf(em, LB_EINVALID, "limit=%zu: at most 1000", q->limit);
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_ratings, &v);
	*out = v.out;
	return rc;
}
