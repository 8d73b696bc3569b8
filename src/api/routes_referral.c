/*
 * Application 1's API routes (docs/api.md, "Referrals"): the referrals an institution sent or
 * received, and one referral with every recorded step.
 */
#include <string.h>

#include "api/api_int.h"
#include "leben/app_referral.h"

/* GET /v1/referrals?institution=lb1...&offset=&limit= */
int api_referrals(const struct api_call *c, json_t **out, unsigned *status,
		  struct lb_errmsg *em)
{
	const char *who = c->arg(c->conn, "institution");
	uint8_t addr[LB_ADDR_LEN];
	size_t offset = 0, limit = 100;
	int rc;
	if (who && lb_addr_decode(addr, who, em))
		return lb_errf(em, LB_EMALFORMED, "institution=%.60s is not an address (lb1...)",
			       who);
	if ((rc = api_arg_size(c, "offset", (size_t)1 << 40, &offset, em)) ||
	    (rc = api_arg_size(c, "limit", 1000, &limit, em)))
		return rc;
	return lb_ref_list_json(c->ledger, who ? addr : NULL, offset, limit, out, em);
}

/* GET /v1/referrals/{id} */
int api_referral(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	int rc = api_param_hash(c->params, 0, "a referral id", id, em);
	return rc ? rc : lb_ref_json(c->ledger, id, out, em);
}
