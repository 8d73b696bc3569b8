/*
 * Internals of the BLS12-381 files (bls12_381_field.c, _curve.c, _pairing.c, _hash.c): the
 * field and tower operations, shared by the curve, the pairing and hash-to-curve. Not API.
 */
#ifndef LEBEN_BLS12_381_INT_H
#define LEBEN_BLS12_381_INT_H

#include "leben/bls12_381.h"

typedef struct lb_bls_fp fp;
typedef struct lb_bls_fp2 fp2;
typedef struct lb_bls_fp6 fp6;
typedef struct lb_bls_fp12 fp12;

extern const fp BLS_FP_ONE_C;
extern const fp2 BLS_FP2_ONE_C;

/* Fp: every function is constant time unless named _vartime. */
void fp_zero(fp *o);
void fp_add(fp *o, const fp *a, const fp *b);
void fp_sub(fp *o, const fp *a, const fp *b);
void fp_neg(fp *o, const fp *a);
void fp_dbl(fp *o, const fp *a);
void fp_mul(fp *o, const fp *a, const fp *b);
void fp_sqr(fp *o, const fp *a);
void fp_inv(fp *o, const fp *a);
/* 1 when a is a square (or zero) */
uint64_t fp_is_square(const fp *a);
/* o = a^((p+1)/4); returns 1 when o^2 = a */
uint64_t fp_sqrt(fp *o, const fp *a);
uint64_t fp_is_zero(const fp *a);
uint64_t fp_eq(const fp *a, const fp *b);
/* o = b when c (0 or 1) is 1, else a */
void fp_cmov(fp *o, const fp *b, uint64_t c);
uint64_t fp_sgn0(const fp *a);
/* 1 when a > (p-1)/2 (the "lexicographically largest" of a and -a) */
uint64_t fp_lex_largest(const fp *a);
/* 48 bytes big-endian; 0 when the value is not below p */
int fp_from_bytes(fp *o, const uint8_t in[48]);
void fp_to_bytes(uint8_t out[48], const fp *a);
/* 64 bytes big-endian reduced mod p */
void fp_from_wide(fp *o, const uint8_t in[64]);
void fp_from_u64(fp *o, uint64_t v);

void fp2_zero(fp2 *o);
void fp2_one(fp2 *o);
void fp2_add(fp2 *o, const fp2 *a, const fp2 *b);
void fp2_sub(fp2 *o, const fp2 *a, const fp2 *b);
void fp2_neg(fp2 *o, const fp2 *a);
void fp2_dbl(fp2 *o, const fp2 *a);
void fp2_conj(fp2 *o, const fp2 *a);
void fp2_mul(fp2 *o, const fp2 *a, const fp2 *b);
void fp2_mul_fp(fp2 *o, const fp2 *a, const fp *b);
void fp2_sqr(fp2 *o, const fp2 *a);
/* o = a * (u + 1) */
void fp2_mul_xi(fp2 *o, const fp2 *a);
void fp2_inv(fp2 *o, const fp2 *a);
uint64_t fp2_is_zero(const fp2 *a);
uint64_t fp2_eq(const fp2 *a, const fp2 *b);
void fp2_cmov(fp2 *o, const fp2 *b, uint64_t c);
uint64_t fp2_sgn0(const fp2 *a);
uint64_t fp2_lex_largest(const fp2 *a);
uint64_t fp2_is_square(const fp2 *a);
/* returns 1 and a root when a is a square */
uint64_t fp2_sqrt(fp2 *o, const fp2 *a);

void fp6_zero(fp6 *o);
void fp6_add(fp6 *o, const fp6 *a, const fp6 *b);
void fp6_sub(fp6 *o, const fp6 *a, const fp6 *b);
void fp6_neg(fp6 *o, const fp6 *a);
void fp6_mul(fp6 *o, const fp6 *a, const fp6 *b);
void fp6_sqr(fp6 *o, const fp6 *a);
void fp6_mul_v(fp6 *o, const fp6 *a);
void fp6_mul_01(fp6 *o, const fp6 *a, const fp2 *c0, const fp2 *c1);
void fp6_mul_1(fp6 *o, const fp6 *a, const fp2 *c1);
void fp6_inv(fp6 *o, const fp6 *a);
void fp6_frobenius(fp6 *o, const fp6 *a);

void fp12_one(fp12 *o);
void fp12_mul(fp12 *o, const fp12 *a, const fp12 *b);
void fp12_sqr(fp12 *o, const fp12 *a);
void fp12_conj(fp12 *o, const fp12 *a);
void fp12_inv(fp12 *o, const fp12 *a);
void fp12_frobenius(fp12 *o, const fp12 *a);
/* multiply by the sparse line c0 + c1 w + c4 v w (coefficients 0, 1 and 4 of the 6) */
void fp12_mul_014(fp12 *o, const fp12 *a, const fp2 *c0, const fp2 *c1, const fp2 *c4);
void fp12_cyclotomic_sqr(fp12 *o, const fp12 *a);
uint64_t fp12_eq(const fp12 *a, const fp12 *b);
void fp12_cmov(fp12 *o, const fp12 *b, uint64_t c);

/* the integer value of a scalar, limbs least significant first */
void fr_to_int(uint64_t out[4], const struct lb_bls_scalar *s);

/* affine coordinates of a point that is not the identity */
void bls_g1_to_affine(fp *x, fp *y, const struct lb_bls_g1 *a);
void bls_g2_to_affine(fp2 *x, fp2 *y, const struct lb_bls_g2 *a);
/* multiply by the effective cofactors of RFC 9380 (h_eff), the last step of hash-to-curve */
void bls_g1_clear_cofactor(struct lb_bls_g1 *out, const struct lb_bls_g1 *a);
void bls_g2_clear_cofactor(struct lb_bls_g2 *out, const struct lb_bls_g2 *a);

/* expand_message_xmd with SHA-256 (RFC 9380 5.3.1); 0 when the lengths are out of range */
int bls_expand_xmd(uint8_t *out, size_t out_len, const uint8_t *msg, size_t msg_len,
		   const uint8_t *dst, size_t dst_len);

#endif
