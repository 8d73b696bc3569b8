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
