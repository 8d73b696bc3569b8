/*
 * Layered key-value state. Each layer is a hash map of writes over a parent layer or over the
 * committed state in SQLite. A tx is applied in a scratch layer that is merged into the block
 * (or mempool) layer only if it succeeds; the block layer is the block's write-set, hashed in
 * key order into the app hash and flushed to SQLite in the block's transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "leben/codec.h"
#include "leben/crypto.h"
#include "leben/tx.h"
#include "ledger/ledger_int.h"

static uint64_t key_hash(const uint8_t *k, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a: keys are hashes already, mostly */
	for (size_t i = 0; i < n; i++)
		h = (h ^ k[i]) * 1099511628211ull;
	return h ^ (h >> 29);
}

static int make_key(uint8_t *out, size_t *outlen, const char *ns, const void *key, size_t klen)
{
	size_t nl = strlen(ns);
	if (nl == 0 || nl > 32 || klen > LB_STATE_KEY_MAX)
		return LB_EINVALID;
	out[0] = (uint8_t)nl;
	memcpy(out + 1, ns, nl);
	memcpy(out + 1 + nl, key, klen);
	*outlen = 1 + nl + klen;
	return LB_OK;
}

static struct kv_entry *map_find(struct kv_map *m, const uint8_t *k, size_t n, uint64_t h)
{
	if (!m->cap)
		return NULL;
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct kv_entry *e = &m->slots[i];
		if (!e->key)
			return e;
		if (e->hash == h && e->klen == n && !memcmp(e->key, k, n))
			return e;
	}
}

static int map_grow(struct kv_map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	struct kv_entry *ns = lb_calloc(ncap, sizeof *ns);
	if (!ns)
		return LB_ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		struct kv_entry *e = &m->slots[i];
		if (!e->key)
			continue;
		size_t j = e->hash & (ncap - 1);
		while (ns[j].key)
			j = (j + 1) & (ncap - 1);
		ns[j] = *e;
	}
	lb_free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return LB_OK;
}

/* Store (k, v) in m, taking ownership of nothing; val NULL = deletion. */
static int map_set(struct kv_map *m, const uint8_t *k, size_t n, uint64_t h, const void *val,
		   size_t vlen, uint64_t seq)
{
	if ((m->count + 1) * 4 >= m->cap * 3) {
		int rc = map_grow(m);
		if (rc)
			return rc;
	}
	struct kv_entry *e = map_find(m, k, n, h);
	uint8_t *v = NULL;
	if (val) {
		v = lb_malloc(vlen ? vlen : 1);
		if (!v)
			return LB_ENOMEM;
		memcpy(v, val, vlen);
	}
	if (!e->key) {
		e->key = lb_malloc(n);
		if (!e->key) {
			lb_free(v);
			return LB_ENOMEM;
		}
		memcpy(e->key, k, n);
		e->klen = (uint32_t)n;
		e->hash = h;
		m->count++;
	} else {
		lb_free(e->val);
	}
	e->val = v;
	e->vlen = (uint32_t)vlen;
	e->seq = seq;
	return LB_OK;
}

/* Store (k, v) in m taking ownership of both (v NULL = deletion); on failure both are freed. */
static int map_set_owned(struct kv_map *m, uint8_t *k, size_t n, uint64_t h, uint8_t *v,
			 size_t vlen, uint64_t seq)
{
	if ((m->count + 1) * 4 >= m->cap * 3) {
		int rc = map_grow(m);
		if (rc) {
			lb_free(k);
			lb_free(v);
			return rc;
		}
	}
	struct kv_entry *e = map_find(m, k, n, h);
	if (!e->key) {
		e->key = k;
		e->klen = (uint32_t)n;
		e->hash = h;
		m->count++;
	} else {
		lb_free(k);
		lb_free(e->val);
	}
	e->val = v;
	e->vlen = (uint32_t)vlen;
	e->seq = seq;
	return LB_OK;
}

static void map_release(struct kv_map *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		lb_free(m->slots[i].key);
		lb_free(m->slots[i].val);
	}
	lb_free(m->slots);
	m->slots = NULL;
	m->cap = m->count = 0;
}

void state_init(struct lb_state *s, struct lb_state *parent, struct chain_db *db)
{
	memset(s, 0, sizeof *s);
	s->parent = parent;
	s->db = db;
	lb_buf_init(&s->readbuf, LB_STATE_VALUE_MAX);
}

void state_release(struct lb_state *s)
{
	map_release(&s->map);
	map_release(&s->cache);
	lb_buf_release(&s->readbuf);
	if (s->scratch) {
		state_release(s->scratch);
		lb_free(s->scratch);
		s->scratch = NULL;
	}
}

/* Scratch layers are emptied after every tx; one that grew past this many slots (a tx with
 * many writes) is freed rather than wiped, so wiping stays cheap. */
#define SCRATCH_KEEP_SLOTS 256

struct lb_state *state_scratch(struct lb_state *parent)
{
	struct lb_state *s = parent->scratch;
	if (!s) {
		s = lb_malloc(sizeof *s);
		if (!s)
			return NULL;
		state_init(s, parent, NULL);
		parent->scratch = s;
	}
	s->seq = parent->seq;
	return s;
}

void state_scratch_reset(struct lb_state *s)
{
	struct kv_map *m = &s->map;
	if (m->cap > SCRATCH_KEEP_SLOTS) {
		map_release(m);
		return;
	}
	if (m->count == 0)
		return;
	for (size_t i = 0; i < m->cap; i++) {
		lb_free(m->slots[i].key);
		lb_free(m->slots[i].val);
	}
	memset(m->slots, 0, m->cap * sizeof *m->slots);
	m->count = 0;
}

void state_clear(struct lb_state *s)
{
	if (s->map.count == 0)
		return;
	map_release(&s->map);
}

void state_cache_enable(struct lb_state *s)
{
	s->cached = true;
}

void state_cache_clear(struct lb_state *s)
{
	if (s->cache.count)
		map_release(&s->cache);
}

size_t state_cache_size(const struct lb_state *s)
{
	return s->cache.count;
}

/* Values up to this size are cached (parameters, fees, nonces, balances, key-map entries);
 * larger ones are read from the database each time. */
#define CACHE_VALUE_MAX 512

static int get_raw(struct lb_state *top, const uint8_t *k, size_t n, uint64_t h,
		   const uint8_t **val, size_t *vlen)
{
	struct lb_state *s = top;
	for (; s; s = s->parent) {
		struct kv_entry *e = map_find(&s->map, k, n, h);
		if (e && e->key) {
			if (!e->val)
				return LB_ENOTFOUND;
			*val = e->val;
			*vlen = e->vlen;
			return LB_OK;
		}
		if (!s->parent)
			break;
	}
	struct chain_db *db = s->db;
	if (!db)
		return LB_ENOTFOUND;
	struct kv_entry *ce = s->cached ? map_find(&s->cache, k, n, h) : NULL;
	if (ce && ce->key) {
		if (!ce->val)
			return LB_ENOTFOUND;
		*val = ce->val;
		*vlen = ce->vlen;
		return LB_OK;
	}
	sqlite3_stmt *st = db->get_state;
	sqlite3_bind_blob(st, 1, k, (int)n, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *b = sqlite3_column_blob(st, 0);
		size_t bl = (size_t)sqlite3_column_bytes(st, 0);
		/* cached (out of memory: not cached, read again next time) */
		if (s->cached && bl <= CACHE_VALUE_MAX &&
		    !map_set(&s->cache, k, n, h, b ? b : "", bl, 0)) {
			ce = map_find(&s->cache, k, n, h);
			sqlite3_reset(st);
			*val = ce->val;
			*vlen = ce->vlen;
			return LB_OK;
		}
		lb_buf_reset(&top->readbuf);
		rc = lb_buf_add(&top->readbuf, b, bl);
		if (!rc && !top->readbuf.data)
			rc = lb_buf_reserve(&top->readbuf, 1);
		sqlite3_reset(st);
		if (rc)
			return rc;
		*val = top->readbuf.data;
		*vlen = bl;
		return LB_OK;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE && s->cached)
		map_set(&s->cache, k, n, h, NULL, 0, 0); /* absent (not cached if out of memory) */
	return rc == SQLITE_DONE ? LB_ENOTFOUND : LB_EIO;
}

int lb_state_get(struct lb_state *s, const char *ns, const void *key, size_t klen,
		 const uint8_t **val, size_t *vlen)
{
	uint8_t k[1 + 32 + LB_STATE_KEY_MAX];
	size_t n;
	int rc = make_key(k, &n, ns, key, klen);
	return rc ? rc : get_raw(s, k, n, key_hash(k, n), val, vlen);
}

int lb_state_put(struct lb_state *s, const char *ns, const void *key, size_t klen,
		 const void *val, size_t vlen)
{
	uint8_t k[1 + 32 + LB_STATE_KEY_MAX];
	size_t n;
	if (vlen > LB_STATE_VALUE_MAX)
		return LB_ETOOBIG;
	int rc = make_key(k, &n, ns, key, klen);
	return rc ? rc : map_set(&s->map, k, n, key_hash(k, n), val ? val : "", vlen, s->seq);
}

int lb_state_del(struct lb_state *s, const char *ns, const void *key, size_t klen)
{
	uint8_t k[1 + 32 + LB_STATE_KEY_MAX];
	size_t n;
	int rc = make_key(k, &n, ns, key, klen);
	return rc ? rc : map_set(&s->map, k, n, key_hash(k, n), NULL, 0, s->seq);
}

int lb_state_get_u64(struct lb_state *s, const char *ns, const void *key, size_t klen,
		     uint64_t dflt, uint64_t *out)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, ns, key, klen, &v, &n);
	if (rc == LB_ENOTFOUND) {
		*out = dflt;
		return LB_OK;
	}
	if (rc)
		return rc;
	struct lb_dec d;
	lb_dec_init(&d, v, n, "state value", NULL);
	if (lb_dec_uvar(&d, "u64", UINT64_MAX, out) || lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

int lb_state_put_u64(struct lb_state *s, const char *ns, const void *key, size_t klen,
		     uint64_t v)
{
	uint8_t enc[11];
	struct lb_buf b = {.data = enc, .len = 0, .cap = sizeof enc - 1, .max = sizeof enc};
	lb_enc_uvar(&b, v); /* at most 10 bytes: fits the stack buffer */
	return lb_state_put(s, ns, key, klen, enc, b.len);
}

int state_merge(struct lb_state *parent, struct lb_state *child)
{
	struct kv_map *m = &child->map;
	int rc = LB_OK;
	for (size_t i = 0; i < m->cap; i++) {
		struct kv_entry *e = &m->slots[i];
		if (!e->key)
			continue;
		/* the entry's key and value move into the parent */
		if (!rc)
			rc = map_set_owned(&parent->map, e->key, e->klen, e->hash, e->val, e->vlen,
					   parent->seq);
		else {
			lb_free(e->key);
			lb_free(e->val);
		}
		e->key = e->val = NULL;
	}
	m->count = 0;
	if (m->cap > SCRATCH_KEEP_SLOTS)
		map_release(m);
	return rc;
}

static int cmp_entries(const void *a, const void *b)
{
	const struct kv_entry *x = *(const struct kv_entry *const *)a;
	const struct kv_entry *y = *(const struct kv_entry *const *)b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);
	return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

static struct kv_entry **sorted_entries(struct kv_map *m)
{
	struct kv_entry **v = lb_malloc((m->count ? m->count : 1) * sizeof *v);
	if (!v)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			v[k++] = &m->slots[i];
	qsort(v, k, sizeof *v, cmp_entries);
	return v;
}

int state_app_hash(struct lb_state *s, const uint8_t prev[LB_HASH_LEN],
		   uint8_t app[LB_HASH_LEN])
{
	struct kv_entry **v = sorted_entries(&s->map);
	if (!v)
		return LB_ENOMEM;
	struct lb_hasher h;
	lb_hasher_init(&h, "LEBEN-app-v1");
	lb_hasher_update(&h, prev, LB_HASH_LEN);
	for (size_t i = 0; i < s->map.count; i++) {
		/* canonical write: bytes(key) || 0 (deleted) or 1 bytes(value) */
		uint8_t hdr[24];
		struct lb_buf b = {.data = hdr, .len = 0, .cap = sizeof hdr - 1, .max = sizeof hdr};
		lb_enc_uvar(&b, v[i]->klen);
		lb_hasher_update(&h, hdr, b.len);
		lb_hasher_update(&h, v[i]->key, v[i]->klen);
		b.len = 0;
		lb_enc_u8(&b, v[i]->val ? 1 : 0);
		if (v[i]->val)
			lb_enc_uvar(&b, v[i]->vlen);
		lb_hasher_update(&h, hdr, b.len);
		if (v[i]->val)
			lb_hasher_update(&h, v[i]->val, v[i]->vlen);
	}
	lb_hasher_final(&h, app);
	lb_free(v);
	return LB_OK;
}

int state_flush(struct lb_state *s, struct lb_errmsg *em)
{
	struct chain_db *db = s->db;
	struct kv_map *m = &s->map;
	for (size_t i = 0; i < m->cap; i++) {
		struct kv_entry *e = &m->slots[i];
		if (!e->key)
			continue;
		sqlite3_stmt *st = e->val ? db->put_state : db->del_state;
		sqlite3_bind_blob(st, 1, e->key, (int)e->klen, SQLITE_STATIC);
		if (e->val)
			sqlite3_bind_blob(st, 2, e->val, (int)e->vlen, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return lb_errf(em, LB_EIO, "%s chain: writing state: %s",
				       lb_chain_name(db->chain), sqlite3_errmsg(db->db));
	}
	return LB_OK;
}

int state_prune(struct lb_state *s, uint64_t upto)
{
	struct kv_map *m = &s->map;
	bool any = false;
	int rc = LB_OK;
	for (size_t i = 0; i < m->cap && !any; i++)
		any = m->slots[i].key && m->slots[i].seq <= upto;
	if (!any)
		return LB_OK;
	/* rebuild without the pruned entries (deleting from linear probing needs a rehash); the
	 * entries kept move into the new table (their keys and values are not copied) */
	struct kv_map old = *m;
	size_t keep = 0;
	for (size_t i = 0; i < old.cap; i++)
		keep += old.slots[i].key && old.slots[i].seq > upto;
	memset(m, 0, sizeof *m);
	while (!rc && (keep + 1) * 4 >= m->cap * 3)
		rc = map_grow(m);
	for (size_t i = 0; i < old.cap; i++) {
		struct kv_entry *e = &old.slots[i];
		if (!e->key)
			continue;
		if (rc || e->seq <= upto) { /* pruned, or out of memory: the caller rebuilds */
			lb_free(e->key);
			lb_free(e->val);
			continue;
		}
		rc = map_set_owned(m, e->key, e->klen, e->hash, e->val, e->vlen, e->seq);
	}
	lb_free(old.slots);
	return rc;
}

int lb_state_block_hash(struct lb_state *s, uint64_t height, uint8_t out[LB_HASH_LEN])
{
	while (s->parent)
		s = s->parent;
	if (!s->db)
		return LB_ENOTFOUND;
	struct lb_block_header *h = lb_malloc(sizeof *h);
	if (!h)
		return LB_ENOMEM;
	int rc = db_block(s->db, height, h, NULL, NULL, NULL);
	if (!rc)
		lb_header_hash(h, out);
	lb_free(h);
	return rc;
}

int lb_apply_cite(struct lb_apply_ctx *c, const char *what, const uint8_t *raw, size_t rawlen,
		  const uint8_t *proof, size_t plen, int want_chain, uint32_t want_type,
		  struct lb_tx *tx)
{
	struct lb_proof_info info;
	return lb_apply_cite_info(c, what, raw, rawlen, proof, plen, want_chain, want_type, tx,
				  &info);
}

int lb_apply_cite_info(struct lb_apply_ctx *c, const char *what, const uint8_t *raw,
		       size_t rawlen, const uint8_t *proof, size_t plen, int want_chain,
		       uint32_t want_type, struct lb_tx *tx, struct lb_proof_info *out)
{
	struct lb_proof_info info;
	uint8_t hash[LB_HASH_LEN];
	int here = c->tx->chain;
	const struct lb_txtype *me = lb_txtype_find(c->tx->type);
	const char *who = me ? me->name : "this tx";
	if (lb_proof_verify(proof, plen, NULL, &info, c->em)) {
		lb_errwrap(c->em, "%s: the proof of the %s does not check out: ", who, what);
		return LB_EINVALID;
	}
	if (info.chain != want_chain)
		return lb_errf(c->em, LB_EINVALID, "%s: the proof of the %s is for a %s-chain tx, not "
						   "a %s-chain one",
			       who, what, lb_chain_name(info.chain), lb_chain_name(want_chain));
	if (!info.anchored || info.anchor_chain != here)
		return lb_errf(c->em, LB_EINVALID,
			       "%s: the proof of the %s must be anchored in a %s block (ask the node "
			       "for the proof with anchor=%s)",
			       who, what, lb_chain_name(here), lb_chain_name(here));
	if (info.anchor_height >= c->height ||
	    lb_state_block_hash(c->state, info.anchor_height, hash) != LB_OK)
		return lb_errf(c->em, LB_EINVALID,
			       "%s: the proof of the %s is anchored in %s block %llu, which this chain "
			       "does not have yet",
			       who, what, lb_chain_name(here), (unsigned long long)info.anchor_height);
	if (!lb_ct_equal(hash, info.anchor_block_hash, LB_HASH_LEN))
		return lb_errf(c->em, LB_EINVALID,
			       "%s: the proof of the %s is anchored in a block that is not %s block "
			       "%llu of this chain (a forged or foreign proof)",
			       who, what, lb_chain_name(here), (unsigned long long)info.anchor_height);
	if (!info.tx_valid)
		return lb_errf(c->em, LB_EINVALID,
			       "%s: the %s is in %s block %llu but marked invalid there: it changed "
			       "nothing",
			       who, what, lb_chain_name(info.chain), (unsigned long long)info.height);
	struct lb_errmsg e;
	lb_errclear(&e);
	if (lb_tx_decode(tx, raw, rawlen, &e))
		return lb_errf(c->em, LB_EMALFORMED, "%s: the %s tx bytes do not decode: %s", who,
			       what, e.text);
	if (memcmp(tx->id, info.tx_id, LB_HASH_LEN))
		return lb_errf(c->em, LB_EINVALID,
			       "%s: the %s tx bytes are not the tx the proof is for", who, what);
	if (tx->chain != want_chain || (want_type && tx->type != want_type)) {
		const struct lb_txtype *t = lb_txtype_find(want_type);
		return lb_errf(c->em, LB_EINVALID, "%s: the cited tx is not of type %s", who,
			       t ? t->name : "expected");
	}
	*out = info;
	return LB_OK;
}

/* Encoded writes (in-process only, never stored or hashed): per entry u32 key length, u32
 * value length (UINT32_MAX for a deletion), u64 key hash, key, value. */
int state_writes_encode(struct lb_state *s, uint8_t **out, size_t *len)
{
	struct kv_map *m = &s->map;
	size_t n = 0;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			n += 16 + m->slots[i].klen + (m->slots[i].val ? m->slots[i].vlen : 0);
	uint8_t *p = lb_malloc(n ? n : 1);
	if (!p)
		return LB_ENOMEM;
	size_t o = 0;
	for (size_t i = 0; i < m->cap; i++) {
		struct kv_entry *e = &m->slots[i];
		if (!e->key)
			continue;
		uint32_t vl = e->val ? e->vlen : UINT32_MAX;
		memcpy(p + o, &e->klen, 4);
		memcpy(p + o + 4, &vl, 4);
		memcpy(p + o + 8, &e->hash, 8);
		memcpy(p + o + 16, e->key, e->klen);
		o += 16 + e->klen;
		if (e->val) {
			memcpy(p + o, e->val, e->vlen);
			o += e->vlen;
		}
	}
	*out = p;
	*len = n;
	return LB_OK;
}

int state_writes_apply(struct lb_state *s, const uint8_t *ws, size_t len)
{
	size_t o = 0;
	while (o < len) {
		uint32_t kl, vl;
		uint64_t h;
		memcpy(&kl, ws + o, 4);
		memcpy(&vl, ws + o + 4, 4);
		memcpy(&h, ws + o + 8, 8);
		const uint8_t *k = ws + o + 16;
		o += 16 + kl;
		const uint8_t *v = NULL;
		size_t vn = 0;
		if (vl != UINT32_MAX) {
			v = ws + o;
			vn = vl;
			o += vl;
		}
		int rc = map_set(&s->map, k, kl, h, v, vn, s->seq);
		if (rc)
			return rc;
	}
	return LB_OK;
}

