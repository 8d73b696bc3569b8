/*
 * Cohort studies (leben/cohort.h; docs/api.md "Cohort studies"): GET /v1/cohort/{id},
 * GET /v1/cohort/committees/{id}, GET /v1/cohort/{id}/patients/{asset}/{patient}.
 */
#include "api/api_int.h"
#include "leben/cohort.h"

static int param_hash(const struct api_call *c, size_t i, const char *what, uint8_t id[LB_HASH_LEN],
		      struct lb_errmsg *em)
{
	char hex[2 * LB_HASH_LEN + 2];
	if (api_param_copy(c->params, i, hex, sizeof hex) || lb_hex_decode(id, LB_HASH_LEN, hex))
		return lb_errf(em, LB_EMALFORMED, "'%.*s' is not %s: expected 64 hex digits",
			       (int)(c->params->len[i] > 80 ? 80 : c->params->len[i]), c->params->val[i], what);
	return LB_OK;
}

int api_cohort(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	int rc = param_hash(c, 0, "a cohort study id", id, em);
	return rc ? rc : lb_cohort_json(c->ledger, id, out, em);
}

int api_cohort_committee(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	int rc = param_hash(c, 0, "an ethics committee id", id, em);
	return rc ? rc : lb_cohort_committee_json(c->ledger, id, out, em);
}

int api_cohort_patient(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN], asset[LB_HASH_LEN], pat[LB_HASH_LEN];
	int rc = param_hash(c, 0, "a cohort study id", id, em);
	if (!rc)
		rc = param_hash(c, 1, "an asset id", asset, em);
	if (!rc)
		rc = param_hash(c, 2, "a patient commitment", pat, em);
	return rc ? rc : lb_cohort_patient_json(c->ledger, id, asset, pat, out, em);
}
