/*
 * The optimal ate pairing on BLS12-381 and the group GT. Miller loop over |x| = 0xd201000000010000
 * with the twist point in Jacobian coordinates and the doubling and addition steps of Costello,
 * Lange and Naehrig (eprint 2010/354, algorithms 26 and 27), lines multiplied in sparsely
 * (fp12_mul_014); final exponentiation: the easy part by Frobenius and one inversion, the hard
 * part as in Hayashida, Hayasaka and Teruya (eprint 2020/875) with cyclotomic squarings. The
 * same sequence as the zkcrypto bls12_381 crate, so GT values agree byte for byte with it and
 * with @noble/curves.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/bls12_381_consts.h"
#include "crypto/bls12_381_int.h"
#include "leben/error.h"

#define BLS_X_ABS 0xd201000000010000ULL

struct g2_jac {
	fp2 x, y, z; /* Jacobian coordinates of the running multiple of Q */
};

/* one pair of the product: P affine, Q affine, the running point */
struct pair_state {
	fp px, py;     /* P */
	fp2 qx, qy;    /* Q */
	struct g2_jac r; /* running point */
};

static void ell(fp12 *f, const fp2 c[3], const struct pair_state *s)
{
	fp2 c0, c1;
	fp2_mul_fp(&c0, &c[0], &s->py);
	fp2_mul_fp(&c1, &c[1], &s->px);
	fp12_mul_014(f, f, &c[2], &c1, &c0);
}

static void doubling_step(fp2 c[3], struct g2_jac *r)
{
	fp2 t0, t1, t2, t3, t4, t5, t6, zz;
	fp2_sqr(&t0, &r->x);
	fp2_sqr(&t1, &r->y);
	fp2_sqr(&t2, &t1);
	fp2_add(&t3, &t1, &r->x);
	fp2_sqr(&t3, &t3);
	fp2_sub(&t3, &t3, &t0);
	fp2_sub(&t3, &t3, &t2);
	fp2_dbl(&t3, &t3);
	fp2_dbl(&t4, &t0);
	fp2_add(&t4, &t4, &t0);
	fp2_add(&t6, &r->x, &t4);
	fp2_sqr(&t5, &t4);
	fp2_sqr(&zz, &r->z);
	fp2_sub(&r->x, &t5, &t3);
	fp2_sub(&r->x, &r->x, &t3);
	fp2_add(&r->z, &r->z, &r->y);
	fp2_sqr(&r->z, &r->z);
	fp2_sub(&r->z, &r->z, &t1);
	fp2_sub(&r->z, &r->z, &zz);
	fp2_sub(&r->y, &t3, &r->x);
	fp2_mul(&r->y, &r->y, &t4);
	fp2_dbl(&t2, &t2);
	fp2_dbl(&t2, &t2);
	fp2_dbl(&t2, &t2);
	fp2_sub(&r->y, &r->y, &t2);
	fp2_mul(&t3, &t4, &zz);
	fp2_dbl(&t3, &t3);
	fp2_neg(&t3, &t3);
	fp2_sqr(&t6, &t6);
	fp2_sub(&t6, &t6, &t0);
	fp2_sub(&t6, &t6, &t5);
	fp2_dbl(&t1, &t1);
	fp2_dbl(&t1, &t1);
	fp2_sub(&t6, &t6, &t1);
	fp2_mul(&t0, &r->z, &zz);
	fp2_dbl(&t0, &t0);
	c[0] = t0;
	c[1] = t3;
	c[2] = t6;
}

static void addition_step(fp2 c[3], struct g2_jac *r, const fp2 *qx, const fp2 *qy)
{
	fp2 zz, yy, t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, zt;
	fp2_sqr(&zz, &r->z);
	fp2_sqr(&yy, qy);
	fp2_mul(&t0, &zz, qx);
	fp2_add(&t1, qy, &r->z);
	fp2_sqr(&t1, &t1);
	fp2_sub(&t1, &t1, &yy);
	fp2_sub(&t1, &t1, &zz);
	fp2_mul(&t1, &t1, &zz);
	fp2_sub(&t2, &t0, &r->x);
	fp2_sqr(&t3, &t2);
	fp2_dbl(&t4, &t3);
	fp2_dbl(&t4, &t4);
	fp2_mul(&t5, &t4, &t2);
	fp2_sub(&t6, &t1, &r->y);
	fp2_sub(&t6, &t6, &r->y);
	fp2_mul(&t9, &t6, qx);
	fp2_mul(&t7, &t4, &r->x);
	fp2_sqr(&r->x, &t6);
	fp2_sub(&r->x, &r->x, &t5);
	fp2_sub(&r->x, &r->x, &t7);
	fp2_sub(&r->x, &r->x, &t7);
	fp2_add(&r->z, &r->z, &t2);
	fp2_sqr(&r->z, &r->z);
	fp2_sub(&r->z, &r->z, &zz);
	fp2_sub(&r->z, &r->z, &t3);
	fp2_add(&t10, qy, &r->z);
	fp2_sub(&t8, &t7, &r->x);
	fp2_mul(&t8, &t8, &t6);
	fp2_mul(&t0, &r->y, &t5);
	fp2_dbl(&t0, &t0);
	fp2_sub(&r->y, &t8, &t0);
	fp2_sqr(&t10, &t10);
	fp2_sub(&t10, &t10, &yy);
	fp2_sqr(&zt, &r->z);
	fp2_sub(&t10, &t10, &zt);
	fp2_dbl(&t9, &t9);
	fp2_sub(&t9, &t9, &t10);
	fp2_dbl(&t10, &r->z);
	fp2_neg(&t6, &t6);
	fp2_dbl(&t1, &t6);
	c[0] = t10;
	c[1] = t1;
	c[2] = t9;
}

static void miller_loop(fp12 *f, struct pair_state *s, size_t n)
{
	fp2 c[3];
	int found = 0;
	fp12_one(f);
	for (int b = 63; b >= 0; b--) {
		int bit = (int)(((BLS_X_ABS >> 1) >> b) & 1);
		if (!found) {
			found = bit;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			doubling_step(c, &s[i].r);
			ell(f, c, &s[i]);
		}
		if (bit) {
			for (size_t i = 0; i < n; i++) {
				addition_step(c, &s[i].r, &s[i].qx, &s[i].qy);
				ell(f, c, &s[i]);
			}
		}
		fp12_sqr(f, f);
	}
	for (size_t i = 0; i < n; i++) {
		doubling_step(c, &s[i].r);
		ell(f, c, &s[i]);
	}
	fp12_conj(f, f); /* x is negative */
}

/* f^|x| then conjugated: f^x for f in the cyclotomic subgroup */
static void cyclotomic_exp(fp12 *o, const fp12 *f)
{
	fp12 t;
	int found = 0;
	fp12_one(&t);
	for (int b = 63; b >= 0; b--) {
		int bit = (int)((BLS_X_ABS >> b) & 1);
		if (found)
			fp12_cyclotomic_sqr(&t, &t);
		else
			found = bit;
		if (bit)
			fp12_mul(&t, &t, f);
	}
	fp12_conj(o, &t);
}

static void frob_n(fp12 *o, const fp12 *a, int n)
{
	*o = *a;
	for (int i = 0; i < n; i++)
		fp12_frobenius(o, o);
}

static void final_exponentiation(fp12 *out, const fp12 *f)
{
	fp12 t0, t1, t2, t3, t4, t5, t6;
	fp12_conj(&t0, f); /* f^(p^6) */
	fp12_inv(&t1, f);
	fp12_mul(&t2, &t0, &t1);
	t1 = t2;
	frob_n(&t2, &t2, 2);
	fp12_mul(&t2, &t2, &t1);
	fp12_cyclotomic_sqr(&t1, &t2);
	fp12_conj(&t1, &t1);
	cyclotomic_exp(&t3, &t2);
	fp12_cyclotomic_sqr(&t4, &t3);
	fp12_mul(&t5, &t1, &t3);
	cyclotomic_exp(&t1, &t5);
	cyclotomic_exp(&t0, &t1);
	cyclotomic_exp(&t6, &t0);
	fp12_mul(&t6, &t6, &t4);
	cyclotomic_exp(&t4, &t6);
	fp12_conj(&t5, &t5);
	fp12_mul(&t5, &t5, &t2);
	fp12_mul(&t4, &t4, &t5);
	fp12_conj(&t5, &t2);
	fp12_mul(&t1, &t1, &t2);
	frob_n(&t1, &t1, 3);
	fp12_mul(&t6, &t6, &t5);
	frob_n(&t6, &t6, 1);
	fp12_mul(&t3, &t3, &t0);
	frob_n(&t3, &t3, 2);
	fp12_mul(&t3, &t3, &t1);
	fp12_mul(&t3, &t3, &t6);
	fp12_mul(out, &t3, &t4);
}

#define PAIR_CHUNK 8

void lb_bls_pairing_product(struct lb_bls_gt *out, const struct lb_bls_g1 *p,
			    const struct lb_bls_g2 *q, size_t n)
{
	struct pair_state s[PAIR_CHUNK];
	fp12 acc, f;
	size_t k = 0;
	fp12_one(&acc);
	for (size_t i = 0; i <= n; i++) {
		if (i < n && !lb_bls_g1_is_identity(&p[i]) && !lb_bls_g2_is_identity(&q[i])) {
			bls_g1_to_affine(&s[k].px, &s[k].py, &p[i]);
			bls_g2_to_affine(&s[k].qx, &s[k].qy, &q[i]);
			s[k].r.x = s[k].qx;
			s[k].r.y = s[k].qy;
			s[k].r.z = BLS_FP2_ONE_C;
			k++;
		}
		if (k == PAIR_CHUNK || (i == n && k > 0)) {
			miller_loop(&f, s, k);
			fp12_mul(&acc, &acc, &f);
			k = 0;
		}
	}
	final_exponentiation(&out->f, &acc);
}

void lb_bls_pairing(struct lb_bls_gt *out, const struct lb_bls_g1 *p, const struct lb_bls_g2 *q)
{
	lb_bls_pairing_product(out, p, q, 1);
}

void lb_bls_gt_one(struct lb_bls_gt *out) { fp12_one(&out->f); }

void lb_bls_gt_mul(struct lb_bls_gt *out, const struct lb_bls_gt *a, const struct lb_bls_gt *b)
{
	fp12_mul(&out->f, &a->f, &b->f);
}

void lb_bls_gt_inv(struct lb_bls_gt *out, const struct lb_bls_gt *a) { fp12_conj(&out->f, &a->f); }

void lb_bls_gt_pow(struct lb_bls_gt *out, const struct lb_bls_gt *a, const struct lb_bls_scalar *k)
{
	uint64_t e[4];
	fp12 table[16], r, t;
	fr_to_int(e, k);
	fp12_one(&table[0]);
	table[1] = a->f;
	for (int i = 2; i < 16; i++)
		fp12_mul(&table[i], &table[i - 1], &a->f);
	fp12_one(&r);
	for (int w = 63; w >= 0; w--) {
		for (int j = 0; j < 4; j++)
			fp12_cyclotomic_sqr(&r, &r);
		uint64_t d = (e[w / 16] >> ((w % 16) * 4)) & 15;
		t = table[0];
		for (uint64_t i = 1; i < 16; i++)
			fp12_cmov(&t, &table[i], ((i ^ d) - 1) >> 63);
		fp12_mul(&r, &r, &t);
	}
	out->f = r;
	sodium_memzero(e, sizeof e);
	sodium_memzero(table, sizeof table);
}

bool lb_bls_gt_equal(const struct lb_bls_gt *a, const struct lb_bls_gt *b)
{
	return fp12_eq(&a->f, &b->f) == 1;
}

bool lb_bls_gt_is_one(const struct lb_bls_gt *a)
{
	fp12 one;
	fp12_one(&one);
	return fp12_eq(&a->f, &one) == 1;
}

void lb_bls_gt_to_bytes(uint8_t out[LB_BLS_GT_BYTES], const struct lb_bls_gt *a)
{
	const fp *x = (const fp *)&a->f;
	for (int i = 0; i < 12; i++)
		fp_to_bytes(out + 48 * i, &x[i]);
}

int lb_bls_gt_from_bytes(struct lb_bls_gt *out, const uint8_t in[LB_BLS_GT_BYTES])
{
	static const uint64_t order[4] = BLS_R_LIMBS;
	fp12 f, r, one;
	fp *x = (fp *)&f;
	for (int i = 0; i < 12; i++)
		if (!fp_from_bytes(&x[i], in + 48 * i))
			return LB_EMALFORMED;
	/* f^r = 1 with plain squarings (f is not yet known to be cyclotomic) */
	fp12_one(&r);
	for (int i = 255; i >= 0; i--) {
		fp12_sqr(&r, &r);
		if ((order[i / 64] >> (i % 64)) & 1)
			fp12_mul(&r, &r, &f);
	}
	fp12_one(&one);
	if (!fp12_eq(&r, &one))
		return LB_EINVALID;
	out->f = f;
	return LB_OK;
}
