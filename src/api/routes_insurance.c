/*
 * Data-driven insurance API routes (docs/api.md, "Insurance"): a policy with its pool, a
 * patient's coverage (FHIR Coverage with the claims), a claim (FHIR Claim + ClaimResponse,
 * settled or not), and the adjudication a claim would get now (nothing is written).
 */
#include <string.h>

#include "api/api_int.h"
#include "leben/apps.h"
#include "leben/insurance.h"

int api_ins_policy(const struct api_call *c, json_t **out, unsigned *status,
		   struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	int rc = api_param_hash(c->params, 0, "a policy id", id, em);
	return rc ? rc : lb_ins_policy_json(c->ledger, id, out, em);
}

int api_ins_claim(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	int rc = api_param_hash(c->params, 0, "a claim id", id, em);
	return rc ? rc : lb_ins_claim_json(c->ledger, id, out, em);
}

int api_ins_coverage(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN], who[LB_ADDR_LEN];
	char text[LB_ADDR_TEXT_LEN + 8];
	int rc = api_param_hash(c->params, 0, "a policy id", id, em);
	if (rc)
		return rc;
	if (api_param_copy(c->params, 1, text, sizeof text) || lb_addr_decode(who, text, em))
		return lb_errf(em, LB_EMALFORMED, "the patient is not an account address (lb1...)");
	return lb_ins_coverage_json(c->ledger, id, who, out, em);
}

static int hash_field(json_t *b, const char *name, uint8_t out[LB_HASH_LEN], struct lb_errmsg *em)
{
	const char *s = json_string_value(json_object_get(b, name));
	if (!s || strlen(s) != 2 * LB_HASH_LEN || lb_hex_decode(out, LB_HASH_LEN, s))
		return lb_errf(em, LB_EMALFORMED, "\"%s\" must be 64 hex digits", name);
	return LB_OK;
}

static int addr_field(json_t *b, const char *name, uint8_t out[LB_ADDR_LEN], struct lb_errmsg *em)
{
	const char *s = json_string_value(json_object_get(b, name));
	if (!s || lb_addr_decode(out, s, NULL))
		return lb_errf(em, LB_EMALFORMED, "\"%s\" must be an account address (lb1...)", name);
	return LB_OK;
}

/* POST /v1/insurance/adjudicate {policy, patient, provider, condition, procedure, cost} */
int api_ins_adjudicate(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em)
{
	json_error_t je;
	json_t *b = c->body ? json_loadb((const char *)c->body, c->body_len, 0, &je) : NULL;
	if (!json_is_object(b)) {
		json_decref(b);
		return lb_errf(em, LB_EMALFORMED, "the body must be a JSON object {policy, patient, "
						  "provider, condition, procedure, cost}");
	}
	struct lb_ins_tx *p = lb_calloc(1, sizeof *p);
	uint8_t provider[LB_ADDR_LEN];
	json_t *cost = json_object_get(b, "cost");
	int rc = p ? LB_OK : LB_ENOMEM;
	if (!rc && !((rc = hash_field(b, "policy", p->policy, em)) ||
		     (rc = addr_field(b, "patient", p->patient, em)) ||
		     (rc = addr_field(b, "provider", provider, em)) ||
		     (rc = hash_field(b, "condition", p->condition, em)) ||
		     (rc = hash_field(b, "procedure", p->procedure, em)))) {
		if (!json_is_integer(cost) || json_integer_value(cost) <= 0)
			rc = lb_errf(em, LB_EMALFORMED, "\"cost\" must be micro-ASC above 0");
		else {
			p->type = LB_TX_INS_CLAIM;
			p->cost = (uint64_t)json_integer_value(cost);
			rc = lb_ins_adjudicate_json(c->ledger, provider, p, out, em);
		}
	}
	lb_free(p);
	json_decref(b);
	return rc;
}

/* GET /v1/insurance/auto-claims: the claims this node raised from FHIR writes */
int api_ins_auto_claims(const struct api_call *c, json_t **out, unsigned *status,
			struct lb_errmsg *em)
{
	json_t *a;
	int rc = lb_apps_auto_claims(c->home, &a, em);
	if (!rc && !(*out = json_pack("{s:o}", "claims", a)))
		rc = LB_ENOMEM;
	return rc;
}
