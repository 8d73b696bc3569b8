/*
 * Medical coding systems LEBEN recognises in data assets:
 *   - ICD-10 (WHO) and ICD-10-CM code syntax, the chapter a code falls in, and a loader for a
 *     code table in the CMS/NCHS "order file" layout to check that codes exist, tell headers
 *     from billable codes and walk up to parent categories;
 *   - SNOMED CT identifiers (partition identifier, Verhoeff check digit) and a loader for RF2
 *     snapshot files (concepts, descriptions, relationships) to validate concepts, find terms
 *     and walk is-a hierarchies.
 * No code table ships with LEBEN: users load the files they are licensed to use.
 * (The DICOM data dictionary is in data_dicom.h.)
 */
#ifndef LEBEN_DATA_CODING_H
#define LEBEN_DATA_CODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leben/base.h"

/* ---- ICD-10 -------------------------------------------------------------------------------- */

/* Check code syntax, with or without the dot: WHO ICD-10 (cm = false: letter, two digits,
 * optional fourth digit, e.g. "I10", "E11.9") or ICD-10-CM (cm = true: letter, digit,
 * alphanumeric, then up to four alphanumerics, e.g. "S03.4XXA", "U07.1"). LB_ESYNTAX naming
 * the position otherwise. */
int lb_icd10_check(const char *code, bool cm, struct lb_errmsg *em);
/* Canonical form: upper case, dot after the third character when longer ("e119" -> "E11.9").
 * out must hold 10 bytes. LB_ESYNTAX if the syntax check fails. */
int lb_icd10_normalise(const char *code, bool cm, char out[10]);
/* Chapter of a code (roman numeral, e.g. "IX") and its range ("I00-I99"); NULL if none. The
 * chapter tables of WHO ICD-10 (2019) and ICD-10-CM differ slightly. */
const char *lb_icd10_chapter(const char *code, bool cm, const char **range, const char **title);

struct lb_icd10_entry {
	const char *code;      /* canonical, with dot; borrowed from the table */
	bool billable;         /* order file flag 1 (valid for claims); false for headers */
	const char *short_desc;
	const char *long_desc;
};

struct lb_icd10_table;
/* Load an order file (fixed columns: order number 1-5, code 7-13, flag 15, short description
 * 17-76, long description from 78). LB_ESYNTAX naming the line for a row out of layout. */
int lb_icd10_table_load(const char *path, struct lb_icd10_table **out, struct lb_errmsg *em);
void lb_icd10_table_free(struct lb_icd10_table *t);
size_t lb_icd10_table_size(const struct lb_icd10_table *t);
/* Find a code (any case, dot optional). */
bool lb_icd10_table_find(const struct lb_icd10_table *t, const char *code,
			 struct lb_icd10_entry *out);
/* Parent in the table: the longest shorter code that is a prefix ("E11.65" -> "E11.6" ->
 * "E11"); false at a category (3 characters) or if the code is unknown. */
bool lb_icd10_table_parent(const struct lb_icd10_table *t, const char *code,
			   struct lb_icd10_entry *out);
/* Entry i in code order (0 <= i < size), for search indexes. */
void lb_icd10_table_entry(const struct lb_icd10_table *t, size_t i, struct lb_icd10_entry *out);

/* ---- SNOMED CT ------------------------------------------------------------------------------ */

enum lb_sctid_kind { LB_SCTID_CONCEPT = 0, LB_SCTID_DESCRIPTION = 1, LB_SCTID_RELATIONSHIP = 2 };

/* Check an SCTID: 6-18 digits, no leading zero, partition identifier 00/01/02 (short format)
 * or 10/11/12 (with a namespace), Verhoeff check digit. kind may be NULL. */
int lb_sctid_check(const char *s, enum lb_sctid_kind *kind);
/* Verhoeff check digit for a string of digits. */
int lb_verhoeff_digit(const char *digits);

#define LB_SNOMED_ISA 116680003ull
#define LB_SNOMED_FSN 900000000000003001ull
#define LB_SNOMED_SYNONYM 900000000000013009ull

struct lb_snomed;
/* Load RF2 snapshot files (tab-separated, header line). For each id the row with the latest
 * effectiveTime is current. desc_path and rel_path may be NULL. */
int lb_snomed_load(const char *concept_path, const char *desc_path, const char *rel_path,
		   struct lb_snomed **out, struct lb_errmsg *em);
void lb_snomed_free(struct lb_snomed *s);
size_t lb_snomed_concepts(const struct lb_snomed *s);
/* Concept exists (true) and whether it is active. */
bool lb_snomed_concept(const struct lb_snomed *s, uint64_t id, bool *active);
/* Fully specified name if present, else the first active synonym; NULL if none. Borrowed. */
const char *lb_snomed_term(const struct lb_snomed *s, uint64_t id);
/* Active is-a parents of id into out (at most max); returns the number found. */
size_t lb_snomed_parents(const struct lb_snomed *s, uint64_t id, uint64_t *out, size_t max);
/* True if ancestor is reachable from id by active is-a relationships (or equal). */
bool lb_snomed_is_a(const struct lb_snomed *s, uint64_t id, uint64_t ancestor);
/* Active descriptions of a concept, i-th one (term borrowed); false past the end. */
bool lb_snomed_description(const struct lb_snomed *s, uint64_t id, size_t i, const char **term,
			   uint64_t *type);

/* ---- checking a code wherever it was found (coding.c) -------------------------------------- */

enum lb_code_system {
	LB_CODE_OTHER = 0, /* a system LEBEN does not check */
	LB_CODE_ICD10,     /* WHO ICD-10: http://hl7.org/fhir/sid/icd-10, "icd10" */
	LB_CODE_ICD10CM,   /* ICD-10-CM: http://hl7.org/fhir/sid/icd-10-cm, "icd10cm" */
	LB_CODE_SNOMED,    /* SNOMED CT: http://snomed.info/sct, "snomed" */
};

/* Code tables to check existence against; either may be NULL (structure only). Borrowed. */
struct lb_code_tables {
	const struct lb_icd10_table *icd10cm;
	const struct lb_snomed *snomed;
};

/* System of a FHIR system URI or a hexahedron prefix ("snomed", "icd10", "icd10cm"). */
enum lb_code_system lb_code_system_of(const char *system);
/* Short name used in semantic.codes: "icd10", "icd10cm", "snomed"; NULL for LB_CODE_OTHER. */
const char *lb_code_system_name(enum lb_code_system sys);
/* Check one code: SNOMED CT concept id (digits, partition 00/10 = concept, Verhoeff check
 * digit; and present in t->snomed if loaded), ICD-10 / ICD-10-CM structure (and present in
 * t->icd10cm if loaded). LB_OK, or LB_ESYNTAX / LB_ECHECKSUM / LB_EINVALID / LB_ENOTFOUND
 * with the reason in em ("SNOMED CT 38341004: check digit 4 is wrong, the Verhoeff digit of
 * 3834100 is 3"). Codes of other systems are LB_OK. t may be NULL. */
int lb_code_check(enum lb_code_system sys, const char *code, const struct lb_code_tables *t,
		  struct lb_errmsg *em);
/* The semantic.codes entry of a code: "snomed|38341003", or for a code that fails
 * lb_code_check "invalid|snomed|38341004" (kept visible, never a search match for the valid
 * system). LB_ENOTFOUND for LB_CODE_OTHER (nothing written). */
int lb_code_facet_entry(enum lb_code_system sys, const char *code, const struct lb_code_tables *t,
			char *out, size_t cap);

#endif
