/*
 * Pure functions the business chain calls for knowledge contracts: canonical source bytes and
 * hash of a model (`contract.publish`), the verification-report hash, and the canonical
 * encoding, decoding and stateless check of `contract.session` event payloads. No ledger
 * dependency: the tx handlers in kn_tx.c wrap these.
 */
#include <string.h>

#include <sodium.h>

#include "knowledge/kn_int.h"
#include "leben/crypto.h"

static const char DOM_CONTRACT[] = "LEBEN-contract-v1";
static const char DOM_CONTRACT_PJS[] = "LEBEN-contract-proformajs-v1";
static const char DOM_REPORT[] = "LEBEN-contract-report-v1";
static const char DOM_ANSWER[] = "LEBEN-contract-answer-v1";
static const char DOM_TRACE[] = "LEBEN-contract-trace-v1";

int lb_kn_model_canonical(const struct lb_kn_model *m, uint8_t **out, size_t *len)
{
	char *s;
	int rc = lb_kn_model_print(m, LB_KN_FORM_PF, &s, len);
	if (rc == LB_OK)
		*out = (uint8_t *)s;
	return rc;
}

/* Domain-separated hash, as everywhere in LEBEN: the domain with its NUL, then the input. */
static void hash2(const char *dom, const void *p, size_t n, uint8_t out[32])
{
	lb_hash_domain(out, dom, p, n);
}

int lb_kn_model_hash(const struct lb_kn_model *m, uint8_t out[32])
{
	uint8_t *c;
	size_t n;
	int rc = lb_kn_model_canonical(m, &c, &n);
	if (rc != LB_OK)
		return rc;
	hash2(DOM_CONTRACT, c, n, out);
	lb_free(c);
	return LB_OK;
}

/* Canonical source under rules: the .pf print, or the JSON print for PROformajs's. */
static int canonical_rules(const struct lb_kn_model *m, enum lb_kn_rules rules, uint8_t **out,
			   size_t *len)
{
	if (rules != LB_KN_RULES_PROFORMAJS)
		return lb_kn_model_canonical(m, out, len);
	char *s;
	int rc = lb_kn_model_print(m, LB_KN_FORM_JSON, &s, len);
	if (rc == LB_OK)
		*out = (uint8_t *)s;
	return rc;
}

int lb_kn_model_hash_rules(const struct lb_kn_model *m, enum lb_kn_rules rules, uint8_t out[32])
{
	if (rules != LB_KN_RULES_PROFORMAJS)
		return lb_kn_model_hash(m, out);
	uint8_t *c;
	size_t n;
	int rc = canonical_rules(m, rules, &c, &n);
	if (rc != LB_OK)
		return rc;
	hash2(DOM_CONTRACT_PJS, c, n, out);
	lb_free(c);
	return LB_OK;
}

void lb_kn_report_hash(const char *report, size_t len, uint8_t out[32])
{
	hash2(DOM_REPORT, report, len, out);
}

void lb_kn_trace_hash(const char *trace, size_t len, uint8_t out[32])
{
	hash2(DOM_TRACE, trace, len, out);
}

void lb_kn_answer_hash(const uint8_t salt[32], const char *data, const char *value_json,
		       uint8_t out[32])
{
	struct lb_hasher h;
	uint8_t zero = 0;
	lb_hasher_init(&h, DOM_ANSWER);
	lb_hasher_update(&h, salt, 32);
	lb_hasher_update(&h, data, strlen(data));
	lb_hasher_update(&h, &zero, 1); /* separator: names cannot contain NUL */
	lb_hasher_update(&h, value_json, strlen(value_json));
	lb_hasher_final(&h, out);
}

/* ---- contract.session payload ----------------------------------------------------------- */

#define PAYLOAD_VERSION 1
#define PAYLOAD_VERSION_PJS 2 /* contract.publish of a PROformajs protocol */
#define PAYLOAD_VERSION_PJS_BOUND 3 /* the same, with the exploration bound it was verified in */

static int put_varint(struct lb_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;
	do {
		tmp[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	return lb_buf_add(b, tmp, n);
}

/* Minimal (canonical) varint only: no redundant 0x80 continuation. */
static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t c = *(*p)++;
		if (shift == 63 && c > 1)
			return false;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return c != 0 || shift == 0;
	}
	return false;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= LB_KN_NAME_MAX)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int lb_kn_session_payload_check(const struct lb_kn_session_payload *p, struct lb_errmsg *em)
{
	if (p->kind < LB_KN_EV_START || p->kind > LB_KN_EV_COMPLETE)
		return lb_errf(em, LB_EINVALID, "contract.session: unknown event kind %u", p->kind);
	if (all_zero(p->contract, 32) || all_zero(p->session, 32))
		return lb_errf(em, LB_EINVALID, "contract.session: contract and session ids are "
						 "required");
	bool digest = p->kind == LB_KN_EV_ANSWER || p->kind == LB_KN_EV_COMPLETE;
	if (digest == all_zero(p->digest, 32))
		return lb_errf(em, LB_EINVALID, "contract.session: %s",
			       digest ? "this event needs a digest" : "this event carries no digest");
	if (p->kind == LB_KN_EV_START && p->seq != 0)
		return lb_errf(em, LB_EINVALID, "contract.session: start must be event 0");
	if (p->kind != LB_KN_EV_START && p->seq == 0)
		return lb_errf(em, LB_EINVALID, "contract.session: event 0 must be the start");
	if (p->kind != LB_KN_EV_DECISION) {
		if (p->decision[0] != 0 || p->ncands != 0)
			return lb_errf(em, LB_EINVALID,
				       "contract.session: only decision events name candidates");
		return LB_OK;
	}
	if (!valid_name(p->decision))
		return lb_errf(em, LB_EINVALID, "contract.session: bad decision name");
	if (p->ncands > LB_KN_EV_MAX_CANDS)
		return lb_errf(em, LB_EINVALID, "contract.session: at most %d candidates",
			       LB_KN_EV_MAX_CANDS);
	for (uint32_t i = 0; i < p->ncands; i++) {
		if (!valid_name(p->cands[i]))
			return lb_errf(em, LB_EINVALID, "contract.session: bad candidate name");
		if (i > 0 && strcmp(p->cands[i - 1], p->cands[i]) >= 0)
			return lb_errf(em, LB_EINVALID,
				       "contract.session: candidates must be sorted and distinct");
	}
	return LB_OK;
}

int lb_kn_session_payload_encode(const struct lb_kn_session_payload *p, uint8_t **out,
				 size_t *len)
{
	int rc = lb_kn_session_payload_check(p, NULL);
	if (rc != LB_OK)
		return rc;
	struct lb_buf b;
	lb_buf_init(&b, 1 << 16);
	rc = lb_buf_addc(&b, PAYLOAD_VERSION);
	rc = rc ? rc : lb_buf_addc(&b, p->kind);
	rc = rc ? rc : lb_buf_add(&b, p->contract, 32);
	rc = rc ? rc : lb_buf_add(&b, p->session, 32);
	rc = rc ? rc : put_varint(&b, p->seq);
	rc = rc ? rc : lb_buf_add(&b, p->digest, 32);
	if (p->kind == LB_KN_EV_DECISION) {
		size_t n = strlen(p->decision);
		rc = rc ? rc : put_varint(&b, n);
		rc = rc ? rc : lb_buf_add(&b, p->decision, n);
		rc = rc ? rc : put_varint(&b, p->ncands);
		for (uint32_t i = 0; rc == LB_OK && i < p->ncands; i++) {
			n = strlen(p->cands[i]);
			rc = put_varint(&b, n);
			rc = rc ? rc : lb_buf_add(&b, p->cands[i], n);
		}
	}
	if (rc != LB_OK) {
		lb_buf_release(&b);
		return rc;
	}
	*out = lb_buf_detach(&b, len);
	return LB_OK;
}

static bool get_name(const uint8_t **p, const uint8_t *end, char out[LB_KN_NAME_MAX])
{
	uint64_t n;
	if (!get_varint(p, end, &n) || n == 0 || n >= LB_KN_NAME_MAX ||
	    (uint64_t)(end - *p) < n)
		return false;
	memcpy(out, *p, n);
	out[n] = 0;
	*p += n;
	return strlen(out) == n;
}

int lb_kn_session_payload_decode(const uint8_t *p, size_t n, struct lb_kn_session_payload *out,
				 struct lb_errmsg *em)
{
	const uint8_t *end = p + n;
	memset(out, 0, sizeof(*out));
	if (n < 2 + 32 + 32 + 1 + 32 || p[0] != PAYLOAD_VERSION)
		return lb_errf(em, LB_EMALFORMED, "contract.session: bad version or length");
	out->kind = p[1];
	p += 2;
	memcpy(out->contract, p, 32);
	p += 32;
	memcpy(out->session, p, 32);
	p += 32;
	if (!get_varint(&p, end, &out->seq) || end - p < 32)
		return lb_errf(em, LB_EMALFORMED, "contract.session: bad sequence number");
	memcpy(out->digest, p, 32);
	p += 32;
	if (out->kind == LB_KN_EV_DECISION) {
		uint64_t nc;
		if (!get_name(&p, end, out->decision) || !get_varint(&p, end, &nc) ||
		    nc > LB_KN_EV_MAX_CANDS)
			return lb_errf(em, LB_EMALFORMED, "contract.session: bad decision");
		out->ncands = (uint32_t)nc;
		for (uint32_t i = 0; i < out->ncands; i++)
			if (!get_name(&p, end, out->cands[i]))
				return lb_errf(em, LB_EMALFORMED, "contract.session: bad candidate");
	}
	if (p != end)
		return lb_errf(em, LB_EMALFORMED, "contract.session: %zu trailing bytes",
			       (size_t)(end - p));
	int rc = lb_kn_session_payload_check(out, em);
	return rc == LB_OK ? LB_OK : (em ? em->code : rc);
}

int lb_kn_publish_check(const uint8_t *source, size_t len, const uint8_t source_hash[32],
			const uint8_t report_hash[32], struct lb_errmsg *em)
{
	return kn_publish_verify(source, len, LB_KN_RULES_LEBEN, 0, source_hash, report_hash, NULL,
				 em);
}

int lb_kn_publish_check_rules(const uint8_t *source, size_t len, enum lb_kn_rules rules,
			      const uint8_t source_hash[32], const uint8_t report_hash[32],
			      struct lb_errmsg *em)
{
	return kn_publish_verify(source, len, rules, 0, source_hash, report_hash, NULL, em);
}

int kn_publish_verify(const uint8_t *source, size_t len, enum lb_kn_rules rules,
		      uint32_t max_states, const uint8_t source_hash[32],
		      const uint8_t report_hash[32], struct lb_kn_model **keep, struct lb_errmsg *em)
{
	/* the PROformajs-rules exploration within the bound the publication names */
	struct lb_kn_check_opts po = { .max_states = max_states };
	struct lb_kn_model *m;
	uint8_t h[32];
	bool pjs = rules == LB_KN_RULES_PROFORMAJS;
	int rc = lb_kn_model_parse((const char *)source, len, "published source",
				   pjs ? LB_KN_FORM_JSON : LB_KN_FORM_PF, &m, em);
	if (rc != LB_OK)
		return rc;
	uint8_t *canon = NULL;
	size_t clen;
	if ((rc = canonical_rules(m, rules, &canon, &clen)) != LB_OK)
		goto out;
	if (clen != len || memcmp(canon, source, len) != 0) {
		rc = lb_errf(em, LB_EINVALID, "contract.publish: source is not in canonical form");
		goto out;
	}
	hash2(pjs ? DOM_CONTRACT_PJS : DOM_CONTRACT, source, len, h);
	if (sodium_memcmp(h, source_hash, 32) != 0) {
		rc = lb_errf(em, LB_EINVALID, "contract.publish: source hash does not match");
		goto out;
	}
	char *report;
	size_t failures;
	rc = pjs ? lb_kn_check_proformajs(m, &po, &report, &failures, em)
		 : lb_kn_check(m, NULL, &report, &failures, NULL, em);
	if (rc != LB_OK)
		goto out;
	lb_kn_report_hash(report, strlen(report), h);
	lb_free(report);
	if (failures > 0)
		rc = lb_errf(em, LB_EINVALID, "contract.publish: the verifier found %zu problem%s",
			     failures, failures == 1 ? "" : "s");
	else if (sodium_memcmp(h, report_hash, 32) != 0)
		rc = lb_errf(em, LB_EINVALID, "contract.publish: report hash does not match the "
					      "verifier's report");
out:
	lb_free(canon);
	if (rc == LB_OK && keep != NULL)
		*keep = m;
	else
		lb_kn_model_free(m);
	return rc;
}

/* ---- contract.publish payload ----------------------------------------------------------- */

int lb_kn_publish_payload_encode(const struct lb_kn_publish_payload *p, uint8_t **out,
				 size_t *len)
{
	if (p->source_len == 0 || p->source_len > LB_KN_MAX_SOURCE)
		return LB_EINVALID;
	struct lb_buf b;
	lb_buf_init(&b, LB_KN_MAX_SOURCE + 128);
	bool pjs = p->rules == LB_KN_RULES_PROFORMAJS;
	if (pjs && p->max_states > LB_KN_PJS_MAX_STATES)
		return LB_EINVALID;
	int rc = lb_buf_addc(&b, !pjs ? PAYLOAD_VERSION
				 : p->max_states ? PAYLOAD_VERSION_PJS_BOUND
						 : PAYLOAD_VERSION_PJS);
	rc = rc ? rc : lb_buf_add(&b, p->source_hash, 32);
	rc = rc ? rc : lb_buf_add(&b, p->report_hash, 32);
	if (rc == LB_OK && pjs && p->max_states)
		rc = put_varint(&b, p->max_states);
	rc = rc ? rc : put_varint(&b, p->source_len);
	rc = rc ? rc : lb_buf_add(&b, p->source, p->source_len);
	if (rc != LB_OK) {
		lb_buf_release(&b);
		return rc;
	}
	*out = lb_buf_detach(&b, len);
	return LB_OK;
}

int lb_kn_publish_payload_decode(const uint8_t *buf, size_t n, struct lb_kn_publish_payload *out,
				 struct lb_errmsg *em)
{
	const uint8_t *p = buf, *end = buf + n;
	uint64_t len;
	memset(out, 0, sizeof(*out));
	if (n < 1 + 64 + 1 || (p[0] != PAYLOAD_VERSION && p[0] != PAYLOAD_VERSION_PJS &&
			       p[0] != PAYLOAD_VERSION_PJS_BOUND))
		return lb_errf(em, LB_EMALFORMED, "contract.publish: bad version or length");
	out->rules = p[0] == PAYLOAD_VERSION ? LB_KN_RULES_LEBEN : LB_KN_RULES_PROFORMAJS;
	bool bound = p[0] == PAYLOAD_VERSION_PJS_BOUND;
	p++;
	memcpy(out->source_hash, p, 32);
	memcpy(out->report_hash, p + 32, 32);
	p += 64;
	if (bound) {
		uint64_t ms;
		if (!get_varint(&p, end, &ms) || ms == 0 || ms > LB_KN_PJS_MAX_STATES)
			return lb_errf(em, LB_EMALFORMED,
				       "contract.publish: the exploration bound must be 1 .. %d "
				       "states",
				       LB_KN_PJS_MAX_STATES);
		out->max_states = (uint32_t)ms;
	}
	if (!get_varint(&p, end, &len) || len == 0 || len > LB_KN_MAX_SOURCE ||
	    (uint64_t)(end - p) != len)
		return lb_errf(em, LB_EMALFORMED, "contract.publish: bad source length");
	out->source = p;
	out->source_len = (size_t)len;
	return LB_OK;
}
