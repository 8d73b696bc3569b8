/*
 * The mempool of one chain: admitted txs in admission order, indexed by id, each with its
 * admission write-set, and the overlay state (committed state + every admitted tx) that
 * admission checks a new tx against. After
 * a block commits the txs at the head of the queue the overlay stays right as it is, so only
 * entries no pending tx wrote since are pruned; anything else rebuilds it.
 */
#include <string.h>

#include "ledger/ledger_int.h"

static size_t slot_of(const struct mempool *m, const uint8_t id[LB_HASH_LEN])
{
	uint64_t h;
	memcpy(&h, id, sizeof h);
	return (size_t)(h & (m->table_cap - 1));
}

void mempool_init(struct mempool *m, struct chain_db *db)
{
	memset(m, 0, sizeof *m);
	state_init(&m->overlay, NULL, db);
	state_cache_enable(&m->overlay); /* emptied by every commit (lb_ledger_commit) */
	m->next_seq = 1;
}

static void pending_free(struct pending *p)
{
	lb_free(p->ws);
	lb_free(p->raw);
	lb_free(p);
}

void mempool_release(struct mempool *m)
{
	for (struct pending *p = m->head, *n; p; p = n) {
		n = p->next;
		pending_free(p);
	}
	lb_free(m->table);
	state_release(&m->overlay);
	memset(m, 0, sizeof *m);
}

struct pending *mempool_find(struct mempool *m, const uint8_t id[LB_HASH_LEN])
{
	if (!m->table_cap)
		return NULL;
	for (struct pending *p = m->table[slot_of(m, id)]; p; p = p->hnext)
		if (!memcmp(p->id, id, LB_HASH_LEN))
			return p;
	return NULL;
}

static int table_grow(struct mempool *m)
{
	size_t ncap = m->table_cap ? m->table_cap * 2 : 1024;
	struct pending **t = lb_calloc(ncap, sizeof *t);
	if (!t)
		return LB_ENOMEM;
	lb_free(m->table);
	m->table = t;
	m->table_cap = ncap;
	for (struct pending *p = m->head; p; p = p->next) {
		size_t s = slot_of(m, p->id);
		p->hnext = t[s];
		t[s] = p;
	}
	return LB_OK;
}

int mempool_add(struct mempool *m, const uint8_t id[LB_HASH_LEN], const uint8_t *raw,
		size_t len, uint64_t seq, uint8_t *ws, size_t ws_len)
{
	struct pending *p = NULL;
	if ((m->count + 1 > m->table_cap && table_grow(m)) || !(p = lb_calloc(1, sizeof *p)) ||
	    !(p->raw = lb_malloc(len))) {
		lb_free(p);
		lb_free(ws);
		return LB_ENOMEM;
	}
	p->ws = ws;
	p->ws_len = ws_len;
	memcpy(p->id, id, LB_HASH_LEN);
	memcpy(p->raw, raw, len);
	p->len = len;
	p->seq = seq;
	size_t s = slot_of(m, id);
	p->hnext = m->table[s];
	m->table[s] = p;
	if (m->tail)
		m->tail->next = p;
	else
		m->head = p;
	m->tail = p;
	m->count++;
	m->bytes += len;
	return LB_OK;
}

static void unlink_hash(struct mempool *m, struct pending *p)
{
	for (struct pending **q = &m->table[slot_of(m, p->id)]; *q; q = &(*q)->hnext)
		if (*q == p) {
			*q = p->hnext;
			return;
		}
}

/* Remove the head if its id is id; returns its seq or 0. */
uint64_t mempool_pop_head_if(struct mempool *m, const uint8_t id[LB_HASH_LEN])
{
	struct pending *p = m->head;
	if (!p || memcmp(p->id, id, LB_HASH_LEN))
		return 0;
	uint64_t seq = p->seq;
	unlink_hash(m, p);
	m->head = p->next;
	if (!m->head)
		m->tail = NULL;
	m->count--;
	m->bytes -= p->len;
	pending_free(p);
	return seq;
}

/* Remove a tx wherever it is in the queue (slow path). */
void mempool_remove(struct mempool *m, const uint8_t id[LB_HASH_LEN])
{
	struct pending *p = mempool_find(m, id);
	if (!p)
		return;
	unlink_hash(m, p);
	struct pending *prev = NULL;
	for (struct pending *q = m->head; q; prev = q, q = q->next)
		if (q == p) {
			if (prev)
				prev->next = p->next;
			else
				m->head = p->next;
			if (m->tail == p)
				m->tail = prev;
			break;
		}
	m->count--;
	m->bytes -= p->len;
	pending_free(p);
}

/* Re-apply every pending tx onto an empty overlay; txs that no longer apply are dropped
 * (reported through drop(ctx, id, code, message)). */
void mempool_rebuild(struct mempool *m, int chain, uint64_t height, uint64_t time_ms,
		     void (*drop)(void *ctx, const uint8_t *id, int code, const char *msg),
		     void *ctx)
{
	state_clear(&m->overlay);
	struct pending *p = m->head;
	while (p) {
		struct pending *next = p->next;
		struct lb_tx tx;
		struct lb_errmsg em;
		lb_errclear(&em);
		m->overlay.seq = p->seq;
		int rc = lb_tx_decode(&tx, p->raw, p->len, &em);
		lb_free(p->ws);
		p->ws = NULL;
		if (!rc)
			rc = ledger_apply_tx_ws(&m->overlay, chain, &tx, height, time_ms, &em, &p->ws,
						&p->ws_len);
		if (rc) {
			if (drop)
				drop(ctx, p->id, rc, em.text);
			mempool_remove(m, p->id);
		}
		p = next;
	}
}
