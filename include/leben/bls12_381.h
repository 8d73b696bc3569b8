/*
 * BLS12-381: the pairing-friendly curve of Zcash, Ethereum 2 and the IETF drafts, written here
 * for attribute-based encryption. Base field Fp (381 bits) in Montgomery form on six 64-bit limbs,
 * the tower Fp2 = Fp[u]/(u^2+1), Fp6 = Fp2[v]/(v^3-(u+1)), Fp12 = Fp6[w]/(w^2-v); the groups
 * G1 (over Fp) and G2 (over Fp2, the M-twist) in homogeneous projective coordinates with the
 * complete formulas of Renes-Costello-Batina; the optimal ate pairing into GT (a subgroup of
 * Fp12*); compressed encodings in the zkcrypto/IETF format (48 and 96 bytes, three flag bits);
 * hash-to-curve of RFC 9380 (BLS12381G1_XMD:SHA-256_SSWU_RO_ and BLS12381G2_XMD:SHA-256_SSWU_RO_).
 *
 * Constant time: field arithmetic, point addition and doubling, scalar multiplication in G1/G2
 * (fixed 4-bit windows, table read by masks), exponentiation in GT and scalar arithmetic mod r
 * have no branch or memory index that depends on secret values. Decoding, hashing to the curve,
 * subgroup checks and the pairing work on public values and may branch on them.
 *
 * All structs are plain values: no heap, nothing to free. Pointers are borrowed for the call;
 * outputs may alias inputs. Design and evidence: docs/security.md, "BLS12-381".
 */
#ifndef LEBEN_BLS12_381_H
#define LEBEN_BLS12_381_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LB_BLS_G1_BYTES 48     /* compressed G1 point */
#define LB_BLS_G2_BYTES 96     /* compressed G2 point */
#define LB_BLS_GT_BYTES 576    /* an Fp12 element, 12 big-endian Fp values */
#define LB_BLS_SCALAR_BYTES 32 /* an integer mod r, big-endian */

/* An element of Fp, Montgomery form (a * 2^384 mod p), limbs least significant first. */
struct lb_bls_fp {
	uint64_t l[6]; /* the limbs */
};

/* c0 + c1 * u, u^2 = -1 */
struct lb_bls_fp2 {
	struct lb_bls_fp c0; /* real part */
	struct lb_bls_fp c1; /* coefficient of u */
};

/* c0 + c1 * v + c2 * v^2, v^3 = u + 1 */
struct lb_bls_fp6 {
	struct lb_bls_fp2 c0; /* constant coefficient */
	struct lb_bls_fp2 c1; /* coefficient of v */
	struct lb_bls_fp2 c2; /* coefficient of v^2 */
};

/* c0 + c1 * w, w^2 = v */
struct lb_bls_fp12 {
	struct lb_bls_fp6 c0; /* constant coefficient */
	struct lb_bls_fp6 c1; /* coefficient of w */
};

/* A point of E(Fp): y^2 = x^3 + 4, homogeneous projective (X:Y:Z), identity (0:1:0). */
struct lb_bls_g1 {
	struct lb_bls_fp x; /* X */
	struct lb_bls_fp y; /* Y */
	struct lb_bls_fp z; /* Z, zero for the identity */
};

/* A point of E'(Fp2): y^2 = x^3 + 4(u+1), homogeneous projective, identity (0:1:0). */
struct lb_bls_g2 {
	struct lb_bls_fp2 x; /* X */
	struct lb_bls_fp2 y; /* Y */
	struct lb_bls_fp2 z; /* Z, zero for the identity */
};

/* An element of GT (pairing values, the r-th roots of unity in Fp12). */
struct lb_bls_gt {
	struct lb_bls_fp12 f; /* the Fp12 value */
};

/* An integer mod r (the group order), Montgomery form mod r, limbs least significant first. */
struct lb_bls_scalar {
	uint64_t l[4]; /* the limbs */
};

/* ---- scalars mod r ---- */

/* Reads a 32-byte big-endian integer; LB_ERANGE if it is not below r (nothing written). */
int lb_bls_scalar_from_bytes(struct lb_bls_scalar *out, const uint8_t in[LB_BLS_SCALAR_BYTES]);
/* Reduces any byte string read as a big-endian integer (up to 64 bytes) mod r. */
void lb_bls_scalar_from_wide(struct lb_bls_scalar *out, const uint8_t *in, size_t len);
void lb_bls_scalar_to_bytes(uint8_t out[LB_BLS_SCALAR_BYTES], const struct lb_bls_scalar *s);
void lb_bls_scalar_from_u64(struct lb_bls_scalar *out, uint64_t v);
/* A uniformly random non-zero scalar (libsodium's randombytes). */
void lb_bls_scalar_random(struct lb_bls_scalar *out);
void lb_bls_scalar_add(struct lb_bls_scalar *out, const struct lb_bls_scalar *a,
		       const struct lb_bls_scalar *b);
void lb_bls_scalar_sub(struct lb_bls_scalar *out, const struct lb_bls_scalar *a,
		       const struct lb_bls_scalar *b);
void lb_bls_scalar_mul(struct lb_bls_scalar *out, const struct lb_bls_scalar *a,
		       const struct lb_bls_scalar *b);
void lb_bls_scalar_neg(struct lb_bls_scalar *out, const struct lb_bls_scalar *a);
/* out = 1/a by Fermat (constant time); the inverse of zero is zero. */
void lb_bls_scalar_inv(struct lb_bls_scalar *out, const struct lb_bls_scalar *a);
bool lb_bls_scalar_is_zero(const struct lb_bls_scalar *a);
bool lb_bls_scalar_equal(const struct lb_bls_scalar *a, const struct lb_bls_scalar *b);

/* ---- G1 ---- */

void lb_bls_g1_generator(struct lb_bls_g1 *out);
void lb_bls_g1_identity(struct lb_bls_g1 *out);
void lb_bls_g1_add(struct lb_bls_g1 *out, const struct lb_bls_g1 *a, const struct lb_bls_g1 *b);
void lb_bls_g1_double(struct lb_bls_g1 *out, const struct lb_bls_g1 *a);
void lb_bls_g1_neg(struct lb_bls_g1 *out, const struct lb_bls_g1 *a);
/* out = k * a, constant time in k. */
void lb_bls_g1_mul(struct lb_bls_g1 *out, const struct lb_bls_g1 *a, const struct lb_bls_scalar *k);
bool lb_bls_g1_equal(const struct lb_bls_g1 *a, const struct lb_bls_g1 *b);
bool lb_bls_g1_is_identity(const struct lb_bls_g1 *a);
/* On the curve and of order r (or the identity). */
bool lb_bls_g1_is_valid(const struct lb_bls_g1 *a);
void lb_bls_g1_compress(uint8_t out[LB_BLS_G1_BYTES], const struct lb_bls_g1 *a);
/* LB_EMALFORMED for bad flags or a coordinate not below p, LB_EINVALID for an x with no point
 * or a point outside the order-r subgroup; nothing written on error. */
int lb_bls_g1_decompress(struct lb_bls_g1 *out, const uint8_t in[LB_BLS_G1_BYTES]);
/* RFC 9380 hash_to_curve, suite BLS12381G1_XMD:SHA-256_SSWU_RO_; LB_EINVALID if dst is empty
 * or longer than 255 bytes. */
int lb_bls_g1_hash(struct lb_bls_g1 *out, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
		   size_t dst_len);

/* ---- G2 ---- */

void lb_bls_g2_generator(struct lb_bls_g2 *out);
void lb_bls_g2_identity(struct lb_bls_g2 *out);
void lb_bls_g2_add(struct lb_bls_g2 *out, const struct lb_bls_g2 *a, const struct lb_bls_g2 *b);
void lb_bls_g2_double(struct lb_bls_g2 *out, const struct lb_bls_g2 *a);
void lb_bls_g2_neg(struct lb_bls_g2 *out, const struct lb_bls_g2 *a);
void lb_bls_g2_mul(struct lb_bls_g2 *out, const struct lb_bls_g2 *a, const struct lb_bls_scalar *k);
bool lb_bls_g2_equal(const struct lb_bls_g2 *a, const struct lb_bls_g2 *b);
bool lb_bls_g2_is_identity(const struct lb_bls_g2 *a);
bool lb_bls_g2_is_valid(const struct lb_bls_g2 *a);
void lb_bls_g2_compress(uint8_t out[LB_BLS_G2_BYTES], const struct lb_bls_g2 *a);
int lb_bls_g2_decompress(struct lb_bls_g2 *out, const uint8_t in[LB_BLS_G2_BYTES]);
int lb_bls_g2_hash(struct lb_bls_g2 *out, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
		   size_t dst_len);

/* ---- pairing and GT ---- */

/* out = e(p, q), the optimal ate pairing; e(O, q) = e(p, O) = 1. */
void lb_bls_pairing(struct lb_bls_gt *out, const struct lb_bls_g1 *p, const struct lb_bls_g2 *q);
/* out = prod e(p[i], q[i]) with one final exponentiation (n may be 0: out = 1). */
void lb_bls_pairing_product(struct lb_bls_gt *out, const struct lb_bls_g1 *p,
			    const struct lb_bls_g2 *q, size_t n);
void lb_bls_gt_one(struct lb_bls_gt *out);
void lb_bls_gt_mul(struct lb_bls_gt *out, const struct lb_bls_gt *a, const struct lb_bls_gt *b);
/* out = a^-1 (the conjugate: GT elements are unitary). */
void lb_bls_gt_inv(struct lb_bls_gt *out, const struct lb_bls_gt *a);
/* out = a^k, constant time in k. */
void lb_bls_gt_pow(struct lb_bls_gt *out, const struct lb_bls_gt *a, const struct lb_bls_scalar *k);
bool lb_bls_gt_equal(const struct lb_bls_gt *a, const struct lb_bls_gt *b);
bool lb_bls_gt_is_one(const struct lb_bls_gt *a);
/* 576 bytes: c0.c0.c0, c0.c0.c1, c0.c1.c0, ... c1.c2.c1, each 48 bytes big-endian (the order
 * of @noble/curves' Fp12.toBytes). */
void lb_bls_gt_to_bytes(uint8_t out[LB_BLS_GT_BYTES], const struct lb_bls_gt *a);
/* The inverse of lb_bls_gt_to_bytes: LB_EMALFORMED for a value not below p, LB_EINVALID for an
 * element outside GT (a^r != 1); nothing written on error. */
int lb_bls_gt_from_bytes(struct lb_bls_gt *out, const uint8_t in[LB_BLS_GT_BYTES]);

#endif
