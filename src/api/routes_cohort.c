/*
 * Cohort studies (leben/cohort.h; docs/api.md "Cohort studies"): GET /v1/cohort/{id},
 * GET /v1/cohort/committees/{id}, GET /v1/cohort/{id}/patients/{asset}/{patient}.
 */
#include "api/api_int.h"
#include "leben/cohort.h"

int api_cohort(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	int rc = api_param_hash(c->params, 0, "a cohort study id", id, em);
	return rc ? rc : lb_cohort_json(c->ledger, id, out, em);
}

int api_cohort_committee(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	int rc = api_param_hash(c->params, 0, "an ethics committee id", id, em);
	return rc ? rc : lb_cohort_committee_json(c->ledger, id, out, em);
}

int api_cohort_patient(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN], asset[LB_HASH_LEN], pat[LB_HASH_LEN];
	int rc = api_param_hash(c->params, 0, "a cohort study id", id, em);
	if (!rc)
		rc = api_param_hash(c->params, 1, "an asset id", asset, em);
	if (!rc)
		rc = api_param_hash(c->params, 2, "a patient commitment", pat, em);
	return rc ? rc : lb_cohort_patient_json(c->ledger, id, asset, pat, out, em);
}
