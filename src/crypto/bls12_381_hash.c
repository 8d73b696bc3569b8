/*
 * Hash-to-curve for BLS12-381 (RFC 9380): expand_message_xmd with SHA-256 (libsodium), hash_to_field
 * with L = 64, the simplified SWU map to the 11-isogenous (G1) or 3-isogenous (G2) curve, the
 * isogeny, and cofactor clearing; suites BLS12381G1_XMD:SHA-256_SSWU_RO_ and
 * BLS12381G2_XMD:SHA-256_SSWU_RO_.
 */
#include <string.h>

#include <sodium.h>

#include "crypto/bls12_381_consts.h"
#include "crypto/bls12_381_int.h"
#include "leben/error.h"

int bls_expand_xmd(uint8_t *out, size_t out_len, const uint8_t *msg, size_t msg_len,
		   const uint8_t *dst, size_t dst_len)
{
	static const uint8_t zpad[64];
	size_t ell = (out_len + 31) / 32;
	uint8_t b0[32], bi[32], tmp[32], lib[3], dlen;
	crypto_hash_sha256_state st;
	if (ell > 255 || out_len > 65535 || dst_len > 255 || dst_len == 0)
		return 0;
	dlen = (uint8_t)dst_len;
	lib[0] = (uint8_t)(out_len >> 8);
	lib[1] = (uint8_t)out_len;
	lib[2] = 0;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, zpad, sizeof zpad);
	crypto_hash_sha256_update(&st, msg, msg_len);
	crypto_hash_sha256_update(&st, lib, 3);
	crypto_hash_sha256_update(&st, dst, dst_len);
	crypto_hash_sha256_update(&st, &dlen, 1);
	crypto_hash_sha256_final(&st, b0);
	memset(bi, 0, sizeof bi);
	for (size_t i = 1; i <= ell; i++) {
		uint8_t idx = (uint8_t)i;
		for (int j = 0; j < 32; j++)
			tmp[j] = (uint8_t)(b0[j] ^ (i == 1 ? 0 : bi[j]));
		crypto_hash_sha256_init(&st);
		crypto_hash_sha256_update(&st, i == 1 ? b0 : tmp, 32);
		crypto_hash_sha256_update(&st, &idx, 1);
		crypto_hash_sha256_update(&st, dst, dst_len);
		crypto_hash_sha256_update(&st, &dlen, 1);
		crypto_hash_sha256_final(&st, bi);
		size_t take = out_len - (i - 1) * 32 < 32 ? out_len - (i - 1) * 32 : 32;
		memcpy(out + (i - 1) * 32, bi, take);
	}
	return 1;
}

static void fp_one_(fp *o) { *o = BLS_FP_ONE_C; }

static const fp SSWU1_A = BLS_SSWU1_A, SSWU1_B = BLS_SSWU1_B, SSWU1_Z = BLS_SSWU1_Z;
static const fp SSWU1_C1 = BLS_SSWU1_C1, SSWU1_C2 = BLS_SSWU1_C2;
static const fp2 SSWU2_A = BLS_SSWU2_A, SSWU2_B = BLS_SSWU2_B, SSWU2_Z = BLS_SSWU2_Z;
static const fp2 SSWU2_C1 = BLS_SSWU2_C1, SSWU2_C2 = BLS_SSWU2_C2;

#define PT struct lb_bls_g1
#define FE fp
#define MAPNAME map_to_g1
#define FE_ADD fp_add
#define FE_MUL fp_mul
#define FE_SQR fp_sqr
#define FE_NEG fp_neg
#define FE_ONE fp_one_
#define FE_IS_ZERO fp_is_zero
#define FE_SQRT fp_sqrt
#define FE_INV fp_inv
#define FE_SGN0 fp_sgn0
#define FE_CMOV fp_cmov
#define SSWU_A SSWU1_A
#define SSWU_B SSWU1_B
#define SSWU_Z SSWU1_Z
#define SSWU_C1 SSWU1_C1
#define SSWU_C2 SSWU1_C2
#define ISO_XNUM BLS_ISO1_XNUM
#define ISO_XDEN BLS_ISO1_XDEN
#define ISO_YNUM BLS_ISO1_YNUM
#define ISO_YDEN BLS_ISO1_YDEN
#define ISO_XNUM_N BLS_ISO1_XNUM_N
#define ISO_XDEN_N BLS_ISO1_XDEN_N
#define ISO_YNUM_N BLS_ISO1_YNUM_N
#define ISO_YDEN_N BLS_ISO1_YDEN_N
#include "crypto/bls12_381_sswu.inc"
#undef PT
#undef FE
#undef MAPNAME
#undef FE_ADD
#undef FE_MUL
#undef FE_SQR
#undef FE_NEG
#undef FE_ONE
#undef FE_IS_ZERO
#undef FE_SQRT
#undef FE_INV
#undef FE_SGN0
#undef FE_CMOV
#undef SSWU_A
#undef SSWU_B
#undef SSWU_Z
#undef SSWU_C1
#undef SSWU_C2
#undef ISO_XNUM
#undef ISO_XDEN
#undef ISO_YNUM
#undef ISO_YDEN
#undef ISO_XNUM_N
#undef ISO_XDEN_N
#undef ISO_YNUM_N
#undef ISO_YDEN_N

#define PT struct lb_bls_g2
#define FE fp2
#define MAPNAME map_to_g2
#define FE_ADD fp2_add
#define FE_MUL fp2_mul
#define FE_SQR fp2_sqr
#define FE_NEG fp2_neg
#define FE_ONE fp2_one
#define FE_IS_ZERO fp2_is_zero
#define FE_SQRT fp2_sqrt
#define FE_INV fp2_inv
#define FE_SGN0 fp2_sgn0
#define FE_CMOV fp2_cmov
#define SSWU_A SSWU2_A
#define SSWU_B SSWU2_B
#define SSWU_Z SSWU2_Z
#define SSWU_C1 SSWU2_C1
#define SSWU_C2 SSWU2_C2
#define ISO_XNUM BLS_ISO2_XNUM
#define ISO_XDEN BLS_ISO2_XDEN
#define ISO_YNUM BLS_ISO2_YNUM
#define ISO_YDEN BLS_ISO2_YDEN
#define ISO_XNUM_N BLS_ISO2_XNUM_N
#define ISO_XDEN_N BLS_ISO2_XDEN_N
#define ISO_YNUM_N BLS_ISO2_YNUM_N
#define ISO_YDEN_N BLS_ISO2_YDEN_N
#include "crypto/bls12_381_sswu.inc"

int lb_bls_g1_hash(struct lb_bls_g1 *out, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
		   size_t dst_len)
{
	uint8_t u[128];
	fp e0, e1;
	struct lb_bls_g1 q0, q1;
	if (!bls_expand_xmd(u, sizeof u, msg, msg_len, dst, dst_len))
		return LB_EINVALID;
	fp_from_wide(&e0, u);
	fp_from_wide(&e1, u + 64);
	map_to_g1(&q0, &e0);
	map_to_g1(&q1, &e1);
	lb_bls_g1_add(&q0, &q0, &q1);
	bls_g1_clear_cofactor(out, &q0);
	return LB_OK;
}

int lb_bls_g2_hash(struct lb_bls_g2 *out, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
		   size_t dst_len)
{
	uint8_t u[256];
	fp2 e0, e1;
	struct lb_bls_g2 q0, q1;
	if (!bls_expand_xmd(u, sizeof u, msg, msg_len, dst, dst_len))
		return LB_EINVALID;
	fp_from_wide(&e0.c0, u);
	fp_from_wide(&e0.c1, u + 64);
	fp_from_wide(&e1.c0, u + 128);
	fp_from_wide(&e1.c1, u + 192);
	map_to_g2(&q0, &e0);
	map_to_g2(&q1, &e1);
	lb_bls_g2_add(&q0, &q0, &q1);
	bls_g2_clear_cofactor(out, &q0);
	return LB_OK;
}
