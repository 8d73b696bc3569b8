/*
 * Unit tests of the etcd orderer's cut rule (src/order/etcd_cut.c): count-threshold cuts,
 * cut markers (current, stale, duplicate, for another chain, with nothing waiting), anchor
 * markers (an empty block at the next height; stale, early, malformed ones ignored), block
 * time from the stream's clock readings, keys that are not ours or malformed, and the
 * restart property: a cutter restored from the cursors stored with the blocks and replayed
 * from its resume revision makes exactly the cuts an uninterrupted run makes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "order/etcd_int.h"

#define MAX_CUTS 4096

struct rec {
	int chain;
	uint64_t time_ms;
	size_t n;
	char txs[64][16]; /* first 64 tx values */
	uint8_t cursor[ETCD_CURSOR_LEN];
};

struct log {
	struct rec cuts[MAX_CUTS];
	size_t n;
	uint64_t height[LB_CHAIN_COUNT]; /* committed height per chain */
	/* the cursor of the latest block per chain, as the ledger would store it */
	uint8_t stored[LB_CHAIN_COUNT][ETCD_CURSOR_LEN];
	bool has[LB_CHAIN_COUNT];
	size_t limit; /* when set: refuse cuts past this many (a crash in mid-event) */
};

static int record(void *ctx, const struct lb_cut *cut, const uint8_t *cursor, size_t cursor_len,
		  struct lb_errmsg *em)
{
	struct log *l = ctx;
	if (l->limit && l->n >= l->limit)
		return LB_EIO;
	assert_true(l->n < MAX_CUTS);
	struct rec *r = &l->cuts[l->n++];
	r->chain = cut->chain;
	r->time_ms = cut->time_ms;
	r->n = cut->n;
	for (size_t i = 0; i < cut->n && i < 64; i++) {
		size_t k = cut->lens[i] < 15 ? cut->lens[i] : 15;
		memcpy(r->txs[i], cut->raws[i], k);
		r->txs[i][k] = 0;
	}
	assert_int_equal(cursor_len, ETCD_CURSOR_LEN);
	memcpy(r->cursor, cursor, ETCD_CURSOR_LEN);
	memcpy(l->stored[cut->chain], cursor, ETCD_CURSOR_LEN);
	l->has[cut->chain] = true;
	l->height[cut->chain]++;
	return LB_OK;
}

static const uint8_t NET[LB_HASH_LEN] = {1, 2, 3};

static void key(char *out, const char *suffix)
{
	char p[ETCD_PREFIX_MAX];
	etcd_prefix(p, NET);
	sprintf(out, "%s%s", p, suffix);
}

static int tx(struct etcd_cutter *c, int64_t rev, int64_t idx, int chain, const char *val)
{
	char k[200], sfx[100];
	snprintf(sfx, sizeof sfx, "t/%d/%064d", chain, (int)(rev * 100 + idx));
	key(k, sfx);
	struct etcd_pos p = {rev, idx, 0};
	return cutter_event(c, p, (const uint8_t *)k, strlen(k), (const uint8_t *)val, strlen(val),
			    NULL);
}

static void be(uint8_t *o, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		o[i] = (uint8_t)v;
}

/* A batch event b/<chain>/<id> holding the n texts vals (each as u32 BE length + bytes). */
static int batch(struct etcd_cutter *c, int64_t rev, int64_t idx, int chain,
		 const char *const *vals, size_t n)
{
	char k[200], sfx[100];
	uint8_t v[1024];
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t m = strlen(vals[i]);
		uint8_t b4[8];
		be(b4, m);
		memcpy(v + len, b4 + 4, 4);
		memcpy(v + len + 4, vals[i], m);
		len += 4 + m;
	}
	snprintf(sfx, sizeof sfx, "b/%d/%064d", chain, (int)(rev * 100 + idx));
	key(k, sfx);
	struct etcd_pos p = {rev, idx, 0};
	return cutter_event(c, p, (const uint8_t *)k, strlen(k), v, len, NULL);
}

static int marker(struct etcd_cutter *c, int64_t rev, int64_t idx, int chain, uint64_t height,
		  uint64_t t)
{
	char k[200], sfx[100];
	uint8_t v[8];
	be(v, t);
	snprintf(sfx, sizeof sfx, "cut/%d/%016llx", chain, (unsigned long long)height);
	key(k, sfx);
	struct etcd_pos p = {rev, idx, 0};
	return cutter_event(c, p, (const uint8_t *)k, strlen(k), v, 8, NULL);
}

/* An anchor marker: the clock and a ninth byte (1 for an anchor; anything else is malformed). */
static int anchor_marker(struct etcd_cutter *c, int64_t rev, int64_t idx, int chain,
			 uint64_t height, uint64_t t, uint8_t flag)
{
	char k[200], sfx[100];
	uint8_t v[9];
	be(v, t);
	v[8] = flag;
	snprintf(sfx, sizeof sfx, "cut/%d/%016llx", chain, (unsigned long long)height);
	key(k, sfx);
	struct etcd_pos p = {rev, idx, 0};
	return cutter_event(c, p, (const uint8_t *)k, strlen(k), v, 9, NULL);
}

static int clockev(struct etcd_cutter *c, int64_t rev, int64_t idx, uint64_t t)
{
	char k[200];
	uint8_t v[8];
	be(v, t);
	key(k, "clock");
	struct etcd_pos p = {rev, idx, 0};
	return cutter_event(c, p, (const uint8_t *)k, strlen(k), v, 8, NULL);
}

static void test_count_threshold(void **state)
{
	static struct log l;
	struct etcd_cutter c;
	memset(&l, 0, sizeof l);
	cutter_init(&c, NET, 3, record, &l);
	const char *v[] = {"a", "b", "c", "d", "e", "f", "g"};
	for (int i = 0; i < 7; i++)
		assert_int_equal(tx(&c, 10, i, 2, v[i]), LB_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.cuts[0].chain, 2);
	assert_int_equal(l.cuts[0].n, 3);
	assert_string_equal(l.cuts[0].txs[0], "a");
	assert_string_equal(l.cuts[0].txs[2], "c");
	assert_string_equal(l.cuts[1].txs[0], "d");
	assert_int_equal(c.ch[2].n, 1);
	assert_int_equal(c.ch[2].height, 3);
	cutter_release(&c);
}

static void test_markers_and_clock(void **state)
{
	static struct log l;
	struct etcd_cutter c;
	memset(&l, 0, sizeof l);
	cutter_init(&c, NET, 100, record, &l);
	assert_int_equal(clockev(&c, 5, 0, 1000), LB_OK);
	tx(&c, 5, 1, 0, "x1");
	tx(&c, 5, 2, 0, "x2");
	marker(&c, 6, 0, 1, 1, 1500);   /* another chain: nothing waits there */
	assert_int_equal(l.n, 0);
	marker(&c, 6, 1, 0, 2, 1500);   /* wrong height */
	assert_int_equal(l.n, 0);
	marker(&c, 7, 0, 0, 1, 2000);   /* the one */
	assert_int_equal(l.n, 1);
	assert_int_equal(l.cuts[0].n, 2);
	assert_int_equal(l.cuts[0].time_ms, 2000);
	marker(&c, 7, 1, 0, 1, 2500);   /* duplicate for the same height: stale */
	marker(&c, 8, 0, 0, 2, 2600);   /* current height, but nothing waits */
	assert_int_equal(l.n, 1);
	clockev(&c, 9, 0, 900);         /* a slow clock never moves time back */
	tx(&c, 9, 1, 0, "x3");
	marker(&c, 10, 0, 0, 2, 100);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.cuts[1].time_ms, 2600);
	cutter_release(&c);
}

static void test_foreign_and_malformed_keys(void **state)
{
	static struct log l;
	struct etcd_cutter c;
	memset(&l, 0, sizeof l);
	cutter_init(&c, NET, 1, record, &l);
	const char *bad[] = {"/leben/other/t/0/abc", "/elsewhere", "", "/leben/"};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(cutter_event(&c, (struct etcd_pos){1, (int64_t)i, 0},
					      (const uint8_t *)bad[i], strlen(bad[i]),
					      (const uint8_t *)"v", 1, NULL),
				 LB_OK);
	char k[200];
	const char *sfx[] = {"t/3/ab", "t/x/ab", "t", "cut/0/12", "cut/0/000000000000000G",
			     "clockx", "cut/9/0000000000000001"};
	for (size_t i = 0; i < 7; i++) {
		key(k, sfx[i]);
		assert_int_equal(cutter_event(&c, (struct etcd_pos){2, (int64_t)i, 0},
					      (const uint8_t *)k, strlen(k),
					      (const uint8_t *)"12345678", 8, NULL),
				 LB_OK);
	}
	key(k, "clock");
	cutter_event(&c, (struct etcd_pos){3, 0, 0}, (const uint8_t *)k, strlen(k),
		     (const uint8_t *)"123", 3, NULL); /* clock of the wrong size: ignored */
	assert_int_equal(c.clock_ms, 0);
	key(k, "t/1/ab");
	cutter_event(&c, (struct etcd_pos){3, 1, 0}, (const uint8_t *)k, strlen(k),
		     (const uint8_t *)"", 0, NULL); /* empty tx: ignored */
	assert_int_equal(l.n, 0);
	cutter_release(&c);
}

/* A pseudo-random stream of revisions with 1..5 events each. */
struct ev {
	int kind; /* 0 tx, 1 marker, 2 clock, 3 batch of nb txs (val#0 .. val#nb-1) */
	int nb;
	int64_t rev, idx;
	int chain;
	uint64_t arg; /* marker height or clock value */
	char val[16];
};

static size_t make_stream(struct ev *evs, size_t max, struct etcd_cutter *shadow)
{
	uint32_t s = 12345;
	size_t n = 0;
	uint64_t t = 1000;
	for (int64_t rev = 2; n + 8 < max; rev++) {
		s = s * 1103515245u + 12345u;
		int cnt = 1 + (int)(s >> 16) % 5;
		for (int i = 0; i < cnt; i++) {
			s = s * 1103515245u + 12345u;
			struct ev *e = &evs[n++];
			e->rev = rev;
			e->idx = i;
			e->chain = (int)(s >> 8) % LB_CHAIN_COUNT;
			int r = (int)(s >> 20) % 14;
			if (r < 7) {
				e->kind = 0;
				snprintf(e->val, sizeof e->val, "tx%zu", n);
			} else if (r >= 10) {
				e->kind = 3;
				e->nb = 1 + (int)(s >> 3) % 16; /* up to two cuts in one event */
				snprintf(e->val, sizeof e->val, "b%zu", n);
			} else if (r < 9) {
				/* a marker for a height near the next one (often stale or early) */
				e->kind = 1;
				e->arg = shadow->ch[e->chain].height + (uint64_t)((s >> 4) % 2);
				t += (s >> 12) % 50;
				e->val[0] = 0;
				shadow->ch[e->chain].height += (s >> 4) % 2 ? 0 : 1;
			} else {
				e->kind = 2;
				t += (s >> 12) % 50;
				e->arg = t;
			}
			if (e->kind == 1)
				e->val[0] = 0;
		}
	}
	return n;
}

static int feed(struct etcd_cutter *c, const struct ev *e)
{
	if (e->kind == 3) {
		char txt[16][40];
		const char *vals[16];
		for (int i = 0; i < e->nb; i++) {
			snprintf(txt[i], sizeof txt[i], "%s#%d", e->val, i);
			vals[i] = txt[i];
		}
		return batch(c, e->rev, e->idx, e->chain, vals, (size_t)e->nb);
	}
	if (e->kind == 0)
		return tx(c, e->rev, e->idx, e->chain, e->val);
	if (e->kind == 1)
		return marker(c, e->rev, e->idx, e->chain, e->arg, e->rev * 10);
	return clockev(c, e->rev, e->idx, e->arg);
}

static void test_restart_replays_identically(void **state)
{
	enum { N = 3000 };
	static struct ev evs[N];
	static struct log full, part;
	struct etcd_cutter c, shadow;
	memset(&full, 0, sizeof full);
	cutter_init(&shadow, NET, 7, record, &full);
	size_t n = make_stream(evs, N, &shadow);
	cutter_release(&shadow);

	cutter_init(&c, NET, 7, record, &full);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(feed(&c, &evs[i]), LB_OK);
	cutter_release(&c);
	assert_true(full.n > 50);

	/* crash after each cut (also between two cuts of one batch event): restore from what
	 * the "ledger" holds, replay */
	size_t mid_batch = 0;
	for (size_t k = 1; k < full.n; k++) {
		memset(&part, 0, sizeof part);
		part.limit = k;
		/* run the first k cuts, remembering stored cursors and heights */
		cutter_init(&c, NET, 7, record, &part);
		size_t i = 0;
		while (part.n < k)
			feed(&c, &evs[i++]);
		cutter_release(&c);
		part.limit = 0;
		size_t before = part.n;
		mid_batch += part.stored[part.cuts[k - 1].chain][8] != 0 ||
			     part.stored[part.cuts[k - 1].chain][11] != 0;
		struct etcd_cutter r;
		cutter_init(&r, NET, 7, record, &part);
		for (int ch = 0; ch < LB_CHAIN_COUNT; ch++)
			cutter_restore_chain(&r, ch, part.height[ch] + 1,
					     part.has[ch] ? part.stored[ch] : NULL);
		int64_t resume = cutter_resume_rev(&r);
		size_t j = 0;
		while (j < n && evs[j].rev < resume)
			j++;
		for (; j < n; j++)
			assert_int_equal(feed(&r, &evs[j]), LB_OK);
		cutter_release(&r);
		assert_int_equal(part.n, full.n);
		for (size_t m = before; m < full.n; m++) {
			assert_int_equal(part.cuts[m].chain, full.cuts[m].chain);
			assert_int_equal(part.cuts[m].n, full.cuts[m].n);
			assert_int_equal(part.cuts[m].time_ms, full.cuts[m].time_ms);
			for (size_t q = 0; q < part.cuts[m].n && q < 64; q++)
				assert_string_equal(part.cuts[m].txs[q], full.cuts[m].txs[q]);
			assert_memory_equal(part.cuts[m].cursor, full.cuts[m].cursor,
					    ETCD_CURSOR_LEN);
		}
	}
	assert_true(mid_batch > 10); /* cuts inside a batch event were among the crash points */
}

/* Batch events (one etcd value per request): their txs join the waiting list in order, a
 * block is cut in the middle of a batch when the threshold is reached (the cursor names the
 * place), a restart from that cursor takes the rest of the batch only; old per-tx events and
 * batch events in one stream are cut alike; a malformed batch value is ignored as a whole; a
 * tx carried by two batches is cut twice (the ledger commits the second copy invalid). */
static void test_batch_events(void **state)
{
	static struct log l, again;
	struct etcd_cutter c;
	memset(&l, 0, sizeof l);
	cutter_init(&c, NET, 4, record, &l);
	const char *v1[] = {"a", "b", "c", "d", "e", "f"};
	assert_int_equal(tx(&c, 5, 0, 1, "old"), LB_OK); /* a per-tx value of earlier versions */
	assert_int_equal(batch(&c, 6, 0, 1, v1, 6), LB_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.cuts[0].n, 4);
	assert_string_equal(l.cuts[0].txs[0], "old");
	assert_string_equal(l.cuts[0].txs[3], "c");
	assert_int_equal(l.cuts[0].cursor[11], 2); /* sub 2 of the batch at revision 6 */
	assert_int_equal(c.ch[1].n, 3);            /* d e f wait */
	const char *v2[] = {"f", "g"};             /* f again, in another batch */
	assert_int_equal(batch(&c, 7, 0, 1, v2, 2), LB_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.cuts[1].txs[0], "d");
	assert_string_equal(l.cuts[1].txs[2], "f");
	assert_string_equal(l.cuts[1].txs[3], "f");
	assert_int_equal(c.ch[1].n, 1);
	cutter_release(&c);

	/* restart from the first block's cursor (in mid-batch): the same second block */
	memset(&again, 0, sizeof again);
	again.height[1] = 1;
	struct etcd_cutter r;
	cutter_init(&r, NET, 4, record, &again);
	for (int ch = 0; ch < LB_CHAIN_COUNT; ch++)
		cutter_restore_chain(&r, ch, ch == 1 ? 2 : 1, ch == 1 ? l.cuts[0].cursor : NULL);
	assert_int_equal(cutter_resume_rev(&r), 6);
	assert_int_equal(batch(&r, 6, 0, 1, v1, 6), LB_OK);
	assert_int_equal(batch(&r, 7, 0, 1, v2, 2), LB_OK);
	assert_int_equal(again.n, 1);
	assert_int_equal(again.cuts[0].n, 4);
	assert_string_equal(again.cuts[0].txs[0], "d");
	assert_memory_equal(again.cuts[0].cursor, l.cuts[1].cursor, ETCD_CURSOR_LEN);
	cutter_release(&r);

	/* malformed values: nothing joins, on every node alike */
	memset(&l, 0, sizeof l);
	cutter_init(&c, NET, 1, record, &l);
	char k[200];
	key(k, "b/1/00");
	const uint8_t bad[][8] = {
		{0, 0, 0, 2, 'a', 'b', 0, 0},    /* a second length cut short */
		{0, 0, 0, 0, 0, 0, 0, 1},        /* an empty tx */
		{0, 0, 0, 9, 'a', 'b', 'c', 'd'} /* a length past the end */
	};
	const size_t blen[] = {7, 8, 8};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(cutter_event(&c, (struct etcd_pos){2, (int64_t)i, 0},
					      (const uint8_t *)k, strlen(k), bad[i], blen[i], NULL),
				 LB_OK);
	assert_int_equal(cutter_event(&c, (struct etcd_pos){3, 0, 0}, (const uint8_t *)k,
				      strlen(k), (const uint8_t *)"", 0, NULL),
			 LB_OK);
	key(k, "b/7/00");
	assert_int_equal(cutter_event(&c, (struct etcd_pos){3, 1, 0}, (const uint8_t *)k,
				      strlen(k), bad[0], 6, NULL),
			 LB_OK); /* a well-formed value under a chain that does not exist */
	assert_int_equal(l.n, 0);
	size_t cnt = 0, at = 99;
	assert_true(etcd_batch_parse(bad[0], 6, &cnt, &at));
	assert_int_equal(cnt, 1);
	assert_false(etcd_batch_parse(bad[0], 7, &cnt, &at));
	assert_int_equal(at, 1);
	cutter_release(&c);
}

/* Anchor markers cut an empty block at the chain's next height (someone waits for a block of
 * that chain to anchor another chain's block on a quiet network); stale, early, duplicate and
 * malformed ones are ignored; with txs waiting they cut them; a restart from the stored
 * cursors makes no cut again. */
static void test_anchor_markers(void **state)
{
	static struct log l, again;
	struct etcd_cutter c;
	memset(&l, 0, sizeof l);
	cutter_init(&c, NET, 100, record, &l);
	tx(&c, 5, 0, 2, "r1");
	marker(&c, 6, 0, 2, 1, 1000);                          /* business block 1 */
	assert_int_equal(l.n, 1);
	assert_int_equal(anchor_marker(&c, 7, 0, 0, 1, 1100, 1), LB_OK); /* settlement, empty */
	assert_int_equal(l.n, 2);
	assert_int_equal(l.cuts[1].chain, 0);
	assert_int_equal(l.cuts[1].n, 0);
	assert_int_equal(l.cuts[1].time_ms, 1100);
	assert_int_equal(c.ch[0].height, 2);
	anchor_marker(&c, 7, 1, 0, 1, 1200, 1);   /* duplicate: stale */
	anchor_marker(&c, 8, 0, 0, 3, 1200, 1);   /* early */
	anchor_marker(&c, 8, 1, 1, 1, 1200, 2);   /* ninth byte not 1: malformed */
	marker(&c, 8, 2, 1, 1, 1200);             /* a plain marker with nothing waiting */
	assert_int_equal(l.n, 2);
	tx(&c, 9, 0, 1, "d1");
	anchor_marker(&c, 10, 0, 1, 1, 1300, 1);  /* txs waiting: they are cut */
	assert_int_equal(l.n, 3);
	assert_int_equal(l.cuts[2].chain, 1);
	assert_int_equal(l.cuts[2].n, 1);
	cutter_release(&c);

	/* restart after the empty cut: replaying the stream makes the same later cuts only */
	memset(&again, 0, sizeof again);
	again.height[2] = 1;
	again.height[0] = 1;
	struct etcd_cutter r;
	cutter_init(&r, NET, 100, record, &again);
	cutter_restore_chain(&r, 0, 2, l.cuts[1].cursor);
	cutter_restore_chain(&r, 1, 1, NULL);
	cutter_restore_chain(&r, 2, 2, l.cuts[0].cursor);
	assert_true(cutter_resume_rev(&r) <= 7);
	tx(&r, 5, 0, 2, "r1");
	marker(&r, 6, 0, 2, 1, 1000);
	anchor_marker(&r, 7, 0, 0, 1, 1100, 1);
	anchor_marker(&r, 7, 1, 0, 1, 1200, 1);
	anchor_marker(&r, 8, 0, 0, 3, 1200, 1);
	anchor_marker(&r, 8, 1, 1, 1, 1200, 2);
	marker(&r, 8, 2, 1, 1, 1200);
	tx(&r, 9, 0, 1, "d1");
	anchor_marker(&r, 10, 0, 1, 1, 1300, 1);
	assert_int_equal(again.n, 1);
	assert_int_equal(again.cuts[0].chain, 1);
	assert_memory_equal(again.cuts[0].cursor, l.cuts[2].cursor, ETCD_CURSOR_LEN);
	cutter_release(&r);
}

/* The cut threshold comes from genesis.json's "ordering" section, read the same on every
 * member; absent means 5000; a malformed section is refused and leaves the output alone. */
static size_t genesis_max(const char *text, int *rc)
{
	json_error_t jerr;
	json_t *g = json_loads(text, 0, &jerr);
	assert_non_null(g);
	size_t out = 424242; /* sentinel: must stay on refusal */
	struct lb_errmsg em = {0};
	*rc = lb_etcd_genesis_block_max(g, &out, &em);
	if (*rc)
		assert_non_null(strstr(em.text, "ordering"));
	json_decref(g);
	return out;
}

static void test_genesis_cut_threshold(void **state)
{
	int rc;
	assert_int_equal(genesis_max("{\"network\": \"n\"}", &rc), 5000);
	assert_int_equal(rc, LB_OK);
	assert_int_equal(genesis_max("{\"ordering\": {}}", &rc), 5000);
	assert_int_equal(rc, LB_OK);
	assert_int_equal(genesis_max("{\"ordering\": {\"block_max_txs\": 1}}", &rc), 1);
	assert_int_equal(rc, LB_OK);
	assert_int_equal(genesis_max("{\"ordering\": {\"block_max_txs\": 65536}}", &rc), 65536);
	assert_int_equal(rc, LB_OK);
	const char *bad[] = {
		"{\"ordering\": 7}",
		"{\"ordering\": [\"block_max_txs\", 7]}",
		"{\"ordering\": {\"block_max_txs\": 0}}",
		"{\"ordering\": {\"block_max_txs\": -3}}",
		"{\"ordering\": {\"block_max_txs\": 65537}}",
		"{\"ordering\": {\"block_max_txs\": \"7\"}}",
		"{\"ordering\": {\"block_max_txs\": 7.0}}",
		"{\"ordering\": {\"block_max_txs\": 7, \"block_interval_ms\": 9}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(genesis_max(bad[i], &rc), 424242);
		assert_int_equal(rc, LB_EMALFORMED);
	}
	/* two members whose own settings differ (100 and 2) but share the genesis cut the same
	 * blocks: the threshold they pass to the cutter is the genesis's, 3 */
	static struct log l[2];
	struct etcd_cutter c[2];
	const char *v[] = {"a", "b", "c", "d", "e", "f", "g"};
	for (int m = 0; m < 2; m++) {
		memset(&l[m], 0, sizeof l[m]);
		size_t own = m ? 2 : 100;
		size_t max = genesis_max("{\"ordering\": {\"block_max_txs\": 3}}", &rc);
		assert_int_equal(rc, LB_OK);
		assert_true(max != own);
		cutter_init(&c[m], NET, max, record, &l[m]);
		for (int i = 0; i < 7; i++)
			assert_int_equal(tx(&c[m], 10, i, 1, v[i]), LB_OK);
		cutter_release(&c[m]);
	}
	assert_int_equal(l[0].n, 2);
	assert_int_equal(l[1].n, l[0].n);
	for (size_t k = 0; k < l[0].n; k++) {
		assert_int_equal(l[0].cuts[k].n, 3);
		assert_int_equal(l[1].cuts[k].n, 3);
		assert_memory_equal(l[0].cuts[k].cursor, l[1].cuts[k].cursor, ETCD_CURSOR_LEN);
		for (size_t i = 0; i < 3; i++)
			assert_string_equal(l[0].cuts[k].txs[i], l[1].cuts[k].txs[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_threshold),
		cmocka_unit_test(test_markers_and_clock),
		cmocka_unit_test(test_foreign_and_malformed_keys),
		cmocka_unit_test(test_restart_replays_identically),
		cmocka_unit_test(test_batch_events),
		cmocka_unit_test(test_anchor_markers),
		cmocka_unit_test(test_genesis_cut_threshold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
