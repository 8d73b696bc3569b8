/*
 * BLS12-381 fields: Fp in Montgomery form on six 64-bit limbs (CIOS multiplication with 128-bit
 * products), the tower Fp2/Fp6/Fp12 (Karatsuba), the Frobenius maps and the cyclotomic squaring
 * of the final exponentiation, and scalars mod r on four limbs. Everything here is constant time:
 * no branch and no memory index depends on the values; exponents are public constants.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/bls12_381_consts.h"
#include "crypto/bls12_381_int.h"
#include "leben/error.h"

__extension__ typedef unsigned __int128 u128;

static const uint64_t P[6] = BLS_P_LIMBS;
static const uint64_t R_ORDER[4] = BLS_R_LIMBS;
const fp BLS_FP_ONE_C = BLS_ONE;
const fp2 BLS_FP2_ONE_C = {BLS_ONE, {{0}}};
static const fp FP_R2 = BLS_R2;
static const fp FP_R3 = BLS_R3;
static const fp2 FROB6_C1 = BLS_FROB6_C1;
static const fp2 FROB6_C2 = BLS_FROB6_C2;
static const fp2 FROB12_C1 = BLS_FROB12_C1;

/* ---- multi-precision helpers (n limbs, constant time) ---- */

/* o = a - m when a (with the extra top word hi) is at least m, else a */
static inline void mp_reduce_once(uint64_t *o, const uint64_t *a, uint64_t hi, const uint64_t *m, int n)
{
	uint64_t s[6], borrow = 0;
	for (int i = 0; i < n; i++) {
		u128 d = (u128)a[i] - m[i] - borrow;
		s[i] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	/* keep a when the subtraction borrowed past hi (hi is 0 or 1) */
	uint64_t keep = (uint64_t)0 - (borrow & (hi ^ 1));
	for (int i = 0; i < n; i++)
		o[i] = (a[i] & keep) | (s[i] & ~keep);
}

static inline void mont_mul(uint64_t *o, const uint64_t *a, const uint64_t *b, const uint64_t *m,
			    uint64_t inv, int n)
{
	uint64_t t[8] = {0};
	for (int i = 0; i < n; i++) {
		u128 c = 0;
		for (int j = 0; j < n; j++) {
			c = (u128)a[j] * b[i] + t[j] + (uint64_t)(c >> 64);
			t[j] = (uint64_t)c;
		}
		c = (u128)t[n] + (uint64_t)(c >> 64);
		t[n] = (uint64_t)c;
		t[n + 1] = (uint64_t)(c >> 64);
		uint64_t q = t[0] * inv;
		c = (u128)q * m[0] + t[0];
		for (int j = 1; j < n; j++) {
			c = (u128)q * m[j] + t[j] + (uint64_t)(c >> 64);
			t[j - 1] = (uint64_t)c;
		}
		c = (u128)t[n] + (uint64_t)(c >> 64);
		t[n - 1] = (uint64_t)c;
		t[n] = t[n + 1] + (uint64_t)(c >> 64);
	}
	mp_reduce_once(o, t, t[n], m, n);
}

static inline void mod_add(uint64_t *o, const uint64_t *a, const uint64_t *b, const uint64_t *m, int n)
{
	uint64_t t[6];
	u128 c = 0;
	for (int i = 0; i < n; i++) {
		c = (u128)a[i] + b[i] + (uint64_t)(c >> 64);
		t[i] = (uint64_t)c;
	}
	mp_reduce_once(o, t, (uint64_t)(c >> 64), m, n);
}

static inline void mod_sub(uint64_t *o, const uint64_t *a, const uint64_t *b, const uint64_t *m, int n)
{
	uint64_t t[6], borrow = 0;
	for (int i = 0; i < n; i++) {
		u128 d = (u128)a[i] - b[i] - borrow;
		t[i] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	uint64_t mask = (uint64_t)0 - borrow;
	u128 c = 0;
	for (int i = 0; i < n; i++) {
		c = (u128)t[i] + (m[i] & mask) + (uint64_t)(c >> 64);
		o[i] = (uint64_t)c;
	}
}

/* ---- Fp ---- */

void fp_zero(fp *o) { memset(o, 0, sizeof *o); }

/* o = a + b mod p: the sum fits in 6 limbs (p < 2^382), then one conditional subtraction */
void fp_add(fp *o, const fp *a, const fp *b)
{
	uint64_t t[6], s[6], borrow = 0;
	u128 c = 0;
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++) {
		c = (u128)a->l[i] + b->l[i] + (uint64_t)(c >> 64);
		t[i] = (uint64_t)c;
	}
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++) {
		u128 d = (u128)t[i] - P[i] - borrow;
		s[i] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	uint64_t keep = 0 - borrow;
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++)
		o->l[i] = (t[i] & keep) | (s[i] & ~keep);
}

void fp_sub(fp *o, const fp *a, const fp *b)
{
	uint64_t t[6], borrow = 0;
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++) {
		u128 d = (u128)a->l[i] - b->l[i] - borrow;
		t[i] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	uint64_t mask = 0 - borrow;
	u128 c = 0;
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++) {
		c = (u128)t[i] + (P[i] & mask) + (uint64_t)(c >> 64);
		o->l[i] = (uint64_t)c;
	}
}

void fp_dbl(fp *o, const fp *a) { fp_add(o, a, a); }

/* Montgomery multiplication, CIOS without the extra carry word: valid for a, b < p because
 * the top limb of p is below 2^63 - 1 (the "no-carry" variant used by gnark and others) */
void fp_mul(fp *o, const fp *a, const fp *b)
{
	uint64_t t[6] = {0}, s[6], borrow = 0;
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++) {
		u128 A = (u128)a->l[0] * b->l[i] + t[0];
		t[0] = (uint64_t)A;
		uint64_t m = t[0] * BLS_P_INV;
		u128 C = (u128)m * P[0] + t[0];
#pragma GCC unroll 6
		for (int j = 1; j < 6; j++) {
			A = (u128)a->l[j] * b->l[i] + t[j] + (uint64_t)(A >> 64);
			t[j] = (uint64_t)A;
			C = (u128)m * P[j] + t[j] + (uint64_t)(C >> 64);
			t[j - 1] = (uint64_t)C;
		}
		t[5] = (uint64_t)(C >> 64) + (uint64_t)(A >> 64);
	}
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++) {
		u128 d = (u128)t[i] - P[i] - borrow;
		s[i] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	uint64_t keep = 0 - borrow;
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++)
		o->l[i] = (t[i] & keep) | (s[i] & ~keep);
}

/* t[0..12) = a * b, schoolbook (a, b < 2^384) */
static inline void mul_wide(uint64_t t[12], const uint64_t a[6], const uint64_t b[6])
{
	memset(t, 0, 12 * sizeof *t);
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++) {
		u128 c = 0;
#pragma GCC unroll 6
		for (int j = 0; j < 6; j++) {
			c = (u128)a[j] * b[i] + t[i + j] + (uint64_t)(c >> 64);
			t[i + j] = (uint64_t)c;
		}
		t[i + 6] = (uint64_t)(c >> 64);
	}
}

/* o = t / 2^384 mod p for t < p * 2^384 (Montgomery reduction of a double-width value) */
static inline void redc_wide(fp *o, uint64_t t[12])
{
	uint64_t carry = 0, s[6], borrow = 0;
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++) {
		uint64_t m = t[i] * BLS_P_INV;
		u128 c = 0;
#pragma GCC unroll 6
		for (int j = 0; j < 6; j++) {
			c = (u128)m * P[j] + t[i + j] + (uint64_t)(c >> 64);
			t[i + j] = (uint64_t)c;
		}
		c = (u128)t[i + 6] + (uint64_t)(c >> 64) + carry;
		t[i + 6] = (uint64_t)c;
		carry = (uint64_t)(c >> 64);
	}
	/* t[6..12) < 2p: one conditional subtraction */
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++) {
		u128 d = (u128)t[6 + i] - P[i] - borrow;
		s[i] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	uint64_t keep = 0 - (borrow & (carry ^ 1));
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++)
		o->l[i] = (t[6 + i] & keep) | (s[i] & ~keep);
}

/* o = a^2: the products a_i a_j (i < j) once, doubled, plus the squares; then one reduction */
void fp_sqr(fp *o, const fp *a)
{
	uint64_t t[12] = {0};
	const uint64_t *x = a->l;
#pragma GCC unroll 5
	for (int i = 0; i < 5; i++) {
		u128 c = 0;
#pragma GCC unroll 5
		for (int j = i + 1; j < 6; j++) {
			c = (u128)x[i] * x[j] + t[i + j] + (uint64_t)(c >> 64);
			t[i + j] = (uint64_t)c;
		}
		t[i + 6] = (uint64_t)(c >> 64);
	}
	/* double (the top bit of t is clear: the cross sum is below 2^767) */
	for (int i = 11; i > 0; i--)
		t[i] = (t[i] << 1) | (t[i - 1] >> 63);
	t[0] <<= 1;
	u128 c = 0;
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++) {
		u128 sq = (u128)x[i] * x[i];
		c = (u128)t[2 * i] + (uint64_t)sq + (uint64_t)(c >> 64);
		t[2 * i] = (uint64_t)c;
		c = (u128)t[2 * i + 1] + (uint64_t)(sq >> 64) + (uint64_t)(c >> 64);
		t[2 * i + 1] = (uint64_t)c;
	}
	redc_wide(o, t);
}

/* a + b without reduction (both < p, so the sum < 2p < 2^382 fits) */
static inline void add_nr(uint64_t o[6], const uint64_t a[6], const uint64_t b[6])
{
	u128 c = 0;
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++) {
		c = (u128)a[i] + b[i] + (uint64_t)(c >> 64);
		o[i] = (uint64_t)c;
	}
}

/* double-width o = a - b + (b > a ? p * 2^384 : 0), inputs < p * 2^384 */
static inline void sub_wide(uint64_t o[12], const uint64_t a[12], const uint64_t b[12])
{
	uint64_t borrow = 0;
#pragma GCC unroll 12
	for (int i = 0; i < 12; i++) {
		u128 d = (u128)a[i] - b[i] - borrow;
		o[i] = (uint64_t)d;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	uint64_t mask = 0 - borrow;
	u128 c = 0;
#pragma GCC unroll 6
	for (int i = 0; i < 6; i++) {
		c = (u128)o[6 + i] + (P[i] & mask) + (uint64_t)(c >> 64);
		o[6 + i] = (uint64_t)c;
	}
}

void fp_neg(fp *o, const fp *a)
{
	fp z;
	fp_zero(&z);
	fp_sub(o, &z, a);
}

void fp_from_u64(fp *o, uint64_t v)
{
	fp t;
	fp_zero(&t);
	t.l[0] = v;
	fp_mul(o, &t, &FP_R2);
}

/* o = a^e for a public exponent e (n limbs) */
static void fp_pow(fp *o, const fp *a, const uint64_t *e, int n)
{
	fp r = BLS_FP_ONE_C, b = *a;
	for (int i = n * 64 - 1; i >= 0; i--) {
		fp_sqr(&r, &r);
		if ((e[i / 64] >> (i % 64)) & 1)
			fp_mul(&r, &r, &b);
	}
	*o = r;
}

/* the exponents (p - k) >> s */
static void p_exp(uint64_t e[6], uint64_t k, int add, int shift)
{
	memcpy(e, P, sizeof P);
	if (add)
		e[0] += k; /* no carry: the low limb of p is 0xb9feffffffffaaab */
	else
		e[0] -= k;
	for (int s = 0; s < shift; s++) {
		for (int i = 0; i < 6; i++)
			e[i] = (e[i] >> 1) | (i < 5 ? e[i + 1] << 63 : 0);
	}
}

void fp_inv(fp *o, const fp *a)
{
	uint64_t e[6];
	p_exp(e, 2, 0, 0);
	fp_pow(o, a, e, 6);
}

uint64_t fp_is_zero(const fp *a)
{
	uint64_t acc = 0;
	for (int i = 0; i < 6; i++)
		acc |= a->l[i];
	return ((acc | (0 - acc)) >> 63) ^ 1;
}

uint64_t fp_eq(const fp *a, const fp *b)
{
	uint64_t acc = 0;
	for (int i = 0; i < 6; i++)
		acc |= a->l[i] ^ b->l[i];
	return ((acc | (0 - acc)) >> 63) ^ 1;
}

void fp_cmov(fp *o, const fp *b, uint64_t c)
{
	uint64_t m = 0 - c;
	for (int i = 0; i < 6; i++)
		o->l[i] = (o->l[i] & ~m) | (b->l[i] & m);
}

uint64_t fp_is_square(const fp *a)
{
	uint64_t e[6];
	fp t;
	p_exp(e, 1, 0, 1);
	fp_pow(&t, a, e, 6);
	return fp_eq(&t, &BLS_FP_ONE_C) | fp_is_zero(a);
}

uint64_t fp_sqrt(fp *o, const fp *a)
{
	uint64_t e[6];
	fp t, s;
	p_exp(e, 1, 1, 2);
	fp_pow(&t, a, e, 6);
	fp_sqr(&s, &t);
	*o = t;
	return fp_eq(&s, a);
}

static void fp_from_mont(uint64_t out[6], const fp *a)
{
	fp one;
	fp_zero(&one);
	one.l[0] = 1;
	fp t;
	fp_mul(&t, a, &one);
	memcpy(out, t.l, sizeof t.l);
}

uint64_t fp_sgn0(const fp *a)
{
	uint64_t v[6];
	fp_from_mont(v, a);
	return v[0] & 1;
}

uint64_t fp_lex_largest(const fp *a)
{
	/* a > (p-1)/2  <=>  (p-1)/2 - a borrows */
	uint64_t v[6], h[6], borrow = 0;
	fp_from_mont(v, a);
	p_exp(h, 1, 0, 1);
	for (int i = 0; i < 6; i++) {
		u128 d = (u128)h[i] - v[i] - borrow;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	return borrow;
}

int fp_from_bytes(fp *o, const uint8_t in[48])
{
	fp t;
	for (int i = 0; i < 6; i++) {
		uint64_t w = 0;
		for (int j = 0; j < 8; j++)
			w = (w << 8) | in[(5 - i) * 8 + j];
		t.l[i] = w;
	}
	uint64_t borrow = 0;
	for (int i = 0; i < 6; i++) {
		u128 d = (u128)t.l[i] - P[i] - borrow;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	if (!borrow)
		return 0;
	fp_mul(o, &t, &FP_R2);
	return 1;
}

void fp_to_bytes(uint8_t out[48], const fp *a)
{
	uint64_t v[6];
	fp_from_mont(v, a);
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 8; j++)
			out[(5 - i) * 8 + j] = (uint8_t)(v[i] >> (56 - 8 * j));
}

void fp_from_wide(fp *o, const uint8_t in[64])
{
	/* in = hi * 2^384 + lo with hi < 2^128; lo*R2 and hi*R3 in Montgomery form */
	fp lo, hi;
	fp_zero(&hi);
	for (int i = 0; i < 6; i++) {
		uint64_t w = 0;
		for (int j = 0; j < 8; j++)
			w = (w << 8) | in[16 + (5 - i) * 8 + j];
		lo.l[i] = w;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t w = 0;
		for (int j = 0; j < 8; j++)
			w = (w << 8) | in[(1 - i) * 8 + j];
		hi.l[i] = w;
	}
	/* lo may exceed p: the generic multiplication (with the carry word) takes any lo < 2^384 */
	mont_mul(lo.l, lo.l, FP_R2.l, P, BLS_P_INV, 6);
	mont_mul(hi.l, hi.l, FP_R3.l, P, BLS_P_INV, 6);
	fp_add(o, &lo, &hi);
}

/* ---- Fp2 ---- */

void fp2_zero(fp2 *o) { memset(o, 0, sizeof *o); }
void fp2_one(fp2 *o) { *o = BLS_FP2_ONE_C; }

void fp2_add(fp2 *o, const fp2 *a, const fp2 *b)
{
	fp_add(&o->c0, &a->c0, &b->c0);
	fp_add(&o->c1, &a->c1, &b->c1);
}

void fp2_sub(fp2 *o, const fp2 *a, const fp2 *b)
{
	fp_sub(&o->c0, &a->c0, &b->c0);
	fp_sub(&o->c1, &a->c1, &b->c1);
}

void fp2_dbl(fp2 *o, const fp2 *a)
{
	fp_dbl(&o->c0, &a->c0);
	fp_dbl(&o->c1, &a->c1);
}

void fp2_neg(fp2 *o, const fp2 *a)
{
	fp_neg(&o->c0, &a->c0);
	fp_neg(&o->c1, &a->c1);
}

void fp2_conj(fp2 *o, const fp2 *a)
{
	o->c0 = a->c0;
	fp_neg(&o->c1, &a->c1);
}

/* Karatsuba with lazy reduction: three double-width products, two reductions */
void fp2_mul(fp2 *o, const fp2 *a, const fp2 *b)
{
	uint64_t t0[12], t1[12], t2[12], sa[6], sb[6];
	mul_wide(t0, a->c0.l, b->c0.l);
	mul_wide(t1, a->c1.l, b->c1.l);
	add_nr(sa, a->c0.l, a->c1.l);
	add_nr(sb, b->c0.l, b->c1.l);
	mul_wide(t2, sa, sb);
	/* c1 = (a0 + a1)(b0 + b1) - a0 b0 - a1 b1 = a0 b1 + a1 b0 >= 0, below 2p^2 */
	uint64_t borrow = 0;
#pragma GCC unroll 12
	for (int i = 0; i < 12; i++) {
		u128 d = (u128)t2[i] - t0[i] - t1[i] - borrow;
		t2[i] = (uint64_t)d;
		borrow = (uint64_t)(-(int64_t)(uint64_t)(d >> 64)); /* 0, 1 or 2 */
	}
	redc_wide(&o->c1, t2);
	/* c0 = a0 b0 - a1 b1 (+ p 2^384 when negative), below p 2^384 */
	sub_wide(t0, t0, t1);
	redc_wide(&o->c0, t0);
}

void fp2_mul_fp(fp2 *o, const fp2 *a, const fp *b)
{
	fp_mul(&o->c0, &a->c0, b);
	fp_mul(&o->c1, &a->c1, b);
}

void fp2_sqr(fp2 *o, const fp2 *a)
{
	fp s, d, m;
	fp_add(&s, &a->c0, &a->c1);
	fp_sub(&d, &a->c0, &a->c1);
	fp_mul(&m, &a->c0, &a->c1);
	fp_mul(&o->c0, &s, &d);
	fp_dbl(&o->c1, &m);
}

void fp2_mul_xi(fp2 *o, const fp2 *a)
{
	fp t;
	fp_sub(&t, &a->c0, &a->c1);
	fp_add(&o->c1, &a->c0, &a->c1);
	o->c0 = t;
}

void fp2_inv(fp2 *o, const fp2 *a)
{
	fp n, t;
	fp_sqr(&n, &a->c0);
	fp_sqr(&t, &a->c1);
	fp_add(&n, &n, &t);
	fp_inv(&n, &n);
	fp_mul(&o->c0, &a->c0, &n);
	fp_mul(&t, &a->c1, &n);
	fp_neg(&o->c1, &t);
}

uint64_t fp2_is_zero(const fp2 *a) { return fp_is_zero(&a->c0) & fp_is_zero(&a->c1); }
uint64_t fp2_eq(const fp2 *a, const fp2 *b) { return fp_eq(&a->c0, &b->c0) & fp_eq(&a->c1, &b->c1); }

void fp2_cmov(fp2 *o, const fp2 *b, uint64_t c)
{
	fp_cmov(&o->c0, &b->c0, c);
	fp_cmov(&o->c1, &b->c1, c);
}

uint64_t fp2_sgn0(const fp2 *a)
{
	uint64_t s0 = fp_sgn0(&a->c0), z0 = fp_is_zero(&a->c0), s1 = fp_sgn0(&a->c1);
	return s0 | (z0 & s1);
}

uint64_t fp2_lex_largest(const fp2 *a)
{
	return fp_lex_largest(&a->c1) | (fp_is_zero(&a->c1) & fp_lex_largest(&a->c0));
}

uint64_t fp2_is_square(const fp2 *a)
{
	fp n, t;
	fp_sqr(&n, &a->c0);
	fp_sqr(&t, &a->c1);
	fp_add(&n, &n, &t);
	return fp_is_square(&n);
}

static void fp2_pow(fp2 *o, const fp2 *a, const uint64_t *e, int n)
{
	fp2 r = BLS_FP2_ONE_C, b = *a;
	for (int i = n * 64 - 1; i >= 0; i--) {
		fp2_sqr(&r, &r);
		if ((e[i / 64] >> (i % 64)) & 1)
			fp2_mul(&r, &r, &b);
	}
	*o = r;
}

uint64_t fp2_sqrt(fp2 *o, const fp2 *a)
{
	/* p = 3 mod 4: Adj and Rodriguez-Henriquez, "Square root computation over even
	 * extension fields", algorithm 9 */
	uint64_t e[6];
	fp2 a1, alpha, x0, x, b, minus1, t, ix0;
	p_exp(e, 3, 0, 2);
	fp2_pow(&a1, a, e, 6);
	fp2_sqr(&alpha, &a1);
	fp2_mul(&alpha, &alpha, a);
	fp2_mul(&x0, &a1, a);
	fp2_neg(&minus1, &BLS_FP2_ONE_C);
	p_exp(e, 1, 0, 1);
	fp2_add(&b, &alpha, &BLS_FP2_ONE_C);
	fp2_pow(&b, &b, e, 6);
	fp2_mul(&x, &b, &x0);
	fp_neg(&ix0.c0, &x0.c1);
	ix0.c1 = x0.c0;
	fp2_cmov(&x, &ix0, fp2_eq(&alpha, &minus1));
	fp2_sqr(&t, &x);
	*o = x;
	return fp2_eq(&t, a);
}

/* ---- Fp6 ---- */

void fp6_zero(fp6 *o) { memset(o, 0, sizeof *o); }

void fp6_add(fp6 *o, const fp6 *a, const fp6 *b)
{
	fp2_add(&o->c0, &a->c0, &b->c0);
	fp2_add(&o->c1, &a->c1, &b->c1);
	fp2_add(&o->c2, &a->c2, &b->c2);
}

void fp6_sub(fp6 *o, const fp6 *a, const fp6 *b)
{
	fp2_sub(&o->c0, &a->c0, &b->c0);
	fp2_sub(&o->c1, &a->c1, &b->c1);
	fp2_sub(&o->c2, &a->c2, &b->c2);
}

void fp6_neg(fp6 *o, const fp6 *a)
{
	fp2_neg(&o->c0, &a->c0);
	fp2_neg(&o->c1, &a->c1);
	fp2_neg(&o->c2, &a->c2);
}

/* o = (x0 + x1)(y0 + y1) - m0 - m1: a Karatsuba cross term from the products m0, m1 */
static void karatsuba_cross(fp2 *o, const fp2 *x0, const fp2 *x1, const fp2 *y0, const fp2 *y1,
			    const fp2 *m0, const fp2 *m1)
{
	fp2 s, u;
	fp2_add(&s, x0, x1);
	fp2_add(&u, y0, y1);
	fp2_mul(o, &s, &u);
	fp2_sub(o, o, m0);
	fp2_sub(o, o, m1);
}

void fp6_mul(fp6 *o, const fp6 *a, const fp6 *b)
{
	fp2 aa, bb, cc, t1, t2, t3, s;
	fp2_mul(&aa, &a->c0, &b->c0);
	fp2_mul(&bb, &a->c1, &b->c1);
	fp2_mul(&cc, &a->c2, &b->c2);
	/* t1 = ((a1+a2)(b1+b2) - bb - cc) xi + aa */
	karatsuba_cross(&t1, &a->c1, &a->c2, &b->c1, &b->c2, &bb, &cc);
	fp2_mul_xi(&t1, &t1);
	fp2_add(&t1, &t1, &aa);
	/* t2 = (a0+a1)(b0+b1) - aa - bb + cc xi */
	karatsuba_cross(&t2, &a->c0, &a->c1, &b->c0, &b->c1, &aa, &bb);
	fp2_mul_xi(&s, &cc);
	fp2_add(&t2, &t2, &s);
	/* t3 = (a0+a2)(b0+b2) - aa - cc + bb */
	karatsuba_cross(&t3, &a->c0, &a->c2, &b->c0, &b->c2, &aa, &cc);
	fp2_add(&t3, &t3, &bb);
	o->c0 = t1;
	o->c1 = t2;
	o->c2 = t3;
}

void fp6_sqr(fp6 *o, const fp6 *a) { fp6_mul(o, a, a); }

void fp6_mul_v(fp6 *o, const fp6 *a)
{
	fp2 t;
	fp2_mul_xi(&t, &a->c2);
	o->c2 = a->c1;
	o->c1 = a->c0;
	o->c0 = t;
}

void fp6_mul_01(fp6 *o, const fp6 *a, const fp2 *c0, const fp2 *c1)
{
	fp2 aa, bb, t1, t2, t3;
	fp2_mul(&aa, &a->c0, c0);
	fp2_mul(&bb, &a->c1, c1);
	fp2_mul(&t1, &a->c2, c1);
	fp2_mul_xi(&t1, &t1);
	fp2_add(&t1, &t1, &aa);
	karatsuba_cross(&t2, c0, c1, &a->c0, &a->c1, &aa, &bb);
	fp2_mul(&t3, &a->c2, c0);
	fp2_add(&t3, &t3, &bb);
	o->c0 = t1;
	o->c1 = t2;
	o->c2 = t3;
}

void fp6_mul_1(fp6 *o, const fp6 *a, const fp2 *c1)
{
	fp2 t0, t1, t2;
	fp2_mul(&t0, &a->c2, c1);
	fp2_mul_xi(&t0, &t0);
	fp2_mul(&t1, &a->c0, c1);
	fp2_mul(&t2, &a->c1, c1);
	o->c0 = t0;
	o->c1 = t1;
	o->c2 = t2;
}

void fp6_inv(fp6 *o, const fp6 *a)
{
	fp2 c0, c1, c2, t, s;
	fp2_mul(&c0, &a->c1, &a->c2);
	fp2_mul_xi(&c0, &c0);
	fp2_sqr(&t, &a->c0);
	fp2_sub(&c0, &t, &c0);
	fp2_sqr(&c1, &a->c2);
	fp2_mul_xi(&c1, &c1);
	fp2_mul(&t, &a->c0, &a->c1);
	fp2_sub(&c1, &c1, &t);
	fp2_sqr(&c2, &a->c1);
	fp2_mul(&t, &a->c0, &a->c2);
	fp2_sub(&c2, &c2, &t);
	fp2_mul(&t, &a->c1, &c2);
	fp2_mul(&s, &a->c2, &c1);
	fp2_add(&t, &t, &s);
	fp2_mul_xi(&t, &t);
	fp2_mul(&s, &a->c0, &c0);
	fp2_add(&t, &t, &s);
	fp2_inv(&t, &t);
	fp2_mul(&o->c0, &c0, &t);
	fp2_mul(&o->c1, &c1, &t);
	fp2_mul(&o->c2, &c2, &t);
}

void fp6_frobenius(fp6 *o, const fp6 *a)
{
	fp2_conj(&o->c0, &a->c0);
	fp2_conj(&o->c1, &a->c1);
	fp2_conj(&o->c2, &a->c2);
	fp2_mul(&o->c1, &o->c1, &FROB6_C1);
	fp2_mul(&o->c2, &o->c2, &FROB6_C2);
}

/* ---- Fp12 ---- */

void fp12_one(fp12 *o)
{
	memset(o, 0, sizeof *o);
	o->c0.c0 = BLS_FP2_ONE_C;
}

void fp12_mul(fp12 *o, const fp12 *a, const fp12 *b)
{
	fp6 aa, bb, s, u;
	fp6_mul(&aa, &a->c0, &b->c0);
	fp6_mul(&bb, &a->c1, &b->c1);
	fp6_add(&s, &a->c0, &a->c1);
	fp6_add(&u, &b->c0, &b->c1);
	fp6_mul(&s, &s, &u);
	fp6_sub(&s, &s, &aa);
	fp6_sub(&o->c1, &s, &bb);
	fp6_mul_v(&bb, &bb);
	fp6_add(&o->c0, &aa, &bb);
}

void fp12_sqr(fp12 *o, const fp12 *a)
{
	fp6 ab, s, t;
	fp6_mul(&ab, &a->c0, &a->c1);
	fp6_add(&s, &a->c0, &a->c1);
	fp6_mul_v(&t, &a->c1);
	fp6_add(&t, &t, &a->c0);
	fp6_mul(&t, &t, &s);
	fp6_sub(&t, &t, &ab);
	fp6_mul_v(&s, &ab);
	fp6_sub(&o->c0, &t, &s);
	fp6_add(&o->c1, &ab, &ab);
}

void fp12_conj(fp12 *o, const fp12 *a)
{
	o->c0 = a->c0;
	fp6_neg(&o->c1, &a->c1);
}

void fp12_inv(fp12 *o, const fp12 *a)
{
	fp6 t, s;
	fp6_sqr(&t, &a->c0);
	fp6_sqr(&s, &a->c1);
	fp6_mul_v(&s, &s);
	fp6_sub(&t, &t, &s);
	fp6_inv(&t, &t);
	fp6_mul(&o->c0, &a->c0, &t);
	fp6_mul(&s, &a->c1, &t);
	fp6_neg(&o->c1, &s);
}

void fp12_frobenius(fp12 *o, const fp12 *a)
{
	fp6_frobenius(&o->c0, &a->c0);
	fp6_frobenius(&o->c1, &a->c1);
	fp2_mul(&o->c1.c0, &o->c1.c0, &FROB12_C1);
	fp2_mul(&o->c1.c1, &o->c1.c1, &FROB12_C1);
	fp2_mul(&o->c1.c2, &o->c1.c2, &FROB12_C1);
}

void fp12_mul_014(fp12 *o, const fp12 *a, const fp2 *c0, const fp2 *c1, const fp2 *c4)
{
	fp6 aa, bb, s;
	fp2 t;
	fp6_mul_01(&aa, &a->c0, c0, c1);
	fp6_mul_1(&bb, &a->c1, c4);
	fp2_add(&t, c1, c4);
	fp6_add(&s, &a->c1, &a->c0);
	fp6_mul_01(&s, &s, c0, &t);
	fp6_sub(&s, &s, &aa);
	fp6_sub(&o->c1, &s, &bb);
	fp6_mul_v(&bb, &bb);
	fp6_add(&o->c0, &bb, &aa);
}

static void fp4_sqr(fp2 *c0, fp2 *c1, const fp2 *a, const fp2 *b)
{
	fp2 t0, t1, t2;
	fp2_sqr(&t0, a);
	fp2_sqr(&t1, b);
	fp2_mul_xi(&t2, &t1);
	fp2_add(c0, &t2, &t0);
	fp2_add(&t2, a, b);
	fp2_sqr(&t2, &t2);
	fp2_sub(&t2, &t2, &t0);
	fp2_sub(c1, &t2, &t1);
}

/* z = 3t - 2z and z = 3t + 2z, the two shapes of the cyclotomic squaring's outputs */
static void cs_minus(fp2 *z, const fp2 *t)
{
	fp2_sub(z, t, z);
	fp2_dbl(z, z);
	fp2_add(z, z, t);
}

static void cs_plus(fp2 *z, const fp2 *t)
{
	fp2_add(z, t, z);
	fp2_dbl(z, z);
	fp2_add(z, z, t);
}

/* Granger and Scott, "Faster squaring in the cyclotomic subgroup of sixth degree extensions" */
void fp12_cyclotomic_sqr(fp12 *o, const fp12 *f)
{
	fp2 z0 = f->c0.c0, z4 = f->c0.c1, z3 = f->c0.c2, z2 = f->c1.c0, z1 = f->c1.c1, z5 = f->c1.c2;
	fp2 t0, t1, t2, t3;
	fp4_sqr(&t0, &t1, &z0, &z1);
	cs_minus(&z0, &t0);
	cs_plus(&z1, &t1);
	fp4_sqr(&t0, &t1, &z2, &z3);
	fp4_sqr(&t2, &t3, &z4, &z5);
	cs_minus(&z4, &t0);
	cs_plus(&z5, &t1);
	fp2_mul_xi(&t0, &t3);
	cs_plus(&z2, &t0);
	cs_minus(&z3, &t2);
	o->c0.c0 = z0;
	o->c0.c1 = z4;
	o->c0.c2 = z3;
	o->c1.c0 = z2;
	o->c1.c1 = z1;
	o->c1.c2 = z5;
}

uint64_t fp12_eq(const fp12 *a, const fp12 *b)
{
	const fp *x = (const fp *)a, *y = (const fp *)b;
	uint64_t r = 1;
	for (int i = 0; i < 12; i++)
		r &= fp_eq(&x[i], &y[i]);
	return r;
}

void fp12_cmov(fp12 *o, const fp12 *b, uint64_t c)
{
	fp *x = (fp *)o;
	const fp *y = (const fp *)b;
	for (int i = 0; i < 12; i++)
		fp_cmov(&x[i], &y[i], c);
}

/* ---- scalars mod r ---- */

static const struct lb_bls_scalar FR_ONE = BLS_FR_ONE;
static const struct lb_bls_scalar FR_R2 = BLS_FR_R2;

static void fr_mul(struct lb_bls_scalar *o, const struct lb_bls_scalar *a, const struct lb_bls_scalar *b)
{
	mont_mul(o->l, a->l, b->l, R_ORDER, BLS_R_INV, 4);
}

int lb_bls_scalar_from_bytes(struct lb_bls_scalar *out, const uint8_t in[LB_BLS_SCALAR_BYTES])
{
	struct lb_bls_scalar t;
	for (int i = 0; i < 4; i++) {
		uint64_t w = 0;
		for (int j = 0; j < 8; j++)
			w = (w << 8) | in[(3 - i) * 8 + j];
		t.l[i] = w;
	}
	uint64_t borrow = 0;
	for (int i = 0; i < 4; i++) {
		u128 d = (u128)t.l[i] - R_ORDER[i] - borrow;
		borrow = (uint64_t)(d >> 64) & 1;
	}
	if (!borrow)
		return LB_ERANGE;
	fr_mul(out, &t, &FR_R2);
	return 0;
}

void lb_bls_scalar_from_wide(struct lb_bls_scalar *out, const uint8_t *in, size_t len)
{
	/* the value hi * 2^256 + lo, each half read big-endian from the right end of in */
	uint8_t buf[64] = {0};
	struct lb_bls_scalar lo, hi;
	if (len > 64)
		len = 64;
	memcpy(buf + 64 - len, in, len);
	for (int i = 0; i < 4; i++) {
		uint64_t wl = 0, wh = 0;
		for (int j = 0; j < 8; j++) {
			wh = (wh << 8) | buf[(3 - i) * 8 + j];
			wl = (wl << 8) | buf[32 + (3 - i) * 8 + j];
		}
		lo.l[i] = wl;
		hi.l[i] = wh;
	}
	fr_mul(&lo, &lo, &FR_R2);
	fr_mul(&hi, &hi, &FR_R2);
	fr_mul(&hi, &hi, &FR_R2);
	mod_add(out->l, lo.l, hi.l, R_ORDER, 4);
	sodium_memzero(buf, sizeof buf);
}

void fr_to_int(uint64_t out[4], const struct lb_bls_scalar *s)
{
	struct lb_bls_scalar one = {{1, 0, 0, 0}}, t;
	fr_mul(&t, s, &one);
	memcpy(out, t.l, sizeof t.l);
	sodium_memzero(&t, sizeof t);
}

void lb_bls_scalar_to_bytes(uint8_t out[LB_BLS_SCALAR_BYTES], const struct lb_bls_scalar *s)
{
	struct lb_bls_scalar one = {{1, 0, 0, 0}}, t;
	fr_mul(&t, s, &one);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 8; j++)
			out[(3 - i) * 8 + j] = (uint8_t)(t.l[i] >> (56 - 8 * j));
}

void lb_bls_scalar_from_u64(struct lb_bls_scalar *out, uint64_t v)
{
	struct lb_bls_scalar t = {{v, 0, 0, 0}};
	fr_mul(out, &t, &FR_R2);
}

void lb_bls_scalar_random(struct lb_bls_scalar *out)
{
	uint8_t buf[64];
	do {
		randombytes_buf(buf, sizeof buf);
		lb_bls_scalar_from_wide(out, buf, sizeof buf);
	} while (lb_bls_scalar_is_zero(out));
	sodium_memzero(buf, sizeof buf);
}

void lb_bls_scalar_add(struct lb_bls_scalar *out, const struct lb_bls_scalar *a, const struct lb_bls_scalar *b)
{
	mod_add(out->l, a->l, b->l, R_ORDER, 4);
}

void lb_bls_scalar_sub(struct lb_bls_scalar *out, const struct lb_bls_scalar *a, const struct lb_bls_scalar *b)
{
	mod_sub(out->l, a->l, b->l, R_ORDER, 4);
}

void lb_bls_scalar_mul(struct lb_bls_scalar *out, const struct lb_bls_scalar *a, const struct lb_bls_scalar *b)
{
	fr_mul(out, a, b);
}

void lb_bls_scalar_neg(struct lb_bls_scalar *out, const struct lb_bls_scalar *a)
{
	struct lb_bls_scalar z = {{0, 0, 0, 0}};
	mod_sub(out->l, z.l, a->l, R_ORDER, 4);
}

void lb_bls_scalar_inv(struct lb_bls_scalar *out, const struct lb_bls_scalar *a)
{
	uint64_t e[4];
	memcpy(e, R_ORDER, sizeof e);
	e[0] -= 2; /* the low limb of r is 0xffffffff00000001: no borrow */
	struct lb_bls_scalar r = FR_ONE, b = *a;
	for (int i = 255; i >= 0; i--) {
		fr_mul(&r, &r, &r);
		if ((e[i / 64] >> (i % 64)) & 1)
			fr_mul(&r, &r, &b);
	}
	*out = r;
}

bool lb_bls_scalar_is_zero(const struct lb_bls_scalar *a)
{
	uint64_t acc = a->l[0] | a->l[1] | a->l[2] | a->l[3];
	return ((acc | (0 - acc)) >> 63) == 0;
}

bool lb_bls_scalar_equal(const struct lb_bls_scalar *a, const struct lb_bls_scalar *b)
{
	return sodium_memcmp(a->l, b->l, sizeof a->l) == 0;
}
