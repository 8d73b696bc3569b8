/*
 * (t, n) threshold secret sharing: Shamir's scheme over GF(2^8) (AES polynomial
 * x^8 + x^4 + x^3 + x + 1), evaluated byte by byte in constant time (no tables indexed by
 * secret values). Any t shares recover the secret; t - 1 reveal nothing about it.
 *
 * Two layers:
 *  - raw shares, byte-compatible with the npm package `shamir-secret-sharing`:
 *    y[0..len-1] || x, one byte per secret byte plus the x coordinate (1..255);
 *  - authenticated shares (what LEBEN stores and hands to guardians):
 *      "LBSS" | version 1 | t | n | u16 secret length | set id (16) | commitment (32)
 *      | raw share of (secret || blind[16]) | checksum (16)
 *    commitment = BLAKE2b-256("LEBEN shamir v1" | set id | t | n | secret | blind): a hiding,
 *    binding commitment recomputed after combining, so a tampered share or a share from another
 *    split is detected (LB_ETAMPERED / LB_EINVALID); the checksum over the share body catches
 *    accidental corruption of one share and names it (LB_ECHECKSUM).
 * Refused: t < 2, t > n, n > 255 (LB_EINVALID), duplicate x coordinates (LB_EDUPLICATE),
 * fewer than t authenticated shares (LB_EINVALID).
 */
#ifndef LEBEN_SHAMIR_H
#define LEBEN_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#include "leben/error.h"

#define LB_SHAMIR_MAX_SHARES 255
#define LB_SHAMIR_MAX_SECRET 4096
/* Size of one authenticated share for a secret of len bytes. */
#define LB_SHAMIR_SHARE_BYTES(len) (4 + 1 + 1 + 1 + 2 + 16 + 32 + (len) + 16 + 1 + 16)

/* Raw split: writes n shares of len + 1 bytes each, back to back, into shares (caller buffer of
 * n * (len + 1) bytes). x coordinates are distinct, random in 1..255. */
int lb_shamir_split_raw(const uint8_t *secret, size_t len, unsigned n, unsigned t,
			uint8_t *shares, struct lb_errmsg *em);
/* Raw combine of k shares (borrowed pointers), each share_len bytes, into secret (caller buffer
 * of share_len - 1 bytes). Raw shares carry no integrity: wrong shares give a wrong secret. */
int lb_shamir_combine_raw(const uint8_t *const *shares, size_t k, size_t share_len,
			  uint8_t *secret, struct lb_errmsg *em);

/* Authenticated split: n shares of LB_SHAMIR_SHARE_BYTES(len) bytes each, back to back. */
int lb_shamir_split(const uint8_t *secret, size_t len, unsigned n, unsigned t, uint8_t *shares,
		    struct lb_errmsg *em);
/* Authenticated combine of k shares (k >= t) of share_len bytes each. The secret is written to
 * secret (caller buffer of at least LB_SHAMIR_MAX_SECRET bytes or the known length) and its
 * length to *len; it is written only after the commitment matched. */
int lb_shamir_combine(const uint8_t *const *shares, size_t k, size_t share_len, uint8_t *secret,
		      size_t *len, struct lb_errmsg *em);

/* Public facts about an authenticated share (no secret): parse and checksum it. */
struct lb_shamir_info {
	unsigned t, n;       /* threshold and number of shares of the split */
	unsigned x;          /* this share's x coordinate (1..255) */
	size_t secret_len;   /* length of the shared secret */
	uint8_t set_id[16];  /* random id common to all shares of one split */
	uint8_t commit[32];  /* commitment to the secret (see above) */
};
int lb_shamir_share_info(const uint8_t *share, size_t share_len, struct lb_shamir_info *info,
			 struct lb_errmsg *em);

/* ---- guardian record (business chain, written by `keys split`) --------------------------
 * Records who holds a share of an account's key, never the share itself. Canonical bytes:
 *   version 1 | account (32) | set id (16) | commitment (32) | u8 t | u8 n
 *   | n x ( guardian public key (32) | u8 x ), x strictly ascending, guardians distinct.
 * The ledger's handler: decode (rejects non-canonical input), lb_guardian_record_check,
 * require the tx sender to be `account`, store it (replacing an older record). */
struct lb_guardian_entry {
	uint8_t guardian[32]; /* the guardian's identity public key */
	uint8_t x;            /* x coordinate of the share sealed to it */
};
struct lb_guardian_record {
	uint8_t account[32];  /* whose key was split */
	uint8_t set_id[16];   /* from the shares (lb_shamir_info) */
	uint8_t commit[32];   /* from the shares: lets a recovery check the combined key */
	unsigned t, n;        /* threshold and number of guardians */
	struct lb_guardian_entry g[LB_SHAMIR_MAX_SHARES];
};
#define LB_GUARDIAN_RECORD_MAXBYTES (1 + 32 + 16 + 32 + 2 + LB_SHAMIR_MAX_SHARES * 33)
int lb_guardian_record_check(const struct lb_guardian_record *r, struct lb_errmsg *em);
int lb_guardian_record_encode(const struct lb_guardian_record *r, uint8_t *out, size_t *outlen,
			      struct lb_errmsg *em);
int lb_guardian_record_decode(struct lb_guardian_record *r, const uint8_t *in, size_t len,
			      struct lb_errmsg *em);
/* Fill r from n authenticated shares (same split) and the guardian keys they go to, in the
 * same order; entries are sorted by x. */
int lb_guardian_record_from_shares(struct lb_guardian_record *r, const uint8_t account[32],
				   const uint8_t *const *shares, size_t share_len,
				   const uint8_t (*guardians)[32], size_t n, struct lb_errmsg *em);

/* Guardian flow helpers for `keys split` / `keys recover`. Split secret (t of n), seal share i
 * to guardian i's Ed25519 identity key (converted to X25519, level-1 envelope) into
 * envelopes[i] (allocated, caller frees each with lb_free; lengths in env_lens) and fill rec.
 * Guardians' identity keys must be distinct. */
int lb_guardian_split(const uint8_t account[32], const uint8_t *secret, size_t len, unsigned t,
		      const uint8_t (*guardian_ed_pks)[32], size_t n, uint8_t **envelopes,
		      size_t *env_lens, struct lb_guardian_record *rec, struct lb_errmsg *em);
/* Combine k authenticated shares (opened by the guardians) after checking that they belong to
 * the split described by rec (same split id and commitment): LB_EINVALID otherwise. */
int lb_guardian_recover(const struct lb_guardian_record *rec, const uint8_t *const *shares,
			size_t k, size_t share_len, uint8_t *secret, size_t *len,
			struct lb_errmsg *em);

#endif
