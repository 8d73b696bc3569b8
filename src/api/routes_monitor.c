/*
 * Chronic-disease monitoring routes (docs/api.md, "Chronic-disease monitoring"): the node's
 * monitor (lb_mon_node: <home>/monitor/monitor.db), made on first use.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "leben/apps.h"
#include "leben/base.h"
#include "leben/monitor.h"

static int monitor(const struct api_call *c, struct lb_monitor **out, struct lb_errmsg *em)
{
	return lb_mon_node(c->home, true, out, em);
}

static int body_json(const struct api_call *c, json_t **j, struct lb_errmsg *em)
{
	json_error_t je;
	if (!c->body || !(*j = json_loadb((const char *)c->body, c->body_len, 0, &je)) ||
	    !json_is_object(*j)) {
		if (c->body && *j)
			json_decref(*j);
		return lb_errf(em, LB_ESYNTAX, "the body must be a JSON object");
	}
	return LB_OK;
}

/* A handler whose body is one JSON object given to fn with the call; 201 on success. */
static int with_body(const struct api_call *c,
		     int (*fn)(const struct api_call *, struct lb_monitor *, const json_t *,
			       json_t **, struct lb_errmsg *),
		     json_t **out, unsigned *status, struct lb_errmsg *em)
{
	struct lb_monitor *m;
	json_t *j = NULL;
	int rc = monitor(c, &m, em);
	if (rc || (rc = body_json(c, &j, em)))
		return rc;
	rc = fn(c, m, j, out, em);
	json_decref(j);
	if (!rc)
		*status = 201;
	return rc;
}

static int provider(const struct api_call *c, struct lb_monitor *m, const json_t *j,
		    json_t **out, struct lb_errmsg *em)
{
	(void)c;
	return lb_mon_provider(m, j, out, em);
}

/* By the institution when "by" is the node's key or a member's (<home>/fhir/members). */
static int enrol(const struct api_call *c, struct lb_monitor *m, const json_t *j, json_t **out,
		 struct lb_errmsg *em)
{
	const char *by = json_string_value(json_object_get(j, "by"));
	return lb_mon_enrol(m, j, lb_apps_is_member_key(c->ledger, c->home, by), out, em);
}

/* POST /v1/monitor/providers */
int api_mon_provider(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em)
{
	return with_body(c, provider, out, status, em);
}

/* POST /v1/monitor/patients */
int api_mon_enrol(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	return with_body(c, enrol, out, status, em);
}

/* POST /v1/monitor/readings?provider=NAME&sig=HEX */
int api_mon_readings(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em)
{
	(void)status;
	struct lb_monitor *m;
	int rc = monitor(c, &m, em);
	if (rc)
		return rc;
	return lb_mon_readings(m, c->arg(c->conn, "provider"), c->arg(c->conn, "sig"),
			       c->body ? (const char *)c->body : "", c->body ? c->body_len : 0,
			       (int64_t)lb_now_ms(), out, em);
}

/* GET /v1/monitor/outbox?after=ID&patient=P&state=S */
int api_mon_outbox(const struct api_call *c, json_t **out, unsigned *status,
		   struct lb_errmsg *em)
{
	(void)status;
	struct lb_monitor *m;
	int rc = monitor(c, &m, em);
	if (rc)
		return rc;
	const char *a = c->arg(c->conn, "after");
	return lb_mon_outbox(m, a ? strtoll(a, NULL, 10) : 0, c->arg(c->conn, "patient"),
			     c->arg(c->conn, "state"), (int64_t)lb_now_ms(), out, em);
}

/* POST /v1/monitor/outbox/{id}/ack */
int api_mon_ack(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	(void)status;
	struct lb_monitor *m;
	json_t *j = NULL;
	char id[24], *end;
	int rc = monitor(c, &m, em);
	if (rc)
		return rc;
	if (api_param_copy(c->params, 0, id, sizeof id) || !id[0])
		return lb_errf(em, LB_EMALFORMED, "the outbox id must be a number");
	long long n = strtoll(id, &end, 10);
	if (*end || n <= 0)
		return lb_errf(em, LB_EMALFORMED, "'%s' is not an outbox id (a number)", id);
	if ((rc = body_json(c, &j, em)))
		return rc;
	rc = lb_mon_ack(m, n, j, (int64_t)lb_now_ms(), out, em);
	json_decref(j);
	return rc;
}

/* GET /v1/monitor/status */
int api_mon_status(const struct api_call *c, json_t **out, unsigned *status,
		   struct lb_errmsg *em)
{
	(void)status;
	struct lb_monitor *m;
	int rc = monitor(c, &m, em);
	return rc ? rc : lb_mon_status(m, out, em);
}

/* POST /v1/monitor/settle */
int api_mon_settle(const struct api_call *c, json_t **out, unsigned *status,
		   struct lb_errmsg *em)
{
	(void)status;
	struct lb_monitor *m;
	int rc = monitor(c, &m, em);
	return rc ? rc : lb_mon_settle(m, c->ledger, out, em);
}
