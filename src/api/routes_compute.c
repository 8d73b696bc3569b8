/*
 * The on-chain sandbox's API routes (docs/api.md, "On-chain sandbox"): a stored compute.run
 * (outputs, steps and memory used) by its tx id, and a published program by its hash.
 */
#include <string.h>

#include "api/api_int.h"
#include "leben/onchain.h"

int api_compute_run(const struct api_call *c, json_t **out, unsigned *status,
		    struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	int rc = api_param_hash(c, "a compute.run tx id", id, em);
	return rc ? rc : lb_oc_run_json(c->ledger, id, out, em);
}

int api_compute_program(const struct api_call *c, json_t **out, unsigned *status,
			struct lb_errmsg *em)
{
	uint8_t h[LB_HASH_LEN];
	int rc = api_param_hash(c, "a program hash", h, em);
	return rc ? rc : lb_oc_program_json(c->ledger, h, out, em);
}
