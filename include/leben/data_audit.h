/*
 * Data audit (white paper, "Data Audit"): quality checks over a table profile with a score per
 * asset, and a self-contained HTML report with SVG charts. Checks: completeness, uniqueness
 * (duplicate rows, key-like columns), ranges and allowed values (from rules), distribution
 * (histogram, skewness) and drift against a previous version (two-sample Kolmogorov-Smirnov
 * statistic), correlation between numeric columns (Pearson), outliers by robust z-score
 * (median and MAD), and k-means clustering of the rows to point the auditor at groups.
 * The score is an integer in basis points (0..10000) so it can be recorded on the chain.
 */
#ifndef LEBEN_DATA_AUDIT_H
#define LEBEN_DATA_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/data_dicom.h"
#include "leben/data_extract.h"

struct lb_code_tables; /* data_coding.h */

#define LB_AUDIT_ROBUST_Z 3.5  /* |0.6745 (x - median) / MAD| above this is an outlier */
#define LB_AUDIT_MAX_K 8

/* A rule from the owner: a numeric range and/or a set of allowed values for one column. */
struct lb_audit_rule {
	char column[128];
	bool has_min, has_max;
	double min, max;
	const char **allowed;  /* borrowed; NULL if no set */
	size_t nallowed;
};

struct lb_audit_options {
	const struct lb_csv_profile *previous; /* earlier version for drift, or NULL */
	const struct lb_audit_rule *rules;     /* borrowed */
	size_t nrules;
	int k;                                 /* clusters, 0 = 3 */
	const struct lb_code_tables *codes;    /* code tables for code columns, or NULL */
};

struct lb_audit_column {
	double completeness;    /* present / rows */
	double validity;        /* values inside the rules (1 if no rule) */
	size_t violations;
	size_t outliers;        /* robust z above LB_AUDIT_ROBUST_Z */
	double mad;             /* median absolute deviation (unscaled) */
	double drift_ks;        /* KS statistic against the previous version, -1 if none */
	bool key_like;          /* every value present and distinct */
	const char *code_system; /* "icd10cm" or "snomed" when the column holds codes (its name
				    says so); then validity is the share of valid codes */
};

struct lb_audit {
	size_t rows, cols;
	size_t duplicate_rows;  /* rows equal to an earlier row */
	struct lb_audit_column *col; /* owned, one per column */
	size_t *num_cols;       /* owned: indexes of numeric columns (correlation order) */
	size_t nnum;
	double *corr;           /* owned: nnum x nnum Pearson (pairwise complete), NAN if undefined */
	int k;                  /* clusters found (0 if too few complete rows) */
	size_t cluster_size[LB_AUDIT_MAX_K];
	double *centroids;      /* owned: k x nnum, in column units */
	double inertia;         /* sum of squared distances in standardised units */
	int *cluster_of;        /* owned: per row, -1 if the row had missing numbers */
	/* sub-scores 0..1 and the final score */
	double s_completeness, s_uniqueness, s_validity, s_outliers, s_drift;
	uint32_t score;         /* basis points */
	const char *note;       /* static: why the score is 0 for a table without data rows
				   (header only), NULL otherwise */
};

/* Run every check. A table without data rows scores 0 (every sub-score 0) with a note.
 * The profile must stay alive while the audit is used (it borrows names). */
int lb_audit_table(const struct lb_csv_profile *p, const struct lb_audit_options *opt,
		   struct lb_audit *out, struct lb_errmsg *em);
void lb_audit_release(struct lb_audit *a);
/* Read rules from JSON {"column": {"min": x, "max": y, "allowed": [..]}, ...}. The strings
 * point into j (keep it alive). Caller frees with lb_audit_rules_free. */
int lb_audit_rules_from_json(const json_t *j, struct lb_audit_rule **rules, size_t *n,
			     struct lb_errmsg *em);
void lb_audit_rules_free(struct lb_audit_rule *rules, size_t n);
/* Two-sample Kolmogorov-Smirnov statistic of two samples (sorted copies are made). */
double lb_ks_statistic(const double *a, size_t na, const double *b, size_t nb);
json_t *lb_audit_json(const struct lb_csv_profile *p, const struct lb_audit *a);
/* A self-contained HTML page (inline CSS and SVG, no scripts or external links). */
int lb_audit_html(const char *title, const struct lb_csv_profile *p, const struct lb_audit *a,
		  struct lb_buf *out);

/* The system of the codes a column holds, from its name ("icd10", "ICD-10-CM code",
 * "diagnosis_code", "snomed_ct", "sctid"): LB_CODE_ICD10CM (ICD-10-CM syntax, which WHO ICD-10
 * codes also follow) or LB_CODE_SNOMED; 0 (LB_CODE_OTHER) if none. guessed (may be NULL) is
 * set for names that only suggest codes ("diagnosis", "dx"): such a column counts as codes
 * only when most of its values are well formed. */
int lb_audit_code_column(const char *name, bool *guessed);
struct lb_asset_audit;
/* Every cell of the code columns of a table (text as profiled into p): check "codes" counts
 * the cells looked at and passed; each bad cell is listed as a problem whose place is
 * "line L, column NAME" (L the file's line where the row starts). format is "table". */
int lb_audit_table_codes(const char *text, size_t len, const struct lb_csv_profile *p,
			 const struct lb_code_tables *tables, struct lb_asset_audit *out);

/* ---- audit of non-table assets (audit_asset.c) --------------------------------------------
 * Completeness and validity checks that make sense per format; each check counts how many of
 * the things it looked at passed. The score is the mean pass ratio of the checks that looked
 * at something, in basis points (integer arithmetic, so it can go on the chain).
 *   DICOM: identifying elements present, UIDs well formed, dates valid, image attributes
 *          consistent with the pixel data.
 *   FHIR:  resources carry ids, references resolve inside the bundle, codings carry system
 *          and code and ICD-10 / SNOMED CT codes are valid, dates exist in the calendar and
 *          follow FHIR's date/dateTime/instant grammar.
 *   text:  valid UTF-8, no control characters, has words, language recognised.
 *   image: decodable, at least 32x32, not blank (enough detail for a perceptual hash). */
#define LB_AUDIT_MAX_CHECKS 8

struct lb_audit_check {
	const char *name;   /* static: "identifiers", "uids", "dates", ... */
	uint64_t passed;    /* things that passed */
	uint64_t total;     /* things looked at (0: check not applicable) */
	char detail[160];   /* first problem found, "" if none */
};

#define LB_AUDIT_MAX_PROBLEMS 32

/* One thing that failed a check, with where it is (a FHIR path such as
 * "Bundle.entry[2].resource.code.coding[0]"). */
struct lb_audit_problem {
	const char *check;  /* static: the check's name */
	char where[112];
	char what[176];
};

struct lb_asset_audit {
	const char *format;                      /* static: "dicom", "fhir", "text", "image",
						    "audio", "video", "pdf" */
	struct lb_audit_check check[LB_AUDIT_MAX_CHECKS];
	size_t nchecks;
	uint32_t score;                          /* basis points */
	struct lb_audit_problem problem[LB_AUDIT_MAX_PROBLEMS]; /* each failure, in order */
	size_t nproblems;
	uint64_t more_problems;                  /* failures beyond LB_AUDIT_MAX_PROBLEMS */
};

void lb_audit_dicom(const struct lb_dicom_file *f, struct lb_asset_audit *out);
/* The text must be JSON (a Bundle or one resource); LB_EMALFORMED otherwise. */
int lb_audit_fhir(const char *json, size_t len, struct lb_asset_audit *out,
		  struct lb_errmsg *em);
/* The same with code tables: ICD-10 and SNOMED CT codings are checked (structure, check
 * digit, and existence in the tables given; tables may be NULL), each failure listed in
 * out->problem with its FHIR path. */
int lb_audit_fhir_codes(const char *json, size_t len, const struct lb_code_tables *tables,
			struct lb_asset_audit *out, struct lb_errmsg *em);
void lb_audit_text(const char *p, size_t len, struct lb_asset_audit *out);
/* im->luma may be NULL (then the image counts as not decodable). */
void lb_audit_image(const struct lb_image *im, struct lb_asset_audit *out);
/* Audio/video: duration stated, audio stream plausible (sample rate 4000..768000 Hz, 1..64
 * channels, codec named), video stream plausible (16..16384 pixels each way, codec named). */
void lb_audit_media(const struct lb_media *m, struct lb_asset_audit *out);
/* PDF: has pages, has extractable text, language recognised, has a title. */
void lb_audit_pdf(const struct lb_pdf *p, struct lb_asset_audit *out);
json_t *lb_asset_audit_json(const struct lb_asset_audit *a);
/* The audit of a file's bytes of a detected type (lb_data_detect: "dicom", "fhir", "image",
 * "audio", "video", "pdf"; anything else is audited as text), parsed by that type's reader
 * first; codes are checked against tables (may be NULL). The reader's error (LB_EMALFORMED
 * ...) in em when the bytes are not of that type. */
int lb_audit_asset_bytes(const char *type, const uint8_t *d, size_t n,
			 const struct lb_code_tables *tables, struct lb_asset_audit *out,
			 struct lb_errmsg *em);

#endif
