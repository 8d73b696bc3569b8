/*
 * The on-chain sandbox's API routes (docs/api.md, "On-chain sandbox"): a stored compute.run
 * (outputs, steps and memory used) by its tx id, and a published program by its hash.
 */
#include <string.h>

#include "api/api_int.h"
#include "leben/onchain.h"

static int param_hash(const struct api_call *c, const char *what, uint8_t id[LB_HASH_LEN],
		      struct lb_errmsg *em)
{
	char hex[2 * LB_HASH_LEN + 2];
	if (api_param_copy(c->params, 0, hex, sizeof hex) || lb_hex_decode(id, LB_HASH_LEN, hex))
		return lb_errf(em, LB_EMALFORMED, "'%.*s' is not %s: expected 64 hex digits",
			       (int)(c->params->len[0] > 80 ? 80 : c->params->len[0]),
			       c->params->val[0], what);
	return LB_OK;
}

int api_compute_run(const struct api_call *c, json_t **out, unsigned *status,
		    struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	int rc = param_hash(c, "a compute.run tx id", id, em);
	return rc ? rc : lb_oc_run_json(c->ledger, id, out, em);
}

int api_compute_program(const struct api_call *c, json_t **out, unsigned *status,
			struct lb_errmsg *em)
{
	uint8_t h[LB_HASH_LEN];
	int rc = param_hash(c, "a program hash", h, em);
	return rc ? rc : lb_oc_program_json(c->ledger, h, out, em);
}
