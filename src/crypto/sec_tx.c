/*
 * Business-chain tx handlers of the security toolkit (ids 0x0320-0x032f): guardian records,
 * recovery commitments, key reset by zero-knowledge proof (which writes the ledger's key map,
 * LB_KEYMAP_NS in ledger.h), co-owner policies and co-owner approvals; and the key-reset
 * follow-up on the settlement (0x0105) and directory (0x0204) chains, which carries a reset
 * there by its business-chain inclusion proof. See include/leben/security.h and
 * docs/security.md.
 *
 * State (business chain; the settlement and directory chains hold sec.resetnonce, sec.keycur
 * and keymap, written by the follow-up only):
 *   sec.guardians  account address -> guardian record bytes (latest split)
 *   sec.recovery   account address -> recovery record bytes
 *   sec.resetnonce account address -> next reset nonce (varint)
 *   sec.keycur     account address -> address of the account's current key (after a reset)
 *   keymap         key address     -> tag | account (LB_KEYMAP_NS, consulted by the ledger)
 *   sec.policy     asset id        -> creator address (20) | policy bytes
 *   sec.approved   asset id | act digest -> height of the approval (varint)
 */
#include <string.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/codec.h"
#include "leben/ledger.h"
#include "leben/security.h"
#include "leben/shamir.h"
#include "leben/zkp.h"

#define NS_GUARDIANS "sec.guardians"
#define NS_RECOVERY "sec.recovery"
#define NS_RESETNONCE "sec.resetnonce"
#define NS_KEYCUR "sec.keycur"
#define NS_POLICY "sec.policy"
#define NS_APPROVED "sec.approved"

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *h = lb_malloc(2 * n + 1);
	json_t *j;
	if (!h)
		return json_null();
	lb_hex_encode(h, p, n);
	j = json_string(h);
	lb_free(h);
	return j;
}

static json_t *addr_json(const uint8_t a[LB_ADDR_LEN])
{
	char t[LB_ADDR_TEXT_LEN + 1];
	lb_addr_encode(t, a);
	return json_string(t);
}

/* ---- payload codecs ------------------------------------------------------------------------ */

int lb_policy_set_encode(struct lb_buf *b, const uint8_t asset[32],
			 const struct lb_msig_policy *p, const uint8_t *approval, size_t alen,
			 struct lb_errmsg *em)
{
	uint8_t pb[LB_MSIG_POLICY_MAXBYTES];
	size_t plen;
	int rc = lb_msig_policy_encode(p, pb, &plen, em);
	if (rc != LB_OK)
		return rc;
	if (lb_enc_u8(b, 1) || lb_enc_fixed(b, asset, 32) || lb_enc_bytes(b, pb, plen) ||
	    lb_enc_bytes(b, approval, alen))
		return lb_errf(em, LB_ENOMEM, "policy.set: out of memory");
	return LB_OK;
}

int lb_policy_set_decode(struct lb_policy_set *out, const uint8_t *in, size_t len,
			 struct lb_errmsg *em)
{
	struct lb_dec d;
	uint8_t v;
	int rc;
	lb_dec_init(&d, in, len, "policy.set payload", em);
	if ((rc = lb_dec_u8(&d, "version", &v)))
		return rc;
	if (v != 1)
		return lb_dec_fail(&d, LB_EUNSUPPORTED, "version", "%u is not supported", v);
	if ((rc = lb_dec_fixed(&d, "asset", out->asset, 32)) ||
	    (rc = lb_dec_bytes(&d, "policy", LB_MSIG_POLICY_MAXBYTES, &out->policy_bytes,
			       &out->policy_len)) ||
	    (rc = lb_dec_bytes(&d, "approval", LB_SEC_MSIG_MAX, &out->approval,
			       &out->approval_len)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (lb_msig_policy_decode(&out->policy, out->policy_bytes, out->policy_len, em)) {
		lb_errwrap(em, "policy.set: ");
		return LB_EMALFORMED; /* any non-canonical policy is a malformed payload */
	}
	return LB_OK;
}

int lb_policy_approve_encode(struct lb_buf *b, const uint8_t asset[32], const uint8_t *act,
			     size_t act_len, const uint8_t *sig, size_t sig_len)
{
	if (lb_enc_u8(b, 1) || lb_enc_fixed(b, asset, 32) || lb_enc_bytes(b, act, act_len) ||
	    lb_enc_bytes(b, sig, sig_len))
		return LB_ENOMEM;
	return LB_OK;
}

int lb_policy_approve_decode(struct lb_policy_approve *out, const uint8_t *in, size_t len,
			     struct lb_errmsg *em)
{
	struct lb_dec d;
	uint8_t v;
	int rc;
	lb_dec_init(&d, in, len, "policy.approve payload", em);
	if ((rc = lb_dec_u8(&d, "version", &v)))
		return rc;
	if (v != 1)
		return lb_dec_fail(&d, LB_EUNSUPPORTED, "version", "%u is not supported", v);
	if ((rc = lb_dec_fixed(&d, "asset", out->asset, 32)) ||
	    (rc = lb_dec_bytes(&d, "act", LB_SEC_ACT_MAX, &out->act, &out->act_len)) ||
	    (rc = lb_dec_bytes(&d, "multisig", LB_SEC_MSIG_MAX, &out->sig, &out->sig_len)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (out->act_len == 0)
		return lb_errf(em, LB_EINVALID, "policy.approve: the act must not be empty");
	return LB_OK;
}

int lb_policy_update_act(const struct lb_msig_policy *next, uint8_t *out, size_t *outlen,
			 struct lb_errmsg *em)
{
	size_t n;
	int rc;
	memcpy(out, "policy.set", 11); /* with its NUL */
	if ((rc = lb_msig_policy_encode(next, out + 11, &n, em)))
		return rc;
	*outlen = 11 + n;
	return LB_OK;
}

void lb_security_act_digest(const uint8_t asset[32], const uint8_t *act, size_t act_len,
			    uint8_t out[32])
{
	static const char dom[] = "LEBEN co-owner act v1";
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)dom, sizeof dom - 1);
	crypto_generichash_update(&st, asset, 32);
	crypto_generichash_update(&st, act, act_len);
	crypto_generichash_final(&st, out, 32);
}

/* ---- the co-owner check -------------------------------------------------------------------- */

int lb_security_policy_get(struct lb_state *s, const uint8_t asset[32],
			   struct lb_msig_policy *p, uint8_t creator[LB_ADDR_LEN],
			   struct lb_errmsg *em)
{
	const uint8_t *v;
	size_t n;
	int rc = lb_state_get(s, NS_POLICY, asset, 32, &v, &n);
	if (rc == LB_ENOTFOUND)
		return lb_errf(em, LB_ENOTFOUND,
			       "no co-owner policy is recorded for this asset (send policy.set "
			       "first)");
	if (rc)
		return lb_errf(em, rc, "cannot read the co-owner policy of this asset");
	if (n < LB_ADDR_LEN || lb_msig_policy_decode(p, v + LB_ADDR_LEN, n - LB_ADDR_LEN, em))
		return lb_errf(em, LB_ECORRUPT, "the recorded co-owner policy is unreadable");
	if (creator)
		memcpy(creator, v, LB_ADDR_LEN);
	return LB_OK;
}

int lb_security_coowners_check(struct lb_apply_ctx *ctx, const uint8_t asset[32],
			       const uint8_t *act, size_t act_len, const uint8_t *sig,
			       size_t sig_len)
{
	struct lb_msig_policy p;
	uint8_t d[32];
	uint32_t period;
	int rc = lb_security_policy_get(ctx->state, asset, &p, NULL, ctx->em);
	if (rc)
		return rc;
	if (lb_kes_period_at(ctx->height, p.start_height, p.epoch_blocks, &period) != LB_OK)
		return lb_errf(ctx->em, LB_ERANGE,
			       "block %llu is outside the policy's %d KES periods (start %llu, %llu "
			       "blocks each); the co-owners must record a new policy",
			       (unsigned long long)ctx->height, LB_KES_PERIODS,
			       (unsigned long long)p.start_height,
			       (unsigned long long)p.epoch_blocks);
	lb_security_act_digest(asset, act, act_len, d);
	if ((rc = lb_msig_verify(&p, period, d, sizeof d, sig, sig_len, ctx->em)))
		return lb_errwrap(ctx->em, "co-owner approval at block %llu (period %u): ",
				  (unsigned long long)ctx->height, period);
	return LB_OK;
}

/* Refuse an act already approved; else remember it. */
static int record_act(struct lb_apply_ctx *c, const uint8_t asset[32], const uint8_t *act,
		      size_t act_len)
{
	uint8_t k[64];
	uint64_t h;
	memcpy(k, asset, 32);
	lb_security_act_digest(asset, act, act_len, k + 32);
	int rc = lb_state_get_u64(c->state, NS_APPROVED, k, sizeof k, 0, &h);
	if (rc)
		return rc;
	if (h)
		return lb_errf(c->em, LB_EDUPLICATE,
			       "this act was already approved for this asset in block %llu (an "
			       "approval counts once)",
			       (unsigned long long)h);
	return lb_state_put_u64(c->state, NS_APPROVED, k, sizeof k, c->height);
}

/* ---- keys.guardians -------------------------------------------------------------------------- */

static int check_guardians(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_guardian_record *rp = lb_malloc(sizeof *rp); /* 8 KiB: not on the stack */
	if (!rp)
		return lb_errf(em, LB_ENOMEM, "keys.guardians: out of memory");
	int rc = lb_guardian_record_decode(rp, tx->payload, tx->payload_len, em);
	lb_free(rp);
	return rc;
}

static int apply_guardians(struct lb_apply_ctx *c)
{
	struct lb_guardian_record *r = lb_malloc(sizeof *r);
	int rc;
	if (!r)
		return lb_errf(c->em, LB_ENOMEM, "keys.guardians: out of memory");
	rc = lb_guardian_record_decode(r, c->tx->payload, c->tx->payload_len, c->em);
	if (rc == LB_OK && memcmp(r->account, c->tx->sender, 32) != 0)
		rc = lb_errf(c->em, LB_EUNAUTH,
			     "keys.guardians: the record is for another key; only the key that was "
			     "split may record its guardians");
	for (unsigned i = 0; rc == LB_OK && i < r->n; i++)
		if (memcmp(r->g[i].guardian, c->tx->sender, 32) == 0)
			rc = lb_errf(c->em, LB_EINVALID,
				     "keys.guardians: the key's owner cannot be its own guardian");
	if (rc == LB_OK)
		rc = lb_state_put(c->state, NS_GUARDIANS, c->sender_addr, LB_ADDR_LEN,
				  c->tx->payload, c->tx->payload_len);
	lb_free(r);
	return rc;
}

static json_t *json_guardians(const struct lb_tx *tx)
{
	struct lb_guardian_record *r = lb_malloc(sizeof *r);
	json_t *o = NULL, *g;
	if (!r)
		return NULL;
	if (lb_guardian_record_decode(r, tx->payload, tx->payload_len, NULL) == LB_OK) {
		uint8_t a[LB_ADDR_LEN];
		lb_addr_from_pubkey(a, r->account);
		g = json_array();
		for (unsigned i = 0; i < r->n; i++) {
			uint8_t ga[LB_ADDR_LEN];
			lb_addr_from_pubkey(ga, r->g[i].guardian);
			json_array_append_new(g, json_pack("{s:o,s:o,s:i}", "public_key",
							   hex_json(r->g[i].guardian, 32), "address",
							   addr_json(ga), "x", r->g[i].x));
		}
		o = json_pack("{s:o,s:o,s:o,s:o,s:i,s:i,s:o}", "account", addr_json(a),
			      "public_key", hex_json(r->account, 32), "set_id",
			      hex_json(r->set_id, 16), "commitment", hex_json(r->commit, 32),
			      "threshold", r->t, "guardians_count", r->n, "guardians", g);
	}
	lb_free(r);
	return o;
}

/* ---- keys.recovery ------------------------------------------------------------------------- */

static int check_recovery(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_zk_recovery r;
	return lb_zk_recovery_decode(&r, tx->payload, tx->payload_len, em);
}

static int apply_recovery(struct lb_apply_ctx *c)
{
	int rc = check_recovery(c->tx, c->em);
	if (rc)
		return rc;
	return lb_state_put(c->state, NS_RECOVERY, c->sender_addr, LB_ADDR_LEN, c->tx->payload,
			    c->tx->payload_len);
}

static json_t *json_recovery(const struct lb_tx *tx)
{
	struct lb_zk_recovery r;
	if (lb_zk_recovery_decode(&r, tx->payload, tx->payload_len, NULL))
		return NULL;
	return json_pack("{s:i,s:i,s:o,s:o}", "opslimit", (int)r.opslimit, "memlimit_kib",
			 (int)r.memlimit_kib, "salt", hex_json(r.salt, 16), "commitment",
			 hex_json(r.X, 32));
}

/* ---- keys.reset ---------------------------------------------------------------------------- */

static int decode_reset(const struct lb_tx *tx, struct lb_keyreset *r, struct lb_errmsg *em)
{
	int rc = lb_keyreset_decode(r, tx->payload, tx->payload_len, em);
	if (rc)
		return rc;
	if (r->account_len != LB_ADDR_LEN)
		return lb_errf(em, LB_EINVALID,
			       "keys.reset: the account must be a %d-byte address, not %zu bytes",
			       LB_ADDR_LEN, r->account_len);
	return LB_OK;
}

static int check_reset(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_keyreset r;
	return decode_reset(tx, &r, em);
}

/* Rotate r->account to the key whose address is key_addr on this chain: the key that acted
 * for the account until now (the original one if never reset) is replaced, the new one acts
 * for the account, and the account's reset nonce moves past r->nonce. */
static int rotate_key(struct lb_apply_ctx *c, const struct lb_keyreset *r,
		      const uint8_t key_addr[LB_ADDR_LEN], const char *what)
{
	const uint8_t *v;
	size_t n;
	uint8_t cur[LB_ADDR_LEN], ent[1 + LB_ADDR_LEN];
	int rc = lb_state_get(c->state, NS_KEYCUR, r->account, LB_ADDR_LEN, &v, &n);
	if (rc == LB_ENOTFOUND)
		memcpy(cur, r->account, LB_ADDR_LEN); /* never reset: the original key */
	else if (rc || n != LB_ADDR_LEN)
		return lb_errf(c->em, rc ? rc : LB_ECORRUPT,
			       "%s: cannot read the account's current key on this chain", what);
	else
		memcpy(cur, v, LB_ADDR_LEN);
	memcpy(ent + 1, r->account, LB_ADDR_LEN);
	ent[0] = LB_KEYMAP_REPLACED;
	if ((rc = lb_state_put(c->state, LB_KEYMAP_NS, cur, LB_ADDR_LEN, ent, sizeof ent)))
		return rc;
	ent[0] = LB_KEYMAP_ACTS_FOR;
	if ((rc = lb_state_put(c->state, LB_KEYMAP_NS, key_addr, LB_ADDR_LEN, ent, sizeof ent)) ||
	    (rc = lb_state_put(c->state, NS_KEYCUR, r->account, LB_ADDR_LEN, key_addr,
			       LB_ADDR_LEN)) ||
	    (rc = lb_state_put_u64(c->state, NS_RESETNONCE, r->account, LB_ADDR_LEN, r->nonce + 1)))
		return rc;
	return LB_OK;
}

static int apply_reset(struct lb_apply_ctx *c)
{
	struct lb_keyreset r;
	struct lb_zk_recovery rec;
	const uint8_t *v;
	size_t n;
	uint64_t want;
	uint8_t key_addr[LB_ADDR_LEN];
	int rc = decode_reset(c->tx, &r, c->em);
	if (rc)
		return rc;
	if (memcmp(r.new_pk, c->tx->sender, 32) != 0)
		return lb_errf(c->em, LB_EUNAUTH,
			       "keys.reset must be signed by the new key it installs");
	lb_addr_from_pubkey(key_addr, r.new_pk);
	if (memcmp(key_addr, c->sender_addr, LB_ADDR_LEN) != 0 || c->tx->nonce != 0)
		return lb_errf(c->em, LB_EEXISTS,
			       "keys.reset: the new key has already been used on this chain; make a "
			       "fresh key for the reset");
	if (memcmp(key_addr, r.account, LB_ADDR_LEN) == 0)
		return lb_errf(c->em, LB_EINVALID, "keys.reset: the new key is the account's own key");
	rc = lb_state_get(c->state, NS_RECOVERY, r.account, LB_ADDR_LEN, &v, &n);
	if (rc && rc != LB_ENOTFOUND)
		return lb_errf(c->em, rc, "keys.reset: cannot read the recovery commitment");
	if (rc)
		return lb_errf(c->em, LB_ENOTFOUND,
			       "keys.reset: this account has recorded no recovery commitment, so its "
			       "key cannot be reset");
	if (lb_zk_recovery_decode(&rec, v, n, c->em))
		return lb_errf(c->em, LB_ECORRUPT, "keys.reset: the recorded commitment is unreadable");
	if ((rc = lb_state_get_u64(c->state, NS_RESETNONCE, r.account, LB_ADDR_LEN, 0, &want)))
		return rc;
	if (r.nonce < want)
		return lb_errf(c->em, LB_ENONCEUSED,
			       "keys.reset: reset nonce %llu was already used (a replayed proof); the "
			       "next is %llu",
			       (unsigned long long)r.nonce, (unsigned long long)want);
	if (r.nonce > want)
		return lb_errf(c->em, LB_ENONCEGAP,
			       "keys.reset: reset nonce %llu skips ahead; the next is %llu",
			       (unsigned long long)r.nonce, (unsigned long long)want);
	if ((rc = lb_keyreset_check(&r, &rec, c->em)))
		return rc;
	return rotate_key(c, &r, key_addr, "keys.reset");
}

static json_t *json_reset(const struct lb_tx *tx)
{
	struct lb_keyreset r;
	uint8_t a[LB_ADDR_LEN];
	if (decode_reset(tx, &r, NULL))
		return NULL;
	lb_addr_from_pubkey(a, r.new_pk);
	return json_pack("{s:o,s:o,s:o,s:I,s:o}", "account", addr_json(r.account), "new_key",
			 hex_json(r.new_pk, 32), "new_key_address", addr_json(a), "reset_nonce",
			 (json_int_t)r.nonce, "proof", hex_json(r.proof, LB_ZK_PROOFBYTES));
}

/* ---- keys.follow / keys.follow.directory ----------------------------------------------------- */

int lb_keyfollow_encode(struct lb_buf *b, const uint8_t *tx, size_t tx_len,
			const uint8_t *proof, size_t proof_len)
{
	if (lb_enc_u8(b, 1) || lb_enc_bytes(b, tx, tx_len) || lb_enc_bytes(b, proof, proof_len))
		return LB_ENOMEM;
	return LB_OK;
}

int lb_keyfollow_decode(struct lb_keyfollow *out, const uint8_t *in, size_t len,
			struct lb_errmsg *em)
{
	struct lb_dec d;
	uint8_t v;
	int rc;
	lb_dec_init(&d, in, len, "keys.follow payload", em);
	if ((rc = lb_dec_u8(&d, "version", &v)))
		return rc;
	if (v != 1)
		return lb_dec_fail(&d, LB_EUNSUPPORTED, "version", "%u is not supported", v);
	if ((rc = lb_dec_bytes(&d, "reset tx", LB_TX_MAX_BYTES, &out->tx, &out->tx_len)) ||
	    (rc = lb_dec_bytes(&d, "proof", LB_KEYFOLLOW_PROOF_MAX, &out->proof,
			       &out->proof_len)) ||
	    (rc = lb_dec_end(&d)))
		return rc;
	if (!out->tx_len || !out->proof_len)
		return lb_errf(em, LB_EMALFORMED,
			       "keys.follow: the reset tx and its proof must both be present");
	return LB_OK;
}

/* The cited tx as a keys.reset of the business chain, its reset decoded (stateless). */
static int follow_reset(const struct lb_keyfollow *f, struct lb_tx *tx, struct lb_keyreset *r,
			struct lb_errmsg *em)
{
	struct lb_errmsg e;
	lb_errclear(&e);
	if (lb_tx_decode(tx, f->tx, f->tx_len, &e))
		return lb_errf(em, LB_EMALFORMED, "keys.follow: the reset tx does not decode: %s",
			       e.text);
	if (tx->chain != LB_CHAIN_BUSINESS || tx->type != LB_TX_KEYS_RESET) {
		const struct lb_txtype *t = lb_txtype_find(tx->type);
		return lb_errf(em, LB_EINVALID,
			       "keys.follow: the cited tx is a %s-chain '%s' tx, not a business-chain "
			       "keys.reset",
			       lb_chain_name(tx->chain), t ? t->name : "unknown");
	}
	if (decode_reset(tx, r, &e))
		return lb_errf(em, LB_EINVALID, "keys.follow: the cited keys.reset is unreadable: %s",
			       e.text);
	return LB_OK;
}

static int check_follow(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_keyfollow f;
	struct lb_tx inner;
	struct lb_keyreset r;
	int rc = lb_keyfollow_decode(&f, tx->payload, tx->payload_len, em);
	if (rc)
		return rc;
	return follow_reset(&f, &inner, &r, em);
}

static int apply_follow(struct lb_apply_ctx *c)
{
	struct lb_keyfollow f;
	struct lb_tx inner;
	struct lb_keyreset r;
	uint64_t want;
	uint8_t key_addr[LB_ADDR_LEN];
	int rc = lb_keyfollow_decode(&f, c->tx->payload, c->tx->payload_len, c->em);
	if (rc || (rc = follow_reset(&f, &inner, &r, c->em)) ||
	    (rc = lb_apply_cite(c, "keys.reset", f.tx, f.tx_len, f.proof, f.proof_len,
				LB_CHAIN_BUSINESS, LB_TX_KEYS_RESET, &inner)))
		return rc;
	if ((rc = lb_state_get_u64(c->state, NS_RESETNONCE, r.account, LB_ADDR_LEN, 0, &want)))
		return rc;
	if (r.nonce < want)
		return lb_errf(c->em, LB_ENONCEUSED,
			       "keys.follow: reset %llu of this account was already carried to the %s "
			       "chain, or a later one was (the next it accepts is %llu)",
			       (unsigned long long)r.nonce, lb_chain_name(c->tx->chain),
			       (unsigned long long)want);
	/* a later reset than the next one supersedes the skipped ones: their keys never acted
	 * for the account on this chain, so there is nothing of theirs to revoke here */
	lb_addr_from_pubkey(key_addr, r.new_pk);
	return rotate_key(c, &r, key_addr, "keys.follow");
}

static json_t *json_follow(const struct lb_tx *tx)
{
	struct lb_keyfollow f;
	struct lb_tx inner;
	struct lb_keyreset r;
	uint8_t a[LB_ADDR_LEN];
	if (lb_keyfollow_decode(&f, tx->payload, tx->payload_len, NULL) ||
	    follow_reset(&f, &inner, &r, NULL))
		return NULL;
	lb_addr_from_pubkey(a, r.new_pk);
	return json_pack("{s:o,s:o,s:o,s:o,s:I,s:I}", "reset_tx", hex_json(inner.id, LB_HASH_LEN),
			 "account", addr_json(r.account), "new_key", hex_json(r.new_pk, 32),
			 "new_key_address", addr_json(a), "reset_nonce", (json_int_t)r.nonce,
			 "proof_bytes", (json_int_t)f.proof_len);
}

/* ---- policy.set / policy.approve ----------------------------------------------------------- */

static int check_policy_set(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_policy_set p;
	return lb_policy_set_decode(&p, tx->payload, tx->payload_len, em);
}

static int apply_policy_set(struct lb_apply_ctx *c)
{
	struct lb_policy_set p;
	struct lb_msig_policy old;
	uint8_t creator[LB_ADDR_LEN], act[11 + LB_MSIG_POLICY_MAXBYTES], *val;
	size_t alen;
	int rc = lb_policy_set_decode(&p, c->tx->payload, c->tx->payload_len, c->em);
	if (rc)
		return rc;
	if (p.policy.start_height > c->height)
		return lb_errf(c->em, LB_EINVALID,
			       "policy.set: period 0 starts at block %llu, after this block %llu; "
			       "start it at or before the current height",
			       (unsigned long long)p.policy.start_height,
			       (unsigned long long)c->height);
	rc = lb_security_policy_get(c->state, p.asset, &old, creator, NULL);
	if (rc == LB_ENOTFOUND) {
		if (p.approval_len)
			return lb_errf(c->em, LB_EINVALID,
				       "policy.set: this asset has no policy yet, so there is nothing "
				       "to approve; send the first policy without an approval");
		memcpy(creator, c->sender_addr, LB_ADDR_LEN);
	} else if (rc) {
		return lb_errf(c->em, rc, "policy.set: the recorded policy is unreadable");
	} else {
		if (!p.approval_len)
			return lb_errf(c->em, LB_EDENIED,
				       "policy.set: this asset already has co-owners; changing the "
				       "policy needs their approval (threshold %u of %u)",
				       old.threshold, old.n);
		if ((rc = lb_policy_update_act(&p.policy, act, &alen, c->em)) ||
		    (rc = lb_security_coowners_check(c, p.asset, act, alen, p.approval,
						      p.approval_len)) ||
		    (rc = record_act(c, p.asset, act, alen)))
			return rc;
	}
	val = lb_malloc(LB_ADDR_LEN + p.policy_len);
	if (!val)
		return lb_errf(c->em, LB_ENOMEM, "policy.set: out of memory");
	memcpy(val, creator, LB_ADDR_LEN);
	memcpy(val + LB_ADDR_LEN, p.policy_bytes, p.policy_len);
	rc = lb_state_put(c->state, NS_POLICY, p.asset, 32, val, LB_ADDR_LEN + p.policy_len);
	lb_free(val);
	return rc;
}

static json_t *json_policy_set(const struct lb_tx *tx)
{
	struct lb_policy_set p;
	json_t *owners;
	if (lb_policy_set_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	owners = json_array();
	for (unsigned i = 0; i < p.policy.n; i++)
		json_array_append_new(owners, hex_json(p.policy.owners[i], 32));
	return json_pack("{s:o,s:i,s:o,s:I,s:I,s:b}", "asset", hex_json(p.asset, 32), "threshold",
			 (int)p.policy.threshold, "owners", owners, "start_height",
			 (json_int_t)p.policy.start_height, "epoch_blocks",
			 (json_int_t)p.policy.epoch_blocks, "update", p.approval_len > 0);
}

static int check_policy_approve(const struct lb_tx *tx, struct lb_errmsg *em)
{
	struct lb_policy_approve p;
	return lb_policy_approve_decode(&p, tx->payload, tx->payload_len, em);
}

static int apply_policy_approve(struct lb_apply_ctx *c)
{
	struct lb_policy_approve p;
	int rc = lb_policy_approve_decode(&p, c->tx->payload, c->tx->payload_len, c->em);
	if (rc)
		return rc;
	if ((rc = lb_security_coowners_check(c, p.asset, p.act, p.act_len, p.sig, p.sig_len)))
		return rc;
	return record_act(c, p.asset, p.act, p.act_len);
}

static json_t *json_policy_approve(const struct lb_tx *tx)
{
	struct lb_policy_approve p;
	uint8_t d[32];
	if (lb_policy_approve_decode(&p, tx->payload, tx->payload_len, NULL))
		return NULL;
	lb_security_act_digest(p.asset, p.act, p.act_len, d);
	return json_pack("{s:o,s:o,s:o,s:i}", "asset", hex_json(p.asset, 32), "act",
			 lb_utf8_is_text(p.act, p.act_len) ? json_stringn((const char *)p.act,
									   p.act_len)
							    : hex_json(p.act, p.act_len),
			 "act_digest", hex_json(d, 32), "signatures",
			 p.sig_len >= 6 ? (int)p.sig[5] : 0);
}

/* ---- read side ------------------------------------------------------------------------------- */

struct keys_view {
	const uint8_t *addr;
	json_t *out;
	struct lb_errmsg *em;
};

/* JSON view of stored payload bytes through a type's to_json. */
static json_t *stored_json(struct lb_state *s, const char *ns, const uint8_t *key, size_t klen,
			   uint32_t type)
{
	const uint8_t *v;
	size_t n;
	if (lb_state_get(s, ns, key, klen, &v, &n) != LB_OK)
		return json_null();
	struct lb_tx fake = {.chain = LB_CHAIN_BUSINESS, .type = type, .payload = v,
			     .payload_len = n};
	const struct lb_txtype *t = lb_txtype_find(type);
	json_t *j = t && t->to_json ? t->to_json(&fake) : NULL;
	return j ? j : json_null();
}

static int keys_view_fn(struct lb_state *s, void *ctx)
{
	struct keys_view *kv = ctx;
	const uint8_t *v;
	size_t n;
	uint64_t nonce = 0;
	json_t *o = json_object();
	json_object_set_new(o, "address", addr_json(kv->addr));
	const char *status = "own";
	if (lb_state_get(s, LB_KEYMAP_NS, kv->addr, LB_ADDR_LEN, &v, &n) == LB_OK &&
	    n == 1 + LB_ADDR_LEN) {
		status = v[0] == LB_KEYMAP_ACTS_FOR  ? "acts_for"
			 : v[0] == LB_KEYMAP_REMOVED ? "removed"
						     : "replaced";
		if (v[0] == LB_KEYMAP_ACTS_FOR)
			json_object_set_new(o, "acts_for", addr_json(v + 1));
	}
	json_object_set_new(o, "key_status", json_string(status));
	if (lb_state_get(s, NS_KEYCUR, kv->addr, LB_ADDR_LEN, &v, &n) == LB_OK && n == LB_ADDR_LEN)
		json_object_set_new(o, "current_key", addr_json(v));
	lb_state_get_u64(s, NS_RESETNONCE, kv->addr, LB_ADDR_LEN, 0, &nonce);
	json_object_set_new(o, "next_reset_nonce", json_integer((json_int_t)nonce));
	json_object_set_new(o, "guardians",
			    stored_json(s, NS_GUARDIANS, kv->addr, LB_ADDR_LEN, LB_TX_KEYS_GUARDIANS));
	json_object_set_new(o, "recovery",
			    stored_json(s, NS_RECOVERY, kv->addr, LB_ADDR_LEN, LB_TX_KEYS_RECOVERY));
	kv->out = o;
	return LB_OK;
}

/* What the settlement or directory chain holds of the account's key: the same three fields,
 * written there by the follow-up of its resets. */
static int keys_chain_fn(struct lb_state *s, void *ctx)
{
	struct keys_view *kv = ctx;
	const uint8_t *v;
	size_t n;
	uint64_t nonce = 0;
	json_t *o = json_object();
	const char *status = "own";
	if (lb_state_get(s, LB_KEYMAP_NS, kv->addr, LB_ADDR_LEN, &v, &n) == LB_OK &&
	    n == 1 + LB_ADDR_LEN) {
		status = v[0] == LB_KEYMAP_ACTS_FOR  ? "acts_for"
			 : v[0] == LB_KEYMAP_REMOVED ? "removed"
						     : "replaced";
		if (v[0] == LB_KEYMAP_ACTS_FOR)
			json_object_set_new(o, "acts_for", addr_json(v + 1));
	}
	json_object_set_new(o, "key_status", json_string(status));
	if (lb_state_get(s, NS_KEYCUR, kv->addr, LB_ADDR_LEN, &v, &n) == LB_OK && n == LB_ADDR_LEN)
		json_object_set_new(o, "current_key", addr_json(v));
	lb_state_get_u64(s, NS_RESETNONCE, kv->addr, LB_ADDR_LEN, 0, &nonce);
	json_object_set_new(o, "next_reset_nonce", json_integer((json_int_t)nonce));
	kv->out = o;
	return LB_OK;
}

int lb_security_keys_json(struct lb_ledger *l, const uint8_t addr[LB_ADDR_LEN], json_t **out,
			  struct lb_errmsg *em)
{
	struct keys_view kv = {addr, NULL, em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, keys_view_fn, &kv);
	if (rc)
		return lb_errf(em, rc, "cannot read the business chain's key records");
	json_t *chains = json_object();
	json_object_set_new(kv.out, "chains", chains);
	static const int others[] = {LB_CHAIN_SETTLEMENT, LB_CHAIN_DIRECTORY};
	for (size_t i = 0; i < 2; i++) {
		struct keys_view cv = {addr, NULL, em};
		if ((rc = lb_ledger_state_view(l, others[i], keys_chain_fn, &cv))) {
			json_decref(kv.out);
			return lb_errf(em, rc, "cannot read the %s chain's key map",
				       lb_chain_name(others[i]));
		}
		json_object_set_new(chains, lb_chain_name(others[i]), cv.out);
	}
	*out = kv.out;
	return LB_OK;
}

struct policy_view {
	const uint8_t *asset;
	json_t *out;
	struct lb_errmsg *em;
};

static int policy_view_fn(struct lb_state *s, void *ctx)
{
	struct policy_view *pv = ctx;
	struct lb_msig_policy p;
	uint8_t creator[LB_ADDR_LEN];
	int rc = lb_security_policy_get(s, pv->asset, &p, creator, pv->em);
	if (rc)
		return rc;
	json_t *owners = json_array();
	for (unsigned i = 0; i < p.n; i++)
		json_array_append_new(owners, hex_json(p.owners[i], 32));
	pv->out = json_pack("{s:o,s:o,s:i,s:o,s:I,s:I}", "asset", hex_json(pv->asset, 32),
			    "creator", addr_json(creator), "threshold", (int)p.threshold, "owners",
			    owners, "start_height", (json_int_t)p.start_height, "epoch_blocks",
			    (json_int_t)p.epoch_blocks);
	return LB_OK;
}

int lb_security_policy_json(struct lb_ledger *l, const uint8_t asset[32], json_t **out,
			    struct lb_errmsg *em)
{
	struct policy_view pv = {asset, NULL, em};
	int rc = lb_ledger_state_view(l, LB_CHAIN_BUSINESS, policy_view_fn, &pv);
	if (rc)
		return rc;
	*out = pv.out;
	return LB_OK;
}

/* ---- registration ---------------------------------------------------------------------------- */

static const struct lb_txtype rows[] = {
	{LB_TX_KEYS_GUARDIANS, LB_CHAIN_BUSINESS, "keys.guardians", check_guardians,
	 apply_guardians, json_guardians, true},
	{LB_TX_KEYS_RECOVERY, LB_CHAIN_BUSINESS, "keys.recovery", check_recovery, apply_recovery,
	 json_recovery, true},
	{LB_TX_KEYS_RESET, LB_CHAIN_BUSINESS, "keys.reset", check_reset, apply_reset, json_reset,
	 true},
	{LB_TX_POLICY_SET, LB_CHAIN_BUSINESS, "policy.set", check_policy_set, apply_policy_set,
	 json_policy_set, true},
	{LB_TX_POLICY_APPROVE, LB_CHAIN_BUSINESS, "policy.approve", check_policy_approve,
	 apply_policy_approve, json_policy_approve, true},
	{LB_TX_KEYS_FOLLOW, LB_CHAIN_SETTLEMENT, "keys.follow", check_follow, apply_follow,
	 json_follow, true},
	{LB_TX_KEYS_FOLLOW_DIR, LB_CHAIN_DIRECTORY, "keys.follow.directory", check_follow,
	 apply_follow, json_follow, true},
};

int lb_security_register_txtypes(void)
{
	int rc = lb_txtype_register_rows(rows, sizeof rows / sizeof rows[0], false);
	if (rc)
		return rc;
	/* Block-independent: these read only the state and the tx. policy.set and
	 * policy.approve are not: the co-owners' signatures are checked in the KES period of
	 * the block's height, and an approval records that height; nor are keys.follow and
	 * keys.follow.directory: their proof is checked against this chain's earlier blocks
	 * (lb_state_block_hash). */
	static const uint32_t independent[] = {LB_TX_KEYS_GUARDIANS, LB_TX_KEYS_RECOVERY,
					       LB_TX_KEYS_RESET};
	for (size_t i = 0; i < sizeof independent / sizeof independent[0] && !rc; i++)
		rc = lb_txtype_mark_block_independent(independent[i]);
	return rc;
}
