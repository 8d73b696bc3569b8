/*
 * Paillier encryption on GMP (simple variant, g = n + 1) with CRT decryption and the
 * homomorphic operations (see include/leben/paillier.h). Randomness comes from libsodium.
 */
#include <string.h>

#include <sodium.h>

#include "leben/base.h"
#include "leben/paillier.h"

void lb_paillier_pk_init(struct lb_paillier_pk *pk)
{
	mpz_inits(pk->n, pk->n2, pk->g, NULL);
}

void lb_paillier_pk_release(struct lb_paillier_pk *pk)
{
	mpz_clears(pk->n, pk->n2, pk->g, NULL);
}

void lb_paillier_sk_init(struct lb_paillier_sk *sk)
{
	lb_paillier_pk_init(&sk->pk);
	mpz_inits(sk->p, sk->q, sk->lambda, sk->mu, sk->p2, sk->q2, sk->hp, sk->hq, sk->qinv, NULL);
}

static void wipe(mpz_t x)
{
	/* overwrite the limbs in place before GMP frees them */
	size_t n = mpz_size(x);
	if (n)
		sodium_memzero(mpz_limbs_modify(x, (mp_size_t)n), n * sizeof(mp_limb_t));
	mpz_set_ui(x, 0);
}

void lb_paillier_sk_release(struct lb_paillier_sk *sk)
{
	wipe(sk->p); wipe(sk->q); wipe(sk->lambda); wipe(sk->mu);
	wipe(sk->p2); wipe(sk->q2); wipe(sk->hp); wipe(sk->hq); wipe(sk->qinv);
	mpz_clears(sk->p, sk->q, sk->lambda, sk->mu, sk->p2, sk->q2, sk->hp, sk->hq, sk->qinv, NULL);
	lb_paillier_pk_release(&sk->pk);
}

/* uniform random integer in [0, bound) from libsodium bytes (rejection-free: 128 extra bits) */
static void random_below(mpz_t out, const mpz_t bound)
{
	size_t bytes = (mpz_sizeinbase(bound, 2) + 7) / 8 + 16;
	uint8_t buf[1024];
	if (bytes > sizeof buf)
		bytes = sizeof buf;
	randombytes_buf(buf, bytes);
	mpz_import(out, bytes, 1, 1, 0, 0, buf);
	mpz_mod(out, out, bound);
	sodium_memzero(buf, bytes);
}

int lb_paillier_pk_set(struct lb_paillier_pk *pk, const mpz_t n, struct lb_errmsg *em)
{
	if (mpz_sizeinbase(n, 2) < 1024 || mpz_even_p(n))
		return lb_errf(em, LB_EINVALID, "paillier: modulus must be odd and at least 1024 bits "
						"(got %zu bits)",
			       mpz_sizeinbase(n, 2));
	mpz_set(pk->n, n);
	mpz_mul(pk->n2, n, n);
	mpz_add_ui(pk->g, n, 1);
	return LB_OK;
}

/* h = L_x(g^(x-1) mod x^2)^-1 mod x, with L_x(u) = (u - 1) / x */
static int crt_h(mpz_t h, const mpz_t g, const mpz_t x, const mpz_t x2)
{
	mpz_t t, e;
	int ok;
	mpz_inits(t, e, NULL);
	mpz_sub_ui(e, x, 1);
	mpz_powm(t, g, e, x2);
	mpz_sub_ui(t, t, 1);
	mpz_divexact(t, t, x);
	ok = mpz_invert(h, t, x);
	mpz_clears(t, e, NULL);
	return ok;
}

int lb_paillier_sk_set(struct lb_paillier_sk *sk, const mpz_t p, const mpz_t q,
		       struct lb_errmsg *em)
{
	mpz_t n, t;
	int rc = LB_OK;

	if (mpz_cmp(p, q) == 0 || mpz_probab_prime_p(p, 40) == 0 || mpz_probab_prime_p(q, 40) == 0)
		return lb_errf(em, LB_EINVALID, "paillier: p and q must be distinct primes");
	mpz_inits(n, t, NULL);
	mpz_mul(n, p, q);
	rc = lb_paillier_pk_set(&sk->pk, n, em);
	if (rc != LB_OK)
		goto out;
	mpz_set(sk->p, p);
	mpz_set(sk->q, q);
	mpz_sub_ui(sk->lambda, p, 1);
	mpz_sub_ui(t, q, 1);
	mpz_mul(sk->lambda, sk->lambda, t);
	if (!mpz_invert(sk->mu, sk->lambda, n)) {
		rc = lb_errf(em, LB_EINVALID, "paillier: gcd(n, (p-1)(q-1)) is not 1");
		goto out;
	}
	mpz_mul(sk->p2, p, p);
	mpz_mul(sk->q2, q, q);
	if (!crt_h(sk->hp, sk->pk.g, p, sk->p2) || !crt_h(sk->hq, sk->pk.g, q, sk->q2) ||
	    !mpz_invert(sk->qinv, q, p))
		rc = lb_errf(em, LB_EINVALID, "paillier: degenerate primes");
out:
	mpz_clears(n, t, NULL);
	return rc;
}

/* a random probable prime of exactly bits bits with the top two bits set */
static void random_prime(mpz_t p, unsigned bits)
{
	uint8_t buf[512];
	size_t bytes = bits / 8;
	randombytes_buf(buf, bytes);
	buf[0] |= 0xc0;
	mpz_import(p, bytes, 1, 1, 0, 0, buf);
	sodium_memzero(buf, bytes);
	mpz_nextprime(p, p);
	while (mpz_probab_prime_p(p, 40) == 0)
		mpz_nextprime(p, p);
}

int lb_paillier_keygen(struct lb_paillier_sk *sk, unsigned bits, struct lb_errmsg *em)
{
	mpz_t p, q;
	int rc;

	if (bits < LB_PAILLIER_MIN_BITS || bits % 16 != 0 || bits > 8192)
		return lb_errf(em, LB_EINVALID, "paillier: key size %u bits (2048..8192, multiple of "
						"16)",
			       bits);
	if (sodium_init() < 0)
		return lb_errf(em, LB_ECRYPTO, "paillier: libsodium failed to initialise");
	mpz_inits(p, q, NULL);
	do {
		random_prime(p, bits / 2);
		random_prime(q, bits / 2);
		mpz_mul(sk->pk.n, p, q);
	} while (mpz_cmp(p, q) == 0 || mpz_sizeinbase(sk->pk.n, 2) != bits);
	rc = lb_paillier_sk_set(sk, p, q, em);
	wipe(p);
	wipe(q);
	mpz_clears(p, q, NULL);
	return rc;
}

static int check_plain(const struct lb_paillier_pk *pk, const mpz_t m, struct lb_errmsg *em)
{
	if (mpz_sgn(m) < 0 || mpz_cmp(m, pk->n) >= 0)
		return lb_errf(em, LB_ERANGE, "paillier: plaintext outside [0, n)");
	return LB_OK;
}

static int check_cipher(const struct lb_paillier_pk *pk, const mpz_t c, struct lb_errmsg *em)
{
	mpz_t g;
	int ok;
	if (mpz_sgn(c) <= 0 || mpz_cmp(c, pk->n2) >= 0)
		return lb_errf(em, LB_EINVALID, "paillier: ciphertext outside (0, n^2)");
	mpz_init(g);
	mpz_gcd(g, c, pk->n);
	ok = mpz_cmp_ui(g, 1) == 0;
	mpz_clear(g);
	return ok ? LB_OK : lb_errf(em, LB_EINVALID, "paillier: ciphertext shares a factor with n");
}

int lb_paillier_encrypt_r(const struct lb_paillier_pk *pk, mpz_t c, const mpz_t m, const mpz_t r,
			  struct lb_errmsg *em)
{
	mpz_t t, g;
	int rc = check_plain(pk, m, em);
	if (rc != LB_OK)
		return rc;
	mpz_inits(t, g, NULL);
	mpz_gcd(g, r, pk->n);
	if (mpz_sgn(r) <= 0 || mpz_cmp(r, pk->n) >= 0 || mpz_cmp_ui(g, 1) != 0) {
		rc = lb_errf(em, LB_EINVALID, "paillier: r must be in Z*_n");
		goto out;
	}
	mpz_powm_sec(t, r, pk->n, pk->n2); /* r^n mod n^2 */
	mpz_mul(c, m, pk->n);               /* (1 + m n) = g^m mod n^2 */
	mpz_add_ui(c, c, 1);
	mpz_mul(c, c, t);
	mpz_mod(c, c, pk->n2);
out:
	wipe(t);
	mpz_clears(t, g, NULL);
	return rc;
}

int lb_paillier_encrypt(const struct lb_paillier_pk *pk, mpz_t c, const mpz_t m,
			struct lb_errmsg *em)
{
	mpz_t r, g;
	int rc;
	if (sodium_init() < 0)
		return lb_errf(em, LB_ECRYPTO, "paillier: libsodium failed to initialise");
	mpz_inits(r, g, NULL);
	do {
		random_below(r, pk->n);
		mpz_gcd(g, r, pk->n);
	} while (mpz_sgn(r) == 0 || mpz_cmp_ui(g, 1) != 0);
	rc = lb_paillier_encrypt_r(pk, c, m, r, em);
	wipe(r);
	mpz_clears(r, g, NULL);
	return rc;
}

/* m_x = L_x(c^(x-1) mod x^2) · h_x mod x */
static void crt_part(mpz_t out, const mpz_t c, const mpz_t x, const mpz_t x2, const mpz_t h)
{
	mpz_t e, t;
	mpz_inits(e, t, NULL);
	mpz_sub_ui(e, x, 1);
	mpz_mod(t, c, x2);
	mpz_powm_sec(t, t, e, x2);
	mpz_sub_ui(t, t, 1);
	mpz_divexact(t, t, x);
	mpz_mul(t, t, h);
	mpz_mod(out, t, x);
	wipe(t);
	mpz_clears(e, t, NULL);
}

int lb_paillier_decrypt(const struct lb_paillier_sk *sk, mpz_t m, const mpz_t c,
			struct lb_errmsg *em)
{
	mpz_t mp, mq;
	int rc = check_cipher(&sk->pk, c, em);
	if (rc != LB_OK)
		return rc;
	mpz_inits(mp, mq, NULL);
	crt_part(mp, c, sk->p, sk->p2, sk->hp);
	crt_part(mq, c, sk->q, sk->q2, sk->hq);
	/* m = mq + q · ((mp - mq) · q^-1 mod p) */
	mpz_sub(mp, mp, mq);
	mpz_mul(mp, mp, sk->qinv);
	mpz_mod(mp, mp, sk->p);
	mpz_mul(mp, mp, sk->q);
	mpz_add(m, mq, mp);
	wipe(mp);
	wipe(mq);
	mpz_clears(mp, mq, NULL);
	return LB_OK;
}

int lb_paillier_decrypt_nocrt(const struct lb_paillier_sk *sk, mpz_t m, const mpz_t c,
			      struct lb_errmsg *em)
{
	mpz_t t;
	int rc = check_cipher(&sk->pk, c, em);
	if (rc != LB_OK)
		return rc;
	mpz_init(t);
	mpz_powm(t, c, sk->lambda, sk->pk.n2);
	mpz_sub_ui(t, t, 1);
	mpz_divexact(t, t, sk->pk.n);
	mpz_mul(t, t, sk->mu);
	mpz_mod(m, t, sk->pk.n);
	wipe(t);
	mpz_clear(t);
	return LB_OK;
}

int lb_paillier_add(const struct lb_paillier_pk *pk, mpz_t c, const mpz_t a, const mpz_t b,
		    struct lb_errmsg *em)
{
	int rc = check_cipher(pk, a, em);
	if (rc == LB_OK)
		rc = check_cipher(pk, b, em);
	if (rc != LB_OK)
		return rc;
	mpz_mul(c, a, b);
	mpz_mod(c, c, pk->n2);
	return LB_OK;
}

int lb_paillier_add_plain(const struct lb_paillier_pk *pk, mpz_t c, const mpz_t a, const mpz_t k,
			  struct lb_errmsg *em)
{
	mpz_t t;
	int rc = check_cipher(pk, a, em);
	if (rc == LB_OK)
		rc = check_plain(pk, k, em);
	if (rc != LB_OK)
		return rc;
	mpz_init(t);
	mpz_mul(t, k, pk->n); /* g^k = 1 + k n mod n^2 */
	mpz_add_ui(t, t, 1);
	mpz_mul(c, a, t);
	mpz_mod(c, c, pk->n2);
	mpz_clear(t);
	return LB_OK;
}

int lb_paillier_mul_plain(const struct lb_paillier_pk *pk, mpz_t c, const mpz_t a, const mpz_t k,
			  struct lb_errmsg *em)
{
	int rc = check_cipher(pk, a, em);
	if (rc == LB_OK)
		rc = check_plain(pk, k, em);
	if (rc != LB_OK)
		return rc;
	mpz_powm(c, a, k, pk->n2);
	return LB_OK;
}
