/*
 * The node's data vault and the description step of registration, as library functions over
 * a directory (the node wires them to <home>/vault/ and to the directory chain):
 *   - vault: raw data objects, each encrypted (XChaCha20-Poly1305) under its own random key,
 *     addressed by the BLAKE2b-256 of the plaintext: <dir>/<first 2 hex>/<64 hex>.lbo; the
 *     object keys are sealed to the node's X25519 key (and any co-owner keys) in the key table
 *     <dir>/keys.tbl, which shredding erases in place (crypto-shredding). Nothing in clear is
 *     written. Objects of the earlier layout (<64 hex>.lbev, level-1 envelopes) are read and
 *     migrated.
 *   - describe: read a file, pick its extractor, and fill a hexahedron (basic size/volume,
 *     data features, codes found, raw digests, PDQ/MinHash fingerprints, audit score for
 *     tables, dynamic extractor/version) ready for the owner's exchange terms and publishing.
 *   - watch: compare a directory with what was last described and list what changed.
 */
#ifndef LEBEN_DATA_VAULT_H
#define LEBEN_DATA_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "leben/base.h"
#include "leben/data_dicom.h"
#include "leben/data_hexa.h"

/* Store data in the vault at dir under a new random object key sealed to the recipients
 * (32-byte X25519 public keys, 1 to 64; the node's own key first). The ciphertext is written
 * atomically, then the key records are appended and synced; an object already present is
 * left as is. The 64-hex reference is written to ref (65 bytes). */
int lb_vault_put(const char *dir, const uint8_t (*recipients)[32], size_t nrecipients,
		 const uint8_t *data, size_t len, char ref[65], struct lb_errmsg *em);
/* Open object ref with a recipient key pair; checks that the plaintext hashes to ref
 * (LB_ETAMPERED otherwise). LB_EWRONGKEY: no key record opens with this pair; LB_ENOTFOUND:
 * absent, or shredded (the message says which). An object of the earlier layout is opened
 * and rewritten in the current one. Caller frees *out with lb_free. */
int lb_vault_get(const char *dir, const char *ref, const uint8_t sk[32], const uint8_t pk[32],
		 uint8_t **out, size_t *len, struct lb_errmsg *em);

enum { LB_VAULT_ABSENT = 0, LB_VAULT_HELD = 1, LB_VAULT_SHREDDED = 2 };
/* Whether the vault holds object ref (or did and shredded it): LB_VAULT_*, or an lb_err. */
int lb_vault_state(const char *dir, const char *ref, struct lb_errmsg *em);
/* Crypto-shred object ref: every key record of it is overwritten in place (random bytes,
 * then zeros, synced) and marked shredded, then the ciphertext (and any earlier-layout copy)
 * is overwritten with zeros and unlinked. *held (may be NULL) says whether anything of it was
 * here. Idempotent. Limits: copies outside the vault, file-system snapshots and flash
 * wear-levelling are not reached (docs/security.md). */
int lb_vault_shred(const char *dir, const char *ref, bool *held, struct lb_errmsg *em);
/* Rewrite every earlier-layout object of dir (opened with the key pair) in the current
 * layout, wiping the old files; *moved counts them. */
int lb_vault_migrate(const char *dir, const uint8_t sk[32], const uint8_t pk[32], size_t *moved,
		     struct lb_errmsg *em);
/* Overwrite a file with zeros, sync it and unlink it (missing: LB_OK). */
int lb_vault_wipe_file(const char *path, struct lb_errmsg *em);

/* Describe the file at path into h (initialised by the call; release it). name defaults to
 * the file name; the public mask starts with basic, semantic, data, raw.blake2b, raw.pdq,
 * raw.minhash, dynamic and audit public, exchange private. */
int lb_data_describe(const char *path, struct lb_hexa *h, struct lb_errmsg *em);
/* The same with the extractor chosen by type ("dicom", "image", "csv" or "table", "fhir",
 * "text"); NULL guesses from the content and the name. */
int lb_data_describe_as(const char *path, const char *type, struct lb_hexa *h,
			struct lb_errmsg *em);

/* ---- the semantic facet from the file (semantic.c) ---------------------------------------- */

/* One row of a mapping table: a word as the file writes it, the code it maps to
 * ("snomed|77477000", "loinc|8867-4") and a readable name that becomes a keyword. */
struct lb_code_map {
	const char *match;
	const char *code;
	const char *display;
};

/* The built-in tables: "modality" (DICOM Modality -> SNOMED CT), "body_part" (DICOM Body Part
 * Examined and study-description words -> SNOMED CT), "column" (normalised table column names
 * -> LOINC / SNOMED CT). Static; NULL and *n = 0 for another name. */
const struct lb_code_map *lb_semantic_table(const char *which, size_t *n);
/* LOINC code syntax and its mod-10 check digit ("8867-4"). */
bool lb_loinc_check(const char *code);
/* Add to h's semantic.codes / semantic.keywords / semantic.subject what the file says:
 * DICOM modality, body part and study (or series) description; the names of a table's
 * columns (matched whole or as the leading words before a unit: "Glucose (mg/dL)");
 * PNG tEXt/iTXt Title, Description, Comment and Keywords and JPEG comments. Texts that are
 * not UTF-8 are left out. LB_ENOMEM only. */
int lb_semantic_dicom(const struct lb_dicom_file *f, struct lb_hexa *h);
int lb_semantic_columns(const char *const *names, size_t n, struct lb_hexa *h);
int lb_semantic_image(const uint8_t *d, size_t n, struct lb_hexa *h);

/* One changed file found by lb_data_watch_scan. */
struct lb_watch_change {
	char path[4096];
	uint8_t blake2b[32];
	int kind; /* 1 new, 2 modified, 3 removed */
};

/* Scan dir against the state file (a JSON object path -> blake2b hex, kept by the caller,
 * created if missing) and report the changes; the state file is rewritten to the new state.
 * *changes is allocated (lb_free). */
int lb_data_watch_scan(const char *dir, const char *state_path, struct lb_watch_change **changes,
		       size_t *n, struct lb_errmsg *em);

#endif
