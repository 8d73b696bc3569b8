/*
 * Ed25519 batch verification with exactly the accept/reject set of libsodium's
 * crypto_sign_verify_detached (lb_sig_is_valid), the rule every node applies.
 *
 * Field arithmetic mod p = 2^255 - 19 in radix 2^51 (five 64-bit limbs, products in
 * unsigned __int128, as ref10/donna), points in extended twisted Edwards coordinates, a
 * Pippenger (bucket) multi-scalar multiplication. Everything here handles public data only
 * (signatures, public keys, messages), so it is variable time.
 *
 * Why the answer equals libsodium's (docs/security.md, "Batch verification"):
 *  - a signature enters the batch only if S < L, A and R are canonical encodings of curve
 *    points other than the identity, with x != 0; anything else is answered by libsodium;
 *  - the batch accepts only if (1) sum z_i (S_i B - h_i A_i - R_i) == identity (cofactorless,
 *    z_i random 128-bit) and (2) every A_i and R_i lies in the prime-order subgroup, tested by
 *    128 random subset sums each multiplied by L (a point with a torsion component escapes one
 *    subset sum with probability <= 1/2, so all 128 with probability <= 2^-128);
 *  - with (2), every D_i = S_i B - h_i A_i - R_i lies in the prime-order subgroup, so (1) holds
 *    with some D_i != 0 with probability <= 2^-128; with every D_i == 0 libsodium accepts
 *    (R = S B - h A, R canonical, so its encoding equals R's bytes; A, R not of small order);
 *  - when the batch does not accept, every signature is answered by libsodium itself.
 * A valid batch is always accepted (no false rejections), and an accept that libsodium would
 * refuse needs the verifier's random numbers to fail with probability below 2^-127.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "leben/crypto.h"

static _Atomic uint64_t singles; /* signatures answered one by one inside batch calls */

uint64_t lb_sig_batch_singles(void)
{
	return singles;
}

typedef uint64_t fe[5];
__extension__ typedef unsigned __int128 u128;

#define FE_INLINE static inline __attribute__((always_inline))
#define M51 ((uint64_t)0x7ffffffffffff)

/* ---- field arithmetic mod 2^255 - 19 ---------------------------------------------------- */

static uint64_t load64(const uint8_t *s)
{
	uint64_t r = 0;
	for (int i = 7; i >= 0; i--)
		r = (r << 8) | s[i];
	return r;
}

static void store64(uint8_t *s, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		s[i] = (uint8_t)v;
}

/* Reads the low 255 bits. */
static void fe_frombytes(fe h, const uint8_t s[32])
{
	h[0] = load64(s) & M51;
	h[1] = (load64(s + 6) >> 3) & M51;
	h[2] = (load64(s + 12) >> 6) & M51;
	h[3] = (load64(s + 19) >> 1) & M51;
	h[4] = (load64(s + 24) >> 12) & M51;
}

/* Carries limbs 0..3 into the next one (limb 4 keeps its excess). */
FE_INLINE void fe_carry_up(fe t)
{
	for (int i = 0; i < 4; i++) {
		t[i + 1] += t[i] >> 51;
		t[i] &= M51;
	}
}

FE_INLINE void fe_carry(fe t)
{
	fe_carry_up(t);
	t[0] += 19 * (t[4] >> 51);
	t[4] &= M51;
}

/* Canonical encoding (value fully reduced mod p), sign bit clear. */
static void fe_tobytes(uint8_t s[32], const fe h)
{
	fe t;
	memcpy(t, h, sizeof t);
	fe_carry(t);
	fe_carry(t);
	t[0] += 19;
	fe_carry(t);
	t[0] += 0x8000000000000ULL - 19;
	t[1] += 0x8000000000000ULL - 1;
	t[2] += 0x8000000000000ULL - 1;
	t[3] += 0x8000000000000ULL - 1;
	t[4] += 0x8000000000000ULL - 1;
	fe_carry_up(t);
	t[4] &= M51;
	store64(s, t[0] | (t[1] << 51));
	store64(s + 8, (t[1] >> 13) | (t[2] << 38));
	store64(s + 16, (t[2] >> 26) | (t[3] << 25));
	store64(s + 24, (t[3] >> 39) | (t[4] << 12));
}

FE_INLINE void fe_add(fe r, const fe a, const fe b)
{
	for (int i = 0; i < 5; i++)
		r[i] = a[i] + b[i];
}

/* a - b + 4p, carried; b's limbs must stay below 2^53. */
FE_INLINE void fe_sub(fe r, const fe a, const fe b)
{
	r[0] = a[0] + 0x1fffffffffffb4ULL - b[0];
	for (int i = 1; i < 5; i++)
		r[i] = a[i] + 0x1ffffffffffffcULL - b[i];
	fe_carry(r);
}

static void fe_neg(fe r, const fe a)
{
	fe z = {0, 0, 0, 0, 0};
	fe_sub(r, z, a);
}

FE_INLINE void fe_reduce128(fe r, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
	uint64_t c;
	c = (uint64_t)(r0 >> 51);
	r1 += c;
	c = (uint64_t)(r1 >> 51);
	r2 += c;
	c = (uint64_t)(r2 >> 51);
	r3 += c;
	c = (uint64_t)(r3 >> 51);
	r4 += c;
	c = (uint64_t)(r4 >> 51);
	r[0] = ((uint64_t)r0 & M51) + c * 19;
	r[1] = (uint64_t)r1 & M51;
	r[2] = (uint64_t)r2 & M51;
	r[3] = (uint64_t)r3 & M51;
	r[4] = (uint64_t)r4 & M51;
	r[1] += r[0] >> 51;
	r[0] &= M51;
}

FE_INLINE void fe_mul(fe r, const fe a, const fe b)
{
	uint64_t b1 = 19 * b[1], b2 = 19 * b[2], b3 = 19 * b[3], b4 = 19 * b[4];
	u128 r0 = (u128)a[0] * b[0] + (u128)a[1] * b4 + (u128)a[2] * b3 + (u128)a[3] * b2 +
		  (u128)a[4] * b1;
	u128 r1 = (u128)a[0] * b[1] + (u128)a[1] * b[0] + (u128)a[2] * b4 + (u128)a[3] * b3 +
		  (u128)a[4] * b2;
	u128 r2 = (u128)a[0] * b[2] + (u128)a[1] * b[1] + (u128)a[2] * b[0] + (u128)a[3] * b4 +
		  (u128)a[4] * b3;
	u128 r3 = (u128)a[0] * b[3] + (u128)a[1] * b[2] + (u128)a[2] * b[1] + (u128)a[3] * b[0] +
		  (u128)a[4] * b4;
	u128 r4 = (u128)a[0] * b[4] + (u128)a[1] * b[3] + (u128)a[2] * b[2] + (u128)a[3] * b[1] +
		  (u128)a[4] * b[0];
	fe_reduce128(r, r0, r1, r2, r3, r4);
}

FE_INLINE void fe_sq(fe r, const fe a)
{
	uint64_t d0 = 2 * a[0], d1 = 2 * a[1], d2 = 2 * a[2];
	uint64_t a3_19 = 19 * a[3], a4_19 = 19 * a[4];
	u128 r0 = (u128)a[0] * a[0] + (u128)d1 * a4_19 + (u128)d2 * a3_19;
	u128 r1 = (u128)d0 * a[1] + (u128)d2 * a4_19 + (u128)a[3] * a3_19;
	u128 r2 = (u128)d0 * a[2] + (u128)a[1] * a[1] + (u128)(2 * a[3]) * a4_19;
	u128 r3 = (u128)d0 * a[3] + (u128)d1 * a[2] + (u128)a[4] * a4_19;
	u128 r4 = (u128)d0 * a[4] + (u128)d1 * a[3] + (u128)a[2] * a[2];
	fe_reduce128(r, r0, r1, r2, r3, r4);
}

static void fe_sqn(fe r, const fe a, int n)
{
	fe_sq(r, a);
	while (--n > 0)
		fe_sq(r, r);
}

/* r = a^(2^n) * b */
static void fe_sqn_mul(fe r, const fe a, int n, const fe b)
{
	fe t;
	fe_sqn(t, a, n);
	fe_mul(r, t, b);
}

/* z^(2^250 - 1) into t250 and z^11 into z11 (the ref10 addition chain; tK = z^(2^K - 1)). */
static void fe_pow250(fe t250, fe z11, const fe z)
{
	fe z2, z9, t5, t10, t20, t40, t50, t100, t200;
	fe_sq(z2, z);
	fe_sqn_mul(z9, z2, 2, z);
	fe_mul(z11, z9, z2);
	fe_sqn_mul(t5, z11, 1, z9);
	fe_sqn_mul(t10, t5, 5, t5);
	fe_sqn_mul(t20, t10, 10, t10);
	fe_sqn_mul(t40, t20, 20, t20);
	fe_sqn_mul(t50, t40, 10, t10);
	fe_sqn_mul(t100, t50, 50, t50);
	fe_sqn_mul(t200, t100, 100, t100);
	fe_sqn_mul(t250, t200, 50, t50);
}

static void fe_invert(fe r, const fe z)
{
	fe t250, z11;
	fe_pow250(t250, z11, z);
	fe_sqn_mul(r, t250, 5, z11); /* 2^255 - 21 = p - 2 */
}

static void fe_pow22523(fe r, const fe z)
{
	fe t250, z11;
	fe_pow250(t250, z11, z);
	fe_sqn_mul(r, t250, 2, z); /* 2^252 - 3 */
}

static bool fe_is_zero(const fe a)
{
	uint8_t s[32], z[32] = {0};
	fe_tobytes(s, a);
	return memcmp(s, z, 32) == 0;
}

static bool fe_is_negative(const fe a)
{
	uint8_t s[32];
	fe_tobytes(s, a);
	return s[0] & 1;
}

/* ---- points ------------------------------------------------------------------------------ */

struct ge {
	fe X, Y, Z, T; /* extended coordinates: x = X/Z, y = Y/Z, xy = T/Z */
};

struct ge_niels {
	fe ypx, ymx, xy2d; /* an affine point: y + x, y - x, 2d x y */
};

static fe ed_d, ed_d2, ed_sqrtm1;
static struct ge ed_base;
static pthread_once_t ed_once = PTHREAD_ONCE_INIT;

static const uint8_t order_L[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
	0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
	0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10,
};

static void ge_identity(struct ge *p)
{
	memset(p, 0, sizeof *p);
	p->Y[0] = 1;
	p->Z[0] = 1;
}

static void ge_dbl(struct ge *r, const struct ge *p)
{
	fe xx, yy, zz2, e, yc, zc, tc, t;
	fe_sq(xx, p->X);
	fe_sq(yy, p->Y);
	fe_sq(zz2, p->Z);
	fe_add(zz2, zz2, zz2);
	fe_add(t, p->X, p->Y);
	fe_sq(e, t);
	fe_add(yc, yy, xx);
	fe_sub(e, e, yc); /* 2XY */
	fe_sub(zc, yy, xx);
	fe_sub(tc, zz2, zc);
	fe_mul(r->X, e, tc);
	fe_mul(r->Y, yc, zc);
	fe_mul(r->Z, zc, tc);
	fe_mul(r->T, e, yc);
}

/* The end of an addition (add-2008-hwcd-3, a = -1): a = (Y1-X1)(Y2-X2), b = (Y1+X1)(Y2+X2),
 * c = 2d T1 T2, d = 2 Z1 Z2. */
static void ge_add_finish(struct ge *r, const fe a, const fe b, const fe c, const fe d)
{
	fe e, f, g, h;
	fe_sub(e, b, a);
	fe_sub(f, d, c);
	fe_add(g, d, c);
	fe_add(h, b, a);
	fe_mul(r->X, e, f);
	fe_mul(r->Y, g, h);
	fe_mul(r->T, e, h);
	fe_mul(r->Z, f, g);
}

/* r = p + q, q affine. */
static void ge_madd(struct ge *r, const struct ge *p, const struct ge_niels *q)
{
	fe a, b, c, d;
	fe_sub(a, p->Y, p->X);
	fe_mul(a, a, q->ymx);
	fe_add(b, p->Y, p->X);
	fe_mul(b, b, q->ypx);
	fe_mul(c, p->T, q->xy2d);
	fe_add(d, p->Z, p->Z);
	ge_add_finish(r, a, b, c, d);
}

/* r = p + q. */
static void ge_add(struct ge *r, const struct ge *p, const struct ge *q)
{
	fe a, b, c, d, t;
	fe_sub(a, p->Y, p->X);
	fe_sub(t, q->Y, q->X);
	fe_mul(a, a, t);
	fe_add(b, p->Y, p->X);
	fe_add(t, q->Y, q->X);
	fe_mul(b, b, t);
	fe_mul(c, p->T, q->T);
	fe_mul(c, c, ed_d2);
	fe_mul(d, p->Z, q->Z);
	fe_add(d, d, d);
	ge_add_finish(r, a, b, c, d);
}

static bool ge_is_identity(const struct ge *p)
{
	fe t;
	fe_sub(t, p->Y, p->Z);
	return fe_is_zero(p->X) && fe_is_zero(t);
}

/* Decodes a canonical encoding: y < p, a point on the curve, x != 0 (so not the identity nor
 * the point of order 2, both of small order). False for anything else. */
static bool ge_decode(struct ge *p, const uint8_t s[32])
{
	static const uint8_t p_bytes[32] = {
		0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
	};
	int i = 31;
	uint8_t top = s[31] & 0x7f;
	if (top == 0x7f) { /* y >= p? compare the low 255 bits with p */
		for (i = 30; i > 0 && s[i] == 0xff; i--)
			;
		if (i == 0 && s[0] >= p_bytes[0])
			return false;
	}
	fe u, v, v3, vxx, check, one = {1, 0, 0, 0, 0};
	fe_frombytes(p->Y, s);
	memcpy(p->Z, one, sizeof one);
	fe_sq(u, p->Y);
	fe_mul(v, u, ed_d);
	fe_sub(u, u, one);
	fe_add(v, v, one);
	fe_carry(v);
	fe_sq(v3, v);
	fe_mul(v3, v3, v); /* v^3 */
	fe_sq(p->X, v3);
	fe_mul(p->X, p->X, v);
	fe_mul(p->X, p->X, u); /* u v^7 */
	fe_pow22523(p->X, p->X);
	fe_mul(p->X, p->X, v3);
	fe_mul(p->X, p->X, u); /* u v^3 (u v^7)^((p-5)/8) */
	fe_sq(vxx, p->X);
	fe_mul(vxx, vxx, v);
	fe_sub(check, vxx, u);
	if (!fe_is_zero(check)) {
		fe_add(check, vxx, u);
		fe_carry(check);
		if (!fe_is_zero(check))
			return false;
		fe_mul(p->X, p->X, ed_sqrtm1);
	}
	if (fe_is_zero(p->X))
		return false;
	if (fe_is_negative(p->X) != (s[31] >> 7))
		fe_neg(p->X, p->X);
	fe_mul(p->T, p->X, p->Y);
	return true;
}

/* The affine form of p negated (p must have Z = 1). */
static void ge_to_niels_neg(struct ge_niels *n, const struct ge *p)
{
	fe_add(n->ymx, p->Y, p->X); /* -p: x -> -x swaps y+x and y-x */
	fe_carry(n->ymx);
	fe_sub(n->ypx, p->Y, p->X);
	fe_mul(n->xy2d, p->T, ed_d2);
	fe_neg(n->xy2d, n->xy2d);
}

static void ge_to_niels(struct ge_niels *n, const struct ge *p)
{
	fe_add(n->ypx, p->Y, p->X);
	fe_carry(n->ypx);
	fe_sub(n->ymx, p->Y, p->X);
	fe_mul(n->xy2d, p->T, ed_d2);
}

/* [L] p == identity: p lies in the prime-order subgroup. */
static bool ge_is_torsion_free(const struct ge *p)
{
	struct ge r;
	ge_identity(&r);
	for (int i = 252; i >= 0; i--) {
		ge_dbl(&r, &r);
		if ((order_L[i >> 3] >> (i & 7)) & 1)
			ge_add(&r, &r, p);
	}
	return ge_is_identity(&r);
}

static void ed_init(void)
{
	static const uint8_t base_y[32] = {
		0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
		0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
		0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	};
	fe num = {121665, 0, 0, 0, 0}, den = {121666, 0, 0, 0, 0}, two = {2, 0, 0, 0, 0}, t;
	fe_invert(t, den);
	fe_mul(ed_d, num, t);
	fe_neg(ed_d, ed_d); /* d = -121665 / 121666 */
	fe_add(ed_d2, ed_d, ed_d);
	fe_carry(ed_d2);
	fe_pow22523(t, two);
	fe_sq(t, t);
	fe_mul(ed_sqrtm1, t, two); /* 2^((p-1)/4), a square root of -1 */
	ge_decode(&ed_base, base_y);
}

/* ---- multi-scalar multiplication --------------------------------------------------------- */

static unsigned scalar_window(const uint8_t s[32], unsigned bit, unsigned c)
{
	unsigned v = 0;
	for (unsigned k = 0; k < c && bit + k < 256; k++)
		v |= (unsigned)((s[(bit + k) >> 3] >> ((bit + k) & 7)) & 1) << k;
	return v;
}

/* sum scalars[i] * pts[i] (unsigned-window Pippenger). Returns false on out of memory. */
static bool msm(struct ge *out, const struct ge_niels *pts, const uint8_t (*scalars)[32],
		size_t n)
{
	unsigned c = n < 32 ? 3 : n < 128 ? 5 : n < 512 ? 6 : n < 1024 ? 7 : n < 4096 ? 8 : n < 8192 ? 9 : 11;
	size_t nb = (size_t)1 << c;
	struct ge *bucket = malloc(nb * sizeof *bucket);
	bool *used = malloc(nb);
	if (!bucket || !used) {
		free(bucket);
		free(used);
		return false;
	}
	unsigned windows = (253 + c - 1) / c;
	ge_identity(out);
	for (unsigned w = windows; w-- > 0;) {
		for (unsigned k = 0; k < c; k++)
			ge_dbl(out, out);
		memset(used, 0, nb);
		for (size_t i = 0; i < n; i++) {
			unsigned d = scalar_window(scalars[i], w * c, c);
			if (!d)
				continue;
			if (!used[d]) {
				ge_identity(&bucket[d]);
				used[d] = true;
			}
			ge_madd(&bucket[d], &bucket[d], &pts[i]);
		}
		struct ge run, sum;
		bool any = false;
		ge_identity(&run);
		ge_identity(&sum);
		for (size_t d = nb - 1; d > 0; d--) {
			if (used[d]) {
				ge_add(&run, &run, &bucket[d]);
				any = true;
			}
			if (any)
				ge_add(&sum, &sum, &run);
		}
		if (any)
			ge_add(out, out, &sum);
	}
	free(bucket);
	free(used);
	return true;
}

/* Every point in the prime-order subgroup, with error probability <= 2^-128: 16 passes, each
 * sorting the points into 256 buckets by 8 fresh random bits; the 8 subset sums of a pass
 * (bit j of the bucket index set) are each multiplied by L. */
static bool all_torsion_free(const struct ge_niels *pts, size_t n)
{
	struct ge *bucket = malloc(256 * sizeof *bucket);
	uint8_t *bits = malloc(n ? n : 1);
	bool ok = bucket && bits;
	for (int pass = 0; ok && pass < 16; pass++) {
		randombytes_buf(bits, n);
		for (int b = 0; b < 256; b++)
			ge_identity(&bucket[b]);
		for (size_t i = 0; i < n; i++)
			ge_madd(&bucket[bits[i]], &bucket[bits[i]], &pts[i]);
		/* fold: the sum of the buckets with bit j set, j from 7 down */
		for (int j = 7; ok && j >= 0; j--) {
			size_t half = (size_t)1 << j;
			struct ge s;
			ge_identity(&s);
			for (size_t b = half; b < 2 * half; b++)
				ge_add(&s, &s, &bucket[b]);
			ok = ge_is_torsion_free(&s);
			for (size_t b = 0; b < half; b++) /* forget bit j */
				ge_add(&bucket[b], &bucket[b], &bucket[b + half]);
		}
	}
	free(bucket);
	free(bits);
	return ok;
}

/* ---- the batch ---------------------------------------------------------------------------- */

static bool scalar_is_canonical(const uint8_t s[32])
{
	for (int i = 31; i >= 0; i--) {
		if (s[i] != order_L[i])
			return s[i] < order_L[i];
	}
	return false;
}

/* Prepares item it as batch entry k: its negated R and A with the coefficients z and z h,
 * and adds z S to bsum. False if R or A is not a canonical encoding of a point (then libsodium
 * answers it). */
/* Public keys repeat (a sender signs many txs), and decoding one costs a square root: the
 * negated decoded keys are kept in a small direct-mapped table. Decoding is deterministic, so a
 * kept entry equals a fresh decoding; a colliding key only costs the time to decode again. */
#define KEYCACHE_SIZE 4096
struct keycache_entry {
	uint8_t pk[32];
	bool used;
	struct ge_niels neg;
};
static struct keycache_entry keycache[KEYCACHE_SIZE];
static pthread_mutex_t keycache_mu = PTHREAD_MUTEX_INITIALIZER;

static bool decode_key_neg(struct ge_niels *out, const uint8_t pk[32])
{
	struct keycache_entry *e = &keycache[(load64(pk) ^ load64(pk + 8)) % KEYCACHE_SIZE];
	bool hit;
	pthread_mutex_lock(&keycache_mu);
	hit = e->used && !memcmp(e->pk, pk, 32);
	if (hit)
		*out = e->neg;
	pthread_mutex_unlock(&keycache_mu);
	if (hit)
		return true;
	struct ge a;
	if (!ge_decode(&a, pk))
		return false;
	ge_to_niels_neg(out, &a);
	pthread_mutex_lock(&keycache_mu);
	memcpy(e->pk, pk, 32);
	e->neg = *out;
	e->used = true;
	pthread_mutex_unlock(&keycache_mu);
	return true;
}

static bool batch_add(struct ge_niels *pts, uint8_t (*sc)[32], uint8_t bsum[32], size_t k,
		      const struct lb_sig_item *it)
{
	struct ge r;
	uint8_t hash[64], h[32], t[32];
	crypto_hash_sha512_state st;
	if (!ge_decode(&r, it->sig) || !decode_key_neg(&pts[2 * k + 1], it->pk))
		return false;
	ge_to_niels_neg(&pts[2 * k], &r);
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, it->sig, 32);
	crypto_hash_sha512_update(&st, it->pk, 32);
	crypto_hash_sha512_update(&st, it->msg, it->len);
	crypto_hash_sha512_final(&st, hash);
	crypto_core_ed25519_scalar_reduce(h, hash);
	memset(sc[2 * k], 0, 32);
	randombytes_buf(sc[2 * k], 16); /* z, 128 bits */
	crypto_core_ed25519_scalar_mul(sc[2 * k + 1], sc[2 * k], h);
	crypto_core_ed25519_scalar_mul(t, sc[2 * k], it->sig + 32);
	crypto_core_ed25519_scalar_add(bsum, bsum, t);
	return true;
}

bool lb_sigs_are_valid(const struct lb_sig_item *items, size_t n, bool *ok)
{
	pthread_once(&ed_once, ed_init);
	bool big = n >= LB_SIG_BATCH_MIN;
	size_t *idx = big ? malloc(n * sizeof *idx) : NULL;
	struct ge_niels *pts = big ? malloc((2 * n + 1) * sizeof *pts) : NULL;
	uint8_t(*sc)[32] = big ? malloc((2 * n + 1) * sizeof *sc) : NULL;
	uint8_t bsum[32] = {0};
	size_t m = 0;
	bool all = true, batch = idx && pts && sc;
	for (size_t i = 0; i < n; i++) {
		const struct lb_sig_item *it = &items[i];
		if (batch && scalar_is_canonical(it->sig + 32) && batch_add(pts, sc, bsum, m, it)) {
			idx[m++] = i;
			ok[i] = true;
			continue;
		}
		ok[i] = lb_sig_is_valid(it->sig, it->msg, it->len, it->pk);
		all = all && ok[i];
		if (big)
			singles++;
	}
	bool pass = false;
	if (m > 0) {
		struct ge sum;
		ge_to_niels(&pts[2 * m], &ed_base);
		memcpy(sc[2 * m], bsum, 32);
		pass = msm(&sum, pts, (const uint8_t(*)[32])sc, 2 * m + 1) && ge_is_identity(&sum) &&
		       all_torsion_free(pts, 2 * m);
	}
	if (m > 0 && !pass) {
		for (size_t k = 0; k < m; k++) {
			const struct lb_sig_item *it = &items[idx[k]];
			ok[idx[k]] = lb_sig_is_valid(it->sig, it->msg, it->len, it->pk);
			all = all && ok[idx[k]];
		}
		singles += m;
	}
	sodium_memzero(bsum, sizeof bsum);
	free(idx);
	free(pts);
	free(sc);
	return all;
}
