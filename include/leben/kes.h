/*
 * Forward-secure signatures and co-owner multi-signatures.
 *
 * KES: key-evolving signatures by the Malkin–Micciancio–Miner "sum" composition over Ed25519
 * with BLAKE2b-256, depth 6 (64 periods), byte-compatible with Cardano's Sum6KES and
 * SumCompact6KES (tests/vectors/kes-sum6/). A signing key signs for its current period only;
 * lb_kes_update moves it to the next period and wipes the seeds of the past, so a key stolen at
 * period j cannot sign for any period before j. Signatures of past periods stay verifiable
 * with the (never changing) 32-byte verification key.
 *
 * Multi-signatures: a policy lists the owners' KES verification keys and a threshold. In the
 * broadcast form each owner signs (policy, period, message) independently and a collector
 * assembles; in the sequential form owners sign in policy order, each over the message and all
 * previous signatures. Verification takes the policy, the period and the message.
 */
#ifndef LEBEN_KES_H
#define LEBEN_KES_H

#include <stddef.h>
#include <stdint.h>

#include "leben/error.h"

#define LB_KES_DEPTH 6
#define LB_KES_PERIODS 64
#define LB_KES_SEEDBYTES 32
#define LB_KES_VKBYTES 32
#define LB_KES_SKBYTES (32 + LB_KES_DEPTH * 96)   /* 608: Cardano's key bytes */
#define LB_KES_SIGBYTES (64 + LB_KES_DEPTH * 64)  /* 448: Sum6KES signature */
#define LB_KES_CSIGBYTES (96 + LB_KES_DEPTH * 32) /* 288: SumCompact6KES signature */
#define LB_KES_SKFILEBYTES (4 + LB_KES_SKBYTES)   /* u32 period + key bytes */

/* A KES signing key: secret, wipe with lb_kes_sk_wipe. */
struct lb_kes_sk {
	uint8_t bytes[LB_KES_SKBYTES]; /* Cardano layout: leaf seed, then per level r1|vk0|vk1 */
	uint32_t period;               /* current period, 0..63 */
};

/* Key from a 32-byte seed (the seed is copied; the caller wipes its own copy). */
int lb_kes_keygen(struct lb_kes_sk *sk, uint8_t vk[LB_KES_VKBYTES],
		  const uint8_t seed[LB_KES_SEEDBYTES]);
/* Verification key of sk (recomputed from its top level). */
void lb_kes_sk_vk(const struct lb_kes_sk *sk, uint8_t vk[LB_KES_VKBYTES]);
/* Sign msg at sk->period. */
int lb_kes_sign(const struct lb_kes_sk *sk, const uint8_t *msg, size_t len,
		uint8_t sig[LB_KES_SIGBYTES]);
int lb_kes_sign_compact(const struct lb_kes_sk *sk, const uint8_t *msg, size_t len,
			uint8_t sig[LB_KES_CSIGBYTES]);
/* LB_OK if sig is vk's signature of msg at period; LB_EBADSIG otherwise, LB_ERANGE for a period
 * beyond 63. */
int lb_kes_verify(const uint8_t vk[LB_KES_VKBYTES], uint32_t period, const uint8_t *msg,
		  size_t len, const uint8_t sig[LB_KES_SIGBYTES]);
int lb_kes_verify_compact(const uint8_t vk[LB_KES_VKBYTES], uint32_t period, const uint8_t *msg,
			  size_t len, const uint8_t sig[LB_KES_CSIGBYTES]);
/* Evolve to the next period, wiping what only past periods needed. LB_ELIMIT after the last. */
int lb_kes_update(struct lb_kes_sk *sk);
/* Evolve until sk->period == period; LB_EINVALID if period is in the past. */
int lb_kes_update_to(struct lb_kes_sk *sk, uint32_t period);
void lb_kes_sk_wipe(struct lb_kes_sk *sk);
/* Key file bytes: u32 big-endian period | 608 key bytes. Decode checks the period range. */
void lb_kes_sk_encode(const struct lb_kes_sk *sk, uint8_t out[LB_KES_SKFILEBYTES]);
int lb_kes_sk_decode(struct lb_kes_sk *sk, const uint8_t *in, size_t len, struct lb_errmsg *em);

/* Period for a block height when periods last epoch_blocks blocks from start_height.
 * LB_ERANGE before the start or after the 64th period. */
int lb_kes_period_at(uint64_t height, uint64_t start_height, uint64_t epoch_blocks,
		     uint32_t *period);

/* ---- co-owner multi-signature policies ------------------------------------------------- */

#define LB_MSIG_MAX_OWNERS 64

/* A co-ownership policy (the business-chain record): who owns, how many must consent, and how
 * chain time maps to KES periods. Canonical encoding (lb_msig_policy_encode):
 *   version 1 | u8 threshold | u8 n | n x owner vk (32, strictly ascending)
 *   | u64 start_height | u64 epoch_blocks                       (integers big-endian) */
struct lb_msig_policy {
	unsigned threshold;                               /* 1..n owners must sign */
	unsigned n;                                       /* number of owners, 1..64 */
	uint8_t owners[LB_MSIG_MAX_OWNERS][LB_KES_VKBYTES]; /* KES vks, strictly ascending */
	uint64_t start_height;                            /* height where period 0 starts */
	uint64_t epoch_blocks;                            /* blocks per KES period, >= 1 */
};
#define LB_MSIG_POLICY_MAXBYTES (3 + LB_MSIG_MAX_OWNERS * 32 + 16)

/* Validate (threshold range, owners sorted and distinct, epoch length). */
int lb_msig_policy_check(const struct lb_msig_policy *p, struct lb_errmsg *em);
/* Canonical bytes into out (LB_MSIG_POLICY_MAXBYTES); *outlen set. Checks first. */
int lb_msig_policy_encode(const struct lb_msig_policy *p, uint8_t *out, size_t *outlen,
			  struct lb_errmsg *em);
/* Decode, refusing any non-canonical form (trailing bytes, unsorted owners, ...). */
int lb_msig_policy_decode(struct lb_msig_policy *p, const uint8_t *in, size_t len,
			  struct lb_errmsg *em);
/* BLAKE2b-256 of the canonical bytes: every signature is bound to it. */
int lb_msig_policy_id(const struct lb_msig_policy *p, uint8_t id[32]);
/* Index of vk among the owners, or -1. */
int lb_msig_owner_index(const struct lb_msig_policy *p, const uint8_t vk[LB_KES_VKBYTES]);

/* Multi-signature bytes: mode (1 broadcast, 2 sequential) | u32 period | u8 count
 *   | count x ( u8 owner index | KES signature 448 ), owner indexes strictly ascending. */
enum lb_msig_mode { LB_MSIG_BROADCAST = 1, LB_MSIG_SEQUENTIAL = 2 };
#define LB_MSIG_ENTRYBYTES (1 + LB_KES_SIGBYTES)
#define LB_MSIG_BYTES(count) (6 + (size_t)(count) * LB_MSIG_ENTRYBYTES)

/* Broadcast: one owner's contribution (entry of LB_MSIG_ENTRYBYTES) at sk->period. */
int lb_msig_broadcast_sign(const struct lb_kes_sk *sk, const struct lb_msig_policy *p,
			   const uint8_t *msg, size_t len, uint8_t entry[LB_MSIG_ENTRYBYTES],
			   struct lb_errmsg *em);
/* Collector: assemble k entries (any order; borrowed) into out (LB_MSIG_BYTES(k)). */
int lb_msig_assemble(const uint8_t *const *entries, size_t k, uint32_t period, uint8_t *out,
		     size_t *outlen, struct lb_errmsg *em);
/* Sequential: append this owner's signature over msg and the signatures so far. prev is the
 * multi-signature so far (NULL/0 for the first signer); out receives LB_MSIG_BYTES(count+1).
 * The owner must come after every owner already in prev (policy order). */
int lb_msig_sequential_sign(const struct lb_kes_sk *sk, const struct lb_msig_policy *p,
			    const uint8_t *msg, size_t len, const uint8_t *prev, size_t prevlen,
			    uint8_t *out, size_t *outlen, struct lb_errmsg *em);
/* LB_OK if sig holds at least threshold valid signatures of distinct owners of p, for msg, at
 * period. LB_EDENIED below the threshold, LB_EBADSIG for an invalid signature, LB_EINVALID for
 * the wrong period, LB_EMALFORMED for bad bytes. */
int lb_msig_verify(const struct lb_msig_policy *p, uint32_t period, const uint8_t *msg,
		   size_t len, const uint8_t *sig, size_t siglen, struct lb_errmsg *em);

#endif
