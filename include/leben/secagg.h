/*
 * Secure aggregation among n data owners (Bonawitz et al., CCS 2017, double masking): each
 * owner adds to its fixed-point vector a self mask PRG(b_i) and pairwise masks ±PRG(s_ij),
 * s_ij from X25519 agreement between owners i and j, expanded with ChaCha20; the pairwise
 * masks cancel in the sum. Each owner Shamir-shares its self-mask seed b_i and its mask key
 * with threshold t; after the masked vectors arrive, every survivor reveals, for each owner,
 * either the b-share (owner survived) or the key share (owner dropped) — never both — so the
 * aggregator can remove the self masks of survivors and the dangling pairwise masks of
 * dropped owners, and learns only the sum over survivors.
 *
 * Arithmetic is mod 2^64 on two's-complement fixed-point values (lb_secagg_fixed_*); the true
 * sum must fit in an int64. Transport and authentication of the messages between owners and
 * aggregator (share delivery sealed with lb_envelope_*, signatures) are the caller's job.
 */
#ifndef LEBEN_SECAGG_H
#define LEBEN_SECAGG_H

#include <stddef.h>
#include <stdint.h>

#include "leben/error.h"
#include "leben/shamir.h"

#define LB_SECAGG_MAX_PARTIES 255
#define LB_SECAGG_SECRET_BYTES 35 /* kind 'B'/'S' | u16 owner id | 32-byte value */
#define LB_SECAGG_SHARE_BYTES LB_SHAMIR_SHARE_BYTES(LB_SECAGG_SECRET_BYTES)
/* what owner i hands owner j in round 1: its b-share then its key share */
#define LB_SECAGG_PAIR_BYTES (2 * LB_SECAGG_SHARE_BYTES)

/* One owner's state for one aggregation round (secret: wipe with lb_secagg_party_wipe). */
struct lb_secagg_party {
	unsigned id;        /* 1..n, position in the public key list */
	uint8_t pk[32];     /* X25519 mask key, published in round 0 */
	uint8_t sk[32];     /* its secret */
	uint8_t b[32];      /* self-mask seed */
	uint8_t round[32];  /* round id everyone agrees on (binds the masks to this round) */
};

/* Round 0: fresh keys for owner id of this round. */
int lb_secagg_party_init(struct lb_secagg_party *p, unsigned id, const uint8_t round[32]);
void lb_secagg_party_wipe(struct lb_secagg_party *p);
/* Round 1: share b and sk among the n owners with threshold t (n/2 < t <= n). out receives n
 * pairs of LB_SECAGG_PAIR_BYTES; pair j-1 goes (sealed) to owner j, pair id-1 stays here. */
int lb_secagg_share(const struct lb_secagg_party *p, size_t n, unsigned t, uint8_t *out,
		    struct lb_errmsg *em);
/* Round 2: y = x + PRG(b) + sum_{j != id} ±PRG(s_ij) (mod 2^64), pks = all n public keys
 * (pks[j-1] for owner j). */
int lb_secagg_mask(const struct lb_secagg_party *p, const uint8_t (*pks)[32], size_t n,
		   const uint64_t *x, size_t len, uint64_t *y, struct lb_errmsg *em);
/* Round 3: for each owner i, the pair this owner received from i (held[i-1], may be NULL if
 * never received) and whether the aggregator reports i alive. Writes to out[i-1] the b-share
 * (alive) or the key share (dropped), and reveal[i-1] = 1 if something was written. */
int lb_secagg_reveal(const struct lb_secagg_party *p, const uint8_t *const *held, size_t n,
		     const uint8_t *alive, uint8_t (*out)[LB_SECAGG_SHARE_BYTES], uint8_t *reveal,
		     struct lb_errmsg *em);
/* Aggregator: y[i-1] = masked vector of owner i or NULL (dropped); shares[i-1] = the k[i-1]
 * revealed shares about owner i (borrowed). Writes the sum over alive owners to sum. */
int lb_secagg_unmask(const uint8_t round[32], const uint8_t (*pks)[32], size_t n,
		     const uint64_t *const *y, size_t len, const uint8_t *const *const *shares,
		     const size_t *k, uint64_t *sum, struct lb_errmsg *em);

/* Fixed point: v * 2^frac_bits rounded, as a two's-complement uint64 (LB_ERANGE if it does
 * not fit); decode is the inverse. */
int lb_secagg_fixed_encode(double v, unsigned frac_bits, uint64_t *out);
double lb_secagg_fixed_decode(uint64_t v, unsigned frac_bits);

#endif
