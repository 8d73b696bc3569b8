/*
 * The market's API routes (docs/api.md, "Market"; docs/economy.md): the split tables, pools,
 * totals and the rankings of closed periods, read from the committed settlement state.
 */
#include <stdio.h>
#include <stdlib.h>

#include "api/api_int.h"
#include "leben/market.h"

/* GET /v1/market */
int api_market(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	(void)status;
	return lb_mkt_ledger_json(c->ledger, 0, out, em);
}

/* GET /v1/market/splits */
int api_market_splits(const struct api_call *c, json_t **out, unsigned *status,
		      struct lb_errmsg *em)
{
	(void)status;
	return lb_mkt_ledger_json(c->ledger, 1, out, em);
}

/* GET /v1/market/rankings/{period} */
int api_market_ranking(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em)
{
	char text[24], *end;
	(void)status;
	if (api_param_copy(c->params, 0, text, sizeof text) || !text[0] || text[0] == '-')
		return lb_errf(em, LB_EMALFORMED, "the path does not hold a period number");
	unsigned long long p = strtoull(text, &end, 10);
	if (*end)
		return lb_errf(em, LB_EMALFORMED, "'%s' is not a period number", text);
	return lb_mkt_ledger_ranking_json(c->ledger, p, out, em);
}

/* GET /v1/market/cited/{tx}: whether a business or directory record was counted by a
 * market.cite, and at which settlement height (404 while it is not). */
int api_market_cited(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	char hex[2 * LB_HASH_LEN + 1];
	struct lb_buf v;
	(void)status;
	int rc = api_param_hash(c->params, 0, "record tx id", id, em);
	if (rc)
		return rc;
	lb_hex_encode(hex, id, LB_HASH_LEN);
	lb_buf_init(&v, 16);
	rc = lb_ledger_state_read(c->ledger, LB_CHAIN_SETTLEMENT, "mkt.cited", id, LB_HASH_LEN,
				  &v, em);
	if (rc == LB_ENOTFOUND)
		rc = lb_errf(em, LB_ENOTFOUND, "record %s was not counted by a market.cite (yet)",
			     hex);
	else if (!rc)
		*out = json_pack("{s:s,s:b}", "tx", hex, "counted", 1);
	lb_buf_release(&v);
	return rc;
}
