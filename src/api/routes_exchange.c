/*
 * The exchange's API routes (docs/api.md, "Exchange"): views of offers, algorithms,
 * requests and escrows, the dry-run check of a run, the audit log of an asset, patient or
 * request, receipts (a tx's bytes with its proof anchored in another chain) for cross-chain
 * citations, and the store of sealed results the executor leaves for the user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>

#include "api/api_int.h"
#include "leben/data_purge.h"
#include "leben/exchange.h"
#include "leben/tx.h"
#include "leben/api.h"

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
/* Refuse a run on purged data: the request's asset purged, or (without plan) patients whose
 * records were purged from it. With plan (a check that leaves out the patients it may not
 * use), those patients are left out instead: added to "excluded" and listed under "purged",
 * so that the run reads none of their rows. */
static int purged_request(struct lb_ledger *l, const uint8_t req[LB_HASH_LEN],
			  const uint8_t *pats, size_t n, json_t *plan, struct lb_errmsg *em)
{
	json_t *r = NULL;
	uint8_t asset[32];
	struct lb_errmsg e;
	if (lb_xchg_request_json(l, req, &r, &e))
		return LB_OK;
	int rc = LB_OK;
	if (!lb_hex_decode(asset, 32, json_string_value(json_object_get(r, "asset"))))
		rc = api_purge_refusal(l, asset, plan ? NULL : pats, plan ? 0 : n, em);
	json_decref(r);
	if (rc || !plan || !n)
		return rc;
	bool whole = false;
	uint64_t when = 0;
	json_t *gone = NULL, *left = json_array();
	lb_purge_of(l, asset, &whole, &when, &gone);
	json_t *ex = json_object_get(plan, "excluded");
	for (size_t i = 0; i < n && json_array_size(gone); i++) {
		char h[65];
		lb_hex_encode(h, pats + i * 32, 32);
		bool hit = false, already = false;
		size_t k;
		json_t *v;
		json_array_foreach(gone, k, v)
			hit |= !strcmp(json_string_value(v), h);
		json_array_foreach(ex, k, v)
			already |= !strcmp(json_string_value(v), h);
		if (!hit)
			continue;
		json_array_append_new(left, json_string(h));
		if (!already && json_is_array(ex)) {
			json_array_append_new(ex, json_string(h));
			json_int_t used = json_integer_value(json_object_get(plan, "patients_used"));
			if (used > 0)
				json_object_set_new(plan, "patients_used", json_integer(used - 1));
		}
	}
	json_object_set_new(plan, "purged", left);
	json_decref(gone);
	return LB_OK;
}

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
	bool leave_out = json_is_true(json_object_get(b, "exclude_revoked"));
	if (!(rc = purged_request(c->ledger, req, pats, leave_out ? 0 : n, NULL, em)) &&
	    !(rc = lb_xchg_check_json(c->ledger, req, exec, pats, n, leave_out, out, em)) &&
	    leave_out && (rc = purged_request(c->ledger, req, pats, n, *out, em))) {
		json_decref(*out);
		*out = NULL;
	}
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

/* The hex string at key of b, decoded (allocated, at most max bytes); absent or "" = none. */
static int opt_hex(json_t *b, const char *key, size_t max, uint8_t **out, size_t *len)
{
	const char *h = json_string_value(json_object_get(b, key));
	*out = NULL;
	*len = 0;
	if (!h || !*h)
		return json_object_get(b, key) && !h ? LB_EMALFORMED : LB_OK;
	return lb_hex_decode_alloc(h, out, len, max) ? LB_EMALFORMED : LB_OK;
}

/* What the executor signs when it leaves a run's sealed files (docs/api.md):
 * H("LEBEN-sealed-result-v2" || request || H(sealed) || H(reason) || H(owner_audit)), each H
 * over the bytes given ("" when absent). */
static void result_digest(uint8_t out[LB_HASH_LEN], const uint8_t req[LB_HASH_LEN],
			  const uint8_t *sealed, size_t slen, const uint8_t *reason, size_t rlen,
			  const uint8_t *audit, size_t alen)
{
	uint8_t h[3][LB_HASH_LEN];
	struct lb_hasher hs;
	lb_hash(h[0], sealed ? sealed : (const uint8_t *)"", slen);
	lb_hash(h[1], reason ? reason : (const uint8_t *)"", rlen);
	lb_hash(h[2], audit ? audit : (const uint8_t *)"", alen);
	lb_hasher_init(&hs, "LEBEN-sealed-result-v2");
	lb_hasher_update(&hs, req, LB_HASH_LEN);
	lb_hasher_update(&hs, h, sizeof h);
	lb_hasher_final(&hs, out);
}

/* POST /v1/exchange/results/{request} {"sealed": HEX, "reason": HEX, "owner_audit": HEX,
 * "pk": HEX, "sig": HEX}: keep what a run leaves for its user and its owner — the released
 * result sealed to the user (none when withheld or failed), the full reason sealed to the user
 * and the owner, and the owner's audit record (the noise secret) sealed to the owner. Only for
 * a request that is running or done, and only from its executor (sig: Ed25519 of the digest
 * above). */
int api_xchg_result_put(const struct api_call *c, json_t **out, unsigned *status,
			struct lb_errmsg *em)
{
	uint8_t req[LB_HASH_LEN], *sealed = NULL, *reason = NULL, *audit = NULL;
	size_t slen = 0, rlen = 0, alen = 0;
	char path[4300];
	json_t *r = NULL, *b = NULL, *keep = NULL;
	json_error_t jerr;
	char *text = NULL;
	int rc = param_id(c, 0, "a request id", req, em);
	if (rc || (rc = lb_xchg_request_json(c->ledger, req, &r, em)))
		goto out;
	const char *st = json_string_value(json_object_get(r, "status"));
	if (!st || (strcmp(st, "running") && strcmp(st, "done"))) {
		rc = lb_errf(em, LB_EINVALID, "request is %s: sealed results are kept only for a run",
			     st ? st : "?");
		goto out;
	}
	b = c->body ? json_loadb((const char *)c->body, c->body_len, 0, &jerr) : NULL;
	if (!json_is_object(b) || opt_hex(b, "sealed", SEALED_MAX, &sealed, &slen) ||
	    opt_hex(b, "reason", SEALED_MAX, &reason, &rlen) ||
	    opt_hex(b, "owner_audit", SEALED_MAX, &audit, &alen) || (!sealed && !reason)) {
		rc = lb_errf(em, LB_EMALFORMED,
			     "the body must be {\"sealed\": HEX, \"reason\": HEX, \"owner_audit\": HEX, "
			     "\"pk\": HEX, \"sig\": HEX} (sealed or reason given) with at most %u bytes "
			     "each",
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
	result_digest(msg, req, sealed, slen, reason, rlen, audit, alen);
	if (!lb_sig_is_valid(sig, msg, sizeof msg, pk)) {
		rc = lb_errf(em, LB_EBADSIG, "the signature of the sealed result does not verify");
		goto out;
	}
	keep = json_object();
	if (sealed)
		json_object_set_new(keep, "sealed", api_hex_json(sealed, slen));
	if (reason)
		json_object_set_new(keep, "reason", api_hex_json(reason, rlen));
	if (audit)
		json_object_set_new(keep, "owner_audit", api_hex_json(audit, alen));
	if (!(text = json_dumps(keep, JSON_COMPACT | JSON_SORT_KEYS))) {
		rc = lb_errf(em, LB_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = store_path(c, "results", ".json", req, path, sizeof path, true, em)) ||
	    (rc = lb_file_write(path, text, strlen(text), 0600, em)))
		goto out;
	*out = json_pack("{s:I,s:I,s:I}", "bytes", (json_int_t)slen, "reason_bytes",
			 (json_int_t)rlen, "owner_audit_bytes", (json_int_t)alen);
	*status = 201;
out:
	free(text); /* jansson's allocation */
	lb_free(sealed);
	lb_free(reason);
	lb_free(audit);
	json_decref(keep);
	json_decref(b);
	json_decref(r);
	return rc;
}

/* GET /v1/exchange/results/{request}: what the executor left ({"sealed", "bytes", "reason",
 * "owner_audit"}, hex; each opens only with its recipients' keys). */
int api_xchg_result_get(const struct api_call *c, json_t **out, unsigned *status,
			struct lb_errmsg *em)
{
	uint8_t *data = NULL;
	size_t len;
	json_error_t jerr;
	int rc = store_read(c, "results", ".json", 4 * SEALED_MAX + 4096,
			    "no sealed result for this request on this node (the run has not "
			    "recorded one yet)",
			    &data, &len, em);
	if (rc)
		return rc;
	*out = json_loadb((const char *)data, len, 0, &jerr);
	lb_free(data);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return lb_errf(em, LB_ECORRUPT, "the stored sealed result is unreadable");
	}
	const char *sh = json_string_value(json_object_get(*out, "sealed"));
	json_object_set_new(*out, "bytes", json_integer(sh ? (json_int_t)strlen(sh) / 2 : 0));
	return LB_OK;
}

/* GET /v1/exchange/budget/{subject}[/{asset}]: the privacy budget the business chain has
 * charged to a user (lb1... address, with the asset: its row on that asset) or to a patient
 * (its bound consent key's lb1... address, or its 64-hex id). */
int api_xchg_budget(const struct api_call *c, json_t **out, unsigned *status,
		    struct lb_errmsg *em)
{
	char sub[LB_ADDR_TEXT_LEN + 72];
	uint8_t key[LB_HASH_LEN], asset[LB_HASH_LEN];
	size_t klen;
	int rc;
	if (api_param_copy(c->params, 0, sub, sizeof sub))
		return lb_errf(em, LB_EMALFORMED, "the subject is too long: give an lb1... address or a "
						  "patient id (64 hex digits)");
	if (!lb_hex_decode(key, LB_HASH_LEN, sub))
		klen = LB_HASH_LEN;
	else if (!lb_addr_decode(key, sub, NULL))
		klen = LB_ADDR_LEN;
	else
		return lb_errf(em, LB_EMALFORMED,
			       "'%.80s' is neither an lb1... address nor a patient id (64 hex digits)",
			       sub);
	if (c->params->n > 1 && (rc = param_id(c, 1, "an asset id", asset, em)))
		return rc;
	return lb_xchg_budget_json(c->ledger, key, klen, c->params->n > 1 ? asset : NULL, out, em);
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
	if ((rc = purged_request(c->ledger, req, pats, n, NULL, em)))
		goto out;
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

/* ---- audits by audit nodes (docs/data.md, "Audits by audit nodes") ------------------------------ */

/* GET /v1/exchange/audits/{asset}: the audit that counts for an offered asset. */
int api_xchg_audit(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	return id_view(c, out, em, "an asset id", lb_xchg_audit_json);
}

/* GET /v1/exchange/audits: every offered asset's audit and the audits due. */
int api_xchg_audits(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	return lb_xchg_audits_json(c->ledger, out, em);
}

/* POST /v1/exchange/audits/{asset}/run, body {"pk": HEX, "time_ms": N, "sig": HEX}: at the
 * owner's node, the audit node asked by audit.request gets the report of the table audit run
 * in this node's sandbox, sealed to its key: {"asset", "sealed": HEX}. */
int api_xchg_audit_run(const struct api_call *c, json_t **out, unsigned *status,
		       struct lb_errmsg *em)
{
	uint8_t asset[LB_HASH_LEN], pk[LB_PUBKEY_LEN], sig[LB_SIG_LEN], *sealed = NULL;
	size_t slen = 0;
	json_error_t jerr;
	int rc = param_id(c, 0, "an asset id", asset, em);
	if (rc)
		return rc;
	json_t *b = c->body ? json_loadb((const char *)c->body, c->body_len, 0, &jerr) : NULL;
	json_t *t = json_object_get(b, "time_ms");
	if (!json_is_object(b) || !hex_field(b, "pk", pk, sizeof pk) ||
	    !hex_field(b, "sig", sig, sizeof sig) || !json_is_integer(t) || json_integer_value(t) < 0) {
		json_decref(b);
		return lb_errf(em, LB_EMALFORMED,
			       "the body must be {\"pk\": HEX (the audit node's Ed25519 key), "
			       "\"time_ms\": N, \"sig\": HEX (its signature of "
			       "H(\"LEBEN-audit-run-v1\" || asset || time_ms))}");
	}
	rc = lb_xchg_audit_run(c->ledger, c->home, asset, pk, (uint64_t)json_integer_value(t),
			       lb_now_ms(), sig, &sealed, &slen, em);
	json_decref(b);
	if (rc)
		return rc;
	char *hex = lb_malloc(2 * slen + 1);
	if (hex) {
		lb_hex_encode(hex, sealed, slen);
		char ah[2 * LB_HASH_LEN + 1];
		lb_hex_encode(ah, asset, LB_HASH_LEN);
		*out = json_pack("{s:s,s:s}", "asset", ah, "sealed", hex);
	}
	lb_free(hex);
	lb_free(sealed);
	return *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}

/* ---- the executor's run, started over the API ------------------------------------------------- */

static lb_api_xchg_runner xchg_runner;
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER; /* one run at a time: one key */

/* The latest runs asked for (by escrow), kept in memory for GET /v1/exchange/runs/{escrow}:
 * a run is never done on an API thread (the run itself calls this node's API back). */
#define RUN_JOBS 64
struct run_job {
	char escrow[2 * LB_HASH_LEN + 1], request[2 * LB_HASH_LEN + 1];
	char data[4300];
	int state; /* 0 free, 1 running, 2 done, 3 failed */
	json_t *result;
	char error[512];
};
static struct run_job jobs[RUN_JOBS];
static size_t next_job;
static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const job_states[] = {"?", "running", "done", "failed"};

void lb_api_set_xchg_runner(lb_api_xchg_runner fn)
{
	xchg_runner = fn;
}

static struct run_job *job_find(const char *escrow)
{
	for (size_t i = 0; i < RUN_JOBS; i++)
		if (jobs[i].state && !strcmp(jobs[i].escrow, escrow))
			return &jobs[i];
	return NULL;
}

static json_t *job_json(const struct run_job *j)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "escrow", j->escrow, "request", j->request, "status",
			      job_states[j->state]);
	if (o && j->state == 2 && j->result)
		json_object_set(o, "run", j->result);
	if (o && j->state == 3)
		json_object_set_new(o, "error", json_string(j->error));
	return o;
}

static void *run_thread(void *arg)
{
	struct run_job *j = arg, copy;
	json_t *res = NULL;
	struct lb_errmsg em;
	lb_errclear(&em);
	pthread_mutex_lock(&jobs_lock);
	copy = *j;
	pthread_mutex_unlock(&jobs_lock);
	pthread_mutex_lock(&run_lock);
	int rc = xchg_runner(copy.request, copy.escrow, copy.data, &res, &em);
	pthread_mutex_unlock(&run_lock);
	pthread_mutex_lock(&jobs_lock);
	if (!strcmp(j->escrow, copy.escrow)) { /* not reused meanwhile */
		j->state = rc ? 3 : 2;
		j->result = rc ? NULL : res;
		snprintf(j->error, sizeof j->error, "%s", rc ? em.text : "");
		res = NULL;
	}
	pthread_mutex_unlock(&jobs_lock);
	json_decref(res);
	return NULL;
}

/* POST /v1/exchange/runs {"request", "escrow"}: this node runs the request as the executor
 * the escrow names, when that is this node's key, over the owner's table it keeps at
 * <home>/exchange/assets/<asset>.csv (what `leben exchange run --from node --data` does; the
 * chain checks the approval, rights, consents and fees again). Anyone may ask: the user paid
 * into the escrow, the owner approved, and the run only follows what the chain allows. The
 * run starts in the background: 202 {"escrow", "request", "status": "running"}; asked again
 * for the same escrow, the run's current state. */
int api_xchg_run(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	json_error_t jerr;
	json_t *b = c->body ? json_loadb((const char *)c->body, c->body_len, 0, &jerr) : NULL;
	json_t *e = NULL, *r = NULL;
	uint8_t req[LB_HASH_LEN], esc[LB_HASH_LEN], pk[LB_PUBKEY_LEN], me[LB_ADDR_LEN];
	char me_text[LB_ADDR_TEXT_LEN + 1], path[4300];
	int rc;
	const char *rq = json_string_value(json_object_get(b, "request"));
	const char *es = json_string_value(json_object_get(b, "escrow"));
	if (!json_is_object(b)) {
		rc = lb_errf(em, LB_ESYNTAX, "the body must be a JSON object {\"request\", \"escrow\"}");
		goto out;
	}
	if (!rq || strlen(rq) != 2 * LB_HASH_LEN || lb_hex_decode(req, LB_HASH_LEN, rq) || !es ||
	    strlen(es) != 2 * LB_HASH_LEN || lb_hex_decode(esc, LB_HASH_LEN, es)) {
		rc = lb_errf(em, LB_EMALFORMED, "\"request\" and \"escrow\" must be ids (64 hex digits "
						"each)");
		goto out;
	}
	if (!xchg_runner || !c->home) {
		rc = lb_errf(em, LB_EUNAVAILABLE, "this node does not run exchange requests from the "
						  "API; its executor runs them with 'leben exchange run'");
		goto out;
	}
	pthread_mutex_lock(&jobs_lock);
	struct run_job *j = job_find(es);
	if (j && j->state == 1) { /* already running: its state */
		*out = job_json(j);
		pthread_mutex_unlock(&jobs_lock);
		rc = *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
		*status = 202;
		goto out;
	}
	pthread_mutex_unlock(&jobs_lock);
	if ((rc = lb_xchg_escrow_json(c->ledger, esc, &e, em)) ||
	    (rc = lb_xchg_request_json(c->ledger, req, &r, em)))
		goto out;
	const char *er = json_string_value(json_object_get(e, "request"));
	const char *ex = json_string_value(json_object_get(e, "executor"));
	const char *st = json_string_value(json_object_get(e, "status"));
	const char *asset = json_string_value(json_object_get(r, "asset"));
	if (!er || strcmp(er, rq)) {
		rc = lb_errf(em, LB_EINVALID, "escrow %s pays for request %s, not %s", es, er ? er : "?", rq);
		goto out;
	}
	if ((rc = lb_ledger_node_pk(c->ledger, pk, em)))
		goto out;
	lb_addr_from_pubkey(me, pk);
	lb_addr_encode(me_text, me);
	if (!ex || strcmp(ex, me_text)) {
		rc = lb_errf(em, LB_EDENIED, "escrow %s names executor %s; this node is %s and runs only "
					     "what it is paid to run", es, ex ? ex : "?", me_text);
		goto out;
	}
	if (!st || strcmp(st, "open")) {
		rc = lb_errf(em, LB_EINVALID, "escrow %s is %s, not open: nothing to run for", es,
			     st ? st : "?");
		goto out;
	}
	snprintf(path, sizeof path, "%s/exchange/assets/%s.csv", c->home, asset ? asset : "?");
	struct stat sb;
	if (!asset || stat(path, &sb)) {
		rc = lb_errf(em, LB_EUNAVAILABLE, "this node holds no table for asset %s (the owner "
						  "places it at exchange/assets/%s.csv in the node's home)",
			     asset ? asset : "?", asset ? asset : "?");
		goto out;
	}
	/* a slot: this escrow's finished one, else the oldest finished, never a running one */
	pthread_mutex_lock(&jobs_lock);
	j = job_find(es);
	if (j && j->state == 1) {
		*out = job_json(j);
	} else {
		for (size_t i = 0; !j && i < RUN_JOBS; i++) {
			struct run_job *k = &jobs[(next_job + i) % RUN_JOBS];
			if (k->state != 1) {
				j = k;
				next_job = (next_job + i + 1) % RUN_JOBS;
			}
		}
		if (j) {
			json_decref(j->result);
			memset(j, 0, sizeof *j);
			snprintf(j->escrow, sizeof j->escrow, "%s", es);
			snprintf(j->request, sizeof j->request, "%s", rq);
			snprintf(j->data, sizeof j->data, "%s", path);
			j->state = 1;
			pthread_t t;
			pthread_attr_t at;
			pthread_attr_init(&at);
			pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
			if (pthread_create(&t, &at, run_thread, j)) {
				j->state = 0;
				j = NULL;
			}
			pthread_attr_destroy(&at);
			*out = j ? job_json(j) : NULL;
		}
	}
	pthread_mutex_unlock(&jobs_lock);
	if (!j)
		rc = lb_errf(em, LB_EUNAVAILABLE, "this node is running %d requests already; ask again "
						  "later", RUN_JOBS);
	else
		rc = *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
	*status = 202;
out:
	json_decref(b);
	json_decref(e);
	json_decref(r);
	return rc;
}

/* GET /v1/exchange/runs/{escrow}: the state of a run asked of this node since it started:
 * {"escrow", "request", "status": "running"|"done"|"failed", "run" (done: what `leben exchange
 * run --json` prints) or "error" (failed: why)}. */
int api_xchg_run_get(const struct api_call *c, json_t **out, unsigned *status, struct lb_errmsg *em)
{
	uint8_t esc[LB_HASH_LEN];
	char hex[2 * LB_HASH_LEN + 1];
	int rc = param_id(c, 0, "an escrow id", esc, em);
	if (rc)
		return rc;
	lb_hex_encode(hex, esc, LB_HASH_LEN);
	pthread_mutex_lock(&jobs_lock);
	struct run_job *j = job_find(hex);
	*out = j ? job_json(j) : NULL;
	pthread_mutex_unlock(&jobs_lock);
	if (!j)
		return lb_errf(em, LB_ENOTFOUND, "this node was not asked to run escrow %s since it "
						 "started (POST /v1/exchange/runs)", hex);
	return *out ? LB_OK : lb_errf(em, LB_ENOMEM, "out of memory");
}
