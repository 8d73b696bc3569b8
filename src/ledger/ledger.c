/*
 * The ledger of a node: opens the three chain databases (creating block 0 from genesis on
 * first use), keeps the tx-type table, applies txs with the generic checks every type gets
 * (chain, expiry, nonce, fee), admits txs into the mempool with parallel signature checks,
 * and commits ordered cuts as signed blocks, each in one SQL transaction.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "leben/codec.h"
#include "ledger/ledger_int.h"

/* ---- tx-type table ------------------------------------------------------------------------- */

#define MAX_TYPES 256
static struct lb_txtype types[MAX_TYPES];
static bool independent[MAX_TYPES]; /* lb_txtype_mark_block_independent, by row */
/* lb_txtype_mark_block_independent_when, by row: which txs of the type are */
static bool (*independent_when[MAX_TYPES])(const struct lb_tx *tx);
static size_t ntypes;
static pthread_mutex_t types_mu = PTHREAD_MUTEX_INITIALIZER;

int lb_txtype_register(const struct lb_txtype *t)
{
	int rc = LB_OK;
	pthread_mutex_lock(&types_mu);
	for (size_t i = 0; i < ntypes; i++)
		if (types[i].id == t->id || !strcmp(types[i].name, t->name))
			rc = LB_EEXISTS;
	if (!rc && ntypes == MAX_TYPES)
		rc = LB_ELIMIT;
	if (!rc && (t->chain < 0 || t->chain >= LB_CHAIN_COUNT || !t->apply || !t->name))
		rc = LB_EINVALID;
	if (!rc)
		types[ntypes++] = *t;
	pthread_mutex_unlock(&types_mu);
	return rc;
}

/* Mark the row of id: always independent, or when when(tx) says so. */
static int mark_independent(uint32_t id, bool always, bool (*when)(const struct lb_tx *tx))
{
	int rc = LB_ENOTFOUND;
	pthread_mutex_lock(&types_mu);
	for (size_t i = 0; i < ntypes; i++)
		if (types[i].id == id) {
			independent[i] = independent[i] || always;
			independent_when[i] = when ? when : independent_when[i];
			rc = LB_OK;
		}
	pthread_mutex_unlock(&types_mu);
	return rc;
}

int lb_txtype_mark_block_independent(uint32_t id)
{
	return mark_independent(id, true, NULL);
}

int lb_txtype_mark_block_independent_when(uint32_t id, bool (*when)(const struct lb_tx *tx))
{
	return mark_independent(id, false, when);
}

int lb_txtype_register_rows(const struct lb_txtype *rows, size_t n, bool all_block_independent)
{
	for (size_t i = 0; i < n; i++) {
		int rc = lb_txtype_register(&rows[i]);
		if (rc && rc != LB_EEXISTS)
			return rc;
		if (all_block_independent && (rc = lb_txtype_mark_block_independent(rows[i].id)))
			return rc;
	}
	return LB_OK;
}

/* t is a row of types[] (from lb_txtype_find). Rows are only ever added, and marked before
 * any ledger is opened. */
static bool txtype_block_independent(const struct lb_txtype *t, const struct lb_tx *tx)
{
	size_t i = (size_t)(t - types);
	return independent[i] || (independent_when[i] && independent_when[i](tx));
}

const struct lb_txtype *lb_txtype_find(uint32_t id)
{
	const struct lb_txtype *r = NULL;
	pthread_mutex_lock(&types_mu);
	for (size_t i = 0; i < ntypes && !r; i++)
		if (types[i].id == id)
			r = &types[i];
	pthread_mutex_unlock(&types_mu);
	return r;
}

const struct lb_txtype *lb_txtype_by_name(const char *name)
{
	const struct lb_txtype *r = NULL;
	pthread_mutex_lock(&types_mu);
	for (size_t i = 0; i < ntypes && !r; i++)
		if (!strcmp(types[i].name, name))
			r = &types[i];
	pthread_mutex_unlock(&types_mu);
	return r;
}

/* Stateless checks of a decoded tx: type known and on the tx's chain, payload well formed. */
static int tx_check_stateless(const struct lb_tx *tx, const struct lb_txtype **type,
			      struct lb_errmsg *em)
{
	const struct lb_txtype *t = lb_txtype_find(tx->type);
	if (!t)
		return lb_errf(em, LB_EUNKNOWNTYPE,
			       "tx type 0x%04x is not known to this node (is the node older than "
			       "the client?)",
			       tx->type);
	if (t->chain != tx->chain)
		return lb_errf(em, LB_EWRONGCHAIN,
			       "'%s' txs belong to the %s chain, but this tx names the %s chain",
			       t->name, lb_chain_name(t->chain), lb_chain_name(tx->chain));
	if (t->check) {
		int rc = t->check(tx, em);
		if (rc)
			return rc;
	}
	if (type)
		*type = t;
	return LB_OK;
}

/* ---- applying one tx ----------------------------------------------------------------------- */

/* Key rotation hook (see LB_KEYMAP_NS in ledger.h): the account a signing key acts for. */
static int ledger_key_account(struct lb_state *s, const uint8_t key_addr[LB_ADDR_LEN],
			      uint8_t account[LB_ADDR_LEN], struct lb_errmsg *em)
{
	const uint8_t *v;
	size_t n;
	memcpy(account, key_addr, LB_ADDR_LEN);
	int rc = lb_state_get(s, LB_KEYMAP_NS, key_addr, LB_ADDR_LEN, &v, &n);
	if (rc == LB_ENOTFOUND)
		return LB_OK;
	if (rc)
		return lb_errf(em, rc, "cannot read the key map of this sender");
	if (n != 1 + LB_ADDR_LEN || (v[0] != LB_KEYMAP_ACTS_FOR && v[0] != LB_KEYMAP_REPLACED &&
				     v[0] != LB_KEYMAP_REMOVED))
		return lb_errf(em, LB_ECORRUPT, "key map entry of this sender is malformed");
	if (v[0] == LB_KEYMAP_REMOVED) {
		char t[LB_ADDR_TEXT_LEN + 1];
		lb_addr_encode(t, v + 1);
		return lb_errf(em, LB_EUNAUTH,
			       "this key belongs to consortium member %s, removed by a governance "
			       "vote, or to an account that member vouched for: the consortium "
			       "refuses its txs (ask a current member to vouch for the account)",
			       t);
	}
	if (v[0] == LB_KEYMAP_REPLACED)
		return lb_errf(em, LB_EUNAUTH, "this signing key was replaced by a key reset of its "
					       "account; sign with the account's new key");
	memcpy(account, v + 1, LB_ADDR_LEN);
	return LB_OK;
}

int ledger_apply_tx(struct lb_state *s, int chain, const struct lb_tx *tx, uint64_t height,
		    uint64_t time_ms, struct lb_errmsg *em)
{
	return ledger_apply_tx_ws(s, chain, tx, height, time_ms, em, NULL, NULL);
}

int ledger_apply_tx_ws(struct lb_state *s, int chain, const struct lb_tx *tx, uint64_t height,
		       uint64_t time_ms, struct lb_errmsg *em, uint8_t **ws, size_t *ws_len)
{
	const struct lb_txtype *t;
	if (ws)
		*ws = NULL;
	int rc = tx_check_stateless(tx, &t, em);
	if (rc)
		return rc;
	if (tx->chain != chain)
		return lb_errf(em, LB_EWRONGCHAIN, "tx for the %s chain cannot go into the %s chain",
			       lb_chain_name(tx->chain), lb_chain_name(chain));
	if (tx->expires_ms && time_ms > tx->expires_ms)
		return lb_errf(em, LB_EEXPIRED,
			       "tx expired at %llu ms, %llu ms before this block; sign it again "
			       "with a later expiry",
			       (unsigned long long)tx->expires_ms,
			       (unsigned long long)(time_ms - tx->expires_ms));

	struct lb_state *scratch = state_scratch(s);
	if (!scratch)
		return lb_errf(em, LB_ENOMEM, "out of memory applying the tx");
	struct lb_apply_ctx ctx = {.state = scratch, .tx = tx, .height = height,
				   .time_ms = time_ms, .em = em};
	uint8_t key_addr[LB_ADDR_LEN];
	lb_addr_from_pubkey(key_addr, tx->sender);
	if ((rc = ledger_key_account(scratch, key_addr, ctx.sender_addr, em)))
		goto out;

	uint64_t nonce, minfee;
	uint8_t tk[4];
	ledger_fee_key(tx->type, tk);
	if ((rc = lb_state_get_u64(scratch, "nonce", key_addr, LB_ADDR_LEN, 0, &nonce)))
		goto out;
	if (tx->nonce < nonce) {
		rc = lb_errf(em, LB_ENONCEUSED,
			     "nonce %llu was already used by this sender (next is %llu)",
			     (unsigned long long)tx->nonce, (unsigned long long)nonce);
		goto out;
	}
	if (tx->nonce > nonce) {
		rc = lb_errf(em, LB_ENONCEGAP,
			     "nonce %llu skips ahead: this sender's next nonce is %llu",
			     (unsigned long long)tx->nonce, (unsigned long long)nonce);
		goto out;
	}
	if ((rc = lb_state_get_u64(scratch, "param", "fee.default", 11, 0, &minfee)) ||
	    (rc = lb_state_get_u64(scratch, "fee", tk, 4, minfee, &minfee)))
		goto out;
	if (chain != LB_CHAIN_SETTLEMENT && tx->fee) {
		rc = lb_errf(em, LB_EINVALID,
			     "%s-chain txs carry no fee (fees are paid on the settlement chain); "
			     "set the fee to 0",
			     lb_chain_name(chain));
		goto out;
	}
	if (tx->fee < minfee) {
		rc = lb_errf(em, LB_EINVALID, "fee %llu micro-CSC is below the minimum of %llu for '%s'",
			     (unsigned long long)tx->fee, (unsigned long long)minfee, t->name);
		goto out;
	}
	if (tx->fee && (rc = ledger_charge_fee(&ctx, tx->fee)))
		goto out;
	if ((rc = t->apply(&ctx))) {
		if (!em || !em->text[0])
			lb_errf(em, rc, "%s refused: %s", t->name, lb_strerror(rc));
		goto out;
	}
	if ((rc = lb_state_put_u64(scratch, "nonce", key_addr, LB_ADDR_LEN, nonce + 1)))
		goto out;
	/* the tx's complete write-set, for reuse in its block (an optimisation: none on ENOMEM) */
	if (ws && txtype_block_independent(t, tx) && state_writes_encode(scratch, ws, ws_len))
		*ws = NULL;
	rc = state_merge(s, scratch);
	if (rc && ws) {
		lb_free(*ws);
		*ws = NULL;
	}
out:
	state_scratch_reset(scratch);
	return rc;
}

/* ---- open / close -------------------------------------------------------------------------- */

void lb_ledger_options_init(struct lb_ledger_options *o)
{
	memset(o, 0, sizeof *o);
	o->sync_full = true;
	o->mempool_max_txs = 100000;
	o->mempool_max_bytes = 64u << 20;
}

static int create_genesis_block(struct chain *c, json_t *g, const uint8_t network[32],
				struct lb_errmsg *em)
{
	struct lb_state s;
	struct lb_block_header h;
	uint64_t t;
	uint8_t zero[LB_HASH_LEN] = {0}, app[LB_HASH_LEN], hash[LB_HASH_LEN];
	struct lb_buf hb;
	state_init(&s, NULL, &c->wdb);
	lb_buf_init(&hb, LB_HEADER_MAX_BYTES);
	int rc = genesis_state(g, c->id, &s, &t, em);
	if (rc || (rc = state_app_hash(&s, zero, app)))
		goto out;
	genesis_header(&h, c->id, t, app);
	lb_header_hash(&h, hash);
	if ((rc = lb_header_encode(&hb, &h, true)) || (rc = db_exec(&c->wdb, "BEGIN", em)))
		goto out;
	sqlite3_stmt *st = c->wdb.put_block;
	sqlite3_bind_int64(st, 1, 0);
	sqlite3_bind_blob(st, 2, hash, LB_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, hb.data, (int)hb.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, "", 0, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, 0);
	sqlite3_bind_int64(st, 6, 0);
	int src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src != SQLITE_DONE || (rc = state_flush(&s, em)) ||
	    db_meta_put(&c->wdb, "network", network, LB_HASH_LEN)) {
		db_exec(&c->wdb, "ROLLBACK", NULL);
		rc = rc ? rc : lb_errf(em, LB_EIO, "writing the genesis block failed");
		goto out;
	}
	rc = db_exec(&c->wdb, "COMMIT", em);
out:
	lb_buf_release(&hb);
	state_release(&s);
	return rc;
}

static int open_chain(struct lb_ledger *l, int id, json_t *g, struct lb_errmsg *em)
{
	struct chain *c = &l->chains[id];
	char path[4300];
	c->id = id;
	c->wal.fd = -1;
	snprintf(path, sizeof path, "%s/chains/%s.db", l->home, lb_chain_name(id));
	int rc = db_open(&c->wdb, path, id, l->opt.sync_full, em);
	if (rc)
		return rc;
	rc = db_tip(&c->wdb, &c->tip, c->tip_hash, em);
	if (rc == LB_ENOTFOUND) {
		if ((rc = create_genesis_block(c, g, l->network, em)) ||
		    (rc = db_tip(&c->wdb, &c->tip, c->tip_hash, em)))
			return rc;
	} else if (rc) {
		return rc;
	}
	uint8_t net[LB_HASH_LEN];
	if (db_meta_get(&c->wdb, "network", net, sizeof net) ||
	    memcmp(net, l->network, LB_HASH_LEN))
		return lb_errf(em, LB_ECORRUPT,
			       "%s belongs to another network than %s/genesis.json (was the "
			       "genesis file changed?)",
			       path, l->home);
	if ((rc = db_open(&c->db, path, id, l->opt.sync_full, em)))
		return rc;
	mempool_init(&c->mp, &c->db);
	snprintf(path, sizeof path, "%s/chains/%s.wal", l->home, lb_chain_name(id));
	snprintf(c->wal.path, sizeof c->wal.path, "%s", path);
	if (!l->opt.no_wal && (rc = wal_open(&c->wal, path, em))) {
		db_close(&c->db);
		return rc;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->commit_mu, NULL);
	return LB_OK;
}

struct wal_batch {
	size_t n, cap;
	uint8_t **raws;
	size_t *lens;
};

static int wal_collect(void *ctx, const uint8_t *raw, size_t len)
{
	struct wal_batch *b = ctx;
	if (b->n == b->cap) {
		size_t ncap = b->cap ? 2 * b->cap : 256;
		uint8_t **r = lb_realloc(b->raws, ncap * sizeof *r);
		if (!r)
			return LB_ENOMEM;
		b->raws = r;
		size_t *ls = lb_realloc(b->lens, ncap * sizeof *ls);
		if (!ls)
			return LB_ENOMEM;
		b->lens = ls;
		b->cap = ncap;
	}
	if (!(b->raws[b->n] = lb_malloc(len ? len : 1)))
		return LB_ENOMEM;
	memcpy(b->raws[b->n], raw, len);
	b->lens[b->n++] = len;
	return LB_OK;
}

/* Admit the txs of the chain's write-ahead log again (those no longer valid or already
 * committed are dropped with a log line), then rewrite the log from the mempool. */
static int wal_load(struct lb_ledger *l, struct chain *c, struct lb_errmsg *em)
{
	struct wal_batch b = {0};
	size_t torn = 0;
	if (l->opt.no_wal) {
		/* the orderer holds every accepted tx (etcd stored it before the API answered):
		 * a log left from solo ordering would only order its txs a second time */
		if (unlink(c->wal.path) == 0)
			lb_log(LB_LOG_INFO, "%s: removed; the orderer holds accepted txs",
			       c->wal.path);
		c->wal.replayed = true;
		return LB_OK;
	}
	int rc = wal_replay(c->wal.path, wal_collect, &b, &torn, em);
	if (torn)
		lb_log(LB_LOG_WARN, "%s: ignored a torn or corrupt tail of %zu bytes", c->wal.path,
		       torn);
	struct lb_submit_result *res = NULL;
	if (!rc && b.n) {
		res = lb_calloc(b.n, sizeof *res);
		l->replaying = true;
		rc = res ? lb_ledger_submit(l, b.n, (const uint8_t *const *)b.raws, b.lens, res)
			 : LB_ENOMEM;
		l->replaying = false;
		size_t kept = 0;
		for (size_t i = 0; !rc && i < b.n; i++) {
			if (!res[i].code) {
				kept++;
				continue;
			}
			char hex[2 * LB_HASH_LEN + 1];
			lb_hex_encode(hex, res[i].id, LB_HASH_LEN);
			lb_log(LB_LOG_WARN, "%s: dropped logged tx %s: %s", c->wal.path, hex,
			       res[i].message);
		}
		if (!rc)
			lb_log(LB_LOG_INFO, "%s: replayed %zu of %zu accepted txs into the mempool",
			       c->wal.path, kept, b.n);
	}
	pthread_mutex_lock(&c->mu);
	if (!rc && (b.n || torn) && wal_rewrite(&c->wal, &c->mp))
		rc = lb_errf(em, LB_EIO, "cannot rewrite the write-ahead log %s", c->wal.path);
	c->wal.replayed = !rc;
	pthread_mutex_unlock(&c->mu);
	for (size_t i = 0; i < b.n; i++)
		lb_free(b.raws[i]);
	lb_free(b.raws);
	lb_free(b.lens);
	lb_free(res);
	return rc;
}

int lb_ledger_replay_wal(struct lb_ledger *l, struct lb_errmsg *em)
{
	for (int i = 0; i < LB_CHAIN_COUNT; i++) {
		struct chain *c = &l->chains[i];
		if (c->wal.replayed)
			continue;
		int rc = wal_load(l, c, em);
		if (rc)
			return rc;
	}
	return LB_OK;
}

int lb_ledger_open(struct lb_ledger **out, const struct lb_ledger_options *opt,
		   const struct lb_keypair *proposer, struct lb_errmsg *em)
{
	int rc;
	if ((rc = lb_crypto_init()))
		return lb_errf(em, rc, "libsodium failed to initialise");
	if ((rc = lb_ledger_register_core_types()))
		return lb_errf(em, rc, "registering tx types failed");
	struct lb_ledger *l = lb_calloc(1, sizeof *l);
	if (!l)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	snprintf(l->home, sizeof l->home, "%s", opt->home);
	l->opt = *opt;
	l->opt.home = l->home;
	if (proposer) {
		l->proposer = *proposer;
		l->has_proposer = true;
	}
	json_t *g = NULL;
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/chains", l->home);
	if ((rc = genesis_load(l->home, &g, l->network, em)) || (rc = lb_mkdirs(dir, 0700, em)))
		goto err;
	for (int i = 0; i < LB_CHAIN_COUNT; i++)
		if ((rc = open_chain(l, i, g, em)))
			goto err;
	int nthreads = lb_ncpus() - 1;
	if ((rc = lb_pool_new(&l->pool, nthreads)))
		goto err;
	json_decref(g);
	*out = l;
	return LB_OK;
err:
	json_decref(g);
	lb_ledger_close(l);
	return rc;
}

void lb_ledger_close(struct lb_ledger *l)
{
	if (!l)
		return;
	for (int i = 0; i < LB_CHAIN_COUNT; i++) {
		struct chain *c = &l->chains[i];
		if (c->db.db) {
			mempool_release(&c->mp);
			pthread_mutex_destroy(&c->mu);
			pthread_mutex_destroy(&c->commit_mu);
		}
		wal_close(&c->wal);
		db_close(&c->db);
		db_close(&c->wdb);
	}
	lb_pool_free(l->pool);
	lb_keypair_wipe(&l->proposer);
	lb_free(l);
}

const uint8_t *lb_ledger_network_id(const struct lb_ledger *l)
{
	return l->network;
}

/* ---- admission ------------------------------------------------------------------------------ */

struct submit_job {
	struct lb_ledger *l;
	const uint8_t *const *raws;
	const size_t *lens;
	struct lb_submit_result *res;
	struct lb_tx *txs;
};

static void set_result(struct lb_submit_result *r, int code, const char *msg)
{
	r->code = code;
	snprintf(r->message, sizeof r->message, "%s", msg && *msg ? msg : lb_strerror(code));
}

static void verify_one(void *ctx, size_t i)
{
	struct submit_job *j = ctx;
	struct lb_submit_result *r = &j->res[i];
	struct lb_tx *tx = &j->txs[i];
	struct lb_errmsg em;
	lb_errclear(&em);
	memset(r->id, 0, LB_HASH_LEN);
	r->chain = -1;
	int rc = lb_tx_decode(tx, j->raws[i], j->lens[i], &em);
	if (rc) {
		set_result(r, rc, em.text);
		return;
	}
	memcpy(r->id, tx->id, LB_HASH_LEN);
	r->chain = tx->chain;
	if ((rc = tx_check_stateless(tx, NULL, &em))) {
		set_result(r, rc, em.text);
		return;
	}
	r->code = LB_OK;
	r->message[0] = 0;
}

static const struct lb_tx *submit_tx_at(void *ctx, size_t i)
{
	struct submit_job *j = ctx;
	return j->res[i].code ? NULL : &j->txs[i];
}

static void submit_bad_sig(void *ctx, size_t i)
{
	struct submit_job *j = ctx;
	set_result(&j->res[i], LB_EBADSIG,
		   "the signature does not match the sender's key for this network (signed "
		   "with another key, altered after signing, or made for another network)");
}

/* ---- signatures in batches ------------------------------------------------------------------ */

#define SIG_CHUNK_MIN 1024 /* batches gain with size (1.0x single at 256, 1.85x at 1024) */

struct sig_job {
	struct lb_ledger *l;
	size_t n, chunks;
	const uint8_t *const *raws;
	const struct lb_tx *(*tx_at)(void *ctx, size_t i);
	void (*on_bad)(void *ctx, size_t i);
	void *ctx;
};

static void sig_chunk(void *ctx, size_t c)
{
	struct sig_job *j = ctx;
	size_t lo = j->n * c / j->chunks, hi = j->n * (c + 1) / j->chunks, m = 0;
	struct lb_sig_item *it = lb_malloc((hi - lo) * sizeof *it);
	uint8_t(*h)[LB_HASH_LEN] = lb_malloc((hi - lo) * LB_HASH_LEN);
	size_t *at = lb_malloc((hi - lo) * sizeof *at);
	bool *ok = lb_malloc((hi - lo) * sizeof *ok);
	if (!it || !h || !at || !ok || j->l->opt.sig_one_by_one) { /* out of memory: one by one */
		for (size_t i = lo; i < hi; i++) {
			const struct lb_tx *tx = j->tx_at(j->ctx, i);
			if (tx && !lb_tx_sig_is_valid(tx, j->raws[i], j->l->network))
				j->on_bad(j->ctx, i);
		}
		goto out;
	}
	for (size_t i = lo; i < hi; i++) {
		const struct lb_tx *tx = j->tx_at(j->ctx, i);
		if (!tx)
			continue;
		lb_tx_sighash(h[m], j->raws[i], tx->unsigned_len, j->l->network);
		it[m] = (struct lb_sig_item){tx->sig, tx->sender, h[m], LB_HASH_LEN};
		at[m++] = i;
	}
	if (!lb_sigs_are_valid(it, m, ok)) {
		for (size_t k = 0; k < m; k++)
			if (!ok[k])
				j->on_bad(j->ctx, at[k]);
	}
out:
	lb_free(it);
	lb_free(h);
	lb_free(at);
	lb_free(ok);
}

void ledger_check_sigs(struct lb_ledger *l, size_t n, const uint8_t *const *raws,
		       const struct lb_tx *(*tx_at)(void *ctx, size_t i),
		       void (*on_bad)(void *ctx, size_t i), void *ctx)
{
	size_t chunks = n / SIG_CHUNK_MIN, cpus = (size_t)lb_ncpus();
	if (chunks > cpus)
		chunks = cpus;
	if (chunks == 0)
		chunks = 1;
	struct sig_job j = {l, n, chunks, raws, tx_at, on_bad, ctx};
	lb_pool_for(l->pool, chunks, sig_chunk, &j);
}

/* Admit one verified tx into its chain's mempool; chain lock held. */
static int admit(struct lb_ledger *l, struct chain *c, const struct lb_tx *tx,
		 const uint8_t *raw, size_t len, struct lb_errmsg *em)
{
	struct txloc loc;
	if (mempool_find(&c->mp, tx->id))
		return lb_errf(em, LB_EDUPLICATE, "this tx is already waiting to be committed");
	if (db_txloc(&c->db, tx->id, &loc) == LB_OK)
		return lb_errf(em, LB_EDUPLICATE, "this tx was already committed in %s block %llu",
			       lb_chain_name(c->id), (unsigned long long)loc.height);
	if (c->mp.count >= l->opt.mempool_max_txs || c->mp.bytes + len > l->opt.mempool_max_bytes)
		return lb_errf(em, LB_EBUSY,
			       "the %s mempool is full (%zu txs waiting); retry in a moment",
			       lb_chain_name(c->id), c->mp.count);
	uint64_t seq = c->mp.next_seq;
	uint8_t *ws;
	size_t ws_len = 0;
	c->mp.overlay.seq = seq;
	int rc = ledger_apply_tx_ws(&c->mp.overlay, c->id, tx, c->tip.height + 1, lb_now_ms(), em,
				    &ws, &ws_len);
	if (rc)
		return rc;
	if ((rc = mempool_add(&c->mp, tx->id, raw, len, seq, ws, ws_len))) {
		/* the overlay already holds the tx's writes: rebuild it without the tx */
		mempool_rebuild(&c->mp, c->id, c->tip.height + 1, lb_now_ms(), NULL, NULL);
		return lb_errf(em, rc, "out of memory admitting the tx");
	}
	c->mp.next_seq++;
	if (l->opt.on_admitted)
		l->opt.on_admitted(l->opt.on_admitted_ctx, c->id, raw, len);
	return LB_OK;
}

/* Entries of the admission read cache kept from batch to batch while no block commits (the
 * cache is emptied by every commit; a quiet chain's cache stops growing here). */
#define READ_CACHE_MAX 65536

void chain_lock_view(struct chain *c)
{
	pthread_mutex_lock(&c->mu);
	sqlite3_step(c->db.begin_read);
	sqlite3_reset(c->db.begin_read);
	/* The read transaction's view begins here. If a block was written since the read cache
	 * was filled (its commit empties the cache too, but only once it gets the lock), the
	 * cache is emptied now, so that the view and the cache show the same block. */
	sqlite3_stmt *st = c->db.data_version;
	int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (v != c->cache_version || v < 0 ||
	    state_cache_size(&c->mp.overlay) > READ_CACHE_MAX)
		state_cache_clear(&c->mp.overlay);
	c->cache_version = v;
}

void chain_unlock_view(struct chain *c)
{
	if (!sqlite3_get_autocommit(c->db.db)) {
		sqlite3_step(c->db.commit);
		sqlite3_reset(c->db.commit);
	}
	pthread_mutex_unlock(&c->mu);
}

/* The txs just admitted into c (indices taken[0..k)) leave the mempool again and are refused:
 * their write-ahead log could not be written or synced. Chain lock held. */
static void wal_refuse(struct chain *c, struct submit_job *j, const size_t *taken, size_t k)
{
	lb_log(LB_LOG_ERROR, "%s: writing the write-ahead log failed", c->wal.path);
	for (size_t i = 0; i < k; i++) {
		mempool_remove(&c->mp, j->txs[taken[i]].id);
		set_result(&j->res[taken[i]], LB_EIO,
			   "the node could not make the tx durable (writing its write-ahead log "
			   "failed: is the disk full?); retry later");
	}
	mempool_rebuild(&c->mp, c->id, c->tip.height + 1, lb_now_ms(), NULL, NULL);
}

/* Write the txs just admitted into c (indices taken[0..k)) to its write-ahead log, release the
 * chain lock, then sync (shared with the batches of other requests written meanwhile: group
 * commit). Whatever fails is refused. No log (etcd ordering) or a replay: nothing to write. */
static void wal_settle(struct lb_ledger *l, struct chain *c, struct submit_job *j,
		       const size_t *taken, size_t k)
{
	if (!k || l->replaying || c->wal.fd < 0) {
		chain_unlock_view(c);
		return;
	}
	const uint8_t **r = lb_malloc(k * sizeof *r);
	size_t *ls = lb_malloc(k * sizeof *ls);
	uint64_t upto = 0;
	int rc = r && ls ? LB_OK : LB_ENOMEM;
	for (size_t i = 0; !rc && i < k; i++) {
		r[i] = j->raws[taken[i]];
		ls[i] = j->lens[taken[i]];
	}
	if (!rc)
		rc = wal_write(&c->wal, k, r, ls, &upto);
	lb_free(r);
	lb_free(ls);
	if (rc) {
		wal_refuse(c, j, taken, k);
		chain_unlock_view(c);
		return;
	}
	chain_unlock_view(c);
	if (!wal_sync(&c->wal, upto))
		return;
	/* those already committed by now stay committed (the retry finds them) */
	chain_lock_view(c);
	wal_refuse(c, j, taken, k);
	chain_unlock_view(c);
}

int lb_ledger_submit(struct lb_ledger *l, size_t n, const uint8_t *const *raws,
		     const size_t *lens, struct lb_submit_result *results)
{
	if (n == 0)
		return LB_OK;
	struct submit_job j = {.l = l, .raws = raws, .lens = lens, .res = results};
	j.txs = lb_malloc(n * sizeof *j.txs);
	if (!j.txs)
		return LB_ENOMEM;
	lb_pool_for(l->pool, n, verify_one, &j);
	ledger_check_sigs(l, n, raws, submit_tx_at, submit_bad_sig, &j);
	struct chain *locked = NULL;
	size_t *taken = lb_malloc(n * sizeof *taken), k = 0;
	if (!taken) {
		lb_free(j.txs);
		return LB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct lb_submit_result *r = &results[i];
		if (r->code)
			continue;
		struct chain *c = &l->chains[j.txs[i].chain];
		if (c != locked) {
			if (locked)
				wal_settle(l, locked, &j, taken, k);
			k = 0;
			chain_lock_view(c);
			locked = c;
		}
		struct lb_errmsg em;
		lb_errclear(&em);
		int rc = admit(l, c, &j.txs[i], raws[i], lens[i], &em);
		if (rc)
			set_result(r, rc, em.text);
		else
			taken[k++] = i;
	}
	if (locked)
		wal_settle(l, locked, &j, taken, k);
	lb_free(taken);
	lb_free(j.txs);
	return LB_OK;
}

/* ---- orderer position ----------------------------------------------------------------------- */

int lb_ledger_cursor_set(struct lb_ledger *l, int chain, const uint8_t *cursor, size_t len)
{
	if (chain < 0 || chain >= LB_CHAIN_COUNT || len > LB_CURSOR_MAX)
		return LB_EINVALID;
	struct chain *c = &l->chains[chain];
	pthread_mutex_lock(&c->commit_mu);
	memcpy(c->cursor, cursor, len);
	c->cursor_len = len;
	pthread_mutex_unlock(&c->commit_mu);
	return LB_OK;
}

int lb_ledger_cursor(struct lb_ledger *l, int chain, uint8_t *out, size_t len)
{
	if (chain < 0 || chain >= LB_CHAIN_COUNT)
		return LB_EINVALID;
	struct chain *c = &l->chains[chain];
	pthread_mutex_lock(&c->mu);
	int rc = db_meta_get(&c->db, "order.cursor", out, len);
	pthread_mutex_unlock(&c->mu);
	return rc;
}
