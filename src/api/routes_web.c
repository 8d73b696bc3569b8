/*
 * Routes the web app reads (docs/api.md, "For the web app"): a page of block summaries of one
 * chain, newest first, and the txs of one account. The account index is derived data kept in
 * memory: on each request the blocks applied since the last one are replayed into it (sender
 * and recipient of every tx), under one mutex, so a page never makes the client walk a chain.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/tx.h"

#define WEB_PAGE_DEFAULT 20
#define WEB_PAGE_MAX 100

/* A whole number from the query string (absent: def); LB_EMALFORMED otherwise. */
static int arg_u64(const struct api_call *c, const char *name, uint64_t def, uint64_t max,
		   uint64_t *out, struct lb_errmsg *em)
{
	const char *v = c->arg(c->conn, name);
	*out = def;
	if (!v)
		return LB_OK;
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	if (!*v || *end || *v == '-' || n > max)
		return lb_errf(em, LB_EMALFORMED, "%s=%.20s: use a whole number from 0 to %llu",
			       name, v, (unsigned long long)max);
	*out = n;
	return LB_OK;
}

static int param_chain(const struct api_call *c, int *chain, struct lb_errmsg *em)
{
	char name[32];
	if (api_param_copy(c->params, 0, name, sizeof name) || (*chain = lb_chain_parse(name)) < 0)
		return lb_errf(em, LB_ENOTFOUND,
			       "no such chain; the chains are settlement, directory and business");
	return LB_OK;
}

/* GET /v1/chains/{chain}/blocks?before=H&limit=N: headers of the blocks below height H
 * (default: all up to the tip), newest first, without their txs' bodies. */
int api_web_blocks(const struct api_call *c, json_t **out, unsigned *status,
		   struct lb_errmsg *em)
{
	int chain = 0, rc;
	uint64_t before, limit;
	if ((rc = param_chain(c, &chain, em)))
		return rc;
	uint64_t tip = lb_ledger_height(c->ledger, chain);
	if ((rc = arg_u64(c, "before", tip + 1, UINT64_MAX - 1, &before, em)) ||
	    (rc = arg_u64(c, "limit", WEB_PAGE_DEFAULT, WEB_PAGE_MAX, &limit, em)))
		return rc;
	if (before > tip + 1)
		before = tip + 1;
	json_t *blocks = json_array();
	uint64_t h = before;
	for (; h > 0 && json_array_size(blocks) < limit; h--) {
		json_t *b = NULL, *tx;
		size_t i;
		if ((rc = lb_ledger_block_json(c->ledger, chain, h - 1, &b, em))) {
			json_decref(blocks);
			return rc;
		}
		json_t *types = json_array();
		json_array_foreach(json_object_get(b, "txs"), i, tx) {
			if (i == 8)
				break;
			json_array_append(types, json_object_get(tx, "type"));
		}
		json_object_del(b, "txs");
		json_object_set_new(b, "types", types);
		json_array_append_new(blocks, b);
	}
	*out = json_pack("{s:s,s:I,s:o,s:o}", "chain", lb_chain_name(chain), "height",
			 (json_int_t)tip, "blocks", blocks, "next_before",
			 h > 0 ? json_integer((json_int_t)h) : json_null());
	return *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}

/* ---- account index ------------------------------------------------------------------------ */

struct acct_entry {
	uint64_t time_ms;           /* time of the tx's block */
	uint8_t addr[LB_ADDR_LEN];  /* the account */
	uint8_t chain;              /* chain of the tx */
	uint8_t received;           /* 1: the account is the tx's recipient, 0: its sender */
	uint8_t id[LB_HASH_LEN];    /* tx id */
};

static struct {
	pthread_mutex_t mu;
	const struct lb_ledger *ledger;    /* the ledger indexed (another one resets the index) */
	uint64_t done[LB_CHAIN_COUNT];     /* blocks replayed per chain */
	struct acct_entry *e;              /* entries in chain order of replay */
	size_t n, cap;
} acct = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int acct_add(const char *addr_text, int chain, bool received, const char *idhex,
		    uint64_t time_ms)
{
	struct acct_entry e = {.time_ms = time_ms, .chain = (uint8_t)chain, .received = received};
	if (!addr_text || !idhex || lb_addr_decode(e.addr, addr_text, NULL) ||
	    lb_hex_decode(e.id, LB_HASH_LEN, idhex))
		return LB_OK; /* not an account field: nothing to index */
	if (acct.n == acct.cap) {
		size_t cap = acct.cap ? 2 * acct.cap : 1024;
		struct acct_entry *p = lb_realloc(acct.e, cap * sizeof *p);
		if (!p)
			return LB_ENOMEM;
		acct.e = p;
		acct.cap = cap;
	}
	acct.e[acct.n++] = e;
	return LB_OK;
}

/* Replay the blocks not indexed yet. Lock held. */
static int acct_catch_up(struct lb_ledger *l, struct lb_errmsg *em)
{
	bool reset = acct.ledger != l;
	for (int ch = 0; ch < LB_CHAIN_COUNT; ch++)
		reset |= acct.done[ch] > lb_ledger_height(l, ch);
	if (reset) {
		acct.n = 0;
		memset(acct.done, 0, sizeof acct.done);
		acct.ledger = l;
	}
	for (int ch = 0; ch < LB_CHAIN_COUNT; ch++) {
		uint64_t top = lb_ledger_height(l, ch);
		for (uint64_t b = acct.done[ch] + 1; b <= top; b++) {
			json_t *blk = NULL, *tx;
			size_t i;
			int rc = lb_ledger_block_json(l, ch, b, &blk, em);
			if (rc)
				return rc;
			uint64_t t = (uint64_t)json_integer_value(json_object_get(blk, "time_ms"));
			json_array_foreach(json_object_get(blk, "txs"), i, tx) {
				const char *id = json_string_value(json_object_get(tx, "id"));
				const char *from = json_string_value(json_object_get(tx, "sender"));
				const char *to = json_string_value(
					json_object_get(json_object_get(tx, "payload"), "to"));
				int bad = acct_add(from, ch, false, id, t) ||
					  (to && (!from || strcmp(to, from)) &&
					   acct_add(to, ch, true, id, t));
				/* a payment list (market.pool.pay): each payee received it */
				size_t k;
				json_t *pay;
				json_array_foreach(json_object_get(json_object_get(tx, "payload"),
								   "payments"),
						   k, pay) {
					const char *p = json_string_value(json_object_get(pay, "to"));
					if (!bad && p && (!from || strcmp(p, from)))
						bad = acct_add(p, ch, true, id, t);
				}
				if (bad) {
					json_decref(blk);
					return lb_errf(em, LB_ENOMEM, "out of memory indexing accounts");
				}
			}
			json_decref(blk);
			acct.done[ch] = b;
		}
	}
	return LB_OK;
}

/* Newest first: later block time, then later in replay order (position in the index). */
static int newer_first(const void *a, const void *b)
{
	const struct acct_entry *x = *(const struct acct_entry *const *)a;
	const struct acct_entry *y = *(const struct acct_entry *const *)b;
	if (x->time_ms != y->time_ms)
		return x->time_ms < y->time_ms ? 1 : -1;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* GET /v1/accounts/{address}/txs?offset=N&limit=N: committed txs the account sent or received,
 * newest block first over the three chains, each with its decoded view. */
int api_web_account_txs(const struct api_call *c, json_t **out, unsigned *status,
			struct lb_errmsg *em)
{
	char text[LB_ADDR_TEXT_LEN + 8];
	uint8_t addr[LB_ADDR_LEN];
	uint64_t offset, limit;
	int rc;
	if (api_param_copy(c->params, 0, text, sizeof text))
		return lb_errf(em, LB_EMALFORMED, "that is too long for an account address");
	if ((rc = lb_addr_decode(addr, text, em)) ||
	    (rc = arg_u64(c, "offset", 0, UINT32_MAX, &offset, em)) ||
	    (rc = arg_u64(c, "limit", WEB_PAGE_DEFAULT, WEB_PAGE_MAX, &limit, em)))
		return rc;
	struct acct_entry *page = lb_calloc(limit ? limit : 1, sizeof *page);
	struct acct_entry **mine = NULL;
	if (!page)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	size_t total = 0, got = 0;
	pthread_mutex_lock(&acct.mu);
	rc = acct_catch_up(c->ledger, em);
	for (size_t i = 0; !rc && i < acct.n; i++)
		total += !memcmp(acct.e[i].addr, addr, LB_ADDR_LEN);
	if (!rc && total && !(mine = lb_calloc(total, sizeof *mine)))
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
	for (size_t i = 0, k = 0; !rc && i < acct.n; i++)
		if (!memcmp(acct.e[i].addr, addr, LB_ADDR_LEN))
			mine[k++] = &acct.e[i];
	if (!rc && total) {
		qsort(mine, total, sizeof *mine, newer_first);
		for (size_t i = offset; i < total && got < limit; i++)
			page[got++] = *mine[i];
	}
	pthread_mutex_unlock(&acct.mu);
	lb_free(mine);
	json_t *txs = json_array();
	for (size_t i = 0; !rc && i < got; i++) {
		json_t *t = NULL;
		if ((rc = lb_ledger_tx_json(c->ledger, page[i].id, &t, em)))
			break;
		json_object_del(t, "proof");
		json_object_set_new(t, "direction", json_string(page[i].received ? "in" : "out"));
		json_array_append_new(txs, t);
	}
	lb_free(page);
	if (rc) {
		json_decref(txs);
		return rc;
	}
	*out = json_pack("{s:s,s:I,s:I,s:o}", "address", text, "total", (json_int_t)total,
			 "offset", (json_int_t)offset, "txs", txs);
	return *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}
