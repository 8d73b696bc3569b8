/*
 * Surgical quality control over the API: the CUSUM alarms recorded on the business chain
 * (surgery.alarm) for one surgeon; funnel plots and the ranking of operations computed from
 * hospitals' released summaries (never from records).
 */
#include <string.h>

#include "api/api_int.h"
#include "leben/base.h"
#include "leben/ledger.h"
#include "leben/market_store.h"
#include "leben/surgery.h"
#include "leben/tx.h"

int api_surgery_alarms(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em)
{
	char hosp[80], surg[80], key[160];
	if (api_param_copy(c->params, 0, hosp, sizeof hosp) || api_param_copy(c->params, 1, surg, sizeof surg) ||
	    strlen(hosp) > 64 || strlen(surg) > 64 || !*hosp || !*surg || strchr(hosp, '/') || strchr(surg, '/'))
		return lb_errf(em, LB_EMALFORMED, "give /v1/surgery/alarms/HOSPITAL/SURGEON (1 to 64 characters each)");
	snprintf(key, sizeof key, "%s/%s", hosp, surg);
	struct lb_buf b;
	lb_buf_init(&b, LB_STATE_VALUE_MAX);
	json_t *list = NULL;
	int rc = lb_ledger_state_read(c->ledger, LB_CHAIN_BUSINESS, LB_SURGERY_ALARM_NS, key, strlen(key), &b, em);
	if (rc == LB_OK)
		list = json_loadb((const char *)b.data, b.len, 0, NULL);
	lb_buf_release(&b);
	if (rc && rc != LB_ENOTFOUND)
		return rc;
	lb_errclear(em);
	*out = json_pack("{s:s,s:s,s:o}", "hospital", hosp, "surgeon", surg, "alarms",
			 json_is_array(list) ? list : (json_decref(list), json_array()));
	return LB_OK;
}

static int summaries_of(const struct api_call *c, json_t **body, json_t **sums, struct lb_errmsg *em)
{
	json_error_t je;
	*body = c->body ? json_loadb((const char *)c->body, c->body_len, 0, &je) : NULL;
	if (!json_is_object(*body))
		return lb_errf(em, LB_EMALFORMED, "the body must be a JSON object {\"summaries\": [...]}");
	*sums = json_object_get(*body, "summaries");
	if (!json_is_array(*sums))
		return lb_errf(em, LB_EINVALID, "\"summaries\" must be an array of released summaries");
	return LB_OK;
}

/* POST /v1/surgery/funnel {"summaries":[...], "by":"surgeon"|"hospital", "title"?}: the units
 * with their control limits and the SVG. Works on released summaries only. */
int api_surgery_funnel(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em)
{
	json_t *body = NULL, *sums, *units = NULL;
	int rc = summaries_of(c, &body, &sums, em);
	const char *by = json_string_value(json_object_get(body, "by"));
	const char *title = json_string_value(json_object_get(body, "title"));
	char *svg = NULL;
	if (!rc && (rc = lb_surgery_funnel(sums, by ? by : "surgeon", &units, em)) == LB_OK &&
	    (rc = lb_surgery_funnel_svg(units, title ? title : "30-day mortality", &svg, em)) == LB_OK)
		*out = json_pack("{s:s,s:O,s:s}", "by", by ? by : "surgeon", "units", units, "svg", svg);
	lb_free(svg);
	json_decref(units);
	json_decref(body);
	return rc;
}

/* POST /v1/surgery/rank {"summaries":[...]}: procedures by O/E with this node's store listings
 * (contracts) coded with each procedure. */
int api_surgery_rank(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em)
{
	json_t *body = NULL, *sums, *listings = NULL;
	int rc = summaries_of(c, &body, &sums, em);
	struct lb_store_query q = {.limit = 1000, .kind = LB_STORE_CONTRACT};
	if (!rc && (rc = lb_surgery_summaries_check(sums, em)) == LB_OK &&
	    (rc = lb_store_listings_json(c->ledger, &q, &listings, em)) == LB_OK)
		rc = lb_surgery_rank(sums, json_object_get(listings, "listings"), out, em);
	json_decref(listings);
	json_decref(body);
	return rc;
}
