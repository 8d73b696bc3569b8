/*
 * Internals of the API server shared by its files and unit tests: the path matcher behind
 * the route table, and the parser of POST /v1/txs bodies that decodes hex in place.
 */
#ifndef LEBEN_API_INT_H
#define LEBEN_API_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "leben/error.h"
#include "leben/ledger.h"

#define API_MAX_PARAMS 4

/* Path parameters captured by {name} segments of a route pattern; each points into the
 * request path (borrowed) and is not NUL-terminated. */
struct api_params {
	size_t n;                            /* parameters captured */
	const char *val[API_MAX_PARAMS];     /* start of each value */
	size_t len[API_MAX_PARAMS];          /* its length */
};

/* Match path against pattern ("/v1/chains/{chain}/blocks/{height}"): literal segments must be
 * equal, a {name} segment matches one non-empty segment. A trailing '/' on path is not
 * accepted (one resource, one URL). */
bool api_path_match(const char *pattern, const char *path, struct api_params *p);

/* Percent-decode the path of a request target (the part before '?', as sent) into out
 * (outsz >= strlen(raw) + 1; a decoded path is never longer), segment by segment: "%41" is
 * 'A'. LB_EMALFORMED naming the escape when one is not '%' and two hex digits, decodes to
 * a NUL byte, or decodes to '/' inside a segment (one segment, one name). The one place the
 * API decodes paths; the route table matches the decoded path. */
int api_path_decode(const char *raw, size_t rawlen, char *out, size_t outsz,
		    struct lb_errmsg *em);

/* Copy parameter i into out (outsz bytes, NUL-terminated). LB_ETOOBIG if it does not fit. */
int api_param_copy(const struct api_params *p, size_t i, char *out, size_t outsz);
/* Parameter i as a 32-byte id (64 hex digits); LB_EMALFORMED naming `what` otherwise. */
int api_param_hash(const struct api_params *p, size_t i, const char *what,
		   uint8_t id[LB_HASH_LEN], struct lb_errmsg *em);
/* Bytes as a JSON hex string (NULL when out of memory). */
json_t *api_hex_json(const uint8_t *p, size_t n);

/* The txs of a POST /v1/txs body, decoded from hex. */
struct api_txs {
	bool single;           /* body was {"tx":"<hex>"} (answer with one result) */
	size_t n;              /* txs in the request */
	const uint8_t **raws;  /* tx bytes: into the body (fast path) or into arena */
	size_t *lens;          /* their lengths */
	int *codes;            /* LB_OK, or why this item could not be decoded from hex */
	uint8_t *arena;        /* decoded bytes when the slow path was taken (owned) */
};

/* Parse a POST /v1/txs body. Accepted shapes: {"tx":"<hex>"}, {"txs":["<hex>",...]} and a
 * bare array ["<hex>",...]. The common case (plain strings, no escapes) is scanned without
 * a JSON tree and each hex string is decoded over itself inside body, so body must stay
 * alive and unchanged while t is used. Anything else goes through jansson; a JSON syntax
 * error gives LB_ESYNTAX with its line, column and byte position. An item that is not hex
 * gets its own code in t->codes (the request as a whole still succeeds). At most max_batch
 * items (LB_ETOOBIG). */
int api_txs_parse(struct api_txs *t, uint8_t *body, size_t len, size_t max_batch,
		  struct lb_errmsg *em);
void api_txs_release(struct api_txs *t);

/* The node's catalogue of its directory chain (directory.c), derived from applied blocks. */
struct api_directory;
struct lb_ledger;
struct lb_search_options;
int api_directory_open(struct api_directory **out, const char *path, struct lb_errmsg *em);
void api_directory_close(struct api_directory *d);
/* Replay the directory blocks not yet seen, then search (lb_catalog_search) and answer
 * {"query","expanded","directory_height","results":[{"id","name","score"}]} (*out new). */
int api_directory_search(struct api_directory *d, struct lb_ledger *l, const char *query,
			 const struct lb_search_options *o, json_t **out, struct lb_errmsg *em);
/* One asset: {"asset_id","entry" (public part),"audit","history":[its data.* txs, oldest
 * first],"attributes":{"sender","entry_version","private_tx"}}; LB_ENOTFOUND if not listed. */
int api_directory_asset(struct api_directory *d, struct lb_ledger *l, const char *asset_hex,
			json_t **out, struct lb_errmsg *em);

/* What a handler may set besides its JSON (the FHIR routes): another content type, a body
 * that is not JSON (raw, malloc'd, freed by the server) and a Location header. */
struct api_reply {
	const char *content_type;          /* static string, or NULL for application/json */
	char *raw;                         /* body sent as is instead of *out, or NULL */
	size_t raw_len;
	char location[256];                /* Location / Content-Location header, or "" */
	/* A body produced as the client reads it, instead of raw or *out: MHD's content reader
	 * (returns bytes written into buf, or MHD_CONTENT_READER_END_OF_STREAM), and what frees
	 * stream_cls once the reply is done (the server owns it from the handler's return). */
	ssize_t (*stream)(void *cls, uint64_t pos, char *buf, size_t max);
	void *stream_cls;
	void (*stream_free)(void *cls);
};

/* A request as seen by route handlers that live outside server.c (one file per area, such
 * as routes_exchange.c): everything borrowed for the duration of the call. */
struct api_call {
	struct lb_ledger *ledger;          /* the node's ledger */
	const char *home;                  /* node home, or NULL */
	const struct api_params *params;   /* path parameters */
	const uint8_t *body;               /* request body (NUL-terminated), or NULL */
	size_t body_len;
	const char *(*arg)(void *conn, const char *name); /* query-string argument or NULL */
	void *conn;                        /* for arg (the MHD connection) */
	const char *method;                /* "GET", "POST", ... */
	struct api_reply *reply;           /* optional reply settings */
	/* Submit one signed tx as POST /v1/txs does (ordering service included): LB_OK with
	 * res filled (res->code: admitted or why not), or why it could not be tried. */
	int (*submit)(void *api, const uint8_t *raw, size_t len, struct lb_submit_result *res,
		      struct lb_errmsg *em);
	void *api;                         /* for submit */
};
/* LB_OK with *out (new reference) and *status (preset to 200), or an lb_err with em's text. */
typedef int (*api_ext_fn)(const struct api_call *c, json_t **out, unsigned *status,
			  struct lb_errmsg *em);

/* routes_knowledge.c (docs/api.md, "Knowledge contracts") */
int api_kn_convert(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_kn_check(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_kn_step(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);

/* routes_compute.c (docs/api.md, "On-chain sandbox") */
int api_compute_run(const struct api_call *c, json_t **out, unsigned *status,
		    struct lb_errmsg *em);
int api_compute_program(const struct api_call *c, json_t **out, unsigned *status,
			struct lb_errmsg *em);

/* routes_market.c (docs/api.md, "Market") */
int api_market(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_market_splits(const struct api_call *c, json_t **out, unsigned *status,
		      struct lb_errmsg *em);
int api_market_cited(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em);
int api_market_ranking(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em);
/* cohort studies (routes_cohort.c) */
int api_cohort(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_cohort_committee(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_cohort_patient(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);

/* routes_consortium.c (docs/consortium.md, "Membership procedures") */
int api_certificate(const struct api_call *c, json_t **out, unsigned *status,
		    struct lb_errmsg *em);
int api_member_removal(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em);

/* routes_exchange.c (docs/api.md, "Exchange") */
int api_xchg_offer(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_xchg_algo(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_xchg_request(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_xchg_escrow(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_xchg_check(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_xchg_run(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_xchg_run_get(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
/* routes_abe.c */
int api_abe_authority(const struct api_call *c, json_t **out, unsigned *status,
		      struct lb_errmsg *em);
int api_abe_seal(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_abe_share(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
/* routes_purge.c */
int api_purge_status(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em);
int api_purge_patient(const struct api_call *c, json_t **out, unsigned *status,
		      struct lb_errmsg *em);
/* LB_EDENIED naming the date and at whose request, when asset was purged or one of the n
 * patients (commitments) had its records in it purged; else LB_OK. */
int api_purge_refusal(struct lb_ledger *l, const uint8_t asset[32], const uint8_t *pats,
		      size_t n, struct lb_errmsg *em);
int api_xchg_consent(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em);
int api_xchg_log(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_xchg_receipt(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_xchg_result_put(const struct api_call *c, json_t **out, unsigned *status,
			struct lb_errmsg *em);
int api_xchg_result_get(const struct api_call *c, json_t **out, unsigned *status,
			struct lb_errmsg *em);
int api_xchg_budget(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_xchg_input_put(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em);
int api_xchg_input_get(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em);
int api_xchg_audit(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_xchg_audits(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_xchg_audit_run(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em);

/* routes_store.c (docs/api.md, "Knowledge store") */
/* A whole-number query argument `name` from 0 to max into *out (left as it is when absent);
 * LB_EMALFORMED naming it otherwise. */
int api_arg_size(const struct api_call *c, const char *name, size_t max, size_t *out,
		 struct lb_errmsg *em);
int api_store_listings(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em);
int api_store_listing(const struct api_call *c, json_t **out, unsigned *status,
		      struct lb_errmsg *em);
int api_store_ratings(const struct api_call *c, json_t **out, unsigned *status,
		      struct lb_errmsg *em);
int api_store_family(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em);
int api_store_template(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em);
int api_store_wallet(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em);
int api_store_search(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em);

/* routes_referral.c (docs/api.md, "Referrals") */
int api_referrals(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_referral(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);

/* routes_study.c (docs/api.md, "Studies across nodes") */
int api_study_step(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_surgery_alarms(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em);
int api_surgery_funnel(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em);
int api_surgery_rank(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em);

/* routes_fhir.c (docs/fhir.md): every /fhir path; errors are OperationOutcomes */
int api_fhir(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);

/* routes_monitor.c (docs/api.md, "Chronic-disease monitoring") */
int api_mon_provider(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em);
int api_mon_enrol(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_mon_readings(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em);
int api_mon_outbox(const struct api_call *c, json_t **out, unsigned *status,
		   struct lb_errmsg *em);
int api_mon_ack(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_mon_status(const struct api_call *c, json_t **out, unsigned *status,
		   struct lb_errmsg *em);
int api_mon_settle(const struct api_call *c, json_t **out, unsigned *status,
		   struct lb_errmsg *em);

/* web.c: the web app's files (docs/web.md). One embedded file: its URL path ("/index.html",
 * "/assets/app-1a2b.js"), content type, bytes, gzip copy (NULL when not smaller) and ETag
 * (quoted). The table is generated at build time (build/web/gen/web_assets.c). */
struct api_web_asset {
	const char *path;
	const char *type;
	const unsigned char *data;
	size_t len;
	const unsigned char *gz;
	size_t gz_len;
	const char *etag;
};
/* The embedded files and their count; a build without the app returns none. */
const struct api_web_asset *api_web_table(size_t *n);
/* api_web_serve (web.h) answers paths outside /v1/ with these files. */

/* routes_web.c (docs/api.md, "For the web app") */
int api_web_blocks(const struct api_call *c, json_t **out, unsigned *status,
		   struct lb_errmsg *em);
int api_web_account_txs(const struct api_call *c, json_t **out, unsigned *status,
			struct lb_errmsg *em);

/* routes_insurance.c (docs/api.md, "Insurance") */
int api_ins_policy(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_ins_claim(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em);
int api_ins_auto_claims(const struct api_call *c, json_t **out, unsigned *status,
			struct lb_errmsg *em);
int api_ins_coverage(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em);
int api_ins_adjudicate(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em);

#endif
