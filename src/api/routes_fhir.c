/*
 * The FHIR R4 endpoint of a node (docs/fhir.md): /fhir/metadata, read, search, transaction
 * Bundles, PUT update, NDJSON $import and Bulk Data $export, over the node's FHIR store
 * (include/leben/fhir.h, <home>/fhir/fhir.db). Who may read what: the node's institution
 * (a client certificate of the same organisation, or a request signed with the node key)
 * reads and writes; a patient (a request signed with the key their Patient resource names)
 * reads their own records; everyone else is refused. Every answer that is not a resource is
 * an OperationOutcome with its HTTP status; every read and search by a patient's or an
 * institution's member is written down as an AuditEvent in the patient's compartment.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <sodium.h>

#include "api/api_int.h"
#include "leben/api.h"
#include "leben/apps.h"
#include "leben/apps_fhir.h"
#include "leben/base.h"
#include "leben/crypto.h"
#include "leben/cohort.h"
#include "leben/exchange.h"
#include "leben/insurance.h"
#include "leben/tx.h"
#include "leben/fhir.h"
#include "leben/fhir_node.h"

#define SIG_WINDOW_S 300
#define IMPORT_COMMIT_EVERY 2000

enum who_kind { WHO_NOBODY, WHO_INSTITUTION, WHO_PATIENT, WHO_OTHER };
struct who {
	enum who_kind kind;
	char patient[65];   /* WHO_PATIENT: their Patient id */
	char name[160];     /* for AuditEvent.agent: "institution <org>", "key <hex>" */
	char key[65];       /* the node's or a member's key that signed, in hex; "" otherwise */
	unsigned status;    /* refusal status (401/403) when kind is WHO_NOBODY/WHO_OTHER */
	char why[200];
};

/* A FHIR error: *out is an OperationOutcome, *status its HTTP status, LB_OK returned (the
 * server then sends it as application/fhir+json). */
static int outcome(const struct api_call *c, json_t **out, unsigned *status, unsigned http,
		   const char *code, const char *text, const char *expr)
{
	*out = lb_fhir_outcome(code, text, expr);
	*status = http;
	c->reply->content_type = "application/fhir+json";
	return *out ? LB_OK : LB_ENOMEM;
}

static const char *issue_code(int rc)
{
	switch (rc) {
	case LB_ENOTFOUND: return "not-found";
	case LB_EUNAUTH: case LB_EDENIED: return "forbidden";
	case LB_EEXISTS: case LB_EDUPLICATE: return "conflict";
	case LB_ETOOBIG: case LB_ELIMIT: return "too-costly";
	case LB_EUNSUPPORTED: return "not-supported";
	case LB_EINVALID: case LB_EMALFORMED: case LB_ESYNTAX: return "invalid";
	default: return "exception";
	}
}

static unsigned http_of(int rc)
{
	return rc == LB_EUNSUPPORTED ? 404 : (unsigned)lb_err_http_status(rc);
}

static int from_err(const struct api_call *c, json_t **out, unsigned *status, int rc,
		    const struct lb_errmsg *em, const char *expr)
{
	return outcome(c, out, status, http_of(rc), issue_code(rc), em->text, expr);
}

/* ---- who is asking ------------------------------------------------------------------------ */

static void cert_org(const gnutls_datum_t *d, char *org, size_t n)
{
	gnutls_x509_crt_t crt;
	org[0] = 0;
	if (!d || gnutls_x509_crt_init(&crt) < 0)
		return;
	size_t len = n;
	if (gnutls_x509_crt_import(crt, d, GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, 0, org,
					  &len) < 0)
		org[0] = 0;
	gnutls_x509_crt_deinit(crt);
}

/* The path the signature covers: "/fhir" and the path segments. */
static void request_path(const struct api_call *c, char *p, size_t cap)
{
	size_t n = (size_t)snprintf(p, cap, "/fhir");
	for (size_t i = 0; i < c->params->n && n < cap; i++)
		n += (size_t)snprintf(p + n, cap - n, "/%.*s", (int)c->params->len[i],
				      c->params->val[i]);
}

void lb_fhir_request_digest(const char *method, const char *path, const char *time_s,
			    const uint8_t *body, size_t len, uint8_t out[32])
{
	uint8_t bh[LB_HASH_LEN];
	char bhex[2 * LB_HASH_LEN + 1];
	lb_hash(bh, body ? body : (const uint8_t *)"", body ? len : 0);
	lb_hex_encode(bhex, bh, sizeof bh);
	size_t n = strlen(method) + strlen(path) + strlen(time_s) + sizeof bhex + 32;
	char *m = lb_malloc(n);
	if (!m) {
		memset(out, 0, 32);
		return;
	}
	int k = snprintf(m, n, "LEBEN-fhir-v1\n%s\n%s\n%s\n%s", method, path, time_s, bhex);
	lb_hash(out, m, (size_t)k);
	lb_free(m);
}

static void signed_digest(const struct api_call *c, const char *time_s, uint8_t out[32])
{
	char path[600];
	request_path(c, path, sizeof path);
	lb_fhir_request_digest(c->method, path, time_s, c->body, c->body_len, out);
}

static void identify(const struct api_call *c, struct lb_fhir_store *st, struct who *w)
{
	memset(w, 0, sizeof *w);
	w->status = 401;
	snprintf(w->why, sizeof w->why,
		 "who is asking? present your institution's client certificate or sign the request "
		 "with your key (X-Leben-Key, X-Leben-Time, X-Leben-Signature; docs/fhir.md)");
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t s = ci ? (gnutls_session_t)ci->tls_session : NULL;
	if (s) {
		unsigned int np = 0;
		const gnutls_datum_t *peer = gnutls_certificate_get_peers(s, &np);
		char mine[128], theirs[128];
		cert_org(gnutls_certificate_get_ours(s), mine, sizeof mine);
		cert_org(np ? peer : NULL, theirs, sizeof theirs);
		if (mine[0] && !strcmp(mine, theirs)) {
			w->kind = WHO_INSTITUTION;
			snprintf(w->name, sizeof w->name, "institution %s", theirs);
			return;
		}
		w->kind = WHO_OTHER;
		w->status = 403;
		snprintf(w->why, sizeof w->why,
			 "your certificate's institution (%.60s) does not own these records: other "
			 "institutions get results through exchange",
			 theirs[0] ? theirs : "none named");
	}
	const char *kh = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "X-Leben-Key");
	const char *th = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "X-Leben-Time");
	const char *sh = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND,
						     "X-Leben-Signature");
	if (!kh && !th && !sh)
		return;
	uint8_t pk[LB_PUBKEY_LEN], sig[LB_SIG_LEN], msg[32];
	w->kind = WHO_NOBODY;
	w->status = 401;
	if (!kh || !th || !sh || lb_hex_decode(pk, sizeof pk, kh) ||
	    lb_hex_decode(sig, sizeof sig, sh)) {
		snprintf(w->why, sizeof w->why,
			 "a signed request carries X-Leben-Key (64 hex digits), X-Leben-Time (Unix "
			 "seconds) and X-Leben-Signature (128 hex digits)");
		return;
	}
	long long t = atoll(th), now = (long long)time(NULL);
	if (t < now - SIG_WINDOW_S || t > now + SIG_WINDOW_S) {
		snprintf(w->why, sizeof w->why,
			 "X-Leben-Time %.20s is more than %d s from the node's clock: sign again now",
			 th, SIG_WINDOW_S);
		return;
	}
	signed_digest(c, th, msg);
	if (!lb_sig_is_valid(sig, msg, sizeof msg, pk)) {
		snprintf(w->why, sizeof w->why,
			 "the request signature does not verify for this key (it signs method, path, "
			 "time and body: docs/fhir.md)");
		return;
	}
	uint8_t node_pk[LB_PUBKEY_LEN];
	struct lb_errmsg em;
	char hex[2 * LB_PUBKEY_LEN + 1];
	lb_hex_encode(hex, pk, sizeof pk);
	/* the node's own key, or a member's (its staff and systems) */
	bool node = !lb_ledger_node_pk(c->ledger, node_pk, &em) && !memcmp(node_pk, pk, sizeof pk);
	if (node || lb_apps_is_member_key(NULL, c->home, hex)) {
		w->kind = WHO_INSTITUTION;
		snprintf(w->name, sizeof w->name, "%s key %.16s", node ? "node" : "member", hex);
		memcpy(w->key, hex, sizeof w->key);
		return;
	}
	if (!lb_fhir_patient_of_key(st, hex, w->patient, &em)) {
		w->kind = WHO_PATIENT;
		snprintf(w->name, sizeof w->name, "Patient/%s", w->patient);
		return;
	}
	w->kind = WHO_OTHER;
	w->status = 403;
	snprintf(w->why, sizeof w->why,
		 "key %.16s... belongs to no patient of this node and is not the node's: raw "
		 "records are read only by their owner institution and their patient",
		 hex);
}

/* Write an AuditEvent for a read by w of patient's records (best effort: a failure to record
 * is logged, the read still answered). */
static void audit_read(struct lb_fhir_store *st, const struct who *w, const char *patient,
		       const char *what)
{
	if (!patient || !*patient)
		return;
	uint8_t rnd[12];
	char id[25], now[32];
	randombytes_buf(rnd, sizeof rnd);
	lb_hex_encode(id, rnd, sizeof rnd);
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
	char ref[80];
	snprintf(ref, sizeof ref, "Patient/%s", patient);
	json_t *ev = json_pack(
		"{s:s,s:s,s:{s:s,s:s,s:s},s:s,s:s,s:s,s:[{s:{s:s},s:b}],s:{s:{s:s}},s:[{s:{s:s},s:s}]}",
		"resourceType", "AuditEvent", "id", id, "type", "system",
		"http://terminology.hl7.org/CodeSystem/audit-event-type", "code", "rest", "display",
		"RESTful Operation", "action", "R", "recorded", now, "outcome", "0", "agent", "who",
		"display", w->name, "requestor", 1, "source", "observer", "display", "LEBEN node",
		"entity", "what", "reference", ref, "description", what);
	struct lb_errmsg em;
	bool created;
	if (!ev || lb_fhir_put(st, ev, &created, &em))
		lb_log(LB_LOG_WARN, "fhir: could not record the AuditEvent of a read");
	json_decref(ev);
}

/* ---- helpers ---------------------------------------------------------------------------- */

static void base_url(const struct api_call *c, char *out, size_t cap)
{
	const char *host = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Host");
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	snprintf(out, cap, "%s://%.200s/fhir", ci && ci->tls_session ? "https" : "http",
		 host ? host : "localhost");
}

static int open_store(const struct api_call *c, struct lb_fhir_store **st, struct lb_errmsg *em)
{
	return lb_fhir_node_store_open(c->ledger, c->home, st, em);
}

static const char *const search_params[] = {"_id", "patient", "subject", "code", "date",
					    "_count", "_after", "_format"};

/* ---- metadata ---------------------------------------------------------------------------- */

/* One searchParam row of the CapabilityStatement. */
static void add_param(json_t *sp, const char *name, const char *type, const char *doc)
{
	json_array_append_new(sp, json_pack("{s:s,s:s,s:s}", "name", name, "type", type,
					    "documentation", doc));
}

/* Exactly what the endpoint does: per type read, search, create and update (versioned, update
 * may create), the search parameters the store indexes for that type (code only where the
 * type has a code element, patient/subject only where it has a patient compartment),
 * transaction at the system level and the Bulk Data export. */
static bool type_has_code(const char *t)
{
	static const char *const coded[] = {"Observation", "Condition", "Procedure",
					    "ServiceRequest", "Task"};
	for (size_t k = 0; k < sizeof coded / sizeof coded[0]; k++)
		if (!strcmp(t, coded[k]))
			return true;
	return false;
}

static json_t *capability(const char *base)
{
	json_t *res = json_array();
	for (size_t i = 0; i < lb_fhir_ntypes; i++) {
		const char *t = lb_fhir_types[i];
		json_t *sp = json_array();
		add_param(sp, "_id", "token", "the logical id");
		if (strcmp(t, "ResearchStudy")) {
			add_param(sp, "patient", "reference", "the patient compartment: id or Patient/id");
			add_param(sp, "subject", "reference", "the same as patient");
		}
		if (type_has_code(t))
			add_param(sp, "code", "token", "a coding of code: code or system|code");
		add_param(sp, "date", "date",
			  "the resource's clinical date, prefixes eq (default), ge, gt, le, lt");
		json_array_append_new(
			res, json_pack("{s:s,s:[{s:s},{s:s},{s:s},{s:s},{s:s},{s:s}],s:s,s:b,s:b,s:o}",
				       "type", t, "interaction", "code", "read", "code", "vread",
				       "code", "history-instance", "code", "search-type", "code",
				       "update", "code", "create", "versioning", "versioned",
				       "readHistory", 0, "updateCreate", 1, "searchParam", sp));
	}
	return json_pack(
		"{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s},s:s,s:[s],s:[{s:s,s:s,s:{s:[{s:[{s:s,s:s}]}],s:s},"
		"s:o,s:[{s:s}],s:[{s:s,s:s}]}]}",
		"resourceType", "CapabilityStatement", "status", "active", "date", "2026-12-06",
		"kind", "instance", "fhirVersion", "4.0.1", "implementation", "description",
		"LEBEN node", "url", base, "publisher", "LEBEN", "format", "json", "rest", "mode",
		"server", "documentation",
		"JSON only. Search results page with _count (1-1000, default 50); the next link carries "
		"the cursor _after. NDJSON "
		"import: POST $import, one resource a line (docs/fhir.md).",
		"security", "service", "coding", "system",
		"http://terminology.hl7.org/CodeSystem/restful-security-service", "code", "Certificates",
		"description",
		"Mutual TLS (a client certificate of the node's institution) or a request signed with "
		"a key: X-Leben-Key, X-Leben-Time, X-Leben-Signature (docs/fhir.md)",
		"resource", res, "interaction", "code", "transaction", "operation", "name", "export",
		"definition", "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export");
}

/* The UTC instant of a block (its header's time), "1970-01-01T00:00:00Z" if unknown. */
static void block_time(const json_t *blk, char when[40])
{
	json_int_t ms = json_integer_value(json_object_get(json_object_get(blk, "header"), "time_ms"));
	if (!ms)
		ms = json_integer_value(json_object_get(blk, "time_ms"));
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- consents on the business chain ------------------------------------------------------ */

#define ID_ASSET "urn:leben:asset"
#define ID_PATIENT "urn:leben:patient-commitment"
#define ID_TX "urn:leben:tx"
#define EXT_TX "urn:leben:consent-tx"

static const char *ident(const json_t *res, const char *system)
{
	const json_t *e;
	size_t i;
	json_array_foreach(json_object_get(res, "identifier"), i, e) {
		const char *sys = json_string_value(json_object_get(e, "system"));
		if (sys && !strcmp(sys, system))
			return json_string_value(json_object_get(e, "value"));
	}
	return NULL;
}

static void set_ident(json_t *res, const char *system, const char *value)
{
	json_t *ids = json_object_get(res, "identifier"), *e;
	size_t i;
	if (!json_is_array(ids)) {
		ids = json_array();
		json_object_set_new(res, "identifier", ids);
	}
	json_array_foreach(ids, i, e) {
		const char *sys = json_string_value(json_object_get(e, "system"));
		if (sys && !strcmp(sys, system)) {
			json_object_set_new(e, "value", json_string(value));
			return;
		}
	}
	json_array_append_new(ids, json_pack("{s:s,s:s}", "system", system, "value", value));
}

/* The chain's word for a consent as a FHIR Consent.status. */
static const char *consent_status(const char *chain_status)
{
	if (!chain_status)
		return NULL;
	if (!strcmp(chain_status, "given"))
		return "active";
	if (!strcmp(chain_status, "revoked"))
		return "inactive";
	if (!strcmp(chain_status, "registered"))
		return "proposed";
	return NULL;
}

/* A Consent naming an asset and a patient commitment shows the business chain's state: a
 * revocation on the chain makes it inactive whatever was stored. */
static void consent_from_chain(const struct api_call *c, json_t *res)
{
	const char *type = json_string_value(json_object_get(res, "resourceType"));
	const char *a = ident(res, ID_ASSET), *p = ident(res, ID_PATIENT);
	uint8_t asset[LB_HASH_LEN], patient[LB_HASH_LEN];
	if (!type || strcmp(type, "Consent") || !a || !p || lb_hex_decode(asset, sizeof asset, a) ||
	    lb_hex_decode(patient, sizeof patient, p))
		return;
	json_t *j = NULL;
	struct lb_errmsg em;
	if (lb_xchg_consent_json(c->ledger, asset, patient, &j, &em))
		return;
	const char *st = consent_status(json_string_value(json_object_get(j, "status")));
	if (st)
		json_object_set_new(res, "status", json_string(st));
	json_decref(j);
}

/* A Consent carrying a patient-signed xchg.consent tx (extension urn:leben:consent-tx,
 * valueBase64Binary): the tx must be a business-chain consent for the asset and commitment the
 * Consent names (filled in when absent), giving for status active and revoking for inactive.
 * Checked here; sent by consent_send. */
static int consent_tx_of(json_t *res, uint8_t **raw, size_t *len, char *expr, size_t cap,
			 char *msg, size_t mcap)
{
	json_t *ext, *e;
	size_t i;
	*raw = NULL;
	json_array_foreach((ext = json_object_get(res, "extension")), i, e) {
		const char *url = json_string_value(json_object_get(e, "url"));
		if (!url || strcmp(url, EXT_TX))
			continue;
		snprintf(expr, cap, "Consent.extension[%zu].valueBase64Binary", i);
		const char *b64 = json_string_value(json_object_get(e, "valueBase64Binary"));
		size_t n = b64 ? strlen(b64) : 0;
		uint8_t *buf = n ? lb_malloc(n) : NULL;
		struct lb_tx tx;
		struct lb_xchg_consent ct;
		struct lb_errmsg em;
		lb_errclear(&em);
		if (!buf || sodium_base642bin(buf, n, b64, n, NULL, len, NULL,
					      sodium_base64_VARIANT_ORIGINAL)) {
			lb_free(buf);
			snprintf(msg, mcap, "%s: the signed consent tx is base64 of the tx bytes", expr);
			return LB_EINVALID;
		}
		if (lb_tx_decode(&tx, buf, *len, &em) || tx.chain != LB_CHAIN_BUSINESS ||
		    tx.type != LB_TX_XCHG_CONSENT ||
		    lb_xchg_consent_decode(&ct, tx.payload, tx.payload_len, &em) ||
		    (ct.action != LB_XCHG_GIVE && ct.action != LB_XCHG_REVOKE_CONSENT)) {
			lb_free(buf);
			snprintf(msg, mcap, "%.20s: not a signed xchg.consent tx giving or revoking a "
				 "consent (leben exchange consent ... --print makes one)%s%.200s", "Consent.extension",
				 em.text[0] ? ": " : "", em.text);
			return LB_EINVALID;
		}
		char ah[2 * LB_HASH_LEN + 1], ph[2 * LB_HASH_LEN + 1], idh[2 * LB_HASH_LEN + 1];
		lb_hex_encode(ah, ct.asset, LB_HASH_LEN);
		lb_hex_encode(ph, ct.patient, LB_HASH_LEN);
		lb_hex_encode(idh, tx.id, LB_HASH_LEN);
		const char *a = ident(res, ID_ASSET), *p = ident(res, ID_PATIENT);
		const char *st = json_string_value(json_object_get(res, "status"));
		const char *want = ct.action == LB_XCHG_GIVE ? "active" : "inactive";
		if ((a && strcmp(a, ah)) || (p && strcmp(p, ph))) {
			lb_free(buf);
			snprintf(expr, cap, "Consent.identifier");
			snprintf(msg, mcap, "Consent.identifier: the asset and patient commitment are "
				 "not those the signed tx names (%.16s..., %.16s...)", ah, ph);
			return LB_EINVALID;
		}
		if (!st || strcmp(st, want)) {
			lb_free(buf);
			snprintf(expr, cap, "Consent.status");
			snprintf(msg, mcap, "Consent.status: the signed tx %s the consent, so the status "
				 "is %s", ct.action == LB_XCHG_GIVE ? "gives" : "revokes", want);
			return LB_EINVALID;
		}
		set_ident(res, ID_ASSET, ah);
		set_ident(res, ID_PATIENT, ph);
		set_ident(res, ID_TX, idh);
		*raw = buf;
		return LB_OK;
	}
	return LB_OK;
}

/* Send a checked consent tx to the business chain; refusal text into msg. */
static int consent_send(const struct api_call *c, const uint8_t *raw, size_t len, char *msg,
			size_t mcap)
{
	struct lb_submit_result r;
	struct lb_errmsg em;
	lb_errclear(&em);
	int rc = c->submit ? c->submit(c->api, raw, len, &r, &em)
			   : lb_errf(&em, LB_EUNAVAILABLE, "no chain to send the consent to");
	if (rc) {
		snprintf(msg, mcap, "the consent tx could not be sent: %.300s", em.text);
		return rc;
	}
	if (r.code) {
		snprintf(msg, mcap, "the business chain refused the consent tx: %.300s", r.message);
		return r.code;
	}
	return LB_OK;
}

/* The business chain's log of a patient's commitments (from their Consents) as AuditEvents
 * in the store (id "chain-" + the tx id's first 32 hex digits; written once). */
static void audit_from_chain(const struct api_call *c, struct lb_fhir_store *st,
			     const char *patient)
{
	struct lb_fhir_query q = {.type = "Consent", .patient = patient,
				  .count = LB_FHIR_MAX_COUNT};
	json_t *consents = NULL, *cs, *seen = json_object();
	size_t i, k;
	int64_t more;
	struct lb_errmsg em;
	if (!seen || lb_fhir_search(st, &q, &consents, &more, NULL, &em)) {
		json_decref(seen);
		return;
	}
	char ref[80];
	snprintf(ref, sizeof ref, "Patient/%s", patient);
	json_array_foreach(consents, i, cs) {
		const char *p = ident(cs, ID_PATIENT);
		uint8_t commit[LB_HASH_LEN];
		json_t *log = NULL, *ev;
		if (!p || json_object_get(seen, p) || lb_hex_decode(commit, sizeof commit, p) ||
		    lb_xchg_log_json(c->ledger, commit, &log, &em))
			continue;
		json_object_set_new(seen, p, json_true());
		json_array_foreach(json_object_get(log, "events"), k, ev) {
			const char *txid = json_string_value(json_object_get(ev, "tx"));
			const char *type = json_string_value(json_object_get(ev, "type"));
			char id[48];
			if (!txid || !type)
				continue;
			snprintf(id, sizeof id, "chain-%.32s", txid);
			if (lb_fhir_exists(st, "AuditEvent", id))
				continue;
			json_t *blk = NULL;
			char when[40] = "1970-01-01T00:00:00Z";
			if (!lb_ledger_block_json(c->ledger, LB_CHAIN_BUSINESS,
						  (uint64_t)json_integer_value(
							  json_object_get(ev, "height")),
						  &blk, &em)) {
				block_time(blk, when);
				json_decref(blk);
			}
			const char *by = json_string_value(json_object_get(ev, "by"));
			const char *what = json_string_value(json_object_get(ev, "what"));
			json_t *ae = json_pack(
				"{s:s,s:s,s:{s:s,s:s,s:s},s:s,s:s,s:s,s:[{s:{s:{s:s,s:s}},s:b}],"
				"s:{s:{s:s}},s:[{s:{s:s}},{s:{s:{s:s,s:s}}}]}",
				"resourceType", "AuditEvent", "id", id, "type", "system",
				"urn:leben:chain-event", "code", type, "display", what ? what : type,
				"action", !strcmp(type, "xchg.exec") ? "E" : "U", "recorded", when,
				"outcome", "0", "agent", "who", "identifier", "system",
				"urn:leben:account", "value", by ? by : "?", "requestor", 1, "source",
				"observer", "display", "LEBEN business chain", "entity", "what",
				"reference", ref, "what", "identifier", "system", ID_TX, "value", txid);
			bool created;
			if (ae)
				lb_fhir_put(st, ae, &created, &em);
			json_decref(ae);
		}
		json_decref(log);
	}
	json_decref(consents);
	json_decref(seen);
}

/* The directory chain's data.provenance events (an asset version re-extracted, changed,
 * audited, ...) as Provenance resources: the directory blocks not yet read are read once
 * (the height reached is kept in the store), each valid event written once (id "chain-" +
 * the tx id's first 32 hex digits): the asset as target (by identifier), the event's kind
 * as activity, its sender as agent, its digest as the source entity, its note as reason. */
/* Read the blocks of chain not read into the store yet (the height reached is kept under the
 * store's meta key), calling fn with each valid tx that has a payload and the block's time. */
static void chain_walk(const struct api_call *c, struct lb_fhir_store *st, int chain,
		       const char *meta,
		       void (*fn)(const struct api_call *c, struct lb_fhir_store *st,
				  const json_t *tx, const char *type, const json_t *p,
				  const char *when))
{
	struct lb_errmsg em;
	uint64_t top = lb_ledger_height(c->ledger, chain);
	uint64_t from = (uint64_t)lb_fhir_meta_get(st, meta);
	for (uint64_t b = from + 1; b <= top; b++) {
		json_t *blk = NULL, *tx;
		size_t i;
		if (lb_ledger_block_json(c->ledger, chain, b, &blk, &em))
			return;
		char when[40];
		block_time(blk, when);
		json_array_foreach(json_object_get(blk, "txs"), i, tx) {
			const char *type = json_string_value(json_object_get(tx, "type"));
			const json_t *p = json_object_get(tx, "payload");
			if (type && !json_is_false(json_object_get(tx, "valid")) && json_is_object(p))
				fn(c, st, tx, type, p, when);
		}
		json_decref(blk);
		if (lb_fhir_meta_put(st, meta, (int64_t)b, &em))
			return;
	}
}

static void provenance_of_tx(const struct api_call *c, struct lb_fhir_store *st,
			     const json_t *tx, const char *type, const json_t *p,
			     const char *when)
{
	struct lb_errmsg em;
	const char *txid = json_string_value(json_object_get(tx, "id"));
	if (strcmp(type, "data.provenance") || !txid)
		return;
	char id[48], ver[64];
	snprintf(id, sizeof id, "chain-%.32s", txid);
	if (lb_fhir_exists(st, "Provenance", id))
		return;
	const char *asset = json_string_value(json_object_get(p, "asset_id"));
	const char *kind = json_string_value(json_object_get(p, "kind"));
	const char *digest = json_string_value(json_object_get(p, "digest"));
	const char *note = json_string_value(json_object_get(p, "note"));
	const char *by = json_string_value(json_object_get(tx, "sender"));
	snprintf(ver, sizeof ver, "asset version %lld",
		 (long long)json_integer_value(json_object_get(p, "version")));
	json_t *pv = json_pack(
		"{s:s,s:s,s:[{s:s,s:s}],s:[{s:{s:s,s:s},s:s}],s:s,s:{s:[{s:s,s:s}]},"
		"s:[{s:{s:{s:s,s:s}}}],s:[{s:s,s:{s:{s:s,s:s}}}]}",
		"resourceType", "Provenance", "id", id, "extension", "url", ID_TX,
		"valueString", txid, "target", "identifier", "system", ID_ASSET, "value",
		asset ? asset : "?", "display", ver, "recorded", when, "activity",
		"coding", "system", "urn:leben:provenance-kind", "code",
		kind && *kind ? kind : "?", "agent", "who", "identifier", "system",
		"urn:leben:account", "value", by ? by : "?", "entity", "role", "source",
		"what", "identifier", "system", "urn:leben:digest", "value",
		digest ? digest : "?");
	if (pv && note && *note)
		json_object_set_new(pv, "reason", json_pack("[{s:s}]", "text", note));
	bool created;
	if (!pv || lb_fhir_put(st, pv, &created, &em))
		lb_log(LB_LOG_WARN, "fhir: directory provenance %s not recorded", txid);
	json_decref(pv);
}

static void provenance_from_chain(const struct api_call *c, struct lb_fhir_store *st)
{
	chain_walk(c, st, LB_CHAIN_DIRECTORY, "directory_height", provenance_of_tx);
}

/* The cohort application's studies and participants (business chain, cohort.protocol and
 * cohort.optin): the blocks not read yet are read once (the height reached is kept in the
 * store) and each new study becomes a ResearchStudy (id: the cohort id), each opt-in a
 * ResearchSubject (id: H(cohort || asset || commitment)); their content is made again from
 * the chain's current state whenever they are read (cohort_refresh). */
static void cohort_of_tx(const struct api_call *c, struct lb_fhir_store *st, const json_t *tx,
			 const char *type, const json_t *p, const char *when)
{
	struct lb_errmsg em;
	json_t *res = NULL;
	char hx[2 * LB_HASH_LEN + 1];
	if (!strcmp(type, "cohort.protocol")) {
		uint8_t sponsor[LB_ADDR_LEN], id[LB_HASH_LEN];
		const char *name = json_string_value(json_object_get(p, "name"));
		if (!name ||
		    lb_addr_decode(sponsor, json_string_value(json_object_get(tx, "sender")), NULL))
			return;
		lb_cohort_id(id, sponsor, name);
		lb_hex_encode(hx, id, LB_HASH_LEN);
		if (lb_fhir_exists(st, "ResearchStudy", hx))
			return;
		json_t *stj = json_pack("{s:s,s:s,s:O,s:O}", "cohort", hx, "status",
					"awaiting approval", "protocol", json_object_get(p, "protocol"),
					"sponsor", json_object_get(tx, "sender"));
		res = stj ? lb_cohort_fhir_study(stj) : NULL;
		json_decref(stj);
	} else if (!strcmp(type, "cohort.optin")) {
		const char *co = json_string_value(json_object_get(p, "cohort"));
		const char *as = json_string_value(json_object_get(p, "asset"));
		const char *pa = json_string_value(json_object_get(p, "patient"));
		uint8_t k[3 * LB_HASH_LEN], h[LB_HASH_LEN];
		if (!co || !as || !pa || lb_hex_decode(k, LB_HASH_LEN, co) ||
		    lb_hex_decode(k + LB_HASH_LEN, LB_HASH_LEN, as) ||
		    lb_hex_decode(k + 2 * LB_HASH_LEN, LB_HASH_LEN, pa))
			return;
		lb_hash(h, k, sizeof k);
		lb_hex_encode(hx, h, LB_HASH_LEN);
		if (lb_fhir_exists(st, "ResearchSubject", hx))
			return;
		json_t *rec = json_pack("{s:s}", "status", "in");
		res = lb_cohort_fhir_subject(hx, co, as, pa, rec);
		json_decref(rec);
	} else {
		return;
	}
	bool created;
	if (!res || lb_fhir_put(st, res, &created, &em))
		lb_log(LB_LOG_WARN, "fhir: cohort %s not recorded",
		       json_string_value(json_object_get(tx, "id")));
	json_decref(res);
}

static void cohort_from_chain(const struct api_call *c, struct lb_fhir_store *st)
{
	chain_walk(c, st, LB_CHAIN_BUSINESS, "business_height_cohort", cohort_of_tx);
}

/* A ResearchStudy or ResearchSubject of the cohort application, made again from the chain's
 * current state (approvals, rounds, withdrawals), keeping its id and meta. */
static void cohort_refresh(const struct api_call *c, json_t *res)
{
	const char *type = json_string_value(json_object_get(res, "resourceType"));
	const char *co = ident(res, "urn:leben:cohort");
	uint8_t id[LB_HASH_LEN], asset[LB_HASH_LEN], pat[LB_HASH_LEN];
	if (!type || !co || lb_hex_decode(id, sizeof id, co))
		return;
	json_t *j = NULL, *fresh = NULL;
	struct lb_errmsg em;
	if (!strcmp(type, "ResearchStudy")) {
		if (lb_cohort_json(c->ledger, id, &j, &em) == LB_OK)
			fresh = lb_cohort_fhir_study(j);
	} else if (!strcmp(type, "ResearchSubject")) {
		const char *as = ident(res, "urn:leben:asset");
		const char *pa = ident(res, "urn:leben:patient-commitment");
		if (as && pa && !lb_hex_decode(asset, sizeof asset, as) &&
		    !lb_hex_decode(pat, sizeof pat, pa) &&
		    lb_cohort_patient_json(c->ledger, id, asset, pat, &j, &em) == LB_OK)
			fresh = lb_cohort_fhir_subject(json_string_value(json_object_get(res, "id")), co,
						       as, pa, j);
	}
	json_decref(j);
	if (!fresh)
		return;
	json_object_set(fresh, "meta", json_object_get(res, "meta"));
	json_object_clear(res);
	json_object_update(res, fresh);
	json_decref(fresh);
}

/* ---- search ------------------------------------------------------------------------------- */

struct argscan {
	struct lb_fhir_query *q;
	char bad[200];
	char badexpr[64];
	size_t count;
	const char *patient_ref;
};

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			      const char *value)
{
	struct argscan *a = cls;
	if (a->bad[0])
		return MHD_NO;
	const char *v = value ? value : "";
	bool known = false;
	for (size_t i = 0; i < sizeof search_params / sizeof search_params[0]; i++)
		known |= !strcmp(key, search_params[i]);
	if (!known) {
		snprintf(a->bad, sizeof a->bad,
			 "search parameter \"%.40s\" is not supported (_id, patient, subject, code, "
			 "date, _count)", key);
		snprintf(a->badexpr, sizeof a->badexpr, "%.40s", key);
	} else if (!strcmp(key, "_id")) {
		a->q->id = v;
	} else if (!strcmp(key, "patient") || !strcmp(key, "subject")) {
		a->patient_ref = v;
		a->q->patient = !strncmp(v, "Patient/", 8) ? v + 8 : v;
	} else if (!strcmp(key, "code")) {
		a->q->code = v;
	} else if (!strcmp(key, "date")) {
		struct lb_errmsg em;
		if (a->q->ndates == LB_FHIR_MAX_DATES)
			snprintf(a->bad, sizeof a->bad, "at most %d date parameters",
				 LB_FHIR_MAX_DATES);
		else if (lb_fhir_date_cond_parse(v, &a->q->dates[a->q->ndates++], &em))
			snprintf(a->bad, sizeof a->bad, "%.190s", em.text);
		if (a->bad[0])
			snprintf(a->badexpr, sizeof a->badexpr, "date");
	} else if (!strcmp(key, "_count") || !strcmp(key, "_after")) {
		char *end;
		unsigned long long n = strtoull(v, &end, 10);
		if (!*v || *end || n > INT64_MAX ||
		    (!strcmp(key, "_count") && (n < 1 || n > LB_FHIR_MAX_COUNT))) {
			snprintf(a->bad, sizeof a->bad, "%s must be a whole number%s", key,
				 !strcmp(key, "_count") ? " from 1 to 1000" : "");
			snprintf(a->badexpr, sizeof a->badexpr, "%s", key);
		} else if (!strcmp(key, "_count")) {
			a->q->count = (size_t)n;
		} else {
			a->q->after = (int64_t)n;
		}
	} else if (!strcmp(key, "_format") && !strstr(v, "json")) {
		snprintf(a->bad, sizeof a->bad, "only JSON is served (_format=json)");
	}
	return a->bad[0] ? MHD_NO : MHD_YES;
}

static void page_link(json_t *links, const char *rel, const char *base, const char *type,
		      const struct lb_fhir_query *q, int64_t after)
{
	char url[1200];
	size_t n = (size_t)snprintf(url, sizeof url, "%s/%s?_count=%zu", base, type, q->count);
	if (after)
		n += (size_t)snprintf(url + n, sizeof url - n, "&_after=%lld", (long long)after);
	if (q->id && n < sizeof url)
		n += (size_t)snprintf(url + n, sizeof url - n, "&_id=%.64s", q->id);
	if (q->patient && n < sizeof url)
		n += (size_t)snprintf(url + n, sizeof url - n, "&patient=%.64s", q->patient);
	if (q->code && n < sizeof url) {
		char esc[400];
		size_t k = 0;
		for (const char *p = q->code; *p && k + 4 < sizeof esc; p++)
			k += (size_t)(isalnum((unsigned char)*p) || strchr("-._~", *p)
					      ? snprintf(esc + k, sizeof esc - k, "%c", *p)
					      : snprintf(esc + k, sizeof esc - k, "%%%02X",
							 (unsigned char)*p));
		esc[k] = 0;
		n += (size_t)snprintf(url + n, sizeof url - n, "&code=%s", esc);
	}
	for (size_t i = 0; i < q->ndates && n < sizeof url; i++)
		n += (size_t)snprintf(url + n, sizeof url - n, "&date=%s%s", q->dates[i].prefix,
				      q->dates[i].value);
	json_array_append_new(links, json_pack("{s:s,s:s}", "relation", rel, "url", url));
}

static int do_search(const struct api_call *c, struct lb_fhir_store *st, const struct who *w,
		     const char *type, json_t **out, unsigned *status)
{
	struct lb_fhir_query q = {.type = type, .count = 50};
	struct argscan a = {.q = &q};
	MHD_get_connection_values(c->conn, MHD_GET_ARGUMENT_KIND, on_arg, &a);
	if (a.bad[0])
		return outcome(c, out, status, 400, "invalid", a.bad, a.badexpr);
	if ((q.code && !type_has_code(type)) || (q.patient && !strcmp(type, "ResearchStudy"))) {
		snprintf(a.bad, sizeof a.bad, "%.40s is not searched by %s (GET /fhir/metadata lists "
			 "its parameters)", type, q.code ? "code" : "patient");
		return outcome(c, out, status, 400, "invalid", a.bad, q.code ? "code" : "patient");
	}
	if (w->kind == WHO_PATIENT) {
		if (q.patient && strcmp(q.patient, w->patient))
			return outcome(c, out, status, 403, "forbidden",
				       "a patient reads their own records only", "patient");
		if (!strcmp(type, "Patient")) {
			if (q.id && strcmp(q.id, w->patient))
				return outcome(c, out, status, 403, "forbidden",
					       "a patient reads their own records only", "_id");
			q.id = w->patient;
		} else {
			q.patient = w->patient;
		}
	}
	if (!strcmp(type, "AuditEvent") && q.patient)
		audit_from_chain(c, st, q.patient);
	if (!strcmp(type, "Provenance") && w->kind == WHO_INSTITUTION)
		provenance_from_chain(c, st);
	if ((!strcmp(type, "ResearchStudy") || !strcmp(type, "ResearchSubject")) &&
	    w->kind == WHO_INSTITUTION)
		cohort_from_chain(c, st);
	json_t *page;
	size_t total = 0;
	int64_t next;
	struct lb_errmsg em;
	lb_errclear(&em);
	/* the total on the first page only: counting costs the matches, a page its rows */
	int rc = lb_fhir_search(st, &q, &page, &next, q.after ? NULL : &total, &em);
	if (rc)
		return from_err(c, out, status, rc, &em, NULL);
	char base[300];
	base_url(c, base, sizeof base);
	json_t *links = json_array(), *entries = json_array(), *r;
	size_t i;
	page_link(links, "self", base, type, &q, q.after);
	if (next)
		page_link(links, "next", base, type, &q, next);
	json_array_foreach(page, i, r) {
		consent_from_chain(c, r);
		cohort_refresh(c, r);
		char full[500];
		snprintf(full, sizeof full, "%s/%s/%s", base, type,
			 json_string_value(json_object_get(r, "id")));
		json_array_append_new(entries, json_pack("{s:s,s:O,s:{s:s}}", "fullUrl", full,
							 "resource", r, "search", "mode", "match"));
	}
	json_decref(page);
	*out = json_pack("{s:s,s:s,s:o,s:o}", "resourceType", "Bundle", "type", "searchset",
			 "link", links, "entry", entries);
	if (*out && !q.after)
		json_object_set_new(*out, "total", json_integer((json_int_t)total));
	c->reply->content_type = "application/fhir+json";
	if ((w->kind == WHO_PATIENT || q.patient) && strcmp(type, "AuditEvent")) {
		char what[120];
		snprintf(what, sizeof what, "search %.40s (%zu on the page)", type,
			 json_array_size(entries));
		audit_read(st, w, w->kind == WHO_PATIENT ? w->patient : q.patient, what);
	}
	return *out ? LB_OK : LB_ENOMEM;
}

static int do_read(const struct api_call *c, struct lb_fhir_store *st, const struct who *w,
		   const char *type, const char *id, json_t **out, unsigned *status)
{
	struct lb_errmsg em;
	lb_errclear(&em);
	if (!lb_fhir_id_ok(id))
		return outcome(c, out, status, 400, "invalid",
			       "an id is 1-64 letters, digits, '-' or '.'", "id");
	json_t *res;
	int64_t gone_ms = 0;
	if (w->kind == WHO_INSTITUTION && lb_fhir_purged(st, type, id, &gone_ms)) {
		char msg[400], when[40];
		time_t t = (time_t)(gone_ms / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(msg, sizeof msg, "%.40s/%.64s was purged from this node on %s (verifiable "
			 "purge: its key was erased and its record deleted)", type, id, when);
		return outcome(c, out, status, 410, "deleted", msg, NULL);
	}
	if ((!strcmp(type, "ResearchStudy") || !strcmp(type, "ResearchSubject")) &&
	    w->kind == WHO_INSTITUTION)
		cohort_from_chain(c, st);
	int rc = lb_fhir_get(st, type, id, &res, &em);
	/* Claim, ClaimResponse and Coverage of the insurance application live on the chain
	 * (docs/apps.md, "5. Data-driven insurance"): the institution's members read them */
	if (rc == LB_ENOTFOUND && w->kind == WHO_INSTITUTION &&
	    !lb_ins_fhir_read(c->ledger, type, id, &res, NULL))
		rc = LB_OK;
	size_t plen = 0;
	const char *p = NULL;
	char pid[65] = "";
	if (!rc && (p = lb_fhir_patient_of(res, &plen)) != NULL)
		snprintf(pid, sizeof pid, "%.*s", (int)plen, p);
	/* A patient learns nothing about others' records, not even whether they exist. */
	if (w->kind == WHO_PATIENT && (rc == LB_ENOTFOUND || strcmp(pid, w->patient))) {
		json_decref(rc ? NULL : res);
		return outcome(c, out, status, 403, "forbidden",
			       "a patient reads their own records only", NULL);
	}
	if (rc)
		return from_err(c, out, status, rc, &em, NULL);
	consent_from_chain(c, res);
	cohort_refresh(c, res);
	char what[120];
	snprintf(what, sizeof what, "read %.40s/%.64s", type, id);
	if (strcmp(type, "AuditEvent"))
		audit_read(st, w, pid, what);
	*out = res;
	c->reply->content_type = "application/fhir+json";
	return LB_OK;
}


/* GET /fhir/<Type>/<id>/_history (vid NULL) and /_history/<vid>: the store keeps the current
 * version only, so the history is that version; a purged id is 410 as on read. */
static int do_history(const struct api_call *c, struct lb_fhir_store *st, const struct who *w,
		      const char *type, const char *id, const char *vid, json_t **out,
		      unsigned *status)
{
	int rc = do_read(c, st, w, type, id, out, status);
	if (rc || *status != 200)
		return rc;
	const char *v = json_string_value(json_object_get(json_object_get(*out, "meta"),
							  "versionId"));
	if (vid) {
		if (v && !strcmp(v, vid))
			return LB_OK;
		json_decref(*out);
		*out = NULL;
		return outcome(c, out, status, 404, "not-found",
			       "this node keeps the current version of a resource only", NULL);
	}
	char url[200];
	snprintf(url, sizeof url, "%.40s/%.64s", type, id);
	json_t *b = json_pack("{s:s,s:s,s:i,s:[{s:o,s:{s:s,s:s}}]}", "resourceType", "Bundle",
			      "type", "history", "total", 1, "entry", "resource", *out, "request",
			      "method", "PUT", "url", url);
	*out = b;
	return b ? LB_OK : LB_ENOMEM;
}

/* ---- writes ------------------------------------------------------------------------------ */

static void new_id(char id[33])
{
	uint8_t rnd[16];
	randombytes_buf(rnd, sizeof rnd);
	lb_hex_encode(id, rnd, sizeof rnd);
}

/* Replace urn:uuid: references by what they map to (map: fullUrl -> "Type/id"). */
static void rewrite_refs(json_t *x, const json_t *map)
{
	if (json_is_array(x)) {
		size_t i;
		json_t *e;
		json_array_foreach(x, i, e)
			rewrite_refs(e, map);
		return;
	}
	if (!json_is_object(x))
		return;
	const char *k;
	json_t *e;
	json_object_foreach(x, k, e) {
		if (!strcmp(k, "reference") && json_is_string(e)) {
			const json_t *to = json_object_get(map, json_string_value(e));
			if (to)
				json_string_set(e, json_string_value(to));
		} else {
			rewrite_refs(e, map);
		}
	}
}

/* The first reference "Type/id" in x that is neither stored nor in the bundle (news). */
static bool dangling_ref(struct lb_fhir_store *st, const json_t *x, const json_t *news,
			 char *path, size_t cap, char *ref, size_t rcap, int depth)
{
	if (depth > 40)
		return false;
	size_t n = strlen(path);
	if (json_is_array(x)) {
		size_t i;
		const json_t *e;
		json_array_foreach(x, i, e) {
			snprintf(path + n, cap - n, "[%zu]", i);
			if (dangling_ref(st, e, news, path, cap, ref, rcap, depth + 1))
				return true;
			path[n] = 0;
		}
		return false;
	}
	if (!json_is_object(x))
		return false;
	const char *k;
	const json_t *e;
	json_object_foreach((json_t *)x, k, e) {
		snprintf(path + n, cap - n, ".%s", k);
		const char *r = json_string_value(e);
		if (!strcmp(k, "reference") && r && r[0] != '#' && strncmp(r, "urn:", 4) &&
		    !json_object_get(news, r)) {
			char type[40];
			const char *slash = strchr(r, '/');
			size_t tl = slash ? (size_t)(slash - r) : 0;
			if (slash && tl < sizeof type) {
				memcpy(type, r, tl);
				type[tl] = 0;
				if (!lb_fhir_exists(st, type, slash + 1)) {
					snprintf(ref, rcap, "%s", r);
					return true;
				}
			}
		} else if (dangling_ref(st, e, news, path, cap, ref, rcap, depth + 1)) {
			return true;
		}
		path[n] = 0;
	}
	return false;
}

/* The Provenance of one write (a transaction, an update): what was written, by whom, when. */
static int write_provenance(struct lb_fhir_store *st, const struct who *w, json_t *targets,
			    bool created, struct lb_errmsg *em)
{
	char id[33], now[32];
	new_id(id);
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *pv = json_pack(
		"{s:s,s:s,s:O,s:s,s:{s:[{s:s,s:s}]},s:[{s:{s:s}}]}", "resourceType", "Provenance",
		"id", id, "target", targets, "recorded", now, "activity", "coding", "system",
		"http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code",
		created ? "CREATE" : "UPDATE", "agent", "who", "display", w->name);
	bool c;
	int rc = pv ? lb_fhir_put(st, pv, &c, em) : lb_errf(em, LB_ENOMEM, "out of memory");
	json_decref(pv);
	return rc;
}

/* Tell the applications what was just committed (include/leben/apps_fhir.h). */
static void fhir_written(const struct api_call *c, const struct who *who, const char *op,
			 const json_t *resources)
{
	if (!json_array_size(resources))
		return;
	lb_fhir_node_changed();
	struct lb_apps_fhir_write w = {.ledger = c->ledger, .home = c->home, .writer = who->name,
				       .writer_key = who->key[0] ? who->key : NULL,
				       .operation = op, .submit = c->submit, .api = c->api};
	lb_apps_fhir_written(&w, resources);
}

static int do_transaction(const struct api_call *c, struct lb_fhir_store *st,
			  const struct who *w, json_t *b, const char *op, json_t **out,
			  unsigned *status)
{
	const char *bt = json_string_value(json_object_get(b, "type"));
	if (!bt || (strcmp(bt, "transaction") && strcmp(bt, "batch")))
		return outcome(c, out, status, 400, "invalid",
			       "POST /fhir takes a Bundle of type transaction", "Bundle.type");
	json_t *entries = json_object_get(b, "entry"), *e;
	if (!json_is_array(entries))
		return outcome(c, out, status, 400, "invalid", "a transaction Bundle has entries",
			       "Bundle.entry");
	json_t *map = json_object(), *news = json_object(), *resp = json_array();
	char msg[600], expr[300];
	int rc = LB_OK;
	size_t i;
	/* 1: every entry's type, id, method; fullUrl -> Type/id */
	json_array_foreach(entries, i, e) {
		json_t *res = json_object_get(e, "resource"), *req = json_object_get(e, "request");
		const char *m = json_string_value(json_object_get(req, "method"));
		const char *url = json_string_value(json_object_get(req, "url"));
		const char *type = json_string_value(json_object_get(res, "resourceType"));
		snprintf(expr, sizeof expr, "Bundle.entry[%zu]", i);
		if (!json_is_object(res) || !m || !url || (strcmp(m, "POST") && strcmp(m, "PUT"))) {
			snprintf(msg, sizeof msg, "%s: each entry has a resource and a request with method "
				 "POST or PUT and a url", expr);
			rc = outcome(c, out, status, 400, "invalid", msg, expr);
			goto done;
		}
		if (!type || !lb_fhir_type_known(type)) {
			snprintf(msg, sizeof msg, "%s.resource.resourceType: \"%.40s\" is not served by "
				 "this node", expr, type ? type : "");
			rc = outcome(c, out, status, 422, "not-supported", msg, "resourceType");
			goto done;
		}
		char id[80] = "";
		if (!strcmp(m, "PUT")) {
			size_t tl = strlen(type);
			if (strncmp(url, type, tl) || url[tl] != '/' || !lb_fhir_id_ok(url + tl + 1)) {
				snprintf(msg, sizeof msg, "%s.request.url: a PUT names %s/<id>", expr, type);
				rc = outcome(c, out, status, 400, "invalid", msg, expr);
				goto done;
			}
			snprintf(id, sizeof id, "%s", url + tl + 1);
			const char *rid = json_string_value(json_object_get(res, "id"));
			if (rid && strcmp(rid, id)) {
				snprintf(msg, sizeof msg, "%s: resource id %.64s is not the id in the url "
					 "(%.64s)", expr, rid, id);
				rc = outcome(c, out, status, 400, "invalid", msg, "id");
				goto done;
			}
		} else {
			new_id(id);
		}
		json_object_set_new(res, "id", json_string(id));
		char ref[150];
		snprintf(ref, sizeof ref, "%s/%s", type, id);
		const char *full = json_string_value(json_object_get(e, "fullUrl"));
		if (full)
			json_object_set_new(map, full, json_string(ref));
		if (json_object_get(news, ref)) {
			snprintf(msg, sizeof msg, "%s: %s is written twice in this transaction", expr, ref);
			rc = outcome(c, out, status, 409, "conflict", msg, expr);
			goto done;
		}
		json_object_set_new(news, ref, json_true());
	}
	/* 2: references rewritten, each resource validated, no dangling reference */
	json_array_foreach(entries, i, e) {
		json_t *res = json_object_get(e, "resource");
		rewrite_refs(res, map);
		struct lb_errmsg em;
		lb_errclear(&em);
		int vr = lb_fhir_validate(res, expr, sizeof expr, &em);
		if (vr) {
			snprintf(msg, sizeof msg, "Bundle.entry[%zu].resource: %s", i, em.text);
			rc = outcome(c, out, status, 422, issue_code(vr), msg, expr);
			goto done;
		}
		char path[400], ref[200];
		snprintf(path, sizeof path, "%s", json_string_value(json_object_get(res, "resourceType")));
		if (dangling_ref(st, res, news, path, sizeof path, ref, sizeof ref, 0)) {
			snprintf(msg, sizeof msg, "Bundle.entry[%zu].resource: %.300s: reference %.100s is "
				 "neither on this node nor in the transaction", i, path, ref);
			rc = outcome(c, out, status, 422, "invalid", msg, path);
			goto done;
		}
	}
	/* 3: signed consents go to the business chain first: a refusal stores nothing */
	json_array_foreach(entries, i, e) {
		json_t *res = json_object_get(e, "resource");
		uint8_t *raw;
		size_t rlen;
		if (strcmp(json_string_value(json_object_get(res, "resourceType")), "Consent"))
			continue;
		int cr = consent_tx_of(res, &raw, &rlen, expr, sizeof expr, msg, sizeof msg);
		if (!cr && raw)
			cr = consent_send(c, raw, rlen, msg, sizeof msg);
		lb_free(raw);
		if (cr) {
			rc = outcome(c, out, status,
				     cr == LB_EUNAUTH || cr == LB_EDENIED ? 403 : http_of(cr),
				     issue_code(cr), msg, expr);
			goto done;
		}
	}
	/* 4: all or nothing */
	struct lb_errmsg em;
	lb_errclear(&em);
	int wr = lb_fhir_begin(st, &em);
	json_t *targets = json_array();
	bool any_created = false;
	json_array_foreach(entries, i, e) {
		if (wr)
			break;
		json_t *res = json_object_get(e, "resource");
		bool created = false;
		wr = lb_fhir_put(st, res, &created, &em);
		any_created |= created;
		if (!wr) {
			char loc[200];
			const json_t *meta = json_object_get(res, "meta");
			snprintf(loc, sizeof loc, "%s/%s/_history/%s",
				 json_string_value(json_object_get(res, "resourceType")),
				 json_string_value(json_object_get(res, "id")),
				 json_string_value(json_object_get(meta, "versionId")));
			char ref[160];
			snprintf(ref, sizeof ref, "%s/%s",
				 json_string_value(json_object_get(res, "resourceType")),
				 json_string_value(json_object_get(res, "id")));
			json_array_append_new(targets, json_pack("{s:s}", "reference", ref));
			char etag[40];
			snprintf(etag, sizeof etag, "W/\"%s\"",
				 json_string_value(json_object_get(meta, "versionId")));
			json_array_append_new(
				resp, json_pack("{s:{s:s,s:s,s:s,s:O}}", "response", "status",
						created ? "201 Created" : "200 OK", "location", loc,
						"etag", etag, "lastModified",
						json_object_get(meta, "lastUpdated")));
		}
	}
	if (!wr && json_array_size(targets))
		wr = write_provenance(st, w, targets, any_created, &em);
	json_decref(targets);
	if (!wr)
		wr = lb_fhir_commit(st, &em);
	if (wr) {
		lb_fhir_rollback(st);
		rc = from_err(c, out, status, wr, &em, NULL);
		goto done;
	}
	json_t *written = json_array();
	json_array_foreach(entries, i, e)
		json_array_append(written, json_object_get(e, "resource"));
	fhir_written(c, w, op, written);
	json_decref(written);
	*out = json_pack("{s:s,s:s,s:O}", "resourceType", "Bundle", "type",
			 !strcmp(bt, "batch") ? "batch-response" : "transaction-response", "entry",
			 resp);
	c->reply->content_type = "application/fhir+json";
	rc = *out ? LB_OK : LB_ENOMEM;
done:
	json_decref(map);
	json_decref(news);
	json_decref(resp);
	return rc;
}

/* PUT /fhir/<Type>/<id> (id given) and POST /fhir/<Type> (id NULL): a transaction of one
 * entry. */
static int do_update(const struct api_call *c, struct lb_fhir_store *st, const struct who *w,
		     json_t *res, const char *type, const char *id, json_t **out, unsigned *status)
{
	char url[200];
	snprintf(url, sizeof url, "%s%s%s", type, id ? "/" : "", id ? id : "");
	json_t *b = json_pack("{s:s,s:s,s:[{s:O,s:{s:s,s:s}}]}", "resourceType", "Bundle", "type",
			      "transaction", "entry", "resource", res, "request", "method",
			      id ? "PUT" : "POST", "url", url);
	if (!b)
		return LB_ENOMEM;
	int rc = do_transaction(c, st, w, b, "update", out, status);
	if (!rc && *status == 200) {
		json_t *r = json_object_get(json_array_get(json_object_get(*out, "entry"), 0),
					    "response");
		const char *s = json_string_value(json_object_get(r, "status"));
		*status = s && !strncmp(s, "201", 3) ? 201 : 200;
		snprintf(c->reply->location, sizeof c->reply->location, "%s",
			 json_string_value(json_object_get(r, "location")));
		json_decref(*out);
		*out = json_incref(json_array_get(json_object_get(b, "entry"), 0));
		json_t *stored = json_incref(json_object_get(*out, "resource"));
		json_decref(*out);
		*out = stored;
	}
	json_decref(b);
	return rc;
}

/* POST /fhir/$import: NDJSON, one resource a line; valid lines are stored (committed every
 * IMPORT_COMMIT_EVERY), refused lines reported by number and element. Answers a Parameters
 * resource: imported, refused, and up to 20 errors. */
static int do_import(const struct api_call *c, struct lb_fhir_store *st, const struct who *w,
		     json_t **out, unsigned *status)
{
	json_t *written = json_array(); /* the chunk not committed yet, for the hook */
	const char *p = (const char *)c->body, *end = p ? p + c->body_len : NULL;
	size_t line = 0, imported = 0, refused = 0, pending = 0;
	json_t *params = json_array();
	struct lb_errmsg em;
	lb_errclear(&em);
	const char *firstline = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "line");
	size_t base = firstline ? (size_t)strtoull(firstline, NULL, 10) : 1;
	if (base)
		base--;
	int rc = lb_fhir_begin(st, &em);
	while (!rc && p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		line++;
		const char *l = p;
		p = nl ? nl + 1 : end;
		while (n && (l[n - 1] == '\r' || l[n - 1] == ' '))
			n--;
		if (!n)
			continue;
		json_error_t je;
		json_t *res = json_loadb(l, n, JSON_REJECT_DUPLICATES, &je);
		char expr[300] = "", msg[600] = "";
		if (!res) {
			snprintf(msg, sizeof msg, "line %zu, column %d: invalid JSON: %s", base + line,
				 je.column, je.text);
		} else {
			if (!json_object_get(res, "id") && json_is_object(res)) {
				char id[33];
				new_id(id);
				json_object_set_new(res, "id", json_string(id));
			}
			struct lb_errmsg vm;
			lb_errclear(&vm);
			bool created;
			if (lb_fhir_validate(res, expr, sizeof expr, &vm))
				snprintf(msg, sizeof msg, "line %zu: %s", base + line, vm.text);
			else if ((rc = lb_fhir_put(st, res, &created, &em)) == LB_OK) {
				imported++, pending++;
				json_array_append(written, res);
			} else if (rc == LB_EDENIED) { /* a purged id: this line only */
				snprintf(msg, sizeof msg, "line %zu: %s", base + line, em.text);
				rc = LB_OK;
				lb_errclear(&em);
			}
		}
		json_decref(res);
		if (msg[0]) {
			refused++;
			if (refused <= 20)
				json_array_append_new(params, json_pack("{s:s,s:s}", "name", "error",
									"valueString", msg));
		}
		if (!rc && pending >= IMPORT_COMMIT_EVERY) {
			rc = lb_fhir_commit(st, &em);
			if (!rc) {
				fhir_written(c, w, "import", written);
				json_array_clear(written);
				rc = lb_fhir_begin(st, &em);
			}
			pending = 0;
		}
	}
	if (!rc)
		rc = lb_fhir_commit(st, &em);
	if (!rc)
		fhir_written(c, w, "import", written);
	json_decref(written);
	if (rc) {
		lb_fhir_rollback(st);
		json_decref(params);
		return from_err(c, out, status, rc, &em, NULL);
	}
	json_array_insert_new(params, 0, json_pack("{s:s,s:I}", "name", "refused", "valueInteger",
						   (json_int_t)refused));
	json_array_insert_new(params, 0, json_pack("{s:s,s:I}", "name", "imported",
						   "valueInteger", (json_int_t)imported));
	*out = json_pack("{s:s,s:o}", "resourceType", "Parameters", "parameter", params);
	c->reply->content_type = "application/fhir+json";
	return *out ? LB_OK : LB_ENOMEM;
}

/* ---- Bulk Data export ----------------------------------------------------------------- */

/* An NDJSON reply streamed from the store as the client reads it: one row in memory at a
 * time, whatever the export's size. It has its own store handle (the request's is closed when
 * the handler returns). */
struct nd_stream {
	struct lb_fhir_store *st;
	struct lb_fhir_cursor *cur;
	char *line;          /* the current row and its newline */
	size_t len, off;
	bool done;
};

static void nd_free(void *cls)
{
	struct nd_stream *n = cls;
	lb_fhir_cursor_close(n->cur);
	lb_fhir_store_close(n->st);
	free(n->line);
	lb_free(n);
}

static ssize_t nd_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct nd_stream *n = cls;
	size_t w = 0;
	while (w < max) {
		if (n->off == n->len) {
			free(n->line);
			n->line = NULL;
			n->len = n->off = 0;
			if (n->done)
				break;
			struct lb_errmsg em;
			lb_errclear(&em);
			size_t l;
			int rc = lb_fhir_cursor_next(n->cur, &n->line, &l, &em);
			if (rc == LB_ENOTFOUND) {
				n->done = true;
				break;
			}
			if (rc) {
				lb_log(LB_LOG_WARN, "fhir: export stopped: %s", em.text);
				return MHD_CONTENT_READER_END_WITH_ERROR;
			}
			n->line[l] = '\n'; /* over the text's NUL: the row and its newline */
			n->len = l + 1;
		}
		size_t k = n->len - n->off < max - w ? n->len - n->off : max - w;
		memcpy(buf + w, n->line + n->off, k);
		n->off += k;
		w += k;
	}
	return w ? (ssize_t)w : MHD_CONTENT_READER_END_OF_STREAM;
}

static int send_ndjson(const struct api_call *c, const char *type, json_t **out,
		       unsigned *status)
{
	struct lb_errmsg em;
	lb_errclear(&em);
	struct nd_stream *n = lb_calloc(1, sizeof *n);
	if (!n)
		return LB_ENOMEM;
	int rc = open_store(c, &n->st, &em);
	if (!rc)
		rc = lb_fhir_cursor_open(n->st, type, NULL, &n->cur, &em);
	if (rc) {
		lb_fhir_store_close(n->st);
		lb_free(n);
		return from_err(c, out, status, rc, &em, NULL);
	}
	c->reply->stream = nd_read;
	c->reply->stream_cls = n;
	c->reply->stream_free = nd_free;
	c->reply->content_type = "application/fhir+ndjson";
	return LB_OK;
}

static bool job_ok(const char *s)
{
	size_t n = strlen(s);
	if (n != 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

static int do_export(const struct api_call *c, struct lb_fhir_store *st, json_t **out,
		     unsigned *status)
{
	const char *prefer = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Prefer");
	const char *types = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "_type");
	if (types) {
		char one[64];
		for (const char *t = types; *t;) {
			size_t n = strcspn(t, ",");
			snprintf(one, sizeof one, "%.*s", (int)(n < 63 ? n : 63), t);
			if (!lb_fhir_type_known(one)) {
				char msg[160];
				snprintf(msg, sizeof msg, "_type: %.60s is not served by this node", one);
				return outcome(c, out, status, 400, "invalid", msg, "_type");
			}
			t += n + (t[n] == ',');
		}
	}
	if (!prefer || !strstr(prefer, "respond-async")) {
		if (types && strchr(types, ','))
			return outcome(c, out, status, 400, "invalid",
				       "a synchronous export takes one _type (or none for all); ask "
				       "with Prefer: respond-async for several files", "_type");
		return send_ndjson(c, types, out, status);
	}
	char job[33], path[4300], base[300];
	new_id(job);
	snprintf(path, sizeof path, "%s/fhir/export-%s.json", c->home, job);
	json_t *j = json_pack("{s:s,s:I}", "types", types ? types : "", "time",
			      (json_int_t)time(NULL));
	if (!j || json_dump_file(j, path, JSON_COMPACT)) {
		json_decref(j);
		return outcome(c, out, status, 500, "exception", "could not record the export job",
			       NULL);
	}
	json_decref(j);
	base_url(c, base, sizeof base);
	snprintf(c->reply->location, sizeof c->reply->location, "%.200s/$export-status/%s", base, job);
	*status = 202;
	return outcome(c, out, status, 202, "informational", "export accepted", NULL) ||
	       (*status = 202, json_object_set_new(json_array_get(json_object_get(*out, "issue"), 0),
						   "severity", json_string("information")));
}

static int do_export_status(const struct api_call *c, struct lb_fhir_store *st,
			    const char *job, json_t **out, unsigned *status)
{
	char path[4300], base[300];
	if (!job_ok(job))
		return outcome(c, out, status, 404, "not-found", "no such export job", NULL);
	snprintf(path, sizeof path, "%s/fhir/export-%s.json", c->home, job);
	json_t *j = json_load_file(path, 0, NULL);
	if (!j)
		return outcome(c, out, status, 404, "not-found", "no such export job", NULL);
	const char *types = json_string_value(json_object_get(j, "types"));
	json_int_t t = json_integer_value(json_object_get(j, "time"));
	base_url(c, base, sizeof base);
	json_t *counts = lb_fhir_store_counts(st), *output = json_array();
	for (size_t i = 0; i < lb_fhir_ntypes; i++) {
		const char *ty = lb_fhir_types[i];
		json_int_t n = json_integer_value(json_object_get(counts, ty));
		if (!n)
			continue;
		if (types && *types) {
			char pat[80], hay[1200];
			snprintf(pat, sizeof pat, ",%s,", ty);
			snprintf(hay, sizeof hay, ",%s,", types);
			if (!strstr(hay, pat))
				continue;
		}
		char url[500];
		snprintf(url, sizeof url, "%s/$export-file/%s/%s", base, job, ty);
		json_array_append_new(output, json_pack("{s:s,s:s,s:I}", "type", ty, "url", url,
							"count", n));
	}
	json_decref(counts);
	char when[40], req[400];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(req, sizeof req, "%s/$export%s%s", base, types && *types ? "?_type=" : "",
		 types ? types : "");
	json_decref(j);
	*out = json_pack("{s:s,s:s,s:b,s:o,s:[]}", "transactionTime", when, "request", req,
			 "requiresAccessToken", 0, "output", output, "error");
	return *out ? LB_OK : LB_ENOMEM;
}

/* ---- the entry point ------------------------------------------------------------------- */

int api_fhir(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	struct lb_fhir_store *st;
	int rc = open_store(c, &st, em);
	if (rc)
		return from_err(c, out, status, rc, em, NULL);
	struct who w;
	identify(c, st, &w);
	char a[80] = "", b[80] = "", cc[80] = "";
	api_param_copy(c->params, 0, a, sizeof a);
	api_param_copy(c->params, 1, b, sizeof b);
	api_param_copy(c->params, 2, cc, sizeof cc);
	size_t np = c->params->n;
	bool get = !strcmp(c->method, "GET");
	if (np == 1 && get && !strcmp(a, "metadata")) {
		char base[300];
		base_url(c, base, sizeof base);
		*out = capability(base);
		c->reply->content_type = "application/fhir+json";
		rc = *out ? LB_OK : LB_ENOMEM;
		goto done;
	}
	if (w.kind != WHO_INSTITUTION && w.kind != WHO_PATIENT) {
		rc = outcome(c, out, status, w.status, w.status == 401 ? "login" : "forbidden", w.why,
			     NULL);
		goto done;
	}
	bool inst = w.kind == WHO_INSTITUTION;
	json_t *body = NULL;
	if (!get) {
		if (!inst) {
			rc = outcome(c, out, status, 403, "forbidden",
				     "records are written by their owner institution only", NULL);
			goto done;
		}
		if (!(np == 1 && !strcmp(a, "$import"))) {
			json_error_t je;
			body = c->body ? json_loadb((const char *)c->body, c->body_len,
						    JSON_REJECT_DUPLICATES, &je)
				       : NULL;
			if (!json_is_object(body)) {
				char msg[300];
				snprintf(msg, sizeof msg, "the body is not a JSON object%s%s%s",
					 body ? "" : ": ", body ? "" : je.text,
					 body ? "" : " (line and column in the text)");
				json_decref(body);
				rc = outcome(c, out, status, 400, "structure", msg, NULL);
				goto done;
			}
		}
	}
	if (!get && np == 0) {
		rc = do_transaction(c, st, &w, body, "transaction", out, status);
	} else if (!get && np == 1 && !strcmp(a, "$import")) {
		rc = do_import(c, st, &w, out, status);
	} else if (!strcmp(c->method, "PUT") && np == 2) {
		if (!lb_fhir_type_known(a))
			rc = outcome(c, out, status, 404, "not-supported",
				     "this resource type is not served (GET /fhir/metadata)", NULL);
		else
			rc = do_update(c, st, &w, body, a, b, out, status);
	} else if (!get && np == 1 && lb_fhir_type_known(a)) {
		const char *rt = json_string_value(json_object_get(body, "resourceType"));
		if (!rt || strcmp(rt, a))
			rc = outcome(c, out, status, 400, "invalid",
				     "the body's resourceType is not the type in the URL",
				     "resourceType");
		else
			rc = do_update(c, st, &w, body, a, NULL, out, status);
	} else if (!get) {
		rc = outcome(c, out, status, 405, "not-supported",
			     "POST /fhir takes a transaction Bundle, POST /fhir/$import NDJSON; "
			     "update with PUT /fhir/<Type>/<id>", NULL);
	} else if ((np == 1 && !strcmp(a, "$export")) ||
		   (np == 2 && !strcmp(a, "Patient") && !strcmp(b, "$export"))) {
		rc = inst ? do_export(c, st, out, status)
			  : outcome(c, out, status, 403, "forbidden",
				    "bulk export is for the owner institution", NULL);
	} else if (np == 2 && !strcmp(a, "$export-status")) {
		rc = inst ? do_export_status(c, st, b, out, status)
			  : outcome(c, out, status, 403, "forbidden",
				    "bulk export is for the owner institution", NULL);
	} else if (np == 3 && !strcmp(a, "$export-file")) {
		if (!inst)
			rc = outcome(c, out, status, 403, "forbidden",
				     "bulk export is for the owner institution", NULL);
		else if (!job_ok(b) || !lb_fhir_type_known(cc))
			rc = outcome(c, out, status, 404, "not-found", "no such export file", NULL);
		else
			rc = send_ndjson(c, cc, out, status);
	} else if (!lb_fhir_type_known(a)) {
		char msg[200];
		snprintf(msg, sizeof msg, "%.60s is not a resource type this node serves (GET "
			 "/fhir/metadata lists them)", a);
		rc = outcome(c, out, status, 404, "not-supported", msg, NULL);
	} else if (np == 1) {
		rc = do_search(c, st, &w, a, out, status);
	} else if (np == 2) {
		rc = do_read(c, st, &w, a, b, out, status);
	} else if ((np == 3 || np == 4) && !strcmp(cc, "_history")) {
		char vid[80] = "";
		if (np == 4)
			api_param_copy(c->params, 3, vid, sizeof vid);
		rc = do_history(c, st, &w, a, b, np == 4 ? vid : NULL, out, status);
	} else {
		rc = outcome(c, out, status, 404, "not-supported",
			     "no such FHIR interaction (read, search, transaction, $export)", NULL);
	}
	json_decref(body);
done:
	lb_fhir_store_close(st);
	return rc;
}
