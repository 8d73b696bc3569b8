/*
 * FHIR R4 resources kept by a node for its institution (docs/fhir.md): validation of one
 * resource (structure, element types, dates against the calendar, references, required
 * codes), and the store the FHIR endpoint serves from — one SQLite file in the node's home
 * with the search parameters (_id, patient/subject, code, date) indexed as resources are
 * written, so that a search is one indexed query and an import is linear in its size.
 * No ledger dependency: src/api/routes_fhir.c joins it to the chains.
 */
#ifndef LEBEN_FHIR_H
#define LEBEN_FHIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/error.h"

/* The resource types served, in the order the CapabilityStatement lists them. */
extern const char *const lb_fhir_types[];
extern const size_t lb_fhir_ntypes;
bool lb_fhir_type_known(const char *type);
/* A logical id: [A-Za-z0-9-.]{1,64}. */
bool lb_fhir_id_ok(const char *id);

/* Check one resource (borrowed). LB_OK, or LB_EINVALID / LB_EMALFORMED with em's text naming
 * the element and its FHIRPath in expr (cap bytes; "Observation.effectiveDateTime"):
 * resourceType known, id syntax, every date/dateTime/instant element by the grammar and the
 * calendar (2023-02-30 is refused), every reference "Type/id" to a served type (or a
 * urn:uuid: inside a transaction), the required codes (Observation.status, Patient.gender,
 * ...) in their value sets, and SNOMED CT / ICD-10 / LOINC codes by their check digits and
 * structure. Nesting deeper than 32 levels is refused. */
int lb_fhir_validate(const json_t *res, char *expr, size_t cap, struct lb_errmsg *em);

/* The patient a resource belongs to (its Patient compartment): the id of a Patient, else the
 * id in subject/patient/beneficiary/individual/for ("Patient/<id>"). Borrowed from res, or
 * NULL when the resource is about no patient. */
const char *lb_fhir_patient_of(const json_t *res, size_t *len);

struct lb_fhir_store;

/* Open (creating) the store file at path. */
int lb_fhir_store_open(struct lb_fhir_store **out, const char *path, struct lb_errmsg *em);
void lb_fhir_store_close(struct lb_fhir_store *s);
/* Write every resource from now on sealed with key (XChaCha20-Poly1305, a random nonce per
 * write; key copied, wiped at close) and open sealed rows with it; a sealed row that does not
 * open is LB_ETAMPERED. The search columns (type, id, patient, date, key, codes) stay clear. */
void lb_fhir_store_seal(struct lb_fhir_store *s, const uint8_t key[32]);

/* Group writes: one SQL transaction (a FHIR transaction Bundle is all or nothing; an import
 * commits every few thousand resources). */
int lb_fhir_begin(struct lb_fhir_store *s, struct lb_errmsg *em);
int lb_fhir_commit(struct lb_fhir_store *s, struct lb_errmsg *em);
void lb_fhir_rollback(struct lb_fhir_store *s);

/* Create or replace res (a validated resource with its id; borrowed, and its meta.versionId
 * and meta.lastUpdated are set on it). *created tells which. LB_EDENIED when the id, or the
 * resource's patient, was purged (lb_fhir_purge). */
int lb_fhir_put(struct lb_fhir_store *s, json_t *res, bool *created, struct lb_errmsg *em);
/* The stored resource (new reference), LB_ENOTFOUND when absent. */
int lb_fhir_get(struct lb_fhir_store *s, const char *type, const char *id, json_t **out,
		struct lb_errmsg *em);
bool lb_fhir_exists(struct lb_fhir_store *s, const char *type, const char *id);

/* A search. Dates compare as FHIR dates: prefix eq/ne? no: eq, ge, gt, le, lt (eq matches
 * the value as a prefix of the stored date, so date=2023 finds 2023-05-01). */
struct lb_fhir_date_cond {
	char prefix[3];   /* "eq", "ge", "gt", "le", "lt" */
	char value[40];
};
#define LB_FHIR_MAX_DATES 4
#define LB_FHIR_MAX_COUNT 1000
struct lb_fhir_query {
	const char *type;          /* required */
	const char *id;            /* _id or NULL */
	const char *patient;       /* patient id (without "Patient/") or NULL */
	const char *code;          /* "code" or "system|code" or NULL */
	struct lb_fhir_date_cond dates[LB_FHIR_MAX_DATES];
	size_t ndates;
	size_t count;              /* page size, 1..LB_FHIR_MAX_COUNT */
	int64_t after;             /* cursor: only matches stored after this one (0: from the
				    * start); a page's *next gives the following page's */
};
/* Parse a date search value ("ge2023-01-01"): prefix (eq by default) and a valid FHIR date.
 * LB_EINVALID with the reason otherwise. */
int lb_fhir_date_cond_parse(const char *s, struct lb_fhir_date_cond *c, struct lb_errmsg *em);
/* One page of the matches of q in the order they were stored (*page: new JSON array of
 * resources); *next is the cursor of the following page (q->after for it), 0 when this is the
 * last. With total not NULL, how many match in all. A page costs its own rows (the cursor is
 * an index position, not an offset), so walking all pages is linear; the count costs the
 * matches, so ask it once. */
int lb_fhir_search(struct lb_fhir_store *s, const struct lb_fhir_query *q, json_t **page,
		   int64_t *next, size_t *total, struct lb_errmsg *em);
/* Call fn with the stored JSON text (NUL-terminated, borrowed) of every resource of type
 * (every type when NULL), of one patient when patient is not NULL, in a stable order; fn's
 * non-zero return stops the walk and is returned. Memory stays flat whatever the count. */
int lb_fhir_each(struct lb_fhir_store *s, const char *type, const char *patient,
		 int (*fn)(void *ctx, const char *json, size_t len), void *ctx,
		 struct lb_errmsg *em);
/* The same walk pulled one row at a time (for a reply streamed as the client reads it): open,
 * then next gives each row's JSON text (*text malloc'd, free it) until LB_ENOTFOUND; close
 * before the store. */
struct lb_fhir_cursor;
int lb_fhir_cursor_open(struct lb_fhir_store *s, const char *type, const char *patient,
			struct lb_fhir_cursor **out, struct lb_errmsg *em);
int lb_fhir_cursor_next(struct lb_fhir_cursor *c, char **text, size_t *len,
			struct lb_errmsg *em);
void lb_fhir_cursor_close(struct lb_fhir_cursor *c);
/* The id of the Patient whose identifier {system "urn:leben:key", value: the key in hex} is
 * pk_hex, into id (65 bytes). LB_ENOTFOUND when no patient has that key. */
int lb_fhir_patient_of_key(struct lb_fhir_store *s, const char *pk_hex, char id[65],
			   struct lb_errmsg *em);
/* A number kept with the store (how far a chain was read into it): 0 when never put. */
int64_t lb_fhir_meta_get(struct lb_fhir_store *s, const char *key);
int lb_fhir_meta_put(struct lb_fhir_store *s, const char *key, int64_t value,
		     struct lb_errmsg *em);
/* What the directory entry says of the store (new reference): {"volume": resources,
 * "patients": Patient resources, "types": {type: count}, "codes": ["system|code", ... at most
 * 200, by type then code], "date_min", "date_max" (the clinical dates, Provenance and
 * AuditEvent left out; absent when none)}.
 * Read from counters the writes keep (a coding counts from the resource's first version;
 * a purge counts everything again from the index): it costs the number of types and codes,
 * never the store's size, and opens no record. */
json_t *lb_fhir_store_facets(struct lb_fhir_store *s);
/* Resources stored, by type (new JSON object). */
json_t *lb_fhir_store_counts(struct lb_fhir_store *s);

/* ---- purge (docs/fhir.md, "Purge") ------------------------------------------------------
 * Each resource of a sealed store is a vault object of its own (its JSON under a fresh
 * object key wrapped under the store key; named by the BLAKE2b-256 of the JSON). */

/* Destroy every resource of patient (its Patient and its compartment), or of the whole
 * store when patient is NULL: each object key overwritten in place (random bytes, then
 * zeros), the row and its codes deleted (SQLite's secure_delete zeroes the freed space) and
 * the write-ahead log checkpointed; a tombstone is kept per (type, id) so that a read answers
 * 410 Gone and a later write of that id (or of a resource of the purged patient) is refused.
 * fn (may be NULL) is called with each destroyed resource's type, id and object name. *n
 * counts them. All or nothing. */
int lb_fhir_purge(struct lb_fhir_store *s, const char *patient,
		  void (*fn)(void *ctx, const char *type, const char *id, const uint8_t obj[32]),
		  void *ctx, size_t *n, struct lb_errmsg *em);
/* Whether type/id was purged here (*at_ms, may be NULL: when). */
bool lb_fhir_purged(struct lb_fhir_store *s, const char *type, const char *id, int64_t *at_ms);
/* Call fn with the id of every Patient stored, in the order stored; non-zero stops. */
int lb_fhir_patients(struct lb_fhir_store *s, int (*fn)(void *ctx, const char *patient),
		     void *ctx, struct lb_errmsg *em);

/* An OperationOutcome with one issue (new reference): severity "error", code (FHIR
 * issue-type: "invalid", "not-found", "forbidden", "security", "conflict", "too-costly",
 * "processing", "not-supported", "exception"), the text, and the element's FHIRPath when
 * expr is not empty. */
json_t *lb_fhir_outcome(const char *code, const char *text, const char *expr);

#endif
