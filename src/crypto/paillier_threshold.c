/*
 * Threshold Paillier decryption with a trusted dealer and verifiable decryption shares
 * (Damgård–Jurik with s = 1, Shoup's share proofs); see include/leben/paillier.h. Powers with
 * a secret exponent (shares, proof nonces) use mpz_powm_sec; zero exponents cannot occur in
 * practice (a share or nonce of 0 has probability about 2^-1000).
 */
#include <string.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/paillier.h"

#define PROOF_SEC_BITS 128 /* statistical hiding of the proof's response */

static void zwipe(mpz_t x)
{
	size_t n = mpz_size(x);
	if (n)
		sodium_memzero(mpz_limbs_modify(x, (mp_size_t)n), n * sizeof(mp_limb_t));
	mpz_set_ui(x, 0);
}

/* uniform integer of exactly `bits` random bits (top bit may be 0) */
static void random_bits(mpz_t out, size_t bits)
{
	size_t bytes = (bits + 7) / 8;
	uint8_t *buf = lb_malloc(bytes ? bytes : 1);
	if (!buf) {
		mpz_set_ui(out, 0);
		return;
	}
	randombytes_buf(buf, bytes);
	if (bits % 8)
		buf[0] &= (uint8_t)((1u << (bits % 8)) - 1);
	mpz_import(out, bytes, 1, 1, 0, 0, buf);
	sodium_memzero(buf, bytes);
	lb_free(buf);
}

/* uniform in [0, bound): 128 extra random bits, reduced */
static void random_below(mpz_t out, const mpz_t bound)
{
	random_bits(out, mpz_sizeinbase(bound, 2) + 128);
	mpz_mod(out, out, bound);
}

void lb_paillier_tpk_init(struct lb_paillier_tpk *tpk)
{
	lb_paillier_pk_init(&tpk->pk);
	mpz_inits(tpk->delta, tpk->v, NULL);
	for (unsigned i = 0; i < LB_PAILLIER_TMAX; i++)
		mpz_init(tpk->vk[i]);
	tpk->t = tpk->l = 0;
}

void lb_paillier_tpk_release(struct lb_paillier_tpk *tpk)
{
	lb_paillier_pk_release(&tpk->pk);
	mpz_clears(tpk->delta, tpk->v, NULL);
	for (unsigned i = 0; i < LB_PAILLIER_TMAX; i++)
		mpz_clear(tpk->vk[i]);
}

void lb_paillier_tshare_init(struct lb_paillier_tshare *sh)
{
	sh->i = 0;
	mpz_init(sh->s);
}

void lb_paillier_tshare_release(struct lb_paillier_tshare *sh)
{
	zwipe(sh->s);
	mpz_clear(sh->s);
}

void lb_paillier_dshare_init(struct lb_paillier_dshare *ds)
{
	ds->i = 0;
	mpz_inits(ds->ci, ds->e, ds->z, NULL);
}

void lb_paillier_dshare_release(struct lb_paillier_dshare *ds)
{
	mpz_clears(ds->ci, ds->e, ds->z, NULL);
}

static int is_safe_prime(const mpz_t p)
{
	mpz_t h;
	int ok;
	if (mpz_cmp_ui(p, 7) < 0 || mpz_probab_prime_p(p, 40) == 0)
		return 0;
	mpz_init(h);
	mpz_sub_ui(h, p, 1);
	mpz_fdiv_q_2exp(h, h, 1);
	ok = mpz_probab_prime_p(h, 40) != 0;
	mpz_clear(h);
	return ok;
}

/* Candidates h (for p' = h) and 2h + 1 must both be free of small factors: checked with
 * residues updated incrementally as h steps by 2, before any primality test. */
#define SIEVE_PRIMES 400
int lb_paillier_safe_prime(mpz_t p, unsigned bits, struct lb_errmsg *em)
{
	static unsigned small[SIEVE_PRIMES];
	static int nsmall;
	unsigned long rh[SIEVE_PRIMES];
	mpz_t h;
	if (bits < 128 || bits > 4096)
		return lb_errf(em, LB_EINVALID, "paillier: safe prime of %u bits (128..4096)", bits);
	if (sodium_init() < 0)
		return lb_errf(em, LB_ECRYPTO, "paillier: libsodium failed to initialise");
	if (!nsmall) /* odd primes from 3 (idempotent; racing threads write the same values) */
		for (unsigned c = 3, k = 0; k < SIEVE_PRIMES; c += 2) {
			unsigned d = 3;
			while (d * d <= c && c % d)
				d += 2;
			if (d * d > c)
				small[k++] = c;
			if (k == SIEVE_PRIMES)
				nsmall = SIEVE_PRIMES;
		}
	mpz_init(h);
	for (;;) {
		/* p' = h of bits - 1 bits with its top two bits set, odd */
		random_bits(h, bits - 1);
		mpz_setbit(h, bits - 2);
		mpz_setbit(h, bits - 3);
		mpz_setbit(h, 0);
		for (int k = 0; k < SIEVE_PRIMES; k++)
			rh[k] = mpz_fdiv_ui(h, small[k]);
		for (unsigned step = 0; step < 1u << 16; step++) {
			int ok = 1;
			for (int k = 0; k < SIEVE_PRIMES && ok; k++) {
				unsigned long q = small[k], r = (rh[k] + 2ul * step) % q;
				/* h ≡ 0 or 2h + 1 ≡ 0 (mod q) */
				if ((r == 0 && mpz_cmp_ui(h, q) != 0) || (2 * r + 1) % q == 0)
					ok = 0;
			}
			if (!ok)
				continue;
			mpz_t c;
			mpz_init(c);
			mpz_add_ui(c, h, 2ul * step);
			mpz_mul_2exp(p, c, 1);
			mpz_add_ui(p, p, 1);
			/* a cheap test of both first, then the full ones */
			if (mpz_sizeinbase(p, 2) == bits && mpz_probab_prime_p(c, 1) &&
			    mpz_probab_prime_p(p, 1) && mpz_probab_prime_p(c, 30) &&
			    mpz_probab_prime_p(p, 30)) {
				mpz_clear(c);
				mpz_clear(h);
				return LB_OK;
			}
			mpz_clear(c);
		}
	}
}

int lb_paillier_tdeal(struct lb_paillier_tpk *tpk, struct lb_paillier_tshare *shares,
		      const mpz_t p, const mpz_t q, unsigned t, unsigned l, struct lb_errmsg *em)
{
	mpz_t m, nm, d, a[LB_PAILLIER_TMAX], x, y, r;
	int rc;
	if (t < 2 || t > l || l > LB_PAILLIER_TMAX)
		return lb_errf(em, LB_EINVALID, "paillier: threshold %u of %u holders (2 <= t <= l <= %d)",
			       t, l, LB_PAILLIER_TMAX);
	if (!is_safe_prime(p) || !is_safe_prime(q) || mpz_cmp(p, q) == 0)
		return lb_errf(em, LB_EINVALID,
			       "paillier: threshold keys need two distinct safe primes (p = 2p'+1)");
	if (sodium_init() < 0)
		return lb_errf(em, LB_ECRYPTO, "paillier: libsodium failed to initialise");
	mpz_inits(m, nm, d, x, y, r, NULL);
	mpz_mul(x, p, q);
	if ((rc = lb_paillier_pk_set(&tpk->pk, x, em)) != LB_OK)
		goto out;
	/* m = p'q' */
	mpz_sub_ui(x, p, 1);
	mpz_fdiv_q_2exp(x, x, 1);
	mpz_sub_ui(y, q, 1);
	mpz_fdiv_q_2exp(y, y, 1);
	mpz_mul(m, x, y);
	mpz_mul(nm, tpk->pk.n, m);
	/* d = m·(m^-1 mod n): d ≡ 0 mod m, d ≡ 1 mod n */
	if (!mpz_invert(d, m, tpk->pk.n)) {
		rc = lb_errf(em, LB_EINVALID, "paillier: gcd(n, p'q') is not 1");
		goto out;
	}
	mpz_mul(d, d, m);
	mpz_mod(d, d, nm);
	tpk->t = t;
	tpk->l = l;
	mpz_fac_ui(tpk->delta, l);
	/* f(X) = d + a_1 X + ... + a_{t-1} X^{t-1} over Z_{nm} */
	for (unsigned k = 1; k < t; k++) {
		mpz_init(a[k]);
		random_below(a[k], nm);
	}
	/* v: a random square of Z*_{n^2} */
	do {
		random_below(r, tpk->pk.n2);
		mpz_gcd(x, r, tpk->pk.n);
	} while (mpz_sgn(r) == 0 || mpz_cmp_ui(x, 1) != 0);
	mpz_powm_ui(tpk->v, r, 2, tpk->pk.n2);
	for (unsigned i = 1; i <= l; i++) {
		/* Horner: s_i = f(i) mod nm */
		mpz_set_ui(x, 0);
		for (unsigned k = t - 1; k >= 1; k--) {
			mpz_add(x, x, a[k]);
			mpz_mul_ui(x, x, i);
		}
		mpz_add(x, x, d);
		mpz_mod(shares[i - 1].s, x, nm);
		shares[i - 1].i = i;
		mpz_mul(y, tpk->delta, shares[i - 1].s);
		mpz_powm_sec(tpk->vk[i - 1], tpk->v, y, tpk->pk.n2);
	}
	for (unsigned k = 1; k < t; k++) {
		zwipe(a[k]);
		mpz_clear(a[k]);
	}
	rc = LB_OK;
out:
	zwipe(m);
	zwipe(nm);
	zwipe(d);
	zwipe(x);
	zwipe(y);
	mpz_clears(m, nm, d, x, y, r, NULL);
	return rc;
}

static void hash_mpz(crypto_generichash_state *st, const mpz_t x)
{
	size_t n = (mpz_sizeinbase(x, 2) + 7) / 8;
	uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
	uint8_t *b = lb_malloc(n ? n : 1);
	size_t w = 0;
	if (!b)
		return;
	mpz_export(b, &w, 1, 1, 0, 0, x);
	crypto_generichash_update(st, len, 4);
	crypto_generichash_update(st, b, w);
	lb_free(b);
}

/* e = BLAKE2b-256(domain | n | c^4 | v | c_i^2 | v_i | a | b) as an integer */
static void challenge(mpz_t e, const struct lb_paillier_tpk *tpk, unsigned i, const mpz_t c4,
		      const mpz_t ci2, const mpz_t a, const mpz_t b)
{
	static const char dom[] = "LEBEN paillier threshold share v1";
	crypto_generichash_state st;
	uint8_t h[32], idx[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
				 (uint8_t)i};
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const uint8_t *)dom, sizeof dom - 1);
	crypto_generichash_update(&st, idx, 4);
	hash_mpz(&st, tpk->pk.n);
	hash_mpz(&st, c4);
	hash_mpz(&st, tpk->v);
	hash_mpz(&st, ci2);
	hash_mpz(&st, tpk->vk[i - 1]);
	hash_mpz(&st, a);
	hash_mpz(&st, b);
	crypto_generichash_final(&st, h, sizeof h);
	mpz_import(e, sizeof h, 1, 1, 0, 0, h);
}

static int check_c(const struct lb_paillier_tpk *tpk, const mpz_t c, struct lb_errmsg *em)
{
	mpz_t g;
	int ok;
	if (mpz_sgn(c) <= 0 || mpz_cmp(c, tpk->pk.n2) >= 0)
		return lb_errf(em, LB_EINVALID, "paillier: ciphertext outside (0, n^2)");
	mpz_init(g);
	mpz_gcd(g, c, tpk->pk.n);
	ok = mpz_cmp_ui(g, 1) == 0;
	mpz_clear(g);
	return ok ? LB_OK : lb_errf(em, LB_EINVALID, "paillier: ciphertext shares a factor with n");
}

int lb_paillier_tdecrypt_share(const struct lb_paillier_tpk *tpk,
			       const struct lb_paillier_tshare *sh, const mpz_t c,
			       struct lb_paillier_dshare *out, struct lb_errmsg *em)
{
	mpz_t x, c4, ci2, r, a, b;
	int rc = check_c(tpk, c, em);
	if (rc != LB_OK)
		return rc;
	if (sh->i < 1 || sh->i > tpk->l)
		return lb_errf(em, LB_EINVALID, "paillier: share index %u of %u holders", sh->i, tpk->l);
	if (sodium_init() < 0)
		return lb_errf(em, LB_ECRYPTO, "paillier: libsodium failed to initialise");
	mpz_inits(x, c4, ci2, r, a, b, NULL);
	mpz_mul(x, tpk->delta, sh->s); /* the exponent Δ·s_i */
	mpz_mul_2exp(r, x, 1);
	mpz_powm_sec(out->ci, c, r, tpk->pk.n2); /* c^(2Δ s_i) */
	out->i = sh->i;
	/* proof: r of |Δ s_i| + 256 + 128 bits hides e·Δ·s_i statistically */
	mpz_powm_ui(c4, c, 4, tpk->pk.n2);
	mpz_powm_ui(ci2, out->ci, 2, tpk->pk.n2);
	random_bits(r, mpz_sizeinbase(x, 2) + 256 + PROOF_SEC_BITS);
	mpz_powm_sec(a, c4, r, tpk->pk.n2);
	mpz_powm_sec(b, tpk->v, r, tpk->pk.n2);
	challenge(out->e, tpk, sh->i, c4, ci2, a, b);
	mpz_mul(out->z, out->e, x);
	mpz_add(out->z, out->z, r);
	zwipe(x);
	zwipe(r);
	mpz_clears(x, c4, ci2, r, a, b, NULL);
	return LB_OK;
}

int lb_paillier_tverify_share(const struct lb_paillier_tpk *tpk, const mpz_t c,
			      const struct lb_paillier_dshare *ds, struct lb_errmsg *em)
{
	mpz_t c4, ci2, a, b, t;
	int rc = check_c(tpk, c, em), ok;
	if (rc != LB_OK)
		return rc;
	if (ds->i < 1 || ds->i > tpk->l)
		return lb_errf(em, LB_EINVALID, "paillier: share index %u of %u holders", ds->i, tpk->l);
	if (mpz_sgn(ds->ci) <= 0 || mpz_cmp(ds->ci, tpk->pk.n2) >= 0 || mpz_sgn(ds->z) < 0 ||
	    mpz_sgn(ds->e) < 0 || mpz_sizeinbase(ds->e, 2) > 256)
		return lb_errf(em, LB_EBADSIG, "paillier: decryption share %u is malformed", ds->i);
	mpz_inits(c4, ci2, a, b, t, NULL);
	mpz_powm_ui(c4, c, 4, tpk->pk.n2);
	mpz_powm_ui(ci2, ds->ci, 2, tpk->pk.n2);
	/* a = c4^z · (ci^2)^-e,  b = v^z · v_i^-e */
	ok = 1;
	mpz_powm(a, c4, ds->z, tpk->pk.n2);
	if (mpz_invert(t, ci2, tpk->pk.n2) == 0)
		ok = 0;
	else {
		mpz_powm(t, t, ds->e, tpk->pk.n2);
		mpz_mul(a, a, t);
		mpz_mod(a, a, tpk->pk.n2);
	}
	mpz_powm(b, tpk->v, ds->z, tpk->pk.n2);
	if (!ok || mpz_invert(t, tpk->vk[ds->i - 1], tpk->pk.n2) == 0)
		ok = 0;
	else {
		mpz_powm(t, t, ds->e, tpk->pk.n2);
		mpz_mul(b, b, t);
		mpz_mod(b, b, tpk->pk.n2);
	}
	if (ok) {
		challenge(t, tpk, ds->i, c4, ci2, a, b);
		ok = mpz_cmp(t, ds->e) == 0;
	}
	mpz_clears(c4, ci2, a, b, t, NULL);
	return ok ? LB_OK
		  : lb_errf(em, LB_EBADSIG,
			    "paillier: decryption share of holder %u does not match its "
			    "verification key (wrong share or proof)",
			    ds->i);
}

int lb_paillier_tcombine(const struct lb_paillier_tpk *tpk, const mpz_t c,
			 const struct lb_paillier_dshare *ds, size_t k, mpz_t m,
			 struct lb_errmsg *em)
{
	mpz_t acc, mu, num, den, t;
	int rc;
	if (k < tpk->t)
		return lb_errf(em, LB_EINVALID, "paillier: %zu decryption share(s), %u needed", k,
			       tpk->t);
	for (size_t i = 0; i < k; i++) {
		for (size_t j = 0; j < i; j++)
			if (ds[i].i == ds[j].i)
				return lb_errf(em, LB_EDUPLICATE,
					       "paillier: holder %u's share is given twice", ds[i].i);
		if ((rc = lb_paillier_tverify_share(tpk, c, &ds[i], em)) != LB_OK)
			return rc;
	}
	mpz_inits(acc, mu, num, den, t, NULL);
	mpz_set_ui(acc, 1);
	/* the first t shares suffice */
	for (size_t i = 0; i < tpk->t; i++) {
		long xi = (long)ds[i].i;
		mpz_set(num, tpk->delta);
		mpz_set_ui(den, 1);
		for (size_t j = 0; j < tpk->t; j++) {
			if (j == i)
				continue;
			long xj = (long)ds[j].i;
			mpz_mul_si(num, num, xj);
			mpz_mul_si(den, den, xj - xi);
		}
		mpz_divexact(mu, num, den); /* integer because Δ = l! */
		mpz_mul_2exp(mu, mu, 1);
		mpz_powm(t, ds[i].ci, mu, tpk->pk.n2); /* negative mu: inverse exists (ci unit) */
		mpz_mul(acc, acc, t);
		mpz_mod(acc, acc, tpk->pk.n2);
	}
	/* M = L(acc) · (4Δ^2)^-1 mod n */
	mpz_sub_ui(acc, acc, 1);
	mpz_divexact(acc, acc, tpk->pk.n);
	mpz_mul(t, tpk->delta, tpk->delta);
	mpz_mul_2exp(t, t, 2);
	if (!mpz_invert(t, t, tpk->pk.n)) {
		rc = lb_errf(em, LB_EINVALID, "paillier: 4Δ^2 is not invertible mod n");
	} else {
		mpz_mul(m, acc, t);
		mpz_mod(m, m, tpk->pk.n);
		rc = LB_OK;
	}
	mpz_clears(acc, mu, num, den, t, NULL);
	return rc;
}
