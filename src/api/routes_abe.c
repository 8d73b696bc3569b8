/*
 * CP-ABE routes (docs/api.md "Attribute-based encryption"): an attribute authority's record
 * (public parameters, attribute epochs, the keys it issued and revoked: never a key) and the
 * latest policy-sealed private part of an asset, read from the directory chain.
 */
#include <stdio.h>

#include "api/api_int.h"
#include "leben/abe_tx.h"

static int param32(const struct api_call *c, const char *what, uint8_t id[32],
		   struct lb_errmsg *em)
{
	char hex[66];
	if (api_param_copy(c->params, 0, hex, sizeof hex) || lb_hex_decode(id, 32, hex))
		return lb_errf(em, LB_EMALFORMED, "'%.*s' is not %s: expected 64 hex digits",
			       (int)(c->params->len[0] > 80 ? 80 : c->params->len[0]),
			       c->params->val[0], what);
	return LB_OK;
}

/* GET /v1/abe/authorities/{id} */
int api_abe_authority(const struct api_call *c, json_t **out, unsigned *status,
		      struct lb_errmsg *em)
{
	uint8_t id[32];
	int rc = param32(c, "an authority id", id, em);
	return rc ? rc : lb_abe_authority_json(c->ledger, id, out, em);
}

/* GET /v1/abe/seals/{asset} */
int api_abe_seal(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[32];
	int rc = param32(c, "an asset id", id, em);
	return rc ? rc : lb_abe_seal_json(c->ledger, id, out, em);
}
