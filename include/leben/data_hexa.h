/*
 * The hexahedron data model: the description of a data asset in six facets (white paper,
 * "Hexahedron Data Model") — basic attributes, semantic features, data features, exchange
 * features, dynamic features and raw data (a content hash and a vault reference, never the
 * bytes) — plus the audit result. Each field belongs to one facet and is marked public or
 * private by its owner: the public part is published in the directory chain's public metadata
 * directory, the private part is sealed (level-1 envelope) to the parties the owner authorises.
 *
 * Forms: a versioned JSON document (docs/hexahedron.md) and a canonical binary encoding
 * (varint field ids in increasing order, typed values; see docs/hexahedron.md) whose decoder
 * refuses every non-canonical byte string. The binary form travels in the payload of the
 * directory chain's data.register / data.update / data.retire / data.link transactions
 * (lb_asset_tx below; handlers in data_tx.h).
 */
#ifndef LEBEN_DATA_HEXA_H
#define LEBEN_DATA_HEXA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/base.h"

#define LB_HEXA_VERSION 1
#define LB_HEXA_MAX_STR 4096      /* bytes in one text value */
#define LB_HEXA_MAX_LIST 1024     /* entries in one list / map */
#define LB_HEXA_MAX_BYTES 4096    /* bytes in one opaque value */
#define LB_HEXA_MAX_ENCODED (1u << 20)

/* Value types of fields. */
enum lb_hexa_type {
	LB_HT_STR,     /* UTF-8 text */
	LB_HT_U64,     /* unsigned integer */
	LB_HT_LIST,    /* set of texts: sorted, no duplicates */
	LB_HT_MAP,     /* text -> text, sorted by key */
	LB_HT_SHARES,  /* text -> unsigned integer (owner -> basis points), sorted by key */
	LB_HT_HASH32,  /* 32 raw bytes */
	LB_HT_HASH16,  /* 16 raw bytes */
	LB_HT_BYTES,   /* opaque bytes (fingerprints) */
};

/* X(id, "facet.field", type, description). Ids are part of the encoding: never reuse one. */
#define LB_HEXA_FIELDS(X)                                                                   \
	X(1, "basic.name", LB_HT_STR, "short name of the asset (required)")                   \
	X(2, "basic.description", LB_HT_STR, "what the data is")                              \
	X(3, "basic.classification", LB_HT_STR, "classification scheme entry")                \
	X(4, "basic.category", LB_HT_STR, "category (imaging, lab, notes, registry, ...)")    \
	X(5, "basic.class", LB_HT_STR, "class within the category")                           \
	X(6, "basic.size", LB_HT_U64, "size of the raw data in bytes")                        \
	X(7, "basic.volume", LB_HT_U64, "records: rows, resources, images, notes")            \
	X(8, "basic.creator", LB_HT_STR, "who created the data")                              \
	X(9, "basic.created", LB_HT_U64, "creation time, ms since the Unix epoch")            \
	X(10, "semantic.intent", LB_HT_STR, "what the data is meant for")                     \
	X(11, "semantic.subject", LB_HT_STR, "subject (disease, population, organ)")          \
	X(12, "semantic.codes", LB_HT_LIST, "codes as system|code (icd10|I10, snomed|...)")   \
	X(13, "semantic.keywords", LB_HT_LIST, "free keywords")                               \
	X(14, "data.format", LB_HT_STR, "dicom, table, fhir, text, image, audio, video, pdf, other") \
	X(15, "data.features", LB_HT_MAP, "format-specific features (name -> value)")         \
	X(16, "exchange.owners", LB_HT_SHARES, "owner -> share in basis points (sum 10000)")  \
	X(17, "exchange.restrictions", LB_HT_LIST, "usage restrictions")                      \
	X(18, "exchange.delivery", LB_HT_STR, "sandbox, aggregate or envelope")               \
	X(19, "exchange.conditions", LB_HT_STR, "conditions of use")                          \
	X(20, "exchange.billing", LB_HT_STR, "free, per_use, subscription or one_time")       \
	X(21, "exchange.price", LB_HT_U64, "price in micro-ASC")                              \
	X(22, "exchange.valid_from", LB_HT_U64, "offer starts, ms since the epoch")           \
	X(23, "exchange.valid_until", LB_HT_U64, "offer ends, ms since the epoch (0 none)")   \
	X(24, "exchange.level", LB_HT_U64, "security level 1, 2 or 3")                        \
	X(25, "dynamic.extractor", LB_HT_STR, "extractor and version that made the entry")    \
	X(26, "dynamic.sync", LB_HT_STR, "manual, watch or periodic")                         \
	X(27, "dynamic.period", LB_HT_U64, "seconds between periodic syncs")                  \
	X(28, "dynamic.storage", LB_HT_STR, "where the raw data is kept (vault)")             \
	X(29, "dynamic.version", LB_HT_U64, "entry version, 1 for the first")                 \
	X(30, "dynamic.previous", LB_HT_HASH32, "hash of the previous version's encoding")    \
	X(31, "raw.blake2b", LB_HT_HASH32, "BLAKE2b-256 of the raw bytes (required)")         \
	X(32, "raw.md5", LB_HT_HASH16, "MD5 of the raw bytes")                                \
	X(33, "raw.vault", LB_HT_STR, "vault object reference")                               \
	X(34, "raw.pdq", LB_HT_HASH32, "perceptual image hash (PDQ-style, 256 bits)")         \
	X(35, "raw.minhash", LB_HT_BYTES, "text fingerprint: MinHash + values digest")         \
	X(36, "audit.score", LB_HT_U64, "audit score in basis points (0..10000)")             \
	X(37, "audit.report", LB_HT_HASH32, "BLAKE2b-256 of the audit report")                \
	X(38, "exchange.readers", LB_HT_LIST, "who may open the private part (lb1... / key)")  \
	X(39, "raw.imgsig", LB_HT_BYTES, "crop-tolerant image signature (lb_imgsig_encode)")

#define LB_HEXA_NFIELDS 39

/* One field's value. Which member is used depends on the field's type. */
struct lb_hexa_value {
	char *s;            /* STR (owned) */
	uint64_t u;         /* U64 */
	char **keys;        /* LIST, MAP, SHARES: owned array of owned texts, sorted */
	char **vals;        /* MAP: owned values parallel to keys */
	uint64_t *nums;     /* SHARES: owned values parallel to keys */
	size_t n;           /* entries in keys (or bytes in b) */
	uint8_t *b;         /* HASH32, HASH16, BYTES (owned) */
};

struct lb_hexa {
	uint32_t version;       /* LB_HEXA_VERSION */
	uint64_t public_mask;   /* bit i set: field i is public */
	uint64_t present;       /* bit i set: field i has a value */
	struct lb_hexa_value v[LB_HEXA_NFIELDS + 1]; /* indexed by field id */
};

/* Field table lookups. */
int lb_hexa_field_id(const char *name);             /* -1 if unknown */
const char *lb_hexa_field_name(int id);             /* NULL if unknown */
enum lb_hexa_type lb_hexa_field_type(int id);

void lb_hexa_init(struct lb_hexa *h);
void lb_hexa_release(struct lb_hexa *h);
void lb_hexa_clear_field(struct lb_hexa *h, int id);

/* Setters copy their arguments. Lists and maps are kept sorted; a duplicate key replaces. */
int lb_hexa_set_str(struct lb_hexa *h, const char *field, const char *value);
int lb_hexa_set_u64(struct lb_hexa *h, const char *field, uint64_t value);
int lb_hexa_set_bytes(struct lb_hexa *h, const char *field, const uint8_t *p, size_t n);
int lb_hexa_list_add(struct lb_hexa *h, const char *field, const char *item);
int lb_hexa_map_set(struct lb_hexa *h, const char *field, const char *key, const char *value);
int lb_hexa_share_set(struct lb_hexa *h, const char *field, const char *owner, uint64_t bp);
/* Mark a field ("basic.name") or a whole facet ("basic") public or private. */
int lb_hexa_set_public(struct lb_hexa *h, const char *field_or_facet, bool pub);
/* Getters: borrowed until the field changes; NULL / false if absent. */
const char *lb_hexa_get_str(const struct lb_hexa *h, const char *field);
bool lb_hexa_get_u64(const struct lb_hexa *h, const char *field, uint64_t *out);

/* Canonical encoding: uvar version | uvar public_mask | uvar present | for each present field
 * in increasing id: its value (STR: uvar len + UTF-8; U64: uvar; LIST: uvar n + n texts;
 * MAP: uvar n + n (key, value); SHARES: uvar n + n (key, uvar); HASH32/16: raw; BYTES: uvar
 * len + bytes). Appends to out. */
int lb_hexa_encode(const struct lb_hexa *h, struct lb_buf *out);
/* Decode; refuses unknown versions and fields, non-minimal varints, unsorted or duplicate
 * list entries, empty texts, invalid UTF-8, trailing bytes. h is initialised by the call and
 * must be released by the caller on success. */
int lb_hexa_decode(const uint8_t *p, size_t len, struct lb_hexa *h, struct lb_errmsg *em);
/* Semantic checks of a description (whole or one part): level 1..3, shares > 0 summing to
 * 10000, known billing/sync/format/delivery words, valid_from <= valid_until, audit score
 * <= 10000, codes of the form system|code with ICD-10 and SNOMED CT codes valid. With
 * require_core, basic.name and raw.blake2b must be present. LB_EINVALID naming the field. */
int lb_hexa_check(const struct lb_hexa *h, bool require_core, struct lb_errmsg *em);

/* Public and private parts: pub receives the public fields, priv the others (both inited by
 * the call; release both). Merge refuses parts that overlap or disagree on the mask. */
int lb_hexa_split(const struct lb_hexa *h, struct lb_hexa *pub, struct lb_hexa *priv);
int lb_hexa_merge(const struct lb_hexa *pub, const struct lb_hexa *priv, struct lb_hexa *out,
		  struct lb_errmsg *em);

/* JSON form {"hexahedron":1,"public":[...],"basic":{...},...} (docs/hexahedron.md). */
json_t *lb_hexa_to_json(const struct lb_hexa *h);
int lb_hexa_from_json(const json_t *j, struct lb_hexa *h, struct lb_errmsg *em);

/* ---- directory-chain transaction payloads ------------------------------------------------ */

enum lb_asset_op { LB_ASSET_REGISTER = 1, LB_ASSET_UPDATE = 2, LB_ASSET_RETIRE = 3 };

/* Payload of data.register / data.update / data.retire / data.link. Byte fields borrow from the decoded
 * input (decode) or from the caller (encode). */
struct lb_asset_tx {
	enum lb_asset_op op;
	uint8_t asset_id[32];        /* lb_asset_id() of the first version */
	uint64_t version;            /* 1 for register, previous + 1 for update */
	const uint8_t *pub;          /* register/update: canonical public hexahedron */
	size_t pub_len;
	const uint8_t *priv_env;     /* register/update: level-1 envelope of the private part
					(lb_envelope_seal), may be empty */
	size_t priv_env_len;
	uint8_t previous[32];        /* update/retire: BLAKE2b-256 of the previous payload */
	char reason[257];            /* retire: why (may be "") */
};

/* Asset id: BLAKE2b-256 with domain "LEBEN asset id" over creator, raw.blake2b and created. */
void lb_asset_id(uint8_t out[32], const char *creator, const uint8_t raw_blake2b[32],
		 uint64_t created_ms);
/* uvar op | asset_id | uvar version | then per op: register: bytes pub, bytes env;
 * update: previous, bytes pub, bytes env; retire: previous, str reason. */
int lb_asset_tx_encode(const struct lb_asset_tx *tx, struct lb_buf *out);
int lb_asset_tx_decode(const uint8_t *p, size_t len, struct lb_asset_tx *tx,
		       struct lb_errmsg *em);
/* Stateless check for the tx handler: op/version consistency (register has version 1,
 * update/retire >= 2 / >= 1), the public part decodes canonically and passes lb_hexa_check
 * with require_core, its dynamic.version equals the tx version, its public mask hides nothing
 * that is present, the envelope (if any) starts with the LBEV magic. */
int lb_asset_tx_check(const struct lb_asset_tx *tx, struct lb_errmsg *em);

#endif
