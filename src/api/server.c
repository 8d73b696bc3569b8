/*
 * The node's HTTP/JSON API on libmicrohttpd (docs/api.md). Routes are rows of one table; the
 * access handler matches the path, refuses early what cannot succeed (unknown path 404, wrong
 * method 405, declared body over the limit 413), collects the body up to max_body, then calls
 * the row's handler, which returns an lb_err code and a JSON reply. Every error reply has the
 * shape {"error":{"code":"LB_E...","message":"..."}} with the HTTP status of the code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <sodium.h>

#include "api/api_int.h"
#include "leben/fhir.h"
#include "api/web.h"
#include "leben/api.h"
#include "leben/base.h"
#include "leben/data_search.h"
#include "leben/knowledge_chain.h"
#include "leben/security.h"
#include "leben/tx.h"

/* Request line and headers of one connection must fit in this (MHD answers 431 otherwise). */
#define API_CONN_MEMORY (64 * 1024)
#define API_CONN_TIMEOUT_S 60
#define API_CONN_LIMIT 1024

struct lb_api {
	struct MHD_Daemon *daemon;    /* the libmicrohttpd server */
	struct lb_ledger *ledger;     /* borrowed */
	struct lb_api_options opt;    /* copy, with defaults filled in */
	uint16_t port;                /* port actually bound */
	struct api_directory *dir;    /* catalogue of the directory chain (NULL: not served) */
	/* HTTPS: the PEM texts MHD keeps pointers to (NUL-terminated; key wiped at stop), NULL
	 * for plain HTTP. */
	char *tls_cert, *tls_key, *tls_ca;
	gnutls_x509_crl_t *crls;      /* revocation lists of the CA (tls_crl), or NULL */
	unsigned int ncrls;
	/* tls_crl is read again when the file changes (a revocation takes effect without a
	 * restart): checked at most once a second, under crl_mu. */
	pthread_mutex_t crl_mu;
	struct timespec crl_mtime;    /* mtime of the loaded file */
	time_t crl_checked;           /* last time the file was looked at */
};

/* State of one request, kept in MHD's per-request pointer. */
struct api_req {
	const struct api_route *route; /* the matched row (NULL until the first call) */
	bool started;                  /* the first call ran */
	struct api_params params;      /* path parameters (point into path) */
	struct lb_buf body;            /* request body, capped at max_body */
	bool too_big;                  /* the body went over max_body */
	size_t discarded;              /* bytes dropped after that, or sent to a body-less route */
	struct api_reply reply;        /* content type, raw body, Location (FHIR routes) */
	char path[];                   /* the request path as sent, then decoded in place */
};

/* A route handler: LB_OK with *out (new reference) and *status (preset to 200), or an
 * lb_err with em's text. */
typedef int (*api_handler)(struct lb_api *a, struct MHD_Connection *c, struct api_req *r,
			   json_t **out, unsigned *status, struct lb_errmsg *em);

struct api_route {
	const char *method;   /* "GET", "POST" */
	const char *pattern;  /* path with {name} segments */
	api_handler fn;       /* what answers it */
	bool has_body;        /* the request carries a JSON body */
	api_ext_fn ext;       /* handler in another file, called through h_ext */
};

static int h_submit(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		    unsigned *, struct lb_errmsg *);
static int h_tx(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		unsigned *, struct lb_errmsg *);
static int h_proof(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		   unsigned *, struct lb_errmsg *);
static int h_chains(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		    unsigned *, struct lb_errmsg *);
static int h_block(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		   unsigned *, struct lb_errmsg *);
static int h_account(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		     unsigned *, struct lb_errmsg *);
static int h_status(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		    unsigned *, struct lb_errmsg *);
static int h_ext(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		 unsigned *, struct lb_errmsg *);
static int h_contracts(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		       unsigned *, struct lb_errmsg *);
static int h_contract(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		      unsigned *, struct lb_errmsg *);
static int h_sessions(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		      unsigned *, struct lb_errmsg *);
static int h_session(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		     unsigned *, struct lb_errmsg *);
static int h_members(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		     unsigned *, struct lb_errmsg *);
static int h_account_keys(struct lb_api *, struct MHD_Connection *, struct api_req *,
			  json_t **, unsigned *, struct lb_errmsg *);
static int h_policy(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		    unsigned *, struct lb_errmsg *);
static int h_dir_search(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
			unsigned *, struct lb_errmsg *);
static int h_dir_asset(struct lb_api *, struct MHD_Connection *, struct api_req *, json_t **,
		       unsigned *, struct lb_errmsg *);
static int page_args(struct MHD_Connection *c, size_t *offset, size_t *limit,
		     struct lb_errmsg *em);

/* The API, once. docs/api.md describes each row. */
static const struct api_route routes[] = {
	{"POST", "/v1/txs", h_submit, true, NULL},
	{"GET", "/v1/txs/{id}", h_tx, false, NULL},
	{"GET", "/v1/txs/{id}/proof", h_proof, false, NULL},
	{"GET", "/v1/chains", h_chains, false, NULL},
	{"GET", "/v1/chains/{chain}/blocks/{height}", h_block, false, NULL},
	{"GET", "/v1/accounts/{address}", h_account, false, NULL},
	{"GET", "/v1/status", h_status, false, NULL},
	{"GET", "/v1/contracts", h_contracts, false, NULL},
	{"GET", "/v1/contracts/{hash}", h_contract, false, NULL},
	{"POST", "/v1/contracts/convert", h_ext, true, api_kn_convert},
	{"POST", "/v1/contracts/check", h_ext, true, api_kn_check},
	{"POST", "/v1/contracts/step", h_ext, true, api_kn_step},
	{"GET", "/v1/sessions", h_sessions, false, NULL},
	{"GET", "/v1/sessions/{id}", h_session, false, NULL},
	{"GET", "/v1/members", h_members, false, NULL},
	{"GET", "/v1/members/{address}/removal", h_ext, false, api_member_removal},
	{"GET", "/v1/certificates/{spki_hash}", h_ext, false, api_certificate},
	{"GET", "/v1/accounts/{address}/keys", h_account_keys, false, NULL},
	{"GET", "/v1/policies/{asset}", h_policy, false, NULL},
	{"GET", "/v1/directory/search", h_dir_search, false, NULL},
	{"GET", "/v1/data/purges/{asset}", h_ext, false, api_purge_status},
	{"GET", "/v1/patients/{patient}/purges", h_ext, false, api_purge_patient},
	{"GET", "/v1/directory/assets/{id}", h_dir_asset, false, NULL},
	{"GET", "/v1/store/listings", h_ext, false, api_store_listings},
	{"GET", "/v1/store/listings/{id}", h_ext, false, api_store_listing},
	{"GET", "/v1/store/listings/{id}/ratings", h_ext, false, api_store_ratings},
	{"GET", "/v1/store/family/{id}", h_ext, false, api_store_family},
	{"GET", "/v1/store/templates/{id}", h_ext, false, api_store_template},
	{"GET", "/v1/store/wallets/{address}", h_ext, false, api_store_wallet},
	{"GET", "/v1/store/search", h_ext, false, api_store_search},
	{"GET", "/v1/abe/authorities/{id}", h_ext, false, api_abe_authority},
	{"GET", "/v1/abe/seals/{asset}", h_ext, false, api_abe_seal},
	{"GET", "/v1/abe/shares/{request}/{sender}", h_ext, false, api_abe_share},
	{"GET", "/v1/exchange/offers/{asset}", h_ext, false, api_xchg_offer},
	{"GET", "/v1/exchange/algorithms/{hash}", h_ext, false, api_xchg_algo},
	{"GET", "/v1/exchange/requests/{id}", h_ext, false, api_xchg_request},
	{"GET", "/v1/exchange/escrows/{id}", h_ext, false, api_xchg_escrow},
	{"POST", "/v1/exchange/check", h_ext, true, api_xchg_check},
	{"POST", "/v1/exchange/runs", h_ext, true, api_xchg_run},
	{"GET", "/v1/exchange/runs/{escrow}", h_ext, false, api_xchg_run_get},
	{"GET", "/v1/exchange/log/{subject}", h_ext, false, api_xchg_log},
	{"GET", "/v1/exchange/consents/{asset}/{patient}", h_ext, false, api_xchg_consent},
	{"GET", "/v1/exchange/receipts/{id}", h_ext, false, api_xchg_receipt},
	{"POST", "/v1/exchange/results/{request}", h_ext, true, api_xchg_result_put},
	{"GET", "/v1/exchange/results/{request}", h_ext, false, api_xchg_result_get},
	{"GET", "/v1/exchange/budget/{subject}", h_ext, false, api_xchg_budget},
	{"GET", "/v1/exchange/budget/{subject}/{asset}", h_ext, false, api_xchg_budget},
	{"POST", "/v1/exchange/inputs/{request}", h_ext, true, api_xchg_input_put},
	{"GET", "/v1/exchange/inputs/{request}", h_ext, false, api_xchg_input_get},
	{"GET", "/v1/exchange/audits", h_ext, false, api_xchg_audits},
	{"GET", "/v1/exchange/audits/{asset}", h_ext, false, api_xchg_audit},
	{"POST", "/v1/exchange/audits/{asset}/run", h_ext, true, api_xchg_audit_run},
	{"GET", "/v1/compute/runs/{id}", h_ext, false, api_compute_run},
	{"GET", "/v1/compute/programs/{hash}", h_ext, false, api_compute_program},
	{"POST", "/v1/study/step", h_ext, true, api_study_step},
	{"GET", "/v1/chains/{chain}/blocks", h_ext, false, api_web_blocks},
	{"GET", "/v1/accounts/{address}/txs", h_ext, false, api_web_account_txs},
	{"GET", "/fhir", h_ext, false, api_fhir},
	{"POST", "/fhir", h_ext, true, api_fhir},
	{"GET", "/fhir/{a}", h_ext, false, api_fhir},
	{"POST", "/fhir/{a}", h_ext, true, api_fhir},
	{"GET", "/fhir/{a}/{b}", h_ext, false, api_fhir},
	{"PUT", "/fhir/{a}/{b}", h_ext, true, api_fhir},
	{"GET", "/fhir/{a}/{b}/{c}", h_ext, false, api_fhir},
	{"GET", "/fhir/{a}/{b}/{c}/{d}", h_ext, false, api_fhir},
	{"GET", "/v1/market", h_ext, false, api_market},
	{"GET", "/v1/market/splits", h_ext, false, api_market_splits},
	{"GET", "/v1/market/rankings/{period}", h_ext, false, api_market_ranking},
	{"GET", "/v1/market/cited/{tx}", h_ext, false, api_market_cited},
	{"GET", "/v1/surgery/alarms/{hospital}/{surgeon}", h_ext, false, api_surgery_alarms},
	{"POST", "/v1/surgery/funnel", h_ext, true, api_surgery_funnel},
	{"POST", "/v1/surgery/rank", h_ext, true, api_surgery_rank},
	{"GET", "/v1/referrals", h_ext, false, api_referrals},
	{"GET", "/v1/referrals/{id}", h_ext, false, api_referral},
	{"POST", "/v1/monitor/providers", h_ext, true, api_mon_provider},
	{"POST", "/v1/monitor/patients", h_ext, true, api_mon_enrol},
	{"POST", "/v1/monitor/readings", h_ext, true, api_mon_readings},
	{"GET", "/v1/monitor/outbox", h_ext, false, api_mon_outbox},
	{"POST", "/v1/monitor/outbox/{id}/ack", h_ext, true, api_mon_ack},
	{"GET", "/v1/monitor/status", h_ext, false, api_mon_status},
	{"POST", "/v1/monitor/settle", h_ext, true, api_mon_settle},
	{"GET", "/v1/insurance/policies/{id}", h_ext, false, api_ins_policy},
	{"GET", "/v1/insurance/coverage/{policy}/{patient}", h_ext, false, api_ins_coverage},
	{"GET", "/v1/insurance/claims/{id}", h_ext, false, api_ins_claim},
	{"GET", "/v1/insurance/auto-claims", h_ext, false, api_ins_auto_claims},
	{"POST", "/v1/insurance/adjudicate", h_ext, true, api_ins_adjudicate},
	{"GET", "/v1/cohort/committees/{id}", h_ext, false, api_cohort_committee},
	{"GET", "/v1/cohort/{id}", h_ext, false, api_cohort},
	{"GET", "/v1/cohort/{id}/patients/{asset}/{patient}", h_ext, false, api_cohort_patient},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

void lb_api_options_init(struct lb_api_options *o)
{
	memset(o, 0, sizeof *o);
	o->bind_addr = "127.0.0.1";
	o->port = 0;
	o->max_body = 8u << 20;
	o->max_batch = 10000;
	o->threads = 0;
}

/* ---- replies ------------------------------------------------------------------------- */

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *j,
				 const char *allow)
{
	char *s = json_dumps(j, JSON_COMPACT);
	if (!s)
		return MHD_NO;
	size_t n = strlen(s);
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(n, s, free);
	if (!resp) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* A reply with the handler's content type, raw body and Location (the FHIR routes). */
static enum MHD_Result send_reply(struct MHD_Connection *c, unsigned status, json_t *j,
				  struct api_reply *rp)
{
	if (rp->stream) { /* the body is read as the client takes it */
		struct MHD_Response *sr = MHD_create_response_from_callback(
			MHD_SIZE_UNKNOWN, 64 * 1024, rp->stream, rp->stream_cls, rp->stream_free);
		rp->stream = NULL;
		if (!sr) {
			rp->stream_free(rp->stream_cls);
			return MHD_NO;
		}
		rp->stream_free = NULL;
		MHD_add_response_header(sr, MHD_HTTP_HEADER_CONTENT_TYPE,
					rp->content_type ? rp->content_type : "application/json");
		MHD_add_response_header(sr, "Cache-Control", "no-store");
		enum MHD_Result mr = MHD_queue_response(c, status, sr);
		MHD_destroy_response(sr);
		return mr;
	}
	char *s = rp->raw;
	size_t n = rp->raw_len;
	rp->raw = NULL;
	if (!s && j) {
		s = json_dumps(j, JSON_COMPACT);
		n = s ? strlen(s) : 0;
	}
	if (!s && (s = strdup("")) == NULL)
		return MHD_NO;
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(n, s, free);
	if (!resp) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				rp->content_type ? rp->content_type : "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (rp->location[0])
		MHD_add_response_header(resp, status == 202 ? "Content-Location" : "Location",
					rp->location);
	enum MHD_Result rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static json_t *error_json(int code, const char *message)
{
	return json_pack("{s:{s:s,s:s}}", "error", "code", lb_errname(code), "message",
			 message && *message ? message : lb_strerror(code));
}

static enum MHD_Result send_error(struct MHD_Connection *c, int code, const char *message,
				  const char *allow, unsigned status);

/* An error on a /fhir path is a FHIR OperationOutcome (docs/fhir.md); elsewhere the API's
 * {"error": ...}. */
static enum MHD_Result send_error_at(struct MHD_Connection *c, const char *url, int code,
				     const char *message, const char *allow, unsigned status)
{
	if (!url || strncmp(url, "/fhir", 5) || (url[5] && url[5] != '/'))
		return send_error(c, code, message, allow, status);
	const char *issue = code == LB_ENOTFOUND	 ? "not-found"
			    : code == LB_ETOOBIG	 ? "too-costly"
			    : code == LB_EUNAUTH	 ? "security"
			    : code == LB_EUSAGE		 ? "not-supported"
							 : "exception";
	json_t *j = lb_fhir_outcome(issue, message, NULL);
	if (!j)
		return MHD_NO;
	struct api_reply rp = {.content_type = "application/fhir+json"};
	enum MHD_Result rc = send_reply(c, status ? status : (unsigned)lb_err_http_status(code), j,
					&rp);
	json_decref(j);
	return rc;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int code, const char *message,
				  const char *allow, unsigned status)
{
	json_t *j = error_json(code, message);
	if (!j)
		return MHD_NO;
	enum MHD_Result rc = send_json(c, status ? status : (unsigned)lb_err_http_status(code), j,
				       allow);
	json_decref(j);
	return rc;
}

json_t *api_hex_json(const uint8_t *p, size_t n)
{
	char *s = lb_malloc(2 * n + 1);
	if (!s)
		return NULL;
	lb_hex_encode(s, p, n);
	json_t *j = json_stringn_nocheck(s, 2 * n);
	lb_free(s);
	return j;
}

/* ---- mutual TLS ------------------------------------------------------------------------ */

static int read_pem(const char *path, const char *what, char **out, struct lb_errmsg *em);

/* tls_cosigned: the client's certificate is co-signed by enough CA holders on the chain. */
static bool client_cosigned(struct lb_api *a, gnutls_session_t s, char *why, size_t n)
{
	unsigned int ncerts = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &ncerts);
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t pk;
	gnutls_datum_t der = {NULL, 0};
	uint8_t h[LB_HASH_LEN];
	bool ok = false;
	if (!certs || !ncerts || gnutls_x509_crt_init(&crt) < 0) {
		snprintf(why, n, "the client certificate could not be read");
		return false;
	}
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_pubkey_init(&pk) >= 0) {
		/* SubjectPublicKeyInfo, DER: what lb_x509_spki_hash_file hashes */
		if (gnutls_pubkey_import_x509(pk, crt, 0) >= 0 &&
		    gnutls_pubkey_export2(pk, GNUTLS_X509_FMT_DER, &der) >= 0) {
			lb_hash(h, der.data, der.size);
			gnutls_free(der.data);
			ok = lb_consortium_cert_check(a->ledger, h, why, n) == LB_OK;
		} else {
			snprintf(why, n, "the client certificate's public key could not be read");
		}
		gnutls_pubkey_deinit(pk);
	} else {
		snprintf(why, n, "the client certificate could not be read");
	}
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* The client's certificate is on no CRL of the CA, and every CRL is in force. */
static bool client_not_revoked(struct lb_api *a, gnutls_session_t s, char *why, size_t n)
{
	unsigned int ncerts = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &ncerts);
	gnutls_x509_crt_t crt;
	if (!certs || !ncerts || gnutls_x509_crt_init(&crt) < 0) {
		snprintf(why, n, "the client certificate could not be read");
		return false;
	}
	bool ok = gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0;
	time_t now = time(NULL);
	for (unsigned int i = 0; ok && i < a->ncrls; i++) {
		time_t next = gnutls_x509_crl_get_next_update(a->crls[i]);
		if (next != (time_t)-1 && next < now) {
			snprintf(why, n,
				 "the consortium CA's revocation list is out of date; the node operator must install a new one");
			gnutls_x509_crt_deinit(crt);
			return false;
		}
	}
	if (ok && gnutls_x509_crt_check_revocation(crt, a->crls, a->ncrls) != 0) {
		snprintf(why, n, "the client certificate was revoked by the consortium CA");
		ok = false;
	} else if (!ok) {
		snprintf(why, n, "the client certificate could not be read");
	}
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* Load the CRL file: every CRL in it must verify under the CA (the PEM text ca). */
static int load_crls(struct lb_api *a, const char *path, const char *ca, struct lb_errmsg *em)
{
	char *pem = NULL;
	int rc = read_pem(path, "revocation list", &pem, em);
	if (rc)
		return rc;
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned int)strlen(pem)};
	gnutls_datum_t cd = {(unsigned char *)ca, (unsigned int)strlen(ca)};
	gnutls_x509_crt_t *cas = NULL;
	unsigned int ncas = 0;
	if (gnutls_x509_crl_list_import2(&a->crls, &a->ncrls, &d, GNUTLS_X509_FMT_PEM, 0) < 0 ||
	    !a->ncrls) {
		rc = lb_errf(em, LB_EMALFORMED, "API TLS: %s holds no readable CRL", path);
	} else if (gnutls_x509_crt_list_import2(&cas, &ncas, &cd, GNUTLS_X509_FMT_PEM, 0) < 0) {
		rc = lb_errf(em, LB_EMALFORMED, "API TLS: the consortium CA could not be read");
	} else {
		for (unsigned int i = 0; !rc && i < a->ncrls; i++) {
			unsigned int st = 0;
			/* an expired CRL loads; clients are refused while it is (above) */
			int vr = gnutls_x509_crl_verify(a->crls[i], cas, ncas, 0, &st);
			unsigned int late = GNUTLS_CERT_EXPIRED | GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED;
			if ((st & late) && !(st & ~(late | (unsigned int)GNUTLS_CERT_INVALID)))
				st = 0;
			if (vr < 0 || st)
				rc = lb_errf(em, LB_EUNAUTH,
					     "API TLS: a CRL in %s is not signed by the consortium CA",
					     path);
		}
	}
	for (unsigned int i = 0; i < ncas; i++)
		gnutls_x509_crt_deinit(cas[i]);
	gnutls_free(cas);
	lb_free(pem);
	return rc;
}

/* Under crl_mu: when tls_crl changed on disk, load it again; a file that does not load keeps
 * the lists in force (and is logged). */
static void crl_refresh(struct lb_api *a)
{
	struct stat st;
	time_t now = time(NULL);
	if (!a->opt.tls_crl || !*a->opt.tls_crl || now == a->crl_checked)
		return;
	a->crl_checked = now;
	if (stat(a->opt.tls_crl, &st) || (st.st_mtim.tv_sec == a->crl_mtime.tv_sec &&
					  st.st_mtim.tv_nsec == a->crl_mtime.tv_nsec))
		return;
	struct lb_api tmp;
	struct lb_errmsg em;
	memset(&tmp, 0, sizeof tmp);
	lb_errclear(&em);
	if (load_crls(&tmp, a->opt.tls_crl, a->tls_ca, &em)) {
		lb_log(LB_LOG_WARN, "API TLS: the changed revocation list is not used: %s", em.text);
		for (unsigned int i = 0; i < tmp.ncrls; i++)
			gnutls_x509_crl_deinit(tmp.crls[i]);
		gnutls_free(tmp.crls);
		a->crl_mtime = st.st_mtim;
		return;
	}
	for (unsigned int i = 0; i < a->ncrls; i++)
		gnutls_x509_crl_deinit(a->crls[i]);
	gnutls_free(a->crls);
	a->crls = tmp.crls;
	a->ncrls = tmp.ncrls;
	a->crl_mtime = st.st_mtim;
	lb_log(LB_LOG_INFO, "API TLS: loaded the changed revocation list %s (%u list%s)",
	       a->opt.tls_crl, a->ncrls, a->ncrls == 1 ? "" : "s");
}

/* The client of an HTTPS connection showed a certificate chain that verifies against the
 * consortium CA (the daemon's only trust anchor) and is in force now. MHD only requests a
 * certificate during the handshake, so every request is checked here before anything else. */
static bool client_cert_ok(struct lb_api *a, struct MHD_Connection *c, char *why, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t s = ci ? (gnutls_session_t)ci->tls_session : NULL;
	if (!s) {
		snprintf(why, n, "this node accepts only mutual TLS connections");
		return false;
	}
	unsigned int ncerts = 0;
	if (!gnutls_certificate_get_peers(s, &ncerts) || ncerts == 0) {
		snprintf(why, n,
			 "this node requires a client certificate from the consortium CA; present "
			 "your node's certificate (leben ... --tls-cert/--tls-key, or LEBEN_TLS_CERT/KEY)");
		return false;
	}
	unsigned int status = 0;
	int rc = gnutls_certificate_verify_peers2(s, &status);
	if (rc < 0 || status != 0) {
		snprintf(why, n,
			 "the client certificate is not one of this consortium's (%s%s%s%s)",
			 rc < 0 ? gnutls_strerror(rc) : "",
			 status & GNUTLS_CERT_SIGNER_NOT_FOUND ? "not issued by the consortium CA" : "",
			 status & GNUTLS_CERT_EXPIRED ? " expired" : "",
			 status & GNUTLS_CERT_NOT_ACTIVATED ? " not yet valid" : "");
		return false;
	}
	bool ok = true;
	pthread_mutex_lock(&a->crl_mu);
	crl_refresh(a);
	if (a->ncrls && !client_not_revoked(a, s, why, n))
		ok = false;
	pthread_mutex_unlock(&a->crl_mu);
	if (ok && a->opt.tls_cosigned && a->ledger && !client_cosigned(a, s, why, n))
		ok = false;
	return ok;
}

/* The PEM file at path as a NUL-terminated string (lb_free; wipe a key first). */
static int read_pem(const char *path, const char *what, char **out, struct lb_errmsg *em)
{
	uint8_t *p = NULL;
	size_t len = 0;
	int rc = lb_file_read(path, 1u << 20, &p, &len, em);
	if (rc) {
		lb_errwrap(em, "API TLS, %s (make it with 'leben ca issue', or set its path in config.json)", what);
		return rc;
	}
	if (!strstr((char *)p, "-----BEGIN ")) {
		sodium_memzero(p, len);
		lb_free(p);
		return lb_errf(em, LB_EMALFORMED, "API TLS: the %s %s is not a PEM file", what, path);
	}
	*out = (char *)p;
	return LB_OK;
}

static void free_pems(struct lb_api *a)
{
	for (unsigned int i = 0; i < a->ncrls; i++)
		gnutls_x509_crl_deinit(a->crls[i]);
	gnutls_free(a->crls);
	a->crls = NULL;
	a->ncrls = 0;
	if (a->tls_key) {
		sodium_memzero(a->tls_key, strlen(a->tls_key));
		lb_free(a->tls_key);
	}
	lb_free(a->tls_cert);
	lb_free(a->tls_ca);
	a->tls_key = a->tls_cert = a->tls_ca = NULL;
}

/* ---- handlers ------------------------------------------------------------------------- */

static json_t *result_json(const struct lb_submit_result *res, size_t index, bool with_index)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	if (with_index)
		json_object_set_new_nocheck(o, "index", json_integer((json_int_t)index));
	if (res->chain >= 0) {
		json_object_set_new_nocheck(o, "id", api_hex_json(res->id, LB_HASH_LEN));
		json_object_set_new_nocheck(o, "chain", json_string(lb_chain_name(res->chain)));
	}
	if (res->code == LB_OK) {
		json_object_set_new_nocheck(o, "status", json_string("pending"));
	} else {
		json_object_set_new_nocheck(o, "status", json_string("refused"));
		json_object_set_new_nocheck(o, "error", json_pack("{s:s,s:s}", "code",
								  lb_errname(res->code), "message",
								  res->message[0] ? res->message
										  : lb_strerror(res->code)));
	}
	return o;
}

static int h_submit(struct lb_api *a, struct MHD_Connection *c, struct api_req *r, json_t **out,
		    unsigned *status, struct lb_errmsg *em)
{
	struct api_txs t;
	int rc = api_txs_parse(&t, r->body.data, r->body.len, a->opt.max_batch, em);
	if (rc)
		return rc;
	struct lb_submit_result *res = lb_calloc(t.n, sizeof *res);
	const uint8_t **raws = lb_calloc(t.n, sizeof *raws);
	size_t *lens = lb_calloc(t.n, sizeof *lens), *where = lb_calloc(t.n, sizeof *where);
	struct lb_submit_result *sub = lb_calloc(t.n, sizeof *sub);
	json_t *results = json_array();
	if (!res || !raws || !lens || !where || !sub || !results) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory for %zu txs", t.n);
		goto out;
	}
	/* Items that were not hex are answered here; the rest go to the ledger in order. */
	size_t m = 0;
	for (size_t i = 0; i < t.n; i++) {
		if (t.codes[i]) {
			res[i].chain = -1;
			res[i].code = t.codes[i] == LB_ETOOBIG ? LB_ETOOBIG : LB_EMALFORMED;
			snprintf(res[i].message, sizeof res[i].message,
				 t.codes[i] == LB_ETOOBIG
					 ? "tx %zu is larger than %d bytes"
					 : "tx %zu is not an even-length hex string of the signed tx bytes",
				 i, LB_TX_MAX_BYTES);
			continue;
		}
		raws[m] = t.raws[i];
		lens[m] = t.lens[i];
		where[m++] = i;
	}
	if (m && a->opt.order_ready && (rc = a->opt.order_ready(a->opt.order_ctx, em)))
		goto out;
	if (m) {
		rc = lb_ledger_submit(a->ledger, m, raws, lens, sub);
		if (rc) {
			lb_errf(em, rc, "the ledger could not take the txs: %s", lb_strerror(rc));
			goto out;
		}
		bool admitted = false;
		for (size_t k = 0; k < m; k++)
			admitted |= sub[k].code == LB_OK;
		if (admitted && a->opt.order_sync && (rc = a->opt.order_sync(a->opt.order_ctx, em)))
			goto out;
		for (size_t k = 0; k < m; k++)
			res[where[k]] = sub[k];
	}
	if (t.single) {
		if (res[0].code) {
			rc = lb_errf(em, res[0].code, "%s",
				     res[0].message[0] ? res[0].message : lb_strerror(res[0].code));
			goto out;
		}
		*out = result_json(&res[0], 0, false);
		*status = MHD_HTTP_ACCEPTED;
		rc = *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	size_t accepted = 0;
	for (size_t i = 0; i < t.n; i++) {
		accepted += res[i].code == LB_OK;
		if (json_array_append_new(results, result_json(&res[i], i, true))) {
			rc = lb_errf(em, LB_ENOMEM, "out of memory for the reply");
			goto out;
		}
	}
	*out = json_pack("{s:I,s:I,s:O}", "accepted", (json_int_t)accepted, "refused",
			 (json_int_t)(t.n - accepted), "results", results);
	rc = *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
out:
	json_decref(results);
	lb_free(sub);
	lb_free(where);
	lb_free(lens);
	lb_free(raws);
	lb_free(res);
	api_txs_release(&t);
	return rc;
}

static const char *conn_arg(void *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

/* One tx through the same admission as POST /v1/txs (for route handlers: api_call.submit). */
static int submit_one(void *api, const uint8_t *raw, size_t len, struct lb_submit_result *res,
		      struct lb_errmsg *em)
{
	struct lb_api *a = api;
	int rc;
	if (a->opt.order_ready && (rc = a->opt.order_ready(a->opt.order_ctx, em)))
		return rc;
	if ((rc = lb_ledger_submit(a->ledger, 1, &raw, &len, res)))
		return lb_errf(em, rc, "the ledger could not take the tx: %s", lb_strerror(rc));
	if (res->code == LB_OK && a->opt.order_sync && (rc = a->opt.order_sync(a->opt.order_ctx, em)))
		return rc;
	return LB_OK;
}

static int h_ext(struct lb_api *a, struct MHD_Connection *c, struct api_req *r, json_t **out,
		 unsigned *status, struct lb_errmsg *em)
{
	struct api_call call = {a->ledger, a->opt.home, &r->params, r->body.data, r->body.len,
				conn_arg, c, r->route->method, &r->reply, submit_one, a};
	return r->route->ext(&call, out, status, em);
}

static int param_txid(const struct api_req *r, uint8_t id[LB_HASH_LEN], struct lb_errmsg *em)
{
	char hex[2 * LB_HASH_LEN + 2];
	if (api_param_copy(&r->params, 0, hex, sizeof hex) || lb_hex_decode(id, LB_HASH_LEN, hex))
		return lb_errf(em, LB_EMALFORMED,
			       "'%.*s' is not a tx id: expected 64 hex digits (as POST /v1/txs returned)",
			       (int)(r->params.len[0] > 80 ? 80 : r->params.len[0]), r->params.val[0]);
	return LB_OK;
}

static int h_tx(struct lb_api *a, struct MHD_Connection *c, struct api_req *r, json_t **out,
		unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	int rc = param_txid(r, id, em);
	return rc ? rc : lb_ledger_tx_json(a->ledger, id, out, em);
}

static int parse_chain(const char *s, size_t n, int *chain, struct lb_errmsg *em)
{
	char name[32];
	*chain = -1;
	if (n < sizeof name) {
		memcpy(name, s, n);
		name[n] = 0;
		*chain = lb_chain_parse(name);
	}
	if (*chain < 0)
		return lb_errf(em, LB_ENOTFOUND,
			       "no chain named '%.*s'; the chains are settlement, directory and business",
			       (int)(n > 40 ? 40 : n), s);
	return LB_OK;
}

static int h_proof(struct lb_api *a, struct MHD_Connection *c, struct api_req *r, json_t **out,
		   unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	int rc = param_txid(r, id, em), anchor = -1;
	if (rc)
		return rc;
	const char *an = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "anchor");
	if (an && *an && (rc = parse_chain(an, strlen(an), &anchor, em)))
		return lb_errf(em, LB_EMALFORMED, "anchor=%.40s: not a chain; use settlement, directory or business", an);
	struct lb_buf b;
	lb_buf_init(&b, 16u << 20);
	rc = lb_ledger_proof(a->ledger, id, anchor, &b, em);
	/* the proven tx's signed bytes too: a cross-chain citation carries both */
	uint8_t *raw = NULL;
	size_t rlen = 0;
	int rchain;
	if (!rc && (rc = lb_ledger_tx_raw(a->ledger, id, &rchain, &raw, &rlen)))
		rc = lb_errf(em, rc, "cannot read the bytes of the proven tx");
	if (!rc) {
		*out = json_pack("{s:o,s:o,s:I,s:o,s:o}", "tx_id", api_hex_json(id, LB_HASH_LEN),
				 "anchor",
				 anchor >= 0 ? json_string(lb_chain_name(anchor)) : json_null(),
				 "bytes", (json_int_t)b.len, "proof", api_hex_json(b.data, b.len), "tx",
				 api_hex_json(raw, rlen));
		if (!*out)
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
	}
	lb_free(raw);
	lb_buf_release(&b);
	return rc;
}

static int h_chains(struct lb_api *a, struct MHD_Connection *c, struct api_req *r, json_t **out,
		    unsigned *status, struct lb_errmsg *em)
{
	int rc = lb_ledger_chains_json(a->ledger, out);
	return rc ? lb_errf(em, rc, "could not list the chains: %s", lb_strerror(rc)) : LB_OK;
}

/* Decimal height without sign or leading zeros (beyond "0"), or "latest". */
static int parse_height(const char *s, size_t n, uint64_t *h, struct lb_errmsg *em)
{
	if (n == 6 && !memcmp(s, "latest", 6)) {
		*h = UINT64_MAX;
		return LB_OK;
	}
	uint64_t v = 0;
	bool ok = n > 0 && n <= 19 && !(n > 1 && s[0] == '0');
	for (size_t i = 0; ok && i < n; i++) {
		ok = s[i] >= '0' && s[i] <= '9';
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (!ok)
		return lb_errf(em, LB_EMALFORMED,
			       "'%.*s' is not a block height: use a number from 0 or 'latest'",
			       (int)(n > 40 ? 40 : n), s);
	*h = v;
	return LB_OK;
}

static int h_block(struct lb_api *a, struct MHD_Connection *c, struct api_req *r, json_t **out,
		   unsigned *status, struct lb_errmsg *em)
{
	int chain;
	uint64_t h = 0;
	int rc = parse_chain(r->params.val[0], r->params.len[0], &chain, em);
	if (!rc)
		rc = parse_height(r->params.val[1], r->params.len[1], &h, em);
	return rc ? rc : lb_ledger_block_json(a->ledger, chain, h, out, em);
}

static int h_account(struct lb_api *a, struct MHD_Connection *c, struct api_req *r, json_t **out,
		     unsigned *status, struct lb_errmsg *em)
{
	char text[LB_ADDR_TEXT_LEN + 8];
	uint8_t addr[LB_ADDR_LEN];
	if (api_param_copy(&r->params, 0, text, sizeof text))
		return lb_errf(em, LB_EMALFORMED,
			       "'%.*s...' is too long for an account address (lb1..., %d characters)",
			       40, r->params.val[0], LB_ADDR_TEXT_LEN);
	int rc = lb_addr_decode(addr, text, em);
	return rc ? rc : lb_ledger_account_json(a->ledger, addr, out, em);
}

static int h_status(struct lb_api *a, struct MHD_Connection *c, struct api_req *r, json_t **out,
		    unsigned *status, struct lb_errmsg *em)
{
	int rc = lb_ledger_status_json(a->ledger, out);
	if (rc)
		return lb_errf(em, rc, "could not read the node status: %s", lb_strerror(rc));
	if (json_is_object(*out))
		json_object_set_new(*out, "serving", json_true());
	/* Clients sign with the network id; make sure it is there whatever the ledger puts. */
	if (json_is_object(*out) && !json_object_get(*out, "network_id"))
		json_object_set_new(*out, "network_id",
				    api_hex_json(lb_ledger_network_id(a->ledger), LB_HASH_LEN));
	if (json_is_object(*out) && a->opt.order_status)
		json_object_set_new(*out, "ordering", a->opt.order_status(a->opt.order_ctx));
	if (json_is_object(*out) && !json_object_get(*out, "api"))
		json_object_set_new(*out, "api",
				    json_pack("{s:I,s:I}", "max_body", (json_int_t)a->opt.max_body,
					      "max_batch", (json_int_t)a->opt.max_batch));
	if (json_is_object(*out) && a->opt.consortium)
		json_object_set_new(*out, "consortium", lb_consortium_status_json(a->opt.consortium));
	return LB_OK;
}

static int h_members(struct lb_api *a, struct MHD_Connection *c, struct api_req *r, json_t **out,
		     unsigned *status, struct lb_errmsg *em)
{
	return lb_consortium_members_json(a->ledger, out, em);
}

/* Key records of an account (security toolkit, docs/security.md §8). */
static int h_account_keys(struct lb_api *a, struct MHD_Connection *c, struct api_req *r,
			  json_t **out, unsigned *status, struct lb_errmsg *em)
{
	char text[LB_ADDR_TEXT_LEN + 8];
	uint8_t addr[LB_ADDR_LEN];
	if (api_param_copy(&r->params, 0, text, sizeof text))
		return lb_errf(em, LB_EMALFORMED, "that is too long for an account address");
	int rc = lb_addr_decode(addr, text, em);
	return rc ? rc : lb_security_keys_json(a->ledger, addr, out, em);
}

/* Co-owner policy of an asset (security toolkit). */
static int h_policy(struct lb_api *a, struct MHD_Connection *c, struct api_req *r, json_t **out,
		    unsigned *status, struct lb_errmsg *em)
{
	char text[2 * 32 + 8];
	uint8_t asset[32];
	if (api_param_copy(&r->params, 0, text, sizeof text) || strlen(text) != 64 ||
	    lb_hex_decode(asset, 32, text))
		return lb_errf(em, LB_EMALFORMED, "an asset id is 64 hex digits");
	return lb_security_policy_json(a->ledger, asset, out, em);
}

/* ---- the access handler ------------------------------------------------------------------- */

/* libmicrohttpd's URI log callback: the request target as sent (MHD decodes the path it gives
 * the access handler, '%2F' into '/' and '%00' into the end of the string); its path is kept
 * in the request's state, which the first call decodes (api_path_decode). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	size_t n = strcspn(uri, "?");
	struct api_req *r = lb_calloc(1, sizeof *r + n + 1);
	if (r)
		memcpy(r->path, uri, n);
	return r;
}

static enum MHD_Result on_first_call(struct lb_api *a, struct MHD_Connection *c,
				     struct api_req *r, const char *method)
{
	const struct api_route *found = NULL;
	struct api_params p, fp;
	char allow[64] = "";
	const char *url = r->path;
	if (a->opt.refuse) {
		json_t *j = error_json(LB_ECORRUPT, a->opt.refuse);
		if (!j)
			return MHD_NO;
		if (!strcmp(url, "/v1/status")) {
			json_object_set_new(j, "serving", json_false());
			json_object_set_new(j, "damage", json_string(a->opt.refuse));
		}
		enum MHD_Result mr = send_json(c, MHD_HTTP_SERVICE_UNAVAILABLE, j, NULL);
		json_decref(j);
		return mr;
	}
	struct lb_errmsg em;
	lb_errclear(&em);
	if (api_path_decode(r->path, strlen(r->path), r->path, strlen(r->path) + 1, &em)) {
		/* a FHIR client gets its OperationOutcome: the path as sent says where it went */
		return send_error_at(c, url, LB_EMALFORMED, em.text, NULL, 0);
	}
	if (!strcmp(url, "/fhir/"))
		url = "/fhir"; /* FHIR clients post transactions to the base URL with its '/' */
	for (size_t i = 0; i < N_ROUTES; i++) {
		if (!api_path_match(routes[i].pattern, url, &p))
			continue;
		if (!strcmp(method, routes[i].method) && !found) {
			found = &routes[i];
			fp = p;
		}
		size_t n = strlen(allow);
		snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "", routes[i].method);
	}
	if (!found && !allow[0] && strncmp(url, "/v1/", 4) && strcmp(url, "/v1") &&
	    strncmp(url, "/fhir/", 6))
		return api_web_serve(c, url, method); /* the web app (web.c) */
	if (!found && !allow[0]) {
		char msg[256];
		snprintf(msg, sizeof msg, "no such API path: %.120s (see docs/api.md)", url);
		return send_error_at(c, url, LB_ENOTFOUND, msg, NULL, 0);
	}
	if (!found) {
		char msg[256];
		snprintf(msg, sizeof msg, "%.120s does not accept %.16s; use %s", url, method, allow);
		return send_error_at(c, url, LB_EUSAGE, msg, allow, MHD_HTTP_METHOD_NOT_ALLOWED);
	}
	size_t max = found->has_body ? a->opt.max_body : 0;
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
	if (found->has_body && declared > max) {
		char msg[200];
		snprintf(msg, sizeof msg,
			 "request body of %llu bytes is over the limit of %zu bytes; split the batch",
			 declared, max);
		return send_error_at(c, url, LB_ETOOBIG, msg, NULL, 0);
	}
	r->route = found;
	r->params = fp;
	lb_buf_init(&r->body, max);
	if (declared && lb_buf_reserve(&r->body, (size_t)declared)) {
		r->route = NULL;
		return send_error(c, LB_ENOMEM, "out of memory for the request body", NULL, 0);
	}
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct lb_api *a = cls;
	struct api_req *r = *con_cls;
	if (!r)
		return MHD_NO; /* on_uri had no memory for it */
	if (!r->started) {
		char why[160];
		r->started = true;
		if (a->tls_ca && !client_cert_ok(a, c, why, sizeof why))
			return send_error_at(c, url, LB_EUNAUTH, why, NULL, 0);
		return on_first_call(a, c, r, method);
	}
	if (!r->route) { /* answered at the first call: a body is dropped, but not forever */
		r->discarded += *upload_data_size;
		*upload_data_size = 0;
		return r->discarded > a->opt.max_body + (1u << 20) ? MHD_NO : MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->route->has_body && !r->too_big) {
			if (r->body.len + n <= r->body.max && !lb_buf_add(&r->body, upload_data, n))
				return MHD_YES;
			r->too_big = true;
			lb_buf_release(&r->body);
		}
		/* Keep reading (and dropping) so the client gets its answer, but not forever. */
		r->discarded += n;
		return r->discarded > a->opt.max_body + (1u << 20) ? MHD_NO : MHD_YES;
	}
	if (r->too_big) {
		char msg[200];
		snprintf(msg, sizeof msg, "request body is over the limit of %zu bytes; split the batch",
			 a->opt.max_body);
		return send_error_at(c, url, LB_ETOOBIG, msg, NULL, 0);
	}
	struct lb_errmsg em;
	lb_errclear(&em);
	json_t *out = NULL;
	unsigned status = MHD_HTTP_OK;
	int rc = r->route->fn(a, c, r, &out, &status, &em);
	enum MHD_Result mr;
	if (rc) {
		mr = send_error(c, rc, em.text, NULL, 0);
	} else if (r->reply.raw || r->reply.stream || r->reply.content_type) {
		mr = send_reply(c, status, out, &r->reply);
	} else if (!out) {
		mr = send_error(c, LB_EINTERNAL, "the handler produced no reply", NULL, 0);
	} else {
		mr = send_json(c, status, out, NULL);
	}
	json_decref(out);
	return mr;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api_req *r = *con_cls;
	if (r) {
		lb_buf_release(&r->body);
		free(r->reply.raw);
		if (r->reply.stream_free) /* a stream the reply never took over */
			r->reply.stream_free(r->reply.stream_cls);
		lb_free(r);
		*con_cls = NULL;
	}
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = 0;
	lb_log(LB_LOG_DEBUG, "api: %s", line);
}

/* ---- lifecycle ------------------------------------------------------------------------- */

int lb_api_start(struct lb_api **out, struct lb_ledger *l, const struct lb_api_options *o,
		 struct lb_errmsg *em)
{
	struct lb_api_options dflt;
	lb_api_options_init(&dflt);
	struct lb_api *a = lb_calloc(1, sizeof *a);
	if (!a)
		return lb_errf(em, LB_ENOMEM, "out of memory for the API server");
	a->ledger = l;
	pthread_mutex_init(&a->crl_mu, NULL);
	a->opt = o ? *o : dflt;
	if (!a->opt.bind_addr || !*a->opt.bind_addr)
		a->opt.bind_addr = dflt.bind_addr;
	if (!a->opt.max_body)
		a->opt.max_body = dflt.max_body;
	if (!a->opt.max_batch)
		a->opt.max_batch = dflt.max_batch;

	if (a->opt.directory_db) {
		int rc = api_directory_open(&a->dir, a->opt.directory_db, em);
		if (rc) {
			lb_free(a);
			return rc;
		}
	}

	/* HTTPS: TLS 1.3 only, a client certificate requested and checked on every request */
	struct MHD_OptionItem tls_opts[5] = {{MHD_OPTION_END, 0, NULL}};
	if (a->opt.tls_cert || a->opt.tls_key || a->opt.tls_ca) {
		int rc = LB_OK;
		if (!a->opt.tls_cert || !a->opt.tls_key || !a->opt.tls_ca)
			rc = lb_errf(em, LB_EINVALID,
				     "API TLS needs the node's certificate, its key and the consortium CA");
		if (!rc && !MHD_is_feature_supported(MHD_FEATURE_TLS))
			rc = lb_errf(em, LB_EUNAVAILABLE,
				     "this libmicrohttpd was built without HTTPS; install one with TLS support");
		if (!rc)
			rc = read_pem(a->opt.tls_cert, "node certificate", &a->tls_cert, em);
		if (!rc)
			rc = read_pem(a->opt.tls_key, "node key", &a->tls_key, em);
		if (!rc)
			rc = read_pem(a->opt.tls_ca, "consortium CA", &a->tls_ca, em);
		if (!rc && a->opt.tls_crl && *a->opt.tls_crl) {
			struct stat st;
			rc = load_crls(a, a->opt.tls_crl, a->tls_ca, em);
			if (!rc && !stat(a->opt.tls_crl, &st))
				a->crl_mtime = st.st_mtim;
			a->crl_checked = time(NULL);
		}
		if (rc) {
			free_pems(a);
			api_directory_close(a->dir);
			lb_free(a);
			return rc;
		}
		tls_opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, a->tls_cert};
		tls_opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, a->tls_key};
		tls_opts[2] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, a->tls_ca};
		tls_opts[3] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
						      (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3"};
		tls_opts[4] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	}

	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr *sa;
	unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	/* Default: a thread per connection. A request runs on its connection's thread from the
	 * body to the reply (admission verifies its batch there, then waits for the log's sync),
	 * so every client's request is worked on at once. With a pool of N event threads a
	 * thread serves the connections it happened to accept one request at a time: three
	 * clients on one thread left a core idle while a batch was verified. */
	if (!a->opt.threads)
		flags |= MHD_USE_THREAD_PER_CONNECTION;
	if (a->tls_ca)
		flags |= MHD_USE_TLS;
	memset(&sin, 0, sizeof sin);
	memset(&sin6, 0, sizeof sin6);
	if (inet_pton(AF_INET, a->opt.bind_addr, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons(a->opt.port);
		sa = (struct sockaddr *)&sin;
	} else if (inet_pton(AF_INET6, a->opt.bind_addr, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(a->opt.port);
		sa = (struct sockaddr *)&sin6;
		flags |= MHD_USE_IPv6;
	} else {
		lb_errf(em, LB_EINVALID,
			"API address '%.64s' is not an IP address; use 127.0.0.1 (this machine only) or the address of a local interface",
			a->opt.bind_addr);
		free_pems(a);
		api_directory_close(a->dir);
		lb_free(a);
		return LB_EINVALID;
	}
	/* a pool size only with a pool (libmicrohttpd warns about a zero one) */
	struct MHD_OptionItem pool_opts[] = {
		{a->opt.threads ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
		 (intptr_t)a->opt.threads, NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	a->daemon = MHD_start_daemon(
		flags, a->opt.port, NULL, NULL, on_request, a, MHD_OPTION_SOCK_ADDR, sa,
		MHD_OPTION_ARRAY, pool_opts,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONN_MEMORY,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)API_CONN_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)API_CONN_LIMIT,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, a, MHD_OPTION_URI_LOG_CALLBACK, on_uri, a,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, a, MHD_OPTION_ARRAY, tls_opts,
		MHD_OPTION_END);
	if (!a->daemon) {
		int e = errno;
		char addr[64];
		snprintf(addr, sizeof addr, "%s", a->opt.bind_addr);
		uint16_t port = a->opt.port;
		free_pems(a);
		api_directory_close(a->dir);
		lb_free(a);
		return lb_errf(em, LB_EIO,
			       "could not start the API on %s port %u (%s); is another node using that port? choose another with --api-port",
			       addr, (unsigned)port, e ? strerror(e) : "unknown reason");
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(a->daemon, MHD_DAEMON_INFO_BIND_PORT);
	a->port = di && di->port ? di->port : a->opt.port;
	*out = a;
	return LB_OK;
}

uint16_t lb_api_port(const struct lb_api *a)
{
	return a ? a->port : 0;
}

void lb_api_stop(struct lb_api *a)
{
	if (!a)
		return;
	MHD_stop_daemon(a->daemon);
	free_pems(a);
	api_directory_close(a->dir);
	lb_free(a);
}

/* ---- the directory chain's catalogue ------------------------------------------------------ */

#define DIR_MAX_WHERE 32

struct dir_args {
	const char *where[DIR_MAX_WHERE]; /* every where=... argument (MHD keeps the strings) */
	size_t nwhere;                    /* filters in where */
	bool too_many;                    /* more than DIR_MAX_WHERE were given */
};

static enum MHD_Result collect_where(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct dir_args *d = cls;
	(void)kind;
	if (key && !strcmp(key, "where") && value) {
		if (d->nwhere == DIR_MAX_WHERE)
			d->too_many = true;
		else
			d->where[d->nwhere++] = value;
	}
	return MHD_YES;
}

/* GET /v1/directory/search?q=TEXT&where=KEY=VALUE...&limit=N&exact=1 */
static int h_dir_search(struct lb_api *a, struct MHD_Connection *c, struct api_req *r,
			json_t **out, unsigned *status, struct lb_errmsg *em)
{
	if (!a->dir)
		return lb_errf(em, LB_EUNAVAILABLE, "this node keeps no directory catalogue");
	struct dir_args d = {.nwhere = 0};
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_where, &d);
	if (d.too_many)
		return lb_errf(em, LB_ELIMIT, "at most %d where= filters", DIR_MAX_WHERE);
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q");
	const char *ex = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "exact");
	if (q && strlen(q) > 1024)
		return lb_errf(em, LB_ELIMIT, "q is longer than 1024 bytes");
	if ((!q || !*q) && !d.nwhere)
		return lb_errf(em, LB_EMALFORMED, "give q=TEXT, where=KEY=VALUE or both");
	size_t off, lim;
	int rc = page_args(c, &off, &lim, em);
	if (rc)
		return rc;
	if (off)
		return lb_errf(em, LB_EMALFORMED, "offset is not supported here; raise limit");
	struct lb_search_options o = {.where = d.where, .nwhere = d.nwhere, .limit = lim};
	if (ex && !strcmp(ex, "1"))
		o.no_typos = o.no_synonyms = true;
	else if (ex && strcmp(ex, "0"))
		return lb_errf(em, LB_EMALFORMED, "exact=%.8s: use 1 or 0", ex);
	return api_directory_search(a->dir, a->ledger, q ? q : "", &o, out, em);
}

/* GET /v1/directory/assets/{id} */
static int h_dir_asset(struct lb_api *a, struct MHD_Connection *c, struct api_req *r,
		       json_t **out, unsigned *status, struct lb_errmsg *em)
{
	char hex[2 * LB_HASH_LEN + 2];
	if (!a->dir)
		return lb_errf(em, LB_EUNAVAILABLE, "this node keeps no directory catalogue");
	if (api_param_copy(&r->params, 0, hex, sizeof hex))
		return lb_errf(em, LB_EMALFORMED, "not an asset id: expected 64 hex digits");
	return api_directory_asset(a->dir, a->ledger, hex, out, em);
}

/* ---- knowledge contracts (business chain) ----------------------------------------------- */

/* ?offset=N&limit=N (limit at most 1000). */
static int page_args(struct MHD_Connection *c, size_t *offset, size_t *limit, struct lb_errmsg *em)
{
	const char *names[2] = {"offset", "limit"};
	size_t *vals[2] = {offset, limit};
	for (int i = 0; i < 2; i++) {
		const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, names[i]);
		*vals[i] = 0;
		if (!v)
			continue;
		char *end;
		unsigned long long n = strtoull(v, &end, 10);
		if (!*v || *end || *v == '-' || (i == 1 && n > 1000))
			return lb_errf(em, LB_EMALFORMED, "%s=%.20s: use a whole number%s", names[i], v,
				       i == 1 ? " from 1 to 1000" : "");
		*vals[i] = (size_t)n;
	}
	return LB_OK;
}

static int h_contracts(struct lb_api *a, struct MHD_Connection *c, struct api_req *r, json_t **out,
		       unsigned *status, struct lb_errmsg *em)
{
	size_t off, lim;
	int rc = page_args(c, &off, &lim, em);
	return rc ? rc : lb_kn_contracts_json(a->ledger, off, lim, out, em);
}

static int h_contract(struct lb_api *a, struct MHD_Connection *c, struct api_req *r, json_t **out,
		      unsigned *status, struct lb_errmsg *em)
{
	uint8_t h[LB_HASH_LEN];
	char hex[2 * LB_HASH_LEN + 2];
	if (api_param_copy(&r->params, 0, hex, sizeof hex) || lb_hex_decode(h, LB_HASH_LEN, hex))
		return lb_errf(em, LB_EMALFORMED, "not a contract hash: expected 64 hex digits "
						  "(as 'leben contract publish' printed)");
	return lb_kn_contract_json(a->ledger, h, out, em);
}

static int h_sessions(struct lb_api *a, struct MHD_Connection *c, struct api_req *r, json_t **out,
		      unsigned *status, struct lb_errmsg *em)
{
	size_t off, lim;
	uint8_t h[LB_HASH_LEN];
	int rc = page_args(c, &off, &lim, em);
	if (rc)
		return rc;
	const char *ct = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "contract");
	if (ct && lb_hex_decode(h, LB_HASH_LEN, ct))
		return lb_errf(em, LB_EMALFORMED, "contract=%.70s: expected 64 hex digits", ct);
	return lb_kn_sessions_json(a->ledger, ct ? h : NULL, off, lim, out, em);
}

static int h_session(struct lb_api *a, struct MHD_Connection *c, struct api_req *r, json_t **out,
		     unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN];
	char hex[2 * LB_HASH_LEN + 2];
	if (api_param_copy(&r->params, 0, hex, sizeof hex) || lb_hex_decode(id, LB_HASH_LEN, hex))
		return lb_errf(em, LB_EMALFORMED, "not a session id: expected 64 hex digits");
	return lb_kn_session_json(a->ledger, id, out, em);
}
