/*
 * Verifiable purge routes (docs/api.md "Purge"): the status of an asset's purges and the
 * patient's view, read from the directory chain; and the refusal the exchange routes give
 * for purged data.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "leben/data_purge.h"

/* Each ask gets "status": "purged" (and "request") when a patients' purge named the patient,
 * else "waiting". reqs: the directory's requests of the asset (or of the patient). */
static void ask_status(json_t *asks, json_t *reqs)
{
	size_t i, k, m;
	json_t *a, *r, *p;
	json_array_foreach(asks, i, a) {
		const char *pat = json_string_value(json_object_get(a, "patient"));
		const char *done = NULL;
		json_array_foreach(reqs, k, r) {
			json_t *pl = json_object_get(r, "patients");
			if (!pl) /* the patient's view lists its own requests only */
				done = json_string_value(json_object_get(r, "request"));
			json_array_foreach(pl, m, p)
				if (pat && !strcmp(json_string_value(p), pat))
					done = json_string_value(json_object_get(r, "request"));
		}
		json_object_set_new(a, "status", json_string(done ? "purged" : "waiting"));
		if (done)
			json_object_set_new(a, "request", json_string(done));
	}
}

/* GET /v1/data/purges/{asset}: the directory's requests and the patients' asks */
int api_purge_status(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em)
{
	uint8_t id[32];
	json_t *asks = NULL;
	int rc = api_param_hash(c->params, 0, "an asset id", id, em);
	if (rc || (rc = lb_purge_asks_json(c->ledger, id, NULL, &asks, em)))
		return rc;
	rc = lb_purge_status_json(c->ledger, id, out, em);
	if (rc == LB_ENOTFOUND && json_array_size(asks)) {
		char hex[65];
		lb_hex_encode(hex, id, 32);
		*out = json_pack("{s:s,s:b,s:[]}", "asset_id", hex, "purged", 0, "requests");
		rc = *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
	}
	if (!rc) {
		ask_status(asks, json_object_get(*out, "requests"));
		json_object_set_new(*out, "asks", asks);
	} else {
		json_decref(asks);
	}
	return rc;
}

/* GET /v1/patients/{patient}/purges: the purges naming the patient and its own ask */
int api_purge_patient(const struct api_call *c, json_t **out, unsigned *status,
		      struct lb_errmsg *em)
{
	uint8_t id[32];
	json_t *asks = NULL;
	int rc = api_param_hash(c->params, 0, "a patient id (the commitment)", id, em);
	if (rc || (rc = lb_purge_asks_json(c->ledger, NULL, id, &asks, em)))
		return rc;
	if ((rc = lb_purge_patient_json(c->ledger, id, out, em))) {
		json_decref(asks);
		return rc;
	}
	ask_status(asks, json_object_get(*out, "purges"));
	json_object_set_new(*out, "asks", asks);
	return LB_OK;
}

static void day(uint64_t ms, char *out, size_t cap)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	if (!ms || !gmtime_r(&s, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(out, cap, "an unknown date");
}

int api_purge_refusal(struct lb_ledger *l, const uint8_t asset[32], const uint8_t *pats,
		      size_t n, struct lb_errmsg *em)
{
	bool whole = false;
	uint64_t when = 0;
	json_t *gone = NULL, *st = NULL;
	char hex[65], date[40];
	lb_hex_encode(hex, asset, 32);
	lb_purge_of(l, asset, &whole, &when, n ? &gone : NULL);
	int rc = LB_OK;
	if (whole) {
		const char *by = "the owner's";
		if (lb_purge_status_json(l, asset, &st, NULL) == LB_OK) {
			size_t i;
			json_t *r;
			json_array_foreach(json_object_get(st, "requests"), i, r)
				if (!strcmp(json_string_value(json_object_get(r, "scope")), "asset") &&
				    !strcmp(json_string_value(json_object_get(r, "by")), "patient"))
					by = "a patient's";
		}
		day(when, date, sizeof date);
		rc = lb_errf(em, LB_EDENIED,
			     "asset %s was purged on %s at %s request: its data no longer exists "
			     "anywhere in the consortium",
			     hex, date, by);
	}
	for (size_t i = 0; !rc && i < n; i++) {
		char ph[65];
		lb_hex_encode(ph, pats + i * 32, 32);
		size_t k;
		json_t *v;
		json_array_foreach(gone, k, v)
			if (!strcmp(json_string_value(v), ph)) {
				rc = lb_errf(em, LB_EDENIED,
					     "patient %s's records in asset %s were purged at the "
					     "patient's request; leave them out (the asset's current "
					     "version no longer holds them)",
					     ph, hex);
				break;
			}
	}
	json_decref(gone);
	json_decref(st);
	return rc;
}
