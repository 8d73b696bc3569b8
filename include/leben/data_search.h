/*
 * The local data catalogue and its search: public hexahedron entries indexed in SQLite FTS5,
 * ranked by BM25 with a weight per facet (basic > semantic = codes > data), attribute filters
 * (format, level, billing, category, code, price...), typo tolerance (terms of the index within
 * one or two edits of an unknown query word) and synonyms (from SNOMED CT descriptions and
 * ICD-10 order files, or added by hand). The catalogue is a local SQLite file: either filled by
 * hand (offline) or derived from a node's directory chain by replaying its data.* txs
 * (lb_catalog_apply_tx_json), never the other way round.
 */
#ifndef LEBEN_DATA_SEARCH_H
#define LEBEN_DATA_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/data_coding.h"
#include "leben/data_hexa.h"

struct lb_catalog;

/* Open or create the catalogue database at path (":memory:" for a temporary one). */
int lb_catalog_open(const char *path, struct lb_catalog **out, struct lb_errmsg *em);
void lb_catalog_close(struct lb_catalog *c);

/* Add or replace the public entry of an asset (key: asset_id, any text). Only public fields
 * are indexed; a description that holds private fields is refused (LB_EINVALID). */
int lb_catalog_put(struct lb_catalog *c, const char *asset_id, const struct lb_hexa *pub,
		   struct lb_errmsg *em);
int lb_catalog_remove(struct lb_catalog *c, const char *asset_id, struct lb_errmsg *em);
size_t lb_catalog_count(struct lb_catalog *c);

/* Synonyms: every term in a group stands for the others in queries. */
int lb_catalog_add_synonyms(struct lb_catalog *c, const char *const *terms, size_t n,
			    struct lb_errmsg *em);
/* One group per active SNOMED concept (its active descriptions, "(semantic tag)" removed),
 * and the concept id and "snomed|id" as terms. */
int lb_catalog_import_snomed(struct lb_catalog *c, const struct lb_snomed *s,
			     struct lb_errmsg *em);
/* One group per ICD-10 table row: code, "icd10cm|code", short and long description. */
int lb_catalog_import_icd10(struct lb_catalog *c, const struct lb_icd10_table *t,
			    struct lb_errmsg *em);

/* Filter "key=value", "key<=number", "key>=number"; keys are hexahedron field names without
 * facet ("format", "level", "price", "category", "billing", ...) or "code". */
struct lb_search_hit {
	char asset_id[128];
	char name[256];
	double score;         /* higher is better (negated BM25) */
};

struct lb_search_options {
	const char *const *where; /* borrowed filters */
	size_t nwhere;
	size_t limit;             /* 0: 20 */
	bool no_typos, no_synonyms;
};

/* Search; *hits is allocated (caller frees with lb_free). An empty query lists the entries
 * that pass the filters. The expanded FTS query is written to expanded (may be NULL). */
int lb_catalog_search(struct lb_catalog *c, const char *query, const struct lb_search_options *o,
		      struct lb_search_hit **hits, size_t *n, struct lb_buf *expanded,
		      struct lb_errmsg *em);

/* The stored public JSON of an entry (new reference). LB_ENOTFOUND if absent. */
int lb_catalog_get(struct lb_catalog *c, const char *asset_id, json_t **out, struct lb_errmsg *em);
/* Small key/value notes of the catalogue (the chain height it was synced to, the network). */
/* One attribute of an entry ("sender", "op", "entry_version", "private_tx": the id of the tx
 * whose payload holds the sealed private part of the current version) into out. LB_ENOTFOUND
 * if the entry or the attribute is absent. */
int lb_catalog_attr_get(struct lb_catalog *c, const char *asset_id, const char *key, char *out,
			size_t n, struct lb_errmsg *em);
int lb_catalog_meta_get(struct lb_catalog *c, const char *key, char *out, size_t n);
int lb_catalog_meta_put(struct lb_catalog *c, const char *key, const char *value,
			struct lb_errmsg *em);
/* Forget every entry and note (synonyms stay). */
int lb_catalog_reset(struct lb_catalog *c, struct lb_errmsg *em);
/* Apply one tx of a directory block in its JSON view (GET /v1/chains/directory/blocks/N):
 * valid data.register / data.update / data.link put the public part (plus the attributes
 * sender, op, entry_version and, when the tx carries a sealed private part, private_tx = the
 * tx id), data.readers moves private_tx to itself, data.retire removes the entry; anything
 * else is ignored. The sealed private part itself is never stored in the catalogue.
 * *applied (may be NULL) says whether the catalogue changed. */
int lb_catalog_apply_tx_json(struct lb_catalog *c, const json_t *tx, bool *applied,
			     struct lb_errmsg *em);

/* Damerau-Levenshtein (optimal string alignment) distance of two words, capped at 3 (the
 * typo tolerance of the searches). */
int lb_search_edit_distance(const char *a, const char *b);

#endif
