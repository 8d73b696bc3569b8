/*
 * Tx handlers of the exchange: the rights and exchange-contract types of the business chain
 * and the escrow of the settlement chain, registered as rows of the ledger's tx-type table.
 *
 * Cross-chain steps cite inclusion proofs: an offer proves the directory-chain registration
 * of its asset (anchored in a business block), a release or refund proves the business-chain
 * result of the run (anchored in a settlement block). A proof counts only when the anchoring
 * block is one of this chain's own earlier blocks (lb_state_block_hash), which every node and
 * every replay sees alike. Every refusal names what is wrong and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exchange/xchg_int.h"
#include "leben/codec.h"
#include "leben/consortium.h"
#include "leben/market.h"
#include "leben/security.h"

/* ---- small helpers ------------------------------------------------------------------------ */

const char *xhex(char *out, const uint8_t *p, size_t n)
{
	lb_hex_encode(out, p, n);
	return out;
}

#define HEX(p) xhex((char[2 * LB_HASH_LEN + 1]){0}, (p), LB_HASH_LEN)
#define SHORT(p) xhex((char[17]){0}, (p), 8)

static const char *addr_text(char out[LB_ADDR_TEXT_LEN + 1], const uint8_t a[LB_ADDR_LEN])
{
	lb_addr_encode(out, a);
	return out;
}
#define ADDR(a) addr_text((char[LB_ADDR_TEXT_LEN + 1]){0}, (a))

static const char *amount(char *buf, size_t n, uint64_t v)
{
	snprintf(buf, n, "%llu.%06llu", (unsigned long long)(v / 1000000),
		 (unsigned long long)(v % 1000000));
	return buf;
}
#define AMT(v) amount((char[32]){0}, 32, (v))

static const char *status_names[] = {"?",       "pending", "approved", "rejected", "running",
				     "done",    "withheld", "failed", "revoked"};

const char *xreq_status_name(int s)
{
	return s >= 1 && s <= 8 ? status_names[s] : "?";
}

static bool is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static void key2(uint8_t *k, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	memcpy(k, a, an);
	memcpy(k + an, b, bn);
}

/* Encode into a stack-sized scratch buffer then put. */
static int put_buf(struct lb_state *s, const char *ns, const void *key, size_t klen,
		   struct lb_buf *b, int rc)
{
	if (!rc)
		rc = lb_state_put(s, ns, key, klen, b->data, b->len);
	lb_buf_release(b);
	return rc;
}

/* ---- records ----------------------------------------------------------------------------- */

static int xoffer_store(struct lb_state *s, const uint8_t asset[LB_HASH_LEN],
			const struct xoffer_rec *r)
{
	struct lb_buf b;
	int rc;
	lb_buf_init(&b, 4096);
	if (!(rc = lb_enc_fixed(&b, r->owner, LB_ADDR_LEN)) && !(rc = lb_enc_u8(&b, r->status)) &&
	    !(rc = lb_enc_uvar(&b, r->data_fee)) && !(rc = lb_enc_u8(&b, r->flags)) &&
	    !(rc = lb_enc_uvar(&b, r->min_cohort)) && !(rc = lb_enc_uvar(&b, r->max_output)) &&
	    !(rc = lb_enc_uvar(&b, r->data_bytes)) &&
	    !(rc = lb_enc_fixed(&b, r->content, LB_HASH_LEN)) &&
	    !(rc = lb_enc_uvar(&b, r->n_allow)) &&
	    !(rc = lb_enc_fixed(&b, r->allow, r->n_allow * LB_HASH_LEN)) &&
	    !(rc = lb_enc_uvar(&b, r->epsilon)) && !(rc = lb_enc_uvar(&b, r->budget_user)) &&
	    !(rc = lb_enc_uvar(&b, r->budget_patient)))
		rc = lb_enc_fixed(&b, r->owner_key, LB_PUBKEY_LEN);
	return put_buf(s, XNS_OFFER, asset, LB_HASH_LEN, &b, rc);
}

int xoffer_load(struct lb_state *s, const uint8_t asset[LB_HASH_LEN], struct xoffer_rec *r)
{
	const uint8_t *v;
	size_t n;
	uint64_t na;
	int rc = lb_state_get(s, XNS_OFFER, asset, LB_HASH_LEN, &v, &n);
	if (rc)
		return rc;
	struct lb_dec d;
	lb_dec_init(&d, v, n, "offer", NULL);
	if (lb_dec_fixed(&d, "owner", r->owner, LB_ADDR_LEN) || lb_dec_u8(&d, "s", &r->status) ||
	    lb_dec_uvar(&d, "f", UINT64_MAX, &r->data_fee) || lb_dec_u8(&d, "fl", &r->flags) ||
	    lb_dec_uvar(&d, "c", UINT64_MAX, &r->min_cohort) ||
	    lb_dec_uvar(&d, "o", UINT64_MAX, &r->max_output) ||
	    lb_dec_uvar(&d, "b", UINT64_MAX, &r->data_bytes) ||
	    lb_dec_fixed(&d, "h", r->content, LB_HASH_LEN) ||
	    lb_dec_uvar(&d, "n", LB_XCHG_ALLOW_MAX, &na) ||
	    lb_dec_fixed(&d, "a", r->allow, (size_t)na * LB_HASH_LEN) ||
	    lb_dec_uvar(&d, "e", UINT64_MAX, &r->epsilon) ||
	    lb_dec_uvar(&d, "bu", UINT64_MAX, &r->budget_user) ||
	    lb_dec_uvar(&d, "bp", UINT64_MAX, &r->budget_patient) ||
	    lb_dec_fixed(&d, "k", r->owner_key, LB_PUBKEY_LEN) || lb_dec_end(&d))
		return LB_ECORRUPT;
	r->n_allow = (size_t)na;
	return LB_OK;
}

static int xalgo_store(struct lb_state *s, const uint8_t hash[LB_HASH_LEN],
		       const struct xalgo_rec *r)
{
	struct lb_buf b;
	int rc;
	lb_buf_init(&b, 512);
	if (!(rc = lb_enc_fixed(&b, r->author, LB_ADDR_LEN)) && !(rc = lb_enc_uvar(&b, r->fee)) &&
	    !(rc = lb_enc_u8(&b, r->flags)))
		rc = lb_enc_str(&b, r->name);
	return put_buf(s, XNS_ALGO, hash, LB_HASH_LEN, &b, rc);
}

int xalgo_load(struct lb_state *s, const uint8_t hash[LB_HASH_LEN], struct xalgo_rec *r)
{
	const uint8_t *v;
	size_t n;
	const char *builtin = lb_xchg_builtin_name(hash);
	if (builtin) { /* the platform's: no author, no fee, no registration */
		memset(r, 0, sizeof *r);
		snprintf(r->name, sizeof r->name, "%s", builtin);
		return LB_OK;
	}
	int rc = lb_state_get(s, XNS_ALGO, hash, LB_HASH_LEN, &v, &n);
	if (rc)
		return rc;
	struct lb_dec d;
	lb_dec_init(&d, v, n, "algorithm", NULL);
	if (lb_dec_fixed(&d, "a", r->author, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "f", UINT64_MAX, &r->fee) || lb_dec_u8(&d, "fl", &r->flags) ||
	    lb_dec_str(&d, "n", LB_XCHG_NAME_MAX, r->name, sizeof r->name) || lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

int lb_xchg_state_algo(struct lb_state *s, const uint8_t hash[LB_HASH_LEN],
		       uint8_t author[LB_ADDR_LEN], char *name, size_t namesz)
{
	struct xalgo_rec r;
	if (lb_xchg_builtin_name(hash))
		return LB_ENOTFOUND;
	int rc = xalgo_load(s, hash, &r);
	if (rc)
		return rc;
	memcpy(author, r.author, LB_ADDR_LEN);
	snprintf(name, namesz, "%s", r.name);
	return LB_OK;
}

static int xreq_store(struct lb_state *s, const uint8_t id[LB_HASH_LEN], const struct xreq_rec *r)
{
	struct lb_buf b;
	int rc;
	lb_buf_init(&b, 512);
	if (!(rc = lb_enc_fixed(&b, r->user, LB_ADDR_LEN)) &&
	    !(rc = lb_enc_fixed(&b, r->asset, LB_HASH_LEN)) &&
	    !(rc = lb_enc_fixed(&b, r->algo, LB_HASH_LEN)) && !(rc = lb_enc_u8(&b, r->scenario)) &&
	    !(rc = lb_enc_u8(&b, r->status)) && !(rc = lb_enc_u8(&b, r->approved_by)) &&
	    !(rc = lb_enc_uvar(&b, r->height)) &&
	    !(rc = lb_enc_fixed(&b, r->executor, LB_ADDR_LEN)) &&
	    !(rc = lb_enc_fixed(&b, r->escrow, LB_HASH_LEN)) &&
	    !(rc = lb_enc_fixed(&b, r->terms_hash, LB_HASH_LEN)) &&
	    !(rc = lb_enc_u8(&b, r->run_scenario)) &&
	    !(rc = lb_enc_fixed(&b, r->result_hash, LB_HASH_LEN)) &&
	    !(rc = lb_enc_u8(&b, r->reason)))
		rc = lb_enc_u8(&b, r->run_reason);
	return put_buf(s, XNS_REQ, id, LB_HASH_LEN, &b, rc);
}

int xreq_load(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct xreq_rec *r)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, XNS_REQ, id, LB_HASH_LEN, &v, &n);
	if (rc)
		return rc;
	struct lb_dec d;
	lb_dec_init(&d, v, n, "request", NULL);
	if (lb_dec_fixed(&d, "u", r->user, LB_ADDR_LEN) ||
	    lb_dec_fixed(&d, "a", r->asset, LB_HASH_LEN) ||
	    lb_dec_fixed(&d, "g", r->algo, LB_HASH_LEN) || lb_dec_u8(&d, "sc", &r->scenario) ||
	    lb_dec_u8(&d, "st", &r->status) || lb_dec_u8(&d, "ab", &r->approved_by) ||
	    lb_dec_uvar(&d, "h", UINT64_MAX, &r->height) ||
	    lb_dec_fixed(&d, "x", r->executor, LB_ADDR_LEN) ||
	    lb_dec_fixed(&d, "e", r->escrow, LB_HASH_LEN) ||
	    lb_dec_fixed(&d, "t", r->terms_hash, LB_HASH_LEN) ||
	    lb_dec_u8(&d, "rs", &r->run_scenario) ||
	    lb_dec_fixed(&d, "r", r->result_hash, LB_HASH_LEN) || lb_dec_u8(&d, "rc", &r->reason) ||
	    lb_dec_u8(&d, "rr", &r->run_reason) || r->run_reason > LB_XCHG_SCEN_REASON_MAX ||
	    lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

int lb_xchg_delivered(struct lb_state *s, const uint8_t id[LB_HASH_LEN],
		      uint8_t user[LB_ADDR_LEN], uint8_t algo[LB_HASH_LEN], struct lb_errmsg *em)
{
	struct xreq_rec r;
	char h[2 * LB_HASH_LEN + 1];
	int rc = xreq_load(s, id, &r);
	lb_hex_encode(h, id, LB_HASH_LEN);
	if (rc == LB_ENOTFOUND)
		return lb_errf(em, LB_ENOTFOUND, "exchange request %s is not on the business chain", h);
	if (rc)
		return rc;
	if (r.status != XREQ_DONE)
		return lb_errf(em, LB_EINVALID, "exchange request %s has no delivered result (status "
			       "%u): it is approved, run and released first", h, r.status);
	memcpy(user, r.user, LB_ADDR_LEN);
	memcpy(algo, r.algo, LB_HASH_LEN);
	return LB_OK;
}

int xconsent_load(struct lb_state *s, const uint8_t asset[LB_HASH_LEN],
		  const uint8_t patient[LB_HASH_LEN], struct xconsent_rec *r)
{
	uint8_t k[2 * LB_HASH_LEN];
	const uint8_t *v;
	size_t n;
	key2(k, asset, LB_HASH_LEN, patient, LB_HASH_LEN);
	int rc = lb_state_get(s, XNS_CONSENT, k, sizeof k, &v, &n);
	if (rc)
		return rc;
	struct lb_dec d;
	lb_dec_init(&d, v, n, "consent", NULL);
	if (lb_dec_fixed(&d, "p", r->patient_addr, LB_ADDR_LEN) || lb_dec_u8(&d, "s", &r->status) ||
	    lb_dec_uvar(&d, "h", UINT64_MAX, &r->height) || lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

static int xconsent_store(struct lb_state *s, const uint8_t asset[LB_HASH_LEN],
			  const uint8_t patient[LB_HASH_LEN], const struct xconsent_rec *r)
{
	uint8_t k[2 * LB_HASH_LEN];
	struct lb_buf b;
	int rc;
	key2(k, asset, LB_HASH_LEN, patient, LB_HASH_LEN);
	lb_buf_init(&b, 64);
	if (!(rc = lb_enc_fixed(&b, r->patient_addr, LB_ADDR_LEN)) &&
	    !(rc = lb_enc_u8(&b, r->status)))
		rc = lb_enc_uvar(&b, r->height);
	return put_buf(s, XNS_CONSENT, k, sizeof k, &b, rc);
}

int xgrant_get(struct lb_state *s, const uint8_t asset[LB_HASH_LEN],
	       const uint8_t executor[LB_ADDR_LEN], uint8_t *kind)
{
	uint8_t k[LB_HASH_LEN + LB_ADDR_LEN];
	uint64_t v;
	key2(k, asset, LB_HASH_LEN, executor, LB_ADDR_LEN);
	int rc = lb_state_get_u64(s, XNS_GRANT, k, sizeof k, 0, &v);
	*kind = (uint8_t)v;
	return rc;
}

static int xescrow_store(struct lb_state *s, const uint8_t id[LB_HASH_LEN],
			 const struct xescrow_rec *r)
{
	struct lb_escrow_open o = {.terms = r->terms, .timeout = r->timeout};
	struct lb_buf b;
	int rc;
	lb_buf_init(&b, 512);
	if (!(rc = lb_escrow_open_encode(&b, &o)) && !(rc = lb_enc_uvar(&b, r->opened)) &&
	    !(rc = lb_enc_u8(&b, r->status)) && !(rc = lb_enc_u8(&b, r->claimed)) &&
	    !(rc = lb_enc_fixed(&b, r->result_hash, LB_HASH_LEN)))
		rc = lb_enc_uvar(&b, r->closed);
	return put_buf(s, XNS_ESCROW, id, LB_HASH_LEN, &b, rc);
}

int xescrow_load(struct lb_state *s, const uint8_t id[LB_HASH_LEN], struct xescrow_rec *r)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, XNS_ESCROW, id, LB_HASH_LEN, &v, &n);
	if (rc)
		return rc;
	/* the record starts with the open payload; the rest follows */
	struct lb_dec d;
	lb_dec_init(&d, v, n, "escrow", NULL);
	struct lb_xchg_terms *t = &r->terms;
	if (lb_dec_fixed(&d, "u", t->user, LB_ADDR_LEN) ||
	    lb_dec_fixed(&d, "r", t->request, LB_HASH_LEN) ||
	    lb_dec_fixed(&d, "o", t->owner, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "df", UINT64_MAX, &t->data_fee) ||
	    lb_dec_fixed(&d, "a", t->author, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "af", UINT64_MAX, &t->algo_fee) ||
	    lb_dec_fixed(&d, "x", t->executor, LB_ADDR_LEN) ||
	    lb_dec_uvar(&d, "cf", UINT64_MAX, &t->compute_fee) ||
	    lb_dec_uvar(&d, "t", UINT64_MAX, &r->timeout) ||
	    lb_dec_uvar(&d, "op", UINT64_MAX, &r->opened) || lb_dec_u8(&d, "s", &r->status) ||
	    lb_dec_u8(&d, "c", &r->claimed) || lb_dec_fixed(&d, "h", r->result_hash, LB_HASH_LEN) ||
	    lb_dec_uvar(&d, "cl", UINT64_MAX, &r->closed) || lb_dec_end(&d))
		return LB_ECORRUPT;
	return LB_OK;
}

/* ---- audit index --------------------------------------------------------------------------- */

int xlog_count(struct lb_state *s, const uint8_t subject[LB_HASH_LEN], uint64_t *n)
{
	return lb_state_get_u64(s, XNS_LOGN, subject, LB_HASH_LEN, 0, n);
}

int xlog_get(struct lb_state *s, const uint8_t subject[LB_HASH_LEN], uint64_t i,
	     uint8_t txid[LB_HASH_LEN])
{
	uint8_t k[LB_HASH_LEN + 8];
	const uint8_t *v;
	size_t n;
	memcpy(k, subject, LB_HASH_LEN);
	for (int j = 0; j < 8; j++)
		k[LB_HASH_LEN + j] = (uint8_t)(i >> (56 - 8 * j));
	int rc = lb_state_get(s, XNS_LOG, k, sizeof k, &v, &n);
	if (rc)
		return rc;
	if (n != LB_HASH_LEN)
		return LB_ECORRUPT;
	memcpy(txid, v, LB_HASH_LEN);
	return LB_OK;
}

/* Append this tx to the history of subject. */
int xchg_log_add(struct lb_apply_ctx *c, const uint8_t subject[LB_HASH_LEN])
{
	uint64_t n;
	uint8_t k[LB_HASH_LEN + 8];
	int rc = xlog_count(c->state, subject, &n);
	if (rc)
		return rc;
	memcpy(k, subject, LB_HASH_LEN);
	for (int j = 0; j < 8; j++)
		k[LB_HASH_LEN + j] = (uint8_t)(n >> (56 - 8 * j));
	if ((rc = lb_state_put(c->state, XNS_LOG, k, sizeof k, c->tx->id, LB_HASH_LEN)))
		return rc;
	return lb_state_put_u64(c->state, XNS_LOGN, subject, LB_HASH_LEN, n + 1);
}

/* Store a request and log this tx in the history of its asset and of the request itself. */
static int xreq_commit(struct lb_apply_ctx *c, const uint8_t id[LB_HASH_LEN],
		       const struct xreq_rec *r)
{
	int rc = xreq_store(c->state, id, r);
	if (!rc)
		rc = xchg_log_add(c, r->asset);
	return rc ? rc : xchg_log_add(c, id);
}

/* The stateless check of a tx type whose payload needs only to decode. */
#define DECODE_CHECK(fn, type, decode)                                                   \
	static int fn(const struct lb_tx *tx, struct lb_errmsg *em)                      \
	{                                                                                \
		struct type p;                                                           \
		return decode(&p, tx->payload, tx->payload_len, em);                     \
	}

/* ---- balances (settlement "bal" namespace: asc uvar, csc uvar; see the ledger) -------------- */

/* Add (credit) asc and csc to an account; the escrow held them, so supply is unchanged. */
static int bal_credit(struct lb_apply_ctx *c, const uint8_t a[LB_ADDR_LEN], uint64_t asc,
		      uint64_t csc)
{
	int rc = lb_mkt_credit(c->state, a, LB_ASC, asc, c->em);
	return rc ? rc : lb_mkt_credit(c->state, a, LB_CSC, csc, c->em);
}

/* ---- the index of offered assets (audits due are listed from it) ------------------------------ */

int xoffer_index_count(struct lb_state *s, uint64_t *n)
{
	return lb_state_get_u64(s, XNS_OFFER_IDX, "n", 1, 0, n);
}

int xoffer_index_get(struct lb_state *s, uint64_t i, uint8_t asset[LB_HASH_LEN])
{
	uint8_t k[8];
	const uint8_t *v;
	size_t n;
	for (int j = 0; j < 8; j++)
		k[j] = (uint8_t)(i >> (56 - 8 * j));
	int rc = lb_state_get(s, XNS_OFFER_IDX, k, sizeof k, &v, &n);
	if (rc)
		return rc;
	if (n != LB_HASH_LEN)
		return LB_ECORRUPT;
	memcpy(asset, v, LB_HASH_LEN);
	return LB_OK;
}

static int xoffer_index_add(struct lb_state *s, const uint8_t asset[LB_HASH_LEN])
{
	uint64_t n;
	uint8_t k[8];
	int rc = xoffer_index_count(s, &n);
	if (rc)
		return rc;
	for (int j = 0; j < 8; j++)
		k[j] = (uint8_t)(n >> (56 - 8 * j));
	if ((rc = lb_state_put(s, XNS_OFFER_IDX, k, sizeof k, asset, LB_HASH_LEN)))
		return rc;
	return lb_state_put_u64(s, XNS_OFFER_IDX, "n", 1, n + 1);
}

/* ---- super-node roles (docs/consortium.md, "Roles") -------------------------------------------- */

static const char *role_word(uint8_t role)
{
	switch (role) {
	case LB_SUPER_DATA:
		return "data";
	case LB_SUPER_COMPUTING:
		return "computing";
	case LB_SUPER_ALGORITHM:
		return "algorithm";
	default:
		return "audit";
	}
}

int xchg_need_role(struct lb_state *s, const uint8_t who[LB_ADDR_LEN], uint8_t role,
		   const char *doing, struct lb_errmsg *em)
{
	uint8_t kinds = 0;
	uint64_t members = 0;
	char have[96], a[LB_ADDR_TEXT_LEN + 1];
	int rc = lb_consortium_state_kinds(s, who, &kinds, &members, NULL);
	if (rc)
		return lb_errf(em, rc, "reading the consortium's members failed");
	if (!members || (kinds & role)) /* no members: one institution holds every role */
		return LB_OK;
	addr_text(a, who);
	char cur[48];
	lb_super_kinds_format(kinds, cur, sizeof cur);
	if (kinds)
		snprintf(have, sizeof have, "a member with the kinds %s", cur);
	else
		snprintf(have, sizeof have, "not a member of the consortium");
	return lb_errf(em, LB_EUNAUTH,
		       "not %s %s node: %s (%s) may not %s; only %s super nodes do. The role comes "
		       "from a consortium vote: a member proposes %s (leben governance propose %s "
		       "--member %s%s --kinds %s%s%s) and the members vote (leben governance vote)",
		       role == LB_SUPER_DATA || role == LB_SUPER_COMPUTING ? "a" : "an",
		       role_word(role), a, have, doing, role_word(role),
		       kinds ? "the member's new kinds" : "the node with its kinds",
		       kinds ? "kinds" : "admit", a, kinds ? "" : " --name NAME", role_word(role),
		       kinds ? "," : ",...", kinds ? cur : "");
}

/* ---- business: offer ------------------------------------------------------------------------- */

static int need_coowners(struct lb_apply_ctx *c, const uint8_t asset[LB_HASH_LEN]);

static int check_offer(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_xchg_offer *p = lb_malloc(sizeof *p);
	if (!p)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	int rc = lb_xchg_offer_decode(p, tx->payload, tx->payload_len, em);
	lb_free(p);
	return rc;
}

static int apply_offer(struct lb_apply_ctx *c)
{
	struct lb_xchg_offer *p = lb_malloc(sizeof *p);
	struct xoffer_rec *r = lb_malloc(sizeof *r);
	struct lb_tx reg;
	uint8_t owner[LB_ADDR_LEN], asset[LB_HASH_LEN];
	int rc;
	if (!p || !r) {
		rc = lb_errf(c->em, LB_ENOMEM, "out of memory");
		goto out;
	}
	uint8_t content[LB_HASH_LEN];
	uint64_t size;
	if ((rc = lb_xchg_offer_decode(p, c->tx->payload, c->tx->payload_len, c->em)) ||
	    (rc = lb_apply_cite(c, "asset registration", p->reg_tx, p->reg_tx_len, p->reg_proof,
				p->reg_proof_len, LB_CHAIN_DIRECTORY, 0, &reg)) ||
	    (rc = lb_xchg_registration(&reg, asset, owner, content, &size, c->em)))
		goto out;
	if (memcmp(owner, c->sender_addr, LB_ADDR_LEN)) {
		rc = lb_errf(c->em, LB_EUNAUTH,
			     "wrong owner: asset %s was registered by %s; only its owner may offer it",
			     HEX(asset), ADDR(owner));
		goto out;
	}
	if ((rc = need_coowners(c, asset)))
		goto out;
	/* data nodes host offered assets: an owner that is a member must be one (an account
	 * that is not a member is hosted by its institution's node, which the own-node grant
	 * names and which must be a data node) */
	uint8_t okinds = 0;
	if ((rc = lb_consortium_state_kinds(c->state, owner, &okinds, NULL, NULL)))
		goto out;
	if (okinds && (rc = xchg_need_role(c->state, owner, LB_SUPER_DATA,
					   "offer assets for exchange", c->em)))
		goto out;
	rc = xoffer_load(c->state, asset, r);
	if (rc == LB_ENOTFOUND)
		rc = xoffer_index_add(c->state, asset);
	if (rc)
		goto out;
	memset(r, 0, sizeof *r);
	memcpy(r->owner, owner, LB_ADDR_LEN);
	r->status = 1;
	r->data_fee = p->data_fee;
	r->flags = p->flags;
	r->min_cohort = p->min_cohort;
	r->max_output = p->max_output;
	r->data_bytes = p->data_bytes ? p->data_bytes : size;
	memcpy(r->content, content, LB_HASH_LEN);
	r->n_allow = p->n_allow;
	memcpy(r->allow, p->allow, p->n_allow * LB_HASH_LEN);
	r->epsilon = p->epsilon;
	r->budget_user = p->budget_user;
	r->budget_patient = p->budget_patient;
	memcpy(r->owner_key, reg.sender, LB_PUBKEY_LEN);
	if ((rc = xoffer_store(c->state, asset, r)) || (rc = xchg_log_add(c, asset)))
		goto out;
out:
	lb_free(p);
	lb_free(r);
	return rc;
}

/* Asset offered and active, else a specific refusal. */
static int need_offer(struct lb_apply_ctx *c, const uint8_t asset[LB_HASH_LEN], struct xoffer_rec *r)
{
	int rc = xoffer_load(c->state, asset, r);
	if (rc == LB_ENOTFOUND)
		return lb_errf(c->em, LB_ENOTFOUND,
			       "asset %s is not offered for exchange (its owner must send xchg.offer)",
			       HEX(asset));
	if (rc)
		return lb_errf(c->em, rc, "reading the offer of asset %s failed", HEX(asset));
	if (r->status != 1)
		return lb_errf(c->em, LB_EDENIED, "asset %s was withdrawn from exchange by its owner",
			       HEX(asset));
	return LB_OK;
}

/* A co-owned asset (a co-owner policy recorded by the security module): this owner act
 * applies only once its co-owners approved it (policy.approve recorded the act's digest in
 * the security module's "sec.approved" namespace: asset || digest -> height). */
static int need_coowners(struct lb_apply_ctx *c, const uint8_t asset[LB_HASH_LEN])
{
	struct lb_msig_policy *pol = lb_malloc(sizeof *pol);
	char act[LB_XCHG_ACT_MAX];
	uint8_t k[2 * LB_HASH_LEN];
	uint64_t at = 0;
	if (!pol)
		return lb_errf(c->em, LB_ENOMEM, "out of memory");
	int rc = lb_security_policy_get(c->state, asset, pol, NULL, NULL);
	lb_free(pol);
	if (rc == LB_ENOTFOUND)
		return LB_OK; /* a single owner */
	if (rc)
		return lb_errf(c->em, rc, "reading the co-owner policy of asset %s failed", HEX(asset));
	if ((rc = lb_xchg_owner_act(c->tx->type, c->tx->payload, c->tx->payload_len, act, c->em)))
		return rc;
	memcpy(k, asset, LB_HASH_LEN);
	lb_security_act_digest(asset, (const uint8_t *)act, strlen(act), k + LB_HASH_LEN);
	if ((rc = lb_state_get_u64(c->state, "sec.approved", k, sizeof k, 0, &at)))
		return rc;
	if (!at)
		return lb_errf(c->em, LB_EDENIED,
			       "asset %s is co-owned: its co-owners must first approve this act "
			       "(leben policy approve --asset %s --act '%s')",
			       HEX(asset), HEX(asset), act);
	return LB_OK;
}

static int need_owner(struct lb_apply_ctx *c, const struct xoffer_rec *r,
		      const uint8_t asset[LB_HASH_LEN], const char *act)
{
	if (memcmp(r->owner, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH, "wrong owner: only %s, the owner of asset %s, may %s",
			       ADDR(r->owner), HEX(asset), act);
	return need_coowners(c, asset);
}

/* ---- business: grant, algorithm, request, approve, consent ----------------------------------- */

DECODE_CHECK(check_grant, lb_xchg_grant, lb_xchg_grant_decode)

static int apply_grant(struct lb_apply_ctx *c)
{
	struct lb_xchg_grant p;
	struct xoffer_rec *r = lb_malloc(sizeof *r);
	uint8_t k[LB_HASH_LEN + LB_ADDR_LEN];
	int rc = r ? LB_OK : LB_ENOMEM;
	if (rc || (rc = lb_xchg_grant_decode(&p, c->tx->payload, c->tx->payload_len, c->em)) ||
	    (rc = need_offer(c, p.asset, r)) ||
	    (rc = need_owner(c, r, p.asset, "grant its execution right")))
		goto out;
	if (p.kind == 1 && (rc = xchg_need_role(c->state, p.executor, LB_SUPER_DATA,
						 "host an offered asset as its owner's own node",
						 c->em)))
		goto out;
	key2(k, p.asset, LB_HASH_LEN, p.executor, LB_ADDR_LEN);
	if ((rc = lb_state_put_u64(c->state, XNS_GRANT, k, sizeof k, p.kind)) ||
	    (rc = xchg_log_add(c, p.asset)))
		goto out;
out:
	lb_free(r);
	return rc;
}

DECODE_CHECK(check_algo, lb_xchg_algo, lb_xchg_algo_decode)

static int apply_algo(struct lb_apply_ctx *c)
{
	struct lb_xchg_algo p;
	struct xalgo_rec r;
	int rc = lb_xchg_algo_decode(&p, c->tx->payload, c->tx->payload_len, c->em);
	if (rc)
		return rc;
	const char *builtin = lb_xchg_builtin_name(p.hash);
	if (builtin)
		return lb_errf(c->em, LB_EDENIED,
			       "built-in algorithms belong to the platform: %s is the pinned hash of "
			       "builtin:%s, which anyone may request without registration (no author, "
			       "no fee)",
			       HEX(p.hash), builtin);
	if ((rc = xchg_need_role(c->state, c->sender_addr, LB_SUPER_ALGORITHM,
				 "publish algorithms to the market", c->em)))
		return rc;
	rc = xalgo_load(c->state, p.hash, &r);
	if (rc == LB_OK && memcmp(r.author, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EEXISTS, "algorithm %s is already registered by %s",
			       HEX(p.hash), ADDR(r.author));
	if (rc && rc != LB_ENOTFOUND)
		return lb_errf(c->em, rc, "reading algorithm %s failed", HEX(p.hash));
	memcpy(r.author, c->sender_addr, LB_ADDR_LEN);
	r.fee = p.fee;
	r.flags = p.flags;
	memcpy(r.name, p.name, sizeof r.name);
	if ((rc = xalgo_store(c->state, p.hash, &r)))
		return rc;
	return xchg_log_add(c, p.hash);
}

static bool on_allow_list(const struct xoffer_rec *o, const uint8_t algo[LB_HASH_LEN])
{
	for (size_t i = 0; i < o->n_allow; i++)
		if (!memcmp(o->allow[i], algo, LB_HASH_LEN))
			return true;
	return false;
}

DECODE_CHECK(check_request, lb_xchg_request, lb_xchg_request_decode)

static int apply_request(struct lb_apply_ctx *c)
{
	struct lb_xchg_request p;
	struct xoffer_rec *o = lb_malloc(sizeof *o);
	struct xalgo_rec a;
	struct xreq_rec r;
	int rc = o ? LB_OK : LB_ENOMEM;
	if (rc || (rc = lb_xchg_request_decode(&p, c->tx->payload, c->tx->payload_len, c->em)) ||
	    (rc = need_offer(c, p.asset, o)))
		goto out;
	if ((rc = xalgo_load(c->state, p.algo, &a))) {
		rc = lb_errf(c->em, rc == LB_ENOTFOUND ? LB_ENOTFOUND : rc,
			     "algorithm %s is not registered (its author must send xchg.algo)",
			     HEX(p.algo));
		goto out;
	}
	if ((o->flags & LB_XCHG_OFFER_LOCAL_ONLY) && p.scenario > LB_XCHG_LOCAL) {
		rc = lb_errf(c->em, LB_EDENIED,
			     "asset %s may only be computed where it lies (local); %s was asked for",
			     HEX(p.asset), lb_xchg_scenario_name(p.scenario));
		goto out;
	}
	memset(&r, 0, sizeof r);
	memcpy(r.user, c->sender_addr, LB_ADDR_LEN);
	memcpy(r.asset, p.asset, LB_HASH_LEN);
	memcpy(r.algo, p.algo, LB_HASH_LEN);
	r.scenario = p.scenario;
	r.height = c->height;
	if (on_allow_list(o, p.algo)) {
		r.status = XREQ_APPROVED;
		r.approved_by = 1;
	} else {
		r.status = XREQ_PENDING;
	}
	rc = xreq_commit(c, c->tx->id, &r);
out:
	lb_free(o);
	return rc;
}

DECODE_CHECK(check_approve, lb_xchg_approve, lb_xchg_approve_decode)

static int need_request(struct lb_apply_ctx *c, const uint8_t id[LB_HASH_LEN], struct xreq_rec *r)
{
	int rc = xreq_load(c->state, id, r);
	if (rc == LB_ENOTFOUND)
		return lb_errf(c->em, LB_ENOTFOUND, "there is no exchange request %s", HEX(id));
	if (rc)
		return lb_errf(c->em, rc, "reading request %s failed", HEX(id));
	return LB_OK;
}

static int apply_approve(struct lb_apply_ctx *c)
{
	struct lb_xchg_approve p;
	struct xreq_rec r;
	struct xoffer_rec *o = lb_malloc(sizeof *o);
	int rc = o ? LB_OK : LB_ENOMEM;
	if (rc || (rc = lb_xchg_approve_decode(&p, c->tx->payload, c->tx->payload_len, c->em)) ||
	    (rc = need_request(c, p.request, &r)) || (rc = need_offer(c, r.asset, o)) ||
	    (rc = need_owner(c, o, r.asset, p.decision == 1 ? "approve requests on it"
							     : "reject requests on it")))
		goto out;
	if (r.status != XREQ_PENDING) {
		rc = lb_errf(c->em, LB_EINVALID, "request %s is %s%s, not waiting for a decision",
			     HEX(p.request), xreq_status_name(r.status),
			     r.approved_by == 1 ? " (its algorithm is on the allow-list)" : "");
		goto out;
	}
	r.status = p.decision == 1 ? XREQ_APPROVED : XREQ_REJECTED;
	r.approved_by = p.decision == 1 ? 2 : 0;
	if ((rc = xreq_commit(c, p.request, &r)))
		goto out;
out:
	lb_free(o);
	return rc;
}

DECODE_CHECK(check_consent, lb_xchg_consent, lb_xchg_consent_decode)

/* Consent is bound to the patient: the key the owner registered for the commitment
 * (xchg.patients) is the only one that gives, revokes or rebinds it; the asset's owner may
 * record a revocation on the patient's behalf (asked at its desk), never a consent. */
static int apply_consent(struct lb_apply_ctx *c)
{
	struct lb_xchg_consent p;
	struct xconsent_rec r;
	struct xoffer_rec *o = lb_malloc(sizeof *o);
	int rc = o ? LB_OK : lb_errf(c->em, LB_ENOMEM, "out of memory");
	if (rc || (rc = lb_xchg_consent_decode(&p, c->tx->payload, c->tx->payload_len, c->em)))
		goto out;
	rc = xoffer_load(c->state, p.asset, o);
	if (rc == LB_ENOTFOUND || (!rc && o->status != 1 && p.action == LB_XCHG_GIVE)) {
		rc = lb_errf(c->em, rc ? LB_ENOTFOUND : LB_EDENIED,
			     "asset %s is not on offer: consent is given only for assets offered for "
			     "exchange",
			     HEX(p.asset));
		goto out;
	}
	if (rc) {
		rc = lb_errf(c->em, rc, "reading the offer of asset %s failed", HEX(p.asset));
		goto out;
	}
	rc = xconsent_load(c->state, p.asset, p.patient, &r);
	if (rc == LB_ENOTFOUND) {
		rc = lb_errf(c->em, LB_ENOTFOUND,
			     "patient %s is not registered for asset %s: only the asset's owner "
			     "registers a patient's consent key (xchg.patients), then the patient uses it",
			     HEX(p.patient), HEX(p.asset));
		goto out;
	}
	if (rc) {
		rc = lb_errf(c->em, rc, "reading the consent failed");
		goto out;
	}
	bool by_patient = !memcmp(r.patient_addr, c->sender_addr, LB_ADDR_LEN);
	bool by_owner = !memcmp(o->owner, c->sender_addr, LB_ADDR_LEN);
	if (!by_patient && !(by_owner && p.action == LB_XCHG_REVOKE_CONSENT)) {
		rc = lb_errf(c->em, LB_EUNAUTH,
			     by_owner ? "the owner of asset %s may record a revocation on patient "
					"%s's behalf, never a consent or a new key: that is the act "
					"of the patient's own key %s"
				      : "asset %s, patient %s: only the patient's registered consent "
					"key %s may give, revoke or rebind this consent",
			     SHORT(p.asset), SHORT(p.patient), ADDR(r.patient_addr));
		goto out;
	}
	if (p.action == LB_XCHG_REBIND) {
		if (!memcmp(p.new_key, o->owner, LB_ADDR_LEN)) {
			rc = lb_errf(c->em, LB_EINVALID,
				     "the consent cannot be bound to %s, the asset's owner: the owner "
				     "never gives a patient's consent",
				     ADDR(o->owner));
			goto out;
		}
		if (!memcmp(p.new_key, r.patient_addr, LB_ADDR_LEN)) {
			rc = lb_errf(c->em, LB_EINVALID, "the consent is already bound to %s",
				     ADDR(p.new_key));
			goto out;
		}
		memcpy(r.patient_addr, p.new_key, LB_ADDR_LEN);
	} else {
		r.status = p.action;
	}
	r.height = c->height;
	if ((rc = xconsent_store(c->state, p.asset, p.patient, &r)) ||
	    (rc = xchg_log_add(c, p.asset)) || (rc = xchg_log_add(c, p.patient)))
		goto out;
out:
	lb_free(o);
	return rc;
}

DECODE_CHECK(check_patients, lb_xchg_patients, lb_xchg_patients_decode)

/* The owner registers each patient's consent key under the patient's commitment, once: a
 * commitment already registered (by anyone, to any key) is refused; changing the key is the
 * patient's own act (xchg.consent rebind). */
static int apply_patients(struct lb_apply_ctx *c)
{
	struct lb_xchg_patients p;
	struct xoffer_rec *o = lb_malloc(sizeof *o);
	int rc = o ? LB_OK : lb_errf(c->em, LB_ENOMEM, "out of memory");
	if (rc || (rc = lb_xchg_patients_decode(&p, c->tx->payload, c->tx->payload_len, c->em)) ||
	    (rc = need_offer(c, p.asset, o)))
		goto out;
	if (memcmp(o->owner, c->sender_addr, LB_ADDR_LEN)) {
		rc = lb_errf(c->em, LB_EUNAUTH,
			     "wrong owner: only %s, the owner of asset %s, registers its patients",
			     ADDR(o->owner), HEX(p.asset));
		goto out;
	}
	for (size_t i = 0; i < p.n && !rc; i++) {
		const uint8_t *e = p.entries + i * LB_XCHG_PATIENT_ENTRY;
		struct xconsent_rec r;
		if (!memcmp(e + LB_HASH_LEN, o->owner, LB_ADDR_LEN)) {
			rc = lb_errf(c->em, LB_EINVALID,
				     "patient %s: the asset's owner cannot be a patient's consent key "
				     "(the owner never gives a consent); register the patient's own key",
				     HEX(e));
			break;
		}
		rc = xconsent_load(c->state, p.asset, e, &r);
		if (rc == LB_OK) {
			rc = lb_errf(c->em, LB_EEXISTS,
				     "patient %s of asset %s is already registered (key %s, business "
				     "height %llu); a new key is the patient's own act (rebind)",
				     HEX(e), SHORT(p.asset), ADDR(r.patient_addr),
				     (unsigned long long)r.height);
			break;
		}
		if (rc != LB_ENOTFOUND) {
			rc = lb_errf(c->em, rc, "reading the consent failed");
			break;
		}
		memset(&r, 0, sizeof r);
		memcpy(r.patient_addr, e + LB_HASH_LEN, LB_ADDR_LEN);
		r.status = XCONSENT_REGISTERED;
		r.height = c->height;
		if (!(rc = xconsent_store(c->state, p.asset, e, &r)))
			rc = xchg_log_add(c, e);
	}
	if (!rc)
		rc = xchg_log_add(c, p.asset);
out:
	lb_free(o);
	return rc;
}

DECODE_CHECK(check_view, lb_xchg_view, lb_xchg_view_decode)

/* A view of a private part: logged in the asset's history and each patient's it concerns. */
static int apply_view(struct lb_apply_ctx *c)
{
	struct lb_xchg_view p;
	int rc = lb_xchg_view_decode(&p, c->tx->payload, c->tx->payload_len, c->em);
	if (rc)
		return rc;
	/* a patient's history names only patients registered for the asset */
	for (size_t i = 0; i < p.n_patients; i++) {
		struct xconsent_rec r;
		rc = xconsent_load(c->state, p.asset, p.patients + i * LB_HASH_LEN, &r);
		if (rc == LB_ENOTFOUND)
			return lb_errf(c->em, LB_ENOTFOUND,
				       "patient %s is not registered for asset %s: a view names only "
				       "registered patients (their commitments)",
				       HEX(p.patients + i * LB_HASH_LEN), HEX(p.asset));
		if (rc)
			return lb_errf(c->em, rc, "reading the consent failed");
	}
	if ((rc = xchg_log_add(c, p.asset)))
		return rc;
	for (size_t i = 0; i < p.n_patients && !rc; i++)
		rc = xchg_log_add(c, p.patients + i * LB_HASH_LEN);
	return rc;
}

int xconsent_usable(struct lb_state *s, const struct xoffer_rec *o, const uint8_t asset[LB_HASH_LEN],
		    const uint8_t patient[LB_HASH_LEN], struct xconsent_rec *cr)
{
	int rc = xconsent_load(s, asset, patient, cr);
	if (rc == LB_ENOTFOUND) {
		memset(cr, 0, sizeof *cr);
		return (o->flags & LB_XCHG_OFFER_OPT_OUT) ? LB_OK : XCONSENT_NONE;
	}
	if (rc)
		return rc;
	if (cr->status == XCONSENT_REVOKED)
		return XCONSENT_REVOKED;
	if (cr->status != XCONSENT_GIVEN && !(o->flags & LB_XCHG_OFFER_OPT_OUT))
		return XCONSENT_NONE;
	return LB_OK;
}

/* ---- business: execution and result ---------------------------------------------------------- */

static const char *const kind_words[] = {"?", "the owner's own node", "another institution's node",
					  "a computing provider"};

/* The scenario a run of req by executor (execution right kind: 1 own node or the owner, 2
 * another node, 3 provider) has, checked against the automatic choice and the roles; fills
 * req->run_scenario and req->run_reason. */
static int xchg_run_scenario(struct lb_state *s, struct xreq_rec *req, const struct xoffer_rec *offer,
			     const struct xalgo_rec *algo, const uint8_t executor[LB_ADDR_LEN],
			     uint8_t kind, struct lb_errmsg *em)
{
	static const uint8_t by_kind[] = {0, LB_XCHG_LOCAL, LB_XCHG_OFFSITE, LB_XCHG_INTEGRATED};
	uint8_t present = 0;
	uint64_t members = 0;
	int why, rc = lb_consortium_state_kinds(s, executor, NULL, &members, &present);
	if (rc)
		return lb_errf(em, rc, "reading the consortium's members failed");
	uint8_t ran = kind <= 3 ? by_kind[kind] : 0;
	if (!ran)
		return lb_errf(em, LB_ECORRUPT, "the execution right of %s on asset %s is unreadable",
			       ADDR(executor), HEX(req->asset));
	int want = lb_xchg_scenario_rule(req->scenario, offer->flags, offer->data_bytes, algo->flags,
					 !members || (present & LB_SUPER_COMPUTING), &why);
	if (want && want != ran)
		return lb_errf(em, LB_EDENIED,
			       "this request on asset %s must run %s (%s), but %s is %s, where it "
			       "would run %s: open the escrow for an executor of the %s scenario",
			       HEX(req->asset), lb_xchg_scenario_name(want),
			       lb_xchg_scen_reason_text(why), ADDR(executor), kind_words[kind],
			       lb_xchg_scenario_name(ran), lb_xchg_scenario_name(want));
	if ((algo->flags & LB_XCHG_ALGO_AT_AUTHOR) && memcmp(executor, algo->author, LB_ADDR_LEN))
		return lb_errf(em, LB_EDENIED,
			       "algorithm %s runs only at its author %s; %s may not run it",
			       algo->name, ADDR(algo->author), ADDR(executor));
	if (ran == LB_XCHG_LOCAL)
		rc = xchg_need_role(s, executor, LB_SUPER_DATA,
				    "execute local runs (the data is hosted and computed at a data node)",
				    em);
	else
		rc = xchg_need_role(s, executor, LB_SUPER_COMPUTING,
				    "execute off-site and integrated runs", em);
	if (rc)
		return rc;
	req->run_scenario = ran;
	req->run_reason = (uint8_t)(want ? why : LB_XCHG_SCEN_EXECUTOR);
	return LB_OK;
}

int xchg_exec_check(struct lb_state *s, const uint8_t request[LB_HASH_LEN],
		    const uint8_t executor[LB_ADDR_LEN], const uint8_t *patients,
		    size_t n_patients, struct xreq_rec *req, struct xoffer_rec *offer,
		    struct xalgo_rec *algo, struct lb_errmsg *em)
{
	int rc = xreq_load(s, request, req);
	if (rc == LB_ENOTFOUND)
		return lb_errf(em, LB_ENOTFOUND, "there is no exchange request %s", HEX(request));
	if (rc)
		return lb_errf(em, rc, "reading request %s failed", HEX(request));
	if ((rc = xoffer_load(s, req->asset, offer)))
		return lb_errf(em, rc == LB_ENOTFOUND ? LB_ENOTFOUND : rc,
			       "asset %s is not offered for exchange", HEX(req->asset));
	if (offer->status != 1)
		return lb_errf(em, LB_EDENIED, "asset %s was withdrawn from exchange by its owner",
			       HEX(req->asset));
	if ((rc = xalgo_load(s, req->algo, algo)))
		return lb_errf(em, rc == LB_ENOTFOUND ? LB_ENOTFOUND : rc,
			       "algorithm %s is not registered", HEX(req->algo));
	switch (req->status) {
	case XREQ_APPROVED:
		break;
	case XREQ_PENDING:
		return lb_errf(em, LB_EDENIED,
			       "unapproved algorithm: %s (%s) is not on the allow-list of asset %s "
			       "and its owner has not approved request %s; nothing runs until then",
			       HEX(req->algo), algo->name, HEX(req->asset), HEX(request));
	case XREQ_REJECTED:
		return lb_errf(em, LB_EDENIED, "request %s was rejected by the owner of asset %s",
			       HEX(request), HEX(req->asset));
	case XREQ_REVOKED:
		return lb_errf(em, LB_EDENIED,
			       "no usage right: the owner of asset %s revoked request %s",
			       HEX(req->asset), HEX(request));
	default:
		return lb_errf(em, LB_EINVALID, "request %s has already run (%s)", HEX(request),
			       xreq_status_name(req->status));
	}
	uint8_t kind = 1; /* the owner runs its own data where it lies */
	if (memcmp(executor, offer->owner, LB_ADDR_LEN)) {
		if ((rc = xgrant_get(s, req->asset, executor, &kind)))
			return lb_errf(em, rc, "reading execution rights failed");
		if (!kind)
			return lb_errf(em, LB_EUNAUTH,
				       "no execution right: %s may not run anything on asset %s (its "
				       "owner grants that with xchg.grant)",
				       ADDR(executor), HEX(req->asset));
	}
	if ((rc = xchg_run_scenario(s, req, offer, algo, executor, kind, em)))
		return rc;
	for (size_t i = 0; i < n_patients; i++) {
		struct xconsent_rec cr;
		const uint8_t *pid = patients + i * LB_HASH_LEN;
		rc = xconsent_usable(s, offer, req->asset, pid, &cr);
		if (rc == XCONSENT_REVOKED)
			return lb_errf(em, LB_EDENIED,
				       "revoked consent: patient %s revoked consent for asset %s at "
				       "business height %llu; leave that patient's records out",
				       HEX(pid), HEX(req->asset), (unsigned long long)cr.height);
		if (rc == XCONSENT_NONE)
			return lb_errf(em, LB_EDENIED,
				       "no consent: patient %s has not given consent for asset %s (its "
				       "offer is opt-in: only patients who gave consent are used); "
				       "leave that patient's records out",
				       HEX(pid), HEX(req->asset));
		if (rc)
			return lb_errf(em, rc, "reading consents failed");
	}
	return LB_OK;
}

/* ---- business: privacy budget ------------------------------------------------------------------ */

int xbudget_get(struct lb_state *s, const char *ns, const uint8_t *key, size_t klen,
		uint64_t *spent)
{
	return lb_state_get_u64(s, ns, key, klen, 0, spent);
}

size_t xbudget_patient_key(struct lb_state *s, const uint8_t asset[LB_HASH_LEN],
			   const uint8_t patient[LB_HASH_LEN], uint8_t key[LB_HASH_LEN])
{
	struct xconsent_rec cr;
	if (xconsent_load(s, asset, patient, &cr) == LB_OK &&
	    !is_zero(cr.patient_addr, LB_ADDR_LEN)) {
		memcpy(key, cr.patient_addr, LB_ADDR_LEN);
		return LB_ADDR_LEN;
	}
	memcpy(key, patient, LB_HASH_LEN);
	return LB_HASH_LEN;
}

/* One patient budget row: key length (20 or 32) then the key, padded. */
struct pkey {
	uint8_t len;
	uint8_t key[LB_HASH_LEN];
};

static int pkey_cmp(const void *a, const void *b)
{
	const struct pkey *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->key, y->key, x->len);
}

int xchg_budget(struct lb_state *s, const struct xreq_rec *req, const struct xoffer_rec *offer,
		const uint8_t *patients, size_t n_patients, bool charge, bool *over,
		uint64_t *user_left, struct lb_errmsg *em)
{
	uint8_t ukey[LB_ADDR_LEN + LB_HASH_LEN];
	uint64_t eps = offer->epsilon, spent;
	int rc;
	if (user_left)
		*user_left = 0;
	if (!eps)
		return LB_OK;
	key2(ukey, req->user, LB_ADDR_LEN, req->asset, LB_HASH_LEN);
	if ((rc = xbudget_get(s, XNS_BUDGET_USER, ukey, sizeof ukey, &spent)))
		return lb_errf(em, rc, "reading the privacy budget of %s failed", ADDR(req->user));
	if (user_left)
		*user_left = spent < offer->budget_user ? offer->budget_user - spent : 0;
	if (spent > offer->budget_user || offer->budget_user - spent < eps)
		return lb_errf(em, LB_EDENIED,
			       "privacy budget exhausted: %s has spent epsilon %s of its %s on asset "
			       "%s; this run needs %s more. Nothing runs and nothing is released",
			       ADDR(req->user), AMT(spent), AMT(offer->budget_user), HEX(req->asset),
			       AMT(eps));
	struct pkey *keys = lb_malloc((n_patients ? n_patients : 1) * sizeof *keys);
	size_t nk = 0;
	if (!keys)
		return lb_errf(em, LB_ENOMEM, "out of memory");
	for (size_t i = 0; i < n_patients; i++) {
		const uint8_t *pid = patients + i * LB_HASH_LEN;
		struct pkey k = {0};
		k.len = (uint8_t)xbudget_patient_key(s, req->asset, pid, k.key);
		if ((rc = xbudget_get(s, XNS_BUDGET_PATIENT, k.key, k.len, &spent))) {
			rc = lb_errf(em, rc, "reading the privacy budget of patient %s failed", HEX(pid));
			goto out;
		}
		bool past = spent > offer->budget_patient || offer->budget_patient - spent < eps;
		if (over)
			over[i] = past;
		if (past && !over) {
			rc = lb_errf(em, LB_EDENIED,
				     "privacy budget exhausted: patient %s has spent epsilon %s over all "
				     "assets and studies; asset %s allows %s per patient and this run "
				     "needs %s more; leave that patient's records out",
				     HEX(pid), AMT(spent), HEX(req->asset), AMT(offer->budget_patient),
				     AMT(eps));
			goto out;
		}
		if (!past)
			keys[nk++] = k;
	}
	if (!charge) {
		rc = LB_OK;
		goto out;
	}
	if ((rc = xbudget_get(s, XNS_BUDGET_USER, ukey, sizeof ukey, &spent)) ||
	    (rc = lb_state_put_u64(s, XNS_BUDGET_USER, ukey, sizeof ukey, spent + eps)))
		goto out;
	/* a person behind several patient ids of one run (one bound key) pays once per run */
	qsort(keys, nk, sizeof *keys, pkey_cmp);
	for (size_t i = 0; i < nk && !rc; i++) {
		if (i && !pkey_cmp(&keys[i - 1], &keys[i]))
			continue;
		if (!(rc = xbudget_get(s, XNS_BUDGET_PATIENT, keys[i].key, keys[i].len, &spent)))
			rc = lb_state_put_u64(s, XNS_BUDGET_PATIENT, keys[i].key, keys[i].len,
					      spent + eps);
	}
out:
	lb_free(keys);
	return rc;
}

DECODE_CHECK(check_exec, lb_xchg_exec, lb_xchg_exec_decode)

static int terms_mismatch(struct lb_apply_ctx *c, const char *field)
{
	return lb_errf(c->em, LB_EINVALID,
		       "the escrow terms do not match the exchange: %s differs from what the "
		       "business chain records",
		       field);
}

static int apply_exec(struct lb_apply_ctx *c)
{
	struct lb_xchg_exec p;
	struct xreq_rec r;
	struct xoffer_rec *o = lb_malloc(sizeof *o);
	struct xalgo_rec a;
	int rc = o ? LB_OK : LB_ENOMEM;
	if (rc || (rc = lb_xchg_exec_decode(&p, c->tx->payload, c->tx->payload_len, c->em)) ||
	    (rc = xchg_exec_check(c->state, p.request, c->sender_addr, p.patients, p.n_patients, &r,
				  o, &a, c->em)))
		goto out;
	const struct lb_xchg_terms *t = &p.terms;
	if (memcmp(t->request, p.request, LB_HASH_LEN))
		rc = terms_mismatch(c, "the request");
	else if (memcmp(t->user, r.user, LB_ADDR_LEN))
		rc = terms_mismatch(c, "the paying user");
	else if (memcmp(t->owner, o->owner, LB_ADDR_LEN))
		rc = terms_mismatch(c, "the data owner");
	else if (memcmp(t->author, a.author, LB_ADDR_LEN))
		rc = terms_mismatch(c, "the algorithm author (none for a built-in algorithm: the zero "
				       "address)");
	else if (memcmp(t->executor, c->sender_addr, LB_ADDR_LEN))
		rc = terms_mismatch(c, "the executor (it must be the sender)");
	else if (t->data_fee < o->data_fee)
		rc = lb_errf(c->em, LB_EINVALID, "the escrow holds %s ASC for the data; the owner asks %s",
			     AMT(t->data_fee), AMT(o->data_fee));
	else if (t->algo_fee < a.fee)
		rc = lb_errf(c->em, LB_EINVALID,
			     "the escrow holds %s ASC for the algorithm; its author asks %s",
			     AMT(t->algo_fee), AMT(a.fee));
	else if (p.scenario != r.run_scenario)
		rc = lb_errf(c->em, LB_EINVALID,
			     "the execution records the %s scenario, but this executor runs it %s (%s): "
			     "record the scenario that runs",
			     lb_xchg_scenario_name(p.scenario), lb_xchg_scenario_name(r.run_scenario),
			     lb_xchg_scen_reason_text(r.run_reason));
	else if (p.chosen_by != (r.scenario ? 1 : 2))
		rc = lb_errf(c->em, LB_EINVALID,
			     r.scenario ? "the user chose the scenario: record chosen_by 1 (the user)"
					: "the user left the scenario to the automatic choice: record "
					  "chosen_by 2 (automatic)");
	else if (o->epsilon && is_zero(p.noise_commit, LB_HASH_LEN))
		rc = lb_errf(c->em, LB_EINVALID,
			     "asset %s releases with noise (epsilon %s): the execution must commit "
			     "to the executor's noise secret (noise_commit = H(r), not zero)",
			     HEX(r.asset), AMT(o->epsilon));
	if (rc)
		goto out;
	/* the privacy budget is charged here, before anything can be released */
	if ((rc = xchg_budget(c->state, &r, o, p.patients, p.n_patients, true, NULL, NULL, c->em)))
		goto out;
	r.status = XREQ_RUNNING;
	memcpy(r.executor, c->sender_addr, LB_ADDR_LEN);
	memcpy(r.escrow, p.escrow, LB_HASH_LEN);
	lb_xchg_terms_hash(t, r.terms_hash);
	r.run_scenario = p.scenario;
	if ((rc = xreq_commit(c, p.request, &r)))
		goto out;
	for (size_t i = 0; i < p.n_patients && !rc; i++)
		rc = xchg_log_add(c, p.patients + i * LB_HASH_LEN);
out:
	lb_free(o);
	return rc;
}

DECODE_CHECK(check_result, lb_xchg_result, lb_xchg_result_decode)

static int apply_result(struct lb_apply_ctx *c)
{
	struct lb_xchg_result p;
	struct xreq_rec r;
	int rc = lb_xchg_result_decode(&p, c->tx->payload, c->tx->payload_len, c->em);
	if (rc || (rc = need_request(c, p.request, &r)))
		return rc;
	if (r.status != XREQ_RUNNING)
		return lb_errf(c->em, LB_EINVALID, "request %s is %s, not running", HEX(p.request),
			       xreq_status_name(r.status));
	if (memcmp(r.executor, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH, "only the executor of request %s (%s) may record its result",
			       HEX(p.request), ADDR(r.executor));
	if (memcmp(r.escrow, p.escrow, LB_HASH_LEN) || memcmp(r.terms_hash, p.terms_hash, LB_HASH_LEN))
		return lb_errf(c->em, LB_EINVALID,
			       "the result names another escrow or other terms than the execution");
	r.status = p.status == LB_XCHG_DELIVERED ? XREQ_DONE
		   : p.status == LB_XCHG_WITHHELD ? XREQ_WITHHELD
						  : XREQ_FAILED;
	memcpy(r.result_hash, p.result_hash, LB_HASH_LEN);
	r.reason = p.reason;
	return xreq_commit(c, p.request, &r);
}

DECODE_CHECK(check_revoke, lb_xchg_revoke, lb_xchg_revoke_decode)

static int apply_revoke(struct lb_apply_ctx *c)
{
	struct lb_xchg_revoke p;
	struct xreq_rec r;
	struct xoffer_rec *o = lb_malloc(sizeof *o);
	const uint8_t *asset;
	int rc = o ? LB_OK : LB_ENOMEM;
	if (rc || (rc = lb_xchg_revoke_decode(&p, c->tx->payload, c->tx->payload_len, c->em)))
		goto out;
	asset = p.id;
	if (p.kind == 2) {
		if ((rc = need_request(c, p.id, &r)))
			goto out;
		asset = r.asset;
	}
	if ((rc = need_offer(c, asset, o)) || (rc = need_owner(c, o, asset, "revoke rights on it")))
		goto out;
	if (p.kind == 1) {
		uint8_t kind, k[LB_HASH_LEN + LB_ADDR_LEN];
		if ((rc = xgrant_get(c->state, asset, p.executor, &kind)))
			goto out;
		if (!kind) {
			rc = lb_errf(c->em, LB_ENOTFOUND, "%s has no execution right on asset %s",
				     ADDR(p.executor), HEX(asset));
			goto out;
		}
		key2(k, asset, LB_HASH_LEN, p.executor, LB_ADDR_LEN);
		rc = lb_state_del(c->state, XNS_GRANT, k, sizeof k);
	} else if (p.kind == 2) {
		if (r.status != XREQ_PENDING && r.status != XREQ_APPROVED) {
			rc = lb_errf(c->em, LB_EINVALID, "request %s is %s: only a request that has "
							 "not run can lose its usage right",
				     HEX(p.id), xreq_status_name(r.status));
			goto out;
		}
		r.status = XREQ_REVOKED;
		if (!(rc = xreq_store(c->state, p.id, &r)))
			rc = xchg_log_add(c, p.id);
	} else {
		o->status = 2;
		rc = xoffer_store(c->state, asset, o);
	}
	if (!rc)
		rc = xchg_log_add(c, asset);
out:
	lb_free(o);
	return rc;
}

/* ---- settlement: escrow ----------------------------------------------------------------------- */

DECODE_CHECK(check_open, lb_escrow_open, lb_escrow_open_decode)

#define ESCROW_TIMEOUT_MAX 10000000u /* blocks ahead */

static int apply_open(struct lb_apply_ctx *c)
{
	struct lb_escrow_open p;
	struct xescrow_rec r;
	uint64_t asc, csc;
	int rc = lb_escrow_open_decode(&p, c->tx->payload, c->tx->payload_len, c->em);
	if (rc)
		return rc;
	if (memcmp(p.terms.user, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH,
			       "the escrow terms name %s as the paying user; only that account may "
			       "open it",
			       ADDR(p.terms.user));
	if (p.timeout <= c->height || p.timeout > c->height + ESCROW_TIMEOUT_MAX)
		return lb_errf(c->em, LB_EINVALID,
			       "timeout height %llu must be after this block (%llu) and at most "
			       "%u blocks ahead",
			       (unsigned long long)p.timeout, (unsigned long long)c->height,
			       ESCROW_TIMEOUT_MAX);
	if ((rc = lb_mkt_balances(c->state, c->sender_addr, &asc, &csc)))
		return lb_errf(c->em, rc, "reading the balance failed");
	uint64_t need_asc = p.terms.data_fee + p.terms.algo_fee;
	if (asc < need_asc)
		return lb_errf(c->em, LB_EFUNDS, "the escrow needs %s ASC (data %s + algorithm %s) "
						 "but the balance is %s ASC",
			       AMT(need_asc), AMT(p.terms.data_fee), AMT(p.terms.algo_fee), AMT(asc));
	if (csc < p.terms.compute_fee)
		return lb_errf(c->em, LB_EFUNDS,
			       "the escrow needs %s CSC for computing but the balance is %s CSC "
			       "(after the fee)",
			       AMT(p.terms.compute_fee), AMT(csc));
	if ((rc = lb_mkt_debit(c->state, c->sender_addr, LB_ASC, need_asc, c->em)) ||
	    (rc = lb_mkt_debit(c->state, c->sender_addr, LB_CSC, p.terms.compute_fee, c->em)))
		return rc;
	memset(&r, 0, sizeof r);
	r.terms = p.terms;
	r.timeout = p.timeout;
	r.opened = c->height;
	r.status = XESC_OPEN;
	return xescrow_store(c->state, c->tx->id, &r);
}

static int need_open_escrow(struct lb_apply_ctx *c, const uint8_t id[LB_HASH_LEN],
			    struct xescrow_rec *r)
{
	int rc = xescrow_load(c->state, id, r);
	if (rc == LB_ENOTFOUND)
		return lb_errf(c->em, LB_ENOTFOUND, "there is no escrow %s", HEX(id));
	if (rc)
		return lb_errf(c->em, rc, "reading escrow %s failed", HEX(id));
	if (r->status != XESC_OPEN)
		return lb_errf(c->em, LB_EINVALID, "escrow %s was already %s at settlement height %llu",
			       HEX(id), r->status == XESC_RELEASED ? "released" : "refunded",
			       (unsigned long long)r->closed);
	return LB_OK;
}

/* Verify the cited result of an escrow and decode it. */
static int cited_result(struct lb_apply_ctx *c, const struct lb_escrow_cite *p,
			const struct xescrow_rec *r, struct lb_xchg_result *res)
{
	struct lb_tx tx;
	uint8_t th[LB_HASH_LEN], sender[LB_ADDR_LEN];
	int rc = lb_apply_cite(c, "run's result", p->result_tx, p->result_tx_len, p->proof,
			       p->proof_len, LB_CHAIN_BUSINESS, LB_TX_XCHG_RESULT, &tx);
	if (rc)
		return rc;
	struct lb_errmsg e;
	lb_errclear(&e);
	if (lb_xchg_result_decode(res, tx.payload, tx.payload_len, &e))
		return lb_errf(c->em, LB_EMALFORMED, "the cited result does not decode: %s", e.text);
	lb_xchg_terms_hash(&r->terms, th);
	lb_addr_from_pubkey(sender, tx.sender);
	if (memcmp(res->escrow, p->escrow, LB_HASH_LEN))
		return lb_errf(c->em, LB_EINVALID, "the cited result belongs to escrow %s, not %s",
			       HEX(res->escrow), HEX(p->escrow));
	if (memcmp(res->terms_hash, th, LB_HASH_LEN) ||
	    memcmp(res->request, r->terms.request, LB_HASH_LEN))
		return lb_errf(c->em, LB_EINVALID,
			       "the cited result was recorded under other terms than this escrow's");
	if (memcmp(sender, r->terms.executor, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH, "the cited result was not recorded by the executor %s",
			       ADDR(r->terms.executor));
	return LB_OK;
}

DECODE_CHECK(check_cite, lb_escrow_cite, lb_escrow_cite_decode)

/* Pay a released escrow. With a genesis "market" section (docs/economy.md): the data fee by
 * the data-run split table and the algorithm fee by the algorithm-call table (owner, the
 * owner's patient pool, algorithm author, executor, platform pool), and the compute fee (CSC)
 * burned; without one, the earlier rule: each fee to its one party. */
static int release_pay(struct lb_apply_ctx *c, const uint8_t escrow[LB_HASH_LEN],
		       const struct lb_xchg_terms *t, const struct lb_xchg_result *res)
{
	struct lb_mkt_config mc;
	struct lb_mkt_credits cr = {0};
	uint64_t share = 0;
	struct lb_mkt_parties p;
	uint8_t pool[1][LB_ADDR_LEN];
	bool on;
	int rc = lb_mkt_config_load(c->state, &mc, &on);
	if (rc)
		return lb_errf(c->em, rc, "reading the market configuration failed");
	if (!on)
		return (rc = bal_credit(c, t->owner, t->data_fee, 0)) ||
				       (rc = bal_credit(c, t->author, t->algo_fee, 0))
			       ? rc
			       : bal_credit(c, t->executor, 0, t->compute_fee);
	memset(&p, 0, sizeof p);
	p.has_owner = true;
	memcpy(p.owner, t->owner, LB_ADDR_LEN);
	lb_mkt_patient_pool(t->owner, pool[0]);
	p.patients = (const uint8_t(*)[LB_ADDR_LEN])pool;
	p.n_patients = 1;
	p.has_algo_author = !is_zero(t->author, LB_ADDR_LEN);
	memcpy(p.algo_author, t->author, LB_ADDR_LEN);
	p.has_executor = true;
	memcpy(p.executor, t->executor, LB_ADDR_LEN);
	memcpy(p.platform, mc.platform, LB_ADDR_LEN);
	/* the patients' share is recorded per escrow: each patient claims its records' part */
	const unsigned uses[2] = {LB_MKT_USE_DATA_RUN, LB_MKT_USE_ALGO};
	const uint64_t fees[2] = {t->data_fee, t->algo_fee};
	for (int i = 0; i < 2; i++) {
		if (!fees[i])
			continue;
		rc = lb_mkt_settle(c->state, uses[i], fees[i], &p, &cr, c->em);
		share += lb_mkt_credits_sum(&cr, LB_MKT_ROLE_PATIENTS);
		lb_mkt_credits_release(&cr);
		if (rc)
			return rc;
	}
	if (share && (rc = lb_mkt_patient_share_put(c->state, escrow, share)))
		return rc;
	/* metered compute: the measured use by the unit prices, at most the escrowed fee; the
	 * rest back to the user */
	uint64_t charge = t->compute_fee;
	if (res->metered) {
		uint64_t m = lb_mkt_compute_fee(&mc, res->cpu_ms, res->peak_mem);
		charge = m < charge ? m : charge;
	}
	if (charge < t->compute_fee &&
	    (rc = bal_credit(c, t->user, 0, t->compute_fee - charge)))
		return rc;
	return lb_mkt_burn_compute(c->state, charge, c->em);
}

static int apply_release(struct lb_apply_ctx *c)
{
	struct lb_escrow_cite p;
	struct xescrow_rec r;
	struct lb_xchg_result res;
	int rc = lb_escrow_cite_decode(&p, c->tx->payload, c->tx->payload_len, c->em);
	if (rc || (rc = need_open_escrow(c, p.escrow, &r)))
		return rc;
	if (!p.result_tx_len)
		return lb_errf(c->em, LB_EINVALID,
			       "a release must cite the run's result tx and its proof");
	if ((rc = cited_result(c, &p, &r, &res)))
		return rc;
	if (res.status != LB_XCHG_DELIVERED)
		return lb_errf(c->em, LB_EDENIED,
			       "the run's result was %s (reason code %u, %s): nothing is paid; refund "
			       "the escrow",
			       res.status == LB_XCHG_WITHHELD ? "withheld by the release policy"
							      : "a failure",
			       res.reason, lb_xchg_reason_name(res.reason));
	if (r.claimed && memcmp(r.result_hash, res.result_hash, LB_HASH_LEN))
		return lb_errf(c->em, LB_EINVALID,
			       "the executor claimed result %s on this chain but the business chain "
			       "records %s",
			       HEX(r.result_hash), HEX(res.result_hash));
	if ((rc = release_pay(c, p.escrow, &r.terms, &res)))
		return rc;
	r.status = XESC_RELEASED;
	memcpy(r.result_hash, res.result_hash, LB_HASH_LEN);
	r.closed = c->height;
	return xescrow_store(c->state, p.escrow, &r);
}

static int apply_refund(struct lb_apply_ctx *c)
{
	struct lb_escrow_cite p;
	struct xescrow_rec r;
	struct lb_xchg_result res;
	int rc = lb_escrow_cite_decode(&p, c->tx->payload, c->tx->payload_len, c->em);
	if (rc || (rc = need_open_escrow(c, p.escrow, &r)))
		return rc;
	if (p.result_tx_len) {
		if ((rc = cited_result(c, &p, &r, &res)))
			return rc;
		if (res.status == LB_XCHG_DELIVERED)
			return lb_errf(c->em, LB_EDENIED,
				       "the run delivered its result: escrow %s is released, not "
				       "refunded",
				       HEX(p.escrow));
	} else if (c->height <= r.timeout) {
		return lb_errf(c->em, LB_EINVALID,
			       "escrow %s times out after settlement height %llu (this block is "
			       "%llu); before that a refund must cite a failed or withheld result",
			       HEX(p.escrow), (unsigned long long)r.timeout,
			       (unsigned long long)c->height);
	}
	if ((rc = bal_credit(c, r.terms.user, r.terms.data_fee + r.terms.algo_fee,
			     r.terms.compute_fee)))
		return rc;
	r.status = XESC_REFUNDED;
	r.closed = c->height;
	return xescrow_store(c->state, p.escrow, &r);
}

DECODE_CHECK(check_claim, lb_escrow_claim, lb_escrow_claim_decode)

static int apply_claim(struct lb_apply_ctx *c)
{
	struct lb_escrow_claim p;
	struct xescrow_rec r;
	int rc = lb_escrow_claim_decode(&p, c->tx->payload, c->tx->payload_len, c->em);
	if (rc || (rc = need_open_escrow(c, p.escrow, &r)))
		return rc;
	if (memcmp(r.terms.executor, c->sender_addr, LB_ADDR_LEN))
		return lb_errf(c->em, LB_EUNAUTH, "only the executor %s may claim escrow %s",
			       ADDR(r.terms.executor), HEX(p.escrow));
	if (r.claimed)
		return lb_errf(c->em, LB_EEXISTS, "escrow %s was already claimed", HEX(p.escrow));
	r.claimed = 1;
	memcpy(r.result_hash, p.result_hash, LB_HASH_LEN);
	return xescrow_store(c->state, p.escrow, &r);
}

/* ---- JSON views of the payloads ---------------------------------------------------------------- */

json_t *xhexj(const uint8_t *p, size_t n)
{
	char *h = lb_malloc(2 * n + 1);
	if (!h)
		return json_null();
	lb_hex_encode(h, p, n);
	json_t *j = json_string(h);
	lb_free(h);
	return j;
}

json_t *xaddrj(const uint8_t a[LB_ADDR_LEN])
{
	return json_string(ADDR(a));
}

static json_t *terms_json(const struct lb_xchg_terms *t)
{
	return json_pack("{s:o,s:o,s:o,s:I,s:o,s:I,s:o,s:I}", "user", xaddrj(t->user), "request",
			 xhexj(t->request, LB_HASH_LEN), "owner", xaddrj(t->owner), "data_fee",
			 (json_int_t)t->data_fee, "author", xaddrj(t->author), "algo_fee",
			 (json_int_t)t->algo_fee, "executor", xaddrj(t->executor), "compute_fee",
			 (json_int_t)t->compute_fee);
}

static json_t *json_offer(const struct lb_tx *tx)
{
	struct lb_xchg_offer *p = lb_malloc(sizeof *p);
	struct lb_tx reg;
	json_t *o = NULL;
	uint8_t owner[LB_ADDR_LEN], asset[LB_HASH_LEN], content[LB_HASH_LEN];
	uint64_t size;
	if (!p || lb_xchg_offer_decode(p, tx->payload, tx->payload_len, NULL) ||
	    lb_tx_decode(&reg, p->reg_tx, p->reg_tx_len, NULL) ||
	    lb_xchg_registration(&reg, asset, owner, content, &size, NULL))
		goto out;
	json_t *allow = json_array();
	for (size_t i = 0; i < p->n_allow; i++)
		json_array_append_new(allow, xhexj(p->allow[i], LB_HASH_LEN));
	o = json_pack("{s:o,s:o,s:I,s:b,s:I,s:I,s:I,s:o,s:I,s:I,s:I}", "asset",
		      xhexj(asset, LB_HASH_LEN), "register_tx", xhexj(reg.id, LB_HASH_LEN),
		      "data_fee", (json_int_t)p->data_fee, "local_only",
		      (p->flags & LB_XCHG_OFFER_LOCAL_ONLY) != 0, "min_cohort",
		      (json_int_t)p->min_cohort, "max_output", (json_int_t)p->max_output,
		      "data_bytes", (json_int_t)p->data_bytes, "allow", allow, "epsilon",
		      (json_int_t)p->epsilon, "budget_user", (json_int_t)p->budget_user,
		      "budget_patient", (json_int_t)p->budget_patient);
	json_object_set_new(o, "opt_out", json_boolean(p->flags & LB_XCHG_OFFER_OPT_OUT));
	if (p->flags & LB_XCHG_OFFER_OPT_OUT)
		json_object_set_new(o, "legal_basis", json_string(p->legal_basis));
out:
	lb_free(p);
	return o;
}

static json_t *json_grant(const struct lb_tx *tx)
{
	struct lb_xchg_grant p;
	static const char *kinds[] = {"?", "own node", "another node", "computing provider"};
	if (lb_xchg_grant_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	return json_pack("{s:o,s:o,s:s}", "asset", xhexj(p.asset, LB_HASH_LEN), "executor",
			 xaddrj(p.executor), "kind", kinds[p.kind]);
}

static json_t *json_algo(const struct lb_tx *tx)
{
	struct lb_xchg_algo p;
	if (lb_xchg_algo_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	return json_pack("{s:o,s:I,s:b,s:b,s:s}", "algorithm", xhexj(p.hash, LB_HASH_LEN), "fee",
			 (json_int_t)p.fee, "at_author", (p.flags & LB_XCHG_ALGO_AT_AUTHOR) != 0,
			 "heavy_deps", (p.flags & LB_XCHG_ALGO_HEAVY_DEPS) != 0, "name", p.name);
}

static json_t *json_request(const struct lb_tx *tx)
{
	struct lb_xchg_request p;
	if (lb_xchg_request_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	json_t *o = json_pack("{s:o,s:o,s:s,s:s,s:o}", "asset", xhexj(p.asset, LB_HASH_LEN),
			      "algorithm", xhexj(p.algo, LB_HASH_LEN), "scenario",
			      lb_xchg_scenario_name(p.scenario), "purpose", p.purpose, "params",
			      p.params[0] ? json_loads(p.params, 0, NULL) : json_object());
	if (o && p.result_policy[0])
		json_object_set_new(o, "result_policy",
				    json_pack("{s:o,s:s}", "authority", xhexj(p.result_authority, 32),
					      "policy", p.result_policy));
	return o;
}

static json_t *json_approve(const struct lb_tx *tx)
{
	struct lb_xchg_approve p;
	if (lb_xchg_approve_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	return json_pack("{s:o,s:s,s:s}", "request", xhexj(p.request, LB_HASH_LEN), "decision",
			 p.decision == 1 ? "approve" : "reject", "reason", p.reason);
}

static json_t *json_consent(const struct lb_tx *tx)
{
	struct lb_xchg_consent p;
	if (lb_xchg_consent_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	static const char *act[] = {"?", "give", "revoke", "rebind"};
	json_t *o = json_pack("{s:o,s:o,s:s}", "asset", xhexj(p.asset, LB_HASH_LEN), "patient",
			      xhexj(p.patient, LB_HASH_LEN), "action", act[p.action]);
	if (p.action == LB_XCHG_REBIND)
		json_object_set_new(o, "new_key", xaddrj(p.new_key));
	return o;
}

static json_t *json_patients(const struct lb_tx *tx)
{
	struct lb_xchg_patients p;
	if (lb_xchg_patients_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	json_t *arr = json_array();
	for (size_t i = 0; i < p.n; i++) {
		const uint8_t *e = p.entries + i * LB_XCHG_PATIENT_ENTRY;
		json_array_append_new(arr, json_pack("{s:o,s:o}", "patient", xhexj(e, LB_HASH_LEN),
						     "key", xaddrj(e + LB_HASH_LEN)));
	}
	return json_pack("{s:o,s:I,s:o}", "asset", xhexj(p.asset, LB_HASH_LEN), "count",
			 (json_int_t)p.n, "patients", arr);
}

static json_t *json_view(const struct lb_tx *tx)
{
	struct lb_xchg_view p;
	if (lb_xchg_view_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	json_t *arr = json_array();
	for (size_t i = 0; i < p.n_patients; i++)
		json_array_append_new(arr, xhexj(p.patients + i * LB_HASH_LEN, LB_HASH_LEN));
	return json_pack("{s:o,s:s,s:I,s:o}", "asset", xhexj(p.asset, LB_HASH_LEN), "part",
			 p.part == LB_XCHG_VIEW_PRIVATE ? "private description" : "raw data",
			 "version", (json_int_t)p.version, "patients", arr);
}

static json_t *json_exec(const struct lb_tx *tx)
{
	struct lb_xchg_exec p;
	if (lb_xchg_exec_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	json_t *pats = json_array();
	for (size_t i = 0; i < p.n_patients; i++)
		json_array_append_new(pats, xhexj(p.patients + i * LB_HASH_LEN, LB_HASH_LEN));
	return json_pack("{s:o,s:o,s:o,s:s,s:s,s:o,s:o}", "request", xhexj(p.request, LB_HASH_LEN),
			 "escrow", xhexj(p.escrow, LB_HASH_LEN), "terms", terms_json(&p.terms),
			 "scenario", lb_xchg_scenario_name(p.scenario), "chosen_by",
			 p.chosen_by == 1 ? "user" : "automatic", "patients", pats, "noise_commit",
			 xhexj(p.noise_commit, LB_HASH_LEN));
}

static json_t *json_result(const struct lb_tx *tx)
{
	struct lb_xchg_result p;
	static const char *st[] = {"?", "delivered", "withheld", "failed"};
	if (lb_xchg_result_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	json_t *o = json_pack("{s:o,s:o,s:o,s:s,s:o,s:i,s:s}", "request",
			      xhexj(p.request, LB_HASH_LEN), "escrow", xhexj(p.escrow, LB_HASH_LEN),
			      "terms_hash", xhexj(p.terms_hash, LB_HASH_LEN), "status", st[p.status],
			      "result_hash", xhexj(p.result_hash, LB_HASH_LEN), "reason_code",
			      (int)p.reason, "reason", lb_xchg_reason_name(p.reason));
	if (o && p.metered) { /* metered compute (docs/economy.md §7) */
		json_object_set_new(o, "cpu_ms", json_integer((json_int_t)p.cpu_ms));
		json_object_set_new(o, "peak_mem", json_integer((json_int_t)p.peak_mem));
	}
	return o;
}

static json_t *json_revoke(const struct lb_tx *tx)
{
	struct lb_xchg_revoke p;
	static const char *kinds[] = {"?", "execution right", "usage right", "offer"};
	if (lb_xchg_revoke_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	json_t *o = json_pack("{s:s,s:o}", "kind", kinds[p.kind], p.kind == 2 ? "request" : "asset",
			      xhexj(p.id, LB_HASH_LEN));
	if (p.kind == 1)
		json_object_set_new(o, "executor", xaddrj(p.executor));
	return o;
}

static json_t *json_open(const struct lb_tx *tx)
{
	struct lb_escrow_open p;
	if (lb_escrow_open_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	return json_pack("{s:o,s:I}", "terms", terms_json(&p.terms), "timeout",
			 (json_int_t)p.timeout);
}

static json_t *json_cite(const struct lb_tx *tx)
{
	struct lb_escrow_cite p;
	struct lb_tx r;
	if (lb_escrow_cite_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	json_t *o = json_pack("{s:o}", "escrow", xhexj(p.escrow, LB_HASH_LEN));
	if (p.result_tx_len && !lb_tx_decode(&r, p.result_tx, p.result_tx_len, NULL))
		json_object_set_new(o, "result_tx", xhexj(r.id, LB_HASH_LEN));
	return o;
}

static json_t *json_claim(const struct lb_tx *tx)
{
	struct lb_escrow_claim p;
	if (lb_escrow_claim_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	return json_pack("{s:o,s:o}", "escrow", xhexj(p.escrow, LB_HASH_LEN), "result_hash",
			 xhexj(p.result_hash, LB_HASH_LEN));
}

static const struct lb_txtype xchg_types[] = {
	{LB_TX_XCHG_OFFER, LB_CHAIN_BUSINESS, "xchg.offer", check_offer, apply_offer, json_offer,
	 true},
	{LB_TX_XCHG_GRANT, LB_CHAIN_BUSINESS, "xchg.grant", check_grant, apply_grant, json_grant,
	 true},
	{LB_TX_XCHG_ALGO, LB_CHAIN_BUSINESS, "xchg.algo", check_algo, apply_algo, json_algo, true},
	{LB_TX_XCHG_REQUEST, LB_CHAIN_BUSINESS, "xchg.request", check_request, apply_request,
	 json_request, true},
	{LB_TX_XCHG_APPROVE, LB_CHAIN_BUSINESS, "xchg.approve", check_approve, apply_approve,
	 json_approve, true},
	{LB_TX_XCHG_CONSENT, LB_CHAIN_BUSINESS, "xchg.consent", check_consent, apply_consent,
	 json_consent, true},
	{LB_TX_XCHG_EXEC, LB_CHAIN_BUSINESS, "xchg.exec", check_exec, apply_exec, json_exec, true},
	{LB_TX_XCHG_RESULT, LB_CHAIN_BUSINESS, "xchg.result", check_result, apply_result,
	 json_result, true},
	{LB_TX_XCHG_REVOKE, LB_CHAIN_BUSINESS, "xchg.revoke", check_revoke, apply_revoke,
	 json_revoke, true},
	{LB_TX_XCHG_PATIENTS, LB_CHAIN_BUSINESS, "xchg.patients", check_patients, apply_patients,
	 json_patients, true},
	{LB_TX_XCHG_VIEW, LB_CHAIN_BUSINESS, "xchg.view", check_view, apply_view, json_view, true},
	{LB_TX_ESCROW_OPEN, LB_CHAIN_SETTLEMENT, "escrow.open", check_open, apply_open, json_open,
	 false},
	{LB_TX_ESCROW_RELEASE, LB_CHAIN_SETTLEMENT, "escrow.release", check_cite, apply_release,
	 json_cite, false},
	{LB_TX_ESCROW_REFUND, LB_CHAIN_SETTLEMENT, "escrow.refund", check_cite, apply_refund,
	 json_cite, false},
	{LB_TX_ESCROW_CLAIM, LB_CHAIN_SETTLEMENT, "escrow.claim", check_claim, apply_claim,
	 json_claim, false},
};

int lb_exchange_register_txtypes(void)
{
	int rc = lb_txtype_register_rows(xchg_types, sizeof xchg_types / sizeof xchg_types[0], false);
	if (!rc)
		rc = xchg_audit_register();
	if (rc)
		return rc;
	/* Block-independent: these read only the state and the tx. The others are not: an
	 * offer, release and refund verify proofs against this chain's earlier blocks
	 * (lb_state_block_hash), a request, consent, patients and escrow.open record the block's height,
	 * and a refund without a result waits for the timeout height. */
	static const uint32_t independent[] = {LB_TX_XCHG_GRANT,  LB_TX_XCHG_ALGO,
					       LB_TX_XCHG_APPROVE, LB_TX_XCHG_EXEC,
					       LB_TX_XCHG_RESULT, LB_TX_XCHG_REVOKE,
					       LB_TX_XCHG_VIEW,   LB_TX_ESCROW_CLAIM};
	for (size_t i = 0; i < sizeof independent / sizeof independent[0] && !rc; i++)
		rc = lb_txtype_mark_block_independent(independent[i]);
	return rc;
}
