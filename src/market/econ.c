/*
 * The settlement-chain economy (include/leben/market.h, docs/economy.md): genesis "market",
 * settling paid uses through the split tables, bonus CSC, quota pools funded by credit
 * partners, periodic rankings paying the top k nodes of each pool, ASC redemption, split
 * tables changed by a vote of the credit partners.
 *
 * State (settlement chain), all under "mkt.*":
 *   mkt.cfg   "config" -> the encoded struct lb_mkt_config (presence = market on)
 *             "next"   -> the next period to close
 *   mkt.tot   "redeemed" | "minted" | "burned" -> totals (micro-units)
 *   mkt.pool  pool u8 -> asc_locked, pending (CSC still to allot), per_period, available
 *   mkt.act   period u64be | pool u8 | node[20] -> activity counters of the period
 *   mkt.ixn   period u64be | pool u8 -> number of nodes active in the period
 *   mkt.ix    period u64be | pool u8 | i u32be -> the i-th active node (in order of first use)
 *   mkt.rank  period u64be | pool u8 -> allotted, count, then (node[20], score, paid) each
 *   mkt.prop  proposal id -> splits, expires, yes, no, status
 *   mkt.vote  proposal id | voter[20] -> 1
 * The patients' pools are ordinary "bal" accounts at lb_mkt_patient_pool(owner).
 * Activity is counted as uses happen (O(1) each), so closing a period reads one counter per
 * node active in it (a bounded insertion keeps the top k), independent of the number of uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leben/codec.h"
#include "leben/data_hexa.h"
#include "leben/data_tx.h"
#include "leben/exchange.h"
#include "leben/market_store.h"
#include "leben/ledger.h"
#include "leben/market.h"
#include "leben/onchain.h"
#include "leben/tx.h"
#include "market/market_int.h"

#define NS_CFG "mkt.cfg"
#define NS_TOT "mkt.tot"
#define NS_POOL "mkt.pool"
#define NS_ACT "mkt.act"
#define NS_IXN "mkt.ixn"
#define NS_IX "mkt.ix"
#define NS_RANK "mkt.rank"
#define NS_PROP "mkt.prop"
#define NS_VOTE "mkt.vote"
#define NS_CITED "mkt.cited"
#define NS_CREATED "mkt.created"
#define NS_PSHARE "mkt.pshare"
#define NS_PCLAIM "mkt.pclaim"
#define NS_PAYOUT "mkt.payout" /* store.withdraw tx id -> settlement height of its payout */
#define NS_SERVED "mkt.served" /* period be64 | patient -> 1: service bonus paid (once a period) */
/* period be64 | use u8 | role u8 | payer | party -> 1: a market.pay bonus paid (once a period) */
#define NS_BONUSED "mkt.bonused"

#define TOP_K_MAX 1000

static const char *const pool_names[LB_MKT_POOL_COUNT] = {"developers", "data", "audit",
							   "bonus"};

const char *lb_mkt_pool_name(unsigned pool)
{
	return pool < LB_MKT_POOL_COUNT ? pool_names[pool] : "?";
}

int lb_mkt_pool_parse(const char *name, unsigned *pool, struct lb_errmsg *em)
{
	for (unsigned i = 0; i < LB_MKT_POOL_COUNT; i++)
		if (name && !strcmp(name, pool_names[i])) {
			*pool = i;
			return LB_OK;
		}
	return lb_errf(em, LB_EINVALID,
		       "unknown pool '%s': use developers, data, audit or bonus", name ? name : "");
}

static const char *amt(char *buf, size_t n, uint64_t v)
{
	snprintf(buf, n, "%llu.%06llu", (unsigned long long)(v / 1000000),
		 (unsigned long long)(v % 1000000));
	return buf;
}
#define AMT(v) amt((char[32]){0}, 32, (v))

static const char *addr_text(char out[LB_ADDR_TEXT_LEN + 1], const uint8_t a[LB_ADDR_LEN])
{
	lb_addr_encode(out, a);
	return out;
}
#define ADDR(a) addr_text((char[LB_ADDR_TEXT_LEN + 1]){0}, (a))

static const char *hex_text(char out[2 * LB_HASH_LEN + 1], const uint8_t h[LB_HASH_LEN])
{
	lb_hex_encode(out, h, LB_HASH_LEN);
	return out;
}
#define HEX(h) hex_text((char[2 * LB_HASH_LEN + 1]){0}, (h))

static void be64(uint8_t *o, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		o[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* ---- balances and supply (the ledger's "bal" and "supply" entries) ----------------------- */

static int bal_get(struct lb_state *s, const uint8_t a[LB_ADDR_LEN], uint64_t v[2])
{
	const uint8_t *p;
	size_t n;
	int rc = lb_state_get(s, "bal", a, LB_ADDR_LEN, &p, &n);
	v[0] = v[1] = 0;
	if (rc == LB_ENOTFOUND)
		return LB_OK;
	if (rc)
		return rc;
	struct lb_dec d;
	lb_dec_init(&d, p, n, "balance", NULL);
	if (lb_dec_uvar(&d, "asc", UINT64_MAX, &v[0]) || lb_dec_uvar(&d, "csc", UINT64_MAX, &v[1]) ||
	    lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

static int bal_put(struct lb_state *s, const uint8_t a[LB_ADDR_LEN], const uint64_t v[2])
{
	uint8_t tmp[24];
	struct lb_buf b = {.data = tmp, .len = 0, .cap = sizeof tmp - 1, .max = sizeof tmp};
	if (!v[0] && !v[1])
		return lb_state_del(s, "bal", a, LB_ADDR_LEN);
	lb_enc_uvar(&b, v[0]);
	lb_enc_uvar(&b, v[1]);
	return lb_state_put(s, "bal", a, LB_ADDR_LEN, tmp, b.len);
}

int lb_mkt_balances(struct lb_state *s, const uint8_t addr[LB_ADDR_LEN], uint64_t *asc,
		    uint64_t *csc)
{
	uint64_t v[2];
	int rc = bal_get(s, addr, v);
	*asc = v[0];
	*csc = v[1];
	return rc;
}

int lb_mkt_credit(struct lb_state *s, const uint8_t to[LB_ADDR_LEN], int asset, uint64_t amount,
		  struct lb_errmsg *em)
{
	uint64_t v[2];
	int i = asset == LB_ASC ? 0 : 1, rc;
	if (!amount)
		return LB_OK;
	if ((rc = bal_get(s, to, v)))
		return lb_errf(em, rc, "reading the balance of %s failed", ADDR(to));
	if (v[i] > UINT64_MAX - amount)
		return lb_errf(em, LB_ERANGE, "the balance of %s would overflow", ADDR(to));
	v[i] += amount;
	return bal_put(s, to, v);
}

int lb_mkt_debit(struct lb_state *s, const uint8_t from[LB_ADDR_LEN], int asset,
		 uint64_t amount, struct lb_errmsg *em)
{
	uint64_t v[2];
	int i = asset == LB_ASC ? 0 : 1, rc;
	if ((rc = bal_get(s, from, v)))
		return lb_errf(em, rc, "reading the balance of %s failed", ADDR(from));
	if (v[i] < amount)
		return lb_errf(em, LB_EFUNDS, "the balance of %s is %s %s but %s %s is needed",
			       ADDR(from), AMT(v[i]), i ? "CSC" : "ASC", AMT(amount), i ? "CSC" : "ASC");
	v[i] -= amount;
	return bal_put(s, from, v);
}

static int tot_add(struct lb_state *s, const char *key, uint64_t delta)
{
	uint64_t v;
	int rc = lb_state_get_u64(s, NS_TOT, key, strlen(key), 0, &v);
	if (rc)
		return rc;
	if (v > UINT64_MAX - delta)
		return LB_ERANGE;
	return lb_state_put_u64(s, NS_TOT, key, strlen(key), v + delta);
}

int lb_mkt_supply_add(struct lb_state *s, int asset, uint64_t amount, bool burn,
		      struct lb_errmsg *em)
{
	const char *key = asset == LB_ASC ? "asc" : "csc";
	uint64_t sup;
	int rc = lb_state_get_u64(s, "supply", key, 3, 0, &sup);
	if (rc)
		return lb_errf(em, rc, "reading the supply failed");
	if (burn && sup < amount)
		return lb_errf(em, LB_ECORRUPT, "the %s supply would fall below zero", key);
	if (!burn && sup > UINT64_MAX - amount)
		return lb_errf(em, LB_ERANGE, "the %s supply would overflow", key);
	return lb_state_put_u64(s, "supply", key, 3, burn ? sup - amount : sup + amount);
}

int lb_mkt_burn_compute(struct lb_state *s, uint64_t csc, struct lb_errmsg *em)
{
	int rc;
	if (!csc)
		return LB_OK;
	if ((rc = lb_mkt_supply_add(s, LB_CSC, csc, true, em)))
		return rc;
	return tot_add(s, "burned", csc);
}

void lb_mkt_patient_pool(const uint8_t owner[LB_ADDR_LEN], uint8_t out[LB_ADDR_LEN])
{
	uint8_t h[LB_HASH_LEN];
	lb_hash_domain(h, "LEBEN-patient-pool-v1", owner, LB_ADDR_LEN);
	memcpy(out, h, LB_ADDR_LEN);
}

/* ---- configuration ------------------------------------------------------------------------ */

static int cfg_encode(struct lb_buf *b, const struct lb_mkt_config *c)
{
	int rc = lb_mkt_splits_encode(&c->splits, b);
	if (!rc)
		rc = lb_enc_fixed(b, c->platform, LB_ADDR_LEN);
	uint64_t scalars[] = {c->period_blocks,        c->quota_csc_per_asc,
			      c->quota_periods,        c->top_k,
			      c->compute_step_price,   c->compute_cpu_ms_price,
			      c->compute_mem_mib_price, c->partners};
	for (size_t i = 0; i < sizeof scalars / sizeof scalars[0] && !rc; i++)
		rc = lb_enc_uvar(b, scalars[i]);
	for (unsigned u = 0; u < LB_MKT_USE_COUNT && !rc; u++)
		for (unsigned r = 0; r < LB_MKT_ROLE_COUNT && !rc; r++)
			rc = lb_enc_uvar(b, c->bonus[u][r]);
	for (unsigned k = 0; k < 3 && !rc; k++)
		if (!(rc = lb_enc_uvar(b, c->weights[k].call)) &&
		    !(rc = lb_enc_uvar(b, c->weights[k].rating)) &&
		    !(rc = lb_enc_uvar(b, c->weights[k].scale)))
			rc = lb_enc_uvar(b, c->weights[k].quality);
	return rc;
}

static int cfg_decode(struct lb_mkt_config *c, const uint8_t *p, size_t n)
{
	struct lb_dec d;
	uint64_t top_k;
	lb_dec_init(&d, p, n, "market config", NULL);
	if (mkt_splits_dec(&d, &c->splits))
		return LB_ECORRUPT;
	if (lb_dec_fixed(&d, "platform", c->platform, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "period", UINT64_MAX, &c->period_blocks) ||
	    lb_dec_uvar(&d, "rate", UINT64_MAX, &c->quota_csc_per_asc) ||
	    lb_dec_uvar(&d, "periods", UINT64_MAX, &c->quota_periods) ||
	    lb_dec_uvar(&d, "top_k", TOP_K_MAX, &top_k) ||
	    lb_dec_uvar(&d, "step", UINT64_MAX, &c->compute_step_price) ||
	    lb_dec_uvar(&d, "cpu", UINT64_MAX, &c->compute_cpu_ms_price) ||
	    lb_dec_uvar(&d, "mem", UINT64_MAX, &c->compute_mem_mib_price) ||
	    lb_dec_uvar(&d, "partners", UINT64_MAX, &c->partners))
		return LB_ECORRUPT;
	c->top_k = (uint32_t)top_k;
	for (unsigned u = 0; u < LB_MKT_USE_COUNT; u++)
		for (unsigned r = 0; r < LB_MKT_ROLE_COUNT; r++)
			if (lb_dec_uvar(&d, "bonus", UINT64_MAX, &c->bonus[u][r]))
				return LB_ECORRUPT;
	for (unsigned k = 0; k < 3; k++)
		if (lb_dec_uvar(&d, "w", UINT64_MAX, &c->weights[k].call) ||
		    lb_dec_uvar(&d, "w", UINT64_MAX, &c->weights[k].rating) ||
		    lb_dec_uvar(&d, "w", UINT64_MAX, &c->weights[k].scale) ||
		    lb_dec_uvar(&d, "w", UINT64_MAX, &c->weights[k].quality))
			return LB_ECORRUPT;
	return lb_dec_end(&d) ? LB_ECORRUPT : LB_OK;
}

static int cfg_store(struct lb_state *s, const struct lb_mkt_config *c)
{
	struct lb_buf b;
	lb_buf_init(&b, 4096);
	int rc = cfg_encode(&b, c);
	if (!rc)
		rc = lb_state_put(s, NS_CFG, "config", 6, b.data, b.len);
	lb_buf_release(&b);
	return rc;
}

int lb_mkt_config_load(struct lb_state *s, struct lb_mkt_config *cfg, bool *on)
{
	const uint8_t *p;
	size_t n;
	memset(cfg, 0, sizeof *cfg);
	*on = false;
	int rc = lb_state_get(s, NS_CFG, "config", 6, &p, &n);
	if (rc == LB_ENOTFOUND)
		return LB_OK;
	if (rc)
		return rc;
	if ((rc = cfg_decode(cfg, p, n)))
		return rc;
	*on = true;
	return LB_OK;
}

/* ---- split tables as JSON ------------------------------------------------------------------ */

json_t *lb_mkt_splits_to_json(const struct lb_mkt_splits *s)
{
	json_t *o = json_object();
	for (unsigned u = 0; o && u < LB_MKT_USE_COUNT; u++) {
		json_t *t = json_object();
		for (unsigned r = 0; t && r < LB_MKT_ROLE_COUNT; r++)
			json_object_set_new(t, lb_mkt_role_name(r),
					    json_integer((json_int_t)s->use[u].ppm[r]));
		json_object_set_new(o, lb_mkt_use_name(u), t);
	}
	return o;
}

int lb_mkt_splits_from_json(json_t *j, const struct lb_mkt_splits *base,
			    struct lb_mkt_splits *out, struct lb_errmsg *em)
{
	const char *uk, *rk;
	json_t *t, *v;
	unsigned u, r;
	int rc;
	*out = *base;
	if (!json_is_object(j))
		return lb_errf(em, LB_EINVALID,
			       "split tables must be an object {\"data-run\": {\"owner\": ppm, ...}, "
			       "...}");
	json_object_foreach(j, uk, t) {
		if ((rc = lb_mkt_use_parse(uk, &u, em)))
			return rc;
		if (!json_is_object(t))
			return lb_errf(em, LB_EINVALID, "the %s split table must be an object of "
					     "role: ppm", uk);
		memset(&out->use[u], 0, sizeof out->use[u]);
		json_object_foreach(t, rk, v) {
			if ((rc = lb_mkt_role_parse(rk, &r, em)))
				return lb_errwrap(em, "the %s split table: ", uk);
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > (json_int_t)LB_MKT_PPM)
				return lb_errf(em, LB_EINVALID,
					       "the %s split table: %s must be a whole number of parts "
					       "per million from 0 to %u",
					       uk, rk, LB_MKT_PPM);
			out->use[u].ppm[r] = (uint32_t)json_integer_value(v);
		}
	}
	return lb_mkt_splits_check(out, em);
}

/* ---- genesis -------------------------------------------------------------------------------- */

static int u64_field(json_t *o, const char *k, uint64_t dflt, uint64_t lo, uint64_t hi,
		     uint64_t *out, struct lb_errmsg *em)
{
	json_t *v = json_object_get(o, k);
	*out = dflt;
	if (!v)
		return LB_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < lo || (uint64_t)json_integer_value(v) > hi)
		return lb_errf(em, LB_EINVALID,
			       "genesis: market.%s must be a whole number from %llu to %llu", k,
			       (unsigned long long)lo, (unsigned long long)hi);
	*out = (uint64_t)json_integer_value(v);
	return LB_OK;
}

/* genesis.json "market": {"platform": addr, "splits": {...}, "period_blocks", "top_k",
 * "quota": {"csc_per_asc", "periods"}, "bonus": {use: {role: micro-CSC}}, "weights":
 * {pool: {"call","rating","scale","quality"}}, "compute": {"step","cpu_100ms","mem_mib"}} */
static int genesis_market(json_t *g, int chain, struct lb_state *s, struct lb_errmsg *em)
{
	static const char *const known[] = {"platform", "splits", "period_blocks", "top_k",
					    "quota", "bonus", "weights", "compute"};
	json_t *m = json_object_get(g, "market"), *v;
	const char *key;
	struct lb_mkt_config c;
	struct lb_mkt_splits dflt;
	uint64_t k;
	int rc;
	if (chain != LB_CHAIN_SETTLEMENT || !m)
		return LB_OK;
	if (!json_is_object(m))
		return lb_errf(em, LB_EINVALID, "genesis: 'market' must be an object (docs/economy.md)");
	json_object_foreach(m, key, v) {
		size_t i = 0;
		while (i < sizeof known / sizeof known[0] && strcmp(key, known[i]))
			i++;
		if (i == sizeof known / sizeof known[0])
			return lb_errf(em, LB_EINVALID,
				       "genesis: market.%s is not a setting (platform, splits, "
				       "period_blocks, top_k, quota, bonus, weights, compute)",
				       key);
	}
	memset(&c, 0, sizeof c);
	lb_mkt_splits_default(&dflt);
	c.splits = dflt;
	if ((v = json_object_get(m, "splits")) &&
	    (rc = lb_mkt_splits_from_json(v, &dflt, &c.splits, em)))
		return lb_errwrap(em, "genesis: market.splits: ");
	v = json_object_get(m, "platform");
	if (!json_is_string(v) || lb_addr_decode(c.platform, json_string_value(v), em))
		return lb_errf(em, LB_EINVALID,
			       "genesis: market.platform must be the platform pool's address (lb1...)");
	json_t *q = json_object_get(m, "quota"), *cp = json_object_get(m, "compute");
	/* at least 2 blocks: a close lands in the next period's first block, so with 1 block per
	 * period every close would end the next period and the nodes' closes would never stop */
	if ((rc = u64_field(m, "period_blocks", 100, 2, 1000000000, &c.period_blocks, em)) ||
	    (rc = u64_field(m, "top_k", 3, 1, TOP_K_MAX, &k, em)) ||
	    (rc = u64_field(q, "csc_per_asc", 100, 0, 1000000, &c.quota_csc_per_asc, em)) ||
	    (rc = u64_field(q, "periods", 10, 1, 1000000, &c.quota_periods, em)) ||
	    (rc = u64_field(cp, "step", 1, 0, UINT32_MAX, &c.compute_step_price, em)) ||
	    (rc = u64_field(cp, "cpu_100ms", 1000, 0, UINT32_MAX, &c.compute_cpu_ms_price, em)) ||
	    (rc = u64_field(cp, "mem_mib", 100, 0, UINT32_MAX, &c.compute_mem_mib_price, em)))
		return rc;
	c.top_k = (uint32_t)k;
	/* default bonuses (micro-CSC per party per use): docs/economy.md */
	c.bonus[LB_MKT_USE_DATA_RUN][LB_MKT_ROLE_OWNER] = 1000000;
	c.bonus[LB_MKT_USE_DATA_RUN][LB_MKT_ROLE_PATIENTS] = 100000;
	c.bonus[LB_MKT_USE_STUDY][LB_MKT_ROLE_OWNER] = 1000000;
	c.bonus[LB_MKT_USE_STUDY][LB_MKT_ROLE_PATIENTS] = 100000;
	c.bonus[LB_MKT_USE_CONTRACT][LB_MKT_ROLE_AUTHORS] = 1000000;
	c.bonus[LB_MKT_USE_CONTRACT][LB_MKT_ROLE_PATIENTS] = 100000; /* service received */
	c.bonus[LB_MKT_USE_ALGO][LB_MKT_ROLE_ALGO] = 500000;
	json_t *bo = json_object_get(m, "bonus"), *t;
	json_object_foreach(bo, key, t) {
		unsigned u, r;
		const char *rk;
		if ((rc = lb_mkt_use_parse(key, &u, em)))
			return lb_errwrap(em, "genesis: market.bonus: ");
		memset(c.bonus[u], 0, sizeof c.bonus[u]);
		json_object_foreach(t, rk, v) {
			if ((rc = lb_mkt_role_parse(rk, &r, em)))
				return lb_errwrap(em, "genesis: market.bonus.%s: ", key);
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				return lb_errf(em, LB_EINVALID,
					       "genesis: market.bonus.%s.%s must be micro-CSC >= 0", key,
					       rk);
			c.bonus[u][r] = (uint64_t)json_integer_value(v);
		}
	}
	for (unsigned p = 0; p < 3; p++)
		c.weights[p] = (struct lb_mkt_weights){1000000, 200000, 1, 1000};
	json_t *wo = json_object_get(m, "weights");
	json_object_foreach(wo, key, t) {
		unsigned p;
		if ((rc = lb_mkt_pool_parse(key, &p, em)) || p == LB_MKT_POOL_BONUS)
			return lb_errf(em, LB_EINVALID, "genesis: market.weights.%s: only the "
					     "developers, data and audit pools are ranked", key);
		if ((rc = u64_field(t, "call", c.weights[p].call, 0, UINT32_MAX, &c.weights[p].call,
				    em)) ||
		    (rc = u64_field(t, "rating", c.weights[p].rating, 0, UINT32_MAX,
				    &c.weights[p].rating, em)) ||
		    (rc = u64_field(t, "scale", c.weights[p].scale, 0, UINT32_MAX,
				    &c.weights[p].scale, em)) ||
		    (rc = u64_field(t, "quality", c.weights[p].quality, 0, UINT32_MAX,
				    &c.weights[p].quality, em)))
			return rc;
	}
	c.partners = json_array_size(json_object_get(g, "credit_partners"));
	return cfg_store(s, &c);
}

/* ---- pools ---------------------------------------------------------------------------------- */

struct pool_rec {
	uint64_t asc_locked, pending, per_period, available;
};

static int pool_load(struct lb_state *s, unsigned pool, struct pool_rec *r)
{
	uint8_t k = (uint8_t)pool;
	const uint8_t *p;
	size_t n;
	memset(r, 0, sizeof *r);
	int rc = lb_state_get(s, NS_POOL, &k, 1, &p, &n);
	if (rc == LB_ENOTFOUND)
		return LB_OK;
	if (rc)
		return rc;
	struct lb_dec d;
	lb_dec_init(&d, p, n, "pool", NULL);
	if (lb_dec_uvar(&d, "l", UINT64_MAX, &r->asc_locked) ||
	    lb_dec_uvar(&d, "p", UINT64_MAX, &r->pending) ||
	    lb_dec_uvar(&d, "pp", UINT64_MAX, &r->per_period) ||
	    lb_dec_uvar(&d, "a", UINT64_MAX, &r->available) || lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

static int pool_store(struct lb_state *s, unsigned pool, const struct pool_rec *r)
{
	uint8_t k = (uint8_t)pool, tmp[48];
	struct lb_buf b = {.data = tmp, .len = 0, .cap = sizeof tmp - 1, .max = sizeof tmp};
	lb_enc_uvar(&b, r->asc_locked);
	lb_enc_uvar(&b, r->pending);
	lb_enc_uvar(&b, r->per_period);
	lb_enc_uvar(&b, r->available);
	return lb_state_put(s, NS_POOL, &k, 1, tmp, b.len);
}

/* ---- activity ------------------------------------------------------------------------------- */

static void act_key(uint8_t k[9 + LB_ADDR_LEN], uint64_t period, unsigned pool,
		    const uint8_t node[LB_ADDR_LEN])
{
	be64(k, period);
	k[8] = (uint8_t)pool;
	memcpy(k + 9, node, LB_ADDR_LEN);
}

static int act_load(struct lb_state *s, const uint8_t *key, struct lb_mkt_activity *a,
		    bool *found)
{
	const uint8_t *p;
	size_t n;
	memset(a, 0, sizeof *a);
	int rc = lb_state_get(s, NS_ACT, key, 9 + LB_ADDR_LEN, &p, &n);
	*found = rc == LB_OK;
	if (rc == LB_ENOTFOUND)
		return LB_OK;
	if (rc)
		return rc;
	struct lb_dec d;
	lb_dec_init(&d, p, n, "activity", NULL);
	if (lb_dec_uvar(&d, "c", UINT64_MAX, &a->calls) ||
	    lb_dec_uvar(&d, "v", UINT64_MAX, &a->volume) ||
	    lb_dec_uvar(&d, "rs", UINT64_MAX, &a->rating_sum) ||
	    lb_dec_uvar(&d, "rn", UINT64_MAX, &a->rating_n) ||
	    lb_dec_uvar(&d, "s", UINT64_MAX, &a->scale) ||
	    lb_dec_uvar(&d, "q", UINT64_MAX, &a->quality) || lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The open period: the first one not closed yet. Uses count in it, whatever block they are in
 * (a use in a block after a period's last block but before its close still counts in it), so
 * counting reads only state, never the block height: market.pay is block-independent. */
static int open_period(struct lb_state *s, uint64_t *period)
{
	return lb_state_get_u64(s, NS_CFG, "next", 4, 0, period);
}

static int act_add(struct lb_state *s, unsigned pool, const uint8_t node[LB_ADDR_LEN],
		   const struct lb_mkt_activity *add)
{
	bool found;
	uint8_t k[9 + LB_ADDR_LEN], tmp[64];
	struct lb_mkt_activity a;
	uint64_t period;
	int rc;
	if (pool >= LB_MKT_POOL_BONUS)
		return LB_OK;
	if ((rc = open_period(s, &period)))
		return rc;
	act_key(k, period, pool, node);
	if ((rc = act_load(s, k, &a, &found)))
		return rc;
	if (!found) { /* first activity of this node in the period: add it to the index */
		uint64_t cnt;
		uint8_t ik[13];
		be64(ik, period);
		ik[8] = (uint8_t)pool;
		if ((rc = lb_state_get_u64(s, NS_IXN, ik, 9, 0, &cnt)))
			return rc;
		ik[9] = (uint8_t)(cnt >> 24);
		ik[10] = (uint8_t)(cnt >> 16);
		ik[11] = (uint8_t)(cnt >> 8);
		ik[12] = (uint8_t)cnt;
		if ((rc = lb_state_put(s, NS_IX, ik, 13, node, LB_ADDR_LEN)) ||
		    (rc = lb_state_put_u64(s, NS_IXN, ik, 9, cnt + 1)))
			return rc;
	}
	a.calls = sat_add(a.calls, add->calls);
	a.volume = sat_add(a.volume, add->volume);
	a.rating_sum = sat_add(a.rating_sum, add->rating_sum);
	a.rating_n = sat_add(a.rating_n, add->rating_n);
	a.scale = sat_add(a.scale, add->scale);
	a.quality = sat_add(a.quality, add->quality);
	struct lb_buf b = {.data = tmp, .len = 0, .cap = sizeof tmp - 1, .max = sizeof tmp};
	lb_enc_uvar(&b, a.calls);
	lb_enc_uvar(&b, a.volume);
	lb_enc_uvar(&b, a.rating_sum);
	lb_enc_uvar(&b, a.rating_n);
	lb_enc_uvar(&b, a.scale);
	lb_enc_uvar(&b, a.quality);
	return lb_state_put(s, NS_ACT, k, sizeof k, tmp, b.len);
}

int lb_mkt_activity_add(struct lb_state *s, unsigned pool,
			const uint8_t node[LB_ADDR_LEN], const struct lb_mkt_activity *add)
{
	struct lb_mkt_config c;
	bool on;
	int rc = lb_mkt_config_load(s, &c, &on);
	return rc || !on ? rc : act_add(s, pool, node, add);
}

/* ---- settling a use ------------------------------------------------------------------------- */

/* Pay a bonus from the bonus pool, as far as it reaches (it never goes below zero). */
static int bonus_pay(struct lb_state *s, struct pool_rec *bp, const uint8_t to[LB_ADDR_LEN],
		     uint64_t amount, struct lb_errmsg *em)
{
	if (amount > bp->available)
		amount = bp->available;
	if (!amount)
		return LB_OK;
	bp->available -= amount;
	return lb_mkt_credit(s, to, LB_CSC, amount, em);
}

/* The patient's bonus for a medical service received: a contract call paid for the patient's
 * care names the patient. Paid only for a call of at least LB_MKT_SERVICE_MIN micro-ASC and
 * once per patient and open period, so naming oneself in cheap calls cannot farm it. */
static int service_bonus(struct lb_state *s, struct pool_rec *bp, const uint8_t to[LB_ADDR_LEN],
			 uint64_t paid, uint64_t bonus, struct lb_errmsg *em)
{
	uint8_t key[8 + LB_ADDR_LEN];
	uint64_t period, done = 0;
	int rc;
	if (!bonus || paid < LB_MKT_SERVICE_MIN)
		return LB_OK;
	if ((rc = open_period(s, &period)))
		return rc;
	be64(key, period);
	memcpy(key + 8, to, LB_ADDR_LEN);
	if ((rc = lb_state_get_u64(s, NS_SERVED, key, sizeof key, 0, &done)) || done)
		return rc;
	if ((rc = lb_state_put_u64(s, NS_SERVED, key, sizeof key, 1)))
		return rc;
	return bonus_pay(s, bp, to, bonus, em);
}

/* A bonus of a use its payer declares (market.pay: the payer names the parties). Paid only for
 * a use of at least LB_MKT_BONUS_MIN micro-ASC, never to the payer itself, and once per payer,
 * party, kind of use, role and open period: naming oneself, or a friend again and again, in
 * cheap calls cannot farm the bonus pool. Without a payer (escrow release, whose parties come
 * from the signed terms of a paid escrow) every bonus is paid. */
static int party_bonus(struct lb_state *s, struct pool_rec *bp, const struct lb_mkt_parties *p,
		       unsigned use, unsigned role, const uint8_t to[LB_ADDR_LEN], uint64_t paid,
		       uint64_t bonus, struct lb_errmsg *em)
{
	uint8_t key[8 + 2 + 2 * LB_ADDR_LEN];
	uint64_t period, done = 0;
	int rc;
	if (!bonus)
		return LB_OK;
	if (!p->has_payer)
		return bonus_pay(s, bp, to, bonus, em);
	if (paid < LB_MKT_BONUS_MIN || !memcmp(to, p->payer, LB_ADDR_LEN))
		return LB_OK;
	if ((rc = open_period(s, &period)))
		return rc;
	be64(key, period);
	key[8] = (uint8_t)use;
	key[9] = (uint8_t)role;
	memcpy(key + 10, p->payer, LB_ADDR_LEN);
	memcpy(key + 10 + LB_ADDR_LEN, to, LB_ADDR_LEN);
	if ((rc = lb_state_get_u64(s, NS_BONUSED, key, sizeof key, 0, &done)) || done)
		return rc;
	if ((rc = lb_state_put_u64(s, NS_BONUSED, key, sizeof key, 1)))
		return rc;
	return bonus_pay(s, bp, to, bonus, em);
}

int lb_mkt_settle(struct lb_state *s, unsigned use, uint64_t amount,
		  const struct lb_mkt_parties *p, struct lb_mkt_credits *out,
		  struct lb_errmsg *em)
{
	struct lb_mkt_config c;
	struct lb_mkt_credits cr;
	struct pool_rec bp;
	bool on;
	int rc = lb_mkt_config_load(s, &c, &on);
	if (rc)
		return lb_errf(em, rc, "reading the market configuration failed");
	if (!on)
		return lb_errf(em, LB_EUNAVAILABLE,
			       "this chain's genesis has no 'market' section: paid uses follow the "
			       "exchange's earlier rules");
	if (use >= LB_MKT_USE_COUNT)
		return lb_errf(em, LB_EINVALID, "kind of use %u is unknown", use);
	if ((rc = lb_mkt_split_apply(&c.splits.use[use], use, amount, p, &cr, em)))
		return rc;
	for (size_t i = 0; i < cr.n && !rc; i++)
		rc = lb_mkt_credit(s, cr.v[i].to, LB_ASC, cr.v[i].amount, em);
	/* bonus CSC per party of the use, from the bonus pool */
	if (!rc)
		rc = pool_load(s, LB_MKT_POOL_BONUS, &bp);
	const uint64_t *bon = c.bonus[use];
	if (!rc && p->has_owner)
		rc = party_bonus(s, &bp, p, use, LB_MKT_ROLE_OWNER, p->owner, amount,
				 bon[LB_MKT_ROLE_OWNER], em);
	for (size_t i = 0; !rc && i < p->n_patients; i++)
		rc = use == LB_MKT_USE_CONTRACT
			     ? service_bonus(s, &bp, p->patients[i], amount, bon[LB_MKT_ROLE_PATIENTS],
					     em)
			     : party_bonus(s, &bp, p, use, LB_MKT_ROLE_PATIENTS, p->patients[i], amount,
					   bon[LB_MKT_ROLE_PATIENTS], em);
	for (size_t i = 0; !rc && i < p->n_authors; i++)
		rc = party_bonus(s, &bp, p, use, LB_MKT_ROLE_AUTHORS, p->authors[i], amount,
				 bon[LB_MKT_ROLE_AUTHORS], em);
	for (size_t i = 0; !rc && i < p->n_ancestors; i++)
		rc = party_bonus(s, &bp, p, use, LB_MKT_ROLE_ANCESTORS, p->ancestors[i], amount,
				 bon[LB_MKT_ROLE_ANCESTORS], em);
	if (!rc && p->has_algo_author)
		rc = party_bonus(s, &bp, p, use, LB_MKT_ROLE_ALGO, p->algo_author, amount,
				 bon[LB_MKT_ROLE_ALGO], em);
	if (!rc && p->has_executor)
		rc = party_bonus(s, &bp, p, use, LB_MKT_ROLE_EXECUTOR, p->executor, amount,
				 bon[LB_MKT_ROLE_EXECUTOR], em);
	for (size_t i = 0; !rc && i < p->n_audit; i++)
		rc = party_bonus(s, &bp, p, use, LB_MKT_ROLE_AUDIT, p->audit[i], amount,
				 bon[LB_MKT_ROLE_AUDIT], em);
	if (!rc)
		rc = pool_store(s, LB_MKT_POOL_BONUS, &bp);
	/* activity for the period's rankings: what each ranked node received */
	for (size_t i = 0; i < cr.n && !rc; i++) {
		struct lb_mkt_activity a = {.calls = 1, .volume = cr.v[i].amount};
		switch (cr.v[i].role) {
		case LB_MKT_ROLE_AUTHORS:
		case LB_MKT_ROLE_ANCESTORS:
		case LB_MKT_ROLE_ALGO:
			rc = act_add(s, LB_MKT_POOL_DEV, cr.v[i].to, &a);
			break;
		case LB_MKT_ROLE_OWNER:
			rc = act_add(s, LB_MKT_POOL_DATA, cr.v[i].to, &a);
			break;
		case LB_MKT_ROLE_AUDIT:
			rc = act_add(s, LB_MKT_POOL_AUDIT, cr.v[i].to, &a);
			break;
		default:
			break;
		}
	}
	if (rc || !out)
		lb_mkt_credits_release(&cr);
	else
		*out = cr;
	return rc;
}

uint64_t lb_mkt_compute_fee(const struct lb_mkt_config *cfg, uint64_t cpu_ms,
			    uint64_t peak_mem_bytes)
{
	uint64_t cpu_units = cpu_ms / 100 + (cpu_ms % 100 != 0);
	uint64_t mib = peak_mem_bytes / (1u << 20) + (peak_mem_bytes % (1u << 20) != 0);
	__extension__ typedef unsigned __int128 u128;
	u128 fee = (u128)cpu_units * cfg->compute_cpu_ms_price +
		   (u128)mib * cfg->compute_mem_mib_price;
	return fee > UINT64_MAX ? UINT64_MAX : (uint64_t)fee;
}

uint64_t lb_mkt_onchain_fee(const struct lb_mkt_config *cfg, uint64_t steps)
{
	__extension__ typedef unsigned __int128 u128;
	u128 fee = (u128)steps * cfg->compute_step_price;
	return fee > UINT64_MAX ? UINT64_MAX : (uint64_t)fee;
}

/* ---- tx types ------------------------------------------------------------------------------ */

int lb_mkt_fund_encode(struct lb_buf *b, unsigned pool, uint64_t amount)
{
	int rc = lb_enc_u8(b, (uint8_t)pool);
	return rc ? rc : lb_enc_uvar(b, amount);
}

int lb_mkt_redeem_encode(struct lb_buf *b, uint64_t amount)
{
	return lb_enc_uvar(b, amount);
}

int lb_mkt_period_encode(struct lb_buf *b, uint64_t period)
{
	return lb_enc_uvar(b, period);
}

int lb_mkt_propose_encode(struct lb_buf *b, const struct lb_mkt_splits *s,
			  uint64_t expires_height)
{
	int rc = lb_mkt_splits_encode(s, b);
	return rc ? rc : lb_enc_uvar(b, expires_height);
}

int lb_mkt_vote_encode(struct lb_buf *b, const uint8_t proposal[LB_HASH_LEN], bool yes)
{
	int rc = lb_enc_fixed(b, proposal, LB_HASH_LEN);
	return rc ? rc : lb_enc_u8(b, yes ? 1 : 0);
}

static int dec_fund(const struct lb_tx *tx, uint8_t *pool, uint64_t *amount,
		    struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, tx->payload, tx->payload_len, "market.fund payload", em);
	if ((rc = lb_dec_u8(&d, "pool", pool)) ||
	    (rc = lb_dec_uvar(&d, "amount", UINT64_MAX, amount)) || (rc = lb_dec_end(&d)))
		return rc;
	if (*pool >= LB_MKT_POOL_COUNT)
		return lb_errf(em, LB_EINVALID,
			       "market.fund: pool %u is unknown (0 developers, 1 data, 2 audit, 3 "
			       "bonus)",
			       *pool);
	if (!*amount)
		return lb_errf(em, LB_EINVALID, "market.fund: the amount must be above zero");
	return LB_OK;
}

static int dec_amount(const struct lb_tx *tx, const char *what, uint64_t *v, bool nonzero,
		      struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, tx->payload, tx->payload_len, what, em);
	if ((rc = lb_dec_uvar(&d, "amount", UINT64_MAX, v)) || (rc = lb_dec_end(&d)))
		return rc;
	if (nonzero && !*v)
		return lb_errf(em, LB_EINVALID, "%s: the amount must be above zero", what);
	return LB_OK;
}

static int need_market(struct lb_apply_ctx *c, struct lb_mkt_config *cfg)
{
	bool on;
	int rc = lb_mkt_config_load(c->state, cfg, &on);
	if (rc)
		return lb_errf(c->em, rc, "reading the market configuration failed");
	if (!on)
		return lb_errf(c->em, LB_EUNAVAILABLE,
			       "this chain's genesis has no 'market' section, so it has no pools, "
			       "rankings or split tables (docs/economy.md)");
	return LB_OK;
}

static int need_partner(struct lb_apply_ctx *c, const char *what)
{
	uint64_t partner;
	int rc = lb_state_get_u64(c->state, "partner", c->sender_addr, LB_ADDR_LEN, 0, &partner);
	if (rc)
		return lb_errf(c->em, rc, "reading credit partners failed");
	if (!partner)
		return lb_errf(c->em, LB_EUNAUTH,
			       "%s is not a credit partner: only the credit partners named in "
			       "genesis may %s",
			       ADDR(c->sender_addr), what);
	return LB_OK;
}

static int check_fund(const struct lb_tx *tx, struct lb_errmsg *em)
{
	uint8_t p;
	uint64_t a;
	return dec_fund(tx, &p, &a, em);
}

/* A credit partner locks ASC in a pool; the pool's CSC allotment grows by amount x rate,
 * released evenly over quota_periods periods (the first gets the rounding remainder). */
static int apply_fund(struct lb_apply_ctx *c)
{
	struct lb_mkt_config cfg;
	struct pool_rec r;
	uint8_t pool;
	uint64_t amount;
	int rc = dec_fund(c->tx, &pool, &amount, c->em);
	if (rc || (rc = need_market(c, &cfg)) || (rc = need_partner(c, "fund quota pools")))
		return rc;
	__extension__ typedef unsigned __int128 u128;
	u128 csc = (u128)amount * cfg.quota_csc_per_asc;
	if ((rc = pool_load(c->state, pool, &r)))
		return lb_errf(c->em, rc, "reading the %s pool failed", lb_mkt_pool_name(pool));
	if (csc > UINT64_MAX - r.pending || amount > UINT64_MAX - r.asc_locked)
		return lb_errf(c->em, LB_ERANGE, "the %s pool would overflow",
			       lb_mkt_pool_name(pool));
	if ((rc = lb_mkt_debit(c->state, c->sender_addr, LB_ASC, amount, c->em)))
		return lb_errwrap(c->em, "cannot fund the %s pool: ", lb_mkt_pool_name(pool));
	r.asc_locked += amount;
	r.pending += (uint64_t)csc;
	uint64_t per = (uint64_t)csc / cfg.quota_periods;
	if ((uint64_t)csc % cfg.quota_periods)
		per++;
	r.per_period = sat_add(r.per_period, per);
	return pool_store(c->state, pool, &r);
}

static json_t *json_fund(const struct lb_tx *tx)
{
	uint8_t p;
	uint64_t a;
	if (dec_fund(tx, &p, &a, NULL))
		return NULL;
	return json_pack("{s:s,s:I}", "pool", lb_mkt_pool_name(p), "amount", (json_int_t)a);
}

static int check_redeem(const struct lb_tx *tx, struct lb_errmsg *em)
{
	uint64_t a;
	return dec_amount(tx, "market.redeem", &a, true, em);
}

/* A credit partner takes ASC back: burned from its own balance, counted as redeemed. */
static int apply_redeem(struct lb_apply_ctx *c)
{
	uint64_t amount;
	int rc = dec_amount(c->tx, "market.redeem", &amount, true, c->em);
	if (rc || (rc = need_partner(c, "redeem ASC")))
		return rc;
	if ((rc = lb_mkt_debit(c->state, c->sender_addr, LB_ASC, amount, c->em)))
		return lb_errwrap(c->em, "cannot redeem %s ASC: ", AMT(amount));
	if ((rc = lb_mkt_supply_add(c->state, LB_ASC, amount, true, c->em)))
		return rc;
	return tot_add(c->state, "redeemed", amount);
}

static json_t *json_amount(const struct lb_tx *tx)
{
	uint64_t a;
	if (dec_amount(tx, "amount", &a, false, NULL))
		return NULL;
	return json_pack("{s:I}", "amount", (json_int_t)a);
}

static int check_period(const struct lb_tx *tx, struct lb_errmsg *em)
{
	uint64_t p;
	return dec_amount(tx, "market.period", &p, false, em);
}

struct ranked {
	uint8_t node[LB_ADDR_LEN];
	uint64_t score;
};

/* Higher score first; ties by address (every node sorts alike). */
static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return memcmp(x->node, y->node, LB_ADDR_LEN);
}

static uint64_t score_of(const struct lb_mkt_weights *w, const struct lb_mkt_activity *a)
{
	__extension__ typedef unsigned __int128 u128;
	u128 s = (u128)a->volume + (u128)a->calls * w->call + (u128)a->rating_sum * w->rating +
		 (u128)a->scale * w->scale + (u128)a->quality * w->quality;
	return s > UINT64_MAX ? UINT64_MAX : (uint64_t)s;
}

/* Keep the k best of the period's active nodes in top (sorted); a bounded insertion keeps the
 * cost O(n k) worst case, O(n) when most nodes rank below the k-th. */
static int rank_pool(struct lb_state *s, const struct lb_mkt_config *cfg, uint64_t period,
		     unsigned pool, struct ranked *top, size_t *ntop)
{
	uint8_t ik[13], k[9 + LB_ADDR_LEN];
	uint64_t cnt;
	int rc;
	be64(ik, period);
	ik[8] = (uint8_t)pool;
	*ntop = 0;
	if ((rc = lb_state_get_u64(s, NS_IXN, ik, 9, 0, &cnt)))
		return rc;
	for (uint64_t i = 0; i < cnt; i++) {
		const uint8_t *v;
		size_t n;
		struct lb_mkt_activity a;
		bool found;
		ik[9] = (uint8_t)(i >> 24);
		ik[10] = (uint8_t)(i >> 16);
		ik[11] = (uint8_t)(i >> 8);
		ik[12] = (uint8_t)i;
		if ((rc = lb_state_get(s, NS_IX, ik, 13, &v, &n)))
			return rc == LB_ENOTFOUND ? LB_ECORRUPT : rc;
		if (n != LB_ADDR_LEN)
			return LB_ECORRUPT;
		struct ranked e;
		memcpy(e.node, v, LB_ADDR_LEN);
		act_key(k, period, pool, e.node);
		if ((rc = act_load(s, k, &a, &found)))
			return rc;
		e.score = score_of(&cfg->weights[pool], &a);
		if (!e.score)
			continue;
		if (*ntop == cfg->top_k && ranked_cmp(&e, &top[*ntop - 1]) >= 0)
			continue;
		size_t j = *ntop < cfg->top_k ? (*ntop)++ : *ntop - 1;
		while (j > 0 && ranked_cmp(&e, &top[j - 1]) < 0) {
			top[j] = top[j - 1];
			j--;
		}
		top[j] = e;
	}
	return LB_OK;
}

/* Close period p: allot each pool's CSC for the period (minted), then pay each ranked pool's
 * available CSC to its top k in proportion to their scores; what rounding leaves stays in the
 * pool for the next period. The ranking and payouts are stored for queries and verify. */
static int apply_period(struct lb_apply_ctx *c)
{
	struct lb_mkt_config cfg;
	uint64_t p, next;
	int rc = dec_amount(c->tx, "market.period", &p, false, c->em);
	if (rc || (rc = need_market(c, &cfg)))
		return rc;
	if ((rc = lb_state_get_u64(c->state, NS_CFG, "next", 4, 0, &next)))
		return rc;
	if (p != next)
		return lb_errf(c->em, LB_EINVALID,
			       "period %llu cannot be closed: the next period to close is %llu",
			       (unsigned long long)p, (unsigned long long)next);
	uint64_t end = (p + 1) * cfg.period_blocks;
	if (c->height <= end)
		return lb_errf(c->em, LB_EINVALID,
			       "period %llu ends with settlement block %llu; close it in a later "
			       "block (this is block %llu)",
			       (unsigned long long)p, (unsigned long long)end,
			       (unsigned long long)c->height);
	struct ranked *top = lb_malloc(cfg.top_k * sizeof *top);
	struct lb_buf b;
	if (!top)
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	lb_buf_init(&b, LB_STATE_VALUE_MAX);
	for (unsigned pool = 0; pool < LB_MKT_POOL_COUNT && !rc; pool++) {
		struct pool_rec r;
		if ((rc = pool_load(c->state, pool, &r)))
			break;
		uint64_t allot = r.per_period < r.pending ? r.per_period : r.pending;
		r.pending -= allot;
		r.available += allot;
		if (allot && ((rc = lb_mkt_supply_add(c->state, LB_CSC, allot, false, c->em)) ||
			      (rc = tot_add(c->state, "minted", allot))))
			break;
		size_t ntop = 0;
		if (pool != LB_MKT_POOL_BONUS &&
		    (rc = rank_pool(c->state, &cfg, p, pool, top, &ntop)))
			break;
		__extension__ typedef unsigned __int128 u128;
		u128 total = 0;
		for (size_t i = 0; i < ntop; i++)
			total += top[i].score;
		uint64_t pot = r.available, paid_all = 0;
		lb_buf_reset(&b);
		rc = lb_enc_uvar(&b, allot);
		if (!rc)
			rc = lb_enc_uvar(&b, ntop);
		for (size_t i = 0; i < ntop && !rc; i++) {
			uint64_t pay = (uint64_t)((u128)pot * top[i].score / total);
			paid_all += pay;
			if (!(rc = lb_mkt_credit(c->state, top[i].node, LB_CSC, pay, c->em)) &&
			    !(rc = lb_enc_fixed(&b, top[i].node, LB_ADDR_LEN)) &&
			    !(rc = lb_enc_uvar(&b, top[i].score)))
				rc = lb_enc_uvar(&b, pay);
		}
		r.available -= paid_all;
		uint8_t rk[9];
		be64(rk, p);
		rk[8] = (uint8_t)pool;
		if (!rc && pool != LB_MKT_POOL_BONUS)
			rc = lb_state_put(c->state, NS_RANK, rk, 9, b.data, b.len);
		if (!rc)
			rc = pool_store(c->state, pool, &r);
	}
	lb_buf_release(&b);
	lb_free(top);
	if (rc)
		return c->em && c->em->code ? rc : lb_errf(c->em, rc, "closing period %llu failed",
							   (unsigned long long)p);
	return lb_state_put_u64(c->state, NS_CFG, "next", 4, p + 1);
}

static json_t *json_period(const struct lb_tx *tx)
{
	uint64_t a;
	if (dec_amount(tx, "period", &a, false, NULL))
		return NULL;
	return json_pack("{s:I}", "period", (json_int_t)a);
}

/* ---- split tables by a vote of the credit partners --------------------------------------------- */

struct prop_rec {
	struct lb_mkt_splits splits;
	uint64_t expires, yes, no;
	uint8_t status; /* 1 open, 2 adopted, 3 rejected */
};

static int dec_propose(const struct lb_tx *tx, struct lb_mkt_splits *s, uint64_t *expires,
		       struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, tx->payload, tx->payload_len, "market.splits.propose payload", em);
	if ((rc = mkt_splits_dec(&d, s)))
		return rc;
	if ((rc = lb_dec_uvar(&d, "expires", UINT64_MAX, expires)) || (rc = lb_dec_end(&d)))
		return rc;
	return lb_mkt_splits_check(s, em);
}

static int prop_store(struct lb_state *s, const uint8_t id[LB_HASH_LEN],
		      const struct prop_rec *r)
{
	struct lb_buf b;
	lb_buf_init(&b, 1024);
	int rc = lb_mkt_splits_encode(&r->splits, &b);
	if (!rc && !(rc = lb_enc_uvar(&b, r->expires)) && !(rc = lb_enc_uvar(&b, r->yes)) &&
	    !(rc = lb_enc_uvar(&b, r->no)) && !(rc = lb_enc_u8(&b, r->status)))
		rc = lb_state_put(s, NS_PROP, id, LB_HASH_LEN, b.data, b.len);
	lb_buf_release(&b);
	return rc;
}

static int prop_load(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct prop_rec *r)
{
	const uint8_t *p;
	size_t n;
	int rc = lb_state_get(s, NS_PROP, id, LB_HASH_LEN, &p, &n);
	if (rc)
		return rc;
	/* the stored form is the tables, then expires yes no status */
	struct lb_dec d;
	lb_dec_init(&d, p, n, "proposal", NULL);
	if (mkt_splits_dec(&d, &r->splits) || lb_mkt_splits_check(&r->splits, NULL))
		return LB_ECORRUPT;
	if (lb_dec_uvar(&d, "e", UINT64_MAX, &r->expires) || lb_dec_uvar(&d, "y", UINT64_MAX, &r->yes) ||
	    lb_dec_uvar(&d, "n", UINT64_MAX, &r->no) || lb_dec_u8(&d, "s", &r->status) ||
	    lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

static uint64_t needed_votes(uint64_t partners)
{
	return (2 * partners + 2) / 3; /* ceil(2n/3) */
}

/* Count a vote; adopt the tables once the yes-votes reach 2/3 of the credit partners. */
static int prop_vote(struct lb_apply_ctx *c, const uint8_t id[LB_HASH_LEN], struct prop_rec *r,
		     bool yes, const struct lb_mkt_config *cfg)
{
	uint8_t vk[LB_HASH_LEN + LB_ADDR_LEN];
	const uint8_t *v;
	size_t n;
	memcpy(vk, id, LB_HASH_LEN);
	memcpy(vk + LB_HASH_LEN, c->sender_addr, LB_ADDR_LEN);
	if (lb_state_get(c->state, NS_VOTE, vk, sizeof vk, &v, &n) == LB_OK)
		return lb_errf(c->em, LB_EDUPLICATE, "%s has already voted on split proposal %s",
			       ADDR(c->sender_addr), "(this one)");
	int rc = lb_state_put(c->state, NS_VOTE, vk, sizeof vk, "\1", 1);
	if (rc)
		return rc;
	if (yes)
		r->yes++;
	else
		r->no++;
	uint64_t need = needed_votes(cfg->partners);
	if (r->yes >= need) {
		struct lb_mkt_config nc = *cfg;
		nc.splits = r->splits;
		r->status = 2;
		if ((rc = cfg_store(c->state, &nc)))
			return rc;
	} else if (r->no > cfg->partners - need) {
		r->status = 3;
	}
	return prop_store(c->state, id, r);
}

static int check_propose(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_mkt_splits s;
	uint64_t e;
	return dec_propose(tx, &s, &e, em);
}

static int apply_propose(struct lb_apply_ctx *c)
{
	struct lb_mkt_config cfg;
	struct prop_rec r = {0};
	int rc = dec_propose(c->tx, &r.splits, &r.expires, c->em);
	if (rc || (rc = need_market(c, &cfg)) ||
	    (rc = need_partner(c, "propose split tables")))
		return rc;
	if (r.expires < c->height)
		return lb_errf(c->em, LB_EINVALID,
			       "the proposal would expire at settlement height %llu, before this "
			       "block (%llu): give a later height",
			       (unsigned long long)r.expires, (unsigned long long)c->height);
	r.status = 1;
	return prop_vote(c, c->tx->id, &r, true, &cfg); /* the proposer votes yes */
}

static json_t *json_propose(const struct lb_tx *tx)
{
	struct lb_mkt_splits s;
	uint64_t e;
	if (dec_propose(tx, &s, &e, NULL))
		return NULL;
	return json_pack("{s:o,s:I}", "splits", lb_mkt_splits_to_json(&s), "expires_height",
			 (json_int_t)e);
}

static int dec_vote(const struct lb_tx *tx, uint8_t id[LB_HASH_LEN], bool *yes,
		    struct lb_errmsg *em)
{
	struct lb_dec d;
	uint8_t y;
	int rc;
	lb_dec_init(&d, tx->payload, tx->payload_len, "market.splits.vote payload", em);
	if ((rc = lb_dec_fixed(&d, "proposal", id, LB_HASH_LEN)) || (rc = lb_dec_u8(&d, "yes", &y)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (y > 1)
		return lb_errf(em, LB_EMALFORMED, "market.splits.vote: yes must be 0 or 1");
	*yes = y;
	return LB_OK;
}

static int check_vote(const struct lb_tx *tx, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	bool y;
	return dec_vote(tx, id, &y, em);
}

static int apply_vote(struct lb_apply_ctx *c)
{
	struct lb_mkt_config cfg;
	struct prop_rec r;
	uint8_t id[LB_HASH_LEN];
	char hex[2 * LB_HASH_LEN + 1];
	bool yes;
	int rc = dec_vote(c->tx, id, &yes, c->em);
	if (rc || (rc = need_market(c, &cfg)) || (rc = need_partner(c, "vote on split tables")))
		return rc;
	lb_hex_encode(hex, id, LB_HASH_LEN);
	if ((rc = prop_load(c->state, id, &r)))
		return lb_errf(c->em, rc == LB_ENOTFOUND ? LB_ENOTFOUND : rc,
			       "there is no split proposal %s", hex);
	if (r.status != 1)
		return lb_errf(c->em, LB_EINVALID, "split proposal %s is already %s", hex,
			       r.status == 2 ? "adopted" : "rejected");
	if (c->height > r.expires)
		return lb_errf(c->em, LB_EEXPIRED,
			       "split proposal %s expired at settlement height %llu",
			       hex, (unsigned long long)r.expires);
	return prop_vote(c, id, &r, yes, &cfg);
}

static json_t *json_vote(const struct lb_tx *tx)
{
	uint8_t id[LB_HASH_LEN];
	bool y;
	char hex[2 * LB_HASH_LEN + 1];
	if (dec_vote(tx, id, &y, NULL))
		return NULL;
	lb_hex_encode(hex, id, LB_HASH_LEN);
	return json_pack("{s:s,s:b}", "proposal", hex, "yes", y);
}

/* ---- market.pay ---------------------------------------------------------------------------- */

static int enc_list(struct lb_buf *b, const uint8_t (*l)[LB_ADDR_LEN], size_t n)
{
	int rc = lb_enc_uvar(b, n);
	for (size_t i = 0; i < n && !rc; i++)
		rc = lb_enc_fixed(b, l[i], LB_ADDR_LEN);
	return rc;
}

int lb_mkt_pay_encode(struct lb_buf *b, unsigned use, uint64_t amount,
		      const struct lb_mkt_parties *p)
{
	uint8_t flags = (uint8_t)((p->has_owner ? 1 : 0) | (p->has_algo_author ? 2 : 0) |
				  (p->has_executor ? 4 : 0));
	int rc = lb_enc_u8(b, (uint8_t)use);
	if (!rc && !(rc = lb_enc_uvar(b, amount)) && !(rc = lb_enc_u8(b, flags))) {
		if (!rc && p->has_owner)
			rc = lb_enc_fixed(b, p->owner, LB_ADDR_LEN);
		if (!rc && p->has_algo_author)
			rc = lb_enc_fixed(b, p->algo_author, LB_ADDR_LEN);
		if (!rc && p->has_executor)
			rc = lb_enc_fixed(b, p->executor, LB_ADDR_LEN);
	}
	if (!rc && !(rc = enc_list(b, p->patients, p->n_patients)) &&
	    !(rc = enc_list(b, p->authors, p->n_authors)) &&
	    !(rc = enc_list(b, p->ancestors, p->n_ancestors)))
		rc = enc_list(b, p->audit, p->n_audit);
	return rc;
}

static int dec_list(struct lb_dec *d, const char *field, size_t max,
		    const uint8_t (**l)[LB_ADDR_LEN], size_t *n)
{
	uint64_t cnt;
	int rc = lb_dec_uvar(d, field, max, &cnt);
	if (rc)
		return rc;
	if (cnt * LB_ADDR_LEN > d->len - d->pos)
		return lb_dec_fail(d, LB_EMALFORMED, field, "%llu accounts do not fit in the payload",
				   (unsigned long long)cnt);
	*l = cnt ? (const uint8_t(*)[LB_ADDR_LEN])(d->p + d->pos) : NULL;
	*n = (size_t)cnt;
	d->pos += (size_t)cnt * LB_ADDR_LEN;
	return LB_OK;
}

int lb_mkt_pay_decode(const uint8_t *in, size_t n, unsigned *use, uint64_t *amount,
		      struct lb_mkt_parties *p, struct lb_errmsg *em)
{
	struct lb_dec d;
	uint8_t u, flags;
	int rc;
	memset(p, 0, sizeof *p);
	lb_dec_init(&d, in, n, "market.pay payload", em);
	if ((rc = lb_dec_u8(&d, "use", &u)) || (rc = lb_dec_uvar(&d, "amount", UINT64_MAX, amount)) ||
	    (rc = lb_dec_u8(&d, "parties", &flags)))
		return rc;
	if (u >= LB_MKT_USE_COUNT)
		return lb_dec_fail(&d, LB_EINVALID, "use", "kind of use %u is unknown (0 data run, 1 "
				   "contract call, 2 algorithm call, 3 compute, 4 study)", u);
	if (flags > 7)
		return lb_dec_fail(&d, LB_EMALFORMED, "parties", "unknown party flags 0x%x", flags);
	*use = u;
	p->has_owner = flags & 1;
	p->has_algo_author = flags & 2;
	p->has_executor = flags & 4;
	if ((p->has_owner && (rc = lb_dec_fixed(&d, "owner", p->owner, LB_ADDR_LEN))) ||
	    (p->has_algo_author && (rc = lb_dec_fixed(&d, "algo", p->algo_author, LB_ADDR_LEN))) ||
	    (p->has_executor && (rc = lb_dec_fixed(&d, "executor", p->executor, LB_ADDR_LEN))) ||
	    (rc = dec_list(&d, "patients", LB_MKT_PAY_PATIENTS_MAX, &p->patients, &p->n_patients)) ||
	    (rc = dec_list(&d, "authors", LB_MKT_PAY_LIST_MAX, &p->authors, &p->n_authors)) ||
	    (rc = dec_list(&d, "ancestors", LB_MKT_PAY_LIST_MAX, &p->ancestors, &p->n_ancestors)) ||
	    (rc = dec_list(&d, "audit", LB_MKT_PAY_LIST_MAX, &p->audit, &p->n_audit)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (!*amount)
		return lb_errf(em, LB_EINVALID, "market.pay: the amount must be above zero");
	return LB_OK;
}

static int check_pay(const struct lb_tx *tx, struct lb_errmsg *em)
{
	unsigned u;
	uint64_t a;
	struct lb_mkt_parties p;
	return lb_mkt_pay_decode(tx->payload, tx->payload_len, &u, &a, &p, em);
}

static int apply_pay(struct lb_apply_ctx *c)
{
	struct lb_mkt_config cfg;
	struct lb_mkt_parties p;
	unsigned use;
	uint64_t amount;
	int rc = lb_mkt_pay_decode(c->tx->payload, c->tx->payload_len, &use, &amount, &p, c->em);
	if (rc || (rc = need_market(c, &cfg)))
		return rc;
	if ((rc = lb_mkt_debit(c->state, c->sender_addr, LB_ASC, amount, c->em)))
		return lb_errwrap(c->em, "cannot pay the %s: ", lb_mkt_use_name(use));
	memcpy(p.platform, cfg.platform, LB_ADDR_LEN);
	p.has_payer = true; /* the payer names the parties: its bonuses are bounded */
	memcpy(p.payer, c->sender_addr, LB_ADDR_LEN);
	return lb_mkt_settle(c->state, use, amount, &p, NULL, c->em);
}

static json_t *addr_json(const uint8_t a[LB_ADDR_LEN]);

static json_t *list_json(const uint8_t (*l)[LB_ADDR_LEN], size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, addr_json(l[i]));
	return a;
}

static json_t *json_pay(const struct lb_tx *tx)
{
	unsigned u;
	uint64_t a;
	struct lb_mkt_parties p;
	if (lb_mkt_pay_decode(tx->payload, tx->payload_len, &u, &a, &p, NULL))
		return NULL;
	json_t *o = json_pack("{s:s,s:I,s:I,s:o,s:o,s:o}", "use", lb_mkt_use_name(u), "amount",
			      (json_int_t)a, "patients", (json_int_t)p.n_patients, "authors",
			      list_json(p.authors, p.n_authors), "ancestors",
			      list_json(p.ancestors, p.n_ancestors), "audit",
			      list_json(p.audit, p.n_audit));
	if (o && p.has_owner)
		json_object_set_new(o, "owner", addr_json(p.owner));
	if (o && p.has_algo_author)
		json_object_set_new(o, "algorithm_author", addr_json(p.algo_author));
	if (o && p.has_executor)
		json_object_set_new(o, "executor", addr_json(p.executor));
	return o;
}

/* ---- market.pool.pay ------------------------------------------------------------------------ */

int lb_mkt_pool_pay_encode(struct lb_buf *b, int asset, const uint8_t (*to)[LB_ADDR_LEN],
			   const uint64_t *amounts, size_t n)
{
	int rc = lb_enc_u8(b, (uint8_t)asset);
	if (!rc)
		rc = lb_enc_uvar(b, n);
	for (size_t i = 0; i < n && !rc; i++)
		if (!(rc = lb_enc_fixed(b, to[i], LB_ADDR_LEN)))
			rc = lb_enc_uvar(b, amounts[i]);
	return rc;
}

/* Decode and sum; *list points into the payload (entries of 20 bytes + a varint). */
static int dec_pool_pay(const struct lb_tx *tx, uint8_t *asset, size_t *n, uint64_t *total,
			struct lb_dec *d, struct lb_errmsg *em)
{
	uint64_t cnt, amount;
	uint8_t to[LB_ADDR_LEN];
	int rc;
	lb_dec_init(d, tx->payload, tx->payload_len, "market.pool.pay payload", em);
	if ((rc = lb_dec_u8(d, "asset", asset)) ||
	    (rc = lb_dec_uvar(d, "count", LB_MKT_PAY_PATIENTS_MAX, &cnt)))
		return rc;
	if (*asset != LB_ASC && *asset != LB_CSC)
		return lb_dec_fail(d, LB_EMALFORMED, "asset", "asset %u is neither ASC (1) nor CSC (2)",
				   *asset);
	if (!cnt)
		return lb_errf(em, LB_EINVALID, "market.pool.pay: name at least one patient account");
	size_t start = d->pos;
	*total = 0;
	for (uint64_t i = 0; i < cnt; i++) {
		if ((rc = lb_dec_fixed(d, "to", to, LB_ADDR_LEN)) ||
		    (rc = lb_dec_uvar(d, "amount", UINT64_MAX, &amount)))
			return rc;
		if (!amount)
			return lb_errf(em, LB_EINVALID, "market.pool.pay: entry %llu pays nothing",
				       (unsigned long long)i);
		if (*total > UINT64_MAX - amount)
			return lb_errf(em, LB_ERANGE, "market.pool.pay: the amounts overflow");
		*total += amount;
	}
	if ((rc = lb_dec_end(d)))
		return rc;
	d->pos = start; /* the caller walks the entries again */
	*n = (size_t)cnt;
	return LB_OK;
}

static int check_pool_pay(const struct lb_tx *tx, struct lb_errmsg *em)
{
	uint8_t a;
	size_t n;
	uint64_t t;
	struct lb_dec d;
	return dec_pool_pay(tx, &a, &n, &t, &d, em);
}

/* The owner pays its patients from their pool: the whole sum must be in the pool. */
static int apply_pool_pay(struct lb_apply_ctx *c)
{
	struct lb_mkt_config cfg;
	uint8_t asset, pool[LB_ADDR_LEN], to[LB_ADDR_LEN];
	size_t n;
	uint64_t total, amount;
	struct lb_dec d;
	int rc = dec_pool_pay(c->tx, &asset, &n, &total, &d, c->em);
	if (rc || (rc = need_market(c, &cfg)))
		return rc;
	lb_mkt_patient_pool(c->sender_addr, pool);
	if ((rc = lb_mkt_debit(c->state, pool, asset, total, c->em)))
		return lb_errwrap(c->em, "cannot pay the patients of %s from their pool: ",
				  ADDR(c->sender_addr));
	for (size_t i = 0; i < n && !rc; i++) {
		lb_dec_fixed(&d, "to", to, LB_ADDR_LEN);
		lb_dec_uvar(&d, "amount", UINT64_MAX, &amount);
		rc = lb_mkt_credit(c->state, to, asset, amount, c->em);
	}
	return rc;
}

static json_t *json_pool_pay(const struct lb_tx *tx)
{
	uint8_t asset, to[LB_ADDR_LEN];
	size_t n;
	uint64_t total, amount;
	struct lb_dec d;
	if (dec_pool_pay(tx, &asset, &n, &total, &d, NULL))
		return NULL;
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		lb_dec_fixed(&d, "to", to, LB_ADDR_LEN);
		lb_dec_uvar(&d, "amount", UINT64_MAX, &amount);
		json_array_append_new(list, json_pack("{s:o,s:I}", "to", addr_json(to), "amount",
						      (json_int_t)amount));
	}
	return json_pack("{s:s,s:I,s:o}", "asset", asset == LB_ASC ? "ASC" : "CSC", "total",
			 (json_int_t)total, "payments", list);
}

/* ---- market.cite ---------------------------------------------------------------------------- */

int lb_mkt_cite_encode(struct lb_buf *b, unsigned kind, const uint8_t *tx, size_t tx_len,
		       const uint8_t *proof, size_t proof_len, const uint8_t *list_tx,
		       size_t list_tx_len, const uint8_t *list_proof, size_t list_proof_len)
{
	if (lb_enc_u8(b, (uint8_t)kind) || lb_enc_bytes(b, tx, tx_len) ||
	    lb_enc_bytes(b, proof, proof_len))
		return LB_ENOMEM;
	if (kind == LB_MKT_CITE_RATING &&
	    (lb_enc_bytes(b, list_tx, list_tx_len) || lb_enc_bytes(b, list_proof, list_proof_len)))
		return LB_ENOMEM;
	return LB_OK;
}

struct mkt_cite {
	uint8_t kind;
	const uint8_t *tx, *proof, *tx2, *proof2; /* tx2: RATING's store.list */
	size_t tx_len, proof_len, tx2_len, proof2_len;
};

static int dec_cite(const struct lb_tx *tx, struct mkt_cite *o, struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, tx->payload, tx->payload_len, "market.cite payload", em);
	if ((rc = lb_dec_u8(&d, "kind", &o->kind)))
		return rc;
	if (o->kind != LB_MKT_CITE_AUDIT && o->kind != LB_MKT_CITE_RATING &&
	    o->kind != LB_MKT_CITE_CREATION && o->kind != LB_MKT_CITE_DATA)
		return lb_dec_fail(&d, LB_EUNSUPPORTED, "kind",
				   "%u is not a kind of record counted (1 = audit.record, "
				   "2 = store.rate, 3 = store.list of a contract, "
				   "4 = data.register)",
				   o->kind);
	o->tx2 = o->proof2 = NULL;
	o->tx2_len = o->proof2_len = 0;
	if ((rc = lb_dec_bytes(&d, "cited tx", LB_TX_MAX_BYTES, &o->tx, &o->tx_len)) ||
	    (rc = lb_dec_bytes(&d, "proof", LB_MKT_CITE_PROOF_MAX, &o->proof, &o->proof_len)))
		return rc;
	if (o->kind == LB_MKT_CITE_RATING &&
	    ((rc = lb_dec_bytes(&d, "listing tx", LB_TX_MAX_BYTES, &o->tx2, &o->tx2_len)) ||
	     (rc = lb_dec_bytes(&d, "listing proof", LB_MKT_CITE_PROOF_MAX, &o->proof2,
				&o->proof2_len))))
		return rc;
	if ((rc = lb_dec_end(&d)))
		return rc;
	if (o->kind == LB_MKT_CITE_RATING && (!o->tx2_len || !o->proof2_len))
		return lb_errf(em, LB_EMALFORMED,
			       "market.cite: a rating needs the store.list tx of the rated listing "
			       "and its proof as well");
	if (!o->tx_len || !o->proof_len)
		return lb_errf(em, LB_EMALFORMED,
			       "market.cite: the cited tx and its proof must both be present "
			       "(leben tx proof <id> --anchor settlement)");
	return LB_OK;
}

static int check_cite(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct mkt_cite m;
	return dec_cite(tx, &m, em);
}

/* A cited store.rate counts for the author of the rated listing, whose store.list tx is cited
 * too (the author is its sender: only the author may list): the stars as rating points. */
static int cite_rating(struct lb_apply_ctx *c, const struct mkt_cite *m, const struct lb_tx *rate)
{
	struct lb_tx list;
	struct lb_errmsg e;
	uint8_t author[LB_ADDR_LEN];
	int rc = lb_apply_cite(c, "listing", m->tx2, m->tx2_len, m->proof2, m->proof2_len,
			       LB_CHAIN_BUSINESS, LB_TX_STORE_LIST, &list);
	if (rc)
		return rc;
	struct lb_store_tx *r = lb_malloc(sizeof *r), *l = lb_malloc(sizeof *l);
	if (!r || !l) {
		lb_free(r);
		lb_free(l);
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	}
	lb_errclear(&e);
	if (lb_store_tx_decode(LB_TX_STORE_RATE, rate->payload, rate->payload_len, r, &e) ||
	    lb_store_tx_decode(LB_TX_STORE_LIST, list.payload, list.payload_len, l, &e))
		rc = lb_errf(c->em, LB_EINVALID, "market.cite: a cited store tx does not decode: %s",
			     e.text);
	else if (memcmp(r->item, l->item, LB_HASH_LEN))
		rc = lb_errf(c->em, LB_EINVALID,
			     "market.cite: the rating is of listing %s, the cited store.list lists "
			     "%s: cite the rated listing's store.list",
			     HEX(r->item), HEX(l->item));
	if (!rc) {
		lb_addr_from_pubkey(author, list.sender);
		struct lb_mkt_activity a = {.rating_sum = r->stars, .rating_n = 1};
		rc = act_add(c->state, LB_MKT_POOL_DEV, author, &a);
	}
	lb_free(r);
	lb_free(l);
	return rc ? rc : lb_state_put_u64(c->state, NS_CITED, rate->id, LB_HASH_LEN, c->height);
}

/* A cited store.list of a contract (published, so verified, and listed by its author): the
 * creation bonus, bonus[contract-call][authors] from the bonus pool (as far as it reaches),
 * once per listing and for at most LB_MKT_CREATION_CAP listings per author and period. */
static int cite_creation(struct lb_apply_ctx *c, const struct lb_mkt_config *cfg,
			 const struct lb_tx *list)
{
	struct lb_errmsg e;
	struct pool_rec bp;
	uint8_t author[LB_ADDR_LEN], key[8 + LB_ADDR_LEN];
	uint64_t n = 0;
	int rc;
	struct lb_store_tx *l = lb_malloc(sizeof *l);
	if (!l)
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	lb_errclear(&e);
	rc = lb_store_tx_decode(LB_TX_STORE_LIST, list->payload, list->payload_len, l, &e);
	uint8_t kind = l->kind;
	lb_free(l);
	if (rc)
		return lb_errf(c->em, LB_EINVALID, "market.cite: the cited store.list does not "
			       "decode: %s", e.text);
	if (kind != LB_STORE_CONTRACT)
		return lb_errf(c->em, LB_EINVALID,
			       "market.cite: the cited listing is of an algorithm; the creation "
			       "bonus is for contracts (algorithms earn by their calls)");
	lb_addr_from_pubkey(author, list->sender);
	uint64_t open;
	if ((rc = open_period(c->state, &open)))
		return rc;
	be64(key, open);
	memcpy(key + 8, author, LB_ADDR_LEN);
	if ((rc = lb_state_get_u64(c->state, NS_CREATED, key, sizeof key, 0, &n)))
		return rc;
	if (n >= LB_MKT_CREATION_CAP)
		return lb_errf(c->em, LB_ELIMIT,
			       "market.cite: %s already had the creation bonus for %d contracts this "
			       "period (the cap); cite this listing in a later period",
			       ADDR(author), LB_MKT_CREATION_CAP);
	uint64_t before;
	if ((rc = pool_load(c->state, LB_MKT_POOL_BONUS, &bp)))
		return rc;
	before = bp.available;
	if ((rc = bonus_pay(c->state, &bp, author, cfg->bonus[LB_MKT_USE_CONTRACT]
							     [LB_MKT_ROLE_AUTHORS],
			    c->em)) ||
	    (before != bp.available && (rc = pool_store(c->state, LB_MKT_POOL_BONUS, &bp))) ||
	    (rc = lb_state_put_u64(c->state, NS_CREATED, key, sizeof key, n + 1)))
		return rc;
	return lb_state_put_u64(c->state, NS_CITED, list->id, LB_HASH_LEN, c->height);
}

/* A cited data.register (directory chain): its public record count (basic.volume) as data
 * scale for the owner who registered it, capped per registration and per owner and period. */
static int cite_scale(struct lb_apply_ctx *c, const struct lb_tx *reg)
{
	struct lb_asset_tx at;
	struct lb_errmsg e;
	uint8_t owner[LB_ADDR_LEN], key[9 + LB_ADDR_LEN];
	uint64_t vol = 0, period, n = 0;
	bool have = false;
	int rc;
	struct lb_hexa *h = lb_malloc(sizeof *h);
	if (!h)
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	lb_errclear(&e);
	rc = lb_asset_tx_decode(reg->payload, reg->payload_len, &at, &e);
	if (!rc && at.op != LB_ASSET_REGISTER)
		rc = lb_errf(&e, LB_EINVALID, "it is not a registration");
	if (!rc && !(rc = lb_hexa_decode(at.pub, at.pub_len, h, &e))) {
		int id = lb_hexa_field_id("basic.volume");
		have = lb_hexa_get_u64(h, "basic.volume", &vol) && id >= 0 &&
		       (h->public_mask >> id & 1);
		lb_hexa_release(h);
	}
	lb_free(h);
	if (rc)
		return lb_errf(c->em, LB_EINVALID, "market.cite: the cited data registration does "
			       "not decode: %s", e.text);
	if (!have || !vol)
		return lb_errf(c->em, LB_EINVALID,
			       "market.cite: the cited data registration shows no public record "
			       "count (basic.volume): there is no data scale to count");
	lb_addr_from_pubkey(owner, reg->sender);
	if ((rc = open_period(c->state, &period)))
		return rc;
	key[0] = 's'; /* scale citations, apart from the creation bonus' listings */
	be64(key + 1, period);
	memcpy(key + 9, owner, LB_ADDR_LEN);
	if ((rc = lb_state_get_u64(c->state, NS_CREATED, key, sizeof key, 0, &n)))
		return rc;
	if (n >= LB_MKT_CREATION_CAP)
		return lb_errf(c->em, LB_ELIMIT,
			       "market.cite: the data scale of %d registrations of %s was counted "
			       "this period (the cap); cite this one in a later period",
			       LB_MKT_CREATION_CAP, ADDR(owner));
	struct lb_mkt_activity a = {.scale = vol < LB_MKT_SCALE_CAP ? vol : LB_MKT_SCALE_CAP};
	if ((rc = act_add(c->state, LB_MKT_POOL_DATA, owner, &a)) ||
	    (rc = lb_state_put_u64(c->state, NS_CREATED, key, sizeof key, n + 1)))
		return rc;
	return lb_state_put_u64(c->state, NS_CITED, reg->id, LB_HASH_LEN, c->height);
}

/* The cited audit.record counts once, for the audit node that signed it, in the open period:
 * one audit, its score as quality points. */
static int apply_cite(struct lb_apply_ctx *c)
{
	struct lb_mkt_config cfg;
	struct mkt_cite m;
	struct lb_tx tx;
	struct lb_xchg_audit_score sc;
	struct lb_errmsg e;
	uint64_t seen = 0;
	uint8_t node[LB_ADDR_LEN];
	int rc = dec_cite(c->tx, &m, c->em);
	static const char *const what[] = {"", "audit record", "rating", "listing",
					   "data registration"};
	static const uint32_t want[] = {0, LB_TX_AUDIT_RECORD, LB_TX_STORE_RATE, LB_TX_STORE_LIST,
					LB_TX_DATA_REGISTER};
	if (rc || (rc = need_market(c, &cfg)) ||
	    (rc = lb_apply_cite(c, what[m.kind], m.tx, m.tx_len, m.proof, m.proof_len,
				m.kind == LB_MKT_CITE_DATA ? LB_CHAIN_DIRECTORY : LB_CHAIN_BUSINESS,
				want[m.kind], &tx)))
		return rc;
	if ((rc = lb_state_get_u64(c->state, NS_CITED, tx.id, LB_HASH_LEN, 0, &seen)))
		return rc;
	if (seen)
		return lb_errf(c->em, LB_EEXISTS,
			       "market.cite: record %s was already counted (at settlement height "
			       "%llu); each record counts once",
			       HEX(tx.id), (unsigned long long)seen);
	if (m.kind == LB_MKT_CITE_RATING)
		return cite_rating(c, &m, &tx);
	if (m.kind == LB_MKT_CITE_CREATION)
		return cite_creation(c, &cfg, &tx);
	if (m.kind == LB_MKT_CITE_DATA)
		return cite_scale(c, &tx);
	lb_errclear(&e);
	if (lb_xchg_audit_score_decode(&sc, tx.payload, tx.payload_len, &e))
		return lb_errf(c->em, LB_EINVALID, "market.cite: the cited audit record does not "
			       "decode: %s", e.text);
	lb_addr_from_pubkey(node, tx.sender);
	struct lb_mkt_activity a = {.calls = 1, .quality = sc.score};
	if ((rc = act_add(c->state, LB_MKT_POOL_AUDIT, node, &a)))
		return rc;
	return lb_state_put_u64(c->state, NS_CITED, tx.id, LB_HASH_LEN, c->height);
}

static json_t *json_cite(const struct lb_tx *tx)
{
	struct mkt_cite m;
	struct lb_tx in;
	if (dec_cite(tx, &m, NULL))
		return NULL;
	static const char *const kinds[] = {"", "audit", "rating", "creation"};
	json_t *o = json_pack("{s:s,s:I}", "kind", kinds[m.kind], "proof_bytes",
			      (json_int_t)m.proof_len);
	if (o && lb_tx_decode(&in, m.tx, m.tx_len, NULL) == LB_OK)
		json_object_set_new(o, "cited", json_string(HEX(in.id)));
	return o;
}

/* ---- market.patient.claim --------------------------------------------------------------------- */

int lb_mkt_patient_share_put(struct lb_state *s, const uint8_t escrow[LB_HASH_LEN],
			     uint64_t amount)
{
	return lb_state_put_u64(s, NS_PSHARE, escrow, LB_HASH_LEN, amount);
}

int lb_mkt_patient_share_get(struct lb_state *s, const uint8_t escrow[LB_HASH_LEN],
			     uint64_t *amount)
{
	uint64_t v = UINT64_MAX;
	int rc = lb_state_get_u64(s, NS_PSHARE, escrow, LB_HASH_LEN, UINT64_MAX, &v);
	if (rc)
		return rc;
	if (v == UINT64_MAX)
		return LB_ENOTFOUND;
	*amount = v;
	return LB_OK;
}

int lb_mkt_patient_claim_encode(struct lb_buf *b, const uint8_t *exec_tx, size_t exec_len,
				const uint8_t *exec_proof, size_t exec_proof_len,
				const uint8_t *reg_tx, size_t reg_len, const uint8_t *reg_proof,
				size_t reg_proof_len, const uint8_t commitment[LB_HASH_LEN])
{
	if (lb_enc_bytes(b, exec_tx, exec_len) || lb_enc_bytes(b, exec_proof, exec_proof_len) ||
	    lb_enc_bytes(b, reg_tx, reg_len) || lb_enc_bytes(b, reg_proof, reg_proof_len) ||
	    lb_enc_fixed(b, commitment, LB_HASH_LEN))
		return LB_ENOMEM;
	return LB_OK;
}

struct mkt_pclaim {
	const uint8_t *exec, *exec_proof, *reg, *reg_proof;
	size_t exec_len, exec_proof_len, reg_len, reg_proof_len;
	uint8_t commitment[LB_HASH_LEN];
};

static int dec_pclaim(const struct lb_tx *tx, struct mkt_pclaim *o, struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, tx->payload, tx->payload_len, "market.patient.claim payload", em);
	if ((rc = lb_dec_bytes(&d, "exec tx", LB_TX_MAX_BYTES, &o->exec, &o->exec_len)) ||
	    (rc = lb_dec_bytes(&d, "exec proof", LB_MKT_CITE_PROOF_MAX, &o->exec_proof,
			       &o->exec_proof_len)) ||
	    (rc = lb_dec_bytes(&d, "registration tx", LB_TX_MAX_BYTES, &o->reg, &o->reg_len)) ||
	    (rc = lb_dec_bytes(&d, "registration proof", LB_MKT_CITE_PROOF_MAX, &o->reg_proof,
			       &o->reg_proof_len)) ||
	    (rc = lb_dec_fixed(&d, "commitment", o->commitment, LB_HASH_LEN)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (!o->exec_len || !o->exec_proof_len || !o->reg_len || !o->reg_proof_len)
		return lb_errf(em, LB_EMALFORMED,
			       "market.patient.claim: the exchange.exec tx, the xchg.patients "
			       "registration and both proofs must be present (leben tx proof <id> "
			       "--anchor settlement)");
	return LB_OK;
}

static int check_pclaim(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct mkt_pclaim m;
	return dec_pclaim(tx, &m, em);
}

/* The patient (its consent key, as registered by the owner for its commitment) claims the
 * per-record part of the patients' share of a released escrow whose exec used its records. */
static int apply_pclaim(struct lb_apply_ctx *c)
{
	struct lb_mkt_config cfg;
	struct mkt_pclaim m;
	struct lb_tx etx, rtx;
	struct lb_xchg_exec ex;
	struct lb_xchg_patients reg;
	struct lb_errmsg e;
	uint8_t owner[LB_ADDR_LEN], pool[LB_ADDR_LEN], key[2 * LB_HASH_LEN];
	uint64_t share = 0, seen = 0;
	const uint8_t *key_addr = NULL;
	size_t used = 0;
	int rc = dec_pclaim(c->tx, &m, c->em);
	if (rc || (rc = need_market(c, &cfg)) ||
	    (rc = lb_apply_cite(c, "exchange exec", m.exec, m.exec_len, m.exec_proof,
				m.exec_proof_len, LB_CHAIN_BUSINESS, LB_TX_XCHG_EXEC, &etx)) ||
	    (rc = lb_apply_cite(c, "patients' registration", m.reg, m.reg_len, m.reg_proof,
				m.reg_proof_len, LB_CHAIN_BUSINESS, LB_TX_XCHG_PATIENTS, &rtx)))
		return rc;
	lb_errclear(&e);
	if (lb_xchg_exec_decode(&ex, etx.payload, etx.payload_len, &e) ||
	    lb_xchg_patients_decode(&reg, rtx.payload, rtx.payload_len, &e))
		return lb_errf(c->em, LB_EINVALID,
			       "market.patient.claim: a cited exchange tx does not decode: %s",
			       e.text);
	for (size_t i = 0; i < ex.n_patients; i++)
		used += !memcmp(ex.patients + i * LB_HASH_LEN, m.commitment, LB_HASH_LEN);
	if (!used)
		return lb_errf(c->em, LB_EINVALID,
			       "market.patient.claim: the cited exec of escrow %s did not use records "
			       "of patient %s: nothing to claim",
			       HEX(ex.escrow), HEX(m.commitment));
	/* the registration must be the data owner's (only the asset's owner registers) */
	memcpy(owner, ex.terms.owner, LB_ADDR_LEN);
	uint8_t reg_sender[LB_ADDR_LEN];
	lb_addr_from_pubkey(reg_sender, rtx.sender);
	if (memcmp(reg_sender, owner, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EINVALID,
			       "market.patient.claim: the cited registration was sent by %s, not by "
			       "the data owner %s of the escrow",
			       ADDR(reg_sender), ADDR(owner));
	for (size_t i = 0; i < reg.n; i++)
		if (!memcmp(reg.entries + i * LB_XCHG_PATIENT_ENTRY, m.commitment, LB_HASH_LEN))
			key_addr = reg.entries + i * LB_XCHG_PATIENT_ENTRY + LB_HASH_LEN;
	if (!key_addr)
		return lb_errf(c->em, LB_EINVALID,
			       "market.patient.claim: the cited registration does not name patient "
			       "%s: cite the xchg.patients tx that registered its consent key",
			       HEX(m.commitment));
	if (memcmp(key_addr, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH,
			       "market.patient.claim: patient %s's consent key is %s; only that key "
			       "claims its share (this tx is signed by %s)",
			       HEX(m.commitment), ADDR(key_addr), ADDR(c->sender_addr));
	rc = lb_mkt_patient_share_get(c->state, ex.escrow, &share);
	if (rc == LB_ENOTFOUND)
		return lb_errf(c->em, LB_ENOTFOUND,
			       "market.patient.claim: escrow %s has no patients' share recorded (not "
			       "released, or released without a market section): nothing to claim",
			       HEX(ex.escrow));
	if (rc)
		return lb_errf(c->em, rc, "reading the patients' share of escrow %s failed",
			       HEX(ex.escrow));
	memcpy(key, ex.escrow, LB_HASH_LEN);
	memcpy(key + LB_HASH_LEN, m.commitment, LB_HASH_LEN);
	if ((rc = lb_state_get_u64(c->state, NS_PCLAIM, key, sizeof key, 0, &seen)))
		return rc;
	if (seen)
		return lb_errf(c->em, LB_EEXISTS,
			       "market.patient.claim: patient %s already claimed its share of escrow "
			       "%s (at settlement height %llu)",
			       HEX(m.commitment), HEX(ex.escrow), (unsigned long long)seen);
	uint64_t amount = share / ex.n_patients * used;
	lb_mkt_patient_pool(owner, pool);
	if ((amount && ((rc = lb_mkt_debit(c->state, pool, LB_ASC, amount, c->em)) ||
			(rc = lb_mkt_credit(c->state, c->sender_addr, LB_ASC, amount, c->em)))))
		return rc;
	return lb_state_put_u64(c->state, NS_PCLAIM, key, sizeof key, c->height);
}

static json_t *json_pclaim(const struct lb_tx *tx)
{
	struct mkt_pclaim m;
	struct lb_tx in;
	if (dec_pclaim(tx, &m, NULL))
		return NULL;
	json_t *o = json_pack("{s:s}", "commitment", HEX(m.commitment));
	if (o && lb_tx_decode(&in, m.exec, m.exec_len, NULL) == LB_OK)
		json_object_set_new(o, "exec", json_string(HEX(in.id)));
	return o;
}

/* ---- store wallet payouts ------------------------------------------------------------------ */

int lb_mkt_store_payout_encode(struct lb_buf *b, const uint8_t *tx, size_t tx_len,
			       const uint8_t *proof, size_t proof_len)
{
	int rc = lb_enc_bytes(b, tx, tx_len);
	return rc ? rc : lb_enc_bytes(b, proof, proof_len);
}

static int check_payout(const struct lb_tx *tx, struct lb_errmsg *em)
{
	(void)tx;
	(void)em;
	return LB_OK;
}

/* The cited store.withdraw's amount, from the store deposit address (which holds the ASC of
 * every deposit) to the withdrawal's sender, whoever sends the payout; once per withdrawal. */
static int apply_payout(struct lb_apply_ctx *c)
{
	struct lb_dec d, w;
	const uint8_t *raw, *proof;
	size_t rl, pl;
	struct lb_tx tx;
	uint64_t amount, seen = 0;
	uint8_t owner[LB_ADDR_LEN], dep[LB_ADDR_LEN];
	lb_dec_init(&d, c->tx->payload, c->tx->payload_len, "market.store.payout", c->em);
	int rc = lb_dec_bytes(&d, "withdrawal", LB_TX_MAX_BYTES, &raw, &rl);
	if (!rc)
		rc = lb_dec_bytes(&d, "proof", LB_MKT_CITE_PROOF_MAX, &proof, &pl);
	if (!rc)
		rc = lb_dec_end(&d);
	if (rc)
		return rc;
	if ((rc = lb_apply_cite(c, "store withdrawal", raw, rl, proof, pl, LB_CHAIN_BUSINESS,
				LB_TX_STORE_WITHDRAW, &tx)))
		return rc;
	lb_dec_init(&w, tx.payload, tx.payload_len, "store.withdraw", c->em);
	if ((rc = lb_dec_uvar(&w, "amount", UINT64_MAX, &amount)))
		return rc;
	if ((rc = lb_state_get_u64(c->state, NS_PAYOUT, tx.id, LB_HASH_LEN, 0, &seen)))
		return rc;
	if (seen)
		return lb_errf(c->em, LB_EEXISTS,
			       "market.store.payout: withdrawal %s was already paid out (at settlement "
			       "height %llu)",
			       HEX(tx.id), (unsigned long long)seen);
	lb_addr_from_pubkey(owner, tx.sender);
	lb_store_deposit_addr(dep);
	uint64_t held, csc;
	if ((rc = lb_mkt_balances(c->state, dep, &held, &csc)))
		return rc;
	if (held < amount)
		return lb_errf(c->em, LB_EFUNDS,
			       "market.store.payout: the store deposit address holds %s ASC, not %s "
			       "(store credit from genesis has no ASC behind it)",
			       AMT(held), AMT(amount));
	if ((rc = lb_mkt_debit(c->state, dep, LB_ASC, amount, c->em)) ||
	    (rc = lb_mkt_credit(c->state, owner, LB_ASC, amount, c->em)))
		return rc;
	return lb_state_put_u64(c->state, NS_PAYOUT, tx.id, LB_HASH_LEN, c->height);
}

static json_t *json_payout(const struct lb_tx *tx)
{
	(void)tx;
	return NULL;
}

static const struct lb_txtype market_types[] = {
	{LB_TX_MKT_FUND, LB_CHAIN_SETTLEMENT, "market.fund", check_fund, apply_fund, json_fund,
	 false},
	{LB_TX_MKT_REDEEM, LB_CHAIN_SETTLEMENT, "market.redeem", check_redeem, apply_redeem,
	 json_amount, false},
	/* closing a period is a public service (any node may do it, once): fee-exempt */
	{LB_TX_MKT_PERIOD, LB_CHAIN_SETTLEMENT, "market.period", check_period, apply_period,
	 json_period, true},
	{LB_TX_MKT_SPLITS_PROPOSE, LB_CHAIN_SETTLEMENT, "market.splits.propose", check_propose,
	 apply_propose, json_propose, false},
	{LB_TX_MKT_SPLITS_VOTE, LB_CHAIN_SETTLEMENT, "market.splits.vote", check_vote, apply_vote,
	 json_vote, false},
	{LB_TX_MKT_PAY, LB_CHAIN_SETTLEMENT, "market.pay", check_pay, apply_pay, json_pay, false},
	{LB_TX_MKT_POOL_PAY, LB_CHAIN_SETTLEMENT, "market.pool.pay", check_pool_pay,
	 apply_pool_pay, json_pool_pay, false},
	/* citing a record is a public service (the nodes do it, each record counts once):
	 * fee-exempt */
	{LB_TX_MKT_CITE, LB_CHAIN_SETTLEMENT, "market.cite", check_cite, apply_cite, json_cite,
	 true},
	{LB_TX_MKT_PATIENT_CLAIM, LB_CHAIN_SETTLEMENT, "market.patient.claim", check_pclaim,
	 apply_pclaim, json_pclaim, false},
	/* paying out a withdrawal is a public service (the nodes do it, once each): fee-exempt */
	{LB_TX_MKT_STORE_PAYOUT, LB_CHAIN_SETTLEMENT, "market.store.payout", check_payout,
	 apply_payout, json_payout, true},
	/* per-step charge of compute.run (steps.c); settling is a public service: fee-exempt */
	{LB_TX_COMPUTE_PREPAY, LB_CHAIN_SETTLEMENT, "compute.prepay", mkt_check_prepay,
	 mkt_apply_prepay, mkt_json_prepay, false},
	{LB_TX_COMPUTE_SETTLE, LB_CHAIN_SETTLEMENT, "compute.settle", mkt_check_settle,
	 mkt_apply_settle, json_payout, true},
	{LB_TX_COMPUTE_RECLAIM, LB_CHAIN_SETTLEMENT, "compute.reclaim", mkt_check_reclaim,
	 mkt_apply_reclaim, mkt_json_reclaim, false},
};

int lb_market_register_txtypes(void)
{
	/* period and the votes read the block height: not block-independent; a pay reads only
	 * state (its use counts in the open period), so its admission writes are reused */
	int rc = lb_txtype_register_rows(market_types, sizeof market_types / sizeof market_types[0],
					 false);
	if (!rc)
		rc = lb_txtype_mark_block_independent(LB_TX_MKT_PAY);
	return rc ? rc : lb_genesis_hook_register(genesis_market);
}

/* ---- views ------------------------------------------------------------------------------------ */

static json_t *addr_json(const uint8_t a[LB_ADDR_LEN])
{
	char t[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(t, a);
	return json_string(t);
}

int lb_mkt_state_json(struct lb_state *s, json_t **out, struct lb_errmsg *em)
{
	struct lb_mkt_config c;
	bool on;
	uint64_t next, red, mint, burn, sa, sc;
	int rc = lb_mkt_config_load(s, &c, &on);
	*out = NULL;
	if (rc)
		return lb_errf(em, rc, "reading the market configuration failed");
	if (!on)
		return lb_errf(em, LB_ENOTFOUND,
			       "this chain's genesis has no 'market' section (docs/economy.md)");
	if ((rc = lb_state_get_u64(s, NS_CFG, "next", 4, 0, &next)) ||
	    (rc = lb_state_get_u64(s, NS_TOT, "redeemed", 8, 0, &red)) ||
	    (rc = lb_state_get_u64(s, NS_TOT, "minted", 6, 0, &mint)) ||
	    (rc = lb_state_get_u64(s, NS_TOT, "burned", 6, 0, &burn)) ||
	    (rc = lb_state_get_u64(s, "supply", "asc", 3, 0, &sa)) ||
	    (rc = lb_state_get_u64(s, "supply", "csc", 3, 0, &sc)))
		return lb_errf(em, rc, "reading the market totals failed");
	json_t *pools = json_object(), *bonus = json_object(), *w = json_object();
	for (unsigned p = 0; p < LB_MKT_POOL_COUNT; p++) {
		struct pool_rec r;
		if ((rc = pool_load(s, p, &r)))
			break;
		json_object_set_new(pools, lb_mkt_pool_name(p),
				    json_pack("{s:I,s:I,s:I,s:I}", "asc_locked",
					      (json_int_t)r.asc_locked, "csc_pending",
					      (json_int_t)r.pending, "csc_per_period",
					      (json_int_t)r.per_period, "csc_available",
					      (json_int_t)r.available));
	}
	for (unsigned u = 0; u < LB_MKT_USE_COUNT; u++) {
		json_t *t = json_object();
		for (unsigned r = 0; r < LB_MKT_ROLE_COUNT; r++)
			if (c.bonus[u][r])
				json_object_set_new(t, lb_mkt_role_name(r),
						    json_integer((json_int_t)c.bonus[u][r]));
		json_object_set_new(bonus, lb_mkt_use_name(u), t);
	}
	for (unsigned p = 0; p < 3; p++)
		json_object_set_new(w, lb_mkt_pool_name(p),
				    json_pack("{s:I,s:I,s:I,s:I}", "call",
					      (json_int_t)c.weights[p].call, "rating",
					      (json_int_t)c.weights[p].rating, "scale",
					      (json_int_t)c.weights[p].scale, "quality",
					      (json_int_t)c.weights[p].quality));
	*out = json_pack(
		"{s:o,s:o,s:I,s:I,s:I,s:o,s:o,s:o,s:{s:I,s:I,s:I},s:{s:I,s:I,s:I,s:I,s:I}}",
		"splits", lb_mkt_splits_to_json(&c.splits), "platform", addr_json(c.platform),
		"period_blocks", (json_int_t)c.period_blocks, "top_k", (json_int_t)c.top_k,
		"next_period", (json_int_t)next, "pools", pools, "bonus", bonus, "weights", w,
		"compute", "step", (json_int_t)c.compute_step_price, "cpu_100ms",
		(json_int_t)c.compute_cpu_ms_price, "mem_mib", (json_int_t)c.compute_mem_mib_price,
		"totals", "asc_supply", (json_int_t)sa, "asc_redeemed", (json_int_t)red,
		"csc_supply", (json_int_t)sc, "csc_minted", (json_int_t)mint, "csc_burned",
		(json_int_t)burn);
	if (rc || !*out) {
		json_decref(*out);
		*out = NULL;
		return lb_errf(em, rc ? rc : LB_ENOMEM, "building the market view failed");
	}
	json_object_set_new(*out, "quota", json_pack("{s:I,s:I}", "csc_per_asc",
						     (json_int_t)c.quota_csc_per_asc, "periods",
						     (json_int_t)c.quota_periods));
	return LB_OK;
}

int lb_mkt_ranking_json(struct lb_state *s, uint64_t period, json_t **out,
			struct lb_errmsg *em)
{
	uint64_t next;
	int rc = lb_state_get_u64(s, NS_CFG, "next", 4, 0, &next);
	*out = NULL;
	if (rc)
		return lb_errf(em, rc, "reading the market state failed");
	if (period >= next)
		return lb_errf(em, LB_ENOTFOUND,
			       "period %llu is not closed yet (the next period to close is %llu)",
			       (unsigned long long)period, (unsigned long long)next);
	json_t *o = json_pack("{s:I}", "period", (json_int_t)period);
	for (unsigned p = 0; p < LB_MKT_POOL_BONUS && o; p++) {
		uint8_t rk[9];
		const uint8_t *v;
		size_t n;
		be64(rk, period);
		rk[8] = (uint8_t)p;
		if ((rc = lb_state_get(s, NS_RANK, rk, 9, &v, &n)))
			break;
		struct lb_dec d;
		uint64_t allot, cnt, score, pay;
		uint8_t node[LB_ADDR_LEN];
		lb_dec_init(&d, v, n, "ranking", NULL);
		if (lb_dec_uvar(&d, "a", UINT64_MAX, &allot) ||
		    lb_dec_uvar(&d, "n", TOP_K_MAX, &cnt)) {
			rc = LB_ECORRUPT;
			break;
		}
		json_t *list = json_array();
		for (uint64_t i = 0; i < cnt; i++) {
			if (lb_dec_fixed(&d, "node", node, LB_ADDR_LEN) ||
			    lb_dec_uvar(&d, "s", UINT64_MAX, &score) ||
			    lb_dec_uvar(&d, "p", UINT64_MAX, &pay)) {
				rc = LB_ECORRUPT;
				break;
			}
			json_array_append_new(list, json_pack("{s:I,s:o,s:I,s:I}", "rank",
							      (json_int_t)(i + 1), "node",
							      addr_json(node), "score",
							      (json_int_t)score, "paid_csc",
							      (json_int_t)pay));
		}
		json_object_set_new(o, lb_mkt_pool_name(p),
				    json_pack("{s:I,s:o}", "allotted_csc", (json_int_t)allot,
					      "top", list));
		if (rc)
			break;
	}
	if (rc || !o) {
		json_decref(o);
		return lb_errf(em, rc ? rc : LB_ENOMEM, "reading the ranking of period %llu failed",
			       (unsigned long long)period);
	}
	*out = o;
	return LB_OK;
}

struct view_q {
	int what;
	uint64_t period;
	json_t *out;
	struct lb_errmsg *em;
};

static int view_state(struct lb_state *s, void *ctx)
{
	struct view_q *q = ctx;
	int rc = lb_mkt_state_json(s, &q->out, q->em);
	if (!rc && q->what == 1) {
		json_t *sp = json_incref(json_object_get(q->out, "splits"));
		json_decref(q->out);
		q->out = json_pack("{s:o}", "splits", sp);
	}
	return rc;
}

static int view_ranking(struct lb_state *s, void *ctx)
{
	struct view_q *q = ctx;
	return lb_mkt_ranking_json(s, q->period, &q->out, q->em);
}

int lb_mkt_ledger_json(struct lb_ledger *l, int what, json_t **out, struct lb_errmsg *em)
{
	struct view_q q = {.what = what, .em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_SETTLEMENT, view_state, &q);
	*out = rc ? NULL : q.out;
	return rc;
}

int lb_mkt_ledger_ranking_json(struct lb_ledger *l, uint64_t period, json_t **out,
			       struct lb_errmsg *em)
{
	struct view_q q = {.period = period, .em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_SETTLEMENT, view_ranking, &q);
	*out = rc ? NULL : q.out;
	return rc;
}

/* ---- verify: rankings recomputed from the counters ----------------------------------------- */

struct verify_q {
	uint64_t periods;
	struct lb_errmsg *em;
};

static int verify_pool(struct lb_state *s, const struct lb_mkt_config *cfg, uint64_t p,
		       unsigned pool, struct ranked *top, struct lb_errmsg *em)
{
	uint8_t rk[9], node[LB_ADDR_LEN];
	const uint8_t *v;
	size_t n, ntop;
	uint64_t allot, cnt, score, pay;
	struct lb_dec d;
	int rc = rank_pool(s, cfg, p, pool, top, &ntop);
	if (rc)
		return lb_errf(em, rc, "period %llu, %s pool: reading its counters failed",
			       (unsigned long long)p, lb_mkt_pool_name(pool));
	be64(rk, p);
	rk[8] = (uint8_t)pool;
	if ((rc = lb_state_get(s, NS_RANK, rk, 9, &v, &n)))
		return lb_errf(em, LB_ECORRUPT, "period %llu is closed but the %s pool has no stored "
				     "ranking", (unsigned long long)p, lb_mkt_pool_name(pool));
	lb_dec_init(&d, v, n, "ranking", NULL);
	if (lb_dec_uvar(&d, "a", UINT64_MAX, &allot) || lb_dec_uvar(&d, "n", TOP_K_MAX, &cnt))
		return lb_errf(em, LB_ECORRUPT, "period %llu, %s pool: the stored ranking is unreadable",
			       (unsigned long long)p, lb_mkt_pool_name(pool));
	if (cnt != ntop)
		return lb_errf(em, LB_ECORRUPT,
			       "period %llu, %s pool: %llu nodes stored in the ranking, %zu "
			       "recomputed from the counters",
			       (unsigned long long)p, lb_mkt_pool_name(pool), (unsigned long long)cnt,
			       ntop);
	for (size_t i = 0; i < ntop; i++) {
		if (lb_dec_fixed(&d, "node", node, LB_ADDR_LEN) ||
		    lb_dec_uvar(&d, "s", UINT64_MAX, &score) || lb_dec_uvar(&d, "p", UINT64_MAX, &pay))
			return lb_errf(em, LB_ECORRUPT, "period %llu, %s pool: the stored ranking is "
					     "unreadable", (unsigned long long)p, lb_mkt_pool_name(pool));
		if (memcmp(node, top[i].node, LB_ADDR_LEN) || score != top[i].score)
			return lb_errf(em, LB_ECORRUPT,
				       "period %llu, %s pool, rank %zu: stored %s (score %llu), "
				       "recomputed %s (score %llu)",
				       (unsigned long long)p, lb_mkt_pool_name(pool), i + 1, ADDR(node),
				       (unsigned long long)score, ADDR(top[i].node),
				       (unsigned long long)top[i].score);
	}
	return LB_OK;
}

static int verify_view(struct lb_state *s, void *ctx)
{
	struct verify_q *q = ctx;
	struct lb_mkt_config cfg;
	bool on;
	uint64_t next;
	int rc = lb_mkt_config_load(s, &cfg, &on);
	if (rc || !on)
		return rc ? lb_errf(q->em, rc, "reading the market configuration failed") : LB_OK;
	if ((rc = lb_state_get_u64(s, NS_CFG, "next", 4, 0, &next)))
		return rc;
	struct ranked *top = lb_malloc(cfg.top_k * sizeof *top);
	if (!top)
		return lb_errf(q->em, LB_ENOMEM, "out of memory");
	for (uint64_t p = 0; p < next && !rc; p++, q->periods++)
		for (unsigned pool = 0; pool < LB_MKT_POOL_BONUS && !rc; pool++)
			rc = verify_pool(s, &cfg, p, pool, top, q->em);
	lb_free(top);
	return rc;
}

int lb_mkt_verify_ledger(struct lb_ledger *l, uint64_t *periods, struct lb_errmsg *em)
{
	struct verify_q q = {.em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_SETTLEMENT, verify_view, &q);
	*periods = rc ? 0 : q.periods;
	return rc;
}
