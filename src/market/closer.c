/*
 * The node's period closer (include/leben/market.h): after each settlement block it checks,
 * on its own thread, whether the next period to close has ended, and if so submits
 * market.period with the node's key. Nodes of a consortium may all do it: the first close of
 * a period is applied, the others are refused (a later one names the next period), and
 * market.period is fee-exempt, so nothing is paid twice.
 *
 * It also sends the market's citations itself (market.cite, fee-exempt): it reads the
 * business and directory blocks in order, and for every valid audit.record, store.rate,
 * store.list and data.register not counted yet, once its block is anchored in a settlement
 * block, it submits the citation with the node's key and the anchored proof; and for every
 * store.withdraw not paid out yet, the market.store.payout (fee-exempt) that pays it, and for
 * every compute.run citing a prepayment and not settled yet, the compute.settle (fee-exempt)
 * that charges its steps. Every member
 * node may do it: the first citation of a record is applied, the others are refused (each
 * record counts once), so it is idempotent; a party may still send it (`leben market cite`).
 *
 * Where it has read to is kept in <home>/data/market.cursor ("business H directory H": the
 * next block of each chain), written after each round that moves it, so a restarted node
 * goes on from there instead of rereading every block; a cursor past a chain's height (the
 * chain was replaced) starts that chain over from block 1, and a rating whose listing was
 * read before the restart finds its store.list again from the listing's block height.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "leben/data_tx.h"
#include "leben/exchange.h"
#include "leben/ledger.h"
#include "leben/market.h"
#include "leben/market_store.h"
#include "leben/onchain.h"
#include "leben/tx.h"
#include "store_int.h"

#define CITE_BLOCKS_PER_WAKE 256 /* blocks read per chain after one settlement block */
#define KIND_PAYOUT 255          /* a store.withdraw: paid out by market.store.payout */
#define KIND_SETTLE 254          /* a prepaid compute.run: settled by compute.settle */

struct lb_mkt_closer {
	struct lb_ledger *ledger;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stop, wake;
	uint64_t sent_period, sent_height; /* last close submitted (+1: none) */
	bool on;                             /* the chain has a market section */
	uint64_t next_block[LB_CHAIN_COUNT]; /* next business / directory block to read */
	struct listed { uint8_t item[LB_HASH_LEN], tx[LB_HASH_LEN]; } *listed; /* store.list txs */
	size_t nlisted, caplisted;
	char cursor[4200]; /* <home>/data/market.cursor; "" for none */
};

struct due_q {
	bool on;
	uint64_t period, end; /* the next period to close and its last block */
};

static int due_view(struct lb_state *s, void *ctx)
{
	struct due_q *q = ctx;
	struct lb_mkt_config c;
	int rc = lb_mkt_config_load(s, &c, &q->on);
	if (rc || !q->on)
		return rc;
	if ((rc = lb_state_get_u64(s, "mkt.cfg", "next", 4, 0, &q->period)))
		return rc;
	q->on = q->period < UINT64_MAX / c.period_blocks - 1;
	q->end = (q->period + 1) * c.period_blocks;
	return LB_OK;
}

static void close_due(struct lb_mkt_closer *c)
{
	struct due_q q = {0};
	uint8_t id[LB_HASH_LEN];
	struct lb_errmsg em;
	struct lb_buf b;
	if (lb_ledger_state_view(c->ledger, LB_CHAIN_SETTLEMENT, due_view, &q) || !q.on)
		return;
	c->on = true;
	/* period p ends with block (p + 1) x period_blocks; once that block is committed the
	 * close can go into a later one. Resend only when the last try has not landed within
	 * 8 blocks. */
	uint64_t h = lb_ledger_height(c->ledger, LB_CHAIN_SETTLEMENT);
	if (h < q.end || (c->sent_period == q.period + 1 && h < c->sent_height + 8))
		return;
	lb_buf_init(&b, 32);
	if (!lb_mkt_period_encode(&b, q.period) &&
	    !lb_ledger_node_submit(c->ledger, LB_CHAIN_SETTLEMENT, LB_TX_MKT_PERIOD, b.data, b.len,
				   id, &em)) {
		c->sent_period = q.period + 1;
		c->sent_height = h;
		lb_log(LB_LOG_INFO, "market: closing period %llu (settlement height %llu)",
		       (unsigned long long)q.period, (unsigned long long)h);
	}
	lb_buf_release(&b);
}

static const uint8_t *listed_tx(struct lb_mkt_closer *c, const uint8_t item[LB_HASH_LEN])
{
	for (size_t i = c->nlisted; i-- > 0;)
		if (!memcmp(c->listed[i].item, item, LB_HASH_LEN))
			return c->listed[i].tx;
	return NULL;
}

static void remember_listing(struct lb_mkt_closer *c, const struct lb_tx *tx)
{
	struct lb_store_tx *l = lb_malloc(sizeof *l);
	if (!l)
		return;
	if (!lb_store_tx_decode(LB_TX_STORE_LIST, tx->payload, tx->payload_len, l, NULL)) {
		if (c->nlisted == c->caplisted) {
			size_t cap = c->caplisted ? 2 * c->caplisted : 64;
			void *p = lb_realloc(c->listed, cap * sizeof *c->listed);
			if (p) {
				c->listed = p;
				c->caplisted = cap;
			}
		}
		if (c->nlisted < c->caplisted) {
			memcpy(c->listed[c->nlisted].item, l->item, LB_HASH_LEN);
			memcpy(c->listed[c->nlisted++].tx, tx->id, LB_HASH_LEN);
		}
	}
	lb_free(l);
}

struct listing_q {
	const uint8_t *item;
	uint64_t height;
};

static int listing_view(struct lb_state *s, void *ctx)
{
	struct listing_q *q = ctx;
	struct store_listing *r = lb_malloc(sizeof *r);
	int rc = r ? store_listing_get(s, q->item, r) : LB_ENOMEM;
	if (!rc)
		q->height = r->height;
	lb_free(r);
	return rc;
}

/* The store.list tx of a listing: remembered, else (read before a restart) found again in
 * the block its listing record names. NULL if neither. */
static const uint8_t *find_listing(struct lb_mkt_closer *c, const uint8_t item[LB_HASH_LEN])
{
	const uint8_t *t = listed_tx(c, item);
	struct listing_q q = {.item = item};
	json_t *blk, *e;
	struct lb_errmsg em;
	size_t i;
	if (t || lb_ledger_state_view(c->ledger, LB_CHAIN_BUSINESS, listing_view, &q) ||
	    lb_ledger_block_json(c->ledger, LB_CHAIN_BUSINESS, q.height, &blk, &em))
		return t;
	json_array_foreach(json_object_get(blk, "txs"), i, e) {
		const char *type = json_string_value(json_object_get(e, "type"));
		const char *idh = json_string_value(json_object_get(e, "id"));
		uint8_t id[LB_HASH_LEN], *raw = NULL;
		size_t len = 0;
		int ch;
		struct lb_tx tx;
		if (!type || strcmp(type, "store.list") || !idh ||
		    !json_is_true(json_object_get(e, "valid")) || lb_hex_decode(id, LB_HASH_LEN, idh))
			continue;
		if (!lb_ledger_tx_raw(c->ledger, id, &ch, &raw, &len) &&
		    !lb_tx_decode(&tx, raw, len, NULL))
			remember_listing(c, &tx);
		lb_free(raw);
	}
	json_decref(blk);
	return listed_tx(c, item);
}

/* The cursor file: read at start (absent or unreadable: from block 1), written atomically. */
static void cursor_load(struct lb_mkt_closer *c)
{
	unsigned long long b = 1, d = 1;
	FILE *f = c->cursor[0] ? fopen(c->cursor, "r") : NULL;
	if (!f)
		return;
	if (fscanf(f, "business %llu directory %llu", &b, &d) == 2 && b && d) {
		c->next_block[LB_CHAIN_BUSINESS] = b;
		c->next_block[LB_CHAIN_DIRECTORY] = d;
	} else {
		lb_log(LB_LOG_WARN, "market: %s is not a cursor; reading the blocks from 1",
		       c->cursor);
	}
	fclose(f);
}

static void cursor_save(struct lb_mkt_closer *c)
{
	char tmp[4300];
	if (!c->cursor[0])
		return;
	snprintf(tmp, sizeof tmp, "%s.tmp", c->cursor);
	FILE *f = fopen(tmp, "w");
	if (!f || fprintf(f, "business %" PRIu64 " directory %" PRIu64 "\n",
			  c->next_block[LB_CHAIN_BUSINESS], c->next_block[LB_CHAIN_DIRECTORY]) < 0 ||
	    fclose(f) || rename(tmp, c->cursor)) {
		if (!f)
			lb_log(LB_LOG_WARN, "market: cannot write %s: %s", tmp, strerror(errno));
		remove(tmp);
	}
}

/* Cite one record (and for a rating its listing); LB_EUNAVAILABLE while a proof is not
 * anchored in a settlement block yet (the block is read again after the next one). */
static int cite_one(struct lb_mkt_closer *c, unsigned kind, const uint8_t id[LB_HASH_LEN],
		    const uint8_t *tx2)
{
	struct lb_buf p1, p2, b;
	struct lb_errmsg em;
	uint8_t *raw = NULL, *raw2 = NULL, out[LB_HASH_LEN];
	size_t len = 0, len2 = 0;
	int chain, rc;
	lb_buf_init(&p1, 1 << 20);
	lb_buf_init(&p2, 1 << 20);
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	rc = lb_ledger_tx_raw(c->ledger, id, &chain, &raw, &len);
	if (!rc && lb_ledger_proof(c->ledger, id, LB_CHAIN_SETTLEMENT, &p1, &em))
		rc = LB_EUNAVAILABLE;
	if (!rc && tx2 && (lb_ledger_tx_raw(c->ledger, tx2, &chain, &raw2, &len2) ||
			   lb_ledger_proof(c->ledger, tx2, LB_CHAIN_SETTLEMENT, &p2, &em)))
		rc = LB_EUNAVAILABLE;
	bool payout = kind == KIND_PAYOUT;
	if (!rc &&
	    !(payout ? lb_mkt_store_payout_encode(&b, raw, len, p1.data, p1.len)
		     : lb_mkt_cite_encode(&b, kind, raw, len, p1.data, p1.len, raw2, len2, p2.data,
					  p2.len)) &&
	    !lb_ledger_node_submit(c->ledger, LB_CHAIN_SETTLEMENT,
				   payout ? LB_TX_MKT_STORE_PAYOUT : LB_TX_MKT_CITE, b.data, b.len,
				   out, &em))
		lb_log(LB_LOG_INFO, "market: %s", payout ? "paid out a store withdrawal"
			       : kind == LB_MKT_CITE_AUDIT ? "cited an audit record"
			       : kind == LB_MKT_CITE_RATING ? "cited a rating"
			       : kind == LB_MKT_CITE_CREATION ? "cited a listing"
							      : "cited a data registration");
	lb_free(raw);
	lb_free(raw2);
	lb_buf_release(&p1);
	lb_buf_release(&p2);
	lb_buf_release(&b);
	return rc;
}

/* Settle a prepaid compute.run (compute.settle with the run's committed step count and, for a
 * run by hash, the published program); a free run is skipped. LB_EUNAVAILABLE: not anchored. */
static int settle_one(struct lb_mkt_closer *c, const uint8_t id[LB_HASH_LEN])
{
	struct lb_buf p1, b;
	struct lb_errmsg em;
	struct lb_tx tx;
	struct lb_oc_run_tx r = {0};
	json_t *run = NULL, *prog = NULL;
	uint8_t *raw = NULL, out[LB_HASH_LEN];
	size_t len = 0;
	int chain, rc;
	lb_buf_init(&p1, 1 << 20);
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	rc = lb_ledger_tx_raw(c->ledger, id, &chain, &raw, &len);
	if (rc || lb_tx_decode(&tx, raw, len, NULL) ||
	    lb_oc_run_decode(&r, tx.payload, tx.payload_len, NULL) || !r.has_prepay ||
	    lb_oc_run_json(c->ledger, id, &run, &em) ||
	    (r.by_hash && lb_oc_program_json(c->ledger, r.hash, &prog, &em)))
		goto out; /* not a prepaid run (or not committed): nothing to settle */
	if (lb_ledger_proof(c->ledger, id, LB_CHAIN_SETTLEMENT, &p1, &em)) {
		rc = LB_EUNAVAILABLE;
		goto out;
	}
	const char *text = prog ? json_string_value(json_object_get(prog, "program")) : "";
	json_int_t steps = json_integer_value(json_object_get(run, "steps"));
	if (text && !lb_mkt_settle_encode(&b, raw, len, p1.data, p1.len, (uint64_t)steps,
					  (const uint8_t *)text, strlen(text)) &&
	    !lb_ledger_node_submit(c->ledger, LB_CHAIN_SETTLEMENT, LB_TX_COMPUTE_SETTLE, b.data,
				   b.len, out, &em))
		lb_log(LB_LOG_INFO, "market: settled a compute run (%lld steps)", (long long)steps);
out:
	lb_oc_run_tx_clear(&r);
	json_decref(run);
	json_decref(prog);
	lb_free(raw);
	lb_buf_release(&p1);
	lb_buf_release(&b);
	return rc == LB_EUNAVAILABLE ? rc : LB_OK;
}

/* Read block h of chain and cite what it holds; LB_EUNAVAILABLE: not anchored yet. */
static int cite_block(struct lb_mkt_closer *c, int chain, uint64_t h)
{
	json_t *blk;
	struct lb_errmsg em;
	if (lb_ledger_block_json(c->ledger, chain, h, &blk, &em))
		return LB_EUNAVAILABLE;
	int rc = LB_OK;
	json_t *txs = json_object_get(blk, "txs"), *t;
	size_t i;
	json_array_foreach(txs, i, t) {
		const char *type = json_string_value(json_object_get(t, "type"));
		const char *idh = json_string_value(json_object_get(t, "id"));
		uint8_t id[LB_HASH_LEN];
		struct lb_buf seen;
		if (!type || !idh || !json_is_true(json_object_get(t, "valid")) ||
		    lb_hex_decode(id, LB_HASH_LEN, idh))
			continue;
		unsigned kind = !strcmp(type, "audit.record")    ? LB_MKT_CITE_AUDIT
				: !strcmp(type, "store.rate")    ? LB_MKT_CITE_RATING
				: !strcmp(type, "store.list")    ? LB_MKT_CITE_CREATION
				: !strcmp(type, "data.register") ? LB_MKT_CITE_DATA
				: !strcmp(type, "store.withdraw") ? KIND_PAYOUT
				: !strcmp(type, "compute.run")   ? KIND_SETTLE
								 : 0;
		if (!kind)
			continue;
		const uint8_t *tx2 = NULL;
		uint8_t *raw = NULL;
		size_t len = 0;
		int ch;
		struct lb_tx tx;
		if (kind == LB_MKT_CITE_CREATION || kind == LB_MKT_CITE_RATING) {
			if (lb_ledger_tx_raw(c->ledger, id, &ch, &raw, &len) ||
			    lb_tx_decode(&tx, raw, len, NULL)) {
				lb_free(raw);
				continue;
			}
			if (kind == LB_MKT_CITE_CREATION) {
				remember_listing(c, &tx);
			} else {
				struct lb_store_tx *r = lb_malloc(sizeof *r);
				if (r && !lb_store_tx_decode(LB_TX_STORE_RATE, tx.payload,
							     tx.payload_len, r, NULL))
					tx2 = find_listing(c, r->item);
				lb_free(r);
			}
			lb_free(raw);
			if (kind == LB_MKT_CITE_RATING && !tx2)
				continue;
		}
		lb_buf_init(&seen, 16);
		bool counted = !lb_ledger_state_read(c->ledger, LB_CHAIN_SETTLEMENT,
						    kind == KIND_PAYOUT   ? "mkt.payout"
						    : kind == KIND_SETTLE ? "oc.settled"
									  : "mkt.cited",
						    id, LB_HASH_LEN, &seen, &em);
		lb_buf_release(&seen);
		if (!counted && (rc = kind == KIND_SETTLE ? settle_one(c, id)
							  : cite_one(c, kind, id, tx2)))
			break;
	}
	json_decref(blk);
	return rc;
}

static void cite_due(struct lb_mkt_closer *c)
{
	static const int chains[2] = {LB_CHAIN_BUSINESS, LB_CHAIN_DIRECTORY};
	bool moved = false;
	for (int k = 0; k < 2; k++) {
		int ch = chains[k];
		uint64_t top = lb_ledger_height(c->ledger, ch);
		if (c->next_block[ch] > top + 1) { /* past the chain: it was replaced */
			lb_log(LB_LOG_WARN, "market: the cursor is past the %s chain (block %llu of "
			       "%llu); reading it from block 1", ch == LB_CHAIN_BUSINESS ? "business"
			       : "directory", (unsigned long long)c->next_block[ch],
			       (unsigned long long)top);
			c->next_block[ch] = 1;
			moved = true;
		}
		uint64_t from = c->next_block[ch];
		for (int n = 0; n < CITE_BLOCKS_PER_WAKE && c->next_block[ch] <= top; n++) {
			if (cite_block(c, ch, c->next_block[ch]))
				break; /* not anchored yet: read it again after the next block */
			c->next_block[ch]++;
		}
		moved |= c->next_block[ch] != from;
	}
	if (moved)
		cursor_save(c);
}

static void *closer_main(void *arg)
{
	struct lb_mkt_closer *c = arg;
	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		while (!c->wake && !c->stop)
			pthread_cond_wait(&c->cond, &c->mu);
		c->wake = false;
		if (c->stop)
			break;
		pthread_mutex_unlock(&c->mu);
		close_due(c);
		if (c->on)
			cite_due(c);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int lb_mkt_closer_start(struct lb_mkt_closer **out, struct lb_ledger *l, const char *home,
			struct lb_errmsg *em)
{
	struct lb_mkt_closer *c = lb_calloc(1, sizeof *c);
	if (!c)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	c->ledger = l;
	for (int i = 0; i < LB_CHAIN_COUNT; i++)
		c->next_block[i] = 1;
	if (home && home[0]) {
		char dir[4000];
		snprintf(dir, sizeof dir, "%.3990s/data", home);
		if (mkdir(dir, 0700) && errno != EEXIST)
			lb_log(LB_LOG_WARN, "market: cannot create %s: %s", dir, strerror(errno));
		snprintf(c->cursor, sizeof c->cursor, "%s/market.cursor", dir);
		cursor_load(c);
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cond, NULL);
	if (pthread_create(&c->thread, NULL, closer_main, c)) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->mu);
		lb_free(c);
		return lb_errf(em, LB_EINTERNAL, "cannot start the market's period closer");
	}
	*out = c;
	return LB_OK;
}

void lb_mkt_closer_notify(struct lb_mkt_closer *c, int chain)
{
	if (!c || chain != LB_CHAIN_SETTLEMENT)
		return;
	pthread_mutex_lock(&c->mu);
	c->wake = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mu);
}

void lb_mkt_closer_stop(struct lb_mkt_closer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->mu);
	lb_free(c->listed);
	lb_free(c);
}
