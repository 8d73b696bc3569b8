/*
 * Canonical encoding of the exchange payloads (docs/wire-format.md, "Exchange"): one encoder
 * and one strict decoder per tx type, shared by the handlers, the CLI and the fuzzers, plus
 * the small derived ids (terms hash, patient pseudonym, built-in algorithm hash, asset id).
 */
#include <stdio.h>
#include <string.h>

#include "leben/algo.h"
#include <sodium.h>

#include "leben/abe.h"
#include "leben/codec.h"
#include "leben/data_hexa.h"
#include "leben/data_tx.h"
#include "leben/exchange.h"

#define U64 UINT64_MAX

static const char *scenario_names[] = {"auto", "local", "off-site", "integrated"};

const char *lb_xchg_scenario_name(int s)
{
	return s >= 0 && s <= 3 ? scenario_names[s] : "?";
}

int lb_xchg_scenario_parse(const char *s)
{
	for (int i = 0; i <= 3; i++)
		if (!strcmp(s, scenario_names[i]))
			return i;
	if (!strcmp(s, "offsite"))
		return LB_XCHG_OFFSITE;
	return -1;
}


static const char *const scen_reason_names[] = {
	"?", "user", "local-only", "data-size", "at-author", "dependencies", "no-computing-node",
	"executor"};
static const char *const scen_reason_texts[] = {
	"?",
	"the user asked for it",
	"the offer keeps the data at its owner (local only)",
	"the data is over 256 MiB: it is computed where it lies",
	"the algorithm runs only at its author (off-site)",
	"the algorithm needs a computing provider's stack (integrated)",
	"the algorithm needs a computing provider's stack, but the consortium has no computing node",
	"nothing forces a scenario: the executor named by the escrow decides (the owner's own node "
	"runs it locally, another institution's node off-site, a computing provider integrated)"};

const char *lb_xchg_scen_reason_name(int r)
{
	return r >= 1 && r <= LB_XCHG_SCEN_REASON_MAX ? scen_reason_names[r] : "?";
}

const char *lb_xchg_scen_reason_text(int r)
{
	return r >= 1 && r <= LB_XCHG_SCEN_REASON_MAX ? scen_reason_texts[r] : "?";
}

int lb_xchg_scenario_rule(uint8_t asked, uint8_t offer_flags, uint64_t data_bytes,
			  uint8_t algo_flags, bool computing_present, int *reason)
{
	int why, s;
	if (asked)
		why = LB_XCHG_SCEN_USER, s = asked;
	else if (offer_flags & LB_XCHG_OFFER_LOCAL_ONLY)
		why = LB_XCHG_SCEN_LOCAL_ONLY, s = LB_XCHG_LOCAL;
	else if (data_bytes > ((uint64_t)256 << 20))
		why = LB_XCHG_SCEN_SIZE, s = LB_XCHG_LOCAL;
	else if (algo_flags & LB_XCHG_ALGO_AT_AUTHOR)
		why = LB_XCHG_SCEN_AT_AUTHOR, s = LB_XCHG_OFFSITE;
	else if ((algo_flags & LB_XCHG_ALGO_HEAVY_DEPS) && computing_present)
		why = LB_XCHG_SCEN_DEPS, s = LB_XCHG_INTEGRATED;
	else if (algo_flags & LB_XCHG_ALGO_HEAVY_DEPS)
		why = LB_XCHG_SCEN_NO_COMPUTING, s = LB_XCHG_LOCAL;
	else
		why = LB_XCHG_SCEN_EXECUTOR, s = 0;
	if (reason)
		*reason = why;
	return s;
}

static int enc_terms(struct lb_buf *b, const struct lb_xchg_terms *t)
{
	int rc;
	if ((rc = lb_enc_fixed(b, t->user, LB_ADDR_LEN)) ||
	    (rc = lb_enc_fixed(b, t->request, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(b, t->owner, LB_ADDR_LEN)) || (rc = lb_enc_uvar(b, t->data_fee)) ||
	    (rc = lb_enc_fixed(b, t->author, LB_ADDR_LEN)) || (rc = lb_enc_uvar(b, t->algo_fee)) ||
	    (rc = lb_enc_fixed(b, t->executor, LB_ADDR_LEN)) ||
	    (rc = lb_enc_uvar(b, t->compute_fee)))
		return rc;
	return LB_OK;
}

static int dec_terms(struct lb_dec *d, struct lb_xchg_terms *t)
{
	int rc;
	if ((rc = lb_dec_fixed(d, "user", t->user, LB_ADDR_LEN)) ||
	    (rc = lb_dec_fixed(d, "request", t->request, LB_HASH_LEN)) ||
	    (rc = lb_dec_fixed(d, "owner", t->owner, LB_ADDR_LEN)) ||
	    (rc = lb_dec_uvar(d, "data_fee", U64, &t->data_fee)) ||
	    (rc = lb_dec_fixed(d, "author", t->author, LB_ADDR_LEN)) ||
	    (rc = lb_dec_uvar(d, "algo_fee", U64, &t->algo_fee)) ||
	    (rc = lb_dec_fixed(d, "executor", t->executor, LB_ADDR_LEN)) ||
	    (rc = lb_dec_uvar(d, "compute_fee", U64, &t->compute_fee)))
		return rc;
	return LB_OK;
}

void lb_xchg_terms_hash(const struct lb_xchg_terms *t, uint8_t out[LB_HASH_LEN])
{
	uint8_t tmp[256];
	struct lb_buf b = {.data = tmp, .len = 0, .cap = sizeof tmp - 1, .max = sizeof tmp};
	enc_terms(&b, t); /* at most 4 x 20 + 32 + 3 x 10 bytes: always fits */
	lb_hash_domain(out, "LEBEN-escrow-terms-v1", tmp, b.len);
}

void lb_xchg_patient_salt(uint8_t out[LB_HASH_LEN], const uint8_t salt_key[LB_XCHG_SALT_KEY_LEN],
			  const uint8_t asset[LB_HASH_LEN], const char *local_id)
{
	struct lb_hasher h;
	lb_hasher_init(&h, "LEBEN-patient-salt-v1");
	lb_hasher_update(&h, salt_key, LB_XCHG_SALT_KEY_LEN);
	lb_hasher_update(&h, asset, LB_HASH_LEN);
	lb_hasher_update(&h, local_id, strlen(local_id));
	lb_hasher_final(&h, out);
}

void lb_xchg_patient_open(uint8_t out[LB_HASH_LEN], const uint8_t asset[LB_HASH_LEN],
			  const uint8_t salt[LB_HASH_LEN], const char *local_id)
{
	struct lb_hasher h;
	lb_hasher_init(&h, "LEBEN-patient-v2");
	lb_hasher_update(&h, asset, LB_HASH_LEN);
	lb_hasher_update(&h, salt, LB_HASH_LEN);
	lb_hasher_update(&h, local_id, strlen(local_id));
	lb_hasher_final(&h, out);
}

void lb_xchg_patient_commit(uint8_t out[LB_HASH_LEN], const uint8_t asset[LB_HASH_LEN],
			    const uint8_t salt_key[LB_XCHG_SALT_KEY_LEN], const char *local_id)
{
	uint8_t salt[LB_HASH_LEN];
	lb_xchg_patient_salt(salt, salt_key, asset, local_id);
	lb_xchg_patient_open(out, asset, salt, local_id);
	sodium_memzero(salt, sizeof salt);
}

void lb_xchg_builtin_hash(uint8_t out[LB_HASH_LEN], const char *name)
{
	lb_hash_domain(out, "LEBEN-algo-builtin-v1", name, strlen(name));
}

const char *lb_xchg_builtin_name(const uint8_t hash[LB_HASH_LEN])
{
	size_t n;
	uint8_t h[LB_HASH_LEN];
	const struct lb_algo *t = lb_algo_table(&n);
	for (size_t i = 0; i < n; i++) {
		lb_xchg_builtin_hash(h, t[i].name);
		if (!memcmp(h, hash, LB_HASH_LEN))
			return t[i].name;
	}
	return NULL;
}

void lb_xchg_noise_commit(uint8_t out[LB_HASH_LEN], const uint8_t r[LB_HASH_LEN])
{
	lb_hash_domain(out, "LEBEN-noise-commit-v1", r, LB_HASH_LEN);
}

void lb_xchg_noise_key(uint8_t out[LB_HASH_LEN], const uint8_t r[LB_HASH_LEN],
		       const uint8_t exec_block_hash[LB_HASH_LEN])
{
	struct lb_hasher h;
	lb_hasher_init(&h, "LEBEN-noise-v1");
	lb_hasher_update(&h, r, LB_HASH_LEN);
	lb_hasher_update(&h, exec_block_hash, LB_HASH_LEN);
	lb_hasher_final(&h, out);
}

static const char *reason_names[] = {"none",  "cohort", "budget", "differencing",
				     "failed", "limit",  "policy"};

const char *lb_xchg_reason_name(int code)
{
	return code >= 0 && code <= LB_XCHG_REASON_MAX ? reason_names[code] : "?";
}

void lb_xchg_asset_id(uint8_t out[LB_HASH_LEN], const uint8_t owner[LB_ADDR_LEN], uint64_t nonce)
{
	uint8_t in[LB_ADDR_LEN + 8];
	memcpy(in, owner, LB_ADDR_LEN);
	for (int i = 0; i < 8; i++)
		in[LB_ADDR_LEN + i] = (uint8_t)(nonce >> (56 - 8 * i));
	lb_hash_domain(out, "LEBEN-asset-v1", in, sizeof in);
}

int lb_xchg_registration(const struct lb_tx *reg, uint8_t asset[LB_HASH_LEN],
			 uint8_t owner[LB_ADDR_LEN], uint8_t content[LB_HASH_LEN], uint64_t *size,
			 struct lb_errmsg *em)
{
	*size = 0;
	lb_addr_from_pubkey(owner, reg->sender);
	if (reg->chain == LB_CHAIN_DIRECTORY && reg->type == LB_TX_ASSET_REGISTER) {
		if (reg->payload_len < LB_HASH_LEN)
			return lb_errf(em, LB_EINVALID, "the registration tx carries no content hash");
		lb_xchg_asset_id(asset, owner, reg->nonce);
		memcpy(content, reg->payload, LB_HASH_LEN);
		return LB_OK;
	}
	if (reg->chain != LB_CHAIN_DIRECTORY || reg->type != LB_TX_DATA_REGISTER)
		return lb_errf(em, LB_EINVALID,
			       "the cited tx is not an asset registration (asset.register or "
			       "data.register of the directory chain)");
	struct lb_asset_tx a;
	struct lb_hexa h;
	int rc = lb_asset_tx_decode(reg->payload, reg->payload_len, &a, em);
	if (rc)
		return lb_errf(em, LB_EINVALID, "the data.register payload does not decode");
	if ((rc = lb_hexa_decode(a.pub, a.pub_len, &h, em)))
		return lb_errf(em, LB_EINVALID, "the registered description does not decode");
	int f = lb_hexa_field_id("raw.blake2b");
	if (f < 0 || !(h.present & ((uint64_t)1 << f)) || !h.v[f].b) {
		lb_hexa_release(&h);
		return lb_errf(em, LB_EINVALID, "the registered description names no raw.blake2b");
	}
	memcpy(asset, a.asset_id, LB_HASH_LEN);
	memcpy(content, h.v[f].b, LB_HASH_LEN);
	lb_hexa_get_u64(&h, "basic.size", size);
	lb_hexa_release(&h);
	return LB_OK;
}

int lb_xchg_owner_act(uint32_t type, const uint8_t *payload, size_t len, char out[LB_XCHG_ACT_MAX],
		      struct lb_errmsg *em)
{
	const char *name = type == LB_TX_XCHG_OFFER    ? "xchg.offer"
			   : type == LB_TX_XCHG_GRANT   ? "xchg.grant"
			   : type == LB_TX_XCHG_APPROVE ? "xchg.approve"
			   : type == LB_TX_XCHG_REVOKE  ? "xchg.revoke"
							: NULL;
	uint8_t h[LB_HASH_LEN];
	char hex[2 * LB_HASH_LEN + 1];
	if (!name)
		return lb_errf(em, LB_EINVALID, "tx type 0x%04x is not an owner act", type);
	if (type == LB_TX_XCHG_OFFER) {
		struct lb_xchg_offer *o = lb_malloc(sizeof *o);
		struct lb_buf b;
		int rc = o ? lb_xchg_offer_decode(o, payload, len, em) : LB_ENOMEM;
		lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
		if (!rc) {
			o->reg_tx_len = o->reg_proof_len = 0;
			rc = lb_xchg_offer_encode(&b, o);
		}
		if (!rc)
			lb_hash(h, b.data, b.len);
		lb_buf_release(&b);
		lb_free(o);
		if (rc)
			return rc;
	} else {
		lb_hash(h, payload, len);
	}
	lb_hex_encode(hex, h, LB_HASH_LEN);
	snprintf(out, LB_XCHG_ACT_MAX, "%s %s", name, hex);
	return LB_OK;
}

/* ---- business ---------------------------------------------------------------------------- */

int lb_xchg_offer_encode(struct lb_buf *b, const struct lb_xchg_offer *p)
{
	int rc;
	if ((rc = lb_enc_bytes(b, p->reg_tx, p->reg_tx_len)) ||
	    (rc = lb_enc_bytes(b, p->reg_proof, p->reg_proof_len)) ||
	    (rc = lb_enc_uvar(b, p->data_fee)) || (rc = lb_enc_u8(b, p->flags)) ||
	    (rc = lb_enc_uvar(b, p->min_cohort)) || (rc = lb_enc_uvar(b, p->max_output)) ||
	    (rc = lb_enc_uvar(b, p->data_bytes)) || (rc = lb_enc_uvar(b, p->n_allow)))
		return rc;
	for (size_t i = 0; i < p->n_allow; i++)
		if ((rc = lb_enc_fixed(b, p->allow[i], LB_HASH_LEN)))
			return rc;
	if ((rc = lb_enc_uvar(b, p->epsilon)) || (rc = lb_enc_uvar(b, p->budget_user)) ||
	    (rc = lb_enc_uvar(b, p->budget_patient)))
		return rc;
	if (p->flags & LB_XCHG_OFFER_OPT_OUT)
		return lb_enc_str(b, p->legal_basis);
	return LB_OK;
}

int lb_xchg_offer_decode(struct lb_xchg_offer *o, const uint8_t *p, size_t n, struct lb_errmsg *em)
{
	struct lb_dec d;
	uint64_t na;
	int rc;
	memset(o, 0, sizeof *o);
	lb_dec_init(&d, p, n, "xchg.offer payload", em);
	if ((rc = lb_dec_bytes(&d, "register_tx", LB_XCHG_REGTX_MAX, &o->reg_tx, &o->reg_tx_len)) ||
	    (rc = lb_dec_bytes(&d, "register_proof", LB_XCHG_PROOF_MAX, &o->reg_proof,
			       &o->reg_proof_len)) ||
	    (rc = lb_dec_uvar(&d, "data_fee", U64, &o->data_fee)) ||
	    (rc = lb_dec_u8(&d, "flags", &o->flags)))
		return rc;
	if (o->flags & ~(LB_XCHG_OFFER_LOCAL_ONLY | LB_XCHG_OFFER_OPT_OUT))
		return lb_dec_fail(&d, LB_EMALFORMED, "flags", "unknown flag bits 0x%02x", o->flags);
	if ((rc = lb_dec_uvar(&d, "min_cohort", 1000000000, &o->min_cohort)) ||
	    (rc = lb_dec_uvar(&d, "max_output", (uint64_t)1 << 30, &o->max_output)) ||
	    (rc = lb_dec_uvar(&d, "data_bytes", U64, &o->data_bytes)) ||
	    (rc = lb_dec_uvar(&d, "allow_count", LB_XCHG_ALLOW_MAX, &na)))
		return rc;
	o->n_allow = (size_t)na;
	for (size_t i = 0; i < o->n_allow; i++)
		if ((rc = lb_dec_fixed(&d, "allow", o->allow[i], LB_HASH_LEN)))
			return rc;
	if ((rc = lb_dec_uvar(&d, "epsilon", LB_XCHG_EPS_MAX, &o->epsilon)) ||
	    (rc = lb_dec_uvar(&d, "budget_user", LB_XCHG_EPS_MAX, &o->budget_user)) ||
	    (rc = lb_dec_uvar(&d, "budget_patient", LB_XCHG_EPS_MAX, &o->budget_patient)))
		return rc;
	if ((o->flags & LB_XCHG_OFFER_OPT_OUT) &&
	    (rc = lb_dec_str(&d, "legal_basis", LB_XCHG_TEXT_MAX, o->legal_basis,
			     sizeof o->legal_basis)))
		return rc;
	if ((rc = lb_dec_end(&d)))
		return rc;
	if (!o->epsilon && (o->budget_user || o->budget_patient))
		return lb_errf(em, LB_EINVALID,
			       "xchg.offer: budgets without epsilon mean nothing; give epsilon > 0 or "
			       "budgets of 0");
	if (o->epsilon && (o->budget_user < o->epsilon || o->budget_patient < o->epsilon))
		return lb_errf(em, LB_EINVALID,
			       "xchg.offer: budget_user and budget_patient must each allow at least one "
			       "release (epsilon %llu micro-units)",
			       (unsigned long long)o->epsilon);
	if ((o->flags & LB_XCHG_OFFER_OPT_OUT) && !o->legal_basis[0])
		return lb_errf(em, LB_EINVALID,
			       "xchg.offer: an opt-out offer must name the legal basis that allows "
			       "it (legal_basis)");
	if (!o->reg_tx_len || !o->reg_proof_len)
		return lb_errf(em, LB_EINVALID,
			       "xchg.offer: the asset's registration tx and its proof are required");
	if (o->max_output == 0)
		return lb_errf(em, LB_EINVALID, "xchg.offer: max_output must be above zero");
	return LB_OK;
}

int lb_xchg_grant_encode(struct lb_buf *b, const struct lb_xchg_grant *p)
{
	int rc;
	if ((rc = lb_enc_fixed(b, p->asset, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(b, p->executor, LB_ADDR_LEN)) || (rc = lb_enc_u8(b, p->kind)))
		return rc;
	return LB_OK;
}

int lb_xchg_grant_decode(struct lb_xchg_grant *o, const uint8_t *p, size_t n, struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, p, n, "xchg.grant payload", em);
	if ((rc = lb_dec_fixed(&d, "asset", o->asset, LB_HASH_LEN)) ||
	    (rc = lb_dec_fixed(&d, "executor", o->executor, LB_ADDR_LEN)) ||
	    (rc = lb_dec_u8(&d, "kind", &o->kind)))
		return rc;
	if (o->kind < 1 || o->kind > 3)
		return lb_dec_fail(&d, LB_EMALFORMED, "kind",
				   "%u is not 1 (own node), 2 (another node) or 3 (computing provider)",
				   o->kind);
	return lb_dec_end(&d);
}

int lb_xchg_algo_encode(struct lb_buf *b, const struct lb_xchg_algo *p)
{
	int rc;
	if ((rc = lb_enc_fixed(b, p->hash, LB_HASH_LEN)) || (rc = lb_enc_uvar(b, p->fee)) ||
	    (rc = lb_enc_u8(b, p->flags)) || (rc = lb_enc_str(b, p->name)))
		return rc;
	return LB_OK;
}

int lb_xchg_algo_decode(struct lb_xchg_algo *o, const uint8_t *p, size_t n, struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, p, n, "xchg.algo payload", em);
	if ((rc = lb_dec_fixed(&d, "hash", o->hash, LB_HASH_LEN)) ||
	    (rc = lb_dec_uvar(&d, "fee", U64, &o->fee)) || (rc = lb_dec_u8(&d, "flags", &o->flags)))
		return rc;
	if (o->flags & ~(LB_XCHG_ALGO_AT_AUTHOR | LB_XCHG_ALGO_HEAVY_DEPS))
		return lb_dec_fail(&d, LB_EMALFORMED, "flags", "unknown flag bits 0x%02x", o->flags);
	if ((rc = lb_dec_str(&d, "name", LB_XCHG_NAME_MAX, o->name, sizeof o->name)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (!o->name[0])
		return lb_errf(em, LB_EINVALID, "xchg.algo: the name must not be empty");
	return LB_OK;
}

int lb_xchg_request_encode(struct lb_buf *b, const struct lb_xchg_request *p)
{
	int rc;
	if ((rc = lb_enc_fixed(b, p->asset, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(b, p->algo, LB_HASH_LEN)) || (rc = lb_enc_u8(b, p->scenario)) ||
	    (rc = lb_enc_str(b, p->purpose)) || (rc = lb_enc_str(b, p->params)))
		return rc;
	if (p->result_policy[0] && ((rc = lb_enc_fixed(b, p->result_authority, 32)) ||
				    (rc = lb_enc_str(b, p->result_policy))))
		return rc;
	return LB_OK;
}

int lb_xchg_request_decode(struct lb_xchg_request *o, const uint8_t *p, size_t n,
			   struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, p, n, "xchg.request payload", em);
	if ((rc = lb_dec_fixed(&d, "asset", o->asset, LB_HASH_LEN)) ||
	    (rc = lb_dec_fixed(&d, "algorithm", o->algo, LB_HASH_LEN)) ||
	    (rc = lb_dec_u8(&d, "scenario", &o->scenario)))
		return rc;
	if (o->scenario > LB_XCHG_INTEGRATED)
		return lb_dec_fail(&d, LB_EMALFORMED, "scenario",
				   "%u is not 0 (auto), 1 (local), 2 (off-site) or 3 (integrated)",
				   o->scenario);
	if ((rc = lb_dec_str(&d, "purpose", LB_XCHG_TEXT_MAX, o->purpose, sizeof o->purpose)) ||
	    (rc = lb_dec_str(&d, "params", LB_XCHG_PARAMS_MAX, o->params, sizeof o->params)))
		return rc;
	memset(o->result_authority, 0, sizeof o->result_authority);
	o->result_policy[0] = 0;
	if (d.pos < d.len) { /* a result sealed to a CP-ABE policy */
		if ((rc = lb_dec_fixed(&d, "result authority", o->result_authority, 32)) ||
		    (rc = lb_dec_str(&d, "result policy", LB_XCHG_POLICY_MAX, o->result_policy,
				     sizeof o->result_policy)))
			return rc;
		if (!o->result_policy[0])
			return lb_dec_fail(&d, LB_EMALFORMED, "result policy",
					   "present but empty (leave both fields out instead)");
		if ((rc = lb_abe_policy_check(o->result_policy, em))) {
			lb_errwrap(em, "xchg.request: the result policy: ");
			return rc;
		}
	}
	if ((rc = lb_dec_end(&d)))
		return rc;
	if (!o->purpose[0])
		return lb_errf(em, LB_EINVALID, "xchg.request: say what the result is for (purpose)");
	if (o->params[0]) {
		json_error_t jerr;
		json_t *j = json_loads(o->params, JSON_REJECT_DUPLICATES, &jerr);
		bool obj = json_is_object(j);
		json_decref(j);
		if (!obj)
			return lb_errf(em, LB_EINVALID,
				       "xchg.request: the algorithm's parameters must be a JSON object (%s)",
				       j ? "not an object" : jerr.text);
	}
	return LB_OK;
}

int lb_xchg_approve_encode(struct lb_buf *b, const struct lb_xchg_approve *p)
{
	int rc;
	if ((rc = lb_enc_fixed(b, p->request, LB_HASH_LEN)) || (rc = lb_enc_u8(b, p->decision)) ||
	    (rc = lb_enc_str(b, p->reason)))
		return rc;
	return LB_OK;
}

int lb_xchg_approve_decode(struct lb_xchg_approve *o, const uint8_t *p, size_t n,
			   struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, p, n, "xchg.approve payload", em);
	if ((rc = lb_dec_fixed(&d, "request", o->request, LB_HASH_LEN)) ||
	    (rc = lb_dec_u8(&d, "decision", &o->decision)))
		return rc;
	if (o->decision != 1 && o->decision != 2)
		return lb_dec_fail(&d, LB_EMALFORMED, "decision",
				   "%u is neither 1 (approve) nor 2 (reject)", o->decision);
	if ((rc = lb_dec_str(&d, "reason", LB_XCHG_TEXT_MAX, o->reason, sizeof o->reason)))
		return rc;
	return lb_dec_end(&d);
}

int lb_xchg_consent_encode(struct lb_buf *b, const struct lb_xchg_consent *p)
{
	int rc;
	if ((rc = lb_enc_fixed(b, p->asset, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(b, p->patient, LB_HASH_LEN)) || (rc = lb_enc_u8(b, p->action)))
		return rc;
	if (p->action == LB_XCHG_REBIND)
		return lb_enc_fixed(b, p->new_key, LB_ADDR_LEN);
	return LB_OK;
}

int lb_xchg_consent_decode(struct lb_xchg_consent *o, const uint8_t *p, size_t n,
			   struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, p, n, "xchg.consent payload", em);
	if ((rc = lb_dec_fixed(&d, "asset", o->asset, LB_HASH_LEN)) ||
	    (rc = lb_dec_fixed(&d, "patient", o->patient, LB_HASH_LEN)) ||
	    (rc = lb_dec_u8(&d, "action", &o->action)))
		return rc;
	if (o->action < LB_XCHG_GIVE || o->action > LB_XCHG_REBIND)
		return lb_dec_fail(&d, LB_EMALFORMED, "action",
				   "%u is not 1 (give), 2 (revoke) or 3 (rebind)", o->action);
	memset(o->new_key, 0, LB_ADDR_LEN);
	if (o->action == LB_XCHG_REBIND) {
		static const uint8_t zero[LB_ADDR_LEN];
		if ((rc = lb_dec_fixed(&d, "new_key", o->new_key, LB_ADDR_LEN)))
			return rc;
		if (!memcmp(o->new_key, zero, LB_ADDR_LEN))
			return lb_dec_fail(&d, LB_EMALFORMED, "new_key", "a rebind needs a key address");
	}
	return lb_dec_end(&d);
}

/* n x size-byte entries at d, whose first 32 bytes are strictly increasing. */
static int dec_sorted(struct lb_dec *d, const char *what, size_t n, size_t size,
		      const uint8_t **out)
{
	if (d->len - d->pos < n * size)
		return lb_dec_fail(d, LB_EMALFORMED, what, "%zu entries announced, fewer given", n);
	*out = d->p + d->pos;
	d->pos += n * size;
	for (size_t i = 1; i < n; i++)
		if (memcmp(*out + (i - 1) * size, *out + i * size, LB_HASH_LEN) >= 0)
			return lb_dec_fail(d, LB_EMALFORMED, what,
					   "entries must be sorted by commitment and distinct (entry "
					   "%zu is not above entry %zu)",
					   i, i - 1);
	return LB_OK;
}

int lb_xchg_patients_encode(struct lb_buf *b, const struct lb_xchg_patients *p)
{
	int rc;
	if ((rc = lb_enc_fixed(b, p->asset, LB_HASH_LEN)) || (rc = lb_enc_uvar(b, p->n)) ||
	    (rc = lb_enc_fixed(b, p->entries, p->n * LB_XCHG_PATIENT_ENTRY)))
		return rc;
	return LB_OK;
}

int lb_xchg_patients_decode(struct lb_xchg_patients *o, const uint8_t *p, size_t n,
			    struct lb_errmsg *em)
{
	static const uint8_t zero[LB_ADDR_LEN];
	struct lb_dec d;
	uint64_t cnt;
	int rc;
	lb_dec_init(&d, p, n, "xchg.patients payload", em);
	if ((rc = lb_dec_fixed(&d, "asset", o->asset, LB_HASH_LEN)) ||
	    (rc = lb_dec_uvar(&d, "count", LB_XCHG_REGISTER_MAX, &cnt)))
		return rc;
	if (!cnt)
		return lb_dec_fail(&d, LB_EMALFORMED, "count", "registers no patient");
	o->n = (size_t)cnt;
	if ((rc = dec_sorted(&d, "entries", o->n, LB_XCHG_PATIENT_ENTRY, &o->entries)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	for (size_t i = 0; i < o->n; i++)
		if (!memcmp(o->entries + i * LB_XCHG_PATIENT_ENTRY + LB_HASH_LEN, zero, LB_ADDR_LEN))
			return lb_errf(em, LB_EMALFORMED,
				       "xchg.patients payload: entry %zu names no consent key", i);
	return LB_OK;
}

int lb_xchg_view_encode(struct lb_buf *b, const struct lb_xchg_view *p)
{
	int rc;
	if ((rc = lb_enc_fixed(b, p->asset, LB_HASH_LEN)) || (rc = lb_enc_u8(b, p->part)) ||
	    (rc = lb_enc_uvar(b, p->version)) || (rc = lb_enc_uvar(b, p->n_patients)) ||
	    (rc = lb_enc_fixed(b, p->patients, p->n_patients * LB_HASH_LEN)))
		return rc;
	return LB_OK;
}

int lb_xchg_view_decode(struct lb_xchg_view *o, const uint8_t *p, size_t n, struct lb_errmsg *em)
{
	struct lb_dec d;
	uint64_t cnt;
	int rc;
	lb_dec_init(&d, p, n, "xchg.view payload", em);
	if ((rc = lb_dec_fixed(&d, "asset", o->asset, LB_HASH_LEN)) ||
	    (rc = lb_dec_u8(&d, "part", &o->part)))
		return rc;
	if (o->part != LB_XCHG_VIEW_PRIVATE && o->part != LB_XCHG_VIEW_RAW)
		return lb_dec_fail(&d, LB_EMALFORMED, "part",
				   "%u is neither 1 (private description) nor 2 (raw data)", o->part);
	if ((rc = lb_dec_uvar(&d, "version", UINT64_MAX, &o->version)) ||
	    (rc = lb_dec_uvar(&d, "patient_count", LB_XCHG_VIEW_PATIENTS_MAX, &cnt)))
		return rc;
	o->n_patients = (size_t)cnt;
	if ((rc = dec_sorted(&d, "patients", o->n_patients, LB_HASH_LEN, &o->patients)))
		return rc;
	return lb_dec_end(&d);
}

int lb_xchg_exec_encode(struct lb_buf *b, const struct lb_xchg_exec *p)
{
	int rc;
	if ((rc = lb_enc_fixed(b, p->request, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(b, p->escrow, LB_HASH_LEN)) || (rc = enc_terms(b, &p->terms)) ||
	    (rc = lb_enc_u8(b, p->scenario)) || (rc = lb_enc_u8(b, p->chosen_by)) ||
	    (rc = lb_enc_uvar(b, p->n_patients)) ||
	    (rc = lb_enc_fixed(b, p->patients, p->n_patients * LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(b, p->noise_commit, LB_HASH_LEN)))
		return rc;
	return LB_OK;
}

int lb_xchg_exec_decode(struct lb_xchg_exec *o, const uint8_t *p, size_t n, struct lb_errmsg *em)
{
	struct lb_dec d;
	uint64_t np;
	int rc;
	lb_dec_init(&d, p, n, "xchg.exec payload", em);
	if ((rc = lb_dec_fixed(&d, "request", o->request, LB_HASH_LEN)) ||
	    (rc = lb_dec_fixed(&d, "escrow", o->escrow, LB_HASH_LEN)) ||
	    (rc = dec_terms(&d, &o->terms)) || (rc = lb_dec_u8(&d, "scenario", &o->scenario)))
		return rc;
	if (o->scenario < LB_XCHG_LOCAL || o->scenario > LB_XCHG_INTEGRATED)
		return lb_dec_fail(&d, LB_EMALFORMED, "scenario",
				   "%u is not 1 (local), 2 (off-site) or 3 (integrated)", o->scenario);
	if ((rc = lb_dec_u8(&d, "chosen_by", &o->chosen_by)))
		return rc;
	if (o->chosen_by != 1 && o->chosen_by != 2)
		return lb_dec_fail(&d, LB_EMALFORMED, "chosen_by",
				   "%u is neither 1 (the user) nor 2 (automatic)", o->chosen_by);
	if ((rc = lb_dec_uvar(&d, "patient_count", LB_XCHG_PATIENTS_MAX, &np)))
		return rc;
	o->n_patients = (size_t)np;
	if (d.len - d.pos < o->n_patients * LB_HASH_LEN)
		return lb_dec_fail(&d, LB_EMALFORMED, "patients", "%zu patient ids announced, fewer given",
				   o->n_patients);
	o->patients = d.p + d.pos;
	d.pos += o->n_patients * LB_HASH_LEN;
	if ((rc = lb_dec_fixed(&d, "noise_commit", o->noise_commit, LB_HASH_LEN)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	for (size_t i = 1; i < o->n_patients; i++)
		if (memcmp(o->patients + (i - 1) * LB_HASH_LEN, o->patients + i * LB_HASH_LEN,
			   LB_HASH_LEN) >= 0)
			return lb_errf(em, LB_EMALFORMED,
				       "xchg.exec payload: patient ids must be sorted and distinct "
				       "(entry %zu is not above entry %zu)",
				       i, i - 1);
	return LB_OK;
}

int lb_xchg_result_encode(struct lb_buf *b, const struct lb_xchg_result *p)
{
	int rc;
	if ((rc = lb_enc_fixed(b, p->request, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(b, p->escrow, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(b, p->terms_hash, LB_HASH_LEN)) || (rc = lb_enc_u8(b, p->status)) ||
	    (rc = lb_enc_fixed(b, p->result_hash, LB_HASH_LEN)) || (rc = lb_enc_u8(b, p->reason)))
		return rc;
	if (p->metered && ((rc = lb_enc_u8(b, 1)) || (rc = lb_enc_uvar(b, p->cpu_ms)) ||
			   (rc = lb_enc_uvar(b, p->peak_mem))))
		return rc;
	return LB_OK;
}

int lb_xchg_result_decode(struct lb_xchg_result *o, const uint8_t *p, size_t n,
			  struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, p, n, "xchg.result payload", em);
	if ((rc = lb_dec_fixed(&d, "request", o->request, LB_HASH_LEN)) ||
	    (rc = lb_dec_fixed(&d, "escrow", o->escrow, LB_HASH_LEN)) ||
	    (rc = lb_dec_fixed(&d, "terms_hash", o->terms_hash, LB_HASH_LEN)) ||
	    (rc = lb_dec_u8(&d, "status", &o->status)))
		return rc;
	if (o->status < LB_XCHG_DELIVERED || o->status > LB_XCHG_FAILED)
		return lb_dec_fail(&d, LB_EMALFORMED, "status",
				   "%u is not 1 (delivered), 2 (withheld) or 3 (failed)", o->status);
	if ((rc = lb_dec_fixed(&d, "result_hash", o->result_hash, LB_HASH_LEN)) ||
	    (rc = lb_dec_u8(&d, "reason", &o->reason)))
		return rc;
	/* only a fixed code, and only one that fits the status: no free text on the chain */
	static const uint8_t allowed[] = {
		[LB_XCHG_DELIVERED] = 1u << LB_XCHG_REASON_NONE,
		[LB_XCHG_WITHHELD] = 1u << LB_XCHG_REASON_COHORT | 1u << LB_XCHG_REASON_BUDGET |
				     1u << LB_XCHG_REASON_DIFFERENCING | 1u << LB_XCHG_REASON_LIMIT |
				     1u << LB_XCHG_REASON_POLICY,
		[LB_XCHG_FAILED] = 1u << LB_XCHG_REASON_FAILED | 1u << LB_XCHG_REASON_LIMIT,
	};
	if (o->reason > LB_XCHG_REASON_MAX || !(allowed[o->status] & (1u << o->reason)))
		return lb_dec_fail(&d, LB_EMALFORMED, "reason",
				   "code %u does not fit status %u (delivered: 0; withheld: 1 cohort, "
				   "2 budget, 3 differencing, 5 limit, 6 policy; failed: 4 failed, 5 limit)",
				   o->reason, o->status);
	o->metered = 0;
	o->cpu_ms = o->peak_mem = 0;
	if (d.pos < d.len) {
		if ((rc = lb_dec_u8(&d, "metered", &o->metered)))
			return rc;
		if (o->metered != 1)
			return lb_dec_fail(&d, LB_EMALFORMED, "metered",
					   "%u is not 1 (cpu_ms and peak_mem follow); leave the tail "
					   "out for an unmetered run",
					   o->metered);
		if ((rc = lb_dec_uvar(&d, "cpu_ms", UINT64_MAX, &o->cpu_ms)) ||
		    (rc = lb_dec_uvar(&d, "peak_mem", UINT64_MAX, &o->peak_mem)))
			return rc;
	}
	return lb_dec_end(&d);
}

int lb_xchg_revoke_encode(struct lb_buf *b, const struct lb_xchg_revoke *p)
{
	int rc;
	if ((rc = lb_enc_u8(b, p->kind)) || (rc = lb_enc_fixed(b, p->id, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(b, p->executor, LB_ADDR_LEN)))
		return rc;
	return LB_OK;
}

int lb_xchg_revoke_decode(struct lb_xchg_revoke *o, const uint8_t *p, size_t n,
			  struct lb_errmsg *em)
{
	static const uint8_t zero[LB_ADDR_LEN];
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, p, n, "xchg.revoke payload", em);
	if ((rc = lb_dec_u8(&d, "kind", &o->kind)))
		return rc;
	if (o->kind < 1 || o->kind > 3)
		return lb_dec_fail(&d, LB_EMALFORMED, "kind",
				   "%u is not 1 (execution right), 2 (usage right) or 3 (offer)",
				   o->kind);
	if ((rc = lb_dec_fixed(&d, "id", o->id, LB_HASH_LEN)) ||
	    (rc = lb_dec_fixed(&d, "executor", o->executor, LB_ADDR_LEN)) || (rc = lb_dec_end(&d)))
		return rc;
	if (o->kind != 1 && memcmp(o->executor, zero, LB_ADDR_LEN))
		return lb_errf(em, LB_EMALFORMED,
			       "xchg.revoke payload: executor must be zero unless kind is 1");
	return LB_OK;
}

/* ---- settlement -------------------------------------------------------------------------- */

int lb_escrow_open_encode(struct lb_buf *b, const struct lb_escrow_open *p)
{
	int rc;
	if ((rc = enc_terms(b, &p->terms)) || (rc = lb_enc_uvar(b, p->timeout)))
		return rc;
	return LB_OK;
}

int lb_escrow_open_decode(struct lb_escrow_open *o, const uint8_t *p, size_t n,
			  struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, p, n, "escrow.open payload", em);
	if ((rc = dec_terms(&d, &o->terms)) || (rc = lb_dec_uvar(&d, "timeout", U64, &o->timeout)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	const struct lb_xchg_terms *t = &o->terms;
	if (t->data_fee > U64 - t->algo_fee)
		return lb_errf(em, LB_ERANGE, "escrow.open: data_fee + algo_fee overflows");
	if (t->data_fee + t->algo_fee == 0 && t->compute_fee == 0)
		return lb_errf(em, LB_EINVALID, "escrow.open: nothing to lock (all fees are zero)");
	return LB_OK;
}

int lb_escrow_cite_encode(struct lb_buf *b, const struct lb_escrow_cite *p)
{
	int rc;
	if ((rc = lb_enc_fixed(b, p->escrow, LB_HASH_LEN)) ||
	    (rc = lb_enc_bytes(b, p->result_tx, p->result_tx_len)) ||
	    (rc = lb_enc_bytes(b, p->proof, p->proof_len)))
		return rc;
	return LB_OK;
}

int lb_escrow_cite_decode(struct lb_escrow_cite *o, const uint8_t *p, size_t n,
			  struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, p, n, "escrow payload", em);
	if ((rc = lb_dec_fixed(&d, "escrow", o->escrow, LB_HASH_LEN)) ||
	    (rc = lb_dec_bytes(&d, "result_tx", LB_XCHG_REGTX_MAX, &o->result_tx,
			       &o->result_tx_len)) ||
	    (rc = lb_dec_bytes(&d, "proof", LB_XCHG_PROOF_MAX, &o->proof, &o->proof_len)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (!o->result_tx_len != !o->proof_len)
		return lb_errf(em, LB_EINVALID,
			       "escrow payload: give both the result tx and its proof, or neither");
	return LB_OK;
}

int lb_escrow_claim_encode(struct lb_buf *b, const struct lb_escrow_claim *p)
{
	int rc;
	if ((rc = lb_enc_fixed(b, p->escrow, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(b, p->result_hash, LB_HASH_LEN)))
		return rc;
	return LB_OK;
}

int lb_escrow_claim_decode(struct lb_escrow_claim *o, const uint8_t *p, size_t n,
			   struct lb_errmsg *em)
{
	struct lb_dec d;
	int rc;
	lb_dec_init(&d, p, n, "escrow.claim payload", em);
	if ((rc = lb_dec_fixed(&d, "escrow", o->escrow, LB_HASH_LEN)) ||
	    (rc = lb_dec_fixed(&d, "result_hash", o->result_hash, LB_HASH_LEN)))
		return rc;
	return lb_dec_end(&d);
}
