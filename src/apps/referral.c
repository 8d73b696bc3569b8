/*
 * Smart diagnosis and referral (leben/app_referral.h, docs/apps.md §1): the business-chain tx
 * types referral.specialist / create / accept / consult / report, their state and the JSON
 * views the API serves. Every refusal returns before the first write, so a refused tx
 * changes nothing (the ledger discards a refused tx's writes as well).
 */
#include <stdio.h>
#include <string.h>

#include "leben/app_referral.h"
#include "leben/codec.h"
#include "leben/consortium.h"
#include "leben/knowledge.h"
#include "leben/knowledge_chain.h"
#include "leben/ledger.h"
#include "leben/market.h"
#include "leben/market_store.h"

#define NS_SPEC "ap.ref.spec"   /* address || specialty -> height of the declaration */
#define NS_REF "ap.ref"         /* referral id -> record */
#define NS_SESS "ap.ref.sess"   /* session id -> referral id (one referral per session) */
#define NS_LIST "ap.ref.list"   /* index (8 bytes BE) -> referral id, creation order */
#define NS_COUNT "ap.ref.count" /* "n" -> referrals */

#define HEXN (2 * LB_HASH_LEN + 1)
static const char *hex32(char out[HEXN], const uint8_t *p)
{
	lb_hex_encode(out, p, LB_HASH_LEN);
	return out;
}
#define HEX(p) hex32((char[HEXN]){0}, (p))
static const char *addr_text(char out[LB_ADDR_TEXT_LEN + 1], const uint8_t a[LB_ADDR_LEN])
{
	lb_addr_encode(out, a);
	return out;
}
#define ADDR(a) addr_text((char[LB_ADDR_TEXT_LEN + 1]){0}, (a))

static const char *const status_names[] = {"?", "requested", "accepted", "consulted",
					   "completed"};
enum { STEP_CREATE, STEP_ACCEPT, STEP_CONSULT, STEP_REPORT, STEPS };
static const char *const step_names[STEPS] = {"create", "accept", "consult", "report"};

struct ref_rec {
	uint8_t status;
	uint8_t gp[LB_ADDR_LEN], target[LB_ADDR_LEN], provider[LB_ADDR_LEN], author[LB_ADDR_LEN];
	char specialty[LB_REF_NAME_MAX + 1], candidate[128], outcome[LB_REF_NAME_MAX + 1];
	uint8_t contract[LB_HASH_LEN], session[LB_HASH_LEN], patient[LB_HASH_LEN];
	uint64_t fee;
	uint8_t digest[STEPS][LB_HASH_LEN]; /* ServiceRequest, Task, Encounter, report */
	uint64_t height[STEPS], time_ms[STEPS];
	uint8_t tx[STEPS][LB_HASH_LEN];
};

/* ---- payloads ------------------------------------------------------------------------------ */

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > LB_REF_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

static int check_name(const char *what, const char *s, struct lb_errmsg *em)
{
	if (name_ok(s))
		return LB_OK;
	return lb_errf(em, LB_EINVALID,
		       "%s '%.80s' is not a name: use 1 to %d of a-z, 0-9, '-' and '_' "
		       "(e.g. fetal-cardiology)",
		       what, s, LB_REF_NAME_MAX);
}

int lb_ref_tx_encode(struct lb_buf *b, const struct lb_ref_tx *p, struct lb_errmsg *em)
{
	int rc = lb_enc_u8(b, 1);
	switch (p->type) {
	case LB_TX_REF_SPECIALIST:
		if (!rc && !(rc = check_name("specialty", p->specialty, em)))
			rc = lb_enc_str(b, p->specialty);
		break;
	case LB_TX_REF_CREATE:
		if (!rc && !(rc = check_name("specialty", p->specialty, em)) &&
		    !(rc = lb_enc_fixed(b, p->session, LB_HASH_LEN)) &&
		    !(rc = lb_enc_str(b, p->candidate)) && !(rc = lb_enc_str(b, p->specialty)) &&
		    !(rc = lb_enc_fixed(b, p->target, LB_ADDR_LEN)) &&
		    !(rc = lb_enc_fixed(b, p->provider, LB_ADDR_LEN)) &&
		    !(rc = lb_enc_fixed(b, p->digest, LB_HASH_LEN)) &&
		    !(rc = lb_enc_fixed(b, p->patient, LB_HASH_LEN)) &&
		    !(rc = lb_enc_uvar(b, p->fee)) &&
		    !(rc = lb_enc_bytes(b, p->pay_tx, p->pay_tx_len)))
			rc = lb_enc_bytes(b, p->pay_proof, p->pay_proof_len);
		break;
	case LB_TX_REF_ACCEPT:
	case LB_TX_REF_CONSULT:
	case LB_TX_REF_REPORT:
		if (!rc && !(rc = lb_enc_fixed(b, p->referral, LB_HASH_LEN)))
			rc = lb_enc_fixed(b, p->digest, LB_HASH_LEN);
		if (!rc && p->type == LB_TX_REF_REPORT &&
		    !(rc = check_name("outcome", p->outcome, em)))
			rc = lb_enc_str(b, p->outcome);
		break;
	default:
		return lb_errf(em, LB_EINVALID, "0x%04x is not a referral tx type", p->type);
	}
	return rc;
}

int lb_ref_tx_decode(uint32_t type, const uint8_t *buf, size_t n, struct lb_ref_tx *p,
		     struct lb_errmsg *em)
{
	struct lb_dec d;
	uint8_t ver;
	memset(p, 0, sizeof *p);
	p->type = type;
	lb_dec_init(&d, buf, n, "referral payload", em);
	if (lb_dec_u8(&d, "version", &ver))
		return LB_EMALFORMED;
	if (ver != 1)
		return lb_errf(em, LB_EMALFORMED, "referral payload version %u is not 1", ver);
	int rc = LB_OK;
	switch (type) {
	case LB_TX_REF_SPECIALIST:
		rc = lb_dec_str(&d, "specialty", LB_REF_NAME_MAX, p->specialty, sizeof p->specialty);
		break;
	case LB_TX_REF_CREATE:
		if ((rc = lb_dec_fixed(&d, "session", p->session, LB_HASH_LEN)) ||
		    (rc = lb_dec_str(&d, "candidate", sizeof p->candidate - 1, p->candidate,
				     sizeof p->candidate)) ||
		    (rc = lb_dec_str(&d, "specialty", LB_REF_NAME_MAX, p->specialty,
				     sizeof p->specialty)) ||
		    (rc = lb_dec_fixed(&d, "target", p->target, LB_ADDR_LEN)) ||
		    (rc = lb_dec_fixed(&d, "provider", p->provider, LB_ADDR_LEN)) ||
		    (rc = lb_dec_fixed(&d, "request", p->digest, LB_HASH_LEN)) ||
		    (rc = lb_dec_fixed(&d, "patient", p->patient, LB_HASH_LEN)))
			break;
		if ((rc = lb_dec_uvar(&d, "fee", UINT64_MAX, &p->fee)) ||
		    (rc = lb_dec_bytes(&d, "payment", LB_TX_PAYLOAD_MAX, &p->pay_tx,
				       &p->pay_tx_len)))
			break;
		rc = lb_dec_bytes(&d, "payment proof", LB_REF_PROOF_MAX, &p->pay_proof,
				  &p->pay_proof_len);
		break;
	case LB_TX_REF_ACCEPT:
	case LB_TX_REF_CONSULT:
	case LB_TX_REF_REPORT:
		if ((rc = lb_dec_fixed(&d, "referral", p->referral, LB_HASH_LEN)) ||
		    (rc = lb_dec_fixed(&d, "digest", p->digest, LB_HASH_LEN)))
			break;
		if (type == LB_TX_REF_REPORT)
			rc = lb_dec_str(&d, "outcome", LB_REF_NAME_MAX, p->outcome, sizeof p->outcome);
		break;
	default:
		return lb_errf(em, LB_EINVALID, "0x%04x is not a referral tx type", type);
	}
	if (rc || (rc = lb_dec_end(&d)))
		return rc;
	if (type == LB_TX_REF_SPECIALIST || type == LB_TX_REF_CREATE)
		rc = check_name("specialty", p->specialty, em);
	if (!rc && type == LB_TX_REF_REPORT)
		rc = check_name("outcome", p->outcome, em);
	if (!rc && type == LB_TX_REF_CREATE && (!p->pay_tx_len != !p->pay_proof_len))
		rc = lb_errf(em, LB_EMALFORMED, "a cited payment needs both its tx and its proof");
	if (!rc && type == LB_TX_REF_CREATE && p->pay_tx_len && !p->fee)
		rc = lb_errf(em, LB_EINVALID, "a cited payment needs the fee it pays");
	return rc;
}

static int check_tx(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_ref_tx p;
	return lb_ref_tx_decode(tx->type, tx->payload, tx->payload_len, &p, em);
}

/* ---- state --------------------------------------------------------------------------------- */

static void be64(uint8_t out[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (56 - 8 * i));
}

static int rec_put(struct lb_state *s, const uint8_t id[LB_HASH_LEN], const struct ref_rec *r)
{
	struct lb_buf b;
	int rc;
	lb_buf_init(&b, 4096);
	if ((rc = lb_enc_u8(&b, r->status)) || (rc = lb_enc_fixed(&b, r->gp, LB_ADDR_LEN)) ||
	    (rc = lb_enc_fixed(&b, r->target, LB_ADDR_LEN)) ||
	    (rc = lb_enc_fixed(&b, r->provider, LB_ADDR_LEN)) ||
	    (rc = lb_enc_fixed(&b, r->author, LB_ADDR_LEN)) || (rc = lb_enc_str(&b, r->specialty)) ||
	    (rc = lb_enc_str(&b, r->candidate)) || (rc = lb_enc_str(&b, r->outcome)) ||
	    (rc = lb_enc_fixed(&b, r->contract, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(&b, r->session, LB_HASH_LEN)) ||
	    (rc = lb_enc_fixed(&b, r->patient, LB_HASH_LEN)) || (rc = lb_enc_uvar(&b, r->fee)))
		goto out;
	for (int i = 0; i < STEPS; i++)
		if ((rc = lb_enc_fixed(&b, r->digest[i], LB_HASH_LEN)) ||
		    (rc = lb_enc_uvar(&b, r->height[i])) || (rc = lb_enc_uvar(&b, r->time_ms[i])) ||
		    (rc = lb_enc_fixed(&b, r->tx[i], LB_HASH_LEN)))
			goto out;
	rc = lb_state_put(s, NS_REF, id, LB_HASH_LEN, b.data, b.len);
out:
	lb_buf_release(&b);
	return rc;
}

static int rec_get(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct ref_rec *r)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, NS_REF, id, LB_HASH_LEN, &v, &n);
	if (rc)
		return rc;
	struct lb_dec d;
	memset(r, 0, sizeof *r);
	lb_dec_init(&d, v, n, "referral record", NULL);
	if (lb_dec_u8(&d, "status", &r->status) || lb_dec_fixed(&d, "gp", r->gp, LB_ADDR_LEN) ||
	    lb_dec_fixed(&d, "target", r->target, LB_ADDR_LEN) ||
	    lb_dec_fixed(&d, "provider", r->provider, LB_ADDR_LEN) ||
	    lb_dec_fixed(&d, "author", r->author, LB_ADDR_LEN) ||
	    lb_dec_str(&d, "specialty", LB_REF_NAME_MAX, r->specialty, sizeof r->specialty) ||
	    lb_dec_str(&d, "candidate", sizeof r->candidate - 1, r->candidate,
		       sizeof r->candidate) ||
	    lb_dec_str(&d, "outcome", LB_REF_NAME_MAX, r->outcome, sizeof r->outcome) ||
	    lb_dec_fixed(&d, "contract", r->contract, LB_HASH_LEN) ||
	    lb_dec_fixed(&d, "session", r->session, LB_HASH_LEN) ||
	    lb_dec_fixed(&d, "patient", r->patient, LB_HASH_LEN) ||
	    lb_dec_uvar(&d, "fee", UINT64_MAX, &r->fee))
		return LB_ECORRUPT;
	for (int i = 0; i < STEPS; i++)
		if (lb_dec_fixed(&d, "digest", r->digest[i], LB_HASH_LEN) ||
		    lb_dec_uvar(&d, "height", UINT64_MAX, &r->height[i]) ||
		    lb_dec_uvar(&d, "time", UINT64_MAX, &r->time_ms[i]) ||
		    lb_dec_fixed(&d, "tx", r->tx[i], LB_HASH_LEN))
			return LB_ECORRUPT;
	return lb_dec_end(&d) ? LB_ECORRUPT : LB_OK;
}

static int spec_key(uint8_t key[LB_ADDR_LEN + LB_REF_NAME_MAX], const uint8_t a[LB_ADDR_LEN],
		    const char *specialty)
{
	size_t n = strlen(specialty);
	memcpy(key, a, LB_ADDR_LEN);
	memcpy(key + LB_ADDR_LEN, specialty, n);
	return (int)(LB_ADDR_LEN + n);
}

/* LB_OK if a declared specialist of specialty, LB_ENOTFOUND if not. */
static int spec_get(struct lb_state *s, const uint8_t a[LB_ADDR_LEN], const char *specialty)
{
	uint8_t key[LB_ADDR_LEN + LB_REF_NAME_MAX];
	const uint8_t *v;
	size_t n;
	return lb_state_get(s, NS_SPEC, key, (size_t)spec_key(key, a, specialty), &v, &n);
}

/* ---- handlers ------------------------------------------------------------------------------ */

static int apply_specialist(struct lb_apply_ctx *c, const struct lb_ref_tx *p)
{
	/* a specialist institution is an institution of the consortium: its member key */
	int rc = lb_consortium_state_need_member(c->state, c->sender_addr, "declare a specialty",
						 c->em);
	if (rc)
		return rc;
	rc = spec_get(c->state, c->sender_addr, p->specialty);
	if (rc == LB_OK)
		return lb_errf(c->em, LB_EEXISTS, "%s is a specialist institution for %s already",
			       ADDR(c->sender_addr), p->specialty);
	if (rc != LB_ENOTFOUND)
		return rc;
	uint8_t key[LB_ADDR_LEN + LB_REF_NAME_MAX];
	return lb_state_put_u64(c->state, NS_SPEC, key,
				(size_t)spec_key(key, c->sender_addr, p->specialty), c->height);
}

void lb_ref_diagnosis_parties(struct lb_mkt_parties *q, const uint8_t provider[LB_ADDR_LEN],
			      const uint8_t author[LB_ADDR_LEN], const uint8_t gp[LB_ADDR_LEN])
{
	memset(q, 0, sizeof *q);
	q->has_owner = true;
	memcpy(q->owner, provider, LB_ADDR_LEN);
	q->authors = (const uint8_t(*)[LB_ADDR_LEN])author;
	q->n_authors = 1;
	q->has_executor = true;
	memcpy(q->executor, gp, LB_ADDR_LEN);
}

/* The cited settlement market.pay pays the fee of create p: the sender's own, of the
 * diagnosis kind, of exactly the fee, to exactly the parties q (the provider hospital as
 * owner, the developer team as author, the practice as executor; no patients, no audit), not
 * cited before (by the store either: one mark, lb_store_pay_mark). */
static int cited_pay(struct lb_apply_ctx *c, const struct lb_ref_tx *p,
		     const struct lb_mkt_parties *q)
{
	unsigned use;
	uint64_t paid;
	struct lb_mkt_parties pp;
	uint8_t txid[LB_HASH_LEN];
	int rc = lb_store_pay_open(c, p->pay_tx, p->pay_tx_len, p->pay_proof, p->pay_proof_len,
				   &use, &paid, &pp, txid);
	if (rc)
		return rc;
	if (use != LB_MKT_USE_DIAGNOSIS || paid != p->fee)
		return lb_errf(c->em, LB_EINVALID,
			       "the cited payment is a %s payment of %llu micro-ASC, not a "
			       "diagnosis payment of the fee, %llu",
			       lb_mkt_use_name(use), (unsigned long long)paid,
			       (unsigned long long)p->fee);
	if (pp.n_authors != 1 || memcmp(pp.authors[0], q->authors[0], LB_ADDR_LEN) ||
	    !pp.has_owner || memcmp(pp.owner, q->owner, LB_ADDR_LEN) || !pp.has_executor ||
	    memcmp(pp.executor, q->executor, LB_ADDR_LEN) || pp.n_ancestors ||
	    pp.has_algo_author || pp.n_patients || pp.n_audit)
		return lb_errf(c->em, LB_EINVALID,
			       "the cited payment does not pay the diagnosis's parties: the "
			       "provider hospital %s as owner, the contract's author %s and the "
			       "practice %s as executor, no one else",
			       ADDR(q->owner), ADDR(q->authors[0]), ADDR(q->executor));
	return lb_store_pay_mark(c->state, txid);
}

static int apply_create(struct lb_apply_ctx *c, const struct lb_ref_tx *p)
{
	struct ref_rec r;
	bool complete, found;
	char decision[LB_KN_NAME_MAX];
	uint64_t version, n;
	char name[LB_KN_NAME_MAX];
	const uint8_t *v;
	size_t vn;
	memset(&r, 0, sizeof r);
	int rc = lb_kn_state_session(c->state, p->session, r.contract, r.gp, &complete);
	if (rc == LB_ENOTFOUND)
		return lb_errf(c->em, LB_ENOTFOUND,
			       "session %s is not anchored on this chain: run the screening "
			       "contract with 'leben contract run FILE --anchor --key KEY' first",
			       HEX(p->session));
	if (rc)
		return lb_errf(c->em, rc, "session %s cannot be read", HEX(p->session));
	if (memcmp(r.gp, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH,
			       "session %s was run by %s, not by %s: refer only from your own "
			       "sessions",
			       HEX(p->session), ADDR(r.gp), ADDR(c->sender_addr));
	if (!complete)
		return lb_errf(c->em, LB_EINVALID,
			       "session %s is not complete: finish the screening first",
			       HEX(p->session));
	if (strncmp(p->candidate, "refer", 5))
		return lb_errf(c->em, LB_EINVALID,
			       "'%s' is not a referral outcome: a referral follows a committed "
			       "candidate whose name begins with 'refer'",
			       p->candidate);
	if ((rc = lb_kn_state_session_committed(c->state, p->session, p->candidate, &found,
						 decision)))
		return lb_errf(c->em, rc, "session %s cannot be read", HEX(p->session));
	if (!found)
		return lb_errf(c->em, LB_EINVALID,
			       "session %s did not commit '%s': the screening was not positive, "
			       "there is nothing to refer",
			       HEX(p->session), p->candidate);
	rc = lb_state_get(c->state, NS_SESS, p->session, LB_HASH_LEN, &v, &vn);
	if (rc == LB_OK)
		return lb_errf(c->em, LB_EEXISTS, "session %s was referred already (referral %s)",
			       HEX(p->session), vn == LB_HASH_LEN ? HEX(v) : "?");
	if (rc != LB_ENOTFOUND)
		return rc;
	if (!memcmp(p->target, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EINVALID, "a practice cannot refer to itself");
	if ((rc = spec_get(c->state, p->target, p->specialty)) == LB_ENOTFOUND)
		return lb_errf(c->em, LB_EINVALID,
			       "%s is not a specialist institution for %s: it declares it with "
			       "'leben referral specialist %s'",
			       ADDR(p->target), p->specialty, p->specialty);
	if (rc)
		return rc;
	if ((rc = lb_kn_state_contract(c->state, r.contract, r.author, &version, name,
				       sizeof name)))
		return lb_errf(c->em, rc, "the session's contract cannot be read");
	memcpy(r.target, p->target, LB_ADDR_LEN);
	memcpy(r.provider, p->provider, LB_ADDR_LEN);
	snprintf(r.specialty, sizeof r.specialty, "%s", p->specialty);
	snprintf(r.candidate, sizeof r.candidate, "%s", p->candidate);
	memcpy(r.session, p->session, LB_HASH_LEN);
	memcpy(r.patient, p->patient, LB_HASH_LEN);
	memcpy(r.digest[STEP_CREATE], p->digest, LB_HASH_LEN);
	r.fee = p->fee;
	r.status = LB_REF_REQUESTED;
	r.height[STEP_CREATE] = c->height;
	r.time_ms[STEP_CREATE] = c->time_ms;
	memcpy(r.tx[STEP_CREATE], c->tx->id, LB_HASH_LEN);
	if (p->fee) {
		/* the four parties of the diagnosis's value, through the diagnosis split table:
		 * provider hospital (owner), developer team (author), GP (executor), platform */
		struct lb_mkt_parties q;
		lb_ref_diagnosis_parties(&q, r.provider, r.author, c->sender_addr);
		rc = p->pay_tx_len ? cited_pay(c, p, &q)
				   : lb_store_wallet_split(c->state, c->sender_addr, p->fee,
							   LB_MKT_USE_DIAGNOSIS, &q, NULL, c->em);
		if (rc)
			return rc;
	}
	uint8_t key[8];
	if ((rc = lb_state_get_u64(c->state, NS_COUNT, "n", 1, 0, &n)))
		return rc;
	be64(key, n);
	if ((rc = lb_state_put(c->state, NS_LIST, key, 8, c->tx->id, LB_HASH_LEN)) ||
	    (rc = lb_state_put_u64(c->state, NS_COUNT, "n", 1, n + 1)) ||
	    (rc = lb_state_put(c->state, NS_SESS, p->session, LB_HASH_LEN, c->tx->id,
			       LB_HASH_LEN)))
		return rc;
	return rec_put(c->state, c->tx->id, &r);
}

/* accept / consult / report: by the referral's specialist institution, in order, once each. */
static int apply_step(struct lb_apply_ctx *c, const struct lb_ref_tx *p, int step)
{
	struct ref_rec r;
	int rc = rec_get(c->state, p->referral, &r);
	if (rc == LB_ENOTFOUND)
		return lb_errf(c->em, LB_ENOTFOUND,
			       "no referral %s on this chain (its id is the tx id 'referral create' "
			       "printed)",
			       HEX(p->referral));
	if (rc)
		return lb_errf(c->em, rc, "referral %s cannot be read", HEX(p->referral));
	if (step == STEP_ACCEPT &&
	    (rc = spec_get(c->state, c->sender_addr, r.specialty)) == LB_ENOTFOUND)
		return lb_errf(c->em, LB_EUNAUTH,
			       "%s is not a specialist institution for %s: only the specialist "
			       "institution the referral names may accept it",
			       ADDR(c->sender_addr), r.specialty);
	if (memcmp(r.target, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH,
			       "referral %s is addressed to %s, not to %s: only it may %s it",
			       HEX(p->referral), ADDR(r.target), ADDR(c->sender_addr),
			       step_names[step]);
	if (r.status > step)
		return lb_errf(c->em, LB_EEXISTS, "referral %s was %s already (block %llu)",
			       HEX(p->referral),
			       step == STEP_ACCEPT    ? "accepted"
			       : step == STEP_CONSULT ? "consulted"
						      : "reported",
			       (unsigned long long)r.height[step]);
	if (r.status < step)
		return lb_errf(c->em, LB_EINVALID, "referral %s is %s: %s it first",
			       HEX(p->referral), status_names[r.status], step_names[r.status]);
	r.status = (uint8_t)(step + 1);
	memcpy(r.digest[step], p->digest, LB_HASH_LEN);
	r.height[step] = c->height;
	r.time_ms[step] = c->time_ms;
	memcpy(r.tx[step], c->tx->id, LB_HASH_LEN);
	if (step == STEP_REPORT)
		snprintf(r.outcome, sizeof r.outcome, "%s", p->outcome);
	return rec_put(c->state, p->referral, &r);
}

static int apply_tx(struct lb_apply_ctx *c)
{
	struct lb_ref_tx p;
	int rc = lb_ref_tx_decode(c->tx->type, c->tx->payload, c->tx->payload_len, &p, c->em);
	if (rc)
		return rc;
	switch (p.type) {
	case LB_TX_REF_SPECIALIST:
		return apply_specialist(c, &p);
	case LB_TX_REF_CREATE:
		return apply_create(c, &p);
	case LB_TX_REF_ACCEPT:
		return apply_step(c, &p, STEP_ACCEPT);
	case LB_TX_REF_CONSULT:
		return apply_step(c, &p, STEP_CONSULT);
	default:
		return apply_step(c, &p, STEP_REPORT);
	}
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static json_t *hexj(const uint8_t *p)
{
	return json_string(HEX(p));
}

static json_t *tx_json(const struct lb_tx *tx)
{
	struct lb_ref_tx p;
	if (lb_ref_tx_decode(tx->type, tx->payload, tx->payload_len, &p, NULL))
		return NULL;
	json_t *o = json_object();
	if (tx->type == LB_TX_REF_SPECIALIST) {
		json_object_set_new(o, "specialty", json_string(p.specialty));
	} else if (tx->type == LB_TX_REF_CREATE) {
		json_object_set_new(o, "session", hexj(p.session));
		json_object_set_new(o, "candidate", json_string(p.candidate));
		json_object_set_new(o, "specialty", json_string(p.specialty));
		json_object_set_new(o, "target", json_string(ADDR(p.target)));
		json_object_set_new(o, "provider", json_string(ADDR(p.provider)));
		json_object_set_new(o, "request_hash", hexj(p.digest));
		json_object_set_new(o, "patient", hexj(p.patient));
		json_object_set_new(o, "fee", json_integer((json_int_t)p.fee));
		json_object_set_new(o, "paid_by", json_string(p.pay_tx_len ? "settlement"
									 : "store-wallet"));
	} else {
		json_object_set_new(o, "referral", hexj(p.referral));
		json_object_set_new(o,
				    tx->type == LB_TX_REF_ACCEPT    ? "task_hash"
				    : tx->type == LB_TX_REF_CONSULT ? "encounter_hash"
								    : "report_hash",
				    hexj(p.digest));
		if (tx->type == LB_TX_REF_REPORT)
			json_object_set_new(o, "outcome", json_string(p.outcome));
	}
	return o;
}

static json_t *rec_json(const uint8_t id[LB_HASH_LEN], const struct ref_rec *r)
{
	static const char *const digest_names[STEPS] = {"request_hash", "task_hash",
							"encounter_hash", "report_hash"};
	json_t *o = json_object(), *steps = json_array();
	json_object_set_new(o, "id", hexj(id));
	json_object_set_new(o, "status", json_string(status_names[r->status <= 4 ? r->status : 0]));
	json_object_set_new(o, "practice", json_string(ADDR(r->gp)));
	json_object_set_new(o, "specialist", json_string(ADDR(r->target)));
	json_object_set_new(o, "provider", json_string(ADDR(r->provider)));
	json_object_set_new(o, "developer", json_string(ADDR(r->author)));
	json_object_set_new(o, "specialty", json_string(r->specialty));
	json_object_set_new(o, "candidate", json_string(r->candidate));
	json_object_set_new(o, "contract", hexj(r->contract));
	json_object_set_new(o, "session", hexj(r->session));
	json_object_set_new(o, "patient", hexj(r->patient));
	json_object_set_new(o, "fee", json_integer((json_int_t)r->fee));
	json_object_set_new(o, "outcome", r->outcome[0] ? json_string(r->outcome) : json_null());
	for (int i = 0; i < STEPS && i < r->status; i++) {
		json_t *s = json_object();
		json_object_set_new(s, "step", json_string(step_names[i]));
		json_object_set_new(s, "height", json_integer((json_int_t)r->height[i]));
		json_object_set_new(s, "time_ms", json_integer((json_int_t)r->time_ms[i]));
		json_object_set_new(s, "tx", hexj(r->tx[i]));
		json_object_set_new(s, digest_names[i], hexj(r->digest[i]));
		json_object_set_new(o, digest_names[i], hexj(r->digest[i]));
		json_array_append_new(steps, s);
	}
	json_object_set_new(o, "steps", steps);
	return o;
}

struct view {
	const uint8_t *id, *who;
	size_t offset, limit;
	json_t *out;
	struct lb_errmsg *em;
};

static int view_one(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	struct ref_rec r;
	int rc = rec_get(s, v->id, &r);
	if (rc == LB_ENOTFOUND)
		return lb_errf(v->em, rc, "no referral %s on this chain", HEX(v->id));
	if (rc)
		return lb_errf(v->em, rc, "referral %s cannot be read", HEX(v->id));
	v->out = rec_json(v->id, &r);
	return LB_OK;
}

/* Newest first; with a filter the whole list is scanned (referrals are few per chain today). */
static int view_list(struct lb_state *s, void *ctx)
{
	struct view *v = ctx;
	uint64_t n, total = 0;
	int rc = lb_state_get_u64(s, NS_COUNT, "n", 1, 0, &n);
	if (rc)
		return rc;
	json_t *a = json_array();
	for (uint64_t i = n; i-- > 0;) {
		uint8_t key[8];
		const uint8_t *val;
		uint8_t id[LB_HASH_LEN];
		size_t idn = 0;
		struct ref_rec r;
		be64(key, i);
		/* copy the id: the next state read may reuse the value's memory */
		if (!(rc = lb_state_get(s, NS_LIST, key, 8, &val, &idn)) && idn == LB_HASH_LEN)
			memcpy(id, val, LB_HASH_LEN);
		if (rc || idn != LB_HASH_LEN || (rc = rec_get(s, id, &r))) {
			json_decref(a);
			return lb_errf(v->em, rc ? rc : LB_ECORRUPT, "referral list entry %llu "
				       "cannot be read", (unsigned long long)i);
		}
		if (v->who && memcmp(v->who, r.gp, LB_ADDR_LEN) &&
		    memcmp(v->who, r.target, LB_ADDR_LEN))
			continue;
		if (total++ >= v->offset && json_array_size(a) < v->limit)
			json_array_append_new(a, rec_json(id, &r));
	}
	v->out = json_pack("{s:I,s:o}", "total", (json_int_t)total, "referrals", a);
	return LB_OK;
}

int lb_ref_json(struct lb_ledger *l, const uint8_t id[LB_HASH_LEN], json_t **out,
		struct lb_errmsg *em)
{
	struct view v = {.id = id, .em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_one, &v);
	*out = v.out;
	return rc;
}

int lb_ref_list_json(struct lb_ledger *l, const uint8_t *who, size_t offset, size_t limit,
		     json_t **out, struct lb_errmsg *em)
{
	struct view v = {.who = who, .offset = offset, .limit = limit ? limit : 100, .em = em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, view_list, &v);
	*out = v.out;
	return rc;
}

static const struct lb_txtype ref_types[] = {
	{LB_TX_REF_SPECIALIST, LB_CHAIN_BUSINESS, "referral.specialist", check_tx, apply_tx,
	 tx_json, true},
	{LB_TX_REF_CREATE, LB_CHAIN_BUSINESS, "referral.create", check_tx, apply_tx, tx_json,
	 true},
	{LB_TX_REF_ACCEPT, LB_CHAIN_BUSINESS, "referral.accept", check_tx, apply_tx, tx_json,
	 true},
	{LB_TX_REF_CONSULT, LB_CHAIN_BUSINESS, "referral.consult", check_tx, apply_tx, tx_json,
	 true},
	{LB_TX_REF_REPORT, LB_CHAIN_BUSINESS, "referral.report", check_tx, apply_tx, tx_json,
	 true},
};

/* Not block-independent: each step records its block's height and time. */
int lb_app_referral_register_txtypes(void)
{
	return lb_txtype_register_rows(ref_types, sizeof ref_types / sizeof ref_types[0], false);
}
