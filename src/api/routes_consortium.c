/*
 * The consortium's API routes beyond /v1/members (docs/api.md, docs/consortium.md): the record
 * of a removed member with the keys its removal refused, which `leben governance
 * follow-removal` carries to the settlement and directory chains; the co-signatures of a
 * certificate's key (ca.cosign).
 */
#include <stdio.h>

#include "api/api_int.h"
#include "leben/consortium.h"

/* GET /v1/members/{address}/removal */
int api_member_removal(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em)
{
	char text[LB_ADDR_TEXT_LEN + 8];
	uint8_t addr[LB_ADDR_LEN];
	(void)status;
	if (api_param_copy(c->params, 0, text, sizeof text))
		return lb_errf(em, LB_EMALFORMED, "the path does not hold an address (lb1...)");
	int rc = lb_addr_decode(addr, text, em);
	return rc ? rc : lb_consortium_removal_json(c->ledger, addr, out, em);
}

/* GET /v1/certificates/{spki_hash} */
int api_certificate(const struct api_call *c, json_t **out, unsigned *status,
		    struct lb_errmsg *em)
{
	char text[2 * LB_HASH_LEN + 8];
	uint8_t h[LB_HASH_LEN];
	(void)status;
	if (api_param_copy(c->params, 0, text, sizeof text) || lb_hex_decode(h, sizeof h, text))
		return lb_errf(em, LB_EMALFORMED,
			       "the path does not hold a key hash (64 hex digits: BLAKE2b-256 of the "
			       "certificate's public key, as 'leben governance cosign' prints it)");
	return lb_consortium_cert_json(c->ledger, h, out, em);
}
