/*
 * Transactions and blocks of the three chains: their canonical encoding, signing, ids, the
 * Merkle tree over a block's txs and offline inclusion proofs. See docs/wire-format.md.
 */
#ifndef LEBEN_TX_H
#define LEBEN_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leben/base.h"
#include "leben/crypto.h"

enum lb_chain_id {
	LB_CHAIN_SETTLEMENT = 0, /* accounts, ASC and CSC */
	LB_CHAIN_DIRECTORY = 1,  /* data-asset catalogue */
	LB_CHAIN_BUSINESS = 2,   /* identities, consents, rights, contracts, audit trail */
	LB_CHAIN_COUNT = 3
};
/* "settlement", "directory", "business"; "?" for anything else. */
const char *lb_chain_name(int chain);
/* Chain id for a name, or -1. */
int lb_chain_parse(const char *name);

#define LB_TX_VERSION 1
#define LB_TX_MAX_BYTES 65536     /* a whole signed tx */
#define LB_TX_PAYLOAD_MAX 60000   /* its payload */

/* A decoded tx. payload points into the raw bytes it was decoded from (borrowed). */
struct lb_tx {
	uint8_t version;                /* LB_TX_VERSION */
	uint8_t chain;                  /* enum lb_chain_id */
	uint32_t type;                  /* tx type id (see the type table in ledger.h) */
	uint8_t sender[LB_PUBKEY_LEN];  /* signer's Ed25519 public key */
	uint64_t nonce;                 /* per-sender, per-chain sequence number from 0 */
	uint64_t fee;                   /* CSC micro-units, burned */
	uint64_t expires_ms;            /* refused in blocks later than this (Unix ms); 0: never */
	const uint8_t *payload;         /* type-specific bytes, borrowed */
	size_t payload_len;             /* bytes at payload */
	uint8_t sig[LB_SIG_LEN];        /* Ed25519 signature of the sighash */
	size_t unsigned_len;            /* bytes of the raw tx covered by the signature */
	uint8_t id[LB_HASH_LEN];        /* BLAKE2b-256 of the whole signed tx */
};

/* Decode a signed tx (canonical form only). tx->payload borrows raw. */
int lb_tx_decode(struct lb_tx *tx, const uint8_t *raw, size_t len, struct lb_errmsg *em);
/* Hash that is signed: BLAKE2b-256("LEBEN-tx-v1" || network id || unsigned bytes). */
void lb_tx_sighash(uint8_t out[LB_HASH_LEN], const uint8_t *raw, size_t unsigned_len,
		   const uint8_t network[LB_HASH_LEN]);
bool lb_tx_sig_is_valid(const struct lb_tx *tx, const uint8_t *raw,
			const uint8_t network[LB_HASH_LEN]);
/* Encode and sign a tx from t's fields (version, chain, type, nonce, fee, expires_ms,
 * payload; sender is taken from kp). Appends the signed bytes to out; id receives the tx id
 * (may be NULL). */
int lb_tx_build(struct lb_buf *out, const struct lb_tx *t, const uint8_t network[LB_HASH_LEN],
		const struct lb_keypair *kp, uint8_t id[LB_HASH_LEN]);

/* ---- payloads of the core tx types (also what the CLI builds) ---------------------------- */

enum lb_asset { LB_ASC = 1, LB_CSC = 2 };
enum lb_role {
	LB_ROLE_PATIENT = 1,
	LB_ROLE_PROVIDER = 2,
	LB_ROLE_KNOWLEDGE_SHARER = 3,
	LB_ROLE_DATA_CONTRIBUTOR = 4,
	LB_ROLE_TECHNOLOGY_PROVIDER = 5,
	LB_ROLE_INDUSTRY_INSTITUTION = 6,
	LB_ROLE_CREDIT_PARTNER = 7,
	LB_ROLE_AUDITOR = 8,
	LB_ROLE_MAX_ = 8
};
const char *lb_role_name(int role);  /* "patient", "provider", "knowledge-sharer", ... */
int lb_role_parse(const char *name); /* -1 if unknown */

#define LB_MEMO_MAX 256
#define LB_NAME_MAX 128
#define LB_META_MAX 32768

int lb_payload_issue(struct lb_buf *b, const uint8_t to[LB_ADDR_LEN], uint64_t amount);
int lb_payload_transfer(struct lb_buf *b, const uint8_t to[LB_ADDR_LEN], int asset,
			uint64_t amount, const char *memo);
int lb_payload_burn(struct lb_buf *b, uint64_t amount);
int lb_payload_convert(struct lb_buf *b, uint64_t csc_amount);
/* asset.register: content hash of the raw data + opaque metadata (the hexahedron). */
int lb_payload_asset_register(struct lb_buf *b, const uint8_t content_hash[LB_HASH_LEN],
			      const void *meta, size_t meta_len);
int lb_payload_asset_update(struct lb_buf *b, const uint8_t asset_id[LB_HASH_LEN],
			    const uint8_t content_hash[LB_HASH_LEN], const void *meta,
			    size_t meta_len);
int lb_payload_asset_retire(struct lb_buf *b, const uint8_t asset_id[LB_HASH_LEN],
			    const char *reason);
int lb_payload_identity(struct lb_buf *b, int role, const char *name, const void *meta,
			size_t meta_len);
/* record: an audit-trail event of a kind ("consent.viewed"), about a subject, with data. */
int lb_payload_record(struct lb_buf *b, const char *kind, const uint8_t subject[LB_HASH_LEN],
		      const void *data, size_t data_len);

/* ---- blocks ----------------------------------------------------------------------------- */

struct lb_anchor {
	uint64_t height;              /* latest height of the other chain when this block was made */
	uint8_t hash[LB_HASH_LEN];    /* that block's hash */
};

struct lb_block_header {
	uint8_t version;                      /* 1 */
	uint8_t chain;                        /* enum lb_chain_id */
	uint64_t height;                      /* 0 = genesis */
	uint64_t time_ms;                     /* Unix ms, never decreasing */
	uint8_t prev_hash[LB_HASH_LEN];       /* zero for genesis */
	uint8_t tx_root[LB_HASH_LEN];         /* Merkle root of tx ids */
	uint8_t app_hash[LB_HASH_LEN];        /* H(prev app hash || write-set) */
	struct lb_anchor anchors[2];          /* the two other chains, in chain-id order */
	uint64_t tx_count;                    /* txs in the block */
	uint8_t validity[LB_TX_MAX_BYTES / 8];/* bit i set: tx i invalid (first bitmap_len bytes) */
	size_t bitmap_len;                    /* 0 when every tx is valid, else ceil(count/8) */
	uint8_t proposer[LB_PUBKEY_LEN];      /* key of the node that made the block */
	uint8_t sig[LB_SIG_LEN];              /* proposer's signature of the block hash */
};
#define LB_BLOCK_MAX_TXS 65536
#define LB_HEADER_MAX_BYTES (LB_BLOCK_MAX_TXS / 8 + 512)

int lb_header_encode(struct lb_buf *b, const struct lb_block_header *h, bool with_sig);
int lb_header_decode(struct lb_block_header *h, const uint8_t *p, size_t len,
		     struct lb_errmsg *em);
/* Block hash: BLAKE2b-256("LEBEN-block-v1" || header without signature). */
void lb_header_hash(const struct lb_block_header *h, uint8_t out[LB_HASH_LEN]);
bool lb_header_tx_is_valid(const struct lb_block_header *h, uint64_t index);
/* True for a header with an all-zero proposer and signature: a block ordered by a consortium
 * (etcd), identical on every member, vouched for by the members' signed checkpoints rather
 * than by one node's signature. */
bool lb_header_is_unsigned(const struct lb_block_header *h);
/* Index in h->anchors of another chain (0 or 1), -1 if other == h->chain. */
int lb_anchor_index(int chain, int other);

/* Merkle tree over tx ids (RFC 6962 shape, BLAKE2b-256, leaf prefix 0x00, node prefix 0x01). */
void lb_merkle_root(const uint8_t (*ids)[LB_HASH_LEN], size_t n, uint8_t root[LB_HASH_LEN]);
/* Audit path of leaf idx: up to 64 hashes written to path, count in *path_len. */
int lb_merkle_path(const uint8_t (*ids)[LB_HASH_LEN], size_t n, size_t idx,
		   uint8_t (*path)[LB_HASH_LEN], size_t *path_len);
bool lb_merkle_path_is_valid(const uint8_t leaf_id[LB_HASH_LEN], size_t idx, size_t n,
			     const uint8_t (*path)[LB_HASH_LEN], size_t path_len,
			     const uint8_t root[LB_HASH_LEN]);

/* ---- inclusion proofs (docs/wire-format.md, "Proofs") ------------------------------------ */

/* What a verified proof establishes. */
struct lb_proof_info {
	uint8_t tx_id[LB_HASH_LEN];   /* the tx proven included */
	int chain;                    /* its chain */
	uint64_t height;              /* its block */
	uint64_t time_ms;             /* its block's time */
	uint64_t index;               /* its position in the block */
	bool tx_valid;                /* validity bit of the tx in that block */
	uint8_t block_hash[LB_HASH_LEN];
	uint8_t proposer[LB_PUBKEY_LEN];
	bool anchored;                /* the proof continues to another chain's anchor */
	int anchor_chain;             /* that chain */
	uint64_t anchor_height;       /* the block of that chain whose header anchors it */
	uint8_t anchor_block_hash[LB_HASH_LEN];
};
/* Check a proof offline: Merkle path, header chain up to the anchor if present, every
 * header's proposer signature. Optionally require a given proposer key (NULL: any). */
int lb_proof_verify(const uint8_t *proof, size_t len, const uint8_t *want_proposer,
		    struct lb_proof_info *info, struct lb_errmsg *em);

#endif
