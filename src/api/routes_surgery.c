/*
 * Surgical quality control over the API: the CUSUM alarms recorded on the business chain
 * (surgery.alarm) for one surgeon.
 */
#include <string.h>

#include "api/api_int.h"
#include "leben/base.h"
#include "leben/ledger.h"
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
