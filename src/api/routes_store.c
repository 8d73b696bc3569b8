/*
 * The knowledge store's API routes (docs/api.md, "Knowledge store"): listing pages sorted by
 * rating, price or calls, one listing, its family tree, a template, a store wallet, and the
 * natural-language search (an FTS5 index built from the chain's listings, rebuilt when their
 * number changes).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "leben/market_store.h"

int api_arg_size(const struct api_call *c, const char *name, size_t max, size_t *out,
		 struct lb_errmsg *em)
{
	const char *v = c->arg(c->conn, name);
	if (!v)
		return LB_OK;
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	if (!*v || *end || *v == '-' || n > max)
		return lb_errf(em, LB_EMALFORMED, "%s=%.20s: use a whole number from 0 to %zu", name,
			       v, max);
	*out = (size_t)n;
	return LB_OK;
}

/* GET /v1/store/listings?offset=&limit=&sort=rating|price|calls|new&specialty=&kind=&author= */
int api_store_listings(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em)
{
	struct lb_store_query q = {.sort = c->arg(c->conn, "sort"),
				   .specialty = c->arg(c->conn, "specialty")};
	const char *kind = c->arg(c->conn, "kind"), *author = c->arg(c->conn, "author");
	uint8_t who[LB_ADDR_LEN];
	int rc;
	if (author) {
		if (lb_addr_decode(who, author, em))
			return lb_errf(em, LB_EMALFORMED, "author=%.60s is not an address (lb1...)",
				       author);
		q.author = who;
	}
	if ((rc = api_arg_size(c, "offset", (size_t)1 << 40, &q.offset, em)) ||
	    (rc = api_arg_size(c, "limit", 1000, &q.limit, em)))
		return rc;
	if (kind) {
		if (!strcmp(kind, "contract"))
			q.kind = LB_STORE_CONTRACT;
		else if (!strcmp(kind, "algorithm"))
			q.kind = LB_STORE_ALGORITHM;
		else
			return lb_errf(em, LB_EINVALID, "kind=%.20s: use contract or algorithm", kind);
	}
	return lb_store_listings_json(c->ledger, &q, out, em);
}

/* GET of one store object by the 32-byte id in the path. */
static int by_id(const struct api_call *c, json_t **out, struct lb_errmsg *em, const char *what,
		 int (*view)(struct lb_ledger *, const uint8_t *, json_t **, struct lb_errmsg *))
{
	uint8_t id[LB_HASH_LEN];
	int rc = api_param_hash(c->params, 0, what, id, em);
	return rc ? rc : view(c->ledger, id, out, em);
}

int api_store_listing(const struct api_call *c, json_t **out, unsigned *status,
		      struct lb_errmsg *em)
{
	return by_id(c, out, em, "a listing id", lb_store_listing_json);
}

/* GET /v1/store/listings/{id}/ratings?offset=&limit= */
int api_store_ratings(const struct api_call *c, json_t **out, unsigned *status,
		      struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	struct lb_store_query q = {0};
	int rc;
	if ((rc = api_param_hash(c->params, 0, "a listing id", id, em)) ||
	    (rc = api_arg_size(c, "offset", (size_t)1 << 40, &q.offset, em)) ||
	    (rc = api_arg_size(c, "limit", 1000, &q.limit, em)))
		return rc;
	return lb_store_ratings_json(c->ledger, id, &q, out, em);
}

int api_store_family(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em)
{
	return by_id(c, out, em, "a listing id", lb_store_family_json);
}

int api_store_template(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em)
{
	return by_id(c, out, em, "a template id", lb_store_template_json);
}

int api_store_wallet(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em)
{
	char text[LB_ADDR_TEXT_LEN + 8];
	uint8_t a[LB_ADDR_LEN];
	if (api_param_copy(c->params, 0, text, sizeof text) || lb_addr_decode(a, text, em))
		return lb_errf(em, LB_EMALFORMED, "not an account address (lb1...)");
	return lb_store_wallet_json(c->ledger, a, out, em);
}

/* The node's search index, rebuilt when the number of listings changes (their searchable
 * text never changes); the hits are answered with the listings as they are now. */
static pthread_mutex_t idx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lb_store_index *idx;
static const struct lb_ledger *idx_ledger;
static uint64_t idx_count;

static int idx_refresh(struct lb_ledger *l, struct lb_errmsg *em)
{
	uint64_t n;
	int rc = lb_store_count(l, &n, em);
	if (rc || (idx && idx_ledger == l && idx_count == n))
		return rc;
	json_t *docs = NULL;
	lb_store_index_close(idx);
	idx = NULL;
	if ((rc = lb_store_documents_json(l, &docs, &n, em)) ||
	    (rc = lb_store_index_open(&idx, em))) {
		json_decref(docs);
		return rc;
	}
	size_t i;
	json_t *d;
	json_array_foreach(docs, i, d) if ((rc = lb_store_index_put(idx, d, em))) break;
	json_decref(docs);
	if (rc) {
		lb_store_index_close(idx);
		idx = NULL;
		return rc;
	}
	idx_ledger = l;
	idx_count = n;
	return LB_OK;
}

/* GET /v1/store/search?q=TEXT&limit=N */
int api_store_search(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em)
{
	const char *q = c->arg(c->conn, "q");
	size_t limit = 20, nh = 0;
	struct lb_store_hit *hits = NULL;
	struct lb_buf exp;
	int rc;
	if (!q)
		return lb_errf(em, LB_EINVALID, "search needs q=TEXT");
	if ((rc = api_arg_size(c, "limit", 1000, &limit, em)))
		return rc;
	lb_buf_init(&exp, 1u << 20);
	pthread_mutex_lock(&idx_lock);
	if (!(rc = idx_refresh(c->ledger, em)))
		rc = lb_store_index_search(idx, q, limit, &hits, &nh, &exp, em);
	pthread_mutex_unlock(&idx_lock);
	json_t *arr = json_array();
	for (size_t i = 0; !rc && i < nh; i++) {
		uint8_t id[LB_HASH_LEN];
		json_t *d;
		if (lb_hex_decode(id, LB_HASH_LEN, hits[i].id) ||
		    lb_store_listing_json(c->ledger, id, &d, em))
			continue;
		json_object_del(d, "rating_list");
		json_object_set_new(d, "score", json_real(hits[i].score));
		json_array_append_new(arr, d);
	}
	if (!rc)
		*out = json_pack("{s:s,s:s,s:O}", "query", q, "expanded",
				 exp.data ? (const char *)exp.data : "", "results", arr);
	json_decref(arr);
	lb_buf_release(&exp);
	lb_free(hits);
	return rc;
}
