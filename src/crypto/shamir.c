/*
 * Shamir secret sharing over GF(2^8) in constant time, with the raw share format of the npm
 * package `shamir-secret-sharing` and LEBEN's authenticated share format on top
 * (see include/leben/shamir.h).
 */
#include <string.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/shamir.h"

#define SS_MAGIC "LBSS"
#define SS_VERSION 1
#define SS_BLIND 16
#define SS_HDR (4 + 1 + 1 + 1 + 2 + 16 + 32)
#define SS_CHECK 16

/* Multiplication in GF(2^8) mod x^8+x^4+x^3+x+1 without branches or tables. */
static uint8_t gf_mul(uint8_t a, uint8_t b)
{
	uint8_t r = 0;
	for (int i = 0; i < 8; i++) {
		r ^= (uint8_t)(-(b & 1)) & a;
		uint8_t hi = (uint8_t)-(a >> 7);
		a = (uint8_t)((a << 1) ^ (hi & 0x1b));
		b >>= 1;
	}
	return r;
}

/* Inverse as a^254 (0 maps to 0), a fixed sequence of multiplications. */
static uint8_t gf_inv(uint8_t a)
{
	uint8_t a2 = gf_mul(a, a), a4 = gf_mul(a2, a2), a8 = gf_mul(a4, a4);
	uint8_t a16 = gf_mul(a8, a8), a32 = gf_mul(a16, a16), a64 = gf_mul(a32, a32);
	uint8_t a128 = gf_mul(a64, a64);
	/* 254 = 128 + 64 + 32 + 16 + 8 + 4 + 2 */
	return gf_mul(gf_mul(gf_mul(a128, a64), gf_mul(a32, a16)), gf_mul(gf_mul(a8, a4), a2));
}

static int check_params(unsigned n, unsigned t, size_t len, struct lb_errmsg *em)
{
	if (t < 2)
		return lb_errf(em, LB_EINVALID, "shamir: threshold %u is below 2", t);
	if (t > n)
		return lb_errf(em, LB_EINVALID, "shamir: threshold %u exceeds the %u shares", t, n);
	if (n > LB_SHAMIR_MAX_SHARES)
		return lb_errf(em, LB_EINVALID, "shamir: %u shares (at most %d)", n,
			       LB_SHAMIR_MAX_SHARES);
	if (len == 0 || len > LB_SHAMIR_MAX_SECRET + SS_BLIND)
		return lb_errf(em, LB_EINVALID, "shamir: secret of %zu bytes (1..%d)", len,
			       LB_SHAMIR_MAX_SECRET);
	return LB_OK;
}

int lb_shamir_split_raw(const uint8_t *secret, size_t len, unsigned n, unsigned t,
			uint8_t *shares, struct lb_errmsg *em)
{
	uint8_t xs[255], coef[LB_SHAMIR_MAX_SHARES];
	size_t sl = len + 1;
	int rc = check_params(n, t, len, em);

	if (rc != LB_OK)
		return rc;
	if (sodium_init() < 0)
		return lb_errf(em, LB_ECRYPTO, "shamir: libsodium failed to initialise");
	/* distinct random x coordinates: an unbiased shuffle of 1..255 */
	for (int i = 0; i < 255; i++)
		xs[i] = (uint8_t)(i + 1);
	for (int i = 254; i > 0; i--) {
		uint32_t j = randombytes_uniform((uint32_t)i + 1);
		uint8_t tmp = xs[i];
		xs[i] = xs[j];
		xs[j] = tmp;
	}
	for (unsigned s = 0; s < n; s++)
		shares[s * sl + len] = xs[s];
	for (size_t b = 0; b < len; b++) {
		coef[0] = secret[b];
		randombytes_buf(coef + 1, t - 1);
		for (unsigned s = 0; s < n; s++) {
			uint8_t x = xs[s], y = coef[t - 1];
			for (int d = (int)t - 2; d >= 0; d--) /* Horner */
				y = gf_mul(y, x) ^ coef[d];
			shares[s * sl + b] = y;
		}
	}
	sodium_memzero(coef, sizeof coef);
	return LB_OK;
}

int lb_shamir_combine_raw(const uint8_t *const *shares, size_t k, size_t share_len,
			  uint8_t *secret, struct lb_errmsg *em)
{
	uint8_t basis[LB_SHAMIR_MAX_SHARES];
	size_t len = share_len - 1;

	if (k < 2 || k > LB_SHAMIR_MAX_SHARES)
		return lb_errf(em, LB_EINVALID, "shamir: %zu shares given (2..255)", k);
	if (share_len < 2)
		return lb_errf(em, LB_EMALFORMED, "shamir: shares of %zu bytes are too short",
			       share_len);
	for (size_t i = 0; i < k; i++) {
		uint8_t xi = shares[i][len];
		if (xi == 0)
			return lb_errf(em, LB_EMALFORMED, "shamir: share %zu has x coordinate 0", i);
		for (size_t j = 0; j < i; j++)
			if (shares[j][len] == xi)
				return lb_errf(em, LB_EDUPLICATE,
					       "shamir: shares %zu and %zu have the same index %u", j,
					       i, xi);
	}
	/* Lagrange basis at 0 (x coordinates are public): l_i = prod x_j / (x_i + x_j) */
	for (size_t i = 0; i < k; i++) {
		uint8_t num = 1, den = 1;
		for (size_t j = 0; j < k; j++) {
			if (j == i)
				continue;
			num = gf_mul(num, shares[j][len]);
			den = gf_mul(den, shares[i][len] ^ shares[j][len]);
		}
		basis[i] = gf_mul(num, gf_inv(den));
	}
	for (size_t b = 0; b < len; b++) {
		uint8_t y = 0;
		for (size_t i = 0; i < k; i++)
			y ^= gf_mul(shares[i][b], basis[i]);
		secret[b] = y;
	}
	return LB_OK;
}

static void ss_commit(uint8_t out[32], const uint8_t set_id[16], unsigned t, unsigned n,
		      const uint8_t *secret, size_t len, const uint8_t blind[SS_BLIND])
{
	static const char label[] = "LEBEN shamir v1";
	uint8_t tn[2] = {(uint8_t)t, (uint8_t)n};
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
	crypto_generichash_update(&st, set_id, 16);
	crypto_generichash_update(&st, tn, 2);
	crypto_generichash_update(&st, secret, len);
	crypto_generichash_update(&st, blind, SS_BLIND);
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof st);
}

int lb_shamir_split(const uint8_t *secret, size_t len, unsigned n, unsigned t, uint8_t *shares,
		    struct lb_errmsg *em)
{
	uint8_t ext[LB_SHAMIR_MAX_SECRET + SS_BLIND], set_id[16], commit[32];
	uint8_t *raw = NULL;
	size_t rl = len + SS_BLIND + 1, sl = LB_SHAMIR_SHARE_BYTES(len);
	int rc;

	if (len == 0 || len > LB_SHAMIR_MAX_SECRET)
		return lb_errf(em, LB_EINVALID, "shamir: secret of %zu bytes (1..%d)", len,
			       LB_SHAMIR_MAX_SECRET);
	rc = check_params(n, t, len, em);
	if (rc != LB_OK)
		return rc;
	raw = lb_malloc(n * rl);
	if (!raw)
		return lb_errf(em, LB_ENOMEM, "shamir: out of memory");
	memcpy(ext, secret, len);
	randombytes_buf(ext + len, SS_BLIND);
	randombytes_buf(set_id, sizeof set_id);
	ss_commit(commit, set_id, t, n, secret, len, ext + len);
	rc = lb_shamir_split_raw(ext, len + SS_BLIND, n, t, raw, em);
	if (rc != LB_OK)
		goto out;
	for (unsigned s = 0; s < n; s++) {
		uint8_t *p = shares + s * sl;
		memcpy(p, SS_MAGIC, 4);
		p[4] = SS_VERSION;
		p[5] = (uint8_t)t;
		p[6] = (uint8_t)n;
		p[7] = (uint8_t)(len >> 8);
		p[8] = (uint8_t)len;
		memcpy(p + 9, set_id, 16);
		memcpy(p + 25, commit, 32);
		memcpy(p + SS_HDR, raw + s * rl, rl);
		crypto_generichash(p + SS_HDR + rl, SS_CHECK, p, SS_HDR + rl, NULL, 0);
	}
out:
	sodium_memzero(ext, sizeof ext);
	sodium_memzero(raw, n * rl);
	lb_free(raw);
	return rc;
}

int lb_shamir_share_info(const uint8_t *share, size_t share_len, struct lb_shamir_info *info,
			 struct lb_errmsg *em)
{
	uint8_t check[SS_CHECK];
	size_t len;

	if (share_len < SS_HDR || memcmp(share, SS_MAGIC, 4) != 0)
		return lb_errf(em, LB_EMALFORMED, "shamir: not a LEBEN share");
	if (share[4] != SS_VERSION)
		return lb_errf(em, LB_EUNSUPPORTED, "shamir: share version %u is not supported",
			       share[4]);
	len = (size_t)share[7] << 8 | share[8];
	if (len == 0 || len > LB_SHAMIR_MAX_SECRET)
		return lb_errf(em, LB_EMALFORMED, "shamir: share declares a %zu-byte secret", len);
	if (share_len != LB_SHAMIR_SHARE_BYTES(len))
		return lb_errf(em, share_len < LB_SHAMIR_SHARE_BYTES(len) ? LB_ETRUNCATED
									   : LB_EMALFORMED,
			       "shamir: share is %zu bytes, expected %zu", share_len,
			       (size_t)LB_SHAMIR_SHARE_BYTES(len));
	crypto_generichash(check, SS_CHECK, share, share_len - SS_CHECK, NULL, 0);
	if (sodium_memcmp(check, share + share_len - SS_CHECK, SS_CHECK) != 0)
		return lb_errf(em, LB_ECHECKSUM, "shamir: share checksum mismatch (share damaged)");
	info->t = share[5];
	info->n = share[6];
	info->secret_len = len;
	info->x = share[share_len - SS_CHECK - 1];
	memcpy(info->set_id, share + 9, 16);
	memcpy(info->commit, share + 25, 32);
	if (info->t < 2 || info->t > info->n || info->x == 0)
		return lb_errf(em, LB_EMALFORMED, "shamir: share has t=%u n=%u x=%u", info->t,
			       info->n, info->x);
	return LB_OK;
}

int lb_shamir_combine(const uint8_t *const *shares, size_t k, size_t share_len, uint8_t *secret,
		      size_t *len, struct lb_errmsg *em)
{
	const uint8_t *raw[LB_SHAMIR_MAX_SHARES];
	uint8_t ext[LB_SHAMIR_MAX_SECRET + SS_BLIND], commit[32];
	struct lb_shamir_info first, info;
	int rc;

	if (k == 0)
		return lb_errf(em, LB_EINVALID, "shamir: no shares given");
	if (k > LB_SHAMIR_MAX_SHARES)
		return lb_errf(em, LB_EINVALID, "shamir: %zu shares given (at most 255)", k);
	for (size_t i = 0; i < k; i++) {
		rc = lb_shamir_share_info(shares[i], share_len, i ? &info : &first, em);
		if (rc != LB_OK)
			return lb_errwrap(em, "share %zu: ", i + 1);
		if (i && (info.t != first.t || info.n != first.n ||
			  info.secret_len != first.secret_len ||
			  memcmp(info.set_id, first.set_id, 16) != 0))
			return lb_errf(em, LB_EINVALID,
				       "shamir: share %zu belongs to another split than share 1", i + 1);
		if (i && memcmp(info.commit, first.commit, 32) != 0)
			return lb_errf(em, LB_ETAMPERED,
				       "shamir: share %zu carries a different commitment", i + 1);
		raw[i] = shares[i] + SS_HDR;
	}
	if (k < first.t)
		return lb_errf(em, LB_EINVALID, "shamir: %zu share(s) given, %u needed", k, first.t);
	rc = lb_shamir_combine_raw(raw, k, first.secret_len + SS_BLIND + 1, ext, em);
	if (rc != LB_OK)
		return rc;
	ss_commit(commit, first.set_id, first.t, first.n, ext, first.secret_len,
		  ext + first.secret_len);
	if (sodium_memcmp(commit, first.commit, 32) != 0) {
		sodium_memzero(ext, sizeof ext);
		return lb_errf(em, LB_ETAMPERED,
			       "shamir: the recovered secret does not match the commitment (a share "
			       "was altered)");
	}
	memcpy(secret, ext, first.secret_len);
	*len = first.secret_len;
	sodium_memzero(ext, sizeof ext);
	return LB_OK;
}
