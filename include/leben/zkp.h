/*
 * Zero-knowledge proof of ownership for key reset: a Schnorr proof of knowledge of x with
 * X = x·B over ristretto255, made non-interactive with Fiat–Shamir and bound to a context
 * (account, chain, purpose, nonce, and the data the proof authorises, e.g. the new signing
 * key), so a proof made for one context is worthless in any other and a used nonce cannot be
 * replayed. The secret x comes from a recovery secret (a passphrase or a printed code) through
 * Argon2id; the account records only the commitment X (with the Argon2id salt and costs).
 *
 * Proof bytes: R (32) | s (32), with c = BLAKE2b-512("LEBEN zk schnorr v1" | ctx | X | R) mod l
 * and s = k + c·x; valid iff s·B = R + c·X, where ctx = lb_zk_context_digest(context).
 */
#ifndef LEBEN_ZKP_H
#define LEBEN_ZKP_H

#include <stddef.h>
#include <stdint.h>

#include "leben/error.h"

#define LB_ZK_SCALARBYTES 32
#define LB_ZK_POINTBYTES 32
#define LB_ZK_PROOFBYTES 64

/* What a proof is bound to; all fields borrowed for the call. */
struct lb_zk_context {
	const uint8_t *account; /* account id bytes (e.g. its public key) */
	size_t account_len;
	const char *chain;      /* "business" */
	const char *purpose;    /* "keys.reset" */
	uint64_t nonce;         /* single use, checked by the ledger */
	const uint8_t *bound;   /* data the proof authorises (new public key); may be NULL */
	size_t bound_len;
};
/* BLAKE2b-256 of the length-prefixed context fields. */
void lb_zk_context_digest(const struct lb_zk_context *ctx, uint8_t out[32]);

/* Public key X of a secret scalar x (x must be a canonical non-zero scalar). */
int lb_zk_public(uint8_t X[LB_ZK_POINTBYTES], const uint8_t x[LB_ZK_SCALARBYTES]);
int lb_zk_prove(uint8_t proof[LB_ZK_PROOFBYTES], const uint8_t x[LB_ZK_SCALARBYTES],
		const struct lb_zk_context *ctx);
/* LB_OK, or LB_EBADSIG if the proof does not hold for X in ctx, LB_EMALFORMED for bad points. */
int lb_zk_verify(const uint8_t proof[LB_ZK_PROOFBYTES], const uint8_t X[LB_ZK_POINTBYTES],
		 const struct lb_zk_context *ctx);

/* ---- recovery commitment (recorded at registration) ------------------------------------- */

/* Canonical bytes: version 1 | u32 opslimit | u32 memlimit in KiB | salt (16) | X (32). */
struct lb_zk_recovery {
	uint32_t opslimit;     /* Argon2id passes, 1..16 */
	uint32_t memlimit_kib; /* Argon2id memory in KiB, 8192..4194304 */
	uint8_t salt[16];      /* random, public */
	uint8_t X[LB_ZK_POINTBYTES]; /* commitment: x·B */
};
#define LB_ZK_RECOVERY_BYTES (1 + 4 + 4 + 16 + 32)

/* Derive x from a recovery secret and the record's salt and costs (x: caller buffer, wipe it). */
int lb_zk_derive(uint8_t x[LB_ZK_SCALARBYTES], const char *secret, size_t secret_len,
		 const struct lb_zk_recovery *rec, struct lb_errmsg *em);
/* New record for a recovery secret: fresh salt, the given costs (0 = defaults: 3 passes,
 * 64 MiB), X derived. */
int lb_zk_recovery_new(struct lb_zk_recovery *rec, const char *secret, size_t secret_len,
		       uint32_t opslimit, uint32_t memlimit_kib, struct lb_errmsg *em);
int lb_zk_recovery_check(const struct lb_zk_recovery *rec, struct lb_errmsg *em);
void lb_zk_recovery_encode(const struct lb_zk_recovery *rec, uint8_t out[LB_ZK_RECOVERY_BYTES]);
int lb_zk_recovery_decode(struct lb_zk_recovery *rec, const uint8_t *in, size_t len,
			  struct lb_errmsg *em);

/* ---- keys.reset payload (business chain) -----------------------------------------------
 * Canonical bytes: version 1 | u8 account_len (1..64) | account | new_pk (32) | u64 nonce
 * | proof (64). The ledger's handler: decode, look up the account's recovery record, check the
 * nonce is fresh, call lb_keyreset_check, then replace the account's key by new_pk. */
struct lb_keyreset {
	uint8_t account[64];   /* account id bytes */
	size_t account_len;    /* 1..64 */
	uint8_t new_pk[32];    /* the new Ed25519 signing key */
	uint64_t nonce;        /* the account's reset nonce */
	uint8_t proof[LB_ZK_PROOFBYTES];
};
#define LB_KEYRESET_MAXBYTES (2 + 64 + 32 + 8 + LB_ZK_PROOFBYTES)
int lb_keyreset_encode(const struct lb_keyreset *r, uint8_t *out, size_t *outlen,
		       struct lb_errmsg *em);
int lb_keyreset_decode(struct lb_keyreset *r, const uint8_t *in, size_t len, struct lb_errmsg *em);
/* Context every reset proof is bound to: chain "business", purpose "keys.reset", the account,
 * the nonce, and new_pk as bound data. */
void lb_keyreset_context(const struct lb_keyreset *r, struct lb_zk_context *ctx);
/* Make the proof for r (fills r->proof) from x. */
int lb_keyreset_prove(struct lb_keyreset *r, const uint8_t x[LB_ZK_SCALARBYTES]);
/* Stateless check: the proof holds against the account's recovery commitment. */
int lb_keyreset_check(const struct lb_keyreset *r, const struct lb_zk_recovery *rec,
		      struct lb_errmsg *em);

#endif
