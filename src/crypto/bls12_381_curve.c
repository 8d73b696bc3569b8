/*
 * BLS12-381 groups G1 and G2: the group law (bls12_381_curve.inc, instantiated here for each),
 * the generators, subgroup checks, the compressed encodings of zkcrypto and the IETF drafts
 * (big-endian x; bit 7 of the first byte: compressed, bit 6: the identity, bit 5: y is the
 * larger of y and -y; for G2 x = c1 || c0), the endomorphism psi and the cofactor clearing of
 * RFC 9380. Decoding refuses any non-canonical form.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/bls12_381_consts.h"
#include "crypto/bls12_381_int.h"
#include "leben/error.h"

static const fp G1_X = BLS_G1_X, G1_Y = BLS_G1_Y, B1 = BLS_B1, B1_3 = BLS_B1_3;
static const fp2 G2_X = BLS_G2_X, G2_Y = BLS_G2_Y, B2 = BLS_B2, B2_3 = BLS_B2_3;
static const fp2 PSI_X = BLS_PSI_X, PSI_Y = BLS_PSI_Y;
static const fp G1_BETA = BLS_G1_BETA;

/* |x| of the BLS parameter x = -0xd201000000010000 */
static const uint64_t BLS_X_ABS[1] = {0xd201000000010000ULL};

static void fp_one_(fp *o) { *o = BLS_FP_ONE_C; }

#define PT struct lb_bls_g1
#define FE fp
#define FN(n) lb_bls_g1_##n
#define SN(n) g1_##n
#define FE_ADD fp_add
#define FE_SUB fp_sub
#define FE_MUL fp_mul
#define FE_SQR fp_sqr
#define FE_NEG fp_neg
#define FE_INV fp_inv
#define FE_ZERO fp_zero
#define FE_ONE fp_one_
#define FE_EQ fp_eq
#define FE_IS_ZERO fp_is_zero
#define FE_CMOV fp_cmov
#define FE_B B1
#define FE_B3 B1_3
#include "crypto/bls12_381_curve.inc"
#undef PT
#undef FE
#undef FN
#undef SN
#undef FE_ADD
#undef FE_SUB
#undef FE_MUL
#undef FE_SQR
#undef FE_NEG
#undef FE_INV
#undef FE_ZERO
#undef FE_ONE
#undef FE_EQ
#undef FE_IS_ZERO
#undef FE_CMOV
#undef FE_B
#undef FE_B3

#define PT struct lb_bls_g2
#define FE fp2
#define FN(n) lb_bls_g2_##n
#define SN(n) g2_##n
#define FE_ADD fp2_add
#define FE_SUB fp2_sub
#define FE_MUL fp2_mul
#define FE_SQR fp2_sqr
#define FE_NEG fp2_neg
#define FE_INV fp2_inv
#define FE_ZERO fp2_zero
#define FE_ONE fp2_one
#define FE_EQ fp2_eq
#define FE_IS_ZERO fp2_is_zero
#define FE_CMOV fp2_cmov
#define FE_B B2
#define FE_B3 B2_3
#include "crypto/bls12_381_curve.inc"

void lb_bls_g1_generator(struct lb_bls_g1 *out)
{
	out->x = G1_X;
	out->y = G1_Y;
	out->z = BLS_FP_ONE_C;
}

void lb_bls_g2_generator(struct lb_bls_g2 *out)
{
	out->x = G2_X;
	out->y = G2_Y;
	out->z = BLS_FP2_ONE_C;
}

/* ---- subgroup membership (Scott, eprint 2021/1130; proofs in eprint 2022/352) ---- */

/* P (on the curve) has order r iff (beta x, y) = -[x^2] P */
static bool g1_in_subgroup(const struct lb_bls_g1 *a)
{
	struct lb_bls_g1 t, phi;
	g1_mul_vartime(&t, a, BLS_X_ABS, 1);
	g1_mul_vartime(&t, &t, BLS_X_ABS, 1);
	lb_bls_g1_neg(&t, &t);
	phi = *a;
	fp_mul(&phi.x, &phi.x, &G1_BETA);
	return lb_bls_g1_equal(&t, &phi) || lb_bls_g1_is_identity(a);
}

static void g2_psi(struct lb_bls_g2 *out, const struct lb_bls_g2 *a);

/* Q (on the twist) has order r iff psi(Q) = [x] Q */
static bool g2_in_subgroup(const struct lb_bls_g2 *a)
{
	struct lb_bls_g2 t, psi;
	g2_mul_vartime(&t, a, BLS_X_ABS, 1);
	lb_bls_g2_neg(&t, &t);
	g2_psi(&psi, a);
	return lb_bls_g2_equal(&t, &psi) || lb_bls_g2_is_identity(a);
}

/* ---- cofactors ---- */

void bls_g1_to_affine(fp *x, fp *y, const struct lb_bls_g1 *a) { g1_to_affine(x, y, a); }
void bls_g2_to_affine(fp2 *x, fp2 *y, const struct lb_bls_g2 *a) { g2_to_affine(x, y, a); }

/* ---- encodings ---- */

void lb_bls_g1_compress(uint8_t out[LB_BLS_G1_BYTES], const struct lb_bls_g1 *a)
{
	fp x, y;
	if (lb_bls_g1_is_identity(a)) {
		memset(out, 0, LB_BLS_G1_BYTES);
		out[0] = 0xc0;
		return;
	}
	g1_to_affine(&x, &y, a);
	fp_to_bytes(out, &x);
	out[0] |= (uint8_t)(0x80 | (fp_lex_largest(&y) << 5));
}

void lb_bls_g2_compress(uint8_t out[LB_BLS_G2_BYTES], const struct lb_bls_g2 *a)
{
	fp2 x, y;
	if (lb_bls_g2_is_identity(a)) {
		memset(out, 0, LB_BLS_G2_BYTES);
		out[0] = 0xc0;
		return;
	}
	g2_to_affine(&x, &y, a);
	fp_to_bytes(out, &x.c1);
	fp_to_bytes(out + 48, &x.c0);
	out[0] |= (uint8_t)(0x80 | (fp2_lex_largest(&y) << 5));
}

/* the flag bits; LB_OK and *identity set, or LB_EMALFORMED */
static int read_flags(const uint8_t *in, size_t len, int *identity, int *sort)
{
	if (!(in[0] & 0x80))
		return LB_EMALFORMED; /* uncompressed forms are not accepted */
	*sort = (in[0] >> 5) & 1;
	*identity = (in[0] >> 6) & 1;
	if (*identity) {
		uint8_t acc = (uint8_t)(in[0] & 0x3f);
		for (size_t i = 1; i < len; i++)
			acc |= in[i];
		return acc ? LB_EMALFORMED : LB_OK;
	}
	return LB_OK;
}

int lb_bls_g1_decompress(struct lb_bls_g1 *out, const uint8_t in[LB_BLS_G1_BYTES])
{
	uint8_t buf[48];
	int identity, sort, rc;
	struct lb_bls_g1 p;
	fp x, y, t;
	if ((rc = read_flags(in, 48, &identity, &sort)) != LB_OK)
		return rc;
	if (identity) {
		lb_bls_g1_identity(out);
		return LB_OK;
	}
	memcpy(buf, in, 48);
	buf[0] &= 0x1f;
	if (!fp_from_bytes(&x, buf))
		return LB_EMALFORMED;
	fp_sqr(&t, &x);
	fp_mul(&t, &t, &x);
	fp_add(&t, &t, &B1);
	if (!fp_sqrt(&y, &t))
		return LB_EINVALID;
	if (fp_lex_largest(&y) != (uint64_t)sort)
		fp_neg(&y, &y);
	p.x = x;
	p.y = y;
	p.z = BLS_FP_ONE_C;
	if (!lb_bls_g1_is_valid(&p))
		return LB_EINVALID;
	*out = p;
	return LB_OK;
}

int lb_bls_g2_decompress(struct lb_bls_g2 *out, const uint8_t in[LB_BLS_G2_BYTES])
{
	uint8_t buf[48];
	int identity, sort, rc;
	struct lb_bls_g2 p;
	fp2 x, y, t;
	if ((rc = read_flags(in, 96, &identity, &sort)) != LB_OK)
		return rc;
	if (identity) {
		lb_bls_g2_identity(out);
		return LB_OK;
	}
	memcpy(buf, in, 48);
	buf[0] &= 0x1f;
	if (!fp_from_bytes(&x.c1, buf) || !fp_from_bytes(&x.c0, in + 48))
		return LB_EMALFORMED;
	fp2_sqr(&t, &x);
	fp2_mul(&t, &t, &x);
	fp2_add(&t, &t, &B2);
	if (!fp2_sqrt(&y, &t))
		return LB_EINVALID;
	if (fp2_lex_largest(&y) != (uint64_t)sort)
		fp2_neg(&y, &y);
	p.x = x;
	p.y = y;
	p.z = BLS_FP2_ONE_C;
	if (!lb_bls_g2_is_valid(&p))
		return LB_EINVALID;
	*out = p;
	return LB_OK;
}


void bls_g1_clear_cofactor(struct lb_bls_g1 *out, const struct lb_bls_g1 *a)
{
	static const uint64_t h_eff[1] = {0xd201000000010001ULL};
	g1_mul_vartime(out, a, h_eff, 1);
}

static void g2_psi(struct lb_bls_g2 *out, const struct lb_bls_g2 *a)
{
	fp2_conj(&out->x, &a->x);
	fp2_conj(&out->y, &a->y);
	fp2_conj(&out->z, &a->z);
	fp2_mul(&out->x, &out->x, &PSI_X);
	fp2_mul(&out->y, &out->y, &PSI_Y);
}

/* out = x * a (x negative) */
static void g2_mul_x(struct lb_bls_g2 *out, const struct lb_bls_g2 *a)
{
	g2_mul_vartime(out, a, BLS_X_ABS, 1);
	lb_bls_g2_neg(out, out);
}

/* RFC 9380 appendix G.3 (Budroni and Pintore) */
void bls_g2_clear_cofactor(struct lb_bls_g2 *out, const struct lb_bls_g2 *p)
{
	struct lb_bls_g2 t1, t2, t3;
	g2_mul_x(&t1, p);
	g2_psi(&t2, p);
	lb_bls_g2_double(&t3, p);
	g2_psi(&t3, &t3);
	g2_psi(&t3, &t3);
	lb_bls_g2_neg(&t2, &t2);
	lb_bls_g2_add(&t3, &t3, &t2);
	lb_bls_g2_neg(&t2, &t2);
	lb_bls_g2_add(&t2, &t1, &t2);
	g2_mul_x(&t2, &t2);
	lb_bls_g2_add(&t3, &t3, &t2);
	lb_bls_g2_neg(&t1, &t1);
	lb_bls_g2_add(&t3, &t3, &t1);
	struct lb_bls_g2 np;
	lb_bls_g2_neg(&np, p);
	lb_bls_g2_add(out, &t3, &np);
}
