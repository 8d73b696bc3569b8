/*
 * The cut rule of the etcd orderer, applied to etcd's ordered stream (see etcd_int.h):
 *  - a batch event's txs join their chain's waiting list in order, one by one, as a tx
 *    event's tx does; when block_max txs wait, they are cut as a block right there (in the
 *    middle of a batch if so: the cursor then names the place within the batch);
 *  - a batch value that does not parse (a length running past its end, an empty or
 *    oversized tx) is ignored as a whole, on every node alike; a tx that two batches carry
 *    is cut twice and the ledger commits the second copy invalid (it changes nothing);
 *  - a cut marker for chain c and height h cuts what waits on c if h is c's next height and
 *    something waits (a stale or duplicate marker is ignored); an anchor marker (a ninth
 *    value byte 1, written when someone waits for a block of c to anchor another chain's
 *    block) cuts height h even when nothing waits: an empty block;
 *  - the block time is the largest clock reading seen in the stream so far (the ledger keeps
 *    it non-decreasing per chain).
 * Every input is taken from the stream, never from this node, so every node cuts the same
 * blocks. Each cut carries a cursor (position, clock, replay revision) that the ledger stores
 * with the block; after a restart the stream is replayed from the replay revision and events
 * already in a chain's blocks are skipped for that chain.
 */
#include <stdio.h>
#include <string.h>

#include "leben/base.h"
#include "order/etcd_int.h"

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static bool pos_le(struct etcd_pos a, struct etcd_pos b)
{
	return a.rev < b.rev ||
	       (a.rev == b.rev && (a.idx < b.idx || (a.idx == b.idx && a.sub <= b.sub)));
}

void etcd_prefix(char *out, const uint8_t network[LB_HASH_LEN])
{
	/* 64 bits of the network id tell networks sharing an etcd cluster apart; the key is in
	 * every compare, put and watch event, so it is kept short */
	char hex[2 * ETCD_NET_BYTES + 1];
	lb_hex_encode(hex, network, ETCD_NET_BYTES);
	snprintf(out, ETCD_PREFIX_MAX, "/leben/%s/", hex);
}

int lb_etcd_genesis_block_max(json_t *genesis, size_t *out, struct lb_errmsg *em)
{
	json_t *o = json_is_object(genesis) ? json_object_get(genesis, "ordering") : NULL;
	if (!o) {
		*out = LB_ETCD_BLOCK_MAX_DEFAULT;
		return LB_OK;
	}
	if (!json_is_object(o))
		return lb_errf(em, LB_EMALFORMED,
			       "genesis.json: \"ordering\" must be an object like "
			       "{\"block_max_txs\": 5000}");
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		if (strcmp(k, "block_max_txs"))
			return lb_errf(em, LB_EMALFORMED,
				       "genesis.json: unknown setting \"ordering.%.100s\" (known: "
				       "block_max_txs)",
				       k);
	}
	v = json_object_get(o, "block_max_txs");
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
	if (!v)
		n = LB_ETCD_BLOCK_MAX_DEFAULT;
	else if (n < 1 || n > LB_BLOCK_MAX_TXS)
		return lb_errf(em, LB_EMALFORMED,
			       "genesis.json: \"ordering.block_max_txs\" must be a whole number "
			       "from 1 to %d",
			       LB_BLOCK_MAX_TXS);
	*out = (size_t)n;
	return LB_OK;
}

void cutter_init(struct etcd_cutter *c, const uint8_t network[LB_HASH_LEN], size_t block_max,
		 etcd_cut_fn deliver, void *ctx)
{
	memset(c, 0, sizeof *c);
	etcd_prefix(c->prefix, network);
	c->prefix_len = strlen(c->prefix);
	c->block_max = block_max ? block_max : 1;
	c->deliver = deliver;
	c->ctx = ctx;
	c->latest_resume = 1;
	for (int i = 0; i < LB_CHAIN_COUNT; i++) {
		c->ch[i].height = 1;
		c->ch[i].done.idx = -1;
	}
}

static void chain_clear(struct etcd_chain_cut *ch)
{
	for (size_t i = 0; i < ch->n; i++)
		lb_free(ch->raws[i]);
	ch->n = 0;
}

void cutter_release(struct etcd_cutter *c)
{
	for (int i = 0; i < LB_CHAIN_COUNT; i++) {
		chain_clear(&c->ch[i]);
		lb_free(c->ch[i].raws);
		lb_free(c->ch[i].lens);
		c->ch[i].raws = NULL;
		c->ch[i].lens = NULL;
		c->ch[i].cap = 0;
	}
}

void cutter_restore_chain(struct etcd_cutter *c, int chain, uint64_t next_height,
			  const uint8_t *cursor)
{
	struct etcd_chain_cut *ch = &c->ch[chain];
	ch->height = next_height;
	if (!cursor)
		return;
	ch->done.rev = (int64_t)get_u64(cursor);
	ch->done.idx = (int64_t)(get_u64(cursor + 8) & 0xffffffffu);
	ch->done.sub = (int64_t)(get_u64(cursor + 8) >> 32);
	if (!pos_le(ch->done, c->latest)) {
		c->latest = ch->done;
		c->clock_ms = get_u64(cursor + 16);
		c->latest_resume = (int64_t)get_u64(cursor + 24);
	}
}

int64_t cutter_resume_rev(const struct etcd_cutter *c)
{
	return c->latest_resume > 0 ? c->latest_resume : 1;
}

static int cut(struct etcd_cutter *c, int chain, struct etcd_pos pos, struct lb_errmsg *em)
{
	struct etcd_chain_cut *ch = &c->ch[chain];
	/* replay from here, or from the oldest tx another chain still has waiting */
	int64_t resume = pos.rev;
	for (int i = 0; i < LB_CHAIN_COUNT; i++)
		if (i != chain && c->ch[i].n && c->ch[i].first.rev < resume)
			resume = c->ch[i].first.rev;
	uint8_t cursor[ETCD_CURSOR_LEN];
	put_u64(cursor, (uint64_t)pos.rev);
	put_u64(cursor + 8, (uint64_t)pos.sub << 32 | ((uint64_t)pos.idx & 0xffffffffu));
	put_u64(cursor + 16, c->clock_ms);
	put_u64(cursor + 24, (uint64_t)resume);
	struct lb_cut k = {.chain = chain, .time_ms = c->clock_ms, .n = ch->n,
			   .raws = (const uint8_t *const *)ch->raws, .lens = ch->lens};
	int rc = c->deliver(c->ctx, &k, cursor, sizeof cursor, em);
	if (rc)
		return rc;
	c->cuts++;
	c->txs += ch->n;
	chain_clear(ch);
	ch->done = pos;
	ch->height++;
	return LB_OK;
}

/* Parse "<digit>/" at p (n bytes left); chain or -1. */
static int chain_digit(const uint8_t *p, size_t n)
{
	if (n < 2 || p[0] < '0' || p[0] >= '0' + LB_CHAIN_COUNT || p[1] != '/')
		return -1;
	return p[0] - '0';
}

static bool hex16(const uint8_t *p, size_t n, uint64_t *v)
{
	if (n != 16)
		return false;
	*v = 0;
	for (size_t i = 0; i < 16; i++) {
		int d = p[i] >= '0' && p[i] <= '9' ? p[i] - '0'
			: p[i] >= 'a' && p[i] <= 'f' ? p[i] - 'a' + 10
						     : -1;
		if (d < 0)
			return false;
		*v = *v << 4 | (uint64_t)d;
	}
	return true;
}

/* The tx at pos joins chain's waiting list (if no block of the chain holds it yet); a block
 * is cut when block_max txs wait. */
static int add_tx(struct etcd_cutter *c, int chain, struct etcd_pos pos, const uint8_t *val,
		  size_t vlen, struct lb_errmsg *em)
{
	struct etcd_chain_cut *ch = &c->ch[chain];
	if (pos_le(pos, ch->done))
		return LB_OK;
	if (ch->n == ch->cap) {
		size_t ncap = ch->cap ? ch->cap * 2 : 256;
		uint8_t **r = lb_realloc(ch->raws, ncap * sizeof *r);
		if (!r)
			return lb_errf(em, LB_ENOMEM, "etcd orderer: out of memory");
		ch->raws = r;
		size_t *l = lb_realloc(ch->lens, ncap * sizeof *l);
		if (!l)
			return lb_errf(em, LB_ENOMEM, "etcd orderer: out of memory");
		ch->lens = l;
		ch->cap = ncap;
	}
	uint8_t *copy = lb_malloc(vlen);
	if (!copy)
		return lb_errf(em, LB_ENOMEM, "etcd orderer: out of memory");
	memcpy(copy, val, vlen);
	if (ch->n == 0) {
		ch->first = pos;
		ch->first_seen_ns = lb_mono_ns();
	}
	ch->raws[ch->n] = copy;
	ch->lens[ch->n++] = vlen;
	if (ch->n >= c->block_max || ch->n >= LB_BLOCK_MAX_TXS)
		return cut(c, chain, pos, em);
	return LB_OK;
}

bool etcd_batch_parse(const uint8_t *val, size_t vlen, size_t *count, size_t *bad_at)
{
	size_t off = 0, k = 0;
	while (off < vlen) {
		size_t n = vlen - off < 4 ? 0
			: (size_t)val[off] << 24 | (size_t)val[off + 1] << 16 |
				  (size_t)val[off + 2] << 8 | val[off + 3];
		if (n == 0 || n > LB_TX_MAX_BYTES || n > vlen - off - 4) {
			if (bad_at)
				*bad_at = k;
			return false;
		}
		off += 4 + n;
		k++;
	}
	if (count)
		*count = k;
	if (bad_at && k == 0)
		*bad_at = 0;
	return k > 0;
}

int cutter_event(struct etcd_cutter *c, struct etcd_pos pos, const uint8_t *key, size_t klen,
		 const uint8_t *val, size_t vlen, struct lb_errmsg *em)
{
	if (klen < c->prefix_len || memcmp(key, c->prefix, c->prefix_len))
		return LB_OK;
	key += c->prefix_len;
	klen -= c->prefix_len;
	if (klen == 5 && !memcmp(key, "clock", 5)) {
		if (vlen == 8 && get_u64(val) > c->clock_ms)
			c->clock_ms = get_u64(val);
		return LB_OK;
	}
	if (klen > 4 && !memcmp(key, "cut/", 4)) {
		int chain = chain_digit(key + 4, klen - 4);
		uint64_t height;
		/* value: the writer's clock, and for an anchor marker a ninth byte 1 */
		bool anchor = vlen == 9 && val[8] == 1;
		if (chain < 0 || !hex16(key + 6, klen - 6, &height) || (vlen != 8 && !anchor))
			return LB_OK;
		if (get_u64(val) > c->clock_ms)
			c->clock_ms = get_u64(val);
		struct etcd_chain_cut *ch = &c->ch[chain];
		if (pos_le(pos, ch->done) || height != ch->height || (ch->n == 0 && !anchor))
			return LB_OK;
		return cut(c, chain, pos, em);
	}
	if (klen > 2 && !memcmp(key, "t/", 2)) {
		int chain = chain_digit(key + 2, klen - 2);
		if (chain < 0 || vlen == 0 || vlen > LB_TX_MAX_BYTES)
			return LB_OK;
		return add_tx(c, chain, pos, val, vlen, em);
	}
	if (klen > 2 && !memcmp(key, "b/", 2)) {
		int chain = chain_digit(key + 2, klen - 2);
		if (chain < 0 || !etcd_batch_parse(val, vlen, NULL, NULL))
			return LB_OK;
		int rc = LB_OK;
		for (size_t off = 0; off < vlen && !rc; pos.sub++) {
			size_t n = (size_t)val[off] << 24 | (size_t)val[off + 1] << 16 |
				   (size_t)val[off + 2] << 8 | val[off + 3];
			rc = add_tx(c, chain, pos, val + off + 4, n, em);
			off += 4 + n;
		}
		return rc;
	}
	return LB_OK;
}
