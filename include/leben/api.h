/*
 * The node's HTTP/JSON API (docs/api.md) on libmicrohttpd, and a small libcurl client for
 * it that the CLI uses.
 */
#ifndef LEBEN_API_H
#define LEBEN_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "leben/consortium.h"
#include "leben/error.h"
#include "leben/ledger.h"

struct lb_api;

struct lb_api_options {
	const char *bind_addr;      /* "127.0.0.1" (default: loopback only) */
	uint16_t port;              /* 0: pick a free port (see lb_api_port) */
	size_t max_body;            /* request body limit, default 8 MiB */
	size_t max_batch;           /* txs per POST /v1/txs, default 10000 */
	unsigned threads;           /* 0 (default): a thread per connection; N: N event threads,
				     * each serving its connections one request at a time */
	/* Consortium ordering (all may be NULL): order_ready refuses a POST /v1/txs before
	 * anything is admitted (LB_EUNAVAILABLE: ordering is down); order_sync is waited on after
	 * admission, so that the reply comes only once the ordering service stored the txs;
	 * order_status (new reference) is shown under "ordering" in GET /v1/status. */
	int (*order_ready)(void *ctx, struct lb_errmsg *em);
	int (*order_sync)(void *ctx, struct lb_errmsg *em);
	json_t *(*order_status)(void *ctx);
	void *order_ctx;
	struct lb_consortium *consortium; /* checkpoint monitor shown in /v1/status (borrowed,
					   * may be NULL) */
	const char *directory_db;   /* file of the catalogue GET /v1/directory/search derives
				     * from the directory chain's blocks (borrowed until
				     * lb_api_start returns; NULL: the route answers
				     * LB_EUNAVAILABLE) */
	const char *home;           /* node home (borrowed; off-chain files such as sealed results), or NULL */
	/* HTTPS with mutual TLS (all three set) or plain HTTP (all NULL). PEM files (read at
	 * start): this node's certificate and key, and the consortium CA. TLS 1.3 only; every
	 * request must come with a client certificate the CA issued (and still in force), else
	 * it is answered LB_EUNAUTH (HTTP 403) and nothing else is done. */
	const char *tls_cert;
	const char *tls_key;
	const char *tls_ca;
	/* PEM CRLs of the consortium CA (optional, with TLS): each must verify under the CA; a
	 * client whose certificate is listed, or any client while a CRL is past its next-update
	 * time, is refused (LB_EUNAUTH). */
	const char *tls_crl;
	/* With TLS: a client's certificate must also be co-signed by enough CA holders on the
	 * business chain (lb_consortium_cert_check, docs/consortium.md); else LB_EUNAUTH. */
	bool tls_cosigned;
	/* Refusal mode (borrowed, or NULL): the node's chain databases are damaged. Every request
	 * is answered 503 with LB_ECORRUPT and this text, GET /v1/status included (there with
	 * "serving": false and "damage": the text); the ledger may then be NULL. */
	const char *refuse;
};
void lb_api_options_init(struct lb_api_options *o);

/* Start serving l (borrowed; must outlive the server). */
int lb_api_start(struct lb_api **out, struct lb_ledger *l, const struct lb_api_options *o,
		 struct lb_errmsg *em);
uint16_t lb_api_port(const struct lb_api *a);
void lb_api_stop(struct lb_api *a);

/* The executor's run that POST /v1/exchange/runs starts (docs/api.md, "Exchange"): what
 * `leben exchange run` does, as this node's key, over the owner's table at the path data, for
 * request and escrow (64 hex digits each). LB_OK with *out (new reference: the run's JSON, as
 * `leben exchange run --json` prints it), else why in em. Set once by `leben node` before
 * the API starts (the node key stays in the node's process: the run is a child it starts);
 * without one (the default) the route answers LB_EUNAVAILABLE. */
typedef int (*lb_api_xchg_runner)(const char *request, const char *escrow, const char *data,
				  json_t **out, struct lb_errmsg *em);
void lb_api_set_xchg_runner(lb_api_xchg_runner fn);

/* ---- client ------------------------------------------------------------------------------ */

/* An https:// base_url is reached over TLS 1.3 with the client certificate and key in
 * $LEBEN_TLS_CERT and $LEBEN_TLS_KEY, trusting only the CA in $LEBEN_TLS_CA (all PEM files;
 * the CLI fills them from its --tls-* options or <home>/tls). The server's certificate must
 * name the host of the URL. */
/* GET base_url + path. On HTTP success *out is the parsed JSON body (caller decrefs). On an
 * API error the server's {"error":{"code","message"}} becomes the return code (mapped back to
 * the lb_err of that name) and em's text. Connection problems: LB_EUNAVAILABLE with advice. */
int lb_client_get(const char *base_url, const char *path, json_t **out, struct lb_errmsg *em);
/* POST a JSON body (borrowed) to base_url + path. */
int lb_client_post(const char *base_url, const char *path, json_t *body, json_t **out,
		   struct lb_errmsg *em);

/* POST body (len bytes of content_type, borrowed) to base_url + path of the FHIR endpoint
 * (docs/fhir.md), signed with kp when not NULL (X-Leben-Key, X-Leben-Time,
 * X-Leben-Signature). Replies as lb_client_post; an OperationOutcome's text becomes em's. */
struct lb_keypair;
int lb_client_fhir_post(const char *base_url, const char *path, const char *content_type,
			const uint8_t *body, size_t len, const struct lb_keypair *kp, json_t **out,
			struct lb_errmsg *em);
/* GET base_url + path of the FHIR endpoint, signed with kp when not NULL. */
int lb_client_fhir_get(const char *base_url, const char *path, const struct lb_keypair *kp,
		       json_t **out, struct lb_errmsg *em);
/* What a key signs for a FHIR request: BLAKE2b-256 of "LEBEN-fhir-v1\n" method "\n" path
 * (without the query) "\n" time (decimal Unix seconds) "\n" hex(BLAKE2b-256(body)). */
void lb_fhir_request_digest(const char *method, const char *path, const char *time_s,
			    const uint8_t *body, size_t len, uint8_t out[32]);

#endif
