/*
 * The security toolkit bound to the business chain (src/crypto/sec_tx.c): tx types for key
 * recovery by guardians, key reset by zero-knowledge proof, and co-owner policies with
 * forward-secure multi-signatures; plus the co-owner check other modules' handlers call.
 * Wire formats: docs/wire-format.md; design and threat model: docs/security.md.
 */
#ifndef LEBEN_SECURITY_H
#define LEBEN_SECURITY_H

#include <stddef.h>
#include <stdint.h>

#include "leben/kes.h"
#include "leben/ledger.h"

/* Tx type ids (business chain, 0x0320-0x032f). */
enum {
	LB_TX_KEYS_GUARDIANS = 0x0320, /* guardian record: who holds a share of the sender's key */
	LB_TX_KEYS_RECOVERY = 0x0321,  /* recovery commitment of the sender's account */
	LB_TX_KEYS_RESET = 0x0322,     /* rotate an account's signing key with a ZK proof */
	LB_TX_POLICY_SET = 0x0323,     /* co-owner policy of an asset (create or update) */
	LB_TX_POLICY_APPROVE = 0x0324, /* co-owners approve an act on an asset */
	/* Carry a business-chain keys.reset to the other chains (cross-chain, DESIGN.md §3). */
	LB_TX_KEYS_FOLLOW = 0x0105,     /* settlement: "keys.follow" */
	LB_TX_KEYS_FOLLOW_DIR = 0x0204, /* directory: "keys.follow.directory" */
};

/* Add the rows above to the ledger's tx-type table. Idempotent. */
int lb_security_register_txtypes(void);

/* ---- payloads -------------------------------------------------------------------------------
 * keys.guardians: the guardian record bytes of shamir.h (lb_guardian_record_encode).
 * keys.recovery:  the recovery record bytes of zkp.h (lb_zk_recovery_encode).
 * keys.reset:     the lb_keyreset bytes of zkp.h; the account is the 20-byte address.
 * policy.set:     u8 version 1 | fixed 32 asset id | bytes policy (lb_msig_policy_encode)
 *                 | bytes approval (multi-signature of the current owners; empty to create).
 * policy.approve: u8 version 1 | fixed 32 asset id | bytes act (1..4096) | bytes multisig.
 * ("bytes" = varint length + bytes, codec.h.) */
#define LB_SEC_ACT_MAX 4096
#define LB_SEC_MSIG_MAX LB_MSIG_BYTES(LB_MSIG_MAX_OWNERS)

struct lb_policy_set {
	uint8_t asset[32];
	struct lb_msig_policy policy;
	const uint8_t *policy_bytes; /* borrowed from the payload */
	size_t policy_len;
	const uint8_t *approval;     /* borrowed; approval_len 0 when creating */
	size_t approval_len;
};
struct lb_policy_approve {
	uint8_t asset[32];
	const uint8_t *act; /* borrowed */
	size_t act_len;
	const uint8_t *sig; /* borrowed */
	size_t sig_len;
};
int lb_policy_set_encode(struct lb_buf *b, const uint8_t asset[32],
			 const struct lb_msig_policy *p, const uint8_t *approval, size_t alen,
			 struct lb_errmsg *em);
int lb_policy_set_decode(struct lb_policy_set *out, const uint8_t *in, size_t len,
			 struct lb_errmsg *em);
int lb_policy_approve_encode(struct lb_buf *b, const uint8_t asset[32], const uint8_t *act,
			     size_t act_len, const uint8_t *sig, size_t sig_len);
int lb_policy_approve_decode(struct lb_policy_approve *out, const uint8_t *in, size_t len,
			     struct lb_errmsg *em);

/* keys.follow / keys.follow.directory: u8 version 1 | bytes reset tx (the signed bytes of a
 * committed business-chain keys.reset, 1..LB_TX_MAX_BYTES) | bytes proof (its inclusion proof,
 * lb_proof_verify format, anchored in a block of the chain the follow is sent to;
 * 1..LB_KEYFOLLOW_PROOF_MAX). Anyone may send it (fee-exempt); it writes on its own chain the
 * key-map entries the reset wrote on the business chain. Refused (LB_EINVALID) unless the
 * proof checks out, is anchored in one of this chain's own earlier blocks, proves exactly
 * these tx bytes valid in their block, and they are a keys.reset; a reset number already
 * followed here (or older than one followed) is refused with LB_ENONCEUSED. A later reset may
 * be followed without the earlier ones (they were superseded); an earlier one never after. */
#define LB_KEYFOLLOW_PROOF_MAX 60000
struct lb_keyfollow {
	const uint8_t *tx;    /* borrowed from the payload */
	size_t tx_len;
	const uint8_t *proof; /* borrowed from the payload */
	size_t proof_len;
};
int lb_keyfollow_encode(struct lb_buf *b, const uint8_t *tx, size_t tx_len,
			const uint8_t *proof, size_t proof_len);
int lb_keyfollow_decode(struct lb_keyfollow *out, const uint8_t *in, size_t len,
			struct lb_errmsg *em);

/* The act of updating a policy, as co-owners sign it: "policy.set" NUL | new policy bytes.
 * out needs 11 + LB_MSIG_POLICY_MAXBYTES bytes. */
int lb_policy_update_act(const struct lb_msig_policy *next, uint8_t *out, size_t *outlen,
			 struct lb_errmsg *em);

/* ---- the co-owner check (for the handlers of other modules, e.g. the exchange) -------------
 * What co-owners sign for an act on an asset: the message given to lb_msig_*_sign is
 * BLAKE2b-256("LEBEN co-owner act v1" | asset | act). */
void lb_security_act_digest(const uint8_t asset[32], const uint8_t *act, size_t act_len,
			    uint8_t out[32]);

/* Recorded policy of asset in a business-chain state. LB_ENOTFOUND if none; creator (may be
 * NULL) receives the address that created it. */
int lb_security_policy_get(struct lb_state *s, const uint8_t asset[32],
			   struct lb_msig_policy *p, uint8_t creator[LB_ADDR_LEN],
			   struct lb_errmsg *em);

/* Call inside a business-chain tx handler: LB_OK if sig (lb_msig_* bytes, broadcast or
 * sequential) holds signatures of at least the threshold of the co-owners recorded for asset,
 * over lb_security_act_digest(asset, act), for the KES period of the block being built
 * (lb_kes_period_at(ctx->height, start_height, epoch_blocks)). Refusals, with a message in
 * ctx->em: LB_ENOTFOUND no policy for the asset; LB_ERANGE the block is outside the policy's
 * 64 periods; LB_EINVALID signed for another period (e.g. a past one); LB_EDENIED fewer than
 * threshold owners; LB_EBADSIG an invalid signature; LB_EMALFORMED bad bytes. Reads state,
 * writes nothing (the caller records the act if it must not be approved twice). */
int lb_security_coowners_check(struct lb_apply_ctx *ctx, const uint8_t asset[32],
			       const uint8_t *act, size_t act_len, const uint8_t *sig,
			       size_t sig_len);

/* ---- read side (the node's API: GET /v1/accounts/{address}/keys, GET /v1/policies/{asset}) --
 * JSON of what the business chain's committed state holds (new reference in *out):
 *   keys:   {"address", "key_status": "own" | "acts_for" | "replaced", "acts_for": address
 *            (when the address is a key acting for an account), "current_key": address (after a
 *            reset of this account), "next_reset_nonce", "guardians": record view | null,
 *            "recovery": record view | null, "chains": {"settlement": {...}, "directory": {...}}
 *            with "key_status", "acts_for", "current_key" and "next_reset_nonce" as that chain
 *            holds them (written there by keys.follow)}
 *   policy: {"asset", "creator", "threshold", "owners", "start_height", "epoch_blocks"};
 *           LB_ENOTFOUND if the asset has none. */
int lb_security_keys_json(struct lb_ledger *l, const uint8_t addr[LB_ADDR_LEN], json_t **out,
			  struct lb_errmsg *em);
int lb_security_policy_json(struct lb_ledger *l, const uint8_t asset[32], json_t **out,
			    struct lb_errmsg *em);

#endif
