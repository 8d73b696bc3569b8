/*
 * CP-ABE routes (docs/api.md "Attribute-based encryption"): an attribute authority's record
 * (public parameters, attribute epochs, the keys it issued and revoked: never a key) and the
 * latest policy-sealed private part of an asset, read from the directory chain.
 */
#include <stdio.h>

#include "api/api_int.h"
#include "leben/abe_tx.h"
#include "leben/crypto.h"

/* GET /v1/abe/authorities/{id} */
int api_abe_authority(const struct api_call *c, json_t **out, unsigned *status,
		      struct lb_errmsg *em)
{
	uint8_t id[32];
	int rc = api_param_hash(c->params, 0, "an authority id", id, em);
	return rc ? rc : lb_abe_authority_json(c->ledger, id, out, em);
}

/* GET /v1/abe/shares/{request}/{sender} */
int api_abe_share(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[32], addr[20];
	char text[LB_ADDR_TEXT_LEN + 2];
	int rc = api_param_hash(c->params, 0, "a request id", id, em);
	if (!rc && (api_param_copy(c->params, 1, text, sizeof text) ||
		    lb_addr_decode(addr, text, NULL)))
		rc = lb_errf(em, LB_EMALFORMED, "the sender is not an address (lb1...)");
	return rc ? rc : lb_abe_share_json(c->ledger, id, addr, out, em);
}

/* GET /v1/abe/seals/{asset} */
int api_abe_seal(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[32];
	int rc = api_param_hash(c->params, 0, "an asset id", id, em);
	return rc ? rc : lb_abe_seal_json(c->ledger, id, out, em);
}
