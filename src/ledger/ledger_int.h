/*
 * Internals shared by the ledger's files: the layered key-value state, the per-chain SQLite
 * store, the mempool and the ledger handle.
 */
#ifndef LEBEN_LEDGER_INT_H
#define LEBEN_LEDGER_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "base/pool.h"
#include "leben/ledger.h"

/* ---- layered state (state.c) ------------------------------------------------------------ */

/* One write in a layer; the composite key is [ns length u8][ns][key]. */
struct kv_entry {
	uint8_t *key;      /* owned composite key, NULL = empty slot */
	uint8_t *val;      /* owned value, NULL for a deletion */
	uint32_t klen;
	uint32_t vlen;
	uint64_t hash;     /* hash of the key */
	uint64_t seq;      /* mempool: admission number of the last tx that wrote it */
};

struct kv_map {
	struct kv_entry *slots; /* open addressing, linear probing */
	size_t cap;             /* power of two or 0 */
	size_t count;           /* occupied slots */
};

struct chain_db;

/* A state view: writes in `map`, reads falling through to `parent`, then to the database. */
struct lb_state {
	struct lb_state *parent;   /* layer below, or NULL for the committed state */
	struct chain_db *db;       /* committed state (used when parent is NULL) */
	struct kv_map map;         /* this layer's writes */
	uint64_t seq;              /* sequence number stamped on writes (mempool overlay) */
	struct lb_buf readbuf;     /* value last read from the database */
	struct lb_state *scratch;  /* reusable layer over this one for applying one tx */
	/* Read cache of the committed state under this (bottom) layer: values read from the
	 * database and the keys found absent there (val NULL). Only the mempool overlay has one
	 * (state_cache_enable); it is used under the chain lock only and emptied whenever a block
	 * changes the database (state_cache_clear, under the same lock). */
	bool cached;
	struct kv_map cache;
};

void state_init(struct lb_state *s, struct lb_state *parent, struct chain_db *db);
void state_release(struct lb_state *s);
void state_clear(struct lb_state *s);
/* Keep a read cache of the database under s (s has no parent); state_cache_clear empties it
 * (the database changed). state_cache_size: entries held. */
void state_cache_enable(struct lb_state *s);
void state_cache_clear(struct lb_state *s);
size_t state_cache_size(const struct lb_state *s);
/* The reusable scratch layer over parent (created on first use, freed with parent), with
 * parent's seq; NULL if out of memory. Empty it with state_scratch_reset after each use. */
struct lb_state *state_scratch(struct lb_state *parent);
void state_scratch_reset(struct lb_state *s);
/* Move every write of child into parent (child is left empty, even on failure). */
int state_merge(struct lb_state *parent, struct lb_state *child);
/* Hash the canonical write-set of s (entries sorted by key) after prev into app. */
int state_app_hash(struct lb_state *s, const uint8_t prev[LB_HASH_LEN],
		   uint8_t app[LB_HASH_LEN]);
/* Write every entry of s to the database (inside the caller's SQL transaction). */
int state_flush(struct lb_state *s, struct lb_errmsg *em);
/* The writes of s as one buffer (*out, caller frees) that state_writes_apply can replay. */
int state_writes_encode(struct lb_state *s, uint8_t **out, size_t *len);
/* Store every write of an encoded buffer into s (as if made there). */
int state_writes_apply(struct lb_state *s, const uint8_t *ws, size_t len);
/* Drop entries whose seq <= upto (the mempool overlay after a commit). */
int state_prune(struct lb_state *s, uint64_t upto);

/* ---- per-chain database (store.c) -------------------------------------------------------- */

struct chain_db {
	sqlite3 *db;
	int chain;
	sqlite3_stmt *get_state, *put_state, *del_state;
	sqlite3_stmt *put_block, *put_txloc, *get_txloc, *get_block, *get_block_hash;
	sqlite3_stmt *begin, *begin_read, *commit, *rollback;
	sqlite3_stmt *data_version; /* changes when another connection committed */
};

int db_open(struct chain_db *c, const char *path, int chain, bool sync_full,
	    struct lb_errmsg *em);
void db_close(struct chain_db *c);
int db_exec(struct chain_db *c, const char *sql, struct lb_errmsg *em);
/* Latest block: height and header (decoded). LB_ENOTFOUND on an empty database. */
int db_tip(struct chain_db *c, struct lb_block_header *h, uint8_t hash[LB_HASH_LEN],
	   struct lb_errmsg *em);
/* Header and body (concatenated length-prefixed txs) of a block; caller frees *body. */
int db_block(struct chain_db *c, uint64_t height, struct lb_block_header *h,
	     uint8_t **body, size_t *body_len, struct lb_errmsg *em);
int db_meta_get(struct chain_db *c, const char *k, uint8_t *out, size_t n);
int db_meta_put(struct chain_db *c, const char *k, const uint8_t *v, size_t n);

/* Location of a committed tx. */
struct txloc {
	uint64_t height;
	uint32_t index;
	bool valid;
	int code;          /* why it was invalid */
	char message[256];
};
int db_txloc(struct chain_db *c, const uint8_t id[LB_HASH_LEN], struct txloc *loc);

/* ---- mempool (mempool.c) ----------------------------------------------------------------- */

struct pending {
	uint8_t id[LB_HASH_LEN];
	uint64_t seq;          /* admission number */
	uint8_t *raw;          /* owned copy */
	size_t len;
	/* The tx's writes on admission (state_writes_encode), applied onto the committed state
	 * plus every pending tx before it; NULL if its type is not marked block-independent or a
	 * commit took them. Kept right by mempool_rebuild. */
	uint8_t *ws;
	size_t ws_len;
	struct pending *next;  /* FIFO */
	struct pending *hnext; /* id hash chain */
};

struct mempool {
	struct pending *head, *tail;  /* admission order */
	struct pending **table;       /* by id */
	size_t table_cap;
	size_t count, bytes;
	uint64_t next_seq;
	struct lb_state overlay;      /* committed state + every pending tx */
};

/* ---- the ledger (ledger.c) ---------------------------------------------------------------- */

/* Two connections per chain database: `db` serves admission and queries (under mu), `wdb`
 * applies and writes blocks (under commit_mu), so admission goes on while a block commits.
 * WAL keeps a reader's view consistent: admission reads inside one read transaction per
 * batch, and the mempool overlay is pruned (under mu) only after the block is in the file. */
/* Write-ahead log of accepted txs (wal.c): length-prefixed, checksummed records of tx bytes.
 * Records are written under the chain lock (file order = admission order); the sync runs
 * outside it, and one fdatasync serves every batch written before it began (group commit). */
struct wal {
	int fd;           /* -1: closed (or no log: the orderer makes txs durable itself) */
	uint64_t bytes;   /* current file size */
	uint64_t written; /* bytes ever written (atomic; grows under the chain lock) */
	uint64_t synced;  /* of those, known to be on disk (under sync_mu) */
	uint64_t syncs;   /* fdatasync calls made for appends (under sync_mu; tests) */
	pthread_mutex_t sync_mu;
	bool replayed;    /* lb_ledger_replay_wal done: only then may a commit shrink the log */
	char path[4300];
};
struct mempool;
/* Open (create) the log at path for appending. */
int wal_open(struct wal *w, const char *path, struct lb_errmsg *em);
void wal_close(struct wal *w);
/* Write n records (chain lock held); *upto is what wal_sync must cover for them. */
int wal_write(struct wal *w, size_t n, const uint8_t *const *raws, const size_t *lens,
	      uint64_t *upto);
/* Make the records written up to upto durable: returns at once if a sync that began after
 * they were written has finished, else syncs (for every writer waiting). No chain lock. */
int wal_sync(struct wal *w, uint64_t upto);
/* wal_write then wal_sync (tests, single-threaded use). */
int wal_append(struct wal *w, size_t n, const uint8_t *const *raws, const size_t *lens);
/* Call each(ctx, raw, len) for every whole record of the log at path (a missing file has none),
 * reading it in pieces (memory: the largest record, not the file); *torn is the number of bytes
 * of a torn or corrupt tail that were ignored. */
int wal_replay(const char *path, int (*each)(void *ctx, const uint8_t *raw, size_t len),
	       void *ctx, size_t *torn, struct lb_errmsg *em);
/* Replace the log atomically by the txs pending in m (chain lock held). */
int wal_rewrite(struct wal *w, const struct mempool *m);
/* After a commit: truncate the log when m is empty, rewrite it when it is far larger than m. */
void wal_after_commit(struct wal *w, const struct mempool *m);

struct chain {
	int id;
	pthread_mutex_t mu;              /* guards db, tip, tip_hash and mp */
	pthread_mutex_t commit_mu;       /* one commit at a time; guards wdb */
	struct chain_db db;              /* reader: admission, mempool, queries */
	struct chain_db wdb;             /* writer: blocks */
	struct lb_block_header tip;      /* latest block (changed under mu and commit_mu) */
	uint8_t tip_hash[LB_HASH_LEN];
	struct mempool mp;
	uint64_t reused_writes;          /* txs committed with their admission writes (tests) */
	uint8_t cursor[LB_CURSOR_MAX];   /* orderer position for the next block (lb_ledger_cursor_set);
					  * guarded by commit_mu */
	size_t cursor_len;               /* 0: none */
	struct wal wal;                  /* accepted txs not yet committed; guarded by mu */
	int64_t cache_version;           /* db's data_version the overlay's read cache was filled
					  * at (chain_lock_view); guarded by mu */
};

struct lb_ledger {
	char home[4096];
	uint8_t network[LB_HASH_LEN];
	bool has_proposer;
	struct lb_keypair proposer;
	struct lb_ledger_options opt;
	struct chain chains[LB_CHAIN_COUNT];
	struct lb_pool *pool;
	bool replaying;  /* admitting txs from the write-ahead logs: do not log them again */
};

/* Take the chain's lock and open one read transaction on its reader connection, so that
 * several reads see one block even while the writer commits the next one (and take no file
 * lock each). Used by admission (a batch at a time) and by queries that read more than one
 * value. */
/* Checks the signatures of n txs in batches (lb_sigs_are_valid), in chunks across the pool:
 * tx_at(ctx, i) gives tx i (decoded from raws[i]) or NULL to skip it; on_bad(ctx, i) is called
 * for each tx whose signature is not valid. */
void ledger_check_sigs(struct lb_ledger *l, size_t n, const uint8_t *const *raws,
		       const struct lb_tx *(*tx_at)(void *ctx, size_t i),
		       void (*on_bad)(void *ctx, size_t i), void *ctx);
void chain_lock_view(struct chain *c);
void chain_unlock_view(struct chain *c);

/* Apply one tx onto state s (in a scratch layer that is merged only on success): type and
 * chain, expiry, nonce, fee, then the handler. */
int ledger_apply_tx(struct lb_state *s, int chain, const struct lb_tx *tx, uint64_t height,
		    uint64_t time_ms, struct lb_errmsg *em);
/* The same, and if ws is not NULL and the tx's type is marked block-independent, its writes in *ws
 * (caller frees; NULL otherwise or when out of memory). */
int ledger_apply_tx_ws(struct lb_state *s, int chain, const struct lb_tx *tx, uint64_t height,
		       uint64_t time_ms, struct lb_errmsg *em, uint8_t **ws, size_t *ws_len);
/* Genesis state of a chain from the parsed genesis file. */
int genesis_state(json_t *g, int chain, struct lb_state *s, uint64_t *time_ms,
		  struct lb_errmsg *em);
int genesis_load(const char *home, json_t **g, uint8_t network[LB_HASH_LEN],
		 struct lb_errmsg *em);
/* The genesis block header of a chain whose genesis state hashes to app. */
void genesis_header(struct lb_block_header *h, int chain, uint64_t time_ms,
		    const uint8_t app[LB_HASH_LEN]);

/* State key of a tx type's minimum fee (namespace "fee"): the type id, big endian. */
static inline void ledger_fee_key(uint32_t type, uint8_t out[4])
{
	out[0] = (uint8_t)(type >> 24);
	out[1] = (uint8_t)(type >> 16);
	out[2] = (uint8_t)(type >> 8);
	out[3] = (uint8_t)type;
}
/* Lowercase hex JSON string of n bytes (new reference); null if out of memory. */
json_t *ledger_hex_json(const uint8_t *p, size_t n);

/* Helpers for the core tx handlers and queries. */
int acct_balances(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN], uint64_t *asc,
		  uint64_t *csc);
/* Burn the tx fee from the sender's CSC (settlement chain). */
int ledger_charge_fee(struct lb_apply_ctx *c, uint64_t fee);
int acct_set_balances(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN], uint64_t asc,
		      uint64_t csc);



/* mempool.c */
void mempool_init(struct mempool *m, struct chain_db *db);
void mempool_release(struct mempool *m);
struct pending *mempool_find(struct mempool *m, const uint8_t id[LB_HASH_LEN]);
/* Add a tx (raw copied; ws owned from here on, freed on failure too). */
int mempool_add(struct mempool *m, const uint8_t id[LB_HASH_LEN], const uint8_t *raw,
		size_t len, uint64_t seq, uint8_t *ws, size_t ws_len);
uint64_t mempool_pop_head_if(struct mempool *m, const uint8_t id[LB_HASH_LEN]);
void mempool_remove(struct mempool *m, const uint8_t id[LB_HASH_LEN]);
void mempool_rebuild(struct mempool *m, int chain, uint64_t height, uint64_t time_ms,
		     void (*drop)(void *ctx, const uint8_t *id, int code, const char *msg),
		     void *ctx);
#endif
