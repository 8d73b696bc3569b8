/*
 * The three-chain ledger of a node: genesis, the tx-type table, state with its write-set and
 * app hash, the mempool (admission with every check a block would make), block commit,
 * queries, proofs and full replay verification. Ordering is not here: an orderer (order.h)
 * receives admitted txs and hands back ordered block cuts.
 */
#ifndef LEBEN_LEDGER_H
#define LEBEN_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/tx.h"

/* ---- state access for tx handlers ---------------------------------------------------------- */

/* A view of one chain's state through which a tx reads and writes. Writes made while a tx
 * is applied are kept only if its apply returns LB_OK. */
struct lb_state;

#define LB_STATE_KEY_MAX 256
#define LB_STATE_VALUE_MAX (1 << 20)

/* Read the value under (ns, key). LB_ENOTFOUND if absent. *val is borrowed until the next
 * read or write of this state (a value read from disk is held in one buffer per state). */
int lb_state_get(struct lb_state *s, const char *ns, const void *key, size_t klen,
		 const uint8_t **val, size_t *vlen);
int lb_state_put(struct lb_state *s, const char *ns, const void *key, size_t klen,
		 const void *val, size_t vlen);
int lb_state_del(struct lb_state *s, const char *ns, const void *key, size_t klen);
/* Convenience for integer values (stored as canonical varints). Absent reads as dflt. */
int lb_state_get_u64(struct lb_state *s, const char *ns, const void *key, size_t klen,
		     uint64_t dflt, uint64_t *out);
int lb_state_put_u64(struct lb_state *s, const char *ns, const void *key, size_t klen,
		     uint64_t v);
/* Hash of the committed block at height of this state's chain (for cross-chain proofs:
 * a proof anchored in one of this chain's blocks is genuine when that block's hash is the
 * one stored here). Only blocks below the one being built are visible, the same on every
 * node and in replay. LB_ENOTFOUND if there is no such block yet. */
int lb_state_block_hash(struct lb_state *s, uint64_t height, uint8_t out[LB_HASH_LEN]);

struct lb_apply_ctx;
/* For a handler that cites a tx of another chain (a proof anchored in this chain): proof
 * (lb_proof_verify format) must check out, be for a tx of want_chain that is marked valid in
 * its block, and be anchored in one of this chain's own earlier blocks — the block this
 * chain has at that height (so a forged or foreign proof fails); raw must be the proven tx,
 * of want_type unless that is 0. The decoded tx (borrowing raw) in *tx. Messages begin with
 * the citing tx type's name and say what is wrong with the cited `what` ("key reset");
 * LB_EINVALID / LB_EMALFORMED in c->em. */
int lb_apply_cite(struct lb_apply_ctx *c, const char *what, const uint8_t *raw, size_t rawlen,
		  const uint8_t *proof, size_t plen, int want_chain, uint32_t want_type,
		  struct lb_tx *tx);
/* lb_apply_cite that also gives what the proof says (its block's height and time, the
 * anchor) in *info, so that a handler reading them does not check the proof again. */
int lb_apply_cite_info(struct lb_apply_ctx *c, const char *what, const uint8_t *raw,
		       size_t rawlen, const uint8_t *proof, size_t plen, int want_chain,
		       uint32_t want_type, struct lb_tx *tx, struct lb_proof_info *info);

/* What a handler sees when its tx is applied. */
struct lb_apply_ctx {
	struct lb_state *state;             /* the tx's chain state */
	const struct lb_tx *tx;             /* the decoded tx */
	uint8_t sender_addr[LB_ADDR_LEN];   /* account of tx->sender (see LB_KEYMAP_NS) */
	uint64_t height;                    /* block height being built */
	uint64_t time_ms;                   /* block time */
	struct lb_errmsg *em;               /* where to explain a refusal */
};

/* Key rotation hook. Normally a tx acts for the account whose address derives from its
 * sender key. A chain's state may hold, under namespace LB_KEYMAP_NS and key = the address
 * derived from a signing key, 1 + LB_ADDR_LEN bytes: a tag and an account address.
 *   LB_KEYMAP_ACTS_FOR: the key acts for that account (ctx->sender_addr is the account);
 *   LB_KEYMAP_REPLACED: the key was replaced; every tx it signs is refused (LB_EUNAUTH).
 * Nonces stay per signing key (the "nonce" entry of the key's own address), so a new key
 * starts its own sequence. Only the security module's keys.reset writes entries (business
 * chain; docs/security.md says what each chain honours). One state read per tx. */
#define LB_KEYMAP_NS "keymap"
#define LB_KEYMAP_ACTS_FOR 'A'
#define LB_KEYMAP_REPLACED 'R'
/* LB_KEYMAP_REMOVED: the key (or the account it acts for) belonged to a consortium member
 * removed by a governance vote, or to an account such a member vouched for; the address is
 * the removed member's. Every tx it signs is refused (LB_EUNAUTH). Written only by the
 * consortium module's governance txs (business chain; docs/consortium.md). */
#define LB_KEYMAP_REMOVED 'X'

/* ---- the tx-type table ------------------------------------------------------------------- */

/* One row per tx type. Upper modules register their rows at start-up (before
 * lb_ledger_open); the ledger core never names a type. */
struct lb_txtype {
	uint32_t id;         /* wire id, unique; 0x01xx settlement, 0x02xx directory, 0x03xx business */
	int chain;           /* the chain it belongs to */
	const char *name;    /* "transfer", "asset.register", ... (unique) */
	/* Stateless payload check (decode, ranges). LB_EMALFORMED / LB_EINVALID with a message. */
	int (*check)(const struct lb_tx *tx, struct lb_errmsg *em);
	/* Apply to state. Return an lb_err with a message in ctx->em to refuse; the ledger then
	 * discards the tx's writes. Must be deterministic. */
	int (*apply)(struct lb_apply_ctx *ctx);
	/* JSON view of the payload (new reference), or NULL. */
	json_t *(*to_json)(const struct lb_tx *tx);
	bool fee_exempt;     /* default fee exemption (genesis may override) */
};

/* Add a row (copied). LB_EEXISTS if the id or name is taken. Thread-safe. */
int lb_txtype_register(const struct lb_txtype *t);
/* Declare that the registered type id's apply reads only the state and the tx, never
 * ctx->height or ctx->time_ms. The writes a tx of such a type made on admission are then
 * reused when it is committed right after the txs admitted before it (no second
 * application; faster commits). Without it the tx is applied again in its block, which is
 * always right, and the mempool is rebuilt after that block. LB_ENOTFOUND if the id is not
 * registered. Call after lb_txtype_register, before any ledger is opened. */
int lb_txtype_mark_block_independent(uint32_t id);
/* The same for the txs of the type for which when(tx) is true (a pure function of the tx,
 * called once it applied on admission): a type whose apply reads the height only for some
 * payloads. */
int lb_txtype_mark_block_independent_when(uint32_t id, bool (*when)(const struct lb_tx *tx));
/* A module's whole table: registers rows[0..n) (rows already registered are skipped, so it is
 * idempotent) and, when all_block_independent, marks every one of them as above. */
int lb_txtype_register_rows(const struct lb_txtype *rows, size_t n, bool all_block_independent);
/* Borrowed rows; NULL if unknown. */
const struct lb_txtype *lb_txtype_find(uint32_t id);
const struct lb_txtype *lb_txtype_by_name(const char *name);
/* Register the spine's own types (settlement, directory, business core). Idempotent. */
int lb_ledger_register_core_types(void);

/* Tx type ids of the spine. */
enum {
	LB_TX_ISSUE = 0x0101,
	LB_TX_TRANSFER = 0x0102,
	LB_TX_BURN = 0x0103,
	LB_TX_CONVERT = 0x0104,
	LB_TX_ASSET_REGISTER = 0x0201,
	LB_TX_ASSET_UPDATE = 0x0202,
	LB_TX_ASSET_RETIRE = 0x0203,
	LB_TX_IDENTITY_REGISTER = 0x0301,
	LB_TX_RECORD = 0x0302,
};

/* ---- genesis -------------------------------------------------------------------------------- */

/* Create <home>/genesis.json from a JSON description (see docs/operations.md): network name,
 * time, proposer key, credit partners, conversion rate, fee schedule, initial balances.
 * The network id is BLAKE2b-256 of the file's bytes. */
int lb_genesis_write(const char *home, json_t *genesis, struct lb_errmsg *em);

/* A module's part of genesis: called with the parsed genesis.json (borrowed) for each chain's
 * genesis state, after the core's own entries. Must be deterministic. Register at start-up
 * like tx types (before lb_ledger_open / lb_ledger_verify_home); registering the same function
 * twice is a no-op. LB_ELIMIT when the table is full. */
typedef int (*lb_genesis_fn)(json_t *genesis, int chain, struct lb_state *s,
			     struct lb_errmsg *em);
int lb_genesis_hook_register(lb_genesis_fn fn);

/* ---- the ledger ---------------------------------------------------------------------------- */

struct lb_ledger;

struct lb_ledger_options {
	const char *home;          /* node home directory (borrowed for the call) */
	bool sync_full;            /* fsync every block commit (default true) */
	size_t mempool_max_txs;    /* per chain; default 100000 */
	size_t mempool_max_bytes;  /* per chain; default 64 MiB */
	/* Called for every admitted tx, in admission order per chain, while the ledger holds
	 * that chain's admission lock (so it must be quick and must not call back into the
	 * ledger): the orderer's submit. May be NULL. */
	void (*on_admitted)(void *ctx, int chain, const uint8_t *raw, size_t len);
	void *on_admitted_ctx;
	/* Make blocks without proposer key and signature (all zero), so that every member of a
	 * consortium ordered by etcd commits byte-identical blocks (default false: the node
	 * signs the blocks it makes). */
	bool unsigned_blocks;
	/* Called when someone asks for a proof of a committed tx anchored in a chain that has no
	 * block after the tx's block yet (lb_ledger_proof): the orderer should make a block of
	 * that chain soon, an empty one if no tx waits, so that no one waits on unrelated
	 * traffic (docs/architecture.md, "Anchors"). Must be quick; may be NULL (then the proof
	 * is refused at once, as before). */
	void (*on_anchor_wanted)(void *ctx, int chain);
	void *on_anchor_wanted_ctx;
	/* Keep no write-ahead log of accepted txs: the orderer makes them durable before the
	 * API answers (etcd stores them first). A log left in the home is removed by
	 * lb_ledger_replay_wal, unreplayed. Default false. */
	bool no_wal;
	/* Check every signature one by one instead of in batches (tests: admission and blocks
	 * must give the same answers either way; docs/security.md). Default false. */
	bool sig_one_by_one;
};
void lb_ledger_options_init(struct lb_ledger_options *o);

/* Open (creating the chain databases from genesis.json on first use) the ledger in
 * opt->home. proposer is copied and signs blocks this node makes (may be NULL for a
 * read-only ledger). */
int lb_ledger_open(struct lb_ledger **out, const struct lb_ledger_options *opt,
		   const struct lb_keypair *proposer, struct lb_errmsg *em);
void lb_ledger_close(struct lb_ledger *l);
const uint8_t *lb_ledger_network_id(const struct lb_ledger *l);

/* Result of submitting one tx. */
struct lb_submit_result {
	uint8_t id[LB_HASH_LEN];   /* tx id (zero if the bytes could not be decoded) */
	int chain;                 /* -1 if undecodable */
	int code;                  /* LB_OK = admitted */
	char message[512];         /* why it was refused */
};

/* Admit again the txs of each chain's write-ahead log (<home>/chains/<chain>.wal: txs accepted
 * but not committed when the node last stopped or crashed; with no_wal the file is removed
 * instead), reporting each through
 * on_admitted; txs committed since or no longer valid are dropped with a log line, a torn tail
 * is ignored. Call once, after the orderer can take txs; until then commits do not shrink the
 * log. LB_EIO if the log cannot be read or rewritten. */
int lb_ledger_replay_wal(struct lb_ledger *l, struct lb_errmsg *em);

/* Decode, verify signatures (in parallel over all cores), then admit in order each of n
 * raw txs. Admission makes every check applying it would make, against committed state plus
 * earlier admitted txs; a refused tx changes nothing. Returns LB_OK (see per-tx results). */
int lb_ledger_submit(struct lb_ledger *l, size_t n, const uint8_t *const *raws,
		     const size_t *lens, struct lb_submit_result *results);

/* One ordered block cut handed back by the orderer. */
struct lb_cut {
	int chain;                 /* chain of every tx in it */
	uint64_t time_ms;          /* block time (the ledger keeps it non-decreasing) */
	size_t n;                  /* number of txs */
	const uint8_t *const *raws;/* borrowed tx bytes */
	const size_t *lens;
};
/* Apply a cut as the next block of its chain: every tx applied in order (invalid ones stay
 * in the block, marked in the validity bitmap, changing nothing), header made and signed,
 * all committed in one SQL transaction. Height of the new block in *height.
 * Threads: lb_ledger_submit, the queries and lb_ledger_commit may run at the same time;
 * admission of a chain goes on while one of its blocks is applied and written (commits of a
 * chain are serialised). When the cut starts with the txs at the head of the chain's mempool,
 * their admission writes are reused (see lb_txtype_mark_block_independent). */
int lb_ledger_commit(struct lb_ledger *l, const struct lb_cut *cut, uint64_t *height,
		     struct lb_errmsg *em);
/* Orderer position (opaque to the ledger; copied, at most LB_CURSOR_MAX bytes) to be stored
 * with the next block of chain that lb_ledger_commit makes, in the same SQL transaction, so
 * that a restarted orderer resumes exactly after the last committed block (lb_ledger_cursor).
 * That commit consumes it. For an orderer that commits from one thread. */
#define LB_CURSOR_MAX 64
int lb_ledger_cursor_set(struct lb_ledger *l, int chain, const uint8_t *cursor, size_t len);

/* ---- queries (JSON views for the API; caller owns the returned reference) ------------------ */

int lb_ledger_status_json(struct lb_ledger *l, json_t **out);
int lb_ledger_chains_json(struct lb_ledger *l, json_t **out);
/* height UINT64_MAX means the latest block. */
int lb_ledger_block_json(struct lb_ledger *l, int chain, uint64_t height, json_t **out,
			 struct lb_errmsg *em);
/* Status (pending / committed / invalid), block, position, decoded fields and the
 * inclusion proof (hex) of a tx. LB_ENOTFOUND for an id never seen. */
int lb_ledger_tx_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
		      struct lb_errmsg *em);
/* Balances, identity and the next usable nonce on each chain (mempool included). */
int lb_ledger_account_json(struct lb_ledger *l, const uint8_t addr[LB_ADDR_LEN], json_t **out,
			   struct lb_errmsg *em);
/* Binary inclusion proof of a committed tx, anchored in the first block of anchor_chain
 * that anchors it (or -1 for none). When anchor_chain has no such block yet and the ledger
 * has on_anchor_wanted, it asks for one and waits for it (at most LB_ANCHOR_WAIT_MS, without
 * holding any lock), so that the caller gets the proof instead of waiting on other traffic;
 * LB_ENOTFOUND if none came. */
#define LB_ANCHOR_WAIT_MS 5000
int lb_ledger_proof(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], int anchor_chain,
		    struct lb_buf *out, struct lb_errmsg *em);
/* Signed bytes of a committed tx (caller frees *raw with lb_free); its chain in *chain.
 * LB_ENOTFOUND if it is not committed on this node. */
int lb_ledger_tx_raw(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], int *chain,
		     uint8_t **raw, size_t *len);
/* Next nonce the sender with this address should use on chain (mempool included). */
uint64_t lb_ledger_next_nonce(struct lb_ledger *l, int chain, const uint8_t addr[LB_ADDR_LEN]);
/* Orderer position stored with the latest block of chain that had one (lb_ledger_cursor_set)
 * into out (exactly len bytes). LB_ENOTFOUND if none was stored, LB_ECORRUPT if the stored
 * one has another length. */
int lb_ledger_cursor(struct lb_ledger *l, int chain, uint8_t *out, size_t len);
/* Call fn with a read-only view of chain's committed state, for several reads that must see
 * one block (one value alone: lb_ledger_state_read). It holds the chain's lock, so fn must be
 * quick. Writes fn makes are discarded. Returns what fn returns (LB_EINVALID for an unknown
 * chain). Used by the read side of modules that keep their own state (knowledge contracts). */
int lb_ledger_state_view(struct lb_ledger *l, int chain,
			 int (*fn)(struct lb_state *s, void *ctx), void *ctx);
/* This node's key (the block signer given to lb_ledger_open): its public key into pk. */
int lb_ledger_node_pk(struct lb_ledger *l, uint8_t pk[LB_PUBKEY_LEN], struct lb_errmsg *em);
/* Pairwise secret of this node's key and another node's public key: X25519 of both Ed25519
 * keys converted to Curve25519, hashed with both public keys (so either side derives the same
 * 32 bytes). The secret key never leaves the ledger. LB_EUNAVAILABLE without a node key,
 * LB_EINVALID for a peer key that is not a valid point. Wipe out after use. */
int lb_ledger_node_agree(struct lb_ledger *l, const uint8_t peer_pk[LB_PUBKEY_LEN],
			 uint8_t out[32], struct lb_errmsg *em);
/* Sign a tx of type on chain with this node's key (its next nonce on chain, the chain's
 * minimum fee for the type on the settlement chain, no fee elsewhere) and submit it as POST
 * /v1/txs does; payload is borrowed. LB_OK once admitted (id = the tx id; it reaches a block
 * through the orderer), else the admission's refusal in em. LB_EUNAVAILABLE without a node
 * key. */
int lb_ledger_node_submit(struct lb_ledger *l, int chain, uint32_t type, const uint8_t *payload,
			  size_t len, uint8_t id[LB_HASH_LEN], struct lb_errmsg *em);
/* Latest committed height of chain. */
uint64_t lb_ledger_height(struct lb_ledger *l, int chain);
/* Txs waiting in the mempool of chain. */
size_t lb_ledger_pending(struct lb_ledger *l, int chain);
/* Committed value under (ns, key) of chain's state, copied into out (reset first).
 * LB_ENOTFOUND if absent. */
int lb_ledger_state_read(struct lb_ledger *l, int chain, const char *ns, const void *key,
			 size_t klen, struct lb_buf *out, struct lb_errmsg *em);
/* Header hash and app hash of a committed block (either may be NULL). LB_ENOTFOUND above
 * the tip. */
int lb_ledger_block_hashes(struct lb_ledger *l, int chain, uint64_t height,
			   uint8_t hash[LB_HASH_LEN], uint8_t app_hash[LB_HASH_LEN],
			   struct lb_errmsg *em);

/* ---- catch-up from a peer ------------------------------------------------------------------- */

/* A consistent point to copy from: every chain's height and the orderer cursor stored with
 * that block (length 0: none), read while no block commits, so no block up to these heights
 * anchors one above them. */
int lb_ledger_snapshot_point(struct lb_ledger *l, uint64_t heights[LB_CHAIN_COUNT],
			     uint8_t cursors[LB_CHAIN_COUNT][LB_CURSOR_MAX],
			     size_t cursor_lens[LB_CHAIN_COUNT], struct lb_errmsg *em);
/* The stored header and body bytes of a block (buffers reset first). */
int lb_ledger_block_raw(struct lb_ledger *l, int chain, uint64_t height, struct lb_buf *header,
			struct lb_buf *body, struct lb_errmsg *em);
/* Import a peer's block (its stored header and body bytes) as the next block of its chain:
 * its txs are committed here as a cut with the header's time (cursor, if given, stored with
 * it) and the resulting block must have the header's hash, else LB_ECORRUPT (the block stays
 * committed: the ledger is then unusable for serving; start again from an empty home).
 * Blocks of the three chains must come in an order where each block's anchors are the other
 * chains' heights at that point (the order the peer committed them in). */
int lb_ledger_import_block(struct lb_ledger *l, const uint8_t *header, size_t hlen,
			   const uint8_t *body, size_t blen, const uint8_t *cursor,
			   size_t cursor_len, struct lb_errmsg *em);

/* ---- offline verification ------------------------------------------------------------------ */

/* Where a chain database is damaged (lb_ledger_check_home). */
struct lb_ledger_damage {
	int chain;          /* -1: none found */
	uint64_t height;    /* the damaged block, when height_known */
	bool height_known;  /* false: the file itself (SQLite's check or opening it) failed */
	char what[512];     /* "settlement chain, block 41: ..." */
};

/* Start-up check of home's chain databases (absent files are skipped): SQLite's quick check
 * of each file, then from each chain's tip down `depth` blocks that every row decodes, is at
 * its chain and height, carries its header's hash, is linked to by the block above and holds
 * the txs of its Merkle root. LB_ECORRUPT with *d filled in when something is damaged. Cost:
 * reading and hashing depth+1 blocks per chain. */
int lb_ledger_check_home(const char *home, uint64_t depth, struct lb_ledger_damage *d,
			 struct lb_errmsg *em);

/* Replay every chain in home from genesis into a fresh state and check every block hash,
 * proposer signature, tx signature, Merkle root, validity bit, anchor and app hash.
 * progress(chain, height, top, ctx) is called now and then (may be NULL). */
int lb_ledger_verify_home(const char *home,
			  void (*progress)(int chain, uint64_t height, uint64_t top, void *ctx),
			  void *ctx, struct lb_errmsg *em);

#endif
