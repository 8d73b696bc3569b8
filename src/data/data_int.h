/*
 * Internals shared by the files of src/data/ (not API): DICOM tree release, raw DEFLATE
 * decoding, small string and statistics helpers.
 */
#ifndef LEBEN_DATA_INT_H
#define LEBEN_DATA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leben/data_dicom.h"

struct lb_state;
/* The directory record of asset id (data_tx.c, for purge_tx.c): its registrant into owner,
 * whether who is the owner or a co-owner, status 0 live, 1 retired, 2 purged. */
int data_asset_holder(struct lb_state *s, const uint8_t id[32], uint8_t owner[20],
		      const uint8_t who[20], bool *may, int *status);
/* Mark asset id purged (its raw digest is forgotten as for a retirement). */
int data_asset_mark_purged(struct lb_state *s, const uint8_t id[32]);

void data_dicom_elem_release(struct lb_dicom_elem *el);
void data_dicom_item_release(struct lb_dicom_item *it);

/* Decode a raw DEFLATE stream (RFC 1951, no zlib/gzip header) with zlib into a new buffer of at
 * most max bytes (caller frees with lb_free; src/data/zstream.c). LB_EMALFORMED for invalid streams, LB_ETRUNCATED if the
 * input ends before the final block, LB_ETOOBIG past max. Bytes after the final block are
 * ignored. */
int data_inflate_raw(const uint8_t *in, size_t inlen, size_t max, uint8_t **out,
		     size_t *outlen);

/* Table helpers shared by csv.c and audit.c. */
bool data_is_missing_marker(const char *p, size_t n);
/* Whole string is a finite decimal number; is_int (may be NULL) says it has no '.'/exponent. */
bool data_parse_number(const char *p, size_t n, double *out, bool *is_int);
/* ISO 8601 date (YYYY-MM-DD) or date-time. */
bool data_is_date(const char *p, size_t n);
/* FNV-1a 64-bit hash (distinct counting, not security). */
uint64_t data_hash64(const void *p, size_t n);
/* numpy.percentile (linear) over sorted values. */
double data_quantile_sorted(const double *v, size_t n, double q);
/* numpy.histogram over [mn,mx] with `bins` (<= 64) equal-width bins. */
void data_histogram(const double *v, size_t n, double mn, double mx, size_t *hist, int bins);
/* FHIR date / dateTime / instant syntax. */
bool data_is_fhir_date(const char *s);
enum data_fhir_time { DATA_FHIR_DATE, DATA_FHIR_DATETIME, DATA_FHIR_INSTANT };
/* Grammar and calendar of one FHIR date type; the reason into why when false (fhir.c). */
bool data_fhir_date_check(const char *s, enum data_fhir_time kind, char *why, size_t cap);
enum data_fhir_time data_fhir_time_of(const char *key);
/* NDJSON (one FHIR resource a line): true when text holds more than one JSON value. */
bool data_is_ndjson(const char *text, size_t len);
/* The next non-blank line of text from *pos (*start, *n bytes, without its newline); *line
 * counts lines from 1. False at the end. */
bool data_ndjson_next(const char *text, size_t len, size_t *pos, size_t *line,
		      const char **start, size_t *n);
/* Next word of s from *pos (letters and digits; UTF-8 bytes count as letters), lowercased into
 * out (truncated to cap-1). Returns its length, 0 at the end. */
size_t data_next_word(const char *s, size_t len, size_t *pos, char *out, size_t cap);
/* i-th concept id of a loaded SNOMED release, in id order (i < lb_snomed_concepts). */
struct lb_snomed;
uint64_t data_snomed_concept_at(const struct lb_snomed *s, size_t i);

#endif
