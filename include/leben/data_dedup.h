/*
 * Fault-tolerant data cleaning (white paper, "Fault-Tolerant Data Cleaning"): finding exact
 * and near duplicates among data assets.
 *   - exact: MD5 (as the white paper specifies) and BLAKE2b-256 of the raw bytes;
 *   - near-duplicate text: MinHash signatures (128 permutations over word shingles, after
 *     normalising case, punctuation, numbers and units) indexed by locality-sensitive banding,
 *     the band/row split chosen for the similarity threshold as datasketch does;
 *   - near-duplicate images: a PDQ-style 256-bit perceptual hash (luma, Jarosz box filter,
 *     64x64, 16x16 DCT, median threshold) with a quality score, compared over the 8
 *     rotations/flips; match at Hamming distance <= LB_PDQ_MATCH_DISTANCE;
 *   - crops and overlays PDQ misses: a crop-tolerant signature (coarse and fine detail maps)
 *     matched under crops and rescales; match at score >= LB_IMGSIG_MATCH_SCORE.
 * `leben data dedup DIR` and asset registration use these.
 */
#ifndef LEBEN_DATA_DEDUP_H
#define LEBEN_DATA_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/base.h"

/* ---- exact ------------------------------------------------------------------------------- */

void lb_digest_md5(const void *p, size_t n, uint8_t out[16]);
void lb_digest_blake2b(const void *p, size_t n, uint8_t out[32]);

/* ---- MinHash + LSH ----------------------------------------------------------------------- */

#define LB_MINHASH_K 128
#define LB_MINHASH_SHINGLE 3 /* words per shingle */

struct lb_minhash {
	uint32_t v[LB_MINHASH_K];
};

/* The earlier, order- and value-blind method, kept for comparison (the text evaluation
 * prints its figures) and as a plain MinHash of any text; near-duplicate notes use
 * lb_text_fingerprint below.
 * Normalised text for shingling: lower case, punctuation removed, every number replaced by
 * "0", unit spellings folded (milligrams -> mg, ...), single spaces. Appends to out. */
int lb_text_normalise(const char *text, size_t len, struct lb_buf *out);
/* Signature of a text over shingles of `shingle` words of its normalised form (a text with
 * fewer words is one shingle). Deterministic: the permutations come from a fixed seed. */
int lb_minhash_text(const char *text, size_t len, int shingle, struct lb_minhash *out);
/* Estimated Jaccard similarity: the fraction of equal signature slots. */
double lb_minhash_similarity(const struct lb_minhash *a, const struct lb_minhash *b);

/* ---- near-duplicate text that survives edits (textdup.c) ----------------------------------
 * Canonical form: boilerplate lines (a "Note:" header, a signature line) and list markers
 * dropped, lower case, punctuation and hyphens removed, "300mg" split, number words read as
 * numbers, unit spellings folded; then sentences. The fingerprint is a MinHash (its own
 * multiply-add-shift permutations) over the words and 2-word shingles inside each sentence
 * (numbers as a placeholder: order of sentences and the way a number is written do not
 * matter) plus a digest of the multiset of values (each number with its unit, and
 * negation/laterality words). Pairs whose values differ score half their text similarity, so
 * they never reach LB_TEXT_MATCH. */

#define LB_TEXT_SHINGLE 2  /* words per shingle, inside one sentence (plus single words) */
#define LB_TEXT_MATCH 0.60 /* default score at or above which two notes are near copies */
#define LB_TEXT_FP_SIZE (LB_MINHASH_K * 4 + 12) /* encoded size (the raw.minhash field) */

struct lb_text_fp {
	struct lb_minhash mh; /* shingles of the canonical sentences */
	uint64_t values;      /* digest of the sorted values */
	uint32_t nvalues;     /* how many values (numbers, negation and laterality words) */
};

int lb_text_fingerprint(const char *text, size_t len, struct lb_text_fp *out);
/* Estimated Jaccard similarity of the element sets, halved when the values differ
 * (*values_differ, may be NULL, says so). */
double lb_text_similarity(const struct lb_text_fp *a, const struct lb_text_fp *b,
			  bool *values_differ);
/* Encoding: 128 uint32 LE, the values digest as uint64 LE, the count as uint32 LE. */
void lb_text_fp_encode(const struct lb_text_fp *fp, uint8_t out[LB_TEXT_FP_SIZE]);
/* LB_EMALFORMED unless n == LB_TEXT_FP_SIZE (older 512-byte signatures are not comparable). */
int lb_text_fp_decode(const uint8_t *p, size_t n, struct lb_text_fp *out);
/* The canonical form as text, one sentence a line, then "values: ..." (appended to out). */
int lb_text_canonical(const char *text, size_t len, struct lb_buf *out);

/* Bands x rows (b*r <= k) minimising w_fp * (false-positive area below the threshold) +
 * w_fn * (false-negative area above it) of the S-curve 1-(1-s^r)^b (datasketch's rule). */
void lb_lsh_params(double threshold, int k, double w_fp, double w_fn, int *bands, int *rows);

struct lb_lsh;
/* Index for signatures with the threshold's band/row split (weights 0.5/0.5). */
int lb_lsh_new(double threshold, struct lb_lsh **out);
void lb_lsh_free(struct lb_lsh *l);
void lb_lsh_shape(const struct lb_lsh *l, int *bands, int *rows);
/* Add signature number id (ids are the caller's, e.g. indexes into its array). */
int lb_lsh_insert(struct lb_lsh *l, uint32_t id, const struct lb_minhash *sig);
/* Candidate ids sharing at least one band with sig, without duplicates, into *ids (caller
 * frees with lb_free). */
int lb_lsh_query(const struct lb_lsh *l, const struct lb_minhash *sig, uint32_t **ids,
		 size_t *n);

/* ---- PDQ-style image hash ---------------------------------------------------------------- */

#define LB_PDQ_MATCH_DISTANCE 31 /* Hamming distance at or below which two images match */
#define LB_PDQ_MIN_QUALITY 50    /* hashes below this quality are too flat to compare */

struct lb_pdq {
	uint8_t hash[32]; /* 256 bits, bit i = byte i/8, bit i%8 */
	int quality;      /* 0..100 from the image's gradients */
};

/* Hash of an 8-bit luma image (w*h, row-major) and of its 8 dihedral variants:
 * out[0] original, [1] rotated 90, [2] 180, [3] 270, [4] flipped left-right, [5] flipped
 * top-bottom, [6] transposed, [7] anti-transposed. Images smaller than 5x5 are refused. */
int lb_pdq_hash(const uint8_t *luma, uint32_t w, uint32_t h, struct lb_pdq out[8]);
int lb_pdq_distance(const uint8_t a[32], const uint8_t b[32]);
/* Smallest distance between b and any of a's 8 variants. */
int lb_pdq_min_distance(const struct lb_pdq a[8], const uint8_t b[32]);

/* ---- crop-tolerant image signature (src/data/imgsig.c) ------------------------------------ */

#define LB_IMGSIG_COARSE 32 /* coarse map side (alignment) */
#define LB_IMGSIG_FINE 128  /* fine map side (verification) */
/* encoded size: 4 + 512 + 3277 = 3793 bytes */
#define LB_IMGSIG_BYTES (4 + LB_IMGSIG_COARSE * LB_IMGSIG_COARSE / 2 + \
			 (LB_IMGSIG_FINE * LB_IMGSIG_FINE + 4) / 5)
#define LB_IMGSIG_MATCH_SCORE 0.58 /* score at or above which two pictures match */
#define LB_IMGSIG_MIN_DETAIL 1.0   /* below this fine detail (luma units) a picture is flat */

/* Where a picture's detail is, at two scales: a coarse band-pass map (32x32, 4-bit values)
 * to find how one picture sits inside another, and a fine map (128x128, -1/0/+1: the sign of
 * the detail, 0 where it is weak) to tell the same picture from a look-alike. Survives crops
 * of up to 40 % of a side, rescaling, captions and watermarks over part of the picture, JPEG
 * re-encoding and brightness/contrast changes; not rotations (PDQ covers those). */
struct lb_imgsig {
	uint16_t w, h;                                          /* picture size (ratio kept) */
	bool flat;                                              /* too little detail to compare */
	int8_t coarse[LB_IMGSIG_COARSE * LB_IMGSIG_COARSE];     /* -8..7, row-major */
	int8_t fine[LB_IMGSIG_FINE * LB_IMGSIG_FINE];           /* -1, 0, 1, row-major */
};

/* Signature of an 8-bit luma picture (w*h, row-major). Pictures smaller than 16x16 are refused
 * (LB_EINVALID); a flat picture gets flat = true (it matches nothing). */
int lb_imgsig_make(const uint8_t *luma, uint32_t w, uint32_t h, struct lb_imgsig *out);
/* Fixed-size encoding (the public `raw.imgsig`): width and height (uint16 LE, the top bit of
 * the height is the flat flag), the coarse map as two 4-bit values per byte, the fine map as
 * five base-3 digits per byte (value + 1, first cell least significant). Decoding refuses
 * another size, a zero dimension, a byte that is not five base-3 digits or non-zero padding
 * with LB_EMALFORMED. */
void lb_imgsig_encode(const struct lb_imgsig *s, uint8_t out[LB_IMGSIG_BYTES]);
int lb_imgsig_decode(const uint8_t *p, size_t n, struct lb_imgsig *s);
/* Similarity 0..1: the best robust correlation of one picture's detail with any window of the
 * other (kept fraction 0.6..1 of each side), either way round. A search: milliseconds a pair
 * (docs/performance.md). */
double lb_imgsig_score(const struct lb_imgsig *a, const struct lb_imgsig *b);
/* lb_imgsig_score(a, b) >= LB_IMGSIG_MATCH_SCORE. */
bool lb_imgsig_match(const struct lb_imgsig *a, const struct lb_imgsig *b);

/* ---- a directory ------------------------------------------------------------------------- */

struct lb_dedup_options {
	double text_threshold; /* lb_text_similarity threshold, default LB_TEXT_MATCH */
	int image_distance;    /* PDQ match distance, default LB_PDQ_MATCH_DISTANCE */
	size_t max_file;       /* largest file read, default 256 MiB */
	double image_score;    /* crop-tolerant signature score, default LB_IMGSIG_MATCH_SCORE */
};

/* Walk dir recursively and report {"files":N,"exact":[groups],"near_text":[groups],
 * "near_image":[groups],"skipped":[...]}: exact groups by BLAKE2b (MD5 shown), near-duplicate
 * texts with their estimated similarity, near-duplicate images (PNG, JPEG, DICOM with native
 * pixel data) with their PDQ distance, "method" ("pdq" or "crop-tolerant") and, when the
 * signature was compared, its "score". *out is a new JSON object (json_decref). */
int lb_dedup_dir(const char *dir, const struct lb_dedup_options *opt, json_t **out,
		 struct lb_errmsg *em);

#endif
