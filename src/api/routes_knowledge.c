/*
 * Routes the knowledge designer uses (docs/api.md, "Knowledge contracts"): a contract's source
 * converted between the .pf text form and the PROformajs JSON form, and checked by the verifier
 * as `leben contract check` / `publish` check it. Neither touches the chain or the node's
 * state: both parse the body, answer and forget it.
 */
#include <string.h>

#include "api/api_int.h"
#include "leben/base.h"
#include "leben/knowledge.h"

/* The body's "source" parsed as a model (its form found from its first byte). */
static int body_model(const struct api_call *c, json_t **body, struct lb_kn_model **m,
		      struct lb_errmsg *em)
{
	json_error_t jerr;
	*body = c->body ? json_loadb((const char *)c->body, c->body_len, 0, &jerr) : NULL;
	const char *src = json_string_value(json_object_get(*body, "source"));
	if (!src)
		return lb_errf(em, LB_ESYNTAX,
			       "the body must be a JSON object with \"source\": the contract's .pf "
			       "text or its PROformajs JSON, as a string");
	size_t n = json_string_length(json_object_get(*body, "source"));
	if (n == 0 || n > LB_KN_MAX_SOURCE)
		return lb_errf(em, LB_ELIMIT, "the source is %zu bytes; a contract has 1 to %u", n,
			       LB_KN_MAX_SOURCE);
	return lb_kn_model_parse(src, n, "source", LB_KN_FORM_AUTO, m, em);
}

/* POST /v1/contracts/convert {"source", "to": "pf"|"json"} */
int api_kn_convert(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	json_t *b = NULL;
	struct lb_kn_model *m = NULL;
	char *text = NULL;
	size_t len = 0;
	uint8_t h[32];
	int rc = body_model(c, &b, &m, em);
	const char *to = json_string_value(json_object_get(b, "to"));
	enum lb_kn_form f = LB_KN_FORM_AUTO;
	if (!rc) {
		if (to && !strcmp(to, "pf"))
			f = LB_KN_FORM_PF;
		else if (to && !strcmp(to, "json"))
			f = LB_KN_FORM_JSON;
		else
			rc = lb_errf(em, LB_EMALFORMED, "\"to\" must be \"pf\" or \"json\"");
	}
	if (!rc && (rc = lb_kn_model_print(m, f, &text, &len)))
		lb_errf(em, rc, "printing the contract failed");
	if (!rc && (rc = lb_kn_model_hash(m, h)))
		lb_errf(em, rc, "hashing the contract failed");
	if (!rc) {
		*out = json_pack("{s:s,s:s%,s:o}", "to", to, "source", text, len, "hash",
				 api_hex_json(h, sizeof h));
		if (!*out)
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
	}
	lb_free(text);
	lb_kn_model_free(m);
	json_decref(b);
	return rc;
}

/* POST /v1/contracts/check {"source"}: the verifier's report with the default limits (the
 * report `contract publish` hashes), and, when it has no finding, what a publication carries. */
int api_kn_check(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	json_t *b = NULL, *rep = NULL;
	struct lb_kn_model *m = NULL;
	char *report = NULL;
	uint8_t *canon = NULL;
	size_t failures = 0, clen = 0;
	int rc = body_model(c, &b, &m, em);
	if (!rc)
		rc = lb_kn_check(m, NULL, &report, &failures, NULL, em);
	if (!rc && !(rep = json_loads(report, 0, NULL)))
		rc = lb_errf(em, LB_EINTERNAL, "the verifier's report is not JSON");
	if (!rc && !failures) {
		uint8_t sh[32], rh[32];
		if (lb_kn_model_canonical(m, &canon, &clen) || lb_kn_model_hash(m, sh))
			rc = lb_errf(em, LB_EINTERNAL, "printing the canonical source failed");
		else {
			lb_kn_report_hash(report, strlen(report), rh);
			json_object_set_new(rep, "publish",
					    json_pack("{s:o,s:o,s:s%}", "source_hash",
						      api_hex_json(sh, 32), "report_hash",
						      api_hex_json(rh, 32), "canonical",
						      (const char *)canon, clen));
		}
	}
	if (!rc) {
		json_object_set_new(rep, "failures", json_integer((json_int_t)failures));
		*out = rep;
		rep = NULL;
	}
	json_decref(rep);
	lb_free(report);
	lb_free(canon);
	lb_kn_model_free(m);
	json_decref(b);
	return rc;
}

/* POST /v1/contracts/step {"source", "ops": [operation, ...]}: a run of the contract under the
 * PROformajs rules (lb_kn_enactment_*), replayed from its operations; answers what can be done
 * now ("pending"), the state, the operations as kept (refused ones marked) and, when the last
 * operation was refused, why ("refused"). Nothing is stored: the caller keeps the ops. */
int api_kn_step(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	json_t *b = NULL, *ops;
	struct lb_kn_model *m = NULL;
	struct lb_kn_enactment *e = NULL;
	char *pend = NULL, *state = NULL, *kept = NULL, why[sizeof em->text] = "";
	size_t i, n;
	json_t *op;
	int rc = body_model(c, &b, &m, em);
	ops = json_object_get(b, "ops");
	if (!rc && ops && !json_is_array(ops))
		rc = lb_errf(em, LB_ESYNTAX, "\"ops\" must be an array of operations ({\"op\":...})");
	n = json_array_size(ops);
	if (!rc && n > 10000)
		rc = lb_errf(em, LB_ELIMIT, "%zu operations; a run replays at most 10000", n);
	if (!rc)
		rc = lb_kn_enactment_new(m, &e, em);
	json_array_foreach(ops, i, op) {
		if (rc)
			break;
		struct lb_errmsg oe;
		lb_errclear(&oe);
		char *t = json_is_object(op) ? json_dumps(op, JSON_COMPACT) : NULL;
		if (!t) {
			rc = lb_errf(em, LB_ESYNTAX, "operation %zu is not a JSON object", i + 1);
			break;
		}
		int orc = lb_kn_enactment_apply(e, t, &oe);
		free(t);
		if (orc == LB_EMALFORMED) {
			rc = lb_errf(em, LB_EMALFORMED, "operation %zu: %s", i + 1, oe.text);
			break;
		}
		snprintf(why, sizeof why, "%s", orc ? oe.text : "");
	}
	if (!rc && !(rc = lb_kn_enactment_pending(e, &pend, em)) &&
	    !(rc = lb_kn_enactment_state(e, &state, em)) && !(rc = lb_kn_enactment_ops(e, &kept, em))) {
		*out = json_pack("{s:o,s:o,s:o}", "pending", json_loads(pend, 0, NULL), "state",
				 json_loads(state, 0, NULL), "ops", json_loads(kept, 0, NULL));
		if (!*out)
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
		else if (why[0])
			json_object_set_new(*out, "refused", json_string(why));
	}
	lb_free(pend);
	lb_free(state);
	lb_free(kept);
	if (e)
		lb_kn_enactment_free(e);
	lb_kn_model_free(m);
	json_decref(b);
	return rc;
}
