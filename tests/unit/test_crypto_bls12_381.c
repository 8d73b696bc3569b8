/* Unit tests for BLS12-381: the RFC 9380 hash-to-curve vectors of both suites
 * (tests/vectors/bls12_381/), the compressed generators and e(G1, G2) against the published GT
 * generator, bilinearity, the group law's edge cases, scalar arithmetic mod r, and every way a
 * point encoding is refused (flags, non-canonical x, no point, outside the subgroup). The live
 * differential test against @noble/curves is tests/integration/test_crypto_bls12_381. */
#include "test.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto/bls12_381_int.h"
#include "leben/base.h"
#include "leben/bls12_381.h"
#include "leben/error.h"

static char *vecfile(const char *name)
{
	const char *root = getenv("LEBEN_ROOT");
	char path[1024];
	uint8_t *p;
	size_t len;
	struct lb_errmsg em;
	snprintf(path, sizeof path, "%s/tests/vectors/bls12_381/%s", root ? root : ".", name);
	if (lb_file_read(path, 1 << 20, &p, &len, &em) != LB_OK)
		fail_msg("%s", em.text);
	char *s = lb_malloc(len + 1);
	memcpy(s, p, len);
	s[len] = 0;
	lb_free(p);
	return s;
}

/* the next non-comment line of *cur (modified in place), or NULL */
static char *next_line(char **cur)
{
	while (*cur && **cur) {
		char *line = *cur, *nl = strchr(line, '\n');
		if (nl) {
			*nl = 0;
			*cur = nl + 1;
		} else {
			*cur = line + strlen(line);
		}
		if (line[0] && line[0] != '#')
			return line;
	}
	return NULL;
}

static void hex48(uint8_t out[48], const char *h)
{
	assert_int_equal(lb_hex_decode(out, 48, h), LB_OK);
}

static void test_generators_and_gt(void **state)
{
	char *f = vecfile("pairing.txt"), *cur = f, *line;
	uint8_t gt_exp[576], g1_exp[48], g2_exp[96], b[576];
	struct lb_bls_g1 g, g1d;
	struct lb_bls_g2 h, h2d;
	struct lb_bls_gt t;
	(void)state;
	assert_non_null(line = next_line(&cur));
	assert_int_equal(lb_hex_decode(gt_exp, 576, line), LB_OK);
	assert_non_null(line = next_line(&cur));
	assert_int_equal(lb_hex_decode(g1_exp, 48, line), LB_OK);
	assert_non_null(line = next_line(&cur));
	assert_int_equal(lb_hex_decode(g2_exp, 96, line), LB_OK);
	lb_bls_g1_generator(&g);
	lb_bls_g2_generator(&h);
	lb_bls_g1_compress(b, &g);
	assert_memory_equal(b, g1_exp, 48);
	lb_bls_g2_compress(b, &h);
	assert_memory_equal(b, g2_exp, 96);
	assert_lb_ok(lb_bls_g1_decompress(&g1d, g1_exp));
	assert_lb_ok(lb_bls_g2_decompress(&h2d, g2_exp));
	assert_true(lb_bls_g1_equal(&g, &g1d));
	assert_true(lb_bls_g2_equal(&h, &h2d));
	lb_bls_pairing(&t, &g, &h);
	lb_bls_gt_to_bytes(b, &t);
	assert_memory_equal(b, gt_exp, 576);
	lb_free(f);
}

static void test_hash_to_curve_vectors(void **state)
{
	static const char *dst1 = "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
	static const char *dst2 = "QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";
	char *f = vecfile("rfc9380_g1.txt"), *cur = f, *line;
	int n = 0;
	(void)state;
	while ((line = next_line(&cur))) {
		char *q = strchr(line + 1, '"');
		uint8_t x[48], y[48], b[48];
		fp ex, ey, ax, ay;
		struct lb_bls_g1 p;
		assert_non_null(q);
		*q = 0;
		char xs[97], ys[97];
		assert_int_equal(sscanf(q + 1, " %96s %96s", xs, ys), 2);
		hex48(x, xs);
		hex48(y, ys);
		assert_lb_ok(lb_bls_g1_hash(&p, (const uint8_t *)line + 1, strlen(line + 1),
					   (const uint8_t *)dst1, strlen(dst1)));
		bls_g1_to_affine(&ax, &ay, &p);
		assert_true(fp_from_bytes(&ex, x) && fp_from_bytes(&ey, y));
		assert_true(fp_eq(&ax, &ex) && fp_eq(&ay, &ey));
		assert_true(lb_bls_g1_is_valid(&p));
		lb_bls_g1_compress(b, &p);
		n++;
	}
	assert_int_equal(n, 5);
	lb_free(f);
	f = vecfile("rfc9380_g2.txt");
	cur = f;
	n = 0;
	while ((line = next_line(&cur))) {
		char *q = strchr(line + 1, '"'), hs[4][97];
		uint8_t v[4][48];
		fp2 ex, ey, ax, ay;
		struct lb_bls_g2 p;
		assert_non_null(q);
		*q = 0;
		assert_int_equal(sscanf(q + 1, " %96s %96s %96s %96s", hs[0], hs[1], hs[2], hs[3]), 4);
		for (int i = 0; i < 4; i++)
			hex48(v[i], hs[i]);
		assert_lb_ok(lb_bls_g2_hash(&p, (const uint8_t *)line + 1, strlen(line + 1),
					   (const uint8_t *)dst2, strlen(dst2)));
		bls_g2_to_affine(&ax, &ay, &p);
		assert_true(fp_from_bytes(&ex.c0, v[0]) && fp_from_bytes(&ex.c1, v[1]));
		assert_true(fp_from_bytes(&ey.c0, v[2]) && fp_from_bytes(&ey.c1, v[3]));
		assert_true(fp2_eq(&ax, &ex) && fp2_eq(&ay, &ey));
		assert_true(lb_bls_g2_is_valid(&p));
		n++;
	}
	assert_int_equal(n, 5);
	lb_free(f);
}

static void test_hash_dst_limits(void **state)
{
	uint8_t dst[256];
	struct lb_bls_g1 p;
	struct lb_bls_g2 q;
	(void)state;
	memset(dst, 'd', sizeof dst);
	assert_int_equal(lb_bls_g1_hash(&p, dst, 3, dst, 0), LB_EINVALID);
	assert_int_equal(lb_bls_g1_hash(&p, dst, 3, dst, 256), LB_EINVALID);
	assert_int_equal(lb_bls_g2_hash(&q, dst, 3, dst, 256), LB_EINVALID);
	assert_lb_ok(lb_bls_g1_hash(&p, dst, 3, dst, 255));
	assert_lb_ok(lb_bls_g2_hash(&q, dst, 3, dst, 255));
}

static void test_bilinearity(void **state)
{
	struct lb_bls_g1 g, ap, abp, o1;
	struct lb_bls_g2 h, bq, o2;
	struct lb_bls_scalar a, b, ab;
	struct lb_bls_gt e, e1, e2, e3, one;
	(void)state;
	lb_bls_g1_generator(&g);
	lb_bls_g2_generator(&h);
	lb_bls_pairing(&e, &g, &h);
	lb_bls_gt_one(&one);
	assert_false(lb_bls_gt_equal(&e, &one)); /* non-degenerate */
	for (int i = 0; i < 3; i++) {
		lb_bls_scalar_random(&a);
		lb_bls_scalar_random(&b);
		lb_bls_scalar_mul(&ab, &a, &b);
		lb_bls_g1_mul(&ap, &g, &a);
		lb_bls_g2_mul(&bq, &h, &b);
		lb_bls_pairing(&e1, &ap, &bq);
		lb_bls_gt_pow(&e2, &e, &ab);
		assert_true(lb_bls_gt_equal(&e1, &e2));
		lb_bls_g1_mul(&abp, &g, &ab);
		lb_bls_pairing(&e3, &abp, &h);
		assert_true(lb_bls_gt_equal(&e1, &e3));
		/* e(aP, bQ) e(-abP, Q) = 1 through the product */
		struct lb_bls_g1 ps[2];
		struct lb_bls_g2 qs[2];
		ps[0] = ap;
		lb_bls_g1_neg(&ps[1], &abp);
		qs[0] = bq;
		qs[1] = h;
		lb_bls_pairing_product(&e3, ps, qs, 2);
		assert_true(lb_bls_gt_is_one(&e3));
		/* gt inverse and r-th power */
		lb_bls_gt_inv(&e3, &e1);
		lb_bls_gt_mul(&e3, &e3, &e1);
		assert_true(lb_bls_gt_is_one(&e3));
	}
	lb_bls_g1_identity(&o1);
	lb_bls_g2_identity(&o2);
	lb_bls_pairing(&e1, &o1, &h);
	assert_true(lb_bls_gt_is_one(&e1));
	lb_bls_pairing(&e1, &g, &o2);
	assert_true(lb_bls_gt_is_one(&e1));
	lb_bls_pairing_product(&e1, NULL, NULL, 0);
	assert_true(lb_bls_gt_is_one(&e1));
	/* a product over more pairs than one Miller-loop chunk */
	struct lb_bls_g1 ps[11];
	struct lb_bls_g2 qs[11];
	struct lb_bls_scalar sum, k;
	lb_bls_scalar_from_u64(&sum, 0);
	for (int i = 0; i < 11; i++) {
		lb_bls_scalar_from_u64(&k, (uint64_t)i * 7 + 3);
		lb_bls_scalar_add(&sum, &sum, &k);
		lb_bls_g1_mul(&ps[i], &g, &k);
		qs[i] = h;
	}
	lb_bls_pairing_product(&e1, ps, qs, 11);
	lb_bls_gt_pow(&e2, &e, &sum);
	assert_true(lb_bls_gt_equal(&e1, &e2));
}

static void test_group_law(void **state)
{
	struct lb_bls_g1 g, t, u, o;
	struct lb_bls_g2 h, v, w, o2;
	struct lb_bls_scalar k, rm1, one;
	uint8_t b[96], rm1b[32] = {0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8,
				   0x08, 0x09, 0xa1, 0xd8, 0x05, 0x53, 0xbd, 0xa4, 0x02, 0xff, 0xfe,
				   0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00};
	(void)state;
	lb_bls_g1_generator(&g);
	lb_bls_g2_generator(&h);
	lb_bls_g1_identity(&o);
	lb_bls_g2_identity(&o2);
	/* add(P, P) = double(P); P + O = P; P - P = O */
	lb_bls_g1_add(&t, &g, &g);
	lb_bls_g1_double(&u, &g);
	assert_true(lb_bls_g1_equal(&t, &u));
	lb_bls_g1_add(&t, &g, &o);
	assert_true(lb_bls_g1_equal(&t, &g));
	lb_bls_g1_neg(&u, &g);
	lb_bls_g1_add(&t, &g, &u);
	assert_true(lb_bls_g1_is_identity(&t));
	lb_bls_g2_add(&v, &h, &h);
	lb_bls_g2_double(&w, &h);
	assert_true(lb_bls_g2_equal(&v, &w));
	lb_bls_g2_neg(&w, &h);
	lb_bls_g2_add(&v, &w, &h);
	assert_true(lb_bls_g2_is_identity(&v));
	/* (r-1) P = -P */
	assert_lb_ok(lb_bls_scalar_from_bytes(&rm1, rm1b));
	lb_bls_g1_mul(&t, &g, &rm1);
	lb_bls_g1_neg(&u, &g);
	assert_true(lb_bls_g1_equal(&t, &u));
	lb_bls_g2_mul(&v, &h, &rm1);
	lb_bls_g2_neg(&w, &h);
	assert_true(lb_bls_g2_equal(&v, &w));
	/* 0 P = O, encoded as c0 00.. */
	lb_bls_scalar_from_u64(&k, 0);
	lb_bls_g1_mul(&t, &g, &k);
	assert_true(lb_bls_g1_is_identity(&t));
	lb_bls_g1_compress(b, &t);
	assert_int_equal(b[0], 0xc0);
	lb_bls_g2_mul(&v, &h, &k);
	lb_bls_g2_compress(b, &v);
	assert_int_equal(b[0], 0xc0);
	assert_lb_ok(lb_bls_g2_decompress(&w, b));
	assert_true(lb_bls_g2_is_identity(&w));
	/* scalars */
	lb_bls_scalar_from_u64(&one, 1);
	lb_bls_scalar_random(&k);
	struct lb_bls_scalar ki, p;
	lb_bls_scalar_inv(&ki, &k);
	lb_bls_scalar_mul(&p, &ki, &k);
	assert_true(lb_bls_scalar_equal(&p, &one));
	lb_bls_scalar_add(&p, &rm1, &one);
	assert_true(lb_bls_scalar_is_zero(&p));
	lb_bls_scalar_neg(&p, &one);
	assert_true(lb_bls_scalar_equal(&p, &rm1));
	lb_bls_scalar_to_bytes(b, &rm1);
	assert_memory_equal(b, rm1b, 32);
	rm1b[31] = 1; /* r itself */
	assert_int_equal(lb_bls_scalar_from_bytes(&p, rm1b), LB_ERANGE);
	uint8_t wide[64];
	memset(wide, 0xff, sizeof wide);
	lb_bls_scalar_from_wide(&p, wide, 64); /* (2^512 - 1) mod r */
	lb_bls_scalar_to_bytes(b, &p);
	static const uint8_t exp512[32] = {0x07, 0x48, 0xd9, 0xd9, 0x9f, 0x59, 0xff, 0x11, 0x05, 0xd3, 0x14, 0x96,
					   0x72, 0x54, 0x39, 0x8f, 0x2b, 0x6c, 0xed, 0xcb, 0x87, 0x92, 0x5c, 0x23,
					   0xc9, 0x99, 0xe9, 0x90, 0xf3, 0xf2, 0x9c, 0x6c};
	assert_memory_equal(b, exp512, 32);
}

static void test_decode_refusals(void **state)
{
	uint8_t b[96], c[96];
	struct lb_bls_g1 g, p;
	struct lb_bls_g2 h, q;
	(void)state;
	lb_bls_g1_generator(&g);
	lb_bls_g2_generator(&h);
	lb_bls_g1_compress(b, &g);
	/* the uncompressed flag */
	memcpy(c, b, 48);
	c[0] &= 0x7f;
	assert_int_equal(lb_bls_g1_decompress(&p, c), LB_EMALFORMED);
	/* the identity with the sort bit or any other bit */
	memset(c, 0, 48);
	c[0] = 0xe0;
	assert_int_equal(lb_bls_g1_decompress(&p, c), LB_EMALFORMED);
	c[0] = 0xc0;
	c[47] = 1;
	assert_int_equal(lb_bls_g1_decompress(&p, c), LB_EMALFORMED);
	c[47] = 0;
	assert_lb_ok(lb_bls_g1_decompress(&p, c));
	/* x = p (not canonical) */
	static const char *phex = "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab";
	hex48(c, phex);
	c[0] |= 0x80;
	assert_int_equal(lb_bls_g1_decompress(&p, c), LB_EMALFORMED);
	/* x with no point, and a point on the curve outside G1: search small x */
	int no_point = 0, off_group = 0;
	for (uint64_t x = 1; x < 64 && !(no_point && off_group); x++) {
		fp fx, t, four;
		fp_from_u64(&fx, x);
		fp_from_u64(&four, 4);
		fp_sqr(&t, &fx);
		fp_mul(&t, &t, &fx);
		fp_add(&t, &t, &four);
		fp_to_bytes(c, &fx);
		c[0] |= 0x80;
		int rc = lb_bls_g1_decompress(&p, c);
		if (!fp_is_square(&t)) {
			assert_int_equal(rc, LB_EINVALID); /* no point with this x */
			no_point = 1;
		} else if (rc == LB_EINVALID) {
			off_group = 1; /* on the curve, outside the order-r subgroup */
		}
	}
	assert_true(no_point && off_group);
	/* the same for G2 with x = (k, 1) */
	no_point = off_group = 0;
	for (uint64_t x = 1; x < 64 && !(no_point && off_group); x++) {
		fp2 fx, t, b2;
		fp_from_u64(&fx.c0, x);
		fp_from_u64(&fx.c1, 1);
		fp_from_u64(&b2.c0, 4);
		fp_from_u64(&b2.c1, 4);
		fp2_sqr(&t, &fx);
		fp2_mul(&t, &t, &fx);
		fp2_add(&t, &t, &b2);
		fp_to_bytes(c, &fx.c1);
		fp_to_bytes(c + 48, &fx.c0);
		c[0] |= 0x80;
		int rc = lb_bls_g2_decompress(&q, c);
		if (!fp2_is_square(&t)) {
			assert_int_equal(rc, LB_EINVALID);
			no_point = 1;
		} else if (rc == LB_EINVALID) {
			off_group = 1;
		}
	}
	assert_true(no_point && off_group);
	/* the sort bit changes the point */
	memcpy(c, b, 48);
	c[0] ^= 0x20;
	assert_lb_ok(lb_bls_g1_decompress(&p, c));
	lb_bls_g1_neg(&p, &p);
	assert_true(lb_bls_g1_equal(&p, &g));
	/* G2 */
	lb_bls_g2_compress(b, &h);
	memcpy(c, b, 96);
	c[0] &= 0x7f;
	assert_int_equal(lb_bls_g2_decompress(&q, c), LB_EMALFORMED);
	memcpy(c, b, 96);
	hex48(c + 48, phex); /* x.c0 = p */
	assert_int_equal(lb_bls_g2_decompress(&q, c), LB_EMALFORMED);
	memcpy(c, b, 96);
	c[0] ^= 0x20;
	assert_lb_ok(lb_bls_g2_decompress(&q, c));
	lb_bls_g2_neg(&q, &q);
	assert_true(lb_bls_g2_equal(&q, &h));
}

/* the endomorphism membership tests agree with the definition [r] P = O on points of the
 * curve inside and outside the subgroup */
static void test_subgroup_checks(void **state)
{
	static const uint8_t rm1b[32] = {0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8,
					 0x08, 0x09, 0xa1, 0xd8, 0x05, 0x53, 0xbd, 0xa4, 0x02, 0xff, 0xfe,
					 0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00};
	struct lb_bls_scalar rm1;
	int in = 0, out = 0;
	(void)state;
	assert_lb_ok(lb_bls_scalar_from_bytes(&rm1, rm1b));
	for (uint64_t x = 1; x < 40; x++) {
		struct lb_bls_g1 p, t;
		fp four, y2;
		fp_from_u64(&p.x, x);
		fp_from_u64(&four, 4);
		fp_sqr(&y2, &p.x);
		fp_mul(&y2, &y2, &p.x);
		fp_add(&y2, &y2, &four);
		if (!fp_sqrt(&p.y, &y2))
			continue;
		p.z = BLS_FP_ONE_C;
		for (int clear = 0; clear < 2; clear++) {
			if (clear)
				bls_g1_clear_cofactor(&p, &p);
			lb_bls_g1_mul(&t, &p, &rm1);
			lb_bls_g1_add(&t, &t, &p);
			assert_int_equal(lb_bls_g1_is_valid(&p), lb_bls_g1_is_identity(&t));
			if (lb_bls_g1_is_identity(&t))
				in++;
			else
				out++;
		}
	}
	for (uint64_t x = 1; x < 40; x++) {
		struct lb_bls_g2 p, t;
		fp2 b2, y2;
		fp_from_u64(&p.x.c0, x);
		fp_from_u64(&p.x.c1, 3);
		fp_from_u64(&b2.c0, 4);
		fp_from_u64(&b2.c1, 4);
		fp2_sqr(&y2, &p.x);
		fp2_mul(&y2, &y2, &p.x);
		fp2_add(&y2, &y2, &b2);
		if (!fp2_sqrt(&p.y, &y2))
			continue;
		fp2_one(&p.z);
		for (int clear = 0; clear < 2; clear++) {
			if (clear)
				bls_g2_clear_cofactor(&p, &p);
			lb_bls_g2_mul(&t, &p, &rm1);
			lb_bls_g2_add(&t, &t, &p);
			assert_int_equal(lb_bls_g2_is_valid(&p), lb_bls_g2_is_identity(&t));
			if (lb_bls_g2_is_identity(&t))
				in++;
			else
				out++;
		}
	}
	assert_true(in > 20 && out > 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generators_and_gt),
		cmocka_unit_test(test_hash_to_curve_vectors),
		cmocka_unit_test(test_hash_dst_limits),
		cmocka_unit_test(test_bilinearity),
		cmocka_unit_test(test_group_law),
		cmocka_unit_test(test_decode_refusals),
		cmocka_unit_test(test_subgroup_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
