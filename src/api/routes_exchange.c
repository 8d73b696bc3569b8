/*
 * The exchange's API routes (docs/api.md, "Exchange"): views of offers, algorithms,
 * requests and escrows, the dry-run check of a run, the audit log of an asset, patient or
 * request, receipts (a tx's bytes with its proof anchored in another chain) for cross-chain
 * citations, and the store of sealed results the executor leaves for the user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api_int.h"
#include "leben/exchange.h"
#include "leben/tx.h"

#define SEALED_MAX (4u << 20) /* bytes of a sealed result kept for the user */

/* Path parameter i as a 32-byte id (64 hex digits). */
static int param_id(const struct api_call *c, size_t i, const char *what, uint8_t id[LB_HASH_LEN],
		    struct lb_errmsg *em)
{
	char hex[2 * LB_HASH_LEN + 2];
	if (api_param_copy(c->params, i, hex, sizeof hex) || lb_hex_decode(id, LB_HASH_LEN, hex))
		return lb_errf(em, LB_EMALFORMED, "'%.*s' is not %s: expected 64 hex digits",
			       (int)(c->params->len[i] > 80 ? 80 : c->params->len[i]),
			       c->params->val[i], what);
	return LB_OK;
}

/* GET of one exchange object by the 32-byte id in the path. */
static int id_view(const struct api_call *c, json_t **out, struct lb_errmsg *em, const char *what,
		   int (*view)(struct lb_ledger *, const uint8_t *, json_t **, struct lb_errmsg *))
{
	uint8_t id[LB_HASH_LEN];
	int rc = param_id(c, 0, what, id, em);
	return rc ? rc : view(c->ledger, id, out, em);
}

int api_xchg_offer(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	return id_view(c, out, em, "an asset id", lb_xchg_offer_json);
}

int api_xchg_algo(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	return id_view(c, out, em, "an algorithm hash", lb_xchg_algo_json);
}

int api_xchg_request(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	return id_view(c, out, em, "a request id", lb_xchg_request_json);
}

int api_xchg_escrow(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	return id_view(c, out, em, "an escrow id", lb_xchg_escrow_json);
}

/* GET /v1/exchange/consents/{asset}/{patient}: the registered key and consent of a patient
 * (by commitment). */
int api_xchg_consent(const struct api_call *c, json_t **out, unsigned *status,
		     struct lb_errmsg *em)
{
	uint8_t asset[LB_HASH_LEN], patient[LB_HASH_LEN];
	int rc = param_id(c, 0, "an asset id", asset, em);
	if (!rc)
		rc = param_id(c, 1, "a patient commitment", patient, em);
	return rc ? rc : lb_xchg_consent_json(c->ledger, asset, patient, out, em);
}

int api_xchg_log(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	return id_view(c, out, em, "an asset, patient or request id", lb_xchg_log_json);
}

/* Body {"request":HEX, "executor":"lb1...", "patients":[HEX,...], "exclude_revoked":BOOL} */
int api_xchg_check(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	json_error_t jerr;
	json_t *b = c->body ? json_loadb((const char *)c->body, c->body_len, 0, &jerr) : NULL;
	uint8_t req[LB_HASH_LEN], exec[LB_ADDR_LEN], *pats = NULL;
	int rc;
	if (!json_is_object(b)) {
		rc = lb_errf(em, LB_ESYNTAX, "the body must be a JSON object {\"request\", \"executor\", "
					     "\"patients\"}");
		goto out;
	}
	const char *rq = json_string_value(json_object_get(b, "request"));
	const char *ex = json_string_value(json_object_get(b, "executor"));
	json_t *pa = json_object_get(b, "patients");
	if (!rq || lb_hex_decode(req, LB_HASH_LEN, rq)) {
		rc = lb_errf(em, LB_EMALFORMED, "\"request\" must be the request id (64 hex digits)");
		goto out;
	}
	if (!ex || lb_addr_decode(exec, ex, em)) {
		rc = lb_errf(em, LB_EMALFORMED, "\"executor\" must be an lb1... address");
		goto out;
	}
	size_t n = json_array_size(pa);
	if (pa && !json_is_array(pa)) {
		rc = lb_errf(em, LB_EMALFORMED, "\"patients\" must be an array of patient ids");
		goto out;
	}
	if (n > LB_XCHG_PATIENTS_MAX) {
		rc = lb_errf(em, LB_ETOOBIG, "at most %d patients per run", LB_XCHG_PATIENTS_MAX);
		goto out;
	}
	pats = lb_malloc(n ? n * LB_HASH_LEN : 1);
	if (!pats) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *h = json_string_value(json_array_get(pa, i));
		if (!h || lb_hex_decode(pats + i * LB_HASH_LEN, LB_HASH_LEN, h)) {
			rc = lb_errf(em, LB_EMALFORMED, "patients[%zu] is not a patient id (64 hex digits)",
				     i);
			goto out;
		}
	}
	rc = lb_xchg_check_json(c->ledger, req, exec, pats, n,
				json_is_true(json_object_get(b, "exclude_revoked")), out, em);
out:
	lb_free(pats);
	json_decref(b);
	return rc;
}

/* GET /v1/exchange/receipts/{id}?anchor=CHAIN: the tx's signed bytes and its proof. */
int api_xchg_receipt(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	uint8_t id[LB_HASH_LEN], *raw = NULL;
	size_t len = 0;
	int chain, anchor = -1;
	int rc = param_id(c, 0, "a tx id", id, em);
	if (rc)
		return rc;
	const char *an = c->arg(c->conn, "anchor");
	if (an && *an && (anchor = lb_chain_parse(an)) < 0)
		return lb_errf(em, LB_EMALFORMED,
			       "anchor=%.40s: not a chain; use settlement, directory or business", an);
	if ((rc = lb_ledger_tx_raw(c->ledger, id, &chain, &raw, &len)))
		return lb_errf(em, rc, "tx %.64s is not committed on this node (yet)",
			       c->params->val[0]);
	struct lb_buf b;
	lb_buf_init(&b, 1u << 20);
	rc = lb_ledger_proof(c->ledger, id, anchor, &b, em);
	if (!rc) {
		*out = json_pack("{s:s,s:o,s:o}", "chain", lb_chain_name(chain), "tx", api_hex_json(raw, len),
				 "proof", api_hex_json(b.data, b.len));
		if (!*out)
			rc = lb_errf(em, LB_ENOMEM, "out of memory");
	}
	lb_buf_release(&b);
	lb_free(raw);
	return rc;
}

/* <home>/exchange/<dir>/<request hex><ext>: the off-chain files of the exchange (sealed
 * results for users, inputs delivered to executors). */
static int store_path(const struct api_call *c, const char *dir, const char *ext,
		      const uint8_t req[LB_HASH_LEN], char *path, size_t n, bool mkdir_it,
		      struct lb_errmsg *em)
{
	char hex[2 * LB_HASH_LEN + 1];
	if (!c->home)
		return lb_errf(em, LB_EUNAVAILABLE, "this node keeps no exchange %s (no home)", dir);
	snprintf(path, n, "%s/exchange/%s", c->home, dir);
	if (mkdir_it && lb_mkdirs(path, 0700, em))
		return LB_EIO;
	lb_hex_encode(hex, req, LB_HASH_LEN);
	snprintf(path, n, "%s/exchange/%s/%s%s", c->home, dir, hex, ext);
	return LB_OK;
}

/* The stored file of the request in the path (GET): LB_ENOTFOUND with missing as the text. */
static int store_read(const struct api_call *c, const char *dir, const char *ext, size_t max,
		      const char *missing, uint8_t **data, size_t *len, struct lb_errmsg *em)
{
	uint8_t req[LB_HASH_LEN];
	char path[4300];
	int rc = param_id(c, 0, "a request id", req, em);
	if (rc || (rc = store_path(c, dir, ext, req, path, sizeof path, false, em)))
		return rc;
	rc = lb_file_read(path, max, data, len, em);
	return rc == LB_ENOTFOUND ? lb_errf(em, LB_ENOTFOUND, "%s", missing) : rc;
}

/* POST /v1/exchange/results/{request} {"sealed": HEX, "pk": HEX, "sig": HEX}: keep the
 * envelope for the user. Only for a request that is running or done, and only from its
 * executor: sig is the executor's Ed25519 signature of
 * H("LEBEN-sealed-result-v1" || request id || sealed bytes). */
int api_xchg_result_put(const struct api_call *c, json_t **out, unsigned *status,
			struct lb_errmsg *em)
{
	uint8_t req[LB_HASH_LEN], *sealed = NULL;
	size_t slen;
	char path[4300];
	json_t *r = NULL, *b = NULL;
	json_error_t jerr;
	int rc = param_id(c, 0, "a request id", req, em);
	if (rc || (rc = lb_xchg_request_json(c->ledger, req, &r, em)))
		goto out;
	const char *st = json_string_value(json_object_get(r, "status"));
	if (!st || (strcmp(st, "running") && strcmp(st, "done"))) {
		rc = lb_errf(em, LB_EINVALID, "request is %s: a sealed result is kept only for a run",
			     st ? st : "?");
		goto out;
	}
	b = c->body ? json_loadb((const char *)c->body, c->body_len, 0, &jerr) : NULL;
	const char *hx = json_string_value(json_object_get(b, "sealed"));
	if (!hx || lb_hex_decode_alloc(hx, &sealed, &slen, SEALED_MAX)) {
		rc = lb_errf(em, LB_EMALFORMED,
			     "the body must be {\"sealed\": HEX, \"pk\": HEX, \"sig\": HEX} with at most "
			     "%u sealed bytes",
			     SEALED_MAX);
		goto out;
	}
	uint8_t pk[LB_PUBKEY_LEN], sig[LB_SIG_LEN], msg[LB_HASH_LEN], addr[LB_ADDR_LEN];
	const char *pkh = json_string_value(json_object_get(b, "pk"));
	const char *sgh = json_string_value(json_object_get(b, "sig"));
	const char *exe = json_string_value(json_object_get(r, "executor"));
	char at[LB_ADDR_TEXT_LEN + 1];
	if (!pkh || !sgh || lb_hex_decode(pk, sizeof pk, pkh) || lb_hex_decode(sig, sizeof sig, sgh)) {
		rc = lb_errf(em, LB_EMALFORMED, "\"pk\" (32 bytes) and \"sig\" (64 bytes) must be hex");
		goto out;
	}
	lb_addr_from_pubkey(addr, pk);
	lb_addr_encode(at, addr);
	if (!exe || strcmp(exe, at)) {
		rc = lb_errf(em, LB_EUNAUTH, "only the request's executor (%s) may leave its result",
			     exe ? exe : "none yet");
		goto out;
	}
	struct lb_hasher hs;
	lb_hasher_init(&hs, "LEBEN-sealed-result-v1");
	lb_hasher_update(&hs, req, LB_HASH_LEN);
	lb_hasher_update(&hs, sealed, slen);
	lb_hasher_final(&hs, msg);
	if (!lb_sig_is_valid(sig, msg, sizeof msg, pk)) {
		rc = lb_errf(em, LB_EBADSIG, "the signature of the sealed result does not verify");
		goto out;
	}
	if ((rc = store_path(c, "results", ".lbev", req, path, sizeof path, true, em)) ||
	    (rc = lb_file_write(path, sealed, slen, 0600, em)))
		goto out;
	*out = json_pack("{s:I}", "bytes", (json_int_t)slen);
	*status = 201;
out:
	lb_free(sealed);
	json_decref(b);
	json_decref(r);
	return rc;
}

int api_xchg_result_get(const struct api_call *c, json_t **out, unsigned *status,
			struct lb_errmsg *em)
{
	uint8_t *data = NULL;
	size_t len;
	int rc = store_read(c, "results", ".lbev", SEALED_MAX,
			    "no sealed result for this request on this node (the run has not "
			    "delivered one, or it was withheld)",
			    &data, &len, em);
	if (rc)
		return rc;
	*out = json_pack("{s:o,s:I}", "sealed", api_hex_json(data, len), "bytes", (json_int_t)len);
	lb_free(data);
	return *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}

/* ---- inputs delivered to an executor (off-site and integrated scenarios) --------------------- */

#define INPUT_MAX (48u << 20) /* bytes of a sealed input kept for an executor */

/* The hex string at key of b decoded into exactly n bytes. */
static bool hex_field(json_t *b, const char *key, uint8_t *out, size_t n)
{
	const char *h = json_string_value(json_object_get(b, key));
	return h && !lb_hex_decode(out, n, h);
}

/* POST /v1/exchange/inputs/{request} {"escrow", "executor", "sealed", "salt", "patients",
 * "patient_column", "pk", "sig"}: the asset's owner delivers its data and the asset's salt key
 * (each sealed to the executor; "salt" is the sealed salt key, so that the sandbox can find
 * excluded patients' rows by commitment),
 * for an off-site or integrated run. Accepted only when the chain holds everything the
 * executor's xchg.exec will need (approval, the execution right for this executor, the
 * patients' consents), the escrow is open for this request and executor, and sig is the
 * owner's signature of lb_xchg_input_digest. */
int api_xchg_input_put(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em)
{
	uint8_t req[LB_HASH_LEN], esc[LB_HASH_LEN], exec[LB_ADDR_LEN], pk[LB_PUBKEY_LEN],
		sig[LB_SIG_LEN], msg[LB_HASH_LEN], sender[LB_ADDR_LEN], owner[LB_ADDR_LEN];
	uint8_t *sealed = NULL, *pats = NULL, *salt = NULL;
	size_t slen = 0, n = 0, sslen = 0;
	char path[4300];
	json_t *b = NULL, *plan = NULL, *e = NULL;
	json_error_t jerr;
	int rc = param_id(c, 0, "a request id", req, em);
	if (rc)
		return rc;
	b = c->body ? json_loadb((const char *)c->body, c->body_len, 0, &jerr) : NULL;
	json_t *pa = json_object_get(b, "patients");
	const char *col = json_string_value(json_object_get(b, "patient_column"));
	const char *ex = json_string_value(json_object_get(b, "executor"));
	if (!json_is_object(b) || !hex_field(b, "escrow", esc, LB_HASH_LEN) || !ex ||
	    lb_addr_decode(exec, ex, NULL) || !hex_field(b, "pk", pk, sizeof pk) ||
	    !hex_field(b, "sig", sig, sizeof sig) || !json_is_array(pa) || !col || !*col ||
	    strlen(col) > 128 ||
	    lb_hex_decode_alloc(json_string_value(json_object_get(b, "sealed")), &sealed, &slen,
				INPUT_MAX) ||
	    lb_hex_decode_alloc(json_string_value(json_object_get(b, "salt")), &salt, &sslen, 4096)) {
		rc = lb_errf(em, LB_EMALFORMED,
			     "the body must be {\"escrow\": HEX, \"executor\": \"lb1...\", \"sealed\": "
			     "HEX (at most %u bytes), \"salt\": HEX (the sealed salt key), "
			     "\"patients\": [HEX, ...], \"patient_column\": TEXT, \"pk\": HEX, "
			     "\"sig\": HEX}",
			     INPUT_MAX);
		goto out;
	}
	if ((n = json_array_size(pa)) > LB_XCHG_PATIENTS_MAX) {
		rc = lb_errf(em, LB_ETOOBIG, "at most %d patients per run", LB_XCHG_PATIENTS_MAX);
		goto out;
	}
	if (!(pats = lb_malloc(n ? n * LB_HASH_LEN : 1))) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *h = json_string_value(json_array_get(pa, i));
		if (!h || lb_hex_decode(pats + i * LB_HASH_LEN, LB_HASH_LEN, h)) {
			rc = lb_errf(em, LB_EMALFORMED, "patients[%zu] is not a patient id (64 hex digits)",
				     i);
			goto out;
		}
	}
	lb_xchg_input_digest(msg, req, esc, exec, sealed, slen, pats, n, col, salt, sslen);
	if (!lb_sig_is_valid(sig, msg, sizeof msg, pk)) {
		rc = lb_errf(em, LB_EBADSIG, "the signature of the delivered input does not verify");
		goto out;
	}
	/* the chain: approval, execution right, consents, for this executor */
	if ((rc = lb_xchg_check_json(c->ledger, req, exec, pats, n, true, &plan, em))) {
		lb_errwrap(em, "the chain does not allow this run; input refused");
		goto out;
	}
	lb_addr_from_pubkey(sender, pk);
	const char *ow = json_string_value(json_object_get(json_object_get(plan, "terms"), "owner"));
	if (!ow || lb_addr_decode(owner, ow, NULL) || memcmp(owner, sender, LB_ADDR_LEN)) {
		rc = lb_errf(em, LB_EUNAUTH, "only the asset's owner (%s) may deliver its data",
			     ow ? ow : "?");
		goto out;
	}
	if ((rc = lb_xchg_escrow_json(c->ledger, esc, &e, em)))
		goto out;
	const char *est = json_string_value(json_object_get(e, "status"));
	const char *erq = json_string_value(json_object_get(e, "request"));
	const char *eex = json_string_value(json_object_get(e, "executor"));
	char rqhex[2 * LB_HASH_LEN + 1];
	lb_hex_encode(rqhex, req, LB_HASH_LEN);
	if (!est || strcmp(est, "open") || !erq || strcmp(erq, rqhex) || !eex || strcmp(eex, ex)) {
		rc = lb_errf(em, LB_EINVALID,
			     "escrow is %s for request %.16s... and executor %s; the input needs it open "
			     "for this request and executor %s",
			     est ? est : "?", erq ? erq : "?", eex ? eex : "?", ex);
		goto out;
	}
	json_object_del(b, "pk");
	json_object_del(b, "sig");
	json_object_set_new(b, "owner", json_string(ow));
	json_object_set_new(b, "request", json_string(rqhex));
	char *text = json_dumps(b, JSON_COMPACT);
	if (!text) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	if (!(rc = store_path(c, "inputs", ".json", req, path, sizeof path, true, em)))
		rc = lb_file_write(path, text, strlen(text), 0600, em);
	free(text); /* jansson's allocation */
	if (rc)
		goto out;
	*out = json_pack("{s:I,s:s,s:I}", "bytes", (json_int_t)slen, "executor", ex, "patients",
			 (json_int_t)n);
	*status = 201;
out:
	json_decref(e);
	json_decref(plan);
	json_decref(b);
	lb_free(pats);
	lb_free(sealed);
	lb_free(salt);
	return rc;
}

/* GET /v1/exchange/inputs/{request}: the delivered input as the owner left it (sealed to the
 * executor; only its key opens it, inside the sandbox). */
int api_xchg_input_get(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em)
{
	uint8_t *data = NULL;
	size_t len;
	json_error_t jerr;
	int rc = store_read(c, "inputs", ".json", 2 * INPUT_MAX + 65536,
			    "no input was delivered to this node for this request (the asset's "
			    "owner sends it with 'leben exchange send')",
			    &data, &len, em);
	if (rc)
		return rc;
	*out = json_loadb((const char *)data, len, 0, &jerr);
	lb_free(data);
	return *out ? LB_OK : lb_errf(em, LB_ECORRUPT, "the stored input is unreadable");
}
