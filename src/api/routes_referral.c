/*
 * Application 1's API routes (docs/api.md, "Referrals"): the referrals an institution sent or
 * received, and one referral with every recorded step.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "leben/app_referral.h"

static int page_arg(const struct api_call *c, const char *name, size_t max, size_t *out,
		    struct lb_errmsg *em)
{
	const char *v = c->arg(c->conn, name);
	if (!v)
		return LB_OK;
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	if (!*v || *end || *v == '-' || n > max)
		return lb_errf(em, LB_EMALFORMED, "%s=%.20s: use a whole number from 0 to %zu", name,
			       v, max);
	*out = (size_t)n;
	return LB_OK;
}

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
	if ((rc = page_arg(c, "offset", (size_t)1 << 40, &offset, em)) ||
	    (rc = page_arg(c, "limit", 1000, &limit, em)))
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
