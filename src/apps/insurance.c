/*
 * Data-driven insurance (include/leben/insurance.h; docs/apps.md, "5. Data-driven insurance").
 * Business chain: ins.policy, ins.enrol, ins.event, ins.claim (adjudicated here, the same on
 * every node); settlement chain: ins.fund (ASC locked in the policy's pool), ins.settle (a
 * valid claim, cited with its proof anchored in a settlement block, paid once from the pool to
 * the provider).
 *
 * Business state:
 *   ins.pol / policy id            -> insurer(20) uvar height, then the ins.policy payload
 *   ins.en  / policy||patient      -> enrolment height
 *   ins.cov / H(policy||patient)   -> policy||patient (the FHIR Coverage id)
 *   ins.prem / ins.fund tx id      -> 1 once cited as a premium by an enrolment
 *   ins.ev  / event hash           -> provider(20) patient(20) kind(1) uvar height, str code,
 *                                     bytes fingerprint
 *   ins.evc / event hash           -> the claim id that used it
 *   ins.cl  / claim id             -> policy(32) patient(20) provider(20) condition(32)
 *                                     procedure(32) uvar cost approved copay uncovered height
 *                                     period time_ms, str diagnosis, str procedure code
 *   ins.use / policy||patient||period(8, big-endian) -> approved micro-ASC in that period
 *   ins.n   / policy||patient      -> claims so far; ins.i / policy||patient||n(8) -> claim id
 * Settlement state: ins.paid / claim id -> 1; pools are plain accounts (lb_ins_pool_addr).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "leben/codec.h"
#include "leben/data_dedup.h"
#include "leben/exchange.h"
#include "leben/insurance.h"
#include "leben/market.h"

#define NS_POL "ins.pol"
#define NS_EN "ins.en"
#define NS_EV "ins.ev"
#define NS_EVC "ins.evc"
#define NS_CL "ins.cl"
#define NS_USE "ins.use"
#define NS_N "ins.n"
#define NS_I "ins.i"
#define NS_PAID "ins.paid"
#define NS_COV "ins.cov"
#define NS_PREM "ins.prem"

static const char *hex_text(char out[2 * LB_HASH_LEN + 1], const uint8_t *p)
{
	lb_hex_encode(out, p, LB_HASH_LEN);
	return out;
}
#define HEX(p) hex_text((char[2 * LB_HASH_LEN + 1]){0}, (p))

static const char *addr_text(char out[LB_ADDR_TEXT_LEN + 1], const uint8_t a[LB_ADDR_LEN])
{
	lb_addr_encode(out, a);
	return out;
}
#define ADDR(a) addr_text((char[LB_ADDR_TEXT_LEN + 1]){0}, (a))

static const char *amt(char *buf, size_t n, uint64_t v)
{
	snprintf(buf, n, "%llu.%06llu", (unsigned long long)(v / 1000000),
		 (unsigned long long)(v % 1000000));
	return buf;
}
#define AMT(v) amt((char[32]){0}, 32, (v))

/* ---- codec ---------------------------------------------------------------------------------- */

static int code_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '|'))
			return 0;
	return 1;
}

int lb_ins_tx_encode(struct lb_buf *b, const struct lb_ins_tx *p, struct lb_errmsg *em)
{
	/* version 2: a policy priced from an exchange request's released model */
	int rc = lb_enc_u8(b, p->type == LB_TX_INS_POLICY && p->has_model ? 2 : 1);
	switch (p->type) {
	case LB_TX_INS_POLICY:
		if (!p->name[0] || strlen(p->name) > LB_INS_NAME_MAX)
			return lb_errf(em, LB_EINVALID, "the policy needs a name of 1 to %d bytes",
				       LB_INS_NAME_MAX);
		if (!p->npairs || p->npairs > LB_INS_PAIRS_MAX)
			return lb_errf(em, LB_EINVALID,
				       "the policy needs 1 to %d covered diagnosis:procedure pairs",
				       LB_INS_PAIRS_MAX);
		for (size_t i = 0; i < p->npairs; i++)
			if (!code_ok(p->diag[i]) || !code_ok(p->proc[i]) ||
			    strlen(p->diag[i]) > LB_INS_CODE_MAX || strlen(p->proc[i]) > LB_INS_CODE_MAX)
				return lb_errf(em, LB_EINVALID,
					       "covered pair %zu '%s:%s': codes are 1-%d characters of "
					       "A-Z a-z 0-9 . - |",
					       i + 1, p->diag[i], p->proc[i], LB_INS_CODE_MAX);
		if (p->copay_bp > LB_INS_COPAY_MAX)
			return lb_errf(em, LB_EINVALID, "the co-payment must be 0 to 100 %%");
		if (!p->limit_claim || !p->limit_period || !p->period_blocks)
			return lb_errf(em, LB_EINVALID, "the limits per claim and per period and the "
							"period length must be above 0");
		rc = rc ? rc : lb_enc_str(b, p->name);
		rc = rc ? rc : lb_enc_uvar(b, p->npairs);
		for (size_t i = 0; !rc && i < p->npairs; i++)
			if (!(rc = lb_enc_str(b, p->diag[i])))
				rc = lb_enc_str(b, p->proc[i]);
		rc = rc ? rc : lb_enc_uvar(b, p->limit_claim);
		rc = rc ? rc : lb_enc_uvar(b, p->limit_period);
		rc = rc ? rc : lb_enc_uvar(b, p->period_blocks);
		rc = rc ? rc : lb_enc_uvar(b, p->waiting_blocks);
		rc = rc ? rc : lb_enc_uvar(b, p->copay_bp);
		rc = rc ? rc : lb_enc_uvar(b, p->premium);
		if (p->has_model)
			rc = rc ? rc : lb_enc_fixed(b, p->model, LB_HASH_LEN);
		break;
	case LB_TX_INS_ENROL:
		rc = rc ? rc : lb_enc_fixed(b, p->policy, LB_HASH_LEN);
		rc = rc ? rc : lb_enc_bytes(b, p->cited, p->cited_len);
		rc = rc ? rc : lb_enc_bytes(b, p->proof, p->proof_len);
		break;
	case LB_TX_INS_EVENT:
		if (p->kind != LB_INS_CONDITION && p->kind != LB_INS_PROCEDURE)
			return lb_errf(em, LB_EINVALID, "the event kind must be condition or procedure");
		if (!code_ok(p->code) || strlen(p->code) > LB_INS_CODE_MAX)
			return lb_errf(em, LB_EINVALID, "event code '%s': 1-%d characters of A-Z a-z "
							"0-9 . - |",
				       p->code, LB_INS_CODE_MAX);
		if (p->fp_len && p->fp_len != LB_TEXT_FP_SIZE)
			return lb_errf(em, LB_EINVALID, "the text fingerprint must be %d bytes",
				       LB_TEXT_FP_SIZE);
		rc = rc ? rc : lb_enc_u8(b, p->kind);
		rc = rc ? rc : lb_enc_fixed(b, p->patient, LB_ADDR_LEN);
		rc = rc ? rc : lb_enc_str(b, p->code);
		rc = rc ? rc : lb_enc_fixed(b, p->hash, LB_HASH_LEN);
		rc = rc ? rc : lb_enc_bytes(b, p->fp, p->fp_len);
		break;
	case LB_TX_INS_CLAIM:
		if (!p->cost)
			return lb_errf(em, LB_EINVALID, "the claim's cost must be above 0");
		rc = rc ? rc : lb_enc_fixed(b, p->policy, LB_HASH_LEN);
		rc = rc ? rc : lb_enc_fixed(b, p->patient, LB_ADDR_LEN);
		rc = rc ? rc : lb_enc_fixed(b, p->condition, LB_HASH_LEN);
		rc = rc ? rc : lb_enc_fixed(b, p->procedure, LB_HASH_LEN);
		rc = rc ? rc : lb_enc_uvar(b, p->cost);
		rc = rc ? rc : lb_enc_uvar(b, p->approved);
		break;
	case LB_TX_INS_FUND:
		if (!p->amount)
			return lb_errf(em, LB_EINVALID, "the amount must be above 0");
		rc = rc ? rc : lb_enc_fixed(b, p->policy, LB_HASH_LEN);
		rc = rc ? rc : lb_enc_uvar(b, p->amount);
		break;
	case LB_TX_INS_SETTLE:
		rc = rc ? rc : lb_enc_bytes(b, p->cited, p->cited_len);
		rc = rc ? rc : lb_enc_bytes(b, p->proof, p->proof_len);
		break;
	default:
		return lb_errf(em, LB_EINVALID, "not an insurance tx type");
	}
	return rc ? lb_errf(em, rc, "encoding the insurance payload failed") : LB_OK;
}

int lb_ins_tx_decode(uint32_t type, const uint8_t *buf, size_t n, struct lb_ins_tx *p,
		     struct lb_errmsg *em)
{
	struct lb_dec d;
	uint8_t ver;
	uint64_t v;
	int rc;
	memset(p, 0, sizeof *p);
	p->type = type;
	lb_dec_init(&d, buf, n, "insurance payload", em);
	if ((rc = lb_dec_u8(&d, "version", &ver)))
		return rc;
	if (ver != 1 && !(ver == 2 && type == LB_TX_INS_POLICY))
		return lb_dec_fail(&d, LB_EMALFORMED, "version", "version %u is not 1", ver);
	switch (type) {
	case LB_TX_INS_POLICY:
		if ((rc = lb_dec_str(&d, "name", LB_INS_NAME_MAX, p->name, sizeof p->name)) ||
		    (rc = lb_dec_uvar(&d, "pairs", LB_INS_PAIRS_MAX, &v)))
			return rc;
		p->npairs = (size_t)v;
		for (size_t i = 0; i < p->npairs; i++)
			if ((rc = lb_dec_str(&d, "diagnosis", LB_INS_CODE_MAX, p->diag[i],
					     sizeof p->diag[i])) ||
			    (rc = lb_dec_str(&d, "procedure", LB_INS_CODE_MAX, p->proc[i],
					     sizeof p->proc[i])))
				return rc;
		if ((rc = lb_dec_uvar(&d, "limit_claim", UINT64_MAX, &p->limit_claim)) ||
		    (rc = lb_dec_uvar(&d, "limit_period", UINT64_MAX, &p->limit_period)) ||
		    (rc = lb_dec_uvar(&d, "period_blocks", UINT64_MAX, &p->period_blocks)) ||
		    (rc = lb_dec_uvar(&d, "waiting_blocks", UINT64_MAX, &p->waiting_blocks)) ||
		    (rc = lb_dec_uvar(&d, "copay_bp", LB_INS_COPAY_MAX, &v)) ||
		    (rc = lb_dec_uvar(&d, "premium", UINT64_MAX, &p->premium)))
			return rc;
		p->copay_bp = (uint32_t)v;
		if (ver == 2) {
			if ((rc = lb_dec_fixed(&d, "model", p->model, LB_HASH_LEN)))
				return rc;
			p->has_model = true;
		}
		break;
	case LB_TX_INS_ENROL:
		if ((rc = lb_dec_fixed(&d, "policy", p->policy, LB_HASH_LEN)) ||
		    (rc = lb_dec_bytes(&d, "premium_tx", LB_TX_PAYLOAD_MAX + 1024, &p->cited,
				       &p->cited_len)) ||
		    (rc = lb_dec_bytes(&d, "premium_proof", LB_INS_PROOF_MAX, &p->proof,
				       &p->proof_len)))
			return rc;
		break;
	case LB_TX_INS_EVENT:
		if ((rc = lb_dec_u8(&d, "kind", &p->kind)) ||
		    (rc = lb_dec_fixed(&d, "patient", p->patient, LB_ADDR_LEN)) ||
		    (rc = lb_dec_str(&d, "code", LB_INS_CODE_MAX, p->code, sizeof p->code)) ||
		    (rc = lb_dec_fixed(&d, "hash", p->hash, LB_HASH_LEN)) ||
		    (rc = lb_dec_bytes(&d, "fingerprint", LB_TEXT_FP_SIZE, &p->fp, &p->fp_len)))
			return rc;
		break;
	case LB_TX_INS_CLAIM:
		if ((rc = lb_dec_fixed(&d, "policy", p->policy, LB_HASH_LEN)) ||
		    (rc = lb_dec_fixed(&d, "patient", p->patient, LB_ADDR_LEN)) ||
		    (rc = lb_dec_fixed(&d, "condition", p->condition, LB_HASH_LEN)) ||
		    (rc = lb_dec_fixed(&d, "procedure", p->procedure, LB_HASH_LEN)) ||
		    (rc = lb_dec_uvar(&d, "cost", UINT64_MAX, &p->cost)) ||
		    (rc = lb_dec_uvar(&d, "approved", UINT64_MAX, &p->approved)))
			return rc;
		break;
	case LB_TX_INS_FUND:
		if ((rc = lb_dec_fixed(&d, "policy", p->policy, LB_HASH_LEN)) ||
		    (rc = lb_dec_uvar(&d, "amount", UINT64_MAX, &p->amount)))
			return rc;
		break;
	case LB_TX_INS_SETTLE:
		if ((rc = lb_dec_bytes(&d, "cited", LB_TX_PAYLOAD_MAX + 1024, &p->cited,
				       &p->cited_len)) ||
		    (rc = lb_dec_bytes(&d, "proof", LB_INS_PROOF_MAX, &p->proof, &p->proof_len)))
			return rc;
		break;
	default:
		return lb_errf(em, LB_EINVALID, "not an insurance tx type");
	}
	if (rc || (rc = lb_dec_end(&d)))
		return rc;
	/* the encoder's range checks, on what was decoded */
	struct lb_buf b;
	lb_buf_init(&b, LB_TX_PAYLOAD_MAX);
	rc = lb_ins_tx_encode(&b, p, em);
	lb_buf_release(&b);
	return rc ? LB_EMALFORMED : LB_OK;
}

void lb_ins_pool_addr(const uint8_t policy[LB_HASH_LEN], uint8_t out[LB_ADDR_LEN])
{
	static const char tag[] = "LEBEN-insurance-pool-v1";
	uint8_t in[sizeof tag - 1 + LB_HASH_LEN], h[LB_HASH_LEN];
	memcpy(in, tag, sizeof tag - 1);
	memcpy(in + sizeof tag - 1, policy, LB_HASH_LEN);
	lb_hash(h, in, sizeof in);
	memcpy(out, h, LB_ADDR_LEN);
}

/* ---- records -------------------------------------------------------------------------------- */

struct ins_policy {
	uint8_t insurer[LB_ADDR_LEN];
	uint64_t height;
	struct lb_ins_tx t;
};

struct ins_event {
	uint8_t provider[LB_ADDR_LEN], patient[LB_ADDR_LEN];
	uint8_t kind;
	uint64_t height;
	char code[LB_INS_CODE_MAX + 1];
	uint8_t fp[LB_TEXT_FP_SIZE];
	size_t fp_len;
};

struct ins_claim {
	uint8_t policy[LB_HASH_LEN], patient[LB_ADDR_LEN], provider[LB_ADDR_LEN];
	uint8_t condition[LB_HASH_LEN], procedure[LB_HASH_LEN];
	uint64_t cost, approved, copay, uncovered, height, period, time_ms;
	char diag[LB_INS_CODE_MAX + 1], proc[LB_INS_CODE_MAX + 1];
};

/* A decoder over the record under (ns, key); LB_ENOTFOUND if absent. */
static int rec_open(struct lb_state *s, const char *ns, const uint8_t *key, size_t klen,
		    struct lb_dec *d)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, ns, key, klen, &v, &n);
	if (!rc)
		lb_dec_init(d, v, n, ns, NULL);
	return rc;
}

static int policy_load(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct ins_policy *r)
{
	struct lb_dec d;
	int rc = rec_open(s, NS_POL, id, LB_HASH_LEN, &d);
	if (rc)
		return rc;
	const uint8_t *v = d.p;
	size_t n = d.len;
	if (lb_dec_fixed(&d, "insurer", r->insurer, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "height", UINT64_MAX, &r->height) ||
	    lb_ins_tx_decode(LB_TX_INS_POLICY, v + d.pos, n - d.pos, &r->t, NULL))
		return LB_ECORRUPT;
	return LB_OK;
}

static int event_load(struct lb_state *s, const uint8_t h[LB_HASH_LEN], struct ins_event *r)
{
	const uint8_t *fp;
	struct lb_dec d;
	int rc = rec_open(s, NS_EV, h, LB_HASH_LEN, &d);
	if (rc)
		return rc;
	if (lb_dec_fixed(&d, "provider", r->provider, LB_ADDR_LEN) ||
	    lb_dec_fixed(&d, "patient", r->patient, LB_ADDR_LEN) || lb_dec_u8(&d, "kind", &r->kind) ||
	    lb_dec_uvar(&d, "height", UINT64_MAX, &r->height) ||
	    lb_dec_str(&d, "code", LB_INS_CODE_MAX, r->code, sizeof r->code) ||
	    lb_dec_bytes(&d, "fp", LB_TEXT_FP_SIZE, &fp, &r->fp_len) || lb_dec_end(&d))
		return LB_ECORRUPT;
	memcpy(r->fp, fp, r->fp_len);
	return LB_OK;
}

static int claim_store(struct lb_state *s, const uint8_t id[LB_HASH_LEN], const struct ins_claim *r)
{
	struct lb_buf b;
	lb_buf_init(&b, 1024);
	int rc = lb_enc_fixed(&b, r->policy, LB_HASH_LEN);
	rc = rc ? rc : lb_enc_fixed(&b, r->patient, LB_ADDR_LEN);
	rc = rc ? rc : lb_enc_fixed(&b, r->provider, LB_ADDR_LEN);
	rc = rc ? rc : lb_enc_fixed(&b, r->condition, LB_HASH_LEN);
	rc = rc ? rc : lb_enc_fixed(&b, r->procedure, LB_HASH_LEN);
	uint64_t u[7] = {r->cost,   r->approved, r->copay,  r->uncovered,
			 r->height, r->period,   r->time_ms};
	for (int i = 0; i < 7 && !rc; i++)
		rc = lb_enc_uvar(&b, u[i]);
	rc = rc ? rc : lb_enc_str(&b, r->diag);
	rc = rc ? rc : lb_enc_str(&b, r->proc);
	rc = rc ? rc : lb_state_put(s, NS_CL, id, LB_HASH_LEN, b.data, b.len);
	lb_buf_release(&b);
	return rc;
}

static int claim_load(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct ins_claim *r)
{
	struct lb_dec d;
	int rc = rec_open(s, NS_CL, id, LB_HASH_LEN, &d);
	if (rc)
		return rc;
	uint64_t *u[7] = {&r->cost,   &r->approved, &r->copay,  &r->uncovered,
			  &r->height, &r->period,   &r->time_ms};
	if (lb_dec_fixed(&d, "", r->policy, LB_HASH_LEN) ||
	    lb_dec_fixed(&d, "", r->patient, LB_ADDR_LEN) ||
	    lb_dec_fixed(&d, "", r->provider, LB_ADDR_LEN) ||
	    lb_dec_fixed(&d, "", r->condition, LB_HASH_LEN) ||
	    lb_dec_fixed(&d, "", r->procedure, LB_HASH_LEN))
		return LB_ECORRUPT;
	for (int i = 0; i < 7; i++)
		if (lb_dec_uvar(&d, "", UINT64_MAX, u[i]))
			return LB_ECORRUPT;
	if (lb_dec_str(&d, "", LB_INS_CODE_MAX, r->diag, sizeof r->diag) ||
	    lb_dec_str(&d, "", LB_INS_CODE_MAX, r->proc, sizeof r->proc) || lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

/* policy||patient, optionally ||u64 big-endian */
static size_t pp_key(uint8_t k[LB_HASH_LEN + LB_ADDR_LEN + 8], const uint8_t policy[LB_HASH_LEN],
		     const uint8_t patient[LB_ADDR_LEN], bool with_n, uint64_t n)
{
	memcpy(k, policy, LB_HASH_LEN);
	memcpy(k + LB_HASH_LEN, patient, LB_ADDR_LEN);
	if (!with_n)
		return LB_HASH_LEN + LB_ADDR_LEN;
	for (int i = 0; i < 8; i++)
		k[LB_HASH_LEN + LB_ADDR_LEN + i] = (uint8_t)(n >> (56 - 8 * i));
	return LB_HASH_LEN + LB_ADDR_LEN + 8;
}

/* ---- adjudication --------------------------------------------------------------------------- */

/* Every check of a claim p by provider at height; the outcome into r. Refusals: LB_ENOTFOUND
 * (unknown policy or event), LB_EUNAUTH (events not anchored by this provider for this
 * patient), LB_EINVALID (uncovered patient, diagnosis, procedure inconsistent with it, waiting
 * period), LB_EEXISTS (an event already claimed, or a near copy of an earlier claim's
 * procedure), LB_ERANGE (over the period limit); each with its message. */
static int adjudicate(struct lb_state *s, const uint8_t provider[LB_ADDR_LEN], uint64_t height,
		      const struct lb_ins_tx *p, struct ins_claim *r, struct lb_errmsg *em)
{
	struct ins_policy *pol = lb_malloc(sizeof *pol);
	struct ins_event c, pr;
	uint64_t enrolled = 0, used = 0, prev = 0, n = 0;
	uint8_t k[LB_HASH_LEN + LB_ADDR_LEN + 8];
	int rc;
	if (!pol)
		return LB_ENOMEM;
	memset(r, 0, sizeof *r);
	rc = policy_load(s, p->policy, pol);
	if (rc == LB_ENOTFOUND) {
		rc = lb_errf(em, LB_ENOTFOUND, "policy %s is not registered (leben insurance policy)",
			     HEX(p->policy));
		goto out;
	}
	if (rc)
		goto out;
	const char *which[2] = {"condition", "procedure"};
	const uint8_t *hs[2] = {p->condition, p->procedure};
	struct ins_event *ev[2] = {&c, &pr};
	for (int i = 0; i < 2; i++) {
		rc = event_load(s, hs[i], ev[i]);
		if (rc == LB_ENOTFOUND) {
			rc = lb_errf(em, LB_ENOTFOUND,
				     "the %s %s is not anchored on the chain: the provider records it "
				     "first (leben insurance event)",
				     which[i], HEX(hs[i]));
			goto out;
		}
		if (rc)
			goto out;
		if (memcmp(ev[i]->provider, provider, LB_ADDR_LEN)) {
			rc = lb_errf(em, LB_EUNAUTH,
				     "the %s %s was anchored by %s, not by the claiming %s: only the "
				     "provider that treated the patient may claim",
				     which[i], HEX(hs[i]), ADDR(ev[i]->provider), ADDR(provider));
			goto out;
		}
		if (memcmp(ev[i]->patient, p->patient, LB_ADDR_LEN)) {
			rc = lb_errf(em, LB_EUNAUTH, "the %s %s is of patient %s, not of %s", which[i],
				     HEX(hs[i]), ADDR(ev[i]->patient), ADDR(p->patient));
			goto out;
		}
		if (ev[i]->kind != i + 1) {
			rc = lb_errf(em, LB_EINVALID, "event %s is not a %s", HEX(hs[i]), which[i]);
			goto out;
		}
		uint8_t cid[LB_HASH_LEN];
		const uint8_t *v;
		size_t vn;
		rc = lb_state_get(s, NS_EVC, hs[i], LB_HASH_LEN, &v, &vn);
		if (rc == LB_OK) {
			memcpy(cid, v, vn < LB_HASH_LEN ? vn : LB_HASH_LEN);
			rc = lb_errf(em, LB_EEXISTS,
				     "the %s %s was already claimed by claim %s: an event is paid once",
				     which[i], HEX(hs[i]), HEX(cid));
			goto out;
		}
		if (rc != LB_ENOTFOUND)
			goto out;
	}
	size_t kl = pp_key(k, p->policy, p->patient, false, 0);
	if ((rc = lb_state_get_u64(s, NS_EN, k, kl, 0, &enrolled)))
		goto out;
	if (!enrolled) {
		rc = lb_errf(em, LB_EINVALID,
			     "patient %s is not enrolled in policy '%s' (the patient enrols with "
			     "their own key: leben insurance enrol)",
			     ADDR(p->patient), pol->t.name);
		goto out;
	}
	bool diag_known = false, pair = false;
	for (size_t i = 0; i < pol->t.npairs; i++) {
		if (!strcmp(pol->t.diag[i], c.code)) {
			diag_known = true;
			pair = pair || !strcmp(pol->t.proc[i], pr.code);
		}
	}
	if (!diag_known) {
		rc = lb_errf(em, LB_EINVALID, "diagnosis %s is not covered by policy '%s'", c.code,
			     pol->t.name);
		goto out;
	}
	if (!pair) {
		rc = lb_errf(em, LB_EINVALID,
			     "procedure %s is inconsistent with diagnosis %s under policy '%s' (its "
			     "code table lists the procedures covered for each diagnosis)",
			     pr.code, c.code, pol->t.name);
		goto out;
	}
	if (height < enrolled + pol->t.waiting_blocks) {
		rc = lb_errf(em, LB_EINVALID,
			     "the claim is in the waiting period: enrolled at height %llu, claims "
			     "from height %llu (now %llu)",
			     (unsigned long long)enrolled,
			     (unsigned long long)(enrolled + pol->t.waiting_blocks),
			     (unsigned long long)height);
		goto out;
	}
	/* near copies: earlier claims of this patient under this policy for the same codes whose
	 * procedure texts are near duplicates (the data layer's text fingerprint) */
	if ((rc = lb_state_get_u64(s, NS_N, k, kl, 0, &n)))
		goto out;
	struct lb_text_fp fa, fb;
	bool have_fp = pr.fp_len && !lb_text_fp_decode(pr.fp, pr.fp_len, &fa);
	for (uint64_t i = 0; have_fp && i < n; i++) {
		uint8_t ik[LB_HASH_LEN + LB_ADDR_LEN + 8], cid[LB_HASH_LEN];
		const uint8_t *v;
		size_t vn;
		struct ins_claim old;
		struct ins_event oe;
		size_t il = pp_key(ik, p->policy, p->patient, true, i);
		if ((rc = lb_state_get(s, NS_I, ik, il, &v, &vn)) || vn != LB_HASH_LEN)
			goto corrupt;
		memcpy(cid, v, LB_HASH_LEN);
		if ((rc = claim_load(s, cid, &old)) || (rc = event_load(s, old.procedure, &oe)))
			goto corrupt;
		if (strcmp(old.diag, c.code) || strcmp(old.proc, pr.code) || !oe.fp_len ||
		    lb_text_fp_decode(oe.fp, oe.fp_len, &fb))
			continue;
		double sim = lb_text_similarity(&fa, &fb, NULL);
		if (sim >= LB_INS_NEAR) {
			rc = lb_errf(em, LB_EEXISTS,
				     "the procedure %s is a near copy (similarity %.2f) of the one "
				     "already claimed by claim %s for the same diagnosis and procedure",
				     HEX(p->procedure), sim, HEX(cid));
			goto out;
		}
	}
	uint64_t capped = p->cost < pol->t.limit_claim ? p->cost : pol->t.limit_claim;
	/* exact: capped x (10000 - co-pay) / 10000, rounded down (q x f + r x f / 10000) */
	uint64_t f = LB_INS_COPAY_MAX - pol->t.copay_bp;
	r->approved = capped / LB_INS_COPAY_MAX * f + capped % LB_INS_COPAY_MAX * f / LB_INS_COPAY_MAX;
	r->copay = capped - r->approved;
	r->uncovered = p->cost - capped;
	r->period = (height - enrolled) / pol->t.period_blocks;
	kl = pp_key(k, p->policy, p->patient, true, r->period);
	if ((rc = lb_state_get_u64(s, NS_USE, k, kl, 0, &used)))
		goto out;
	prev = used;
	if (used + r->approved > pol->t.limit_period) {
		rc = lb_errf(em, LB_ERANGE,
			     "the claim's %s ASC would take period %llu of patient %s to %s ASC, over "
			     "the policy's limit of %s ASC per period (%s ASC left)",
			     AMT(r->approved), (unsigned long long)r->period, ADDR(p->patient),
			     AMT(used + r->approved), AMT(pol->t.limit_period),
			     AMT(pol->t.limit_period - prev));
		goto out;
	}
	memcpy(r->policy, p->policy, LB_HASH_LEN);
	memcpy(r->patient, p->patient, LB_ADDR_LEN);
	memcpy(r->provider, provider, LB_ADDR_LEN);
	memcpy(r->condition, p->condition, LB_HASH_LEN);
	memcpy(r->procedure, p->procedure, LB_HASH_LEN);
	r->cost = p->cost;
	r->height = height;
	snprintf(r->diag, sizeof r->diag, "%s", c.code);
	snprintf(r->proc, sizeof r->proc, "%s", pr.code);
	rc = LB_OK;
	goto out;
corrupt:
	rc = lb_errf(em, LB_ECORRUPT, "the claims of patient %s are unreadable", ADDR(p->patient));
out:
	lb_free(pol);
	return rc;
}

/* ---- business handlers ---------------------------------------------------------------------- */

static int check_any(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_ins_tx p;
	return lb_ins_tx_decode(tx->type, tx->payload, tx->payload_len, &p, em);
}

/* A policy priced from a model: the insurer's own exchange request, with a delivered result
 * of the built-in logistic regression (the released coefficients, never rows). */
static int model_ok(struct lb_apply_ctx *c, const struct lb_ins_tx *p)
{
	uint8_t user[LB_ADDR_LEN], algo[LB_HASH_LEN], logreg[LB_HASH_LEN];
	int rc = lb_xchg_delivered(c->state, p->model, user, algo, c->em);
	if (rc)
		return rc;
	if (memcmp(user, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH, "the pricing model's exchange request %s was made "
			       "by %s, not by the insurer %s: price from your own request",
			       HEX(p->model), ADDR(user), ADDR(c->sender_addr));
	lb_xchg_builtin_hash(logreg, "logreg");
	if (memcmp(algo, logreg, LB_HASH_LEN))
		return lb_errf(c->em, LB_EINVALID, "the pricing model's exchange request %s did not "
			       "run builtin:logreg (the claim-risk model the premium comes from)",
			       HEX(p->model));
	return LB_OK;
}

static int apply_policy(struct lb_apply_ctx *c)
{
	struct lb_buf b;
	struct lb_ins_tx *p = lb_malloc(sizeof *p);
	int rc = p ? lb_ins_tx_decode(c->tx->type, c->tx->payload, c->tx->payload_len, p, c->em)
		   : LB_ENOMEM;
	if (!rc && p->has_model)
		rc = model_ok(c, p);
	lb_free(p);
	if (rc)
		return rc;
	lb_buf_init(&b, c->tx->payload_len + 64);
	rc = lb_enc_fixed(&b, c->sender_addr, LB_ADDR_LEN);
	rc = rc ? rc : lb_enc_uvar(&b, c->height);
	rc = rc ? rc : lb_enc_fixed(&b, c->tx->payload, c->tx->payload_len);
	rc = rc ? rc : lb_state_put(c->state, NS_POL, c->tx->id, LB_HASH_LEN, b.data, b.len);
	lb_buf_release(&b);
	return rc;
}

/* The enrolling patient's own ins.fund of at least the policy's premium into its pool, cited
 * with its proof anchored in a business block, used once. */
static int premium_paid(struct lb_apply_ctx *c, const struct lb_ins_tx *p,
			const struct ins_policy *pol)
{
	struct lb_tx tx;
	struct lb_ins_tx f;
	uint8_t payer[LB_ADDR_LEN];
	uint64_t used = 0;
	if (!p->cited_len)
		return lb_errf(c->em, LB_EFUNDS,
			       "policy '%s' costs a premium of %s ASC: pay it into the policy's pool "
			       "(ins.fund) and cite that payment ('leben insurance enrol' does both)",
			       pol->t.name, AMT(pol->t.premium));
	int rc = lb_apply_cite(c, "premium payment", p->cited, p->cited_len, p->proof,
			       p->proof_len, LB_CHAIN_SETTLEMENT, LB_TX_INS_FUND, &tx);
	if (rc || (rc = lb_ins_tx_decode(LB_TX_INS_FUND, tx.payload, tx.payload_len, &f, c->em)))
		return rc;
	lb_addr_from_pubkey(payer, tx.sender);
	if (memcmp(payer, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH,
			       "the cited premium payment %s was sent by %s, not by the enrolling %s",
			       HEX(tx.id), ADDR(payer), ADDR(c->sender_addr));
	if (memcmp(f.policy, p->policy, LB_HASH_LEN))
		return lb_errf(c->em, LB_EINVALID,
			       "the cited premium payment funds policy %s, not %s", HEX(f.policy),
			       HEX(p->policy));
	if (f.amount < pol->t.premium)
		return lb_errf(c->em, LB_EFUNDS,
			       "the cited premium payment is %s ASC but policy '%s' costs %s ASC",
			       AMT(f.amount), pol->t.name, AMT(pol->t.premium));
	if ((rc = lb_state_get_u64(c->state, NS_PREM, tx.id, LB_HASH_LEN, 0, &used)))
		return rc;
	if (used)
		return lb_errf(c->em, LB_EEXISTS, "premium payment %s was already cited by an "
						  "enrolment",
			       HEX(tx.id));
	return lb_state_put_u64(c->state, NS_PREM, tx.id, LB_HASH_LEN, 1);
}

static int apply_enrol(struct lb_apply_ctx *c)
{
	struct lb_ins_tx *p = lb_malloc(sizeof *p);
	struct ins_policy *pol = lb_malloc(sizeof *pol);
	uint8_t k[LB_HASH_LEN + LB_ADDR_LEN + 8];
	uint64_t h = 0;
	int rc = p && pol ? lb_ins_tx_decode(c->tx->type, c->tx->payload, c->tx->payload_len, p,
					      c->em)
			  : LB_ENOMEM;
	if (rc)
		goto out;
	rc = policy_load(c->state, p->policy, pol);
	if (rc == LB_ENOTFOUND)
		rc = lb_errf(c->em, LB_ENOTFOUND, "policy %s is not registered", HEX(p->policy));
	if (rc)
		goto out;
	size_t kl = pp_key(k, p->policy, c->sender_addr, false, 0);
	if ((rc = lb_state_get_u64(c->state, NS_EN, k, kl, 0, &h)))
		goto out;
	if (h) {
		rc = lb_errf(c->em, LB_EEXISTS, "%s is already enrolled in policy '%s' (since height "
						"%llu)",
			     ADDR(c->sender_addr), pol->t.name, (unsigned long long)h);
		goto out;
	}
	if (pol->t.premium && (rc = premium_paid(c, p, pol)))
		goto out;
	uint8_t cov[LB_HASH_LEN];
	lb_hash(cov, k, kl);
	if (!(rc = lb_state_put_u64(c->state, NS_EN, k, kl, c->height ? c->height : 1)))
		rc = lb_state_put(c->state, NS_COV, cov, LB_HASH_LEN, k, kl);
out:
	lb_free(p);
	lb_free(pol);
	return rc;
}

static int apply_event(struct lb_apply_ctx *c)
{
	struct lb_ins_tx p;
	const uint8_t *v;
	size_t n;
	int rc = lb_ins_tx_decode(c->tx->type, c->tx->payload, c->tx->payload_len, &p, c->em);
	if (rc)
		return rc;
	rc = lb_state_get(c->state, NS_EV, p.hash, LB_HASH_LEN, &v, &n);
	if (rc == LB_OK)
		return lb_errf(c->em, LB_EEXISTS, "event %s is already anchored", HEX(p.hash));
	if (rc != LB_ENOTFOUND)
		return rc;
	struct lb_buf b;
	lb_buf_init(&b, 1024);
	rc = lb_enc_fixed(&b, c->sender_addr, LB_ADDR_LEN);
	rc = rc ? rc : lb_enc_fixed(&b, p.patient, LB_ADDR_LEN);
	rc = rc ? rc : lb_enc_u8(&b, p.kind);
	rc = rc ? rc : lb_enc_uvar(&b, c->height);
	rc = rc ? rc : lb_enc_str(&b, p.code);
	rc = rc ? rc : lb_enc_bytes(&b, p.fp, p.fp_len);
	rc = rc ? rc : lb_state_put(c->state, NS_EV, p.hash, LB_HASH_LEN, b.data, b.len);
	lb_buf_release(&b);
	return rc;
}

static int apply_claim(struct lb_apply_ctx *c)
{
	struct lb_ins_tx p;
	struct ins_claim r;
	uint8_t k[LB_HASH_LEN + LB_ADDR_LEN + 8];
	uint64_t used = 0, n = 0;
	int rc = lb_ins_tx_decode(c->tx->type, c->tx->payload, c->tx->payload_len, &p, c->em);
	if (rc || (rc = adjudicate(c->state, c->sender_addr, c->height, &p, &r, c->em)))
		return rc;
	r.time_ms = c->time_ms;
	if (p.approved != r.approved)
		return lb_errf(c->em, LB_EINVALID,
			       "the claim states %s ASC approved but the policy's terms give %s ASC "
			       "(ask the node: leben insurance adjudicate)",
			       AMT(p.approved), AMT(r.approved));
	size_t kl = pp_key(k, p.policy, p.patient, true, r.period);
	if ((rc = lb_state_get_u64(c->state, NS_USE, k, kl, 0, &used)) ||
	    (rc = lb_state_put_u64(c->state, NS_USE, k, kl, used + r.approved)) ||
	    (rc = claim_store(c->state, c->tx->id, &r)) ||
	    (rc = lb_state_put(c->state, NS_EVC, p.condition, LB_HASH_LEN, c->tx->id, LB_HASH_LEN)) ||
	    (rc = lb_state_put(c->state, NS_EVC, p.procedure, LB_HASH_LEN, c->tx->id, LB_HASH_LEN)))
		return rc;
	kl = pp_key(k, p.policy, p.patient, false, 0);
	if ((rc = lb_state_get_u64(c->state, NS_N, k, kl, 0, &n)) ||
	    (rc = lb_state_put_u64(c->state, NS_N, k, kl, n + 1)))
		return rc;
	kl = pp_key(k, p.policy, p.patient, true, n);
	return lb_state_put(c->state, NS_I, k, kl, c->tx->id, LB_HASH_LEN);
}

/* ---- settlement handlers -------------------------------------------------------------------- */

static int apply_fund(struct lb_apply_ctx *c)
{
	struct lb_ins_tx p;
	uint8_t pool[LB_ADDR_LEN];
	int rc = lb_ins_tx_decode(c->tx->type, c->tx->payload, c->tx->payload_len, &p, c->em);
	if (rc)
		return rc;
	lb_ins_pool_addr(p.policy, pool);
	if ((rc = lb_mkt_debit(c->state, c->sender_addr, LB_ASC, p.amount, c->em)))
		return lb_errwrap(c->em, "ins.fund: funding the pool of policy %s: ", HEX(p.policy)),
		       rc;
	return lb_mkt_credit(c->state, pool, LB_ASC, p.amount, c->em);
}

static int apply_settle(struct lb_apply_ctx *c)
{
	struct lb_ins_tx p, cl;
	struct lb_tx tx;
	uint8_t pool[LB_ADDR_LEN], provider[LB_ADDR_LEN];
	uint64_t paid = 0, asc, csc;
	int rc = lb_ins_tx_decode(c->tx->type, c->tx->payload, c->tx->payload_len, &p, c->em);
	if (rc || (rc = lb_apply_cite(c, "claim", p.cited, p.cited_len, p.proof, p.proof_len,
				      LB_CHAIN_BUSINESS, LB_TX_INS_CLAIM, &tx)))
		return rc;
	if ((rc = lb_ins_tx_decode(LB_TX_INS_CLAIM, tx.payload, tx.payload_len, &cl, c->em)))
		return rc;
	if ((rc = lb_state_get_u64(c->state, NS_PAID, tx.id, LB_HASH_LEN, 0, &paid)))
		return rc;
	if (paid)
		return lb_errf(c->em, LB_EEXISTS, "ins.settle: claim %s was already paid",
			       HEX(tx.id));
	lb_ins_pool_addr(cl.policy, pool);
	lb_addr_from_pubkey(provider, tx.sender);
	if ((rc = lb_mkt_balances(c->state, pool, &asc, &csc)))
		return rc;
	if (asc < cl.approved)
		return lb_errf(c->em, LB_EFUNDS,
			       "ins.settle: the pool of policy %s holds %s ASC but claim %s needs %s "
			       "ASC: the insurer funds it (leben insurance fund)",
			       HEX(cl.policy), AMT(asc), HEX(tx.id), AMT(cl.approved));
	if ((rc = lb_mkt_debit(c->state, pool, LB_ASC, cl.approved, c->em)) ||
	    (rc = lb_mkt_credit(c->state, provider, LB_ASC, cl.approved, c->em)))
		return rc;
	return lb_state_put_u64(c->state, NS_PAID, tx.id, LB_HASH_LEN, 1);
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static json_t *hexj(const uint8_t *p, size_t n)
{
	char buf[2 * LB_HASH_LEN + 1];
	lb_hex_encode(buf, p, n);
	return json_string(buf);
}

static json_t *addrj(const uint8_t a[LB_ADDR_LEN])
{
	return json_string(ADDR(a));
}

static json_t *policy_terms_json(const struct lb_ins_tx *t)
{
	json_t *covers = json_array();
	for (size_t i = 0; i < t->npairs; i++)
		json_array_append_new(covers, json_pack("{s:s,s:s}", "diagnosis", t->diag[i],
							"procedure", t->proc[i]));
	json_t *j = json_pack("{s:s,s:o,s:I,s:I,s:I,s:I,s:f,s:I}", "name", t->name, "covers", covers,
			 "limit_claim", (json_int_t)t->limit_claim, "limit_period",
			 (json_int_t)t->limit_period, "period_blocks", (json_int_t)t->period_blocks,
			 "waiting_blocks", (json_int_t)t->waiting_blocks, "copay_percent",
			 t->copay_bp / 100.0, "premium", (json_int_t)t->premium);
	if (j && t->has_model)
		json_object_set_new(j, "priced_by", hexj(t->model, LB_HASH_LEN));
	return j;
}

static json_t *tx_json(const struct lb_tx *tx)
{
	struct lb_ins_tx p;
	if (lb_ins_tx_decode(tx->type, tx->payload, tx->payload_len, &p, NULL))
		return NULL;
	switch (tx->type) {
	case LB_TX_INS_POLICY:
		return policy_terms_json(&p);
	case LB_TX_INS_ENROL: {
		struct lb_tx ft;
		json_t *j = json_pack("{s:o}", "policy", hexj(p.policy, LB_HASH_LEN));
		if (p.cited_len && !lb_tx_decode(&ft, p.cited, p.cited_len, NULL))
			json_object_set_new(j, "premium_tx", hexj(ft.id, LB_HASH_LEN));
		return j;
	}
	case LB_TX_INS_EVENT:
		return json_pack("{s:s,s:o,s:s,s:o,s:b}", "kind",
				 p.kind == LB_INS_CONDITION ? "condition" : "procedure", "patient",
				 addrj(p.patient), "code", p.code, "hash", hexj(p.hash, LB_HASH_LEN),
				 "fingerprint", p.fp_len > 0);
	case LB_TX_INS_CLAIM:
		return json_pack("{s:o,s:o,s:o,s:o,s:I,s:I}", "policy", hexj(p.policy, LB_HASH_LEN),
				 "patient", addrj(p.patient), "condition",
				 hexj(p.condition, LB_HASH_LEN), "procedure",
				 hexj(p.procedure, LB_HASH_LEN), "cost", (json_int_t)p.cost,
				 "approved", (json_int_t)p.approved);
	case LB_TX_INS_FUND: {
		uint8_t pool[LB_ADDR_LEN];
		lb_ins_pool_addr(p.policy, pool);
		return json_pack("{s:o,s:o,s:I}", "policy", hexj(p.policy, LB_HASH_LEN), "pool",
				 addrj(pool), "amount", (json_int_t)p.amount);
	}
	case LB_TX_INS_SETTLE: {
		struct lb_tx ct;
		if (lb_tx_decode(&ct, p.cited, p.cited_len, NULL))
			return json_pack("{s:I}", "proof_bytes", (json_int_t)p.proof_len);
		return json_pack("{s:o,s:I}", "claim", hexj(ct.id, LB_HASH_LEN), "proof_bytes",
				 (json_int_t)p.proof_len);
	}
	}
	return NULL;
}

static const char *iso_time(char out[32], uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

/* The amounts of an adjudication (micro-ASC), for the views and the dry run. */
static json_t *amounts_json(const struct ins_claim *r)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "cost", (json_int_t)r->cost, "approved",
			 (json_int_t)r->approved, "copay", (json_int_t)r->copay, "uncovered",
			 (json_int_t)r->uncovered, "patient_owes",
			 (json_int_t)(r->copay + r->uncovered), "period", (json_int_t)r->period);
}

static json_t *money(uint64_t micro)
{
	return json_pack("{s:f,s:s}", "value", micro / 1e6, "currency", "ASC");
}

static json_t *concept(const char *system, const char *code)
{
	return json_pack("{s:[{s:s,s:s}]}", "coding", "system", system, "code", code);
}

#define CLAIM_TYPE "http://terminology.hl7.org/CodeSystem/claim-type"

/* FHIR R4 ClaimResponse of an adjudicated claim on the chain. */
static json_t *claim_response_fhir(const uint8_t id[LB_HASH_LEN], const struct ins_claim *r,
				   const uint8_t insurer[LB_ADDR_LEN])
{
	char when[32];
	json_t *j = json_pack("{s:s,s:s,s:s,s:o,s:s,s:{s:s+},s:s,s:{s:s+},s:{s:s+},s:s,s:s}",
			      "resourceType", "ClaimResponse", "id", HEX(id), "status", "active",
			      "type", concept(CLAIM_TYPE, "institutional"), "use", "claim",
			      "patient", "reference", "Patient/", ADDR(r->patient), "created",
			      iso_time(when, r->time_ms), "insurer", "reference", "Organization/",
			      ADDR(insurer), "request", "reference", "Claim/", HEX(id), "outcome",
			      "complete", "disposition", "approved by the policy's terms");
	json_t *total = json_array();
	json_array_append_new(total, json_pack("{s:o,s:o}", "category",
					       concept("http://terminology.hl7.org/CodeSystem/adjudication", "submitted"),
					       "amount", money(r->cost)));
	json_array_append_new(total, json_pack("{s:o,s:o}", "category",
					       concept("http://terminology.hl7.org/CodeSystem/adjudication", "copay"),
					       "amount", money(r->copay)));
	json_array_append_new(total, json_pack("{s:o,s:o}", "category",
					       concept("http://terminology.hl7.org/CodeSystem/adjudication", "benefit"),
					       "amount", money(r->approved)));
	json_object_set_new(j, "total", total);
	json_object_set_new(j, "payment",
			    json_pack("{s:o,s:o}", "type",
				      concept("http://terminology.hl7.org/CodeSystem/ex-paymenttype",
					      "complete"),
				      "amount", money(r->approved)));
	return j;
}

/* FHIR R4 Claim of a claim on the chain. */
static json_t *claim_fhir(const uint8_t id[LB_HASH_LEN], const struct ins_claim *r)
{
	char when[32];
	return json_pack(
		"{s:s,s:s,s:s,s:o,s:s,s:{s:s+},s:s,s:{s:s+},s:o,"
		"s:[{s:I,s:o}],s:[{s:I,s:o}],s:[{s:I,s:b,s:{s:s+}}],s:o}",
		"resourceType", "Claim", "id", HEX(id), "status", "active", "type",
		concept(CLAIM_TYPE, "institutional"), "use", "claim", "patient", "reference",
		"Patient/", ADDR(r->patient), "created", iso_time(when, r->time_ms), "provider",
		"reference", "Organization/", ADDR(r->provider), "priority",
		concept("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
		"diagnosis", "sequence", (json_int_t)1, "diagnosisCodeableConcept",
		concept("http://hl7.org/fhir/sid/icd-10", r->diag), "procedure", "sequence",
		(json_int_t)1, "procedureCodeableConcept",
		concept("http://www.cms.gov/Medicare/Coding/ICD10", r->proc), "insurance", "sequence",
		(json_int_t)1, "focal", 1, "coverage", "reference", "Coverage/",
		HEX(r->policy), "total", money(r->cost));
}

/* ---- views ---------------------------------------------------------------------------------- */

struct view {
	const uint8_t *id, *patient, *provider;
	const struct lb_ins_tx *p;
	uint64_t height;
	json_t *out;
	struct lb_errmsg *em;
};

static int view_adjudicate(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct ins_claim r;
	struct lb_errmsg e;
	lb_errclear(&e);
	int rc = adjudicate(s, v->provider, v->height, v->p, &r, &e);
	if (rc == LB_ENOMEM || rc == LB_ECORRUPT)
		return lb_errf(v->em, rc, "%s", e.text);
	if (rc)
		v->out = json_pack("{s:s,s:s,s:s}", "outcome", "error", "error", e.text, "code",
				   lb_strerror(rc));
	else {
		v->out = amounts_json(&r);
		json_object_set_new(v->out, "outcome", json_string("complete"));
	}
	return LB_OK;
}

int lb_ins_adjudicate_json(struct lb_ledger *l, const uint8_t provider[LB_ADDR_LEN],
			   const struct lb_ins_tx *p, json_t **out, struct lb_errmsg *em)
{
	struct view v = {.provider = provider, .p = p, .em = em,
			 .height = lb_ledger_height(l, LB_CHAIN_BUSINESS) + 1};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_adjudicate, &v);
	*out = v.out;
	return rc;
}

static int view_policy(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct ins_policy *pol = lb_malloc(sizeof *pol);
	if (!pol)
		return LB_ENOMEM;
	int rc = policy_load(s, v->id, pol);
	if (rc == LB_ENOTFOUND)
		rc = lb_errf(v->em, rc, "policy %s is not registered", HEX(v->id));
	if (!rc) {
		uint8_t pool[LB_ADDR_LEN];
		lb_ins_pool_addr(v->id, pool);
		v->out = policy_terms_json(&pol->t);
		json_object_set_new(v->out, "id", hexj(v->id, LB_HASH_LEN));
		json_object_set_new(v->out, "insurer", addrj(pol->insurer));
		json_object_set_new(v->out, "height", json_integer((json_int_t)pol->height));
		json_object_set_new(v->out, "pool", addrj(pool));
	}
	lb_free(pol);
	return rc;
}

/* The committed settlement value under (ns, key) into b; false when absent. */
static bool settlement_read(struct lb_ledger *l, const char *ns, const uint8_t *key, size_t klen,
			    struct lb_buf *b)
{
	lb_buf_init(b, 64);
	return lb_ledger_state_read(l, LB_CHAIN_SETTLEMENT, ns, key, klen, b, NULL) == LB_OK;
}

bool lb_ins_event_known(struct lb_ledger *l, const uint8_t hash[LB_HASH_LEN])
{
	struct lb_buf b;
	lb_buf_init(&b, 1u << 16);
	bool yes = lb_ledger_state_read(l, LB_CHAIN_BUSINESS, NS_EV, hash, LB_HASH_LEN, &b,
					NULL) == LB_OK;
	lb_buf_release(&b);
	return yes;
}

int lb_ins_policy_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
		       struct lb_errmsg *em)
{
	struct view v = {.id = id, .em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_policy, &v);
	if (!rc) {
		uint8_t pool[LB_ADDR_LEN];
		struct lb_buf b;
		uint64_t asc = 0;
		struct lb_dec d;
		lb_ins_pool_addr(id, pool);
		if (settlement_read(l, "bal", pool, LB_ADDR_LEN, &b)) {
			lb_dec_init(&d, b.data, b.len, "balance", NULL);
			lb_dec_uvar(&d, "asc", UINT64_MAX, &asc);
		}
		lb_buf_release(&b);
		json_object_set_new(v.out, "pool_balance", json_integer((json_int_t)asc));
	}
	*out = v.out;
	return rc;
}

static int view_coverage(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	uint8_t k[LB_HASH_LEN + LB_ADDR_LEN + 8];
	uint64_t en = 0, n = 0;
	struct ins_policy *pol = lb_malloc(sizeof *pol);
	if (!pol)
		return LB_ENOMEM;
	int rc = policy_load(s, v->id, pol);
	if (rc == LB_ENOTFOUND)
		rc = lb_errf(v->em, rc, "policy %s is not registered", HEX(v->id));
	size_t kl = pp_key(k, v->id, v->patient, false, 0);
	if (!rc && !(rc = lb_state_get_u64(s, NS_EN, k, kl, 0, &en)) && !en)
		rc = lb_errf(v->em, LB_ENOTFOUND, "patient %s is not enrolled in policy %s",
			     ADDR(v->patient), HEX(v->id));
	if (!rc)
		rc = lb_state_get_u64(s, NS_N, k, kl, 0, &n);
	if (rc) {
		lb_free(pol);
		return rc;
	}
	json_t *claims = json_array();
	uint64_t total = 0;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *val;
		size_t vn;
		struct ins_claim r;
		uint8_t cid[LB_HASH_LEN];
		kl = pp_key(k, v->id, v->patient, true, i);
		if (lb_state_get(s, NS_I, k, kl, &val, &vn) || vn != LB_HASH_LEN)
			continue;
		memcpy(cid, val, LB_HASH_LEN);
		if (claim_load(s, cid, &r))
			continue;
		total += r.approved;
		json_array_append_new(claims, json_pack("{s:o,s:s,s:s,s:I,s:I,s:I,s:I}", "id",
							hexj(cid, LB_HASH_LEN), "diagnosis", r.diag,
							"procedure", r.proc, "cost", (json_int_t)r.cost,
							"approved", (json_int_t)r.approved, "period",
							(json_int_t)r.period, "height",
							(json_int_t)r.height));
	}
	uint8_t cid[LB_HASH_LEN];
	kl = pp_key(k, v->id, v->patient, false, 0);
	lb_hash(cid, k, kl);
	json_t *cov = json_pack("{s:s,s:s,s:s,s:{s:s+},s:{s:s+},s:[{s:s+}],s:[{s:o,s:s,s:s}]}",
				"resourceType", "Coverage", "id", HEX(cid), "status", "active",
				"beneficiary", "reference", "Patient/", ADDR(v->patient),
				"subscriber", "reference", "Patient/", ADDR(v->patient), "payor",
				"reference", "Organization/", ADDR(pol->insurer), "class", "type",
				concept("http://terminology.hl7.org/CodeSystem/coverage-class", "plan"),
				"value", HEX(v->id), "name", pol->t.name);
	v->out = json_pack("{s:o,s:s,s:s,s:I,s:I,s:o,s:I}", "coverage", cov, "policy",
			   HEX(v->id), "policy_name", pol->t.name, "enrolled", (json_int_t)en,
			   "claims_from", (json_int_t)(en + pol->t.waiting_blocks), "claims", claims,
			   "approved_total", (json_int_t)total);
	lb_free(pol);
	return LB_OK;
}

int lb_ins_coverage_json(struct lb_ledger *l, const uint8_t policy[LB_HASH_LEN],
			 const uint8_t patient[LB_ADDR_LEN], json_t **out, struct lb_errmsg *em)
{
	struct view v = {.id = policy, .patient = patient, .em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_coverage, &v);
	*out = v.out;
	return rc;
}

static int view_claim(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct ins_claim r;
	struct ins_policy *pol = lb_malloc(sizeof *pol);
	int rc = pol ? claim_load(s, v->id, &r) : LB_ENOMEM;
	if (rc == LB_ENOTFOUND)
		rc = lb_errf(v->em, rc, "claim %s is not on the chain (a refused claim changes "
					"nothing)",
			     HEX(v->id));
	if (!rc && (rc = policy_load(s, r.policy, pol)) != LB_OK)
		rc = lb_errf(v->em, LB_ECORRUPT, "the policy of claim %s is unreadable", HEX(v->id));
	if (!rc)
		v->out = json_pack("{s:o,s:o,s:o,s:o,s:o,s:{s:o,s:o},s:I}", "id",
				   hexj(v->id, LB_HASH_LEN), "policy", hexj(r.policy, LB_HASH_LEN),
				   "amounts", amounts_json(&r), "claim", claim_fhir(v->id, &r),
				   "claimResponse", claim_response_fhir(v->id, &r, pol->insurer),
				   "events", "condition", hexj(r.condition, LB_HASH_LEN), "procedure",
				   hexj(r.procedure, LB_HASH_LEN), "height", (json_int_t)r.height);
	lb_free(pol);
	return rc;
}

int lb_ins_claim_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
		      struct lb_errmsg *em)
{
	struct view v = {.id = id, .em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_claim, &v);
	if (!rc) {
		struct lb_buf b;
		bool paid = settlement_read(l, NS_PAID, id, LB_HASH_LEN, &b);
		lb_buf_release(&b);
		json_object_set_new(v.out, "settled", json_boolean(paid));
	}
	*out = v.out;
	return rc;
}

struct fhir_view {
	uint8_t id[LB_HASH_LEN], key[LB_HASH_LEN + LB_ADDR_LEN];
	bool found;
};

static int view_cov_key(struct lb_state *s, void *ctx)
{
	struct fhir_view *v = ctx;
	const uint8_t *val;
	size_t n;
	int rc = lb_state_get(s, NS_COV, v->id, LB_HASH_LEN, &val, &n);
	if (rc == LB_OK && n == sizeof v->key) {
		memcpy(v->key, val, n);
		v->found = true;
	}
	return rc == LB_ENOTFOUND ? LB_OK : rc;
}

int lb_ins_fhir_read(struct lb_ledger *l, const char *type, const char *id, json_t **out,
		     struct lb_errmsg *em)
{
	struct fhir_view v = {.found = false};
	json_t *j = NULL;
	int rc;
	*out = NULL;
	if (!id || strlen(id) != 2 * LB_HASH_LEN || lb_hex_decode(v.id, LB_HASH_LEN, id))
		return lb_errf(em, LB_ENOTFOUND, "no %s/%s on the chain", type, id ? id : "");
	if (!strcmp(type, "Claim") || !strcmp(type, "ClaimResponse")) {
		if ((rc = lb_ins_claim_json(l, v.id, &j, em)))
			return rc;
		*out = json_incref(json_object_get(j, !strcmp(type, "Claim") ? "claim"
									     : "claimResponse"));
	} else if (!strcmp(type, "Coverage")) {
		if ((rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_cov_key, &v)))
			return rc;
		if (!v.found)
			return lb_errf(em, LB_ENOTFOUND, "no Coverage/%s on the chain", id);
		if ((rc = lb_ins_coverage_json(l, v.key, v.key + LB_HASH_LEN, &j, em)))
			return rc;
		*out = json_incref(json_object_get(j, "coverage"));
	} else
		return lb_errf(em, LB_ENOTFOUND, "the chain keeps no %s resources", type);
	json_decref(j);
	return *out ? LB_OK : LB_ENOMEM;
}

double lb_ins_premium(const double *coef, const double *x, size_t n, double expected,
		      double loading, double *prob)
{
	double z = n ? coef[0] : 0;
	for (size_t i = 1; i < n; i++)
		z += coef[i] * x[i];
	double p = 1.0 / (1.0 + exp(-z));
	if (prob)
		*prob = p;
	return p * expected * (1.0 + loading);
}

/* ---- registration --------------------------------------------------------------------------- */

static const struct lb_txtype rows[] = {
	{LB_TX_INS_POLICY, LB_CHAIN_BUSINESS, "ins.policy", check_any, apply_policy, tx_json, true},
	{LB_TX_INS_ENROL, LB_CHAIN_BUSINESS, "ins.enrol", check_any, apply_enrol, tx_json, true},
	{LB_TX_INS_EVENT, LB_CHAIN_BUSINESS, "ins.event", check_any, apply_event, tx_json, true},
	{LB_TX_INS_CLAIM, LB_CHAIN_BUSINESS, "ins.claim", check_any, apply_claim, tx_json, true},
	{LB_TX_INS_FUND, LB_CHAIN_SETTLEMENT, "ins.fund", check_any, apply_fund, tx_json, false},
	{LB_TX_INS_SETTLE, LB_CHAIN_SETTLEMENT, "ins.settle", check_any, apply_settle, tx_json,
	 false},
};

int lb_insurance_register_txtypes(void)
{
	return lb_txtype_register_rows(rows, sizeof rows / sizeof rows[0], false);
}
