/*
 * The node's catalogue of its directory chain, behind GET /v1/directory/search. It is derived
 * from applied blocks only: before each search, the data.* txs of the directory blocks the
 * catalogue has not seen yet are replayed into it (lb_catalog_apply_tx_json, the same replay
 * the CLI does from the block API), and the height reached is noted in the catalogue. Nothing
 * else writes it, so deleting the file only costs a replay. One mutex serialises the replay
 * and the search (one SQLite handle). Each hit carries the audit that counts for the asset:
 * the score an audit node signed on the business chain (lb_xchg_audit_json), not the owner's
 * own audit.score.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "leben/data_search.h"
#include "leben/exchange.h"
#include "leben/ledger.h"

struct api_directory {
	struct lb_catalog *cat;  /* the derived catalogue (owned) */
	pthread_mutex_t lock;    /* guards cat */
};

int api_directory_open(struct api_directory **out, const char *path, struct lb_errmsg *em)
{
	struct api_directory *d = lb_calloc(1, sizeof *d);
	if (!d)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	int rc = lb_catalog_open(path, &d->cat, em);
	if (rc) {
		lb_free(d);
		return lb_errwrap(em, "directory catalogue %s: ", path);
	}
	pthread_mutex_init(&d->lock, NULL);
	*out = d;
	return LB_OK;
}

void api_directory_close(struct api_directory *d)
{
	if (!d)
		return;
	lb_catalog_close(d->cat);
	pthread_mutex_destroy(&d->lock);
	lb_free(d);
}

/* Replay the directory blocks after the last one seen. Called with the lock held. */
static int directory_catch_up(struct api_directory *d, struct lb_ledger *l, struct lb_errmsg *em)
{
	char num[32];
	uint64_t from = 0, top = lb_ledger_height(l, LB_CHAIN_DIRECTORY);
	int rc = LB_OK;
	if (lb_catalog_meta_get(d->cat, "directory_height", num, sizeof num) == LB_OK)
		from = strtoull(num, NULL, 10);
	if (from > top) /* a catalogue of another chain: start again */
		if ((rc = lb_catalog_reset(d->cat, em)) == LB_OK)
			from = 0;
	for (uint64_t b = from + 1; !rc && b <= top; b++) {
		json_t *blk = NULL, *tx;
		size_t i;
		if ((rc = lb_ledger_block_json(l, LB_CHAIN_DIRECTORY, b, &blk, em)))
			break;
		json_array_foreach(json_object_get(blk, "txs"), i, tx) {
			if ((rc = lb_catalog_apply_tx_json(d->cat, tx, NULL, em))) {
				lb_errwrap(em, "directory block %llu: ", (unsigned long long)b);
				break;
			}
		}
		json_decref(blk);
		snprintf(num, sizeof num, "%llu", (unsigned long long)b);
		if (!rc)
			rc = lb_catalog_meta_put(d->cat, "directory_height", num, em);
	}
	return rc;
}

/* The audit that counts for an asset: the one an audit node signed (business chain), for an
 * offered asset; the owner's own audit.score in the entry is not it. */
static json_t *audit_of(struct lb_ledger *l, const char *asset_hex)
{
	uint8_t id[LB_HASH_LEN];
	json_t *a = NULL;
	struct lb_errmsg em = {0};
	if (lb_hex_decode(id, LB_HASH_LEN, asset_hex) || lb_xchg_audit_json(l, id, &a, &em))
		return json_pack("{s:s}", "status", "none");
	return a;
}

int api_directory_search(struct api_directory *d, struct lb_ledger *l, const char *query,
			 const struct lb_search_options *o, json_t **out, struct lb_errmsg *em)
{
	struct lb_search_hit *hits = NULL;
	size_t n = 0;
	struct lb_buf exp;
	char num[32] = "0";
	lb_buf_init(&exp, 1 << 20);
	pthread_mutex_lock(&d->lock);
	int rc = directory_catch_up(d, l, em);
	if (!rc)
		rc = lb_catalog_search(d->cat, query, o, &hits, &n, &exp, em);
	lb_catalog_meta_get(d->cat, "directory_height", num, sizeof num);
	pthread_mutex_unlock(&d->lock);
	if (!rc) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *h = json_pack("{s:s,s:s,s:f}", "id", hits[i].asset_id, "name",
					      hits[i].name, "score", hits[i].score);
			json_object_set_new(h, "audit", audit_of(l, hits[i].asset_id));
			json_array_append_new(arr, h);
		}
		*out = json_pack("{s:s,s:s,s:I,s:o}", "query", query,
				 "expanded", exp.data ? (char *)exp.data : "", "directory_height",
				 (json_int_t)strtoull(num, NULL, 10), "results", arr);
		if (!*out)
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
	}
	lb_free(hits);
	lb_buf_release(&exp);
	return rc;
}
