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
	pthread_mutex_t lock;    /* guards cat, history and history_height */
	json_t *history;         /* asset id hex -> array of its data.* txs (owned; in memory) */
	uint64_t history_height; /* directory block the history has seen */
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
	d->history = json_object();
	*out = d;
	return LB_OK;
}

void api_directory_close(struct api_directory *d)
{
	if (!d)
		return;
	lb_catalog_close(d->cat);
	json_decref(d->history);
	pthread_mutex_destroy(&d->lock);
	lb_free(d);
}

/* One data.* tx of a directory block into the asset's history (versions and provenance). */
static void history_add(struct api_directory *d, const json_t *blk, const json_t *tx)
{
	const char *type = json_string_value(json_object_get(tx, "type"));
	const json_t *p = json_object_get(tx, "payload");
	const char *asset = json_string_value(json_object_get(p, "asset_id"));
	const char *st = json_string_value(json_object_get(tx, "status"));
	if (!type || strncmp(type, "data.", 5) || !asset || (st && strcmp(st, "committed")))
		return;
	json_t *e = json_pack("{s:O,s:s,s:O,s:O,s:O,s:O}", "tx", json_object_get(tx, "id"), "type",
			      type, "height", json_object_get(blk, "height"), "time_ms",
			      json_object_get(blk, "time_ms"), "by", json_object_get(tx, "sender"),
			      "version", json_object_get(p, "version"));
	if (!e)
		return;
	const json_t *pub = json_object_get(p, "public");
	const json_t *score = json_object_get(json_object_get(pub, "audit"), "score");
	static const char *const keep[] = {"op", "previous", "reason", "kind", "note", "digest"};
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
		if (json_object_get(p, keep[i]))
			json_object_set(e, keep[i], json_object_get(p, keep[i]));
	if (score)
		json_object_set(e, "audit_score", (json_t *)score);
	if (json_object_get(p, "private_envelope_bytes"))
		json_object_set(e, "private_bytes", json_object_get(p, "private_envelope_bytes"));
	json_t *arr = json_object_get(d->history, asset);
	if (!arr) {
		arr = json_array();
		json_object_set_new(d->history, asset, arr);
	}
	json_array_append_new(arr, e);
}

/* Replay the directory blocks after the last one seen into the catalogue, and into the
 * in-memory history (rebuilt from block 1 after each start). Called with the lock held. */
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
	if (d->history_height > top) {
		json_object_clear(d->history);
		d->history_height = 0;
	}
	uint64_t start = from < d->history_height ? from : d->history_height;
	for (uint64_t b = start + 1; !rc && b <= top; b++) {
		json_t *blk = NULL, *tx;
		size_t i;
		if ((rc = lb_ledger_block_json(l, LB_CHAIN_DIRECTORY, b, &blk, em)))
			break;
		json_array_foreach(json_object_get(blk, "txs"), i, tx) {
			if (b > d->history_height)
				history_add(d, blk, tx);
			if (b <= from)
				continue;
			if ((rc = lb_catalog_apply_tx_json(d->cat, tx, NULL, em))) {
				lb_errwrap(em, "directory block %llu: ", (unsigned long long)b);
				break;
			}
		}
		json_decref(blk);
		if (!rc && b > d->history_height)
			d->history_height = b;
		snprintf(num, sizeof num, "%llu", (unsigned long long)b);
		if (!rc && b > from)
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

int api_directory_asset(struct api_directory *d, struct lb_ledger *l, const char *asset_hex,
			json_t **out, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	json_t *entry = NULL;
	if (strlen(asset_hex) != 2 * LB_HASH_LEN || lb_hex_decode(id, LB_HASH_LEN, asset_hex))
		return lb_errf(em, LB_EMALFORMED,
			       "'%.80s' is not an asset id: expected 64 hex digits (as 'leben data "
			       "search' shows)",
			       asset_hex);
	pthread_mutex_lock(&d->lock);
	int rc = directory_catch_up(d, l, em);
	json_t *hist = json_object_get(d->history, asset_hex);
	hist = hist ? json_deep_copy(hist) : json_array();
	if (!rc && (rc = lb_catalog_get(d->cat, asset_hex, &entry, em)) == LB_ENOTFOUND)
		rc = lb_errf(em, LB_ENOTFOUND,
			     json_array_size(hist)
				     ? "asset %s is retired: the directory no longer lists it (its "
				       "history says when and why)"
				     : "no asset %s in the directory",
			     asset_hex);
	json_t *attrs = json_object();
	static const char *const keys[] = {"sender", "entry_version", "private_tx"};
	for (size_t i = 0; !rc && i < sizeof keys / sizeof keys[0]; i++) {
		char v[160];
		struct lb_errmsg ign = {0};
		if (lb_catalog_attr_get(d->cat, asset_hex, keys[i], v, sizeof v, &ign) == LB_OK)
			json_object_set_new(attrs, keys[i], json_string(v));
		else
			json_object_set_new(attrs, keys[i], json_null());
	}
	pthread_mutex_unlock(&d->lock);
	if (rc) {
		json_decref(hist);
		json_decref(attrs);
		return rc;
	}
	*out = json_pack("{s:s,s:o,s:o,s:o,s:o}", "asset_id", asset_hex, "entry", entry,
			 "audit", audit_of(l, asset_hex), "history", hist, "attributes", attrs);
	return *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}
